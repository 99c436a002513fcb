// SPDX-License-Identifier: GPL-2.0
#include "image/stream_file.h"

#include <unistd.h>

#include <algorithm>
#include <functional>

#include "util/error.h"

namespace dynsnap::image {

namespace {

// The bytes of a stream file, fed in order through the core's decoders.
// Each extent's data are checked whole before they are handed on.
class Parser {
public:
	using Sink = std::function<void(const dynsnap_stream_extent &e, const uint8_t *data)>;

	Parser(std::string path, Sink sink) : path_(std::move(path)), sink_(std::move(sink))
	{
		buf_.reserve(DYNSNAP_STREAM_MAX_EXTENT);
	}

	void feed(const uint8_t *p, size_t n)
	{
		while (n) {
			if (state_ == State::kDone)
				fail(DSN_ERR_STREAM_TRAILING, pos_);
			size_t take = std::min(n, need_ - buf_.size());
			buf_.insert(buf_.end(), p, p + take);
			p += take;
			n -= take;
			if (buf_.size() == need_)
				step();
		}
	}

	// The stream ended: was it whole?
	StreamInfo finish()
	{
		if (state_ != State::kDone)
			fail(DSN_ERR_STREAM_SHORT, pos_ + buf_.size());
		StreamInfo info;
		info.header = header_;
		info.extents = cursor_.extents;
		info.data_bytes = cursor_.data_bytes;
		info.stream_bytes = pos_;
		return info;
	}

	const dynsnap_stream_header &header() const { return header_; }

private:
	enum class State { kHeader, kItem, kData, kDone };

	[[noreturn]] void fail(dynsnap_err err, uint64_t at) const
	{
		std::string where = err == DSN_ERR_STREAM_SHORT ? " at byte " : " (byte ";
		std::string m = path_ + ": " + dynsnap_strerror(err) + where + std::to_string(at);
		if (err != DSN_ERR_STREAM_SHORT)
			m += ")";
		if (err == DSN_ERR_STREAM_MAGIC)
			throw Error(Exit::kUsage, m);
		throw Error(Exit::kDamaged, m);
	}

	void step()
	{
		dynsnap_err err = DSN_OK;
		switch (state_) {
		case State::kHeader:
			err = dynsnap_stream_header_decode(buf_.data(), buf_.size(), &header_);
			if (err)
				fail(err, pos_);
			dynsnap_stream_cursor_init(&cursor_, buf_.data());
			state_ = State::kItem;
			break;
		case State::kItem:
			if (dynsnap_stream_is_trailer(buf_.data(), buf_.size())) {
				err = dynsnap_stream_trailer_decode(&cursor_, buf_.data(), buf_.size());
				state_ = State::kDone;
			} else {
				err = dynsnap_stream_extent_decode(&cursor_, buf_.data(), buf_.size(),
								   &extent_);
				state_ = State::kData;
			}
			if (err)
				fail(err, pos_);
			break;
		case State::kData:
			err = dynsnap_stream_data_verify(&extent_, buf_.data());
			if (err)
				fail(err, pos_);
			if (sink_)
				sink_(extent_, buf_.data());
			state_ = State::kItem;
			break;
		case State::kDone:
			break;
		}
		pos_ += buf_.size();
		buf_.clear();
		need_ = state_ == State::kData ? extent_.length : DYNSNAP_STREAM_ITEM_SIZE;
	}

	std::string path_;
	Sink sink_;
	State state_ = State::kHeader;
	std::vector<uint8_t> buf_;	// the header, item or data being gathered
	size_t need_ = DYNSNAP_STREAM_HEADER_SIZE;
	uint64_t pos_ = 0;	// stream offset of buf_[0]
	dynsnap_stream_header header_{};
	dynsnap_stream_cursor cursor_{};
	dynsnap_stream_extent extent_{};
};

// Feed all of @file through @parser.
StreamInfo parse(const File &file, Parser &parser, const Progress &progress)
{
	uint64_t total = file.size();
	if (progress)
		progress(0, total);
	RangeReader reader(file, {{0, total}});
	RangeReader::Piece piece;
	uint64_t done = 0;
	while (reader.next(piece)) {
		parser.feed(piece.data[0], piece.length);
		done += piece.length;
		if (progress)
			progress(done, total);
	}
	return parser.finish();
}

// Join adjacent ranges, drop empty ones, and cut at every multiple of the
// longest extent.
std::vector<ByteRange> extents_of(const std::vector<ByteRange> &ranges)
{
	std::vector<ByteRange> joined;
	for (const ByteRange &r : ranges) {
		if (!r.length)
			continue;
		if (!joined.empty() && joined.back().end() == r.offset)
			joined.back().length += r.length;
		else
			joined.push_back(r);
	}
	std::vector<ByteRange> out;
	for (const ByteRange &r : joined) {
		for (uint64_t pos = r.offset; pos < r.end();) {
			uint64_t cut = (pos / DYNSNAP_STREAM_MAX_EXTENT + 1) * DYNSNAP_STREAM_MAX_EXTENT;
			uint64_t end = std::min(r.end(), cut);
			out.push_back({pos, end - pos});
			pos = end;
		}
	}
	return out;
}

// The header and the check of what a stream may be applied to, read from
// the start of @file.
dynsnap_stream_header read_header(const File &file)
{
	size_t len = std::max(file.align(), kDirectAlign);
	AlignedBuffer buf(len);
	ssize_t n = ::pread(file.fd(), buf.data(), len, 0);
	if (n < 0)
		throw Error(Exit::kFailed, io_error("read", file.path(), 0, errno));
	dynsnap_stream_header h;
	dynsnap_err err = dynsnap_stream_header_decode(buf.data(), n, &h);
	if (err)
		throw Error(err == DSN_ERR_STREAM_MAGIC ? Exit::kUsage : Exit::kDamaged,
			    file.path() + ": " + dynsnap_strerror(err));
	return h;
}

} // namespace

StreamInfo write_stream(const std::string &source, const std::string &dest,
			const dynsnap_stream_header &header,
			const std::vector<ByteRange> &ranges,
			const StreamWriteOptions &options)
{
	uint8_t head[DYNSNAP_STREAM_HEADER_SIZE];
	dynsnap_stream_header_encode(&header, head);
	dynsnap_stream_header check;
	dynsnap_err err = dynsnap_stream_header_decode(head, sizeof(head), &check);
	if (err)
		throw Error(Exit::kUsage, std::string("cannot write a stream: ") +
					  dynsnap_strerror(err));

	File src = File::open_read(source);
	if (src.size() != header.volume_bytes)
		throw Error(Exit::kFailed, source + " holds " + std::to_string(src.size()) +
					   " bytes, the volume " +
					   std::to_string(header.volume_bytes) +
					   ": is it a view of that volume?");
	check_ranges(ranges, header.volume_bytes, "changed ranges");
	const std::vector<ByteRange> extents = extents_of(ranges);
	uint64_t total = 0;
	for (const ByteRange &e : extents)
		total += e.length;

	Output out(dest, options.overwrite);
	dynsnap_stream_cursor cursor;
	dynsnap_stream_cursor_init(&cursor, head);
	if (options.progress)
		options.progress(0, total);
	{
		Writer writer(out.file());
		writer.append(head, sizeof(head));
		std::vector<uint8_t> data(extents.empty() ? 0 : DYNSNAP_STREAM_MAX_EXTENT);
		size_t next = 0, fill = 0;
		uint64_t done = 0;
		RangeReader reader(src, extents);
		RangeReader::Piece piece;
		while (reader.next(piece)) {
			// Pieces never straddle two extents: each is one range.
			const ByteRange &e = extents[next];
			std::copy_n(piece.data[0], piece.length, data.begin() + fill);
			fill += piece.length;
			if (fill < e.length)
				continue;
			uint8_t item[DYNSNAP_STREAM_ITEM_SIZE];
			err = dynsnap_stream_extent_encode(&cursor, e.offset, e.length,
							   dynsnap_stream_data_crc(data.data(), fill),
							   item);
			if (err)
				throw Error(Exit::kFailed, std::string("cannot write a stream: ") +
							   dynsnap_strerror(err));
			writer.append(item, sizeof(item));
			writer.append(data.data(), fill);
			done += fill;
			next++;
			fill = 0;
			if (options.progress && done < total)
				options.progress(done, total);
		}
		uint8_t trailer[DYNSNAP_STREAM_ITEM_SIZE];
		dynsnap_stream_trailer_encode(&cursor, trailer);
		writer.append(trailer, sizeof(trailer));
		writer.sync();
	}
	uint64_t size = dynsnap_stream_size(cursor.extents, cursor.data_bytes);
	out.commit(size);
	if (options.progress)
		options.progress(total, total);

	StreamInfo info;
	info.header = check;
	info.extents = cursor.extents;
	info.data_bytes = cursor.data_bytes;
	info.stream_bytes = size;
	return info;
}

StreamInfo verify_stream(const std::string &path, const Progress &progress)
{
	File file = File::open_read(path);
	Parser parser(path, {});
	return parse(file, parser, progress);
}

StreamInfo apply_stream(const std::string &path, const std::string &target,
			const StreamApplyOptions &options)
{
	File stream = File::open_read(path);
	File out = File::open_write(target);
	if (out.dev() == stream.dev() && out.ino() == stream.ino())
		throw Error(Exit::kUsage, target + " is the stream itself: give the image to apply it to");

	auto unchanged = [&](const Error &e) {
		return Error(e.code(), std::string(e.what()) + ": " + target + " was not changed");
	};
	dynsnap_stream_header h;
	try {
		h = read_header(stream);
	} catch (const Error &e) {
		throw unchanged(e);
	}
	if (dynsnap_stream_check_target(&h, out.size()))
		throw Error(Exit::kUsage, target + " holds " + std::to_string(out.size()) +
					 " bytes, the volume of the stream " +
					 std::to_string(h.volume_bytes) +
					 ": apply it to an image of that volume");

	// All of the stream first: a damaged one changes nothing.
	StreamInfo info;
	try {
		Parser check(path, {});
		info = parse(stream, check, options.verify_progress);
	} catch (const Error &e) {
		throw unchanged(e);
	}

	try {
		Writer writer(out);
		uint64_t done = 0;
		const Progress &progress = options.apply_progress;
		if (progress)
			progress(0, info.data_bytes);
		Parser apply(path, [&](const dynsnap_stream_extent &e, const uint8_t *data) {
			writer.write(e.offset, data, e.length);
			done += e.length;
			if (progress && done < info.data_bytes)
				progress(done, info.data_bytes);
		});
		StreamInfo again = parse(stream, apply, {});
		if (again.stream_bytes != info.stream_bytes || again.extents != info.extents)
			throw Error(Exit::kDamaged, path + ": its length or extent count differs");
		writer.sync();
		if (progress)
			progress(info.data_bytes, info.data_bytes);
	} catch (const Error &e) {
		std::string m = e.what();
		if (e.code() == Exit::kDamaged)
			m += ": the stream changed after it was checked";
		throw Error(e.code(), m + "; " + target + " is partly written: apply the stream again "
					  "from an intact copy");
	}
	return info;
}

} // namespace dynsnap::image

// SPDX-License-Identifier: GPL-2.0
#include "image/stream_file.h"

#include <gtest/gtest.h>

#include "image/testing/files.h"
#include "util/error.h"

namespace dynsnap::image {
namespace {

using testing::Bytes;
using testing::TempDir;

const uint8_t kUuid[DYNSNAP_UUID_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

dynsnap_ctl_snap_create snap(uint64_t id, uint64_t epoch, const std::string &name)
{
	dynsnap_ctl_snap_create s{};
	s.id = id;
	s.epoch = epoch;
	s.ctime_ns = 1717200000000000000ull + id;
	s.name_len = name.size();
	memcpy(s.name, name.data(), name.size());
	return s;
}

dynsnap_stream_header header(uint64_t volume_bytes)
{
	dynsnap_ctl_snap_create from = snap(4, 10, "monday");
	dynsnap_ctl_snap_create to = snap(9, 12, "tuesday");
	dynsnap_stream_header h;
	dynsnap_stream_header_init(&h, kUuid, volume_bytes, 65536, &from, &to,
				   1717400000000000000ull);
	return h;
}

// The exact differing ranges, byte by byte.
std::vector<ByteRange> differences(const Bytes &a, const Bytes &b)
{
	std::vector<ByteRange> out;
	for (size_t i = 0; i < a.size(); i++) {
		if (a[i] == b[i])
			continue;
		if (!out.empty() && out.back().end() == i)
			out.back().length++;
		else
			out.push_back({i, 1});
	}
	return out;
}

// An old and a new image of one volume, and a stream between them.
struct Fixture {
	TempDir dir;
	Bytes old_image, new_image;
	std::string old_path = dir.file("old.img");
	std::string new_path = dir.file("new.img");
	std::string stream = dir.file("delta.dsn");
	std::string target = dir.file("target.img");

	// @changes: ranges of the new image rewritten with other bytes.
	Fixture(uint64_t volume, const std::vector<ByteRange> &changes)
	{
		old_image = testing::pattern(volume, 20);
		new_image = old_image;
		for (const ByteRange &r : changes)
			for (uint64_t i = r.offset; i < r.end(); i++)
				new_image[i] = ~old_image[i];
		testing::write_file(old_path, old_image);
		testing::write_file(new_path, new_image);
		testing::write_file(target, old_image);
	}

	StreamInfo write(const std::vector<ByteRange> &ranges)
	{
		return write_stream(new_path, stream, header(old_image.size()), ranges);
	}
};

Exit apply_error(const std::string &stream, const std::string &target, std::string *what = nullptr)
{
	try {
		apply_stream(stream, target);
	} catch (const Error &e) {
		if (what)
			*what = e.what();
		return e.code();
	}
	return Exit::kOk;
}

TEST(ImageStream, WriteVerifyApplyReproducesTheNewImage)
{
	const uint64_t volume = 12 * kChunk;
	const std::vector<ByteRange> changes = {
		{0, 1},					// the first byte
		{4095, 2},				// across a 4 KiB boundary
		{kChunk - 3, 7},			// across a chunk
		{2 * kChunk + 10, 5 * kChunk},		// longer than an extent
		{2 * DYNSNAP_STREAM_MAX_EXTENT - 1, 2},	// across an extent cut
		{volume - 3, 3},			// up to the end
	};
	Fixture f(volume, changes);
	const std::vector<ByteRange> exact = differences(f.old_image, f.new_image);
	StreamInfo w = f.write(exact);
	uint64_t data = 0;
	for (const ByteRange &r : exact)
		data += r.length;
	EXPECT_EQ(w.data_bytes, data);
	EXPECT_EQ(w.stream_bytes, testing::read_file(f.stream).size());

	StreamInfo v = verify_stream(f.stream);
	EXPECT_EQ(v.extents, w.extents);
	EXPECT_EQ(v.data_bytes, data);
	EXPECT_EQ(v.stream_bytes, w.stream_bytes);
	EXPECT_EQ(v.header.volume_bytes, volume);
	EXPECT_EQ(v.header.from.id, 4u);
	EXPECT_STREQ(v.header.to.name, "tuesday");
	EXPECT_EQ(memcmp(v.header.uuid, kUuid, sizeof(kUuid)), 0);

	// The core's in-memory validator agrees.
	Bytes bytes = testing::read_file(f.stream);
	dynsnap_stream_header h;
	dynsnap_stream_cursor c;
	ASSERT_EQ(dynsnap_stream_decode(bytes.data(), bytes.size(), &h, &c), DSN_OK);
	EXPECT_EQ(c.extents, w.extents);

	StreamInfo a = apply_stream(f.stream, f.target);
	EXPECT_EQ(a.data_bytes, data);
	EXPECT_EQ(testing::read_file(f.target), f.new_image);
	// Applying it twice changes nothing more.
	apply_stream(f.stream, f.target);
	EXPECT_EQ(testing::read_file(f.target), f.new_image);
}

TEST(ImageStream, CoarseCandidatesWork)
{
	// Whole 64 KiB blocks around the changes, as the kernel reports them.
	Fixture f(4 * kChunk, {{70000, 3}, {kChunk + 5, 100000}});
	StreamInfo w = f.write({{65536, 65536}, {kChunk, 3 * 65536}});
	EXPECT_EQ(w.data_bytes, 4 * 65536u);
	apply_stream(f.stream, f.target);
	EXPECT_EQ(testing::read_file(f.target), f.new_image);
}

TEST(ImageStream, ExtentsAreCutAtTheLimit)
{
	const uint64_t m = DYNSNAP_STREAM_MAX_EXTENT;
	Fixture f(3 * m, {});
	// Adjacent ranges are joined, empty ones skipped, then cut at every
	// multiple of the limit: [m-3, m), [m, 2m), [2m, 2m+5), then [2m+9, 2m+10).
	StreamInfo w = f.write({{m - 3, 2}, {m - 1, m + 1}, {2 * m, 0}, {2 * m, 5}, {2 * m + 9, 1}});
	EXPECT_EQ(w.extents, 4u);
	EXPECT_EQ(w.data_bytes, m + 9);
	EXPECT_EQ(w.stream_bytes, dynsnap_stream_size(4, m + 9));
	Bytes b = testing::read_file(f.stream);
	size_t pos = DYNSNAP_STREAM_HEADER_SIZE;
	const std::vector<ByteRange> want = {{m - 3, 3}, {m, m}, {2 * m, 5}, {2 * m + 9, 1}};
	for (const ByteRange &r : want) {
		EXPECT_EQ(dsn_get_le64(&b[pos + 16]), r.offset);
		EXPECT_EQ(dsn_get_le32(&b[pos + 24]), r.length);
		EXPECT_EQ(memcmp(&b[pos + DYNSNAP_STREAM_ITEM_SIZE], &f.new_image[r.offset], r.length), 0);
		pos += DYNSNAP_STREAM_ITEM_SIZE + r.length;
	}
}

TEST(ImageStream, NoChangesIsAStreamToo)
{
	Fixture f(kChunk, {});
	StreamInfo w = f.write({});
	EXPECT_EQ(w.extents, 0u);
	EXPECT_EQ(w.stream_bytes, dynsnap_stream_size(0, 0));
	EXPECT_EQ(verify_stream(f.stream).extents, 0u);
	apply_stream(f.stream, f.target);
	EXPECT_EQ(testing::read_file(f.target), f.old_image);
}

TEST(ImageStream, ProgressGoesUpToTheTotals)
{
	Fixture f(8 * kChunk, {{100, 3 * kChunk}});
	std::vector<uint64_t> writes, checks, applies;
	StreamWriteOptions wo;
	wo.progress = [&](uint64_t done, uint64_t total) {
		EXPECT_EQ(total, 3 * kChunk);
		writes.push_back(done);
	};
	StreamInfo w = write_stream(f.new_path, f.stream, header(8 * kChunk),
				    {{100, 3 * kChunk}}, wo);
	StreamApplyOptions ao;
	ao.verify_progress = [&](uint64_t done, uint64_t total) {
		EXPECT_EQ(total, w.stream_bytes);
		checks.push_back(done);
	};
	ao.apply_progress = [&](uint64_t done, uint64_t total) {
		EXPECT_EQ(total, 3 * kChunk);
		applies.push_back(done);
	};
	apply_stream(f.stream, f.target, ao);
	for (auto *calls : {&writes, &checks, &applies}) {
		ASSERT_GE(calls->size(), 2u);
		EXPECT_EQ(calls->front(), 0u);
		EXPECT_TRUE(std::is_sorted(calls->begin(), calls->end()));
	}
	EXPECT_EQ(writes.back(), 3 * kChunk);
	EXPECT_EQ(checks.back(), w.stream_bytes);
	EXPECT_EQ(applies.back(), 3 * kChunk);
}

// A small stream, so that every one of its bytes can be damaged.
struct Small : Fixture {
	Small() : Fixture(65536, {{0, 3}, {1000, 20}, {65535, 1}})
	{
		write(differences(old_image, new_image));
		good = testing::read_file(stream);
	}
	Bytes good;
};

TEST(ImageStream, AnyDamagedByteIsRefusedBeforeTheTargetChanges)
{
	Small s;
	ASSERT_LT(s.good.size(), 1000u);
	for (size_t i = 0; i < s.good.size(); i++) {
		Bytes b = s.good;
		b[i] ^= 1 << (i % 8);
		testing::write_file(s.stream, b);
		std::string what;
		Exit code = apply_error(s.stream, s.target, &what);
		EXPECT_TRUE(code == Exit::kDamaged || code == Exit::kUsage) << i;
		EXPECT_NE(what.find(s.target + " was not changed"), std::string::npos) << what;
		EXPECT_THROW(verify_stream(s.stream), Error) << i;
		ASSERT_EQ(testing::read_file(s.target), s.old_image) << "byte " << i;
	}
	testing::write_file(s.stream, s.good);
	EXPECT_EQ(apply_error(s.stream, s.target), Exit::kOk);
	EXPECT_EQ(testing::read_file(s.target), s.new_image);
}

TEST(ImageStream, TruncatedOrExtendedStreamsAreRefused)
{
	Small s;
	for (size_t n = 0; n < s.good.size(); n++) {
		testing::write_file(s.stream, Bytes(s.good.begin(), s.good.begin() + n));
		std::string what;
		EXPECT_EQ(apply_error(s.stream, s.target, &what), Exit::kDamaged) << n;
		if (n >= DYNSNAP_STREAM_HEADER_SIZE) {
			EXPECT_NE(what.find("export stream truncated at byte " + std::to_string(n)),
				  std::string::npos) << what;
		}
		ASSERT_EQ(testing::read_file(s.target), s.old_image) << n;
	}
	Bytes longer = s.good;
	longer.push_back(0);
	testing::write_file(s.stream, longer);
	std::string what;
	EXPECT_EQ(apply_error(s.stream, s.target, &what), Exit::kDamaged);
	EXPECT_EQ(what, s.stream + ": export stream has bytes after its trailer (byte " +
				std::to_string(s.good.size()) + "): " + s.target + " was not changed");
	EXPECT_EQ(testing::read_file(s.target), s.old_image);
}

TEST(ImageStream, DamageIsNamedWithItsPlace)
{
	Small s;
	Bytes b = s.good;
	size_t data0 = DYNSNAP_STREAM_HEADER_SIZE + DYNSNAP_STREAM_ITEM_SIZE;
	b[data0 + 1] ^= 0x40;
	testing::write_file(s.stream, b);
	try {
		verify_stream(s.stream);
		FAIL() << "no error";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kDamaged);
		EXPECT_EQ(std::string(e.what()), s.stream + ": export stream extent data checksum "
							 "mismatch (byte " + std::to_string(data0) + ")");
	}
}

TEST(ImageStream, TheTargetMustHaveTheVolumeSize)
{
	Small s;
	testing::write_file(s.stream, s.good);
	for (size_t size : {65536 - 512, 65536 + 1, 0, 131072}) {
		Bytes t(size, 0x5a);
		testing::write_file(s.target, t);
		std::string what;
		EXPECT_EQ(apply_error(s.stream, s.target, &what), Exit::kUsage) << size;
		EXPECT_EQ(what, s.target + " holds " + std::to_string(size) +
					" bytes, the volume of the stream 65536: apply it to an image of "
					"that volume");
		EXPECT_EQ(testing::read_file(s.target), t);
	}
}

TEST(ImageStream, ApplyRefusals)
{
	Small s;
	testing::write_file(s.stream, s.good);
	EXPECT_EQ(apply_error(s.stream, s.dir.file("missing")), Exit::kNotFound);
	EXPECT_EQ(apply_error(s.dir.file("missing"), s.target), Exit::kNotFound);
	EXPECT_EQ(apply_error(s.stream, s.stream), Exit::kUsage);
	EXPECT_EQ(apply_error(s.stream, "/dev/null"), Exit::kUsage);
	// An image is no stream.
	std::string what;
	EXPECT_EQ(apply_error(s.new_path, s.target, &what), Exit::kUsage);
	EXPECT_EQ(what, s.new_path + ": export stream magic mismatch: not a dynsnap export stream: " +
				s.target + " was not changed");
	EXPECT_EQ(testing::read_file(s.target), s.old_image);
	EXPECT_EQ(testing::read_file(s.stream), s.good);
}

TEST(ImageStream, WriteRefusals)
{
	Fixture f(kChunk, {});
	auto code = [&](const std::string &source, const dynsnap_stream_header &h,
			const std::vector<ByteRange> &ranges) {
		try {
			write_stream(source, f.stream, h, ranges);
		} catch (const Error &e) {
			return e.code();
		}
		return Exit::kOk;
	};
	// Not the volume's view: another size.
	EXPECT_EQ(code(f.new_path, header(2 * kChunk), {}), Exit::kFailed);
	// Ranges out of order, overlapping, past the end.
	EXPECT_EQ(code(f.new_path, header(kChunk), {{10, 5}, {0, 5}}), Exit::kFailed);
	EXPECT_EQ(code(f.new_path, header(kChunk), {{0, 5}, {4, 5}}), Exit::kFailed);
	EXPECT_EQ(code(f.new_path, header(kChunk), {{kChunk - 1, 2}}), Exit::kFailed);
	// Snapshots the wrong way round.
	dynsnap_stream_header h = header(kChunk);
	std::swap(h.from, h.to);
	EXPECT_EQ(code(f.new_path, h, {}), Exit::kUsage);
	EXPECT_EQ(code(f.dir.file("missing"), header(kChunk), {}), Exit::kNotFound);
	EXPECT_FALSE(std::filesystem::exists(f.stream));

	// An existing stream is only replaced when asked.
	testing::write_file(f.stream, {1});
	EXPECT_EQ(code(f.new_path, header(kChunk), {}), Exit::kUsage);
	EXPECT_EQ(testing::read_file(f.stream), Bytes{1});
	StreamWriteOptions o;
	o.overwrite = true;
	write_stream(f.new_path, f.stream, header(kChunk), {{0, 1}}, o);
	EXPECT_EQ(verify_stream(f.stream).extents, 1u);
	EXPECT_EQ(f.dir.list().size(), 4u);	// old, new, target, stream
}

} // namespace
} // namespace dynsnap::image

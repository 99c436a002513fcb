// SPDX-License-Identifier: GPL-2.0
#include "image/copy.h"

#include <cstring>

#include "util/error.h"

namespace dynsnap::image {

namespace {

bool all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0);
}

} // namespace

uint64_t copy_image(const std::string &source, const std::string &dest,
		    const CopyOptions &options)
{
	File src = File::open_read(source);
	uint64_t total = options.bytes ? options.bytes : src.size();
	if (total > src.size())
		throw Error(Exit::kFailed, source + " holds " + std::to_string(src.size()) +
					   " bytes, fewer than the " + std::to_string(total) +
					   " to copy");
	Output out(dest, options.overwrite);
	if (out.file().dev() == src.dev() && out.file().ino() == src.ino() &&
	    out.file().is_block_device())
		throw Error(Exit::kUsage, dest + " is the device being copied");
	if (out.file().is_block_device() && out.file().size() < total)
		throw Error(Exit::kFailed, dest + " holds " + std::to_string(out.file().size()) +
					   " bytes, fewer than the " + std::to_string(total) +
					   " of the image");

	if (options.progress)
		options.progress(0, total);
	{
		Writer writer(out.file());
		RangeReader reader(src, {{0, total}});
		RangeReader::Piece piece;
		uint64_t done = 0;
		while (reader.next(piece)) {
			if (!out.sparse() || !all_zero(piece.data[0], piece.length))
				writer.write(piece.offset, piece.data[0], piece.length);
			done += piece.length;
			if (options.progress && done < total)
				options.progress(done, total);
		}
		writer.sync();
	}
	out.commit(total);
	if (options.progress)
		options.progress(total, total);
	return total;
}

} // namespace dynsnap::image

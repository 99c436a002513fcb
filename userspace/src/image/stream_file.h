// SPDX-License-Identifier: GPL-2.0
// Export stream files: `snapshotctl export VOLUME SNAP FILE --since OLDER`
// writes one, `snapshotctl apply FILE TARGET` checks all of it and then
// applies it. The format, and every check of it, is the shared core's
// (core/dynsnap_stream.h); this adds the I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dynsnap_stream.h"
#include "image/io.h"

namespace dynsnap::image {

// What a stream holds.
struct StreamInfo {
	dynsnap_stream_header header{};
	uint64_t extents = 0;
	uint64_t data_bytes = 0;	// volume bytes the extents carry
	uint64_t stream_bytes = 0;	// size of the stream file
};

struct StreamWriteOptions {
	// Replace an existing non-empty regular file; without it such a file
	// is refused with Error(Exit::kUsage) before anything is read.
	bool overwrite = false;
	// Over the data bytes of the ranges.
	Progress progress;
};

// Write the stream of @header (dynsnap_stream_header_init(); it must pass
// the core's validation) to @dest: the header, then the bytes of @ranges
// read from @source (the view device of header.to, exactly
// header.volume_bytes long) as extents, then the trailer; and sync it.
// @ranges are byte ranges, sorted, not overlapping, inside the volume;
// empty ones are skipped, adjacent ones joined, and extents are cut where
// the offset is a multiple of DYNSNAP_STREAM_MAX_EXTENT. @dest appears only
// once complete, as copy_image() does it. Throws dynsnap::Error.
StreamInfo write_stream(const std::string &source, const std::string &dest,
			const dynsnap_stream_header &header,
			const std::vector<ByteRange> &ranges,
			const StreamWriteOptions &options = {});

// Read and check the whole stream at @path: header, every extent header
// and its data, the trailer, and that nothing follows it. Throws
// Error(Exit::kDamaged) naming the first fault and the byte it is at,
// Error(Exit::kNotFound) when there is no such file. @progress goes over
// the stream's bytes.
StreamInfo verify_stream(const std::string &path, const Progress &progress = {});

struct StreamApplyOptions {
	Progress verify_progress;	// the check, over the stream's bytes
	Progress apply_progress;	// the writes, over its data bytes
};

// Apply the stream at @path to @target, an image of the stream's "from"
// snapshot (a regular file, or a block device opened exclusively), so that
// it becomes an image of its "to" snapshot. Nothing is written before all
// of the stream has been checked (verify_stream()) and @target's size found
// equal to the volume's (else Error(Exit::kUsage)); then the extents are
// written, each checked again just before, and @target is synced. Whether
// @target really holds "from" is the caller's to know: the stream cannot
// tell. Should the stream change under it after the check, apply stops at
// the first fault with Error(Exit::kDamaged) saying that @target is partly
// written.
StreamInfo apply_stream(const std::string &path, const std::string &target,
			const StreamApplyOptions &options = {});

} // namespace dynsnap::image

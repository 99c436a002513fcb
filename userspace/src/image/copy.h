// SPDX-License-Identifier: GPL-2.0
// Whole images: `snapshotctl export VOLUME SNAP FILE` copies a snapshot's
// view device, byte for byte, into a file or onto a block device.
#pragma once

#include <cstdint>
#include <string>

#include "image/io.h"

namespace dynsnap::image {

struct CopyOptions {
	// Bytes to copy from the start of the source: 0 for all of it. The
	// source must hold at least that many.
	uint64_t bytes = 0;
	// Replace an existing non-empty regular file. Without it such a file is
	// refused with Error(Exit::kUsage) before anything is read or written.
	bool overwrite = false;
	Progress progress;
};

// Copy @source (a block device or regular file, read with O_DIRECT where
// it allows it) to @dest, kDepth reads of kChunk bytes in flight, and sync
// it. @dest is either a regular file (missing or, with overwrite, replaced)
// that appears under its name only once complete and synced, mode 0600,
// with the all-zero chunks of the image left as holes; or an existing
// block device at least as large, written in place from its start. Returns
// the bytes copied. Throws dynsnap::Error; on failure a regular @dest is
// left as it was.
uint64_t copy_image(const std::string &source, const std::string &dest,
		    const CopyOptions &options = {});

} // namespace dynsnap::image

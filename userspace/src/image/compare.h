// SPDX-License-Identifier: GPL-2.0
// Exact differences: `snapshotctl diff VOLUME A B` gets candidate ranges
// from the kernel (every range a delta between the snapshots covers) and
// narrows them down to the bytes that differ, by reading the two views.
#pragma once

#include <string>
#include <vector>

#include "image/io.h"

namespace dynsnap::image {

// Compare the bytes of @a and @b (block devices or regular files) over
// @candidates (sorted, not overlapping, inside both) and return the exact
// ranges where they differ, sorted: a range is a run of differing bytes,
// and two runs are one range when they touch (also across two candidate
// ranges that touch), never across an equal byte. Bytes outside the
// candidates are not read. Both are read side by side with io_uring,
// O_DIRECT where they allow it. @progress goes over the candidate bytes.
// Throws dynsnap::Error.
std::vector<ByteRange> compare_ranges(const std::string &a, const std::string &b,
				      const std::vector<ByteRange> &candidates,
				      const Progress &progress = {});

// The same on two buffers of @len bytes that hold the volume's bytes from
// @offset on: the runs found are appended to @out, the first one joined to
// the last of @out when they touch.
void diff_runs(const uint8_t *x, const uint8_t *y, size_t len, uint64_t offset,
	       std::vector<ByteRange> &out);

} // namespace dynsnap::image

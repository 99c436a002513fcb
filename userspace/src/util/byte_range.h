// SPDX-License-Identifier: GPL-2.0
// A range of a volume, an image or a stream, in bytes: what the kernel's
// diff answers list and what image I/O reads and writes.
#pragma once

#include <cstdint>

namespace dynsnap {

struct ByteRange {
	uint64_t offset = 0;
	uint64_t length = 0;
	uint64_t end() const { return offset + length; }
	bool operator==(const ByteRange &) const = default;
};

} // namespace dynsnap

// SPDX-License-Identifier: GPL-2.0
// Memory for O_DIRECT reads and writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace dynsnap {

// Alignment O_DIRECT accepts on every device dynsnap supports; buffers are
// aligned further, so a device with larger logical blocks works too.
inline constexpr size_t kDirectAlign = 4096;
inline constexpr size_t kBufferAlign = 65536;

// A zeroed buffer aligned to kBufferAlign, @size bytes rounded up to whole
// kDirectAlign blocks. Throws std::bad_alloc.
class AlignedBuffer {
public:
	explicit AlignedBuffer(size_t size);
	uint8_t *data() { return data_.get(); }
	const uint8_t *data() const { return data_.get(); }
	size_t size() const { return size_; }

private:
	struct Free {
		void operator()(uint8_t *p) const { std::free(p); }
	};
	std::unique_ptr<uint8_t, Free> data_;
	size_t size_;
};

} // namespace dynsnap

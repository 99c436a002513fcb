// SPDX-License-Identifier: GPL-2.0
#include "util/aligned_buffer.h"

#include <cstring>
#include <new>

namespace dynsnap {

AlignedBuffer::AlignedBuffer(size_t size)
	: size_((size + kDirectAlign - 1) / kDirectAlign * kDirectAlign)
{
	void *raw = nullptr;
	if (posix_memalign(&raw, kBufferAlign, size_ ? size_ : kDirectAlign))
		throw std::bad_alloc();
	data_.reset(static_cast<uint8_t *>(raw));
	std::memset(raw, 0, size_);
}

} // namespace dynsnap

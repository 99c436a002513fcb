// SPDX-License-Identifier: GPL-2.0
// A tier device (or an image file of one) opened for offline reading:
// read-only, with O_DIRECT where the file allows it so that a block device
// is read from the media rather than from a stale page cache, in large
// aligned chunks.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

namespace dynsnap::store {

// Alignment that O_DIRECT accepts on every device dynsnap supports.
inline constexpr size_t kDirectAlign = 4096;

// A zeroed buffer aligned for O_DIRECT, of a whole number of 4 KiB blocks.
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

class TierDevice {
public:
	// Opens @path read-only. Throws dynsnap::Error with Exit::kNotFound when
	// it cannot be opened, Exit::kFailed when its size cannot be learnt.
	explicit TierDevice(const std::string &path);
	~TierDevice();
	TierDevice(const TierDevice &) = delete;
	TierDevice &operator=(const TierDevice &) = delete;

	const std::string &path() const { return path_; }
	uint64_t size() const { return size_; }	// bytes
	bool is_block_device() const { return block_; }

	// Read @len bytes at @offset into @buf (both multiples of 4 KiB, @buf
	// from an AlignedBuffer). Returns the bytes read, fewer than @len only
	// at the end of the device, the rest of @buf zeroed; or -errno.
	ssize_t read(uint64_t offset, uint8_t *buf, size_t len);

private:
	std::string path_;
	int fd_ = -1;
	bool direct_ = false;
	bool block_ = false;
	uint64_t size_ = 0;
};

} // namespace dynsnap::store

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

#include "util/aligned_buffer.h"

namespace dynsnap::store {

class TierDevice {
public:
	// Opens @path read-only. Throws dynsnap::Error with Exit::kNotFound when
	// it does not exist (or is neither a block device nor a regular file),
	// Exit::kFailed when it cannot be opened otherwise or its size cannot be
	// learnt.
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

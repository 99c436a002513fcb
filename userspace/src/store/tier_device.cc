// SPDX-License-Identifier: GPL-2.0
#include "store/tier_device.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "util/error.h"

namespace dynsnap::store {

TierDevice::TierDevice(const std::string &path) : path_(path)
{
	fd_ = ::open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
	direct_ = fd_ >= 0;
	if (fd_ < 0 && errno == EINVAL)	// e.g. tmpfs: no direct I/O
		fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd_ < 0)
		throw errno_error("open", path, errno);

	struct stat st;
	if (::fstat(fd_, &st)) {
		int e = errno;
		::close(fd_);
		throw Error(Exit::kFailed, "cannot stat " + path + ": " + std::strerror(e));
	}
	if (S_ISBLK(st.st_mode)) {
		block_ = true;
		if (::ioctl(fd_, BLKGETSIZE64, &size_)) {
			int e = errno;
			::close(fd_);
			throw Error(Exit::kFailed, "cannot get the size of " + path + ": " +
				    std::strerror(e));
		}
	} else if (S_ISREG(st.st_mode)) {
		size_ = static_cast<uint64_t>(st.st_size);
	} else {
		::close(fd_);
		throw Error(Exit::kNotFound, path + " is neither a block device nor an image file");
	}
}

TierDevice::~TierDevice()
{
	if (fd_ >= 0)
		::close(fd_);
}

ssize_t TierDevice::read(uint64_t offset, uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = ::pread(fd_, buf + done, len - done, static_cast<off_t>(offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EINVAL && direct_) {
			// A device whose logical blocks are larger than 4 KiB, or a
			// file system that refuses this offset: read through the cache.
			int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				return -errno;
			::close(fd_);
			fd_ = fd;
			direct_ = false;
			continue;
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += static_cast<size_t>(n);
	}
	std::memset(buf + done, 0, len - done);
	return static_cast<ssize_t>(done);
}

} // namespace dynsnap::store

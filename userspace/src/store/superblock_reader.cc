// SPDX-License-Identifier: GPL-2.0
#include "store/superblock_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <nlohmann/json.hpp>

namespace dynsnap::store {

namespace {

struct FreeDeleter {
	void operator()(void *p) const { std::free(p); }
};

int open_for_read(const std::string &path)
{
	int fd = ::open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0 && errno == EINVAL)	// e.g. tmpfs: no direct I/O
		fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
	return fd;
}

} // namespace

SuperblockReadResult decode_superblock(const uint8_t *block, size_t len)
{
	SuperblockReadResult r;

	if (len >= DYNSNAP_SB_SIZE && dynsnap_is_zeroed(block, DYNSNAP_SB_SIZE)) {
		r.state = SuperblockState::kZeroed;
		return r;
	}
	dynsnap_superblock sb;
	dynsnap_err err = dynsnap_sb_decode(block, len, DYNSNAP_SB_LOCATION, &sb);
	if (err != DSN_OK) {
		r.state = SuperblockState::kInvalid;
		r.error = dynsnap_strerror(err);
		return r;
	}
	r.state = SuperblockState::kValid;
	r.superblock = sb;
	return r;
}

SuperblockReadResult read_superblock(const std::string &path)
{
	SuperblockReadResult r;
	int fd = open_for_read(path);
	if (fd < 0) {
		r.sys_errno = errno;
		r.error = std::string("cannot open: ") + std::strerror(r.sys_errno);
		return r;
	}
	void *raw = nullptr;
	if (posix_memalign(&raw, DYNSNAP_SB_SIZE, DYNSNAP_SB_SIZE)) {
		::close(fd);
		r.sys_errno = ENOMEM;
		r.error = "out of memory";
		return r;
	}
	std::unique_ptr<uint8_t, FreeDeleter> buf(static_cast<uint8_t *>(raw));
	ssize_t n = ::pread(fd, buf.get(), DYNSNAP_SB_SIZE, 0);
	int read_errno = errno;
	::close(fd);
	if (n < 0) {
		r.sys_errno = read_errno;
		r.error = std::string("cannot read: ") + std::strerror(read_errno);
		return r;
	}
	if (n < static_cast<ssize_t>(DYNSNAP_SB_SIZE)) {
		r.state = SuperblockState::kInvalid;
		r.error = "shorter than a superblock (" + std::to_string(n) + " of " +
			  std::to_string(DYNSNAP_SB_SIZE) + " bytes)";
		return r;
	}
	return decode_superblock(buf.get(), DYNSNAP_SB_SIZE);
}

const char *state_name(SuperblockState state)
{
	switch (state) {
	case SuperblockState::kValid:
		return "valid";
	case SuperblockState::kZeroed:
		return "zeroed";
	case SuperblockState::kInvalid:
		return "invalid";
	case SuperblockState::kUnreadable:
		return "unreadable";
	}
	return "unknown";
}

std::optional<Error> superblock_error(const std::string &path, const SuperblockReadResult &r)
{
	switch (r.state) {
	case SuperblockState::kValid:
		return std::nullopt;
	case SuperblockState::kZeroed:
		return Error(Exit::kNotFound, path + " holds no dynsnap store (zeroed)");
	case SuperblockState::kInvalid:
		return Error(Exit::kDamaged, path + ": " + r.error);
	case SuperblockState::kUnreadable:
		break;
	}
	std::string hint;
	if (r.sys_errno == EACCES || r.sys_errno == EPERM)
		hint = ": run as root, or check its permissions";
	return Error(exit_for_errno(r.sys_errno), path + ": " + r.error + hint);
}

std::string uuid_to_string(const uint8_t uuid[DYNSNAP_UUID_SIZE])
{
	char text[37];
	std::snprintf(text, sizeof(text),
		      "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		      "%02x%02x%02x%02x%02x%02x",
		      uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5],
		      uuid[6], uuid[7], uuid[8], uuid[9], uuid[10], uuid[11],
		      uuid[12], uuid[13], uuid[14], uuid[15]);
	return text;
}

nlohmann::json to_json(const dynsnap_superblock &sb)
{
	const dynsnap_layout &l = sb.layout;
	return {
		{"uuid", uuid_to_string(sb.uuid)},
		{"version", sb.version},
		{"tier", sb.tier == DYNSNAP_TIER_FAST ? "fast" : "slow"},
		{"flags", sb.flags},
		{"volume_sectors", sb.volume_sectors},
		{"block_sectors", sb.geometry.block_sectors},
		{"sub_block_sectors", sb.geometry.sub_block_sectors},
		{"region_sectors", sb.geometry.region_sectors},
		{"fast_dev_sectors", l.fast_dev_sectors},
		{"slow_dev_sectors", l.slow_dev_sectors},
		{"meta_start", l.meta_start},
		{"meta_sectors", l.meta_sectors},
		{"fast_data_start", l.fast_data_start},
		{"fast_data_sectors", l.fast_data_sectors},
		{"slow_data_start", l.slow_data_start},
		{"slow_data_sectors", l.slow_data_sectors},
		{"format_time", sb.format_time},
		{"generation", sb.generation},
	};
}

} // namespace dynsnap::store

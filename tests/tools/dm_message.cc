// SPDX-License-Identifier: GPL-2.0
#include "dm_message.h"

#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

namespace dynsnap::testing {

DmMessage::DmMessage(const std::string &name, const std::string &text, size_t answer_bytes)
{
	if (name.empty() || name.size() >= DM_NAME_LEN)
		return;
	// The header, then the message, then room for the answer, which the
	// kernel writes at data_start.
	size_t msg_off = sizeof(struct dm_ioctl);
	size_t total = msg_off + sizeof(struct dm_target_msg) + text.size() + 1 + answer_bytes;
	buf_.assign(total, 0);
	auto *io = reinterpret_cast<struct dm_ioctl *>(buf_.data());
	io->version[0] = DM_VERSION_MAJOR;
	io->data_size = total;
	io->data_start = msg_off;
	std::memcpy(io->name, name.c_str(), name.size());
	auto *msg = reinterpret_cast<struct dm_target_msg *>(buf_.data() + msg_off);
	msg->sector = 0;
	std::memcpy(msg->message, text.c_str(), text.size());
	valid_ = true;
}

int DmMessage::send(int control)
{
	if (!valid_)
		return EINVAL;
	return ioctl(control, DM_TARGET_MSG, buf_.data()) < 0 ? errno : 0;
}

std::string DmMessage::answer() const
{
	if (!valid_)
		return "";
	const auto *io = reinterpret_cast<const struct dm_ioctl *>(buf_.data());
	if (!(io->flags & DM_DATA_OUT_FLAG) || io->data_start >= buf_.size())
		return "";
	return std::string(buf_.data() + io->data_start);
}

int dm_target_status(int control, const std::string &name, std::string *params)
{
	if (name.empty() || name.size() >= DM_NAME_LEN)
		return EINVAL;
	std::vector<char> buf(sizeof(struct dm_ioctl) + 16384, 0);
	auto *io = reinterpret_cast<struct dm_ioctl *>(buf.data());
	io->version[0] = DM_VERSION_MAJOR;
	io->data_size = buf.size();
	io->data_start = sizeof(struct dm_ioctl);
	std::memcpy(io->name, name.c_str(), name.size());
	if (ioctl(control, DM_TABLE_STATUS, buf.data()) < 0)
		return errno;
	if (io->flags & DM_BUFFER_FULL_FLAG)
		return ENOSPC;
	if (!io->target_count || io->data_start + sizeof(struct dm_target_spec) > buf.size())
		return ENODATA;
	// The spec, then its status string.
	size_t at = io->data_start + sizeof(struct dm_target_spec);
	buf.back() = 0;
	*params = std::string(buf.data() + at);
	return 0;
}

int open_dm_control()
{
	return open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
}

} // namespace dynsnap::testing

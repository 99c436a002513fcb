// SPDX-License-Identifier: GPL-2.0
#include "dm/device_mapper.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>

#include <libdevmapper.h>

namespace dynsnap::dm {

Exit KernelError::exit_for(int err)
{
	switch (err) {
	case ENOENT:
	case ENXIO:
	case ENODEV:
		return Exit::kNotFound;
	case EBUSY:
	case EALREADY:
		return Exit::kBusy;
	default:
		return Exit::kFailed;
	}
}

std::string DeviceMapper::path(const std::string &name) const
{
	return std::string(dm_dir()) + "/" + name;
}

namespace {

// libdevmapper prints its own errors; the tools print one line of their
// own instead, so the library's are kept for debugging only.
void quiet_log(int level, const char *file, int line, int dm_errno,
	       const char *fmt, ...)
{
	(void)level;
	(void)file;
	(void)line;
	(void)dm_errno;
	if (!getenv("DYNSNAP_DM_DEBUG"))
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct TaskDeleter {
	void operator()(dm_task *t) const { dm_task_destroy(t); }
};
using Task = std::unique_ptr<dm_task, TaskDeleter>;

Task make_task(int type, const std::string &name)
{
	Task t(dm_task_create(type));
	if (!t)
		throw Error("cannot talk to device-mapper: is dm_mod loaded, and are you root?");
	if (!name.empty() && !dm_task_set_name(t.get(), name.c_str()))
		throw Error(Exit::kUsage, "invalid device name '" + name + "'");
	return t;
}

[[noreturn]] void fail(dm_task *t, const std::string &what)
{
	int err = dm_task_get_errno(t);
	if (!err)
		err = EIO;
	throw KernelError(err, what + ": " + strerror(err));
}

std::vector<Target> targets(dm_task *t)
{
	std::vector<Target> out;
	void *next = nullptr;
	do {
		uint64_t start, length;
		char *type = nullptr, *params = nullptr;
		next = dm_get_next_target(t, next, &start, &length, &type, &params);
		if (!type)
			break;
		out.push_back({start, length, type, params ? params : ""});
	} while (next);
	return out;
}

class LibDeviceMapper : public DeviceMapper {
public:
	LibDeviceMapper()
	{
		static std::once_flag once;
		std::call_once(once, [] { dm_log_with_errno_init(quiet_log); });
	}
	~LibDeviceMapper() override { dm_lib_release(); }

	std::vector<std::string> list() override
	{
		Task t = make_task(DM_DEVICE_LIST, "");
		if (!dm_task_run(t.get()))
			fail(t.get(), "cannot list device-mapper devices");
		std::vector<std::string> names;
		dm_names *n = dm_task_get_names(t.get());
		if (!n || !n->dev)
			return names;
		for (;;) {
			names.emplace_back(n->name);
			if (!n->next)
				break;
			n = reinterpret_cast<dm_names *>(reinterpret_cast<char *>(n) + n->next);
		}
		return names;
	}

	std::optional<DeviceInfo> info(const std::string &name) override
	{
		Task t = make_task(DM_DEVICE_INFO, name);
		if (!dm_task_run(t.get()))
			fail(t.get(), "cannot read device " + name);
		dm_info i;
		if (!dm_task_get_info(t.get(), &i))
			fail(t.get(), "cannot read device " + name);
		if (!i.exists)
			return std::nullopt;
		DeviceInfo d;
		d.name = name;
		const char *uuid = dm_task_get_uuid(t.get());
		d.uuid = uuid ? uuid : "";
		d.major = i.major;
		d.minor = i.minor;
		d.open_count = i.open_count;
		d.suspended = i.suspended;
		d.read_only = i.read_only;
		d.live_table = i.live_table;
		return d;
	}

	std::vector<Target> table(const std::string &name) override
	{
		Task t = make_task(DM_DEVICE_TABLE, name);
		if (!dm_task_run(t.get()))
			fail(t.get(), "cannot read the table of " + name);
		return targets(t.get());
	}

	std::vector<Target> status(const std::string &name) override
	{
		Task t = make_task(DM_DEVICE_STATUS, name);
		if (!dm_task_run(t.get()))
			fail(t.get(), "cannot read the status of " + name);
		return targets(t.get());
	}

	std::string message(const std::string &name, const std::string &text) override
	{
		Task t = make_task(DM_DEVICE_TARGET_MSG, name);
		if (!dm_task_set_sector(t.get(), 0) ||
		    !dm_task_set_message(t.get(), text.c_str()))
			throw Error("cannot build message '" + text + "'");
		if (!dm_task_run(t.get())) {
			std::string word = text.substr(0, text.find(' '));
			fail(t.get(), name + ": " + word + " refused");
		}
		const char *r = dm_task_get_message_response(t.get());
		return r ? r : "";
	}

	void create(const std::string &name, const std::string &uuid,
		    const std::vector<Target> &table, bool read_only, bool hidden) override
	{
		Task t = make_task(DM_DEVICE_CREATE, name);
		if (!uuid.empty() && !dm_task_set_uuid(t.get(), uuid.c_str()))
			throw Error("invalid device uuid '" + uuid + "'");
		for (const Target &tg : table)
			if (!dm_task_add_target(t.get(), tg.start, tg.length,
						tg.type.c_str(), tg.params.c_str()))
				throw Error("cannot build the table of " + name);
		if (read_only)
			dm_task_set_ro(t.get());
		uint32_t cookie = 0;
		uint16_t flags = hidden ? DM_UDEV_DISABLE_DISK_RULES_FLAG |
						  DM_UDEV_DISABLE_OTHER_RULES_FLAG
					: 0;
		if (!dm_task_set_cookie(t.get(), &cookie, flags))
			throw Error("cannot prepare creating " + name);
		int ok = dm_task_run(t.get());
		int err = dm_task_get_errno(t.get());
		dm_udev_wait(cookie);
		if (!ok)
			throw KernelError(err ? err : EIO, "cannot create device " + name + ": " +
							   strerror(err ? err : EIO));
	}

	void remove(const std::string &name) override
	{
		Task t = make_task(DM_DEVICE_REMOVE, name);
		dm_task_retry_remove(t.get());
		uint32_t cookie = 0;
		if (!dm_task_set_cookie(t.get(), &cookie, 0))
			throw Error("cannot prepare removing " + name);
		int ok = dm_task_run(t.get());
		int err = dm_task_get_errno(t.get());
		dm_udev_wait(cookie);
		if (!ok)
			throw KernelError(err ? err : EIO, "cannot remove device " + name + ": " +
							   strerror(err ? err : EIO));
	}
};

} // namespace

std::unique_ptr<DeviceMapper> open_device_mapper()
{
	return std::make_unique<LibDeviceMapper>();
}

} // namespace dynsnap::dm

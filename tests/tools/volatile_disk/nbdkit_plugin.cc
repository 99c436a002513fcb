// SPDX-License-Identifier: GPL-2.0
// nbdkit plugin serving a VolatileDisk (volatile_disk.h): a disk with a
// volatile write cache for the crash tests.
//
//   nbdkit --unix SOCK .../nbdkit-dsnvolatile-plugin.so
//          medium=DEV journal=FILE [cache-mib=N]
//          [drop-trigger=FILE drop-journal=FILE] [size-mib=N]
//          [freeze-trigger=FILE freeze-range=FIRST-END]
//
// medium  the durable medium: a block device or file
// journal the cache's journal, on a tmpfs; must be empty (or missing)
// cache-mib  cache capacity; a fuller cache writes itself back (default 64)
// drop-trigger  while this file exists, writes are acknowledged and dropped
// drop-journal  where the dropped writes are recorded (a journal, as above)
// size-mib  serve only the first N MiB of the medium (a small tier)
// freeze-trigger, freeze-range  while FILE exists, the first write that
//         overlaps the byte range is journaled and never completed: the
//         server hangs inside it until killed (a power cut inside that
//         write); FILE.hit says it happened
//
// Kill nbdkit with SIGKILL to cut the power, then dsn-volatile-cut decides
// what of the cache reached the medium. Requests are served one at a time,
// so a flush covers every write completed before it.
#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "volatile_disk.h"

#define THREAD_MODEL NBDKIT_THREAD_MODEL_SERIALIZE_ALL_REQUESTS

namespace {

using dynsnap::volatile_disk::VolatileDisk;

VolatileDisk::Options options;
std::unique_ptr<VolatileDisk> disk;

int config(const char *key, const char *value)
{
	std::string k = key;
	if (k == "medium") {
		options.medium = value;
	} else if (k == "journal") {
		options.journal = value;
	} else if (k == "cache-mib") {
		char *end = nullptr;
		errno = 0;
		unsigned long long mib = std::strtoull(value, &end, 10);
		if (errno || !end || *end || !mib || mib > (1ull << 20)) {
			nbdkit_error("cache-mib must be a number of MiB from 1 to 1048576, not '%s'",
				     value);
			return -1;
		}
		options.cache_bytes = mib << 20;
	} else if (k == "size-mib") {
		char *end = nullptr;
		errno = 0;
		unsigned long long mib = std::strtoull(value, &end, 10);
		if (errno || !end || *end || !mib || mib > (1ull << 30)) {
			nbdkit_error("size-mib must be a number of MiB from 1 to 1073741824, not '%s'",
				     value);
			return -1;
		}
		options.size_bytes = mib << 20;
	} else if (k == "freeze-trigger") {
		options.freeze_trigger = value;
	} else if (k == "freeze-range") {
		unsigned long long first = 0, end = 0;
		char dash = 0, extra = 0;
		if (std::sscanf(value, "%llu%c%llu%c", &first, &dash, &end, &extra) != 3 ||
		    dash != '-' || end <= first) {
			nbdkit_error("freeze-range must be FIRST-END in bytes, FIRST below END, not '%s'",
				     value);
			return -1;
		}
		options.freeze_first = first;
		options.freeze_end = end;
	} else if (k == "drop-trigger") {
		options.drop_trigger = value;
	} else if (k == "drop-journal") {
		options.drop_journal = value;
	} else {
		nbdkit_error("unknown parameter '%s' (expected medium, journal, cache-mib, "
			     "drop-trigger, drop-journal, size-mib, freeze-trigger, freeze-range)",
			     key);
		return -1;
	}
	return 0;
}

int config_complete()
{
	if (options.medium.empty() || options.journal.empty()) {
		nbdkit_error("medium= and journal= are required");
		return -1;
	}
	return 0;
}

// One disk for the server's life, opened before it takes connections.
int get_ready()
{
	std::string error;
	disk = VolatileDisk::open(options, &error);
	if (!disk) {
		nbdkit_error("%s", error.c_str());
		return -1;
	}
	return 0;
}

void *open_handle(int readonly)
{
	(void)readonly;
	return disk.get();
}

int64_t get_size(void *handle)
{
	return static_cast<int64_t>(static_cast<VolatileDisk *>(handle)->size());
}

int can_flush(void *)
{
	return 1;
}

int can_fua(void *)
{
	return NBDKIT_FUA_NATIVE;
}

int can_multi_conn(void *)
{
	return 0;
}

int block_size(void *, uint32_t *minimum, uint32_t *preferred, uint32_t *maximum)
{
	*minimum = dynsnap::volatile_disk::kSectorBytes;
	*preferred = 4096;
	*maximum = 0xffffffff;
	return 0;
}

int result(int err)
{
	if (!err)
		return 0;
	nbdkit_set_error(err);
	return -1;
}

int pread(void *handle, void *buf, uint32_t count, uint64_t offset, uint32_t)
{
	return result(static_cast<VolatileDisk *>(handle)->read(buf, count, offset));
}

int pwrite(void *handle, const void *buf, uint32_t count, uint64_t offset, uint32_t flags)
{
	// The power goes inside this write: nothing more is served.
	if (static_cast<VolatileDisk *>(handle)->freeze_now(buf, count, offset))
		for (;;)
			pause();
	return result(static_cast<VolatileDisk *>(handle)->write(buf, count, offset,
								  flags & NBDKIT_FLAG_FUA));
}

int flush(void *handle, uint32_t)
{
	return result(static_cast<VolatileDisk *>(handle)->flush());
}

nbdkit_plugin make_plugin()
{
	nbdkit_plugin p{};
	p.name = "dsnvolatile";
	p.longname = "dynsnap test disk with a volatile write cache";
	p.version = "1";
	p.config = config;
	p.config_complete = config_complete;
	p.config_help = "medium=DEV journal=FILE [cache-mib=N] [drop-trigger=FILE drop-journal=FILE] [size-mib=N] "
			"[freeze-trigger=FILE freeze-range=FIRST-END]";
	p.get_ready = get_ready;
	p.open = open_handle;
	p.get_size = get_size;
	p.can_flush = can_flush;
	p.can_fua = can_fua;
	p.can_multi_conn = can_multi_conn;
	p.block_size = block_size;
	p.pread = pread;
	p.pwrite = pwrite;
	p.flush = flush;
	p.errno_is_preserved = 0;
	return p;
}

nbdkit_plugin plugin = make_plugin();

} // namespace

NBDKIT_REGISTER_PLUGIN(plugin)

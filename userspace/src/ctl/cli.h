// SPDX-License-Identifier: GPL-2.0
// snapshotctl: the operator's command line. Everything but the process
// setup lives here so the commands can be tested against a fake
// device-mapper, with their output captured.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <iosfwd>
#include <string>

#include "dm/device_mapper.h"

namespace dynsnap::ctl {

struct Env {
	// Opened on first use: check, dump and apply work without it.
	std::function<dm::DeviceMapper &()> dm;
	std::ostream *out;
	std::ostream *err;
	std::istream *in;
	bool interactive = false;	// stdin is a terminal: ask before rollback
	FILE *progress = stderr;	// progress bars, when a terminal
	bool progress_enabled = false;
	bool color = false;		// stdout is a colour terminal
	std::string config_dir;
	std::function<int64_t()> now_ns;
	std::function<void(int milliseconds)> sleep_ms;
	// Size of a block device or file in sectors; throws Error.
	std::function<uint64_t(const std::string &path)> device_sectors;
	// UUID of the store whose superblock @path holds, "" when it is
	// zeroed; throws Error when it cannot be read or is damaged.
	std::function<std::string(const std::string &path)> store_uuid;
};

// Run one command line; returns the exit status (util/error.h).
int run(int argc, const char *const *argv, Env &env);

// The real environment of the process.
Env process_env();

} // namespace dynsnap::ctl

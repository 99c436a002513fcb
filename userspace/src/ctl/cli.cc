// SPDX-License-Identifier: GPL-2.0
#include "ctl/cli.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "ctl/commands.h"
#include "store/superblock_reader.h"
#include "volume/config.h"

namespace dynsnap::ctl {

namespace {

constexpr const char *kFooter =
	"Exit status: 0 done; 1 failed; 2 bad arguments; 3 no such volume, snapshot or file;\n"
	"4 in use (open device, view, rollback); 5 damage found; 6 not confirmed.\n"
	"See snapshotctl(8).";

uint64_t file_sectors(const std::string &path)
{
	int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		throw Error(errno == ENOENT ? Exit::kNotFound : Exit::kFailed,
			    "cannot open " + path + ": " + strerror(errno));
	struct stat st;
	uint64_t bytes = 0;
	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bytes))
			bytes = 0;
	} else if (fstat(fd, &st) == 0) {
		bytes = st.st_size;
	}
	close(fd);
	return bytes / 512;
}

} // namespace

Env process_env()
{
	static std::unique_ptr<dm::DeviceMapper> dm;
	Env env;
	env.dm = []() -> dm::DeviceMapper & {
		if (!dm)
			dm = dm::open_device_mapper();
		return *dm;
	};
	env.out = &std::cout;
	env.err = &std::cerr;
	env.in = &std::cin;
	env.interactive = isatty(STDIN_FILENO);
	env.progress = stderr;
	env.progress_enabled = isatty(STDERR_FILENO);
	const char *term = getenv("TERM");
	env.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && term && strcmp(term, "dumb");
	const char *dir = getenv("DYNSNAP_CONFIG_DIR");
	env.config_dir = dir && *dir ? dir : volume::kDefaultConfigDir;
	env.now_ns = [] {
		return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
			std::chrono::system_clock::now().time_since_epoch()).count());
	};
	env.sleep_ms = [](int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
	env.device_sectors = file_sectors;
	env.store_uuid = [](const std::string &path) -> std::string {
		auto r = store::read_superblock(path);
		switch (r.state) {
		case store::SuperblockState::kValid:
			return store::uuid_to_string(r.superblock->uuid);
		case store::SuperblockState::kZeroed:
			return "";
		default:
			throw Error(Exit::kFailed, path + ": " + r.error);
		}
	};
	return env;
}

int run(int argc, const char *const *argv, Env &env)
{
	CLI::App app{"snapshotctl: manage dynsnap volumes, their snapshots and views.", "snapshotctl"};
	app.footer(kFooter);
	app.require_subcommand(1);
	app.set_version_flag("--version", "snapshotctl " DYNSNAP_VERSION);
	std::string config_dir = env.config_dir;
	app.add_option("--config-dir", config_dir,
		       "where volumes set up by `setup` are kept (default: $DYNSNAP_CONFIG_DIR or /etc/dynsnap)");

	Commands cmds(env);
	cmds.add_to(app);

	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		if (e.get_exit_code() == 0) {
			// --help of a subcommand, --version
			std::ostringstream o, er;
			app.exit(e, o, er);
			*env.out << o.str();
			return 0;
		}
		std::string sub;
		for (const CLI::App *s : app.get_subcommands())
			sub = " " + s->get_name();
		*env.err << "snapshotctl" << (sub.empty() ? "" : ":" + sub) << ": " << e.what()
			 << " (try snapshotctl" << sub << " --help)\n";
		return static_cast<int>(Exit::kUsage);
	}
	env.config_dir = config_dir;
	try {
		return cmds.execute();
	} catch (const Error &e) {
		*env.err << "snapshotctl: " << e.what() << "\n";
		return static_cast<int>(e.code());
	} catch (const std::exception &e) {
		*env.err << "snapshotctl: " << e.what() << "\n";
		return static_cast<int>(Exit::kFailed);
	}
}

} // namespace dynsnap::ctl

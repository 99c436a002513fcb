// SPDX-License-Identifier: GPL-2.0
#include "ctl/commands.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "ctl/map_render.h"
#include "dynsnap_names.h"
#include "ctl/retention.h"
#include "ui/format.h"
#include "ui/progress.h"
#include "ui/table.h"
#include "volume/config.h"
#include "volume/volume.h"

namespace dynsnap::ctl {

using volume::check_volume_name;
using volume::ConfigStore;
using volume::kSectorSize;
using volume::RollbackStatus;
using volume::Snapshot;
using volume::View;
using volume::Volume;
using volume::VolumeConfig;
using volume::VolumeStatus;
using volume::VolumeTable;

namespace {

using nlohmann::json;

std::string iso_time(int64_t ns)
{
	time_t s = static_cast<time_t>(ns / 1000000000);
	struct tm tm;
	gmtime_r(&s, &tm);
	char buf[64];
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 static_cast<long long>(ns % 1000000000));
	return buf;
}

json snapshot_json(const Snapshot &s, const std::vector<View> &views)
{
	json v = json::array();
	for (const View &w : views)
		if (w.snapshot_id == s.id)
			v.push_back(w.path);
	return {{"id", s.id},
		{"name", s.name},
		{"ctime_ns", s.ctime_ns},
		{"created", iso_time(s.ctime_ns)},
		{"epoch", s.epoch},
		{"exclusive_bytes", s.exclusive_bytes},
		{"views", v}};
}

std::string quoted(const Snapshot &s)
{
	return std::to_string(s.id) + " '" + s.name + "'";
}

// Snapshot names follow the kernel's rule; checked here too so the
// operator gets a clear message rather than EINVAL.
void check_snapshot_name(const std::string &n)
{
	bool ok = !n.empty() && n.size() <= 64 && n[0] != '-';
	for (char c : n)
		ok = ok && (isalnum(static_cast<unsigned char>(c)) || strchr("._:@+-", c));
	if (!ok)
		throw Error(Exit::kUsage, "invalid snapshot name '" + n +
						  "': use 1 to 64 of A-Z a-z 0-9 . _ : @ + -, not starting with -");
}

// Turn the kernel's errno for a snapshot message into what to do.
[[noreturn]] void explain(const dm::KernelError &e, const std::string &volume,
			  const std::string &what, const std::string &snap = "SNAP")
{
	switch (e.error_number()) {
	case EEXIST:
		throw Error(Exit::kFailed, what + ": a snapshot of that name exists on " + volume +
						   ": choose another name");
	case EBUSY:
		throw Error(Exit::kBusy, what + ": in use (a view of it is open, a rollback "
						"goes to it, or the volume is open): `snapshotctl unview " +
						 volume + " " + snap + "` or unmount, then retry");
	case EALREADY:
		throw Error(Exit::kBusy, what + ": a rollback is in progress on " + volume +
						 ": wait for it (`snapshotctl status " + volume + "`)");
	case ENOENT:
		throw Error(Exit::kNotFound, what + ": no such snapshot on " + volume +
						     ": `snapshotctl list " + volume + "` shows them");
	case EROFS:
		throw Error(Exit::kFailed, what + ": volume " + volume +
						   " is read-only or failed (see `snapshotctl status " +
						   volume + "`)");
	case ENOSPC:
		throw Error(Exit::kFailed, what + ": the delta store of " + volume +
						   " is full: delete old snapshots");
	case EMLINK:
	case EOVERFLOW:
		throw Error(Exit::kFailed, what + ": " + volume +
						   " holds as many snapshots as it can: delete old ones");
	default:
		throw Error(e.code(), what + ": " + e.what());
	}
}

// Freeze a mounted filesystem for the life of this object, so a snapshot
// catches it consistent.
class Freeze {
public:
	Freeze(const std::string &mountpoint, const dm::DeviceInfo &volume)
	{
		if (mountpoint.empty())
			return;
		fd_ = open(mountpoint.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd_ < 0)
			throw Error(Exit::kNotFound, "cannot open " + mountpoint + ": " + strerror(errno));
		// Freezing another filesystem would make a snapshot that only
		// looks consistent.
		struct stat st;
		if (fstat(fd_, &st) || major(st.st_dev) != volume.major ||
		    minor(st.st_dev) != volume.minor) {
			close(fd_);
			fd_ = -1;
			throw Error(Exit::kUsage, mountpoint + " is not a filesystem on volume " +
							  volume.name + ": give its mount point to --freeze");
		}
		// Ctrl-C or a timeout's SIGTERM must not leave it frozen: they
		// wait until it is thawed.
		sigset_t stop;
		sigemptyset(&stop);
		sigaddset(&stop, SIGINT);
		sigaddset(&stop, SIGTERM);
		sigaddset(&stop, SIGHUP);
		sigaddset(&stop, SIGQUIT);
		sigprocmask(SIG_BLOCK, &stop, &old_mask_);
		blocked_ = true;
		if (ioctl(fd_, FIFREEZE, 0)) {
			int err = errno;
			close(fd_);
			fd_ = -1;
			sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
			blocked_ = false;
			throw Error("cannot freeze " + mountpoint + ": " + strerror(err) +
				    " (is it a mount point of the volume?)");
		}
	}
	~Freeze()
	{
		if (fd_ >= 0) {
			ioctl(fd_, FITHAW, 0);
			close(fd_);
		}
		if (blocked_)
			sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
	}

private:
	int fd_ = -1;
	bool blocked_ = false;
	sigset_t old_mask_;
};

// The reason the kernel logged for a table it refused, read from
// /dev/kmsg ("device-mapper: table: 253:3: dynsnap: <reason>"); only
// records logged since kmsg_open() count.
// Open /dev/kmsg at its end, before the operation whose reason we want.
int kmsg_open()
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

std::string kernel_reason(int fd)
{
	if (fd < 0)
		return "";
	std::string last;
	char buf[8192];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	// records overwritten while reading
		if (n <= 0)
			break;
		buf[n] = 0;
		const char *msg = strchr(buf, ';');
		if (!msg)
			continue;
		std::string line(msg + 1);
		line = line.substr(0, line.find('\n'));
		auto at = line.find(": dynsnap: ");
		if (line.rfind("device-mapper: table:", 0) == 0 && at != std::string::npos)
			last = line.substr(at + 11);
	}
	close(fd);
	return last;
}

void create_volume(dm::DeviceMapper &dm, const VolumeConfig &c, const dm::Target &t)
{
	int kmsg = kmsg_open();
	try {
		dm.create(c.name, "DYNSNAP-" + c.name, {t}, false);
		if (kmsg >= 0)
			close(kmsg);
	} catch (const dm::KernelError &e) {
		std::string why = kernel_reason(kmsg);
		throw Error(e.code(), "cannot set up " + c.name + ": " +
					      (why.empty() ? std::string(e.what()) : why) +
					      " (see the administrator's guide, Errors)");
	}
}

std::string pct(uint64_t used, uint64_t total)
{
	if (!total)
		return "-";
	char b[16];
	snprintf(b, sizeof(b), "%.0f%%", 100.0 * used / total);
	return b;
}

} // namespace

void Commands::add_to(CLI::App &app)
{
	add_snapshot_commands(app);
	add_volume_commands(app);
	add_data_commands(app);
}

int Commands::execute()
{
	return action_();
}

bool Commands::confirm(const std::string &question)
{
	if (yes_)
		return true;
	if (!env_.interactive)
		throw Error(Exit::kUsage, "not run from a terminal: add --yes to confirm");
	*env_.err << question << " [y/N] " << std::flush;
	std::string answer;
	std::getline(*env_.in, answer);
	return answer == "y" || answer == "Y" || answer == "yes";
}

void Commands::add_snapshot_commands(CLI::App &app)
{
	CLI::App *c = app.add_subcommand("create", "Take a snapshot of a volume");
	c->add_option("VOLUME", volume_, "the dynsnap volume")->required();
	c->add_option("NAME", name_, "snapshot name: 1 to 64 of A-Z a-z 0-9 . _ : @ + -")->required();
	c->add_option("--freeze", freeze_, "freeze the filesystem mounted here around the snapshot");
	c->add_flag("--json", json_, "print JSON");
	c->callback([this] { action_ = [this] { return create(); }; });

	c = app.add_subcommand("list", "List the snapshots of a volume, oldest first");
	c->add_option("VOLUME", volume_, "the dynsnap volume")->required();
	c->add_flag("--json", json_, "print JSON");
	c->callback([this] { action_ = [this] { return list(); }; });

	c = app.add_subcommand("show", "Show one snapshot");
	c->add_option("VOLUME", volume_, "the dynsnap volume")->required();
	c->add_option("SNAP", snap_, "snapshot id or name")->required();
	c->add_flag("--json", json_, "print JSON");
	c->callback([this] { action_ = [this] { return show(); }; });

	c = app.add_subcommand("delete", "Delete snapshots; their space comes back");
	c->add_option("VOLUME", volume_, "the dynsnap volume")->required();
	c->add_option("SNAP", snaps_, "snapshot ids or names")->required();
	c->callback([this] { action_ = [this] { return remove(); }; });

	c = app.add_subcommand("view", "Map a snapshot as a read-only device and print its path");
	c->add_option("VOLUME", volume_, "the dynsnap volume")->required();
	c->add_option("SNAP", snap_, "snapshot id or name")->required();
	c->add_option("--name", name_, "device-mapper name of the view (default VOLUME@SNAPNAME)");
	c->add_flag("--json", json_, "print JSON");
	c->callback([this] { action_ = [this] { return view(); }; });

	c = app.add_subcommand("unview", "Remove the views of a snapshot");
	c->add_option("VOLUME", volume_, "the dynsnap volume")->required();
	c->add_option("SNAP", snap_, "snapshot id or name");
	c->add_flag("--all", all_, "remove every view of the volume");
	c->callback([this] { action_ = [this] { return unview(); }; });

	c = app.add_subcommand("rollback", "Bring a volume back to a snapshot");
	c->add_option("VOLUME", volume_, "the dynsnap volume; must not be open (unmount it)")
		->required();
	c->add_option("SNAP", snap_, "snapshot id or name")->required();
	c->add_flag("-y,--yes", yes_, "do not ask for confirmation");
	c->add_flag("--no-wait", no_wait_, "start it and return; `status` shows the progress");
	c->add_flag("--no-safety-snapshot", no_safety_,
		    "do not snapshot the volume first (the rollback cannot be undone then)");
	c->callback([this] { action_ = [this] { return rollback(); }; });

	c = app.add_subcommand("diff", "Print the byte ranges that differ between two snapshots");
	c->add_option("VOLUME", volume_, "the dynsnap volume")->required();
	c->add_option("FROM", snap_, "snapshot id or name")->required();
	c->add_option("TO", snap2_, "snapshot id or name, or `live` for the volume as it is now")
		->required();
	c->add_flag("--coarse", coarse_,
		    "the ranges the deltas cover (whole blocks or sub-blocks), without comparing data");
	c->add_flag("--json", json_, "print JSON");
	c->callback([this] { action_ = [this] { return diff(); }; });
}

void Commands::add_volume_commands(CLI::App &app)
{
	CLI::App *c = app.add_subcommand("status", "Show volumes, or one volume in detail");
	c->add_option("VOLUME", volume_, "the dynsnap volume (default: a line per volume)");
	c->add_flag("--json", json_, "print JSON");
	c->callback([this] { action_ = [this] { return status(); }; });

	c = app.add_subcommand("map", "Show the granularity and change heat of each region");
	c->add_option("VOLUME", volume_, "the dynsnap volume")->required();
	c->add_option("--svg", svg_, "also draw the map as an SVG picture into this file");
	c->add_option("--width", width_, "line width in columns (default: the terminal's)");
	c->add_flag("--json", json_, "print JSON");
	c->callback([this] { action_ = [this] { return map(); }; });

	c = app.add_subcommand("setup", "Create a dynsnap volume and remember it for boot");
	c->add_option("VOLUME", volume_, "name of the new volume: /dev/mapper/VOLUME")->required();
	c->add_option("--origin", origin_, "the block device to protect")->required();
	c->add_option("--fast", fast_, "fast tier (NVMe): metadata and fine deltas; zeroed to format")
		->required();
	c->add_option("--slow", slow_, "slow tier (HDD) for block deltas; zeroed to format");
	c->add_option("--block-size", block_size_, "block size, 4K to 1M (default 64K)");
	c->add_option("--sub-block-size", sub_block_size_,
		      "sub-block size (default: the target's, 4K for most block sizes)");
	c->add_option("--region-size", region_size_, "region size (default 4M)");
	c->add_option("--granularity", granularity_, "block, sub or bit (default sub)")
		->check(CLI::IsMember(std::vector<std::string>(
			dynsnap_level_names, dynsnap_level_names + DYNSNAP_LEVEL__COUNT)));
	c->add_option("--on-full", on_full_, "error or drop_oldest (default error)")
		->check(CLI::IsMember({"error", "drop_oldest"}));
	c->add_option("--keep", keep_, "retention rule for `schedule`, EVERY:FOR such as 1m:1h");
	c->add_flag("--no-save", no_save_, "do not remember the volume for `activate`");
	c->callback([this] { action_ = [this] { return setup(); }; });

	c = app.add_subcommand("teardown", "Remove a volume's device and views (data stays)");
	c->add_option("VOLUME", volume_, "the dynsnap volume")->required();
	c->add_flag("--forget", forget_, "also forget its configuration (it is not activated again)");
	c->add_flag("--force", force_, "even while a rollback is running or paused (it stops half done)");
	c->callback([this] { action_ = [this] { return teardown(); }; });

	c = app.add_subcommand("activate", "Bring up volumes remembered by `setup` (at boot)");
	c->add_option("VOLUME", volumes_, "volumes (default with --all: every one)");
	c->add_flag("--all", all_, "every remembered volume");
	c->callback([this] { action_ = [this] { return activate(true); }; });

	c = app.add_subcommand("deactivate", "Remove the devices of remembered volumes");
	c->add_option("VOLUME", volumes_, "volumes");
	c->add_flag("--all", all_, "every remembered volume");
	c->add_flag("--force", force_, "even while a rollback is running or paused (it stops half done)");
	c->callback([this] { action_ = [this] { return activate(false); }; });

	c = app.add_subcommand("schedule",
			       "Take a snapshot when one is due and prune by the retention rules");
	c->add_option("VOLUME", volume_, "the dynsnap volume")->required();
	c->add_option("--keep", keep_,
		      "EVERY:FOR, e.g. 1s:10m 1m:1h 1h:1d (default: the rules given to setup)");
	c->add_option("--prefix", prefix_, "name prefix of scheduled snapshots (default auto)");
	c->add_flag("--dry-run", dry_run_, "print what would be done, change nothing");
	c->add_flag("--no-create", no_create_, "only prune");
	c->add_flag("--json", json_, "print JSON");
	c->callback([this] { action_ = [this] { return schedule(); }; });
}

int Commands::create()
{
	check_snapshot_name(name_);
	Volume v(env_.dm(), volume_);
	uint64_t id;
	try {
		Freeze freeze(freeze_, v.info());
		id = v.create_snapshot(name_);
	} catch (const dm::KernelError &e) {
		explain(e, volume_, "cannot create snapshot '" + name_ + "'");
	}
	if (json_)
		out() << json{{"volume", volume_}, {"id", id}, {"name", name_}}.dump(2) << "\n";
	else
		out() << "created snapshot " << id << " '" << name_ << "' of " << volume_ << "\n";
	return 0;
}

int Commands::list()
{
	Volume v(env_.dm(), volume_);
	auto snaps = v.snapshots();
	auto views = v.views();
	if (json_) {
		json a = json::array();
		for (const Snapshot &s : snaps)
			a.push_back(snapshot_json(s, views));
		out() << a.dump(2) << "\n";
		return 0;
	}
	if (snaps.empty()) {
		out() << "no snapshots on " << volume_ << "\n";
		return 0;
	}
	ui::Table t({{"ID", ui::Align::kRight},
		     {"NAME", ui::Align::kLeft},
		     {"CREATED", ui::Align::kLeft},
		     {"AGE", ui::Align::kRight},
		     {"EXCLUSIVE", ui::Align::kRight},
		     {"VIEW", ui::Align::kLeft}});
	int64_t now = env_.now_ns();
	for (const Snapshot &s : snaps) {
		std::string vs;
		for (const View &w : views)
			if (w.snapshot_id == s.id)
				vs += (vs.empty() ? "" : ",") + w.path;
		t.add_row({std::to_string(s.id), s.name, ui::format_time(s.ctime_ns),
			   ui::format_age(now, s.ctime_ns), ui::format_bytes(s.exclusive_bytes),
			   vs.empty() ? "-" : vs});
	}
	t.print(out());
	return 0;
}

int Commands::show()
{
	Volume v(env_.dm(), volume_);
	Snapshot s = v.find(snap_);
	auto views = v.views();
	uint64_t changed = 0;
	for (const ByteRange &r : v.changed_ranges(s.id, 0))
		changed += r.length;
	json j = snapshot_json(s, views);
	j["volume"] = volume_;
	j["changed_since_bytes"] = changed;
	if (json_) {
		out() << j.dump(2) << "\n";
		return 0;
	}
	std::string vs;
	for (const auto &p : j["views"])
		vs += (vs.empty() ? "" : " ") + p.get<std::string>();
	out() << "snapshot " << quoted(s) << " of " << volume_ << "\n"
	      << "  created:        " << ui::format_time(s.ctime_ns) << " ("
	      << ui::format_age(env_.now_ns(), s.ctime_ns) << " ago)\n"
	      << "  epoch:          " << s.epoch << "\n"
	      << "  exclusive:      " << ui::format_bytes(s.exclusive_bytes)
	      << " (freed by deleting it)\n"
	      << "  changed since:  " << ui::format_bytes(changed)
	      << " of the volume (blocks or sub-blocks written since)\n"
	      << "  views:          " << (vs.empty() ? "-" : vs) << "\n";
	return 0;
}

int Commands::remove()
{
	Volume v(env_.dm(), volume_);
	// Resolve every name first: a typo deletes nothing.
	std::vector<Snapshot> victims;
	for (const std::string &ref : snaps_) {
		Snapshot s = v.find(ref);
		bool seen = false;
		for (const Snapshot &x : victims)
			seen |= x.id == s.id;
		if (!seen)
			victims.push_back(s);
	}
	for (const Snapshot &s : victims) {
		try {
			v.delete_snapshot(s.id);
		} catch (const dm::KernelError &e) {
			explain(e, volume_, "cannot delete snapshot " + quoted(s), std::to_string(s.id));
		}
		out() << "deleted snapshot " << quoted(s) << "\n";
	}
	return 0;
}

int Commands::view()
{
	Volume v(env_.dm(), volume_);
	Snapshot s = v.find(snap_);
	std::string n = name_.empty() ? v.default_view_name(s) : name_;
	View made;
	bool existed = false;
	for (const View &w : v.views())
		if (w.name == n && w.snapshot_id == s.id) {
			made = w;
			existed = true;
		}
	if (!existed) {
		try {
			made = v.create_view(s, n);
		} catch (const dm::KernelError &e) {
			explain(e, volume_, "cannot map snapshot " + quoted(s));
		}
	}
	if (json_)
		out() << json{{"volume", volume_}, {"id", s.id}, {"name", s.name},
			      {"device", made.name}, {"path", made.path}}.dump(2)
		      << "\n";
	else
		out() << made.path << "\n";
	return 0;
}

int Commands::unview()
{
	Volume v(env_.dm(), volume_);
	if (snap_.empty() == !all_)
		throw Error(Exit::kUsage, "name a snapshot, or give --all for every view of " + volume_ +
						  ", not both");
	std::optional<uint64_t> id;
	if (!snap_.empty())
		id = v.find(snap_).id;
	int removed = 0;
	for (const View &w : v.views()) {
		if (id && w.snapshot_id != *id)
			continue;
		if (w.open_count)
			throw Error(Exit::kBusy, "view " + w.path +
							 " is open (mounted?): unmount it, then retry");
		v.remove_view(w);
		out() << "removed view " << w.path << "\n";
		removed++;
	}
	if (!removed)
		out() << "no views to remove\n";
	return 0;
}

int Commands::rollback()
{
	Volume v(env_.dm(), volume_);
	Snapshot s = v.find(snap_);
	if (v.info().open_count)
		throw Error(Exit::kBusy, "volume " + volume_ +
						 " is open (mounted, or held by a process): unmount "
						 "or close it, then retry");
	VolumeStatus st = v.status();
	if (st.rollback.asked && (st.rollback.state == "running" || st.rollback.state == "paused"))
		throw Error(Exit::kBusy, "a rollback to snapshot " + std::to_string(st.rollback.id) +
						 " is in progress on " + volume_ + ": wait for it");
	std::string q = "Roll " + volume_ + " back to snapshot " + quoted(s) + " of " +
			ui::format_time(s.ctime_ns) + "? Everything written since is replaced";
	q += no_safety_ ? " and cannot be brought back." : " (kept in a safety snapshot).";
	if (!confirm(q)) {
		*env_.err << "snapshotctl: rollback not confirmed: nothing changed\n";
		return static_cast<int>(Exit::kAborted);
	}
	std::optional<uint64_t> safety_id;
	if (!no_safety_) {
		std::string safety = scheduled_name("rollback", env_.now_ns());
		try {
			safety_id = v.create_snapshot(safety);
			out() << "safety snapshot " << *safety_id << " '" << safety
			      << "': roll back to it to undo\n";
		} catch (const dm::KernelError &e) {
			explain(e, volume_, "cannot take the safety snapshot (--no-safety-snapshot skips it)");
		}
	}
	try {
		v.rollback(s.id);
	} catch (const dm::KernelError &e) {
		// Nothing was rolled back: the safety snapshot is not needed.
		if (safety_id) {
			try {
				v.delete_snapshot(*safety_id);
			} catch (const Error &) {
			}
		}
		explain(e, volume_, "cannot roll back to snapshot " + quoted(s));
	}
	if (no_wait_) {
		out() << "rollback to snapshot " << quoted(s) << " started: `snapshotctl status "
		      << volume_ << "` shows its progress\n";
		return 0;
	}
	// Progress in bytes of blocks; writes during the rollback may raise
	// the total, and a new bar then takes over.
	const uint64_t block_bytes = uint64_t(v.table().block_sectors) * kSectorSize;
	std::unique_ptr<ui::ProgressBar> bar;
	uint64_t bar_total = 0;
	for (;;) {
		st = v.status();
		const RollbackStatus &r = st.rollback;
		if (!r.asked || r.id != s.id)
			throw Error("the rollback of " + volume_ + " disappeared (was it re-activated?)");
		if (!bar || r.total != bar_total) {
			bar_total = r.total;
			bar = std::make_unique<ui::ProgressBar>("rollback", bar_total * block_bytes,
								env_.progress,
								env_.progress_enabled && env_.progress);
		}
		bar->update(r.done * block_bytes);
		if (r.state == "done") {
			bar->finish();
			out() << "rolled " << volume_ << " back to snapshot " << quoted(s) << ": "
			      << r.done << " blocks\n";
			return 0;
		}
		if (r.state == "failed") {
			bar.reset();
			throw Error("rollback of " + volume_ + " failed after " + std::to_string(r.done) +
				    " of " + std::to_string(r.total) +
				    " blocks (see the kernel log; status shows space): fix the cause "
				    "and run it again");
		}
		env_.sleep_ms(200);
	}
}

int Commands::status()
{
	dm::DeviceMapper &dm = env_.dm();
	ConfigStore configs(env_.config_dir);
	if (volume_.empty()) {
		auto active = Volume::list(dm);
		std::vector<std::string> names = active;
		for (const std::string &n : configs.names())
			if (std::find(names.begin(), names.end(), n) == names.end())
				names.push_back(n);
		std::sort(names.begin(), names.end());
		json a = json::array();
		ui::Table t({{"VOLUME", ui::Align::kLeft},
			     {"STATE", ui::Align::kLeft},
			     {"SIZE", ui::Align::kRight},
			     {"SNAPSHOTS", ui::Align::kRight},
			     {"FAST", ui::Align::kRight},
			     {"SLOW", ui::Align::kRight},
			     {"SPACE", ui::Align::kLeft}});
		for (const std::string &n : names) {
			if (std::find(active.begin(), active.end(), n) == active.end()) {
				a.push_back({{"volume", n}, {"state", "inactive"}});
				t.add_row({n, "inactive", "-", "-", "-", "-", "-"});
				continue;
			}
			Volume v(dm, n);
			VolumeStatus s = v.status();
			a.push_back({{"volume", n}, {"state", s.mode}, {"bytes", v.bytes()},
				     {"snapshots", s.snapshots}, {"space", s.space}});
			t.add_row({n, s.mode, ui::format_bytes(v.bytes()), std::to_string(s.snapshots),
				   pct(s.fast_used, s.fast_total), pct(s.slow_used, s.slow_total),
				   s.space});
		}
		if (json_)
			out() << a.dump(2) << "\n";
		else if (names.empty())
			out() << "no dynsnap volumes\n";
		else
			t.print(out());
		return 0;
	}
	Volume v(dm, volume_);
	VolumeStatus s = v.status();
	const VolumeTable &tb = v.table();
	auto views = v.views();
	json j = {{"volume", volume_},
		  {"path", v.path()},
		  {"bytes", v.bytes()},
		  {"mode", s.mode},
		  {"open_count", v.info().open_count},
		  {"origin", tb.origin},
		  {"fast", tb.fast},
		  {"slow", tb.slow == "-" ? json(nullptr) : json(tb.slow)},
		  {"block_bytes", static_cast<uint64_t>(tb.block_sectors) * kSectorSize},
		  {"snapshots", s.snapshots},
		  {"epoch", s.epoch},
		  {"fast_used_bytes", s.fast_used * kSectorSize},
		  {"fast_total_bytes", s.fast_total * kSectorSize},
		  {"slow_used_bytes", s.slow_used * kSectorSize},
		  {"slow_total_bytes", s.slow_total * kSectorSize},
		  {"delta_records", s.delta_records},
		  {"delta_bytes", s.delta_bytes},
		  {"checksum_errors", s.checksum_errors},
		  {"generation", s.generation},
		  {"regions", {{dynsnap_level_names[DYNSNAP_LEVEL_BLOCK], s.regions[0]},
			       {dynsnap_level_names[DYNSNAP_LEVEL_SUB], s.regions[1]},
			       {dynsnap_level_names[DYNSNAP_LEVEL_BIT], s.regions[2]}}},
		  {"space", s.space},
		  {"space_events", s.space_events}};
	json feats = json::object();
	for (const auto &[k, val] : tb.features)
		feats[k] = val;
	j["features"] = feats;
	if (s.rollback.asked)
		j["rollback"] = {{"snapshot", s.rollback.id}, {"state", s.rollback.state},
				 {"done_blocks", s.rollback.done}, {"total_blocks", s.rollback.total}};
	else
		j["rollback"] = nullptr;
	j["views"] = json::array();
	for (const View &w : views)
		j["views"].push_back({{"path", w.path}, {"snapshot", w.snapshot_id},
				      {"open_count", w.open_count}});
	if (json_) {
		out() << j.dump(2) << "\n";
		return 0;
	}
	auto tier = [&](uint64_t used, uint64_t total) {
		return ui::format_bytes(used * kSectorSize) + " of " +
		       ui::format_bytes(total * kSectorSize) + " (" + pct(used, total) + ")";
	};
	std::string fl;
	for (const auto &[k, val] : tb.features)
		fl += (fl.empty() ? "" : ", ") + k + " " + val;
	out() << volume_ << " (" << v.path() << ", " << ui::format_bytes(v.bytes()) << ")\n"
	      << "  mode:            " << s.mode
	      << (v.info().open_count ? ", open" : ", not open") << "\n"
	      << "  devices:         origin " << tb.origin << ", fast " << tb.fast << ", slow "
	      << (tb.slow == "-" ? "none" : tb.slow) << "\n"
	      << "  block size:      " << ui::format_bytes(uint64_t(tb.block_sectors) * kSectorSize)
	      << (fl.empty() ? "" : "; " + fl) << "\n"
	      << "  snapshots:       " << s.snapshots << " (epoch " << s.epoch << ")\n"
	      << "  fast tier:       " << tier(s.fast_used, s.fast_total) << "\n";
	if (s.slow_total)
		out() << "  slow tier:       " << tier(s.slow_used, s.slow_total) << "\n";
	out() << "  deltas:          " << s.delta_records << " records, "
	      << ui::format_bytes(s.delta_bytes) << "\n"
	      << "  regions:         " << s.regions[0] << " block, " << s.regions[1] << " sub, "
	      << s.regions[2] << " bit\n"
	      << "  space:           " << s.space;
	if (s.space_events)
		out() << " (" << s.space_events << " writes or messages refused for lack of space)";
	out() << "\n"
	      << "  checksum errors: " << s.checksum_errors << "\n"
	      << "  rollback:        ";
	if (s.rollback.asked)
		out() << "to snapshot " << s.rollback.id << ", " << s.rollback.state << ", "
		      << s.rollback.done << "/" << s.rollback.total << " blocks\n";
	else
		out() << "-\n";
	for (const View &w : views)
		out() << "  view:            " << w.path << " (snapshot " << w.snapshot_id
		      << (w.open_count ? ", open" : "") << ")\n";
	return 0;
}

int Commands::map()
{
	Volume v(env_.dm(), volume_);
	auto regions = v.region_map();
	uint64_t region_sectors = 8192;
	if (auto r = v.table().feature("region_sectors"))
		region_sectors = std::stoull(*r);
	RegionMap m{volume_, v.table().length, region_sectors, regions};
	if (!svg_.empty()) {
		write_svg(m, svg_);
	}
	if (json_) {
		out() << map_json(m).dump(2) << "\n";
		return 0;
	}
	render_map(m, out(), width_ ? width_ : static_cast<int>(ui::terminal_width(1)), env_.color);
	if (!svg_.empty())
		out() << "picture written to " << svg_ << "\n";
	return 0;
}

int Commands::setup()
{
	check_volume_name(volume_);
	ConfigStore configs(env_.config_dir);
	VolumeConfig c;
	c.name = volume_;
	c.origin = origin_;
	c.fast = fast_;
	c.slow = slow_;
	auto sectors = [](const std::string &size, const char *what) {
		uint64_t b = ui::parse_size(size, {.what = what});
		if (b % kSectorSize || !b || b / kSectorSize > UINT32_MAX)
			throw Error(Exit::kUsage, std::string(what) + " must be a whole number of 512-byte sectors");
		return static_cast<uint32_t>(b / kSectorSize);
	};
	auto pow2 = [](uint32_t v) { return v && !(v & (v - 1)); };
	c.block_sectors = sectors(block_size_, "--block-size");
	if (!pow2(c.block_sectors) || c.block_sectors < 8 || c.block_sectors > 2048)
		throw Error(Exit::kUsage, "--block-size must be a power of two from 4K to 1M");
	if (!sub_block_size_.empty()) {
		c.sub_block_sectors = sectors(sub_block_size_, "--sub-block-size");
		if (!pow2(c.sub_block_sectors) || c.sub_block_sectors > c.block_sectors ||
		    c.sub_block_sectors * 64 < c.block_sectors)
			throw Error(Exit::kUsage, "--sub-block-size must be a power of two, at most the "
						  "block size and at least 1/64 of it");
	}
	if (!region_size_.empty()) {
		c.region_sectors = sectors(region_size_, "--region-size");
		if (!pow2(c.region_sectors) || c.region_sectors < c.block_sectors ||
		    c.region_sectors > 16777216)
			throw Error(Exit::kUsage, "--region-size must be a power of two from the block "
						  "size to 8G");
	}
	c.granularity = granularity_;
	c.on_full = on_full_;
	for (const std::string &k : keep_) {
		parse_keep_rule(k);
		c.keep.push_back(k);
	}
	// Arguments are checked before anything is asked of the kernel.
	dm::DeviceMapper &dm = env_.dm();
	if (dm.info(volume_))
		throw Error(Exit::kBusy, "a device named " + volume_ + " exists: choose another name");
	uint64_t origin_sectors = env_.device_sectors(origin_);
	env_.device_sectors(fast_);
	if (!slow_.empty())
		env_.device_sectors(slow_);
	dm::Target t = c.target(origin_sectors);
	c.length_sectors = t.length;
	create_volume(dm, c, t);
	try {
		c.store_uuid = env_.store_uuid(fast_);
	} catch (const Error &) {
		// Left empty: activate then only refuses a zeroed fast device.
	}
	if (!no_save_)
		configs.save(c);
	out() << "volume " << volume_ << " is ready: " << dm.path(volume_) << " ("
	      << ui::format_bytes(t.length * kSectorSize) << ")\n";
	if (!no_save_)
		out() << "remembered in " << configs.dir() << "/volumes/" << volume_
		      << ".json: `snapshotctl activate --all` brings it up at boot\n";
	return 0;
}

int Commands::teardown()
{
	dm::DeviceMapper &dm = env_.dm();
	ConfigStore configs(env_.config_dir);
	if (dm.info(volume_)) {
		Volume v(dm, volume_);
		if (v.info().open_count)
			throw Error(Exit::kBusy, "volume " + volume_ +
							 " is open (mounted?): unmount it, then retry");
		// A rollback is not journaled: cut off, it leaves the volume
		// part old, part new until it is asked for again.
		RollbackStatus rb = v.status().rollback;
		if (!force_ && rb.asked && (rb.state == "running" || rb.state == "paused"))
			throw Error(Exit::kBusy, "a rollback of " + volume_ + " to snapshot " +
							 std::to_string(rb.id) + " is " + rb.state +
							 " (" + std::to_string(rb.done) + "/" +
							 std::to_string(rb.total) +
							 " blocks): wait for it, or give --force and run "
							 "it again after the next activate");
		auto views = v.views();
		for (const View &w : views)
			if (w.open_count)
				throw Error(Exit::kBusy, "view " + w.path +
								 " is open (mounted?): unmount it, then retry");
		for (const View &w : views) {
			v.remove_view(w);
			out() << "removed view " << w.path << "\n";
		}
		dm.remove(volume_);
		out() << "removed device " << dm.path(volume_)
		      << " (the snapshots stay on its tier devices)\n";
	} else if (!forget_ || !configs.load(volume_)) {
		throw Error(Exit::kNotFound, "no volume '" + volume_ + "'");
	}
	if (forget_ && configs.remove(volume_))
		out() << "forgot " << volume_ << ": it is no longer activated at boot\n";
	return 0;
}

int Commands::activate(bool up)
{
	dm::DeviceMapper &dm = env_.dm();
	ConfigStore configs(env_.config_dir);
	std::vector<std::string> names = volumes_;
	if (all_) {
		if (!names.empty())
			throw Error(Exit::kUsage, "give volumes or --all, not both");
		names = configs.names();
	} else if (names.empty()) {
		throw Error(Exit::kUsage, "name the volumes, or give --all");
	}
	int status = 0;
	for (const std::string &n : names) {
		try {
			auto c = configs.load(n);
			if (!c)
				throw Error(Exit::kNotFound, "no volume '" + n + "' in " + configs.dir() +
								     "/volumes: set it up with `snapshotctl setup`");
			if (up) {
				if (dm.info(n)) {
					out() << n << ": already active\n";
					continue;
				}
				// Only setup formats: a fast device that is zeroed
				// or holds another store is not this volume's.
				std::string uuid = env_.store_uuid(c->fast);
				if (uuid.empty())
					throw Error("fast device " + c->fast +
						    " holds no store: is it the right disk? `snapshotctl "
						    "setup` formats a new one");
				if (!c->store_uuid.empty() && uuid != c->store_uuid)
					throw Error("fast device " + c->fast + " holds store " + uuid +
						    ", not this volume's " + c->store_uuid +
						    ": is it the right disk?");
				create_volume(dm, *c, c->target(env_.device_sectors(c->origin)));
				out() << n << ": active at " << dm.path(n) << "\n";
			} else {
				if (!dm.info(n)) {
					out() << n << ": not active\n";
					continue;
				}
				volume_ = n;
				forget_ = false;
				teardown();
			}
		} catch (const Error &e) {
			*env_.err << "snapshotctl: " << n << ": " << e.what() << "\n";
			if (!status)
				status = static_cast<int>(e.code());
		}
	}
	return status;
}

int Commands::schedule()
{
	ConfigStore configs(env_.config_dir);
	check_volume_name(volume_);
	auto c = configs.load(volume_);
	std::vector<std::string> texts = keep_;
	std::string prefix = prefix_;
	if (texts.empty() && c)
		texts = c->keep;
	if (prefix.empty())
		prefix = c ? c->schedule_prefix : "auto";
	if (texts.empty())
		throw Error(Exit::kUsage, "no retention rules for " + volume_ +
						  ": give --keep EVERY:FOR (e.g. --keep 1m:1h)");
	std::vector<KeepRule> rules;
	for (const std::string &t : texts)
		rules.push_back(parse_keep_rule(t));
	check_scheduled_prefix(prefix);
	if (prefix == "rollback")
		throw Error(Exit::kUsage, "the prefix 'rollback' names rollback's safety snapshots: "
					  "choose another");
	Volume v(env_.dm(), volume_);

	auto scheduled = [&] {
		std::vector<ScheduledSnapshot> s;
		for (const Snapshot &x : v.snapshots())
			if (is_scheduled_name(prefix, x.name))
				s.push_back({x.id, x.name, x.ctime_ns});
		return s;
	};
	json j = {{"volume", volume_}, {"created", nullptr}, {"deleted", json::array()},
		  {"kept", json::array()}, {"busy", json::array()}};
	int64_t now = env_.now_ns();
	// What went wrong, reported after what was done.
	std::optional<Error> failure;
	auto prune = [&](const std::vector<ScheduledSnapshot> &snaps) {
		RetentionPlan plan = plan_retention(snaps, rules, now);
		j["kept"] = plan.keep;
		for (uint64_t id : plan.remove) {
			if (dry_run_) {
				j["deleted"].push_back(id);
				continue;
			}
			try {
				v.delete_snapshot(id);
				j["deleted"].push_back(id);
			} catch (const dm::KernelError &e) {
				if (e.error_number() == ENOENT)
					continue;	// deleted meanwhile
				if (e.error_number() == EBUSY) {
					// A view or a rollback holds it: the next run tries again.
					j["busy"].push_back(id);
					continue;
				}
				if (!failure)
					failure = Error(e.code(), "cannot delete scheduled snapshot " +
									  std::to_string(id) + ": " + e.what());
			}
		}
	};
	// Prune first: a store that is full gets room for the new snapshot.
	auto snaps = scheduled();
	prune(snaps);
	if (!no_create_ && snapshot_due(snaps, rules, now)) {
		std::string n = scheduled_name(prefix, now);
		if (dry_run_) {
			j["created"] = {{"name", n}};
		} else {
			try {
				uint64_t id = v.create_snapshot(n);
				j["created"] = {{"id", id}, {"name", n}};
				// The new one may replace one its bucket kept so far.
				prune(scheduled());
			} catch (const dm::KernelError &e) {
				try {
					explain(e, volume_, "cannot create scheduled snapshot '" + n + "'");
				} catch (const Error &x) {
					failure = x;
				}
			}
		}
	}
	if (json_) {
		out() << j.dump(2) << "\n";
	} else {
		if (!j["created"].is_null())
			out() << (dry_run_ ? "would create " : "created ") << "snapshot "
			      << j["created"]["name"].get<std::string>() << "\n";
		for (const auto &id : j["deleted"])
			out() << (dry_run_ ? "would delete " : "deleted ") << "snapshot " << id << "\n";
		for (const auto &id : j["busy"])
			out() << "kept snapshot " << id
			      << " for now: it has a view or a rollback goes to it\n";
		out() << j["kept"].size() << " scheduled snapshots kept\n";
	}
	// What was done went out first; then the error.
	if (failure)
		throw *failure;
	return 0;
}

} // namespace dynsnap::ctl

// SPDX-License-Identifier: GPL-2.0
// The commands that read data: diff, export, apply, check and dump.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

#include <csignal>
#include <cstdlib>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "ctl/commands.h"
#include "dynsnap_stream.h"
#include "image/compare.h"
#include "image/copy.h"
#include "image/stream_file.h"
#include "store/store_reader.h"
#include "store/superblock_reader.h"
#include "ui/format.h"
#include "ui/progress.h"
#include "ui/table.h"
#include "volume/volume.h"

namespace dynsnap::ctl {

using volume::kSectorSize;
using volume::Snapshot;
using volume::View;
using volume::Volume;

namespace {

using nlohmann::json;

// A view made for one command and removed when it is done, whatever
// happens.
class TemporaryView {
public:
	TemporaryView(Volume &v, const Snapshot &s, const std::string &purpose) : v_(v)
	{
		remove_stale(v);
		std::string n = v.name() + "@" + purpose + "-" + std::to_string(getpid());
		view_ = v.create_view(s, n);
	}

	// Views a killed snapshotctl left behind ("VOLUME@diff-a-PID" of a
	// process that is gone) pin their snapshots: remove them.
	static void remove_stale(Volume &v)
	{
		for (const View &w : v.views()) {
			auto dash = w.name.rfind('-');
			const std::string prefix = v.name() + "@";
			if (w.name.rfind(prefix, 0) != 0 || dash == std::string::npos || w.open_count)
				continue;
			std::string purpose = w.name.substr(prefix.size(), dash - prefix.size());
			if (purpose != "diff-a" && purpose != "diff-b" && purpose != "export" &&
			    purpose != "export-from" && purpose != "export-to")
				continue;
			char *end = nullptr;
			long pid = strtol(w.name.c_str() + dash + 1, &end, 10);
			if (*end || pid <= 0 || pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH)
				continue;
			try {
				v.remove_view(w);
			} catch (const Error &) {
			}
		}
	}
	~TemporaryView()
	{
		try {
			v_.remove_view(view_);
		} catch (const Error &e) {
			std::cerr << "snapshotctl: cannot remove temporary view " << view_.name << ": "
				  << e.what() << ": remove it with `dmsetup remove " << view_.name
				  << "`\n";
		}
	}
	TemporaryView(const TemporaryView &) = delete;
	TemporaryView &operator=(const TemporaryView &) = delete;
	const std::string &path() const { return view_.path; }

private:
	Volume &v_;
	View view_;
};

// A progress bar fed by the image functions' callbacks; a new one when
// the total changes (verification, then writes).
class Bar {
public:
	Bar(const Env &env, std::string label) : env_(env), label_(std::move(label)) {}
	image::Progress fn()
	{
		return [this](uint64_t done, uint64_t total) {
			if (!bar_ || total != total_) {
				if (bar_)
					bar_->finish();
				total_ = total;
				bar_ = std::make_unique<ui::ProgressBar>(
					label_, total, env_.progress, env_.progress_enabled && env_.progress);
			}
			bar_->update(done);
		};
	}
	void finish()
	{
		if (bar_)
			bar_->finish();
	}

private:
	const Env &env_;
	std::string label_;
	uint64_t total_ = 0;
	std::unique_ptr<ui::ProgressBar> bar_;
};

// /dev path of a "major:minor" from a table, through sysfs.
std::string device_of(const std::string &devt)
{
	std::ifstream in("/sys/dev/block/" + devt + "/uevent");
	std::string line;
	while (std::getline(in, line))
		if (line.rfind("DEVNAME=", 0) == 0)
			return "/dev/" + line.substr(8);
	return devt;
}

void fill_snap(dynsnap_ctl_snap_create &out, const Snapshot &s)
{
	out.id = s.id;
	out.epoch = s.epoch;
	out.ctime_ns = static_cast<uint64_t>(s.ctime_ns);
	out.name_len = static_cast<uint32_t>(s.name.size());
	snprintf(out.name, sizeof(out.name), "%s", s.name.c_str());
}

std::string location(const store::Problem &p)
{
	std::string l = p.tier;
	if (p.device_offset != UINT64_MAX)
		l += " byte " + std::to_string(p.device_offset);
	if (p.segment)
		l += ", segment " + std::to_string(*p.segment);
	if (p.record_seq)
		l += ", record " + std::to_string(*p.record_seq);
	return l;
}

} // namespace

void Commands::add_data_commands(CLI::App &app)
{
	CLI::App *c = app.add_subcommand("export", "Write a snapshot's image, or the changes since an older one, to a file");
	c->add_option("VOLUME", volume_, "the dynsnap volume")->required();
	c->add_option("SNAP", snap_, "snapshot id or name")->required();
	c->add_option("FILE", file_, "where to write: a new file, or a block device")->required();
	c->add_option("--since", since_,
		      "only the ranges changed since this older snapshot, as a stream for `apply`");
	c->add_flag("--overwrite", overwrite_, "replace FILE if it exists");
	c->callback([this] { action_ = [this] { return export_image(); }; });

	c = app.add_subcommand("apply", "Apply an export stream to an image of its older snapshot");
	c->add_option("FILE", file_, "a stream written by `export --since`")->required();
	c->add_option("TARGET", name_, "file or device holding the older snapshot's image")
		->required();
	c->callback([this] { action_ = [this] { return apply(); }; });

	c = app.add_subcommand("check", "Verify a store offline: every checksum, every log");
	c->add_option("DEVICES", devices_, "FAST [SLOW] tier devices or image files")
		->required()
		->expected(1, 2);
	c->add_flag("--force", force_, "read devices in use by an active volume (results may be torn)");
	c->add_flag("--json", json_, "print JSON");
	c->callback([this] { action_ = [this] { return check(false); }; });

	c = app.add_subcommand("dump", "Print a store's metadata offline, as JSON");
	c->add_option("DEVICES", devices_, "FAST [SLOW] tier devices or image files")
		->required()
		->expected(1, 2);
	c->add_flag("--records", records_, "list every record of the delta logs");
	c->add_flag("--force", force_, "read devices in use by an active volume (results may be torn)");
	c->callback([this] { action_ = [this] { return check(true); }; });
}

int Commands::diff()
{
	Volume v(env_.dm(), volume_);
	Snapshot from = v.find(snap_);
	bool live = snap2_ == "live" || snap2_ == "-";
	Snapshot to;
	if (!live)
		to = v.find(snap2_);
	if (!live && to.epoch < from.epoch)
		std::swap(from, to);
	std::vector<ByteRange> ranges = v.changed_ranges(from.id, live ? 0 : to.id);
	if (!coarse_ && !ranges.empty()) {
		// Deltas cover whole blocks or sub-blocks, and bytes written
		// with their old value: compare the data to be exact.
		Bar bar(env_, "compare");
		TemporaryView a(v, from, "diff-a");
		if (live) {
			ranges = image::compare_ranges(a.path(), v.path(), ranges, bar.fn());
		} else {
			TemporaryView b(v, to, "diff-b");
			ranges = image::compare_ranges(a.path(), b.path(), ranges, bar.fn());
		}
		bar.finish();
	}
	uint64_t total = 0;
	for (const ByteRange &r : ranges)
		total += r.length;
	if (json_) {
		json a = json::array();
		for (const ByteRange &r : ranges)
			a.push_back({{"offset", r.offset}, {"length", r.length}});
		out() << json{{"volume", volume_},
			      {"from", from.id},
			      {"to", live ? json("live") : json(to.id)},
			      {"exact", !coarse_},
			      {"bytes", total},
			      {"ranges", a}}
				 .dump(2)
		      << "\n";
		return 0;
	}
	ui::Table t({{"OFFSET", ui::Align::kRight},
		     {"LENGTH", ui::Align::kRight},
		     {"SIZE", ui::Align::kRight}});
	for (const ByteRange &r : ranges)
		t.add_row({std::to_string(r.offset), std::to_string(r.length), ui::format_bytes(r.length)});
	if (!ranges.empty())
		t.print(out());
	out() << ranges.size() << " ranges, " << ui::format_bytes(total) << " differ between snapshot "
	      << from.id << " and "
	      << (live ? std::string("the live volume") : "snapshot " + std::to_string(to.id))
	      << (coarse_ ? " (blocks or sub-blocks written; data not compared)" : "") << "\n";
	return 0;
}

// Writing over a block device needs --overwrite, and never goes to a
// dynsnap volume or view (the volume itself, by a slip of the keyboard).
static void check_destination(dm::DeviceMapper &dm, const std::string &file, bool overwrite)
{
	struct stat st;
	if (stat(file.c_str(), &st) || !S_ISBLK(st.st_mode))
		return;
	for (const std::string &n : dm.list()) {
		auto i = dm.info(n);
		if (i && i->uuid.rfind("DYNSNAP-", 0) == 0 && i->major == major(st.st_rdev) &&
		    i->minor == minor(st.st_rdev))
			throw Error(Exit::kUsage, file + " is dynsnap device " + n +
							  ": export to a file or another device");
	}
	if (!overwrite)
		throw Error(Exit::kUsage, file + " is a block device: give --overwrite to write over "
						 "what it holds");
}

int Commands::export_image()
{
	Volume v(env_.dm(), volume_);
	Snapshot s = v.find(snap_);
	check_destination(env_.dm(), file_, overwrite_);
	if (since_.empty()) {
		Bar bar(env_, "export");
		TemporaryView view(v, s, "export");
		uint64_t n = image::copy_image(view.path(), file_,
					       {.bytes = v.bytes(), .overwrite = overwrite_,
						.progress = bar.fn()});
		bar.finish();
		out() << "wrote snapshot " << s.id << " '" << s.name << "' to " << file_ << " ("
		      << ui::format_bytes(n) << ")\n";
		return 0;
	}
	Snapshot older = v.find(since_);
	if (older.epoch >= s.epoch)
		throw Error(Exit::kUsage, "--since names snapshot " + std::to_string(older.id) +
						  ", which is not older than snapshot " +
						  std::to_string(s.id) + ": swap them");
	// The stream names the store it came from.
	auto sb = store::read_superblock(device_of(v.table().fast));
	if (!sb.superblock)
		throw Error("cannot read the superblock of " + volume_ + "'s fast tier: " + sb.error);
	dynsnap_ctl_snap_create from{}, to_snap{};
	fill_snap(from, older);
	fill_snap(to_snap, s);
	dynsnap_stream_header h{};
	dynsnap_stream_header_init(&h, sb.superblock->uuid, v.bytes(),
				   v.table().block_sectors * kSectorSize, &from, &to_snap,
				   static_cast<uint64_t>(env_.now_ns()));
	// Bytes that differ exactly, so the stream carries no unchanged data.
	std::vector<ByteRange> ranges = v.changed_ranges(older.id, s.id);
	Bar bar(env_, "export");
	TemporaryView to(v, s, "export-to");
	if (!ranges.empty()) {
		TemporaryView from(v, older, "export-from");
		ranges = image::compare_ranges(from.path(), to.path(), ranges, bar.fn());
	}
	image::StreamInfo info = image::write_stream(
		to.path(), file_, h, ranges, {.overwrite = overwrite_, .progress = bar.fn()});
	bar.finish();
	out() << "wrote the changes from snapshot " << older.id << " '" << older.name << "' to "
	      << s.id << " '" << s.name << "' to " << file_ << ": " << info.extents << " extents, "
	      << ui::format_bytes(info.data_bytes) << " of data\n";
	return 0;
}

int Commands::apply()
{
	Bar bar(env_, "apply");
	image::StreamInfo info =
		image::apply_stream(file_, name_, {.verify_progress = bar.fn(), .apply_progress = bar.fn()});
	bar.finish();
	out() << "applied " << file_ << " to " << name_ << ": it now holds snapshot "
	      << info.header.to.id << " '" << info.header.to.name << "' (" << info.extents
	      << " extents, " << ui::format_bytes(info.data_bytes) << ")\n";
	return 0;
}

int Commands::check(bool dump)
{
	const std::string fast = devices_.at(0);
	const std::string slow = devices_.size() > 1 ? devices_[1] : "";
	for (const std::string &d : devices_)
		if (!force_ && store::held_exclusively(d))
			throw Error(Exit::kBusy, d + " is in use by an active volume: `snapshotctl "
						     "teardown` it first, or give --force");
	store::StoreReport r = store::read_store(fast, slow, {.records = records_});
	if (dump) {
		out() << r.dump.dump(2) << "\n";
		if (!r.store_present)
			return static_cast<int>(Exit::kNotFound);
		return r.problems.empty() ? 0 : static_cast<int>(Exit::kDamaged);
	}
	if (!r.store_present) {
		*env_.err << "snapshotctl: " << fast << " holds no dynsnap store (zeroed)\n";
		return static_cast<int>(Exit::kNotFound);
	}
	if (json_) {
		json p = json::array(), n = json::array();
		for (const auto &x : r.problems)
			p.push_back(store::to_json(x));
		for (const auto &x : r.notes)
			n.push_back(store::to_json(x));
		out() << json{{"fast", fast},
			      {"slow", slow.empty() ? json(nullptr) : json(slow)},
			      {"sound", r.problems.empty()},
			      {"problems", p},
			      {"notes", n}}
				 .dump(2)
		      << "\n";
	} else {
		for (const auto &x : r.problems)
			out() << "damaged: " << location(x) << ": " << x.what << "\n";
		for (const auto &x : r.notes)
			out() << "note: " << location(x) << ": " << x.what << "\n";
		if (r.problems.empty())
			out() << "store on " << fast << (slow.empty() ? "" : " and " + slow)
			      << " is sound: every checksum verified\n";
		else
			out() << r.problems.size() << (r.problems.size() == 1 ? " problem" : " problems")
			      << " found\n";
	}
	if (!r.problems.empty()) {
		*env_.err << "snapshotctl: " << r.problems.size()
			  << (r.problems.size() == 1 ? " problem" : " problems")
			  << " found in the store: reads that need damaged records fail "
			     "with EIO; see the administrator's guide, Crash guarantees\n";
		return static_cast<int>(Exit::kDamaged);
	}
	return 0;
}

} // namespace dynsnap::ctl

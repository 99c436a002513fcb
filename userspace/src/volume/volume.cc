// SPDX-License-Identifier: GPL-2.0
#include "volume/volume.h"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace dynsnap::volume {

namespace {

std::vector<std::string> words(const std::string &text)
{
	std::istringstream in(text);
	std::vector<std::string> out;
	std::string w;
	while (in >> w)
		out.push_back(w);
	return out;
}

std::vector<std::string> lines(const std::string &text)
{
	std::vector<std::string> out;
	std::istringstream in(text);
	std::string l;
	while (std::getline(in, l))
		if (!l.empty())
			out.push_back(l);
	return out;
}

[[noreturn]] void malformed(const std::string &what, const std::string &text)
{
	throw Error("unexpected " + what + " from the kernel: '" + text +
		    "' (is dm-dynsnap.ko of another version loaded?)");
}

bool to_u64(const std::string &s, uint64_t &v)
{
	if (s.empty())
		return false;
	auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	return ec == std::errc() && p == s.data() + s.size();
}

uint64_t u64_of(const std::string &s, const std::string &what, const std::string &text)
{
	uint64_t v;
	if (!to_u64(s, v))
		malformed(what, text);
	return v;
}

// "a/b" into two numbers.
std::pair<uint64_t, uint64_t> pair_of(const std::string &s, const std::string &what,
				      const std::string &text)
{
	auto slash = s.find('/');
	if (slash == std::string::npos)
		malformed(what, text);
	return {u64_of(s.substr(0, slash), what, text), u64_of(s.substr(slash + 1), what, text)};
}

// "secs.nanoseconds" into ns.
int64_t ctime_of(const std::string &s, const std::string &text)
{
	auto dot = s.find('.');
	if (dot == std::string::npos || s.size() - dot - 1 != 9)
		malformed("snapshot time", text);
	return static_cast<int64_t>(u64_of(s.substr(0, dot), "snapshot time", text) *
					    1000000000ULL +
				    u64_of(s.substr(dot + 1), "snapshot time", text));
}

} // namespace

std::string VolumeTable::params() const
{
	std::string p = origin + " " + fast + " " + slow + " " + std::to_string(block_sectors);
	if (!features.empty()) {
		p += " " + std::to_string(features.size() * 2);
		for (const auto &[k, v] : features)
			p += " " + k + " " + v;
	}
	return p;
}

std::optional<std::string> VolumeTable::feature(const std::string &name) const
{
	for (const auto &[k, v] : features)
		if (k == name)
			return v;
	return std::nullopt;
}

std::vector<Snapshot> parse_snap_list(const std::string &text)
{
	std::vector<Snapshot> out;
	for (const std::string &l : lines(text)) {
		auto w = words(l);
		if (w.size() != 5)
			malformed("snapshot list line", l);
		Snapshot s;
		s.id = u64_of(w[0], "snapshot id", l);
		s.name = w[1];
		s.ctime_ns = ctime_of(w[2], l);
		s.exclusive_bytes = u64_of(w[3], "snapshot size", l);
		s.epoch = static_cast<uint32_t>(u64_of(w[4], "snapshot epoch", l));
		out.push_back(std::move(s));
	}
	return out;
}

VolumeStatus parse_status(const std::string &params)
{
	auto w = words(params);
	if (w.size() < 13)
		malformed("status line", params);
	VolumeStatus s;
	s.mode = w[0];
	s.snapshots = u64_of(w[1], "status", params);
	std::tie(s.fast_used, s.fast_total) = pair_of(w[2], "status", params);
	std::tie(s.slow_used, s.slow_total) = pair_of(w[3], "status", params);
	s.delta_records = u64_of(w[4], "status", params);
	s.checksum_errors = u64_of(w[5], "status", params);
	s.generation = u64_of(w[6], "status", params);
	s.epoch = u64_of(w[7], "status", params);
	auto s1 = w[8].find('/'), s2 = w[8].rfind('/');
	if (s1 == std::string::npos || s1 == s2)
		malformed("status line", params);
	s.regions[0] = u64_of(w[8].substr(0, s1), "status", params);
	s.regions[1] = u64_of(w[8].substr(s1 + 1, s2 - s1 - 1), "status", params);
	s.regions[2] = u64_of(w[8].substr(s2 + 1), "status", params);
	s.space = w[9];
	s.space_events = u64_of(w[10], "status", params);
	s.delta_bytes = u64_of(w[11], "status", params);
	if (w[12] != "-") {
		// <id>:<state>:<done>/<total>
		auto c1 = w[12].find(':'), c2 = w[12].rfind(':');
		if (c1 == std::string::npos || c1 == c2)
			malformed("rollback status", params);
		s.rollback.asked = true;
		s.rollback.id = u64_of(w[12].substr(0, c1), "rollback status", params);
		s.rollback.state = w[12].substr(c1 + 1, c2 - c1 - 1);
		std::tie(s.rollback.done, s.rollback.total) =
			pair_of(w[12].substr(c2 + 1), "rollback status", params);
	}
	return s;
}

VolumeTable parse_table(const dm::Target &target)
{
	auto w = words(target.params);
	if (target.type != kTargetType || w.size() < 4)
		malformed("table", target.params);
	VolumeTable t;
	t.length = target.length;
	t.origin = w[0];
	t.fast = w[1];
	t.slow = w[2];
	t.block_sectors = static_cast<uint32_t>(u64_of(w[3], "table", target.params));
	if (w.size() > 4) {
		uint64_t n = u64_of(w[4], "table", target.params);
		if (n % 2 || n != w.size() - 5)
			malformed("table", target.params);
		for (size_t i = 5; i < w.size(); i += 2)
			t.features.emplace_back(w[i], w[i + 1]);
	}
	return t;
}

std::optional<ViewTable> parse_view(const dm::Target &target)
{
	if (target.type != kViewTargetType)
		return std::nullopt;
	auto w = words(target.params);
	uint64_t id;
	if (w.size() != 2 || !to_u64(w[1], id))
		return std::nullopt;
	return ViewTable{w[0], id};
}

DiffPage parse_diff_page(const std::string &text)
{
	DiffPage page;
	bool ended = false;
	for (const std::string &l : lines(text)) {
		auto w = words(l);
		if (ended)
			malformed("snap_diff answer", text);
		if (w.size() == 1 && w[0] == "end") {
			ended = true;
		} else if (w.size() == 2 && w[0] == "next") {
			page.next_sector = u64_of(w[1], "snap_diff answer", l);
			ended = true;
		} else if (w.size() == 2) {
			uint64_t start = u64_of(w[0], "snap_diff answer", l);
			uint64_t len = u64_of(w[1], "snap_diff answer", l);
			page.ranges.push_back({start * kSectorSize, len * kSectorSize});
		} else {
			malformed("snap_diff answer", l);
		}
	}
	if (!ended)
		malformed("snap_diff answer (no end)", text);
	return page;
}

RegionPage parse_region_page(const std::string &text)
{
	RegionPage page;
	bool ended = false;
	for (const std::string &l : lines(text)) {
		auto w = words(l);
		if (ended)
			malformed("region_map answer", text);
		if (w.size() == 1 && w[0] == "end") {
			ended = true;
		} else if (w.size() == 2 && w[0] == "next") {
			page.next_region = static_cast<uint32_t>(u64_of(w[1], "region_map answer", l));
			ended = true;
		} else if (w.size() == 6) {
			RegionInfo r;
			r.region = static_cast<uint32_t>(u64_of(w[0], "region_map answer", l));
			r.level = w[1];
			r.next_level = w[2];
			r.delta_records = u64_of(w[3], "region_map answer", l);
			r.delta_bytes = u64_of(w[4], "region_map answer", l);
			r.records_this_epoch = u64_of(w[5], "region_map answer", l);
			page.regions.push_back(std::move(r));
		} else {
			malformed("region_map answer", l);
		}
	}
	if (!ended)
		malformed("region_map answer (no end)", text);
	return page;
}

Volume::Volume(dm::DeviceMapper &dm, std::string name) : dm_(dm), name_(std::move(name))
{
	auto info = dm_.info(name_);
	if (!info)
		throw Error(Exit::kNotFound, "no volume '" + name_ +
					     "': see `snapshotctl status` for the volumes there are");
	info_ = *info;
	auto t = dm_.table(name_);
	if (t.size() != 1 || t[0].type != kTargetType)
		throw Error(Exit::kUsage, "'" + name_ + "' is not a dynsnap volume");
	table_ = parse_table(t[0]);
}

std::string Volume::devt() const
{
	return std::to_string(info_.major) + ":" + std::to_string(info_.minor);
}

VolumeStatus Volume::status() const
{
	auto s = dm_.status(name_);
	if (s.size() != 1 || s[0].type != kTargetType)
		throw Error("'" + name_ + "' is no longer a dynsnap volume");
	return parse_status(s[0].params);
}

std::vector<Snapshot> Volume::snapshots() const
{
	return parse_snap_list(dm_.message(name_, "snap_list"));
}

Snapshot Volume::find(const std::string &ref) const
{
	auto snaps = snapshots();
	uint64_t id;
	const Snapshot *by_id = nullptr, *by_name = nullptr;
	for (const Snapshot &s : snaps) {
		if (to_u64(ref, id) && s.id == id)
			by_id = &s;
		if (s.name == ref)
			by_name = &s;
	}
	if (by_id && by_name && by_id != by_name)
		throw Error(Exit::kUsage, "'" + ref + "' is the id of snapshot '" + by_id->name +
						  "' and the name of snapshot " +
						  std::to_string(by_name->id) + ": give the id of the one you mean");
	if (by_id)
		return *by_id;
	if (by_name)
		return *by_name;
	throw Error(Exit::kNotFound, "volume " + name_ + " has no snapshot '" + ref +
				     "': `snapshotctl list " + name_ + "` shows them");
}

uint64_t Volume::create_snapshot(const std::string &name)
{
	std::string out = dm_.message(name_, "snap_create " + name);
	uint64_t id;
	auto w = words(out);
	if (w.size() != 1 || !to_u64(w[0], id))
		malformed("snap_create answer", out);
	return id;
}

void Volume::delete_snapshot(uint64_t id)
{
	dm_.message(name_, "snap_delete " + std::to_string(id));
}

void Volume::rollback(uint64_t id)
{
	dm_.message(name_, "rollback " + std::to_string(id));
}

void Volume::set_granularity(const std::string &level, uint32_t first, uint32_t count)
{
	dm_.message(name_, "set_granularity " + level + " " + std::to_string(first) + " " +
				   std::to_string(count));
}

std::vector<ByteRange> Volume::changed_ranges(uint64_t from, uint64_t to) const
{
	std::vector<ByteRange> out;
	uint64_t sector = 0;
	for (;;) {
		std::string msg = "snap_diff " + std::to_string(from) + " " +
				  (to ? std::to_string(to) : std::string("-")) + " " +
				  std::to_string(sector);
		DiffPage page = parse_diff_page(dm_.message(name_, msg));
		for (const ByteRange &r : page.ranges) {
			if (r.offset < sector * kSectorSize ||
			    (!out.empty() && r.offset < out.back().end()) || !r.length ||
			    r.end() > bytes())
				throw Error("snap_diff answered ranges out of order or outside the "
					    "volume: is dm-dynsnap.ko of another version loaded?");
			// Pages may split a run: join it again.
			if (!out.empty() && out.back().offset + out.back().length == r.offset)
				out.back().length += r.length;
			else
				out.push_back(r);
		}
		if (!page.next_sector)
			break;
		if (*page.next_sector <= sector ||
		    (!out.empty() && *page.next_sector * kSectorSize < out.back().end()))
			throw Error("snap_diff makes no progress at sector " + std::to_string(sector));
		sector = *page.next_sector;
	}
	return out;
}

std::vector<RegionInfo> Volume::region_map() const
{
	std::vector<RegionInfo> out;
	uint32_t region = 0;
	for (;;) {
		RegionPage page = parse_region_page(
			dm_.message(name_, "region_map " + std::to_string(region)));
		out.insert(out.end(), page.regions.begin(), page.regions.end());
		if (!page.next_region)
			break;
		if (*page.next_region <= region)
			throw Error("region_map makes no progress at region " +
				    std::to_string(region));
		region = *page.next_region;
	}
	return out;
}

std::vector<View> Volume::views() const
{
	std::vector<View> out;
	const std::string mine = devt();
	const std::string my_path = path();
	for (const std::string &n : dm_.list()) {
		std::vector<dm::Target> t;
		try {
			t = dm_.table(n);
		} catch (const Error &) {
			continue;	// gone meanwhile
		}
		if (t.size() != 1)
			continue;
		auto v = parse_view(t[0]);
		if (!v || (v->volume_dev != mine && v->volume_dev != my_path))
			continue;
		auto i = dm_.info(n);
		out.push_back({n, dm_.path(n), v->snapshot_id, i ? i->open_count : 0});
	}
	std::sort(out.begin(), out.end(),
		  [](const View &a, const View &b) { return a.name < b.name; });
	return out;
}

std::string Volume::default_view_name(const Snapshot &snap) const
{
	return name_ + "@" + snap.name;
}

View Volume::create_view(const Snapshot &snap, const std::string &view_name)
{
	if (dm_.info(view_name))
		throw Error(Exit::kBusy, "a device named " + view_name +
					 " exists: give another with --name");
	dm::Target t{0, table_.length, kViewTargetType, devt() + " " + std::to_string(snap.id)};
	// The uuid marks the device as ours for udev rules and other tools.
	std::string uuid = "DYNSNAP-VIEW-" + view_name;
	// Hidden from udev's disk rules: its filesystem has the volume's
	// UUID, and /dev/disk/by-uuid must keep naming the volume.
	dm_.create(view_name, uuid.size() < 128 ? uuid : "", {t}, true, true);
	return {view_name, dm_.path(view_name), snap.id, 0};
}

void Volume::remove_view(const View &view)
{
	dm_.remove(view.name);
}

std::vector<std::string> Volume::list(dm::DeviceMapper &dm)
{
	std::vector<std::string> out;
	for (const std::string &n : dm.list()) {
		try {
			auto t = dm.table(n);
			if (t.size() == 1 && t[0].type == kTargetType)
				out.push_back(n);
		} catch (const Error &) {
		}
	}
	std::sort(out.begin(), out.end());
	return out;
}

} // namespace dynsnap::volume

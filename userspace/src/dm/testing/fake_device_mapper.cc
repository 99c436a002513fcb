// SPDX-License-Identifier: GPL-2.0
#include "dm/testing/fake_device_mapper.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "dynsnap_names.h"

namespace dynsnap::dm::testing {

namespace {

std::vector<std::string> split(const std::string &text)
{
	std::istringstream in(text);
	std::vector<std::string> w;
	std::string s;
	while (in >> s)
		w.push_back(s);
	return w;
}

[[noreturn]] void refuse(int err, const std::string &what)
{
	throw KernelError(err, what + ": " + strerror(err));
}

bool valid_snapshot_name(const std::string &n)
{
	if (n.empty() || n.size() > 64 || n[0] == '-')
		return false;
	for (char c : n)
		if (!isalnum(static_cast<unsigned char>(c)) && !strchr("._:@+-", c))
			return false;
	return true;
}

} // namespace

FakeDeviceMapper::Device &FakeDeviceMapper::add_volume(const std::string &name, uint64_t sectors,
						       uint32_t regions, const std::string &slow)
{
	Device &d = add_plain(name, "dynsnap");
	d.table = {{0, sectors, "dynsnap", "252:0 259:0 " + slow + " 128"}};
	d.region_levels.assign(regions, "sub");
	return d;
}

FakeDeviceMapper::Device &FakeDeviceMapper::add_plain(const std::string &name,
						      const std::string &type)
{
	Device &d = devices_[name];
	d.info.name = name;
	d.info.major = 253;
	d.info.minor = next_minor_++;
	d.info.live_table = true;
	d.table = {{0, 2048, type, "8:0 0"}};
	return d;
}

void FakeDeviceMapper::fail_next(const std::string &op, int err, const std::string &match)
{
	failures_.push_back({op, match, err});
}

void FakeDeviceMapper::maybe_fail(const std::string &op, const std::string &text)
{
	for (auto it = failures_.begin(); it != failures_.end(); ++it) {
		if (it->op == op && text.find(it->match) != std::string::npos) {
			int err = it->err;
			failures_.erase(it);
			refuse(err, op + " " + text);
		}
	}
}

std::vector<std::string> FakeDeviceMapper::list()
{
	maybe_fail("list", "");
	std::vector<std::string> out;
	for (const auto &[n, d] : devices_)
		out.push_back(n);
	return out;
}

std::optional<DeviceInfo> FakeDeviceMapper::info(const std::string &name)
{
	maybe_fail("info", name);
	auto it = devices_.find(name);
	if (it == devices_.end())
		return std::nullopt;
	return it->second.info;
}

std::vector<Target> FakeDeviceMapper::table(const std::string &name)
{
	maybe_fail("table", name);
	auto it = devices_.find(name);
	if (it == devices_.end())
		refuse(ENXIO, "table " + name);
	return it->second.table;
}

std::vector<Target> FakeDeviceMapper::status(const std::string &name)
{
	maybe_fail("status", name);
	auto it = devices_.find(name);
	if (it == devices_.end())
		refuse(ENXIO, "status " + name);
	Device &d = it->second;
	Target t = d.table.at(0);
	if (t.type != "dynsnap") {
		t.params = "";
		return {t};
	}
	if (d.rollback != "-" && d.rollback_done < d.rollback_total) {
		// Each look at the status finds the rollback further on.
		d.rollback_done = std::min(d.rollback_total, d.rollback_done + 3);
		if (d.rollback_done == d.rollback_total)
			d.rollback = d.rollback.substr(0, d.rollback.find(':')) + ":done";
	}
	uint64_t levels[DYNSNAP_LEVEL__COUNT] = {};
	for (const std::string &l : d.region_levels) {
		uint32_t level = 0;
		dynsnap_level_parse(l.data(), l.size(), &level);
		levels[level]++;
	}
	std::ostringstream s;
	s << d.mode << " " << d.snaps.size() << " 16384/81920 8192/40960 " << d.writes.size()
	  << " 0 " << 10 + d.next_id << " " << d.epoch << " " << levels[0] << "/" << levels[1]
	  << "/" << levels[2] << " ok 0 " << d.writes.size() * 4160 << " ";
	if (d.rollback == "-")
		s << "-";
	else
		s << d.rollback << ":" << d.rollback_done << "/" << d.rollback_total;
	t.params = s.str();
	return {t};
}

FakeDeviceMapper::Device &FakeDeviceMapper::volume_of_view(const Target &t)
{
	std::string dev = split(t.params).at(0);
	for (auto &[n, d] : devices_) {
		std::string devt = std::to_string(d.info.major) + ":" + std::to_string(d.info.minor);
		if (devt == dev || path(n) == dev)
			return d;
	}
	refuse(EINVAL, "view of " + dev);
}

std::string FakeDeviceMapper::answer(Device &d, const std::string &name,
				     const std::vector<std::string> &w)
{
	const std::string &m = w.at(0);
	auto views_of = [&](uint64_t id) {
		for (auto &[n, v] : devices_)
			if (v.table.at(0).type == "dynsnap-view" && &volume_of_view(v.table[0]) == &d &&
			    std::stoull(split(v.table[0].params).at(1)) == id)
				return true;
		return false;
	};
	auto find = [&](const std::string &id) -> FakeSnapshot * {
		for (auto &s : d.snaps)
			if (std::to_string(s.id) == id)
				return &s;
		return nullptr;
	};
	if (m == "snap_list" && w.size() == 1) {
		std::ostringstream o;
		for (const auto &s : d.snaps) {
			char t[32];
			snprintf(t, sizeof(t), "%lld.%09lld", static_cast<long long>(s.ctime_ns / 1000000000),
				 static_cast<long long>(s.ctime_ns % 1000000000));
			o << s.id << " " << s.name << " " << t << " " << s.exclusive_bytes << " "
			  << s.epoch << "\n";
		}
		return o.str();
	}
	if (d.mode != "write" && m != "snap_diff" && m != "region_map")
		refuse(EROFS, name + ": " + m);
	if (m == "snap_create" && w.size() == 2) {
		if (!valid_snapshot_name(w[1]))
			refuse(EINVAL, name + ": snap_create");
		for (const auto &s : d.snaps)
			if (s.name == w[1])
				refuse(EEXIST, name + ": snap_create");
		// A snapshot's epoch is the first whose writes it does not see.
		d.epoch++;
		d.snaps.push_back({d.next_id, w[1], now_ns_, 0, d.epoch});
		return std::to_string(d.next_id++);
	}
	if (m == "snap_delete" && w.size() == 2) {
		auto *s = find(w[1]);
		if (!s)
			refuse(ENOENT, name + ": snap_delete");
		if (views_of(s->id))
			refuse(EBUSY, name + ": snap_delete");
		d.snaps.erase(d.snaps.begin() + (s - d.snaps.data()));
		return "";
	}
	if (m == "rollback" && w.size() == 2) {
		if (d.info.open_count)
			refuse(EBUSY, name + ": rollback");
		auto *s = find(w[1]);
		if (!s)
			refuse(ENOENT, name + ": rollback");
		d.rollback = w[1] + ":running";
		d.rollback_done = 0;
		d.rollback_total = 10;
		return "";
	}
	if (m == "set_granularity" && w.size() == 4) {
		uint32_t first = std::stoul(w[2]), count = std::stoul(w[3]), level;
		if (dynsnap_level_parse(w[1].data(), w[1].size(), &level) != DSN_OK)
			refuse(EINVAL, name + ": set_granularity");
		if (!count || first + count > d.region_levels.size())
			refuse(ERANGE, name + ": set_granularity");
		for (uint32_t i = first; i < first + count; i++)
			d.region_levels[i] = w[1];
		return "";
	}
	if (m == "snap_diff" && w.size() == 4) {
		auto *from = find(w[1]);
		auto *to = w[2] == "-" ? nullptr : find(w[2]);
		if (!from || (w[2] != "-" && !to))
			refuse(ENOENT, name + ": snap_diff");
		uint32_t lo = from->epoch, hi = to ? to->epoch : UINT32_MAX;
		if (lo > hi)
			std::swap(lo, hi);
		uint64_t first = std::stoull(w[3]);
		std::vector<std::pair<uint64_t, uint64_t>> runs;
		for (const Write &wr : d.writes) {
			if (wr.epoch < lo || wr.epoch >= hi || wr.sector + wr.sectors <= first)
				continue;
			uint64_t s = std::max(wr.sector, first);
			runs.push_back({s, wr.sector + wr.sectors - s});
		}
		std::sort(runs.begin(), runs.end());
		std::vector<std::pair<uint64_t, uint64_t>> merged;
		for (auto r : runs) {
			if (!merged.empty() && merged.back().first + merged.back().second >= r.first)
				merged.back().second = std::max(merged.back().first + merged.back().second,
								r.first + r.second) -
						       merged.back().first;
			else
				merged.push_back(r);
		}
		std::ostringstream o;
		for (size_t i = 0; i < merged.size(); i++) {
			if (i == page_lines_) {
				o << "next " << merged[i].first << "\n";
				return o.str();
			}
			o << merged[i].first << " " << merged[i].second << "\n";
		}
		o << "end\n";
		return o.str();
	}
	if (m == "region_map" && w.size() == 2) {
		std::ostringstream o;
		size_t n = 0;
		for (size_t r = std::stoul(w[1]); r < d.region_levels.size(); r++, n++) {
			if (n == page_lines_) {
				o << "next " << r << "\n";
				return o.str();
			}
			uint64_t recs = 0;
			for (const Write &wr : d.writes)
				if (wr.sector / 8192 == r)
					recs++;
			o << r << " " << d.region_levels[r] << " " << d.region_levels[r] << " " << recs
			  << " " << recs * 4160 << " 0\n";
		}
		o << "end\n";
		return o.str();
	}
	refuse(EINVAL, name + ": " + m);
}

std::string FakeDeviceMapper::message(const std::string &name, const std::string &text)
{
	messages_.push_back(name + ": " + text);
	maybe_fail("message", text);
	auto it = devices_.find(name);
	if (it == devices_.end())
		refuse(ENXIO, "message " + name);
	auto w = split(text);
	if (w.empty() || it->second.table.at(0).type != "dynsnap")
		refuse(EINVAL, name + ": " + text);
	return answer(it->second, name, w);
}

void FakeDeviceMapper::create(const std::string &name, const std::string &uuid,
			      const std::vector<Target> &table, bool read_only, bool hidden)
{
	(void)hidden;
	maybe_fail("create", name);
	if (devices_.count(name))
		refuse(EBUSY, "create " + name);
	if (table.size() != 1)
		refuse(EINVAL, "create " + name);
	if (table[0].type == "dynsnap-view") {
		Device &vol = volume_of_view(table[0]);
		std::string id = split(table[0].params).at(1);
		bool found = false;
		for (const auto &s : vol.snaps)
			found |= std::to_string(s.id) == id;
		if (!found)
			refuse(ENOENT, "create " + name);
	}
	Device &d = add_plain(name, table[0].type);
	d.info.uuid = uuid;
	d.info.read_only = read_only;
	d.table = table;
	if (table[0].type == "dynsnap") {
		uint64_t regions = (table[0].length + 8191) / 8192;
		d.region_levels.assign(regions, "sub");
	}
}

void FakeDeviceMapper::remove(const std::string &name)
{
	maybe_fail("remove", name);
	auto it = devices_.find(name);
	if (it == devices_.end())
		refuse(ENXIO, "remove " + name);
	if (it->second.info.open_count)
		refuse(EBUSY, "remove " + name);
	devices_.erase(it);
}

} // namespace dynsnap::dm::testing

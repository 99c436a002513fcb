// SPDX-License-Identifier: GPL-2.0
// An in-memory device-mapper for unit tests of the commands: dynsnap
// volumes answer their messages the way the administrator's guide says the
// kernel does (snapshots, views, rollback progress, paged diff and region
// map answers), and any operation can be made to fail with an errno.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "dm/device_mapper.h"

namespace dynsnap::dm::testing {

class FakeDeviceMapper : public DeviceMapper {
public:
	struct Write {
		uint32_t epoch;
		uint64_t sector, sectors;
	};
	struct FakeSnapshot {
		uint64_t id;
		std::string name;
		int64_t ctime_ns;
		uint64_t exclusive_bytes;
		uint32_t epoch;
	};
	struct Device {
		DeviceInfo info;
		std::vector<Target> table;
		// dynsnap volumes only:
		std::vector<FakeSnapshot> snaps;
		uint32_t epoch = 1;
		uint64_t next_id = 1;
		std::vector<Write> writes;	// what snap_diff reports
		std::vector<std::string> region_levels;	// per region
		std::string mode = "write";
		std::string rollback = "-";
		uint64_t rollback_total = 0, rollback_done = 0;
	};

	// Add a dynsnap volume of @sectors with @regions regions.
	Device &add_volume(const std::string &name, uint64_t sectors = 131072,
			   uint32_t regions = 16, const std::string &slow = "252:32");
	Device &add_plain(const std::string &name, const std::string &type = "linear");
	Device &device(const std::string &name) { return devices_.at(name); }
	bool exists(const std::string &name) const { return devices_.count(name); }

	// The next operation named @op ("message", "create", "remove",
	// "status", "table", "info", "list") whose text contains @match fails
	// with @err.
	void fail_next(const std::string &op, int err, const std::string &match = "");
	// Answers are cut into pages of this many lines, as a small result
	// buffer would.
	void set_page_lines(size_t n) { page_lines_ = n; }
	void set_time_ns(int64_t ns) { now_ns_ = ns; }
	// Every message sent, as "<device>: <text>".
	const std::vector<std::string> &messages() const { return messages_; }

	std::vector<std::string> list() override;
	std::optional<DeviceInfo> info(const std::string &name) override;
	std::vector<Target> table(const std::string &name) override;
	std::vector<Target> status(const std::string &name) override;
	std::string message(const std::string &name, const std::string &text) override;
	void create(const std::string &name, const std::string &uuid,
		    const std::vector<Target> &table, bool read_only, bool hidden = false) override;
	void remove(const std::string &name) override;
	std::string path(const std::string &name) const override { return "/dev/mapper/" + name; }

private:
	void maybe_fail(const std::string &op, const std::string &text);
	Device &volume_of_view(const Target &t);
	std::string answer(Device &d, const std::string &name, const std::vector<std::string> &w);

	std::map<std::string, Device> devices_;
	struct Failure {
		std::string op, match;
		int err;
	};
	std::vector<Failure> failures_;
	std::vector<std::string> messages_;
	size_t page_lines_ = 1000;
	int64_t now_ns_ = 1700000000LL * 1000000000LL;
	uint32_t next_minor_ = 0;
};

} // namespace dynsnap::dm::testing

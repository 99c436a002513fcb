// SPDX-License-Identifier: GPL-2.0
// A dynsnap volume as the kernel shows it: its table, status line,
// snapshots, views and the answers of its messages, parsed from the
// formats the administrator's guide documents.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dm/device_mapper.h"
#include "util/byte_range.h"

namespace dynsnap::volume {

inline constexpr const char *kTargetType = "dynsnap";
inline constexpr const char *kViewTargetType = "dynsnap-view";
inline constexpr uint64_t kSectorSize = 512;

struct Snapshot {
	uint64_t id = 0;
	std::string name;
	int64_t ctime_ns = 0;
	uint64_t exclusive_bytes = 0;
	uint32_t epoch = 0;
};

struct RollbackStatus {
	bool asked = false;	// "-": none since the store was activated
	uint64_t id = 0;
	std::string state;	// running, paused, done, failed
	uint64_t done = 0, total = 0;	// blocks
};

// `dmsetup status` of a dynsnap device, field by field.
struct VolumeStatus {
	std::string mode;
	uint64_t snapshots = 0;
	uint64_t fast_used = 0, fast_total = 0;	// sectors
	uint64_t slow_used = 0, slow_total = 0;
	uint64_t delta_records = 0;
	uint64_t checksum_errors = 0;
	uint64_t generation = 0;
	uint64_t epoch = 0;
	uint64_t regions[3] = {};	// block, sub, bit
	std::string space;
	uint64_t space_events = 0;
	uint64_t delta_bytes = 0;
	RollbackStatus rollback;
};

// The table line of a dynsnap device.
struct VolumeTable {
	uint64_t length = 0;	// sectors
	std::string origin, fast, slow;	// slow "-" when none
	uint32_t block_sectors = 0;
	std::vector<std::pair<std::string, std::string>> features;

	std::string params() const;
	std::optional<std::string> feature(const std::string &name) const;
};

struct ViewTable {
	std::string volume_dev;	// as given: major:minor or a path
	uint64_t snapshot_id = 0;
};

// One region of the granularity map (region_map message).
struct RegionInfo {
	uint32_t region = 0;
	std::string level, next_level;
	uint64_t delta_records = 0;
	uint64_t delta_bytes = 0;
	uint64_t records_this_epoch = 0;
};

// Parsers: each throws Error naming what it could not read.
std::vector<Snapshot> parse_snap_list(const std::string &text);
VolumeStatus parse_status(const std::string &params);
VolumeTable parse_table(const dm::Target &target);
std::optional<ViewTable> parse_view(const dm::Target &target);

// One page of a paged answer ("... end" or "... next N").
struct DiffPage {
	std::vector<ByteRange> ranges;
	std::optional<uint64_t> next_sector;
};
DiffPage parse_diff_page(const std::string &text);
struct RegionPage {
	std::vector<RegionInfo> regions;
	std::optional<uint32_t> next_region;
};
RegionPage parse_region_page(const std::string &text);

// A view device of one of this volume's snapshots.
struct View {
	std::string name;
	std::string path;
	uint64_t snapshot_id = 0;
	int32_t open_count = 0;
};

class Volume {
public:
	// Throws Error(kNotFound) when there is no such device, and
	// Error(kUsage) when it is not a dynsnap device.
	Volume(dm::DeviceMapper &dm, std::string name);

	const std::string &name() const { return name_; }
	const dm::DeviceInfo &info() const { return info_; }
	const VolumeTable &table() const { return table_; }
	std::string path() const { return dm_.path(name_); }
	std::string devt() const;	// "major:minor"
	uint64_t bytes() const { return table_.length * kSectorSize; }

	VolumeStatus status() const;
	std::vector<Snapshot> snapshots() const;
	// A snapshot by id or by name: a number names an id first. Throws
	// Error(kNotFound) that says how to list them.
	Snapshot find(const std::string &ref) const;
	uint64_t create_snapshot(const std::string &name);
	void delete_snapshot(uint64_t id);
	void rollback(uint64_t id);
	void set_granularity(const std::string &level, uint32_t first, uint32_t count);

	// Candidate ranges that differ between two snapshots (@to 0: the live
	// volume): every range a delta between them covers.
	std::vector<ByteRange> changed_ranges(uint64_t from, uint64_t to) const;
	std::vector<RegionInfo> region_map() const;

	std::vector<View> views() const;
	// Map a snapshot as a read-only device; returns it.
	View create_view(const Snapshot &snap, const std::string &view_name);
	void remove_view(const View &view);
	std::string default_view_name(const Snapshot &snap) const;

	// The dynsnap devices there are.
	static std::vector<std::string> list(dm::DeviceMapper &dm);

private:
	dm::DeviceMapper &dm_;
	std::string name_;
	dm::DeviceInfo info_;
	VolumeTable table_;
};

} // namespace dynsnap::volume

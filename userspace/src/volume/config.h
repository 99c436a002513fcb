// SPDX-License-Identifier: GPL-2.0
// Volumes set up with `snapshotctl setup`, kept one JSON file each in
// <config_dir>/volumes/<name>.json, so `snapshotctl activate --all` can
// bring them back at boot and `schedule` knows their retention.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "dm/device_mapper.h"

namespace dynsnap::volume {

inline constexpr const char *kDefaultConfigDir = "/etc/dynsnap";

struct VolumeConfig {
	std::string name;
	std::string origin, fast, slow;	// slow empty: none
	uint64_t length_sectors = 0;	// the volume's length, fixed at setup
	uint32_t block_sectors = 128;
	uint32_t sub_block_sectors = 0;	// 0: the target's default
	uint32_t region_sectors = 0;	// 0: the target's default
	std::string granularity;	// empty: the target's default
	std::string on_full;		// empty: the target's default
	std::vector<std::string> keep;	// retention rules for `schedule`
	std::string schedule_prefix = "auto";
	// The store on the fast device, recorded by setup: activate refuses a
	// fast device that holds no store or another one, so a renamed disk
	// is never formatted.
	std::string store_uuid;

	nlohmann::json to_json() const;
	static VolumeConfig from_json(const nlohmann::json &j, const std::string &name);

	// The table line for an origin of @origin_sectors: the volume keeps
	// the length it was set up with (the store is bound to it), or is the
	// origin rounded down to whole blocks when that is not known.
	dm::Target target(uint64_t origin_sectors) const;
};

// Volume names become device-mapper names and file names.
void check_volume_name(const std::string &name);

class ConfigStore {
public:
	explicit ConfigStore(std::string dir) : dir_(std::move(dir)) {}
	const std::string &dir() const { return dir_; }
	std::vector<std::string> names() const;
	std::optional<VolumeConfig> load(const std::string &name) const;
	void save(const VolumeConfig &config) const;
	// True when there was one to remove.
	bool remove(const std::string &name) const;

private:
	std::string file(const std::string &name) const;
	std::string dir_;
};

} // namespace dynsnap::volume

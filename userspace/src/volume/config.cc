// SPDX-License-Identifier: GPL-2.0
#include "volume/config.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace dynsnap::volume {

namespace fs = std::filesystem;

nlohmann::json VolumeConfig::to_json() const
{
	nlohmann::json j = {{"origin", origin}, {"fast", fast}, {"block_sectors", block_sectors}};
	if (length_sectors)
		j["length_sectors"] = length_sectors;
	if (!slow.empty())
		j["slow"] = slow;
	if (sub_block_sectors)
		j["sub_block_sectors"] = sub_block_sectors;
	if (region_sectors)
		j["region_sectors"] = region_sectors;
	if (!granularity.empty())
		j["granularity"] = granularity;
	if (!on_full.empty())
		j["on_full"] = on_full;
	if (!keep.empty())
		j["keep"] = keep;
	j["schedule_prefix"] = schedule_prefix;
	if (!store_uuid.empty())
		j["store_uuid"] = store_uuid;
	return j;
}

VolumeConfig VolumeConfig::from_json(const nlohmann::json &j, const std::string &name)
{
	VolumeConfig c;
	c.name = name;
	try {
		c.origin = j.at("origin").get<std::string>();
		c.fast = j.at("fast").get<std::string>();
		c.slow = j.value("slow", std::string());
		c.block_sectors = j.at("block_sectors").get<uint32_t>();
		c.length_sectors = j.value("length_sectors", uint64_t(0));
		c.sub_block_sectors = j.value("sub_block_sectors", 0U);
		c.region_sectors = j.value("region_sectors", 0U);
		c.granularity = j.value("granularity", std::string());
		c.on_full = j.value("on_full", std::string());
		c.keep = j.value("keep", std::vector<std::string>());
		c.schedule_prefix = j.value("schedule_prefix", std::string("auto"));
		c.store_uuid = j.value("store_uuid", std::string());
	} catch (const nlohmann::json::exception &e) {
		throw Error("configuration of volume " + name + " is invalid (" + e.what() +
			    "): fix or remove it");
	}
	return c;
}

dm::Target VolumeConfig::target(uint64_t origin_sectors) const
{
	if (!block_sectors || block_sectors & (block_sectors - 1))
		throw Error("configuration of volume " + name + " has an invalid block size");
	uint64_t len = origin_sectors / block_sectors * block_sectors;
	if (!len)
		throw Error(Exit::kUsage, "origin " + origin + " is smaller than one block");
	if (length_sectors) {
		if (length_sectors > origin_sectors)
			throw Error("origin " + origin + " of volume " + name +
				    " is smaller than when it was set up: check the device");
		len = length_sectors;
	}
	std::string p = origin + " " + fast + " " + (slow.empty() ? "-" : slow) + " " +
			std::to_string(block_sectors);
	std::vector<std::string> f;
	auto add = [&](const char *k, const std::string &v) {
		f.push_back(k);
		f.push_back(v);
	};
	if (sub_block_sectors)
		add("sub_block_sectors", std::to_string(sub_block_sectors));
	if (region_sectors)
		add("region_sectors", std::to_string(region_sectors));
	if (!granularity.empty())
		add("granularity", granularity);
	if (!on_full.empty())
		add("on_full", on_full);
	if (!f.empty()) {
		p += " " + std::to_string(f.size());
		for (const std::string &w : f)
			p += " " + w;
	}
	return {0, len, "dynsnap", p};
}

void check_volume_name(const std::string &name)
{
	bool ok = !name.empty() && name.size() <= 100 && name[0] != '-' && name[0] != '.';
	for (char c : name)
		ok = ok && (isalnum(static_cast<unsigned char>(c)) || strchr("._+-", c));
	if (!ok)
		throw Error(Exit::kUsage, "invalid volume name '" + name +
						  "': use 1 to 100 of A-Z a-z 0-9 . _ + -, "
						  "not starting with - or .");
}

std::string ConfigStore::file(const std::string &name) const
{
	check_volume_name(name);
	return dir_ + "/volumes/" + name + ".json";
}

std::vector<std::string> ConfigStore::names() const
{
	std::vector<std::string> out;
	std::error_code ec;
	for (const auto &e : fs::directory_iterator(dir_ + "/volumes", ec)) {
		if (e.path().extension() == ".json")
			out.push_back(e.path().stem().string());
	}
	std::sort(out.begin(), out.end());
	return out;
}

std::optional<VolumeConfig> ConfigStore::load(const std::string &name) const
{
	std::ifstream in(file(name));
	if (!in)
		return std::nullopt;
	nlohmann::json j;
	try {
		in >> j;
	} catch (const nlohmann::json::exception &e) {
		throw Error("cannot read " + file(name) + ": " + e.what() + ": fix or remove it");
	}
	return VolumeConfig::from_json(j, name);
}

void ConfigStore::save(const VolumeConfig &config) const
{
	std::string path = file(config.name);
	std::error_code ec;
	fs::create_directories(dir_ + "/volumes", ec);
	if (ec)
		throw Error("cannot create " + dir_ + "/volumes: " + ec.message());
	// Write a new file and rename it over the old one: a crash leaves
	// one or the other, never half of one.
	std::string tmp = path + ".new";
	{
		std::ofstream out(tmp, std::ios::trunc);
		out << config.to_json().dump(2) << "\n";
		out.flush();
		if (!out)
			throw Error("cannot write " + tmp + ": " + strerror(errno));
	}
	int fd = open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	if (rename(tmp.c_str(), path.c_str()))
		throw Error("cannot write " + path + ": " + strerror(errno));
}

bool ConfigStore::remove(const std::string &name) const
{
	std::error_code ec;
	return fs::remove(file(name), ec);
}

} // namespace dynsnap::volume

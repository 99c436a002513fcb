// SPDX-License-Identifier: GPL-2.0
// dynsnap-dump: print the superblocks of a dynsnap store's tier devices,
// offline, validated by the same code the kernel module uses.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "store/superblock_reader.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitDamaged = 1;
constexpr int kExitUsage = 2;
constexpr int kExitNoStore = 3;

using dynsnap::store::SuperblockState;

} // namespace

int main(int argc, char **argv)
{
	CLI::App app{"Print and validate the superblocks of a dynsnap store.\n"
		     "Give the fast device, and the slow device if the store has one."};
	app.footer("Exit status: 0 every superblock valid (and, with two devices, of one store);\n"
		   "1 a superblock is damaged, unreadable or belongs to another store;\n"
		   "2 bad arguments; 3 a device holds no store (zeroed superblock).");
	std::vector<std::string> devices;
	bool json = false;
	app.add_option("devices", devices, "FAST [SLOW] device or image file")
		->required()
		->expected(1, 2);
	app.add_flag("--json", json, "print JSON instead of text");
	try {
		app.parse(argc, argv);
	} catch (const CLI::CallForHelp &e) {
		return app.exit(e);
	} catch (const CLI::ParseError &e) {
		std::cerr << "dynsnap-dump: " << e.what()
			  << " (try --help)\n";
		return kExitUsage;
	}

	int status = kExitOk;
	std::vector<dynsnap::store::SuperblockReadResult> results;
	nlohmann::json out = nlohmann::json::array();

	for (const std::string &dev : devices) {
		auto r = dynsnap::store::read_superblock(dev);
		nlohmann::json entry = {{"device", dev},
					{"state", state_name(r.state)}};
		if (r.superblock)
			entry["superblock"] = dynsnap::store::to_json(*r.superblock);
		if (!r.error.empty())
			entry["error"] = r.error;
		if (r.state == SuperblockState::kZeroed && status == kExitOk)
			status = kExitNoStore;
		else if (r.state == SuperblockState::kInvalid ||
			 r.state == SuperblockState::kUnreadable)
			status = kExitDamaged;
		out.push_back(entry);
		results.push_back(std::move(r));
	}

	if (results.size() == 2 && results[0].superblock && results[1].superblock) {
		dynsnap_err e = dynsnap_sb_same_store(&*results[0].superblock,
						      &*results[1].superblock);
		if (e != DSN_OK) {
			out[1]["state"] = "invalid";
			out[1]["error"] = dynsnap_strerror(e);
			status = kExitDamaged;
		}
	}

	if (json) {
		std::cout << out.dump(2) << "\n";
	} else {
		for (const auto &entry : out) {
			std::cout << entry["device"].get<std::string>() << ": "
				  << entry["state"].get<std::string>();
			if (entry.contains("error"))
				std::cout << ": " << entry["error"].get<std::string>();
			std::cout << "\n";
			if (!entry.contains("superblock"))
				continue;
			for (const auto &[key, value] : entry["superblock"].items())
				std::cout << "  " << key << " "
					  << (value.is_string() ? value.get<std::string>()
								: value.dump())
					  << "\n";
		}
	}
	for (const auto &entry : out)
		if (entry.contains("error"))
			std::cerr << "dynsnap-dump: " << entry["device"].get<std::string>()
				  << ": " << entry["error"].get<std::string>() << "\n";
	return status;
}

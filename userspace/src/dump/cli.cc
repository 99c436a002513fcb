// SPDX-License-Identifier: GPL-2.0
#include "dump/cli.h"

#include <new>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "store/superblock_reader.h"
#include "util/error.h"

namespace dynsnap::dump {

namespace {

using nlohmann::json;
using store::SuperblockReadResult;

constexpr const char *kFooter =
	"Exit status: 0 valid: every superblock, and with two devices of one store;\n"
	"1 failed: a device or file cannot be read; 2 bad arguments;\n"
	"3 no such device or file, or no store on it (zeroed);\n"
	"5 damaged: a superblock refused, too short, or of another store.\n"
	"See dynsnap-dump(8).";

struct Device {
	std::string path;
	SuperblockReadResult sb;
	std::optional<Error> error;	// what keeps it from being used
};

// Two valid superblocks: are they the fast and the slow one of one store?
// When not, the device at fault is invalid: the one with the wrong tier,
// else the slow device.
void check_same_store(Device &fast, Device &slow)
{
	dynsnap_err e = dynsnap_sb_same_store(&*fast.sb.superblock, &*slow.sb.superblock);
	if (e == DSN_OK)
		return;
	bool fast_wrong = e == DSN_ERR_SB_TIER && fast.sb.superblock->tier != DYNSNAP_TIER_FAST;
	Device &at = fast_wrong ? fast : slow;
	std::string why = dynsnap_strerror(e);
	if (e != DSN_ERR_SB_TIER)
		why += " (the fast device is " + fast.path + ")";
	else if (fast_wrong)
		why += ": given as the fast device, it holds the slow tier";
	else
		why += ": given as the slow device, it holds the fast tier";
	at.sb.state = store::SuperblockState::kInvalid;
	at.sb.error = why;
	at.error = Error(Exit::kDamaged, at.path + ": " + why);
}

void print_text(std::ostream &out, const json &devices)
{
	for (const auto &entry : devices) {
		out << entry["device"].get<std::string>() << ": " << entry["state"].get<std::string>();
		if (entry.contains("error"))
			out << ": " << entry["error"].get<std::string>();
		out << "\n";
		if (!entry.contains("superblock"))
			continue;
		for (const auto &[key, value] : entry["superblock"].items())
			out << "  " << key << " "
			    << (value.is_string() ? value.get<std::string>() : value.dump()) << "\n";
	}
}

void report(std::ostream &err, const Error &e)
{
	err << "dynsnap-dump: " << e.what() << "\n";
}

// Parse @argv and dump; returns the status of success or of the first
// device that failed, after printing every failure. Throws Error for a
// failure of the run as a whole (bad arguments).
int dump(int argc, const char *const *argv, std::ostream &out, std::ostream &err)
{
	CLI::App app{"Print and validate the superblocks of a dynsnap store.\n"
		     "Give the fast device, and the slow device if the store has one.",
		     "dynsnap-dump"};
	app.footer(kFooter);
	std::string fast, slow;
	bool as_json = false;
	app.add_option("FAST", fast, "fast tier device or image file")->required();
	app.add_option("SLOW", slow, "slow tier device or image file, if the store has one");
	app.add_flag("--json", as_json, "print JSON instead of text");
	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		if (e.get_exit_code() == 0) {	// --help
			std::ostringstream help, none;
			app.exit(e, help, none);
			out << help.str();
			return static_cast<int>(Exit::kOk);
		}
		throw Error(Exit::kUsage, std::string(e.what()) + " (try dynsnap-dump --help)");
	}

	std::vector<Device> devices;
	for (const std::string &path : {fast, slow}) {
		if (path.empty())
			continue;
		Device d{path, store::read_superblock(path), std::nullopt};
		d.error = store::superblock_error(path, d.sb);
		devices.push_back(std::move(d));
	}
	if (devices.size() == 2 && !devices[0].error && !devices[1].error)
		check_same_store(devices[0], devices[1]);

	json entries = json::array();
	for (const Device &d : devices) {
		json entry = {{"device", d.path}, {"state", store::state_name(d.sb.state)}};
		if (d.sb.superblock)
			entry["superblock"] = store::to_json(*d.sb.superblock);
		if (!d.sb.error.empty())
			entry["error"] = d.sb.error;
		entries.push_back(entry);
	}
	if (as_json)
		out << entries.dump(2) << "\n";
	else
		print_text(out, entries);

	std::optional<Exit> status;
	for (const Device &d : devices) {
		if (!d.error)
			continue;
		report(err, *d.error);
		if (!status)
			status = d.error->code();
	}
	return static_cast<int>(status.value_or(Exit::kOk));
}

} // namespace

int run(int argc, const char *const *argv, std::ostream &out, std::ostream &err)
{
	try {
		return dump(argc, argv, out, err);
	} catch (const Error &e) {
		report(err, e);
		return static_cast<int>(e.code());
	} catch (const std::bad_alloc &) {
		report(err, Error(Exit::kFailed, "out of memory"));
		return static_cast<int>(Exit::kFailed);
	} catch (const std::exception &e) {
		report(err, Error(Exit::kFailed, e.what()));
		return static_cast<int>(Exit::kFailed);
	}
}

} // namespace dynsnap::dump

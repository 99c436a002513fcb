// SPDX-License-Identifier: GPL-2.0
// dsn-volatile-cut: the power cut of a disk served by the dsnvolatile
// nbdkit plugin, once its nbdkit is dead: decide which cached writes
// reached the medium, apply them, empty the journal.
//
//   dsn-volatile-cut --medium DEV --journal FILE --keep none|all|random|torn
//                    --seed N [--mark NAME:FIRST-END]...
//
// none: every cached write is lost; all: every one is kept; random: each
// is kept or lost whole; torn: each 512-byte sector of each is kept or
// lost. FUA writes are always kept. Prints one line of JSON: entries,
// durable, kept, lost, torn, torn_tail, and with --mark, "marks": for each
// named byte range, the entries that overlap it and how many of them were
// lost (whole or in part). Exit 0, 1 on errors, 2 on usage
// errors.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include "volatile_disk.h"

int main(int argc, char **argv)
{
	namespace vd = dynsnap::volatile_disk;
	CLI::App app{"Apply a power cut to a disk with a volatile write cache"};
	std::string medium, journal, keep;
	uint64_t seed = 0;
	app.add_option("--medium", medium, "durable medium (block device or file)")->required();
	app.add_option("--journal", journal, "the cache's journal")->required();
	app.add_option("--keep", keep, "what of the cache survives: none, all, random, torn")
		->required();
	app.add_option("--seed", seed, "seed of the random choices")->required();
	std::vector<std::string> mark_texts;
	app.add_option("--mark", mark_texts,
		       "NAME:FIRST-END, a byte range whose writes the report counts apart");
	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		return app.exit(e) ? 2 : 0;
	}

	vd::CutPolicy policy;
	if (!vd::parse_cut_policy(keep, &policy)) {
		std::fprintf(stderr, "dsn-volatile-cut: --keep must be none, all, random or torn\n");
		return 2;
	}
	std::vector<vd::Mark> marks;
	for (const std::string &t : mark_texts) {
		vd::Mark m;
		if (!vd::parse_mark(t, &m)) {
			std::fprintf(stderr, "dsn-volatile-cut: --mark must be NAME:FIRST-END in bytes, "
					     "FIRST below END, not '%s'\n",
				     t.c_str());
			return 2;
		}
		marks.push_back(m);
	}
	vd::CutReport r;
	std::string error;
	if (!vd::apply_power_cut(medium, journal, policy, seed, &r, &error, marks)) {
		std::fprintf(stderr, "dsn-volatile-cut: %s\n", error.c_str());
		return 1;
	}
	nlohmann::json j{{"entries", r.entries}, {"durable", r.durable}, {"kept", r.kept},
			 {"lost", r.lost},	 {"torn", r.torn},	 {"torn_tail", r.torn_tail}};
	for (size_t k = 0; k < marks.size(); k++)
		j["marks"][marks[k].name] = {{"entries", r.marks[k].entries},
					     {"lost", r.marks[k].lost}};
	std::cout << j.dump() << "\n";
	return 0;
}

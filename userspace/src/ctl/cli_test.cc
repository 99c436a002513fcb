// SPDX-License-Identifier: GPL-2.0
// snapshotctl's commands against the fake device-mapper: arguments, exit
// statuses, messages, and the text and JSON they print.
#include "ctl/cli.h"

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dm/testing/fake_device_mapper.h"

namespace dynsnap::ctl {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class Cli : public ::testing::Test {
protected:
	void SetUp() override
	{
		char tmpl[] = "/tmp/snapshotctl-test-XXXXXX";
		ASSERT_NE(mkdtemp(tmpl), nullptr);
		dir_ = tmpl;
		dm_.add_volume("vol");
		env_.dm = [this]() -> dm::DeviceMapper & { return dm_; };
		env_.out = &out_;
		env_.err = &err_;
		env_.in = &in_;
		env_.progress = nullptr;
		env_.config_dir = dir_ + "/etc";
		env_.now_ns = [this] { return now_; };
		env_.sleep_ms = [](int) {};
		env_.store_uuid = [this](const std::string &p) -> std::string {
			return stores_.count(p) ? stores_[p] : "";
		};
		env_.device_sectors = [](const std::string &p) -> uint64_t {
			if (p.find("missing") != std::string::npos)
				throw Error(Exit::kNotFound, "cannot open " + p);
			return 1000000;
		};
	}
	void TearDown() override { fs::remove_all(dir_); }

	int run(std::vector<std::string> args)
	{
		out_.str("");
		err_.str("");
		args.insert(args.begin(), "snapshotctl");
		std::vector<const char *> argv;
		for (const auto &a : args)
			argv.push_back(a.c_str());
		return ::dynsnap::ctl::run(static_cast<int>(argv.size()), argv.data(), env_);
	}
	json out_json() { return json::parse(out_.str()); }
	std::string out() { return out_.str(); }
	std::string err() { return err_.str(); }

	dm::testing::FakeDeviceMapper dm_;
	std::ostringstream out_, err_;
	std::istringstream in_;
	Env env_;
	std::string dir_;
	int64_t now_ = 1700000000LL * 1000000000LL;
	std::map<std::string, std::string> stores_;	// fast device -> store UUID
};

TEST_F(Cli, UsageErrors)
{
	EXPECT_EQ(run({}), 2);
	EXPECT_NE(err().find("snapshotctl"), std::string::npos);
	EXPECT_EQ(run({"frobnicate"}), 2);
	EXPECT_EQ(err().find("snapshotctl::"), std::string::npos) << err();
	EXPECT_EQ(run({"create", "vol"}), 2);
	EXPECT_NE(err().find("NAME"), std::string::npos) << err();
	EXPECT_NE(err().find("--help"), std::string::npos) << err();
	EXPECT_EQ(run({"list", "vol", "--bogus"}), 2);
	EXPECT_EQ(run({"setup", "v2", "--origin", "/dev/a", "--fast", "/dev/b", "--granularity", "fine"}), 2);
	// Each usage error is one line.
	std::string e = err();
	EXPECT_EQ(std::count(e.begin(), e.end(), '\n'), 1) << e;
}

TEST_F(Cli, HelpForEveryCommand)
{
	EXPECT_EQ(run({"--help"}), 0);
	EXPECT_NE(out().find("rollback"), std::string::npos);
	EXPECT_NE(out().find("Exit status"), std::string::npos);
	for (const char *c : {"create", "list", "show", "delete", "view", "unview", "rollback", "diff",
			      "status", "map", "setup", "teardown", "activate", "deactivate", "schedule"}) {
		EXPECT_EQ(run({c, "--help"}), 0) << c;
		EXPECT_NE(out().find(c), std::string::npos) << c << ": " << out();
	}
	EXPECT_EQ(run({"--version"}), 0);
	EXPECT_NE(out().find("snapshotctl"), std::string::npos);
}

TEST_F(Cli, CreateAndList)
{
	EXPECT_EQ(run({"create", "vol", "before-upgrade"}), 0);
	EXPECT_EQ(out(), "created snapshot 1 'before-upgrade' of vol\n");
	now_ += 90LL * 1000000000;
	EXPECT_EQ(run({"create", "vol", "second", "--json"}), 0);
	EXPECT_EQ(out_json()["id"], 2);
	EXPECT_EQ(out_json()["name"], "second");
	EXPECT_EQ(run({"list", "vol"}), 0);
	std::string o = out();
	EXPECT_NE(o.find("ID"), std::string::npos);
	EXPECT_NE(o.find("before-upgrade"), std::string::npos);
	EXPECT_NE(o.find("1m"), std::string::npos) << o;	// age of the first
	EXPECT_EQ(run({"list", "vol", "--json"}), 0);
	json j = out_json();
	ASSERT_EQ(j.size(), 2u);
	EXPECT_EQ(j[0]["id"], 1);
	EXPECT_EQ(j[0]["name"], "before-upgrade");
	EXPECT_EQ(j[0]["ctime_ns"], 1700000000LL * 1000000000LL);
	EXPECT_EQ(j[0]["created"], "2023-11-14T22:13:20.000000000Z");
	EXPECT_TRUE(j[0]["views"].empty());
}

TEST_F(Cli, CreateErrors)
{
	EXPECT_EQ(run({"create", "vol", "bad/name"}), 2);
	EXPECT_NE(err().find("invalid snapshot name"), std::string::npos);
	EXPECT_EQ(run({"create", "vol", "-dash"}), 2);
	EXPECT_EQ(run({"create", "vol", "x", "--freeze", dir_}), 2);	// not on the volume
	EXPECT_NE(err().find("not a filesystem on volume vol"), std::string::npos) << err();
	EXPECT_EQ(run({"create", "vol", "x", "--freeze", dir_ + "/nope"}), 3);
	EXPECT_EQ(run({"create", "nosuch", "a"}), 3);
	EXPECT_NE(err().find("no volume 'nosuch'"), std::string::npos);
	EXPECT_EQ(run({"create", "vol", "a"}), 0);
	EXPECT_EQ(run({"create", "vol", "a"}), 1);
	EXPECT_NE(err().find("exists"), std::string::npos);
	dm_.fail_next("message", ENOSPC, "snap_create");
	EXPECT_EQ(run({"create", "vol", "b"}), 1);
	EXPECT_NE(err().find("full"), std::string::npos);
	dm_.device("vol").mode = "read-only";
	EXPECT_EQ(run({"create", "vol", "c"}), 1);
	EXPECT_NE(err().find("read-only"), std::string::npos);
}

TEST_F(Cli, ShowAndDelete)
{
	run({"create", "vol", "a"});
	run({"create", "vol", "b"});
	dm_.device("vol").writes = {{2, 0, 8}, {2, 64, 8}};
	EXPECT_EQ(run({"show", "vol", "a", "--json"}), 0);
	EXPECT_EQ(out_json()["changed_since_bytes"], 16 * 512);
	EXPECT_EQ(run({"show", "vol", "b"}), 0);
	EXPECT_NE(out().find("snapshot 2 'b' of vol"), std::string::npos);
	// A typo deletes nothing.
	EXPECT_EQ(run({"delete", "vol", "a", "nope"}), 3);
	EXPECT_EQ(dm_.device("vol").snaps.size(), 2u);
	EXPECT_EQ(run({"delete", "vol", "a", "2"}), 0);
	EXPECT_EQ(out(), "deleted snapshot 1 'a'\ndeleted snapshot 2 'b'\n");
	EXPECT_TRUE(dm_.device("vol").snaps.empty());
}

TEST_F(Cli, Views)
{
	run({"create", "vol", "s"});
	EXPECT_EQ(run({"view", "vol", "s"}), 0);
	EXPECT_EQ(out(), "/dev/mapper/vol@s\n");
	EXPECT_EQ(run({"view", "vol", "s"}), 0);	// already there: same path
	EXPECT_EQ(out(), "/dev/mapper/vol@s\n");
	EXPECT_EQ(run({"view", "vol", "1", "--name", "old", "--json"}), 0);
	EXPECT_EQ(out_json()["path"], "/dev/mapper/old");
	EXPECT_EQ(run({"list", "vol", "--json"}), 0);
	EXPECT_EQ(out_json()[0]["views"].size(), 2u);
	EXPECT_EQ(run({"delete", "vol", "s"}), 4);
	EXPECT_NE(err().find("unview"), std::string::npos);
	dm_.device("old").info.open_count = 1;
	EXPECT_EQ(run({"unview", "vol", "s"}), 4);
	EXPECT_NE(err().find("unmount"), std::string::npos);
	dm_.device("old").info.open_count = 0;
	EXPECT_EQ(run({"unview", "vol"}), 2);
	EXPECT_EQ(run({"unview", "vol", "s", "--all"}), 2);
	EXPECT_EQ(run({"unview", "vol", "s"}), 0);
	EXPECT_FALSE(dm_.exists("old"));
	EXPECT_FALSE(dm_.exists("vol@s"));
	EXPECT_EQ(run({"delete", "vol", "s"}), 0);
}

TEST_F(Cli, Rollback)
{
	run({"create", "vol", "good"});
	dm_.device("vol").info.open_count = 1;
	EXPECT_EQ(run({"rollback", "vol", "good", "--yes"}), 4);
	EXPECT_NE(err().find("unmount"), std::string::npos);
	dm_.device("vol").info.open_count = 0;
	// Not a terminal and no --yes: refuse, change nothing.
	EXPECT_EQ(run({"rollback", "vol", "good"}), 2);
	EXPECT_NE(err().find("--yes"), std::string::npos);
	env_.interactive = true;
	in_.str("n\n");
	EXPECT_EQ(run({"rollback", "vol", "good"}), 6);
	EXPECT_EQ(dm_.device("vol").snaps.size(), 1u);
	EXPECT_EQ(dm_.device("vol").rollback, "-");
	in_.clear();
	in_.str("y\n");
	EXPECT_EQ(run({"rollback", "vol", "good"}), 0);
	EXPECT_NE(out().find("safety snapshot 2"), std::string::npos) << out();
	EXPECT_NE(out().find("rolled vol back to snapshot 1 'good': 10 blocks"), std::string::npos)
		<< out();
	EXPECT_EQ(dm_.device("vol").snaps.size(), 2u);
	EXPECT_EQ(run({"rollback", "vol", "nope", "--yes"}), 3);
	// Refused by the kernel: the safety snapshot goes again.
	dm_.fail_next("message", EALREADY, "rollback");
	EXPECT_EQ(run({"rollback", "vol", "good", "--yes"}), 4);
	EXPECT_EQ(dm_.device("vol").snaps.size(), 2u);
	EXPECT_EQ(run({"rollback", "vol", "good", "--yes", "--no-safety-snapshot", "--no-wait"}), 0);
	EXPECT_EQ(dm_.device("vol").snaps.size(), 2u);
	EXPECT_NE(out().find("started"), std::string::npos);
	// Running: teardown would cut it off half done.
	dm_.device("vol").rollback_total = 1000000;
	EXPECT_EQ(run({"teardown", "vol"}), 4);
	EXPECT_NE(err().find("--force"), std::string::npos) << err();
	EXPECT_TRUE(dm_.exists("vol"));
	EXPECT_EQ(run({"teardown", "vol", "--force"}), 0);
}

TEST_F(Cli, StatusOfOneVolume)
{
	run({"create", "vol", "s"});
	run({"view", "vol", "s"});
	EXPECT_EQ(run({"status", "vol", "--json"}), 0);
	json j = out_json();
	EXPECT_EQ(j["mode"], "write");
	EXPECT_EQ(j["snapshots"], 1);
	EXPECT_EQ(j["epoch"], 2);
	EXPECT_EQ(j["bytes"], 131072 * 512);
	EXPECT_EQ(j["block_bytes"], 65536);
	EXPECT_EQ(j["fast_total_bytes"], 81920ULL * 512);
	EXPECT_EQ(j["regions"]["sub"], 16);
	EXPECT_EQ(j["space"], "ok");
	EXPECT_TRUE(j["rollback"].is_null());
	ASSERT_EQ(j["views"].size(), 1u);
	EXPECT_EQ(run({"status", "vol"}), 0);
	EXPECT_NE(out().find("snapshots:       1"), std::string::npos) << out();
	EXPECT_NE(out().find("/dev/mapper/vol@s"), std::string::npos);
	EXPECT_EQ(run({"status", "nosuch"}), 3);
}

TEST_F(Cli, SetupTeardownActivate)
{
	stores_["/dev/nvme0n1"] = "8d6f0a4e-0000-4000-8000-000000000001";	// formatted by the load
	EXPECT_EQ(run({"setup", "db", "--origin", "/dev/vdb", "--fast", "/dev/nvme0n1", "--slow",
		       "/dev/vdc", "--block-size", "64K", "--sub-block-size", "8K", "--granularity",
		       "bit", "--keep", "1m:1h"}),
		  0);
	ASSERT_TRUE(dm_.exists("db"));
	const auto &t = dm_.device("db").table.at(0);
	EXPECT_EQ(t.length, 1000000u / 128 * 128);	// whole blocks of the origin
	EXPECT_EQ(t.params,
		  "/dev/vdb /dev/nvme0n1 /dev/vdc 128 4 sub_block_sectors 16 granularity bit");
	EXPECT_EQ(dm_.device("db").info.uuid, "DYNSNAP-db");
	// The volume keeps its length when the origin grows.
	{
		std::ifstream in(dir_ + "/etc/volumes/db.json");
		EXPECT_EQ(json::parse(in)["length_sectors"], 1000000u / 128 * 128);
	}
	EXPECT_TRUE(fs::exists(dir_ + "/etc/volumes/db.json"));
	EXPECT_EQ(run({"status"}), 0);
	EXPECT_NE(out().find("db"), std::string::npos);
	// The name is taken now.
	EXPECT_EQ(run({"setup", "db", "--origin", "/dev/x", "--fast", "/dev/y"}), 4);
	EXPECT_EQ(run({"teardown", "db"}), 0);
	EXPECT_FALSE(dm_.exists("db"));
	EXPECT_EQ(run({"status", "--json"}), 0);
	json j = out_json();
	bool inactive = false;
	for (const auto &v : j)
		inactive |= v["volume"] == "db" && v["state"] == "inactive";
	EXPECT_TRUE(inactive) << j.dump();
	env_.device_sectors = [](const std::string &) -> uint64_t { return 2000000; };
	// The fast device is another disk now: activate refuses to format it.
	stores_.erase("/dev/nvme0n1");
	EXPECT_EQ(run({"activate", "--all"}), 1);
	EXPECT_NE(err().find("holds no store"), std::string::npos) << err();
	stores_["/dev/nvme0n1"] = "11111111-0000-4000-8000-000000000002";
	EXPECT_EQ(run({"activate", "db"}), 1);
	EXPECT_NE(err().find("not this volume's"), std::string::npos) << err();
	EXPECT_FALSE(dm_.exists("db"));
	stores_["/dev/nvme0n1"] = "8d6f0a4e-0000-4000-8000-000000000001";
	EXPECT_EQ(run({"activate", "--all"}), 0);
	EXPECT_EQ(dm_.device("db").table.at(0).length, 1000000u / 128 * 128);
	EXPECT_EQ(dm_.device("db").table.at(0).params,
		  "/dev/vdb /dev/nvme0n1 /dev/vdc 128 4 sub_block_sectors 16 granularity bit");
	EXPECT_EQ(run({"activate", "db"}), 0);
	EXPECT_NE(out().find("already active"), std::string::npos);
	EXPECT_EQ(run({"deactivate", "--all"}), 0);
	EXPECT_FALSE(dm_.exists("db"));
	EXPECT_EQ(run({"teardown", "db", "--forget"}), 0);
	EXPECT_FALSE(fs::exists(dir_ + "/etc/volumes/db.json"));
	EXPECT_EQ(run({"activate", "db"}), 3);
}

TEST_F(Cli, SetupErrors)
{
	EXPECT_EQ(run({"setup", "bad/name", "--origin", "/dev/a", "--fast", "/dev/b"}), 2);
	EXPECT_EQ(run({"setup", "v", "--origin", "/dev/a", "--fast", "/dev/b", "--block-size", "3x"}), 2);
	EXPECT_EQ(run({"setup", "v", "--origin", "/dev/a", "--fast", "/dev/b", "--block-size", "100"}), 2);
	EXPECT_EQ(run({"setup", "v", "--origin", "/dev/a", "--fast", "/dev/b", "--block-size", "3K"}), 2);
	EXPECT_NE(err().find("power of two"), std::string::npos);
	EXPECT_EQ(run({"setup", "v", "--origin", "/dev/a", "--fast", "/dev/b", "--block-size", "2M"}), 2);
	EXPECT_EQ(run({"setup", "v", "--origin", "/dev/a", "--fast", "/dev/b", "--sub-block-size", "128K"}), 2);
	EXPECT_EQ(run({"setup", "v", "--origin", "/dev/a", "--fast", "/dev/b", "--region-size", "32K"}), 2);
	EXPECT_EQ(run({"setup", "v", "--origin", "/dev/missing", "--fast", "/dev/b"}), 3);
	EXPECT_EQ(run({"setup", "v", "--origin", "/dev/a", "--fast", "/dev/b", "--keep", "1h:1m"}), 2);
	dm_.fail_next("create", EINVAL, "v");
	EXPECT_EQ(run({"setup", "v", "--origin", "/dev/a", "--fast", "/dev/b"}), 1);
	EXPECT_NE(err().find("administrator's guide"), std::string::npos) << err();
	// Nothing is remembered of a volume that could not be set up.
	EXPECT_FALSE(fs::exists(dir_ + "/etc/volumes/v.json"));
}

TEST_F(Cli, DamagedConfiguration)
{
	fs::create_directories(dir_ + "/etc/volumes");
	for (const char *text : {"{not json", "{\"origin\": 5}", "[]"}) {
		std::ofstream(dir_ + "/etc/volumes/bad.json") << text;
		EXPECT_EQ(run({"activate", "bad"}), 1) << text;
		EXPECT_NE(err().find("fix or remove it"), std::string::npos) << err();
		EXPECT_FALSE(dm_.exists("bad"));
	}
	// One damaged file does not keep the others down.
	stores_["/dev/b"] = "0f0f0f0f-0000-4000-8000-000000000003";
	EXPECT_EQ(run({"setup", "good", "--origin", "/dev/a", "--fast", "/dev/b"}), 0);
	EXPECT_EQ(run({"teardown", "good"}), 0);
	EXPECT_EQ(run({"activate", "--all"}), 1);
	EXPECT_NE(err().find("bad"), std::string::npos);
	EXPECT_TRUE(dm_.exists("good"));
}

TEST_F(Cli, Schedule)
{
	EXPECT_EQ(run({"schedule", "vol"}), 2);	// no rules anywhere
	run({"create", "vol", "manual"});
	for (int i = 0; i < 30; i++) {
		dm_.set_time_ns(now_);
		EXPECT_EQ(run({"schedule", "vol", "--keep", "1s:5s", "--keep", "10s:30s"}), 0) << err();
		now_ += 1000000000LL;
	}
	auto &snaps = dm_.device("vol").snaps;
	// The manual one is never touched.
	EXPECT_EQ(snaps.front().name, "manual");
	size_t scheduled = snaps.size() - 1;
	EXPECT_GE(scheduled, 6u);
	EXPECT_LE(scheduled, 10u);
	EXPECT_EQ(run({"schedule", "vol", "--keep", "1s:5s", "--dry-run", "--json"}), 0);
	json j = out_json();
	EXPECT_FALSE(j["created"].is_null());
	EXPECT_EQ(snaps.size() - 1, scheduled);	// dry run changed nothing
	EXPECT_EQ(run({"schedule", "vol", "--keep", "1x:5s"}), 2);
}

TEST_F(Cli, MapAndDiff)
{
	run({"create", "vol", "a"});
	dm_.device("vol").writes = {{2, 0, 8}, {2, 64, 8}, {2, 8192 * 3, 8}};
	run({"create", "vol", "b"});
	EXPECT_EQ(run({"map", "vol", "--json"}), 0);
	json j = out_json();
	ASSERT_EQ(j["regions"].size(), 16u);
	EXPECT_EQ(j["regions"][0]["delta_records"], 2);
	EXPECT_EQ(j["regions"][0]["heat"], 9);
	EXPECT_EQ(j["regions"][1]["heat"], 0);
	EXPECT_EQ(j["regions"][3]["offset"], 8192 * 3 * 512);
	std::string svg = dir_ + "/map.svg";
	EXPECT_EQ(run({"map", "vol", "--width", "40", "--svg", svg}), 0);
	EXPECT_NE(out().find("SSSSSSSSSSSSSSSS"), std::string::npos) << out();
	std::ifstream in(svg);
	std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	EXPECT_NE(text.find("<svg"), std::string::npos);
	EXPECT_NE(text.find("region 3: sub, 1 deltas"), std::string::npos);
	EXPECT_EQ(run({"diff", "vol", "a", "b", "--coarse", "--json"}), 0);
	j = out_json();
	ASSERT_EQ(j["ranges"].size(), 3u);
	EXPECT_EQ(j["ranges"][1]["offset"], 64 * 512);
	EXPECT_EQ(j["bytes"], 24 * 512);
	EXPECT_EQ(run({"diff", "vol", "b", "live", "--coarse"}), 0);
	EXPECT_NE(out().find("0 ranges"), std::string::npos);
	// A killed run left a temporary view; the next one that makes one
	// removes it (no process has pid 2^22 + 1: above pid_max's limit).
	dm_.create("vol@export-4194305", "", {{0, 8, "dynsnap-view", "253:0 1"}}, true);
	dm_.create("vol@mine-4194305", "", {{0, 8, "dynsnap-view", "253:0 1"}}, true);
	EXPECT_NE(run({"diff", "vol", "a", "b"}), 0);	// compares real devices: none here
	EXPECT_FALSE(dm_.exists("vol@export-4194305"));
	EXPECT_TRUE(dm_.exists("vol@mine-4194305"));	// not a temporary view
}

} // namespace
} // namespace dynsnap::ctl

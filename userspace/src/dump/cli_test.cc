// SPDX-License-Identifier: GPL-2.0
// dynsnap-dump on image files: the superblocks it prints, and for each
// failure its exit status and its one line on stderr naming the file.
#include "dump/cli.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dynsnap_format.h"
#include "util/error.h"

namespace dynsnap::dump {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

constexpr uint64_t kVolume = 131072;	// sectors: 64 MiB
constexpr uint64_t kFast = 65536;
constexpr uint64_t kSlow = 262144;

// The superblock of @tier of a store with a slow tier, encoded.
Bytes superblock(dynsnap_tier tier, uint8_t uuid0 = 0xd5)
{
	dynsnap_geometry g{128, 0, 0};
	dynsnap_geometry_defaults(&g);
	dynsnap_layout l;
	EXPECT_EQ(dynsnap_layout_compute(&g, kVolume, kFast, kSlow, &l), DSN_OK);
	uint8_t uuid[DYNSNAP_UUID_SIZE] = {uuid0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
	dynsnap_superblock sb;
	dynsnap_sb_init(&sb, tier, uuid, kVolume, &g, &l, 1700000000);
	Bytes buf(DYNSNAP_SB_SIZE);
	dynsnap_sb_encode(&sb, buf.data());
	return buf;
}

class Dump : public ::testing::Test {
protected:
	void SetUp() override
	{
		char tmpl[] = "/tmp/dynsnap-dump-test-XXXXXX";
		ASSERT_NE(mkdtemp(tmpl), nullptr);
		dir_ = tmpl;
	}
	void TearDown() override { fs::remove_all(dir_); }

	std::string file(const std::string &name, const Bytes &bytes)
	{
		std::string path = dir_ + "/" + name;
		std::ofstream f(path, std::ios::binary);
		f.write(reinterpret_cast<const char *>(bytes.data()),
			static_cast<std::streamsize>(bytes.size()));
		return path;
	}
	std::string path(const std::string &name) const { return dir_ + "/" + name; }

	int run(std::vector<std::string> args)
	{
		out_.str("");
		err_.str("");
		args.insert(args.begin(), "dynsnap-dump");
		std::vector<const char *> argv;
		for (const auto &a : args)
			argv.push_back(a.c_str());
		return ::dynsnap::dump::run(static_cast<int>(argv.size()), argv.data(), out_, err_);
	}
	std::string out() const { return out_.str(); }
	std::string err() const { return err_.str(); }
	// stderr is exactly one line.
	bool one_line() const
	{
		std::string e = err_.str();
		return !e.empty() && e.find('\n') == e.size() - 1;
	}

	std::string dir_;
	std::ostringstream out_, err_;
};

constexpr int status(Exit e) { return static_cast<int>(e); }

TEST_F(Dump, ValidPairIsOk)
{
	std::string f = file("fast", superblock(DYNSNAP_TIER_FAST));
	std::string s = file("slow", superblock(DYNSNAP_TIER_SLOW));
	EXPECT_EQ(run({f, s}), 0) << err();
	EXPECT_EQ(err(), "");
	EXPECT_NE(out().find(f + ": valid\n"), std::string::npos) << out();
	EXPECT_NE(out().find(s + ": valid\n"), std::string::npos) << out();
	EXPECT_NE(out().find("  volume_sectors 131072\n"), std::string::npos) << out();
}

TEST_F(Dump, JsonHasOneEntryPerDevice)
{
	std::string f = file("fast", superblock(DYNSNAP_TIER_FAST));
	EXPECT_EQ(run({"--json", f, path("missing")}), status(Exit::kNotFound));
	auto j = nlohmann::json::parse(out());
	ASSERT_EQ(j.size(), 2u);
	EXPECT_EQ(j[0]["state"], "valid");
	EXPECT_EQ(j[0]["superblock"]["tier"], "fast");
	EXPECT_EQ(j[1]["state"], "unreadable");
	EXPECT_EQ(j[1]["error"], "cannot open: No such file or directory");
}

TEST_F(Dump, HelpNamesTheDevicesAndTheStatuses)
{
	EXPECT_EQ(run({"--help"}), 0);
	EXPECT_NE(out().find("Usage: dynsnap-dump [OPTIONS] FAST [SLOW]\n"), std::string::npos)
		<< out();
	EXPECT_NE(out().find("Exit status: 0 valid"), std::string::npos) << out();
	EXPECT_EQ(err(), "");
}

TEST_F(Dump, BadArgumentsAreUsageErrors)
{
	EXPECT_EQ(run({}), status(Exit::kUsage));
	EXPECT_TRUE(one_line()) << err();
	EXPECT_NE(err().find("FAST is required"), std::string::npos) << err();
	EXPECT_NE(err().find("(try dynsnap-dump --help)"), std::string::npos) << err();
	EXPECT_EQ(run({"a", "b", "c"}), status(Exit::kUsage));
	EXPECT_TRUE(one_line()) << err();
	EXPECT_EQ(run({"--bogus", "a"}), status(Exit::kUsage));
	EXPECT_NE(err().find("--bogus"), std::string::npos) << err();
	EXPECT_EQ(out(), "");
}

TEST_F(Dump, MissingFileIsNotFound)
{
	EXPECT_EQ(run({path("none")}), status(Exit::kNotFound));
	EXPECT_EQ(err(), "dynsnap-dump: " + path("none") + ": cannot open: No such file or directory\n");
}

TEST_F(Dump, UnreadableFileFails)
{
	fs::create_directory(path("dir"));
	EXPECT_EQ(run({path("dir")}), status(Exit::kFailed));
	EXPECT_EQ(err(), "dynsnap-dump: " + path("dir") + ": cannot read: Is a directory\n");
	if (geteuid() == 0)
		return;	// root reads a file without read permission
	std::string f = file("locked", superblock(DYNSNAP_TIER_FAST));
	chmod(f.c_str(), 0);
	EXPECT_EQ(run({f}), status(Exit::kFailed));
	EXPECT_EQ(err(), "dynsnap-dump: " + f + ": cannot open: Permission denied: run as root, "
		  "or check its permissions\n");
}

TEST_F(Dump, ZeroedIsNoStore)
{
	std::string z = file("zero", Bytes(8192, 0));
	EXPECT_EQ(run({z}), status(Exit::kNotFound));
	EXPECT_EQ(err(), "dynsnap-dump: " + z + " holds no dynsnap store (zeroed)\n");
	EXPECT_NE(out().find(z + ": zeroed\n"), std::string::npos) << out();
}

TEST_F(Dump, DamageIsDamaged)
{
	Bytes b = superblock(DYNSNAP_TIER_FAST);
	b[300] ^= 1;
	std::string d = file("damaged", b);
	EXPECT_EQ(run({d}), status(Exit::kDamaged));
	EXPECT_EQ(err(), "dynsnap-dump: " + d + ": superblock checksum mismatch\n");

	std::string s = file("short", Bytes(b.begin(), b.begin() + 100));
	EXPECT_EQ(run({s}), status(Exit::kDamaged));
	EXPECT_EQ(err(), "dynsnap-dump: " + s + ": shorter than a superblock (100 of 4096 bytes)\n");
}

TEST_F(Dump, TwoFastSuperblocksNameTheSlowDevice)
{
	std::string f = file("fast", superblock(DYNSNAP_TIER_FAST));
	EXPECT_EQ(run({f, f}), status(Exit::kDamaged));
	EXPECT_TRUE(one_line()) << err();
	EXPECT_EQ(err(), "dynsnap-dump: " + f + ": superblock tier is invalid or on the wrong "
		  "device: given as the slow device, it holds the fast tier\n");
}

TEST_F(Dump, SwappedDevicesNameTheFastDevice)
{
	std::string f = file("fast", superblock(DYNSNAP_TIER_FAST));
	std::string s = file("slow", superblock(DYNSNAP_TIER_SLOW));
	EXPECT_EQ(run({s, f}), status(Exit::kDamaged));
	EXPECT_TRUE(one_line()) << err();
	EXPECT_EQ(err().rfind("dynsnap-dump: " + s + ": ", 0), 0u) << err();
	EXPECT_NE(err().find("it holds the slow tier"), std::string::npos) << err();
}

TEST_F(Dump, OtherStoreIsDamaged)
{
	std::string f = file("fast", superblock(DYNSNAP_TIER_FAST));
	std::string s = file("slow", superblock(DYNSNAP_TIER_SLOW, 0xee));
	EXPECT_EQ(run({"--json", f, s}), status(Exit::kDamaged));
	EXPECT_EQ(err(), "dynsnap-dump: " + s + ": fast and slow devices belong to different "
		  "stores (the fast device is " + f + ")\n");
	auto j = nlohmann::json::parse(out());
	EXPECT_EQ(j[1]["state"], "invalid");
}

TEST_F(Dump, FirstFailureGivesTheStatus)
{
	std::string z = file("zero", Bytes(8192, 0));
	Bytes b = superblock(DYNSNAP_TIER_SLOW);
	b[300] ^= 1;
	std::string d = file("damaged", b);
	EXPECT_EQ(run({z, d}), status(Exit::kNotFound));
	EXPECT_EQ(err(), "dynsnap-dump: " + z + " holds no dynsnap store (zeroed)\n"
		  "dynsnap-dump: " + d + ": superblock checksum mismatch\n");
	EXPECT_EQ(run({d, z}), status(Exit::kDamaged));
}

} // namespace
} // namespace dynsnap::dump

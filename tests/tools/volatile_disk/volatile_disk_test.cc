// SPDX-License-Identifier: GPL-2.0
// The volatile write-cache model: what a power cut keeps and loses.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "volatile_disk.h"

namespace vd = dynsnap::volatile_disk;

namespace {

constexpr uint32_t kSector = vd::kSectorBytes;
constexpr uint64_t kMediumBytes = 64 * kSector;

class VolatileDiskTest : public ::testing::Test {
protected:
	void SetUp() override
	{
		char dir[] = "/tmp/dsn-volatile-XXXXXX";
		ASSERT_NE(mkdtemp(dir), nullptr);
		dir_ = dir;
		medium_ = dir_ + "/medium";
		journal_ = dir_ + "/journal";
		std::vector<uint8_t> zero(kMediumBytes, 0);
		int fd = ::open(medium_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		ASSERT_GE(fd, 0);
		ASSERT_EQ(::write(fd, zero.data(), zero.size()), static_cast<ssize_t>(zero.size()));
		::close(fd);
	}
	void TearDown() override
	{
		disk_.reset();
		::unlink(medium_.c_str());
		::unlink(journal_.c_str());
		::rmdir(dir_.c_str());
	}
	void open_disk(uint64_t cache_bytes = 1 << 20)
	{
		std::string error;
		disk_ = vd::VolatileDisk::open({medium_, journal_, cache_bytes}, &error);
		ASSERT_TRUE(disk_) << error;
	}
	// The "process" dies: nothing of the model's memory survives.
	vd::CutReport cut(vd::CutPolicy policy, uint64_t seed = 1)
	{
		disk_.reset();
		vd::CutReport r;
		std::string error;
		EXPECT_TRUE(vd::apply_power_cut(medium_, journal_, policy, seed, &r, &error))
			<< error;
		return r;
	}
	void write(uint64_t sector, uint8_t fill, uint32_t sectors = 1, bool fua = false)
	{
		std::vector<uint8_t> b(sectors * kSector, fill);
		ASSERT_EQ(disk_->write(b.data(), b.size(), sector * kSector, fua), 0);
	}
	// The byte at the start of each sector of the medium itself.
	std::vector<uint8_t> medium()
	{
		std::vector<uint8_t> all(kMediumBytes), first;
		int fd = ::open(medium_.c_str(), O_RDONLY);
		EXPECT_EQ(::pread(fd, all.data(), all.size(), 0), static_cast<ssize_t>(all.size()));
		::close(fd);
		for (uint64_t s = 0; s < kMediumBytes / kSector; s++)
			first.push_back(all[s * kSector]);
		return first;
	}
	uint8_t read_sector(uint64_t sector)
	{
		std::vector<uint8_t> b(kSector);
		EXPECT_EQ(disk_->read(b.data(), kSector, sector * kSector), 0);
		return b[0];
	}

	std::string dir_, medium_, journal_;
	std::unique_ptr<vd::VolatileDisk> disk_;
};

TEST_F(VolatileDiskTest, ReadsSeeCachedWritesTheMediumDoesNot)
{
	open_disk();
	write(3, 0xaa, 2);
	EXPECT_EQ(read_sector(3), 0xaa);
	EXPECT_EQ(read_sector(4), 0xaa);
	EXPECT_EQ(read_sector(5), 0);
	EXPECT_EQ(medium()[3], 0);
	write(4, 0xbb);
	EXPECT_EQ(read_sector(4), 0xbb);
}

TEST_F(VolatileDiskTest, ACutLosesEveryUnflushedWriteAndKeepsFlushedOnes)
{
	open_disk();
	write(1, 0x11);
	ASSERT_EQ(disk_->flush(), 0);
	write(2, 0x22);
	write(1, 0x33);
	vd::CutReport r = cut(vd::CutPolicy::kNone);
	EXPECT_EQ(r.entries, 2u);
	EXPECT_EQ(r.lost, 2u);
	std::vector<uint8_t> m = medium();
	EXPECT_EQ(m[1], 0x11);
	EXPECT_EQ(m[2], 0);
	// The disk serves again, from what survived.
	open_disk();
	EXPECT_EQ(read_sector(1), 0x11);
}

TEST_F(VolatileDiskTest, FuaWritesSurviveAndOlderCachedWritesDoNotCoverThem)
{
	open_disk();
	write(5, 0x01);
	write(5, 0x02, 1, true);
	EXPECT_EQ(medium()[5], 0x02);
	vd::CutReport r = cut(vd::CutPolicy::kAll);
	EXPECT_EQ(r.durable, 1u);
	EXPECT_EQ(r.kept, 1u);
	EXPECT_EQ(medium()[5], 0x02);

	open_disk();
	write(6, 0x03);
	write(6, 0x04, 1, true);
	ASSERT_EQ(disk_->flush(), 0);
	EXPECT_EQ(medium()[6], 0x04);
}

TEST_F(VolatileDiskTest, KeepAllIsWhatWasWrittenInOrder)
{
	open_disk();
	for (int i = 0; i < 10; i++)
		write(i % 4, static_cast<uint8_t>(i + 1));
	cut(vd::CutPolicy::kAll);
	std::vector<uint8_t> m = medium();
	EXPECT_EQ(m[0], 9);
	EXPECT_EQ(m[1], 10);
	EXPECT_EQ(m[2], 7);
	EXPECT_EQ(m[3], 8);
}

TEST_F(VolatileDiskTest, ARandomCutKeepsSomeWritesWholeAndRepeatsWithItsSeed)
{
	std::vector<uint8_t> first;
	for (int round = 0; round < 2; round++) {
		open_disk();
		for (uint64_t s = 0; s < 32; s++)
			write(s * 2, 0x40, 2);
		vd::CutReport r = cut(vd::CutPolicy::kRandom, 42);
		EXPECT_EQ(r.kept + r.lost, 32u);
		EXPECT_GT(r.kept, 0u);
		EXPECT_GT(r.lost, 0u);
		EXPECT_EQ(r.torn, 0u);
		std::vector<uint8_t> m = medium();
		for (uint64_t s = 0; s < 64; s += 2)
			EXPECT_EQ(m[s], m[s + 1]) << "write at sector " << s << " was torn";
		if (round == 0) {
			first = m;
			// Back to zeros for the same run again.
			open_disk();
			std::vector<uint8_t> zero(kMediumBytes, 0);
			ASSERT_EQ(disk_->write(zero.data(), zero.size(), 0, true), 0);
			disk_.reset();
			std::string error;
			vd::CutReport ignored;
			ASSERT_TRUE(vd::apply_power_cut(medium_, journal_, vd::CutPolicy::kNone, 0,
							&ignored, &error));
		} else {
			EXPECT_EQ(m, first);
		}
	}
}

TEST_F(VolatileDiskTest, ATornCutKeepsSectorsOfOneWrite)
{
	open_disk();
	write(0, 0x55, 64);
	vd::CutReport r = cut(vd::CutPolicy::kTorn, 7);
	EXPECT_EQ(r.torn, 1u);
	std::vector<uint8_t> m = medium();
	size_t kept = 0;
	for (uint8_t b : m)
		kept += b == 0x55;
	EXPECT_GT(kept, 0u);
	EXPECT_LT(kept, 64u);
}

TEST_F(VolatileDiskTest, AFullCacheWritesItselfBack)
{
	open_disk(4 * kSector);
	write(0, 0x01, 4);
	EXPECT_EQ(disk_->stats().writebacks, 0u);
	write(8, 0x02);
	EXPECT_EQ(disk_->stats().writebacks, 1u);
	cut(vd::CutPolicy::kNone);
	std::vector<uint8_t> m = medium();
	EXPECT_EQ(m[0], 0x01);
	EXPECT_EQ(m[8], 0x02);
}

TEST_F(VolatileDiskTest, AWriteCutWhileJournaledIsLeftOut)
{
	open_disk();
	write(1, 0x61);
	write(2, 0x62);
	disk_.reset();
	// Tear the last entry: header and part of its data.
	ASSERT_EQ(::truncate(journal_.c_str(), 40 + kSector + 40 + 100), 0);
	vd::CutReport r = cut(vd::CutPolicy::kAll);
	EXPECT_TRUE(r.torn_tail);
	EXPECT_EQ(r.entries, 1u);
	std::vector<uint8_t> m = medium();
	EXPECT_EQ(m[1], 0x61);
	EXPECT_EQ(m[2], 0);
}

TEST_F(VolatileDiskTest, RefusesBadRequestsAndAnUnappliedCut)
{
	open_disk();
	std::vector<uint8_t> b(2 * kSector);
	EXPECT_EQ(disk_->write(b.data(), kSector, 100, false), EINVAL);
	EXPECT_EQ(disk_->write(b.data(), 100, 0, false), EINVAL);
	EXPECT_EQ(disk_->read(b.data(), kSector, kMediumBytes), EINVAL);
	EXPECT_EQ(disk_->read(b.data(), 2 * kSector, kMediumBytes - kSector), EINVAL);
	write(0, 0x01);
	disk_.reset();
	std::string error;
	EXPECT_FALSE(vd::VolatileDisk::open({medium_, journal_, 1 << 20}, &error));
	EXPECT_NE(error.find("power cut"), std::string::npos) << error;
}

TEST_F(VolatileDiskTest, ADamagedJournalIsAnErrorNotAShorterCache)
{
	open_disk();
	write(1, 0x01);
	write(2, 0x02);
	disk_.reset();
	int fd = ::open(journal_.c_str(), O_WRONLY);
	ASSERT_GE(fd, 0);
	uint8_t junk = 0xff;
	ASSERT_EQ(::pwrite(fd, &junk, 1, 40 + 7), 1);	// data of the first entry
	::close(fd);
	vd::CutReport r;
	std::string error;
	EXPECT_FALSE(vd::apply_power_cut(medium_, journal_, vd::CutPolicy::kAll, 1, &r, &error));
	EXPECT_NE(error.find("damaged"), std::string::npos) << error;
}

TEST(CutPolicy, ParsesItsFourNamesOnly)
{
	vd::CutPolicy p = vd::CutPolicy::kAll;
	EXPECT_TRUE(vd::parse_cut_policy("torn", &p));
	EXPECT_EQ(p, vd::CutPolicy::kTorn);
	EXPECT_TRUE(vd::parse_cut_policy("none", &p));
	EXPECT_EQ(p, vd::CutPolicy::kNone);
	EXPECT_FALSE(vd::parse_cut_policy("", &p));
	EXPECT_FALSE(vd::parse_cut_policy("Random", &p));
	EXPECT_EQ(p, vd::CutPolicy::kNone);
}

} // namespace

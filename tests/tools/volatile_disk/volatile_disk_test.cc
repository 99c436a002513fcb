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
		trigger_ = dir_ + "/drop";
		dropped_ = dir_ + "/dropped";
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
		::unlink(trigger_.c_str());
		::unlink(dropped_.c_str());
		::rmdir(dir_.c_str());
	}
	vd::VolatileDisk::Options options(uint64_t cache_bytes = 1 << 20)
	{
		vd::VolatileDisk::Options o;
		o.medium = medium_;
		o.journal = journal_;
		o.cache_bytes = cache_bytes;
		return o;
	}
	void open_disk(uint64_t cache_bytes = 1 << 20, bool can_drop = false)
	{
		std::string error;
		vd::VolatileDisk::Options o = options(cache_bytes);
		if (can_drop) {
			o.drop_trigger = trigger_;
			o.drop_journal = dropped_;
		}
		disk_ = vd::VolatileDisk::open(o, &error);
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

	std::string dir_, medium_, journal_, trigger_, dropped_;
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
	EXPECT_FALSE(vd::VolatileDisk::open(options(), &error));
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

TEST_F(VolatileDiskTest, WhileTheTriggerExistsWritesAreAcknowledgedAndForgotten)
{
	open_disk(1 << 20, true);
	write(2, 0x11);
	write(3, 0x12, 1, true);
	int fd = ::open(trigger_.c_str(), O_WRONLY | O_CREAT, 0600);
	ASSERT_GE(fd, 0);
	::close(fd);
	write(2, 0x21);
	write(3, 0x22, 1, true);
	write(4, 0x23, 2);
	ASSERT_EQ(disk_->flush(), 0);
	EXPECT_EQ(read_sector(2), 0x11);
	EXPECT_EQ(read_sector(3), 0x12);
	EXPECT_EQ(read_sector(4), 0);
	EXPECT_EQ(disk_->stats().dropped, 3u);
	ASSERT_EQ(::unlink(trigger_.c_str()), 0);
	write(4, 0x31);
	EXPECT_EQ(read_sector(4), 0x31);
	vd::CutReport r = cut(vd::CutPolicy::kAll);
	EXPECT_EQ(r.entries, 1u);	// the write after the drops, nothing dropped
	std::vector<uint8_t> m = medium();
	EXPECT_EQ(m[2], 0x11);
	EXPECT_EQ(m[3], 0x12);
	EXPECT_EQ(m[4], 0x31);
	EXPECT_EQ(m[5], 0);

	// The drop journal names each dropped write, in order, with its data.
	std::vector<vd::JournalEntry> dropped;
	bool torn = true;
	std::string error;
	ASSERT_TRUE(vd::journal_read(dropped_, &dropped, &torn, &error)) << error;
	EXPECT_FALSE(torn);
	ASSERT_EQ(dropped.size(), 3u);
	EXPECT_EQ(dropped[0].offset, 2 * kSector);
	EXPECT_EQ(dropped[1].offset, 3 * kSector);
	EXPECT_TRUE(dropped[1].durable);
	EXPECT_EQ(dropped[2].offset, 4 * kSector);
	EXPECT_EQ(dropped[2].data.size(), 2 * kSector);
	EXPECT_EQ(dropped[2].data[0], 0x23);
}

TEST_F(VolatileDiskTest, ADropTriggerNeedsADropJournal)
{
	std::string error;
	vd::VolatileDisk::Options o = options();
	o.drop_trigger = trigger_;
	EXPECT_FALSE(vd::VolatileDisk::open(o, &error));
	EXPECT_NE(error.find("drop journal"), std::string::npos) << error;
}

TEST_F(VolatileDiskTest, ServesTheSizeAskedForAndNoMore)
{
	std::string error;
	vd::VolatileDisk::Options o = options();
	o.size_bytes = 8 * kSector;
	auto d = vd::VolatileDisk::open(o, &error);
	ASSERT_TRUE(d) << error;
	EXPECT_EQ(d->size(), 8 * kSector);
	std::vector<uint8_t> b(kSector);
	EXPECT_EQ(d->write(b.data(), kSector, 8 * kSector, false), EINVAL);
	EXPECT_EQ(d->write(b.data(), kSector, 7 * kSector, false), 0);
	d.reset();
	::unlink(journal_.c_str());
	o.size_bytes = kMediumBytes + kSector;
	EXPECT_FALSE(vd::VolatileDisk::open(o, &error));
	EXPECT_NE(error.find("smaller"), std::string::npos) << error;
}

TEST_F(VolatileDiskTest, ACutReportCountsTheWritesOfAMarkedRange)
{
	open_disk();
	write(1, 0x01);
	write(10, 0x02, 2);
	write(11, 0x03, 1, true);
	write(20, 0x04);
	disk_.reset();
	vd::CutReport r;
	std::string error;
	std::vector<vd::Mark> marks = {{"ckpt", 11 * kSector, 12 * kSector},
				       {"none", 30 * kSector, 31 * kSector}};
	ASSERT_TRUE(vd::apply_power_cut(medium_, journal_, vd::CutPolicy::kNone, 1, &r, &error,
					marks))
		<< error;
	ASSERT_EQ(r.marks.size(), 2u);
	EXPECT_EQ(r.marks[0].entries, 2u);	// the write over 10-11 and the FUA one
	EXPECT_EQ(r.marks[0].lost, 1u);		// FUA writes are never lost
	EXPECT_EQ(r.marks[1].entries, 0u);
}

TEST(Mark, ParsesNameFirstEndOnly)
{
	vd::Mark m;
	EXPECT_TRUE(vd::parse_mark("checkpoint:4096-8392704", &m));
	EXPECT_EQ(m.name, "checkpoint");
	EXPECT_EQ(m.first, 4096u);
	EXPECT_EQ(m.end, 8392704u);
	for (const char *bad : {"", "x", ":1-2", "x:1", "x:2-1", "x:1-1", "x:-2", "x:1-", "x:a-2",
				"x:1-99999999999999999999"})
		EXPECT_FALSE(vd::parse_mark(bad, &m)) << bad;
}

TEST_F(VolatileDiskTest, FreezesOnTheFirstWriteOverTheRangeOnceArmed)
{
	std::string error;
	vd::VolatileDisk::Options o = options();
	o.freeze_trigger = trigger_;
	o.freeze_first = 8 * kSector;
	o.freeze_end = 16 * kSector;
	disk_ = vd::VolatileDisk::open(o, &error);
	ASSERT_TRUE(disk_) << error;
	std::vector<uint8_t> b(2 * kSector, 0x5a);
	EXPECT_FALSE(disk_->freeze_now(b.data(), b.size(), 8 * kSector));	// not armed
	int fd = ::open(trigger_.c_str(), O_WRONLY | O_CREAT, 0600);
	ASSERT_GE(fd, 0);
	::close(fd);
	EXPECT_FALSE(disk_->freeze_now(b.data(), b.size(), 4 * kSector));	// outside
	EXPECT_FALSE(disk_->freeze_now(b.data(), b.size(), 16 * kSector));
	EXPECT_TRUE(disk_->freeze_now(b.data(), b.size(), 15 * kSector));	// overlaps
	EXPECT_EQ(::access((trigger_ + ".hit").c_str(), F_OK), 0);
	::unlink((trigger_ + ".hit").c_str());
	// Never completed: a cut that keeps the cache keeps it, one that
	// keeps nothing loses it.
	vd::CutReport r = cut(vd::CutPolicy::kAll);
	EXPECT_EQ(r.entries, 1u);
	EXPECT_EQ(r.durable, 0u);
	EXPECT_EQ(medium()[15], 0x5a);
	EXPECT_EQ(medium()[16], 0x5a);
	o.freeze_end = o.freeze_first;
	EXPECT_FALSE(vd::VolatileDisk::open(o, &error));
	EXPECT_NE(error.find("empty"), std::string::npos) << error;
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

// SPDX-License-Identifier: GPL-2.0
// Superblock geometry, layout, encoding and the validator, including every
// way a damaged or foreign superblock must be refused.
#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <string>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "param_name.h"
#include "dynsnap_format.h"

namespace {

using Block = std::array<uint8_t, DYNSNAP_SB_SIZE>;

constexpr uint64_t kVolume = 2097152;	  // 1 GiB
constexpr uint64_t kFast = 524288;	  // 256 MiB
constexpr uint64_t kSlow = 4194304;	  // 2 GiB
constexpr uint64_t kFormatTime = 1795000000;

dynsnap_geometry geometry(uint32_t block, uint32_t sub = 0, uint32_t region = 0)
{
	dynsnap_geometry g{block, sub, region};
	dynsnap_geometry_defaults(&g);
	return g;
}

dynsnap_superblock make_sb(bool with_slow = true)
{
	const uint8_t uuid[DYNSNAP_UUID_SIZE] = {
		0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
	dynsnap_geometry g = geometry(128);
	dynsnap_layout l;
	EXPECT_EQ(dynsnap_layout_compute(&g, kVolume, kFast,
					 with_slow ? kSlow : 0, &l), DSN_OK);
	dynsnap_superblock sb;
	dynsnap_sb_init(&sb, DYNSNAP_TIER_FAST, uuid, kVolume, &g, &l,
			kFormatTime);
	return sb;
}

Block encode(const dynsnap_superblock &sb)
{
	Block b;
	b.fill(0xa5);	// the encoder must overwrite everything
	dynsnap_sb_encode(&sb, b.data());
	return b;
}

dynsnap_err decode(const Block &b, dynsnap_superblock *out = nullptr)
{
	dynsnap_superblock tmp;
	return dynsnap_sb_decode(b.data(), b.size(), DYNSNAP_SB_LOCATION,
				 out ? out : &tmp);
}

// Recompute the checksum after a deliberate edit, to reach the checks
// behind it.
void reseal(Block &b)
{
	uint32_t csum = dsn_crc32c(~0U, b.data() + 4, b.size() - 4) ^
			DYNSNAP_SB_CSUM_XOR;
	dsn_put_le32(b.data(), csum);
}

TEST(Geometry, Defaults)
{
	EXPECT_EQ(geometry(8).sub_block_sectors, 1u);
	EXPECT_EQ(geometry(16).sub_block_sectors, 8u);
	EXPECT_EQ(geometry(128).sub_block_sectors, 8u);
	EXPECT_EQ(geometry(2048).sub_block_sectors, 32u);
	EXPECT_EQ(geometry(128).region_sectors, DYNSNAP_DEFAULT_REGION_SECTORS);
	EXPECT_EQ(geometry(128, 4, 256).sub_block_sectors, 4u);
	EXPECT_EQ(geometry(128, 4, 256).region_sectors, 256u);
	for (uint32_t b = DYNSNAP_MIN_BLOCK_SECTORS;
	     b <= DYNSNAP_MAX_BLOCK_SECTORS; b *= 2) {
		dynsnap_geometry g = geometry(b);
		EXPECT_EQ(dynsnap_geometry_check(&g), DSN_OK) << b;
	}
}

TEST(Geometry, RejectsBadValues)
{
	struct Case {
		dynsnap_geometry g;
		dynsnap_err want;
	} cases[] = {
		{{0, 8, 8192}, DSN_ERR_BLOCK_NOT_POW2},
		{{96, 8, 8192}, DSN_ERR_BLOCK_NOT_POW2},
		{{4, 1, 8192}, DSN_ERR_BLOCK_RANGE},
		{{4096, 64, 8192}, DSN_ERR_BLOCK_RANGE},
		{{128, 0, 8192}, DSN_ERR_SUB_NOT_POW2},
		{{128, 3, 8192}, DSN_ERR_SUB_NOT_POW2},
		{{128, 256, 8192}, DSN_ERR_SUB_RANGE},
		{{128, 1, 8192}, DSN_ERR_SUB_TOO_SMALL},
		{{128, 8, 1000}, DSN_ERR_REGION_NOT_POW2},
		{{128, 8, 64}, DSN_ERR_REGION_RANGE},
		{{128, 8, 1u << 25}, DSN_ERR_REGION_RANGE},
	};
	for (const auto &c : cases)
		EXPECT_EQ(dynsnap_geometry_check(&c.g), c.want)
			<< c.g.block_sectors << "/" << c.g.sub_block_sectors
			<< "/" << c.g.region_sectors;
}

TEST(Geometry, EveryErrorHasAMessage)
{
	for (int e = 0; e < DSN_ERR__COUNT; e++)
		EXPECT_STRNE(dynsnap_strerror(static_cast<dynsnap_err>(e)),
			     "unknown error") << e;
	EXPECT_STREQ(dynsnap_strerror(static_cast<dynsnap_err>(DSN_ERR__COUNT)),
		     "unknown error");
	EXPECT_STREQ(dynsnap_strerror(static_cast<dynsnap_err>(-1)),
		     "unknown error");
}

TEST(Layout, FitsTheDevices)
{
	dynsnap_geometry g = geometry(128);
	dynsnap_layout l;
	ASSERT_EQ(dynsnap_layout_compute(&g, kVolume, kFast, kSlow, &l), DSN_OK);
	EXPECT_EQ(l.meta_start, DYNSNAP_SB_SECTORS);
	EXPECT_GE(l.meta_sectors, DYNSNAP_MIN_META_SECTORS);
	EXPECT_GE(l.fast_data_start, l.meta_start + l.meta_sectors);
	EXPECT_EQ(l.fast_data_start % 128, 0u);
	EXPECT_LE(l.fast_data_start + l.fast_data_sectors, kFast);
	EXPECT_EQ(l.slow_data_start % 128, 0u);
	EXPECT_GE(l.slow_data_start, DYNSNAP_SB_SECTORS);
	EXPECT_LE(l.slow_data_start + l.slow_data_sectors, kSlow);

	ASSERT_EQ(dynsnap_layout_compute(&g, kVolume, kFast, 0, &l), DSN_OK);
	EXPECT_EQ(l.slow_dev_sectors, 0u);
	EXPECT_EQ(l.slow_data_sectors, 0u);
}

TEST(Layout, MetadataGrowsWithTheVolume)
{
	dynsnap_geometry g = geometry(128);
	dynsnap_layout small, big;
	ASSERT_EQ(dynsnap_layout_compute(&g, kVolume, 1ull << 30, 0, &small), DSN_OK);
	ASSERT_EQ(dynsnap_layout_compute(&g, 1ull << 33, 1ull << 30, 0, &big), DSN_OK);
	EXPECT_GT(big.meta_sectors, small.meta_sectors);
}

TEST(Geometry, CountsRegionsWithAShortLastOne)
{
	dynsnap_geometry g{128, 8, 8192};
	EXPECT_EQ(dynsnap_region_count(&g, 128), 1u);
	EXPECT_EQ(dynsnap_region_count(&g, 8192), 1u);
	EXPECT_EQ(dynsnap_region_count(&g, 8192 + 128), 2u);
	EXPECT_EQ(dynsnap_region_count(&g, 10 * 8192ull), 10u);
	EXPECT_EQ(dynsnap_region_count(&g, (1ull << 41) - 128), 1u << 28);
}

TEST(Geometry, RefusesVolumesWithTooManyRegions)
{
	/* 2^28 regions of 8 sectors fit; one block more does not. */
	dynsnap_geometry g{8, 1, 8};
	const uint64_t most = static_cast<uint64_t>(DYNSNAP_MAX_REGIONS) * 8;
	EXPECT_EQ(dynsnap_volume_check(&g, most), DSN_OK);
	EXPECT_EQ(dynsnap_region_count(&g, most), DYNSNAP_MAX_REGIONS);
	EXPECT_EQ(dynsnap_volume_check(&g, most + 8), DSN_ERR_VOLUME_REGIONS);
	/* The u32 count would wrap to a handful of regions here. */
	EXPECT_EQ(dynsnap_volume_check(&g, (1ull << 35) + 8), DSN_ERR_VOLUME_REGIONS);
	dynsnap_geometry big{8, 1, 1u << 24};
	EXPECT_EQ(dynsnap_volume_check(&big, (1ull << 35) + 8), DSN_OK);
}

TEST(Layout, RefusesSmallDevices)
{
	dynsnap_geometry g = geometry(128);
	dynsnap_layout l;
	EXPECT_EQ(dynsnap_layout_compute(&g, kVolume, 8192, 0, &l),
		  DSN_ERR_FAST_TOO_SMALL);
	EXPECT_EQ(dynsnap_layout_compute(&g, kVolume, 0, 0, &l),
		  DSN_ERR_FAST_TOO_SMALL);
	EXPECT_EQ(dynsnap_layout_compute(&g, kVolume, kFast, 1024, &l),
		  DSN_ERR_SLOW_TOO_SMALL);
	EXPECT_EQ(dynsnap_layout_compute(&g, 0, kFast, 0, &l),
		  DSN_ERR_VOLUME_EMPTY);
	EXPECT_EQ(dynsnap_layout_compute(&g, kVolume + 8, kFast, 0, &l),
		  DSN_ERR_VOLUME_UNALIGNED);
	dynsnap_geometry bad{100, 4, 8192};
	EXPECT_EQ(dynsnap_layout_compute(&bad, kVolume, kFast, 0, &l),
		  DSN_ERR_BLOCK_NOT_POW2);
}

TEST(Superblock, RoundTrip)
{
	dynsnap_superblock in = make_sb(), out;
	in.generation = 42;
	Block b = encode(in);
	ASSERT_EQ(decode(b, &out), DSN_OK);
	EXPECT_EQ(memcmp(in.uuid, out.uuid, sizeof(in.uuid)), 0);
	EXPECT_EQ(out.flags, DYNSNAP_SB_F_HAS_SLOW);
	EXPECT_EQ(out.tier, (uint32_t)DYNSNAP_TIER_FAST);
	EXPECT_EQ(out.version, DYNSNAP_SB_VERSION);
	EXPECT_EQ(out.volume_sectors, kVolume);
	EXPECT_EQ(out.geometry.block_sectors, 128u);
	EXPECT_EQ(out.geometry.sub_block_sectors, 8u);
	EXPECT_EQ(out.geometry.region_sectors, 8192u);
	EXPECT_EQ(memcmp(&in.layout, &out.layout, sizeof(in.layout)), 0);
	EXPECT_EQ(out.format_time, kFormatTime);
	EXPECT_EQ(out.generation, 42u);
	EXPECT_EQ(encode(out), b);
}

// Field positions are part of the on-disk contract: check a few by hand.
TEST(Superblock, FieldsSitWhereTheFormatSays)
{
	Block b = encode(make_sb());
	EXPECT_EQ(memcmp(b.data() + 16, "spansnyd", 8), 0);	// magic, LE
	EXPECT_EQ(dsn_get_le32(b.data() + 24), 2u);		// version
	EXPECT_EQ(dsn_get_le32(b.data() + 28), 1u);		// tier fast
	EXPECT_EQ(b[32], 0x10);					// uuid[0]
	EXPECT_EQ(dsn_get_le64(b.data() + 48), kVolume);
	EXPECT_EQ(dsn_get_le32(b.data() + 56), 128u);
	EXPECT_EQ(dsn_get_le64(b.data() + 72), kFast);
	EXPECT_EQ(dsn_get_le64(b.data() + 80), kSlow);
	EXPECT_EQ(dsn_get_le64(b.data() + 136), kFormatTime);
	for (size_t i = DYNSNAP_SB_ENCODED_SIZE; i < b.size(); i++)
		ASSERT_EQ(b[i], 0) << i;
	uint32_t want = dsn_crc32c(~0U, b.data() + 4, b.size() - 4) ^
			0x2b1e5a17U;
	EXPECT_EQ(dsn_get_le32(b.data()), want);
}

// Bytes committed to the repository: a format change that alters them must
// bump the version instead.
TEST(Superblock, GoldenBytesV2)
{
	std::ifstream f(DYNSNAP_TEST_DATA_DIR "/superblock-v2.bin",
			std::ios::binary);
	ASSERT_TRUE(f) << "missing golden file";
	std::vector<uint8_t> golden((std::istreambuf_iterator<char>(f)),
				    std::istreambuf_iterator<char>());
	ASSERT_EQ(golden.size(), DYNSNAP_SB_SIZE);

	Block b = encode(make_sb());
	EXPECT_TRUE(std::equal(b.begin(), b.end(), golden.begin()));

	dynsnap_superblock sb;
	ASSERT_EQ(dynsnap_sb_decode(golden.data(), golden.size(),
				    DYNSNAP_SB_LOCATION, &sb), DSN_OK);
	EXPECT_EQ(sb.volume_sectors, kVolume);
	EXPECT_EQ(sb.layout.slow_dev_sectors, kSlow);
}

// A store of format 1 (records not bound to their store) is refused by
// name, never read under the rules of format 2.
TEST(Superblock, Format1IsRefused)
{
	std::ifstream f(DYNSNAP_TEST_DATA_DIR "/superblock-v1.bin",
			std::ios::binary);
	ASSERT_TRUE(f) << "missing golden file";
	std::vector<uint8_t> v1((std::istreambuf_iterator<char>(f)),
				std::istreambuf_iterator<char>());
	ASSERT_EQ(v1.size(), DYNSNAP_SB_SIZE);
	dynsnap_superblock sb;
	EXPECT_EQ(dynsnap_sb_decode(v1.data(), v1.size(), DYNSNAP_SB_LOCATION, &sb),
		  DSN_ERR_SB_VERSION);
}

TEST(Superblock, ZeroedBlockIsTheFormatMarker)
{
	Block b{};
	EXPECT_TRUE(dynsnap_is_zeroed(b.data(), b.size()));
	EXPECT_EQ(decode(b), DSN_ERR_SB_MAGIC);
	b[4095] = 1;
	EXPECT_FALSE(dynsnap_is_zeroed(b.data(), b.size()));
}

TEST(Superblock, RejectsShortBuffers)
{
	Block b = encode(make_sb());
	dynsnap_superblock sb;
	EXPECT_EQ(dynsnap_sb_decode(b.data(), b.size() - 1,
				    DYNSNAP_SB_LOCATION, &sb), DSN_ERR_SB_SHORT);
	EXPECT_EQ(dynsnap_sb_decode(nullptr, 0, DYNSNAP_SB_LOCATION, &sb),
		  DSN_ERR_SB_SHORT);
}

TEST(Superblock, EveryFlippedBitIsCaught)
{
	const Block good = encode(make_sb());
	for (size_t byte = 0; byte < good.size(); byte += 7) {
		for (int bit = 0; bit < 8; bit += 3) {
			Block b = good;
			b[byte] ^= 1u << bit;
			EXPECT_NE(decode(b), DSN_OK) << byte << ":" << bit;
		}
	}
}

TEST(Superblock, RejectsOtherLocation)
{
	Block b = encode(make_sb());
	dynsnap_superblock sb;
	EXPECT_EQ(dynsnap_sb_decode(b.data(), b.size(), 8, &sb),
		  DSN_ERR_SB_LOCATION);
}

struct Edit {
	const char *what;
	void (*apply)(Block &b);
	dynsnap_err want;
};

void PrintTo(const Edit &e, std::ostream *os)
{
	*os << e.what;
}

class SuperblockEdit : public ::testing::TestWithParam<Edit> {};

TEST_P(SuperblockEdit, IsRefusedEvenWithAValidChecksum)
{
	Block b = encode(make_sb());
	GetParam().apply(b);
	reseal(b);
	EXPECT_EQ(decode(b), GetParam().want) << GetParam().what;
}

const Edit kEdits[] = {
	{"magic", [](Block &b) { b[16] ^= 0xff; }, DSN_ERR_SB_MAGIC},
	{"version 0", [](Block &b) { dsn_put_le32(&b[24], 0); }, DSN_ERR_SB_VERSION},
	{"version 1", [](Block &b) { dsn_put_le32(&b[24], 1); }, DSN_ERR_SB_VERSION},
	{"version 3", [](Block &b) { dsn_put_le32(&b[24], 3); }, DSN_ERR_SB_VERSION},
	{"unknown flag", [](Block &b) { dsn_put_le32(&b[4], 1u << 7); }, DSN_ERR_SB_FLAGS},
	{"tier 0", [](Block &b) { dsn_put_le32(&b[28], 0); }, DSN_ERR_SB_TIER},
	{"tier 3", [](Block &b) { dsn_put_le32(&b[28], 3); }, DSN_ERR_SB_TIER},
	{"reserved0", [](Block &b) { b[68] = 1; }, DSN_ERR_SB_RESERVED},
	{"tail", [](Block &b) { b[4000] = 1; }, DSN_ERR_SB_RESERVED},
	{"block 96", [](Block &b) { dsn_put_le32(&b[56], 96); }, DSN_ERR_SB_GEOMETRY},
	{"sub > block", [](Block &b) { dsn_put_le32(&b[60], 256); }, DSN_ERR_SB_GEOMETRY},
	{"region 0", [](Block &b) { dsn_put_le32(&b[64], 0); }, DSN_ERR_SB_GEOMETRY},
	{"volume 0", [](Block &b) { dsn_put_le64(&b[48], 0); }, DSN_ERR_SB_GEOMETRY},
	{"volume unaligned", [](Block &b) { dsn_put_le64(&b[48], kVolume + 1); },
	 DSN_ERR_SB_GEOMETRY},
	{"meta past fast end", [](Block &b) { dsn_put_le64(&b[96], kFast); },
	 DSN_ERR_SB_LAYOUT},
	{"meta over superblock", [](Block &b) { dsn_put_le64(&b[88], 0); },
	 DSN_ERR_SB_LAYOUT},
	{"fast data overlaps meta", [](Block &b) { dsn_put_le64(&b[104], 16); },
	 DSN_ERR_SB_LAYOUT},
	{"fast data wraps", [](Block &b) { dsn_put_le64(&b[112], ~0ull); },
	 DSN_ERR_SB_LAYOUT},
	{"slow data past end", [](Block &b) { dsn_put_le64(&b[128], kSlow); },
	 DSN_ERR_SB_LAYOUT},
	{"slow flag without device", [](Block &b) { dsn_put_le64(&b[80], 0); },
	 DSN_ERR_SB_LAYOUT},
	{"device without slow flag", [](Block &b) { dsn_put_le32(&b[4], 0); },
	 DSN_ERR_SB_LAYOUT},
	{"metadata area shrunk", [](Block &b) { dsn_put_le64(&b[96], 1); },
	 DSN_ERR_SB_LAYOUT},
	{"metadata moved", [](Block &b) { dsn_put_le64(&b[88], 16); },
	 DSN_ERR_SB_LAYOUT},
	{"fast data not block aligned", [](Block &b) {
		 dsn_put_le64(&b[104], dsn_get_le64(&b[104]) + 8);
		 dsn_put_le64(&b[112], dsn_get_le64(&b[112]) - 8);
	 }, DSN_ERR_SB_LAYOUT},
	{"fast device size changed", [](Block &b) { dsn_put_le64(&b[72], ~0ull); },
	 DSN_ERR_SB_LAYOUT},
	{"slow copy without slow flag", [](Block &b) {
		 dsn_put_le32(&b[28], DYNSNAP_TIER_SLOW);
		 dsn_put_le32(&b[4], 0);
	 }, DSN_ERR_SB_TIER},
	{"generation 0", [](Block &b) { dsn_put_le64(&b[144], 0); },
	 DSN_ERR_SB_IDENTITY},
	{"zero UUID", [](Block &b) { memset(&b[32], 0, 16); }, DSN_ERR_SB_IDENTITY},
};

INSTANTIATE_TEST_SUITE_P(All, SuperblockEdit, ::testing::ValuesIn(kEdits),
			 dynsnap::test::NameFromWhat());

TEST(Superblock, SlowFieldsMustBeZeroWithoutSlowTier)
{
	Block b = encode(make_sb(false));
	ASSERT_EQ(decode(b), DSN_OK);
	dsn_put_le64(&b[120], 16);
	reseal(b);
	EXPECT_EQ(decode(b), DSN_ERR_SB_LAYOUT);
}

TEST(Superblock, MatchesTheTableItWasFormattedFor)
{
	dynsnap_superblock sb = make_sb();
	dynsnap_geometry g = geometry(128);
	EXPECT_EQ(dynsnap_sb_match(&sb, kVolume, &g, kFast, kSlow), DSN_OK);
	// Devices may grow.
	EXPECT_EQ(dynsnap_sb_match(&sb, kVolume, &g, kFast * 2, kSlow * 2), DSN_OK);

	EXPECT_EQ(dynsnap_sb_match(&sb, kVolume * 2, &g, kFast, kSlow),
		  DSN_ERR_SB_OTHER_VOLUME);
	dynsnap_geometry other = geometry(64);
	EXPECT_EQ(dynsnap_sb_match(&sb, kVolume, &other, kFast, kSlow),
		  DSN_ERR_SB_OTHER_GEOMETRY);
	other = geometry(128, 16);
	EXPECT_EQ(dynsnap_sb_match(&sb, kVolume, &other, kFast, kSlow),
		  DSN_ERR_SB_OTHER_GEOMETRY);
	other = geometry(128, 0, 16384);
	EXPECT_EQ(dynsnap_sb_match(&sb, kVolume, &other, kFast, kSlow),
		  DSN_ERR_SB_OTHER_GEOMETRY);
	EXPECT_EQ(dynsnap_sb_match(&sb, kVolume, &g, kFast, 0),
		  DSN_ERR_SB_SLOW_MISSING);
	EXPECT_EQ(dynsnap_sb_match(&sb, kVolume, &g, kFast / 2, kSlow),
		  DSN_ERR_SB_DEVICE_SHRUNK);
	EXPECT_EQ(dynsnap_sb_match(&sb, kVolume, &g, kFast, kSlow / 2),
		  DSN_ERR_SB_DEVICE_SHRUNK);

	dynsnap_superblock fast_only = make_sb(false);
	EXPECT_EQ(dynsnap_sb_match(&fast_only, kVolume, &g, kFast, kSlow),
		  DSN_ERR_SB_SLOW_UNEXPECTED);

	sb.tier = DYNSNAP_TIER_SLOW;
	EXPECT_EQ(dynsnap_sb_match(&sb, kVolume, &g, kFast, kSlow),
		  DSN_ERR_SB_TIER);
}

TEST(Superblock, SlowCopyMustBelongToTheSameStore)
{
	dynsnap_superblock fast = make_sb(), slow = make_sb();
	slow.tier = DYNSNAP_TIER_SLOW;
	EXPECT_EQ(dynsnap_sb_same_store(&fast, &slow), DSN_OK);
	EXPECT_EQ(dynsnap_sb_same_store(&slow, &fast), DSN_ERR_SB_TIER);

	dynsnap_superblock other = slow;
	other.uuid[15] ^= 1;
	EXPECT_EQ(dynsnap_sb_same_store(&fast, &other), DSN_ERR_SB_OTHER_STORE);
	other = slow;
	other.format_time++;
	EXPECT_EQ(dynsnap_sb_same_store(&fast, &other), DSN_ERR_SB_OTHER_STORE);
	other = slow;
	other.geometry.sub_block_sectors = 16;
	EXPECT_EQ(dynsnap_sb_same_store(&fast, &other), DSN_ERR_SB_OTHER_STORE);
	other = slow;
	other.layout.slow_dev_sectors += 128;
	EXPECT_EQ(dynsnap_sb_same_store(&fast, &other), DSN_ERR_SB_OTHER_STORE);
	// A format still in progress on the fast side is the same store.
	dynsnap_superblock formatting = fast;
	formatting.flags |= DYNSNAP_SB_F_FORMATTING;
	EXPECT_EQ(dynsnap_sb_same_store(&formatting, &slow), DSN_OK);
}

} // namespace

// SPDX-License-Identifier: GPL-2.0
// Checkpoints: round trips, field positions, blank slots, and every way a
// damaged, truncated or implausible checkpoint is refused, each with its
// own error even when its checksum is made to match.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "param_name.h"
#include "dynsnap_checkpoint.h"
#include "dynsnap_log.h"

namespace {

using Bytes = std::vector<uint8_t>;

const uint8_t kUuid[DYNSNAP_UUID_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8,
					  9, 10, 11, 12, 13, 14, 15, 16};

dynsnap_ctl_snap_create make_snap(uint64_t id, uint64_t epoch, const std::string &name)
{
	dynsnap_ctl_snap_create s{};
	s.id = id;
	s.epoch = epoch;
	s.ctime_ns = 1717200000000000000ull + id;
	s.name_len = name.size();
	memcpy(s.name, name.data(), name.size());
	return s;
}

struct Ckpt {
	dynsnap_checkpoint hdr;
	std::vector<dynsnap_ctl_snap_create> snaps;
	Bytes cur, next;
};

// A plausible checkpoint: @nr_snaps snapshots, level maps of @nr_regions
// mixing every level and the default.
Ckpt make_ckpt(uint32_t nr_snaps = 3, uint32_t nr_regions = 7)
{
	const uint8_t levels[] = {DYNSNAP_LEVEL_BLOCK, DYNSNAP_LEVEL_SUB,
				  DYNSNAP_LEVEL_BIT, DYNSNAP_LEVEL_DEFAULT};
	Ckpt c{};
	memcpy(c.hdr.uuid, kUuid, sizeof(kUuid));
	c.hdr.generation = 0x1122334455667788ull;
	c.hdr.epoch = 5 + 3 * nr_snaps;
	c.hdr.nr_snaps = nr_snaps;
	c.hdr.nr_regions = nr_regions;
	c.hdr.next_id = 10 + 4 * nr_snaps;
	c.hdr.control_seq = 0xdeadbeef00ull;
	c.hdr.fast_head_sector = 8 + 3 * DYNSNAP_SEG_SECTORS;
	c.hdr.fast_head_seq = 41;
	c.hdr.slow_head_sector = 8 + 5 * DYNSNAP_SEG_SECTORS;
	c.hdr.slow_head_seq = 17;
	c.hdr.fast_end_seq = 0xdeadbeef07ull;
	c.hdr.slow_end_seq = 0x70000123ull;
	for (uint32_t i = 0; i < nr_snaps; i++)
		c.snaps.push_back(make_snap(7 + 4 * i, 2 + 3 * i, "snap-" + std::to_string(i)));
	for (uint32_t i = 0; i < nr_regions; i++) {
		c.cur.push_back(levels[i % 4]);
		c.next.push_back(levels[(i * 3 + 1) % 4]);
	}
	return c;
}

Bytes encode(const Ckpt &c)
{
	Bytes b(dynsnap_checkpoint_size(c.hdr.nr_snaps, c.hdr.nr_regions), 0xee);
	dynsnap_checkpoint_encode_header(&c.hdr, b.data());
	for (uint32_t i = 0; i < c.snaps.size(); i++)
		dynsnap_ctl_snap_create_encode(&c.snaps[i],
					       &b[dynsnap_checkpoint_snap_offset(i)]);
	size_t lv = dynsnap_checkpoint_levels_offset(c.hdr.nr_snaps);
	std::copy(c.cur.begin(), c.cur.end(), b.begin() + lv);
	std::copy(c.next.begin(), c.next.end(), b.begin() + lv + c.hdr.nr_regions);
	dynsnap_checkpoint_seal(b.data());
	return b;
}

// Seal again after an edit, when the header's length lies inside @b.
void reseal(Bytes &b)
{
	uint32_t total = dsn_get_le32(&b[40]);
	if (total >= DYNSNAP_CKPT_HEADER_SIZE && total <= b.size())
		dynsnap_checkpoint_seal(b.data());
}

dynsnap_err decode(const Bytes &b, const uint8_t *uuid = kUuid,
		   dynsnap_checkpoint *out = nullptr)
{
	dynsnap_checkpoint tmp;
	return dynsnap_checkpoint_decode(b.data(), b.size(), uuid, out ? out : &tmp);
}

// @n bytes that end right before an inaccessible page: a decoder that reads
// past its length faults, sanitizer or not.
class GuardedBuffer {
public:
	explicit GuardedBuffer(const uint8_t *data, size_t n)
	{
		page_ = sysconf(_SC_PAGESIZE);
		map_len_ = (n + page_ - 1) / page_ * page_ + page_;
		map_ = static_cast<uint8_t *>(mmap(nullptr, map_len_, PROT_READ | PROT_WRITE,
						   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
		EXPECT_NE(map_, MAP_FAILED);
		EXPECT_EQ(mprotect(map_ + map_len_ - page_, page_, PROT_NONE), 0);
		data_ = map_ + map_len_ - page_ - n;
		memcpy(data_, data, n);
	}
	~GuardedBuffer() { munmap(map_, map_len_); }
	const uint8_t *data() const { return data_; }

private:
	size_t page_, map_len_;
	uint8_t *map_, *data_;
};

TEST(Checkpoint, SizesAndOffsets)
{
	EXPECT_EQ(DYNSNAP_CKPT_HEADER_SIZE, 128u);
	EXPECT_EQ(dynsnap_checkpoint_size(0, 1), 130u);
	EXPECT_EQ(dynsnap_checkpoint_size(3, 7), 128u + 3 * 96 + 14);
	EXPECT_EQ(dynsnap_checkpoint_snap_offset(0), 128u);
	EXPECT_EQ(dynsnap_checkpoint_snap_offset(2), 128u + 2 * 96);
	EXPECT_EQ(dynsnap_checkpoint_levels_offset(0), 128u);
	EXPECT_EQ(dynsnap_checkpoint_levels_offset(3), 128u + 3 * 96);

	// The largest counts that fit a u32, and one more.
	EXPECT_EQ(dynsnap_checkpoint_size(44739241, 0), 4294967264u);
	EXPECT_EQ(dynsnap_checkpoint_size(44739242, 0), 0u);
	EXPECT_EQ(dynsnap_checkpoint_size(0, 0x7fffffbf), 0xfffffffeu);
	EXPECT_EQ(dynsnap_checkpoint_size(0, 0x7fffffc0), 0u);
	EXPECT_EQ(dynsnap_checkpoint_size(~0u, 0), 0u);
	EXPECT_EQ(dynsnap_checkpoint_size(0, ~0u), 0u);
	EXPECT_EQ(dynsnap_checkpoint_size(~0u, ~0u), 0u);
}

class CheckpointRoundTrip : public ::testing::TestWithParam<uint32_t> {};

TEST_P(CheckpointRoundTrip, DecodesToWhatWasEncoded)
{
	const Ckpt in = make_ckpt(GetParam(), 9);
	const Bytes b = encode(in);
	ASSERT_EQ(b.size(), 128u + 96 * GetParam() + 18);

	dynsnap_checkpoint out;
	memset(&out, 0x55, sizeof(out));
	ASSERT_EQ(decode(b, kUuid, &out), DSN_OK);
	EXPECT_EQ(memcmp(out.uuid, kUuid, sizeof(kUuid)), 0);
	EXPECT_EQ(out.generation, in.hdr.generation);
	EXPECT_EQ(out.epoch, in.hdr.epoch);
	EXPECT_EQ(out.nr_snaps, GetParam());
	EXPECT_EQ(out.nr_regions, 9u);
	EXPECT_EQ(out.next_id, in.hdr.next_id);
	EXPECT_EQ(out.control_seq, in.hdr.control_seq);
	EXPECT_EQ(out.fast_head_sector, in.hdr.fast_head_sector);
	EXPECT_EQ(out.fast_head_seq, in.hdr.fast_head_seq);
	EXPECT_EQ(out.slow_head_sector, in.hdr.slow_head_sector);
	EXPECT_EQ(out.slow_head_seq, in.hdr.slow_head_seq);
	EXPECT_EQ(out.fast_end_seq, in.hdr.fast_end_seq);
	EXPECT_EQ(out.slow_end_seq, in.hdr.slow_end_seq);

	for (uint32_t i = 0; i < GetParam(); i++) {
		dynsnap_ctl_snap_create s;
		memset(&s, 0x55, sizeof(s));
		dynsnap_checkpoint_snap(b.data(), i, &s);
		EXPECT_EQ(s.id, in.snaps[i].id) << i;
		EXPECT_EQ(s.epoch, in.snaps[i].epoch) << i;
		EXPECT_EQ(s.ctime_ns, in.snaps[i].ctime_ns) << i;
		EXPECT_EQ(s.name_len, in.snaps[i].name_len) << i;
		EXPECT_STREQ(s.name, in.snaps[i].name) << i;
	}
	size_t lv = dynsnap_checkpoint_levels_offset(GetParam());
	EXPECT_EQ(Bytes(b.begin() + lv, b.begin() + lv + 9), in.cur);
	EXPECT_EQ(Bytes(b.begin() + lv + 9, b.end()), in.next);

	// Without a UUID to compare with, and with bytes to spare after it.
	EXPECT_EQ(decode(b, nullptr), DSN_OK);
	Bytes longer = b;
	longer.resize(b.size() + 4096, 0xab);
	EXPECT_EQ(decode(longer), DSN_OK);
	EXPECT_FALSE(dynsnap_checkpoint_is_blank(b.data()));
}

INSTANTIATE_TEST_SUITE_P(Snapshots, CheckpointRoundTrip, ::testing::Values(0u, 1u, 2u, 6u));

TEST(Checkpoint, RoundTripWithoutSlowTier)
{
	Ckpt in = make_ckpt(2, 1);
	in.hdr.slow_head_sector = 0;
	in.hdr.slow_head_seq = 0;
	in.hdr.slow_end_seq = 0;
	in.hdr.control_seq = 0;
	const Bytes b = encode(in);
	dynsnap_checkpoint out;
	ASSERT_EQ(decode(b, kUuid, &out), DSN_OK);
	EXPECT_EQ(out.slow_head_sector, 0u);
	EXPECT_EQ(out.slow_head_seq, 0u);
	EXPECT_EQ(out.control_seq, 0u);
	EXPECT_EQ(out.slow_end_seq, 0u);
	EXPECT_EQ(out.nr_regions, 1u);
}

TEST(Checkpoint, EveryLevelValueIsAccepted)
{
	for (uint8_t level : {0, 1, 2, 0xff}) {
		Ckpt in = make_ckpt(1, 3);
		in.cur.assign(3, level);
		in.next.assign(3, level);
		EXPECT_EQ(decode(encode(in)), DSN_OK) << int(level);
	}
}

TEST(Checkpoint, FieldsSitWhereTheFormatSays)
{
	const Ckpt in = make_ckpt(2, 5);
	const Bytes b = encode(in);
	EXPECT_EQ(std::string(b.begin(), b.begin() + 8), "DSNCKPT1");
	EXPECT_EQ(dsn_get_le32(&b[8]),
		  dsn_crc32c(~0U, &b[12], b.size() - 12) ^ DYNSNAP_CKPT_CSUM_XOR);
	EXPECT_EQ(dsn_get_le32(&b[12]), 2u);
	EXPECT_EQ(memcmp(&b[16], kUuid, 16), 0);
	EXPECT_EQ(dsn_get_le64(&b[32]), in.hdr.generation);
	EXPECT_EQ(dsn_get_le32(&b[40]), 128u + 2 * 96 + 10);
	EXPECT_EQ(dsn_get_le32(&b[44]), 0u);
	EXPECT_EQ(dsn_get_le32(&b[48]), in.hdr.epoch);
	EXPECT_EQ(dsn_get_le32(&b[52]), 2u);
	EXPECT_EQ(dsn_get_le32(&b[56]), 5u);
	EXPECT_EQ(dsn_get_le32(&b[60]), 0u);
	EXPECT_EQ(dsn_get_le64(&b[64]), in.hdr.next_id);
	EXPECT_EQ(dsn_get_le64(&b[72]), in.hdr.control_seq);
	EXPECT_EQ(dsn_get_le64(&b[80]), in.hdr.fast_head_sector);
	EXPECT_EQ(dsn_get_le64(&b[88]), in.hdr.fast_head_seq);
	EXPECT_EQ(dsn_get_le64(&b[96]), in.hdr.slow_head_sector);
	EXPECT_EQ(dsn_get_le64(&b[104]), in.hdr.slow_head_seq);
	EXPECT_EQ(dsn_get_le64(&b[112]), in.hdr.fast_end_seq);
	EXPECT_EQ(dsn_get_le64(&b[120]), in.hdr.slow_end_seq);

	// Entries are SNAP_CREATE payloads, byte for byte.
	Bytes payload(DYNSNAP_CTL_SNAP_CREATE_SIZE);
	dynsnap_ctl_snap_create_encode(&in.snaps[1], payload.data());
	EXPECT_EQ(Bytes(b.begin() + 128 + 96, b.begin() + 128 + 192), payload);
	EXPECT_EQ(b[128 + 192], in.cur[0]);
	EXPECT_EQ(b[128 + 192 + 5], in.next[0]);
}

TEST(Checkpoint, EncodeHeaderWritesOnlyTheHeader)
{
	Ckpt in = make_ckpt(1, 2);
	Bytes b(DYNSNAP_CKPT_HEADER_SIZE + 8, 0xee);
	dynsnap_checkpoint_encode_header(&in.hdr, b.data());
	EXPECT_EQ(dsn_get_le32(&b[8]), 0u);	// checksum left for seal
	for (size_t i = DYNSNAP_CKPT_HEADER_SIZE; i < b.size(); i++)
		EXPECT_EQ(b[i], 0xee) << i;
}

TEST(Checkpoint, BlankSlots)
{
	Bytes b(DYNSNAP_CKPT_HEADER_SIZE + 64, 0);
	EXPECT_TRUE(dynsnap_checkpoint_is_blank(b.data()));
	// Only the header counts.
	b[DYNSNAP_CKPT_HEADER_SIZE] = 1;
	EXPECT_TRUE(dynsnap_checkpoint_is_blank(b.data()));
	for (size_t i = 0; i < DYNSNAP_CKPT_HEADER_SIZE; i++) {
		Bytes c = b;
		c[i] = 0x80;
		EXPECT_FALSE(dynsnap_checkpoint_is_blank(c.data())) << i;
	}
	// A blank slot is no checkpoint.
	EXPECT_EQ(decode(b), DSN_ERR_CKPT_MAGIC);
}

struct Edit {
	const char *what;
	void (*apply)(Bytes &b);
	bool reseal;
	dynsnap_err want;
};

void PrintTo(const Edit &e, std::ostream *os)
{
	*os << e.what;
}

// Checkpoint with 3 snapshots (ids 7, 11, 15; epochs 2, 5, 8; epoch 14,
// next_id 22) and 7 regions: entries at 128, 224, 320, levels at 416.
class CheckpointEdit : public ::testing::TestWithParam<Edit> {};

TEST_P(CheckpointEdit, IsRefused)
{
	const Edit &e = GetParam();
	Bytes b = encode(make_ckpt());
	ASSERT_EQ(decode(b), DSN_OK);
	ASSERT_EQ(b.size(), 430u);
	e.apply(b);
	if (e.reseal)
		reseal(b);
	EXPECT_EQ(decode(b), e.want);
	EXPECT_EQ(decode(b, nullptr), e.want);
}

void put_snap_field(Bytes &b, uint32_t index, size_t field, uint64_t v)
{
	dsn_put_le64(&b[dynsnap_checkpoint_snap_offset(index) + field], v);
}

// Region count changed together with the length, so only the field is wrong.
void set_regions(Bytes &b, uint32_t nr_regions)
{
	dsn_put_le32(&b[56], nr_regions);
	dsn_put_le32(&b[40], dynsnap_checkpoint_size(dsn_get_le32(&b[52]), nr_regions));
}

const Edit kEdits[] = {
	{"magic", [](Bytes &b) { b[7] = '2'; }, true, DSN_ERR_CKPT_MAGIC},
	{"magic of a superblock", [](Bytes &b) { dsn_put_le64(&b[0], DYNSNAP_SB_MAGIC); },
	 true, DSN_ERR_CKPT_MAGIC},
	{"version 0", [](Bytes &b) { dsn_put_le32(&b[12], 0); }, true,
	 DSN_ERR_CKPT_VERSION},
	{"version 1", [](Bytes &b) { dsn_put_le32(&b[12], 1); }, true,
	 DSN_ERR_CKPT_VERSION},
	{"total_len one more", [](Bytes &b) { dsn_put_le32(&b[40], 431); }, true,
	 DSN_ERR_CKPT_SIZE},
	{"total_len one less", [](Bytes &b) { dsn_put_le32(&b[40], 429); }, true,
	 DSN_ERR_CKPT_SIZE},
	{"total_len 0", [](Bytes &b) { dsn_put_le32(&b[40], 0); }, true, DSN_ERR_CKPT_SIZE},
	{"total_len huge", [](Bytes &b) { dsn_put_le32(&b[40], ~0u); }, true,
	 DSN_ERR_CKPT_SIZE},
	{"one more snapshot counted", [](Bytes &b) { dsn_put_le32(&b[52], 4); }, true,
	 DSN_ERR_CKPT_SIZE},
	{"one region less counted", [](Bytes &b) { dsn_put_le32(&b[56], 6); }, true,
	 DSN_ERR_CKPT_SIZE},
	{"snapshot count overflows", [](Bytes &b) { dsn_put_le32(&b[52], ~0u); }, true,
	 DSN_ERR_CKPT_SIZE},
	{"region count overflows", [](Bytes &b) { dsn_put_le32(&b[56], 0x80000000u); }, true,
	 DSN_ERR_CKPT_SIZE},
	{"length beyond the buffer", [](Bytes &b) {
		dsn_put_le32(&b[56], 8);
		dsn_put_le32(&b[40], 432);
	 }, false, DSN_ERR_CKPT_SHORT},
	{"checksum", [](Bytes &b) { b[8] ^= 1; }, false, DSN_ERR_CKPT_CSUM},
	{"checksum high bit", [](Bytes &b) { b[11] ^= 0x80; }, false, DSN_ERR_CKPT_CSUM},
	{"header byte", [](Bytes &b) { b[33] ^= 1; }, false, DSN_ERR_CKPT_CSUM},
	{"entry byte", [](Bytes &b) { b[250] ^= 1; }, false, DSN_ERR_CKPT_CSUM},
	{"last level byte", [](Bytes &b) { b[429] ^= 1; }, false, DSN_ERR_CKPT_CSUM},
	{"flags", [](Bytes &b) { b[44] = 1; }, true, DSN_ERR_CKPT_RESERVED},
	{"flags high bit", [](Bytes &b) { b[47] = 0x80; }, true, DSN_ERR_CKPT_RESERVED},
	{"reserved word", [](Bytes &b) { b[60] = 1; }, true, DSN_ERR_CKPT_RESERVED},
	{"fast end 0", [](Bytes &b) { dsn_put_le64(&b[112], 0); }, true, DSN_ERR_CKPT_FIELDS},
	{"slow end 0 with a slow tier", [](Bytes &b) { dsn_put_le64(&b[120], 0); }, true,
	 DSN_ERR_CKPT_FIELDS},
	{"slow end without a slow tier", [](Bytes &b) {
		dsn_put_le64(&b[96], 0);
		dsn_put_le64(&b[104], 0);
	 }, true, DSN_ERR_CKPT_FIELDS},
	{"generation 0", [](Bytes &b) { dsn_put_le64(&b[32], 0); }, true,
	 DSN_ERR_CKPT_FIELDS},
	{"epoch 0", [](Bytes &b) { dsn_put_le32(&b[48], 0); }, true, DSN_ERR_CKPT_FIELDS},
	{"no regions", [](Bytes &b) { set_regions(b, 0); }, true, DSN_ERR_CKPT_FIELDS},
	{"next_id 0", [](Bytes &b) { dsn_put_le64(&b[64], 0); }, true, DSN_ERR_CKPT_FIELDS},
	{"fast head sector 0", [](Bytes &b) { dsn_put_le64(&b[80], 0); }, true,
	 DSN_ERR_CKPT_FIELDS},
	{"fast head sector unaligned", [](Bytes &b) { dsn_put_le64(&b[80], 8 * 1000 + 4); },
	 true, DSN_ERR_CKPT_FIELDS},
	{"fast head sector odd", [](Bytes &b) { dsn_put_le64(&b[80], 8 * 1000 + 1); },
	 true, DSN_ERR_CKPT_FIELDS},
	{"fast head seq 0", [](Bytes &b) { dsn_put_le64(&b[88], 0); }, true,
	 DSN_ERR_CKPT_FIELDS},
	{"slow head sector unaligned", [](Bytes &b) { dsn_put_le64(&b[96], 8 * 1000 + 2); },
	 true, DSN_ERR_CKPT_FIELDS},
	{"slow head sector 0, seq not", [](Bytes &b) { dsn_put_le64(&b[96], 0); }, true,
	 DSN_ERR_CKPT_FIELDS},
	{"slow head seq 0, sector not", [](Bytes &b) { dsn_put_le64(&b[104], 0); }, true,
	 DSN_ERR_CKPT_FIELDS},
	{"entry flags", [](Bytes &b) { b[128 + 24] = 1; }, true, DSN_ERR_CKPT_SNAP},
	{"entry reserved", [](Bytes &b) { b[224 + 30] = 1; }, true, DSN_ERR_CKPT_SNAP},
	{"entry id 0", [](Bytes &b) { put_snap_field(b, 0, 0, 0); }, true, DSN_ERR_CKPT_SNAP},
	{"entry epoch 0", [](Bytes &b) { put_snap_field(b, 1, 8, 0); }, true,
	 DSN_ERR_CKPT_SNAP},
	{"entry name empty", [](Bytes &b) { b[320 + 28] = 0; }, true, DSN_ERR_CKPT_SNAP},
	{"entry name with a slash", [](Bytes &b) { b[320 + 33] = '/'; }, true,
	 DSN_ERR_CKPT_SNAP},
	{"entry name padding", [](Bytes &b) { b[320 + 95] = 'x'; }, true, DSN_ERR_CKPT_SNAP},
	{"ids equal", [](Bytes &b) { put_snap_field(b, 1, 0, 7); }, true, DSN_ERR_CKPT_SNAP},
	{"ids decreasing", [](Bytes &b) { put_snap_field(b, 2, 0, 8); }, true,
	 DSN_ERR_CKPT_SNAP},
	{"id equals next_id", [](Bytes &b) { put_snap_field(b, 2, 0, 22); }, true,
	 DSN_ERR_CKPT_SNAP},
	{"id above next_id", [](Bytes &b) { put_snap_field(b, 2, 0, ~0ull); }, true,
	 DSN_ERR_CKPT_SNAP},
	{"next_id at the last id", [](Bytes &b) { dsn_put_le64(&b[64], 15); }, true,
	 DSN_ERR_CKPT_SNAP},
	{"entry epoch 1", [](Bytes &b) { put_snap_field(b, 0, 8, 1); }, true,
	 DSN_ERR_CKPT_SNAP},
	{"entry epoch above the epoch", [](Bytes &b) { put_snap_field(b, 2, 8, 15); }, true,
	 DSN_ERR_CKPT_SNAP},
	{"entry epoch huge", [](Bytes &b) { put_snap_field(b, 2, 8, 1ull << 32 | 8); }, true,
	 DSN_ERR_CKPT_SNAP},
	{"epoch below the last entry", [](Bytes &b) { dsn_put_le32(&b[48], 7); }, true,
	 DSN_ERR_CKPT_SNAP},
	{"epochs equal", [](Bytes &b) { put_snap_field(b, 1, 8, 2); }, true,
	 DSN_ERR_CKPT_SNAP},
	{"epochs decreasing", [](Bytes &b) { put_snap_field(b, 2, 8, 4); }, true,
	 DSN_ERR_CKPT_SNAP},
	{"cur level 3", [](Bytes &b) { b[416] = 3; }, true, DSN_ERR_CKPT_LEVEL},
	{"cur level 0xfe", [](Bytes &b) { b[422] = 0xfe; }, true, DSN_ERR_CKPT_LEVEL},
	{"next level 3", [](Bytes &b) { b[423] = 3; }, true, DSN_ERR_CKPT_LEVEL},
	{"last next level 0x80", [](Bytes &b) { b[429] = 0x80; }, true, DSN_ERR_CKPT_LEVEL},
};

INSTANTIATE_TEST_SUITE_P(All, CheckpointEdit, ::testing::ValuesIn(kEdits),
			 dynsnap::test::NameFromWhat());

TEST(Checkpoint, ValidEdgesAreAccepted)
{
	Bytes b = encode(make_ckpt());
	// The last id just below next_id, the last epoch the current one.
	put_snap_field(b, 2, 0, 21);
	put_snap_field(b, 2, 8, 14);
	reseal(b);
	EXPECT_EQ(decode(b), DSN_OK);
	// Huge ids and ids far apart.
	put_snap_field(b, 2, 0, ~0ull - 1);
	dsn_put_le64(&b[64], ~0ull);
	reseal(b);
	EXPECT_EQ(decode(b), DSN_OK);
	// The largest epoch and head positions.
	dsn_put_le32(&b[48], ~0u);
	dsn_put_le64(&b[80], ~7ull);
	dsn_put_le64(&b[88], ~0ull);
	reseal(b);
	EXPECT_EQ(decode(b), DSN_OK);
}

TEST(Checkpoint, OtherStoreIsRefused)
{
	const Bytes b = encode(make_ckpt());
	uint8_t other[DYNSNAP_UUID_SIZE];
	memcpy(other, kUuid, sizeof(other));
	other[15] ^= 1;
	EXPECT_EQ(decode(b, other), DSN_ERR_CKPT_UUID);
	EXPECT_EQ(decode(b, kUuid), DSN_OK);
	EXPECT_EQ(decode(b, nullptr), DSN_OK);
	EXPECT_STREQ(dynsnap_strerror(DSN_ERR_CKPT_UUID), "checkpoint belongs to another store");
}

// When several things are wrong, the first in the documented order wins.
TEST(Checkpoint, CheckOrder)
{
	const Bytes good = encode(make_ckpt());
	uint8_t other[DYNSNAP_UUID_SIZE] = {};
	Bytes b;

	b = good;
	b[0] ^= 1;
	dsn_put_le32(&b[12], 9);
	EXPECT_EQ(decode(Bytes(b.begin(), b.begin() + 127)), DSN_ERR_CKPT_SHORT);
	EXPECT_EQ(decode(b), DSN_ERR_CKPT_MAGIC);

	b = good;
	dsn_put_le32(&b[12], 9);
	dsn_put_le32(&b[40], 1);
	EXPECT_EQ(decode(b), DSN_ERR_CKPT_VERSION);

	b = good;
	dsn_put_le32(&b[52], ~0u);
	b[9] ^= 1;
	EXPECT_EQ(decode(b), DSN_ERR_CKPT_SIZE);

	b = good;
	b[9] ^= 1;
	b[44] = 1;
	EXPECT_EQ(decode(b), DSN_ERR_CKPT_CSUM);
	EXPECT_EQ(decode(Bytes(b.begin(), b.end() - 1)), DSN_ERR_CKPT_SHORT);

	b = good;
	b[44] = 1;
	reseal(b);
	EXPECT_EQ(decode(b, other), DSN_ERR_CKPT_UUID);
	EXPECT_EQ(decode(b), DSN_ERR_CKPT_RESERVED);

	b = good;
	b[60] = 1;
	dsn_put_le64(&b[32], 0);
	reseal(b);
	EXPECT_EQ(decode(b), DSN_ERR_CKPT_RESERVED);

	b = good;
	dsn_put_le64(&b[32], 0);
	put_snap_field(b, 0, 0, 0);
	reseal(b);
	EXPECT_EQ(decode(b), DSN_ERR_CKPT_FIELDS);

	b = good;
	put_snap_field(b, 0, 0, 0);
	b[416] = 7;
	reseal(b);
	EXPECT_EQ(decode(b), DSN_ERR_CKPT_SNAP);
}

TEST(Checkpoint, EveryFlippedBitIsCaught)
{
	const Bytes good = encode(make_ckpt(2, 3));
	for (size_t byte = 0; byte < good.size(); byte++)
		for (int bit = 0; bit < 8; bit++) {
			Bytes b = good;
			b[byte] ^= 1 << bit;
			EXPECT_NE(decode(b), DSN_OK) << byte << ":" << bit;
		}
}

TEST(Checkpoint, TruncatedCheckpointsAreRefusedWithinTheirLength)
{
	for (uint32_t nr_snaps : {0u, 1u, 3u}) {
		const Bytes b = encode(make_ckpt(nr_snaps, 5));
		dynsnap_checkpoint c;
		for (size_t n = 0; n < b.size(); n++) {
			GuardedBuffer g(b.data(), n);
			EXPECT_EQ(dynsnap_checkpoint_decode(g.data(), n, kUuid, &c),
				  DSN_ERR_CKPT_SHORT) << nr_snaps << " " << n;
		}
		GuardedBuffer whole(b.data(), b.size());
		EXPECT_EQ(dynsnap_checkpoint_decode(whole.data(), b.size(), kUuid, &c), DSN_OK);
	}
	dynsnap_checkpoint c;
	EXPECT_EQ(dynsnap_checkpoint_decode(nullptr, 4096, nullptr, &c), DSN_ERR_CKPT_SHORT);
}

TEST(Checkpoint, HugeCountsNeverCrash)
{
	dynsnap_checkpoint c;
	Ckpt in = make_ckpt(0, 1);

	// Counts whose size overflows a u32: the encoder records length 0,
	// seal stays inside the header and decode refuses the size.
	for (auto counts : {std::pair{~0u, 1u}, std::pair{1u, ~0u}, std::pair{~0u, ~0u},
			    std::pair{44739242u, 0u}}) {
		in.hdr.nr_snaps = counts.first;
		in.hdr.nr_regions = counts.second;
		Bytes b(DYNSNAP_CKPT_HEADER_SIZE);
		dynsnap_checkpoint_encode_header(&in.hdr, b.data());
		EXPECT_EQ(dsn_get_le32(&b[40]), 0u);
		dynsnap_checkpoint_seal(b.data());
		GuardedBuffer g(b.data(), b.size());
		EXPECT_EQ(dynsnap_checkpoint_decode(g.data(), b.size(), kUuid, &c),
			  DSN_ERR_CKPT_SIZE);
		// Whatever length is claimed (the size is checked before the
		// checksum, so none is needed).
		for (uint32_t total : {128u, 0xffffffffu, 0x80000000u}) {
			dsn_put_le32(&b[40], total);
			GuardedBuffer h(b.data(), b.size());
			EXPECT_EQ(dynsnap_checkpoint_decode(h.data(), b.size(), kUuid, &c),
				  DSN_ERR_CKPT_SIZE);
		}
	}

	// The largest sizes that fit: refused as short, without reading on.
	for (auto counts : {std::pair{44739241u, 0u}, std::pair{0u, 0x7fffffbfu}}) {
		in.hdr.nr_snaps = counts.first;
		in.hdr.nr_regions = counts.second;
		Bytes b(DYNSNAP_CKPT_HEADER_SIZE);
		dynsnap_checkpoint_encode_header(&in.hdr, b.data());
		EXPECT_NE(dsn_get_le32(&b[40]), 0u);
		GuardedBuffer g(b.data(), b.size());
		EXPECT_EQ(dynsnap_checkpoint_decode(g.data(), b.size(), kUuid, &c),
			  DSN_ERR_CKPT_SHORT);
	}
}

TEST(Checkpoint, EveryErrorHasItsOwnMessage)
{
	std::set<std::string> seen;
	for (dynsnap_err e : {DSN_ERR_CKPT_SHORT, DSN_ERR_CKPT_MAGIC, DSN_ERR_CKPT_VERSION,
			      DSN_ERR_CKPT_SIZE, DSN_ERR_CKPT_CSUM, DSN_ERR_CKPT_UUID,
			      DSN_ERR_CKPT_RESERVED, DSN_ERR_CKPT_FIELDS, DSN_ERR_CKPT_SNAP,
			      DSN_ERR_CKPT_LEVEL}) {
		std::string msg = dynsnap_strerror(e);
		EXPECT_NE(msg, "unknown error") << e;
		EXPECT_EQ(msg.find('\n'), std::string::npos) << e;
		EXPECT_TRUE(seen.insert(msg).second) << msg;
	}
	EXPECT_STREQ(dynsnap_strerror(DSN_ERR__COUNT), "unknown error");
}

} // namespace

namespace {

dynsnap_layout meta(uint64_t start, uint64_t sectors)
{
	dynsnap_layout l{};
	l.meta_start = start;
	l.meta_sectors = sectors;
	return l;
}

TEST(CheckpointSlots, HalfTheMetadataAreaInWholeBlocks)
{
	dynsnap_layout l = meta(8, 16384);
	EXPECT_EQ(dynsnap_checkpoint_slot_sectors(&l), 8192u);
	EXPECT_EQ(dynsnap_checkpoint_slot_sector(&l, 0), 8u);
	EXPECT_EQ(dynsnap_checkpoint_slot_sector(&l, 1), 8u + 8192);
	l = meta(8, 16384 + 31);	// 8207.5 sectors a slot, rounded down to 8200
	EXPECT_EQ(dynsnap_checkpoint_slot_sectors(&l), 8200u);
	EXPECT_EQ(dynsnap_checkpoint_slot_sector(&l, 1), 8u + 8200);
	l = meta(8, 15);
	EXPECT_EQ(dynsnap_checkpoint_slot_sectors(&l), 0u);
}

TEST(CheckpointSlots, NoSlotPastTheLast)
{
	dynsnap_layout l = meta(8, 16384);
	EXPECT_EQ(dynsnap_checkpoint_slot_sector(&l, DYNSNAP_CKPT_SLOTS), 0u);
	EXPECT_EQ(dynsnap_checkpoint_slot_sector(&l, ~0u), 0u);
}

Bytes head_with_total(uint32_t total)
{
	Bytes b(DYNSNAP_CKPT_ALIGN, 0);
	dsn_put_le32(&b[offsetof(dynsnap_disk_checkpoint_header, total_len)], total);
	return b;
}

TEST(CheckpointSlots, ReadSizeIsTheCheckpointInWholeBlocksWhenItFits)
{
	dynsnap_layout l = meta(8, 64);	// 32 sectors, 16 KiB a slot
	EXPECT_EQ(dynsnap_checkpoint_read_size(head_with_total(0).data(), &l), 4096u);
	EXPECT_EQ(dynsnap_checkpoint_read_size(head_with_total(200).data(), &l), 4096u);
	EXPECT_EQ(dynsnap_checkpoint_read_size(head_with_total(4096).data(), &l), 4096u);
	EXPECT_EQ(dynsnap_checkpoint_read_size(head_with_total(4097).data(), &l), 8192u);
	EXPECT_EQ(dynsnap_checkpoint_read_size(head_with_total(16384).data(), &l), 16384u);
	// Larger than a slot: the first block alone, which decoding refuses.
	EXPECT_EQ(dynsnap_checkpoint_read_size(head_with_total(16385).data(), &l), 4096u);
	EXPECT_EQ(dynsnap_checkpoint_read_size(head_with_total(~0u).data(), &l), 4096u);
	// Rounding up never wraps, however large the slots are.
	dynsnap_layout big = meta(8, 1ull << 40);
	EXPECT_EQ(dynsnap_checkpoint_read_size(head_with_total(~0u).data(), &big), 1ull << 32);
}

TEST(CheckpointSlots, TheNewestValidSlotCounts)
{
	dynsnap_checkpoint a{}, b{};
	a.generation = 5;
	b.generation = 6;
	EXPECT_EQ(dynsnap_checkpoint_newest(&a, &b), 1);
	EXPECT_EQ(dynsnap_checkpoint_newest(&b, &a), 0);
	EXPECT_EQ(dynsnap_checkpoint_newest(&a, nullptr), 0);
	EXPECT_EQ(dynsnap_checkpoint_newest(nullptr, &a), 1);
	EXPECT_EQ(dynsnap_checkpoint_newest(nullptr, nullptr), -1);
	b.generation = 5;
	EXPECT_EQ(dynsnap_checkpoint_newest(&a, &b), 0);
}

TEST(CheckpointSlots, ACheckpointMustMatchItsStore)
{
	dynsnap_checkpoint c{};
	c.nr_regions = 12;
	EXPECT_EQ(dynsnap_checkpoint_match(&c, 12, false), DSN_OK);
	EXPECT_EQ(dynsnap_checkpoint_match(&c, 13, false), DSN_ERR_CKPT_REGIONS);
	EXPECT_EQ(dynsnap_checkpoint_match(&c, 12ull | 1ull << 32, false), DSN_ERR_CKPT_REGIONS);
	EXPECT_EQ(dynsnap_checkpoint_match(&c, 12, true), DSN_ERR_CKPT_SLOW);
	c.slow_head_sector = 4096;
	c.slow_head_seq = 1;
	EXPECT_EQ(dynsnap_checkpoint_match(&c, 12, true), DSN_OK);
	EXPECT_EQ(dynsnap_checkpoint_match(&c, 12, false), DSN_ERR_CKPT_SLOW);
}

} // namespace

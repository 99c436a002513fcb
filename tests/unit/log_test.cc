// SPDX-License-Identifier: GPL-2.0
// Delta logs: segment headers, and the replay scan that must stop exactly
// where the durable log ends: at a torn, damaged, missing or stale record.
#include <gtest/gtest.h>

#include <vector>

#include "dynsnap_control.h"
#include "dynsnap_log.h"

namespace {

using Bytes = std::vector<uint8_t>;

const uint8_t kUuid[DYNSNAP_UUID_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8,
					  9, 10, 11, 12, 13, 14, 15, 16};
const uint8_t kOtherUuid[DYNSNAP_UUID_SIZE] = {2, 2, 3, 4, 5, 6, 7, 8,
					       9, 10, 11, 12, 13, 14, 15, 16};
const uint32_t kSeed = dynsnap_record_seed(kUuid, DYNSNAP_TIER_FAST);

// Append one sub-block record with sequence @seq to @log.
void append(Bytes &log, uint64_t seq, uint32_t length = 1024, uint32_t seed = kSeed)
{
	dynsnap_record_header h;
	dynsnap_record_init(&h, DYNSNAP_LEVEL_SUB, seq, 3, seq * 8, length);
	h.stored_length = length;
	size_t at = log.size();
	log.resize(at + DYNSNAP_REC_HEADER_SIZE + length);
	for (uint32_t i = 0; i < length; i++)
		log[at + DYNSNAP_REC_HEADER_SIZE + i] = uint8_t(seq + i);
	dynsnap_record_encode(&h, &log[at], &log[at + DYNSNAP_REC_HEADER_SIZE], seed);
}

// Append a SNAP_DELETE control record with sequence @seq to @log.
void append_control(Bytes &log, uint64_t seq, uint64_t id)
{
	dynsnap_record_header h;
	dynsnap_record_init_control(&h, DYNSNAP_CTL_SNAP_DELETE, seq, 3,
				    DYNSNAP_CTL_SNAP_DELETE_SIZE);
	dynsnap_ctl_snap_delete del{id};
	size_t at = log.size();
	log.resize(at + DYNSNAP_REC_HEADER_SIZE + DYNSNAP_CTL_SNAP_DELETE_SIZE);
	dynsnap_ctl_snap_delete_encode(&del, &log[at + DYNSNAP_REC_HEADER_SIZE]);
	dynsnap_record_encode(&h, &log[at], &log[at + DYNSNAP_REC_HEADER_SIZE], kSeed);
}

// End a batch: zero padding to the next sector.
void pad(Bytes &log)
{
	log.resize(dynsnap_log_padded(log.size()), 0);
}

// Replay from @first; returns the sequences found.
std::vector<uint64_t> replay(const Bytes &log, uint64_t first)
{
	std::vector<uint64_t> seen;
	size_t pos = 0;
	dynsnap_record_header h;
	const uint8_t *payload;
	while (dynsnap_log_next(log.data(), log.size(), &pos, kSeed, first + seen.size(),
				&h, &payload) == DSN_OK) {
		EXPECT_EQ(payload, log.data() + pos - h.stored_length);
		seen.push_back(h.sequence);
	}
	return seen;
}

std::vector<uint64_t> seqs(uint64_t first, uint64_t count)
{
	std::vector<uint64_t> v;
	for (uint64_t i = 0; i < count; i++)
		v.push_back(first + i);
	return v;
}

TEST(Segment, RoundTrip)
{
	dynsnap_segment_header in{DYNSNAP_TIER_SLOW, 42, 1000, {}, 8 + 3 * DYNSNAP_SEG_SECTORS};
	dynsnap_segment_header out;
	memcpy(in.uuid, kUuid, sizeof(kUuid));
	Bytes block(DYNSNAP_SEG_HEADER_SIZE, 0xee);
	dynsnap_segment_encode(&in, block.data());
	ASSERT_EQ(dynsnap_segment_decode(block.data(), block.size(), kUuid, &out), DSN_OK);
	EXPECT_EQ(out.tier, (uint32_t)DYNSNAP_TIER_SLOW);
	EXPECT_EQ(out.segment_seq, 42u);
	EXPECT_EQ(out.first_record_seq, 1000u);
	EXPECT_EQ(out.next_segment, 8u + 3 * DYNSNAP_SEG_SECTORS);
	EXPECT_EQ(memcmp(out.uuid, kUuid, sizeof(kUuid)), 0);
	EXPECT_EQ(std::string(block.begin() + 4, block.begin() + 8), "DNSG");
	EXPECT_EQ(dsn_get_le64(&block[48]), 8u + 3 * DYNSNAP_SEG_SECTORS);
	EXPECT_TRUE(dynsnap_is_zeroed(&block[56], DYNSNAP_SEG_HEADER_SIZE - 56));
}

TEST(Segment, RefusesDamageAndStrangers)
{
	dynsnap_segment_header in{DYNSNAP_TIER_FAST, 1, 1, {}, 16}, out;
	memcpy(in.uuid, kUuid, sizeof(kUuid));
	Bytes good(DYNSNAP_SEG_HEADER_SIZE);
	dynsnap_segment_encode(&in, good.data());

	Bytes b = good;
	b[2000] = 1;
	EXPECT_EQ(dynsnap_segment_decode(b.data(), b.size(), kUuid, &out), DSN_ERR_SEG_CSUM);
	b = good;
	b[4] = 'X';
	EXPECT_EQ(dynsnap_segment_decode(b.data(), b.size(), kUuid, &out), DSN_ERR_SEG_MAGIC);
	EXPECT_EQ(dynsnap_segment_decode(good.data(), 4095, kUuid, &out), DSN_ERR_SEG_SHORT);
	EXPECT_EQ(dynsnap_segment_decode(nullptr, 0, kUuid, &out), DSN_ERR_SEG_SHORT);
	uint8_t other[DYNSNAP_UUID_SIZE] = {9};
	EXPECT_EQ(dynsnap_segment_decode(good.data(), good.size(), other, &out),
		  DSN_ERR_SEG_OTHER_STORE);
	dynsnap_segment_header bad_tier = in;
	bad_tier.tier = 7;
	dynsnap_segment_encode(&bad_tier, b.data());
	EXPECT_EQ(dynsnap_segment_decode(b.data(), b.size(), kUuid, &out), DSN_ERR_SEG_TIER);
}

// Rewrite the checksum after an edit, as a writer with a bug would.
void reseal_segment(Bytes &b)
{
	dsn_put_le32(&b[0], dsn_crc32c(~0U, &b[4], DYNSNAP_SEG_HEADER_SIZE - 4) ^
			    DYNSNAP_SEG_CSUM_XOR);
}

TEST(Segment, ReservedSpaceMustBeZero)
{
	dynsnap_segment_header in{DYNSNAP_TIER_FAST, 1, 1, {}, 16}, out;
	memcpy(in.uuid, kUuid, sizeof(kUuid));
	Bytes good(DYNSNAP_SEG_HEADER_SIZE);
	dynsnap_segment_encode(&in, good.data());
	for (size_t at : {12, 56, 63, 64, 4095}) {
		Bytes b = good;
		b[at] = 1;
		reseal_segment(b);
		EXPECT_EQ(dynsnap_segment_decode(b.data(), b.size(), kUuid, &out),
			  DSN_ERR_SEG_RESERVED) << at;
	}
}

TEST(Segment, NextSegmentIsANonZeroAlignedSector)
{
	struct {
		uint64_t next;
		dynsnap_err want;
	} cases[] = {
		{0, DSN_ERR_SEG_NEXT},
		{1, DSN_ERR_SEG_NEXT},
		{4, DSN_ERR_SEG_NEXT},
		{DYNSNAP_SEG_SECTORS + 7, DSN_ERR_SEG_NEXT},
		{~0ull, DSN_ERR_SEG_NEXT},
		{8, DSN_OK},
		{DYNSNAP_SEG_SECTORS, DSN_OK},
		{~0ull - 7, DSN_OK},
	};
	for (const auto &c : cases) {
		dynsnap_segment_header in{DYNSNAP_TIER_FAST, 5, 9, {}, c.next}, out;
		memcpy(in.uuid, kUuid, sizeof(kUuid));
		Bytes b(DYNSNAP_SEG_HEADER_SIZE);
		dynsnap_segment_encode(&in, b.data());
		EXPECT_EQ(dynsnap_segment_decode(b.data(), b.size(), kUuid, &out), c.want)
			<< c.next;
	}
}

TEST(Log, ReplaysBatchesAcrossPadding)
{
	Bytes log;
	append(log, 10);
	append(log, 11, 512);
	pad(log);
	append(log, 12, 4096);
	pad(log);
	append(log, 13);
	EXPECT_EQ(replay(log, 10), seqs(10, 4));
	log.resize(log.size() + 8192, 0);	// the unwritten rest of the segment
	EXPECT_EQ(replay(log, 10), seqs(10, 4));
}

TEST(Log, ControlRecordsShareTheSequence)
{
	Bytes log;
	append(log, 20);
	append_control(log, 21, 4);
	pad(log);
	append_control(log, 22, 5);
	append(log, 23);
	EXPECT_EQ(replay(log, 20), seqs(20, 4));

	// A control record that decodes but names snapshot 0 ends the log.
	Bytes bad;
	append(bad, 20);
	append_control(bad, 21, 0);
	append(bad, 22);
	EXPECT_EQ(replay(bad, 20), seqs(20, 1));
}

TEST(Log, StopsAtATornBatch)
{
	Bytes log;
	append(log, 1);
	append(log, 2);
	pad(log);
	size_t torn_at = log.size();
	append(log, 3);
	append(log, 4);
	log.resize(torn_at + 700);	// the batch reached the media only in part
	EXPECT_EQ(replay(log, 1), seqs(1, 2));
}

TEST(Log, StopsAtADamagedRecord)
{
	Bytes log;
	append(log, 1);
	pad(log);
	size_t second = log.size();
	append(log, 2);
	append(log, 3);
	log[second + 200] ^= 1;
	EXPECT_EQ(replay(log, 1), seqs(1, 1));
}

TEST(Log, StopsAtStaleRecordsOfAnOlderUse)
{
	// A segment reused: new records 50-51, then leftovers 7-8 of its
	// previous life, which are valid records but out of sequence.
	Bytes old_life;
	append(old_life, 5);
	append(old_life, 6);
	pad(old_life);
	size_t keep = old_life.size();
	append(old_life, 7);
	append(old_life, 8);
	Bytes log;
	append(log, 50);
	append(log, 51);
	pad(log);
	ASSERT_LE(log.size(), keep);
	log.insert(log.end(), old_life.begin() + keep, old_life.end());
	EXPECT_EQ(replay(log, 50), seqs(50, 2));
}

TEST(Log, AnotherStoresRecordsAreNotOurs)
{
	// An earlier store on the device left records laid out like ours, in
	// sequence: they do not verify for this store.
	Bytes log;
	append(log, 1);
	append(log, 2, 1024, dynsnap_record_seed(kOtherUuid, DYNSNAP_TIER_FAST));
	append(log, 3);
	EXPECT_EQ(replay(log, 1), seqs(1, 1));
}

TEST(Log, FindsRecordsOfTheStoreAtAnyOffset)
{
	Bytes log(100, 0x44);
	append(log, 9);
	log.resize(log.size() + 3, 0);
	size_t second = log.size();
	append(log, 4);
	size_t other = log.size();
	append(log, 5, 1024, dynsnap_record_seed(kOtherUuid, DYNSNAP_TIER_FAST));
	log.resize(log.size() + 17, 0x53);

	dynsnap_record_header h;
	size_t pos = 0;
	ASSERT_EQ(dynsnap_log_find(log.data(), log.size(), &pos, kSeed, &h), DSN_OK);
	EXPECT_EQ(pos, 100u);
	EXPECT_EQ(h.sequence, 9u);
	pos++;
	ASSERT_EQ(dynsnap_log_find(log.data(), log.size(), &pos, kSeed, &h), DSN_OK);
	EXPECT_EQ(pos, second);
	EXPECT_EQ(h.sequence, 4u);
	pos++;
	EXPECT_EQ(dynsnap_log_find(log.data(), log.size(), &pos, kSeed, &h), DSN_ERR_LOG_END);
	pos = other;
	EXPECT_EQ(dynsnap_log_find(log.data(), log.size(), &pos,
				   dynsnap_record_seed(kOtherUuid, DYNSNAP_TIER_FAST), &h), DSN_OK);
	EXPECT_EQ(h.sequence, 5u);
	pos = 0;
	EXPECT_EQ(dynsnap_log_find(nullptr, 0, &pos, kSeed, &h), DSN_ERR_LOG_END);
	EXPECT_EQ(dynsnap_log_find(log.data(), 63, &pos, kSeed, &h), DSN_ERR_LOG_END);
}

TEST(Log, GarbageInPaddingEndsTheLog)
{
	Bytes log;
	append(log, 1);
	size_t end = log.size();
	pad(log);
	append(log, 2);
	ASSERT_GT(dynsnap_log_padded(end), end);
	log[end] = 0x55;	// not zero padding
	EXPECT_EQ(replay(log, 1), seqs(1, 1));
}

TEST(Log, EmptyAndShortBuffers)
{
	Bytes empty;
	EXPECT_TRUE(replay(empty, 1).empty());
	Bytes zeroes(4096, 0);
	EXPECT_TRUE(replay(zeroes, 1).empty());
	Bytes log;
	append(log, 1);
	log.pop_back();
	EXPECT_TRUE(replay(log, 1).empty());
}

} // namespace

namespace {

TEST(LogArea, SegmentsOfADeltaArea)
{
	EXPECT_EQ(dynsnap_log_nr_segments(0), 0u);
	EXPECT_EQ(dynsnap_log_nr_segments(DYNSNAP_SEG_SECTORS - 1), 0u);
	EXPECT_EQ(dynsnap_log_nr_segments(2 * DYNSNAP_SEG_SECTORS + 7), 2u);
	// Segment numbers are u32: a larger area is used up to the last one.
	EXPECT_EQ(dynsnap_log_nr_segments(~0ull), ~0u);
	EXPECT_EQ(dynsnap_log_segment_sector(24, 0), 24u);
	EXPECT_EQ(dynsnap_log_segment_sector(24, 3), 24u + 3 * DYNSNAP_SEG_SECTORS);
	EXPECT_EQ(dynsnap_log_segment_sector(0, ~0u), uint64_t(~0u) * DYNSNAP_SEG_SECTORS);
	EXPECT_EQ(DYNSNAP_SEG_BYTES, 4u << 20);
}

TEST(LogArea, OnlySegmentStartsInsideTheAreaNameASegment)
{
	const uint64_t start = 1000;
	uint32_t seg = 77;
	EXPECT_EQ(dynsnap_log_segment_of(start, 4, start, &seg), DSN_OK);
	EXPECT_EQ(seg, 0u);
	EXPECT_EQ(dynsnap_log_segment_of(start, 4, start + 3 * DYNSNAP_SEG_SECTORS, &seg), DSN_OK);
	EXPECT_EQ(seg, 3u);
	seg = 77;
	const uint64_t bads[] = {0, start - 1, start + 8, start + 4 * DYNSNAP_SEG_SECTORS,
				 start + DYNSNAP_SEG_SECTORS - 1, ~0ull,
				 start + (uint64_t(1) << 45) * DYNSNAP_SEG_SECTORS};
	for (uint64_t bad : bads)
		EXPECT_EQ(dynsnap_log_segment_of(start, 4, bad, &seg), DSN_ERR_LOG_SEGMENT) << bad;
	EXPECT_EQ(dynsnap_log_segment_of(start, 0, start, &seg), DSN_ERR_LOG_SEGMENT);
	EXPECT_EQ(seg, 77u);
}

TEST(LogArea, ABatchHoldsASegmentHeaderAndTheLargestRecord)
{
	EXPECT_GE(DYNSNAP_LOG_BATCH_BYTES,
		  DYNSNAP_SEG_HEADER_SIZE + DYNSNAP_REC_HEADER_SIZE + DYNSNAP_REC_MAX_STORED);
	EXPECT_LT(DYNSNAP_LOG_BATCH_BYTES, DYNSNAP_SEG_BYTES);
}

} // namespace

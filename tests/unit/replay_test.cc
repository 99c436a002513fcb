// SPDX-License-Identifier: GPL-2.0
// The replay rules of the core: where a log starts, when it goes on in the
// next segment, which damaged record is kept, and what a control or delta
// record does to the store; corrupt and out-of-range input gets its error.
#include <gtest/gtest.h>

#include <vector>

#include "dynsnap_replay.h"

namespace {

using Bytes = std::vector<uint8_t>;

const uint8_t kUuid[DYNSNAP_UUID_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8,
					  9, 10, 11, 12, 13, 14, 15, 16};
const uint8_t kOtherUuid[DYNSNAP_UUID_SIZE] = {9, 2, 3, 4, 5, 6, 7, 8,
					       9, 10, 11, 12, 13, 14, 15, 16};
const uint32_t kSeed = dynsnap_record_seed(kUuid, DYNSNAP_TIER_FAST);

dynsnap_segment_header seg(uint64_t segment_seq, uint64_t first_record_seq)
{
	return {DYNSNAP_TIER_FAST, segment_seq, first_record_seq, {}, 16};
}

TEST(ReplaySegment, DecodesOnlyTheTiersOwnHeaders)
{
	dynsnap_segment_header in{DYNSNAP_TIER_SLOW, 3, 9, {}, 16}, out;
	memcpy(in.uuid, kUuid, sizeof(kUuid));
	Bytes b(DYNSNAP_SEG_HEADER_SIZE);
	dynsnap_segment_encode(&in, b.data());
	EXPECT_EQ(dynsnap_replay_segment(b.data(), b.size(), kUuid, DYNSNAP_TIER_SLOW, &out),
		  DSN_OK);
	EXPECT_EQ(out.segment_seq, 3u);
	EXPECT_EQ(dynsnap_replay_segment(b.data(), b.size(), kUuid, DYNSNAP_TIER_FAST, &out),
		  DSN_ERR_SEG_TIER);
	b[100] ^= 1;
	EXPECT_EQ(dynsnap_replay_segment(b.data(), b.size(), kUuid, DYNSNAP_TIER_SLOW, &out),
		  DSN_ERR_SEG_CSUM);
	EXPECT_EQ(dynsnap_replay_segment(nullptr, 0, kUuid, DYNSNAP_TIER_SLOW, &out),
		  DSN_ERR_SEG_SHORT);
}

TEST(ReplayHead, TheCheckpointsHeadMustBeThere)
{
	dynsnap_segment_header h = seg(7, 100);
	EXPECT_EQ(dynsnap_replay_head(&h, 7), DSN_OK);
	EXPECT_EQ(dynsnap_replay_head(&h, 6), DSN_ERR_LOG_HEAD);
	EXPECT_EQ(dynsnap_replay_head(nullptr, 7), DSN_ERR_LOG_HEAD);
}

TEST(ReplayHead, WithoutACheckpointSegmentZeroStartsTheLogOrItIsEmpty)
{
	dynsnap_segment_header first = seg(DYNSNAP_LOG_FIRST_SEGMENT_SEQ, 5), later = seg(2, 9);
	EXPECT_EQ(dynsnap_replay_head(&first, 0), DSN_OK);
	EXPECT_EQ(dynsnap_replay_head(&later, 0), DSN_ERR_LOG_EMPTY);
	EXPECT_EQ(dynsnap_replay_head(nullptr, 0), DSN_ERR_LOG_EMPTY);
}

TEST(ReplaySuccessor, GoesOnEndsOrIsInconsistent)
{
	dynsnap_segment_header cur = seg(4, 10);
	dynsnap_segment_header next = seg(5, 20), other = seg(9, 20), old = seg(3, 20);
	EXPECT_EQ(dynsnap_replay_successor(&cur, &next, 20), DSN_OK);
	EXPECT_EQ(dynsnap_replay_successor(&cur, &next, 19), DSN_ERR_LOG_GAP);
	EXPECT_EQ(dynsnap_replay_successor(&cur, &next, 21), DSN_ERR_LOG_PASSED);
	EXPECT_EQ(dynsnap_replay_successor(&cur, &other, 20), DSN_ERR_LOG_END);
	EXPECT_EQ(dynsnap_replay_successor(&cur, &old, 20), DSN_ERR_LOG_END);
	EXPECT_EQ(dynsnap_replay_successor(&cur, nullptr, 20), DSN_ERR_LOG_END);
}

// Records of a segment, after its header block.
// Batches as the kernel's writer makes them: each record says the first
// record of its batch (in_flight), pad() ends a batch.
struct Log {
	Bytes b;
	uint64_t batch_seq = 0;		// 0: the next record starts a batch
	uint32_t seed = kSeed;
	uint32_t in_flight(uint64_t seq)
	{
		if (!batch_seq)
			batch_seq = seq;
		return static_cast<uint32_t>(seq - batch_seq);
	}
	size_t append(uint64_t seq, uint32_t length = 1024)
	{
		dynsnap_record_header h;
		dynsnap_record_init(&h, DYNSNAP_LEVEL_SUB, seq, 3, seq * 8, length);
		h.stored_length = length;
		h.in_flight = in_flight(seq);
		size_t at = b.size();
		b.resize(at + DYNSNAP_REC_HEADER_SIZE + length);
		for (uint32_t i = 0; i < length; i++)
			b[at + DYNSNAP_REC_HEADER_SIZE + i] = uint8_t(seq + i);
		dynsnap_record_encode(&h, &b[at], &b[at + DYNSNAP_REC_HEADER_SIZE], seed);
		return at;
	}
	size_t append_control(uint64_t seq)
	{
		dynsnap_record_header h;
		dynsnap_record_init_control(&h, DYNSNAP_CTL_SNAP_DELETE, seq, 3,
					    DYNSNAP_CTL_SNAP_DELETE_SIZE);
		h.in_flight = in_flight(seq);
		dynsnap_ctl_snap_delete del{4};
		size_t at = b.size();
		b.resize(at + DYNSNAP_REC_HEADER_SIZE + DYNSNAP_CTL_SNAP_DELETE_SIZE);
		dynsnap_ctl_snap_delete_encode(&del, &b[at + DYNSNAP_REC_HEADER_SIZE]);
		dynsnap_record_encode(&h, &b[at], &b[at + DYNSNAP_REC_HEADER_SIZE], seed);
		return at;
	}
	void pad()
	{
		b.resize(dynsnap_log_padded(b.size()), 0);
		batch_seq = 0;
	}
};

TEST(ReplaySkipDamaged, KeepsADamagedRecordTheLogGoesOnAfter)
{
	Log log;
	log.append(1);
	size_t at = log.append(2);
	size_t after = log.append(3);
	log.b[at + DYNSNAP_REC_HEADER_SIZE + 5] ^= 0xff;	// payload damage

	size_t pos = at;
	dynsnap_record_header h;
	const uint8_t *payload;
	ASSERT_EQ(dynsnap_log_next(log.b.data(), log.b.size(), &pos, kSeed, 2, &h, &payload),
		  DSN_ERR_LOG_END);
	ASSERT_EQ(pos, at);
	ASSERT_EQ(dynsnap_replay_skip_damaged(log.b.data(), log.b.size(), &pos, kSeed, 2, &h), DSN_OK);
	EXPECT_EQ(pos, after);
	EXPECT_EQ(h.sequence, 2u);
}

TEST(ReplaySkipDamaged, ADamagedRecordAcrossPaddingIsFoundOnTheNextSector)
{
	Log log;
	log.append(1, 512);
	size_t end = log.b.size();
	log.pad();
	size_t at = log.append(2);
	log.append(3);
	log.b[at + DYNSNAP_REC_HEADER_SIZE] ^= 1;
	size_t pos = end;
	dynsnap_record_header h;
	ASSERT_EQ(dynsnap_replay_skip_damaged(log.b.data(), log.b.size(), &pos, kSeed, 2, &h), DSN_OK);
	EXPECT_EQ(pos, at + DYNSNAP_REC_HEADER_SIZE + 1024);
}

TEST(ReplaySkipDamaged, TheLogEndsWhereNothingFollowsOrTheHeaderLies)
{
	dynsnap_record_header h;
	for (int what = 0; what < 5; what++) {
		Log log;
		log.append(1);
		size_t at = log.append(2);
		if (what != 0)
			log.append(3);
		switch (what) {
		case 0:	// the last record: a torn batch looks the same
		case 1:	// payload damage, yet sequence 3 follows: control below
			log.b[at + DYNSNAP_REC_HEADER_SIZE] ^= 1;
			break;
		case 2:	// the header is damaged beyond reading
			log.b[at + 4] ^= 1;
			break;
		case 3:	// the record after it is damaged too
			log.b[at + DYNSNAP_REC_HEADER_SIZE] ^= 1;
			log.b[log.b.size() - 1] ^= 1;
			break;
		case 4:	// a stale record of another sequence
			log.b[at + DYNSNAP_REC_HEADER_SIZE] ^= 1;
			break;
		}
		size_t pos = at;
		uint64_t seq = what == 4 ? 7 : 2;
		dynsnap_err want = what == 1 ? DSN_OK : DSN_ERR_LOG_END;
		EXPECT_EQ(dynsnap_replay_skip_damaged(log.b.data(), log.b.size(), &pos, kSeed, seq, &h),
			  want) << what;
		if (want != DSN_OK) {
			EXPECT_EQ(pos, at) << what;
		}
	}
}

TEST(ReplaySkipDamaged, ADamagedControlRecordEndsTheLog)
{
	Log log;
	size_t at = log.append_control(1);
	log.append(2);
	log.b[at + DYNSNAP_REC_HEADER_SIZE] ^= 1;
	size_t pos = at;
	dynsnap_record_header h;
	EXPECT_EQ(dynsnap_replay_skip_damaged(log.b.data(), log.b.size(), &pos, kSeed, 1, &h),
		  DSN_ERR_LOG_END);
}

TEST(ReplaySkipDamaged, OutOfRangeInputEndsTheLog)
{
	Log log;
	log.append(1);
	dynsnap_record_header h;
	size_t pos = log.b.size() + 1;
	EXPECT_EQ(dynsnap_replay_skip_damaged(log.b.data(), log.b.size(), &pos, kSeed, 1, &h),
		  DSN_ERR_LOG_END);
	pos = ~size_t(0);
	EXPECT_EQ(dynsnap_replay_skip_damaged(log.b.data(), log.b.size(), &pos, kSeed, 1, &h),
		  DSN_ERR_LOG_END);
	pos = 0;
	EXPECT_EQ(dynsnap_replay_skip_damaged(nullptr, 0, &pos, kSeed, 1, &h), DSN_ERR_LOG_END);
	EXPECT_EQ(dynsnap_replay_skip_damaged(log.b.data(), 10, &pos, kSeed, 1, &h), DSN_ERR_LOG_END);
	EXPECT_EQ(pos, 0u);
}

// What lies past the end of a log: damage when a later batch says so.
dynsnap_err past_end(const Log &log, size_t from, uint64_t end_seq, size_t *found = nullptr,
		     uint64_t *found_seq = nullptr)
{
	dynsnap_record_header h;
	size_t pos = from;
	dynsnap_err e = dynsnap_replay_past_end(log.b.data(), log.b.size(), &pos, kSeed, end_seq,
						&h);
	if (e == DSN_ERR_LOG_DAMAGED) {
		if (found)
			*found = pos;
		if (found_seq)
			*found_seq = h.sequence;
	}
	return e;
}

TEST(ReplayPastEnd, AHeaderDamagedBeyondReadingBeforeALaterBatchIsDamage)
{
	Log log;
	log.append(10);
	size_t at = log.append(11);
	log.append(12);
	log.pad();
	size_t later = log.append(13);
	log.append(14);
	log.pad();
	log.b[at + 4] ^= 1;	// magic: the header no longer reads
	size_t found = 0;
	uint64_t seq = 0;
	// The replay ends before 11, at its position.
	EXPECT_EQ(past_end(log, at, 11, &found, &seq), DSN_ERR_LOG_DAMAGED);
	EXPECT_EQ(found, later);
	EXPECT_EQ(seq, 13u);
}

TEST(ReplayPastEnd, DamageInTheLastBatchLooksLikeATornBatch)
{
	// Records 11-12 of the batch 10-12 may have been torn by the crash:
	// nothing written after them says they were ever durable.
	Log log;
	log.append(10);
	size_t at = log.append(11);
	log.append(12);
	log.pad();
	log.b[at + 4] ^= 1;
	EXPECT_EQ(past_end(log, at, 11), DSN_OK);
	// The same when the batch is the log's first.
	EXPECT_EQ(past_end(log, 0, 10), DSN_OK);
}

TEST(ReplayPastEnd, WhatAnEarlierLifeOrAnotherStoreLeftIsNoEvidence)
{
	// A segment reused: its current records end at 51; leftovers of its
	// previous life (5-8, from two batches) and of another store follow.
	Log log;
	log.append(50);
	log.append(51);
	log.pad();
	size_t end = log.b.size();
	log.append(5);
	log.pad();
	log.append(6);
	log.append(7);
	log.pad();
	Log other;
	other.seed = dynsnap_record_seed(kOtherUuid, DYNSNAP_TIER_FAST);
	other.append(60);
	other.pad();
	other.append(61);
	other.pad();
	log.b.insert(log.b.end(), other.b.begin(), other.b.end());
	EXPECT_EQ(past_end(log, end, 52), DSN_OK);
}

TEST(ReplayPastEnd, ATornBatchLeftBehindByAnEarlierCrashIsNoEvidence)
{
	// A crash tore the batch 20-29 (only 25-29 reached the disk); the log
	// went on from 20 after it, with shorter records, and ends at 23 now.
	Log torn;
	for (uint64_t s = 20; s < 30; s++)
		torn.append(s, 512);
	Log log;
	log.append(20, 512);
	log.pad();
	log.append(21, 512);
	log.append(22, 512);
	log.pad();
	size_t end = log.b.size();
	ASSERT_LT(end, torn.b.size());
	log.b.insert(log.b.end(), torn.b.begin() + long(end), torn.b.end());
	EXPECT_EQ(past_end(log, end, 23), DSN_OK);
}

TEST(ReplayPastEnd, AnyLaterBatchCounts)
{
	// Not only the next one: a record of any batch written once the end
	// was durable, at any offset, also after unreadable bytes.
	Log log;
	log.append(1);
	log.pad();
	size_t end = log.b.size();
	log.append(2);
	log.pad();
	log.append(3);
	log.pad();
	size_t third = log.append(4);
	log.append(5);
	std::fill(log.b.begin() + long(end), log.b.begin() + long(third) + 7, 0xee);
	size_t found = 0;
	EXPECT_EQ(past_end(log, end, 2, &found), DSN_ERR_LOG_DAMAGED);
	EXPECT_GT(found, third);	// record 5: record 4's header is gone
	EXPECT_EQ(past_end(log, end, 6), DSN_OK);	// all of it before the end
}

TEST(ReplayPastEnd, OutOfRangeInputFindsNothing)
{
	Log log;
	log.append(1);
	log.pad();
	log.append(2);
	EXPECT_EQ(past_end(log, log.b.size(), 1), DSN_OK);
	EXPECT_EQ(past_end(log, ~size_t(0), 1), DSN_OK);
	dynsnap_record_header h;
	size_t pos = 0;
	EXPECT_EQ(dynsnap_replay_past_end(nullptr, 0, &pos, kSeed, 1, &h), DSN_OK);
}

TEST(ReplayUnheaded, OneBatchIsAnEmptyLogTwoAreDamage)
{
	dynsnap_record_header h;
	size_t pos = 0;
	u64 highest = 99;
	Log log;
	EXPECT_EQ(dynsnap_replay_unheaded(log.b.data(), log.b.size(), kSeed, &pos, &h, &highest), DSN_OK);
	EXPECT_EQ(highest, 0u);
	log.append(700);
	log.append(701);
	log.pad();
	// What a torn first batch leaves: the log starts empty, above it.
	EXPECT_EQ(dynsnap_replay_unheaded(log.b.data(), log.b.size(), kSeed, &pos, &h, &highest), DSN_OK);
	EXPECT_EQ(highest, 701u);
	size_t later = log.append(702);
	EXPECT_EQ(dynsnap_replay_unheaded(log.b.data(), log.b.size(), kSeed, &pos, &h, &highest),
		  DSN_ERR_LOG_DAMAGED);
	EXPECT_EQ(pos, later);
	EXPECT_EQ(h.sequence, 702u);
	// Also when the first record of the first batch is unreadable.
	Log partial = log;
	std::fill(partial.b.begin(), partial.b.begin() + 1000, 0);
	EXPECT_EQ(dynsnap_replay_unheaded(partial.b.data(), partial.b.size(), kSeed, &pos, &h, &highest),
		  DSN_ERR_LOG_DAMAGED);
	// Another store's two batches are nothing of ours.
	Log other;
	other.seed = dynsnap_record_seed(kOtherUuid, DYNSNAP_TIER_FAST);
	other.append(1);
	other.pad();
	other.append(2);
	EXPECT_EQ(dynsnap_replay_unheaded(other.b.data(), other.b.size(), kSeed, &pos, &h, &highest),
		  DSN_OK);
}

// A control record and its payload.
struct Control {
	dynsnap_record_header h;
	Bytes payload;
};

Control snap_create(uint64_t seq, uint64_t id, uint64_t epoch, const char *name = "s")
{
	Control c;
	dynsnap_record_init_control(&c.h, DYNSNAP_CTL_SNAP_CREATE, seq, 1,
				    DYNSNAP_CTL_SNAP_CREATE_SIZE);
	dynsnap_ctl_snap_create s{};
	s.id = id;
	s.epoch = epoch;
	s.name_len = strlen(name);
	memcpy(s.name, name, s.name_len);
	c.payload.resize(DYNSNAP_CTL_SNAP_CREATE_SIZE);
	dynsnap_ctl_snap_create_encode(&s, c.payload.data());
	return c;
}

Control snap_delete(uint64_t seq, uint64_t id)
{
	Control c;
	dynsnap_record_init_control(&c.h, DYNSNAP_CTL_SNAP_DELETE, seq, 1,
				    DYNSNAP_CTL_SNAP_DELETE_SIZE);
	dynsnap_ctl_snap_delete d{id};
	c.payload.resize(DYNSNAP_CTL_SNAP_DELETE_SIZE);
	dynsnap_ctl_snap_delete_encode(&d, c.payload.data());
	return c;
}

Control granularity(uint64_t seq, uint32_t first, uint32_t count, uint32_t level)
{
	Control c;
	dynsnap_record_init_control(&c.h, DYNSNAP_CTL_GRANULARITY, seq, 1,
				    DYNSNAP_CTL_GRANULARITY_SIZE);
	dynsnap_ctl_granularity g{3, first, count, level};
	c.payload.resize(DYNSNAP_CTL_GRANULARITY_SIZE);
	dynsnap_ctl_granularity_encode(&g, c.payload.data());
	return c;
}

TEST(ReplayControlSeen, FollowsTheEpochAndSkipsWhatTheCheckpointHolds)
{
	Control c = snap_create(10, 3, 7);
	uint32_t replay_epoch = 2;
	bool covered = true;
	EXPECT_EQ(dynsnap_replay_control_seen(&c.h, c.payload.data(), DYNSNAP_TIER_FAST, 10,
					      &replay_epoch, &covered), DSN_OK);
	EXPECT_FALSE(covered);
	EXPECT_EQ(replay_epoch, 7u);

	// Held by the checkpoint: skipped, but its epoch still counts.
	replay_epoch = 2;
	EXPECT_EQ(dynsnap_replay_control_seen(&c.h, c.payload.data(), DYNSNAP_TIER_FAST, 11,
					      &replay_epoch, &covered), DSN_OK);
	EXPECT_TRUE(covered);
	EXPECT_EQ(replay_epoch, 7u);

	Control d = snap_delete(5, 3);
	EXPECT_EQ(dynsnap_replay_control_seen(&d.h, d.payload.data(), DYNSNAP_TIER_FAST, 6,
					      &replay_epoch, &covered), DSN_OK);
	EXPECT_TRUE(covered);
	EXPECT_EQ(replay_epoch, 7u);
}

TEST(ReplayControlSeen, RefusesWhatCannotBeInTheJournal)
{
	Control c = snap_create(10, 3, 7);
	uint32_t replay_epoch = 2;
	bool covered = true;
	EXPECT_EQ(dynsnap_replay_control_seen(&c.h, c.payload.data(), DYNSNAP_TIER_SLOW, 0,
					      &replay_epoch, &covered), DSN_ERR_REPLAY_CTL_TIER);
	EXPECT_FALSE(covered);
	EXPECT_EQ(dynsnap_replay_control_seen(&c.h, nullptr, DYNSNAP_TIER_FAST, 0,
					      &replay_epoch, &covered), DSN_ERR_CTL_SHORT);
	Control big = snap_create(10, 3, 1ull << 32);
	EXPECT_EQ(dynsnap_replay_control_seen(&big.h, big.payload.data(), DYNSNAP_TIER_FAST, 0,
					      &replay_epoch, &covered),
		  DSN_ERR_REPLAY_SNAP_EPOCH);
	EXPECT_EQ(replay_epoch, 2u);
	dynsnap_record_header delta;
	dynsnap_record_init(&delta, DYNSNAP_LEVEL_BLOCK, 1, 1, 0, 4096);
	EXPECT_EQ(dynsnap_replay_control_seen(&delta, nullptr, DYNSNAP_TIER_FAST, 0,
					      &replay_epoch, &covered), DSN_ERR_CTL_TYPE);
}

TEST(ReplayControl, ASnapshotOpensTheNextEpoch)
{
	Control c = snap_create(10, 5, 4, "daily");
	dynsnap_replay_ctl r;
	ASSERT_EQ(dynsnap_replay_control(&c.h, c.payload.data(), 3, 5, 16, &r), DSN_OK);
	EXPECT_EQ(r.type, (uint32_t)DYNSNAP_CTL_SNAP_CREATE);
	EXPECT_EQ(r.epoch, 4u);
	EXPECT_EQ(r.next_id, 6u);
	EXPECT_STREQ(r.create.name, "daily");

	EXPECT_EQ(dynsnap_replay_control(&c.h, c.payload.data(), 2, 5, 16, &r),
		  DSN_ERR_REPLAY_SNAP_EPOCH);
	EXPECT_EQ(dynsnap_replay_control(&c.h, c.payload.data(), 4, 5, 16, &r),
		  DSN_ERR_REPLAY_SNAP_EPOCH);
	EXPECT_EQ(dynsnap_replay_control(&c.h, c.payload.data(), 3, 6, 16, &r),
		  DSN_ERR_REPLAY_SNAP_ID);
	EXPECT_EQ(r.create.id, 5u);	// decoded all the same, for the message
	// Ids may skip, never go back.
	EXPECT_EQ(dynsnap_replay_control(&c.h, c.payload.data(), 3, 2, 16, &r), DSN_OK);
	EXPECT_EQ(r.next_id, 6u);
}

TEST(ReplayControl, EpochsAndIdsAtTheirLimits)
{
	dynsnap_replay_ctl r;
	Control last = snap_create(1, 9, 0xffffffffull);
	ASSERT_EQ(dynsnap_replay_control(&last.h, last.payload.data(), 0xfffffffe, 1, 1, &r),
		  DSN_OK);
	EXPECT_EQ(r.epoch, 0xffffffffu);
	// No epoch after the last: it would not fit.
	Control past = snap_create(1, 9, 1ull << 32);
	EXPECT_EQ(dynsnap_replay_control(&past.h, past.payload.data(), 0xffffffff, 1, 1, &r),
		  DSN_ERR_REPLAY_SNAP_EPOCH);
	// An id with no id after it.
	Control id = snap_create(1, ~0ull, 2);
	EXPECT_EQ(dynsnap_replay_control(&id.h, id.payload.data(), 1, 1, 1, &r),
		  DSN_ERR_REPLAY_SNAP_ID);
}

TEST(ReplayControl, DeletesAndGranularity)
{
	dynsnap_replay_ctl r;
	Control d = snap_delete(3, 42);
	ASSERT_EQ(dynsnap_replay_control(&d.h, d.payload.data(), 7, 50, 16, &r), DSN_OK);
	EXPECT_EQ(r.type, (uint32_t)DYNSNAP_CTL_SNAP_DELETE);
	EXPECT_EQ(r.del.id, 42u);
	EXPECT_EQ(r.epoch, 7u);
	EXPECT_EQ(r.next_id, 50u);

	Control g = granularity(4, 10, 6, DYNSNAP_LEVEL_BIT);
	ASSERT_EQ(dynsnap_replay_control(&g.h, g.payload.data(), 7, 50, 16, &r), DSN_OK);
	EXPECT_EQ(r.gran.first_region, 10u);
	EXPECT_EQ(r.gran.count, 6u);
	EXPECT_EQ(r.gran.level, (uint32_t)DYNSNAP_LEVEL_BIT);
	EXPECT_EQ(dynsnap_replay_control(&g.h, g.payload.data(), 7, 50, 15, &r),
		  DSN_ERR_REPLAY_REGIONS);
	Control far = granularity(4, 16, 1, DYNSNAP_LEVEL_BIT);
	EXPECT_EQ(dynsnap_replay_control(&far.h, far.payload.data(), 7, 50, 16, &r),
		  DSN_ERR_REPLAY_REGIONS);
	Control huge = granularity(4, 0xfffffff0u, 0xf, DYNSNAP_LEVEL_BIT);
	EXPECT_EQ(dynsnap_replay_control(&huge.h, huge.payload.data(), 7, 50, 1ull << 33, &r),
		  DSN_OK);
}

TEST(ReplayControl, RefusesWhatDoesNotDecode)
{
	dynsnap_replay_ctl r;
	Control d = snap_delete(3, 42);
	EXPECT_EQ(dynsnap_replay_control(&d.h, nullptr, 7, 50, 16, &r), DSN_ERR_CTL_SHORT);
	d.h.stored_length = 8;
	EXPECT_EQ(dynsnap_replay_control(&d.h, d.payload.data(), 7, 50, 16, &r),
		  DSN_ERR_CTL_SHORT);
	Control t = snap_delete(3, 42);
	t.h.level = 9;
	EXPECT_EQ(dynsnap_replay_control(&t.h, t.payload.data(), 7, 50, 16, &r),
		  DSN_ERR_CTL_TYPE);
	Control g = granularity(4, 0, 1, DYNSNAP_LEVEL__COUNT);
	EXPECT_EQ(dynsnap_replay_control(&g.h, g.payload.data(), 7, 50, 16, &r),
		  DSN_ERR_REC_LEVEL);
	dynsnap_record_header delta;
	dynsnap_record_init(&delta, DYNSNAP_LEVEL_BLOCK, 1, 1, 0, 4096);
	EXPECT_EQ(dynsnap_replay_control(&delta, nullptr, 7, 50, 16, &r), DSN_ERR_CTL_TYPE);
}

const dynsnap_geometry kGeo = {16, 8, 8192};	// 8 KiB blocks of 4 KiB sub-blocks
const uint64_t kVolume = 1 << 20;

dynsnap_record_header delta(uint64_t epoch, uint64_t location = 16)
{
	dynsnap_record_header h;
	dynsnap_record_init(&h, DYNSNAP_LEVEL_BLOCK, 1, epoch, location, 8192);
	return h;
}

TEST(ReplayDelta, AVerifiedRecordKeepsItsEpoch)
{
	dynsnap_record_header h = delta(3);
	uint32_t replay_epoch = 0, epoch = 0;
	ASSERT_EQ(dynsnap_replay_delta(&h, DYNSNAP_TIER_FAST, &kGeo, kVolume, 5,
				       &replay_epoch, &epoch), DSN_OK);
	EXPECT_EQ(epoch, 3u);
	EXPECT_EQ(replay_epoch, 3u);
	// The slow log is not in epoch order: it tells nothing of the fast one.
	h = delta(5);
	ASSERT_EQ(dynsnap_replay_delta(&h, DYNSNAP_TIER_SLOW, &kGeo, kVolume, 5,
				       &replay_epoch, &epoch), DSN_OK);
	EXPECT_EQ(epoch, 5u);
	EXPECT_EQ(replay_epoch, 3u);
}

TEST(ReplayDelta, RefusesEpochsAndPlacesTheStoreCannotHave)
{
	uint32_t replay_epoch = 2, epoch = 77;
	dynsnap_record_header h = delta(0);
	EXPECT_EQ(dynsnap_replay_delta(&h, DYNSNAP_TIER_FAST, &kGeo, kVolume, 5,
				       &replay_epoch, &epoch), DSN_ERR_REPLAY_EPOCH);
	h = delta(6);
	EXPECT_EQ(dynsnap_replay_delta(&h, DYNSNAP_TIER_FAST, &kGeo, kVolume, 5,
				       &replay_epoch, &epoch), DSN_ERR_REPLAY_EPOCH);
	h = delta(1ull << 32 | 3);
	EXPECT_EQ(dynsnap_replay_delta(&h, DYNSNAP_TIER_FAST, &kGeo, kVolume, 5,
				       &replay_epoch, &epoch), DSN_ERR_REPLAY_EPOCH);
	// A record must fit the store.
	h = delta(3, kVolume);
	EXPECT_EQ(dynsnap_replay_delta(&h, DYNSNAP_TIER_FAST, &kGeo, kVolume, 5,
				       &replay_epoch, &epoch), DSN_ERR_REC_LENGTH);
	h = delta(3, 8);	// not block aligned
	EXPECT_EQ(dynsnap_replay_delta(&h, DYNSNAP_TIER_SLOW, &kGeo, kVolume, 5,
				       &replay_epoch, &epoch), DSN_ERR_REC_LENGTH);
	dynsnap_record_header c;
	dynsnap_record_init_control(&c, DYNSNAP_CTL_SNAP_DELETE, 1, 1,
				    DYNSNAP_CTL_SNAP_DELETE_SIZE);
	EXPECT_EQ(dynsnap_replay_delta(&c, DYNSNAP_TIER_FAST, &kGeo, kVolume, 5,
				       &replay_epoch, &epoch), DSN_ERR_REC_FLAGS);
	EXPECT_EQ(replay_epoch, 2u);
	EXPECT_EQ(epoch, 77u);
}

TEST(ReplayErrors, EveryNewCodeHasItsOwnMessage)
{
	for (int e = DSN_ERR_LOG_SEGMENT; e <= DSN_ERR_LEVEL_NAME; e++) {
		std::string m = dynsnap_strerror(static_cast<dynsnap_err>(e));
		EXPECT_NE(m, "unknown error") << e;
		for (int o = DSN_OK; o < e; o++)
			EXPECT_NE(m, dynsnap_strerror(static_cast<dynsnap_err>(o))) << e << " " << o;
	}
}

} // namespace

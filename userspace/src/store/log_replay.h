// SPDX-License-Identifier: GPL-2.0
// The replay of one tier's delta log, offline: the walk that
// dsn_log_replay() (kernel/dm-dynsnap-log.c) makes at activation, from the
// head segment along the chain, every record verified, with the same
// decisions about damaged records, the end of the log, missing records and
// broken chains. Where the kernel refuses the table, or counts a damaged
// record, a Problem says where; where the kernel silently takes damage for
// the end of the log, the walk looks further and reports what it finds.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dynsnap_log.h"
#include "store/store_reader.h"
#include "store/tier_device.h"

namespace dynsnap::store {

// Where a tier's log lives.
struct LogArea {
	uint32_t tier;		// enum dynsnap_tier
	const uint8_t *uuid;	// the store's
	uint64_t start;		// first sector of the delta area
	uint64_t sectors;	// sectors of the delta area
};

// A record as the replay passes it on.
struct LogRecord {
	dynsnap_record_header header;
	const uint8_t *payload;	// valid during the call; nullptr: damaged, kept
	uint32_t segment;	// index in the delta area
	uint64_t offset;	// bytes after the segment's header block
	uint64_t device_offset;
};

struct LogSegment {
	uint32_t index;
	uint64_t sector;
	uint64_t segment_seq;
	uint64_t first_record_seq;
	uint64_t next_segment_sector;
	uint64_t records = 0;
	uint64_t damaged_records = 0;
	uint64_t bytes = 0;	// records, headers included
};

// Where the log ends and what lies there.
struct LogEnd {
	uint32_t segment;
	uint64_t offset;	// where the last record ends, after the header block
	uint64_t device_offset;
	uint64_t next_seq;	// the sequence the next record gets
	std::string found;	// zeroes, segment_end, torn_record, stale_record, other
};

struct LogReplay {
	uint64_t nr_segments = 0;
	bool empty = false;		// no first segment: activation starts a log
	bool unknown = false;		// LogHead::kUnknown found no first segment
	uint64_t head_sector = 0;
	uint64_t head_seq = 0;
	bool from_checkpoint = false;	// the head is the one a checkpoint names
	std::vector<LogSegment> segments;	// in chain order
	std::set<uint32_t> used;		// chain and reserved successor
	std::optional<LogEnd> end;
	// The reason activation would refuse the table for this log, as the
	// kernel words it; empty when it would not.
	std::string refusal;
};

using LogRecordFn = std::function<void(const LogRecord &)>;

// How the replay finds the log's first segment.
enum class LogHead {
	kCheckpoint,	// the segment a checkpoint names
	kNone,		// no checkpoint: segment 0 if it is the log's first
	kUnknown,	// no valid checkpoint although one was written: segment 0
			// if it is still the log's first, else nothing is replayed
};

// Replay the log of @area on @dev from its head (@how; for kCheckpoint the
// segment at @head_sector whose header carries @head_seq, and records below
// @durable_seq were durable), calling @fn for every record in order. Problems and notes are appended to @problems and
// @notes. Where records are missing, activation stops; the walk goes on
// from the next segment, to check what follows.
LogReplay replay_log(TierDevice &dev, const LogArea &area, LogHead how,
		     uint64_t head_sector, uint64_t head_seq, uint64_t durable_seq,
		     const LogRecordFn &fn,
		     std::vector<Problem> &problems, std::vector<Problem> &notes);

const char *tier_name(uint32_t tier);

std::string strprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// For %llu: uint64_t and the core's u64 are different types.
inline unsigned long long ull(uint64_t v)
{
	return v;
}

} // namespace dynsnap::store

// SPDX-License-Identifier: GPL-2.0
#include "store/log_replay.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "dynsnap_names.h"
#include "dynsnap_replay.h"

namespace dynsnap::store {

std::string strprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	va_list copy;
	va_copy(copy, ap);
	int n = std::vsnprintf(nullptr, 0, fmt, copy);
	va_end(copy);
	std::string s(n > 0 ? static_cast<size_t>(n) : 0, '\0');
	if (n > 0)
		std::vsnprintf(s.data(), s.size() + 1, fmt, ap);
	va_end(ap);
	return s;
}

const char *tier_name(uint32_t tier)
{
	const char *name = dynsnap_tier_name(tier);
	return name ? name : "unknown";
}

namespace {

constexpr uint64_t kSegBytes = DYNSNAP_SEG_BYTES;
constexpr size_t kDataBytes = kSegBytes - DYNSNAP_SEG_HEADER_SIZE;
/*
 * The largest batch the kernel writes: a record further than this past a
 * point of the log was written by a later batch (core/dynsnap_log.h).
 */
constexpr uint64_t kBatchBytes = DYNSNAP_LOG_BATCH_BYTES;
/*
 * Most records one segment holds. A look past the end of the log accepts
 * only sequences this close to the end: an earlier store's records started
 * at another random sequence, and an earlier use of the segment by this
 * store left lower ones.
 */
constexpr uint64_t kMaxSegRecords = kDataBytes / DYNSNAP_REC_HEADER_SIZE;

constexpr const char *kInconsistent = "delta log is inconsistent";
constexpr const char *kCannotRead = "cannot read delta log";
constexpr const char *kTooSmall = "a tier's data area is too small for two delta segments";

uint64_t sector_bytes(uint64_t sector)
{
	return sector > (UINT64_MAX >> DYNSNAP_SECTOR_SHIFT) ? UINT64_MAX
							   : sector << DYNSNAP_SECTOR_SHIFT;
}

// A record of the log found where the replay does not look.
struct Found {
	size_t pos;		// bytes after the segment's header block
	uint64_t seq;
};

struct Evidence {
	std::optional<Found> first;
	std::optional<Found> later_batch;	// beyond the batch that may be torn
};

class Walker {
public:
	Walker(TierDevice &dev, const LogArea &area, std::vector<Problem> &problems,
	       std::vector<Problem> &notes)
		: dev_(dev), area_(area), problems_(problems), notes_(notes),
		  header_(DYNSNAP_SEG_HEADER_SIZE), segment_(kSegBytes)
	{
	}

	LogReplay run(LogHead how, uint64_t head_sector, uint64_t head_seq,
		      const LogRecordFn &fn);

private:
	enum class Header { kOk, kInvalid, kUnreadable };

	const uint8_t *data() const { return segment_.data() + DYNSNAP_SEG_HEADER_SIZE; }
	uint64_t seg_offset(uint32_t seg) const
	{
		return dynsnap_log_segment_sector(area_.start, seg) << DYNSNAP_SECTOR_SHIFT;
	}
	uint64_t data_offset(uint32_t seg, size_t pos) const
	{
		return seg_offset(seg) + DYNSNAP_SEG_HEADER_SIZE + pos;
	}
	bool seg_from_sector(uint64_t sector, uint32_t *seg) const;
	void problem(const std::string &what, uint64_t offset, std::optional<uint64_t> seg,
		     std::optional<uint64_t> seq, const char *refusal);
	void note(const std::string &what, uint64_t offset, std::optional<uint64_t> seg,
		  std::optional<uint64_t> seq);
	Header read_header(uint32_t seg, dynsnap_segment_header *sh, dynsnap_err *err);
	bool read_segment(uint32_t seg, bool quiet);
	size_t scan(uint32_t seg, uint64_t &seq, LogSegment &info, const LogRecordFn &fn);
	bool skip_damaged(size_t *pos, uint64_t seq, dynsnap_record_header *h,
			  std::string *why) const;
	LogEnd end_at(uint32_t seg, size_t pos, uint64_t seq) const;
	Evidence find_records(size_t from, uint64_t seq_lo, size_t batch_floor) const;
	void look_past_end(const LogEnd &end);
	void examine_successor(uint32_t seg, uint64_t seq, dynsnap_err err);
	void examine_first_segment(Header h, const dynsnap_segment_header &sh, dynsnap_err err);

	TierDevice &dev_;
	LogArea area_;
	std::vector<Problem> &problems_;
	std::vector<Problem> &notes_;
	AlignedBuffer header_;
	AlignedBuffer segment_;
	LogReplay r_;
};

bool Walker::seg_from_sector(uint64_t sector, uint32_t *seg) const
{
	return dynsnap_log_segment_of(area_.start, static_cast<uint32_t>(r_.nr_segments), sector,
				      seg) == DSN_OK;
}

void Walker::problem(const std::string &what, uint64_t offset, std::optional<uint64_t> seg,
		     std::optional<uint64_t> seq, const char *refusal)
{
	problems_.push_back({tier_name(area_.tier), what, offset, seg, seq});
	if (refusal && r_.refusal.empty())
		r_.refusal = refusal;
}

void Walker::note(const std::string &what, uint64_t offset, std::optional<uint64_t> seg,
		  std::optional<uint64_t> seq)
{
	notes_.push_back({tier_name(area_.tier), what, offset, seg, seq});
}

/*
 * As the kernel's read_segment_header(): a header that does not decode,
 * or names the other tier, is no header of this log (the kernel's
 * -ENODATA); one that cannot be read refuses the table.
 */
Walker::Header Walker::read_header(uint32_t seg, dynsnap_segment_header *sh, dynsnap_err *err)
{
	uint64_t off = seg_offset(seg);
	ssize_t n = dev_.read(off, header_.data(), DYNSNAP_SEG_HEADER_SIZE);

	if (n < 0) {
		problem(strprintf("cannot read the header of segment %u at byte %llu: %s",
				  seg, ull(off), std::strerror(static_cast<int>(-n))),
			off, seg, std::nullopt, kCannotRead);
		return Header::kUnreadable;
	}
	if (n < static_cast<ssize_t>(DYNSNAP_SEG_HEADER_SIZE)) {
		problem(strprintf("segment %u at byte %llu lies beyond the end of the device "
				  "(%llu bytes)", seg, ull(off), ull(dev_.size())),
			off, seg, std::nullopt, kCannotRead);
		return Header::kUnreadable;
	}
	*err = dynsnap_replay_segment(header_.data(), DYNSNAP_SEG_HEADER_SIZE, area_.uuid,
				      area_.tier, sh);
	return *err == DSN_OK ? Header::kOk : Header::kInvalid;
}

// The whole segment into segment_; what lies past the device's end reads
// as zeroes. @quiet: a segment the kernel would not read, looked at only
// for evidence.
bool Walker::read_segment(uint32_t seg, bool quiet)
{
	uint64_t off = seg_offset(seg);
	ssize_t n = dev_.read(off, segment_.data(), kSegBytes);

	if (n < 0) {
		if (!quiet)
			problem(strprintf("cannot read segment %u at byte %llu: %s", seg,
					  ull(off), std::strerror(static_cast<int>(-n))),
				off, seg, std::nullopt, kCannotRead);
		return false;
	}
	if (static_cast<uint64_t>(n) < kSegBytes && !quiet)
		problem(strprintf("segment %u at byte %llu reaches beyond the end of the "
				  "device: its last %llu bytes are missing", seg, ull(off),
				  ull(kSegBytes - static_cast<uint64_t>(n))),
			off, seg, std::nullopt, kCannotRead);
	return true;
}

/*
 * The record at *@pos did not verify: true where the replay keeps it as
 * damaged (dynsnap_replay_skip_damaged()), with *@why the reason.
 */
bool Walker::skip_damaged(size_t *pos, uint64_t seq, dynsnap_record_header *h,
			  std::string *why) const
{
	const uint8_t *d = data();

	if (dynsnap_replay_skip_damaged(d, kDataBytes, pos, seq, h) != DSN_OK)
		return false;
	size_t at = *pos - dynsnap_record_size(h);
	dynsnap_record_header again;
	const uint8_t *payload;
	*why = dynsnap_strerror(dynsnap_record_decode(d + at, kDataBytes - at, &again, &payload));
	return true;
}

// Every record of the segment in segment_, from sequence @seq on.
size_t Walker::scan(uint32_t seg, uint64_t &seq, LogSegment &info, const LogRecordFn &fn)
{
	size_t pos = 0;

	for (;;) {
		dynsnap_record_header h;
		const uint8_t *payload = nullptr;
		std::string why;

		if (dynsnap_log_next(data(), kDataBytes, &pos, seq, &h, &payload) != DSN_OK) {
			if (!skip_damaged(&pos, seq, &h, &why))
				break;
			payload = nullptr;
		}
		size_t size = dynsnap_record_size(&h), at = pos - size;
		if (!payload) {
			problem(strprintf("%s tier: delta record %llu at segment %u offset %zu "
					  "is damaged (%s): activation keeps it and counts it in "
					  "checksum_errors; view reads that need it fail with EIO",
					  tier_name(area_.tier), ull(seq), seg, at, why.c_str()),
				data_offset(seg, at), seg, seq, nullptr);
			info.damaged_records++;
		}
		fn(LogRecord{h, payload, seg, at, data_offset(seg, at)});
		info.records++;
		info.bytes += size;
		seq++;
	}
	return pos;
}

// Where the log ends in the segment in segment_, and what lies there.
LogEnd Walker::end_at(uint32_t seg, size_t pos, uint64_t seq) const
{
	const uint8_t *d = data();
	size_t len = kDataBytes, at = pos;
	LogEnd e{seg, pos, data_offset(seg, pos), seq, "other"};

	if (at < len && dynsnap_is_zeroed(d + at, std::min(len, dynsnap_log_padded(at)) - at))
		at = dynsnap_log_padded(at);
	dynsnap_record_header h;
	if (at + DYNSNAP_REC_HEADER_SIZE > len)
		e.found = "segment_end";
	else if (dynsnap_is_zeroed(d + at, std::min<size_t>(DYNSNAP_SECTOR_SIZE, len - at)))
		e.found = "zeroes";
	else if (dynsnap_record_decode_header(d + at, len - at, &h) == DSN_OK)
		e.found = h.sequence == seq ? "torn_record" : "stale_record";
	return e;
}

/*
 * Verified records with a sequence from @seq_lo on (within a segment's
 * worth), at sector boundaries from @from: every batch starts on one. The
 * first, and the first at or past @batch_floor, which a later batch wrote.
 */
Evidence Walker::find_records(size_t from, uint64_t seq_lo, size_t batch_floor) const
{
	Evidence ev;
	const uint8_t *d = data();

	for (size_t p = dynsnap_log_padded(from); p + DYNSNAP_REC_HEADER_SIZE <= kDataBytes;
	     p += DYNSNAP_SECTOR_SIZE) {
		if (dsn_get_le32(d + p + 4) != DYNSNAP_REC_MAGIC)
			continue;
		dynsnap_record_header h;
		const uint8_t *payload;
		if (dynsnap_record_decode(d + p, kDataBytes - p, &h, &payload) != DSN_OK ||
		    h.sequence < seq_lo || h.sequence - seq_lo > kMaxSegRecords)
			continue;
		if (!ev.first)
			ev.first = Found{p, h.sequence};
		if (p >= batch_floor) {
			ev.later_batch = Found{p, h.sequence};
			break;
		}
	}
	return ev;
}

/*
 * Records carry no store identity yet, so the kernel cannot tell a record
 * header damaged beyond reading from the end of the log, and drops what
 * follows. A record of the log further on that verifies tells.
 */
void Walker::look_past_end(const LogEnd &end)
{
	if (end.found == "segment_end")
		return;
	Evidence ev = find_records(end.offset + 1, end.next_seq, end.offset + kBatchBytes);
	if (ev.later_batch) {
		problem(strprintf("the log ends at segment %u offset %llu (%s), yet its record "
				  "%llu verifies at offset %zu, written by a later batch: records "
				  "from %llu on are lost, activation takes the damage for the end "
				  "of the log", end.segment, ull(end.offset), end.found.c_str(),
				  ull(ev.later_batch->seq), ev.later_batch->pos,
				  ull(end.next_seq)),
			end.device_offset, end.segment, end.next_seq, nullptr);
	} else if (ev.first) {
		note(strprintf("past the end of the log at segment %u offset %llu, record %llu "
			       "verifies at offset %zu, within the last batch: a torn last batch "
			       "(never acknowledged, nothing lost) or a record header damaged "
			       "beyond reading (records from %llu lost); the two look alike",
			       end.segment, ull(end.offset), ull(ev.first->seq), ev.first->pos,
			       ull(end.next_seq)),
		     end.device_offset, end.segment, end.next_seq);
	}
}

/*
 * The log ended where the successor's header does not verify. If the log
 * went on in it, the kernel silently drops that segment's records.
 */
void Walker::examine_successor(uint32_t seg, uint64_t seq, dynsnap_err err)
{
	if (!read_segment(seg, true))
		return;
	// The segment's first batch begins with its header.
	Evidence ev = find_records(0, seq, kBatchBytes - DYNSNAP_SEG_HEADER_SIZE);
	if (ev.later_batch) {
		problem(strprintf("the header of segment %u does not verify (%s), yet the log "
				  "goes on in it (record %llu verifies at offset %zu): records "
				  "from %llu on are lost, activation ends the log before it",
				  seg, dynsnap_strerror(err), ull(ev.later_batch->seq),
				  ev.later_batch->pos, ull(seq)),
			seg_offset(seg), seg, seq, nullptr);
	} else if (ev.first) {
		note(strprintf("the header of segment %u, the log's successor, does not verify "
			       "(%s), yet record %llu verifies at offset %zu of it, within its "
			       "first batch: a torn first batch (never acknowledged) or a damaged "
			       "header (records from %llu lost); the two look alike", seg,
			       dynsnap_strerror(err), ull(ev.first->seq), ev.first->pos, ull(seq)),
		     seg_offset(seg), seg, seq);
	}
}

/*
 * No checkpoint, and segment 0 holds no first segment of this log: the
 * kernel starts a new, empty log. Right for a store that never wrote a
 * record; if segment 0 says otherwise, every record is dropped.
 */
void Walker::examine_first_segment(Header h, const dynsnap_segment_header &sh,
				   dynsnap_err err)
{
	if (h == Header::kOk) {
		problem(strprintf("segment 0 holds segment %llu of this store's log, but no "
				  "checkpoint names a head: activation takes the log for empty and "
				  "drops every record", ull(sh.segment_seq)),
			seg_offset(0), 0, std::nullopt, nullptr);
		return;
	}
	const uint8_t *raw = header_.data();
	if (err == DSN_ERR_SEG_OTHER_STORE ||
	    (dsn_get_le32(raw + 4) == DYNSNAP_SEG_MAGIC &&
	     std::memcmp(raw + 32, area_.uuid, DYNSNAP_UUID_SIZE)))
		return;	// another store's segment: nothing of ours
	if (!read_segment(0, true))
		return;
	// A log's first record directly follows the segment's header.
	dynsnap_record_header first;
	const uint8_t *payload;
	if (dynsnap_record_decode(data(), kDataBytes, &first, &payload) != DSN_OK)
		return;
	Evidence ev = find_records(0, first.sequence, kBatchBytes - DYNSNAP_SEG_HEADER_SIZE);
	if (ev.later_batch) {
		problem(strprintf("the header of segment 0 does not verify (%s), yet records from "
				  "%llu follow it, beyond its first batch (record %llu at offset "
				  "%zu): activation takes the log for empty and drops them",
				  dynsnap_strerror(err), ull(first.sequence),
				  ull(ev.later_batch->seq), ev.later_batch->pos),
			seg_offset(0), 0, first.sequence, nullptr);
	} else {
		note(strprintf("the header of segment 0 does not verify (%s), yet record %llu "
			       "follows it, within its first batch: a torn first batch (never "
			       "acknowledged) or a damaged header; activation takes the log for "
			       "empty", dynsnap_strerror(err), ull(first.sequence)),
		     seg_offset(0), 0, first.sequence);
	}
}

LogReplay Walker::run(LogHead how, uint64_t head_sector, uint64_t head_seq,
		      const LogRecordFn &fn)
{
	r_.nr_segments = dynsnap_log_nr_segments(area_.sectors);
	if (r_.nr_segments < 2) {
		problem(strprintf("the delta area holds %llu whole segments; a log needs two",
				  ull(r_.nr_segments)),
			sector_bytes(area_.start), std::nullopt, std::nullopt, kTooSmall);
		return r_;
	}

	uint32_t seg = 0;
	dynsnap_segment_header sh{};
	dynsnap_err err = DSN_OK;
	Header h;
	if (how == LogHead::kCheckpoint) {
		r_.from_checkpoint = true;
		r_.head_sector = head_sector;
		r_.head_seq = head_seq;
		if (!seg_from_sector(head_sector, &seg)) {
			problem(strprintf("%s tier: checkpoint names sector %llu, not a segment, "
					  "as head", tier_name(area_.tier), ull(head_sector)),
				sector_bytes(head_sector), std::nullopt, std::nullopt,
				kInconsistent);
			return r_;
		}
		h = read_header(seg, &sh, &err);
		if (h == Header::kUnreadable)
			return r_;
		if (dynsnap_replay_head(h == Header::kOk ? &sh : nullptr, head_seq) != DSN_OK) {
			std::string why = h == Header::kInvalid ? dynsnap_strerror(err)
				: strprintf("it is segment %llu", sh.segment_seq);
			problem(strprintf("%s tier: segment %u is not the log's head %llu the "
					  "checkpoint names (%s)", tier_name(area_.tier), seg,
					  ull(head_seq), why.c_str()),
				seg_offset(seg), seg, std::nullopt, kInconsistent);
			return r_;
		}
	} else {
		r_.head_sector = seg_offset(0) >> DYNSNAP_SECTOR_SHIFT;
		r_.head_seq = 1;
		h = read_header(0, &sh, &err);
		if (h == Header::kUnreadable)
			return r_;
		bool first = dynsnap_replay_head(h == Header::kOk ? &sh : nullptr, 0) == DSN_OK;
		if (!first && how == LogHead::kUnknown) {
			r_.unknown = true;
			note("without a valid checkpoint the start of the log is unknown: its "
			     "records are not checked", seg_offset(0), 0, std::nullopt);
			return r_;
		}
		if (!first) {
			// The kernel's start_empty(): segment 0 opens, 1 follows.
			r_.empty = true;
			r_.used = {0, 1};
			examine_first_segment(h, sh, err);
			return r_;
		}
	}

	uint64_t seq = sh.first_record_seq;
	// segment_seq grows by one along the chain, so no segment comes twice.
	for (uint64_t step = 0; step < r_.nr_segments; step++) {
		LogSegment info{seg, seg_offset(seg) >> DYNSNAP_SECTOR_SHIFT, sh.segment_seq,
				sh.first_record_seq, sh.next_segment};
		uint32_t next = 0;
		bool next_valid = seg_from_sector(sh.next_segment, &next);

		r_.used.insert(seg);
		if (next_valid)
			r_.used.insert(next);
		else
			problem(strprintf("segment %u names an invalid successor (sector %llu)",
					  seg, sh.next_segment),
				seg_offset(seg), seg, std::nullopt, kInconsistent);
		// The kernel stops before reading it; its records are checked anyway.
		if (!read_segment(seg, false)) {
			r_.segments.push_back(info);
			break;
		}
		size_t pos = scan(seg, seq, info, fn);
		r_.segments.push_back(info);
		LogEnd end = end_at(seg, pos, seq);
		if (!next_valid) {
			r_.end = end;
			break;
		}

		dynsnap_segment_header nh{};
		h = read_header(next, &nh, &err);
		if (h == Header::kUnreadable) {
			r_.end = end;
			break;
		}
		dynsnap_err link = dynsnap_replay_successor(&sh, h == Header::kOk ? &nh : nullptr, seq);
		if (link == DSN_ERR_LOG_GAP) {
			problem(strprintf("%s tier: delta log records %llu to %llu are missing: "
					  "the log ends at segment %u offset %zu, and segment %u "
					  "goes on from record %llu", tier_name(area_.tier),
					  ull(seq), nh.first_record_seq - 1, seg, pos, next,
					  nh.first_record_seq),
				end.device_offset, seg, seq, kInconsistent);
			// Activation stops here; the check goes on with what follows.
			seq = nh.first_record_seq;
		} else if (link == DSN_ERR_LOG_PASSED) {
			problem(strprintf("segment %u goes on from record %llu, which segment "
					  "%u already passed (its records reach %llu): activation "
					  "ends the log before it and drops its records", next,
					  nh.first_record_seq, seg, ull(seq - 1)),
				seg_offset(next), next, nh.first_record_seq, nullptr);
			r_.end = end;
			break;
		} else if (link != DSN_OK) {
			r_.end = end;
			look_past_end(end);
			if (h == Header::kInvalid)
				examine_successor(next, seq, err);
			break;
		}
		seg = next;
		sh = nh;
	}
	return r_;
}

} // namespace

LogReplay replay_log(TierDevice &dev, const LogArea &area, LogHead how,
		     uint64_t head_sector, uint64_t head_seq, const LogRecordFn &fn,
		     std::vector<Problem> &problems, std::vector<Problem> &notes)
{
	Walker w(dev, area, problems, notes);
	return w.run(how, head_sector, head_seq, fn);
}

} // namespace dynsnap::store

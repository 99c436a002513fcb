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
constexpr const char *kInconsistent = "delta log is inconsistent";
constexpr const char *kDamaged = "delta log is damaged: acknowledged records cannot be read";
constexpr const char *kCannotRead = "cannot read delta log";
constexpr const char *kTooSmall = "a tier's data area is too small for two delta segments";

uint64_t sector_bytes(uint64_t sector)
{
	return sector > (UINT64_MAX >> DYNSNAP_SECTOR_SHIFT) ? UINT64_MAX
							   : sector << DYNSNAP_SECTOR_SHIFT;
}

class Walker {
public:
	Walker(TierDevice &dev, const LogArea &area, std::vector<Problem> &problems,
	       std::vector<Problem> &notes)
		: dev_(dev), area_(area), seed_(dynsnap_record_seed(area.uuid, area.tier)),
		  problems_(problems), notes_(notes), header_(DYNSNAP_SEG_HEADER_SIZE),
		  segment_(kSegBytes)
	{
	}

	LogReplay run(LogHead how, uint64_t head_sector, uint64_t head_seq,
		      uint64_t durable_seq, const LogRecordFn &fn);

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
	void note_torn(uint32_t seg, size_t from, uint64_t seq, const char *where);
	bool look_past_end(const LogEnd &end);
	bool examine_successor(uint32_t seg, uint64_t seq, Header h, dynsnap_err err);
	bool examine_first_segment(Header h, const dynsnap_segment_header &sh, dynsnap_err err);
	void walk(LogHead how, uint64_t head_sector, uint64_t head_seq, const LogRecordFn &fn);

	TierDevice &dev_;
	LogArea area_;
	uint32_t seed_;		// the store's record checksum seed
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

	if (dynsnap_replay_skip_damaged(d, kDataBytes, pos, seed_, seq, h) != DSN_OK)
		return false;
	size_t at = *pos - dynsnap_record_size(h);
	dynsnap_record_header again;
	const uint8_t *payload;
	*why = dynsnap_strerror(dynsnap_record_decode(d + at, kDataBytes - at, seed_, &again,
						      &payload));
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

		if (dynsnap_log_next(data(), kDataBytes, &pos, seed_, seq, &h, &payload) != DSN_OK) {
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
 * Records of the log from @seq on at or after @from of the segment in
 * segment_ that do not make it damaged: what a torn batch left.
 */
void Walker::note_torn(uint32_t seg, size_t from, uint64_t seq, const char *where)
{
	dynsnap_record_header h;
	size_t pos = from;

	for (; dynsnap_log_find(data(), kDataBytes, &pos, seed_, &h) == DSN_OK; pos++) {
		if (h.sequence < seq)
			continue;	// an earlier use of the segment
		note(strprintf("%s, record %llu of the log verifies at segment %u offset %zu, "
			       "written while record %llu was not yet durable: what a crash "
			       "left of a torn batch, never acknowledged; activation drops it",
			       where, ull(h.sequence), seg, pos, ull(seq)),
		     data_offset(seg, pos), seg, h.sequence);
		return;
	}
}

/*
 * As the kernel's check_past_end(), first half: records in the rest of the
 * segment where the log ends that were written once the end was durable
 * make the log damaged (dynsnap_replay_past_end()). True when it is.
 */
bool Walker::look_past_end(const LogEnd &end)
{
	dynsnap_record_header h;
	size_t pos = end.offset;

	if (dynsnap_replay_past_end(data(), kDataBytes, &pos, seed_, end.next_seq, &h) ==
	    DSN_ERR_LOG_DAMAGED) {
		problem(strprintf("%s tier: delta log is damaged: it ends at segment %u offset "
				  "%llu (%s), before record %llu, yet record %llu at offset %zu "
				  "was written once that one was durable: records from %llu on "
				  "are lost; activation refuses the table",
				  tier_name(area_.tier), end.segment, ull(end.offset),
				  end.found.c_str(), ull(end.next_seq), ull(h.sequence), pos,
				  ull(end.next_seq)),
			end.device_offset, end.segment, end.next_seq, kDamaged);
		return true;
	}
	note_torn(end.segment, end.offset, end.next_seq, "past the end of the log");
	return false;
}

/*
 * Second half: the successor the last segment names, which the log does
 * not go on in (its header @h, @err), searched the same way.
 */
bool Walker::examine_successor(uint32_t seg, uint64_t seq, Header h, dynsnap_err err)
{
	if (!read_segment(seg, false))
		return false;
	std::string header = h == Header::kOk ? "an earlier use's header"
			     : strprintf("a header that does not verify (%s)", dynsnap_strerror(err));
	dynsnap_record_header rec;
	size_t pos = 0;
	if (dynsnap_replay_past_end(data(), kDataBytes, &pos, seed_, seq, &rec) ==
	    DSN_ERR_LOG_DAMAGED) {
		problem(strprintf("%s tier: delta log is damaged: its successor, segment %u, has "
				  "%s, yet record %llu at offset %zu of it was written once record "
				  "%llu, where the log ends, was durable: records from %llu on are "
				  "lost; activation refuses the table", tier_name(area_.tier), seg,
				  header.c_str(), ull(rec.sequence), pos, ull(seq), ull(seq)),
			seg_offset(seg), seg, seq, kDamaged);
		return true;
	}
	note_torn(seg, 0, seq, strprintf("in the successor, segment %u with %s",
					  seg, header.c_str()).c_str());
	return false;
}

/*
 * No checkpoint, and segment 0 holds no first segment of this log: as the
 * kernel's check_unheaded(), the log is empty unless records there come
 * from more than one batch (dynsnap_replay_unheaded()).
 */
bool Walker::examine_first_segment(Header h, const dynsnap_segment_header &sh,
				   dynsnap_err err)
{
	if (!read_segment(0, false))
		return true;
	dynsnap_record_header rec;
	size_t pos = 0;
	std::string header = h == Header::kOk
		? strprintf("segment %llu of this store's log", ull(sh.segment_seq))
		: strprintf("no valid header (%s)", dynsnap_strerror(err));
	u64 highest;	// where the kernel starts the new log: above it
	if (dynsnap_replay_unheaded(data(), kDataBytes, seed_, &pos, &rec, &highest) ==
	    DSN_ERR_LOG_DAMAGED) {
		problem(strprintf("%s tier: delta log is damaged: no checkpoint names a head and "
				  "segment 0 holds %s, yet record %llu at offset %zu follows a "
				  "durable batch: activation refuses the table",
				  tier_name(area_.tier), header.c_str(), ull(rec.sequence), pos),
			seg_offset(0), 0, rec.sequence, kDamaged);
		return true;
	}
	if (h == Header::kOk)
		note(strprintf("segment 0 holds %s, but no checkpoint names a head and its "
			       "records are of one batch at most: activation takes the log for "
			       "empty", header.c_str()),
		     seg_offset(0), 0, std::nullopt);
	else
		note_torn(0, 0, 0, "in segment 0 without a log header");
	return false;
}

LogReplay Walker::run(LogHead how, uint64_t head_sector, uint64_t head_seq,
		      uint64_t durable_seq, const LogRecordFn &fn)
{
	walk(how, head_sector, head_seq, fn);
	// As the kernel after its walk: the log must reach what the checkpoint
	// says was durable.
	if (r_.end && r_.refusal.empty() &&
	    dynsnap_replay_reached(r_.end->next_seq, durable_seq) != DSN_OK)
		problem(strprintf("%s tier: delta log is damaged: it ends at segment %u offset "
				  "%llu (%s), before record %llu, yet the checkpoint says "
				  "records up to %llu were durable: records from %llu on are "
				  "lost; activation refuses the table", tier_name(area_.tier),
				  r_.end->segment, ull(r_.end->offset), r_.end->found.c_str(),
				  ull(r_.end->next_seq), ull(durable_seq - 1),
				  ull(r_.end->next_seq)),
			r_.end->device_offset, r_.end->segment, r_.end->next_seq, kDamaged);
	return r_;
}

void Walker::walk(LogHead how, uint64_t head_sector, uint64_t head_seq,
		  const LogRecordFn &fn)
{
	r_.nr_segments = dynsnap_log_nr_segments(area_.sectors);
	if (r_.nr_segments < 2) {
		problem(strprintf("the delta area holds %llu whole segments; a log needs two",
				  ull(r_.nr_segments)),
			sector_bytes(area_.start), std::nullopt, std::nullopt, kTooSmall);
		return;
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
			return;
		}
		h = read_header(seg, &sh, &err);
		if (h == Header::kUnreadable)
			return;
		if (dynsnap_replay_head(h == Header::kOk ? &sh : nullptr, head_seq) != DSN_OK) {
			std::string why = h == Header::kInvalid ? dynsnap_strerror(err)
				: strprintf("it is segment %llu", sh.segment_seq);
			problem(strprintf("%s tier: segment %u is not the log's head %llu the "
					  "checkpoint names (%s)", tier_name(area_.tier), seg,
					  ull(head_seq), why.c_str()),
				seg_offset(seg), seg, std::nullopt, kInconsistent);
			return;
		}
	} else {
		r_.head_sector = seg_offset(0) >> DYNSNAP_SECTOR_SHIFT;
		r_.head_seq = 1;
		h = read_header(0, &sh, &err);
		if (h == Header::kUnreadable)
			return;
		bool first = dynsnap_replay_head(h == Header::kOk ? &sh : nullptr, 0) == DSN_OK;
		if (!first && how == LogHead::kUnknown) {
			r_.unknown = true;
			note("without a valid checkpoint the start of the log is unknown: its "
			     "records are not checked", seg_offset(0), 0, std::nullopt);
			return;
		}
		if (!first) {
			// The kernel's start_empty(): segment 0 opens, 1 follows.
			r_.used = {0, 1};
			r_.empty = !examine_first_segment(h, sh, err);
			return;
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
		} else if (link != DSN_OK) {
			if (link == DSN_ERR_LOG_PASSED)
				problem(strprintf("segment %u goes on from record %llu, which "
						  "segment %u already passed (its records reach "
						  "%llu): activation ends the log before it and "
						  "drops its records", next, nh.first_record_seq,
						  seg, ull(seq - 1)),
					seg_offset(next), next, nh.first_record_seq, nullptr);
			r_.end = end;
			if (!look_past_end(end))
				examine_successor(next, seq, h, err);
			break;
		}
		seg = next;
		sh = nh;
	}
	return;
}

} // namespace

LogReplay replay_log(TierDevice &dev, const LogArea &area, LogHead how,
		     uint64_t head_sector, uint64_t head_seq, uint64_t durable_seq,
		     const LogRecordFn &fn, std::vector<Problem> &problems,
		     std::vector<Problem> &notes)
{
	Walker w(dev, area, problems, notes);
	return w.run(how, head_sector, head_seq, durable_seq, fn);
}

} // namespace dynsnap::store

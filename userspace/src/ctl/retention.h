// SPDX-License-Identifier: GPL-2.0
// The retention schedule of `snapshotctl schedule`: when a scheduled
// snapshot is due, which scheduled snapshots to keep, and their names.
//
// A rule EVERY:FOR ("1m:1h") keeps one snapshot every EVERY for FOR:
//
// - Time is cut into buckets of EVERY aligned to the Unix epoch (UTC), so a
//   1h rule's buckets start on the hour and a 1d rule's at 00:00 UTC.
// - Among the buckets that overlap [now - FOR, now], each bucket keeps its
//   oldest snapshot. The oldest of a bucket stays its oldest while time goes
//   on, so a kept snapshot stays kept until its bucket leaves the window:
//   the kept set is the same between runs, and a snapshot, once dropped,
//   would never have been kept again.
// - The newest scheduled snapshot not in the future is always kept, also
//   when the schedule stopped for longer than every FOR.
// - Snapshots whose time is after now (the clock was set back) are kept,
//   and are otherwise ignored until the clock catches up with them.
// - A snapshot is kept if any rule keeps it; all others are removed.
//
// A snapshot is due when the newest scheduled snapshot (not in the future)
// lies in an earlier bucket of the finest rule than now, or there is none.
// Due-ness follows the same buckets as retention rather than the age of the
// newest snapshot: a timer that fires every second jitters around the
// bucket edges, and an age test (even with a tolerance) then sometimes
// takes a second snapshot in one bucket that retention removes again. With
// buckets, each snapshot taken is the one its bucket keeps; a run that
// finds its bucket taken does nothing; a bucket with no run in it (the
// timer fired late) stays empty. So a 1m rule run every second takes its
// snapshots at the first run of each minute.
//
// Only snapshots whose name marks them as scheduled with the schedule's
// prefix (is_scheduled_name) are given to these functions; the caller never
// touches any other snapshot.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dynsnap::ctl {

struct KeepRule {
	int64_t every_s;	// one snapshot per bucket of this many seconds
	int64_t span_s;		// FOR: this many seconds back from now
};

// The longest EVERY or FOR: 100 years keeps nanosecond times in range.
constexpr int64_t kKeepRuleMaxSeconds = 36500LL * 86400;

// "1s:10m", "1m:1h", "1h:1d", "1d:4w": a positive whole number and one unit
// of s m h d w on each side, EVERY no longer than FOR. Throws
// dynsnap::Error(Exit::kUsage) naming the expected form.
KeepRule parse_keep_rule(std::string_view text);

// Back to text, each side in its largest exact unit: {60, 3600} is "1m:1h".
std::string format_keep_rule(const KeepRule &rule);

struct ScheduledSnapshot {
	uint64_t id;
	std::string name;
	int64_t ctime_ns;	// CLOCK_REALTIME at creation
};

struct RetentionPlan {
	std::vector<uint64_t> keep;	// ids, oldest first
	std::vector<uint64_t> remove;	// ids, oldest first
};

// Split @snaps (scheduled snapshots only, in any order) into those @rules
// keep at @now_ns and those to remove, by the rule above. Snapshots with the
// same time are ordered by id. Throws dynsnap::Error(Exit::kUsage) if @rules
// is empty or holds a rule parse_keep_rule would refuse.
RetentionPlan plan_retention(const std::vector<ScheduledSnapshot> &snaps,
			     const std::vector<KeepRule> &rules,
			     int64_t now_ns);

// Should this run take a new scheduled snapshot (see above)? Removing what
// plan_retention says never changes the answer: the newest is kept. A
// snapshot just taken whose kernel time is a moment after @now_ns is, for
// plan_retention at the same @now_ns, in the future: kept, which is right.
bool snapshot_due(const std::vector<ScheduledSnapshot> &snaps,
		  const std::vector<KeepRule> &rules, int64_t now_ns);

// The longest prefix: the name adds "-YYYYMMDDTHHMMSS.mmmZ" (21 characters)
// and a snapshot name has at most 64.
constexpr size_t kScheduledPrefixMax = 43;

// Throws dynsnap::Error(Exit::kUsage) unless @prefix is 1 to
// kScheduledPrefixMax of A-Z a-z 0-9 . _ : @ + -, not starting with '-'.
void check_scheduled_prefix(std::string_view prefix);

// "<prefix>-YYYYMMDDTHHMMSS.mmmZ", @now_ns in UTC, milliseconds truncated:
// auto-20261124T190503.250Z. Checks @prefix as check_scheduled_prefix.
std::string scheduled_name(std::string_view prefix, int64_t now_ns);

// Is @name exactly what scheduled_name gives for @prefix at some time? A
// schedule with prefix "auto" never matches the names of one with prefix
// "auto-hourly", nor the reverse.
bool is_scheduled_name(std::string_view prefix, std::string_view name);

} // namespace dynsnap::ctl

// SPDX-License-Identifier: GPL-2.0
#include "ctl/retention.h"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <optional>

#include "dynsnap_control.h"
#include "util/error.h"

namespace dynsnap::ctl {

namespace {

constexpr int64_t kNsPerSec = 1000000000;
constexpr int64_t kNsPerMs = 1000000;

struct Unit {
	char letter;
	int64_t seconds;
};

// Largest first, for format_keep_rule.
constexpr Unit kUnits[] = {
	{'w', 7 * 86400}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1},
};

// Control characters as '?', so a message stays on one line.
std::string quoted(std::string_view text)
{
	std::string q = "\"";
	for (char c : text)
		q += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
	return q + "\"";
}

[[noreturn]] void bad_rule(std::string_view text, const char *why)
{
	throw Error(Exit::kUsage,
		    "bad --keep rule " + quoted(text) + ": " + why +
			    "; expected EVERY:FOR such as 1m:1h, whole numbers "
			    "with a unit of s m h d w, EVERY not longer than "
			    "FOR");
}

// One side of a rule: digits then one unit letter; 0 when malformed.
int64_t parse_duration(std::string_view s)
{
	if (s.size() < 2)
		return 0;
	int64_t unit = 0;
	for (const Unit &u : kUnits)
		if (s.back() == u.letter)
			unit = u.seconds;
	if (!unit)
		return 0;
	std::string_view number = s.substr(0, s.size() - 1);
	if (number.find_first_not_of("0123456789") != std::string_view::npos)
		return 0;
	int64_t n = 0;
	for (char c : number) {
		n = n * 10 + (c - '0');
		if (n > kKeepRuleMaxSeconds)	// also stops overflow
			return -1;
	}
	if (n > kKeepRuleMaxSeconds / unit)
		return -1;
	return n * unit;
}

std::string format_duration(int64_t seconds)
{
	for (const Unit &u : kUnits)
		if (seconds % u.seconds == 0)
			return std::to_string(seconds / u.seconds) + u.letter;
	return std::to_string(seconds) + "s";	// not reached: u = 1s
}

void check_rules(const std::vector<KeepRule> &rules)
{
	if (rules.empty())
		throw Error(Exit::kUsage,
			    "no --keep rule: give at least one, such as "
			    "--keep 1h:1d");
	for (const KeepRule &r : rules)
		if (r.every_s <= 0 || r.span_s < r.every_s ||
		    r.span_s > kKeepRuleMaxSeconds)
			bad_rule(format_keep_rule(r), "out of range");
}

// Bucket number of @t in buckets of @width, rounding down also before 1970.
int64_t bucket_of(int64_t t, int64_t width)
{
	int64_t q = t / width;
	if (t % width < 0)
		q--;
	return q;
}

int64_t sub_saturated(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_sub_overflow(a, b, &r))
		return std::numeric_limits<int64_t>::min();
	return r;
}

// Oldest first; same times in id order, so each plan is the same.
std::vector<const ScheduledSnapshot *>
by_age(const std::vector<ScheduledSnapshot> &snaps)
{
	std::vector<const ScheduledSnapshot *> v;
	v.reserve(snaps.size());
	for (const ScheduledSnapshot &s : snaps)
		v.push_back(&s);
	std::sort(v.begin(), v.end(), [](const auto *a, const auto *b) {
		if (a->ctime_ns != b->ctime_ns)
			return a->ctime_ns < b->ctime_ns;
		return a->id < b->id;
	});
	return v;
}

std::optional<int64_t> newest_past(const std::vector<ScheduledSnapshot> &snaps,
				   int64_t now_ns)
{
	std::optional<int64_t> newest;
	for (const ScheduledSnapshot &s : snaps)
		if (s.ctime_ns <= now_ns && (!newest || s.ctime_ns > *newest))
			newest = s.ctime_ns;
	return newest;
}

int64_t finest_every_ns(const std::vector<KeepRule> &rules)
{
	int64_t every = rules.front().every_s;
	for (const KeepRule &r : rules)
		every = std::min(every, r.every_s);
	return every * kNsPerSec;
}

bool digits(std::string_view s, size_t pos, size_t n, int *value)
{
	*value = 0;
	for (size_t i = pos; i < pos + n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*value = *value * 10 + (s[i] - '0');
	}
	return true;
}

// "YYYYMMDDTHHMMSS.mmmZ" with each field in its range.
constexpr size_t kStampLen = 20;

bool is_stamp(std::string_view s)
{
	int year, mon, day, hour, min, sec, ms;

	if (s.size() != kStampLen || s[8] != 'T' || s[15] != '.' ||
	    s[19] != 'Z')
		return false;
	if (!digits(s, 0, 4, &year) || !digits(s, 4, 2, &mon) ||
	    !digits(s, 6, 2, &day) || !digits(s, 9, 2, &hour) ||
	    !digits(s, 11, 2, &min) || !digits(s, 13, 2, &sec) ||
	    !digits(s, 16, 3, &ms))
		return false;
	return mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && hour < 24 &&
	       min < 60 && sec < 60;
}

} // namespace

KeepRule parse_keep_rule(std::string_view text)
{
	size_t colon = text.find(':');
	if (colon == std::string_view::npos ||
	    text.find(':', colon + 1) != std::string_view::npos)
		bad_rule(text, "not two durations");
	int64_t every = parse_duration(text.substr(0, colon));
	int64_t span = parse_duration(text.substr(colon + 1));
	if (every < 0 || span < 0)
		bad_rule(text, "longer than 36500d");
	if (!every || !span)
		bad_rule(text, "not a positive number with a unit");
	if (every > span)
		bad_rule(text, "EVERY is longer than FOR");
	return {every, span};
}

std::string format_keep_rule(const KeepRule &rule)
{
	if (rule.every_s <= 0 || rule.span_s <= 0)	// not from the parser
		return std::to_string(rule.every_s) + "s:" +
		       std::to_string(rule.span_s) + "s";
	return format_duration(rule.every_s) + ":" +
	       format_duration(rule.span_s);
}

RetentionPlan plan_retention(const std::vector<ScheduledSnapshot> &snaps,
			     const std::vector<KeepRule> &rules,
			     int64_t now_ns)
{
	check_rules(rules);
	std::vector<const ScheduledSnapshot *> sorted = by_age(snaps);
	std::vector<bool> keep(sorted.size(), false);

	// Past snapshots are sorted[0, past); the rest are in the future.
	size_t past = 0;
	while (past < sorted.size() && sorted[past]->ctime_ns <= now_ns)
		past++;
	for (size_t i = past; i < sorted.size(); i++)
		keep[i] = true;
	if (past)
		keep[past - 1] = true;

	for (const KeepRule &r : rules) {
		int64_t every = r.every_s * kNsPerSec;
		// The first bucket that ends after now - FOR.
		int64_t first = bucket_of(
			sub_saturated(now_ns, r.span_s * kNsPerSec), every);
		std::optional<int64_t> prev;
		for (size_t i = 0; i < past; i++) {
			int64_t b = bucket_of(sorted[i]->ctime_ns, every);
			// Sorted, so a bucket's oldest comes first.
			if (b >= first && b != prev)
				keep[i] = true;
			prev = b;
		}
	}

	RetentionPlan plan;
	for (size_t i = 0; i < sorted.size(); i++)
		(keep[i] ? plan.keep : plan.remove).push_back(sorted[i]->id);
	return plan;
}

bool snapshot_due(const std::vector<ScheduledSnapshot> &snaps,
		  const std::vector<KeepRule> &rules, int64_t now_ns)
{
	check_rules(rules);
	std::optional<int64_t> newest = newest_past(snaps, now_ns);
	if (!newest)
		return true;
	int64_t every = finest_every_ns(rules);
	return bucket_of(*newest, every) < bucket_of(now_ns, every);
}

void check_scheduled_prefix(std::string_view prefix)
{
	if (prefix.size() > kScheduledPrefixMax ||
	    !dynsnap_snap_name_valid(prefix.data(), prefix.size()))
		throw Error(Exit::kUsage,
			    "bad --prefix " + quoted(prefix) +
				    ": expected 1 to " +
				    std::to_string(kScheduledPrefixMax) +
				    " of A-Z a-z 0-9 . _ : @ + -, not starting "
				    "with -");
}

std::string scheduled_name(std::string_view prefix, int64_t now_ns)
{
	check_scheduled_prefix(prefix);
	int64_t sec = bucket_of(now_ns, kNsPerSec);
	int ms = static_cast<int>((now_ns - sec * kNsPerSec) / kNsPerMs);
	time_t t = static_cast<time_t>(sec);
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		throw Error("cannot convert the time to a date");
	char stamp[64];	// room for any int, though years stay in 4 digits
	std::snprintf(stamp, sizeof(stamp), "%04d%02d%02dT%02d%02d%02d.%03dZ",
		      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		      tm.tm_min, tm.tm_sec, ms);
	return std::string(prefix) + "-" + stamp;
}

bool is_scheduled_name(std::string_view prefix, std::string_view name)
{
	if (prefix.size() > kScheduledPrefixMax ||
	    !dynsnap_snap_name_valid(prefix.data(), prefix.size()) ||
	    name.size() != prefix.size() + 1 + kStampLen)
		return false;
	if (name.substr(0, prefix.size()) != prefix ||
	    name[prefix.size()] != '-')
		return false;
	return is_stamp(name.substr(prefix.size() + 1));
}

} // namespace dynsnap::ctl

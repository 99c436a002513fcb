// SPDX-License-Identifier: GPL-2.0
#include "ctl/retention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "dynsnap_control.h"
#include "util/error.h"

namespace dynsnap::ctl {
namespace {

constexpr int64_t kSec = 1000000000;
constexpr int64_t kMs = 1000000;
// 2026-11-24 00:00:00 UTC: on a day, hour and minute boundary.
constexpr int64_t kDay0 = 1795478400LL * kSec;

std::vector<KeepRule> rules(std::initializer_list<const char *> texts)
{
	std::vector<KeepRule> v;
	for (const char *t : texts)
		v.push_back(parse_keep_rule(t));
	return v;
}

void expect_usage_error(const std::string &text)
{
	try {
		parse_keep_rule(text);
		ADD_FAILURE() << "accepted \"" << text << "\"";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kUsage) << text;
		std::string msg = e.what();
		EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
		EXPECT_NE(msg.find("EVERY:FOR"), std::string::npos) << msg;
	}
}

TEST(KeepRule, ParsesEveryUnit)
{
	KeepRule r = parse_keep_rule("1s:10m");
	EXPECT_EQ(r.every_s, 1);
	EXPECT_EQ(r.span_s, 600);
	r = parse_keep_rule("1m:1h");
	EXPECT_EQ(r.every_s, 60);
	EXPECT_EQ(r.span_s, 3600);
	r = parse_keep_rule("1h:1d");
	EXPECT_EQ(r.every_s, 3600);
	EXPECT_EQ(r.span_s, 86400);
	r = parse_keep_rule("1d:4w");
	EXPECT_EQ(r.every_s, 86400);
	EXPECT_EQ(r.span_s, 28 * 86400);
	r = parse_keep_rule("90s:90s");	// EVERY may equal FOR
	EXPECT_EQ(r.every_s, 90);
	EXPECT_EQ(r.span_s, 90);
	r = parse_keep_rule("007m:2h");
	EXPECT_EQ(r.every_s, 420);
	r = parse_keep_rule("1d:36500d");
	EXPECT_EQ(r.span_s, kKeepRuleMaxSeconds);
}

TEST(KeepRule, RefusesBadText)
{
	for (const char *bad :
	     {"", ":", "1m", "1m:", ":1h", "1m:1h:1d", "1m;1h", "1x:1h",
	      "m:1h", "1:1h", "1m:60", "-1m:1h", "+1m:1h", "0s:1h", "1m:0h",
	      "1h:1m", "2w:1w", "1.5h:1d", " 1m:1h", "1m:1h ", "1M:1H",
	      "1 m:1h", "1mm:1h", "1m1s:1h", "1d:36501d", "5218w:5218w",
	      "99999999999999999999s:1s", "1s:99999999999999999999s",
	      "9999999999a9s:1s", "1m:1h\n", "1m\n:1h"})
		expect_usage_error(bad);
}

TEST(KeepRule, FormatsInTheLargestExactUnit)
{
	EXPECT_EQ(format_keep_rule({1, 600}), "1s:10m");
	EXPECT_EQ(format_keep_rule({60, 3600}), "1m:1h");
	EXPECT_EQ(format_keep_rule({3600, 86400}), "1h:1d");
	EXPECT_EQ(format_keep_rule({86400, 28 * 86400}), "1d:4w");
	EXPECT_EQ(format_keep_rule({90, 5400}), "90s:90m");
	EXPECT_EQ(format_keep_rule({7 * 86400, 14 * 86400}), "1w:2w");
	EXPECT_EQ(format_keep_rule({36 * 3600, 10 * 86400}), "36h:10d");
}

TEST(KeepRule, RoundTrips)
{
	for (const char *text : {"1s:10m", "1m:1h", "1h:1d", "1d:4w", "90s:2h",
				 "5m:25h", "1w:52w", "36500d:36500d"}) {
		KeepRule r = parse_keep_rule(text);
		KeepRule back = parse_keep_rule(format_keep_rule(r));
		EXPECT_EQ(back.every_s, r.every_s) << text;
		EXPECT_EQ(back.span_s, r.span_s) << text;
	}
	EXPECT_EQ(format_keep_rule(parse_keep_rule("60s:24h")), "1m:1d");
	EXPECT_EQ(format_keep_rule(parse_keep_rule("36500d:36500d")),
		  "36500d:36500d");
}

TEST(ScheduledName, IsUtcWithMilliseconds)
{
	int64_t t = 1795547103LL * kSec + 250 * kMs + 999999;
	EXPECT_EQ(scheduled_name("auto", t), "auto-20261124T190503.250Z");
	EXPECT_EQ(scheduled_name("auto", 951868799LL * kSec),
		  "auto-20000229T235959.000Z");
	EXPECT_EQ(scheduled_name("x", 0), "x-19700101T000000.000Z");
	// Before 1970 rounds down too, not towards zero.
	EXPECT_EQ(scheduled_name("x", -1), "x-19691231T235959.999Z");
}

TEST(ScheduledName, RoundTripsAndIsAValidSnapshotName)
{
	std::string longest(kScheduledPrefixMax, 'p');
	std::mt19937_64 rng(7);
	for (int i = 0; i < 2000; i++) {
		int64_t t = static_cast<int64_t>(rng() % (4102444800ULL * kSec));
		for (const std::string &prefix :
		     {std::string("auto"), std::string("a.b_c:d@e+f-g"), longest}) {
			std::string name = scheduled_name(prefix, t);
			ASSERT_TRUE(is_scheduled_name(prefix, name)) << name;
			ASSERT_TRUE(dynsnap_snap_name_valid(name.data(),
							    name.size()))
				<< name;
		}
	}
	EXPECT_EQ(scheduled_name(longest, 0).size(), DYNSNAP_SNAP_NAME_MAX);
}

TEST(ScheduledName, RecognisesOnlyItsOwnPrefix)
{
	std::string name = scheduled_name("auto", kDay0);
	EXPECT_TRUE(is_scheduled_name("auto", name));
	EXPECT_FALSE(is_scheduled_name("aut", name));
	EXPECT_FALSE(is_scheduled_name("auto-", name));
	EXPECT_FALSE(is_scheduled_name("Auto", name));
	EXPECT_FALSE(is_scheduled_name("", name));
	// Schedules whose prefixes extend one another stay apart.
	std::string hourly = scheduled_name("auto-hourly", kDay0);
	EXPECT_FALSE(is_scheduled_name("auto", hourly));
	EXPECT_TRUE(is_scheduled_name("auto-hourly", hourly));
	EXPECT_FALSE(is_scheduled_name("auto-hourly", name));
}

TEST(ScheduledName, RefusesLookalikes)
{
	for (const char *other :
	     {"auto", "auto-", "auto-mine", "before-upgrade",
	      "auto-20261124T190503.250", "auto-20261124T190503.250Z2",
	      "auto-20261124T190503Z", "auto-20261124-190503.250Z",
	      "auto-20261124T190503,250Z", "auto-20261124t190503.250z",
	      "auto-2026112AT190503.250Z", "auto-20261324T190503.250Z",
	      "auto-20261100T190503.250Z", "auto-20261124T240000.000Z",
	      "auto-20261124T196003.000Z", "auto-20261124T190560.000Z",
	      "xauto-20261124T190503.250Z", "auto_20261124T190503.250Z",
	      "auto-20261124T190503.250Z-copy"})
		EXPECT_FALSE(is_scheduled_name("auto", other)) << other;
	EXPECT_TRUE(is_scheduled_name("auto", "auto-20261124T190503.250Z"));
	EXPECT_TRUE(is_scheduled_name("auto", "auto-99991231T235959.999Z"));
}

TEST(ScheduledName, ChecksThePrefix)
{
	for (const std::string &bad :
	     {std::string(), std::string("-auto"), std::string("a b"),
	      std::string("a/b"), std::string("a\nb"), std::string("\xc3\xa9t\xc3\xa9"),
	      std::string(kScheduledPrefixMax + 1, 'p')}) {
		try {
			scheduled_name(bad, kDay0);
			ADD_FAILURE() << "accepted \"" << bad << "\"";
		} catch (const Error &e) {
			EXPECT_EQ(e.code(), Exit::kUsage);
			EXPECT_NE(std::string(e.what()).find("--prefix"),
				  std::string::npos);
			EXPECT_EQ(std::string(e.what()).find('\n'),
				  std::string::npos);
		}
		EXPECT_THROW(check_scheduled_prefix(bad), Error);
		EXPECT_FALSE(is_scheduled_name(
			bad, bad + "-20261124T190503.250Z"));
	}
	EXPECT_NO_THROW(check_scheduled_prefix("auto"));
	EXPECT_NO_THROW(check_scheduled_prefix("a.b_c:d@e+f-g"));
	EXPECT_NO_THROW(check_scheduled_prefix("0"));
	EXPECT_NO_THROW(check_scheduled_prefix(std::string(kScheduledPrefixMax, 'p')));
}

TEST(Retention, NoRulesIsAUsageError)
{
	try {
		plan_retention({}, {}, kDay0);
		ADD_FAILURE();
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kUsage);
	}
	EXPECT_THROW(snapshot_due({}, {}, kDay0), Error);
	EXPECT_THROW(plan_retention({}, {{0, 10}}, kDay0), Error);
	EXPECT_THROW(plan_retention({}, {{10, 5}}, kDay0), Error);
	EXPECT_THROW(snapshot_due({}, {{-1, 5}}, kDay0), Error);
}

TEST(Retention, EmptyPlan)
{
	RetentionPlan p = plan_retention({}, rules({"1m:1h"}), kDay0);
	EXPECT_TRUE(p.keep.empty());
	EXPECT_TRUE(p.remove.empty());
}

TEST(Retention, EachBucketKeepsItsOldest)
{
	// Minute buckets; now is 12:10:30 on day 0.
	int64_t base = kDay0 + 12 * 3600 * kSec;
	int64_t now = base + 630 * kSec;
	std::vector<ScheduledSnapshot> s = {
		{1, "a", base + 5 * kSec},		// 12:00:05, out of the window
		{2, "b", base + 575 * kSec},		// 12:09:35, oldest of 12:09
		{3, "c", base + 590 * kSec},		// 12:09:50
		{4, "d", base + 599 * kSec},		// 12:09:59
		{5, "e", base + 600 * kSec},		// 12:10:00, oldest of 12:10
		{6, "f", base + 615 * kSec},		// 12:10:15
		{7, "g", base + 629 * kSec},		// 12:10:29, newest
	};
	RetentionPlan p = plan_retention(s, rules({"1m:2m"}), now);
	// The window [12:08:30, 12:10:30] overlaps the buckets 12:08 to 12:10.
	EXPECT_EQ(p.keep, (std::vector<uint64_t>{2, 5, 7}));
	EXPECT_EQ(p.remove, (std::vector<uint64_t>{1, 3, 4, 6}));
}

TEST(Retention, BucketOverlappingTheWindowStartCounts)
{
	// now - span falls inside the 12:00 bucket; its oldest, before the
	// window start, is still kept.
	int64_t base = kDay0 + 12 * 3600 * kSec;
	int64_t now = base + 3630 * kSec;	// 13:00:30, window from 12:00:30
	std::vector<ScheduledSnapshot> s = {
		{1, "a", base - kSec},		// 11:59:59
		{2, "b", base + 10 * kSec},	// 12:00:10
		{3, "c", base + 3625 * kSec},	// 13:00:25
	};
	RetentionPlan p = plan_retention(s, rules({"1h:1h"}), now);
	EXPECT_EQ(p.keep, (std::vector<uint64_t>{2, 3}));
	EXPECT_EQ(p.remove, (std::vector<uint64_t>{1}));
}

TEST(Retention, AnyRuleKeeps)
{
	int64_t now = kDay0 + 3 * 86400 * kSec;
	std::vector<ScheduledSnapshot> s = {
		{10, "a", now - 2 * 86400 * kSec},	// kept by 1d:4w
		{11, "b", now - 2 * 86400 * kSec + kSec},
		{12, "c", now - 3000 * kSec},		// kept by 1h:1d
		{13, "d", now - 2999 * kSec},
		{14, "e", now - 1 * kSec},		// newest
	};
	RetentionPlan p = plan_retention(s, rules({"1h:1d", "1d:4w"}), now);
	EXPECT_EQ(p.keep, (std::vector<uint64_t>{10, 12, 14}));
	EXPECT_EQ(p.remove, (std::vector<uint64_t>{11, 13}));
	// One rule alone keeps less.
	p = plan_retention(s, rules({"1h:1d"}), now);
	EXPECT_EQ(p.keep, (std::vector<uint64_t>{12, 14}));
	EXPECT_EQ(p.remove, (std::vector<uint64_t>{10, 11, 13}));
}

TEST(Retention, NewestIsKeptAfterTheScheduleStopped)
{
	int64_t now = kDay0 + 10 * 86400 * kSec;
	std::vector<ScheduledSnapshot> s = {
		{1, "a", kDay0},
		{2, "b", kDay0 + kSec},
		{3, "c", kDay0 + 2 * kSec},
	};
	RetentionPlan p = plan_retention(s, rules({"1s:10m", "1h:1d"}), now);
	EXPECT_EQ(p.keep, (std::vector<uint64_t>{3}));
	EXPECT_EQ(p.remove, (std::vector<uint64_t>{1, 2}));
}

TEST(Retention, OrderIsOldestFirstWhateverTheInput)
{
	int64_t now = kDay0 + 100 * kSec;
	std::vector<ScheduledSnapshot> s = {
		{9, "a", kDay0 + 50 * kSec},
		{3, "b", kDay0 + 10 * kSec},
		{7, "c", kDay0 + 10 * kSec},	// same time: after id 3
		{1, "d", kDay0 + 90 * kSec},
		{5, "e", kDay0 + 20 * kSec},
	};
	RetentionPlan p = plan_retention(s, rules({"100s:100s"}), now);
	// One bucket, [0, 100 s); 100 s is the next, empty one.
	EXPECT_EQ(p.keep, (std::vector<uint64_t>{3, 1}));
	EXPECT_EQ(p.remove, (std::vector<uint64_t>{7, 5, 9}));
	std::reverse(s.begin(), s.end());
	RetentionPlan again = plan_retention(s, rules({"100s:100s"}), now);
	EXPECT_EQ(again.keep, p.keep);
	EXPECT_EQ(again.remove, p.remove);
}

TEST(Retention, FutureSnapshotsAreKept)
{
	int64_t now = kDay0 + 3600 * kSec;
	std::vector<ScheduledSnapshot> s = {
		{1, "a", now - 7200 * kSec},	// out of every window
		{2, "b", now - 30 * kSec},	// oldest of the 00:00 bucket
		{6, "f", now - 25 * kSec},
		{3, "c", now - 20 * kSec},	// newest not in the future
		{4, "d", now + 10 * kSec},	// the clock went back
		{5, "e", now + 86400 * kSec},
	};
	RetentionPlan p = plan_retention(s, rules({"1h:1h"}), now);
	EXPECT_EQ(p.keep, (std::vector<uint64_t>{2, 3, 4, 5}));
	EXPECT_EQ(p.remove, (std::vector<uint64_t>{1, 6}));
	// Future snapshots do not make a snapshot look taken.
	EXPECT_TRUE(snapshot_due(s, rules({"1s:1m"}), now));
	EXPECT_TRUE(snapshot_due({{4, "d", now + kSec}}, rules({"1h:1d"}), now));
}

TEST(Retention, DueFollowsTheBucketsOfTheFinestRule)
{
	auto due = [](int64_t newest, int64_t now, const char *rule) {
		std::vector<ScheduledSnapshot> s = {
			{1, "old", newest - 86400 * kSec}, {2, "new", newest}};
		return snapshot_due(s, rules({"1d:4w", rule}), now);
	};
	EXPECT_TRUE(snapshot_due({}, rules({"1h:1d"}), kDay0));
	// 1 s rule: due once the second changes, even less than 1 s later.
	EXPECT_FALSE(due(kDay0 + 5 * kMs, kDay0 + 995 * kMs, "1s:10m"));
	EXPECT_TRUE(due(kDay0 + 995 * kMs, kDay0 + 1005 * kMs, "1s:10m"));
	EXPECT_TRUE(due(kDay0 + 5 * kMs, kDay0 + 1005 * kMs, "1s:10m"));
	EXPECT_FALSE(due(kDay0, kDay0, "1s:10m"));
	// 1 m rule: at the first run of each minute, not 60 s after the last.
	EXPECT_FALSE(due(kDay0 + 5 * kSec, kDay0 + 59 * kSec, "1m:1h"));
	EXPECT_TRUE(due(kDay0 + 5 * kSec, kDay0 + 60 * kSec, "1m:1h"));
	EXPECT_TRUE(due(kDay0 + 59 * kSec, kDay0 + 61 * kSec, "1m:1h"));
	// The finest rule decides, whatever the order of the rules.
	EXPECT_TRUE(snapshot_due({{1, "a", kDay0}},
				 rules({"1h:1d", "1m:1h"}), kDay0 + 60 * kSec));
	EXPECT_FALSE(snapshot_due({{1, "a", kDay0}}, rules({"1h:1d"}),
				  kDay0 + 60 * kSec));
}

TEST(Retention, SameNowSamePlan)
{
	int64_t now = kDay0 + 1234567 * kMs;
	std::vector<ScheduledSnapshot> s;
	for (uint64_t i = 0; i < 500; i++)
		s.push_back({i + 1, "s", kDay0 + static_cast<int64_t>(i) * 2500 * kMs});
	auto r = rules({"1s:10s", "10s:5m", "1m:20m"});
	RetentionPlan p = plan_retention(s, r, now);
	RetentionPlan q = plan_retention(s, r, now);
	EXPECT_EQ(p.keep, q.keep);
	EXPECT_EQ(p.remove, q.remove);
	EXPECT_FALSE(p.remove.empty());
	// Applying the plan leaves a set the plan keeps whole.
	std::vector<ScheduledSnapshot> kept;
	std::set<uint64_t> keep(p.keep.begin(), p.keep.end());
	for (const ScheduledSnapshot &x : s)
		if (keep.count(x.id))
			kept.push_back(x);
	RetentionPlan after = plan_retention(kept, r, now);
	EXPECT_EQ(after.keep, p.keep);
	EXPECT_TRUE(after.remove.empty());
	EXPECT_EQ(snapshot_due(s, r, now), snapshot_due(kept, r, now));
}

// The schedule as `snapshotctl schedule` runs it, over a store that holds
// the scheduled snapshots, keeping the whole history on the side.
class Simulation {
public:
	explicit Simulation(std::vector<KeepRule> rules) : rules_(std::move(rules)) {}

	// One run at @now: maybe create, then remove what the plan says.
	void run(int64_t now)
	{
		bool due = snapshot_due(live_, rules_, now);
		if (due) {
			ScheduledSnapshot s{next_id_++, scheduled_name("auto", now), now};
			live_.push_back(s);
			history_.push_back(s);
			created_.insert(s.id);
		}
		RetentionPlan plan = plan_retention(live_, rules_, now);
		ASSERT_EQ(plan.keep.size() + plan.remove.size(), live_.size());
		std::set<uint64_t> remove(plan.remove.begin(), plan.remove.end());
		if (due) {	// never removes what it just made
			ASSERT_EQ(remove.count(history_.back().id), 0u);
		}
		for (const ScheduledSnapshot &s : live_)
			if (remove.count(s.id)) {
				// A removed snapshot was not in the future.
				ASSERT_LE(s.ctime_ns, now);
				removed_.insert(s.id);
			}
		std::erase_if(live_, [&](const ScheduledSnapshot &s) {
			return remove.count(s.id) != 0;
		});
		// A second run at the same time changes nothing.
		ASSERT_FALSE(snapshot_due(live_, rules_, now));
		RetentionPlan again = plan_retention(live_, rules_, now);
		ASSERT_TRUE(again.remove.empty());
		ASSERT_EQ(again.keep, plan.keep);
		runs_.push_back(now);
	}

	// What survives equals the plan over every snapshot ever taken: a
	// removed snapshot would not have been kept later either.
	void expect_history_agrees(int64_t now) const
	{
		RetentionPlan full = plan_retention(history_, rules_, now);
		std::vector<uint64_t> live_ids;
		for (const ScheduledSnapshot &s : live_)
			live_ids.push_back(s.id);
		ASSERT_EQ(full.keep, live_ids);
	}

	const std::vector<ScheduledSnapshot> &live() const { return live_; }
	const std::vector<int64_t> &runs() const { return runs_; }
	size_t created() const { return created_.size(); }

private:
	std::vector<KeepRule> rules_;
	std::vector<ScheduledSnapshot> live_;
	std::vector<ScheduledSnapshot> history_;
	std::set<uint64_t> created_;
	std::set<uint64_t> removed_;
	std::vector<int64_t> runs_;
	uint64_t next_id_ = 1;
};

int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0 ? 1 : 0);
}

// Per rule, every bucket overlapping its window that a run fell in holds a
// surviving snapshot taken at the first run in that bucket; with
// @one_each, exactly one.
void expect_bucket_properties(const Simulation &sim,
			      const std::vector<KeepRule> &rules, int64_t now,
			      const KeepRule &finest)
{
	for (const KeepRule &r : rules) {
		int64_t every = r.every_s * kSec;
		int64_t first = floor_div(now - r.span_s * kSec, every);
		std::map<int64_t, int64_t> first_run;	// bucket -> time
		for (int64_t t : sim.runs()) {
			int64_t b = floor_div(t, every);
			if (t > now || b < first)
				continue;
			auto [it, fresh] = first_run.emplace(b, t);
			if (!fresh)
				it->second = std::min(it->second, t);
		}
		std::map<int64_t, std::vector<int64_t>> held;
		for (const ScheduledSnapshot &s : sim.live())
			if (s.ctime_ns <= now &&
			    floor_div(s.ctime_ns, every) >= first)
				held[floor_div(s.ctime_ns, every)].push_back(
					s.ctime_ns);
		for (auto &[bucket, times] : held)
			std::sort(times.begin(), times.end());
		for (const auto &[bucket, t] : first_run) {
			auto it = held.find(bucket);
			ASSERT_NE(it, held.end())
				<< format_keep_rule(r) << " bucket " << bucket;
			EXPECT_EQ(it->second.front(), t) << format_keep_rule(r);
			if (r.every_s == finest.every_s) {
				EXPECT_EQ(it->second.size(), 1u)
					<< format_keep_rule(r);
			}
		}
		// No bucket holds a snapshot without a run in it.
		for (const auto &[bucket, times] : held)
			EXPECT_TRUE(first_run.count(bucket)) << bucket;
	}
	// Outside every window only the newest survives.
	int64_t newest = INT64_MIN;
	for (const ScheduledSnapshot &s : sim.live())
		newest = std::max(newest, s.ctime_ns);
	for (const ScheduledSnapshot &s : sim.live()) {
		bool in_some = s.ctime_ns == newest;
		for (const KeepRule &r : rules)
			in_some |= floor_div(s.ctime_ns, r.every_s * kSec) >=
				   floor_div(now - r.span_s * kSec,
					     r.every_s * kSec);
		EXPECT_TRUE(in_some) << s.name;
	}
}

// An independent model of a run every second at second i + 0.25 since a
// day boundary: the snapshot of second i survives at the last second
// @last iff it is the last, or for some rule it is the first second of its
// bucket and that bucket ends after now - span. Whole seconds throughout,
// now - span compared in quarter seconds.
std::set<int64_t> model_kept(int64_t last, const std::vector<KeepRule> &rules)
{
	std::set<int64_t> kept = {last};
	for (int64_t i = 0; i <= last; i++)
		for (const KeepRule &r : rules)
			if (i % r.every_s == 0 &&
			    (i / r.every_s + 1) * r.every_s * 4 >
				    last * 4 + 1 - r.span_s * 4)
				kept.insert(i);
	return kept;
}

std::set<int64_t> live_seconds(const Simulation &sim)
{
	std::set<int64_t> secs;
	for (const ScheduledSnapshot &s : sim.live()) {
		EXPECT_EQ((s.ctime_ns - kDay0) % kSec, 250 * kMs);
		EXPECT_TRUE(secs.insert((s.ctime_ns - kDay0) / kSec).second)
			<< "two snapshots in one second";
	}
	return secs;
}

TEST(RetentionTimeline, EverySecondForTwoHours)
{
	auto r = rules({"1s:10m", "1m:1h", "1h:1d"});
	Simulation sim(r);
	for (int64_t i = 0; i < 7200; i++) {
		int64_t now = kDay0 + i * kSec + 250 * kMs;
		ASSERT_NO_FATAL_FAILURE(sim.run(now));
		if (i % 97 == 0 || i >= 7190) {
			ASSERT_NO_FATAL_FAILURE(sim.expect_history_agrees(now));
			ASSERT_EQ(live_seconds(sim), model_kept(i, r)) << i;
		}
	}
	int64_t now = kDay0 + 7199 * kSec + 250 * kMs;
	EXPECT_EQ(sim.created(), 7200u);	// one per second, no re-creation
	// 601 seconds (the bucket of now - 10m overlaps the window), 61
	// minutes of which 10 are among those seconds, 2 hours of which one
	// is among those minutes.
	EXPECT_EQ(sim.live().size(), 601u + 61 - 10 + 2 - 1);
	EXPECT_EQ(sim.live().size(), model_kept(7199, r).size());
	expect_bucket_properties(sim, r, now, r[0]);
}

TEST(RetentionTimeline, JitteringTimer)
{
	auto r = rules({"1s:10m", "1m:1h", "1h:1d"});
	Simulation sim(r);
	std::mt19937_64 rng(2026);
	std::uniform_int_distribution<int64_t> step(700 * kMs, 1300 * kMs);
	int64_t now = kDay0 - 1800 * kSec + 123 * kMs;
	int64_t end = now + 3 * 3600 * kSec;
	int n = 0;
	while (now < end) {
		ASSERT_NO_FATAL_FAILURE(sim.run(now));
		if (++n % 211 == 0) {
			ASSERT_NO_FATAL_FAILURE(sim.expect_history_agrees(now));
		}
		now += step(rng);
	}
	now = sim.runs().back();
	sim.expect_history_agrees(now);
	expect_bucket_properties(sim, r, now, r[0]);
	// No two snapshots ever shared a second: nothing made to be removed.
	std::set<int64_t> buckets;
	for (int64_t t : sim.runs())
		buckets.insert(floor_div(t, kSec));
	EXPECT_EQ(sim.created(), buckets.size());
}

TEST(RetentionTimeline, TimerCoarserThanTheRule)
{
	// Every 5 minutes with a 1m rule: each run takes one.
	auto r = rules({"1m:1h", "1d:1w"});
	Simulation sim(r);
	int64_t now = kDay0;
	for (int i = 0; i < 24 * 12 * 3; i++, now += 300 * kSec + 17 * kMs)
		ASSERT_NO_FATAL_FAILURE(sim.run(now));
	now -= 300 * kSec + 17 * kMs;
	EXPECT_EQ(sim.created(), 24u * 12 * 3);
	sim.expect_history_agrees(now);
	expect_bucket_properties(sim, r, now, r[0]);
	// 12 or 13 in the last hour, one a day for the 3 days started.
	EXPECT_GE(sim.live().size(), 12u + 3 - 1);
	EXPECT_LE(sim.live().size(), 13u + 3);
}

TEST(RetentionTimeline, ClockSetBack)
{
	auto r = rules({"1s:10m", "1m:1h", "1h:1d"});
	Simulation sim(r);
	for (int64_t i = 0; i < 7200; i++)
		ASSERT_NO_FATAL_FAILURE(sim.run(kDay0 + i * kSec + 250 * kMs));
	// The clock goes back 30 minutes; the last 30 minutes' snapshots are
	// now in the future and stay until the clock has caught up (run()
	// checks that nothing in the future is removed).
	size_t ahead = 0;
	for (const ScheduledSnapshot &s : sim.live())
		ahead += s.ctime_ns > kDay0 + 5400 * kSec + 250 * kMs;
	EXPECT_EQ(ahead, 600u + 30 - 10);	// 10m of seconds, 30 minutes
	for (int64_t i = 5400; i < 9000; i++)
		ASSERT_NO_FATAL_FAILURE(sim.run(kDay0 + i * kSec + 250 * kMs));
	// Every second had a run at the same offset, some twice: the
	// survivors are what a single pass over the 9000 seconds keeps.
	EXPECT_EQ(live_seconds(sim), model_kept(8999, r));
	expect_bucket_properties(sim, r, kDay0 + 8999 * kSec + 250 * kMs, r[0]);
}

TEST(RetentionTimeline, OnlyScheduledNamesAreConsidered)
{
	// What the command does with the store's list: filter by name first.
	struct Snap { uint64_t id; std::string name; int64_t ctime_ns; };
	std::vector<Snap> store = {
		{1, "before-upgrade", kDay0},
		{2, scheduled_name("auto", kDay0 + kSec), kDay0 + kSec},
		{3, scheduled_name("auto-hourly", kDay0 + 2 * kSec), kDay0 + 2 * kSec},
		{4, scheduled_name("auto", kDay0 + 3 * kSec), kDay0 + 3 * kSec},
		{5, "auto-manual", kDay0 + 4 * kSec},
	};
	std::vector<ScheduledSnapshot> mine;
	for (const Snap &s : store)
		if (is_scheduled_name("auto", s.name))
			mine.push_back({s.id, s.name, s.ctime_ns});
	ASSERT_EQ(mine.size(), 2u);
	RetentionPlan p = plan_retention(mine, rules({"1h:1h"}), kDay0 + 7200 * kSec);
	EXPECT_EQ(p.keep, (std::vector<uint64_t>{4}));
	EXPECT_EQ(p.remove, (std::vector<uint64_t>{2}));
}

} // namespace
} // namespace dynsnap::ctl

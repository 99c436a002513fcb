// SPDX-License-Identifier: GPL-2.0
#include "store/store_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <unordered_map>

#include "dynsnap_checkpoint.h"
#include "dynsnap_control.h"
#include "dynsnap_gc.h"
#include "dynsnap_names.h"
#include "dynsnap_replay.h"
#include "dynsnap_view.h"
#include "store/log_replay.h"
#include "store/superblock_reader.h"
#include "store/tier_device.h"
#include "util/error.h"

namespace dynsnap::store {

namespace {

using nlohmann::json;

constexpr const char *kInconsistent = "delta log is inconsistent";
constexpr const char *kShortDevice = "the device is shorter than a superblock";

const char *level_name(uint32_t level)
{
	const char *name = dynsnap_level_name(level);
	return name ? name : "unknown";
}

const char *control_name(uint32_t type)
{
	switch (type) {
	case DYNSNAP_CTL_SNAP_CREATE:
		return "snap_create";
	case DYNSNAP_CTL_SNAP_DELETE:
		return "snap_delete";
	case DYNSNAP_CTL_GRANULARITY:
		return "granularity";
	}
	return "unknown";
}

json optional_json(uint64_t v, uint64_t none)
{
	return v == none ? json(nullptr) : json(v);
}

json optional_json(const std::optional<uint64_t> &v)
{
	return v ? json(*v) : json(nullptr);
}

struct Snapshot {
	uint64_t id;
	uint32_t epoch;
	uint64_t ctime_ns;
	std::string name;
};

json to_json(const Snapshot &s)
{
	return {{"id", s.id}, {"name", s.name}, {"ctime_ns", s.ctime_ns}, {"epoch", s.epoch}};
}

Snapshot from_ctl(const dynsnap_ctl_snap_create &c)
{
	return {c.id, static_cast<uint32_t>(c.epoch), c.ctime_ns, std::string(c.name, c.name_len)};
}

/*
 * A per-region level map as runs: set_granularity assigns ranges, and a
 * store with many regions keeps few distinct runs, so memory follows what
 * the store holds rather than what its superblock claims.
 */
class LevelMap {
public:
	explicit LevelMap(uint64_t n = 0) : n_(n)
	{
		if (n_)
			runs_[0] = DYNSNAP_LEVEL_DEFAULT;
	}

	void assign(uint64_t first, uint64_t count, uint8_t level)
	{
		uint64_t end = first + count;
		if (!count || first >= n_ || end > n_)
			return;
		split(first);
		split(end);
		runs_.erase(runs_.lower_bound(first), runs_.lower_bound(end));
		runs_[first] = level;
	}

	void load(const uint8_t *levels, uint64_t n)
	{
		n_ = n;
		runs_.clear();
		for (uint64_t i = 0; i < n; i++)
			if (!i || levels[i] != levels[i - 1])
				runs_[i] = levels[i];
	}

	// Regions at block, sub, bit and default level.
	std::array<uint64_t, 4> counts() const
	{
		std::array<uint64_t, 4> c{};
		for (auto it = runs_.begin(); it != runs_.end(); ++it) {
			auto nx = std::next(it);
			uint64_t len = (nx == runs_.end() ? n_ : nx->first) - it->first;
			c[it->second < DYNSNAP_LEVEL__COUNT ? it->second : 3] += len;
		}
		return c;
	}

private:
	void split(uint64_t at)
	{
		if (at >= n_ || runs_.count(at))
			return;
		auto it = std::prev(runs_.upper_bound(at));
		runs_[at] = it->second;
	}

	uint64_t n_;
	std::map<uint64_t, uint8_t> runs_;
};

json to_json(const LevelMap &m)
{
	auto c = m.counts();
	return {{level_name(DYNSNAP_LEVEL_BLOCK), c[DYNSNAP_LEVEL_BLOCK]},
		{level_name(DYNSNAP_LEVEL_SUB), c[DYNSNAP_LEVEL_SUB]},
		{level_name(DYNSNAP_LEVEL_BIT), c[DYNSNAP_LEVEL_BIT]},
		{"default", c[DYNSNAP_LEVEL__COUNT]}};
}

json regions_json(uint64_t count, const LevelMap &cur, const LevelMap &next)
{
	return {{"count", count}, {"current", to_json(cur)}, {"next", to_json(next)}};
}

// One undo delta of the index, as the kernel keeps it (struct dsn_delta).
struct Delta {
	uint32_t epoch;
	uint16_t first;		// sector in the block
	uint16_t sectors;
	uint8_t level;
	uint8_t tier;
	uint32_t stored;
	uint32_t segment;
	size_t record;		// index in the record list, or SIZE_MAX
	bool live = false;
};

struct Totals {
	uint64_t records = 0, delta = 0, control = 0, damaged = 0, bytes = 0;
	std::array<uint64_t, DYNSNAP_LEVEL__COUNT> levels{};
	std::array<uint64_t, DYNSNAP_CTL__COUNT> controls{};
	uint64_t controls_in_checkpoint = 0;
	uint64_t live_delta = 0, live_delta_bytes = 0;

	void add(const Totals &o)
	{
		records += o.records;
		delta += o.delta;
		control += o.control;
		damaged += o.damaged;
		bytes += o.bytes;
		for (size_t i = 0; i < levels.size(); i++)
			levels[i] += o.levels[i];
		for (size_t i = 0; i < controls.size(); i++)
			controls[i] += o.controls[i];
		controls_in_checkpoint += o.controls_in_checkpoint;
		live_delta += o.live_delta;
		live_delta_bytes += o.live_delta_bytes;
	}
};

json to_json(const Totals &t)
{
	return {
		{"records", t.records},
		{"delta_records", t.delta},
		{"control_records", t.control},
		{"damaged_records", t.damaged},
		{"bytes", t.bytes},
		{"levels", {{level_name(DYNSNAP_LEVEL_BLOCK), t.levels[DYNSNAP_LEVEL_BLOCK]},
			    {level_name(DYNSNAP_LEVEL_SUB), t.levels[DYNSNAP_LEVEL_SUB]},
			    {level_name(DYNSNAP_LEVEL_BIT), t.levels[DYNSNAP_LEVEL_BIT]}}},
		{"controls", {{"snap_create", t.controls[DYNSNAP_CTL_SNAP_CREATE]},
			      {"snap_delete", t.controls[DYNSNAP_CTL_SNAP_DELETE]},
			      {"granularity", t.controls[DYNSNAP_CTL_GRANULARITY]}}},
		{"controls_in_checkpoint", t.controls_in_checkpoint},
		{"live_delta_records", t.live_delta},
		{"live_delta_bytes", t.live_delta_bytes},
	};
}

// One checkpoint slot, read as read_checkpoint() in the engine does.
struct Slot {
	uint32_t index;
	uint64_t sector;
	uint64_t offset;
	std::string state;	// valid, blank, damaged, unreadable
	std::string error;
	dynsnap_checkpoint c{};
	std::vector<uint8_t> bytes;	// the checkpoint, when valid
};

Slot read_slot(TierDevice &dev, const dynsnap_layout &l, const uint8_t *uuid, uint32_t index)
{
	Slot s{index, dynsnap_checkpoint_slot_sector(&l, index), 0, "unreadable", "", {}, {}};
	s.offset = s.sector << DYNSNAP_SECTOR_SHIFT;

	AlignedBuffer head(4096);
	ssize_t n = dev.read(s.offset, head.data(), 4096);
	if (n < 0) {
		s.error = std::strerror(static_cast<int>(-n));
		return s;
	}
	if (n < 4096) {
		s.error = "the slot lies beyond the end of the device";
		return s;
	}
	if (dynsnap_checkpoint_is_blank(head.data())) {
		s.state = "blank";
		return s;
	}
	uint64_t total = dynsnap_checkpoint_read_size(head.data(), &l);
	const uint8_t *buf = head.data();
	std::unique_ptr<AlignedBuffer> whole;
	if (total > 4096) {
		if (s.offset + total > dev.size()) {
			s.error = "the checkpoint reaches beyond the end of the device";
			return s;
		}
		try {
			whole = std::make_unique<AlignedBuffer>(total);
		} catch (const std::bad_alloc &) {
			s.error = strprintf("cannot allocate %llu bytes for it", ull(total));
			return s;
		}
		n = dev.read(s.offset, whole->data(), total);
		if (n < 0 || static_cast<uint64_t>(n) < total) {
			s.error = n < 0 ? std::strerror(static_cast<int>(-n))
					: "the checkpoint reaches beyond the end of the device";
			return s;
		}
		buf = whole->data();
	}
	dynsnap_err err = dynsnap_checkpoint_decode(buf, total, uuid, &s.c);
	if (err != DSN_OK) {
		s.state = "damaged";
		s.error = dynsnap_strerror(err);
		return s;
	}
	s.state = "valid";
	s.bytes.assign(buf, buf + dynsnap_checkpoint_size(s.c.nr_snaps, s.c.nr_regions));
	return s;
}

std::vector<Snapshot> slot_snapshots(const Slot &s)
{
	std::vector<Snapshot> v;
	for (uint32_t i = 0; i < s.c.nr_snaps; i++) {
		dynsnap_ctl_snap_create sc;
		dynsnap_checkpoint_snap(s.bytes.data(), i, &sc);
		v.push_back(from_ctl(sc));
	}
	return v;
}

void slot_levels(const Slot &s, LevelMap &cur, LevelMap &next)
{
	const uint8_t *p = s.bytes.data() + dynsnap_checkpoint_levels_offset(s.c.nr_snaps);
	cur.load(p, s.c.nr_regions);
	next.load(p + s.c.nr_regions, s.c.nr_regions);
}

json to_json(const Slot &s)
{
	json j = {
		{"slot", s.index},
		{"sector", s.sector},
		{"device_offset", s.offset},
		{"state", s.state},
		{"error", s.error.empty() ? json(nullptr) : json(s.error)},
	};
	if (s.state != "valid")
		return j;
	const dynsnap_checkpoint &c = s.c;
	j["generation"] = c.generation;
	j["epoch"] = c.epoch;
	j["next_snapshot_id"] = c.next_id;
	j["control_seq"] = c.control_seq;
	j["fast_end_seq"] = c.fast_end_seq;
	j["slow_end_seq"] = c.slow_head_sector ? json(c.slow_end_seq) : json(nullptr);
	j["nr_regions"] = c.nr_regions;
	j["fast_head"] = {{"sector", c.fast_head_sector}, {"segment_seq", c.fast_head_seq}};
	j["slow_head"] = c.slow_head_sector ? json{{"sector", c.slow_head_sector},
						    {"segment_seq", c.slow_head_seq}}
					    : json(nullptr);
	json snaps = json::array();
	for (const auto &snap : slot_snapshots(s))
		snaps.push_back(to_json(snap));
	j["snapshots"] = snaps;
	LevelMap cur, next;
	slot_levels(s, cur, next);
	j["regions"] = regions_json(c.nr_regions, cur, next);
	return j;
}

json device_json(const TierDevice *dev)
{
	if (!dev)
		return nullptr;
	return {{"path", dev->path()}, {"size_bytes", dev->size()}};
}

json superblock_json(const SuperblockReadResult &r)
{
	return {
		{"state", state_name(r.state)},
		{"error", r.state == SuperblockState::kValid || r.error.empty()
				  ? json(nullptr) : json(r.error)},
		{"superblock", r.superblock ? dynsnap::store::to_json(*r.superblock)
					    : json(nullptr)},
	};
}

// Block 0 of @dev: an I/O error there is an error of the device as a whole.
SuperblockReadResult read_sb(TierDevice &dev)
{
	AlignedBuffer buf(DYNSNAP_SB_SIZE);
	ssize_t n = dev.read(0, buf.data(), DYNSNAP_SB_SIZE);
	if (n < 0)
		throw Error(Exit::kFailed, "cannot read " + dev.path() + ": " +
			    std::strerror(static_cast<int>(-n)));
	if (n < static_cast<ssize_t>(DYNSNAP_SB_SIZE)) {
		SuperblockReadResult r;
		r.state = SuperblockState::kInvalid;
		r.error = kShortDevice;
		return r;
	}
	return decode_superblock(buf.data(), DYNSNAP_SB_SIZE);
}

/*
 * The check: the kernel's activation step by step (open_store,
 * load_checkpoint, replay), its state kept as the engine keeps it.
 */
class Checker {
public:
	Checker(const std::string &fast, const std::string &slow, const CheckOptions &opt)
		: opt_(opt)
	{
		fast_ = std::make_unique<TierDevice>(fast);
		if (!slow.empty())
			slow_ = std::make_unique<TierDevice>(slow);
	}

	StoreReport run();

private:
	void problem(const char *tier, const std::string &what,
		     uint64_t offset = UINT64_MAX, std::optional<uint64_t> seg = std::nullopt,
		     std::optional<uint64_t> seq = std::nullopt,
		     const std::string &refusal = "")
	{
		report_.problems.push_back({tier, what, offset, seg, seq});
		refuse(refusal);
	}
	void note(const char *tier, const std::string &what, uint64_t offset = UINT64_MAX,
		  std::optional<uint64_t> seg = std::nullopt,
		  std::optional<uint64_t> seq = std::nullopt)
	{
		report_.notes.push_back({tier, what, offset, seg, seq});
	}
	// The first reason wins, as activation stops at it.
	void refuse(const std::string &reason)
	{
		if (!reason.empty() && refusal_.empty())
			refusal_ = reason;
	}

	bool superblocks();
	void check_sizes();
	void checkpoints();
	void replay_tier(uint32_t tier);
	void on_record(uint32_t tier, const LogRecord &rec);
	bool on_control(uint32_t tier, const LogRecord &rec, json *entry);
	void inconsistent(uint32_t tier, const LogRecord &rec, const std::string &what);
	void collect();
	void finish_dump();

	CheckOptions opt_;
	std::unique_ptr<TierDevice> fast_, slow_;
	StoreReport report_;
	std::string refusal_;

	SuperblockReadResult fast_sb_, slow_sb_;
	dynsnap_superblock sb_{};	// the store's, as the kernel goes by
	bool has_slow_ = false;		// the store has a slow tier
	bool slow_usable_ = false;	// and the slow device given is its own
	uint64_t nr_regions_ = 0;

	std::array<Slot, 2> slots_;
	int best_ = -1;
	bool ckpt_damaged_ = false;

	// The engine's state.
	uint32_t epoch_ = 1;
	uint64_t next_id_ = 1;
	std::vector<Snapshot> snaps_;
	LevelMap cur_level_, next_level_;
	uint64_t control_seq_ = 0;
	uint32_t replay_epoch_ = 0;
	uint64_t checksum_errors_ = 0;
	std::unordered_map<uint64_t, std::vector<Delta>> index_;

	std::map<uint32_t, Totals> totals_;
	std::map<uint32_t, LogReplay> logs_;
	std::map<uint32_t, std::map<uint32_t, uint64_t>> live_bytes_;	// tier, segment
	std::vector<json> records_;
};

bool Checker::superblocks()
{
	fast_sb_ = read_sb(*fast_);
	if (slow_)
		slow_sb_ = read_sb(*slow_);
	report_.dump["superblocks"] = {
		{"fast", superblock_json(fast_sb_)},
		{"slow", slow_ ? superblock_json(slow_sb_) : json(nullptr)},
	};

	if (fast_sb_.state == SuperblockState::kZeroed) {
		report_.store_present = false;
		// Formatting would refuse to overwrite a slow device it did not write.
		if (slow_ && slow_sb_.state != SuperblockState::kZeroed) {
			std::string held = slow_sb_.superblock
				? " (it holds a superblock of store " +
				  uuid_to_string(slow_sb_.superblock->uuid) + ")"
				: "";
			problem("slow", "the fast device holds no store, but the slow device is "
				"not zeroed" + held + ": formatting refuses to overwrite it", 0);
		}
		return false;
	}
	report_.store_present = true;

	bool slow_valid = slow_ && slow_sb_.state == SuperblockState::kValid;
	if (fast_sb_.state != SuperblockState::kValid) {
		problem("fast", "fast superblock: " + fast_sb_.error, 0, std::nullopt,
			std::nullopt, fast_sb_.error == kShortDevice ? "cannot read superblock"
								    : fast_sb_.error);
		if (!slow_valid || slow_sb_.superblock->tier != DYNSNAP_TIER_SLOW)
			return false;
		// Same layout on both tiers: go on with the slow copy's.
		sb_ = *slow_sb_.superblock;
		sb_.tier = DYNSNAP_TIER_FAST;
		note("fast", "the fast superblock is unusable: the store is read with the slow "
		     "superblock's identity and layout", 0);
	} else {
		sb_ = *fast_sb_.superblock;
		if (sb_.tier != DYNSNAP_TIER_FAST) {
			problem("fast", std::string("the fast device holds a slow tier's "
				"superblock (fast and slow swapped?): ") +
				dynsnap_strerror(DSN_ERR_SB_TIER), 0, std::nullopt,
				std::nullopt, dynsnap_strerror(DSN_ERR_SB_TIER));
			return false;
		}
	}
	has_slow_ = sb_.flags & DYNSNAP_SB_F_HAS_SLOW;
	nr_regions_ = dynsnap_region_count(&sb_.geometry, sb_.volume_sectors);

	if (has_slow_ && !slow_)
		problem("store", std::string(dynsnap_strerror(DSN_ERR_SB_SLOW_MISSING)) +
			": the slow tier's log is not checked", UINT64_MAX, std::nullopt,
			std::nullopt, dynsnap_strerror(DSN_ERR_SB_SLOW_MISSING));
	if (!has_slow_ && slow_)
		problem("store", std::string(dynsnap_strerror(DSN_ERR_SB_SLOW_UNEXPECTED)) +
			": the slow device given is not part of it", UINT64_MAX, std::nullopt,
			std::nullopt, dynsnap_strerror(DSN_ERR_SB_SLOW_UNEXPECTED));
	check_sizes();
	if (!has_slow_ || !slow_)
		return true;

	// open_slow(): the slow superblock must describe the same store.
	if (slow_sb_.state == SuperblockState::kZeroed) {
		if (sb_.flags & DYNSNAP_SB_F_FORMATTING) {
			slow_usable_ = true;
			note("slow", "the slow device is zeroed and the store is marked "
			     "formatting: a format was cut off before the slow superblock was "
			     "written; the next read-write activation completes it (a read-only "
			     "one refuses)", 0);
		} else {
			problem("slow", "slow device holds no superblock of this store: it was "
				"replaced or wiped; the store cannot be used without it", 0,
				std::nullopt, std::nullopt,
				"slow device holds no superblock of this store");
		}
		return true;
	}
	if (!slow_valid) {
		problem("slow", "slow superblock: " + slow_sb_.error, 0, std::nullopt,
			std::nullopt, slow_sb_.error == kShortDevice ? "cannot read superblock"
								    : slow_sb_.error);
		// Its log may be whole: segment headers name their store.
		slow_usable_ = fast_sb_.state == SuperblockState::kValid;
		if (slow_usable_)
			note("slow", "the slow tier's log is read with the fast superblock's "
			     "layout", 0);
		return true;
	}
	if (fast_sb_.state == SuperblockState::kValid) {
		dynsnap_err e = dynsnap_sb_same_store(&sb_, &*slow_sb_.superblock);
		if (e != DSN_OK) {
			problem("slow", std::string(dynsnap_strerror(e)) + " (fast: store " +
				uuid_to_string(sb_.uuid) + ", slow: store " +
				uuid_to_string(slow_sb_.superblock->uuid) +
				"): the slow tier's log is not checked", 0, std::nullopt,
				std::nullopt, dynsnap_strerror(e));
			return true;
		}
		if (sb_.flags & DYNSNAP_SB_F_FORMATTING)
			note("fast", "the fast superblock is still marked formatting although "
			     "the slow one is written: the next read-write activation clears "
			     "the mark", 0);
	}
	slow_usable_ = true;
	return true;
}

// dynsnap_sb_match(): neither device may end before its delta area does.
void Checker::check_sizes()
{
	const dynsnap_layout &l = sb_.layout;
	struct {
		const char *tier;
		TierDevice *dev;
		uint64_t end;
	} tiers[] = {
		{"fast", fast_.get(), l.fast_data_start + l.fast_data_sectors},
		{"slow", has_slow_ ? slow_.get() : nullptr,
		 l.slow_data_start + l.slow_data_sectors},
	};
	for (const auto &t : tiers) {
		if (!t.dev || t.dev->size() >> DYNSNAP_SECTOR_SHIFT >= t.end)
			continue;
		problem(t.tier, strprintf("%s: the device has %llu sectors, the store's "
					  "delta area ends at sector %llu",
					  dynsnap_strerror(DSN_ERR_SB_DEVICE_SHRUNK),
					  ull(t.dev->size() >> DYNSNAP_SECTOR_SHIFT), ull(t.end)),
			t.dev->size(), std::nullopt, std::nullopt,
			dynsnap_strerror(DSN_ERR_SB_DEVICE_SHRUNK));
	}
}

// load_checkpoint(): the valid slot with the higher generation counts.
void Checker::checkpoints()
{
	for (uint32_t i = 0; i < DYNSNAP_CKPT_SLOTS; i++)
		slots_[i] = read_slot(*fast_, sb_.layout, sb_.uuid, i);
	auto valid = [&](int i) { return slots_[i].state == "valid" ? &slots_[i].c : nullptr; };
	best_ = dynsnap_checkpoint_newest(valid(0), valid(1));
	for (const Slot &s : slots_) {
		if (s.state == "unreadable") {
			problem("fast", strprintf("cannot read checkpoint slot %u: %s", s.index,
						  s.error.c_str()),
				s.offset, std::nullopt, std::nullopt, "cannot read checkpoint");
		} else if (s.state == "damaged") {
			std::string what = strprintf("checkpoint slot %u is damaged: %s", s.index,
						     s.error.c_str());
			if (best_ >= 0)
				what += strprintf(". Activation uses slot %d (generation %llu), "
						  "a read-write one rewrites this slot next; a "
						  "checkpoint write cut off by a power cut also "
						  "leaves this", best_, slots_[best_].c.generation);
			else
				what += ". No valid checkpoint is left: activation refuses the "
					"table";
			problem("fast", what, s.offset);
		}
	}
	json ck = {
		{"slot_sectors", dynsnap_checkpoint_slot_sectors(&sb_.layout)},
		{"used_slot", best_ >= 0 ? json(best_) : json(nullptr)},
		{"slots", {to_json(slots_[0]), to_json(slots_[1])}},
	};
	report_.dump["checkpoints"] = ck;

	if (best_ < 0) {
		// An unreadable slot refused the table already.
		if (slots_[0].state != "blank" || slots_[1].state != "blank") {
			ckpt_damaged_ = true;
			refuse("checkpoint is damaged");
		}
		return;
	}
	const Slot &s = slots_[best_];
	const dynsnap_checkpoint &c = s.c;
	const char *mismatch = "checkpoint does not match the store";
	dynsnap_err match = dynsnap_checkpoint_match(&c, nr_regions_, has_slow_);
	if (match == DSN_ERR_CKPT_REGIONS)
		problem("fast", strprintf("%s: slot %d names %u regions, the store has %llu",
					  mismatch, best_, c.nr_regions, ull(nr_regions_)),
			s.offset, std::nullopt, std::nullopt, mismatch);
	else if (match == DSN_ERR_CKPT_SLOW)
		problem("fast", strprintf("%s: slot %d names %s", mismatch, best_,
					  c.slow_head_sector
					  ? "a slow tier's log head, the store has no slow tier"
					  : "no slow tier's log head, the store has one"),
			s.offset, std::nullopt, std::nullopt, mismatch);

	epoch_ = c.epoch;
	next_id_ = c.next_id;
	control_seq_ = c.control_seq;
	snaps_ = slot_snapshots(s);
	if (c.nr_regions == nr_regions_)
		slot_levels(s, cur_level_, next_level_);
}

void Checker::inconsistent(uint32_t tier, const LogRecord &rec, const std::string &what)
{
	problem(tier_name(tier), what + ": activation refuses the table", rec.device_offset,
		rec.segment, rec.header.sequence, kInconsistent);
}

// What a control record says, for the dump, whether it is applied or not.
void describe_control(const LogRecord &rec, json &entry)
{
	const dynsnap_record_header &h = rec.header;

	switch (h.level) {
	case DYNSNAP_CTL_SNAP_CREATE: {
		dynsnap_ctl_snap_create c;
		if (dynsnap_ctl_snap_create_decode(rec.payload, h.stored_length, &c) == DSN_OK)
			entry["snapshot"] = to_json(from_ctl(c));
		break;
	}
	case DYNSNAP_CTL_SNAP_DELETE: {
		dynsnap_ctl_snap_delete d;
		if (dynsnap_ctl_snap_delete_decode(rec.payload, h.stored_length, &d) == DSN_OK)
			entry["snapshot_id"] = d.id;
		break;
	}
	case DYNSNAP_CTL_GRANULARITY: {
		dynsnap_ctl_granularity g;
		if (dynsnap_ctl_granularity_decode(rec.payload, h.stored_length, &g) == DSN_OK)
			entry["regions"] = {{"epoch", g.epoch},
					    {"first_region", g.first_region},
					    {"count", g.count},
					    {"level", level_name(g.level)}};
		break;
	}
	}
}

// replay_control() and the control part of replay_record(), on the rules
// of core/dynsnap_replay.h. False: the checkpoint holds it already.
bool Checker::on_control(uint32_t tier, const LogRecord &rec, json *entry)
{
	const dynsnap_record_header &h = rec.header;
	uint64_t seq = h.sequence;
	bool covered = false;

	if (entry)
		describe_control(rec, *entry);
	dynsnap_err err = dynsnap_replay_control_seen(&h, rec.payload, tier, control_seq_,
						      &replay_epoch_, &covered);
	if (err == DSN_ERR_REPLAY_CTL_TIER) {
		inconsistent(tier, rec, strprintf("record %llu is a control record in the slow "
						  "tier's log, where none belong", ull(seq)));
		return true;
	}
	if (err == DSN_OK && covered)
		return false;
	dynsnap_replay_ctl c;
	if (err == DSN_OK)
		err = dynsnap_replay_control(&h, rec.payload, epoch_, next_id_, nr_regions_, &c);
	switch (err) {
	case DSN_OK:
		break;
	case DSN_ERR_REPLAY_SNAP_EPOCH:
		inconsistent(tier, rec, strprintf("record %llu creates snapshot %llu '%s' "
						  "reading epoch %llu, but the log is at epoch %u",
						  ull(seq), c.create.id, c.create.name,
						  c.create.epoch, epoch_));
		return true;
	case DSN_ERR_REPLAY_SNAP_ID:
		inconsistent(tier, rec, strprintf("record %llu creates snapshot %llu '%s', "
						  "but ids up to %llu are taken", ull(seq),
						  c.create.id, c.create.name, ull(next_id_ - 1)));
		return true;
	case DSN_ERR_REPLAY_REGIONS:
		inconsistent(tier, rec, strprintf("record %llu sets the level of regions %u to "
						  "%llu, the store has %llu", ull(seq),
						  c.gran.first_region,
						  ull(uint64_t(c.gran.first_region) + c.gran.count - 1),
						  ull(nr_regions_)));
		return true;
	default:
		// Decoding verified the payload already; the kernel refuses the rest.
		inconsistent(tier, rec, strprintf("control record %llu cannot be replayed (%s)",
						  ull(seq), dynsnap_strerror(err)));
		return true;
	}

	switch (c.type) {
	case DYNSNAP_CTL_SNAP_CREATE:
		for (const auto &s : snaps_)
			if (s.name == c.create.name)
				note("fast", strprintf("record %llu creates a second snapshot "
						       "named '%s' (ids %llu and %llu)",
						       ull(seq), c.create.name, ull(s.id),
						       c.create.id),
				     rec.device_offset, rec.segment, seq);
		snaps_.push_back(from_ctl(c.create));
		epoch_ = c.epoch;
		next_id_ = c.next_id;
		cur_level_ = next_level_;
		break;
	case DYNSNAP_CTL_SNAP_DELETE: {
		auto it = std::find_if(snaps_.begin(), snaps_.end(),
				       [&](const Snapshot &s) { return s.id == c.del.id; });
		if (it != snaps_.end())
			snaps_.erase(it);
		else
			note("fast", strprintf("record %llu deletes snapshot %llu, which does not "
					       "exist; activation ignores it", ull(seq), c.del.id),
			     rec.device_offset, rec.segment, seq);
		break;
	}
	case DYNSNAP_CTL_GRANULARITY:
		next_level_.assign(c.gran.first_region, c.gran.count,
				   static_cast<uint8_t>(c.gran.level));
		break;
	}
	return true;
}

// replay_record(): what activation makes of each record.
void Checker::on_record(uint32_t tier, const LogRecord &rec)
{
	const dynsnap_record_header &h = rec.header;
	uint32_t size = dynsnap_record_size(&h);
	bool control = dynsnap_record_is_control(&h);
	Totals &t = totals_[tier];
	json *entry = nullptr;

	t.records++;
	t.bytes += size;
	if (!rec.payload)
		t.damaged++;
	if (opt_.records) {
		records_.push_back({
			{"seq", h.sequence},
			{"tier", tier_name(tier)},
			{"segment", rec.segment},
			{"offset", rec.offset},
			{"device_offset", rec.device_offset},
			{"control", control},
			{"level", control ? control_name(h.level) : level_name(h.level)},
			{"epoch", h.epoch},
			{"volume_sector", h.location},
			{"bytes_covered", h.length},
			{"stored_length", h.stored_length},
			{"checksum_ok", rec.payload != nullptr},
			{"live", false},
		});
		entry = &records_.back();
	}

	if (control) {
		t.control++;
		if (h.level < DYNSNAP_CTL__COUNT)
			t.controls[h.level]++;
		bool journal = on_control(tier, rec, entry);
		if (!journal)
			t.controls_in_checkpoint++;
		if (entry)
			(*entry)["live"] = journal;
		return;
	}

	t.delta++;
	if (h.level < DYNSNAP_LEVEL__COUNT)
		t.levels[h.level]++;
	// The core's rule; a damaged record kept has a verified header.
	uint32_t epoch;
	dynsnap_err e = dynsnap_replay_delta(&h, tier, &sb_.geometry,
					     sb_.volume_sectors, epoch_, &replay_epoch_, &epoch);
	if (e == DSN_ERR_REPLAY_EPOCH) {
		inconsistent(tier, rec, strprintf("delta record %llu undoes a write of epoch "
						  "%llu, but the log is at epoch %u",
						  h.sequence, h.epoch, epoch_));
		return;
	}
	if (e != DSN_OK) {
		inconsistent(tier, rec, strprintf("delta record %llu does not fit the store "
						  "(%s)", h.sequence, dynsnap_strerror(e)));
		return;
	}
	if (!rec.payload)
		checksum_errors_++;

	unsigned shift = __builtin_ctz(sb_.geometry.block_sectors);
	uint64_t block = h.location >> shift;
	Delta d{epoch,
		static_cast<uint16_t>(h.location & (sb_.geometry.block_sectors - 1)),
		static_cast<uint16_t>(h.length >> DYNSNAP_SECTOR_SHIFT),
		static_cast<uint8_t>(h.level),
		static_cast<uint8_t>(tier),
		h.stored_length,
		rec.segment,
		opt_.records ? records_.size() - 1 : SIZE_MAX};
	auto &v = index_[block];
	v.insert(v.begin() + DYNSNAP_INDEX_POSITION(v.data(), v.size(), epoch), d);
}

void Checker::replay_tier(uint32_t tier)
{
	const dynsnap_layout &l = sb_.layout;
	bool fast = tier == DYNSNAP_TIER_FAST;
	LogArea area{tier, sb_.uuid, fast ? l.fast_data_start : l.slow_data_start,
		     fast ? l.fast_data_sectors : l.slow_data_sectors};
	LogHead how = LogHead::kNone;
	uint64_t head = 0, head_seq = 0, durable = 0;

	if (ckpt_damaged_) {
		how = LogHead::kUnknown;
	} else if (best_ >= 0) {
		const dynsnap_checkpoint &c = slots_[best_].c;
		head = fast ? c.fast_head_sector : c.slow_head_sector;
		head_seq = fast ? c.fast_head_seq : c.slow_head_seq;
		durable = fast ? c.fast_end_seq : c.slow_end_seq;
		if (head)
			how = LogHead::kCheckpoint;
	}
	LogReplay r = replay_log(fast ? *fast_ : *slow_, area, how, head, head_seq, durable,
				 [&](const LogRecord &rec) { on_record(tier, rec); },
				 report_.problems, report_.notes);
	refuse(r.refusal);
	logs_[tier] = std::move(r);
}

// gc_collect(): drop the deltas no retained snapshot can read.
void Checker::collect()
{
	std::vector<u64> retained;
	for (const auto &s : snaps_)
		retained.push_back(s.epoch);
	std::vector<dynsnap_gc_delta> gd;
	std::unique_ptr<bool[]> dead;
	size_t cap = 0;
	uint32_t block_bytes = sb_.geometry.block_sectors << DYNSNAP_SECTOR_SHIFT;
	uint32_t sub_bytes = sb_.geometry.sub_block_sectors << DYNSNAP_SECTOR_SHIFT;

	for (auto &[block, deltas] : index_) {
		size_t n = deltas.size();
		if (n > cap) {
			cap = std::max(n, 2 * cap);
			dead = std::make_unique<bool[]>(cap);
		}
		gd.resize(n);
		// The core rule wants them newest first.
		for (size_t i = 0; i < n; i++) {
			const Delta &d = deltas[n - 1 - i];
			gd[i] = {d.epoch, d.level, uint32_t(d.first) << DYNSNAP_SECTOR_SHIFT,
				 uint32_t(d.sectors) << DYNSNAP_SECTOR_SHIFT};
		}
		dynsnap_gc_mark(gd.data(), static_cast<uint32_t>(n), retained.data(),
				static_cast<uint32_t>(retained.size()), block_bytes, sub_bytes,
				dead.get());
		for (size_t i = 0; i < n; i++) {
			Delta &d = deltas[i];
			d.live = !dead[n - 1 - i];
			if (!d.live)
				continue;
			uint64_t bytes = DYNSNAP_REC_HEADER_SIZE + uint64_t(d.stored);
			Totals &t = totals_[d.tier];
			t.live_delta++;
			t.live_delta_bytes += bytes;
			live_bytes_[d.tier][d.segment] += bytes;
			if (d.record != SIZE_MAX)
				records_[d.record]["live"] = true;
		}
	}
}

json log_json(const LogReplay &r, const LogArea &area, const Totals &t,
	      const std::map<uint32_t, uint64_t> &live)
{
	json segs = json::array();
	for (const auto &s : r.segments) {
		auto it = live.find(s.index);
		segs.push_back({
			{"index", s.index},
			{"sector", s.sector},
			{"segment_seq", s.segment_seq},
			{"first_record_seq", s.first_record_seq},
			{"next_segment_sector", s.next_segment_sector},
			{"records", s.records},
			{"damaged_records", s.damaged_records},
			{"bytes", s.bytes},
			{"live_delta_bytes", it == live.end() ? 0 : it->second},
		});
	}
	json end = nullptr;
	if (r.end)
		end = {
			{"segment", r.end->segment},
			{"offset", r.end->offset},
			{"device_offset", r.end->device_offset},
			{"next_record_seq", r.end->next_seq},
			{"found", r.end->found},
		};
	return {
		{"data_start_sector", area.start},
		{"data_sectors", area.sectors},
		{"segments_total", r.nr_segments},
		{"segments_used", r.used.size()},
		{"head", {{"sector", r.head_sector}, {"segment_seq", r.head_seq},
			  {"from_checkpoint", r.from_checkpoint}}},
		{"empty", r.empty},
		{"start_unknown", r.unknown},
		{"segments", segs},
		{"end", end},
		{"totals", to_json(t)},
	};
}

void Checker::finish_dump()
{
	json &d = report_.dump;
	const dynsnap_layout &l = sb_.layout;
	json tiers = {{"fast", nullptr}, {"slow", nullptr}};
	Totals all;

	for (const auto &[tier, r] : logs_) {
		bool fast = tier == DYNSNAP_TIER_FAST;
		LogArea area{tier, sb_.uuid, fast ? l.fast_data_start : l.slow_data_start,
			     fast ? l.fast_data_sectors : l.slow_data_sectors};
		Totals &t = totals_[tier];
		tiers[tier_name(tier)] = log_json(r, area, t, live_bytes_[tier]);
		all.add(t);
	}
	d["tiers"] = tiers;
	d["totals"] = to_json(all);

	json snaps = json::array();
	for (const auto &s : snaps_)
		snaps.push_back(to_json(s));
	d["activation"] = {
		{"ok", refusal_.empty()},
		{"error", refusal_.empty() ? json(nullptr) : json(refusal_)},
		{"epoch", epoch_},
		{"next_snapshot_id", next_id_},
		{"snapshots", snaps},
		{"regions", regions_json(nr_regions_, cur_level_, next_level_)},
		{"checksum_errors", checksum_errors_},
		{"delta_records", all.live_delta},
		{"delta_bytes", all.live_delta_bytes},
	};
	if (opt_.records)
		d["records"] = records_;
}

StoreReport Checker::run()
{
	json &d = report_.dump;
	d["store_present"] = false;
	d["devices"] = {{"fast", device_json(fast_.get())}, {"slow", device_json(slow_.get())}};

	bool go_on = superblocks();
	d["store_present"] = report_.store_present;
	if (go_on) {
		cur_level_ = LevelMap(nr_regions_);
		next_level_ = LevelMap(nr_regions_);
		// Activation sets up both logs before it reads the checkpoint.
		const dynsnap_layout &l = sb_.layout;
		if (l.fast_data_sectors < 2 * DYNSNAP_SEG_SECTORS ||
		    (has_slow_ && slow_ && l.slow_data_sectors < 2 * DYNSNAP_SEG_SECTORS))
			refuse("a tier's data area is too small for two delta segments");
		checkpoints();
		replay_tier(DYNSNAP_TIER_FAST);
		if (has_slow_ && slow_usable_)
			replay_tier(DYNSNAP_TIER_SLOW);
		collect();
		finish_dump();
	} else if (report_.store_present) {
		d["activation"] = {{"ok", false}, {"error", refusal_}};
	} else {
		d["activation"] = nullptr;
	}
	json problems = json::array(), notes = json::array();
	for (const auto &p : report_.problems)
		problems.push_back(to_json(p));
	for (const auto &n : report_.notes)
		notes.push_back(to_json(n));
	d["problems"] = problems;
	d["notes"] = notes;
	return std::move(report_);
}

} // namespace

json to_json(const Problem &p)
{
	return {
		{"tier", p.tier},
		{"what", p.what},
		{"device_offset", optional_json(p.device_offset, UINT64_MAX)},
		{"segment", optional_json(p.segment)},
		{"record_seq", optional_json(p.record_seq)},
	};
}

StoreReport read_store(const std::string &fast, const std::string &slow, const CheckOptions &opt)
{
	try {
		Checker c(fast, slow, opt);
		return c.run();
	} catch (const std::bad_alloc &) {
		throw Error(Exit::kFailed, "out of memory while reading the store on " + fast);
	}
}

bool held_exclusively(const std::string &path)
{
	// O_EXCL without O_CREAT on a block device fails with EBUSY while
	// anyone holds it exclusively; on other files it means nothing.
	int fd = ::open(path.c_str(), O_RDONLY | O_EXCL | O_CLOEXEC);
	if (fd >= 0) {
		::close(fd);
		return false;
	}
	if (errno == EBUSY)
		return true;
	throw errno_error("open", path, errno);
}

} // namespace dynsnap::store

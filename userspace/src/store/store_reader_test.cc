// SPDX-License-Identifier: GPL-2.0
// Offline check of whole stores: tier images laid out as the kernel writes
// them, with the core's encoders, then damaged one way at a time.
#include "store/store_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "dynsnap_checkpoint.h"
#include "dynsnap_control.h"
#include "dynsnap_log.h"
#include "dynsnap_undo.h"
#include "util/error.h"

namespace dynsnap::store {
namespace {

using Bytes = std::vector<uint8_t>;
using nlohmann::json;

constexpr uint64_t kVolume = 131072;	// 64 MiB: 16 regions of 4 MiB
constexpr uint32_t kBlock = 8;		// 4 KiB blocks, 512-byte sub-blocks
constexpr uint64_t kRegions = 16;
constexpr uint64_t kSegBytes = uint64_t(DYNSNAP_SEG_SECTORS) * DYNSNAP_SECTOR_SIZE;
constexpr uint64_t kFastSegments = 4;
constexpr uint64_t kSlowSegments = 3;
const uint8_t kUuid[DYNSNAP_UUID_SIZE] = {0x5a, 1, 2, 3, 4, 5, 6, 7,
					  8, 9, 10, 11, 12, 13, 14, 15};
const uint8_t kOtherUuid[DYNSNAP_UUID_SIZE] = {0xa5, 1, 2, 3, 4, 5, 6, 7,
					       8, 9, 10, 11, 12, 13, 14, 15};

// A record as written, to find it again.
struct Written {
	uint64_t seq;
	uint64_t offset;	// on the device
	uint32_t size;
	uint32_t segment;
	uint64_t seg_pos;	// after the segment's header block
	bool control;
	size_t batch;
};

// One tier's image and its log, laid out as the kernel's writer does.
class TierImage {
public:
	TierImage(uint32_t tier, const uint8_t *uuid, uint64_t dev_sectors, uint64_t area_start,
		  uint64_t first_seq)
		: bytes(dev_sectors * DYNSNAP_SECTOR_SIZE), seq(first_seq), tier_(tier),
		  area_start_(area_start), batch_seq_(first_seq)
	{
		std::memcpy(uuid_, uuid, sizeof(uuid_));
	}

	uint64_t seg_offset(uint32_t seg) const
	{
		return (area_start_ + uint64_t(seg) * DYNSNAP_SEG_SECTORS) * DYNSNAP_SECTOR_SIZE;
	}

	// Open @seg as the next segment of the log, reserving @next.
	void open(uint32_t seg, uint32_t next)
	{
		end_batch();
		dynsnap_segment_header h{};
		h.tier = tier_;
		h.segment_seq = ++seg_seq;
		h.first_record_seq = seq;
		std::memcpy(h.uuid, uuid_, sizeof(uuid_));
		h.next_segment = seg_offset(next) / DYNSNAP_SECTOR_SIZE;
		dynsnap_segment_encode(&h, &bytes[seg_offset(seg)]);
		cur_ = seg;
		pos_ = 0;
	}

	// End the batch: zero padding to the next sector.
	void end_batch()
	{
		pos_ = dynsnap_log_padded(pos_);
		batch_++;
		batch_seq_ = seq;
	}

	uint64_t append(dynsnap_record_header h, const Bytes &payload)
	{
		h.sequence = seq++;
		h.in_flight = static_cast<uint32_t>(h.sequence - batch_seq_);
		h.stored_length = static_cast<uint32_t>(payload.size());
		uint64_t at = seg_offset(cur_) + DYNSNAP_SEG_HEADER_SIZE + pos_;
		std::copy(payload.begin(), payload.end(),
			  bytes.begin() + long(at + DYNSNAP_REC_HEADER_SIZE));
		dynsnap_record_encode(&h, &bytes[at], &bytes[at + DYNSNAP_REC_HEADER_SIZE],
				      dynsnap_record_seed(uuid_, tier_));
		uint32_t size = dynsnap_record_size(&h);
		records.push_back({h.sequence, at, size, cur_, pos_,
				   dynsnap_record_is_control(&h), batch_});
		pos_ += size;
		return at;
	}

	uint64_t delta(uint32_t level, uint64_t epoch, uint64_t location, uint32_t sectors)
	{
		dynsnap_record_header h;
		uint32_t len = sectors * DYNSNAP_SECTOR_SIZE;
		dynsnap_record_init(&h, dynsnap_level(level), 0, epoch, location, len);
		Bytes old(len), payload(len);
		for (uint32_t i = 0; i < len; i++)
			old[i] = uint8_t(seq * 13 + i * 7);
		if (level == DYNSNAP_LEVEL_BIT) {
			Bytes cur = old;
			for (uint32_t i = 0; i < len; i += 700)
				cur[i] ^= 0x5a;
			payload.resize(DYNSNAP_UNDO_MAX_ENCODED(len));
			payload.resize(dynsnap_undo_encode(old.data(), cur.data(), len,
							   payload.data(), payload.size()));
		} else {
			payload = old;
		}
		return append(h, payload);
	}

	uint64_t create(uint64_t id, uint64_t epoch, const std::string &name)
	{
		dynsnap_ctl_snap_create c{};
		c.id = id;
		c.epoch = epoch;
		c.ctime_ns = 1700000000000000000ull + id;
		c.name_len = static_cast<uint32_t>(name.size());
		std::memcpy(c.name, name.data(), name.size());
		Bytes p(DYNSNAP_CTL_SNAP_CREATE_SIZE);
		dynsnap_ctl_snap_create_encode(&c, p.data());
		return control(DYNSNAP_CTL_SNAP_CREATE, epoch, p);
	}

	uint64_t remove(uint64_t id, uint64_t epoch)
	{
		dynsnap_ctl_snap_delete c{id};
		Bytes p(DYNSNAP_CTL_SNAP_DELETE_SIZE);
		dynsnap_ctl_snap_delete_encode(&c, p.data());
		return control(DYNSNAP_CTL_SNAP_DELETE, epoch, p);
	}

	uint64_t granularity(uint64_t epoch, uint32_t first, uint32_t count, uint32_t level)
	{
		dynsnap_ctl_granularity c{epoch, first, count, level};
		Bytes p(DYNSNAP_CTL_GRANULARITY_SIZE);
		dynsnap_ctl_granularity_encode(&c, p.data());
		return control(DYNSNAP_CTL_GRANULARITY, epoch, p);
	}

	const Written &record(uint64_t s) const
	{
		for (const auto &w : records)
			if (w.seq == s)
				return w;
		throw std::out_of_range("no such record");
	}

	Bytes bytes;
	uint64_t seq;		// of the next record
	uint64_t seg_seq = 0;
	std::vector<Written> records;

private:
	uint64_t control(uint32_t type, uint64_t epoch, const Bytes &p)
	{
		dynsnap_record_header h;
		dynsnap_record_init_control(&h, dynsnap_control_type(type), 0, epoch,
					    static_cast<uint32_t>(p.size()));
		return append(h, p);
	}

	uint32_t tier_;
	uint8_t uuid_[DYNSNAP_UUID_SIZE];
	uint64_t area_start_;
	uint32_t cur_ = 0;
	size_t pos_ = 0;
	size_t batch_ = 0;
	uint64_t batch_seq_;	// first record of the open batch
};

struct Snap {
	uint64_t id;
	uint64_t epoch;
	std::string name;
};

// A store: superblocks, checkpoint slots and both logs.
class StoreImage {
public:
	explicit StoreImage(bool with_slow, const uint8_t *slow_uuid = kUuid)
	{
		g_ = {kBlock, 0, 0};
		dynsnap_geometry_defaults(&g_);
		uint64_t fast_sectors = 16392 + kFastSegments * DYNSNAP_SEG_SECTORS;
		uint64_t slow_sectors = with_slow ? 8 + kSlowSegments * DYNSNAP_SEG_SECTORS : 0;
		EXPECT_EQ(dynsnap_layout_compute(&g_, kVolume, fast_sectors, slow_sectors, &l_),
			  DSN_OK);
		EXPECT_EQ(l_.fast_data_sectors, kFastSegments * DYNSNAP_SEG_SECTORS);
		dynsnap_sb_init(&sb, DYNSNAP_TIER_FAST, kUuid, kVolume, &g_, &l_, 1700000000);
		fast.emplace(DYNSNAP_TIER_FAST, kUuid, fast_sectors, l_.fast_data_start, 1000);
		dynsnap_sb_encode(&sb, fast->bytes.data());
		if (with_slow) {
			EXPECT_EQ(l_.slow_data_sectors, kSlowSegments * DYNSNAP_SEG_SECTORS);
			dynsnap_superblock ssb;
			dynsnap_sb_init(&ssb, DYNSNAP_TIER_SLOW, slow_uuid, kVolume, &g_, &l_,
					1700000000);
			slow.emplace(DYNSNAP_TIER_SLOW, slow_uuid, slow_sectors,
				     l_.slow_data_start, 77000);
			dynsnap_sb_encode(&ssb, slow->bytes.data());
		}
	}

	uint64_t slot_offset(uint32_t slot) const
	{
		uint64_t slot_sectors = (l_.meta_sectors / 2) & ~7ull;
		return (l_.meta_start + slot * slot_sectors) * DYNSNAP_SECTOR_SIZE;
	}

	// Write a checkpoint to @slot; heads as sector and segment_seq.
	void checkpoint(uint32_t slot, uint64_t generation, uint32_t epoch, uint64_t next_id,
			uint64_t control_seq, const std::vector<Snap> &snaps, uint32_t fast_seg,
			uint64_t fast_seq, uint32_t slow_seg = 0, uint64_t slow_seq = 0,
			uint8_t bit_regions = 0)
	{
		checkpoint_ends(slot, generation, epoch, next_id, control_seq, snaps, fast_seg,
				fast_seq, slow_seg, slow_seq, bit_regions, 0, 0);
	}

	// The same, saying the logs were durable below @fast_end and @slow_end.
	void checkpoint_ends(uint32_t slot, uint64_t generation, uint32_t epoch,
			     uint64_t next_id, uint64_t control_seq, const std::vector<Snap> &snaps,
			     uint32_t fast_seg, uint64_t fast_seq, uint32_t slow_seg,
			     uint64_t slow_seq, uint8_t bit_regions, uint64_t fast_end,
			     uint64_t slow_end)
	{
		dynsnap_checkpoint c{};
		std::memcpy(c.uuid, kUuid, sizeof(kUuid));
		c.generation = generation;
		c.epoch = epoch;
		c.nr_snaps = static_cast<uint32_t>(snaps.size());
		c.nr_regions = kRegions;
		c.next_id = next_id;
		c.control_seq = control_seq;
		c.fast_head_sector = fast->seg_offset(fast_seg) / DYNSNAP_SECTOR_SIZE;
		c.fast_head_seq = fast_seq;
		// How far the logs were durable: nothing known unless a test says.
		c.fast_end_seq = fast_end ? fast_end : 1;
		if (slow) {
			c.slow_head_sector = slow->seg_offset(slow_seg) / DYNSNAP_SECTOR_SIZE;
			c.slow_head_seq = slow_seq;
			c.slow_end_seq = slow_end ? slow_end : 1;
		}
		uint8_t *buf = &fast->bytes[slot_offset(slot)];
		dynsnap_checkpoint_encode_header(&c, buf);
		for (uint32_t i = 0; i < snaps.size(); i++) {
			dynsnap_ctl_snap_create s{};
			s.id = snaps[i].id;
			s.epoch = snaps[i].epoch;
			s.ctime_ns = 1700000000000000000ull + s.id;
			s.name_len = static_cast<uint32_t>(snaps[i].name.size());
			std::memcpy(s.name, snaps[i].name.data(), s.name_len);
			dynsnap_ctl_snap_create_encode(&s, buf + dynsnap_checkpoint_snap_offset(i));
		}
		uint8_t *levels = buf + dynsnap_checkpoint_levels_offset(c.nr_snaps);
		std::memset(levels, DYNSNAP_LEVEL_DEFAULT, 2 * kRegions);
		std::memset(levels, DYNSNAP_LEVEL_BIT, bit_regions);
		std::memset(levels + kRegions, DYNSNAP_LEVEL_BIT, bit_regions);
		dynsnap_checkpoint_seal(buf);
	}

	dynsnap_superblock sb;
	std::optional<TierImage> fast, slow;

private:
	dynsnap_geometry g_;
	dynsnap_layout l_;
};

// An image in a temporary file, written sparsely.
class TempFile {
public:
	explicit TempFile(const Bytes &bytes, uint64_t size = UINT64_MAX)
	{
		char tmpl[] = "/tmp/dynsnap-store-XXXXXX";
		int fd = mkstemp(tmpl);
		EXPECT_GE(fd, 0);
		path_ = tmpl;
		if (size == UINT64_MAX)
			size = bytes.size();
		EXPECT_EQ(ftruncate(fd, off_t(size)), 0);
		constexpr size_t kChunk = 65536;
		for (size_t at = 0; at < std::min<uint64_t>(size, bytes.size()); at += kChunk) {
			size_t n = std::min<uint64_t>({kChunk, bytes.size() - at, size - at});
			if (std::all_of(&bytes[at], &bytes[at] + n, [](uint8_t b) { return !b; }))
				continue;
			EXPECT_EQ(pwrite(fd, &bytes[at], n, off_t(at)), ssize_t(n));
		}
		close(fd);
	}
	TempFile(TempFile &&o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
	TempFile(const TempFile &) = delete;
	~TempFile()
	{
		if (!path_.empty())
			unlink(path_.c_str());
	}
	const std::string &path() const { return path_; }

	// Overwrite one byte in place.
	void poke(uint64_t offset, uint8_t value) const
	{
		int fd = open(path_.c_str(), O_WRONLY);
		EXPECT_EQ(pwrite(fd, &value, 1, off_t(offset)), 1);
		close(fd);
	}

private:
	std::string path_;
};

/*
 * A store in use: two snapshots taken, the first deleted, a level change,
 * deltas at every level on both tiers, the fast log over two segments.
 * After activation: snapshot 2 "second" (epoch 3), epoch 3, regions 0-3 at
 * bit level; the deltas of epoch 2 are garbage (no snapshot reads them).
 */
StoreImage sound_store(bool with_slow = true)
{
	StoreImage s(with_slow);
	TierImage &f = *s.fast;
	f.open(0, 1);
	f.create(1, 2, "first");
	f.end_batch();
	f.delta(DYNSNAP_LEVEL_SUB, 2, 8, 2);
	f.delta(DYNSNAP_LEVEL_BIT, 2, 16, 8);
	f.end_batch();
	f.granularity(3, 0, 4, DYNSNAP_LEVEL_BIT);
	f.end_batch();
	f.create(2, 3, "second");
	f.end_batch();
	f.delta(DYNSNAP_LEVEL_SUB, 3, 8, 1);
	f.delta(DYNSNAP_LEVEL_BIT, 3, 16, 8);
	f.end_batch();
	f.delta(DYNSNAP_LEVEL_SUB, 3, 100, 1);
	f.end_batch();
	f.remove(1, 3);
	f.end_batch();
	f.open(1, 2);
	f.delta(DYNSNAP_LEVEL_SUB, 3, 200, 2);
	f.delta(DYNSNAP_LEVEL_SUB, 3, 300, 1);
	f.end_batch();
	if (with_slow) {
		TierImage &sl = *s.slow;
		sl.open(0, 1);
		sl.delta(DYNSNAP_LEVEL_BLOCK, 2, 0, kBlock);
		sl.delta(DYNSNAP_LEVEL_BLOCK, 2, 8, kBlock);
		sl.end_batch();
		sl.delta(DYNSNAP_LEVEL_BLOCK, 3, 0, kBlock);
		sl.end_batch();
	}
	return s;
}

struct Files {
	std::optional<TempFile> fast, slow;
};

Files write(const StoreImage &s)
{
	Files f;
	f.fast.emplace(s.fast->bytes);
	if (s.slow)
		f.slow.emplace(s.slow->bytes);
	return f;
}

StoreReport check(const Files &f, bool records = false)
{
	return read_store(f.fast->path(), f.slow ? f.slow->path() : "", CheckOptions{records});
}

bool contains(const std::string &s, const char *part)
{
	return s.find(part) != std::string::npos;
}

std::string describe(const StoreReport &r)
{
	std::string s;
	for (const auto &p : r.problems)
		s += "problem: " + p.tier + ": " + p.what + "\n";
	for (const auto &p : r.notes)
		s += "note: " + p.tier + ": " + p.what + "\n";
	return s;
}

TEST(StoreReader, SoundStore)
{
	StoreImage s = sound_store();
	Files f = write(s);
	StoreReport r = check(f, true);
	ASSERT_TRUE(r.store_present);
	EXPECT_TRUE(r.problems.empty()) << describe(r);
	EXPECT_TRUE(r.notes.empty()) << describe(r);

	const json &d = r.dump;
	EXPECT_TRUE(d["store_present"]);
	EXPECT_EQ(d["superblocks"]["fast"]["state"], "valid");
	EXPECT_EQ(d["superblocks"]["slow"]["state"], "valid");
	EXPECT_EQ(d["superblocks"]["fast"]["superblock"]["block_sectors"], kBlock);
	EXPECT_EQ(d["checkpoints"]["slots"][0]["state"], "blank");
	EXPECT_EQ(d["checkpoints"]["slots"][1]["state"], "blank");
	EXPECT_TRUE(d["checkpoints"]["used_slot"].is_null());

	const json &a = d["activation"];
	EXPECT_TRUE(a["ok"]);
	EXPECT_TRUE(a["error"].is_null());
	EXPECT_EQ(a["epoch"], 3);
	EXPECT_EQ(a["next_snapshot_id"], 3);
	ASSERT_EQ(a["snapshots"].size(), 1u);
	EXPECT_EQ(a["snapshots"][0]["id"], 2);
	EXPECT_EQ(a["snapshots"][0]["name"], "second");
	EXPECT_EQ(a["snapshots"][0]["epoch"], 3);
	EXPECT_EQ(a["snapshots"][0]["ctime_ns"], 1700000000000000002ull);
	EXPECT_EQ(a["regions"]["count"], kRegions);
	EXPECT_EQ(a["regions"]["current"]["bit"], 4);
	EXPECT_EQ(a["regions"]["current"]["default"], 12);
	EXPECT_EQ(a["regions"]["next"]["bit"], 4);
	EXPECT_EQ(a["checksum_errors"], 0);
	// Epoch 3's deltas: five on the fast tier, one on the slow.
	EXPECT_EQ(a["delta_records"], 6);

	const json &t = d["totals"];
	EXPECT_EQ(t["records"], 14);
	EXPECT_EQ(t["control_records"], 4);
	EXPECT_EQ(t["delta_records"], 10);
	EXPECT_EQ(t["damaged_records"], 0);
	EXPECT_EQ(t["levels"]["block"], 3);
	EXPECT_EQ(t["levels"]["sub"], 5);
	EXPECT_EQ(t["levels"]["bit"], 2);
	EXPECT_EQ(t["controls"]["snap_create"], 2);
	EXPECT_EQ(t["controls"]["snap_delete"], 1);
	EXPECT_EQ(t["controls"]["granularity"], 1);
	EXPECT_EQ(t["live_delta_records"], 6);
	uint64_t bytes = 0;
	for (const auto &w : s.fast->records)
		bytes += w.size;
	for (const auto &w : s.slow->records)
		bytes += w.size;
	EXPECT_EQ(t["bytes"], bytes);

	const json &fast = d["tiers"]["fast"];
	EXPECT_EQ(fast["segments_total"], kFastSegments);
	EXPECT_EQ(fast["segments_used"], 3);	// 0, 1 and 1's successor
	EXPECT_FALSE(fast["head"]["from_checkpoint"]);
	ASSERT_EQ(fast["segments"].size(), 2u);
	EXPECT_EQ(fast["segments"][0]["index"], 0);
	EXPECT_EQ(fast["segments"][0]["segment_seq"], 1);
	EXPECT_EQ(fast["segments"][0]["first_record_seq"], 1000);
	EXPECT_EQ(fast["segments"][0]["records"], 9);
	EXPECT_EQ(fast["segments"][1]["index"], 1);
	EXPECT_EQ(fast["segments"][1]["first_record_seq"], 1009);
	EXPECT_EQ(fast["segments"][1]["records"], 2);
	EXPECT_EQ(fast["end"]["segment"], 1);
	EXPECT_EQ(fast["end"]["next_record_seq"], 1011);
	EXPECT_EQ(fast["end"]["found"], "zeroes");
	EXPECT_EQ(d["tiers"]["slow"]["totals"]["records"], 3);
	EXPECT_EQ(d["tiers"]["slow"]["totals"]["live_delta_records"], 1);

	ASSERT_EQ(d["records"].size(), 14u);
	const json &first = d["records"][0];
	EXPECT_EQ(first["seq"], 1000);
	EXPECT_EQ(first["tier"], "fast");
	EXPECT_EQ(first["control"], true);
	EXPECT_EQ(first["level"], "snap_create");
	EXPECT_EQ(first["snapshot"]["name"], "first");
	EXPECT_EQ(first["device_offset"], s.fast->record(1000).offset);
	EXPECT_EQ(first["checksum_ok"], true);
	const json &bit = d["records"][2];
	EXPECT_EQ(bit["level"], "bit");
	EXPECT_EQ(bit["volume_sector"], 16);
	EXPECT_EQ(bit["bytes_covered"], 4096);
	EXPECT_EQ(bit["epoch"], 2);
	EXPECT_EQ(bit["live"], false);
	EXPECT_EQ(d["records"][6]["live"], true);	// sub, epoch 3
	EXPECT_EQ(d["records"][13]["tier"], "slow");
	EXPECT_EQ(d["records"][13]["live"], true);
	EXPECT_TRUE(d["problems"].empty());
}

TEST(StoreReader, FastTierOnly)
{
	StoreImage s = sound_store(false);
	Files f = write(s);
	StoreReport r = check(f);
	EXPECT_TRUE(r.problems.empty()) << describe(r);
	EXPECT_TRUE(r.dump["tiers"]["slow"].is_null());
	EXPECT_EQ(r.dump["activation"]["delta_records"], 5);
	EXPECT_FALSE(r.dump.contains("records"));
}

// A checkpoint names where the logs start and holds the snapshots the
// journal before it created; the older slot is a fallback.
StoreImage checkpointed_store()
{
	StoreImage s(false);
	TierImage &f = *s.fast;
	f.open(0, 1);
	f.create(1, 2, "a");		// 1000
	f.delta(DYNSNAP_LEVEL_SUB, 2, 8, 1);
	f.end_batch();
	f.granularity(3, 2, 3, DYNSNAP_LEVEL_BIT);
	f.end_batch();
	f.remove(1, 2);			// 1003
	f.end_batch();
	f.open(1, 2);
	f.create(2, 3, "b");		// 1004
	f.end_batch();
	f.delta(DYNSNAP_LEVEL_SUB, 3, 16, 1);
	f.end_batch();
	// Generation 1 before the deletion, 2 after it, when segment 0 held
	// nothing live any more.
	s.checkpoint(0, 1, 2, 2, 1003, {{1, 2, "a"}}, 0, 1);
	s.checkpoint(1, 2, 2, 2, 1004, {}, 1, 2);
	return s;
}

// The checkpoint says how far the log was durable: the last record's
// header damaged beyond reading cannot pass for a torn batch then.
TEST(StoreReader, ALogEndingBeforeTheCheckpointsEndRefuses)
{
	for (bool damaged : {false, true}) {
		StoreImage s = checkpointed_store();
		// Records 1000-1005 were durable when the checkpoint was written.
		s.checkpoint_ends(1, 3, 2, 2, 1004, {}, 1, 2, 0, 0, 0, 1006, 0);
		const Written &last = s.fast->record(1005);
		if (damaged)
			s.fast->bytes[last.offset + 5] ^= 0x01;	// magic
		Files f = write(s);
		StoreReport r = check(f, true);
		EXPECT_EQ(r.dump["checkpoints"]["slots"][1]["fast_end_seq"], 1006);
		if (!damaged) {
			EXPECT_TRUE(r.problems.empty()) << describe(r);
			EXPECT_TRUE(r.dump["activation"]["ok"]);
			continue;
		}
		ASSERT_EQ(r.problems.size(), 1u) << describe(r);
		const Problem &p = r.problems[0];
		EXPECT_EQ(p.record_seq, 1005u);
		// Where the log ends: past the record before, ahead of its padding.
		const Written &before = s.fast->record(1004);
		EXPECT_EQ(p.device_offset, before.offset + before.size);
		EXPECT_TRUE(contains(p.what, "the checkpoint says records up to 1005 were durable"))
			<< p.what;
		EXPECT_FALSE(r.dump["activation"]["ok"]);
		EXPECT_EQ(r.dump["activation"]["error"],
			  "delta log is damaged: acknowledged records cannot be read");
	}
}

TEST(StoreReader, CheckpointHeadAndJournal)
{
	StoreImage s = checkpointed_store();
	Files f = write(s);
	StoreReport r = check(f, true);
	EXPECT_TRUE(r.problems.empty()) << describe(r);
	const json &d = r.dump;
	EXPECT_EQ(d["checkpoints"]["used_slot"], 1);
	EXPECT_EQ(d["checkpoints"]["slots"][0]["generation"], 1);
	EXPECT_EQ(d["checkpoints"]["slots"][0]["snapshots"][0]["name"], "a");
	EXPECT_EQ(d["checkpoints"]["slots"][1]["generation"], 2);
	EXPECT_EQ(d["checkpoints"]["slots"][1]["fast_head"]["segment_seq"], 2);
	EXPECT_TRUE(d["checkpoints"]["slots"][1]["slow_head"].is_null());

	const json &fast = d["tiers"]["fast"];
	EXPECT_TRUE(fast["head"]["from_checkpoint"]);
	EXPECT_EQ(fast["head"]["segment_seq"], 2);
	ASSERT_EQ(fast["segments"].size(), 1u);
	EXPECT_EQ(fast["segments"][0]["index"], 1);
	EXPECT_EQ(fast["totals"]["records"], 2);

	const json &a = d["activation"];
	EXPECT_TRUE(a["ok"]);
	EXPECT_EQ(a["epoch"], 3);
	ASSERT_EQ(a["snapshots"].size(), 1u);
	EXPECT_EQ(a["snapshots"][0]["name"], "b");
	EXPECT_EQ(a["delta_records"], 1);
}

TEST(StoreReader, OlderCheckpointSkipsTheJournalItHolds)
{
	StoreImage s = checkpointed_store();
	// Only generation 1: replay from segment 0, past control_seq 1003.
	std::memset(&s.fast->bytes[s.slot_offset(1)], 0, 4096);
	Files f = write(s);
	StoreReport r = check(f, true);
	EXPECT_TRUE(r.problems.empty()) << describe(r);
	const json &d = r.dump;
	EXPECT_EQ(d["checkpoints"]["used_slot"], 0);
	EXPECT_EQ(d["tiers"]["fast"]["segments"].size(), 2u);
	EXPECT_EQ(d["totals"]["controls_in_checkpoint"], 2);	// create 1, granularity
	EXPECT_EQ(d["records"][0]["live"], false);
	EXPECT_EQ(d["activation"]["snapshots"].size(), 1u);
	EXPECT_EQ(d["activation"]["snapshots"][0]["id"], 2);
	// The skipped granularity record is in the checkpoint's level maps
	// (none here), so no region is at bit level.
	EXPECT_EQ(d["activation"]["regions"]["current"]["bit"], 0);
}

TEST(StoreReader, DamagedDeltaPayload)
{
	StoreImage s = sound_store();
	const Written &w = s.fast->record(1005);	// sub, epoch 3
	ASSERT_FALSE(w.control);
	s.fast->bytes[w.offset + DYNSNAP_REC_HEADER_SIZE + 100] ^= 0x01;
	Files f = write(s);
	StoreReport r = check(f, true);
	ASSERT_EQ(r.problems.size(), 1u) << describe(r);
	const Problem &p = r.problems[0];
	EXPECT_EQ(p.tier, "fast");
	EXPECT_EQ(p.device_offset, w.offset);
	EXPECT_EQ(p.segment, 0u);
	EXPECT_EQ(p.record_seq, 1005u);
	std::string where = "fast tier: delta record 1005 at segment 0 offset " +
			    std::to_string(w.seg_pos) + " is damaged";
	EXPECT_TRUE(contains(p.what, where.c_str())) << p.what;
	EXPECT_TRUE(contains(p.what, "checksum mismatch")) << p.what;

	// Kept: activation goes on, and counts it.
	const json &d = r.dump;
	EXPECT_TRUE(d["activation"]["ok"]);
	EXPECT_EQ(d["activation"]["checksum_errors"], 1);
	EXPECT_EQ(d["totals"]["damaged_records"], 1);
	EXPECT_EQ(d["tiers"]["fast"]["segments"][0]["damaged_records"], 1);
	EXPECT_EQ(d["records"][5]["seq"], 1005);
	EXPECT_EQ(d["records"][5]["checksum_ok"], false);
	EXPECT_EQ(d["totals"]["records"], 14);
	EXPECT_EQ(d["problems"][0]["record_seq"], 1005);
}

TEST(StoreReader, DamagedSlowRecord)
{
	StoreImage s = sound_store();
	const Written &w = s.slow->record(77000);
	s.slow->bytes[w.offset + DYNSNAP_REC_HEADER_SIZE + 4000] ^= 0x80;
	Files f = write(s);
	StoreReport r = check(f);
	ASSERT_EQ(r.problems.size(), 1u) << describe(r);
	EXPECT_EQ(r.problems[0].tier, "slow");
	EXPECT_EQ(r.problems[0].device_offset, w.offset);
	EXPECT_EQ(r.problems[0].record_seq, 77000u);
	EXPECT_EQ(r.problems[0].segment, 0u);
	EXPECT_EQ(r.dump["activation"]["checksum_errors"], 1);
	EXPECT_TRUE(r.dump["activation"]["ok"]);
}

// A bit-level payload that is no valid sparse delta, under a right
// checksum, is damaged too.
TEST(StoreReader, MalformedBitPayloadIsDamage)
{
	StoreImage s = sound_store();
	const Written &w = s.fast->record(1002);	// bit, epoch 2
	uint8_t *rec = &s.fast->bytes[w.offset];
	dsn_put_le32(rec + DYNSNAP_REC_HEADER_SIZE, 99);	// run count
	dynsnap_record_header h;
	ASSERT_EQ(dynsnap_record_decode_header(rec, DYNSNAP_REC_HEADER_SIZE + 8192, &h), DSN_OK);
	dynsnap_record_encode(&h, rec, rec + DYNSNAP_REC_HEADER_SIZE, dynsnap_record_seed(kUuid, DYNSNAP_TIER_FAST));
	Files f = write(s);
	StoreReport r = check(f);
	ASSERT_EQ(r.problems.size(), 1u) << describe(r);
	EXPECT_EQ(r.problems[0].record_seq, 1002u);
	EXPECT_TRUE(contains(r.problems[0].what, "sparse XOR delta")) << r.problems[0].what;
}

// The last batch of the log was torn by a power cut: never acknowledged,
// so no problem, as activation ends the log there.
TEST(StoreReader, TornLastBatchIsNoProblem)
{
	StoreImage s = sound_store(false);
	TierImage &fi = *s.fast;
	fi.delta(DYNSNAP_LEVEL_SUB, 3, 400, 4);
	fi.delta(DYNSNAP_LEVEL_SUB, 3, 500, 4);
	fi.delta(DYNSNAP_LEVEL_SUB, 3, 600, 4);
	fi.end_batch();
	const Written &torn = fi.record(1012);
	// The write stopped in the middle of the second record.
	uint64_t from = torn.offset + 1024;
	uint64_t to = fi.record(1013).offset + fi.record(1013).size;
	std::fill(fi.bytes.begin() + long(from), fi.bytes.begin() + long(to), 0);
	Files f = write(s);
	StoreReport r = check(f);
	EXPECT_TRUE(r.problems.empty()) << describe(r);
	EXPECT_TRUE(r.notes.empty()) << describe(r);
	const json &end = r.dump["tiers"]["fast"]["end"];
	EXPECT_EQ(end["found"], "torn_record");
	EXPECT_EQ(end["next_record_seq"], 1012);
	EXPECT_EQ(end["device_offset"], torn.offset);
	EXPECT_EQ(r.dump["activation"]["checksum_errors"], 0);
	EXPECT_EQ(r.dump["totals"]["records"], 12);
}

// A torn batch can leave its later records whole and the first one's
// header unreadable: nothing written later says the batch was durable, so
// activation drops it, and the check notes what it found.
TEST(StoreReader, TornBatchWithWholeLaterRecordIsANote)
{
	StoreImage s = sound_store(false);
	TierImage &fi = *s.fast;
	fi.delta(DYNSNAP_LEVEL_SUB, 3, 400, 1);
	fi.delta(DYNSNAP_LEVEL_SUB, 3, 500, 1);
	fi.end_batch();
	fi.bytes[fi.record(1011).offset + 5] ^= 0xff;	// magic
	Files f = write(s);
	StoreReport r = check(f);
	EXPECT_TRUE(r.problems.empty()) << describe(r);
	ASSERT_EQ(r.notes.size(), 1u) << describe(r);
	EXPECT_EQ(r.notes[0].record_seq, 1012u);
	EXPECT_TRUE(contains(r.notes[0].what, "record 1012 of the log verifies")) << r.notes[0].what;
	EXPECT_TRUE(contains(r.notes[0].what, "torn batch")) << r.notes[0].what;
	EXPECT_TRUE(r.dump["activation"]["ok"]);
	EXPECT_EQ(r.dump["tiers"]["fast"]["end"]["found"], "other");
}

// A record header damaged beyond reading ends the log where it is; a
// record of a later batch says the damaged one was durable: activation
// refuses the table rather than replay a prefix, and the check says where.
TEST(StoreReader, HeaderDamagedBeyondReadingBeforeALaterBatchRefuses)
{
	for (bool far : {false, true}) {
		StoreImage s = sound_store(false);
		TierImage &fi = *s.fast;
		fi.open(2, 3);
		// One batch after the damaged one, or 48 of 6 whole blocks.
		int batches = far ? 48 : 2;
		for (int b = 0; b < batches; b++) {
			for (int i = 0; i < (far ? 6 : 1); i++)
				fi.delta(DYNSNAP_LEVEL_BLOCK, 3, uint64_t(b * 6 + i) * kBlock,
					 kBlock);
			fi.end_batch();
		}
		const Written &w = fi.record(1011);
		fi.bytes[w.offset + 16] ^= 0x04;	// its sequence
		Files f = write(s);
		StoreReport r = check(f);
		ASSERT_EQ(r.problems.size(), 1u) << describe(r);
		const Problem &p = r.problems[0];
		EXPECT_EQ(p.tier, "fast");
		EXPECT_EQ(p.segment, 2u);
		EXPECT_EQ(p.record_seq, 1011u);
		EXPECT_EQ(p.device_offset, w.offset);
		EXPECT_TRUE(contains(p.what, "delta log is damaged")) << p.what;
		EXPECT_TRUE(contains(p.what, "records from 1011 on are lost")) << p.what;
		EXPECT_TRUE(contains(p.what, far ? "yet record 1017 at offset"
					  : "yet record 1012 at offset")) << p.what;
		EXPECT_FALSE(r.dump["activation"]["ok"]);
		EXPECT_EQ(r.dump["activation"]["error"],
			  "delta log is damaged: acknowledged records cannot be read");
		EXPECT_EQ(r.dump["tiers"]["fast"]["end"]["found"], "stale_record");
	}
}

// Non-zero bytes in a batch's padding end the log for the kernel too.
TEST(StoreReader, DirtyPaddingBetweenBatches)
{
	StoreImage s = sound_store(false);
	TierImage &fi = *s.fast;
	fi.open(2, 3);
	for (int b = 0; b < 48; b++) {
		for (int i = 0; i < 6; i++)
			fi.delta(DYNSNAP_LEVEL_BLOCK, 3, uint64_t(b * 6 + i) * kBlock, kBlock);
		fi.delta(DYNSNAP_LEVEL_SUB, 3, 4, 1);	// leaves padding
		fi.end_batch();
	}
	const Written &w = fi.record(1017);	// ends the first batch
	fi.bytes[w.offset + w.size + 3] = 0x20;
	Files f = write(s);
	StoreReport r = check(f);
	ASSERT_EQ(r.problems.size(), 1u) << describe(r);
	EXPECT_EQ(r.problems[0].record_seq, 1018u);
	EXPECT_EQ(r.problems[0].device_offset, w.offset + w.size);
}

TEST(StoreReader, DamagedHeadSegmentHeader)
{
	StoreImage s = checkpointed_store();
	s.fast->bytes[s.fast->seg_offset(1) + 2000] ^= 0x10;
	Files f = write(s);
	StoreReport r = check(f);
	ASSERT_EQ(r.problems.size(), 1u) << describe(r);
	const Problem &p = r.problems[0];
	EXPECT_EQ(p.tier, "fast");
	EXPECT_EQ(p.segment, 1u);
	EXPECT_EQ(p.device_offset, s.fast->seg_offset(1));
	EXPECT_TRUE(contains(p.what, "segment 1 is not the log's head 2 the checkpoint names"))
		<< p.what;
	EXPECT_TRUE(contains(p.what, "segment header checksum mismatch")) << p.what;
	EXPECT_FALSE(r.dump["activation"]["ok"]);
	EXPECT_EQ(r.dump["activation"]["error"], "delta log is inconsistent");
}

// The successor's header is damaged: the log ends before it, but records
// in it say the log went on, so activation refuses the table.
TEST(StoreReader, DamagedSuccessorHeaderWithLaterBatches)
{
	StoreImage s = sound_store(false);
	TierImage &fi = *s.fast;
	fi.open(2, 3);
	for (int b = 0; b < 3; b++) {
		for (int i = 0; i < 6; i++)
			fi.delta(DYNSNAP_LEVEL_BLOCK, 3, uint64_t(b * 6 + i) * kBlock, kBlock);
		fi.end_batch();
	}
	fi.bytes[fi.seg_offset(2) + 20] ^= 0x01;	// segment_seq
	Files f = write(s);
	StoreReport r = check(f);
	ASSERT_EQ(r.problems.size(), 1u) << describe(r);
	const Problem &p = r.problems[0];
	EXPECT_EQ(p.segment, 2u);
	EXPECT_EQ(p.device_offset, fi.seg_offset(2));
	EXPECT_EQ(p.record_seq, 1011u);
	EXPECT_TRUE(contains(p.what, "its successor, segment 2, has a header that does not "
				     "verify")) << p.what;
	EXPECT_TRUE(contains(p.what, "yet record 1017")) << p.what;
	EXPECT_FALSE(r.dump["activation"]["ok"]);
	EXPECT_EQ(r.dump["tiers"]["fast"]["segments"].size(), 2u);
}

TEST(StoreReader, DamagedSuccessorHeaderWithinFirstBatchIsANote)
{
	StoreImage s = sound_store(false);
	TierImage &fi = *s.fast;
	fi.open(2, 3);
	fi.delta(DYNSNAP_LEVEL_SUB, 3, 400, 1);
	fi.end_batch();
	fi.bytes[fi.seg_offset(2) + 3000] ^= 0x01;
	Files f = write(s);
	StoreReport r = check(f);
	EXPECT_TRUE(r.problems.empty()) << describe(r);
	ASSERT_EQ(r.notes.size(), 1u) << describe(r);
	EXPECT_EQ(r.notes[0].segment, 2u);
}

// No checkpoint, and segment 0's header is damaged: records of more than
// one batch behind it say the log existed, so activation refuses the table
// rather than start a new, empty log over them.
TEST(StoreReader, DamagedFirstSegmentHeaderWithoutCheckpoint)
{
	for (bool one_batch : {false, true}) {
		StoreImage s(false);
		TierImage &fi = *s.fast;
		fi.open(0, 1);
		fi.create(1, 2, "s");
		if (!one_batch)
			fi.end_batch();
		fi.delta(DYNSNAP_LEVEL_BLOCK, 2, 0, kBlock);
		fi.end_batch();
		fi.bytes[fi.seg_offset(0) + 5] ^= 0x01;	// magic
		Files f = write(s);
		StoreReport r = check(f);
		if (one_batch) {
			// What a torn first batch leaves: the log starts empty.
			EXPECT_TRUE(r.problems.empty()) << describe(r);
			ASSERT_EQ(r.notes.size(), 1u) << describe(r);
			EXPECT_TRUE(contains(r.notes[0].what, "torn batch")) << r.notes[0].what;
			EXPECT_TRUE(r.dump["tiers"]["fast"]["empty"]);
			EXPECT_TRUE(r.dump["activation"]["ok"]);
			continue;
		}
		ASSERT_EQ(r.problems.size(), 1u) << describe(r);
		EXPECT_EQ(r.problems[0].segment, 0u);
		EXPECT_EQ(r.problems[0].record_seq, 1001u);
		EXPECT_TRUE(contains(r.problems[0].what, "segment 0 holds no valid header"))
			<< r.problems[0].what;
		EXPECT_FALSE(r.dump["tiers"]["fast"]["empty"]);
		EXPECT_FALSE(r.dump["activation"]["ok"]);
	}
}

TEST(StoreReader, MissingRecords)
{
	StoreImage s = sound_store(false);
	// The last record of segment 0 is gone, segment 1 starts after it.
	const Written &w = s.fast->record(1008);
	std::fill(s.fast->bytes.begin() + long(w.offset),
		  s.fast->bytes.begin() + long(w.offset + w.size), 0);
	Files f = write(s);
	StoreReport r = check(f);
	ASSERT_EQ(r.problems.size(), 1u) << describe(r);
	const Problem &p = r.problems[0];
	EXPECT_EQ(p.segment, 0u);
	EXPECT_EQ(p.record_seq, 1008u);
	// Where the log ends: past the record before.
	const Written &before = s.fast->record(1007);
	EXPECT_EQ(p.device_offset, before.offset + before.size);
	EXPECT_TRUE(contains(p.what, "delta log records 1008 to 1008 are missing"))
		<< p.what;
	EXPECT_EQ(r.dump["activation"]["error"], "delta log is inconsistent");
	// The check went on past the gap.
	EXPECT_EQ(r.dump["tiers"]["fast"]["segments"].size(), 2u);
}

// A damaged record that ends its segment cannot be skipped: the kernel
// finds the next segment's records missing.
TEST(StoreReader, DamagedLastRecordOfSegmentIsMissing)
{
	StoreImage s = sound_store(false);
	const Written &w = s.fast->record(1008);	// the deletion
	s.fast->bytes[w.offset + DYNSNAP_REC_HEADER_SIZE] ^= 1;
	Files f = write(s);
	StoreReport r = check(f);
	ASSERT_EQ(r.problems.size(), 1u) << describe(r);
	EXPECT_TRUE(contains(r.problems[0].what, "are missing"));
}

TEST(StoreReader, InvalidSuccessor)
{
	StoreImage s = sound_store(false);
	uint8_t *h = &s.fast->bytes[s.fast->seg_offset(1)];
	dsn_put_le64(h + 48, 8);	// the superblock's sector: not in the area
	dsn_put_le32(h, dsn_crc32c(~0U, h + 4, DYNSNAP_SEG_HEADER_SIZE - 4) ^ DYNSNAP_SEG_CSUM_XOR);
	Files f = write(s);
	StoreReport r = check(f);
	ASSERT_EQ(r.problems.size(), 1u) << describe(r);
	EXPECT_EQ(r.problems[0].segment, 1u);
	EXPECT_TRUE(contains(r.problems[0].what, "segment 1 names an invalid successor"));
	EXPECT_EQ(r.dump["activation"]["error"], "delta log is inconsistent");
	EXPECT_EQ(r.dump["totals"]["records"], 11);
}

// Records that contradict the journal refuse the table.
TEST(StoreReader, DeltaOfAFutureEpoch)
{
	StoreImage s = sound_store(false);
	s.fast->delta(DYNSNAP_LEVEL_SUB, 9, 800, 1);
	s.fast->end_batch();
	Files f = write(s);
	StoreReport r = check(f);
	ASSERT_EQ(r.problems.size(), 1u) << describe(r);
	EXPECT_EQ(r.problems[0].record_seq, 1011u);
	EXPECT_TRUE(contains(r.problems[0].what, "epoch 9"));
	EXPECT_EQ(r.dump["activation"]["error"], "delta log is inconsistent");
}

TEST(StoreReader, ControlRecordOnSlowTier)
{
	StoreImage s = sound_store();
	s.slow->create(5, 4, "x");
	s.slow->end_batch();
	Files f = write(s);
	StoreReport r = check(f);
	ASSERT_EQ(r.problems.size(), 1u) << describe(r);
	EXPECT_EQ(r.problems[0].tier, "slow");
	EXPECT_EQ(r.dump["activation"]["error"], "delta log is inconsistent");
}

TEST(StoreReader, DamagedCheckpointSlotWithAFallback)
{
	StoreImage s = checkpointed_store();
	s.fast->bytes[s.slot_offset(1) + 140] ^= 0x01;	// in a level map
	Files f = write(s);
	StoreReport r = check(f);
	ASSERT_EQ(r.problems.size(), 1u) << describe(r);
	const Problem &p = r.problems[0];
	EXPECT_EQ(p.tier, "fast");
	EXPECT_EQ(p.device_offset, s.slot_offset(1));
	EXPECT_TRUE(contains(p.what, "checkpoint slot 1 is damaged: checkpoint checksum mismatch"))
		<< p.what;
	const json &d = r.dump;
	EXPECT_EQ(d["checkpoints"]["used_slot"], 0);
	EXPECT_EQ(d["checkpoints"]["slots"][1]["state"], "damaged");
	EXPECT_TRUE(d["activation"]["ok"]);
	EXPECT_EQ(d["activation"]["snapshots"][0]["name"], "b");
}

TEST(StoreReader, DamagedOnlyCheckpoint)
{
	StoreImage s = checkpointed_store();
	std::memset(&s.fast->bytes[s.slot_offset(0)], 0, 4096);
	s.fast->bytes[s.slot_offset(1) + 3] ^= 0x01;	// magic
	Files f = write(s);
	StoreReport r = check(f);
	ASSERT_GE(r.problems.size(), 1u) << describe(r);
	EXPECT_TRUE(contains(r.problems[0].what, "checkpoint slot 1 is damaged"));
	EXPECT_EQ(r.dump["activation"]["error"], "checkpoint is damaged");
	EXPECT_EQ(r.dump["checkpoints"]["slots"][1]["error"], "checkpoint magic mismatch");
}

TEST(StoreReader, CheckpointOfAnotherStore)
{
	StoreImage s = checkpointed_store();
	uint8_t *c = &s.fast->bytes[s.slot_offset(1)];
	c[16] ^= 0xff;	// uuid
	dynsnap_checkpoint_seal(c);
	Files f = write(s);
	StoreReport r = check(f);
	ASSERT_EQ(r.problems.size(), 1u) << describe(r);
	EXPECT_TRUE(contains(r.problems[0].what, "checkpoint belongs to another store"));
}

TEST(StoreReader, CheckpointOfOtherGeometry)
{
	StoreImage s = checkpointed_store();
	uint8_t *c = &s.fast->bytes[s.slot_offset(1)];
	// 8 regions: the level maps shrink, the length follows.
	dsn_put_le32(c + 56, 8);
	dsn_put_le32(c + 40, dynsnap_checkpoint_size(0, 8));
	dynsnap_checkpoint_seal(c);
	Files f = write(s);
	StoreReport r = check(f);
	ASSERT_EQ(r.problems.size(), 1u) << describe(r);
	EXPECT_EQ(r.dump["activation"]["error"], "checkpoint does not match the store");
}

TEST(StoreReader, SlowTierOfAnotherStore)
{
	StoreImage s(true, kOtherUuid);
	s.fast->open(0, 1);
	s.fast->create(1, 2, "a");
	s.fast->end_batch();
	s.slow->open(0, 1);
	s.slow->delta(DYNSNAP_LEVEL_BLOCK, 2, 0, kBlock);
	s.slow->end_batch();
	Files f = write(s);
	StoreReport r = check(f);
	ASSERT_EQ(r.problems.size(), 1u) << describe(r);
	const Problem &p = r.problems[0];
	EXPECT_EQ(p.tier, "slow");
	EXPECT_EQ(p.device_offset, 0u);
	EXPECT_TRUE(contains(p.what, "fast and slow devices belong to different stores"));
	EXPECT_EQ(r.dump["activation"]["error"],
		  "fast and slow devices belong to different stores");
	EXPECT_TRUE(r.dump["tiers"]["slow"].is_null());
	EXPECT_EQ(r.dump["tiers"]["fast"]["totals"]["records"], 1);
}

TEST(StoreReader, SlowTierMissingOrUnexpected)
{
	StoreImage s = sound_store();
	Files f = write(s);
	StoreReport r = read_store(f.fast->path(), "", {});
	ASSERT_EQ(r.problems.size(), 1u) << describe(r);
	EXPECT_EQ(r.problems[0].tier, "store");
	EXPECT_EQ(r.dump["activation"]["error"],
		  "store was formatted with a slow tier but none is given");

	StoreImage one = sound_store(false);
	Files g = write(one);
	r = read_store(g.fast->path(), f.slow->path(), {});
	ASSERT_EQ(r.problems.size(), 1u) << describe(r);
	EXPECT_EQ(r.problems[0].tier, "store");
}

TEST(StoreReader, SwappedTiers)
{
	StoreImage s = sound_store();
	Files f = write(s);
	StoreReport r = read_store(f.slow->path(), f.fast->path(), {});
	ASSERT_FALSE(r.problems.empty());
	EXPECT_TRUE(contains(r.problems[0].what, "swapped")) << describe(r);
	EXPECT_FALSE(r.dump["activation"]["ok"]);
}

TEST(StoreReader, ZeroedFastDeviceHoldsNoStore)
{
	TempFile fast(Bytes(1 << 20, 0));
	StoreReport r = read_store(fast.path(), "", {});
	EXPECT_FALSE(r.store_present);
	EXPECT_TRUE(r.problems.empty()) << describe(r);
	EXPECT_FALSE(r.dump["store_present"]);
	EXPECT_EQ(r.dump["superblocks"]["fast"]["state"], "zeroed");
	EXPECT_TRUE(r.dump["activation"].is_null());

	// Formatting would refuse a slow device that holds something.
	StoreImage s = sound_store();
	Files f = write(s);
	r = read_store(fast.path(), f.slow->path(), {});
	EXPECT_FALSE(r.store_present);
	ASSERT_EQ(r.problems.size(), 1u);
	EXPECT_EQ(r.problems[0].tier, "slow");
}

TEST(StoreReader, DamagedSuperblock)
{
	StoreImage s = sound_store();
	s.fast->bytes[100] ^= 0x40;
	Files f = write(s);
	StoreReport r = check(f);
	ASSERT_GE(r.problems.size(), 1u);
	EXPECT_EQ(r.problems[0].tier, "fast");
	EXPECT_EQ(r.problems[0].device_offset, 0u);
	EXPECT_TRUE(contains(r.problems[0].what, "superblock checksum mismatch"));
	EXPECT_EQ(r.dump["activation"]["error"], "superblock checksum mismatch");
	// The slow copy's layout still lets the logs be checked.
	EXPECT_EQ(r.problems.size(), 1u) << describe(r);
	EXPECT_EQ(r.dump["totals"]["records"], 14);
}

TEST(StoreReader, InterruptedFormat)
{
	StoreImage s(true);
	s.sb.flags |= DYNSNAP_SB_F_FORMATTING;
	dynsnap_sb_encode(&s.sb, s.fast->bytes.data());
	std::fill(s.slow->bytes.begin(), s.slow->bytes.begin() + 4096, 0);
	Files f = write(s);
	StoreReport r = check(f);
	EXPECT_TRUE(r.problems.empty()) << describe(r);
	ASSERT_EQ(r.notes.size(), 1u);
	EXPECT_TRUE(contains(r.notes[0].what, "format was cut off"));
}

TEST(StoreReader, TruncatedImages)
{
	StoreImage s = sound_store();
	const Bytes &fast = s.fast->bytes;
	// In the superblock, in the checkpoint area, in the second segment.
	for (uint64_t size : {uint64_t(0), uint64_t(100), uint64_t(4096), uint64_t(6000),
			      uint64_t(2 << 20), s.fast->seg_offset(1) + 5000,
			      s.fast->seg_offset(2) + 4096}) {
		TempFile f(fast, size);
		TempFile slow(s.slow->bytes);
		StoreReport r = read_store(f.path(), slow.path(), {});
		EXPECT_FALSE(r.problems.empty()) << size;
		EXPECT_FALSE(r.dump["activation"]["ok"]) << size;
		EXPECT_EQ(r.dump["problems"].size(), r.problems.size());
	}
	TempFile f(fast);
	TempFile slow(s.slow->bytes, s.slow->seg_offset(0) + 6000);
	StoreReport r = read_store(f.path(), slow.path(), {});
	ASSERT_FALSE(r.problems.empty());
	EXPECT_EQ(r.problems[0].tier, "slow");
	EXPECT_TRUE(contains(r.problems[0].what, "smaller than when the store was formatted"))
		<< describe(r);
}

TEST(StoreReader, MissingDevices)
{
	StoreImage s = sound_store();
	Files f = write(s);
	try {
		read_store("/nonexistent/dynsnap-fast", "", {});
		FAIL() << "no error";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kNotFound);
		EXPECT_TRUE(contains(e.what(), "/nonexistent/dynsnap-fast"));
	}
	try {
		read_store(f.fast->path(), "/nonexistent/dynsnap-slow", {});
		FAIL() << "no error";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kNotFound);
	}
	EXPECT_THROW(read_store("/tmp", "", {}), Error);
}

TEST(StoreReader, HeldExclusively)
{
	TempFile f(Bytes(4096, 1));
	EXPECT_FALSE(held_exclusively(f.path()));
	try {
		held_exclusively("/nonexistent/dynsnap");
		FAIL() << "no error";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kNotFound);
	}
}

TEST(StoreReader, RandomGarbage)
{
	std::mt19937_64 rng(7);
	for (size_t size : {size_t(512), size_t(4096), size_t(1 << 20), size_t(24 << 20)}) {
		Bytes b(size);
		for (auto &x : b)
			x = uint8_t(rng());
		TempFile f(b);
		StoreReport r = read_store(f.path(), f.path(), {});
		EXPECT_TRUE(r.store_present);
		EXPECT_FALSE(r.problems.empty());
		EXPECT_FALSE(r.dump["activation"]["ok"]);
	}
	// A valid superblock over garbage: every later step meets it.
	StoreImage s = sound_store(false);
	Bytes b = s.fast->bytes;
	for (size_t i = 4096; i < b.size(); i++)
		b[i] = uint8_t(rng());
	TempFile f(b);
	StoreReport r = read_store(f.path(), "", {true});
	EXPECT_FALSE(r.problems.empty());
	EXPECT_FALSE(r.dump["activation"]["ok"]);
}

/*
 * Damage anywhere in what the store wrote, one byte at a time: never a
 * crash or an exception, and always reported (as a problem, or a note
 * where it may be a torn write), except in the last batch of a log, which
 * may be torn by design.
 */
TEST(StoreReader, EveryByteOfTheStoreIsCovered)
{
	StoreImage s = checkpointed_store();
	TierImage &fi = *s.fast;
	fi.delta(DYNSNAP_LEVEL_BIT, 3, 24, 8);
	fi.delta(DYNSNAP_LEVEL_SUB, 3, 32, 3);
	fi.end_batch();
	fi.granularity(4, 0, 1, DYNSNAP_LEVEL_BLOCK);
	fi.end_batch();
	fi.delta(DYNSNAP_LEVEL_BLOCK, 3, 40, 8);
	fi.end_batch();

	// Ranges the store is made of, and where the last batch starts.
	std::vector<std::pair<uint64_t, uint64_t>> ranges = {
		{0, DYNSNAP_SB_ENCODED_SIZE},
		{s.slot_offset(1), dynsnap_checkpoint_size(0, kRegions)},
		{fi.seg_offset(1), DYNSNAP_SEG_HEADER_SIZE},
	};
	size_t last_batch = fi.records.back().batch;
	for (const auto &w : fi.records)
		if (w.segment == 1 && w.batch != last_batch)
			ranges.push_back({w.offset, w.size});

	TempFile f(fi.bytes);
	std::mt19937_64 rng(11);
	int runs = 0;
	for (const auto &[start, len] : ranges) {
		for (int i = 0; i < 12; i++) {
			uint64_t at = start + rng() % len;
			uint8_t old = fi.bytes[at];
			uint8_t bad = old ^ uint8_t(1u << (rng() % 8));
			f.poke(at, bad);
			StoreReport r;
			EXPECT_NO_THROW(r = read_store(f.path(), "", {true})) << at;
			EXPECT_FALSE(r.problems.empty() && r.notes.empty()) << "byte " << at;
			f.poke(at, old);
			runs++;
		}
	}
	EXPECT_GT(runs, 50);
	StoreReport r = read_store(f.path(), "", {});
	EXPECT_TRUE(r.problems.empty()) << describe(r);
}

// Several bytes at once, anywhere in the used part of the images: no
// crash, no exception.
TEST(StoreReader, RandomDamageNeverCrashes)
{
	StoreImage s = sound_store();
	s.checkpoint(0, 1, 3, 3, 1011, {{2, 3, "second"}}, 0, 1, 0, 1, 4);
	TempFile fast(s.fast->bytes), slow(s.slow->bytes);
	struct Area {
		const TempFile &file;
		const Bytes &bytes;
		uint64_t start, len;
	};
	const Area areas[] = {
		{fast, s.fast->bytes, 0, 4096},
		{fast, s.fast->bytes, s.slot_offset(0), 4096},
		{fast, s.fast->bytes, s.fast->seg_offset(0), 65536},
		{fast, s.fast->bytes, s.fast->seg_offset(1), 65536},
		{slow, s.slow->bytes, 0, 4096},
		{slow, s.slow->bytes, s.slow->seg_offset(0), 65536},
	};
	std::mt19937_64 rng(23);
	for (int run = 0; run < 40; run++) {
		std::vector<std::pair<const Area *, uint64_t>> undo;
		for (int i = 0; i < 4; i++) {
			const Area &a = areas[rng() % std::size(areas)];
			uint64_t at = a.start + rng() % a.len;
			a.file.poke(at, uint8_t(rng()));
			undo.push_back({&a, at});
		}
		EXPECT_NO_THROW(read_store(fast.path(), slow.path(), {true}));
		for (const auto &[a, at] : undo)
			a->file.poke(at, a->bytes[at]);
	}
	StoreReport r = read_store(fast.path(), slow.path(), {});
	EXPECT_TRUE(r.problems.empty()) << describe(r);
}

} // namespace
} // namespace dynsnap::store

// SPDX-License-Identifier: GPL-2.0
// Checking and dumping a dynsnap store offline, from its fast and (optional)
// slow tier devices or image files.
//
// The reading mirrors what the kernel does when it activates the store
// (kernel/dm-dynsnap-metadata.c open_store, dm-dynsnap-checkpoint.c
// dsn_load_checkpoint, dm-dynsnap-replay.c dsn_replay, dm-dynsnap-log.c
// dsn_log_replay), with the shared core's decoders: superblocks, both
// checkpoint slots, then each tier's delta log from the head the checkpoint
// names along the segment chain, every record verified. What activation would
// take for the end of a log (a torn last batch) is no problem; what it counts
// as a damaged record, or refuses the table for, is, with its location. Beyond
// the kernel, the checker also looks past the end of each log: a record of the
// log that verifies after a header damaged beyond reading, or in a segment
// whose header is damaged, means records that activation silently drops. Only
// a record written by a later batch proves it (the writer issues a batch once
// the one before is durable); one within reach of the last batch may be left
// by a torn write, and is a note.
//
// Problem::what is one line; where the kernel logs the same finding, it
// starts with the kernel's words (e.g. "fast tier: delta record <seq> at
// segment <n> offset <off> is damaged"), offsets in a segment counting from
// the end of its 4 KiB header block as there.
//
// JSON dump (StoreReport::dump). Keys are stable; sectors are 512 bytes,
// device offsets are bytes from the start of their device; levels are
// "block", "sub", "bit", control types "snap_create", "snap_delete",
// "granularity"; tiers "fast", "slow", "store".
//
//   store_present          false when the fast device's first 4 KiB are zero
//   devices.{fast,slow}    {path, size_bytes}; slow null without one
//   superblocks.{fast,slow}
//                          {state: valid|zeroed|invalid, error
//                          (null when valid), superblock (superblock_reader's
//                          to_json, or null)}; slow null without one
//   checkpoints            {slot_sectors, used_slot (0, 1 or null), slots: [
//                          {slot, sector, device_offset, state: valid|blank|
//                          damaged|unreadable, error (null unless damaged or
//                          unreadable); valid slots also: generation, epoch,
//                          next_snapshot_id, control_seq, nr_regions,
//                          fast_head {sector, segment_seq}, slow_head (same,
//                          or null), snapshots [snapshot], regions}]}
//   tiers.{fast,slow}      each log as replayed (null when not read):
//                          data_start_sector, data_sectors, segments_total,
//                          segments_used (the chain and the successor its
//                          last segment reserves), head {sector, segment_seq,
//                          from_checkpoint}, empty (no log yet: activation
//                          starts one), start_unknown (no valid checkpoint
//                          and segment 0 no longer starts the log: not read),
//                          segments [{index, sector, segment_seq,
//                          first_record_seq, next_segment_sector, records,
//                          damaged_records, bytes, live_delta_bytes}],
//                          end (null if the log has none) {segment, offset
//                          (where its last record ends, in the segment),
//                          device_offset, next_record_seq, found: what lies
//                          there, zeroes|segment_end|torn_record (the next
//                          sequence, not verifying)|stale_record (another
//                          sequence)|other}, totals
//   totals                 both tiers summed: {records, delta_records,
//                          control_records, damaged_records, bytes (headers
//                          included), levels {block, sub, bit}, controls
//                          {snap_create, snap_delete, granularity},
//                          controls_in_checkpoint (journal records the
//                          checkpoint already holds), live_delta_records,
//                          live_delta_bytes (deltas a retained snapshot can
//                          read)}
//   activation             null without a store; else the state activation
//                          would end with: {ok, error (the reason the table
//                          would be refused, as the kernel words it, or
//                          null), epoch, next_snapshot_id, snapshots
//                          [snapshot], regions, checksum_errors,
//                          delta_records, delta_bytes (as status fields 6, 5
//                          and 12 show them after a read-write activation)};
//                          only {ok, error} when no superblock is usable
//   problems, notes        [{tier, what, device_offset, segment, record_seq}],
//                          null where unknown
//   records                with CheckOptions::records only, in replay order:
//                          [{seq, tier, segment, offset, device_offset,
//                          control (bool), level (a level, or the control
//                          type), epoch, volume_sector, bytes_covered,
//                          stored_length, checksum_ok, live (deltas: a
//                          retained snapshot can read it; control records:
//                          not yet held by the checkpoint), snapshot
//                          {id, name, ctime_ns, epoch} (snap_create),
//                          snapshot_id (snap_delete), regions {epoch,
//                          first_region, count, level} (granularity)}]
//
//   snapshot               {id, name, ctime_ns, epoch}
//   regions                {count, current {block, sub, bit, default},
//                          next {...}}: regions per level in the current
//                          epoch and from the next one on; "default" follows
//                          the table's granularity feature
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dynsnap::store {

struct Problem {
	std::string tier;	// "fast", "slow" or "store"
	std::string what;	// one line: what is wrong and what it means
	uint64_t device_offset = UINT64_MAX;	// byte offset on that device
	std::optional<uint64_t> segment;	// segment index in the delta area
	std::optional<uint64_t> record_seq;	// record sequence, if known
};

struct CheckOptions {
	bool records = false;	// dump: list every record
};

struct StoreReport {
	bool store_present = false;	// false: zeroed fast device (no store)
	std::vector<Problem> problems;	// empty: the store is sound
	// Worth knowing but not damage: records past the end of a log that a
	// torn write may have left, a format to complete, a deletion of a
	// snapshot that does not exist.
	std::vector<Problem> notes;
	nlohmann::json dump;		// everything found, see above
};

// Read and check the store on @fast and @slow ("" if none). Throws
// dynsnap::Error with Exit::kNotFound when a device does not exist,
// Exit::kFailed when it cannot be opened otherwise or its superblock cannot
// be read; damage found is not
// an exception but a problem, also an I/O error further into a device.
StoreReport read_store(const std::string &fast, const std::string &slow,
		       const CheckOptions &opt);

// Is @path held open exclusively, as an active device-mapper table (or a
// mounted file system) holds its block devices? Checking a store in use
// reads a moving target. Always false for image files. Throws
// dynsnap::Error with Exit::kNotFound when @path does not exist,
// Exit::kFailed when it cannot be opened otherwise.
bool held_exclusively(const std::string &path);

nlohmann::json to_json(const Problem &p);

} // namespace dynsnap::store

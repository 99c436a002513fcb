// SPDX-License-Identifier: GPL-2.0
// A disk with a volatile write cache, for crash tests: a completed write is
// durable only once a flush or a FUA write has reached the disk, and a power
// cut keeps any subset of the writes still in the cache.
//
// VolatileDisk serves one backing file or block device (the durable
// medium). Writes land in the cache: memory, for reads, and an append-only
// journal file, which outlives the process that serves the disk (kept on a
// tmpfs, it is lost only with the machine). A flush, or a cache grown past
// its capacity, writes the cache back in order and empties the journal; a
// FUA write goes to the medium at once, and to the journal too, so that
// older cached writes applied later cannot hide it.
//
// A power cut is the serving process killed (SIGKILL) at any moment. Then
// apply_power_cut() decides, from a seed, which of the journal's writes
// reached the medium: none, all, a random subset, or a random subset of
// each write's 512-byte sectors (torn writes), applies them in the order
// they were written and empties the journal. The disk can then be served
// again.
//
// A disk can also drop writes, as a disk with broken firmware does (or
// dm-flakey's drop_writes): while the file Options::drop_trigger exists,
// every write is acknowledged and forgotten. Each dropped write is appended
// to the journal Options::drop_journal, so a checker can tell which writes
// the disk never stored.
//
// And the power can be cut inside one write: while Options::freeze_trigger
// exists, the first write that overlaps [freeze_first, freeze_end) is
// journaled as not yet durable (FUA or not: it never completed), the file
// freeze_trigger + ".hit" is made, and the write is never acknowledged
// (the server blocks; see freeze_now()). The cut then decides, like for
// any cached write, what of it reached the medium.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dynsnap::volatile_disk {

constexpr uint32_t kSectorBytes = 512;

// One write as the journal keeps it.
struct JournalEntry {
	uint64_t seq = 0;
	uint64_t offset = 0;	// bytes, sector-aligned
	bool durable = false;	// a FUA write: on the medium already
	std::vector<uint8_t> data;
};

// Append @e to the open journal @fd in one write(2). Returns 0 or an errno.
int journal_append(int fd, const JournalEntry &e);

// Every complete entry of the journal at @path, in order. A torn last
// entry (the serving process was killed while appending it) is left out
// and counted in *@torn_tail. Returns false with @error set when the file
// cannot be read or holds something that is no journal.
bool journal_read(const std::string &path, std::vector<JournalEntry> *entries,
		  bool *torn_tail, std::string *error);

class VolatileDisk {
public:
	struct Options {
		std::string medium;		// file or block device
		std::string journal;		// created, must be empty
		uint64_t cache_bytes = 64ull << 20;
		std::string drop_trigger;	// while it exists, writes are dropped
		std::string drop_journal;	// where dropped writes are recorded
		uint64_t size_bytes = 0;	// served size, at most the medium's; 0: all
		std::string freeze_trigger;	// while it exists, freeze on the range
		uint64_t freeze_first = 0, freeze_end = 0;	// bytes
	};
	struct Stats {
		uint64_t writes = 0, fua_writes = 0, flushes = 0, writebacks = 0, dropped = 0;
		uint64_t cached_bytes = 0;
	};

	// nullptr with @error set when a file cannot be opened or the journal
	// still holds writes of a power cut not applied yet.
	static std::unique_ptr<VolatileDisk> open(const Options &o, std::string *error);
	~VolatileDisk();
	VolatileDisk(const VolatileDisk &) = delete;
	VolatileDisk &operator=(const VolatileDisk &) = delete;

	uint64_t size() const { return size_; }
	// 0 or an errno; offsets and lengths must be whole sectors.
	int read(void *buf, uint32_t len, uint64_t offset);
	int write(const void *buf, uint32_t len, uint64_t offset, bool fua);
	int flush();
	// Whether this write is the one to freeze on. If so, it is journaled
	// (not acknowledged, not durable), the .hit file is made, and the
	// caller must never complete it.
	bool freeze_now(const void *buf, uint32_t len, uint64_t offset);
	const Stats &stats() const { return stats_; }

private:
	VolatileDisk() = default;
	int write_back();
	bool dropping() const;
	// The next journal entry: a copy of the write, numbered.
	JournalEntry entry(const void *buf, uint32_t len, uint64_t offset, bool durable);
	int drop(const void *buf, uint32_t len, uint64_t offset, bool fua);
	bool in_range(uint32_t len, uint64_t offset) const;

	int medium_fd_ = -1, journal_fd_ = -1, drop_fd_ = -1;
	std::string drop_trigger_, freeze_trigger_;
	uint64_t freeze_first_ = 0, freeze_end_ = 0;
	uint64_t size_ = 0, cache_bytes_ = 0, next_seq_ = 1;
	std::vector<JournalEntry> cache_;
	// sector -> index in cache_ of the newest cached write holding it
	std::map<uint64_t, size_t> newest_;
	Stats stats_;
};

enum class CutPolicy { kNone, kAll, kRandom, kTorn };

// Parses "none", "all", "random" or "torn".
bool parse_cut_policy(const std::string &name, CutPolicy *policy);

// A named byte range of the disk whose writes a cut report counts apart
// (say, where a store keeps its checkpoints).
struct Mark {
	std::string name;
	uint64_t first = 0, end = 0;	// bytes, [first, end)
};
struct MarkReport {
	uint64_t entries = 0;		// journal entries overlapping the range
	uint64_t lost = 0;		// of which lost whole or in part
};

// Parses NAME:FIRST-END (bytes).
bool parse_mark(const std::string &text, Mark *mark);

struct CutReport {
	uint64_t entries = 0;		// complete entries in the journal
	uint64_t durable = 0;		// FUA writes among them
	uint64_t kept = 0, lost = 0;	// cached writes kept whole / lost whole
	uint64_t torn = 0;		// cached writes kept in part
	bool torn_tail = false;		// a write cut while being journaled
	std::vector<MarkReport> marks;	// one per mark asked for, in order
};

// The power cut: apply to the medium what @policy and @seed keep of the
// journal, then empty the journal. Returns false with @error set.
bool apply_power_cut(const std::string &medium, const std::string &journal,
		     CutPolicy policy, uint64_t seed, CutReport *report,
		     std::string *error, const std::vector<Mark> &marks = {});

} // namespace dynsnap::volatile_disk

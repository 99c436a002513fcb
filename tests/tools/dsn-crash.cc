// SPDX-License-Identifier: GPL-2.0
// dsn-crash: the workload and the checker of the power-cut test on disks
// with a volatile write cache (tests/vm/0021-power-cut.sh).
//
//   dsn-crash run DEV --name DM_NAME --log FILE --seed N --first-seq N
//                 [--steps N] [--max-sectors N] [--keep N] [--regions N]
//                 [--no-rollback] [--full-tier error|drop_oldest]
//   dsn-crash check --log FILE --volume DEV --list FILE --view-prefix PATH
//                   [--state-in FILE] [--state-out FILE]
//                   [--allow-read-errors] [--dropped FILE]
//                   [--kernel-dropped FILE]
//   dsn-crash fill FILE [--as-journal] SEQ:FIRST:COUNT...
//
// run: on the dynsnap device DEV (dm name DM_NAME), one step after another
// until killed or --steps are done: writes of 4 KiB to --max-sectors
// (default 64) sectors at random places, some of them FUA (O_DSYNC),
// flushes (fdatasync), snapshots (snap_create; beyond --keep of them,
// default 4, the oldest is deleted), rollbacks to a random snapshot (the
// volume closed around them, waiting for status field 13 to say done;
// not with --no-rollback) and level changes (set_granularity of a random
// run of the --regions regions, when given). Every sector written holds a
// header naming the write and the sector, so a checker tells which write
// a sector holds. Each step is logged to FILE before it is issued and
// again once it completed ("W seq first count fua" / "w seq", "F"/"f",
// "S seq name"/"s seq id", "D seq id"/"d seq", "G seq .."/"g seq", "R seq
// id"/"r seq", "x seq errno" when it failed, and then the run ends), one
// write(2) per line: a killed process leaves every line it wrote. With
// --full-tier POLICY (the table's on_full) a store may fill: a write,
// snap_create or set_granularity
// that fails with ENOSPC is logged "e seq errno" (it may have taken effect
// in part, as one cut short) and the oldest snapshot is deleted before
// going on; a snapshot the kernel dropped (on_full drop_oldest) is gone:
// its delete returns ENOENT ("d" all the same) and a rollback to it is
// refused ("n seq"). Steps are numbered from --first-seq, so that the
// writes of one run differ from those of every other; the snapshots
// already there (snap_list) count for --keep.
//
// check: after the power cut and reactivation, from the log alone:
//  - every sector of the volume holds the newest write to it that a flush,
//    a completed snap_create (it flushes the origin) or its own FUA made
//    durable, or a write to it issued after that;
//  - every snapshot whose snap_create returned and that was not deleted
//    is in --list (snap_list's answer) under its name, and its view
//    (--view-prefix followed by its id, e.g. /dev/mapper/dsnv7) holds, in
//    every sector, the newest write completed before its snap_create;
//  - a snapshot whose create or delete was cut short (or failed) may be
//    listed or not, and is checked like the others when listed; a snapshot
//    whose delete returned is not listed; no other snapshot is.
// A write that failed (logged "x" or "e") may have reached any part of its
// range: until a completed write covers a sector, the volume, and every
// snapshot taken meanwhile, may hold it there. Where nothing was written
// since a snapshot, its view must read what the volume reads.
// A rollback that completed leaves the volume the snapshot's, flushed; one
// cut short leaves each sector as it was or as the snapshot has it.
// --kernel-dropped FILE: the ids of the snapshots the kernel logged it
// dropped ("delta space full: dropping snapshot <id>", on_full
// drop_oldest): those may be missing from the list.
// A step that failed counts as cut short. --state-in is what the check
// after the previous cut found (the volume as it read then, the snapshots
// that survived, with their content); --state-out writes that for the next.
// --allow-read-errors (a check while a device fails): a sector that cannot
// be read is counted, not a failure; only a sector that reads wrong is.
// --dropped FILE: the drop journal of an origin that dropped writes (the
// volatile disk's drop-journal, tests/tools/volatile_disk). dynsnap keeps
// no checksum of origin data, so what the origin never stored is not
// there: a sector that must hold a write W the origin dropped may hold an
// older write to it instead, in the volume (W the durable one) and in
// every snapshot that must hold W. Everything else is checked as always.
// The state written for the next check is what was read.
//
// fill: write into FILE (a regular file, made if missing) the sectors
// FIRST to FIRST+COUNT-1 as write SEQ leaves them, for tests of check;
// --as-journal appends them to FILE as volatile-disk journal entries
// instead (a drop journal for --dropped).
//
// check prints one line of JSON (the kind of step the cut hit, what was checked,
// the first errors). Exit 0 when everything holds, 1 when not, 2 on usage
// or I/O errors.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "dm_message.h"
#include "volatile_disk.h"

namespace {

constexpr uint32_t kSector = 512;
constexpr uint32_t kChunkSectors = 8;	// writes are whole 4 KiB
constexpr char kMagic[8] = {'D', 'S', 'N', 'C', 'R', 'S', 'H', '1'};

uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

// The content of @sector as write @seq leaves it.
void fill_sector(uint8_t *p, uint64_t seq, uint64_t sector)
{
	std::memcpy(p, kMagic, sizeof(kMagic));
	std::memcpy(p + 8, &seq, 8);
	std::memcpy(p + 16, &sector, 8);
	uint64_t x = mix(seq * 0x9e3779b97f4a7c15ull ^ sector);
	for (uint32_t i = 24; i < kSector; i += 8) {
		x = mix(x + i);
		std::memcpy(p + i, &x, 8);
	}
}

// Which write a sector holds: 0 for zeros (never written), nullopt for
// anything that is no whole sector of one write to this very sector.
std::optional<uint64_t> decode_sector(const uint8_t *p, uint64_t sector)
{
	static const uint8_t zero[kSector] = {};
	if (!std::memcmp(p, zero, kSector))
		return 0;
	uint64_t seq;
	std::memcpy(&seq, p + 8, 8);
	uint8_t want[kSector];
	fill_sector(want, seq, sector);
	if (std::memcmp(p, want, kSector))
		return std::nullopt;
	return seq;
}

std::string errno_text(int err)
{
	return std::to_string(err) + " " + std::strerror(err);
}

// ------------------------------------------------------------------ run --

class Log {
public:
	explicit Log(const std::string &path)
		: fd_(open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644))
	{
	}
	~Log()
	{
		if (fd_ >= 0)
			close(fd_);
	}
	bool ok() const { return fd_ >= 0; }
	void line(const std::string &text)
	{
		std::string l = text + "\n";
		if (write(fd_, l.data(), l.size()) != static_cast<ssize_t>(l.size())) {
			std::perror("dsn-crash: cannot write the log");
			std::exit(2);
		}
	}

private:
	int fd_;
};

struct RunOptions {
	std::string dev, name, log;
	uint64_t seed = 0, first_seq = 1, steps = 0, max_sectors = 64, keep = 4, regions = 0;
	bool rollbacks = true, full_tier = false, drop_oldest = false;
};

int run(const RunOptions &o)
{
	Log log(o.log);
	if (!log.ok()) {
		std::perror("dsn-crash: cannot open the log");
		return 2;
	}
	int fd = open(o.dev.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
	int fua_fd = open(o.dev.c_str(), O_RDWR | O_DIRECT | O_DSYNC | O_CLOEXEC);
	int control = dynsnap::testing::open_dm_control();
	if (fd < 0 || fua_fd < 0 || control < 0) {
		std::perror("dsn-crash: cannot open the volume or /dev/mapper/control");
		return 2;
	}
	uint64_t sectors = 0;
	{
		off_t end = lseek(fd, 0, SEEK_END);
		sectors = end > 0 ? static_cast<uint64_t>(end) / kSector : 0;
	}
	uint64_t chunks = sectors / kChunkSectors;
	uint64_t max_chunks = std::max<uint64_t>(1, o.max_sectors / kChunkSectors);
	if (!chunks) {
		std::fprintf(stderr, "dsn-crash: %s is empty\n", o.dev.c_str());
		return 2;
	}
	void *mem = nullptr;
	if (posix_memalign(&mem, 4096, max_chunks * kChunkSectors * kSector))
		return 2;
	std::unique_ptr<uint8_t, decltype(&std::free)> buf(static_cast<uint8_t *>(mem), std::free);

	std::mt19937_64 rng(o.seed);
	std::vector<std::pair<uint64_t, std::string>> snaps;	// oldest first
	auto message = [&](const std::string &text, std::string *answer) {
		dynsnap::testing::DmMessage m(o.name, text);
		int err = m.send(control);
		if (!err && answer)
			*answer = m.answer();
		return err;
	};
	std::string list;
	if (int err = message("snap_list", &list)) {
		std::fprintf(stderr, "dsn-crash: snap_list: %s\n", std::strerror(err));
		return 2;
	}
	{
		std::istringstream in(list);
		std::string line, name;
		uint64_t id;
		while (std::getline(in, line))
			if (std::istringstream(line) >> id >> name)
				snaps.emplace_back(id, name);
	}
	// The first failure ends the run: the power is gone, or the volume.
	auto failed = [&](const std::string &seq, int err) {
		log.line("x " + seq + " " + std::to_string(err));
		std::fprintf(stderr, "dsn-crash: step %s failed: %s\n", seq.c_str(),
			     std::strerror(err));
		return 3;
	};
	// The oldest snapshot goes, as snap_delete; under on_full drop_oldest
	// the kernel may have dropped it already (ENOENT): gone all the same.
	auto delete_oldest = [&](uint64_t *seq) {
		std::string d = std::to_string(++*seq);
		log.line("D " + d + " " + std::to_string(snaps.front().first));
		int err = message("snap_delete " + std::to_string(snaps.front().first), nullptr);
		if (err && !(err == ENOENT && o.drop_oldest))
			return failed(d, err);
		log.line("d " + d);
		snaps.erase(snaps.begin());
		return 0;
	};
	// Under --full-tier a step that fails with ENOSPC is logged "e" and
	// the oldest snapshot deleted (the step may have taken effect in part;
	// a write then reached part of its range): true when the run goes on.
	// A failed delete ends the run there.
	auto makes_room = [&](const std::string &s, int err, uint64_t *seq) {
		if (err != ENOSPC || !o.full_tier || snaps.empty())
			return false;
		log.line("e " + s + " " + std::to_string(err));
		if (int f = delete_oldest(seq))
			std::exit(f);
		return true;
	};
	// The device must be closed for a rollback: the descriptors are
	// closed around it and opened again once it is done.
	auto rollback = [&](const std::string &s, uint64_t id) {
		close(fd);
		close(fua_fd);
		log.line("R " + s + " " + std::to_string(id));
		int err = EBUSY;
		// Something may hold the device for a moment (a probe after
		// the close): wait up to 10 s.
		for (int i = 0; i < 500 && err == EBUSY; i++) {
			err = message("rollback " + std::to_string(id), nullptr);
			if (err == EBUSY)
				usleep(20000);
		}
		if (err == ENOENT && o.drop_oldest) {
			log.line("n " + s);	// dropped by the kernel: nothing done
			for (auto it = snaps.begin(); it != snaps.end(); ++it)
				if (it->first == id) {
					snaps.erase(it);
					break;
				}
		} else if (err) {
			return failed(s, err);
		} else {
			// Field 13 is "<id>:<state>:<done>/<total>".
			std::string want = std::to_string(id) + ":", status, state;
			for (;;) {
				if (int e2 = dynsnap::testing::dm_target_status(control, o.name, &status))
					return failed(s, e2);
				std::istringstream words(status);
				std::string w;
				for (int i = 0; i < 13 && words >> w; i++)
					state = i == 12 ? w : "";
				if (state.rfind(want + "done:", 0) == 0)
					break;
				if (state.rfind(want + "failed:", 0) == 0)
					return failed(s, EIO);
				usleep(20000);
			}
			log.line("r " + s);
		}
		fd = open(o.dev.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
		fua_fd = open(o.dev.c_str(), O_RDWR | O_DIRECT | O_DSYNC | O_CLOEXEC);
		if (fd < 0 || fua_fd < 0) {
			std::perror("dsn-crash: cannot open the volume again after a rollback");
			std::exit(2);
		}
		return 0;
	};
	uint64_t last = o.steps ? o.first_seq + o.steps - 1 : UINT64_MAX;
	for (uint64_t seq = o.first_seq; seq <= last; seq++) {
		uint64_t pick = rng() % 100;
		std::string s = std::to_string(seq);
		if (pick < 73) {
			uint64_t n = 1 + rng() % max_chunks;
			uint64_t first = (rng() % (chunks - std::min(n, chunks) + 1)) * kChunkSectors;
			uint64_t count = std::min(n, chunks) * kChunkSectors;
			bool fua = rng() % 10 == 0;
			for (uint64_t i = 0; i < count; i++)
				fill_sector(buf.get() + i * kSector, seq, first + i);
			log.line("W " + s + " " + std::to_string(first) + " " + std::to_string(count) +
				 (fua ? " 1" : " 0"));
			ssize_t r = pwrite(fua ? fua_fd : fd, buf.get(), count * kSector,
					   static_cast<off_t>(first * kSector));
			int err = r < 0 ? errno : 0;
			if (r >= 0 && r != static_cast<ssize_t>(count * kSector))
				err = EIO;
			// Under on_full error a full store fails the write; room
			// is made as an operator would.
			if (makes_room(s, err, &seq))
				continue;
			if (err)
				return failed(s, err);
			log.line("w " + s);
		} else if (pick < 83) {
			log.line("F " + s);
			if (fdatasync(fd))
				return failed(s, errno);
			log.line("f " + s);
		} else if (pick < 93) {
			std::string name = "c" + s, answer;
			log.line("S " + s + " " + name);
			int err = message("snap_create " + name, &answer);
			uint64_t id = std::strtoull(answer.c_str(), nullptr, 10);
			if (makes_room(s, err, &seq))
				continue;
			if (err || !id)
				return failed(s, err ? err : EPROTO);
			log.line("s " + s + " " + std::to_string(id));
			snaps.emplace_back(id, name);
			while (snaps.size() > o.keep)
				if (int f = delete_oldest(&seq))
					return f;
		} else if (pick < 95) {
			if (!o.rollbacks || snaps.empty())
				continue;
			if (int f = rollback(s, snaps[rng() % snaps.size()].first))
				return f;
		} else if (o.regions) {
			static const char *const levels[] = {"block", "sub", "bit"};
			uint64_t first = rng() % o.regions;
			uint64_t count = 1 + rng() % (o.regions - first);
			std::string text = std::string("set_granularity ") + levels[rng() % 3] + " " +
					   std::to_string(first) + " " + std::to_string(count);
			log.line("G " + s + " " + text);
			int err = message(text, nullptr);
			if (makes_room(s, err, &seq))
				continue;
			if (err)
				return failed(s, err);
			log.line("g " + s);
		}
	}
	return 0;
}

// ---------------------------------------------------------------- check --

struct Snapshot {
	std::string name;
	uint64_t id = 0;
	bool acked = false;		// snap_create returned
	bool deleting = false;		// snap_delete issued
	bool deleted = false;		// snap_delete returned
	std::vector<uint64_t> content;	// per sector: the write it must hold
	// or, where a failed write may have reached the origin, one of these
	std::map<uint64_t, std::set<uint64_t>> also;
	uint64_t created = 0;		// its S step, 0 for one of --state-in
};

struct Model {
	uint64_t sectors = 0;
	std::vector<uint64_t> current;		// newest completed write per sector
	std::vector<uint64_t> durable;		// newest durable write per sector
	std::vector<std::set<uint64_t>> maybe;	// writes that may have reached it
	// failed writes that may have reached it since its last completed one
	std::vector<std::set<uint64_t>> failed;
	std::vector<uint64_t> last_issued;	// the last write (or rollback) issued
	std::vector<uint64_t> dirty;		// sectors written since durability
	std::map<std::string, Snapshot> snaps;	// by name
	std::map<uint64_t, std::string> names;	// id -> name
	std::map<uint64_t, std::set<uint64_t>> dropped;	// sector -> writes dropped
	std::map<std::string, uint64_t> cut_at;	// kind of the step the cut hit
	std::string cut_kind = "between steps";
	uint64_t steps = 0;
};

// Everything completed so far is durable: a flush or a snapshot returned.
void make_durable(Model &m)
{
	for (uint64_t s : m.dirty) {
		m.durable[s] = m.current[s];
		m.maybe[s].clear();
	}
	m.dirty.clear();
}

bool read_log(const std::string &path, Model &m, std::string *error)
{
	std::ifstream in(path);
	if (!in) {
		*error = "cannot read " + path;
		return false;
	}
	struct Pending {
		char kind = 0;
		bool failed = false;	// logged "e": failed, and the run went on
		uint64_t first = 0, count = 0;
		bool fua = false;
		std::string name;
		uint64_t id = 0;
	};
	std::map<uint64_t, Pending> pending;
	std::string line;
	uint64_t n = 0;
	while (std::getline(in, line)) {
		n++;
		std::istringstream w(line);
		char kind;
		uint64_t seq;
		if (!(w >> kind >> seq)) {
			*error = path + ":" + std::to_string(n) + ": not a log line: " + line;
			return false;
		}
		Pending p;
		p.kind = kind;
		switch (kind) {
		case 'W':
			w >> p.first >> p.count >> p.fua;
			if (!w || p.first + p.count > m.sectors) {
				*error = path + ":" + std::to_string(n) + ": bad write: " + line;
				return false;
			}
			// It may reach the disk from the moment it is issued.
			for (uint64_t s = p.first; s < p.first + p.count; s++) {
				m.maybe[s].insert(seq);
				m.last_issued[s] = seq;
			}
			break;
		case 'S':
			w >> p.name;
			m.snaps[p.name].name = p.name;
			m.snaps[p.name].content = m.current;
			m.snaps[p.name].also.clear();
			m.snaps[p.name].created = seq;
			for (uint64_t s = 0; s < m.sectors; s++)
				if (!m.failed[s].empty())
					m.snaps[p.name].also[s] = m.failed[s];
			break;
		case 'D':
			w >> p.id;
			if (m.names.count(p.id))
				m.snaps[m.names[p.id]].deleting = true;
			break;
		case 'R':
			w >> p.id;
			if (!w || !m.names.count(p.id)) {
				*error = path + ":" + std::to_string(n) +
					 ": rollback to a snapshot the log does not know: " + line;
				return false;
			}
			std::fill(m.last_issued.begin(), m.last_issued.end(), seq);
			break;
		case 'F':
		case 'G':
			break;
		case 'w': {
			auto it = pending.find(seq);
			if (it == pending.end() || it->second.kind != 'W')
				break;
			const Pending &q = it->second;
			for (uint64_t s = q.first; s < q.first + q.count; s++) {
				m.current[s] = seq;
				m.failed[s].clear();
				if (q.fua) {
					m.durable[s] = seq;
					m.maybe[s].clear();
				} else {
					m.dirty.push_back(s);
				}
			}
			pending.erase(it);
			continue;
		}
		case 'f':
			make_durable(m);
			pending.erase(seq);
			continue;
		case 's': {
			auto it = pending.find(seq);
			w >> p.id;
			if (it == pending.end() || it->second.kind != 'S' || !w) {
				*error = path + ":" + std::to_string(n) + ": bad snapshot: " + line;
				return false;
			}
			Snapshot &sn = m.snaps[it->second.name];
			sn.acked = true;
			sn.id = p.id;
			m.names[p.id] = sn.name;
			make_durable(m);	// snap_create flushes the origin
			pending.erase(it);
			continue;
		}
		case 'd': {
			auto it = pending.find(seq);
			if (it != pending.end() && m.names.count(it->second.id))
				m.snaps[m.names[it->second.id]].deleted = true;
			pending.erase(seq);
			continue;
		}
		case 'g':
		case 'n':	// a rollback refused: nothing was written
			pending.erase(seq);
			continue;
		case 'r': {
			// Done: every sector is the snapshot's, and flushed.
			auto it = pending.find(seq);
			if (it == pending.end() || it->second.kind != 'R') {
				*error = path + ":" + std::to_string(n) + ": bad rollback: " + line;
				return false;
			}
			const Snapshot &to = m.snaps[m.names[it->second.id]];
			for (uint64_t s = 0; s < m.sectors; s++) {
				m.current[s] = to.content[s];
				m.dirty.push_back(s);
				// What the snapshot may hold instead, so may the volume.
				auto a = to.also.find(s);
				m.failed[s] = a == to.also.end() ? std::set<uint64_t>{} : a->second;
			}
			make_durable(m);
			pending.erase(it);
			continue;
		}
		case 'e':	// a write that failed and did not end the run
		case 'x': {
			// A failed step is a step cut short: it stays pending. A
			// failed snap_create or snap_delete may have taken effect all
			// the same (its record reached a cache the cut kept). A failed
			// write may have reached any part of its range (it is split
			// at block boundaries), and stays there until a completed
			// write covers it: whatever reads the origin may see it.
			auto it = pending.find(seq);
			if (it != pending.end() && it->second.kind == 'W')
				for (uint64_t s = it->second.first; s < it->second.first + it->second.count;
				     s++)
					m.failed[s].insert(seq);
			if (it != pending.end() && kind == 'e')
				it->second.failed = true;	// no cut point: the run went on
			continue;
		}
		default:
			*error = path + ":" + std::to_string(n) + ": unknown step: " + line;
			return false;
		}
		pending[seq] = p;
		m.steps++;
	}
	// What the cut hit: a step issued and never completed.
	static const std::map<char, const char *> kinds = {
		{'W', "write"}, {'F', "flush"}, {'S', "snap_create"},
		{'D', "snap_delete"}, {'G', "set_granularity"}, {'R', "rollback"}};
	for (const auto &[seq, p] : pending) {
		(void)seq;
		// A rollback cut short: any block may have been rolled back.
		if (p.kind == 'R') {
			const Snapshot &to = m.snaps[m.names[p.id]];
			for (uint64_t s = 0; s < m.sectors; s++)
				m.maybe[s].insert(to.content[s]);
			for (const auto &[s, seqs] : to.also)
				m.maybe[s].insert(seqs.begin(), seqs.end());
		}
		auto k = kinds.find(p.kind);
		if (p.failed)
			continue;
		if (k != kinds.end())
			m.cut_kind = k->second;
		if (p.kind == 'W' && p.fua)
			m.cut_kind = "FUA write";
	}
	return true;
}

class Checker {
public:
	void fail(const std::string &what)
	{
		if (errors_.size() < 20)
			errors_.push_back(what);
		failures_++;
	}
	uint64_t failures() const { return failures_; }
	const std::vector<std::string> &errors() const { return errors_; }
	// Read errors end no scan, and count apart: only wrong bytes fail.
	void allow_read_errors() { allow_read_errors_ = true; }
	uint64_t read_errors() const { return read_errors_; }

	// Reads @dev whole, calling @sector_fn(sector, decoded).
	template <typename Fn>
	bool scan(const std::string &dev, uint64_t sectors, Fn sector_fn)
	{
		int fd = open(dev.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
		if (fd < 0) {
			fail("cannot open " + dev + ": " + errno_text(errno));
			return false;
		}
		constexpr uint64_t kRun = 2048;	// sectors per read
		void *mem = nullptr;
		if (posix_memalign(&mem, 4096, kRun * kSector)) {
			close(fd);
			return false;
		}
		std::unique_ptr<uint8_t, decltype(&std::free)> buf(static_cast<uint8_t *>(mem),
								   std::free);
		bool ok = true;
		for (uint64_t at = 0; at < sectors && ok; at += kRun) {
			uint64_t n = std::min(kRun, sectors - at);
			ssize_t r = pread(fd, buf.get(), n * kSector, static_cast<off_t>(at * kSector));
			if (r == static_cast<ssize_t>(n * kSector)) {
				for (uint64_t i = 0; i < n; i++)
					sector_fn(at + i, decode_sector(buf.get() + i * kSector, at + i));
				continue;
			}
			if (!allow_read_errors_) {
				fail("read error on " + dev + " at sector " + std::to_string(at) + ": " +
				     errno_text(r < 0 ? errno : EIO));
				ok = false;
				break;
			}
			// Again 4 KiB at a time: what can be read is checked.
			for (uint64_t i = 0; i < n; i += kChunkSectors) {
				uint64_t m = std::min<uint64_t>(kChunkSectors, n - i);
				uint8_t *p = buf.get() + i * kSector;
				if (pread(fd, p, m * kSector, static_cast<off_t>((at + i) * kSector)) !=
				    static_cast<ssize_t>(m * kSector)) {
					read_errors_ += m;
					continue;
				}
				for (uint64_t k = 0; k < m; k++)
					sector_fn(at + i + k, decode_sector(p + k * kSector, at + i + k));
			}
		}
		close(fd);
		return ok;
	}

private:
	std::vector<std::string> errors_;
	uint64_t failures_ = 0, read_errors_ = 0;
	bool allow_read_errors_ = false;
};

std::string seq_text(std::optional<uint64_t> s)
{
	return s ? "write " + std::to_string(*s) : "bytes of no write";
}

struct CheckOptions {
	std::string log, volume, list, view_prefix, state_in, state_out, dropped;
	bool allow_read_errors = false;
	std::string kernel_dropped;
};

// The state a previous check found: the volume as it read and the
// snapshots that survived, all of it durable.
bool load_state(const std::string &path, Model &m, std::string *error)
{
	std::ifstream in(path);
	nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
	if (j.is_discarded() || !j.contains("volume") || !j["volume"].is_array() ||
	    j["volume"].size() != m.sectors || !j.contains("snapshots")) {
		*error = path + ": not a state of this volume";
		return false;
	}
	m.current = j["volume"].get<std::vector<uint64_t>>();
	m.durable = m.current;
	for (const auto &e : j["snapshots"]) {
		Snapshot sn;
		sn.name = e.at("name").get<std::string>();
		sn.id = e.at("id").get<uint64_t>();
		sn.acked = true;
		sn.content = e.at("content").get<std::vector<uint64_t>>();
		if (sn.content.size() != m.sectors) {
			*error = path + ": snapshot " + sn.name + " has another size";
			return false;
		}
		m.names[sn.id] = sn.name;
		m.snaps[sn.name] = std::move(sn);
	}
	return true;
}

// Which writes of the workload the origin dropped, sector by sector.
bool load_dropped(const std::string &path, Model &m, std::string *error)
{
	std::vector<dynsnap::volatile_disk::JournalEntry> entries;
	bool torn = false;
	if (!dynsnap::volatile_disk::journal_read(path, &entries, &torn, error))
		return false;
	for (const auto &e : entries) {
		for (uint64_t i = 0; i < e.data.size() / kSector; i++) {
			uint64_t s = e.offset / kSector + i;
			std::optional<uint64_t> seq = decode_sector(e.data.data() + i * kSector, s);
			if (s >= m.sectors || !seq || !*seq) {
				*error = path + ": a dropped write at sector " + std::to_string(s) +
					 " is no write of the workload";
				return false;
			}
			m.dropped[s].insert(*seq);
		}
	}
	return true;
}

// Whether a sector that should hold write @want may hold @got instead:
// the origin dropped @want, so it kept an older write there. (A write it
// stored is what later deltas took, so only a dropped one is missing.)
bool excused(const Model &m, uint64_t sector, uint64_t want, uint64_t got)
{
	auto it = m.dropped.find(sector);
	return it != m.dropped.end() && it->second.count(want) && got < want;
}

int check(const CheckOptions &o)
{
	Model m;
	{
		int fd = open(o.volume.c_str(), O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			std::fprintf(stderr, "dsn-crash: cannot open %s: %s\n", o.volume.c_str(),
				     std::strerror(errno));
			return 2;
		}
		off_t end = lseek(fd, 0, SEEK_END);
		close(fd);
		m.sectors = end > 0 ? static_cast<uint64_t>(end) / kSector : 0;
	}
	m.current.assign(m.sectors, 0);
	m.durable.assign(m.sectors, 0);
	m.maybe.assign(m.sectors, {});
	m.failed.assign(m.sectors, {});
	m.last_issued.assign(m.sectors, 0);
	std::string error;
	if (!o.state_in.empty() && !load_state(o.state_in, m, &error)) {
		std::fprintf(stderr, "dsn-crash: %s\n", error.c_str());
		return 2;
	}
	if (!read_log(o.log, m, &error)) {
		std::fprintf(stderr, "dsn-crash: %s\n", error.c_str());
		return 2;
	}
	if (!o.dropped.empty() && !load_dropped(o.dropped, m, &error)) {
		std::fprintf(stderr, "dsn-crash: %s\n", error.c_str());
		return 2;
	}

	Checker c;
	if (o.allow_read_errors)
		c.allow_read_errors();
	uint64_t checked_sectors = 0, excused_sectors = 0;
	nlohmann::json state{{"volume", nlohmann::json::array()}, {"snapshots", nlohmann::json::array()}};
	// What the volume read, per sector: the write, or nothing when it
	// could not be read or decoded.
	std::vector<std::optional<uint64_t>> volume(m.sectors);
	c.scan(o.volume, m.sectors, [&](uint64_t s, std::optional<uint64_t> got) {
		checked_sectors++;
		state["volume"].push_back(got.value_or(0));
		volume[s] = got;
		if (got && (*got == m.durable[s] || m.maybe[s].count(*got) || m.failed[s].count(*got)))
			return;
		if (got && excused(m, s, m.durable[s], *got)) {
			excused_sectors++;
			return;
		}
		c.fail("volume sector " + std::to_string(s) + " holds " + seq_text(got) +
		       ", not write " + std::to_string(m.durable[s]) + " (durable) or one issued after it");
	});

	// What snap_list lists: id name ...
	std::map<uint64_t, std::string> listed;
	{
		std::ifstream in(o.list);
		if (!in) {
			std::fprintf(stderr, "dsn-crash: cannot read %s\n", o.list.c_str());
			return 2;
		}
		std::string line;
		while (std::getline(in, line)) {
			std::istringstream w(line);
			uint64_t id;
			std::string name;
			if (w >> id >> name)
				listed[id] = name;
		}
	}
	// Under on_full drop_oldest the kernel deletes snapshots itself, and
	// logs each: those it named may be gone.
	std::set<uint64_t> kernel_dropped;
	if (!o.kernel_dropped.empty()) {
		std::ifstream in(o.kernel_dropped);
		if (!in) {
			std::fprintf(stderr, "dsn-crash: cannot read %s\n", o.kernel_dropped.c_str());
			return 2;
		}
		uint64_t id;
		while (in >> id)
			kernel_dropped.insert(id);
		if (!in.eof()) {
			std::fprintf(stderr, "dsn-crash: %s: not a list of snapshot ids\n",
				     o.kernel_dropped.c_str());
			return 2;
		}
	}
	uint64_t dropped_by_kernel = 0;
	uint64_t checked_snaps = 0;
	for (const auto &[name, sn] : m.snaps) {
		bool must = sn.acked && !sn.deleting;
		uint64_t id = sn.id;
		if (!sn.acked) {
			// Cut inside its snap_create: listed or not, by name.
			for (const auto &[lid, lname] : listed)
				if (lname == name)
					id = lid;
		}
		bool is_listed = id && listed.count(id) && listed[id] == name;
		if (sn.deleted && is_listed)
			c.fail("snapshot " + std::to_string(id) + " (" + name +
			       ") is listed after its snap_delete returned");
		if (must && !is_listed && kernel_dropped.count(id)) {
			dropped_by_kernel++;
			continue;
		}
		if (must && !is_listed)
			c.fail("snapshot " + std::to_string(id) + " (" + name +
			       ") was acknowledged but is not listed");
		if (!is_listed || sn.deleted)
			continue;
		checked_snaps++;
		std::vector<uint64_t> read = sn.content;
		std::string view = o.view_prefix + std::to_string(id);
		c.scan(view, m.sectors, [&](uint64_t s, std::optional<uint64_t> got) {
			uint64_t want = sn.content[s];
			// Nothing was written there since the snapshot: whatever
			// the origin holds, the view reads the same.
			if (got && volume[s] && sn.created && m.last_issued[s] < sn.created &&
			    *got != *volume[s]) {
				c.fail("snapshot " + std::to_string(id) + " (" + name + ") sector " +
				       std::to_string(s) + " holds " + seq_text(got) + ", the volume " +
				       seq_text(volume[s]) + ", and nothing was written there since");
				return;
			}
			if (got && *got == want)
				return;
			auto a = sn.also.find(s);
			if (got && a != sn.also.end() && a->second.count(*got)) {
				read[s] = *got;
				return;
			}
			if (got && excused(m, s, want, *got)) {
				excused_sectors++;
				read[s] = *got;
				return;
			}
			c.fail("snapshot " + std::to_string(id) + " (" + name + ") sector " +
			       std::to_string(s) + " holds " + seq_text(got) + ", not write " +
			       std::to_string(want));
		});
		state["snapshots"].push_back({{"id", id}, {"name", name}, {"content", read}});
	}
	for (const auto &[id, name] : listed) {
		auto it = m.snaps.find(name);
		if (it == m.snaps.end() || (it->second.acked && it->second.id != id))
			c.fail("snapshot " + std::to_string(id) + " (" + name +
			       ") is listed but was never created");
	}

	nlohmann::json j{{"cut_in", m.cut_kind},
			 {"steps", m.steps},
			 {"volume_sectors_checked", checked_sectors},
			 {"snapshots_checked", checked_snaps},
			 {"snapshots_listed", listed.size()},
			 {"snapshots_dropped_by_kernel", dropped_by_kernel},
			 {"failures", c.failures()},
			 {"sectors_unreadable", c.read_errors()},
			 {"sectors_dropped", m.dropped.size()},
			 {"sectors_excused", excused_sectors},
			 {"errors", c.errors()}};
	std::cout << j.dump() << "\n";
	if (c.failures())
		return 1;
	// Unread sectors are no state to go on from.
	if (!o.state_out.empty() && !c.read_errors()) {
		std::ofstream out(o.state_out);
		out << state.dump() << "\n";
		if (!out) {
			std::fprintf(stderr, "dsn-crash: cannot write %s\n", o.state_out.c_str());
			return 2;
		}
	}
	return 0;
}

// Sectors as the workload's writes leave them, into a regular file.
int fill(const std::string &path, const std::vector<std::string> &writes, bool as_journal)
{
	int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (as_journal ? O_APPEND : 0),
		      0644);
	if (fd < 0) {
		std::fprintf(stderr, "dsn-crash: cannot open %s: %s\n", path.c_str(),
			     std::strerror(errno));
		return 2;
	}
	for (const std::string &w : writes) {
		uint64_t seq, first, count;
		char c1, c2;
		std::istringstream in(w);
		if (!(in >> seq >> c1 >> first >> c2 >> count) || c1 != ':' || c2 != ':' ||
		    !in.eof() || !count || count > (1u << 20)) {
			std::fprintf(stderr, "dsn-crash: a write is SEQ:FIRST:COUNT, not '%s'\n",
				     w.c_str());
			close(fd);
			return 2;
		}
		std::vector<uint8_t> buf(count * kSector);
		for (uint64_t i = 0; i < count; i++)
			fill_sector(buf.data() + i * kSector, seq, first + i);
		if (as_journal) {
			dynsnap::volatile_disk::JournalEntry e;
			e.seq = seq;
			e.offset = first * kSector;
			e.data = std::move(buf);
			if (int err = dynsnap::volatile_disk::journal_append(fd, e)) {
				std::fprintf(stderr, "dsn-crash: cannot append to %s: %s\n",
					     path.c_str(), std::strerror(err));
				close(fd);
				return 2;
			}
			continue;
		}
		if (pwrite(fd, buf.data(), buf.size(), static_cast<off_t>(first * kSector)) !=
		    static_cast<ssize_t>(buf.size())) {
			std::fprintf(stderr, "dsn-crash: cannot write %s\n", path.c_str());
			close(fd);
			return 2;
		}
	}
	close(fd);
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	CLI::App app{"Workload and checker of the power-cut test"};
	app.require_subcommand(1);
	RunOptions ro;
	CLI::App *r = app.add_subcommand("run", "write, flush and snapshot until killed");
	r->add_option("dev", ro.dev, "the dynsnap device")->required();
	r->add_option("--name", ro.name, "its device-mapper name")->required();
	r->add_option("--log", ro.log, "the log of steps")->required();
	r->add_option("--seed", ro.seed, "seed of the steps")->required();
	r->add_option("--first-seq", ro.first_seq, "number of the first step (default 1)")
		->check(CLI::Range(uint64_t{1}, uint64_t{1} << 60));
	r->add_option("--steps", ro.steps, "stop after this many steps (default: never)");
	r->add_option("--max-sectors", ro.max_sectors, "largest write, in sectors (default 64)")
		->check(CLI::Range(8, 2048));
	r->add_option("--keep", ro.keep, "snapshots kept (default 4)")->check(CLI::Range(1, 64));
	r->add_option("--regions", ro.regions, "regions of the volume, for set_granularity");
	r->add_flag("!--no-rollback", ro.rollbacks, "never roll back");
	std::string full_tier;
	r->add_option("--full-tier", full_tier,
		      "error|drop_oldest, the table's on_full: a tier may fill; on ENOSPC "
		      "delete the oldest snapshot and go on; under drop_oldest a snapshot "
		      "the kernel dropped is gone")
		->check(CLI::IsMember({"error", "drop_oldest"}));
	CheckOptions co;
	CLI::App *c = app.add_subcommand("check", "check the volume and its snapshots after a cut");
	c->add_option("--log", co.log, "the log of steps")->required();
	c->add_option("--volume", co.volume, "the dynsnap device")->required();
	c->add_option("--list", co.list, "snap_list's answer")->required();
	c->add_option("--view-prefix", co.view_prefix, "path of the views, before the id")
		->required();
	c->add_option("--state-in", co.state_in, "what the check after the previous cut found");
	c->add_option("--state-out", co.state_out, "where to write what this check found");
	c->add_flag("--allow-read-errors", co.allow_read_errors,
		    "count read errors apart; only wrong bytes fail (no --state-out then)");
	c->add_option("--kernel-dropped", co.kernel_dropped,
		      "ids of the snapshots the kernel dropped (on_full drop_oldest), one per line");
	c->add_option("--dropped", co.dropped,
		      "drop journal of the origin: sectors whose writes it never stored");
	std::string fill_file;
	std::vector<std::string> fill_writes;
	bool as_journal = false;
	CLI::App *f = app.add_subcommand("fill", "write sectors as the workload would, for tests");
	f->add_option("file", fill_file, "a regular file")->required();
	f->add_option("writes", fill_writes, "SEQ:FIRST:COUNT, in sectors")->required();
	f->add_flag("--as-journal", as_journal, "append them as journal entries (a drop journal)");
	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		return app.exit(e) ? 2 : 0;
	}
	if (f->parsed())
		return fill(fill_file, fill_writes, as_journal);
	ro.full_tier = !full_tier.empty();
	ro.drop_oldest = full_tier == "drop_oldest";
	return r->parsed() ? run(ro) : check(co);
}

// SPDX-License-Identifier: GPL-2.0
// dsn-epoch-race: writers that never stop, against snapshots taken as fast
// as the target takes them, and a check that every snapshot holds only
// writes issued before it was created.
//
//   dsn-epoch-race run DEV NAME --block BYTES --sub BYTES --writers N
//                  --snapshots N --ids FILE --tags FILE
//   dsn-epoch-race check IMAGE --tags FILE --ids FILE --block BYTES
//                  --sub BYTES --writers N
//
// run: N threads each write their own sub-block of the first block of DEV
// in a loop, O_DIRECT; every write carries the writer, a sequence number
// and the number of snapshots whose creation had returned before the write
// was issued (its tag). The main thread creates the snapshots with
// `dmsetup message NAME 0 snap_create`, one after the other, and writes
// their ids to --ids; the writers stop when the last one returned, and
// --tags records each writer's last completed sequence.
//
// check: IMAGE holds, one block after the other, the first block of each
// snapshot in --ids, as read through views. Snapshot k (0-based) may hold,
// in each writer's sub-block, only a write tagged k or lower (issued before
// snapshot k returned), never an older one than snapshot k-1 held, and the
// same sub-block content across a snapshot is one whole write. Exit 0 when
// every snapshot passes, 1 when one does not, 2 on usage or I/O errors.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern char **environ;

namespace {

constexpr uint64_t kMagic = 0x65706f6368726163ULL;	// "epochrac"

struct Stamp {
	uint64_t magic;
	uint64_t writer;
	uint64_t seq;
	uint64_t tag;
};

struct Options {
	std::string cmd, dev, name, ids = "ids", tags = "tags";
	uint64_t block = 65536, sub = 4096, writers = 4, snapshots = 100;
};

[[noreturn]] void usage(const char *why)
{
	std::fprintf(stderr, "dsn-epoch-race: %s\n"
		     "usage: dsn-epoch-race run DEV NAME [options] | check IMAGE [options]\n"
		     "options: --block BYTES --sub BYTES --writers N --snapshots N "
		     "--ids FILE --tags FILE\n", why);
	std::exit(2);
}

uint64_t number(const char *s)
{
	char *end;
	errno = 0;
	uint64_t v = std::strtoull(s, &end, 10);
	if (errno || end == s || *end)
		usage("not a number");
	return v;
}

Options parse(int argc, char **argv)
{
	Options o;
	std::vector<std::string> pos;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		auto value = [&]() -> const char * {
			if (i + 1 >= argc)
				usage("option without a value");
			return argv[++i];
		};
		if (a == "--block")
			o.block = number(value());
		else if (a == "--sub")
			o.sub = number(value());
		else if (a == "--writers")
			o.writers = number(value());
		else if (a == "--snapshots")
			o.snapshots = number(value());
		else if (a == "--ids")
			o.ids = value();
		else if (a == "--tags")
			o.tags = value();
		else if (a.rfind("--", 0) == 0)
			usage("unknown option");
		else
			pos.push_back(a);
	}
	if (pos.empty())
		usage("no command");
	o.cmd = pos[0];
	if ((o.cmd == "run" && pos.size() != 3) || (o.cmd == "check" && pos.size() != 2) ||
	    (o.cmd != "run" && o.cmd != "check"))
		usage("wrong arguments");
	o.dev = pos[1];
	if (o.cmd == "run")
		o.name = pos[2];
	if (!o.sub || o.sub % 512 || o.block % o.sub || o.writers == 0 ||
	    o.writers > o.block / o.sub)
		usage("sizes do not fit: one sub-block per writer within one block");
	return o;
}

// The whole sub-block: its stamp repeated, so a torn write shows.
void fill(uint8_t *buf, uint64_t sub, const Stamp &s)
{
	for (uint64_t off = 0; off + sizeof(s) <= sub; off += sizeof(s))
		std::memcpy(buf + off, &s, sizeof(s));
}

int snap_create(const std::string &name, uint64_t n, uint64_t *id)
{
	std::string snap = "race-" + std::to_string(n);
	const char *args[] = {"dmsetup", "message", name.c_str(), "0", "snap_create",
			      snap.c_str(), nullptr};
	int pipefd[2];
	if (pipe(pipefd))
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addclose(&fa, pipefd[0]);
	pid_t pid;
	int r = posix_spawnp(&pid, "dmsetup", &fa, nullptr, const_cast<char **>(args),
			     environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r) {
		close(pipefd[0]);
		return -1;
	}
	char out[64] = {};
	ssize_t got = read(pipefd[0], out, sizeof(out) - 1);
	close(pipefd[0]);
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) ||
	    got <= 0)
		return -1;
	*id = std::strtoull(out, nullptr, 10);
	return *id ? 0 : -1;
}

int run(const Options &o)
{
	int fd = open(o.dev.c_str(), O_RDWR | O_DIRECT);
	if (fd < 0) {
		std::perror(o.dev.c_str());
		return 2;
	}
	std::atomic<uint64_t> created{0};
	std::atomic<bool> stop{false}, failed{false};
	std::vector<uint64_t> last(o.writers, 0);
	std::vector<std::thread> threads;

	for (uint64_t w = 0; w < o.writers; w++) {
		threads.emplace_back([&, w] {
			void *mem;
			if (posix_memalign(&mem, 4096, o.sub)) {
				failed = true;
				return;
			}
			auto *buf = static_cast<uint8_t *>(mem);
			for (uint64_t seq = 1; !stop.load(); seq++) {
				Stamp s = {kMagic, w, seq, created.load()};
				fill(buf, o.sub, s);
				if (pwrite(fd, buf, o.sub, off_t(w * o.sub)) != ssize_t(o.sub)) {
					std::perror("pwrite");
					failed = true;
					break;
				}
				last[w] = seq;
			}
			std::free(mem);
		});
	}

	std::FILE *ids = std::fopen(o.ids.c_str(), "w");
	int rc = ids ? 0 : 2;
	for (uint64_t n = 0; !rc && n < o.snapshots && !failed; n++) {
		uint64_t id;
		if (snap_create(o.name, n, &id)) {
			std::fprintf(stderr, "dsn-epoch-race: snapshot %" PRIu64 " failed\n", n);
			rc = 2;
			break;
		}
		std::fprintf(ids, "%" PRIu64 "\n", id);
		created.store(n + 1);
	}
	stop = true;
	for (auto &t : threads)
		t.join();
	if (ids)
		std::fclose(ids);
	close(fd);
	if (failed)
		rc = 2;
	std::ofstream tags(o.tags);
	for (uint64_t w = 0; w < o.writers; w++)
		tags << last[w] << "\n";
	std::printf("%" PRIu64 " snapshots under %" PRIu64 " writers\n", created.load(),
		    o.writers);
	return rc;
}

int check(const Options &o)
{
	std::vector<uint64_t> ids;
	std::ifstream idf(o.ids);
	for (uint64_t v; idf >> v;)
		ids.push_back(v);
	int fd = open(o.dev.c_str(), O_RDONLY);
	if (fd < 0 || ids.empty()) {
		std::fprintf(stderr, "dsn-epoch-race: cannot read %s or %s\n", o.dev.c_str(),
			     o.ids.c_str());
		return 2;
	}
	std::vector<uint8_t> block(o.block);
	std::vector<uint64_t> prev(o.writers, 0);
	uint64_t bad = 0;

	for (uint64_t k = 0; k < ids.size(); k++) {
		if (pread(fd, block.data(), o.block, off_t(k * o.block)) != ssize_t(o.block)) {
			std::perror("pread");
			return 2;
		}
		for (uint64_t w = 0; w < o.writers; w++) {
			const uint8_t *p = block.data() + w * o.sub;
			Stamp s;
			std::memcpy(&s, p, sizeof(s));
			std::vector<uint8_t> want(o.sub);
			fill(want.data(), o.sub, s);
			const char *why = nullptr;
			if (s.magic == 0 && s.seq == 0) {
				// Never written before this snapshot.
				if (prev[w])
					why = "lost its data";
			} else if (s.magic != kMagic || s.writer != w ||
				   std::memcmp(want.data(), p, o.sub)) {
				why = "holds a torn or foreign write";
			} else if (s.tag > k) {
				why = "holds a write issued after it was created";
			} else if (s.seq < prev[w]) {
				why = "holds an older write than the snapshot before";
			}
			if (why) {
				std::printf("snapshot %" PRIu64 " (id %" PRIu64 "), writer %" PRIu64
					    ": %s (seq %" PRIu64 " tag %" PRIu64 ", before: seq %"
					    PRIu64 ")\n", k, ids[k], w, why, s.seq, s.tag, prev[w]);
				bad++;
			}
			if (s.magic == kMagic)
				prev[w] = s.seq;
		}
	}
	close(fd);
	std::printf("%zu snapshots checked, %" PRIu64 " bad sub-blocks\n", ids.size(), bad);
	return bad ? 1 : 0;
}

} // namespace

int main(int argc, char **argv)
{
	Options o = parse(argc, argv);
	return o.cmd == "run" ? run(o) : check(o);
}

// SPDX-License-Identifier: GPL-2.0
// dsn-oracle: the test oracle of the snapshot VM tests.
//
//   write    deterministic pseudo-random writes of mixed sizes
//   sums     per-chunk 64-bit hashes of a device, saved as a reference
//   compare  a device (e.g. a snapshot view) against a reference
//   records  the delta records a tier device holds (scan of its delta area)
//   flip     damage one byte of a device, with direct I/O
//
// compare prints the differing and the unreadable byte ranges, one a line:
//   dsn-oracle compare: DEV: differs: offset=BYTES length=BYTES
//   dsn-oracle compare: DEV: unreadable (EIO): offset=BYTES length=BYTES
// records prints one line per record and per segment of the store:
//   record offset=BYTE seq=N epoch=N level=block|sub|bit|control-T
//          location=SECTOR length=BYTES stored=BYTES codec=N segment=N valid=yes|no
//   segment offset=BYTE seq=N first_record=N records=N damaged=N log_end=BYTE
// (valid=no: the header is intact and in sequence, the checksum fails.)
//
// Block devices are always read and written with O_DIRECT, so what is
// checked is what the device returns, never the page cache. Regular files
// use O_DIRECT too when their filesystem supports it.
//
// Exit status: 0 success; 1 compare found different data; 2 bad arguments
// or an I/O error; 3 a read or write failed with EIO (compare: every chunk
// that could be read matched); 4 a write failed with ENOSPC.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "dynsnap_log.h"
#include "store/superblock_reader.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitDiffers = 1;
constexpr int kExitError = 2;
constexpr int kExitEio = 3;
constexpr int kExitNoSpace = 4;

constexpr uint64_t kSector = 512;
constexpr uint64_t kAlign = 4096;		// buffer alignment for O_DIRECT
constexpr uint64_t kIoBytes = 1 << 20;		// read size of sums and compare
constexpr const char *kSumsMagic = "dsn-oracle-sums 1";

// A failure that ends the program with @code after printing @msg.
struct Failure {
	int code;
	std::string msg;
};

[[noreturn]] void fail(int code, const std::string &msg)
{
	throw Failure{code, msg};
}

int errno_exit(int err)
{
	return err == EIO ? kExitEio : err == ENOSPC ? kExitNoSpace : kExitError;
}

// Sizes and offsets: decimal or 0x hex bytes, with an optional binary
// suffix K, M or G.
uint64_t parse_size(const std::string &text, const std::string &what)
{
	if (text.empty())
		fail(kExitError, what + ": empty number");
	size_t used = 0;
	unsigned long long v;
	try {
		v = std::stoull(text, &used, 0);
	} catch (const std::exception &) {
		fail(kExitError, what + ": not a number: '" + text + "'");
	}
	std::string suffix = text.substr(used);
	unsigned shift = 0;
	if (suffix == "K" || suffix == "k")
		shift = 10;
	else if (suffix == "M" || suffix == "m")
		shift = 20;
	else if (suffix == "G" || suffix == "g")
		shift = 30;
	else if (!suffix.empty())
		fail(kExitError, what + ": not a number: '" + text + "'");
	if (shift && v > (UINT64_MAX >> shift))
		fail(kExitError, what + ": too large: '" + text + "'");
	return uint64_t(v) << shift;
}

// --- hashing and pseudo-random data --------------------------------------

constexpr uint64_t kK1 = 0xc0e0a1c6b752724bULL;
constexpr uint64_t kK2 = 0x257d2f2b61500f47ULL;
constexpr uint64_t kK3 = 0xeca73d6e8bdf44a5ULL;
constexpr uint64_t kK4 = 0x90121a0ef1ccf1bfULL;
constexpr uint64_t kK5 = 0x23ec5673c8ec51a5ULL;

uint64_t rotl(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

// A bijective 64-bit mixer: every input bit affects every output bit.
uint64_t mix64(uint64_t x)
{
	x ^= x >> 31;
	x *= kK1;
	x ^= x >> 29;
	x *= kK2;
	x ^= x >> 32;
	return x;
}

uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

// 64-bit hash of a chunk. Four independent lanes, each a chain of
// bijective steps, so two chunks that differ in a single 8-byte word always
// hash differently; any other difference goes unnoticed with probability
// about 2^-64.
uint64_t chunk_hash(const uint8_t *p, size_t len)
{
	uint64_t lane[4] = {kK3, kK4, kK5, kK3 ^ kK4};
	size_t i = 0;

	for (; i + 32 <= len; i += 32)
		for (int j = 0; j < 4; j++)
			lane[j] = rotl(lane[j] ^ (load64(p + i + 8 * j) * kK1), 27) * kK2;
	for (int j = 0; i + 8 <= len; i += 8, j++)
		lane[j] = rotl(lane[j] ^ (load64(p + i) * kK1), 27) * kK2;
	if (i < len) {
		uint64_t tail = 0;
		memcpy(&tail, p + i, len - i);
		lane[3] = rotl(lane[3] ^ (tail * kK1), 27) * kK2;
	}
	uint64_t h = len;
	for (uint64_t l : lane)
		h = mix64(h ^ l);
	return h;
}

// Fill @len bytes with the data of write @index of the run seeded @seed: a
// pure function of (seed, index, position).
void fill_data(uint8_t *p, size_t len, uint64_t seed, uint64_t index)
{
	uint64_t key = mix64(seed * kK5 + mix64(index + 1));
	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = mix64(key + (i / 8) * kK4);
		memcpy(p + i, &w, std::min<size_t>(8, len - i));
	}
}

// --- devices --------------------------------------------------------------

struct AlignedBuffer {
	uint8_t *data = nullptr;
	size_t size = 0;

	explicit AlignedBuffer(size_t n) : size(n)
	{
		void *p = nullptr;
		if (posix_memalign(&p, kAlign, std::max<size_t>(n, kAlign)))
			fail(kExitError, "out of memory");
		data = static_cast<uint8_t *>(p);
		memset(data, 0, n);
	}
	~AlignedBuffer() { free(data); }
	AlignedBuffer(const AlignedBuffer &) = delete;
	AlignedBuffer &operator=(const AlignedBuffer &) = delete;
};

class Device {
public:
	Device(const std::string &path, bool writable) : path_(path)
	{
		int flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC;
		fd_ = open(path.c_str(), flags | O_DIRECT);
		if (fd_ < 0 && errno == EINVAL) {
			// A filesystem without direct I/O (tmpfs before 6.6):
			// allowed for regular files only.
			struct stat st;
			if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
				fd_ = open(path.c_str(), flags);
				direct_ = false;
			}
		}
		if (fd_ < 0)
			fail(kExitError, "cannot open " + path + ": " + strerror(errno));
		struct stat st;
		if (fstat(fd_, &st))
			fail(kExitError, path + ": " + strerror(errno));
		if (S_ISBLK(st.st_mode)) {
			int lbs = 512;
			if (ioctl(fd_, BLKGETSIZE64, &size_) || ioctl(fd_, BLKSSZGET, &lbs))
				fail(kExitError, path + ": cannot get the device size: " +
						 strerror(errno));
			logical_block_ = unsigned(lbs);
		} else if (S_ISREG(st.st_mode)) {
			size_ = uint64_t(st.st_size);
		} else {
			fail(kExitError, path + ": not a block device or regular file");
		}
	}
	~Device()
	{
		if (fd_ >= 0)
			close(fd_);
	}
	Device(const Device &) = delete;
	Device &operator=(const Device &) = delete;

	const std::string &path() const { return path_; }
	uint64_t size() const { return size_; }
	bool direct() const { return direct_; }
	unsigned logical_block() const { return logical_block_; }

	// Read up to @len bytes at @off; returns the bytes read (short only at
	// the end of the device) or -errno.
	int64_t read(uint8_t *buf, size_t len, uint64_t off) const
	{
		size_t done = 0;
		while (done < len) {
			ssize_t n = pread(fd_, buf + done, len - done, off_t(off + done));
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			if (n == 0)
				break;
			done += size_t(n);
		}
		return int64_t(done);
	}

	// Write all @len bytes at @off; 0 or -errno.
	int write(const uint8_t *buf, size_t len, uint64_t off) const
	{
		size_t done = 0;
		while (done < len) {
			ssize_t n = pwrite(fd_, buf + done, len - done, off_t(off + done));
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			if (n == 0)
				return -EIO;
			done += size_t(n);
		}
		return 0;
	}

	int sync() const { return fsync(fd_) ? -errno : 0; }

private:
	std::string path_;
	int fd_ = -1;
	uint64_t size_ = 0;
	bool direct_ = true;
	unsigned logical_block_ = 512;
};

std::string range_text(uint64_t off, uint64_t len)
{
	return "offset=" + std::to_string(off) + " length=" + std::to_string(len);
}

// --- write ----------------------------------------------------------------

struct WriteArgs {
	std::string dev;
	uint64_t seed = 0;
	uint64_t count = 0;
	std::string min_bytes = "512";
	std::string max_bytes = "1M";
	std::string range;
	uint64_t sparse = 0;
	bool sequential = false;
	bool fsync = false;
};

// Lengths spread evenly over orders of magnitude: a power-of-two band is
// chosen first, then a length inside it, so small and large writes are
// both common.
uint64_t pick_sectors(std::mt19937_64 &rng, uint64_t lo, uint64_t hi)
{
	unsigned lo_bit = 63 - unsigned(__builtin_clzll(lo));
	unsigned hi_bit = 63 - unsigned(__builtin_clzll(hi));
	unsigned bit = lo_bit + unsigned(rng() % (hi_bit - lo_bit + 1));
	uint64_t a = std::max(lo, uint64_t(1) << bit);
	uint64_t b = bit >= 63 ? hi : std::min(hi, (uint64_t(2) << bit) - 1);
	return a + rng() % (b - a + 1);
}

int cmd_write(const WriteArgs &a)
{
	uint64_t min = parse_size(a.min_bytes, "--min-bytes");
	uint64_t max = parse_size(a.max_bytes, "--max-bytes");
	if (!min || min % kSector || max % kSector)
		fail(kExitError, "--min-bytes and --max-bytes must be non-zero multiples of 512");
	if (min > max)
		fail(kExitError, "--min-bytes is larger than --max-bytes");
	if (max > (uint64_t(1) << 30))
		fail(kExitError, "--max-bytes is above 1 GiB");

	Device dev(a.dev, true);
	if (dev.logical_block() > kSector)
		fail(kExitError, a.dev + ": logical block size " +
				 std::to_string(dev.logical_block()) +
				 ": 512-byte direct writes are impossible");
	uint64_t start = 0, len = dev.size() / kSector * kSector;
	if (!a.range.empty()) {
		size_t colon = a.range.find(':');
		if (colon == std::string::npos)
			fail(kExitError, "--range must be START:LENGTH (bytes)");
		start = parse_size(a.range.substr(0, colon), "--range start");
		len = parse_size(a.range.substr(colon + 1), "--range length");
		if (start % kSector || len % kSector)
			fail(kExitError, "--range start and length must be multiples of 512");
		if (start > dev.size() || len > dev.size() - start)
			fail(kExitError, "--range " + a.range + " ends beyond " + a.dev + " (" +
					 std::to_string(dev.size()) + " bytes)");
	}
	if (len < min)
		fail(kExitError, "the range (" + std::to_string(len) +
				 " bytes) is shorter than --min-bytes");
	max = std::min(max, len);

	std::mt19937_64 rng(a.seed);
	AlignedBuffer buf(max);
	uint64_t bytes = 0, cursor = start;
	for (uint64_t k = 0; k < a.count; k++) {
		uint64_t n = pick_sectors(rng, min / kSector, max / kSector) * kSector;
		uint64_t off;
		if (a.sequential) {
			if (cursor + n > start + len)
				cursor = start;
			off = cursor;
			cursor += n;
		} else {
			off = start + (rng() % ((len - n) / kSector + 1)) * kSector;
		}
		if (a.sparse) {
			int64_t got = dev.read(buf.data, n, off);
			if (got != int64_t(n)) {
				int err = got < 0 ? int(-got) : EIO;
				fail(errno_exit(err), a.dev + ": reading " + range_text(off, n) +
							      " before write " + std::to_string(k + 1) +
							      ": " + strerror(err));
			}
			for (uint64_t i = 0; i < a.sparse; i++)
				buf.data[rng() % n] ^= uint8_t(1 + rng() % 255);
		} else {
			fill_data(buf.data, n, a.seed, k);
		}
		int err = dev.write(buf.data, n, off);
		if (err)
			fail(errno_exit(-err), a.dev + ": write " + std::to_string(k + 1) + " of " +
						       std::to_string(a.count) + " (" +
						       range_text(off, n) + ") failed after " +
						       std::to_string(bytes) + " bytes: " +
						       strerror(-err));
		bytes += n;
	}
	if (a.fsync) {
		int err = dev.sync();
		if (err)
			fail(errno_exit(-err), a.dev + ": fsync: " + strerror(-err));
	}
	std::cout << "dsn-oracle write: " << a.dev << ": " << a.count << " writes, " << bytes
		  << " bytes, seed " << a.seed << ", lengths " << min << ".." << max
		  << ", range " << start << "+" << len << (a.sparse ? ", sparse " : "")
		  << (a.sparse ? std::to_string(a.sparse) : "")
		  << (a.sequential ? ", sequential" : "") << (a.fsync ? ", fsync" : "")
		  << (dev.direct() ? "" : ", buffered") << "\n";
	return kExitOk;
}

// --- sums and compare -----------------------------------------------------

struct Sums {
	uint64_t size = 0;
	uint64_t chunk = 0;
	std::vector<uint64_t> hashes;
};

void check_chunk(uint64_t chunk)
{
	if (!chunk || chunk % kSector || chunk > kIoBytes)
		fail(kExitError, "--chunk must be a multiple of 512 from 512 to 1 MiB");
}

// Read the device chunk by chunk in large reads. @on_chunk(index, data, len)
// gets each chunk that could be read; @on_eio(index) each chunk that failed
// with EIO (after a large read failed, its chunks are retried one by one).
// Any other error ends the program.
template <typename OnChunk, typename OnEio>
void scan_chunks(const Device &dev, uint64_t size, uint64_t chunk, OnChunk on_chunk, OnEio on_eio)
{
	uint64_t io = kIoBytes / chunk * chunk;
	AlignedBuffer buf(io);
	for (uint64_t off = 0; off < size; off += io) {
		uint64_t want = std::min(io, size - off);
		uint64_t aligned = (want + kSector - 1) / kSector * kSector;
		int64_t got = dev.read(buf.data, aligned, off);
		if (got >= 0 && uint64_t(got) < want)
			fail(kExitError, dev.path() + ": short read at " + range_text(off, want) +
						 ": the device shrank?");
		if (got >= 0) {
			for (uint64_t c = 0; c < want; c += chunk)
				on_chunk((off + c) / chunk, buf.data + c, std::min(chunk, want - c));
			continue;
		}
		if (got != -EIO)
			fail(kExitError, dev.path() + ": read at " + range_text(off, want) + ": " +
						 strerror(int(-got)));
		for (uint64_t c = 0; c < want; c += chunk) {
			uint64_t n = std::min(chunk, want - c);
			int64_t r = dev.read(buf.data, (n + kSector - 1) / kSector * kSector, off + c);
			if (r == -EIO) {
				on_eio((off + c) / chunk);
				continue;
			}
			if (r < int64_t(n))
				fail(kExitError, dev.path() + ": read at " + range_text(off + c, n) +
							 ": " + (r < 0 ? strerror(int(-r)) : "short read"));
			on_chunk((off + c) / chunk, buf.data, n);
		}
	}
}

void write_sums(const Sums &s, const std::string &file)
{
	std::ostringstream out;
	out << kSumsMagic << "\nsize " << s.size << "\nchunk " << s.chunk << "\n";
	char line[24];
	for (uint64_t h : s.hashes) {
		snprintf(line, sizeof(line), "%016" PRIx64 "\n", h);
		out << line;
	}
	if (file == "-") {
		std::cout << out.str();
		return;
	}
	std::string tmp = file + ".tmp";
	std::ofstream f(tmp, std::ios::trunc);
	f << out.str();
	f.close();
	if (!f || rename(tmp.c_str(), file.c_str()))
		fail(kExitError, "cannot write " + file + ": " + strerror(errno));
}

Sums read_sums(const std::string &file)
{
	std::ifstream f(file);
	if (!f)
		fail(kExitError, "cannot open " + file + ": " + strerror(errno));
	Sums s;
	std::string magic, key1, key2;
	std::getline(f, magic);
	if (magic != kSumsMagic)
		fail(kExitError, file + ": not a dsn-oracle sums file");
	if (!(f >> key1 >> s.size >> key2 >> s.chunk) || key1 != "size" || key2 != "chunk" ||
	    !s.chunk || s.chunk % kSector || s.chunk > kIoBytes)
		fail(kExitError, file + ": damaged header");
	uint64_t want = (s.size + s.chunk - 1) / s.chunk;
	s.hashes.reserve(want);
	std::string word;
	while (f >> word) {
		if (word.size() != 16 || word.find_first_not_of("0123456789abcdef") != std::string::npos)
			fail(kExitError, file + ": damaged line " + std::to_string(s.hashes.size() + 4));
		s.hashes.push_back(std::stoull(word, nullptr, 16));
	}
	if (s.hashes.size() != want)
		fail(kExitError, file + ": " + std::to_string(s.hashes.size()) + " sums, expected " +
				 std::to_string(want));
	return s;
}

int cmd_sums(const std::string &path, const std::string &chunk_text, const std::string &out)
{
	Sums s;
	s.chunk = parse_size(chunk_text, "--chunk");
	check_chunk(s.chunk);
	Device dev(path, false);
	s.size = dev.size();
	s.hashes.resize((s.size + s.chunk - 1) / s.chunk);
	uint64_t eio = 0, first_eio = 0;
	scan_chunks(
		dev, s.size, s.chunk,
		[&](uint64_t i, const uint8_t *p, size_t n) { s.hashes[i] = chunk_hash(p, n); },
		[&](uint64_t i) {
			if (!eio++)
				first_eio = i * s.chunk;
		});
	if (eio)
		fail(kExitEio, path + ": " + std::to_string(eio) +
				       " chunks unreadable (EIO), the first at offset " +
				       std::to_string(first_eio));
	write_sums(s, out);
	return kExitOk;
}

// Runs of chunk indexes, printed as byte ranges.
class RangeList {
public:
	void add(uint64_t index)
	{
		count_++;
		if (!runs_.empty() && runs_.back().second == index) {
			runs_.back().second++;
			return;
		}
		runs_.push_back({index, index + 1});
	}
	uint64_t chunks() const { return count_; }
	size_t runs() const { return runs_.size(); }
	void print(const std::string &prefix, uint64_t chunk, uint64_t size, size_t max) const
	{
		for (size_t i = 0; i < runs_.size() && i < max; i++) {
			uint64_t off = runs_[i].first * chunk;
			uint64_t end = std::min(runs_[i].second * chunk, size);
			std::cout << prefix << range_text(off, end - off) << "\n";
		}
		if (runs_.size() > max)
			std::cout << prefix << "... and " << runs_.size() - max << " more ranges\n";
	}

private:
	std::vector<std::pair<uint64_t, uint64_t>> runs_;
	uint64_t count_ = 0;
};

int cmd_compare(const std::string &path, const std::string &file, uint64_t max_eio,
		size_t max_print)
{
	Sums ref = read_sums(file);
	Device dev(path, false);
	std::string who = "dsn-oracle compare: " + path + ": ";
	bool size_differs = dev.size() != ref.size;
	uint64_t size = std::min(dev.size(), ref.size);
	if (size_differs)
		std::cout << who << "size " << dev.size() << " bytes, reference " << ref.size
			  << " bytes\n";
	// A partial last chunk of the shorter one is not comparable.
	if (size_differs)
		size = size / ref.chunk * ref.chunk;

	RangeList differ, eio;
	scan_chunks(
		dev, size, ref.chunk,
		[&](uint64_t i, const uint8_t *p, size_t n) {
			if (chunk_hash(p, n) != ref.hashes[i])
				differ.add(i);
		},
		[&](uint64_t i) {
			eio.add(i);
			if (eio.chunks() > max_eio) {
				eio.print(who + "unreadable (EIO): ", ref.chunk, size, max_print);
				fail(kExitEio, path + ": more than " + std::to_string(max_eio) +
						       " unreadable chunks: stopped at offset " +
						       std::to_string(i * ref.chunk));
			}
		});
	differ.print(who + "differs: ", ref.chunk, size, max_print);
	eio.print(who + "unreadable (EIO): ", ref.chunk, size, max_print);
	if (differ.chunks() || eio.chunks() || size_differs) {
		std::cout << who << differ.chunks() << " chunks differ in " << differ.runs()
			  << " ranges, " << eio.chunks() << " chunks unreadable (EIO) in "
			  << eio.runs() << " ranges (chunk " << ref.chunk << " bytes, reference "
			  << file << ")\n";
		return differ.chunks() || size_differs ? kExitDiffers : kExitEio;
	}
	std::cout << who << "equal to " << file << " (" << size << " bytes)\n";
	return kExitOk;
}

// --- records --------------------------------------------------------------

std::string level_name(const dynsnap_record_header &h)
{
	if (dynsnap_record_is_control(&h))
		return "control-" + std::to_string(h.level);
	switch (h.level) {
	case DYNSNAP_LEVEL_BLOCK:
		return "block";
	case DYNSNAP_LEVEL_SUB:
		return "sub";
	case DYNSNAP_LEVEL_BIT:
		return "bit";
	}
	return "?" + std::to_string(h.level);
}

// Where a log that dynsnap_log_next() ended at @pos continues with a damaged
// record: its header decodes and carries the expected sequence (at @pos, or
// after a batch's zero padding), only its checksum fails. SIZE_MAX if not.
size_t damaged_record_at(const uint8_t *log, size_t len, size_t pos, uint64_t seq,
			 dynsnap_record_header *h)
{
	size_t aligned = dynsnap_log_padded(pos);
	const size_t candidates[2] = {pos, aligned};

	for (int i = 0; i < 2; i++) {
		size_t at = candidates[i];
		if (i == 1 && (aligned == pos || aligned > len ||
			       !dynsnap_is_zeroed(log + pos, aligned - pos)))
			break;
		if (at + DYNSNAP_REC_HEADER_SIZE <= len &&
		    dynsnap_record_decode_header(log + at, len - at, h) == DSN_OK &&
		    h->sequence == seq && dynsnap_record_size(h) <= len - at)
			return at;
	}
	return SIZE_MAX;
}

int cmd_records(const std::string &path, const std::string &segment_text,
		const std::string &limit_text)
{
	uint64_t segment = parse_size(segment_text, "--segment-bytes");
	if (segment <= DYNSNAP_SEG_HEADER_SIZE || segment % DYNSNAP_SEG_HEADER_SIZE ||
	    segment > (uint64_t(1) << 30))
		fail(kExitError, "--segment-bytes must be a multiple of 4096 above 4096, at most 1 GiB");

	auto sb = dynsnap::store::read_superblock(path);
	if (sb.state != dynsnap::store::SuperblockState::kValid)
		fail(kExitError, path + ": no valid superblock: " +
				 (sb.error.empty() ? dynsnap::store::state_name(sb.state)
						   : sb.error));
	const dynsnap_superblock &s = *sb.superblock;
	bool fast = s.tier == DYNSNAP_TIER_FAST;
	uint64_t start = (fast ? s.layout.fast_data_start : s.layout.slow_data_start) * kSector;
	uint64_t len = (fast ? s.layout.fast_data_sectors : s.layout.slow_data_sectors) * kSector;
	if (!limit_text.empty())
		len = std::min(len, parse_size(limit_text, "--limit"));

	Device dev(path, false);
	if (start + len > dev.size())
		fail(kExitError, path + ": shorter than the delta area its superblock describes");

	// Find the segment headers of this store: any 4 KiB block of the delta
	// area that decodes as one (the segment size is not assumed).
	struct Seg {
		uint64_t off;
		dynsnap_segment_header h;
	};
	std::vector<Seg> segs;
	const uint64_t io = 4 * kIoBytes;
	AlignedBuffer buf(std::max(io, segment));
	for (uint64_t off = 0; off < len; off += io) {
		uint64_t want = std::min(io, len - off) / DYNSNAP_SEG_HEADER_SIZE *
				DYNSNAP_SEG_HEADER_SIZE;
		int64_t got = dev.read(buf.data, want, start + off);
		if (got < int64_t(want))
			fail(got == -EIO ? kExitEio : kExitError,
			     path + ": read at " + range_text(start + off, want) + ": " +
				     (got < 0 ? strerror(int(-got)) : "short read"));
		for (uint64_t b = 0; b < want; b += DYNSNAP_SEG_HEADER_SIZE) {
			const uint8_t *p = buf.data + b;
			dynsnap_segment_header h;
			if (dsn_get_le32(p + 4) == DYNSNAP_SEG_MAGIC &&
			    dynsnap_segment_decode(p, DYNSNAP_SEG_HEADER_SIZE, s.uuid, &h) == DSN_OK)
				segs.push_back({start + off + b, h});
		}
	}

	uint64_t total = 0, total_damaged = 0;
	const uint32_t seed = dynsnap_record_seed(s.uuid, s.tier);
	for (const Seg &seg : segs) {
		uint64_t n = std::min(segment, start + len - seg.off);
		int64_t got = dev.read(buf.data, n, seg.off);
		if (got < int64_t(n))
			fail(got == -EIO ? kExitEio : kExitError,
			     path + ": read at " + range_text(seg.off, n) + ": " +
				     (got < 0 ? strerror(int(-got)) : "short read"));
		const uint8_t *log = buf.data + DYNSNAP_SEG_HEADER_SIZE;
		size_t log_len = n - DYNSNAP_SEG_HEADER_SIZE, pos = 0;
		uint64_t seq = seg.h.first_record_seq, count = 0, damaged = 0;
		dynsnap_record_header h;
		const uint8_t *payload;
		for (;;) {
			bool valid = dynsnap_log_next(log, log_len, &pos, seed, seq, &h,
						      &payload) == DSN_OK;
			if (!valid) {
				size_t at = damaged_record_at(log, log_len, pos, seq, &h);
				if (at == SIZE_MAX)
					break;
				pos = at + dynsnap_record_size(&h);
				damaged++;
			}
			uint64_t at = seg.off + DYNSNAP_SEG_HEADER_SIZE + pos - dynsnap_record_size(&h);
			std::cout << "record offset=" << at << " seq=" << h.sequence
				  << " epoch=" << h.epoch << " level=" << level_name(h)
				  << " location=" << h.location << " length=" << h.length
				  << " stored=" << h.stored_length << " codec=" << h.codec
				  << " segment=" << seg.h.segment_seq
				  << " valid=" << (valid ? "yes" : "no") << "\n";
			seq++;
			count++;
		}
		std::cout << "segment offset=" << seg.off << " seq=" << seg.h.segment_seq
			  << " first_record=" << seg.h.first_record_seq << " records=" << count
			  << " damaged=" << damaged
			  << " log_end=" << seg.off + DYNSNAP_SEG_HEADER_SIZE + pos << "\n";
		total += count;
		total_damaged += damaged;
	}
	std::cerr << "dsn-oracle records: " << path << ": " << segs.size() << " segments, "
		  << total << " records, " << total_damaged << " damaged ("
		  << (fast ? "fast" : "slow") << " delta area at byte "
		  << start << ", " << len << " bytes scanned)\n";
	return kExitOk;
}

// --- flip -----------------------------------------------------------------

int cmd_flip(const std::string &path, const std::string &offset_text, const std::string &xor_text)
{
	uint64_t off = parse_size(offset_text, "offset");
	uint64_t x = parse_size(xor_text, "--xor");
	if (!x || x > 255)
		fail(kExitError, "--xor must be from 1 to 255");
	Device dev(path, true);
	if (off >= dev.size())
		fail(kExitError, path + ": offset " + std::to_string(off) + " is beyond the end (" +
				 std::to_string(dev.size()) + " bytes)");
	uint64_t block = std::max<uint64_t>(kAlign, dev.logical_block());
	uint64_t base = off / block * block;
	uint64_t n = std::min(block, dev.size() - base);
	AlignedBuffer buf(block);
	int64_t got = dev.read(buf.data, block, base);
	if (got < int64_t(n))
		fail(got == -EIO ? kExitEio : kExitError,
		     path + ": read at " + range_text(base, n) + ": " +
			     (got < 0 ? strerror(int(-got)) : "short read"));
	uint8_t before = buf.data[off - base];
	buf.data[off - base] ^= uint8_t(x);
	uint64_t lbs = dev.logical_block();
	int err = dev.write(buf.data, dev.direct() ? (n + lbs - 1) / lbs * lbs : n, base);
	if (!err)
		err = dev.sync();
	if (err)
		fail(errno_exit(-err), path + ": write at " + range_text(base, n) + ": " +
					       strerror(-err));
	char line[64];
	snprintf(line, sizeof(line), "byte %" PRIu64 ": 0x%02x -> 0x%02x", off, before,
		 buf.data[off - base]);
	std::cout << "dsn-oracle flip: " << path << ": " << line << "\n";
	return kExitOk;
}

} // namespace

int main(int argc, char **argv)
{
	CLI::App app{"Test oracle for dynsnap volumes and snapshot views: deterministic\n"
		     "random writes, per-chunk reference sums, comparisons, and a scan of\n"
		     "the delta records on a tier device."};
	app.footer("Sizes and offsets are bytes, with an optional K, M or G suffix.\n"
		   "Exit status: 0 success; 1 compare found different data; 2 bad arguments\n"
		   "or an I/O error; 3 a read or write failed with EIO (for compare: every\n"
		   "chunk that could be read matched); 4 a write failed with ENOSPC.");
	app.require_subcommand(1, 1);

	WriteArgs w;
	auto *write = app.add_subcommand("write", "deterministic pseudo-random writes of mixed sizes");
	write->add_option("device", w.dev, "block device or file")->required();
	write->add_option("--seed", w.seed, "seed: the same seed writes the same data at the same places")
		->required();
	write->add_option("--count", w.count, "number of writes")->required();
	write->add_option("--min-bytes", w.min_bytes, "shortest write, a multiple of 512 (512)");
	write->add_option("--max-bytes", w.max_bytes, "longest write, a multiple of 512 (1M)");
	write->add_option("--range", w.range,
			  "START:LENGTH: bytes the writes stay in (default: the whole device)");
	write->add_option("--sparse", w.sparse,
			  "read each range back and change only this many random bytes in it");
	write->add_flag("--sequential", w.sequential,
			"write back to back from the range start (wrapping) instead of at random offsets");
	write->add_flag("--fsync", w.fsync, "fsync at the end");

	std::string sums_dev, sums_out, chunk = "4096";
	auto *sums = app.add_subcommand("sums", "save per-chunk hashes of a device");
	sums->add_option("device", sums_dev, "block device or file")->required();
	sums->add_option("--chunk", chunk, "chunk size, a multiple of 512 (4096)");
	sums->add_option("-o,--output", sums_out, "reference file to write ('-': stdout)")
		->required();

	std::string cmp_dev, cmp_file;
	uint64_t max_eio = 1024;
	size_t max_print = 8;
	auto *compare = app.add_subcommand("compare", "compare a device with a reference");
	compare->add_option("device", cmp_dev, "block device or file")->required();
	compare->add_option("reference", cmp_file, "file written by 'sums'")->required();
	compare->add_option("--max-eio-chunks", max_eio,
			    "stop after this many unreadable chunks (1024)");
	compare->add_option("--show", max_print, "ranges of each kind to print (8)");

	std::string rec_dev, limit;
	std::string segment = std::to_string(uint64_t(DYNSNAP_SEG_SECTORS) * DYNSNAP_SECTOR_SIZE);
	auto *records = app.add_subcommand(
		"records", "list the delta records in a tier device's delta area");
	records->add_option("device", rec_dev, "fast or slow tier device (or image)")->required();
	records->add_option("--segment-bytes", segment, "segment size (the store's: 4M)");
	records->add_option("--limit", limit, "scan only this many bytes of the delta area");

	std::string flip_dev, flip_off, flip_xor = "0xff";
	auto *flip = app.add_subcommand("flip", "XOR one byte of a device, with direct I/O");
	flip->add_option("device", flip_dev, "block device or file")->required();
	flip->add_option("offset", flip_off, "byte offset")->required();
	flip->add_option("--xor", flip_xor, "value to XOR the byte with (0xff)");

	try {
		app.parse(argc, argv);
	} catch (const CLI::CallForHelp &e) {
		return app.exit(e);
	} catch (const CLI::ParseError &e) {
		std::cerr << "dsn-oracle: " << e.what() << " (try --help)\n";
		return kExitError;
	}

	try {
		if (*write)
			return cmd_write(w);
		if (*sums)
			return cmd_sums(sums_dev, chunk, sums_out);
		if (*compare)
			return cmd_compare(cmp_dev, cmp_file, max_eio, max_print);
		if (*records)
			return cmd_records(rec_dev, segment, limit);
		if (*flip)
			return cmd_flip(flip_dev, flip_off, flip_xor);
	} catch (const Failure &f) {
		std::cout.flush();
		std::cerr << "dsn-oracle: " << f.msg << "\n";
		return f.code;
	}
	return kExitError;
}

// SPDX-License-Identifier: GPL-2.0
#include "volatile_disk.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

namespace dynsnap::volatile_disk {
namespace {

// An entry: this header, then its data.
constexpr char kMagic[8] = {'D', 'S', 'N', 'V', 'J', 'N', 'L', '1'};
struct Header {
	char magic[8];
	uint64_t seq;
	uint64_t offset;
	uint32_t length;
	uint32_t flags;
	uint64_t checksum;	// FNV-1a of seq..flags and the data
};
static_assert(sizeof(Header) == 40);
constexpr uint32_t kDurable = 1;

uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const auto *b = static_cast<const uint8_t *>(p);
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t checksum(const Header &h, const uint8_t *data)
{
	uint64_t c = 0xcbf29ce484222325ull;
	c = fnv1a(c, &h.seq, sizeof(h.seq));
	c = fnv1a(c, &h.offset, sizeof(h.offset));
	c = fnv1a(c, &h.length, sizeof(h.length));
	c = fnv1a(c, &h.flags, sizeof(h.flags));
	return fnv1a(c, data, h.length);
}

int pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t r = ::pwrite(fd, p, n, static_cast<off_t>(off));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += r;
		n -= static_cast<size_t>(r);
		off += static_cast<uint64_t>(r);
	}
	return 0;
}

int pread_all(int fd, uint8_t *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (r == 0)
			return EIO;	// past the end of the medium
		p += r;
		n -= static_cast<size_t>(r);
		off += static_cast<uint64_t>(r);
	}
	return 0;
}

bool medium_size(int fd, uint64_t *size)
{
	struct stat st;
	if (fstat(fd, &st))
		return false;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) == 0;
	*size = static_cast<uint64_t>(st.st_size);
	return true;
}

std::string errno_text(const std::string &what, int err)
{
	return what + ": " + std::strerror(err);
}

} // namespace

int journal_append(int fd, const JournalEntry &e)
{
	Header h{};
	std::memcpy(h.magic, kMagic, sizeof(kMagic));
	h.seq = e.seq;
	h.offset = e.offset;
	h.length = static_cast<uint32_t>(e.data.size());
	h.flags = e.durable ? kDurable : 0;
	h.checksum = checksum(h, e.data.data());
	iovec iov[2] = {{&h, sizeof(h)},
			{const_cast<uint8_t *>(e.data.data()), e.data.size()}};
	ssize_t want = static_cast<ssize_t>(sizeof(h) + e.data.size());
	ssize_t r;
	do {
		r = ::writev(fd, iov, 2);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno;
	return r == want ? 0 : EIO;
}

bool journal_read(const std::string &path, std::vector<JournalEntry> *entries,
		  bool *torn_tail, std::string *error)
{
	entries->clear();
	*torn_tail = false;
	int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return true;	// nothing was ever cached
		*error = errno_text("cannot open journal " + path, errno);
		return false;
	}
	std::vector<uint8_t> all;
	uint8_t chunk[65536];
	for (;;) {
		ssize_t r = ::read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*error = errno_text("cannot read journal " + path, errno);
			::close(fd);
			return false;
		}
		if (r == 0)
			break;
		all.insert(all.end(), chunk, chunk + r);
	}
	::close(fd);

	size_t at = 0;
	while (at < all.size()) {
		Header h;
		size_t left = all.size() - at;
		if (left < sizeof(h)) {
			*torn_tail = true;
			break;
		}
		std::memcpy(&h, &all[at], sizeof(h));
		if (std::memcmp(h.magic, kMagic, sizeof(kMagic))) {
			*error = "journal " + path + ": no entry at byte " + std::to_string(at);
			return false;
		}
		if (left < sizeof(h) + h.length) {
			*torn_tail = true;
			break;
		}
		const uint8_t *data = &all[at + sizeof(h)];
		if (checksum(h, data) != h.checksum) {
			if (left == sizeof(h) + h.length) {
				*torn_tail = true;
				break;
			}
			*error = "journal " + path + ": damaged entry at byte " + std::to_string(at);
			return false;
		}
		JournalEntry e;
		e.seq = h.seq;
		e.offset = h.offset;
		e.durable = h.flags & kDurable;
		e.data.assign(data, data + h.length);
		entries->push_back(std::move(e));
		at += sizeof(h) + h.length;
	}
	return true;
}

std::unique_ptr<VolatileDisk> VolatileDisk::open(const Options &o, std::string *error)
{
	std::unique_ptr<VolatileDisk> d(new VolatileDisk);
	d->cache_bytes_ = o.cache_bytes;
	d->medium_fd_ = ::open(o.medium.c_str(), O_RDWR | O_CLOEXEC);
	if (d->medium_fd_ < 0) {
		*error = errno_text("cannot open " + o.medium, errno);
		return nullptr;
	}
	if (!medium_size(d->medium_fd_, &d->size_)) {
		*error = errno_text("cannot size " + o.medium, errno);
		return nullptr;
	}
	if (o.size_bytes) {
		if (o.size_bytes > d->size_) {
			*error = o.medium + " is smaller than the size to serve";
			return nullptr;
		}
		d->size_ = o.size_bytes;
	}
	d->size_ &= ~static_cast<uint64_t>(kSectorBytes - 1);
	d->journal_fd_ = ::open(o.journal.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (d->journal_fd_ < 0) {
		*error = errno_text("cannot open journal " + o.journal, errno);
		return nullptr;
	}
	struct stat st;
	if (fstat(d->journal_fd_, &st)) {
		*error = errno_text("cannot stat journal " + o.journal, errno);
		return nullptr;
	}
	if (st.st_size) {
		*error = "journal " + o.journal +
			 " holds the cache of a power cut: apply it first (dsn-volatile-cut)";
		return nullptr;
	}
	if (o.drop_trigger.empty() != o.drop_journal.empty()) {
		*error = "a drop trigger needs a drop journal, and the other way round";
		return nullptr;
	}
	if (!o.freeze_trigger.empty() && o.freeze_end <= o.freeze_first) {
		*error = "the range to freeze on is empty";
		return nullptr;
	}
	d->freeze_trigger_ = o.freeze_trigger;
	d->freeze_first_ = o.freeze_first;
	d->freeze_end_ = o.freeze_end;
	if (!o.drop_journal.empty()) {
		d->drop_trigger_ = o.drop_trigger;
		d->drop_fd_ = ::open(o.drop_journal.c_str(),
				     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (d->drop_fd_ < 0) {
			*error = errno_text("cannot open drop journal " + o.drop_journal, errno);
			return nullptr;
		}
	}
	return d;
}

VolatileDisk::~VolatileDisk()
{
	if (medium_fd_ >= 0)
		::close(medium_fd_);
	if (journal_fd_ >= 0)
		::close(journal_fd_);
	if (drop_fd_ >= 0)
		::close(drop_fd_);
}

JournalEntry VolatileDisk::entry(const void *buf, uint32_t len, uint64_t offset, bool durable)
{
	JournalEntry e;
	e.seq = next_seq_++;
	e.offset = offset;
	e.durable = durable;
	const auto *p = static_cast<const uint8_t *>(buf);
	e.data.assign(p, p + len);
	return e;
}

bool VolatileDisk::freeze_now(const void *buf, uint32_t len, uint64_t offset)
{
	if (freeze_trigger_.empty() || !in_range(len, offset) || offset >= freeze_end_ ||
	    offset + len <= freeze_first_ || ::access(freeze_trigger_.c_str(), F_OK))
		return false;
	JournalEntry e = entry(buf, len, offset, false);
	// Best effort: if it cannot be journaled, it is simply lost.
	(void)journal_append(journal_fd_, e);
	int fd = ::open((freeze_trigger_ + ".hit").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		::close(fd);
	return true;
}

bool VolatileDisk::dropping() const
{
	return drop_fd_ >= 0 && ::access(drop_trigger_.c_str(), F_OK) == 0;
}

// Acknowledged, recorded as dropped, and nowhere else: neither cache nor
// medium ever sees it.
int VolatileDisk::drop(const void *buf, uint32_t len, uint64_t offset, bool fua)
{
	JournalEntry e = entry(buf, len, offset, fua);
	if (int r = journal_append(drop_fd_, e))
		return r;
	stats_.dropped++;
	return 0;
}

bool VolatileDisk::in_range(uint32_t len, uint64_t offset) const
{
	return offset % kSectorBytes == 0 && len % kSectorBytes == 0 && offset <= size_ &&
	       len <= size_ - offset;
}

int VolatileDisk::read(void *buf, uint32_t len, uint64_t offset)
{
	if (!in_range(len, offset))
		return EINVAL;
	auto *out = static_cast<uint8_t *>(buf);
	if (int r = pread_all(medium_fd_, out, len, offset))
		return r;
	// Cached sectors are newer than the medium's.
	uint64_t first = offset / kSectorBytes, end = first + len / kSectorBytes;
	for (auto it = newest_.lower_bound(first); it != newest_.end() && it->first < end; ++it) {
		const JournalEntry &e = cache_[it->second];
		std::memcpy(out + (it->first - first) * kSectorBytes,
			    e.data.data() + (it->first * kSectorBytes - e.offset), kSectorBytes);
	}
	return 0;
}

int VolatileDisk::write(const void *buf, uint32_t len, uint64_t offset, bool fua)
{
	if (!in_range(len, offset))
		return EINVAL;
	if (dropping())
		return drop(buf, len, offset, fua);
	JournalEntry e = entry(buf, len, offset, fua);
	// Journaled before it is acknowledged, so a cut can keep it.
	if (int r = journal_append(journal_fd_, e))
		return r;
	if (fua) {
		if (int r = pwrite_all(medium_fd_, e.data.data(), len, offset))
			return r;
		stats_.fua_writes++;
	}
	stats_.writes++;
	size_t index = cache_.size();
	cache_.push_back(std::move(e));
	for (uint64_t s = offset / kSectorBytes; s < (offset + len) / kSectorBytes; s++)
		newest_[s] = index;
	stats_.cached_bytes += len;
	// A full cache writes itself back, as a disk's does.
	return stats_.cached_bytes > cache_bytes_ ? write_back() : 0;
}

int VolatileDisk::flush()
{
	stats_.flushes++;
	return write_back();
}

int VolatileDisk::write_back()
{
	// In order, FUA writes too: an older write must not cover a newer one.
	for (const JournalEntry &e : cache_)
		if (int r = pwrite_all(medium_fd_, e.data.data(), e.data.size(), e.offset))
			return r;
	if (fdatasync(medium_fd_))
		return errno;
	if (ftruncate(journal_fd_, 0))
		return errno;
	cache_.clear();
	newest_.clear();
	stats_.cached_bytes = 0;
	stats_.writebacks++;
	return 0;
}

bool parse_cut_policy(const std::string &name, CutPolicy *policy)
{
	static const std::pair<const char *, CutPolicy> names[] = {
		{"none", CutPolicy::kNone},
		{"all", CutPolicy::kAll},
		{"random", CutPolicy::kRandom},
		{"torn", CutPolicy::kTorn},
	};
	for (const auto &[n, p] : names) {
		if (name == n) {
			*policy = p;
			return true;
		}
	}
	return false;
}

bool parse_mark(const std::string &text, Mark *mark)
{
	size_t colon = text.find(':'), dash = text.find('-', colon == std::string::npos ? 0 : colon);
	if (colon == std::string::npos || !colon || dash == std::string::npos)
		return false;
	auto number = [](const std::string &t, uint64_t *v) {
		if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos ||
		    t.size() > 19)
			return false;
		*v = std::stoull(t);
		return true;
	};
	Mark m;
	m.name = text.substr(0, colon);
	if (!number(text.substr(colon + 1, dash - colon - 1), &m.first) ||
	    !number(text.substr(dash + 1), &m.end) || m.end <= m.first)
		return false;
	*mark = m;
	return true;
}

bool apply_power_cut(const std::string &medium, const std::string &journal,
		     CutPolicy policy, uint64_t seed, CutReport *report,
		     std::string *error, const std::vector<Mark> &marks)
{
	std::vector<JournalEntry> entries;
	*report = CutReport{};
	report->marks.resize(marks.size());
	if (!journal_read(journal, &entries, &report->torn_tail, error))
		return false;
	int fd = ::open(medium.c_str(), O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		*error = errno_text("cannot open " + medium, errno);
		return false;
	}
	std::mt19937_64 rng(seed);
	std::bernoulli_distribution coin(0.5);
	int r = 0;
	report->entries = entries.size();
	for (const JournalEntry &e : entries) {
		std::vector<bool> keep(e.data.size() / kSectorBytes, true);
		if (e.durable) {
			report->durable++;
		} else if (policy == CutPolicy::kNone) {
			std::fill(keep.begin(), keep.end(), false);
		} else if (policy == CutPolicy::kRandom) {
			std::fill(keep.begin(), keep.end(), coin(rng));
		} else if (policy == CutPolicy::kTorn) {
			for (size_t i = 0; i < keep.size(); i++)
				keep[i] = coin(rng);
		}
		size_t kept = static_cast<size_t>(std::count(keep.begin(), keep.end(), true));
		for (size_t k = 0; k < marks.size(); k++) {
			if (e.offset >= marks[k].end || e.offset + e.data.size() <= marks[k].first)
				continue;
			report->marks[k].entries++;
			if (kept != keep.size())
				report->marks[k].lost++;
		}
		if (!e.durable) {
			if (kept == keep.size())
				report->kept++;
			else if (!kept)
				report->lost++;
			else
				report->torn++;
		}
		// Each run of kept sectors in one write.
		for (size_t i = 0; i < keep.size() && !r;) {
			size_t j = i;
			while (j < keep.size() && keep[j] == keep[i])
				j++;
			if (keep[i])
				r = pwrite_all(fd, e.data.data() + i * kSectorBytes,
					       (j - i) * kSectorBytes, e.offset + i * kSectorBytes);
			i = j;
		}
		if (r)
			break;
	}
	if (!r && fdatasync(fd))
		r = errno;
	::close(fd);
	if (r) {
		*error = errno_text("cannot write " + medium, r);
		return false;
	}
	if (truncate(journal.c_str(), 0) && errno != ENOENT) {
		*error = errno_text("cannot empty journal " + journal, errno);
		return false;
	}
	return true;
}

} // namespace dynsnap::volatile_disk

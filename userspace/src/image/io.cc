// SPDX-License-Identifier: GPL-2.0
#include "image/io.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <new>
#include <utility>

#include "util/error.h"

namespace dynsnap::image {

namespace {

uint64_t align_down(uint64_t v, size_t a)
{
	return v / a * a;
}

uint64_t align_up(uint64_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

bool retry(int res)
{
	return res == -EAGAIN || res == -EINTR;
}

Error open_error(const std::string &path, int err)
{
	std::string reason = std::strerror(err);
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		return Error(Exit::kNotFound, "cannot open " + path + ": " + reason);
	case EACCES:
	case EPERM:
		return Error(Exit::kFailed, "cannot open " + path + ": " + reason +
					    ": run as root, or check its permissions");
	case EBUSY:
		return Error(Exit::kBusy, path + " is in use (mounted, or held by another "
					 "program): unmount it or stop that program first");
	case EROFS:
		return Error(Exit::kFailed, "cannot open " + path + " for writing: " + reason);
	}
	return Error(Exit::kFailed, "cannot open " + path + ": " + reason);
}

Error not_a_file(const std::string &path)
{
	return Error(Exit::kUsage, path + " is neither a regular file nor a block device: "
				  "give an image file or a block device");
}

} // namespace

std::string io_error(const std::string &what, const std::string &path, uint64_t offset, int err)
{
	std::string m = "cannot " + what + " " + path + " at byte " + std::to_string(offset) +
			": " + std::strerror(err);
	switch (err) {
	case ENOSPC:
	case EDQUOT:
		return m + ": free some space, or write elsewhere";
	case EIO:
		return m + ": the device failed, see the kernel log (dmesg)";
	case EROFS:
		return m + ": it is read-only";
	}
	return m;
}

void check_ranges(const std::vector<ByteRange> &ranges, uint64_t limit, const std::string &what)
{
	uint64_t prev_end = 0;
	for (const ByteRange &r : ranges) {
		if (!r.length)
			continue;
		if (r.offset > limit || r.length > limit - r.offset)
			throw Error(Exit::kFailed, what + " reach past byte " + std::to_string(limit) +
						   " (range at " + std::to_string(r.offset) + ", " +
						   std::to_string(r.length) + " bytes)");
		if (r.offset < prev_end)
			throw Error(Exit::kFailed, what + " are not sorted or overlap (range at " +
						   std::to_string(r.offset) + " after one ending at " +
						   std::to_string(prev_end) + ")");
		prev_end = r.end();
	}
}

File::File(File &&other) noexcept
{
	*this = std::move(other);
}

File &File::operator=(File &&other) noexcept
{
	if (this != &other) {
		if (fd_ >= 0)
			::close(fd_);
		fd_ = std::exchange(other.fd_, -1);
		path_ = std::move(other.path_);
		size_ = other.size_;
		direct_ = other.direct_;
		block_ = other.block_;
		align_ = other.align_;
		dev_ = other.dev_;
		ino_ = other.ino_;
	}
	return *this;
}

File::~File()
{
	if (fd_ >= 0)
		::close(fd_);
}

void File::stat_it()
{
	struct stat st;
	if (::fstat(fd_, &st))
		throw Error(Exit::kFailed, "cannot stat " + path_ + ": " + std::strerror(errno));
	dev_ = st.st_dev;
	ino_ = st.st_ino;
	if (S_ISREG(st.st_mode)) {
		size_ = st.st_size;
		return;
	}
	if (!S_ISBLK(st.st_mode))
		throw not_a_file(path_);
	block_ = true;
	// Every node of one block device names the same device.
	dev_ = st.st_rdev;
	ino_ = 0;
	uint64_t bytes = 0;
	if (::ioctl(fd_, BLKGETSIZE64, &bytes))
		throw Error(Exit::kFailed, "cannot read the size of " + path_ + ": " +
					   std::strerror(errno));
	size_ = bytes;
	int logical = 0;
	if (!::ioctl(fd_, BLKSSZGET, &logical) && logical > 0)
		align_ = std::max<size_t>(align_, logical);
}

File File::open_read(const std::string &path, bool direct)
{
	File f;
	f.path_ = path;
	f.fd_ = direct ? ::open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC) : -1;
	f.direct_ = f.fd_ >= 0;
	if (!direct || (f.fd_ < 0 && errno == EINVAL))	// e.g. tmpfs: no direct I/O
		f.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (f.fd_ < 0)
		throw open_error(path, errno);
	f.stat_it();
	if (f.align_ > kMaxAlign)
		throw Error(Exit::kFailed, path + " has " + std::to_string(f.align_) +
					   "-byte logical blocks: at most 65536 are supported");
	// Some file systems take O_DIRECT at open and refuse the reads.
	if (f.direct_ && f.size_ >= f.align_) {
		AlignedBuffer probe(f.align_);
		if (::pread(f.fd_, probe.data(), f.align_, 0) < 0 && errno == EINVAL) {
			int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				throw open_error(path, errno);
			::close(f.fd_);
			f.fd_ = fd;
			f.direct_ = false;
		}
	}
	return f;
}

File File::open_write(const std::string &path)
{
	struct stat st;
	if (::stat(path.c_str(), &st))
		throw open_error(path, errno);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		throw not_a_file(path);
	// O_EXCL on a block device: refused while mounted or held.
	int flags = O_WRONLY | O_CLOEXEC | (S_ISBLK(st.st_mode) ? O_EXCL : 0);
	File f;
	f.path_ = path;
	f.fd_ = ::open(path.c_str(), flags);
	if (f.fd_ < 0)
		throw open_error(path, errno);
	f.stat_it();
	return f;
}

File File::adopt(int fd, const std::string &path)
{
	File f;
	f.fd_ = fd;
	f.path_ = path;
	f.stat_it();
	return f;
}

void File::sync() const
{
	if (::fsync(fd_))
		throw Error(Exit::kFailed, io_error("sync", path_, size_, errno));
}

Ring::Ring(unsigned entries)
{
	int r = io_uring_queue_init(entries, &ring_, 0);
	if (r < 0)
		throw Error(Exit::kFailed, std::string("cannot set up io_uring: ") +
					   std::strerror(-r) +
					   ": is it disabled (sysctl kernel.io_uring_disabled) "
					   "or blocked by a seccomp filter?");
}

Ring::~Ring()
{
	io_uring_queue_exit(&ring_);
}

namespace {

io_uring_sqe *get_sqe(io_uring *ring, unsigned &queued)
{
	io_uring_sqe *sqe = io_uring_get_sqe(ring);
	if (!sqe) {
		// Full: hand what is queued to the kernel to make room.
		io_uring_submit(ring);
		queued = 0;
		sqe = io_uring_get_sqe(ring);
	}
	if (!sqe)
		throw Error(Exit::kFailed, "io_uring submission queue full");
	return sqe;
}

} // namespace

void Ring::read(int fd, void *buf, size_t len, uint64_t offset, uint64_t tag)
{
	io_uring_sqe *sqe = get_sqe(&ring_, queued_);
	io_uring_prep_read(sqe, fd, buf, len, offset);
	io_uring_sqe_set_data64(sqe, tag);
	queued_++;
}

void Ring::write(int fd, const void *buf, size_t len, uint64_t offset, uint64_t tag)
{
	io_uring_sqe *sqe = get_sqe(&ring_, queued_);
	io_uring_prep_write(sqe, fd, buf, len, offset);
	io_uring_sqe_set_data64(sqe, tag);
	queued_++;
}

Ring::Completion Ring::wait()
{
	if (queued_) {
		int r = io_uring_submit(&ring_);
		if (r < 0)
			throw Error(Exit::kFailed, std::string("cannot submit I/O: ") +
						   std::strerror(-r));
		queued_ = 0;
	}
	io_uring_cqe *cqe = nullptr;
	int r;
	while ((r = io_uring_wait_cqe(&ring_, &cqe)) == -EINTR)
		;
	if (r < 0)
		throw Error(Exit::kFailed, std::string("cannot wait for I/O: ") + std::strerror(-r));
	Completion c{io_uring_cqe_get_data64(cqe), cqe->res};
	io_uring_cqe_seen(&ring_, cqe);
	return c;
}

void Ring::drain(unsigned &in_flight)
{
	while (in_flight) {
		try {
			wait();
		} catch (const Error &) {
			break;
		}
		in_flight--;
	}
}

RangeReader::RangeReader(const File &a, const std::vector<ByteRange> &ranges)
	: files_{&a}, ranges_(ranges), slots_(kDepth), ring_(kDepth)
{
	for (Slot &s : slots_)
		s.parts[0].buf = std::make_unique<AlignedBuffer>(kChunk);
}

RangeReader::RangeReader(const File &a, const File &b, const std::vector<ByteRange> &ranges)
	: files_{&a, &b}, ranges_(ranges), slots_(kDepth), ring_(2 * kDepth)
{
	for (Slot &s : slots_)
		for (Part &p : s.parts)
			p.buf = std::make_unique<AlignedBuffer>(kChunk);
}

RangeReader::~RangeReader()
{
	ring_.drain(in_flight_);
}

bool RangeReader::next_piece(uint64_t &offset, size_t &length)
{
	while (range_ < ranges_.size()) {
		const ByteRange &r = ranges_[range_];
		pos_ = std::max(pos_, r.offset);
		if (pos_ < r.end()) {
			uint64_t end = std::min(r.end(), align_down(pos_, kChunk) + kChunk);
			offset = pos_;
			length = end - pos_;
			pos_ = end;
			return true;
		}
		range_++;
	}
	return false;
}

void RangeReader::submit_part(unsigned nr_slot, unsigned which)
{
	Part &p = slots_[nr_slot].parts[which];
	ring_.read(files_[which]->fd(), p.buf->data() + p.got, p.len - p.got, p.start + p.got,
		   nr_slot * 2 + which);
	in_flight_++;
}

void RangeReader::start(Slot &slot, unsigned nr_slot)
{
	for (unsigned w = 0; w < files_.size(); w++) {
		Part &p = slot.parts[w];
		size_t a = files_[w]->align();
		p.start = align_down(slot.offset, a);
		p.len = align_up(slot.offset + slot.length, a) - p.start;
		p.want = slot.offset + slot.length - p.start;
		p.got = 0;
		p.done = false;
		submit_part(nr_slot, w);
	}
}

void RangeReader::complete(const Ring::Completion &c)
{
	in_flight_--;
	unsigned nr_slot = c.tag / 2, which = c.tag % 2;
	Part &p = slots_[nr_slot].parts[which];
	const File &f = *files_[which];
	if (retry(c.res)) {
		submit_part(nr_slot, which);
		return;
	}
	if (c.res < 0)
		throw Error(Exit::kFailed, io_error("read", f.path(), p.start + p.got, -c.res));
	p.got += c.res;
	if (p.got >= p.want) {
		p.done = true;
		return;
	}
	// Nothing more, or a direct read that stopped inside a block: the end.
	if (!c.res || p.got % f.align())
		throw Error(Exit::kFailed, f.path() + " ends at byte " +
					   std::to_string(p.start + p.got) + ", before byte " +
					   std::to_string(p.start + p.want) +
					   ": it is shorter than the data asked for");
	submit_part(nr_slot, which);
}

bool RangeReader::next(Piece &piece)
{
	uint64_t offset;
	size_t length;
	// The slot of the piece handed out last is free again.
	while (issued_ - head_ < kDepth && next_piece(offset, length)) {
		unsigned nr_slot = issued_ % kDepth;
		slots_[nr_slot].offset = offset;
		slots_[nr_slot].length = length;
		start(slots_[nr_slot], nr_slot);
		issued_++;
	}
	if (head_ == issued_)
		return false;
	Slot &s = slots_[head_ % kDepth];
	auto ready = [&] {
		for (unsigned w = 0; w < files_.size(); w++)
			if (!s.parts[w].done)
				return false;
		return true;
	};
	while (!ready())
		complete(ring_.wait());
	piece.offset = s.offset;
	piece.length = s.length;
	for (unsigned w = 0; w < 2; w++)
		piece.data[w] = w < files_.size() ?
			s.parts[w].buf->data() + (s.offset - s.parts[w].start) : nullptr;
	head_++;
	return true;
}

Writer::Writer(const File &file) : file_(file), slots_(kDepth), ring_(kDepth)
{
	for (unsigned i = 0; i < kDepth; i++) {
		slots_[i].buf = std::make_unique<AlignedBuffer>(kChunk);
		free_.push_back(kDepth - 1 - i);
	}
}

Writer::~Writer()
{
	drain();
}

void Writer::drain()
{
	ring_.drain(in_flight_);
}

void Writer::submit_rest(unsigned nr_slot)
{
	Slot &s = slots_[nr_slot];
	ring_.write(file_.fd(), s.buf->data() + s.done, s.len - s.done, s.offset + s.done, nr_slot);
	in_flight_++;
}

void Writer::submit(unsigned nr_slot)
{
	slots_[nr_slot].done = 0;
	if (!slots_[nr_slot].len) {
		free_.push_back(nr_slot);
		return;
	}
	submit_rest(nr_slot);
}

void Writer::complete_one()
{
	Ring::Completion c = ring_.wait();
	in_flight_--;
	unsigned nr_slot = c.tag;
	Slot &s = slots_[nr_slot];
	if (retry(c.res)) {
		submit_rest(nr_slot);
		return;
	}
	if (c.res <= 0) {
		free_.push_back(nr_slot);
		// A write that writes nothing: the device is full.
		throw Error(Exit::kFailed, io_error("write", file_.path(), s.offset + s.done,
						    c.res ? -c.res : ENOSPC));
	}
	s.done += c.res;
	if (s.done < s.len)
		submit_rest(nr_slot);
	else
		free_.push_back(nr_slot);
}

unsigned Writer::take_free_slot()
{
	while (free_.empty())
		complete_one();
	unsigned nr_slot = free_.back();
	free_.pop_back();
	return nr_slot;
}

void Writer::write(uint64_t offset, const uint8_t *data, size_t len)
{
	while (len) {
		if (staging_ >= 0) {
			Slot &s = slots_[staging_];
			if (s.offset + s.len == offset && s.len < kChunk) {
				size_t n = std::min(len, kChunk - s.len);
				std::memcpy(s.buf->data() + s.len, data, n);
				s.len += n;
				offset += n;
				data += n;
				len -= n;
				if (s.len == kChunk) {
					submit(staging_);
					staging_ = -1;
				}
				continue;
			}
			submit(staging_);
			staging_ = -1;
		}
		unsigned nr_slot = take_free_slot();
		slots_[nr_slot].offset = offset;
		slots_[nr_slot].len = 0;
		staging_ = nr_slot;
	}
}

void Writer::append(const uint8_t *data, size_t len)
{
	write(append_pos_, data, len);
	append_pos_ += len;
}

void Writer::sync()
{
	if (staging_ >= 0) {
		submit(staging_);
		staging_ = -1;
	}
	while (in_flight_)
		complete_one();
	file_.sync();
}

Output::Output(const std::string &path, bool overwrite) : path_(path)
{
	struct stat st;
	bool exists = !::stat(path.c_str(), &st);
	if (!exists && errno != ENOENT)
		throw open_error(path, errno);
	if (exists && S_ISBLK(st.st_mode)) {
		file_ = File::open_write(path);
		return;
	}
	if (exists && !S_ISREG(st.st_mode))
		throw not_a_file(path);
	if (exists && st.st_size > 0 && !overwrite)
		throw Error(Exit::kUsage, path + " exists and is not empty: remove it, choose "
					 "another name, or ask for it to be overwritten");
	// Through a symbolic link, the file it names is replaced.
	final_ = path;
	if (exists) {
		char resolved[PATH_MAX];
		if (::realpath(path.c_str(), resolved))
			final_ = resolved;
	}
	std::string tmpl = final_ + ".partial-XXXXXX";
	int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
	if (fd < 0)
		throw Error(errno == ENOENT || errno == ENOTDIR ? Exit::kNotFound : Exit::kFailed,
			    "cannot create " + path + ": " + std::strerror(errno));
	temp_ = tmpl;
	try {
		file_ = File::adopt(fd, path);
	} catch (...) {
		::unlink(temp_.c_str());
		throw;
	}
}

Output::~Output()
{
	if (!committed_ && !temp_.empty())
		::unlink(temp_.c_str());
}

void Output::commit(uint64_t size)
{
	if (temp_.empty()) {
		file_.sync();
		committed_ = true;
		return;
	}
	if (::ftruncate(file_.fd(), size))
		throw Error(Exit::kFailed, io_error("extend", path_, size, errno));
	file_.sync();
	if (::rename(temp_.c_str(), final_.c_str()))
		throw Error(Exit::kFailed, "cannot rename " + temp_ + " to " + final_ + ": " +
					   std::strerror(errno));
	committed_ = true;
	std::string dir = final_.substr(0, final_.find_last_of('/') + 1);
	int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		int r = ::fsync(dfd);
		int err = errno;
		::close(dfd);
		if (r)
			throw Error(Exit::kFailed, "cannot sync the directory of " + path_ + ": " +
						   std::strerror(err));
	}
}

} // namespace dynsnap::image

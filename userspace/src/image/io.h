// SPDX-License-Identifier: GPL-2.0
// Bulk I/O of volume images with io_uring: the files and devices that
// images and streams are read from and written to, an ordered reader of
// byte ranges with several large reads in flight, a writer that keeps
// several writes in flight, and the output file that appears only when it
// is complete. What copy.h, stream_file.h and compare.h are built on.
//
// Every failure is a dynsnap::Error with a one-line message that names the
// file, what went wrong, and what to do.
#pragma once

#include <liburing.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "util/aligned_buffer.h"
#include "util/byte_range.h"

namespace dynsnap::image {

// Bytes per read or write request, and the grid pieces are cut on.
inline constexpr size_t kChunk = 1 << 20;
// Requests in flight per file.
inline constexpr unsigned kDepth = 8;
// Offsets, lengths and buffers of O_DIRECT requests are multiples of
// kDirectAlign (util/aligned_buffer.h), or of the device's logical block
// size when larger, up to the alignment of buffers.
inline constexpr size_t kMaxAlign = kBufferAlign;

// A range of a volume or image, in bytes (util/byte_range.h).
using dynsnap::ByteRange;

// Progress of a long operation: @done of @total bytes. Called on the
// caller's thread, with @done never decreasing, the last call with @done ==
// @total once the work is durable.
using Progress = std::function<void(uint64_t done, uint64_t total)>;

// Check that @ranges are sorted, do not overlap and end by @limit; throws
// Error naming @what otherwise. Empty ranges are allowed.
void check_ranges(const std::vector<ByteRange> &ranges, uint64_t limit,
		  const std::string &what);

// An open regular file or block device.
class File {
public:
	File() = default;	// not open
	// For reading: O_DIRECT when the file takes it (a block device is then
	// read from the media, not from a stale page cache), else buffered, as
	// on tmpfs before Linux 6.6; always buffered when @direct is false.
	// Throws Error(kNotFound) when @path does not exist.
	static File open_read(const std::string &path, bool direct = true);
	// An existing file or block device for writing in place, buffered. A
	// block device is opened exclusively: one that is mounted or in use is
	// refused with Error(kBusy).
	static File open_write(const std::string &path);
	// Adopt @fd (closed with the File) for writing @path.
	static File adopt(int fd, const std::string &path);

	File(File &&other) noexcept;
	File &operator=(File &&other) noexcept;
	~File();

	int fd() const { return fd_; }
	const std::string &path() const { return path_; }
	uint64_t size() const { return size_; }
	bool direct() const { return direct_; }
	bool is_block_device() const { return block_; }
	// What offsets and lengths of reads must be multiples of: 1 when
	// buffered.
	size_t align() const { return direct_ ? align_ : 1; }
	// Device and inode, to tell whether two paths name one file (for a
	// block device: its device number, and 0).
	dev_t dev() const { return dev_; }
	ino_t ino() const { return ino_; }

	// fsync; throws Error.
	void sync() const;

private:
	void stat_it();

	int fd_ = -1;
	std::string path_;
	uint64_t size_ = 0;
	bool direct_ = false;
	bool block_ = false;
	size_t align_ = kDirectAlign;
	dev_t dev_ = 0;
	ino_t ino_ = 0;
};

// One io_uring instance. Requests carry a tag that comes back with their
// completion.
class Ring {
public:
	// Room for @entries requests in flight. Throws Error when io_uring is
	// not available.
	explicit Ring(unsigned entries);
	~Ring();
	Ring(const Ring &) = delete;
	Ring &operator=(const Ring &) = delete;

	void read(int fd, void *buf, size_t len, uint64_t offset, uint64_t tag);
	void write(int fd, const void *buf, size_t len, uint64_t offset, uint64_t tag);

	struct Completion {
		uint64_t tag;
		int res;	// bytes, or -errno
	};
	// Submit what is queued and wait for the next completion.
	Completion wait();
	// Wait for all @in_flight requests, counting them down, before their
	// buffers go: the kernel may still write into them.
	void drain(unsigned &in_flight);

private:
	io_uring ring_;
	unsigned queued_ = 0;
};

// Reads the bytes of sorted, non-overlapping @ranges from one file, or
// the same bytes from two files side by side, in pieces of at most kChunk
// bytes that never cross a multiple of kChunk, with up to kDepth pieces in
// flight, and hands the pieces out in order. Short reads are continued; a
// file that ends before a range does is an Error.
class RangeReader {
public:
	struct Piece {
		uint64_t offset;
		size_t length;
		const uint8_t *data[2];	// [1] only when reading two files
	};

	RangeReader(const File &a, const std::vector<ByteRange> &ranges);
	RangeReader(const File &a, const File &b, const std::vector<ByteRange> &ranges);
	~RangeReader();
	RangeReader(const RangeReader &) = delete;
	RangeReader &operator=(const RangeReader &) = delete;

	// The next piece, false after the last one. Its data stay valid until
	// the next call.
	bool next(Piece &piece);

private:
	struct Part {
		uint64_t start = 0;	// file offset of buf[0]
		size_t want = 0;	// bytes of the window the piece needs
		size_t len = 0;		// bytes of the window read
		size_t got = 0;
		bool done = false;
		std::unique_ptr<AlignedBuffer> buf;
	};
	struct Slot {
		uint64_t offset = 0;
		size_t length = 0;
		Part parts[2];
	};

	void start(Slot &slot, unsigned nr_slot);
	void submit_part(unsigned nr_slot, unsigned which);
	void complete(const Ring::Completion &c);
	bool next_piece(uint64_t &offset, size_t &length);

	std::vector<const File *> files_;
	std::vector<ByteRange> ranges_;
	size_t range_ = 0;	// range the next piece comes from
	uint64_t pos_ = 0;	// its offset
	std::vector<Slot> slots_;
	uint64_t issued_ = 0;	// pieces started
	uint64_t head_ = 0;	// pieces handed out
	unsigned in_flight_ = 0;
	Ring ring_;
};

// Writes to a file with up to kDepth writes of up to kChunk bytes in
// flight. Data are copied: the caller's buffer is free on return.
// Consecutive writes that follow each other in the file are gathered into
// one request.
class Writer {
public:
	explicit Writer(const File &file);
	// Waits for the writes in flight, without reporting their errors: call
	// sync() to know the data are written.
	~Writer();
	Writer(const Writer &) = delete;
	Writer &operator=(const Writer &) = delete;

	void write(uint64_t offset, const uint8_t *data, size_t len);
	// write() at the end of what was appended so far.
	void append(const uint8_t *data, size_t len);
	uint64_t appended() const { return append_pos_; }
	// Wait for every write, then fsync. Throws the first error.
	void sync();

private:
	struct Slot {
		uint64_t offset = 0;
		size_t len = 0;
		size_t done = 0;
		std::unique_ptr<AlignedBuffer> buf;
	};

	void submit(unsigned nr_slot);
	void submit_rest(unsigned nr_slot);
	void complete_one();
	unsigned take_free_slot();
	void drain();

	const File &file_;
	std::vector<Slot> slots_;
	std::vector<unsigned> free_;
	int staging_ = -1;	// slot gathering data, not yet submitted
	unsigned in_flight_ = 0;
	uint64_t append_pos_ = 0;
	Ring ring_;
};

// Where a whole image or stream is written: a regular file, written under
// a temporary name beside it and renamed over it only once complete and
// synced, so FILE never holds half an image; or an existing block device,
// written in place. Created files are mode 0600: they hold volume data.
class Output {
public:
	// Refuses an existing non-empty regular file unless @overwrite, with
	// Error(kUsage): it is the caller's word that is missing, nothing was
	// touched. Anything but a regular file, a block device or a missing
	// name is refused too.
	Output(const std::string &path, bool overwrite);
	// Not committed: the temporary file is removed, FILE left as it was.
	~Output();
	Output(const Output &) = delete;
	Output &operator=(const Output &) = delete;

	const File &file() const { return file_; }
	const std::string &path() const { return path_; }
	// A new regular file: what is not written reads as zeroes.
	bool sparse() const { return !temp_.empty(); }
	// After the Writer's sync(): set a regular file's length to @size, give
	// it its name, and sync the directory.
	void commit(uint64_t size);

private:
	std::string path_;	// as given
	std::string final_;	// what the temporary file is renamed to
	std::string temp_;	// empty for a block device
	File file_;
	bool committed_ = false;
};

// A one-line message for a failed request: what was done to which file at
// which byte, the system's reason, and what to do about it.
std::string io_error(const std::string &what, const std::string &path, uint64_t offset, int err);

} // namespace dynsnap::image

// SPDX-License-Identifier: GPL-2.0
#include "image/io.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <linux/magic.h>

#include "image/testing/files.h"
#include "util/error.h"

namespace dynsnap::image {
namespace {

using testing::Bytes;
using testing::TempDir;

// Everything a reader hands out, joined, checking that pieces come in
// order, inside the ranges, and never across a multiple of kChunk.
Bytes read_all(RangeReader &reader, const std::vector<ByteRange> &ranges)
{
	Bytes out;
	RangeReader::Piece p;
	size_t r = 0;
	uint64_t next = ranges.empty() ? 0 : ranges[0].offset;
	while (reader.next(p)) {
		while (r < ranges.size() && next >= ranges[r].end()) {
			r++;
			if (r < ranges.size())
				next = ranges[r].offset;
		}
		EXPECT_LT(r, ranges.size());
		EXPECT_EQ(p.offset, next);
		EXPECT_GT(p.length, 0u);
		EXPECT_LE(p.offset + p.length, ranges[r].end());
		EXPECT_EQ(p.offset / kChunk, (p.offset + p.length - 1) / kChunk) << p.offset;
		out.insert(out.end(), p.data[0], p.data[0] + p.length);
		next = p.offset + p.length;
	}
	EXPECT_FALSE(reader.next(p));
	return out;
}

Bytes expected(const Bytes &file, const std::vector<ByteRange> &ranges)
{
	Bytes out;
	for (const ByteRange &r : ranges)
		out.insert(out.end(), file.begin() + r.offset, file.begin() + r.end());
	return out;
}

TEST(ImageIo, ReadsRangesInOrderInPieces)
{
	TempDir dir;
	const Bytes data = testing::pattern(3 * kChunk + 517, 1);
	testing::write_file(dir.file("a"), data);
	File f = File::open_read(dir.file("a"));
	EXPECT_EQ(f.size(), data.size());
	EXPECT_FALSE(f.is_block_device());

	const std::vector<ByteRange> ranges = {
		{0, 1},
		{1, 0},
		{4095, 2},
		{kChunk - 3, 6},		// across a chunk boundary
		{kChunk + 100, kChunk},	// two pieces
		{2 * kChunk + 100, 0},
		{3 * kChunk - 1, 1},
		{3 * kChunk, 517},		// the unaligned tail
	};
	RangeReader reader(f, ranges);
	EXPECT_EQ(read_all(reader, ranges), expected(data, ranges));

	const std::vector<ByteRange> whole = {{0, data.size()}};
	RangeReader all(f, whole);
	EXPECT_EQ(read_all(all, whole), data);

	RangeReader none(f, {});
	RangeReader::Piece p;
	EXPECT_FALSE(none.next(p));
}

TEST(ImageIo, ManyPiecesKeepTheirOrder)
{
	TempDir dir;
	const Bytes data = testing::pattern(5 * kChunk, 2);
	testing::write_file(dir.file("a"), data);
	File f = File::open_read(dir.file("a"));
	// More small ranges than requests in flight.
	std::vector<ByteRange> ranges;
	for (uint64_t off = 7; off + 300 < data.size(); off += 65536 + 13)
		ranges.push_back({off, 300});
	RangeReader reader(f, ranges);
	EXPECT_EQ(read_all(reader, ranges), expected(data, ranges));
}

TEST(ImageIo, ReadsTwoFilesSideBySide)
{
	TempDir dir;
	const Bytes a = testing::pattern(2 * kChunk + 1, 3);
	const Bytes b = testing::pattern(2 * kChunk + 1, 4);
	testing::write_file(dir.file("a"), a);
	testing::write_file(dir.file("b"), b);
	File fa = File::open_read(dir.file("a"));
	File fb = File::open_read(dir.file("b"));
	RangeReader reader(fa, fb, {{5, 2 * kChunk - 4}});
	RangeReader::Piece p;
	uint64_t next = 5;
	while (reader.next(p)) {
		EXPECT_EQ(p.offset, next);
		EXPECT_EQ(memcmp(p.data[0], &a[p.offset], p.length), 0);
		EXPECT_EQ(memcmp(p.data[1], &b[p.offset], p.length), 0);
		next += p.length;
	}
	EXPECT_EQ(next, 2 * kChunk + 1);
}

TEST(ImageIo, AFileThatEndsTooSoonIsAnError)
{
	TempDir dir;
	testing::write_file(dir.file("a"), testing::pattern(10000, 5));
	File f = File::open_read(dir.file("a"));
	RangeReader reader(f, {{9000, 2000}});
	RangeReader::Piece p;
	try {
		reader.next(p);
		FAIL() << "no error";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kFailed);
		EXPECT_NE(std::string(e.what()).find(dir.file("a") + " ends at byte 10000"),
			  std::string::npos) << e.what();
	}
}

TEST(ImageIo, ReadsBuffered)
{
	TempDir dir;
	const Bytes data = testing::pattern(2 * kChunk + 3, 6);
	testing::write_file(dir.file("a"), data);
	File f = File::open_read(dir.file("a"), false);
	EXPECT_FALSE(f.direct());
	EXPECT_EQ(f.align(), 1u);
	const std::vector<ByteRange> ranges = {{1, 2}, {kChunk - 1, 4}, {2 * kChunk - 5, 8}};
	RangeReader reader(f, ranges);
	EXPECT_EQ(read_all(reader, ranges), expected(data, ranges));

	// Side by side with one read directly.
	File d = File::open_read(dir.file("a"));
	RangeReader both(d, f, ranges);
	RangeReader::Piece p;
	while (both.next(p))
		EXPECT_EQ(memcmp(p.data[0], p.data[1], p.length), 0);
}

// tmpfs took O_DIRECT only from Linux 6.6: either way, reads work.
TEST(ImageIo, ReadsFromTmpfs)
{
	struct statfs fs;
	if (statfs("/dev/shm", &fs) || fs.f_type != TMPFS_MAGIC)
		GTEST_SKIP() << "no tmpfs at /dev/shm";
	TempDir dir("/dev/shm");
	const Bytes data = testing::pattern(kChunk + 3, 6);
	testing::write_file(dir.file("a"), data);
	File f = File::open_read(dir.file("a"));
	const std::vector<ByteRange> ranges = {{1, 2}, {kChunk - 1, 4}};
	RangeReader reader(f, ranges);
	EXPECT_EQ(read_all(reader, ranges), expected(data, ranges));
}

TEST(ImageIo, OpenErrorsSayWhat)
{
	try {
		File::open_read("/nonexistent/dynsnap-image");
		FAIL() << "no error";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kNotFound);
		EXPECT_STREQ(e.what(),
			     "cannot open /nonexistent/dynsnap-image: No such file or directory");
	}
	try {
		File::open_read("/dev/null");
		FAIL() << "no error";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kUsage);
		EXPECT_NE(std::string(e.what()).find("neither a regular file nor a block device"),
			  std::string::npos);
	}
	EXPECT_THROW(File::open_write("/nonexistent/dynsnap-image"), Error);
}

TEST(ImageIo, WriterGathersAndScatters)
{
	TempDir dir;
	Bytes want(3 * kChunk + 10, 0xee);
	testing::write_file(dir.file("a"), want);
	File f = File::open_write(dir.file("a"));
	{
		Writer w(f);
		const Bytes x = testing::pattern(2 * kChunk + 5, 7);
		// Appends of odd sizes, gathered into chunks.
		for (size_t off = 0; off < x.size();) {
			size_t n = std::min<size_t>(x.size() - off, 1 + off % 70001);
			w.append(&x[off], n);
			off += n;
		}
		EXPECT_EQ(w.appended(), x.size());
		std::copy(x.begin(), x.end(), want.begin());
		// Scattered writes, one of them back over what was appended.
		const Bytes y = testing::pattern(5000, 8);
		w.write(3 * kChunk + 5, y.data(), 5);
		w.write(100, y.data(), 5000);
		w.write(kChunk - 1, y.data() + 7, 2);
		std::copy(y.begin(), y.begin() + 5, want.begin() + 3 * kChunk + 5);
		std::copy(y.begin(), y.end(), want.begin() + 100);
		std::copy(y.begin() + 7, y.begin() + 9, want.begin() + kChunk - 1);
		w.sync();
	}
	EXPECT_EQ(testing::read_file(dir.file("a")), want);
}

TEST(ImageIo, CheckRanges)
{
	EXPECT_NO_THROW(check_ranges({}, 0, "r"));
	EXPECT_NO_THROW(check_ranges({{0, 10}, {10, 5}, {20, 0}, {15, 0}, {30, 70}}, 100, "r"));
	EXPECT_NO_THROW(check_ranges({{100, 0}}, 100, "r"));
	EXPECT_THROW(check_ranges({{0, 10}, {9, 5}}, 100, "r"), Error);
	EXPECT_THROW(check_ranges({{50, 10}, {0, 5}}, 100, "r"), Error);
	EXPECT_THROW(check_ranges({{95, 6}}, 100, "r"), Error);
	EXPECT_THROW(check_ranges({{~0ull, 2}}, 100, "r"), Error);
	try {
		check_ranges({{0, 10}, {5, 1}}, 100, "changed ranges");
		FAIL() << "no error";
	} catch (const Error &e) {
		EXPECT_STREQ(e.what(), "changed ranges are not sorted or overlap "
				       "(range at 5 after one ending at 10)");
	}
}

TEST(ImageIo, OutputAppearsOnlyWhenCommitted)
{
	TempDir dir;
	const std::string path = dir.file("out");
	{
		Output out(path, false);
		EXPECT_TRUE(out.sparse());
		Writer w(out.file());
		w.append(reinterpret_cast<const uint8_t *>("abc"), 3);
		w.sync();
		EXPECT_EQ(dir.list().size(), 1u);	// the temporary file
		EXPECT_FALSE(std::filesystem::exists(path));
		// Not committed: gone.
	}
	EXPECT_TRUE(dir.list().empty());

	{
		Output out(path, false);
		Writer w(out.file());
		w.append(reinterpret_cast<const uint8_t *>("abc"), 3);
		w.sync();
		out.commit(4096);
	}
	Bytes want(4096, 0);
	want[0] = 'a', want[1] = 'b', want[2] = 'c';
	EXPECT_EQ(testing::read_file(path), want);
	EXPECT_EQ(dir.list(), std::vector<std::string>{"out"});
	struct stat st;
	ASSERT_EQ(stat(path.c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(ImageIo, OutputRefusesToReplaceUnlessAsked)
{
	TempDir dir;
	const std::string path = dir.file("out");
	testing::write_file(path, {1, 2, 3});
	try {
		Output out(path, false);
		FAIL() << "no error";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kUsage);
		EXPECT_EQ(std::string(e.what()), path + " exists and is not empty: remove it, "
						       "choose another name, or ask for it to be overwritten");
	}
	EXPECT_EQ(testing::read_file(path), (Bytes{1, 2, 3}));

	// Replaced only once committed.
	{
		Output out(path, true);
		Writer w(out.file());
		w.append(reinterpret_cast<const uint8_t *>("xy"), 2);
		w.sync();
		EXPECT_EQ(testing::read_file(path), (Bytes{1, 2, 3}));
		out.commit(2);
	}
	EXPECT_EQ(testing::read_file(path), (Bytes{'x', 'y'}));

	// An empty file is no loss.
	testing::write_file(dir.file("empty"), {});
	EXPECT_NO_THROW(Output(dir.file("empty"), false));
	EXPECT_THROW(Output(dir.path(), true), Error);	// a directory
	EXPECT_THROW(Output("/dev/null", true), Error);	// a character device
	try {
		Output out(dir.file("no/such/dir"), false);
		FAIL() << "no error";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kNotFound);
	}
}

} // namespace
} // namespace dynsnap::image

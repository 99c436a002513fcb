// SPDX-License-Identifier: GPL-2.0
#include "image/compare.h"

#include <gtest/gtest.h>

#include <random>

#include "image/testing/files.h"
#include "util/error.h"

namespace dynsnap::image {
namespace {

using testing::Bytes;
using testing::TempDir;

// What compare_ranges promises, byte by byte.
std::vector<ByteRange> reference(const Bytes &a, const Bytes &b,
				 const std::vector<ByteRange> &candidates)
{
	std::vector<ByteRange> out;
	for (const ByteRange &r : candidates) {
		for (uint64_t i = r.offset; i < r.end(); i++) {
			if (a[i] == b[i])
				continue;
			if (!out.empty() && out.back().end() == i)
				out.back().length++;
			else
				out.push_back({i, 1});
		}
	}
	return out;
}

struct Pair {
	TempDir dir;
	Bytes a, b;

	explicit Pair(size_t size) : a(testing::pattern(size, 30)), b(a) {}
	void flip(uint64_t offset, uint64_t length = 1)
	{
		for (uint64_t i = offset; i < offset + length; i++)
			b[i] = ~a[i];
	}
	std::vector<ByteRange> compare(const std::vector<ByteRange> &candidates)
	{
		testing::write_file(dir.file("a"), a);
		testing::write_file(dir.file("b"), b);
		auto got = compare_ranges(dir.file("a"), dir.file("b"), candidates);
		EXPECT_EQ(got, reference(a, b, candidates));
		return got;
	}
};

using Ranges = std::vector<ByteRange>;

TEST(ImageCompare, EqualImagesDoNotDiffer)
{
	Pair p(3 * kChunk + 5);
	EXPECT_EQ(p.compare({{0, 3 * kChunk + 5}}), Ranges{});
	EXPECT_EQ(p.compare({}), Ranges{});
}

TEST(ImageCompare, SingleBytes)
{
	const size_t size = 2 * kChunk + 7;
	for (uint64_t at : {0ul, 1ul, 4095ul, 4096ul, kChunk - 1, kChunk, size - 1}) {
		Pair p(size);
		p.flip(at);
		EXPECT_EQ(p.compare({{0, size}}), (Ranges{{at, 1}})) << at;
	}
}

TEST(ImageCompare, RunsAreExactAndNotJoinedAcrossEqualBytes)
{
	Pair p(4 * kChunk);
	p.flip(10, 5);
	p.flip(16, 3);			// one equal byte between
	p.flip(kChunk - 4, 8);		// across a chunk boundary
	p.flip(2 * kChunk, kChunk + 1);	// whole chunks
	p.flip(4 * kChunk - 2, 2);
	EXPECT_EQ(p.compare({{0, 4 * kChunk}}),
		  (Ranges{{10, 5}, {16, 3}, {kChunk - 4, 8}, {2 * kChunk, kChunk + 1},
			  {4 * kChunk - 2, 2}}));
}

TEST(ImageCompare, OnlyCandidatesAreCompared)
{
	Pair p(2 * kChunk);
	p.flip(100, 100);
	p.flip(5000, 10);
	p.flip(kChunk + 50, 1);
	// The first candidate cuts the run; the second misses 5000..5010.
	EXPECT_EQ(p.compare({{150, 1000}, {6000, kChunk - 6000}}), (Ranges{{150, 50}}));
	// Touching candidates: the run across them is one range.
	EXPECT_EQ(p.compare({{0, 150}, {150, 50}, {200, 10}}), (Ranges{{100, 100}}));
	// Candidates with a gap: a run through the gap is two ranges.
	EXPECT_EQ(p.compare({{0, 120}, {130, 100}}), (Ranges{{100, 20}, {130, 70}}));
	EXPECT_EQ(p.compare({{kChunk, kChunk}}), (Ranges{{kChunk + 50, 1}}));
	EXPECT_EQ(p.compare({{kChunk + 50, 1}}), (Ranges{{kChunk + 50, 1}}));
	EXPECT_EQ(p.compare({{kChunk + 51, 0}}), Ranges{});
}

TEST(ImageCompare, MatchesTheReferenceOnRandomDamage)
{
	std::mt19937_64 rng(42);
	const size_t size = 5 * kChunk + 333;
	for (int round = 0; round < 4; round++) {
		Pair p(size);
		for (int i = 0; i < 300; i++) {
			uint64_t at = rng() % size;
			p.flip(at, std::min<uint64_t>(size - at, rng() % (i % 3 ? 20 : 70000)));
		}
		// Some bytes set equal again inside runs.
		for (int i = 0; i < 100; i++) {
			uint64_t at = rng() % size;
			p.b[at] = p.a[at];
		}
		Ranges candidates;
		for (uint64_t pos = rng() % 1000; pos < size;) {
			uint64_t len = std::min<uint64_t>(size - pos, 1 + rng() % (2 * kChunk));
			candidates.push_back({pos, len});
			pos += len + (rng() % 2 ? 0 : rng() % 5000);
		}
		p.compare(candidates);
		p.compare({{0, size}});
	}
}

TEST(ImageCompare, EveryByteDiffers)
{
	Pair p(3 * kChunk + 1);
	p.flip(0, 3 * kChunk + 1);
	EXPECT_EQ(p.compare({{0, 3 * kChunk + 1}}), (Ranges{{0, 3 * kChunk + 1}}));
}

TEST(ImageCompare, DiffRunsOnBuffers)
{
	const uint8_t x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
	uint8_t y[sizeof(x)];
	memcpy(y, x, sizeof(x));
	y[0] = 0;
	y[8] = 0;
	y[9] = 0;
	y[16] = 0;
	Ranges out = {{90, 10}};
	diff_runs(x, y, sizeof(x), 100, out);
	EXPECT_EQ(out, (Ranges{{90, 11}, {108, 2}, {116, 1}}));
}

TEST(ImageCompare, ReportsProgress)
{
	Pair p(3 * kChunk);
	testing::write_file(p.dir.file("a"), p.a);
	testing::write_file(p.dir.file("b"), p.b);
	std::vector<uint64_t> calls;
	compare_ranges(p.dir.file("a"), p.dir.file("b"), {{5, 2 * kChunk}},
		       [&](uint64_t done, uint64_t total) {
			       EXPECT_EQ(total, 2 * kChunk);
			       calls.push_back(done);
		       });
	ASSERT_GE(calls.size(), 3u);
	EXPECT_EQ(calls.front(), 0u);
	EXPECT_EQ(calls.back(), 2 * kChunk);
	EXPECT_TRUE(std::is_sorted(calls.begin(), calls.end()));
}

TEST(ImageCompare, Refusals)
{
	Pair p(kChunk);
	testing::write_file(p.dir.file("a"), p.a);
	testing::write_file(p.dir.file("b"), Bytes(p.b.begin(), p.b.end() - 1));
	const std::string a = p.dir.file("a"), b = p.dir.file("b");
	// Past the end of the shorter one.
	EXPECT_THROW(compare_ranges(a, b, {{kChunk - 1, 1}}), Error);
	EXPECT_NO_THROW(compare_ranges(a, b, {{kChunk - 2, 1}}));
	EXPECT_THROW(compare_ranges(a, b, {{10, 5}, {0, 5}}), Error);
	EXPECT_THROW(compare_ranges(a, b, {{0, 5}, {4, 5}}), Error);
	try {
		compare_ranges(a, p.dir.file("missing"), {});
		FAIL() << "no error";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kNotFound);
	}
}

} // namespace
} // namespace dynsnap::image

// SPDX-License-Identifier: GPL-2.0
#include "image/compare.h"

#include <algorithm>
#include <cstring>

#include "util/error.h"

namespace dynsnap::image {

namespace {

// Equal stretches are skipped a block at a time with memcmp.
constexpr size_t kSkip = 256;

uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	std::memcpy(&v, p, sizeof(v));
	return v;
}

// Does the word have a zero byte?
bool has_zero_byte(uint64_t v)
{
	return (v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull;
}

// First index from @i on where the buffers differ, or @len.
size_t first_difference(const uint8_t *x, const uint8_t *y, size_t i, size_t len)
{
	while (i < len) {
		size_t n = std::min(kSkip, len - i);
		if (std::memcmp(x + i, y + i, n)) {
			while (x[i] == y[i])
				i++;
			return i;
		}
		i += n;
	}
	return len;
}

// First index from @i on where the buffers are equal, or @len.
size_t first_equal(const uint8_t *x, const uint8_t *y, size_t i, size_t len)
{
	while (i + 8 <= len && !has_zero_byte(load64(x + i) ^ load64(y + i)))
		i += 8;
	while (i < len && x[i] != y[i])
		i++;
	return i;
}

} // namespace

void diff_runs(const uint8_t *x, const uint8_t *y, size_t len, uint64_t offset,
	       std::vector<ByteRange> &out)
{
	size_t i = 0;
	for (;;) {
		i = first_difference(x, y, i, len);
		if (i == len)
			return;
		size_t j = first_equal(x, y, i, len);
		if (!out.empty() && out.back().end() == offset + i)
			out.back().length += j - i;
		else
			out.push_back({offset + i, j - i});
		i = j;
	}
}

std::vector<ByteRange> compare_ranges(const std::string &a, const std::string &b,
				      const std::vector<ByteRange> &candidates,
				      const Progress &progress)
{
	File fa = File::open_read(a);
	File fb = File::open_read(b);
	check_ranges(candidates, std::min(fa.size(), fb.size()), "candidate ranges of " + a +
				 " and " + b);
	uint64_t total = 0;
	for (const ByteRange &r : candidates)
		total += r.length;
	if (progress)
		progress(0, total);

	std::vector<ByteRange> out;
	RangeReader reader(fa, fb, candidates);
	RangeReader::Piece piece;
	uint64_t done = 0;
	while (reader.next(piece)) {
		diff_runs(piece.data[0], piece.data[1], piece.length, piece.offset, out);
		done += piece.length;
		if (progress)
			progress(done, total);
	}
	return out;
}

} // namespace dynsnap::image

// SPDX-License-Identifier: GPL-2.0
// Sparse undo deltas (bit level): the runs are the bytes a write changes,
// the payload their old values; undoing is replacing, so a delta is right
// whether or not the write it undoes reached the disk.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "dynsnap_undo.h"

namespace {

using Bytes = std::vector<uint8_t>;

Bytes encode(const Bytes &old_data, const Bytes &cur)
{
	Bytes out(DYNSNAP_UNDO_MAX_ENCODED(old_data.size()));
	size_t n = dynsnap_undo_encode(old_data.data(), cur.data(),
				       old_data.size(), out.data(), out.size());
	EXPECT_GT(n, 0u);
	out.resize(n);
	return out;
}

Bytes random_bytes(std::mt19937 &rng, size_t n)
{
	Bytes b(n);
	for (auto &x : b)
		x = rng();
	return b;
}

Bytes overwrite(std::mt19937 &rng, Bytes b, int writes)
{
	for (int w = 0; w < writes; w++) {
		size_t off = rng() % b.size();
		size_t n = 1 + rng() % std::min<size_t>(700, b.size() - off);
		for (size_t i = 0; i < n; i++)
			b[off + i] = rng() % 3 ? rng() : 0;
	}
	return b;
}

TEST(UndoDelta, UnchangedDataGivesTheEmptyDelta)
{
	Bytes a(4096, 0x5a);
	Bytes d = encode(a, a);
	ASSERT_EQ(d.size(), 4u);
	EXPECT_TRUE(dynsnap_undo_is_empty(d.data(), d.size()));
	EXPECT_EQ(dynsnap_undo_validate(d.data(), d.size(), 4096), DSN_OK);
}

TEST(UndoDelta, KeepsTheOldValueEvenWhenItIsZero)
{
	Bytes a(4096, 0), b = a;
	b[1000] = 0x80;		// 0 -> 0x80: the old byte is zero
	Bytes d = encode(a, b);
	ASSERT_EQ(d.size(), 4u + 8u + 1u);
	EXPECT_EQ(dsn_get_le32(&d[0]), 1u);
	EXPECT_EQ(dsn_get_le32(&d[4]), 1000u);
	EXPECT_EQ(dsn_get_le32(&d[8]), 1u);
	EXPECT_EQ(d[12], 0x00);
	EXPECT_FALSE(dynsnap_undo_is_empty(d.data(), d.size()));
}

TEST(UndoDelta, ShortGapsStayInsideARun)
{
	Bytes a(64, 7), b = a;
	b[10] = 1;
	b[17] = 1;	// 6 unchanged bytes between: cheaper than a run header
	b[40] = 1;	// 22 unchanged bytes: a new run
	Bytes d = encode(a, b);
	EXPECT_EQ(dsn_get_le32(&d[0]), 2u);
	EXPECT_EQ(dsn_get_le32(&d[8]), 8u);	// [10, 18)
}

// Undo restores the old data from the new, from the old (the write never
// landed) and from any mix of the two per 512-byte sector (a torn write).
TEST(UndoDelta, UndoIsRightWhateverPartOfTheWriteLanded)
{
	std::mt19937 rng(7);
	for (uint32_t len : {512u, 4096u, 65536u}) {
		for (int round = 0; round < 30; round++) {
			Bytes old_data = random_bytes(rng, len);
			Bytes cur = overwrite(rng, old_data, 1 + round % 5);
			Bytes d = encode(old_data, cur);
			ASSERT_LE(d.size(), DYNSNAP_UNDO_MAX_ENCODED(len));
			ASSERT_EQ(dynsnap_undo_validate(d.data(), d.size(), len),
				  DSN_OK);

			Bytes landed = cur, lost = old_data, torn = cur;
			for (uint32_t s = 0; s < len; s += 512)
				if (rng() % 2)
					std::copy(old_data.begin() + s,
						  old_data.begin() + s + 512,
						  torn.begin() + s);
			for (Bytes *b : {&landed, &lost, &torn}) {
				ASSERT_EQ(dynsnap_undo_apply(b->data(), len,
							     d.data(), d.size()),
					  DSN_OK);
				EXPECT_EQ(*b, old_data);
			}
		}
	}
}

// A chain of writes undone newest first gives every intermediate state.
TEST(UndoDelta, ChainsUndoNewestFirst)
{
	std::mt19937 rng(11);
	std::vector<Bytes> states{random_bytes(rng, 4096)};
	std::vector<Bytes> deltas;
	for (int w = 0; w < 20; w++) {
		states.push_back(overwrite(rng, states.back(), 1));
		deltas.push_back(encode(states[w], states[w + 1]));
	}
	Bytes data = states.back();
	for (int w = 19; w >= 0; w--) {
		ASSERT_EQ(dynsnap_undo_apply(data.data(), 4096, deltas[w].data(),
					     deltas[w].size()),
			  DSN_OK);
		EXPECT_EQ(data, states[w]);
	}
}

TEST(UndoDelta, EncoderReportsAShortBuffer)
{
	Bytes a(4096, 0), b(4096, 1), out(100);
	EXPECT_EQ(dynsnap_undo_encode(a.data(), b.data(), 4096, out.data(),
				      out.size()), 0u);
	EXPECT_EQ(dynsnap_undo_encode(a.data(), b.data(), 4096, out.data(), 3),
		  0u);
}

struct BadDelta {
	const char *what;
	Bytes bytes;
	uint32_t len;
	enum dynsnap_err err;
};

Bytes run_delta(std::initializer_list<std::pair<uint32_t, uint32_t>> runs,
		uint32_t count_override = UINT32_MAX, size_t extra = 0)
{
	Bytes d(4);
	dsn_put_le32(d.data(), count_override != UINT32_MAX ?
				       count_override : runs.size());
	for (auto [off, n] : runs) {
		size_t at = d.size();
		d.resize(at + 8 + n, 0xee);
		dsn_put_le32(&d[at], off);
		dsn_put_le32(&d[at + 4], n);
	}
	d.resize(d.size() + extra, 0);
	return d;
}

class UndoDeltaRejects : public ::testing::TestWithParam<BadDelta> {};

TEST_P(UndoDeltaRejects, MalformedDeltaLeavesDataAlone)
{
	const BadDelta &c = GetParam();
	Bytes data(c.len, 0x11), before = data;

	EXPECT_EQ(dynsnap_undo_validate(c.bytes.data(), c.bytes.size(), c.len),
		  c.err);
	EXPECT_EQ(dynsnap_undo_apply(data.data(), c.len, c.bytes.data(),
				     c.bytes.size()),
		  c.err);
	EXPECT_EQ(data, before);
}

INSTANTIATE_TEST_SUITE_P(
	Cases, UndoDeltaRejects,
	::testing::Values(
		BadDelta{"too_short", Bytes{1, 0}, 64, DSN_ERR_XOR_FORMAT},
		BadDelta{"count_beyond_data", run_delta({{0, 4}}, 2), 64,
			 DSN_ERR_XOR_FORMAT},
		BadDelta{"empty_run", run_delta({{4, 0}}), 64,
			 DSN_ERR_XOR_FORMAT},
		BadDelta{"run_past_end", run_delta({{60, 8}}), 64,
			 DSN_ERR_XOR_RANGE},
		BadDelta{"runs_overlap", run_delta({{0, 8}, {4, 8}}), 64,
			 DSN_ERR_XOR_FORMAT},
		BadDelta{"runs_too_close", run_delta({{0, 8}, {10, 4}}), 64,
			 DSN_ERR_XOR_FORMAT},
		BadDelta{"runs_out_of_order", run_delta({{40, 4}, {0, 4}}), 64,
			 DSN_ERR_XOR_FORMAT},
		BadDelta{"trailing_bytes", run_delta({{0, 4}}, UINT32_MAX, 3),
			 64, DSN_ERR_XOR_FORMAT},
		BadDelta{"larger_than_any_encoding",
			 run_delta({{0, 64}}, UINT32_MAX, 8), 64,
			 DSN_ERR_XOR_FORMAT}),
	[](const auto &info) { return std::string(info.param.what); });

} // namespace

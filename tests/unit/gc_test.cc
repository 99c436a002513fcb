// SPDX-License-Identifier: GPL-2.0
// The garbage rule for a block's undo deltas: hand-written cases, refusal
// of input it cannot trust, and a randomized check that dropping what it
// marks dead never changes what a retained snapshot reads.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "dynsnap_gc.h"
#include "dynsnap_view.h"
#include "dynsnap_xor.h"

namespace {

using Bytes = std::vector<uint8_t>;
using Deltas = std::vector<dynsnap_gc_delta>;
using Epochs = std::vector<u64>;

const dynsnap_level B = DYNSNAP_LEVEL_BLOCK, S = DYNSNAP_LEVEL_SUB, X = DYNSNAP_LEVEL_BIT;

// Dead flags for an 8 KiB block of 1 KiB sub-blocks unless told otherwise.
std::vector<bool> mark(const Deltas &d, const Epochs &retained, uint32_t block = 8192,
		       uint32_t sub = 1024)
{
	bool dead[64];
	std::fill(dead, dead + 64, true);
	dynsnap_gc_mark(d.data(), d.size(), retained.data(), retained.size(), block, sub,
			dead);
	return std::vector<bool>(dead, dead + d.size());
}

TEST(Gc, NoSnapshotRetainedEverythingIsDead)
{
	Deltas d = {{5, S, 0, 1024}, {4, X, 512, 512}, {2, B, 0, 8192}};
	EXPECT_EQ(mark(d, {}), std::vector<bool>({true, true, true}));
}

TEST(Gc, DeltasOlderThanTheOldestSnapshotAreDead)
{
	Deltas d = {{6, S, 0, 1024}, {4, S, 0, 1024}, {3, B, 0, 8192}, {1, X, 0, 512}};
	EXPECT_EQ(mark(d, {4}), std::vector<bool>({true, false, true, true}));
	EXPECT_EQ(mark(d, {5}), std::vector<bool>({false, true, true, true}));
	EXPECT_EQ(mark(d, {7}), std::vector<bool>({true, true, true, true}));
}

TEST(Gc, CoveredByAnOlderReplaceIsDead)
{
	// Every reader of epoch 5 also applies epoch 3's copy of the same bytes.
	Deltas d = {{5, S, 1024, 1024}, {3, S, 1024, 1024}};
	EXPECT_EQ(mark(d, {1}), std::vector<bool>({true, false}));
	EXPECT_EQ(mark(d, {3}), std::vector<bool>({true, false}));
	// A snapshot of epoch 4 reads epoch 5 but not epoch 3.
	EXPECT_EQ(mark(d, {1, 4}), std::vector<bool>({false, false}));
	// Only snapshot 5 is left: epoch 3 is garbage, epoch 5 is what it reads.
	EXPECT_EQ(mark(d, {5}), std::vector<bool>({false, true}));
}

TEST(Gc, ABlockDeltaCoversEverything)
{
	Deltas d = {{9, S, 0, 2048}, {8, X, 4096, 1536}, {8, S, 7168, 1024}, {2, B, 0, 8192}};
	EXPECT_EQ(mark(d, {2}), std::vector<bool>({true, true, true, false}));
}

TEST(Gc, CoveredBitDeltaIsDead)
{
	Deltas d = {{7, X, 1536, 1024}, {6, S, 1024, 2048}};
	EXPECT_EQ(mark(d, {6}), std::vector<bool>({true, false}));
	// The sub-blocks it touches are only half covered.
	Deltas half = {{7, X, 1536, 1024}, {6, S, 1024, 1024}};
	EXPECT_EQ(mark(half, {6}), std::vector<bool>({false, false}));
}

TEST(Gc, PartiallyCoveredStaysLive)
{
	Deltas d = {{5, S, 0, 3072}, {4, S, 0, 1024}, {3, S, 2048, 1024}};
	EXPECT_EQ(mark(d, {1}), std::vector<bool>({false, false, false}));
	// The hole filled by a third epoch: now every byte is covered.
	d.push_back({2, S, 1024, 1024});
	EXPECT_EQ(mark(d, {1}), std::vector<bool>({true, false, false, false}));
}

TEST(Gc, BitDeltasNeverCover)
{
	Deltas d = {{5, S, 0, 1024}, {4, X, 0, 1024}, {3, X, 0, 8192}};
	EXPECT_EQ(mark(d, {1}), std::vector<bool>({false, false, false}));
}

TEST(Gc, TheSameEpochNeverCovers)
{
	Deltas d = {{5, X, 0, 1024}, {5, S, 0, 1024}, {5, B, 0, 8192}};
	EXPECT_EQ(mark(d, {1}), std::vector<bool>({false, false, false}));
}

TEST(Gc, CoverMustLieBetweenTheSnapshotAndTheDelta)
{
	// T = 4 for epoch 6: epoch 4 counts, epoch 3 does not.
	Deltas d = {{6, S, 0, 2048}, {4, S, 0, 1024}, {3, S, 1024, 1024}};
	EXPECT_EQ(mark(d, {2, 4}), std::vector<bool>({false, false, false}));
	EXPECT_EQ(mark(d, {2, 3}), std::vector<bool>({true, false, false}));
	EXPECT_EQ(mark(d, {2}), std::vector<bool>({true, false, false}));
}

TEST(Gc, DuplicateRetainedEpochs)
{
	Deltas d = {{6, S, 0, 1024}, {4, S, 0, 1024}, {2, S, 0, 1024}};
	EXPECT_EQ(mark(d, {4, 4}), mark(d, {4}));
	EXPECT_EQ(mark(d, {1, 1, 5, 5, 5}), mark(d, {1, 5}));
	// Epoch 4 is read through snapshot 1 only, which then applies epoch 2.
	EXPECT_EQ(mark(d, {1, 1, 5, 5, 5}), std::vector<bool>({false, true, false}));
}

TEST(Gc, UnsortedInputMarksNothing)
{
	Deltas unsorted = {{3, S, 0, 1024}, {5, S, 0, 1024}};
	EXPECT_EQ(mark(unsorted, {}), std::vector<bool>({false, false}));
	EXPECT_EQ(mark(unsorted, {1}), std::vector<bool>({false, false}));
	Deltas d = {{5, S, 0, 1024}, {3, S, 0, 1024}, {1, S, 0, 1024}};
	EXPECT_EQ(mark(d, {4, 2}), std::vector<bool>({false, false, false}));
}

TEST(Gc, DeltasOutsideTheBlockNeitherCoverNorAreCovered)
{
	Deltas d = {{7, S, 7168, 2048}, {6, S, 8192, 1024}, {5, S, 0, 0}, {4, B, 0, 8192}};
	EXPECT_EQ(mark(d, {1}), std::vector<bool>({false, false, false, false}));
	Deltas wraps = {{7, S, 1024, 1024}, {6, S, 0x80000000u, 0x80000400u}};
	EXPECT_EQ(mark(wraps, {1}), std::vector<bool>({false, false}));
	Deltas overhang = {{7, X, 7168, 512}, {6, S, 7168, 2048}};
	EXPECT_EQ(mark(overhang, {1}), std::vector<bool>({false, false}));
	// Still dead when nobody reads them.
	EXPECT_EQ(mark(d, {}), std::vector<bool>({true, true, true, true}));
}

TEST(Gc, GeometryItCannotTrustOnlyDropsUnreadDeltas)
{
	Deltas d = {{7, S, 0, 1024}, {5, B, 0, 8192}, {1, B, 0, 8192}};
	const std::vector<bool> unread_only = {false, false, true};
	EXPECT_EQ(mark(d, {3}, 8192, 0), unread_only);
	EXPECT_EQ(mark(d, {3}, 8192, 64), unread_only);		// 128 sub-blocks
	EXPECT_EQ(mark(d, {3}, 8192, 3000), unread_only);	// does not divide
	EXPECT_EQ(mark(d, {3}, 2u << 20, 32768), unread_only);	// block over 1 MiB
	EXPECT_EQ(mark(d, {3}), std::vector<bool>({true, false, true}));
	// One sub-block per block, the coarsest geometry there is.
	EXPECT_EQ(mark(d, {3}, 8192, 8192), std::vector<bool>({true, false, true}));
	// The largest block, its last sub-block covered by a whole-block delta.
	Deltas big = {{7, S, (1 << 20) - 16384, 16384}, {5, B, 0, 1 << 20}};
	EXPECT_EQ(mark(big, {3}, 1 << 20, 16384), std::vector<bool>({true, false}));
	EXPECT_EQ(mark(big, {3}, 1 << 20, 8192), std::vector<bool>({false, false}));
}

TEST(Gc, MisalignedReplaceOnlyCoversWholeSubBlocks)
{
	// Not a record the store writes; counting only whole sub-blocks keeps
	// the delta it half covers.
	Deltas d = {{7, X, 0, 512}, {6, S, 0, 1536}};
	EXPECT_EQ(mark(d, {1}), std::vector<bool>({true, false}));
	Deltas e = {{7, X, 1024, 512}, {6, S, 512, 1024}};
	EXPECT_EQ(mark(e, {1}), std::vector<bool>({false, false}));
}

TEST(Gc, NothingToMark)
{
	dynsnap_gc_mark(nullptr, 0, nullptr, 0, 8192, 1024, nullptr);
	u64 one = 1;
	dynsnap_gc_mark(nullptr, 0, &one, 1, 8192, 1024, nullptr);
}

// The rule as docs/design/snapshot-engine.md words it, sector by sector
// (every delta here covers whole 512-byte sectors).
std::vector<bool> oracle(const Deltas &d, const Epochs &retained)
{
	std::vector<bool> dead(d.size());
	for (size_t i = 0; i < d.size(); i++) {
		const u64 *t = nullptr;
		for (const u64 &r : retained)
			if (r <= d[i].epoch && (!t || r > *t))
				t = &r;
		if (!t) {
			dead[i] = true;
			continue;
		}
		std::vector<bool> covered(d[i].length / 512, false);
		for (const dynsnap_gc_delta &o : d) {
			if (o.level == X || o.epoch < *t || o.epoch >= d[i].epoch)
				continue;
			for (uint32_t s = 0; s < covered.size(); s++) {
				uint32_t at = d[i].offset + s * 512;
				if (at >= o.offset && at < o.offset + o.length)
					covered[s] = true;
			}
		}
		dead[i] = std::find(covered.begin(), covered.end(), false) == covered.end();
	}
	return dead;
}

struct Stored {
	dynsnap_gc_delta d;
	Bytes payload;
};

using Refs = std::vector<dynsnap_delta_ref>;

Bytes view(const Bytes &current, uint64_t epoch, const Refs &refs)
{
	Bytes out = current;
	EXPECT_EQ(dynsnap_view_reconstruct(out.data(), out.size(), epoch, refs.data(),
					   refs.size()), DSN_OK);
	return out;
}

// Distinct content per seed, cheap enough for 1 MiB blocks.
Bytes pattern(uint32_t seed, uint32_t len)
{
	Bytes b(len);
	for (uint32_t i = 0; i < len; i++)
		b[i] = uint8_t(seed + (seed >> 8) * i + i / 251);
	return b;
}

class GcProperty : public ::testing::TestWithParam<int> {};

// Random deltas of one block over a dozen epochs (whole blocks, aligned runs
// of sub-blocks, sparse XOR over any sectors) and a random set of retained
// snapshots: the rule agrees with the byte-by-byte wording, and every
// retained snapshot reads the same with or without the dead deltas.
TEST_P(GcProperty, DroppingDeadDeltasChangesNoRetainedView)
{
	std::mt19937 rng(GetParam());
	// Down to 512 B sub-blocks, up to the 64 sub-blocks a block may have.
	const uint32_t geometries[][2] = {{4096, 512}, {8192, 1024}, {65536, 4096},
					  {65536, 65536}, {65536, 1024}};
	size_t dead_total = 0, live_total = 0;

	for (int round = 0; round < 40; round++) {
		const uint32_t *geometry = geometries[rng() % 5];
		const uint32_t block = geometry[0], sub = geometry[1];
		const uint32_t sectors = block / 512, subs = block / sub;
		const uint64_t epochs = 2 + rng() % 12;

		std::vector<Stored> list;	// newest epoch first
		for (uint64_t e = epochs; e >= 1; e--) {
			for (int n = rng() % 4; n > 0; n--) {
				Stored s;
				switch (rng() % 3) {
				case 0:
					s.d = {e, B, 0, block};
					break;
				case 1: {
					uint32_t first = rng() % subs;
					uint32_t most = std::min<uint32_t>(4, subs - first);
					uint32_t count = 1 + rng() % most;
					s.d = {e, S, first * sub, count * sub};
					break;
				}
				default: {
					uint32_t first = rng() % sectors;
					uint32_t most = std::min<uint32_t>(8, sectors - first);
					uint32_t count = 1 + rng() % most;
					s.d = {e, X, first * 512, count * 512};
					break;
				}
				}
				if (s.d.level == X) {
					Bytes diff(s.d.length);
					for (auto &b : diff)
						b = rng() % 3 ? 0 : rng();
					Bytes &p = s.payload;
					p.resize(DYNSNAP_XOR_MAX_ENCODED(s.d.length));
					p.resize(dynsnap_xor_encode_diff(diff.data(), diff.size(),
									 p.data(), p.size()));
				} else {
					s.payload = pattern(rng(), s.d.length);
				}
				list.push_back(std::move(s));
			}
		}

		Epochs retained;
		for (uint64_t e = 1; e <= epochs + 1; e++)
			if (rng() % 3 == 0)
				retained.push_back(e);

		Deltas d;
		for (const Stored &s : list)
			d.push_back(s.d);
		std::unique_ptr<bool[]> dead(new bool[d.size() + 1]);
		dynsnap_gc_mark(d.data(), d.size(), retained.data(), retained.size(), block,
				sub, dead.get());
		std::vector<bool> got(dead.get(), dead.get() + d.size());
		ASSERT_EQ(got, oracle(d, retained)) << "round " << round;

		Refs all, live;
		for (size_t i = 0; i < list.size(); i++) {
			const Stored &s = list[i];
			all.push_back({s.d.epoch, s.d.level, s.d.offset, s.d.length,
				       s.payload.data(), (uint32_t)s.payload.size()});
			if (!dead[i])
				live.push_back(all.back());
		}
		dead_total += all.size() - live.size();
		live_total += live.size();

		const Bytes current = pattern(rng(), block);
		for (uint64_t r : retained)
			ASSERT_EQ(view(current, r, live), view(current, r, all))
				<< "round " << round << " snapshot epoch " << r;
	}
	EXPECT_GT(dead_total, 0u);
	EXPECT_GT(live_total, 0u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, GcProperty, ::testing::Range(0, 16));

} // namespace

namespace {

// What a snapshot alone keeps, the slow way: the rule once per snapshot,
// with that snapshot left out.
std::vector<uint32_t> sole_by_brute_force(const Deltas &d, const Epochs &retained,
					   uint32_t block, uint32_t sub)
{
	std::vector<uint32_t> sole(d.size(), DYNSNAP_GC_SHARED);
	std::vector<bool> base = mark(d, retained, block, sub);

	for (uint32_t k = 0; k < retained.size(); k++) {
		Epochs without = retained;
		without.erase(without.begin() + k);
		std::vector<bool> dead = mark(d, without, block, sub);
		for (size_t i = 0; i < d.size(); i++)
			if (dead[i] && !base[i]) {
				EXPECT_EQ(sole[i], DYNSNAP_GC_SHARED) << "two sole readers";
				sole[i] = k;
			}
	}
	return sole;
}

std::vector<uint32_t> sole(const Deltas &d, const Epochs &retained, uint32_t block = 8192,
			   uint32_t sub = 1024)
{
	std::vector<u64> scratch(2 * d.size() + 1);
	std::unique_ptr<bool[]> dead(new bool[d.size() + 1]);
	std::vector<uint32_t> out(d.size() + 1, 7);

	dynsnap_gc_sole_reader(d.data(), d.size(), retained.data(), retained.size(), block, sub,
			       scratch.data(), dead.get(), out.data());
	out.resize(d.size());
	return out;
}

} // namespace

TEST(GcSole, OnlyReaderOfItsEpochs)
{
	// Snapshots of epochs 2 and 4, both with a copy of sub-block 1: each
	// is the only reader of its own copy (snapshot 2 applies the epoch-2
	// copy after the epoch-4 one).
	Deltas d = {{4, S, 1024, 1024}, {2, S, 1024, 1024}};
	EXPECT_EQ(sole(d, {2, 4}), std::vector<uint32_t>({1, 0}));
	// A copy of another sub-block at epoch 4 is read by both.
	Deltas two = {{4, S, 2048, 1024}, {2, S, 1024, 1024}};
	EXPECT_EQ(sole(two, {2, 4}), std::vector<uint32_t>({DYNSNAP_GC_SHARED, 0}));
	// With the older snapshot gone, epoch 4's delta is the newest's alone.
	EXPECT_EQ(sole(d, {4}), std::vector<uint32_t>({0, DYNSNAP_GC_SHARED}));
}

TEST(GcSole, RefusesUnsortedOrDuplicateEpochs)
{
	Deltas d = {{2, S, 0, 1024}, {4, S, 0, 1024}};
	EXPECT_EQ(sole(d, {1}), std::vector<uint32_t>(2, DYNSNAP_GC_SHARED));
	Deltas ok = {{4, S, 0, 1024}, {2, S, 0, 1024}};
	EXPECT_EQ(sole(ok, {2, 2}), std::vector<uint32_t>(2, DYNSNAP_GC_SHARED));
	dynsnap_gc_sole_reader(nullptr, 0, nullptr, 0, 8192, 1024, nullptr, nullptr, nullptr);
}

TEST(GcSole, MatchesTheRuleRunOncePerSnapshot)
{
	std::mt19937 rng(42);
	const uint32_t block = 8192, sub = 1024;
	size_t checked = 0, owned = 0;

	for (int round = 0; round < 3000; round++) {
		// Deltas of up to 12 epochs, newest first, none dead.
		Deltas all;
		for (uint64_t e = 12; e >= 1; e--) {
			uint64_t used = 0;
			for (int n = rng() % 3; n > 0; n--) {
				uint32_t level = rng() % 3;
				uint32_t first = rng() % 8, count = 1 + rng() % (8 - first);
				if (level == B) {
					first = 0;
					count = 8;
				}
				uint64_t m = ((count == 64 ? 0 : (1ULL << count)) - 1) << first;
				if (level != X && (used & m))
					continue;
				if (level != X)
					used |= m;
				all.push_back({e, level, first * sub, count * sub});
			}
		}
		Epochs retained;
		for (uint64_t e = 1; e <= 13; e++)
			if (rng() % 3 == 0)
				retained.push_back(e);
		std::vector<bool> dead = mark(all, retained, block, sub);
		Deltas d;
		for (size_t i = 0; i < all.size(); i++)
			if (!dead[i])
				d.push_back(all[i]);
		std::vector<uint32_t> want = sole_by_brute_force(d, retained, block, sub);
		ASSERT_EQ(sole(d, retained, block, sub), want) << "round " << round;
		checked += d.size();
		owned += std::count_if(want.begin(), want.end(),
				       [](uint32_t k) { return k != DYNSNAP_GC_SHARED; });
	}
	EXPECT_GT(owned, 100u);
	EXPECT_GT(checked, owned);
}

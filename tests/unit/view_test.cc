// SPDX-License-Identifier: GPL-2.0
// Snapshot views on an in-memory fake volume. FakeVolume follows the rules
// of the write path (SPEC section 4): preserve once per byte per epoch for
// block and sub-block regions, a sparse undo delta per write for bit
// regions, levels changing only at epoch boundaries, garbage collection on
// delete. Every view rebuilt through dynsnap_view_reconstruct() must equal
// the copy of the volume taken when its snapshot was created.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "dynsnap_gc.h"
#include "dynsnap_view.h"
#include "dynsnap_undo.h"

namespace {

using Bytes = std::vector<uint8_t>;

struct Delta {
	uint64_t epoch;
	dynsnap_level level;
	uint32_t offset, length;
	Bytes payload;
};

class FakeVolume {
public:
	FakeVolume(uint32_t blocks, uint32_t block_bytes, uint32_t sub_bytes)
		: block_bytes_(block_bytes), sub_bytes_(sub_bytes),
		  data_(size_t(blocks) * block_bytes),
		  level_(blocks, DYNSNAP_LEVEL_SUB), next_level_(level_),
		  preserved_(blocks, 0), deltas_(blocks)
	{
	}

	size_t size() const { return data_.size(); }
	const Bytes &data() const { return data_; }
	uint32_t blocks() const { return level_.size(); }

	// Takes effect at the next epoch, as set_granularity does.
	void set_level(uint32_t block, dynsnap_level level) { next_level_[block] = level; }

	int snapshot()
	{
		epoch_++;
		level_ = next_level_;
		std::fill(preserved_.begin(), preserved_.end(), 0);
		snaps_[next_id_] = {epoch_, data_};
		return next_id_++;
	}

	void write(size_t off, const Bytes &bytes)
	{
		for (size_t done = 0; done < bytes.size();) {
			uint32_t b = (off + done) / block_bytes_;
			uint32_t in = (off + done) % block_bytes_;
			uint32_t n = std::min<size_t>(block_bytes_ - in, bytes.size() - done);
			write_block(b, in, &bytes[done], n);
			done += n;
		}
	}

	Bytes view(int id) const
	{
		uint64_t snap_epoch = snaps_.at(id).epoch;
		Bytes out = data_;
		for (uint32_t b = 0; b < blocks(); b++) {
			// Newest first, also within an epoch.
			std::vector<Delta> sorted(deltas_[b].rbegin(), deltas_[b].rend());
			std::stable_sort(sorted.begin(), sorted.end(),
					 [](const Delta &x, const Delta &y) { return x.epoch > y.epoch; });
			std::vector<dynsnap_delta_ref> refs;
			for (const Delta &d : sorted)
				refs.push_back({d.epoch, (uint32_t)d.level, d.offset, d.length,
						d.payload.data(), (uint32_t)d.payload.size()});
			EXPECT_EQ(dynsnap_view_reconstruct(&out[size_t(b) * block_bytes_],
							   block_bytes_, snap_epoch,
							   refs.data(), refs.size()), DSN_OK);
		}
		return out;
	}

	const Bytes &reference(int id) const { return snaps_.at(id).copy; }
	std::vector<int> ids() const
	{
		std::vector<int> v;
		for (const auto &s : snaps_)
			v.push_back(s.first);
		return v;
	}

	void remove(int id)
	{
		snaps_.erase(id);
		collect_garbage();
	}

	size_t delta_count() const
	{
		size_t n = 0;
		for (const auto &d : deltas_)
			n += d.size();
		return n;
	}

private:
	struct Snap {
		uint64_t epoch;
		Bytes copy;
	};

	void write_block(uint32_t b, uint32_t in, const uint8_t *src, uint32_t n)
	{
		uint8_t *blk = &data_[size_t(b) * block_bytes_];
		if (!snaps_.empty()) {
			switch (level_[b]) {
			case DYNSNAP_LEVEL_BLOCK:
				if (!preserved_[b]) {
					keep(b, DYNSNAP_LEVEL_BLOCK, 0, block_bytes_, blk);
					preserved_[b] = ~0ull;
				}
				break;
			case DYNSNAP_LEVEL_SUB:
				for (uint32_t s = in / sub_bytes_; s <= (in + n - 1) / sub_bytes_; s++) {
					if (preserved_[b] & (1ull << s))
						continue;
					keep(b, DYNSNAP_LEVEL_SUB, s * sub_bytes_, sub_bytes_,
					     blk + s * sub_bytes_);
					preserved_[b] |= 1ull << s;
				}
				break;
			default: {
				Bytes x(DYNSNAP_UNDO_MAX_ENCODED(n));
				// The old bytes of what this write changes.
				x.resize(dynsnap_undo_encode(blk + in, src, n, x.data(), x.size()));
				deltas_[b].push_back({epoch_, DYNSNAP_LEVEL_BIT, in, n, x});
				break;
			}
			}
		}
		std::copy(src, src + n, blk + in);
	}

	void keep(uint32_t b, dynsnap_level level, uint32_t off, uint32_t len,
		  const uint8_t *old_bytes)
	{
		deltas_[b].push_back({epoch_, level, off, len, Bytes(old_bytes, old_bytes + len)});
	}

	// The rule of docs/design/snapshot-engine.md, as the kernel applies it.
	void collect_garbage()
	{
		std::vector<u64> retained;
		for (const auto &s : snaps_)
			retained.push_back(s.second.epoch);
		std::sort(retained.begin(), retained.end());
		for (auto &list : deltas_) {
			// The rule reads newest first; the list is kept oldest first.
			std::vector<Delta> rev(list.rbegin(), list.rend());
			std::stable_sort(rev.begin(), rev.end(),
					 [](const Delta &x, const Delta &y) { return x.epoch > y.epoch; });
			std::vector<dynsnap_gc_delta> gc;
			for (const Delta &d : rev)
				gc.push_back({d.epoch, (uint32_t)d.level, d.offset, d.length});
			std::unique_ptr<bool[]> dead(new bool[rev.size() + 1]);
			dynsnap_gc_mark(gc.data(), gc.size(), retained.data(), retained.size(),
					block_bytes_, sub_bytes_, dead.get());
			std::vector<Delta> live;
			for (size_t i = 0; i < rev.size(); i++)
				if (!dead[i])
					live.push_back(rev[i]);
			list.assign(live.rbegin(), live.rend());
		}
	}

	uint32_t block_bytes_, sub_bytes_;
	Bytes data_;
	std::vector<dynsnap_level> level_, next_level_;
	std::vector<uint64_t> preserved_;
	std::vector<std::vector<Delta>> deltas_;
	std::map<int, Snap> snaps_;
	uint64_t epoch_ = 1;
	int next_id_ = 1;
};

// Random writes of 512 B to 16 KiB at any 512 B alignment, as batches.
void random_batch(std::mt19937 &rng, FakeVolume &vol, int writes)
{
	for (int w = 0; w < writes; w++) {
		size_t len = 512 * (1 + rng() % 32);
		size_t off = 512 * (rng() % ((vol.size() - len) / 512 + 1));
		Bytes b(len);
		for (auto &x : b)
			x = rng();
		if (rng() % 4 == 0)	// some writes change only a few bytes
			for (size_t i = 0; i < len; i++)
				b[i] = vol.data()[off + i] ^ (i % 97 == 0 ? 1 : 0);
		vol.write(off, b);
	}
}

void expect_all_views(const FakeVolume &vol)
{
	for (int id : vol.ids())
		ASSERT_EQ(vol.view(id), vol.reference(id)) << "snapshot " << id;
}

class ViewOracle : public ::testing::TestWithParam<int> {};

TEST_P(ViewOracle, EveryViewEqualsItsReference)
{
	std::mt19937 rng(GetParam());
	FakeVolume vol(32, 8192, 1024);
	const int mode = GetParam() % 4;	// 0 block, 1 sub, 2 bit, 3 mixed
	for (uint32_t b = 0; b < vol.blocks(); b++)
		vol.set_level(b, mode < 3 ? (dynsnap_level)mode : (dynsnap_level)(rng() % 3));

	random_batch(rng, vol, 20);	// before any snapshot: nothing kept
	EXPECT_EQ(vol.delta_count(), 0u);
	for (int round = 0; round < 12; round++) {
		vol.snapshot();
		if (mode == 3)	// levels change between epochs
			for (int k = 0; k < 8; k++)
				vol.set_level(rng() % vol.blocks(), (dynsnap_level)(rng() % 3));
		random_batch(rng, vol, 15);
		expect_all_views(vol);
	}

	// Delete in random order; the rest stay exact and garbage goes away.
	std::vector<int> ids = vol.ids();
	std::shuffle(ids.begin(), ids.end(), rng);
	size_t before = vol.delta_count();
	for (size_t i = 0; i + 1 < ids.size(); i++) {
		vol.remove(ids[i]);
		expect_all_views(vol);
	}
	EXPECT_LT(vol.delta_count(), before);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ViewOracle, ::testing::Range(0, 16));

TEST(View, BadDeltasChangeNothing)
{
	Bytes data(4096, 0x11), old_bytes(512, 0x22);
	const Bytes before = data;
	dynsnap_delta_ref good{5, DYNSNAP_LEVEL_SUB, 512, 512, old_bytes.data(), 512};

	dynsnap_delta_ref past_end = good;
	past_end.offset = 3840;
	dynsnap_delta_ref short_payload = good;
	short_payload.payload_len = 100;
	dynsnap_delta_ref bad_level = good;
	bad_level.level = 7;
	Bytes bad_xor = {1, 0, 0, 0};	// one run announced, none present
	dynsnap_delta_ref bad_bit{5, DYNSNAP_LEVEL_BIT, 0, 512, bad_xor.data(), 4};

	struct {
		dynsnap_delta_ref d;
		dynsnap_err want;
	} cases[] = {{past_end, DSN_ERR_VIEW_RANGE},
		     {short_payload, DSN_ERR_REC_STORED_LENGTH},
		     {bad_level, DSN_ERR_REC_LEVEL},
		     {bad_bit, DSN_ERR_XOR_FORMAT}};
	for (const auto &c : cases) {
		dynsnap_delta_ref list[2] = {good, c.d};
		EXPECT_EQ(dynsnap_view_reconstruct(data.data(), 4096, 1, list, 2), c.want);
		EXPECT_EQ(data, before);
	}

	dynsnap_delta_ref older = good;
	older.epoch = 3;
	dynsnap_delta_ref wrong_order[2] = {older, good};
	EXPECT_EQ(dynsnap_view_reconstruct(data.data(), 4096, 1, wrong_order, 2),
		  DSN_ERR_VIEW_ORDER);
	EXPECT_EQ(data, before);
}

TEST(View, DeltasOlderThanTheSnapshotAreSkipped)
{
	Bytes data(4096, 0), a(4096, 0xaa), b(4096, 0xbb);
	dynsnap_delta_ref list[2] = {{7, DYNSNAP_LEVEL_BLOCK, 0, 4096, a.data(), 4096},
				     {3, DYNSNAP_LEVEL_BLOCK, 0, 4096, b.data(), 4096}};
	Bytes v = data;
	ASSERT_EQ(dynsnap_view_reconstruct(v.data(), 4096, 5, list, 2), DSN_OK);
	EXPECT_EQ(v, a);
	v = data;
	ASSERT_EQ(dynsnap_view_reconstruct(v.data(), 4096, 3, list, 2), DSN_OK);
	EXPECT_EQ(v, b);
	v = data;
	ASSERT_EQ(dynsnap_view_reconstruct(v.data(), 4096, 8, list, 2), DSN_OK);
	EXPECT_EQ(v, data);
}

struct IndexedDelta {
	uint32_t epoch;
	int tag;
};

TEST(IndexPosition, KeepsEpochOrderAndLogOrderWithinAnEpoch)
{
	std::vector<IndexedDelta> v;
	auto insert = [&v](uint32_t epoch, int tag) {
		v.insert(v.begin() + DYNSNAP_INDEX_POSITION(v.data(), v.size(), epoch),
			 IndexedDelta{epoch, tag});
	};
	EXPECT_EQ(DYNSNAP_INDEX_POSITION(v.data(), v.size(), 5u), 0u);
	insert(5, 1);
	insert(7, 2);
	insert(5, 3);	/* after the first of its epoch, before epoch 7 */
	insert(3, 4);	/* older than everything: first */
	insert(7, 5);
	insert(6, 6);
	const int want[] = {4, 1, 3, 6, 2, 5};
	ASSERT_EQ(v.size(), std::size(want));
	for (size_t i = 0; i < v.size(); i++)
		EXPECT_EQ(v[i].tag, want[i]) << "at " << i;
}

} // namespace

// SPDX-License-Identifier: GPL-2.0
// Sparse XOR deltas: encode/apply round trips, the size bound, composition,
// and refusal of malformed deltas without touching the data.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "dynsnap_xor.h"

namespace {

using Bytes = std::vector<uint8_t>;

Bytes encode(const Bytes &old_data, const Bytes &cur)
{
	Bytes out(DYNSNAP_XOR_MAX_ENCODED(old_data.size()));
	size_t n = dynsnap_xor_encode(old_data.data(), cur.data(),
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

// Overwrite a few random stretches, as writes to a hot block do.
Bytes mutate(std::mt19937 &rng, Bytes b, int writes)
{
	for (int w = 0; w < writes; w++) {
		size_t off = rng() % b.size();
		size_t n = 1 + rng() % std::min<size_t>(512, b.size() - off);
		for (size_t i = 0; i < n; i++)
			b[off + i] = rng();
	}
	return b;
}

TEST(XorDelta, IdenticalBlocksGiveTheEmptyDelta)
{
	Bytes a(4096, 0x5a);
	Bytes d = encode(a, a);
	ASSERT_EQ(d.size(), 4u);
	EXPECT_EQ(dsn_get_le32(d.data()), 0u);
	EXPECT_EQ(dynsnap_xor_covered(d.data()), 0u);
}

TEST(XorDelta, OneChangedByteIsOneRun)
{
	Bytes a(4096, 0), b = a;
	b[1000] = 0x80;
	Bytes d = encode(a, b);
	ASSERT_EQ(d.size(), 4u + 8u + 1u);
	EXPECT_EQ(dsn_get_le32(&d[0]), 1u);
	EXPECT_EQ(dsn_get_le32(&d[4]), 1000u);
	EXPECT_EQ(dsn_get_le32(&d[8]), 1u);
	EXPECT_EQ(d[12], 0x80);
}

TEST(XorDelta, ShortGapsStayInsideARun)
{
	Bytes a(64, 0), b = a;
	b[10] = 1;
	b[17] = 1;	// gap of 6 zero bytes: cheaper to keep
	b[40] = 1;	// gap of 22: a new run
	Bytes d = encode(a, b);
	EXPECT_EQ(dsn_get_le32(&d[0]), 2u);
	EXPECT_EQ(dsn_get_le32(&d[8]), 8u);	// [10, 18)
}

TEST(XorDelta, RoundTripAndSizeBound)
{
	std::mt19937 rng(1);
	for (uint32_t len : {512u, 4096u, 65536u}) {
		for (int writes : {0, 1, 5, 50, 5000}) {
			Bytes old_data = random_bytes(rng, len);
			Bytes cur = mutate(rng, old_data, writes);
			Bytes d = encode(old_data, cur);
			ASSERT_LE(d.size(), DYNSNAP_XOR_MAX_ENCODED(len));
			ASSERT_EQ(dynsnap_xor_validate(d.data(), d.size(), len), DSN_OK);
			// new ^ delta = old: the undo direction.
			Bytes back = cur;
			ASSERT_EQ(dynsnap_xor_apply(back.data(), len, d.data(), d.size()), DSN_OK);
			ASSERT_EQ(back, old_data) << len << "/" << writes;
		}
	}
}

TEST(XorDelta, WorstCaseAlternationStaysWithinTheBound)
{
	const uint32_t len = 4096;
	for (uint32_t period : {2u, 9u, 10u, 16u, 17u}) {
		Bytes a(len, 0), b(len, 0);
		for (uint32_t i = 0; i < len; i += period)
			b[i] = 0xff;
		Bytes d = encode(a, b);
		EXPECT_LE(d.size(), DYNSNAP_XOR_MAX_ENCODED(len)) << period;
	}
}

TEST(XorDelta, TooSmallOutputIsRefused)
{
	Bytes a(4096, 0), b(4096, 1), out(100);
	EXPECT_EQ(dynsnap_xor_encode(a.data(), b.data(), 4096, out.data(), out.size()), 0u);
	EXPECT_EQ(dynsnap_xor_encode(a.data(), b.data(), 4096, out.data(), 3), 0u);
}

TEST(XorDelta, EncodeDiffMatchesEncode)
{
	std::mt19937 rng(2);
	Bytes old_data = random_bytes(rng, 4096), cur = mutate(rng, old_data, 20);
	Bytes diff(4096);
	for (size_t i = 0; i < diff.size(); i++)
		diff[i] = old_data[i] ^ cur[i];
	Bytes out(DYNSNAP_XOR_MAX_ENCODED(4096));
	out.resize(dynsnap_xor_encode_diff(diff.data(), 4096, out.data(), out.size()));
	EXPECT_EQ(out, encode(old_data, cur));
}

// Epoch consolidation: the undo deltas of two epochs compose into one.
TEST(XorDelta, ComposeEqualsApplyingBoth)
{
	std::mt19937 rng(3);
	const uint32_t len = 8192;
	for (int round = 0; round < 50; round++) {
		Bytes v0 = random_bytes(rng, len);
		Bytes v1 = mutate(rng, v0, 1 + rng() % 20);
		Bytes v2 = mutate(rng, v1, 1 + rng() % 20);
		Bytes d21 = encode(v1, v2), d10 = encode(v0, v1);
		Bytes scratch(len), out(DYNSNAP_XOR_MAX_ENCODED(len));
		size_t n = dynsnap_xor_compose(d21.data(), d21.size(), d10.data(),
					       d10.size(), len, scratch.data(),
					       out.data(), out.size());
		ASSERT_GT(n, 0u);
		out.resize(n);
		EXPECT_EQ(out, encode(v0, v2));
		Bytes back = v2;
		ASSERT_EQ(dynsnap_xor_apply(back.data(), len, out.data(), out.size()), DSN_OK);
		ASSERT_EQ(back, v0);
	}
}

TEST(XorDelta, MalformedDeltasChangeNothing)
{
	Bytes a(4096, 0), b = a;
	b[100] = 1;
	b[3000] = 2;
	const Bytes good = encode(a, b);
	struct Case {
		const char *what;
		void (*edit)(Bytes &d);
		dynsnap_err want;
	} cases[] = {
		{"truncated count", [](Bytes &d) { d.resize(3); }, DSN_ERR_XOR_FORMAT},
		{"truncated run", [](Bytes &d) { d.pop_back(); }, DSN_ERR_XOR_FORMAT},
		{"trailing bytes", [](Bytes &d) { d.push_back(0); }, DSN_ERR_XOR_FORMAT},
		{"more runs than given", [](Bytes &d) { dsn_put_le32(&d[0], 3); }, DSN_ERR_XOR_FORMAT},
		{"huge run count", [](Bytes &d) { dsn_put_le32(&d[0], ~0u); }, DSN_ERR_XOR_FORMAT},
		{"empty run", [](Bytes &d) { dsn_put_le32(&d[8], 0); }, DSN_ERR_XOR_FORMAT},
		{"run past the end", [](Bytes &d) { dsn_put_le32(&d[13], 4096); }, DSN_ERR_XOR_RANGE},
		{"offset wraps", [](Bytes &d) { dsn_put_le32(&d[13], ~0u); }, DSN_ERR_XOR_RANGE},
		{"runs out of order", [](Bytes &d) { dsn_put_le32(&d[13], 50); }, DSN_ERR_XOR_FORMAT},
	};
	for (const auto &c : cases) {
		Bytes d = good;
		c.edit(d);
		Bytes data(4096, 0x77);
		EXPECT_EQ(dynsnap_xor_apply(data.data(), 4096, d.data(), d.size()), c.want)
			<< c.what;
		EXPECT_EQ(data, Bytes(4096, 0x77)) << c.what;
	}
	EXPECT_EQ(dynsnap_xor_validate(nullptr, 0, 4096), DSN_ERR_XOR_FORMAT);
	EXPECT_EQ(dynsnap_xor_validate(good.data(), good.size(), 2000), DSN_ERR_XOR_RANGE);
}

// Only the encoder's own output is valid, so sizes stay bounded and every
// valid delta re-encodes to itself.
TEST(XorDelta, NonCanonicalEncodingsAreRefused)
{
	auto delta = [](std::initializer_list<std::pair<uint32_t, Bytes>> runs) {
		Bytes d(4);
		dsn_put_le32(d.data(), runs.size());
		for (const auto &r : runs) {
			size_t at = d.size();
			d.resize(at + 8);
			dsn_put_le32(&d[at], r.first);
			dsn_put_le32(&d[at + 4], r.second.size());
			d.insert(d.end(), r.second.begin(), r.second.end());
		}
		return d;
	};
	const Bytes ok = delta({{10, {1, 0, 0, 2}}, {30, {3}}});
	EXPECT_EQ(dynsnap_xor_validate(ok.data(), ok.size(), 4096), DSN_OK);
	struct {
		const char *what;
		Bytes d;
	} cases[] = {
		{"leading zero", delta({{10, {0, 1}}})},
		{"trailing zero", delta({{10, {1, 0}}})},
		{"all zero", delta({{10, {0}}})},
		{"eight zeroes inside", delta({{10, {1, 0, 0, 0, 0, 0, 0, 0, 0, 1}}})},
		{"touching runs", delta({{10, {1}}, {11, {1}}})},
		{"runs 7 apart", delta({{10, {1}}, {18, {1}}})},
	};
	for (const auto &c : cases)
		EXPECT_EQ(dynsnap_xor_validate(c.d.data(), c.d.size(), 4096),
			  DSN_ERR_XOR_FORMAT) << c.what;
	Bytes big(DYNSNAP_XOR_MAX_ENCODED(64) + 1, 0);
	EXPECT_EQ(dynsnap_xor_validate(big.data(), big.size(), 64), DSN_ERR_XOR_FORMAT);
}

} // namespace

// SPDX-License-Identifier: GPL-2.0
// Delta record headers: round trip, field positions, and every way a
// damaged or implausible record is refused before its payload is used.
#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

#include "param_name.h"
#include "dynsnap_record.h"

namespace {

using Bytes = std::vector<uint8_t>;

const uint8_t kUuid[DYNSNAP_UUID_SIZE] = {0x11, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
const uint8_t kOtherUuid[DYNSNAP_UUID_SIZE] = {0x12, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
const uint32_t kSeed = dynsnap_record_seed(kUuid, DYNSNAP_TIER_FAST);

// Header plus payload, contiguous, as records lie in the delta store.
Bytes make_record(dynsnap_level level, uint32_t length, uint32_t stored,
		  uint32_t codec = DYNSNAP_CODEC_COMP_NONE)
{
	dynsnap_record_header h;
	dynsnap_record_init(&h, level, 77, 5, 123456, length);
	h.codec = codec;
	h.in_flight = 3;
	h.stored_length = stored;
	if (codec & DYNSNAP_CODEC_CRYPT_MASK)
		for (uint32_t i = 0; i < DYNSNAP_REC_NONCE_SIZE; i++)
			h.nonce[i] = i + 1;
	Bytes rec(DYNSNAP_REC_HEADER_SIZE + stored);
	uint8_t *p = rec.data() + DYNSNAP_REC_HEADER_SIZE;
	for (uint32_t i = 0; i < stored; i++)
		p[i] = i * 7;
	if (level == DYNSNAP_LEVEL_BIT && !codec && stored >= 13) {
		// A canonical sparse XOR delta: one run of non-zero bytes.
		dsn_put_le32(p, 1);
		dsn_put_le32(p + 4, 0);
		dsn_put_le32(p + 8, stored - 12);
		for (uint32_t i = 12; i < stored; i++)
			p[i] = 1 + i % 255;
	}
	dynsnap_record_encode(&h, rec.data(), rec.data() + DYNSNAP_REC_HEADER_SIZE, kSeed);
	return rec;
}

dynsnap_err decode(const Bytes &rec, dynsnap_record_header *h = nullptr)
{
	dynsnap_record_header tmp;
	const uint8_t *payload;
	return dynsnap_record_decode(rec.data(), rec.size(), kSeed, h ? h : &tmp, &payload);
}

void reseal(Bytes &rec)
{
	// The format's rule, written out: both checksums start from the
	// store's seed (the crc32c of the UUID, then of the tier).
	const uint8_t tier = DYNSNAP_TIER_FAST;
	const uint32_t seed = dsn_crc32c(dsn_crc32c(~0U, kUuid, DYNSNAP_UUID_SIZE), &tier, 1);
	uint32_t stored = dsn_get_le32(&rec[44]);
	if (rec.size() - DYNSNAP_REC_HEADER_SIZE >= stored)
		dsn_put_le32(&rec[60], dsn_crc32c(seed, &rec[DYNSNAP_REC_HEADER_SIZE], stored) ^
					       DYNSNAP_REC_CSUM_XOR);
	dsn_put_le32(&rec[0], dsn_crc32c(seed, &rec[4], DYNSNAP_REC_HEADER_SIZE - 4) ^
				      DYNSNAP_REC_CSUM_XOR);
}

TEST(Record, RoundTrip)
{
	Bytes rec = make_record(DYNSNAP_LEVEL_SUB, 4096, 4096);
	dynsnap_record_header h;
	const uint8_t *payload = nullptr;
	ASSERT_EQ(dynsnap_record_decode(rec.data(), rec.size(), kSeed, &h, &payload), DSN_OK);
	EXPECT_EQ(h.level, (uint32_t)DYNSNAP_LEVEL_SUB);
	EXPECT_EQ(h.sequence, 77u);
	EXPECT_EQ(h.in_flight, 3u);
	EXPECT_EQ(dynsnap_record_durable_below(&h), 74u);
	EXPECT_EQ(h.epoch, 5u);
	EXPECT_EQ(h.location, 123456u);
	EXPECT_EQ(h.length, 4096u);
	EXPECT_EQ(h.stored_length, 4096u);
	EXPECT_EQ(payload, rec.data() + DYNSNAP_REC_HEADER_SIZE);
	EXPECT_EQ(dynsnap_record_size(&h), DYNSNAP_REC_HEADER_SIZE + 4096);
}

TEST(Record, FieldsSitWhereTheFormatSays)
{
	Bytes rec = make_record(DYNSNAP_LEVEL_BIT, 65536, 30);
	EXPECT_EQ(std::string(rec.begin() + 4, rec.begin() + 8), "DSNR");
	EXPECT_EQ(dsn_get_le16(&rec[8]), 2u);
	EXPECT_EQ(rec[10], DYNSNAP_LEVEL_BIT);
	EXPECT_EQ(dsn_get_le64(&rec[16]), 77u);
	EXPECT_EQ(dsn_get_le64(&rec[24]), 5u);
	EXPECT_EQ(dsn_get_le64(&rec[32]), 123456u);
	EXPECT_EQ(dsn_get_le32(&rec[40]), 65536u);
	EXPECT_EQ(dsn_get_le32(&rec[44]), 30u);
	EXPECT_EQ(dsn_get_le16(&rec[12]), 0u);		// flags
	EXPECT_EQ(dsn_get_le16(&rec[14]), 3u);		// in flight
	EXPECT_EQ(dsn_get_le32(&rec[60]),			// payload checksum
		  dsn_crc32c(kSeed, &rec[64], 30) ^ DYNSNAP_REC_CSUM_XOR);
	EXPECT_EQ(dsn_get_le32(&rec[0]),
		  dsn_crc32c(kSeed, &rec[4], 60) ^ DYNSNAP_REC_CSUM_XOR);
}

// A record verifies only as one of its own store and tier.
TEST(Record, BelongsToItsStoreAndTier)
{
	Bytes rec = make_record(DYNSNAP_LEVEL_SUB, 4096, 4096);
	dynsnap_record_header h;
	const uint8_t *payload;
	const uint32_t other_store = dynsnap_record_seed(kOtherUuid, DYNSNAP_TIER_FAST);
	const uint32_t other_tier = dynsnap_record_seed(kUuid, DYNSNAP_TIER_SLOW);
	EXPECT_NE(kSeed, other_store);
	EXPECT_NE(kSeed, other_tier);
	for (uint32_t seed : {other_store, other_tier}) {
		EXPECT_EQ(dynsnap_record_decode(rec.data(), rec.size(), seed, &h, &payload),
			  DSN_ERR_REC_CSUM);
		EXPECT_EQ(dynsnap_record_verify(rec.data(), rec.data() + 64, 4096, seed),
			  DSN_ERR_REC_CSUM);
	}
	EXPECT_EQ(dynsnap_record_verify(rec.data(), rec.data() + 64, 4096, kSeed), DSN_OK);
}

TEST(Record, CodecsAndTheirLengths)
{
	// Compressed payloads may be anything up to the raw size.
	EXPECT_EQ(decode(make_record(DYNSNAP_LEVEL_BLOCK, 65536, 100,
				     DYNSNAP_CODEC_COMP_LZ4)), DSN_OK);
	EXPECT_EQ(decode(make_record(DYNSNAP_LEVEL_BLOCK, 65536, 100,
				     DYNSNAP_CODEC_COMP_ZSTD)), DSN_OK);
	// Encryption adds a tag.
	EXPECT_EQ(decode(make_record(DYNSNAP_LEVEL_SUB, 4096, 4096 + 16,
				     DYNSNAP_CODEC_CRYPT_AES_GCM)), DSN_OK);
	EXPECT_EQ(decode(make_record(DYNSNAP_LEVEL_SUB, 4096, 4096,
				     DYNSNAP_CODEC_CRYPT_AES_GCM)),
		  DSN_ERR_REC_STORED_LENGTH);
	// Raw block payloads are exactly the block.
	EXPECT_EQ(decode(make_record(DYNSNAP_LEVEL_BLOCK, 4096, 4000)),
		  DSN_ERR_REC_STORED_LENGTH);
	// A sparse XOR delta never exceeds length + 12.
	EXPECT_EQ(decode(make_record(DYNSNAP_LEVEL_BIT, 4096, 4108)), DSN_OK);
	EXPECT_EQ(decode(make_record(DYNSNAP_LEVEL_BIT, 4096, 4109)),
		  DSN_ERR_REC_STORED_LENGTH);
	EXPECT_EQ(decode(make_record(DYNSNAP_LEVEL_BLOCK, 65536, 70000,
				     DYNSNAP_CODEC_COMP_LZ4)),
		  DSN_ERR_REC_STORED_LENGTH);
	// An encrypted payload holds at least its tag and one byte.
	EXPECT_EQ(decode(make_record(DYNSNAP_LEVEL_BLOCK, 65536, 16,
				     DYNSNAP_CODEC_COMP_LZ4 | DYNSNAP_CODEC_CRYPT_AES_GCM)),
		  DSN_ERR_REC_STORED_LENGTH);
	// A raw bit-level payload must be a valid sparse XOR delta.
	EXPECT_EQ(decode(make_record(DYNSNAP_LEVEL_BIT, 4096, 2)), DSN_ERR_XOR_FORMAT);
}

TEST(Record, MustFitTheGeometry)
{
	dynsnap_geometry g{128, 8, 8192};	// 64 KiB blocks, 4 KiB sub-blocks
	const uint64_t volume = 1 << 20;
	struct Case {
		dynsnap_level level;
		uint64_t location;
		uint32_t length;
		dynsnap_err want;
	} cases[] = {
		{DYNSNAP_LEVEL_BLOCK, 256, 65536, DSN_OK},
		{DYNSNAP_LEVEL_BLOCK, 3, 512, DSN_ERR_REC_LENGTH},
		{DYNSNAP_LEVEL_BLOCK, 64, 65536, DSN_ERR_REC_LENGTH},
		{DYNSNAP_LEVEL_SUB, 264, 8192, DSN_OK},
		{DYNSNAP_LEVEL_SUB, 260, 4096, DSN_ERR_REC_LENGTH},
		{DYNSNAP_LEVEL_SUB, 264, 2048, DSN_ERR_REC_LENGTH},
		{DYNSNAP_LEVEL_SUB, 248, 8192, DSN_ERR_REC_LENGTH},	// crosses a block
		{DYNSNAP_LEVEL_BIT, 300, 1024, DSN_OK},
		{DYNSNAP_LEVEL_BIT, 383, 1024, DSN_ERR_REC_LENGTH},	// crosses a block
		{DYNSNAP_LEVEL_BIT, volume - 1, 512, DSN_OK},
		{DYNSNAP_LEVEL_BIT, volume, 512, DSN_ERR_REC_LENGTH},
	};
	for (const auto &c : cases) {
		dynsnap_record_header h;
		dynsnap_record_init(&h, c.level, 1, 2, c.location, c.length);
		EXPECT_EQ(dynsnap_record_check_geometry(&h, &g, volume), c.want)
			<< c.level << " at " << c.location << " len " << c.length;
	}
}

TEST(Record, EveryFlippedBitIsCaught)
{
	const Bytes good = make_record(DYNSNAP_LEVEL_SUB, 4096, 4096);
	for (size_t byte = 0; byte < good.size(); byte += 5) {
		Bytes rec = good;
		rec[byte] ^= 0x10;
		EXPECT_NE(decode(rec), DSN_OK) << byte;
	}
}

// Payload and header have checksums of their own: damage in the payload
// leaves a header that can be trusted; damage in the header does not.
TEST(Record, PayloadAndHeaderChecksumsAreApart)
{
	Bytes rec = make_record(DYNSNAP_LEVEL_BLOCK, 4096, 4096);
	rec.back() ^= 1;
	EXPECT_EQ(decode(rec), DSN_ERR_REC_PAYLOAD_CSUM);
	dynsnap_record_header h;
	ASSERT_EQ(dynsnap_record_decode_header(rec.data(), rec.size(), &h), DSN_OK);
	EXPECT_EQ(dynsnap_record_verify_header(rec.data(), kSeed), DSN_OK);
	EXPECT_EQ(dynsnap_record_verify(rec.data(), rec.data() + 64, h.stored_length, kSeed),
		  DSN_ERR_REC_PAYLOAD_CSUM);

	rec.back() ^= 1;
	for (size_t byte : {0, 24, 32, 61}) {	// checksums, epoch, location
		Bytes bad = rec;
		bad[byte] ^= 4;
		EXPECT_EQ(dynsnap_record_verify_header(bad.data(), kSeed), DSN_ERR_REC_CSUM) << byte;
		EXPECT_EQ(decode(bad), DSN_ERR_REC_CSUM) << byte;
	}
}

TEST(Record, TruncatedRecordsAreRefused)
{
	Bytes rec = make_record(DYNSNAP_LEVEL_BLOCK, 4096, 4096);
	dynsnap_record_header h;
	const uint8_t *payload;
	EXPECT_EQ(dynsnap_record_decode(rec.data(), 63, kSeed, &h, &payload), DSN_ERR_REC_SHORT);
	EXPECT_EQ(dynsnap_record_decode(rec.data(), rec.size() - 1, kSeed, &h, &payload),
		  DSN_ERR_REC_SHORT);
	EXPECT_EQ(dynsnap_record_decode(nullptr, 0, kSeed, &h, &payload), DSN_ERR_REC_SHORT);
}

struct Edit {
	const char *what;
	void (*apply)(Bytes &rec);
	dynsnap_err want;
};

void PrintTo(const Edit &e, std::ostream *os)
{
	*os << e.what;
}

class RecordEdit : public ::testing::TestWithParam<Edit> {};

TEST_P(RecordEdit, IsRefusedEvenWithAValidChecksum)
{
	Bytes rec = make_record(DYNSNAP_LEVEL_SUB, 4096, 4096);
	GetParam().apply(rec);
	reseal(rec);
	EXPECT_EQ(decode(rec), GetParam().want);
}

const Edit kEdits[] = {
	{"magic", [](Bytes &r) { r[4] = 'X'; }, DSN_ERR_REC_MAGIC},
	{"version 0", [](Bytes &r) { dsn_put_le16(&r[8], 0); }, DSN_ERR_REC_VERSION},
	{"version 1", [](Bytes &r) { dsn_put_le16(&r[8], 1); }, DSN_ERR_REC_VERSION},
	{"version 3", [](Bytes &r) { dsn_put_le16(&r[8], 3); }, DSN_ERR_REC_VERSION},
	{"level 3", [](Bytes &r) { r[10] = 3; }, DSN_ERR_REC_LEVEL},
	{"compression 3", [](Bytes &r) { r[11] = 3; }, DSN_ERR_REC_CODEC},
	{"encryption 2", [](Bytes &r) { r[11] = 0x20; }, DSN_ERR_REC_CODEC},
	{"unknown flag", [](Bytes &r) { r[12] = 2; }, DSN_ERR_REC_FLAGS},
	{"high flag", [](Bytes &r) { r[13] = 0x80; }, DSN_ERR_REC_FLAGS},
	// The control flag makes level 1 a SNAP_CREATE, which covers no data.
	{"control flag on a delta", [](Bytes &r) { r[12] = 1; }, DSN_ERR_REC_LENGTH},
	{"in flight beyond the sequence", [](Bytes &r) { dsn_put_le16(&r[14], 78); },
	 DSN_ERR_REC_IN_FLIGHT},
	{"in flight high byte", [](Bytes &r) { r[15] = 1; }, DSN_ERR_REC_IN_FLIGHT},
	{"nonce without encryption", [](Bytes &r) { r[50] = 1; }, DSN_ERR_REC_FLAGS},
	{"length 0", [](Bytes &r) { dsn_put_le32(&r[40], 0); }, DSN_ERR_REC_LENGTH},
	{"length not sectors", [](Bytes &r) { dsn_put_le32(&r[40], 4000); }, DSN_ERR_REC_LENGTH},
	{"length over 1 MiB", [](Bytes &r) { dsn_put_le32(&r[40], 2u << 20); },
	 DSN_ERR_REC_LENGTH},
	{"location wraps", [](Bytes &r) { dsn_put_le64(&r[32], ~0ull - 2); },
	 DSN_ERR_REC_LENGTH},
	{"stored length 0", [](Bytes &r) { dsn_put_le32(&r[44], 0); },
	 DSN_ERR_REC_STORED_LENGTH},
	{"stored length huge", [](Bytes &r) { dsn_put_le32(&r[44], ~0u); },
	 DSN_ERR_REC_STORED_LENGTH},
};

INSTANTIATE_TEST_SUITE_P(All, RecordEdit, ::testing::ValuesIn(kEdits),
			 dynsnap::test::NameFromWhat());

} // namespace

// SPDX-License-Identifier: GPL-2.0
// Control records: payload round trips, field positions, the snapshot name
// rule, and every way a damaged or implausible control record is refused,
// as a payload and as a whole record in the delta log.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "param_name.h"
#include "dynsnap_control.h"

namespace {

using Bytes = std::vector<uint8_t>;

dynsnap_ctl_snap_create make_create(const std::string &name = "nightly-2024.06.01")
{
	dynsnap_ctl_snap_create c{};
	c.id = 0x0102030405060708ull;
	c.epoch = 42;
	c.ctime_ns = 1717200000123456789ull;
	c.name_len = name.size();
	memcpy(c.name, name.data(), name.size());
	return c;
}

Bytes encode(const dynsnap_ctl_snap_create &c)
{
	Bytes b(DYNSNAP_CTL_SNAP_CREATE_SIZE, 0xee);
	dynsnap_ctl_snap_create_encode(&c, b.data());
	return b;
}

Bytes encode(const dynsnap_ctl_snap_delete &c)
{
	Bytes b(DYNSNAP_CTL_SNAP_DELETE_SIZE, 0xee);
	dynsnap_ctl_snap_delete_encode(&c, b.data());
	return b;
}

Bytes encode(const dynsnap_ctl_granularity &c)
{
	Bytes b(DYNSNAP_CTL_GRANULARITY_SIZE, 0xee);
	dynsnap_ctl_granularity_encode(&c, b.data());
	return b;
}

// Any store's seed: control records are checksummed like delta records.
const uint32_t kSeed = 0x8badf00d;

// A whole control record: header, then @payload, checksummed.
Bytes make_record(dynsnap_control_type type, const Bytes &payload)
{
	dynsnap_record_header h;
	dynsnap_record_init_control(&h, type, 900, 7, payload.size());
	Bytes rec(DYNSNAP_REC_HEADER_SIZE + payload.size());
	std::copy(payload.begin(), payload.end(), rec.begin() + DYNSNAP_REC_HEADER_SIZE);
	dynsnap_record_encode(&h, rec.data(), rec.data() + DYNSNAP_REC_HEADER_SIZE, kSeed);
	return rec;
}

void reseal(Bytes &rec)
{
	// The format's rule, written out: both checksums start from the
	// store's seed (any fixed one here).
	const uint32_t seed = kSeed;
	uint32_t stored = dsn_get_le32(&rec[44]);
	if (rec.size() - DYNSNAP_REC_HEADER_SIZE >= stored)
		dsn_put_le32(&rec[60], dsn_crc32c(seed, &rec[DYNSNAP_REC_HEADER_SIZE], stored) ^
					       DYNSNAP_REC_CSUM_XOR);
	dsn_put_le32(&rec[0], dsn_crc32c(seed, &rec[4], DYNSNAP_REC_HEADER_SIZE - 4) ^
				      DYNSNAP_REC_CSUM_XOR);
}

dynsnap_err decode_record(const Bytes &rec, dynsnap_record_header *h = nullptr)
{
	dynsnap_record_header tmp;
	const uint8_t *payload;
	return dynsnap_record_decode(rec.data(), rec.size(), kSeed, h ? h : &tmp, &payload);
}

TEST(Control, PayloadSizes)
{
	EXPECT_EQ(dynsnap_ctl_payload_size(DYNSNAP_CTL_SNAP_CREATE), 96u);
	EXPECT_EQ(dynsnap_ctl_payload_size(DYNSNAP_CTL_SNAP_DELETE), 16u);
	EXPECT_EQ(dynsnap_ctl_payload_size(DYNSNAP_CTL_GRANULARITY), 24u);
	for (uint32_t t : {0u, 4u, 255u, 0x100u, ~0u})
		EXPECT_EQ(dynsnap_ctl_payload_size(t), 0u) << t;
}

TEST(Control, SnapCreateRoundTrip)
{
	const dynsnap_ctl_snap_create in = make_create();
	Bytes b = encode(in);
	dynsnap_ctl_snap_create out;
	memset(&out, 0x55, sizeof(out));
	ASSERT_EQ(dynsnap_ctl_snap_create_decode(b.data(), b.size(), &out), DSN_OK);
	EXPECT_EQ(out.id, in.id);
	EXPECT_EQ(out.epoch, 42u);
	EXPECT_EQ(out.ctime_ns, in.ctime_ns);
	EXPECT_EQ(out.name_len, 18u);
	EXPECT_STREQ(out.name, "nightly-2024.06.01");

	// The longest name fills the field and is still NUL-terminated.
	const std::string longest(DYNSNAP_SNAP_NAME_MAX, 'z');
	b = encode(make_create(longest));
	ASSERT_EQ(dynsnap_ctl_snap_create_decode(b.data(), b.size(), &out), DSN_OK);
	EXPECT_EQ(out.name_len, DYNSNAP_SNAP_NAME_MAX);
	EXPECT_EQ(std::string(out.name), longest);
}

TEST(Control, SnapCreateFieldsSitWhereTheFormatSays)
{
	Bytes b = encode(make_create("a:b"));
	EXPECT_EQ(dsn_get_le64(&b[0]), 0x0102030405060708ull);
	EXPECT_EQ(dsn_get_le64(&b[8]), 42u);
	EXPECT_EQ(dsn_get_le64(&b[16]), 1717200000123456789ull);
	EXPECT_EQ(dsn_get_le32(&b[24]), 0u);
	EXPECT_EQ(b[28], 3u);
	EXPECT_EQ(std::string(b.begin() + 32, b.begin() + 35), "a:b");
	EXPECT_TRUE(dynsnap_is_zeroed(&b[29], 3));
	EXPECT_TRUE(dynsnap_is_zeroed(&b[35], 96 - 35));
}

TEST(Control, SnapDeleteRoundTrip)
{
	Bytes b = encode(dynsnap_ctl_snap_delete{77});
	EXPECT_EQ(dsn_get_le64(&b[0]), 77u);
	EXPECT_EQ(dsn_get_le64(&b[8]), 0u);
	dynsnap_ctl_snap_delete out{};
	ASSERT_EQ(dynsnap_ctl_snap_delete_decode(b.data(), b.size(), &out), DSN_OK);
	EXPECT_EQ(out.id, 77u);
}

TEST(Control, GranularityRoundTrip)
{
	dynsnap_ctl_granularity in{9, 100, 28, DYNSNAP_LEVEL_BIT};
	Bytes b = encode(in);
	EXPECT_EQ(dsn_get_le64(&b[0]), 9u);
	EXPECT_EQ(dsn_get_le32(&b[8]), 100u);
	EXPECT_EQ(dsn_get_le32(&b[12]), 28u);
	EXPECT_EQ(dsn_get_le32(&b[16]), (uint32_t)DYNSNAP_LEVEL_BIT);
	EXPECT_EQ(dsn_get_le32(&b[20]), 0u);
	dynsnap_ctl_granularity out{};
	ASSERT_EQ(dynsnap_ctl_granularity_decode(b.data(), b.size(), &out), DSN_OK);
	EXPECT_EQ(out.epoch, 9u);
	EXPECT_EQ(out.first_region, 100u);
	EXPECT_EQ(out.count, 28u);
	EXPECT_EQ(out.level, (uint32_t)DYNSNAP_LEVEL_BIT);

	// The range may reach the largest u32, first_region + count itself.
	b = encode(dynsnap_ctl_granularity{1, ~0u - 10, 10, DYNSNAP_LEVEL_BLOCK});
	EXPECT_EQ(dynsnap_ctl_granularity_decode(b.data(), b.size(), &out), DSN_OK);
}

TEST(Control, ShortPayloadsAreRefused)
{
	Bytes b = encode(make_create());
	dynsnap_ctl_snap_create c;
	dynsnap_ctl_snap_delete d;
	dynsnap_ctl_granularity g;
	EXPECT_EQ(dynsnap_ctl_snap_create_decode(b.data(), 95, &c), DSN_ERR_CTL_SHORT);
	EXPECT_EQ(dynsnap_ctl_snap_create_decode(nullptr, 96, &c), DSN_ERR_CTL_SHORT);
	EXPECT_EQ(dynsnap_ctl_snap_delete_decode(b.data(), 15, &d), DSN_ERR_CTL_SHORT);
	EXPECT_EQ(dynsnap_ctl_snap_delete_decode(nullptr, 16, &d), DSN_ERR_CTL_SHORT);
	EXPECT_EQ(dynsnap_ctl_granularity_decode(b.data(), 23, &g), DSN_ERR_CTL_SHORT);
	EXPECT_EQ(dynsnap_ctl_granularity_decode(nullptr, 24, &g), DSN_ERR_CTL_SHORT);
	EXPECT_EQ(dynsnap_ctl_validate(DYNSNAP_CTL_SNAP_CREATE, b.data(), 95),
		  DSN_ERR_CTL_SHORT);
	EXPECT_EQ(dynsnap_ctl_validate(0, b.data(), b.size()), DSN_ERR_CTL_TYPE);
	EXPECT_EQ(dynsnap_ctl_validate(4, b.data(), b.size()), DSN_ERR_CTL_TYPE);
}

struct NameCase {
	const char *what;
	std::string name;
	bool valid;
};

void PrintTo(const NameCase &c, std::ostream *os)
{
	*os << c.what;
}

class SnapName : public ::testing::TestWithParam<NameCase> {};

TEST_P(SnapName, FollowsTheRule)
{
	const NameCase &c = GetParam();
	EXPECT_EQ(dynsnap_snap_name_valid(c.name.data(), c.name.size()), c.valid);

	// Snapshot creation records accept exactly the valid names.
	if (c.name.empty() || c.name.size() > DYNSNAP_SNAP_NAME_MAX)
		return;
	Bytes b = encode(make_create(c.name));
	dynsnap_ctl_snap_create out;
	EXPECT_EQ(dynsnap_ctl_snap_create_decode(b.data(), b.size(), &out),
		  c.valid ? DSN_OK : DSN_ERR_CTL_NAME);
}

const NameCase kNames[] = {
	{"simple", "daily", true},
	{"every allowed character",
	 "AZaz09._:@+-", true},
	{"one character", "x", true},
	{"leading dot", ".hidden", true},
	{"leading digit", "2024-06-01", true},
	{"64 characters", std::string(64, 'a'), true},
	{"empty", "", false},
	{"65 characters", std::string(65, 'a'), false},
	{"leading dash", "-rf", false},
	{"lone dash", "-", false},
	{"space", "my snap", false},
	{"tab", "a\tb", false},
	{"newline", "a\nb", false},
	{"slash", "a/b", false},
	{"comma", "a,b", false},
	{"equals", "a=b", false},
	{"quote", "a'b", false},
	{"NUL inside", std::string("a\0b", 3), false},
	{"DEL", "a\x7f", false},
	{"high byte", "caf\xc3\xa9", false},
};

INSTANTIATE_TEST_SUITE_P(All, SnapName, ::testing::ValuesIn(kNames),
			 dynsnap::test::NameFromWhat());

TEST(Control, NameValidNeedsABuffer)
{
	EXPECT_FALSE(dynsnap_snap_name_valid(nullptr, 0));
	EXPECT_FALSE(dynsnap_snap_name_valid(nullptr, 4));
}

TEST(Control, EncoderCutsOverlongNames)
{
	dynsnap_ctl_snap_create c = make_create(std::string(64, 'q'));
	c.name_len = 200;
	Bytes b(DYNSNAP_CTL_SNAP_CREATE_SIZE + 8, 0xee);
	dynsnap_ctl_snap_create_encode(&c, b.data());
	EXPECT_EQ(b[28], 64u);
	EXPECT_EQ(b[96], 0xee);	// nothing written past the payload
}

struct PayloadEdit {
	const char *what;
	dynsnap_control_type type;
	void (*apply)(Bytes &p);
	dynsnap_err want;
};

void PrintTo(const PayloadEdit &e, std::ostream *os)
{
	*os << e.what;
}

Bytes good_payload(dynsnap_control_type type)
{
	switch (type) {
	case DYNSNAP_CTL_SNAP_CREATE:
		return encode(make_create());
	case DYNSNAP_CTL_SNAP_DELETE:
		return encode(dynsnap_ctl_snap_delete{3});
	default:
		return encode(dynsnap_ctl_granularity{5, 10, 4, DYNSNAP_LEVEL_SUB});
	}
}

class ControlPayloadEdit : public ::testing::TestWithParam<PayloadEdit> {};

TEST_P(ControlPayloadEdit, IsRefused)
{
	const PayloadEdit &e = GetParam();
	Bytes p = good_payload(e.type);
	ASSERT_EQ(dynsnap_ctl_validate(e.type, p.data(), p.size()), DSN_OK);
	e.apply(p);
	EXPECT_EQ(dynsnap_ctl_validate(e.type, p.data(), p.size()), e.want);

	// Checksummed into a record, it is refused there too.
	Bytes rec = make_record(e.type, p);
	EXPECT_EQ(decode_record(rec), e.want);
}

const PayloadEdit kPayloadEdits[] = {
	{"create id 0", DYNSNAP_CTL_SNAP_CREATE,
	 [](Bytes &p) { dsn_put_le64(&p[0], 0); }, DSN_ERR_CTL_ZERO},
	{"create epoch 0", DYNSNAP_CTL_SNAP_CREATE,
	 [](Bytes &p) { dsn_put_le64(&p[8], 0); }, DSN_ERR_CTL_ZERO},
	{"create flags", DYNSNAP_CTL_SNAP_CREATE,
	 [](Bytes &p) { p[24] = 1; }, DSN_ERR_CTL_RESERVED},
	{"create high flag", DYNSNAP_CTL_SNAP_CREATE,
	 [](Bytes &p) { p[27] = 0x80; }, DSN_ERR_CTL_RESERVED},
	{"create reserved", DYNSNAP_CTL_SNAP_CREATE,
	 [](Bytes &p) { p[31] = 1; }, DSN_ERR_CTL_RESERVED},
	{"create name length 0", DYNSNAP_CTL_SNAP_CREATE,
	 [](Bytes &p) { p[28] = 0; }, DSN_ERR_CTL_NAME},
	{"create name length 65", DYNSNAP_CTL_SNAP_CREATE,
	 [](Bytes &p) { p[28] = 65; }, DSN_ERR_CTL_NAME},
	{"create name length 255", DYNSNAP_CTL_SNAP_CREATE,
	 [](Bytes &p) { p[28] = 255; }, DSN_ERR_CTL_NAME},
	{"create name length past the name", DYNSNAP_CTL_SNAP_CREATE,
	 [](Bytes &p) { p[28]++; }, DSN_ERR_CTL_NAME},
	{"create name with a space", DYNSNAP_CTL_SNAP_CREATE,
	 [](Bytes &p) { p[33] = ' '; }, DSN_ERR_CTL_NAME},
	{"create name with a leading dash", DYNSNAP_CTL_SNAP_CREATE,
	 [](Bytes &p) { p[32] = '-'; }, DSN_ERR_CTL_NAME},
	{"create padding not zero", DYNSNAP_CTL_SNAP_CREATE,
	 [](Bytes &p) { p[95] = 'x'; }, DSN_ERR_CTL_RESERVED},
	{"create name length short of the name", DYNSNAP_CTL_SNAP_CREATE,
	 [](Bytes &p) { p[28]--; }, DSN_ERR_CTL_RESERVED},
	{"delete id 0", DYNSNAP_CTL_SNAP_DELETE,
	 [](Bytes &p) { dsn_put_le64(&p[0], 0); }, DSN_ERR_CTL_ZERO},
	{"delete reserved", DYNSNAP_CTL_SNAP_DELETE,
	 [](Bytes &p) { p[15] = 1; }, DSN_ERR_CTL_RESERVED},
	{"granularity epoch 0", DYNSNAP_CTL_GRANULARITY,
	 [](Bytes &p) { dsn_put_le64(&p[0], 0); }, DSN_ERR_CTL_ZERO},
	{"granularity count 0", DYNSNAP_CTL_GRANULARITY,
	 [](Bytes &p) { dsn_put_le32(&p[12], 0); }, DSN_ERR_CTL_RANGE},
	{"granularity range wraps", DYNSNAP_CTL_GRANULARITY,
	 [](Bytes &p) { dsn_put_le32(&p[8], ~0u - 2); }, DSN_ERR_CTL_RANGE},
	{"granularity range ends at 2^32", DYNSNAP_CTL_GRANULARITY,
	 [](Bytes &p) { dsn_put_le32(&p[8], ~0u - 10); dsn_put_le32(&p[12], 11); },
	 DSN_ERR_CTL_RANGE},
	{"granularity last region 2^32 - 1", DYNSNAP_CTL_GRANULARITY,
	 [](Bytes &p) { dsn_put_le32(&p[8], ~0u); dsn_put_le32(&p[12], 1); },
	 DSN_ERR_CTL_RANGE},
	{"granularity level 3", DYNSNAP_CTL_GRANULARITY,
	 [](Bytes &p) { dsn_put_le32(&p[16], 3); }, DSN_ERR_REC_LEVEL},
	{"granularity level huge", DYNSNAP_CTL_GRANULARITY,
	 [](Bytes &p) { dsn_put_le32(&p[16], ~0u); }, DSN_ERR_REC_LEVEL},
	{"granularity reserved", DYNSNAP_CTL_GRANULARITY,
	 [](Bytes &p) { p[23] = 1; }, DSN_ERR_CTL_RESERVED},
};

INSTANTIATE_TEST_SUITE_P(All, ControlPayloadEdit, ::testing::ValuesIn(kPayloadEdits),
			 dynsnap::test::NameFromWhat());

TEST(ControlRecord, RoundTrip)
{
	for (dynsnap_control_type type : {DYNSNAP_CTL_SNAP_CREATE, DYNSNAP_CTL_SNAP_DELETE,
					  DYNSNAP_CTL_GRANULARITY}) {
		const Bytes payload = good_payload(type);
		Bytes rec = make_record(type, payload);
		dynsnap_record_header h;
		const uint8_t *p = nullptr;
		ASSERT_EQ(dynsnap_record_decode(rec.data(), rec.size(), kSeed, &h, &p), DSN_OK)
			<< type;
		EXPECT_TRUE(dynsnap_record_is_control(&h));
		EXPECT_EQ(h.flags, DYNSNAP_REC_FLAG_CONTROL);
		EXPECT_EQ(h.level, (uint32_t)type);
		EXPECT_EQ(h.sequence, 900u);
		EXPECT_EQ(h.epoch, 7u);
		EXPECT_EQ(h.location, 0u);
		EXPECT_EQ(h.length, 0u);
		EXPECT_EQ(h.codec, 0u);
		EXPECT_EQ(h.stored_length, payload.size());
		EXPECT_EQ(p, rec.data() + DYNSNAP_REC_HEADER_SIZE);
		EXPECT_EQ(dynsnap_record_size(&h), DYNSNAP_REC_HEADER_SIZE + payload.size());
		EXPECT_EQ(dsn_get_le32(&rec[12]), DYNSNAP_REC_FLAG_CONTROL);
		EXPECT_EQ(rec[10], type);

		// A control record fits any geometry: it covers no volume data.
		dynsnap_geometry g{128, 8, 8192};
		EXPECT_EQ(dynsnap_record_check_geometry(&h, &g, 1 << 20), DSN_OK);
	}
}

TEST(ControlRecord, DeltaRecordsAreNotControl)
{
	dynsnap_record_header h;
	dynsnap_record_init(&h, DYNSNAP_LEVEL_SUB, 1, 2, 8, 4096);
	EXPECT_FALSE(dynsnap_record_is_control(&h));
	dynsnap_record_init_control(&h, DYNSNAP_CTL_SNAP_DELETE, 1, 2,
				    DYNSNAP_CTL_SNAP_DELETE_SIZE);
	EXPECT_TRUE(dynsnap_record_is_control(&h));
}

TEST(ControlRecord, EveryFlippedBitIsCaught)
{
	const Bytes good = make_record(DYNSNAP_CTL_SNAP_CREATE,
				       good_payload(DYNSNAP_CTL_SNAP_CREATE));
	for (size_t byte = 0; byte < good.size(); byte++) {
		Bytes rec = good;
		rec[byte] ^= 0x04;
		EXPECT_NE(decode_record(rec), DSN_OK) << byte;
	}
}

TEST(ControlRecord, TruncatedRecordsAreRefused)
{
	Bytes rec = make_record(DYNSNAP_CTL_SNAP_DELETE, good_payload(DYNSNAP_CTL_SNAP_DELETE));
	rec.pop_back();
	EXPECT_EQ(decode_record(rec), DSN_ERR_REC_SHORT);
}

struct HeaderEdit {
	const char *what;
	void (*apply)(Bytes &rec);
	dynsnap_err want;
};

void PrintTo(const HeaderEdit &e, std::ostream *os)
{
	*os << e.what;
}

class ControlHeaderEdit : public ::testing::TestWithParam<HeaderEdit> {};

TEST_P(ControlHeaderEdit, IsRefusedEvenWithAValidChecksum)
{
	Bytes rec = make_record(DYNSNAP_CTL_GRANULARITY, good_payload(DYNSNAP_CTL_GRANULARITY));
	GetParam().apply(rec);
	reseal(rec);
	dynsnap_record_header h;
	EXPECT_EQ(decode_record(rec), GetParam().want);
	EXPECT_EQ(dynsnap_record_decode_header(rec.data(), rec.size(), &h), GetParam().want);
}

const HeaderEdit kHeaderEdits[] = {
	{"type 0", [](Bytes &r) { r[10] = 0; }, DSN_ERR_CTL_TYPE},
	{"type 4", [](Bytes &r) { r[10] = 4; }, DSN_ERR_CTL_TYPE},
	{"type 255", [](Bytes &r) { r[10] = 255; }, DSN_ERR_CTL_TYPE},
	{"location", [](Bytes &r) { dsn_put_le64(&r[32], 8); }, DSN_ERR_REC_LENGTH},
	{"location high", [](Bytes &r) { r[39] = 1; }, DSN_ERR_REC_LENGTH},
	{"length", [](Bytes &r) { dsn_put_le32(&r[40], 512); }, DSN_ERR_REC_LENGTH},
	{"compressed", [](Bytes &r) { r[11] = DYNSNAP_CODEC_COMP_LZ4; }, DSN_ERR_REC_CODEC},
	{"encrypted", [](Bytes &r) { r[11] = DYNSNAP_CODEC_CRYPT_AES_GCM; },
	 DSN_ERR_REC_CODEC},
	{"unknown codec", [](Bytes &r) { r[11] = 0x33; }, DSN_ERR_REC_CODEC},
	{"stored length 0", [](Bytes &r) { dsn_put_le32(&r[44], 0); },
	 DSN_ERR_REC_STORED_LENGTH},
	{"stored length short", [](Bytes &r) { dsn_put_le32(&r[44], 23); },
	 DSN_ERR_REC_STORED_LENGTH},
	{"stored length long", [](Bytes &r) { dsn_put_le32(&r[44], 25); },
	 DSN_ERR_REC_STORED_LENGTH},
	{"another type's size", [](Bytes &r) { r[10] = DYNSNAP_CTL_SNAP_DELETE; },
	 DSN_ERR_REC_STORED_LENGTH},
	{"nonce", [](Bytes &r) { r[48] = 1; }, DSN_ERR_REC_FLAGS},
	{"in flight beyond the sequence", [](Bytes &r) { dsn_put_le16(&r[14], 901); },
	 DSN_ERR_REC_IN_FLIGHT},
	{"another flag", [](Bytes &r) { r[12] = 3; }, DSN_ERR_REC_FLAGS},
};

INSTANTIATE_TEST_SUITE_P(All, ControlHeaderEdit, ::testing::ValuesIn(kHeaderEdits),
			 dynsnap::test::NameFromWhat());

TEST(ControlRecord, GeometryCheckRefusesBadControlHeaders)
{
	dynsnap_geometry g{128, 8, 8192};
	dynsnap_record_header good;
	dynsnap_record_init_control(&good, DYNSNAP_CTL_SNAP_CREATE, 1, 1,
				    DYNSNAP_CTL_SNAP_CREATE_SIZE);
	struct {
		const char *what;
		void (*apply)(dynsnap_record_header &h);
		dynsnap_err want;
	} cases[] = {
		{"type", [](dynsnap_record_header &h) { h.level = 9; }, DSN_ERR_CTL_TYPE},
		{"location", [](dynsnap_record_header &h) { h.location = 8; },
		 DSN_ERR_REC_LENGTH},
		{"length", [](dynsnap_record_header &h) { h.length = 4096; },
		 DSN_ERR_REC_LENGTH},
		{"codec", [](dynsnap_record_header &h) { h.codec = 1; }, DSN_ERR_REC_CODEC},
		{"stored length", [](dynsnap_record_header &h) { h.stored_length = 16; },
		 DSN_ERR_REC_STORED_LENGTH},
	};
	EXPECT_EQ(dynsnap_record_check_geometry(&good, &g, 1 << 20), DSN_OK);
	for (const auto &c : cases) {
		dynsnap_record_header h = good;
		c.apply(h);
		EXPECT_EQ(dynsnap_record_check_geometry(&h, &g, 1 << 20), c.want) << c.what;
	}
}

TEST(Control, EveryNewErrorHasAMessage)
{
	for (dynsnap_err e : {DSN_ERR_SEG_NEXT, DSN_ERR_CTL_TYPE, DSN_ERR_CTL_SHORT,
			      DSN_ERR_CTL_RESERVED, DSN_ERR_CTL_ZERO, DSN_ERR_CTL_NAME,
			      DSN_ERR_CTL_RANGE})
		EXPECT_STRNE(dynsnap_strerror(e), "unknown error") << e;
}

} // namespace

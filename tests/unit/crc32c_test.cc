// SPDX-License-Identifier: GPL-2.0
// The userspace crc32c must agree bit for bit with the kernel's crc32c().
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "dynsnap_types.h"

namespace {

// Finalised CRC-32C as published: pre- and post-inverted.
uint32_t crc32c_final(const void *data, size_t len)
{
	return ~dsn_crc32c(~0U, data, len);
}

// Bit-at-a-time reference, independent of the table implementation.
uint32_t crc32c_reference(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78U & (0U - (crc & 1)));
	}
	return crc;
}

TEST(Crc32c, CheckValue)
{
	EXPECT_EQ(crc32c_final("123456789", 9), 0xe3069283U);
}

// RFC 3720, appendix B.4.
TEST(Crc32c, Rfc3720Vectors)
{
	uint8_t buf[32];

	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(crc32c_final(buf, sizeof(buf)), 0x8a9136aaU);
	memset(buf, 0xff, sizeof(buf));
	EXPECT_EQ(crc32c_final(buf, sizeof(buf)), 0x62a8ab43U);
	std::iota(buf, buf + 32, 0);
	EXPECT_EQ(crc32c_final(buf, sizeof(buf)), 0x46dd794eU);
	for (int i = 0; i < 32; i++)
		buf[i] = 31 - i;
	EXPECT_EQ(crc32c_final(buf, sizeof(buf)), 0x113fdb5cU);
}

TEST(Crc32c, EmptyInputKeepsSeed)
{
	EXPECT_EQ(dsn_crc32c(0x12345678U, nullptr, 0), 0x12345678U);
}

TEST(Crc32c, MatchesReferenceAtEveryAlignmentAndLength)
{
	std::mt19937 rng(7);
	std::vector<uint8_t> data(300);
	for (auto &b : data)
		b = rng();
	for (size_t off = 0; off < 9; off++)
		for (size_t len = 0; len + off <= data.size(); len += 13)
			ASSERT_EQ(dsn_crc32c(~0U, data.data() + off, len),
				  crc32c_reference(~0U, data.data() + off, len))
				<< "off " << off << " len " << len;
}

TEST(Crc32c, ChainsLikeOneCall)
{
	const char text[] = "the quick brown fox jumps over the lazy dog";
	uint32_t whole = dsn_crc32c(~0U, text, sizeof(text));
	uint32_t part = dsn_crc32c(~0U, text, 10);
	part = dsn_crc32c(part, text + 10, sizeof(text) - 10);
	EXPECT_EQ(whole, part);
}

} // namespace

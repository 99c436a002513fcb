// SPDX-License-Identifier: GPL-2.0
// The names of levels and tiers: one spelling, both ways, and nothing for
// a value or a name that is none.
#include <gtest/gtest.h>

#include <cstring>

#include "dynsnap_names.h"

namespace {

TEST(Names, Levels)
{
	EXPECT_STREQ(dynsnap_level_name(DYNSNAP_LEVEL_BLOCK), "block");
	EXPECT_STREQ(dynsnap_level_name(DYNSNAP_LEVEL_SUB), "sub");
	EXPECT_STREQ(dynsnap_level_name(DYNSNAP_LEVEL_BIT), "bit");
	EXPECT_EQ(dynsnap_level_name(DYNSNAP_LEVEL__COUNT), nullptr);
	EXPECT_EQ(dynsnap_level_name(0xff), nullptr);
	EXPECT_EQ(dynsnap_level_name(~0u), nullptr);
	for (uint32_t l = 0; l < DYNSNAP_LEVEL__COUNT; l++)
		EXPECT_EQ(dynsnap_level_names[l], dynsnap_level_name(l));
}

TEST(Names, LevelsParseBack)
{
	for (uint32_t l = 0; l < DYNSNAP_LEVEL__COUNT; l++) {
		const char *n = dynsnap_level_name(l);
		uint32_t got = 99;
		ASSERT_EQ(dynsnap_level_parse(n, strlen(n), &got), DSN_OK);
		EXPECT_EQ(got, l);
	}
}

TEST(Names, UnknownLevelNamesAreRefused)
{
	uint32_t got = 99;
	for (const char *bad : {"", "blocks", "bloc", "BLOCK", "Sub", "bit ", "byte", "?"})
		EXPECT_EQ(dynsnap_level_parse(bad, strlen(bad), &got), DSN_ERR_LEVEL_NAME) << bad;
	EXPECT_EQ(dynsnap_level_parse(nullptr, 3, &got), DSN_ERR_LEVEL_NAME);
	EXPECT_EQ(got, 99u);
	// The length counts, not a NUL.
	EXPECT_EQ(dynsnap_level_parse("subx", 3, &got), DSN_OK);
	EXPECT_EQ(got, (uint32_t)DYNSNAP_LEVEL_SUB);
}

TEST(Names, Tiers)
{
	EXPECT_STREQ(dynsnap_tier_name(DYNSNAP_TIER_FAST), "fast");
	EXPECT_STREQ(dynsnap_tier_name(DYNSNAP_TIER_SLOW), "slow");
	EXPECT_EQ(dynsnap_tier_name(0), nullptr);
	EXPECT_EQ(dynsnap_tier_name(3), nullptr);
}

} // namespace

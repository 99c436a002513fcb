// SPDX-License-Identifier: GPL-2.0
/*
 * The names of the granularity levels and tiers.
 */
#include "dynsnap_names.h"

const char *const dynsnap_level_names[DYNSNAP_LEVEL__COUNT] = {
	[DYNSNAP_LEVEL_BLOCK] = "block",
	[DYNSNAP_LEVEL_SUB] = "sub",
	[DYNSNAP_LEVEL_BIT] = "bit",
};

const char *dynsnap_level_name(u32 level)
{
	return level < DYNSNAP_LEVEL__COUNT ? dynsnap_level_names[level] : NULL;
}

enum dynsnap_err dynsnap_level_parse(const char *name, size_t len, u32 *level)
{
	u32 i;

	if (!name)
		return DSN_ERR_LEVEL_NAME;
	for (i = 0; i < DYNSNAP_LEVEL__COUNT; i++) {
		if (strlen(dynsnap_level_names[i]) == len &&
		    !memcmp(dynsnap_level_names[i], name, len)) {
			*level = i;
			return DSN_OK;
		}
	}
	return DSN_ERR_LEVEL_NAME;
}

const char *dynsnap_tier_name(u32 tier)
{
	switch (tier) {
	case DYNSNAP_TIER_FAST:
		return "fast";
	case DYNSNAP_TIER_SLOW:
		return "slow";
	}
	return NULL;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The names of the granularity levels and tiers, as the table line, the
 * status and messages of the target, the kernel log and the userspace
 * tools spell them: one spelling, here.
 *
 * Pure functions; callable from any context.
 */
#ifndef DYNSNAP_NAMES_H
#define DYNSNAP_NAMES_H

#include "dynsnap_record.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Level names, indexed by enum dynsnap_level: "block", "sub", "bit". For
 * tables that look names up by index, such as the target's argument
 * parser.
 */
extern const char *const dynsnap_level_names[DYNSNAP_LEVEL__COUNT];

/* The name of @level; NULL when it is no enum dynsnap_level. */
const char *dynsnap_level_name(u32 level);

/*
 * The level named by the @len bytes at @name (no NUL needed): DSN_OK with
 * *@level set, or DSN_ERR_LEVEL_NAME (*@level untouched).
 */
enum dynsnap_err dynsnap_level_parse(const char *name, size_t len, u32 *level);

/* "fast" or "slow" for an enum dynsnap_tier; NULL for anything else. */
const char *dynsnap_tier_name(u32 tier);

#ifdef __cplusplus
}
#endif

#endif /* DYNSNAP_NAMES_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * Sparse undo delta codec (see dynsnap_undo.h for the format).
 */
#include "dynsnap_undo.h"

/* End of the changed run starting at @start; same rule as the XOR codec. */
static u32 run_end(const u8 *old, const u8 *cur, u32 len, u32 start)
{
	u32 end = start + 1, j = start + 1, gap;

	while (j < len) {
		if (old[j] != cur[j]) {
			end = ++j;
			continue;
		}
		for (gap = 0; j + gap < len && old[j + gap] == cur[j + gap] &&
		     gap < DYNSNAP_XOR_RUN_HEADER_SIZE; gap++)
			;
		if (j + gap == len || gap >= DYNSNAP_XOR_RUN_HEADER_SIZE)
			break;
		j += gap;
	}
	return end;
}

size_t dynsnap_undo_encode(const u8 *old, const u8 *cur, u32 len, u8 *out,
			   size_t out_cap)
{
	size_t pos = DYNSNAP_XOR_COUNT_SIZE;
	u32 runs = 0, i = 0, end;

	if (out_cap < DYNSNAP_XOR_COUNT_SIZE)
		return 0;
	while (i < len) {
		if (old[i] == cur[i]) {
			i++;
			continue;
		}
		end = run_end(old, cur, len, i);
		if (out_cap - pos < DYNSNAP_XOR_RUN_HEADER_SIZE + (size_t)(end - i))
			return 0;
		dsn_put_le32(out + pos, i);
		dsn_put_le32(out + pos + 4, end - i);
		pos += DYNSNAP_XOR_RUN_HEADER_SIZE;
		memcpy(out + pos, old + i, end - i);
		pos += end - i;
		runs++;
		i = end;
	}
	dsn_put_le32(out, runs);
	return pos;
}

bool dynsnap_undo_is_empty(const u8 *delta, size_t delta_len)
{
	return delta_len == DYNSNAP_XOR_COUNT_SIZE && !dsn_get_le32(delta);
}

enum dynsnap_err dynsnap_undo_validate(const u8 *delta, size_t delta_len,
				       u32 len)
{
	size_t pos = DYNSNAP_XOR_COUNT_SIZE;
	u32 runs, i, off, n;
	u64 next_min = 0;

	if (!delta || delta_len < DYNSNAP_XOR_COUNT_SIZE ||
	    delta_len > DYNSNAP_UNDO_MAX_ENCODED((size_t)len))
		return DSN_ERR_XOR_FORMAT;
	runs = dsn_get_le32(delta);
	if (runs > len)
		return DSN_ERR_XOR_FORMAT;
	for (i = 0; i < runs; i++) {
		if (delta_len - pos < DYNSNAP_XOR_RUN_HEADER_SIZE)
			return DSN_ERR_XOR_FORMAT;
		off = dsn_get_le32(delta + pos);
		n = dsn_get_le32(delta + pos + 4);
		pos += DYNSNAP_XOR_RUN_HEADER_SIZE;
		if (!n || off < next_min)
			return DSN_ERR_XOR_FORMAT;
		if ((u64)off + n > len)
			return DSN_ERR_XOR_RANGE;
		if (delta_len - pos < n)
			return DSN_ERR_XOR_FORMAT;
		pos += n;
		/* The encoder merges runs closer than a run header. */
		next_min = (u64)off + n + DYNSNAP_XOR_RUN_HEADER_SIZE;
	}
	return pos == delta_len ? DSN_OK : DSN_ERR_XOR_FORMAT;
}

enum dynsnap_err dynsnap_undo_apply(u8 *data, u32 len, const u8 *delta,
				    size_t delta_len)
{
	size_t pos = DYNSNAP_XOR_COUNT_SIZE;
	enum dynsnap_err e;
	u32 runs, i, off, n;

	e = dynsnap_undo_validate(delta, delta_len, len);
	if (e)
		return e;
	runs = dsn_get_le32(delta);
	for (i = 0; i < runs; i++) {
		off = dsn_get_le32(delta + pos);
		n = dsn_get_le32(delta + pos + 4);
		pos += DYNSNAP_XOR_RUN_HEADER_SIZE;
		memcpy(data + off, delta + pos, n);
		pos += n;
	}
	return DSN_OK;
}

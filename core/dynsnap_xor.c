// SPDX-License-Identifier: GPL-2.0
/*
 * Sparse run codecs: XOR deltas (dynsnap_xor.h) and undo deltas
 * (dynsnap_undo.h) share the run container, the run boundaries and the
 * structural checks; they differ in the bytes a run carries.
 */
#include "dynsnap_undo.h"

/* Byte @i of the difference: a ^ b, or a alone when it already is one. */
static inline u8 diff_at(const u8 *a, const u8 *b, u32 i)
{
	return b ? a[i] ^ b[i] : a[i];
}

/*
 * End of the run starting at the non-zero byte @start: a run goes on across
 * zero gaps shorter than a run header, since splitting there would cost
 * more than it saves. This is what bounds an encoding by len + 12.
 */
static u32 run_end(const u8 *a, const u8 *b, u32 len, u32 start)
{
	u32 end = start + 1, j = start + 1, gap;

	while (j < len) {
		if (diff_at(a, b, j)) {
			end = ++j;
			continue;
		}
		for (gap = 0; j + gap < len && !diff_at(a, b, j + gap) &&
		     gap < DYNSNAP_XOR_RUN_HEADER_SIZE; gap++)
			;
		if (j + gap == len || gap >= DYNSNAP_XOR_RUN_HEADER_SIZE)
			break;
		j += gap;
	}
	return end;
}

/*
 * Runs where a ^ b (or a alone) is not zero; each carries those XOR bytes,
 * or the bytes of @values at the same offsets when @values is given.
 */
static size_t encode(const u8 *a, const u8 *b, u32 len, const u8 *values,
		     u8 *out, size_t out_cap)
{
	size_t pos = DYNSNAP_XOR_COUNT_SIZE;
	u32 runs = 0, i = 0, end, k;

	if (out_cap < DYNSNAP_XOR_COUNT_SIZE)
		return 0;
	while (i < len) {
		if (!diff_at(a, b, i)) {
			i++;
			continue;
		}
		end = run_end(a, b, len, i);
		if (out_cap - pos < DYNSNAP_XOR_RUN_HEADER_SIZE + (size_t)(end - i))
			return 0;
		dsn_put_le32(out + pos, i);
		dsn_put_le32(out + pos + 4, end - i);
		pos += DYNSNAP_XOR_RUN_HEADER_SIZE;
		for (k = i; k < end; k++)
			out[pos++] = values ? values[k] : diff_at(a, b, k);
		runs++;
		i = end;
	}
	dsn_put_le32(out, runs);
	return pos;
}

size_t dynsnap_xor_encode(const u8 *old, const u8 *cur, u32 len, u8 *out,
			  size_t out_cap)
{
	return encode(old, cur, len, NULL, out, out_cap);
}

size_t dynsnap_xor_encode_diff(const u8 *diff, u32 len, u8 *out,
			       size_t out_cap)
{
	return encode(diff, NULL, len, NULL, out, out_cap);
}

/*
 * A run as the encoder writes it: starts and ends with a non-zero byte and
 * holds no zero stretch long enough to have split it.
 */
static bool run_canonical(const u8 *bytes, u32 n)
{
	u32 i, zeroes = 0;

	if (!bytes[0] || !bytes[n - 1])
		return false;
	for (i = 0; i < n; i++) {
		zeroes = bytes[i] ? 0 : zeroes + 1;
		if (zeroes >= DYNSNAP_XOR_RUN_HEADER_SIZE)
			return false;
	}
	return true;
}

/*
 * The run container: runs sorted, non-empty, inside [0, len), at least a
 * run header apart, nothing left over. XOR runs must also be exactly what
 * the encoder writes (@xor), so a valid XOR delta re-encodes to itself.
 */
static enum dynsnap_err validate_runs(const u8 *delta, size_t delta_len,
				      u32 len, bool xor)
{
	size_t pos = DYNSNAP_XOR_COUNT_SIZE;
	u32 runs, i, off, n;
	u64 next_min = 0;

	if (!delta || delta_len < DYNSNAP_XOR_COUNT_SIZE ||
	    delta_len > DYNSNAP_XOR_MAX_ENCODED((size_t)len))
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
		if (delta_len - pos < n || (xor && !run_canonical(delta + pos, n)))
			return DSN_ERR_XOR_FORMAT;
		pos += n;
		/* Runs closer than a run header would have been one run. */
		next_min = (u64)off + n + DYNSNAP_XOR_RUN_HEADER_SIZE;
	}
	return pos == delta_len ? DSN_OK : DSN_ERR_XOR_FORMAT;
}

enum dynsnap_err dynsnap_xor_validate(const u8 *delta, size_t delta_len,
				      u32 len)
{
	return validate_runs(delta, delta_len, len, true);
}

/* Walks the runs of a delta that has been validated. */
struct run_iter {
	const u8 *delta;
	u32 left;
	size_t pos;
	u32 off;
	u32 len;
	const u8 *bytes;
};

static void run_iter_init(struct run_iter *it, const u8 *delta)
{
	it->delta = delta;
	it->left = dsn_get_le32(delta);
	it->pos = DYNSNAP_XOR_COUNT_SIZE;
}

static bool run_iter_next(struct run_iter *it)
{
	if (!it->left)
		return false;
	it->left--;
	it->off = dsn_get_le32(it->delta + it->pos);
	it->len = dsn_get_le32(it->delta + it->pos + 4);
	it->bytes = it->delta + it->pos + DYNSNAP_XOR_RUN_HEADER_SIZE;
	it->pos += DYNSNAP_XOR_RUN_HEADER_SIZE + it->len;
	return true;
}

enum dynsnap_err dynsnap_xor_apply(u8 *data, u32 len, const u8 *delta,
				   size_t delta_len)
{
	enum dynsnap_err e = dynsnap_xor_validate(delta, delta_len, len);
	struct run_iter it;
	u32 k;

	if (e)
		return e;
	run_iter_init(&it, delta);
	while (run_iter_next(&it))
		for (k = 0; k < it.len; k++)
			data[it.off + k] ^= it.bytes[k];
	return DSN_OK;
}

u32 dynsnap_xor_covered(const u8 *delta)
{
	struct run_iter it;
	u32 total = 0;

	run_iter_init(&it, delta);
	while (run_iter_next(&it))
		total += it.len;
	return total;
}

size_t dynsnap_xor_compose(const u8 *a, size_t a_len, const u8 *b,
			   size_t b_len, u32 len, u8 *scratch, u8 *out,
			   size_t out_cap)
{
	memset(scratch, 0, len);
	if (dynsnap_xor_apply(scratch, len, a, a_len) ||
	    dynsnap_xor_apply(scratch, len, b, b_len))
		return 0;
	return dynsnap_xor_encode_diff(scratch, len, out, out_cap);
}

size_t dynsnap_undo_encode(const u8 *old, const u8 *cur, u32 len, u8 *out,
			   size_t out_cap)
{
	return encode(old, cur, len, old, out, out_cap);
}

bool dynsnap_undo_is_empty(const u8 *delta, size_t delta_len)
{
	return delta_len == DYNSNAP_XOR_COUNT_SIZE && !dsn_get_le32(delta);
}

enum dynsnap_err dynsnap_undo_validate(const u8 *delta, size_t delta_len,
				       u32 len)
{
	return validate_runs(delta, delta_len, len, false);
}

enum dynsnap_err dynsnap_undo_apply(u8 *data, u32 len, const u8 *delta,
				    size_t delta_len)
{
	enum dynsnap_err e = dynsnap_undo_validate(delta, delta_len, len);
	struct run_iter it;

	if (e)
		return e;
	run_iter_init(&it, delta);
	while (run_iter_next(&it))
		memcpy(data + it.off, it.bytes, it.len);
	return DSN_OK;
}

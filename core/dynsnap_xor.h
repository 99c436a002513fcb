/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sparse XOR deltas: the payload of bit-level records.
 *
 * A delta describes old ^ new over a stretch of @len bytes as the runs
 * where it is not zero:
 *
 *   __le32 run_count
 *   run_count times: __le32 offset, __le32 length, length bytes of XOR
 *
 * Runs are sorted, lie inside [0, len), start and end with a non-zero
 * byte, hold no stretch of 8 zero bytes, and are at least 8 bytes apart:
 * the encoder keeps shorter zero gaps inside a run, since a run header
 * costs 8 bytes. So there is exactly one encoding of each difference, and
 * it never exceeds len + 12 bytes. XOR deltas compose: applying a then b
 * equals applying their composition once.
 *
 * Pure functions on caller-owned buffers; callable from any context.
 */
#ifndef DYNSNAP_XOR_H
#define DYNSNAP_XOR_H

#include "dynsnap_format.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DYNSNAP_XOR_COUNT_SIZE		4U
#define DYNSNAP_XOR_RUN_HEADER_SIZE	8U
#define DYNSNAP_XOR_MAX_ENCODED(len)	((len) + DYNSNAP_XOR_COUNT_SIZE + \
					 DYNSNAP_XOR_RUN_HEADER_SIZE)

/*
 * Encode @old ^ @cur (@len bytes each) into @out. Returns the encoded size,
 * or 0 if @out_cap is too small (DYNSNAP_XOR_MAX_ENCODED(len) always
 * suffices). Identical inputs encode to the 4-byte empty delta.
 */
size_t dynsnap_xor_encode(const u8 *old, const u8 *cur, u32 len, u8 *out,
			  size_t out_cap);

/* Encode a difference already computed (diff = old ^ new). */
size_t dynsnap_xor_encode_diff(const u8 *diff, u32 len, u8 *out,
			       size_t out_cap);

/*
 * Check that @delta (@delta_len bytes) is the encoding of a difference over
 * @len bytes, exactly as the encoder writes it.
 */
enum dynsnap_err dynsnap_xor_validate(const u8 *delta, size_t delta_len,
				      u32 len);

/*
 * XOR @delta into @data (@len bytes). Validates first and changes nothing
 * when the delta is malformed.
 */
enum dynsnap_err dynsnap_xor_apply(u8 *data, u32 len, const u8 *delta,
				   size_t delta_len);

/* Bytes the runs of a valid delta cover. */
u32 dynsnap_xor_covered(const u8 *delta);

/*
 * Compose @a and @b (both for @len bytes) into @out, using @scratch (@len
 * bytes) as work space. Returns the encoded size, or 0 when an input is
 * malformed or @out_cap is too small.
 */
size_t dynsnap_xor_compose(const u8 *a, size_t a_len, const u8 *b,
			   size_t b_len, u32 len, u8 *scratch, u8 *out,
			   size_t out_cap);

#ifdef __cplusplus
}
#endif

#endif /* DYNSNAP_XOR_H */

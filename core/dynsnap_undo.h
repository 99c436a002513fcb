/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sparse undo deltas: the payload of bit-level records.
 *
 * A write at bit level keeps only the bytes it changes: the runs where
 * old ^ new is not zero, found exactly as for a sparse XOR delta
 * (dynsnap_xor.h: runs at least 8 bytes apart, shorter unchanged gaps kept
 * inside a run), but each run carries the old bytes rather than their XOR
 * with the new ones:
 *
 *   __le32 run_count
 *   run_count times: __le32 offset, __le32 length, length old bytes
 *
 * Undoing is replacing, so it does not matter whether the write it undoes
 * reached the disk, only partly, or not at all: after a power cut a
 * delta never turns into wrong data, which an XOR would. Deltas of one
 * block compose like replace deltas: the older one wins where both cover a
 * byte. An encoding never exceeds len + 12 bytes.
 *
 * Pure functions on caller-owned buffers; callable from any context.
 * Implemented in dynsnap_xor.c, beside the XOR codec whose runs they share.
 */
#ifndef DYNSNAP_UNDO_H
#define DYNSNAP_UNDO_H

#include "dynsnap_xor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DYNSNAP_UNDO_MAX_ENCODED(len)	DYNSNAP_XOR_MAX_ENCODED(len)

/*
 * Encode the old bytes of what changes from @old to @cur (@len bytes
 * each) into @out. Returns the encoded size, or 0 if @out_cap is too small
 * (DYNSNAP_UNDO_MAX_ENCODED(len) always suffices). Identical inputs encode
 * to the 4-byte empty delta.
 */
size_t dynsnap_undo_encode(const u8 *old, const u8 *cur, u32 len, u8 *out,
			   size_t out_cap);

/* True for a valid delta with no runs: the write changed nothing. */
bool dynsnap_undo_is_empty(const u8 *delta, size_t delta_len);

/*
 * Check the structure of @delta for a stretch of @len bytes: runs sorted,
 * non-empty, inside [0, len), at least 8 bytes apart, nothing left over.
 */
enum dynsnap_err dynsnap_undo_validate(const u8 *delta, size_t delta_len,
				       u32 len);

/*
 * Write the old bytes of @delta into @data (@len bytes). Validates first
 * and changes nothing when the delta is malformed.
 */
enum dynsnap_err dynsnap_undo_apply(u8 *data, u32 len, const u8 *delta,
				    size_t delta_len);

#ifdef __cplusplus
}
#endif

#endif /* DYNSNAP_UNDO_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reconstructing a snapshot's view of one block from the block's current
 * bytes and its undo deltas (see docs/design/snapshot-engine.md):
 *
 *   view(S) = current, then the deltas of every epoch e >= S.epoch applied
 *             newest epoch first; each delta replaces the bytes it
 *             holds (whole runs for block and sub-block deltas, the
 *             changed runs of a sparse undo delta for bit deltas).
 *
 * Pure function on caller-owned buffers; callable from any context.
 */
#ifndef DYNSNAP_VIEW_H
#define DYNSNAP_VIEW_H

#include "dynsnap_record.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One decoded undo delta of a block: payload already decompressed. */
struct dynsnap_delta_ref {
	u64 epoch;
	u32 level;		/* enum dynsnap_level */
	u32 offset;		/* first byte of the block it covers */
	u32 length;		/* bytes covered */
	const u8 *payload;	/* replace: @length old bytes; bit: sparse XOR */
	u32 payload_len;
};

/*
 * Turn @data (@block_bytes, the block's current content) into its content
 * as of the snapshot whose epoch is @snap_epoch. @deltas lists the block's
 * deltas sorted by epoch, newest first, and
 * within an epoch newest record first (bit deltas of one epoch undo one
 * write each, so their order matters); deltas older than @snap_epoch are
 * skipped. Everything is validated before anything is applied: on error
 * @data is unchanged.
 */
enum dynsnap_err dynsnap_view_reconstruct(u8 *data, u32 block_bytes,
					  u64 snap_epoch,
					  const struct dynsnap_delta_ref *deltas,
					  u32 count);

#ifdef __cplusplus
}
#endif

/*
 * The index of a block keeps its deltas oldest epoch first and, within an
 * epoch, in log order: the reverse of what dynsnap_view_reconstruct()
 * wants. The place for a new delta of @new_epoch in @deltas[0..@count) is
 * after every delta of the same or an older epoch. Replay meets records
 * in log order, and a live preserve appends after every older record.
 * A macro, so the kernel's and the tools' delta types (each with an
 * @epoch field) share the rule; new deltas land at the end, so it scans
 * from there.
 */
#define DYNSNAP_INDEX_POSITION(deltas, count, new_epoch)		\
	({								\
		u32 __pos = (count);					\
		while (__pos && (deltas)[__pos - 1].epoch > (new_epoch))	\
			__pos--;					\
		__pos;							\
	})

#endif /* DYNSNAP_VIEW_H */

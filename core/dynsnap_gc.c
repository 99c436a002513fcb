// SPDX-License-Identifier: GPL-2.0
/*
 * The garbage rule for one block's undo deltas.
 *
 * Block deltas are whole blocks and sub-block deltas whole aligned
 * sub-blocks (dynsnap_record_check_geometry), so what replace deltas cover
 * is a set of sub-blocks: one u64, as a block has at most 64 of them. The
 * deltas are walked oldest epoch first, keeping the sub-blocks covered by
 * the replace deltas seen since T, the newest retained snapshot at or
 * before the current epoch; the set starts empty whenever T changes.
 */
#include "dynsnap_gc.h"

static bool in_block(const struct dynsnap_gc_delta *d, u32 block_bytes)
{
	return d->length && d->offset < block_bytes &&
	       d->length <= block_bytes - d->offset;
}

/* Sub-blocks first..last, inclusive; last < 64. */
static u64 sub_span(u32 first, u32 last)
{
	return (~0ULL >> (63 - last)) & (~0ULL << first);
}

/* Sub-blocks a delta touches: all must be covered for it to be dead. */
static u64 touched(const struct dynsnap_gc_delta *d, u32 sub_bytes)
{
	return sub_span(d->offset / sub_bytes,
			(d->offset + d->length - 1) / sub_bytes);
}

/*
 * Sub-blocks a replace delta covers. Only whole ones count, so a delta that
 * is not aligned errs towards keeping the deltas it overlaps.
 */
static u64 replaced(const struct dynsnap_gc_delta *d, u32 sub_bytes)
{
	u32 first = (d->offset + sub_bytes - 1) / sub_bytes;
	u32 end = (d->offset + d->length) / sub_bytes;

	if (d->level == DYNSNAP_LEVEL_BIT || d->level >= DYNSNAP_LEVEL__COUNT ||
	    first >= end)
		return 0;
	return sub_span(first, end - 1);
}

static bool sorted(const struct dynsnap_gc_delta *deltas, u32 count,
		   const u64 *retained_epochs, u32 nr_retained)
{
	u32 i;

	for (i = 1; i < count; i++)
		if (deltas[i].epoch > deltas[i - 1].epoch)
			return false;
	for (i = 1; i < nr_retained; i++)
		if (retained_epochs[i] < retained_epochs[i - 1])
			return false;
	return true;
}

void dynsnap_gc_mark(const struct dynsnap_gc_delta *deltas, u32 count,
		     const u64 *retained_epochs, u32 nr_retained,
		     u32 block_bytes, u32 sub_bytes, bool *dead)
{
	/*
	 * Without a geometry the store could have, only the first half of the
	 * rule: no delta is dead for being covered.
	 */
	bool by_cover = block_bytes <= DYNSNAP_REC_MAX_LENGTH && sub_bytes &&
			block_bytes % sub_bytes == 0 &&
			block_bytes / sub_bytes <= DYNSNAP_MAX_SUB_BLOCKS_PER_BLOCK;
	u64 covered = 0;
	u32 readers = 0;	/* retained snapshots at or before the epoch */
	u32 start, end, before, i;
	u64 epoch;

	for (i = 0; i < count; i++)
		dead[i] = false;
	if (!sorted(deltas, count, retained_epochs, nr_retained))
		return;

	/* One epoch at a time, oldest first: [start, end) is its deltas. */
	for (end = count; end; end = start) {
		epoch = deltas[end - 1].epoch;
		start = end - 1;
		while (start && deltas[start - 1].epoch == epoch)
			start--;

		before = readers;
		while (readers < nr_retained &&
		       retained_epochs[readers] <= epoch)
			readers++;
		/* T moved past every epoch seen so far: none of them counts. */
		if (readers != before)
			covered = 0;

		/* Deltas of the same epoch never cover each other. */
		for (i = start; i < end; i++)
			dead[i] = !readers ||
				  (by_cover && in_block(&deltas[i], block_bytes) &&
				   !(touched(&deltas[i], sub_bytes) & ~covered));
		for (i = start; i < end && by_cover; i++)
			if (in_block(&deltas[i], block_bytes))
				covered |= replaced(&deltas[i], sub_bytes);
	}
}

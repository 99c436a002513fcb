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

/*
 * The rule, as if the retained snapshot of epoch @skip did not exist
 * (@skip 0: every one does; no snapshot has epoch 0).
 */
static void mark(const struct dynsnap_gc_delta *deltas, u32 count,
		 const u64 *retained_epochs, u32 nr_retained, u64 skip,
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
	u32 next = 0;		/* first retained epoch not yet passed */
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
		while (next < nr_retained && retained_epochs[next] <= epoch)
			if (retained_epochs[next++] != skip)
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

void dynsnap_gc_mark(const struct dynsnap_gc_delta *deltas, u32 count,
		     const u64 *retained_epochs, u32 nr_retained,
		     u32 block_bytes, u32 sub_bytes, bool *dead)
{
	mark(deltas, count, retained_epochs, nr_retained, 0, block_bytes,
	     sub_bytes, dead);
}

/* Index of the newest retained epoch <= @epoch, or nr when none is. */
static u32 reader_of(const u64 *retained, u32 nr, u64 epoch)
{
	u32 lo = 0, hi = nr;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (retained[mid] <= epoch)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : nr;
}

static void add_epoch(u64 *set, u32 *n, u64 epoch)
{
	u32 i = *n;

	/* Insertion keeps the set ascending; it holds few epochs. */
	while (i && set[i - 1] > epoch)
		i--;
	if (i && set[i - 1] == epoch)
		return;
	memmove(&set[i + 1], &set[i], (*n - i) * sizeof(*set));
	set[i] = epoch;
	(*n)++;
}

void dynsnap_gc_sole_reader(const struct dynsnap_gc_delta *deltas, u32 count,
			    const u64 *retained_epochs, u32 nr_retained,
			    u32 block_bytes, u32 sub_bytes, u64 *scratch,
			    bool *dead, u32 *sole)
{
	u32 i, j, t, nr_set = 0;

	for (i = 0; i < count; i++)
		sole[i] = DYNSNAP_GC_SHARED;
	if (!sorted(deltas, count, retained_epochs, nr_retained))
		return;
	for (i = 1; i < nr_retained; i++)
		if (retained_epochs[i] == retained_epochs[i - 1])
			return;

	/*
	 * Only the readers of the block's deltas, T, and the snapshot before
	 * each (T once T is gone) decide the rule for this block: the rule
	 * runs on them alone, once per distinct T.
	 */
	for (i = 0; i < count; i++) {
		t = reader_of(retained_epochs, nr_retained, deltas[i].epoch);
		if (t == nr_retained)
			continue;
		add_epoch(scratch, &nr_set, retained_epochs[t]);
		if (t)
			add_epoch(scratch, &nr_set, retained_epochs[t - 1]);
	}
	for (i = 0; i < count; i++) {
		t = reader_of(retained_epochs, nr_retained, deltas[i].epoch);
		if (t == nr_retained || sole[i] != DYNSNAP_GC_SHARED)
			continue;
		/* Without T: the deltas T reads and nobody else does. */
		mark(deltas, count, scratch, nr_set, retained_epochs[t],
		     block_bytes, sub_bytes, dead);
		for (j = i; j < count; j++)
			if (dead[j] && reader_of(retained_epochs, nr_retained,
						 deltas[j].epoch) == t)
				sole[j] = t;
		/* Deltas of this T that stay alive are marked done too. */
		for (j = i; j < count; j++)
			if (sole[j] == DYNSNAP_GC_SHARED &&
			    reader_of(retained_epochs, nr_retained,
				      deltas[j].epoch) == t)
				sole[j] = DYNSNAP_GC_SHARED - 1;
	}
	for (i = 0; i < count; i++)
		if (sole[i] == DYNSNAP_GC_SHARED - 1)
			sole[i] = DYNSNAP_GC_SHARED;
}

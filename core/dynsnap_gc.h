/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which undo deltas of a block are garbage once snapshots are deleted (see
 * docs/design/snapshot-engine.md, "Deleting, rollback, space").
 *
 * Reading snapshot S applies the block's deltas of every epoch e >= S.epoch,
 * newest epoch first. A delta of epoch e is dead when no retained snapshot
 * has epoch <= e (nobody applies it), or when every byte it covers is also
 * covered by block or sub-block deltas of epochs in [T.epoch, e), T being
 * the newest retained snapshot with T.epoch <= e: every reader applies
 * those after it, and they replace whatever it wrote.
 *
 * Pure function on caller-owned buffers: no allocation, callable from any
 * context.
 */
#ifndef DYNSNAP_GC_H
#define DYNSNAP_GC_H

#include "dynsnap_record.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the rule needs to know of one delta of a block. */
struct dynsnap_gc_delta {
	u64 epoch;
	u32 level;		/* enum dynsnap_level */
	u32 offset;		/* first byte of the block it covers */
	u32 length;		/* bytes covered */
};

/*
 * Set @dead[i] for each of the @count deltas of one block that no retained
 * snapshot can read, and clear it for the others.
 *
 * @deltas is sorted by epoch, newest first (as for dynsnap_view_reconstruct)
 * and @retained_epochs (@nr_retained epochs, duplicates allowed) ascending;
 * when either is not, nothing is marked dead. @block_bytes and @sub_bytes
 * are the store's block and sub-block sizes (at most 64 sub-blocks per
 * block). A delta that reaches outside the block never counts as covered
 * nor covers others, but is still dead when no snapshot reads its epoch.
 */
void dynsnap_gc_mark(const struct dynsnap_gc_delta *deltas, u32 count,
		     const u64 *retained_epochs, u32 nr_retained,
		     u32 block_bytes, u32 sub_bytes, bool *dead);

/* No single retained snapshot is the only one that reads the delta. */
#define DYNSNAP_GC_SHARED	((u32)~0U)

/*
 * For each of the @count deltas of one block (sorted as for
 * dynsnap_gc_mark(), none of them dead), set @sole[i] to the index in
 * @retained_epochs of the one snapshot whose deletion alone would make
 * delta i dead, or DYNSNAP_GC_SHARED. This is what the block's deltas
 * count towards each snapshot's exclusive size, computed for every
 * snapshot in one call, in O(count log nr_retained) plus O(count) per
 * distinct reader, however many snapshots are retained.
 *
 * @retained_epochs is ascending without duplicates (epochs of snapshots
 * are unique). @scratch holds 2 * @count epochs, @dead @count flags; both
 * are caller-owned work space. When the input is not sorted every @sole[i]
 * is DYNSNAP_GC_SHARED.
 */
void dynsnap_gc_sole_reader(const struct dynsnap_gc_delta *deltas, u32 count,
			    const u64 *retained_epochs, u32 nr_retained,
			    u32 block_bytes, u32 sub_bytes, u64 *scratch,
			    bool *dead, u32 *sole);

#ifdef __cplusplus
}
#endif

#endif /* DYNSNAP_GC_H */

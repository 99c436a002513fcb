// SPDX-License-Identifier: GPL-2.0
/*
 * dm-dynsnap engine: garbage collection. Deltas that no retained snapshot
 * can read leave the index and their record bytes are released to their
 * log; the rules themselves are in core/dynsnap_gc.h, which also gives
 * the bytes only one snapshot needs (snap_list). Runs under snap_lock,
 * taking each block's lock and index_lock in turn.
 */
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "../core/dynsnap_gc.h"
#include "dm-dynsnap-engine-internal.h"

struct gc_scratch {
	struct dynsnap_gc_delta *deltas;
	bool *dead;
	u32 *sole;
	u64 *set;			/* 2 * cap epochs */
	u32 cap;
	u64 *epochs;
	u32 nr_epochs;
};

/* Free the per-block arrays and leave them empty. */
static void gc_scratch_drop(struct gc_scratch *s)
{
	kvfree(s->deltas);
	kvfree(s->dead);
	kvfree(s->sole);
	kvfree(s->set);
	s->deltas = NULL;
	s->dead = NULL;
	s->sole = NULL;
	s->set = NULL;
	s->cap = 0;
}

/* Room for a block of @n deltas. May sleep. */
static int gc_scratch_grow(struct gc_scratch *s, u32 n)
{
	if (n <= s->cap)
		return 0;
	n = max(n, 2 * s->cap);
	gc_scratch_drop(s);
	s->deltas = kvmalloc_array(n, sizeof(*s->deltas), GFP_KERNEL);
	s->dead = kvmalloc_array(n, sizeof(*s->dead), GFP_KERNEL);
	s->sole = kvmalloc_array(n, sizeof(*s->sole), GFP_KERNEL);
	s->set = kvmalloc_array(n, 2 * sizeof(*s->set), GFP_KERNEL);
	if (!s->deltas || !s->dead || !s->sole || !s->set) {
		/* Leave it empty, so no later caller trusts a capacity. */
		gc_scratch_drop(s);
		return -ENOMEM;
	}
	s->cap = n;
	return 0;
}

static void gc_scratch_free(struct gc_scratch *s)
{
	gc_scratch_drop(s);
	kvfree(s->epochs);
}

/* Epochs of the retained snapshots, ascending. snap_lock held. */
static int gc_epochs(struct dsn_engine *e, struct gc_scratch *s)
{
	struct dsn_snap *snap;

	lockdep_assert_held(&e->snap_lock);
	s->epochs = kvmalloc_array(max(e->nr_snaps, 1U), sizeof(u64),
				   GFP_KERNEL);
	if (!s->epochs)
		return -ENOMEM;
	s->nr_epochs = 0;
	list_for_each_entry(snap, &e->snaps, node)
		s->epochs[s->nr_epochs++] = snap->epoch;
	return 0;
}

/* @b's deltas, newest first as the core rules take them. Under index_lock. */
static void gc_load_block(struct dsn_engine *e, struct dsn_block *b,
			  struct gc_scratch *s)
{
	u32 i, n = b->count;

	lockdep_assert_held(&e->index_lock);
	for (i = 0; i < n; i++) {
		const struct dsn_delta *d = &b->deltas[n - 1 - i];

		s->deltas[i].epoch = d->epoch;
		s->deltas[i].level = d->level;
		s->deltas[i].offset = d->first << SECTOR_SHIFT;
		s->deltas[i].length = d->sectors << SECTOR_SHIFT;
	}
}

/* Mark the dead deltas of @b into s->dead, in @b's order. Under index_lock. */
static void gc_mark_block(struct dsn_engine *e, struct dsn_block *b,
			  struct gc_scratch *s)
{
	u32 i, n = b->count;

	lockdep_assert_held(&e->index_lock);
	gc_load_block(e, b, s);
	dynsnap_gc_mark(s->deltas, n, s->epochs, s->nr_epochs, e->block_bytes,
			e->sub_bytes, s->dead);
	/* Back to the block's order. */
	for (i = 0; i < n / 2; i++)
		swap(s->dead[i], s->dead[n - 1 - i]);
}

/* Has @b a delta of an epoch in [@lo, @hi)? Under index_lock. */
static bool has_epochs(struct dsn_block *b, u32 lo, u32 hi)
{
	u32 first = 0, end = b->count;

	lockdep_assert_held(&b->engine->index_lock);
	/* Deltas are oldest first: the first of epoch >= lo decides. */
	while (first < end) {
		u32 mid = first + (end - first) / 2;

		if (b->deltas[mid].epoch < lo)
			first = mid + 1;
		else
			end = mid;
	}
	return first < b->count && b->deltas[first].epoch < hi;
}

/*
 * Drop every delta no retained snapshot can read, looking only at blocks
 * with deltas of epochs in [@lo, @hi): deleting a snapshot can make dead
 * only the deltas of its own epochs, those before the next retained
 * snapshot's (an older reader of a later delta is shadowed wherever that
 * next snapshot is). snap_lock held; takes each block's lock in turn, in
 * the NOIO scope, since writes wait on those locks.
 */
int dsn_gc_collect(struct dsn_engine *e, u32 lo, u32 hi)
{
	struct gc_scratch s = {};
	struct dsn_held held;
	struct dsn_block *b;
	unsigned long block;
	unsigned int noio;
	u32 i, kept, n;
	bool empty, wanted;
	int r;

	lockdep_assert_held(&e->snap_lock);
	noio = memalloc_noio_save();
	r = gc_epochs(e, &s);
	if (r)
		goto out;
	xa_for_each(&e->index, block, b) {
		/* An empty block is looked at too, to be let go. */
		spin_lock(&e->index_lock);
		n = b->count;
		wanted = !n || has_epochs(b, lo, hi);
		spin_unlock(&e->index_lock);
		if (!wanted)
			continue;
		r = gc_scratch_grow(&s, n);
		if (r)
			break;
		dsn_lock_block(e, &held, block);
		/* The block lock keeps writers, and so b->deltas, still. */
		n = b->count;
		if (n > s.cap) {
			dsn_unlock_block(e, &held);
			r = gc_scratch_grow(&s, n);
			if (r)
				break;
			dsn_lock_block(e, &held, block);
			n = b->count;
		}
		spin_lock(&e->index_lock);
		if (n <= s.cap)
			gc_mark_block(e, b, &s);
		spin_unlock(&e->index_lock);
		if (n > s.cap) {
			/* Grew again meanwhile: the next pass gets it. */
			dsn_unlock_block(e, &held);
			continue;
		}

		for (i = 0; i < n; i++)
			if (s.dead[i])
				dsn_log_release(dsn_log_of(e, b->deltas[i].tier),
						b->deltas[i].pos,
						DYNSNAP_REC_HEADER_SIZE +
						b->deltas[i].stored);

		spin_lock(&e->index_lock);
		for (i = 0, kept = 0; i < n; i++)
			if (!s.dead[i])
				b->deltas[kept++] = b->deltas[i];
		b->count = kept;
		e->delta_records -= n - kept;
		/* An empty block may go unless it records this epoch's work. */
		empty = !kept && b->cur_epoch != e->epoch;
		if (empty)
			xa_erase(&e->index, block);
		spin_unlock(&e->index_lock);
		dsn_unlock_block(e, &held);
		if (empty) {
			dsn_deltas_free(e, b->deltas, b->cap);
			call_rcu(&b->rcu, dsn_block_free_rcu);
		}
		cond_resched();
	}
out:
	memalloc_noio_restore(noio);
	gc_scratch_free(&s);
	return r;
}

/*
 * Bytes of records that only one snapshot needs, for every snapshot at
 * once: one pass over the index, whatever the number of snapshots.
 * @exclusive has one entry per retained snapshot, oldest first. snap_lock
 * held.
 */
int dsn_exclusive_bytes(struct dsn_engine *e, u64 *exclusive)
{
	struct gc_scratch s = {};
	struct dsn_block *b;
	unsigned long block;
	u32 i, n;
	int r;

	lockdep_assert_held(&e->snap_lock);
	r = gc_epochs(e, &s);
	xa_for_each(&e->index, block, b) {
		if (r)
			break;
		spin_lock(&e->index_lock);
		while (b->count > s.cap) {
			n = b->count;
			spin_unlock(&e->index_lock);
			r = gc_scratch_grow(&s, n);
			if (r)
				goto out;
			spin_lock(&e->index_lock);
		}
		n = b->count;
		gc_load_block(e, b, &s);
		dynsnap_gc_sole_reader(s.deltas, n, s.epochs, s.nr_epochs,
				       e->block_bytes, e->sub_bytes, s.set,
				       s.dead, s.sole);
		/* s.sole is newest first, like s.deltas. */
		for (i = 0; i < n; i++)
			if (s.sole[i] != DYNSNAP_GC_SHARED)
				exclusive[s.sole[i]] += DYNSNAP_REC_HEADER_SIZE +
					b->deltas[n - 1 - i].stored;
		spin_unlock(&e->index_lock);
		cond_resched();
	}
out:
	gc_scratch_free(&s);
	return r;
}

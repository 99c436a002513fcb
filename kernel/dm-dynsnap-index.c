// SPDX-License-Identifier: GPL-2.0
/*
 * dm-dynsnap engine: the in-memory index. An xarray maps a block number
 * to its struct dsn_block, the block's undo deltas in epoch order plus
 * the level and sub-blocks preserved in its current epoch, which the map
 * path reads under RCU. Blocks and delta arrays come from mempools so that
 * a preserving write never fails for lack of memory. Writers hold the
 * block's lock and index_lock (dm-dynsnap-engine-internal.h).
 */
#include <linux/mempool.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "../core/dynsnap_view.h"
#include "dm-dynsnap-engine-internal.h"

static u32 region_of_block(struct dsn_engine *e, u64 block)
{
	return (block << e->block_shift) >> ilog2(e->geo.region_sectors);
}

u8 dsn_region_level(struct dsn_engine *e, u64 block)
{
	u8 level = READ_ONCE(e->cur_level[region_of_block(e, block)]);

	return level == LEVEL_DEFAULT ? READ_ONCE(e->cur_default) : level;
}

/* Sub-blocks that sectors [first, first + count) of a block touch. */
u64 dsn_sub_mask(struct dsn_engine *e, u32 first, u32 count)
{
	u32 shift = ilog2(e->geo.sub_block_sectors);
	u32 s = first >> shift, t = (first + count - 1) >> shift;

	return GENMASK_ULL(t, s);
}

/* The pool an array of @cap deltas comes from, or -1 beyond the pools. */
static int delta_class(u32 cap)
{
	int c;

	if (!cap || !is_power_of_2(cap) || cap < DELTA_CLASS_MIN)
		return -1;
	c = ilog2(cap) - ilog2(DELTA_CLASS_MIN);
	return c < DELTA_CLASSES ? c : -1;
}

/* Capacity to grow to for @need deltas. */
static u32 delta_cap(u32 need)
{
	return need <= DELTA_CLASS_MIN ? DELTA_CLASS_MIN :
	       roundup_pow_of_two(need);
}

/*
 * An array of @cap deltas. Never fails: the pools hold a reserve for the
 * writes in flight, and beyond them it waits for memory, in the NOIO
 * scope of the bio worker or of the caller.
 */
static struct dsn_delta *deltas_alloc(struct dsn_engine *e, u32 cap)
{
	int c = delta_class(cap);
	struct dsn_delta *d;
	unsigned int noio;

	if (c >= 0)
		return mempool_alloc(e->delta_pools[c], GFP_NOIO);
	for (;;) {
		noio = memalloc_noio_save();
		d = kvmalloc_array(cap, sizeof(*d), GFP_KERNEL | __GFP_NOWARN);
		memalloc_noio_restore(noio);
		if (d)
			return d;
		memalloc_retry_wait(GFP_NOIO);
	}
}

void dsn_deltas_free(struct dsn_engine *e, struct dsn_delta *d, u32 cap)
{
	int c = delta_class(cap);

	if (!d)
		return;
	if (c >= 0)
		mempool_free(d, e->delta_pools[c]);
	else
		kvfree(d);
}

void dsn_block_free_rcu(struct rcu_head *rcu)
{
	struct dsn_block *b = container_of(rcu, struct dsn_block, rcu);

	mempool_free(b, b->engine->block_pool);
}

/*
 * Make room for @n more deltas of @block. Block lock held. Never fails for
 * lack of memory (see deltas_alloc()); the xarray's own nodes wait for
 * memory the same way.
 */
void dsn_index_reserve(struct dsn_engine *e, u64 block, u32 n)
{
	struct dsn_delta *old, *deltas;
	struct dsn_block *b = xa_load(&e->index, block);
	u32 cap, old_cap;
	int r;

	if (!b) {
		b = mempool_alloc(e->block_pool, GFP_NOIO);
		memset(b, 0, sizeof(*b));
		b->engine = e;
		while ((r = xa_err(xa_store(&e->index, block, b, GFP_NOIO))))
			memalloc_retry_wait(GFP_NOIO);
	}
	if (b->count + n <= b->cap)
		return;

	cap = delta_cap(b->count + n);
	deltas = deltas_alloc(e, cap);
	spin_lock(&e->index_lock);
	memcpy(deltas, b->deltas, b->count * sizeof(*deltas));
	old = b->deltas;
	old_cap = b->cap;
	b->deltas = deltas;
	b->cap = cap;
	spin_unlock(&e->index_lock);
	dsn_deltas_free(e, old, old_cap);
}

/*
 * Add a delta in epoch order; room was reserved. Under index_lock, with
 * the block locked.
 *
 * The map path decides without a lock whether a write needs preserving:
 * it loads cur_epoch with acquire, and trusts cur_level and cur_mask only
 * when cur_epoch is the current epoch. So the first delta of a new epoch
 * stores the new level and mask before it publishes the epoch with
 * release: a reader that sees the new epoch sees its mask, never the mask
 * of the epoch before, which would send a write needing a delta straight
 * to the origin. Within an epoch the mask only grows, and a reader that
 * sees a bit set may rely on it because the delta is durable and indexed
 * before the bit is set.
 */
void dsn_index_insert(struct dsn_engine *e, u64 block,
		      const struct dsn_delta *d, u64 mask)
{
	struct dsn_block *b = xa_load(&e->index, block);
	u32 i;

	lockdep_assert_held(&e->index_lock);
	i = DYNSNAP_INDEX_POSITION(b->deltas, b->count, d->epoch);
	memmove(&b->deltas[i + 1], &b->deltas[i],
		(b->count - i) * sizeof(*d));
	b->deltas[i] = *d;
	b->count++;
	e->delta_records++;

	if (d->epoch > b->cur_epoch) {
		WRITE_ONCE(b->cur_level, d->level);
		WRITE_ONCE(b->cur_mask, mask);
		/* Level and mask before the epoch: see above. */
		smp_store_release(&b->cur_epoch, d->epoch);
	} else if (d->epoch == b->cur_epoch) {
		WRITE_ONCE(b->cur_mask, b->cur_mask | mask);
	}
}

struct dsn_log *dsn_log_of(struct dsn_engine *e, u32 tier)
{
	return tier == DYNSNAP_TIER_SLOW ? &e->slow : &e->fast;
}

void dsn_free_index(struct dsn_engine *e)
{
	struct dsn_block *b;
	unsigned long i;

	xa_for_each(&e->index, i, b) {
		dsn_deltas_free(e, b->deltas, b->cap);
		mempool_free(b, e->block_pool);
	}
	xa_destroy(&e->index);
}

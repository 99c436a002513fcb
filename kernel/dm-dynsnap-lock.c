// SPDX-License-Identifier: GPL-2.0
/*
 * dm-dynsnap engine: block locks. One holder per block, in 64 hashed
 * buckets, each a spinlock, a list of the blocks held and a wait queue.
 * Taking one may sleep; releasing one works in any context, so a
 * preserving write can hold its block until its origin write completes
 * and release it from end_io. The lock order is in
 * dm-dynsnap-engine-internal.h.
 */
#include <linux/hash.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "dm-dynsnap-engine-internal.h"

static struct dsn_lock_bucket *bucket_of(struct dsn_engine *e, u64 block)
{
	return &e->locks[hash_64(block, ilog2(LOCK_BUCKETS))];
}

static bool try_lock(struct dsn_lock_bucket *b, struct list_head *node,
		     u64 block)
{
	struct dsn_held *h;
	unsigned long flags;

	spin_lock_irqsave(&b->lock, flags);
	list_for_each_entry(h, &b->held, node) {
		if (h->block == block) {
			spin_unlock_irqrestore(&b->lock, flags);
			return false;
		}
	}
	list_add(node, &b->held);
	spin_unlock_irqrestore(&b->lock, flags);
	return true;
}

void dsn_lock_block(struct dsn_engine *e, struct dsn_held *h, u64 block)
{
	struct dsn_lock_bucket *b = bucket_of(e, block);

	h->block = block;
	wait_event(b->wait, try_lock(b, &h->node, block));
}

void dsn_unlock_block(struct dsn_engine *e, struct dsn_held *h)
{
	struct dsn_lock_bucket *b = bucket_of(e, h->block);
	unsigned long flags;

	spin_lock_irqsave(&b->lock, flags);
	list_del(&h->node);
	spin_unlock_irqrestore(&b->lock, flags);
	wake_up_all(&b->wait);
}

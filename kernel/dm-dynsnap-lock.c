// SPDX-License-Identifier: GPL-2.0
/*
 * dm-dynsnap engine: block locks. One holder per block, in 64 hashed
 * buckets, each a spinlock, a list of the blocks held and a wait queue.
 * Taking one may sleep. The taker releases it, or hands it to an I/O
 * whose completion releases it in any context: a preserving write holds
 * its block until its origin write completes. The lock order is in
 * dm-dynsnap-engine-internal.h.
 *
 * Lockdep knows every block lock as one lock class, held by the context
 * that took it, so it checks the order against the engine's other locks
 * and that no context holds two. A holder that hands its block to an I/O
 * (the preserving write, until its origin write completes) stops holding
 * it for lockdep when it does, as the fs freeze protection does when it
 * hands a held rwsem to another thread.
 */
#include <linux/hash.h>
#include <linux/lockdep.h>
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

static struct lock_class_key block_lock_key;

void dsn_init_block_locks(struct dsn_engine *e)
{
	unsigned int i;

	for (i = 0; i < LOCK_BUCKETS; i++) {
		spin_lock_init(&e->locks[i].lock);
		INIT_LIST_HEAD(&e->locks[i].held);
		init_waitqueue_head(&e->locks[i].wait);
	}
	/* A sleeping lock, like a mutex, for lockdep's wait-context checks. */
	lockdep_init_map_wait(&e->block_lock_map, "dsn_block_lock",
			      &block_lock_key, 0, LD_WAIT_SLEEP);
}

void dsn_lock_block(struct dsn_engine *e, struct dsn_held *h, u64 block)
{
	struct dsn_lock_bucket *b = bucket_of(e, block);

	might_sleep();
	/* Reports name the caller, not this function. */
	lock_acquire_exclusive(&e->block_lock_map, 0, 0, NULL, _RET_IP_);
	h->block = block;
	wait_event(b->wait, try_lock(b, &h->node, block));
}

void dsn_hand_off_block(struct dsn_engine *e)
{
	lock_release(&e->block_lock_map, _RET_IP_);
}

void dsn_unlock_block(struct dsn_engine *e, struct dsn_held *h)
{
	lock_release(&e->block_lock_map, _RET_IP_);
	dsn_unlock_handed_off_block(e, h);
}

void dsn_unlock_handed_off_block(struct dsn_engine *e, struct dsn_held *h)
{
	struct dsn_lock_bucket *b = bucket_of(e, h->block);
	unsigned long flags;

	spin_lock_irqsave(&b->lock, flags);
	list_del(&h->node);
	spin_unlock_irqrestore(&b->lock, flags);
	wake_up_all(&b->wait);
}

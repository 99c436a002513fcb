// SPDX-License-Identifier: GPL-2.0
/*
 * dm-dynsnap engine: rollback. A worker writes every block that changed
 * since the snapshot back to the snapshot's bytes through the normal
 * preserving write, one block at a time under snap_lock and the block's
 * lock; suspend pauses it at a block boundary. A block that finds no
 * delta space under on_full drop_oldest waits, outside snap_lock, for
 * the oldest snapshots to be dropped, as a write does.
 */
#include <linux/device-mapper.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "dm-dynsnap-engine-internal.h"

#define DM_MSG_PREFIX "dynsnap"

/* Has @b a delta of @epoch or later? Deltas are oldest first. */
static bool changed_since(struct dsn_engine *e, struct dsn_block *b, u32 epoch)
{
	bool changed;

	spin_lock(&e->index_lock);
	changed = b->count && b->deltas[b->count - 1].epoch >= epoch;
	spin_unlock(&e->index_lock);
	return changed;
}

/*
 * Find the first block at or after *@block that changed since @epoch.
 * snap_lock held: only deletions free blocks, and they take it too.
 */
static bool next_changed(struct dsn_engine *e, unsigned long *block, u32 epoch)
{
	struct dsn_block *b;

	lockdep_assert_held(&e->snap_lock);
	for (b = xa_find(&e->index, block, ULONG_MAX, XA_PRESENT); b;
	     b = xa_find_after(&e->index, block, ULONG_MAX, XA_PRESENT)) {
		if (changed_since(e, b, epoch))
			return true;
		cond_resched();
	}
	return false;
}

/*
 * Write the snapshot's bytes of one block, preserving the current ones
 * first like any overwrite. A block that holds the snapshot's bytes
 * already (changed and changed back) is left alone. snap_lock held, so
 * the epoch cannot change under the write, which is not counted in
 * flight.
 */
static int rollback_block(struct dsn_engine *e, u64 block,
			  struct dsn_slot *slot, u8 *current_data)
{
	u64 offset = (block << e->block_shift) << SECTOR_SHIFT;
	struct dsn_io io = {
		.engine = e,
		.block = block,
		.volume_sector = block << e->block_shift,
		.new_data = slot->data,
		.new_sectors = e->geo.block_sectors,
	};
	int r;

	lockdep_assert_held(&e->snap_lock);
	dsn_lock_block(e, &io.held, block);
	r = dsn_io_sync(&e->bios, e->origin_bdev, REQ_OP_READ, offset,
			slot->data, e->block_bytes);
	if (!r) {
		memcpy(current_data, slot->data, e->block_bytes);
		r = dsn_apply_since(e, block, e->rb.snap->epoch, slot);
	}
	if (!r && memcmp(current_data, slot->data, e->block_bytes)) {
		r = dsn_preserve(e, &io);
		if (!r)
			r = dsn_io_sync(&e->bios, e->origin_bdev, REQ_OP_WRITE,
					offset, slot->data, e->block_bytes);
	}
	dsn_unlock_block(e, &io.held);
	return r;
}

void dsn_rollback_work(struct work_struct *work)
{
	struct dsn_engine *e = container_of(work, struct dsn_engine, rb.work);
	struct dsn_slot *slot = NULL;
	u8 *current_data;
	bool finished = false;
	unsigned long block;
	u64 seen;
	int r = 0;

	current_data = kvmalloc(e->block_bytes, GFP_NOIO);
	if (!current_data) {
		r = -ENOMEM;
		goto out;
	}
	slot = dsn_slot_get(&e->read_slots);
	while (!READ_ONCE(e->rb.stop)) {
		mutex_lock(&e->snap_lock);
		block = e->rb.cursor;
		if (!next_changed(e, &block, e->rb.snap->epoch)) {
			mutex_unlock(&e->snap_lock);
			finished = true;
			break;
		}
		seen = e->space_gen;
		r = rollback_block(e, block, slot, current_data);
		if (!r) {
			e->rb.cursor = block + 1;
			WRITE_ONCE(e->rb.done, e->rb.done + 1);
			/* Writes during the rollback may add blocks. */
			if (e->rb.done > e->rb.total)
				WRITE_ONCE(e->rb.total, e->rb.done);
		}
		mutex_unlock(&e->snap_lock);
		/* Room is made under snap_lock: wait for it outside. */
		if (r == -ENOSPC && dsn_drops_oldest(e)) {
			r = dsn_make_room(e, seen);
			if (!r)
				continue;	/* the same block again */
		}
		if (r) {
			DMERR("%s: rollback to snapshot %llu failed at block %lu: %d",
			      e->name, e->rb.id, block, r);
			break;
		}
		cond_resched();
	}
	dsn_slot_put(&e->read_slots, slot);
	kvfree(current_data);
	if (finished)
		r = blkdev_issue_flush(e->origin_bdev);
out:
	mutex_lock(&e->snap_lock);
	if (r || finished) {
		e->rb.error = r;
		WRITE_ONCE(e->rb.state, r ? DSN_ROLLBACK_FAILED : DSN_ROLLBACK_DONE);
		e->rb.snap->views--;
		e->rb.snap = NULL;
		if (!r)
			DMINFO("%s: rollback to snapshot %llu done: %llu blocks",
			       e->name, e->rb.id, e->rb.done);
	} else {
		WRITE_ONCE(e->rb.state, DSN_ROLLBACK_PAUSED);
	}
	mutex_unlock(&e->snap_lock);
	dsn_raise_event(e);
}

int dsn_rollback(struct dsn_engine *e, u64 id)
{
	unsigned long block = 0;
	struct dsn_snap *snap;
	u64 total = 0;
	int r = 0;

	if (e->read_only)
		return -EROFS;
	if (READ_ONCE(e->failed))
		return -EIO;
	mutex_lock(&e->snap_lock);
	if (e->rb.state == DSN_ROLLBACK_RUNNING ||
	    e->rb.state == DSN_ROLLBACK_PAUSED) {
		r = -EALREADY;
		goto out;
	}
	snap = dsn_find_snap(e, id);
	if (!snap) {
		r = -ENOENT;
		goto out;
	}
	while (next_changed(e, &block, snap->epoch)) {
		total++;
		block++;
	}
	/* Pinned like by a view: the snapshot cannot go meanwhile. */
	snap->views++;
	e->rb.snap = snap;
	e->rb.id = id;
	e->rb.cursor = 0;
	e->rb.error = 0;
	WRITE_ONCE(e->rb.done, 0);
	WRITE_ONCE(e->rb.total, total);
	if (READ_ONCE(e->rb.stop)) {
		WRITE_ONCE(e->rb.state, DSN_ROLLBACK_PAUSED);
	} else {
		WRITE_ONCE(e->rb.state, DSN_ROLLBACK_RUNNING);
		queue_work(e->wq, &e->rb.work);
	}
	DMINFO("%s: rollback to snapshot %llu started: %llu blocks changed since",
	       e->name, id, total);
out:
	mutex_unlock(&e->snap_lock);
	return r;
}

void dsn_rollback_pause(struct dsn_engine *e)
{
	WRITE_ONCE(e->rb.stop, true);
	flush_work(&e->rb.work);
}

void dsn_rollback_continue(struct dsn_engine *e)
{
	mutex_lock(&e->snap_lock);
	WRITE_ONCE(e->rb.stop, false);
	if (e->rb.state == DSN_ROLLBACK_PAUSED) {
		WRITE_ONCE(e->rb.state, DSN_ROLLBACK_RUNNING);
		queue_work(e->wq, &e->rb.work);
	}
	mutex_unlock(&e->snap_lock);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * dm-dynsnap engine: space policies. A log append that finds no room
 * marks the engine full; with on_full drop_oldest, the writes that found
 * no room wait for the space worker, which deletes the oldest snapshots
 * nobody reads (under snap_lock, in the NOIO scope, on its own ordered
 * workqueue) and then lets them in again.
 */
#include <linux/device-mapper.h>
#include <linux/sched/mm.h>

#include "dm-dynsnap-engine-internal.h"

#define DM_MSG_PREFIX "dynsnap"

bool dsn_drops_oldest(struct dsn_engine *e)
{
	return READ_ONCE(e->on_full) == DSN_ON_FULL_DROP_OLDEST;
}

void dsn_note_full(struct dsn_engine *e)
{
	atomic64_inc(&e->space_events);
	if (!xchg(&e->full, true)) {
		DMERR("%s: delta space full: %s", e->name, dsn_drops_oldest(e) ?
		      "dropping the oldest snapshots" :
		      "writes that need a delta fail with ENOSPC");
		dsn_raise_event(e);
	}
}

/*
 * The space worker: for the writes that found no room, delete the oldest
 * snapshots nobody reads until space comes back, then let them in again;
 * fail them with ENOSPC when nothing more can be dropped. Its allocations
 * are NOIO: the writes it frees may be the ones memory reclaim waits for.
 */
void dsn_space_work(struct work_struct *work)
{
	struct dsn_engine *e = container_of(work, struct dsn_engine, space_work);
	struct dsn_io *io, *tmp;
	bool drop = false;
	LIST_HEAD(list);
	u64 gen;
	int r = 0;

	spin_lock_irq(&e->admit_lock);
	list_splice_init(&e->space_waiters, &list);
	spin_unlock_irq(&e->admit_lock);
	if (list_empty(&list))
		return;

	/* A write that saw an older generation finds room already. */
	gen = READ_ONCE(e->space_gen);
	list_for_each_entry(io, &list, defer_node)
		drop |= io->seen == gen;
	if (drop)
		r = dsn_make_room(e, gen);
	list_for_each_entry_safe(io, tmp, &list, defer_node) {
		list_del_init(&io->defer_node);
		if (r && io->seen == gen)
			dsn_fail_io(e, io, r);
		else
			dsn_readmit(e, io);
	}
}

/*
 * Delete the oldest snapshots nobody reads (no view, no rollback) until a
 * checkpoint gives space back, or none is left. A deletion whose space
 * could not be given back (its collection or checkpoint failed, for
 * memory or a failed tier) ends the dropping: deleting more would free
 * nothing more until a checkpoint is written, so the next write that finds
 * no room retries that first. Its allocations are NOIO: the writes it
 * frees may be the ones memory reclaim waits for.
 */
int dsn_make_room(struct dsn_engine *e, u64 seen)
{
	struct dsn_snap *snap, *victim;
	unsigned int noio;
	int r = 0;

	noio = memalloc_noio_save();
	mutex_lock(&e->snap_lock);
	if (READ_ONCE(e->space_gen) == seen &&
	    (e->gc_pending || e->reclaim_pending) &&
	    dsn_reclaim(e, 0, 0))
		r = -ENOSPC;
	while (!r && READ_ONCE(e->space_gen) == seen && e->nr_snaps) {
		if (READ_ONCE(e->failed)) {
			r = -EIO;
			break;
		}
		victim = NULL;
		list_for_each_entry(snap, &e->snaps, node) {
			if (!snap->views) {
				victim = snap;
				break;
			}
		}
		if (!victim) {
			r = -ENOSPC;
			break;
		}
		DMWARN("%s: delta space full: dropping snapshot %llu '%s'",
		       e->name, victim->id, victim->name);
		r = dsn_delete_snap(e, victim);
		dsn_raise_event(e);
		if (!r && e->reclaim_pending)
			r = -ENOSPC;
	}
	mutex_unlock(&e->snap_lock);
	memalloc_noio_restore(noio);
	if (r)
		DMERR_LIMIT("%s: delta space full and no room can be made: %d",
			    e->name, r);
	return r;
}

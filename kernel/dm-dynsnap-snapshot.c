// SPDX-License-Identifier: GPL-2.0
/*
 * dm-dynsnap engine: snapshots. Creating one journals a control record
 * and switches the epoch with every write held back; deleting one
 * journals it, collects the garbage it leaves and writes a checkpoint
 * (what fails of those two is retried at the next deletion);
 * also snap_list and set_granularity. Everything here runs under
 * snap_lock.
 */
#include <linux/device-mapper.h>
#include <linux/ktime.h>
#include <linux/slab.h>

#include "../core/dynsnap_control.h"
#include "dm-dynsnap-engine-internal.h"

#define DM_MSG_PREFIX "dynsnap"

struct dsn_snap *dsn_find_snap(struct dsn_engine *e, u64 id)
{
	struct dsn_snap *s;

	lockdep_assert_held(&e->snap_lock);
	list_for_each_entry(s, &e->snaps, node)
		if (s->id == id)
			return s;
	return NULL;
}

/*
 * Journal a control record on the fast tier and wait until durable.
 * snap_lock held.
 */
static int log_control(struct dsn_engine *e, u32 type, u64 epoch,
		       const u8 *payload)
{
	struct dynsnap_record_header h;
	u64 pos, seq;
	int r;

	lockdep_assert_held(&e->snap_lock);

	dynsnap_record_init_control(&h, type, 0, epoch,
				    dynsnap_ctl_payload_size(type));
	r = dsn_log_append(&e->fast, &h, payload, true, &pos, &seq);
	if (!r)
		r = dsn_log_commit(&e->fast, seq);
	if (r == -ENOSPC)
		dsn_note_full(e);
	if (r && dsn_log_failed(&e->fast))
		dsn_engine_fail(e, "a fast tier log write");
	if (!r)
		dsn_add_ctl_ref(e, pos, seq, dynsnap_record_size(&h));
	return r;
}

void dsn_add_snap(struct dsn_engine *e, struct dsn_snap *snap)
{
	lockdep_assert_held(&e->snap_lock);
	list_add_tail(&snap->node, &e->snaps);
	WRITE_ONCE(e->nr_snaps, e->nr_snaps + 1);
}

int dsn_snap_create(struct dsn_engine *e, const char *name, u64 *id)
{
	struct dynsnap_ctl_snap_create c = {};
	u8 payload[DYNSNAP_CTL_SNAP_CREATE_SIZE];
	struct dsn_snap *snap, *s;
	size_t len = strlen(name);
	int r;

	if (e->read_only)
		return -EROFS;
	if (READ_ONCE(e->failed))
		return -EIO;
	if (!dynsnap_snap_name_valid(name, len))
		return -EINVAL;
	snap = kzalloc(sizeof(*snap), GFP_KERNEL);
	if (!snap)
		return -ENOMEM;

	mutex_lock(&e->snap_lock);
	list_for_each_entry(s, &e->snaps, node) {
		if (!strcmp(s->name, name)) {
			r = -EEXIST;
			goto out;
		}
	}
	if (e->epoch == U32_MAX) {
		r = -EOVERFLOW;
		goto out;
	}
	/* Every snapshot must fit in a checkpoint. */
	if (!dsn_ckpt_bytes(e, e->nr_snaps + 1)) {
		r = -EMLINK;
		goto out;
	}

	snap->id = e->next_id;
	snap->epoch = e->epoch + 1;
	snap->ctime_ns = ktime_get_real_ns();
	strscpy(snap->name, name, sizeof(snap->name));
	c.id = snap->id;
	c.epoch = snap->epoch;
	c.ctime_ns = snap->ctime_ns;
	c.name_len = len;
	memcpy(c.name, name, len);
	dynsnap_ctl_snap_create_encode(&c, payload);

	/*
	 * Every write acknowledged so far belongs to the snapshot, also one
	 * still in the origin's volatile cache: it must be durable before
	 * the snapshot is, or a power cut could lose it while later deltas,
	 * taken from the origin after it, keep its bytes as the snapshot's.
	 */
	dsn_begin_switch(e);
	r = blkdev_issue_flush(e->origin_bdev);
	if (r)
		DMERR("%s: cannot flush the origin for a snapshot: %d", e->name, r);
	else
		r = log_control(e, DYNSNAP_CTL_SNAP_CREATE, snap->epoch,
				payload);
	if (!r) {
		WRITE_ONCE(e->epoch, snap->epoch);
		memcpy(e->cur_level, e->next_level, e->nr_regions);
		WRITE_ONCE(e->cur_default, e->next_default);
		dsn_add_snap(e, snap);
		e->next_id++;
		*id = snap->id;
		snap = NULL;
	}
	dsn_end_switch(e);
out:
	mutex_unlock(&e->snap_lock);
	kfree(snap);
	return r;
}

/*
 * Collect the garbage deletions left in epochs [@lo, @hi) (or everywhere,
 * when an earlier collection did not finish) and write a checkpoint, so
 * the log space they held comes back. What fails stays pending for the
 * next deletion or drop: a deletion is journaled already, and replay
 * collects everything anyway. snap_lock held. Returns 0 once a checkpoint
 * is written, else the collector's or the checkpoint's error.
 */
int dsn_reclaim(struct dsn_engine *e, u32 lo, u32 hi)
{
	int r;

	lockdep_assert_held(&e->snap_lock);
	if (e->gc_pending) {
		lo = 0;
		hi = U32_MAX;
	}
	r = dsn_gc_collect(e, lo, hi);
	e->gc_pending = r != 0;
	if (!r)
		r = dsn_write_checkpoint(e);
	e->reclaim_pending = r != 0;
	return r;
}

/*
 * Delete @snap, which has no view: journal, then reclaim. Once the delete
 * is journaled the snapshot is gone, whatever the reclaim does.
 */
int dsn_delete_snap(struct dsn_engine *e, struct dsn_snap *snap)
{
	struct dynsnap_ctl_snap_delete c = { .id = snap->id };
	u8 payload[DYNSNAP_CTL_SNAP_DELETE_SIZE];
	u64 id = snap->id;
	u32 lo = snap->epoch, hi = U32_MAX;
	int r;

	lockdep_assert_held(&e->snap_lock);
	/* Its epochs run up to the next retained snapshot's. */
	if (!list_is_last(&snap->node, &e->snaps))
		hi = list_next_entry(snap, node)->epoch;
	dynsnap_ctl_snap_delete_encode(&c, payload);
	r = log_control(e, DYNSNAP_CTL_SNAP_DELETE, e->epoch, payload);
	if (r)
		return r;
	list_del(&snap->node);
	WRITE_ONCE(e->nr_snaps, e->nr_snaps - 1);
	kfree(snap);
	/* With no snapshot left no write needs delta space. */
	if (!e->nr_snaps && xchg(&e->full, false))
		dsn_raise_event(e);
	r = dsn_reclaim(e, lo, hi);
	if (r)
		DMERR_LIMIT("%s: snapshot %llu deleted, its space not reused yet: %d",
			    e->name, id, r);
	return 0;
}

int dsn_snap_delete(struct dsn_engine *e, u64 id)
{
	struct dsn_snap *snap;
	int r;

	if (e->read_only)
		return -EROFS;
	if (READ_ONCE(e->failed))
		return -EIO;
	mutex_lock(&e->snap_lock);
	snap = dsn_find_snap(e, id);
	if (!snap)
		r = -ENOENT;
	else if (snap->views)
		r = -EBUSY;
	else
		r = dsn_delete_snap(e, snap);
	mutex_unlock(&e->snap_lock);
	return r;
}

int dsn_snap_list(struct dsn_engine *e, char *result, unsigned int maxlen)
{
	struct dsn_snap *snap;
	unsigned int sz = 0;
	u64 *exclusive;
	u32 ns, i = 0;
	u64 secs;

	mutex_lock(&e->snap_lock);
	exclusive = kvcalloc(max(e->nr_snaps, 1U), sizeof(*exclusive),
			     GFP_KERNEL);
	/* Without memory for the sizes the list is still worth having. */
	if (exclusive && dsn_exclusive_bytes(e, exclusive))
		memset(exclusive, 0, e->nr_snaps * sizeof(*exclusive));
	list_for_each_entry(snap, &e->snaps, node) {
		/* dm has userspace ask again with more room once it is full. */
		if (sz >= maxlen - 1)
			break;
		secs = div_u64_rem(snap->ctime_ns, NSEC_PER_SEC, &ns);
		DMEMIT("%llu %s %llu.%09u %llu %u\n", snap->id, snap->name, secs,
		       ns, exclusive ? exclusive[i] : 0, snap->epoch);
		i++;
	}
	mutex_unlock(&e->snap_lock);
	kvfree(exclusive);
	return 1;
}

int dsn_set_granularity(struct dsn_engine *e, enum dynsnap_level level,
			u32 first_region, u32 count)
{
	struct dynsnap_ctl_granularity c = {
		.first_region = first_region, .count = count, .level = level,
	};
	u8 payload[DYNSNAP_CTL_GRANULARITY_SIZE];
	int r;

	if (e->read_only)
		return -EROFS;
	if (READ_ONCE(e->failed))
		return -EIO;
	if (!count || first_region >= e->nr_regions ||
	    count > e->nr_regions - first_region)
		return -ERANGE;

	mutex_lock(&e->snap_lock);
	c.epoch = e->epoch + 1;
	dynsnap_ctl_granularity_encode(&c, payload);
	r = log_control(e, DYNSNAP_CTL_GRANULARITY, c.epoch, payload);
	if (!r)
		memset(e->next_level + first_region, level, count);
	mutex_unlock(&e->snap_lock);
	return r;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * dm-dynsnap engine: the engine of a store. Creation and destruction,
 * the reserves of the I/O path (bio set, index mempools, buffer pools),
 * failure, dm events, the live table's settings and the counters. The
 * rest is one concept per file: block locks (dm-dynsnap-lock.c), index
 * (-index.c), write path (-write.c), space policy (-space.c), snapshots
 * (-snapshot.c), garbage collection (-gc.c), checkpoints
 * (-checkpoint.c), views (-view.c), rollback (-rollback.c), queries
 * (-query.c) and replay (-replay.c). The shared structures and the
 * concurrency model are in dm-dynsnap-engine-internal.h;
 * docs/design/snapshot-engine.md explains the rules, and the formats and
 * the reconstruction arithmetic live in core/.
 */
#include <linux/device-mapper.h>
#include <linux/mempool.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "../core/dynsnap_xor.h"
#include "dm-dynsnap-engine-internal.h"

#define DM_MSG_PREFIX "dynsnap"

/* Tell the live table that the engine's state changed. Any context. */
void dsn_raise_event(struct dsn_engine *e)
{
	queue_work(system_wq, &e->event_work);
}

static void event_work(struct work_struct *work)
{
	struct dsn_engine *e = container_of(work, struct dsn_engine, event_work);

	mutex_lock(&e->table_lock);
	if (e->event)
		e->event(e->event_context);
	mutex_unlock(&e->table_lock);
}

/*
 * A write that makes the store durable failed: nothing written after it
 * can be trusted to be there, so the engine stops writing for good.
 */
void dsn_engine_fail(struct dsn_engine *e, const char *what)
{
	if (xchg(&e->failed, true))
		return;
	DMERR("%s: %s failed: store failed, writes needing a delta refused",
	      e->name, what);
	dsn_raise_event(e);
}

bool dsn_engine_failed(struct dsn_engine *e)
{
	return READ_ONCE(e->failed);
}

/* ---- Buffers ---- */

static void slots_exit(struct dsn_slot_pool *p)
{
	unsigned int i;

	for (i = 0; p->slots && i < p->nr; i++) {
		kvfree(p->slots[i].data);
		kvfree(p->slots[i].rec);
	}
	kfree(p->slots);
	p->slots = NULL;
}

static int slots_init(struct dsn_engine *e, struct dsn_slot_pool *p)
{
	unsigned int i;

	p->nr = clamp_t(unsigned int, SLOT_MEMORY / (e->block_bytes + e->rec_cap),
			2, MAX_SLOTS);
	spin_lock_init(&p->lock);
	INIT_LIST_HEAD(&p->free);
	sema_init(&p->sem, p->nr);
	p->slots = kcalloc(p->nr, sizeof(*p->slots), GFP_KERNEL);
	if (!p->slots)
		return -ENOMEM;
	for (i = 0; i < p->nr; i++) {
		p->slots[i].data = kvmalloc(e->block_bytes, GFP_KERNEL);
		p->slots[i].rec = kvmalloc(e->rec_cap, GFP_KERNEL);
		if (!p->slots[i].data || !p->slots[i].rec)
			return -ENOMEM;
		list_add(&p->slots[i].node, &p->free);
	}
	return 0;
}

struct dsn_slot *dsn_slot_get(struct dsn_slot_pool *p)
{
	struct dsn_slot *s;

	down(&p->sem);
	spin_lock(&p->lock);
	s = list_first_entry(&p->free, struct dsn_slot, node);
	list_del(&s->node);
	spin_unlock(&p->lock);
	return s;
}

void dsn_slot_put(struct dsn_slot_pool *p, struct dsn_slot *s)
{
	spin_lock(&p->lock);
	list_add(&s->node, &p->free);
	spin_unlock(&p->lock);
	up(&p->sem);
}

void dsn_engine_counters(struct dsn_engine *e, struct dsn_counters *c)
{
	u32 i;

	memset(c, 0, sizeof(*c));
	c->snapshots = READ_ONCE(e->nr_snaps);
	c->epoch = READ_ONCE(e->epoch);
	dsn_log_usage(&e->fast, &c->fast_used_sectors, &c->fast_total_sectors);
	if (e->has_slow)
		dsn_log_usage(&e->slow, &c->slow_used_sectors,
			      &c->slow_total_sectors);
	c->delta_records = READ_ONCE(e->delta_records);
	c->delta_bytes = READ_ONCE(e->fast.record_bytes) +
			 (e->has_slow ? READ_ONCE(e->slow.record_bytes) : 0);
	c->checksum_errors = atomic64_read(&e->checksum_errors);
	c->space_events = atomic64_read(&e->space_events);
	c->full = READ_ONCE(e->full);
	c->rollback = READ_ONCE(e->rb.state);
	c->rollback_id = READ_ONCE(e->rb.id);
	c->rollback_done = READ_ONCE(e->rb.done);
	c->rollback_total = READ_ONCE(e->rb.total);
	c->rollback_error = READ_ONCE(e->rb.error);
	for (i = 0; i < e->nr_regions; i++) {
		u8 level = READ_ONCE(e->cur_level[i]);

		if (level == LEVEL_DEFAULT)
			level = READ_ONCE(e->cur_default);
		c->regions[level]++;
	}
}

void dsn_engine_configure(struct dsn_engine *e, enum dynsnap_level level,
			  enum dsn_on_full on_full,
			  void (*event)(void *context), void *context)
{
	/*
	 * Levels are fixed per epoch: a reload's default applies from the
	 * next snapshot. The store does not record the default of the table
	 * it was last activated with, so the first table of an activation
	 * sets the current epoch's too.
	 */
	mutex_lock(&e->snap_lock);
	e->next_default = level;
	mutex_lock(&e->table_lock);
	if (!e->configured)
		WRITE_ONCE(e->cur_default, level);
	e->configured = true;
	WRITE_ONCE(e->on_full, on_full);
	e->event = event;
	e->event_context = context;
	mutex_unlock(&e->table_lock);
	mutex_unlock(&e->snap_lock);
}

void dsn_engine_detach(struct dsn_engine *e, void *context)
{
	mutex_lock(&e->table_lock);
	if (e->event_context == context) {
		e->event = NULL;
		e->event_context = NULL;
	}
	mutex_unlock(&e->table_lock);
}

void dsn_engine_orphan(struct dsn_engine *e)
{
	WRITE_ONCE(e->orphaned, true);
	/* View reads run there: those that started before are done after. */
	flush_workqueue(e->wq);
}

u64 dsn_engine_volume_sectors(struct dsn_engine *e)
{
	return e->volume_sectors;
}

dev_t dsn_engine_origin_dev(struct dsn_engine *e)
{
	return e->origin_dev;
}

dev_t dsn_engine_tier_dev(struct dsn_engine *e, u32 tier)
{
	if (tier == DYNSNAP_TIER_SLOW)
		return e->has_slow ? e->slow.bdev->bd_dev : 0;
	return e->fast.bdev->bd_dev;
}

u32 dsn_engine_block_sectors(struct dsn_engine *e)
{
	return e->geo.block_sectors;
}

/*
 * Reserves for the I/O path: bios for every slot and log that may wait on
 * one at a time, index memory for every preserving write in flight.
 */
static int engine_pools_init(struct dsn_engine *e)
{
	unsigned int writers = MAX_SLOTS + 2;
	int i, r;

	r = bioset_init(&e->bios, 2 * MAX_SLOTS + 4, 0, BIOSET_NEED_BVECS);
	if (r)
		return r;
	e->block_pool = mempool_create_kmalloc_pool(writers,
						    sizeof(struct dsn_block));
	if (!e->block_pool)
		return -ENOMEM;
	for (i = 0; i < DELTA_CLASSES; i++) {
		size_t size = (DELTA_CLASS_MIN << i) * sizeof(struct dsn_delta);

		e->delta_pools[i] = mempool_create_kmalloc_pool(writers, size);
		if (!e->delta_pools[i])
			return -ENOMEM;
	}
	return 0;
}

static void engine_pools_exit(struct dsn_engine *e)
{
	int i;

	for (i = 0; i < DELTA_CLASSES; i++)
		mempool_destroy(e->delta_pools[i]);
	mempool_destroy(e->block_pool);
	bioset_exit(&e->bios);
}

struct dsn_engine *dsn_engine_create(const struct dsn_engine_config *cfg,
				     const char **error)
{
	const struct dynsnap_superblock *sb = cfg->sb;
	struct dsn_engine *e;
	int r;

	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e) {
		*error = "cannot allocate engine";
		return ERR_PTR(-ENOMEM);
	}
	strscpy(e->name, cfg->name, sizeof(e->name));
	INIT_WORK(&e->rb.work, dsn_rollback_work);
	memcpy(e->uuid, sb->uuid, sizeof(e->uuid));
	e->layout = sb->layout;
	e->origin_bdev = cfg->origin_bdev;
	e->origin_dev = cfg->origin_bdev->bd_dev;
	e->geo = sb->geometry;
	e->volume_sectors = sb->volume_sectors;
	e->block_bytes = e->geo.block_sectors << SECTOR_SHIFT;
	e->sub_bytes = e->geo.sub_block_sectors << SECTOR_SHIFT;
	e->subs_per_block = e->geo.block_sectors / e->geo.sub_block_sectors;
	e->full_mask = GENMASK_ULL(e->subs_per_block - 1, 0);
	e->block_shift = ilog2(e->geo.block_sectors);
	e->nr_regions = dynsnap_region_count(&e->geo, e->volume_sectors);
	e->read_only = cfg->read_only;
	e->rec_cap = round_up(2 * SECTOR_SIZE + DYNSNAP_REC_HEADER_SIZE +
			      DYNSNAP_XOR_MAX_ENCODED(e->block_bytes) +
			      e->block_bytes, PAGE_SIZE);
	e->epoch = 1;
	e->next_id = 1;
	e->cur_default = DYNSNAP_LEVEL_SUB;
	e->next_default = DYNSNAP_LEVEL_SUB;
	spin_lock_init(&e->index_lock);
	xa_init(&e->index);
	mutex_init(&e->snap_lock);
	INIT_LIST_HEAD(&e->snaps);
	spin_lock_init(&e->admit_lock);
	INIT_LIST_HEAD(&e->deferred);
	init_waitqueue_head(&e->drain_wait);
	mutex_init(&e->table_lock);
	INIT_WORK(&e->event_work, event_work);
	INIT_WORK(&e->space_work, dsn_space_work);
	INIT_LIST_HEAD(&e->space_waiters);
	dsn_init_block_locks(e);

	e->cur_level = kvmalloc(e->nr_regions, GFP_KERNEL);
	e->next_level = kvmalloc(e->nr_regions, GFP_KERNEL);
	if (!e->cur_level || !e->next_level) {
		*error = "cannot allocate granularity map";
		r = -ENOMEM;
		goto bad;
	}
	memset(e->cur_level, LEVEL_DEFAULT, e->nr_regions);
	memset(e->next_level, LEVEL_DEFAULT, e->nr_regions);

	r = engine_pools_init(e);
	if (r) {
		*error = "cannot allocate the index and bio reserves";
		goto bad;
	}

	r = dsn_log_init(&e->fast, cfg->fast_bdev, &e->bios, DYNSNAP_TIER_FAST,
			 sb->uuid, sb->layout.fast_data_start,
			 sb->layout.fast_data_sectors);
	if (!r && cfg->slow_bdev) {
		e->has_slow = true;
		r = dsn_log_init(&e->slow, cfg->slow_bdev, &e->bios,
				 DYNSNAP_TIER_SLOW, sb->uuid,
				 sb->layout.slow_data_start,
				 sb->layout.slow_data_sectors);
	}
	if (r) {
		*error = r == -ENOSPC ?
			"a tier's data area is too small for two delta segments" :
			"cannot allocate delta log buffers";
		goto bad;
	}

	r = slots_init(e, &e->write_slots);
	if (!r)
		r = slots_init(e, &e->read_slots);
	if (r) {
		*error = "cannot allocate I/O buffers";
		goto bad;
	}
	e->wq = alloc_workqueue("dynsnap", WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	e->space_wq = alloc_ordered_workqueue("dynsnap-space", WQ_MEM_RECLAIM);
	if (!e->wq || !e->space_wq) {
		*error = "cannot create workqueue";
		r = -ENOMEM;
		goto bad;
	}

	r = dsn_replay(e, error);
	if (r)
		goto bad;
	return e;

bad:
	dsn_engine_destroy(e);
	return ERR_PTR(r);
}

void dsn_engine_destroy(struct dsn_engine *e)
{
	struct dsn_snap *s, *tmp;

	if (e->wq) {
		dsn_rollback_pause(e);
		destroy_workqueue(e->wq);
	}
	/* No table is left to wait for space or to be told of events. */
	if (e->space_wq)
		destroy_workqueue(e->space_wq);
	cancel_work_sync(&e->event_work);
	slots_exit(&e->read_slots);
	slots_exit(&e->write_slots);
	if (e->has_slow)
		dsn_log_exit(&e->slow);
	dsn_log_exit(&e->fast);
	if (e->block_pool)
		dsn_free_index(e);
	/* Blocks the garbage collector let go are freed after a grace period. */
	rcu_barrier();
	engine_pools_exit(e);
	list_for_each_entry_safe(s, tmp, &e->snaps, node)
		kfree(s);
	kfree(e->ctl_refs);
	kvfree(e->next_level);
	kvfree(e->cur_level);
	kfree(e);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * dm-dynsnap engine: replay at activation. Load the newest checkpoint,
 * then replay each tier's log from the head it names: control records
 * rebuild the snapshots and levels, delta records the index. Runs before
 * the engine is live, so it takes index_lock and snap_lock only where
 * the helpers it shares with the live engine want them.
 */
#include <linux/device-mapper.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "../core/dynsnap_checkpoint.h"
#include "../core/dynsnap_control.h"
#include "dm-dynsnap-engine-internal.h"

#define DM_MSG_PREFIX "dynsnap"

static int replay_control(struct dsn_engine *e,
			  const struct dynsnap_record_header *h,
			  const u8 *payload)
{
	struct dynsnap_ctl_snap_create c;
	struct dynsnap_ctl_snap_delete d;
	struct dynsnap_ctl_granularity g;
	struct dsn_snap *snap;

	switch (h->level) {
	case DYNSNAP_CTL_SNAP_CREATE:
		if (dynsnap_ctl_snap_create_decode(payload, h->stored_length, &c) ||
		    c.epoch != (u64)e->epoch + 1 || c.id < e->next_id)
			return -EUCLEAN;
		snap = kzalloc(sizeof(*snap), GFP_KERNEL);
		if (!snap)
			return -ENOMEM;
		snap->id = c.id;
		snap->epoch = c.epoch;
		snap->ctime_ns = c.ctime_ns;
		strscpy(snap->name, c.name, sizeof(snap->name));
		dsn_add_snap(e, snap);
		e->epoch = c.epoch;
		e->next_id = c.id + 1;
		memcpy(e->cur_level, e->next_level, e->nr_regions);
		return 0;
	case DYNSNAP_CTL_SNAP_DELETE:
		if (dynsnap_ctl_snap_delete_decode(payload, h->stored_length, &d))
			return -EUCLEAN;
		snap = dsn_find_snap(e, d.id);
		if (snap) {
			list_del(&snap->node);
			e->nr_snaps--;
			kfree(snap);
		}
		return 0;
	case DYNSNAP_CTL_GRANULARITY:
		if (dynsnap_ctl_granularity_decode(payload, h->stored_length, &g) ||
		    g.first_region >= e->nr_regions ||
		    g.count > e->nr_regions - g.first_region)
			return -EUCLEAN;
		memset(e->next_level + g.first_region, g.level, g.count);
		return 0;
	}
	return -EUCLEAN;
}

static int replay_record(void *context, struct dsn_log *log,
			 const struct dynsnap_record_header *h,
			 const u8 *payload, u64 pos)
{
	struct dsn_engine *e = context;
	struct dynsnap_ctl_snap_create sc;
	struct dsn_delta d;
	u64 block, mask = 0;
	u32 epoch;
	int r;

	if (dynsnap_record_is_control(h)) {
		if (log->tier != DYNSNAP_TIER_FAST)
			return -EUCLEAN;
		if (h->level == DYNSNAP_CTL_SNAP_CREATE &&
		    dynsnap_ctl_snap_create_decode(payload, h->stored_length, &sc))
			return -EUCLEAN;
		if (h->level == DYNSNAP_CTL_SNAP_CREATE)
			e->replay_epoch = sc.epoch;
		/* Already in the checkpoint the replay started from. */
		if (h->sequence < e->control_seq)
			return 1;
		r = replay_control(e, h, payload);
		if (!r)
			dsn_add_ctl_ref(e, pos, h->sequence, dynsnap_record_size(h));
		return r;
	}
	if (dynsnap_record_check_geometry(h, &e->geo, e->volume_sectors))
		return -EUCLEAN;
	/*
	 * A damaged record's epoch cannot be trusted. The fast log is in
	 * epoch order, so there it is the epoch of the records around it;
	 * before any record of the replay tells, the newest (a checkpoint's),
	 * and on the slow tier the newest one too: a view that may need the
	 * record applies it and fails with EIO, never returns wrong data.
	 */
	epoch = h->epoch;
	if (!payload)
		epoch = log->tier == DYNSNAP_TIER_SLOW ? U32_MAX :
			e->replay_epoch ?: e->epoch;
	else if (h->epoch > e->epoch || !h->epoch)
		return -EUCLEAN;
	else if (log->tier == DYNSNAP_TIER_FAST)
		e->replay_epoch = h->epoch;

	block = h->location >> e->block_shift;
	d.pos = pos;
	d.epoch = epoch;
	d.stored = h->stored_length;
	d.first = h->location & ((1U << e->block_shift) - 1);
	d.sectors = h->length >> SECTOR_SHIFT;
	d.level = h->level;
	d.tier = log->tier;
	d.damaged = !payload;
	if (d.damaged)
		atomic64_inc(&e->checksum_errors);
	if (h->level != DYNSNAP_LEVEL_BIT)
		mask = dsn_sub_mask(e, d.first, d.sectors);

	dsn_index_reserve(e, block, 1);
	spin_lock(&e->index_lock);
	dsn_index_insert(e, block, &d, mask);
	spin_unlock(&e->index_lock);
	return 0;
}

int dsn_replay(struct dsn_engine *e, const char **error)
{
	struct dynsnap_checkpoint c;
	u8 *buf;
	int r;

	r = dsn_load_checkpoint(e, &c, error);
	if (r)
		return r;
	buf = vmalloc((size_t)DYNSNAP_SEG_SECTORS << SECTOR_SHIFT);
	if (!buf) {
		*error = "cannot allocate buffer to read the delta log";
		return -ENOMEM;
	}
	r = dsn_log_replay(&e->fast, buf, c.fast_head_sector, c.fast_head_seq,
			   replay_record, e);
	if (!r && e->has_slow)
		r = dsn_log_replay(&e->slow, buf, c.slow_head_sector,
				   c.slow_head_seq, replay_record, e);
	vfree(buf);
	if (r == -EUCLEAN)
		*error = "delta log is inconsistent";
	else if (r)
		*error = "cannot read delta log";
	if (r)
		return r;

	mutex_lock(&e->snap_lock);
	r = dsn_gc_collect(e, 0, U32_MAX);
	if (r)
		*error = "cannot allocate memory for the index";
	/* Give back what the last run freed, so activation stays short. */
	if (!r && dsn_write_checkpoint(e))
		DMERR("%s: no checkpoint at activation: space is not reused yet",
		      e->name);
	mutex_unlock(&e->snap_lock);
	return r;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * dm-dynsnap engine: replay at activation. Load the newest checkpoint,
 * then replay each tier's log from the head it names: control records
 * rebuild the snapshots and levels, delta records the index. Runs before
 * the engine is live, under snap_lock all the same, so the helpers it
 * shares with the live engine can assert the locks they want.
 */
#include <linux/device-mapper.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "../core/dynsnap_checkpoint.h"
#include "../core/dynsnap_control.h"
#include "../core/dynsnap_replay.h"
#include "dm-dynsnap-engine-internal.h"

#define DM_MSG_PREFIX "dynsnap"

static int replay_control(struct dsn_engine *e,
			  const struct dynsnap_record_header *h,
			  const u8 *payload)
{
	struct dynsnap_replay_ctl c;
	struct dsn_snap *snap;

	lockdep_assert_held(&e->snap_lock);
	if (dynsnap_replay_control(h, payload, e->epoch, e->next_id,
				   e->nr_regions, &c))
		return -EUCLEAN;
	switch (c.type) {
	case DYNSNAP_CTL_SNAP_CREATE:
		snap = kzalloc(sizeof(*snap), GFP_KERNEL);
		if (!snap)
			return -ENOMEM;
		snap->id = c.create.id;
		snap->epoch = c.create.epoch;
		snap->ctime_ns = c.create.ctime_ns;
		strscpy(snap->name, c.create.name, sizeof(snap->name));
		dsn_add_snap(e, snap);
		e->epoch = c.epoch;
		e->next_id = c.next_id;
		memcpy(e->cur_level, e->next_level, e->nr_regions);
		return 0;
	case DYNSNAP_CTL_SNAP_DELETE:
		snap = dsn_find_snap(e, c.del.id);
		if (snap) {
			list_del(&snap->node);
			e->nr_snaps--;
			kfree(snap);
		}
		return 0;
	case DYNSNAP_CTL_GRANULARITY:
		memset(e->next_level + c.gran.first_region, c.gran.level,
		       c.gran.count);
		return 0;
	}
	return -EUCLEAN;
}

static int replay_record(void *context, struct dsn_log *log,
			 const struct dynsnap_record_header *h,
			 const u8 *payload, u64 pos)
{
	struct dsn_engine *e = context;
	struct dsn_delta d;
	u64 block, mask = 0;
	bool covered;
	u32 epoch;
	int r;

	if (dynsnap_record_is_control(h)) {
		if (dynsnap_replay_control_seen(h, payload, log->tier,
						e->control_seq,
						&e->replay_epoch, &covered))
			return -EUCLEAN;
		/* Already in the checkpoint the replay started from. */
		if (covered)
			return 1;
		r = replay_control(e, h, payload);
		if (!r)
			dsn_add_ctl_ref(e, pos, h->sequence, dynsnap_record_size(h));
		return r;
	}
	/* The core's rule; a damaged record kept has a verified header. */
	if (dynsnap_replay_delta(h, log->tier, &e->geo,
				 e->volume_sectors, e->epoch,
				 &e->replay_epoch, &epoch))
		return -EUCLEAN;

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

	mutex_lock(&e->snap_lock);
	r = dsn_load_checkpoint(e, &c, error);
	if (r)
		goto out;
	buf = vmalloc((size_t)DYNSNAP_SEG_SECTORS << SECTOR_SHIFT);
	if (!buf) {
		*error = "cannot allocate buffer to read the delta log";
		r = -ENOMEM;
		goto out;
	}
	r = dsn_log_replay(&e->fast, buf, c.fast_head_sector, c.fast_head_seq,
			   c.fast_end_seq, replay_record, e);
	if (!r && e->has_slow)
		r = dsn_log_replay(&e->slow, buf, c.slow_head_sector,
				   c.slow_head_seq, c.slow_end_seq, replay_record,
				   e);
	vfree(buf);
	if (r == -EUCLEAN)
		*error = "delta log is inconsistent";
	else if (r == -EBADMSG)
		*error = "delta log is damaged: acknowledged records cannot be read";
	else if (r)
		*error = "cannot read delta log";
	if (r)
		goto out;

	r = dsn_gc_collect(e, 0, U32_MAX);
	if (r)
		*error = "cannot allocate memory for the index";
	/* Give back what the last run freed, so activation stays short. */
	if (!r && dsn_write_checkpoint(e))
		DMERR("%s: no checkpoint at activation: space is not reused yet",
		      e->name);
out:
	mutex_unlock(&e->snap_lock);
	return r;
}

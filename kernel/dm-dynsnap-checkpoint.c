// SPDX-License-Identifier: GPL-2.0
/*
 * dm-dynsnap engine: checkpoints. Two slots in the metadata area, written
 * in turn, hold the snapshots, the epoch, the region levels and each log's
 * head; log segments before the heads are given back once a checkpoint
 * naming them is durable. Written under snap_lock; a failed write fails
 * the engine.
 */
#include <linux/device-mapper.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "../core/dynsnap_checkpoint.h"
#include "../core/dynsnap_control.h"
#include "dm-dynsnap-engine-internal.h"

#define DM_MSG_PREFIX "dynsnap"

/*
 * The metadata area holds two checkpoint slots, written in turn; the valid
 * one with the higher generation counts. A torn write spoils only the
 * slot being written, and the log segments the new checkpoint frees are
 * given back only once it is durable.
 */
static u64 ckpt_slot_sectors(const struct dynsnap_layout *layout)
{
	return dynsnap_checkpoint_slot_sectors(layout);
}

u64 dsn_checkpoint_slot_sector(const struct dynsnap_layout *layout, u32 slot)
{
	return dynsnap_checkpoint_slot_sector(layout, slot);
}

static u64 ckpt_slot_bytes(struct dsn_engine *e)
{
	return ckpt_slot_sectors(&e->layout) << SECTOR_SHIFT;
}

/* Bytes written for a checkpoint with @nr_snaps snapshots; 0: too many. */
u32 dsn_ckpt_bytes(struct dsn_engine *e, u32 nr_snaps)
{
	u32 size = dynsnap_checkpoint_size(nr_snaps, e->nr_regions);

	if (!size || round_up((u64)size, 4096) > ckpt_slot_bytes(e))
		return 0;
	return round_up(size, 4096);
}

/* Remember a journaled control record until a checkpoint covers it. */
void dsn_add_ctl_ref(struct dsn_engine *e, u64 pos, u64 seq, u32 bytes)
{
	struct dsn_ctl_ref *refs;

	lockdep_assert_held(&e->snap_lock);
	if (e->nr_ctl_refs == e->cap_ctl_refs) {
		u32 cap = max(16U, 2 * e->cap_ctl_refs);

		refs = krealloc_array(e->ctl_refs, cap, sizeof(*refs),
				      GFP_NOIO);
		/* Without room its bytes stay counted: space, not safety. */
		if (!refs)
			return;
		e->ctl_refs = refs;
		e->cap_ctl_refs = cap;
	}
	e->ctl_refs[e->nr_ctl_refs++] = (struct dsn_ctl_ref) {
		.pos = pos, .seq = seq, .bytes = bytes,
	};
}

/* Control records below @seq are in a checkpoint: their bytes are free. */
static void release_ctl_refs(struct dsn_engine *e, u64 seq)
{
	u32 i, kept = 0;

	for (i = 0; i < e->nr_ctl_refs; i++) {
		if (e->ctl_refs[i].seq < seq)
			dsn_log_release(&e->fast, e->ctl_refs[i].pos,
					e->ctl_refs[i].bytes);
		else
			e->ctl_refs[kept++] = e->ctl_refs[i];
	}
	e->nr_ctl_refs = kept;
}

static void encode_snapshots(struct dsn_engine *e, u8 *buf)
{
	struct dynsnap_ctl_snap_create c;
	struct dsn_snap *snap;
	u32 i = 0;

	list_for_each_entry(snap, &e->snaps, node) {
		memset(&c, 0, sizeof(c));
		c.id = snap->id;
		c.epoch = snap->epoch;
		c.ctime_ns = snap->ctime_ns;
		c.name_len = strlen(snap->name);
		memcpy(c.name, snap->name, c.name_len);
		dynsnap_ctl_snap_create_encode(&c, buf +
					       dynsnap_checkpoint_snap_offset(i++));
	}
}

/*
 * Write a checkpoint of the snapshots, epoch and levels, naming as each
 * log's head its oldest segment with a live record; then give the
 * segments before the heads back. snap_lock held.
 */
int dsn_write_checkpoint(struct dsn_engine *e)
{
	struct dynsnap_checkpoint c = {};
	u32 dead_fast, dead_slow = 0;
	unsigned int noio;
	u32 bytes;
	u8 *buf;
	int r;

	lockdep_assert_held(&e->snap_lock);
	if (e->read_only)
		return 0;
	if (READ_ONCE(e->failed))
		return -EIO;
	bytes = dsn_ckpt_bytes(e, e->nr_snaps);
	if (WARN_ON_ONCE(!bytes))
		return -ENOSPC;
	noio = memalloc_noio_save();
	buf = kvzalloc(bytes, GFP_KERNEL);
	memalloc_noio_restore(noio);
	if (!buf)
		return -ENOMEM;

	/* A head must have its segment header on disk. */
	r = dsn_log_flush(&e->fast);
	if (!r && e->has_slow)
		r = dsn_log_flush(&e->slow);
	if (r) {
		dsn_engine_fail(e, "a log write before a checkpoint");
		goto out;
	}
	/* What a replay must reach; writes may append more meanwhile. */
	c.fast_end_seq = dsn_log_durable_seq(&e->fast);
	if (e->has_slow)
		c.slow_end_seq = dsn_log_durable_seq(&e->slow);
	c.control_seq = dsn_log_next_seq(&e->fast);
	release_ctl_refs(e, c.control_seq);
	dsn_log_head(&e->fast, &c.fast_head_sector, &c.fast_head_seq,
		     &dead_fast);
	if (e->has_slow)
		dsn_log_head(&e->slow, &c.slow_head_sector, &c.slow_head_seq,
			     &dead_slow);
	memcpy(c.uuid, e->uuid, sizeof(c.uuid));
	c.generation = e->ckpt_generation + 1;
	c.epoch = e->epoch;
	c.nr_snaps = e->nr_snaps;
	c.nr_regions = e->nr_regions;
	c.next_id = e->next_id;
	dynsnap_checkpoint_encode_header(&c, buf);
	encode_snapshots(e, buf);
	memcpy(buf + dynsnap_checkpoint_levels_offset(c.nr_snaps),
	       e->cur_level, e->nr_regions);
	memcpy(buf + dynsnap_checkpoint_levels_offset(c.nr_snaps) +
	       e->nr_regions, e->next_level, e->nr_regions);
	dynsnap_checkpoint_seal(buf);

	r = dsn_io_sync(&e->bios, e->fast.bdev, REQ_OP_WRITE | REQ_SYNC | REQ_PREFLUSH |
			REQ_FUA, dsn_checkpoint_slot_sector(&e->layout,
							    e->ckpt_slot) << SECTOR_SHIFT,
			buf, bytes);
	if (r) {
		DMERR("%s: checkpoint write failed: %d", e->name, r);
		dsn_engine_fail(e, "a checkpoint write");
		r = -EIO;
		goto out;
	}
	e->ckpt_generation = c.generation;
	e->ckpt_slot ^= 1;
	dsn_log_drop_head(&e->fast, dead_fast);
	if (e->has_slow)
		dsn_log_drop_head(&e->slow, dead_slow);
	/* Space came back: writes that need a delta may try again. */
	if (dead_fast || dead_slow) {
		WRITE_ONCE(e->space_gen, e->space_gen + 1);
		if (xchg(&e->full, false))
			dsn_raise_event(e);
	}
out:
	kvfree(buf);
	return r;
}

/* Read slot @slot; 1 if it was never written, 0 if valid, else < 0. */
static int read_checkpoint(struct dsn_engine *e, u32 slot, u8 **bufp,
			   struct dynsnap_checkpoint *c)
{
	u64 offset = dsn_checkpoint_slot_sector(&e->layout, slot) << SECTOR_SHIFT;
	enum dynsnap_err err;
	u64 total;
	u8 *buf;
	int r;

	*bufp = NULL;
	buf = kvmalloc(4096, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	r = dsn_io_sync(&e->bios, e->fast.bdev, REQ_OP_READ, offset, buf, 4096);
	if (r)
		goto bad;
	if (dynsnap_checkpoint_is_blank(buf)) {
		kvfree(buf);
		return 1;
	}
	total = dynsnap_checkpoint_read_size(buf, &e->layout);
	if (total > 4096) {
		kvfree(buf);
		buf = kvmalloc(total, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		r = dsn_io_sync(&e->bios, e->fast.bdev, REQ_OP_READ, offset, buf, total);
		if (r)
			goto bad;
	}
	err = dynsnap_checkpoint_decode(buf, total, e->uuid, c);
	if (err) {
		DMERR("%s: checkpoint slot %u is damaged: %s", e->name, slot,
		      dynsnap_strerror(err));
		r = -EUCLEAN;
		goto bad;
	}
	*bufp = buf;
	return 0;
bad:
	kvfree(buf);
	return r;
}

int dsn_engine_checkpoint(struct dsn_engine *e)
{
	int r;

	mutex_lock(&e->snap_lock);
	r = dsn_write_checkpoint(e);
	mutex_unlock(&e->snap_lock);
	return r;
}

/*
 * Load the newest valid checkpoint, if any: snapshots, epoch, levels, and
 * where each log's replay starts (*@c, zeroed heads when none exists).
 */
int dsn_load_checkpoint(struct dsn_engine *e, struct dynsnap_checkpoint *c,
			const char **error)
{
	struct dynsnap_checkpoint slot_c[2];
	struct dynsnap_ctl_snap_create sc;
	struct dsn_snap *snap;
	int r[2], best = -1;
	u8 *buf[2];
	u32 i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < 2; i++) {
		r[i] = read_checkpoint(e, i, &buf[i], &slot_c[i]);
		if (r[i] < 0 && r[i] != -EUCLEAN) {
			if (i)
				kvfree(buf[0]);
			*error = r[i] == -ENOMEM ?
				 "cannot allocate memory for the checkpoint" :
				 "cannot read checkpoint";
			return r[i];
		}
	}
	best = dynsnap_checkpoint_newest(r[0] ? NULL : &slot_c[0],
					 r[1] ? NULL : &slot_c[1]);
	if (best < 0) {
		kvfree(buf[0]);
		kvfree(buf[1]);
		/* Both blank: a store that never needed one. */
		if (r[0] == 1 && r[1] == 1)
			return 0;
		*error = "checkpoint is damaged";
		return -EUCLEAN;
	}

	*c = slot_c[best];
	if (dynsnap_checkpoint_match(c, e->nr_regions, e->has_slow)) {
		r[0] = -EUCLEAN;
		*error = "checkpoint does not match the store";
		goto out;
	}
	r[0] = 0;
	e->epoch = c->epoch;
	e->next_id = c->next_id;
	e->control_seq = c->control_seq;
	e->ckpt_generation = c->generation;
	e->ckpt_slot = !best;
	memcpy(e->cur_level, buf[best] + dynsnap_checkpoint_levels_offset(c->nr_snaps),
	       e->nr_regions);
	memcpy(e->next_level, buf[best] + dynsnap_checkpoint_levels_offset(c->nr_snaps) +
	       e->nr_regions, e->nr_regions);
	for (i = 0; i < c->nr_snaps; i++) {
		dynsnap_checkpoint_snap(buf[best], i, &sc);
		snap = kzalloc(sizeof(*snap), GFP_KERNEL);
		if (!snap) {
			r[0] = -ENOMEM;
			*error = "cannot allocate memory for the checkpoint";
			goto out;
		}
		snap->id = sc.id;
		snap->epoch = sc.epoch;
		snap->ctime_ns = sc.ctime_ns;
		strscpy(snap->name, sc.name, sizeof(snap->name));
		list_add_tail(&snap->node, &e->snaps);
		e->nr_snaps++;
	}
out:
	kvfree(buf[0]);
	kvfree(buf[1]);
	return r[0];
}

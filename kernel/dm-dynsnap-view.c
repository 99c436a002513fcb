// SPDX-License-Identifier: GPL-2.0
/*
 * dm-dynsnap engine: snapshot views. A view read takes the block's lock,
 * reads the current bytes and applies the block's deltas of the view's
 * epochs, newest first, so its data and deltas always match; it runs on
 * the bio workqueue with a read slot. An open view pins its snapshot.
 */
#include <linux/device-mapper.h>
#include <linux/slab.h>

#include "../core/dynsnap_view.h"
#include "dm-dynsnap-engine-internal.h"

#define DM_MSG_PREFIX "dynsnap"

struct dsn_view {
	struct dsn_engine *engine;
	struct dsn_snap *snap;
	struct block_device *current_bdev;
};

struct dsn_view_io {
	struct work_struct work;
	struct dsn_view *view;
	struct bio *bio;
	u64 volume_sector;
};

struct dsn_view *dsn_view_open(struct dsn_engine *e, u64 id,
			       struct block_device *current_bdev,
			       const char **error)
{
	struct dsn_snap *snap;
	struct dsn_view *v;

	v = kzalloc(sizeof(*v), GFP_KERNEL);
	if (!v) {
		*error = "cannot allocate view";
		return ERR_PTR(-ENOMEM);
	}
	mutex_lock(&e->snap_lock);
	snap = dsn_find_snap(e, id);
	if (snap)
		snap->views++;
	mutex_unlock(&e->snap_lock);
	if (!snap) {
		kfree(v);
		*error = "no snapshot with this id";
		return ERR_PTR(-ENOENT);
	}
	v->engine = e;
	v->snap = snap;
	v->current_bdev = current_bdev;
	return v;
}

void dsn_view_close(struct dsn_view *v)
{
	struct dsn_engine *e = v->engine;

	mutex_lock(&e->snap_lock);
	v->snap->views--;
	mutex_unlock(&e->snap_lock);
	kfree(v);
}

/* Apply one stored delta to @data, the block as of the delta's epoch end. */
static int apply_delta(struct dsn_engine *e, u64 block,
		       const struct dsn_delta *d, struct dsn_slot *slot)
{
	struct dynsnap_delta_ref ref;
	struct dynsnap_record_header h;
	const u8 *payload;
	int r;

	r = d->damaged ? -EBADMSG :
	    dsn_log_read_record(dsn_log_of(e, d->tier), d->pos, d->stored,
				slot->rec, e->rec_cap, &h, &payload);
	if (r == -EBADMSG || (!r && (h.epoch != d->epoch || h.level != d->level ||
				     h.location != (block << e->block_shift) + d->first ||
				     h.length != (u32)d->sectors << SECTOR_SHIFT))) {
		atomic64_inc(&e->checksum_errors);
		DMERR_LIMIT("%s: damaged delta record at byte %llu of the %s tier",
			    e->name, d->pos,
			    d->tier == DYNSNAP_TIER_SLOW ? "slow" : "fast");
		return -EIO;
	}
	if (r)
		return r;

	ref.epoch = d->epoch;
	ref.level = d->level;
	ref.offset = d->first << SECTOR_SHIFT;
	ref.length = d->sectors << SECTOR_SHIFT;
	ref.payload = payload;
	ref.payload_len = d->stored;
	if (dynsnap_view_reconstruct(slot->data, e->block_bytes, d->epoch, &ref, 1)) {
		atomic64_inc(&e->checksum_errors);
		return -EIO;
	}
	return 0;
}

/*
 * Turn @slot->data, the block's current bytes, into its bytes at the start
 * of @epoch: apply its deltas of @epoch and later, newest first. The
 * block's lock is held, so its deltas stay put (writers and the garbage
 * collector take the lock to change them) and their records stay live
 * while they are read.
 */
int dsn_apply_since(struct dsn_engine *e, u64 block, u32 epoch,
		    struct dsn_slot *slot)
{
	struct dsn_block *b = xa_load(&e->index, block);
	int r = 0;
	u32 i;

	for (i = b ? b->count : 0; i-- > 0 && !r && b->deltas[i].epoch >= epoch;)
		r = apply_delta(e, block, &b->deltas[i], slot);
	return r;
}

static int view_read_block(struct dsn_view *v, struct bio *bio, u64 sector,
			   struct dsn_slot *slot)
{
	struct dsn_engine *e = v->engine;
	u64 block = sector >> e->block_shift;
	u32 first = sector & ((1U << e->block_shift) - 1);
	struct dsn_held held;
	struct bvec_iter iter;
	struct bio_vec bv;
	u8 *p;
	int r;

	/* Nothing keeps the origin's old bytes once the volume is gone. */
	if (READ_ONCE(e->orphaned))
		return -EIO;
	/*
	 * The current bytes and the deltas must match: a preserving write
	 * holds the block from before its record is indexed until the
	 * origin has its data.
	 */
	dsn_lock_block(e, &held, block);
	r = dsn_io_sync(&e->bios, v->current_bdev, REQ_OP_READ,
			(block << e->block_shift) << SECTOR_SHIFT, slot->data,
			e->block_bytes);
	if (!r)
		r = dsn_apply_since(e, block, v->snap->epoch, slot);
	dsn_unlock_block(e, &held);
	if (r)
		return r;

	p = slot->data + (first << SECTOR_SHIFT);
	bio_for_each_segment(bv, bio, iter) {
		memcpy_to_bvec(&bv, p);
		p += bv.bv_len;
	}
	return 0;
}

static void view_work(struct work_struct *work)
{
	struct dsn_view_io *vio = container_of(work, struct dsn_view_io, work);
	struct dsn_engine *e = vio->view->engine;
	struct dsn_slot *slot = dsn_slot_get(&e->read_slots);
	int r;

	r = view_read_block(vio->view, vio->bio, vio->volume_sector, slot);
	dsn_slot_put(&e->read_slots, slot);
	if (r)
		vio->bio->bi_status = errno_to_blk_status(r);
	bio_endio(vio->bio);
}

size_t dsn_view_io_size(void)
{
	return sizeof(struct dsn_view_io);
}

void dsn_view_read(struct dsn_view *v, struct bio *bio, u64 volume_sector)
{
	struct dsn_view_io *vio = dm_per_bio_data(bio, sizeof(*vio));

	vio->view = v;
	vio->bio = bio;
	vio->volume_sector = volume_sector;
	INIT_WORK(&vio->work, view_work);
	queue_work(v->engine->wq, &vio->work);
}

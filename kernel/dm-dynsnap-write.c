// SPDX-License-Identifier: GPL-2.0
/*
 * dm-dynsnap engine: the write path. Admission of writes (counted in
 * flight, or deferred while an epoch switch runs), the lockless decision
 * whether a write needs preserving, and the bio worker that locks the
 * block, reads the old bytes, appends and commits their record to the
 * tier's log and indexes it before the write goes to the origin. The
 * locks involved (admit_lock, block locks, write slots, index_lock) and
 * their order are in dm-dynsnap-engine-internal.h.
 */
#include <linux/device-mapper.h>

#include "../core/dynsnap_undo.h"
#include "dm-dynsnap-engine-internal.h"

#define DM_MSG_PREFIX "dynsnap"

static bool drained(struct dsn_engine *e)
{
	bool idle;

	spin_lock_irq(&e->admit_lock);
	idle = !e->inflight;
	spin_unlock_irq(&e->admit_lock);
	return idle;
}

/* Hold new writes back and wait for those in flight. snap_lock held. */
void dsn_begin_switch(struct dsn_engine *e)
{
	lockdep_assert_held(&e->snap_lock);
	spin_lock_irq(&e->admit_lock);
	e->switching = true;
	spin_unlock_irq(&e->admit_lock);
	wait_event(e->drain_wait, drained(e));
}

static bool needs_preserving(struct dsn_engine *e, struct dsn_io *io,
			     struct bio *bio);
static void preserve_work(struct work_struct *work);

/*
 * Let the held-back writes go, each through the normal decision. snap_lock
 * held.
 */
void dsn_end_switch(struct dsn_engine *e)
{
	struct dsn_io *io, *tmp;
	LIST_HEAD(list);

	lockdep_assert_held(&e->snap_lock);

	spin_lock_irq(&e->admit_lock);
	e->switching = false;
	list_splice_init(&e->deferred, &list);
	list_for_each_entry(io, &list, defer_node) {
		io->counted = true;
		e->inflight++;
	}
	spin_unlock_irq(&e->admit_lock);

	list_for_each_entry_safe(io, tmp, &list, defer_node) {
		list_del_init(&io->defer_node);
		if (needs_preserving(e, io, io->bio))
			queue_work(e->wq, &io->work);
		else
			submit_bio_noacct(io->bio);
	}
}

static bool needs_preserving(struct dsn_engine *e, struct dsn_io *io,
			     struct bio *bio)
{
	u32 first = io->volume_sector & ((1U << e->block_shift) - 1);
	struct dsn_block *b;
	bool needed = true;
	u64 mask;

	if (!READ_ONCE(e->nr_snaps))
		return false;

	rcu_read_lock();
	b = xa_load(&e->index, io->block);
	/* Pairs with the release in dsn_index_insert(). */
	if (b && smp_load_acquire(&b->cur_epoch) == READ_ONCE(e->epoch)) {
		u8 level = READ_ONCE(b->cur_level);

		if (level == DYNSNAP_LEVEL_BLOCK)
			mask = e->full_mask;
		else if (level == DYNSNAP_LEVEL_SUB)
			mask = dsn_sub_mask(e, first, bio_sectors(bio));
		else
			mask = 0;
		needed = !mask || (mask & ~READ_ONCE(b->cur_mask));
	}
	rcu_read_unlock();
	return needed;
}

int dsn_map_write(struct dsn_engine *e, struct dsn_io *io, struct bio *bio,
		  u64 volume_sector)
{
	unsigned long flags;

	io->engine = e;
	io->bio = bio;
	io->volume_sector = volume_sector;
	io->block = volume_sector >> e->block_shift;
	io->locked = false;
	io->counted = false;
	io->new_data = NULL;
	INIT_WORK(&io->work, preserve_work);
	INIT_LIST_HEAD(&io->defer_node);

	spin_lock_irqsave(&e->admit_lock, flags);
	if (e->switching) {
		list_add_tail(&io->defer_node, &e->deferred);
		spin_unlock_irqrestore(&e->admit_lock, flags);
		return DM_MAPIO_SUBMITTED;
	}
	io->counted = true;
	e->inflight++;
	spin_unlock_irqrestore(&e->admit_lock, flags);

	if (!needs_preserving(e, io, bio))
		return DM_MAPIO_REMAPPED;
	queue_work(e->wq, &io->work);
	return DM_MAPIO_SUBMITTED;
}

void dsn_end_write(struct dsn_io *io)
{
	struct dsn_engine *e = io->engine;
	unsigned long flags;
	bool wake = false;

	if (io->locked) {
		dsn_unlock_handed_off_block(e, &io->held);
		io->locked = false;
	}
	if (io->counted) {
		io->counted = false;
		spin_lock_irqsave(&e->admit_lock, flags);
		wake = !--e->inflight && e->switching;
		spin_unlock_irqrestore(&e->admit_lock, flags);
	}
	if (wake)
		wake_up_all(&e->drain_wait);
}

/*
 * New data of a write; zeroes for write-zeroes. A discarded range may read
 * back as anything, so every old byte counts as changed: the complement
 * of the old data differs from it everywhere.
 */
static void copy_new_data(struct dsn_io *io, const u8 *old, u8 *buf)
{
	struct bio *bio = io->bio;
	struct bvec_iter iter;
	struct bio_vec bv;
	u32 i;

	if (io->new_data) {
		memcpy(buf, io->new_data, io->new_sectors << SECTOR_SHIFT);
		return;
	}
	if (bio_op(bio) == REQ_OP_WRITE_ZEROES) {
		memset(buf, 0, bio->bi_iter.bi_size);
		return;
	}
	if (bio_op(bio) != REQ_OP_WRITE) {
		for (i = 0; i < bio->bi_iter.bi_size; i++)
			buf[i] = ~old[i];
		return;
	}
	bio_for_each_segment(bv, bio, iter) {
		memcpy_from_bvec(buf, &bv);
		buf += bv.bv_len;
	}
}

static u32 tier_for(struct dsn_engine *e, u8 level)
{
	return level == DYNSNAP_LEVEL_BLOCK && e->has_slow ?
		DYNSNAP_TIER_SLOW : DYNSNAP_TIER_FAST;
}

/*
 * Append one record for sectors [first, first + sectors) of the block and
 * wait until it is durable. Returns the delta to index.
 */
static int write_record(struct dsn_engine *e, u64 block, u8 level, u32 first,
			u32 sectors, const u8 *payload, u32 stored,
			struct dsn_delta *d)
{
	struct dynsnap_record_header h;
	u32 tier = tier_for(e, level);
	struct dsn_log *log = dsn_log_of(e, tier);
	u64 pos, seq;
	int r;

	dynsnap_record_init(&h, level, 0, e->epoch,
			    (block << e->block_shift) + first,
			    sectors << SECTOR_SHIFT);
	h.stored_length = stored;
	r = dsn_log_append(log, &h, payload, false, &pos, &seq);
	if (!r)
		r = dsn_log_commit(log, seq);
	if (r == -ENOSPC)
		dsn_note_full(e);
	if (r && dsn_log_failed(log))
		dsn_engine_fail(e, tier == DYNSNAP_TIER_SLOW ?
			    "a slow tier log write" : "a fast tier log write");
	if (r)
		return r;

	d->pos = pos;
	d->epoch = e->epoch;
	d->stored = stored;
	d->first = first;
	d->sectors = sectors;
	d->level = level;
	d->tier = tier;
	d->damaged = false;
	return 0;
}

/* Whole block or sub-blocks: keep the old bytes not yet kept this epoch. */
static int preserve_replace(struct dsn_engine *e, struct dsn_io *io,
			    struct dsn_slot *slot, u8 level, u64 need)
{
	u32 sub = e->geo.sub_block_sectors;
	u64 block_start = io->block << e->block_shift;
	struct dsn_delta d;
	u32 s, t;
	int r;

	dsn_index_reserve(e, io->block, hweight64(need));
	while (need) {
		s = __ffs64(need);
		t = s;
		while (t < e->subs_per_block && (need & BIT_ULL(t)))
			t++;
		r = dsn_io_sync(&e->bios, e->origin_bdev, REQ_OP_READ,
				(block_start + s * sub) << SECTOR_SHIFT,
				slot->data, (t - s) * e->sub_bytes);
		if (r)
			return r;
		r = write_record(e, io->block, level, s * sub, (t - s) * sub,
				 slot->data, (t - s) * e->sub_bytes, &d);
		if (r)
			return r;
		spin_lock(&e->index_lock);
		dsn_index_insert(e, io->block, &d, GENMASK_ULL(t - 1, s));
		spin_unlock(&e->index_lock);
		need &= ~GENMASK_ULL(t - 1, s);
	}
	return 0;
}

/* Bit level: the old bytes this write changes, and only those. */
static int preserve_bits(struct dsn_engine *e, struct dsn_io *io,
			 struct dsn_slot *slot, u32 first, u32 sectors)
{
	u32 len = sectors << SECTOR_SHIFT;
	u8 *old = slot->data, *new = slot->rec;
	struct dsn_delta d;
	size_t stored;
	int r;

	dsn_index_reserve(e, io->block, 1);
	r = dsn_io_sync(&e->bios, e->origin_bdev, REQ_OP_READ,
			io->volume_sector << SECTOR_SHIFT, old, len);
	if (r)
		return r;
	copy_new_data(io, old, new);
	/* The encoding goes after the new data in the record buffer. */
	stored = dynsnap_undo_encode(old, new, len, new + len,
				     e->rec_cap - len);
	if (!stored)
		return -EOVERFLOW;
	if (dynsnap_undo_is_empty(new + len, stored))
		return 0;
	r = write_record(e, io->block, DYNSNAP_LEVEL_BIT, first, sectors,
			 new + len, stored, &d);
	if (r)
		return r;
	spin_lock(&e->index_lock);
	dsn_index_insert(e, io->block, &d, 0);
	spin_unlock(&e->index_lock);
	return 0;
}

int dsn_preserve(struct dsn_engine *e, struct dsn_io *io)
{
	u32 first = io->volume_sector & ((1U << e->block_shift) - 1);
	u32 sectors = io->new_data ? io->new_sectors : bio_sectors(io->bio);
	struct dsn_slot *slot;
	struct dsn_block *b;
	u64 done = 0, need;
	u8 level;
	int r;

	if (!READ_ONCE(e->nr_snaps))
		return 0;
	if (READ_ONCE(e->failed))
		return -EIO;

	spin_lock(&e->index_lock);
	b = xa_load(&e->index, io->block);
	if (b && b->cur_epoch == e->epoch) {
		/* A block keeps one level for the whole epoch. */
		level = b->cur_level;
		done = b->cur_mask;
	} else {
		level = dsn_region_level(e, io->block);
	}
	spin_unlock(&e->index_lock);

	if (level == DYNSNAP_LEVEL_BLOCK)
		need = e->full_mask & ~done;
	else if (level == DYNSNAP_LEVEL_SUB)
		need = dsn_sub_mask(e, first, sectors) & ~done;
	else
		need = 1;
	if (!need)
		return 0;

	slot = dsn_slot_get(&e->write_slots);
	if (level == DYNSNAP_LEVEL_BIT)
		r = preserve_bits(e, io, slot, first, sectors);
	else
		r = preserve_replace(e, io, slot, level, need);
	dsn_slot_put(&e->write_slots, slot);
	return r;
}

/*
 * Let @io in again like a new write, after it waited outside the count of
 * writes in flight: through the deferred list while an epoch switch runs,
 * else straight to the decision. Process context.
 */
void dsn_readmit(struct dsn_engine *e, struct dsn_io *io)
{
	unsigned long flags;

	spin_lock_irqsave(&e->admit_lock, flags);
	if (e->switching) {
		list_add_tail(&io->defer_node, &e->deferred);
		spin_unlock_irqrestore(&e->admit_lock, flags);
		return;
	}
	io->counted = true;
	e->inflight++;
	spin_unlock_irqrestore(&e->admit_lock, flags);
	if (needs_preserving(e, io, io->bio))
		queue_work(e->wq, &io->work);
	else
		submit_bio_noacct(io->bio);
}

void dsn_fail_io(struct dsn_engine *e, struct dsn_io *io, int r)
{
	if (r != -ENOSPC)
		DMERR_LIMIT("%s: cannot preserve block %llu: %d", e->name,
			    io->block, r);
	io->bio->bi_status = errno_to_blk_status(r);
	bio_endio(io->bio);
}

static void preserve_work(struct work_struct *work)
{
	struct dsn_io *io = container_of(work, struct dsn_io, work);
	struct dsn_engine *e = io->engine;
	unsigned long flags;
	int r;

	/* Held until the origin write completes: see dsn_view_read(). */
	dsn_lock_block(e, &io->held, io->block);
	io->locked = true;
	io->seen = READ_ONCE(e->space_gen);
	r = dsn_preserve(e, io);
	if (r == -ENOSPC && dsn_drops_oldest(e)) {
		/*
		 * Deleting takes block locks, and a snapshot being taken
		 * waits for the writes in flight: this one leaves both and
		 * waits for the space worker, then comes back in like a new
		 * write.
		 */
		dsn_unlock_block(e, &io->held);
		io->locked = false;
		dsn_end_write(io);
		spin_lock_irqsave(&e->admit_lock, flags);
		list_add_tail(&io->defer_node, &e->space_waiters);
		spin_unlock_irqrestore(&e->admit_lock, flags);
		queue_work(e->space_wq, &e->space_work);
		return;
	}
	/* The bio holds the block from here until it ends. */
	dsn_hand_off_block(e);
	if (r) {
		dsn_fail_io(e, io, r);
		return;
	}
	submit_bio_noacct(io->bio);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * dm-dynsnap engine: read-only queries of the index for messages: the
 * ranges that differ between two snapshots (snap_diff) and the per-region
 * levels and delta counts (region_map). Under snap_lock, reading each
 * block's deltas under index_lock.
 */
#include <linux/bitmap.h>
#include <linux/device-mapper.h>
#include <linux/sched.h>

#include "../core/dynsnap_names.h"
#include "dm-dynsnap-engine-internal.h"

#define DM_MSG_PREFIX "dynsnap"

/*
 * Room kept at the end of a message result for the line that says where
 * to go on: the output is cut there rather than overflowing.
 */
#define RESULT_TAIL		64U

/* Mark sectors [first, first + n) of a block in @map. */
static void mark_sectors(unsigned long *map, u32 first, u32 n)
{
	bitmap_set(map, first, n);
}

int dsn_snap_diff(struct dsn_engine *e, u64 from_id, u64 to_id,
		  u64 first_sector, char *result, unsigned int maxlen)
{
	DECLARE_BITMAP(map, DYNSNAP_MAX_BLOCK_SECTORS);
	u32 bs = e->geo.block_sectors;
	struct dsn_snap *from, *to = NULL;
	u64 run_start = 0, run_len = 0;
	unsigned long block;
	struct dsn_block *b;
	unsigned int sz = 0;
	u32 lo, hi, i;
	int r = 0;

	if (first_sector >= e->volume_sectors) {
		DMEMIT("end\n");
		return 1;
	}
	mutex_lock(&e->snap_lock);
	from = dsn_find_snap(e, from_id);
	if (to_id)
		to = dsn_find_snap(e, to_id);
	if (!from || (to_id && !to)) {
		r = -ENOENT;
		goto out;
	}
	/* Bytes written in epochs [lo, hi) differ between the two. */
	lo = from->epoch;
	hi = to ? to->epoch : U32_MAX;
	if (lo > hi)
		swap(lo, hi);

	block = first_sector >> e->block_shift;
	for (b = xa_find(&e->index, &block, ULONG_MAX, XA_PRESENT); b;
	     b = xa_find_after(&e->index, &block, ULONG_MAX, XA_PRESENT)) {
		u64 base = (u64)block << e->block_shift;

		bitmap_zero(map, bs);
		spin_lock(&e->index_lock);
		for (i = 0; i < b->count; i++) {
			const struct dsn_delta *d = &b->deltas[i];

			if (d->epoch >= lo && d->epoch < hi)
				mark_sectors(map, d->first, d->sectors);
		}
		spin_unlock(&e->index_lock);
		if (base < first_sector)
			bitmap_clear(map, 0, first_sector - base);

		for (i = find_first_bit(map, bs); i < bs;
		     i = find_next_bit(map, bs, i)) {
			u32 end = find_next_zero_bit(map, bs, i);

			if (run_len && run_start + run_len == base + i) {
				run_len += end - i;
			} else {
				if (run_len) {
					if (sz + RESULT_TAIL * 2 > maxlen) {
						DMEMIT("next %llu\n", run_start);
						goto out;
					}
					DMEMIT("%llu %llu\n", run_start, run_len);
				}
				run_start = base + i;
				run_len = end - i;
			}
			i = end;
		}
		cond_resched();
	}
	if (run_len)
		DMEMIT("%llu %llu\n", run_start, run_len);
	DMEMIT("end\n");
out:
	mutex_unlock(&e->snap_lock);
	return r ? r : 1;
}

static const char *level_name(u8 level, u8 dflt)
{
	if (level == LEVEL_DEFAULT)
		level = dflt;
	return dynsnap_level_name(level) ?: "?";
}

int dsn_region_map(struct dsn_engine *e, u32 first_region, char *result,
		   unsigned int maxlen)
{
	u32 region_shift = ilog2(e->geo.region_sectors) - e->block_shift;
	u64 records = 0, bytes = 0, recent = 0;
	unsigned long block;
	struct dsn_block *b;
	unsigned int sz = 0;
	u32 region, i;

	if (first_region >= e->nr_regions) {
		DMEMIT("end\n");
		return 1;
	}
	mutex_lock(&e->snap_lock);
	region = first_region;
	block = (unsigned long)first_region << region_shift;
	b = xa_find(&e->index, &block, ULONG_MAX, XA_PRESENT);
	for (;;) {
		u32 next = b ? block >> region_shift : e->nr_regions;

		/* Print every region before the one this block is in. */
		while (region < next && region < e->nr_regions) {
			if (sz + RESULT_TAIL * 2 > maxlen) {
				DMEMIT("next %u\n", region);
				goto out;
			}
			DMEMIT("%u %s %s %llu %llu %llu\n", region,
			       level_name(e->cur_level[region], e->cur_default),
			       level_name(e->next_level[region], e->next_default),
			       records, bytes, recent);
			records = 0;
			bytes = 0;
			recent = 0;
			region++;
		}
		if (!b || region >= e->nr_regions)
			break;
		spin_lock(&e->index_lock);
		for (i = 0; i < b->count; i++) {
			const struct dsn_delta *d = &b->deltas[i];

			records++;
			bytes += DYNSNAP_REC_HEADER_SIZE + d->stored;
			if (d->epoch == e->epoch)
				recent++;
		}
		spin_unlock(&e->index_lock);
		cond_resched();
		b = xa_find_after(&e->index, &block, ULONG_MAX, XA_PRESENT);
	}
	DMEMIT("end\n");
out:
	mutex_unlock(&e->snap_lock);
	return 1;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * dm-dynsnap delta logs: segment chain, group-committed appends and the
 * replay scan. Formats come from core/dynsnap_log.h and dynsnap_record.h.
 */
#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "../core/dynsnap_replay.h"
#include "dm-dynsnap-log.h"

#define DM_MSG_PREFIX "dynsnap"

#define SEG_BYTES	DYNSNAP_SEG_BYTES
/* At least a segment header and the largest record (core/dynsnap_log.h). */
#define BATCH_BYTES	DYNSNAP_LOG_BATCH_BYTES

int dsn_io_sync(struct bio_set *bs, struct block_device *bdev, blk_opf_t opf,
		u64 offset, void *buf, size_t len)
{
	bool vmalloced = is_vmalloc_addr(buf);
	sector_t sector = offset >> SECTOR_SHIFT;
	u8 *p = buf;
	int r = 0;

	if (vmalloced && op_is_write(opf))
		flush_kernel_vmap_range(buf, len);

	while (len && !r) {
		unsigned int nr = min_t(size_t, BIO_MAX_VECS,
					DIV_ROUND_UP(len + offset_in_page(p),
						     PAGE_SIZE));
		struct bio *bio = bio_alloc_bioset(bdev, nr, opf, GFP_NOIO,
						   bs ?: &fs_bio_set);

		bio->bi_iter.bi_sector = sector;
		while (len) {
			unsigned int off = offset_in_page(p);
			unsigned int n = min_t(size_t, len, PAGE_SIZE - off);
			struct page *page = vmalloced ? vmalloc_to_page(p) :
						virt_to_page(p);

			if (bio_add_page(bio, page, n, off) != n)
				break;
			p += n;
			len -= n;
			sector += n >> SECTOR_SHIFT;
		}
		r = submit_bio_wait(bio);
		bio_put(bio);
	}

	if (vmalloced && !op_is_write(opf))
		invalidate_kernel_vmap_range(buf, p - (u8 *)buf);
	return r;
}

static u64 seg_offset(struct dsn_log *log, u32 seg)
{
	return dynsnap_log_segment_sector(log->area_start, seg) << SECTOR_SHIFT;
}

static u32 seg_of(struct dsn_log *log, u64 pos)
{
	return div_u64((pos >> SECTOR_SHIFT) - log->area_start,
		       DYNSNAP_SEG_SECTORS);
}

int dsn_log_init(struct dsn_log *log, struct block_device *bdev,
		 struct bio_set *bios, u32 tier, const u8 *uuid, u64 area_start,
		 u64 area_sectors)
{
	memset(log, 0, sizeof(*log));
	log->bdev = bdev;
	log->bios = bios;
	log->tier = tier;
	log->uuid = uuid;
	log->seed = dynsnap_record_seed(uuid, tier);
	log->area_start = area_start;
	log->nr_segments = dynsnap_log_nr_segments(area_sectors);
	mutex_init(&log->lock);
	init_waitqueue_head(&log->wait);
	/* The open segment and the successor it names. */
	if (log->nr_segments < 2)
		return -ENOSPC;

	log->seg_in_use = bitmap_zalloc(log->nr_segments, GFP_KERNEL);
	log->seg_live = kvcalloc(log->nr_segments, sizeof(u32), GFP_KERNEL);
	log->chain = kvcalloc(log->nr_segments, sizeof(u32), GFP_KERNEL);
	log->batch = kvmalloc(BATCH_BYTES, GFP_KERNEL);
	log->spare = kvmalloc(BATCH_BYTES, GFP_KERNEL);
	if (!log->seg_in_use || !log->seg_live || !log->chain || !log->batch ||
	    !log->spare) {
		dsn_log_exit(log);
		return -ENOMEM;
	}
	return 0;
}

void dsn_log_exit(struct dsn_log *log)
{
	kvfree(log->spare);
	kvfree(log->batch);
	kvfree(log->chain);
	kvfree(log->seg_live);
	bitmap_free(log->seg_in_use);
	log->chain = NULL;
	log->spare = NULL;
	log->batch = NULL;
	log->seg_live = NULL;
	log->seg_in_use = NULL;
}

static void reserve_seg(struct dsn_log *log, u32 seg)
{
	if (!test_and_set_bit(seg, log->seg_in_use))
		log->segs_used++;
}

/* @seg becomes the open segment: the last of the chain. */
static void chain_push(struct dsn_log *log, u32 seg)
{
	log->chain[(log->chain_first + log->chain_len) % log->nr_segments] = seg;
	log->chain_len++;
}

/* Put the header of the open segment at the start of the empty batch. */
static void start_segment(struct dsn_log *log)
{
	struct dynsnap_segment_header sh = {
		.tier = log->tier,
		.segment_seq = log->seg_seq,
		.first_record_seq = log->next_seq,
		.next_segment = seg_offset(log, log->next_seg) >> SECTOR_SHIFT,
	};

	memcpy(sh.uuid, log->uuid, DYNSNAP_UUID_SIZE);
	log->tail = seg_offset(log, log->cur_seg);
	log->cur_on_disk = false;
	dynsnap_segment_encode(&sh, log->batch);
	log->batch_len = DYNSNAP_SEG_HEADER_SIZE;
	log->batch_seq = log->next_seq;
}

/*
 * A log with nothing in it: segment 0 opens, segment 1 follows. Records
 * verify only for their own store; a random first sequence is a second
 * guard against taking an earlier store's records for ours.
 */
static void start_empty(struct dsn_log *log, u64 above)
{
	u64 first = (get_random_u64() >> 2) + 1;

	/* Above what a torn first batch of this store left in segment 0. */
	if (first <= above)
		first = above + 1;

	log->cur_seg = 0;
	log->next_seg = 1;
	reserve_seg(log, 0);
	reserve_seg(log, 1);
	chain_push(log, 0);
	log->seg_seq = 1;
	log->next_seq = first;
	log->durable_seq = first;
	start_segment(log);
}

/* Move on to the reserved successor and reserve the next one. */
static int open_next_segment(struct dsn_log *log, bool journal)
{
	u32 next;

	/* The last free segment is for the journal. */
	if (!journal && log->segs_used + 1 >= log->nr_segments)
		return -ENOSPC;

	/* The lowest free segment: freed ones come back into use at once. */
	next = find_first_zero_bit(log->seg_in_use, log->nr_segments);
	if (next >= log->nr_segments)
		return -ENOSPC;
	reserve_seg(log, next);
	log->cur_seg = log->next_seg;
	log->next_seg = next;
	log->seg_seq++;
	chain_push(log, log->cur_seg);
	start_segment(log);
	return 0;
}

/* Write the current batch with FUA. Called and returns with the lock held. */
static int write_batch(struct dsn_log *log)
{
	u64 start, last;
	u32 len, padded;
	u8 *buf;
	int r;

	while (log->writing) {
		mutex_unlock(&log->lock);
		wait_event(log->wait, !READ_ONCE(log->writing));
		mutex_lock(&log->lock);
	}
	if (log->error)
		return log->error;
	if (!log->batch_len)
		return 0;

	buf = log->batch;
	log->batch = log->spare;
	log->spare = buf;
	len = log->batch_len;
	padded = round_up(len, SECTOR_SIZE);
	memset(buf + len, 0, padded - len);
	start = log->tail;
	last = log->next_seq;
	log->tail += padded;
	log->batch_len = 0;
	log->batch_seq = last;
	log->writing = true;
	mutex_unlock(&log->lock);

	r = dsn_io_sync(log->bios, log->bdev, REQ_OP_WRITE | REQ_SYNC | REQ_FUA, start,
			buf, padded);

	mutex_lock(&log->lock);
	log->writing = false;
	if (r) {
		DMERR("%s tier: delta log write at byte %llu failed: %d",
		      log->tier == DYNSNAP_TIER_FAST ? "fast" : "slow", start, r);
		log->error = -EIO;
	} else {
		log->durable_seq = last;
		/* Nobody opens a segment while a batch is being written. */
		if (start == seg_offset(log, log->cur_seg))
			log->cur_on_disk = true;
	}
	wake_up_all(&log->wait);
	return log->error;
}

int dsn_log_append(struct dsn_log *log, struct dynsnap_record_header *h,
		   const u8 *payload, bool journal, u64 *pos, u64 *seq)
{
	u32 size = dynsnap_record_size(h);
	u64 seg_end;
	int r = 0;

	mutex_lock(&log->lock);
	for (;;) {
		if (log->error) {
			r = log->error;
			goto out;
		}
		seg_end = seg_offset(log, log->cur_seg) + SEG_BYTES;
		if (log->tail + log->batch_len + size <= seg_end &&
		    log->batch_len + size <= BATCH_BYTES - SECTOR_SIZE)
			break;
		/* A batch is one contiguous write: send what we have first. */
		if (log->batch_len || log->writing) {
			r = write_batch(log);
			if (r)
				goto out;
			continue;
		}
		r = open_next_segment(log, journal);
		if (r)
			goto out;
	}

	h->sequence = log->next_seq++;
	/* The batch before this one is durable by the time this one is written. */
	h->in_flight = h->sequence - log->batch_seq;
	dynsnap_record_encode(h, log->batch + log->batch_len, payload, log->seed);
	memcpy(log->batch + log->batch_len + DYNSNAP_REC_HEADER_SIZE, payload,
	       h->stored_length);
	*pos = log->tail + log->batch_len;
	*seq = h->sequence;
	log->batch_len += size;
	log->seg_live[log->cur_seg] += size;
	log->record_bytes += size;
out:
	mutex_unlock(&log->lock);
	return r;
}

int dsn_log_commit(struct dsn_log *log, u64 seq)
{
	int r = 0;

	mutex_lock(&log->lock);
	if (WARN_ON_ONCE(seq >= log->next_seq))
		r = -EINVAL;
	while (!r && log->durable_seq <= seq)
		r = write_batch(log);
	mutex_unlock(&log->lock);
	return r;
}

void dsn_log_release(struct dsn_log *log, u64 pos, u32 bytes)
{
	u32 seg = seg_of(log, pos);

	mutex_lock(&log->lock);
	if (!WARN_ON_ONCE(seg >= log->nr_segments ||
			  log->seg_live[seg] < bytes))
		log->seg_live[seg] -= bytes;
	log->record_bytes -= min_t(u64, log->record_bytes, bytes);
	mutex_unlock(&log->lock);
}

bool dsn_log_failed(struct dsn_log *log)
{
	return READ_ONCE(log->error) != 0;
}

int dsn_log_flush(struct dsn_log *log)
{
	int r = 0;

	mutex_lock(&log->lock);
	while (!r && (log->batch_len || log->writing))
		r = write_batch(log);
	mutex_unlock(&log->lock);
	return r;
}

u64 dsn_log_next_seq(struct dsn_log *log)
{
	u64 seq;

	mutex_lock(&log->lock);
	seq = log->next_seq;
	mutex_unlock(&log->lock);
	return seq;
}

u64 dsn_log_durable_seq(struct dsn_log *log)
{
	u64 seq;

	mutex_lock(&log->lock);
	seq = log->durable_seq;
	mutex_unlock(&log->lock);
	return seq;
}

void dsn_log_head(struct dsn_log *log, u64 *sector, u64 *seq, u32 *dead)
{
	u32 i, seg = log->cur_seg;

	mutex_lock(&log->lock);
	for (i = 0; i + 1 < log->chain_len; i++) {
		seg = log->chain[(log->chain_first + i) % log->nr_segments];
		if (log->seg_live[seg])
			break;
	}
	if (i + 1 >= log->chain_len) {
		seg = log->cur_seg;
		/* A replay must find the head's header. */
		if (!log->cur_on_disk && i) {
			i--;
			seg = log->chain[(log->chain_first + i) %
					 log->nr_segments];
		}
	}
	*sector = seg_offset(log, seg) >> SECTOR_SHIFT;
	*seq = log->seg_seq - (log->chain_len - 1 - i);
	*dead = i;
	mutex_unlock(&log->lock);
}

void dsn_log_drop_head(struct dsn_log *log, u32 n)
{
	u32 seg;

	mutex_lock(&log->lock);
	/* The open segment always stays. */
	while (n-- && log->chain_len > 1) {
		seg = log->chain[log->chain_first];
		WARN_ON_ONCE(log->seg_live[seg]);
		if (test_and_clear_bit(seg, log->seg_in_use))
			log->segs_used--;
		log->chain_first = (log->chain_first + 1) % log->nr_segments;
		log->chain_len--;
	}
	mutex_unlock(&log->lock);
}

void dsn_log_usage(struct dsn_log *log, u64 *used, u64 *total)
{
	*used = (u64)READ_ONCE(log->segs_used) * DYNSNAP_SEG_SECTORS;
	*total = (u64)log->nr_segments * DYNSNAP_SEG_SECTORS;
}

static int read_segment_header(struct dsn_log *log, u32 seg, u8 *buf,
			       struct dynsnap_segment_header *sh)
{
	int r = dsn_io_sync(log->bios, log->bdev, REQ_OP_READ, seg_offset(log, seg), buf,
			    DYNSNAP_SEG_HEADER_SIZE);

	if (r)
		return r;
	if (dynsnap_replay_segment(buf, DYNSNAP_SEG_HEADER_SIZE, log->uuid,
				   log->tier, sh))
		return -ENODATA;
	return 0;
}

static int seg_from_sector(struct dsn_log *log, u64 sector, u32 *seg)
{
	if (dynsnap_log_segment_of(log->area_start, log->nr_segments, sector,
				   seg))
		return -EINVAL;
	return 0;
}

static const char *tier_name(struct dsn_log *log)
{
	return log->tier == DYNSNAP_TIER_FAST ? "fast" : "slow";
}

/*
 * The record at *@pos did not verify: return 0 where it is kept as damaged
 * (*@h filled, *@pos past it), 1 where the log ends, by the rule of
 * dynsnap_replay_skip_damaged().
 */
static int skip_damaged(struct dsn_log *log, u32 seg, const u8 *data,
			size_t len, size_t *pos, u64 seq,
			struct dynsnap_record_header *h)
{
	if (dynsnap_replay_skip_damaged(data, len, pos, log->seed, seq, h))
		return 1;
	DMERR("%s tier: delta record %llu at segment %u offset %zu is damaged",
	      tier_name(log), seq, seg, *pos - dynsnap_record_size(h));
	return 0;
}

/*
 * Record @h at segment @seg offset @pos was written after record @seq,
 * where the replay ended, was durable: refuse the damaged log.
 */
static int lost_records(struct dsn_log *log, u32 seg, size_t pos, u64 seq,
			const struct dynsnap_record_header *h)
{
	DMERR("%s tier: delta log is damaged: it ends before record %llu",
	      tier_name(log), seq);
	DMERR("%s tier: yet record %llu, at segment %u offset %zu, follows it",
	      tier_name(log), h->sequence, seg, DYNSNAP_SEG_HEADER_SIZE + pos);
	return -EBADMSG;
}

/*
 * The log ended at record @seq, at @pos of segment @seg, whose records are
 * in @buf, and does not go on in @next, the successor @seg names. Look
 * there and in @next for records that say the end is damage.
 */
static int check_past_end(struct dsn_log *log, u8 *buf, u32 seg, size_t pos,
			  u32 next, u64 seq)
{
	u8 *data = buf + DYNSNAP_SEG_HEADER_SIZE;
	size_t len = SEG_BYTES - DYNSNAP_SEG_HEADER_SIZE;
	struct dynsnap_record_header h;
	int r;

	if (dynsnap_replay_past_end(data, len, &pos, log->seed, seq, &h))
		return lost_records(log, seg, pos, seq, &h);
	r = dsn_io_sync(log->bios, log->bdev, REQ_OP_READ, seg_offset(log, next),
			buf, SEG_BYTES);
	if (r)
		return r;
	pos = 0;
	if (dynsnap_replay_past_end(data, len, &pos, log->seed, seq, &h))
		return lost_records(log, next, pos, seq, &h);
	return 0;
}

/*
 * No checkpoint names a head and segment 0 holds no first segment: the log
 * is empty, unless what segment 0 holds says its header is damaged.
 */
static int check_unheaded(struct dsn_log *log, u8 *buf, u64 *highest)
{
	struct dynsnap_record_header h;
	size_t pos;
	int r;

	r = dsn_io_sync(log->bios, log->bdev, REQ_OP_READ, seg_offset(log, 0), buf,
			SEG_BYTES);
	if (r)
		return r;
	if (!dynsnap_replay_unheaded(buf + DYNSNAP_SEG_HEADER_SIZE,
				     SEG_BYTES - DYNSNAP_SEG_HEADER_SIZE, log->seed,
				     &pos, &h, highest))
		return 0;
	DMERR("%s tier: delta log is damaged: segment 0 has no valid header",
	      tier_name(log));
	DMERR("%s tier: yet record %llu at offset %zu follows a durable batch",
	      tier_name(log), h.sequence, DYNSNAP_SEG_HEADER_SIZE + pos);
	return -EBADMSG;
}

int dsn_log_replay(struct dsn_log *log, u8 *buf, u64 head_sector,
		   u64 head_seq, u64 durable_seq, dsn_replay_fn fn,
		   void *context)
{
	struct dynsnap_segment_header sh, nh;
	struct dynsnap_record_header h;
	enum dynsnap_err err;
	const u8 *payload;
	u32 seg = 0, next;
	size_t pos;
	u64 seq;
	int r;

	if (head_sector) {
		if (seg_from_sector(log, head_sector, &seg)) {
			DMERR("%s tier: checkpoint names sector %llu, not a segment, as head",
			      tier_name(log), head_sector);
			return -EUCLEAN;
		}
		r = read_segment_header(log, seg, buf, &sh);
		if (r == -ENODATA ||
		    (!r && dynsnap_replay_head(&sh, head_seq))) {
			DMERR("%s tier: segment %u is not the log's head %llu the checkpoint names",
			      tier_name(log), seg, head_seq);
			return -EUCLEAN;
		}
	} else {
		r = read_segment_header(log, 0, buf, &sh);
		if (r == -ENODATA || (!r && dynsnap_replay_head(&sh, 0))) {
			u64 highest;

			r = check_unheaded(log, buf, &highest);
			if (!r)
				start_empty(log, highest);
			return r;
		}
	}
	if (r)
		return r;

	seq = sh.first_record_seq;
	for (;;) {
		reserve_seg(log, seg);
		chain_push(log, seg);
		r = seg_from_sector(log, sh.next_segment, &next);
		if (r) {
			DMERR("segment %u names an invalid successor", seg);
			return -EUCLEAN;
		}
		reserve_seg(log, next);

		r = dsn_io_sync(log->bios, log->bdev, REQ_OP_READ, seg_offset(log, seg),
				buf, SEG_BYTES);
		if (r)
			return r;
		pos = 0;
		for (;;) {
			u8 *data = buf + DYNSNAP_SEG_HEADER_SIZE;
			size_t len = SEG_BYTES - DYNSNAP_SEG_HEADER_SIZE;
			u64 at;

			if (dynsnap_log_next(data, len, &pos, log->seed, seq, &h,
					     &payload)) {
				r = skip_damaged(log, seg, data, len, &pos, seq, &h);
				if (r > 0)
					break;		/* the end of the log */
				if (r < 0)
					return r;
				payload = NULL;		/* damaged, still indexed */
			}
			at = seg_offset(log, seg) + DYNSNAP_SEG_HEADER_SIZE +
			     pos - dynsnap_record_size(&h);
			r = fn(context, log, &h, payload, at);
			if (r < 0)
				return r;
			if (!r) {
				log->seg_live[seg] += dynsnap_record_size(&h);
				log->record_bytes += dynsnap_record_size(&h);
			}
			seq++;
		}

		log->cur_seg = seg;
		log->next_seg = next;
		log->seg_seq = sh.segment_seq;
		log->tail = seg_offset(log, seg) + DYNSNAP_SEG_HEADER_SIZE +
			    round_up(pos, SECTOR_SIZE);

		/* Did the log go on in the successor? */
		r = read_segment_header(log, next, buf, &nh);
		if (r && r != -ENODATA)
			return r;
		err = dynsnap_replay_successor(&sh, r ? NULL : &nh, seq);
		if (err == DSN_ERR_LOG_GAP) {
			DMERR("%s tier: delta log records %llu to %llu are missing",
			      tier_name(log), seq, nh.first_record_seq - 1);
			return -EUCLEAN;
		}
		if (err) {
			/* The header read left the segment's records in place. */
			r = check_past_end(log, buf, seg, pos, next, seq);
			if (r)
				return r;
			break;
		}
		seg = next;
		sh = nh;
	}

	if (dynsnap_replay_reached(seq, durable_seq)) {
		DMERR("%s tier: delta log is damaged: it ends before record %llu",
		      tier_name(log), seq);
		DMERR("%s tier: yet the checkpoint says records up to %llu were durable",
		      tier_name(log), durable_seq - 1);
		return -EBADMSG;
	}
	/*
	 * What was read may still sit in the device's volatile cache (a
	 * crash of the host, not of the disk): make it durable before any
	 * record is written after it.
	 */
	r = blkdev_issue_flush(log->bdev);
	if (r) {
		DMERR("%s tier: cannot flush the device after replay: %d",
		      tier_name(log), r);
		return r;
	}
	log->next_seq = seq;
	log->durable_seq = seq;
	log->batch_len = 0;
	log->batch_seq = seq;
	log->cur_on_disk = true;
	return 0;
}

int dsn_log_read_record(struct dsn_log *log, u64 pos, u32 stored_length,
			u8 *buf, size_t cap, struct dynsnap_record_header *h,
			const u8 **payload)
{
	u64 start = round_down(pos, SECTOR_SIZE);
	u32 skip = pos - start;
	size_t len = round_up(skip + DYNSNAP_REC_HEADER_SIZE + stored_length,
			      SECTOR_SIZE);
	int r;

	if (len > cap)
		return -EOVERFLOW;
	r = dsn_io_sync(log->bios, log->bdev, REQ_OP_READ, start, buf, len);
	if (r)
		return r;
	if (dynsnap_record_decode(buf + skip, len - skip, log->seed, h, payload) ||
	    h->stored_length != stored_length)
		return -EBADMSG;
	return 0;
}

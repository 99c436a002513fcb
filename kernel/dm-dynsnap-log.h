/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-dynsnap delta logs: one append-only log per tier, cut into 4 MiB
 * segments chained through their headers (core/dynsnap_log.h). Appends
 * are group-committed: records gather in a buffer, and whoever waits for
 * one first writes the whole batch with FUA, so one device write makes
 * many records durable. Records are immutable once written.
 *
 * Every function may sleep.
 */
#ifndef DM_DYNSNAP_LOG_H
#define DM_DYNSNAP_LOG_H

#include <linux/blkdev.h>
#include <linux/mutex.h>
#include <linux/wait.h>

#include "../core/dynsnap_log.h"

struct dsn_log {
	struct block_device *bdev;
	struct bio_set *bios;		/* the engine's: every bio of the log */
	u32 tier;			/* enum dynsnap_tier */
	const u8 *uuid;
	u32 seed;			/* dynsnap_record_seed(uuid, tier) */
	u64 area_start;			/* first sector of the data area */
	u32 nr_segments;
	unsigned long *seg_in_use;	/* segments holding or reserved for records */
	u32 *seg_live;			/* live record bytes per segment */
	u32 segs_used;
	/* Segments in log order, the head first and the open one last. */
	u32 *chain;
	u32 chain_first, chain_len;

	struct mutex lock;		/* everything below */
	wait_queue_head_t wait;		/* batch written, or error */
	u32 cur_seg, next_seg;		/* open segment and its successor */
	bool cur_on_disk;		/* the open segment's header is written */
	u64 seg_seq;			/* of the open segment */
	u64 next_seq;			/* sequence of the next record */
	u64 tail;			/* byte offset (tier) the batch goes to */
	u8 *batch;			/* records not yet written */
	u8 *spare;			/* the batch being written */
	u32 batch_len;
	u64 batch_seq;			/* first record sequence in batch */
	u64 durable_seq;		/* records before it are on disk */
	bool writing;
	int error;
	u64 record_bytes;		/* appended, headers included */
};

int dsn_log_init(struct dsn_log *log, struct block_device *bdev,
		 struct bio_set *bios, u32 tier, const u8 *uuid, u64 area_start,
		 u64 area_sectors);
void dsn_log_exit(struct dsn_log *log);

/*
 * Append a record (header @hdr of DYNSNAP_REC_HEADER_SIZE bytes, already
 * encoded except for its sequence, which is assigned here, then @payload).
 * On return *@pos is the record's byte offset on the tier and *@seq its
 * sequence; pass @seq to dsn_log_commit() to wait until it is durable.
 * Returns -ENOSPC when no segment is free. One free segment is kept for
 * @journal appends (snapshot operations), so that deleting a snapshot to
 * make room still works when deltas have filled the log.
 */
int dsn_log_append(struct dsn_log *log, struct dynsnap_record_header *h,
		   const u8 *payload, bool journal, u64 *pos, u64 *seq);

/* Wait until record @seq (and all before it) is on stable media. */
int dsn_log_commit(struct dsn_log *log, u64 seq);

/* A record of @bytes at byte @pos is no longer needed by anyone. */
void dsn_log_release(struct dsn_log *log, u64 pos, u32 bytes);

/* Sectors of the data area in use, and in all. */
void dsn_log_usage(struct dsn_log *log, u64 *used, u64 *total);

/*
 * Replay: call @fn for every record, in order, from the head segment along
 * the chain; then leave the log ready to append after the last one. The
 * head is the segment at sector @head_sector whose header carries
 * @head_seq, as a checkpoint names it, which also says the records below
 * @durable_seq were durable; @head_sector 0 means a log never
 * checkpointed, which starts at segment 0 (or is empty). A damaged delta
 * record that the log goes on after is passed with a NULL payload. @fn
 * returns 0 for a live record, 1 for one nobody needs any more, or a
 * negative error. Returns -EUCLEAN when records were lost or the head is
 * not where the checkpoint says, -EBADMSG when the log is damaged: records
 * of it written after its end was durable lie past that end
 * (dynsnap_replay_past_end()). @buf must hold DYNSNAP_SEG_SECTORS sectors.
 */
typedef int (*dsn_replay_fn)(void *context, struct dsn_log *log,
			     const struct dynsnap_record_header *h,
			     const u8 *payload, u64 pos);
int dsn_log_replay(struct dsn_log *log, u8 *buf, u64 head_sector,
		   u64 head_seq, u64 durable_seq, dsn_replay_fn fn,
		   void *context);

/*
 * True once a batch write failed: the log refuses every later append and
 * commit with -EIO, for good. Any context.
 */
bool dsn_log_failed(struct dsn_log *log);

/* Write out whatever is appended, as dsn_log_commit() of the last would. */
int dsn_log_flush(struct dsn_log *log);

/* The sequence the next record will get. */
u64 dsn_log_next_seq(struct dsn_log *log);
/* Records below it are on disk. */
u64 dsn_log_durable_seq(struct dsn_log *log);

/*
 * The oldest segment that still holds a live record (the open segment if
 * none does and its header is written, else the one before): its first
 * sector and segment_seq, and how many segments before it in the chain
 * hold nothing live.
 */
void dsn_log_head(struct dsn_log *log, u64 *sector, u64 *seq, u32 *dead);

/*
 * Give the first @n segments of the chain back for reuse. Only once a
 * checkpoint naming a later head is durable: until then a replay needs
 * them.
 */
void dsn_log_drop_head(struct dsn_log *log, u32 n);

/*
 * Synchronous I/O of a kernel or vmalloc buffer; @offset sector aligned.
 * Its bios come from @bs, one at a time, so a bio set with any reserve
 * lets it go on under memory pressure; NULL (only outside the I/O path,
 * e.g. when formatting) takes the kernel's shared set.
 */
int dsn_io_sync(struct bio_set *bs, struct block_device *bdev, blk_opf_t opf,
		u64 offset, void *buf, size_t len);

/* Read and verify the record at @pos into @buf (@cap bytes). */
int dsn_log_read_record(struct dsn_log *log, u64 pos, u32 stored_length,
			u8 *buf, size_t cap, struct dynsnap_record_header *h,
			const u8 **payload);

#endif /* DM_DYNSNAP_LOG_H */

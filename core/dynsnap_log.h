/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dynsnap delta logs: how records lie in a tier's delta area.
 *
 * The delta area is cut into segments. A segment starts with a 4 KiB block
 * holding its header; records follow, packed, in batches. Each batch is
 * written with one FUA write and padded with zeroes to a sector boundary,
 * so the next batch starts on one. The segments of a log form a chain: the
 * writer reserves a segment's successor when it opens the segment and
 * records it in the header, so a replay follows the log from segment to
 * segment without scanning the whole area.
 *
 * Record sequence numbers increase by exactly one along a tier's log. A
 * replay therefore stops at the first record that is missing, torn, damaged
 * or left over from an older use of the segment, and every record before it
 * was durable before any origin write that depended on it. Records verify
 * only as records of their own store (dynsnap_record_seed()), so a replay
 * can also look past the end for records of its log written later
 * (dynsnap_replay_past_end()).
 *
 * Pure functions on caller-owned buffers; callable from any context.
 */
#ifndef DYNSNAP_LOG_H
#define DYNSNAP_LOG_H

#include "dynsnap_record.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DYNSNAP_SEG_MAGIC		0x47534e44U	/* "DNSG" */
#define DYNSNAP_SEG_VERSION		1U
#define DYNSNAP_SEG_HEADER_SIZE		4096U	/* the segment's first block */
#define DYNSNAP_SEG_HEADER_USED		64U
#define DYNSNAP_SEG_CSUM_XOR		0x1f3e5d7cU
/*
 * 4 MiB segments: large enough that the header block and the chain cost
 * little, small enough that a mostly dead segment is cheap to copy out.
 */
#define DYNSNAP_SEG_SECTORS		8192U
#define DYNSNAP_SEG_BYTES		((u64)DYNSNAP_SEG_SECTORS << DYNSNAP_SECTOR_SHIFT)

/*
 * The largest batch the writer issues: room for a segment header and the
 * largest record at least; more lets one device write carry the records of
 * many concurrent writers. The writer issues a batch only once the one
 * before is durable, so a record further than this past a point of the log
 * was written by a later batch: whatever lies at that point was
 * acknowledged, not torn.
 */
#define DYNSNAP_LOG_BATCH_BYTES		(DYNSNAP_SEG_HEADER_SIZE + \
					 DYNSNAP_REC_HEADER_SIZE + \
					 DYNSNAP_REC_MAX_STORED + \
					 2 * DYNSNAP_SECTOR_SIZE)

/* On-disk segment header; the rest of its 4 KiB block is zero. */
struct dynsnap_disk_segment_header {
	__le32 csum;		/* crc32c(block[4..4096)) ^ XOR */
	__le32 magic;
	__le16 version;
	__le16 tier;		/* enum dynsnap_tier */
	__le32 flags;		/* none defined: must be zero */
	__le64 segment_seq;	/* per tier, increases with every opening */
	__le64 first_record_seq;	/* sequence of the first record here */
	__u8 uuid[16];		/* the store's UUID */
	__le64 next_segment;	/* its tier device's sector of the next segment */
	__le64 reserved;	/* must be zero */
} __packed;

struct dynsnap_segment_header {
	u32 tier;
	u64 segment_seq;
	u64 first_record_seq;
	u8 uuid[DYNSNAP_UUID_SIZE];
	u64 next_segment;
};

/*
 * Whole segments in a delta area of @area_sectors sectors, at most
 * 2^32 - 1 (segments are numbered with a u32). A log needs two: the open
 * segment and the successor it names.
 */
u32 dynsnap_log_nr_segments(u64 area_sectors);

/* First sector of segment @seg of the delta area starting at @area_start. */
static inline u64 dynsnap_log_segment_sector(u64 area_start, u32 seg)
{
	return area_start + (u64)seg * DYNSNAP_SEG_SECTORS;
}

/*
 * The segment that starts at @sector, in a delta area of @nr_segments
 * segments from @area_start: DSN_OK with *@seg set, or DSN_ERR_LOG_SEGMENT
 * when @sector lies before or past the area or inside a segment.
 */
enum dynsnap_err dynsnap_log_segment_of(u64 area_start, u32 nr_segments,
					u64 sector, u32 *seg);

/* Encode @h into @buf (DYNSNAP_SEG_HEADER_SIZE bytes, fully written). */
void dynsnap_segment_encode(const struct dynsnap_segment_header *h, u8 *buf);

/*
 * Decode and validate the segment header block at @buf: magic, checksum,
 * version, tier, flags, reserved space, that it belongs to the store @uuid,
 * and that it names a next segment (non-zero, 4 KiB aligned). DSN_ERR_SEG_*
 * on failure.
 */
enum dynsnap_err dynsnap_segment_decode(const u8 *buf, size_t len,
					const u8 uuid[DYNSNAP_UUID_SIZE],
					struct dynsnap_segment_header *h);

/* Bytes a batch of @bytes occupies on disk: padded to a whole sector. */
static inline size_t dynsnap_log_padded(size_t bytes)
{
	return (bytes + DYNSNAP_SECTOR_SIZE - 1) & ~(size_t)(DYNSNAP_SECTOR_SIZE - 1);
}

/*
 * Next record of a log being replayed. @buf holds @len bytes of a segment
 * after its header block; *@pos is where to look (0 at first) and moves
 * past the record. A record must verify as one of the store of @seed and
 * carry sequence @expected_seq. A batch's
 * zero padding is skipped by looking once more at the next sector
 * boundary. Returns DSN_OK with the record in *@h and *@payload, or
 * DSN_ERR_LOG_END where the log ends (the record at *@pos is absent,
 * damaged or out of sequence).
 */
enum dynsnap_err dynsnap_log_next(const u8 *buf, size_t len, size_t *pos,
				  u32 seed, u64 expected_seq,
				  struct dynsnap_record_header *h,
				  const u8 **payload);

/*
 * The next record of the store of @seed at or after *@pos in @buf (@len
 * bytes), at any byte offset, whatever its sequence: DSN_OK with *@pos at
 * it and its header in *@h, or DSN_ERR_LOG_END when there is none.
 */
enum dynsnap_err dynsnap_log_find(const u8 *buf, size_t len, size_t *pos,
				  u32 seed, struct dynsnap_record_header *h);

#ifdef __cplusplus
}
#endif

#endif /* DYNSNAP_LOG_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dynsnap on-disk format: the one definition, shared by dm-dynsnap.ko and
 * the userspace tools.
 *
 * All functions here are pure: they work on caller-owned buffers, never
 * allocate, lock, sleep or do I/O, and may be called from any context.
 *
 * Device layout (sectors are 512 bytes):
 *
 *   fast device:  [0, 8)                 superblock (tier = fast)
 *                 [meta_start, +meta)    metadata area
 *                 [fast_data_start, +n)  fast delta area
 *   slow device:  [0, 8)                 superblock copy (tier = slow)
 *                 [slow_data_start, +n)  slow delta area
 *
 * Both superblocks carry the same store UUID, so a slow device that belongs
 * to another store is recognised and refused.
 */
#ifndef DYNSNAP_FORMAT_H
#define DYNSNAP_FORMAT_H

#include "dynsnap_types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DYNSNAP_SECTOR_SHIFT		9
#define DYNSNAP_SECTOR_SIZE		(1U << DYNSNAP_SECTOR_SHIFT)

/* Geometry limits, in 512-byte sectors. */
#define DYNSNAP_MIN_BLOCK_SECTORS	8U		/* 4 KiB */
#define DYNSNAP_MAX_BLOCK_SECTORS	2048U		/* 1 MiB */
#define DYNSNAP_MIN_SUB_BLOCK_SECTORS	1U		/* 512 B */
#define DYNSNAP_DEFAULT_SUB_BLOCK_SECTORS 8U		/* 4 KiB */
#define DYNSNAP_DEFAULT_REGION_SECTORS	8192U		/* 4 MiB */
#define DYNSNAP_MAX_REGION_SECTORS	(1U << 24)	/* 8 GiB */
/* A level map holds a byte per region and must stay one allocation. */
#define DYNSNAP_MAX_REGIONS		(1U << 28)
#define DYNSNAP_MAX_SUB_BLOCKS_PER_BLOCK 64U	/* one u64 bitmap per block */

/* Superblock. */
#define DYNSNAP_SB_SIZE			4096U
#define DYNSNAP_SB_SECTORS		(DYNSNAP_SB_SIZE >> DYNSNAP_SECTOR_SHIFT)
#define DYNSNAP_SB_LOCATION		0ULL	/* sector of both superblocks */
#define DYNSNAP_SB_MAGIC		0x64796e736e617073ULL	/* "dynsnaps" */
#define DYNSNAP_SB_CSUM_XOR		0x2b1e5a17U
/*
 * Format 2 binds every delta record to its store (a checksum seeded with
 * the store's UUID) and says which records were durable when it was
 * written (dynsnap_record.h). A format 1 store is refused, not misread.
 */
#define DYNSNAP_SB_VERSION		2U
#define DYNSNAP_SB_MIN_VERSION		2U
#define DYNSNAP_SB_MAX_VERSION		2U
#define DYNSNAP_UUID_SIZE		16U

/* Space reserved for metadata and the smallest usable delta areas. */
#define DYNSNAP_MIN_META_SECTORS	16384ULL	/* 8 MiB */
#define DYNSNAP_META_PER_VOLUME_SHIFT	9	/* + volume/512 */
#define DYNSNAP_MIN_DATA_SECTORS	2048ULL		/* 1 MiB */

enum dynsnap_tier {
	DYNSNAP_TIER_FAST = 1,
	DYNSNAP_TIER_SLOW = 2,
};

/* Superblock flags; unknown bits are refused. */
#define DYNSNAP_SB_F_HAS_SLOW		(1U << 0)
/*
 * Set in the first fast superblock a format writes and cleared once the slow
 * superblock is on disk: only a store with this flag may have a zeroed slow
 * superblock completed for it.
 */
#define DYNSNAP_SB_F_FORMATTING		(1U << 1)
#define DYNSNAP_SB_F_KNOWN		(DYNSNAP_SB_F_HAS_SLOW | \
					 DYNSNAP_SB_F_FORMATTING)

/*
 * The superblock as it lies on disk, little-endian, at the start of a 4 KiB
 * block whose remainder is zero. Only used to pin offsets and size: the
 * encoder and decoder serialise field by field.
 */
struct dynsnap_disk_superblock {
	__le32 csum;		/* crc32c of bytes [4, 4096) ^ DYNSNAP_SB_CSUM_XOR */
	__le32 flags;
	__le64 location;	/* sector of this copy on its own device */
	__le64 magic;
	__le32 version;
	__le32 tier;		/* enum dynsnap_tier */
	__u8 uuid[16];		/* identity of the store, shared by both tiers */
	__le64 volume_sectors;	/* length of the protected volume */
	__le32 block_sectors;
	__le32 sub_block_sectors;
	__le32 region_sectors;
	__le32 reserved0;
	__le64 fast_dev_sectors;	/* fast device size when formatted */
	__le64 slow_dev_sectors;	/* 0 without a slow tier */
	__le64 meta_start;
	__le64 meta_sectors;
	__le64 fast_data_start;
	__le64 fast_data_sectors;
	__le64 slow_data_start;
	__le64 slow_data_sectors;
	__le64 format_time;	/* seconds since the epoch */
	__le64 generation;	/* bumped by every superblock commit */
} __packed;

#define DYNSNAP_SB_ENCODED_SIZE	sizeof(struct dynsnap_disk_superblock)

/* Geometry chosen by the operator at format time. */
struct dynsnap_geometry {
	u32 block_sectors;
	u32 sub_block_sectors;
	u32 region_sectors;
};

/* Where everything lives; derived from geometry and device sizes. */
struct dynsnap_layout {
	u64 fast_dev_sectors;
	u64 slow_dev_sectors;
	u64 meta_start;
	u64 meta_sectors;
	u64 fast_data_start;
	u64 fast_data_sectors;
	u64 slow_data_start;
	u64 slow_data_sectors;
};

/* Decoded superblock, native byte order. */
struct dynsnap_superblock {
	u32 flags;
	u64 location;
	u32 version;
	u32 tier;
	u8 uuid[DYNSNAP_UUID_SIZE];
	u64 volume_sectors;
	struct dynsnap_geometry geometry;
	struct dynsnap_layout layout;
	u64 format_time;
	u64 generation;
};

/*
 * Every way a geometry, layout, superblock, record or delta can be wrong.
 * Each has one fixed message (dynsnap_strerror, core/dynsnap_err.c)
 * suitable for ti->error, kernel log lines and CLI output.
 */
enum dynsnap_err {
	DSN_OK = 0,
	DSN_ERR_BLOCK_NOT_POW2,
	DSN_ERR_BLOCK_RANGE,
	DSN_ERR_SUB_NOT_POW2,
	DSN_ERR_SUB_RANGE,
	DSN_ERR_SUB_TOO_SMALL,
	DSN_ERR_REGION_NOT_POW2,
	DSN_ERR_REGION_RANGE,
	DSN_ERR_VOLUME_EMPTY,
	DSN_ERR_VOLUME_UNALIGNED,
	DSN_ERR_VOLUME_REGIONS,
	DSN_ERR_FAST_TOO_SMALL,
	DSN_ERR_SLOW_TOO_SMALL,
	DSN_ERR_SB_SHORT,
	DSN_ERR_SB_MAGIC,
	DSN_ERR_SB_CSUM,
	DSN_ERR_SB_LOCATION,
	DSN_ERR_SB_VERSION,
	DSN_ERR_SB_FLAGS,
	DSN_ERR_SB_TIER,
	DSN_ERR_SB_RESERVED,
	DSN_ERR_SB_GEOMETRY,
	DSN_ERR_SB_LAYOUT,
	DSN_ERR_SB_IDENTITY,
	DSN_ERR_SB_OTHER_VOLUME,
	DSN_ERR_SB_OTHER_GEOMETRY,
	DSN_ERR_SB_SLOW_MISSING,
	DSN_ERR_SB_SLOW_UNEXPECTED,
	DSN_ERR_SB_OTHER_STORE,
	DSN_ERR_SB_DEVICE_SHRUNK,
	DSN_ERR_REC_SHORT,
	DSN_ERR_REC_MAGIC,
	DSN_ERR_REC_VERSION,
	DSN_ERR_REC_LEVEL,
	DSN_ERR_REC_CODEC,
	DSN_ERR_REC_FLAGS,
	DSN_ERR_REC_LENGTH,
	DSN_ERR_REC_STORED_LENGTH,
	DSN_ERR_REC_CSUM,
	DSN_ERR_XOR_FORMAT,
	DSN_ERR_XOR_RANGE,
	DSN_ERR_VIEW_RANGE,
	DSN_ERR_VIEW_ORDER,
	DSN_ERR_SEG_SHORT,
	DSN_ERR_SEG_MAGIC,
	DSN_ERR_SEG_CSUM,
	DSN_ERR_SEG_VERSION,
	DSN_ERR_SEG_TIER,
	DSN_ERR_SEG_RESERVED,
	DSN_ERR_SEG_OTHER_STORE,
	DSN_ERR_LOG_END,
	DSN_ERR_SEG_NEXT,
	DSN_ERR_CTL_TYPE,
	DSN_ERR_CTL_SHORT,
	DSN_ERR_CTL_RESERVED,
	DSN_ERR_CTL_ZERO,
	DSN_ERR_CTL_NAME,
	DSN_ERR_CTL_RANGE,
	DSN_ERR_CKPT_SHORT,
	DSN_ERR_CKPT_MAGIC,
	DSN_ERR_CKPT_VERSION,
	DSN_ERR_CKPT_SIZE,
	DSN_ERR_CKPT_CSUM,
	DSN_ERR_CKPT_UUID,
	DSN_ERR_CKPT_RESERVED,
	DSN_ERR_CKPT_FIELDS,
	DSN_ERR_CKPT_SNAP,
	DSN_ERR_CKPT_LEVEL,
	DSN_ERR_STREAM_SHORT,
	DSN_ERR_STREAM_MAGIC,
	DSN_ERR_STREAM_VERSION,
	DSN_ERR_STREAM_CSUM,
	DSN_ERR_STREAM_RESERVED,
	DSN_ERR_STREAM_GEOMETRY,
	DSN_ERR_STREAM_IDENTITY,
	DSN_ERR_STREAM_SNAP,
	DSN_ERR_STREAM_ITEM,
	DSN_ERR_STREAM_EXTENT_CSUM,
	DSN_ERR_STREAM_OTHER,
	DSN_ERR_STREAM_ORDER,
	DSN_ERR_STREAM_RANGE,
	DSN_ERR_STREAM_DATA_CSUM,
	DSN_ERR_STREAM_TRAILER_CSUM,
	DSN_ERR_STREAM_TRAILER,
	DSN_ERR_STREAM_TRAILING,
	DSN_ERR_STREAM_TARGET,
	DSN_ERR_LOG_SEGMENT,
	DSN_ERR_LOG_EMPTY,
	DSN_ERR_LOG_HEAD,
	DSN_ERR_LOG_GAP,
	DSN_ERR_LOG_PASSED,
	DSN_ERR_REPLAY_CTL_TIER,
	DSN_ERR_REPLAY_SNAP_EPOCH,
	DSN_ERR_REPLAY_SNAP_ID,
	DSN_ERR_REPLAY_REGIONS,
	DSN_ERR_REPLAY_EPOCH,
	DSN_ERR_CKPT_REGIONS,
	DSN_ERR_CKPT_SLOW,
	DSN_ERR_LEVEL_NAME,
	DSN_ERR_REC_IN_FLIGHT,
	DSN_ERR_LOG_DAMAGED,
	DSN_ERR_REC_PAYLOAD_CSUM,
	DSN_ERR__COUNT
};

const char *dynsnap_strerror(enum dynsnap_err err);

/*
 * Geometry with defaults filled in: sub_block_sectors 0 means "default"
 * (4 KiB; 512 B for 4 KiB blocks; block/64 for blocks above 256 KiB),
 * region_sectors 0 means "default" (4 MiB, at least one block).
 */
void dynsnap_geometry_defaults(struct dynsnap_geometry *g);
enum dynsnap_err dynsnap_geometry_check(const struct dynsnap_geometry *g);
/* The volume's length fits the geometry, in at most DYNSNAP_MAX_REGIONS. */
enum dynsnap_err dynsnap_volume_check(const struct dynsnap_geometry *g,
				      u64 volume_sectors);
/* The regions of a checked volume; the last one may be short. */
u32 dynsnap_region_count(const struct dynsnap_geometry *g, u64 volume_sectors);

/*
 * Lay out a new store. slow_dev_sectors == 0 means no slow tier. Fails
 * with DSN_ERR_FAST_TOO_SMALL / DSN_ERR_SLOW_TOO_SMALL when a device cannot
 * hold its superblock, metadata and the minimum delta area.
 */
enum dynsnap_err dynsnap_layout_compute(const struct dynsnap_geometry *g,
					u64 volume_sectors,
					u64 fast_dev_sectors,
					u64 slow_dev_sectors,
					struct dynsnap_layout *out);

/* True when the whole buffer is zero: the "format me" marker. */
bool dynsnap_is_zeroed(const void *buf, size_t len);

/*
 * Encode @sb into @buf (DYNSNAP_SB_SIZE bytes, fully written: fields,
 * zero padding, then the checksum).
 */
void dynsnap_sb_encode(const struct dynsnap_superblock *sb, u8 *buf);

/*
 * The one superblock validator. Decodes @buf (@len bytes, at least
 * DYNSNAP_SB_SIZE) into @sb and checks location, magic, checksum, version,
 * flags, tier, reserved space, identity (non-zero UUID and generation), the
 * geometry, and that the layout is exactly the one dynsnap_layout_compute()
 * gives for the recorded geometry and device sizes. @sb is only meaningful
 * when DSN_OK is returned.
 */
enum dynsnap_err dynsnap_sb_decode(const u8 *buf, size_t len,
				   u64 expected_location,
				   struct dynsnap_superblock *sb);

/*
 * Does a valid superblock belong to the volume and devices of a table line?
 * Checks volume length, geometry, presence of a slow tier and that neither
 * device shrank below the recorded layout. @g must have defaults filled in.
 */
enum dynsnap_err dynsnap_sb_match(const struct dynsnap_superblock *sb,
				  u64 volume_sectors,
				  const struct dynsnap_geometry *g,
				  u64 fast_dev_sectors, u64 slow_dev_sectors);

/*
 * Do the fast and slow superblocks describe the same store: same UUID,
 * format time, volume, geometry, layout and flags (FORMATTING aside)?
 */
enum dynsnap_err dynsnap_sb_same_store(const struct dynsnap_superblock *fast,
				       const struct dynsnap_superblock *slow);

/* Fill a new superblock for @tier from geometry and layout. */
void dynsnap_sb_init(struct dynsnap_superblock *sb, enum dynsnap_tier tier,
		     const u8 uuid[DYNSNAP_UUID_SIZE], u64 volume_sectors,
		     const struct dynsnap_geometry *g,
		     const struct dynsnap_layout *layout, u64 now);

#ifdef __cplusplus
}
#endif

#endif /* DYNSNAP_FORMAT_H */

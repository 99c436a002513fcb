/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dynsnap checkpoints: the snapshot table, the granularity maps and the
 * heads of the delta logs, as one contiguous byte string, little-endian:
 *
 *   header       DYNSNAP_CKPT_HEADER_SIZE bytes (struct
 *                dynsnap_disk_checkpoint_header);
 *   snapshots    nr_snaps entries of DYNSNAP_CTL_SNAP_CREATE_SIZE bytes,
 *                each encoded exactly as a SNAP_CREATE control payload
 *                (dynsnap_control.h), ids and epochs strictly increasing;
 *   cur_level    nr_regions bytes: each region's level in the current epoch;
 *   next_level   nr_regions bytes: each region's level from the next epoch
 *                on.
 *
 * A level byte is an enum dynsnap_level or DYNSNAP_LEVEL_DEFAULT. A crc32c
 * covers everything after the checksum field, so any damaged byte is
 * caught before a checkpoint is used. A replay of the fast log resumes at
 * the head the checkpoint names and skips the control records with a
 * sequence below control_seq: the checkpoint already reflects them.
 *
 * fast_end_seq and slow_end_seq say how far each log was durable when the
 * checkpoint was written: a replay that ends before them met damage, not
 * the end of the log, and refuses the store (dynsnap_replay_reached()).
 *
 * Writing one: dynsnap_checkpoint_encode_header(), then the entries and
 * level maps at the offsets below, then dynsnap_checkpoint_seal().
 *
 * Pure functions on caller-owned buffers; callable from any context.
 */
#ifndef DYNSNAP_CHECKPOINT_H
#define DYNSNAP_CHECKPOINT_H

#include "dynsnap_control.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DYNSNAP_CKPT_MAGIC		0x3154504b434e5344ULL	/* "DSNCKPT1" */
#define DYNSNAP_CKPT_VERSION		2U
#define DYNSNAP_CKPT_HEADER_SIZE	128U
#define DYNSNAP_CKPT_CSUM_XOR		0x4e7a2c93U

/*
 * The metadata area holds DYNSNAP_CKPT_SLOTS slots, written in turn; the
 * valid one with the higher generation counts. A torn write spoils only
 * the slot being written. Slots and checkpoints are read and written in
 * whole DYNSNAP_CKPT_ALIGN blocks.
 */
#define DYNSNAP_CKPT_SLOTS		2U
#define DYNSNAP_CKPT_ALIGN		4096U

/* Level byte: the region follows the table's default level. */
#define DYNSNAP_LEVEL_DEFAULT		0xffU

/* On-disk header; pins offsets and size, serialised field by field. */
struct dynsnap_disk_checkpoint_header {
	__le64 magic;		/* "DSNCKPT1" */
	__le32 csum;		/* crc32c(bytes [12, total_len)) ^ XOR */
	__le32 version;
	__u8 uuid[16];		/* the store's UUID */
	__le64 generation;	/* non-zero */
	__le32 total_len;	/* header + entries + level maps, bytes */
	__le32 flags;		/* none defined: must be zero */
	__le32 epoch;		/* the current epoch, non-zero */
	__le32 nr_snaps;
	__le32 nr_regions;	/* non-zero */
	__le32 reserved0;	/* must be zero */
	__le64 next_id;		/* above every snapshot id, non-zero */
	__le64 control_seq;	/* fast log control records below are in here */
	__le64 fast_head_sector;	/* fast log head segment: 4 KiB aligned */
	__le64 fast_head_seq;	/* its segment_seq, non-zero */
	__le64 slow_head_sector;	/* 0 without a slow tier, else aligned */
	__le64 slow_head_seq;	/* 0 exactly when slow_head_sector is 0 */
	__le64 fast_end_seq;	/* fast log records below were durable */
	__le64 slow_end_seq;	/* the same; 0 exactly without a slow tier */
} __packed;

struct dynsnap_checkpoint {
	u8 uuid[DYNSNAP_UUID_SIZE];
	u64 generation;
	u32 epoch;
	u32 nr_snaps;
	u32 nr_regions;
	u64 next_id;
	u64 control_seq;
	u64 fast_head_sector, fast_head_seq;
	u64 slow_head_sector, slow_head_seq;
	u64 fast_end_seq, slow_end_seq;
};

/* Bytes of a checkpoint with these counts; 0 if it would not fit in a u32. */
u32 dynsnap_checkpoint_size(u32 nr_snaps, u32 nr_regions);

/* Offset of snapshot entry @index. */
size_t dynsnap_checkpoint_snap_offset(u32 index);

/*
 * Offset of the cur_level map of a checkpoint with @nr_snaps entries; the
 * next_level map follows it after nr_regions bytes.
 */
size_t dynsnap_checkpoint_levels_offset(u32 nr_snaps);

/*
 * Write the header to @buf (DYNSNAP_CKPT_HEADER_SIZE bytes): csum left 0,
 * total_len computed from the counts. The caller then fills the entries and
 * level maps at the offsets above and calls dynsnap_checkpoint_seal().
 */
void dynsnap_checkpoint_encode_header(const struct dynsnap_checkpoint *c,
				      u8 *buf);

/* Compute and store the checksum over the total_len bytes at @buf. */
void dynsnap_checkpoint_seal(u8 *buf);

/*
 * True when the first DYNSNAP_CKPT_HEADER_SIZE bytes are all zero: a slot
 * never written.
 */
bool dynsnap_checkpoint_is_blank(const u8 *buf);

/*
 * Decode the checkpoint at @buf (@len bytes available) and validate
 * everything: header, checksum, every entry and every level byte. @uuid,
 * when not NULL, is the store's: a checkpoint of another store is refused.
 * DSN_OK or DSN_ERR_CKPT_*; *@c is only meaningful on DSN_OK.
 */
enum dynsnap_err dynsnap_checkpoint_decode(const u8 *buf, size_t len,
					   const u8 *uuid,
					   struct dynsnap_checkpoint *c);

/* Snapshot entry @index of a checkpoint that decoded with DSN_OK. */
void dynsnap_checkpoint_snap(const u8 *buf, u32 index,
			     struct dynsnap_ctl_snap_create *s);

/*
 * Sectors of one checkpoint slot of @layout: half the metadata area, in
 * whole DYNSNAP_CKPT_ALIGN blocks.
 */
u64 dynsnap_checkpoint_slot_sectors(const struct dynsnap_layout *layout);

/*
 * First sector of slot @slot on the fast device; 0 (the superblock's
 * sector, never a slot's) when @slot >= DYNSNAP_CKPT_SLOTS.
 */
u64 dynsnap_checkpoint_slot_sector(const struct dynsnap_layout *layout,
				   u32 slot);

/*
 * Bytes to read of a slot whose first DYNSNAP_CKPT_ALIGN bytes are @head,
 * to decode it: its total_len in whole blocks when that fits a slot of
 * @layout, else the first block alone, which dynsnap_checkpoint_decode()
 * then refuses with the reason.
 */
u64 dynsnap_checkpoint_read_size(const u8 *head,
				 const struct dynsnap_layout *layout);

/*
 * The slot a replay starts from: the index of the one with the higher
 * generation among the valid ones (@slot0, @slot1; NULL for a slot that
 * is blank or did not decode), slot 0 on a tie; -1 when neither is valid.
 */
int dynsnap_checkpoint_newest(const struct dynsnap_checkpoint *slot0,
			      const struct dynsnap_checkpoint *slot1);

/*
 * Does checkpoint @c belong to a store of @nr_regions regions, with a slow
 * tier or not (@has_slow)? DSN_OK, DSN_ERR_CKPT_REGIONS or
 * DSN_ERR_CKPT_SLOW.
 */
enum dynsnap_err dynsnap_checkpoint_match(const struct dynsnap_checkpoint *c,
					  u64 nr_regions, bool has_slow);

#ifdef __cplusplus
}
#endif

#endif /* DYNSNAP_CHECKPOINT_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * One fixed message per dynsnap_err: what the kernel puts in ti->error and
 * its log, and what the userspace tools print.
 */
#include "dynsnap_format.h"

static const char *const dynsnap_messages[DSN_ERR__COUNT] = {
	[DSN_OK] = "success",
	[DSN_ERR_BLOCK_NOT_POW2] = "block size must be a power of two",
	[DSN_ERR_BLOCK_RANGE] =
		"block size out of range (8 to 2048 sectors: 4 KiB to 1 MiB)",
	[DSN_ERR_SUB_NOT_POW2] = "sub-block size must be a power of two",
	[DSN_ERR_SUB_RANGE] = "sub-block size must not exceed the block size",
	[DSN_ERR_SUB_TOO_SMALL] =
		"sub-block size too small: at most 64 sub-blocks per block",
	[DSN_ERR_REGION_NOT_POW2] = "region size must be a power of two",
	[DSN_ERR_REGION_RANGE] =
		"region size out of range (one block to 16777216 sectors)",
	[DSN_ERR_VOLUME_EMPTY] = "volume length must not be zero",
	[DSN_ERR_VOLUME_UNALIGNED] =
		"volume length must be a multiple of the block size",
	[DSN_ERR_VOLUME_REGIONS] =
		"volume has more than 268435456 regions: choose larger regions",
	[DSN_ERR_FAST_TOO_SMALL] =
		"fast device too small for superblock, metadata and deltas",
	[DSN_ERR_SLOW_TOO_SMALL] =
		"slow device too small for superblock and deltas",
	[DSN_ERR_SB_SHORT] = "superblock buffer too short",
	[DSN_ERR_SB_MAGIC] = "superblock magic mismatch: not a dynsnap store",
	[DSN_ERR_SB_CSUM] = "superblock checksum mismatch",
	[DSN_ERR_SB_LOCATION] = "superblock location mismatch",
	[DSN_ERR_SB_VERSION] = "unsupported store format version in the superblock",
	[DSN_ERR_SB_FLAGS] = "superblock has unknown flags",
	[DSN_ERR_SB_TIER] = "superblock tier is invalid or on the wrong device",
	[DSN_ERR_SB_RESERVED] = "superblock reserved space is not zero",
	[DSN_ERR_SB_GEOMETRY] = "superblock geometry is invalid",
	[DSN_ERR_SB_LAYOUT] = "superblock layout is inconsistent",
	[DSN_ERR_SB_IDENTITY] =
		"superblock has no store identity (zero UUID or generation)",
	[DSN_ERR_SB_OTHER_VOLUME] =
		"store belongs to a volume of another length",
	[DSN_ERR_SB_OTHER_GEOMETRY] =
		"store was formatted with another block, sub-block or region size",
	[DSN_ERR_SB_SLOW_MISSING] =
		"store was formatted with a slow tier but none is given",
	[DSN_ERR_SB_SLOW_UNEXPECTED] =
		"store was formatted without a slow tier",
	[DSN_ERR_SB_OTHER_STORE] =
		"fast and slow devices belong to different stores",
	[DSN_ERR_SB_DEVICE_SHRUNK] =
		"a tier device is smaller than when the store was formatted",
	[DSN_ERR_REC_SHORT] = "delta record truncated",
	[DSN_ERR_REC_MAGIC] = "delta record magic mismatch",
	[DSN_ERR_REC_VERSION] = "unsupported delta record version",
	[DSN_ERR_REC_LEVEL] = "delta record has an unknown granularity level",
	[DSN_ERR_REC_CODEC] = "delta record has an unknown codec",
	[DSN_ERR_REC_FLAGS] = "delta record has unknown flags or reserved bits",
	[DSN_ERR_REC_LENGTH] = "delta record length is invalid",
	[DSN_ERR_REC_STORED_LENGTH] = "delta record stored length is invalid",
	[DSN_ERR_REC_CSUM] = "delta record header checksum mismatch",
	[DSN_ERR_XOR_FORMAT] = "sparse XOR delta is malformed",
	[DSN_ERR_XOR_RANGE] = "sparse XOR delta reaches outside its block",
	[DSN_ERR_VIEW_RANGE] = "delta reaches outside its block",
	[DSN_ERR_VIEW_ORDER] = "deltas are not ordered newest epoch first",
	[DSN_ERR_SEG_SHORT] = "segment header truncated",
	[DSN_ERR_SEG_MAGIC] = "segment header magic mismatch",
	[DSN_ERR_SEG_CSUM] = "segment header checksum mismatch",
	[DSN_ERR_SEG_VERSION] = "unsupported segment version",
	[DSN_ERR_SEG_TIER] = "segment header names an invalid tier",
	[DSN_ERR_SEG_RESERVED] = "segment header has unknown flags or reserved bits",
	[DSN_ERR_SEG_OTHER_STORE] = "segment belongs to another store",
	[DSN_ERR_LOG_END] = "end of the delta log",
	[DSN_ERR_SEG_NEXT] =
		"segment header names no valid next segment (zero or not 4 KiB aligned)",
	[DSN_ERR_CTL_TYPE] = "control record has an unknown type",
	[DSN_ERR_CTL_SHORT] = "control record payload truncated",
	[DSN_ERR_CTL_RESERVED] =
		"control record has unknown flags or reserved bits",
	[DSN_ERR_CTL_ZERO] = "control record has a zero snapshot id or epoch",
	[DSN_ERR_CTL_NAME] =
		"invalid snapshot name: 1 to 64 of A-Z a-z 0-9 . _ : @ + -, not starting with -",
	[DSN_ERR_CTL_RANGE] =
		"control record region range is empty or wraps",
	[DSN_ERR_CKPT_SHORT] = "checkpoint truncated",
	[DSN_ERR_CKPT_MAGIC] = "checkpoint magic mismatch",
	[DSN_ERR_CKPT_VERSION] = "unsupported checkpoint version",
	[DSN_ERR_CKPT_SIZE] =
		"checkpoint length does not match its snapshot and region counts",
	[DSN_ERR_CKPT_CSUM] = "checkpoint checksum mismatch",
	[DSN_ERR_CKPT_UUID] = "checkpoint belongs to another store",
	[DSN_ERR_CKPT_RESERVED] = "checkpoint has unknown flags or reserved bits",
	[DSN_ERR_CKPT_FIELDS] =
		"checkpoint has a zero or invalid generation, epoch, region count, next id or log head",
	[DSN_ERR_CKPT_SNAP] =
		"checkpoint has an invalid snapshot entry or entries out of order",
	[DSN_ERR_CKPT_LEVEL] =
		"checkpoint has an unknown granularity level",
	[DSN_ERR_STREAM_SHORT] = "export stream truncated",
	[DSN_ERR_STREAM_MAGIC] =
		"export stream magic mismatch: not a dynsnap export stream",
	[DSN_ERR_STREAM_VERSION] = "unsupported export stream version",
	[DSN_ERR_STREAM_CSUM] = "export stream header checksum mismatch",
	[DSN_ERR_STREAM_RESERVED] =
		"export stream has unknown flags or reserved bits",
	[DSN_ERR_STREAM_GEOMETRY] =
		"export stream has an invalid block size or volume length",
	[DSN_ERR_STREAM_IDENTITY] =
		"export stream has no store identity (zero UUID)",
	[DSN_ERR_STREAM_SNAP] =
		"export stream names an invalid snapshot, or its base is not older than its snapshot",
	[DSN_ERR_STREAM_ITEM] =
		"export stream damaged: no extent or trailer where one must start",
	[DSN_ERR_STREAM_EXTENT_CSUM] =
		"export stream extent header checksum mismatch",
	[DSN_ERR_STREAM_OTHER] =
		"export stream extent or trailer belongs to another stream",
	[DSN_ERR_STREAM_ORDER] =
		"export stream extents are missing, repeated, out of order or overlapping",
	[DSN_ERR_STREAM_RANGE] =
		"export stream extent is empty, longer than 4 MiB or outside the volume",
	[DSN_ERR_STREAM_DATA_CSUM] = "export stream extent data checksum mismatch",
	[DSN_ERR_STREAM_TRAILER_CSUM] = "export stream trailer checksum mismatch",
	[DSN_ERR_STREAM_TRAILER] =
		"export stream trailer does not match its extents (count, bytes or running checksum)",
	[DSN_ERR_STREAM_TRAILING] = "export stream has bytes after its trailer",
	[DSN_ERR_STREAM_TARGET] =
		"apply target size differs from the stream's volume length",
	[DSN_ERR_LOG_SEGMENT] =
		"sector names no segment of the tier's delta area",
	[DSN_ERR_LOG_EMPTY] =
		"no delta log starts in the first segment: the log is empty",
	[DSN_ERR_LOG_HEAD] =
		"segment is not the log head the checkpoint names",
	[DSN_ERR_LOG_GAP] =
		"delta log records are missing before the next segment",
	[DSN_ERR_LOG_PASSED] =
		"next segment goes on from a record the log already passed",
	[DSN_ERR_REPLAY_CTL_TIER] =
		"control record in the slow tier's log, where none belong",
	[DSN_ERR_REPLAY_SNAP_EPOCH] =
		"snapshot record does not open the epoch after the log's",
	[DSN_ERR_REPLAY_SNAP_ID] =
		"snapshot record reuses a snapshot id or has none to follow it",
	[DSN_ERR_REPLAY_REGIONS] =
		"granularity record names regions beyond the store",
	[DSN_ERR_REPLAY_EPOCH] =
		"delta record undoes a write of epoch zero or beyond the log's",
	[DSN_ERR_CKPT_REGIONS] =
		"checkpoint names another number of regions than the store has",
	[DSN_ERR_CKPT_SLOW] =
		"checkpoint and store disagree on whether there is a slow tier",
	[DSN_ERR_LEVEL_NAME] =
		"unknown granularity level: expected block, sub or bit",
	[DSN_ERR_REC_IN_FLIGHT] =
		"delta record says more records were in flight than precede it",
	[DSN_ERR_LOG_DAMAGED] =
		"delta log goes on past a record that cannot be read: records are lost",
	[DSN_ERR_REC_PAYLOAD_CSUM] = "delta record payload checksum mismatch",
};

const char *dynsnap_strerror(enum dynsnap_err err)
{
	if ((unsigned int)err >= DSN_ERR__COUNT || !dynsnap_messages[err])
		return "unknown error";
	return dynsnap_messages[err];
}


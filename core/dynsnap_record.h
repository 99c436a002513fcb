/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dynsnap delta records: the self-describing unit of the delta store.
 *
 * A record is a 64-byte header followed by stored_length bytes of payload.
 * The payload is the undo data for [location, location + length) of the
 * volume, at the record's level:
 *
 *   block, sub-block: the old bytes, verbatim (length bytes);
 *   bit:              a sparse undo delta (the old bytes a write changes), see
 *                     dynsnap_undo.h.
 *
 * after the codec named in the header (compression, then encryption) has
 * been undone. Two crc32c checksums guard it: one over the header (after
 * its checksum field), one over the stored payload, kept in the header.
 * A record whose header verifies but whose payload does not is damaged in
 * a known place: its location and epoch can be trusted, and reads that
 * need it fail. A header that does not verify is damaged beyond reading:
 * nothing in it can be trusted. Both checksums start from a seed derived
 * from the store's UUID (dynsnap_record_seed()), so a record verifies only
 * as one of its own store: an earlier store's records left on a device are
 * never taken for this one's, and a replay can look past damage for
 * records of its log.
 *
 * in_flight tells how far a record's batch was written ahead of what was
 * durable: every record of the log with a sequence below
 * dynsnap_record_durable_below() was durable before the record's batch was
 * written. A record found past a log's end that says so proves the records
 * up to it were acknowledged, so the end is damage, not a torn write.
 *
 * Control records (DYNSNAP_REC_FLAG_CONTROL) share the header and the log
 * with delta records and journal snapshot operations instead: level holds
 * the control type, location, length and codec are zero, and the payload is
 * the fixed-size body of that type (dynsnap_control.h).
 *
 * Pure functions on caller-owned buffers; callable from any context.
 */
#ifndef DYNSNAP_RECORD_H
#define DYNSNAP_RECORD_H

#include "dynsnap_format.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DYNSNAP_REC_MAGIC		0x524e5344U	/* "DSNR" */
#define DYNSNAP_REC_VERSION		2U
#define DYNSNAP_REC_HEADER_SIZE		64U
#define DYNSNAP_REC_CSUM_XOR		0x5d1c0b6fU
#define DYNSNAP_REC_NONCE_SIZE		12U
#define DYNSNAP_REC_TAG_SIZE		16U	/* AES-GCM authentication tag */
/* Largest stretch of volume one record covers: one maximal block. */
#define DYNSNAP_REC_MAX_LENGTH		(DYNSNAP_MAX_BLOCK_SECTORS << DYNSNAP_SECTOR_SHIFT)
/*
 * Bound on any payload: a sparse undo delta of a maximal block never needs
 * more than its length + 12 bytes (see dynsnap_undo.h), plus a tag.
 */
#define DYNSNAP_REC_MAX_STORED		(DYNSNAP_REC_MAX_LENGTH + 64)

enum dynsnap_level {
	DYNSNAP_LEVEL_BLOCK = 0,
	DYNSNAP_LEVEL_SUB = 1,
	DYNSNAP_LEVEL_BIT = 2,
	DYNSNAP_LEVEL__COUNT
};

/* Header flags; a record has none (delta) or exactly CONTROL. */
#define DYNSNAP_REC_FLAG_CONTROL	0x1U

/* What a control record journals; its level byte. */
enum dynsnap_control_type {
	DYNSNAP_CTL_SNAP_CREATE = 1,
	DYNSNAP_CTL_SNAP_DELETE = 2,
	DYNSNAP_CTL_GRANULARITY = 3,
	DYNSNAP_CTL__COUNT
};

/* Codec byte: compression in the low nibble, encryption in the high one. */
#define DYNSNAP_CODEC_COMP_MASK		0x0fU
#define DYNSNAP_CODEC_COMP_NONE		0x00U
#define DYNSNAP_CODEC_COMP_LZ4		0x01U
#define DYNSNAP_CODEC_COMP_ZSTD		0x02U
#define DYNSNAP_CODEC_CRYPT_MASK	0xf0U
#define DYNSNAP_CODEC_CRYPT_NONE	0x00U
#define DYNSNAP_CODEC_CRYPT_AES_GCM	0x10U

/*
 * Most records a batch can hold, and so in_flight with one batch in
 * flight; it must stay below 2^16 however many batches are in flight.
 */
#define DYNSNAP_REC_MAX_IN_FLIGHT	0xffffU

/* On-disk header; pins offsets and size, serialised field by field. */
struct dynsnap_disk_record_header {
	__le32 csum;		/* crc32c(header[4..64)) ^ XOR */
	__le32 magic;
	__le16 version;
	__u8 level;		/* enum dynsnap_level, or dynsnap_control_type */
	__u8 codec;		/* DYNSNAP_CODEC_* */
	__le16 flags;		/* 0 or DYNSNAP_REC_FLAG_CONTROL */
	__le16 in_flight;	/* records not durable when written: <= seq */
	__le64 sequence;	/* per tier log, one more than the record before */
	__le64 epoch;		/* the epoch whose first overwrite this undoes */
	__le64 location;	/* first volume sector covered */
	__le32 length;		/* volume bytes covered, a multiple of 512 */
	__le32 stored_length;	/* payload bytes that follow the header */
	__u8 nonce[12];		/* AES-GCM nonce; zero when not encrypted */
	__le32 payload_csum;	/* crc32c(stored payload) ^ XOR */
} __packed;

struct dynsnap_record_header {
	u32 magic;
	u32 version;
	u32 level;
	u32 codec;
	u32 flags;
	u64 sequence;
	u64 epoch;
	u64 location;
	u32 length;
	u32 stored_length;
	u8 nonce[DYNSNAP_REC_NONCE_SIZE];
	u32 in_flight;
};

/*
 * The checksum seed of the records in the log of @tier (enum dynsnap_tier)
 * of the store @uuid: crc32c of the UUID, then of the tier's number as one
 * byte. A copy of one tier's records never verifies in the other's log.
 */
u32 dynsnap_record_seed(const u8 uuid[DYNSNAP_UUID_SIZE], u32 tier);

/*
 * Every record of the log below this sequence was durable before @h's
 * batch was written.
 */
static inline u64 dynsnap_record_durable_below(const struct dynsnap_record_header *h)
{
	return h->sequence - h->in_flight;
}

/* Fill a header for a new record; payload length and codec set later. */
void dynsnap_record_init(struct dynsnap_record_header *h,
			 enum dynsnap_level level, u64 sequence, u64 epoch,
			 u64 location, u32 length);

/*
 * Fill a header for a control record of @type whose payload is
 * @payload_len bytes (dynsnap_ctl_payload_size(@type)).
 */
void dynsnap_record_init_control(struct dynsnap_record_header *h,
				 enum dynsnap_control_type type, u64 sequence,
				 u64 epoch, u32 payload_len);

static inline bool dynsnap_record_is_control(const struct dynsnap_record_header *h)
{
	return h->flags & DYNSNAP_REC_FLAG_CONTROL;
}

/*
 * Serialise @h into @buf (DYNSNAP_REC_HEADER_SIZE bytes) and set the
 * checksums, from the store's @seed, of the header and of @payload
 * (h->stored_length bytes), which the caller places right after the header
 * or anywhere else.
 */
void dynsnap_record_encode(const struct dynsnap_record_header *h, u8 *buf,
			   const u8 *payload, u32 seed);

/*
 * Decode and validate the header at @buf (@len bytes available). Checks
 * magic, version, level, codec, flags, in_flight and ranges; for a
 * control record its type, that it covers no volume data and is not coded,
 * and that its payload has the type's size. Does not check the checksum,
 * which needs the payload: see dynsnap_record_verify(). Returns DSN_OK, a
 * DSN_ERR_REC_* code or DSN_ERR_CTL_TYPE.
 */
enum dynsnap_err dynsnap_record_decode_header(const u8 *buf, size_t len,
					      struct dynsnap_record_header *h);

/*
 * Verify the header checksum of an encoded header @buf as one of the store
 * of @seed: DSN_OK, or DSN_ERR_REC_CSUM (damaged, or another store's).
 */
enum dynsnap_err dynsnap_record_verify_header(const u8 *buf, u32 seed);

/*
 * Verify both checksums of an encoded header @buf and its payload (whose
 * length the header gives) as a record of the store of @seed: DSN_OK,
 * DSN_ERR_REC_CSUM (the header) or DSN_ERR_REC_PAYLOAD_CSUM.
 */
enum dynsnap_err dynsnap_record_verify(const u8 *buf, const u8 *payload,
				       u32 stored_length, u32 seed);

/*
 * Decode a whole record of the store of @seed laid out contiguously in
 * @buf (@len bytes): header, then payload. On success *@payload points into
 * @buf. The one validator every reader of the delta store goes through; a
 * raw bit-level payload is validated as a sparse undo delta too, and a
 * control payload as its type.
 */
enum dynsnap_err dynsnap_record_decode(const u8 *buf, size_t len, u32 seed,
				       struct dynsnap_record_header *h,
				       const u8 **payload);

/*
 * Does the record fit the store's geometry: inside the volume, inside one
 * block, a whole aligned block for block level, whole aligned sub-blocks
 * for sub-block level? A control record covers no volume data: it fits
 * when its header is a valid control header.
 */
enum dynsnap_err dynsnap_record_check_geometry(const struct dynsnap_record_header *h,
					       const struct dynsnap_geometry *g,
					       u64 volume_sectors);

/* Bytes a record occupies: header plus payload. */
static inline u32 dynsnap_record_size(const struct dynsnap_record_header *h)
{
	return DYNSNAP_REC_HEADER_SIZE + h->stored_length;
}

#ifdef __cplusplus
}
#endif

#endif /* DYNSNAP_RECORD_H */

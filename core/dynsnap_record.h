/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dynsnap delta records: the self-describing unit of the delta store.
 *
 * A record is a 64-byte header followed by stored_length bytes of payload.
 * The payload is the undo data for [location, location + length) of the
 * volume, at the record's level:
 *
 *   block, sub-block: the old bytes, verbatim (length bytes);
 *   bit:              a sparse XOR delta (old ^ new), see dynsnap_xor.h.
 *
 * after the codec named in the header (compression, then encryption) has
 * been undone. A crc32c covers the header after its checksum field and the
 * stored payload, so any damaged byte is caught before a payload is used.
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
#define DYNSNAP_REC_VERSION		1U
#define DYNSNAP_REC_HEADER_SIZE		64U
#define DYNSNAP_REC_CSUM_XOR		0x5d1c0b6fU
#define DYNSNAP_REC_NONCE_SIZE		12U
#define DYNSNAP_REC_TAG_SIZE		16U	/* AES-GCM authentication tag */
/* Largest stretch of volume one record covers: one maximal block. */
#define DYNSNAP_REC_MAX_LENGTH		(DYNSNAP_MAX_BLOCK_SECTORS << DYNSNAP_SECTOR_SHIFT)
/*
 * Bound on any payload: a sparse XOR delta of a maximal block never needs
 * more than its length + 12 bytes (see dynsnap_xor.h), plus a tag.
 */
#define DYNSNAP_REC_MAX_STORED		(DYNSNAP_REC_MAX_LENGTH + 64)

enum dynsnap_level {
	DYNSNAP_LEVEL_BLOCK = 0,
	DYNSNAP_LEVEL_SUB = 1,
	DYNSNAP_LEVEL_BIT = 2,
	DYNSNAP_LEVEL__COUNT
};

/* Codec byte: compression in the low nibble, encryption in the high one. */
#define DYNSNAP_CODEC_COMP_MASK		0x0fU
#define DYNSNAP_CODEC_COMP_NONE		0x00U
#define DYNSNAP_CODEC_COMP_LZ4		0x01U
#define DYNSNAP_CODEC_COMP_ZSTD		0x02U
#define DYNSNAP_CODEC_CRYPT_MASK	0xf0U
#define DYNSNAP_CODEC_CRYPT_NONE	0x00U
#define DYNSNAP_CODEC_CRYPT_AES_GCM	0x10U

/* On-disk header; pins offsets and size, serialised field by field. */
struct dynsnap_disk_record_header {
	__le32 csum;		/* crc32c(header[4..64) + payload) ^ XOR */
	__le32 magic;
	__le16 version;
	__u8 level;		/* enum dynsnap_level */
	__u8 codec;		/* DYNSNAP_CODEC_* */
	__le32 flags;		/* none defined: must be zero */
	__le64 sequence;	/* store-wide, strictly increasing */
	__le64 epoch;		/* the epoch whose first overwrite this undoes */
	__le64 location;	/* first volume sector covered */
	__le32 length;		/* volume bytes covered, a multiple of 512 */
	__le32 stored_length;	/* payload bytes that follow the header */
	__u8 nonce[12];		/* AES-GCM nonce; zero when not encrypted */
	__le32 reserved;	/* must be zero */
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
};

/* Fill a header for a new record; payload length and codec set later. */
void dynsnap_record_init(struct dynsnap_record_header *h,
			 enum dynsnap_level level, u64 sequence, u64 epoch,
			 u64 location, u32 length);

/*
 * Serialise @h into @buf (DYNSNAP_REC_HEADER_SIZE bytes) and set the
 * checksum over the header and @payload (h->stored_length bytes), which the
 * caller places right after the header or anywhere else.
 */
void dynsnap_record_encode(const struct dynsnap_record_header *h, u8 *buf,
			   const u8 *payload);

/*
 * Decode and validate the header at @buf (@len bytes available). Checks
 * magic, version, level, codec, flags, reserved fields and ranges. Does
 * not check the checksum, which needs the payload: see
 * dynsnap_record_verify(). Returns DSN_OK or a DSN_ERR_REC_* code.
 */
enum dynsnap_err dynsnap_record_decode_header(const u8 *buf, size_t len,
					      struct dynsnap_record_header *h);

/*
 * Verify the checksum of an encoded header @buf and its payload (whose
 * length the header gives). Returns DSN_OK or DSN_ERR_REC_CSUM.
 */
enum dynsnap_err dynsnap_record_verify(const u8 *buf, const u8 *payload,
				       u32 stored_length);

/*
 * Decode a whole record laid out contiguously in @buf (@len bytes): header,
 * then payload. On success *@payload points into @buf. The one validator
 * every reader of the delta store goes through; a raw bit-level payload is
 * validated as a sparse XOR delta too.
 */
enum dynsnap_err dynsnap_record_decode(const u8 *buf, size_t len,
				       struct dynsnap_record_header *h,
				       const u8 **payload);

/*
 * Does the record fit the store's geometry: inside the volume, inside one
 * block, a whole aligned block for block level, whole aligned sub-blocks
 * for sub-block level?
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

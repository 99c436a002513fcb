// SPDX-License-Identifier: GPL-2.0
/*
 * dynsnap delta record header: encode, decode, checksum, and the one
 * validator every reader of the delta store goes through.
 */
#include "dynsnap_record.h"
#include "dynsnap_control.h"
#include "dynsnap_undo.h"

#define REC_OFF(field) offsetof(struct dynsnap_disk_record_header, field)

static_assert(REC_OFF(csum) == 0, "csum offset");
static_assert(REC_OFF(magic) == 4, "magic offset");
static_assert(REC_OFF(version) == 8, "version offset");
static_assert(REC_OFF(level) == 10, "level offset");
static_assert(REC_OFF(codec) == 11, "codec offset");
static_assert(REC_OFF(flags) == 12, "flags offset");
static_assert(REC_OFF(in_flight) == 14, "in_flight offset");
static_assert(REC_OFF(sequence) == 16, "sequence offset");
static_assert(REC_OFF(epoch) == 24, "epoch offset");
static_assert(REC_OFF(location) == 32, "location offset");
static_assert(REC_OFF(length) == 40, "length offset");
static_assert(REC_OFF(stored_length) == 44, "stored_length offset");
static_assert(REC_OFF(nonce) == 48, "nonce offset");
static_assert(REC_OFF(payload_csum) == 60, "payload_csum offset");
static_assert(sizeof(struct dynsnap_disk_record_header) ==
	      DYNSNAP_REC_HEADER_SIZE, "record header size");
static_assert(DYNSNAP_XOR_MAX_ENCODED(DYNSNAP_REC_MAX_LENGTH) +
	      DYNSNAP_REC_TAG_SIZE <= DYNSNAP_REC_MAX_STORED,
	      "largest payload fits");

void dynsnap_record_init(struct dynsnap_record_header *h,
			 enum dynsnap_level level, u64 sequence, u64 epoch,
			 u64 location, u32 length)
{
	memset(h, 0, sizeof(*h));
	h->magic = DYNSNAP_REC_MAGIC;
	h->version = DYNSNAP_REC_VERSION;
	h->level = level;
	h->sequence = sequence;
	h->epoch = epoch;
	h->location = location;
	h->length = length;
}

void dynsnap_record_init_control(struct dynsnap_record_header *h,
				 enum dynsnap_control_type type, u64 sequence,
				 u64 epoch, u32 payload_len)
{
	memset(h, 0, sizeof(*h));
	h->magic = DYNSNAP_REC_MAGIC;
	h->version = DYNSNAP_REC_VERSION;
	h->level = type;
	h->flags = DYNSNAP_REC_FLAG_CONTROL;
	h->sequence = sequence;
	h->epoch = epoch;
	h->stored_length = payload_len;
}

u32 dynsnap_record_seed(const u8 uuid[DYNSNAP_UUID_SIZE], u32 tier)
{
	u8 t = (u8)tier;

	return dsn_crc32c(dsn_crc32c(~0U, uuid, DYNSNAP_UUID_SIZE), &t, 1);
}

static u32 header_checksum(const u8 *buf, u32 seed)
{
	return dsn_crc32c(seed, buf + REC_OFF(magic),
			  DYNSNAP_REC_HEADER_SIZE - REC_OFF(magic)) ^
	       DYNSNAP_REC_CSUM_XOR;
}

static u32 payload_checksum(const u8 *payload, u32 stored_length, u32 seed)
{
	return dsn_crc32c(seed, payload, stored_length) ^ DYNSNAP_REC_CSUM_XOR;
}

void dynsnap_record_encode(const struct dynsnap_record_header *h, u8 *buf,
			   const u8 *payload, u32 seed)
{
	memset(buf, 0, DYNSNAP_REC_HEADER_SIZE);
	dsn_put_le32(buf + REC_OFF(magic), h->magic);
	dsn_put_le16(buf + REC_OFF(version), (u16)h->version);
	buf[REC_OFF(level)] = (u8)h->level;
	buf[REC_OFF(codec)] = (u8)h->codec;
	dsn_put_le16(buf + REC_OFF(flags), (u16)h->flags);
	dsn_put_le16(buf + REC_OFF(in_flight), (u16)h->in_flight);
	dsn_put_le64(buf + REC_OFF(sequence), h->sequence);
	dsn_put_le64(buf + REC_OFF(epoch), h->epoch);
	dsn_put_le64(buf + REC_OFF(location), h->location);
	dsn_put_le32(buf + REC_OFF(length), h->length);
	dsn_put_le32(buf + REC_OFF(stored_length), h->stored_length);
	memcpy(buf + REC_OFF(nonce), h->nonce, DYNSNAP_REC_NONCE_SIZE);
	dsn_put_le32(buf + REC_OFF(payload_csum),
		     payload_checksum(payload, h->stored_length, seed));
	dsn_put_le32(buf + REC_OFF(csum), header_checksum(buf, seed));
}

/* Largest payload the header's level, length and codec allow. */
static u32 max_stored(const struct dynsnap_record_header *h)
{
	u32 plain = h->level == DYNSNAP_LEVEL_BIT ?
		    DYNSNAP_XOR_MAX_ENCODED(h->length) : h->length;

	if ((h->codec & DYNSNAP_CODEC_CRYPT_MASK) != DYNSNAP_CODEC_CRYPT_NONE)
		plain += DYNSNAP_REC_TAG_SIZE;
	return plain;
}

static bool codec_known(u32 codec)
{
	u32 comp = codec & DYNSNAP_CODEC_COMP_MASK;
	u32 crypt = codec & DYNSNAP_CODEC_CRYPT_MASK;

	return (comp == DYNSNAP_CODEC_COMP_NONE ||
		comp == DYNSNAP_CODEC_COMP_LZ4 ||
		comp == DYNSNAP_CODEC_COMP_ZSTD) &&
	       (crypt == DYNSNAP_CODEC_CRYPT_NONE ||
		crypt == DYNSNAP_CODEC_CRYPT_AES_GCM);
}

/* Control records carry no volume data and are never compressed. */
static enum dynsnap_err check_control(const struct dynsnap_record_header *h)
{
	u32 size = dynsnap_ctl_payload_size(h->level);

	if (!size)
		return DSN_ERR_CTL_TYPE;
	if (h->location || h->length)
		return DSN_ERR_REC_LENGTH;
	if (h->codec)
		return DSN_ERR_REC_CODEC;
	if (h->stored_length != size)
		return DSN_ERR_REC_STORED_LENGTH;
	return DSN_OK;
}

static enum dynsnap_err check_delta(const struct dynsnap_record_header *h)
{
	if (h->level >= DYNSNAP_LEVEL__COUNT)
		return DSN_ERR_REC_LEVEL;
	if (!codec_known(h->codec))
		return DSN_ERR_REC_CODEC;
	if (!h->length || h->length > DYNSNAP_REC_MAX_LENGTH ||
	    h->length & (DYNSNAP_SECTOR_SIZE - 1) ||
	    h->location > ~0ULL - (h->length >> DYNSNAP_SECTOR_SHIFT))
		return DSN_ERR_REC_LENGTH;
	if (!h->stored_length || h->stored_length > max_stored(h))
		return DSN_ERR_REC_STORED_LENGTH;
	if ((h->codec & DYNSNAP_CODEC_CRYPT_MASK) != DYNSNAP_CODEC_CRYPT_NONE &&
	    h->stored_length <= DYNSNAP_REC_TAG_SIZE)
		return DSN_ERR_REC_STORED_LENGTH;
	/* Raw block and sub-block payloads are exactly the old bytes. */
	if ((h->codec & DYNSNAP_CODEC_COMP_MASK) == DYNSNAP_CODEC_COMP_NONE &&
	    h->level != DYNSNAP_LEVEL_BIT && h->stored_length != max_stored(h))
		return DSN_ERR_REC_STORED_LENGTH;
	return DSN_OK;
}

enum dynsnap_err dynsnap_record_decode_header(const u8 *buf, size_t len,
					      struct dynsnap_record_header *h)
{
	enum dynsnap_err e;

	if (!buf || len < DYNSNAP_REC_HEADER_SIZE)
		return DSN_ERR_REC_SHORT;

	memset(h, 0, sizeof(*h));
	h->magic = dsn_get_le32(buf + REC_OFF(magic));
	if (h->magic != DYNSNAP_REC_MAGIC)
		return DSN_ERR_REC_MAGIC;
	h->version = dsn_get_le16(buf + REC_OFF(version));
	if (h->version != DYNSNAP_REC_VERSION)
		return DSN_ERR_REC_VERSION;
	/* The flags say how to read the level byte, so they come first. */
	h->flags = dsn_get_le16(buf + REC_OFF(flags));
	if (h->flags & ~DYNSNAP_REC_FLAG_CONTROL)
		return DSN_ERR_REC_FLAGS;

	h->level = buf[REC_OFF(level)];
	h->codec = buf[REC_OFF(codec)];
	h->sequence = dsn_get_le64(buf + REC_OFF(sequence));
	h->epoch = dsn_get_le64(buf + REC_OFF(epoch));
	h->location = dsn_get_le64(buf + REC_OFF(location));
	h->length = dsn_get_le32(buf + REC_OFF(length));
	h->stored_length = dsn_get_le32(buf + REC_OFF(stored_length));
	h->in_flight = dsn_get_le16(buf + REC_OFF(in_flight));
	if (h->in_flight > h->sequence)
		return DSN_ERR_REC_IN_FLIGHT;
	e = dynsnap_record_is_control(h) ? check_control(h) : check_delta(h);
	if (e)
		return e;

	memcpy(h->nonce, buf + REC_OFF(nonce), DYNSNAP_REC_NONCE_SIZE);
	if ((h->codec & DYNSNAP_CODEC_CRYPT_MASK) == DYNSNAP_CODEC_CRYPT_NONE &&
	    !dynsnap_is_zeroed(h->nonce, DYNSNAP_REC_NONCE_SIZE))
		return DSN_ERR_REC_FLAGS;
	return DSN_OK;
}

enum dynsnap_err dynsnap_record_verify_header(const u8 *buf, u32 seed)
{
	if (dsn_get_le32(buf + REC_OFF(csum)) != header_checksum(buf, seed))
		return DSN_ERR_REC_CSUM;
	return DSN_OK;
}

enum dynsnap_err dynsnap_record_verify(const u8 *buf, const u8 *payload,
				       u32 stored_length, u32 seed)
{
	if (dynsnap_record_verify_header(buf, seed))
		return DSN_ERR_REC_CSUM;
	if (dsn_get_le32(buf + REC_OFF(payload_csum)) !=
	    payload_checksum(payload, stored_length, seed))
		return DSN_ERR_REC_PAYLOAD_CSUM;
	return DSN_OK;
}

enum dynsnap_err dynsnap_record_decode(const u8 *buf, size_t len, u32 seed,
				       struct dynsnap_record_header *h,
				       const u8 **payload)
{
	enum dynsnap_err e;

	e = dynsnap_record_decode_header(buf, len, h);
	if (e)
		return e;
	if (len - DYNSNAP_REC_HEADER_SIZE < h->stored_length)
		return DSN_ERR_REC_SHORT;
	e = dynsnap_record_verify(buf, buf + DYNSNAP_REC_HEADER_SIZE,
				  h->stored_length, seed);
	if (e)
		return e;
	/*
	 * Plain bit-level (sparse undo) and control payloads can be checked
	 * here; coded ones once decoded.
	 */
	if (dynsnap_record_is_control(h))
		e = dynsnap_ctl_validate(h->level, buf + DYNSNAP_REC_HEADER_SIZE,
					 h->stored_length);
	else if (h->level == DYNSNAP_LEVEL_BIT && !h->codec)
		e = dynsnap_undo_validate(buf + DYNSNAP_REC_HEADER_SIZE,
					  h->stored_length, h->length);
	if (e)
		return e;
	*payload = buf + DYNSNAP_REC_HEADER_SIZE;
	return DSN_OK;
}

enum dynsnap_err dynsnap_record_check_geometry(const struct dynsnap_record_header *h,
					       const struct dynsnap_geometry *g,
					       u64 volume_sectors)
{
	u64 sectors = h->length >> DYNSNAP_SECTOR_SHIFT;
	u64 block_mask = g->block_sectors - 1;

	if (dynsnap_record_is_control(h))
		return check_control(h);
	if (h->location >= volume_sectors ||
	    sectors > volume_sectors - h->location)
		return DSN_ERR_REC_LENGTH;
	/* Never across a block boundary. */
	if ((h->location & block_mask) + sectors > g->block_sectors)
		return DSN_ERR_REC_LENGTH;
	switch (h->level) {
	case DYNSNAP_LEVEL_BLOCK:
		if (h->location & block_mask || sectors != g->block_sectors)
			return DSN_ERR_REC_LENGTH;
		break;
	case DYNSNAP_LEVEL_SUB:
		if (h->location & (g->sub_block_sectors - 1) ||
		    sectors % g->sub_block_sectors)
			return DSN_ERR_REC_LENGTH;
		break;
	}
	return DSN_OK;
}

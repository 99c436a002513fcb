// SPDX-License-Identifier: GPL-2.0
/*
 * dynsnap delta logs: segment headers and the record scan used by replay.
 */
#include "dynsnap_log.h"

#define SEG_OFF(field) offsetof(struct dynsnap_disk_segment_header, field)

static_assert(SEG_OFF(magic) == 4, "magic offset");
static_assert(SEG_OFF(version) == 8, "version offset");
static_assert(SEG_OFF(tier) == 10, "tier offset");
static_assert(SEG_OFF(flags) == 12, "flags offset");
static_assert(SEG_OFF(segment_seq) == 16, "segment_seq offset");
static_assert(SEG_OFF(first_record_seq) == 24, "first_record_seq offset");
static_assert(SEG_OFF(uuid) == 32, "uuid offset");
static_assert(SEG_OFF(next_segment) == 48, "next_segment offset");
static_assert(SEG_OFF(reserved) == 56, "reserved offset");
static_assert(sizeof(struct dynsnap_disk_segment_header) ==
	      DYNSNAP_SEG_HEADER_USED, "segment header size");

static u32 seg_checksum(const u8 *buf)
{
	return dsn_crc32c(~0U, buf + SEG_OFF(magic),
			  DYNSNAP_SEG_HEADER_SIZE - SEG_OFF(magic)) ^
	       DYNSNAP_SEG_CSUM_XOR;
}

void dynsnap_segment_encode(const struct dynsnap_segment_header *h, u8 *buf)
{
	memset(buf, 0, DYNSNAP_SEG_HEADER_SIZE);
	dsn_put_le32(buf + SEG_OFF(magic), DYNSNAP_SEG_MAGIC);
	dsn_put_le16(buf + SEG_OFF(version), DYNSNAP_SEG_VERSION);
	dsn_put_le16(buf + SEG_OFF(tier), (u16)h->tier);
	dsn_put_le64(buf + SEG_OFF(segment_seq), h->segment_seq);
	dsn_put_le64(buf + SEG_OFF(first_record_seq), h->first_record_seq);
	memcpy(buf + SEG_OFF(uuid), h->uuid, DYNSNAP_UUID_SIZE);
	dsn_put_le64(buf + SEG_OFF(next_segment), h->next_segment);
	dsn_put_le32(buf + SEG_OFF(csum), seg_checksum(buf));
}

enum dynsnap_err dynsnap_segment_decode(const u8 *buf, size_t len,
					const u8 uuid[DYNSNAP_UUID_SIZE],
					struct dynsnap_segment_header *h)
{
	if (!buf || len < DYNSNAP_SEG_HEADER_SIZE)
		return DSN_ERR_SEG_SHORT;
	if (dsn_get_le32(buf + SEG_OFF(magic)) != DYNSNAP_SEG_MAGIC)
		return DSN_ERR_SEG_MAGIC;
	if (dsn_get_le32(buf + SEG_OFF(csum)) != seg_checksum(buf))
		return DSN_ERR_SEG_CSUM;
	if (dsn_get_le16(buf + SEG_OFF(version)) != DYNSNAP_SEG_VERSION)
		return DSN_ERR_SEG_VERSION;
	memset(h, 0, sizeof(*h));
	h->tier = dsn_get_le16(buf + SEG_OFF(tier));
	if (h->tier != DYNSNAP_TIER_FAST && h->tier != DYNSNAP_TIER_SLOW)
		return DSN_ERR_SEG_TIER;
	if (dsn_get_le32(buf + SEG_OFF(flags)) ||
	    !dynsnap_is_zeroed(buf + SEG_OFF(reserved),
			       DYNSNAP_SEG_HEADER_SIZE - SEG_OFF(reserved)))
		return DSN_ERR_SEG_RESERVED;
	memcpy(h->uuid, buf + SEG_OFF(uuid), DYNSNAP_UUID_SIZE);
	if (memcmp(h->uuid, uuid, DYNSNAP_UUID_SIZE))
		return DSN_ERR_SEG_OTHER_STORE;
	h->segment_seq = dsn_get_le64(buf + SEG_OFF(segment_seq));
	h->first_record_seq = dsn_get_le64(buf + SEG_OFF(first_record_seq));
	/*
	 * Sector 0 holds the superblock, so it is never a segment, and
	 * segments start on 4 KiB boundaries.
	 */
	h->next_segment = dsn_get_le64(buf + SEG_OFF(next_segment));
	if (!h->next_segment ||
	    h->next_segment & (DYNSNAP_SEG_HEADER_SIZE / DYNSNAP_SECTOR_SIZE - 1))
		return DSN_ERR_SEG_NEXT;
	return DSN_OK;
}

static bool record_at(const u8 *buf, size_t len, size_t pos, u32 seed,
		      u64 expected_seq, struct dynsnap_record_header *h,
		      const u8 **payload)
{
	return pos < len &&
	       dynsnap_record_decode(buf + pos, len - pos, seed, h, payload) ==
	       DSN_OK && h->sequence == expected_seq;
}

enum dynsnap_err dynsnap_log_next(const u8 *buf, size_t len, size_t *pos,
				  u32 seed, u64 expected_seq,
				  struct dynsnap_record_header *h,
				  const u8 **payload)
{
	size_t at = *pos, aligned = dynsnap_log_padded(*pos);

	if (!record_at(buf, len, at, seed, expected_seq, h, payload)) {
		/* Only a batch's zero padding may lie between records. */
		if (aligned == at || aligned > len ||
		    !dynsnap_is_zeroed(buf + at, aligned - at) ||
		    !record_at(buf, len, aligned, seed, expected_seq, h, payload))
			return DSN_ERR_LOG_END;
		at = aligned;
	}
	*pos = at + dynsnap_record_size(h);
	return DSN_OK;
}

enum dynsnap_err dynsnap_log_find(const u8 *buf, size_t len, size_t *pos,
				  u32 seed, struct dynsnap_record_header *h)
{
	const u8 *payload;
	size_t at;

	if (!buf)
		return DSN_ERR_LOG_END;
	for (at = *pos; at < len && len - at >= DYNSNAP_REC_HEADER_SIZE; at++) {
		/* The magic first: most offsets are rejected by one compare. */
		if (buf[at + 4] != (DYNSNAP_REC_MAGIC & 0xff) ||
		    dsn_get_le32(buf + at + 4) != DYNSNAP_REC_MAGIC)
			continue;
		if (dynsnap_record_decode(buf + at, len - at, seed, h,
					  &payload) == DSN_OK) {
			*pos = at;
			return DSN_OK;
		}
	}
	return DSN_ERR_LOG_END;
}

u32 dynsnap_log_nr_segments(u64 area_sectors)
{
	u64 n = area_sectors / DYNSNAP_SEG_SECTORS;

	return n > (u64)~0U ? ~0U : (u32)n;
}

enum dynsnap_err dynsnap_log_segment_of(u64 area_start, u32 nr_segments,
					u64 sector, u32 *seg)
{
	u64 rel;

	if (sector < area_start)
		return DSN_ERR_LOG_SEGMENT;
	rel = sector - area_start;
	if (rel % DYNSNAP_SEG_SECTORS)
		return DSN_ERR_LOG_SEGMENT;
	rel /= DYNSNAP_SEG_SECTORS;
	if (rel >= nr_segments)
		return DSN_ERR_LOG_SEGMENT;
	*seg = (u32)rel;
	return DSN_OK;
}

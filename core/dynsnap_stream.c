// SPDX-License-Identifier: GPL-2.0
/*
 * dynsnap export streams: header, extent and trailer encode, decode and
 * checksums, and the one validator of a stream in memory.
 */
#include "dynsnap_stream.h"

#define HDR_OFF(field) offsetof(struct dynsnap_disk_stream_header, field)
#define EXT_OFF(field) offsetof(struct dynsnap_disk_stream_extent, field)
#define END_OFF(field) offsetof(struct dynsnap_disk_stream_trailer, field)

/* The on-disk layout is a contract: pin it in both builds. */
static_assert(HDR_OFF(magic) == 0, "magic offset");
static_assert(HDR_OFF(csum) == 8, "csum offset");
static_assert(HDR_OFF(version) == 12, "version offset");
static_assert(HDR_OFF(flags) == 16, "flags offset");
static_assert(HDR_OFF(block_size) == 20, "block_size offset");
static_assert(HDR_OFF(volume_bytes) == 24, "volume_bytes offset");
static_assert(HDR_OFF(uuid) == 32, "uuid offset");
static_assert(HDR_OFF(from_id) == 48, "from_id offset");
static_assert(HDR_OFF(from_epoch) == 56, "from_epoch offset");
static_assert(HDR_OFF(from_ctime_ns) == 64, "from_ctime_ns offset");
static_assert(HDR_OFF(to_id) == 72, "to_id offset");
static_assert(HDR_OFF(to_epoch) == 80, "to_epoch offset");
static_assert(HDR_OFF(to_ctime_ns) == 88, "to_ctime_ns offset");
static_assert(HDR_OFF(created_ns) == 96, "created_ns offset");
static_assert(HDR_OFF(from_name_len) == 104, "from_name_len offset");
static_assert(HDR_OFF(to_name_len) == 105, "to_name_len offset");
static_assert(HDR_OFF(reserved0) == 106, "reserved0 offset");
static_assert(HDR_OFF(reserved1) == 108, "reserved1 offset");
static_assert(HDR_OFF(from_name) == 112, "from_name offset");
static_assert(HDR_OFF(to_name) == 176, "to_name offset");
static_assert(HDR_OFF(reserved) == 240, "reserved offset");
static_assert(sizeof(struct dynsnap_disk_stream_header) ==
	      DYNSNAP_STREAM_HEADER_SIZE, "stream header size");
static_assert(EXT_OFF(magic) == 4, "extent magic offset");
static_assert(EXT_OFF(index) == 8, "extent index offset");
static_assert(EXT_OFF(offset) == 16, "extent offset offset");
static_assert(EXT_OFF(length) == 24, "extent length offset");
static_assert(EXT_OFF(data_crc) == 28, "extent data_crc offset");
static_assert(EXT_OFF(tag) == 32, "extent tag offset");
static_assert(EXT_OFF(reserved) == 36, "extent reserved offset");
static_assert(sizeof(struct dynsnap_disk_stream_extent) ==
	      DYNSNAP_STREAM_ITEM_SIZE, "extent header size");
static_assert(END_OFF(magic) == 4, "trailer magic offset");
static_assert(END_OFF(extents) == 8, "trailer extents offset");
static_assert(END_OFF(data_bytes) == 16, "trailer data_bytes offset");
static_assert(END_OFF(running) == 24, "trailer running offset");
static_assert(END_OFF(tag) == 28, "trailer tag offset");
static_assert(END_OFF(reserved) == 32, "trailer reserved offset");
static_assert(sizeof(struct dynsnap_disk_stream_trailer) ==
	      DYNSNAP_STREAM_ITEM_SIZE, "trailer size");
static_assert(DYNSNAP_SNAP_NAME_MAX <= 255, "name length fits its byte");

static u32 header_checksum(const u8 *buf)
{
	return dsn_crc32c(~0U, buf + HDR_OFF(version),
			  DYNSNAP_STREAM_HEADER_SIZE - HDR_OFF(version)) ^
	       DYNSNAP_STREAM_CSUM_XOR;
}

/* Extent headers and the trailer: over everything after the checksum. */
static u32 item_checksum(const u8 *buf, u32 xor)
{
	return dsn_crc32c(~0U, buf + EXT_OFF(magic),
			  DYNSNAP_STREAM_ITEM_SIZE - EXT_OFF(magic)) ^ xor;
}

void dynsnap_stream_header_init(struct dynsnap_stream_header *h,
				const u8 uuid[DYNSNAP_UUID_SIZE],
				u64 volume_bytes, u32 block_size,
				const struct dynsnap_ctl_snap_create *from,
				const struct dynsnap_ctl_snap_create *to,
				u64 created_ns)
{
	memset(h, 0, sizeof(*h));
	h->version = DYNSNAP_STREAM_VERSION;
	h->block_size = block_size;
	h->volume_bytes = volume_bytes;
	memcpy(h->uuid, uuid, DYNSNAP_UUID_SIZE);
	h->from = *from;
	h->to = *to;
	h->created_ns = created_ns;
}

static void put_name(u8 *len_byte, u8 *dst,
		     const struct dynsnap_ctl_snap_create *s)
{
	u32 n = s->name_len < DYNSNAP_SNAP_NAME_MAX ?
		s->name_len : DYNSNAP_SNAP_NAME_MAX;

	*len_byte = (u8)n;
	memcpy(dst, s->name, n);
}

void dynsnap_stream_header_encode(const struct dynsnap_stream_header *h,
				  u8 *buf)
{
	memset(buf, 0, DYNSNAP_STREAM_HEADER_SIZE);
	dsn_put_le64(buf + HDR_OFF(magic), DYNSNAP_STREAM_MAGIC);
	dsn_put_le32(buf + HDR_OFF(version), h->version);
	dsn_put_le32(buf + HDR_OFF(flags), h->flags);
	dsn_put_le32(buf + HDR_OFF(block_size), h->block_size);
	dsn_put_le64(buf + HDR_OFF(volume_bytes), h->volume_bytes);
	memcpy(buf + HDR_OFF(uuid), h->uuid, DYNSNAP_UUID_SIZE);
	dsn_put_le64(buf + HDR_OFF(from_id), h->from.id);
	dsn_put_le64(buf + HDR_OFF(from_epoch), h->from.epoch);
	dsn_put_le64(buf + HDR_OFF(from_ctime_ns), h->from.ctime_ns);
	dsn_put_le64(buf + HDR_OFF(to_id), h->to.id);
	dsn_put_le64(buf + HDR_OFF(to_epoch), h->to.epoch);
	dsn_put_le64(buf + HDR_OFF(to_ctime_ns), h->to.ctime_ns);
	dsn_put_le64(buf + HDR_OFF(created_ns), h->created_ns);
	put_name(buf + HDR_OFF(from_name_len), buf + HDR_OFF(from_name),
		 &h->from);
	put_name(buf + HDR_OFF(to_name_len), buf + HDR_OFF(to_name), &h->to);
	dsn_put_le32(buf + HDR_OFF(csum), header_checksum(buf));
}

/*
 * A name: valid, and zero padded so each header has exactly one encoding.
 * DSN_ERR_STREAM_RESERVED for non-zero padding, else DSN_ERR_STREAM_SNAP.
 */
static enum dynsnap_err get_name(u8 len, const u8 *src,
				 struct dynsnap_ctl_snap_create *s)
{
	if (len > DYNSNAP_SNAP_NAME_MAX)
		return DSN_ERR_STREAM_SNAP;
	if (!dynsnap_is_zeroed(src + len, DYNSNAP_SNAP_NAME_MAX - len))
		return DSN_ERR_STREAM_RESERVED;
	if (!dynsnap_snap_name_valid((const char *)src, len))
		return DSN_ERR_STREAM_SNAP;
	s->name_len = len;
	memcpy(s->name, src, len);
	s->name[len] = '\0';
	return DSN_OK;
}

static enum dynsnap_err geometry_check(const struct dynsnap_stream_header *h)
{
	u32 min = DYNSNAP_MIN_BLOCK_SECTORS << DYNSNAP_SECTOR_SHIFT;
	u32 max = DYNSNAP_MAX_BLOCK_SECTORS << DYNSNAP_SECTOR_SHIFT;

	if (!dsn_is_power_of_2(h->block_size) || h->block_size < min ||
	    h->block_size > max)
		return DSN_ERR_STREAM_GEOMETRY;
	if (!h->volume_bytes || h->volume_bytes & (h->block_size - 1))
		return DSN_ERR_STREAM_GEOMETRY;
	return DSN_OK;
}

/* "from" is a snapshot taken before "to": ids and epochs both grow. */
static enum dynsnap_err snaps_check(const struct dynsnap_stream_header *h)
{
	if (!h->from.id || !h->from.epoch || !h->to.id || !h->to.epoch)
		return DSN_ERR_STREAM_SNAP;
	if (h->from.id >= h->to.id || h->from.epoch >= h->to.epoch)
		return DSN_ERR_STREAM_SNAP;
	return DSN_OK;
}

enum dynsnap_err dynsnap_stream_header_decode(const u8 *buf, size_t len,
					      struct dynsnap_stream_header *h)
{
	enum dynsnap_err err;

	if (!buf || len < DYNSNAP_STREAM_HEADER_SIZE)
		return DSN_ERR_STREAM_SHORT;
	if (dsn_get_le64(buf + HDR_OFF(magic)) != DYNSNAP_STREAM_MAGIC)
		return DSN_ERR_STREAM_MAGIC;
	memset(h, 0, sizeof(*h));
	h->version = dsn_get_le32(buf + HDR_OFF(version));
	if (h->version != DYNSNAP_STREAM_VERSION)
		return DSN_ERR_STREAM_VERSION;
	if (dsn_get_le32(buf + HDR_OFF(csum)) != header_checksum(buf))
		return DSN_ERR_STREAM_CSUM;

	h->flags = dsn_get_le32(buf + HDR_OFF(flags));
	if (h->flags || dsn_get_le16(buf + HDR_OFF(reserved0)) ||
	    dsn_get_le32(buf + HDR_OFF(reserved1)) ||
	    !dynsnap_is_zeroed(buf + HDR_OFF(reserved),
			       DYNSNAP_STREAM_HEADER_SIZE - HDR_OFF(reserved)))
		return DSN_ERR_STREAM_RESERVED;

	h->block_size = dsn_get_le32(buf + HDR_OFF(block_size));
	h->volume_bytes = dsn_get_le64(buf + HDR_OFF(volume_bytes));
	err = geometry_check(h);
	if (err)
		return err;

	memcpy(h->uuid, buf + HDR_OFF(uuid), DYNSNAP_UUID_SIZE);
	if (dynsnap_is_zeroed(h->uuid, DYNSNAP_UUID_SIZE))
		return DSN_ERR_STREAM_IDENTITY;

	h->from.id = dsn_get_le64(buf + HDR_OFF(from_id));
	h->from.epoch = dsn_get_le64(buf + HDR_OFF(from_epoch));
	h->from.ctime_ns = dsn_get_le64(buf + HDR_OFF(from_ctime_ns));
	h->to.id = dsn_get_le64(buf + HDR_OFF(to_id));
	h->to.epoch = dsn_get_le64(buf + HDR_OFF(to_epoch));
	h->to.ctime_ns = dsn_get_le64(buf + HDR_OFF(to_ctime_ns));
	h->created_ns = dsn_get_le64(buf + HDR_OFF(created_ns));
	err = get_name(buf[HDR_OFF(from_name_len)], buf + HDR_OFF(from_name),
		       &h->from);
	if (err)
		return err;
	err = get_name(buf[HDR_OFF(to_name_len)], buf + HDR_OFF(to_name),
		       &h->to);
	if (err)
		return err;
	return snaps_check(h);
}

void dynsnap_stream_cursor_init(struct dynsnap_stream_cursor *c,
				const u8 *header)
{
	memset(c, 0, sizeof(*c));
	c->volume_bytes = dsn_get_le64(header + HDR_OFF(volume_bytes));
	c->tag = dsn_get_le32(header + HDR_OFF(csum));
	c->running = dsn_crc32c(~0U, header, DYNSNAP_STREAM_HEADER_SIZE);
}

u32 dynsnap_stream_data_crc(const u8 *data, size_t len)
{
	return dsn_crc32c(~0U, data, len);
}

/* Is an extent acceptable as the next one? */
static enum dynsnap_err extent_check(const struct dynsnap_stream_cursor *c,
				     u64 offset, u32 length)
{
	if (!length || length > DYNSNAP_STREAM_MAX_EXTENT ||
	    offset >= c->volume_bytes || length > c->volume_bytes - offset)
		return DSN_ERR_STREAM_RANGE;
	if (offset < c->next_offset)
		return DSN_ERR_STREAM_ORDER;
	return DSN_OK;
}

static void cursor_advance(struct dynsnap_stream_cursor *c, const u8 *item,
			   u64 offset, u32 length)
{
	c->running = dsn_crc32c(c->running, item, DYNSNAP_STREAM_ITEM_SIZE);
	c->next_offset = offset + length;
	c->extents++;
	c->data_bytes += length;
}

enum dynsnap_err dynsnap_stream_extent_encode(struct dynsnap_stream_cursor *c,
					      u64 offset, u32 length,
					      u32 data_crc, u8 *buf)
{
	enum dynsnap_err err = extent_check(c, offset, length);

	if (err)
		return err;
	memset(buf, 0, DYNSNAP_STREAM_ITEM_SIZE);
	dsn_put_le32(buf + EXT_OFF(magic), DYNSNAP_STREAM_EXT_MAGIC);
	dsn_put_le64(buf + EXT_OFF(index), c->extents);
	dsn_put_le64(buf + EXT_OFF(offset), offset);
	dsn_put_le32(buf + EXT_OFF(length), length);
	dsn_put_le32(buf + EXT_OFF(data_crc), data_crc);
	dsn_put_le32(buf + EXT_OFF(tag), c->tag);
	dsn_put_le32(buf + EXT_OFF(csum),
		     item_checksum(buf, DYNSNAP_STREAM_EXT_CSUM_XOR));
	cursor_advance(c, buf, offset, length);
	return DSN_OK;
}

void dynsnap_stream_trailer_encode(const struct dynsnap_stream_cursor *c,
				   u8 *buf)
{
	memset(buf, 0, DYNSNAP_STREAM_ITEM_SIZE);
	dsn_put_le32(buf + END_OFF(magic), DYNSNAP_STREAM_END_MAGIC);
	dsn_put_le64(buf + END_OFF(extents), c->extents);
	dsn_put_le64(buf + END_OFF(data_bytes), c->data_bytes);
	dsn_put_le32(buf + END_OFF(running), c->running);
	dsn_put_le32(buf + END_OFF(tag), c->tag);
	dsn_put_le32(buf + END_OFF(csum),
		     item_checksum(buf, DYNSNAP_STREAM_END_CSUM_XOR));
}

bool dynsnap_stream_is_trailer(const u8 *buf, size_t len)
{
	return buf && len >= DYNSNAP_STREAM_ITEM_SIZE &&
	       dsn_get_le32(buf + END_OFF(magic)) == DYNSNAP_STREAM_END_MAGIC;
}

enum dynsnap_err dynsnap_stream_extent_decode(struct dynsnap_stream_cursor *c,
					      const u8 *buf, size_t len,
					      struct dynsnap_stream_extent *e)
{
	enum dynsnap_err err;

	if (!buf || len < DYNSNAP_STREAM_ITEM_SIZE)
		return DSN_ERR_STREAM_SHORT;
	if (dsn_get_le32(buf + EXT_OFF(magic)) != DYNSNAP_STREAM_EXT_MAGIC)
		return DSN_ERR_STREAM_ITEM;
	if (dsn_get_le32(buf + EXT_OFF(csum)) !=
	    item_checksum(buf, DYNSNAP_STREAM_EXT_CSUM_XOR))
		return DSN_ERR_STREAM_EXTENT_CSUM;
	if (dsn_get_le32(buf + EXT_OFF(reserved)))
		return DSN_ERR_STREAM_RESERVED;
	if (dsn_get_le32(buf + EXT_OFF(tag)) != c->tag)
		return DSN_ERR_STREAM_OTHER;

	memset(e, 0, sizeof(*e));
	e->index = dsn_get_le64(buf + EXT_OFF(index));
	e->offset = dsn_get_le64(buf + EXT_OFF(offset));
	e->length = dsn_get_le32(buf + EXT_OFF(length));
	e->data_crc = dsn_get_le32(buf + EXT_OFF(data_crc));
	if (e->index != c->extents)
		return DSN_ERR_STREAM_ORDER;
	err = extent_check(c, e->offset, e->length);
	if (err)
		return err;
	cursor_advance(c, buf, e->offset, e->length);
	return DSN_OK;
}

enum dynsnap_err dynsnap_stream_data_verify(const struct dynsnap_stream_extent *e,
					    const u8 *data)
{
	if (dynsnap_stream_data_crc(data, e->length) != e->data_crc)
		return DSN_ERR_STREAM_DATA_CSUM;
	return DSN_OK;
}

enum dynsnap_err dynsnap_stream_trailer_decode(const struct dynsnap_stream_cursor *c,
					       const u8 *buf, size_t len)
{
	if (!buf || len < DYNSNAP_STREAM_ITEM_SIZE)
		return DSN_ERR_STREAM_SHORT;
	if (dsn_get_le32(buf + END_OFF(magic)) != DYNSNAP_STREAM_END_MAGIC)
		return DSN_ERR_STREAM_ITEM;
	if (dsn_get_le32(buf + END_OFF(csum)) !=
	    item_checksum(buf, DYNSNAP_STREAM_END_CSUM_XOR))
		return DSN_ERR_STREAM_TRAILER_CSUM;
	if (dsn_get_le64(buf + END_OFF(reserved)))
		return DSN_ERR_STREAM_RESERVED;
	if (dsn_get_le32(buf + END_OFF(tag)) != c->tag)
		return DSN_ERR_STREAM_OTHER;
	if (dsn_get_le64(buf + END_OFF(extents)) != c->extents ||
	    dsn_get_le64(buf + END_OFF(data_bytes)) != c->data_bytes ||
	    dsn_get_le32(buf + END_OFF(running)) != c->running)
		return DSN_ERR_STREAM_TRAILER;
	return DSN_OK;
}

enum dynsnap_err dynsnap_stream_decode(const u8 *buf, size_t len,
				       struct dynsnap_stream_header *h,
				       struct dynsnap_stream_cursor *c)
{
	struct dynsnap_stream_extent e;
	enum dynsnap_err err;
	size_t pos;

	err = dynsnap_stream_header_decode(buf, len, h);
	if (err)
		return err;
	dynsnap_stream_cursor_init(c, buf);
	pos = DYNSNAP_STREAM_HEADER_SIZE;
	while (!dynsnap_stream_is_trailer(buf + pos, len - pos)) {
		err = dynsnap_stream_extent_decode(c, buf + pos, len - pos, &e);
		if (err)
			return err;
		pos += DYNSNAP_STREAM_ITEM_SIZE;
		if (len - pos < e.length)
			return DSN_ERR_STREAM_SHORT;
		err = dynsnap_stream_data_verify(&e, buf + pos);
		if (err)
			return err;
		pos += e.length;
	}
	err = dynsnap_stream_trailer_decode(c, buf + pos, len - pos);
	if (err)
		return err;
	if (len - pos != DYNSNAP_STREAM_ITEM_SIZE)
		return DSN_ERR_STREAM_TRAILING;
	return DSN_OK;
}

enum dynsnap_err dynsnap_stream_check_target(const struct dynsnap_stream_header *h,
					     u64 target_bytes)
{
	return target_bytes == h->volume_bytes ? DSN_OK : DSN_ERR_STREAM_TARGET;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for export stream decoding. Properties checked on every
 * input:
 *  - decoding never reads past the buffer and never crashes, whole and
 *    item by item, and the two ways agree;
 *  - a stream that decodes satisfies every rule the decoder promises
 *    (extents numbered, sorted, non-overlapping, inside the volume, at most
 *    DYNSNAP_STREAM_MAX_EXTENT long, trailer ending the buffer), and
 *    re-encoded from what was decoded gives back exactly the same bytes;
 *  - the same bytes with every checksum made to match reach the checks
 *    behind the checksums.
 */
#include <stdlib.h>

#include "dynsnap_stream.h"

#define MAX_LEN 65536U

static u8 again[MAX_LEN];
static u8 sealed[MAX_LEN];

/*
 * Item by item, as a reader of a file does. Returns what the whole-buffer
 * decoder must return, re-encoding into again[] (@len bytes at most) as it
 * goes.
 */
static enum dynsnap_err walk(const u8 *buf, size_t len)
{
	struct dynsnap_stream_cursor c, w;
	struct dynsnap_stream_header h;
	struct dynsnap_stream_extent e;
	enum dynsnap_err err;
	u64 prev_end = 0;
	size_t pos;

	err = dynsnap_stream_header_decode(buf, len, &h);
	if (err)
		return err;
	dynsnap_stream_header_encode(&h, again);
	if (memcmp(again, buf, DYNSNAP_STREAM_HEADER_SIZE))
		abort();
	dynsnap_stream_cursor_init(&c, buf);
	dynsnap_stream_cursor_init(&w, again);

	pos = DYNSNAP_STREAM_HEADER_SIZE;
	while (!dynsnap_stream_is_trailer(buf + pos, len - pos)) {
		err = dynsnap_stream_extent_decode(&c, buf + pos, len - pos, &e);
		if (err)
			return err;
		if (e.index != c.extents - 1 || !e.length ||
		    e.length > DYNSNAP_STREAM_MAX_EXTENT || e.offset < prev_end ||
		    e.offset + e.length > h.volume_bytes ||
		    e.offset + e.length < e.offset)
			abort();
		prev_end = e.offset + e.length;
		if (dynsnap_stream_extent_encode(&w, e.offset, e.length,
						 e.data_crc, again + pos))
			abort();
		if (memcmp(again + pos, buf + pos, DYNSNAP_STREAM_ITEM_SIZE))
			abort();
		pos += DYNSNAP_STREAM_ITEM_SIZE;
		if (len - pos < e.length)
			return DSN_ERR_STREAM_SHORT;
		err = dynsnap_stream_data_verify(&e, buf + pos);
		if (err)
			return err;
		pos += e.length;
	}
	err = dynsnap_stream_trailer_decode(&c, buf + pos, len - pos);
	if (err)
		return err;
	if (len - pos != DYNSNAP_STREAM_ITEM_SIZE)
		return DSN_ERR_STREAM_TRAILING;
	dynsnap_stream_trailer_encode(&w, again + pos);
	if (memcmp(again + pos, buf + pos, DYNSNAP_STREAM_ITEM_SIZE))
		abort();
	if (memcmp(&c, &w, sizeof(c)))
		abort();
	return DSN_OK;
}

static void check(const u8 *buf, size_t len)
{
	struct dynsnap_stream_header h;
	struct dynsnap_stream_cursor c;
	enum dynsnap_err e;

	e = dynsnap_stream_decode(buf, len, &h, &c);
	if ((unsigned int)e >= DSN_ERR__COUNT)
		abort();
	if (len <= sizeof(again) && walk(buf, len) != e)
		abort();
	if (e)
		return;
	if (dynsnap_stream_size(c.extents, c.data_bytes) != len ||
	    c.data_bytes > h.volume_bytes ||
	    dynsnap_stream_check_target(&h, h.volume_bytes) ||
	    !dynsnap_stream_check_target(&h, h.volume_bytes + 1))
		abort();
}

/*
 * Give every checksum of a stream the value its bytes call for, in stream
 * order, as far as the items can be followed.
 */
static void reseal(u8 *buf, size_t len)
{
	u32 tag, running, xor, n;
	size_t pos;

	if (len < DYNSNAP_STREAM_HEADER_SIZE)
		return;
	dsn_put_le32(buf + 8, dsn_crc32c(~0U, buf + 12,
					 DYNSNAP_STREAM_HEADER_SIZE - 12) ^
		     DYNSNAP_STREAM_CSUM_XOR);
	tag = dsn_get_le32(buf + 8);
	running = dsn_crc32c(~0U, buf, DYNSNAP_STREAM_HEADER_SIZE);
	pos = DYNSNAP_STREAM_HEADER_SIZE;
	while (len - pos >= DYNSNAP_STREAM_ITEM_SIZE) {
		u8 *p = buf + pos;

		if (dsn_get_le32(p + 4) == DYNSNAP_STREAM_END_MAGIC) {
			dsn_put_le32(p + 24, running);
			dsn_put_le32(p + 28, tag);
			xor = DYNSNAP_STREAM_END_CSUM_XOR;
			dsn_put_le32(p, dsn_crc32c(~0U, p + 4,
						   DYNSNAP_STREAM_ITEM_SIZE - 4) ^ xor);
			return;
		}
		n = dsn_get_le32(p + 24);
		dsn_put_le32(p + 32, tag);
		pos += DYNSNAP_STREAM_ITEM_SIZE;
		if (len - pos >= n)
			dsn_put_le32(p + 28, dsn_crc32c(~0U, buf + pos, n));
		xor = DYNSNAP_STREAM_EXT_CSUM_XOR;
		dsn_put_le32(p, dsn_crc32c(~0U, p + 4,
					   DYNSNAP_STREAM_ITEM_SIZE - 4) ^ xor);
		running = dsn_crc32c(running, p, DYNSNAP_STREAM_ITEM_SIZE);
		if (len - pos < n)
			return;
		pos += n;
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	check(data, size);

	if (size > sizeof(sealed))
		return 0;
	memcpy(sealed, data, size);
	reseal(sealed, size);
	check(sealed, size);
	return 0;
}

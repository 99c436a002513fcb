// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for delta and control record decoding, segment headers
 * and sparse XOR deltas. Properties checked on every input:
 *  - decoding never reads past the buffer and never crashes;
 *  - a record that decodes re-encodes to the same header bytes, also once
 *    its checksum is made to match, so the checks behind it are reached;
 *  - a control payload that decodes re-encodes to the same bytes, with a
 *    valid NUL-terminated name, and the record decoder agrees with it;
 *  - a segment header that decodes (as given, or resealed) re-encodes to
 *    the same 4 KiB and names a usable next segment;
 *  - a valid XOR delta, applied to zeroes and re-encoded, gives back exactly
 *    the same bytes (only canonical encodings are valid);
 *  - replaying the input as a delta log, damaged records kept as
 *    activation keeps them, moves forward, stays inside the buffer and
 *    yields strictly consecutive sequence numbers; a look past its end
 *    finds only records of the store that say the end was durable;
 *  - the replay's decision on each record it yields keeps the store's
 *    epoch and snapshot ids moving forward, and a damaged record's epoch
 *    is never past the store's or the newest.
 */
#include <stdlib.h>

#include "dynsnap_control.h"
#include "dynsnap_log.h"
#include "dynsnap_replay.h"
#include "dynsnap_record.h"
#include "dynsnap_xor.h"

#define MAX_LEN 65536U

/* Records of the input belong to this store. */
static const u8 fuzz_uuid[DYNSNAP_UUID_SIZE] = {
	0x64, 0x73, 0x6e, 0x66, 0x75, 0x7a, 0x7a, 0x01,
	0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
};
static u32 fuzz_seed;

/* Room for the longest record, which a resealed input can describe. */
static u8 data_buf[DYNSNAP_REC_MAX_LENGTH];
static u8 canon[DYNSNAP_XOR_MAX_ENCODED(DYNSNAP_REC_MAX_LENGTH)];
static u8 sealed[MAX_LEN + DYNSNAP_REC_HEADER_SIZE];
static u8 segment[DYNSNAP_SEG_HEADER_SIZE];

static void check_xor(const u8 *delta, size_t delta_len, u32 len)
{
	size_t n;

	if (dynsnap_xor_validate(delta, delta_len, len))
		return;
	if (dynsnap_xor_covered(delta) > len)
		abort();
	memset(data_buf, 0, len);
	if (dynsnap_xor_apply(data_buf, len, delta, delta_len))
		abort();
	n = dynsnap_xor_encode_diff(data_buf, len, canon, sizeof(canon));
	if (n != delta_len || memcmp(canon, delta, n))
		abort();
}

/* Decode @p as a control payload of @type; returns the decoder's verdict. */
static enum dynsnap_err check_control(u32 type, const u8 *p, size_t len)
{
	static u8 again[DYNSNAP_CTL_SNAP_CREATE_SIZE];
	struct dynsnap_ctl_snap_create create;
	struct dynsnap_ctl_snap_delete del;
	struct dynsnap_ctl_granularity gran;
	enum dynsnap_err e;

	switch (type) {
	case DYNSNAP_CTL_SNAP_CREATE:
		e = dynsnap_ctl_snap_create_decode(p, len, &create);
		if (e)
			break;
		if (!create.id || !create.epoch ||
		    strlen(create.name) != create.name_len ||
		    !dynsnap_snap_name_valid(create.name, create.name_len))
			abort();
		dynsnap_ctl_snap_create_encode(&create, again);
		break;
	case DYNSNAP_CTL_SNAP_DELETE:
		e = dynsnap_ctl_snap_delete_decode(p, len, &del);
		if (e)
			break;
		if (!del.id)
			abort();
		dynsnap_ctl_snap_delete_encode(&del, again);
		break;
	case DYNSNAP_CTL_GRANULARITY:
		e = dynsnap_ctl_granularity_decode(p, len, &gran);
		if (e)
			break;
		if (!gran.epoch || !gran.count ||
		    gran.first_region + gran.count < gran.first_region ||
		    gran.level >= DYNSNAP_LEVEL__COUNT)
			abort();
		dynsnap_ctl_granularity_encode(&gran, again);
		break;
	default:
		e = DSN_ERR_CTL_TYPE;
		if (dynsnap_ctl_payload_size(type))
			abort();
	}
	if (dynsnap_ctl_validate(type, p, len) != e)
		abort();
	if (!e && memcmp(again, p, dynsnap_ctl_payload_size(type)))
		abort();
	return e;
}

/* Everything a record that decodes must satisfy. */
static void check_record(const u8 *buf, size_t len)
{
	struct dynsnap_record_header h;
	u8 header[DYNSNAP_REC_HEADER_SIZE];
	const u8 *payload;

	if (dynsnap_record_decode(buf, len, fuzz_seed, &h, &payload))
		return;
	if (h.in_flight > h.sequence)
		abort();
	dynsnap_record_encode(&h, header, payload, fuzz_seed);
	if (memcmp(header, buf, sizeof(header)))
		abort();
	if (dynsnap_record_is_control(&h)) {
		if (h.location || h.length || h.codec ||
		    h.stored_length != dynsnap_ctl_payload_size(h.level) ||
		    check_control(h.level, payload, h.stored_length))
			abort();
	} else if (h.level == DYNSNAP_LEVEL_BIT && !h.codec) {
		check_xor(payload, h.stored_length, h.length);
	}
}

/* The same bytes with the checksum the header and payload call for. */
static void check_record_resealed(const u8 *data, size_t size)
{
	u32 stored, crc;

	if (size < DYNSNAP_REC_HEADER_SIZE || size > sizeof(sealed))
		return;
	memcpy(sealed, data, size);
	stored = dsn_get_le32(sealed + 44);
	if (stored > size - DYNSNAP_REC_HEADER_SIZE)
		return;
	crc = dsn_crc32c(fuzz_seed, sealed + DYNSNAP_REC_HEADER_SIZE, stored);
	dsn_put_le32(sealed + 60, crc ^ DYNSNAP_REC_CSUM_XOR);
	crc = dsn_crc32c(fuzz_seed, sealed + 4, DYNSNAP_REC_HEADER_SIZE - 4);
	dsn_put_le32(sealed, crc ^ DYNSNAP_REC_CSUM_XOR);
	check_record(sealed, size);
}

static void check_segment(const u8 *buf, size_t len)
{
	struct dynsnap_segment_header h;
	static u8 again[DYNSNAP_SEG_HEADER_SIZE];

	/* The store's identity is taken from the header itself. */
	if (len < DYNSNAP_SEG_HEADER_SIZE ||
	    dynsnap_segment_decode(buf, len, buf + 32, &h))
		return;
	if (!h.next_segment || h.next_segment % 8 ||
	    (h.tier != DYNSNAP_TIER_FAST && h.tier != DYNSNAP_TIER_SLOW))
		abort();
	dynsnap_segment_encode(&h, again);
	if (memcmp(again, buf, DYNSNAP_SEG_HEADER_SIZE))
		abort();
}

/* A segment header block from the input, zero padded, checksum fixed. */
static void check_segment_resealed(const u8 *data, size_t size)
{
	size_t n = size < sizeof(segment) ? size : sizeof(segment);

	memset(segment, 0, sizeof(segment));
	memcpy(segment, data, n);
	dsn_put_le32(segment, dsn_crc32c(~0U, segment + 4, sizeof(segment) - 4) ^
			      DYNSNAP_SEG_CSUM_XOR);
	check_segment(segment, sizeof(segment));
}

/* A record past the end that makes the log damaged says so. */
static void check_past_end(const u8 *data, size_t size, size_t end, u64 seq)
{
	struct dynsnap_record_header h, again;
	const u8 *payload;
	size_t pos = end;

	if (dynsnap_replay_past_end(data, size, &pos, fuzz_seed, seq, &h) ==
	    DSN_OK)
		return;
	if (pos < end || pos >= size ||
	    dynsnap_record_durable_below(&h) <= seq ||
	    dynsnap_record_decode(data + pos, size - pos, fuzz_seed, &again,
				  &payload) ||
	    again.sequence != h.sequence)
		abort();
}

/* What a replay keeps of the store, as the engine does. */
struct replay_state {
	u32 epoch, replay_epoch;
	u64 next_id;
};

static const struct dynsnap_geometry fuzz_geo = { 16, 8, 8192 };

/* False where activation refuses the log: the replay stops. */
static bool check_replay_decision(struct replay_state *st,
				  const struct dynsnap_record_header *h,
				  const u8 *payload, u32 tier)
{
	struct dynsnap_replay_ctl c;
	bool covered;
	u32 epoch;

	if (dynsnap_record_is_control(h)) {
		if (dynsnap_replay_control_seen(h, payload, tier, 0,
						&st->replay_epoch, &covered))
			return false;
		if (covered || tier != DYNSNAP_TIER_FAST)
			abort();
		if (dynsnap_replay_control(h, payload, st->epoch, st->next_id,
					   64, &c))
			return false;
		if (c.epoch < st->epoch || c.next_id < st->next_id ||
		    (c.type == DYNSNAP_CTL_SNAP_CREATE && c.epoch != st->epoch + 1) ||
		    (c.type == DYNSNAP_CTL_GRANULARITY &&
		     (u64)c.gran.first_region + c.gran.count > 64))
			abort();
		st->epoch = c.epoch;
		st->next_id = c.next_id;
		return true;
	}
	if (dynsnap_replay_delta(h, tier, &fuzz_geo, 1ULL << 40,
				 st->epoch, &st->replay_epoch, &epoch))
		return false;
	if (!epoch || (tier == DYNSNAP_TIER_FAST && epoch > st->epoch))
		abort();
	return true;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct dynsnap_record_header h;
	const u8 *payload;
	u32 len, type;

	fuzz_seed = dynsnap_record_seed(fuzz_uuid, DYNSNAP_TIER_FAST);
	check_record(data, size);
	check_record_resealed(data, size);

	/* The same bytes as a control payload of every type there is. */
	for (type = 0; type <= DYNSNAP_CTL__COUNT; type++)
		check_control(type, data, size);

	check_segment(data, size);
	check_segment_resealed(data, size);

	/* The same bytes as a log, starting from the first record's sequence. */
	if (size >= DYNSNAP_REC_HEADER_SIZE) {
		size_t pos = 0, before;
		u64 seq = dsn_get_le64(data + 16);
		struct replay_state st = { .epoch = 1, .next_id = 1 };

		for (;;) {
			before = pos;
			if (dynsnap_log_next(data, size, &pos, fuzz_seed, seq, &h, &payload)) {
				if (pos != before)
					abort();
				if (dynsnap_replay_skip_damaged(data, size, &pos, fuzz_seed,
								seq, &h))
					break;
				if (dynsnap_record_is_control(&h))
					abort();
				payload = NULL;
			}
			if (pos <= before || pos > size || h.sequence != seq)
				abort();
			if (!check_replay_decision(&st, &h, payload, (seq & 1) ?
						   DYNSNAP_TIER_FAST : DYNSNAP_TIER_SLOW))
				break;
			seq++;
		}
		check_past_end(data, size, pos, seq);
	}

	/* The same bytes as a bare XOR delta for a block of 512..64 KiB. */
	if (size >= 1) {
		len = 512U << (data[0] % 8);
		check_xor(data + 1, size - 1, len);
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the delta log as the replay reads it: a segment
 * header block, then its records walked with dynsnap_log_next() and, where
 * a record does not verify, dynsnap_replay_skip_damaged(), from the
 * sequence the header names. Properties checked on every input:
 *  - nothing reads past the buffer or crashes, with the store's identity
 *    taken from the header itself and from another store;
 *  - a header that decodes belongs to the store it was checked against,
 *    and encodes back to the same block;
 *  - the walk only moves forward, every record it returns lies inside the
 *    buffer and carries the next sequence number, and it ends;
 *  - a look past the end (and at the records as a log without a header)
 *    finds only records of the store that say the end was durable.
 * Records belong to the store whose UUID the header carries.
 */
#include <stdlib.h>
#include <string.h>

#include "dynsnap_log.h"
#include "dynsnap_replay.h"

static u8 again[DYNSNAP_SEG_HEADER_SIZE];

/* A record past the end that makes the log damaged is one and says so. */
static void check_found(const u8 *buf, size_t len, size_t from, size_t pos,
			u32 seed, u64 seq, const struct dynsnap_record_header *h)
{
	struct dynsnap_record_header again;
	const u8 *payload;

	if (pos < from || pos >= len || dynsnap_record_durable_below(h) <= seq ||
	    dynsnap_record_decode(buf + pos, len - pos, seed, &again, &payload) ||
	    again.sequence != h->sequence || again.in_flight != h->in_flight)
		abort();
}

static void walk(const u8 *buf, size_t len, u32 seed, u64 seq)
{
	struct dynsnap_record_header h;
	const u8 *payload;
	size_t pos = 0, before, at;
	unsigned int steps = 0;
	u64 highest;

	for (;;) {
		before = pos;
		if (dynsnap_log_next(buf, len, &pos, seed, seq, &h, &payload) == DSN_OK) {
			if (h.sequence != seq || pos <= before || pos > len ||
			    payload < buf || payload + h.stored_length > buf + len)
				abort();
		} else if (dynsnap_replay_skip_damaged(buf, len, &pos, seed, seq, &h) ==
			   DSN_OK) {
			if (h.sequence != seq || pos <= before || pos > len)
				abort();
		} else {
			break;
		}
		seq++;
		/* Each record takes at least its header: the walk ends. */
		if (++steps > len / DYNSNAP_REC_HEADER_SIZE + 1)
			abort();
	}
	at = pos;
	if (dynsnap_replay_past_end(buf, len, &at, seed, seq, &h) == DSN_ERR_LOG_DAMAGED)
		check_found(buf, len, pos, at, seed, seq, &h);
	if (dynsnap_replay_unheaded(buf, len, seed, &at, &h, &highest) == DSN_ERR_LOG_DAMAGED)
		check_found(buf, len, 0, at, seed, 0, &h);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct dynsnap_segment_header sh;
	u8 other[DYNSNAP_UUID_SIZE] = {0};
	enum dynsnap_err e;
	u32 tier;

	if (size < DYNSNAP_SEG_HEADER_SIZE) {
		if (dynsnap_segment_decode(data, size, other, &sh) == DSN_OK)
			abort();
		walk(data, size, dynsnap_record_seed(other, DYNSNAP_TIER_FAST), 1);
		return 0;
	}
	/* The UUID sits at byte 32 of the header. */
	for (tier = DYNSNAP_TIER_FAST; tier <= DYNSNAP_TIER_SLOW; tier++) {
		e = dynsnap_replay_segment(data, size, data + 32, tier, &sh);
		if ((unsigned int)e >= DSN_ERR__COUNT)
			abort();
		if (e == DSN_OK) {
			if (sh.tier != tier || memcmp(sh.uuid, data + 32, DYNSNAP_UUID_SIZE))
				abort();
			dynsnap_segment_encode(&sh, again);
			if (memcmp(again, data, DYNSNAP_SEG_HEADER_SIZE))
				abort();
			memcpy(other, data + 32, sizeof(other));
			other[0] ^= 1;
			if (dynsnap_replay_segment(data, size, other, tier, &sh) == DSN_OK)
				abort();
		}
	}
	e = dynsnap_segment_decode(data, size, data + 32, &sh);
	walk(data + DYNSNAP_SEG_HEADER_SIZE, size - DYNSNAP_SEG_HEADER_SIZE,
	     dynsnap_record_seed(data + 32, dsn_get_le16(data + 10)), e == DSN_OK ? sh.first_record_seq : 1);
	return 0;
}

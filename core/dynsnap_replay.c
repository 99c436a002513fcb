// SPDX-License-Identifier: GPL-2.0
/*
 * The rules of a replay: log heads and chains, damaged records, and what
 * each record does to the store.
 */
#include "dynsnap_replay.h"

#define U32_LIMIT	((u32)~0U)

enum dynsnap_err dynsnap_replay_segment(const u8 *buf, size_t len,
					const u8 uuid[DYNSNAP_UUID_SIZE],
					u32 tier,
					struct dynsnap_segment_header *sh)
{
	enum dynsnap_err err = dynsnap_segment_decode(buf, len, uuid, sh);

	if (err)
		return err;
	return sh->tier == tier ? DSN_OK : DSN_ERR_SEG_TIER;
}

enum dynsnap_err dynsnap_replay_head(const struct dynsnap_segment_header *sh,
				     u64 head_seq)
{
	if (head_seq)
		return sh && sh->segment_seq == head_seq ? DSN_OK :
		       DSN_ERR_LOG_HEAD;
	return sh && sh->segment_seq == DYNSNAP_LOG_FIRST_SEGMENT_SEQ ? DSN_OK :
	       DSN_ERR_LOG_EMPTY;
}

enum dynsnap_err dynsnap_replay_successor(const struct dynsnap_segment_header *cur,
					  const struct dynsnap_segment_header *next,
					  u64 seq)
{
	if (!next || next->segment_seq != cur->segment_seq + 1)
		return DSN_ERR_LOG_END;
	if (next->first_record_seq > seq)
		return DSN_ERR_LOG_GAP;
	if (next->first_record_seq < seq)
		return DSN_ERR_LOG_PASSED;
	return DSN_OK;
}

enum dynsnap_err dynsnap_replay_skip_damaged(const u8 *buf, size_t len,
					     size_t *pos, u32 seed, u64 seq,
					     struct dynsnap_record_header *h)
{
	struct dynsnap_record_header next;
	size_t at = *pos, end, np;
	const u8 *payload;

	if (!buf || at > len)
		return DSN_ERR_LOG_END;
	/* Zero padding may end a batch; the next one starts on a sector. */
	if (at == len ||
	    dynsnap_is_zeroed(buf + at, (len < dynsnap_log_padded(at) ?
					 len : dynsnap_log_padded(at)) - at))
		at = dynsnap_log_padded(at);

	/* Only the payload may be damaged: the header says what is lost. */
	if (at > len || len - at < DYNSNAP_REC_HEADER_SIZE ||
	    dynsnap_record_decode_header(buf + at, len - at, h) ||
	    dynsnap_record_verify_header(buf + at, seed) ||
	    h->sequence != seq || dynsnap_record_is_control(h))
		return DSN_ERR_LOG_END;
	end = at + dynsnap_record_size(h);
	np = end;
	if (end > len ||
	    dynsnap_log_next(buf, len, &np, seed, seq + 1, &next, &payload))
		return DSN_ERR_LOG_END;
	*pos = end;
	return DSN_OK;
}

enum dynsnap_err dynsnap_replay_past_end(const u8 *buf, size_t len,
					 size_t *pos, u32 seed, u64 end_seq,
					 struct dynsnap_record_header *h)
{
	size_t at = *pos;

	/*
	 * Records of a torn batch, or of an earlier use of the segment, were
	 * written while record @end_seq was not yet durable.
	 */
	while (!dynsnap_log_find(buf, len, &at, seed, h)) {
		if (dynsnap_record_durable_below(h) > end_seq) {
			*pos = at;
			return DSN_ERR_LOG_DAMAGED;
		}
		at++;
	}
	return DSN_OK;
}

enum dynsnap_err dynsnap_replay_reached(u64 end_seq, u64 durable_seq)
{
	return end_seq >= durable_seq ? DSN_OK : DSN_ERR_LOG_DAMAGED;
}

enum dynsnap_err dynsnap_replay_unheaded(const u8 *buf, size_t len, u32 seed,
					 size_t *pos,
					 struct dynsnap_record_header *h,
					 u64 *highest)
{
	u64 lowest = ~0ULL;
	size_t at = 0;

	*highest = 0;
	/* The records of the first batch the scan finds say the lowest. */
	while (!dynsnap_log_find(buf, len, &at, seed, h)) {
		if (dynsnap_record_durable_below(h) < lowest)
			lowest = dynsnap_record_durable_below(h);
		if (h->sequence > *highest)
			*highest = h->sequence;
		at++;
	}
	if (lowest == ~0ULL)
		return DSN_OK;
	*pos = 0;
	return dynsnap_replay_past_end(buf, len, pos, seed, lowest, h);
}

enum dynsnap_err dynsnap_replay_control_seen(const struct dynsnap_record_header *h,
					     const u8 *payload, u32 tier,
					     u64 control_seq, u32 *replay_epoch,
					     bool *covered)
{
	struct dynsnap_ctl_snap_create c;
	enum dynsnap_err err;

	*covered = false;
	if (!dynsnap_record_is_control(h))
		return DSN_ERR_CTL_TYPE;
	if (tier != DYNSNAP_TIER_FAST)
		return DSN_ERR_REPLAY_CTL_TIER;
	if (h->level == DYNSNAP_CTL_SNAP_CREATE) {
		err = dynsnap_ctl_snap_create_decode(payload, h->stored_length, &c);
		if (err)
			return err;
		if (c.epoch > U32_LIMIT)
			return DSN_ERR_REPLAY_SNAP_EPOCH;
		*replay_epoch = (u32)c.epoch;
	}
	*covered = h->sequence < control_seq;
	return DSN_OK;
}

enum dynsnap_err dynsnap_replay_control(const struct dynsnap_record_header *h,
					const u8 *payload, u32 epoch,
					u64 next_id, u64 nr_regions,
					struct dynsnap_replay_ctl *c)
{
	enum dynsnap_err err;

	memset(c, 0, sizeof(*c));
	c->type = h->level;
	c->epoch = epoch;
	c->next_id = next_id;
	if (!dynsnap_record_is_control(h))
		return DSN_ERR_CTL_TYPE;
	switch (h->level) {
	case DYNSNAP_CTL_SNAP_CREATE:
		err = dynsnap_ctl_snap_create_decode(payload, h->stored_length,
						     &c->create);
		if (err)
			return err;
		if (c->create.epoch != (u64)epoch + 1 ||
		    c->create.epoch > U32_LIMIT)
			return DSN_ERR_REPLAY_SNAP_EPOCH;
		/* The id after it must still be one: next_id is never 0. */
		if (c->create.id < next_id || c->create.id == ~0ULL)
			return DSN_ERR_REPLAY_SNAP_ID;
		c->epoch = (u32)c->create.epoch;
		c->next_id = c->create.id + 1;
		return DSN_OK;
	case DYNSNAP_CTL_SNAP_DELETE:
		return dynsnap_ctl_snap_delete_decode(payload, h->stored_length,
						      &c->del);
	case DYNSNAP_CTL_GRANULARITY:
		err = dynsnap_ctl_granularity_decode(payload, h->stored_length,
						     &c->gran);
		if (err)
			return err;
		if (c->gran.first_region >= nr_regions ||
		    c->gran.count > nr_regions - c->gran.first_region)
			return DSN_ERR_REPLAY_REGIONS;
		return DSN_OK;
	}
	return DSN_ERR_CTL_TYPE;
}

enum dynsnap_err dynsnap_replay_delta(const struct dynsnap_record_header *h,
				      u32 tier, const struct dynsnap_geometry *g,
				      u64 volume_sectors, u32 store_epoch,
				      u32 *replay_epoch, u32 *epoch)
{
	enum dynsnap_err err;

	if (dynsnap_record_is_control(h))
		return DSN_ERR_REC_FLAGS;
	err = dynsnap_record_check_geometry(h, g, volume_sectors);
	if (err)
		return err;
	if (!h->epoch || h->epoch > store_epoch)
		return DSN_ERR_REPLAY_EPOCH;
	*epoch = (u32)h->epoch;
	if (tier == DYNSNAP_TIER_FAST)
		*replay_epoch = *epoch;
	return DSN_OK;
}

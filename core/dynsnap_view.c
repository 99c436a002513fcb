// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot view reconstruction for one block.
 */
#include "dynsnap_view.h"
#include "dynsnap_undo.h"

static enum dynsnap_err check_delta(const struct dynsnap_delta_ref *d,
				    u32 block_bytes)
{
	if (d->level >= DYNSNAP_LEVEL__COUNT)
		return DSN_ERR_REC_LEVEL;
	if (!d->length || d->offset > block_bytes ||
	    d->length > block_bytes - d->offset)
		return DSN_ERR_VIEW_RANGE;
	if (d->level == DYNSNAP_LEVEL_BIT)
		return dynsnap_undo_validate(d->payload, d->payload_len,
					     d->length);
	if (!d->payload || d->payload_len != d->length)
		return DSN_ERR_REC_STORED_LENGTH;
	return DSN_OK;
}

enum dynsnap_err dynsnap_view_reconstruct(u8 *data, u32 block_bytes,
					  u64 snap_epoch,
					  const struct dynsnap_delta_ref *deltas,
					  u32 count)
{
	enum dynsnap_err e;
	u32 i;

	for (i = 0; i < count; i++) {
		if (i && deltas[i].epoch > deltas[i - 1].epoch)
			return DSN_ERR_VIEW_ORDER;
		e = check_delta(&deltas[i], block_bytes);
		if (e)
			return e;
	}

	for (i = 0; i < count && deltas[i].epoch >= snap_epoch; i++) {
		const struct dynsnap_delta_ref *d = &deltas[i];

		if (d->level == DYNSNAP_LEVEL_BIT)
			dynsnap_undo_apply(data + d->offset, d->length,
					   d->payload, d->payload_len);
		else
			memcpy(data + d->offset, d->payload, d->length);
	}
	return DSN_OK;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for checkpoint decoding. Properties checked on every
 * input:
 *  - decoding never reads past the buffer and never crashes, with and
 *    without a UUID to compare with;
 *  - a checkpoint that decodes satisfies every rule the decoder promises,
 *    and re-encoded from what was decoded (header, every entry through
 *    dynsnap_checkpoint_snap, the level maps) and sealed gives back exactly
 *    the same bytes;
 *  - the same bytes resealed reach the checks behind the checksum.
 */
#include <stdlib.h>

#include "dynsnap_checkpoint.h"

#define MAX_LEN 65536U

static u8 again[MAX_LEN];
static u8 sealed[MAX_LEN];

static bool level_valid(u8 level)
{
	return level < DYNSNAP_LEVEL__COUNT || level == DYNSNAP_LEVEL_DEFAULT;
}

/* Everything a checkpoint that decodes must satisfy. */
static void check_valid(const u8 *buf, size_t len,
			const struct dynsnap_checkpoint *c)
{
	struct dynsnap_ctl_snap_create s;
	u64 prev_id = 0, prev_epoch = 0;
	size_t total, lv, i;

	total = dynsnap_checkpoint_size(c->nr_snaps, c->nr_regions);
	if (!total || total > len || dsn_get_le32(buf + 40) != total)
		abort();
	if (!c->generation || !c->epoch || !c->nr_regions || !c->next_id ||
	    !c->fast_head_sector || c->fast_head_sector % 8 ||
	    !c->fast_head_seq || c->slow_head_sector % 8 ||
	    !c->slow_head_sector != !c->slow_head_seq)
		abort();
	if (dynsnap_checkpoint_is_blank(buf))
		abort();
	if (total > sizeof(again))
		return;

	memset(again, 0xa5, total);
	dynsnap_checkpoint_encode_header(c, again);
	for (i = 0; i < c->nr_snaps; i++) {
		dynsnap_checkpoint_snap(buf, i, &s);
		if (s.id <= prev_id || s.id >= c->next_id ||
		    s.epoch < 2 || s.epoch > c->epoch || s.epoch <= prev_epoch ||
		    strlen(s.name) != s.name_len ||
		    !dynsnap_snap_name_valid(s.name, s.name_len))
			abort();
		prev_id = s.id;
		prev_epoch = s.epoch;
		dynsnap_ctl_snap_create_encode(&s,
					       again + dynsnap_checkpoint_snap_offset(i));
	}
	lv = dynsnap_checkpoint_levels_offset(c->nr_snaps);
	if (lv + 2 * (size_t)c->nr_regions != total)
		abort();
	for (i = 0; i < 2 * (size_t)c->nr_regions; i++) {
		if (!level_valid(buf[lv + i]))
			abort();
		again[lv + i] = buf[lv + i];
	}
	dynsnap_checkpoint_seal(again);
	if (memcmp(again, buf, total))
		abort();
}

static bool same(const struct dynsnap_checkpoint *a,
		 const struct dynsnap_checkpoint *b)
{
	return !memcmp(a->uuid, b->uuid, DYNSNAP_UUID_SIZE) &&
	       a->generation == b->generation && a->epoch == b->epoch &&
	       a->nr_snaps == b->nr_snaps && a->nr_regions == b->nr_regions &&
	       a->next_id == b->next_id && a->control_seq == b->control_seq &&
	       a->fast_head_sector == b->fast_head_sector &&
	       a->fast_head_seq == b->fast_head_seq &&
	       a->slow_head_sector == b->slow_head_sector &&
	       a->slow_head_seq == b->slow_head_seq;
}

static void check(const u8 *buf, size_t len)
{
	struct dynsnap_checkpoint c, d;
	enum dynsnap_err e, f;

	e = dynsnap_checkpoint_decode(buf, len, NULL, &c);
	if ((unsigned int)e >= DSN_ERR__COUNT)
		abort();
	if (!e)
		check_valid(buf, len, &c);

	/* With the store's identity taken from the checkpoint itself... */
	if (len >= DYNSNAP_CKPT_HEADER_SIZE) {
		f = dynsnap_checkpoint_decode(buf, len, buf + 16, &d);
		if (f != e || (!e && !same(&c, &d)))
			abort();
	}
	/* ...and from another store. */
	if (!e) {
		u8 other[DYNSNAP_UUID_SIZE];

		memcpy(other, buf + 16, sizeof(other));
		other[0] ^= 1;
		if (dynsnap_checkpoint_decode(buf, len, other, &d) !=
		    DSN_ERR_CKPT_UUID)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	u32 total;

	check(data, size);

	/*
	 * The same bytes with the checksum the header calls for, when the
	 * length it claims lies inside the input.
	 */
	if (size < DYNSNAP_CKPT_HEADER_SIZE || size > sizeof(sealed))
		return 0;
	memcpy(sealed, data, size);
	total = dsn_get_le32(sealed + 40);
	if (total < DYNSNAP_CKPT_HEADER_SIZE || total > size)
		return 0;
	dynsnap_checkpoint_seal(sealed);
	check(sealed, size);
	return 0;
}

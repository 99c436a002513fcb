// SPDX-License-Identifier: GPL-2.0
/*
 * dynsnap checkpoints: header encode, checksum, and the one validator.
 */
#include "dynsnap_checkpoint.h"
#include "dynsnap_log.h"

#define CKPT_OFF(field) offsetof(struct dynsnap_disk_checkpoint_header, field)

/* The on-disk layout is a contract: pin it in both builds. */
static_assert(CKPT_OFF(magic) == 0, "magic offset");
static_assert(CKPT_OFF(csum) == 8, "csum offset");
static_assert(CKPT_OFF(version) == 12, "version offset");
static_assert(CKPT_OFF(uuid) == 16, "uuid offset");
static_assert(CKPT_OFF(generation) == 32, "generation offset");
static_assert(CKPT_OFF(total_len) == 40, "total_len offset");
static_assert(CKPT_OFF(flags) == 44, "flags offset");
static_assert(CKPT_OFF(epoch) == 48, "epoch offset");
static_assert(CKPT_OFF(nr_snaps) == 52, "nr_snaps offset");
static_assert(CKPT_OFF(nr_regions) == 56, "nr_regions offset");
static_assert(CKPT_OFF(reserved0) == 60, "reserved0 offset");
static_assert(CKPT_OFF(next_id) == 64, "next_id offset");
static_assert(CKPT_OFF(control_seq) == 72, "control_seq offset");
static_assert(CKPT_OFF(fast_head_sector) == 80, "fast_head_sector offset");
static_assert(CKPT_OFF(fast_head_seq) == 88, "fast_head_seq offset");
static_assert(CKPT_OFF(slow_head_sector) == 96, "slow_head_sector offset");
static_assert(CKPT_OFF(slow_head_seq) == 104, "slow_head_seq offset");
static_assert(CKPT_OFF(fast_end_seq) == 112, "fast_end_seq offset");
static_assert(CKPT_OFF(slow_end_seq) == 120, "slow_end_seq offset");
static_assert(sizeof(struct dynsnap_disk_checkpoint_header) ==
	      DYNSNAP_CKPT_HEADER_SIZE, "checkpoint header size");
static_assert(DYNSNAP_LEVEL__COUNT < DYNSNAP_LEVEL_DEFAULT,
	      "the default marker is no level");

/* Log heads are segments, which start on 4 KiB boundaries. */
#define CKPT_SEG_ALIGN	(DYNSNAP_SEG_HEADER_SIZE / DYNSNAP_SECTOR_SIZE)

u32 dynsnap_checkpoint_size(u32 nr_snaps, u32 nr_regions)
{
	u64 size = DYNSNAP_CKPT_HEADER_SIZE +
		   (u64)nr_snaps * DYNSNAP_CTL_SNAP_CREATE_SIZE +
		   2 * (u64)nr_regions;

	return size > (u64)~0U ? 0 : (u32)size;
}

size_t dynsnap_checkpoint_snap_offset(u32 index)
{
	return DYNSNAP_CKPT_HEADER_SIZE +
	       (size_t)index * DYNSNAP_CTL_SNAP_CREATE_SIZE;
}

size_t dynsnap_checkpoint_levels_offset(u32 nr_snaps)
{
	return dynsnap_checkpoint_snap_offset(nr_snaps);
}

static u32 ckpt_checksum(const u8 *buf, u32 total_len)
{
	return dsn_crc32c(~0U, buf + CKPT_OFF(version),
			  total_len - CKPT_OFF(version)) ^ DYNSNAP_CKPT_CSUM_XOR;
}

void dynsnap_checkpoint_encode_header(const struct dynsnap_checkpoint *c,
				      u8 *buf)
{
	memset(buf, 0, DYNSNAP_CKPT_HEADER_SIZE);
	dsn_put_le64(buf + CKPT_OFF(magic), DYNSNAP_CKPT_MAGIC);
	dsn_put_le32(buf + CKPT_OFF(version), DYNSNAP_CKPT_VERSION);
	memcpy(buf + CKPT_OFF(uuid), c->uuid, DYNSNAP_UUID_SIZE);
	dsn_put_le64(buf + CKPT_OFF(generation), c->generation);
	dsn_put_le32(buf + CKPT_OFF(total_len),
		     dynsnap_checkpoint_size(c->nr_snaps, c->nr_regions));
	dsn_put_le32(buf + CKPT_OFF(epoch), c->epoch);
	dsn_put_le32(buf + CKPT_OFF(nr_snaps), c->nr_snaps);
	dsn_put_le32(buf + CKPT_OFF(nr_regions), c->nr_regions);
	dsn_put_le64(buf + CKPT_OFF(next_id), c->next_id);
	dsn_put_le64(buf + CKPT_OFF(control_seq), c->control_seq);
	dsn_put_le64(buf + CKPT_OFF(fast_head_sector), c->fast_head_sector);
	dsn_put_le64(buf + CKPT_OFF(fast_head_seq), c->fast_head_seq);
	dsn_put_le64(buf + CKPT_OFF(slow_head_sector), c->slow_head_sector);
	dsn_put_le64(buf + CKPT_OFF(slow_head_seq), c->slow_head_seq);
	dsn_put_le64(buf + CKPT_OFF(fast_end_seq), c->fast_end_seq);
	dsn_put_le64(buf + CKPT_OFF(slow_end_seq), c->slow_end_seq);
}

void dynsnap_checkpoint_seal(u8 *buf)
{
	u32 total_len = dsn_get_le32(buf + CKPT_OFF(total_len));

	/*
	 * Counts too large for a checkpoint encode a total_len of 0: seal the
	 * header alone, which decode then refuses for its size.
	 */
	if (total_len < DYNSNAP_CKPT_HEADER_SIZE)
		total_len = DYNSNAP_CKPT_HEADER_SIZE;
	dsn_put_le32(buf + CKPT_OFF(csum), ckpt_checksum(buf, total_len));
}

bool dynsnap_checkpoint_is_blank(const u8 *buf)
{
	return dynsnap_is_zeroed(buf, DYNSNAP_CKPT_HEADER_SIZE);
}

static bool head_valid(u64 sector, u64 seq)
{
	/* Sector 0 holds the superblock, so it is never a segment. */
	return sector && !(sector & (CKPT_SEG_ALIGN - 1)) && seq;
}

static enum dynsnap_err fields_check(const struct dynsnap_checkpoint *c)
{
	if (!c->generation || !c->epoch || !c->nr_regions || !c->next_id)
		return DSN_ERR_CKPT_FIELDS;
	if (!head_valid(c->fast_head_sector, c->fast_head_seq))
		return DSN_ERR_CKPT_FIELDS;
	/* No slow tier: all zero. */
	if ((c->slow_head_sector || c->slow_head_seq) &&
	    !head_valid(c->slow_head_sector, c->slow_head_seq))
		return DSN_ERR_CKPT_FIELDS;
	/* A log's sequences start at 1 or above. */
	if (!c->fast_end_seq || !c->slow_end_seq != !c->slow_head_sector)
		return DSN_ERR_CKPT_FIELDS;
	return DSN_OK;
}

/*
 * Every entry is a valid SNAP_CREATE payload; ids and epochs strictly
 * increase, ids stay below next_id and epochs lie in [2, epoch]: a snapshot
 * taken in epoch 1 reads epoch 2 on, and no snapshot reads the future.
 */
static enum dynsnap_err snaps_check(const u8 *buf, size_t len,
				    const struct dynsnap_checkpoint *c)
{
	struct dynsnap_ctl_snap_create s;
	u64 prev_id = 0, prev_epoch = 0;
	size_t off;
	u32 i;

	for (i = 0; i < c->nr_snaps; i++) {
		off = dynsnap_checkpoint_snap_offset(i);
		if (dynsnap_ctl_snap_create_decode(buf + off, len - off, &s))
			return DSN_ERR_CKPT_SNAP;
		if (s.id <= prev_id || s.id >= c->next_id)
			return DSN_ERR_CKPT_SNAP;
		if (s.epoch < 2 || s.epoch > c->epoch || s.epoch <= prev_epoch)
			return DSN_ERR_CKPT_SNAP;
		prev_id = s.id;
		prev_epoch = s.epoch;
	}
	return DSN_OK;
}

static enum dynsnap_err levels_check(const u8 *buf,
				     const struct dynsnap_checkpoint *c)
{
	const u8 *p = buf + dynsnap_checkpoint_levels_offset(c->nr_snaps);
	size_t n = 2 * (size_t)c->nr_regions;
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] >= DYNSNAP_LEVEL__COUNT && p[i] != DYNSNAP_LEVEL_DEFAULT)
			return DSN_ERR_CKPT_LEVEL;
	return DSN_OK;
}

enum dynsnap_err dynsnap_checkpoint_decode(const u8 *buf, size_t len,
					   const u8 *uuid,
					   struct dynsnap_checkpoint *c)
{
	enum dynsnap_err err;
	u32 total_len, size;

	if (!buf || len < DYNSNAP_CKPT_HEADER_SIZE)
		return DSN_ERR_CKPT_SHORT;
	if (dsn_get_le64(buf + CKPT_OFF(magic)) != DYNSNAP_CKPT_MAGIC)
		return DSN_ERR_CKPT_MAGIC;
	if (dsn_get_le32(buf + CKPT_OFF(version)) != DYNSNAP_CKPT_VERSION)
		return DSN_ERR_CKPT_VERSION;

	memset(c, 0, sizeof(*c));
	c->nr_snaps = dsn_get_le32(buf + CKPT_OFF(nr_snaps));
	c->nr_regions = dsn_get_le32(buf + CKPT_OFF(nr_regions));
	total_len = dsn_get_le32(buf + CKPT_OFF(total_len));
	size = dynsnap_checkpoint_size(c->nr_snaps, c->nr_regions);
	if (!size || total_len != size)
		return DSN_ERR_CKPT_SIZE;
	if (len < total_len)
		return DSN_ERR_CKPT_SHORT;
	if (dsn_get_le32(buf + CKPT_OFF(csum)) != ckpt_checksum(buf, total_len))
		return DSN_ERR_CKPT_CSUM;

	memcpy(c->uuid, buf + CKPT_OFF(uuid), DYNSNAP_UUID_SIZE);
	if (uuid && memcmp(c->uuid, uuid, DYNSNAP_UUID_SIZE))
		return DSN_ERR_CKPT_UUID;
	if (dsn_get_le32(buf + CKPT_OFF(flags)) ||
	    dsn_get_le32(buf + CKPT_OFF(reserved0)))
		return DSN_ERR_CKPT_RESERVED;

	c->generation = dsn_get_le64(buf + CKPT_OFF(generation));
	c->epoch = dsn_get_le32(buf + CKPT_OFF(epoch));
	c->next_id = dsn_get_le64(buf + CKPT_OFF(next_id));
	c->control_seq = dsn_get_le64(buf + CKPT_OFF(control_seq));
	c->fast_head_sector = dsn_get_le64(buf + CKPT_OFF(fast_head_sector));
	c->fast_head_seq = dsn_get_le64(buf + CKPT_OFF(fast_head_seq));
	c->slow_head_sector = dsn_get_le64(buf + CKPT_OFF(slow_head_sector));
	c->slow_head_seq = dsn_get_le64(buf + CKPT_OFF(slow_head_seq));
	c->fast_end_seq = dsn_get_le64(buf + CKPT_OFF(fast_end_seq));
	c->slow_end_seq = dsn_get_le64(buf + CKPT_OFF(slow_end_seq));
	err = fields_check(c);
	if (err)
		return err;
	err = snaps_check(buf, total_len, c);
	if (err)
		return err;
	return levels_check(buf, c);
}

void dynsnap_checkpoint_snap(const u8 *buf, u32 index,
			     struct dynsnap_ctl_snap_create *s)
{
	dynsnap_ctl_snap_create_decode(buf + dynsnap_checkpoint_snap_offset(index),
				       DYNSNAP_CTL_SNAP_CREATE_SIZE, s);
}

u64 dynsnap_checkpoint_slot_sectors(const struct dynsnap_layout *layout)
{
	const u64 align = DYNSNAP_CKPT_ALIGN >> DYNSNAP_SECTOR_SHIFT;

	return (layout->meta_sectors / DYNSNAP_CKPT_SLOTS) & ~(align - 1);
}

u64 dynsnap_checkpoint_slot_sector(const struct dynsnap_layout *layout,
				   u32 slot)
{
	if (slot >= DYNSNAP_CKPT_SLOTS)
		return 0;
	return layout->meta_start + slot * dynsnap_checkpoint_slot_sectors(layout);
}

u64 dynsnap_checkpoint_read_size(const u8 *head,
				 const struct dynsnap_layout *layout)
{
	u64 slot_bytes = dynsnap_checkpoint_slot_sectors(layout) << DYNSNAP_SECTOR_SHIFT;
	u64 total = dsn_get_le32(head + CKPT_OFF(total_len));

	total = (total + DYNSNAP_CKPT_ALIGN - 1) & ~(u64)(DYNSNAP_CKPT_ALIGN - 1);
	if (total > DYNSNAP_CKPT_ALIGN && total <= slot_bytes)
		return total;
	return DYNSNAP_CKPT_ALIGN;
}

int dynsnap_checkpoint_newest(const struct dynsnap_checkpoint *slot0,
			      const struct dynsnap_checkpoint *slot1)
{
	if (slot1 && (!slot0 || slot1->generation > slot0->generation))
		return 1;
	return slot0 ? 0 : -1;
}

enum dynsnap_err dynsnap_checkpoint_match(const struct dynsnap_checkpoint *c,
					  u64 nr_regions, bool has_slow)
{
	if (c->nr_regions != nr_regions)
		return DSN_ERR_CKPT_REGIONS;
	if (!c->slow_head_sector != !has_slow)
		return DSN_ERR_CKPT_SLOW;
	return DSN_OK;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * dynsnap superblock: geometry rules, layout, encode, decode and the one
 * validator. Pure functions over caller-owned buffers.
 */
#include "dynsnap_format.h"

#define SB_OFF(field) offsetof(struct dynsnap_disk_superblock, field)

/* The on-disk layout is a contract: pin it in both builds. */
static_assert(SB_OFF(csum) == 0, "csum offset");
static_assert(SB_OFF(flags) == 4, "flags offset");
static_assert(SB_OFF(location) == 8, "location offset");
static_assert(SB_OFF(magic) == 16, "magic offset");
static_assert(SB_OFF(version) == 24, "version offset");
static_assert(SB_OFF(tier) == 28, "tier offset");
static_assert(SB_OFF(uuid) == 32, "uuid offset");
static_assert(SB_OFF(volume_sectors) == 48, "volume_sectors offset");
static_assert(SB_OFF(block_sectors) == 56, "block_sectors offset");
static_assert(SB_OFF(sub_block_sectors) == 60, "sub_block_sectors offset");
static_assert(SB_OFF(region_sectors) == 64, "region_sectors offset");
static_assert(SB_OFF(reserved0) == 68, "reserved0 offset");
static_assert(SB_OFF(fast_dev_sectors) == 72, "fast_dev_sectors offset");
static_assert(SB_OFF(slow_dev_sectors) == 80, "slow_dev_sectors offset");
static_assert(SB_OFF(meta_start) == 88, "meta_start offset");
static_assert(SB_OFF(meta_sectors) == 96, "meta_sectors offset");
static_assert(SB_OFF(fast_data_start) == 104, "fast_data_start offset");
static_assert(SB_OFF(fast_data_sectors) == 112, "fast_data_sectors offset");
static_assert(SB_OFF(slow_data_start) == 120, "slow_data_start offset");
static_assert(SB_OFF(slow_data_sectors) == 128, "slow_data_sectors offset");
static_assert(SB_OFF(format_time) == 136, "format_time offset");
static_assert(SB_OFF(generation) == 144, "generation offset");
static_assert(sizeof(struct dynsnap_disk_superblock) == 152, "superblock size");
static_assert(DYNSNAP_SB_ENCODED_SIZE <= DYNSNAP_SB_SIZE, "superblock fits");

void dynsnap_geometry_defaults(struct dynsnap_geometry *g)
{
	if (!g->sub_block_sectors) {
		/* 4 KiB, but always several sub-blocks and a bitmap that fits */
		g->sub_block_sectors = DYNSNAP_DEFAULT_SUB_BLOCK_SECTORS;
		if (g->sub_block_sectors >= g->block_sectors)
			g->sub_block_sectors = g->block_sectors / 8 ?
					       g->block_sectors / 8 : 1;
		if (g->block_sectors / g->sub_block_sectors >
		    DYNSNAP_MAX_SUB_BLOCKS_PER_BLOCK)
			g->sub_block_sectors = g->block_sectors /
					       DYNSNAP_MAX_SUB_BLOCKS_PER_BLOCK;
	}
	if (!g->region_sectors) {
		g->region_sectors = DYNSNAP_DEFAULT_REGION_SECTORS;
		if (g->region_sectors < g->block_sectors)
			g->region_sectors = g->block_sectors;
	}
}

enum dynsnap_err dynsnap_geometry_check(const struct dynsnap_geometry *g)
{
	if (!dsn_is_power_of_2(g->block_sectors))
		return DSN_ERR_BLOCK_NOT_POW2;
	if (g->block_sectors < DYNSNAP_MIN_BLOCK_SECTORS ||
	    g->block_sectors > DYNSNAP_MAX_BLOCK_SECTORS)
		return DSN_ERR_BLOCK_RANGE;
	if (!dsn_is_power_of_2(g->sub_block_sectors))
		return DSN_ERR_SUB_NOT_POW2;
	if (g->sub_block_sectors > g->block_sectors)
		return DSN_ERR_SUB_RANGE;
	if (g->block_sectors / g->sub_block_sectors >
	    DYNSNAP_MAX_SUB_BLOCKS_PER_BLOCK)
		return DSN_ERR_SUB_TOO_SMALL;
	if (!dsn_is_power_of_2(g->region_sectors))
		return DSN_ERR_REGION_NOT_POW2;
	if (g->region_sectors < g->block_sectors ||
	    g->region_sectors > DYNSNAP_MAX_REGION_SECTORS)
		return DSN_ERR_REGION_RANGE;
	return DSN_OK;
}

/* Regions are a power of two sectors: a shift, and no 64-bit division. */
static unsigned int region_shift(const struct dynsnap_geometry *g)
{
	unsigned int shift = 0;

	while ((1ULL << shift) < g->region_sectors)
		shift++;
	return shift;
}

enum dynsnap_err dynsnap_volume_check(const struct dynsnap_geometry *g,
				      u64 volume_sectors)
{
	if (!volume_sectors)
		return DSN_ERR_VOLUME_EMPTY;
	if (volume_sectors & (g->block_sectors - 1))
		return DSN_ERR_VOLUME_UNALIGNED;
	if (((volume_sectors - 1) >> region_shift(g)) >= DYNSNAP_MAX_REGIONS)
		return DSN_ERR_VOLUME_REGIONS;
	return DSN_OK;
}

u32 dynsnap_region_count(const struct dynsnap_geometry *g, u64 volume_sectors)
{
	return (u32)(((volume_sectors - 1) >> region_shift(g)) + 1);
}

static u64 round_up_sectors(u64 n, u64 align)
{
	return (n + align - 1) & ~(align - 1);
}

enum dynsnap_err dynsnap_layout_compute(const struct dynsnap_geometry *g,
					u64 volume_sectors,
					u64 fast_dev_sectors,
					u64 slow_dev_sectors,
					struct dynsnap_layout *out)
{
	enum dynsnap_err err;
	u64 meta, data_start, fast_end, slow_end;

	err = dynsnap_geometry_check(g);
	if (err)
		return err;
	err = dynsnap_volume_check(g, volume_sectors);
	if (err)
		return err;

	meta = volume_sectors >> DYNSNAP_META_PER_VOLUME_SHIFT;
	if (meta < DYNSNAP_MIN_META_SECTORS)
		meta = DYNSNAP_MIN_META_SECTORS;
	meta = round_up_sectors(meta, g->block_sectors);

	/* Delta areas start and end on block boundaries. */
	data_start = round_up_sectors(DYNSNAP_SB_SECTORS + meta,
				      g->block_sectors);
	fast_end = fast_dev_sectors & ~((u64)g->block_sectors - 1);
	if (fast_end < data_start ||
	    fast_end - data_start < DYNSNAP_MIN_DATA_SECTORS)
		return DSN_ERR_FAST_TOO_SMALL;

	memset(out, 0, sizeof(*out));
	out->fast_dev_sectors = fast_dev_sectors;
	out->meta_start = DYNSNAP_SB_SECTORS;
	out->meta_sectors = meta;
	out->fast_data_start = data_start;
	out->fast_data_sectors = fast_end - data_start;

	if (slow_dev_sectors) {
		u64 slow_start = round_up_sectors(DYNSNAP_SB_SECTORS,
						  g->block_sectors);

		slow_end = slow_dev_sectors & ~((u64)g->block_sectors - 1);
		if (slow_end < slow_start ||
		    slow_end - slow_start < DYNSNAP_MIN_DATA_SECTORS)
			return DSN_ERR_SLOW_TOO_SMALL;
		out->slow_dev_sectors = slow_dev_sectors;
		out->slow_data_start = slow_start;
		out->slow_data_sectors = slow_end - slow_start;
	}
	return DSN_OK;
}

bool dynsnap_is_zeroed(const void *buf, size_t len)
{
	const u8 *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static u32 sb_checksum(const u8 *buf)
{
	return dsn_crc32c(~0U, buf + SB_OFF(flags),
			  DYNSNAP_SB_SIZE - SB_OFF(flags)) ^ DYNSNAP_SB_CSUM_XOR;
}

void dynsnap_sb_init(struct dynsnap_superblock *sb, enum dynsnap_tier tier,
		     const u8 uuid[DYNSNAP_UUID_SIZE], u64 volume_sectors,
		     const struct dynsnap_geometry *g,
		     const struct dynsnap_layout *layout, u64 now)
{
	memset(sb, 0, sizeof(*sb));
	sb->flags = layout->slow_dev_sectors ? DYNSNAP_SB_F_HAS_SLOW : 0;
	sb->location = DYNSNAP_SB_LOCATION;
	sb->version = DYNSNAP_SB_VERSION;
	sb->tier = tier;
	memcpy(sb->uuid, uuid, DYNSNAP_UUID_SIZE);
	sb->volume_sectors = volume_sectors;
	sb->geometry = *g;
	sb->layout = *layout;
	sb->format_time = now;
	sb->generation = 1;
}

void dynsnap_sb_encode(const struct dynsnap_superblock *sb, u8 *buf)
{
	const struct dynsnap_layout *l = &sb->layout;

	memset(buf, 0, DYNSNAP_SB_SIZE);
	dsn_put_le32(buf + SB_OFF(flags), sb->flags);
	dsn_put_le64(buf + SB_OFF(location), sb->location);
	dsn_put_le64(buf + SB_OFF(magic), DYNSNAP_SB_MAGIC);
	dsn_put_le32(buf + SB_OFF(version), sb->version);
	dsn_put_le32(buf + SB_OFF(tier), sb->tier);
	memcpy(buf + SB_OFF(uuid), sb->uuid, DYNSNAP_UUID_SIZE);
	dsn_put_le64(buf + SB_OFF(volume_sectors), sb->volume_sectors);
	dsn_put_le32(buf + SB_OFF(block_sectors), sb->geometry.block_sectors);
	dsn_put_le32(buf + SB_OFF(sub_block_sectors),
		     sb->geometry.sub_block_sectors);
	dsn_put_le32(buf + SB_OFF(region_sectors), sb->geometry.region_sectors);
	dsn_put_le64(buf + SB_OFF(fast_dev_sectors), l->fast_dev_sectors);
	dsn_put_le64(buf + SB_OFF(slow_dev_sectors), l->slow_dev_sectors);
	dsn_put_le64(buf + SB_OFF(meta_start), l->meta_start);
	dsn_put_le64(buf + SB_OFF(meta_sectors), l->meta_sectors);
	dsn_put_le64(buf + SB_OFF(fast_data_start), l->fast_data_start);
	dsn_put_le64(buf + SB_OFF(fast_data_sectors), l->fast_data_sectors);
	dsn_put_le64(buf + SB_OFF(slow_data_start), l->slow_data_start);
	dsn_put_le64(buf + SB_OFF(slow_data_sectors), l->slow_data_sectors);
	dsn_put_le64(buf + SB_OFF(format_time), sb->format_time);
	dsn_put_le64(buf + SB_OFF(generation), sb->generation);
	dsn_put_le32(buf + SB_OFF(csum), sb_checksum(buf));
}

/*
 * The layout is a function of geometry, volume and device sizes: anything
 * but exactly what dynsnap_layout_compute() gives is damage.
 */
static enum dynsnap_err layout_check(const struct dynsnap_superblock *sb)
{
	const struct dynsnap_layout *l = &sb->layout;
	bool has_slow = sb->flags & DYNSNAP_SB_F_HAS_SLOW;
	struct dynsnap_layout want;

	if (has_slow != !!l->slow_dev_sectors)
		return DSN_ERR_SB_LAYOUT;
	if (dynsnap_layout_compute(&sb->geometry, sb->volume_sectors,
				   l->fast_dev_sectors, l->slow_dev_sectors,
				   &want))
		return DSN_ERR_SB_LAYOUT;
	if (l->meta_start != want.meta_start ||
	    l->meta_sectors != want.meta_sectors ||
	    l->fast_data_start != want.fast_data_start ||
	    l->fast_data_sectors != want.fast_data_sectors ||
	    l->slow_data_start != want.slow_data_start ||
	    l->slow_data_sectors != want.slow_data_sectors)
		return DSN_ERR_SB_LAYOUT;
	return DSN_OK;
}

enum dynsnap_err dynsnap_sb_decode(const u8 *buf, size_t len,
				   u64 expected_location,
				   struct dynsnap_superblock *sb)
{
	struct dynsnap_layout *l = &sb->layout;
	enum dynsnap_err err;

	if (!buf || len < DYNSNAP_SB_SIZE)
		return DSN_ERR_SB_SHORT;
	if (dsn_get_le64(buf + SB_OFF(magic)) != DYNSNAP_SB_MAGIC)
		return DSN_ERR_SB_MAGIC;
	if (dsn_get_le32(buf + SB_OFF(csum)) != sb_checksum(buf))
		return DSN_ERR_SB_CSUM;

	memset(sb, 0, sizeof(*sb));
	sb->location = dsn_get_le64(buf + SB_OFF(location));
	if (sb->location != expected_location)
		return DSN_ERR_SB_LOCATION;
	sb->version = dsn_get_le32(buf + SB_OFF(version));
	if (sb->version < DYNSNAP_SB_MIN_VERSION ||
	    sb->version > DYNSNAP_SB_MAX_VERSION)
		return DSN_ERR_SB_VERSION;
	sb->flags = dsn_get_le32(buf + SB_OFF(flags));
	if (sb->flags & ~DYNSNAP_SB_F_KNOWN)
		return DSN_ERR_SB_FLAGS;
	sb->tier = dsn_get_le32(buf + SB_OFF(tier));
	if (sb->tier != DYNSNAP_TIER_FAST && sb->tier != DYNSNAP_TIER_SLOW)
		return DSN_ERR_SB_TIER;
	if (sb->tier == DYNSNAP_TIER_SLOW && !(sb->flags & DYNSNAP_SB_F_HAS_SLOW))
		return DSN_ERR_SB_TIER;
	if (dsn_get_le32(buf + SB_OFF(reserved0)) ||
	    !dynsnap_is_zeroed(buf + DYNSNAP_SB_ENCODED_SIZE,
			       DYNSNAP_SB_SIZE - DYNSNAP_SB_ENCODED_SIZE))
		return DSN_ERR_SB_RESERVED;

	memcpy(sb->uuid, buf + SB_OFF(uuid), DYNSNAP_UUID_SIZE);
	sb->volume_sectors = dsn_get_le64(buf + SB_OFF(volume_sectors));
	sb->geometry.block_sectors = dsn_get_le32(buf + SB_OFF(block_sectors));
	sb->geometry.sub_block_sectors =
		dsn_get_le32(buf + SB_OFF(sub_block_sectors));
	sb->geometry.region_sectors =
		dsn_get_le32(buf + SB_OFF(region_sectors));
	if (dynsnap_geometry_check(&sb->geometry) ||
	    dynsnap_volume_check(&sb->geometry, sb->volume_sectors))
		return DSN_ERR_SB_GEOMETRY;

	l->fast_dev_sectors = dsn_get_le64(buf + SB_OFF(fast_dev_sectors));
	l->slow_dev_sectors = dsn_get_le64(buf + SB_OFF(slow_dev_sectors));
	l->meta_start = dsn_get_le64(buf + SB_OFF(meta_start));
	l->meta_sectors = dsn_get_le64(buf + SB_OFF(meta_sectors));
	l->fast_data_start = dsn_get_le64(buf + SB_OFF(fast_data_start));
	l->fast_data_sectors = dsn_get_le64(buf + SB_OFF(fast_data_sectors));
	l->slow_data_start = dsn_get_le64(buf + SB_OFF(slow_data_start));
	l->slow_data_sectors = dsn_get_le64(buf + SB_OFF(slow_data_sectors));
	err = layout_check(sb);
	if (err)
		return err;

	sb->format_time = dsn_get_le64(buf + SB_OFF(format_time));
	sb->generation = dsn_get_le64(buf + SB_OFF(generation));
	if (!sb->generation || dynsnap_is_zeroed(sb->uuid, DYNSNAP_UUID_SIZE))
		return DSN_ERR_SB_IDENTITY;
	return DSN_OK;
}

enum dynsnap_err dynsnap_sb_match(const struct dynsnap_superblock *sb,
				  u64 volume_sectors,
				  const struct dynsnap_geometry *g,
				  u64 fast_dev_sectors, u64 slow_dev_sectors)
{
	const struct dynsnap_layout *l = &sb->layout;

	if (sb->tier != DYNSNAP_TIER_FAST)
		return DSN_ERR_SB_TIER;
	if (sb->volume_sectors != volume_sectors)
		return DSN_ERR_SB_OTHER_VOLUME;
	if (sb->geometry.block_sectors != g->block_sectors ||
	    sb->geometry.sub_block_sectors != g->sub_block_sectors ||
	    sb->geometry.region_sectors != g->region_sectors)
		return DSN_ERR_SB_OTHER_GEOMETRY;
	if ((sb->flags & DYNSNAP_SB_F_HAS_SLOW) && !slow_dev_sectors)
		return DSN_ERR_SB_SLOW_MISSING;
	if (!(sb->flags & DYNSNAP_SB_F_HAS_SLOW) && slow_dev_sectors)
		return DSN_ERR_SB_SLOW_UNEXPECTED;
	if (fast_dev_sectors < l->fast_data_start + l->fast_data_sectors)
		return DSN_ERR_SB_DEVICE_SHRUNK;
	if (slow_dev_sectors &&
	    slow_dev_sectors < l->slow_data_start + l->slow_data_sectors)
		return DSN_ERR_SB_DEVICE_SHRUNK;
	return DSN_OK;
}

enum dynsnap_err dynsnap_sb_same_store(const struct dynsnap_superblock *fast,
				       const struct dynsnap_superblock *slow)
{
	if (fast->tier != DYNSNAP_TIER_FAST || slow->tier != DYNSNAP_TIER_SLOW)
		return DSN_ERR_SB_TIER;
	if (memcmp(fast->uuid, slow->uuid, DYNSNAP_UUID_SIZE) ||
	    fast->volume_sectors != slow->volume_sectors ||
	    fast->format_time != slow->format_time ||
	    (fast->flags & ~DYNSNAP_SB_F_FORMATTING) !=
	    (slow->flags & ~DYNSNAP_SB_F_FORMATTING) ||
	    memcmp(&fast->geometry, &slow->geometry, sizeof(fast->geometry)) ||
	    memcmp(&fast->layout, &slow->layout, sizeof(fast->layout)))
		return DSN_ERR_SB_OTHER_STORE;
	return DSN_OK;
}

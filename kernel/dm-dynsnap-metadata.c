// SPDX-License-Identifier: GPL-2.0
/*
 * dm-dynsnap metadata: superblocks on the fast and slow tiers, read and
 * written through dm-bufio. Encoding and validation live in the shared
 * core (core/dynsnap_superblock.c); this file only moves blocks.
 */
#include <linux/device-mapper.h>
#include <linux/dm-bufio.h>
#include <linux/err.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uuid.h>

#include "dm-dynsnap-metadata.h"

#define DM_MSG_PREFIX "dynsnap-metadata"

/* Superblocks are the first 4 KiB block of each tier device. */
#define SB_BLOCK 0

struct dynsnap_metadata {
	struct mutex lock;		/* serialises commit and usage */
	struct dm_bufio_client *fast_bufio;
	struct dm_bufio_client *slow_bufio;	/* NULL without slow tier */
	struct dynsnap_superblock sb;
	struct dynsnap_md_usage usage;
	bool read_only;
	bool failed;
	bool formatted;
};

static struct dm_bufio_client *sb_client(struct block_device *bdev)
{
	/* One reserved buffer is all the superblock path ever needs. */
	return dm_bufio_client_create(bdev, DYNSNAP_SB_SIZE, 1, 0, NULL, NULL,
				      0);
}

/* Write @sb into block 0 of @c and wait until it is on stable media. */
static int write_sb(struct dm_bufio_client *c,
		    const struct dynsnap_superblock *sb)
{
	struct dm_buffer *b;
	void *data;
	int r;

	data = dm_bufio_new(c, SB_BLOCK, &b);
	if (IS_ERR(data))
		return PTR_ERR(data);
	dynsnap_sb_encode(sb, data);
	dm_bufio_mark_buffer_dirty(b);
	dm_bufio_release(b);

	r = dm_bufio_write_dirty_buffers(c);
	if (r)
		return r;
	return dm_bufio_issue_flush(c);
}

/*
 * Read block 0 of @c. Returns 1 and leaves *@sb untouched when it is all
 * zeroes, 0 with *@sb decoded, or a negative errno with *@error set.
 */
static int read_sb(struct dm_bufio_client *c, struct dynsnap_superblock *sb,
		   const char **error)
{
	struct dm_buffer *b;
	enum dynsnap_err e;
	void *data;

	data = dm_bufio_read(c, SB_BLOCK, &b);
	if (IS_ERR(data)) {
		*error = "cannot read superblock";
		return PTR_ERR(data);
	}
	if (dynsnap_is_zeroed(data, DYNSNAP_SB_SIZE)) {
		dm_bufio_release(b);
		return 1;
	}
	e = dynsnap_sb_decode(data, DYNSNAP_SB_SIZE, DYNSNAP_SB_LOCATION, sb);
	dm_bufio_release(b);
	if (e) {
		*error = dynsnap_strerror(e);
		return -EINVAL;
	}
	return 0;
}

static int format_store(struct dynsnap_metadata *md,
			const struct dynsnap_md_config *cfg,
			const char **error)
{
	struct dynsnap_superblock slow_sb;
	struct dynsnap_layout layout;
	enum dynsnap_err e;
	uuid_t uuid;
	int r;

	e = dynsnap_layout_compute(&cfg->geometry, cfg->volume_sectors,
				   bdev_nr_sectors(cfg->fast_bdev),
				   cfg->slow_bdev ?
				   bdev_nr_sectors(cfg->slow_bdev) : 0,
				   &layout);
	if (e) {
		*error = dynsnap_strerror(e);
		return -EINVAL;
	}

	uuid_gen(&uuid);
	dynsnap_sb_init(&md->sb, DYNSNAP_TIER_FAST, uuid.b, cfg->volume_sectors,
			&cfg->geometry, &layout, ktime_get_real_seconds());

	/*
	 * Fast first: it is the commit point. A crash before the slow copy is
	 * written leaves a fresh store (generation 1) with a zeroed slow
	 * superblock, which the next open completes.
	 */
	r = write_sb(md->fast_bufio, &md->sb);
	if (!r && md->slow_bufio) {
		slow_sb = md->sb;
		slow_sb.tier = DYNSNAP_TIER_SLOW;
		r = write_sb(md->slow_bufio, &slow_sb);
	}
	if (r) {
		*error = "cannot write superblock";
		return r;
	}
	md->formatted = true;
	return 0;
}

static int open_slow(struct dynsnap_metadata *md, const char **error)
{
	struct dynsnap_superblock slow_sb;
	enum dynsnap_err e;
	int r;

	r = read_sb(md->slow_bufio, &slow_sb, error);
	if (r < 0)
		return r;
	if (r == 1) {
		/* Only a format interrupted before its slow write. */
		if (md->sb.generation != 1 || md->read_only) {
			*error = "slow device holds no superblock of this store";
			return -EINVAL;
		}
		slow_sb = md->sb;
		slow_sb.tier = DYNSNAP_TIER_SLOW;
		r = write_sb(md->slow_bufio, &slow_sb);
		if (r)
			*error = "cannot write slow superblock";
		return r;
	}
	e = dynsnap_sb_same_store(&md->sb, &slow_sb);
	if (e) {
		*error = dynsnap_strerror(e);
		return -EINVAL;
	}
	return 0;
}

static int open_store(struct dynsnap_metadata *md,
		      const struct dynsnap_md_config *cfg, const char **error)
{
	struct dynsnap_superblock slow_probe;
	enum dynsnap_err e;
	int r;

	r = read_sb(md->fast_bufio, &md->sb, error);
	if (r < 0)
		return r;

	if (r == 1) {
		if (cfg->read_only) {
			*error =
			"fast device holds no store and the table is read-only";
			return -EROFS;
		}
		if (md->slow_bufio) {
			/* Never overwrite data we did not write. */
			r = read_sb(md->slow_bufio, &slow_probe, error);
			if (r < 0 && r != -EINVAL)
				return r;
			if (r != 1) {
				*error = "slow device is not zeroed: refusing to overwrite it";
				return -EINVAL;
			}
		}
		return format_store(md, cfg, error);
	}

	e = dynsnap_sb_match(&md->sb, cfg->volume_sectors, &cfg->geometry,
			     bdev_nr_sectors(cfg->fast_bdev),
			     cfg->slow_bdev ? bdev_nr_sectors(cfg->slow_bdev) : 0);
	if (e) {
		DMERR("store %pUb: volume %llu, block %u, sub-block %u, region %u, slow %s",
		      md->sb.uuid, md->sb.volume_sectors,
		      md->sb.geometry.block_sectors,
		      md->sb.geometry.sub_block_sectors,
		      md->sb.geometry.region_sectors,
		      (md->sb.flags & DYNSNAP_SB_F_HAS_SLOW) ? "yes" : "no");
		*error = dynsnap_strerror(e);
		return -EINVAL;
	}
	if (md->slow_bufio)
		return open_slow(md, error);
	return 0;
}

struct dynsnap_metadata *dynsnap_md_open(const struct dynsnap_md_config *cfg,
					 const char **error)
{
	struct dynsnap_metadata *md;
	int r;

	md = kzalloc(sizeof(*md), GFP_KERNEL);
	if (!md) {
		*error = "cannot allocate metadata";
		return ERR_PTR(-ENOMEM);
	}
	mutex_init(&md->lock);
	md->read_only = cfg->read_only;

	md->fast_bufio = sb_client(cfg->fast_bdev);
	if (IS_ERR(md->fast_bufio)) {
		r = PTR_ERR(md->fast_bufio);
		md->fast_bufio = NULL;
		*error = "cannot create buffer cache for the fast device";
		goto bad;
	}
	if (cfg->slow_bdev) {
		md->slow_bufio = sb_client(cfg->slow_bdev);
		if (IS_ERR(md->slow_bufio)) {
			r = PTR_ERR(md->slow_bufio);
			md->slow_bufio = NULL;
			*error = "cannot create buffer cache for the slow device";
			goto bad;
		}
	}

	r = open_store(md, cfg, error);
	if (r)
		goto bad;

	md->usage.fast_data_sectors = md->sb.layout.fast_data_sectors;
	md->usage.slow_data_sectors = md->sb.layout.slow_data_sectors;
	md->usage.generation = md->sb.generation;
	return md;

bad:
	dynsnap_md_close(md);
	return ERR_PTR(r);
}

void dynsnap_md_close(struct dynsnap_metadata *md)
{
	if (md->slow_bufio)
		dm_bufio_client_destroy(md->slow_bufio);
	if (md->fast_bufio)
		dm_bufio_client_destroy(md->fast_bufio);
	kfree(md);
}

int dynsnap_md_commit(struct dynsnap_metadata *md)
{
	int r;

	mutex_lock(&md->lock);
	if (md->failed) {
		r = -EIO;
		goto out;
	}
	if (md->read_only) {
		r = -EROFS;
		goto out;
	}
	md->sb.generation++;
	r = write_sb(md->fast_bufio, &md->sb);
	if (r) {
		DMERR("superblock commit failed: %d", r);
		md->failed = true;
		r = -EIO;
		goto out;
	}
	md->usage.generation = md->sb.generation;
out:
	mutex_unlock(&md->lock);
	return r;
}

bool dynsnap_md_was_formatted(struct dynsnap_metadata *md)
{
	return md->formatted;
}

bool dynsnap_md_failed(struct dynsnap_metadata *md)
{
	return READ_ONCE(md->failed);
}

const u8 *dynsnap_md_uuid(struct dynsnap_metadata *md)
{
	return md->sb.uuid;
}

void dynsnap_md_get_usage(struct dynsnap_metadata *md,
			  struct dynsnap_md_usage *usage)
{
	mutex_lock(&md->lock);
	*usage = md->usage;
	mutex_unlock(&md->lock);
}

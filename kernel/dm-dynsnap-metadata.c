// SPDX-License-Identifier: GPL-2.0
/*
 * dm-dynsnap metadata: superblocks on the fast and slow tiers, read and
 * written through dm-bufio. Encoding and validation live in the shared
 * core (core/dynsnap_superblock.c); this file only moves blocks.
 */
#include <linux/device-mapper.h>
#include <linux/dm-bufio.h>
#include <linux/err.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <linux/uuid.h>

#include "dm-dynsnap-engine.h"
#include "dm-dynsnap-log.h"
#include "dm-dynsnap-metadata.h"

#define DM_MSG_PREFIX "dynsnap-metadata"

/* Superblocks are the first 4 KiB block of each tier device. */
#define SB_BLOCK 0

/* Every open store, so that tables of one dm device share it. */
static DEFINE_MUTEX(registry_lock);
static LIST_HEAD(registry);

struct dynsnap_metadata {
	struct list_head registry_node;	/* on registry, under registry_lock */
	unsigned int refs;		/* tables and views, under registry_lock */
	unsigned int tables;		/* the owner's tables, under registry_lock */
	/*
	 * The dm device whose tables hold the store, NULL once the last is
	 * gone: a mapped_device freed and allocated again at the same
	 * address must never find a store that is not its own.
	 */
	const void *owner;
	dev_t origin_dev, fast_dev, slow_dev;

	struct mutex lock;		/* serialises superblock writes */
	struct dm_bufio_client *fast_bufio;
	struct dm_bufio_client *slow_bufio;	/* NULL without slow tier */
	struct dynsnap_superblock sb;
	spinlock_t usage_lock;		/* guards usage; never held over I/O */
	struct dynsnap_md_usage usage;
	struct dsn_engine *engine;
	bool read_only;
	bool failed;
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

	data = dm_bufio_new(c, SB_BLOCK, &b);
	if (IS_ERR(data))
		return PTR_ERR(data);
	dynsnap_sb_encode(sb, data);
	dm_bufio_mark_buffer_dirty(b);
	dm_bufio_release(b);

	/* Writes, then flushes the device's cache. */
	return dm_bufio_write_dirty_buffers(c);
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

/* Write the slow copy of a FORMATTING store, then clear the flag. */
static int finish_format(struct dynsnap_metadata *md, const char **error)
{
	struct dynsnap_superblock slow_sb = md->sb;
	int r;

	slow_sb.tier = DYNSNAP_TIER_SLOW;
	r = write_sb(md->slow_bufio, &slow_sb);
	if (r) {
		*error = "cannot write slow superblock";
		return r;
	}
	md->sb.flags &= ~DYNSNAP_SB_F_FORMATTING;
	r = write_sb(md->fast_bufio, &md->sb);
	if (r)
		*error = "cannot write fast superblock";
	return r;
}

static int zero_checkpoint_slots(struct block_device *bdev,
				 const struct dynsnap_layout *layout)
{
	void *zero = kzalloc(4096, GFP_KERNEL);
	u32 slot;
	int r = 0;

	if (!zero)
		return -ENOMEM;
	for (slot = 0; slot < 2 && !r; slot++)
		r = dsn_io_sync(NULL, bdev, REQ_OP_WRITE | REQ_SYNC | REQ_FUA,
				dsn_checkpoint_slot_sector(layout, slot) << SECTOR_SHIFT,
				zero, 4096);
	kfree(zero);
	return r;
}

static int format_store(struct dynsnap_metadata *md,
			const struct dynsnap_md_config *cfg,
			const char **error)
{
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
	 * Blank checkpoint slots: whatever the device held before must not
	 * pass for this store's checkpoint, nor for a damaged one.
	 */
	r = zero_checkpoint_slots(cfg->fast_bdev, &layout);
	if (r) {
		*error = "cannot write the checkpoint area";
		return r;
	}

	/*
	 * Fast first, marked FORMATTING: a crash before the slow copy is on
	 * disk leaves a store that the next read-write open may complete, and
	 * only such a store may have a zeroed slow superblock filled in.
	 */
	if (md->slow_bufio)
		md->sb.flags |= DYNSNAP_SB_F_FORMATTING;
	r = write_sb(md->fast_bufio, &md->sb);
	if (r) {
		*error = "cannot write fast superblock";
		return r;
	}
	if (md->slow_bufio)
		return finish_format(md, error);
	return 0;
}

static int open_slow(struct dynsnap_metadata *md, const char **error)
{
	struct dynsnap_superblock slow_sb;
	enum dynsnap_err e;
	int r;

	r = read_sb(md->slow_bufio, &slow_sb, error);
	if (r < 0) {
		DMERR("slow tier: %s", *error);
		return r;
	}
	if (r == 1) {
		/* Only a format interrupted before its slow write. */
		if (!(md->sb.flags & DYNSNAP_SB_F_FORMATTING) || md->read_only) {
			*error = "slow device holds no superblock of this store";
			return -EINVAL;
		}
		DMINFO("store %pUb: completing an interrupted format", md->sb.uuid);
		return finish_format(md, error);
	}
	e = dynsnap_sb_same_store(&md->sb, &slow_sb);
	if (e) {
		*error = dynsnap_strerror(e);
		return -EINVAL;
	}
	if ((md->sb.flags & DYNSNAP_SB_F_FORMATTING) && !md->read_only) {
		md->sb.flags &= ~DYNSNAP_SB_F_FORMATTING;
		r = write_sb(md->fast_bufio, &md->sb);
		if (r)
			*error = "cannot write fast superblock";
	}
	return r;
}

static int open_store(struct dynsnap_metadata *md,
		      const struct dynsnap_md_config *cfg, bool *formatted,
		      const char **error)
{
	struct dynsnap_superblock slow_probe;
	enum dynsnap_err e;
	int r;

	r = read_sb(md->fast_bufio, &md->sb, error);
	if (r < 0) {
		DMERR("fast tier: %s", *error);
		return r;
	}

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
		r = format_store(md, cfg, error);
		if (!r)
			*formatted = true;
		return r;
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

/* Bring the snapshot engine up: replays the delta logs. */
static int start_engine(struct dynsnap_metadata *md,
			const struct dynsnap_md_config *cfg, const char **error)
{
	struct dsn_engine_config ecfg = {
		.origin_bdev = cfg->origin_bdev,
		.fast_bdev = cfg->fast_bdev,
		.slow_bdev = cfg->slow_bdev,
		.sb = &md->sb,
		.read_only = cfg->read_only,
	};
	char name[48];
	struct dsn_engine *e;

	snprintf(name, sizeof(name), "store %pUb", md->sb.uuid);
	ecfg.name = name;
	e = dsn_engine_create(&ecfg, error);
	if (IS_ERR(e))
		return PTR_ERR(e);
	md->engine = e;
	return 0;
}

static void destroy(struct dynsnap_metadata *md)
{
	if (md->engine)
		dsn_engine_destroy(md->engine);
	if (md->slow_bufio)
		dm_bufio_client_destroy(md->slow_bufio);
	if (md->fast_bufio)
		dm_bufio_client_destroy(md->fast_bufio);
	kfree(md);
}

/* Is @md the store @cfg names, used the same way? Under registry_lock. */
static bool same_use(const struct dynsnap_metadata *md,
		     const struct dynsnap_md_config *cfg)
{
	return md->origin_dev == cfg->origin_bdev->bd_dev &&
	       md->slow_dev == (cfg->slow_bdev ? cfg->slow_bdev->bd_dev : 0) &&
	       md->read_only == cfg->read_only &&
	       !dynsnap_sb_match(&md->sb, cfg->volume_sectors, &cfg->geometry,
				 bdev_nr_sectors(cfg->fast_bdev),
				 cfg->slow_bdev ? bdev_nr_sectors(cfg->slow_bdev) : 0);
}

static struct dynsnap_metadata *find_open(const struct dynsnap_md_config *cfg,
					  const char **error)
{
	struct dynsnap_metadata *md;

	list_for_each_entry(md, &registry, registry_node) {
		if (md->fast_dev != cfg->fast_bdev->bd_dev)
			continue;
		if (!md->owner) {
			*error = "views of this store are still open: remove them first";
			return ERR_PTR(-EBUSY);
		}
		if (md->owner != cfg->owner) {
			*error = "fast device holds the store of another dynsnap device";
			return ERR_PTR(-EBUSY);
		}
		if (!same_use(md, cfg)) {
			*error = "store is in use with other devices, geometry or mode";
			return ERR_PTR(-EBUSY);
		}
		md->refs++;
		md->tables++;
		return md;
	}
	return NULL;
}

static struct dynsnap_metadata *open_new(const struct dynsnap_md_config *cfg,
					 bool *formatted, const char **error)
{
	struct dynsnap_metadata *md;
	int r;

	if (bdev_nr_sectors(cfg->fast_bdev) < DYNSNAP_SB_SECTORS) {
		*error = dynsnap_strerror(DSN_ERR_FAST_TOO_SMALL);
		return ERR_PTR(-EINVAL);
	}
	if (cfg->slow_bdev && bdev_nr_sectors(cfg->slow_bdev) < DYNSNAP_SB_SECTORS) {
		*error = dynsnap_strerror(DSN_ERR_SLOW_TOO_SMALL);
		return ERR_PTR(-EINVAL);
	}

	md = kzalloc(sizeof(*md), GFP_KERNEL);
	if (!md) {
		*error = "cannot allocate metadata";
		return ERR_PTR(-ENOMEM);
	}
	mutex_init(&md->lock);
	spin_lock_init(&md->usage_lock);
	md->refs = 1;
	md->tables = 1;
	md->owner = cfg->owner;
	md->origin_dev = cfg->origin_bdev->bd_dev;
	md->fast_dev = cfg->fast_bdev->bd_dev;
	md->slow_dev = cfg->slow_bdev ? cfg->slow_bdev->bd_dev : 0;
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

	r = open_store(md, cfg, formatted, error);
	if (r)
		goto bad;
	r = start_engine(md, cfg, error);
	if (r)
		goto bad;

	md->usage.fast_data_sectors = md->sb.layout.fast_data_sectors;
	md->usage.slow_data_sectors = md->sb.layout.slow_data_sectors;
	md->usage.generation = md->sb.generation;
	list_add(&md->registry_node, &registry);
	return md;

bad:
	destroy(md);
	return ERR_PTR(r);
}

struct dynsnap_metadata *dynsnap_md_open(const struct dynsnap_md_config *cfg,
					 bool *formatted, const char **error)
{
	struct dynsnap_metadata *md;

	*formatted = false;
	mutex_lock(&registry_lock);
	md = find_open(cfg, error);
	if (!md)
		md = open_new(cfg, formatted, error);
	mutex_unlock(&registry_lock);
	return md;
}

static void put_locked(struct dynsnap_metadata *md)
{
	lockdep_assert_held(&registry_lock);
	if (!--md->refs) {
		list_del(&md->registry_node);
		destroy(md);
	}
}

void dynsnap_md_close(struct dynsnap_metadata *md)
{
	mutex_lock(&registry_lock);
	/* The volume is gone: its views must not read an unprotected origin. */
	if (!--md->tables) {
		md->owner = NULL;
		if (md->engine)
			dsn_engine_orphan(md->engine);
	}
	put_locked(md);
	mutex_unlock(&registry_lock);
}

void dynsnap_md_put(struct dynsnap_metadata *md)
{
	mutex_lock(&registry_lock);
	put_locked(md);
	mutex_unlock(&registry_lock);
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
	spin_lock(&md->usage_lock);
	md->usage.generation = md->sb.generation;
	spin_unlock(&md->usage_lock);
out:
	mutex_unlock(&md->lock);
	return r;
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
	spin_lock(&md->usage_lock);
	*usage = md->usage;
	spin_unlock(&md->usage_lock);
}

struct dsn_engine *dynsnap_md_engine(struct dynsnap_metadata *md)
{
	return md->engine;
}

struct dynsnap_metadata *dynsnap_md_find_owner(const void *owner)
{
	struct dynsnap_metadata *md;

	mutex_lock(&registry_lock);
	list_for_each_entry(md, &registry, registry_node) {
		if (owner && md->owner == owner && md->tables) {
			md->refs++;
			mutex_unlock(&registry_lock);
			return md;
		}
	}
	mutex_unlock(&registry_lock);
	return NULL;
}

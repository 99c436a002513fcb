// SPDX-License-Identifier: GPL-2.0
/*
 * dm-dynsnap: block snapshots on a shared timeline of epochs, with undo
 * deltas kept at a granularity chosen per region, on a fast and a slow tier.
 *
 * This file is the device-mapper target: table parsing, I/O mapping,
 * status and messages. The store lives behind dm-dynsnap-metadata.h; the
 * on-disk format in core/.
 */
#include <linux/device-mapper.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "compat.h"
#include "dm-dynsnap-metadata.h"

#define DM_MSG_PREFIX "dynsnap"

enum dynsnap_mode {
	DSN_MODE_WRITE,		/* normal operation */
	DSN_MODE_READ_ONLY,	/* table loaded read-only: writes are refused */
	DSN_MODE_FAIL,		/* metadata failed: writes are refused */
};

static const char *const mode_names[] = {
	[DSN_MODE_WRITE] = "write",
	[DSN_MODE_READ_ONLY] = "read-only",
	[DSN_MODE_FAIL] = "fail",
};

struct dynsnap_c {
	struct dm_target *ti;
	struct dm_dev *origin;
	struct dm_dev *fast;
	struct dm_dev *slow;		/* NULL: the fast device holds all */
	struct dynsnap_metadata *md;

	struct dynsnap_geometry geometry;
	bool sub_block_given;		/* print back only what was given */
	bool region_given;

	enum dynsnap_mode mode;
};

/* ti->error is a plain char * but only ever points at static strings. */
static void set_error(struct dm_target *ti, const char *msg)
{
	ti->error = (char *)msg;
}

/*
 * The target never leaves fail mode by itself; every change raises a dm
 * event so that userspace (dmeventd, snapshotctl) notices.
 */
static void set_mode(struct dynsnap_c *dc, enum dynsnap_mode mode)
{
	if (READ_ONCE(dc->mode) == mode || READ_ONCE(dc->mode) == DSN_MODE_FAIL)
		return;
	DMWARN("%s: switching to %s mode",
	       dm_device_name(dm_table_get_md(dc->ti->table)), mode_names[mode]);
	WRITE_ONCE(dc->mode, mode);
	dm_table_event(dc->ti->table);
}

/* ---- Constructor ---- */

static int parse_dev(struct dm_target *ti, const char *path,
		     struct dm_dev **dev, const char *error)
{
	int r = dm_get_device(ti, path, dm_table_get_mode(ti->table), dev);

	if (r)
		set_error(ti, error);
	return r;
}

static int parse_block_sectors(struct dm_target *ti, const char *arg,
			       struct dynsnap_geometry *g)
{
	if (kstrtouint(arg, 10, &g->block_sectors)) {
		ti->error = "invalid block size: expected a number of sectors";
		return -EINVAL;
	}
	if (!is_power_of_2(g->block_sectors)) {
		set_error(ti, dynsnap_strerror(DSN_ERR_BLOCK_NOT_POW2));
		return -EINVAL;
	}
	if (g->block_sectors < DYNSNAP_MIN_BLOCK_SECTORS ||
	    g->block_sectors > DYNSNAP_MAX_BLOCK_SECTORS) {
		set_error(ti, dynsnap_strerror(DSN_ERR_BLOCK_RANGE));
		return -EINVAL;
	}
	return 0;
}

/*
 * Feature group: <#args> followed by name/value pairs, in any order:
 *   sub_block_sectors <n>   size of a sub-block (power of two)
 *   region_sectors <n>      size of a statistics region (power of two)
 */
static int parse_features(struct dm_arg_set *as, struct dynsnap_c *dc)
{
	static const struct dm_arg feature_count = {
		0, 4, "invalid number of feature arguments"
	};
	static const struct dm_arg sub_block_arg = {
		DYNSNAP_MIN_SUB_BLOCK_SECTORS, DYNSNAP_MAX_BLOCK_SECTORS,
		"sub_block_sectors must be a number from 1 to 2048"
	};
	static const struct dm_arg region_arg = {
		DYNSNAP_MIN_BLOCK_SECTORS, DYNSNAP_MAX_REGION_SECTORS,
		"region_sectors must be a number from 8 to 16777216"
	};
	struct dm_target *ti = dc->ti;
	unsigned int argc;
	const char *name;
	int r;

	if (!as->argc)
		return 0;

	r = dm_read_arg_group(&feature_count, as, &argc, &ti->error);
	if (r)
		return -EINVAL;
	if (argc % 2) {
		ti->error = "feature arguments come in name/value pairs";
		return -EINVAL;
	}

	for (; argc; argc -= 2) {
		name = dm_shift_arg(as);
		if (!strcasecmp(name, "sub_block_sectors")) {
			r = dm_read_arg(&sub_block_arg, as,
					&dc->geometry.sub_block_sectors,
					&ti->error);
			dc->sub_block_given = true;
		} else if (!strcasecmp(name, "region_sectors")) {
			r = dm_read_arg(&region_arg, as,
					&dc->geometry.region_sectors,
					&ti->error);
			dc->region_given = true;
		} else {
			ti->error = "unknown feature argument";
			DMERR("unknown feature argument '%s'", name);
			return -EINVAL;
		}
		if (r)
			return -EINVAL;
	}
	return 0;
}

/* The same device, or a whole disk and one of its partitions. */
static bool same_bdev(struct dm_dev *a, struct dm_dev *b)
{
	return a && b && (a->bdev == b->bdev ||
			  bdev_whole(a->bdev) == b->bdev ||
			  bdev_whole(b->bdev) == a->bdev);
}

static int check_devices(struct dynsnap_c *dc)
{
	struct dm_target *ti = dc->ti;

	if (same_bdev(dc->origin, dc->fast) || same_bdev(dc->origin, dc->slow) ||
	    same_bdev(dc->fast, dc->slow)) {
		ti->error = "origin, fast and slow devices must be distinct";
		return -EINVAL;
	}
	if (bdev_nr_sectors(dc->origin->bdev) < ti->len) {
		ti->error = "origin device is smaller than the target length";
		return -EINVAL;
	}
	return 0;
}

static void dynsnap_dtr(struct dm_target *ti)
{
	struct dynsnap_c *dc = ti->private;

	if (dc->md)
		dynsnap_md_close(dc->md);
	if (dc->slow)
		dm_put_device(ti, dc->slow);
	if (dc->fast)
		dm_put_device(ti, dc->fast);
	if (dc->origin)
		dm_put_device(ti, dc->origin);
	kfree(dc);
}

/*
 * <origin_dev> <fast_dev> <slow_dev|-> <block_sectors>
 *	[<#features> <feature>...]
 */
static int dynsnap_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct dynsnap_md_config cfg = {};
	const char *md_error = NULL;
	struct dm_arg_set as;
	bool formatted;
	struct dynsnap_c *dc;
	enum dynsnap_err e;
	int r;

	if (argc < 4) {
		ti->error =
			"usage: <origin> <fast> <slow|-> <block_sectors> [<#feature_args> <arg>*]";
		return -EINVAL;
	}

	dc = kzalloc(sizeof(*dc), GFP_KERNEL);
	if (!dc) {
		ti->error = "cannot allocate target context";
		return -ENOMEM;
	}
	dc->ti = ti;
	ti->private = dc;

	r = parse_dev(ti, argv[0], &dc->origin, "cannot open origin device");
	if (r)
		goto bad;
	r = parse_dev(ti, argv[1], &dc->fast, "cannot open fast device");
	if (r)
		goto bad;
	if (strcmp(argv[2], "-")) {
		r = parse_dev(ti, argv[2], &dc->slow,
			      "cannot open slow device");
		if (r)
			goto bad;
	}
	r = parse_block_sectors(ti, argv[3], &dc->geometry);
	if (r)
		goto bad;

	as.argc = argc - 4;
	as.argv = argv + 4;
	r = parse_features(&as, dc);
	if (r)
		goto bad;
	if (as.argc) {
		ti->error = "too many arguments after the feature group";
		r = -EINVAL;
		goto bad;
	}

	dynsnap_geometry_defaults(&dc->geometry);
	e = dynsnap_geometry_check(&dc->geometry);
	if (!e)
		e = dynsnap_volume_check(&dc->geometry, ti->len);
	if (e) {
		set_error(ti, dynsnap_strerror(e));
		r = -EINVAL;
		goto bad;
	}
	r = check_devices(dc);
	if (r)
		goto bad;

	cfg.owner = dm_table_get_md(ti->table);
	cfg.origin_bdev = dc->origin->bdev;
	cfg.fast_bdev = dc->fast->bdev;
	cfg.slow_bdev = dc->slow ? dc->slow->bdev : NULL;
	cfg.volume_sectors = ti->len;
	cfg.geometry = dc->geometry;
	cfg.read_only = !dsn_table_writable(ti);
	dc->md = dynsnap_md_open(&cfg, &formatted, &md_error);
	if (IS_ERR(dc->md)) {
		set_error(ti, md_error);
		r = PTR_ERR(dc->md);
		dc->md = NULL;
		goto bad;
	}
	if (formatted)
		DMINFO("%s: formatted new store %pUb",
		       dm_device_name(dm_table_get_md(ti->table)),
		       dynsnap_md_uuid(dc->md));

	/* A reload onto a store whose metadata failed stays failed. */
	if (cfg.read_only)
		dc->mode = DSN_MODE_READ_ONLY;
	else if (dynsnap_md_failed(dc->md))
		dc->mode = DSN_MODE_FAIL;
	else
		dc->mode = DSN_MODE_WRITE;

	/* Flushes, discards and write-zeroes reach the origin once each. */
	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	ti->num_write_zeroes_bios = 1;
	return 0;

bad:
	dynsnap_dtr(ti);
	return r;
}

/* ---- I/O ---- */

static int dynsnap_map(struct dm_target *ti, struct bio *bio)
{
	struct dynsnap_c *dc = ti->private;

	/*
	 * A read-only device can still be written by kernel users stacked on
	 * it; without metadata updates such writes would go unprotected.
	 */
	if (unlikely(READ_ONCE(dc->mode) != DSN_MODE_WRITE) &&
	    op_is_write(bio_op(bio)))
		return DM_MAPIO_KILL;

	bio_set_dev(bio, dc->origin->bdev);
	if (bio_sectors(bio))
		bio->bi_iter.bi_sector =
			dm_target_offset(ti, bio->bi_iter.bi_sector);
	return DM_MAPIO_REMAPPED;
}

static void dynsnap_postsuspend(struct dm_target *ti)
{
	struct dynsnap_c *dc = ti->private;
	int r;

	if (READ_ONCE(dc->mode) != DSN_MODE_WRITE)
		return;
	r = dynsnap_md_commit(dc->md);
	if (r) {
		DMERR("%s: metadata commit failed: %d",
		      dm_device_name(dm_table_get_md(ti->table)), r);
		set_mode(dc, DSN_MODE_FAIL);
	}
}

static int dynsnap_iterate_devices(struct dm_target *ti,
				   iterate_devices_callout_fn fn, void *data)
{
	struct dynsnap_c *dc = ti->private;

	/* Only the origin serves the volume's I/O; the tiers are private. */
	return fn(ti, dc->origin, 0, ti->len, data);
}

/* ---- Status and messages ---- */

/*
 * INFO:  <mode> <snapshots> <fast_used>/<fast_total> <slow_used>/<slow_total>
 *        <delta_records> <checksum_errors> <generation>
 *   mode             write | read-only | fail
 *   snapshots        retained snapshots
 *   fast_*, slow_*   sectors of the delta areas in use / in all (0/0
 *                    without a slow tier)
 *   delta_records    undo delta records stored
 *   checksum_errors  records or metadata blocks that failed verification
 *   generation       metadata commits since format
 * New fields are only ever appended.
 *
 * TABLE: the constructor arguments, features only when they were given.
 */
static void dynsnap_status(struct dm_target *ti, status_type_t type,
			   unsigned int status_flags, char *result,
			   unsigned int maxlen)
{
	struct dynsnap_c *dc = ti->private;
	struct dynsnap_md_usage u;
	unsigned int sz = 0;
	unsigned int nr_features;

	switch (type) {
	case STATUSTYPE_INFO:
		dynsnap_md_get_usage(dc->md, &u);
		DMEMIT("%s %u %llu/%llu %llu/%llu %llu %llu %llu",
		       mode_names[READ_ONCE(dc->mode)], 0U,
		       u.fast_used_sectors, u.fast_data_sectors,
		       u.slow_used_sectors, u.slow_data_sectors,
		       u.delta_records, u.checksum_errors, u.generation);
		break;

	case STATUSTYPE_TABLE:
		DMEMIT("%s %s %s %u", dc->origin->name, dc->fast->name,
		       dc->slow ? dc->slow->name : "-",
		       dc->geometry.block_sectors);
		nr_features = 2 * (dc->sub_block_given + dc->region_given);
		if (nr_features)
			DMEMIT(" %u", nr_features);
		if (dc->sub_block_given)
			DMEMIT(" sub_block_sectors %u",
			       dc->geometry.sub_block_sectors);
		if (dc->region_given)
			DMEMIT(" region_sectors %u",
			       dc->geometry.region_sectors);
		break;

	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",mode=%s,block_sectors=%u;", mode_names[READ_ONCE(dc->mode)],
		       dc->geometry.block_sectors);
		break;
	}
}

static int dynsnap_message(struct dm_target *ti, unsigned int argc,
			   char **argv, char *result, unsigned int maxlen)
{
	DMWARN("%s: unknown message '%s'",
	       dm_device_name(dm_table_get_md(ti->table)),
	       argc ? argv[0] : "");
	return -EINVAL;
}

static struct target_type dynsnap_target = {
	.name = "dynsnap",
	.version = {0, 1, 0},
	.module = THIS_MODULE,
	.ctr = dynsnap_ctr,
	.dtr = dynsnap_dtr,
	.map = dynsnap_map,
	.postsuspend = dynsnap_postsuspend,
	.status = dynsnap_status,
	.message = dynsnap_message,
	.iterate_devices = dynsnap_iterate_devices,
};

static int __init dm_dynsnap_init(void)
{
	return dm_register_target(&dynsnap_target);
}

static void __exit dm_dynsnap_exit(void)
{
	dm_unregister_target(&dynsnap_target);
}

module_init(dm_dynsnap_init);
module_exit(dm_dynsnap_exit);

MODULE_DESCRIPTION(DM_NAME " target for snapshots with adaptive granularity");
MODULE_AUTHOR("The dynsnap developers");
MODULE_LICENSE("GPL");

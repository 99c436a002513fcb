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

#include "../core/dynsnap_control.h"
#include "../core/dynsnap_names.h"
#include "compat.h"
#include "dm-dynsnap-engine.h"
#include "dm-dynsnap-metadata.h"

#define DM_MSG_PREFIX "dynsnap"

enum dynsnap_mode {
	DSN_MODE_WRITE,		/* normal operation */
	DSN_MODE_READ_ONLY,	/* table loaded read-only: writes are refused */
	DSN_MODE_FAIL,		/* the store failed: writes are refused */
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
	bool level_given;
	bool on_full_given;
	enum dynsnap_level level;	/* default level of regions */
	enum dsn_on_full on_full;
	struct dsn_engine *engine;

	enum dynsnap_mode mode;
};

/* ti->error is a plain char * but only ever points at static strings. */
static void set_error(struct dm_target *ti, const char *msg)
{
	ti->error = (char *)msg;
}

/*
 * The target never leaves fail mode by itself; every change raises a dm
 * event so that userspace (dmeventd, snapshotctl) notices. Process context.
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

/*
 * The engine's state changed (space policy, a failed store): tell
 * userspace. Called from the engine's event work, in process context.
 */
static void raise_event(void *context)
{
	struct dynsnap_c *dc = context;

	if (dsn_engine_failed(dc->engine) && READ_ONCE(dc->mode) == DSN_MODE_WRITE)
		set_mode(dc, DSN_MODE_FAIL);
	else
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

static const char *const on_full_names[] = {
	[DSN_ON_FULL_ERROR] = "error",
	[DSN_ON_FULL_DROP_OLDEST] = "drop_oldest",
};

static const char *const rollback_names[] = {
	[DSN_ROLLBACK_NONE] = "none",
	[DSN_ROLLBACK_RUNNING] = "running",
	[DSN_ROLLBACK_PAUSED] = "paused",
	[DSN_ROLLBACK_DONE] = "done",
	[DSN_ROLLBACK_FAILED] = "failed",
};

static int parse_name(const char *arg, const char *const *names,
		      unsigned int count)
{
	unsigned int i;

	for (i = 0; arg && i < count; i++)
		if (!strcasecmp(arg, names[i]))
			return i;
	return -EINVAL;
}

/*
 * Feature group: <#args> followed by name/value pairs, in any order:
 *   sub_block_sectors <n>   size of a sub-block (power of two)
 *   region_sectors <n>      size of a statistics region (power of two)
 *   granularity <level>     block, sub or bit: the default level
 *   on_full <policy>        error or drop_oldest
 */
static int parse_features(struct dm_arg_set *as, struct dynsnap_c *dc)
{
	static const struct dm_arg feature_count = {
		0, 8, "invalid number of feature arguments"
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
		} else if (!strcasecmp(name, "granularity")) {
			r = parse_name(dm_shift_arg(as), dynsnap_level_names,
				       DYNSNAP_LEVEL__COUNT);
			if (r < 0)
				ti->error = "granularity must be block, sub or bit";
			else
				dc->level = r;
			dc->level_given = true;
		} else if (!strcasecmp(name, "on_full")) {
			r = parse_name(dm_shift_arg(as), on_full_names,
				       ARRAY_SIZE(on_full_names));
			if (r < 0)
				ti->error = "on_full must be error or drop_oldest";
			else
				dc->on_full = r;
			dc->on_full_given = true;
		} else {
			ti->error = "unknown feature argument";
			DMERR("unknown feature argument '%s'", name);
			return -EINVAL;
		}
		if (r < 0)
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

	if (dc->engine)
		dsn_engine_detach(dc->engine, dc);
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
	dc->level = DYNSNAP_LEVEL_SUB;
	dc->on_full = DSN_ON_FULL_ERROR;
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

	dc->engine = dynsnap_md_engine(dc->md);

	/* A reload onto a store whose metadata failed stays failed. */
	if (cfg.read_only)
		dc->mode = DSN_MODE_READ_ONLY;
	else if (dynsnap_md_failed(dc->md) || dsn_engine_failed(dc->engine))
		dc->mode = DSN_MODE_FAIL;
	else
		dc->mode = DSN_MODE_WRITE;

	/* Each bio to the engine lies within one block. */
	r = dm_set_target_max_io_len(ti, dc->geometry.block_sectors);
	if (r)
		goto bad;
	ti->per_io_data_size = sizeof(struct dsn_io);
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
	struct dsn_io *io = dm_per_bio_data(bio, sizeof(struct dsn_io));
	u32 block = dc->geometry.block_sectors;
	u64 sector;

	io->engine = NULL;
	bio_set_dev(bio, dc->origin->bdev);
	if (!bio_sectors(bio))
		return DM_MAPIO_REMAPPED;	/* an empty flush */

	sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	bio->bi_iter.bi_sector = sector;
	if (!op_is_write(bio_op(bio)))
		return DM_MAPIO_REMAPPED;

	/*
	 * A read-only device can still be written by kernel users stacked on
	 * it; without metadata updates such writes would go unprotected.
	 */
	if (unlikely(READ_ONCE(dc->mode) != DSN_MODE_WRITE))
		return DM_MAPIO_KILL;

	/* dm splits reads and writes at blocks, but not discards. */
	if ((sector & (block - 1)) + bio_sectors(bio) > block)
		dm_accept_partial_bio(bio, block - (sector & (block - 1)));
	return dsn_map_write(dc->engine, io, bio, sector);
}

static int dynsnap_end_io(struct dm_target *ti, struct bio *bio,
			  blk_status_t *error)
{
	struct dsn_io *io = dm_per_bio_data(bio, sizeof(struct dsn_io));

	if (io->engine)
		dsn_end_write(io);
	return DM_ENDIO_DONE;
}

static void dynsnap_postsuspend(struct dm_target *ti)
{
	struct dynsnap_c *dc = ti->private;
	int r;

	/* Nothing reaches the origin while the device is suspended. */
	dsn_rollback_pause(dc->engine);
	if (READ_ONCE(dc->mode) != DSN_MODE_WRITE)
		return;
	r = dynsnap_md_commit(dc->md);
	if (r) {
		DMERR("%s: metadata commit failed: %d",
		      dm_device_name(dm_table_get_md(ti->table)), r);
		set_mode(dc, DSN_MODE_FAIL);
		return;
	}
	/* Where the logs end, for the next activation to check against. */
	r = dsn_engine_checkpoint(dc->engine);
	if (r) {
		DMERR("%s: checkpoint at suspend failed: %d",
		      dm_device_name(dm_table_get_md(ti->table)), r);
		if (dsn_engine_failed(dc->engine))
			set_mode(dc, DSN_MODE_FAIL);
	}
}

static void dynsnap_resume(struct dm_target *ti)
{
	struct dynsnap_c *dc = ti->private;

	dsn_engine_configure(dc->engine, dc->level, dc->on_full, raise_event,
			     dc);
	/* The store may have failed while no table was there to be told. */
	if (dsn_engine_failed(dc->engine))
		set_mode(dc, DSN_MODE_FAIL);
	dsn_rollback_continue(dc->engine);
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
 *        <delta_records> <checksum_errors> <generation> <epoch>
 *        <block_regions>/<sub_regions>/<bit_regions> <space> <space_events>
 *        <delta_bytes>
 *   mode             write | read-only | fail
 *   snapshots        retained snapshots
 *   fast_*, slow_*   sectors of the delta areas in use / in all (0/0
 *                    without a slow tier)
 *   delta_records    undo delta records stored
 *   checksum_errors  records or metadata blocks that failed verification
 *   generation       metadata commits since format
 *   epoch            the current epoch
 *   *_regions        regions at each level in the current epoch
 *   space            ok | full (a delta could not be stored)
 *   space_events     writes or messages refused for lack of space
 *   delta_bytes      bytes of delta records, headers included
 *   rollback         - (none since activation), or
 *                    <id>:<running|paused|done|failed>:<done>/<total>
 *                    in blocks
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
	struct dsn_counters c;
	unsigned int sz = 0;
	unsigned int nr_features;

	switch (type) {
	case STATUSTYPE_INFO:
		dynsnap_md_get_usage(dc->md, &u);
		dsn_engine_counters(dc->engine, &c);
		DMEMIT("%s %llu %llu/%llu %llu/%llu %llu %llu %llu",
		       mode_names[READ_ONCE(dc->mode)], c.snapshots,
		       c.fast_used_sectors, c.fast_total_sectors,
		       c.slow_used_sectors, c.slow_total_sectors,
		       c.delta_records, c.checksum_errors, u.generation);
		DMEMIT(" %llu %llu/%llu/%llu %s %llu %llu", c.epoch,
		       c.regions[DYNSNAP_LEVEL_BLOCK], c.regions[DYNSNAP_LEVEL_SUB],
		       c.regions[DYNSNAP_LEVEL_BIT], c.full ? "full" : "ok",
		       c.space_events, c.delta_bytes);
		if (c.rollback == DSN_ROLLBACK_NONE)
			DMEMIT(" -");
		else
			DMEMIT(" %llu:%s:%llu/%llu", c.rollback_id,
			       rollback_names[c.rollback], c.rollback_done,
			       c.rollback_total);
		break;

	case STATUSTYPE_TABLE:
		DMEMIT("%s %s %s %u", dc->origin->name, dc->fast->name,
		       dc->slow ? dc->slow->name : "-",
		       dc->geometry.block_sectors);
		nr_features = 2 * (dc->sub_block_given + dc->region_given +
				   dc->level_given + dc->on_full_given);
		if (nr_features)
			DMEMIT(" %u", nr_features);
		if (dc->sub_block_given)
			DMEMIT(" sub_block_sectors %u",
			       dc->geometry.sub_block_sectors);
		if (dc->region_given)
			DMEMIT(" region_sectors %u",
			       dc->geometry.region_sectors);
		if (dc->level_given)
			DMEMIT(" granularity %s", dynsnap_level_name(dc->level));
		if (dc->on_full_given)
			DMEMIT(" on_full %s", on_full_names[dc->on_full]);
		break;

	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",mode=%s,block_sectors=%u;", mode_names[READ_ONCE(dc->mode)],
		       dc->geometry.block_sectors);
		break;
	}
}

static int parse_u64(const char *arg, u64 *v)
{
	return kstrtoull(arg, 10, v) ? -EINVAL : 0;
}

static int parse_u32(const char *arg, u32 *v)
{
	return kstrtou32(arg, 10, v) ? -EINVAL : 0;
}

/*
 * snap_create <name>                 prints the new snapshot's id
 * snap_delete <id>
 * snap_list                          one line per snapshot
 * snap_diff <from_id> <to_id|-> [<first_sector>]
 *                                    ranges that differ, "end" or "next"
 * region_map [<first_region>]        level and deltas per region
 * set_granularity <level> <first_region> [<count>]
 * rollback <id>                      refused while the device is open
 */
static int dynsnap_message(struct dm_target *ti, unsigned int argc,
			   char **argv, char *result, unsigned int maxlen)
{
	struct dynsnap_c *dc = ti->private;
	const char *dev = dm_device_name(dm_table_get_md(ti->table));
	u32 first, count = 1;
	int r = -EINVAL;
	u64 id;

	if (!argc)
		goto unknown;

	if (!strcasecmp(argv[0], "snap_list")) {
		if (argc != 1)
			goto usage;
		return dsn_snap_list(dc->engine, result, maxlen);
	}

	if (!strcasecmp(argv[0], "snap_diff")) {
		u64 to = 0, first_sector = 0;

		if ((argc != 3 && argc != 4) || parse_u64(argv[1], &id) ||
		    (strcmp(argv[2], "-") && parse_u64(argv[2], &to)) ||
		    (argc == 4 && parse_u64(argv[3], &first_sector)) ||
		    !id || (strcmp(argv[2], "-") && !to))
			goto usage;
		r = dsn_snap_diff(dc->engine, id, to, first_sector, result,
				  maxlen);
		if (r == -ENOENT)
			DMWARN("%s: no snapshot %llu or %s", dev, id, argv[2]);
		return r;
	}

	if (!strcasecmp(argv[0], "region_map")) {
		first = 0;
		if (argc > 2 || (argc == 2 && parse_u32(argv[1], &first)))
			goto usage;
		return dsn_region_map(dc->engine, first, result, maxlen);
	}

	if (READ_ONCE(dc->mode) != DSN_MODE_WRITE) {
		DMWARN("%s: %s refused in %s mode", dev, argv[0],
		       mode_names[READ_ONCE(dc->mode)]);
		return -EROFS;
	}

	if (!strcasecmp(argv[0], "snap_create")) {
		if (argc != 2)
			goto usage;
		r = dsn_snap_create(dc->engine, argv[1], &id);
		if (r == -EINVAL)
			DMWARN("%s: invalid snapshot name: use 1 to %u of A-Z a-z 0-9 . _ : @ + -",
			       dev, DYNSNAP_SNAP_NAME_MAX);
		else if (r == -EEXIST)
			DMWARN("%s: a snapshot named '%s' exists", dev, argv[1]);
		if (r)
			goto failed;
		scnprintf(result, maxlen, "%llu", id);
		DMINFO("%s: snapshot %llu '%s' created", dev, id, argv[1]);
		return 1;
	}

	if (!strcasecmp(argv[0], "snap_delete")) {
		if (argc != 2 || parse_u64(argv[1], &id))
			goto usage;
		r = dsn_snap_delete(dc->engine, id);
		if (r == -ENOENT)
			DMWARN("%s: no snapshot %llu", dev, id);
		else if (r == -EBUSY)
			DMWARN("%s: snapshot %llu has an open view or a rollback in progress",
			       dev, id);
		if (r)
			goto failed;
		DMINFO("%s: snapshot %llu deleted", dev, id);
		return 0;
	}

	if (!strcasecmp(argv[0], "set_granularity")) {
		if ((argc != 3 && argc != 4) || parse_u32(argv[2], &first) ||
		    (argc == 4 && parse_u32(argv[3], &count)))
			goto usage;
		r = parse_name(argv[1], dynsnap_level_names,
			       DYNSNAP_LEVEL__COUNT);
		if (r < 0)
			goto usage;
		r = dsn_set_granularity(dc->engine, r, first, count);
		if (r == -ERANGE)
			DMWARN("%s: regions %u+%u lie outside the volume", dev,
			       first, count);
		if (r)
			goto failed;
		return 0;
	}

	if (!strcasecmp(argv[0], "rollback")) {
		if (argc != 2 || parse_u64(argv[1], &id))
			goto usage;
		/* Whoever has the volume open would see it change under them. */
		if (disk_openers(dm_disk(dm_table_get_md(ti->table)))) {
			DMWARN("%s: rollback refused: the device is open", dev);
			return -EBUSY;
		}
		r = dsn_rollback(dc->engine, id);
		if (r == -ENOENT)
			DMWARN("%s: no snapshot %llu", dev, id);
		else if (r == -EALREADY)
			DMWARN("%s: a rollback is in progress", dev);
		if (r)
			goto failed;
		return 0;
	}

unknown:
	DMWARN("%s: unknown message '%s'", dev, argc ? argv[0] : "");
	return -EINVAL;
usage:
	DMWARN("%s: usage: snap_create <name> | snap_delete <id> | snap_list | %s | %s | %s | %s",
	       dev, "set_granularity <block|sub|bit> <first_region> [<count>]",
	       "rollback <id>", "snap_diff <from_id> <to_id|-> [<first_sector>]",
	       "region_map [<first_region>]");
	return -EINVAL;
failed:
	if (r == -ENOSPC || r == -EIO)
		DMERR("%s: %s failed: %d", dev, argv[0], r);
	return r;
}

static struct target_type dynsnap_target = {
	.name = "dynsnap",
	.version = {0, 4, 0},
	.module = THIS_MODULE,
	.ctr = dynsnap_ctr,
	.dtr = dynsnap_dtr,
	.map = dynsnap_map,
	.end_io = dynsnap_end_io,
	.postsuspend = dynsnap_postsuspend,
	.resume = dynsnap_resume,
	.status = dynsnap_status,
	.message = dynsnap_message,
	.iterate_devices = dynsnap_iterate_devices,
};

/* ---- dynsnap-view: one snapshot as a read-only device ---- */

struct dynsnap_view_c {
	char *volume;			/* the dynsnap device, as given */
	struct dm_dev *origin;		/* read for the current data */
	struct dm_dev *fast, *slow;	/* open while the view reads deltas */
	struct dynsnap_metadata *md;
	struct dsn_view *view;
	u64 id;
};

static void view_dtr(struct dm_target *ti)
{
	struct dynsnap_view_c *vc = ti->private;

	if (vc->view)
		dsn_view_close(vc->view);
	if (vc->slow)
		dm_put_device(ti, vc->slow);
	if (vc->fast)
		dm_put_device(ti, vc->fast);
	if (vc->origin)
		dm_put_device(ti, vc->origin);
	if (vc->md)
		dynsnap_md_put(vc->md);
	kfree(vc->volume);
	kfree(vc);
}

/*
 * The dynsnap device is named but not opened: a mounted filesystem holds
 * it exclusively. The store is found through its device number, and the
 * current data is read from the origin, which dm devices may share.
 */
static struct dynsnap_metadata *find_volume(const char *name)
{
	struct dynsnap_metadata *store = NULL;
	struct mapped_device *md;
	unsigned int major, minor;
	dev_t dev;
	char dummy;

	if (sscanf(name, "%u:%u%c", &major, &minor, &dummy) == 2)
		dev = MKDEV(major, minor);
	else if (lookup_bdev(name, &dev))
		return NULL;
	md = dm_get_md(dev);
	if (md) {
		store = dynsnap_md_find_owner(md);
		dm_put(md);
	}
	return store;
}

/* dm devices may share a device: the volume's tables hold these too. */
static int open_devt(struct dm_target *ti, dev_t dev, struct dm_dev **out)
{
	char name[24];

	snprintf(name, sizeof(name), "%u:%u", MAJOR(dev), MINOR(dev));
	return dm_get_device(ti, name, DSN_OPEN_READ, out);
}

/* <dynsnap_dev> <snapshot_id> */
static int view_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct dynsnap_view_c *vc;
	const char *error = NULL;
	struct dsn_engine *e;
	int r;

	if (argc != 2) {
		ti->error = "usage: <dynsnap_dev> <snapshot_id>";
		return -EINVAL;
	}
	vc = kzalloc(sizeof(*vc), GFP_KERNEL);
	if (!vc) {
		ti->error = "cannot allocate view context";
		return -ENOMEM;
	}
	ti->private = vc;

	if (kstrtoull(argv[1], 10, &vc->id)) {
		ti->error = "invalid snapshot id: expected a number";
		r = -EINVAL;
		goto bad;
	}
	vc->volume = kstrdup(argv[0], GFP_KERNEL);
	if (!vc->volume) {
		ti->error = "cannot allocate view context";
		r = -ENOMEM;
		goto bad;
	}
	vc->md = find_volume(argv[0]);
	if (!vc->md) {
		ti->error = "device is not an active dynsnap device";
		r = -EINVAL;
		goto bad;
	}
	e = dynsnap_md_engine(vc->md);
	if (ti->len > dsn_engine_volume_sectors(e)) {
		ti->error = "view is longer than the volume";
		r = -EINVAL;
		goto bad;
	}
	/* The view may outlive the dynsnap table: hold its devices too. */
	r = open_devt(ti, dsn_engine_origin_dev(e), &vc->origin);
	if (!r)
		r = open_devt(ti, dsn_engine_tier_dev(e, DYNSNAP_TIER_FAST),
			      &vc->fast);
	if (!r && dsn_engine_tier_dev(e, DYNSNAP_TIER_SLOW))
		r = open_devt(ti, dsn_engine_tier_dev(e, DYNSNAP_TIER_SLOW),
			      &vc->slow);
	if (r) {
		ti->error = "cannot open the volume's devices";
		goto bad;
	}
	vc->view = dsn_view_open(e, vc->id, vc->origin->bdev, &error);
	if (IS_ERR(vc->view)) {
		r = PTR_ERR(vc->view);
		vc->view = NULL;
		set_error(ti, error);
		goto bad;
	}
	r = dm_set_target_max_io_len(ti, dsn_engine_block_sectors(e));
	if (r)
		goto bad;
	ti->per_io_data_size = dsn_view_io_size();
	return 0;

bad:
	view_dtr(ti);
	return r;
}

static int view_map(struct dm_target *ti, struct bio *bio)
{
	struct dynsnap_view_c *vc = ti->private;

	if (bio_op(bio) != REQ_OP_READ)
		return DM_MAPIO_KILL;	/* a snapshot never changes */
	dsn_view_read(vc->view, bio,
		      dm_target_offset(ti, bio->bi_iter.bi_sector));
	return DM_MAPIO_SUBMITTED;
}

/* INFO: <snapshot_id>. TABLE: the constructor arguments. */
static void view_status(struct dm_target *ti, status_type_t type,
			unsigned int status_flags, char *result,
			unsigned int maxlen)
{
	struct dynsnap_view_c *vc = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		DMEMIT("%llu", vc->id);
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %llu", vc->volume, vc->id);
		break;
	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",snapshot=%llu;", vc->id);
		break;
	}
}

static int view_iterate_devices(struct dm_target *ti,
				iterate_devices_callout_fn fn, void *data)
{
	struct dynsnap_view_c *vc = ti->private;

	return fn(ti, vc->origin, 0, ti->len, data);
}

static struct target_type view_target = {
	.name = "dynsnap-view",
	.version = {0, 1, 0},
	.module = THIS_MODULE,
	.ctr = view_ctr,
	.dtr = view_dtr,
	.map = view_map,
	.status = view_status,
	.iterate_devices = view_iterate_devices,
};

static int __init dm_dynsnap_init(void)
{
	int r = dm_register_target(&dynsnap_target);

	if (r)
		return r;
	r = dm_register_target(&view_target);
	if (r)
		dm_unregister_target(&dynsnap_target);
	return r;
}

static void __exit dm_dynsnap_exit(void)
{
	dm_unregister_target(&view_target);
	dm_unregister_target(&dynsnap_target);
}

module_init(dm_dynsnap_init);
module_exit(dm_dynsnap_exit);

MODULE_DESCRIPTION(DM_NAME " target for snapshots with adaptive granularity");
MODULE_AUTHOR("The dynsnap developers");
MODULE_LICENSE("GPL");

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-dynsnap metadata: the store's superblocks and, in time, its indexes.
 * The target sees only the opaque handle below.
 *
 * One handle exists per store, shared by every table of the dm device that
 * owns it: a reload constructs the new table while the old one is still
 * live, and both must see the same metadata. Another dm device naming the
 * same fast device is refused.
 *
 * Context rules: every function here may sleep (it does block I/O through
 * dm-bufio), so call them from process context only: the constructor,
 * suspend/resume hooks, message handlers and workqueues, never from map().
 * Once an I/O error has put the metadata into the failed state, commit
 * returns -EIO without touching the devices.
 */
#ifndef DM_DYNSNAP_METADATA_H
#define DM_DYNSNAP_METADATA_H

#include <linux/blkdev.h>
#include "../core/dynsnap_format.h"

struct dynsnap_metadata;

struct dynsnap_md_config {
	const void *owner;			/* the dm device: dm_table_get_md() */
	struct block_device *origin_bdev;
	struct block_device *fast_bdev;
	struct block_device *slow_bdev;		/* NULL: no slow tier */
	u64 volume_sectors;
	struct dynsnap_geometry geometry;	/* defaults filled in */
	bool read_only;
};

struct dynsnap_md_usage {
	u64 fast_used_sectors;
	u64 fast_data_sectors;
	u64 slow_used_sectors;
	u64 slow_data_sectors;
	u64 delta_records;
	u64 checksum_errors;
	u64 generation;
};

/*
 * Open the store on the tier devices, or take another reference to it when
 * a table of the same dm device (@cfg->owner) has it open with the same
 * devices, volume, geometry and mode. A new store is formatted when the
 * fast superblock is all zeroes (*@formatted is then set); otherwise it is
 * validated against @cfg. On failure returns an ERR_PTR and sets *@error to
 * a static message meant for ti->error.
 */
struct dynsnap_metadata *dynsnap_md_open(const struct dynsnap_md_config *cfg,
					 bool *formatted, const char **error);

/*
 * A table drops the reference dynsnap_md_open() gave it; the last one
 * frees everything. Writes nothing. When the owner's last table goes, the
 * store has no owner any more: views of it read EIO from then on (nothing
 * protects the origin), no new view finds it, and a new activation of the
 * store is refused until the views are gone. May sleep.
 */
void dynsnap_md_close(struct dynsnap_metadata *md);

/* A view drops the reference dynsnap_md_find_owner() gave it. May sleep. */
void dynsnap_md_put(struct dynsnap_metadata *md);

/*
 * Make the current metadata durable on the fast tier. Returns 0, -EROFS for
 * a read-only store, or -EIO (and the handle stays failed) on I/O error.
 */
int dynsnap_md_commit(struct dynsnap_metadata *md);

/* True once an I/O error has failed the metadata. */
bool dynsnap_md_failed(struct dynsnap_metadata *md);

/* The store's UUID, for log lines. */
const u8 *dynsnap_md_uuid(struct dynsnap_metadata *md);

/*
 * Copy of the counters. Never waits for metadata I/O, so status stays
 * responsive while a commit is stuck on a slow device.
 */
void dynsnap_md_get_usage(struct dynsnap_metadata *md,
			  struct dynsnap_md_usage *usage);

/* The store's snapshot engine; lives as long as the handle. */
struct dsn_engine *dynsnap_md_engine(struct dynsnap_metadata *md);

/*
 * Take a reference to the store owned by the dm device @owner, for a view
 * of one of its snapshots (drop it with dynsnap_md_put()). NULL when no
 * table of that device holds a store. May sleep.
 */
struct dynsnap_metadata *dynsnap_md_find_owner(const void *owner);

#endif /* DM_DYNSNAP_METADATA_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-dynsnap engine: epochs, snapshots, undo deltas and the delta logs of a
 * store (docs/design/snapshot-engine.md). One engine exists per store and
 * is shared by every table of the dm device that owns the store, like the
 * metadata handle that holds it.
 *
 * Context rules: dsn_map_write() and dsn_end_write() run in the target's
 * map and end_io paths (any context, never sleep); everything else may
 * sleep and runs in process context (constructor, messages, workqueues),
 * and is called with no engine lock held (the engine's locks are private
 * to it: dm-dynsnap-engine-internal.h).
 *
 * Failure: once a write to a tier's log or to a checkpoint slot has failed,
 * the engine is failed for good (dsn_engine_failed()): writes that need a
 * delta end with EIO, snapshot operations return -EIO, and the event
 * callback is raised so the target can switch to its fail mode. Reads,
 * views and the read-only messages go on. Only a new activation (a fresh
 * replay of the logs) clears it.
 */
#ifndef DM_DYNSNAP_ENGINE_H
#define DM_DYNSNAP_ENGINE_H

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/list.h>
#include <linux/workqueue.h>

#include "../core/dynsnap_format.h"
#include "../core/dynsnap_record.h"

struct dsn_engine;

/* What the engine needs from the store that holds it. */
struct dsn_engine_config {
	const char *name;		/* for log lines: the store's UUID */
	struct block_device *origin_bdev;
	struct block_device *fast_bdev;
	struct block_device *slow_bdev;	/* NULL: the fast tier holds all */
	const struct dynsnap_superblock *sb;
	bool read_only;
};

/* Per-table settings that may change on reload. */
enum dsn_on_full {
	DSN_ON_FULL_ERROR,		/* fail writes that need a delta */
	DSN_ON_FULL_DROP_OLDEST,	/* delete the oldest unused snapshot */
};

/* A held block lock; see dsn_lock_block(). */
struct dsn_held {
	struct list_head node;		/* on its lock bucket */
	u64 block;
};

/* Per-bio state of a write to the volume; the target's per-io data. */
struct dsn_io {
	struct work_struct work;
	struct dsn_engine *engine;
	struct bio *bio;
	struct list_head defer_node;	/* waiting for an epoch switch */
	struct dsn_held held;		/* the block, locked until end_io */
	u64 block;
	u64 volume_sector;		/* the bio's first volume sector */
	const u8 *new_data;		/* or NULL: the bio's data */
	u32 new_sectors;		/* of new_data */
	u64 seen;			/* space generation that found no room */
	bool counted;			/* in the engine's in-flight count */
	bool locked;			/* holds the block lock until end_io */
};

enum dsn_rollback_state {
	DSN_ROLLBACK_NONE,		/* none since activation */
	DSN_ROLLBACK_RUNNING,
	DSN_ROLLBACK_PAUSED,		/* the device is suspended */
	DSN_ROLLBACK_DONE,
	DSN_ROLLBACK_FAILED,
};

struct dsn_counters {
	u64 snapshots;
	u64 epoch;
	u64 fast_used_sectors, fast_total_sectors;
	u64 slow_used_sectors, slow_total_sectors;
	u64 delta_records;
	u64 delta_bytes;		/* bytes of records, headers included */
	u64 checksum_errors;
	u64 regions[DYNSNAP_LEVEL__COUNT];
	u64 space_events;
	bool full;
	enum dsn_rollback_state rollback;
	u64 rollback_id, rollback_done, rollback_total;
	int rollback_error;
};

/*
 * Create the engine of a store and bring it up to date by replaying its
 * logs. On failure returns an ERR_PTR and sets *@error for ti->error:
 * -ENOMEM, -EUCLEAN (inconsistent checkpoint or logs), -ENOSPC (a data
 * area too small) or a read error. May sleep.
 */
struct dsn_engine *dsn_engine_create(const struct dsn_engine_config *cfg,
				     const char **error);
/* Stop the workers and free everything; no table uses @e. May sleep. */
void dsn_engine_destroy(struct dsn_engine *e);

/*
 * Settings of the table that goes live (on resume): the default level of
 * regions without one of their own, the space policy, and the callback
 * that raises a dm event when the engine's state changes. The callback is
 * only ever called from a work item (process context, no engine lock
 * held), never from the I/O path. Levels are fixed per epoch: the default
 * given here applies from the next snapshot, except at the first call
 * after activation, when the engine has no other to go on. May sleep;
 * takes snap_lock and table_lock. Works on a failed engine too.
 */
void dsn_engine_configure(struct dsn_engine *e, enum dynsnap_level level,
			  enum dsn_on_full on_full,
			  void (*event)(void *context), void *context);

/*
 * A table goes away: forget its callback unless another took over. Waits
 * for a callback of @context that is running. May sleep; takes
 * table_lock.
 */
void dsn_engine_detach(struct dsn_engine *e, void *context);

/*
 * The volume's last table is gone, so nothing preserves old data before
 * the origin is overwritten any more: every later view read ends with EIO
 * rather than reading an origin nobody protects. Waits for view reads in
 * progress (flushes the bio workqueue). May sleep.
 */
void dsn_engine_orphan(struct dsn_engine *e);

/*
 * True once a tier log or checkpoint write failed; never false again for
 * this engine. Any context, never sleeps.
 */
bool dsn_engine_failed(struct dsn_engine *e);

/*
 * Write a checkpoint now (the device is suspended): it records how far
 * each log is durable, so that a later activation can tell damage at the
 * end of a log from where writing stopped. 0 or a negative error.
 */
int dsn_engine_checkpoint(struct dsn_engine *e);

/*
 * Map a write, discard or write-zeroes to the volume. @bio lies within
 * one block and has already been remapped to the origin. Returns
 * DM_MAPIO_REMAPPED when it may go to the origin at once, otherwise
 * DM_MAPIO_SUBMITTED: the engine preserves what it overwrites first and
 * submits it itself (or ends it with an error), or holds it back while an
 * epoch switch runs. Any context, never sleeps; takes admit_lock with
 * interrupts off. Once the engine failed, a write that needs a delta ends
 * with BLK_STS_IOERR; one that needs none still goes to the origin.
 */
int dsn_map_write(struct dsn_engine *e, struct dsn_io *io, struct bio *bio,
		  u64 volume_sector);

/*
 * Completion of a write that went through dsn_map_write(): releases its
 * block lock and its place among the writes in flight. Any context, never
 * sleeps.
 */
void dsn_end_write(struct dsn_io *io);

/*
 * Messages. Each may sleep and takes snap_lock. Those that write return 0
 * or a negative errno, and -EROFS on a read-only engine and -EIO once it
 * failed (also when their own journal write fails it); those that answer
 * with text write it to @result and return 1, as dm message handlers do.
 */

/*
 * Take snapshot @name (*@id: its id): waits for every write in flight,
 * holding new ones back meanwhile. Also -EINVAL (name), -EEXIST,
 * -EOVERFLOW (no epoch left), -EMLINK (too many for a checkpoint),
 * -ENOSPC (no journal space), -ENOMEM, or the origin flush's error.
 */
int dsn_snap_create(struct dsn_engine *e, const char *name, u64 *id);
/*
 * Delete snapshot @id and collect the garbage it leaves. Also -ENOENT,
 * -EBUSY (a view or a rollback uses it), -ENOSPC; -ENOMEM when the
 * snapshot is deleted but its garbage is left for a later deletion.
 */
int dsn_snap_delete(struct dsn_engine *e, u64 id);
/*
 * One line per snapshot: "<id> <name> <ctime> <exclusive bytes> <epoch>".
 * Returns 1; works on a failed engine.
 */
int dsn_snap_list(struct dsn_engine *e, char *result, unsigned int maxlen);
/*
 * Regions [@first_region, +@count) get @level from the next snapshot on;
 * journaled. Also -ERANGE, -ENOSPC.
 */
int dsn_set_granularity(struct dsn_engine *e, enum dynsnap_level level,
			u32 first_region, u32 count);

/*
 * The volume sectors that may differ between snapshots @from_id and @to_id
 * (0: the live volume), from @first_sector on: every range a delta of an
 * epoch between them covers, one "<sector> <sectors>" line each, then
 * "end", or "next <sector>" where the result buffer is full. Returns 1,
 * or -ENOENT for an unknown snapshot; works on a failed engine.
 */
int dsn_snap_diff(struct dsn_engine *e, u64 from_id, u64 to_id,
		  u64 first_sector, char *result, unsigned int maxlen);

/*
 * Per region from @first_region on, one line "<region> <level>
 * <next_level> <delta_records> <delta_bytes> <records_this_epoch>", then
 * "end", or "next <region>" where the result buffer is full. Returns 1;
 * works on a failed engine.
 */
int dsn_region_map(struct dsn_engine *e, u32 first_region, char *result,
		   unsigned int maxlen);

/*
 * Bring the volume back to snapshot @id in the background. Every block
 * that changed since the snapshot gets the snapshot's bytes through the
 * normal write path, so its current bytes are preserved like any
 * overwrite: every snapshot stays intact and a rollback can be undone.
 * The caller makes sure nobody has the volume open. May sleep; takes
 * snap_lock. Returns 0, -EROFS, -EIO once the engine failed, -EALREADY
 * while one is running or paused, -ENOENT. Once the engine fails, the
 * rollback stops with -EIO at the next block it has to write (see the
 * counters).
 */
int dsn_rollback(struct dsn_engine *e, u64 id);
/*
 * Suspend: stop a running rollback at a block boundary, waiting for it;
 * resume: go on. May sleep.
 */
void dsn_rollback_pause(struct dsn_engine *e);
void dsn_rollback_continue(struct dsn_engine *e);

/* The counters, each read without a lock. Any context, never sleeps. */
void dsn_engine_counters(struct dsn_engine *e, struct dsn_counters *c);

/*
 * First sector of checkpoint slot @slot (0 or 1) in the metadata area.
 * Any context.
 */
u64 dsn_checkpoint_slot_sector(const struct dynsnap_layout *layout, u32 slot);

/* ---- Snapshot views ---- */

struct dsn_view;

/*
 * Open a view of snapshot @id; the snapshot cannot be deleted while the
 * view exists. @current_bdev reads the volume's current content (the
 * origin, opened by the view itself). May sleep; takes snap_lock. On
 * failure returns an ERR_PTR (-ENOMEM, -ENOENT) and sets *@error. Works on
 * a failed engine.
 */
struct dsn_view *dsn_view_open(struct dsn_engine *e, u64 id,
			       struct block_device *current_bdev,
			       const char **error);
/* Unpin the snapshot and free @v. May sleep; takes snap_lock. */
void dsn_view_close(struct dsn_view *v);

/* Per-bio data a view target needs. */
size_t dsn_view_io_size(void);

/*
 * Queue a read of the view on the bio workqueue; @bio lies within one
 * block. Any context, never sleeps. The read ends with EIO once the
 * volume is orphaned or a delta it needs is damaged; a failed engine
 * still serves it.
 */
void dsn_view_read(struct dsn_view *v, struct bio *bio, u64 volume_sector);

/* Geometry and devices of the store. Any context. */
u64 dsn_engine_volume_sectors(struct dsn_engine *e);
u32 dsn_engine_block_sectors(struct dsn_engine *e);
dev_t dsn_engine_origin_dev(struct dsn_engine *e);
/* A tier's device, 0 for a missing slow tier. */
dev_t dsn_engine_tier_dev(struct dsn_engine *e, u32 tier);

#endif /* DM_DYNSNAP_ENGINE_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-dynsnap engine, private part: the structures the engine's files share
 * and the helpers they call across file boundaries. Only engine files
 * include this; the target and the metadata see the opaque interface of
 * dm-dynsnap-engine.h.
 */

/**
 * DOC: concurrency model of the engine
 *
 * Contexts. The target's map and end_io paths call dsn_map_write() and
 * dsn_end_write() in any context, end_io possibly in interrupt context:
 * they never sleep, take only admit_lock and a block lock bucket's
 * spinlock, and read the index under RCU. Everything else runs in process
 * context and may sleep: preserving writes, view reads and the rollback
 * on the engine's bio workqueue (e->wq, WQ_MEM_RECLAIM | WQ_UNBOUND),
 * space recovery on its own ordered workqueue (e->space_wq, in the NOIO
 * scope), dm events from system_wq (event_work), and messages, table
 * construction, suspend and resume from the dm core.
 *
 * Lock order. A context that holds a lock of this list takes only locks
 * further down it; none is taken in the other direction.
 *
 *  1. A read slot (e->read_slots, a semaphore over buffers): a view read
 *     or the rollback holds one for its whole run. Process context.
 *  2. snap_lock (mutex): the snapshot list and nr_snaps, the epoch,
 *     next_id, the region level maps and next_default, each snapshot's
 *     view count, the checkpoint state (ckpt_*, ctl_refs, the pending
 *     reclaim flags), the rollback's
 *     state, and the life of index blocks (only the garbage collector,
 *     which holds it, frees them). Process context: messages, view
 *     open and close, dsn_engine_configure(), the rollback (per block),
 *     the space worker (dropping snapshots) and replay.
 *  3. table_lock (mutex): the live table's settings and event callback.
 *     Taken under snap_lock by dsn_engine_configure() only, alone by
 *     event_work and dsn_engine_detach(); the callback runs under it.
 *  4. A block lock (dsn_lock_block(): one holder per block, waits on its
 *     bucket's queue; released in any context). A block's delta array
 *     changes only under its lock. A context holds at most one block
 *     lock. A preserving write holds its block's from the worker until
 *     the origin write completes (dsn_end_write()); a view read, the
 *     rollback and the garbage collector hold it per block. Lockdep
 *     sees every block lock as one class (dm-dynsnap-lock.c).
 *  5. A write slot (e->write_slots): taken by dsn_preserve() under the
 *     block lock.
 *  6. A tier log's mutex (struct dsn_log in dm-dynsnap-log.h): only ever
 *     held inside the dsn_log_*() calls, which are made under snap_lock,
 *     a block lock, both, or none; one tier at a time.
 *  7. index_lock (spinlock, process context only): count, cap and deltas
 *     of every index block, and e->delta_records. Changes also hold the
 *     block's lock (but for the replay, before the engine is live), so a
 *     reader holds either. Nothing sleeps under it; only the xarray's own
 *     lock nests inside.
 *  8. admit_lock (spinlock, irq-safe): switching, inflight, the deferred
 *     list and space_waiters. Taken with interrupts off everywhere, in
 *     the map and end_io paths and under snap_lock (epoch switches);
 *     nothing is taken under it.
 *  9. Leaves private to their files: a block lock bucket's spinlock
 *     (irq-safe) and a slot pool's spinlock.
 *
 * Without a lock. The map path reads nr_snaps, epoch and an index block's
 * cur_epoch, cur_level and cur_mask without a lock: nr_snaps and epoch
 * are written with WRITE_ONCE() under snap_lock, the epoch only while an
 * epoch switch holds every write back (dsn_begin_switch()), so a write
 * counted in flight, or a holder of snap_lock, sees one epoch throughout;
 * the block fields are published as dsn_index_insert() explains. Index
 * blocks are freed after an RCU grace period. failed, full and orphaned
 * are flags set with xchg() or WRITE_ONCE() and read with READ_ONCE();
 * space_gen only grows, under snap_lock. The rollback's progress fields
 * are written with WRITE_ONCE() for dsn_engine_counters().
 *
 * Memory. A preserving write never fails for memory: index blocks and
 * delta arrays of up to 256 entries come from mempools with a reserve for
 * every write in flight, larger arrays wait for memory in the NOIO scope,
 * and every bio comes from the engine's own bio set.
 *
 * Failure. dsn_engine_fail() marks the engine failed for good when a log
 * or checkpoint write fails; every operation that would write checks
 * dsn_engine_failed() (or e->failed) first and returns -EIO.
 */
#ifndef DM_DYNSNAP_ENGINE_INTERNAL_H
#define DM_DYNSNAP_ENGINE_INTERNAL_H

#include <linux/atomic.h>
#include <linux/bio.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/mempool.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/semaphore.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "../core/dynsnap_checkpoint.h"
#include "../core/dynsnap_control.h"
#include "dm-dynsnap-engine.h"
#include "dm-dynsnap-log.h"

/* Region level that follows the table's default. */
#define LEVEL_DEFAULT		DYNSNAP_LEVEL_DEFAULT
#define LOCK_BUCKETS		64
/* Buffers for concurrent preserving writes and view reads. */
#define SLOT_MEMORY		(8U << 20)
#define MAX_SLOTS		16U
/*
 * Arrays of up to 4 << (DELTA_CLASSES - 1) deltas come from mempools, one
 * per power-of-two size, each with a reserve for every preserving write
 * that can be in flight; longer ones are rare (a block rewritten at bit
 * level for a long time) and wait for memory instead of failing.
 */
#define DELTA_CLASSES		7
#define DELTA_CLASS_MIN		4U

/* One undo delta in memory; the record itself stays on its tier. */
struct dsn_delta {
	u64 pos;		/* byte offset of the record on its tier */
	u32 epoch;
	u32 stored;		/* payload bytes */
	u16 first;		/* first sector of the block it covers */
	u16 sectors;		/* sectors covered */
	u8 level;		/* enum dynsnap_level */
	u8 tier;		/* enum dynsnap_tier */
	bool damaged;		/* failed verification at activation */
};

/*
 * The deltas of one block, oldest epoch first. count, cap and deltas
 * change only with the block's lock held, and under index_lock, so either
 * lock keeps them still. cur_epoch, cur_level and cur_mask are read
 * without a lock by the map path: see dsn_index_insert() for how they are
 * published.
 */
struct dsn_block {
	struct rcu_head rcu;
	struct dsn_engine *engine;	/* for the RCU free */
	u32 cur_epoch;		/* epoch cur_level and cur_mask refer to */
	u8 cur_level;		/* the level this block uses in cur_epoch */
	u64 cur_mask;		/* sub-blocks already preserved in cur_epoch */
	u32 count, cap;
	struct dsn_delta *deltas;
};

struct dsn_snap {
	struct list_head node;		/* on engine->snaps, oldest first */
	u64 id;
	u32 epoch;
	u64 ctime_ns;
	unsigned int views;
	char name[DYNSNAP_SNAP_NAME_MAX + 1];
};

/* A control record not yet covered by a checkpoint. */
struct dsn_ctl_ref {
	u64 pos;
	u64 seq;
	u32 bytes;
};

struct dsn_lock_bucket {
	spinlock_t lock;		/* held; irq-safe: end_io releases */
	struct list_head held;
	wait_queue_head_t wait;
};

struct dsn_slot {
	struct list_head node;
	u8 *data;		/* a block */
	u8 *rec;		/* a record as read or built */
};

struct dsn_slot_pool {
	spinlock_t lock;		/* free */
	struct list_head free;
	struct semaphore sem;
	unsigned int nr;
	struct dsn_slot *slots;
};

struct dsn_engine {
	char name[48];
	struct block_device *origin_bdev;	/* valid while a table is */
	dev_t origin_dev;
	struct dynsnap_geometry geo;
	u64 volume_sectors;
	u32 block_bytes, sub_bytes, subs_per_block;
	u64 full_mask;
	unsigned int block_shift;	/* sectors -> blocks */
	u32 nr_regions;
	bool read_only;
	size_t rec_cap;			/* bytes of a record buffer */

	struct dsn_log fast, slow;
	bool has_slow;

	struct workqueue_struct *wq;
	struct dsn_slot_pool write_slots, read_slots;
	struct dsn_lock_bucket locks[LOCK_BUCKETS];
	struct lockdep_map block_lock_map;	/* every block lock */
	/* Every bio the engine allocates itself; never the callers' sets. */
	struct bio_set bios;
	/* Index memory, so a preserving write never fails for lack of it. */
	mempool_t *block_pool;
	mempool_t *delta_pools[DELTA_CLASSES];

	/* The index; writers also hold the block's lock. */
	spinlock_t index_lock;
	struct xarray index;
	u64 delta_records;

	/* Snapshots and epochs, changed under snap_lock. */
	struct mutex snap_lock;
	u32 epoch;
	struct list_head snaps;
	u32 nr_snaps;
	u64 next_id;
	u8 *cur_level, *next_level;	/* per region, or LEVEL_DEFAULT */
	u8 cur_default, next_default;

	/* Checkpoints (docs/design/snapshot-engine.md), under snap_lock. */
	u8 uuid[DYNSNAP_UUID_SIZE];
	struct dynsnap_layout layout;
	u64 ckpt_generation;		/* of the newest durable one, 0: none */
	u32 ckpt_slot;			/* the slot the next one goes to */
	u64 control_seq;		/* replay: control records below it are covered */
	u32 replay_epoch;		/* replay: epoch of the fast log so far, 0: unknown */
	struct dsn_ctl_ref *ctl_refs;
	u32 nr_ctl_refs, cap_ctl_refs;

	/* Admission of writes, so an epoch switch can wait for a quiet volume. */
	spinlock_t admit_lock;
	bool switching;
	unsigned long inflight;
	struct list_head deferred;
	wait_queue_head_t drain_wait;

	/*
	 * Settings of the live table and its event callback, called from
	 * event_work only, so never from the I/O path or under a spinlock.
	 */
	struct mutex table_lock;
	enum dsn_on_full on_full;
	void (*event)(void *context);
	void *event_context;
	struct work_struct event_work;
	bool configured;		/* a table has gone live */

	/*
	 * Space recovery for on_full drop_oldest, off the bio path: writes
	 * that found no room wait on space_waiters (under admit_lock) for
	 * space_work, on its own workqueue.
	 */
	struct workqueue_struct *space_wq;
	struct work_struct space_work;
	struct list_head space_waiters;

	bool failed;			/* a log or checkpoint write failed */
	bool orphaned;			/* no table protects the origin */

	atomic64_t checksum_errors;
	atomic64_t space_events;
	bool full;
	u64 space_gen;			/* checkpoints that gave segments back */
	/* Under snap_lock: a deletion's collection or checkpoint failed. */
	bool gc_pending;		/* collect every epoch next time */
	bool reclaim_pending;		/* space freed but not given back yet */

	/* The rollback in progress, or the last one; see dsn_rollback(). */
	struct {
		struct work_struct work;
		struct dsn_snap *snap;		/* pinned like by a view */
		u64 id;
		u64 cursor;			/* the next block to look at */
		u64 done, total;		/* blocks */
		int error;
		enum dsn_rollback_state state;	/* changed under snap_lock */
		bool stop;			/* pause at the next block */
	} rb;
};

/*
 * Functions shared between the engine's files. Unless it says otherwise,
 * each runs in process context, may sleep, and needs no lock held.
 */

/* ---- Engine: lifetime, failure, events: dm-dynsnap-engine.c ---- */

/*
 * Have event_work tell the live table that the engine's state changed.
 * Any context, any lock held; does not sleep.
 */
void dsn_raise_event(struct dsn_engine *e);
/*
 * Fail the engine for good after the write of @what failed, and raise an
 * event the first time. Any context; does not sleep.
 */
void dsn_engine_fail(struct dsn_engine *e, const char *what);

/*
 * A buffer of @p, waiting for one to be free. May sleep: see the lock
 * order for which pool may be taken under which lock.
 */
struct dsn_slot *dsn_slot_get(struct dsn_slot_pool *p);
/* Give @s back to @p. Does not sleep. */
void dsn_slot_put(struct dsn_slot_pool *p, struct dsn_slot *s);

/* ---- Block locks: dm-dynsnap-lock.c ---- */

/* Set up @e's block lock buckets and their lockdep class. */
void dsn_init_block_locks(struct dsn_engine *e);
/*
 * Lock @block for @h, waiting while another holds it. May sleep; no other
 * block lock, index_lock or admit_lock held.
 */
void dsn_lock_block(struct dsn_engine *e, struct dsn_held *h, u64 block);
/* Release the lock @h holds, in the context that took it. */
void dsn_unlock_block(struct dsn_engine *e, struct dsn_held *h);
/*
 * The context that took a block lock hands it to an I/O: the lock stays
 * held, and dsn_unlock_handed_off_block() releases it in any context.
 */
void dsn_hand_off_block(struct dsn_engine *e);
/* Release a handed-off block lock. Any context; does not sleep. */
void dsn_unlock_handed_off_block(struct dsn_engine *e, struct dsn_held *h);

/* ---- Index: dm-dynsnap-index.c ---- */

/* The level of @block's region in the current epoch. Any context. */
u8 dsn_region_level(struct dsn_engine *e, u64 block);
/* Sub-blocks that sectors [first, first + count) of a block touch. */
u64 dsn_sub_mask(struct dsn_engine *e, u32 first, u32 count);
/* The log of tier @tier. Any context. */
struct dsn_log *dsn_log_of(struct dsn_engine *e, u32 tier);
/* Free a delta array of @cap entries (NULL: nothing). Does not sleep. */
void dsn_deltas_free(struct dsn_engine *e, struct dsn_delta *d, u32 cap);
/* RCU callback that frees an index block taken out of the index. */
void dsn_block_free_rcu(struct rcu_head *rcu);
/*
 * Make room for @n more deltas of @block. The block's lock held (or the
 * replay at activation); index_lock not held. Never fails.
 */
void dsn_index_reserve(struct dsn_engine *e, u64 block, u32 n);
/*
 * Add delta @d of @block and publish its sub-block @mask, room reserved.
 * index_lock held, and the block's lock (or the replay at activation).
 * Does not sleep.
 */
void dsn_index_insert(struct dsn_engine *e, u64 block,
		      const struct dsn_delta *d, u64 mask);
/* Free the whole index; the engine is going away, nothing uses it. */
void dsn_free_index(struct dsn_engine *e);

/* ---- Write path and admission: dm-dynsnap-write.c ---- */

/*
 * Hold new writes back and wait until none is in flight. snap_lock held;
 * dsn_end_switch() lets them go, each through the normal decision.
 */
void dsn_begin_switch(struct dsn_engine *e);
void dsn_end_switch(struct dsn_engine *e);
/*
 * Preserve what @io is about to overwrite: append its records, wait until
 * they are durable, index them. The block's lock held, no other lock but
 * snap_lock (the rollback). Returns 0, -EIO once the engine failed or on a
 * read or log error, -ENOSPC when the log is full, -EOVERFLOW.
 */
int dsn_preserve(struct dsn_engine *e, struct dsn_io *io);
/*
 * Let @io, which waited outside the count of writes in flight, in again
 * like a new write; or end it with error @r. No lock held.
 */
void dsn_readmit(struct dsn_engine *e, struct dsn_io *io);
void dsn_fail_io(struct dsn_engine *e, struct dsn_io *io, int r);

/* ---- Space policy: dm-dynsnap-space.c ---- */

/* True when the table's policy is on_full drop_oldest. Any context. */
bool dsn_drops_oldest(struct dsn_engine *e);
/* A log append found no room: count it, raise an event. Any context. */
void dsn_note_full(struct dsn_engine *e);
/* The space worker (e->space_work) on e->space_wq. */
void dsn_space_work(struct work_struct *work);
/*
 * on_full drop_oldest: make room for a write that found none while
 * space_gen was @seen, dropping the oldest snapshots nobody reads. Takes
 * snap_lock: never called with it held, nor with a block lock. Returns 0
 * when the write should try again, -ENOSPC when no room can be made, -EIO
 * once the engine failed.
 */
int dsn_make_room(struct dsn_engine *e, u64 seen);

/* ---- Snapshots: dm-dynsnap-snapshot.c ---- */

/* The snapshot with id @id, or NULL. snap_lock held (or the replay). */
struct dsn_snap *dsn_find_snap(struct dsn_engine *e, u64 id);
/* Append @snap, the newest. snap_lock held (or the replay). */
void dsn_add_snap(struct dsn_engine *e, struct dsn_snap *snap);
/*
 * Delete @snap, which has no view: journal, then dsn_reclaim(). snap_lock
 * held. Returns 0 once the delete is journaled (the snapshot is gone, even
 * when the reclaim failed and stays pending), else the journal's error
 * (-EIO once the engine failed, -ENOSPC) and the snapshot stays.
 */
int dsn_delete_snap(struct dsn_engine *e, struct dsn_snap *snap);
/*
 * Collect the garbage of deleted snapshots' epochs [@lo, @hi) (all epochs
 * while an earlier collection is pending) and write a checkpoint, leaving
 * gc_pending or reclaim_pending set for what failed. snap_lock held.
 * Returns 0 once a checkpoint is written, -ENOMEM, or the checkpoint's
 * error.
 */
int dsn_reclaim(struct dsn_engine *e, u32 lo, u32 hi);

/* ---- Garbage collection: dm-dynsnap-gc.c ---- */

/*
 * Drop every delta no retained snapshot can read, among blocks with deltas
 * of epochs in [@lo, @hi). snap_lock held; takes block locks and
 * index_lock in turn. Returns 0 or -ENOMEM.
 */
int dsn_gc_collect(struct dsn_engine *e, u32 lo, u32 hi);
/*
 * Per retained snapshot, oldest first, add to @exclusive the bytes of the
 * records only it needs. snap_lock held. Returns 0 or -ENOMEM.
 */
int dsn_exclusive_bytes(struct dsn_engine *e, u64 *exclusive);

/* ---- Checkpoints: dm-dynsnap-checkpoint.c ---- */

/* Bytes of a checkpoint of @nr_snaps snapshots, 0 if it fits no slot. */
u32 dsn_ckpt_bytes(struct dsn_engine *e, u32 nr_snaps);
/*
 * Remember a journaled control record until a checkpoint covers it.
 * snap_lock held (or the replay).
 */
void dsn_add_ctl_ref(struct dsn_engine *e, u64 pos, u64 seq, u32 bytes);
/*
 * Write a checkpoint and give the log segments it frees back. snap_lock
 * held. Returns 0 (also on a read-only engine, which writes none), -EIO
 * once the engine failed, -ENOMEM, -ENOSPC, or -EIO or the log's error
 * when writing the checkpoint or flushing a log fails, which fails the
 * engine.
 */
int dsn_write_checkpoint(struct dsn_engine *e);
/*
 * Load the newest valid checkpoint at activation into the engine and *@c.
 * Returns 0 or a negative errno with *@error set.
 */
int dsn_load_checkpoint(struct dsn_engine *e, struct dynsnap_checkpoint *c,
			const char **error);

/* ---- Views: dm-dynsnap-view.c ---- */

/*
 * Turn @slot->data, @block's current bytes, into its bytes at the start of
 * @epoch. The block's lock held. Returns 0 or -EIO (a damaged record),
 * or the log's read error.
 */
int dsn_apply_since(struct dsn_engine *e, u64 block, u32 epoch,
		    struct dsn_slot *slot);

/* ---- Rollback: dm-dynsnap-rollback.c ---- */

/* The rollback worker (e->rb.work) on e->wq. */
void dsn_rollback_work(struct work_struct *work);

/* ---- Replay: dm-dynsnap-replay.c ---- */

/*
 * Rebuild the snapshots, levels and index from the checkpoint and the
 * logs at activation, before the engine is live. Returns 0 or a negative
 * errno with *@error set.
 */
int dsn_replay(struct dsn_engine *e, const char **error);

#endif /* DM_DYNSNAP_ENGINE_INTERNAL_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rules of a replay: how activation rebuilds a store from its
 * checkpoint and delta logs, and how the offline check retraces it.
 *
 * A tier's log is replayed from its head segment along the chain. The head
 * is the one the checkpoint names, or without a checkpoint segment 0 if it
 * holds the log's first segment; else the log is empty. Each segment's
 * records are taken in sequence; one whose payload alone does not verify
 * is kept as damaged when the log goes on after it, and one that does not
 * verify otherwise ends the log. The log goes on in the successor a segment names
 * when that holds the next segment of the chain and goes on from the next
 * record; records missing in between make the log inconsistent. Where the
 * log ends, the rest of its last segment and the successor are searched for
 * records of the store written after the end was durable: any such record
 * makes the log damaged, and activation refuses it rather than replay a
 * prefix (dynsnap_replay_past_end()).
 *
 * Records are applied in log order: control records (fast log only) in
 * the journal after the checkpoint, delta records with their epoch checked
 * against the store's.
 *
 * Each function decides, the caller does the I/O and keeps the state.
 * Pure functions on caller-owned buffers: no allocation, callable from any
 * context.
 */
#ifndef DYNSNAP_REPLAY_H
#define DYNSNAP_REPLAY_H

#include "dynsnap_control.h"
#include "dynsnap_log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The segment_seq of a log's first segment. */
#define DYNSNAP_LOG_FIRST_SEGMENT_SEQ	1ULL

/*
 * Decode the segment header at @buf (@len bytes) as one of the log of
 * @tier: dynsnap_segment_decode(), and DSN_ERR_SEG_TIER when it is the
 * other tier's. A header that does not decode is no header of the log.
 */
enum dynsnap_err dynsnap_replay_segment(const u8 *buf, size_t len,
					const u8 uuid[DYNSNAP_UUID_SIZE],
					u32 tier,
					struct dynsnap_segment_header *sh);

/*
 * Where the replay of a log starts. @head_seq is the segment_seq of the
 * head a checkpoint names, 0 without one (the header looked at is then
 * segment 0's); @sh the header found there, NULL when it is no header of
 * the log. DSN_OK: replay from it. DSN_ERR_LOG_HEAD: the checkpoint names
 * a head that is not there, the log is inconsistent. DSN_ERR_LOG_EMPTY: no
 * checkpoint and no log's first segment: the log starts empty.
 */
enum dynsnap_err dynsnap_replay_head(const struct dynsnap_segment_header *sh,
				     u64 head_seq);

/*
 * Does the log go on after segment @cur, whose records reach up to @seq
 * (the sequence of the next record), in the successor it names, whose
 * header is @next (NULL when it is no header of the log)? DSN_OK: go on
 * with it. DSN_ERR_LOG_GAP: it is the next segment of the chain but goes
 * on from a later record, the records in between are missing: the log is
 * inconsistent. The log ends at @seq with DSN_ERR_LOG_PASSED when it goes
 * on from a record already passed (its records are dropped) and
 * DSN_ERR_LOG_END when it is not the next segment of the chain.
 */
enum dynsnap_err dynsnap_replay_successor(const struct dynsnap_segment_header *cur,
					  const struct dynsnap_segment_header *next,
					  u64 seq);

/*
 * The record at *@pos of a segment's records (@buf, @len bytes after its
 * header block) did not verify (dynsnap_log_next() refused it). If its
 * header still verifies as delta record @seq of the store of @seed (only
 * its payload is damaged) and record @seq + 1 follows it, it is damaged
 * but kept, so that reading it fails rather than the log ending silently:
 * DSN_OK with *@h filled and *@pos past it. Else DSN_ERR_LOG_END: the log
 * ends there, and dynsnap_replay_past_end() tells whether that is its
 * real end.
 */
enum dynsnap_err dynsnap_replay_skip_damaged(const u8 *buf, size_t len,
					     size_t *pos, u32 seed, u64 seq,
					     struct dynsnap_record_header *h);

/*
 * The replay of a log ended before record @end_seq. Search @buf (@len
 * bytes of a segment after its header block) from *@pos for a record of
 * the store of @seed whose batch was written after record @end_seq was
 * durable (dynsnap_record_durable_below() above @end_seq).
 * DSN_ERR_LOG_DAMAGED with *@pos and *@h at the first one: the records
 * from @end_seq on were acknowledged and cannot all be read, the log is
 * damaged. DSN_OK when there is none: the log ends where writing stopped
 * or where a crash tore a batch, whose records, found or not, were never
 * acknowledged (the writer has one batch in flight per log).
 *
 * The places to search are the rest of the segment where the log ended
 * and the successor it names (a segment after that is opened only once
 * the successor is full, behind a durable header of its own).
 */
enum dynsnap_err dynsnap_replay_past_end(const u8 *buf, size_t len,
					 size_t *pos, u32 seed, u64 end_seq,
					 struct dynsnap_record_header *h);

/*
 * The replay of a log ended before record @end_seq; the checkpoint it
 * started from says the records below @durable_seq were durable when it
 * was written (0: no checkpoint, nothing known). DSN_OK when the replay
 * reached that far, else DSN_ERR_LOG_DAMAGED: acknowledged records are
 * missing, also those of a last batch no later write vouches for.
 */
enum dynsnap_err dynsnap_replay_reached(u64 end_seq, u64 durable_seq);

/*
 * No checkpoint, and segment 0 (@buf, @len bytes after its header block)
 * holds no first segment of the log: the log is empty, unless records of
 * the store of @seed lie there from two batches or more, which means its
 * first batch was durable and the header is damaged: DSN_ERR_LOG_DAMAGED
 * with *@pos and *@h at a record of a later batch. DSN_OK: the log starts
 * empty (nothing there, or what a torn first batch left), and its first
 * sequence must lie above *@highest (0: no record found), so that what
 * the torn batch left never passes for a later batch of the new log.
 */
enum dynsnap_err dynsnap_replay_unheaded(const u8 *buf, size_t len, u32 seed,
					 size_t *pos,
					 struct dynsnap_record_header *h,
					 u64 *highest);

/*
 * First look at control record @h (verified @payload, NULL if none) met
 * in the log of @tier, before it is applied: control records belong to
 * the fast log alone (DSN_ERR_REPLAY_CTL_TIER). A SNAP_CREATE sets
 * *@replay_epoch, the epoch the fast log has reached, to the epoch it
 * opens, even when the checkpoint holds it already. *@covered tells that
 * the checkpoint the replay started from holds it already (its sequence is
 * below @control_seq): it is not applied again. Else a decoding error.
 */
enum dynsnap_err dynsnap_replay_control_seen(const struct dynsnap_record_header *h,
					     const u8 *payload, u32 tier,
					     u64 control_seq, u32 *replay_epoch,
					     bool *covered);

/* A control record as the replay applies it, and the store after it. */
struct dynsnap_replay_ctl {
	u32 type;		/* enum dynsnap_control_type */
	u32 epoch;		/* the store's epoch after it */
	u64 next_id;		/* the store's next snapshot id after it */
	union {
		struct dynsnap_ctl_snap_create create;
		struct dynsnap_ctl_snap_delete del;
		struct dynsnap_ctl_granularity gran;
	};
};

/*
 * Decode control record @h (@payload) not held by the checkpoint and check
 * it against the store so far: its epoch @epoch, next snapshot id @next_id
 * and @nr_regions regions. On DSN_OK the caller applies *@c:
 *  - SNAP_CREATE: the snapshot is added, it opens c->epoch (the one after
 *    @epoch: else DSN_ERR_REPLAY_SNAP_EPOCH) and its id is not below
 *    @next_id (else DSN_ERR_REPLAY_SNAP_ID); the levels set for the next
 *    epoch become the current ones;
 *  - SNAP_DELETE: the snapshot goes, if it is still there;
 *  - GRANULARITY: the regions, all in the store (else
 *    DSN_ERR_REPLAY_REGIONS), get the level from the next epoch on.
 * c->epoch and c->next_id are the store's after it. An unknown type is
 * DSN_ERR_CTL_TYPE, a payload that does not decode its decoding error.
 * A record refused for the store is still decoded in *@c.
 */
enum dynsnap_err dynsnap_replay_control(const struct dynsnap_record_header *h,
					const u8 *payload, u32 epoch,
					u64 next_id, u64 nr_regions,
					struct dynsnap_replay_ctl *c);

/*
 * Epoch replay files delta record @h under, met in the log of @tier in a
 * store of geometry @g and @volume_sectors sectors at epoch @store_epoch.
 * A record that does not fit the store is its dynsnap_record_check_geometry()
 * error. A record undoes a write of its own epoch, which is neither 0 nor
 * past @store_epoch (else DSN_ERR_REPLAY_EPOCH); in the fast log, in epoch
 * order, it moves *@replay_epoch on. A damaged record kept by replay has a
 * verified header (dynsnap_replay_skip_damaged()): its epoch counts the
 * same. DSN_OK with *@epoch set.
 */
enum dynsnap_err dynsnap_replay_delta(const struct dynsnap_record_header *h,
				      u32 tier, const struct dynsnap_geometry *g,
				      u64 volume_sectors, u32 store_epoch,
				      u32 *replay_epoch, u32 *epoch);

#ifdef __cplusplus
}
#endif

#endif /* DYNSNAP_REPLAY_H */

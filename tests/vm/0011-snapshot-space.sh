#!/bin/bash
# A full fast tier (32 MiB, no slow tier) under both policies. on_full
# error: writes that need new deltas fail with ENOSPC, the status line says
# full, a dm event is raised and the kernel logs it, the snapshot still
# equals its reference, writes that need no new delta still work, and
# deleting the snapshot makes room again. on_full drop_oldest: the oldest
# snapshots are deleted to make room, never one with a view; with nothing
# left to drop, ENOSPC, and the viewed snapshot still equals its reference;
# a checkpoint that fails during the drops ends them after the first (the
# store fails, the other snapshots stay); a rollback that finds the tier
# full waits for the drops and finishes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"

dsn_require_oracle
dsn_setup

LEN=131072		# 64 MiB volume
FAST_SECTORS=65536	# 32 MiB fast tier: 8 MiB of metadata, the rest for deltas
MiB=1048576
dev=/dev/mapper/dsn
model=/tmp/model
fast=/dev/mapper/dsn_fast
declare -A SNAP=()

batch() { dsn_model_write "$@"; }

snap() { dsn_model_snap "$@"; }

# fresh POLICY: a new store on the small fast tier.
fresh() {
	! dmsetup info dsn >/dev/null 2>&1 || dsn_remove dsn
	wipe_dev $fast
	dsn_create dsn "0 $LEN dynsnap $DYNSNAP_ORIGIN $fast - 128 4 granularity sub on_full $1"
	dd if=$dev of=$model bs=1M iflag=direct status=none
	log "status: $(dsn_status dsn)"
}

# is_full: the status line carries the word "full".
is_full() {
	dsn_status dsn | tr ' ' '\n' | grep -qx full
}

dmsetup create dsn_fast --table "0 $FAST_SECTORS linear $DYNSNAP_FAST 0" || die "cannot create $fast"
dmsetup mknodes dsn_fast

log "== on_full error"
fresh error
batch 1 --count 40
snap e1
! is_full || die "status says full before any delta: $(dsn_status dsn)"
events0=$(dsn_events dsn)
mark=$(dsn_kmsg_mark)
log "write 64 MiB of new data after the snapshot: more deltas than the tier holds"
rc=0
dsn_oracle write $dev --seed 2 --count 64 --min-bytes 1M --max-bytes 1M --sequential \
	>/tmp/fill.out 2>&1 || rc=$?
cat /tmp/fill.out
assert_eq "$rc" 4 "dsn-oracle exit status of the fill (4: a write failed with ENOSPC)"
written=$(sed -n 's/.* failed after \([0-9]*\) bytes.*/\1/p' /tmp/fill.out)
log "$written bytes written before ENOSPC; status: $(dsn_status dsn)"
[ "${written:-0}" -ge "$MiB" ] || die "not even the first MiB could be written"
is_full || die "status does not say full: $(dsn_status dsn)"
assert_eq "$(dsn_status_field dsn 1)" write "mode after ENOSPC"
events1=$(dsn_events dsn)
[ "$events1" -gt "$events0" ] || die "no dm event when the tier filled (event $events0 -> $events1)"
dsn_kmsg_since "$mark" | grep dynsnap || die "nothing logged by dynsnap when the tier filled"
dsn_view_check dsn "${SNAP[e1]}" /tmp/ref.e1
dd if=$dev of=/dev/null bs=1M iflag=direct status=none || die "the volume cannot be read when full"
log "writes to a range already preserved in this epoch need no space"
dsn_oracle write $dev --seed 3 --count 8 --range 0:1M --max-bytes 256K ||
	die "a write over data already preserved since the snapshot failed"
assert_eq "$(dsn_snap_count dsn)" 1 "snapshots when full (on_full error drops nothing)"

log "deleting the snapshot makes room"
dsn_snap_delete dsn "${SNAP[e1]}"
assert_eq "$(dsn_snap_count dsn)" 0 "snapshots after delete"
dsn_oracle write $dev --seed 4 --count 64 --min-bytes 1M --max-bytes 1M --sequential ||
	die "writes fail after the only snapshot was deleted"
log "status: $(dsn_status dsn)"
dsn_status dsn >/dev/null || die "no status"

log "== on_full drop_oldest"
fresh drop_oldest
for i in 1 2 3; do
	batch $((10 + i)) --count 40
	snap "d$i"
done
events0=$(dsn_events dsn)
mark=$(dsn_kmsg_mark)
log "write 64 MiB of new data: the oldest snapshots make room"
dsn_oracle write $dev --seed 20 --count 64 --min-bytes 1M --max-bytes 1M --sequential ||
	die "writes failed although snapshots could be dropped"
dsn_oracle write $model --seed 20 --count 64 --min-bytes 1M --max-bytes 1M --sequential >/dev/null
left=$(dsn_snap_ids dsn | tr '\n' ' ')
log "snapshots left: '$left'; status: $(dsn_status dsn)"
case "$left" in
"" | "${SNAP[d3]} " | "${SNAP[d2]} ${SNAP[d3]} ") ;;
*) die "dropped snapshots are not the oldest ones: left '$left'" ;;
esac
[ "$left" != "${SNAP[d1]} ${SNAP[d2]} ${SNAP[d3]} " ] || die "no snapshot was dropped"
[ "$(dsn_status_field dsn 11)" -gt 0 ] || die "no space event counted"
[ "$(dsn_events dsn)" -gt "$events0" ] || die "no dm event when snapshots were dropped"
dsn_kmsg_since "$mark" | grep "dropping snapshot" || die "the kernel did not log the drops"
for i in $left; do
	for n in d1 d2 d3; do
		[ "${SNAP[$n]}" != "$i" ] || dsn_view_check dsn "$i" "/tmp/ref.$n"
	done
done
dsn_reference $model /tmp/ref.live
dsn_compare $dev /tmp/ref.live "live volume after the drops"

log "a snapshot with a view is never dropped: with nothing else to drop, ENOSPC"
for n in p1 p2; do
	batch "3${n#p}" --count 20
	snap "$n"
done
dsn_view_create dsn_pinned dsn "${SNAP[p1]}"
rc=0
dsn_oracle write $dev --seed 40 --count 64 --min-bytes 1M --max-bytes 1M --sequential \
	>/tmp/fill.out 2>&1 || rc=$?
cat /tmp/fill.out
assert_eq "$rc" 4 "dsn-oracle exit status of the fill with only a viewed snapshot left to keep"
assert_eq "$(dsn_snap_ids dsn | tr '\n' ' ')" "${SNAP[p1]} " "snapshots left: only the one with a view"
dsn_compare /dev/mapper/dsn_pinned /tmp/ref.p1 "the view kept through the drops"
dsn_remove dsn_pinned
dsn_view_check dsn "${SNAP[p1]}" /tmp/ref.p1
dsn_remove dsn
dsn_create dsn "0 $LEN dynsnap $DYNSNAP_ORIGIN $fast - 128 4 granularity sub on_full drop_oldest"
dsn_view_check dsn "${SNAP[p1]}" /tmp/ref.p1
dsn_remove dsn

log "== a checkpoint that fails while snapshots are dropped stops the drops"
# Three snapshots, then both checkpoint slots (the 8 MiB of metadata from
# sector 8) fail every write, then more new data than the tier holds. The
# first drop is journaled but its checkpoint fails: the store goes to
# fail mode and no other snapshot may be dropped for space that cannot
# come back.
fresh drop_oldest
for i in 1 2 3; do
	batch $((60 + i)) --count 20
	snap "c$i"
done
fast_table() {
	dmsetup suspend dsn_fast
	if [ "$1" = slots-fail ]; then
		printf '0 8 linear %s 0\n8 16384 error\n16392 %s linear %s 16392\n' \
			"$DYNSNAP_FAST" $((FAST_SECTORS - 16392)) "$DYNSNAP_FAST" | dmsetup load dsn_fast
	else
		dmsetup load dsn_fast --table "0 $FAST_SECTORS linear $DYNSNAP_FAST 0"
	fi
	dmsetup resume dsn_fast
}
fast_table slots-fail
mark=$(dsn_kmsg_mark)
rc=0
dsn_oracle write $dev --seed 64 --count 64 --min-bytes 1M --max-bytes 1M --sequential \
	>/tmp/fill.out 2>&1 || rc=$?
cat /tmp/fill.out
[ "$rc" -ne 0 ] || die "the fill succeeded although no checkpoint could be written"
dsn_kmsg_since "$mark" | grep dynsnap || true
for ((i = 0; i < 40; i++)); do
	[ "$(dsn_status_field dsn 1)" = fail ] && break
	sleep 0.5
done
assert_eq "$(dsn_status_field dsn 1)" fail "mode after the failed checkpoint"
dsn_remove dsn
fast_table linear
dsn_create dsn "0 $LEN dynsnap $DYNSNAP_ORIGIN $fast - 128 4 granularity sub on_full drop_oldest"
assert_eq "$(dsn_snap_ids dsn | tr '\n' ' ')" "${SNAP[c2]} ${SNAP[c3]} " \
	"snapshots after the failed checkpoint (only the oldest dropped)"
dsn_view_check dsn "${SNAP[c2]}" /tmp/ref.c2
dsn_view_check dsn "${SNAP[c3]}" /tmp/ref.c3
dsn_remove dsn

log "== a rollback that needs room waits for drops like a write"
# r0 with 6 MiB of deltas (the oldest records of the log), r1, small
# writes that preserve only parts of their blocks, then new data until
# the tier is full (under on_full error, so nothing is dropped yet).
# Rolling back to r1 rewrites whole blocks, so the rest of each partly
# preserved block needs room: there is none until r0, the snapshot nobody
# reads, is dropped and its records are given back.
fresh error
batch 50 --count 40
snap r0
dsn_oracle write $dev --seed 51 --count 6 --min-bytes 1M --max-bytes 1M --sequential \
	--range 8M:6M || die "writes after r0 failed"
dsn_oracle write $model --seed 51 --count 6 --min-bytes 1M --max-bytes 1M --sequential \
	--range 8M:6M >/dev/null
snap r1
batch 52 --count 20 --range 0:8M --max-bytes 16K
rc=0
dsn_oracle write $dev --seed 53 --count 56 --min-bytes 1M --max-bytes 1M --sequential \
	--range 8M:56M >/tmp/fill.out 2>&1 || rc=$?
cat /tmp/fill.out
assert_eq "$rc" 4 "dsn-oracle exit status of the fill before the rollback"
is_full || die "status does not say full before the rollback: $(dsn_status dsn)"
dmsetup reload dsn --table "0 $LEN dynsnap $DYNSNAP_ORIGIN $fast - 128 4 granularity sub on_full drop_oldest" ||
	die "cannot reload with on_full drop_oldest"
dmsetup suspend dsn && dmsetup resume dsn || die "cannot switch to the new table"
mark=$(dsn_kmsg_mark)
dmsetup message dsn 0 rollback "${SNAP[r1]}" || die "rollback to r1 refused"
for ((i = 0; i < 3000; i++)); do
	st=$(dsn_status_field dsn 13)
	[[ $st == "${SNAP[r1]}":running:* ]] || break
	sleep 0.1
done
dsn_kmsg_since "$mark" | grep dynsnap || true
[[ $st == "${SNAP[r1]}":done:* ]] || die "the rollback did not finish: status field 13 is '$st'"
assert_eq "$(dsn_snap_ids dsn | tr '\n' ' ')" "${SNAP[r1]} " "snapshots after the rollback (r0 dropped)"
dsn_kmsg_since "$mark" | grep -q "dropping snapshot ${SNAP[r0]} " ||
	die "the kernel did not log dropping r0"
dsn_compare $dev /tmp/ref.r1 "live volume after the rollback to r1"
dsn_view_check dsn "${SNAP[r1]}" /tmp/ref.r1
dsn_remove dsn
dsn_remove dsn_fast
log "pass"

#!/bin/bash
# A full fast tier (32 MiB, no slow tier) under both policies. on_full
# error: writes that need new deltas fail with ENOSPC, the status line says
# full, a dm event is raised and the kernel logs it, the snapshot still
# equals its reference, writes that need no new delta still work, and
# deleting the snapshot makes room again. on_full drop_oldest: the oldest
# snapshots are deleted to make room, never one with a view; with nothing
# left to drop, ENOSPC, and the viewed snapshot still equals its reference.
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

batch() {
	dsn_oracle write $dev --seed "$@" || die "writes to the volume failed"
	dsn_oracle write $model --seed "$@" >/dev/null || die "writes to the model failed"
}

snap() {
	dsn_reference $model "/tmp/ref.$1"
	dsn_compare $dev "/tmp/ref.$1" "volume before snapshot $1"
	SNAP[$1]=$(dsn_snap_create dsn "$1")
	log "snapshot $1: id ${SNAP[$1]}"
}

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
dsn_remove dsn_fast
log "pass"

#!/bin/bash
# What the target does when its store fails, when a view outlives its
# volume, when a reload changes the default level, and what snap_list says
# each snapshot alone keeps.
#  1. A fast tier that starts failing writes: the write that needed a delta
#     fails with EIO, the target goes to fail mode with a dm event and a
#     kernel log line, refuses every write and snapshot operation from then
#     on, still reads; a reload stays failed; once the tier works again a
#     new activation is back in write mode with the snapshot intact and the
#     failed writes absent.
#  2. A view whose volume is removed reads EIO, never an origin nobody
#     protects; a new dm device (maybe at the freed device's address) is no
#     dynsnap volume to a view; the store cannot be activated again until
#     the view is gone, and then it is, intact.
#  3. A reload with another default granularity changes the current
#     epoch's levels only at the next snapshot.
#  4. snap_list's exclusive bytes on a case worked out by hand.
# vm-tier: every-kernel
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"

dsn_require_oracle
dsn_setup

LEN=131072		# 64 MiB volume
FAST_SECTORS=$(dev_sectors "$DYNSNAP_FAST")
dev=/dev/mapper/dsn
fast=/dev/mapper/dsn_fast
model=/tmp/model

table() {
	echo "0 $LEN dynsnap $DYNSNAP_ORIGIN $fast $DYNSNAP_SLOW 128 2 granularity ${1:-sub}"
}

# fast_tier linear|error: what the fast tier's dm device does.
fast_tier() {
	local t="0 $FAST_SECTORS linear $DYNSNAP_FAST 0"
	[ "$1" = error ] && t="0 $FAST_SECTORS error"
	if dmsetup info dsn_fast >/dev/null 2>&1; then
		dmsetup suspend dsn_fast
		dmsetup load dsn_fast --table "$t"
		dmsetup resume dsn_fast
	else
		dsn_create dsn_fast "$t"
	fi
}

# wait_mode MODE: the status line's mode becomes MODE within 20 seconds.
wait_mode() {
	local i
	for ((i = 0; i < 40; i++)); do
		[ "$(dsn_status_field dsn 1)" = "$1" ] && return 0
		sleep 0.5
	done
	die "mode is $(dsn_status_field dsn 1), not $1: $(dsn_status dsn)"
}

batch() {
	dsn_oracle write $dev --seed "$@" || die "writes to the volume failed"
	dsn_oracle write $model --seed "$@" >/dev/null || die "writes to the model failed"
}

log "== 1. a failing fast tier puts the target in fail mode"
fast_tier linear
wipe_dev $fast
dsn_create dsn "$(table)"
dd if=$dev of=$model bs=1M iflag=direct status=none
batch 1 --count 30
dsn_reference $model /tmp/ref.s1
s1=$(dsn_snap_create dsn s1)
events0=$(dsn_events dsn)
mark=$(dsn_kmsg_mark)
fast_tier error
rc=0
dd if=/dev/urandom of=$dev bs=4k count=1 seek=100 oflag=direct status=none 2>/tmp/dd.err || rc=$?
cat /tmp/dd.err
[ "$rc" -ne 0 ] || die "a write that needs a delta succeeded with the fast tier failing"
wait_mode fail
[ "$(dsn_events dsn)" -gt "$events0" ] || die "no dm event when the store failed"
dsn_kmsg_since "$mark" | grep -q "store failed" ||
	die "the kernel did not log the failure: $(dsn_kmsg_since "$mark")"
log "status: $(dsn_status dsn)"
expect_fail "a write in fail mode" dd if=/dev/zero of=$dev bs=4k count=1 seek=100 oflag=direct status=none
expect_fail "snap_create in fail mode" dmsetup message dsn 0 snap_create s2
dd if=$dev of=/dev/null bs=1M iflag=direct status=none || die "reads fail in fail mode"
dsn_reference $model /tmp/ref.live
dsn_compare $dev /tmp/ref.live "the live volume after the failed writes"
dmsetup suspend dsn
dmsetup load dsn --table "$(table)"
dmsetup resume dsn
assert_eq "$(dsn_status_field dsn 1)" fail "mode after a reload onto the failed store"
fast_tier linear
dsn_remove dsn
dsn_create dsn "$(table)"
assert_eq "$(dsn_status_field dsn 1)" write "mode after a new activation"
assert_eq "$(dsn_snap_ids dsn)" "$s1" "snapshots after the new activation"
dsn_view_check dsn "$s1" /tmp/ref.s1
dsn_compare $dev /tmp/ref.live "the live volume after the new activation"
batch 2 --count 10
dsn_reference $model /tmp/ref.live
dsn_compare $dev /tmp/ref.live "writes after the new activation"

log "== 2. a view that outlives its volume"
dsn_view_create dsn_v dsn "$s1"
dsn_compare /dev/mapper/dsn_v /tmp/ref.s1 "the view while its volume is there"
origin_devt=$(dsn_devt "$DYNSNAP_ORIGIN")
dsn_remove dsn
expect_fail "reading a view whose volume is gone" \
	dd if=/dev/mapper/dsn_v of=/dev/null bs=64k count=1 iflag=direct status=none
dsn_create dsn "0 $LEN linear $DYNSNAP_ORIGIN 0"
dsn_expect_no_view dsn "$s1" "a view of a linear device made after the volume was removed"
dsn_remove dsn
expect_table_error "activating the store while an old view is open" \
	"views of this store are still open" "$(table)"
dsn_remove dsn_v
dsn_create dsn "$(table)"
dsn_view_check dsn "$s1" /tmp/ref.s1
log "the origin ($origin_devt) is back under the volume"

log "== 3. a reload's default level applies from the next snapshot"
dsn_remove dsn
fast_tier linear
wipe_dev $fast
wipe_dev "$DYNSNAP_SLOW"
dsn_create dsn "$(table sub)"
regions=$(dsn_region_levels dsn)
s1=$(dsn_snap_create dsn s1)
dmsetup suspend dsn
dmsetup load dsn --table "$(table block)"
dmsetup resume dsn
assert_eq "$(dsn_region_levels dsn)" "$regions" "levels in the epoch the reload happened in"
dmsetup message dsn 0 region_map 0 | head -n 1 | grep -q '^0 sub block ' ||
	die "region 0 is not sub now and block next: $(dmsetup message dsn 0 region_map 0 | head -n 1)"
s2=$(dsn_snap_create dsn s2)
total=$((${regions//\//+}))
assert_eq "$(dsn_region_levels dsn)" "$total/0/0" "levels after the next snapshot"
log "levels: $regions in the epoch of the reload, then $(dsn_region_levels dsn)"
dsn_snap_delete dsn "$s1"
dsn_snap_delete dsn "$s2"

log "== 4. exclusive bytes"
dsn_remove dsn
wipe_dev $fast
wipe_dev "$DYNSNAP_SLOW"
dsn_create dsn "0 $LEN dynsnap $DYNSNAP_ORIGIN $fast $DYNSNAP_SLOW 128 4 sub_block_sectors 8 granularity sub"
a=$(dsn_snap_create dsn a)
dd if=/dev/urandom of=$dev bs=4k count=1 seek=0 oflag=direct status=none
b=$(dsn_snap_create dsn b)
dd if=/dev/urandom of=$dev bs=4k count=1 seek=0 oflag=direct status=none
dd if=/dev/urandom of=$dev bs=4k count=1 seek=2 oflag=direct status=none
# Records of 64 header bytes and one 4 KiB sub-block: a alone reads its
# copy of sub-block 0; b alone its copy of sub-block 0 (a's is applied
# after it); both read b's copy of sub-block 2.
rec=$((64 + 4096))
got=$(dsn_snap_list dsn | awk '{print $1, $4}')
assert_eq "$got" "$(printf '%s %s\n%s %s' "$a" "$rec" "$b" "$rec")" "exclusive bytes of a and b"
dsn_snap_delete dsn "$a"
assert_eq "$(dsn_snap_list dsn | awk '{print $4}')" "$((2 * rec))" \
	"exclusive bytes of b once a is gone"
dsn_remove dsn
dsn_remove dsn_fast
log "done"

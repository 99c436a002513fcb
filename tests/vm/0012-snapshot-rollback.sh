#!/bin/bash
# Rollback: `rollback <id>` brings the volume back to a snapshot. It is
# refused while the device is open, for unknown ids and for bad arguments;
# status field 13 shows its progress. Every snapshot stays intact, so a
# rollback can be undone by rolling back to a snapshot taken before it; a
# suspend pauses a rollback and the resume lets it finish; the result
# survives a re-create of the table.
# vm-tier: every-kernel
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"

dsn_require_oracle
dsn_setup

LEN=131072		# 64 MiB: 16 regions of 4 MiB
table="0 $LEN dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST $DYNSNAP_SLOW 128 2 granularity sub"
dev=/dev/mapper/dsn
model=/tmp/model
IDS=()

# batch SEED ARGS...: the same writes to the volume and the model.
batch() {
	dsn_oracle write $dev --seed "$@" || die "writes to the volume failed"
	dsn_oracle write $model --seed "$@" >/dev/null || die "writes to the model failed"
}

# snap NAME: reference and a copy of the model, then the snapshot; sets ID.
snap() {
	dsn_reference $model /tmp/ref.new
	dsn_compare $dev /tmp/ref.new "volume before snapshot $1"
	ID=$(dsn_snap_create dsn "$1")
	mv /tmp/ref.new "/tmp/ref.$ID"
	cp $model "/tmp/model.$ID"
	IDS+=("$ID")
	log "snapshot $1: id $ID"
}

# wait_done ID: wait until status field 13 says the rollback to ID is
# done, and make the model what the volume must now be.
wait_done() {
	local st i
	for ((i = 0; i < 3000; i++)); do
		st=$(dsn_status_field dsn 13)
		case "$st" in
		"$1":done:*) break ;;
		"$1":running:* | "$1":paused:*) sleep 0.1 ;;
		*) die "rollback $1: status field 13 is '$st'" ;;
		esac
	done
	[[ $st == "$1":done:* ]] || die "rollback $1 did not finish: status field 13 is '$st'"
	log "rollback to $1: $st"
	cp "/tmp/model.$1" $model
}

# rollback_to ID: roll back and wait for the end.
rollback_to() {
	dmsetup message dsn 0 rollback "$1" || die "rollback $1 failed"
	wait_done "$1"
}

# check_all DESC: every view and the live volume are as expected.
check_all() {
	local i
	assert_eq "$(dsn_snap_count dsn)" "${#IDS[@]}" "$1: status snapshot count"
	for i in "${IDS[@]}"; do
		dsn_view_check dsn "$i" "/tmp/ref.$i"
	done
	dsn_reference $model /tmp/ref.live
	dsn_compare $dev /tmp/ref.live "$1: live volume"
	log "$1: ${#IDS[@]} snapshots, every view and the live volume as expected"
}

dsn_create dsn "$table"
dd if=$dev of=$model bs=1M iflag=direct status=none
assert_eq "$(dsn_status_field dsn 13)" "-" "rollback field before any rollback"
# Mixed levels: bit, sub and block regions.
dsn_set_granularity dsn bit 0 4
dsn_set_granularity dsn block 8 4
batch 11 --count 80
snap s1
s1=$ID
batch 12 --count 80 --sparse 3
snap s2
s2=$ID
batch 13 --count 60 --sparse 4
batch 14 --count 40
snap before-rollback
before=$ID
batch 15 --count 30

log "bad requests leave the volume alone"
expect_fail "rollback without an id" dmsetup message dsn 0 rollback
expect_fail "rollback with two ids" dmsetup message dsn 0 rollback "$s1" "$s2"
expect_fail "rollback to a non-numeric id" dmsetup message dsn 0 rollback abc
expect_fail "rollback to a negative id" dmsetup message dsn 0 rollback -1
expect_fail "rollback to an unknown id" dmsetup message dsn 0 rollback 999
exec 3<$dev
expect_fail "rollback while the device is open" dmsetup message dsn 0 rollback "$s1"
exec 3<&-
assert_eq "$(dsn_status_field dsn 13)" "-" "rollback field after refused requests"
dsn_reference $model /tmp/ref.live
dsn_compare $dev /tmp/ref.live "live volume after refused rollbacks"

log "roll back to the first snapshot"
rollback_to "$s1"
check_all "after rollback to $s1"
total=$(dsn_status_field dsn 13 | cut -d: -f3 | cut -d/ -f2)
[ "$total" -gt 0 ] || die "the rollback touched no block"

log "undo it: roll back to the snapshot taken before"
rollback_to "$before"
check_all "after rollback to $before"

log "writes and snapshots after a rollback, then one to the middle snapshot"
batch 16 --count 50 --sparse 2
snap after
rollback_to "$s2"
batch 17 --count 40
check_all "after rollback to $s2 and new writes"

log "a rollback asked for while suspended waits for the resume"
dmsetup suspend dsn || die "suspend failed"
dmsetup message dsn 0 rollback "$s1" || die "rollback $s1 while suspended failed"
st=$(dsn_status_field dsn 13)
[[ $st == "$s1":paused:0/* ]] || die "status field 13 while suspended is '$st'"
expect_fail "a second rollback while one is in progress" dmsetup message dsn 0 rollback "$s2"
expect_fail "deleting the snapshot a rollback goes to" dmsetup message dsn 0 snap_delete "$s1"
dmsetup resume dsn || die "resume failed"
wait_done "$s1"
check_all "after a rollback that waited for a resume"

log "a suspend during a rollback pauses it; the resume lets it finish"
dmsetup message dsn 0 rollback "$s2" || die "rollback $s2 failed"
dmsetup suspend dsn || die "suspend during a rollback failed"
st=$(dsn_status_field dsn 13)
[[ $st == "$s2":paused:* || $st == "$s2":done:* ]] ||
	die "status field 13 while suspended is '$st'"
log "while suspended: $st"
dmsetup resume dsn || die "resume failed"
wait_done "$s2"
check_all "after a rollback paused by a suspend"

log "the result survives a re-create of the table"
dsn_remove dsn
dsn_create dsn "$table"
check_all "after re-create"

log "snapshots can still be deleted, in any order"
dsn_snap_delete dsn "$s2"
dsn_snap_delete dsn "$s1"
IDS=("$before" "${IDS[@]:3}")
check_all "after deletions"
dsn_remove dsn
log "pass"

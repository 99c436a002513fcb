#!/bin/bash
# Delta space is reused: on a 32 MiB fast tier (24 MiB of delta log), a
# rolling window of snapshots, the oldest deleted after each new one, keeps
# storing deltas long after more bytes were logged than the tier holds.
# Deleting makes the store write a checkpoint and give the log's dead head
# segments back; the status shows them free again. Every retained snapshot
# equals its reference throughout, after a re-create and after a module
# reload (both replay from the checkpoint, over reused segments), and
# deleting every snapshot brings the tier back to a few segments.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"

dsn_require_oracle
dsn_setup

LEN=131072		# 64 MiB volume
FAST_SECTORS=65536	# 32 MiB fast tier: 8 MiB of metadata, 24 MiB of log
SEG=8192		# sectors of a log segment
dev=/dev/mapper/dsn
model=/tmp/model
fast=/dev/mapper/dsn_fast
table="0 $LEN dynsnap $DYNSNAP_ORIGIN $fast - 128 2 granularity sub"
IDS=()
logged=0

batch() {
	dsn_oracle write $dev --seed "$@" || die "writes to the volume failed"
	dsn_oracle write $model --seed "$@" >/dev/null || die "writes to the model failed"
}

snap() {
	local id
	dsn_reference $model /tmp/ref.new
	id=$(dsn_snap_create dsn "$1")
	mv /tmp/ref.new "/tmp/ref.$id"
	IDS+=("$id")
}

used() { dsn_status_field dsn 3 | cut -d/ -f1; }
total() { dsn_status_field dsn 3 | cut -d/ -f2; }

check_all() {
	local i
	assert_eq "$(dsn_snap_count dsn)" "${#IDS[@]}" "$1: snapshot count"
	for i in "${IDS[@]}"; do
		dsn_view_check dsn "$i" "/tmp/ref.$i"
	done
	dsn_reference $model /tmp/ref.live
	dsn_compare $dev /tmp/ref.live "$1: live volume"
	log "$1: ${#IDS[@]} snapshots and the live volume as expected; status: $(dsn_status dsn)"
}

# window ROUNDS SEED: per round, writes (about 3 MiB of deltas), a snapshot,
# and the oldest of more than two snapshots deleted; adds the bytes logged.
window() {
	local r before after
	for ((r = 0; r < $1; r++)); do
		before=$(dsn_status_field dsn 12)
		batch $(($2 + r)) --count 48 --min-bytes 64K --max-bytes 64K
		after=$(dsn_status_field dsn 12)
		logged=$((logged + after - before))
		snap "w$2-$r"
		if [ "${#IDS[@]}" -gt 2 ]; then
			dsn_snap_delete dsn "${IDS[0]}"
			rm -f "/tmp/ref.${IDS[0]}"
			IDS=("${IDS[@]:1}")
		fi
		[ "$(dsn_status_field dsn 10)" = ok ] ||
			die "round $r: the tier filled up: $(dsn_status dsn)"
	done
	log "after $1 rounds: $logged bytes of deltas logged in all; status: $(dsn_status dsn)"
}

dmsetup create dsn_fast --table "0 $FAST_SECTORS linear $DYNSNAP_FAST 0" || die "cannot create $fast"
dmsetup mknodes dsn_fast
wipe_dev $fast
dsn_create dsn "$table"
dd if=$dev of=$model bs=1M iflag=direct status=none
tier_bytes=$(($(total) * 512))
log "fast log: $tier_bytes bytes"

snap first
window 12 100
[ "$logged" -gt "$tier_bytes" ] ||
	die "only $logged bytes logged: the test must log more than the tier holds ($tier_bytes)"
[ "$(used)" -lt "$(total)" ] || die "no free segment left: $(dsn_status dsn)"
check_all "rolling window"

log "re-create the table: the replay starts at the checkpoint"
dsn_remove dsn
dsn_create dsn "$table"
check_all "after re-create"

log "more rounds, then unload and load the module"
window 6 200
dsn_remove dsn
dynsnap_unload
dynsnap_load
dsn_create dsn "$table"
check_all "after module reload"

log "damage to the older checkpoint slot does not matter: the newer one counts, and the next checkpoint replaces it"
dsn_remove dsn
# Two slots at the start of the metadata area (sector 8): 8 MiB of metadata
# for this volume, so slot 1 starts 4 MiB later. Generation at byte 32.
slot_sector=(8 $((8 + 8192)))
gen() {
	dd if=$fast bs=512 skip="${slot_sector[$1]}" count=1 iflag=direct status=none |
		od -An -t u8 -j 32 -N 8 | tr -d ' '
}
g0=$(gen 0)
g1=$(gen 1)
log "checkpoint generations: slot 0 $g0, slot 1 $g1"
[ "$g0" -gt 0 ] && [ "$g1" -gt 0 ] || die "both slots should hold a checkpoint by now"
older=0
[ "$g0" -lt "$g1" ] || older=1
printf '\xff' | dd of=$fast bs=1 seek=$((${slot_sector[$older]} * 512 + 200)) conv=notrunc,fsync status=none
dsn_create dsn "$table"
# Activation writes a checkpoint, into the slot not holding the newest.
[ "$(gen $older)" -gt "$(gen $((1 - older)))" ] ||
	die "activation did not write its checkpoint over the damaged slot $older"
check_all "with slot $older damaged, then rewritten"
dsn_snap_delete dsn "${IDS[0]}"
rm -f "/tmp/ref.${IDS[0]}"
IDS=("${IDS[@]:1}")
dsn_remove dsn
dsn_create dsn "$table"
check_all "after a deletion rewrote the damaged slot"

log "deleting every snapshot gives the log back"
for i in "${IDS[@]}"; do
	dsn_snap_delete dsn "$i"
done
IDS=()
[ "$(used)" -le $((3 * SEG)) ] || die "the log still uses $(used) sectors with no snapshot"
dsn_remove dsn
dsn_create dsn "$table"
check_all "empty, after re-create"
dsn_remove dsn
dsn_remove dsn_fast
log "pass"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest side of the power-cut test (tests/crash/powercut.sh boots the VM once
# per cycle with the same disks and runs this with tools/vmtest --cmd).
#
#   workload.sh --cycle N --seed S [--iterations K] [--max-seconds T]
#               [--writes K] [--len-mib M] [--keep K] [--verify-only]
#               [--no-snapshots | --raw]
#
# First boot (no "formatted" mark in the state directory): zero both tiers,
# create the volume (a new store) and record the origin's checksums.
# Later boots: create the same table (which reactivates the store), then
# verify what the previous boots acknowledged:
#   - the origin equals the last recorded flushed state, except chunks that
#     overlap writes recorded as pending (issued after that flush);
#   - every acknowledged snapshot is listed by snap_list under its name, and
#     its view equals the reference recorded for it.
# Then (unless --verify-only) create $DYNSNAP_KILL_MARK, which starts the
# host's kill clock (vmtest --kill-from mark), and loop until killed, or for
# K iterations / T seconds:
#   1. chunks.py step: record the planned write ranges as pending (fsync'd),
#      write them (O_DIRECT), flush, read them back, record the new flushed
#      state (fsync'd), clear pending;
#   2. (snapshots) save the flushed state as the snapshot's reference, then
#      snap_create, then append "ID NAME" to the acknowledgements (fsync'd);
#   3. (snapshots) when more than --keep snapshots are acknowledged, delete
#      the oldest: its id goes to "deleting" (fsync'd) first, and leaves the
#      acknowledgements after snap_delete returns. A deletion cut short may
#      or may not have happened; every other snapshot must be intact.
#      Deletions make the store checkpoint and reuse log segments.
# An iteration that ends normally removes the volume.
#
# --no-snapshots: the same on the dynsnap device without snapshots (checks
# the harness and the pass-through path).  --raw: directly on the origin
# disk, no module.  State on the results share ($DYNSNAP_RESULTS, kept by
# the host across boots): config, formatted, flushed.sums, pending, acked,
# ref-NAME.sums, and journal (what each boot did last, to tell where a kill
# hit).  Exit status: 0 pass, 1 fail, 77 skip.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$here/../vm/lib.sh"
# shellcheck source=tests/vm/dynsnap.sh
. "$here/../vm/dynsnap.sh"

CHUNKS=$here/chunks.py
cycle=
seed=
iterations=1000000
max_seconds=600
writes=16
len_mib=64
verify_only=0
keep=4
mode=snap
block=128

while [ $# -gt 0 ]; do
	case "$1" in
	--cycle) cycle=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--iterations) iterations=$2; shift 2 ;;
	--max-seconds) max_seconds=$2; shift 2 ;;
	--writes) writes=$2; shift 2 ;;
	--len-mib) len_mib=$2; shift 2 ;;
	--keep) keep=$2; shift 2 ;;
	--verify-only) verify_only=1; shift ;;
	--no-snapshots) mode=nosnap; shift ;;
	--raw) mode=raw; shift ;;
	*) die "workload.sh: unknown argument '$1'" ;;
	esac
done
[[ $cycle =~ ^[0-9]+$ ]] || die "workload.sh: --cycle N is required"
[[ $seed =~ ^[0-9]+$ ]] || [ "$verify_only" -eq 1 ] || die "workload.sh: --seed S is required"
S=${DYNSNAP_RESULTS:?workload.sh runs in the VM, with DYNSNAP_RESULTS set}
command -v python3 >/dev/null || skip "python3 is not installed (Debian package python3)"

len=$((len_mib * 2048))	# sectors
len_bytes=$((len * 512))
dev=

# fsync FILE...: make files (or directories) durable on the share.
fsync() {
	sync "$@" || die "fsync $* failed"
}

# record FILE TEXT: append a line to FILE and fsync it.
record() {
	printf '%s\n' "$2" >>"$1" || die "cannot append to $1"
	fsync "$1"
}

open_volume() {
	if [ "$mode" = raw ]; then
		dev=$DYNSNAP_ORIGIN
		return 0
	fi
	dsn_create dsn "0 $len dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST $DYNSNAP_SLOW $block"
	dev=/dev/mapper/dsn
	log "volume up: $(dsn_status dsn)"
	assert_eq "$(dsn_status_field dsn 1)" write "mode of the volume after activation"
}

close_volume() {
	[ "$mode" = raw ] || dsn_remove dsn
}

# verify_snapshot ID NAME LIST: the snapshot is listed and its view equals
# its reference; returns 1 when not.
verify_snapshot() {
	local id=$1 name=$2 list=$3 rc=0
	if ! awk -v id="$id" -v name="$name" '$1 == id && $2 == name { f = 1 } END { exit !f }' \
		<<<"$list"; then
		echo "snapshot $id ($name): acknowledged but not in snap_list"
		return 1
	fi
	if ! dmsetup create dsnv --table "0 $len dynsnap-view /dev/mapper/dsn $id"; then
		echo "snapshot $id ($name): cannot create its view"
		return 1
	fi
	dmsetup mknodes dsnv
	python3 "$CHUNKS" verify /dev/mapper/dsnv --sums "$S/ref-$name.sums" || rc=$?
	dsn_remove dsnv
	case "$rc" in
	0) log "snapshot $id ($name): view equals its reference" ;;
	3) echo "snapshot $id ($name): read error on its view"; return 1 ;;
	*) echo "snapshot $id ($name): view differs from its reference"; return 1 ;;
	esac
}

verify_state() {
	local rc=0 bad=0 list id name n=0
	log "verify the origin against the last flushed state"
	python3 "$CHUNKS" verify "$dev" --sums "$S/flushed.sums" --pending "$S/pending" --update || rc=$?
	case "$rc" in
	0) ;;
	3) echo "origin: read error"; bad=1 ;;
	*) echo "origin: lost or changed data written before the last recorded flush"; bad=1 ;;
	esac
	if [ "$mode" = snap ]; then
		list=$(dmsetup message dsn 0 snap_list) || die "snap_list failed"
		printf '%s\n' "$list" | sed 's/^/  snap_list: /'
		if [ -f "$S/deleting" ]; then
			read -r id name <"$S/deleting"
			if awk -v id="$id" '$1 == id { f = 1 } END { exit !f }' <<<"$list"; then
				log "snapshot $id ($name): its deletion was cut short before it took effect"
			else
				log "snapshot $id ($name): deleted before the cut"
				forget_snapshot "$id"
			fi
			rm -f "$S/deleting"
			fsync "$S"
		fi
		if [ -f "$S/acked" ]; then
			while read -r id name; do
				if ! [[ $id =~ ^[0-9]+$ ]] || [ -z "$name" ]; then
					continue
				fi
				n=$((n + 1))
				verify_snapshot "$id" "$name" "$list" || bad=1
			done <"$S/acked"
		fi
		log "$n acknowledged snapshot(s) checked"
	fi
	[ "$bad" -eq 0 ] || die "cycle $cycle: the state acknowledged before the last boot did not survive"
	log "cycle $cycle: the acknowledged state survived"
}

# snapshot NAME: take a snapshot of the flushed state and acknowledge it.
snapshot() {
	local name=$1 out id ref=$S/ref-$1.sums
	journal "snapshot $name: reference"
	cp "$S/flushed.sums" "$ref.tmp"
	fsync "$ref.tmp"
	mv "$ref.tmp" "$ref"
	fsync "$S"
	out=$(dmsetup message dsn 0 snap_create "$name") || die "snap_create $name failed"
	id=$(awk 'NF { last = $NF } END { print last }' <<<"$out")
	[[ $id =~ ^[0-9]+$ ]] || die "snap_create $name printed '$out', not an id"
	journal "snapshot $name: created as $id"
	record "$S/acked" "$id $name"
	journal "snapshot $name: acknowledged"
	log "snapshot $id ($name) acknowledged"
}

# forget_snapshot ID: drop ID from the acknowledgements (atomically).
forget_snapshot() {
	awk -v id="$1" '$1 != id' "$S/acked" >"$S/acked.tmp"
	fsync "$S/acked.tmp"
	mv "$S/acked.tmp" "$S/acked"
	fsync "$S"
}

# trim: delete the oldest acknowledged snapshot while more than $keep are.
trim() {
	local id name
	while [ "$(grep -c . "$S/acked")" -gt "$keep" ]; do
		read -r id name <"$S/acked"
		printf '%s %s\n' "$id" "$name" >"$S/deleting"
		fsync "$S/deleting"
		journal "snapshot $name: deleting $id"
		dmsetup message dsn 0 snap_delete "$id" || die "snap_delete $id failed"
		forget_snapshot "$id"
		rm -f "$S/deleting"
		fsync "$S"
		journal "snapshot $name: deleted"
		log "snapshot $id ($name) deleted"
	done
}

# journal TEXT: note progress in the state directory (fsync'd).
journal() {
	record "$S/journal" "boot $cycle: $*"
}

# ------------------------------------------------------------------ main --

case "$mode" in
raw) [ -b "$DYNSNAP_ORIGIN" ] || skip "missing origin disk $DYNSNAP_ORIGIN" ;;
*) dsn_require_disks; dynsnap_load ;;
esac
[ "$len" -le "$(dev_sectors "$DYNSNAP_ORIGIN")" ] ||
	die "--len-mib $len_mib is larger than the origin $DYNSNAP_ORIGIN"
config="mode=$mode len=$len block=$block"

if [ ! -f "$S/formatted" ]; then
	[ "$verify_only" -eq 0 ] || die "nothing to verify: no formatted volume recorded in $S"
	log "cycle $cycle: first boot: new volume ($config)"
	rm -f "$S"/config "$S"/flushed.sums* "$S"/pending* "$S"/acked "$S"/ref-*.sums* "$S"/journal \
		"$S"/deleting
	[ "$mode" = raw ] || dsn_wipe_tiers
	open_volume
	if [ "$mode" = snap ]; then
		dmsetup message dsn 0 snap_list >/dev/null ||
			die "snap_list failed on a new volume"
	fi
	python3 "$CHUNKS" init "$dev" --sums "$S/flushed.sums" --pending "$S/pending" \
		--len "$len_bytes" || die "cannot record the initial state"
	: >"$S/acked"
	printf '%s\n' "$config" >"$S/config"
	fsync "$S/acked" "$S/config"
	record "$S/formatted" "cycle $cycle"
	journal "new volume"
else
	assert_eq "$(cat "$S/config")" "$config" "configuration of the recorded volume"
	log "cycle $cycle: reactivate the volume (formatted in $(cat "$S/formatted"))"
	open_volume
	verify_state
	journal "verified"
fi

if [ "$verify_only" -eq 1 ]; then
	close_volume
	log "cycle $cycle: verified, volume removed"
	exit 0
fi

log "cycle $cycle: workload starts (seed $seed, up to $iterations iteration(s), ${max_seconds}s)"
journal "workload starts"
[ -z "${DYNSNAP_KILL_MARK:-}" ] || : >"$DYNSNAP_KILL_MARK"
start=$SECONDS
i=0
while [ "$i" -lt "$iterations" ] && [ $((SECONDS - start)) -lt "$max_seconds" ]; do
	i=$((i + 1))
	rc=0
	python3 "$CHUNKS" step "$dev" --sums "$S/flushed.sums" --pending "$S/pending" \
		--seed $((seed * 1000 + i)) --count "$writes" --journal "$S/journal" || rc=$?
	[ "$rc" -eq 0 ] || die "cycle $cycle iteration $i: write step failed (rc $rc)"
	if [ "$mode" = snap ]; then
		snapshot "c${cycle}i$i"
		trim
	fi
done
log "cycle $cycle: workload ended after $i iteration(s) (not killed)"
close_volume
journal "workload ended, volume removed"
log "cycle $cycle: volume removed"

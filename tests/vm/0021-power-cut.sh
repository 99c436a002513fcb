#!/bin/bash
# Power cuts on disks with a volatile write cache, inside one boot: origin,
# fast and slow tier are each served with their own cache
# (tests/vm/volatile.sh). dsn-crash writes (some FUA), flushes, takes,
# deletes and re-levels snapshots on the volume until, at a random moment,
# all three caches lose power at once; each keeps none, all, a random
# subset or torn pieces of what it had not written back, chosen per disk.
# Then the stack comes back, the volume is activated again and checked from
# the workload's log: every flushed write and every acknowledged snapshot
# survived, byte for byte (dsn-crash check). DYNSNAP_CUTS cuts (default 20),
# DYNSNAP_CUT_SEED (default random; printed) replays a run.
# vm-tier: every-kernel
# vm-timeout: 1500
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"
. "$(dirname "$0")/volatile.sh"

CRASH=$DYNSNAP_BUILD/tests/tools/dsn-crash
[ -x "$CRASH" ] || die "$CRASH not built (cmake --build build)"
dsn_require_disks
dynsnap_load
vc_require

CUTS=${DYNSNAP_CUTS:-20}
SEED=${DYNSNAP_CUT_SEED:-$((RANDOM * 32768 + RANDOM))}
LEN=32768		# 16 MiB volume
REGIONS=16		# of 1 MiB
W=${DYNSNAP_RESULTS:-/tmp}/power-cut
mkdir -p "$W"
rm -f "$W"/*
log "seed $SEED, $CUTS cuts (DYNSNAP_CUT_SEED=$SEED replays them)"

cleanup() {
	local d
	for d in $(dmsetup ls 2>/dev/null | awk '$1 ~ /^dsn/ { print $1 }'); do
		dmsetup remove --force "$d" >/dev/null 2>&1 || true
	done
	vc_down_all
}
trap cleanup EXIT

wipe_dev "$DYNSNAP_ORIGIN" 16
dsn_wipe_tiers

up() {
	local o f s
	o=$(vc_up origin "$DYNSNAP_ORIGIN")
	f=$(vc_up fast "$DYNSNAP_FAST")
	s=$(vc_up slow "$DYNSNAP_SLOW")
	if ! dmsetup create dsn --table "0 $LEN dynsnap $o $f $s 128 2 region_sectors 2048"; then
		dmesg | tail -n 20
		die "cut $1: the volume does not activate again"
	fi
	dmsetup mknodes dsn
}

# check_views LOG LIST CHECK_ARGS...: dsn-crash check of the volume and of
# the view of every snapshot in LIST (snap_list's answer, written here);
# prints its report, returns its exit status.
check_views() {
	local log=$1 list=$2 id rc=0
	shift 2
	dmsetup message dsn 0 snap_list >"$list" || die "snap_list failed"
	for id in $(awk '{ print $1 }' "$list"); do
		dmsetup create "dsnv$id" --table "0 $LEN dynsnap-view /dev/mapper/dsn $id" ||
			die "cannot create the view of snapshot $id"
		dmsetup mknodes "dsnv$id"
	done
	"$CRASH" check --log "$log" --volume /dev/mapper/dsn --list "$list" \
		--view-prefix /dev/mapper/dsnv "$@" || rc=$?
	for id in $(awk '{ print $1 }' "$list"); do
		dsn_remove "dsnv$id"
	done
	return "$rc"
}

# verify N: check what cut N left, against the log of its run.
verify() {
	local n=$1 state_in=() rc=0 out
	[ "$n" -le 1 ] || state_in=(--state-in "$W/state.$((n - 1))")
	out=$(check_views "$W/log.$n" "$W/list.$n" "${state_in[@]}" --state-out "$W/state.$n") ||
		rc=$?
	echo "$out" | jq -c --arg keep "${KEPT[*]}" '. + {keep: $keep}' >>"$W/cuts.jsonl"
	log "cut $n (${KEPT[*]}): $out"
	[ "$rc" -eq 0 ] || die "cut $n (seed $SEED): the volume or a snapshot is wrong after the cut"
}

POLICIES=(none all random torn)
for ((n = 1; n <= CUTS; n++)); do
	RANDOM=$((SEED + n))
	up "$n"
	[ "$n" -eq 1 ] || verify $((n - 1))
	r=$RANDOM
	delay=$(awk -v r="$r" 'BEGIN { printf "%.2f", 0.3 + (r % 3700) / 1000 }')
	"$CRASH" run /dev/mapper/dsn --name dsn --log "$W/log.$n" --seed $((SEED * 1000 + n)) \
		--first-seq $((n * 10000000)) --regions "$REGIONS" 2>>"$W/run.err" &
	pid=$!
	sleep "$delay"
	# The power cut: the three caches at once, then whatever was in flight
	# fails, and the stack is taken down.
	kill -KILL $(cat "$VC_DIR"/{origin,fast,slow}.pid) 2>/dev/null || true
	KEPT=()
	for d in origin fast slow; do
		keep=${POLICIES[RANDOM % 4]}
		KEPT+=("$d:$keep")
		vc_cut "$d" "$keep" $((SEED + n)) >>"$W/cut-reports"
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	dmsetup remove dsn || dmsetup remove --force dsn || die "cut $n: cannot remove the volume"
done
up $((CUTS + 1))
verify "$CUTS"

# The checker must see damage: one sector of the origin overwritten behind
# the volume's back.
dsn_remove dsn
vc_down_all
sector=$((RANDOM % LEN))
head -c 512 /dev/urandom | dd of="$DYNSNAP_ORIGIN" bs=512 seek="$sector" iflag=fullblock oflag=direct \
	status=none || die "cannot damage the origin"
up damaged
: >"$W/log.none"
rc=0
out=$(check_views "$W/log.none" "$W/list.damaged" --state-in "$W/state.$CUTS") || rc=$?
log "origin sector $sector damaged: $out"
[ "$rc" -eq 1 ] || die "the checker did not see a damaged sector of the origin (rc $rc)"
dsn_remove dsn
vc_down_all

log "$CUTS cuts, seed $SEED: every flushed write and every acknowledged snapshot survived"
log "cut points: $(jq -r .cut_in "$W/cuts.jsonl" | sort | uniq -c | awk '{ $1 = $1; print }' | paste -sd, -)"
log "snapshots checked: $(jq -s 'map(.snapshots_checked) | add' "$W/cuts.jsonl")"

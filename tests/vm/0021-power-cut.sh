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
. "$(dirname "$0")/crash.sh"

crash_setup

CUTS=${DYNSNAP_CUTS:-20}
SEED=${DYNSNAP_CUT_SEED:-$((RANDOM * 32768 + RANDOM))}
log "seed $SEED, $CUTS cuts (DYNSNAP_CUT_SEED=$SEED replays them)"
crash_format

POLICIES=(none all random torn)
KEPT=()
for ((n = 1; n <= CUTS; n++)); do
	RANDOM=$((SEED + n))
	crash_up "cut $n"
	[ "$n" -eq 1 ] || crash_verify $((n - 1)) "cut, kept ${KEPT[*]}"
	r=$RANDOM
	delay=$(awk -v r="$r" 'BEGIN { printf "%.2f", 0.3 + (r % 3700) / 1000 }')
	crash_run "$n" $((SEED * 1000 + n))
	sleep "$delay"
	# The power cut: the three caches at once, then whatever was in flight
	# fails, and the stack is taken down.
	kill -KILL $(cat "$VC_DIR"/{origin,fast,slow}.pid) 2>/dev/null || true
	KEPT=()
	for d in origin fast slow; do
		keep=${POLICIES[RANDOM % 4]}
		KEPT+=("$d:$keep")
		vc_cut "$d" "$keep" $((SEED + n)) >>"$CRASH_DIR/cut-reports"
	done
	kill -KILL "$CRASH_PID" 2>/dev/null || true
	wait "$CRASH_PID" 2>/dev/null || true
	dmsetup remove dsn || dmsetup remove --force dsn || die "cut $n: cannot remove the volume"
done
crash_up "after the last cut"
crash_verify "$CUTS" "cut, kept ${KEPT[*]}"

# The checker must see damage: one sector of the origin overwritten behind
# the volume's back.
dsn_remove dsn
vc_down_all
sector=$((RANDOM % CRASH_LEN))
head -c 512 /dev/urandom | dd of="$DYNSNAP_ORIGIN" bs=512 seek="$sector" iflag=fullblock oflag=direct \
	status=none || die "cannot damage the origin"
crash_up damaged
: >"$CRASH_DIR/log.none"
rc=0
out=$(crash_check_views "$CRASH_DIR/log.none" "$CRASH_DIR/list.damaged" \
	--state-in "$CRASH_DIR/state.$CUTS") || rc=$?
log "origin sector $sector damaged: $out"
[ "$rc" -eq 1 ] || die "the checker did not see a damaged sector of the origin (rc $rc)"
dsn_remove dsn
vc_down_all

R=$CRASH_DIR/rounds.jsonl
log "$CUTS cuts, seed $SEED: every flushed write and every acknowledged snapshot survived"
log "cut points: $(jq -r .cut_in "$R" | sort | uniq -c | awk '{ $1 = $1; print }' | paste -sd, -)"
log "snapshots checked: $(jq -s 'map(.snapshots_checked) | add' "$R")"

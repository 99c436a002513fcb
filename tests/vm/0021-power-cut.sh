#!/bin/bash
# Power cuts on disks with a volatile write cache, inside one boot: origin,
# fast and slow tier are each served with their own cache
# (tests/vm/volatile.sh). dsn-crash writes (some FUA), flushes, takes,
# deletes and re-levels snapshots on the volume until, at a random moment,
# all three caches lose power at once; each keeps none, all, a random
# subset or torn pieces of what it had not written back, chosen per disk.
# Then the stack comes back, the volume is activated again and checked from
# the workload's log: every flushed write and every acknowledged snapshot
# survived, byte for byte (dsn-crash check). The workload also rolls back
# (cuts land inside rollbacks too). Every third cut comes inside the next
# checkpoint write instead of at a random moment. The cuts come in three
# phases, each on a new store: tiers of the usual size; small tiers that
# fill, with on_full drop_oldest (the snapshots the kernel logs it dropped
# may be gone); small tiers with on_full error (the workload deletes the
# oldest snapshot when a write fails with ENOSPC). DYNSNAP_CUTS cuts
# (default 20, at least 3), DYNSNAP_CUT_SEED (default random; printed)
# replays a run.
# vm-tier: every-kernel
# vm-timeout: 1500
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"
. "$(dirname "$0")/crash.sh"

crash_setup

CUTS=${DYNSNAP_CUTS:-20}
SEED=${DYNSNAP_CUT_SEED:-$((RANDOM * 32768 + RANDOM))}
log "seed $SEED, $CUTS cuts (DYNSNAP_CUT_SEED=$SEED replays them)"

POLICIES=(none all random torn)
KEPT=()
CKPT_MARK=checkpoint:$CRASH_CHECKPOINTS
WHERE=

# cut_phase FIRST LAST: cuts FIRST to LAST on a new store; the volume is
# left active, checked after cut LAST. Every third cut comes inside the
# next checkpoint write (the fast tier's server freezes in it), if one
# comes within 10 s; the others at a random moment.
cut_phase() {
	local n r delay d keep i
	crash_format
	for ((n = $1; n <= $2; n++)); do
		RANDOM=$((SEED + n))
		crash_up "cut $n"
		[ "$n" -eq "$1" ] || crash_verify $((n - 1)) "${CRASH_ON_FULL:-usual} tiers, cut$WHERE, kept ${KEPT[*]}"
		r=$RANDOM
		delay=$(awk -v r="$r" 'BEGIN { printf "%.2f", 0.3 + (r % 3700) / 1000 }')
		crash_run "$n" $((SEED * 1000 + n))
		WHERE=
		if [ $((n % 3)) -eq 0 ]; then
			vc_freeze fast
			for ((i = 0; i < 100; i++)); do
				vc_frozen fast && break
				sleep 0.1
			done
			if vc_frozen fast; then
				WHERE=" inside a checkpoint write"
				echo hit >>"$CRASH_DIR/freezes"
			else
				echo missed >>"$CRASH_DIR/freezes"
			fi
		else
			sleep "$delay"
		fi
		# The power cut: the three caches at once, then whatever was in
		# flight fails, and the stack is taken down.
		kill -KILL $(cat "$VC_DIR"/{origin,fast,slow}.pid) 2>/dev/null || true
		KEPT=()
		for d in origin fast slow; do
			keep=${POLICIES[RANDOM % 4]}
			KEPT+=("$d:$keep")
			if [ "$d" = fast ]; then
				vc_cut "$d" "$keep" $((SEED + n)) "$CKPT_MARK"
			else
				vc_cut "$d" "$keep" $((SEED + n))
			fi >>"$CRASH_DIR/cut-reports"
		done
		kill -KILL "$CRASH_PID" 2>/dev/null || true
		wait "$CRASH_PID" 2>/dev/null || true
		dmsetup remove dsn || dmsetup remove --force dsn || die "cut $n: cannot remove the volume"
	done
	crash_up "after cut $2"
	crash_verify "$2" "${CRASH_ON_FULL:-usual} tiers, cut$WHERE, kept ${KEPT[*]}"
}

[ "$CUTS" -ge 3 ] || die "DYNSNAP_CUTS must be 3 or more: one phase each"
third=$((CUTS / 3))
cut_phase 1 $((CUTS - 2 * third))
dsn_remove dsn
vc_down_all
CRASH_ON_FULL=drop_oldest cut_phase $((CUTS - 2 * third + 1)) $((CUTS - third))
dsn_remove dsn
vc_down_all
CRASH_ON_FULL=error cut_phase $((CUTS - third + 1)) "$CUTS"

# The checker must see damage: one sector of the origin overwritten behind
# the volume's back.
dsn_remove dsn
vc_down_all
sector=$((RANDOM % CRASH_LEN))
head -c 512 /dev/urandom | dd of="$DYNSNAP_ORIGIN" bs=512 seek="$sector" iflag=fullblock oflag=direct \
	status=none || die "cannot damage the origin"
CRASH_ON_FULL=error crash_up damaged
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
log "snapshots checked: $(jq -s 'map(.snapshots_checked) | add' "$R")," \
	"dropped by the kernel (on_full drop_oldest): $(jq -s 'map(.snapshots_dropped_by_kernel) | add' "$R")"
C=$CRASH_DIR/cut-reports
log "cuts inside a checkpoint write: $(grep -c hit "$CRASH_DIR/freezes" || true) of" \
	"$(wc -l <"$CRASH_DIR/freezes") tried (the others found no checkpoint within 10 s);" \
	"cuts with checkpoint writes since the fast tier's last flush: $(jq -s 'map(select(.marks.checkpoint.entries > 0)) | length' "$C")," \
	"some of them lost: $(jq -s 'map(select(.marks.checkpoint.lost > 0)) | length' "$C")"
cat "$CRASH_DIR"/log.* | awk '$1 == "R" { r++ } $1 == "r" { d++ } $1 == "e" { e++ }
	END { printf "rollbacks: %d started, %d done; writes failed with ENOSPC (on_full error): %d\n", r, d, e }' |
	while read -r line; do log "$line"; done

#!/bin/bash
# Device faults under the crash test's workload: on each of origin, fast
# and slow tier, every read or every write fails with EIO (nbdkit's error
# filter) from a random moment, for a while (transient) or until the
# volume is gone (permanent). While the fault lasts, the volume and every
# snapshot's view may fail to read but never read wrong bytes (dsn-crash
# check --allow-read-errors); what failed, failed with EIO; the volume is
# in write or fail mode, and fail mode came with a dm event. Once the
# device is healed and the volume activated again, every flushed write and
# every acknowledged snapshot is there. DYNSNAP_FAULT_SEED replays a run.
# vm-timeout: 1200
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"
. "$(dirname "$0")/crash.sh"

crash_setup

SEED=${DYNSNAP_FAULT_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$SEED
log "seed $SEED (DYNSNAP_FAULT_SEED=$SEED replays it)"
crash_format

# dm_events: the event counter of the volume.
dm_events() {
	dmsetup info -c --noheadings -o events dsn | tr -d ' '
}

# A random number of milliseconds from $1 to $2, as seconds for sleep.
pause() {
	local r=$RANDOM
	awk -v r="$r" -v lo="$1" -v hi="$2" 'BEGIN { printf "%.3f", (lo + r % (hi - lo)) / 1000 }'
}

n=0
for dev in origin fast slow; do
	for kind in read write; do
		for how in transient permanent; do
			n=$((n + 1))
			tag="$dev $kind $how"
			crash_up "round $n"
			state_in=()
			if [ "$n" -gt 1 ]; then
				crash_verify $((n - 1)) "$prev"
				state_in=(--state-in "$CRASH_DIR/state.$((n - 1))")
			fi
			events0=$(dm_events)
			crash_run "$n" $((SEED * 100 + n))
			sleep "$(pause 300 1500)"
			vc_fail "$dev" "$kind"
			sleep "$(pause 500 2000)"
			[ "$how" = permanent ] || vc_heal "$dev"
			sleep 0.5
			kill -KILL "$CRASH_PID" 2>/dev/null || true
			wait "$CRASH_PID" 2>/dev/null || true
			failed=$(awk '$1 == "x" { print $3 }' "$CRASH_DIR/log.$n")
			mode=$(dsn_status_field dsn 1)
			events=$(dm_events)
			log "round $n ($tag): workload failure errno '${failed:-none}', mode $mode, events $events0 -> $events"
			# EIO; in fail mode a message is refused with EROFS.
			case "${failed:-none}/$mode" in
			none/* | 5/* | 30/fail) ;;
			*) die "round $n ($tag): the workload failed with errno $failed in $mode mode" ;;
			esac
			case "$mode" in
			write) ;;
			fail) [ "$events" -gt "$events0" ] || die "round $n ($tag): fail mode without a dm event" ;;
			*) die "round $n ($tag): mode $mode" ;;
			esac
			# While the fault may still be there: unreadable, never wrong.
			out=$(crash_check_views "$CRASH_DIR/log.$n" "$CRASH_DIR/list.$n.live" \
				"${state_in[@]}" --allow-read-errors) ||
				die "round $n ($tag): wrong bytes while the device failed: $out"
			log "round $n ($tag), device still failing: $out"
			vc_heal "$dev"
			dsn_remove dsn
			vc_down_all
			prev=$tag
		done
	done
done
crash_up final
crash_verify "$n" "$prev"
dsn_remove dsn
vc_down_all
log "$n faults, seed $SEED: no wrong bytes, only EIO, every acknowledged snapshot intact after healing"

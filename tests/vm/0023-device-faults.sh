#!/bin/bash
# Device faults under the crash test's workload: on each of origin, fast
# and slow tier, from a random moment, every read or every write fails
# with EIO (nbdkit's error filter), or every write is acknowledged and
# dropped (the volatile disk's drop trigger, as a disk with broken
# firmware or dm-flakey's drop_writes), for a while (transient) or until
# the volume is gone (permanent). While the fault lasts, the volume and
# every snapshot's view may fail to read but never read wrong bytes
# (dsn-crash check --allow-read-errors); what failed, failed with EIO; the
# volume is in write or fail mode, and fail mode came with a dm event.
# Once the device is healed and the volume activated again, every flushed
# write and every acknowledged snapshot is there.
#
# Dropped writes are data lost by the device. On a tier, the records'
# checksums see it: reads that need a lost record fail with EIO, and the
# next activation refuses ("delta log is damaged") when acknowledged
# records are gone; the test then starts again on a new store. On the
# origin, which dynsnap keeps no checksum of, what was dropped is not
# there: the checker excuses exactly the sectors the origin dropped
# (--dropped), in the volume and in the snapshots taken after the drop,
# and checks everything else. DYNSNAP_FAULT_SEED replays a run.
# vm-timeout: 2400
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

# crash_reactivate N: activate the volume for round N and check what the
# round before left. Only a tier that dropped writes may make activation
# refuse, with the documented error; a new store is made then.
refusals=0
crash_reactivate() {
	local n=$1 dropped=() rc=0
	crash_activate || rc=1
	# What a tier dropped is judged by activation alone; the origin's
	# drops go to the checker, once.
	vc_forget_dropped fast
	vc_forget_dropped slow
	if [ "$rc" -ne 0 ]; then
		vc_forget_dropped origin
		case "$prev" in
		"fast drop"* | "slow drop"*) ;;
		*)
			cat "$CRASH_DIR/refused" >&2
			die "round $n: the volume does not activate after $prev"
			;;
		esac
		grep -q "delta log is damaged" "$CRASH_DIR/refused" ||
			die "round $n: after $prev, activation refused with another error: $(cat "$CRASH_DIR/refused")"
		refusals=$((refusals + 1))
		log "round $n: after $prev, activation refused: delta log is damaged; a new store"
		crash_format
		crash_up "round $n, a new store"
		return 0
	fi
	[ "$n" -gt 1 ] || return 0
	[ ! -s "$(vc_dropped origin)" ] || dropped=(--dropped "$(vc_dropped origin)")
	crash_verify $((n - 1)) "$prev" "${dropped[@]}"
	vc_forget_dropped origin
}

n=0
for dev in origin fast slow; do
	for kind in read write drop; do
		for how in transient permanent; do
			n=$((n + 1))
			tag="$dev $kind $how"
			crash_reactivate "$n"
			state_in=()
			[ ! -e "$CRASH_DIR/state.$((n - 1))" ] || state_in=(--state-in "$CRASH_DIR/state.$((n - 1))")
			events0=$(dm_events)
			# A rollback writes old bytes back: what an origin dropped
			# could then not be told apart in time. Rollbacks meet the
			# other faults.
			if [ "$dev/$kind" = origin/drop ]; then
				crash_run "$n" $((SEED * 100 + n)) --no-rollback
			else
				crash_run "$n" $((SEED * 100 + n))
			fi
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
			dropped=()
			[ ! -s "$(vc_dropped origin)" ] || dropped=(--dropped "$(vc_dropped origin)")
			out=$(crash_check_views "$CRASH_DIR/log.$n" "$CRASH_DIR/list.$n.live" \
				"${state_in[@]}" "${dropped[@]}" --allow-read-errors) ||
				die "round $n ($tag): wrong bytes while the device failed: $out"
			log "round $n ($tag), device still failing: $out"
			vc_heal "$dev"
			dsn_remove dsn
			vc_down_all
			prev=$tag
		done
	done
done
crash_reactivate $((n + 1))
dsn_remove dsn
vc_down_all
log "$n faults, seed $SEED: no wrong bytes, only EIO; after healing every acknowledged snapshot intact," \
	"or (a tier's dropped writes) activation refused $refusals time(s)"

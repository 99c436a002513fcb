#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Power-cut test of dynsnap's crash contract, driven from the host: boot the
# test VM again and again on the same disks (tools/vmtest --disks-dir), kill
# qemu with SIGKILL at random moments of a write + snapshot workload, and
# check after every reboot that every acknowledged snapshot still equals its
# reference and that the origin holds every write completed before the last
# recorded flush.  The guest side is tests/crash/workload.sh.
#
#   tests/crash/powercut.sh [options]
#
#   --kernel VER      kernel to boot (default: the newest one with headers)
#   --cycles N        killed boots (default 3, or $DSN_CRASH_CYCLES)
#   --seed S          seed of the kill delays and of the writes (default:
#                     random, or $DSN_CRASH_SEED); printed, to replay a run
#   --max-delay SECS  kill delays are drawn from 0.5..SECS seconds after the
#                     workload starts (default 12)
#   --out DIR         results (default <repo>/build/crash)
#   --module PATH     prebuilt dm-dynsnap.ko (default: tools/build-module)
#   --no-snapshots    no snapshots, writes and flushes on the dynsnap device
#                     only (also: DSN_CRASH_NO_SNAPSHOTS=1)
#   --raw             no module at all: writes on the origin disk itself
#                     (a self-test of the harness)
#   --len-mib M       size of the volume in MiB (default 64)
#   --keep            keep the disk images after a successful run
#
# Boots: 1 runs a few iterations and shuts down cleanly (persistence across
# a plain reboot); 2..N+1 verify, then run the workload until SIGKILLed at a
# random delay; N+2 only verifies.  Exit status: 0 pass, 1 fail, 77 skip,
# 2 setup error.  Per boot, OUT/<ver>/boot-K.{out,console}; the state the
# guest keeps is in OUT/vm/<ver>/powercut/, the disks in OUT/disks/<ver>/.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
VMTEST=$REPO/tools/vmtest
PROG=powercut
KILLED_RC=99	# tools/vmtest: the VM was SIGKILLed as asked

KERNEL=
CYCLES=${DSN_CRASH_CYCLES:-3}
SEED=${DSN_CRASH_SEED:-}
MAX_DELAY=12
OUT=
MODULE=
MODE=snap
[ "${DSN_CRASH_NO_SNAPSHOTS:-0}" = 0 ] || MODE=nosnap
LEN_MIB=64
KEEP=0
CLEAN_ITERATIONS=3
GUEST_TIMEOUT=900

die() {
	echo "$PROG: error: $*" >&2
	exit 2
}

say() {
	echo "$PROG: $*"
}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) [ $# -ge 2 ] || die "$1 needs an argument"; KERNEL=$2; shift 2 ;;
	--cycles) [ $# -ge 2 ] || die "$1 needs an argument"; CYCLES=$2; shift 2 ;;
	--seed) [ $# -ge 2 ] || die "$1 needs an argument"; SEED=$2; shift 2 ;;
	--max-delay) [ $# -ge 2 ] || die "$1 needs an argument"; MAX_DELAY=$2; shift 2 ;;
	--out) [ $# -ge 2 ] || die "$1 needs an argument"; OUT=$2; shift 2 ;;
	--module) [ $# -ge 2 ] || die "$1 needs an argument"; MODULE=$2; shift 2 ;;
	--len-mib) [ $# -ge 2 ] || die "$1 needs an argument"; LEN_MIB=$2; shift 2 ;;
	--no-snapshots) MODE=nosnap; shift ;;
	--raw) MODE=raw; shift ;;
	--keep) KEEP=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done

# in_range VALUE MIN MAX: VALUE is a whole number within MIN..MAX.
in_range() {
	[[ $1 =~ ^[0-9]{1,9}$ ]] && [ "$((10#$1))" -ge "$2" ] && [ "$((10#$1))" -le "$3" ]
}
in_range "$CYCLES" 1 1000 || die "--cycles needs 1..1000"
in_range "$MAX_DELAY" 1 3600 || die "--max-delay needs whole seconds, 1..3600"
in_range "$LEN_MIB" 1 1024 || die "--len-mib needs 1..1024"
if [ -z "$SEED" ]; then
	SEED=$(((RANDOM << 15 | RANDOM) % 1000000))
fi
in_range "$SEED" 0 999999 || die "--seed needs a number below 1000000"
SEED=$((10#$SEED))
if [ -z "$KERNEL" ]; then
	KERNEL=$(for f in /boot/vmlinuz-*; do
		v=${f#/boot/vmlinuz-}
		[ -d "/lib/modules/$v/build" ] && echo "$v"
	done | sort -V | tail -n 1)
	[ -n "$KERNEL" ] || die "no kernel with headers installed (see tools/vm/README.md)"
fi
[ -n "$OUT" ] || OUT=$REPO/build/crash
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

VMOUT=$OUT/vm
DISKS=$OUT/disks/$KERNEL
STATE=powercut
STATE_DIR=$VMOUT/$KERNEL/$STATE
LOGS=$OUT/$KERNEL
# fast tier, slow tier, origin: the origin is the volume's size exactly.
DISK_ARGS=(--disk nvme:256M --disk virtio:512M --disk "virtio:${LEN_MIB}M")

# replay_cmd: the command line that replays this run.
replay_cmd() {
	local r="tests/crash/powercut.sh --kernel $KERNEL --cycles $CYCLES --seed $SEED"
	r+=" --max-delay $MAX_DELAY --len-mib $LEN_MIB"
	case "$MODE" in
	nosnap) r+=" --no-snapshots" ;;
	raw) r+=" --raw" ;;
	esac
	echo "$r"
}
say "kernel $KERNEL, mode $MODE, $CYCLES killed boot(s), seed $SEED"
say "replay with: $(replay_cmd)"

# The module: one build for all boots.
MOD_ARGS=()
if [ "$MODE" = raw ]; then
	MOD_ARGS=(--no-module)
elif [ -n "$MODULE" ]; then
	MOD_ARGS=(--module "$MODULE")
else
	mkdir -p "$LOGS"
	if ! MODULE=$("$REPO/tools/build-module" --kernel "$KERNEL" --out "$REPO/build/kmod" \
		2>"$LOGS/build-module.log" | tail -n 1) || [ ! -f "$MODULE" ]; then
		tail -n 40 "$LOGS/build-module.log" | sed 's/^/  | /'
		say "FAIL: dm-dynsnap.ko does not build for $KERNEL"
		exit 1
	fi
	MOD_ARGS=(--module "$MODULE")
fi

fail() {
	say "FAIL: $*"
	say "state kept: $STATE_DIR, disks: $DISKS"
	say "replay with: $(replay_cmd)"
	exit 1
}

# boot DESCRIPTION WANT KILL_AFTER WORKLOAD_ARGS...: one boot running the
# workload; WANT is the list of acceptable vmtest exit codes.
boot() {
	local what=$1 want=$2 kill=$3 rc=0 kill_args=()
	shift 3
	BOOT=$((BOOT + 1))
	local log=$LOGS/boot-$BOOT
	[ -z "$kill" ] || kill_args=(--kill-after "$kill" --kill-from mark)
	say "boot $BOOT: $what"
	"$VMTEST" --kernel "$KERNEL" --out "$VMOUT" "${MOD_ARGS[@]}" "${DISK_ARGS[@]}" \
		--disks-dir "$DISKS" --state "$STATE" --timeout "$GUEST_TIMEOUT" ${kill_args[@]+"${kill_args[@]}"} \
		--cmd "bash $REPO/tests/crash/workload.sh --len-mib $LEN_MIB $*" >"$log.out" 2>&1 || rc=$?
	cp "$VMOUT/$KERNEL/console.log" "$log.console" 2>/dev/null || true
	sed 's/^/  | /' "$log.out"
	if [ -s "$VMOUT/$KERNEL/.vm/cmd.trouble" ]; then
		fail "boot $BOOT: kernel trouble on the console (see $log.console)"
	fi
	case " $want " in
	*" $rc "*) ;;
	*)
		if [ "$rc" -eq 77 ]; then
			LAST_RC=77
			return 0
		fi
		if [ "$rc" -eq "$KILLED_RC" ]; then
			fail "boot $BOOT: the VM was killed, which this boot did not ask for"
		fi
		fail "boot $BOOT: $what: exit status $rc (see $log.out, $log.console)"
		;;
	esac
	if [ "$rc" -eq "$KILLED_RC" ]; then
		say "boot $BOOT: killed after: $(tail -n 1 "$STATE_DIR/journal" 2>/dev/null || true)"
	fi
	LAST_RC=$rc
}

# run_sequence: every boot of the scenario, from fresh disks and state.
# Returns 77 when the workload skipped.
run_sequence() {
	local mode_arg='' c ms delay kills=0
	case "$MODE" in
	nosnap) mode_arg=--no-snapshots ;;
	raw) mode_arg=--raw ;;
	esac
	rm -rf "$DISKS" "$STATE_DIR" "$LOGS"/boot-*
	mkdir -p "$DISKS" "$LOGS"
	# The kill delays and the guests' seeds all come from SEED.
	RANDOM=$SEED
	BOOT=0
	boot "new volume, $CLEAN_ITERATIONS iteration(s), clean shutdown" 0 "" \
		--cycle 1 --seed $((SEED * 100 + 1)) --iterations "$CLEAN_ITERATIONS" $mode_arg
	[ "$LAST_RC" -ne 77 ] || return 77
	for ((c = 2; c <= CYCLES + 1; c++)); do
		# 0.5 .. MAX_DELAY seconds, in milliseconds
		ms=$((500 + ((RANDOM << 15 | RANDOM) % (MAX_DELAY * 1000 - 499))))
		delay=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
		boot "verify, then workload killed ${delay}s in" "0 $KILLED_RC" "$delay" \
			--cycle "$c" --seed $((SEED * 100 + c)) $mode_arg
		[ "$LAST_RC" -ne 77 ] || fail "boot $BOOT: the workload skipped after the first boot"
		if [ "$LAST_RC" -eq "$KILLED_RC" ]; then
			kills=$((kills + 1))
		else
			say "boot $BOOT: the workload ended before the kill"
		fi
	done
	boot "verify only" 0 "" --cycle $((CYCLES + 2)) --verify-only $mode_arg
	[ "$LAST_RC" -ne 77 ] || fail "boot $BOOT: the workload skipped after the first boot"
	[ "$KEEP" -eq 1 ] || rm -rf "$DISKS"
	say "PASS ($MODE): $BOOT boots, $kills killed, every acknowledged state survived (seed $SEED)"
}

rc=0
run_sequence || rc=$?
if [ "$rc" -eq 77 ]; then
	say "SKIP (see above)"
fi
exit "$rc"

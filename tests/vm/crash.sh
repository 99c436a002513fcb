# shellcheck shell=bash
# The volume of the crash and fault tests (0021, 0023), sourced after
# lib.sh and dynsnap.sh (it sources volatile.sh): 16 MiB on origin, fast
# and slow tier served with a volatile cache each, the dsn-crash workload
# on it and the check of what it left.
#
#   crash_setup             skip without disks or nbd, load the module,
#                           clean up at exit
#   crash_up WHAT           serve the three disks, activate the volume
#   crash_activate          the same, but a refused activation returns 1
#                           (why, with what the kernel logged, in
#                           $CRASH_DIR/refused)
#   crash_check_views LOG LIST ARGS...  dsn-crash check of the volume and
#                           the views of every snapshot it lists
#   crash_verify N TAG ARGS...  check round N against the state round N-1
#                           left and write round N's; TAG goes with the
#                           report, ARGS to dsn-crash check
#   crash_run N SEED ARGS...  start the workload of round N (pid:
#                           CRASH_PID), ARGS to dsn-crash run
# CRASH_ON_FULL=error|drop_oldest (set before crash_format) makes the
# tiers small (CRASH_FAST_MIB, CRASH_SLOW_MIB: 21 and 13 MiB, three delta
# segments each) and the workload one that fills them: the table's
# on_full, the workload's --full-tier with more snapshots kept and larger
# writes, and for the checker the ids of the snapshots the kernel logged
# it dropped (drop_oldest), gathered from the kernel log at every check.
# State and logs in $CRASH_DIR; reports in $CRASH_DIR/rounds.jsonl.

. "$(dirname "${BASH_SOURCE[0]}")/volatile.sh"

CRASH=$DYNSNAP_BUILD/tests/tools/dsn-crash
[ -x "$CRASH" ] || die "$CRASH not built (cmake --build build)"
CRASH_LEN=32768		# 16 MiB volume
CRASH_REGIONS=16	# of 1 MiB
# The fast tier's checkpoint slots: its metadata area, 8 MiB from 4 KiB on
# (docs/admin-guide.md, On-disk layout).
CRASH_CHECKPOINTS=4096-8392704
CRASH_DIR=${DYNSNAP_RESULTS:-/tmp}/crash
mkdir -p "$CRASH_DIR"
rm -f "$CRASH_DIR"/*

crash_setup() {
	dsn_require_disks
	dynsnap_load
	vc_require
	trap crash_cleanup EXIT
}

crash_cleanup() {
	local d
	for d in $(dmsetup ls 2>/dev/null | awk '$1 ~ /^dsn/ { print $1 }'); do
		dmsetup remove --force "$d" >/dev/null 2>&1 || true
	done
	vc_down_all
}

# crash_format: zero the volume and both tiers, for a new store; what
# earlier checks found of the old one is no state to go on from.
crash_format() {
	wipe_dev "$DYNSNAP_ORIGIN" 16
	dsn_wipe_tiers
	rm -f "$CRASH_DIR"/state.* "$CRASH_DIR/kernel-dropped"
	echo "dsn-crash: a new store" >/dev/kmsg
}

# The table's feature arguments, and what workload and checker add.
crash_features() {
	if [ -n "${CRASH_ON_FULL:-}" ]; then
		echo "4 region_sectors 2048 on_full $CRASH_ON_FULL"
	else
		echo "2 region_sectors 2048"
	fi
}

crash_run_args() {
	[ -z "${CRASH_ON_FULL:-}" ] || echo "--full-tier $CRASH_ON_FULL --keep 12 --max-sectors 512"
}

# crash_kernel_dropped: add to $CRASH_DIR/kernel-dropped the snapshots the
# kernel logged it dropped since the store was made (the ring buffer keeps
# them for a few rounds at least: they are gathered at every check).
crash_kernel_dropped() {
	local f=$CRASH_DIR/kernel-dropped
	touch "$f"
	{
		cat "$f"
		dmesg | awk '/dsn-crash: a new store/ { n = 0; next }
			match($0, /delta space full: dropping snapshot [0-9]+/) {
				w = substr($0, RSTART, RLENGTH); sub(/.* /, "", w); id[n++] = w }
			END { for (i = 0; i < n; i++) print id[i] }'
	} | sort -nu >"$f.new"
	mv "$f.new" "$f"
}

crash_activate() {
	local o f s fast_mib='' slow_mib=''
	if [ -n "${CRASH_ON_FULL:-}" ]; then
		fast_mib=${CRASH_FAST_MIB:-21}
		slow_mib=${CRASH_SLOW_MIB:-13}
	fi
	# A mark in the kernel log: what follows it is this activation's (the
	# ring buffer is full by now, so counting lines would not tell).
	echo "dsn-crash: activating the volume" >/dev/kmsg
	o=$(vc_up origin "$DYNSNAP_ORIGIN")
	f=$(vc_up fast "$DYNSNAP_FAST" "$fast_mib" "$CRASH_CHECKPOINTS")
	s=$(vc_up slow "$DYNSNAP_SLOW" "$slow_mib")
	if ! dmsetup create dsn --table "0 $CRASH_LEN dynsnap $o $f $s 128 $(crash_features)" \
		2>"$CRASH_DIR/refused"; then
		dmesg | awk '/dsn-crash: activating the volume/ { n = 0; next } { line[n++] = $0 }
			END { for (i = 0; i < n && i < 40; i++) print line[i] }' >>"$CRASH_DIR/refused"
		dmsetup remove dsn >/dev/null 2>&1 || true
		vc_down_all
		return 1
	fi
	dmsetup mknodes dsn
}

crash_up() {
	crash_activate && return 0
	cat "$CRASH_DIR/refused" >&2
	die "$1: the volume does not activate again"
}

crash_check_views() {
	local log=$1 list=$2 id rc=0
	shift 2
	dmsetup message dsn 0 snap_list >"$list" || die "snap_list failed"
	for id in $(awk '{ print $1 }' "$list"); do
		dmsetup create "dsnv$id" --table "0 $CRASH_LEN dynsnap-view /dev/mapper/dsn $id" ||
			die "cannot create the view of snapshot $id"
		dmsetup mknodes "dsnv$id"
	done
	crash_kernel_dropped
	"$CRASH" check --log "$log" --volume /dev/mapper/dsn --list "$list" \
		--view-prefix /dev/mapper/dsnv --kernel-dropped "$CRASH_DIR/kernel-dropped" "$@" || rc=$?
	for id in $(awk '{ print $1 }' "$list"); do
		dsn_remove "dsnv$id"
	done
	return "$rc"
}

crash_verify() {
	local n=$1 tag=$2 state_in=() rc=0 out
	shift 2
	[ ! -e "$CRASH_DIR/state.$((n - 1))" ] || state_in=(--state-in "$CRASH_DIR/state.$((n - 1))")
	out=$(crash_check_views "$CRASH_DIR/log.$n" "$CRASH_DIR/list.$n" "${state_in[@]}" \
		--state-out "$CRASH_DIR/state.$n" "$@") || rc=$?
	jq -c --arg tag "$tag" '. + {round: $tag}' <<<"$out" >>"$CRASH_DIR/rounds.jsonl"
	log "round $n ($tag): $out"
	[ "$rc" -eq 0 ] || die "round $n ($tag): the volume or a snapshot is wrong"
}

crash_run() {
	# shellcheck disable=SC2046 # the arguments are words
	"$CRASH" run /dev/mapper/dsn --name dsn --log "$CRASH_DIR/log.$1" --seed "$2" \
		--first-seq $(($1 * 10000000)) --regions "$CRASH_REGIONS" $(crash_run_args) \
		"${@:3}" 2>>"$CRASH_DIR/run.err" &
	CRASH_PID=$!
}

# shellcheck shell=bash
# The volume of the crash and fault tests (0021, 0023), sourced after
# lib.sh and dynsnap.sh (it sources volatile.sh): 16 MiB on origin, fast
# and slow tier served with a volatile cache each, the dsn-crash workload
# on it and the check of what it left.
#
#   crash_setup             skip without disks or nbd, load the module,
#                           clean up at exit
#   crash_up WHAT           serve the three disks, activate the volume
#   crash_check_views LOG LIST ARGS...  dsn-crash check of the volume and
#                           the views of every snapshot it lists
#   crash_verify N TAG      check round N against the state round N-1 left
#                           and write round N's; TAG goes with the report
#   crash_run N SEED        start the workload of round N (pid: CRASH_PID)
# State and logs in $CRASH_DIR; reports in $CRASH_DIR/rounds.jsonl.

. "$(dirname "${BASH_SOURCE[0]}")/volatile.sh"

CRASH=$DYNSNAP_BUILD/tests/tools/dsn-crash
[ -x "$CRASH" ] || die "$CRASH not built (cmake --build build)"
CRASH_LEN=32768		# 16 MiB volume
CRASH_REGIONS=16	# of 1 MiB
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

# crash_format: zero the volume and both tiers, for a new store.
crash_format() {
	wipe_dev "$DYNSNAP_ORIGIN" 16
	dsn_wipe_tiers
}

crash_up() {
	local o f s
	o=$(vc_up origin "$DYNSNAP_ORIGIN")
	f=$(vc_up fast "$DYNSNAP_FAST")
	s=$(vc_up slow "$DYNSNAP_SLOW")
	if ! dmsetup create dsn --table "0 $CRASH_LEN dynsnap $o $f $s 128 2 region_sectors 2048"; then
		dmesg | tail -n 20
		die "$1: the volume does not activate again"
	fi
	dmsetup mknodes dsn
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
	"$CRASH" check --log "$log" --volume /dev/mapper/dsn --list "$list" \
		--view-prefix /dev/mapper/dsnv "$@" || rc=$?
	for id in $(awk '{ print $1 }' "$list"); do
		dsn_remove "dsnv$id"
	done
	return "$rc"
}

crash_verify() {
	local n=$1 tag=$2 state_in=() rc=0 out
	[ "$n" -le 1 ] || state_in=(--state-in "$CRASH_DIR/state.$((n - 1))")
	out=$(crash_check_views "$CRASH_DIR/log.$n" "$CRASH_DIR/list.$n" "${state_in[@]}" \
		--state-out "$CRASH_DIR/state.$n") || rc=$?
	jq -c --arg tag "$tag" '. + {round: $tag}' <<<"$out" >>"$CRASH_DIR/rounds.jsonl"
	log "round $n ($tag): $out"
	[ "$rc" -eq 0 ] || die "round $n ($tag): the volume or a snapshot is wrong"
}

crash_run() {
	"$CRASH" run /dev/mapper/dsn --name dsn --log "$CRASH_DIR/log.$1" --seed "$2" \
		--first-seq $(($1 * 10000000)) --regions "$CRASH_REGIONS" 2>>"$CRASH_DIR/run.err" &
	CRASH_PID=$!
}

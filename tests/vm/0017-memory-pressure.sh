#!/bin/bash
# Preserving writes go on when memory is short, and every snapshot stays
# right. Batches of random writes at all three levels, a snapshot after
# each, while
#  1. memory is nearly exhausted: tmpfs holds all but about 64 MiB of
#     the guest's memory and the page cache is dropped again and again;
#  2. (kernels with failslab: the debug kernel) slab allocations made by
#     kernel workers, where the target preserves data, fail at random:
#     failslab with its task filter on every kworker, sleeping allocations
#     included. The mempools' reserves and the waits for larger arrays must
#     carry every write; the number of failures injected is logged and
#     must not be zero.
#  3. (the debug kernel) snap_delete with one slab allocation of its own
#     failing, at each point of its work in turn: a refused deletion
#     leaves the snapshot listed and right, a successful one removed it.
# Every write must succeed, the target must stay in write mode, and every
# view must match its reference, during the pressure and after it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"

dsn_require_oracle
dsn_setup

LEN=131072		# 64 MiB volume, 16 regions of 4 MiB
dev=/dev/mapper/dsn
model=/tmp/model
FAILSLAB=/sys/kernel/debug/failslab
FILL_DIR=/tmp/dsn-fill
FILL=$FILL_DIR/fill
HOG_PID=
FLAGGER_PID=

stop_pressure() {
	[ -z "$FLAGGER_PID" ] || kill "$FLAGGER_PID" 2>/dev/null || true
	[ -z "$HOG_PID" ] || kill "$HOG_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	FLAGGER_PID= HOG_PID=
	if [ -d "$FAILSLAB" ]; then
		echo 0 >"$FAILSLAB/probability" 2>/dev/null || true
	fi
	rm -f "$FILL"
	umount "$FILL_DIR" 2>/dev/null || true
}
trap stop_pressure EXIT

# A snapshot after every batch; REFS[i] is the reference of SNAPS[i].
SNAPS=()
REFS=()
batch() {
	local seed=$1 ref=/tmp/ref.$1 id
	dsn_oracle write $dev --seed "$seed" --count 40 --max-bytes 256k ||
		die "writes of batch $seed failed"
	dsn_oracle write $model --seed "$seed" --count 40 --max-bytes 256k >/dev/null ||
		die "writes of batch $seed to the model failed"
	dsn_reference $model "$ref"
	id=$(dsn_snap_create dsn "b$seed")
	SNAPS+=("$id")
	REFS+=("$ref")
}

check_all() {
	local i
	for i in "${!SNAPS[@]}"; do
		dsn_view_check dsn "${SNAPS[$i]}" "${REFS[$i]}"
	done
	dsn_reference $model /tmp/ref.live
	dsn_compare $dev /tmp/ref.live "$1: the live volume"
	assert_eq "$(dsn_status_field dsn 1)" write "$1: mode"
	log "$1: ${#SNAPS[@]} views and the live volume match"
}

dsn_create dsn "0 $LEN dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST $DYNSNAP_SLOW 128 2 granularity sub"
dd if=$dev of=$model bs=1M iflag=direct status=none
# Regions 0-3 keep whole blocks, 8-11 bytes, the rest sub-blocks.
dsn_set_granularity dsn block 0 4
dsn_set_granularity dsn bit 8 4
batch 1

log "== 1. memory nearly exhausted"
avail_kib=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
fill_mib=$((avail_kib / 1024 - 64))
[ "$fill_mib" -gt 0 ] || skip "only $((avail_kib / 1024)) MiB available"
# tmpfs pages cannot be reclaimed without swap: this is memory the kernel
# must do without. Stop short of the OOM killer, whose report would be
# kernel trouble of its own.
mkdir -p $FILL_DIR
mount -t tmpfs -o size=${fill_mib}m dsn-fill $FILL_DIR || die "cannot mount a tmpfs"
fallocate -l ${fill_mib}MiB $FILL ||
	die "could not fill $fill_mib MiB of tmpfs"
log "tmpfs holds $fill_mib MiB; MemAvailable now $(awk '/^MemAvailable:/ {print $2}' /proc/meminfo) KiB"
(
	while :; do
		echo 3 >/proc/sys/vm/drop_caches
		sleep 0.2
	done
) &
HOG_PID=$!
for seed in 2 3 4 5; do
	batch $seed
done
check_all "under memory pressure"
stop_pressure
check_all "after memory pressure"

log "== 2. slab allocations of kernel workers fail at random"
if [ ! -d "$FAILSLAB" ]; then
	mount -t debugfs none /sys/kernel/debug 2>/dev/null || true
fi
if [ ! -d "$FAILSLAB" ]; then
	log "no $FAILSLAB (a kernel without CONFIG_FAILSLAB): part 2 needs the debug kernel"
else
	echo Y >"$FAILSLAB/task-filter"
	echo N >"$FAILSLAB/ignore-gfp-wait"
	echo N >"$FAILSLAB/cache-filter"
	echo 0 >"$FAILSLAB/verbose"
	echo 0 >"$FAILSLAB/space"
	echo 1 >"$FAILSLAB/interval"
	budget=1000000
	echo $budget >"$FAILSLAB/times"
	echo 10 >"$FAILSLAB/probability"
	# Workers come and go: flag the new ones as they appear.
	(
		while :; do
			for p in $(pgrep '^kworker'); do
				echo 1 >"/proc/$p/make-it-fail" 2>/dev/null || true
			done
			sleep 0.1
		done
	) &
	FLAGGER_PID=$!
	sleep 0.5
	for seed in 6 7 8 9; do
		batch $seed
	done
	left=$(cat "$FAILSLAB/times")
	echo 0 >"$FAILSLAB/probability"
	kill "$FLAGGER_PID" 2>/dev/null || true
	wait "$FLAGGER_PID" 2>/dev/null || true
	FLAGGER_PID=
	for p in $(pgrep '^kworker'); do
		echo 0 >"/proc/$p/make-it-fail" 2>/dev/null || true
	done
	injected=$((budget - left))
	log "failslab failed $injected slab allocations of kernel workers"
	[ "$injected" -gt 0 ] || die "failslab injected no failure: the test tested nothing"
	check_all "after failing allocations"
fi

log "== 3. deletions whose own allocations fail, at every point in turn"
if [ ! -d "$FAILSLAB" ]; then
	log "no $FAILSLAB: part 3 needs the debug kernel"
else
	# One failure per attempt, at the N-th allocation of the message's
	# own work (fail-nth), N = 1, 2, ... until an attempt gets through
	# untouched. An attempt that reports failure must leave its snapshot
	# listed and right; one that reports success must have deleted it (a
	# deletion once journaled is done, whatever fails after).
	echo N >"$FAILSLAB/ignore-gfp-wait"
	nth=1 refused=0 deleted=0
	while :; do
		[ "${#SNAPS[@]}" -gt 1 ] || batch $((100 + nth))
		id=${SNAPS[0]}
		rc=0
		"$DYNSNAP_BUILD/tests/tools/dsn-fail-message" $nth dsn snap_delete "$id" >/tmp/fm.out || rc=$?
		[ "$rc" -le 1 ] || die "dsn-fail-message: $(cat /tmp/fm.out)"
		injected=0
		[ "$(head -n 1 /tmp/fm.out)" != injected ] || injected=1
		listed=0
		! dsn_snap_ids dsn | grep -qx "$id" || listed=1
		if [ "$rc" -eq 0 ]; then
			[ "$listed" -eq 0 ] || die "snap_delete $id succeeded (failure $nth) but it is still listed"
			SNAPS=("${SNAPS[@]:1}")
			REFS=("${REFS[@]:1}")
			deleted=$((deleted + 1))
			[ "$injected" -eq 1 ] || break
		else
			[ "$listed" -eq 1 ] ||
				die "snap_delete $id failed ($(tail -n 1 /tmp/fm.out), failure $nth) but the snapshot is gone"
			[ "$injected" -eq 1 ] || die "snap_delete $id failed with no failure injected: $(cat /tmp/fm.out)"
			refused=$((refused + 1))
			dsn_view_check dsn "$id" "${REFS[0]}"
		fi
		nth=$((nth + 1))
		[ "$nth" -le 2000 ] || die "no deletion got through untouched after 2000 failure points"
	done
	log "failure points 1-$((nth - 1)) of snap_delete: $refused refused cleanly, $((deleted - 1)) deleted anyway; point $nth not reached"
	[ "$refused" -gt 0 ] || die "no deletion was refused: the failures missed the message"
	check_all "after deletions with failing allocations"
fi

for id in "${SNAPS[@]}"; do
	dsn_snap_delete dsn "$id"
done
dsn_remove dsn
log "done"

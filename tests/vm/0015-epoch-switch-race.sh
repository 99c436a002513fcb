#!/bin/bash
# Writers that never stop, to their own sub-blocks of one block, against
# up to 1800 snapshots taken back to back (fewer on a slow machine), at
# sub-block and at block level: the first write of each epoch preserves
# the block while the others decide without a lock whether their sub-block
# still needs it. Every
# snapshot, read through views (one device of many dynsnap-view targets, a
# block of each snapshot), may hold only writes issued before it was created,
# each whole, none older than the snapshot before held. Snapshots are
# deleted in batches while the writers go on, so the garbage collector runs
# under them too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"

RACE=$DYNSNAP_BUILD/tests/tools/dsn-epoch-race
[ -x "$RACE" ] || die "$RACE not built (cmake --build build)"
dsn_setup

LEN=131072	# 64 MiB volume
BLOCK=128	# sectors: 64 KiB blocks of 16 sub-blocks of 4 KiB
BATCH=150
BATCHES=${DSN_RACE_BATCHES:-6}	# at most, per level
# The stress a level gets is bounded in time too (TCG runs at any speed):
# no batch starts after this many seconds; at least one always runs.
# 0019 runs this test longer.
BUDGET=${DSN_RACE_BUDGET:-120}
WRITERS=8
dev=/dev/mapper/dsn

# views_of IDS_FILE: one device whose Nth block is the first block of the
# Nth snapshot listed.
views_of() {
	local i=0 id
	: >/tmp/views.table
	while read -r id; do
		echo "$((i * BLOCK)) $BLOCK dynsnap-view $dev $id" >>/tmp/views.table
		i=$((i + 1))
	done <"$1"
	dmsetup create dsn_views </tmp/views.table || die "cannot create the views of $1"
	dmsetup mknodes dsn_views
}

race() {
	local level=$1 b ids total=0 t0=$SECONDS
	log "== $level level: up to $BATCHES batches of $BATCH snapshots, $WRITERS writers"
	dsn_wipe_tiers
	dsn_create dsn "0 $LEN dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST $DYNSNAP_SLOW $BLOCK 4 sub_block_sectors 8 granularity $level"
	for ((b = 1; b <= BATCHES && (b == 1 || SECONDS - t0 < BUDGET); b++)); do
		ids=/tmp/ids.$level.$b
		"$RACE" run $dev dsn --block 65536 --sub 4096 --writers $WRITERS \
			--snapshots "$BATCH" --ids "$ids" --tags /tmp/tags ||
			die "$level batch $b: the writers or a snapshot failed"
		views_of "$ids"
		dd if=/dev/mapper/dsn_views of=/tmp/views.img bs=1M iflag=direct status=none ||
			die "$level batch $b: cannot read the views"
		dsn_remove dsn_views
		"$RACE" check /tmp/views.img --ids "$ids" --block 65536 --sub 4096 \
			--writers $WRITERS >/tmp/check.out || {
			head -n 20 /tmp/check.out
			die "$level batch $b: a snapshot holds data written after it"
		}
		tail -n 1 /tmp/check.out
		while read -r id; do
			dsn_snap_delete dsn "$id"
		done <"$ids"
		total=$((total + BATCH))
	done
	log "$level: $total epoch switches, every snapshot checked; status: $(dsn_status dsn)"
	SWITCHES=$((SWITCHES + total))
	dsn_remove dsn
}

SWITCHES=0
race sub
race block
log "$SWITCHES snapshots: every one held only what was written before it"

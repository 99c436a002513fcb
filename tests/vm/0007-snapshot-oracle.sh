#!/bin/bash
# Snapshots checked against an oracle. Batches of random writes of mixed
# sizes (512 B to 1 MiB at any 512-byte offset) go to the volume and, the
# same, to a model file; at every snapshot the model's per-chunk sums are
# the reference (and the volume must match them), and every view must equal
# its reference byte for byte. With each granularity alone, mixed across
# regions, changed between epochs, after deleting snapshots in random order,
# and without a slow tier; plus the message interface around it: ids,
# names, snap_list, the status count, refused views and refused writes.
# vm-tier: every-kernel
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"

dsn_require_oracle
dsn_setup

LEN=131072		# 64 MiB of the origin: 16 regions of 4 MiB
BYTES=$((LEN * 512))
dev=/dev/mapper/dsn
model=/tmp/model
T0=$(date +%s)
IDS=()			# retained snapshots, in creation order
declare -A NAME=()	# id -> name
ID=

# store SLOW [FEATURE VALUE]...: a new store on zeroed tiers, the volume on
# the first LEN sectors of the origin, and the model as a copy of it.
store() {
	local slow=$1 feat=
	shift
	[ $# -eq 0 ] || feat=" $# $*"
	! dmsetup info dsn >/dev/null 2>&1 || dsn_remove dsn
	dsn_wipe_tiers
	dsn_create dsn "0 $LEN dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST $slow 128$feat"
	dd if=$dev of=$model bs=1M iflag=direct status=none
	IDS=()
	NAME=()
	assert_eq "$(dsn_snap_count dsn)" 0 "snapshots of a new store"
	assert_eq "$(dsn_snap_list dsn)" "" "snap_list of a new store"
}

# batch SEED ARGS...: the same dsn-oracle writes to the volume and the model.
batch() {
	dsn_oracle write $dev --seed "$@" || die "writes to the volume failed"
	dsn_oracle write $model --seed "$@" >/dev/null || die "writes to the model failed"
}

# edges SEED: writes inside the first and the last MiB of the volume.
edges() {
	batch "$1" --count 4 --range 0:1M --max-bytes 256K
	batch "$1" --count 4 --range $((BYTES - 1048576)):1M --max-bytes 256K
}

# snap NAME: the model's sums become the reference, the volume must match
# them, then the snapshot; sets ID.
snap() {
	local name=$1 i
	dsn_reference $model /tmp/ref.new
	dsn_compare $dev /tmp/ref.new "volume before snapshot $name"
	ID=$(dsn_snap_create dsn "$name")
	for i in "${IDS[@]}"; do
		[ "$i" != "$ID" ] || die "snapshot $name got id $ID, which a retained snapshot has"
	done
	mv /tmp/ref.new "/tmp/ref.$ID"
	IDS+=("$ID")
	NAME[$ID]=$name
	assert_eq "$(dsn_snap_count dsn)" "${#IDS[@]}" "status snapshot count after creating $name"
	log "snapshot $name: id $ID"
}

# epochs N SEED SPARSE: N times a batch of writes (and SPARSE-byte sparse
# rewrites unless SPARSE is 0) then a snapshot, then one more batch so
# that the live volume moves on from the last snapshot.
epochs() {
	local n=$1 seed=$2 sparse=$3 i
	for ((i = 1; i <= n; i++)); do
		batch $((seed + i)) --count 80
		[ "$sparse" = 0 ] || batch $((seed + 50 + i)) --count 40 --sparse "$sparse"
		edges $((seed + 70 + i))
		snap "s$seed.$i"
	done
	batch $((seed + 99)) --count 40
	edges $((seed + 98))
}

# check_list: snap_list shows exactly the retained snapshots with their
# names, creation times in order, from this test, as seconds.nanoseconds.
check_list() {
	local want got id name ctime excl i prev=0 t now
	want=$(for i in "${IDS[@]}"; do echo "$i ${NAME[$i]}"; done | sort -n)
	got=$(dsn_snap_list dsn | awk '{print $1, $2}' | sort -n)
	assert_eq "$got" "$want" "snap_list ids and names"
	now=$(date +%s)
	declare -A ctimes=()
	while read -r id name ctime excl _; do
		[[ $ctime =~ ^[0-9]+\.[0-9]{9}$ ]] ||
			die "snap_list: creation time '$ctime' of snapshot $id is not seconds.nanoseconds"
		[[ $excl =~ ^[0-9]+$ ]] || die "snap_list: exclusive bytes '$excl' of snapshot $id"
		t=${ctime%.*}
		if [ "$t" -lt $((T0 - 2)) ] || [ "$t" -gt $((now + 2)) ]; then
			die "snap_list: creation time $ctime of snapshot $id is not from this test ($T0..$now)"
		fi
		ctimes[$id]=${ctime/./}
	done < <(dsn_snap_list dsn)
	for i in "${IDS[@]}"; do
		[ "$((10#${ctimes[$i]}))" -ge "$prev" ] ||
			die "snap_list: snapshot $i is older than one created before it"
		prev=$((10#${ctimes[$i]}))
	done
}

# levels_are BLOCK/SUB/BIT DESC: regions at each level in the current epoch.
levels_are() {
	assert_eq "$(dsn_region_levels dsn)" "$1" "regions per level (block/sub/bit) $2"
}

# check_views: every retained snapshot's view equals its reference.
check_views() {
	local i
	for i in "${IDS[@]}"; do
		dsn_view_check dsn "$i" "/tmp/ref.$i"
	done
	log "${#IDS[@]} views equal their references"
}

# delete ID: delete a snapshot; the count, the list and the views follow.
delete() {
	local id=$1 i keep=()
	dsn_snap_delete dsn "$id"
	for i in "${IDS[@]}"; do
		[ "$i" = "$id" ] || keep+=("$i")
	done
	IDS=("${keep[@]}")
	unset "NAME[$id]"
	assert_eq "$(dsn_snap_count dsn)" "${#IDS[@]}" "status snapshot count after deleting $id"
	check_list
	dsn_expect_no_view dsn "$id" "view of deleted snapshot $id"
	log "deleted snapshot $id"
}

log "== granularity block alone, with a slow tier"
store "$DYNSNAP_SLOW" granularity block
levels_are 16/0/0 "with granularity block"
epochs 3 100 0
log "two snapshots with no write between them"
snap empty.1
snap empty.2
check_list
check_views

log "snapshot names: 64 characters of the allowed set, and refused ones"
name64=$(printf 'Aa0._:@+-%055d' 0)
batch 150 --count 20
snap "$name64"
count=${#IDS[@]}
expect_fail "a 65-character name" dmsetup message dsn 0 snap_create "${name64}x"
expect_fail "a name with '/'" dmsetup message dsn 0 snap_create bad/name
expect_fail "a name with '='" dmsetup message dsn 0 snap_create bad=name
expect_fail "a name of two words" dmsetup message dsn 0 snap_create bad name
expect_fail "no name" dmsetup message dsn 0 snap_create
expect_fail "deleting an id that does not exist" dmsetup message dsn 0 snap_delete $((ID + 1000))
expect_fail "deleting a non-numeric id" dmsetup message dsn 0 snap_delete abc
assert_eq "$(dsn_snap_count dsn)" "$count" "snapshot count after refused messages"
check_list
dsn_view_check dsn "$ID" "/tmp/ref.$ID"
dsn_expect_no_view dsn $((ID + 1000)) "view of an id that never existed"
dsn_expect_no_view dsn abc "view of a non-numeric id"

log "writes to a view fail and change nothing"
dsn_view_create dsn_view dsn "${IDS[0]}"
expect_fail "direct write to a view" \
	dd if=/dev/urandom of=/dev/mapper/dsn_view bs=4096 count=1 oflag=direct status=none
expect_fail "dsn-oracle writes to a view" dsn_oracle write /dev/mapper/dsn_view --seed 1 --count 4
dsn_compare /dev/mapper/dsn_view "/tmp/ref.${IDS[0]}" "view after refused writes"
dsn_remove dsn_view

log "== granularity sub alone"
store "$DYNSNAP_SLOW" granularity sub
levels_are 0/16/0 "with granularity sub"
epochs 3 200 0
check_list
check_views

log "== granularity bit alone"
store "$DYNSNAP_SLOW" granularity bit
levels_are 0/0/16 "with granularity bit"
epochs 3 300 4
check_list
check_views

log "== mixed levels across regions, set before the first snapshot"
store "$DYNSNAP_SLOW"
dsn_set_granularity dsn block 0 4
dsn_set_granularity dsn bit 8 4
dsn_set_granularity dsn block 15
expect_fail "an unknown level" dmsetup message dsn 0 set_granularity huge 0 1
expect_fail "a region beyond the volume" dmsetup message dsn 0 set_granularity bit 16 1
expect_fail "regions running past the volume" dmsetup message dsn 0 set_granularity bit 14 3
expect_fail "a non-numeric region" dmsetup message dsn 0 set_granularity bit x
levels_are 0/16/0 "before the first snapshot (set_granularity waits for it)"
epochs 3 400 4
levels_are 5/7/4 "after set_granularity block 0 4, bit 8 4, block 15"
check_list
check_views

log "== levels changed between epochs, then deletions in random order"
store "$DYNSNAP_SLOW" granularity bit
levels=(block sub bit)
for i in 1 2 3 4; do
	batch $((500 + i)) --count 80
	batch $((550 + i)) --count 40 --sparse 3
	edges $((570 + i))
	# Each group of regions gets another level for the next epoch.
	dsn_set_granularity dsn "${levels[i % 3]}" 0 6
	dsn_set_granularity dsn "${levels[(i + 1) % 3]}" 6 5
	dsn_set_granularity dsn "${levels[(i + 2) % 3]}" 11 5
	snap "changing.$i"
	declare -A n=([block]=0 [sub]=0 [bit]=0)
	n[${levels[i % 3]}]=6
	n[${levels[(i + 1) % 3]}]=5
	n[${levels[(i + 2) % 3]}]=5
	levels_are "${n[block]}/${n[sub]}/${n[bit]}" "after snapshot changing.$i"
done
batch 599 --count 60 --sparse 2
batch 598 --count 40
check_list
check_views
RANDOM=7
mapfile -t order < <(for i in "${IDS[@]}"; do echo "$RANDOM $i"; done | sort -n | awk '{print $2}')
log "deletion order: ${order[*]}"
delete "${order[0]}"
check_views
delete "${order[1]}"
check_views
log "writes and a new snapshot after deletions"
batch 590 --count 80
snap changing.5
batch 591 --count 40 --sparse 3
check_list
check_views
mapfile -t order < <(for i in "${IDS[@]}"; do echo "$RANDOM $i"; done | sort -n | awk '{print $2}')
log "deletion order: ${order[*]}"
for i in "${order[@]}"; do
	delete "$i"
done
assert_eq "$(dsn_snap_count dsn)" 0 "snapshots after deleting them all"
batch 592 --count 40
dsn_reference $model /tmp/ref.live
dsn_compare $dev /tmp/ref.live "volume after deleting every snapshot"

log "== no slow tier: mixed levels on the fast tier alone"
store - granularity sub
dsn_set_granularity dsn bit 4 4
dsn_set_granularity dsn block 12 4
epochs 3 600 2
levels_are 4/8/4 "after set_granularity bit 4 4, block 12 4"
check_list
check_views
dsn_reference $model /tmp/ref.live
dsn_compare $dev /tmp/ref.live "live volume at the end"
dsn_remove dsn
log "pass"

#!/bin/bash
# Snapshots persist: after the table is removed and created again, after a
# table reload, and after the module is unloaded and loaded again, the same
# snapshots are listed with the same ids, names and creation times, the
# status counts are unchanged, every view still equals the reference saved
# at its snapshot, deleted snapshots stay deleted, and new snapshots work.
# vm-tier: every-kernel
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"

dsn_require_oracle
dsn_setup

LEN=131072		# 64 MiB: 16 regions of 4 MiB
table="0 $LEN dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST $DYNSNAP_SLOW 128 2 granularity sub"
dev=/dev/mapper/dsn
model=/tmp/model
IDS=()

# batch SEED ARGS...: the same writes to the volume and the model.
batch() {
	dsn_oracle write $dev --seed "$@" || die "writes to the volume failed"
	dsn_oracle write $model --seed "$@" >/dev/null || die "writes to the model failed"
}

# snap NAME: reference from the model, then the snapshot; appends to IDS.
snap() {
	local id
	dsn_reference $model /tmp/ref.new
	dsn_compare $dev /tmp/ref.new "volume before snapshot $1"
	id=$(dsn_snap_create dsn "$1")
	mv /tmp/ref.new "/tmp/ref.$id"
	IDS+=("$id")
	log "snapshot $1: id $id"
}

# check_all DESC: the list, the views and the live volume are as expected.
check_all() {
	local i
	assert_eq "$(dsn_snap_ids dsn | tr '\n' ' ')" "$(printf '%s\n' "${IDS[@]}" | sort -n | tr '\n' ' ')" \
		"$1: snapshot ids"
	assert_eq "$(dsn_snap_count dsn)" "${#IDS[@]}" "$1: status snapshot count"
	for i in "${IDS[@]}"; do
		dsn_view_check dsn "$i" "/tmp/ref.$i"
	done
	dsn_reference $model /tmp/ref.live
	dsn_compare $dev /tmp/ref.live "$1: live volume"
	log "$1: ${#IDS[@]} snapshots, every view and the live volume as expected"
}

# state: what must survive: snap_list without the exclusive bytes (which
# may be recounted), the snapshot count and the number of delta records.
state() {
	dsn_snap_list dsn | awk '{print $1, $2, $3}'
	echo "snapshots $(dsn_snap_count dsn) records $(dsn_status_field dsn 5)"
}

dsn_create dsn "$table"
dd if=$dev of=$model bs=1M iflag=direct status=none
dsn_set_granularity dsn bit 0 4
dsn_set_granularity dsn block 8 4
for i in 1 2 3; do
	batch $((10 + i)) --count 80
	batch $((20 + i)) --count 30 --sparse 3
	snap "p$i"
done
batch 30 --count 60
records=$(dsn_status_field dsn 5)
[ "$records" -gt 0 ] || die "no delta records after writes that overwrote snapshots"
check_all "before any re-create"
state >/tmp/state.0

log "a view keeps the store: the volume can go, but not come back until the view does"
dsn_view_create dsn_view dsn "${IDS[0]}"
dsn_remove dsn
# Nothing protects the origin once the volume is gone: the view reads EIO.
expect_fail "reading view of ${IDS[0]} with the volume removed" \
	dd if=/dev/mapper/dsn_view of=/dev/null bs=64k count=1 iflag=direct status=none
expect_fail "re-create the volume while a view of its store is open" \
	dmsetup create dsn --table "$table"
dsn_remove dsn_view

log "re-create the table"
dsn_create dsn "$table"
state >/tmp/state.1
diff -u /tmp/state.0 /tmp/state.1 || die "snapshots or status changed across re-create"
check_all "after re-create"

log "a table reload keeps everything"
dmsetup reload dsn --table "$table" || die "reload failed"
dmsetup resume dsn || die "resume after reload failed"
state >/tmp/state.2
diff -u /tmp/state.0 /tmp/state.2 || die "snapshots or status changed across reload"
dsn_view_check dsn "${IDS[2]}" "/tmp/ref.${IDS[2]}"

log "new writes and a snapshot, one deleted; then re-create"
batch 40 --count 60
snap p4
for i in "${IDS[@]:0:3}"; do
	[ "$i" != "${IDS[3]}" ] || die "the new snapshot reuses id $i"
done
deleted=${IDS[1]}
dsn_snap_delete dsn "$deleted"
IDS=("${IDS[0]}" "${IDS[2]}" "${IDS[3]}")
batch 41 --count 40 --sparse 5
state >/tmp/state.3
dsn_remove dsn
dsn_create dsn "$table"
state >/tmp/state.4
diff -u /tmp/state.3 /tmp/state.4 || die "snapshots or status changed across re-create"
dsn_expect_no_view dsn "$deleted" "view of a snapshot deleted before re-create"
check_all "after delete and re-create"

log "unload and load the module"
dsn_remove dsn
dynsnap_unload
[ ! -d /sys/module/dm_dynsnap ] || die "dm_dynsnap still loaded after rmmod"
dynsnap_load
dsn_create dsn "$table"
state >/tmp/state.5
diff -u /tmp/state.3 /tmp/state.5 || die "snapshots or status changed across module reload"
dsn_expect_no_view dsn "$deleted" "view of a deleted snapshot after module reload"
check_all "after module reload"

log "the store keeps working: writes, a snapshot, a deletion"
batch 50 --count 60
snap p5
dsn_snap_delete dsn "${IDS[0]}"
IDS=("${IDS[@]:1}")
batch 51 --count 40
dsn_remove dsn
dsn_create dsn "$table"
check_all "at the end"
dsn_remove dsn
log "pass"

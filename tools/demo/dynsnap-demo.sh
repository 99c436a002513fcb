#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A guided tour of dm-dynsnap on three block devices. Run as root by
# tools/run-demo, inside a test VM or on a host that can load modules.
#
#   dynsnap-demo.sh MODULE.ko ORIGIN FAST SLOW
#
# Everything on FAST and SLOW is destroyed; ORIGIN is overwritten too.
set -euo pipefail
ko=$1 origin=$2 fast=$3 slow=$4
export DM_DISABLE_UDEV=1
name=dsn-demo
mnt=$(mktemp -d)

step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
cleanup() {
	umount "$mnt" 2>/dev/null || true
	dmsetup remove "$name" 2>/dev/null || true
	rmdir "$mnt" 2>/dev/null || true
}
trap cleanup EXIT

step "Kernel $(uname -r): load dm-dynsnap"
for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do
	modprobe "$dep"
done
[ -d /sys/module/dm_dynsnap ] || show insmod "$ko"
show dmsetup targets

step "The devices: origin (the live volume), fast tier (NVMe), slow tier (HDD)"
show lsblk -o NAME,SIZE,ROTA,TYPE "$origin" "$fast" "$slow"

step "Create a dynsnap volume: 64 KiB blocks, 4 KiB sub-blocks (the default)"
echo "A zeroed fast device means 'format'; both tiers get a superblock."
dd if=/dev/zero of="$fast" bs=1M count=1 oflag=direct status=none
dd if=/dev/zero of="$slow" bs=1M count=1 oflag=direct status=none
len=$(( $(blockdev --getsz "$origin") / 128 * 128 ))
table="0 $len dynsnap $origin $fast $slow 128"
show dmsetup create "$name" --table "$table"
dmsetup mknodes "$name"
dmesg | grep 'dynsnap' | tail -n1

step "Table and status"
show dmsetup table "$name"
show dmsetup status "$name"
read -r _ _ _ mode snaps fast_use slow_use records csum gen < <(dmsetup status "$name")
cat <<INFO
  mode             $mode
  snapshots        $snaps
  fast delta area  $fast_use sectors used/total
  slow delta area  $slow_use sectors used/total
  delta records    $records
  checksum errors  $csum
  generation       $gen (metadata commits since format)
INFO

step "Write 64 MiB through the target with fio and verify it (crc32c)"
show fio --name=demo --filename=/dev/mapper/"$name" --direct=1 --ioengine=libaio \
	--rw=randwrite --bs=4k --iodepth=16 --size=64M --verify=crc32c --verify_fatal=1 \
	--group_reporting --output-format=normal | grep -E 'write:|read:|verify|err='

step "A filesystem on the volume"
show mkfs.ext4 -q -F /dev/mapper/"$name"
show mount /dev/mapper/"$name" "$mnt"
cp -a /usr/include/linux "$mnt/"
show du -sh "$mnt/linux"
tree_sum() { (cd "$1" && find linux -type f -print0 | sort -z | xargs -0 cat | sha256sum); }
sum=$(tree_sum "$mnt")

step "Take a snapshot of the mounted filesystem (frozen for a consistent image)"
show fsfreeze -f "$mnt"
id=$(dmsetup message "$name" 0 snap_create before-edit)
show fsfreeze -u "$mnt"
echo "snapshot id: $id"
show dmsetup message "$name" 0 snap_list

step "Change the live filesystem: delete a directory, rewrite a file"
show rm -rf "$mnt/linux/netfilter"
show sh -c "head -c 1M /dev/urandom >'$mnt/linux/new-file'"
sync
[ "$(tree_sum "$mnt")" != "$sum" ] && echo "the live files differ from the snapshot now"
show dmsetup status "$name"
echo "(fields 5 and 12: delta records and their bytes; see docs/admin-guide.md)"

step "Read the snapshot through a view, while the volume stays mounted"
view=$name-snap
show dmsetup create "$view" --table "0 $len dynsnap-view /dev/mapper/$name $id"
dmsetup mknodes "$view"
vmnt=$(mktemp -d)
show mount -o ro,noload /dev/mapper/"$view" "$vmnt"
[ "$(tree_sum "$vmnt")" = "$sum" ] && echo "every file in the view is as it was at the snapshot"
umount "$vmnt"
rmdir "$vmnt"
show e2fsck -fn /dev/mapper/"$view"
show dmsetup remove "$view"

step "Roll the volume back to the snapshot"
show umount "$mnt"
show dmsetup message "$name" 0 rollback "$id"
until dmsetup status "$name" | awk '{print $16}' | grep -qE ':(done|failed):'; do
	sleep 0.2
done
show dmsetup status "$name"
show e2fsck -fn /dev/mapper/"$name"
show mount /dev/mapper/"$name" "$mnt"
[ "$(tree_sum "$mnt")" = "$sum" ] && echo "every file is back as it was at the snapshot"
show umount "$mnt"

step "Remove and re-create the table: the store and its snapshot are found again"
show dmsetup remove "$name"
show dmsetup create "$name" --table "$table"
dmsetup mknodes "$name"
show dmsetup message "$name" 0 snap_list
show mount -o ro /dev/mapper/"$name" "$mnt"
[ "$(tree_sum "$mnt")" = "$sum" ] && echo "every file reads back identical"
umount "$mnt"

step "A table the target refuses, and why (from the kernel log)"
dmsetup remove "$name"
show dmsetup create "$name" --table "0 $len dynsnap $origin $fast $slow 64" || true
dmesg | grep 'table:.*dynsnap' | tail -n1

step "Done"
cat <<'NEXT'
What works today: the two-tier store, snapshots as epoch switches with
undo deltas at block, sub-block or bit level, views, rollback, checkpoints
and reuse of delta space, both space policies, persistence across
re-creation and power cuts, and a clear refusal of bad tables. Not yet:
consolidation, compression and encryption of deltas, and the predictor:
see README.
NEXT

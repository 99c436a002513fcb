#!/bin/bash
# Harness self-test (needs no dm-dynsnap module): the disks are there with
# the requested sizes, fio can write and verify data on the virtio disk, and
# a dm-linear device over the NVMe disk carries a working ext4 filesystem.
# shellcheck source=tests/vm/lib.sh
# vm-tier: every-kernel
. "$(dirname "$0")/lib.sh"

log "kernel $(uname -r), disks: $DYNSNAP_DISKS"
[ -n "$DYNSNAP_FAST" ] || die "no NVMe disk (DYNSNAP_FAST is empty)"
[ -n "$DYNSNAP_SLOW" ] || die "no virtio disk (DYNSNAP_SLOW is empty)"

read -r -a disks <<<"$DYNSNAP_DISKS"
read -r -a bytes <<<"$DYNSNAP_DISK_BYTES"
assert_eq "${#disks[@]}" "${#bytes[@]}" "number of disks found vs requested"
for i in "${!disks[@]}"; do
	[ -b "${disks[$i]}" ] || die "${disks[$i]} is not a block device"
	assert_eq "$(blockdev --getsize64 "${disks[$i]}")" "${bytes[$i]}" "size of ${disks[$i]}"
	log "${disks[$i]}: ${bytes[$i]} bytes"
done
case "$DYNSNAP_FAST" in /dev/nvme*) ;; *) die "DYNSNAP_FAST=$DYNSNAP_FAST is not an NVMe disk" ;; esac
case "$DYNSNAP_SLOW" in /dev/vd*) ;; *) die "DYNSNAP_SLOW=$DYNSNAP_SLOW is not a virtio disk" ;; esac

log "fio: 16M of 4k random writes on $DYNSNAP_SLOW, then verify (crc32c)"
fio --name=harness --filename="$DYNSNAP_SLOW" --size=16M --bs=4k --rw=randwrite \
	--ioengine=psync --direct=1 --verify=crc32c --do_verify=1 --randrepeat=1 \
	--random_generator=tausworthe64 --output="$DYNSNAP_RESULTS/fio.txt"
grep -q 'err= 0' "$DYNSNAP_RESULTS/fio.txt" || die "fio reported errors: $(cat "$DYNSNAP_RESULTS/fio.txt")"

name=vmtest-harness-linear
sectors=$(dev_sectors "$DYNSNAP_FAST")
log "dm-linear over $DYNSNAP_FAST ($sectors sectors)"
wipe_dev "$DYNSNAP_FAST" 4
dmsetup create "$name" --table "0 $sectors linear $DYNSNAP_FAST 0"
dmsetup mknodes "$name"
dev=/dev/mapper/$name
[ -b "$dev" ] || die "$dev was not created"
assert_eq "$(dev_sectors "$dev")" "$sectors" "size of $dev"
expect_fail "creating a second device with the same name" \
	dmsetup create "$name" --table "0 $sectors linear $DYNSNAP_FAST 0"

mkfs.ext4 -q -F "$dev"
mnt=/mnt/harness
mkdir -p "$mnt"
mount "$dev" "$mnt"
head -c 1M /dev/urandom >"$mnt/data"
sum=$(sha256sum <"$mnt/data")
umount "$mnt"
mount -o ro "$dev" "$mnt"
assert_eq "$(sha256sum <"$mnt/data")" "$sum" "file content after remount"
umount "$mnt"
e2fsck -fn "$dev"
retry 5 dmsetup remove "$name"
[ ! -e "$dev" ] || die "$dev still exists after dmsetup remove"
log "ok"

#!/bin/bash
# A real filesystem on the target: mkfs.ext4, mount, write and checksum a
# file tree, unmount, e2fsck -fn clean, then remove and re-create the table
# and find every file intact.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"

dsn_setup
len=$(dsn_len 128)
table="0 $len dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST $DYNSNAP_SLOW 128"
dsn_create dsn "$table"
dev=/dev/mapper/dsn
mnt=/mnt/dsn
mkdir -p "$mnt"

mkfs.ext4 -q -F "$dev"
mount "$dev" "$mnt"
log "copy a file tree onto the volume"
mkdir "$mnt/tree"
cp -a /usr/include/linux /usr/share/perl5 "$mnt/tree/"
dd if=/dev/urandom of="$mnt/random.bin" bs=1M count=24 status=none
(cd "$mnt" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >/tmp/sums
log "$(wc -l </tmp/sums) files written"
umount "$mnt"
e2fsck -fn "$dev" || die "e2fsck found problems after the first mount"

log "remove and re-create the table, check every file"
dsn_remove dsn
dsn_create dsn "$table"
e2fsck -fn "$dev" || die "e2fsck found problems after re-create"
mount -o ro "$dev" "$mnt"
(cd "$mnt" && sha256sum --quiet -c /tmp/sums) || die "file checksums differ"
umount "$mnt"
dsn_remove dsn
log "pass"

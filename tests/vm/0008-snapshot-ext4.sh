#!/bin/bash
# Snapshots of a live ext4 filesystem: a real file workload (source trees
# copied in, then files modified, renamed, truncated, deleted and added),
# each snapshot taken under fsfreeze with the checksum of every file and
# the shape of the tree recorded. Every view mounts read-only, passes
# e2fsck -fn, and holds exactly the files recorded at its snapshot; also
# after the middle snapshot is deleted. The views are read while the live
# filesystem stays mounted and a writer keeps changing it: a view reads
# the origin and the deltas itself, not through the volume.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"

dsn_setup
LEN=262144		# 128 MiB: 32 regions of 4 MiB
dsn_create dsn "0 $LEN dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST $DYNSNAP_SLOW 128"
dev=/dev/mapper/dsn
mnt=/mnt/dsn
vmnt=/mnt/dsn_view
mkdir -p "$mnt" "$vmnt"
trap 'fsfreeze -u "$mnt" 2>/dev/null || true' EXIT

# The filesystem's metadata at the start changes in small pieces: bit
# level there, whole blocks in the middle, sub-blocks elsewhere.
dsn_set_granularity dsn bit 0 2
dsn_set_granularity dsn block 16 8

# record N: checksums of every file and the shape of the tree.
record() {
	(cd "$mnt" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) >"/tmp/sums.$1"
	(cd "$mnt" && find . -printf '%y %m %s %p -> %l\n' | sort) >"/tmp/tree.$1"
	log "state $1: $(wc -l <"/tmp/sums.$1") files, $(wc -l <"/tmp/tree.$1") entries"
}

# snap N: record, then freeze, snapshot, thaw; sets SNAP[N].
declare -A SNAP=()
snap() {
	local id
	record "$1"
	fsfreeze -f "$mnt"
	id=$(dsn_snap_create dsn "fs.$1") || {
		fsfreeze -u "$mnt"
		die "snap_create failed under fsfreeze"
	}
	fsfreeze -u "$mnt"
	SNAP[$1]=$id
	log "snapshot fs.$1: id $id"
}

# check_view N: the view of SNAP[N] is a clean filesystem holding exactly
# what was recorded.
check_view() {
	local n=$1
	dsn_view_create dsn_view dsn "${SNAP[$n]}"
	e2fsck -fn /dev/mapper/dsn_view >/tmp/fsck.out 2>&1 || {
		cat /tmp/fsck.out
		die "e2fsck found problems in the view of snapshot $n"
	}
	mount -o ro,noload /dev/mapper/dsn_view "$vmnt"
	(cd "$vmnt" && sha256sum --quiet -c "/tmp/sums.$n") || die "files of the view of snapshot $n differ"
	(cd "$vmnt" && find . -printf '%y %m %s %p -> %l\n' | sort) >/tmp/tree.view
	diff -u "/tmp/tree.$n" /tmp/tree.view || die "the tree of the view of snapshot $n differs"
	umount "$vmnt"
	dsn_remove dsn_view
	log "view of snapshot $n: clean, $(wc -l <"/tmp/sums.$n") files as recorded"
}

src=/usr/src/googletest
[ -d "$src" ] || src=/usr/share/perl5
mkfs.ext4 -q -F "$dev"
mount "$dev" "$mnt"

log "epoch 1: source trees, a large file, links, an empty directory"
mkdir "$mnt/tree"
cp -a "$src" "$mnt/tree/src"
cp -a /usr/include/linux "$mnt/tree/linux"
dd if=/dev/urandom of="$mnt/big.bin" bs=1M count=8 status=none
ln -s tree/linux/fs.h "$mnt/link-to-fs.h"
ln "$mnt/big.bin" "$mnt/big.hardlink"
mkdir "$mnt/empty"
snap 1

log "epoch 2: edit, rename, delete, overwrite in place, add"
find "$mnt/tree/src" -type f -name '*.h' -exec sed -i 's/the/THE/g' {} +
mv "$mnt/tree/src" "$mnt/tree/src-renamed"
rm -rf "$mnt/tree/linux/netfilter" "$mnt/tree/linux/usb"
dd if=/dev/urandom of="$mnt/big.bin" bs=64K seek=17 count=9 conv=notrunc status=none
printf 'one small change' | dd of="$mnt/big.bin" bs=1 seek=3000001 conv=notrunc status=none
cp -a /usr/share/perl5 "$mnt/tree/perl5"
rmdir "$mnt/empty"
mkdir -p "$mnt/new/deep/er"
for i in $(seq 1 200); do
	printf 'file %s\n' "$i" >"$mnt/new/deep/er/f$i"
done
snap 2

log "epoch 3: truncate, append, delete a tree, many small files"
truncate -s 100000 "$mnt/big.bin"
while IFS= read -r -d '' f; do
	printf 'appended\n' >>"$f"
done < <(find "$mnt/tree/linux" -type f -name '*.h' -print0)
rm -rf "$mnt/tree/perl5"
mkdir "$mnt/small"
for i in $(seq 1 400); do
	printf '%s\n' "$i" >"$mnt/small/s$i"
done
rm -f "$mnt/new/deep/er/f1"*
snap 3

log "after the last snapshot: the live filesystem moves on"
rm -rf "$mnt/tree" "$mnt/small"
dd if=/dev/urandom of="$mnt/after.bin" bs=1M count=6 status=none
record live

log "views while the live filesystem stays mounted and keeps changing"
mkdir "$mnt/busy"
(
	i=0
	while [ ! -e /tmp/stop-writer ]; do
		dd if=/dev/urandom of="$mnt/busy/f$((i % 16))" bs=64K count=1 \
			conv=fsync status=none || exit 1
		i=$((i + 1))
	done
	echo "$i" >/tmp/writer.count
) &
writer=$!
assert_eq "$(dsn_snap_count dsn)" 3 "snapshots"
for n in 1 2 3; do
	check_view "$n"
done
touch /tmp/stop-writer
wait "$writer" || die "the writer on the live filesystem failed"
log "the live filesystem took $(cat /tmp/writer.count) file rewrites while the views were read"
umount "$mnt"
e2fsck -fn "$dev" || die "e2fsck found problems in the live filesystem"

log "the live filesystem is intact too"
mount -o ro "$dev" "$mnt"
(cd "$mnt" && sha256sum --quiet -c /tmp/sums.live) || die "live files differ"
umount "$mnt"

log "delete the middle snapshot: the others still hold their files"
dsn_snap_delete dsn "${SNAP[2]}"
assert_eq "$(dsn_snap_count dsn)" 2 "snapshots after deleting one"
check_view 1
check_view 3
dsn_remove dsn
log "pass"

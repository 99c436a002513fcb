#!/bin/bash
# Reads, writes, flushes, FUA, discards and write-zeroes pass through the
# target to the origin, verified by fio and compared with the origin itself.
# vm-tier: every-kernel
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"

dsn_setup
len=$(dsn_len 128)
dsn_create dsn "0 $len dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST $DYNSNAP_SLOW 128"
dev=/dev/mapper/dsn

fio_job() {
	fio --output-format=terse --terse-version=3 --minimal \
		--filename="$dev" --direct=1 --ioengine=libaio \
		--verify=crc32c --verify_fatal=1 --do_verify=1 "$@" >/dev/null ||
		die "fio failed: $*"
}

log "random writes of mixed sizes, fsync every 16, read back and verify"
fio_job --name=mixed --rw=randwrite --bsrange=512-256k --blockalign=512 \
	--size=48M --offset=8M --iodepth=8 --fsync=16 --randseed=42

log "sequential O_SYNC (FUA) writes, verified"
fio_job --name=fua --rw=write --bs=64k --size=16M --offset=64M --sync=1 --iodepth=1

log "verify-only pass over the first job's data after a flush"
blockdev --flushbufs "$dev"
fio_job --name=mixed --rw=randwrite --bsrange=512-256k --blockalign=512 \
	--size=48M --offset=8M --iodepth=8 --randseed=42 --verify_only

log "write-zeroes reads back as zeroes"
dd if=/dev/urandom of="$dev" bs=1M count=4 seek=100 oflag=direct conv=fsync status=none
blkdiscard -z -o $((100 << 20)) -l $((4 << 20)) "$dev"
cmp -n $((4 << 20)) <(dd if="$dev" bs=1M skip=100 count=4 iflag=direct status=none) /dev/zero ||
	die "write-zeroes range is not zero"

log "discard is accepted when the origin supports it"
if [ "$(lsblk -dno DISC-MAX "$dev" | tr -d ' ')" != "0B" ]; then
	blkdiscard -o $((120 << 20)) -l $((1 << 20)) "$dev" || die "discard failed"
else
	log "origin does not advertise discard; skipped"
fi

log "the origin holds exactly what was written through the target"
sync
cmp <(dd if="$dev" bs=1M count=128 iflag=direct status=none) \
	<(dd if="$DYNSNAP_ORIGIN" bs=1M count=128 iflag=direct status=none) ||
	die "origin differs from the target's view"

log "a write lands at the same offset on the origin"
printf 'dynsnap-passthrough-%s' "$RANDOM" >/tmp/marker
dd if=/tmp/marker of="$dev" bs=512 seek=300001 conv=sync,fsync oflag=direct status=none
dsn_remove dsn
cmp -n "$(stat -c %s /tmp/marker)" /tmp/marker \
	<(dd if="$DYNSNAP_ORIGIN" bs=512 skip=300001 count=1 iflag=direct status=none) ||
	die "marker not found on the origin at the same offset"
log "pass"

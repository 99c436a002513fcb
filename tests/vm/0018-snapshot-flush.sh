#!/bin/bash
# A snapshot holds the writes acknowledged before it, also those still in
# the origin's volatile write cache: snap_create flushes the origin. The
# origin here is an NBD device served by nbdkit with a writeback cache, so
# killing nbdkit loses exactly the writes no flush has reached (a power cut
# of that disk). Two blocks are written without a flush, a snapshot is
# taken, one of them is overwritten (its old bytes go to a delta), then the
# power goes; after reactivation the snapshot must read both blocks as they
# were written, not a mix of lost and kept ones, and the origin must hold
# every write completed before the snapshot's flush.
# vm-tier: every-kernel
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"
. "$(dirname "$0")/volatile.sh"

command -v nbdkit >/dev/null || skip "nbdkit is not installed"
command -v nbd-client >/dev/null || skip "nbd-client is not installed"
dsn_require_oracle
dsn_setup
vc_load_nbd 2

LEN=131072	# 64 MiB volume
sock=/tmp/nbd.sock
nbd=/dev/nbd0
dev=/dev/mapper/dsn

# disk_on: the origin's disk, behind a writeback cache that a kill loses.
disk_on() {
	rm -f $sock
	nbdkit -U $sock --filter=cache file "$DYNSNAP_ORIGIN" cache=writeback \
		--pidfile /tmp/nbdkit.pid || die "nbdkit did not start"
	nbd-client -u $sock $nbd -b 4096 >/dev/null || die "nbd-client failed"
	[ "$(dev_sectors $nbd)" -ge $LEN ] || die "$nbd is smaller than the volume"
}

# power_cut: the origin's disk loses its cache; the volume goes with it.
power_cut() {
	kill -9 "$(cat /tmp/nbdkit.pid)"
	nbd-client -d $nbd >/dev/null 2>&1 || true
	dmsetup remove --force dsn >/dev/null 2>&1 || dmsetup remove --force dsn
	sleep 1
}

table="0 $LEN dynsnap $nbd $DYNSNAP_FAST $DYNSNAP_SLOW 128 2 granularity sub"

disk_on
dd if=/dev/zero of=$nbd bs=1M count=64 oflag=direct conv=fsync status=none
dsn_create dsn "$table"

log "write two blocks without a flush, then take a snapshot"
head -c 65536 /dev/urandom >/tmp/a
head -c 65536 /dev/urandom >/tmp/b
dd if=/tmp/a of=$dev bs=64k seek=10 oflag=direct status=none
dd if=/tmp/b of=$dev bs=64k seek=20 oflag=direct status=none
s1=$(dsn_snap_create dsn s1)
log "overwrite one of them: its old bytes go to a delta"
head -c 65536 /dev/urandom >/tmp/c
dd if=/tmp/c of=$dev bs=64k seek=20 oflag=direct status=none

log "power cut of the origin's disk"
power_cut
disk_on
dsn_create dsn "$table"
assert_eq "$(dsn_snap_ids dsn)" "$s1" "snapshots after the power cut"
dsn_view_create dsn_v dsn "$s1"
cmp <(dd if=/dev/mapper/dsn_v bs=64k skip=10 count=1 iflag=direct status=none) /tmp/a ||
	die "the snapshot lost a write acknowledged before it (block 10)"
cmp <(dd if=/dev/mapper/dsn_v bs=64k skip=20 count=1 iflag=direct status=none) /tmp/b ||
	die "the snapshot lost a write acknowledged before it (block 20)"
dsn_remove dsn_v
cmp <(dd if=$dev bs=64k skip=10 count=1 iflag=direct status=none) /tmp/a ||
	die "the origin lost a write completed before a flush (block 10)"
dsn_remove dsn
nbd-client -d $nbd >/dev/null
kill "$(cat /tmp/nbdkit.pid)" 2>/dev/null || true
modprobe -r nbd 2>/dev/null || true
log "the snapshot reads what the volume held when it was taken"

#!/bin/bash
# Every malformed or dangerous table line is refused with its own message in
# the kernel log, leaves no device behind, keeps the kernel running, and
# never overwrites data the target did not write.
# vm-tier: every-kernel
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"

dsn_setup
O=$DYNSNAP_ORIGIN F=$DYNSNAP_FAST S=$DYNSNAP_SLOW
len=$(dsn_len 128)

# Argument errors, on zeroed tiers so nothing would be formatted anyway.
expect_table_error "missing arguments" "usage: <origin> <fast> <slow|-> <block_sectors>" \
	"0 $len dynsnap $O $F $S"
expect_table_error "no arguments" "usage:" "0 $len dynsnap"
expect_table_error "origin does not exist" "cannot open origin device" \
	"0 $len dynsnap /dev/does-not-exist $F $S 128"
expect_table_error "fast device does not exist" "cannot open fast device" \
	"0 $len dynsnap $O /dev/does-not-exist $S 128"
expect_table_error "slow device does not exist" "cannot open slow device" \
	"0 $len dynsnap $O $F /dev/does-not-exist 128"
expect_table_error "block size not a number" "invalid block size" \
	"0 $len dynsnap $O $F $S 64k"
expect_table_error "block size not a power of two" "block size must be a power of two" \
	"0 $len dynsnap $O $F $S 96"
expect_table_error "block size too small" "block size out of range" \
	"0 $len dynsnap $O $F $S 4"
expect_table_error "block size too large" "block size out of range" \
	"0 $len dynsnap $O $F $S 4096"
expect_table_error "unknown feature" "unknown feature argument" \
	"0 $len dynsnap $O $F $S 128 2 no_such_feature 1"
expect_table_error "feature count larger than the arguments" "invalid number of feature arguments" \
	"0 $len dynsnap $O $F $S 128 3 sub_block_sectors 8"
expect_table_error "feature count not a number" "invalid number of feature arguments" \
	"0 $len dynsnap $O $F $S 128 x sub_block_sectors 8"
expect_table_error "unknown granularity" "granularity must be block, sub or bit" \
	"0 $len dynsnap $O $F $S 128 2 granularity bytes"
expect_table_error "unknown space policy" "on_full must be error or drop_oldest" \
	"0 $len dynsnap $O $F $S 128 2 on_full ignore"
expect_table_error "feature without its value" "feature arguments come in name/value pairs" \
	"0 $len dynsnap $O $F $S 128 1 sub_block_sectors"
expect_table_error "arguments after the feature group" "too many arguments after the feature group" \
	"0 $len dynsnap $O $F $S 128 2 sub_block_sectors 8 extra"
expect_table_error "feature value not a number" "sub_block_sectors must be a number from 1 to 2048" \
	"0 $len dynsnap $O $F $S 128 2 sub_block_sectors eight"
expect_table_error "sub-block larger than the block" "sub-block size must not exceed the block size" \
	"0 $len dynsnap $O $F $S 128 2 sub_block_sectors 256"
expect_table_error "sub-block not a power of two" "sub-block size must be a power of two" \
	"0 $len dynsnap $O $F $S 128 2 sub_block_sectors 12"
expect_table_error "too many sub-blocks per block" "sub-block size too small" \
	"0 $len dynsnap $O $F $S 1024 2 sub_block_sectors 1"
expect_table_error "region smaller than a block" "region size out of range" \
	"0 $len dynsnap $O $F $S 128 2 region_sectors 64"
expect_table_error "length not a multiple of the block size" \
	"volume length must be a multiple of the block size" \
	"0 $((len - 8)) dynsnap $O $F $S 128"
expect_table_error "target longer than the origin" "origin device is smaller than the target length" \
	"0 $((len + 1024)) dynsnap $O $F $S 128"
expect_table_error "origin used as fast device" "origin, fast and slow devices must be distinct" \
	"0 $len dynsnap $O $O $S 128"
expect_table_error "fast used as slow device" "origin, fast and slow devices must be distinct" \
	"0 $len dynsnap $O $F $F 128"

log "tier devices too small"
# 4 MiB cannot hold superblock and metadata; 1 MiB cannot hold a slow tier.
dmsetup create dsn_tiny --table "0 8192 linear $S 0"
dmsetup create dsn_tiny_slow --table "0 2048 linear $S 16384"
dmsetup mknodes
wipe_dev /dev/mapper/dsn_tiny
wipe_dev /dev/mapper/dsn_tiny_slow
expect_table_error "fast device too small" "fast device too small" \
	"0 $len dynsnap $O /dev/mapper/dsn_tiny - 128"
expect_table_error "slow device too small" "slow device too small" \
	"0 $len dynsnap $O $F /dev/mapper/dsn_tiny_slow 128"
dsn_remove dsn_tiny
dsn_remove dsn_tiny_slow

log "a read-only table cannot format"
mark=$(dsn_kmsg_mark)
if dmsetup create dsn_bad --readonly --table "0 $len dynsnap $O $F - 128" 2>/dev/null; then
	dmsetup remove dsn_bad
	die "read-only table formatted a store"
fi
dsn_kmsg_since "$mark" | grep -qF "fast device holds no store and the table is read-only" ||
	die "no read-only message"
assert_eq "$(dsn_sb_bytes "$F" | tr -d 0)" "" "fast superblock still zero"

log "a slow device holding other data is never overwritten"
printf 'precious-data' | dd of="$S" bs=4096 conv=sync,fsync oflag=direct status=none
before=$(dsn_sb_bytes "$S")
expect_table_error "slow device not zeroed" "slow device is not zeroed: refusing to overwrite it" \
	"0 $len dynsnap $O $F $S 128"
assert_eq "$(dsn_sb_bytes "$S")" "$before" "slow device contents"
assert_eq "$(dsn_sb_bytes "$F" | tr -d 0)" "" "fast superblock still zero"
wipe_dev "$S"

log "a store made for one origin refuses another"
dsn_create dsn "0 $len dynsnap $O $F $S 128"
dsn_remove dsn
sb=$(dsn_sb_bytes "$F")
expect_table_error "store of another volume length" "store belongs to a volume of another length" \
	"0 $((len - 1024)) dynsnap $O $F $S 128"
expect_table_error "store of another block size" \
	"store was formatted with another block, sub-block or region size" \
	"0 $len dynsnap $O $F $S 64"
expect_table_error "store of another sub-block size" \
	"store was formatted with another block, sub-block or region size" \
	"0 $len dynsnap $O $F $S 128 2 sub_block_sectors 16"
expect_table_error "slow tier missing" "store was formatted with a slow tier but none is given" \
	"0 $len dynsnap $O $F - 128"
assert_eq "$(dsn_sb_bytes "$F")" "$sb" "fast superblock untouched by refused tables"

log "a slow device from another store is refused"
dmsetup create dsn_other_fast --table "0 65536 linear $O $((len - 65536))"
dmsetup mknodes dsn_other_fast
wipe_dev /dev/mapper/dsn_other_fast
dd if=/dev/zero of="$S" bs=1M count=1 oflag=direct conv=fsync status=none
half=$((len / 256 * 128))
dsn_create dsn2 "0 $half dynsnap $O /dev/mapper/dsn_other_fast $S 128"
dsn_remove dsn2
expect_table_error "fast and slow from different stores" \
	"fast and slow devices belong to different stores" \
	"0 $len dynsnap $O $F $S 128"
dsn_remove dsn_other_fast

log "one store, one dm device"
dsn_wipe_tiers
dsn_create dsn "0 $len dynsnap $O $F $S 128"
dmsetup create dsn_twin --table "0 65536 linear $O $((len - 65536))"
dmsetup mknodes dsn_twin
expect_table_error "a second dm device on the same fast device" \
	"fast device holds the store of another dynsnap device" \
	"0 65536 dynsnap /dev/mapper/dsn_twin $F $S 128"
dsn_remove dsn_twin
dsn_remove dsn

log "a zeroed slow tier is never adopted by a store in use"
wipe_dev "$S"
expect_table_error "slow superblock lost" "slow device holds no superblock of this store" \
	"0 $len dynsnap $O $F $S 128"
assert_eq "$(dsn_sb_bytes "$S" | tr -d 0)" "" "slow device left as it was"

log "damaged superblocks are refused, not reformatted"
dsn_wipe_tiers
dsn_create dsn "0 $len dynsnap $O $F - 128"
dsn_remove dsn
good=$(dsn_sb_bytes "$F")
# Flip one byte of the volume length (offset 48).
printf '\xff' | dd of="$F" bs=1 seek=48 conv=notrunc,fsync status=none
expect_table_error "superblock checksum" "superblock checksum mismatch" \
	"0 $len dynsnap $O $F - 128"
[ "$(dsn_sb_bytes "$F")" != "$good" ] || die "damaged superblock was rewritten"
printf 'XXXXXXXX' | dd of="$F" bs=1 seek=16 conv=notrunc,fsync status=none
expect_table_error "superblock magic" "superblock magic mismatch: not a dynsnap store" \
	"0 $len dynsnap $O $F - 128"

log "after all that the target still works"
dsn_wipe_tiers
dsn_create dsn "0 $len dynsnap $O $F $S 128"
dd if=/dev/urandom of=/dev/mapper/dsn bs=1M count=1 oflag=direct status=none
dsn_remove dsn

# The view target: every bad table is refused with its own message.
expect_view_error() {
	local desc=$1 msg=$2 table=$3 mark
	mark=$(dsn_kmsg_mark)
	if dmsetup create dsn_bad --table "$table" 2>/dev/null; then
		dmsetup remove dsn_bad || true
		die "$desc: view table was accepted: $table"
	fi
	dsn_kmsg_since "$mark" | grep -qF "dynsnap-view: $msg" ||
		die "$desc: kernel did not log 'dynsnap-view: $msg'"
	log "ok - $desc: $msg"
}
expect_view_error "view without a snapshot id" "usage: <dynsnap_dev> <snapshot_id>" \
	"0 $len dynsnap-view $O"
expect_view_error "view with a non-numeric id" "invalid snapshot id: expected a number" \
	"0 $len dynsnap-view $O one"
expect_view_error "view of a device that is not dynsnap" "device is not an active dynsnap device" \
	"0 $len dynsnap-view $O 1"
log "pass"

#!/bin/bash
# The life of a dynsnap table: load the module, format a new store on
# zeroed tiers, print the table and status back, refuse unknown messages,
# commit on suspend, reload on the same devices without reformatting,
# remove, and unload the module.
# vm-tier: every-kernel
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"

dsn_setup

len=$(dsn_len 128)
origin=$(dsn_devt "$DYNSNAP_ORIGIN")
fast=$(dsn_devt "$DYNSNAP_FAST")
slow=$(dsn_devt "$DYNSNAP_SLOW")

log "format a new store"
mark=$(dsn_kmsg_mark)
dsn_create dsn "0 $len dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST $DYNSNAP_SLOW 128"
dsn_kmsg_since "$mark" | grep -q "dynsnap: .*: formatted new store" ||
	die "no 'formatted new store' line in the kernel log"

log "table prints back"
assert_eq "$(dmsetup table dsn)" "0 $len dynsnap $origin $fast $slow 128" "table"

log "status: $(dsn_status dsn)"
assert_eq "$(dsn_status_field dsn 1)" "write" "mode"
assert_eq "$(dsn_status_field dsn 2)" "0" "snapshots"
fast_total=$(dsn_status_field dsn 3 | cut -d/ -f2)
slow_total=$(dsn_status_field dsn 4 | cut -d/ -f2)
[ "$fast_total" -gt 0 ] && [ "$fast_total" -lt "$(dev_sectors "$DYNSNAP_FAST")" ] ||
	die "fast delta area $fast_total out of range"
[ "$slow_total" -gt 0 ] && [ "$slow_total" -lt "$(dev_sectors "$DYNSNAP_SLOW")" ] ||
	die "slow delta area $slow_total out of range"
assert_eq "$(dsn_status_field dsn 6)" "0" "checksum errors"
gen1=$(dsn_status_field dsn 7)

log "superblocks carry the store's identity on both tiers"
fast_sb=$(dsn_sb_bytes "$DYNSNAP_FAST")
slow_sb=$(dsn_sb_bytes "$DYNSNAP_SLOW")
magic=7370616e736e7964	# "dynsnaps", little-endian
assert_eq "${fast_sb:32:16}" "$magic" "fast superblock magic"
assert_eq "${slow_sb:32:16}" "$magic" "slow superblock magic"
assert_eq "${fast_sb:64:32}" "${slow_sb:64:32}" "store UUID on both tiers"

log "unknown and empty messages are refused"
expect_fail "unknown message" dmsetup message dsn 0 no_such_message
expect_fail "unknown message with arguments" dmsetup message dsn 0 frobnicate 1 2 3
dmsetup status dsn >/dev/null || die "device gone after bad messages"

log "suspend commits metadata"
dmsetup suspend dsn
dmsetup resume dsn
gen2=$(dsn_status_field dsn 7)
[ "$gen2" -gt "$gen1" ] || die "generation did not grow on suspend ($gen1 -> $gen2)"

log "live reload shares the store: the old table's last commit is seen"
dmsetup reload dsn --table "0 $len dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST $DYNSNAP_SLOW 128"
dmsetup resume dsn
assert_eq "$(dsn_sb_bytes "$DYNSNAP_FAST" | cut -c65-96)" "${fast_sb:64:32}" "UUID after reload"
assert_eq "$(dsn_status_field dsn 7)" "$((gen2 + 1))" "generation after reload"
gen2=$(dsn_status_field dsn 7)

log "a reload that changes the geometry of a live store is refused"
expect_fail "reload with another sub-block size" dmsetup reload dsn --table \
	"0 $len dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST $DYNSNAP_SLOW 128 2 sub_block_sectors 16"
dmsetup clear dsn

log "remove and create again: no reformat"
dsn_remove dsn
mark=$(dsn_kmsg_mark)
dsn_create dsn "0 $len dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST $DYNSNAP_SLOW 128"
! dsn_kmsg_since "$mark" | grep -q "formatted new store" || die "store was reformatted"
assert_eq "$(dsn_sb_bytes "$DYNSNAP_FAST" | cut -c65-96)" "${fast_sb:64:32}" "UUID after re-create"
gen3=$(dsn_status_field dsn 7)
[ "$gen3" -ge "$gen2" ] || die "generation went back ($gen2 -> $gen3)"

log "features print back"
dsn_remove dsn
dsn_wipe_tiers
dsn_create dsn "0 $len dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST - 128 4 sub_block_sectors 16 region_sectors 16384"
assert_eq "$(dmsetup table dsn)" \
	"0 $len dynsnap $origin $fast - 128 4 sub_block_sectors 16 region_sectors 16384" "table with features"
assert_eq "$(dsn_status_field dsn 4)" "0/0" "no slow tier"

log "read-only table on an existing store"
dsn_remove dsn
dmsetup create dsn --readonly --table "0 $len dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST - 128 4 sub_block_sectors 16 region_sectors 16384"
assert_eq "$(dsn_status_field dsn 1)" "read-only" "mode of a read-only table"
dsn_remove dsn

log "module unloads after remove"
dynsnap_unload
[ ! -d /sys/module/dm_dynsnap ] || die "module still loaded"
dynsnap_load
log "pass"

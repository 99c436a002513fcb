#!/bin/bash
# Golden vectors across the kernel/userspace boundary: superblocks written
# by dm-dynsnap.ko are decoded by the userspace tool (same shared C core),
# field by field; damage is named the same way by both.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"

dump=$DYNSNAP_BUILD/userspace/dynsnap-dump
[ -x "$dump" ] || die "$dump not built (cmake --build build)"
dsn_setup
len=$(dsn_len 128)
table="0 $len dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST $DYNSNAP_SLOW 128 2 sub_block_sectors 16"

log "a zeroed device holds no store (exit 3)"
rc=0; "$dump" "$DYNSNAP_FAST" || rc=$?
assert_eq "$rc" 3 "exit status for a zeroed device"

log "kernel formats, userspace decodes"
mark=$(dsn_kmsg_mark)
dsn_create dsn "$table"
uuid=$(dsn_kmsg_since "$mark" | sed -n 's/.*formatted new store \([0-9a-f-]*\).*/\1/p')
[ -n "$uuid" ] || die "no store UUID in the kernel log"
dsn_remove dsn

"$dump" "$DYNSNAP_FAST" "$DYNSNAP_SLOW" | tee /tmp/dump.txt || die "dump of a fresh store failed"
field() { awk -v dev="$1:" -v key="$2" '$1 == dev {on = 1; next} /^[^ ]/ {on = 0} on && $1 == key {print $2}' /tmp/dump.txt; }
for dev in "$DYNSNAP_FAST" "$DYNSNAP_SLOW"; do
	assert_eq "$(field "$dev" uuid)" "$uuid" "$dev uuid"
	assert_eq "$(field "$dev" volume_sectors)" "$len" "$dev volume_sectors"
	assert_eq "$(field "$dev" block_sectors)" 128 "$dev block_sectors"
	assert_eq "$(field "$dev" sub_block_sectors)" 16 "$dev sub_block_sectors"
	assert_eq "$(field "$dev" region_sectors)" 8192 "$dev region_sectors"
	assert_eq "$(field "$dev" version)" 2 "$dev version"
	assert_eq "$(field "$dev" fast_dev_sectors)" "$(dev_sectors "$DYNSNAP_FAST")" "$dev fast size"
	assert_eq "$(field "$dev" slow_dev_sectors)" "$(dev_sectors "$DYNSNAP_SLOW")" "$dev slow size"
done
assert_eq "$(field "$DYNSNAP_FAST" tier)" fast "fast tier"
assert_eq "$(field "$DYNSNAP_SLOW" tier)" slow "slow tier"
"$dump" --json "$DYNSNAP_FAST" | grep -q '"generation": [2-9]' ||
	die "remove did not commit a newer generation"

log "one damaged byte: the tool and the kernel both refuse it"
printf '\x01' | dd of="$DYNSNAP_SLOW" bs=1 seek=2000 conv=notrunc,fsync status=none
rc=0; "$dump" "$DYNSNAP_FAST" "$DYNSNAP_SLOW" >/tmp/dump.txt 2>&1 || rc=$?
assert_eq "$rc" 5 "exit status for a damaged slow superblock"
grep -q "superblock checksum mismatch" /tmp/dump.txt || die "tool did not name the damage"
expect_table_error "damaged slow superblock" "superblock checksum mismatch" "$table"
log "pass"

#!/bin/bash
# Self-test of the crash tests' disks with a volatile write cache
# (tests/vm/volatile.sh), through the kernel's nbd driver: a power cut
# loses the writes no flush covered and keeps the flushed and O_DSYNC ones, a
# random cut keeps each write whole or not at all, and a clean stop keeps
# everything.
# vm-tier: every-kernel
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/volatile.sh"

[ -b "${DYNSNAP_ORIGIN:-}" ] || skip "no origin disk attached"
vc_require
trap vc_down_all EXIT
disk=$DYNSNAP_ORIGIN
wipe_dev "$disk" 4

# fill DEV SECTOR COUNT BYTE [DD_FLAGS]: COUNT sectors of BYTE at SECTOR.
fill() {
	set -- "$1" $(($2 * 512)) "$3" "$4" "${5:-}"
	head -c $(($3 * 512)) /dev/zero | tr '\0' "$(printf '\\%03o' "$4")" |
		dd of="$1" bs=$(($3 * 512)) seek="$2" iflag=fullblock oflag=seek_bytes,direct${5:+,$5} status=none ||
		die "cannot write $1 at sector $2"
}

# flush DEV: fsync(2) of a block device sends the device a flush.
flush() {
	python3 -c 'import os, sys; os.fsync(os.open(sys.argv[1], os.O_WRONLY))' "$1" ||
		die "cannot flush $1"
}

# bytes_at DEV SECTOR COUNT: the distinct bytes of those sectors, in hex.
bytes_at() {
	dd if="$1" bs=512 skip="$2" count="$3" iflag=direct status=none |
		od -An -v -tx1 | tr -s ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' '
}

log "== a cut loses unflushed writes and keeps flushed ones"
nbd=$(vc_up d0 "$disk")
fill "$nbd" 0 8 0xa1
flush "$nbd"
fill "$nbd" 8 8 0xb2
assert_eq "$(bytes_at "$nbd" 8 8)" "b2 " "unflushed write read back through the cache"
assert_eq "$(bytes_at "$disk" 8 8)" "00 " "the disk under the cache before the cut"
report=$(vc_cut d0 none 1)
log "cut: $report"
assert_eq "$(bytes_at "$disk" 0 8)" "a1 " "flushed write after the cut"
assert_eq "$(bytes_at "$disk" 8 8)" "00 " "unflushed write after the cut"
[ "$(jq .lost <<<"$report")" -ge 1 ] || die "the cut reports no write lost: $report"

log "== O_DSYNC writes (FUA, then a flush) survive a cut"
nbd=$(vc_up d0 "$disk")
fill "$nbd" 16 8 0xc3 dsync
report=$(vc_cut d0 none 2)
log "cut: $report"
assert_eq "$(bytes_at "$disk" 16 8)" "c3 " "O_DSYNC write after the cut"

log "== a random cut keeps each write whole or not at all"
nbd=$(vc_up d0 "$disk")
for ((i = 0; i < 32; i++)); do
	fill "$nbd" $((64 + i * 8)) 8 $((0x10 + i))
done
report=$(vc_cut d0 random 3)
log "cut: $report"
kept=0
for ((i = 0; i < 32; i++)); do
	got=$(bytes_at "$disk" $((64 + i * 8)) 8)
	case "$got" in
	"00 ") ;;
	"$(printf '%02x ' $((0x10 + i)))") kept=$((kept + 1)) ;;
	*) die "write $i was torn by a random cut: $got" ;;
	esac
done
assert_eq "$kept" "$(jq .kept <<<"$report")" "writes found kept against the cut's report"
[ "$kept" -gt 0 ] && [ "$kept" -lt 32 ] || die "a random cut kept $kept of 32 writes"

log "== a clean stop keeps everything"
nbd=$(vc_up d0 "$disk")
fill "$nbd" 512 8 0xd4
vc_down d0
assert_eq "$(bytes_at "$disk" 512 8)" "d4 " "write after a clean stop"
log "the volatile cache model loses exactly the unflushed writes"

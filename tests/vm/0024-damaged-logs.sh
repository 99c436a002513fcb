#!/bin/bash
# Damaged delta logs never replay silently as a shorter log. A store with
# several segments of records on both tiers is shut down cleanly; then one
# byte at a time is flipped in every field of a record header and in the
# payload, at records of every position class (the first of the log, one
# in the middle, the first of a later segment, the last), and in segment
# headers (the head's, a later one's). After each flip the volume is
# activated: it either refuses with a documented error (a header damaged
# beyond reading: "delta log is damaged"), or activates with every view
# reading its snapshot exactly or failing with EIO, never wrong data;
# `snapshotctl check` reports the damage with its location every time.
# Flipped back, the store activates and reads as before.
# vm-timeout: 1500
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"

dsn_require_oracle
dsn_setup
command -v jq >/dev/null || skip "jq is not installed"
ctl=$DYNSNAP_BUILD/userspace/snapshotctl

LEN=32768	# 16 MiB: 16 regions of 1 MiB
MiB=1048576
dev=/dev/mapper/dsn
model=/tmp/model
table="0 $LEN dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST $DYNSNAP_SLOW 128 4 granularity sub region_sectors 2048"
declare -A SNAP=()

batch() { dsn_model_write "$@"; }

snap() { dsn_model_snap "$@"; }

log "build a store: sub-block deltas on the fast tier, block deltas on the slow"
dsn_create dsn "$table"
dd if=$dev of=$model bs=1M iflag=direct status=none
# Regions 8-15 keep whole blocks, which go to the slow tier.
dsn_set_granularity dsn block 8 8
batch 1 --count 200 --max-bytes 64K
snap A
batch 2 --count 1500 --max-bytes 8K --range 0:8M
batch 3 --count 200 --max-bytes 128K --range 8M:8M
snap B
batch 4 --count 1500 --max-bytes 8K --range 0:8M
batch 5 --count 200 --max-bytes 128K --range 8M:8M
snap C
batch 6 --count 300 --max-bytes 16K
dsn_reference $model /tmp/ref.volume
dsn_remove dsn

"$ctl" dump "$DYNSNAP_FAST" "$DYNSNAP_SLOW" --records >/tmp/records.json ||
	die "snapshotctl dump --records failed on the sound store"
for t in fast slow; do
	n=$(jq "[.records[] | select(.tier == \"$t\")] | length" /tmp/records.json)
	segs=$(jq "[.records[] | select(.tier == \"$t\") | .segment] | unique | length" /tmp/records.json)
	log "$t tier: $n records in $segs segments"
	[ "$segs" -ge 2 ] || die "the $t tier's log has $segs segment(s); the test needs two or more"
done

# rec TIER WHICH: "device_offset stored_length" of a record of TIER, in
# log order (the dump lists them so):
# first, middle, last, or later-segment (the first record of the second
# segment of the chain).
rec() {
	jq -r --arg t "$1" --arg w "$2" '
		[.records[] | select(.tier == $t)] as $r
		| ($r[0].segment) as $head
		| (if $w == "first" then $r[0]
		   elif $w == "last" then $r[-1]
		   elif $w == "middle" then $r[($r | length) / 2 | floor]
		   else ([$r[] | select(.segment != $head)][0]) end)
		| "\(.device_offset) \(.stored_length)"' /tmp/records.json
}

# seg_header TIER WHICH: device offset of the header of the head segment
# of TIER's log (head) or of its last segment (tail).
seg_header() {
	jq -r --arg t "$1" --arg w "$2" '.tiers[$t].segments
		| (if $w == "head" then .[0] else .[-1] end) | .sector * 512' /tmp/records.json
}

tier_dev() {
	[ "$1" = fast ] && echo "$DYNSNAP_FAST" || echo "$DYNSNAP_SLOW"
}

refused=0 kept=0 cases=0

# views_ok DESC: every snapshot's view reads its reference or EIO, and the
# volume reads its own.
views_ok() {
	local s rc eio=0
	exec 3>&1 1>&2
	for s in A B C; do
		rc=0
		dsn_view_create dsn_view dsn "${SNAP[$s]}"
		dsn_oracle compare /dev/mapper/dsn_view "/tmp/ref.$s" >/tmp/cmp.out 2>&1 || rc=$?
		dsn_remove dsn_view
		[ "$rc" != 1 ] || { cat /tmp/cmp.out >&2; die "$1: the view of $s returned WRONG DATA"; }
		[ "$rc" = 0 ] || [ "$rc" = 3 ] || die "$1: dsn-oracle compare of the view of $s: exit $rc"
		[ "$rc" = 0 ] || eio=$((eio + 1))
	done
	dsn_compare $dev /tmp/ref.volume "$1: the volume"
	echo "$eio" >&3
}

# try DESC TIER BYTE: flip BYTE of TIER's device, activate, judge, flip back.
try() {
	local desc=$1 tdev byte=$3 mark rc=0 eio
	tdev=$(tier_dev "$2")
	cases=$((cases + 1))
	dsn_oracle flip "$tdev" "$byte" || die "flip failed"
	"$ctl" check "$DYNSNAP_FAST" "$DYNSNAP_SLOW" >/tmp/check.out 2>/tmp/check.err || rc=$?
	[ "$rc" = 5 ] || die "$desc: snapshotctl check exit $rc, want 5 (damage): $(cat /tmp/check.out)"
	grep -q "^damaged: $2 byte [0-9]*" /tmp/check.out ||
		die "$desc: check does not say where on the $2 tier: $(cat /tmp/check.out)"
	mark=$(dsn_kmsg_mark)
	if dmsetup create dsn --table "$table" 2>/dev/null; then
		dmsetup mknodes dsn
		eio=$(views_ok "$desc")
		dsn_remove dsn
		kept=$((kept + 1))
		log "$desc: activates; views of $eio snapshot(s) fail with EIO, all else exact; check: $(grep -m1 '^damaged' /tmp/check.out | cut -c1-100)"
	else
		! dmsetup info dsn >/dev/null 2>&1 || die "$desc: dsn left behind by a refused table"
		dsn_kmsg_since "$mark" | grep -q "dynsnap: .*delta log is \(damaged\|inconsistent\)" || {
			dsn_kmsg_since "$mark" | sed 's/^/  kmsg: /' >&2
			die "$desc: activation refused without a documented error"
		}
		refused=$((refused + 1))
		log "$desc: refused: $(dsn_kmsg_since "$mark" | grep -m1 -o 'delta log is [a-z]*'); check: $(grep -m1 '^damaged' /tmp/check.out | cut -c1-100)"
	fi
	dsn_oracle flip "$tdev" "$byte" || die "flip back failed"
}

# Byte offsets of the record header's fields, and one in the payload.
declare -A FIELD=([checksum]=1 [magic]=5 [version]=8 [level]=10 [codec]=11 [flags]=13
	[sequence]=17 [epoch]=26 [location]=34 [length]=41 [stored_length]=45 [nonce]=50
	[in_flight]=61)

for t in fast slow; do
	for which in middle first later-segment last; do
		read -r off stored <<<"$(rec $t $which)"
		[ -n "$off" ] && [ "$off" != null ] || die "no $which record on the $t tier"
		if [ "$which" = middle ]; then
			fields="${!FIELD[*]}"
		else
			fields="magic sequence in_flight"
		fi
		for f in $fields; do
			try "$t tier, $which record (byte $off), $f" $t $((off + FIELD[$f]))
		done
		try "$t tier, $which record (byte $off), payload" $t $((off + 64 + stored / 2))
	done
	for which in head tail; do
		h=$(seg_header $t $which)
		try "$t tier, $which segment header (byte $h), segment_seq" $t $((h + 17))
		try "$t tier, $which segment header (byte $h), first_record_seq" $t $((h + 25))
	done
done

log "every flip undone: the store is sound and reads as before"
"$ctl" check "$DYNSNAP_FAST" "$DYNSNAP_SLOW" >/tmp/check.out || die "check after the flips: $(cat /tmp/check.out)"
dsn_create dsn "$table"
eio=$(views_ok "after the flips")
assert_eq "$eio" 0 "views failing with EIO after the flips"
dsn_remove dsn
log "$cases damaged cases: $refused refused with 'delta log is damaged/inconsistent', $kept activated with damage read as EIO, 0 wrong reads"

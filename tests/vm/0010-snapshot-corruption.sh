#!/bin/bash
# A damaged delta is never used: one byte flipped in a stored delta record
# (found by scanning the tier's delta area with dsn-oracle records) makes
# reads of the views that need it fail with EIO, never return wrong data;
# the status line counts the checksum error; views and ranges that do not
# need the record read fine. On the fast tier (payload damaged while the
# volume is down, header damaged while it is live, which then refuses the
# next activation until it is restored) and on the slow tier.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"

dsn_require_oracle
dsn_setup

LEN=131072		# 64 MiB
MiB=1048576
X=$((8 * MiB))		# [X, X + 2 MiB): overwritten between snapshots A and B only
Y=$((40 * MiB))		# [Y, Y + 2 MiB): overwritten between snapshots B and C only
dev=/dev/mapper/dsn
model=/tmp/model
declare -A SNAP=()

batch() { dsn_model_write "$@"; }

snap() { dsn_model_snap "$@"; }

# pick FILE LO HI: "offset epoch location length stored" of the delta
# record with the lowest epoch whose volume range starts in [LO, HI) bytes,
# from the output of dsn-oracle records.
pick() {
	awk -v lo="$2" -v hi="$3" '
		$1 == "record" {
			delete r
			for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
			if (r["level"] !~ /^(block|sub|bit)$/ || r["valid"] != "yes") next
			s = r["location"] * 512
			if (s < lo || s >= hi) next
			if (!found || r["epoch"] + 0 < best) {
				best = r["epoch"] + 0
				line = r["offset"] " " r["epoch"] " " r["location"] " " r["length"] " " r["stored"]
				found = 1
			}
		}
		END { if (found) print line }' "$1"
}

# min_epoch FILE: the lowest epoch of any delta record.
min_epoch() {
	awk '$1 == "record" && / level=(block|sub|bit) / {
		for (i = 2; i <= NF; i++) if ($i ~ /^epoch=/) { e = substr($i, 7) + 0; if (!n++ || e < m) m = e }
	} END { if (n) print m }' "$1"
}

# view_rc NAME OUT: compare the view of snapshot NAME with its reference,
# output in OUT; prints dsn-oracle's exit code.
view_rc() {
	local rc=0
	dsn_view_create dsn_view dsn "${SNAP[$1]}"
	dsn_oracle compare /dev/mapper/dsn_view "/tmp/ref.$1" >"$2" 2>&1 || rc=$?
	dsn_remove dsn_view
	cat "$2" >&2
	echo "$rc"
}

# expect_eio NAME LO LEN: the view of snapshot NAME reads its reference
# everywhere except for EIO at chunks overlapping [LO, LO + LEN) bytes, and
# no more than 4 MiB of it.
expect_eio() {
	local name=$1 lo=$2 len=$3 rc chunks
	rc=$(view_rc "$name" /tmp/cmp.out)
	[ "$rc" != 1 ] || die "the view of snapshot $name returned WRONG DATA instead of EIO"
	assert_eq "$rc" 3 "dsn-oracle compare of the view of $name (3: EIO, all else equal)"
	awk -v lo="$lo" -v hi=$((lo + len)) '/unreadable \(EIO\): offset=/ {
		split($0, a, "offset="); split(a[2], b, " length=")
		if (b[1] + 0 < hi && b[1] + b[2] > lo) f = 1
	} END { exit !f }' /tmp/cmp.out ||
		die "the EIO of the view of $name is not where the damaged record is ($lo+$len)"
	chunks=$(sed -n 's/.* \([0-9]*\) chunks unreadable (EIO).*/\1/p' /tmp/cmp.out)
	[ "$((chunks * 4096))" -le $((4 * MiB)) ] ||
		die "one damaged record made $chunks chunks of the view of $name unreadable"
	log "view of $name: EIO at the damaged record's range only ($chunks chunks), all else equal"
}

# expect_good NAME: the view of snapshot NAME equals its reference.
expect_good() {
	local rc
	rc=$(view_rc "$1" /tmp/cmp.out)
	assert_eq "$rc" 0 "dsn-oracle compare of the view of $1"
}

# scan TIER_DEV: list its delta records in /tmp/records.txt.
scan() {
	dsn_oracle records "$1" >/tmp/records.txt || die "dsn-oracle records $1 failed"
	log "$1: $(grep -c '^record' /tmp/records.txt || true) records"
}

# target LO HI: the delta record with the lowest epoch for volume bytes
# [LO, HI) in /tmp/records.txt: sets T_OFF (its byte on the tier), T_EPOCH,
# T_LOC and T_LEN (its volume range in bytes) and T_STORED.
target() {
	local loc
	read -r T_OFF T_EPOCH loc T_LEN T_STORED <<<"$(pick /tmp/records.txt "$1" "$2")"
	[ -n "${T_OFF:-}" ] || die "no delta record for volume bytes $1..$2 on the tier"
	T_LOC=$((loc * 512))
}

# damage TIER_DEV WHERE OFF EPOCH LOC LEN STORED: flip a byte of the record
# at byte OFF of TIER_DEV, in its payload or its header (WHERE).
damage() {
	local tier=$1 where=$2 off=$3 epoch=$4 loc=$5 len=$6 stored=$7 byte
	if [ "$where" = payload ]; then
		byte=$((off + 64 + stored / 2))
	else
		byte=$((off + 24))	# in the header's epoch field
	fi
	log "damaging the $where of the record at byte $off of $tier (epoch $epoch, volume bytes $loc+$len)"
	dsn_oracle flip "$tier" "$byte" || die "flip failed"
}

log "== fast tier: sub-block records, no slow tier"
table="0 $LEN dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST - 128 2 granularity sub"
dsn_create dsn "$table"
dd if=$dev of=$model bs=1M iflag=direct status=none
batch 1 --count 60
snap A
batch 2 --count 40 --range $X:2M
snap B
batch 3 --count 40 --range $Y:2M
snap C
batch 4 --count 40
for s in A B C; do expect_good "$s"; done
dsn_remove dsn

scan "$DYNSNAP_FAST"
target $X $((X + 2 * MiB))
x_off=$T_OFF x_epoch=$T_EPOCH x_loc=$T_LOC x_len=$T_LEN x_stored=$T_STORED
target $Y $((Y + 2 * MiB))
y_off=$T_OFF y_epoch=$T_EPOCH y_loc=$T_LOC y_len=$T_LEN y_stored=$T_STORED
assert_eq "$x_epoch" "$(min_epoch /tmp/records.txt)" "epoch of the first deltas (written between A and B)"
[ "$y_epoch" -gt "$x_epoch" ] || die "deltas written after B have the epoch of those written before"
damage "$DYNSNAP_FAST" payload "$x_off" "$x_epoch" "$x_loc" "$x_len" "$x_stored"
scan "$DYNSNAP_FAST"
grep -q "^record offset=$x_off .* valid=no" /tmp/records.txt ||
	die "the damaged record is not seen as damaged by dsn-oracle records"
dsn_create dsn "$table"
errors0=$(dsn_status_field dsn 6)
expect_eio A "$x_loc" "$x_len"
errors1=$(dsn_status_field dsn 6)
[ "$errors1" -gt "$errors0" ] || die "status checksum errors did not rise ($errors0 -> $errors1)"
log "checksum errors: $errors0 -> $errors1"
dsn_view_create dsn_view dsn "${SNAP[A]}"
expect_fail "a direct read of the damaged range" dd if=/dev/mapper/dsn_view of=/dev/null \
	bs=512 skip=$((x_loc / 512)) count=$((x_len / 512)) iflag=direct status=none
dd if=/dev/mapper/dsn_view of=/dev/null bs=1M count=4 iflag=direct status=none ||
	die "a read of the first 4 MiB of the damaged view failed"
dsn_remove dsn_view
expect_eio A "$x_loc" "$x_len"
expect_good B
expect_good C
dsn_reference $model /tmp/ref.live
dsn_compare $dev /tmp/ref.live "live volume"

log "writes over the damaged range still work"
batch 5 --count 40 --range $X:2M
dsn_reference $model /tmp/ref.live
dsn_compare $dev /tmp/ref.live "live volume after writes over the damaged range"
expect_eio A "$x_loc" "$x_len"
expect_good B

log "== a header damaged while the volume is live"
damage "$DYNSNAP_FAST" header "$y_off" "$y_epoch" "$y_loc" "$y_len" "$y_stored"
rc=$(view_rc B /tmp/cmp.out)
# A cached copy may still serve the read: right data or EIO, never wrong.
case "$rc" in
0 | 3) log "view of B while live: compare exit $rc" ;;
*) die "the view of B returned wrong data or failed (dsn-oracle compare exit $rc)" ;;
esac
dsn_remove dsn
# Nothing in a header that does not verify can be trusted, and later
# records show the log went on: activation refuses rather than replay a
# prefix of the log.
mark=$(dsn_kmsg_mark)
if dmsetup create dsn --table "$table" 2>/dev/null; then
	die "a record header damaged in the middle of the log: the table was accepted"
fi
! dmsetup info dsn >/dev/null 2>&1 || die "a refused table left dsn behind"
# The segment ends at the damage: records missing before the next one, or
# (in the log's last segment) records past the damage.
dsn_kmsg_since "$mark" | grep -q "dynsnap: delta log is \(damaged\|inconsistent\)" ||
	die "a header damaged in the middle of the log was not refused with its error"
log "refused: $(dsn_kmsg_since "$mark" | grep -m1 -o 'delta log is [a-z]*')"
log "the header restored, the store activates as before"
dsn_oracle flip "$DYNSNAP_FAST" $((y_off + 24)) || die "flip back failed"
dsn_create dsn "$table"
expect_good B
expect_good C
expect_eio A "$x_loc" "$x_len"
dsn_reference $model /tmp/ref.live
dsn_compare $dev /tmp/ref.live "live volume"
dsn_remove dsn

log "== slow tier: block records"
dsn_wipe_tiers
table="0 $LEN dynsnap $DYNSNAP_ORIGIN $DYNSNAP_FAST $DYNSNAP_SLOW 128 2 granularity block"
dsn_create dsn "$table"
dd if=$dev of=$model bs=1M iflag=direct status=none
batch 11 --count 40
snap A2
batch 12 --count 40 --range $X:2M
snap B2
batch 13 --count 40 --range $Y:2M
expect_good A2
dsn_remove dsn
scan "$DYNSNAP_SLOW"
target $X $((X + 2 * MiB))
x_off=$T_OFF x_epoch=$T_EPOCH x_loc=$T_LOC x_len=$T_LEN x_stored=$T_STORED
damage "$DYNSNAP_SLOW" payload "$x_off" "$x_epoch" "$x_loc" "$x_len" "$x_stored"
dsn_create dsn "$table"
errors0=$(dsn_status_field dsn 6)
expect_eio A2 "$x_loc" "$x_len"
[ "$(dsn_status_field dsn 6)" -gt "$errors0" ] || die "status checksum errors did not rise"
# Only the payload is damaged: the header's epoch holds, and a view that
# does not need the record reads fine.
expect_good B2
dsn_reference $model /tmp/ref.live
dsn_compare $dev /tmp/ref.live "live volume"
dsn_remove dsn
log "pass"

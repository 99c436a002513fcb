#!/bin/bash
# snapshotctl against the real module: setup, create, list, show, view,
# diff, export (whole image and --since, applied to an older copy),
# rollback of an ext4 volume, map, schedule, status, check and dump of
# the tiers offline (with a flipped byte found), teardown and activate.
# Bad arguments give the documented exit statuses and change nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dynsnap.sh"

dsn_require_oracle
dsn_setup

ctl=$DYNSNAP_BUILD/userspace/snapshotctl
[ -x "$ctl" ] || die "$ctl not built (cmake --build build)"
command -v jq >/dev/null || skip "jq is not installed"
export DYNSNAP_CONFIG_DIR=/tmp/etc-dynsnap
MB=1048576

# sc ARGS: run snapshotctl, its stderr kept in /tmp/err; fails the test
# unless it succeeds.
sc() {
	"$ctl" "$@" 2>/tmp/err || die "snapshotctl $* failed: $(cat /tmp/err)"
}
# sc_rc WANT ARGS: run snapshotctl, expecting exit status WANT and, for a
# failure, one line on stderr.
sc_rc() {
	local want=$1 rc=0
	shift
	"$ctl" "$@" >/tmp/out 2>/tmp/err || rc=$?
	[ "$rc" = "$want" ] || die "snapshotctl $*: exit $rc, want $want: $(cat /tmp/err)"
	if [ "$want" != 0 ] && [ "$want" != 6 ]; then
		[ "$(wc -l </tmp/err)" = 1 ] || die "snapshotctl $*: not one line of error: $(cat /tmp/err)"
	fi
	log "snapshotctl $*: exit $rc $(head -c 200 /tmp/err)"
}
# fill OFFSET_MB LENGTH_MB BYTE: write LENGTH MiB of BYTE at OFFSET MiB.
fill() {
	head -c $(($2 * MB)) /dev/zero | tr '\0' "\\$3" |
		dd of=/dev/mapper/vol bs=1M seek="$1" oflag=direct conv=notrunc status=none ||
		die "fill $*"
}

# A 64 MiB origin, so images stay small.
dmsetup create origin --table "0 131072 linear $DYNSNAP_ORIGIN 0" || die "origin"
dmsetup mknodes origin

log "== setup"
sc_rc 2 setup vol --origin /dev/mapper/origin --fast "$DYNSNAP_FAST" --block-size 3K
sc_rc 3 setup vol --origin /dev/nonexistent --fast "$DYNSNAP_FAST"
sc_rc 2 setup vol --origin /dev/mapper/origin --fast "$DYNSNAP_FAST" --keep 1h:1m
sc setup vol --origin /dev/mapper/origin --fast "$DYNSNAP_FAST" --slow "$DYNSNAP_SLOW" \
	--block-size 64K --granularity sub --keep 1s:4s --keep 3s:12s
[ -b /dev/mapper/vol ] || dmsetup mknodes vol
[ -b /dev/mapper/vol ] || die "/dev/mapper/vol missing after setup"
assert_eq "$(dmsetup table vol | cut -d' ' -f2)" 131072 "volume length"
sc_rc 4 setup vol --origin /dev/mapper/origin --fast "$DYNSNAP_FAST"
[ -f $DYNSNAP_CONFIG_DIR/volumes/vol.json ] || die "setup did not remember the volume"
sc_rc 0 status vol --json
assert_eq "$(jq -r .mode /tmp/out)" write "mode"
assert_eq "$(jq -r .snapshots /tmp/out)" 0 "snapshots of a new volume"

log "== snapshots, views, diff and export"
fill 0 64 000
sc_rc 3 create nosuch x
sc_rc 2 create vol "bad name"
dd if=/dev/mapper/vol of=/tmp/ref1 bs=1M iflag=direct status=none
sc_rc 0 create vol img1 --json
id1=$(jq -r .id /tmp/out)
sc_rc 1 create vol img1
fill 3 1 252
fill 20 2 253
sc create vol img2
dd if=/dev/mapper/vol of=/tmp/ref2 bs=1M iflag=direct status=none
fill 40 1 254
sc_rc 0 list vol --json
assert_eq "$(jq -r '[.[].name] | join(",")' /tmp/out)" img1,img2 "snapshot names"
sc_rc 0 show vol img2 --json
assert_eq "$(jq -r .changed_since_bytes /tmp/out)" $MB "bytes changed since img2"
sc_rc 3 show vol nosuch

sc_rc 0 diff vol img1 img2 --json
assert_eq "$(jq -c '[.ranges[] | [.offset, .length]]' /tmp/out)" \
	"[[$((3 * MB)),$MB],[$((20 * MB)),$((2 * MB))]]" "diff img1 img2"
sc_rc 0 diff vol img2 live --json
assert_eq "$(jq -c '[.ranges[] | [.offset, .length]]' /tmp/out)" \
	"[[$((40 * MB)),$MB]]" "diff img2 live"
# Bytes written with their old value do not differ.
fill 50 1 000
sc_rc 0 diff vol img2 live --json
assert_eq "$(jq -r '.ranges | length' /tmp/out)" 1 "rewritten zeroes are not a difference"
sc_rc 0 diff vol img2 live --coarse --json
assert_eq "$(jq -r '.ranges | length' /tmp/out)" 2 "coarse diff shows the rewrite"

# The messages behind diff and map refuse bad arguments.
for m in "snap_diff" "snap_diff $id1" "snap_diff x -" "snap_diff 0 -" "snap_diff $id1 0" \
	"snap_diff $id1 - x" "snap_diff $id1 - 1 2" "region_map x" "region_map 1 2"; do
	# shellcheck disable=SC2086 # the words of the message
	dmsetup message vol 0 $m 2>/tmp/err && die "message '$m' was accepted"
	grep -q "Invalid argument" /tmp/err || die "message '$m': $(cat /tmp/err)"
done
dmsetup message vol 0 snap_diff 999 - 2>/tmp/err && die "snap_diff of an unknown snapshot"
grep -q "No such file" /tmp/err || die "snap_diff 999: $(cat /tmp/err)"
assert_eq "$(dmsetup message vol 0 snap_diff "$id1" - 99999999999)" end "snap_diff past the end"
assert_eq "$(dmsetup message vol 0 region_map 4000000000)" end "region_map past the end"

# Thousands of ranges: the kernel answers snap_diff in pages.
sc create vol sparse
fio --name=sparse --filename=/dev/mapper/vol --rw=write:4k --bs=4k --offset=8M \
	--size=24M --direct=1 --buffer_pattern=0xaa --output=/dev/null || die "fio"
sc_rc 0 diff vol sparse live --json
assert_eq "$(jq -r '.ranges | length' /tmp/out)" 3072 "ranges of a sparse diff"
assert_eq "$(jq -r '.ranges[3071] | "\(.offset) \(.length)"' /tmp/out)" \
	"$((8 * MB + 3071 * 8192)) 4096" "last range of a sparse diff"
sc delete vol sparse

sc_rc 0 view vol img1
path=$(cat /tmp/out)
assert_eq "$path" /dev/mapper/vol@img1 "view path"
cmp "$path" /tmp/ref1 || die "view of img1 differs from its reference copy"
sc_rc 4 delete vol img1
sc unview vol img1
[ ! -e "$path" ] || die "view still there after unview"

sc export vol img1 /tmp/exp1.img
cmp /tmp/exp1.img /tmp/ref1 || die "export of img1 differs from its reference copy"
sc_rc 2 export vol img1 /tmp/exp1.img
sc_rc 2 export vol img1 /dev/mapper/vol
sc_rc 2 export vol img1 /dev/mapper/origin
sc export vol img2 /tmp/d12.stream --since img1
cp /tmp/ref1 /tmp/copy
sc apply /tmp/d12.stream /tmp/copy
cmp /tmp/copy /tmp/ref2 || die "img1 + the --since stream differs from img2"
# A damaged stream changes nothing.
cp /tmp/ref1 /tmp/copy
cp /tmp/d12.stream /tmp/bad.stream
printf '\x55' | dd of=/tmp/bad.stream bs=1 seek=$((MB + 100)) conv=notrunc status=none
sc_rc 5 apply /tmp/bad.stream /tmp/copy
cmp /tmp/copy /tmp/ref1 || die "a damaged stream changed the target"
truncate -s -1000 /tmp/bad.stream
sc_rc 5 apply /tmp/bad.stream /tmp/copy
head -c $MB /tmp/ref1 >/tmp/small
sc_rc 2 apply /tmp/d12.stream /tmp/small
rm -f /tmp/exp1.img /tmp/copy /tmp/bad.stream /tmp/small /tmp/ref1 /tmp/ref2

log "== map"
dmsetup message vol 0 set_granularity bit 3
sc_rc 0 map vol --svg /tmp/map.svg
grep -q "regions of 4.0 MiB" /tmp/out || die "map did not describe the regions: $(cat /tmp/out)"
grep -q "<svg" /tmp/map.svg || die "map wrote no SVG"
sc_rc 0 map vol --json
assert_eq "$(jq -r '.regions | length' /tmp/out)" 16 "regions in the map"
assert_eq "$(jq -r '.regions[3].next_level' /tmp/out)" bit "next level of region 3"
[ "$(jq -r '.regions[5].delta_records' /tmp/out)" -gt 0 ] || die "region 5 shows no deltas"
assert_eq "$(jq -r '.regions[15].delta_records' /tmp/out)" 0 "deltas of region 15"

log "== rollback of ext4"
sc delete vol img1 img2
mkfs.ext4 -q -F /dev/mapper/vol || die "mkfs"
mkdir -p /mnt/vol
mount /dev/mapper/vol /mnt/vol || die "mount"
for i in 1 2 3 4 5; do head -c $((i * 300000)) /dev/urandom >/mnt/vol/file$i; done
mkdir /mnt/vol/dir && echo kept >/mnt/vol/dir/a
(cd /mnt/vol && sha256sum file* dir/a >/tmp/sums.before)
sc create vol before --freeze /mnt/vol
head -c 500000 /dev/urandom >/mnt/vol/file2
rm /mnt/vol/file3 /mnt/vol/dir/a
head -c 700000 /dev/urandom >/mnt/vol/new
(cd /mnt/vol && sha256sum file1 file2 file4 file5 new >/tmp/sums.after)
sc_rc 4 rollback vol before --yes
umount /mnt/vol
sc_rc 2 rollback vol before </dev/null
sc_rc 3 rollback vol nosuch --yes
sc_rc 0 rollback vol before --yes
grep -q "rolled vol back to snapshot" /tmp/out || die "rollback did not report its end: $(cat /tmp/out)"
safety=$(sed -n "s/^safety snapshot \([0-9]*\) .*/\1/p" /tmp/out)
[ -n "$safety" ] || die "no safety snapshot reported: $(cat /tmp/out)"
e2fsck -fn /dev/mapper/vol >/tmp/fsck 2>&1 || die "e2fsck after rollback: $(cat /tmp/fsck)"
mount /dev/mapper/vol /mnt/vol || die "mount after rollback"
(cd /mnt/vol && sha256sum -c --quiet /tmp/sums.before) || die "files differ from before the snapshot"
[ ! -e /mnt/vol/new ] || die "a file created after the snapshot survived the rollback"
umount /mnt/vol
# Undo: back to the safety snapshot.
sc rollback vol "$safety" --yes --no-safety-snapshot
mount /dev/mapper/vol /mnt/vol || die "mount after undo"
(cd /mnt/vol && sha256sum -c --quiet /tmp/sums.after) || die "undo did not bring the later files back"
umount /mnt/vol

log "== schedule"
sc_rc 2 schedule vol --keep 1x:2s
for i in $(seq 1 16); do
	[ "$i" = 1 ] || sleep 1
	sc schedule vol
	last=$(date +%s)
done
sc_rc 0 list vol --json
jq -r '.[] | select(.name | startswith("auto-")) | .ctime_ns' /tmp/out >/tmp/sched
n=$(wc -l </tmp/sched)
log "scheduled snapshots kept: $n"
# Independently of the planner: with 1s:4s and 3s:12s every kept one lies
# in a bucket of a rule window (a second of slack for the clock read after
# the last run) that has no older kept one, or is the newest; there are at
# most 6 + 6 of them.
awk -v now="$last" '
	{ t[NR] = int($1 / 1e9) }
	END { for (i = 1; i <= NR; i++) { ok = i == NR
		  if (t[i] >= now - 4 - 2 && !seen1[t[i]]++) ok = 1
		  b = int(t[i] / 3); if (t[i] >= now - 12 - 4 && !seen3[b]++) ok = 1
		  if (!ok) { print "snapshot at " t[i] " (now " now ") kept by no rule"; bad = 1 } }
	      exit bad }' /tmp/sched || die "schedule kept a snapshot no rule keeps"
if [ "$n" -lt 4 ] || [ "$n" -gt 12 ]; then
	die "schedule kept $n snapshots"
fi

log "== status, teardown, activate"
sc_rc 0 status
grep -q "^vol " /tmp/out || die "status does not list vol: $(cat /tmp/out)"
sc view vol before
mount -o ro,noload /dev/mapper/vol@before /mnt/vol || die "mount view"
sc_rc 4 teardown vol
umount /mnt/vol
count=$(sc list vol --json | jq length)
sc teardown vol
if [ -e /dev/mapper/vol ] || [ -e /dev/mapper/vol@before ]; then
	die "teardown left devices"
fi
sc activate --all
[ -b /dev/mapper/vol ] || dmsetup mknodes vol
assert_eq "$(sc list vol --json | jq length)" "$count" "snapshots after activate"
sc deactivate --all

log "== check and dump, offline"
sc_rc 0 check "$DYNSNAP_FAST" "$DYNSNAP_SLOW"
sc_rc 0 dump "$DYNSNAP_FAST" "$DYNSNAP_SLOW"
jq -e '.' /tmp/out >/dev/null || die "dump is not JSON"
# A record a retained snapshot needs, from the dump's record list.
"$ctl" dump "$DYNSNAP_FAST" "$DYNSNAP_SLOW" --records >/tmp/records.json || die "dump --records"
read -r off stored <<<"$(jq -r '[.records[] | select(.tier == "fast" and (.control | not)
	and .live and .stored_length > 0)][0] | "\(.device_offset) \(.stored_length)"' /tmp/records.json)"
if [ -z "$off" ] || [ "$off" = null ]; then die "no live fast-tier record to damage"; fi
dsn_oracle flip "$DYNSNAP_FAST" $((off + 64 + stored / 2)) || die "flip"
sc_rc 5 check "$DYNSNAP_FAST" "$DYNSNAP_SLOW"
grep -q "^damaged: fast byte [0-9]*, segment [0-9]*, record [0-9]*" /tmp/out ||
	die "check did not say where: $(cat /tmp/out)"
log "check found: $(grep -m1 -i damaged /tmp/out)"
sc_rc 5 check "$DYNSNAP_FAST" "$DYNSNAP_SLOW" --json
jq -e '.problems | length > 0' /tmp/out >/dev/null || die "check --json lists no problem"
dsn_oracle flip "$DYNSNAP_FAST" $((off + 64 + stored / 2)) || die "flip back"
sc_rc 0 check "$DYNSNAP_FAST" "$DYNSNAP_SLOW"
# A fast device that no longer holds the store (another disk took its
# name) is never formatted by activate.
dd if=/dev/zero of="$DYNSNAP_FAST" bs=4096 count=1 oflag=direct status=none
sc_rc 1 activate vol
grep -q "holds no store" /tmp/err || die "activate did not say why: $(cat /tmp/err)"
[ ! -e /dev/mapper/vol ] || die "activate created a volume on a zeroed fast device"
cmp -n 4096 "$DYNSNAP_FAST" /dev/zero || die "activate wrote to the zeroed fast device"
sc teardown vol --forget
[ ! -f $DYNSNAP_CONFIG_DIR/volumes/vol.json ] || die "teardown --forget kept the configuration"
dmsetup remove origin
log "snapshotctl: all commands behave"

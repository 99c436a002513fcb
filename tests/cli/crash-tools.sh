#!/bin/bash
# The crash tests' own tools on regular files: dsn-crash check on a log
# and a volume it can judge (zeros, a sector of no write, a bad log, a
# missing list, a state of another size, rollbacks done and cut short, an
# origin's dropped writes, snapshots dropped by on_full drop_oldest) and
# dsn-volatile-cut on journals (none, a damaged one, marks, bad arguments). Exit statuses as their headers say.
#   crash-tools.sh DSN_CRASH DSN_VOLATILE_CUT
. "$(dirname "$0")/lib.sh"
crash=$1 cut=$2

# A 64 KiB volume of zeros, never written: what a log without writes expects.
head -c 65536 /dev/zero >"$tmp/volume"
: >"$tmp/log"
: >"$tmp/list"
EXPECT_CMD=("$crash" check --volume "$tmp/volume" --list "$tmp/list" --view-prefix "$tmp/view")
expect "a volume never written matches an empty log" 0 '"failures":0' --log "$tmp/log" \
	--state-out "$tmp/state"
[ -s "$tmp/state" ] && ok "the check wrote its state" || fail "no state written"
expect "the state it wrote is read back" 0 '"failures":0' --log "$tmp/log" --state-in "$tmp/state"

printf 'garbage at 4096' | dd of="$tmp/volume" bs=512 seek=8 conv=notrunc status=none
expect "a sector of no write fails the check" 1 'volume sector 8 holds bytes of no write' \
	--log "$tmp/log"
expect "unreadable is not wrong, wrong is still wrong" 1 '"sectors_unreadable":0' \
	--log "$tmp/log" --allow-read-errors
head -c 65536 /dev/zero >"$tmp/volume"

echo "W 1 0 8 0" >"$tmp/log"
echo "w 1" >>"$tmp/log"
expect "an unflushed write may be lost" 0 '"cut_in":"between steps"' --log "$tmp/log"
echo "F 2" >>"$tmp/log"
echo "f 2" >>"$tmp/log"
expect "a flushed write may not" 1 'volume sector 0 holds write 0, not write 1' --log "$tmp/log"
echo "S 3 c3" >"$tmp/log"
echo "s 3 7" >>"$tmp/log"
expect "an acknowledged snapshot must be listed" 1 'snapshot 7 \(c3\) was acknowledged but is not listed' \
	--log "$tmp/log"
echo "9 stranger 0.0 0 1" >"$tmp/list"
expect "a snapshot never created must not be listed" 1 'snapshot 9 \(stranger\) is listed but was never created' \
	--log "$tmp/log"
: >"$tmp/list"

echo "Q 1" >"$tmp/log"
expect_err "an unknown step is refused" 2 'unknown step: Q 1' --log "$tmp/log"
echo "W 1 0 999999 0" >"$tmp/log"
expect_err "a write past the volume is refused" 2 'bad write' --log "$tmp/log"
echo "not a line" >"$tmp/log"
expect_err "a line without a step number is refused" 2 'not a log line' --log "$tmp/log"
expect_err "a missing log is refused" 2 'cannot read' --log "$tmp/none"
: >"$tmp/log"
echo '{"volume":[0,0],"snapshots":[]}' >"$tmp/small-state"
expect_err "a state of another volume is refused" 2 'not a state of this volume' --log "$tmp/log" \
	--state-in "$tmp/small-state"
# A write that failed (ENOSPC) and did not end the run may have reached
# part of its range, and then a flush.
printf '%s\n' "W 1 0 16 0" "e 1 28" "F 2" "f 2" >"$tmp/log"
head -c 65536 /dev/zero >"$tmp/volume"
"$crash" fill "$tmp/volume" 1:8:8
expect "a write that failed may have reached part of its range" 0 '"failures":0' --log "$tmp/log"
printf '%s\n' "W 1 0 16 0" "w 1" "W 2 0 16 0" "e 2 28" "F 3" "f 3" "S 4 c4" "s 4 5" >"$tmp/log"
echo "5 c4" >"$tmp/list"
"$crash" fill "$tmp/volume" 1:0:16 2:0:4
cp "$tmp/volume" "$tmp/view5"
expect "also over a completed one, and a later snapshot may hold it" 0 '"failures":0' --log "$tmp/log"
printf '%s\n' "W 6 0 16 0" "w 6" "S 7 c7" "s 7 8" >>"$tmp/log"
printf '%s\n' "5 c4" "8 c7" >"$tmp/list"
"$crash" fill "$tmp/volume" 6:0:16
cp "$tmp/view5" "$tmp/view8"
expect "until a completed write covers it" 1 'snapshot 8 \(c7\) sector 0 holds write 2,' \
	--log "$tmp/log"
: >"$tmp/list"

# Rollback: write 1, snapshot c3 (id 7), write 4, rollback to 7.
printf '%s\n' "W 1 0 8 0" "w 1" "F 2" "f 2" "S 3 c3" "s 3 7" "W 4 0 8 0" "w 4" "F 5" "f 5" \
	"R 6 7" >"$tmp/log"
echo "7 c3" >"$tmp/list"
head -c 65536 /dev/zero >"$tmp/view7"
"$crash" fill "$tmp/view7" 1:0:8
cp "$tmp/view7" "$tmp/volume"
expect "a rollback cut short may have rolled a block back" 0 '"cut_in":"rollback"' --log "$tmp/log"
"$crash" fill "$tmp/volume" 4:0:8
expect "or not" 0 '"failures":0' --log "$tmp/log"
echo "r 6" >>"$tmp/log"
expect "a rollback done leaves the snapshot's bytes" 1 'volume sector 0 holds write 4, not write 1' \
	--log "$tmp/log"
cp "$tmp/view7" "$tmp/volume"
expect "and they are durable" 0 '"failures":0' --log "$tmp/log"
echo "R 8 9" >>"$tmp/log"
expect_err "a rollback to a snapshot the log does not know is refused" 2 'does not know' \
	--log "$tmp/log"

# Dropped writes of the origin: write 4 was dropped over sectors 0-7, and
# snapshot c5 (id 8) was taken after it; c3 (id 7) before.
printf '%s\n' "W 1 0 16 0" "w 1" "F 2" "f 2" "S 3 c3" "s 3 7" "W 4 0 8 0" "w 4" "S 5 c5" \
	"s 5 8" >"$tmp/log"
printf '%s\n' "7 c3" "8 c5" >"$tmp/list"
head -c 65536 /dev/zero >"$tmp/volume"
"$crash" fill "$tmp/volume" 1:0:16
cp "$tmp/volume" "$tmp/view7"
cp "$tmp/volume" "$tmp/view8"
expect "without the drop journal a dropped write is a lost one" 1 'volume sector 0 holds write 1' \
	--log "$tmp/log"
"$crash" fill "$tmp/dropped" --as-journal 4:0:8
expect "with it, the sectors dropped are excused in the volume and later snapshots" 0 \
	'"sectors_dropped":8,"sectors_excused":16' --log "$tmp/log" --dropped "$tmp/dropped"
"$crash" fill "$tmp/view7" 4:0:1
expect "a snapshot older than the drop is still checked" 1 'snapshot 7 \(c3\) sector 0 holds write 4' \
	--log "$tmp/log" --dropped "$tmp/dropped"
"$crash" fill "$tmp/view7" 1:0:1
"$crash" fill "$tmp/volume" 4:8:1
expect "a sector the origin did not drop is still checked" 1 'volume sector 8 holds write 4' \
	--log "$tmp/log" --dropped "$tmp/dropped"
printf '%s\n' "W 1 0 8 0" "w 1" "F 2" "f 2" "W 3 0 8 0" "w 3" "W 4 0 8 1" "w 4" >"$tmp/log"
: >"$tmp/list"
head -c 65536 /dev/zero >"$tmp/volume"
"$crash" fill "$tmp/volume" 1:0:8
: >"$tmp/dropped"
"$crash" fill "$tmp/dropped" --as-journal 3:0:8
expect "a write stored after a dropped one must be there" 1 'volume sector 0 holds write 1, not write 4' \
	--log "$tmp/log" --dropped "$tmp/dropped"
"$crash" fill "$tmp/bad-dropped" --as-journal 4:200:1
expect_err "a drop journal of writes outside the volume is refused" 2 'no write of the workload' \
	--log "$tmp/log" --dropped "$tmp/bad-dropped"

# on_full drop_oldest: c1 (id 1) and c2 (id 2) acknowledged; only those the
# kernel said it dropped (--kernel-dropped) may be gone.
printf '%s\n' "S 1 c1" "s 1 1" "S 2 c2" "s 2 2" >"$tmp/log"
head -c 65536 /dev/zero >"$tmp/volume"
cp "$tmp/volume" "$tmp/view1"
cp "$tmp/volume" "$tmp/view2"
echo "2 c2" >"$tmp/list"
expect "a snapshot missing is an error" 1 'snapshot 1 \(c1\) was acknowledged' --log "$tmp/log"
echo 1 >"$tmp/kernel-dropped"
expect "unless the kernel said it dropped it" 0 '"snapshots_dropped_by_kernel":1' --log "$tmp/log" \
	--kernel-dropped "$tmp/kernel-dropped"
: >"$tmp/list"
expect "and only that one" 1 'snapshot 2 \(c2\) was acknowledged' --log "$tmp/log" \
	--kernel-dropped "$tmp/kernel-dropped"
printf '1\n2\n' >"$tmp/kernel-dropped"
expect "every snapshot may be dropped" 0 '"snapshots_dropped_by_kernel":2' --log "$tmp/log" \
	--kernel-dropped "$tmp/kernel-dropped"
echo "one" >"$tmp/kernel-dropped"
expect_err "a list of ids that is none is refused" 2 'not a list of snapshot ids' --log "$tmp/log" \
	--kernel-dropped "$tmp/kernel-dropped"

# Where nothing was written since a snapshot, its view reads what the
# volume reads, also where a failed write left either.
printf '%s\n' "W 1 0 8 0" "w 1" "F 2" "f 2" "W 3 0 8 0" "e 3 28" "S 4 c4" "s 4 5" >"$tmp/log"
echo "5 c4" >"$tmp/list"
head -c 65536 /dev/zero >"$tmp/volume"
"$crash" fill "$tmp/volume" 1:0:8
cp "$tmp/volume" "$tmp/view5"
"$crash" fill "$tmp/view5" 3:0:8
expect "a view and a volume that disagree where nothing was written since" 1 \
	'snapshot 5 \(c4\) sector 0 holds write 3, the volume write 1, and nothing was written there since' \
	--log "$tmp/log"
"$crash" fill "$tmp/volume" 3:0:8
expect "agree, either way" 0 '"failures":0' --log "$tmp/log"
: >"$tmp/list"

# A rollback to a snapshot that may hold a failed write there: the volume
# may hold it after the rollback too.
printf '%s\n' "W 1 0 8 0" "w 1" "W 2 0 8 0" "e 2 28" "S 3 c3" "s 3 4" "W 5 0 8 0" "w 5" \
	"R 6 4" "r 6" >"$tmp/log"
echo "4 c3" >"$tmp/list"
head -c 65536 /dev/zero >"$tmp/volume"
"$crash" fill "$tmp/volume" 2:0:8
cp "$tmp/volume" "$tmp/view4"
expect "a rollback gives back what the snapshot holds" 0 '"failures":0' --log "$tmp/log"
"$crash" fill "$tmp/volume" 5:0:8
expect "and nothing newer" 1 'volume sector 0 holds write 5' --log "$tmp/log"
: >"$tmp/list"

EXPECT_CMD=("$crash")
expect "fill refuses a write that is not SEQ:FIRST:COUNT" 2 'SEQ:FIRST:COUNT' fill "$tmp/x" 1:2
expect "run refuses an on_full policy it does not know" 2 'full-tier' run /dev/null --name x \
	--log "$tmp/log" --seed 1 --full-tier sometimes
expect "check without its options is a usage error" 2 'required' check --log "$tmp/log"
expect "run with a bad --max-sectors is a usage error" 2 'max-sectors' run /dev/null --name x \
	--log "$tmp/log" --seed 1 --max-sectors 4

EXPECT_CMD=("$cut" --medium "$tmp/volume")
expect "a cut with no journal keeps nothing and says so" 0 '"entries":0' --journal "$tmp/none" \
	--keep random --seed 1
printf 'NOTAJRNL and then some more bytes, more than a header takes' >"$tmp/journal"
expect "a journal that is no journal is an error" 1 'no entry|damaged' --journal "$tmp/journal" \
	--keep all --seed 1
expect "a bad --keep is a usage error" 2 'none, all, random or torn' --journal "$tmp/none" \
	--keep most --seed 1
expect "a missing --seed is a usage error" 2 'seed' --journal "$tmp/none" --keep all
"$crash" fill "$tmp/journal2" --as-journal 1:8:8 2:100:1
expect "a mark counts the cached writes over its range" 0 '"marks":\{"ckpt":\{"entries":1,"lost":1\}\}' \
	--journal "$tmp/journal2" --keep none --seed 1 --mark ckpt:4096-8192
expect "a bad --mark is a usage error" 2 'NAME:FIRST-END' --journal "$tmp/none" --keep all --seed 1 \
	--mark ckpt:9-1
finish

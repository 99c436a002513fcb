#!/bin/bash
# The crash tests' own tools on regular files: dsn-crash check on a log
# and a volume it can judge (zeros, a sector of no write, a bad log, a
# missing list, a state of another size) and dsn-volatile-cut on journals
# (none, a damaged one, bad arguments). Exit statuses as their headers say.
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
EXPECT_CMD=("$crash")
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
finish

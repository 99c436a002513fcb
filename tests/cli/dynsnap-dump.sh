#!/bin/bash
# dynsnap-dump's command line: documented exit codes and one-line errors for
# bad arguments and damaged, zeroed or mismatched superblocks.
#   dynsnap-dump.sh BINARY GOLDEN_SUPERBLOCK
bin=$1 golden=$2
. "$(dirname "$0")/lib.sh"
EXPECT_CMD=("$bin")

head -c 8192 /dev/zero >"$tmp/zero"
cp "$golden" "$tmp/damaged"
printf '\x01' | dd of="$tmp/damaged" bs=1 seek=300 conv=notrunc status=none
head -c 100 "$golden" >"$tmp/short"

expect "no arguments" 2 "devices is required" 
expect "three devices" 2 "At Most 2" a b c
expect "unknown option" 2 "not expected: --bogus" --bogus "$golden"
expect "help" 0 "Exit status" --help
expect "valid superblock" 0 "volume_sectors 2097152" "$golden"
expect "valid superblock as JSON" 0 '"block_sectors": 128' --json "$golden"
expect "zeroed device" 3 "zeroed" "$tmp/zero"
expect "damaged superblock" 1 "superblock checksum mismatch" "$tmp/damaged"
expect "short file" 1 "shorter than a superblock" "$tmp/short"
expect "missing file" 1 "cannot open" "$tmp/nonexistent"
expect "two fast superblocks" 1 "tier is invalid" "$golden" "$golden"
"$bin" --json "$golden" | python3 -m json.tool >/dev/null ||
	{ echo "FAIL: --json output does not parse"; fails=$((fails + 1)); }

finish

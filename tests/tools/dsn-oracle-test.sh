#!/bin/bash
# dsn-oracle on regular files: writes are deterministic and stay in their
# range, sums and compare find every changed chunk, records lists exactly
# the log of a known image, flip changes one byte; exit codes as documented.
#   dsn-oracle-test.sh DSN_ORACLE MAKE_STORE_IMAGE
set -uo pipefail
bin=$1 mkimage=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 passes=0

ok() {
	echo "ok - $1"
	passes=$((passes + 1))
}

bad() {
	echo "FAIL: $1"
	[ ! -s "$tmp/out" ] || sed 's/^/    /' "$tmp/out"
	fails=$((fails + 1))
}

# expect DESC STATUS PATTERN ARGS...: run the tool, check its exit status
# and that PATTERN (extended regex; empty: anything) appears in its combined
# output.
expect() {
	local desc=$1 want=$2 pattern=$3 rc=0
	shift 3
	"$bin" "$@" >"$tmp/out" 2>&1 || rc=$?
	if [ "$rc" != "$want" ] || { [ -n "$pattern" ] && ! grep -qE -- "$pattern" "$tmp/out"; }; then
		bad "$desc: exit $rc (want $want)"
	else
		ok "$desc"
	fi
}

# has PATTERN DESC: the output of the last expect contains PATTERN.
has() {
	if grep -qE -- "$1" "$tmp/out"; then ok "$2"; else bad "$2"; fi
}

# check DESC CMD...: CMD must succeed.
check() {
	local desc=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then ok "$desc"; else bad "$desc"; fi
}

vol=$tmp/vol
truncate -s 8M "$vol"

expect "random writes" 0 "^dsn-oracle write: .*: 50 writes, [0-9]+ bytes, seed 7, lengths 512..1048576, range 0\+8388608, fsync" \
	write "$vol" --seed 7 --count 50 --fsync
check "the writes changed the file" bash -c "! cmp -s '$vol' <(head -c 8M /dev/zero)"
expect "sums" 0 "" sums "$vol" -o "$tmp/a.sums"
check "sums file: header then one hash a chunk" \
	bash -c "head -3 '$tmp/a.sums' | tr '\n' ' ' | grep -qx 'dsn-oracle-sums 1 size 8388608 chunk 4096 ' &&
		[ \$(wc -l <'$tmp/a.sums') = \$((3 + 2048)) ]"
expect "compare equal" 0 "equal to .*a.sums \(8388608 bytes\)" compare "$vol" "$tmp/a.sums"

truncate -s 8M "$tmp/vol2"
"$bin" write "$tmp/vol2" --seed 7 --count 50 >/dev/null
check "the same seed writes the same data" cmp "$vol" "$tmp/vol2"
"$bin" write "$tmp/vol2" --seed 8 --count 1 >/dev/null
check "another seed writes other data" bash -c "! cmp -s '$vol' '$tmp/vol2'"

printf 'X' | dd of="$vol" bs=1 seek=5000 conv=notrunc status=none
expect "one changed byte is found, as its chunk" 1 "differs: offset=4096 length=4096$" \
	compare "$vol" "$tmp/a.sums"
expect "the summary counts it" 1 "1 chunks differ in 1 ranges, 0 chunks unreadable" \
	compare "$vol" "$tmp/a.sums"
printf 'Y' | dd of="$vol" bs=1 seek=$((8 * 1048576 - 1)) conv=notrunc status=none
printf 'Y' | dd of="$vol" bs=1 seek=8191 conv=notrunc status=none
expect "adjacent chunks merge into one range, the last chunk counts" 1 \
	"differs: offset=4096 length=4096$" compare "$vol" "$tmp/a.sums"
has "differs: offset=8384512 length=4096$" "the last chunk is reported"
expect "--show limits the ranges printed" 1 "and 1 more ranges" \
	compare --show 1 "$vol" "$tmp/a.sums"
truncate -s 9M "$vol"
expect "a longer device differs" 1 "size 9437184 bytes, reference 8388608 bytes" \
	compare "$vol" "$tmp/a.sums"
truncate -s 8M "$vol"

expect "a smaller chunk size" 0 "" sums --chunk 512 "$vol" -o "$tmp/b.sums"
printf 'Z' | dd of="$vol" bs=1 seek=1030 conv=notrunc status=none
expect "512-byte chunks locate a change to its sector" 1 "differs: offset=1024 length=512$" \
	compare "$vol" "$tmp/b.sums"

log="$tmp/range"
truncate -s 4M "$log"
expect "writes inside a range" 0 "range 1048576\+1048576" \
	write "$log" --seed 3 --count 40 --range 1M:1M --max-bytes 256K
check "nothing written outside the range" bash -c \
	"cmp -n 1048576 '$log' /dev/zero && cmp -i 2097152:0 -n 2097152 '$log' /dev/zero"
"$bin" sums "$log" -o "$tmp/r.sums" >/dev/null
truncate -s 4M "$tmp/zero"
"$bin" sums "$tmp/zero" -o "$tmp/z.sums" >/dev/null
expect "sequential writes fill the range from its start" 0 "sequential" \
	write "$tmp/zero" --seed 4 --count 4 --range 1M:2M --min-bytes 512K --max-bytes 512K --sequential
expect "... exactly: 2 MiB from 1 MiB" 1 "differs: offset=1048576 length=2097152$" \
	compare "$tmp/zero" "$tmp/z.sums"

cp "$log" "$tmp/sparse"
expect "sparse writes" 0 "sparse 3" \
	write "$tmp/sparse" --seed 5 --count 1 --sparse 3 --min-bytes 64K --max-bytes 64K
n=$(cmp -l "$log" "$tmp/sparse" | wc -l)
if [ "$n" -ge 1 ] && [ "$n" -le 3 ]; then ok "sparse write changed $n bytes"; else bad "sparse write changed $n bytes"; fi

cp "$log" "$tmp/flip"
expect "flip" 0 "byte 12345: 0x.. -> 0x.." flip "$tmp/flip" 12345 --xor 0x81
# cmp -l: 1-based position, then both bytes in octal.
diffs=$(cmp -l "$log" "$tmp/flip")
read -r pos a b <<<"$diffs"
if [ "$(wc -l <<<"$diffs")" = 1 ] && [ "$pos" = 12346 ] && [ $((8#$a ^ 8#$b)) = 129 ]; then
	ok "flip changed that byte only, by the XOR value"
else
	bad "flip changed: $diffs"
fi

# records: a known image; a damaged payload is listed as damaged, a damaged
# header ends its segment's log there.
"$mkimage" "$tmp/store.img" >"$tmp/expected" || bad "make-store-image failed"
expect "records of a known image" 0 "5 records, 0 damaged" records "$tmp/store.img"
grep '^record ' "$tmp/out" >"$tmp/got"
has "^segment offset=[0-9]+ seq=5 first_record=100 records=3 damaged=0 log_end=" \
	"a line for segment 5"
check "records: exactly the records of this store's logs" diff -u "$tmp/expected" "$tmp/got"
check "make-store-image printed the five records" test "$(wc -l <"$tmp/expected")" = 5
second=$(sed -n 2p "$tmp/expected" | sed 's/.*offset=\([0-9]*\) .*/\1/')
"$bin" flip "$tmp/store.img" $((second + 64 + 1000)) >/dev/null
expect "a damaged payload is listed as such" 0 "5 records, 1 damaged" records "$tmp/store.img"
grep '^record ' "$tmp/out" >"$tmp/got"
sed '2s/valid=yes/valid=no/' "$tmp/expected" >"$tmp/want"
check "records after the damage" diff -u "$tmp/want" "$tmp/got"
"$bin" flip "$tmp/store.img" $((second + 20)) >/dev/null
expect "a damaged header ends the log" 0 "3 records, 0 damaged" records "$tmp/store.img"
grep '^record ' "$tmp/out" >"$tmp/got"
sed 2,3d "$tmp/expected" >"$tmp/want"
check "records after the header damage" diff -u "$tmp/want" "$tmp/got"
expect "records: --limit keeps the scan to the first segment" 0 "1 segments, 1 records, 0 damaged" \
	records --limit 4M "$tmp/store.img"

# Usage and I/O errors: exit 2, one line naming the problem.
expect "no subcommand" 2 "subcommand" 
expect "missing device" 2 "cannot open .*nonexistent" sums "$tmp/nonexistent" -o "$tmp/x"
expect "chunk not a multiple of 512" 2 "--chunk must be a multiple of 512" sums --chunk 1000 "$vol" -o "$tmp/x"
expect "unaligned range" 2 "multiples of 512" write "$vol" --seed 1 --count 1 --range 100:4096
expect "range beyond the end" 2 "ends beyond" write "$vol" --seed 1 --count 1 --range 8M:1M
expect "min above max" 2 "larger than --max-bytes" write "$vol" --seed 1 --count 1 --min-bytes 8K --max-bytes 4K
expect "bad size" 2 "not a number" write "$vol" --seed 1 --count 1 --max-bytes 12Q
expect "missing seed" 2 "--seed is required" write "$vol" --count 1
printf 'garbage\n' >"$tmp/garbage"
expect "not a sums file" 2 "not a dsn-oracle sums file" compare "$vol" "$tmp/garbage"
head -n 100 "$tmp/a.sums" >"$tmp/short.sums"
expect "truncated sums file" 2 "97 sums, expected 2048" compare "$vol" "$tmp/short.sums"
expect "records without a store" 2 "no valid superblock" records "$vol"
expect "flip beyond the end" 2 "beyond the end" flip "$vol" 8M
expect "help" 0 "Exit status" --help

echo "$passes passed, $fails failed"
[ "$fails" = 0 ]

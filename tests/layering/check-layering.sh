#!/bin/bash
# The layering of the userspace libraries, on what was built: the volume
# model and what it stands on (volume/, dm/, util/) include no header of
# CLI11, io_uring or the other libraries, even indirectly; their archives
# hold no CLI11 or io_uring symbol; and a program that links the volume
# model alone (volume-probe) needs no liburing and runs.
#   check-layering.sh CXX SRC_DIR CORE_DIR PROBE ARCHIVE...
set -uo pipefail
cxx=$1 src=$2 core=$3 probe=$4
shift 4
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# Every header a file includes, directly or not (the compiler's own list).
forbidden_headers='/CLI/|/liburing|/src/(image|store|ui|ctl)/'
for f in $(find "$src/util" "$src/dm" "$src/volume" -name '*.h' -o -name '*.cc' |
	   grep -v '_test\.cc$' | sort); do
	deps=$("$cxx" -std=c++20 -M -x c++ -I"$src" -I"$core" "$f" 2>"$tmp/err") ||
		{ fail "$f does not compile on its own:"; cat "$tmp/err"; continue; }
	bad=$(tr ' \\' '\n\n' <<<"$deps" | grep -E "$forbidden_headers" | sort -u)
	[ -z "$bad" ] || fail "${f#"$src"/} includes" $bad
done

for a in "$@" "$probe"; do
	bad=$(nm -C "$a" 2>/dev/null | grep -E 'CLI::|io_uring' | sort -u | head -5)
	[ -z "$bad" ] || fail "$(basename "$a") has CLI11 or io_uring symbols:" "$bad"
done

needed=$(readelf -d "$probe" | grep NEEDED)
! grep -q 'liburing' <<<"$needed" || fail "volume-probe needs liburing: $needed"

mkdir -p "$tmp/config/volumes"
out=$("$probe" "$tmp/config" 2>&1) || fail "volume-probe on an empty config: $out"

[ "$fails" -eq 0 ] && echo "layering holds"
[ "$fails" -eq 0 ]

# shellcheck shell=bash
# Helpers for the command-line tests (tests/cli/*.sh), sourced first:
#   expect DESC STATUS PATTERN ARGS...  run "${EXPECT_CMD[@]}" ARGS..., check
#                                       its exit status and that PATTERN
#                                       (grep -E) is in its combined output
#   finish                              print the counts; fail if any failed
# $tmp is a scratch directory removed at exit.
set -uo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 passes=0
EXPECT_CMD=()

expect() {
	local desc=$1 want=$2 pattern=$3 rc=0
	shift 3
	${EXPECT_CMD[@]+"${EXPECT_CMD[@]}"} "$@" >"$tmp/out" 2>&1 || rc=$?
	if [ "$rc" != "$want" ] || ! grep -qE -- "$pattern" "$tmp/out"; then
		echo "FAIL: $desc: exit $rc (want $want), output:"
		sed 's/^/    /' "$tmp/out"
		fails=$((fails + 1))
	else
		echo "ok - $desc"
		passes=$((passes + 1))
	fi
}

finish() {
	echo "$passes passed, $fails failed"
	[ "$fails" -eq 0 ]
}

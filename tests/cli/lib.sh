# shellcheck shell=bash
# Helpers for the command-line tests (tests/cli/*.sh), sourced first:
#   expect DESC STATUS PATTERN ARGS...  run "${EXPECT_CMD[@]}" ARGS..., check
#                                       its exit status and that PATTERN
#                                       (grep -E) is in its combined output
#   expect_err DESC STATUS PATTERN ARGS...  run "${EXPECT_CMD[@]}" ARGS...,
#                                       check its exit status and that stderr
#                                       is exactly one line matching PATTERN
#   ok MSG / fail MSG                   count a check passed / failed
#   plain_man MAN_PAGE                  the man page source without the
#                                       escapes that hide plain text
#   has_option TEXT_FILE OPT            OPT is a word of its own in the file
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

ok() {
	echo "ok - $*"
	passes=$((passes + 1))
}

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

expect_err() {
	local desc=$1 want=$2 pattern=$3 rc=0
	shift 3
	${EXPECT_CMD[@]+"${EXPECT_CMD[@]}"} "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" != "$want" ] || [ "$(wc -l <"$tmp/err")" != 1 ] ||
		! grep -qE -- "$pattern" "$tmp/err"; then
		fail "$desc: exit $rc (want $want), stderr:"
		sed 's/^/    /' "$tmp/err"
	else
		ok "$desc"
	fi
}

# \- is -, font changes and \& go.
plain_man() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' -e 's/\\e/\\/g' "$1"
}

has_option() {
	grep -qE -- "(^|[^A-Za-z0-9-])$2([^A-Za-z0-9-]|$)" "$1"
}

finish() {
	echo "$passes passed, $fails failed"
	[ "$fails" -eq 0 ]
}

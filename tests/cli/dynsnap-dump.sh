#!/bin/bash
# dynsnap-dump's command line: the options and exit statuses of --help are
# those of the man page; each failure (bad arguments, a missing device, a
# file that cannot be read, a zeroed, damaged or mismatched superblock, a
# corrupt store image) exits with its documented status and prints one
# line on stderr that names the file.
#   dynsnap-dump.sh BINARY GOLDEN_SUPERBLOCK MAN_PAGE MAKE_STORE_IMAGE
bin=$1 golden=$2 man=$3 mkimage=$4
. "$(dirname "$0")/lib.sh"
EXPECT_CMD=("$bin")



plain_man "$man" >"$tmp/man"
section() { sed -n "/^\.SH $1\$/,/^\.SH /p" "$tmp/man"; }

# ---- the man page renders without warnings
if out=$(groff -man -ww -z "$man" 2>&1) && [ -z "$out" ]; then
	ok "man page renders without warnings"
elif ! command -v groff >/dev/null; then
	echo "skip - groff is not installed: rendering not checked"
else
	fail "groff warns about the man page: $out"
fi

# ---- options and arguments of --help against the man page
rc=0
"$bin" --help >"$tmp/help" 2>"$tmp/err" || rc=$?
[ "$rc" = 0 ] && [ ! -s "$tmp/err" ] || fail "--help: exit $rc, stderr: $(cat "$tmp/err")"
section SYNOPSIS >"$tmp/syn"
section OPTIONS >"$tmp/opts"
options=$(sed -n '/^Options:/,/^$/p' "$tmp/help" | grep -oE '^  (-[a-zA-Z],)?--[a-z-]+' | tr ', ' '\n\n' | grep .)
[ -n "$options" ] || fail "--help lists no options"
missing=""
for o in $options; do
	has_option "$tmp/opts" "$o" || missing+=" $o (OPTIONS)"
	case $o in -h | --help) continue ;; esac
	has_option "$tmp/syn" "$o" || missing+=" $o (SYNOPSIS)"
done
[ -z "$missing" ] && ok "the options of --help are in the man page" ||
	fail "options of --help missing in the man page:$missing"
extra=""
for o in $(grep -oE '^\.(B|BR) (-[a-zA-Z] *,? *)?--[a-z-]+' "$tmp/opts" | grep -oE -- '-?-[a-z-]+'); do
	echo "$options" | grep -qx -- "$o" || extra+=" $o"
done
[ -z "$extra" ] && ok "every option of the man page is in --help" ||
	fail "the man page documents options --help does not list:$extra"
usage=$(sed -n 's/^Usage: dynsnap-dump \[OPTIONS\] //p' "$tmp/help")
synopsis=$(grep -vE '^\.(SH|B dynsnap-dump|RB \[ --)' "$tmp/syn" | sed -E 's/^\.[A-Z]+ //; s/ //g' | tr -d '\n')
if [ "$usage" = "FAST [SLOW]" ] && [ "$synopsis" = "FAST[SLOW]" ]; then
	ok "--help and the SYNOPSIS take FAST [SLOW]"
else
	fail "arguments: --help '$usage', SYNOPSIS '$synopsis'"
fi

# ---- exit statuses: the help footer and the man page
sed -n '/^Exit status:/,/^See /p' "$tmp/help" >"$tmp/footer"
codes=$(grep -oE '(^Exit status: |^|; )[0-9]+ ' "$tmp/footer" | grep -oE '[0-9]+' | sort -n | tr '\n' ' ')
man_codes=$(section "EXIT STATUS" |
	awk 'prev == ".TP" && $1 == ".B" { print $2 } { prev = $0 }' | sort -n | tr '\n' ' ')
if [ "$codes" = "0 1 2 3 5 " ] && [ "$codes" = "$man_codes" ]; then
	ok "exit statuses 0 1 2 3 5 in the help footer and the man page"
else
	fail "exit statuses: help footer '$codes', man page '$man_codes'"
fi
# Each status means the same: the footer's first word starts the man
# page's description.
for n in $codes; do
	word=$(tr '\n' ' ' <"$tmp/footer" | grep -oE "(: |; )$n [a-z]+" | awk '{ print $NF }')
	desc=$(section "EXIT STATUS" | awk -v n="$n" 'found { print; exit } $0 == ".B " n { found = 1 }')
	echo "$desc" | grep -qi "^$word" ||
		fail "exit status $n: footer says '$word', man page '$desc'"
done

# ---- valid superblocks: exit 0
expect "valid superblock" 0 "volume_sectors 2097152" "$golden"
expect "valid superblock as JSON" 0 '"block_sectors": 128' --json "$golden"
"$bin" --json "$golden" | python3 -m json.tool >/dev/null ||
	fail "--json output does not parse"
if "$mkimage" "$tmp/store.img" >/dev/null; then
	expect "store image" 0 "^$tmp/store.img: valid" "$tmp/store.img"
else
	fail "make-store-image failed"
fi

# ---- bad arguments: exit 2
expect_err "no arguments" 2 "FAST is required.*try dynsnap-dump --help"
expect_err "three devices" 2 "not expected: c" a b c
expect_err "unknown option" 2 "not expected: --bogus" --bogus "$golden"

# ---- no such device or file, or no store: exit 3
expect_err "missing file" 3 "^dynsnap-dump: $tmp/none: cannot open: No such file" "$tmp/none"
expect_err "missing device" 3 "^dynsnap-dump: /dev/dynsnap-none-$$: cannot open" /dev/dynsnap-none-$$
expect_err "missing slow device" 3 "^dynsnap-dump: $tmp/none: cannot open" "$golden" "$tmp/none"
grep -q "volume_sectors 2097152" "$tmp/out" &&
	ok "missing slow device: the fast superblock is still printed" ||
	fail "missing slow device: the fast superblock is not printed"
head -c 8192 /dev/zero >"$tmp/zero"
expect_err "zeroed device" 3 "^dynsnap-dump: $tmp/zero holds no dynsnap store \(zeroed\)" "$tmp/zero"

# ---- cannot be read: exit 1
mkdir "$tmp/dir"
expect_err "directory" 1 "^dynsnap-dump: $tmp/dir: cannot read: Is a directory" "$tmp/dir"
cp "$golden" "$tmp/locked"
chmod 000 "$tmp/locked"
if [ "$(id -u)" != 0 ]; then
	expect_err "unreadable file" 1 "^dynsnap-dump: $tmp/locked: cannot open: Permission denied: run as root" "$tmp/locked"
elif command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	# As root, drop to nobody to meet the permission check; nobody
	# reaches the file through a directory it may enter.
	chmod 755 "$tmp"
	EXPECT_CMD=(setpriv --reuid=65534 --regid=65534 --clear-groups "$bin")
	rc=0
	"${EXPECT_CMD[@]}" "$tmp/locked" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" = 1 ] && [ "$(wc -l <"$tmp/err")" = 1 ] &&
		grep -qE "^dynsnap-dump: $tmp/locked: cannot open: Permission denied: run as root" "$tmp/err"; then
		ok "unreadable file"
	else
		fail "unreadable file: exit $rc (want 1), stderr: $(cat "$tmp/err")"
	fi
	EXPECT_CMD=("$bin")
	chmod 700 "$tmp"
else
	echo "skip - running as root without setpriv: permissions not checked"
fi

# ---- damage: exit 5
cp "$golden" "$tmp/damaged"
printf '\x01' | dd of="$tmp/damaged" bs=1 seek=300 conv=notrunc status=none
expect_err "damaged superblock" 5 "^dynsnap-dump: $tmp/damaged: superblock checksum mismatch" "$tmp/damaged"
head -c 100 "$golden" >"$tmp/short"
expect_err "short file" 5 "^dynsnap-dump: $tmp/short: shorter than a superblock" "$tmp/short"
expect_err "two fast superblocks" 5 "^dynsnap-dump: $golden: superblock tier is invalid.*holds the fast tier" \
	"$golden" "$golden"
if [ -f "$tmp/store.img" ]; then
	cp "$tmp/store.img" "$tmp/corrupt.img"
	printf '\xff' | dd of="$tmp/corrupt.img" bs=1 seek=64 conv=notrunc status=none
	expect_err "corrupt store image" 5 "^dynsnap-dump: $tmp/corrupt.img: superblock " "$tmp/corrupt.img"
	grep -q "^$tmp/corrupt.img: invalid: superblock " "$tmp/out" &&
		ok "corrupt store image: printed as invalid" ||
		fail "corrupt store image: not printed as invalid: $(cat "$tmp/out")"
	rc=0
	"$bin" --json "$tmp/corrupt.img" >"$tmp/out" 2>/dev/null || rc=$?
	if [ "$rc" = 5 ] && python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(d[0]["state"] != "invalid" or not d[0]["error"])' "$tmp/out"; then
		ok "corrupt store image as JSON: exit 5, state invalid with its error"
	else
		fail "corrupt store image as JSON: exit $rc, output: $(head -c 300 "$tmp/out")"
	fi
fi

finish

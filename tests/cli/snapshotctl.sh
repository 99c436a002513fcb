#!/bin/bash
# snapshotctl's command line, without root or the kernel module: every
# command and option of --help is in the man page, the exit statuses of the
# help footer are those of the man page, bad arguments exit 2 with one line
# on stderr, the offline commands (check, dump, apply) give the documented
# exit statuses on image files, and the bash completion parses.
#   snapshotctl.sh BINARY MAN_PAGE
bin=$1 man=$2
. "$(dirname "$0")/lib.sh"
EXPECT_CMD=("$bin")
completion=$(dirname "$0")/../../dist/bash-completion/snapshotctl
# Never the real /etc/dynsnap.
export DYNSNAP_CONFIG_DIR=$tmp/etc



plain_man "$man" >"$tmp/man"
# section_of CMD: the man page's text for command CMD, from its .SS line
# to the next .SS or .SH.
section_of() {
	awk -v cmd="$1" '
		/^\.S[SH] / { on = 0 }
		$1 == ".SS" && $2 == cmd { on = 1 }
		on' "$tmp/man"
}
# synopsis_of CMD: the lines of CMD in the SYNOPSIS.
synopsis_of() {
	awk -v cmd="$1" '
		$0 == ".B snapshotctl " cmd { on = 1 }
		on && /^\.(br|PP|SH)/ { on = 0 }
		on' "$tmp/man"
}

# ---- the man page renders without warnings
if out=$(groff -man -ww -z "$man" 2>&1) && [ -z "$out" ]; then
	ok "man page renders without warnings"
elif ! command -v groff >/dev/null; then
	echo "skip - groff is not installed: rendering not checked"
else
	fail "groff warns about the man page: $out"
fi

# ---- commands and options of --help against the man page
"$bin" --help >"$tmp/help" 2>&1 || fail "snapshotctl --help exits $?"
commands=$(sed -n '/^Subcommands:/,/^$/p' "$tmp/help" | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
[ "$(echo "$commands" | wc -w)" -ge 19 ] || fail "--help lists only: $commands"
for o in --config-dir --version -h --help; do
	sed -n '/^\.SH OPTIONS/,/^\.SH COMMANDS/p' "$tmp/man" >"$tmp/sect"
	has_option "$tmp/sect" "$o" || fail "global option $o is not in the man page's OPTIONS"
done
for c in $commands; do
	section_of "$c" >"$tmp/sect"
	synopsis_of "$c" >"$tmp/syn"
	if [ ! -s "$tmp/sect" ]; then
		fail "command $c has no section (.SS $c) in the man page"
		continue
	fi
	[ -s "$tmp/syn" ] || fail "command $c is not in the man page's SYNOPSIS"
	rc=0
	"$bin" "$c" --help >"$tmp/chelp" 2>&1 || rc=$?
	if [ "$rc" != 0 ] || ! grep -q "^Usage: snapshotctl $c " "$tmp/chelp"; then
		fail "snapshotctl $c --help: exit $rc"
		continue
	fi
	missing=""
	for o in $(sed -n '/^Options:/,/^$/p' "$tmp/chelp" |
		grep -oE '^  (-[a-zA-Z],)?--[a-z-]+' | tr ',' ' '); do
		case $o in -h | --help) continue ;; esac
		has_option "$tmp/sect" "$o" || missing+=" $o (section)"
		has_option "$tmp/syn" "$o" || missing+=" $o (synopsis)"
	done
	if [ -n "$missing" ]; then
		fail "options of snapshotctl $c missing in the man page:$missing"
	else
		ok "snapshotctl $c: --help exits 0, its options are in the man page"
	fi
done
# No section for a command --help does not list.
for c in $(sed -n '/^\.SH COMMANDS/,/^\.SH /p' "$tmp/man" | awk '$1 == ".SS" { print $2 }'); do
	echo "$commands" | grep -qx "$c" || fail "the man page documents '$c', which --help does not list"
done

# ---- exit statuses: the help footer, every command's, and the man page
footer() { sed -n '/^Exit status:/,/^See /p'; }
footer <"$tmp/help" >"$tmp/footer"
codes=$(grep -oE '(^Exit status: |^|; )[0-9]+ ' "$tmp/footer" | grep -oE '[0-9]+' | sort -n | tr '\n' ' ')
man_codes=$(sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$tmp/man" |
	awk 'prev == ".TP" && $1 == ".B" { print $2 } { prev = $0 }' | sort -n | tr '\n' ' ')
if [ "$codes" = "0 1 2 3 4 5 6 " ] && [ "$codes" = "$man_codes" ]; then
	ok "exit statuses 0-6 in the help footer and the man page"
else
	fail "exit statuses: help footer '$codes', man page '$man_codes'"
fi
# Each status means the same: the footer's first word starts the man
# page's description.
for n in $codes; do
	word=$(tr '\n' ' ' <"$tmp/footer" | grep -oE "(: |; )$n [a-z]+" | awk '{ print $NF }')
	desc=$(sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$tmp/man" |
		awk -v n="$n" 'found { print; exit } $0 == ".B " n { found = 1 }')
	echo "$desc" | grep -qi "^$word" ||
		fail "exit status $n: footer says '$word', man page '$desc'"
done
for c in $commands; do
	"$bin" "$c" --help 2>&1 | footer | cmp -s - "$tmp/footer" ||
		fail "snapshotctl $c --help has another exit status footer"
done

expect "version" 0 "^snapshotctl [0-9]+\.[0-9]+\.[0-9]+" --version

# ---- bad arguments: exit 2, one line on stderr
expect_err "no command" 2 "subcommand is required"
expect_err "unknown command" 2 "try snapshotctl --help" frobnicate
expect_err "unknown option" 2 "not expected: --bogus" list vol --bogus
expect_err "missing argument" 2 "NAME is required" create vol
expect_err "missing option value" 2 "config-dir" --config-dir
expect_err "missing required option" 2 "--fast is required" setup vol --origin /dev/null
expect_err "bad --granularity" 2 "fine not in" setup vol --origin /dev/null --fast /dev/null --granularity fine
expect_err "bad --on-full" 2 "never not in" setup vol --origin /dev/null --fast /dev/null --on-full never
expect_err "bad --width" 2 "wide" map vol --width wide
expect_err "three devices to check" 2 "At Most 2" check a b c
expect_err "bad snapshot name" 2 "invalid snapshot name" create vol "bad name"
expect_err "bad volume name" 2 "invalid volume name" setup bad/name --origin /dev/null --fast /dev/null
expect_err "activate without volumes" 2 "give --all" activate
expect_err "activate with volumes and --all" 2 "not both" activate --all vol
# Arguments are checked before device-mapper is asked anything.
expect_err "bad --keep rule" 2 "bad --keep rule" \
	setup "cli-test-$$" --origin "$tmp/none" --fast "$tmp/none" --keep 1h:1m
expect_err "malformed --keep rule" 2 "bad --keep rule" \
	setup "cli-test-$$" --origin "$tmp/none" --fast "$tmp/none" --keep 1x:2s
expect_err "block size not a power of two" 2 "power of two" \
	setup "cli-test-$$" --origin "$tmp/none" --fast "$tmp/none" --block-size 3K
expect_err "schedule with a bad rule" 2 "bad --keep rule" schedule vol --keep 1x:2s
rc=0
"$bin" activate --all >"$tmp/out" 2>&1 || rc=$?
if [ "$rc" = 0 ] && [ ! -s "$tmp/out" ]; then
	ok "activate --all with nothing remembered: nothing to do"
else
	fail "activate --all with nothing remembered: exit $rc, output: $(cat "$tmp/out")"
fi

# ---- check and dump, offline
truncate -s 16M "$tmp/zero.img"
head -c 1M /dev/urandom >"$tmp/random.img"
expect_err "check of a missing file" 3 "cannot open" check "$tmp/none"
expect_err "dump of a missing file" 3 "cannot open" dump "$tmp/none"
expect_err "check of a zeroed image" 3 "holds no dynsnap store" check "$tmp/zero.img"
rc=0
"$bin" dump "$tmp/zero.img" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ "$rc" = 3 ] && python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(d["store_present"] is not False)' "$tmp/out"; then
	ok "dump of a zeroed image: exit 3, JSON with store_present false"
else
	fail "dump of a zeroed image: exit $rc, output: $(head -c 300 "$tmp/out")"
fi
expect "check of a random image" 5 "^damaged: fast byte 0: .*magic mismatch" check "$tmp/random.img"
rc=0
"$bin" check --json "$tmp/random.img" >"$tmp/out" 2>/dev/null || rc=$?
if [ "$rc" = 5 ] && python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(d["sound"] is not False or not d["problems"])' "$tmp/out"; then
	ok "check --json of a random image: exit 5, not sound"
else
	fail "check --json of a random image: exit $rc, output: $(head -c 300 "$tmp/out")"
fi

# ---- apply: garbage and streams made from the documented format
# (docs/admin-guide.md, Export streams), on image files.
# make_stream VOLUME_BYTES [OFFSET:BYTE:LENGTH...]: a stream from snapshot
# 1 to snapshot 2 whose extents hold LENGTH bytes of BYTE at OFFSET.
make_stream() {
	python3 - "$@" <<'EOF'
import struct, sys
T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    T.append(c)
def crc(data, c=0xFFFFFFFF):
    for b in data:
        c = T[(c ^ b) & 0xFF] ^ (c >> 8)
    return c
volume = int(sys.argv[1])
h = bytearray(256)
struct.pack_into('<QIIIIQ', h, 0, 0x314d5254534e5344, 0, 1, 0, 4096, volume)
h[32:48] = bytes(range(1, 17))
struct.pack_into('<7Q', h, 48, 1, 1, 10**18, 2, 2, 10**18 + 10**9, 10**18 + 2 * 10**9)
h[104] = 2; h[105] = 2
h[112:114] = b's1'; h[176:178] = b's2'
tag = crc(h[12:256]) ^ 0x6a3c19e5
struct.pack_into('<I', h, 8, tag)
out = bytearray(h)
running = crc(h)
total = 0
for i, arg in enumerate(sys.argv[2:]):
    off, byte, length = (int(x) for x in arg.split(':'))
    data = bytes([byte]) * length
    e = bytearray(40)
    struct.pack_into('<IIQQIIII', e, 0, 0, 0x45534e44, i, off, length, crc(data), tag, 0)
    struct.pack_into('<I', e, 0, crc(e[4:40]) ^ 0x3b8d02c1)
    running = crc(e, running)
    out += e + data
    total += length
t = bytearray(40)
struct.pack_into('<IIQQIIQ', t, 0, 0, 0x54534e44, len(sys.argv) - 2, total, running, tag, 0)
struct.pack_into('<I', t, 0, crc(t[4:40]) ^ 0x71e4a95d)
sys.stdout.buffer.write(out + t)
EOF
}
# unchanged DESC: the target still holds its reference copy.
unchanged() {
	if cmp -s "$tmp/target" "$tmp/target.ref"; then ok "$1: target unchanged"; else fail "$1: target changed"; fi
}
head -c 65536 /dev/urandom >"$tmp/target.ref"
cp "$tmp/target.ref" "$tmp/target"
head -c 4096 /dev/urandom >"$tmp/garbage"
expect_err "apply of a garbage file" 2 "magic mismatch: not a dynsnap export stream" apply "$tmp/garbage" "$tmp/target"
unchanged "apply of a garbage file"
{ printf 'DSNSTRM1'; head -c 4096 /dev/urandom; } >"$tmp/garbage"
expect_err "apply of garbage after the stream magic" 5 "export stream" apply "$tmp/garbage" "$tmp/target"
unchanged "apply of garbage after the stream magic"
: >"$tmp/empty"
expect_err "apply of an empty file" 5 "export stream truncated" apply "$tmp/empty" "$tmp/target"
expect_err "apply of a missing stream" 3 "cannot open" apply "$tmp/none" "$tmp/target"
expect_err "apply to a missing target" 3 "cannot open" apply "$tmp/garbage" "$tmp/none"
expect_err "apply to a directory" 2 "neither a regular file nor a block device" apply "$tmp/garbage" "$tmp"
expect_err "apply of a stream to itself" 2 "is the stream itself" apply "$tmp/garbage" "$tmp/garbage"

if make_stream 65536 100:65:5 8192:255:3000 >"$tmp/good.stream"; then
	make_stream 131072 100:65:5 >"$tmp/big.stream"
	expect_err "apply to a target of another size" 2 "holds 65536 bytes, the volume of the stream 131072" \
		apply "$tmp/big.stream" "$tmp/target"
	unchanged "apply to a target of another size"
	cp "$tmp/good.stream" "$tmp/bad.stream"
	printf '\x00' | dd of="$tmp/bad.stream" bs=1 seek=$((256 + 40 + 5 + 40 + 1000)) conv=notrunc status=none
	expect_err "apply of a stream with damaged data" 5 "data checksum mismatch" apply "$tmp/bad.stream" "$tmp/target"
	unchanged "apply of a stream with damaged data"
	{ cat "$tmp/good.stream"; printf x; } >"$tmp/bad.stream"
	expect_err "apply of a stream with a byte after it" 5 "bytes after its trailer" apply "$tmp/bad.stream" "$tmp/target"
	unchanged "apply of a stream with a byte after it"
	head -c -1 "$tmp/good.stream" >"$tmp/bad.stream"
	expect_err "apply of a truncated stream" 5 "truncated" apply "$tmp/bad.stream" "$tmp/target"
	unchanged "apply of a truncated stream"
	make_stream 65536 >"$tmp/none.stream"
	[ "$(stat -c %s "$tmp/none.stream")" = 296 ] || fail "a stream without changes is not 296 bytes"
	expect "apply of a stream without changes" 0 "it now holds snapshot 2 's2' \(0 extents" \
		apply "$tmp/none.stream" "$tmp/target"
	unchanged "apply of a stream without changes"
	expect "apply of a stream" 0 "it now holds snapshot 2 's2' \(2 extents" apply "$tmp/good.stream" "$tmp/target"
	python3 - "$tmp/target.ref" "$tmp/target" <<'EOF' && ok "apply wrote the extents, nothing else" || fail "apply wrote other bytes than the extents"
import sys
want = bytearray(open(sys.argv[1], 'rb').read())
want[100:105] = b'A' * 5
want[8192:11192] = b'\xff' * 3000
sys.exit(open(sys.argv[2], 'rb').read() != bytes(want))
EOF
else
	fail "cannot build a stream with python3"
fi

# ---- bash completion
if bash -n "$completion"; then ok "bash completion parses"; else fail "bash -n $completion"; fi
completed=$(sed -n '/local commands="/,/"/p' "$completion" | tr -d '"' | sed 's/local commands=//' | tr -s ' \t\n' '\n' | grep . | sort)
if [ "$completed" = "$(echo "$commands" | sort)" ]; then
	ok "bash completion knows every command"
else
	fail "bash completion commands differ from --help: $(echo $completed)"
fi

finish

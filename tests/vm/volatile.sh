# shellcheck shell=bash
# Disks with a volatile write cache for the crash tests, inside the test VM
# (sourced after lib.sh): each is one of the VM's disks served by nbdkit
# with the dsnvolatile plugin (tests/tools/volatile_disk) over a unix
# socket, and used through the kernel's nbd driver. A write is durable on
# the disk under it only after a flush or as a FUA write; vc_cut is the
# power cut.
#
#   vc_up NAME DISK [MIB [FREEZE_RANGE]]  serve DISK (its first MIB MiB,
#                         all of it for an empty MIB); prints the nbd
#                         device to use. FREEZE_RANGE (FIRST-END, bytes) is
#                         where vc_freeze cuts the power inside a write
#   vc_cut NAME KEEP SEED [MARK...]  kill the server (SIGKILL), disconnect,
#                         and keep what KEEP (none, all, random, torn)
#                         chooses of the cache; prints the cut's report
#                         (JSON), counting apart the writes of each MARK
#                         (NAME:FIRST-END, bytes)
#   vc_down NAME          a clean stop: everything written is kept
#   vc_down_all           vc_down every disk still up (for cleanup traps)
#   vc_fail NAME read|write|drop  from now on every read (or write) of the
#                         disk fails with EIO (nbdkit's error filter), or
#                         (drop) every write is acknowledged and dropped
#   vc_heal NAME          no more injected errors or drops
#   vc_freeze NAME        arm it: the next write over FREEZE_RANGE never
#                         completes (the server hangs in it: the power cut
#                         comes inside that write; then vc_cut)
#   vc_frozen NAME        true once a write froze
#   vc_dropped NAME       print the path of the journal of dropped writes
#                         (it outlives vc_down and vc_up; vc_forget_dropped
#                         NAME empties it)
# State in /run/dsn-volatile/NAME.{sock,journal,pid,nbd,disk,fail-*,dropped}.

VC_DIR=/run/dsn-volatile
VC_PLUGIN=${DYNSNAP_BUILD:-}/tests/tools/volatile_disk/nbdkit-dsnvolatile-plugin.so
VC_CUT=${DYNSNAP_BUILD:-}/tests/tools/volatile_disk/dsn-volatile-cut

# vc_require: skip unless nbdkit, nbd-client, the nbd driver and the plugin
# are there.
vc_require() {
	command -v nbdkit >/dev/null || skip "nbdkit is not installed (Debian package nbdkit)"
	command -v nbd-client >/dev/null || skip "nbd-client is not installed (Debian package nbd-client)"
	[ -f "$VC_PLUGIN" ] || die "$VC_PLUGIN not built (cmake --build build)"
	[ -x "$VC_CUT" ] || die "$VC_CUT not built (cmake --build build)"
	vc_load_nbd 8
	mkdir -p "$VC_DIR"
}

# vc_load_nbd COUNT: the nbd driver loaded with at least COUNT devices. An
# earlier test may have loaded it with fewer; it is reloaded when none of
# its devices is attached.
vc_load_nbd() {
	local have d
	if [ -d /sys/module/nbd ]; then
		have=$(cat /sys/module/nbd/parameters/nbds_max 2>/dev/null || echo 0)
		[ "$have" -ge "$1" ] && return 0
		for d in /sys/block/nbd*; do
			[ -e "$d/pid" ] && die "the nbd driver has $have devices and ${d##*/} is in use"
		done
		modprobe -r nbd || die "cannot unload the nbd driver to load it with $1 devices"
	fi
	modprobe nbd nbds_max="$1" || skip "the kernel has no nbd driver"
}

# vc_free_nbd: print the first nbd device not in use.
vc_free_nbd() {
	local d
	for d in /sys/block/nbd*; do
		[ -e "$d/pid" ] && continue
		echo "/dev/${d##*/}"
		return 0
	done
	die "no free nbd device"
}

vc_up() {
	local name=$1 disk=$2 s=$VC_DIR/$1 nbd i extra=()
	[ -z "${3:-}" ] || extra=(size-mib="$3")
	[ -z "${4:-}" ] || extra+=(freeze-trigger="$s.freeze" freeze-range="$4")
	rm -f "$s.sock" "$s.pid" "$s.fail-read" "$s.fail-write" "$s.fail-drop" "$s.freeze" \
		"$s.freeze.hit"
	# The error filter injects nothing, and the plugin drops nothing, until
	# vc_fail creates their file.
	nbdkit --unix "$s.sock" --pidfile "$s.pid" --filter=error "$VC_PLUGIN" \
		medium="$disk" journal="$s.journal" cache-mib="${VC_CACHE_MIB:-32}" \
		drop-trigger="$s.fail-drop" drop-journal="$s.dropped" "${extra[@]}" \
		error-pread-rate=100% error-pread-file="$s.fail-read" \
		error-pwrite-rate=100% error-pwrite-file="$s.fail-write" >&2 ||
		die "cannot serve $disk with a volatile cache"
	for ((i = 0; i < 100; i++)); do
		[ -S "$s.sock" ] && [ -s "$s.pid" ] && break
		sleep 0.1
	done
	[ -S "$s.sock" ] || die "nbdkit for $disk did not start"
	nbd=$(vc_free_nbd)
	nbd-client -unix "$s.sock" "$nbd" -b 512 >&2 || die "nbd-client cannot attach $nbd to $disk"
	for ((i = 0; i < 100; i++)); do
		[ "$(blockdev --getsz "$nbd" 2>/dev/null || echo 0)" -gt 0 ] && break
		sleep 0.1
	done
	echo "$nbd" >"$s.nbd"
	echo "$disk" >"$s.disk"
	echo "$nbd"
}

# vc_stop NAME SIGNAL: stop the server and detach its nbd device.
vc_stop() {
	local s=$VC_DIR/$1 pid i
	pid=$(cat "$s.pid" 2>/dev/null || true)
	# Killed first, so nothing in flight reaches the disk; detached before
	# anything waits for I/O that will never complete.
	[ -z "$pid" ] || kill "-$2" "$pid" 2>/dev/null || true
	nbd-client -d "$(cat "$s.nbd")" >/dev/null 2>&1 || true
	for ((i = 0; i < 100; i++)); do
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	rm -f "$s.pid" "$s.sock"
}

vc_cut() {
	local s=$VC_DIR/$1 marks=() m
	for m in "${@:4}"; do
		marks+=(--mark "$m")
	done
	vc_stop "$1" KILL
	"$VC_CUT" --medium "$(cat "$s.disk")" --journal "$s.journal" --keep "$2" --seed "$3" \
		"${marks[@]}" ||
		die "cannot apply the power cut to $(cat "$s.disk")"
	rm -f "$s.nbd"
}

vc_down() {
	vc_cut "$1" all 0 >/dev/null
}

vc_down_all() {
	local f
	for f in "$VC_DIR"/*.nbd; do
		[ -e "$f" ] || continue
		f=${f##*/}
		vc_down "${f%.nbd}"
	done
}

vc_fail() {
	case "$2" in
	read | write | drop) : >"$VC_DIR/$1.fail-$2" ;;
	*) die "vc_fail: read, write or drop, not '$2'" ;;
	esac
}

vc_heal() {
	rm -f "$VC_DIR/$1.fail-read" "$VC_DIR/$1.fail-write" "$VC_DIR/$1.fail-drop"
}

vc_freeze() {
	: >"$VC_DIR/$1.freeze"
}

vc_frozen() {
	[ -e "$VC_DIR/$1.freeze.hit" ]
}

vc_dropped() {
	echo "$VC_DIR/$1.dropped"
}

# Emptied, not removed: a server that is up keeps appending to it.
vc_forget_dropped() {
	: >"$VC_DIR/$1.dropped"
}

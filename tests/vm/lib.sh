# shellcheck shell=bash
# Helpers for the dynsnap VM tests (tests/vm/NNNN-*.sh), sourced first by
# every test:
#
#   . "$(dirname "$0")/lib.sh"
#
# Tests run as root inside the test VM started by tools/vmtest, with these
# variables set by the guest runner (tools/vm/guest-run):
#   DYNSNAP_SRC      repository path (read-only view; writes stay in the VM)
#   DYNSNAP_KO       path of dm-dynsnap.ko, empty when run with --no-module
#   DYNSNAP_FAST     first NVMe disk (default /dev/nvme0n1)
#   DYNSNAP_SLOW     first virtio disk (default /dev/vda)
#   DYNSNAP_ORIGIN   second virtio disk (/dev/vdb), only set when attached
#   DYNSNAP_DISKS    all attached disks, in --disk order, space separated
#   DYNSNAP_DISK_BYTES  their requested sizes in bytes, same order
#   DYNSNAP_RESULTS  per-test writable directory kept on the host
#   DYNSNAP_TEST     name of the running test
#   DM_DISABLE_UDEV=1 (no udev in the VM: dmsetup creates the nodes itself)
# Exit codes: 0 pass, 77 skip, anything else fail.  Any kernel warning,
# oops, lockup etc. in dmesg during the test fails it too.

set -euo pipefail

# log MSG...: print a timestamped progress line.
log() {
	echo "[$(date -u +%H:%M:%S)] $*"
}

# die MSG...: fail the test with a message.
die() {
	echo "FAIL: $*" >&2
	exit 1
}

# skip MSG...: end the test as skipped (exit code 77).
skip() {
	echo "SKIP: $*"
	exit 77
}

# dynsnap_load: insmod $DYNSNAP_KO unless dm_dynsnap is loaded, then check
# that device-mapper lists the dynsnap target.  Skips the test when there is
# no module (--no-module).
dynsnap_load() {
	[ -n "${DYNSNAP_KO:-}" ] || skip "no dm-dynsnap module (run without --no-module)"
	if [ ! -d /sys/module/dm_dynsnap ]; then
		insmod "$DYNSNAP_KO" || die "insmod $DYNSNAP_KO failed"
	fi
	dmsetup targets | grep -qw '^dynsnap' ||
		die "dm_dynsnap is loaded but dmsetup targets does not list dynsnap"
}

# dynsnap_unload: rmmod dm_dynsnap if it is loaded.
dynsnap_unload() {
	if [ -d /sys/module/dm_dynsnap ]; then
		rmmod dm_dynsnap || die "rmmod dm_dynsnap failed"
	fi
}

# wipe_dev DEV [MiB]: zero the first MiB(s) of DEV (default 1).
wipe_dev() {
	dd if=/dev/zero of="$1" bs=1M count="${2:-1}" oflag=direct conv=fsync status=none ||
		die "cannot wipe $1"
}

# dev_sectors DEV: print the size of DEV in 512-byte sectors.
dev_sectors() {
	blockdev --getsz "$1"
}

# expect_fail DESC CMD...: run CMD, which must fail; fails the test if it
# succeeds.  CMD's stderr is shown.
expect_fail() {
	local desc=$1 err rc=0
	shift
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	[ -z "$err" ] || printf '%s\n' "$err" | sed 's/^/  stderr: /'
	[ "$rc" -ne 0 ] || die "expected failure but succeeded: $desc ($*)"
	log "failed as expected (rc $rc): $desc"
}

# assert_eq A B DESC: fail the test unless A equals B (as strings).
assert_eq() {
	[ "$1" = "$2" ] || die "$3: '$1' != '$2'"
}

# retry N CMD...: run CMD up to N times, one second apart, until it
# succeeds (for dmsetup remove racing with closers); fails the test if it
# never does.
retry() {
	local n=$1 i
	shift
	for ((i = 1; i <= n; i++)); do
		"$@" && return 0
		[ "$i" -lt "$n" ] && sleep 1
	done
	die "failed $n times: $*"
}

# shellcheck shell=bash
# Helpers for VM tests of the dynsnap target, sourced after lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/dynsnap.sh"
#
# Devices (override through the environment):
#   DYNSNAP_FAST    fast tier (NVMe)           default /dev/nvme0n1
#   DYNSNAP_SLOW    slow tier (virtio "HDD")   default /dev/vda
#   DYNSNAP_ORIGIN  the protected volume       default /dev/vdb

: "${DYNSNAP_FAST:=/dev/nvme0n1}"
: "${DYNSNAP_SLOW:=/dev/vda}"
: "${DYNSNAP_ORIGIN:=/dev/vdb}"
: "${DYNSNAP_BUILD:=${DYNSNAP_SRC:-.}/build}"

# dsn_require_disks: skip unless all three test disks exist.
dsn_require_disks() {
	local d
	for d in "$DYNSNAP_FAST" "$DYNSNAP_SLOW" "$DYNSNAP_ORIGIN"; do
		[ -b "$d" ] || skip "missing test disk $d"
	done
}

# dsn_setup: how most tests start: skip without the test disks, load the
# module, and zero both tiers so that the next table formats a new store.
dsn_setup() {
	dsn_require_disks
	dynsnap_load
	dsn_wipe_tiers
}

# dsn_devt DEV: print DEV as major:minor, the way dm prints devices back.
dsn_devt() {
	local dev
	dev=$(readlink -f "$1")
	printf '%d:%d\n' "0x$(stat -c %t "$dev")" "0x$(stat -c %T "$dev")"
}

# dsn_wipe_tiers: zero the superblocks of both tiers, so the next table
# load formats a new store.
dsn_wipe_tiers() {
	wipe_dev "$DYNSNAP_FAST"
	wipe_dev "$DYNSNAP_SLOW"
}

# dsn_len [BLOCK_SECTORS]: origin size rounded down to whole blocks.
dsn_len() {
	local block=${1:-128} size
	size=$(dev_sectors "$DYNSNAP_ORIGIN")
	echo $((size / block * block))
}

# dsn_create NAME TABLE: create a dm device and its node in /dev/mapper.
dsn_create() {
	dmsetup create "$1" --table "$2" || die "dmsetup create $1 '$2' failed"
	dmsetup mknodes "$1"
	[ -b "/dev/mapper/$1" ] || die "/dev/mapper/$1 missing after create"
}

# dsn_remove NAME: remove a dm device, retrying while something closes it.
dsn_remove() {
	retry 5 dmsetup remove "$1"
}

# dsn_status NAME: the target's own status fields (after start, length and
# target name).
dsn_status() {
	dmsetup status "$1" | cut -d' ' -f4-
}

# dsn_status_field NAME N: the Nth field (1-based) of dsn_status.
dsn_status_field() {
	dsn_status "$1" | cut -d' ' -f"$2"
}

# dsn_kmsg_mark: print a marker for dsn_kmsg_since (the number of kernel
# log lines so far). The runner clears the log before each test and scans
# all of it afterwards, so tests never clear it themselves.
dsn_kmsg_mark() {
	dmesg | wc -l
}

# dsn_kmsg_since MARK: kernel log lines after MARK.
dsn_kmsg_since() {
	dmesg | tail -n +"$(($1 + 1))"
}

# expect_table_error DESC MESSAGE TABLE: loading TABLE must fail, the kernel
# must log "dynsnap: MESSAGE", and no device may be left behind.
expect_table_error() {
	local desc=$1 msg=$2 table=$3 mark
	mark=$(dsn_kmsg_mark)
	if dmsetup create dsn_bad --table "$table" 2>/dev/null; then
		dmsetup remove dsn_bad || true
		die "$desc: table was accepted: $table"
	fi
	dsn_kmsg_since "$mark" | grep -qF "dynsnap: $msg" || {
		dsn_kmsg_since "$mark" | sed 's/^/  kmsg: /'
		die "$desc: kernel did not log 'dynsnap: $msg'"
	}
	! dmsetup info dsn_bad >/dev/null 2>&1 || die "$desc: dsn_bad left behind"
	log "ok - $desc: $msg"
}

# dsn_sb_bytes DEV: hex dump of the 4 KiB superblock block of DEV.
dsn_sb_bytes() {
	dd if="$1" bs=4096 count=1 iflag=direct status=none | od -An -tx1 -v | tr -d ' \n'
}

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

# ---------------------------------------------------------------------------
# Snapshots: the message interface, views, and the test oracle.
#
#   dmsetup message DEV 0 snap_create NAME     prints the new snapshot's id
#   dmsetup message DEV 0 snap_delete ID
#   dmsetup message DEV 0 snap_list            "ID NAME CTIME EXCLUSIVE_BYTES" lines
#   dmsetup message DEV 0 set_granularity block|sub|bit FIRST_REGION [COUNT]
#   view table: "0 LEN dynsnap-view /dev/mapper/DEV ID"
#
# dsn-oracle (tests/tools/) writes deterministic random data and compares
# devices with per-chunk reference sums; exit 0 equal, 1 different data,
# 2 usage or I/O error, 3 EIO (every readable chunk matched), 4 ENOSPC.

: "${DSN_ORACLE:=$DYNSNAP_BUILD/tests/tools/dsn-oracle}"

# dsn_require_oracle: fail unless dsn-oracle is built.
dsn_require_oracle() {
	[ -x "$DSN_ORACLE" ] || die "$DSN_ORACLE not built (cmake --build build)"
}

# dsn_oracle ARGS...: run dsn-oracle.
dsn_oracle() {
	"$DSN_ORACLE" "$@"
}

# dsn_oracle_rc ARGS...: run dsn-oracle and print its exit code (its output
# goes to stderr), for tests that expect a failure.
dsn_oracle_rc() {
	local rc=0
	"$DSN_ORACLE" "$@" >&2 || rc=$?
	echo "$rc"
}

# dsn_table_len NAME: the length in sectors of a dm device's table.
dsn_table_len() {
	dmsetup table "$1" | awk 'NR == 1 {print $2}'
}

# dsn_snap_create NAME SNAPNAME: create a snapshot of dm device NAME and
# print its id.
dsn_snap_create() {
	local out id
	out=$(dmsetup message "$1" 0 snap_create "$2") || die "snap_create $2 on $1 failed"
	id=$(printf '%s' "$out" | tr -d '[:space:]')
	[[ $id =~ ^[0-9]+$ ]] || die "snap_create $2 on $1 printed '$out', not an id"
	echo "$id"
}

# dsn_snap_delete NAME ID: delete snapshot ID of dm device NAME.
dsn_snap_delete() {
	dmsetup message "$1" 0 snap_delete "$2" >/dev/null || die "snap_delete $2 on $1 failed"
}

# dsn_snap_list NAME: the snap_list lines of dm device NAME.
dsn_snap_list() {
	local out
	out=$(dmsetup message "$1" 0 snap_list) || die "snap_list on $1 failed"
	[ -z "$out" ] || printf '%s\n' "$out"
}

# dsn_snap_ids NAME: the ids snap_list shows, one a line, ascending.
dsn_snap_ids() {
	local out
	out=$(dsn_snap_list "$1") || exit 1
	[ -z "$out" ] || printf '%s\n' "$out" | awk '{print $1}' | sort -n
}

# dsn_snap_count NAME: snapshots retained, from the status line (field 2).
dsn_snap_count() {
	dsn_status_field "$1" 2
}

# dsn_set_granularity NAME LEVEL FIRST_REGION [COUNT]: level of regions
# from the next snapshot on.
dsn_set_granularity() {
	local dev=$1
	shift
	dmsetup message "$dev" 0 set_granularity "$@" >/dev/null ||
		die "set_granularity $* on $dev failed"
}

# Tests that keep a model of the volume in a file: $dev is the volume (dm
# device dsn), $model its model, SNAP an associative array of snapshot ids
# by name, all the caller's.
#
# dsn_model_write ARGS...: the same seeded writes (dsn-oracle write --seed
# ARGS) to the volume and to the model.
dsn_model_write() {
	dsn_oracle write "$dev" --seed "$@" || die "writes to the volume failed"
	dsn_oracle write "$model" --seed "$@" >/dev/null || die "writes to the model failed"
}

# dsn_model_snap NAME: check the volume against the model, save the
# model's sums as /tmp/ref.NAME, take snapshot NAME and keep its id in SNAP.
dsn_model_snap() {
	dsn_reference "$model" "/tmp/ref.$1"
	dsn_compare "$dev" "/tmp/ref.$1" "volume before snapshot $1"
	SNAP[$1]=$(dsn_snap_create dsn "$1")
	log "snapshot $1: id ${SNAP[$1]}"
}

# dsn_view_create VIEW NAME ID: a read-only view of snapshot ID of dm device
# NAME, as /dev/mapper/VIEW.
dsn_view_create() {
	dsn_create "$1" "0 $(dsn_table_len "$2") dynsnap-view /dev/mapper/$2 $3"
}

# dsn_reference DEV FILE: save DEV's per-chunk sums in FILE.
dsn_reference() {
	dsn_oracle sums "$1" -o "$2" || die "dsn-oracle sums $1 failed"
}

# dsn_compare DEV REF DESC: DEV must equal the reference REF.
dsn_compare() {
	local rc=0
	dsn_oracle compare "$1" "$2" || rc=$?
	[ "$rc" -eq 0 ] || die "$3: $1 does not match $2 (dsn-oracle compare exit $rc)"
}

# dsn_view_check NAME ID REF [VIEW]: create a view of snapshot ID, compare
# it with REF, remove it; fails the test unless every byte matches.
dsn_view_check() {
	local dev=$1 id=$2 ref=$3 view=${4:-dsn_view} rc=0
	dsn_view_create "$view" "$dev" "$id"
	dsn_oracle compare "/dev/mapper/$view" "$ref" || rc=$?
	dsn_remove "$view"
	[ "$rc" -eq 0 ] ||
		die "view of snapshot $id of $dev differs from its reference $ref (dsn-oracle compare exit $rc)"
}

# dsn_expect_no_view NAME ID DESC: a view of snapshot ID must be refused,
# and no device left behind.
dsn_expect_no_view() {
	local len
	len=$(dsn_table_len "$1")
	if dmsetup create dsn_noview --table "0 $len dynsnap-view /dev/mapper/$1 $2" 2>/dev/null; then
		dmsetup remove dsn_noview || true
		die "$3: a view of snapshot '$2' of $1 was created"
	fi
	! dmsetup info dsn_noview >/dev/null 2>&1 || die "$3: dsn_noview left behind"
	log "refused as expected: $3"
}

# dsn_events NAME: the dm event counter of NAME.
dsn_events() {
	dmsetup info -c --noheadings -o events "$1" | tr -d ' '
}

# dsn_region_levels NAME: regions at each level in the current epoch, as
# BLOCK/SUB/BIT (status field 9, after generation and epoch).
dsn_region_levels() {
	dsn_status_field "$1" 9
}

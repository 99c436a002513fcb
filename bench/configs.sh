# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # SNAP_NS is for bench/suite.sh
# The configurations bench/suite.sh compares, behind one set of functions:
#
#   cfg_up CFG SECTORS    the volume /dev/mapper/bench, SECTORS long, no snapshot
#   cfg_snapshot CFG      take one more snapshot (the way its documentation
#                         says); SNAP_NS is how long the commands that take
#                         it ran (not the preparation of a COW device)
#   cfg_rotate CFG        delete the oldest snapshot (if any), take a new one
#   cfg_stored_bytes CFG  bytes the snapshots use on their devices
#   cfg_deltas CFG        preserved pieces the snapshots hold (dynsnap delta
#                         records, dm-snapshot exceptions, dm-thin data blocks
#                         beyond the volume's own)
#   cfg_view_up CFG       print a readable device of the newest snapshot
#   cfg_view_down CFG
#   cfg_deactivate CFG    remove the devices, keep everything on disk
#   cfg_activate CFG      bring the volume and its snapshots back
#   cfg_down CFG          remove everything
#
# Disks (the same for every configuration, used one configuration at a time):
#   fast (NVMe)      dynsnap's fast tier, dm-snapshot's COW devices, dm-thin's
#                    metadata
#   slow (virtio)    dynsnap's slow tier; then a scratch area
#   origin (virtio)  the volume's data: dm-linear, dynsnap's origin,
#                    dm-snapshot's origin, dm-thin's data device

FAST_TIER_SECT=$((6 * 2097152))	# dynsnap fast tier: the first 6 GiB of fast
SLOW_TIER_SECT=$((6 * 2097152))	# dynsnap slow tier: the first 6 GiB of slow
COW_BASE=$FAST_TIER_SECT		# dm-snapshot COW devices follow on fast
THIN_META_SECT=$((256 * 2048))	# dm-thin metadata: the first 256 MiB of fast
SCRATCH_SECT=$((2 * 2097152))	# scratch: 2 GiB after the slow tier

KIND=		# cfg_kind of the configuration that is up
SNAP_NS=0	# set by cfg_snapshot
CFG_SECT=0	# the volume's length
SNAPS=()	# retained snapshots, oldest first (ids, or COW slots)
NEXT_THIN_ID=1

cfg_kind() {	# CFG: dm-linear, dm-snapshot, dm-thin or dynsnap
	case "$1" in
	dm-linear) echo linear ;;
	dm-snapshot-*) echo snapshot ;;
	dm-thin-*) echo thin ;;
	dynsnap-*) echo dynsnap ;;
	*) die "unknown configuration $1" ;;
	esac
}

cfg_chunk_sect() {	# CFG: dm-snapshot chunk size in sectors (dm-snapshot-4k: 8)
	local kib=${1#dm-snapshot-}
	echo $((${kib%k} * 2))
}

# bench_disks_check: the disks must hold the largest layout of the suite.
bench_disks_check() {
	local need
	need=$((COW_BASE + (MANY + 1) * $(cow_sect "$VOL")))
	[ "$(dev_sectors "$DYNSNAP_FAST")" -ge "$need" ] ||
		die "the fast disk needs $((need / 2048)) MiB for $MANY COW devices"
	[ "$(dev_sectors "$DYNSNAP_SLOW")" -ge $((SLOW_TIER_SECT + SCRATCH_SECT)) ] ||
		die "the slow disk needs $(((SLOW_TIER_SECT + SCRATCH_SECT) / 2048)) MiB"
	[ "$(dev_sectors "$DYNSNAP_ORIGIN")" -ge $((PG_VOL * 4)) ] ||
		die "the origin disk needs $((PG_VOL * 4 / 2048)) MiB"
}

bench_disks_json() {	# the disks as a JSON object
	local role dev
	printf '{'
	for role in fast slow origin; do
		case $role in
		fast) dev=$DYNSNAP_FAST ;;
		slow) dev=$DYNSNAP_SLOW ;;
		origin) dev=$DYNSNAP_ORIGIN ;;
		esac
		printf '"%s": "%s %s, %d MiB"%s' "$role" "${dev#/dev/}" \
			"$(case $dev in /dev/nvme*) echo nvme ;; *) echo virtio ;; esac)" \
			$(($(dev_sectors "$dev") / 2048)) "$([ $role = origin ] || echo ', ')"
	done
	printf '}'
}

# cow_sect SECTORS: a COW device that can hold every chunk of the volume
# and its exception metadata.
cow_sect() {
	echo $(($1 + $1 / 16 + 2048))
}

dynsnap_table() {	# CFG
	echo "0 $CFG_SECT dynsnap $DYNSNAP_ORIGIN /dev/mapper/bench-fast /dev/mapper/bench-slow 128" \
		"4 sub_block_sectors 8 granularity ${1#dynsnap-}"
}

thin_pool_table() {
	echo "0 $(dev_sectors "$DYNSNAP_ORIGIN") thin-pool /dev/mapper/bench-tmeta" \
		"/dev/mapper/bench-tdata 128 0"
}

snapshot_table() {	# CFG SLOT
	echo "0 $CFG_SECT snapshot /dev/mapper/bench-base /dev/mapper/bench-cow$2 P $(cfg_chunk_sect "$1")"
}

cfg_up() {	# CFG SECTORS
	KIND=$(cfg_kind "$1") || exit 1
	CFG_SECT=$2
	SNAPS=()
	case "$KIND" in
	linear) dsn_create bench "0 $CFG_SECT linear $DYNSNAP_ORIGIN 0" ;;
	snapshot)
		dsn_create bench-base "0 $CFG_SECT linear $DYNSNAP_ORIGIN 0"
		dsn_create bench "0 $CFG_SECT snapshot-origin /dev/mapper/bench-base"
		;;
	thin)
		dsn_create bench-tmeta "0 $THIN_META_SECT linear $DYNSNAP_FAST 0"
		wipe_dev /dev/mapper/bench-tmeta
		dsn_create bench-tdata "0 $(dev_sectors "$DYNSNAP_ORIGIN") linear $DYNSNAP_ORIGIN 0"
		dsn_create bench-pool "$(thin_pool_table)"
		dmsetup message bench-pool 0 "create_thin 0" || die "create_thin failed"
		dsn_create bench "0 $CFG_SECT thin /dev/mapper/bench-pool 0"
		NEXT_THIN_ID=1
		;;
	dynsnap)
		dsn_create bench-fast "0 $FAST_TIER_SECT linear $DYNSNAP_FAST 0"
		dsn_create bench-slow "0 $SLOW_TIER_SECT linear $DYNSNAP_SLOW 0"
		wipe_dev /dev/mapper/bench-fast
		wipe_dev /dev/mapper/bench-slow
		dsn_create bench "$(dynsnap_table "$1")"
		;;
	esac
}

# snapshot_free_slot: the lowest COW slot no retained snapshot uses.
snapshot_free_slot() {
	local slot=0 s used
	while :; do
		used=0
		for s in "${SNAPS[@]}"; do
			[ "$s" = "$slot" ] && used=1
		done
		[ "$used" = 1 ] || break
		slot=$((slot + 1))
	done
	echo "$slot"
}

cfg_snapshot() {	# CFG (not in a subshell: it updates SNAPS)
	local slot id cow table name t0
	case "$KIND" in
	linear) die "dm-linear has no snapshots" ;;
	snapshot)
		# as LVM does it: a COW volume, then the snapshot loaded while
		# the origin is suspended
		slot=$(snapshot_free_slot)
		cow=$(cow_sect "$CFG_SECT")
		dsn_create "bench-cow$slot" "0 $cow linear $DYNSNAP_FAST $((COW_BASE + slot * cow))"
		dd if=/dev/zero of="/dev/mapper/bench-cow$slot" bs=64k count=1 oflag=direct \
			status=none || die "cannot clear the COW header"
		table=$(snapshot_table "$1" "$slot")
		t0=$(date +%s%N)
		dmsetup suspend bench || die "suspend of the origin failed"
		dmsetup create "bench-snap$slot" --table "$table" || die "cannot create bench-snap$slot"
		dmsetup resume bench || die "resume of the origin failed"
		SNAP_NS=$(($(date +%s%N) - t0))
		dmsetup mknodes "bench-snap$slot"
		SNAPS+=("$slot")
		;;
	thin)
		id=$NEXT_THIN_ID
		NEXT_THIN_ID=$((id + 1))
		t0=$(date +%s%N)
		dmsetup suspend bench || die "suspend of the thin volume failed"
		dmsetup message bench-pool 0 "create_snap $id 0" || die "create_snap $id failed"
		dmsetup resume bench || die "resume of the thin volume failed"
		SNAP_NS=$(($(date +%s%N) - t0))
		SNAPS+=("$id")
		;;
	dynsnap)
		# dmsetup itself, not dsn_snap_create: only the message is timed
		name=s${#SNAPS[@]}-$RANDOM$RANDOM
		t0=$(date +%s%N)
		id=$(dmsetup message bench 0 snap_create "$name") || die "snap_create $name failed"
		SNAP_NS=$(($(date +%s%N) - t0))
		[[ $id =~ ^[0-9]+$ ]] || die "snap_create printed '$id', not an id"
		SNAPS+=("$id")
		;;
	esac
}

cfg_drop_oldest() {	# CFG
	local old=${SNAPS[0]}
	SNAPS=("${SNAPS[@]:1}")
	case "$KIND" in
	snapshot)
		dsn_remove "bench-snap$old"
		dsn_remove "bench-cow$old"
		;;
	thin) dmsetup message bench-pool 0 "delete $old" || die "delete of thin $old failed" ;;
	dynsnap) dsn_snap_delete bench "$old" ;;
	esac
}

cfg_rotate() {	# CFG
	[ "${#SNAPS[@]}" -eq 0 ] || cfg_drop_oldest "$1"
	cfg_snapshot "$1"
}

cfg_stored_bytes() {	# CFG
	local s total=0
	case "$KIND" in
	snapshot)
		for s in "${SNAPS[@]}"; do
			total=$((total + $(dmsetup status "bench-snap$s" |
				awk '{split($4, a, "/"); printf "%.0f\n", a[1] * 512}')))
		done
		echo "$total"
		;;
	thin) dmsetup status bench-pool | awk '{split($6, d, "/"); printf "%.0f\n", d[1] * 65536}' ;;
	dynsnap) dsn_status_field bench 12 ;;
	*) echo 0 ;;
	esac
}

cfg_deltas() {	# CFG
	local s total=0 chunk
	case "$KIND" in
	snapshot)
		chunk=$(cfg_chunk_sect "$1")
		for s in "${SNAPS[@]}"; do
			total=$((total + $(dmsetup status "bench-snap$s" |
				awk -v c="$chunk" '{split($4, a, "/"); print int((a[1] - $5) / c)}')))
		done
		echo "$total"
		;;
	thin)
		dmsetup status bench-pool |
			awk -v own=$((CFG_SECT / 128)) '{split($6, d, "/"); n = d[1] - own; print (n > 0 ? n : 0)}'
		;;
	dynsnap) dsn_status_field bench 5 ;;
	*) echo 0 ;;
	esac
}

cfg_view_up() {	# CFG
	local newest=${SNAPS[${#SNAPS[@]} - 1]}
	case "$KIND" in
	snapshot) echo "/dev/mapper/bench-snap$newest" ;;
	thin)
		dsn_create bench-view "0 $CFG_SECT thin /dev/mapper/bench-pool $newest" >&2
		echo /dev/mapper/bench-view
		;;
	dynsnap)
		dsn_view_create bench-view bench "$newest" >&2
		echo /dev/mapper/bench-view
		;;
	*) die "dm-linear has no snapshots" ;;
	esac
}

cfg_view_down() {	# CFG
	case "$KIND" in
	thin | dynsnap) dsn_remove bench-view ;;
	esac
}

cfg_deactivate() {	# CFG
	local s
	dsn_remove bench
	case "$KIND" in
	snapshot) for s in "${SNAPS[@]}"; do dsn_remove "bench-snap$s"; done ;;
	thin) dsn_remove bench-pool ;;
	esac
}

cfg_activate() {	# CFG
	local s
	case "$KIND" in
	snapshot)
		for s in "${SNAPS[@]}"; do
			dsn_create "bench-snap$s" "$(snapshot_table "$1" "$s")"
		done
		dsn_create bench "0 $CFG_SECT snapshot-origin /dev/mapper/bench-base"
		;;
	thin)
		dsn_create bench-pool "$(thin_pool_table)"
		dsn_create bench "0 $CFG_SECT thin /dev/mapper/bench-pool 0"
		;;
	dynsnap) dsn_create bench "$(dynsnap_table "$1")" ;;
	linear) dsn_create bench "0 $CFG_SECT linear $DYNSNAP_ORIGIN 0" ;;
	esac
}

cfg_down() {	# CFG
	local s
	dsn_remove bench
	case "$KIND" in
	snapshot)
		for s in "${SNAPS[@]}"; do
			dsn_remove "bench-snap$s"
			dsn_remove "bench-cow$s"
		done
		dsn_remove bench-base
		;;
	thin)
		dsn_remove bench-pool
		dsn_remove bench-tdata
		dsn_remove bench-tmeta
		;;
	dynsnap)
		dsn_remove bench-fast
		dsn_remove bench-slow
		;;
	esac
	SNAPS=()
}

#!/bin/bash
# Space efficiency, run inside the VM by tools/run-bench: the bytes each
# configuration stores to keep one snapshot while fio overwrites part of the
# volume with 4 KiB random writes, against the bytes overwritten.
#
# Every configuration gets the same area of the same disk, zeroed first,
# then one snapshot, then the same fio job. Two kinds of new data:
#   random   fio's random buffers: every byte of a written block changes
#   sparse   buffer_compress_percentage=90 over zeroed data: about one
#            byte in ten changes (the rest of each buffer is zeros)
# Results: $DYNSNAP_RESULTS/space.json, one object per configuration and
# kind of data. Nothing here asserts a figure.
. "$DYNSNAP_SRC/tests/vm/lib.sh"
. "$DYNSNAP_SRC/tests/vm/dynsnap.sh"

dsn_require_disks
dynsnap_load

AREA_MIB=${DYNSNAP_BENCH_AREA_MIB:-256}		# the volume every configuration gets
WRITE_MIB=${DYNSNAP_BENCH_WRITE_MIB:-32}	# unique 4 KiB blocks overwritten
AREA=$((AREA_MIB * 2048))		# sectors
ORIGIN=$DYNSNAP_ORIGIN
FAST=$DYNSNAP_FAST
SLOW=$DYNSNAP_SLOW
OUT=$DYNSNAP_RESULTS/space.json
RESULTS=()

# Snapshot-space figures of the anchors, read from their own status lines.
snapshot_cow_bytes() {	# dm-snapshot: <allocated>/<total> <metadata> sectors
	dmsetup status "$1" | awk '{split($4, a, "/"); print a[1] * 512}'
}
thin_pool_used() {	# thin-pool: <tid> <meta used>/<total> <data used>/<total> ...
	dmsetup status "$1" | awk '{split($5, m, "/"); split($6, d, "/"); print m[1], d[1]}'
}

zero_fill() {
	dd if=/dev/zero of="$1" bs=1M count="$AREA_MIB" oflag=direct status=none ||
		die "zero fill of $1 failed"
}

# overwrite DEV KIND: the fio job, the same for every configuration. The
# random map (fio's default) makes every 4 KiB block written at most once.
overwrite() {
	local extra=()
	[ "$2" = random ] || extra=(--buffer_compress_percentage=90 --buffer_compress_chunk=4096)
	fio --name=overwrite --filename="$1" --rw=randwrite --bs=4k --iodepth=16 \
		--ioengine=libaio --direct=1 --size="${AREA_MIB}M" --io_size="${WRITE_MIB}M" \
		--randrepeat=1 --randseed=4242 --refill_buffers "${extra[@]}" \
		--end_fsync=1 --output-format=terse >/dev/null || die "fio on $1 failed"
}

# result NAME KIND STORED [EXTRA_JSON]
result() {
	local overwritten=$((WRITE_MIB * 1048576))
	log "$1 ($2): $3 bytes stored for $overwritten overwritten"
	RESULTS+=("$(printf '{"config": "%s", "data": "%s", "overwritten_bytes": %d, "stored_bytes": %d, "ratio": %s%s}' \
		"$1" "$2" "$overwritten" "$3" "$(awk -v s="$3" -v o="$overwritten" 'BEGIN { printf "%.4f", s / o }')" "${4:-}")")
}

run_dynsnap() {	# LEVEL KIND
	local level=$1 kind=$2 before after
	dsn_wipe_tiers
	dsn_create bench "0 $AREA dynsnap $ORIGIN $FAST $SLOW 128 4 sub_block_sectors 8 granularity $level"
	zero_fill /dev/mapper/bench
	dsn_snap_create bench base >/dev/null
	before=$(dsn_status_field bench 12)
	overwrite /dev/mapper/bench "$kind"
	after=$(dsn_status_field bench 12)
	result "dynsnap-$level" "$kind" $((after - before)) \
		", \"block_bytes\": 65536, \"sub_block_bytes\": 4096, \"status\": \"$(dsn_status bench)\""
	dsn_remove bench
}

run_dm_snapshot() {	# CHUNK_SECTORS KIND
	local chunk=$1 kind=$2
	dsn_wipe_tiers
	dsn_create bench-base "0 $AREA linear $ORIGIN 0"
	zero_fill /dev/mapper/bench-base
	dsn_create bench-cow "0 $((AREA * 3 / 2)) linear $FAST 0"
	wipe_dev /dev/mapper/bench-cow
	dsn_create bench-snap "0 $AREA snapshot /dev/mapper/bench-base /dev/mapper/bench-cow P $chunk"
	dsn_create bench "0 $AREA snapshot-origin /dev/mapper/bench-base"
	overwrite /dev/mapper/bench "$kind"
	result "dm-snapshot-$((chunk / 2))k" "$kind" "$(snapshot_cow_bytes bench-snap)" \
		", \"chunk_bytes\": $((chunk * 512))"
	dsn_remove bench
	dsn_remove bench-snap
	dsn_remove bench-cow
	dsn_remove bench-base
}

run_dm_thin() {	# KIND
	local kind=$1 meta_before data_before meta_after data_after
	dsn_wipe_tiers
	dsn_create bench-meta "0 131072 linear $FAST 0"
	wipe_dev /dev/mapper/bench-meta
	dsn_create bench-data "0 $((AREA * 2)) linear $ORIGIN 0"
	dsn_create bench-pool "0 $((AREA * 2)) thin-pool /dev/mapper/bench-meta /dev/mapper/bench-data 128 0"
	dmsetup message bench-pool 0 "create_thin 0" || die "create_thin failed"
	dsn_create bench "0 $AREA thin /dev/mapper/bench-pool 0"
	zero_fill /dev/mapper/bench
	dmsetup suspend bench || die "suspend of the thin volume failed"
	dmsetup message bench-pool 0 "create_snap 1 0" || die "create_snap failed"
	dmsetup resume bench || die "resume of the thin volume failed"
	read -r meta_before data_before < <(thin_pool_used bench-pool)
	overwrite /dev/mapper/bench "$kind"
	read -r meta_after data_after < <(thin_pool_used bench-pool)
	result dm-thin-64k "$kind" $(((data_after - data_before) * 65536)) \
		", \"block_bytes\": 65536, \"metadata_bytes\": $(((meta_after - meta_before) * 4096))"
	dsn_remove bench
	dsn_remove bench-pool
	dsn_remove bench-data
	dsn_remove bench-meta
}

command -v fio >/dev/null || die "fio is missing (Debian package fio)"
for kind in random sparse; do
	for level in block sub bit; do
		run_dynsnap "$level" "$kind"
	done
	run_dm_snapshot 8 "$kind"
	run_dm_snapshot 128 "$kind"
	run_dm_thin "$kind"
done

{
	printf '{"benchmark": "space-efficiency", "kernel": "%s", "cpus": %d, "memory_kib": %d,\n' \
		"$(uname -r)" "$(nproc)" "$(awk '/MemTotal/ {print $2}' /proc/meminfo)"
	printf ' "fio": "%s", "area_bytes": %d, "workload": "fio randwrite bs=4k iodepth=16 direct, each block once",\n' \
		"$(fio --version)" $((AREA_MIB * 1048576))
	printf ' "results": [\n'
	for i in "${!RESULTS[@]}"; do
		printf '  %s%s\n' "${RESULTS[$i]}" "$([ "$i" -lt $((${#RESULTS[@]} - 1)) ] && echo ,)"
	done
	printf ' ]}\n'
} >"$OUT"
log "results in $OUT"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The benchmark suite, run inside one VM by tools/run-bench: every
# configuration gets the same emulated disks, one after the other, in the
# same boot, and the same jobs. Nothing here asserts a figure.
#
# Configurations (bench/configs.sh): dm-linear (no snapshot), dm-snapshot
# with 4 KiB and 64 KiB chunks, dm-thin with 64 KiB blocks, dynsnap at each
# fixed level. For each one, in this order:
#   1. one retained snapshot: space kept for 4 KiB random overwrites (random
#      and sparse new data), first-write-after-snapshot latency, the three
#      fio jobs, sequential read of the retained snapshot;
#   2. many retained snapshots (taken one after another, a 4 KiB write
#      between two): snapshot creation latency, the three fio jobs, kernel
#      memory of the target, activation time of the store;
#   3. PostgreSQL pgbench on ext4 on the volume, a snapshot every few
#      seconds; the database started from a view of the last snapshot must
#      pass pg_amcheck.
# Before each fio job the oldest snapshot is deleted and a new one taken, so
# every job writes to blocks not yet preserved for the newest snapshot and
# the number of retained snapshots stays the same.
#
# Environment: DYNSNAP_BENCH_MODE full (default) or smoke (small sizes and
# few seconds per job: checks that everything sets up and reports).
# Output: $DYNSNAP_RESULTS/bench.json (see bench/report.py for the format).
. "$DYNSNAP_SRC/tests/vm/lib.sh"
. "$DYNSNAP_SRC/tests/vm/dynsnap.sh"
. "$DYNSNAP_SRC/bench/configs.sh"

MODE=${DYNSNAP_BENCH_MODE:-full}
case "$MODE" in
full)
	VOL_MIB=256		# the volume of the fio jobs
	FIO_SECONDS=15		# each fio job
	MANY=100		# "many retained snapshots"
	FIRST_WRITES=2000	# 4 KiB writes, each to a block not written since the snapshot
	SPACE_MIB=32		# overwritten by the space job, each kind of data
	VIEW_READ_MIB=256	# read from the retained snapshot
	PG_VOL_MIB=768		# the ext4 volume of PostgreSQL
	PG_SCALE=10		# pgbench scale: 1,000,000 accounts (about 160 MiB)
	PG_SECONDS=40		# each pgbench run
	PG_INTERVAL=5		# seconds between two snapshots during the run
	;;
smoke)
	VOL_MIB=64 FIO_SECONDS=1 MANY=4 FIRST_WRITES=200 SPACE_MIB=4 VIEW_READ_MIB=32
	PG_VOL_MIB=256 PG_SCALE=1 PG_SECONDS=4 PG_INTERVAL=2
	;;
*) die "DYNSNAP_BENCH_MODE must be full or smoke, not '$MODE'" ;;
esac
VOL=$((VOL_MIB * 2048))
PG_VOL=$((PG_VOL_MIB * 2048))
CONFIGS=(dm-linear dm-snapshot-4k dm-snapshot-64k dm-thin-64k dynsnap-block dynsnap-sub dynsnap-bit)
WORKLOADS=(randwrite-4k-qd16 seqwrite-64k randrw-70-30-4k-qd16)
if [ -n "${DYNSNAP_BENCH_CONFIGS:-}" ]; then	# a subset, for development
	read -ra CONFIGS <<<"$DYNSNAP_BENCH_CONFIGS"
fi
RESULTS=$DYNSNAP_RESULTS/bench.jsonl
OUT=$DYNSNAP_RESULTS/bench.json
PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
[ -x "$PG_BIN/postgres" ] || PG_BIN=

# ---------------------------------------------------------------------------
# Measuring

now_ns() {
	date +%s%N
}

# record FIGURE CONFIG KEY VALUE...: append one result (a JSON line);
# values that look like numbers are written as numbers.
record() {
	local line k v
	line=$(printf '{"figure": "%s", "config": "%s"' "$1" "$2")
	shift 2
	while [ $# -ge 2 ]; do
		k=$1 v=$2
		shift 2
		if [[ $v =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
			line+=$(printf ', "%s": %s' "$k" "$v")
		else
			line+=$(printf ', "%s": "%s"' "$k" "$v")
		fi
	done
	printf '%s}\n' "$line" >>"$RESULTS"
}

# fio_run NAME ARGS...: run fio, keep its terse output in
# $DYNSNAP_RESULTS/fio/NAME.terse and print "write_iops write_bps
# write_p50_us write_p99_us read_iops read_p99_us read_bps". (Terse, not
# JSON: a python3 start costs more than a second under TCG.)
fio_run() {
	local name=$1 out
	shift
	mkdir -p "$DYNSNAP_RESULTS/fio"
	out=$DYNSNAP_RESULTS/fio/$name.terse
	fio --name="$name" --ioengine=libaio --direct=1 --group_reporting --disk_util=0 \
		--output-format=terse --terse-version=3 --output="$out" "$@" >/dev/null ||
		die "fio $name failed (arguments: $*)"
	# terse v3: read 6-46 (bw KiB/s 7, IOPS 8, clat percentiles 18-37),
	# write 47-87 (48, 49, 59-78); percentiles as "P%=usec"
	awk -F';' 'function pct(from, p,   i) {
			for (i = from; i < from + 20; i++)
				if (index($i, p "%=") == 1)
					return substr($i, length(p) + 3)
			return 0
		}
		{
			printf "%s %.0f %s %s %s %s %.0f\n", $49, $48 * 1024, pct(59, "50.000000"),
				pct(59, "99.000000"), $8, pct(18, "99.000000"), $7 * 1024
		}' "$out"
}

# workload_args WORKLOAD: the fio arguments of one of the three jobs.
workload_args() {
	local common=(--filename=/dev/mapper/bench --size=$((VOL_MIB))M --time_based
		--runtime="$FIO_SECONDS" --randseed=4242)
	case "$1" in
	randwrite-4k-qd16) echo "${common[@]}" --rw=randwrite --bs=4k --iodepth=16 --norandommap ;;
	seqwrite-64k) echo "${common[@]}" --rw=write --bs=64k --iodepth=4 ;;
	randrw-70-30-4k-qd16)
		echo "${common[@]}" --rw=randrw --rwmixread=70 --bs=4k --iodepth=16 --norandommap ;;
	*) die "unknown workload $1" ;;
	esac
}

# run_workload CONFIG WORKLOAD SNAPSHOTS: rotate the snapshots (unless
# none), run the job, record it.
run_workload() {
	local cfg=$1 wl=$2 snaps=$3 w_iops w_bps w_p50 w_p99 r_iops r_p99 args
	[ "$snaps" -eq 0 ] || cfg_rotate "$cfg"
	read -ra args <<<"$(workload_args "$wl")"
	read -r w_iops w_bps w_p50 w_p99 r_iops r_p99 _ < <(fio_run "$cfg-$wl-$snaps" "${args[@]}")
	log "$cfg $wl, $snaps snapshots: write $w_iops IOPS (p99 $w_p99 us), read $r_iops IOPS"
	record fio "$cfg" workload "$wl" snapshots "$snaps" write_iops "$w_iops" \
		write_bytes_per_sec "$w_bps" write_lat_p50_us "$w_p50" write_lat_p99_us "$w_p99" \
		read_iops "$r_iops" read_lat_p99_us "$r_p99"
}

# zero_volume: zero the whole volume (the state every phase starts from).
zero_volume() {
	dd if=/dev/zero of=/dev/mapper/bench bs=1M count=$((CFG_SECT / 2048)) oflag=direct status=none ||
		die "zeroing /dev/mapper/bench failed"
}

# kernel_memory SLABINFO: "slab vmalloc bufio" bytes, after dropping what
# the kernel can drop, so that two readings differ by what the target
# holds; /proc/slabinfo is saved in SLABINFO.
kernel_memory() {
	local bufio=0 f=/sys/module/dm_bufio/parameters/current_allocated_bytes
	sync
	echo 3 >/proc/sys/vm/drop_caches
	# give the empty slabs of every cache back, or a configuration that
	# follows a bigger one fills the pages that one left and seems to
	# need nothing
	for f in /sys/kernel/slab/*/shrink; do
		echo 1 >"$f"
	done 2>/dev/null
	cp /proc/slabinfo "$1"
	[ -r "$f" ] && bufio=$(cat "$f")
	awk -v bufio="$bufio" '/^Slab:/ {s = $2 * 1024} /^VmallocUsed:/ {v = $2 * 1024}
		END {printf "%.0f %.0f %.0f\n", s, v, bufio}' /proc/meminfo
}

# record_memory CONFIG SNAPSHOTS DELTAS "S0 V0 B0" "S1 V1 B1" EMPTY: the
# memory record from two kernel_memory readings; a reading below the one
# before is noise and counts as no growth.
record_memory() {
	local s0 v0 b0 s1 v1 b1 empty=$6
	read -r s0 v0 b0 <<<"$4"
	read -r s1 v1 b1 <<<"$5"
	record memory "$1" snapshots "$2" retained_deltas "$3" \
		slab_bytes $((s1 > s0 ? s1 - s0 : 0)) vmalloc_bytes $((v1 > v0 ? v1 - v0 : 0)) \
		bufio_bytes $((b1 > b0 ? b1 - b0 : 0)) empty_bytes $((empty > 0 ? empty : 0))
}

# slab_growth BEFORE AFTER: the slab caches that grew most between two
# copies of /proc/slabinfo (bytes, name), to tell where memory went.
slab_growth() {
	awk 'FNR == NR {if (FNR > 2) before[$1] = $3 * $4; next}
		FNR > 2 {d = $3 * $4 - before[$1]; if (d > 0) print d, $1}' "$1" "$2" |
		sort -rn | head -n 8
}

# percentiles FILE: "p50 p99 mean" of the numbers in FILE, one a line.
percentiles() {
	sort -n "$1" | awk '{v[NR] = $1; sum += $1}
		END {
			i50 = int((NR * 50 + 99) / 100); i99 = int((NR * 99 + 99) / 100)
			printf "%.3f %.3f %.3f\n", v[i50], v[i99], sum / NR
		}'
}

# ---------------------------------------------------------------------------
# Phase 1: one retained snapshot

# space_job CONFIG KIND OFFSET_MIB: overwrite SPACE_MIB of unique 4 KiB
# blocks in the half of the volume at OFFSET_MIB; record what the snapshot
# kept. KIND random: every byte changes; sparse: fio's buffers are 90%
# zeros over a zeroed volume, so about one byte in ten changes.
space_job() {
	local cfg=$1 kind=$2 off=$3 before after extra=()
	[ "$kind" = random ] || extra=(--buffer_compress_percentage=90 --buffer_compress_chunk=4096)
	cfg_rotate "$cfg"
	before=$(cfg_stored_bytes "$cfg")
	fio_run "$cfg-space-$kind" --filename=/dev/mapper/bench --rw=randwrite --bs=4k \
		--iodepth=16 --offset="${off}M" --size=$((VOL_MIB / 2))M --io_size="${SPACE_MIB}M" \
		--randrepeat=1 --randseed=4242 --refill_buffers "${extra[@]}" --end_fsync=1 >/dev/null
	after=$(cfg_stored_bytes "$cfg")
	log "$cfg space ($kind): $((after - before)) bytes for $((SPACE_MIB * 1048576))"
	record space "$cfg" data "$kind" overwritten_bytes $((SPACE_MIB * 1048576)) \
		stored_bytes $((after > before ? after - before : 0))
}

first_write_job() {
	local cfg=$1 p50 p99
	[ "$cfg" = dm-linear ] || cfg_rotate "$cfg"
	read -r _ _ p50 p99 _ _ < <(fio_run "$cfg-first-write" --filename=/dev/mapper/bench \
		--rw=randwrite --bs=4k --iodepth=1 --size="${VOL_MIB}M" --number_ios="$FIRST_WRITES" \
		--randrepeat=1 --randseed=777)
	log "$cfg first write after a snapshot: p50 $p50 us, p99 $p99 us"
	record first-write "$cfg" writes "$FIRST_WRITES" lat_p50_us "$p50" lat_p99_us "$p99"
}

view_read_job() {
	local cfg=$1 dev bps
	if [ "$cfg" = dm-linear ]; then
		dev=/dev/mapper/bench
	else
		dev=$(cfg_view_up "$cfg")
	fi
	read -r _ _ _ _ _ _ bps < <(fio_run "$cfg-view-read" --filename="$dev" --rw=read --bs=1M \
		--iodepth=4 --size="${VIEW_READ_MIB}M")
	[ "$cfg" = dm-linear ] || cfg_view_down "$cfg"
	log "$cfg view read: $bps bytes/s"
	record view-read "$cfg" bytes $((VIEW_READ_MIB * 1048576)) bytes_per_sec "$bps"
}

phase_one_snapshot() {
	local cfg=$1 wl snaps=1
	[ "$cfg" = dm-linear ] && snaps=0
	log "== $cfg: $snaps retained snapshot(s)"
	cfg_up "$cfg" "$VOL"
	zero_volume
	if [ "$cfg" != dm-linear ]; then
		cfg_snapshot "$cfg" >/dev/null
		space_job "$cfg" random 0
		space_job "$cfg" sparse $((VOL_MIB / 2))
	fi
	first_write_job "$cfg"
	for wl in "${WORKLOADS[@]}"; do
		run_workload "$cfg" "$wl" "$snaps"
	done
	view_read_job "$cfg"
	cfg_down "$cfg"
}

# ---------------------------------------------------------------------------
# Phase 2: many retained snapshots

phase_many_snapshots() {
	local cfg=$1 i t0 t1 times wl s0 v0 b0 se ve be empty s1 v1 b1 deltas p50 p99 mean
	log "== $cfg: $MANY retained snapshots"
	read -r s0 v0 b0 < <(kernel_memory "$DYNSNAP_RESULTS/$cfg-slabinfo.before")
	cfg_up "$cfg" "$VOL"
	zero_volume
	read -r se ve be < <(kernel_memory "$DYNSNAP_RESULTS/$cfg-slabinfo.empty")
	empty=$((se + ve + be - s0 - v0 - b0))
	times=$DYNSNAP_RESULTS/$cfg-snapshot-create.ms
	: >"$times"
	for ((i = 0; i < MANY; i++)); do
		# one 4 KiB write into a 1 MiB stripe of its own, so that every
		# snapshot has something to keep
		dd if=/dev/urandom of=/dev/mapper/bench bs=4k count=1 seek=$((i * 256 % (VOL / 8))) \
			oflag=direct conv=notrunc status=none || die "write before snapshot $i failed"
		cfg_snapshot "$cfg" >/dev/null
		awk -v ns="$SNAP_NS" 'BEGIN {printf "%.3f\n", ns / 1e6}' >>"$times"
	done
	read -r p50 p99 mean < <(percentiles "$times")
	log "$cfg snapshot creation: p50 $p50 ms, p99 $p99 ms, mean $mean ms"
	record snapshot-create "$cfg" count "$MANY" p50_ms "$p50" p99_ms "$p99" mean_ms "$mean"
	for wl in "${WORKLOADS[@]}"; do
		run_workload "$cfg" "$wl" "$MANY"
	done
	deltas=$(cfg_deltas "$cfg")
	read -r s1 v1 b1 < <(kernel_memory "$DYNSNAP_RESULTS/$cfg-slabinfo.after")
	log "$cfg kernel memory: slab $((s1 - s0)), vmalloc $((v1 - v0)), dm-bufio $((b1 - b0))" \
		"for $deltas deltas ($empty with no snapshot)"
	slab_growth "$DYNSNAP_RESULTS/$cfg-slabinfo.before" "$DYNSNAP_RESULTS/$cfg-slabinfo.after" |
		sed "s/^/  $cfg slab growth: /"
	record_memory "$cfg" "$MANY" "$deltas" "$s0 $v0 $b0" "$s1 $v1 $b1" "$empty"
	cfg_deactivate "$cfg"
	echo 3 >/proc/sys/vm/drop_caches
	t0=$(now_ns)
	cfg_activate "$cfg"
	t1=$(now_ns)
	log "$cfg activation with $MANY snapshots and $deltas deltas: $(((t1 - t0) / 1000000)) ms"
	record activation "$cfg" snapshots "$MANY" deltas "$deltas" \
		seconds "$(awk -v ns=$((t1 - t0)) 'BEGIN {printf "%.4f", ns / 1e9}')"
	cfg_down "$cfg"
}

# dm-linear has no snapshots: its memory baseline is the volume after the
# same three jobs.
phase_linear_memory() {
	local s0 v0 b0 s1 v1 b1 wl args
	read -r s0 v0 b0 < <(kernel_memory "$DYNSNAP_RESULTS/dm-linear-slabinfo.before")
	cfg_up dm-linear "$VOL"
	for wl in "${WORKLOADS[@]}"; do
		read -ra args <<<"$(workload_args "$wl")"
		fio_run "dm-linear-$wl-memory" "${args[@]}" >/dev/null
	done
	read -r s1 v1 b1 < <(kernel_memory "$DYNSNAP_RESULTS/dm-linear-slabinfo.after")
	record_memory dm-linear 0 0 "$s0 $v0 $b0" "$s1 $v1 $b1" 0
	cfg_down dm-linear
}

# ---------------------------------------------------------------------------
# Phase 3: PostgreSQL

PG_SOCK=/run/bench-pg
PG_TEMPLATE=/var/tmp/bench-pg-template

pg() {	# pg COMMAND ARGS...: a PostgreSQL program as the postgres user
	local cmd=$1
	shift
	runuser -u postgres -- "$PG_BIN/$cmd" "$@"
}

pg_start() {	# DATADIR PORT
	pg pg_ctl -D "$1" -l "$1/server.log" -w -t 300 -o "-p $2 -k $PG_SOCK" start >/dev/null ||
		{ cat "$1/server.log" >&2; die "PostgreSQL did not start on $1"; }
}

pg_stop() {	# DATADIR [MODE]
	pg pg_ctl -D "$1" -w -t 300 -m "${2:-fast}" stop >/dev/null || die "PostgreSQL did not stop on $1"
}

# pg_template: one database, initialized once, that every configuration
# starts from (a copy on its own ext4).
pg_template() {
	[ -n "$PG_BIN" ] || die "PostgreSQL is missing (Debian package postgresql)"
	mkdir -p "$PG_SOCK" "$PG_TEMPLATE"
	chown postgres: "$PG_SOCK" "$PG_TEMPLATE"
	pg initdb -D "$PG_TEMPLATE/data" --no-sync -A trust -U postgres >/dev/null ||
		die "initdb failed"
	cat >>"$PG_TEMPLATE/data/postgresql.conf" <<EOF
listen_addresses = ''
shared_buffers = 32MB
max_wal_size = 128MB
min_wal_size = 32MB
checkpoint_timeout = 30s
EOF
	pg_start "$PG_TEMPLATE/data" 5432
	pg pgbench -h "$PG_SOCK" -p 5432 -U postgres -i -q -s "$PG_SCALE" postgres >/dev/null 2>&1 ||
		die "pgbench -i failed"
	pg psql -h "$PG_SOCK" -p 5432 -U postgres -q -c 'CREATE EXTENSION amcheck' postgres ||
		die "CREATE EXTENSION amcheck failed"
	pg_stop "$PG_TEMPLATE/data"
	log "PostgreSQL template: scale $PG_SCALE, $(du -sm "$PG_TEMPLATE/data" | cut -f1) MiB"
}

dm_written_bytes() {	# NAME: bytes written to dm device NAME since it appeared
	local minor
	minor=$(dmsetup info -c --noheadings -o minor "$1" | tr -d ' ')
	awk '{printf "%.0f\n", $7 * 512}' "/sys/block/dm-$minor/stat"
}

# pg_view_check CONFIG: start the database from a view of the newest
# snapshot (made writable by a throw-away dm-snapshot on the slow disk's
# scratch area) and run pg_amcheck on every relation.
pg_view_check() {
	local cfg=$1 view rc=0 accounts
	view=$(cfg_view_up "$cfg")
	dsn_create bench-pgcow "0 $SCRATCH_SECT linear $DYNSNAP_SLOW $SLOW_TIER_SECT"
	dsn_create bench-pgview "0 $PG_VOL snapshot $view /dev/mapper/bench-pgcow N 8"
	mkdir -p /mnt/bench-pgview
	mount /dev/mapper/bench-pgview /mnt/bench-pgview || die "mounting the view of $cfg failed"
	rm -f /mnt/bench-pgview/data/postmaster.pid
	pg_start /mnt/bench-pgview/data 5433
	pg pg_amcheck -h "$PG_SOCK" -p 5433 -U postgres --all --heapallindexed \
		>"$DYNSNAP_RESULTS/$cfg-pg_amcheck.log" 2>&1 || rc=$?
	accounts=$(pg psql -h "$PG_SOCK" -p 5433 -U postgres -At \
		-c 'SELECT count(*) FROM pgbench_accounts' postgres) || rc=1
	[ "$accounts" = $((PG_SCALE * 100000)) ] || rc=1
	pg_stop /mnt/bench-pgview/data immediate
	umount /mnt/bench-pgview
	dsn_remove bench-pgview
	dsn_remove bench-pgcow
	cfg_view_down "$cfg"
	log "$cfg: database from the view: pg_amcheck exit $rc, $accounts accounts"
	[ "$rc" -eq 0 ]
}

phase_pgbench() {
	local cfg=$1 w0 w1 st0 st1 pid tps snaps=0 deadline check=skipped
	log "== $cfg: pgbench, scale $PG_SCALE, $PG_SECONDS s, a snapshot every $PG_INTERVAL s"
	cfg_up "$cfg" "$PG_VOL"
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 /dev/mapper/bench ||
		die "mkfs.ext4 on $cfg failed"
	mkdir -p /mnt/bench-pg
	mount /dev/mapper/bench /mnt/bench-pg || die "mounting ext4 on $cfg failed"
	cp -a "$PG_TEMPLATE/data" /mnt/bench-pg/data
	sync
	pg_start /mnt/bench-pg/data 5432
	w0=$(dm_written_bytes bench)
	st0=$(cfg_stored_bytes "$cfg")
	pg pgbench -h "$PG_SOCK" -p 5432 -U postgres -c 4 -j 2 -T "$PG_SECONDS" postgres \
		>"$DYNSNAP_RESULTS/$cfg-pgbench.log" 2>&1 &
	pid=$!
	deadline=$((SECONDS + PG_SECONDS))
	while [ "$cfg" != dm-linear ] && [ $((SECONDS + PG_INTERVAL)) -le "$deadline" ]; do
		sleep "$PG_INTERVAL"
		cfg_snapshot "$cfg" >/dev/null
		snaps=$((snaps + 1))
	done
	wait "$pid" || { cat "$DYNSNAP_RESULTS/$cfg-pgbench.log" >&2; die "pgbench on $cfg failed"; }
	w1=$(dm_written_bytes bench)
	st1=$(cfg_stored_bytes "$cfg")
	tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$DYNSNAP_RESULTS/$cfg-pgbench.log" | head -n 1)
	[ -n "$tps" ] || die "no tps line in the pgbench output of $cfg"
	pg_stop /mnt/bench-pg/data
	umount /mnt/bench-pg
	if [[ $cfg == dynsnap-* ]]; then
		check=passed
		pg_view_check "$cfg" || check=failed
	fi
	log "$cfg pgbench: $tps TPS, $snaps snapshots, $((w1 - w0)) bytes written, $((st1 - st0)) stored"
	record pgbench "$cfg" seconds "$PG_SECONDS" tps "$tps" snapshots "$snaps" \
		written_bytes $((w1 - w0)) stored_bytes $((st1 > st0 ? st1 - st0 : 0)) view_check "$check"
	cfg_down "$cfg"
}

# ---------------------------------------------------------------------------

# write_results: the records of $RESULTS and what describes the run, as
# one JSON document in $OUT.
write_results() {
	python3 - "$RESULTS" "$OUT" <<PY || die "cannot write $OUT"
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
doc = {
    "benchmark": "dynsnap-bench", "format": 1, "mode": "$MODE", "started": "$STARTED",
    "kernel": "$(uname -r)",
    "vm": {"cpus": $(nproc), "memory_kib": $(awk '/MemTotal/ {print $2}' /proc/meminfo),
           "accelerator": "tcg", "cpu_model": "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)",
           "disks": $(bench_disks_json)},
    "fio": "$(fio --version)",
    "postgresql": "$("$PG_BIN/postgres" --version | awk '{print $3}')",
    "parameters": {"volume_bytes": $((VOL_MIB * 1048576)), "fio_seconds": $FIO_SECONDS,
                   "many_snapshots": $MANY, "first_writes": $FIRST_WRITES,
                   "space_overwritten_bytes": $((SPACE_MIB * 1048576)),
                   "view_read_bytes": $((VIEW_READ_MIB * 1048576)),
                   "pg_volume_bytes": $((PG_VOL_MIB * 1048576)), "pg_scale": $PG_SCALE,
                   "pg_seconds": $PG_SECONDS, "pg_snapshot_interval_seconds": $PG_INTERVAL,
                   "block_bytes": 65536, "dynsnap_sub_block_bytes": 4096},
    "configs": [$(printf '"%s", ' "${CONFIGS[@]}" | sed 's/, $//')],
    "results": records,
}
with open(sys.argv[2], "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
PY
}

main() {
	command -v fio >/dev/null || die "fio is missing (Debian package fio)"
	dsn_require_disks
	dynsnap_load
	modprobe dm-snapshot || die "cannot load dm-snapshot"
	modprobe dm-thin-pool || die "cannot load dm-thin-pool"
	bench_disks_check
	: >"$RESULTS"
	STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	log "benchmark suite, $MODE mode: ${CONFIGS[*]}"

	pg_template
	for cfg in "${CONFIGS[@]}"; do
		phase_one_snapshot "$cfg"
		if [ "$cfg" = dm-linear ]; then
			phase_linear_memory
		else
			phase_many_snapshots "$cfg"
		fi
		phase_pgbench "$cfg"
	done
	write_results
	log "results in $OUT"
}

# One line, parsed before it runs: editing this file while the suite runs
# cannot change what the running shell reads next.
main "$@"; exit $?

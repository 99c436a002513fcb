#!/bin/bash
# bench/report.py and tools/run-bench arguments: a results file becomes a
# report with the right ratios, --check finds what is wrong or missing in
# one, --charts draws the charts; bad files and arguments give a one-line
# error and exit 1, and run-bench's argument errors never start a VM.
#   bench-report.sh REPO
# The sample (data/bench-sample.json) has round numbers so that the ratios
# below can be worked out by hand.
repo=$1
. "$(dirname "$0")/lib.sh"

sample=$repo/tests/cli/data/bench-sample.json
# the interpreter itself: a version manager's wrapper would slow every call
py=$(python3 -c 'import sys; print(sys.executable)') || exit 1
report=("$py" "$repo/bench/report.py")
cd "$tmp" || exit 1
cp "$sample" good.json

# mutate OUT PYTHON: OUT is the sample after the statements PYTHON, run with
# d (the document), find(figure, config, **fields) and drop(...) at hand.
mutate() {
	"$py" - "$sample" "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
def find(figure, config, **fields):
    return next(r for r in d["results"] if r["figure"] == figure
                and r["config"] == config
                and all(r.get(k) == v for k, v in fields.items()))
def drop(figure, config, **fields):
    d["results"].remove(find(figure, config, **fields))
exec(sys.argv[3])
with open(sys.argv[2], "w") as f:
    json.dump(d, f)
PY
}

# ---- the report: header, summary, one table per figure
expect "the report of the sample" 0 '^# dynsnap benchmark$' "${report[@]}" good.json
"${report[@]}" good.json >good.md 2>&1
expect "header line" 0 \
	'^Kernel 6\.1\.0-56-amd64; VM 2 CPUs, 3\.8 GiB memory, tcg; fio-3\.33; PostgreSQL 15\.18; mode smoke;' \
	cat good.md
expect "summary: header" 0 \
	'^\| configuration \| randwrite-4k-qd16 IOPS, 1 snapshot ↑ \| randwrite-4k-qd16 IOPS, 3 snapshots ↑ \| first-write p99 ↓ \| snapshot-create p50 ↓ \| space, random data ↓ \| pgbench TPS ↑ \| memory, 3 snapshots ↓ \|$' \
	cat good.md
# 12000/8000, 10400/7000, 200/250, 1.5/3, (65/64)/(66/64), 500/400, 256/512 KiB
expect "summary: dynsnap-sub" 0 \
	'^\| dynsnap-sub \| 1\.50 \| 1\.49 \| 0\.80 \| 0\.50 \| 0\.98 \| 1\.25 \| 0\.56 \|$' cat good.md
expect "summary: dynsnap-block" 0 \
	'^\| dynsnap-block \| 1\.25 \| 1\.29 \| 0\.88 \| 0\.67 \| 0\.98 \| 1\.12 \| 0\.66 \|$' cat good.md
expect "summary: the best anchors" 0 \
	'^\| \*best anchor\* \| dm-thin-64k \| dm-thin-64k \| dm-thin-64k \| dm-thin-64k \| dm-snapshot-64k \| dm-thin-64k \| dm-snapshot-64k \|$' \
	cat good.md
expect "fio: direction of the ratios" 0 \
	'higher is better for write IOPS, lower is better for write p99' cat good.md
# IOPS 12000/20000, 12000/8000; p99 2600/2000, 2600/4000; 49152000 B/s
expect "fio: dynsnap-sub, 1 snapshot" 0 \
	'^\| 1 \| dynsnap-sub \| 12000 \| 46\.9 \| 1\.25 ms \| 2\.60 ms \| - \| - \| 0\.60 \| 1\.50 \| 1\.30 \| 0\.65 \|$' \
	cat good.md
# dm-linear at 0 snapshots is the baseline at 3: 10400/20000, 3000/2000
expect "fio: dynsnap-sub, many snapshots" 0 \
	'^\| 3 \| dynsnap-sub \| 10400 \| 40\.6 \| 1\.45 ms \| 3\.00 ms \| - \| - \| 0\.52 \| 1\.49 \| 1\.50 \| 0\.60 \|$' \
	cat good.md
expect "fio: dm-linear has no anchor" 0 \
	'^\| 0 \| dm-linear \| 20000 \| 78\.1 \| 700 µs \| 2\.00 ms \| - \| - \| 1\.00 \| - \| 1\.00 \| - \|$' \
	cat good.md
expect "fio: an anchor against the best anchor" 0 \
	'^\| 3 \| dm-snapshot-64k \| 800 \| 3\.1 \| 19\.0 ms \| 90\.0 ms \| - \| - \| 0\.04 \| 0\.11 \| 45\.00 \| 18\.00 \|$' \
	cat good.md
expect "fio: reads of a mixed workload" 0 \
	'^\| 1 \| dynsnap-sub \| 3600 \| 14\.1 \| 1\.30 ms \| 3\.60 ms \| 8400 \| 2\.20 ms \| 0\.60 \| 1\.50 \| 1\.50 \| 0\.72 \|$' \
	cat good.md
expect "first-write: dynsnap-sub" 0 \
	'^\| dynsnap-sub \| 256 \| 120 µs \| 200 µs \| 3\.00 \| 0\.60 \| 4\.00 \| 0\.80 \|$' cat good.md
expect "snapshot-create: dynsnap-sub" 0 \
	'^\| dynsnap-sub \| 20 \| 1\.50 ms \| 3\.00 ms \| 1\.70 ms \| 0\.50 \| 0\.50 \|$' cat good.md
expect "view-read: dynsnap-sub" 0 \
	'^\| dynsnap-sub \| 256\.0 MiB \| 160\.0 MiB/s \| 0\.80 \| 0\.89 \|$' cat good.md
expect "activation: dynsnap-sub" 0 '^\| dynsnap-sub \| 3 \| 4 \| 300 ms \| 0\.60 \|$' \
	cat good.md
expect "space: random data" 0 \
	'^\| random \| dynsnap-sub \| 64\.0 MiB \| 65\.0 MiB \| 1\.016 \| 0\.98 \|$' cat good.md
expect "space: sparse data" 0 \
	'^\| sparse \| dynsnap-sub \| 64\.0 MiB \| 16\.0 MiB \| 0\.250 \| 0\.25 \|$' cat good.md
# total 128+128+32 KiB; (288 - 128 KiB with no snapshot) / 4 deltas;
# 288 KiB / 64 KiB of dm-linear; / 512 KiB of the best anchor
expect "memory: dynsnap-sub" 0 \
	'^\| dynsnap-sub \| 3 \| 4 \| 128\.0 KiB \| 128\.0 KiB \| 32\.0 KiB \| 288\.0 KiB \| 128\.0 KiB \| 40\.0 KiB \| 4\.50 \| 0\.56 \|$' \
	cat good.md
expect "memory: dm-linear retains no delta" 0 \
	'^\| dm-linear \| 0 \| 0 \| 64\.0 KiB \| 0 B \| 0 B \| 64\.0 KiB \| 0 B \| - \| 1\.00 \| - \|$' cat good.md
# 1200 MiB and 120 MiB over 12 snapshots; 500/600, 500/400
expect "pgbench: dynsnap-sub" 0 \
	'^\| dynsnap-sub \| 60\.0 s \| 500 \| 12 \| 1\.2 GiB \| 120\.0 MiB \| 100\.0 MiB \| 10\.0 MiB \| passed \| 0\.83 \| 1\.25 \|$' \
	cat good.md

mutate best.json 'find("fio", "dm-snapshot-4k", workload="randwrite-4k-qd16", snapshots=1)["write_iops"] = 16000
find("first-write", "dm-snapshot-64k")["lat_p99_us"] = 100'
expect "another best anchor: highest IOPS, lowest latency" 0 \
	'^\| dynsnap-sub \| 0\.75 \| 1\.49 \| 2\.00 \| 0\.50 \| 0\.98 \| 1\.25 \| 0\.56 \|$' "${report[@]}" best.json
expect "another best anchor: named" 0 \
	'^\| \*best anchor\* \| dm-snapshot-4k \| dm-thin-64k \| dm-snapshot-64k \| dm-thin-64k \|' \
	"${report[@]}" best.json
mutate nolinear.json 'drop("first-write", "dm-linear")'
expect "no dm-linear record: -" 0 '^\| dynsnap-sub \| 256 \| 120 µs \| 200 µs \| - \| 0\.60 \| - \| 0\.80 \|$' \
	"${report[@]}" nolinear.json
mutate future.json 'd["results"].append({"figure": "future", "config": "dynsnap-sub"})
d["results"][0]["new_key"] = [1]; d["new_top"] = None'
expect "unknown figures and keys are ignored" 0 '^\| dynsnap-sub \| 1\.50 \| 1\.49 ' "${report[@]}" future.json
mutate skipped.json 'find("fio", "dynsnap-sub", workload="randwrite-4k-qd16", snapshots=1)["write_iops"] = "12000"'
expect "a bad record is skipped with a warning" 0 \
	'^report\.py: skipped\.json: record 5 \(fio, dynsnap-sub\): write_iops is not a number: "12000"; record skipped$' \
	"${report[@]}" skipped.json
expect "a bad record is skipped: its cell is -" 0 '^\| dynsnap-sub \| - \| 1\.49 ' "${report[@]}" skipped.json

# ---- --check
expect "--check: a complete file" 0 '^ok: 91 records, 7 configs$' "${report[@]}" --check good.json
mutate noact.json 'drop("activation", "dynsnap-bit")'
expect "--check: a missing figure" 1 '^report\.py: noact\.json: dynsnap-bit has no activation record$' \
	"${report[@]}" --check noact.json
mutate nofio.json 'drop("fio", "dm-thin-64k", workload="seqwrite-64k", snapshots=3)'
expect "--check: no record at many snapshots" 1 \
	'^report\.py: nofio\.json: dm-thin-64k has no fio record for seqwrite-64k at 3 snapshots$' \
	"${report[@]}" --check nofio.json
mutate nobase.json 'drop("fio", "dm-linear", workload="randrw-70-30-4k-qd16")'
expect "--check: no dm-linear baseline" 1 \
	'^report\.py: nobase\.json: dm-linear has no fio record for randrw-70-30-4k-qd16 at 0 snapshots$' \
	"${report[@]}" --check nobase.json
mutate nosparse.json 'drop("space", "dynsnap-sub", data="sparse")'
expect "--check: one data kind missing" 1 \
	'^report\.py: nosparse\.json: dynsnap-sub has no space record for sparse data$' \
	"${report[@]}" --check nosparse.json
mutate newconfig.json 'd["configs"].append("dynsnap-auto")'
expect "--check: a config without records" 1 \
	'^report\.py: newconfig\.json: dynsnap-auto has no pgbench record$' "${report[@]}" --check newconfig.json
mutate negative.json 'find("fio", "dynsnap-sub", workload="randwrite-4k-qd16", snapshots=1)["write_iops"] = -1'
expect "--check: a negative number" 1 \
	'^report\.py: negative\.json: record 5 \(fio, dynsnap-sub\): write_iops is negative: -1$' \
	"${report[@]}" --check negative.json
expect "--check: a string for a number" 1 \
	'^report\.py: skipped\.json: record 5 \(fio, dynsnap-sub\): write_iops is not a number: "12000"$' \
	"${report[@]}" --check skipped.json
mutate nan.json 'find("memory", "dynsnap-bit")["slab_bytes"] = float("nan")'
expect "--check: NaN" 1 '^report\.py: nan\.json: record 83 \(memory, dynsnap-bit\): slab_bytes is not finite: NaN$' \
	"${report[@]}" --check nan.json
mutate null.json 'del find("pgbench", "dm-linear")["tps"]; find("space", "dm-thin-64k", data="random")["data"] = None'
expect "--check: a missing key" 1 '^report\.py: null\.json: record 84 \(pgbench, dm-linear\): tps is missing$' \
	"${report[@]}" --check null.json
expect "--check: null for a word" 1 \
	'^report\.py: null\.json: record 67 \(space, dm-thin-64k\): data is not one of random, sparse: null$' \
	"${report[@]}" --check null.json
mutate half.json 'find("activation", "dynsnap-sub")["deltas"] = 2.5'
expect "--check: a fraction for a count" 1 \
	'^report\.py: half\.json: record 63 \(activation, dynsnap-sub\): deltas is not a whole number: 2\.5$' \
	"${report[@]}" --check half.json
mutate failed.json 'find("pgbench", "dynsnap-sub")["view_check"] = "failed"'
expect "--check: a failed view check" 1 '^report\.py: failed\.json: record 89 \(pgbench, dynsnap-sub\): view check failed$' \
	"${report[@]}" --check failed.json
expect "a failed view check is shown in the report" 0 '^\| dynsnap-sub \| 60\.0 s \| 500 \| .* \| failed \|' \
	"${report[@]}" failed.json
expect "a failed view check is named under the summary" 0 \
	'^\*\*The pgbench view check failed for dynsnap-sub\.\*\*$' "${report[@]}" failed.json
mutate anchorfail.json 'find("pgbench", "dm-thin-64k")["view_check"] = "failed"'
expect "--check: an anchor's view check may fail" 0 '^ok: 91 records' "${report[@]}" --check anchorfail.json
mutate unknown.json 'd["results"][3]["config"] = "dm-foo"'
expect "--check: an unknown config" 1 '^report\.py: unknown\.json: record 3 \(fio, dm-foo\): config "dm-foo" is not in configs$' \
	"${report[@]}" --check unknown.json
expect "--check: an unknown figure" 1 '^report\.py: future\.json: record 91 \(future, dynsnap-sub\): unknown figure "future"$' \
	"${report[@]}" --check future.json
mutate repeat.json 'd["results"].append(dict(d["results"][0]))'
expect "--check: a repeated record" 1 \
	'^report\.py: repeat\.json: record 91 \(fio, dm-linear\): repeats record 0 \(workload randwrite-4k-qd16, snapshots 0\)$' \
	"${report[@]}" --check repeat.json
mutate format.json 'd["format"] = 2'
expect "--check: another format" 1 '^report\.py: format\.json: format is 2, this program reads format 1$' \
	"${report[@]}" --check format.json
expect "another format" 1 '^report\.py: format\.json: format is 2, this program reads format 1$' \
	"${report[@]}" format.json
mutate header.json 'd["mode"] = "quick"; d["vm"]["cpus"] = "2"; d["started"] = "today"; del d["parameters"]["many_snapshots"]'
expect "--check: mode" 1 '^report\.py: header\.json: mode is not full or smoke: "quick"$' "${report[@]}" --check header.json
expect "--check: vm" 1 '^report\.py: header\.json: vm\.cpus is not a number: "2"$' "${report[@]}" --check header.json
expect "--check: started" 1 '^report\.py: header\.json: started is not a time like' "${report[@]}" --check header.json
expect "--check: many_snapshots" 1 '^report\.py: header\.json: parameters\.many_snapshots is missing$' \
	"${report[@]}" --check header.json
expect "header problems do not stop the report" 0 '^\| dynsnap-sub \| 1\.50 \| 1\.49 ' "${report[@]}" header.json
mutate configs.json 'd["configs"] = ["dynsnap-sub", "dynsnap-sub"]'
expect "--check: configs" 1 '^report\.py: configs\.json: configs\[1\] repeats "dynsnap-sub"$' "${report[@]}" --check configs.json
expect "configs without dm-linear" 1 '^report\.py: configs\.json: configs has no dm-linear$' "${report[@]}" configs.json
mutate types.json 'd["vm"] = None; d["parameters"] = []; d["results"] = [7, None, {"figure": 3}] + d["results"]'
expect "--check: wrong types" 1 '^report\.py: types\.json: record 2 \(\?, \?\): figure is not a non-empty string: 3$' \
	"${report[@]}" --check types.json
expect "--check: a record that is not an object" 1 '^report\.py: types\.json: record 0: is not an object: 7$' \
	"${report[@]}" --check types.json
mutate types2.json 'd["configs"] = "dm-linear"; d["results"] = {}'
expect "configs and results of the wrong type" 1 '^report\.py: types2\.json: results is not a list$' \
	"${report[@]}" types2.json

# ---- --charts
charts="fio-write-iops fio-write-p99 first-write snapshot-create space pgbench-tps memory view-read activation"
expect "--charts: the report lists the charts" 0 '^- fio-write-iops\.svg, fio-write-iops\.png$' \
	"${report[@]}" --charts charts good.json
for c in $charts; do
	expect "--charts: $c.svg" 0 '<svg' cat "charts/$c.svg"
	expect "--charts: $c.png" 0 '^89504e470d0a1a0a$' \
		bash -c "test -s charts/$c.png && head -c 8 charts/$c.png | od -An -tx1 | tr -d ' \n'"
	expect "--charts: $c.gp" 0 "set output '$c\\.png'" cat "charts/$c.gp"
done
expect "--charts: dm-linear is the baseline of every snapshot count" 0 \
	$'^"randwrite-4k-qd16, 3 snapshots"\t20000\\.0\t1000\\.0\t800\\.0\t7000\\.0\t9000\\.0\t10400\\.0\t8400\\.0$' \
	cat charts/fio-write-iops.dat
expect "--charts: a log scale for values far apart" 0 '^set logscale y$' cat charts/fio-write-iops.gp
expect "--charts: no log scale for values close together" 0 '^linear$' \
	bash -c '! grep -q logscale charts/pgbench-tps.gp && echo linear'
expect "--charts: without gnuplot" 1 '^report\.py: gnuplot is missing; install the Debian package gnuplot-nox$' \
	env PATH="$tmp/nowhere" "$py" "$repo/bench/report.py" --charts charts2 good.json
expect "--charts: a file for a directory" 1 '^report\.py: cannot write charts to good\.json: ' \
	"${report[@]}" --charts good.json good.json

# ---- usage and unreadable files
printf '{"benchmark": "dynsnap-bench", ' >truncated.json
printf '[1, 2]' >list.json
printf '{"benchmark": "space-efficiency", "results": []}' >other.json
printf '{"benchmark": "dynsnap-bench"}' >bare.json
printf '\377\376' >binary.json
mutate empty.json 'd["results"] = []'
expect "no argument" 1 '^usage: report\.py \[--check\] \[--charts DIR\] RESULTS\.json$' "${report[@]}"
expect "two files" 1 '^usage: report\.py' "${report[@]}" good.json good.json
expect "an unknown option" 1 '^usage: report\.py' "${report[@]}" --bogus good.json
expect "--charts without a directory" 1 '^usage: report\.py' "${report[@]}" good.json --charts
expect "--check and --charts" 1 '^usage: report\.py' "${report[@]}" --check --charts charts good.json
expect "a missing file" 1 '^report\.py: cannot read missing\.json: ' "${report[@]}" missing.json
expect "a directory" 1 '^report\.py: cannot read \.: ' "${report[@]}" .
expect "a truncated file" 1 '^report\.py: cannot read truncated\.json: ' "${report[@]}" truncated.json
expect "not UTF-8" 1 '^report\.py: cannot read binary\.json: ' "${report[@]}" --check binary.json
expect "a list, not an object" 1 '^report\.py: list\.json is not a dynsnap-bench results file$' "${report[@]}" list.json
expect "another benchmark" 1 '^report\.py: other\.json is not a dynsnap-bench results file$' \
	"${report[@]}" --check other.json
expect "only the benchmark name" 1 '^report\.py: bare\.json: format is missing$' "${report[@]}" bare.json
expect "no results" 1 '^report\.py: empty\.json: no results to report$' "${report[@]}" empty.json

expect "run-bench: unknown argument" 1 'unknown argument --bogus' "$repo/tools/run-bench" --bogus
expect "run-bench: --kernel without a value" 1 '--kernel needs a version' "$repo/tools/run-bench" --kernel
expect "run-bench: --out without a value" 1 '--out needs a directory' "$repo/tools/run-bench" --out
expect "run-bench: --help" 0 'Usage: tools/run-bench' "$repo/tools/run-bench" --help

finish

#!/bin/bash
# bench/report.py and tools/run-bench arguments: a results file becomes a
# table with the right ratios; bad files and arguments give a one-line
# error and a non-zero exit, and never start a VM.
#   bench-report.sh REPO
repo=$1
. "$(dirname "$0")/lib.sh"

cat >"$tmp/good.json" <<'JSON'
{"benchmark": "space-efficiency", "kernel": "k", "cpus": 2, "memory_kib": 1, "fio": "fio-x",
 "area_bytes": 33554432, "workload": "w", "results": [
  {"config": "dynsnap-bit", "data": "sparse", "overwritten_bytes": 4194304, "stored_bytes": 1048576, "ratio": 0.25},
  {"config": "dm-snapshot-4k", "data": "sparse", "overwritten_bytes": 4194304, "stored_bytes": 4194304, "ratio": 1.0},
  {"config": "dm-thin-64k", "data": "sparse", "overwritten_bytes": 4194304, "stored_bytes": 8388608, "ratio": 2.0}
 ]}
JSON
printf '{"benchmark": "space-efficiency", "results": []}' >"$tmp/empty.json"
printf '{"benchmark": "other", "results": [1]}' >"$tmp/other.json"
printf '{"benchmark": ' >"$tmp/truncated.json"
sed 's/"stored_bytes": 1048576, //' "$tmp/good.json" >"$tmp/nostored.json"
printf '[1, 2]' >"$tmp/list.json"

report="python3 $repo/bench/report.py"
expect "a results file: dynsnap row against the best anchor" 0 \
	'^\| dynsnap-bit \| sparse \| 1\.0 \| 0\.250 \| 0\.25 \|$' $report "$tmp/good.json"
expect "a results file: the anchor row" 0 '^\| dm-thin-64k \| sparse \| 8\.0 \| 2\.000 \| 2\.00 \|$' \
	$report "$tmp/good.json"
expect "no argument" 1 'usage: report.py' $report
expect "two arguments" 1 'usage: report.py' $report "$tmp/good.json" "$tmp/good.json"
expect "a missing file" 1 'cannot read' $report "$tmp/missing.json"
expect "a truncated file" 1 'cannot read' $report "$tmp/truncated.json"
expect "no results" 1 'not a space-efficiency results file' $report "$tmp/empty.json"
expect "a result without stored bytes" 1 'malformed results' $report "$tmp/nostored.json"
expect "a list, not an object" 1 'not a space-efficiency results file' $report "$tmp/list.json"
expect "another benchmark" 1 'not a space-efficiency results file' $report "$tmp/other.json"
expect "run-bench: unknown argument" 1 'unknown argument --bogus' "$repo/tools/run-bench" --bogus
expect "run-bench: --kernel without a value" 1 '--kernel needs a version' "$repo/tools/run-bench" --kernel
expect "run-bench: --out without a value" 1 '--out needs a directory' "$repo/tools/run-bench" --out
expect "run-bench: --help" 0 'Usage: tools/run-bench' "$repo/tools/run-bench" --help

finish

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Render a benchmark results file (JSON) of bench/ as a markdown table."""
import json
import sys


def mib(n):
    return f"{n / 1048576:.1f}"


def space_table(doc):
    out = [
        f"Space kept for one snapshot: fio 4 KiB random overwrites of "
        f"{mib(doc['results'][0]['overwritten_bytes'])} MiB (each block once) "
        f"in a {mib(doc['area_bytes'])} MiB volume; kernel {doc['kernel']}, "
        f"{doc['cpus']} vCPUs, {doc['fio']}.",
        "",
        "| configuration | new data | stored MiB | stored / overwritten | vs best anchor |",
        "|---|---|---|---|---|",
    ]
    for data in sorted({r["data"] for r in doc["results"]}):
        rows = [r for r in doc["results"] if r["data"] == data]
        anchors = [r["stored_bytes"] for r in rows
                   if not r["config"].startswith("dynsnap") and r["stored_bytes"] > 0]
        best = min(anchors) if anchors else 0
        for r in rows:
            vs = f"{r['stored_bytes'] / best:.2f}" if best else "-"
            out.append(f"| {r['config']} | {data} | {mib(r['stored_bytes'])} | "
                       f"{r['ratio']:.3f} | {vs} |")
    return "\n".join(out)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: report.py RESULTS.json")
    try:
        with open(sys.argv[1]) as f:
            doc = json.load(f)
    except (OSError, ValueError) as err:
        sys.exit(f"report.py: cannot read {sys.argv[1]}: {err}")
    if not isinstance(doc, dict) or doc.get("benchmark") != "space-efficiency" \
            or not doc.get("results"):
        sys.exit(f"report.py: {sys.argv[1]} is not a space-efficiency results file")
    try:
        table = space_table(doc)
    except (KeyError, TypeError, ValueError) as err:
        sys.exit(f"report.py: {sys.argv[1]}: malformed results: {err!r}")
    print(table)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Report on a dynsnap benchmark results file written by tools/run-bench.

Usage: report.py [--check] [--charts DIR] RESULTS.json

  (default)     print a markdown report: a summary table of headline ratios
                for each dynsnap configuration, then one table per figure
  --check       validate the file strictly instead; print "ok: ..." or one
                error line per problem on stderr and exit 1
  --charts DIR  also draw charts with gnuplot into DIR: NAME.svg, NAME.png,
                and the NAME.dat and NAME.gp they were drawn from (run
                "gnuplot NAME.gp" in DIR to draw them again)

The results file is one JSON object:

  benchmark   "dynsnap-bench"
  format      1
  mode        "full" or "smoke"
  started     UTC start time, "2026-11-24T12:00:00Z"
  kernel      kernel release the VM booted
  vm          {"cpus", "memory_kib", "accelerator", "disks": {name: text}}
  fio, postgresql
              versions of the tools, as text
  parameters  free-form object of numbers and text; "many_snapshots" is the
              snapshot count of the many-snapshot runs
  configs     configuration names, in report order; "dm-linear" (no
              snapshot) is the baseline, every other "dm-*" configuration
              (dm-snapshot-*, dm-thin-*) is an anchor, "dynsnap-*" are the
              configurations under test
  results     list of records, each with "figure" and "config" and:

  fio              workload, snapshots, write_iops, write_bytes_per_sec,
                   write_lat_p50_us, write_lat_p99_us, read_iops,
                   read_lat_p99_us (dm-linear: snapshots 0, the baseline of
                   every snapshot count of the workload)
  first-write      writes, lat_p50_us, lat_p99_us
  snapshot-create  count, p50_ms, p99_ms, mean_ms (not dm-linear)
  view-read        bytes, bytes_per_sec (dm-linear reads the live volume)
  activation       snapshots, deltas, seconds (not dm-linear)
  space            data ("random" or "sparse"), overwritten_bytes,
                   stored_bytes (not dm-linear)
  memory           snapshots, retained_deltas, slab_bytes, vmalloc_bytes,
                   bufio_bytes (dm-bufio's buffers), empty_bytes (the
                   total with the volume set up and no snapshot yet)
  pgbench          seconds, tps, snapshots, written_bytes, stored_bytes,
                   view_check ("passed", "failed" or "skipped")

Numbers are finite and not negative; snapshots, count, writes, deltas and
retained_deltas are whole numbers.  Keys and figures this program does not
know are ignored (--check rejects unknown figures).  Records are numbered
from 0, as in results[N].

The report starts with a summary table: for each dynsnap configuration,
value / best anchor of randwrite IOPS with 1 and with many snapshots,
first-write p99, snapshot-create p50, space on random data, pgbench TPS and
memory.  Charts: fio-write-iops, fio-write-p99, first-write,
snapshot-create, space, pgbench-tps, memory, view-read, activation; a chart
whose values span more than 30 times has a log scale.

Ratios are value / reference: "x dm-linear" against the dm-linear record of
the same figure (and workload), "x best anchor" against the anchor with the
best value of the same figure, workload, snapshot count and data kind (the
highest IOPS, throughput or TPS; the lowest latency, time, bytes).  A
missing or zero reference gives "-".
"""
import json
import math
import os
import shutil
import subprocess
import sys
from datetime import datetime

PROG = "report.py"
USAGE = f"usage: {PROG} [--check] [--charts DIR] RESULTS.json"
LINEAR = "dm-linear"
WORKLOAD_ORDER = ("randwrite-4k-qd16", "seqwrite-64k", "randrw-70-30-4k-qd16")
DATA_KINDS = ("random", "sparse")
VIEW_CHECKS = ("passed", "failed", "skipped")

# Kinds of field: a non-negative finite number, a whole number, text, or
# one of a tuple of words.
NUMBER, COUNT, TEXT = "number", "count", "text"

FIELDS = {
    "fio": {"workload": TEXT, "snapshots": COUNT, "write_iops": NUMBER,
            "write_bytes_per_sec": NUMBER, "write_lat_p50_us": NUMBER,
            "write_lat_p99_us": NUMBER, "read_iops": NUMBER,
            "read_lat_p99_us": NUMBER},
    "first-write": {"writes": COUNT, "lat_p50_us": NUMBER,
                    "lat_p99_us": NUMBER},
    "snapshot-create": {"count": COUNT, "p50_ms": NUMBER, "p99_ms": NUMBER,
                        "mean_ms": NUMBER},
    "view-read": {"bytes": NUMBER, "bytes_per_sec": NUMBER},
    "activation": {"snapshots": COUNT, "deltas": COUNT, "seconds": NUMBER},
    "space": {"data": DATA_KINDS, "overwritten_bytes": NUMBER,
              "stored_bytes": NUMBER},
    "memory": {"snapshots": COUNT, "retained_deltas": COUNT,
               "slab_bytes": NUMBER, "vmalloc_bytes": NUMBER,
               "bufio_bytes": NUMBER, "empty_bytes": NUMBER},
    "pgbench": {"seconds": NUMBER, "tps": NUMBER, "snapshots": COUNT,
                "written_bytes": NUMBER, "stored_bytes": NUMBER,
                "view_check": VIEW_CHECKS},
}

# Fields that tell records of one figure and configuration apart, and the
# ones the dm-linear reference must share with a record.
ROW_KEY = {"fio": ("workload", "snapshots"), "activation": ("snapshots",),
           "space": ("data",), "memory": ("snapshots",)}
LINEAR_KEY = {"fio": ("workload",)}

# Figures every configuration has, and those only snapshot targets have.
ALL_FIGURES = ("fio", "first-write", "view-read", "memory", "pgbench")
SNAPSHOT_FIGURES = ("snapshot-create", "activation", "space")

TOP_FIELDS = {"started": TEXT, "kernel": TEXT, "fio": TEXT,
              "postgresql": TEXT}
VM_FIELDS = {"cpus": COUNT, "memory_kib": NUMBER, "accelerator": TEXT}


class Failure(Exception):
    """Error lines (without the program prefix); the exit status is 1."""

    def __init__(self, *lines):
        super().__init__(lines)
        self.lines = lines


# ---------------------------------------------------------------- numbers

def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def shown(value):
    """A value as JSON, cut short, for error messages."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def field_error(obj, key, kind, name=None):
    """Why obj[key] is not of the kind, or None if it is."""
    name = name or key
    if key not in obj:
        return f"{name} is missing"
    value = obj[key]
    if kind == TEXT:
        if not isinstance(value, str) or not value:
            return f"{name} is not a non-empty string: {shown(value)}"
        return None
    if isinstance(kind, tuple):
        if value not in kind:
            return f"{name} is not one of {', '.join(kind)}: {shown(value)}"
        return None
    if not is_number(value):
        return f"{name} is not a number: {shown(value)}"
    if not math.isfinite(value):
        return f"{name} is not finite: {shown(value)}"
    if value < 0:
        return f"{name} is negative: {shown(value)}"
    if kind == COUNT and value != int(value):
        return f"{name} is not a whole number: {shown(value)}"
    return None


def fields_errors(obj, fields, prefix=""):
    errors = (field_error(obj, key, kind, prefix + key)
              for key, kind in fields.items())
    return [e for e in errors if e]


# ---------------------------------------------------------------- loading

def load(path):
    """The parsed JSON document of path."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError, RecursionError) as err:
        raise Failure(f"cannot read {path}: {err}") from None


def config_errors(configs):
    if not isinstance(configs, list) or not configs:
        return ["configs is not a non-empty list"]
    errors = []
    for i, name in enumerate(configs):
        if not isinstance(name, str) or not name:
            errors.append(f"configs[{i}] is not a non-empty string: {shown(name)}")
        elif name in configs[:i]:
            errors.append(f"configs[{i}] repeats {shown(name)}")
    if LINEAR not in configs:
        errors.append(f"configs has no {LINEAR}")
    return errors


def fatal_errors(doc):
    """Top-level problems that leave nothing to report on."""
    errors = []
    if "format" not in doc:
        errors.append("format is missing")
    elif not is_number(doc["format"]) or doc["format"] != 1:
        errors.append(f"format is {shown(doc['format'])}, this program reads format 1")
    errors += config_errors(doc.get("configs"))
    if not isinstance(doc.get("results"), list):
        errors.append("results is not a list")
    return errors


def started_error(doc):
    value = doc.get("started")
    if not isinstance(value, str):
        return None
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return f"started is not a time like 2026-11-24T12:00:00Z: {shown(value)}"
    return None


def vm_errors(vm):
    if not isinstance(vm, dict):
        return [f"vm is not an object: {shown(vm)}"]
    errors = fields_errors(vm, VM_FIELDS, "vm.")
    disks = vm.get("disks")
    if not isinstance(disks, dict):
        errors.append(f"vm.disks is not an object: {shown(disks)}")
    else:
        errors += [f"vm.disks.{k} is not a string: {shown(v)}"
                   for k, v in disks.items() if not isinstance(v, str)]
    return errors


def parameter_errors(params):
    if not isinstance(params, dict):
        return [f"parameters is not an object: {shown(params)}"]
    errors = [f"parameters.{k} is not a number or a string: {shown(v)}"
              for k, v in params.items()
              if not (isinstance(v, str) or is_number(v) and math.isfinite(v))]
    error = field_error(params, "many_snapshots", COUNT, "parameters.many_snapshots")
    if error:
        errors.append(error)
    elif params["many_snapshots"] < 1:
        errors.append("parameters.many_snapshots is 0")
    return errors


def header_errors(doc):
    """Problems of the top-level fields besides format, configs, results."""
    errors = []
    if doc.get("mode") not in ("full", "smoke"):
        errors.append(f"mode is not full or smoke: {shown(doc.get('mode'))}")
    errors += fields_errors(doc, TOP_FIELDS)
    errors += [e for e in [started_error(doc)] if e]
    errors += vm_errors(doc.get("vm"))
    errors += parameter_errors(doc.get("parameters"))
    return errors


def label(i, rec):
    if not isinstance(rec, dict):
        return f"record {i}"
    fig = rec.get("figure")
    cfg = rec.get("config")
    fig = fig if isinstance(fig, str) else "?"
    cfg = cfg if isinstance(cfg, str) else "?"
    return f"record {i} ({fig}, {cfg})"


def record_errors(rec, configs):
    """Problems of one record; the first says if the figure is unknown."""
    if not isinstance(rec, dict):
        return [f"is not an object: {shown(rec)}"]
    fig, cfg = rec.get("figure"), rec.get("config")
    errors = []
    if "figure" not in rec:
        errors.append("figure is missing")
    elif not isinstance(fig, str) or not fig:
        errors.append(f"figure is not a non-empty string: {shown(fig)}")
    elif fig not in FIELDS:
        errors.append(f"unknown figure {shown(fig)}")
    if "config" not in rec:
        errors.append("config is missing")
    elif not isinstance(cfg, str) or cfg not in configs:
        errors.append(f"config {shown(cfg)} is not in configs")
    if isinstance(fig, str) and fig in FIELDS:
        errors += fields_errors(rec, FIELDS[fig])
    return errors


def normalised(rec):
    """A copy of a valid record with whole numbers as int."""
    rec = dict(rec)
    for key, kind in FIELDS[rec["figure"]].items():
        if kind == COUNT:
            rec[key] = int(rec[key])
    return rec


class Results:
    """The valid records of a results file, by figure, in file order."""

    def __init__(self, doc, records):
        self.doc = doc
        self.configs = doc["configs"]
        self.records = records              # [(index, record)]
        self.by_figure = {fig: [] for fig in FIELDS}
        for _, rec in records:
            self.by_figure[rec["figure"]].append(rec)
        self.many = self.many_snapshots()

    def many_snapshots(self):
        params = self.doc.get("parameters")
        if isinstance(params, dict) and not parameter_errors(params):
            return int(params["many_snapshots"])
        counts = [r["snapshots"] for r in self.by_figure["fio"]]
        return max(counts, default=0)

    def of(self, fig, **key):
        """Records of a figure whose fields have the given values."""
        return [r for r in self.by_figure[fig]
                if all(r.get(k) == v for k, v in key.items())]

    def workloads(self):
        seen = []
        for rec in self.by_figure["fio"]:
            if rec["workload"] not in seen:
                seen.append(rec["workload"])
        known = [w for w in WORKLOAD_ORDER if w in seen]
        return known + [w for w in seen if w not in known]

    def ordered(self, fig, **key):
        """Records of a figure in the order of configs, then row key."""
        order = {c: i for i, c in enumerate(self.configs)}
        keys = ROW_KEY.get(fig, ())
        return sorted(self.of(fig, **key),
                      key=lambda r: (order[r["config"]], [r[k] for k in keys]))


def read_results(path, doc, strict):
    """Results of a parsed document, or Failure with every error found.

    strict: every problem is an error (--check).  Otherwise only problems
    that leave nothing to report are, invalid records are skipped with a
    warning and records of unknown figures are ignored.
    """
    if not isinstance(doc, dict) or doc.get("benchmark") != "dynsnap-bench":
        raise Failure(f"{path} is not a dynsnap-bench results file")
    errors = fatal_errors(doc)
    if errors:
        errors += header_errors(doc) if strict else []
        raise Failure(*(f"{path}: {e}" for e in errors))
    errors = header_errors(doc) if strict else []
    configs = doc["configs"]
    records = []
    for i, rec in enumerate(doc["results"]):
        problems = record_errors(rec, configs)
        if not problems:
            records.append((i, normalised(rec)))
        elif strict:
            errors += [f"{label(i, rec)}: {p}" for p in problems]
        elif not problems[0].startswith("unknown figure"):
            warn(f"{path}: {label(i, rec)}: {'; '.join(problems)}; record skipped")
    results = Results(doc, records)
    if strict:
        errors += repeat_errors(results) + view_check_errors(results)
        errors += coverage_errors(results)
        if errors:
            raise Failure(*(f"{path}: {e}" for e in errors))
    return results


def warn(line):
    print(f"{PROG}: {line}", file=sys.stderr)


# ---------------------------------------------------------------- --check

def repeat_errors(results):
    errors, seen = [], {}
    for i, rec in results.records:
        fig = rec["figure"]
        keys = ROW_KEY.get(fig, ())
        key = (fig, rec["config"]) + tuple(rec[k] for k in keys)
        if key in seen:
            what = ", ".join(f"{k} {rec[k]}" for k in keys)
            errors.append(f"{label(i, rec)}: repeats record {seen[key]}"
                          + (f" ({what})" if what else ""))
        else:
            seen[key] = i
    return errors


def view_check_errors(results):
    return [f"{label(i, rec)}: view check failed"
            for i, rec in results.records
            if rec["figure"] == "pgbench" and rec["config"].startswith("dynsnap-")
            and rec["view_check"] == "failed"]


def snapshots_text(n):
    return f"{n} snapshot" + ("" if n == 1 else "s")


def fio_coverage(results, cfg):
    counts = [0] if cfg == LINEAR else sorted({1, results.many})
    return [f"{cfg} has no fio record for {w} at {snapshots_text(n)}"
            for w in results.workloads() for n in counts
            if not results.of("fio", config=cfg, workload=w, snapshots=n)]


def coverage_errors(results):
    errors = []
    for cfg in results.configs:
        figures = ALL_FIGURES + (() if cfg == LINEAR else SNAPSHOT_FIGURES)
        errors += [f"{cfg} has no {fig} record" for fig in figures
                   if not results.of(fig, config=cfg)]
        if cfg != LINEAR and results.of("space", config=cfg):
            errors += [f"{cfg} has no space record for {data} data"
                       for data in DATA_KINDS
                       if not results.of("space", config=cfg, data=data)]
        if results.of("fio", config=cfg) and results.many:
            errors += fio_coverage(results, cfg)
    return errors


# ---------------------------------------------------------------- metrics

class Metric:
    """A value of a figure's records: what it is, and which way is better."""

    def __init__(self, fig, name, get, higher_better):
        self.fig, self.name, self.get = fig, name, get
        self.higher_better = higher_better

    def better(self):
        return "higher" if self.higher_better else "lower"


def field(key):
    return lambda rec: rec[key]


def quotient(num, den):
    return lambda rec: rec[num] / rec[den] if rec[den] else None


def memory_total(rec):
    return rec["slab_bytes"] + rec["vmalloc_bytes"] + rec["bufio_bytes"]


def memory_per_delta(rec):
    """What each retained delta adds beyond the target's fixed cost."""
    deltas = rec["retained_deltas"]
    return max(memory_total(rec) - rec["empty_bytes"], 0) / deltas if deltas else None


def per_snapshot(key):
    return lambda rec: rec[key] / rec["snapshots"] if rec["snapshots"] else None


METRICS = {
    "iops": Metric("fio", "write IOPS", field("write_iops"), True),
    "p99": Metric("fio", "write p99", field("write_lat_p99_us"), False),
    "fw50": Metric("first-write", "p50", field("lat_p50_us"), False),
    "fw99": Metric("first-write", "p99", field("lat_p99_us"), False),
    "create50": Metric("snapshot-create", "p50", field("p50_ms"), False),
    "create99": Metric("snapshot-create", "p99", field("p99_ms"), False),
    "view": Metric("view-read", "throughput", field("bytes_per_sec"), True),
    "activate": Metric("activation", "seconds", field("seconds"), False),
    "space": Metric("space", "stored/overwritten",
                    quotient("stored_bytes", "overwritten_bytes"), False),
    "memory": Metric("memory", "total", memory_total, False),
    "tps": Metric("pgbench", "TPS", field("tps"), True),
}


def is_anchor(cfg):
    return cfg.startswith("dm-") and cfg != LINEAR


def group_key(rec):
    """Fields an anchor record must share to be compared with rec."""
    return {k: rec[k] for k in ROW_KEY.get(rec["figure"], ())}


def best_anchor(results, metric, rec):
    """(value, config) of the best anchor for rec's group, or None."""
    best = None
    for other in results.ordered(metric.fig, **group_key(rec)):
        value = metric.get(other) if is_anchor(other["config"]) else None
        if value is None:
            continue
        if best is None or (value > best[0] if metric.higher_better
                            else value < best[0]):
            best = (value, other["config"])
    return best


def linear_value(results, metric, rec):
    key = {k: rec[k] for k in LINEAR_KEY.get(metric.fig, ())}
    refs = results.ordered(metric.fig, config=LINEAR, **key)
    return metric.get(refs[0]) if refs else None


def ratio(value, ref):
    if value is None or ref is None or ref == 0:
        return None
    return value / ref


def anchor_ratio(results, metric, rec):
    best = best_anchor(results, metric, rec)
    return ratio(metric.get(rec), best[0] if best else None)


def linear_ratio(results, metric, rec):
    return ratio(metric.get(rec), linear_value(results, metric, rec))


# ---------------------------------------------------------------- formats

def sig(value):
    """A number with about three significant digits."""
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_us(us):
    if us < 1000:
        return f"{sig(us)} µs"
    if us < 1e6:
        return f"{sig(us / 1000)} ms"
    return f"{sig(us / 1e6)} s"


def fmt_ms(ms):
    return fmt_us(ms * 1000)


def fmt_seconds(seconds):
    return fmt_us(seconds * 1e6)


def fmt_bytes(n):
    if n is None:
        return "-"
    if n < 1024:
        return f"{n:.0f} B"
    for unit in ("KiB", "MiB", "GiB"):
        n /= 1024
        if n < 1024:
            return f"{n:.1f} {unit}"
    return f"{n / 1024:.1f} TiB"


def fmt_rate(bytes_per_sec):
    return fmt_bytes(bytes_per_sec) + "/s"


def fmt_ratio(value):
    return "-" if value is None else f"{value:.2f}"


def table(header, rows):
    """A markdown table; a | inside a cell is escaped."""
    def line(cells):
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
    return [line(header), "|" + "---|" * len(header)] + [line(r) for r in rows]


def ratio_cells(results, metric, rec, linear=True):
    cells = [fmt_ratio(linear_ratio(results, metric, rec))] if linear else []
    return cells + [fmt_ratio(anchor_ratio(results, metric, rec))]


def ratio_header(name, linear=True):
    prefix = f"{name} " if name else ""
    cells = [f"{prefix}× dm-linear"] if linear else []
    return cells + [f"{prefix}× best anchor"]


def direction(*metrics):
    """The sentence that says which way each metric's ratios are better."""
    parts = []
    for way in ("higher", "lower"):
        names = [m.name for m in metrics if m.better() == way]
        if names:
            parts.append(f"{way} is better for {' and '.join(names)}")
    return "Ratios are value / reference; " + ", ".join(parts) + "."


# ---------------------------------------------------------------- sections

def header_line(doc):
    vm = doc.get("vm") if isinstance(doc.get("vm"), dict) else {}

    def text(obj, key):
        value = obj.get(key)
        return str(value) if isinstance(value, (str, int, float)) else "?"

    memory = vm.get("memory_kib")
    memory = fmt_bytes(memory * 1024) if is_number(memory) and \
        math.isfinite(memory) and memory >= 0 else "?"
    return (f"Kernel {text(doc, 'kernel')}; VM {text(vm, 'cpus')} CPUs, "
            f"{memory} memory, {text(vm, 'accelerator')}; "
            f"{text(doc, 'fio')}; PostgreSQL {text(doc, 'postgresql')}; "
            f"mode {text(doc, 'mode')}; started {text(doc, 'started')}.")


def setup_lines(doc):
    lines = []
    vm = doc.get("vm")
    disks = vm.get("disks") if isinstance(vm, dict) else None
    if isinstance(disks, dict) and disks:
        lines.append("Disks: " + ", ".join(f"{k}: {v}" for k, v in disks.items()) + ".")
    params = doc.get("parameters")
    if isinstance(params, dict) and params:
        lines.append("Parameters: " + ", ".join(f"{k} {v}" for k, v in params.items()) + ".")
    if doc.get("mode") == "smoke":
        lines.append("This is a smoke run: short and small, to check the "
                     "benchmark itself; its numbers are not for comparison.")
    return lines


def memory_snapshots(results):
    """The snapshot count of the memory records of snapshot targets."""
    counts = [r["snapshots"] for r in results.by_figure["memory"]
              if r["config"] != LINEAR]
    return max(counts, default=0)


def summary_columns(results):
    """(header, metric, group fields) of each headline ratio."""
    columns = []
    workloads = results.workloads()
    if workloads:
        w = workloads[0]
        for n in sorted({1, results.many}):
            columns.append((f"{w} IOPS, {snapshots_text(n)} ↑", METRICS["iops"],
                            {"workload": w, "snapshots": n}))
    columns += [("first-write p99 ↓", METRICS["fw99"], {}),
                ("snapshot-create p50 ↓", METRICS["create50"], {}),
                ("space, random data ↓", METRICS["space"], {"data": "random"}),
                ("pgbench TPS ↑", METRICS["tps"], {})]
    many = memory_snapshots(results)
    if many:
        columns.append((f"memory, {snapshots_text(many)} ↓", METRICS["memory"],
                        {"snapshots": many}))
    return columns


def summary_cell(results, metric, cfg, key):
    recs = results.of(metric.fig, config=cfg, **key)
    return fmt_ratio(anchor_ratio(results, metric, recs[0])) if recs else "-"


def best_anchor_cell(results, metric, key):
    for rec in results.of(metric.fig, **key):
        best = best_anchor(results, metric, rec)
        if best:
            return best[1]
    return "-"


def summary(results):
    columns = summary_columns(results)
    dynsnap = [c for c in results.configs if c.startswith("dynsnap-")]
    rows = [[cfg] + [summary_cell(results, m, cfg, key) for _, m, key in columns]
            for cfg in dynsnap]
    rows.append(["*best anchor*"] + [best_anchor_cell(results, m, key)
                                     for _, m, key in columns])
    failed = [r["config"] for r in results.of("pgbench", view_check="failed")
              if r["config"].startswith("dynsnap-")]
    return ["## Summary", "",
            "Each dynsnap configuration against the best anchor (the best "
            "of the dm-snapshot and dm-thin configurations for that "
            "measurement): value / best anchor value; ↑ higher is better, "
            "↓ lower is better.", ""] + \
        table(["configuration"] + [h for h, _, _ in columns], rows) + \
        ([] if not failed else
         ["", f"**The pgbench view check failed for {', '.join(failed)}.**"])


def fio_rows(results, workload, snapshots):
    rows = []
    for rec in results.ordered("fio", workload=workload, snapshots=snapshots):
        reads = rec["read_iops"] > 0
        rows.append([str(snapshots), rec["config"], sig(rec["write_iops"]),
                     f"{rec['write_bytes_per_sec'] / 1048576:.1f}",
                     fmt_us(rec["write_lat_p50_us"]),
                     fmt_us(rec["write_lat_p99_us"]),
                     sig(rec["read_iops"]) if reads else "-",
                     fmt_us(rec["read_lat_p99_us"]) if reads else "-"]
                    + ratio_cells(results, METRICS["iops"], rec)
                    + ratio_cells(results, METRICS["p99"], rec))
    return rows


def fio_section(results):
    lines = ["## fio", "",
             "fio jobs on the volume with 0 (dm-linear, the baseline of "
             "every snapshot count), 1 or many snapshots retained. "
             + direction(METRICS["iops"], METRICS["p99"])]
    header = ["snapshots", "configuration", "write IOPS", "write MiB/s",
              "write p50", "write p99", "read IOPS", "read p99"] + \
        ratio_header("IOPS") + ratio_header("p99")
    for workload in results.workloads():
        counts = sorted({r["snapshots"] for r in results.of("fio", workload=workload)})
        rows = [row for n in counts for row in fio_rows(results, workload, n)]
        lines += ["", f"### {workload}", ""] + table(header, rows)
    return lines


def first_write_section(results):
    rows = [[rec["config"], str(rec["writes"]), fmt_us(rec["lat_p50_us"]),
             fmt_us(rec["lat_p99_us"])]
            + ratio_cells(results, METRICS["fw50"], rec)
            + ratio_cells(results, METRICS["fw99"], rec)
            for rec in results.ordered("first-write")]
    return ["## first-write", "",
            "Latency of the first 4 KiB write to a block after a snapshot, "
            "queue depth 1 (dm-linear: the same job without a snapshot). "
            + direction(METRICS["fw50"], METRICS["fw99"]), ""] + \
        table(["configuration", "writes", "p50", "p99"] + ratio_header("p50")
              + ratio_header("p99"), rows)


def snapshot_create_section(results):
    rows = [[rec["config"], str(rec["count"]), fmt_ms(rec["p50_ms"]),
             fmt_ms(rec["p99_ms"]), fmt_ms(rec["mean_ms"])]
            + ratio_cells(results, METRICS["create50"], rec, linear=False)
            + ratio_cells(results, METRICS["create99"], rec, linear=False)
            for rec in results.ordered("snapshot-create")]
    return ["## snapshot-create", "",
            "Time to create a snapshot. "
            + direction(METRICS["create50"], METRICS["create99"]), ""] + \
        table(["configuration", "snapshots", "p50", "p99", "mean"]
              + ratio_header("p50", False) + ratio_header("p99", False), rows)


def view_read_section(results):
    rows = [[rec["config"], fmt_bytes(rec["bytes"]), fmt_rate(rec["bytes_per_sec"])]
            + ratio_cells(results, METRICS["view"], rec)
            for rec in results.ordered("view-read")]
    return ["## view-read", "",
            "Sequential read of a retained snapshot (dm-linear: of the live "
            "volume). " + direction(METRICS["view"]), ""] + \
        table(["configuration", "read", "throughput"] + ratio_header(""), rows)


def activation_section(results):
    rows = [[rec["config"], str(rec["snapshots"]), str(rec["deltas"]),
             fmt_seconds(rec["seconds"])]
            + ratio_cells(results, METRICS["activate"], rec, linear=False)
            for rec in results.ordered("activation")]
    return ["## activation", "",
            "Time to bring the volume and its retained snapshots back after "
            "removal. " + direction(METRICS["activate"]), ""] + \
        table(["configuration", "snapshots", "deltas", "time"]
              + ratio_header("", False), rows)


def space_rows(results, data):
    rows = []
    for rec in results.ordered("space", data=data):
        share = METRICS["space"].get(rec)
        rows.append([data, rec["config"], fmt_bytes(rec["overwritten_bytes"]),
                     fmt_bytes(rec["stored_bytes"]),
                     "-" if share is None else f"{share:.3f}"]
                    + ratio_cells(results, METRICS["space"], rec, linear=False))
    return rows


def space_section(results):
    kinds = [d for d in DATA_KINDS if results.of("space", data=d)]
    rows = [row for data in kinds for row in space_rows(results, data)]
    return ["## space", "",
            "Bytes kept for one snapshot while fio overwrites part of the "
            "volume once, with random or sparse new data. "
            + direction(METRICS["space"]), ""] + \
        table(["data", "configuration", "overwritten", "stored",
               "stored/overwritten"] + ratio_header("", False), rows)


def memory_section(results):
    rows = [[rec["config"], str(rec["snapshots"]), str(rec["retained_deltas"]),
             fmt_bytes(rec["slab_bytes"]), fmt_bytes(rec["vmalloc_bytes"]),
             fmt_bytes(rec["bufio_bytes"]), fmt_bytes(memory_total(rec)),
             fmt_bytes(rec["empty_bytes"]), fmt_bytes(memory_per_delta(rec))]
            + ratio_cells(results, METRICS["memory"], rec)
            for rec in results.ordered("memory")]
    return ["## memory", "",
            "Kernel memory of the target with many snapshots retained: "
            "slab (large kmalloc buffers included), vmalloc and dm-bufio "
            "buffers; \"no snapshot\" is the total once the volume is set "
            "up, \"per retained delta\" what each delta adds beyond it. "
            + direction(METRICS["memory"]), ""] + \
        table(["configuration", "snapshots", "retained deltas", "slab",
               "vmalloc", "dm-bufio", "total", "no snapshot", "per retained delta"]
              + ratio_header(""), rows)


def pgbench_section(results):
    rows = [[rec["config"], fmt_seconds(rec["seconds"]), sig(rec["tps"]),
             str(rec["snapshots"]), fmt_bytes(rec["written_bytes"]),
             fmt_bytes(rec["stored_bytes"]),
             fmt_bytes(per_snapshot("written_bytes")(rec)),
             fmt_bytes(per_snapshot("stored_bytes")(rec)), rec["view_check"]]
            + ratio_cells(results, METRICS["tps"], rec)
            for rec in results.ordered("pgbench")]
    return ["## pgbench", "",
            "PostgreSQL pgbench on ext4 on the volume, with a snapshot every "
            "few seconds; written is what reached the volume, stored the "
            "snapshot space used. " + direction(METRICS["tps"]), ""] + \
        table(["configuration", "time", "TPS", "snapshots", "written",
               "stored", "written per snapshot", "stored per snapshot",
               "view check"] + ratio_header("TPS"), rows)


SECTIONS = (("fio", fio_section), ("first-write", first_write_section),
            ("snapshot-create", snapshot_create_section),
            ("view-read", view_read_section), ("activation", activation_section),
            ("space", space_section), ("memory", memory_section),
            ("pgbench", pgbench_section))


def report(results, charts):
    lines = ["# dynsnap benchmark", "", header_line(results.doc), ""]
    lines += setup_lines(results.doc) + [""] + summary(results)
    for fig, section in SECTIONS:
        if results.by_figure[fig]:
            lines += [""] + section(results)
    if charts:
        lines += ["", "## Charts", ""]
        lines += [f"- {name}.svg, {name}.png" for name in charts]
    return "\n".join(lines)


# ---------------------------------------------------------------- charts

class Chart:
    """Grouped bars: one cluster per row label, one bar per series."""

    def __init__(self, name, title, ylabel, series):
        self.name, self.title, self.ylabel = name, title, ylabel
        self.series = series
        self.rows = []                      # [(label, [value or None])]

    def add(self, row_label, values):
        if any(v is not None for v in values):
            self.rows.append((row_label, values))

    def values(self):
        return [v for _, vs in self.rows for v in vs if v is not None]

    def log_scale(self):
        positive = [v for v in self.values() if v > 0]
        return len(positive) > 1 and max(positive) / min(positive) >= 30


def clean(text):
    """Text safe inside quotes of a gnuplot data file or script."""
    return "".join(c if c.isprintable() and c not in "\"'\\#\t" else "_"
                   for c in str(text))


def data_text(chart, log):
    lines = [f"# {clean(chart.title)}; ? is no value",
             "\t".join(f'"{clean(h)}"' for h in ["group"] + chart.series)]
    for row_label, values in chart.rows:
        cells = ["?" if v is None or (log and v <= 0) else repr(float(v))
                 for v in values]
        lines.append("\t".join([f'"{clean(row_label)}"'] + cells))
    return "\n".join(lines) + "\n"


def left_margin(chart):
    """Room, in characters, for the first slanted cluster label."""
    longest = max(len(clean(row_label)) for row_label, _ in chart.rows)
    return max(10, round(longest * 0.75) - 4)


def script_text(chart, log, png_terminal):
    name = chart.name
    lines = [f"# {clean(chart.title)}: draws {name}.svg and {name}.png "
             f"from {name}.dat; run with gnuplot {name}.gp in this directory",
             "set datafile separator '\\t'", "set datafile missing '?'",
             "set style data histograms",
             "set style histogram clustered gap 1",
             "set style fill solid 0.85 border -1",
             f"set title '{clean(chart.title)}' noenhanced",
             f"set ylabel '{clean(chart.ylabel)}' noenhanced",
             "set key outside right top noenhanced",
             "set xtics rotate by 30 right noenhanced", "set grid ytics",
             "set yrange [0:*]", f"set lmargin {left_margin(chart)}"]
    if log:
        low = 10 ** math.floor(math.log10(min(v for v in chart.values() if v > 0)))
        lines += ["set logscale y", f"set yrange [{low!r}:*]"]
    count = len(chart.series) + 1
    lines += ["set terminal svg size 960,540 noenhanced background rgb 'white'",
              f"set output '{name}.svg'",
              f"plot for [i=2:{count}] '{name}.dat' using i:xtic(1) title columnhead(i)",
              f"set terminal {png_terminal} size 960,540 noenhanced",
              f"set output '{name}.png'", "replot", "unset output"]
    return "\n".join(lines) + "\n"


def fio_chart(results, name, title, ylabel, key):
    """Clusters of workload and snapshot count; dm-linear's bar in each is
    its baseline without a snapshot."""
    chart = Chart(name, title, ylabel, results.configs)
    for workload in results.workloads():
        counts = sorted({r["snapshots"] for r in results.of("fio", workload=workload)
                         if r["config"] != LINEAR}) or [0]
        for n in counts:
            values = []
            for cfg in results.configs:
                recs = results.of("fio", config=cfg, workload=workload, snapshots=n)
                if not recs and cfg == LINEAR:
                    recs = results.ordered("fio", config=cfg, workload=workload)
                values.append(recs[0][key] if recs else None)
            chart.add(f"{workload}, {snapshots_text(n)}", values)
    return chart


def config_chart(results, fig, name, title, ylabel, series, pick=None):
    """A chart with a cluster per configuration; series: [(name, get)]."""
    chart = Chart(name, title, ylabel, [s for s, _ in series])
    for cfg in results.configs:
        recs = results.ordered(fig, config=cfg)
        rec = pick(recs) if recs and pick else (recs[0] if recs else None)
        if rec:
            chart.add(cfg, [get(rec) for _, get in series])
    return chart


def space_chart(results):
    chart = Chart("space", "space: stored / overwritten bytes for one snapshot",
                  "stored / overwritten", list(DATA_KINDS))
    for cfg in results.configs:
        values = []
        for data in DATA_KINDS:
            recs = results.of("space", config=cfg, data=data)
            values.append(METRICS["space"].get(recs[0]) if recs else None)
        chart.add(cfg, values)
    return chart


def charts_of(results):
    """The charts that have data, in the order of the report."""
    kib = 1024.0
    charts = [
        fio_chart(results, "fio-write-iops",
                  "fio write IOPS (dm-linear: no snapshot)", "IOPS", "write_iops"),
        fio_chart(results, "fio-write-p99",
                  "fio write latency p99 (dm-linear: no snapshot)", "µs",
                  "write_lat_p99_us"),
        config_chart(results, "first-write", "first-write",
                     "latency of the first write to a block after a snapshot",
                     "µs", [("p50", field("lat_p50_us")), ("p99", field("lat_p99_us"))]),
        config_chart(results, "snapshot-create", "snapshot-create",
                     "time to create a snapshot", "ms",
                     [("p50", field("p50_ms")), ("p99", field("p99_ms")),
                      ("mean", field("mean_ms"))]),
        space_chart(results),
        config_chart(results, "pgbench", "pgbench-tps",
                     "pgbench TPS with a snapshot every few seconds", "TPS",
                     [("TPS", field("tps"))]),
        config_chart(results, "memory", "memory",
                     f"kernel memory with {snapshots_text(memory_snapshots(results))}"
                     " retained (dm-linear: none)", "KiB",
                     [("slab", lambda r: r["slab_bytes"] / kib),
                      ("vmalloc", lambda r: r["vmalloc_bytes"] / kib),
                      ("dm-bufio", lambda r: r["bufio_bytes"] / kib)],
                     pick=lambda recs: max(recs, key=lambda r: r["snapshots"])),
        config_chart(results, "view-read", "view-read",
                     "sequential read of a retained snapshot", "MiB/s",
                     [("MiB/s", lambda r: r["bytes_per_sec"] / 1048576)]),
        config_chart(results, "activation", "activation",
                     "time to activate the volume and its snapshots", "s",
                     [("seconds", field("seconds"))]),
    ]
    return [c for c in charts if c.rows]


def png_terminal(gnuplot):
    try:
        probe = subprocess.run([gnuplot, "-e", "set terminal pngcairo"],
                               capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return "png"
    return "pngcairo" if probe.returncode == 0 else "png"


def draw(gnuplot, directory, name):
    try:
        run = subprocess.run([gnuplot, f"{name}.gp"], cwd=directory,
                             capture_output=True, text=True, timeout=300,
                             check=False)
    except (OSError, subprocess.SubprocessError) as err:
        raise Failure(f"gnuplot failed on {os.path.join(directory, name)}.gp: {err}") from None
    if run.returncode != 0:
        lines = [l.strip() for l in run.stderr.splitlines() if l.strip()]
        why = lines[-1] if lines else f"exit status {run.returncode}"
        raise Failure(f"gnuplot failed on {os.path.join(directory, name)}.gp: {why}")


def write_charts(results, directory):
    """Draw the charts into directory; return their names."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        raise Failure("gnuplot is missing; install the Debian package gnuplot-nox")
    terminal = png_terminal(gnuplot)
    charts = charts_of(results)
    try:
        os.makedirs(directory, exist_ok=True)
        for chart in charts:
            log = chart.log_scale()
            base = os.path.join(directory, chart.name)
            with open(base + ".dat", "w", encoding="utf-8") as f:
                f.write(data_text(chart, log))
            with open(base + ".gp", "w", encoding="utf-8") as f:
                f.write(script_text(chart, log, terminal))
    except OSError as err:
        raise Failure(f"cannot write charts to {directory}: {err}") from None
    for chart in charts:
        draw(gnuplot, directory, chart.name)
    return [c.name for c in charts]


# ---------------------------------------------------------------- main

def parse_args(argv):
    """(check, charts directory or None, results path); exit 1 on misuse."""
    check, charts, paths = False, None, []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--check" and not check:
            check = True
        elif arg == "--charts" and charts is None and args:
            charts = args.pop(0)
        elif arg == "--" and len(args) == 1:
            paths.append(args.pop(0))
        elif arg.startswith("-") and arg != "-":
            raise Failure(USAGE)
        else:
            paths.append(arg)
    if len(paths) != 1 or (check and charts is not None) or charts == "":
        raise Failure(USAGE)
    return check, charts, paths[0]


def run(argv):
    check, charts_dir, path = parse_args(argv)
    doc = load(path)
    results = read_results(path, doc, strict=check)
    if check:
        print(f"ok: {len(results.records)} records, {len(results.configs)} configs")
        return
    if not results.records:
        raise Failure(f"{path}: no results to report")
    charts = write_charts(results, charts_dir) if charts_dir is not None else []
    print(report(results, charts))


def main():
    try:
        run(sys.argv[1:])
    except Failure as failure:
        for line in failure.lines:
            print(line if line == USAGE else f"{PROG}: {line}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

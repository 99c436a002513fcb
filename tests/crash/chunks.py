#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Per-chunk checksums, seeded random writes and their bookkeeping for the
power-cut test (tests/crash/workload.sh runs this inside the test VM).

  chunks.py init   DEV --sums F --pending P --len BYTES [--chunk BYTES]
  chunks.py step   DEV --sums F --pending P --seed N --count K [--max-write BYTES]
                   [--journal J]
  chunks.py verify DEV --sums F [--pending P] [--update]

The state lives in two files (on the results share, fsync'd before anything
counts as recorded):
  sums     the content of the device after the last recorded flush: a header
           line "dsn-crash-sums 1 CHUNK LEN", then one digest per chunk;
           replaced atomically (temporary file, fsync, rename, fsync dir).
  pending  byte ranges written since then: blocks "step SEED", "OFFSET
           LENGTH"..., "end", appended and fsync'd *before* the writes start;
           only complete blocks count (an incomplete one was cut before any
           of its writes was issued).

step: record the plan in pending, write with O_DIRECT, fsync the device (a
flush), read the touched chunks back and check them against what was
written, record the new sums, then empty pending.  --journal: append (fsync'd)
a line to J after each of these stages, to tell where a power cut hit.
verify: compare the device with sums; chunks overlapping a pending range may
hold anything.  --update then makes what was read the new sums and empties
pending.  Exit status 0 equal, 1 differ, 3 read error (EIO), 2 usage.
All I/O bypasses the page cache (O_DIRECT).
"""

import argparse
import errno
import fcntl
import hashlib
import math
import mmap
import os
import random
import struct
import sys

MAGIC = "dsn-crash-sums"
BLKSSZGET = 0x1268
READ_RUN = 1 << 20
MAX_REPORT = 20


class ReadError(Exception):
    pass


def digest(data):
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def fsync_dir(path):
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
    finally:
        os.close(fd)


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)
    fsync_dir(path)


def append_synced(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        data = text.encode()
        if os.write(fd, data) != len(data):
            raise OSError(errno.EIO, "short write to " + path)
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(path)


def read_sums(path):
    with open(path) as f:
        lines = f.read().split("\n")
    head = lines[0].split()
    if len(head) != 4 or head[0] != MAGIC or head[1] != "1":
        sys.exit("chunks.py: %s: not a sums file" % path)
    chunk, length = int(head[2]), int(head[3])
    sums = [s for s in lines[1:] if s]
    if len(sums) != (length + chunk - 1) // chunk:
        sys.exit("chunks.py: %s: %d digests, want %d" %
                 (path, len(sums), (length + chunk - 1) // chunk))
    return chunk, length, sums


def write_sums(path, chunk, length, sums):
    write_atomic(path, "%s 1 %d %d\n%s\n" % (MAGIC, chunk, length, "\n".join(sums)))


def read_pending(path):
    """Byte ranges of the complete blocks of a pending file."""
    ranges = []
    if not path or not os.path.exists(path):
        return ranges
    block = None
    with open(path) as f:
        for line in f:
            if not line.endswith("\n"):
                break
            w = line.split()
            if len(w) == 2 and w[0] == "step":
                block = []
            elif w == ["end"] and block is not None:
                ranges.extend(block)
                block = None
            elif len(w) == 2 and block is not None and w[0].isdigit() and w[1].isdigit():
                block.append((int(w[0]), int(w[1])))
            else:
                block = None
    return ranges


def clear_pending(path):
    write_atomic(path, "")


class Dev:
    """A block device (or file) opened with O_DIRECT, with an aligned buffer."""

    def __init__(self, path, write=False):
        flags = (os.O_RDWR if write else os.O_RDONLY) | os.O_DIRECT
        self.path = path
        self.fd = os.open(path, flags)
        try:
            self.align = struct.unpack("i", fcntl.ioctl(self.fd, BLKSSZGET, b"\0" * 4))[0]
        except OSError:
            self.align = 512
        self.size = os.lseek(self.fd, 0, os.SEEK_END)
        self.buf = mmap.mmap(-1, READ_RUN)

    def read(self, off, length):
        """length bytes at off (both aligned); raises ReadError on EIO."""
        out = bytearray()
        while length > 0:
            n = min(length, READ_RUN)
            mv = memoryview(self.buf)[:n]
            try:
                got = os.preadv(self.fd, [mv], off)
            except OSError as e:
                if e.errno == errno.EIO:
                    raise ReadError("%s: read error (EIO) at byte %d" % (self.path, off))
                raise
            if got != n:
                raise ReadError("%s: short read at byte %d (%d of %d)" % (self.path, off, got, n))
            out += mv
            off += n
            length -= n
        return out

    def write(self, off, data):
        n = len(data)
        if n > READ_RUN:
            raise ValueError("write too large")
        self.buf[:n] = data
        got = os.pwrite(self.fd, memoryview(self.buf)[:n], off)
        if got != n:
            raise OSError(errno.EIO, "%s: short write at byte %d" % (self.path, off))


def chunk_sums(dev, chunk, length, first=0, last=None):
    """Digests of chunks first..last (inclusive) of the first length bytes."""
    if last is None:
        last = (length + chunk - 1) // chunk - 1
    out = []
    per_run = max(1, READ_RUN // chunk)
    i = first
    while i <= last:
        n = min(per_run, last - i + 1)
        end = min((i + n) * chunk, length)
        data = dev.read(i * chunk, end - i * chunk)
        for j in range(n):
            out.append(digest(data[j * chunk:(j + 1) * chunk]))
        i += n
    return out


def touched(ranges, chunk):
    s = set()
    for off, ln in ranges:
        s.update(range(off // chunk, (off + ln - 1) // chunk + 1))
    return s


def runs(indices):
    """Sorted indices as (first, last) runs."""
    out = []
    for i in sorted(indices):
        if out and out[-1][1] == i - 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def cmd_init(a):
    dev = Dev(a.dev)
    if a.len % dev.align or a.chunk % dev.align or a.len > dev.size:
        sys.exit("chunks.py: bad --len %d / --chunk %d for %s (%d bytes, blocks of %d)" %
                 (a.len, a.chunk, a.dev, dev.size, dev.align))
    sums = chunk_sums(dev, a.chunk, a.len)
    write_sums(a.sums, a.chunk, a.len, sums)
    clear_pending(a.pending)
    print("init: %d chunks of %d bytes recorded" % (len(sums), a.chunk))
    return 0


def plan_writes(rng, count, length, align, max_write):
    max_units = max(1, max_write // align)
    hot = rng.randrange(0, max(1, length - (4 << 20)) // align + 1) * align
    plan = []
    for _ in range(count):
        units = int(2 ** rng.uniform(0, math.log2(max_units + 1)))
        units = max(1, min(units, max_units))
        ln = units * align
        if rng.random() < 0.5:
            lo, hi = hot, min(length, hot + (4 << 20))
        else:
            lo, hi = 0, length
        if hi - lo < ln:
            lo, hi = 0, length
        off = lo + rng.randrange(0, (hi - lo - ln) // align + 1) * align
        plan.append((off, ln))
    return plan


def make_data(rng, seed, index, off, ln):
    data = bytearray(rng.randbytes(ln))
    # Each sector names the step, the write and its own offset.
    for s in range(0, ln, 512):
        data[s:s + 24] = struct.pack("<QQQ", seed, index, off + s)
    return data


def cmd_step(a):
    chunk, length, sums = read_sums(a.sums)
    dev = Dev(a.dev, write=True)
    if dev.size < length:
        sys.exit("chunks.py: %s has %d bytes, the sums cover %d" % (a.dev, dev.size, length))
    rng = random.Random(a.seed)
    plan = plan_writes(rng, a.count, length, dev.align, a.max_write)
    def journal(what):
        if a.journal:
            append_synced(a.journal, "step %d %s\n" % (a.seed, what))

    append_synced(a.pending, "step %d\n%send\n" %
                  (a.seed, "".join("%d %d\n" % w for w in plan)))
    journal("planned %d writes, %d bytes" % (len(plan), sum(w[1] for w in plan)))
    datas = []
    for i, (off, ln) in enumerate(plan):
        data = make_data(rng, a.seed, i, off, ln)
        dev.write(off, data)
        datas.append(data)
    journal("written")
    os.fsync(dev.fd)
    journal("flushed")
    # Read back what the writes touched and check it; the last write of a
    # byte wins.
    chunks = touched(plan, chunk)
    bad = []
    for first, last in runs(chunks):
        base = first * chunk
        end = min((last + 1) * chunk, length)
        try:
            got = dev.read(base, end - base)
        except ReadError as e:
            print("step: %s" % e)
            return 3
        want = bytearray(got)
        for (off, ln), data in zip(plan, datas):
            lo, hi = max(off, base), min(off + ln, end)
            if lo < hi:
                want[lo - base:hi - base] = data[lo - off:hi - off]
        for i in range(first, last + 1):
            s, e = i * chunk - base, min((i + 1) * chunk, end) - base
            if got[s:e] != want[s:e]:
                bad.append(i)
            sums[i] = digest(got[s:e])
    if bad:
        for i in bad[:MAX_REPORT]:
            print("step: chunk %d (bytes %d-%d) does not read back as written" %
                  (i, i * chunk, min((i + 1) * chunk, length) - 1))
        print("step: FAIL: %d chunk(s) read back right after the writes differ" % len(bad))
        return 1
    write_sums(a.sums, chunk, length, sums)
    journal("recorded")
    clear_pending(a.pending)
    journal("done")
    print("step %d: %d writes, %d bytes, %d chunks changed" %
          (a.seed, len(plan), sum(w[1] for w in plan), len(chunks)))
    return 0


def cmd_verify(a):
    chunk, length, sums = read_sums(a.sums)
    pending = read_pending(a.pending)
    exempt = touched(pending, chunk)
    dev = Dev(a.dev)
    if dev.size < length:
        print("verify: %s has %d bytes, the sums cover %d" % (a.dev, dev.size, length))
        return 1
    try:
        got = chunk_sums(dev, chunk, length)
    except ReadError as e:
        print("verify: %s" % e)
        return 3
    differ = [i for i in range(len(sums)) if got[i] != sums[i] and i not in exempt]
    changed = sum(1 for i in exempt if i < len(sums) and got[i] != sums[i])
    for i in differ[:MAX_REPORT]:
        print("verify: chunk %d (bytes %d-%d) differs" % (i, i * chunk, min((i + 1) * chunk, length) - 1))
    if len(differ) > MAX_REPORT:
        print("verify: ... %d more" % (len(differ) - MAX_REPORT))
    print("verify: %s: %d chunks, %d differ, %d unflushed (%d of them changed)" %
          (a.dev, len(sums), len(differ), len(exempt), changed))
    if differ:
        return 1
    if a.update:
        write_sums(a.sums, chunk, length, got)
        if a.pending:
            clear_pending(a.pending)
    return 0


def main():
    p = argparse.ArgumentParser(prog="chunks.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("init")
    s.add_argument("dev")
    s.add_argument("--sums", required=True)
    s.add_argument("--pending", required=True)
    s.add_argument("--len", type=int, required=True)
    s.add_argument("--chunk", type=int, default=16384)
    s = sub.add_parser("step")
    s.add_argument("dev")
    s.add_argument("--sums", required=True)
    s.add_argument("--pending", required=True)
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--count", type=int, default=16)
    s.add_argument("--max-write", type=int, default=256 << 10)
    s.add_argument("--journal")
    s = sub.add_parser("verify")
    s.add_argument("dev")
    s.add_argument("--sums", required=True)
    s.add_argument("--pending")
    s.add_argument("--update", action="store_true")
    a = p.parse_args()
    if getattr(a, "max_write", 512) > READ_RUN:
        p.error("--max-write is at most %d" % READ_RUN)
    return {"init": cmd_init, "step": cmd_step, "verify": cmd_verify}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())

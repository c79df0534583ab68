"""Mask (COCO RLE) functions: fastap.mask against pycocotools.mask and its peers.

    python -m bench.mask [--repeat 5] [--threads N] [--libs ...] [--quick] [--markdown]

One process, the same generated data (fastap.synthetic.random_masks / random_polygons)
for every library, each operation timed --repeat times; the table gives the median time
of each and its speed-up over pycocotools (pycocotools' time / the library's time).
fastap runs twice: with 1 thread and with --threads (default: all cores). The peers run
with their own defaults (hotcoco / faster-coco-eval may use several threads). Every
library's output is compared with pycocotools'; a differing result is marked "(differs)".
Timings on shared machines are noisy: compare ratios from one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

LIBS = ("pycocotools", "fastap-1t", "fastap", "faster_coco_eval", "hotcoco", "ultrafast")


def log(msg=""):
    print(msg, file=sys.stderr, flush=True)


def load_libs(names, threads):
    """{name: module-like with the pycocotools.mask functions}; missing ones skipped."""
    libs = {}
    for name in names:
        try:
            if name == "pycocotools":
                import pycocotools.mask as m
            elif name in ("fastap", "fastap-1t"):
                from fastap import mask as fm
                m = _FastapThreads(fm, 1 if name == "fastap-1t" else threads)
            elif name == "faster_coco_eval":
                import faster_coco_eval.core.mask as m
            elif name == "hotcoco":
                import hotcoco.mask as m
            elif name == "ultrafast":
                import ultrafast_pycocotools.mask as m
            else:
                raise SystemExit("unknown library %r (choose from %s)" % (name, ", ".join(LIBS)))
        except ImportError as e:
            log("skipping %s: %s" % (name, e))
            continue
        libs[name] = m
    return libs


class _FastapThreads:
    """fastap.mask with a fixed num_threads."""

    def __init__(self, fm, threads):
        self.fm, self.t = fm, threads

    def encode(self, m):
        return self.fm.encode(m, num_threads=self.t)

    def decode(self, r):
        return self.fm.decode(r, num_threads=self.t)

    def area(self, r):
        return self.fm.area(r, num_threads=self.t)

    def toBbox(self, r):
        return self.fm.toBbox(r, num_threads=self.t)

    def iou(self, d, g, c):
        return self.fm.iou(d, g, c, num_threads=self.t)

    def merge(self, r, intersect=0):
        return self.fm.merge(r, intersect)

    def frPyObjects(self, o, h, w):
        return self.fm.frPyObjects(o, h, w, num_threads=self.t)


def make_data(quick):
    from fastap import synthetic
    import pycocotools.mask as pm

    rng = np.random.default_rng(0)
    h, w = 480, 640
    n_masks = 40 if quick else 100
    masks = synthetic.random_masks(rng, n_masks, h, w, "blobs")
    rles = pm.encode(masks)
    many = rles * (10 if quick else 50)                  # 400 / 5000 RLEs for area / toBbox
    big_h, big_w = 1024, 1024
    n_big = 100 if quick else 300
    big = pm.encode(synthetic.random_masks(rng, n_big, big_h, big_w, "blobs"))
    crowd = (rng.random(n_masks) < 0.1).astype(np.uint8).tolist()
    crowd_big = (rng.random(n_big) < 0.1).astype(np.uint8).tolist()
    polys = synthetic.random_polygons(rng, 1000 if quick else 5000, h, w, n_points=(4, 40))
    boxes = np.round(rng.uniform(0, 400, (1000 if quick else 5000, 4)), 2)
    groups = [rles[i:i + 3] for i in range(0, n_masks - 2, 3)]
    return {
        "encode %dx%dx%d" % (h, w, n_masks): ("encode", (masks,)),
        "decode %d" % n_masks: ("decode", (rles,)),
        # pycocotools' area() fails on 256+ RLEs under NumPy 2 (a uint8 placeholder array)
        "area %d" % len(many[:255]): ("area", (many[:255],)),
        "toBbox %d" % len(many): ("toBbox", (many,)),
        "iou %dx%d @%dx%d" % (n_masks, n_masks, h, w): ("iou", (rles, rles[::-1], crowd)),
        "iou %dx%d @%dx%d" % (n_big, n_big, big_h, big_w): ("iou", (big, big[::-1], crowd_big)),
        "merge %d (union)" % n_masks: ("merge", (rles,)),
        "merge %d x 3 parts" % len(groups): ("merge_groups", (groups,)),
        "frPyObjects %d polygons" % len(polys): ("frPyObjects", (polys, h, w)),
        "frPyObjects %d boxes" % len(boxes): ("frPyObjects", (boxes, h, w)),
    }


def call(lib, op, args):
    if op == "merge_groups":
        return [lib.merge(g) for g in args[0]]
    return getattr(lib, op)(*args)


def same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if isinstance(a, dict):
        return isinstance(b, dict) and a.get("size") == b.get("size") and a.get("counts") == b.get("counts")
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def run(libs, data, repeat):
    """{case: {lib: (median seconds, same as pycocotools)}}"""
    out = {}
    for case, (op, args) in data.items():
        ref = call(libs["pycocotools"], op, args) if "pycocotools" in libs else None
        row = {}
        for name, lib in libs.items():
            try:
                result = call(lib, op, args)        # warm-up, and the result to compare
            except Exception as e:                  # a peer without this input form
                log("%s: %s failed: %s: %s" % (case, name, type(e).__name__, e))
                continue
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                call(lib, op, args)
                times.append(time.perf_counter() - t0)
            row[name] = (statistics.median(times), ref is None or same(result, ref))
        out[case] = row
        log("%-34s %s" % (case, "  ".join("%s %.2f ms" % (k, v[0] * 1e3) for k, v in row.items())))
    return out


def table(results, libs, markdown):
    names = list(libs)
    lines = []
    head = ["operation"] + names
    if markdown:
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
    rows = []
    for case, row in results.items():
        base = row.get("pycocotools", (None,))[0]
        cells = []
        for n in names:
            if n not in row:
                cells.append("n/a")
                continue
            t, ok = row[n]
            cell = "%.2f ms" % (t * 1e3)
            if base and n != "pycocotools":
                cell += " (%.1fx)" % (base / t)
            if not ok:
                cell += " (differs)"
            cells.append(cell)
        if markdown:
            lines.append("| " + " | ".join([case] + cells) + " |")
        else:
            rows.append([case] + cells)
    if not markdown:
        # plain text: each column as wide as its widest cell ("(differs)" included)
        rows.insert(0, head)
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        for r in rows:
            lines.append(r[0].ljust(widths[0]) + "".join("  " + c.rjust(w) for c, w in zip(r[1:], widths[1:])))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None,
                    help="fastap's thread count for the 'fastap' column (default: all cores)")
    ap.add_argument("--libs", default=",".join(LIBS))
    ap.add_argument("--quick", action="store_true", help="smaller inputs")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    a = ap.parse_args(argv)
    from fastap import _core
    threads = a.threads or _core.max_threads()
    libs = load_libs([s.strip() for s in a.libs.split(",") if s.strip()], threads)
    data = make_data(a.quick)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count()
    log("fastap.mask benchmark: %d usable cores, fastap threads: 1 and %d, repeat %d"
        % (cpus, threads, a.repeat))
    results = run(libs, data, a.repeat)
    print("median time per call; (Nx) = speed-up over pycocotools; fastap-1t = fastap on 1 "
          "thread, fastap = %d threads" % threads)
    print(table(results, libs, a.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Anchors x ground truth at training sizes and at an extreme size, on the CPU: fastap
against torchvision's ops (or, where torchvision does not import, the same torch
operations: ``bench.iou_family``) and a NumPy broadcast, time AND peak memory, each
(case, operation, dtype, library) in its own child interpreter.

    python -m bench.iou_scale [--cases batch,square,big] [--ops iou,giou,diou,ciou,assign,ssd]
                              [--libs fastap,torch,numpy] [--dtypes float32,float64]
                              [--square-n 10000] [--big-n 30000] [--rounds 2] [--repeat 3]
                              [--mem-gb 12] [--threads N] [--markdown] [--json PATH]

Cases:

* ``batch``: a training step's batch: 16 images, 100k anchors shared by the images (a
  multi-level anchor grid over 1333 x 800, sampled), ragged ground truth (10 to 90 boxes
  per image, 50 on average). The IoU variants: one (100k, g_b) matrix per image, computed
  and dropped one image at a time, as a detector's loss does. The assignment: the batch's
  matches and IoUs (fastap: one ``fastap.assign`` call with the list of ground truths;
  torch: torchvision's per-image ``Matcher(box_iou(gt, anchors))`` loop; NumPy: the same
  steps on a broadcast IoU matrix).
* ``square``: n x n detector-like boxes (``fastap.synthetic.make_boxes``), n = --square-n,
  every library.
* ``big``: n = --big-n (30k): fastap; the other libraries only where their peak memory
  at --square-n, scaled by (big / square)^2, stays under --mem-gb (else the row says so).

Operations: ``iou``, ``giou``, ``diou``, ``ciou`` (the (n, m) matrix; torch and NumPy in
the input dtype, fastap in float64), ``assign`` (Faster R-CNN's RPN rule: Matcher(0.7,
0.3, allow_low_quality_matches=True)) and ``ssd`` (SSDMatcher(0.5)); the assignment's
matches are checked equal to fastap's in every child that computes them.

Per row: the median time over --rounds x --repeat calls (the libraries interleaved, their
order rotated each round; one untimed warm-up call when a call takes under a second), the
median process CPU time of a call (all threads: the work done, less sensitive than the wall
time to other jobs on a shared machine; fastap and torch use the same threads), and
the peak memory: the child's resident-set high-water mark (Linux VmHWM, reset after the
imports and the data) minus its resident set at that reset, so the calls' own peak, torch's
allocations included; next to the bytes one call returns (its output).
Machines shared with other work: read the ratios, from one run, not lone times.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

BATCH = 16
ANCHORS = 100000
OPS = ("iou", "giou", "diou", "ciou", "assign", "ssd")
RULES = {"assign": (0.7, 0.3, True), "ssd": (0.5, 0.5, False)}


def _vm(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise OSError("no %s in /proc/self/status" % field)


def peak_meter():
    """A function returning the resident memory grown since this call, at its peak, in
    bytes: Linux's high-water mark VmHWM, reset here (/proc/self/clear_refs), minus the
    resident set now; else (no /proc) ru_maxrss minus its value now (an import's peak may
    then hide a smaller call's)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        base = _vm("VmRSS")
        return lambda: _vm("VmHWM") - base
    except OSError:
        base = maxrss()
        return lambda: maxrss() - base


def maxrss():
    """The process's peak resident set, bytes (Linux: ru_maxrss in KiB)."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(r) if sys.platform == "darwin" else int(r) * 1024


# ---- data ---------------------------------------------------------------------------------

def make_anchors(n, seed=0, image=(1333.0, 800.0)):
    """n anchors (xyxy float64) sampled from a 5-level grid (strides 8 to 128, sizes 4 x
    stride, aspect ratios 1/2, 1, 2, three scales per octave) over the image."""
    rng = np.random.default_rng(seed)
    out = []
    for stride in (8, 16, 32, 64, 128):
        ys, xs = np.meshgrid(np.arange(0, image[1], stride) + stride / 2,
                             np.arange(0, image[0], stride) + stride / 2, indexing="ij")
        c = np.stack([xs.ravel(), ys.ravel()], axis=1)
        for scale in (1.0, 2 ** (1 / 3), 2 ** (2 / 3)):
            for ratio in (0.5, 1.0, 2.0):
                w = 4 * stride * scale / np.sqrt(ratio)
                h = 4 * stride * scale * np.sqrt(ratio)
                out.append(np.concatenate([c - [w / 2, h / 2], c + [w / 2, h / 2]], axis=1))
    grid = np.concatenate(out)
    pick = np.sort(rng.choice(len(grid), size=min(n, len(grid)), replace=False))
    return np.ascontiguousarray(np.round(grid[pick] * 16) / 16)


def case_data(case, n, dtype):
    """(anchors, [gt per image]) of a case, in dtype."""
    from fastap.synthetic import make_boxes
    if case == "batch":
        counts = np.random.default_rng(7).integers(10, 91, size=BATCH)
        anchors = make_anchors(ANCHORS)
        gts = [make_boxes(int(g), seed=100 + i, dtype=np.float64) for i, g in enumerate(counts)]
    else:
        anchors = make_boxes(n, seed=1, dtype=np.float64)
        gts = [make_boxes(n, seed=2, dtype=np.float64)]
    return anchors.astype(dtype), [g.astype(dtype) for g in gts]


# ---- the libraries' calls -------------------------------------------------------------------

def numpy_family(kind, a, b, eps=1e-7):
    """IoU / GIoU / DIoU / CIoU of corner boxes as NumPy broadcasting (torchvision's
    formulas, n x m temporaries)."""
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = area_a[:, None] + area_b[None, :] - inter
    iou = inter / union
    if kind == "iou":
        return iou
    enc = np.maximum(a[:, None, 2:], b[None, :, 2:]) - np.minimum(a[:, None, :2], b[None, :, :2])
    enc = np.clip(enc, 0, None)
    if kind == "giou":
        area_c = enc[..., 0] * enc[..., 1]
        return iou - (area_c - union) / area_c
    diag = enc[..., 0] ** 2 + enc[..., 1] ** 2 + eps
    ca, cb = (a[:, :2] + a[:, 2:]) / 2, (b[:, :2] + b[:, 2:]) / 2
    d = ((ca[:, None, :] - cb[None, :, :]) ** 2).sum(-1)
    diou = iou - d / diag
    if kind == "diou":
        return diou
    wa, ha = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
    wb, hb = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    v = (4 / np.pi ** 2) * (np.arctan(wa / ha)[:, None] - np.arctan(wb / hb)[None, :]) ** 2
    return diou - v / (1 - iou + v + eps) * v


def numpy_matcher(q, high, low, allow, ssd):
    """torchvision's Matcher / SSDMatcher on the (g, n) quality matrix q, in NumPy."""
    vals, matches = q.max(axis=0), q.argmax(axis=0)
    all_matches = matches.copy()
    matches[vals < low] = -1
    matches[(vals >= low) & (vals < high)] = -2
    if allow:
        preds = np.nonzero(q == q.max(axis=1)[:, None])[1]
        matches[preds] = all_matches[preds]
    if ssd:
        matches[q.argmax(axis=1)] = np.arange(q.shape[0])
    return matches, vals


def torch_matcher(torch, high, low, allow, ssd):
    """torchvision's Matcher(high, low, allow) / SSDMatcher(high) on the (g, n) quality
    matrix, or the same torch operations."""
    try:
        from torchvision.models.detection._utils import Matcher, SSDMatcher
        return SSDMatcher(high) if ssd else Matcher(high, low, allow)
    except Exception:
        pass

    def run(q):
        vals, matches = q.max(dim=0)
        all_matches = matches.clone()
        matches[vals < low] = -1
        matches[(vals >= low) & (vals < high)] = -2
        if allow:
            preds = torch.where(q == q.max(dim=1).values[:, None])[1]
            matches[preds] = all_matches[preds]
        if ssd:
            matches[q.max(dim=1).indices] = torch.arange(q.shape[0], dtype=matches.dtype)
        return matches
    return run


def make_call(lib, op, anchors, gts, threads):
    """A no-argument function running one call of `op` for `lib`, and what it returns:
    the IoU variants give the matrices (one image at a time), the assignment the matches."""
    if lib == "fastap":
        import fastap
        if op in RULES:
            high, low, allow = RULES[op]
            rule = "ssd" if op == "ssd" else "matcher"
            kw = dict(low=None if op == "ssd" else low, allow_low_quality_matches=allow, rule=rule,
                      num_threads=threads)
            return lambda: [m for m in fastap.assign(anchors, gts, high, **kw)[0]]
        return lambda: [fastap.box_iou(anchors, g, kind=op, num_threads=threads).shape for g in gts]
    if lib == "torch":
        import torch
        from bench.iou_family import torch_family
        if threads:
            torch.set_num_threads(threads)
        fam, _ = torch_family(torch)
        ta, tg = torch.from_numpy(anchors), [torch.from_numpy(g) for g in gts]
        if op in RULES:
            high, low, allow = RULES[op]
            m = torch_matcher(torch, high, low, allow, op == "ssd")
            return lambda: [m(fam["iou"](g, ta)).numpy() for g in tg]
        return lambda: [fam[op](ta, g).shape for g in tg]
    if op in RULES:
        high, low, allow = RULES[op]
        return lambda: [numpy_matcher(numpy_family("iou", g, anchors), high, low, allow, op == "ssd")[0]
                        for g in gts]
    return lambda: [numpy_family(op, anchors, g).shape for g in gts]


def output_bytes(op, anchors, gts, dtype, lib):
    """The bytes one call keeps: one image's matrix (the largest) for the variants, the
    batch's matches and IoUs for the assignment."""
    n = anchors.shape[0]
    if op in RULES:
        return len(gts) * n * (8 + 8)
    size = 8 if lib == "fastap" else np.dtype(dtype).itemsize
    return n * max(g.shape[0] for g in gts) * size


# ---- child ----------------------------------------------------------------------------------

def child(spec):
    """Runs one (case, op, dtype, lib) and prints its JSON result as the last line."""
    import fastap  # noqa: F401  (the extension, in the baseline for every library)
    if spec["lib"] == "torch":
        import torch  # noqa: F401
    anchors, gts = case_data(spec["case"], spec["n"], spec["dtype"])
    call = make_call(spec["lib"], spec["op"], anchors, gts, spec["threads"])
    base = maxrss()
    peak = peak_meter()
    times, cpu, res = [], [], None
    for i in range(spec["repeat"] + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        res = call()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if i or dt >= 1.0 or spec["repeat"] == 1:     # the first, short call is a warm-up
            times.append(dt)
            cpu.append(dc)
        if len(times) == spec["repeat"]:
            break
    out = dict(spec, times=times, cpu=cpu, peak=peak(), baseline=base,
               output=output_bytes(spec["op"], anchors, gts, spec["dtype"], spec["lib"]))
    if spec["op"] in RULES:
        import fastap
        high, low, allow = RULES[spec["op"]]
        want = fastap.assign(anchors.astype(np.float64), [g.astype(np.float64) for g in gts], high,
                             low=None if spec["op"] == "ssd" else low, allow_low_quality_matches=allow,
                             rule="ssd" if spec["op"] == "ssd" else "matcher")[0]
        out["same_matches"] = all(np.array_equal(np.asarray(r), w) for r, w in zip(res, want))
    print(json.dumps(out))


def run_child(spec, timeout):
    env = dict(os.environ)
    r = subprocess.run([sys.executable, "-m", "bench.iou_scale", "--child", json.dumps(spec)],
                       capture_output=True, text=True, timeout=timeout, env=env)
    if r.returncode != 0:
        return dict(spec, error=(r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1])
    return json.loads(r.stdout.strip().splitlines()[-1])


# ---- parent ---------------------------------------------------------------------------------

def plan(args):
    """[(case, n, op, dtype)] in the order they run."""
    out = []
    for case in args.cases:
        n = {"batch": ANCHORS, "square": args.square_n, "big": args.big_n}[case]
        for op in args.ops:
            for dtype in args.dtypes:
                out.append((case, n, op, dtype))
    return out


def run_all(args):
    """Children for every row; libraries interleaved and rotated each round."""
    results = {}
    for rnd in range(args.rounds):
        for case, n, op, dtype in plan(args):
            libs = list(args.libs)
            libs = libs[rnd % len(libs):] + libs[:rnd % len(libs)]
            for lib in libs:
                key = (case, op, dtype, lib)
                prev = results.get(key)
                if prev is not None and ("error" in prev or "skipped" in prev):
                    continue
                skip = _too_big(args, case, op, dtype, lib, results)
                if skip:
                    results[key] = dict(skipped=skip)
                    continue
                spec = dict(case=case, n=n, op=op, dtype=dtype, lib=lib, repeat=args.repeat,
                            threads=args.threads)
                try:
                    r = run_child(spec, args.timeout)
                except subprocess.TimeoutExpired:
                    r = dict(spec, error="timed out after %d s" % args.timeout)
                if prev is not None and "times" in r:
                    r["times"] = prev["times"] + r["times"]
                    r["cpu"] = prev["cpu"] + r["cpu"]
                    r["peak"] = max(prev["peak"], r["peak"])
                results[key] = r
                print("  %-6s %-5s %-8s %-7s %s" % (case, op, dtype, lib, _brief(r)), file=sys.stderr)
    return results


def _too_big(args, case, op, dtype, lib, results):
    """Why the big case is not run for lib (its peak at --square-n, scaled, over
    --mem-gb), or None."""
    if case != "big" or lib == "fastap":
        return None
    small = results.get(("square", op, dtype, lib))
    if small is None or "peak" not in small:
        return "not run: run the square case first (its peak memory decides)"
    need = small["peak"] * (args.big_n / float(args.square_n)) ** 2
    if need > args.mem_gb * 2 ** 30:
        return "not run: needs about %.0f GB (its square peak x %.0f) > --mem-gb %g" % (
            need / 2 ** 30, (args.big_n / float(args.square_n)) ** 2, args.mem_gb)
    return None


def _brief(r):
    if "times" in r:
        return "%.3f s (cpu %.3f s), peak %.0f MB" % (statistics.median(r["times"]), statistics.median(r["cpu"]),
                                                       r["peak"] / 2 ** 20)
    return r.get("error") or r.get("skipped")


def table(args, results):
    """The rows: case, shape, op, dtype, library, median ms and its ratio to fastap's,
    CPU ms and its ratio, peak MB, output MB, note."""
    rows = []
    for case, n, op, dtype in plan(args):
        fa = results.get((case, op, dtype, "fastap"), {})
        t_fa = statistics.median(fa["times"]) if "times" in fa else None
        c_fa = statistics.median(fa["cpu"]) if "cpu" in fa else None
        for lib in args.libs:
            r = results.get((case, op, dtype, lib), {})
            shape = "16 x 100k x ~50" if case == "batch" else "%dk x %dk" % (n // 1000, n // 1000)
            if "times" not in r:
                rows.append([case, shape, op, dtype, lib] + ["-"] * 6 + [r.get("error") or r.get("skipped") or "-"])
                continue
            t, c = statistics.median(r["times"]), statistics.median(r["cpu"])
            note = ""
            if "same_matches" in r:
                note = "matches = fastap" if r["same_matches"] else "MATCHES DIFFER"
            rows.append([case, shape, op, dtype, lib, "%.1f" % (t * 1e3),
                         "%.1fx" % (t / t_fa) if t_fa and lib != "fastap" else "-", "%.1f" % (c * 1e3),
                         "%.1fx" % (c / c_fa) if c_fa and lib != "fastap" else "-",
                         "%.0f" % (r["peak"] / 2 ** 20), "%.0f" % (r["output"] / 2 ** 20), note])
    return ["case", "shape", "op", "dtype", "library", "median ms", "time / fastap's", "cpu ms",
            "cpu / fastap's", "peak MB", "output MB", "note"], rows


def print_table(head, rows, markdown):
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join(":---" if i < 5 or i == len(head) - 1 else "---:" for i in range(len(head))) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--cases", default="batch,square,big")
    ap.add_argument("--ops", default=",".join(OPS))
    ap.add_argument("--libs", default="fastap,torch,numpy")
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--square-n", type=int, default=10000)
    ap.add_argument("--big-n", type=int, default=30000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--mem-gb", type=float, default=12.0, help="memory a child may need (big case)")
    ap.add_argument("--threads", type=int, default=None, help="threads for fastap and torch (default all)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per child")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--json", help="write every child's result here")
    args = ap.parse_args(argv)
    if args.child:
        child(json.loads(args.child))
        return 0
    for name in ("cases", "ops", "libs", "dtypes"):
        setattr(args, name, [x for x in getattr(args, name).split(",") if x])
    print("anchors x ground truth on the CPU (%d cores); fastap threads: %s; torch: %s" % (
        os.cpu_count(), args.threads or "all", _torch_name()))
    results = run_all(args)
    head, rows = table(args, results)
    print_table(head, rows, args.markdown)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([dict(v, key=list(k)) for k, v in results.items()], f, indent=1)
    return 0


def _torch_name():
    try:
        import torch
    except ImportError:
        return "not installed (its rows fail)"
    try:
        import torchvision  # noqa: F401
        return "torchvision %s ops (torch %s)" % (torchvision.__version__, torch.__version__)
    except Exception:
        return "torchvision does not import: the same torch operations (torch %s)" % torch.__version__


if __name__ == "__main__":
    raise SystemExit(main())

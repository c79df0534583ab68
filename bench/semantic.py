"""Semantic segmentation benchmark: fastap's C confusion matrix against what people use
today, on Cityscapes- and ADE20K-sized label maps.

    python -m bench.semantic                              # 100 maps of 512 x 1024, 19 classes
    python -m bench.semantic --preset cityscapes          # 500 maps of 1024 x 2048, 19 classes
    python -m bench.semantic --preset ade20k              # 2,000 maps of 512 x 512, 150 classes
    python -m bench.semantic --logits                     # predictions as float32 scores [N, C, H, W]
    python -m bench.semantic --methods fastap,bincount    # a subset

Methods (each in its own interpreter, so that its peak memory is its own):

* ``fastap``: ``SemanticEvaluator(K).update(pred, target)`` per batch (the K x K
  confusion matrix in C, one pass over the pixels), then ``compute()``.
* ``bincount``: the NumPy baseline, per batch ``np.bincount(K * gt + pred)`` over the
  valid pixels (:func:`fastap.reference.semantic_confusion`), summed.
* ``mmseg``: mmsegmentation's ``IoUMetric`` definition written out in NumPy: per image
  its ``intersect_and_union`` (the valid pixels, then three histograms: the
  intersection, the prediction and the label), summed over the dataset.
* ``tm-jaccard``: torchmetrics' ``MulticlassJaccardIndex(K, average="none",
  ignore_index=255)`` on CPU (the dataset-level IoU: same definition as fastap's).
* ``tm-meaniou`` / ``tm-dice``: torchmetrics' ``MeanIoU`` and ``DiceScore``
  (``input_format="index"``) on CPU. They have no ignore index: they are given the
  ground truth with the ignored pixels set to class 0, so their numbers differ by
  definition (they are timed, not compared).

Every method gets the same batches of uint8 maps (--batch maps per update; torchmetrics
gets them as torch tensors, converted per batch as a user would). The slow methods run on
the first --slow-images maps only (default: all for fastap, bincount and mmseg; 50 for
torchmetrics); rates are compared in Mpixel/s. The dataset-level methods (fastap's own
run included) must give the per-class intersection and union of the same maps that
fastap's evaluator gives here (checked). Peak memory: the method's
resident-set growth over the data it was given (``ru_maxrss`` minus the resident size
before it ran). Timings are noisy on shared machines: compare the ratios of one run.

The maps are generated Cityscapes-like (regions of one class, predictions wrong along
shifted borders and in patches, 5% of the ground truth ignore_index 255): --distinct maps
are generated and reused in turn, so a 500-map run holds 20 maps in memory.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PRESETS = {"cityscapes": (500, 1024, 2048, 19), "ade20k": (2000, 512, 512, 150)}
METHODS = ("fastap", "bincount", "mmseg", "tm-jaccard", "tm-meaniou", "tm-dice")
SLOW = ("tm-jaccard", "tm-meaniou", "tm-dice")
EXACT = ("fastap", "bincount", "mmseg", "tm-jaccard")


def make_maps(n, h, w, k, seed=0):
    """uint8 ground truth and prediction [n, h, w]: blocks of 32 x 32 pixels of one class,
    the prediction shifted by 5 pixels with 2% of its blocks replaced."""
    rng = np.random.default_rng(seed)
    bh, bw = -(-h // 32), -(-w // 32)
    low = rng.integers(0, k, (n, bh, bw), dtype=np.uint8)
    gt = np.repeat(np.repeat(low, 32, axis=1), 32, axis=2)[:, :h, :w]
    noise = np.where(rng.random((n, bh, bw)) < 0.02, rng.integers(0, k, (n, bh, bw), dtype=np.uint8), low)
    pred = np.roll(np.repeat(np.repeat(noise, 32, axis=1), 32, axis=2)[:, :h, :w], 5, axis=2)
    gt = np.ascontiguousarray(gt)
    gt[rng.random((n, h, w)) < 0.05] = 255
    return gt, np.ascontiguousarray(pred)


def _rss_now():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _maxrss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _batches(args, n):
    """The (pred, gt) batches of the first n maps: --distinct maps generated one at a time
    (no large temporaries), reused in turn."""
    d = min(args.distinct, n)
    gt = np.empty((d, args.height, args.width), np.uint8)
    pred = np.empty_like(gt)
    for i in range(d):
        gt[i:i + 1], pred[i:i + 1] = make_maps(1, args.height, args.width, args.classes, seed=i)
    out = []
    for s in range(0, n, args.batch):
        idx = [j % d for j in range(s, min(s + args.batch, n))]
        lo = idx[0]
        contiguous = idx == list(range(lo, lo + len(idx)))
        out.append((pred[lo:lo + len(idx)] if contiguous else pred[idx], gt[lo:lo + len(idx)] if contiguous else gt[idx]))
    return out


def _scores(p, k):
    s = np.zeros((p.shape[0], k) + p.shape[1:], np.float32)
    np.put_along_axis(s, p[:, None].astype(np.int64), 1.0, axis=1)
    return s


def _runner(method, k, logits):
    """(update(pred, gt), finish() -> per-class (intersection, union) int64 or None)."""
    if method == "fastap":
        from fastap.semantic import SemanticEvaluator
        ev = SemanticEvaluator(k)

        def finish():
            c = ev.compute().confusion
            d = np.diag(c)
            return d, c.sum(0) + c.sum(1) - d
        return (lambda p, g: ev.update(p, g)), finish
    label = (lambda p: np.argmax(p, axis=1)) if logits else (lambda p: p)
    if method == "bincount":
        from fastap import reference
        total = np.zeros((k, k), np.int64)

        def update(p, g):
            total[...] += reference.semantic_confusion(label(p), g, k)

        def finish():
            d = np.diag(total)
            return d, total.sum(0) + total.sum(1) - d
        return update, finish
    if method == "mmseg":
        acc = np.zeros((3, k), np.int64)

        def update(p, g):
            for pi, gi in zip(label(p), g):
                valid = gi != 255
                pv, gv = pi[valid], gi[valid]
                inter = pv[pv == gv]
                acc[0] += np.bincount(inter, minlength=k)[:k]
                acc[1] += np.bincount(pv, minlength=k)[:k]
                acc[2] += np.bincount(gv, minlength=k)[:k]

        return update, lambda: (acc[0], acc[1] + acc[2] - acc[0])
    import torch
    torch.set_grad_enabled(False)
    if method == "tm-jaccard":
        from torchmetrics.classification import MulticlassJaccardIndex
        m = MulticlassJaccardIndex(k, average="none", ignore_index=255)

        def finish():
            cm = m.confmat.numpy().astype(np.int64)
            d = np.diag(cm)
            return d, cm.sum(0) + cm.sum(1) - d
    elif method == "tm-meaniou":
        from torchmetrics.segmentation import MeanIoU
        m = MeanIoU(num_classes=k, input_format="index", per_class=True)
        finish = lambda: (m.compute(), None)[1]      # noqa: E731
    else:
        from torchmetrics.segmentation import DiceScore
        m = DiceScore(num_classes=k, input_format="index", average="none")
        finish = lambda: (m.compute(), None)[1]      # noqa: E731
    ignore_to_zero = method != "tm-jaccard"

    def update(p, g):
        pt = torch.from_numpy(np.ascontiguousarray(p))
        pt = pt.argmax(1) if logits else pt.long()
        gt = torch.from_numpy(np.ascontiguousarray(g)).long()
        if ignore_to_zero:
            gt = torch.where(gt == 255, 0, gt)
        m.update(pt, gt)
    return update, finish


def child(args):
    n = args.images if args.method not in SLOW else min(args.images, args.slow_images)
    batches = _batches(args, n)
    if args.logits:
        batches = [(_scores(p, args.classes), g) for p, g in batches]
    update, finish = _runner(args.method, args.classes, args.logits)
    update(*batches[0])                 # warm-up (imports, first allocations), then a fresh state
    update, finish = _runner(args.method, args.classes, args.logits)
    rss0 = _rss_now()
    t0 = time.perf_counter()
    for p, g in batches:
        update(p, g)
    iu = finish()
    t = time.perf_counter() - t0
    out = {"method": args.method, "maps": n, "seconds": t, "peak_growth": max(0, _maxrss() - rss0)}
    if iu is not None:
        out["intersection"], out["union"] = [int(v) for v in iu[0]], [int(v) for v in iu[1]]
    with open(args.out, "w") as f:
        json.dump(out, f)


def _run(method, args, out):
    argv = [sys.executable, "-m", "bench.semantic", "--child", method, "--out", out,
            "--images", str(args.images), "--height", str(args.height), "--width", str(args.width),
            "--classes", str(args.classes), "--batch", str(args.batch), "--distinct", str(args.distinct),
            "--slow-images", str(args.slow_images)] + (["--logits"] if args.logits else [])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    r = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)
    if r.returncode:
        last = (r.stderr.strip().splitlines() or ["?"])[-1]
        if "No module named" in last:
            last = "skipped: %s is not installed" % last.split("No module named")[-1].strip(" '\"")
        return {"method": method, "error": last}
    with open(out) as f:
        return json.load(f)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.semantic", description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), help="cityscapes: 500 x 1024 x 2048, 19 classes; "
                    "ade20k: 2000 x 512 x 512, 150 classes")
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--height", type=int, default=512)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--classes", type=int, default=19)
    ap.add_argument("--batch", type=int, default=8, help="maps per update (default 8)")
    ap.add_argument("--distinct", type=int, default=20, help="distinct maps generated and reused (default 20)")
    ap.add_argument("--slow-images", type=int, default=50, help="maps given to torchmetrics (default 50)")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--logits", action="store_true", help="predictions as float32 scores [N, C, H, W] "
                    "(the others take np.argmax / torch.argmax of them)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.preset:
        args.images, args.height, args.width, args.classes = PRESETS[args.preset]
    if args.child:
        args.method = args.child
        child(args)
        return 0
    import tempfile
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    print("bench.semantic: %d maps of %d x %d, %d classes, batches of %d%s; torchmetrics on %d maps"
          % (args.images, args.height, args.width, args.classes, args.batch,
             ", float32 scores" if args.logits else "", min(args.images, args.slow_images)), flush=True)
    runs = []
    with tempfile.TemporaryDirectory(prefix="fastap-bench-semantic-") as d:
        for m in methods:
            runs.append(_run(m, args, os.path.join(d, m + ".json")))
    px = args.height * args.width / 1e6
    base = next((r for r in runs if r["method"] == "fastap" and "error" not in r), None)
    refs = {}

    def reference(n):
        """fastap's per-class intersection and union on the first n maps (computed here)."""
        if n not in refs:
            from fastap.semantic import SemanticEvaluator
            ev = SemanticEvaluator(args.classes)
            for p, g in _batches(args, n):
                ev.update(_scores(p, args.classes).argmax(1) if args.logits else p, g)
            c = ev.confusion
            refs[n] = ([int(v) for v in np.diag(c)], [int(v) for v in c.sum(0) + c.sum(1) - np.diag(c)])
        return refs[n]
    print("%-12s %6s %10s %12s %12s  %s" % ("method", "maps", "seconds", "Mpixel/s", "peak MB", "per-class I and U"))
    ok = True
    for r in runs:
        if "error" in r:
            print("%-12s  %s" % (r["method"], r["error"] if r["error"].startswith("skipped") else
                                 "failed: " + r["error"]))
            continue
        rate = r["maps"] * px / r["seconds"]
        same = "(timed only: other definition)" if "intersection" not in r else (
            "equal" if (r["intersection"], r["union"]) == reference(r["maps"]) else "DIFFER")
        ok &= same != "DIFFER"
        print("%-12s %6d %10.3f %12.1f %12.0f  %s" % (r["method"], r["maps"], r["seconds"], rate,
                                                     r["peak_growth"] / 2 ** 20, same))
    if base:
        fa = base["maps"] * px / base["seconds"]
        others = [r for r in runs if r is not base and "error" not in r]
        for r in others:
            print("fastap vs %-12s %7.1fx the pixel rate" % (r["method"], fa / (r["maps"] * px / r["seconds"])))
        if others:
            best = max(others, key=lambda r: r["maps"] / r["seconds"])
            print("fastest alternative: %s; fastap is %.1fx it" % (best["method"],
                                                                   fa / (best["maps"] * px / best["seconds"])))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

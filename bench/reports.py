"""Cost of the reports against the evaluation they come from, at COCO val2017 scale.

    python -m bench.reports [--scale coco_val2017] [--repeat 5] [--threads N] [--no-plots] [--cli]
    python -m bench.reports --scale segm_1k        # the same rows on a mask (segm) evaluation
    python -m bench.reports --scale kpt_person     # ... and on a keypoint (OKS) evaluation

Times, in one process on the cached ``fastap.synthetic`` files (bench/data.py):
``load`` (COCO + loadRes), ``evaluate`` (evaluate + accumulate + summarize), then each
report on that evaluation, one after the other: ``per_class``, ``operating_points``,
``confusion_matrix``, ``error_analysis``, ``plot deps`` (the first plot's imports: Pillow,
the font lookup; first repeat only) and ``plots (4 PNGs)`` (the four PNGs, reports
passed in). The accumulation order that the operating points and the error analysis
share is sorted once per repeat, in ``operating_points``.

The headline figure, ``reports + plots``, is what ``fastap eval GT RESULTS --per-class
--plots DIR`` adds to the evaluation, timed as the CLI runs it: ``ev.per_class()`` and
then ``fastap.reports.run_reports`` with a plots folder (as ``fastap eval --plots DIR``) (the error analysis in a second
thread while the other reports are computed and drawn, PNGs written in background
threads), from a fresh pass (no cached order), median of the repeats; it is compared
with the evaluation (load + evaluate). ``--cli`` also times the command line end to
end (``python -m fastap eval`` with and without ``--per-class --plots``, subprocesses,
median wall times) and prints the difference against the evaluation time the CLI
reports (its "total").

The iou type is the scale's (``bench.data.iou_type_of``: ``segm_1k`` / ``segm_5k`` are
mask evaluations, ``kpt_person`` a keypoint one): there the confusion matrix and the error
analysis also compute the mask IoUs / OKS of every (detection, ground truth) pair of an
image across categories (``fastap.geometry.pair_ious``), which matching never needed.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time

from bench.data import ensure_data, iou_type_of


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.reports")
    ap.add_argument("--scale", default="coco_val2017")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--cli", action="store_true", help="also time `python -m fastap eval` end to end")
    a = ap.parse_args(argv)
    gt_path, dt_path, meta = ensure_data(a.scale, log=lambda m: print(m, file=sys.stderr))
    iou_type = iou_type_of(a.scale)
    import fastap
    from fastap.reports import compute as report, drawing as plots, plot_all, run_reports
    times = {}

    def rec(name, t):
        times.setdefault(name, []).append(t)

    out_dir = tempfile.mkdtemp(prefix="fastap-bench-plots-")
    for i in range(a.repeat):
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink):
            t0 = time.perf_counter()
            gt = fastap.COCO(gt_path)
            dt = gt.loadRes(dt_path)
            t1 = time.perf_counter()
            ev = fastap.COCOeval(gt, dt, iou_type, num_threads=a.threads)
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
            t2 = time.perf_counter()
        rec("load", t1 - t0)
        rec("evaluate", t2 - t1)
        ps = report.pass_of(ev)
        t = time.perf_counter()
        ev.per_class()
        rec("per_class", time.perf_counter() - t)
        ps._acc_order = None
        t = time.perf_counter()
        op = ev.operating_points()
        rec("operating_points", time.perf_counter() - t)
        t = time.perf_counter()
        cm = ev.confusion_matrix()
        rec("confusion_matrix", time.perf_counter() - t)
        t = time.perf_counter()
        ea = ev.error_analysis()
        rec("error_analysis", time.perf_counter() - t)
        if not a.no_plots:
            t = time.perf_counter()
            plots.warm_fonts()
            if i == 0:
                rec("plot deps", time.perf_counter() - t)
            t = time.perf_counter()
            plot_all(ev, out_dir, operating_points=op, confusion_matrix=cm, error_analysis=ea)
            rec("plots (4 PNGs)", time.perf_counter() - t)
            # as the CLI: --per-class, then the reports of --plots (a fresh pass)
            ps._acc_order = None
            t = time.perf_counter()
            ev.per_class()
            run_reports(ev, plot_dir=out_dir)
            rec("CLI --per-class --plots", time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    base = med["load"] + med["evaluate"]
    print("fastap reports (%s) at %s scale: %d images, %d categories, %d ground truths, %d detections; "
          "%d repeats, medians; threads %s; %d cores"
          % (iou_type, a.scale, meta["n_images"], meta["n_categories"], meta["n_gt"], meta["n_dt"], a.repeat,
             a.threads or os.environ.get("FASTAP_NUM_THREADS") or "default", os.cpu_count()))
    print("%-22s %9s %9s   %s" % ("step", "median s", "x eval", "all runs (s)"))
    for k, v in med.items():
        print("%-22s %9.3f %9.2f   %s" % (k, v, v / base, " ".join("%.3f" % x for x in times[k])))
    reports = sum(med[k] for k in ("per_class", "operating_points", "confusion_matrix", "error_analysis"))
    print("evaluation (load + evaluate):             %.3f s" % base)
    print("reports (per-class, op, confusion, TIDE): %.3f s = %.2f x the evaluation" % (reports, reports / base))
    if not a.no_plots:
        pl = med["plots (4 PNGs)"] + med.get("plot deps", 0.0)
        print("plots (4 PNGs, incl. first imports):      %.3f s = %.2f x the evaluation" % (pl, pl / base))
        print("sum of the steps above:                   %.3f s = %.2f x the evaluation"
              % (reports + pl, (reports + pl) / base))
        rp = med["CLI --per-class --plots"]
        print("reports + plots (as fastap eval --per-class --plots, overlapped): %.3f s = %.2f x the evaluation"
              % (rp, rp / base))
    if a.cli:
        _cli(gt_path, dt_path, a.repeat, out_dir, iou_type)
    return 0


def _cli(gt_path, dt_path, repeat, out_dir, iou_type="bbox"):
    import re
    import subprocess
    cmd = [sys.executable, "-m", "fastap", "eval", gt_path, dt_path, "--iou-type", iou_type]
    walls = {"plain": [], "reports": []}
    evals = []
    for _ in range(repeat):
        for kind, extra in (("plain", []), ("reports", ["--per-class", "--plots", out_dir])):
            t = time.perf_counter()
            p = subprocess.run(cmd + extra, capture_output=True, text=True, check=True)
            walls[kind].append(time.perf_counter() - t)
            m = re.search(r"total ([0-9.]+) s", p.stdout)
            if m and kind == "plain":
                evals.append(float(m.group(1)))
    wp, wr = statistics.median(walls["plain"]), statistics.median(walls["reports"])
    ev = statistics.median(evals) if evals else float("nan")
    print("CLI end to end (%s, %d runs each, median wall):" % (" ".join(os.path.basename(c) for c in cmd[2:]), repeat))
    print("  fastap eval:                         %.3f s   (its evaluation, load+evaluate+accumulate: %.3f s)"
          % (wp, ev))
    print("  fastap eval --per-class --plots DIR: %.3f s   (+%.3f s = %.2f x the evaluation)"
          % (wr, wr - wp, (wr - wp) / ev))


if __name__ == "__main__":
    sys.exit(main())

"""Cost of the reports against the evaluation they come from, at COCO val2017 scale.

    python -m bench.reports [--scale coco_val2017] [--repeat 5] [--threads N] [--no-plots]

Times, in one process on the cached ``fastap.synthetic`` files (bench/data.py):
``load`` (COCO + loadRes), ``evaluate`` (evaluate + accumulate + summarize), then each
report on that evaluation: ``per_class``, ``operating_points``, ``confusion_matrix``,
``error_analysis``, ``matplotlib import`` (first plot only) and ``plots`` (the four PNGs,
reports passed in). Prints the median of the repeats and the ratio of each to the
evaluation (load + evaluate), and the ratio of all reports + plots together.
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

from bench.data import ensure_data


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.reports")
    ap.add_argument("--scale", default="coco_val2017")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--no-plots", action="store_true")
    a = ap.parse_args(argv)
    gt_path, dt_path, meta = ensure_data(a.scale, log=lambda m: print(m, file=sys.stderr))
    import fastap
    from fastap import plots
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
            ev = fastap.COCOeval(gt, dt, "bbox", num_threads=a.threads)
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
            t2 = time.perf_counter()
        rec("load", t1 - t0)
        rec("evaluate", t2 - t1)
        t = time.perf_counter()
        ev.per_class()
        rec("per_class", time.perf_counter() - t)
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
            plots._deps()
            if i == 0:
                rec("matplotlib import", time.perf_counter() - t)
            t = time.perf_counter()
            plots.plot_all(ev, out_dir, operating_points=op, confusion_matrix=cm, error_analysis=ea)
            rec("plots (4 PNGs)", time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    base = med["load"] + med["evaluate"]
    print("fastap reports at %s scale: %d images, %d categories, %d ground truths, %d detections; "
          "%d repeats, medians; threads %s; %d cores"
          % (a.scale, meta["n_images"], meta["n_categories"], meta["n_gt"], meta["n_dt"], a.repeat,
             a.threads or os.environ.get("FASTAP_NUM_THREADS") or "default", os.cpu_count()))
    print("%-22s %9s %9s   %s" % ("step", "median s", "x eval", "all runs (s)"))
    for k, v in med.items():
        print("%-22s %9.3f %9.2f   %s" % (k, v, v / base, " ".join("%.3f" % x for x in times[k])))
    reports = sum(med[k] for k in ("per_class", "operating_points", "confusion_matrix", "error_analysis"))
    print("evaluation (load + evaluate):             %.3f s" % base)
    print("reports (per-class, op, confusion, TIDE): %.3f s = %.2f x the evaluation" % (reports, reports / base))
    if not a.no_plots:
        pl = med["plots (4 PNGs)"] + med.get("matplotlib import", 0.0)
        print("plots (4 PNGs, incl. matplotlib import):  %.3f s = %.2f x the evaluation" % (pl, pl / base))
        print("reports + plots:                          %.3f s = %.2f x the evaluation"
              % (reports + pl, (reports + pl) / base))
    return 0


if __name__ == "__main__":
    sys.exit(main())

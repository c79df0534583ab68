"""The ``fastap`` command line.

    fastap eval GT.json RESULTS.json [--iou-type bbox] [--json OUT] [--per-class] [--csv OUT]
                [--threads N] [--quiet] [--progress]
    fastap demo [--scale coco_val2017] [--no-compare]

Exit codes: 0 success, 2 bad input (one line on stderr naming the file, record and
field), 1 anything else.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time

import numpy as np

from .errors import FastapError

STAT_LABELS = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]

EPILOG = """examples:
  fastap eval instances_val2017.json detections.json
  fastap eval gt.json dt.json --json metrics.json --threads 4
  fastap eval gt.json dt.json --per-class --csv per_class.csv
  fastap demo
"""


class _Phases:
    """Per-phase progress on stderr: a tqdm bar when tqdm is installed, else one line
    per finished phase."""

    def __init__(self, names, enabled):
        self.enabled, self.names, self.bar = enabled, names, None
        self.t = time.perf_counter()
        if enabled:
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=len(names), desc="fastap", unit="phase", file=sys.stderr)
            except ImportError:
                self.bar = None

    def done(self, name):
        now = time.perf_counter()
        if self.enabled:
            msg = "%s %.3f s" % (name, now - self.t)
            if self.bar is not None:
                self.bar.set_postfix_str(msg)
                self.bar.update(1)
                if self.bar.n == self.bar.total:
                    self.bar.close()
            else:
                print("fastap: %s" % msg, file=sys.stderr, flush=True)
        self.t = now


def _run_fastap(gt_path, dt_path, iou_type="bbox", num_threads=None, quiet=False, progress=False):
    """COCO(gt) + loadRes(dt) + evaluate + accumulate + summarize; returns (ev, timings)."""
    from .coco import COCO, COCOeval
    t = {}
    sink = io.StringIO()
    ph = _Phases(["load", "evaluate", "accumulate"], progress)
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(sink):
        gt = COCO(gt_path)
        dt = gt.loadRes(dt_path)
        t1 = time.perf_counter()
        ph.done("load")
        ev = COCOeval(gt, dt, iou_type, num_threads=num_threads)
        ev.evaluate()
        t2 = time.perf_counter()
        ph.done("evaluate")
        ev.accumulate()
        t3 = time.perf_counter()
        ph.done("accumulate")
        ev.summarize()
    t.update(load=t1 - t0, evaluate=t2 - t1, accumulate=t3 - t2, total=t3 - t0)
    if not quiet:
        print("\n".join(sink.getvalue().splitlines()[-len(ev.stats):]))
    return ev, t


def cmd_eval(args):
    ev, t = _run_fastap(args.gt, args.results, args.iou_type, args.threads, args.quiet, args.progress)
    if not args.quiet:
        print("fastap: load %.3f s, evaluate %.3f s, accumulate %.3f s, total %.3f s"
              % (t["load"], t["evaluate"], t["accumulate"], t["total"]))
    if args.per_class or args.csv:
        table = ev.per_class()
        if args.per_class and not args.quiet:
            print(_format_table(table))
        if args.csv:
            from .engine import table_to_csv
            table_to_csv(table, args.csv)
    from .report import cli_reports
    reports = cli_reports(args, ev)
    if args.json:
        out = {"gt": os.fspath(args.gt), "results": os.fspath(args.results), "iou_type": args.iou_type,
               "stats": dict(zip(STAT_LABELS, [float(x) for x in ev.stats])),
               "timings_s": t}
        if args.per_class:
            out["per_class"] = [{k: (None if isinstance(v, float) and v != v else v)
                                 for k, v in zip(table.dtype.names, row)} for row in table.tolist()]
        out.update(reports)
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


def _format_table(table):
    """Fixed-width text of a per-class structured array (NaN shown as '-')."""
    names = table.dtype.names
    rows = [[str(v) if isinstance(v, int) else ("-" if v != v else "%.3f" % v) for v in row]
            for row in table.tolist()]
    widths = [max(len(n), *(len(r[i]) for r in rows)) if rows else len(n) for i, n in enumerate(names)]
    lines = ["  ".join(n.rjust(w) for n, w in zip(names, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


def _demo_data_dir():
    try:
        from importlib.resources import files
        return str(files("fastap") / "data" / "cocoapi_val2014_fake100")
    except Exception:  # pragma: no cover - Python < 3.9
        return os.path.join(os.path.dirname(__file__), "data", "cocoapi_val2014_fake100")


def _pycocotools_run(gt_path, dt_path):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        gt = COCO(gt_path)
        dt = gt.loadRes(dt_path)
        t1 = time.perf_counter()
        ev = COCOeval(gt, dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        t2 = time.perf_counter()
        ev.summarize()
    return ev, t1 - t0, t2 - t1


def cmd_demo(args):
    from . import synthetic
    d = _demo_data_dir()
    gt_path = os.path.join(d, "instances_val2014_100.json")
    dt_path = os.path.join(d, "instances_val2014_fakebbox100_results.json")
    print("1) COCO val2014, 100 images, cocoapi's fake bbox results "
          "(the pycocotools demo; pycocotools prints AP 0.505):")
    ev, t = _run_fastap(gt_path, dt_path, num_threads=args.threads)
    print("fastap: %.3f s in all (load %.3f s, evaluate+accumulate %.3f s)\n"
          % (t["total"], t["load"], t["evaluate"] + t["accumulate"]))

    scale = synthetic.SCALES[args.scale]
    print("2) generated data at %s scale: %d images, %d categories, ~%.1f ground truths and %d "
          "detections per image" % (args.scale, scale["n_images"], scale["n_categories"],
                                    scale["gt_per_image"], scale["dets_per_image"]))
    with tempfile.TemporaryDirectory(prefix="fastap-demo-") as tmp:
        gt_path, dt_path = synthetic.write_coco(tmp, seed=0, scale=args.scale)
        ev, t = _run_fastap(gt_path, dt_path, num_threads=args.threads)
        print("fastap: load %.3f s, evaluate+accumulate %.3f s, total %.3f s"
              % (t["load"], t["evaluate"] + t["accumulate"], t["total"]))
        if args.no_compare:
            return 0
        try:
            import pycocotools  # noqa: F401
        except ImportError:
            print("pycocotools is not installed: `pip install pycocotools` to time it on the same files")
            return 0
        print("pycocotools on the same files (this takes a while)...", flush=True)
        ref, load_s, ea_s = _pycocotools_run(gt_path, dt_path)
        same = np.array_equal(ref.stats, ev.stats) and all(
            np.array_equal(ref.eval[k], ev.eval[k]) for k in ("precision", "recall", "scores"))
        print("pycocotools: load %.3f s, evaluate+accumulate %.3f s, total %.3f s"
              % (load_s, ea_s, load_s + ea_s))
        print("fastap is %.0fx faster at evaluate+accumulate, %.0fx end to end; numbers %s"
              % (ea_s / (t["evaluate"] + t["accumulate"]), (load_s + ea_s) / t["total"],
                 "bit-identical (stats, precision, recall, scores)" if same else "DIFFER"))
        return 0 if same else 1


def build_parser():
    p = argparse.ArgumentParser(prog="fastap", description="Fast, exact object-detection evaluation "
                                "(COCO mAP bit-identical to pycocotools).",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version="fastap " + __import__("fastap").__version__)
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("eval", help="evaluate a COCO results file against COCO ground truth",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("gt", help="ground-truth annotations (COCO JSON)")
    e.add_argument("results", help="detections (COCO results JSON: a list of records)")
    e.add_argument("--iou-type", default="bbox", choices=["bbox"], help="annotation type (default: bbox)")
    e.add_argument("--json", metavar="OUT", help="also write the 12 stats and timings to OUT as JSON")
    e.add_argument("--threads", type=int, default=None, help="threads (default: all cores / OMP_NUM_THREADS)")
    e.add_argument("--per-class", action="store_true",
                   help="also print per-category AP, AP50, AP75, APs/m/l and AR (and add them to --json)")
    e.add_argument("--csv", metavar="OUT", help="write the per-category table to OUT as CSV")
    e.add_argument("--quiet", action="store_true", help="print nothing (use with --json)")
    e.add_argument("--progress", action="store_true",
                   help="report each phase (load, evaluate, accumulate) on stderr as it ends (a bar with tqdm)")
    from .report import add_cli_options
    add_cli_options(e)
    e.set_defaults(func=cmd_eval)
    d = sub.add_parser("demo", help="evaluate built-in examples and time them")
    d.add_argument("--scale", default="coco_val2017", choices=["tiny", "small", "coco_val2017", "objects365"],
                   help="size of the generated example (default: coco_val2017)")
    d.add_argument("--no-compare", action="store_true", help="do not run pycocotools for comparison")
    d.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    d.set_defaults(func=cmd_demo)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FastapError, ValueError, TypeError) as e:
        print("fastap: error: %s" % e, file=sys.stderr)
        return 2
    except NotImplementedError as e:
        print("fastap: not supported: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

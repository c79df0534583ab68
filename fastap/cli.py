"""The ``fastap`` command line.

    fastap eval GT RESULTS [--format coco|yolo|voc|dota|yolo-obb] [--protocol coco|lvis|voc|voc07|dota]
                [--iou-threshold T] [--image-sizes FILE] [--images DIR] [--names FILE]
                [--iou-type bbox|segm|keypoints] [--json OUT] [--per-class] [--csv OUT]
                [--threads N] [--quiet] [--progress]
    fastap demo [--scale coco_val2017] [--no-compare]
    fastap segeval GT_DIR PRED_DIR --num-classes K [--ignore-index 255] [--reduce-zero-label]
                   [--average dataset|per_sample] [--names FILE] [--json OUT] [--threads N]

Exit codes: 0 success, 2 bad input or usage (one line on stderr naming the file, record
and field; argparse's usage message for options that do not apply), 1 an unexpected
internal error (a traceback), 141 stdout closed early (piped into ``head``). Input that
looks like a mistake gets a line ``fastap: warning: ...`` on stderr and an entry under
``"warnings"`` in ``--json`` (:mod:`fastap.checks`).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import threading
import time
import warnings

import numpy as np

from . import formats, synthetic
from . import lvis as lvis_api
from . import semantic
from .adapters.cocodata import COCO
from .api import accumulate, evaluate, evaluate_dota, evaluate_pass, table_to_csv
from .columns import sorted_ids_list
from .errors import FastapError, FastapWarning, InvalidFileError
from .reports.drawing import require_deps, warm_fonts
from .reports.compute import measure_name
from .reports.orchestrate import run_reports

STAT_LABELS = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]
KPT_STAT_LABELS = ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]

EPILOG = """examples:
  fastap eval instances_val2017.json detections.json
  fastap eval gt.json dt.json --json metrics.json --threads 4
  fastap eval gt.json dt.json --per-class --csv per_class.csv
  fastap eval instances_val2017.json segm_results.json --iou-type segm
  fastap eval person_keypoints_val2017.json keypoint_results.json --iou-type keypoints
  fastap eval gt.json dt.json --json - --quiet          # JSON on stdout
  fastap eval labels/ predictions/ --format yolo --images images/ --names data.yaml
  fastap eval labels/ predictions/ --format yolo --image-sizes sizes.json
  fastap eval Annotations/ results/ --format voc --protocol voc --iou-threshold 0.5
  fastap eval gt.json dt.json --protocol voc07
  fastap eval lvis_v1_val.json results.json --iou-type segm    # LVIS: detected from the file
  fastap demo
"""

DEMO_EPILOG = """examples:
  fastap demo                              # val2017 scale, compared with pycocotools
  fastap demo --scale small --no-compare
"""

EXIT_CODES = """exit codes:
  0    success (input that looks like a mistake gets a line 'fastap: warning: ...' on
       stderr, and an entry under "warnings" in --json)
  2    bad input or usage: one line on stderr, 'fastap: error: FILE: record/line N: field ...',
       or argparse's usage message for options that do not apply
  1    an unexpected internal error (a Python traceback; please report it)
  141  stdout was closed early (e.g. piped into head): nothing more is written
"""

FORMATS_HELP = """input formats (--format):
  coco  GT: a COCO annotation file; RESULTS: a COCO results file (a JSON list of
        {image_id, category_id, bbox [x, y, w, h], score}; with --iou-type segm an RLE
        'segmentation', with --iou-type keypoints 'keypoints' [x, y, v, ...]).
  yolo  GT: a folder of <image>.txt label files, lines 'class cx cy w h' normalised to
        [0, 1]; RESULTS: a folder of prediction files, lines 'class cx cy w h conf'
        (ultralytics save_txt + save_conf). Needs the image sizes: --images DIR (read
        from the image headers) or --image-sizes FILE (JSON {name: [w, h]}, a COCO
        annotation file, or CSV name,width,height). Images without a label file have no
        objects. --names classes.txt or data.yaml names the classes.
  voc   GT: a folder of PASCAL VOC XML files (Annotations/); RESULTS: a folder (or one
        file) of devkit result files comp4_det_test_<class>.txt, lines
        '<image> <score> <xmin> <ymin> <xmax> <ymax>'. Difficult objects are left out
        by --protocol voc/voc07 and count as ordinary objects under --protocol coco.
  dota  GT: a DOTA labelTxt folder of <image>.txt files, lines 'x1 y1 x2 y2 x3 y3 x4 y4
        class difficult' (optional 'imagesource:' / 'gsd:' header lines); RESULTS: a
        folder (or one file) of task-1 result files Task1_<class>.txt, lines '<image>
        <score> x1 y1 ... x4 y4'. Evaluated by --protocol dota (the DOTA devkit's task 1:
        AP at IoU > 0.5, VOC2007 11-point, difficult objects left out).
  yolo-obb  ultralytics OBB labels: lines 'class x1 y1 x2 y2 x3 y3 x4 y4' normalised to
        [0, 1] (predictions: 'conf' last); image sizes as for yolo; --protocol dota.
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
    """COCO(gt) + loadRes(dt), then the array API's two steps (pycocotools' evaluate,
    then accumulate and summarize) with COCOeval's defaults (every image and category
    of the ground truth); prints the summary unless ``quiet``. Returns (EvalResult,
    timings)."""
    ph = _Phases(["load", "evaluate", "accumulate"], progress)
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):      # pycocotools' load messages
        gt = _load_gt(gt_path)
        dt = gt.loadRes(dt_path)
    t1 = time.perf_counter()
    ph.done("load")
    ps = evaluate_pass(gt, dt, iou_type=iou_type, img_ids=sorted_ids_list(gt.getImgIds()),
                       cat_ids=sorted(gt.getCatIds()), num_threads=num_threads)
    t2 = time.perf_counter()
    ph.done("evaluate")
    res = accumulate(ps)
    t3 = time.perf_counter()
    ph.done("accumulate")
    if not quiet:
        print("\n".join(res.summary))
    return res, {"load": t1 - t0, "evaluate": t2 - t1, "accumulate": t3 - t2, "total": t3 - t0}


def _load_gt(path):
    """COCO(path), refused when it lists no images (nothing could be evaluated, and
    every result would be reported as being on an unknown image)."""
    gt = COCO(path)
    if not gt.imgs:
        images = gt.dataset.get("images")
        raise InvalidFileError("%s: %s: a COCO annotation file lists its images (id, width, height) under "
                               "'images', and results are evaluated on them"
                               % (os.fspath(path), "no 'images' list" if images is None else "the 'images' list "
                                  "is empty"))
    return gt


def _out(path):
    """A context manager giving a text file to write `path` to ('-': stdout)."""
    if path == "-":
        return contextlib.nullcontext(sys.stdout)
    try:
        return open(path, "w", newline="")
    except OSError as e:
        raise InvalidFileError("%s: cannot write the file (%s)" % (path, e.strerror or e)) from None


def _quiet(args):
    """--quiet, or a machine-readable output on stdout (which must stay parseable)."""
    return args.quiet or args.json == "-" or args.csv == "-"


def _load_columns(args):
    """(gt, dt, img_ids, class names) for --format yolo|voc (fastap.formats Columns),
    or for --format coco with a VOC protocol (fastap.COCO objects)."""
    if args.format == "yolo":
        gt = formats.read_yolo(args.gt, image_sizes=args.image_sizes, images_dir=args.images,
                               class_names=args.names)
        dt = formats.read_yolo(args.results, predictions=True, images=gt)
        return gt, dt, gt.image_ids, _names(gt.class_names)
    if args.format == "voc":
        gt = formats.read_voc_xml(args.gt, class_names=args.names)
        dt = formats.read_voc_results(args.results, gt)
        return gt, dt, gt.image_ids, _names(gt.class_names)
    if args.format == "dota":
        gt = formats.read_dota(args.gt, class_names=args.names)
        dt = formats.read_dota_results(args.results, gt)
        return gt, dt, gt.image_ids, _names(gt.class_names)
    if args.format == "yolo-obb":
        gt = formats.read_yolo_obb(args.gt, image_sizes=args.image_sizes, images_dir=args.images,
                                   class_names=args.names)
        dt = formats.read_yolo_obb(args.results, predictions=True, images=gt)
        return gt, dt, gt.image_ids, _names(gt.class_names)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = _load_gt(args.gt)
        dt = gt.loadRes(args.results)
    names = {c["id"]: c.get("name") for c in gt.loadCats(gt.getCatIds())}
    return gt, dt, np.asarray(sorted(gt.getImgIds()), np.int64), names


def _names(class_names):
    return None if class_names is None else dict(enumerate(class_names))


def _eval_columns(args):
    """--format yolo|voc, or --protocol voc|voc07: fastap.evaluate on columns."""
    quiet = _quiet(args)
    ph = _Phases(["load", "evaluate"], args.progress)
    t0 = time.perf_counter()
    gt, dt, img_ids, names = _load_columns(args)
    t1 = time.perf_counter()
    ph.done("load")
    if args.protocol == "dota":
        res = evaluate_dota(gt, dt, iou_threshold=args.iou_threshold, img_ids=img_ids, num_threads=args.threads)
    else:
        res = evaluate(gt, dt, protocol=args.protocol, img_ids=img_ids,
                       iou_threshold=None if args.protocol == "coco" else args.iou_threshold,
                       num_threads=args.threads)
    t2 = time.perf_counter()
    ph.done("evaluate")
    t = {"load": t1 - t0, "evaluate": t2 - t1, "total": t2 - t0}

    def name_of(c):
        return None if names is None else names.get(c)

    if args.protocol == "coco":
        table = res.per_class()
        rows = [dict(zip(table.dtype.names, r)) for r in table.tolist()]
        if not quiet:
            print("\n".join(res.summary))
    else:
        rows = [{"category_id": int(c), "ap": float(a), "n_pos": int(n)}
                for c, a, n in zip(res.cat_ids.tolist(), res.ap.tolist(), res.n_pos.tolist())]
        table = np.array([(r["category_id"], r["ap"], r["n_pos"]) for r in rows],
                         dtype=[("category_id", np.int64), ("ap", np.float64), ("n_pos", np.int64)])
        if not quiet and args.protocol == "dota":
            print("DOTA task-1 AP @ IoU > %g (11-point): mAP = %.4f over %d classes with ground truth"
                  % (args.iou_threshold, res.map, int((res.n_pos > 0).sum())))
        elif not quiet:
            print("%s AP @ IoU %g (%s): mAP = %.4f over %d classes with ground truth"
                  % ("VOC2007" if args.protocol == "voc07" else "VOC", args.iou_threshold,
                     "11-point" if args.protocol == "voc07" else "all-point", res.map, int((res.n_pos > 0).sum())))
    if names is not None:
        for r in rows:
            r["name"] = name_of(r["category_id"])
    if not quiet:
        if args.per_class:
            print(_format_table(table, None if names is None else [name_of(c) for c in table["category_id"].tolist()]))
        print("fastap: load %.3f s, evaluate %.3f s, total %.3f s" % (t["load"], t["evaluate"], t["total"]))
    args.quiet = quiet
    reports = _reports(args, res, names) if args.protocol == "coco" else {}
    if args.csv:
        with _out(args.csv) as f:
            table_to_csv(table, f)
    if args.json:
        out = {"gt": os.fspath(args.gt), "results": os.fspath(args.results), "format": args.format,
               "protocol": args.protocol, "timings_s": t}
        if args.protocol == "coco":
            out["iou_type"] = "bbox"
            out["stats"] = dict(zip(STAT_LABELS, [float(x) for x in res.stats]))
        else:
            out["iou_threshold"] = args.iou_threshold
            out["map"] = None if res.map != res.map else float(res.map)
        out["per_class"] = _json_rows(rows)
        _write_json(args, out, reports)
    return 0


def _json_rows(rows):
    """Per-class rows (dicts) for JSON: NaN as null."""
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()} for r in rows]


def _write_json(args, out, reports):
    """--json: ``out`` with the reports and the run's warnings."""
    out.update(reports)
    out["warnings"] = args.warnings
    with _out(args.json) as f:
        json.dump(out, f, indent=1)
        f.write("\n")


class _Warnings:
    """The FastapWarnings of a run: each printed on stderr when it is issued
    ('fastap: warning: ...') and kept in ``items`` for ``--json``; other warnings are
    shown as Python shows them."""

    def __enter__(self):
        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("always", FastapWarning)
        self._show = warnings.showwarning
        warnings.showwarning = self._record
        self.items = []
        return self

    def _record(self, message, category, filename, lineno, file=None, line=None):
        if issubclass(category, FastapWarning):
            print("fastap: warning: %s" % message, file=sys.stderr, flush=True)
            self.items.append({"warning": category.__name__, "message": str(message),
                               "records": getattr(message, "records", None)})
        else:
            self._show(message, category, filename, lineno, file, line)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


REPORT_OPTIONS = ("f1", "confusion", "errors", "plots")


def _check_usage(args):
    """Options that do not apply to the others given: argparse's usage error (exit code
    2) before anything is read; then the defaults of the options left unset."""
    error = args.eval_parser.error
    for name, path in (("GT", args.gt), ("RESULTS", args.results)):
        if args.format == "coco" and os.path.isdir(path):
            error("%s: %s is a folder, not a COCO JSON file: for a folder of YOLO label files or of VOC XML "
                  "files give --format yolo or --format voc" % (name, path))
    reports = ["--" + o for o in REPORT_OPTIONS if getattr(args, o)]
    if (args.protocol == "dota") != (args.format in ("dota", "yolo-obb")):
        error("argument --protocol: dota evaluates --format dota or yolo-obb (oriented boxes), and those "
              "formats are evaluated by --protocol dota")
    if args.iou_threshold is not None and args.protocol in ("coco", "lvis"):
        error("argument --iou-threshold: applies to --protocol voc / voc07 / dota only; --protocol %s averages AP "
              "over IoU 0.50:0.95 (AP50 and AP75 are in its summary)" % args.protocol)
    if args.iou_type != "bbox" and (args.protocol not in ("coco", "lvis") or args.format != "coco"):
        error("argument --iou-type: %s needs --format coco and --protocol coco (or lvis)" % args.iou_type)
    if args.iou_type == "rotated" and args.protocol == "lvis":
        error("argument --iou-type: rotated is evaluated by --protocol coco")
    if args.protocol == "lvis" and args.iou_type == "keypoints":
        error("argument --iou-type: --protocol lvis evaluates bbox or segm")
    if args.max_dets is not None and args.protocol != "lvis":
        error("argument --max-dets: applies to --protocol lvis only (the COCO protocol's maxDets are 1, 10, 100)")
    if args.protocol == "lvis" and args.format != "coco":
        error("argument --protocol: lvis reads COCO-format files (--format coco)")
    if reports and args.protocol != "coco":
        error("argument %s: the reports need --protocol coco, not --protocol %s" % (reports[0], args.protocol))
    if args.iou_thr is not None and not reports:
        error("argument --iou-thr: is the IoU threshold of the reports (--f1, --confusion, --errors, --plots), "
              "and none is asked for%s" % ("; the threshold of --protocol %s is --iou-threshold" % args.protocol
                                           if args.protocol != "coco" else ""))
    if args.conf is not None and not (args.confusion or args.plots):
        error("argument --conf: is the score threshold of the confusion matrix (--confusion, --plots), and "
              "neither is asked for")
    for opt, v in (("--image-sizes", args.image_sizes), ("--images", args.images)):
        if v is not None and args.format not in ("yolo", "yolo-obb"):
            error("argument %s: only for --format yolo or yolo-obb (%s files carry their own image sizes)"
                  % (opt, args.format.upper()))
    if args.names is not None and args.format == "coco":
        error("argument --names: only for --format yolo or voc (a COCO file names its categories)")
    if args.format in ("yolo", "yolo-obb") and args.image_sizes is None and args.images is None:
        error("--format %s needs the image sizes (YOLO boxes are normalised to them): give --image-sizes FILE "
              "or --images DIR" % args.format)
    if args.plots is not None and os.path.exists(args.plots) and not os.path.isdir(args.plots):
        error("argument --plots: %s is a file, not a folder" % args.plots)
    args.iou_threshold = 0.5 if args.iou_threshold is None else args.iou_threshold
    args.max_dets = 300 if args.max_dets is None else args.max_dets
    args.iou_thr = 0.5 if args.iou_thr is None else args.iou_thr
    args.conf = 0.25 if args.conf is None else args.conf


def _prepare_plots(directory):
    """--plots: matplotlib is there and the folder can be made, before the evaluation."""
    try:
        require_deps()
    except ImportError as e:
        raise FastapError("--plots: %s" % e) from None
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        raise InvalidFileError("%s: cannot make the plots folder (%s)" % (directory, e.strerror or e)) from None


def _lvis_file(path):
    """Whether a COCO-format annotation file is an LVIS one (its images list
    ``neg_category_ids``): the file's bytes are searched, nothing is parsed."""
    return os.path.isfile(path) and lvis_api.file_mentions(path, b'"neg_category_ids"')


def _eval_lvis(args):
    """--protocol lvis: lvis-api's LVISEval (fastap.lvis), its summary printed."""
    if args.format != "coco" or args.iou_type not in ("bbox", "segm"):
        raise InvalidFileError("--protocol lvis reads COCO-format files (--format coco) and evaluates "
                               "--iou-type bbox or segm")
    if args.f1 or args.confusion or args.errors or args.plots or args.image_sizes or args.images or args.names:
        raise InvalidFileError("--protocol lvis: the reports (--f1, --confusion, --errors, --plots) and "
                               "--image-sizes / --images / --names are not available")
    quiet = _quiet(args)
    t0 = time.perf_counter()
    gt = lvis_api.LVIS(args.gt)
    dt = lvis_api.LVISResults(gt, args.results, max_dets=args.max_dets)
    t1 = time.perf_counter()
    ev = lvis_api.LVISEval(gt, dt, args.iou_type)
    ev.params.max_dets = args.max_dets
    ev.evaluate()
    t2 = time.perf_counter()
    ev.accumulate()
    ev.summarize()
    t3 = time.perf_counter()
    t = {"load": t1 - t0, "evaluate": t2 - t1, "accumulate": t3 - t2, "total": t3 - t0}
    table = ev.per_class() if args.per_class or args.csv else None
    if not quiet:
        ev.print_results()
        if args.per_class:
            print(_format_table(table))
        print("fastap: load %.3f s, evaluate %.3f s, accumulate %.3f s, total %.3f s"
              % (t["load"], t["evaluate"], t["accumulate"], t["total"]))
    if args.csv:
        with _out(args.csv) as f:
            table_to_csv(table, f)
    if args.json:
        out = {"gt": os.fspath(args.gt), "results": os.fspath(args.results), "protocol": "lvis",
               "iou_type": args.iou_type, "max_dets": args.max_dets,
               "results_lvis": {k: float(v) for k, v in ev.results.items()}, "timings_s": t}
        if args.per_class:
            out["per_class"] = [{k: (None if isinstance(v, float) and v != v else v)
                                 for k, v in zip(table.dtype.names, row)} for row in table.tolist()]
        with _out(args.json) as f:
            json.dump(out, f, indent=1)
            f.write("\n")
    return 0


def cmd_eval(args):
    if args.protocol is None:
        args.protocol = "dota" if args.format in ("dota", "yolo-obb") else \
            "lvis" if args.format == "coco" and _lvis_file(args.gt) else "coco"
    _check_usage(args)
    if args.plots is not None:
        _prepare_plots(args.plots)
    with _Warnings() as w:
        args.warnings = w.items
        if args.protocol == "lvis":
            return _eval_lvis(args)
        if args.format != "coco" or args.protocol != "coco":
            return _eval_columns(args)
        return _eval_coco(args)


def _eval_coco(args):
    """--format coco --protocol coco: pycocotools' evaluation, and the reports."""
    args.quiet = _quiet(args)
    if args.plots:
        # Pillow and the fonts load meanwhile (the evaluation's C kernels release the
        # GIL), so the plots start at once; errors are left to the plots
        threading.Thread(target=warm_fonts, daemon=True).start()
    res, t = _run_fastap(args.gt, args.results, args.iou_type, args.threads, args.quiet, args.progress)
    if not args.quiet:
        print("fastap: load %.3f s, evaluate %.3f s, accumulate %.3f s, total %.3f s"
              % (t["load"], t["evaluate"], t["accumulate"], t["total"]))
    if args.per_class or args.csv:
        table = res.per_class()
        if args.per_class and not args.quiet:
            print(_format_table(table))
        if args.csv:
            with _out(args.csv) as f:
                table_to_csv(table, f)
    reports = _reports(args, res)
    if args.json:
        out = {"gt": os.fspath(args.gt), "results": os.fspath(args.results), "iou_type": args.iou_type,
               "stats": dict(zip(KPT_STAT_LABELS if args.iou_type == "keypoints" else STAT_LABELS,
                                 [float(x) for x in res.stats])),
               "timings_s": t}
        if args.per_class:
            out["per_class"] = _json_rows(dict(zip(table.dtype.names, row)) for row in table.tolist())
        _write_json(args, out, reports)
    return 0


def _add_report_options(parser):
    """The report options of ``fastap eval``."""
    g = parser.add_argument_group("reports (from the same evaluation pass)")
    g.add_argument("--f1", action="store_true",
                   help="print the best-F1 operating point per class and overall (and add it to --json)")
    g.add_argument("--confusion", action="store_true",
                   help="add the confusion matrix to --json (and print its totals)")
    g.add_argument("--errors", action="store_true",
                   help="print the TIDE-style error breakdown (dAP per error type; and add it to --json)")
    g.add_argument("--plots", metavar="DIR",
                   help="write PR curves, P/R/F1 vs score, the confusion matrix and the error breakdown "
                        "as PNGs into DIR (needs matplotlib: pip install fastap[plot])")
    g.add_argument("--iou-thr", type=float, default=None, metavar="T",
                   help="IoU threshold (OKS for --iou-type keypoints; mask IoU for segm) of the operating "
                        "points, confusion matrix and error analysis (default 0.5; --protocol coco only, as "
                        "every report)")
    g.add_argument("--conf", type=float, default=None, metavar="S",
                   help="score threshold of the confusion matrix (default 0.25, as ultralytics)")


def _reports(args, res, names=None):
    """Run the reports ``args`` ask for on an evaluation (:func:`run_reports`: the error
    analysis on a second thread beside the others); print them unless ``args.quiet``;
    return the dict of keys to add to ``--json``. ``names``: class id -> name, where the
    evaluation does not know them."""
    if not (args.f1 or args.confusion or args.errors or args.plots):
        return {}
    r = run_reports(res, operating_points=args.f1, confusion_matrix=args.confusion, error_analysis=args.errors,
                    plot_dir=args.plots, iou_threshold=args.iou_thr, score_threshold=args.conf, names=names)
    out = {}
    quiet = getattr(args, "quiet", False)
    if args.f1:
        op = r["operating_points"]
        out["operating_points"] = op.to_dict()
        if not quiet:
            print(_format_best(op))
    if args.confusion:
        cm = r["confusion_matrix"]
        out["confusion_matrix"] = cm.to_dict()
        if not quiet:
            K = cm.matrix.shape[0] - 1
            print("confusion matrix (%s > %g, score > %g): %d matched (%d with the right class), "
                  "%d false positives, %d missed" % (measure_name(cm.iou_type), cm.iou_threshold, cm.score_threshold,
                                                     int(cm.matrix[:K, :K].sum()), int(np.trace(cm.matrix[:K, :K])),
                                                     int(cm.matrix[K].sum()), int(cm.matrix[:, K].sum())))
    if args.errors:
        out["error_analysis"] = r["error_analysis"].to_dict()
        if not quiet:
            print(r["error_analysis"].summary())
    if args.plots:
        out["plots"] = r["plots"]
        if not quiet:
            print("fastap: wrote %s" % ", ".join(r["plots"].values()))
    return out


def _format_best(op):
    """The best-F1 operating points as a fixed-width table."""
    b = op.best
    lines = ["best-F1 operating points (%s=%.2f, area=%s, maxDets=%d)"
             % (measure_name(op.iou_type), op.iou_threshold, op.area, op.max_dets),
             "%12s %6s %9s %9s %9s %9s" % ("category", "n_gt", "score", "precision", "recall", "F1")]

    def f(v):
        return "-" if v is None or (isinstance(v, float) and np.isnan(v)) else "%.3f" % v
    for row in b:
        name = op.names.get(int(row["category_id"]), row["category_id"]) if op.names else row["category_id"]
        lines.append("%12s %6d %9s %9s %9s %9s" % (str(name)[:12], row["n_gt"], f(row["threshold"]),
                                                   f(row["precision"]), f(row["recall"]), f(row["f1"])))
    ob = op.overall_best
    lines.append("%12s %6d %9s %9s %9s %9s" % ("all (micro)", ob["n_gt"], f(ob["threshold"]), f(ob["precision"]),
                                               f(ob["recall"]), f(ob["f1"])))
    return "\n".join(lines)


def _format_table(table, class_names=None):
    """Fixed-width text of a per-class structured array (NaN shown as '-'), with a
    name column when `class_names` (one per row) is given."""
    names = table.dtype.names
    rows = [[str(v) if isinstance(v, (int, str)) else ("-" if v != v else "%.3f" % v) for v in row]
            for row in table.tolist()]
    if class_names is not None:
        names = names[:1] + ("name",) + names[1:]
        rows = [r[:1] + [str(n)] + r[1:] for r, n in zip(rows, class_names)]
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
            np.array_equal(ref.eval[k], getattr(ev, k)) for k in ("precision", "recall", "scores"))
        print("pycocotools: load %.3f s, evaluate+accumulate %.3f s, total %.3f s"
              % (load_s, ea_s, load_s + ea_s))
        print("fastap is %.0fx faster at evaluate+accumulate, %.0fx end to end; numbers %s"
              % (ea_s / (t["evaluate"] + t["accumulate"]), (load_s + ea_s) / t["total"],
                 "bit-identical (stats, precision, recall, scores)" if same else "DIFFER"))
        return 0 if same else 1


# ---- fastap segeval: semantic segmentation over PNG label maps (fastap.semantic) -----------

SEGEVAL_EPILOG = """examples:
  fastap segeval gtFine/val/ predictions/ --num-classes 19
  fastap segeval annotations/validation/ pred/ --num-classes 150 --reduce-zero-label   # ADE20K
  fastap segeval gt/ pred/ --num-classes 2 --ignore-index 255 --json metrics.json

Definitions: mmsegmentation's IoUMetric (intersections and unions summed over the whole
dataset); --average per_sample gives torchmetrics' MeanIoU (per image, then averaged).
Classes with no pixel in either folder show nan and are left out of the means.
"""


def _add_segeval(sub):
    s = sub.add_parser("segeval", help="semantic segmentation metrics (IoU, Dice, accuracy) of PNG label maps",
                       description="Compare the PNG label maps of PRED_DIR with those of GT_DIR (matched by file "
                       "name) and print per-class IoU, Dice and accuracy, then mIoU, mDice, mAcc, aAcc, fwIoU.",
                       epilog=SEGEVAL_EPILOG + "\n" + EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("gt_dir", help="folder of ground-truth label maps (*.png, one class index per pixel)")
    s.add_argument("pred_dir", help="folder of predicted label maps, the same file names")
    s.add_argument("--num-classes", type=int, required=True, metavar="K", help="number of classes (labels 0..K-1)")
    s.add_argument("--ignore-index", type=int, default=255, metavar="V",
                   help="ground-truth value not evaluated (default: 255)")
    s.add_argument("--reduce-zero-label", action="store_true",
                   help="mmsegmentation's reduce_zero_label: ground truth 0 is ignored, other labels minus 1 (ADE20K)")
    s.add_argument("--average", default="dataset", choices=list(semantic.AVERAGES),
                   help="dataset (default, mmsegmentation) or per_sample (torchmetrics' MeanIoU)")
    s.add_argument("--names", metavar="FILE", help="class names, one per line")
    s.add_argument("--json", metavar="OUT", help="also write the metrics as JSON ('-': stdout only)")
    s.add_argument("--threads", type=int, default=None, help="threads (default: all cores / OMP_NUM_THREADS)")
    s.set_defaults(func=cmd_segeval)


def cmd_segeval(args):
    names = None
    if args.names:
        with open(args.names, encoding="utf-8") as f:
            names = [ln.strip() for ln in f if ln.strip()]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FastapWarning)
        try:
            res = semantic.evaluate_folders(args.gt_dir, args.pred_dir, args.num_classes, args.ignore_index,
                                            args.reduce_zero_label, args.average, names, args.threads)
        except ImportError as e:
            print("fastap: error: %s" % e, file=sys.stderr)
            return 2
    notes = [str(w.message) for w in caught if issubclass(w.category, FastapWarning)]
    for n in notes:
        print("fastap: warning: %s" % n, file=sys.stderr)
    if args.json != "-":
        print(res.format())
    if args.json:
        doc = dict(res.to_dict(), warnings=notes)
        if args.json == "-":
            json.dump(doc, sys.stdout, indent=1)
            print()
        else:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(doc, f, indent=1)
    return 0


def build_parser():
    p = argparse.ArgumentParser(prog="fastap", description="Fast, exact object-detection evaluation "
                                "(COCO mAP bit-identical to pycocotools, PASCAL VOC AP). "
                                "Run 'fastap eval --help' for every evaluation option.",
                                epilog=EPILOG + "\n" + EXIT_CODES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version="fastap " + __import__("fastap").__version__)
    sub = p.add_subparsers(dest="command", required=True, metavar="{eval,demo,segeval}")
    e = sub.add_parser("eval", help="evaluate detections against ground truth (COCO JSON, YOLO txt, VOC XML)",
                       description="Evaluate detections against ground truth and print the metrics "
                       "(the pycocotools summary for --protocol coco).",
                       epilog=EPILOG + "\n" + FORMATS_HELP + "\n" + EXIT_CODES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("gt", help="ground truth: a COCO annotation file (--format coco), a YOLO labels "
                   "folder (yolo) or a VOC XML folder (voc)")
    e.add_argument("results", help="detections: a COCO results file (coco), a YOLO predictions folder "
                   "(yolo) or VOC devkit result files, a folder or one file (voc)")
    e.add_argument("--format", default="coco", choices=["coco", "yolo", "voc", "dota", "yolo-obb"],
                   help="input format of GT and RESULTS (default: coco; see 'input formats' below)")
    e.add_argument("--protocol", default=None, choices=["coco", "lvis", "voc", "voc07", "dota"],
                   help="metrics: coco (pycocotools' mAP@[.5:.95] and the 12 stats), lvis (lvis-api's "
                   "federated AP, APr/APc/APf and AR@300), voc (VOC2010+ all-point AP) or voc07 (VOC2007 "
                   "11-point AP) or dota (the DOTA devkit's task 1, for --format dota / yolo-obb) "
                   "(default: dota for those formats, lvis for an LVIS annotation file -- its images list "
                   "neg_category_ids --, else coco)")
    e.add_argument("--max-dets", type=int, default=None, metavar="N",
                   help="--protocol lvis: each image's N highest-scoring results are evaluated (default 300, "
                   "lvis-api's; -1: all)")
    e.add_argument("--iou-threshold", type=float, default=None, metavar="T",
                   help="IoU threshold of --protocol voc/voc07 (default: 0.5; --protocol coco averages over "
                   "0.50:0.95)")
    e.add_argument("--image-sizes", metavar="FILE",
                   help="yolo: image sizes, JSON {name: [width, height]}, a COCO annotation file or "
                   "CSV name,width,height")
    e.add_argument("--images", metavar="DIR",
                   help="yolo: the images folder; sizes are read from the PNG/JPEG/GIF/BMP/WebP headers")
    e.add_argument("--names", metavar="FILE",
                   help="yolo/voc: class names, a classes.txt (one per line) or a YOLO data.yaml; "
                   "class index = line / list position")
    e.add_argument("--iou-type", default="bbox", choices=["bbox", "segm", "keypoints", "rotated"],
                   help="what is compared: boxes, masks (segm), keypoints (OKS) or rotated boxes (a 5-value "
                        "bbox x_ctr, y_ctr, w, h, angle in degrees: detectron2's RotatedCOCOeval); coco "
                        "format only (default: bbox)")
    e.add_argument("--json", metavar="OUT", help="also write the metrics (and per-class rows) and timings "
                   "to OUT as JSON ('-': stdout, and nothing else is printed there)")
    e.add_argument("--threads", type=int, default=None, help="threads (default: all cores / OMP_NUM_THREADS)")
    e.add_argument("--per-class", action="store_true",
                   help="also print per-category AP, AP50, AP75, APs/m/l and AR (VOC: AP and the number of "
                   "ground truths) and add them to --json")
    e.add_argument("--csv", metavar="OUT", help="write the per-category table to OUT as CSV ('-': stdout)")
    e.add_argument("--quiet", action="store_true", help="print nothing on stdout (use with --json/--csv)")
    e.add_argument("--progress", action="store_true",
                   help="report each phase (load, evaluate, accumulate) on stderr as it ends (a bar with tqdm)")
    _add_report_options(e)
    e.set_defaults(func=cmd_eval, eval_parser=e)
    d = sub.add_parser("demo", help="evaluate built-in examples and time them against pycocotools",
                       description="Evaluate the pycocotools demo data (AP 0.505), then generated data "
                       "at the chosen scale, timed, and (unless --no-compare) pycocotools on the same files.",
                       epilog=DEMO_EPILOG + "\n" + EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument("--scale", default="coco_val2017", choices=["tiny", "small", "coco_val2017", "objects365"],
                   help="size of the generated example (default: coco_val2017)")
    d.add_argument("--no-compare", action="store_true", help="do not run pycocotools for comparison")
    d.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    d.set_defaults(func=cmd_demo)
    _add_segeval(sub)
    return p


def _stdout_gone():
    """stdout's reader has gone (``fastap eval ... | head``): point stdout at devnull,
    so that nothing more is written and the interpreter's last flush at exit does not
    fail again (Python's documented recipe for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        try:
            rc = args.func(args)
            sys.stdout.flush()            # a closed pipe shows here, not at the interpreter's exit
            return rc
        except BrokenPipeError:
            raise
        except (FastapError, ValueError, TypeError) as e:
            print("fastap: error: %s" % e, file=sys.stderr)
            return 2
        except NotImplementedError as e:
            print("fastap: not supported: %s" % e, file=sys.stderr)
            return 2
        except OSError as e:      # e.g. an output path that cannot be written
            what = "%s: %s" % (e.filename, e.strerror) if e.filename and e.strerror else e
            print("fastap: error: %s" % (what,), file=sys.stderr)
            return 2
    except BrokenPipeError:
        _stdout_gone()
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

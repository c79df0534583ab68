"""The DOTA protocol, task 1 (oriented boxes as quadrilaterals): per-class AP at IoU 0.5 with
the rules of the DOTA devkit's ``dota_evaluation_task1.py``.

* Ground truth: one quadrilateral ``x1 y1 ... x4 y4`` per object with a ``difficult`` flag;
  difficult objects are left out of the positives (``npos``), and a detection whose best
  ground truth is difficult is neither a true nor a false positive.
* Detections of a class, over all images, in descending score order. The devkit sorts with
  ``np.argsort(-confidence)`` (quicksort: the order of tied scores is unspecified); fastap
  sorts stably, so tied detections keep their input order (their order in the results
  file).
* Each detection takes the ground truth of its image and class with the highest
  quadrilateral IoU (the first on ties, ``np.argmax``). The devkit first keeps the ground
  truths whose horizontal boxes overlap (+1 pixel rule) and runs its polygon IoU
  (``polyiou``) on those; a ground truth it drops has polygon IoU 0, so the prefilter
  changes nothing but the time. fastap computes the exact IoU of convex quadrilaterals
  (``fastap.quad_iou``, csrc/rotated_pair.h; its own bounding-box test skips pairs apart).
* A hit needs ``IoU > 0.5`` (strictly greater, the devkit's ``ovmax > ovthresh``): an
  untaken non-difficult ground truth makes a true positive, a taken one a false positive
  (no fall back to the next ground truth), anything else is a false positive.
* ``rec = tp / npos``, ``prec = tp / max(tp + fp, eps)``; AP is VOC2007's 11-point mean
  (``use_07_metric=True``, the devkit's setting for DOTA) or the all-point area.

The matching and the AP run in C (``fa_rot_best_gt`` in csrc/rotated.c for each
detection's best ground truth, ``fa_voc_category_best`` in csrc/voc.c for the devkit's
matching and the AP), one category per thread; no Python loop runs per detection.

Departures from the devkit, stated: the stable tie order above; quadrilaterals must be
convex in their given vertex order (``nonconvex="raise"``, the default, names the first
that is not) or are replaced by their convex hull (``nonconvex="hull"``) -- the devkit's
polyiou takes simple non-convex quads as they are; mAP is the mean over the classes with
non-difficult ground truth (the devkit divides by its 15 class names, counting a class
without positives as AP 0, and fails on a class without detections), and a class without
positives is warned about.
"""
from __future__ import annotations

import numpy as np

from .. import _core
from ..columns import bad_record, dt_columns, float_column, gt_columns
from ..errors import InvalidAnnotationError, InvalidOptionError, InvalidTypeError
from ..tables import build_tables, dt_gt_runs

__all__ = ["dota_columns", "dota_ap", "DOTA_CLASSES"]

# DOTA-v1.0's 15 classes, in the devkit's order (dota_evaluation_task1.py)
DOTA_CLASSES = ("plane", "baseball-diamond", "bridge", "ground-track-field", "small-vehicle", "large-vehicle",
                "ship", "tennis-court", "basketball-court", "storage-tank", "soccer-ball-field", "roundabout",
                "harbor", "swimming-pool", "helicopter")


def _hbb(poly):
    """xywh float64 [n, 4] of the horizontal bounding boxes of quads float64 [n, 8]."""
    x, y = poly[:, 0::2], poly[:, 1::2]
    x0, y0 = x.min(axis=1), y.min(axis=1)
    return np.stack([x0, y0, x.max(axis=1) - x0, y.max(axis=1) - y0], axis=1)


def dota_columns(gt, dt):
    """Validated columns of DOTA ground truth and detections given as mappings of arrays.

    gt: ``image_id`` int[G], ``category_id`` int[G], ``poly`` float[G, 8] (x1 y1 ... x4
    y4), optional ``difficult`` [G] (nonzero: difficult; default 0). dt: ``image_id``
    int[D], ``category_id`` int[D], ``poly`` float[D, 8], ``score`` float[D]. Returns
    (gt, dt) column dicts (the columns of :func:`fastap.columns.gt_columns` /
    ``dt_columns``, their ``bbox`` the quads' horizontal boxes, plus ``poly`` float64
    [n, 8] and, for gt, ``difficult`` uint8)."""
    out = []
    for x, what in ((gt, "ground truth"), (dt, "detections")):
        if not hasattr(x, "keys"):
            raise InvalidTypeError("%s should be a mapping of arrays (image_id, category_id, poly%s), got %s"
                                   % (what, "" if what == "ground truth" else ", score", type(x).__name__))
        if x.get("poly") is None:
            raise InvalidAnnotationError("%s: missing field 'poly' (the quadrilaterals x1 y1 ... x4 y4, "
                                         "float [n, 8])" % what)
        n = len(x["poly"])
        poly = float_column(what, "poly", x["poly"], (n, 8))
        hbb = _hbb(poly)
        big = np.maximum(hbb[:, 2], hbb[:, 3]) > 1e150
        if big.any():
            raise bad_record(what, "poly", big, None, "spans more than 1e150 (its IoU would overflow double "
                                                      "precision): %r" % (poly[int(np.flatnonzero(big)[0])].tolist(),))
        cols = {k: v for k, v in x.items() if k in ("image_id", "category_id", "score", "id")}
        cols["bbox"] = hbb
        if what == "ground truth":
            diff = x.get("difficult")
            d = np.zeros(n, np.uint8) if diff is None else (float_column(what, "difficult", diff, (n,)) != 0)
            c = gt_columns(cols, what=what)
            c["difficult"] = np.ascontiguousarray(d, dtype=np.uint8)
        else:
            c = dt_columns(cols, what=what)
        c["poly"] = poly
        out.append(c)
    return out[0], out[1]


def _records(poly, nonconvex, what, cols, index):
    """Quad records (csrc/rotated_pair.h) of the grouped quads poly[index]; a quad not
    convex in its given order is refused (naming it) unless nonconvex == "hull"."""
    q = np.ascontiguousarray(np.take(poly, index, axis=0).reshape(-1, 8))
    rec, n_bad = _core.quad_records(q)
    if n_bad and nonconvex != "hull":
        j = int(np.flatnonzero(rec[:, 15] != 0)[0])
        i = int(index[j])
        raise InvalidAnnotationError(
            "%s record %d (image_id %d, category_id %d): field 'poly' is not a convex quadrilateral in its given "
            "vertex order (self-intersecting, or with a reflex vertex): %r (%d such quads); pass "
            "nonconvex='hull' to use the convex hull of its 4 points" % (
                what, i, cols["image_id"][i], cols["category_id"][i], poly[i].tolist(), n_bad))
    return rec


def dota_ap(gt, dt, img_ids, cat_ids, iou_threshold=0.5, use_07_metric=True, nonconvex="raise",
            num_threads=None):
    """DOTA task-1 AP per class (see the module's docstring for the rules).

    ``gt`` / ``dt``: columns of :func:`dota_columns`; ``img_ids`` / ``cat_ids``: the
    evaluated ids (records elsewhere are left out). Returns (ap float64 [K], NaN where
    a class has no non-difficult ground truth; n_pos int64 [K]; the sorted category ids
    [K])."""
    if nonconvex not in ("raise", "hull"):
        raise InvalidOptionError("nonconvex should be 'raise' or 'hull', got %r" % (nonconvex,))
    thr = float(iou_threshold)
    if not 0.0 <= thr <= 1.0:
        raise InvalidOptionError("iou_threshold should be in [0, 1], got %r" % (iou_threshold,))
    tables = build_tables(gt, dt, img_ids, cat_ids, True, dt_by_image=False)
    core = tables.core
    gi, di = np.asarray(tables.gt_index, np.int64), np.asarray(tables.dt_index, np.int64)
    g_rec = _records(gt["poly"], nonconvex, "ground truth", gt, gi)
    d_rec = _records(dt["poly"], nonconvex, "detections", dt, di)
    # each detection's ground truths: its category's run, its image's part of it
    first, count = dt_gt_runs(tables)
    best, best_iou = _core.rotated_best_gt(d_rec, first, count, g_rec, num_threads=num_threads)
    difficult = np.ascontiguousarray(np.take(gt["difficult"], gi), dtype=np.uint8)
    ap, npos = _core.voc_evaluate_best(core, difficult, best, best_iou, thr, strict=True,
                                       use_11_point=bool(use_07_metric), num_threads=num_threads)
    return ap, npos, tables.cat_ids

"""The COCO protocol: pycocotools' evaluate(), accumulate() and summarize().

Over :class:`fastap.tables.Tables` (grouped records) and, for masks and keypoints,
the precomputed IoUs that :mod:`fastap.geometry` attached to them:

* :func:`coco_match` -- pycocotools' ``evaluate()``: greedy matching per (category,
  image, area range), in C (``csrc/coco.c``), one call per block of at most
  ``_core.MAX_IOU_THRESHOLDS`` IoU thresholds (a detection's matches over a block fit
  in one 32-bit mask);
* :func:`coco_accumulate` -- ``accumulate()``: the precision / recall / score arrays;
* :func:`summarize` -- ``summarize()``: the 12 (keypoints: 10) stats and printed lines;
* :func:`per_class_table` -- the summary restricted to each category (fastap only).

Each rule that must match pycocotools is implemented once, in C, and named there
(``csrc/coco.c``: crowd union, ignore order, greedy matching, accumulation's eps and
monotone precision); the NumPy reductions of ``summarize()`` here are pycocotools' own.
"""
from __future__ import annotations

import numpy as np

from .. import _core
from ..errors import InvalidAnnotationError

__all__ = ["STAT_NAMES", "KPT_STAT_NAMES", "PER_CLASS_FIELDS", "threshold_chunks", "check_params",
           "resolve_params", "coco_match", "coco_accumulate", "summarize", "per_class_means",
           "per_class_table"]

STAT_NAMES = ["map", "map50", "map75", "map_small", "map_medium", "map_large",
              "ar_1", "ar_10", "ar_100", "ar_small", "ar_medium", "ar_large"]
# pycocotools' 10 keypoint stats (maxDets=20)
KPT_STAT_NAMES = ["map", "map50", "map75", "map_medium", "map_large",
                  "ar", "ar50", "ar75", "ar_medium", "ar_large"]


def threshold_chunks(T):
    step = _core.MAX_IOU_THRESHOLDS
    return [(s, min(s + step, T)) for s in range(0, T, step)]


def _param_floats(name, value):
    """float64 array of a parameter; ragged or non-numeric values name the parameter."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        raise InvalidAnnotationError("%s should be numbers (a list, or a list of [lo, hi] pairs for areaRng), "
                                     "got %r" % (name, value)) from None


def check_params(iou_thrs, rec_thrs, max_dets, area_rng):
    iou_thrs = _param_floats("iouThrs", iou_thrs).reshape(-1)
    rec_thrs = _param_floats("recThrs", rec_thrs).reshape(-1)
    if iou_thrs.shape[0] == 0 or not np.isfinite(iou_thrs).all():
        raise InvalidAnnotationError("iouThrs should be a non-empty list of finite numbers, got %r" % (iou_thrs.tolist(),))
    if rec_thrs.shape[0] == 0 or not np.isfinite(rec_thrs).all():
        raise InvalidAnnotationError("recThrs should be a non-empty list of finite numbers")
    try:
        md = sorted(int(m) for m in max_dets)
    except (ValueError, TypeError, OverflowError):
        raise InvalidAnnotationError("maxDets should be a non-empty list of non-negative integers, got %r"
                                     % (max_dets,)) from None
    if not md or md[0] < 0:
        raise InvalidAnnotationError("maxDets should be a non-empty list of non-negative integers, got %r" % (list(max_dets),))
    ar = _param_floats("areaRng", area_rng)
    if ar.ndim != 2 or ar.shape[1] != 2 or ar.shape[0] == 0:
        raise InvalidAnnotationError("areaRng should be a list of [lo, hi] pairs, got %r" % (area_rng,))
    return iou_thrs, rec_thrs, md, ar


def coco_match(tables, iou_thrs, max_dets, area_rng, details=False, num_threads=None):
    """pycocotools ``evaluate()``: greedy matching of every (category, image, area).

    Returns a list with one dict per chunk of at most 32 IoU thresholds (see
    ``fastap._core.coco_match``): ``dt_tp``/``dt_fp`` uint32 [A, n_dt] bitmasks over the
    chunk's thresholds, ``dt_rank`` int32 [n_dt], ``npig`` int64 [K, A].
    """
    iou_thrs = np.asarray(iou_thrs, dtype=np.float64)
    out = []
    for s, e in threshold_chunks(iou_thrs.shape[0]):
        out.append(_core.coco_match(tables.core, iou_thrs[s:e], area_rng, max_dets,
                                    np.zeros(1), details=details, num_threads=num_threads))
    return out


def coco_accumulate(tables, matches, iou_thrs, rec_thrs, max_dets, area_rng, num_threads=None, with_scores=True):
    """pycocotools ``accumulate()``: precision float64 [T, R, K, A, M], recall
    float64 [T, K, A, M], scores float64 [T, R, K, A, M] (None with
    ``with_scores=False``); -1 where a setting has no non-ignored ground truth."""
    iou_thrs = np.asarray(iou_thrs, dtype=np.float64)
    parts = [_core.coco_accumulate(tables.core, m, iou_thrs[s:e], area_rng, max_dets, rec_thrs,
                                   num_threads=num_threads, with_scores=with_scores)
             for (s, e), m in zip(threshold_chunks(iou_thrs.shape[0]), matches)]
    if len(parts) == 1:
        return parts[0]
    return tuple(np.concatenate([p[i] for p in parts], axis=0) if with_scores or i < 2 else None for i in range(3))


def summarize(precision, recall, iou_thrs, area_lbl, max_dets, iou_type="bbox"):
    """pycocotools ``summarize()``: returns (stats float64[12] (10 for keypoints),
    list of the printed lines). Uses the same NumPy reductions, so the floats are equal;
    like pycocotools, stats[0] looks up maxDets=100 whatever maxDets is, and a setting
    that is absent gives -1."""
    iou_thrs = np.asarray(iou_thrs)
    lines = []

    def one(ap=1, iouThr=None, areaRng="all", maxDets=100):
        fmt = " {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}"
        title = "Average Precision" if ap == 1 else "Average Recall"
        kind = "(AP)" if ap == 1 else "(AR)"
        iou_str = ("{:0.2f}:{:0.2f}".format(iou_thrs[0], iou_thrs[-1]) if iouThr is None
                   else "{:0.2f}".format(iouThr))
        aind = [i for i, lbl in enumerate(area_lbl) if lbl == areaRng]
        mind = [i for i, m in enumerate(max_dets) if m == maxDets]
        if ap == 1:
            s = precision
            if iouThr is not None:
                s = s[np.where(iouThr == iou_thrs)[0]]
            s = s[:, :, :, aind, mind]
        else:
            s = recall
            if iouThr is not None:
                s = s[np.where(iouThr == iou_thrs)[0]]
            s = s[:, :, aind, mind]
        mean_s = -1 if len(s[s > -1]) == 0 else np.mean(s[s > -1])
        lines.append(fmt.format(title, kind, iou_str, areaRng, maxDets, mean_s))
        return mean_s

    if iou_type == "keypoints":
        stats = np.zeros((10,))
        for i, (ap, thr, area) in enumerate([(1, None, "all"), (1, .5, "all"), (1, .75, "all"),
                                             (1, None, "medium"), (1, None, "large"),
                                             (0, None, "all"), (0, .5, "all"), (0, .75, "all"),
                                             (0, None, "medium"), (0, None, "large")]):
            stats[i] = one(ap, iouThr=thr, areaRng=area, maxDets=20)
        return stats, lines
    if len(max_dets) < 3:
        raise InvalidAnnotationError(
            "summarize() needs at least 3 maxDets (it reports AR at maxDets[0], [1] and [2], "
            "as pycocotools does), got %r; read eval['precision'] / eval['recall'] directly"
            % (list(max_dets),))
    m = max_dets
    stats = np.zeros((12,))
    stats[0] = one(1)
    stats[1] = one(1, iouThr=.5, maxDets=m[2])
    stats[2] = one(1, iouThr=.75, maxDets=m[2])
    stats[3] = one(1, areaRng="small", maxDets=m[2])
    stats[4] = one(1, areaRng="medium", maxDets=m[2])
    stats[5] = one(1, areaRng="large", maxDets=m[2])
    stats[6] = one(0, maxDets=m[0])
    stats[7] = one(0, maxDets=m[1])
    stats[8] = one(0, maxDets=m[2])
    stats[9] = one(0, areaRng="small", maxDets=m[2])
    stats[10] = one(0, areaRng="medium", maxDets=m[2])
    stats[11] = one(0, areaRng="large", maxDets=m[2])
    return stats, lines



def resolve_params(p, iou_thresholds, rec_thresholds, max_dets, area_ranges, area_labels):
    """The evaluation parameters: the given ones (checked), else the defaults of Params
    p; area labels default to COCO's names for up to 4 given ranges."""
    iou_thrs, rec_thrs, md, ar = check_params(
        p.iouThrs if iou_thresholds is None else iou_thresholds,
        p.recThrs if rec_thresholds is None else rec_thresholds,
        p.maxDets if max_dets is None else max_dets,
        p.areaRng if area_ranges is None else area_ranges)
    lbl = p.areaRngLbl if area_labels is None else list(area_labels)
    if area_ranges is not None and area_labels is None:
        lbl = ["all", "small", "medium", "large"][:len(ar)] if len(ar) <= 4 else ["r%d" % i for i in range(len(ar))]
    return iou_thrs, rec_thrs, md, ar, lbl



def per_class_means(arr, cat_ids, recall=False):
    """Mean over the valid entries of each category at area 'all', last maxDets."""
    out = {}
    for k, c in enumerate(cat_ids.tolist()):
        s = arr[:, k, 0, -1] if recall else arr[:, :, k, 0, -1]
        v = s[s > -1]
        out[c] = float(np.mean(v)) if v.size else float("nan")
    return out


PER_CLASS_FIELDS = ("category_id", "ap", "ap50", "ap75", "ap_small", "ap_medium", "ap_large", "ar")


def per_class_table(precision, recall, cat_ids, iou_thrs, area_lbl, max_dets):
    """Per-category metrics as a NumPy structured array, one row per category.

    Fields: ``category_id`` int64; ``ap`` (IoU .50:.95), ``ap50``, ``ap75``, ``ap_small``,
    ``ap_medium``, ``ap_large`` and ``ar`` (recall at the last maxDets), float64. Each is
    pycocotools' summary restricted to the category: the mean of the valid (> -1) entries
    of ``precision[t, :, k, a, m]`` (``recall[t, k, a, m]`` for ``ar``), at the last
    maxDets and area "all" unless the field names an area; NaN where the category has
    no ground truth in that setting (pycocotools' -1)."""
    iou_thrs = np.asarray(iou_thrs)
    K = len(cat_ids)
    out = np.zeros(K, dtype=[(f, np.int64 if f == "category_id" else np.float64) for f in PER_CLASS_FIELDS])
    out["category_id"] = np.asarray(cat_ids, dtype=np.int64)
    m = len(max_dets) - 1

    def area(lbl):
        idx = [i for i, x in enumerate(area_lbl) if x == lbl]
        return idx[0] if idx else None

    def mean_valid(s):
        v = s[s > -1]
        return float(np.mean(v)) if v.size else float("nan")

    for field, thr, lbl in (("ap", None, "all"), ("ap50", .5, "all"), ("ap75", .75, "all"),
                            ("ap_small", None, "small"), ("ap_medium", None, "medium"),
                            ("ap_large", None, "large"), ("ar", None, "all")):
        a = area(lbl)
        t = slice(None) if thr is None else np.where(iou_thrs == thr)[0]
        for k in range(K):
            if a is None or (thr is not None and len(t) == 0):
                out[field][k] = np.nan
            elif field == "ar":
                out[field][k] = mean_valid(recall[t, k, a, m])
            else:
                out[field][k] = mean_valid(precision[t, :, k, a, m])
    return out


"""The array API: columnar ground truth and detections in, COCO / VOC metrics out.

Everything else (the COCOeval facade, the CLI, the benchmarks) is a thin layer over
:func:`evaluate` and the three steps it is made of:

1. :func:`gt_columns` / :func:`dt_columns` validate and normalise the inputs into
   columns (int64 ids, float64 xywh boxes, ...), naming the field and the record on bad
   input;
2. :func:`build_tables` keeps the evaluated images and categories and groups the records
   by (category, image, -score) in C (:class:`Tables`);
3. :func:`coco_match` (pycocotools' ``evaluate()``), :func:`coco_accumulate`
   (``accumulate()``) and :func:`summarize` (``summarize()``), or :func:`voc_ap`.

No Python loop runs per detection or per image.
"""
from __future__ import annotations

import numpy as np

from . import _core
from .errors import InvalidAnnotationError, InvalidTypeError
from .params import Params

__all__ = ["evaluate", "EvalResult", "gt_columns", "dt_columns", "build_tables", "per_class_table",
           "coco_match", "coco_accumulate", "summarize", "voc_ap", "Tables",
           "STAT_NAMES"]

STAT_NAMES = ["map", "map50", "map75", "map_small", "map_medium", "map_large",
              "ar_1", "ar_10", "ar_100", "ar_small", "ar_medium", "ar_large"]
# pycocotools' 10 keypoint stats (maxDets=20)
KPT_STAT_NAMES = ["map", "map50", "map75", "map_medium", "map_large",
                  "ar", "ar50", "ar75", "ar_medium", "ar_large"]


# ----------------------------------------------------------------------------- columns

def _bad_record(what, field, mask, ids=None, detail=""):
    i = int(np.flatnonzero(mask)[0])
    rid = "" if ids is None else " (id %s)" % (ids[i],)
    return InvalidAnnotationError("%s record %d%s: field '%s' %s" % (what, i, rid, field, detail))


def _ids(what, field, values, n, required=True):
    """int64 ids from any integer or integral-float array-like; errors name the record."""
    if values is None:
        if required:
            raise InvalidAnnotationError("%s: missing field '%s'" % (what, field))
        return None
    try:
        a = np.asarray(values)
    except Exception as e:  # ragged input
        raise InvalidTypeError("%s: field '%s' should be a 1d array of ids (%s)" % (what, field, e))
    if a.ndim != 1 or a.shape[0] != n:
        raise InvalidAnnotationError("%s: field '%s' should have shape (%d,), got %s"
                                     % (what, field, n, a.shape))
    if a.dtype.kind not in "iubf":
        seq = values if isinstance(values, (list, tuple)) else a.tolist()
        bad = np.array([not _is_number(v) for v in seq], dtype=bool)
        a = np.asarray(seq, dtype=object)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidAnnotationError("%s record %d: field '%s' should be a number, got %r"
                                         % (what, i, field, a[i]))
        a = a.astype(np.float64)
    if a.dtype.kind in "iu":
        return a.astype(np.int64, copy=False)
    if a.dtype.kind == "b":
        return a.astype(np.int64)
    if a.dtype.kind == "f":
        bad = ~np.isfinite(a) | (a != np.round(a)) | (np.abs(a) > 2.0 ** 62)
        if bad.any():
            raise _bad_record(what, field, bad, detail="should be an integer id, got %r"
                              % (a[np.flatnonzero(bad)[0]],))
        return a.astype(np.int64)
    raise InvalidTypeError("%s: field '%s' should hold integer ids, got dtype %s" % (what, field, a.dtype))


def _is_number(v):
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _bad_value(what, field, values, shape, ids):
    """Find the first record whose value is not a number (or not `shape[1]` numbers)."""
    want = "%d numbers" % shape[1] if len(shape) > 1 else "a number"
    for i, v in enumerate(values):
        if len(shape) > 1:
            ok = (isinstance(v, (list, tuple, np.ndarray)) and len(v) == shape[1]
                  and all(_is_number(x) for x in v))
        else:
            ok = _is_number(v) or (field in ("iscrowd", "ignore") and isinstance(v, (bool, np.bool_)))
        if not ok:
            rid = "" if ids is None else " (id %s)" % (ids[i],)
            return InvalidAnnotationError("%s record %d%s: field '%s' should be %s, got %r"
                                          % (what, i, rid, field, want, v))
    return InvalidAnnotationError("%s: field '%s' should have shape %s" % (what, field, tuple(shape)))


def _floats(what, field, values, shape, ids=None, allow_nan=False):
    """float64 array of `shape` from numbers; strings, None, ragged rows and wrong
    lengths are errors naming the record."""
    a = values if isinstance(values, np.ndarray) else None
    if a is None:
        try:
            a = np.asarray(values)
        except (ValueError, TypeError):      # ragged
            a = None
    if a is None or a.dtype.kind not in "fiub" or a.shape != tuple(shape):
        if a is not None and a.dtype.kind in "fiub" and a.size == 0 and shape[0] == 0:
            a = a.reshape(shape)
        elif a is not None and a.dtype.kind in "fiub" and a.ndim == len(shape):
            raise InvalidAnnotationError("%s: field '%s' should have shape %s, got %s"
                                         % (what, field, tuple(shape), a.shape))
        else:
            raise _bad_value(what, field, values, shape, ids)
    a = np.ascontiguousarray(a, dtype=np.float64)
    if not allow_nan and not np.isfinite(a).all():     # one flat pass; rows only on error
        bad = ~np.isfinite(a)
        if bad.ndim == 2:
            bad = bad.any(axis=1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise _bad_record(what, field, bad, ids, "should be finite, got %r" % (a[i].tolist(),))
    return a


def _boxes(what, values, n, ids=None, box_format="xywh"):
    b = _floats(what, "bbox", values, (n, 4), ids)
    if box_format == "xyxy":
        b = np.stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], axis=1)
    elif box_format == "cxcywh":
        b = np.stack([b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2, b[:, 2], b[:, 3]], axis=1)
    elif box_format != "xywh":
        raise ValueError("box_format should be 'xywh', 'xyxy' or 'cxcywh', got %r" % (box_format,))
    neg = (b[:, 2] < 0) | (b[:, 3] < 0)
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise _bad_record(what, "bbox", neg, ids, "has a negative width or height: %r" % (b[i].tolist(),))
    return np.ascontiguousarray(b)


def _length(d, keys):
    for k in keys:
        if k in d and d[k] is not None:
            try:
                return len(d[k])
            except TypeError:
                raise InvalidTypeError("field '%s' should be an array, got %s" % (k, type(d[k]).__name__))
    return 0


def gt_columns(gt, box_format="xywh", what="ground truth"):
    """Validate ground truth given as a mapping of arrays.

    Keys: ``image_id`` int[G], ``category_id`` int[G], ``bbox`` float[G, 4] (in
    ``box_format``), optional ``iscrowd`` (0/1) [G], ``area`` float[G] (default: box
    w*h), ``ignore`` (0/1) [G] and ``id`` int[G] (default 1..G). Returns a dict of
    C-contiguous arrays: ``id`` int64, ``image_id`` int64, ``category_id`` int64,
    ``bbox`` float64[G, 4] xywh, ``area`` float64, ``iscrowd`` uint8, ``ignore`` uint8.
    """
    if not hasattr(gt, "keys"):
        raise InvalidTypeError("%s should be a mapping of arrays (image_id, category_id, bbox, ...), got %s"
                               % (what, type(gt).__name__))
    n = _length(gt, ("image_id", "bbox", "category_id"))
    ids = _ids(what, "id", gt.get("id"), n, required=False)
    if ids is None:
        ids = np.arange(1, n + 1, dtype=np.int64)
    cols = {"id": ids,
            "image_id": _ids(what, "image_id", gt.get("image_id"), n),
            "category_id": _ids(what, "category_id", gt.get("category_id"), n)}
    if "bbox" not in gt:
        raise InvalidAnnotationError("%s: missing field 'bbox'" % what)
    cols["bbox"] = _boxes(what, gt["bbox"], n, ids, box_format)
    cols["area"] = (cols["bbox"][:, 2] * cols["bbox"][:, 3] if gt.get("area") is None
                    else _floats(what, "area", gt["area"], (n,), ids))
    for flag in ("iscrowd", "ignore"):
        v = gt.get(flag)
        if v is None:
            cols[flag] = np.zeros(n, np.uint8)
        else:
            f = _floats(what, flag, v, (n,), ids)
            bad = (f != 0) & (f != 1)
            if bad.any():
                raise _bad_record(what, flag, bad, ids, "should be 0 or 1")
            cols[flag] = f.astype(np.uint8)
    return cols


def dt_columns(dt, box_format="xywh", what="detections"):
    """Validate detections given as a mapping of arrays.

    Keys: ``image_id`` int[D], ``category_id`` int[D], ``bbox`` float[D, 4] (in
    ``box_format``), ``score`` float[D], optional ``area`` float[D] (default w*h, as
    pycocotools' loadRes sets it for box results). Returns int64 ids, float64 xywh
    boxes, float64 scores and areas; detections are numbered 1..D in input order.
    """
    if not hasattr(dt, "keys"):
        raise InvalidTypeError("%s should be a mapping of arrays (image_id, category_id, bbox, score), got %s"
                               % (what, type(dt).__name__))
    n = _length(dt, ("image_id", "bbox", "score", "category_id"))
    cols = {"image_id": _ids(what, "image_id", dt.get("image_id"), n),
            "category_id": _ids(what, "category_id", dt.get("category_id"), n)}
    if "bbox" not in dt:
        raise InvalidAnnotationError("%s: missing field 'bbox'" % what)
    if dt.get("score") is None:
        raise InvalidAnnotationError("%s: missing field 'score'" % what)
    cols["bbox"] = _boxes(what, dt["bbox"], n, None, box_format)
    cols["score"] = _floats(what, "score", dt["score"], (n,))
    cols["area"] = (cols["bbox"][:, 2] * cols["bbox"][:, 3] if dt.get("area") is None
                    else _floats(what, "area", dt["area"], (n,)))
    return cols


# ----------------------------------------------------------------------------- tables

class Tables:
    """Ground truth and detections kept for evaluation, grouped by (category, image).

    ``gt_index`` / ``dt_index``: int64 positions of the grouped records in the input
    columns; ``img_ids`` / ``cat_ids``: the evaluated ids (``cat_ids`` is ``[-1]`` for
    ``use_cats=False``, like pycocotools' accumulate); ``core``: the C-side tables.
    """

    def __init__(self, core, gt_index, dt_index, gt_img, dt_img, img_ids, cat_ids, eval_cat_ids,
                 dt_bbox=None):
        self._dt_bbox = dt_bbox      # the input boxes, when core was built without them
        self.core = core
        self.gt_index = gt_index
        self.dt_index = dt_index
        self.gt_img = gt_img
        self.dt_img = dt_img
        self.img_ids = img_ids
        self.cat_ids = cat_ids
        self.eval_cat_ids = eval_cat_ids

    def dt_box(self):
        """float64 [n_dt, 4] boxes of the grouped detections (gathered now when the
        tables were built without them)."""
        if self.core.has_dt_box:
            return self.core.arrays[8][:self.dt_index.shape[0]]
        return np.take(self._dt_bbox, self.dt_index, axis=0).reshape(-1, 4)


class IdIndex:
    """Positions of ids in a sorted unique id array: a lookup table over the id range
    when that range is small enough (10x faster than a binary search), a binary search
    otherwise. Build once, query many times."""

    def __init__(self, ids_sorted, n_queries=0):
        self.ids = ids_sorted
        self.lut = None
        if ids_sorted.shape[0]:
            self.lo = int(ids_sorted[0])
            self.span = int(ids_sorted[-1]) - self.lo
            if self.span <= max(1 << 20, 4 * n_queries):
                self.lut = np.full(self.span + 1, -1, np.int64)
                self.lut[ids_sorted - self.lo] = np.arange(ids_sorted.shape[0])

    def __call__(self, values):
        """(int64 positions, bool found) for int64 values."""
        n = values.shape[0]
        if self.ids.shape[0] == 0:
            return np.zeros(n, np.int64), np.zeros(n, bool)
        if self.lut is not None:
            if not (values.dtype.kind == "i" or (values.dtype.kind == "u" and values.dtype.itemsize < 8)):
                v = values - self.lo
                inside = (v >= 0) & (v <= self.span)
                pos = np.take(self.lut, np.where(inside, v, 0).astype(np.int64))
                ok = inside & (pos >= 0)
                return np.where(ok, pos, 0), ok
            return _core.index_lut(values, self.lo, self.lut)     # one pass in C
        pos = np.searchsorted(self.ids, values)
        pos_c = np.minimum(pos, self.ids.shape[0] - 1)
        return pos_c, np.take(self.ids, pos_c) == values


def unique_ids(a):
    """np.unique of a 1-d integer array (sorted, each once), without NumPy 2's hashing
    path for plain np.unique (10x slower on a few thousand sorted ids): a sorted-unique
    array is copied as it is, anything else sorted and deduplicated."""
    a = np.asarray(a)
    if a.ndim != 1 or a.dtype.kind not in "iu":
        return np.unique(a)
    if a.shape[0] < 2 or bool((a[1:] > a[:-1]).all()):
        return a.copy()
    s = np.sort(a)
    return s[np.concatenate(([True], s[1:] != s[:-1]))]


def _index_of(ids_sorted, values):
    """Position of each value in the sorted unique id array, and whether it is present."""
    return IdIndex(ids_sorted, values.shape[0])(values)


def build_tables(gt, dt, img_ids, cat_ids, use_cats=True, dt_by_image=True, dt_boxes=True):
    """Keep the records on ``img_ids`` and ``cat_ids`` and group them in C.

    ``img_ids``: evaluated image ids (sorted and made unique here, as pycocotools'
    evaluate() does); ``cat_ids``: evaluated category ids (sorted-unique with
    ``use_cats``; in the given order without, which decides the order in which
    pycocotools pools categories). ``dt_by_image=False`` keeps detections in input
    order inside each category (VOC). ``dt_boxes=False``: the detections' boxes are not
    gathered (masks and keypoints are matched by precomputed IoUs; :meth:`Tables.dt_box`
    gathers them when a report asks). Returns :class:`Tables`.
    """
    img_ids = unique_ids(np.asarray(img_ids, dtype=np.int64).reshape(-1))
    cat_ids = np.asarray(cat_ids, dtype=np.int64).reshape(-1)
    if use_cats:
        cat_ids = unique_ids(cat_ids)
        cat_sorted, cat_rank_of_sorted = cat_ids, np.arange(cat_ids.shape[0])
    else:
        _, first = np.unique(cat_ids, return_index=True)
        cat_ids = cat_ids[np.sort(first)]          # first occurrence order
        o = np.argsort(cat_ids, kind="stable")
        cat_sorted, cat_rank_of_sorted = cat_ids[o], o
    I = img_ids.shape[0]
    if I >= 2 ** 31 - 1:
        raise InvalidAnnotationError("too many images: %d" % I)

    n_max = max(gt["image_id"].shape[0], dt["image_id"].shape[0])
    img_index, cat_index = IdIndex(img_ids, n_max), IdIndex(cat_sorted, n_max)

    def select(cols, score):
        if use_cats and dt_by_image and img_index.lut is not None and cat_index.lut is not None \
                and cols["image_id"].dtype == np.int64 and cols["category_id"].dtype == np.int64:
            # every record on an evaluated image and category (the common case): looked
            # up and grouped in C, no intermediate columns
            r = _core.lut_group(cols["image_id"], img_index.lo, img_index.lut, max(I, 1),
                                cols["category_id"], cat_index.lo, cat_index.lut, cat_ids.shape[0], score)
            if r is not None:
                return r
        ip, iok = img_index(cols["image_id"])
        cp, cok = cat_index(cols["category_id"])
        ok = iok & cok
        identity = bool(ok.all())
        if identity:            # the common case: nothing filtered out, no gathers
            sel = np.arange(ok.shape[0])
            img_i = ip.astype(np.int32)
            cat_r = (cp if use_cats else np.take(cat_rank_of_sorted, cp)).astype(np.int32)
            sc = score
        else:
            sel = np.flatnonzero(ok)
            img_i = np.take(ip, sel).astype(np.int32)
            cat_r = (np.take(cat_rank_of_sorted, np.take(cp, sel)).astype(np.int32) if cat_sorted.shape[0]
                     else np.zeros(sel.shape[0], np.int32))
            sc = None if score is None else np.take(score, sel)
        if score is not None and not dt_by_image:
            major = cat_r if use_cats else np.zeros(sel.shape[0], np.int32)
            order, off = _core.group(major, cat_ids.shape[0] if use_cats else 1,
                                     np.zeros(sel.shape[0], np.int32), 1, None)
            return (order if identity else np.take(sel, order)), np.take(img_i, order), off
        if use_cats:
            order, off = _core.group(cat_r, cat_ids.shape[0], img_i, max(I, 1), sc)
        else:
            pre = np.argsort(cat_r, kind="stable")
            order, off = _core.group(np.zeros(sel.shape[0], np.int32), 1, img_i[pre], max(I, 1),
                                     None if sc is None else sc[pre])
            order = np.take(pre, order)
        return (order if identity else np.take(sel, order)), np.take(img_i, order), off

    K_in = cat_ids.shape[0] if use_cats else 1
    if use_cats and K_in == 0:
        empty = np.zeros(0, np.int64)
        g_idx, g_img, g_off = empty, np.zeros(0, np.int32), np.zeros(1, np.int64)
        d_idx, d_img, d_off = empty, np.zeros(0, np.int32), np.zeros(1, np.int64)
    else:
        g_idx, g_img, g_off = select(gt, None)
        d_idx, d_img, d_off = select(dt, dt["score"])
    core = _core.CocoTables(
        K_in, g_off, g_img, np.take(gt["bbox"], g_idx, axis=0), np.take(gt["area"], g_idx),
        np.take(gt["iscrowd"], g_idx), (np.take(gt["id"], g_idx) == 0).astype(np.uint8),
        d_off, d_img, np.take(dt["bbox"], d_idx, axis=0) if dt_boxes else None, np.take(dt["area"], d_idx),
        np.take(dt["score"], d_idx), dt_by_image=dt_by_image)
    return Tables(core, g_idx, d_idx, g_img, d_img, img_ids,
                  cat_ids if use_cats else np.array([-1], np.int64), cat_ids,
                  dt_bbox=None if dt_boxes else dt["bbox"])


# ----------------------------------------------------------------------------- COCO steps

def _chunks(T):
    step = _core.MAX_IOU_THRESHOLDS
    return [(s, min(s + step, T)) for s in range(0, T, step)]


def _check_params(iou_thrs, rec_thrs, max_dets, area_rng):
    iou_thrs = np.asarray(iou_thrs, dtype=np.float64).reshape(-1)
    rec_thrs = np.asarray(rec_thrs, dtype=np.float64).reshape(-1)
    if iou_thrs.shape[0] == 0 or not np.isfinite(iou_thrs).all():
        raise InvalidAnnotationError("iouThrs should be a non-empty list of finite numbers, got %r" % (iou_thrs.tolist(),))
    if rec_thrs.shape[0] == 0 or not np.isfinite(rec_thrs).all():
        raise InvalidAnnotationError("recThrs should be a non-empty list of finite numbers")
    md = sorted(int(m) for m in max_dets)
    if not md or md[0] < 0:
        raise InvalidAnnotationError("maxDets should be a non-empty list of non-negative integers, got %r" % (list(max_dets),))
    ar = np.asarray(area_rng, dtype=np.float64)
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
    for s, e in _chunks(iou_thrs.shape[0]):
        out.append(_core.coco_match(tables.core, iou_thrs[s:e], area_rng, max_dets,
                                    np.zeros(1), details=details, num_threads=num_threads))
    return out


def coco_accumulate(tables, matches, iou_thrs, rec_thrs, max_dets, area_rng, num_threads=None):
    """pycocotools ``accumulate()``: precision float64 [T, R, K, A, M], recall
    float64 [T, K, A, M], scores float64 [T, R, K, A, M]; -1 where a setting has no
    non-ignored ground truth."""
    iou_thrs = np.asarray(iou_thrs, dtype=np.float64)
    parts = [_core.coco_accumulate(tables.core, m, iou_thrs[s:e], area_rng, max_dets, rec_thrs,
                                   num_threads=num_threads)
             for (s, e), m in zip(_chunks(iou_thrs.shape[0]), matches)]
    if len(parts) == 1:
        return parts[0]
    return tuple(np.concatenate([p[i] for p in parts], axis=0) for i in range(3))


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


def voc_ap(tables, iou_threshold=0.5, use_11_point=False, plus_one=True, difficult=None,
           num_threads=None):
    """PASCAL VOC AP per category (see csrc/voc.c for the devkit rules).

    ``difficult``: uint8 [n_gt] in the input order of the ground truth, or None (use
    the crowd flags). Returns (ap float64 [K] with NaN where a category has no
    non-difficult ground truth, n_pos int64 [K])."""
    d = None
    if difficult is not None:
        d = np.ascontiguousarray(np.asarray(difficult, dtype=np.uint8)[tables.gt_index])
    return _core.voc_evaluate(tables.core, d, float(iou_threshold), plus_one=plus_one,
                              use_11_point=use_11_point, num_threads=num_threads)


# ----------------------------------------------------------------------------- result

class EvalResult:
    """Result of :func:`evaluate`.

    COCO protocol: ``precision`` float64 [T, R, K, A, M], ``recall`` float64
    [T, K, A, M], ``scores`` float64 [T, R, K, A, M] (pycocotools' ``eval`` arrays),
    ``stats`` float64[12] (pycocotools' ``stats``), the named metrics ``map``,
    ``map50``, ``map75``, ``map_small``, ``map_medium``, ``map_large``, ``ar_1``,
    ``ar_10``, ``ar_100``, ``ar_small``, ``ar_medium``, ``ar_large`` (as attributes and
    in ``metrics``), ``per_class_ap`` / ``per_class_ar`` (dict category id -> AP over the
    IoU thresholds, area "all", the last maxDets; NaN where the category has no ground
    truth) and ``summary`` (the summarize() lines).

    VOC protocols: ``map`` (mean over categories with ground truth), ``per_class_ap``,
    ``ap`` float64 [K], ``n_pos`` int64 [K], ``cat_ids``.
    """

    def __init__(self, protocol, **fields):
        self.protocol = protocol
        self.__dict__.update(fields)

    def __getattr__(self, name):
        metrics = self.__dict__.get("metrics", {})
        if name in metrics:
            return metrics[name]
        raise AttributeError(name)

    def per_class(self):
        """COCO protocol: per-category metrics as a structured array (see
        :func:`fastap.engine.per_class_table`); sort it with ``np.sort(t, order="ap")``."""
        p = self.params
        return per_class_table(self.precision, self.recall, self.cat_ids, p["iouThrs"], p["areaRngLbl"],
                               p["maxDets"])

    def to_csv(self, path):
        """Write :meth:`per_class` as CSV."""
        table_to_csv(self.per_class(), path)

    # -- reports from the same pass (fastap.report, fastap.plots) ---------------------------
    def _report_pass(self):
        st = self.__dict__.get("_state")
        if st is None:
            return None
        if "_pass" not in st:
            from .report import _Pass
            p = self.params
            st["_pass"] = _Pass(st["tables"], st["matches"], st["gt"], st["dt"], p["iouThrs"], p["recThrs"],
                                p["maxDets"], p["areaRng"], p["areaRngLbl"], p["useCats"], st["num_threads"],
                                st.get("names"))
        return st["_pass"]

    def operating_points(self, iou_threshold=0.5, area="all", max_dets=None):
        """Precision / recall / F1 at every score threshold and the best-F1 point, per
        category and overall: :func:`fastap.report.operating_points`."""
        from .report import operating_points
        return operating_points(self, iou_threshold, area, max_dets)

    def confusion_matrix(self, iou_threshold=0.5, score_threshold=0.25):
        """(K+1) x (K+1) confusion matrix with background: :func:`fastap.report.confusion_matrix`."""
        from .report import confusion_matrix
        return confusion_matrix(self, iou_threshold, score_threshold)

    def error_analysis(self, pos_threshold=0.5, bg_threshold=0.1, area="all", max_dets=None):
        """TIDE-style error types and dAP: :func:`fastap.report.error_analysis`."""
        from .report import error_analysis
        return error_analysis(self, pos_threshold, bg_threshold, area, max_dets)

    def plot(self, directory, **kw):
        """Write the report PNGs into `directory`: :func:`fastap.plots.plot_all`
        (needs matplotlib: ``pip install fastap[plot]``). Returns the written paths."""
        from .plots import plot_all
        return plot_all(self, directory, **kw)

    def to_dict(self):
        """JSON-ready dict of the scalar metrics and per-class APs."""
        d = {"protocol": self.protocol, "metrics": {k: float(v) for k, v in self.metrics.items()},
             "per_class_ap": {str(k): (None if np.isnan(v) else float(v)) for k, v in self.per_class_ap.items()}}
        if self.protocol == "coco":
            d["stats"] = [float(x) for x in self.stats]
            d["per_class_ar"] = {str(k): (None if np.isnan(v) else float(v)) for k, v in self.per_class_ar.items()}
        return d

    def __repr__(self):
        m = ", ".join("%s=%.4f" % (k, v) for k, v in list(self.metrics.items())[:4])
        return "EvalResult(protocol=%r, %s)" % (self.protocol, m)


def _per_class(arr, cat_ids, recall=False):
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


def table_to_csv(table, path_or_file):
    """Write a structured array (e.g. :func:`per_class_table`) as CSV with a header;
    NaN is written as an empty cell."""
    import csv
    close = isinstance(path_or_file, (str, bytes)) or hasattr(path_or_file, "__fspath__")
    f = open(path_or_file, "w", newline="") if close else path_or_file
    try:
        w = csv.writer(f)
        w.writerow(table.dtype.names)
        for row in table.tolist():
            w.writerow(["" if isinstance(v, float) and np.isnan(v) else repr(v) if isinstance(v, float) else v
                        for v in row])
    finally:
        if close:
            f.close()


def evaluate(gt, dt, protocol="coco", iou_thresholds=None, rec_thresholds=None, max_dets=None,
             area_ranges=None, area_labels=None, img_ids=None, cat_ids=None, use_cats=True,
             box_format="xywh", iou_threshold=0.5, plus_one=True, num_threads=None,
             iou_type="bbox", image_sizes=None, kpt_oks_sigmas=None):
    """Evaluate detections against ground truth given as NumPy arrays.

    Parameters
    ----------
    gt : mapping of arrays
        ``image_id`` int[G], ``category_id`` int[G], ``bbox`` float[G, 4],
        optional ``iscrowd`` [G], ``area`` float[G] (default w*h), ``id`` int[G],
        ``ignore`` [G] (COCO: no effect, pycocotools replaces it by iscrowd; VOC:
        marks "difficult" together with iscrowd). Also accepted: a ``fastap.COCO``.
    dt : mapping of arrays
        ``image_id`` int[D], ``category_id`` int[D], ``bbox`` float[D, 4],
        ``score`` float[D]. Also accepted: a ``fastap.COCO`` from ``loadRes``.
    protocol : "coco" (pycocotools' numbers, bit for bit), "voc" (VOC2010+ all-point AP
        at ``iou_threshold``) or "voc07" (VOC2007 11-point AP).
    iou_thresholds, rec_thresholds, max_dets, area_ranges, area_labels : COCO
        parameters (default: pycocotools' ``iouThrs``, ``recThrs``, ``maxDets``,
        ``areaRng``, ``areaRngLbl``).
    img_ids, cat_ids : evaluated ids (default: every image / category that appears in
        ``gt`` or ``dt``).
    use_cats : False pools all categories (pycocotools' ``useCats=0``).
    box_format : "xywh" (COCO), "xyxy" or "cxcywh": the layout of ``bbox`` in both.
    plus_one : VOC only: the devkit's +1 pixel IoU convention.
    num_threads : threads for the C kernels (default: all cores / OMP_NUM_THREADS).
    iou_type : "bbox", "segm" (mask IoU) or "keypoints" (OKS), COCO protocol only.
        segm: ``gt["segmentation"]`` and ``dt["segmentation"]`` hold one mask per record
        in any of pycocotools' forms (polygon lists, RLE dicts with ``counts`` as
        bytes / str / list); detections' ``area`` is the mask's area and their ``bbox``
        may be left out (the mask's box). ``image_sizes``: {image_id: (height, width)},
        needed for polygons. keypoints: ``gt["keypoints"]`` float[G, 3K] and
        ``dt["keypoints"]`` float[D, 3K] ((x, y, v) triples), ``gt["num_keypoints"]``
        [G] (default: the visible count); detections' ``bbox`` and ``area`` default to
        the keypoints' box as pycocotools' loadRes makes them; ``kpt_oks_sigmas``
        float[K] (default COCO's 17). Defaults change as pycocotools' Params do
        (keypoints: ``max_dets=[20]``, areas all/medium/large).

    Returns
    -------
    EvalResult
    """
    from .coco import COCO  # lazy: coco imports engine
    if iou_type not in ("bbox", "segm", "keypoints"):
        raise ValueError("iou_type should be 'bbox', 'segm' or 'keypoints', got %r" % (iou_type,))
    if iou_type != "bbox":
        if protocol != "coco":
            raise ValueError("iou_type=%r is evaluated with the COCO protocol only" % (iou_type,))
        return _evaluate_geometry(gt, dt, iou_type, image_sizes, kpt_oks_sigmas, iou_thresholds,
                                  rec_thresholds, max_dets, area_ranges, area_labels, img_ids, cat_ids,
                                  use_cats, box_format, num_threads)
    names = None
    if isinstance(gt, COCO):
        names = {c: v.get("name", c) for c, v in gt.cats.items()} or None
        gt = gt._columns()
    else:
        gt = gt_columns(gt, box_format)
    if isinstance(dt, COCO):
        dt = dt._columns()
    else:
        dt = dt_columns(dt, box_format)
    if img_ids is None:
        img_ids = np.union1d(gt["image_id"], dt["image_id"])
    if cat_ids is None:
        cat_ids = np.union1d(gt["category_id"], dt["category_id"]) if protocol == "coco" \
            else np.unique(gt["category_id"])
    if protocol in ("voc", "voc07"):
        tables = build_tables(gt, dt, img_ids, cat_ids, use_cats, dt_by_image=False)
        difficult = gt["iscrowd"] | gt.get("ignore", np.zeros_like(gt["iscrowd"]))
        ap, npos = voc_ap(tables, iou_threshold, use_11_point=protocol == "voc07",
                          plus_one=plus_one, difficult=difficult, num_threads=num_threads)
        valid = ap[npos > 0].tolist()
        total = 0.0
        for v in valid:          # left to right, as fastap.reference sums
            total += v
        m = total / len(valid) if valid else float("nan")
        cats = tables.cat_ids
        return EvalResult(protocol, metrics={"map": m}, ap=ap, n_pos=npos, cat_ids=cats,
                          per_class_ap=dict(zip(cats.tolist(), ap.tolist())),
                          iou_threshold=float(iou_threshold))
    if protocol != "coco":
        raise ValueError("protocol should be 'coco', 'voc' or 'voc07', got %r" % (protocol,))
    iou_thrs, rec_thrs, md, ar, lbl = _coco_params(Params("bbox"), iou_thresholds, rec_thresholds, max_dets,
                                                   area_ranges, area_labels)
    tables = build_tables(gt, dt, img_ids, cat_ids, use_cats)
    matches = coco_match(tables, iou_thrs, md, ar, num_threads=num_threads)
    precision, recall, scores = coco_accumulate(tables, matches, iou_thrs, rec_thrs, md, ar,
                                                num_threads=num_threads)
    params = {"iouThrs": iou_thrs, "recThrs": rec_thrs, "maxDets": md, "areaRng": ar,
              "areaRngLbl": lbl, "useCats": int(bool(use_cats))}
    res = make_coco_result(precision, recall, scores, params, tables.cat_ids, tables.img_ids)
    # kept for the reports (fastap.report): they read the pass's tables and match bits
    res._state = {"tables": tables, "matches": matches, "gt": gt, "dt": dt, "num_threads": num_threads,
                  "names": names}
    return res


def _coco_params(p, iou_thresholds, rec_thresholds, max_dets, area_ranges, area_labels):
    """The evaluation parameters: the given ones (checked), else the defaults of Params
    p; area labels default to COCO's names for up to 4 given ranges."""
    iou_thrs, rec_thrs, md, ar = _check_params(
        p.iouThrs if iou_thresholds is None else iou_thresholds,
        p.recThrs if rec_thresholds is None else rec_thresholds,
        p.maxDets if max_dets is None else max_dets,
        p.areaRng if area_ranges is None else area_ranges)
    lbl = p.areaRngLbl if area_labels is None else list(area_labels)
    if area_ranges is not None and area_labels is None:
        lbl = ["all", "small", "medium", "large"][:len(ar)] if len(ar) <= 4 else ["r%d" % i for i in range(len(ar))]
    return iou_thrs, rec_thrs, md, ar, lbl


def _evaluate_geometry(gt, dt, iou_type, image_sizes, sigmas, iou_thresholds, rec_thresholds, max_dets,
                       area_ranges, area_labels, img_ids, cat_ids, use_cats, box_format, num_threads):
    """evaluate() for masks and keypoints: COCO objects go through COCOeval; mappings
    of arrays are converted as pycocotools' loadRes would, then the same tables,
    IoU kernels, matching and accumulation run."""
    from . import geometry
    from .coco import COCO, COCOeval
    p = Params(iou_type)
    if isinstance(gt, COCO) or isinstance(dt, COCO):
        if not (isinstance(gt, COCO) and isinstance(dt, COCO)):
            raise InvalidTypeError("for iou_type=%r give both gt and dt as COCO objects, or both as "
                                   "mappings of arrays" % iou_type)
        ev = COCOeval(gt, dt, iou_type, num_threads=num_threads)
        for name, v in (("iouThrs", iou_thresholds), ("recThrs", rec_thresholds), ("maxDets", max_dets),
                        ("areaRng", area_ranges), ("areaRngLbl", area_labels), ("imgIds", img_ids),
                        ("catIds", cat_ids), ("kpt_oks_sigmas", sigmas)):
            if v is not None:
                setattr(ev.params, name, v)
        ev.params.useCats = int(bool(use_cats))
        import contextlib
        import io
        with contextlib.redirect_stdout(io.StringIO()):
            ev.evaluate()
            ev.accumulate()
        q = ev.params
        return make_coco_result(ev.eval["precision"], ev.eval["recall"], ev.eval["scores"],
                                {"iouThrs": np.asarray(q.iouThrs), "recThrs": np.asarray(q.recThrs),
                                 "maxDets": list(q.maxDets), "areaRng": q.areaRng, "areaRngLbl": q.areaRngLbl,
                                 "useCats": q.useCats}, np.asarray(q.catIds if q.useCats else [-1]),
                                np.asarray(q.imgIds), iou_type=iou_type)
    if not hasattr(gt, "keys") or not hasattr(dt, "keys"):
        raise InvalidTypeError("gt and dt should be mappings of arrays or COCO objects")
    sizes = {} if image_sizes is None else {int(k): {"height": int(v[0]), "width": int(v[1])}
                                            for k, v in dict(image_sizes).items()}
    gt_in, dt_in = dict(gt), dict(dt)
    n_dt = len(dt_in.get("image_id", []))
    if iou_type == "segm":
        for name, d in (("ground truth", gt_in), ("detections", dt_in)):
            if d.get("segmentation") is None:
                raise InvalidAnnotationError("%s: missing field 'segmentation'" % name)
        g_rle = geometry.rles_from_objects(gt_in["segmentation"], gt_in.get("image_id"), sizes, "ground truth")
        d_rle = geometry.rles_from_objects(dt_in["segmentation"], dt_in.get("image_id"), sizes, "detections")
        if gt_in.get("area") is None:
            gt_in["area"] = g_rle["area"]
        if gt_in.get("bbox") is None:
            gt_in["bbox"] = g_rle["bbox"]
        given = None if dt_in.get("bbox") is None else _boxes("detections", dt_in["bbox"], n_dt, None, box_format)
        dt_in["bbox"], dt_in["area"] = geometry.segm_result_boxes(d_rle, given)
    else:
        sig = np.asarray(p.kpt_oks_sigmas if sigmas is None else sigmas, dtype=np.float64).reshape(-1)
        K = sig.shape[0]
        gk = _floats("ground truth", "keypoints", gt_in.get("keypoints"), (len(gt_in.get("image_id", [])), 3 * K))
        dk = _floats("detections", "keypoints", dt_in.get("keypoints"), (n_dt, 3 * K))
        if dt_in.get("bbox") is None:
            dt_in["bbox"], dt_in["area"] = geometry.keypoint_result_boxes(dk)
    g = gt_columns(gt_in, "xywh" if iou_type == "segm" and gt.get("bbox") is None else box_format)
    d = dt_columns(dt_in, "xywh" if dt.get("bbox") is None or iou_type == "segm" else box_format)
    if img_ids is None:
        img_ids = np.union1d(g["image_id"], d["image_id"])
    if cat_ids is None:
        cat_ids = np.union1d(g["category_id"], d["category_id"])
    iou_thrs, rec_thrs, md, ar, lbl = _coco_params(p, iou_thresholds, rec_thresholds, max_dets, area_ranges,
                                                   area_labels)
    tables = build_tables(g, d, img_ids, cat_ids, use_cats)
    if iou_type == "segm":
        geometry.attach_rle_iou(tables, g_rle, d_rle, md[-1], num_threads=num_threads)
    else:
        num = gt_in.get("num_keypoints")
        num = (gk[:, 2::3] > 0).sum(axis=1) if num is None else _floats("ground truth", "num_keypoints", num, (gk.shape[0],))
        geometry.attach_oks(tables, gk, num, g["iscrowd"], dk, sig, md[-1], num_threads=num_threads,
                            use_cats=use_cats, iou_thrs=iou_thrs)
    matches = coco_match(tables, iou_thrs, md, ar, num_threads=num_threads)
    precision, recall, scores = coco_accumulate(tables, matches, iou_thrs, rec_thrs, md, ar,
                                                num_threads=num_threads)
    params = {"iouThrs": iou_thrs, "recThrs": rec_thrs, "maxDets": md, "areaRng": ar,
              "areaRngLbl": lbl, "useCats": int(bool(use_cats))}
    res = make_coco_result(precision, recall, scores, params, tables.cat_ids, tables.img_ids, iou_type=iou_type)
    res._state = {"tables": tables, "matches": matches, "gt": g, "dt": d, "num_threads": num_threads,
                  "names": None}
    return res


def make_coco_result(precision, recall, scores, params, cat_ids, img_ids, iou_type="bbox"):
    """EvalResult from accumulated COCO arrays; params: iouThrs, recThrs, maxDets,
    areaRng, areaRngLbl, useCats."""
    md, lbl = params["maxDets"], params["areaRngLbl"]
    stats, lines = (np.full(12, -1.0), [])
    names = STAT_NAMES
    if iou_type == "keypoints":
        stats, lines = summarize(precision, recall, params["iouThrs"], lbl, md, "keypoints")
        names = KPT_STAT_NAMES
    elif len(md) >= 3:
        stats, lines = summarize(precision, recall, params["iouThrs"], lbl, md)
    return EvalResult("coco", precision=precision, recall=recall, scores=scores, stats=stats,
                      metrics=dict(zip(names, stats.tolist())), summary=lines, iou_type=iou_type,
                      cat_ids=cat_ids, img_ids=img_ids,
                      per_class_ap=_per_class(precision, cat_ids),
                      per_class_ar=_per_class(recall, cat_ids, recall=True),
                      params={"iouThrs": params["iouThrs"], "recThrs": params["recThrs"], "maxDets": md,
                              "areaRng": np.asarray(params["areaRng"]).tolist(), "areaRngLbl": lbl,
                              "useCats": params["useCats"]})

"""Panoptic quality (PQ, SQ, RQ) in the COCO panoptic format, by the rules of panopticapi's
``pq_compute``.

A segment map is an integer image of segment ids (a COCO panoptic PNG stores id = R + 256 G +
256^2 B); each image's ``segments_info`` lists its segments: ``id``, ``category_id``, and for
the ground truth ``iscrowd`` (default 0) and ``area`` (default: the segment's pixel count;
panopticapi reads the JSON ``area``). Id 0 is VOID. The rules, per image:

* a ground-truth segment and a predicted segment of the same category match when their IoU
  is > 0.5 (not >=; at most one match each follows), where the union leaves out the
  prediction's pixels on ground-truth VOID: ``union = area_pred + area_gt - inter -
  |pred n VOID|``; the predicted area is always the pixel count;
* crowd ground truth (``iscrowd`` 1) never matches and is never a false negative; every other
  unmatched ground-truth segment is a false negative (FN);
* an unmatched prediction is a false positive (FP) unless more than half of its pixels lie on
  VOID or on the crowd region of its category (panopticapi keeps one crowd segment per
  (image, category): the last one listed);
* per category: ``PQ = sum IoU / (TP + FP/2 + FN/2)``, ``SQ = sum IoU / TP`` (0 when TP = 0),
  ``RQ = TP / (TP + FP/2 + FN/2)``; All / Things / Stuff average the categories (of the
  ground truth's ``categories``, by ``isthing``) with TP + FP + FN > 0.

The sum of IoUs of a category is the correctly rounded sum (``math.fsum``) of its matches, so
any image order and any merge give the same bits (panopticapi's running sum can differ in the
last bit); the averages add the categories in the order ``categories`` lists them, as
panopticapi does. A category without TP, FP or FN has NaN per-class numbers here
(panopticapi writes 0.0: :meth:`PanopticResult.to_panopticapi`), and an average over no
category is NaN (panopticapi divides by zero).

Refused (InvalidAnnotationError, naming the image and the segment): a predicted id in the map
but not in ``segments_info`` or the other way round, an unknown category, a duplicate or a zero
segment id. Ground-truth pixels whose id no segment lists are ignored, as panopticapi does,
with a warning. The only per-pixel work, the joint histogram of (gt id, pred id) pairs, runs
in C (csrc/panoptic.c), one image per thread; the rest is vectorised over the pairs.
"""
from __future__ import annotations

import json
import math
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _core
from .errors import FastapWarning, InvalidAnnotationError, InvalidFileError, InvalidOptionError, InvalidTypeError

__all__ = ["PanopticEvaluator", "PanopticResult", "evaluate_panoptic", "pq_from_segment_maps", "read_segment_map",
           "rgb_to_id"]

GROUPS = (("All", None), ("Things", True), ("Stuff", False))


def rgb_to_id(rgb):
    """Segment ids of an RGB segment map: ``R + 256 G + 256^2 B`` (uint32 [H, W]) of an
    integer array [H, W, 3] (panopticapi's ``rgb2id``)."""
    a = np.asarray(rgb)
    if a.ndim != 3 or a.shape[2] != 3 or a.dtype.kind not in "ui":
        raise InvalidAnnotationError("an RGB segment map should be an integer array [H, W, 3], got dtype %s shape %s"
                                     % (a.dtype, a.shape))
    a = a.astype(np.uint32)
    return a[..., 0] + 256 * a[..., 1] + 65536 * a[..., 2]


def read_segment_map(path):
    """The segment ids (uint32 [H, W]) of a panoptic PNG: RGB images through
    :func:`rgb_to_id`, single-channel ones ("L", "I;16", "I", "P": indices) as they are.
    Needs Pillow (imported here, lazily)."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("reading panoptic PNGs needs Pillow: pip install pillow") from None
    try:
        with Image.open(path) as im:
            mode = im.mode
            a = np.array(im)
    except OSError as e:
        raise InvalidFileError("%s: cannot read the segment map (%s)" % (path, e)) from None
    if mode == "RGB":
        return rgb_to_id(a)
    if a.ndim != 2 or a.dtype.kind not in "ui":
        raise InvalidFileError("%s: a segment map should be RGB or single-channel, got mode %s" % (path, mode))
    if a.dtype.kind == "i" and a.size and a.min() < 0:
        raise InvalidFileError("%s: negative segment id %d" % (path, int(a.min())))
    return a.astype(np.uint32)


def _as_ids(m, side, i):
    """A segment map as C-contiguous uint32 [H, W] (RGB [H, W, 3] converted)."""
    if type(m).__module__.split(".")[0] == "torch" and hasattr(m, "detach"):
        m = m.detach().cpu().numpy()
    if not isinstance(m, np.ndarray):
        raise InvalidTypeError("%s segment map %d should be a NumPy array, got %s" % (side, i, type(m).__name__))
    if m.ndim == 3 and m.shape[2] == 3:
        return rgb_to_id(m)
    if m.ndim != 2:
        raise InvalidAnnotationError("%s segment map %d should be ids [H, W] or RGB [H, W, 3], got shape %s"
                                     % (side, i, m.shape))
    if m.dtype.kind not in "ui":
        raise InvalidTypeError("%s segment map %d should hold integer segment ids, got dtype %s" % (side, i, m.dtype))
    if m.dtype != np.uint32 and m.size:
        lo, hi = int(m.min()), int(m.max())
        if lo < 0 or hi >= 2 ** 32:
            raise InvalidAnnotationError("%s segment map %d: segment id %d is outside [0, 2^32)"
                                         % (side, i, lo if lo < 0 else hi))
    return np.ascontiguousarray(m, dtype=np.uint32)


def _categories(categories):
    """(ids int64 in the given order, isthing bool, names list)."""
    ids, things, names = [], [], []
    for j, c in enumerate(categories):
        try:
            ids.append(int(c["id"]))
        except (KeyError, TypeError, ValueError):
            raise InvalidAnnotationError("categories[%d]: no integer 'id'" % j) from None
        if "isthing" not in c:
            raise InvalidAnnotationError("categories[%d] (id %d): no field 'isthing' (1 for things, 0 for stuff)"
                                         % (j, ids[-1]))
        things.append(c["isthing"] == 1)
        names.append(str(c.get("name", ids[-1])))
    ids = np.asarray(ids, np.int64)
    if len(np.unique(ids)) != len(ids):
        raise InvalidAnnotationError("categories: duplicate category id")
    return ids, np.asarray(things, bool), names


def _columns_checked(segments, side, image_ids):
    """(image index, id, category id, crowd, area) lists, one segment at a time, raising
    InvalidAnnotationError on the first bad segment (naming the image, the segment, the field)."""
    img, ids, cats, crowd, area = [], [], [], [], []
    for i, segs in enumerate(segments):
        seen = set()
        for s in segs:
            where = "%s image %r, segment %r" % (side, image_ids[i], s.get("id") if isinstance(s, dict) else s)
            try:
                sid, cid = int(s["id"]), int(s["category_id"])
            except (KeyError, TypeError, ValueError):
                raise InvalidAnnotationError("%s: needs integer 'id' and 'category_id'" % where) from None
            try:
                a = int(s["area"]) if s.get("area") is not None else -1
            except (TypeError, ValueError):
                raise InvalidAnnotationError("%s: field 'area' should be a number, got %r" % (where, s["area"])) from None
            if not 0 < sid < 2 ** 32:
                raise InvalidAnnotationError("%s: field 'id' should be in [1, 2^32) (0 is VOID)" % where)
            if sid in seen:
                raise InvalidAnnotationError("%s: field 'id' repeats a segment of the image" % where)
            seen.add(sid)
            img.append(i)
            ids.append(sid)
            cats.append(cid)
            crowd.append(s.get("iscrowd", 0) == 1)
            area.append(a)
    return img, ids, cats, crowd, area


class _Segments:
    """The segments of a batch as columns: image index, id, category index, crowd, area (-1 when not given)."""

    def __init__(self, segments, n_images, side, image_ids, cat_ids, cat_order):
        if len(segments) != n_images:
            raise InvalidAnnotationError("%d segment maps but %d %s segment lists" % (n_images, len(segments), side))
        img, ids, cats, crowd, area = _columns_checked(segments, side, image_ids)
        self.img = np.asarray(img, np.int64)
        self.id = np.asarray(ids, np.int64)
        cats = np.asarray(cats, np.int64)
        pos = np.minimum(np.searchsorted(cat_ids[cat_order], cats), len(cat_ids) - 1) if len(cat_ids) else cats * 0
        bad = np.flatnonzero(cat_ids[cat_order][pos] != cats) if len(cat_ids) else np.arange(len(cats))
        if len(bad):
            b = bad[0]
            raise InvalidAnnotationError("%s image %r, segment %d: field 'category_id' %d is not in the categories"
                                         % (side, image_ids[self.img[b]], self.id[b], cats[b]))
        self.cat = cat_order[pos] if len(cats) else cats
        self.crowd = np.asarray(crowd, bool)
        self.area = np.asarray(area, np.int64)
        self.key = self.img << 32 | self.id
        self.order = np.argsort(self.key, kind="stable")

    def lookup(self, key):
        """The segment index of each (image << 32 | id) key, -1 where none."""
        if len(self.key) == 0:
            return np.full(len(key), -1, np.int64)
        pos = np.minimum(np.searchsorted(self.key[self.order], key), len(self.key) - 1)
        idx = self.order[pos]
        return np.where(self.key[idx] == key, idx, -1)


def _bincount(idx, weights, n):
    return np.bincount(idx, weights=weights, minlength=n).astype(np.int64)


def _check_pred(pred, pidx, p, img_p, parea, image_ids):
    miss = np.flatnonzero((pidx < 0) & (p != 0))
    if len(miss):
        b = miss[0]
        raise InvalidAnnotationError("prediction image %r: segment id %d is in the segment map but not in its "
                                     "segments_info" % (image_ids[img_p[b]], p[b]))
    empty = np.flatnonzero(parea == 0)
    if len(empty):
        b = empty[0]
        raise InvalidAnnotationError("prediction image %r, segment %d: listed in segments_info but not in the "
                                     "segment map" % (image_ids[pred.img[b]], pred.id[b]))


def _crowd_of(gt, pred, n_cat):
    """For each predicted segment, the gt crowd segment of its (image, category) (the last
    one listed, as panopticapi keeps), or -1."""
    cs = np.flatnonzero(gt.crowd)
    out = np.full(len(pred.id), -1, np.int64)
    if len(cs) == 0 or len(pred.id) == 0:
        return out
    ck = (gt.img[cs] * n_cat + gt.cat[cs])[::-1]
    uk, first = np.unique(ck, return_index=True)
    last = cs[::-1][first]
    pk = pred.img * n_cat + pred.cat
    pos = np.minimum(np.searchsorted(uk, pk), len(uk) - 1)
    return np.where(uk[pos] == pk, last[pos], -1)


def _batch_stats(offsets, keys, counts, gt, pred, n_cat, image_ids):
    """(match category index, match IoU, FP per category, FN per category, unknown gt pixels)
    of a batch from its (gt, pred) pair histogram."""
    n_img = len(offsets) - 1
    img_p = np.repeat(np.arange(n_img, dtype=np.int64), np.diff(offsets))
    g = (keys >> np.uint64(32)).astype(np.int64)
    p = (keys & np.uint64(0xFFFFFFFF)).astype(np.int64)
    gidx = gt.lookup(img_p << 32 | g)
    pidx = pred.lookup(img_p << 32 | p)
    n_g, n_p = len(gt.id), len(pred.id)
    on_p = pidx >= 0
    parea = _bincount(pidx[on_p], counts[on_p], n_p)
    _check_pred(pred, pidx, p, img_p, parea, image_ids)
    on_g = gidx >= 0
    garea = np.where(gt.area >= 0, gt.area, _bincount(gidx[on_g], counts[on_g], n_g))
    unknown = int(counts[(gidx < 0) & (g != 0)].sum())
    void_pair = on_p & (g == 0)
    void = _bincount(pidx[void_pair], counts[void_pair], n_p)
    cand = np.flatnonzero(on_g & on_p)
    gi, pi, c = gidx[cand], pidx[cand], counts[cand]
    keep = ~gt.crowd[gi] & (gt.cat[gi] == pred.cat[pi])
    gi, pi, c = gi[keep], pi[keep], c[keep]
    # panopticapi: the union leaves out the prediction's pixels on ground-truth VOID
    union = parea[pi] + garea[gi] - c - void[pi]
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = c / union
    match = iou > 0.5
    g_matched = np.zeros(n_g, bool)
    g_matched[gi[match]] = True
    p_matched = np.zeros(n_p, bool)
    p_matched[pi[match]] = True
    fn = np.bincount(gt.cat[~g_matched & ~gt.crowd], minlength=n_cat)
    crowd = _crowd_of(gt, pred, n_cat)
    on_crowd = on_g & on_p & (gidx == crowd[np.maximum(pidx, 0)])
    ignored_px = void + _bincount(pidx[on_crowd], counts[on_crowd], n_p)
    with np.errstate(divide="ignore", invalid="ignore"):
        ignored = ignored_px / parea > 0.5
    fp = np.bincount(pred.cat[~p_matched & ~ignored], minlength=n_cat)
    return gt.cat[gi[match]], iou[match], fp.astype(np.int64), fn.astype(np.int64), unknown


class PanopticResult:
    """Panoptic quality of a set of images.

    Per category (arrays in the order of ``category_ids``, the categories' own order): ``tp``,
    ``fp``, ``fn`` (int64), ``iou_sum`` (float64, the correctly rounded sum of the matched
    IoUs), ``pq``, ``sq``, ``rq`` (float64, NaN for a category without TP, FP or FN);
    ``isthing`` (bool). ``summary``: ``{"All" | "Things" | "Stuff": {"pq", "sq", "rq", "n"}}``,
    the means over the categories with TP + FP + FN > 0 (``n`` of them; NaN when n = 0).
    ``pq``, ``sq``, ``rq`` of All are also :attr:`PQ`, :attr:`SQ`, :attr:`RQ`.
    """

    def __init__(self, category_ids, isthing, names, tp, fp, fn, iou_sum, n_images):
        self.category_ids = np.asarray(category_ids, np.int64)
        self.isthing = np.asarray(isthing, bool)
        self.names = list(names)
        self.tp, self.fp, self.fn = tp, fp, fn
        self.iou_sum = iou_sum
        self.n_images = n_images
        denom = tp + 0.5 * fp + 0.5 * fn
        present = (tp + fp + fn) > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            self.pq = np.where(present, iou_sum / denom, np.nan)
            self.sq = np.where(present, np.where(tp > 0, iou_sum / np.maximum(tp, 1), 0.0), np.nan)
            self.rq = np.where(present, tp / denom, np.nan)
        self.summary = {}
        for name, thing in GROUPS:
            sel = present & (True if thing is None else self.isthing == thing)
            n = int(sel.sum())
            row = {"n": n}
            for m in ("pq", "sq", "rq"):
                total = 0.0
                for v in getattr(self, m)[sel]:     # panopticapi: categories added in their order
                    total += float(v)
                row[m] = total / n if n else float("nan")
            self.summary[name] = row

    PQ = property(lambda self: self.summary["All"]["pq"], doc="PQ of All categories.")
    SQ = property(lambda self: self.summary["All"]["sq"], doc="SQ of All categories.")
    RQ = property(lambda self: self.summary["All"]["rq"], doc="RQ of All categories.")

    def to_panopticapi(self):
        """The dict panopticapi's ``pq_compute`` returns: ``{"All", "Things", "Stuff": {pq,
        sq, rq, n}, "per_class": {category id: {pq, sq, rq}}}`` (0.0 for a category without
        TP, FP or FN, as panopticapi writes)."""
        out = {name: dict(self.summary[name]) for name, _ in GROUPS}
        out["per_class"] = {int(c): {m: (0.0 if np.isnan(getattr(self, m)[j]) else float(getattr(self, m)[j]))
                                     for m in ("pq", "sq", "rq")}
                            for j, c in enumerate(self.category_ids)}
        return out

    def table(self, per_class=False):
        """The summary as text (panopticapi's table, in percent), optionally one row per category."""
        lines = ["%-10s| %6s %6s %6s %5s" % ("", "PQ", "SQ", "RQ", "N"), "-" * 38]
        for name, _ in GROUPS:
            r = self.summary[name]
            lines.append("%-10s| %6.1f %6.1f %6.1f %5d" % (name, 100 * r["pq"], 100 * r["sq"], 100 * r["rq"], r["n"]))
        if per_class:
            lines += ["", "%-20s %5s %6s %6s %6s %5s %5s %5s" % ("category", "thing", "PQ", "SQ", "RQ", "TP", "FP", "FN")]
            for j, nm in enumerate(self.names):
                lines.append("%-20s %5s %6.1f %6.1f %6.1f %5d %5d %5d"
                             % (nm[:20], "yes" if self.isthing[j] else "no", 100 * self.pq[j], 100 * self.sq[j],
                                100 * self.rq[j], self.tp[j], self.fp[j], self.fn[j]))
        return "\n".join(lines)

    def __repr__(self):
        return "PanopticResult(PQ=%.4f, SQ=%.4f, RQ=%.4f, images=%d, categories=%d)" % (
            self.PQ, self.SQ, self.RQ, self.n_images, len(self.category_ids))


class PanopticEvaluator:
    """Streaming panoptic quality: :meth:`update` with batches of images, :meth:`merge` other
    evaluators' states (exact: integer counts and the matched IoUs, summed with
    ``math.fsum`` only in :meth:`compute`), :meth:`compute` a :class:`PanopticResult`.

    categories: the ground truth's ``categories`` (dicts with ``id``, ``isthing`` 1 / 0,
    optionally ``name``). Memory: three integers per category and one float per match.
    """

    def __init__(self, categories, num_threads=None):
        self.categories = [dict(c) for c in categories]
        self._ids, self._things, self._names = _categories(self.categories)
        self._order = np.argsort(self._ids, kind="stable")
        self.num_threads = num_threads
        k = len(self._ids)
        self.tp = np.zeros(k, np.int64)
        self.fp = np.zeros(k, np.int64)
        self.fn = np.zeros(k, np.int64)
        self._match_cat, self._match_iou = [], []
        self.n_images = 0

    def update(self, gt_maps, gt_segments, pred_maps, pred_segments, image_ids=None):
        """Add images: ``gt_maps`` / ``pred_maps`` sequences of segment maps (integer ids [H, W]
        or RGB [H, W, 3], NumPy or torch), ``gt_segments`` / ``pred_segments`` their
        ``segments_info`` lists; ``image_ids`` only names images in errors."""
        n = len(gt_maps)
        ids = list(image_ids) if image_ids is not None else list(range(self.n_images, self.n_images + n))
        if len(pred_maps) != n or len(ids) != n:
            raise InvalidAnnotationError("%d ground-truth segment maps, %d predicted ones, %d image ids"
                                         % (n, len(pred_maps), len(ids)))
        gts = [_as_ids(m, "ground truth", ids[i]) for i, m in enumerate(gt_maps)]
        preds = [_as_ids(m, "prediction", ids[i]) for i, m in enumerate(pred_maps)]
        for i in range(n):
            if gts[i].shape != preds[i].shape:
                raise InvalidAnnotationError("image %r: the predicted segment map's shape %s differs from the "
                                             "ground truth's %s" % (ids[i], preds[i].shape, gts[i].shape))
        gt = _Segments(gt_segments, n, "ground truth", ids, self._ids, self._order)
        pred = _Segments(pred_segments, n, "prediction", ids, self._ids, self._order)
        offsets, keys, counts = _core.panoptic_pairs(gts, preds, self.num_threads)
        cat, iou, fp, fn, unknown = _batch_stats(offsets, keys, counts, gt, pred, len(self._ids), ids)
        if unknown:
            warnings.warn("%d ground-truth pixels carry segment ids that no segments_info lists; they are ignored "
                          "(neither VOID nor a segment), as panopticapi does; list them in segments_info or set them to "
                          "0 (VOID)" % unknown, FastapWarning, stacklevel=2)
        self.tp += np.bincount(cat, minlength=len(self._ids))
        self.fp += fp
        self.fn += fn
        self._match_cat.append(cat)
        self._match_iou.append(iou)
        self.n_images += n
        return self

    def merge(self, other):
        """Add another evaluator's state (same categories); any order gives the same result."""
        if not isinstance(other, PanopticEvaluator) or not np.array_equal(other._ids, self._ids):
            raise InvalidAnnotationError("merge needs a PanopticEvaluator over the same categories")
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self._match_cat += other._match_cat
        self._match_iou += other._match_iou
        self.n_images += other.n_images
        return self

    def compute(self):
        """The :class:`PanopticResult` of every image added so far."""
        cat = np.concatenate(self._match_cat) if self._match_cat else np.zeros(0, np.int64)
        iou = np.concatenate(self._match_iou) if self._match_iou else np.zeros(0)
        order = np.argsort(cat, kind="stable")
        bounds = np.searchsorted(cat[order], np.arange(len(self._ids) + 1))
        iou_sum = np.array([math.fsum(iou[order[bounds[j]:bounds[j + 1]]]) for j in range(len(self._ids))])
        return PanopticResult(self._ids, self._things, self._names, self.tp.copy(), self.fp.copy(), self.fn.copy(),
                              iou_sum.reshape(-1).astype(np.float64), self.n_images)


def pq_from_segment_maps(gt_maps, gt_segments, pred_maps, pred_segments, categories, num_threads=None):
    """Panoptic quality of in-memory segment maps: one :meth:`PanopticEvaluator.update` and
    :meth:`~PanopticEvaluator.compute` (see the module docstring for the rules). Returns a
    :class:`PanopticResult`."""
    ev = PanopticEvaluator(categories, num_threads=num_threads)
    return ev.update(gt_maps, gt_segments, pred_maps, pred_segments).compute()


def _load_json(src, what):
    if isinstance(src, dict):
        return src, "<%s dict>" % what
    try:
        with open(src, "rb") as f:
            return json.load(f), str(src)
    except (OSError, ValueError) as e:
        raise InvalidFileError("%s: cannot read the %s JSON (%s)" % (src, what, e)) from None


def _pairs_of_images(gt, pred, gt_name, pred_name):
    """[(gt annotation, pred annotation)] in the ground truth's order."""
    if "annotations" not in gt or "categories" not in gt:
        raise InvalidFileError("%s: the ground truth needs 'annotations' and 'categories'" % gt_name)
    if "annotations" not in pred:
        raise InvalidFileError("%s: the predictions need 'annotations'" % pred_name)
    by_id = {}
    for j, a in enumerate(pred["annotations"]):
        if "image_id" not in a or "file_name" not in a:
            raise InvalidFileError("%s: annotations[%d] needs 'image_id' and 'file_name'" % (pred_name, j))
        by_id[a["image_id"]] = a
    out = []
    for j, a in enumerate(gt["annotations"]):
        if "image_id" not in a or "file_name" not in a:
            raise InvalidFileError("%s: annotations[%d] needs 'image_id' and 'file_name'" % (gt_name, j))
        if a["image_id"] not in by_id:
            raise InvalidFileError("%s: no prediction for the image with id %r" % (pred_name, a["image_id"]))
        out.append((a, by_id.pop(a["image_id"])))
    if by_id:
        warnings.warn("%s: %d predicted images are not in the ground truth and are left out (first id %r)"
                      % (pred_name, len(by_id), next(iter(by_id))), FastapWarning, stacklevel=3)
    return out


def evaluate_panoptic(gt_json, gt_folder=None, pred_json=None, pred_folder=None, num_threads=None, batch_size=32):
    """Panoptic quality of COCO panoptic files, as panopticapi's ``pq_compute``.

    gt_json / pred_json: paths of the JSON files (or their loaded dicts) with ``annotations``
    (``image_id``, ``file_name``, ``segments_info``) and, for the ground truth,
    ``categories`` (``id``, ``isthing``). gt_folder / pred_folder: the PNG folders (default:
    the JSON path without ``.json``, as panopticapi). Every ground-truth image needs a
    prediction. PNGs are read with Pillow on ``num_threads`` threads, ``batch_size`` images
    at a time (memory bounded by the batch). Returns a :class:`PanopticResult`.
    """
    if pred_json is None:
        raise InvalidOptionError("evaluate_panoptic needs pred_json, the predictions' JSON (a path or its dict)")
    gt, gt_name = _load_json(gt_json, "ground-truth")
    pred, pred_name = _load_json(pred_json, "prediction")
    gt_folder = gt_folder if gt_folder is not None else str(gt_json).rsplit(".json", 1)[0]
    pred_folder = pred_folder if pred_folder is not None else str(pred_json).rsplit(".json", 1)[0]
    for folder in (gt_folder, pred_folder):
        if not os.path.isdir(folder):
            raise InvalidFileError("%s: the folder of segment maps does not exist" % folder)
    pairs = _pairs_of_images(gt, pred, gt_name, pred_name)
    ev = PanopticEvaluator(gt["categories"], num_threads=num_threads)
    workers = max(1, min(_core.max_threads() if num_threads is None else int(num_threads), 8))
    with ThreadPoolExecutor(workers) as pool:
        for b in range(0, len(pairs), batch_size):
            chunk = pairs[b:b + batch_size]
            paths = [os.path.join(gt_folder, g["file_name"]) for g, _ in chunk]
            paths += [os.path.join(pred_folder, p["file_name"]) for _, p in chunk]
            maps = list(pool.map(read_segment_map, paths))
            ev.update(maps[:len(chunk)], [g.get("segments_info", []) for g, _ in chunk], maps[len(chunk):],
                      [p.get("segments_info", []) for _, p in chunk], image_ids=[g["image_id"] for g, _ in chunk])
    return ev.compute()

"""The LVIS protocol: lvis-api 0.5.3's ``LVISEval`` (federated evaluation), exactly.

Over validated columns (:mod:`fastap.columns`), in the steps lvis-api takes:

* :func:`cap_per_image` -- ``LVISResults``: each image keeps its ``max_dets`` (300)
  highest-scoring results, over all categories, before anything else (lvis-api's
  ``sorted(..., key=score, reverse=True)``: stable, ties keep the results' order);
* :func:`lvis_pass` -- ``evaluate()``: ground truths and results with an ``area`` in
  (0, inf) only (lvis-api's ``get_ann_ids`` area filter); per image, only the
  categories with ground truth there or listed in its ``neg_category_ids`` are
  evaluated (the federated rule); ground truths ignored by their own ``ignore`` field
  (no crowd rule: every IoU is a plain one); matching is COCO's greedy matching of
  every detection of an (image, category) (no per-image cut), done by the COCO kernel
  (``csrc/coco.c``); an unmatched detection of a category in the image's
  ``not_exhaustive_category_ids`` is ignored;
* :func:`lvis_accumulate` -- ``accumulate()``: precision float64 [T, R, K, A], recall
  [T, K, A] (COCO's accumulation, which is lvis-api's, with one maxDets that keeps
  every detection);
* :func:`summarize` / :func:`result_lines` -- ``summarize()`` / ``print_results()``:
  AP, AP50, AP75, APs, APm, APl, APr, APc, APf, AR@300, ARs@300, ARm@300, ARl@300
  with lvis-api's NumPy reductions and print format.

How the COCO kernel expresses the LVIS rules: the ground truths' crowd flags are all 0
and their ignore flags are the ``ignore`` field (``CocoTables.set_gt_ignore``); the
per-image cut is larger than any (image, category) run; the not-exhaustive rule is
applied to the kernel's output: such a detection's false-positive bits become 0
(lvis-api: ``dt_ig |= (dt_m == 0) & mask``, so a detection that is not matched -- or
matched to a ground truth of id 0, which lvis-api takes as unmatched too -- is
ignored; its true-positive bits are unchanged).
"""
from __future__ import annotations

from collections import OrderedDict
from itertools import chain

import numpy as np

from .. import _core
from ..columns import IdIndex, unique_ids
from ..errors import InvalidAnnotationError
from ..params import default_iou_thrs, default_rec_thrs
from ..tables import build_tables
from .coco import check_params, coco_accumulate, coco_match
from .coco import per_class_table as coco_per_class_table

__all__ = ["LVISParams", "FREQUENCIES", "result_keys", "cap_per_image", "capped_order", "federated_flags",
           "LVISPass", "lvis_pass", "lvis_accumulate", "freq_groups", "summarize", "result_lines", "image_pairs", "list_pairs",
           "PER_CLASS_FIELDS", "per_class_table"]

#: lvis-api's frequency groups, in the order of APr, APc, APf
FREQUENCIES = ("r", "c", "f")


class LVISParams:
    """lvis-api's ``Params``: the LVIS evaluation parameters, same names and defaults.

    ``img_ids``, ``cat_ids`` (lists, filled by LVISEval from the ground truth),
    ``iou_thrs`` float64 [10], ``rec_thrs`` float64 [101] (pycocotools' linspace calls),
    ``max_dets`` (300: only named in the summary, the cap is ``LVISResults``'),
    ``area_rng`` (list of [lo, hi]), ``area_rng_lbl``, ``use_cats`` (1),
    ``img_count_lbl`` (["r", "c", "f"]) and ``iou_type``.
    """

    def __init__(self, iou_type):
        self.img_ids = []
        self.cat_ids = []
        self.iou_thrs = default_iou_thrs()
        self.rec_thrs = default_rec_thrs()
        self.max_dets = 300
        self.area_rng = [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]
        self.area_rng_lbl = ["all", "small", "medium", "large"]
        self.use_cats = 1
        self.img_count_lbl = ["r", "c", "f"]
        self.iou_type = iou_type


def result_keys(max_dets=300):
    """The keys of lvis-api's ``results``, in its order."""
    return ["AP", "AP50", "AP75", "APs", "APm", "APl", "APr", "APc", "APf", "AR@%s" % max_dets,
            "ARs@%s" % max_dets, "ARm@%s" % max_dets, "ARl@%s" % max_dets]


# -- the results cap -------------------------------------------------------------------------
def _dense_positions(image_id, img_ids=None):
    """(int32 positions of image_id in its sorted unique ids -- or in ``img_ids``, sorted
    unique ids that hold every one of them --, number of ids)."""
    ids = unique_ids(image_id) if img_ids is None else img_ids
    pos, ok = IdIndex(ids, image_id.shape[0])(image_id)
    if img_ids is not None and not ok.all():
        return _dense_positions(image_id)
    return pos.astype(np.int32), ids.shape[0]


def cap_per_image(image_id, score, max_dets=300, img_ids=None):
    """lvis-api's ``limit_dets_per_image``: bool [n], the results each image keeps.

    An image with more than ``max_dets`` results keeps its ``max_dets`` highest scores
    (a stable sort: of equal scores the ones listed first); ``max_dets < 0`` keeps
    everything. ``image_id`` int64 [n], ``score`` float64 [n] (finite); ``img_ids``:
    optional sorted unique int64 ids of the images (the ground truth's: no sort of the
    results' ids)."""
    n = image_id.shape[0]
    keep = np.ones(n, bool)
    if max_dets < 0 or n <= max_dets:
        return keep
    pos, n_img = _dense_positions(image_id, img_ids)
    counts = np.bincount(pos, minlength=n_img)
    if counts.max() <= max_dets:
        return keep                       # the common case: nothing to cut
    order, off = _core.group(pos, n_img, np.zeros(n, np.int32), 1, score)
    rank = np.arange(n, dtype=np.int64) - np.repeat(off[:-1], counts)
    keep[order[rank >= max_dets]] = False
    return keep


def capped_order(image_id, score, max_dets=300):
    """int64 positions of the results lvis-api's ``LVISResults`` keeps, in its list's
    order (its ids are 1 + the position in it): images in the order of their first
    result; an image's results in the given order, or, for an image that was cut, by
    descending score (stable). ``max_dets < 0``: the given order (lvis-api skips the
    cut and its regrouping)."""
    n = image_id.shape[0]
    if n == 0 or max_dets < 0:
        return np.arange(n, dtype=np.int64)
    pos, n_img = _dense_positions(image_id)
    counts = np.bincount(pos, minlength=n_img)
    first = np.full(n_img, n, np.int64)
    np.minimum.at(first, pos, np.arange(n, dtype=np.int64))
    img_rank = np.empty(n_img, np.int64)
    img_rank[np.argsort(first, kind="stable")] = np.arange(n_img)
    cut = counts > max_dets if max_dets >= 0 else np.zeros(n_img, bool)
    key = np.where(cut[pos], -score, 0.0)
    order = np.lexsort((np.arange(n), key, img_rank[pos]))
    keep = cap_per_image(image_id, score, max_dets)
    return order[keep[order]]


# -- the federated rule --------------------------------------------------------------------------
def _pair_lookup(I, K):
    """A table over (image, category) positions: dense when small, else sorted keys."""
    return I * K <= (1 << 26)


def federated_flags(gt_img, gt_cat, neg_img, neg_cat, nel_img, nel_cat, dt_img, dt_cat, I, K):
    """(evaluated bool [n_dt], not_exhaustive bool [n_dt]) of detections at (image,
    category) positions ``dt_img`` / ``dt_cat`` (int64, -1: not evaluated): a detection
    is evaluated where its image has ground truth of its category (``gt_img`` /
    ``gt_cat``: the evaluated ground truths) or lists it among its
    ``neg_category_ids`` (pairs ``neg_img`` / ``neg_cat``); ``not_exhaustive`` where its
    image lists it among its ``not_exhaustive_category_ids``."""
    ok = (dt_img >= 0) & (dt_cat >= 0)
    dkey = np.where(ok, dt_img * K + dt_cat, 0)

    def member(img, cat):
        v = (img >= 0) & (cat >= 0)
        keys = img[v] * K + cat[v]
        if _pair_lookup(I, K):
            table = np.zeros(max(I * K, 1), bool)
            table[keys] = True
            return np.take(table, dkey) & ok
        keys = unique_ids(keys)
        if keys.shape[0] == 0:
            return np.zeros(dkey.shape[0], bool)
        p = np.minimum(np.searchsorted(keys, dkey), keys.shape[0] - 1)
        return (np.take(keys, p) == dkey) & ok

    evaluated = member(np.concatenate([gt_img, neg_img]), np.concatenate([gt_cat, neg_cat]))
    return evaluated, member(nel_img, nel_cat)


# -- the pass ----------------------------------------------------------------------------------
class LVISPass:
    """What one LVIS evaluation pass computed.

    ``tables`` (:class:`fastap.tables.Tables` of the evaluated records; ``gt_index`` /
    ``dt_index`` point into the pass's input columns), ``matches`` (one dict per block
    of at most 32 IoU thresholds, see :func:`fastap.protocols.coco.coco_match`, with the
    not-exhaustive rule applied), ``dt_not_exhaustive`` (bool [n_dt], grouped order),
    ``iou_thrs``, ``area_rng``, ``cut`` (the per-image cut given to the kernel: larger
    than any run), ``img_ids``, ``cat_ids`` (int64, sorted), ``num_threads``.
    """

    def __init__(self, tables, matches, dt_not_exhaustive, iou_thrs, area_rng, cut, num_threads=None):
        self.tables, self.matches = tables, matches
        self.dt_not_exhaustive = dt_not_exhaustive
        self.iou_thrs, self.area_rng, self.cut = iou_thrs, area_rng, cut
        self.img_ids, self.cat_ids = tables.img_ids, tables.cat_ids
        self.num_threads = num_threads


def _federated_select(dt, dt_keep, ii, ci, pairs, I, K):
    """The detections lvis-api evaluates: (sel int64 positions in ``dt``, in input order;
    their image and category positions, int32; not_exhaustive bool), those with an area
    in (0, inf), kept by ``dt_keep``, on an evaluated image and category, where the image
    has ground truth of the category or lists it in ``neg_category_ids``. ``pairs``:
    (image, category) positions (int64, -1: not evaluated) of the ground truth, the
    negative and the not-exhaustive lists. One pass in C over a dense (image, category)
    table when the ids allow it."""
    img, cat = dt["image_id"], dt["category_id"]
    if ii.lut is not None and ci.lut is not None and _pair_lookup(I, K) and img.dtype.kind == "i" \
            and cat.dtype.kind == "i" and I < 2 ** 31 - 1 and K < 2 ** 31 - 1:
        table = np.zeros((I, K), np.uint8)       # bit 0: evaluated; bit 1: not exhaustive
        for (a, b), bit in zip(pairs, (1, 1, 2)):
            v = (a >= 0) & (b >= 0)
            table[a[v], b[v]] |= bit
        return _core.pair_select(img, ii.lo, ii.lut, cat, ci.lo, ci.lut, np.asarray(dt["area"], np.float64),
                                 dt_keep, table)
    d_ok = _area_ok(dt["area"])
    if dt_keep is not None:
        d_ok &= dt_keep
    d_img, d_cat = _positions(ii, img), _positions(ci, cat)
    d_img[~d_ok] = -1
    (gi, gc), (ni, nc), (ei, ec) = pairs
    evaluated, nel = federated_flags(gi, gc, ni, nc, ei, ec, d_img, d_cat, I, K)
    d_sel = np.flatnonzero(evaluated)
    return (d_sel, np.take(d_img, d_sel).astype(np.int32), np.take(d_cat, d_sel).astype(np.int32),
            np.take(nel, d_sel))


def _positions(index, values):
    pos, ok = index(values)
    pos[~ok] = -1
    return pos.astype(np.int64, copy=False)


def _area_ok(area):
    """lvis-api's ``get_ann_ids`` filter: ``area > 0 and area < inf`` (strict; NaN fails)."""
    with np.errstate(invalid="ignore"):
        return (area > 0) & (area < np.inf)


def lvis_pass(gt, dt, img_ids, cat_ids, neg_pairs, nel_pairs, iou_thrs, area_rng, gt_rles=None, dt_rles=None,
              dt_rle_pos=None, details=False, num_threads=None, dt_keep=None):
    """lvis-api's ``evaluate()`` over columns.

    ``gt``: columns with ``id``, ``image_id``, ``category_id``, ``bbox``, ``area``,
    ``ignore`` (uint8: lvis-api's ``ignore`` field, truthy -> 1); ``dt``: columns with
    ``image_id``, ``category_id``, ``bbox``, ``area``, ``score``, already capped
    (:func:`cap_per_image`). ``img_ids`` / ``cat_ids``: the evaluated ids;
    ``neg_pairs`` / ``nel_pairs``: (image ids, category ids) int64 arrays, one pair per
    entry of an image's ``neg_category_ids`` / ``not_exhaustive_category_ids``.
    ``gt_rles`` / ``dt_rles``: RLE sets of the columns (same order) for mask IoU, else
    box IoU; ``dt_rle_pos``: int64 position in ``dt_rles`` of each record of ``dt``
    (default: the same position). ``dt_keep``: bool [n_dt], the records of ``dt`` the
    cap kept (default: all; the columns are then not copied to drop the others).
    ``tables.dt_index`` / ``tables.gt_index`` are positions in ``dt`` / ``gt``.
    Returns an :class:`LVISPass`."""
    iou_thrs, _, _, area_rng = check_params(iou_thrs, [0.0], [1], area_rng)
    img_ids = unique_ids(np.asarray(img_ids, dtype=np.int64).reshape(-1))
    cat_ids = unique_ids(np.asarray(cat_ids, dtype=np.int64).reshape(-1))
    I, K = img_ids.shape[0], cat_ids.shape[0]
    ii, ci = IdIndex(img_ids, dt["image_id"].shape[0]), IdIndex(cat_ids, dt["image_id"].shape[0])
    g_sel = np.flatnonzero(_area_ok(gt["area"]))
    g_img, g_cat = _positions(ii, gt["image_id"][g_sel]), _positions(ci, gt["category_id"][g_sel])
    g_sel = g_sel[(g_img >= 0) & (g_cat >= 0)]
    pairs = ((_positions(ii, gt["image_id"][g_sel]), _positions(ci, gt["category_id"][g_sel])),
             (_positions(ii, neg_pairs[0]), _positions(ci, neg_pairs[1])),
             (_positions(ii, nel_pairs[0]), _positions(ci, nel_pairs[1])))
    d_sel, d_img, d_cat, nel = _federated_select(dt, dt_keep, ii, ci, pairs, I, K)
    masks = gt_rles is not None
    g = {k: np.take(gt[k], g_sel, axis=0) for k in ("id", "image_id", "category_id", "bbox", "area")}
    g["iscrowd"] = np.zeros(g_sel.shape[0], np.uint8)        # lvis-api: no crowd rule
    # the detections' image and category positions are known: grouped without a second
    # lookup, and each column gathered once, from the input columns
    tables = build_tables(g, dt, img_ids, cat_ids, True, dt_boxes=not masks, dt_positions=(d_sel, d_img, d_cat))
    tables.gt_index = np.take(g_sel, tables.gt_index)
    tables.core.set_gt_ignore(np.ascontiguousarray(np.take(gt["ignore"], tables.gt_index), dtype=np.uint8))
    cut = max(1, int(tables.core.n_dt))       # every detection of an (image, category): no cut
    if masks:
        d_pos = tables.dt_index
        if dt_rle_pos is not None:
            d_pos = np.take(np.asarray(dt_rle_pos, dtype=np.int64), d_pos)
        _core.rle_iou_tables(tables.core, gt_rles, tables.gt_index, dt_rles, d_pos, cut,
                             num_threads=num_threads)
    matches = coco_match(tables, iou_thrs, [cut], area_rng, details=details, num_threads=num_threads)
    ne = np.take(nel, tables.dt_order)
    ne_idx = np.flatnonzero(ne)
    if ne_idx.shape[0]:
        for m in matches:
            # lvis-api: an unmatched detection of a category the image is not exhaustively
            # annotated for is ignored (its false-positive bits become ignore bits)
            if details:
                m["dt_ignore"][:, ne_idx] |= m["dt_fp"][:, ne_idx]
            m["dt_fp"][:, ne_idx] = 0
    return LVISPass(tables, matches, ne, iou_thrs, area_rng, cut, num_threads)


def lvis_accumulate(ps, rec_thrs):
    """lvis-api's ``accumulate()``: (precision float64 [T, R, K, A], recall float64
    [T, K, A]), -1 where a (category, area range) has no non-ignored ground truth."""
    rec_thrs = np.asarray(rec_thrs, dtype=np.float64).reshape(-1)
    if rec_thrs.shape[0] == 0 or not np.isfinite(rec_thrs).all():
        raise InvalidAnnotationError("rec_thrs should be a non-empty list of finite numbers")
    precision, recall, _ = coco_accumulate(ps.tables, ps.matches, ps.iou_thrs, rec_thrs, [ps.cut], ps.area_rng,
                                           num_threads=ps.num_threads, with_scores=False)
    return np.ascontiguousarray(precision[..., 0]), np.ascontiguousarray(recall[..., 0])


# -- the summary -------------------------------------------------------------------------------
def freq_groups(frequencies, img_count_lbl=FREQUENCIES, cat_ids=None):
    """lvis-api's ``freq_groups``: for each label of ``img_count_lbl``, the indices of
    the categories (in the evaluated order) whose ``frequency`` it is. An unknown or
    missing frequency is an error naming the category."""
    groups = [[] for _ in img_count_lbl]
    lbl = list(img_count_lbl)
    for k, f in enumerate(frequencies):
        if f not in lbl:
            cid = "" if cat_ids is None else " (id %s)" % (cat_ids[k],)
            raise InvalidAnnotationError("category %d%s: field 'frequency' should be one of %s, got %r"
                                         % (k, cid, lbl, f))
        groups[lbl.index(f)].append(k)
    return groups


def _mean_valid(s):
    return -1 if len(s[s > -1]) == 0 else np.mean(s[s > -1])


def _summary_value(precision, recall, iou_thrs, area_lbl, groups, kind, iou_thr=None, area="all", group=None):
    """One of lvis-api's ``_summarize`` values: the same indexing and NumPy mean."""
    aidx = [i for i, lbl in enumerate(area_lbl) if lbl == area]
    s = precision if kind == "ap" else recall
    if len(aidx) == 1 and type(s) is np.ndarray and s.dtype == np.float64 and s.ndim == (4 if kind == "ap" else 3):
        # the same values in the same order, summed as NumPy sums them: no copies
        ts = np.arange(s.shape[0]) if iou_thr is None else np.where(iou_thr == iou_thrs)[0]
        x = s if kind == "ap" else s[:, None]
        m, v = _core.mean_valid(x, ts, groups[group] if group is not None else None, aidx[0])
        return -1 if m == 0 else np.float64(v)
    if iou_thr is not None:
        s = s[np.where(iou_thr == iou_thrs)[0]]
    if kind == "ap":
        s = s[:, :, groups[group], aidx] if group is not None else s[:, :, :, aidx]
    else:
        s = s[:, :, aidx]
    return _mean_valid(s)


def summarize(precision, recall, iou_thrs, area_lbl, groups, max_dets=300):
    """lvis-api's ``summarize()``: an OrderedDict of the 13 values under
    :func:`result_keys` (NumPy floats, or -1 where nothing is valid)."""
    out = OrderedDict()
    v = lambda kind, **kw: _summary_value(precision, recall, iou_thrs, area_lbl, groups, kind, **kw)  # noqa: E731
    out["AP"] = v("ap")
    out["AP50"] = v("ap", iou_thr=0.50)
    out["AP75"] = v("ap", iou_thr=0.75)
    out["APs"] = v("ap", area="small")
    out["APm"] = v("ap", area="medium")
    out["APl"] = v("ap", area="large")
    out["APr"] = v("ap", group=0)
    out["APc"] = v("ap", group=1)
    out["APf"] = v("ap", group=2)
    out["AR@{}".format(max_dets)] = v("ar")
    for area in ("small", "medium", "large"):
        out["AR{}@{}".format(area[0], max_dets)] = v("ar", area=area)
    return out


def result_lines(results, iou_thrs, max_dets=300):
    """The lines lvis-api's ``print_results()`` prints for ``results``."""
    fmt = " {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} catIds={:>3s}] = {:0.3f}"
    lines = []
    for key, value in results.items():
        title, kind = ("Average Precision", "(AP)") if "AP" in key else ("Average Recall", "(AR)")
        if len(key) > 2 and key[2].isdigit():
            iou = "{:0.2f}".format(float(key[2:]) / 100)
        else:
            iou = "{:0.2f}:{:0.2f}".format(iou_thrs[0], iou_thrs[-1])
        group = key[2] if len(key) > 2 and key[2] in ("r", "c", "f") else "all"
        area = key[2] if len(key) > 2 and key[2] in ("s", "m", "l") else "all"
        lines.append(fmt.format(title, kind, iou, area, max_dets, group, value))
    return lines


def image_pairs(lists, img_ids, field):
    """(image ids, category ids) int64 pairs of ``lists`` (image id -> list of category
    ids: an image's ``neg_category_ids`` or ``not_exhaustive_category_ids``) over
    ``img_ids``; an image without an entry is an error naming it and ``field``."""
    return list_pairs(img_ids, [lists.get(i) for i in img_ids], field)


def list_pairs(img_ids, lsts, field):
    """:func:`image_pairs` from the lists of ``img_ids`` in order (None: missing)."""
    try:
        lens = [len(x) for x in lsts]
    except TypeError:
        k = next(k for k, x in enumerate(lsts) if not hasattr(x, "__len__"))
        if lsts[k] is None:
            raise InvalidAnnotationError("image %r: missing field '%s' (LVIS ground truth lists it for every "
                                         "image)" % (img_ids[k], field)) from None
        raise InvalidAnnotationError("images: field '%s' should hold lists of integer category ids" % field) \
            from None
    try:
        ca = np.asarray(list(chain.from_iterable(lsts)), dtype=np.int64).reshape(-1)
        im = np.repeat(np.asarray(img_ids, dtype=np.int64).reshape(-1), lens)
    except (TypeError, ValueError, OverflowError):
        raise InvalidAnnotationError("images: field '%s' should hold lists of integer category ids" % field) from None
    if ca.shape[0] != im.shape[0]:
        raise InvalidAnnotationError("images: field '%s' should hold lists of integer category ids" % field)
    return im, ca


PER_CLASS_FIELDS = ("category_id", "frequency", "ap", "ap50", "ap75", "ap_small", "ap_medium", "ap_large", "ar")


def per_class_table(precision, recall, cat_ids, frequencies, iou_thrs, area_lbl):
    """Per-category LVIS metrics as a NumPy structured array, one row per category:
    ``category_id`` int64, ``frequency`` ("r", "c", "f"), and the mean of the valid
    (> -1) entries of ``precision[t, :, k, a]`` for ``ap`` (IoU .50:.95), ``ap50``,
    ``ap75``, ``ap_small``, ``ap_medium``, ``ap_large`` (area "all" unless named),
    ``recall[t, k, a]`` for ``ar``; NaN where the category has no ground truth there."""
    # the COCO table of the same numbers (LVIS has no maxDets axis: one setting added)
    base = coco_per_class_table(np.asarray(precision)[..., None], np.asarray(recall)[..., None], cat_ids,
                                iou_thrs, area_lbl, [1])
    dtype = [(f, np.int64 if f == "category_id" else "U1" if f == "frequency" else np.float64)
             for f in PER_CLASS_FIELDS]
    out = np.zeros(len(cat_ids), dtype=dtype)
    out["frequency"] = list(frequencies)
    for f in base.dtype.names:
        out[f] = base[f]
    return out

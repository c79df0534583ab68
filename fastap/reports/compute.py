"""Reports from one evaluation pass: operating points, confusion matrix, error analysis.

Every function here takes what :func:`fastap.evaluate` (an :class:`~fastap.EvalResult`)
or :class:`fastap.COCOeval` (after ``evaluate()``) computed -- the grouped tables and
the per-detection match bitmasks -- and returns NumPy arrays; nothing is matched again
except where a function says so (the error analysis re-matches once, at one IoU
threshold and one area range, to learn which ground truth each detection took). No
Python loop runs per detection or per image: the per-image and per-detection work is
in C (``csrc/reports.c``: the confusion matching, TIDE's IoU summaries, the AP
re-accumulations of the error analysis with pycocotools' arithmetic; the accumulation
order by ``csrc/group.c``'s stable sort, categories in parallel), the rest is
vectorised NumPy.

Every iou type: bbox, segm, boundary and keypoints (OKS). The confusion matrix and the
error analysis compare records of different categories, which matching never did; on
masks and keypoints those overlaps come from :func:`fastap.geometry.pair_ious` (the
evaluation's masks / keypoints and C kernels), for groups of whole images of about
:data:`PAIR_BUDGET` pairs (one Python step per group, not per image).

* :func:`operating_points` -- precision, recall and F1 at every score threshold, per
  category and over all detections, and the threshold that maximises F1.
* :func:`confusion_matrix` -- (K+1) x (K+1) counts with a background row and column,
  from ultralytics' class-agnostic matching rule.
* :func:`error_analysis` -- TIDE's error types (Cls, Loc, Both, Dupe, Bkg, Miss) and
  the AP each one costs (dAP).
"""
from __future__ import annotations

import numpy as np

from .. import _core
from ..errors import InvalidAnnotationError
from ..evalpass import EvalPass
from ..geometry import has_pair_ious, pair_ious

__all__ = ["operating_points", "confusion_matrix", "error_analysis", "OperatingPoints",
           "ConfusionMatrix", "ErrorAnalysis", "ERROR_TYPES", "SPECIAL_ERROR_TYPES", "pass_of", "measure_name",
           "PAIR_BUDGET"]

ERROR_TYPES = ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")
SPECIAL_ERROR_TYPES = ("FalsePos", "FalseNeg")

# masks and keypoints: the overlaps of (detection, ground truth) pairs of any classes are
# computed for groups of whole images of at most about this many pairs at a time (64 MB)
PAIR_BUDGET = 1 << 23


def measure_name(iou_type):
    """What the reports' thresholds compare: "OKS" for keypoints, "IoU" otherwise (box,
    mask or boundary IoU)."""
    return "OKS" if iou_type == "keypoints" else "IoU"


def pass_of(obj):
    """The :class:`~fastap.evalpass.EvalPass` behind an EvalResult or a COCOeval after
    ``evaluate()`` (their ``eval_pass``), or ``obj`` itself when it is one."""
    if isinstance(obj, EvalPass):
        return obj
    ps = getattr(obj, "eval_pass", None)
    if isinstance(ps, EvalPass):
        return ps
    raise InvalidAnnotationError(
        "reports need the matching results of an evaluation: pass the EvalResult of "
        "fastap.evaluate(..., protocol='coco') or a fastap.COCOeval after evaluate() "
        "(got %s)" % type(obj).__name__)


# ----------------------------------------------------------------------------- operating points

class OperatingPoints:
    """Precision, recall and F1 at every score threshold (see :func:`operating_points`).

    Per category ``k`` (``cat_ids[k]``), the curve is the slice
    ``offsets[k]:offsets[k+1]`` of ``threshold``, ``precision``, ``recall``, ``f1``
    (float64) and ``tp``, ``fp`` (int64), one point per distinct score in descending
    order (use :meth:`curve`). ``best`` is a structured array, one row per category:
    ``category_id``, ``n_gt``, ``threshold``, ``precision``, ``recall``, ``f1``, ``tp``,
    ``fp`` at the threshold of highest F1 (NaN / -1 where the category has no
    detection or no ground truth). ``overall`` (a dict of the same arrays) and
    ``overall_best`` (a dict) pool every category's detections (micro average).
    """

    iou_type = "bbox"       # what the evaluation matched: "bbox", "segm", "boundary", "keypoints"

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def curve(self, category_id):
        """Dict of the curve arrays of one category (by id)."""
        k = np.flatnonzero(self.cat_ids == category_id)
        if not k.size:
            raise KeyError(category_id)
        s = slice(int(self.offsets[k[0]]), int(self.offsets[k[0] + 1]))
        return {f: getattr(self, f)[s] for f in ("threshold", "precision", "recall", "f1", "tp", "fp")}

    def to_dict(self):
        """JSON-ready: the best point per category and overall (curves left out)."""
        return {"iou_type": self.iou_type, "measure": measure_name(self.iou_type),
                "iou_threshold": self.iou_threshold, "area": self.area, "max_dets": self.max_dets,
                "overall_best": {k: _num(v) for k, v in self.overall_best.items()},
                "per_class_best": _rows(self.best)}

    def __repr__(self):
        b = self.overall_best
        return ("OperatingPoints(%s=%.2f, %d categories, overall best F1 %.4f at score %.4g)"
                % (measure_name(self.iou_type), self.iou_threshold, len(self.cat_ids), b["f1"], b["threshold"]))


def _num(v):
    if isinstance(v, (np.floating, float)):
        return None if np.isnan(v) else float(v)
    if isinstance(v, (np.integer, int)):
        return int(v)
    return v


def _rows(table):
    return [{k: _num(v) for k, v in zip(table.dtype.names, row)} for row in table.tolist()]


def _curve_points(score, tp, fp, seg):
    """Cumulative TP/FP at the last detection of each run of equal (seg, score), the
    input being sorted by (seg, -score). Returns (point positions, tp, fp)."""
    n = score.shape[0]
    ctp = np.cumsum(tp, dtype=np.int64)
    cfp = np.cumsum(fp, dtype=np.int64)
    last = np.ones(n, bool)
    if n > 1:
        last[:-1] = (seg[1:] != seg[:-1]) | (score[1:] != score[:-1])
    pos = np.flatnonzero(last)
    # subtract what the earlier segments accumulated
    first = np.ones(n, bool)
    if n > 1:
        first[1:] = seg[1:] != seg[:-1]
    starts = np.flatnonzero(first)
    base_tp = np.where(starts > 0, ctp[starts - 1], 0)
    base_fp = np.where(starts > 0, cfp[starts - 1], 0)
    which = np.cumsum(first) - 1
    return pos, ctp[pos] - base_tp[which[pos]], cfp[pos] - base_fp[which[pos]]


def _prf(tp, fp, n_gt):
    with np.errstate(divide="ignore", invalid="ignore"):
        p = tp / (tp + fp).astype(np.float64)
        r = np.where(n_gt > 0, tp / np.maximum(n_gt, 1).astype(np.float64), np.nan)
        f1 = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
        f1 = np.where(np.isnan(r), np.nan, f1)
    return p, r, f1


def operating_points(result, iou_threshold=0.5, area="all", max_dets=None):
    """Precision, recall and F1 at every score threshold, per category and overall.

    ``result``: an :class:`~fastap.EvalResult` of ``evaluate(protocol="coco")`` or a
    :class:`~fastap.COCOeval` after ``evaluate()``. ``iou_threshold``: a threshold of the
    evaluation's ``iouThrs`` reads the pass's match bits (no work); any other value in
    [0, 1] matches once more at that threshold. ``area``: an area label (or index);
    ``max_dets``: detections kept per image and category (default: the last maxDets).

    Definitions (pycocotools' matching and ignore rules at that IoU threshold, area and
    maxDets): detections matched to an ignored ground truth, or unmatched and outside
    the area range, are left out, as in pycocotools' accumulate. A category's detections
    are taken in descending score (ties: image order, then rank in the image -- the
    order of pycocotools' accumulate); at each distinct score ``s`` (ties grouped, so
    a point keeps every detection with score >= s) ``tp`` and ``fp`` are the cumulative
    counts, ``precision = tp / (tp + fp)``, ``recall = tp / n_gt`` (``n_gt``: the
    non-ignored ground truths) and ``f1 = 2 P R / (P + R)`` (0 when P + R = 0; NaN
    without ground truth). These are the raw cumulative values, not pycocotools'
    interpolated envelope (its ``precision`` array is that envelope sampled at
    ``recThrs``). The best point is the highest F1; ties go to the higher threshold.

    ``overall`` is the micro average: every category's detections pooled in one
    descending-score order (ties: category, then the order above), TP and FP summed,
    recall over all categories' non-ignored ground truths.

    Returns :class:`OperatingPoints`. Shapes: ``cat_ids`` int64 [K]; curves [N] with
    per-category ``offsets`` int64 [K + 1]; ``best`` structured [K].
    """
    ps = pass_of(result)
    a = ps.area_index(area)
    tp, fp, npig = ps.bits(iou_threshold, a, max_dets)
    K = ps.K
    acc = ps.acc_order()
    sel = acc[(tp | fp)[acc]]            # (category, -score, image, rank), kept detections
    c = ps.dt_cat[sel]
    s = ps.dt_score[sel]
    t_s, f_s = tp[sel], fp[sel]
    pos, ctp, cfp = _curve_points(s, t_s, f_s, c)
    pc = c[pos]
    p, r, f1 = _prf(ctp, cfp, npig[pc] if K else np.zeros(0, np.int64))
    offsets = np.searchsorted(pc, np.arange(K + 1)).astype(np.int64)

    best = np.zeros(K, dtype=[("category_id", np.int64), ("n_gt", np.int64), ("threshold", np.float64),
                              ("precision", np.float64), ("recall", np.float64), ("f1", np.float64),
                              ("tp", np.int64), ("fp", np.int64)])
    best["category_id"] = ps.cat_ids[:K]
    best["n_gt"] = npig[:K]
    for f in ("threshold", "precision", "recall", "f1"):
        best[f] = np.nan
    best["tp"] = best["fp"] = -1
    if pos.size:
        key = np.where(np.isnan(f1), -1.0, f1)
        # highest F1 per category, first (highest threshold) on ties
        seg = np.flatnonzero(np.r_[True, pc[1:] != pc[:-1]])        # each category's first point
        top = np.maximum.reduceat(key, seg)
        hit = np.flatnonzero(key == np.repeat(top, np.diff(np.r_[seg, pc.size])))
        first = np.r_[True, pc[hit][1:] != pc[hit][:-1]]
        bi = hit[first]
        bk = pc[bi]
        ok = ~np.isnan(f1[bi])
        bi, bk = bi[ok], bk[ok]
        best["threshold"][bk] = s[pos][bi]
        best["precision"][bk] = p[bi]
        best["recall"][bk] = r[bi]
        best["f1"][bk] = f1[bi]
        best["tp"][bk] = ctp[bi]
        best["fp"][bk] = cfp[bi]

    # micro: all detections in one descending-score order. A point (a distinct score
    # u) counts the detections with score >= u whatever their order among equal
    # scores, so the counts come from sorted scores (no permutation needed)
    u = np.unique(s)[::-1]
    st, sf = np.sort(s[t_s]), np.sort(s[f_s])
    tp2 = (st.size - np.searchsorted(st, u, side="left")).astype(np.int64)
    fp2 = (sf.size - np.searchsorted(sf, u, side="left")).astype(np.int64)
    n_all = int(npig.sum())
    p2, r2, f2 = _prf(tp2, fp2, np.full(u.shape[0], n_all))
    overall = {"threshold": u, "precision": p2, "recall": r2, "f1": f2, "tp": tp2, "fp": fp2}
    ob = {"threshold": np.nan, "precision": np.nan, "recall": np.nan, "f1": np.nan, "tp": -1, "fp": -1,
          "n_gt": n_all}
    if u.size and n_all > 0:
        j = int(np.argmax(f2))        # first maximum: the highest threshold
        ob.update(threshold=float(u[j]), precision=float(p2[j]), recall=float(r2[j]), f1=float(f2[j]),
                  tp=int(tp2[j]), fp=int(fp2[j]))
    return OperatingPoints(cat_ids=ps.cat_ids[:K].copy(), n_gt=npig[:K].copy(), offsets=offsets,
                           threshold=s[pos], precision=p, recall=r, f1=f1, tp=ctp, fp=cfp,
                           best=best, overall=overall, overall_best=ob,
                           iou_threshold=float(iou_threshold), area=ps.area_lbl[a], max_dets=ps.cut(max_dets),
                           names=ps.names, iou_type=ps.iou_type)


# ----------------------------------------------------------------------------- confusion matrix

class ConfusionMatrix:
    """Counts of (true class, predicted class) pairs (see :func:`confusion_matrix`).

    ``matrix`` int64 [K + 1, K + 1]: row = true class, column = predicted class, in the
    order of ``cat_ids`` int64 [K]; row K is "background" (detections that matched no
    ground truth: false positives), column K is "background" (ground truths that no
    detection matched: missed). ``matrix[K, K]`` is always 0.
    """

    iou_type = "bbox"       # what the evaluation matched: "bbox", "segm", "boundary", "keypoints"

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def normalized(self, axis=1):
        """float64 [K + 1, K + 1]: rows (axis=1, "what did each true class become")
        or columns (axis=0) divided by their sums; an empty row/column stays 0."""
        m = self.matrix.astype(np.float64)
        s = m.sum(axis=axis, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(s > 0, m / np.where(s > 0, s, 1), 0.0)

    def to_dict(self):
        return {"iou_type": self.iou_type, "measure": measure_name(self.iou_type),
                "iou_threshold": self.iou_threshold, "score_threshold": self.score_threshold,
                "labels": [int(c) for c in self.cat_ids] + ["background"],
                "rows": "true class", "columns": "predicted class",
                "matrix": self.matrix.tolist()}

    def __repr__(self):
        return ("ConfusionMatrix(%d classes + background, %s > %g, score > %g, %d matched)"
                % (len(self.cat_ids), measure_name(self.iou_type), self.iou_threshold,
                   self.score_threshold,
                   int(np.trace(self.matrix[:-1, :-1]))))


def _class_index(ps, which):
    """Class index (into the sorted evaluated category ids) of each grouped record."""
    cats = np.sort(np.asarray(ps.tables.eval_cat_ids, dtype=np.int64))
    if ps.use_cats:
        return (ps.gt_cat if which == "gt" else ps.dt_cat).astype(np.int32), cats
    cols, idx = (ps.gt, ps.tables.gt_index) if which == "gt" else (ps.dt, ps.tables.dt_index)
    return np.searchsorted(cats, np.take(cols["category_id"], idx)).astype(np.int32), cats


def _by_image(img, I, score=None, pre=None):
    """Permutation grouping records by image index (stable; by descending score inside
    an image when `score` is given) and the int64 offsets [I + 1]."""
    img = np.ascontiguousarray(img, dtype=np.int32)
    return _core.group(img, max(I, 1), np.zeros(img.shape[0], np.int32), 1, score)


def confusion_matrix(result, iou_threshold=0.5, score_threshold=0.25):
    """(K+1) x (K+1) confusion matrix with a background class.

    The rule is ultralytics' ``ConfusionMatrix.process_batch`` (class-agnostic
    matching), applied to each image of the evaluation:

    1. keep the detections with ``score > score_threshold`` (strict) and the ground
       truths that are not crowds (``iscrowd``: COCO's "ignore" regions are left out);
    2. candidate pairs are (detection, ground truth) of any classes with
       ``IoU > iou_threshold`` (strict), the IoU being what the evaluation matched with
       (see "Overlaps" below);
    3. each detection keeps its candidate of highest IoU (ties: the ground truth that
       comes first in the grouped input); then each ground truth keeps, among the
       detections that kept it, the one of highest IoU (ties: the higher-scoring
       detection) -- a one-to-one matching; a detection whose best ground truth went
       to another detection is unmatched (it does not fall back to its second best);
    4. a matched pair counts at ``[true class, predicted class]``; an unmatched
       detection at ``[background, predicted class]``; an unmatched ground truth at
       ``[true class, background]``.

    Every detection above the score threshold counts (no per-image maxDets cut).
    ``result``: an EvalResult (COCO protocol) or a COCOeval after ``evaluate()``; the
    images and categories are the evaluated ones. Returns :class:`ConfusionMatrix`
    (rows: true class, columns: predicted; note ultralytics stores the transpose).

    Overlaps (here and in :func:`error_analysis`): pycocotools' box IoU for ``bbox``;
    for ``segm`` its mask IoU (``maskUtils.iou``), for ``boundary`` min(mask IoU,
    boundary IoU), for ``keypoints`` its OKS (``computeOks``: the ground truth's
    keypoints, area and box, the evaluation's sigmas) -- always without the crowd rule
    (crowds are left out) and between records of any categories, computed from the
    evaluation's own masks / keypoints by the same C kernels, a few images at a time
    (about :data:`PAIR_BUDGET` pairs: memory stays bounded on large datasets).
    """
    ps = pass_of(result)
    _need_pairs(ps, "confusion_matrix()")
    thr, conf = float(iou_threshold), float(score_threshold)
    gcls, cats = _class_index(ps, "gt")
    dcls, _ = _class_index(ps, "dt")
    K = cats.shape[0]
    gk = np.flatnonzero(ps.gt_crowd == 0)
    dk = np.flatnonzero(ps.dt_score > conf)
    go, goff = _by_image(ps.tables.gt_img[gk], ps.I)
    do, doff = _by_image(ps.tables.dt_img[dk], ps.I, np.ascontiguousarray(ps.dt_score[dk]))
    gsel, dsel = gk[go], dk[do]
    if ps.I == 0:
        goff = doff = np.zeros(1, np.int64)
    if ps.box_iou:
        m = _core.confusion_match(doff, np.ascontiguousarray(ps.dt_box[dsel]), goff,
                                  np.ascontiguousarray(ps.gt_box[gsel]), thr, num_threads=ps.num_threads)
    else:
        m = _confusion_by_pairs(ps, dsel, doff, gsel, goff, thr)
    matched = m >= 0
    true_c = np.full(dsel.shape[0], K, np.int64)
    true_c[matched] = gcls[gsel[m[matched]]]
    pred_c = dcls[dsel].astype(np.int64)
    gt_hit = np.zeros(gsel.shape[0], bool)
    gt_hit[m[matched]] = True
    rows = np.concatenate([true_c, gcls[gsel[~gt_hit]].astype(np.int64)])
    cols = np.concatenate([pred_c, np.full(int((~gt_hit).sum()), K, np.int64)])
    mat = np.bincount(rows * (K + 1) + cols, minlength=(K + 1) ** 2).reshape(K + 1, K + 1)
    return ConfusionMatrix(matrix=mat.astype(np.int64), cat_ids=cats, iou_threshold=thr,
                           score_threshold=conf, names=ps.names, iou_type=ps.iou_type)


def _need_pairs(ps, what):
    """Refuse, before any work, a pass whose overlaps of any two records cannot be had."""
    if not has_pair_ious(ps.tables):
        pair_ious(ps.tables, np.zeros(0, np.int64), np.zeros(0, np.int64), what)


def _image_chunks(doff, goff):
    """[(i0, i1)]: runs of images whose detection x ground-truth pairs number about
    PAIR_BUDGET at most (an image with more is a run alone); images without pairs are
    left out of the count."""
    cost = np.diff(doff) * np.diff(goff)
    if not cost.shape[0]:
        return []
    cid = (np.cumsum(cost) - cost) // max(int(PAIR_BUDGET), 1)
    starts = np.flatnonzero(np.r_[True, cid[1:] != cid[:-1]])
    return list(zip(starts.tolist(), np.r_[starts[1:], cost.shape[0]].tolist()))


def _confusion_by_pairs(ps, dsel, doff, gsel, goff, thr):
    """confusion_match on masks or keypoints: the overlaps of each image's pairs
    (:func:`fastap.geometry.pair_ious`), a few images at a time."""
    m = np.full(dsel.shape[0], -1, np.int32)
    for i0, i1 in _image_chunks(doff, goff):
        d0, d1, g0, g1 = int(doff[i0]), int(doff[i1]), int(goff[i0]), int(goff[i1])
        if d1 == d0 or g1 == g0:
            continue
        iou, off = pair_ious(ps.tables, dsel[d0:d1], gsel[g0:g1], "confusion_matrix()", ps.num_threads)
        mc = _core.confusion_match(doff[i0:i1 + 1] - d0, None, goff[i0:i1 + 1] - g0, None, thr,
                                   num_threads=ps.num_threads, iou=iou, dt_iou_off=off)
        m[d0:d1] = np.where(mc >= 0, mc + g0, -1)
    return m


# ----------------------------------------------------------------------------- error analysis

class ErrorAnalysis:
    """TIDE-style error breakdown (see :func:`error_analysis`).

    ``ap``: the baseline mAP (fraction, not TIDE's percent); ``dap``: dict error type ->
    mAP gained by fixing that type alone (clamped at 0, as TIDE does); ``special``: dict
    ``FalsePos`` / ``FalseNeg`` -> dAP; ``fixed_ap``: the mAP after each fix (not
    clamped); ``counts``: dict type -> number of errors; ``per_class``: structured array
    [K] (``category_id`` and one count column per type); ``dt_error`` int8 [n_dt] in
    the input order of the detections: -1 for a detection that is not a false positive
    (or was not evaluated), else the index of its type in :data:`ERROR_TYPES`;
    ``gt_missed`` bool [n_gt] in the input order of the ground truth.
    """

    iou_type = "bbox"       # what the evaluation matched: "bbox", "segm", "boundary", "keypoints"

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def to_dict(self):
        return {"iou_type": self.iou_type, "measure": measure_name(self.iou_type),
                "pos_threshold": self.pos_threshold, "bg_threshold": self.bg_threshold, "area": self.area,
                "max_dets": self.max_dets, "ap": _num(self.ap),
                "dap": {k: _num(v) for k, v in self.dap.items()},
                "special": {k: _num(v) for k, v in self.special.items()},
                "counts": {k: int(v) for k, v in self.counts.items()}}

    def summary(self):
        """Two text tables, TIDE's layout, dAP in AP points (x100)."""
        head = "  ".join("%6s" % k for k in ERROR_TYPES)
        vals = "  ".join("%6.2f" % (100 * self.dap[k]) for k in ERROR_TYPES)
        cnts = "  ".join("%6d" % self.counts[k] for k in ERROR_TYPES)
        sp = "  ".join("%8s %6.2f" % (k, 100 * self.special[k]) for k in SPECIAL_ERROR_TYPES)
        return "\n".join(["%s AP @ %d: %.2f   (TIDE-style errors on %s, dAP in AP points)"
                          % (self.iou_type, round(100 * self.pos_threshold), 100 * self.ap,
                             measure_name(self.iou_type)),
                          "  Type " + head, "   dAP " + vals, " count " + cnts, "special: " + sp])

    def __repr__(self):
        return "ErrorAnalysis(ap=%.4f, %s)" % (self.ap, ", ".join("%s=%.4f" % (k, v) for k, v in self.dap.items()))


def _map_sorted(cat, tp, fp, npig, rec_thrs, K):
    """pycocotools' mAP at one (IoU, area, maxDets) from per-detection TP / FP flags
    already in accumulation order (cat: category index, ascending): cumulative counts
    as float, precision tp / (tp + fp + eps), the envelope from the right, samples at
    recThrs by searchsorted 'left' (0 past the end), -1 for a category without
    non-ignored ground truth; mAP = mean of the valid samples (summarize()'s
    reduction). The same float operations as pycocotools, so the baseline equals
    ``stats[1]`` bit for bit."""
    starts = np.searchsorted(cat, np.arange(K + 1)).astype(np.int64)
    q = _core.ap_sorted(starts, np.ascontiguousarray(tp), np.ascontiguousarray(fp),
                        np.ascontiguousarray(npig[:K], dtype=np.int64), rec_thrs)
    v = q[q > -1]
    return float(np.mean(v)) if v.size else float("nan")


def _mean_valid(q):
    """summarize()'s reduction: the mean of the entries > -1 (NaN when none)."""
    v = q[q > -1]
    return float(np.mean(v)) if v.size else float("nan")


def _resort_moved(cat, score, runs, moved, new_cat):
    """Stable order of an accumulation-ordered list by (category, -score) after the
    entries at positions `moved` (int64, distinct) change category to `new_cat`: the
    result of ``np.lexsort((-score, cat2))`` (cat2: `cat` with the changes), computed
    by inserting the moved entries into the unchanged ones instead of sorting again.
    cat int32 [n] ascending, score float64 [n] descending inside each category run,
    runs int64 [K + 1] the runs' offsets. Returns (order int64 [n], cat2[order])."""
    n = cat.shape[0]
    keep = np.ones(n, bool)
    keep[moved] = False
    stay = np.flatnonzero(keep)
    new_cat = np.asarray(new_cat, dtype=cat.dtype)
    # the moved entries among themselves: (new category, -score, old position)
    mo = np.lexsort((moved, -score[moved], new_cat))
    moved, new_cat = moved[mo], new_cat[mo]
    ms = score[moved]
    # where each goes among the unchanged entries: after every unchanged entry of a
    # lower category, and inside its new category after the higher scores; on a score
    # tie, after the tied entries when it came from a later category (a larger old
    # position), before them otherwise (the moved entry never starts in that run)
    s_off = np.searchsorted(stay, runs)               # the runs in `stay`
    ins = np.empty(moved.shape[0], np.int64)
    neg = -score[stay]
    for k in np.unique(new_cat).tolist():
        j = np.flatnonzero(new_cat == k)
        a, b = int(s_off[k]), int(s_off[k + 1])
        seg = neg[a:b]                                # ascending
        later = moved[j] >= runs[k + 1]
        left = np.searchsorted(seg, -ms[j], side="left")
        right = np.searchsorted(seg, -ms[j], side="right")
        ins[j] = a + np.where(later, right, left)
    order = np.insert(stay, ins, moved)
    cat2 = cat.copy()
    cat2[moved] = new_cat
    return order, cat2[order]


def error_analysis(result, pos_threshold=0.5, bg_threshold=0.1, area="all", max_dets=None):
    """TIDE's error analysis (Bolya et al., ECCV 2020) from the evaluation's matching.

    The same rules on every iou type: "IoU" below is the overlap the evaluation matched
    with (box IoU, mask IoU, boundary IoU, or OKS for keypoints: see
    :func:`confusion_matrix`), so on keypoints the thresholds ``pos_threshold`` (0.5) and
    ``bg_threshold`` (0.1) are OKS values, and a shifted keypoint set with an OKS in
    [0.1, 0.5] against an unmatched person of its class is a Loc error.

    Matching is pycocotools' at IoU ``pos_threshold`` (the foreground threshold), area
    range ``area`` and ``max_dets`` per image and category (default: the last maxDets);
    the baseline ``ap`` is COCO's AP at that threshold (AP50 by default, equal to
    ``stats[1]``). Each false positive gets the first type that applies, in TIDE's
    order, from its IoUs with the image's non-crowd ground truths:

    * **Loc**: its best IoU with a ground truth of its own class is in
      ``[bg_threshold, pos_threshold]``;
    * **Cls**: its best IoU with a ground truth of another class is ``>= pos_threshold``;
    * **Dupe**: its best IoU with an already matched ground truth of its class is
      ``>= pos_threshold``;
    * **Bkg**: its best IoU with any ground truth is ``<= bg_threshold``;
    * **Both**: anything else (wrong class and poorly localised);

    and **Miss** counts the non-ignored ground truths that no detection matched and that
    no Cls or Loc error could claim (an unmatched ground truth targeted by one).

    dAP of a type = mAP with only that type fixed - baseline mAP (0 if negative, as
    TIDE). Fixes (TIDE's): Cls / Loc -- among the Cls and Loc errors targeting the same
    unmatched ground truth, the highest-scoring one (ties: the first in the grouped
    order) becomes a true positive of the ground truth's class; the others (and those
    targeting a matched ground truth) are removed; Dupe, Bkg, Both -- removed; Miss --
    the missed ground truths no longer count as positives. Special errors: FalsePos
    removes every false positive; FalseNeg removes every unmatched ground truth from
    the positives. Each fix is one C accumulation (pycocotools' AP) on modified TP/FP
    flags in the pass's accumulation order, with pycocotools' arithmetic (a relabelled
    Cls detection joins its new class by score; on an exact score tie it follows the
    accumulation order of its old class, not the image order); nothing is matched
    again.

    Differences from tidecv: matching and AP are pycocotools' (tidecv keeps maxDets per
    image over all classes, counts a category with detections but no ground truth as
    AP 0, matches crowds with IoU > t rather than >=, and orders equal scores
    differently); detections ignored by COCO (matched to a crowd, or outside the area
    range) are not errors (tidecv classifies them too); results are fractions, not
    percent; tidecv samples recall at ``x / 100``, pycocotools at ``np.linspace(0, 1,
    101)`` (10 of the 101 differ in the last bit, which shows when a recall lands exactly
    on one). On data without those differences the numbers agree with tidecv's, in its
    box and mask modes (tests/test_report.py, tests/test_report_geometry.py). tidecv
    has no keypoint mode: on keypoints the rules are TIDE's with OKS for IoU, and the
    numbers agree with tidecv's run on pycocotools' OKS in place of its IoU.

    Costs one extra matching at the single threshold (to learn which ground truth each
    detection took) and nine single-threshold accumulations in C (``fa_ap_sorted``, one
    pass over the detections each). Returns
    :class:`ErrorAnalysis`.
    """
    ps = pass_of(result)
    _need_pairs(ps, "error_analysis()")
    if not ps.use_cats:
        raise ValueError("error_analysis() needs per-category evaluation (useCats=1): "
                         "classification errors are undefined when categories are pooled")
    a = ps.area_index(area)
    cut = ps.cut(max_dets)
    pos, bg = float(pos_threshold), float(bg_threshold)
    if not 0 <= bg <= pos <= 1:
        raise ValueError("need 0 <= bg_threshold <= pos_threshold <= 1, got %r and %r" % (bg, pos))
    tp, fp, npig, gt_ign, gt_used = _match_at(ps, pos, a, cut)
    dsel = np.flatnonzero(fp)
    kinds, s_gt, o_gt = _false_positive_types(ps, dsel, gt_ign, gt_used, pos, bg)
    win, missed = _claims(ps, dsel, kinds, s_gt, o_gt, gt_ign, gt_used)
    K = ps.K
    missed_per_cat = np.bincount(ps.gt_cat[missed], minlength=K)[:K]
    cls_target = ps.gt_cat[np.where(kinds["Cls"], o_gt, 0)[kinds["Cls"] & win]]
    base, fixed, special = _fixed_aps(ps, tp, fp, npig, dsel, kinds, win, cls_target, missed_per_cat)

    code = np.full(dsel.shape[0], 2, np.int8)            # Both unless another type applies
    for i, t in enumerate(ERROR_TYPES[:5]):
        if t != "Both":
            code[kinds[t]] = i
    counts = {t: int((code == i).sum()) for i, t in enumerate(ERROR_TYPES[:5])}
    counts["Miss"] = int(missed.sum())
    per_class = np.zeros(K, dtype=[("category_id", np.int64)] + [(t, np.int64) for t in ERROR_TYPES])
    per_class["category_id"] = ps.cat_ids[:K]
    by_type = np.bincount(code.astype(np.int64) * max(K, 1) + ps.dt_cat[dsel], minlength=5 * max(K, 1))
    for i, t in enumerate(ERROR_TYPES[:5]):
        per_class[t] = by_type[i * max(K, 1):i * max(K, 1) + K]
    per_class["Miss"] = missed_per_cat

    dt_error = np.full(ps.dt["score"].shape[0], -1, np.int8)
    dt_error[ps.tables.dt_index[dsel]] = code
    gt_missed = np.zeros(ps.gt["image_id"].shape[0], bool)
    gt_missed[ps.tables.gt_index[missed]] = True

    def gain(v):
        return max(v - base, 0.0) if not (np.isnan(v) or np.isnan(base)) else float("nan")

    return ErrorAnalysis(ap=base, dap={t: gain(fixed[t]) for t in ERROR_TYPES},
                         special={t: gain(v) for t, v in special.items()},
                         fixed_ap={**fixed, **special}, counts=counts, per_class=per_class,
                         dt_error=dt_error, gt_missed=gt_missed, pos_threshold=pos, bg_threshold=bg,
                         area=ps.area_lbl[a], max_dets=cut, names=ps.names, iou_type=ps.iou_type)


def _match_at(ps, pos, a, cut):
    """The error analysis' matching at IoU ``pos``, area range ``a``, ``cut``
    detections per image: (tp bool [n_dt], fp bool [n_dt], npig int64 [K], gt_ignore
    bool [n_gt], gt_used uint8 [n_gt] (matched by a true positive))."""
    m = ps.match_one(pos, a, details=True)
    tp = m["dt_tp"][0] != 0
    fp = m["dt_fp"][0] != 0
    rank = m["dt_rank"]
    if cut < ps.max_dets[-1]:
        tp, fp = tp & (rank < cut), fp & (rank < cut)
    npig = m["npig"][:, 0].astype(np.int64)
    ng = ps.n_gt
    gt_ign = m["gt_ignore"][0].astype(bool) if ng else np.zeros(0, bool)
    gt_used = np.zeros(ng, np.uint8)
    gt_used[m["dt_match"][0, 0][tp]] = 1
    return tp, fp, npig, gt_ign, gt_used


def _false_positive_types(ps, dsel, gt_ign, gt_used, pos, bg):
    """TIDE's type of each false positive ``dsel`` (grouped indices): ({type: bool
    [len(dsel)]} for Cls, Loc, Both, Dupe, Bkg, exactly one set per row), and the ground
    truth of its best same-class (``s_gt``) and other-class (``o_gt``) IoU (-1: none).
    The IoU summaries come from C, in parallel, walking the false positives in the
    grouped order (masks and keypoints: grouped by image, see :func:`_tide_by_pairs`)."""
    g_ann = np.argsort(ps.tables.gt_index, kind="stable")      # annotation order (argmax ties)
    go, goff = _by_image(ps.tables.gt_img[g_ann], ps.I)
    gsel = g_ann[go]
    if ps.I == 0:
        goff = np.zeros(1, np.int64)
    gt_args = (goff, np.ascontiguousarray(ps.gt_cat[gsel]), np.ascontiguousarray(gt_ign[gsel].astype(np.uint8)),
               np.ascontiguousarray(gt_used[gsel]), np.ascontiguousarray(gsel, dtype=np.int64))
    dt_img = np.ascontiguousarray(ps.tables.dt_img, dtype=np.int32)
    if ps.box_iou:
        s_iou, s_gt, o_iou, o_gt, u_iou = _core.tide_ious_rows(
            dsel, dt_img, ps.dt_box, ps.dt_cat, goff, np.ascontiguousarray(ps.gt_box[gsel]), *gt_args[1:],
            num_threads=ps.num_threads)
    else:
        s_iou, s_gt, o_iou, o_gt, u_iou = _tide_by_pairs(ps, dsel, dt_img, gsel, gt_args)
    loc = (bg <= s_iou) & (s_iou <= pos)
    cls = ~loc & (o_iou >= pos)
    dupe = ~loc & ~cls & (u_iou >= pos)
    bkg = ~loc & ~cls & ~dupe & (np.maximum(s_iou, o_iou) <= bg)
    both = ~(loc | cls | dupe | bkg)
    return {"Cls": cls, "Loc": loc, "Both": both, "Dupe": dupe, "Bkg": bkg}, s_gt, o_gt


def _tide_by_pairs(ps, dsel, dt_img, gsel, gt_args):
    """tide_ious_rows on masks or keypoints: the false positives grouped by image, the
    overlaps of each image's pairs (:func:`fastap.geometry.pair_ious`) a few images at a
    time; the results in the order of ``dsel``."""
    goff = gt_args[0]
    n = dsel.shape[0]
    out = (np.zeros(n), np.full(n, -1, np.int64), np.zeros(n), np.full(n, -1, np.int64), np.zeros(n))
    o, doff = _by_image(dt_img[dsel], ps.I)
    if ps.I == 0:
        return out
    ds = dsel[o]
    for i0, i1 in _image_chunks(doff, goff):
        d0, d1, g0, g1 = int(doff[i0]), int(doff[i1]), int(goff[i0]), int(goff[i1])
        if d1 == d0 or g1 == g0:
            continue
        iou, off = pair_ious(ps.tables, ds[d0:d1], gsel[g0:g1], "error_analysis()", ps.num_threads)
        res = _core.tide_ious_rows(ds[d0:d1], dt_img, None, ps.dt_cat, goff, None, *gt_args[1:],
                                   num_threads=ps.num_threads, iou=iou, iou_off=off)
        for a, r in zip(out, res):
            a[o[d0:d1]] = r
    return out


def _claims(ps, dsel, kinds, s_gt, o_gt, gt_ign, gt_used):
    """The Cls / Loc fixes: the best-scoring claim on each unmatched ground truth wins
    (ties: the first in the grouped order). Returns (win bool [len(dsel)], missed bool
    [n_gt]: non-ignored, unmatched and claimed by no Cls or Loc error)."""
    cls, loc = kinds["Cls"], kinds["Loc"]
    target = np.where(cls, o_gt, np.where(loc, s_gt, -1))
    claim = (cls | loc) & (target >= 0)
    claim &= gt_used[np.maximum(target, 0)] == 0
    ci = np.flatnonzero(claim)
    o = np.lexsort((dsel[ci], -ps.dt_score[dsel[ci]], target[ci]))
    first = np.ones(o.size, bool)
    first[1:] = target[ci][o][1:] != target[ci][o][:-1]
    win = np.zeros(dsel.shape[0], bool)
    win[ci[o[first]]] = True
    usable = np.zeros(ps.n_gt, bool)
    usable[target[ci]] = True
    return win, ~gt_ign & (gt_used == 0) & ~usable


def _fixed_aps(ps, tp, fp, npig, dsel, kinds, win, cls_target, missed_per_cat):
    """(baseline mAP, {type: mAP with that type fixed}, {special: mAP}): each fix one C
    accumulation of modified flags in the pass's accumulation order (sorted once);
    ``cls_target``: the class each winning Cls error moves to."""
    K, nd = ps.K, ps.n_dt
    acc = ps.acc_order()
    at = np.empty(nd, np.int64)                 # at[d]: grouped detection d's position in it
    at[acc] = np.arange(nd, dtype=np.int64)
    cat_s = ps.dt_cat[acc]
    runs = np.searchsorted(cat_s, np.arange(K + 1)).astype(np.int64)
    R = ps.rec_thrs
    tp_s, fp_s = tp[acc], fp[acc]

    def ap(t=tp_s, f=fp_s, n=npig, off=runs):
        return _mean_valid(_core.ap_sorted(off, t, f, np.ascontiguousarray(n, dtype=np.int64), R))

    at_fp = at[dsel]                    # each false positive's position in that order

    def removed(mask):
        f = fp_s.copy()
        f[at_fp[mask]] = False
        return f

    fixed = {}
    # Loc: the winners become true positives in place (same class)
    t2 = tp_s.copy()
    t2[at_fp[kinds["Loc"] & win]] = True
    fixed["Loc"] = ap(t2, removed(kinds["Loc"]))
    # Cls: the winners become true positives of their ground truth's class: the
    # accumulation order re-sorted stably by (new class, -score)
    pw = at_fp[kinds["Cls"] & win]
    t2 = tp_s.copy()
    t2[pw] = True
    f2 = removed(kinds["Cls"])
    if pw.size:
        o, c2 = _resort_moved(cat_s, ps.dt_score[acc], runs, pw, cls_target)
        fixed["Cls"] = ap(t2[o], f2[o], npig, np.searchsorted(c2, np.arange(K + 1)).astype(np.int64))
    else:
        fixed["Cls"] = ap(t2, f2)
    for t in ("Both", "Dupe", "Bkg"):
        fixed[t] = ap(tp_s, removed(kinds[t]))
    fixed["Miss"] = ap(n=npig - missed_per_cat)
    n_tp = np.bincount(ps.dt_cat[tp], minlength=K)[:K]
    special = {"FalsePos": ap(tp_s, np.zeros_like(fp_s)), "FalseNeg": ap(n=n_tp)}
    return ap(), {t: fixed[t] for t in ("Loc", "Cls", "Both", "Dupe", "Bkg", "Miss")}, special

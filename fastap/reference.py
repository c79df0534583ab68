"""Plain-Python reference implementation of COCO bbox evaluation, PASCAL VOC AP and the
DOTA task-1 protocol (among others).

This module is written to be read, not to be fast. It is the second oracle of the
project: the tests hold the C path equal to it (and both equal to pycocotools), and the
benchmarks report the C path's speed against it. Every function names the pycocotools
(2.0.x) or VOC devkit rule it implements; the arithmetic is done in float64 in the same
order as the reference, so results are bit-identical, not merely close.

Data layout (columnar NumPy, as everywhere in fastap):

* ground truth ``gt``: ``id`` int64[G], ``image_id`` int64[G], ``category_id`` int64[G],
  ``bbox`` float64[G, 4] (x, y, w, h), ``area`` float64[G] (the annotation's ``area``
  field), ``iscrowd`` uint8[G]; rows in annotation-file order.
* detections ``dt``: ``image_id`` int64[D], ``category_id`` int64[D], ``bbox``
  float64[D, 4], ``score`` float64[D], ``area`` float64[D] (``w*h``, as ``loadRes``
  sets it); rows in results-file order.

The COCO evaluation runs in two steps, as pycocotools does:

1. ``evaluate``: per (category, image) "cell", sort the detections, compute IoUs and,
   per area range and IoU threshold, match detections to ground truth greedily. Each
   detection ends up as a true positive, a false positive or ignored.
2. ``accumulate``: per (category, area range, maxDets), merge the detections of all
   images by score and turn the cumulative TP/FP counts into precision/recall curves.

Instead of pycocotools' one dict per (image, category, area range), the detections kept
for evaluation are laid out once in (category, image, rank) order, and the per-area
outcomes are boolean arrays over that layout.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

__all__ = ["box_iou_xywh", "evaluate_coco", "summarize", "evaluate_voc", "voc_ap", "semantic_confusion",
           "semantic_metrics", "assign", "panoptic_quality", "shapely_quad_iou", "evaluate_dota"]


# ----------------------------------------------------------------------------------------
# IoU
# ----------------------------------------------------------------------------------------

def box_iou_xywh(dt_boxes, gt_boxes, gt_iscrowd=None):
    """IoU of every detection box with every ground-truth box, float64 [n, m].

    pycocotools ``maskApi.c`` ``bbIou``, in its arithmetic order: the overlap width is
    ``min(dx + dw, gx + gw) - max(dx, gx)`` (zero if ``<= 0``), likewise the height;
    ``inter = w * h``; ``union = dw*dh + gw*gh - inter``, except for a crowd ground
    truth, whose union is the detection's area ``dw*dh`` alone.
    """
    d = np.asarray(dt_boxes, dtype=np.float64).reshape(-1, 4)
    g = np.asarray(gt_boxes, dtype=np.float64).reshape(-1, 4)
    if gt_iscrowd is None:
        crowd = np.zeros(len(g), dtype=bool)
    else:
        crowd = np.asarray(gt_iscrowd).reshape(-1).astype(bool)

    dx, dy, dw, dh = (d[:, i:i + 1] for i in range(4))          # columns, [n, 1]
    gx, gy, gw, gh = (g[None, :, i] for i in range(4))          # rows, [1, m]
    w = np.minimum(dx + dw, gx + gw) - np.maximum(dx, gx)
    h = np.minimum(dy + dh, gy + gh) - np.maximum(dy, gy)
    overlaps = (w > 0) & (h > 0)

    inter = w * h
    dt_area = dw * dh
    gt_area = gw * gh
    # pycocotools: a crowd's union is the detection's area alone.
    union = np.where(crowd[None, :], dt_area, dt_area + gt_area - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / union
    return np.where(overlaps, iou, 0.0)


# ----------------------------------------------------------------------------------------
# COCO: parameters and grouping
# ----------------------------------------------------------------------------------------

class _Settings:
    """The evaluation parameters after pycocotools ``COCOeval.evaluate()`` normalises them.

    ``imgIds`` becomes ``np.unique`` of itself; ``catIds`` too when ``useCats`` (with
    ``useCats=0`` the list is used as given, duplicates and order included); ``maxDets``
    is sorted. The caller's object is not modified.
    """

    def __init__(self, params):
        self.use_cats = bool(params.useCats)
        self.img_ids = [int(i) for i in np.unique(np.asarray(params.imgIds, dtype=np.int64))]
        if self.use_cats:
            self.cat_ids = [int(c) for c in np.unique(np.asarray(params.catIds, dtype=np.int64))]
        else:
            self.cat_ids = [int(c) for c in params.catIds]
        self.iou_thrs = np.asarray(params.iouThrs, dtype=np.float64).reshape(-1)
        self.rec_thrs = np.asarray(params.recThrs, dtype=np.float64).reshape(-1)
        self.max_dets = sorted(int(m) for m in params.maxDets)
        self.area_rngs = [(float(lo), float(hi)) for lo, hi in params.areaRng]

    @property
    def category_slots(self):
        """Category ids pooled into each output category k.

        With ``useCats=1`` each category is its own slot; with ``useCats=0`` there is a
        single slot (pycocotools' category ``-1``) pooling all ``catIds`` in list order.
        """
        if self.use_cats:
            return [[c] for c in self.cat_ids]
        return [list(self.cat_ids)]


def _rows_by_image_and_category(image_ids, category_ids, keep_images):
    """Row indices grouped by (image id, category id), file order inside each group.

    pycocotools ``_prepare``: ``_gts``/``_dts`` keep the annotations of each (image,
    category) in the order of the file; images outside ``imgIds`` are dropped.
    """
    groups = defaultdict(list)
    for row, (img, cat) in enumerate(zip(image_ids.tolist(), category_ids.tolist())):
        if img in keep_images:
            groups[img, cat].append(row)
    return groups


def _cells(gt, dt, settings):
    """Yield ``(k, gt_rows, dt_rows)`` for every (category slot, image) with any data.

    Cells come in pycocotools' ``evalImgs`` order: category slot k, then image id
    ascending. ``gt_rows`` are in file order (with ``useCats=0``: concatenated in
    ``catIds`` order). ``dt_rows`` are stable-sorted by descending score (ties keep the
    earlier order, as ``np.argsort(-score, kind='mergesort')``) and cut to
    ``maxDets[-1]`` (pycocotools ``computeIoU``/``evaluateImg``). Cells with neither
    ground truth nor detections are skipped (pycocotools stores ``None`` for them).
    """
    keep_images = set(settings.img_ids)
    gt_groups = _rows_by_image_and_category(gt["image_id"], gt["category_id"], keep_images)
    dt_groups = _rows_by_image_and_category(dt["image_id"], dt["category_id"], keep_images)
    scores = np.asarray(dt["score"], dtype=np.float64).tolist()
    max_det = settings.max_dets[-1]
    for k, slot in enumerate(settings.category_slots):
        for img in settings.img_ids:
            gt_rows = [r for cat in slot for r in gt_groups.get((img, cat), ())]
            dt_rows = [r for cat in slot for r in dt_groups.get((img, cat), ())]
            if not gt_rows and not dt_rows:
                continue
            dt_rows = sorted(dt_rows, key=lambda r: -scores[r])[:max_det]   # stable
            yield k, gt_rows, dt_rows


# ----------------------------------------------------------------------------------------
# COCO: matching (pycocotools evaluateImg)
# ----------------------------------------------------------------------------------------

def _match_greedy(ious, gt_ignored, gt_crowd, threshold):
    """Greedy matching of one image and category at one IoU threshold.

    pycocotools ``evaluateImg``: ``ious[d][g]`` lists detections by descending score and
    ground truths with the ignored ones last. Each detection, in turn, scans the ground
    truths starting from an IoU bar of ``min(threshold, 1 - 1e-10)``:

    * a ground truth already taken is skipped, unless it is a crowd (crowds match many);
    * once the detection holds a non-ignored ground truth, the scan stops at the first
      ignored one (a regular match never moves to an ignored ground truth);
    * a ground truth with ``iou < bar`` is skipped; otherwise it becomes the match and
      its IoU the new bar, so among equal IoUs the later ground truth wins.

    Returns, per detection, the index of its ground truth in ``ious``' columns, or -1.
    """
    taken = [False] * len(gt_ignored)
    matches = []
    for row in ious:
        best, bar = -1, min(threshold, 1 - 1e-10)
        for g, iou in enumerate(row):
            if taken[g] and not gt_crowd[g]:
                continue
            if best >= 0 and not gt_ignored[best] and gt_ignored[g]:
                break
            if iou < bar:
                continue
            best, bar = g, iou
        if best >= 0:
            taken[best] = True
        matches.append(best)
    return matches


def _match_cell(ious, gt_ids, gt_ignored, gt_crowd, dt_outside, iou_thrs):
    """pycocotools ``evaluateImg`` for one image, category and area range.

    ``ious[d][g]``: detections by descending score, ground truths in file order;
    ``gt_ignored``: crowd or area field outside the range; ``dt_outside``: the
    detection's own area is outside the range. Ground truths are put ignored-last
    (stable), then matched per threshold by :func:`_match_greedy`. A matched detection
    takes its ground truth's ignore flag. pycocotools keeps the matched ground truth's
    *id*, so a match with id 0 reads as "no match" from then on: the detection is a FP,
    or ignored if it is outside the range (the ground truth itself stays taken).

    Returns ``(t, d, is_tp, is_fp)`` for every match made; detections left unmatched
    are FPs unless ``dt_outside`` (the caller's default).
    """
    order = sorted(range(len(gt_ids)), key=lambda j: gt_ignored[j])     # stable
    ious = [[row[j] for j in order] for row in ious]
    ids = [gt_ids[j] for j in order]
    ignored = [gt_ignored[j] for j in order]
    crowd = [gt_crowd[j] for j in order]
    changes = []
    for t, thr in enumerate(iou_thrs):
        for d, g in enumerate(_match_greedy(ious, ignored, crowd, thr)):
            if g < 0:
                continue
            real_match = ids[g] != 0
            dt_ignored = ignored[g] or (not real_match and dt_outside[d])
            changes.append((t, d, real_match and not dt_ignored,
                            not real_match and not dt_ignored))
    return changes


# ----------------------------------------------------------------------------------------
# COCO: accumulation (pycocotools accumulate)
# ----------------------------------------------------------------------------------------

def _precision_recall(scores, is_tp, is_fp, n_pos, rec_thrs):
    """Precision and score at each recall threshold, and the final recall.

    pycocotools ``accumulate`` for one (category, area range, maxDets) setting.
    ``scores`` float64[N] are the kept detections in image order (rank order inside an
    image); ``is_tp``/``is_fp`` bool [T, N] (a detection that is neither is ignored);
    ``n_pos`` the number of non-ignored ground truths (> 0).

    The detections are stable-sorted by descending score (mergesort); cumulative TP and
    FP counts become floats; ``recall = tp / n_pos``; ``precision = tp / (fp + tp +
    eps)`` with ``eps = np.spacing(1)``; precision is made non-increasing from the right;
    each recall threshold r samples index ``searchsorted(recall, r, 'left')``, and the
    thresholds from the first index past the end on stay 0. Recall is the last
    cumulative recall, or 0 with no detections.

    Returns ``(precision float64[T, R], recall float64[T], score float64[T, R])``.
    """
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores = scores[order]
    tp_cum = np.cumsum(is_tp[:, order], axis=1).astype(np.float64)
    fp_cum = np.cumsum(is_fp[:, order], axis=1).astype(np.float64)

    T, R = is_tp.shape[0], len(rec_thrs)
    precision = np.zeros((T, R))
    sampled_scores = np.zeros((T, R))
    recall = np.zeros(T)
    n = len(scores)
    for t in range(T):
        rc = tp_cum[t] / n_pos
        pr = tp_cum[t] / (fp_cum[t] + tp_cum[t] + np.spacing(1))
        recall[t] = rc[-1] if n else 0
        # precision envelope: the best precision at this recall or any higher one
        pr = pr.tolist()
        for i in range(n - 1, 0, -1):
            if pr[i] > pr[i - 1]:
                pr[i - 1] = pr[i]
        for r, i in enumerate(np.searchsorted(rc, rec_thrs, side="left").tolist()):
            if i >= n:
                break  # pycocotools stops at the first threshold past the end
            precision[t, r] = pr[i]
            sampled_scores[t, r] = sorted_scores[i]
    return precision, recall, sampled_scores


# ----------------------------------------------------------------------------------------
# COCO: the whole evaluation
# ----------------------------------------------------------------------------------------

def evaluate_coco(gt, dt, params):
    """COCO bbox evaluation, bit-identical to pycocotools ``evaluate()`` + ``accumulate()``.

    ``params`` is any object with pycocotools ``Params`` attributes (``imgIds``,
    ``catIds``, ``iouThrs``, ``recThrs``, ``maxDets``, ``areaRng``, ``useCats``); it is
    normalised as ``evaluate()`` does, without being modified.

    Rules (pycocotools ``evaluateImg``): a ground truth is ignored if it is a crowd or
    its ``area`` field lies outside the (inclusive) area range; ground truths are
    ordered ignored-last (stable); a matched detection takes its ground truth's ignore
    flag; an unmatched detection whose own area is outside the range is ignored.
    pycocotools records a match as the ground truth's *id*, so a detection matched to
    an annotation with id 0 reads as unmatched afterwards (not a TP; a FP unless
    ignored; subject to the own-area rule) while that annotation still counts as taken.

    Returns ``{"precision": float64[T, R, K, A, M], "recall": float64[T, K, A, M],
    "scores": float64[T, R, K, A, M]}``, -1 where a setting has no non-ignored ground
    truth (pycocotools ``eval['precision']``, ``eval['recall']``, ``eval['scores']``).
    """
    s = _Settings(params)
    T, R, A, M = len(s.iou_thrs), len(s.rec_thrs), len(s.area_rngs), len(s.max_dets)
    K = len(s.category_slots)

    gt_ids = np.asarray(gt["id"], dtype=np.int64).tolist()
    gt_boxes = np.asarray(gt["bbox"], dtype=np.float64).reshape(-1, 4)
    gt_area = np.asarray(gt["area"], dtype=np.float64)
    gt_crowd = np.asarray(gt["iscrowd"]).astype(bool)
    dt_boxes = np.asarray(dt["bbox"], dtype=np.float64).reshape(-1, 4)
    dt_area = np.asarray(dt["area"], dtype=np.float64)
    dt_score = np.asarray(dt["score"], dtype=np.float64)

    # pycocotools: the `ignore` field is replaced by `iscrowd`; the area range is inclusive.
    gt_ignored = [(gt_crowd | (gt_area < lo) | (gt_area > hi)).tolist() for lo, hi in s.area_rngs]
    dt_outside = [((dt_area < lo) | (dt_area > hi)) for lo, hi in s.area_rngs]
    gt_crowd_list = gt_crowd.tolist()

    # Step 1 (evaluate). The kept detections are laid out once, in (k, image, rank) order;
    # per area range, is_tp/is_fp [T, N] say what each one is (neither: ignored).
    cells = list(_cells(gt, dt, s))
    det_rows = np.asarray([r for _, _, rows in cells for r in rows], dtype=np.int64)
    det_rank = np.asarray([i for _, _, rows in cells for i in range(len(rows))], dtype=np.int64)
    det_slot = np.asarray([k for k, _, rows in cells for _ in rows], dtype=np.int64)
    N = len(det_rows)
    # Unmatched detections: a FP unless their own area is outside the range.
    is_tp = [np.zeros((T, N), dtype=bool) for _ in range(A)]
    is_fp = [np.repeat(~dt_outside[a][det_rows][None, :], T, axis=0) for a in range(A)]
    n_pos = np.zeros((K, A), dtype=np.int64)

    start = 0
    for k, gt_rows, dt_rows in cells:
        for a in range(A):
            n_pos[k, a] += sum(1 for r in gt_rows if not gt_ignored[a][r])
        if gt_rows and dt_rows:
            ious = box_iou_xywh(dt_boxes[dt_rows], gt_boxes[gt_rows], gt_crowd[gt_rows]).tolist()
            for a in range(A):
                changes = _match_cell(ious, [gt_ids[r] for r in gt_rows],
                                      [gt_ignored[a][r] for r in gt_rows],
                                      [gt_crowd_list[r] for r in gt_rows],
                                      dt_outside[a][dt_rows].tolist(), s.iou_thrs.tolist())
                for t, d, tp, fp in changes:
                    is_tp[a][t, start + d] = tp
                    is_fp[a][t, start + d] = fp
        start += len(dt_rows)

    # Step 2 (accumulate).
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    scores = -np.ones((T, R, K, A, M))
    for k in range(K):
        lo, hi = np.searchsorted(det_slot, [k, k + 1])     # slot k's detections
        for a in range(A):
            if n_pos[k, a] == 0:
                continue  # pycocotools leaves -1 where no ground truth counts
            for m, max_det in enumerate(s.max_dets):
                keep = lo + np.flatnonzero(det_rank[lo:hi] < max_det)
                p, r, sc = _precision_recall(dt_score[det_rows[keep]], is_tp[a][:, keep],
                                             is_fp[a][:, keep], int(n_pos[k, a]), s.rec_thrs)
                precision[:, :, k, a, m] = p
                recall[:, k, a, m] = r
                scores[:, :, k, a, m] = sc
    return {"precision": precision, "recall": recall, "scores": scores}


# ----------------------------------------------------------------------------------------
# COCO: summary
# ----------------------------------------------------------------------------------------

_SUMMARY_LINE = " {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}"


def summarize(precision, recall, params):
    """The 12 bbox summary numbers and the lines of pycocotools ``COCOeval.summarize()``.

    Same selection and NumPy calls as pycocotools, so the floats match: the mean of the
    entries ``> -1``, or -1 when there are none (also when a setting is absent). Its
    quirks are kept: the first AP always uses ``maxDets=100`` whatever ``maxDets`` is;
    the others use ``maxDets[2]`` (AP, AR per area) and ``maxDets[0..2]`` (AR);
    thresholds are selected with ``iouThr == iouThrs`` (exact float equality).

    Returns ``(stats float64[12], lines list[str])``; each line is exactly what
    pycocotools prints (with its leading space).
    """
    iou_thrs = params.iouThrs   # as given: pycocotools compares `thr == p.iouThrs`
    area_labels = list(params.areaRngLbl)
    max_dets = sorted(params.maxDets)   # evaluate() sorted them in place
    lines = []

    def one(use_precision, iou_thr=None, area="all", max_det=100):
        if iou_thr is None:
            iou_text = "{:0.2f}:{:0.2f}".format(iou_thrs[0], iou_thrs[-1])
        else:
            iou_text = "{:0.2f}".format(iou_thr)
        a_sel = [i for i, label in enumerate(area_labels) if label == area]
        m_sel = [i for i, m in enumerate(max_dets) if m == max_det]
        values = precision if use_precision else recall
        if iou_thr is not None:
            values = values[np.where(iou_thr == iou_thrs)[0]]
        if use_precision:
            values = values[:, :, :, a_sel, m_sel]      # [T, R, K, A, M]
        else:
            values = values[:, :, a_sel, m_sel]         # [T, K, A, M]
        valid = values[values > -1]
        mean = -1 if len(valid) == 0 else np.mean(valid)
        title = "Average Precision" if use_precision else "Average Recall"
        kind = "(AP)" if use_precision else "(AR)"
        lines.append(_SUMMARY_LINE.format(title, kind, iou_text, area, max_det, mean))
        return mean

    md = max_dets
    stats = np.zeros(12)
    stats[0] = one(True)
    stats[1] = one(True, iou_thr=0.5, max_det=md[2])
    stats[2] = one(True, iou_thr=0.75, max_det=md[2])
    stats[3] = one(True, area="small", max_det=md[2])
    stats[4] = one(True, area="medium", max_det=md[2])
    stats[5] = one(True, area="large", max_det=md[2])
    stats[6] = one(False, max_det=md[0])
    stats[7] = one(False, max_det=md[1])
    stats[8] = one(False, max_det=md[2])
    stats[9] = one(False, area="small", max_det=md[2])
    stats[10] = one(False, area="medium", max_det=md[2])
    stats[11] = one(False, area="large", max_det=md[2])
    return stats, lines


# ----------------------------------------------------------------------------------------
# PASCAL VOC
# ----------------------------------------------------------------------------------------

def _voc_iou(a, b, one):
    """IoU of two corner boxes (x1, y1, x2, y2), VOC devkit arithmetic.

    ``iw = min(x2) - max(x1) + one`` (``one`` = 1.0 with the +1 pixel rule, else 0.0),
    0 if ``<= 0``; likewise ``ih``; areas ``(x2 - x1 + one) * (y2 - y1 + one)``;
    ``iou = iw*ih / (area_a + area_b - iw*ih)``.
    """
    iw = min(a[2], b[2]) - max(a[0], b[0]) + one
    if not iw > 0:
        return 0.0
    ih = min(a[3], b[3]) - max(a[1], b[1]) + one
    if not ih > 0:
        return 0.0
    inter = iw * ih
    area_a = (a[2] - a[0] + one) * (a[3] - a[1] + one)
    area_b = (b[2] - b[0] + one) * (b[3] - b[1] + one)
    return inter / (area_a + area_b - inter)


def voc_ap(recall, precision, use_11_point=False):
    """Average precision from a VOC recall/precision curve.

    All-point (VOC2010+): ``mrec = [0, recall, 1]``, ``mpre = [0, precision, 0]``, the
    precision made non-increasing from the right, then the sum over the indices i where
    ``mrec`` changes of ``(mrec[i+1] - mrec[i]) * mpre[i+1]``, added left to right.
    11-point (VOC2007): for t in ``np.arange(0.0, 1.1, 0.1)``, p = the largest precision
    with ``recall >= t`` (0 if none), added as ``ap += p / 11.0``.
    The sums are sequential (not NumPy's pairwise sum) so that C can reproduce them.
    """
    recall = np.asarray(recall, dtype=np.float64)
    precision = np.asarray(precision, dtype=np.float64)
    ap = 0.0
    if use_11_point:
        for t in np.arange(0.0, 1.1, 0.1):
            above = recall >= t
            p = float(np.max(precision[above])) if above.any() else 0.0
            ap += p / 11.0
        return ap
    mrec = [0.0] + recall.tolist() + [1.0]
    mpre = [0.0] + precision.tolist() + [0.0]
    for i in range(len(mpre) - 1, 0, -1):
        mpre[i - 1] = max(mpre[i - 1], mpre[i])
    for i in range(len(mrec) - 1):
        if mrec[i + 1] != mrec[i]:
            ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1]
    return ap


def evaluate_voc(gt, dt, iou_threshold=0.5, use_11_point=False, plus_one=True):
    """PASCAL VOC AP per category, with the VOC devkit's rules.

    ``gt``/``dt`` use the COCO column layout above (``dt["area"]`` and ``gt["area"]``
    are not used). A ground truth is "difficult" if ``gt["difficult"]`` (when present)
    or else ``gt["iscrowd"]`` is set. Per category (the sorted unique ground-truth
    categories):

    * detections are taken in descending score order over all images (stable: ties in
      input order); boxes become corners ``x2 = x + w``, ``y2 = y + h``;
    * each detection takes the ground truth of its image and category with the highest
      IoU (the first one on ties, like ``np.argmax``); if that IoU ``>= iou_threshold``:
      a difficult one makes it neither TP nor FP, an untaken one makes it a TP (and
      taken), a taken one a FP (no fallback to the next ground truth); else it is a FP;
    * ``rec = cumsum(tp) / n_pos``, ``prec = cumsum(tp) / max(cumsum(tp) + cumsum(fp),
      eps)`` with ``eps = np.finfo(np.float64).eps``; AP by :func:`voc_ap`.

    Returns ``{"ap": float64[K] (NaN without non-difficult ground truth), "categories":
    int64[K], "n_pos": int64[K], "map": float}``; ``map`` is the mean of the APs of the
    categories with ``n_pos > 0``, summed left to right (NaN if there are none).
    """
    one = 1.0 if plus_one else 0.0
    difficult = np.asarray(gt["difficult"] if "difficult" in gt else gt["iscrowd"]).astype(bool)
    gt_image = np.asarray(gt["image_id"], dtype=np.int64)
    gt_cat = np.asarray(gt["category_id"], dtype=np.int64)
    gt_xywh = np.asarray(gt["bbox"], dtype=np.float64).reshape(-1, 4)
    dt_image = np.asarray(dt["image_id"], dtype=np.int64)
    dt_cat = np.asarray(dt["category_id"], dtype=np.int64)
    dt_xywh = np.asarray(dt["bbox"], dtype=np.float64).reshape(-1, 4)
    dt_score = np.asarray(dt["score"], dtype=np.float64)

    def corners(xywh):
        return np.stack([xywh[:, 0], xywh[:, 1], xywh[:, 0] + xywh[:, 2],
                         xywh[:, 1] + xywh[:, 3]], axis=1).tolist()

    gt_box, dt_box = corners(gt_xywh), corners(dt_xywh)
    categories = np.unique(gt_cat)
    aps = np.full(len(categories), np.nan)
    n_pos = np.zeros(len(categories), dtype=np.int64)

    for k, cat in enumerate(categories.tolist()):
        gts_of_image = defaultdict(list)        # image id -> gt rows, file order
        for r in np.flatnonzero(gt_cat == cat).tolist():
            gts_of_image[int(gt_image[r])].append(r)
        n_pos[k] = int(np.count_nonzero(~difficult[gt_cat == cat]))

        rows = np.flatnonzero(dt_cat == cat)
        rows = rows[np.argsort(-dt_score[rows], kind="stable")].tolist()
        taken = set()
        tp = np.zeros(len(rows))
        fp = np.zeros(len(rows))
        for i, r in enumerate(rows):
            candidates = gts_of_image.get(int(dt_image[r]), [])
            best, best_iou = -1, -np.inf
            for g in candidates:
                iou = _voc_iou(dt_box[r], gt_box[g], one)
                if iou > best_iou:                  # first one wins on ties
                    best, best_iou = g, iou
            if best >= 0 and best_iou >= iou_threshold:
                if difficult[best]:
                    continue                         # neither TP nor FP
                if best in taken:
                    fp[i] = 1.0                      # duplicate detection
                else:
                    tp[i] = 1.0
                    taken.add(best)
            else:
                fp[i] = 1.0

        if n_pos[k] == 0:
            continue
        tp_cum = np.cumsum(tp)
        fp_cum = np.cumsum(fp)
        rec = tp_cum / float(n_pos[k])
        prec = tp_cum / np.maximum(tp_cum + fp_cum, np.finfo(np.float64).eps)
        aps[k] = voc_ap(rec, prec, use_11_point)

    with_pos = [float(ap) for ap, n in zip(aps.tolist(), n_pos.tolist()) if n > 0]
    total = 0.0
    for ap in with_pos:
        total += ap
    mean_ap = total / len(with_pos) if with_pos else float("nan")
    return {"ap": aps, "categories": categories.astype(np.int64), "n_pos": n_pos,
            "map": mean_ap}


# ----------------------------------------------------------------------------------------
# Semantic segmentation (mmsegmentation's IoUMetric, dataset level)
# ----------------------------------------------------------------------------------------

def semantic_confusion(preds, targets, num_classes, ignore_index=255, reduce_zero_label=False):
    """The K x K confusion matrix (int64, rows = ground truth, columns = prediction) of
    label maps: per image, ``np.bincount(K * gt + pred)`` over the pixels whose ground
    truth is not ``ignore_index``, summed over the images. ``preds`` / ``targets``: sequences
    of integer maps [H, W] of equal shapes. ``reduce_zero_label`` (mmsegmentation): ground
    truth 0 -> 255, then v -> v - 1, then 254 -> 255. Labels outside [0, K) on counted pixels
    raise ValueError."""
    K = int(num_classes)
    total = np.zeros(K * K, dtype=np.int64)
    for pred, gt in zip(preds, targets):
        gt = np.asarray(gt).astype(np.int64)
        pred = np.asarray(pred).astype(np.int64)
        if reduce_zero_label:
            gt = np.where(gt == 0, 255, gt)
            gt = gt - 1
            gt = np.where(gt == 254, 255, gt)
        valid = gt != ignore_index
        g, p = gt[valid], pred[valid]
        if g.size and (g.min() < 0 or g.max() >= K or p.min() < 0 or p.max() >= K):
            raise ValueError("a label outside [0, %d)" % K)
        total += np.bincount(K * g + p, minlength=K * K)
    return total.reshape(K, K)


def semantic_metrics(confusion):
    """mmsegmentation ``IoUMetric.total_area_to_metrics`` from a confusion matrix:
    intersection = the diagonal, label area = row sums, prediction area = column sums,
    union = label + prediction - intersection; per class IoU = intersection / union, Dice =
    2 intersection / (label + prediction), Acc = intersection / label (NaN where 0 / 0);
    aAcc = sum(intersection) / sum(label); means with np.nanmean; fwIoU = sum over the
    classes with an IoU of label / sum(label) * IoU."""
    c = np.asarray(confusion, dtype=np.int64)
    inter = np.diag(c).astype(np.float64)
    label = c.sum(axis=1).astype(np.float64)
    pred = c.sum(axis=0).astype(np.float64)
    union = label + pred - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / union
        dice = 2 * inter / (label + pred)
        acc = inter / label
    iou[union == 0] = np.nan
    dice[label + pred == 0] = np.nan
    acc[label == 0] = np.nan
    keep = ~np.isnan(iou)
    return {"iou": iou, "dice": dice, "acc": acc,
            "miou": float(np.nanmean(iou)) if keep.any() else float("nan"),
            "mdice": float(np.nanmean(dice)) if keep.any() else float("nan"),
            "macc": float(np.nanmean(acc)) if (~np.isnan(acc)).any() else float("nan"),
            "aacc": float(inter.sum() / label.sum()) if label.sum() else float("nan"),
            "fwiou": float(np.sum(label[keep] / label.sum() * iou[keep])) if label.sum() else float("nan")}


# ----------------------------------------------------------------------------------------
# Anchor assignment (fastap.assign)
# ----------------------------------------------------------------------------------------

def assign(anchors, gt, high, low=None, allow_low_quality_matches=False, rule="matcher"):
    """torchvision's ``Matcher(high, low, allow_low_quality_matches)`` (rule "matcher")
    and ``SSDMatcher(high)`` (rule "ssd") on the IoU matrix of corner boxes, written from
    torchvision/models/detection/_utils.py's documented steps; fastap.assign's oracle.

    Returns (matches int64 [n], iou float64 [n]). The IoU matrix is [g, n] (gt x anchors)
    as torchvision's match_quality_matrix, with 0 where the union is empty. Ties: argmax
    takes the first index (torch.max's rule); SSD's forced matches are written in gt order,
    so an anchor forced by several ground truths keeps the last. No ground truth: all -1
    and IoU 0 (torchvision raises).
    """
    anchors = np.asarray(anchors, dtype=np.float64).reshape(-1, 4)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    low = high if low is None else low
    n, g = anchors.shape[0], gt.shape[0]
    if g == 0:
        return np.full(n, -1, dtype=np.int64), np.zeros(n)
    quality = np.zeros((g, n))
    for k in range(g):
        for i in range(n):
            a, b = anchors[i], gt[k]
            w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
            h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
            inter = w * h
            union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
            quality[k, i] = inter / union if inter > 0 else 0.0
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    # Matcher.__call__: best gt per anchor, then the thresholds
    matched_vals = quality.max(axis=0)
    matches = quality.argmax(axis=0).astype(np.int64)
    all_matches = matches.copy()
    matches[matched_vals < low] = -1
    matches[(matched_vals >= low) & (matched_vals < high)] = -2
    iou = matched_vals.copy()
    if allow_low_quality_matches:
        # set_low_quality_matches_: every anchor reaching some gt's highest quality
        highest = quality.max(axis=1)
        _, preds = np.nonzero(quality == highest[:, None])
        matches[preds] = all_matches[preds]
    if rule == "ssd":
        best_anchor = quality.argmax(axis=1)
        for k in range(g):                  # in gt order: the last write wins
            matches[best_anchor[k]] = k
            iou[best_anchor[k]] = quality[k, best_anchor[k]]
    return matches, iou


# ----------------------------------------------------------------------------------------
# Panoptic quality (panopticapi's pq_compute)
# ----------------------------------------------------------------------------------------

def _panoptic_image(gt_map, gt_segs, pred_map, pred_segs, stats):
    """Add one image's matches, FP and FN into stats {category id: [iou list, tp, fp, fn]}
    by panopticapi's rules (pq_compute_single_core)."""
    gt_map = np.asarray(gt_map).astype(np.uint64)
    pred_map = np.asarray(pred_map).astype(np.uint64)
    gt_segms = {int(s["id"]): dict(s) for s in gt_segs}
    pred_segms = {int(s["id"]): dict(s) for s in pred_segs}
    # the predicted areas are the pixel counts; every id of the map needs a segment
    labels, cnt = np.unique(pred_map, return_counts=True)
    for label, n in zip(labels.tolist(), cnt.tolist()):
        if label == 0:
            continue
        if label not in pred_segms:
            raise ValueError("predicted segment %d is in the map, not in segments_info" % label)
        pred_segms[label]["area"] = n
    for sid, s in pred_segms.items():
        if "area" not in s or s["area"] is None or sid not in labels.tolist():
            raise ValueError("predicted segment %d is in segments_info, not in the map" % sid)
    gt_counts = dict(zip(*[a.tolist() for a in np.unique(gt_map, return_counts=True)]))
    for sid, s in gt_segms.items():
        if s.get("area") is None:
            s["area"] = gt_counts.get(sid, 0)
    # the joint histogram: np.unique over gt << 32 | pred
    keys, inter = np.unique(gt_map << np.uint64(32) | pred_map, return_counts=True)
    pairs = {(k >> 32, k & 0xFFFFFFFF): n for k, n in zip(keys.tolist(), inter.tolist())}
    gt_matched, pred_matched = set(), set()
    for (g, p), n in pairs.items():
        if g not in gt_segms or p not in pred_segms or gt_segms[g].get("iscrowd", 0) == 1:
            continue
        if gt_segms[g]["category_id"] != pred_segms[p]["category_id"]:
            continue
        # the union leaves out the prediction's pixels on ground-truth VOID (id 0)
        union = pred_segms[p]["area"] + gt_segms[g]["area"] - n - pairs.get((0, p), 0)
        iou = n / union
        if iou > 0.5:
            st = stats[gt_segms[g]["category_id"]]
            st[0].append(iou)
            st[1] += 1
            gt_matched.add(g)
            pred_matched.add(p)
    crowd = {}
    for g, s in gt_segms.items():
        if g in gt_matched:
            continue
        if s.get("iscrowd", 0) == 1:
            crowd[s["category_id"]] = g         # the last crowd segment of a category wins
            continue
        stats[s["category_id"]][3] += 1
    for p, s in pred_segms.items():
        if p in pred_matched:
            continue
        ignored = pairs.get((0, p), 0)
        if s["category_id"] in crowd:
            ignored += pairs.get((crowd[s["category_id"]], p), 0)
        if ignored / s["area"] > 0.5:
            continue
        stats[s["category_id"]][2] += 1


def panoptic_quality(gt_maps, gt_segments, pred_maps, pred_segments, categories):
    """Panoptic quality by panopticapi's rules, per image with np.unique and dicts.

    gt_maps / pred_maps: integer segment-id maps [H, W] (0 = VOID); gt_segments /
    pred_segments: per image the ``segments_info`` lists (``id``, ``category_id``,
    ``iscrowd``, ``area``: a missing gt area is the pixel count); categories: dicts with
    ``id`` and ``isthing``. Returns panopticapi's dict (``All`` / ``Things`` / ``Stuff``:
    pq, sq, rq, n; ``per_class``: pq, sq, rq, 0.0 where a category has no TP, FP or FN) plus
    ``counts``: {category id: (iou_sum, tp, fp, fn)}. The IoU sum of a category is
    ``math.fsum`` of its matches (panopticapi adds them in turn); an average over no
    category is NaN (panopticapi divides by zero)."""
    stats = defaultdict(lambda: [[], 0, 0, 0])
    for gm, gs, pm, ps in zip(gt_maps, gt_segments, pred_maps, pred_segments):
        _panoptic_image(gm, gs, pm, ps, stats)
    counts = {c["id"]: (math.fsum(stats[c["id"]][0]), stats[c["id"]][1], stats[c["id"]][2], stats[c["id"]][3])
              for c in categories}
    out = {"per_class": {}, "counts": counts}
    for name, isthing in (("All", None), ("Things", True), ("Stuff", False)):
        pq = sq = rq = 0.0
        n = 0
        for c in categories:
            if isthing is not None and (c["isthing"] == 1) != isthing:
                continue
            iou, tp, fp, fn = counts[c["id"]]
            if tp + fp + fn == 0:
                out["per_class"][c["id"]] = {"pq": 0.0, "sq": 0.0, "rq": 0.0}
                continue
            n += 1
            row = {"pq": iou / (tp + 0.5 * fp + 0.5 * fn), "sq": iou / tp if tp else 0.0,
                   "rq": tp / (tp + 0.5 * fp + 0.5 * fn)}
            out["per_class"][c["id"]] = row
            pq += row["pq"]
            sq += row["sq"]
            rq += row["rq"]
        out[name] = {"pq": pq / n if n else float("nan"), "sq": sq / n if n else float("nan"),
                     "rq": rq / n if n else float("nan"), "n": n}
    return out


def shapely_quad_iou(gt_quad, dt_quad):
    """IoU of two quadrilaterals x1 y1 ... x4 y4 measured by shapely (GEOS): the polygons'
    intersection area over ``area_a + area_b - inter``, as the DOTA devkit's polyiou
    defines it (shapely is a test dependency, imported here only)."""
    from shapely.geometry import Polygon
    a = Polygon(np.asarray(gt_quad, dtype=np.float64).reshape(4, 2))
    b = Polygon(np.asarray(dt_quad, dtype=np.float64).reshape(4, 2))
    inter = a.intersection(b).area
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def _dota_class(gt, dt, cat, iou_threshold, use_07_metric, poly_iou):
    """dota_evaluation_task1.voc_eval for one class: (ap, npos)."""
    recs = defaultdict(lambda: {"poly": np.zeros((0, 8)), "difficult": np.zeros(0, bool), "det": []})
    g = np.flatnonzero(gt["category_id"] == cat)
    difficult = np.asarray(gt.get("difficult", np.zeros(len(gt["category_id"]))))
    for img in np.unique(gt["image_id"][g]).tolist():
        rows = g[gt["image_id"][g] == img]                        # file order
        recs[img] = {"poly": gt["poly"][rows], "difficult": difficult[rows] != 0,
                     "det": [False] * rows.shape[0]}
    npos = int(sum((~r["difficult"]).sum() for r in recs.values()))
    d = np.flatnonzero(dt["category_id"] == cat)                  # results-file order
    # the devkit: np.argsort(-confidence), whose tie order is unspecified; here stable
    order = d[np.argsort(-dt["score"][d], kind="stable")]
    tp, fp = np.zeros(order.shape[0]), np.zeros(order.shape[0])
    for i, j in enumerate(order.tolist()):
        r = recs[int(dt["image_id"][j])]
        bb = dt["poly"][j]
        ovmax, jmax = -np.inf, -1
        if r["poly"].shape[0]:
            # horizontal-box prefilter, +1 pixel rule; polygon IoU on the kept ones
            G = r["poly"]
            gx0, gy0 = G[:, 0::2].min(axis=1), G[:, 1::2].min(axis=1)
            gx1, gy1 = G[:, 0::2].max(axis=1), G[:, 1::2].max(axis=1)
            bx0, by0, bx1, by1 = bb[0::2].min(), bb[1::2].min(), bb[0::2].max(), bb[1::2].max()
            iw = np.maximum(np.minimum(gx1, bx1) - np.maximum(gx0, bx0) + 1.0, 0.0)
            ih = np.maximum(np.minimum(gy1, by1) - np.maximum(gy0, by0) + 1.0, 0.0)
            inter = iw * ih
            uni = (bx1 - bx0 + 1.0) * (by1 - by0 + 1.0) + (gx1 - gx0 + 1.0) * (gy1 - gy0 + 1.0) - inter
            keep = np.flatnonzero(inter / uni > 0)
            if keep.shape[0]:
                ov = [poly_iou(G[k], bb) for k in keep.tolist()]
                ovmax = max(ov)
                jmax = int(keep[int(np.argmax(ov))])
        if ovmax > iou_threshold:
            if not r["difficult"][jmax]:
                if not r["det"][jmax]:
                    tp[i] = 1.0
                    r["det"][jmax] = True
                else:
                    fp[i] = 1.0
        else:
            fp[i] = 1.0
    if npos == 0:
        return float("nan"), 0          # the devkit: rec = 0/0 (NaN), AP 0; fastap: NaN, left out of mAP
    fp, tp = np.cumsum(fp), np.cumsum(tp)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return voc_ap(rec, prec, use_11_point=use_07_metric), npos


def evaluate_dota(gt, dt, iou_threshold=0.5, use_07_metric=True, poly_iou=None):
    """The DOTA devkit's task-1 evaluation (``dota_evaluation_task1.py``) of columns:
    ``gt`` with ``image_id``, ``category_id``, ``poly`` float64 [G, 8], ``difficult``
    (optional, default 0);
    ``dt`` with ``image_id``, ``category_id``, ``poly`` float64 [D, 8], ``score``.

    Per class: positives are the non-difficult ground truths; detections in descending
    score order (stable: ties keep input order, where the devkit's quicksort leaves it
    unspecified); each takes, among the ground truths of its image whose horizontal boxes
    overlap its own (+1 pixel rule), the one with the highest polygon IoU (the first on
    ties); IoU > ``iou_threshold`` hits: difficult -> neither TP nor FP, untaken -> TP,
    taken -> FP; otherwise FP. AP from ``rec = tp / npos``, ``prec = tp / max(tp + fp,
    eps)``, VOC2007 11-point with ``use_07_metric``. ``poly_iou(gt_quad, dt_quad)``:
    the polygon IoU (default :func:`shapely_quad_iou`; the devkit's is polyiou).

    Returns (cat_ids sorted [K], ap float64 [K] -- NaN for a class without positives --,
    n_pos int64 [K], mAP over the classes with positives)."""
    poly_iou = shapely_quad_iou if poly_iou is None else poly_iou
    cats = np.union1d(np.asarray(gt["category_id"]), np.asarray(dt["category_id"])).astype(np.int64)
    aps, npos = [], []
    for c in cats.tolist():
        a, n = _dota_class(gt, dt, c, iou_threshold, use_07_metric, poly_iou)
        aps.append(a)
        npos.append(n)
    valid = [a for a, n in zip(aps, npos) if n > 0]
    total = 0.0
    for v in valid:
        total += v
    return cats, np.array(aps, dtype=np.float64), np.array(npos, dtype=np.int64), \
        (total / len(valid) if valid else float("nan"))

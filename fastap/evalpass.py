"""The evaluation pass: grouped tables, IoUs and matches of one COCO evaluation.

:func:`run_pass` is the one pipeline behind :func:`fastap.evaluate`,
:class:`fastap.COCOeval` and the CLI: it groups the columns (:func:`build_tables`),
lets the caller attach precomputed IoUs for masks or keypoints
(:mod:`fastap.geometry`), and matches every (category, image, area range)
(:func:`coco_match`). What it returns, an :class:`EvalPass`, is what accumulation and
every report (operating points, confusion matrix, error analysis, plots,
``COCOeval.evalImgs`` / ``ious``) read afterwards; nothing is matched twice.
"""
from __future__ import annotations

import threading
from functools import cached_property

import numpy as np

from . import _core
from .errors import InvalidAnnotationError
from .geometry import exact_ious, iou_floor
from .protocols.coco import coco_accumulate, coco_match
from .tables import build_tables

__all__ = ["EvalPass", "run_pass", "check_unique_gt_ids"]


class EvalPass:
    """What one COCO evaluation pass computed.

    Attributes
    ----------
    tables : fastap.tables.Tables
        The evaluated records, grouped by (category, image, -score).
    matches : list of dict
        One dict per block of at most 32 IoU thresholds (:func:`coco_match`):
        ``dt_tp`` / ``dt_fp`` uint32 [A, n_dt] bitmasks, ``dt_rank`` int32 [n_dt],
        ``npig`` int64 [K, A].
    gt, dt : dict of arrays
        The input columns (:func:`fastap.columns.gt_columns` / ``dt_columns``).
    iou_type : "bbox", "segm" or "keypoints".
    iou_thrs : float64 [T]; rec_thrs : float64 [R]; max_dets : list of int (sorted);
    area_rng : float64 [A, 2]; area_lbl : list of str; use_cats : bool
        The parameters the pass was matched (and is accumulated) with.
    num_threads : int or None
        Threads for the C kernels (None: all cores, see :func:`fastap._core.max_threads`).
    names : dict or None
        Category id -> name, for reports.

    The per-record views the reports read (``n_dt``, ``dt_cat``, ``dt_score``,
    ``dt_box``, ``gt_box``, ...) are the tables' named columns, or derived from them when
    first asked for.
    """

    def __init__(self, tables, matches, gt, dt, iou_thrs, rec_thrs, max_dets, area_rng, area_lbl,
                 use_cats, iou_type="bbox", num_threads=None, names=None):
        self.tables, self.matches, self.gt, self.dt = tables, matches, gt, dt
        self.iou_type = iou_type
        self.iou_thrs = np.asarray(iou_thrs, dtype=np.float64)
        self.rec_thrs = np.asarray(rec_thrs, dtype=np.float64)
        self.max_dets = [int(m) for m in max_dets]
        self.area_rng = np.asarray(area_rng, dtype=np.float64).reshape(-1, 2)
        self.area_lbl = list(area_lbl)
        self.use_cats = bool(use_cats)
        self.num_threads = num_threads
        self.names = names
        self._lock = threading.Lock()       # reports may run in two threads (fastap.reports)
        self._acc_order = None

    # -- accumulation -------------------------------------------------------------------
    def accumulate(self, rec_thrs=None):
        """pycocotools' ``accumulate()`` of this pass: (precision float64 [T, R, K, A, M],
        recall float64 [T, K, A, M], scores float64 [T, R, K, A, M])."""
        rec = self.rec_thrs if rec_thrs is None else np.asarray(rec_thrs, dtype=np.float64)
        return coco_accumulate(self.tables, self.matches, self.iou_thrs, rec, self.max_dets, self.area_rng,
                               num_threads=self.num_threads)

    # -- per-detection views (for the reports), in the grouped order -------------------------
    @cached_property
    def n_dt(self):
        """Number of grouped detections."""
        return int(self.tables.core.n_dt)

    @cached_property
    def n_gt(self):
        """Number of grouped ground truths."""
        return int(self.tables.core.n_gt)

    @cached_property
    def K(self):
        """Number of evaluated categories (1 when they are pooled, ``use_cats=False``)."""
        return int(self.tables.core.n_cat)

    @cached_property
    def I(self):  # noqa: E743
        """Number of evaluated images."""
        return int(self.tables.img_ids.shape[0])

    @cached_property
    def dt_off(self):
        """int64 [K+1]: the detections of category k are ``dt_off[k]:dt_off[k+1]``."""
        return self.tables.core.dt_off

    @cached_property
    def gt_off(self):
        """int64 [K+1]: the ground truths of category k are ``gt_off[k]:gt_off[k+1]``."""
        return self.tables.core.gt_off

    @cached_property
    def dt_cat(self):
        """int32 [n_dt]: category index of each detection."""
        return np.repeat(np.arange(self.K, dtype=np.int32), np.diff(self.dt_off))

    @cached_property
    def gt_cat(self):
        """int32 [n_gt]: category index of each ground truth."""
        return np.repeat(np.arange(self.K, dtype=np.int32), np.diff(self.gt_off))

    @property
    def dt_score(self):
        """float64 [n_dt]: detection scores."""
        return self.tables.core.dt_score

    @property
    def gt_box(self):
        """float64 [n_gt, 4]: ground-truth xywh boxes."""
        return self.tables.core.gt_box

    @property
    def gt_crowd(self):
        """uint8 [n_gt]: ground-truth iscrowd flags."""
        return self.tables.core.gt_crowd

    @cached_property
    def cat_ids(self):
        """int64 [K]: the evaluated category ids ([-1] when pooled)."""
        return np.asarray(self.tables.cat_ids, dtype=np.int64)

    @property
    def dt_box(self):
        """float64 [n_dt, 4] xywh boxes of the grouped detections."""
        return self.tables.dt_box()

    @property
    def box_iou(self):
        """True when matching used box IoU (False: masks, keypoints or rotated boxes, whose overlaps the
        reports take from :func:`fastap.geometry.pair_ious`)."""
        return "iou" not in self.tables.core.extra

    def acc_order(self):
        """Grouped detection indices in pycocotools' accumulation order: (category,
        -score, image, position in the image) -- a stable sort of the grouped order
        (category, image, -score) by (category, -score). Computed once per pass."""
        if self._acc_order is not None:
            return self._acc_order
        with self._lock:
            if self._acc_order is None:
                self._acc_order = self._sorted_by_category()
        return self._acc_order

    def _sorted_by_category(self):
        if self.n_dt and np.isfinite(self.dt_score).all():
            # C: a stable sort by descending score inside each category's run, in parallel
            return _core.sort_runs_desc(np.searchsorted(self.dt_cat, np.arange(self.K + 1)),
                                        np.ascontiguousarray(self.dt_score), self.num_threads)
        return np.lexsort((-self.dt_score, self.dt_cat))

    def area_index(self, area):
        """Index of an area range given by label ("all", ...) or index."""
        if isinstance(area, (int, np.integer)) and not isinstance(area, bool):
            if not 0 <= area < len(self.area_lbl):
                raise ValueError("area index %d out of range (%d area ranges)" % (area, len(self.area_lbl)))
            return int(area)
        if area not in self.area_lbl:
            raise ValueError("area should be one of %s, got %r" % (self.area_lbl, area))
        return self.area_lbl.index(area)

    def cut(self, max_dets):
        """The per-image detection cut of a report (default: the last maxDets)."""
        last = self.max_dets[-1]
        if max_dets is None:
            return last
        max_dets = int(max_dets)
        if max_dets < 1 or max_dets > last:
            raise ValueError("max_dets should be in [1, %d] (the evaluation matched the first %d "
                             "detections per image and category), got %d" % (last, last, max_dets))
        return max_dets

    def bits(self, iou_threshold, a, max_dets):
        """(tp bool [n_dt], fp bool [n_dt], npig int64 [K]) at one IoU threshold and area
        range, over the grouped detections; from the pass's bitmasks when the threshold
        was evaluated, else from one extra matching at that threshold."""
        thr = float(iou_threshold)
        hit = np.flatnonzero(np.isclose(self.iou_thrs, thr, rtol=0, atol=1e-12))
        cut = self.cut(max_dets)
        if hit.size:
            t = int(hit[0])
            m = self.matches[t // _core.MAX_IOU_THRESHOLDS]
            bit = np.uint32(1 << (t % _core.MAX_IOU_THRESHOLDS))
            tp = (m["dt_tp"][a] & bit) != 0
            fp = (m["dt_fp"][a] & bit) != 0
            npig = m["npig"][:, a]
            rank = m["dt_rank"]
        else:
            if not 0.0 <= thr <= 1.0:
                raise ValueError("iou_threshold should be in [0, 1], got %r" % (iou_threshold,))
            m = self.match_one(thr, a)
            tp, fp, npig, rank = m["dt_tp"][0] != 0, m["dt_fp"][0] != 0, m["npig"][:, 0], m["dt_rank"]
        if cut < self.max_dets[-1]:
            keep = rank < cut
            tp, fp = tp & keep, fp & keep
        return tp, fp, np.asarray(npig, dtype=np.int64)

    def match_one(self, thr, a, details=False):
        """One extra matching at IoU threshold ``thr`` and area range ``a``."""
        self.exact_ious(thr)
        return coco_match(self.tables, np.array([thr]), [self.max_dets[-1]], self.area_rng[a:a + 1],
                          details=details, num_threads=self.num_threads)[0]

    def exact_ious(self, below=None):
        """Make the precomputed IoUs exact where they may be bounds (OKS below the
        evaluation's thresholds, see :func:`fastap.geometry.attach_oks`); with ``below``,
        only when that threshold needs it."""
        if below is None or below < iou_floor(self.tables.core):
            with self._lock:
                exact_ious(self.tables.core)


def check_unique_gt_ids(gt, tables):
    """Refuse duplicate annotation ids among the evaluated ground truth (pycocotools
    would silently evaluate the last one twice)."""
    ids = np.take(gt["id"], tables.gt_index)
    if ids.shape[0] > 1:
        u, c = np.unique(ids, return_counts=True)
        if (c > 1).any():
            dup = u[c > 1][0]
            recs = np.flatnonzero(gt["id"] == dup)[:2].tolist()
            raise InvalidAnnotationError(
                "annotations: id %d is used by records %d and %d; annotation ids must be unique "
                "(pycocotools would silently evaluate the last one twice)" % (dup, recs[0], recs[1]))


def run_pass(gt, dt, img_ids, cat_ids, use_cats, iou_thrs, rec_thrs, max_dets, area_rng, area_lbl,
             iou_type="bbox", attach=None, unique_gt_ids=False, num_threads=None, names=None):
    """Group, attach IoUs, match: pycocotools' ``evaluate()`` over columns.

    ``gt`` / ``dt``: columns; ``img_ids`` / ``cat_ids``: the evaluated ids (see
    :func:`build_tables`); ``iou_thrs`` float64 [T], ``max_dets`` sorted, ``area_rng``
    float64 [A, 2] (checked by :func:`fastap.protocols.coco.check_params`).
    ``attach(tables)``: for masks and keypoints, attaches their IoUs to the tables (the
    detections' boxes are then not gathered). ``unique_gt_ids``: refuse duplicate
    annotation ids (:func:`check_unique_gt_ids`). Returns an :class:`EvalPass`.
    """
    tables = build_tables(gt, dt, img_ids, cat_ids, use_cats, dt_boxes=attach is None)
    if unique_gt_ids:
        check_unique_gt_ids(gt, tables)
    if attach is not None:
        attach(tables)
    # a small pass keeps the matching's per-detection details too (a few kB): the evalImgs
    # dicts of a per-batch loop are then made without matching again
    small = tables.core.n_dt + tables.core.n_gt < _core.SERIAL_BELOW
    matches = coco_match(tables, iou_thrs, max_dets, area_rng, details=small, num_threads=num_threads)
    return EvalPass(tables, matches, gt, dt, iou_thrs, rec_thrs, max_dets, area_rng, area_lbl, use_cats,
                    iou_type=iou_type, num_threads=num_threads, names=names)

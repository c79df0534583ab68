"""Per-annotation geometry beyond boxes: keypoints (OKS) and masks (RLE IoU).

The box engine (:mod:`fastap.engine`) groups records by (category, image) and matches
them from an IoU per (detection, ground truth) pair. For ``iouType="keypoints"`` and
``"segm"`` those IoUs are computed here, once per evaluation, in C
(``_core.oks_iou``, ``_core.rle_iou_tables``), laid out for the tables' runs and handed
to the same matching and accumulation.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from . import _core
from .errors import InvalidAnnotationError, InvalidTypeError

__all__ = ["keypoint_arrays", "keypoint_result_boxes", "attach_oks"]


def keypoint_arrays(anns, n_kpt, what, gt):
    """Keypoints of COCO annotation dicts: float64 [n, 3 n_kpt]; with ``gt`` also
    ``num_keypoints`` int64 [n] (pycocotools reads that field, not the visibilities,
    to ignore ground truth without keypoints)."""
    n = len(anns)
    rows = []
    for i, a in enumerate(anns):
        if not isinstance(a, Mapping):
            raise InvalidTypeError("%s record %d should be a dict, got %s" % (what, i, type(a).__name__))
        k = a.get("keypoints")
        if k is None:
            raise InvalidAnnotationError("%s record %d%s: missing field 'keypoints'"
                                         % (what, i, _rid(a)))
        if not isinstance(k, (list, tuple, np.ndarray)) or len(k) != 3 * n_kpt:
            raise InvalidAnnotationError(
                "%s record %d%s: keypoints should hold %d numbers (x, y, v for each of the %d keypoints "
                "that kpt_oks_sigmas has), got %s"
                % (what, i, _rid(a), 3 * n_kpt, n_kpt, len(k) if hasattr(k, "__len__") else type(k).__name__))
        rows.append(k)
    try:
        kpt = np.array(rows, dtype=np.float64).reshape(n, 3 * n_kpt)
    except (TypeError, ValueError):
        for i, r in enumerate(rows):
            try:
                np.asarray(r, dtype=np.float64)
            except (TypeError, ValueError):
                raise InvalidAnnotationError("%s record %d%s: keypoints should be numbers"
                                             % (what, i, _rid(anns[i]))) from None
        raise
    bad = ~np.isfinite(kpt).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidAnnotationError("%s record %d%s: keypoints should be finite numbers"
                                     % (what, i, _rid(anns[i])))
    if not gt:
        return kpt
    nk = []
    for i, a in enumerate(anns):
        v = a.get("num_keypoints")
        if v is None:
            raise InvalidAnnotationError("%s record %d%s: missing field 'num_keypoints'" % (what, i, _rid(a)))
        nk.append(v)
    try:
        num = np.asarray(nk, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidAnnotationError("%s: num_keypoints should be numbers" % what) from None
    return kpt, num


def _rid(a):
    return " (id %s)" % (a["id"],) if isinstance(a, Mapping) and "id" in a else ""


def keypoint_result_boxes(kpt):
    """pycocotools' loadRes for keypoint results without boxes: the box spanned by all
    keypoints (visible or not) and its area. kpt float64 [n, 3K] -> (bbox [n, 4], area [n])."""
    x, y = kpt[:, 0::3], kpt[:, 1::3]
    if kpt.shape[0] == 0:
        return np.zeros((0, 4)), np.zeros(0)
    x0, x1, y0, y1 = x.min(axis=1), x.max(axis=1), y.min(axis=1), y.max(axis=1)
    return np.stack([x0, y0, x1 - x0, y1 - y0], axis=1), (x1 - x0) * (y1 - y0)


def attach_oks(tables, gt_kpt, gt_num_kpt, gt_crowd, dt_kpt, sigmas, cut, num_threads=None,
               use_cats=True):
    """Compute OKS for every (category, image) run of ``tables`` (engine.Tables) and
    make matching use it; also sets pycocotools' keypoint ignore rule (iscrowd or
    ``num_keypoints == 0``). Arrays are in the input columns' order.

    pycocotools quirk, reproduced: with ``useCats=0`` its computeOks looks the ground
    truth up under category -1 and finds none, so no detection matches anything; the
    OKS are then set to -inf (no threshold reaches them)."""
    sigmas = np.ascontiguousarray(sigmas, dtype=np.float64).reshape(-1)
    K = sigmas.shape[0]
    for name, a in (("ground truth", gt_kpt), ("results", dt_kpt)):
        if a.shape[0] and a.shape[1] != 3 * K:
            raise InvalidAnnotationError("%s keypoints hold %d numbers, but kpt_oks_sigmas has %d sigmas "
                                         "(expected %d numbers)" % (name, a.shape[1], K, 3 * K))
    gi, di = tables.gt_index, tables.dt_index
    g = np.ascontiguousarray(np.take(gt_kpt.reshape(-1, 3 * K), gi, axis=0))
    d = np.ascontiguousarray(np.take(dt_kpt.reshape(-1, 3 * K), di, axis=0))
    nvis = (g[:, 2::3] > 0).sum(axis=1).astype(np.int64)
    ign = (np.take(gt_crowd, gi) != 0) | (np.take(gt_num_kpt, gi) == 0)
    tables.core.set_gt_ignore(ign.astype(np.uint8))
    if not use_cats:
        off, total = tables.core.iou_layout(int(cut))
        tables.core.set_iou(np.full(max(total, 1), -np.inf), off, int(cut))
        return
    _core.oks_iou(tables.core, sigmas, g, nvis, d, int(cut), num_threads=num_threads)

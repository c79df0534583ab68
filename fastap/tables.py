"""Tables: the evaluated records grouped by (category, image, -score) in C.

:func:`build_tables` keeps the ground truth and detections on the evaluated images and
categories and groups them (``_core.group`` / ``_core.lut_group``) into the CSR layout
the kernels walk (see ``fa_coco_input`` in ``csrc/fastap.h``): one contiguous run per
category, images in id order inside it, detections by descending score inside each
image (a stable sort: ties keep the input order, as pycocotools' mergesort does).
"""
from __future__ import annotations

import numpy as np

from . import _core
from .columns import IdIndex, param_ids, refuse_repeated_pooled, unique_ids
from .errors import InvalidAnnotationError

__all__ = ["Tables", "build_tables", "dt_gt_runs"]


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
            return self.core.dt_box
        return take_rows(self._dt_bbox, self.dt_index).reshape(-1, 4)



def take_rows(a, idx):
    """``np.take(a, idx, axis=0)`` for a 2-d array; a C-contiguous one is gathered as
    whole rows (one copy of each row's bytes: 2-3x faster than NumPy's strided take of
    a box column)."""
    a = np.asarray(a)
    if a.ndim == 2 and a.flags.c_contiguous and a.shape[1] and a.dtype.itemsize * a.shape[1] <= 64:
        rows = a.view(np.dtype((np.void, a.dtype.itemsize * a.shape[1]))).reshape(-1)
        return np.take(rows, idx).view(a.dtype).reshape(-1, a.shape[1])
    return np.take(a, idx, axis=0)


def build_tables(gt, dt, img_ids, cat_ids, use_cats=True, dt_by_image=True, dt_boxes=True, dt_positions=None):
    """Keep the records on ``img_ids`` and ``cat_ids`` and group them in C.

    ``img_ids``: evaluated image ids (sorted and made unique here, as pycocotools'
    evaluate() does); ``cat_ids``: evaluated category ids (sorted-unique with
    ``use_cats``; in the given order without, which decides the order in which
    pycocotools pools categories). ``dt_by_image=False`` keeps detections in input
    order inside each category (VOC). ``dt_boxes=False``: the detections' boxes are not
    gathered (masks and keypoints are matched by precomputed IoUs; :meth:`Tables.dt_box`
    gathers them when a report asks). ``dt_positions``: ``(sel int64 [n], img int32 [n],
    cat int32 [n])``, the detections to keep (positions in ``dt``) with their image
    and category positions already looked up (``use_cats`` and ``dt_by_image`` only):
    they are grouped without a second lookup. Returns :class:`Tables`.
    """
    img_ids = unique_ids(param_ids("evaluated images", "img_ids", img_ids))
    cat_ids = param_ids("evaluated categories", "cat_ids", cat_ids)
    if use_cats:
        cat_ids = unique_ids(cat_ids)
        cat_sorted, cat_rank_of_sorted = cat_ids, np.arange(cat_ids.shape[0])
    else:
        refuse_repeated_pooled(cat_ids, "evaluated categories", "cat_ids")
        o = np.argsort(cat_ids, kind="stable")      # pooled in the given order
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
        dt_order, d_score, d_box, d_area = empty, None, None, None
    else:
        g_idx, g_img, g_off = select(gt, None)
        if dt_positions is not None and use_cats and dt_by_image:
            sel, img_i, cat_r = dt_positions
            dt_order, d_off = _core.group(cat_r, cat_ids.shape[0], img_i, max(I, 1), np.take(dt["score"], sel))
            d_idx, d_img, d_score, d_box, d_area = _core.gather_grouped(
                dt_order, sel, img_i, np.asarray(dt["score"], np.float64),
                np.asarray(dt["bbox"], np.float64).reshape(-1, 4) if dt_boxes else None,
                np.asarray(dt["area"], np.float64))
        else:
            d_idx, d_img, d_off = select(dt, dt["score"])
            dt_order = d_score = d_box = d_area = None
    core = _core.CocoTables(
        K_in, g_off, g_img, take_rows(gt["bbox"], g_idx), np.take(gt["area"], g_idx),
        np.take(gt["iscrowd"], g_idx), (np.take(gt["id"], g_idx) == 0).astype(np.uint8),
        d_off, d_img, (take_rows(dt["bbox"], d_idx) if d_box is None else d_box) if dt_boxes else None,
        np.take(dt["area"], d_idx) if d_area is None else d_area,
        np.take(dt["score"], d_idx) if d_score is None else d_score, dt_by_image=dt_by_image)
    tables = Tables(core, g_idx, d_idx, g_img, d_img, img_ids,
                    cat_ids if use_cats else np.array([-1], np.int64), cat_ids,
                    dt_bbox=None if dt_boxes else dt["bbox"])
    tables.dt_order = dt_order      # with dt_positions: the grouped records' positions among them
    return tables



def dt_gt_runs(tables):
    """Each grouped detection's ground truths -- those of its category and image, a run
    in the grouped ground truth -- as (first int64 [n_dt], count int64 [n_dt]) positions
    in the grouped order (for kernels that compare a detection with its image's ground
    truths: rotated IoU rows, DOTA's best match). Any order of the detections inside a
    category works (``dt_by_image=False`` too)."""
    core = tables.core
    n_img = max(int(tables.img_ids.shape[0]), 1)
    k_gt = np.repeat(np.arange(core.n_cat, dtype=np.int64), np.diff(np.asarray(core.gt_off, np.int64)))
    k_dt = np.repeat(np.arange(core.n_cat, dtype=np.int64), np.diff(np.asarray(core.dt_off, np.int64)))
    key_gt = k_gt * n_img + np.asarray(tables.gt_img, np.int64)
    key_dt = k_dt * n_img + np.asarray(tables.dt_img, np.int64)
    first = np.searchsorted(key_gt, key_dt, "left").astype(np.int64)
    count = np.searchsorted(key_gt, key_dt, "right").astype(np.int64) - first
    return first, count

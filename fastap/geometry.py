"""Per-annotation geometry beyond boxes: keypoints (OKS) and masks (RLE IoU).

The tables (:mod:`fastap.tables`) group records by (category, image), and the protocol
(:mod:`fastap.protocols.coco`) matches them from an IoU per (detection, ground truth) pair. For ``iouType="keypoints"`` and
``"segm"`` those IoUs are computed here, once per evaluation, in C
(``_core.oks_iou``, ``_core.rle_iou_tables``), laid out for the tables' runs and handed
to the same matching and accumulation.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import numpy as np

from . import _core
from .columns import id_column
from .errors import FastapError, InvalidAnnotationError, InvalidOptionError, InvalidTypeError
from .tables import dt_gt_runs

__all__ = ["keypoint_arrays", "keypoint_result_boxes", "attach_oks", "exact_ious", "iou_floor", "rles_from_annotations",
           "rles_from_spans", "rles_from_objects", "rows_all_nan",
           "segm_result_boxes", "attach_rle_iou", "attach_boundary_iou", "DILATION_RATIO", "pair_ious",
           "has_pair_ious", "attach_rotated_iou"]

# boundary-iou-api's dilation_ratio (the erosion depth as a fraction of the image
# diagonal): 0.02 for COCO; its LVIS evaluation uses 0.008
DILATION_RATIO = 0.02


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
    if not np.isfinite(kpt).all():
        i = int(np.flatnonzero(~np.isfinite(kpt).all(axis=1))[0])
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
    return _core.keypoint_boxes(kpt)      # NaN-free input: the same as NumPy's min / max


def attach_oks(tables, gt_kpt, gt_num_kpt, gt_crowd, dt_kpt, sigmas, cut, num_threads=None,
               use_cats=True, iou_thrs=None, dt_xy=False):
    """Compute OKS for every (category, image) run of ``tables`` (:class:`fastap.tables.Tables`) and
    make matching use it; also sets pycocotools' keypoint ignore rule (iscrowd or
    ``num_keypoints == 0``). Arrays are in the input columns' order.

    ``iou_thrs``: the thresholds matching will use. Pairs whose OKS is provably below all
    of them then keep an upper bound of their OKS (below every threshold) rather than
    the OKS, which spares their exp; ``exact_ious(tables.core)`` computes the exact
    values when something needs them (``COCOeval.ious``, matching at a lower threshold).

    pycocotools quirk, reproduced: with ``useCats=0`` its computeOks looks the ground
    truth up under category -1 and finds none, so no detection matches anything; the
    OKS are then set to -inf (no threshold reaches them).

    ``dt_xy``: ``dt_kpt`` holds only the (x, y) of each detection keypoint, float [D, 2K]
    (what the results scan keeps; OKS reads no detection's visibility)."""
    sigmas = np.ascontiguousarray(sigmas, dtype=np.float64).reshape(-1)
    K = sigmas.shape[0]
    dt_step = 2 if dt_xy else 3
    for name, a, step in (("ground truth", gt_kpt, 3), ("results", dt_kpt, dt_step)):
        if a.shape[0] and a.shape[1] != step * K:
            raise InvalidAnnotationError("%s keypoints hold %d numbers, but kpt_oks_sigmas has %d sigmas "
                                         "(expected %d numbers)" % (name, a.shape[1] // step * 3, K, 3 * K))
    gi, di = tables.gt_index, tables.dt_index
    g = np.ascontiguousarray(gt_kpt.reshape(-1, 3 * K))          # both read through their
    d = np.ascontiguousarray(dt_kpt.reshape(-1, dt_step * K))    # index, not gathered
    gi = np.ascontiguousarray(gi, dtype=np.int64)
    nvis = _core.keypoint_nvis(g, gi) if g.shape[0] else np.zeros(0, np.int64)
    ign = (np.take(gt_crowd, gi) != 0) | (np.take(gt_num_kpt, gi) == 0)
    tables.core.set_gt_ignore(ign.astype(np.uint8))
    floor = -np.inf
    if iou_thrs is not None and len(iou_thrs):
        floor = min(float(np.min(iou_thrs)), 1 - 1e-10)     # pycocotools: min(t, 1 - 1e-10)
    tables.core.extra["pair_iou"] = partial(_oks_pairs, sigmas, g, d)
    if not use_cats:
        off, total = tables.core.iou_layout(int(cut))
        tables.core.set_iou(np.full(max(total, 1), -np.inf), off, int(cut))
        return
    args = (tables.core, sigmas, g, nvis, d if d.shape[0] else np.zeros((0, dt_step * K)), int(cut))
    kw = {"num_threads": num_threads, "dt_row": di, "gt_row": gi}
    _core.oks_iou(*args, floor=floor, **kw)
    if floor > 0:
        tables.core.extra["iou_floor"] = floor
        tables.core.extra["iou_exact"] = lambda: _core.oks_iou(*args, **kw)


def exact_ious(core):
    """Make the precomputed IoUs of ``core`` (``Tables.core``) exact everywhere: OKS
    attached with thresholds keep bounds below them (see attach_oks). No-op otherwise."""
    if iou_floor(core) > -np.inf:
        core.extra["iou_exact"]()
        core.extra["iou_floor"] = -np.inf


def iou_floor(core):
    """The threshold below which ``core``'s precomputed IoUs may be bounds, not values
    (-inf: all exact)."""
    return core.extra.get("iou_floor", -np.inf)


# ------------------------------------------------------------------------------ masks
def _image_sizes(image_ids, imgs):
    """int64 heights and widths of the images of `image_ids` (-1 where unknown)."""
    ids = np.asarray(image_ids).reshape(-1)
    if ids.dtype.kind in "iu" and ids.shape[0] > 4 * len(imgs):
        # many records, few images (500k results on 5k images): look the ids up in a
        # table of the images rather than sorting the records' ids
        kid = np.fromiter((k if isinstance(k, (int, np.integer)) else -1 for k in imgs), np.int64, len(imgs))
        if kid.shape[0] and kid.min() >= 0 and int(kid.max()) < 4 * kid.shape[0] + (1 << 20):
            kh, kw = _sizes_of(list(imgs.values()) + [None])        # the last row: unknown ids
            lut = np.full(int(kid.max()) + 2, kid.shape[0], np.int64)   # unknown id: the -1 row
            lut[kid] = np.arange(kid.shape[0])
            pos = lut[np.clip(ids, -1, lut.shape[0] - 1)]               # -1 and past the end: unknown
            return kh[pos], kw[pos]
    uniq, inv = np.unique(ids, return_inverse=True)
    h, w = _sizes_of([imgs.get(i) for i in uniq.tolist()])
    return h[inv], w[inv]


_UNSET = object()


def _sizes_of(images):
    """int64 heights and widths of image dicts (None: an unknown image), -1 where the
    image or either size is unknown; sizes that are all plain ints in range in one NumPy
    pass, anything else checked one by one (:func:`_size_of` names what is wrong)."""
    hs = [-1 if img is None else img.get("height", _UNSET) for img in images]
    ws = [-1 if img is None else img.get("width", _UNSET) for img in images]
    if all(type(v) is int for v in hs) and all(type(v) is int for v in ws):
        try:
            h, w = np.array(hs, np.int64), np.array(ws, np.int64)
        except OverflowError:
            h = w = None
        known = np.fromiter((img is not None for img in images), bool, len(images))
        if h is not None and ((h[known] >= 0) & (h[known] <= 2147483647) & (w[known] >= 0)
                              & (w[known] <= 2147483647)).all():
            return h, w
    h = np.full(len(images), -1, np.int64)
    w = np.full(len(images), -1, np.int64)
    for j, img in enumerate(images):
        if img is not None and "height" in img and "width" in img:
            h[j], w[j] = _size_of(img, "height"), _size_of(img, "width")
    return h, w


def _size_of(img, field):
    """An image's height or width, for rasterising polygons: an integer in [0, 2**31 - 1]
    (the sizes an RLE holds)."""
    v = img[field]
    try:
        n = int(v)
        ok = not isinstance(v, (bool, str, bytes)) and n == v and 0 <= n <= 2147483647
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise InvalidAnnotationError("image %s: field '%s' should be an integer in [0, 2**31 - 1] (the size "
                                     "polygons are rasterised at), got %r" % (img.get("id"), field, v))
    return n


def rles_from_annotations(anns, imgs, what, lazy=False):
    """RLE set (see ``_core.rle_set_stats``) of the annotations' segmentations, in their
    order; polygons are rasterised at their image's size (``imgs``: id -> image dict),
    as pycocotools' annToRLE does. ``lazy``: polygons of Python numbers are only checked
    and bounded, and rasterised where the IoU needs them (the set's boxes of them are
    bounds, their areas NaN: for results whose areas are their boxes')."""
    objs = image_ids = None
    if all(type(a) is dict for a in anns):                     # plain dicts: two passes
        try:
            objs = [a["segmentation"] for a in anns]
        except KeyError:
            objs = None                                         # named below
        image_ids = [a.get("image_id", -1) for a in anns]
    if objs is None:
        objs, image_ids = [], []
        for i, a in enumerate(anns):
            if not isinstance(a, Mapping):
                raise InvalidTypeError("%s record %d should be a dict, got %s" % (what, i, type(a).__name__))
            if "segmentation" not in a:
                raise InvalidAnnotationError("%s record %d%s: missing field 'segmentation'" % (what, i, _rid(a)))
            objs.append(a["segmentation"])
            image_ids.append(a.get("image_id", -1))
    h, w = _image_sizes(id_column(what, "image_id", image_ids, len(image_ids)), imgs)
    try:
        return _core.rle_set_from_objects(objs, h, w, what, lazy_polygons=lazy)
    except InvalidOptionError:          # a bad setting (FASTAP_NUM_THREADS), not the data
        raise
    except ValueError as e:
        raise InvalidAnnotationError(str(e)) from None


def rles_from_objects(objs, image_ids, imgs, what, lazy=False):
    """RLE set of a sequence of segmentations (pycocotools' forms); ``imgs``: image id
    -> dict with height / width, for polygons; ``lazy``: as :func:`rles_from_annotations`."""
    if objs is None or isinstance(objs, (str, bytes, dict)) or not hasattr(objs, "__iter__"):
        raise InvalidTypeError("%s: field 'segmentation' should be a list of one segmentation per record, "
                               "got %s" % (what, type(objs).__name__))
    objs = list(objs)
    if image_ids is None:
        ids = np.full(len(objs), -1, np.int64)
    else:
        ids = np.asarray(image_ids).reshape(-1) if not isinstance(image_ids, (list, tuple)) else image_ids
        if len(ids) != len(objs):
            raise InvalidAnnotationError("%s: %d segmentations for %d records" % (what, len(objs), len(ids)))
        ids = id_column(what, "image_id", ids, len(objs))
    h, w = _image_sizes(ids, imgs)
    try:
        return _core.rle_set_from_objects(objs, h, w, what, lazy_polygons=lazy)
    except InvalidOptionError:          # a bad setting (FASTAP_NUM_THREADS), not the data
        raise
    except ValueError as e:
        raise InvalidAnnotationError(str(e)) from None


def rles_from_spans(data, spans, image_ids, imgs, what, num_threads=None, lazy=False, rle_fields=None, exact=True,
                    poly_bound=None):
    """RLE set of segmentations found by the C scanner (byte spans in ``data``);
    ``lazy``: compressed strings and polygons stay in ``data`` until the IoU reads them;
    ``rle_fields``: the scanner's ``seg_rle`` (RLE objects it has read already);
    ``exact=False`` (with ``lazy``): polygons are not even rasterised, so the set's
    boxes of them are bounds and their areas NaN (for the IoU alone: see _segm.pxi);
    ``poly_bound`` (then): the scan's ``seg_bound``, polygons' vertex boxes it has read."""
    h, w = _image_sizes(image_ids, imgs)
    make = partial(_core.rle_set_from_spans, data, spans, h, w, what, num_threads=num_threads, lazy=lazy,
                   rle_fields=rle_fields, exact=exact, poly_bound=poly_bound)
    try:
        rles = make()
    except InvalidOptionError:          # a bad setting (FASTAP_NUM_THREADS), not the data
        raise
    except ValueError as e:
        raise InvalidAnnotationError(str(e)) from None
    if lazy and not exact:
        # rows only (the text stays with its owner): made again from the same inputs by
        # the reports that ask for them (attach_rle_iou), rather than held after the IoU
        rles["remake"] = make
    return rles


def rows_all_nan(a):
    """bool [n]: rows of the float array a [n, k] that are all NaN (the scanner's mark of
    an absent field). One flat pass in the common cases (no NaN, or all NaN)."""
    nan = np.isnan(a)
    if not nan.any():
        return np.zeros(a.shape[0], bool)
    if nan.all():
        return np.ones(a.shape[0], bool)
    return nan.all(axis=1)


def segm_result_boxes(rles, given_bbox):
    """pycocotools' loadRes for mask results: area = the mask's area; bbox = the record's
    own when it has one (rows of ``given_bbox`` that are not NaN), else the mask's box."""
    bbox = np.array(rles["bbox"], dtype=np.float64, copy=True)
    if given_bbox is not None:
        has = ~rows_all_nan(given_bbox)
        if has.any():
            bbox[has] = given_bbox[has]
    return bbox, np.asarray(rles["area"], dtype=np.float64)


def attach_rle_iou(tables, gt_rles, dt_rles, cut, num_threads=None):
    """Mask IoU (pycocotools maskUtils.iou, crowd rule) of every (category, image) run of
    ``tables``; RLE sets in the input columns' order. Returns (IoUs float64 [total],
    dt_iou_off int64 [n_dt]): their layout (``CocoTables.iou_layout``). The reports'
    overlaps of any two records of an image (:func:`pair_ious`) come from the same sets."""
    out = _core.rle_iou_tables(tables.core, gt_rles, tables.gt_index, dt_rles, tables.dt_index, int(cut),
                               num_threads=num_threads)
    remake = dt_rles.get("remake")
    tables.core.extra["pair_iou"] = partial(_mask_pairs, gt_rles, dt_rles if remake is None else _Remade(remake))
    return out


def attach_boundary_iou(tables, gt_rles, dt_rles, gt_crowd, cut, dilation_ratio=DILATION_RATIO, num_threads=None):
    """Boundary IoU (boundary-iou-api's COCO evaluation) of every (category, image) run of
    ``tables``: min(mask IoU, IoU of the boundaries) against non-crowd ground truth, the
    mask IoU (crowd rule) against crowd ground truth. A boundary is the mask minus its
    erosion by a 3x3 square repeated max(1, round(dilation_ratio * image diagonal)) times,
    the image border counting as background (``_core.rle_set_boundary``). ``gt_crowd``:
    iscrowd of the ground truth, in the set's order. A crowd ground truth's "boundary" is
    its whole image, so its boundary IoU (crowd rule) is 1 and the min keeps the mask IoU."""
    if not isinstance(dilation_ratio, (int, float, np.floating, np.integer)) or isinstance(dilation_ratio, bool) \
            or not np.isfinite(dilation_ratio) or dilation_ratio < 0:
        raise InvalidOptionError("dilation_ratio should be a finite number >= 0, got %r" % (dilation_ratio,))
    iou, dt_iou_off = attach_rle_iou(tables, gt_rles, dt_rles, cut, num_threads=num_threads)
    mask_iou = tables.core.extra["iou"]           # the next attach makes a new buffer
    n_gt, n_dt = gt_rles["hw"].shape[0], dt_rles["hw"].shape[0]
    used_gt = np.zeros(n_gt, bool)
    used_gt[np.asarray(tables.gt_index, np.int64)] = True
    # only detections with a positive mask IoU need their boundary: min(0, b) is 0
    used_dt = np.zeros(n_dt, bool)
    kept = np.flatnonzero(dt_iou_off >= 0)
    if iou.shape[0] and kept.shape[0]:
        order = np.argsort(dt_iou_off[kept], kind="stable")
        starts = dt_iou_off[kept[order]]                 # rows are packed: [0, total) in order
        positive = np.logical_or.reduceat(iou > 0, starts)
        used_dt[np.asarray(tables.dt_index, np.int64)[kept[order[positive]]]] = True
    crowd = np.asarray(gt_crowd).reshape(-1).astype(bool)
    gb = _core.rle_set_boundary(gt_rles, float(dilation_ratio), whole=crowd, skip=~used_gt, num_threads=num_threads)
    db = _core.rle_set_boundary(dt_rles, float(dilation_ratio), skip=~used_dt, num_threads=num_threads)
    attach_rle_iou(tables, gb, db, cut, num_threads=num_threads)
    iou = tables.core.extra["iou"]
    np.minimum(iou, mask_iou, out=iou)
    tables.core.extra["pair_iou"] = partial(_boundary_pairs, gt_rles, dt_rles, float(dilation_ratio))


def attach_rotated_iou(tables, gt_rbox, dt_rbox, gt_crowd, cut, num_threads=None):
    """Rotated-box IoU (``fastap.rotated_iou``'s exact geometry, detectron2's XYWHA in
    degrees) of every (category, image) run of ``tables``, set as the IoUs matching uses;
    against a crowd ground truth, pycocotools' crowd rule: the intersection over the
    detection's area. ``gt_rbox`` / ``dt_rbox``: float64 [n, 5] in the input columns'
    order (checked by :func:`fastap.columns.rotated_gt_columns`); ``gt_crowd``: iscrowd
    in the same order. One C call over all rows (``_core.rotated_iou_rows``), no Python
    per detection."""
    core = tables.core
    gi = np.asarray(tables.gt_index, np.int64)
    di = np.asarray(tables.dt_index, np.int64)
    g_rec = _core.rotated_records(np.ascontiguousarray(np.take(gt_rbox, gi, axis=0).reshape(-1, 5)))
    d_rec = _core.rotated_records(np.ascontiguousarray(np.take(dt_rbox, di, axis=0).reshape(-1, 5)))
    crowd = np.ascontiguousarray(np.take(np.asarray(gt_crowd).reshape(-1), gi) != 0, dtype=np.uint8)
    row_off, total = core.iou_layout(int(cut))
    # each detection's run of ground truths: same category group, same image
    first, count = dt_gt_runs(tables)
    iou = _core.rotated_iou_rows(d_rec, np.ascontiguousarray(row_off, np.int64), first, count, g_rec, crowd,
                                 int(total), num_threads=num_threads)
    core.set_iou(iou, row_off, int(cut))
    core.extra["pair_iou"] = partial(_rotated_pairs, gt_rbox, dt_rbox)


# ------------------------------------------------------------------------------ pairs of any classes
# The reports (confusion matrix, error analysis) compare a detection with every ground
# truth of its image, of any category, where matching compared it only with its own
# category's. The attach_* functions above leave in ``tables.core.extra["pair_iou"]`` how
# to compute those overlaps from the same masks / keypoints, with the same kernels:
# ``f(sub, gt_rows, dt_rows, num_threads)`` fills the one-category tables ``sub`` (its
# runs are images) and returns (iou, dt_iou_off) laid out by ``sub.iou_layout``.

class _Remade:
    """An RLE set made again (once, when first asked) from the call that made it:
    ``remake`` of a set made lazily from a file's text (see rles_from_spans), whose rows
    (some 100 bytes a mask) are not worth holding from an evaluation to its reports."""

    def __init__(self, make):
        self._make, self._rles = make, None

    def get(self):
        if self._rles is None:
            self._rles = self._make()
        return self._rles


def _mask_pairs(gt_rles, dt_rles, sub, gt_rows, dt_rows, num_threads):
    if isinstance(dt_rles, _Remade):
        dt_rles = dt_rles.get()
    return _core.rle_iou_tables(sub, gt_rles, gt_rows, dt_rles, dt_rows, max(sub.n_dt, 1), num_threads=num_threads)


def _boundary_pairs(gt_rles, dt_rles, dilation_ratio, sub, gt_rows, dt_rows, num_threads):
    """min(mask IoU, boundary IoU), as attach_boundary_iou (no crowd rule: the reports
    leave crowds out); boundaries only of the masks that overlap something."""
    mask_iou, off = _mask_pairs(gt_rles, dt_rles, sub, gt_rows, dt_rows, num_threads)
    used_gt = np.zeros(gt_rles["hw"].shape[0], bool)
    used_gt[gt_rows] = True
    used_dt = np.zeros(dt_rles["hw"].shape[0], bool)
    rows_with = np.flatnonzero(off >= 0)            # their rows are packed in order
    if rows_with.shape[0]:
        positive = np.logical_or.reduceat(mask_iou > 0, off[rows_with])
        used_dt[dt_rows[rows_with[positive]]] = True
    gb = _core.rle_set_boundary(gt_rles, dilation_ratio, skip=~used_gt, num_threads=num_threads)
    db = _core.rle_set_boundary(dt_rles, dilation_ratio, skip=~used_dt, num_threads=num_threads)
    b_iou, _ = _mask_pairs(gb, db, sub, gt_rows, dt_rows, num_threads)
    return np.minimum(mask_iou, b_iou), off


def _oks_pairs(sigmas, gt_kpt, dt_kpt, sub, gt_rows, dt_rows, num_threads):
    nvis = _core.keypoint_nvis(gt_kpt, gt_rows) if gt_kpt.shape[0] else np.zeros(0, np.int64)
    step = dt_kpt.shape[1] // sigmas.shape[0] if dt_kpt.ndim == 2 and sigmas.shape[0] else 3
    return _core.oks_iou(sub, sigmas, gt_kpt, nvis, dt_kpt if dt_kpt.shape[0] else np.zeros((0, step * sigmas.shape[0])),
                         max(sub.n_dt, 1), num_threads=num_threads, dt_row=dt_rows, gt_row=gt_rows)


def _rotated_pairs(gt_rbox, dt_rbox, sub, gt_rows, dt_rows, num_threads):
    """Rotated IoU of every detection of ``sub`` with every ground truth of its image (no
    crowd rule: the reports leave crowds out), as attach_rotated_iou computes it."""
    off, total = sub.iou_layout(max(sub.n_dt, 1))
    g_rec = _core.rotated_records(np.ascontiguousarray(np.take(gt_rbox, gt_rows, axis=0).reshape(-1, 5)))
    d_rec = _core.rotated_records(np.ascontiguousarray(np.take(dt_rbox, dt_rows, axis=0).reshape(-1, 5)))
    g_img, d_img = np.asarray(sub.gt_img, np.int64), np.asarray(sub.dt_img, np.int64)
    first = np.searchsorted(g_img, d_img, "left").astype(np.int64)
    count = np.searchsorted(g_img, d_img, "right").astype(np.int64) - first
    iou = _core.rotated_iou_rows(d_rec, np.ascontiguousarray(off, np.int64), first, count, g_rec,
                                 np.zeros(g_rec.shape[0], np.uint8), int(total), num_threads=num_threads)
    return iou[:total], off


def has_pair_ious(tables):
    """True when the reports can compare any two records of an image of these tables:
    box tables, or masks / keypoints / rotated boxes attached by this module."""
    return "iou" not in tables.core.extra or "pair_iou" in tables.core.extra


def pair_ious(tables, dsel, gsel, what="this report", num_threads=None):
    """Overlaps of every (detection, ground truth) pair of the same image, whatever their
    categories, by the measure the evaluation matched with: pycocotools' mask IoU,
    boundary IoU, OKS or rotated IoU (no crowd rule, as the reports' box IoU), from the
    same masks, keypoints and rotated boxes and the same C kernels as matching.

    ``dsel`` / ``gsel``: int64 grouped indices of the detections and ground truths to
    compare, each in non-decreasing image order. Returns (iou float64 [total], dt_iou_off
    int64 [len(dsel)]): the overlaps of ``dsel[r]`` with the ground truths of ``gsel`` on
    its image, in ``gsel``'s order, are ``iou[dt_iou_off[r]:dt_iou_off[r] + G]`` (rows of
    one image follow each other: the image's [D, G] matrix); -1 when its image has none."""
    core = tables.core
    provider = core.extra.get("pair_iou")
    if provider is None:
        raise FastapError("%s needs the overlap of any detection with any ground truth of its image, and "
                          "this evaluation's IoUs were attached without the masks or keypoints to compute "
                          "them (attach them with fastap.geometry's attach_* functions)" % what)
    dsel = np.ascontiguousarray(dsel, dtype=np.int64)
    gsel = np.ascontiguousarray(gsel, dtype=np.int64)
    nd, ng = dsel.shape[0], gsel.shape[0]
    sub = _core.CocoTables(1, np.array([0, ng], np.int64), np.take(tables.gt_img, gsel),
                           np.take(core.gt_box, gsel, axis=0).reshape(-1, 4), np.take(core.gt_area, gsel),
                           np.zeros(ng, np.uint8), np.zeros(ng, np.uint8), np.array([0, nd], np.int64),
                           np.take(tables.dt_img, dsel), None, np.take(core.dt_area, dsel),
                           np.take(core.dt_score, dsel))
    iou, off = provider(sub, np.take(tables.gt_index, gsel).astype(np.int64),
                        np.take(tables.dt_index, dsel).astype(np.int64), num_threads)
    return np.ascontiguousarray(iou), np.ascontiguousarray(off)

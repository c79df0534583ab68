"""Columns: validated, normalised inputs (the first layer above the binding).

Ground truth and detections arrive as mappings of array-likes (NumPy, lists, torch
tensors converted by the caller). Everything here turns them into C-contiguous columns
with fixed dtypes -- int64 ids, float64 xywh boxes, uint8 flags -- and answers bad
input with an :class:`~fastap.errors.InvalidAnnotationError` naming the record and the
field. It also holds the small id helpers the layers above share (sorted-unique ids,
positions of ids in a sorted id array).

No Python loop runs per record on the valid path.
"""
from __future__ import annotations

import numpy as np

from . import _core
from .errors import InvalidAnnotationError, InvalidOptionError, InvalidTypeError

__all__ = ["gt_columns", "dt_columns", "id_column", "param_ids", "refuse_repeated_pooled", "check_box_format", "BOX_FORMATS", "INT64_MIN", "INT64_MAX", "float_column", "box_column", "is_number",
           "bad_record", "unique_ids", "IdIndex", "index_of", "sorted_int_ids", "sorted_ids_list",
           "sorted_image_ids", "rotated_gt_columns", "rotated_dt_columns", "ROTATED_MAX_SPAN"]

# the largest width or height of a rotated box (fastap.rotated.MAX_SPAN: beyond it the
# clipping's products could overflow double precision)
ROTATED_MAX_SPAN = 1e150


def bad_record(what, field, mask, ids=None, detail=""):
    """The error for the first record where bool ``mask`` [n] is set: "WHAT record i
    (id ID): field 'FIELD' DETAIL"."""
    i = int(np.flatnonzero(mask)[0])
    rid = "" if ids is None else " (id %s)" % (ids[i],)
    return InvalidAnnotationError("%s record %d%s: field '%s' %s" % (what, i, rid, field, detail))


INT64_MIN, INT64_MAX = -2 ** 63, 2 ** 63 - 1


def id_column(what, field, values, n, required=True):
    """int64 [n] ids from any integer or integral-float array-like; errors name the record.

    Ids must fit in int64: a uint64 id >= 2**63, or a Python int beyond int64, is an
    error (converting it would wrap it onto another id: 2**64 - 1 would become -1).
    A list mixing ints and floats is read exactly (NumPy would round ints beyond 2**53
    to floats)."""
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
    if a.dtype.kind not in "iubf" or (a.dtype.kind == "f" and isinstance(values, (list, tuple))
                                       and a.shape[0] and float(np.max(np.abs(a))) >= 2.0 ** 53):
        seq = values if isinstance(values, (list, tuple)) else a.tolist()
        return _exact_ids(what, field, seq)
    if a.dtype.kind == "u" and a.dtype.itemsize == 8 and a.shape[0]:
        bad = a > np.uint64(INT64_MAX)
        if bad.any():
            raise bad_record(what, field, bad, detail="is %d, outside the int64 range of ids (-2**63 .. 2**63-1)"
                             % (int(a[np.flatnonzero(bad)[0]]),))
    if a.dtype.kind in "iu":
        return a.astype(np.int64, copy=False)
    if a.dtype.kind == "b":
        return a.astype(np.int64)
    # float ids: finite, integral and within int64 (every such float converts exactly)
    bad = ~np.isfinite(a) | (a != np.round(a)) | (a < -2.0 ** 63) | (a >= 2.0 ** 63)
    if bad.any():
        raise bad_record(what, field, bad, detail="should be an integer id within int64, got %r"
                          % (a[np.flatnonzero(bad)[0]].item(),))
    return a.astype(np.int64)


def param_ids(what, field, ids):
    """int64 ids of a parameter list (``params.imgIds`` / ``catIds``), flattened; see
    :func:`id_column` (a list mixing ints and floats is read exactly)."""
    a = np.asarray(ids)
    if a.ndim == 1 and a.dtype.kind not in "iub" and isinstance(ids, (list, tuple)):
        return id_column(what, field, ids, a.shape[0])
    a = a.reshape(-1)
    return id_column(what, field, a, a.shape[0])


def refuse_repeated_pooled(cat_ids, what, field):
    """Refuse a category listed twice among the pooled categories (``useCats=0``):
    pycocotools gathers the objects of every listed category, so it would count that
    category's ground truths and detections twice (AP of a dataset the user does not
    have). ``cat_ids`` int64 [K]."""
    if cat_ids.shape[0] < 2:
        return
    s = np.sort(cat_ids)
    rep = s[1:][s[1:] == s[:-1]]
    if rep.shape[0]:
        c = int(rep[0])
        i, j = np.flatnonzero(cat_ids == c)[:2].tolist()
        raise InvalidAnnotationError(
            "%s: field '%s' lists category %d twice (positions %d and %d) with useCats=0: pycocotools pools the "
            "objects of every listed category and would count that category's ground truths and detections "
            "twice; list each category once" % (what, field, c, i, j))


def _exact_ids(what, field, seq):
    """int64 ids of a sequence of Python / NumPy numbers, each converted exactly (the
    path of object arrays and of lists mixing ints and large floats)."""
    out = np.empty(len(seq), np.int64)
    for i, v in enumerate(seq):
        if not is_number(v):
            hint = (" (fastap evaluates integer ids; pycocotools also takes string ids used consistently: "
                    "map them to integers)" if isinstance(v, (str, np.str_)) else "")
            raise InvalidAnnotationError("%s record %d: field '%s' should be a number, got %r%s"
                                         % (what, i, field, v, hint))
        if isinstance(v, (float, np.floating)):
            f = float(v)
            if not (f == f and -2.0 ** 63 <= f < 2.0 ** 63 and f == int(f)):
                raise InvalidAnnotationError("%s record %d: field '%s' should be an integer id within int64, "
                                             "got %r" % (what, i, field, f))
            v = int(f)
        v = int(v)
        if not INT64_MIN <= v <= INT64_MAX:
            raise InvalidAnnotationError("%s record %d: field '%s' is %d, outside the int64 range of ids "
                                         "(-2**63 .. 2**63-1)" % (what, i, field, v))
        out[i] = v
    return out


def is_number(v):
    """True for a Python or NumPy int or float (not a bool)."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _bad_value(what, field, values, shape, ids):
    """Find the first record whose value is not a number (or not `shape[1]` numbers)."""
    want = "%d numbers" % shape[1] if len(shape) > 1 else "a number"
    if values is None:
        return InvalidAnnotationError("%s: missing field '%s'" % (what, field))
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
        return InvalidTypeError("%s: field '%s' should be a list of %s per record, got %s"
                                % (what, field, want, type(values).__name__))
    for i, v in enumerate(values):
        if len(shape) > 1:
            ok = (isinstance(v, (list, tuple, np.ndarray)) and len(v) == shape[1]
                  and all(is_number(x) for x in v))
        else:
            ok = is_number(v) or (field in ("iscrowd", "ignore") and isinstance(v, (bool, np.bool_)))
        if not ok:
            rid = "" if ids is None else " (id %s)" % (ids[i],)
            return InvalidAnnotationError("%s record %d%s: field '%s' should be %s, got %r"
                                          % (what, i, rid, field, want, v))
    return InvalidAnnotationError("%s: field '%s' should have shape %s" % (what, field, tuple(shape)))


def float_column(what, field, values, shape, ids=None, allow_nan=False):
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
            raise bad_record(what, field, bad, ids, "should be finite, got %r" % (a[i].tolist(),))
    return a


def box_column(what, values, n, ids=None, box_format="xywh"):
    try:
        b = float_column(what, "bbox", values, (n, 4), ids)
    except InvalidAnnotationError:
        try:
            a = np.asarray(values)
        except (ValueError, TypeError):
            a = np.zeros(0)
        if n and a.shape == (n, 5) and a.dtype.kind in "fiu":
            raise InvalidAnnotationError(
                "%s: field 'bbox' should have shape %s, got %s: 5 values are rotated boxes (x_ctr, y_ctr, w, h, "
                "angle); evaluate them with iouType='rotated'" % (what, (n, 4), a.shape)) from None
        raise
    if box_format == "xyxy":
        b = np.stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], axis=1)
    elif box_format == "cxcywh":
        b = np.stack([b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2, b[:, 2], b[:, 3]], axis=1)
    else:
        check_box_format(box_format)
    neg = (b[:, 2] < 0) | (b[:, 3] < 0)
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise bad_record(what, "bbox", neg, ids, "has a negative width or height: %r" % (b[i].tolist(),))
    return np.ascontiguousarray(b)


BOX_FORMATS = ("xywh", "xyxy", "cxcywh")


def check_box_format(box_format):
    """Refuse a box_format other than "xywh", "xyxy" or "cxcywh" (InvalidOptionError, a
    ValueError, naming the choices)."""
    if box_format not in BOX_FORMATS:
        raise InvalidOptionError("box_format should be 'xywh', 'xyxy' or 'cxcywh', got %r" % (box_format,))
    return box_format


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
    ids = id_column(what, "id", gt.get("id"), n, required=False)
    if ids is None:
        ids = np.arange(1, n + 1, dtype=np.int64)
    cols = {"id": ids,
            "image_id": id_column(what, "image_id", gt.get("image_id"), n),
            "category_id": id_column(what, "category_id", gt.get("category_id"), n)}
    if "bbox" not in gt:
        raise InvalidAnnotationError("%s: missing field 'bbox'" % what)
    cols["bbox"] = box_column(what, gt["bbox"], n, ids, box_format)
    cols["area"] = (cols["bbox"][:, 2] * cols["bbox"][:, 3] if gt.get("area") is None
                    else float_column(what, "area", gt["area"], (n,), ids))
    for flag in ("iscrowd", "ignore"):
        v = gt.get(flag)
        if v is None:
            cols[flag] = np.zeros(n, np.uint8)
        else:
            f = float_column(what, flag, v, (n,), ids)
            bad = (f != 0) & (f != 1)
            if bad.any():
                raise bad_record(what, flag, bad, ids, "should be 0 or 1")
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
    cols = {"image_id": id_column(what, "image_id", dt.get("image_id"), n),
            "category_id": id_column(what, "category_id", dt.get("category_id"), n)}
    if "bbox" not in dt:
        raise InvalidAnnotationError("%s: missing field 'bbox'" % what)
    if dt.get("score") is None:
        raise InvalidAnnotationError("%s: missing field 'score'" % what)
    cols["bbox"] = box_column(what, dt["bbox"], n, None, box_format)
    cols["score"] = float_column(what, "score", dt["score"], (n,))
    cols["area"] = (cols["bbox"][:, 2] * cols["bbox"][:, 3] if dt.get("area") is None
                    else float_column(what, "area", dt["area"], (n,)))
    return cols



def _rbox_column(what, values, n, ids):
    """float64 [n, 5] rotated boxes (x_ctr, y_ctr, w, h, angle): finite, w and h in
    [0, ROTATED_MAX_SPAN]; errors name the record and the field."""
    a = values if isinstance(values, np.ndarray) else None
    if a is None:
        try:
            a = np.asarray(values, dtype=np.float64)
        except (ValueError, TypeError):
            a = None
    if a is not None and a.ndim == 2 and a.shape[0] == n and a.shape[1] == 4:
        raise InvalidAnnotationError(
            "%s: field 'bbox' holds 4 values (an axis-aligned box); iouType 'rotated' needs 5: x_ctr, y_ctr, "
            "w, h, angle (degrees, counter-clockwise: detectron2's XYWHA)" % what)
    b = float_column(what, "bbox", values, (n, 5), ids)
    bad = (b[:, 2] < 0) | (b[:, 3] < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise bad_record(what, "bbox", bad, ids, "has a negative width or height: %r" % (b[i].tolist(),))
    bad = (b[:, 2] > ROTATED_MAX_SPAN) | (b[:, 3] > ROTATED_MAX_SPAN)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise bad_record(what, "bbox", bad, ids, "is wider or taller than %g (its IoU would overflow double "
                                                  "precision): %r" % (ROTATED_MAX_SPAN, b[i].tolist()))
    return b


def rotated_gt_columns(gt, what="ground truth"):
    """:func:`gt_columns` of ground truth whose ``bbox`` holds rotated boxes float[G, 5]
    (x_ctr, y_ctr, w, h, angle: detectron2's XYWHA). The result's ``rbox`` is float64
    [G, 5]; its ``bbox`` holds the first four values (what pycocotools' w*h reads:
    ``area`` defaults to w*h)."""
    if not hasattr(gt, "keys"):
        raise InvalidTypeError("%s should be a mapping of arrays (image_id, category_id, bbox, ...), got %s"
                               % (what, type(gt).__name__))
    if "bbox" not in gt or gt["bbox"] is None:
        raise InvalidAnnotationError("%s: missing field 'bbox'" % what)
    n = _length(gt, ("image_id", "bbox", "category_id"))
    ids = id_column(what, "id", gt.get("id"), n, required=False)
    rbox = _rbox_column(what, gt["bbox"], n, ids)
    cols = gt_columns({**gt, "bbox": rbox[:, :4]}, what=what)
    cols["rbox"] = rbox
    return cols


def rotated_dt_columns(dt, what="detections"):
    """:func:`dt_columns` of detections whose ``bbox`` holds rotated boxes float[D, 5]
    (see :func:`rotated_gt_columns`); ``area`` defaults to w*h, as pycocotools' loadRes
    sets it from a box's third and fourth values."""
    if not hasattr(dt, "keys"):
        raise InvalidTypeError("%s should be a mapping of arrays (image_id, category_id, bbox, score), got %s"
                               % (what, type(dt).__name__))
    if "bbox" not in dt or dt["bbox"] is None:
        raise InvalidAnnotationError("%s: missing field 'bbox'" % what)
    n = _length(dt, ("image_id", "bbox", "score", "category_id"))
    rbox = _rbox_column(what, dt["bbox"], n, None)
    cols = dt_columns({**dt, "bbox": rbox[:, :4]}, what=what)
    cols["rbox"] = rbox
    return cols


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


def index_of(ids_sorted, values):
    """Position of each value in the sorted unique id array, and whether it is present."""
    return IdIndex(ids_sorted, values.shape[0])(values)



def sorted_int_ids(ids):
    """int64 array of the sorted ids when every one is a Python int within int64 (5x
    faster than sorted() for many images), else None."""
    if ids and set(map(type, ids)) == {int}:
        try:
            return np.sort(np.fromiter(ids, np.int64, len(ids)))
        except OverflowError:
            return None
    return None


def sorted_ids_list(ids):
    """sorted(ids) for a list of ids (a list of Python ints stays Python ints)."""
    a = sorted_int_ids(ids) if len(ids) > 64 else None
    return a.tolist() if a is not None else sorted(ids)


def sorted_image_ids(imgs):
    """int64 [I] sorted ids of an ``imgs`` dict (image id -> image)."""
    a = sorted_int_ids(list(imgs))
    return a if a is not None else np.array(sorted(imgs.keys()) if imgs else [], dtype=np.int64)

"""Records: COCO annotation and result dicts (and arrays of results) into columns.

pycocotools keeps one dict per annotation; fastap evaluates columns. This module
converts the dict forms users hand in -- lists of annotation or result dicts, (N, 7)
result arrays, mappings of arrays or torch tensors -- into the columns of
:mod:`fastap.columns`, following the branch of pycocotools' ``loadRes`` that applies
(box results: area ``w*h``; mask results: the mask's area and box; keypoint results:
the keypoints' box). Errors name the record and the field.
"""
from __future__ import annotations

import operator
import os
from collections.abc import Mapping

import numpy as np

from .. import _core
from ..columns import INT64_MAX, INT64_MIN, dt_columns, gt_columns, id_column, rotated_dt_columns, rotated_gt_columns
from ..errors import InvalidAnnotationError, InvalidTypeError
from ..geometry import keypoint_arrays, keypoint_result_boxes, rles_from_annotations, segm_result_boxes
from .jsonfile import load_results_columns

__all__ = ["field_list", "rotated_columns_from_records", "is_rotated_record", "index_by_id", "check_annotation_records", "check_record_ids", "columns_from_records", "results_kind", "results_from_array",
           "segm_results_columns", "keypoint_results_columns", "result_columns", "to_numpy"]


def field_list(anns, key, what, default=None, required=True):
    """[ann[key] for ann in anns], with a clear error for the first record lacking it."""
    try:
        if required:
            return [a[key] for a in anns]
        return [a.get(key, default) for a in anns]
    except (KeyError, TypeError, AttributeError):
        for i, a in enumerate(anns):
            if not isinstance(a, Mapping):
                raise InvalidTypeError("%s record %d should be a dict, got %s" % (what, i, type(a).__name__)) from None
            if required and key not in a:
                rid = " (id %s)" % (a["id"],) if "id" in a else ""
                raise InvalidAnnotationError("%s record %d%s: missing field '%s'" % (what, i, rid, key)) from None
        raise


_ID = operator.itemgetter("id")


def _records_of(ds, member):
    """dataset[member] (an empty list when absent), refused unless it is a list of
    records (an empty container of another kind is taken, as pycocotools iterates it)."""
    recs = ds.get(member, [])
    if isinstance(recs, (list, tuple)):
        return recs
    try:
        empty = len(recs) == 0 and not isinstance(recs, (str, bytes))
    except TypeError:
        empty = False
    if empty:
        return []
    raise InvalidAnnotationError("field '%s' should be a list of objects, got %s"
                                 % (member, "null" if recs is None else type(recs).__name__))


def _record_problem(recs, member, fields):
    """The error for the first record of ``recs`` that is not a dict holding ``fields``."""
    for i, r in enumerate(recs):
        if not isinstance(r, Mapping):
            return InvalidAnnotationError("%s record %d should be an object, got %s"
                                          % (member, i, _short(r)))
        for f in fields:
            if f not in r:
                rid = " (id %s)" % (_short(r["id"]),) if "id" in r else ""
                return InvalidAnnotationError("%s record %d%s: missing field '%s'" % (member, i, rid, f))
        for f in fields:
            try:
                hash(r[f])
            except TypeError:
                return InvalidAnnotationError("%s record %d: field '%s' should be an integer id, got %s"
                                              % (member, i, f, _short(r[f])))
    return None


def _short(v):
    t = repr(v)
    return t if len(t) <= 60 else t[:57] + "..."


def index_by_id(ds, member, check=True):
    """{id: record} of ``ds[member]`` ("images" or "categories"), as pycocotools'
    createIndex builds it (the last record of an id wins), after checking what it
    cannot index or fastap cannot evaluate: the member is a list of objects, each
    with an ``id`` that is an integer within int64 (or, in every record alike, a
    string: pycocotools evaluates those, fastap does not). Errors name the record
    (index, id) and the field. ``check=False``: the ids were checked before (only what
    cannot be indexed is refused)."""
    recs = _records_of(ds, member)
    try:
        index = dict(zip(map(_ID, recs), recs))     # C-level iteration: a per-batch loadRes indexes 5k images
    except (KeyError, TypeError, IndexError):
        raise _record_problem(recs, member, ("id",)) or InvalidAnnotationError(
            "%s: cannot index the records by 'id'" % member) from None
    if check and not _plain_int64_ids(index):
        check_record_ids(list(map(_ID, recs)), member, "id")      # names the record
    return index


def check_annotation_records(ds):
    """Refuse annotations pycocotools' createIndex cannot index (not a list of objects,
    a record without ``id`` or ``image_id``, or without ``category_id`` when the
    dataset has categories) and ids fastap cannot evaluate (see :func:`check_record_ids`)."""
    anns = _records_of(ds, "annotations")
    fields = ("id", "image_id", "category_id") if "categories" in ds else ("id", "image_id")
    try:
        cols = [list(map(operator.itemgetter(f), anns)) for f in fields]
    except (KeyError, TypeError, IndexError):
        raise _record_problem(anns, "annotations", fields) from None
    for f, ids in zip(fields, cols):
        check_record_ids(ids, "annotations", f, anns)


def _plain_int64_ids(ids):
    """True when every id (of a list, or the keys of a dict) is a Python int within int64
    (the common case, checked at C speed)."""
    if set(map(type, ids)) - {int}:
        return False
    try:
        np.fromiter(ids, np.int64, len(ids))
    except OverflowError:
        return False
    return True


def check_record_ids(ids, member, field, recs=None):
    """Refuse ids fastap cannot evaluate: not a number or string (None, a bool, a list),
    NaN or infinite, outside int64 (converting would wrap 2**64 - 1 onto -1), or strings
    mixed with numbers (pycocotools cannot sort those). Strings throughout are taken
    (pycocotools evaluates them; fastap's evaluation refuses them, naming the field).
    Errors name the record: ``member`` record i (id ...) and ``field``."""
    if not ids or _plain_int64_ids(ids):
        return
    first_num = first_str = None

    def where(i):
        rid = recs[i].get("id") if recs is not None and isinstance(recs[i], Mapping) else None
        return "%s record %d%s" % (member, i, "" if rid is None or field == "id" else " (id %s)" % (_short(rid),))
    for i, v in enumerate(ids):
        if isinstance(v, (str, np.str_)):
            first_str = i if first_str is None else first_str
            continue
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise InvalidAnnotationError("%s: field '%s' should be an integer id, got %s" % (where(i), field, _short(v)))
        first_num = i if first_num is None else first_num
        if isinstance(v, (float, np.floating)):
            f = float(v)
            if not (f == f and -2.0 ** 63 <= f < 2.0 ** 63):
                raise InvalidAnnotationError("%s: field '%s' should be an integer id within int64, got %r"
                                             % (where(i), field, f))
        elif not INT64_MIN <= int(v) <= INT64_MAX:
            raise InvalidAnnotationError("%s: field '%s' is %d, outside the int64 range of ids (-2**63 .. 2**63-1)"
                                         % (where(i), field, int(v)))
    if first_num is not None and first_str is not None:
        raise InvalidAnnotationError(
            "%s: field '%s' is the string %s, but %s's is the number %r: ids should all be integers (pycocotools "
            "cannot sort strings and numbers together)" % (where(first_str), field, _short(ids[first_str]),
                                                          where(first_num), ids[first_num]))



def _gt_fields(anns, what, boxes, n, width):
    """The ground-truth fields of annotation dicts as lists (``boxes``: their boxes of
    ``width`` values, read already); a record without ``area`` is an error naming it."""
    d = {"id": field_list(anns, "id", what), "image_id": field_list(anns, "image_id", what),
         "category_id": field_list(anns, "category_id", what), "bbox": boxes,
         "area": field_list(anns, "area", what, required=False),
         "iscrowd": field_list(anns, "iscrowd", what, 0, required=False)}
    if any(a is None for a in d["area"]):
        i = next(i for i, a in enumerate(d["area"]) if a is None)
        raise InvalidAnnotationError("%s record %d (id %s): missing field 'area'" % (what, i, d["id"][i]))
    if not n:
        d = {k: np.zeros((0, width) if k == "bbox" else 0) for k in d}
    return d

def columns_from_records(anns, kind, what=None, with_ids=True, box_area=False, no_bbox=None):
    """Columns (see :func:`fastap.columns.gt_columns` / ``dt_columns``) from a list of
    COCO annotation dicts. kind: "gt" or "dt" (results: ``score`` required; with
    ``with_ids`` their ``id`` is taken when every record has one, else 1..N; with
    ``box_area`` their area is w*h whatever the records say, as loadRes sets it).

    ``no_bbox``: None (every record needs a ``bbox``), or a list: records without one
    get a zero box and their positions are appended to it (for mask evaluation, which
    never reads boxes: pycocotools reads an annotation's bbox only for box IoU and OKS);
    such records need an ``area`` of their own.

    Regular records are read by a C loop (``_core.records_to_columns``); anything
    irregular takes the general path below, whose errors name the record and field."""
    what = what or ("annotations" if kind == "gt" else "results")
    n = len(anns)
    fast = _core.records_to_columns(anns, kind == "gt") if isinstance(anns, list) and n else None
    boxes = None
    if fast is None and n:
        boxes = field_list(anns, "bbox", what, required=no_bbox is None)
        if no_bbox is not None:
            # an empty bbox (as pycocotools' loadRes leaves "bbox": [] of mask results)
            # counts as none
            missing = [i for i, b in enumerate(boxes) if b is None or (isinstance(b, (list, tuple)) and not b)]
            if missing:
                no_bbox.extend(missing)
                gone = set(missing)
                boxes = [[0.0, 0.0, 0.0, 0.0] if i in gone else b for i, b in enumerate(boxes)]
    if kind == "gt":
        if fast is not None:
            return gt_columns(fast, what=what)
        return gt_columns(_gt_fields(anns, what, boxes, n, 4), what=what)
    if fast is not None:
        d = fast if fast.pop("has_area") and not box_area else \
            {k: fast[k] for k in ("image_id", "category_id", "bbox", "score")}
    elif n:
        d = {"image_id": field_list(anns, "image_id", what), "category_id": field_list(anns, "category_id", what),
             "bbox": boxes, "score": field_list(anns, "score", what)}
        areas = field_list(anns, "area", what, required=False)
        if not box_area and not any(a is None for a in areas):
            d["area"] = areas
        elif no_bbox:
            # the default area (w*h of the box) needs a box
            bad = [i for i in no_bbox if box_area or areas[i] is None]
            if bad:
                raise InvalidAnnotationError("%s record %d: missing fields 'bbox' and 'area' (the area of a "
                                             "result defaults to its box's w*h)" % (what, bad[0]))
            d["area"] = [a if a is not None else b[2] * b[3] for a, b in zip(areas, boxes)]
    else:
        d = {k: np.zeros((0, 4) if k == "bbox" else 0) for k in ("image_id", "category_id", "bbox", "score")}
    cols = dt_columns(d, what=what)
    cols["id"] = np.arange(1, n + 1, dtype=np.int64)
    if with_ids and n:
        ids = field_list(anns, "id", what, required=False)
        if not any(i is None for i in ids):
            cols["id"] = id_column(what, "id", ids, n)
    return cols


def is_rotated_record(ann):
    """True when a record's ``bbox`` holds 5 values (a rotated box, detectron2's XYWHA)."""
    b = ann.get("bbox") if isinstance(ann, Mapping) else None
    return isinstance(b, (list, tuple, np.ndarray)) and len(b) == 5


def rotated_columns_from_records(anns, kind, what=None, box_area=False):
    """Columns of COCO annotation dicts whose ``bbox`` holds a rotated box (x_ctr, y_ctr,
    w, h, angle): :func:`fastap.columns.rotated_gt_columns` / ``rotated_dt_columns``
    (``rbox`` float64 [n, 5]). kind "gt" (``area`` required, ``iscrowd`` default 0) or
    "dt" (``score`` required; ``area`` w*h with ``box_area`` or where a record has
    none, as loadRes sets it; ``id`` taken when every record has one, else 1..N)."""
    what = what or ("annotations" if kind == "gt" else "results")
    n = len(anns)
    boxes = field_list(anns, "bbox", what) if n else np.zeros((0, 5))
    if kind == "gt":
        return rotated_gt_columns(_gt_fields(anns, what, boxes, n, 5), what=what)
    d = {"image_id": field_list(anns, "image_id", what), "category_id": field_list(anns, "category_id", what),
         "bbox": boxes, "score": field_list(anns, "score", what)}
    areas = field_list(anns, "area", what, required=False)
    if n and not box_area and not any(a is None for a in areas):
        d["area"] = areas
    if not n:
        d = {k: np.zeros((0, 5) if k == "bbox" else 0) for k in d}
    cols = rotated_dt_columns(d, what=what)
    cols["id"] = np.arange(1, n + 1, dtype=np.int64)
    if n and not box_area:
        ids = field_list(anns, "id", what, required=False)
        if not any(i is None for i in ids):
            cols["id"] = id_column(what, "id", ids, n)
    return cols


def results_kind(anns):
    """pycocotools' loadRes branch, decided by the first record: "bbox" when it has a
    non-empty bbox, else "segm" when it has a segmentation, else "keypoints"."""
    if not anns:
        return "bbox"
    a = anns[0]
    if not isinstance(a, Mapping):
        raise InvalidTypeError("results record 0 should be a dict, got %s" % type(a).__name__)
    if "caption" in a:
        raise NotImplementedError("caption results are not detections; fastap evaluates bbox, segm "
                                  "and keypoints results")
    if "bbox" in a and not (isinstance(a["bbox"], (list, tuple)) and len(a["bbox"]) == 0):
        return "bbox"
    if "segmentation" in a:
        return "segm"
    if "keypoints" in a:
        return "keypoints"
    raise InvalidAnnotationError("results record 0: needs 'bbox', 'segmentation' or 'keypoints', has %s"
                                 % sorted(a.keys()))


def results_from_array(data):
    """Columns of results given as an [N, 7] array of (image_id, x, y, w, h, score,
    category_id) rows (pycocotools' loadNumpyAnnotations; ids truncated toward zero)."""
    try:
        data = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidTypeError("results array should be numeric") from None
    if data.ndim != 2 or data.shape[1] != 7:
        raise InvalidAnnotationError("results array should have shape (N, 7) "
                                     "(image_id, x, y, w, h, score, category_id), got %s" % (data.shape,))
    ids = data[:, [0, 6]]
    bad = ~(np.isfinite(ids) & (ids >= -2.0 ** 63) & (ids < 2.0 ** 63)).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidAnnotationError("results row %d: image_id and category_id should be finite and within int64, "
                                     "got %r" % (i, data[i].tolist()))
    return dt_columns({"image_id": np.trunc(data[:, 0]).astype(np.int64), "bbox": data[:, 1:5],
                       "score": data[:, 5], "category_id": np.trunc(data[:, 6]).astype(np.int64)},
                      what="results")


def segm_results_columns(anns, gt_coco):
    """Columns, RLE set, and the positions of records with ``"bbox": []`` of mask results
    given as dicts (pycocotools loadRes, segm branch: area from the mask, bbox from the
    mask unless the record has one; an empty one is kept as it is by pycocotools, and
    given the mask's box here: see cocodata._mark_empty_bbox)."""
    what = "results"
    rles = rles_from_annotations(anns, gt_coco.imgs, what)
    given = np.full((len(anns), 4), np.nan)
    empty = []
    for i, a in enumerate(anns):
        b = a.get("bbox")
        if b is not None and len(b) == 4:
            given[i] = b
        elif b is not None and len(b) == 0:
            empty.append(i)
    bbox, area = segm_result_boxes(rles, given)
    cols = dt_columns({"image_id": field_list(anns, "image_id", what),
                       "category_id": field_list(anns, "category_id", what),
                       "score": field_list(anns, "score", what), "bbox": bbox, "area": area}, what=what)
    return cols, rles, empty


def keypoint_results_columns(anns):
    """Columns and keypoints float64 [n, 3K] of keypoint results given as dicts
    (pycocotools loadRes, keypoints branch: bbox and area of the keypoints' box)."""
    what = "results"
    n_kpt = len(anns[0]["keypoints"]) // 3 if isinstance(anns[0].get("keypoints"), (list, tuple)) else 0
    kpt = keypoint_arrays(anns, n_kpt, what, gt=False)
    bbox, area = keypoint_result_boxes(kpt)
    cols = dt_columns({"image_id": field_list(anns, "image_id", what),
                       "category_id": field_list(anns, "category_id", what),
                       "score": field_list(anns, "score", what), "bbox": bbox, "area": area}, what=what)
    return cols, kpt


def to_numpy(x):
    """A NumPy array of x (a torch tensor is detached and moved to the CPU)."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):       # torch tensor
        return x.detach().cpu().numpy()
    return np.asarray(x)


def result_columns(results, what="results"):
    """Columns of COCO results given as a path, a list of dicts, an (N, 7) array or a
    mapping of arrays (image_id, category_id, bbox, score)."""
    if isinstance(results, (str, os.PathLike)):
        kind, val = load_results_columns(results)
        what = "results file %s" % os.fspath(results)
        if kind == "geometry":          # records with masks / keypoints: their boxes
            _, val, mapped = val
            if mapped is not None:
                mapped.release()        # the columns are copies: nothing refers to the file
            missing = np.isnan(val["bbox"]).all(axis=1)
            if missing.any():
                raise InvalidAnnotationError("%s: record %d: missing field 'bbox' (box results need one per "
                                             "record)" % (what, int(np.flatnonzero(missing)[0])))
            kind = "columns"
        if kind == "columns":
            return dt_columns({k: val[k] for k in ("image_id", "category_id", "bbox", "score")}, what=what)
        results = val
    if isinstance(results, np.ndarray):
        return results_from_array(results)
    if isinstance(results, list):
        cols = columns_from_records(results, "dt", what=what, with_ids=False, box_area=True)
        return cols
    if hasattr(results, "keys"):
        return dt_columns({k: to_numpy(v) for k, v in results.items()}, what=what)
    raise InvalidTypeError("%s should be a path, a list of dicts, an (N, 7) array or a mapping of "
                           "arrays, got %s" % (what, type(results).__name__))

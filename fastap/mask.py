"""``fastap.mask``: COCO run-length encoded masks, a drop-in for ``pycocotools.mask``.

Same functions, arguments, return types, dtypes and memory orders as pycocotools.mask,
bit-identical results (the kernels are csrc/rle.c, which re-implements the arithmetic of
pycocotools' maskApi.c); batches run in parallel without the GIL. Every function also
takes ``num_threads=None`` (default: FASTAP_NUM_THREADS, else OpenMP's maximum).

An RLE is a dict ``{'size': [h, w], 'counts': bytes}`` (``counts`` may also be ``str``);
masks are uint8 arrays [h, w] or [h, w, n], column-major ("Fortran order") as in COCO::

    encode(mask)             uint8 [h, w] -> RLE; [h, w, n] -> list of n RLEs
    decode(rle | [rles])     -> uint8 [h, w] / [h, w, n], Fortran order
    area(rle | [rles])       -> np.uint32 / uint32 [n]
    toBbox(rle | [rles])     -> float64 [4] / [n, 4], xywh
    iou(dt, gt, iscrowd)     -> float64 [len(dt), len(gt)], Fortran order ([] if either is empty)
    merge(rles, intersect=0) -> RLE (union, or intersection)
    frPyObjects(obj, h, w)   polygons / boxes / uncompressed RLE -> RLE(s)

Where fastap differs from pycocotools (pycocotools crashes, hangs, or returns garbage in
each of these cases; fastap raises a ValueError / TypeError subclass naming the argument
and the index, or does what pycocotools evidently meant):

* malformed ``counts`` (characters outside '0'..'o', a value cut short, a negative
  count, counts not summing to h*w) raise InvalidAnnotationError (a ValueError);
  pycocotools reads uninitialised memory or loops forever on some of these;
* ``decode([])`` raises (pycocotools returns an array of a garbage shape); decode,
  merge of RLEs of different sizes raise (pycocotools: garbage / an empty RLE);
  ``iou`` of RLEs of different sizes gives -1, as pycocotools;
* ``encode`` accepts C-ordered and bool masks (pycocotools requires Fortran-ordered
  uint8) and treats any nonzero byte as 1 (pycocotools starts a new run at every change
  of value, which differs only for masks holding 3 or more distinct values);
* ``frPyObjects``: a list of boxes given as lists, a single box ``[x, y, w, h]`` and a
  single polygon ``[x0, y0, ...]`` work (pycocotools raises TypeError on all three);
  a list of polygons whose first polygon has 4 values is read as boxes, as
  pycocotools reads it; degenerate polygons (0, 1 or 2 points) give pycocotools' empty
  masks wherever they are in the list (pycocotools fails when the first one is); an
  empty list gives [] (pycocotools: IndexError); non-finite coordinates raise;
  uncompressed RLE counts are checked (integers in 0..2^32-1 summing to h*w);
* ``iou``: non-finite boxes raise; a length mismatch of ``iscrowd`` raises
  ValueError (pycocotools: AssertionError); type errors raise TypeError (pycocotools:
  a bare Exception);
* counts string values of 7 characters that are negative (deltas <= -2^29, only in
  images of 500+ megapixels) are decoded exactly; pycocotools' shifts overflow there.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import _core
from .errors import InvalidAnnotationError, InvalidTypeError

__all__ = ["encode", "decode", "area", "toBbox", "iou", "merge", "frPyObjects"]


def encode(bimask, num_threads=None):
    """Run-length encode binary masks.

    bimask: uint8 (or bool) array [h, w] or [h, w, n]; any nonzero value is foreground.
    Fortran order avoids a copy (pycocotools requires it). Returns one RLE dict
    ``{'size': [h, w], 'counts': bytes}`` for a 2-D mask, a list of n for a 3-D one.
    """
    if not isinstance(bimask, np.ndarray):
        raise InvalidTypeError("bimask should be a numpy.ndarray, got %s" % type(bimask).__name__)
    if bimask.ndim == 2:
        h, w = bimask.shape
        return _core.mask_encode(np.asfortranarray(bimask).reshape((h, w, 1), order="F"),
                                 num_threads)[0]
    if bimask.ndim == 3:
        return _core.mask_encode(np.asfortranarray(bimask), num_threads)
    raise InvalidAnnotationError("bimask should be a 2d [h, w] or 3d [h, w, n] array, got %dD"
                                 % bimask.ndim)


def _is_list(x):
    return isinstance(x, (list, tuple))


def decode(rleObjs, num_threads=None):
    """Masks of RLE dicts: a list of n (one size) -> uint8 [h, w, n]; one dict ->
    uint8 [h, w]; Fortran order, values 0/1."""
    if _is_list(rleObjs):
        return _core.mask_decode(list(rleObjs), num_threads)
    return _core.mask_decode([rleObjs], num_threads)[:, :, 0]


def area(rleObjs, num_threads=None):
    """Foreground pixel counts: a list -> uint32 [n]; one dict -> np.uint32."""
    if _is_list(rleObjs):
        return _core.mask_area(list(rleObjs), num_threads)
    return _core.mask_area([rleObjs], num_threads)[0]


def toBbox(rleObjs, num_threads=None):
    """Bounding boxes (x, y, width, height): a list -> float64 [n, 4]; one dict -> [4]."""
    if _is_list(rleObjs):
        return _core.mask_to_bbox(list(rleObjs), num_threads)
    return _core.mask_to_bbox([rleObjs], num_threads)[0]


def merge(rleObjs, intersect=0):
    """Union (intersect=0) or intersection (intersect truthy) of a list of RLE dicts of
    one size, as one RLE dict (pycocotools' pairwise merge, left to right)."""
    if not _is_list(rleObjs):
        raise InvalidTypeError("rleObjs should be a list of RLE dicts, got %s"
                               % type(rleObjs).__name__)
    try:
        intersect = bool(intersect)
    except (ValueError, TypeError):     # an array of several values has no truth value
        raise InvalidTypeError("intersect should be a bool or an int (0: union, else intersection), got %s %.80r"
                               % (type(intersect).__name__, intersect)) from None
    return _core.mask_merge(list(rleObjs), intersect)


def _iou_input(objs, name):
    """pycocotools' _preproc: ('empty', None) / ('rle', list) / ('box', float64 [n, 4])."""
    if isinstance(objs, np.ndarray):
        if objs.size == 0 and objs.shape[:1] == (0,):
            return "empty", None
        if objs.ndim != 2 or objs.shape[1] != 4:
            raise InvalidAnnotationError("%s: a numpy array is read as boxes and should have "
                                         "shape (n, 4), got %s" % (name, objs.shape))
        if objs.dtype.kind not in "fiub":
            raise InvalidTypeError("%s: boxes should be numbers, got dtype %s" % (name, objs.dtype))
        return "box", _finite_boxes(np.ascontiguousarray(objs, dtype=np.float64), name)
    if isinstance(objs, list):
        if len(objs) == 0:
            return "empty", None
        if all(isinstance(o, dict) for o in objs):
            return "rle", objs
        if all(isinstance(o, (list, np.ndarray)) and len(o) == 4 for o in objs):
            try:
                boxes = np.array(objs, dtype=np.float64)
            except (TypeError, ValueError) as e:
                raise InvalidTypeError("%s: boxes should be numbers: %s" % (name, e)) from None
            if boxes.ndim != 2 or boxes.shape[1] != 4:
                raise InvalidAnnotationError("%s: boxes should have shape (n, 4), got %s"
                                             % (name, boxes.shape))
            return "box", _finite_boxes(boxes, name)
        raise InvalidTypeError("%s: a list should hold either RLE dicts or boxes (lists / arrays "
                               "of 4 numbers), as pycocotools.mask.iou reads it" % name)
    raise InvalidTypeError("%s should be a list of RLE dicts, a list of boxes or a numpy array of "
                           "boxes [n, 4], got %s" % (name, type(objs).__name__))


def _finite_boxes(b, name):
    ok = np.isfinite(b).all(axis=1)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise InvalidAnnotationError("%s box %d is not finite: %r" % (name, i, b[i].tolist()))
    return b


def iou(dt, gt, pyiscrowd, num_threads=None):
    """IoU of every detection with every ground truth, as pycocotools.mask.iou.

    dt, gt: both lists of RLE dicts, or both boxes (numpy [n, 4] or lists of 4-lists,
    xywh). pyiscrowd: sequence of len(gt) flags; for a crowd gt the union is the
    detection's area. Returns float64 [len(dt), len(gt)] in Fortran order (as
    pycocotools), or the list [] when dt or gt is empty. RLE pairs of different image
    sizes get -1 (where their boxes overlap), pairs whose boxes do not overlap 0.
    """
    try:
        crowd = np.array(pyiscrowd, dtype=np.uint8)
    except (TypeError, ValueError, OverflowError) as e:
        raise InvalidTypeError("pyiscrowd should be a sequence of 0/1 flags, one per gt: %s" % e) \
            from None
    if crowd.ndim != 1:
        raise InvalidAnnotationError("pyiscrowd should be a flat sequence, got shape %s"
                                     % (crowd.shape,))
    kd, d = _iou_input(dt, "dt")
    kg, g = _iou_input(gt, "gt")
    n = 0 if kg == "empty" else len(g)
    if len(crowd) != n:
        raise InvalidAnnotationError("pyiscrowd has %d entries, gt has %d (they must match)"
                                     % (len(crowd), n))
    if kd == "empty" or kg == "empty":
        return []
    if kd != kg:
        raise InvalidTypeError("dt and gt should be of the same kind (both RLEs or both boxes), "
                               "got %s and %s" % (kd, kg))
    if kd == "rle":
        return _core.mask_iou(d, g, crowd, num_threads)
    return _core.mask_box_iou(d, g, crowd)


def _is_number(x):
    return isinstance(x, (numbers.Number, np.number)) and not isinstance(x, (bool, np.bool_))


def _boxes(pyobj):
    try:
        b = np.array(pyobj, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidAnnotationError(
            "pyobj is read as boxes (its first item has 4 values, as pycocotools reads it), "
            "but not every item is a box of 4 numbers: %s" % e) from None
    if b.ndim != 2 or b.shape[1] != 4:
        raise InvalidAnnotationError("boxes should have shape (n, 4), got %s" % (b.shape,))
    return np.ascontiguousarray(b)


def frPyObjects(pyobj, h, w, num_threads=None):
    """Compressed RLE dicts of polygons, boxes or uncompressed RLE, in an h x w image.

    pyobj (as pycocotools.mask.frPyObjects):

    * a list of polygons, each a flat list [x0, y0, x1, y1, ...] -> list of RLEs
      (one per polygon: merge() them for an object made of several parts);
    * boxes: a numpy array [n, 4] or a list of [x, y, w, h] -> list of RLEs;
    * a list of uncompressed RLE dicts {'size': [h, w], 'counts': [ints]} -> list of
      RLEs (their own size is used; h and w are ignored, as in pycocotools);
    * one polygon (a flat list of more than 4 numbers), one box (4 numbers) or one
      uncompressed RLE dict -> one RLE dict.

    Rasterisation is pycocotools' (rleFrPoly), bit for bit: points reaching outside the
    image are clipped as pycocotools clips them; polygons of 0, 1 or 2 points give an
    empty mask. A list whose first item has exactly 4 values is read as boxes (as in
    pycocotools).
    """
    if isinstance(pyobj, np.ndarray):
        if pyobj.dtype.kind not in "fiu":
            raise InvalidTypeError("pyobj: a boxes array should hold numbers, got %s" % pyobj.dtype)
        if pyobj.ndim != 2 or pyobj.shape[1] != 4:
            raise InvalidAnnotationError("pyobj: a numpy array is read as boxes and should have "
                                         "shape (n, 4), got %s" % (pyobj.shape,))
        return _core.mask_from_boxes(np.ascontiguousarray(pyobj, dtype=np.float64), h, w,
                                     num_threads)
    if isinstance(pyobj, dict):
        return _core.mask_from_uncompressed([pyobj])[0]
    if not _is_list(pyobj):
        raise InvalidTypeError("pyobj should be a list of polygons, boxes or uncompressed RLE "
                               "dicts, a numpy array of boxes, or one of these, got %s"
                               % type(pyobj).__name__)
    if len(pyobj) == 0:
        return []
    first = pyobj[0]
    if _is_number(first):                       # one polygon or one box
        if len(pyobj) == 4:
            return _core.mask_from_boxes(_boxes([pyobj]), h, w, num_threads)[0]
        if len(pyobj) > 4:
            return _core.mask_from_polygons([pyobj], h, w, num_threads)[0]
        raise InvalidAnnotationError("pyobj: a single polygon needs more than 4 values "
                                     "(3 points or more), got %d" % len(pyobj))
    if isinstance(first, dict):
        return _core.mask_from_uncompressed(pyobj)
    try:
        n_first = len(first)
    except TypeError:
        raise InvalidTypeError("pyobj[0] should be a polygon (list of numbers), a box or an "
                               "uncompressed RLE dict, got %s" % type(first).__name__) from None
    if n_first == 4:
        return _core.mask_from_boxes(_boxes(pyobj), h, w, num_threads)
    return _core.mask_from_polygons(pyobj, h, w, num_threads)

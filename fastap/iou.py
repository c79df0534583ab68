"""``fastap.box_iou``: pairwise IoU of two sets of boxes on the CPU."""
from __future__ import annotations

import numpy as np

from . import _core
from .errors import InvalidAnnotationError, InvalidTypeError

__all__ = ["box_iou"]


def _as_boxes(name, x):
    if hasattr(x, "__cuda_array_interface__") or (hasattr(x, "is_cuda") and getattr(x, "is_cuda")):
        raise InvalidTypeError("%s is a CUDA array: the GPU path of box_iou is not available in this "
                               "version; move the boxes to the host (e.g. .cpu() / cupy.asnumpy)" % name)
    if hasattr(x, "detach") and hasattr(x, "numpy"):      # torch tensor on the CPU
        x = x.detach().numpy()
    try:
        a = np.asarray(x)
    except Exception as e:
        raise InvalidTypeError("%s should be an array of boxes, got %s (%s)" % (name, type(x).__name__, e))
    if a.dtype.kind not in "fiu":
        raise InvalidTypeError("%s should hold numbers, got dtype %s" % (name, a.dtype))
    if a.ndim == 1 and a.shape[0] == 0:
        a = a.reshape(0, 4)
    if a.ndim != 2 or a.shape[1] != 4:
        raise InvalidAnnotationError("%s should have shape (n, 4), got %s" % (name, a.shape))
    a = np.ascontiguousarray(a, dtype=np.float64)
    if not np.isfinite(a).all():
        i = int(np.flatnonzero(~np.isfinite(a).all(axis=1))[0])
        raise InvalidAnnotationError("%s box %d is not finite: %r" % (name, i, a[i].tolist()))
    return a


def box_iou(a, b, fmt="xyxy", iscrowd=None, num_threads=None):
    """IoU of every box of ``a`` with every box of ``b``.

    Parameters
    ----------
    a : array-like, shape (n, 4)
    b : array-like, shape (m, 4)
        Boxes as ``fmt``: "xyxy" (x1, y1, x2, y2), "xywh" (COCO: x, y, width, height)
        or "cxcywh" (centre x, centre y, width, height). Any real dtype; computed in
        float64. NumPy arrays, lists and CPU torch tensors are accepted.
    iscrowd : array-like of bool/0-1, shape (m,), optional
        Crowd flags of ``b``: a crowd box's union is the area of the ``a`` box alone
        (pycocotools' rule).
    num_threads : int, optional
        Threads for large matrices (default: all cores / OMP_NUM_THREADS).

    Returns
    -------
    numpy.ndarray, float64, shape (n, m)
        With ``fmt="xywh"`` the arithmetic is pycocotools' bit for bit: it recomputes
        ``x + w``, so a value can exceed 1 by a rounding error, as in pycocotools.
        "xyxy" (and "cxcywh", converted to corners first) stays within [0, 1].
        NumPy equivalent for xyxy: ``inter / (area_a[:, None] + area_b[None] - inter)``
        with ``inter`` from clipped corner differences (0 where boxes do not overlap).
    """
    a = _as_boxes("a", a)
    b = _as_boxes("b", b)
    crowd = None
    if iscrowd is not None:
        crowd = np.asarray(iscrowd).reshape(-1)
        if crowd.shape[0] != b.shape[0]:
            raise InvalidAnnotationError("iscrowd should have one flag per box of b (%d), got %d"
                                         % (b.shape[0], crowd.shape[0]))
        crowd = np.ascontiguousarray(crowd != 0, dtype=np.uint8)
    if fmt == "xywh":
        wh = np.concatenate([a[:, 2:], b[:, 2:]])
    elif fmt in ("xyxy", "cxcywh"):
        if fmt == "cxcywh":
            a = np.concatenate([a[:, :2] - 0.5 * a[:, 2:], a[:, :2] + 0.5 * a[:, 2:]], axis=1)
            b = np.concatenate([b[:, :2] - 0.5 * b[:, 2:], b[:, :2] + 0.5 * b[:, 2:]], axis=1)
        wh = np.concatenate([a[:, 2:] - a[:, :2], b[:, 2:] - b[:, :2]])
        fmt = "xyxy"
    else:
        raise InvalidAnnotationError("fmt should be 'xyxy', 'xywh' or 'cxcywh', got %r" % (fmt,))
    if (wh < 0).any():
        raise InvalidAnnotationError("boxes with negative width or height (fmt=%r)" % fmt)
    return _core.box_iou(a, b, crowd, fmt=fmt, num_threads=num_threads)

"""``fastap.box_iou``: pairwise IoU of two sets of boxes, on the CPU or, for CUDA arrays,
on the GPU (``fastap.cuda``, imported when needed)."""
from __future__ import annotations

import numpy as np

from . import _core, cuda
from .errors import DeviceError, InvalidAnnotationError, InvalidOptionError, InvalidTypeError

__all__ = ["box_iou"]


def _as_boxes(name, x):
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


def box_iou(a, b, fmt="xyxy", iscrowd=None, num_threads=None, out=None, block_rows=None):
    """IoU of every box of ``a`` with every box of ``b``.

    Parameters
    ----------
    a : array-like, shape (n, 4)
    b : array-like, shape (m, 4)
        Boxes as ``fmt``: "xyxy" (x1, y1, x2, y2), "xywh" (COCO: x, y, width, height)
        or "cxcywh" (centre x, centre y, width, height). Any real dtype; computed in
        float64. NumPy arrays, lists and CPU torch tensors are accepted.
        CUDA arrays (CuPy, PyTorch CUDA tensors, ``__cuda_array_interface__``, DLPack),
        both on one device, run on the GPU (``pip install 'fastap[cuda]'``) and return
        the same kind of array on that device, computed on the current stream: float64,
        or float32 when both inputs are float32 (or narrower floats), the float64 result
        rounded once. See ``fastap.cuda.box_iou``.
    iscrowd : array-like of bool/0-1, shape (m,), optional
        Crowd flags of ``b``: a crowd box's union is the area of the ``a`` box alone
        (pycocotools' rule).
    num_threads : int, optional
        Threads for large matrices (default: all cores / OMP_NUM_THREADS). CPU only.
    out : array, shape (n, m), optional
        Written in place and returned: a float64 C-contiguous NumPy array for host boxes;
        for CUDA boxes a CUDA array of the result dtype, or a NumPy array (e.g. a
        ``np.memmap``) to compute a matrix larger than device memory in row blocks.
    block_rows : int, optional
        Rows per block of that blocked mode (CUDA boxes with a NumPy ``out``).

    Returns
    -------
    numpy.ndarray, float64, shape (n, m)
        With ``fmt="xywh"`` the arithmetic is pycocotools' bit for bit: it recomputes
        ``x + w``, so a value can exceed 1 by a rounding error, as in pycocotools.
        "xyxy" (and "cxcywh", converted to corners first) stays within [0, 1].
        NumPy equivalent for xyxy: ``inter / (area_a[:, None] + area_b[None] - inter)``
        with ``inter`` from clipped corner differences (0 where boxes do not overlap).
    """
    if cuda.is_cuda_array(a) or cuda.is_cuda_array(b):
        if num_threads is not None:
            raise InvalidTypeError("num_threads is for the CPU path; these boxes are CUDA arrays")
        return cuda.box_iou(a, b, fmt=fmt, iscrowd=iscrowd, out=out, block_rows=block_rows)
    for nm, x in (("out", out), ("iscrowd", iscrowd)):
        if cuda.is_cuda_array(x):
            raise DeviceError("%s is a CUDA array but the boxes a and b are host arrays: put the "
                              "boxes on the GPU too, or pass a host %s" % (nm, nm))
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
        raise InvalidOptionError("fmt should be 'xyxy', 'xywh' or 'cxcywh', got %r" % (fmt,))
    if (wh < 0).any():
        raise InvalidAnnotationError("boxes with negative width or height (fmt=%r)" % fmt)
    if out is not None:
        if not isinstance(out, np.ndarray):
            raise InvalidTypeError("out should be a NumPy array for host boxes, got %s" % type(out).__name__)
        if out.shape != (a.shape[0], b.shape[0]) or out.dtype != np.float64 \
                or not out.flags.c_contiguous or not out.flags.writeable:
            raise InvalidAnnotationError("out should be a writeable C-contiguous float64 array of shape %s, "
                                         "got %s %s" % ((a.shape[0], b.shape[0]), out.dtype, out.shape))
    if block_rows is not None:
        raise InvalidTypeError("block_rows is for CUDA boxes with a host `out` (blocked mode)")
    return _core.box_iou(a, b, crowd, fmt=fmt, num_threads=num_threads, out=out)

"""``fastap.box_iou``: pairwise IoU of two sets of boxes, on the CPU or, for CUDA arrays,
on the GPU (``fastap.cuda``, imported when needed)."""
from __future__ import annotations

import numpy as np

from . import _core, cuda
from .errors import DeviceError, InvalidAnnotationError, InvalidOptionError, InvalidTypeError

__all__ = ["box_iou", "generalized_box_iou", "distance_box_iou", "complete_box_iou", "assign"]


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


def _corners(x, fmt):
    """xyxy boxes from fmt, as torchvision.ops.box_convert computes them."""
    if fmt == "xywh":
        return np.concatenate([x[:, :2], x[:, :2] + x[:, 2:]], axis=1)
    if fmt == "cxcywh":
        return np.concatenate([x[:, :2] - 0.5 * x[:, 2:], x[:, :2] + 0.5 * x[:, 2:]], axis=1)
    return x


def _check_host_out(out, shape):
    if out is None:
        return
    if not isinstance(out, np.ndarray):
        raise InvalidTypeError("out should be a NumPy array for host boxes, got %s" % type(out).__name__)
    if out.shape != shape or out.dtype != np.float64 or not out.flags.c_contiguous or not out.flags.writeable:
        raise InvalidAnnotationError("out should be a writeable C-contiguous float64 array of shape %s, "
                                     "got %s %s" % (shape, out.dtype, out.shape))


def box_iou(a, b, fmt="xyxy", iscrowd=None, num_threads=None, out=None, block_rows=None, *,
            kind="iou", aligned=False, eps=1e-7):
    """IoU (or GIoU, DIoU, CIoU) of every box of ``a`` with every box of ``b``, or of
    ``a[i]`` with ``b[i]`` (``aligned=True``).

    Parameters
    ----------
    a : array-like, shape (n, 4)
    b : array-like, shape (m, 4); (n, 4) with ``aligned=True``
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
        (pycocotools' rule). kind="iou" only.
    num_threads : int, optional
        Threads for large matrices (default: all cores / OMP_NUM_THREADS). CPU only.
    out : array, shape (n, m) ((n,) with ``aligned=True``), optional
        Written in place and returned: a float64 C-contiguous NumPy array for host boxes;
        for CUDA boxes a CUDA array of the result dtype, or a NumPy array (e.g. a
        ``np.memmap``) to compute a matrix larger than device memory in row blocks.
    block_rows : int, optional
        Rows per block of that blocked mode (CUDA boxes with a NumPy ``out``).
    kind : {"iou", "giou", "diou", "ciou"}, keyword only
        "iou": the plain IoU (below). "giou", "diou", "ciou": torchvision's
        ``generalized_box_iou``, ``distance_box_iou``, ``complete_box_iou`` (see
        :func:`generalized_box_iou` for the definitions, the degenerate cases and the
        agreement with torchvision); the boxes of any ``fmt`` are converted to corners
        first, as ``torchvision.ops.box_convert`` does (x2 = x + w; cx -/+ 0.5 w).
    aligned : bool, keyword only
        False: the (n, m) matrix of all pairs. True: ``a`` and ``b`` both (n, 4), the
        result is the (n,) vector of the pairs (a[i], b[i]), equal bit for bit to the
        diagonal of the matrix.
    eps : float, keyword only
        DIoU's and CIoU's eps (torchvision's default 1e-7), >= 0; unused by "iou" and
        "giou".

    Returns
    -------
    numpy.ndarray, float64, shape (n, m) (or (n,) with ``aligned=True``)
        kind="iou": with ``fmt="xywh"`` the arithmetic is pycocotools' bit for bit: it
        recomputes ``x + w``, so a value can exceed 1 by a rounding error, as in
        pycocotools. "xyxy" (and "cxcywh", converted to corners first) stays within
        [0, 1]. NumPy equivalent for xyxy: ``inter / (area_a[:, None] + area_b[None] -
        inter)`` with ``inter`` from clipped corner differences (0 where boxes do not
        overlap).
    """
    if cuda.is_cuda_array(a) or cuda.is_cuda_array(b):
        if num_threads is not None:
            raise InvalidTypeError("num_threads is for the CPU path; these boxes are CUDA arrays")
        return cuda.box_iou(a, b, fmt=fmt, iscrowd=iscrowd, out=out, block_rows=block_rows,
                            kind=kind, aligned=aligned, eps=eps)
    for nm, x in (("out", out), ("iscrowd", iscrowd)):
        if cuda.is_cuda_array(x):
            raise DeviceError("%s is a CUDA array but the boxes a and b are host arrays: put the "
                              "boxes on the GPU too, or pass a host %s" % (nm, nm))
    eps = cuda.check_family_options(kind, aligned, eps, iscrowd)
    a = _as_boxes("a", a)
    b = _as_boxes("b", b)
    if aligned and a.shape[0] != b.shape[0]:
        raise InvalidAnnotationError("aligned=True pairs a[i] with b[i]: a and b should have the same "
                                     "number of boxes, got %d and %d" % (a.shape[0], b.shape[0]))
    crowd = None
    if iscrowd is not None:
        crowd = np.asarray(iscrowd).reshape(-1)
        if crowd.shape[0] != b.shape[0]:
            raise InvalidAnnotationError("iscrowd should have one flag per box of b (%d), got %d"
                                         % (b.shape[0], crowd.shape[0]))
        crowd = np.ascontiguousarray(crowd != 0, dtype=np.uint8)
    if fmt not in ("xyxy", "xywh", "cxcywh"):
        raise InvalidOptionError("fmt should be 'xyxy', 'xywh' or 'cxcywh', got %r" % (fmt,))
    if fmt == "xywh":
        wh = np.concatenate([a[:, 2:], b[:, 2:]])
    if fmt == "cxcywh" or (fmt == "xywh" and kind != "iou"):
        a, b = _corners(a, fmt), _corners(b, fmt)
        fmt = "xyxy"
    if fmt == "xyxy":
        wh = np.concatenate([a[:, 2:] - a[:, :2], b[:, 2:] - b[:, :2]])
    if (wh < 0).any():
        raise InvalidAnnotationError("boxes with negative width or height (fmt=%r)" % fmt)
    _check_host_out(out, (a.shape[0],) if aligned else (a.shape[0], b.shape[0]))
    if block_rows is not None:
        raise InvalidTypeError("block_rows is for CUDA boxes with a host `out` (blocked mode)")
    if aligned:
        return _core.box_iou_aligned(a, b, crowd, fmt=fmt, kind=kind, eps=eps, num_threads=num_threads,
                                     out=out)
    if kind != "iou":
        return _core.box_iou_family(a, b, kind, eps=eps, num_threads=num_threads, out=out)
    return _core.box_iou(a, b, crowd, fmt=fmt, num_threads=num_threads, out=out)


def generalized_box_iou(a, b, fmt="xyxy", aligned=False, num_threads=None, out=None, block_rows=None):
    """Generalized IoU (Rezatofighi et al. 2019) of the boxes ``a`` and ``b``, as
    ``torchvision.ops.generalized_box_iou``: ``box_iou(..., kind="giou")``.

    GIoU = IoU - (C - U) / C, with U the union's area and C the area of the smallest box
    enclosing both; in [-1, 1].

    Parameters
    ----------
    a, b : array-like, shapes (n, 4) and (m, 4) ((n, 4) both with ``aligned=True``)
        NumPy (any real dtype), lists, CPU torch tensors; or CUDA arrays (see
        :func:`box_iou`), boxes as ``fmt``: "xyxy", "xywh" or "cxcywh", converted to
        corners as ``torchvision.ops.box_convert`` does.
    aligned : bool
        False: all pairs, (n, m). True: the pairs (a[i], b[i]), (n,).
    num_threads, out, block_rows
        As :func:`box_iou`.

    Returns
    -------
    float64 NumPy array (n, m) or (n,) for host boxes; for CUDA boxes a CUDA array,
    float32 when both inputs are float32 (the float64 result rounded once), else float64.

    Agreement with torchvision (the IoU family: GIoU, DIoU, CIoU)
    --------------------------------------------------------------
    The arithmetic is torchvision's, in its order, in float64: for float64 boxes GIoU and
    DIoU equal torchvision's float64 results bit for bit, CIoU within 1e-15 (absolute:
    fastap uses the C library's / CUDA's ``atan``, torch its own, each within an ulp or
    so of the exact value, and v and alpha are at most 1). torchvision computes float32
    boxes in float32; fastap computes them in float64 and rounds once, so the two differ
    by float32 rounding: up to about 1e-6 relative to the boxes' extent for coordinates
    of magnitude up to that extent (the tests use 1e-5 absolute on boxes within +-100).
    Where torchvision divides 0 by 0 and returns NaN, fastap defines the value:

    - IoU is 0 when the intersection is 0, also when the union is 0 (two zero-area boxes);
    - GIoU's penalty (C - U) / C is 0 when C is 0 (both boxes on one vertical or
      horizontal line), so GIoU = IoU = 0 there;
    - DIoU's penalty d^2 / (c^2 + eps) is 0 when c^2 + eps is 0 (eps=0, and both boxes the
      same point);
    - CIoU's aspect term v is 0 when either box has zero width and zero height (a point has
      no aspect ratio; torchvision: atan(0/0) = NaN); a zero height with a positive width
      gives atan(w/0) = pi/2 as in torchvision; alpha = v / (1 - IoU + v + eps) is 0 when
      its denominator is 0 (eps=0, identical boxes).

    Every other value is torchvision's, including its eps=1e-7 added to the squared
    diagonal (DIoU, CIoU) and to alpha's denominator (CIoU), as the ``eps`` argument.
    """
    return box_iou(a, b, fmt=fmt, num_threads=num_threads, out=out, block_rows=block_rows,
                   kind="giou", aligned=aligned)


def distance_box_iou(a, b, fmt="xyxy", aligned=False, eps=1e-7, num_threads=None, out=None,
                     block_rows=None):
    """Distance IoU (Zheng et al. 2020) of the boxes ``a`` and ``b``, as
    ``torchvision.ops.distance_box_iou``: ``box_iou(..., kind="diou")``.

    DIoU = IoU - d^2 / (c^2 + eps), d the distance between the boxes' centres, c the
    diagonal of the smallest box enclosing both; eps: torchvision's 1e-7 by default.
    Shapes, dtypes, arguments, degenerate cases and the agreement with torchvision: see
    :func:`generalized_box_iou`.
    """
    return box_iou(a, b, fmt=fmt, num_threads=num_threads, out=out, block_rows=block_rows,
                   kind="diou", aligned=aligned, eps=eps)


def complete_box_iou(a, b, fmt="xyxy", aligned=False, eps=1e-7, num_threads=None, out=None,
                     block_rows=None):
    """Complete IoU (Zheng et al. 2020) of the boxes ``a`` and ``b``, as
    ``torchvision.ops.complete_box_iou``: ``box_iou(..., kind="ciou")``.

    CIoU = DIoU - alpha v, v = 4 / pi^2 (atan(w_a / h_a) - atan(w_b / h_b))^2,
    alpha = v / (1 - IoU + v + eps); eps: torchvision's 1e-7 by default.
    Shapes, dtypes, arguments, degenerate cases and the agreement with torchvision: see
    :func:`generalized_box_iou`.
    """
    return box_iou(a, b, fmt=fmt, num_threads=num_threads, out=out, block_rows=block_rows,
                   kind="ciou", aligned=aligned, eps=eps)


BELOW_LOW_THRESHOLD = -1
BETWEEN_THRESHOLDS = -2


def _corner_boxes(name, x, fmt):
    """Finite float64 corner boxes from `fmt`, checked (negative extents refused)."""
    if fmt not in ("xyxy", "xywh", "cxcywh"):
        raise InvalidOptionError("fmt should be 'xyxy', 'xywh' or 'cxcywh', got %r" % (fmt,))
    a = _as_boxes(name, x)
    if fmt != "xyxy" and (a[:, 2:] < 0).any():
        raise InvalidAnnotationError("%s: boxes with negative width or height (fmt=%r)" % (name, fmt))
    a = _corners(a, fmt)
    if (a[:, 2:] < a[:, :2]).any():
        raise InvalidAnnotationError("%s: boxes with negative width or height (fmt=%r)" % (name, fmt))
    return np.ascontiguousarray(a)


def _any_cuda(x):
    if isinstance(x, (list, tuple)):
        return any(cuda.is_cuda_array(v) for v in x)
    return cuda.is_cuda_array(x)


def _assign_one(anchors, gt, high, low, allow_low, ssd, num_threads):
    best_iou, best_gt, gt_max, gt_arg, hit = _core.assign_passes(anchors, gt, ties=allow_low,
                                                                 num_threads=num_threads)
    matches = best_gt.copy()
    if gt.shape[0] == 0:
        matches[:] = BELOW_LOW_THRESHOLD
        return matches, best_iou
    matches[best_iou < low] = BELOW_LOW_THRESHOLD
    matches[(best_iou >= low) & (best_iou < high)] = BETWEEN_THRESHOLDS
    if allow_low:
        h = hit.astype(bool)
        matches[h] = best_gt[h]
    if ssd and anchors.shape[0]:
        # each gt forces its best anchor; an anchor forced by several: the highest gt index
        rev, first = np.unique(gt_arg[::-1], return_index=True)
        g_sel = gt.shape[0] - 1 - first
        matches[rev] = g_sel
        best_iou[rev] = gt_max[g_sel]           # gt_arg[k] reaches gt_max[k]: its IoU with gt k
    return matches, best_iou


def assign(anchors, gt, high=0.5, low=None, allow_low_quality_matches=False, rule="matcher", fmt="xyxy",
           num_threads=None):
    """Anchor (or proposal) to ground-truth assignment on box IoU, without the IoU matrix:
    torchvision's ``Matcher`` and ``SSDMatcher`` rules, on the CPU or, for CUDA arrays, on
    the GPU (``fastap.cuda.assign``). Forward only.

    Parameters
    ----------
    anchors : array-like (n, 4), or a list of them (one per image)
    gt : array-like (g, 4), or a list of them (one per image, ragged g)
        Boxes as ``fmt`` ("xyxy", "xywh", "cxcywh"; converted to corners as
        ``torchvision.ops.box_convert`` does). Any real dtype, computed in float64.
        With a list of gt and one (n, 4) anchors array the anchors are shared by the images.
        CUDA arrays (CuPy, PyTorch CUDA tensors, ``__cuda_array_interface__``, DLPack), all
        of them on one device, run on the GPU and give CUDA arrays (torch if any input is a
        tensor, else CuPy) equal to the CPU path's results; the IoU is float32 when every
        box array is float32 (the float64 IoU rounded once; the matches are decided on the
        float64 IoU). See ``fastap.cuda.assign``.
    high, low : float
        rule="matcher": ``Matcher(high, low, allow_low_quality_matches)``: an anchor whose
        best IoU is >= high is matched to that ground truth; in [low, high) it is
        BETWEEN_THRESHOLDS (-2, ignore); below low BELOW_LOW_THRESHOLD (-1, background).
        low defaults to high; low <= high. rule="ssd": ``SSDMatcher(high)`` (low must be
        None or high).
    allow_low_quality_matches : bool
        Matcher: each ground truth's highest-IoU anchors (all of them, ties included,
        also when that IoU is 0, as torchvision) get back their best match, whatever the
        thresholds said.
    rule : {"matcher", "ssd"}
        "ssd": thresholds at high, then each ground truth's best anchor (the first one in
        anchor order among equal IoUs, as ``torch.max``) is matched to it, whatever its
        IoU; an anchor that is the best of several ground truths goes to the highest
        ground-truth index (torchvision's index assignment writes them in order).
    num_threads : int, optional
        Threads (default: all cores), over anchors. CPU only.

    Returns
    -------
    (matches, iou): int64 (n,) and float64 (n,) for one image; for a list of gt, arrays
    (B, n) when the anchors are shared, else lists of (n_b,) arrays. matches[i] is a
    ground-truth index, -1 or -2; iou[i] the anchor's highest IoU over the ground truth
    (its IoU with the forced ground truth for an SSD-forced anchor; 0 without ground
    truth). Ties: an anchor's best ground truth is the lowest index among equal IoUs
    (``torch.max``'s rule). The IoU is the corner formula of ``box_iou`` (0 where the
    union is empty; torchvision: NaN). An image without ground truth gets -1 everywhere
    (torchvision's Matcher raises). Oracle: ``fastap.reference.assign``.
    """
    high, low, mode = cuda.check_assign_options(high, low, allow_low_quality_matches, rule)
    if _any_cuda(anchors) or _any_cuda(gt):
        if num_threads is not None:
            raise InvalidTypeError("num_threads is for the CPU path; these boxes are CUDA arrays")
        return cuda.assign(anchors, gt, high, low, mode == "low_quality", rule, fmt)
    ssd, allow = mode == "ssd", mode == "low_quality"
    if not isinstance(gt, (list, tuple)):
        return _assign_one(_corner_boxes("anchors", anchors, fmt), _corner_boxes("gt", gt, fmt), high, low,
                           allow, ssd, num_threads)
    shared = not isinstance(anchors, (list, tuple))
    if shared:
        a = _corner_boxes("anchors", anchors, fmt)
    elif len(anchors) != len(gt):
        raise InvalidAnnotationError("anchors and gt should be lists of the same length (one per image), "
                                     "got %d and %d" % (len(anchors), len(gt)))
    if shared:            # rows filled one image at a time: the batch's output, no stacked copy
        matches, ious = np.empty((len(gt), a.shape[0]), np.int64), np.empty((len(gt), a.shape[0]))
        for i, g in enumerate(gt):
            matches[i], ious[i] = _assign_one(a, _corner_boxes("gt[%d]" % i, g, fmt), high, low, allow, ssd,
                                              num_threads)
        return matches, ious
    res = [_assign_one(_corner_boxes("anchors[%d]" % i, anchors[i], fmt), _corner_boxes("gt[%d]" % i, g, fmt),
                       high, low, allow, ssd, num_threads) for i, g in enumerate(gt)]
    return [m for m, _ in res], [v for _, v in res]

"""``fastap.rotated_iou`` and ``fastap.quad_iou``: exact pairwise IoU of rotated boxes and
of quadrilaterals (DOTA's 8 coordinates), on the CPU (C, all cores) or, for CUDA arrays,
on the GPU (CuPy).

Geometry (``csrc/rotated_pair.h``, shared by the C and the CUDA kernels): each box becomes
its convex polygon relative to a reference point (its centre; a quad's smallest vertex),
and the intersection of two polygons is clipped exactly (Sutherland-Hodgman, intersection
points interpolated only between vertices on strictly opposite sides of an edge, so nearly
parallel edges cannot throw a vertex away), its area a shoelace sum in double. Results
always lie in [0, 1]: the intersection is clamped to the smaller box's area and the ratio
to 1 (rounding can otherwise push a contained box's intersection a few ulp above its area,
and a ratio above 1, as detectron2's kernel has returned). A box of zero area gives 0, with
any box (itself included). A box and itself, or any two boxes whose corners are the same
points (a square turned by 90 degrees, a w x h box and the h x w box turned by 90, a
quad listed from another vertex or in the other direction), give exactly 1. Measured against
shapely (GEOS) polygon intersection: equal within 1e-9 relative (the tests' tolerance; seen
about 1e-11 at worst on tiny overlaps, 1e-15 typically).

Angle convention (``rotated_iou``): detectron2's XYWHA, ``(x_ctr, y_ctr, w, h, angle)``,
the angle counter-clockwise on an image whose y axis points down: the corner (dx, dy)
of the unrotated box (dx = +-w/2, dy = +-h/2) goes to
``(x_ctr + cos(a) dx + sin(a) dy, y_ctr - sin(a) dx + cos(a) dy)``. Degrees by default
(reduced exactly: multiples of 90 give exact corners, and a + 360 k the same corners as
a); ``angle_unit="rad"`` for radians. ultralytics' OBB ``xywhr`` turns the other way:
pass ``-r`` with ``angle_unit="rad"``.

GPU: CuPy arrays (and other CUDA arrays CuPy takes: PyTorch CUDA tensors, which get a
tensor back) run ``csrc/cuda/rotated_iou.cu``, compiled at first use by CuPy's NVRTC and
cached per device, on CuPy's current stream. The result is float64 in every case.
"""
from __future__ import annotations

import os

import numpy as np

from . import _core, cuda
from .errors import DeviceError, FastapError, InvalidAnnotationError, InvalidOptionError, InvalidTypeError

__all__ = ["rotated_iou", "quad_iou", "kernel_source"]

MAX_GRID_Y = 65535
# the largest width or height (a quad's coordinate range) accepted: products of two such
# differences, and their sums in the clipping, stay far below the double range (1.8e308)
MAX_SPAN = 1e150


def _as_host(name, x, cols, what):
    if hasattr(x, "detach") and hasattr(x, "numpy"):      # torch tensor on the CPU
        x = x.detach().numpy()
    try:
        a = np.asarray(x)
    except Exception as e:
        raise InvalidTypeError("%s should be an array of %ss, got %s (%s)" % (name, what, type(x).__name__, e))
    if a.dtype.kind not in "fiu":
        raise InvalidTypeError("%s should hold real numbers, got dtype %s" % (name, a.dtype))
    if a.ndim == 1 and a.shape[0] == 0:
        a = a.reshape(0, cols)
    if a.ndim != 2 or a.shape[1] != cols:
        raise InvalidAnnotationError("%s should have shape (n, %d), got %s" % (name, cols, a.shape))
    a = np.ascontiguousarray(a, dtype=np.float64)
    _check_values(name, a, what, np)
    return a


def _spans(a, what):
    """Per box: its width and height (a quad's coordinate ranges), two arrays (n,)."""
    if what == "box":
        return a[:, 2], a[:, 3]
    x, y = a[:, 0::2], a[:, 1::2]
    return x.max(axis=1) - x.min(axis=1), y.max(axis=1) - y.min(axis=1)


def _check_values(name, a, what, xp):
    """Finite coordinates; for rotated boxes widths and heights >= 0; no box wider or
    taller than MAX_SPAN (the clipping multiplies two coordinate differences: beyond
    that they could overflow to inf and give a wrong IoU). One reduction when all is
    well (a scalar read back on the GPU)."""
    if a.shape[0] == 0:
        return
    with np.errstate(over="ignore", invalid="ignore"):      # a span of inf is refused below
        w, h = _spans(a, what)
    bad = ~xp.isfinite(a).all(axis=1) | (w < 0) | (h < 0) | ~((w <= MAX_SPAN) & (h <= MAX_SPAN))
    if not bool(bad.any()):
        return
    i = int(xp.flatnonzero(bad)[0])
    row = np.asarray(a[i].get() if hasattr(a[i], "get") else a[i]).tolist()
    if not np.isfinite(row).all():
        raise InvalidAnnotationError("%s %s %d is not finite: %r" % (name, what, i, row))
    if what == "box" and min(row[2], row[3]) < 0:
        raise InvalidAnnotationError("%s box %d has a negative width or height: %r" % (name, i, row))
    raise InvalidAnnotationError("%s %s %d spans more than %g (the products of its coordinates "
                                 "would overflow double precision): %r" % (name, what, i, MAX_SPAN, row))


def _check_quads(name, rec, quads, nonconvex, xp):
    if nonconvex == "hull" or rec.shape[0] == 0:
        return
    flags = rec[:, 15] != 0
    if bool(flags.any()):
        i = int(xp.flatnonzero(flags)[0])
        row = np.asarray(quads[i].get() if hasattr(quads[i], "get") else quads[i]).tolist()
        raise InvalidAnnotationError(
            "%s quad %d is not convex in its given vertex order (self-intersecting, or with a "
            "reflex vertex): %r; pass nonconvex='hull' to use the convex hull of its 4 points"
            % (name, i, row))


def _angle(angle_unit):
    if angle_unit not in ("deg", "rad"):
        raise InvalidOptionError("angle_unit should be 'deg' or 'rad', got %r" % (angle_unit,))
    return angle_unit == "rad"


def _device_pair(a, b):
    ga, gb = cuda.is_cuda_array(a), cuda.is_cuda_array(b)
    if ga != gb:
        raise DeviceError("one set of boxes is a CUDA array and the other a host array: put both on "
                          "the same device (cupy.asarray / .cuda()) or both on the host "
                          "(cupy.asnumpy / .cpu())")
    return ga


def rotated_iou(boxes1, boxes2, angle_unit="deg", num_threads=None, iscrowd=None):
    """IoU of every rotated box of ``boxes1`` with every rotated box of ``boxes2``.

    Parameters
    ----------
    boxes1 : array-like, shape (n, 5)
    boxes2 : array-like, shape (m, 5)
        ``(x_ctr, y_ctr, w, h, angle)``: detectron2's XYWHA (see the module's docstring for
        the convention). Any real dtype (float32 included), computed in float64. Widths and
        heights must be >= 0 and everything finite. CUDA arrays (both) run on the GPU.
    angle_unit : {"deg", "rad"}
        Degrees (default, as detectron2) or radians. Any angle, beyond +-360 too.
    num_threads : int, optional
        CPU threads (default: all cores / OMP_NUM_THREADS).
    iscrowd : array-like of bool, shape (m,), optional
        pycocotools' crowd rule, as the third argument of ``pycocotools.mask.iou``: where
        ``iscrowd[j]`` is set, column j holds the intersection over the area of the
        ``boxes1`` box alone (a detection against a crowd region). CPU only.

    Returns
    -------
    numpy.ndarray (CuPy array for CUDA input; a tensor for PyTorch CUDA input), float64,
    shape (n, m), every value in [0, 1].
    """
    radians = _angle(angle_unit)
    if _device_pair(boxes1, boxes2):
        if iscrowd is not None:
            raise InvalidOptionError("rotated_iou: iscrowd is taken on the CPU path only; move the boxes to "
                                     "the host (cupy.asnumpy / .cpu())")
        return _gpu(boxes1, boxes2, "box", num_threads, radians=radians)
    a = _as_host("boxes1", boxes1, 5, "box")
    b = _as_host("boxes2", boxes2, 5, "box")
    crowd = None
    if iscrowd is not None:
        crowd = np.asarray(iscrowd).reshape(-1)
        if crowd.shape[0] != b.shape[0] or crowd.dtype.kind not in "biuf":
            raise InvalidAnnotationError("iscrowd should hold %d flags (one per box of boxes2), got %r"
                                         % (b.shape[0], iscrowd if crowd.size < 10 else crowd.shape))
        crowd = np.ascontiguousarray(crowd != 0, dtype=np.uint8)
    return _core.rotated_iou(_core.rotated_records(a, radians), _core.rotated_records(b, radians),
                             crowd=crowd, num_threads=num_threads)


def quad_iou(q1, q2, nonconvex="raise", num_threads=None):
    """IoU of every quadrilateral of ``q1`` with every quadrilateral of ``q2``.

    Parameters
    ----------
    q1 : array-like, shape (n, 8)
    q2 : array-like, shape (m, 8)
        ``x1 y1 x2 y2 x3 y3 x4 y4`` (DOTA), the vertices in either direction from any
        vertex. Any real dtype, computed in float64; finite. CUDA arrays (both) run on
        the GPU.
    nonconvex : {"raise", "hull"}
        A quad that is not convex in its given order -- self-intersecting (a vertex order
        that crosses itself) or with a reflex vertex: its shoelace area falls short of
        its convex hull's by more than rounding (1e-9 relative) -- raises
        InvalidAnnotationError naming it ("raise", the default), or is replaced by the
        convex hull of its 4 points ("hull"). Degenerate quads (collinear or repeated
        points) are convex: their area, and so their IoU, is 0 (a triangle stays one).
    num_threads : int, optional
        CPU threads (default: all cores / OMP_NUM_THREADS).

    Returns
    -------
    numpy.ndarray (CuPy array for CUDA input; a tensor for PyTorch CUDA input), float64,
    shape (n, m), every value in [0, 1].
    """
    if nonconvex not in ("raise", "hull"):
        raise InvalidOptionError("nonconvex should be 'raise' or 'hull', got %r" % (nonconvex,))
    if _device_pair(q1, q2):
        return _gpu(q1, q2, "quad", num_threads, nonconvex=nonconvex)
    a = _as_host("q1", q1, 8, "quad")
    b = _as_host("q2", q2, 8, "quad")
    ra, rb = _core.quad_records(a)[0], _core.quad_records(b)[0]
    _check_quads("q1", ra, a, nonconvex, np)
    _check_quads("q2", rb, b, nonconvex, np)
    return _core.rotated_iou(ra, rb, num_threads=num_threads)


# ---- the GPU path -----------------------------------------------------------------------

def _source_paths():
    """(rotated_iou.cu, rotated_pair.h): the package's copy (wheel) or the checkout's."""
    here = os.path.dirname(os.path.abspath(__file__))
    shipped = os.path.join(here, "_cuda_src")
    checkout = os.path.join(os.path.dirname(here), "csrc")
    for cu, h in ((os.path.join(shipped, "rotated_iou.cu"), os.path.join(shipped, "rotated_pair.h")),
                  (os.path.join(checkout, "cuda", "rotated_iou.cu"), os.path.join(checkout, "rotated_pair.h"))):
        if os.path.isfile(cu) and os.path.isfile(h):
            return cu, h
    raise FastapError("the CUDA source rotated_iou.cu is missing from this fastap installation "
                      "(looked in %s and %s); reinstall fastap" % (shipped, checkout))


_SOURCE = []


def kernel_source():
    """The CUDA source of the rotated IoU kernels with rotated_pair.h inlined: what NVRTC
    compiles (inlined rather than found with -I, so that CuPy's cache key, the source
    text, changes with the geometry)."""
    if not _SOURCE:
        cu, h = _source_paths()
        with open(cu) as f:
            text = f.read()
        with open(h) as f:
            header = f.read()
        line = '#include "rotated_pair.h"'
        if line not in text:
            raise FastapError("%s does not include rotated_pair.h" % cu)
        _SOURCE.append(text.replace(line, header))
    return _SOURCE[0]


_MODULES = {}


def _kernel(cp, name):
    dev = cp.cuda.Device().id
    mod = _MODULES.get(dev)
    if mod is None:
        mod = _MODULES[dev] = cp.RawModule(code=kernel_source(), options=cuda.NVRTC_OPTIONS)
    return mod.get_function(name)


def launch_plan(n, m, max_grid_y=MAX_GRID_Y, bx=32, by=8):
    """fa_rot_iou launches covering n x m: [(r0, r1, grid, block)], grid.y <= max_grid_y."""
    if n == 0 or m == 0:
        return []
    step = max_grid_y * by
    return [(r0, min(n, r0 + step), (-(-m // bx), -(-(min(n, r0 + step) - r0) // by), 1), (bx, by, 1))
            for r0 in range(0, n, step)]


def records_on_device(cp, x, what, radians=False):
    """Records of device boxes (float64 C-contiguous CuPy array) by the record kernels."""
    n = x.shape[0]
    rec = cp.empty((n, _core.ROT_RECORD), dtype=cp.float64)
    if n:
        grid, block = (-(-n // 128), 1, 1), (128, 1, 1)
        if what == "box":
            _kernel(cp, "fa_rot_rbox_records")(grid, block, (x, np.int64(n), np.int32(radians), rec))
        else:
            _kernel(cp, "fa_rot_quad_records")(grid, block, (x, np.int64(n), rec))
    return rec


def iou_on_device(cp, ra, rb, max_grid_y=MAX_GRID_Y):
    n, m = ra.shape[0], rb.shape[0]
    out = cp.empty((n, m), dtype=cp.float64)
    fn = _kernel(cp, "fa_rot_iou") if n and m else None
    for r0, r1, grid, block in launch_plan(n, m, max_grid_y):
        fn(grid, block, (ra[r0:r1], np.int64(r1 - r0), rb, np.int64(m), out[r0:r1], np.int64(m)))
    return out


def _gpu(a, b, what, num_threads, radians=False, nonconvex="raise"):
    if num_threads is not None:
        raise InvalidTypeError("num_threads is for the CPU path; these boxes are CUDA arrays")
    try:
        import cupy as cp
    except ImportError:
        raise ImportError("rotated IoU got CUDA arrays and its GPU path needs CuPy: pip install "
                          "'fastap[cuda]', or move the boxes to the host (.cpu() / cupy.asnumpy)") from None
    cols = 5 if what == "box" else 8
    names = ("boxes1", "boxes2") if what == "box" else ("q1", "q2")
    arrs, recs = [], []
    for name, x in zip(names, (a, b)):
        d = cp.asarray(x)
        if d.dtype.kind not in "fiu":
            raise InvalidTypeError("%s should hold real numbers, got dtype %s" % (name, d.dtype))
        if d.ndim == 1 and d.shape[0] == 0:
            d = d.reshape(0, cols)
        if d.ndim != 2 or d.shape[1] != cols:
            raise InvalidAnnotationError("%s should have shape (n, %d), got %s" % (name, cols, tuple(d.shape)))
        arrs.append(cp.ascontiguousarray(d, dtype=cp.float64))
    if arrs[0].device.id != arrs[1].device.id:
        raise DeviceError("the boxes are on different CUDA devices (%d, %d)" % (arrs[0].device.id, arrs[1].device.id))
    with cp.cuda.Device(arrs[0].device.id):
        for name, d in zip(names, arrs):
            _check_values(name, d, what, cp)
            rec = records_on_device(cp, d, what, radians)
            if what == "quad":
                _check_quads(name, rec, d, nonconvex, cp)
            recs.append(rec)
        out = iou_on_device(cp, recs[0], recs[1])
    if type(a).__module__.split(".")[0] == "torch":
        import torch
        return torch.as_tensor(out, device=a.device)
    return out

# cython: language_level=3
"""fastap._core -- the only Cython binding.

Every public function here validates dtype, shape and contiguity at the boundary, then
releases the GIL and calls the C kernels of csrc/ (declared in csrc/fastap.h, mirrored
for Cython in fastap/_capi.pxd). Work over independent categories runs in parallel with
`prange`, each thread with its own scratch block; the thread count is `_threads`'s.
"""
import json
import operator
import os
import sys

import numpy as np
cimport numpy as cnp

from .errors import InvalidOptionError
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject
from cython.parallel cimport parallel, prange
from libc.stdint cimport int32_t, int64_t, intptr_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, memmove

from fastap.errors import InvalidAnnotationError, InvalidTypeError

# the whole C API (fastap.h, runs.h), declared once
from fastap._capi cimport *

cnp.import_array()


# ------------------------------------------------------------------------------------
# When a pass is worth threads: one rule for the binding, and for the Python layer
# (public names: read them rather than repeating the numbers). Threads pay only when a
# pass is long against the start of an OpenMP team -- and against the milliseconds a
# team waits when one of its cores is busy with other work, as on shared machines.
#
# SERIAL_BELOW (records) guards group()'s score sort, confusion_match, tide_ious,
# tide_ious_rows and sort_runs_desc: below it they run on one thread. Measured (2-core
# shared machine, thresholds forced to 0, best of 30): at 20 000 records two threads take
# 0.5-0.7x the serial time (group 100 -> 66 us, sort_runs_desc 629 -> 325 us,
# confusion_match 1.15 -> 0.71 ms); at 5 000 they tie (0.83-1.04x), and lose by
# milliseconds whenever the second core is taken.
#
# It also guards COCO matching and accumulation (_run_categories, by n_dt + n_gt): there
# a small pass runs on the calling thread without entering an OpenMP region at all.
# Measured (coco_val2017-scale data, the first N images, best / median of 15 on the
# loaded 2-core machine): 200 detections 0.05 / 0.07 ms on one thread against 0.07 /
# 11.7 ms on two; 20 000 detections 0.88 / 0.99 ms against 7.0 / 14.9 ms; only from
# 50 000 detections (2.2 ms serially) do two threads win at best (1.6 ms).
SERIAL_BELOW = 20000
# PAIRS_SERIAL_BELOW (n * m box pairs) guards box_iou. Measured as above, 100 boxes
# against n: at 200 000 pairs 0.8 ms serially, 0.37 ms on two free cores; at 100 000 pairs
# (0.38 ms serially) a team that waits for a busy core (4 ms seen) is never repaid.
PAIRS_SERIAL_BELOW = 200000
# MATCH_SPLIT_MIN (detections): matching splits a category with more than about
# n_dt / (4 threads) detections (one person category, say) at image boundaries, into
# slices of at least this many, so that a slice's work (some 0.2 ms: coco_match takes
# 23 ms for 500 000 detections on one thread here) stays far above its bookkeeping (a
# few us). The number was set with the splitting (commit 6d07ee1) without a recorded
# measurement.
MATCH_SPLIT_MIN = 4096
# the value _match_tasks reads at run time: tests lower it (monkeypatch) to split small
# categories; everything else reads MATCH_SPLIT_MIN
_MATCH_SPLIT_MIN = MATCH_SPLIT_MIN


cdef extern from *:
    """
    #if FASTAP_OPENMP
    #include <omp.h>
    static int fa_max_threads(void) { return omp_get_max_threads(); }
    #else
    static int fa_max_threads(void) { return 1; }
    #endif
    """
    int fa_max_threads() nogil

MAX_IOU_THRESHOLDS = FA_MAX_IOU_THRESHOLDS


def max_threads():
    """Threads used by default: FASTAP_NUM_THREADS if set, else OpenMP's maximum
    (OMP_NUM_THREADS, or all cores) capped by torch.get_num_threads() when torch is
    imported; 1 without OpenMP."""
    return _threads(None)


def thread_count(num_threads=None):
    """The threads a kernel given ``num_threads`` uses (see ``_threads``): the integer
    itself, or for None the default of :func:`max_threads`. InvalidOptionError (a
    ValueError) otherwise."""
    return _threads(num_threads)


cdef int _threads(num_threads) except -1:
    """The number of threads a parallel pass uses.

    num_threads: an integer >= 1 (anything int() accepts), or None for the default:
    the FASTAP_NUM_THREADS environment variable if set and non-empty, else OpenMP's
    omp_get_max_threads() -- OMP_NUM_THREADS when set, otherwise every core -- and 1 in a
    build without OpenMP; capped by torch.get_num_threads() when torch is imported. Raises
    InvalidOptionError (a ValueError) for a value that is not an integer >= 1, naming
    num_threads or the FASTAP_NUM_THREADS environment variable. Callers may still run serially below
    SERIAL_BELOW records (see the top of this file).
    """
    if num_threads is None:
        env = os.environ.get("FASTAP_NUM_THREADS")
        if env:
            return _env_threads(env)
        else:
            n = max(1, fa_max_threads())
            # inside a PyTorch process, no more than torch's own cap (torch.set_num_threads,
            # 1 in DataLoader workers): its threads and fastap's share the cores. torch's
            # libgomp has fastap's soname, so the two usually share one OpenMP runtime and
            # omp_get_max_threads() already says so -- but only on the thread that called
            # torch.set_num_threads; this check holds on every thread.
            torch = sys.modules.get("torch")
            if torch is not None:
                try:
                    n = min(n, max(1, int(torch.get_num_threads())))
                except Exception:       # a half-imported or stub torch: keep OpenMP's
                    pass
            return n
    try:
        n = int(num_threads)
    except (TypeError, ValueError, OverflowError):
        n = 0
    if n < 1 or (isinstance(num_threads, float) and n != num_threads):
        raise InvalidOptionError("num_threads (the command line's --threads) should be an integer >= 1, or None "
                                 "for the default (FASTAP_NUM_THREADS, else all cores / OMP_NUM_THREADS), got %r"
                                 % (num_threads,))
    return n


cdef int _env_threads(str env) except -1:
    """The FASTAP_NUM_THREADS environment variable's thread count: an integer >= 1."""
    try:
        n = int(env)
    except ValueError:
        n = 0
    if n < 1:
        raise InvalidOptionError("the environment variable FASTAP_NUM_THREADS should be an integer >= 1 (the "
                                 "threads fastap uses), got %r; unset it for the default (all cores, or "
                                 "OMP_NUM_THREADS)" % (env,))
    return n


def _check(name, a, dtype, ndim=1, cols=None):
    """Return `a` as a C-contiguous array of `dtype`; raise naming `name` otherwise."""
    if not isinstance(a, np.ndarray):
        raise TypeError("%s should be a numpy.ndarray, got %s" % (name, type(a).__name__))
    if a.dtype != dtype:
        raise TypeError("%s should have dtype %s, got %s" % (name, np.dtype(dtype), a.dtype))
    if a.ndim != ndim:
        raise ValueError("%s should be a %dd array, got %dD" % (name, ndim, a.ndim))
    if cols is not None and a.shape[1] != cols:
        raise ValueError("%s should have shape (n, %d), got %s" % (name, cols, a.shape))
    return np.ascontiguousarray(a)


def box_iou(a, b, crowd=None, fmt="xywh", bint plus_one=False, num_threads=None, out=None):
    """IoU of float64 boxes a [n, 4] against b [m, 4] -> float64 [n, m].

    fmt is "xywh" (pycocotools' arithmetic) or "xyxy". crowd: uint8 [m] or None; a crowd
    box's union is the area of the box from `a`. Rows are split across threads.
    out: float64 [n, m] C-contiguous, written and returned, or None (a new array).
    """
    a = _check("a", a, np.float64, 2, 4)
    b = _check("b", b, np.float64, 2, 4)
    cdef const uint8_t[::1] cr
    cdef const uint8_t *crp = NULL
    if crowd is not None:
        crowd = _check("iscrowd", crowd, np.uint8)
        if crowd.shape[0] != b.shape[0]:
            raise ValueError("iscrowd should have %d entries (one per box of b), got %d"
                             % (b.shape[0], crowd.shape[0]))
        cr = crowd
        if crowd.shape[0]:
            crp = &cr[0]
    if fmt not in ("xywh", "xyxy"):
        raise InvalidOptionError("fmt should be 'xywh' or 'xyxy', got %r" % (fmt,))
    if plus_one and crp != NULL:
        raise ValueError("plus_one=True cannot be combined with crowd flags")
    cdef int64_t n = a.shape[0], m = b.shape[0]
    if out is None:
        out = np.empty((n, m), dtype=np.float64)
    elif not (isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == (n, m)
              and out.flags.c_contiguous and out.flags.writeable):
        raise ValueError("out should be a writeable C-contiguous float64 array of shape (%d, %d)" % (n, m))
    if n == 0 or m == 0:
        return out
    cdef const double[:, ::1] av = a
    cdef const double[:, ::1] bv = b
    cdef double[:, ::1] ov = out
    cdef int nt = _threads(num_threads)
    cdef int xywh = fmt == "xywh"
    cdef int po = plus_one
    cdef int64_t chunk = 64, nchunks = (n + chunk - 1) // chunk, c, r0, r1
    if n * m < PAIRS_SERIAL_BELOW:
        nt = 1
    with nogil:
        for c in prange(nchunks, num_threads=nt, schedule="static"):
            r0 = c * chunk
            r1 = r0 + chunk
            if r1 > n:
                r1 = n
            if xywh:
                fa_box_iou_xywh(&av[r0, 0], r1 - r0, &bv[0, 0], m, crp, &ov[r0, 0])
            else:
                fa_box_iou_xyxy(&av[r0, 0], r1 - r0, &bv[0, 0], m, crp, po, &ov[r0, 0])
    return out


IOU_KINDS = {"iou": FA_IOU_KIND_IOU, "giou": FA_IOU_KIND_GIOU, "diou": FA_IOU_KIND_DIOU,
             "ciou": FA_IOU_KIND_CIOU}


def _out_array(out, shape):
    if out is None:
        return np.empty(shape, dtype=np.float64)
    if not (isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == shape
            and out.flags.c_contiguous and out.flags.writeable):
        raise ValueError("out should be a writeable C-contiguous float64 array of shape %s" % (shape,))
    return out


def box_iou_family(a, b, kind, double eps=1e-7, num_threads=None, out=None):
    """IoU / GIoU / DIoU / CIoU (kind: a key of IOU_KINDS) of float64 corner boxes a [n, 4]
    against b [m, 4] -> float64 [n, m] (csrc/iou.c, fa_box_iou_family). Rows are split
    across threads. out: float64 [n, m] C-contiguous, or None."""
    a = _check("a", a, np.float64, 2, 4)
    b = _check("b", b, np.float64, 2, 4)
    if kind not in IOU_KINDS:
        raise InvalidOptionError("kind should be one of %s, got %r" % (", ".join(map(repr, IOU_KINDS)), kind))
    cdef int k = IOU_KINDS[kind]
    cdef int64_t n = a.shape[0], m = b.shape[0]
    out = _out_array(out, (n, m))
    if n == 0 or m == 0:
        return out
    cdef const double[:, ::1] av = a
    cdef const double[:, ::1] bv = b
    cdef double[:, ::1] ov = out
    cdef int nt = _threads(num_threads)
    cdef int64_t chunk = 64, nchunks = (n + chunk - 1) // chunk, c, r0, r1
    # a family pair costs 2 to 3 IoU pairs (7-9 ns against 3.3 ns on one core here)
    if n * m < PAIRS_SERIAL_BELOW // 2:
        nt = 1
    with nogil:
        for c in prange(nchunks, num_threads=nt, schedule="static"):
            r0 = c * chunk
            r1 = r0 + chunk
            if r1 > n:
                r1 = n
            fa_box_iou_family(&av[r0, 0], r1 - r0, &bv[0, 0], m, k, eps, &ov[r0, 0])
    return out


def box_iou_aligned(a, b, crowd=None, fmt="xyxy", kind="iou", double eps=1e-7, num_threads=None,
                    out=None):
    """Elementwise IoU family of float64 boxes a [n, 4] and b [n, 4] -> float64 [n]
    (csrc/iou.c, fa_box_iou_aligned). fmt "xywh" (pycocotools' arithmetic; kind "iou"
    only) or "xyxy". crowd: uint8 [n] or None (kind "iou" only)."""
    a = _check("a", a, np.float64, 2, 4)
    b = _check("b", b, np.float64, 2, 4)
    if kind not in IOU_KINDS:
        raise InvalidOptionError("kind should be one of %s, got %r" % (", ".join(map(repr, IOU_KINDS)), kind))
    if fmt not in ("xywh", "xyxy"):
        raise InvalidOptionError("fmt should be 'xywh' or 'xyxy', got %r" % (fmt,))
    cdef int k = IOU_KINDS[kind]
    cdef int xywh = fmt == "xywh"
    if xywh and k != FA_IOU_KIND_IOU:
        raise InvalidOptionError("fmt 'xywh' is for kind 'iou' here: pass corner boxes")
    cdef int64_t n = a.shape[0]
    if b.shape[0] != n:
        raise ValueError("a and b should have the same number of boxes, got %d and %d" % (n, b.shape[0]))
    cdef const uint8_t[::1] cr
    cdef const uint8_t *crp = NULL
    if crowd is not None:
        if k != FA_IOU_KIND_IOU:
            raise InvalidOptionError("crowd flags are for kind 'iou' only")
        crowd = _check("iscrowd", crowd, np.uint8)
        if crowd.shape[0] != n:
            raise ValueError("iscrowd should have %d entries (one per box of b), got %d" % (n, crowd.shape[0]))
        cr = crowd
        if n:
            crp = &cr[0]
    out = _out_array(out, (n,))
    if n == 0:
        return out
    cdef const double[:, ::1] av = a
    cdef const double[:, ::1] bv = b
    cdef double[::1] ov = out
    cdef int nt = _threads(num_threads)
    cdef int64_t chunk = 4096, nchunks = (n + chunk - 1) // chunk, c, r0, r1
    if n < PAIRS_SERIAL_BELOW // 2:
        nt = 1
    with nogil:
        for c in prange(nchunks, num_threads=nt, schedule="static"):
            r0 = c * chunk
            r1 = r0 + chunk
            if r1 > n:
                r1 = n
            fa_box_iou_aligned(&av[r0, 0], &bv[r0, 0], r1 - r0, (crp + r0) if crp != NULL else NULL,
                               xywh, k, eps, &ov[r0])
    return out


def assign_passes(anchors, gt, bint ties=False, num_threads=None):
    """The two passes of fastap.assign (csrc/assign.c) over float64 corner boxes anchors
    [n, 4] and gt [g, 4]: returns (best_iou float64 [n], best_gt int64 [n] (-1 when g ==
    0), gt_max float64 [g], gt_arg int64 [g], hit uint8 [n] or None). gt_max[k] is gt k's
    highest IoU over the anchors, gt_arg[k] the first anchor reaching it; hit[i] (ties=True)
    whether anchor i reaches some gt's highest IoU. Anchors are split across threads in
    chunks; pass 2 visits, per chunk and gt, only the anchors between the chunk's first and
    last reaching the gt's highest IoU, and only when there are more than two."""
    anchors = _check("anchors", anchors, np.float64, 2, 4)
    gt = _check("gt", gt, np.float64, 2, 4)
    cdef int64_t n = anchors.shape[0], g = gt.shape[0]
    cdef int nt = _threads(num_threads)
    if n * g < PAIRS_SERIAL_BELOW:
        nt = 1
    cdef int64_t nchunks = 1 if nt == 1 else min(4 * nt, max(1, n // 256))
    cdef int64_t chunk = (n + nchunks - 1) // nchunks if n else 1, c, r0, r1
    rec = np.empty((g, FA_IOU_REC), dtype=np.float64)
    best_iou = np.zeros(n, dtype=np.float64)
    best_gt = np.full(n, -1, dtype=np.int64)
    gmax = np.full((nchunks, g), -1.0, dtype=np.float64)
    garg = np.full((nchunks, g), -1, dtype=np.int64)
    glast = np.full((nchunks, g), -1, dtype=np.int64)
    gcount = np.zeros((nchunks, g), dtype=np.int64)
    hit = np.zeros(n, dtype=np.uint8) if ties else None
    if n == 0 or g == 0:
        return best_iou, best_gt, np.full(g, -1.0), np.full(g, -1, dtype=np.int64), hit
    cdef const double[:, ::1] av = anchors
    cdef const double[:, ::1] gv = gt
    cdef double[:, ::1] rv = rec
    cdef double[::1] biv = best_iou
    cdef int64_t[::1] bgv = best_gt
    cdef double[:, ::1] gmv = gmax
    cdef int64_t[:, ::1] gav = garg
    cdef int64_t[:, ::1] glv = glast
    cdef int64_t[:, ::1] gcv = gcount
    cdef uint8_t[::1] hv
    fa_iou_records(&gv[0, 0], g, &rv[0, 0])
    with nogil:
        for c in prange(nchunks, num_threads=nt, schedule="static"):
            r0 = c * chunk
            r1 = r0 + chunk
            if r1 > n:
                r1 = n
            if r0 < r1:
                fa_assign_best(&av[0, 0], r0, r1, &rv[0, 0], g, &biv[0], &bgv[0], &gmv[c, 0], &gav[c, 0],
                               &glv[c, 0], &gcv[c, 0])
    gt_max = gmax.max(axis=0)
    first = np.argmax(gmax == gt_max[None, :], axis=0)       # chunks in anchor order: the first anchor
    gt_arg = garg[first, np.arange(g)]
    cdef const double[::1] gxv = gt_max
    if ties:
        hv = hit
        with nogil:
            for c in prange(nchunks, num_threads=nt, schedule="static"):
                fa_assign_ties(&av[0, 0], &rv[0, 0], g, &gxv[0], &gmv[c, 0], &gav[c, 0], &glv[c, 0], &gcv[c, 0],
                               &hv[0])
    return best_iou, best_gt, gt_max, gt_arg, hit


def _int_ids(name, values):
    """1-d int64 ids from an integer array (no silent truncation of floats)."""
    values = np.asarray(values).reshape(-1)
    if values.dtype.kind not in "iu" or (values.dtype.kind == "u" and values.dtype.itemsize == 8):
        raise TypeError("%s should be integer ids within int64, got dtype %s" % (name, values.dtype))
    return np.ascontiguousarray(values, dtype=np.int64)


def index_lut(values, int64_t lo, lut):
    """Positions of int64 ids through a lookup table over their range (see
    engine.IdIndex): lut int64 [span + 1], lut[v - lo] the position of id v or -1.
    Returns (pos int64 [n], 0 where absent; ok bool [n])."""
    values = _int_ids("values", values)
    lut = _check("lut", lut, np.int64)
    if lut.shape[0] < 1:
        raise ValueError("lut should have at least one entry")
    cdef int64_t n = values.shape[0]
    pos = np.empty(n, np.int64)
    ok = np.empty(n, np.bool_)
    if n == 0:
        return pos, ok
    cdef const int64_t[::1] vv = values
    cdef const int64_t[::1] lv = lut
    cdef int64_t[::1] pv = pos
    cdef uint8_t[::1] okv = ok.view(np.uint8)
    with nogil:
        fa_index_lut(n, &vv[0], lo, lv.shape[0] - 1, &lv[0], &pv[0], &okv[0])
    return pos, ok


def pair_select(img_values, int64_t img_lo, img_lut, cat_values, int64_t cat_lo, cat_lut, area,
                keep, table, mark=None, num_threads=None):
    """The records whose (image, category) cell has bit 0 set in ``table`` (uint8
    [I, K]), in input order: records with an area in (0, inf), ``keep`` (bool [n] or
    None) set, and ids found through the lookup tables (see engine.IdIndex: lut[id - lo]
    is the id's position, -1 when absent). Returns (sel int64 [m], img int32 [m], cat
    int32 [m], marked bool [m]: ``mark`` (uint8 [I, K]) nonzero at each record's cell,
    or, with ``mark`` None, bit 1 of its ``table`` cell)."""
    img_values = _int_ids("img_values", img_values)
    cat_values = _int_ids("cat_values", cat_values)
    img_lut = _check("img_lut", img_lut, np.int64)
    cat_lut = _check("cat_lut", cat_lut, np.int64)
    area = _check("area", area, np.float64)
    table = _check("table", table, np.uint8, ndim=2)
    cdef int64_t n = img_values.shape[0], m = 0
    cdef int64_t n_img = table.shape[0], n_cat = table.shape[1]
    if cat_values.shape[0] != n or area.shape[0] != n:
        raise ValueError("img_values, cat_values and area should have the same length")
    if img_lut.shape[0] < 1 or cat_lut.shape[0] < 1:
        raise ValueError("lookup tables should have at least one entry")
    if img_lut.max() >= min(n_img, 2 ** 31 - 1) or cat_lut.max() >= min(n_cat, 2 ** 31 - 1):
        raise ValueError("lookup table positions should be below the table's shape %s" % (table.shape,))
    cdef const uint8_t *kp = NULL
    cdef const uint8_t *mp = NULL
    cdef const uint8_t[::1] kv
    cdef const uint8_t[:, ::1] mv
    if keep is not None:
        keep = _check("keep", keep, np.bool_)
        if keep.shape[0] != n:
            raise ValueError("keep should have %d entries, got %d" % (n, keep.shape[0]))
        kv = keep.view(np.uint8)
        if n:
            kp = &kv[0]
    if mark is not None:
        mark = _check("mark", mark, np.uint8, ndim=2)
        if mark.shape[0] != n_img or mark.shape[1] != n_cat:
            raise ValueError("mark should have the table's shape %s, got %s" % (table.shape, mark.shape))
        mv = mark
        if n_img and n_cat:
            mp = &mv[0, 0]
    sel = np.empty(n, np.int64)
    img = np.empty(n, np.int32)
    cat = np.empty(n, np.int32)
    marked = np.empty(n, np.bool_)
    if n == 0 or n_img == 0 or n_cat == 0:
        return sel[:0], img[:0], cat[:0], marked[:0]
    cdef const int64_t[::1] iv = img_values
    cdef const int64_t[::1] cv = cat_values
    cdef const int64_t[::1] il = img_lut
    cdef const int64_t[::1] cl = cat_lut
    cdef const double[::1] av = area
    cdef const uint8_t[:, ::1] tv = table
    cdef int64_t[::1] sv = sel
    cdef int32_t[::1] ipv = img
    cdef int32_t[::1] cpv = cat
    cdef uint8_t[::1] mkv = marked.view(np.uint8)
    # chunks in parallel, each writing its kept records at its own start; then the kept
    # records moved together in order (the buffers' untouched pages stay unmapped)
    cdef int nt = _threads(num_threads)
    cdef int64_t chunk = 1 << 19, nchunks = (n + chunk - 1) // chunk, c, r0, r1, k, got
    if n < 4 * SERIAL_BELOW:
        nt = 1
    counts = np.zeros(nchunks, np.int64)
    cdef int64_t[::1] cnt = counts
    with nogil:
        for c in prange(nchunks, num_threads=nt, schedule="dynamic"):
            r0 = c * chunk
            r1 = r0 + chunk
            if r1 > n:
                r1 = n
            cnt[c] = fa_pair_select(r1 - r0, &iv[r0], img_lo, il.shape[0] - 1, &il[0], &cv[r0], cat_lo,
                                    cl.shape[0] - 1, &cl[0], n_cat, &av[r0], (kp + r0) if kp != NULL else NULL,
                                    &tv[0, 0], mp, &sv[r0], &ipv[r0], &cpv[r0], &mkv[r0])
        for c in range(nchunks):
            r0 = c * chunk
            got = cnt[c]
            for k in range(got):
                sv[m + k] = sv[r0 + k] + r0
                ipv[m + k] = ipv[r0 + k]
                cpv[m + k] = cpv[r0 + k]
                mkv[m + k] = mkv[r0 + k]
            m += got
    return sel[:m], img[:m], cat[:m], marked[:m]


def gather_grouped(order, sel, img, score, box, area, num_threads=None):
    """The columns of grouped records in one parallel pass: record j is
    ``sel[order[j]]`` of the source columns. order, sel: int64; img: int32 [n_sel] (the
    selected records' image positions); score, area: float64 [n_src]; box: float64
    [n_src, 4] or None. Returns (idx int64, img int32, score, box (or None), area), each
    in the grouping's order."""
    order = _check("order", order, np.int64)
    sel = _check("sel", sel, np.int64)
    img = _check("img", img, np.int32)
    score = _check("score", score, np.float64)
    area = _check("area", area, np.float64)
    cdef int64_t m = order.shape[0], n_sel = sel.shape[0], n_src = score.shape[0]
    if img.shape[0] != n_sel or area.shape[0] != n_src:
        raise ValueError("img should have one entry per selected record, area one per source record")
    if box is not None:
        box = _check("box", box, np.float64, 2, 4)
        if box.shape[0] != n_src:
            raise ValueError("box should have %d rows, got %d" % (n_src, box.shape[0]))
    if m and (order.min() < 0 or order.max() >= n_sel):
        raise ValueError("order should be positions in [0, %d)" % n_sel)
    if n_sel and (sel.min() < 0 or sel.max() >= n_src):
        raise ValueError("sel should be positions in [0, %d)" % n_src)
    idx = np.empty(m, np.int64)
    img_out = np.empty(m, np.int32)
    score_out = np.empty(m)
    area_out = np.empty(m)
    box_out = np.empty((m, 4)) if box is not None else None
    if m == 0:
        return idx, img_out, score_out, box_out, area_out
    cdef const int64_t[::1] ov = order
    cdef const int64_t[::1] sv = sel
    cdef const int32_t[::1] iv = img
    cdef const double[::1] scv = score
    cdef const double[::1] av = area
    cdef const double[:, ::1] bv
    cdef double[:, ::1] bov
    cdef const double *bp = NULL
    cdef double *bop = NULL
    if box is not None:
        bv = box
        bov = box_out
        bp = &bv[0, 0]
        bop = &bov[0, 0]
    cdef int64_t[::1] idv = idx
    cdef int32_t[::1] iov = img_out
    cdef double[::1] sov = score_out
    cdef double[::1] aov = area_out
    cdef int nt = _threads(num_threads)
    cdef int64_t chunk = 65536, nchunks = (m + chunk - 1) // chunk, c, r0, r1
    if m < SERIAL_BELOW:
        nt = 1
    with nogil:
        for c in prange(nchunks, num_threads=nt, schedule="static"):
            r0 = c * chunk
            r1 = r0 + chunk
            if r1 > m:
                r1 = m
            fa_gather_grouped(r0, r1, &ov[0], &sv[0], &iv[0], &scv[0], bp, &av[0], &idv[0], &iov[0],
                              &sov[0], bop, &aov[0])
    return idx, img_out, score_out, box_out, area_out


def mean_valid(x, ts, ks, int64_t a):
    """NumPy's ``np.mean(s[s > -1])`` of ``s = x[ts][:, :, ks, a]`` for x float64
    [T, R, K, A] (``ks`` None: every k), bit for bit, without the copies: (count,
    mean), the mean NaN when the count is 0. ts, ks: int64 indices in range."""
    x = _check("x", x, np.float64, ndim=4)
    ts = _check("ts", np.asarray(ts, dtype=np.int64).reshape(-1), np.int64)
    cdef int64_t T = x.shape[0], R = x.shape[1], K = x.shape[2], A = x.shape[3]
    cdef int64_t nt = ts.shape[0], nk = K, m = 0
    if nt and (ts.min() < 0 or ts.max() >= T):
        raise IndexError("ts should be in [0, %d)" % T)
    if not 0 <= a < A:
        raise IndexError("a should be in [0, %d)" % A)
    cdef const int64_t *kp = NULL
    cdef const int64_t[::1] kv
    if ks is not None:
        ks = _check("ks", np.asarray(ks, dtype=np.int64).reshape(-1), np.int64)
        nk = ks.shape[0]
        if nk and (ks.min() < 0 or ks.max() >= K):
            raise IndexError("ks should be in [0, %d)" % K)
        kv = ks
        if nk:
            kp = &kv[0]
    if nt == 0 or nk == 0 or R == 0:
        return 0, float("nan")
    buf = np.empty(nt * R * nk)
    cdef double[::1] bv = buf
    cdef const double[:, :, :, ::1] xv = x
    cdef const int64_t[::1] tv = ts
    cdef double s = 0.0
    with nogil:
        m = fa_gather_valid(&xv[0, 0, 0, 0], R, K, A, &tv[0], nt, kp, nk, a, &bv[0])
        s = fa_np_sum(&bv[0], m)
    return m, (s / m if m else float("nan"))


def lut_group(img_values, int64_t img_lo, img_lut, int n_img, cat_values, int64_t cat_lo,
              cat_lut, int n_cat, score=None, num_threads=None):
    """Records grouped by (category, image, -score) with their ids looked up in tables
    (see engine.IdIndex: lut[id - lo] is the id's position, -1 when absent), without
    intermediate columns: (order int64 [n], image positions int32 [n] in that order,
    category offsets int64 [n_cat + 1]), or None when some record's image or category
    is not in the tables (the caller then filters the records first)."""
    img_values = _int_ids("img_values", img_values)
    cat_values = _int_ids("cat_values", cat_values)
    img_lut = _check("img_lut", img_lut, np.int64)
    cat_lut = _check("cat_lut", cat_lut, np.int64)
    cdef int64_t n = img_values.shape[0], i, miss = 0
    if cat_values.shape[0] != n:
        raise ValueError("img_values and cat_values should have the same length")
    if img_lut.shape[0] < 1 or cat_lut.shape[0] < 1:
        raise ValueError("lookup tables should have at least one entry")
    if n == 0:
        return None
    ip = np.empty(n, np.int32)
    cp = np.empty(n, np.int32)
    cdef const int64_t[::1] iv = img_values
    cdef const int64_t[::1] cv = cat_values
    cdef const int64_t[::1] il = img_lut
    cdef const int64_t[::1] cl = cat_lut
    cdef int32_t[::1] ipv = ip
    cdef int32_t[::1] cpv = cp
    with nogil:
        miss = fa_index_lut32(n, &iv[0], img_lo, il.shape[0] - 1, &il[0], &ipv[0])
        miss += fa_index_lut32(n, &cv[0], cat_lo, cl.shape[0] - 1, &cl[0], &cpv[0])
    if miss:
        return None
    order, off = group(cp, n_cat, ip, n_img, score, num_threads)
    img_sorted = np.empty(n, np.int32)
    cdef int32_t[::1] isv = img_sorted
    cdef const int64_t[::1] ov = order
    with nogil:
        for i in range(n):
            isv[i] = ipv[ov[i]]
    return order, img_sorted, off


def group(major, int n_major, minor, int n_minor, score=None, num_threads=None):
    """Stable grouping: permutation int64 [n] by (major, minor, -score), and int64
    offsets [n_major + 1] of each major group. major, minor: int32 [n] with values in
    [0, n_major) and [0, n_minor); score: float64 [n] or None. Ties keep input order."""
    major = _check("major", major, np.int32)
    minor = _check("minor", minor, np.int32)
    cdef int64_t n = major.shape[0]
    if minor.shape[0] != n:
        raise ValueError("major and minor should have the same length, got %d and %d"
                         % (n, minor.shape[0]))
    if n and (major.min() < 0 or major.max() >= n_major):
        raise ValueError("major values should be in [0, %d)" % n_major)
    if n and (minor.min() < 0 or minor.max() >= n_minor):
        raise ValueError("minor values should be in [0, %d)" % n_minor)
    cdef const double[::1] sv
    cdef const double *sp = NULL
    if score is not None:
        score = _check("score", score, np.float64)
        if score.shape[0] != n:
            raise ValueError("score should have %d entries, got %d" % (n, score.shape[0]))
        if n and not np.isfinite(score).all():
            raise ValueError("score should be finite")
        sv = score
        if n:
            sp = &sv[0]
    order = np.empty(n, dtype=np.int64)
    off = np.empty(n_major + 1, dtype=np.int64)
    cdef int64_t[::1] ov = order
    cdef int64_t[::1] offv = off
    cdef const int32_t[::1] mj = major
    cdef const int32_t[::1] mn = minor
    cdef int rc
    cdef int32_t dummy32 = 0
    cdef int64_t dummy64 = 0
    # the score sort of the runs in parts on all threads when there are many records
    cdef int nt = _threads(num_threads) if n >= SERIAL_BELOW else 1
    cdef Py_ssize_t part, n_parts = 4 * nt
    cdef int64_t *tmp = NULL
    cdef int no_memory = 0
    with nogil:
        rc = fa_group(n, &mj[0] if n else &dummy32, n_major, &mn[0] if n else &dummy32,
                      n_minor, sp if nt == 1 else NULL, &ov[0] if n else &dummy64, &offv[0])
    if rc == FA_ENOMEM:
        raise MemoryError("fastap: out of memory grouping %d records" % n)
    if nt > 1 and sp != NULL:
        with nogil, parallel(num_threads=nt):
            tmp = <int64_t *>malloc(<size_t>n * sizeof(int64_t))
            for part in prange(n_parts, schedule="dynamic"):
                if tmp == NULL:
                    no_memory = 1
                else:
                    fa_group_sort_runs(n, &mj[0], &mn[0], sp, &ov[0], n * part // n_parts,
                                       n * (part + 1) // n_parts, tmp)
            free(tmp)
        if no_memory:
            raise MemoryError("fastap: out of memory grouping %d records" % n)
    return order, off


cdef inline _padded(a):
    """`a`, or one zero row of its dtype and row shape when it has none."""
    return a if a.shape[0] else np.zeros((1,) + a.shape[1:], a.dtype)


cdef inline _exact(a, int64_t n):
    """The first n rows of a stored array, as a read-only view (the tables' C input
    points into it)."""
    v = a[:n]
    v.flags.writeable = False
    return v


cdef class CocoTables:
    """Grouped COCO input (see fa_coco_input in csrc/fastap.h); keeps the arrays alive.

    The columns are read back through the named properties (gt_off, gt_img, ..., dt_score,
    n_gt, n_dt), each at its exact length, read-only (the C input points into them).
    """
    cdef fa_coco_input inp
    cdef public bint dt_by_image
    cdef public object extra       # arrays behind gt_ignore / iou / dt_iou_off
    cdef public int64_t iou_cut    # the per-image cut the precomputed IoUs were laid out for
    cdef public bint has_dt_box    # False: dt_box not given (matching by precomputed IoUs only)
    # the columns the C input points into, each padded to at least one row so that the
    # pointers are valid for empty tables
    cdef object _gt_off, _gt_img, _gt_box, _gt_area, _gt_crowd, _gt_id_zero
    cdef object _dt_off, _dt_img, _dt_box, _dt_area, _dt_score

    def __init__(self, int n_cat, gt_off, gt_img, gt_box, gt_area, gt_crowd, gt_id_zero,
                 dt_off, dt_img, dt_box, dt_area, dt_score, bint dt_by_image=True):
        """dt_box may be None when the detections' boxes are not needed (masks and
        keypoints are matched by precomputed IoUs, see set_iou): box matching then refuses
        these tables."""
        self.has_dt_box = dt_box is not None
        gt_off = _check("gt_off", gt_off, np.int64)
        dt_off = _check("dt_off", dt_off, np.int64)
        gt_img = _check("gt_img", gt_img, np.int32)
        dt_img = _check("dt_img", dt_img, np.int32)
        gt_box = _check("gt_box", gt_box, np.float64, 2, 4)
        dt_box = _check("dt_box", dt_box, np.float64, 2, 4) if self.has_dt_box else np.zeros((0, 4))
        gt_area = _check("gt_area", gt_area, np.float64)
        dt_area = _check("dt_area", dt_area, np.float64)
        dt_score = _check("dt_score", dt_score, np.float64)
        gt_crowd = _check("gt_crowd", gt_crowd, np.uint8)
        gt_id_zero = _check("gt_id_zero", gt_id_zero, np.uint8)
        ng, nd = gt_img.shape[0], dt_img.shape[0]
        for name, arr, want in (("gt_box", gt_box, ng), ("gt_area", gt_area, ng),
                                ("gt_crowd", gt_crowd, ng), ("gt_id_zero", gt_id_zero, ng),
                                ("dt_box", dt_box, nd if self.has_dt_box else 0), ("dt_area", dt_area, nd),
                                ("dt_score", dt_score, nd)):
            if arr.shape[0] != want:
                raise ValueError("%s should have %d rows, got %d" % (name, want, arr.shape[0]))
        if gt_off.shape[0] != n_cat + 1 or dt_off.shape[0] != n_cat + 1:
            raise ValueError("offsets should have n_cat + 1 = %d entries" % (n_cat + 1))
        if gt_off[0] != 0 or gt_off[n_cat] != ng or dt_off[0] != 0 or dt_off[n_cat] != nd \
                or (n_cat and ((np.diff(gt_off) < 0).any() or (np.diff(dt_off) < 0).any())):
            raise ValueError("offsets should rise from 0 to the number of records")
        self._gt_off, self._dt_off = gt_off, dt_off          # n_cat + 1 >= 1 entries
        self._gt_img, self._gt_box, self._gt_area = _padded(gt_img), _padded(gt_box), _padded(gt_area)
        self._gt_crowd, self._gt_id_zero = _padded(gt_crowd), _padded(gt_id_zero)
        self._dt_img, self._dt_box, self._dt_area = _padded(dt_img), _padded(dt_box), _padded(dt_area)
        self._dt_score = _padded(dt_score)
        self._point_input(n_cat, ng, nd)
        self.extra = {}
        self.iou_cut = -1
        if n_cat:
            _check_img_order(gt_img, gt_off, "gt_img")
            if dt_by_image:
                _check_img_order(dt_img, dt_off, "dt_img")
            elif nd and (dt_img.min() < 0):
                raise ValueError("dt_img should be non-negative image indices")
        self.dt_by_image = dt_by_image

    cdef _point_input(self, int32_t n_cat, int64_t ng, int64_t nd):
        """Point the C input at the stored (padded) columns."""
        cdef const int64_t[::1] go = self._gt_off
        cdef const int32_t[::1] gi = self._gt_img
        cdef const double[:, ::1] gb = self._gt_box
        cdef const double[::1] ga = self._gt_area
        cdef const uint8_t[::1] gc = self._gt_crowd
        cdef const uint8_t[::1] gz = self._gt_id_zero
        cdef const int64_t[::1] do = self._dt_off
        cdef const int32_t[::1] di = self._dt_img
        cdef const double[:, ::1] db = self._dt_box
        cdef const double[::1] da = self._dt_area
        cdef const double[::1] ds = self._dt_score
        self.inp.n_cat = n_cat
        self.inp.n_gt = ng
        self.inp.gt_off = &go[0]
        self.inp.gt_img = &gi[0]
        self.inp.gt_box = &gb[0, 0]
        self.inp.gt_area = &ga[0]
        self.inp.gt_crowd = &gc[0]
        self.inp.gt_id_zero = &gz[0]
        self.inp.n_dt = nd
        self.inp.dt_off = &do[0]
        self.inp.dt_img = &di[0]
        self.inp.dt_box = &db[0, 0] if self.has_dt_box else NULL
        self.inp.dt_area = &da[0]
        self.inp.dt_score = &ds[0]
        self.inp.gt_ignore = NULL
        self.inp.iou = NULL
        self.inp.dt_iou_off = NULL

    @property
    def n_gt(self):
        """Number of ground truths (int)."""
        return self.inp.n_gt

    @property
    def n_dt(self):
        """Number of detections (int)."""
        return self.inp.n_dt

    @property
    def gt_off(self):
        """int64 [n_cat + 1]: category k's ground truths are rows [gt_off[k], gt_off[k + 1])."""
        return _exact(self._gt_off, self.inp.n_cat + 1)

    @property
    def gt_img(self):
        """int32 [n_gt]: image index of each ground truth (grouped order)."""
        return _exact(self._gt_img, self.inp.n_gt)

    @property
    def gt_box(self):
        """float64 [n_gt, 4]: ground-truth boxes, xywh."""
        return _exact(self._gt_box, self.inp.n_gt)

    @property
    def gt_area(self):
        """float64 [n_gt]: the ground truths' ``area`` field (decides area-range ignore)."""
        return _exact(self._gt_area, self.inp.n_gt)

    @property
    def gt_crowd(self):
        """uint8 [n_gt]: iscrowd flags."""
        return _exact(self._gt_crowd, self.inp.n_gt)

    @property
    def gt_id_zero(self):
        """uint8 [n_gt]: 1 where the annotation id is 0 (see csrc/coco.c)."""
        return _exact(self._gt_id_zero, self.inp.n_gt)

    @property
    def dt_off(self):
        """int64 [n_cat + 1]: category k's detections are rows [dt_off[k], dt_off[k + 1])."""
        return _exact(self._dt_off, self.inp.n_cat + 1)

    @property
    def dt_img(self):
        """int32 [n_dt]: image index of each detection (grouped order)."""
        return _exact(self._dt_img, self.inp.n_dt)

    @property
    def dt_box(self):
        """float64 [n_dt, 4]: detection boxes, xywh; None when the tables were built
        without them (dt_box=None)."""
        if not self.has_dt_box:
            return None
        return _exact(self._dt_box, self.inp.n_dt)

    @property
    def dt_area(self):
        """float64 [n_dt]: detection areas (w * h for box results)."""
        return _exact(self._dt_area, self.inp.n_dt)

    @property
    def dt_score(self):
        """float64 [n_dt]: detection scores."""
        return _exact(self._dt_score, self.inp.n_dt)

    @property
    def n_cat(self):
        return self.inp.n_cat

    def set_gt_ignore(self, flags):
        """Ignore flags of the ground truths (uint8 [n_gt], grouped order) when they are
        not just iscrowd (keypoints: iscrowd or num_keypoints == 0)."""
        flags = _check("gt_ignore", flags, np.uint8)
        if flags.shape[0] != self.inp.n_gt:
            raise ValueError("gt_ignore should have %d entries, got %d" % (self.inp.n_gt, flags.shape[0]))
        flags = flags if flags.shape[0] else np.zeros(1, np.uint8)
        cdef const uint8_t[::1] fv = flags
        self.extra["gt_ignore"] = flags
        self.inp.gt_ignore = &fv[0]

    def iou_layout(self, int64_t cut):
        """(dt_iou_off int64 [n_dt], total): where each kept detection's row of
        precomputed IoUs goes (fa_coco_iou_layout; -1 for detections without one)."""
        if cut < 0:
            raise ValueError("cut should be >= 0, got %d" % cut)
        off = np.empty(max(self.inp.n_dt, 1), np.int64)
        cdef int64_t[::1] ov = off
        cdef int64_t total
        with nogil:
            total = fa_coco_iou_layout(&self.inp, cut, &ov[0])
        return off[:self.inp.n_dt], total

    def set_iou(self, iou, dt_iou_off, int64_t cut):
        """Use precomputed IoUs (float64 [total], laid out by iou_layout(cut)) in
        matching instead of box IoU."""
        iou = _check("iou", iou, np.float64)
        dt_iou_off = _check("dt_iou_off", dt_iou_off, np.int64)
        if dt_iou_off.shape[0] != self.inp.n_dt:
            raise ValueError("dt_iou_off should have %d entries" % self.inp.n_dt)
        if dt_iou_off.shape[0] and dt_iou_off.max() >= iou.shape[0] and dt_iou_off.max() > 0:
            raise ValueError("dt_iou_off points past the IoU buffer")
        iou = iou if iou.shape[0] else np.zeros(1)
        dt_iou_off = dt_iou_off if dt_iou_off.shape[0] else np.zeros(1, np.int64)
        cdef const double[::1] iv = iou
        cdef const int64_t[::1] ov = dt_iou_off
        self.extra["iou"] = iou
        self.extra["dt_iou_off"] = dt_iou_off
        self.inp.iou = &iv[0]
        self.inp.dt_iou_off = &ov[0]
        self.iou_cut = cut


def _det_chunks(CocoTables tables, int nt):
    """(category, first, end) detection ranges for parallel per-detection kernels:
    every category split into pieces of about n_dt / (8 nt) detections."""
    off = tables.dt_off
    step = max(256, tables.inp.n_dt // (8 * nt) + 1)
    ks, bs, es = [], [], []
    for k in range(tables.inp.n_cat):
        b, e = int(off[k]), int(off[k + 1])
        while b < e:
            ks.append(k)
            bs.append(b)
            es.append(min(e, b + step))
            b += step
    return (np.asarray(ks, np.int32), np.asarray(bs, np.int64), np.asarray(es, np.int64))


# NumPy's own float64 exp inner loop, found once and used only after checking that it
# gives np.exp's bits on small arrays at any offset (what pycocotools' computeOks does
# per pair); None when that check fails (then OKS uses np.exp on one big buffer).
cdef fa_vec_loop _exp_loop = NULL
cdef void *_exp_data = NULL
cdef int _exp_state = 0          # 0 unchecked, 1 usable, -1 not usable


cdef int _find_exp_loop() except -2:
    global _exp_loop, _exp_data, _exp_state
    if _exp_state:
        return _exp_state
    _exp_state = -1
    cdef cnp.ufunc u = np.exp
    cdef int i
    cdef Py_ssize_t n, start
    cdef fa_vec_loop f
    cdef char *args[2]
    cdef intptr_t dims[1]
    cdef intptr_t steps[2]
    rng = np.random.default_rng(12345)
    probe = np.concatenate([-np.abs(rng.standard_normal(4000)) * 10.0 ** rng.integers(-8, 7, 4000),
                            np.array([0.0, -0.0, -1e-300, -5e-324, -707.0, -708.5, -709.8, -744.0, -745.2,
                                      -746.0, -1e10, -np.inf, -1.0, -0.5, -2.0])])
    ref = np.exp(probe)
    cdef double[::1] out = np.empty(probe.shape[0])
    cdef double[::1] pv = probe
    for i in range(u.ntypes):
        if u.types[2 * i] != cnp.NPY_DOUBLE or u.types[2 * i + 1] != cnp.NPY_DOUBLE:
            continue
        # a float64 -> float64 loop is plain C that touches no Python object, so it may
        # run without the GIL: through void * Cython takes that from us
        f = <fa_vec_loop><void *>u.functions[i]
        ok = True
        for n in (1, 2, 3, 5, 7, 8, 9, 12, 16, 17, 31, 64):
            for start in range(0, probe.shape[0] - n, 97):
                args[0] = <char *>&pv[start]
                args[1] = <char *>&out[start]
                dims[0] = n
                steps[0] = steps[1] = sizeof(double)
                f(args, dims, steps, u.data[i])
                if not np.array_equal(np.asarray(out[start:start + n]).view(np.uint64),
                                      ref[start:start + n].view(np.uint64)):
                    ok = False
                    break
            if not ok:
                break
        if ok:
            _exp_loop, _exp_data, _exp_state = f, u.data[i], 1
            break
    return _exp_state


def keypoint_nvis(kpt, rows):
    """Visible keypoints (visibility > 0) of rows `rows` (int64 [m]) of kpt float64
    [n, 3K]: int64 [m]."""
    kpt = _check("kpt", kpt, np.float64, 2)
    rows = _check("rows", rows, np.int64)
    cdef int64_t m = rows.shape[0], n = kpt.shape[0], w = kpt.shape[1], i, j, c, r
    if w % 3:
        raise ValueError("kpt should have 3K columns, got %d" % w)
    if m and (rows.min() < 0 or rows.max() >= n):
        raise ValueError("rows should index rows of kpt")
    out = np.empty(m, np.int64)
    if m == 0:
        return out
    cdef const double[:, ::1] kv = kpt
    cdef const int64_t[::1] rv = rows
    cdef int64_t[::1] ov = out
    with nogil:
        for i in range(m):
            r = rv[i]
            c = 0
            for j in range(2, w, 3):
                c += kv[r, j] > 0
            ov[i] = c
    return out


def _kpt_rows(name, rows, int64_t n, kpt, kpt_name, what):
    """rows (int64 [n] row indices of kpt) checked, or None when kpt has one row per
    record in grouped order."""
    if rows is None:
        if kpt.shape[0] != n:
            raise ValueError("keypoint arrays should have one row per ground truth / detection")
        return None
    rows = _check(name, rows, np.int64)
    if rows.shape[0] != n or (n and (rows.min() < 0 or rows.max() >= kpt.shape[0])):
        raise ValueError("%s should hold one row index of %s per %s" % (name, kpt_name, what))
    return rows


def oks_iou(CocoTables tables, sigmas, gt_kpt, gt_nvis, dt_kpt, int64_t cut, num_threads=None,
            dt_row=None, double floor=float("-inf"), gt_row=None):
    """pycocotools computeOks for every (category, image) run of `tables`, laid out for
    CocoTables.set_iou (returns (iou float64 [total], dt_iou_off int64 [n_dt])).

    floor: pairs whose OKS is provably below it may get an upper bound of their OKS
    (itself below floor) instead of the OKS, which spares their exp; matching at
    thresholds >= floor is unchanged. The default, -inf, makes every value exact.

    sigmas float64 [K]; gt_kpt float64 [n_gt, 3K] in grouped order, or any order with
    gt_row int64 [n_gt] giving each grouped ground truth's row; dt_kpt float64 [rows, 3K]
    likewise with dt_row int64 [n_dt], or [rows, 2K]: (x, y) pairs only (pycocotools
    reads no detection's visibility); gt_nvis int64 [n_gt] (keypoints with visibility
    > 0, grouped order).
    """
    sigmas = _check("sigmas", sigmas, np.float64)
    cdef int64_t K = sigmas.shape[0], ng = tables.inp.n_gt, nd = tables.inp.n_dt
    if K < 1:
        raise ValueError("kpt_oks_sigmas should hold at least one sigma")
    gt_kpt = _check("gt_kpt", gt_kpt, np.float64, 2, 3 * K)
    cdef int64_t dt_step = 2 if isinstance(dt_kpt, np.ndarray) and dt_kpt.ndim == 2 and dt_kpt.shape[1] == 2 * K else 3
    dt_kpt = _check("dt_kpt", dt_kpt, np.float64, 2, dt_step * K)
    gt_nvis = _check("gt_nvis", gt_nvis, np.int64)
    dt_row = _kpt_rows("dt_row", dt_row, nd, dt_kpt, "dt_kpt", "detection")
    gt_row = _kpt_rows("gt_row", gt_row, ng, gt_kpt, "gt_kpt", "ground truth")
    if gt_nvis.shape[0] != ng:
        raise ValueError("keypoint arrays should have one row per ground truth / detection")
    if ng and (gt_nvis.max() > K or gt_nvis.min() < 0):
        raise ValueError("gt_nvis should be in [0, %d]" % K)
    dt_iou_off, total = tables.iou_layout(cut)
    tables.set_iou(np.zeros(max(total, 1)), dt_iou_off, cut)
    keep = [np.zeros((1, w * K)) if a.shape[0] == 0 else a for a, w in ((gt_kpt, 3), (dt_kpt, dt_step))]
    nvis = gt_nvis if ng else np.zeros(1, np.int64)
    cdef const double[::1] sv = sigmas
    cdef const double[:, ::1] gv = keep[0]
    cdef const double[:, ::1] dv = keep[1]
    cdef const int64_t[::1] nv = nvis
    cdef fa_oks_input kp
    kp.n_kpt = K
    kp.sigmas = &sv[0]
    kp.gt_kpt = &gv[0, 0]
    kp.gt_nvis = &nv[0]
    kp.dt_kpt = &dv[0, 0]
    kp.dt_step = dt_step
    kp.dt_row = NULL
    kp.gt_row = NULL
    cdef const int64_t[::1] rowv
    cdef const int64_t[::1] growv
    if dt_row is not None and nd:
        rowv = dt_row
        kp.dt_row = &rowv[0]
    if gt_row is not None and ng:
        growv = gt_row
        kp.gt_row = &growv[0]
    cdef int nt = _threads(num_threads)
    ck, cb, ce = _det_chunks(tables, nt)
    cdef const int32_t[::1] ckv = ck if ck.shape[0] else np.zeros(1, np.int32)
    cdef const int64_t[::1] cbv = cb if cb.shape[0] else np.zeros(1, np.int64)
    cdef const int64_t[::1] cev = ce if ce.shape[0] else np.zeros(1, np.int64)
    cdef Py_ssize_t c, nc = ck.shape[0]
    if nt > nc:                 # a few chunks (small inputs): no idle team members
        nt = max(1, <int>nc)
    cdef const fa_coco_input *inp = &tables.inp
    iou = tables.extra["iou"]
    cdef double[::1] iv = iou
    cdef double *scratch = NULL
    cdef int no_memory = 0
    cdef bint one_pass = _find_exp_loop() == 1
    # one pass: NumPy's exp loop called on each pair's terms (GIL-free); otherwise the
    # exponents of every pair into one buffer, np.exp on it, then the sums
    cdef int64_t n_e = 0
    e_off = np.empty(1 if one_pass else max(nd, 1), np.int64)
    cdef int64_t[::1] eo = e_off
    if not one_pass:
        with nogil:
            n_e = fa_oks_layout(&tables.inp, &kp, &eo[0])
    ex = np.empty(max(n_e, 1))
    cdef double[::1] exv = ex
    with nogil, parallel(num_threads=nt):
        scratch = <double *>malloc(<size_t>(3 * K) * sizeof(double))
        for c in prange(nc, schedule="dynamic"):
            if scratch == NULL:
                no_memory += 1
            elif one_pass:
                fa_oks_pairs(inp, &kp, ckv[c], cbv[c], cev[c], _exp_loop, _exp_data, scratch,
                             floor, &iv[0])
            else:
                fa_oks_exponents(inp, &kp, ckv[c], cbv[c], cev[c], &eo[0], scratch, &exv[0])
        free(scratch)
    if no_memory:
        raise MemoryError("OKS: no memory for a thread's scratch of %d keypoints" % K)
    if not one_pass:
        np.exp(ex, out=ex)          # NumPy's exp, as pycocotools (see csrc/keypoints.c)
        with nogil:
            for c in prange(nc, num_threads=nt, schedule="dynamic"):
                fa_oks_reduce(inp, &kp, ckv[c], cbv[c], cev[c], &eo[0], &exv[0], &iv[0])
    return iou[:total], dt_iou_off


def _check_img_order(img, off, name):
    """img int32 [n] sorted inside each category run of off (int64 offsets), and >= 0:
    one pass without the GIL."""
    cdef const int32_t[::1] iv = np.ascontiguousarray(img, dtype=np.int32)
    cdef const int64_t[::1] ov = np.ascontiguousarray(off, dtype=np.int64)
    cdef int64_t n = iv.shape[0], i, k = 0, nk = ov.shape[0] - 1, nxt
    cdef int bad_order = 0, negative = 0
    if n == 0:
        return
    with nogil:
        negative = iv[0] < 0
        # the next category start after position 0 (runs may be empty)
        while k < nk and ov[k + 1] <= 0:
            k += 1
        nxt = ov[k + 1] if k < nk else n
        for i in range(1, n):
            negative |= iv[i] < 0
            if i == nxt:
                while k < nk and ov[k + 1] <= i:
                    k += 1
                nxt = ov[k + 1] if k < nk else n
                continue
            bad_order |= iv[i] < iv[i - 1]
    if bad_order:
        raise ValueError("%s should be sorted by image inside each category" % name)
    if negative:
        raise ValueError("%s should be non-negative image indices" % name)


cdef class _Params:
    cdef fa_coco_params p
    cdef object keep

    def __init__(self, iou_thr, area_rng, max_dets, rec_thr):
        iou_thr = np.ascontiguousarray(iou_thr, dtype=np.float64)
        area_rng = np.ascontiguousarray(area_rng, dtype=np.float64).reshape(-1, 2)
        max_dets = np.ascontiguousarray(max_dets, dtype=np.int64)
        rec_thr = np.ascontiguousarray(rec_thr, dtype=np.float64)
        if not 1 <= iou_thr.shape[0] <= FA_MAX_IOU_THRESHOLDS:
            raise ValueError("iouThrs: between 1 and %d thresholds per kernel call, got %d"
                             % (FA_MAX_IOU_THRESHOLDS, iou_thr.shape[0]))
        if area_rng.shape[0] < 1:
            raise ValueError("areaRng should hold at least one [lo, hi] range")
        if max_dets.shape[0] < 1 or (max_dets < 0).any() or (np.diff(max_dets) < 0).any():
            raise ValueError("maxDets should be non-negative and ascending, got %s" % (max_dets.tolist(),))
        if rec_thr.shape[0] < 1:
            raise ValueError("recThrs should hold at least one threshold")
        self.keep = (iou_thr, area_rng, max_dets, rec_thr)
        cdef const double[::1] it = iou_thr
        cdef const double[:, ::1] ar = area_rng
        cdef const int64_t[::1] md = max_dets
        cdef const double[::1] rt = rec_thr
        self.p.n_iou = iou_thr.shape[0]
        self.p.iou_thr = &it[0]
        self.p.n_area = area_rng.shape[0]
        self.p.area_rng = &ar[0, 0]
        self.p.n_maxdet = max_dets.shape[0]
        self.p.max_dets = &md[0]
        self.p.n_rec = rec_thr.shape[0]
        self.p.rec_thr = &rt[0]


cdef void _set_match_out(fa_coco_match_out *o, uint32_t[:, ::1] tp, uint32_t[:, ::1] fp,
                         int32_t[::1] rank, int64_t[:, ::1] npig):
    """Point `o` at the per-detection outputs (the arrays outlive the kernel calls)."""
    o.dt_tp = &tp[0, 0]
    o.dt_fp = &fp[0, 0]
    o.dt_rank = &rank[0]
    o.npig = &npig[0, 0]
    o.dt_match = NULL
    o.dt_ignore = NULL
    o.gt_ignore = NULL


def coco_match(CocoTables tables, iou_thr, area_rng, max_dets, rec_thr, bint details=False,
               num_threads=None):
    """pycocotools evaluate() on grouped tables, all categories in parallel.

    Returns a dict: dt_tp, dt_fp uint32 [A, n_dt] (bit t = threshold t), dt_rank int32
    [n_dt], npig int64 [K, A]; with details=True also dt_match int32 [A, T, n_dt]
    (grouped gt index or -1), dt_ignore uint32 [A, n_dt], gt_ignore uint8 [A, n_gt].
    """
    if not tables.dt_by_image:
        raise ValueError("COCO matching needs detections grouped by image (dt_by_image=True)")
    if tables.inp.iou == NULL and not tables.has_dt_box:
        raise ValueError("box matching needs the detections' boxes: these tables were built "
                         "without them and have no precomputed IoUs")
    cdef _Params prm = _Params(iou_thr, area_rng, max_dets, rec_thr)
    if tables.inp.iou != NULL and tables.iou_cut != prm.p.max_dets[prm.p.n_maxdet - 1]:
        raise ValueError("the precomputed IoUs were laid out for maxDets[-1] = %d, not %d"
                         % (tables.iou_cut, prm.p.max_dets[prm.p.n_maxdet - 1]))
    cdef int32_t K = tables.inp.n_cat, A = prm.p.n_area, T = prm.p.n_iou
    cdef int64_t nd = tables.inp.n_dt, ng = tables.inp.n_gt
    ndp, ngp = max(nd, 1), max(ng, 1)
    res = {"dt_tp": np.zeros((A, ndp), np.uint32), "dt_fp": np.zeros((A, ndp), np.uint32),
           "dt_rank": np.zeros(ndp, np.int32), "npig": np.zeros((max(K, 1), A), np.int64)}
    if details:
        res["dt_match"] = np.full((A, T, ndp), -1, np.int32)
        res["dt_ignore"] = np.zeros((A, ndp), np.uint32)
        res["gt_ignore"] = np.zeros((A, ngp), np.uint8)
    cdef int32_t[:, :, ::1] mv
    cdef uint32_t[:, ::1] igv
    cdef uint8_t[:, ::1] gigv
    cdef fa_coco_match_out out
    _set_match_out(&out, res["dt_tp"], res["dt_fp"], res["dt_rank"], res["npig"])
    if details:
        mv = res["dt_match"]
        igv = res["dt_ignore"]
        gigv = res["gt_ignore"]
        out.dt_match = &mv[0, 0, 0]
        out.dt_ignore = &igv[0, 0]
        out.gt_ignore = &gigv[0, 0]
    _run_categories(tables, prm, &out, 0, NULL, NULL, NULL, num_threads)
    for key in ("dt_tp", "dt_fp", "dt_match", "dt_ignore"):
        if key in res:
            res[key] = res[key][..., :nd]
    res["dt_rank"] = res["dt_rank"][:nd]
    res["npig"] = res["npig"][:K]
    if details:
        res["gt_ignore"] = res["gt_ignore"][:, :ng]
    return res


def coco_accumulate(CocoTables tables, match, iou_thr, area_rng, max_dets, rec_thr,
                    num_threads=None, with_scores=True):
    """pycocotools accumulate() from coco_match's output.

    Returns precision float64 [T, R, K, A, M], recall float64 [T, K, A, M], scores
    float64 [T, R, K, A, M] (None with ``with_scores=False``), -1 where a setting has
    no non-ignored ground truth.
    """
    cdef _Params prm = _Params(iou_thr, area_rng, max_dets, rec_thr)
    cdef int32_t K = tables.inp.n_cat, A = prm.p.n_area, T = prm.p.n_iou
    cdef int32_t R = prm.p.n_rec, M = prm.p.n_maxdet
    cdef int64_t nd = tables.inp.n_dt
    for key, shape, dt in (("dt_tp", (A, nd), np.uint32), ("dt_fp", (A, nd), np.uint32),
                           ("dt_rank", (nd,), np.int32), ("npig", (K, A), np.int64)):
        arr = match[key]
        if not isinstance(arr, np.ndarray) or arr.dtype != dt or arr.shape != shape:
            raise ValueError("match[%r] should be %s %s" % (key, np.dtype(dt), shape))
    tp = np.ascontiguousarray(match["dt_tp"]) if nd else np.zeros((A, 1), np.uint32)
    fp = np.ascontiguousarray(match["dt_fp"]) if nd else np.zeros((A, 1), np.uint32)
    rk = np.ascontiguousarray(match["dt_rank"]) if nd else np.zeros(1, np.int32)
    npig = np.ascontiguousarray(match["npig"]) if K else np.zeros((1, A), np.int64)
    cdef fa_coco_match_out m
    _set_match_out(&m, tp, fp, rk, npig)
    # every entry of every category is written by the kernel (-1 where a setting has
    # no non-ignored ground truth), in parallel: no fill pass first
    precision = np.empty((T, R, max(K, 1), A, M))
    recall = np.empty((T, max(K, 1), A, M))
    scores = np.empty((T, R, max(K, 1), A, M)) if with_scores else np.empty((1, 1, 1, 1, 1))
    cdef double[:, :, :, :, ::1] pv = precision
    cdef double[:, :, :, ::1] rv = recall
    cdef double[:, :, :, :, ::1] sv = scores
    cdef double *sp = &sv[0, 0, 0, 0, 0] if with_scores else NULL
    _run_categories(tables, prm, &m, 1, &pv[0, 0, 0, 0, 0], &rv[0, 0, 0, 0], sp, num_threads)
    return precision[:, :, :K], recall[:, :K], (scores[:, :, :K] if with_scores else None)


def _match_tasks(CocoTables tables, int nt):
    """(category, gt begin, gt end, dt begin, dt end) slices for matching: a category
    with more than about n_dt / (4 nt) detections (one person category, say) is split at
    image boundaries, so it does not keep one thread busy while the others wait."""
    cdef int32_t K = tables.inp.n_cat
    go, gimg = tables.gt_off, tables.gt_img
    do, dimg = tables.dt_off, tables.dt_img
    step = max(_MATCH_SPLIT_MIN, tables.inp.n_dt // (4 * nt) + 1)
    big = np.flatnonzero(np.diff(do) > step) if nt > 1 else np.zeros(0, np.int64)
    if big.shape[0] == 0:
        return None
    rows = []
    for k in range(K):
        g0, g1, d0, d1 = int(go[k]), int(go[k + 1]), int(do[k]), int(do[k + 1])
        if d1 - d0 <= step:
            rows.append((k, g0, g1, d0, d1))
            continue
        # cuts: the first detection of a new image near every `step`
        img = dimg[d0:d1]
        new = np.flatnonzero(img[1:] != img[:d1 - d0 - 1]) + 1
        want = np.arange(step, d1 - d0, step)
        cuts = np.unique(new[np.minimum(np.searchsorted(new, want), new.shape[0] - 1)]) if new.shape[0] else []
        gcuts = [g0 + int(np.searchsorted(gimg[g0:g1], img[c], "left")) for c in cuts]
        db = [d0] + [d0 + int(c) for c in cuts] + [d1]
        gb = [g0] + gcuts + [g1]
        for j in range(len(db) - 1):
            rows.append((k, gb[j], gb[j + 1], db[j], db[j + 1]))
    return np.asarray(rows, np.int64)


cdef inline int _category_task(const fa_coco_input *inp, const fa_coco_params *p, fa_coco_sizes *sizes,
                               fa_coco_match_out *out, int accumulate, int32_t K, const int64_t *task,
                               int64_t *npig, const int64_t *order, int64_t n_order, char *buf,
                               double *precision, double *recall, double *scores) noexcept nogil:
    """One row of _run_categories' tasks: (category, gt begin, gt end, dt begin, dt end)
    for matching, (category, area begin, area end, -, -) for accumulation."""
    cdef int32_t kc = <int32_t>task[0]
    if accumulate:
        return fa_coco_accumulate_areas(inp, p, kc, out, kc, K, <int32_t>task[1], <int32_t>task[2],
                                        order, n_order, buf, precision, recall, scores)
    return fa_coco_match_part(inp, p, sizes, kc, task[1], task[2], task[3], task[4], buf, out, npig)


cdef int _run_categories(CocoTables tables, _Params prm, fa_coco_match_out *out, int accumulate,
                         double *precision, double *recall, double *scores,
                         num_threads) except -1:
    """Matching or accumulation of every category on all threads. Matching runs by
    category slices (see _match_tasks) whose counts of non-ignored ground truths are
    added up per category; accumulation by whole categories."""
    cdef int32_t K = tables.inp.n_cat, A = prm.p.n_area, k, a
    if K == 0:
        return 0
    cdef int nt = _threads(num_threads)
    if tables.inp.n_dt + tables.inp.n_gt < SERIAL_BELOW:
        nt = 1
    # accumulation of fewer categories than threads twice over (one person category,
    # say): each category sorted once, then its area ranges on several threads
    cdef bint by_area = accumulate and nt > 1 and A > 1 and K < 2 * nt
    tasks = None if accumulate else _match_tasks(tables, nt)
    if by_area:                         # (category, area range, area range + 1, -, -)
        kk, aa = np.divmod(np.arange(K * A), A)
        tasks = np.stack([kk, aa, aa + 1, aa, aa], axis=1).astype(np.int64)
    elif tasks is None:                 # one task per category (accumulation: all area ranges)
        go, do = tables.gt_off, tables.dt_off
        tasks = np.stack([np.arange(K), go[:K], go[1:], do[:K], do[1:]], axis=1).astype(np.int64)
        if accumulate:
            tasks[:, 1], tasks[:, 2] = 0, A
    cdef fa_coco_sizes sizes
    cdef size_t nbytes = (fa_coco_accumulate_scratch_bytes(&tables.inp, &prm.p, out.npig) if accumulate
                          else fa_coco_scratch_bytes(&tables.inp, &prm.p, &sizes))
    cdef Py_ssize_t nk = tasks.shape[0], t
    if nt > nk:
        nt = nk
    cdef const int64_t[:, ::1] tv = np.ascontiguousarray(tasks)
    npig = np.zeros((nk, A), np.int64)
    cdef int64_t[:, ::1] nv = npig
    errs = np.zeros(nk, dtype=np.int32)
    cdef int32_t[::1] ev = errs
    cdef char *buf = NULL
    cdef const fa_coco_input *inp = &tables.inp
    cdef const fa_coco_params *p = &prm.p
    cdef int32_t kc
    cdef const int64_t[::1] dov = tables.dt_off
    orders = np.zeros(tables.inp.n_dt + 1 if by_area else 1, np.int64)
    n_order = np.zeros(K if by_area else 1, np.int64)
    cdef int64_t[::1] orv = orders
    cdef int64_t[::1] nov = n_order
    cdef const int64_t *op = NULL
    if by_area:
        with nogil, parallel(num_threads=min(nt, K)):
            buf = <char *>malloc(nbytes)
            for kc in prange(K, schedule="dynamic"):
                if buf == NULL:
                    ev[kc] = FA_ENOMEM
                else:
                    nov[kc] = fa_coco_accumulate_order(inp, p, kc, out, buf, &orv[dov[kc]])
            free(buf)
        if (errs != 0).any():
            raise MemoryError("fastap: out of memory (%d bytes of scratch per thread)" % nbytes)
    # accumulation: runs of neighbouring categories per thread, whose output rows share
    # cache lines (a category's values of one (t, r) are A*M doubles wide)
    cdef int chunk = max(1, <int>(nk // (4 * nt))) if accumulate and not by_area else 1
    if nt == 1:
        # on the calling thread, no OpenMP region at all (see SERIAL_BELOW)
        with nogil:
            buf = <char *>malloc(nbytes)
            for t in range(nk):
                if buf == NULL:
                    ev[t] = FA_ENOMEM
                else:
                    ev[t] = _category_task(inp, p, &sizes, out, accumulate, K, &tv[t, 0], &nv[t, 0], NULL, 0,
                                           buf, precision, recall, scores)
            free(buf)
    else:
        with nogil, parallel(num_threads=nt):
            buf = <char *>malloc(nbytes)
            for t in prange(nk, schedule="dynamic", chunksize=chunk):
                if buf == NULL:
                    ev[t] = FA_ENOMEM
                else:
                    kc = <int32_t>tv[t, 0]
                    op = &orv[dov[kc]] if by_area else NULL
                    ev[t] = _category_task(inp, p, &sizes, out, accumulate, K, &tv[t, 0], &nv[t, 0], op,
                                           nov[kc] if by_area else 0, buf, precision, recall, scores)
            free(buf)
    if (errs == FA_ENOMEM).any():
        raise MemoryError("fastap: out of memory (%d bytes of scratch per thread)" % nbytes)
    if accumulate and (errs == FA_EINVAL).any():
        k = <int32_t>tv[int(np.flatnonzero(errs == FA_EINVAL)[0]), 0]
        raise InvalidAnnotationError(
            "match results of category index %d do not fit the parameters: a true positive at an IoU "
            "threshold index >= %d (the number of thresholds), or more true positives at one threshold "
            "than non-ignored ground truths (a corrupt or mismatched Evaluator state?)" % (k, prm.p.n_iou))
    if errs.any():
        raise RuntimeError("fastap: kernel error %d" % errs[errs != 0][0])
    if not accumulate:
        total = np.zeros((K, A), np.int64)
        np.add.at(total, tasks[:, 0], npig)
        sv = total
        for k in range(K):
            for a in range(A):
                out.npig[<int64_t>k * A + a] = sv[k, a]
    return 0


cdef _voc_run(CocoTables tables, gt_difficult, double iou_thr, int flag, bint use_11_point, num_threads,
              const int64_t *bp, const double *bip):
    """The per-category VOC pass of voc_evaluate (bp NULL: IoUs from the boxes, flag:
    plus_one) and voc_evaluate_best (bp / bip: each detection's best ground truth and
    its IoU, flag: strict). Returns (ap float64 [K], n_pos int64 [K])."""
    cdef int32_t K = tables.inp.n_cat
    ap = np.full(max(K, 1), np.nan)
    npos = np.zeros(max(K, 1), np.int64)
    cdef double[::1] apv = ap
    cdef int64_t[::1] npv = npos
    cdef const uint8_t[::1] dv
    cdef const uint8_t *dp = NULL
    if gt_difficult is not None:
        gt_difficult = _check("gt_difficult", gt_difficult, np.uint8)
        if gt_difficult.shape[0] != tables.inp.n_gt:
            raise ValueError("gt_difficult should have %d entries" % tables.inp.n_gt)
        if tables.inp.n_gt:
            dv = gt_difficult
            dp = &dv[0]
    if K == 0:
        return ap[:0], npos[:0]
    if bp == NULL and not tables.has_dt_box:
        raise ValueError("VOC evaluation needs the detections' boxes: these tables were built without them")
    cdef size_t nbytes = fa_voc_scratch_bytes(&tables.inp)
    cdef int nt = _threads(num_threads)
    if nt > K:
        nt = K
    if tables.inp.n_dt + tables.inp.n_gt < SERIAL_BELOW:   # as COCO matching (see the top)
        nt = 1
    errs = np.zeros(K, dtype=np.int32)
    cdef int32_t[::1] ev = errs
    cdef int32_t k
    cdef char *buf = NULL
    cdef const fa_coco_input *inp = &tables.inp
    cdef int e11 = use_11_point
    with nogil, parallel(num_threads=nt):
        buf = <char *>malloc(nbytes)
        for k in prange(K, schedule="dynamic"):
            if buf == NULL:
                ev[k] = FA_ENOMEM
            elif bp == NULL:
                ev[k] = fa_voc_category(inp, dp, k, iou_thr, flag, e11, buf, &apv[k], &npv[k])
            else:
                ev[k] = fa_voc_category_best(inp, dp, k, bp, bip, iou_thr, flag, e11, buf, &apv[k], &npv[k])
        free(buf)
    if errs.any():
        raise MemoryError("fastap: out of memory (%d bytes of scratch per thread)" % nbytes)
    return ap, npos


def voc_evaluate(CocoTables tables, gt_difficult, double iou_thr, bint plus_one=True,
                 bint use_11_point=False, num_threads=None):
    """VOC AP per category from grouped tables. gt_difficult: uint8 [n_gt] (grouped
    order) or None (crowd flags). Returns (ap float64 [K], n_pos int64 [K])."""
    return _voc_run(tables, gt_difficult, iou_thr, plus_one, use_11_point, num_threads, NULL, NULL)


def voc_evaluate_best(CocoTables tables, gt_difficult, best, best_iou, double iou_thr, bint strict=False,
                      bint use_11_point=False, num_threads=None):
    """voc_evaluate with each detection's best ground truth given (fa_voc_category_best):
    best int64 [n_dt] (grouped gt index or -1), best_iou float64 [n_dt], both in grouped
    detection order; strict: a hit needs IoU > iou_thr (DOTA) rather than >=. Returns
    (ap float64 [K], n_pos int64 [K])."""
    cdef int32_t K = tables.inp.n_cat
    cdef int64_t nd = tables.inp.n_dt
    best = _check("best", best, np.int64)
    best_iou = _check("best_iou", best_iou, np.float64)
    if best.shape[0] != nd or best_iou.shape[0] != nd:
        raise ValueError("best and best_iou should have %d entries" % nd)
    if nd:
        # each detection's best gt within its own category's run: the matching marks
        # taken[best - gt_off[k]]
        goff = np.asarray(tables.gt_off, np.int64)
        k_dt = np.repeat(np.arange(K, dtype=np.int64), np.diff(np.asarray(tables.dt_off, np.int64)))
        if ((best != -1) & ((best < goff[k_dt]) | (best >= goff[k_dt + 1]))).any():
            raise ValueError("best points outside the ground truth of its detection's category")
    cdef const int64_t[::1] bv = best if nd else np.zeros(1, np.int64)
    cdef const double[::1] biv = best_iou if nd else np.zeros(1)
    return _voc_run(tables, gt_difficult, iou_thr, strict, use_11_point, num_threads, &bv[0], &biv[0])


include "_json.pxi"
include "_segm.pxi"
include "_reports.pxi"
include "_evalimgs.pxi"
include "_semantic.pxi"
include "_panoptic.pxi"


# ------------------------------------------------------------------------------------
# COCO annotation dicts -> columns, without a Python-level loop per field
# ------------------------------------------------------------------------------------
cdef inline bint _num(object v, double *out):
    """A JSON number (int or float, not bool) into *out; False otherwise."""
    if type(v) is float:
        out[0] = <double>v
        return True
    if type(v) is int:
        out[0] = <double>v
        return True
    return False


cdef inline bint _intid(object v, int64_t *out):
    if type(v) is int:
        try:
            out[0] = <int64_t>v
        except OverflowError:
            return False
        return True
    return False


def records_to_columns(list anns, bint ground_truth):
    """Columns from a list of COCO annotation (or result) dicts, or None when a record
    is irregular (missing field, non-number, float id, ...): the caller then takes the
    general path, which names the record and the field.

    Returns a dict of int64 ``image_id``, ``category_id``; float64 ``bbox`` [n, 4];
    ground truth: int64 ``id``, float64 ``area``, uint8 ``iscrowd`` (0 when absent);
    results: float64 ``score``, float64 ``area`` (NaN when absent) and ``has_area``.
    """
    cdef Py_ssize_t n = len(anns), i, j
    ids = np.empty(n, np.int64)
    img = np.empty(n, np.int64)
    cat = np.empty(n, np.int64)
    box = np.empty((n, 4), np.float64)
    area = np.empty(n, np.float64)
    extra = np.empty(n, np.float64)          # score (results)
    crowd = np.zeros(n, np.uint8)
    cdef int64_t[::1] idv = ids
    cdef int64_t[::1] imv = img
    cdef int64_t[::1] cav = cat
    cdef double[:, ::1] bv = box
    cdef double[::1] arv = area
    cdef double[::1] exv = extra
    cdef uint8_t[::1] crv = crowd
    cdef PyObject *p
    cdef object a, b
    cdef double x = 0
    cdef bint all_area = True
    k_id, k_img, k_cat, k_box, k_area, k_crowd, k_score = (
        "id", "image_id", "category_id", "bbox", "area", "iscrowd", "score")
    for i in range(n):
        a = anns[i]
        if type(a) is not dict:
            return None
        p = PyDict_GetItem(a, k_img)
        if p == NULL or not _intid(<object>p, &imv[i]):
            return None
        p = PyDict_GetItem(a, k_cat)
        if p == NULL or not _intid(<object>p, &cav[i]):
            return None
        p = PyDict_GetItem(a, k_box)
        if p == NULL:
            return None
        b = <object>p
        if type(b) is not list or len(b) != 4:
            return None
        for j in range(4):
            if not _num(b[j], &bv[i, j]):
                return None
        p = PyDict_GetItem(a, k_area)
        if p == NULL or <object>p is None:
            if ground_truth:
                return None
            arv[i] = NAN_VALUE
            all_area = False
        elif not _num(<object>p, &arv[i]):
            return None
        if ground_truth:
            p = PyDict_GetItem(a, k_id)
            if p == NULL or not _intid(<object>p, &idv[i]):
                return None
            p = PyDict_GetItem(a, k_crowd)
            if p != NULL:
                if not _num(<object>p, &x) or (x != 0 and x != 1):
                    return None
                crv[i] = <uint8_t>(x != 0)
        else:
            p = PyDict_GetItem(a, k_score)
            if p == NULL or not _num(<object>p, &exv[i]):
                return None
    out = {"image_id": img, "category_id": cat, "bbox": box, "area": area}
    if ground_truth:
        out["id"] = ids
        out["iscrowd"] = crowd
    else:
        out["score"] = extra
        out["has_area"] = all_area and n > 0
    return out

cdef double NAN_VALUE = float("nan")


include "_mask.pxi"


def oks_uses_numpy_exp_loop():
    """True when OKS calls NumPy's float64 exp inner loop per pair (checked against
    np.exp at first use), False when it falls back to np.exp on one buffer."""
    return _find_exp_loop() == 1


def _oks_exp_mode(str mode):
    """Testing hook: "auto" (find NumPy's exp loop again), "buffer" (always np.exp on
    one buffer)."""
    global _exp_state
    _exp_state = -1 if mode == "buffer" else 0


include "_rotated.pxi"
include "_boundary.pxi"

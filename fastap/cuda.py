"""``fastap.box_iou`` on CUDA arrays: CuPy arrays, PyTorch CUDA tensors, and anything
exposing ``__cuda_array_interface__`` or a CUDA DLPack device.

The kernel is ``csrc/cuda/box_iou.cu`` (shipped in the wheel as ``fastap/_cuda_src/``),
compiled at first use by CuPy's ``RawModule`` (NVRTC) and cached by CuPy, per device.
Install ``pip install 'fastap[cuda]'`` (CuPy for CUDA 12); no CUDA toolkit is needed to
build or install fastap.

Arithmetic: double, with the same per-pair formula as the C path (``csrc/iou_pair.h``),
so float64 results are bitwise equal to the CPU path's; float32 boxes give float32
results, the float64 result rounded once (bitwise equal to the CPU result cast to
float32). The kernel runs on the current stream: PyTorch's for tensors, CuPy's
otherwise.

Most callers use ``fastap.box_iou``, which comes here when the boxes are CUDA arrays.
``iter_box_iou`` yields the matrix in row blocks for matrices larger than device memory.
``assign`` is ``fastap.assign`` (torchvision's Matcher / SSDMatcher) on CUDA arrays, with
the kernels of the same file: its matches and IoUs equal the CPU path's.
"""
from __future__ import annotations

import os
import re

import numpy as np

from .errors import DeviceError, FastapError, InvalidAnnotationError, InvalidOptionError, InvalidTypeError

__all__ = ["box_iou", "iter_box_iou", "assign", "is_available", "is_cuda_array", "check_family_options",
           "check_assign_options"]

# DLPack device types: kDLCUDA, kDLCUDAManaged are device memory; kDLCPU, kDLCUDAHost
# (pinned) are host memory; kDLROCM is AMD's.
_DL_CUDA = (2, 13)
_DL_ROCM = 10
_FORMATS = ("xyxy", "xywh", "cxcywh")
_FLOAT32_LIKE = ("float16", "bfloat16", "float32")
# NVRTC options: no fused multiply-add (the C path is built with -ffp-contract=off),
# IEEE division, no flush-to-zero: the same rounding as the CPU.
NVRTC_OPTIONS = ("--fmad=false", "--prec-div=true", "--ftz=false")
MAX_GRID_Y = 65535
# the IoU family (kind=): codes of iou_pair.h's FA_IOU_KIND_*
KINDS = {"iou": 0, "giou": 1, "diou": 2, "ciou": 3}
# box layouts of the family kernels
_LAYOUTS = {"xyxy": 0, "cxcywh": 1, "xywh": 2}


# ---- sources ----------------------------------------------------------------------------

def _source_paths():
    """(box_iou.cu, iou_pair.h): the package's copy (wheel) or the source checkout's."""
    here = os.path.dirname(os.path.abspath(__file__))
    shipped = os.path.join(here, "_cuda_src")
    checkout = os.path.join(os.path.dirname(here), "csrc")
    for cu, h in ((os.path.join(shipped, "box_iou.cu"), os.path.join(shipped, "iou_pair.h")),
                  (os.path.join(checkout, "cuda", "box_iou.cu"), os.path.join(checkout, "iou_pair.h"))):
        if os.path.isfile(cu) and os.path.isfile(h):
            return cu, h
    raise FastapError("the CUDA source box_iou.cu is missing from this fastap installation "
                      "(looked in %s and %s); reinstall fastap" % (shipped, checkout))


_SOURCE = None


def kernel_source():
    """The kernel's CUDA source with iou_pair.h inlined (what NVRTC compiles), and its
    tile constants {"FA_CU_BX": 32, ..., "FA_CA_THREADS": 256, ...} read from the source's
    #defines."""
    global _SOURCE
    if _SOURCE is None:
        cu, h = _source_paths()
        with open(cu) as f:
            text = f.read()
        with open(h) as f:
            header = f.read()
        line = '#include "iou_pair.h"'
        if line not in text:
            raise FastapError("%s does not include iou_pair.h" % cu)
        # inlined rather than found with -I: CuPy's cache key is the source text, so an
        # edit of the formula must change the source it hashes
        text = text.replace(line, header)
        consts = {k: int(v) for k, v in re.findall(r"#define (FA_C[UA]_(?:BX|BY|TILE_M|TILE_N|ALIGNED_BLOCK|THREADS|GTS|CHUNK)) (\d+)", text)}
        _SOURCE = (text, consts)
    return _SOURCE


def launch_plan(n, m, consts, max_grid_y=MAX_GRID_Y):
    """Kernel launches covering an n x m matrix: [(r0, r1, grid, block)], rows r0:r1 each,
    grid.y below CUDA's limit of 65535 row tiles. Empty when n or m is 0."""
    tn, tm = consts["FA_CU_TILE_N"], consts["FA_CU_TILE_M"]
    block = (consts["FA_CU_BX"], consts["FA_CU_BY"], 1)
    if n == 0 or m == 0:
        return []
    step = max_grid_y * tn
    return [(r0, min(n, r0 + step), (-(-m // tm), -(-(min(n, r0 + step) - r0) // tn), 1), block)
            for r0 in range(0, n, step)]


def check_family_options(kind, aligned, eps, iscrowd):
    """The checks of box_iou's kind=, aligned=, eps= (CPU and GPU paths). Returns eps as
    a float."""
    if not isinstance(kind, str) or kind not in KINDS:
        raise InvalidOptionError("kind should be one of %s, got %r" % (", ".join(map(repr, KINDS)), kind))
    if not isinstance(aligned, (bool, np.bool_)):
        raise InvalidTypeError("aligned should be True or False, got %r" % (aligned,))
    try:
        e = float(eps)
    except (TypeError, ValueError):
        raise InvalidTypeError("eps should be a number, got %r" % (eps,))
    if not (e >= 0 and np.isfinite(e)):
        raise InvalidOptionError("eps should be a finite number >= 0, got %r" % (eps,))
    if iscrowd is not None and kind != "iou":
        raise InvalidOptionError("iscrowd (pycocotools' crowd rule) is for kind='iou', got kind=%r" % (kind,))
    return e


# ---- what kind of array -----------------------------------------------------------------

def _kind(x):
    """'torch', 'cupy', 'cai' or 'dlpack' for an array in CUDA device memory, None for
    anything else (host arrays, lists, None)."""
    mod = type(x).__module__.split(".")[0]
    if mod == "cupy" and hasattr(x, "device"):
        return "cupy"
    if x is None or isinstance(x, (np.ndarray, list, tuple, int, float)):
        return None
    if mod == "torch" and hasattr(x, "is_cuda"):
        return "torch" if x.is_cuda else None
    try:
        if hasattr(x, "__cuda_array_interface__"):
            return "cai"
    except Exception:           # a property that raises for some states of the object
        return "cai"
    dev = getattr(x, "__dlpack_device__", None)
    if dev is not None:
        try:
            typ = int(dev()[0])
        except Exception:
            return None
        if typ in _DL_CUDA:
            return "dlpack"
        if typ == _DL_ROCM:
            raise DeviceError("box_iou got a ROCm array: only CUDA devices are supported; move "
                              "the boxes to the host (or a CUDA device)")
    return None


def is_cuda_array(x):
    """True when ``x`` is an array in CUDA device memory (CuPy, a PyTorch CUDA tensor,
    ``__cuda_array_interface__`` or a CUDA DLPack device). Imports nothing."""
    return _kind(x) is not None


def _describe(x, kind):
    dev = _device_hint(x, kind)
    where = "" if dev is None else " on CUDA device %d" % dev
    return "%s.%s%s" % (type(x).__module__.split(".")[0], type(x).__name__, where)


def _device_hint(x, kind):
    """The device id where it is known without CuPy, else None."""
    if kind == "torch":
        return x.device.index
    if kind == "cupy":
        return x.device.id
    if kind == "dlpack":
        return int(x.__dlpack_device__()[1])
    return None


def _meta(x, kind):
    """(shape, dtype name) where known without CuPy, else None (DLPack-only objects)."""
    if kind == "torch":
        return tuple(x.shape), str(x.dtype).replace("torch.", "")
    if kind == "cupy":
        return tuple(x.shape), x.dtype.name
    if kind == "cai":
        cai = x.__cuda_array_interface__
        return tuple(cai["shape"]), np.dtype(cai["typestr"]).name
    return None


def _check_meta(name, shape, dtype):
    if not (dtype.startswith(("float", "int", "uint")) or dtype == "bfloat16"):
        raise InvalidTypeError("%s should hold real numbers, got dtype %s" % (name, dtype))
    if len(shape) == 1 and shape[0] == 0:
        return
    if len(shape) != 2 or shape[1] != 4:
        raise InvalidAnnotationError("%s should have shape (n, 4), got %s" % (name, shape))


def _cupy():
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def is_available():
    """True when CuPy imports and sees at least one CUDA device."""
    cp = _cupy()
    if cp is None:
        return False
    try:
        return cp.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


# ---- the GPU path -----------------------------------------------------------------------

_MODULES = {}


def _kernel(cp, name):
    """The compiled kernel `name` for the current device (NVRTC at first use, then CuPy's
    caches: in memory per device here, on disk in CuPy's kernel cache)."""
    dev = cp.cuda.Device().id
    mod = _MODULES.get(dev)
    if mod is None:
        mod = cp.RawModule(code=kernel_source()[0], options=NVRTC_OPTIONS)
        _MODULES[dev] = mod
    return mod.get_function(name)


def _prepare(a, b, fmt, iscrowd, out):
    """Checks that need no device: kinds, devices, shapes, dtypes, fmt. Returns
    (kinds, device id or None, result dtype name)."""
    if fmt not in _FORMATS:
        raise InvalidOptionError("fmt should be 'xyxy', 'xywh' or 'cxcywh', got %r" % (fmt,))
    ka, kb = _kind(a), _kind(b)
    if (ka is None) != (kb is None):
        gpu, host = ("a", "b") if ka is not None else ("b", "a")
        raise DeviceError("box_iou got %s as %s but %s is a host array (%s): put both on the "
                          "same device (cupy.asarray(%s) / %s.cuda()) or both on the host "
                          "(cupy.asnumpy / .cpu())"
                          % (gpu, _describe(a if gpu == "a" else b, ka or kb), host,
                             type(a if host == "a" else b).__name__, host, host))
    devs = {nm: _device_hint(x, k) for nm, x, k in (("a", a, ka), ("b", b, kb))}
    ko = _kind(out)
    if ko is not None:
        devs["out"] = _device_hint(out, ko)
    kc = _kind(iscrowd)
    if kc is not None:
        devs["iscrowd"] = _device_hint(iscrowd, kc)
    known = {nm: d for nm, d in devs.items() if d is not None}
    if len(set(known.values())) > 1:
        raise DeviceError("box_iou's arrays are on different CUDA devices (%s): move them to one "
                          "device (e.g. b.to(a.device), or cupy.asarray under "
                          "`with cupy.cuda.Device(i)`)"
                          % ", ".join("%s: %d" % kv for kv in known.items()))
    dtypes = []
    for nm, x, k in (("a", a, ka), ("b", b, kb)):
        meta = _meta(x, k)
        if meta is not None:
            _check_meta(nm, *meta)
            dtypes.append(meta[1])
    dtype = None
    if len(dtypes) == 2:
        dtype = "float32" if all(d in _FLOAT32_LIKE for d in dtypes) else "float64"
    return (ka, kb, ko, kc), (next(iter(known.values())) if known else None), dtype


def _import_cupy(a, ka):
    cp = _cupy()
    if cp is None:
        raise ImportError("box_iou got CUDA arrays (a: %s) and its GPU path needs CuPy: "
                          "pip install 'fastap[cuda]' (CuPy for CUDA 12; for CUDA 11: "
                          "pip install cupy-cuda11x), or move the boxes to the host "
                          "(.cpu() / cupy.asnumpy)" % _describe(a, ka))
    return cp


def _wrap(cp, name, x, kind, dtype=None, boxes=True):
    """x as a C-contiguous CuPy array (zero-copy where the dtype and layout allow); torch
    conversions run in torch, on its current stream."""
    if kind == "torch":
        import torch
        t = x.detach()
        if dtype is not None:
            want = getattr(torch, dtype)
            if t.dtype != want:
                t = t.to(want)
        return cp.asarray(t.contiguous())
    if kind == "dlpack":
        arr = cp.from_dlpack(x)
    else:
        arr = cp.asarray(x)
    if boxes and (kind == "dlpack" or dtype is None):
        _check_meta(name, tuple(arr.shape), arr.dtype.name)
    if dtype is not None and arr.dtype.name != dtype:
        arr = arr.astype(dtype)
    return cp.ascontiguousarray(arr)


def _stream_of(cp, a, ka):
    """PyTorch's current stream for tensors (so the result is ordered with the caller's
    work), CuPy's current stream otherwise."""
    if ka == "torch":
        import torch
        s = torch.cuda.current_stream(a.device)
        from_external = getattr(cp.cuda.Stream, "from_external", None)
        if from_external is not None and hasattr(s, "__cuda_stream__"):
            return from_external(s)
        return cp.cuda.ExternalStream(s.cuda_stream, a.device.index)
    return cp.cuda.get_current_stream()


def _check_device_boxes(cp, named, fmt, negative_msg):
    """The CPU path's checks on the device for [(name, array)]: finite coordinates, no
    negative width or height; one scalar read back when all is well. The first bad box
    of the first array that has one is named: "<name> box <i> is not finite: [...]", or
    ``negative_msg`` % {name, fmt, i, box}."""
    flags = []
    for name, x in named:
        if x.shape[0]:
            nonfinite = ~cp.isfinite(x).all(axis=1)
            if fmt == "xyxy":
                negative = (x[:, 2] < x[:, 0]) | (x[:, 3] < x[:, 1])
            else:
                negative = (x[:, 2] < 0) | (x[:, 3] < 0)
            flags.append((name, x, nonfinite, nonfinite | negative))
    if not flags or not bool(sum(bad.any() for _, _, _, bad in flags)):
        return
    for name, x, nonfinite, bad in flags:
        if bool(bad.any()):
            i = int(cp.flatnonzero(bad)[0])
            box = cp.asnumpy(x[i]).tolist()
            if bool(nonfinite[i]):
                raise InvalidAnnotationError("%s box %d is not finite: %r" % (name, i, box))
            raise InvalidAnnotationError(negative_msg % {"name": name, "fmt": fmt, "i": i, "box": box})


def _validate_boxes(cp, boxes, fmt):
    """_check_device_boxes for box_iou's {"a": A, "b": B}."""
    _check_device_boxes(cp, boxes.items(), fmt,
                        "boxes with negative width or height (fmt=%(fmt)r): %(name)s box %(i)d is %(box)r")


class _Job:
    """Validated device inputs of one box_iou call, ready to launch."""

    def __init__(self, a, b, fmt, iscrowd, out, kind="iou", aligned=False, eps=1e-7):
        self.eps = check_family_options(kind, aligned, eps, iscrowd)
        self.kind, self.aligned = kind, bool(aligned)
        (ka, kb, ko, kc), dev, dtype = _prepare(a, b, fmt, iscrowd, out)
        if ka is None:
            raise InvalidTypeError("fastap.cuda.box_iou takes CUDA arrays, got %s: use fastap.box_iou "
                                   "for host arrays" % type(a).__name__)
        cp = _import_cupy(a, ka)
        self.cp, self.kinds, self.fmt = cp, (ka, kb, ko, kc), fmt
        self.result_kind = ka
        if dev is None:
            dev = cp.asarray(a).device.id if ka in ("cai",) else cp.cuda.Device().id
        self.device = dev
        with cp.cuda.Device(dev):
            self.stream = self._stream(a, ka)
            with self.stream:
                A = _wrap(cp, "a", a, ka, dtype)
                B = _wrap(cp, "b", b, kb, dtype)
                for nm, arr in (("a", A), ("b", B)):
                    if arr.device.id != dev:
                        raise DeviceError("box_iou: %s is on CUDA device %d, the other arrays on %d"
                                          % (nm, arr.device.id, dev))
                if dtype is None:          # DLPack-only inputs: dtypes known only now
                    f32 = A.dtype.name in _FLOAT32_LIKE and B.dtype.name in _FLOAT32_LIKE
                    dtype = "float32" if f32 else "float64"
                    A, B = A.astype(dtype, copy=False), B.astype(dtype, copy=False)
                if A.ndim == 1:
                    A = A.reshape(0, 4)
                if B.ndim == 1:
                    B = B.reshape(0, 4)
                if self.aligned and A.shape[0] != B.shape[0]:
                    raise InvalidAnnotationError("aligned=True pairs a[i] with b[i]: a and b should have "
                                                 "the same number of boxes, got %d and %d"
                                                 % (A.shape[0], B.shape[0]))
                _validate_boxes(cp, {"a": A, "b": B}, fmt)
                self.crowd = None
                if iscrowd is not None:
                    if kc is not None:
                        c = _wrap(cp, "iscrowd", iscrowd, kc, boxes=False)
                    else:                  # host flags: small, copied
                        c = cp.asarray(np.asarray(iscrowd))
                    c = c.reshape(-1)
                    if c.shape[0] != B.shape[0]:
                        raise InvalidAnnotationError("iscrowd should have one flag per box of b (%d), got %d"
                                                     % (B.shape[0], c.shape[0]))
                    self.crowd = cp.ascontiguousarray(c != 0, dtype=cp.uint8)
        self.a, self.b, self.dtype = A, B, dtype
        self.n, self.m = A.shape[0], B.shape[0]

    def _stream(self, a, ka):
        return _stream_of(self.cp, a, ka)

    @property
    def shape(self):
        """The result's shape: (n, m), or (n,) for aligned pairs."""
        return (self.n,) if self.aligned else (self.n, self.m)

    def empty(self, rows):
        """A new (rows, m) result array of the caller's kind ((rows,) for aligned pairs),
        and its CuPy view."""
        cp = self.cp
        shape = (rows,) if self.aligned else (rows, self.m)
        with cp.cuda.Device(self.device), self.stream:
            if self.result_kind == "torch":
                import torch
                t = torch.empty(shape, dtype=getattr(torch, self.dtype), device="cuda:%d" % self.device)
                return t, cp.asarray(t)
            arr = cp.empty(shape, dtype=self.dtype)
            return arr, arr

    def launch(self, out, r0=0, r1=None):
        """IoU of rows r0:r1 of a against b into the CuPy array `out` ((r1 - r0, m), rows
        contiguous, any row stride), on the job's stream and device."""
        cp = self.cp
        r1 = self.n if r1 is None else r1
        with cp.cuda.Device(self.device), self.stream:
            crowd = self.crowd if self.crowd is not None else cp.zeros(1, dtype=cp.uint8)
            if self.aligned:
                fn = _kernel(cp, family_kernel_name(True, self.dtype))
                launch_aligned(fn, self.a, self.b, crowd, self.crowd is not None, self.fmt, self.kind,
                               self.eps, out)
            elif self.kind != "iou":
                fn = _kernel(cp, family_kernel_name(False, self.dtype))
                launch_family_rows(fn, self.a[r0:r1], self.b, self.fmt, self.kind, self.eps, out)
            else:
                fn = _kernel(cp, kernel_name(self.fmt, self.dtype))
                launch_rows(fn, self.a[r0:r1], self.b, crowd, self.crowd is not None, self.fmt, out)


def kernel_name(fmt, dtype):
    """The extern "C" kernel of box_iou.cu for a format and a dtype name."""
    return "fa_box_iou_%s_%s" % ("xywh" if fmt == "xywh" else "xyxy",
                                 "f32" if dtype == "float32" else "f64")


def family_kernel_name(aligned, dtype):
    """The extern "C" kernel of box_iou.cu for the IoU family (pairwise or aligned)."""
    return "fa_box_iou_%s_%s" % ("aligned" if aligned else "family", "f32" if dtype == "float32" else "f64")


def launch_family_rows(fn, a, b, fmt, kind, eps, out, max_grid_y=MAX_GRID_Y):
    """launch_rows for the family kernel (kind "iou" .. "ciou", any fmt)."""
    consts = kernel_source()[1]
    n, m = a.shape[0], b.shape[0]
    ld = out.strides[0] // out.dtype.itemsize if n > 1 else m
    for q0, q1, grid, block in launch_plan(n, m, consts, max_grid_y):
        fn(grid, block, (a[q0:q1], np.int64(q1 - q0), b, np.int64(m), np.int32(_LAYOUTS[fmt]),
                         np.int32(KINDS[kind]), np.float64(eps), out[q0:q1], np.int64(ld)))


def launch_aligned(fn, a, b, crowd, has_crowd, fmt, kind, eps, out):
    """Launches the elementwise kernel over the n pairs (a[i], b[i]) into `out` (n,),
    contiguous. Like launch_rows, it needs only slicing and .shape of the arrays."""
    per = kernel_source()[1]["FA_CU_ALIGNED_BLOCK"]
    n = a.shape[0]
    if n == 0:
        return
    fn((-(-n // per), 1, 1), (per, 1, 1), (a, b, np.int64(n), crowd, np.int32(bool(has_crowd)),
                                           np.int32(_LAYOUTS[fmt]), np.int32(KINDS[kind]),
                                           np.float64(eps), out))


def launch_rows(fn, a, b, crowd, has_crowd, fmt, out, max_grid_y=MAX_GRID_Y):
    """Launches fn(grid, block, args) over the rows of `a` into `out` (a.shape[0], m),
    rows contiguous with any row stride. The arrays only need slicing, .shape, .strides
    and .dtype: the CPU emulation test drives this with NumPy arrays."""
    consts = kernel_source()[1]
    n, m = a.shape[0], b.shape[0]
    ld = out.strides[0] // out.dtype.itemsize if n > 1 else m
    for q0, q1, grid, block in launch_plan(n, m, consts, max_grid_y):
        fn(grid, block, (a[q0:q1], np.int64(q1 - q0), b, np.int64(m), crowd,
                         np.int32(bool(has_crowd)), np.int32(fmt == "cxcywh"), np.float64(0.0),
                         out[q0:q1], np.int64(ld)))


def _check_device_out(job, out, ko):
    cp = job.cp
    if ko == "torch":
        view = cp.asarray(out.detach())        # a view, strided or not: written in place
    elif ko == "dlpack":
        view = cp.from_dlpack(out)
    else:
        view = cp.asarray(out)
    want = job.shape
    if tuple(view.shape) != want or view.dtype.name != job.dtype:
        raise InvalidAnnotationError("out should be a %s array of shape %s, got %s %s"
                                     % (job.dtype, want, view.dtype.name, tuple(view.shape)))
    isz = view.dtype.itemsize
    if job.aligned:
        if job.n > 1 and view.strides[0] != isz:
            raise InvalidAnnotationError("out should be contiguous (strides (%d,)), got strides %s"
                                         % (isz, view.strides))
        if view.device.id != job.device:
            raise DeviceError("out is on CUDA device %d, the boxes on %d" % (view.device.id, job.device))
        return view
    if job.n and job.m and (view.strides[1] != isz or (job.n > 1 and (view.strides[0] % isz
                                                                     or view.strides[0] // isz < job.m))):
        raise InvalidAnnotationError("out should have contiguous rows (strides (ld * %d, %d) with "
                                     "ld >= %d), got strides %s" % (isz, isz, job.m, view.strides))
    if view.device.id != job.device:
        raise DeviceError("out is on CUDA device %d, the boxes on %d" % (view.device.id, job.device))
    return view


def box_iou(a, b, fmt="xyxy", iscrowd=None, out=None, block_rows=None, *, kind="iou", aligned=False,
            eps=1e-7):
    """IoU (or GIoU, DIoU, CIoU) of every box of ``a`` with every box of ``b``, or of the
    pairs (a[i], b[i]) with ``aligned=True``, on the GPU.

    Parameters
    ----------
    a, b : CUDA arrays, shapes (n, 4) and (m, 4), on the same device
        CuPy arrays, PyTorch CUDA tensors, ``__cuda_array_interface__`` or DLPack.
        float16/bfloat16/float32 boxes (both) give float32 results; anything else float64.
    fmt : {"xyxy", "xywh", "cxcywh"}
        The box layout ("xywh": pycocotools' arithmetic).
    iscrowd : array of shape (m,), optional
        Crowd flags of ``b``, on the same device or on the host (copied).
    out : CUDA or NumPy array of shape (n, m), optional
        A CUDA array of the result dtype with contiguous rows (any row stride) is
        written in place and returned. A C-contiguous NumPy array selects the blocked
        mode: the matrix is computed ``block_rows`` rows at a time on the device and
        copied into ``out`` (e.g. a ``np.memmap``), so it may be larger than device
        memory.
    block_rows : int, optional
        Rows per block in the blocked mode (default: blocks of about 256 MiB).
    kind, aligned, eps : keyword only
        As ``fastap.box_iou``: the IoU family ("iou", "giou", "diou", "ciou"; iscrowd
        with "iou" only), the elementwise pairs (a and b both (n, 4), result (n,); no
        blocked mode), DIoU's and CIoU's eps. The family kernels convert the boxes of
        any fmt to corners on load as the CPU path does, and run its per-pair formula
        (iou_pair.h): float64 results equal the CPU path's bit for bit up to the device's
        ``atan`` (CIoU, within 1e-15), float32 the float64 result rounded once.

    Returns
    -------
    CUDA array (n, m) ((n,) with ``aligned=True``)
        The caller's kind (torch in, torch out; CuPy and other CUDA arrays give CuPy),
        on the device of the boxes, computed on the current stream (PyTorch's for
        tensors, CuPy's otherwise). float64 results are bitwise the CPU path's; float32
        results are the CPU path's float64 result rounded once.
    """
    job = _Job(a, b, fmt, iscrowd, out, kind, aligned, eps)
    ka, kb, ko, kc = job.kinds
    if out is None:
        res, view = job.empty(job.n)
        if job.n and job.m:
            job.launch(view)
        return res
    if ko is not None:
        with job.cp.cuda.Device(job.device), job.stream:
            view = _check_device_out(job, out, ko)
        if job.n and job.m:
            job.launch(view)
        return out
    if not isinstance(out, np.ndarray):
        raise InvalidTypeError("out should be a CUDA array or a NumPy array, got %s" % type(out).__name__)
    if job.aligned:
        raise InvalidTypeError("aligned=True gives a vector (n,): pass a CUDA out, or none (the blocked "
                               "mode with a NumPy out is for (n, m) matrices)")
    if out.shape != (job.n, job.m) or out.dtype.name != job.dtype or not out.flags.c_contiguous \
            or not out.flags.writeable:
        raise InvalidAnnotationError("out (host, blocked mode) should be a writeable C-contiguous %s "
                                     "array of shape %s, got %s %s%s"
                                     % (job.dtype, (job.n, job.m), out.dtype, out.shape,
                                        "" if out.flags.c_contiguous else " (not C-contiguous)"))
    for r0, block in _iter_job(job, block_rows):
        with job.cp.cuda.Device(job.device), job.stream:
            view = block if isinstance(block, job.cp.ndarray) else job.cp.asarray(block)
            view.get(out=out[r0:r0 + view.shape[0]], stream=job.stream)
    return out


def _block_rows(job, block_rows):
    if block_rows is not None:
        if int(block_rows) < 1:
            raise InvalidAnnotationError("block_rows should be >= 1, got %r" % (block_rows,))
        return int(block_rows)
    row_bytes = max(1, job.m) * np.dtype(job.dtype).itemsize
    return max(1, (256 << 20) // row_bytes)


def _iter_job(job, block_rows):
    step = _block_rows(job, block_rows)
    for r0 in range(0, job.n, step):
        r1 = min(job.n, r0 + step)
        res, view = job.empty(r1 - r0)
        if job.m:
            job.launch(view, r0, r1)
        yield r0, res


def iter_box_iou(a, b, fmt="xyxy", iscrowd=None, block_rows=None, *, kind="iou", eps=1e-7):
    """The IoU matrix of ``box_iou(a, b)`` in row blocks: yields ``(r0, block)`` with
    ``block`` = rows ``r0 : r0 + len(block)``, a new device array of the caller's kind.
    Reduce each block on the device (``block.max(1)``, thresholds) to work with
    matrices larger than device memory. block_rows: default blocks of about 256 MiB.
    kind, eps: the IoU family, as ``box_iou``."""
    job = _Job(a, b, fmt, iscrowd, None, kind, False, eps)
    return _iter_job(job, block_rows)


# ---- assignment (fastap.assign on CUDA arrays) -------------------------------------------

# fa_assign_final's modes
ASSIGN_MODES = {"matcher": 0, "low_quality": 1, "ssd": 2}


def check_assign_options(high, low, allow_low_quality_matches, rule):
    """The checks of fastap.assign's options (CPU and GPU paths). Returns (high, low,
    mode), mode a key of ASSIGN_MODES."""
    if rule not in ("matcher", "ssd"):
        raise InvalidOptionError("rule should be 'matcher' or 'ssd', got %r" % (rule,))
    try:
        high_f = float(high)
        low_f = high_f if low is None else float(low)
    except (TypeError, ValueError):
        raise InvalidTypeError("high and low should be numbers, got %r and %r" % (high, low))
    if not (np.isfinite(high_f) and np.isfinite(low_f) and low_f <= high_f):
        raise InvalidOptionError("low should be <= high (both finite), got low=%r, high=%r" % (low_f, high_f))
    if rule == "ssd":
        if low_f != high_f or allow_low_quality_matches:
            raise InvalidOptionError("rule='ssd' is SSDMatcher(high): one threshold, no "
                                     "allow_low_quality_matches")
        return high_f, low_f, "ssd"
    return high_f, low_f, "low_quality" if allow_low_quality_matches else "matcher"


def _assign_inputs(anchors, gt):
    """[(name, array, kind)] of the anchors and of the gt, and whether the anchors are
    shared by the images (one array) and whether gt is a batch (a list)."""
    batch = isinstance(gt, (list, tuple))
    shared = not isinstance(anchors, (list, tuple))
    if not batch and not shared:
        raise InvalidAnnotationError("anchors is a list (one array per image): gt should be a list of "
                                     "the same length too")
    if batch and not shared and len(anchors) != len(gt):
        raise InvalidAnnotationError("anchors and gt should be lists of the same length (one per image), "
                                     "got %d and %d" % (len(anchors), len(gt)))
    a = [("anchors", anchors)] if shared else [("anchors[%d]" % i, x) for i, x in enumerate(anchors)]
    g = [("gt[%d]" % i, x) for i, x in enumerate(gt)] if batch else [("gt", gt)]
    a = [(nm, x, _kind(x)) for nm, x in a]
    g = [(nm, x, _kind(x)) for nm, x in g]
    host = [(nm, x) for nm, x, k in a + g if k is None]
    if host:
        nm, x = host[0]
        raise DeviceError("assign got CUDA arrays, but %s is a host array (%s): put all the boxes on "
                          "one device (cupy.asarray / .cuda()) or all on the host (cupy.asnumpy / .cpu())"
                          % (nm, type(x).__name__))
    devs = {nm: _device_hint(x, k) for nm, x, k in a + g}
    known = {nm: d for nm, d in devs.items() if d is not None}
    if len(set(known.values())) > 1:
        raise DeviceError("assign's boxes are on different CUDA devices (%s): move them to one device"
                          % ", ".join("%s: %d" % kv for kv in known.items()))
    return a, g, shared, batch, next(iter(known.values())) if known else None


def _wrap_boxes(cp, items):
    """The arrays of items as C-contiguous (n, 4) CuPy arrays of one dtype: float32 when all
    are float32 or narrower floats, else float64 (box_iou's rule)."""
    names = []
    for nm, x, k in items:
        meta = _meta(x, k)
        if meta is None:                    # DLPack only: the dtype is known once wrapped
            arr = _wrap(cp, nm, x, k)
            meta = (tuple(arr.shape), arr.dtype.name)
        _check_meta(nm, *meta)
        names.append(meta[1])
    dtype = "float32" if all(d in _FLOAT32_LIKE for d in names) else "float64"
    out = []
    for nm, x, k in items:
        arr = _wrap(cp, nm, x, k, dtype)
        out.append(arr.reshape(0, 4) if arr.ndim == 1 else arr)
    return out, dtype


def _check_assign_boxes(cp, groups, fmt):
    """_check_device_boxes for assign's [(names, arrays)]."""
    _check_device_boxes(cp, [(nm, x) for names, arrs in groups for nm, x in zip(names, arrs)], fmt,
                        "%(name)s: boxes with negative width or height (fmt=%(fmt)r): box %(i)d is %(box)r")


def assign_plan(n_images, n_max, g_max, consts, max_grid=None):
    """The launches of one assignment: (image ranges [(b0, b1)], chunk ranges [(c0, c1)],
    number of anchor chunks of fa_assign_cols), each range within CUDA's grid limit of
    65535 (grid.y / grid.z)."""
    max_grid = MAX_GRID_Y if max_grid is None else max_grid
    nchunks = -(-n_max // consts["FA_CA_CHUNK"])
    images = [(b0, min(n_images, b0 + max_grid)) for b0 in range(0, n_images, max_grid)]
    chunks = [(c0, min(nchunks, c0 + max_grid)) for c0 in range(0, nchunks, max_grid)]
    return images, chunks, nchunks


def launch_assign(cp, dtype, fmt, boxes, counts, mode, high, low, out, max_grid=None):
    """Runs the assignment kernels of box_iou.cu. boxes: (anchors, a_off or None for shared
    anchors, n_shared or -1, gt, g_off) on the device, as `fmt`; counts: (anchors per image, gt per
    image) on the host; out: (matches int64, iou) flat device arrays, written."""
    A, a_off, n_shared, G, g_off = boxes
    n_counts, g_counts = counts
    consts = kernel_source()[1]
    suffix = "f32" if dtype == "float32" else "f64"
    n_rows, n_gt = out[0].shape[0], G.shape[0]
    n_max = max(n_counts) if len(n_counts) else 0
    g_max = max(g_counts) if len(g_counts) else 0
    images, chunks, nchunks = assign_plan(len(g_counts), n_max, g_max, consts, max_grid)
    if n_rows == 0:
        return
    best, best_gt = cp.empty(n_rows, dtype=cp.float64), cp.empty(n_rows, dtype=cp.int64)
    a_off = cp.zeros(1, dtype=cp.int64) if a_off is None else a_off
    common = (A, a_off, np.int64(n_shared), G, g_off, np.int32(_LAYOUTS[fmt]))
    th, gts = consts["FA_CA_THREADS"], consts["FA_CA_GTS"]
    rows = -(-n_max // th)
    for b0, b1 in images:
        _kernel(cp, "fa_assign_rows_" + suffix)((rows, b1 - b0, 1), (th, 1, 1),
                                                common + (np.int64(b0), best, best_gt))
    gt_max, gt_arg = cp.zeros(1, dtype=cp.float64), cp.zeros(1, dtype=cp.int64)
    if ASSIGN_MODES[mode] and n_gt:
        part_val = cp.empty((nchunks, n_gt), dtype=cp.float64)
        part_arg = cp.empty((nchunks, n_gt), dtype=cp.int64)
        for b0, b1 in images:
            for c0, c1 in chunks:
                _kernel(cp, "fa_assign_cols_" + suffix)(
                    (-(-g_max // gts), c1 - c0, b1 - b0), (gts, 1, 1),
                    common + (np.int64(b0), np.int64(c0), np.int64(n_gt), part_val, part_arg))
        gt_max, gt_arg = cp.empty(n_gt, dtype=cp.float64), cp.empty(n_gt, dtype=cp.int64)
        _kernel(cp, "fa_assign_reduce")((-(-n_gt // th), 1, 1), (th, 1, 1),
                                        (part_val, part_arg, np.int64(nchunks), np.int64(n_gt), gt_max, gt_arg))
    for b0, b1 in images:
        _kernel(cp, "fa_assign_final_" + suffix)(
            (rows, b1 - b0, 1), (th, 1, 1),
            common + (np.int64(b0), best, best_gt, gt_max, gt_arg, np.int32(ASSIGN_MODES[mode]),
                      np.float64(high), np.float64(low), out[0], out[1]))


def _offsets(cp, counts):
    return cp.asarray(np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]).astype(np.int64))


def _assign_outputs(cp, torch_out, device, n_rows, dtype):
    """(matches int64, iou) flat result arrays of the caller's kind, and their CuPy views."""
    if torch_out:
        import torch
        dev = "cuda:%d" % device
        m = torch.empty(n_rows, dtype=torch.int64, device=dev)
        v = torch.empty(n_rows, dtype=getattr(torch, dtype), device=dev)
        return (m, v), (cp.asarray(m), cp.asarray(v))
    m, v = cp.empty(n_rows, dtype=cp.int64), cp.empty(n_rows, dtype=dtype)
    return (m, v), (m, v)


def assign(anchors, gt, high=0.5, low=None, allow_low_quality_matches=False, rule="matcher", fmt="xyxy"):
    """``fastap.assign`` on CUDA arrays: torchvision's ``Matcher`` / ``SSDMatcher`` on the
    GPU, without the IoU matrix.

    Parameters
    ----------
    anchors : CUDA array (n, 4), or a list of them (one per image)
    gt : CUDA array (g, 4), or a list of them (one per image, ragged g)
        CuPy arrays, PyTorch CUDA tensors, ``__cuda_array_interface__`` or DLPack, all on
        one device. high, low, allow_low_quality_matches, rule, fmt: as ``fastap.assign``.

    Returns
    -------
    (matches, iou) as ``fastap.assign`` (one image: (n,); a list of gt with shared anchors:
    (B, n); per-image anchors: lists), CUDA arrays of the caller's kind (torch if any input
    is a tensor, else CuPy) on the boxes' device, computed on the current stream (PyTorch's
    for tensors). matches: int64, equal to the CPU path's. iou: float64, equal to the CPU
    path's bit for bit; float32 when every box array is float32 (or narrower), the CPU's
    float64 value rounded once. The IoU, the thresholds and the ties are the CPU's: the same
    per-pair formula (iou_pair.h, in double), every maximum a fixed-order scan (no atomics):
    an anchor's best ground truth is the lowest index among equal IoUs, a ground truth's
    best anchor the lowest anchor index, an anchor forced by several ground truths (SSD)
    goes to the highest ground-truth index.
    """
    high, low, mode = check_assign_options(high, low, allow_low_quality_matches, rule)
    if fmt not in _FORMATS:
        raise InvalidOptionError("fmt should be 'xyxy', 'xywh' or 'cxcywh', got %r" % (fmt,))
    a_items, g_items, shared, batch, dev = _assign_inputs(anchors, gt)
    first = (a_items + g_items)[0]
    cp = _import_cupy(first[1], first[2])
    torch_out = any(k == "torch" for _, _, k in a_items + g_items)
    device = cp.cuda.Device(dev if dev is not None else cp.cuda.Device().id)
    with device:
        x0, k0 = next(((x, k) for _, x, k in a_items + g_items if k == "torch"), first[1:])
        with _stream_of(cp, x0, k0):
            arrs, dtype = _wrap_boxes(cp, a_items + g_items)
            a_arrs, g_arrs = arrs[:len(a_items)], arrs[len(a_items):]
            for (nm, _, _), x in zip(a_items + g_items, arrs):
                if x.device.id != device.id:
                    raise DeviceError("assign: %s is on CUDA device %d, the other boxes on %d"
                                      % (nm, x.device.id, device.id))
            _check_assign_boxes(cp, [([nm for nm, _, _ in a_items], a_arrs), ([nm for nm, _, _ in g_items], g_arrs)],
                                fmt)
            g_counts = [x.shape[0] for x in g_arrs]
            n_counts = [a_arrs[0].shape[0]] * len(g_arrs) if shared else [x.shape[0] for x in a_arrs]
            A = a_arrs[0] if shared else _concat(cp, a_arrs, dtype)
            G = _concat(cp, g_arrs, dtype)
            boxes = (A, None if shared else _offsets(cp, n_counts), A.shape[0] if shared else -1, G,
                     _offsets(cp, g_counts))
            n_rows = int(sum(n_counts))
            res, views = _assign_outputs(cp, torch_out, device.id, n_rows, dtype)
            launch_assign(cp, dtype, fmt, boxes, (n_counts, g_counts), mode, high, low, views)
    if not batch:
        return res
    if shared:
        return tuple(x.reshape(len(g_counts), A.shape[0]) for x in res)
    ends = np.cumsum(n_counts, dtype=np.int64)
    return tuple([x[e - c:e] for c, e in zip(n_counts, ends)] for x in res)


def _concat(cp, arrs, dtype):
    if len(arrs) == 1:
        return arrs[0]
    if not arrs:
        return cp.zeros((0, 4), dtype=dtype)
    return cp.ascontiguousarray(cp.concatenate(arrs, axis=0))

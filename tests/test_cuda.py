"""fastap.cuda: the CUDA IoU kernel (csrc/cuda/box_iou.cu) and box_iou's GPU dispatch.

Three layers, so that every machine checks the kernel although CI has no GPU:
- compile checks: nvcc -ptx for sm_70/80/90 (each arch this nvcc supports; an arch it no
  longer supports is asserted to be refused), and NVRTC (what CuPy's RawModule runs) for
  compute_70/80/90 where CuPy is installed; NVRTC needs no device.
- the kernel itself on the CPU: box_iou.cu compiled as C++ over tests/cuda_emu/cuda_emu.h
  (one host thread per CUDA thread of a block, __syncthreads a barrier), launched with
  fastap.cuda's own launch code, equal bit for bit to the C path.
- dispatch and errors with stand-in CUDA arrays; and, where a CUDA device and CuPy exist,
  the GPU against the CPU path for CuPy and torch inputs.
"""
import ctypes
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import fastap
from fastap import cuda
from fastap.errors import DeviceError, InvalidAnnotationError, InvalidTypeError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CU = os.path.join(ROOT, "csrc", "cuda", "box_iou.cu")
IOU_KERNELS = ["fa_box_iou_xyxy_f32", "fa_box_iou_xyxy_f64", "fa_box_iou_xywh_f32", "fa_box_iou_xywh_f64"]
FAMILY_KERNELS = ["fa_box_iou_family_f32", "fa_box_iou_family_f64", "fa_box_iou_aligned_f32",
                  "fa_box_iou_aligned_f64"]
ASSIGN_KERNELS = ["fa_assign_rows_f32", "fa_assign_rows_f64", "fa_assign_cols_f32", "fa_assign_cols_f64",
                  "fa_assign_final_f32", "fa_assign_final_f64", "fa_assign_reduce"]
KERNELS = IOU_KERNELS + FAMILY_KERNELS + ASSIGN_KERNELS
ARCHS = [70, 80, 90]


# ---- test data ------------------------------------------------------------------------

def edge_boxes_xywh(rng, n):
    """xywh boxes with the cases that break IoU code: touching, identical, nested, zero
    width or height, exact halves, far apart; random otherwise."""
    fixed = np.array([[0, 0, 10, 10], [10, 0, 10, 10], [0, 10, 10, 10], [0, 0, 10, 10],
                      [0, 0, 20, 10], [2, 2, 0, 5], [3, 3, 4, 0], [0, 0, 10, 7.5],
                      [5, 5, 1e-9, 1e-9], [1e6, 1e6, 3, 3], [0.1, 0.2, 0.3, 0.7]], float)
    xy = rng.uniform(-50, 50, size=(n, 2))
    wh = rng.uniform(0, 40, size=(n, 2))
    b = np.round(np.concatenate([xy, wh], axis=1), int(rng.integers(0, 3)))
    b[rng.random(n) < 0.1, 2] = 0.0
    k = min(n, len(fixed))
    b[:k] = fixed[:k]
    return b[rng.permutation(n)]


def as_fmt(xywh, fmt):
    if fmt == "xywh":
        return xywh
    if fmt == "xyxy":
        return np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
    return np.concatenate([xywh[:, :2] + xywh[:, 2:] / 2, xywh[:, 2:]], axis=1)


def cpu_reference(a, b, fmt, crowd, dtype):
    """The CPU path's result in the GPU path's output dtype: float64 as is, float32 the
    float64 result of the float32 boxes rounded once (fastap.cuda's contract)."""
    return fastap.box_iou(a, b, fmt=fmt, iscrowd=crowd).astype(dtype)


def bits_equal(x, y):
    x, y = np.ascontiguousarray(x), np.ascontiguousarray(y)
    return x.shape == y.shape and x.dtype == y.dtype and np.array_equal(
        x.view(np.uint8), y.view(np.uint8))


# ---- compile checks -------------------------------------------------------------------

def _nvcc():
    path = shutil.which("nvcc")
    if path is None:
        pytest.skip("nvcc is not on the PATH: the CUDA source compile check needs the CUDA "
                    "toolkit's nvcc (CI machines have it)")
    return path


def _nvcc_archs(nvcc):
    out = subprocess.run([nvcc, "--list-gpu-arch"], capture_output=True, text=True, check=True).stdout
    return {int(x) for x in re.findall(r"compute_(\d+)", out)}


def _nvcc_version(nvcc):
    out = subprocess.run([nvcc, "--version"], capture_output=True, text=True, check=True).stdout
    return tuple(int(x) for x in re.search(r"release (\d+)\.(\d+)", out).groups())


def _check_ptx(ptx, arch, atan_stubbed=False):
    """The entries are there, IEEE division, and no fused multiply-add (--fmad=false: the C
    path's rounding) in any kernel -- except, in the family kernels, CUDA's own atan (CIoU),
    whose polynomial is written with fma: `atan_stubbed` is a build with FA_ATAN defined
    empty, where no kernel may hold any fma."""
    assert ".target sm_%d" % arch in ptx
    parts = re.split(r"\.entry (\w+)\s*\(", ptx)
    bodies = dict(zip(parts[1::2], parts[2::2]))
    assert sorted(bodies) == sorted(KERNELS)
    assert "div.rn.f64" in ptx
    for k, body in bodies.items():
        if atan_stubbed or k in IOU_KERNELS or k in ASSIGN_KERNELS:    # assignment: no atan
            assert not re.search(r"\bfma\.", body), k
    if not atan_stubbed:
        assert re.search(r"\bfma\.", bodies["fa_box_iou_family_f64"])     # CUDA's atan


@pytest.mark.parametrize("arch", ARCHS)
def test_nvcc_ptx(arch, tmp_path):
    """nvcc -ptx of csrc/cuda/box_iou.cu as shipped to NVRTC (iou_pair.h inlined) and as
    in the source tree (-I csrc). CUDA 13 removed offline compilation for Volta (sm_70):
    there the test asserts that nvcc refuses sm_70 for that reason, and the source's
    Volta compatibility is checked by NVRTC (test_nvrtc_ptx) and by any nvcc <= 12."""
    nvcc = _nvcc()
    supported = _nvcc_archs(nvcc)
    src = tmp_path / "box_iou_inlined.cu"
    src.write_text(cuda.kernel_source()[0])
    cmd = [nvcc, "-ptx", "-arch=sm_%d" % arch, "-fmad=false", "-prec-div=true", "-ftz=false"]
    if arch not in supported:
        version = _nvcc_version(nvcc)
        assert arch == 70 and version >= (13, 0), (
            "nvcc %s does not list compute_%d: only Volta (sm_70) is expected to be missing, "
            "from CUDA 13 on" % (version, arch))
        r = subprocess.run(cmd + ["-o", str(tmp_path / "k.ptx"), str(src)], capture_output=True, text=True)
        assert r.returncode != 0 and "sm_70" in r.stderr, r.stderr
        return
    r = subprocess.run(cmd + ["-o", str(tmp_path / "k.ptx"), str(src)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    _check_ptx((tmp_path / "k.ptx").read_text(), arch)
    r = subprocess.run(cmd + ["-DFA_ATAN=", "-o", str(tmp_path / "s.ptx"), str(src)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    _check_ptx((tmp_path / "s.ptx").read_text(), arch, atan_stubbed=True)
    r = subprocess.run(cmd + ["-I", os.path.join(ROOT, "csrc"), "-o", str(tmp_path / "t.ptx"), CU],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    _check_ptx((tmp_path / "t.ptx").read_text(), arch)


def _nvrtc():
    try:
        from cupy.cuda import nvrtc
        nvrtc.getVersion()
    except Exception as e:           # CuPy missing, or its NVRTC library missing
        pytest.skip("NVRTC (CuPy) is not available (%s: %s): pip install 'fastap[cuda]' to "
                    "check the source under NVRTC's rules" % (type(e).__name__, e))
    return nvrtc


@pytest.mark.parametrize("arch", ARCHS)
def test_nvrtc_ptx(arch):
    """NVRTC compiles the source fastap.cuda hands to CuPy's RawModule, with its options,
    for compute_70/80/90 without a device: no host headers, Volta-compatible."""
    nvrtc = _nvrtc()
    prog = nvrtc.createProgram(cuda.kernel_source()[0], "box_iou.cu", (), ())
    try:
        opts = cuda.NVRTC_OPTIONS + ("--device-as-default-execution-space",
                                     "--gpu-architecture=compute_%d" % arch)
        try:
            nvrtc.compileProgram(prog, opts)
        except Exception:
            pytest.fail(nvrtc.getProgramLog(prog))
        ptx = nvrtc.getPTX(prog)
    finally:
        nvrtc.destroyProgram(prog)
    _check_ptx(ptx.decode() if isinstance(ptx, bytes) else ptx, arch)


def test_shipped_source():
    """The kernel source fastap loads (the wheel's fastap/_cuda_src/, or csrc/ in a source
    checkout) is csrc/cuda/box_iou.cu with csrc/iou_pair.h inlined."""
    cu, h = cuda._source_paths()
    with open(CU) as f:
        want = f.read()
    with open(cu) as f:
        assert f.read() == want
    with open(os.path.join(ROOT, "csrc", "iou_pair.h")) as f, open(h) as g:
        header = f.read()
        assert g.read() == header
    assert cuda.kernel_source()[0] == want.replace('#include "iou_pair.h"', header)


def test_source_has_no_host_headers():
    """NVRTC has no C library headers: the only include is iou_pair.h (inlined)."""
    with open(CU) as f:
        includes = re.findall(r'#\s*include\s*[<"]([^>"]+)', f.read())
    assert includes == ["iou_pair.h"]
    assert "#include" not in cuda.kernel_source()[0]


# ---- the kernel on the CPU (emulation) -----------------------------------------------

def _cxx():
    for name in ("g++", "c++", "clang++"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    """box_iou.cu compiled as C++ over the emulation header, loaded with ctypes."""
    cxx = _cxx()
    if cxx is None:
        pytest.skip("no C++ compiler (g++/c++/clang++) to build the CUDA emulation test: "
                    "apt-get install g++")
    out = tmp_path_factory.mktemp("cuda_emu") / "box_iou_emu.so"
    emu_dir = os.path.join(ROOT, "tests", "cuda_emu")
    cmd = [cxx, "-std=c++17", "-O1", "-ffp-contract=off", "-pthread", "-shared", "-fPIC",
           "-I" + emu_dir, "-I" + os.path.join(ROOT, "csrc"), "-I" + os.path.join(ROOT, "csrc", "cuda"),
           os.path.join(emu_dir, "box_iou_emu.cpp"), "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lib = ctypes.CDLL(str(out))
    lib.fa_emu_constant.restype = ctypes.c_int
    lib.fa_emu_box_iou.restype = ctypes.c_int
    vp, i64, u = ctypes.c_void_p, ctypes.c_longlong, ctypes.c_uint
    lib.fa_emu_box_iou.argtypes = [ctypes.c_int, ctypes.c_int, u, u, u, u, vp, i64, vp, i64, vp,
                                   ctypes.c_int, ctypes.c_int, ctypes.c_double, vp, i64]
    ci, d = ctypes.c_int, ctypes.c_double
    lib.fa_emu_box_iou_family.restype = ctypes.c_int
    lib.fa_emu_box_iou_family.argtypes = [ci, u, u, u, u, vp, i64, vp, i64, ci, ci, d, vp, i64]
    lib.fa_emu_box_iou_aligned.restype = ctypes.c_int
    lib.fa_emu_box_iou_aligned.argtypes = [ci, u, u, vp, vp, i64, vp, ci, ci, ci, d, vp]
    lib.fa_emu_assign.restype = ctypes.c_int
    lib.fa_emu_assign.argtypes = [ci, ci, u, u, u, u, vp, vp, vp]
    return lib


def emu_box_iou(lib, a, b, fmt, crowd, dtype, pad=0, max_grid_y=cuda.MAX_GRID_Y):
    """fastap.cuda's host code (launch_rows: the launch plan, row chunks, pointer offsets,
    arguments) driving the emulated kernel, with NumPy arrays for device memory. `pad`
    columns after each row make out a block of a wider matrix (row stride m + pad)."""
    a = np.ascontiguousarray(a, dtype=dtype)
    b = np.ascontiguousarray(b, dtype=dtype)
    n, m = a.shape[0], b.shape[0]
    sentinel = np.array(-7.0, dtype=dtype)
    full = np.full((n, m + pad), sentinel, dtype=dtype)
    out = full[:, :m]
    has = crowd is not None
    cr = np.ascontiguousarray(np.asarray(crowd) != 0, dtype=np.uint8) if has else np.zeros(1, np.uint8)
    name = cuda.kernel_name(fmt, np.dtype(dtype).name)

    def fn(grid, block, args):
        pa, nn, pb, mm, pc, hc, centre, one, po, ld = args
        assert grid[2] == 1 and block[2] == 1 and grid[1] <= max_grid_y
        rc = lib.fa_emu_box_iou(int("xywh" in name), int(name.endswith("f32")), grid[0], grid[1],
                                block[0], block[1], pa.ctypes.data, int(nn), pb.ctypes.data, int(mm),
                                pc.ctypes.data, int(hc), int(centre), float(one), po.ctypes.data, int(ld))
        assert rc == 0

    cuda.launch_rows(fn, a, b, cr, has, fmt, out, max_grid_y=max_grid_y)
    assert (full[:, m:] == sentinel).all()          # the padding is never written
    return np.ascontiguousarray(out)


def test_emulation_constants(emu):
    consts = cuda.kernel_source()[1]
    assert [emu.fa_emu_constant(i) for i in range(8)] == [
        consts["FA_CU_BX"], consts["FA_CU_BY"], consts["FA_CU_TILE_N"], consts["FA_CU_TILE_M"],
        consts["FA_CU_ALIGNED_BLOCK"], consts["FA_CA_THREADS"], consts["FA_CA_GTS"], consts["FA_CA_CHUNK"]]


# n, m around the 64 x 64 tile: one box, exact tiles, ragged edges, empty sides
SIZES = [(1, 1), (64, 64), (65, 63), (130, 97), (3, 129), (0, 5), (5, 0), (0, 0)]


@pytest.mark.parametrize("n,m", SIZES)
@pytest.mark.parametrize("fmt", ["xyxy", "xywh", "cxcywh"])
def test_emulated_kernel_equals_c_path(emu, n, m, fmt):
    rng = np.random.default_rng(1000 * n + m)
    a = as_fmt(edge_boxes_xywh(rng, n), fmt)
    b = as_fmt(edge_boxes_xywh(rng, m), fmt)
    crowd = (rng.random(m) < 0.3).astype(np.uint8)
    for dtype in (np.float64, np.float32):
        a_t, b_t = a.astype(dtype), b.astype(dtype)
        for cr in (None, crowd):
            got = emu_box_iou(emu, a_t, b_t, fmt, cr, dtype)
            want = cpu_reference(a_t, b_t, fmt, cr, dtype)
            assert bits_equal(got, want), (fmt, np.dtype(dtype).name, cr is not None)


def test_emulated_row_chunks_and_row_stride(emu):
    """Launches split along rows (grid.y capped, here at 1 tile) and an output whose rows
    are longer than m (out= a block of a larger matrix) give the same bits."""
    rng = np.random.default_rng(7)
    a, b = edge_boxes_xywh(rng, 150), edge_boxes_xywh(rng, 70)
    crowd = (rng.random(70) < 0.5).astype(np.uint8)
    want = cpu_reference(a, b, "xywh", crowd, np.float64)
    got = emu_box_iou(emu, a, b, "xywh", crowd, np.float64, pad=5, max_grid_y=1)
    assert bits_equal(got, want)
    assert got[want == 0].sum() == 0 and (got > 0).any()


def test_emulated_pycocotools_bitwise(emu):
    mask = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(3)
    a, b = edge_boxes_xywh(rng, 70), edge_boxes_xywh(rng, 66)
    crowd = (rng.random(66) < 0.3).astype(np.uint8)
    want = np.asarray(mask.iou(a.tolist(), b.tolist(), crowd.tolist()))
    assert bits_equal(emu_box_iou(emu, a, b, "xywh", crowd, np.float64), want)


def emu_family(lib, a, b, fmt, kind, dtype, eps=1e-7, pad=0, max_grid_y=cuda.MAX_GRID_Y):
    """emu_box_iou for the family kernel (fastap.cuda.launch_family_rows driving it)."""
    a = np.ascontiguousarray(a, dtype=dtype)
    b = np.ascontiguousarray(b, dtype=dtype)
    n, m = a.shape[0], b.shape[0]
    sentinel = np.array(-7.0, dtype=dtype)
    full = np.full((n, m + pad), sentinel, dtype=dtype)
    out = full[:, :m]
    f32 = int(np.dtype(dtype) == np.float32)

    def fn(grid, block, args):
        pa, nn, pb, mm, layout, k, e, po, ld = args
        assert grid[2] == 1 and block[2] == 1 and grid[1] <= max_grid_y
        assert lib.fa_emu_box_iou_family(f32, grid[0], grid[1], block[0], block[1], pa.ctypes.data, int(nn),
                                         pb.ctypes.data, int(mm), int(layout), int(k), float(e),
                                         po.ctypes.data, int(ld)) == 0

    cuda.launch_family_rows(fn, a, b, fmt, kind, eps, out, max_grid_y=max_grid_y)
    assert (full[:, m:] == sentinel).all()
    return np.ascontiguousarray(out)


def emu_aligned(lib, a, b, fmt, kind, crowd, dtype, eps=1e-7):
    a = np.ascontiguousarray(a, dtype=dtype)
    b = np.ascontiguousarray(b, dtype=dtype)
    out = np.full(a.shape[0] + 3, -7.0, dtype=dtype)           # 3 guard elements
    has = crowd is not None
    cr = np.ascontiguousarray(np.asarray(crowd) != 0, dtype=np.uint8) if has else np.zeros(1, np.uint8)
    f32 = int(np.dtype(dtype) == np.float32)

    def fn(grid, block, args):
        pa, pb, nn, pc, hc, layout, k, e, po = args
        assert grid[1:] == (1, 1) and block[1:] == (1, 1) and grid[0] * block[0] >= nn
        assert lib.fa_emu_box_iou_aligned(f32, grid[0], block[0], pa.ctypes.data, pb.ctypes.data, int(nn),
                                          pc.ctypes.data, int(hc), int(layout), int(k), float(e),
                                          po.ctypes.data) == 0

    cuda.launch_aligned(fn, a, b, cr, has, fmt, kind, eps, out[:a.shape[0]])
    assert (out[a.shape[0]:] == -7).all()
    return out[:a.shape[0]].copy()


FAMILY = ["giou", "diou", "ciou"]


@pytest.mark.parametrize("n,m", [(1, 1), (65, 63), (130, 97), (0, 5), (5, 0)])
@pytest.mark.parametrize("fmt", ["xyxy", "xywh", "cxcywh"])
def test_emulated_family_equals_c_path(emu, n, m, fmt):
    """The family kernel (GIoU/DIoU/CIoU; and kind iou through it) on the emulated GPU is
    the C path bit for bit (the emulation's atan is the C library's, as the C path's);
    float32 boxes: the C path's float64 result rounded once."""
    rng = np.random.default_rng(2000 * n + m)
    a = as_fmt(edge_boxes_xywh(rng, n), fmt)
    b = as_fmt(edge_boxes_xywh(rng, m), fmt)
    for dtype in (np.float64, np.float32):
        a_t, b_t = a.astype(dtype), b.astype(dtype)
        for kind in FAMILY:
            want = fastap.box_iou(a_t, b_t, fmt=fmt, kind=kind).astype(dtype)
            assert bits_equal(emu_family(emu, a_t, b_t, fmt, kind, dtype), want), (kind, fmt, dtype)
        want = fastap.box_iou(a_t, b_t, fmt=fmt, kind="ciou", eps=0.0).astype(dtype)
        assert bits_equal(emu_family(emu, a_t, b_t, fmt, "ciou", dtype, eps=0.0), want)
        if fmt != "xywh":       # kind iou through the family formula: the corner IoU
            want = fastap.box_iou(a_t, b_t, fmt=fmt).astype(dtype)
            assert bits_equal(emu_family(emu, a_t, b_t, fmt, "iou", dtype), want)


def test_emulated_family_row_chunks_and_row_stride(emu):
    rng = np.random.default_rng(8)
    a, b = edge_boxes_xywh(rng, 150), edge_boxes_xywh(rng, 70)
    want = fastap.box_iou(a, b, fmt="xywh", kind="ciou")
    assert bits_equal(emu_family(emu, a, b, "xywh", "ciou", np.float64, pad=5, max_grid_y=1), want)


@pytest.mark.parametrize("fmt", ["xyxy", "xywh", "cxcywh"])
def test_emulated_aligned_equals_c_path(emu, fmt):
    rng = np.random.default_rng(9)
    for n in (0, 1, 255, 256, 600):
        a = as_fmt(edge_boxes_xywh(rng, n), fmt)
        b = as_fmt(edge_boxes_xywh(rng, n), fmt)
        crowd = (rng.random(n) < 0.3).astype(np.uint8)
        for dtype in (np.float64, np.float32):
            a_t, b_t = a.astype(dtype), b.astype(dtype)
            for kind in ["iou"] + FAMILY:
                for cr in ((None, crowd) if kind == "iou" else (None,)):
                    want = fastap.box_iou(a_t, b_t, fmt=fmt, kind=kind, aligned=True, iscrowd=cr).astype(dtype)
                    got = emu_aligned(emu, a_t, b_t, fmt, kind, cr, dtype)
                    assert bits_equal(got, want), (fmt, kind, dtype, cr is not None)


# ---- dispatch and errors, with stand-in CUDA arrays --------------------------------------

class FakeCAI:
    """Looks like a CUDA array through __cuda_array_interface__ (never dereferenced)."""

    def __init__(self, shape=(3, 4), typestr="<f4"):
        self.__cuda_array_interface__ = {"shape": shape, "typestr": typestr, "data": (0, False),
                                         "version": 3, "strides": None}


class FakeDLPack:
    def __init__(self, device_type=2, device_id=0):
        self.dev = (device_type, device_id)

    def __dlpack_device__(self):
        return self.dev

    def __dlpack__(self, **kw):
        raise AssertionError("not reached")


def test_is_cuda_array():
    torch = pytest.importorskip("torch")
    assert cuda.is_cuda_array(FakeCAI()) and cuda.is_cuda_array(FakeDLPack())
    assert cuda.is_cuda_array(FakeDLPack(13))                    # managed memory
    for host in (np.zeros((2, 4)), [[0, 0, 1, 1]], None, torch.zeros(2, 4),
                 torch.zeros(2, 4, requires_grad=True), FakeDLPack(1), FakeDLPack(3)):
        assert not cuda.is_cuda_array(host)


def test_mixed_host_and_cuda():
    with pytest.raises(DeviceError, match=r"b is a host array.*same device"):
        fastap.box_iou(FakeCAI(), np.zeros((2, 4)))
    with pytest.raises(DeviceError, match=r"a is a host array"):
        fastap.box_iou([[0, 0, 1, 1]], FakeDLPack())
    with pytest.raises(DeviceError, match="out is a CUDA array but the boxes"):
        fastap.box_iou(np.zeros((2, 4)), np.zeros((2, 4)), out=FakeCAI((2, 2), "<f8"))
    with pytest.raises(DeviceError, match="iscrowd is a CUDA array"):
        fastap.box_iou(np.zeros((2, 4)), np.zeros((2, 4)), iscrowd=FakeCAI((2,), "|u1"))


def test_different_devices():
    with pytest.raises(DeviceError, match=r"different CUDA devices \(a: 0, b: 1\)"):
        fastap.box_iou(FakeDLPack(2, 0), FakeDLPack(2, 1))
    with pytest.raises(DeviceError, match=r"out: 3"):
        fastap.box_iou(FakeDLPack(2, 0), FakeDLPack(2, 0), out=FakeDLPack(2, 3))


def test_shapes_dtypes_fmt():
    with pytest.raises(InvalidAnnotationError, match=r"a should have shape \(n, 4\), got \(3, 5\)"):
        fastap.box_iou(FakeCAI((3, 5)), FakeCAI())
    with pytest.raises(InvalidAnnotationError, match=r"b should have shape \(n, 4\), got \(4,\)"):
        fastap.box_iou(FakeCAI(), FakeCAI((4,)))
    with pytest.raises(InvalidTypeError, match="b should hold real numbers, got dtype bool"):
        fastap.box_iou(FakeCAI(), FakeCAI((3, 4), "|b1"))
    with pytest.raises(InvalidTypeError, match="complex"):
        fastap.box_iou(FakeCAI((3, 4), "<c8"), FakeCAI())
    with pytest.raises(InvalidAnnotationError, match="fmt should be"):
        fastap.box_iou(FakeCAI(), FakeCAI(), fmt="yxyx")
    with pytest.raises(InvalidTypeError, match="num_threads is for the CPU path"):
        fastap.box_iou(FakeCAI(), FakeCAI(), num_threads=2)
    with pytest.raises(DeviceError, match="ROCm"):
        fastap.box_iou(FakeDLPack(10), FakeDLPack(10))


def test_without_cupy(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)        # `import cupy` raises ImportError
    assert not cuda.is_available()
    with pytest.raises(ImportError, match=r"needs CuPy: pip install 'fastap\[cuda\]'"):
        fastap.box_iou(FakeCAI(), FakeCAI())
    with pytest.raises(ImportError, match="fastap.cuda"):
        cuda.iter_box_iou(FakeDLPack(), FakeDLPack())


def test_cpu_out_and_block_rows():
    rng = np.random.default_rng(5)
    a, b = edge_boxes_xywh(rng, 9), edge_boxes_xywh(rng, 11)
    out = np.full((9, 11), np.nan)
    assert fastap.box_iou(a, b, fmt="xywh", out=out) is out
    assert bits_equal(out, fastap.box_iou(a, b, fmt="xywh"))
    with pytest.raises(InvalidAnnotationError, match=r"out should be a writeable C-contiguous float64"):
        fastap.box_iou(a, b, fmt="xywh", out=np.empty((9, 11), np.float32))
    with pytest.raises(InvalidAnnotationError, match=r"shape \(9, 11\)"):
        fastap.box_iou(a, b, fmt="xywh", out=np.empty((11, 9)))
    with pytest.raises(InvalidTypeError, match="block_rows is for CUDA boxes"):
        fastap.box_iou(a, b, fmt="xywh", block_rows=4)
    with pytest.raises(InvalidTypeError, match="takes CUDA arrays"):
        cuda.box_iou(a, b)


def test_launch_plan_covers_rows():
    consts = cuda.kernel_source()[1]
    assert cuda.launch_plan(0, 10, consts) == [] and cuda.launch_plan(10, 0, consts) == []
    plan = cuda.launch_plan(1000, 130, consts, max_grid_y=3)
    assert [p[:2] for p in plan] == [(0, 192), (192, 384), (384, 576), (576, 768), (768, 960), (960, 1000)]
    assert all(p[2][0] == 3 and p[2][1] <= 3 and p[3] == (32, 8, 1) for p in plan)
    assert cuda.launch_plan(65535 * 64 + 1, 1, consts)[-1][:3] == (65535 * 64, 65535 * 64 + 1, (1, 1, 1))


# ---- the GPU path end to end: on a CUDA device, and emulated -----------------------------

def _fake_cupy(lib):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "fastap_test_fake_cupy", os.path.join(ROOT, "tests", "cuda_emu", "fake_cupy.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.make(lib)


@pytest.fixture(params=["emulated", "cupy"])
def cp(request, monkeypatch):
    """CuPy on a CUDA device where there is one; and everywhere a stand-in CuPy over NumPy
    (tests/cuda_emu/fake_cupy.py) whose kernels are the emulated box_iou.cu, so that
    fastap.cuda's host code (wrapping, device-side checks, launches, out=, blocked mode)
    runs here too."""
    if request.param == "cupy":
        if not cuda.is_available():
            pytest.skip("no CUDA device (or CuPy): GPU results are checked where one exists; "
                        "the same tests ran on the emulated kernel")
        import cupy
        return cupy
    fake = _fake_cupy(request.getfixturevalue("emu"))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.setattr(cuda, "_MODULES", {})
    return fake


def _cases(sizes=((1, 1), (200, 333), (131, 517))):
    rng = np.random.default_rng(11)
    for n, m in sizes:
        xywh_a, xywh_b = edge_boxes_xywh(rng, n), edge_boxes_xywh(rng, m)
        crowd = (rng.random(m) < 0.3).astype(np.uint8)
        for fmt in ("xyxy", "xywh", "cxcywh"):
            yield as_fmt(xywh_a, fmt), as_fmt(xywh_b, fmt), fmt, crowd


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gpu_cupy_equals_cpu(cp, dtype):
    for a, b, fmt, crowd in _cases():
        a, b = a.astype(dtype), b.astype(dtype)
        for cr in (None, crowd, crowd.tolist()):
            want = cpu_reference(a, b, fmt, cr, dtype)
            got = fastap.box_iou(cp.asarray(a), cp.asarray(b), fmt=fmt,
                                 iscrowd=cp.asarray(cr) if isinstance(cr, np.ndarray) else cr)
            assert isinstance(got, cp.ndarray) and got.dtype == dtype
            assert bits_equal(cp.asnumpy(got), want), (fmt, dtype)   # float32: 0 ulp <= 1 ulp
    # mixed dtypes and integers compute in float64, like the CPU path
    got = fastap.box_iou(cp.asarray(a.astype(np.float32)), cp.asarray(b.astype(np.int64)), fmt=fmt)
    assert got.dtype == np.float64
    assert bits_equal(cp.asnumpy(got), fastap.box_iou(a.astype(np.float32), b.astype(np.int64), fmt=fmt))
    if hasattr(cp, "launches"):
        suffix = "f32" if dtype == "float32" else "f64"
        assert {x[0] for x in cp.launches} >= {k for k in IOU_KERNELS if k.endswith(suffix)}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gpu_torch_equals_cpu(dtype):
    torch = pytest.importorskip("torch")
    if not (cuda.is_available() and torch.cuda.is_available()):
        pytest.skip("no CUDA device, CuPy, or CUDA build of torch")
    for a, b, fmt, crowd in _cases():
        a, b = a.astype(dtype), b.astype(dtype)
        ta, tb = torch.from_numpy(a).cuda(), torch.from_numpy(b).cuda()
        got = fastap.box_iou(ta, tb, fmt=fmt, iscrowd=torch.from_numpy(crowd).cuda())
        assert isinstance(got, torch.Tensor) and got.is_cuda and got.dtype == getattr(torch, dtype)
        assert bits_equal(got.cpu().numpy(), cpu_reference(a, b, fmt, crowd, dtype))
    s = torch.cuda.Stream()                         # runs on the caller's current stream
    with torch.cuda.stream(s):
        got = fastap.box_iou(ta, tb.requires_grad_(True), fmt=fmt)
        out = torch.full((ta.shape[0], tb.shape[0] + 3), -1.0, dtype=ta.dtype, device=ta.device)
        fastap.box_iou(ta, tb, fmt=fmt, out=out[:, :-3])
    s.synchronize()
    want = cpu_reference(a, b, fmt, None, dtype)
    assert bits_equal(got.cpu().numpy(), want) and bits_equal(out[:, :-3].cpu().numpy(), want)
    assert (out[:, -3:] == -1).all()
    half = fastap.box_iou(ta.to(torch.bfloat16), tb.detach().half(), fmt=fmt)
    assert half.dtype == torch.float32


def test_gpu_out_and_blocked_mode(cp):
    rng = np.random.default_rng(12)
    a, b = edge_boxes_xywh(rng, 300), edge_boxes_xywh(rng, 150)
    want = cpu_reference(a, b, "xywh", None, np.float64)
    big = cp.full((300, 157), -1.0)
    res = fastap.box_iou(cp.asarray(a), cp.asarray(b), fmt="xywh", out=big[:, :150])
    assert bits_equal(cp.asnumpy(res), want) and bool((big[:, 150:] == -1).all())
    host = np.empty((300, 150))
    assert fastap.box_iou(cp.asarray(a), cp.asarray(b), fmt="xywh", out=host, block_rows=128) is host
    assert bits_equal(host, want)
    blocks = list(cuda.iter_box_iou(cp.asarray(a), cp.asarray(b), fmt="xywh", block_rows=128))
    assert [r0 for r0, _ in blocks] == [0, 128, 256]
    assert bits_equal(np.concatenate([cp.asnumpy(x) for _, x in blocks]), want)
    with pytest.raises(InvalidAnnotationError, match="out should be a float64 array of shape"):
        fastap.box_iou(cp.asarray(a), cp.asarray(b), fmt="xywh", out=cp.empty((300, 150), cp.float32))
    with pytest.raises(InvalidAnnotationError, match="blocked mode.*float64"):
        fastap.box_iou(cp.asarray(a), cp.asarray(b), fmt="xywh", out=np.empty((300, 150), np.float32))
    with pytest.raises(InvalidAnnotationError, match=r"b box 0 is not finite: \[0.0, 0.0, nan, 1.0\]"):
        fastap.box_iou(cp.asarray(a), cp.asarray([[0, 0, np.nan, 1]]), fmt="xywh")
    with pytest.raises(InvalidAnnotationError, match="negative width or height.*b box 1"):
        fastap.box_iou(cp.asarray(a), cp.asarray([[0, 0, 1, 1], [0, 0, -1, 1]]), fmt="xywh")
    with pytest.raises(InvalidAnnotationError, match=r"b should have shape \(n, 4\)"):
        fastap.box_iou(cp.asarray(a), cp.zeros((3, 3)), fmt="xywh")
    with pytest.raises(InvalidAnnotationError, match="iscrowd should have one flag per box of b"):
        fastap.box_iou(cp.asarray(a), cp.asarray(b), fmt="xywh", iscrowd=cp.zeros(3, cp.uint8))
    with pytest.raises(DeviceError, match="b is a host array"):
        fastap.box_iou(cp.asarray(a), b, fmt="xywh")
    assert fastap.box_iou(cp.zeros((0, 4)), cp.asarray(b), fmt="xywh").shape == (0, 150)
    assert fastap.box_iou(cp.asarray(a), cp.zeros(0), fmt="xywh").shape == (300, 0)


def _family_close(got, want, kind, exact):
    """GPU vs CPU for the family: bit for bit, except CIoU on a real device, whose atan is
    CUDA's (within 1e-15 in float64; float32: the rounding of that, 1 ulp)."""
    if exact or kind != "ciou":
        return bits_equal(got, want)
    if got.dtype == np.float32:
        return got.shape == want.shape and bool((np.abs(got.astype(np.float64) - want) <=
                                                 np.spacing(np.abs(want).astype(np.float32))).all())
    return got.shape == want.shape and bool((np.abs(got - want) <= 1e-15).all())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gpu_family_equals_cpu(cp, dtype):
    exact = hasattr(cp, "launches")           # the emulation runs the C library's atan
    for a, b, fmt, crowd in _cases(((1, 1), (131, 517))):
        a, b = a.astype(dtype), b.astype(dtype)
        A, B = cp.asarray(a), cp.asarray(b)
        for kind in FAMILY:
            want = fastap.box_iou(a, b, fmt=fmt, kind=kind).astype(dtype)
            got = fastap.box_iou(A, B, fmt=fmt, kind=kind)
            assert isinstance(got, cp.ndarray) and got.dtype == dtype
            assert _family_close(cp.asnumpy(got), want, kind, exact), (kind, fmt, dtype)
        k = min(a.shape[0], b.shape[0])
        for kind in ["iou"] + FAMILY:
            cr = crowd[:k] if kind == "iou" else None
            want = fastap.box_iou(a[:k], b[:k], fmt=fmt, kind=kind, aligned=True, iscrowd=cr).astype(dtype)
            got = fastap.box_iou(A[:k], B[:k], fmt=fmt, kind=kind, aligned=True,
                                 iscrowd=None if cr is None else cp.asarray(cr))
            assert got.shape == (k,) and _family_close(cp.asnumpy(got), want, kind, exact), (kind, fmt)
    fn = {"giou": fastap.generalized_box_iou, "diou": fastap.distance_box_iou, "ciou": fastap.complete_box_iou}
    for kind, f in fn.items():
        assert _family_close(cp.asnumpy(f(A, B, fmt=fmt)), f(a, b, fmt=fmt).astype(dtype), kind, exact)
    if exact:
        names = {x[0] for x in cp.launches}
        suffix = "f32" if dtype == "float32" else "f64"
        assert {"fa_box_iou_family_" + suffix, "fa_box_iou_aligned_" + suffix} <= names


def test_gpu_family_out_and_errors(cp):
    rng = np.random.default_rng(13)
    a, b = edge_boxes_xywh(rng, 300), edge_boxes_xywh(rng, 150)
    A, B = cp.asarray(a), cp.asarray(b)
    exact = hasattr(cp, "launches")
    big = cp.full((300, 157), -1.0)
    res = fastap.box_iou(A, B, fmt="xywh", kind="diou", out=big[:, :150])
    assert bits_equal(cp.asnumpy(res), fastap.box_iou(a, b, fmt="xywh", kind="diou"))
    assert bool((big[:, 150:] == -1).all())
    host = np.empty((300, 150))
    fastap.box_iou(A, B, fmt="xywh", kind="ciou", out=host, block_rows=128)
    assert _family_close(host, fastap.box_iou(a, b, fmt="xywh", kind="ciou"), "ciou", exact)
    blocks = list(cuda.iter_box_iou(A, B, fmt="xywh", block_rows=128, kind="giou"))
    assert bits_equal(np.concatenate([cp.asnumpy(x) for _, x in blocks]),
                      fastap.box_iou(a, b, fmt="xywh", kind="giou"))
    vec = cp.full(150, -1.0)
    assert fastap.box_iou(A[:150], B, fmt="xywh", kind="giou", aligned=True, out=vec) is vec
    assert bits_equal(cp.asnumpy(vec), fastap.box_iou(a[:150], b, fmt="xywh", kind="giou", aligned=True))
    with pytest.raises(InvalidTypeError, match="aligned=True gives a vector"):
        fastap.box_iou(A[:150], B, aligned=True, out=np.empty(150), fmt="xywh")
    with pytest.raises(InvalidAnnotationError, match=r"out should be a float64 array of shape \(150,\)"):
        fastap.box_iou(A[:150], B, aligned=True, out=cp.empty((150, 1)), fmt="xywh")
    with pytest.raises(InvalidAnnotationError, match="same number of boxes, got 300 and 150"):
        fastap.box_iou(A, B, aligned=True, fmt="xywh")
    with pytest.raises(InvalidAnnotationError, match="kind should be one of"):
        fastap.box_iou(A, B, kind="eiou", fmt="xywh")
    with pytest.raises(InvalidAnnotationError, match="iscrowd .* is for kind='iou'"):
        fastap.box_iou(A, B, kind="giou", iscrowd=cp.zeros(150, cp.uint8), fmt="xywh")
    with pytest.raises(InvalidAnnotationError, match="eps should be a finite number >= 0"):
        fastap.box_iou(A, B, kind="diou", eps=-1.0, fmt="xywh")
    assert fastap.box_iou(cp.zeros((0, 4)), cp.zeros((0, 4)), kind="ciou", aligned=True).shape == (0,)
    assert fastap.box_iou(cp.zeros((0, 4)), B, kind="ciou", fmt="xywh").shape == (0, 150)


# ---- fastap.assign on the GPU: on a CUDA device, and emulated ----------------------------

def _assign_case(rng):
    """Anchors on a grid, twice (equal IoUs in different blocks and chunks of the kernels:
    ties across them), and ground truth with duplicates, a box overlapping no anchor, a
    box equal to an anchor."""
    from test_assign import grid_anchors, random_gt
    anchors = grid_anchors(step=16)                      # 160 anchors
    anchors = np.concatenate([anchors, anchors[::-1], anchors[:7]])
    return anchors, random_gt


def _same_assign(got, want, cp, dtype):
    m, v = (cp.asnumpy(x) if not isinstance(x, np.ndarray) else x for x in got)
    return (m.dtype == np.int64 and np.array_equal(m, want[0])
            and bits_equal(v, want[1].astype(dtype)))


def _xywh(b):
    return np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)


def _cxcywh(b):
    return np.concatenate([(b[:, :2] + b[:, 2:]) / 2, b[:, 2:] - b[:, :2]], axis=1)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gpu_assign_equals_cpu(cp, dtype):
    """One image: every rule, 0 to 300 ground truths (more than one staged tile of 256),
    the three formats: matches equal, IoU bit for bit (float32: the CPU's float64 IoU
    rounded once)."""
    from test_assign import RULES
    rng = np.random.default_rng(21)
    anchors, random_gt = _assign_case(rng)
    seen = set()
    for rule in RULES:
        for g in (0, 1, 2, 7, 20, 300):
            gt = random_gt(rng, g).astype(dtype)
            a = anchors.astype(dtype)
            want = fastap.assign(a, gt, **rule)
            got = fastap.assign(cp.asarray(a), cp.asarray(gt), **rule)
            assert isinstance(got[0], cp.ndarray) and got[1].dtype == dtype
            assert _same_assign(got, want, cp, dtype), (rule, g)
            seen |= set(want[0].tolist())
        for conv, fmt in ((_xywh, "xywh"), (_cxcywh, "cxcywh")):
            gt = random_gt(rng, 9)
            want = fastap.assign(conv(anchors).astype(dtype), conv(gt).astype(dtype), fmt=fmt, **rule)
            got = fastap.assign(cp.asarray(conv(anchors).astype(dtype)), cp.asarray(conv(gt).astype(dtype)),
                                fmt=fmt, **rule)
            assert _same_assign(got, want, cp, dtype), (rule, fmt)
    assert {-2, -1, 0, 1} <= seen
    # no anchors
    m, v = fastap.assign(cp.zeros((0, 4), dtype=dtype), cp.asarray(random_gt(rng, 3).astype(dtype)))
    assert m.shape == v.shape == (0,)
    # mixed dtypes compute in float64, like box_iou
    gt = random_gt(rng, 5)
    got = fastap.assign(cp.asarray(anchors.astype(np.float32)), cp.asarray(gt), high=0.5)
    assert got[1].dtype == np.float64
    assert _same_assign(got, fastap.assign(anchors.astype(np.float32), gt, high=0.5), cp, np.float64)
    if hasattr(cp, "launches"):
        suffix = "f32" if dtype == "float32" else "f64"
        assert {k for k in ASSIGN_KERNELS if k.endswith(suffix)} | {"fa_assign_reduce"} <= {
            x[0] for x in cp.launches}


@pytest.mark.parametrize("rule", [dict(high=0.7, low=0.3, allow_low_quality_matches=True),
                                  dict(high=0.5, low=0.4), dict(high=0.5, rule="ssd")],
                         ids=["low_quality", "matcher", "ssd"])
def test_gpu_assign_batches(cp, rule):
    """Batches with ragged ground truth (an image without any), shared anchors and
    per-image anchors (one image without anchors), each image as the CPU path's."""
    rng = np.random.default_rng(22)
    anchors, random_gt = _assign_case(rng)
    gts = [random_gt(rng, g) for g in (5, 0, 300, 1, 12)]
    want = fastap.assign(anchors, gts, **rule)
    got = fastap.assign(cp.asarray(anchors), [cp.asarray(g) for g in gts], **rule)
    assert got[0].shape == got[1].shape == (5, len(anchors))
    assert _same_assign(got, want, cp, np.float64)
    per = [anchors[:100], anchors[50:], np.zeros((0, 4)), anchors[:1], anchors]
    want = fastap.assign(per, gts, **rule)
    got = fastap.assign([cp.asarray(a) for a in per], [cp.asarray(g) for g in gts], **rule)
    assert isinstance(got, tuple) and [len(x) for x in got[0]] == [len(a) for a in per]
    for b in range(len(per)):
        assert _same_assign((got[0][b], got[1][b]), (want[0][b], want[1][b]), cp, np.float64), b
    # an empty batch
    m, v = fastap.assign(cp.asarray(anchors), [], **rule)
    assert m.shape == v.shape == (0, len(anchors))


def test_gpu_assign_launch_limits(cp, monkeypatch):
    """More images, or anchor chunks, than one launch's grid.y / grid.z may hold (CUDA:
    65535; here 2): the host splits the launches and the results stay the CPU path's."""
    rng = np.random.default_rng(23)
    anchors, random_gt = _assign_case(rng)
    big = np.concatenate([anchors] * 2)                  # 654 anchors: 3 chunks of 256
    gts = [random_gt(rng, g) for g in (4, 70, 0, 3, 9)]
    monkeypatch.setattr(cuda, "MAX_GRID_Y", 2)
    if hasattr(cp, "launches"):
        del cp.launches[:]
    for rule in (dict(high=0.7, low=0.3, allow_low_quality_matches=True), dict(high=0.5, rule="ssd")):
        want = fastap.assign(big, gts, **rule)
        got = fastap.assign(cp.asarray(big), [cp.asarray(g) for g in gts], **rule)
        assert _same_assign(got, want, cp, np.float64), rule
    assert cuda.assign_plan(5, 654, 70, cuda.kernel_source()[1], 2) == ([(0, 2), (2, 4), (4, 5)],
                                                                       [(0, 2), (2, 3)], 3)
    if hasattr(cp, "launches"):
        grids = [g for name, g, _ in cp.launches if name.startswith("fa_assign_")]
        assert grids and max(max(g[1], g[2]) for g in grids) <= 2
        assert sum(name.startswith("fa_assign_cols") for name, _, _ in cp.launches) == 2 * 3 * 2


def test_gpu_assign_errors(cp):
    rng = np.random.default_rng(24)
    anchors, random_gt = _assign_case(rng)
    A, gt = cp.asarray(anchors), random_gt(rng, 4)
    with pytest.raises(DeviceError, match=r"gt\[1\] is a host array"):
        fastap.assign(A, [cp.asarray(gt), gt])
    with pytest.raises(DeviceError, match="anchors is a host array"):
        fastap.assign(anchors, cp.asarray(gt))
    with pytest.raises(InvalidAnnotationError, match=r"gt\[1\] box 1 is not finite: \[0.0, 0.0, nan, 1.0\]"):
        fastap.assign(A, [cp.asarray(gt), cp.asarray([[0, 0, 1, 1], [0, 0, np.nan, 1]])])
    with pytest.raises(InvalidAnnotationError, match=r"gt\[1\]: boxes with negative width or height"):
        fastap.assign(A, [cp.asarray(gt), cp.asarray([[5, 5, 0, 0]])])
    with pytest.raises(InvalidAnnotationError, match=r"anchors\[0\]: boxes with negative width or height "
                                                     r"\(fmt='xywh'\): box 2"):
        fastap.assign([cp.asarray([[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, -1, 1]])], [cp.asarray(gt)], fmt="xywh")
    with pytest.raises(InvalidAnnotationError, match=r"gt should have shape \(n, 4\)"):
        fastap.assign(A, cp.zeros((3, 5)))
    with pytest.raises(InvalidAnnotationError, match="same length"):
        fastap.assign([A, A], [cp.asarray(gt)])
    with pytest.raises(InvalidAnnotationError, match="gt should be a list"):
        fastap.assign([A], cp.asarray(gt))
    with pytest.raises(InvalidTypeError, match="num_threads is for the CPU path"):
        fastap.assign(A, cp.asarray(gt), num_threads=2)
    with pytest.raises(InvalidAnnotationError, match="rule='ssd' is SSDMatcher"):
        fastap.assign(A, cp.asarray(gt), high=0.5, low=0.4, rule="ssd")
    with pytest.raises(InvalidAnnotationError, match="fmt should be"):
        fastap.assign(A, cp.asarray(gt), fmt="yxyx")
    with pytest.raises(InvalidTypeError, match="gt should hold real numbers"):
        fastap.assign(A, cp.asarray(np.zeros((2, 4), dtype=bool)))


def test_gpu_torch_assign():
    """torch CUDA tensors in, torch tensors out (on the caller's stream), equal to the CPU
    path."""
    torch = pytest.importorskip("torch")
    if not (cuda.is_available() and torch.cuda.is_available()):
        pytest.skip("no CUDA device, CuPy, or CUDA build of torch")
    rng = np.random.default_rng(25)
    anchors, random_gt = _assign_case(rng)
    gts = [random_gt(rng, g) for g in (5, 0, 300)]
    for dtype in ("float32", "float64"):
        ta = torch.from_numpy(anchors.astype(dtype)).cuda()
        tg = [torch.from_numpy(g.astype(dtype)).cuda() for g in gts]
        s = torch.cuda.Stream()
        with torch.cuda.stream(s):
            m, v = fastap.assign(ta, tg, high=0.7, low=0.3, allow_low_quality_matches=True)
        s.synchronize()
        assert isinstance(m, torch.Tensor) and m.is_cuda and m.dtype == torch.int64
        assert v.dtype == getattr(torch, dtype)
        want = fastap.assign(anchors.astype(dtype), gts, high=0.7, low=0.3, allow_low_quality_matches=True)
        assert np.array_equal(m.cpu().numpy(), want[0]) and bits_equal(v.cpu().numpy(), want[1].astype(dtype))
        m, v = fastap.assign(ta, tg[2], high=0.5, rule="ssd")
        want = fastap.assign(anchors.astype(dtype), gts[2], high=0.5, rule="ssd")
        assert np.array_equal(m.cpu().numpy(), want[0]) and bits_equal(v.cpu().numpy(), want[1].astype(dtype))


def test_device_box_checks_name_the_box_without_a_device():
    """box_iou's and assign's device-side input checks (one function, two message forms)
    run here on NumPy standing in for CuPy: the first bad box of the first array that has
    one is named, non-finite before negative; good boxes pass."""
    import types

    from fastap import cuda as fc
    cp = types.SimpleNamespace(isfinite=np.isfinite, flatnonzero=np.flatnonzero, asnumpy=np.asarray)
    good = np.array([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 4.0]])
    nan = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, np.nan, 1.0]])
    neg = np.array([[0.0, 0.0, 1.0, 1.0], [5.0, 0.0, 1.0, 1.0]])
    fc._validate_boxes(cp, {"a": good, "b": good[:0]}, "xyxy")
    fc._check_assign_boxes(cp, [(["anchors[0]"], [good]), (["gt[0]", "gt[1]"], [good, good])], "xywh")
    with pytest.raises(InvalidAnnotationError, match=r"^b box 1 is not finite: \[0.0, 0.0, nan, 1.0\]$"):
        fc._validate_boxes(cp, {"a": good, "b": nan}, "xyxy")
    with pytest.raises(InvalidAnnotationError,
                       match=r"^boxes with negative width or height \(fmt='xyxy'\): a box 1 is \[5.0, 0.0, 1.0, 1.0\]$"):
        fc._validate_boxes(cp, {"a": neg, "b": nan}, "xyxy")
    with pytest.raises(InvalidAnnotationError,
                       match=r"^gt\[1\]: boxes with negative width or height \(fmt='xyxy'\): box 1 is \[5.0, 0.0"):
        fc._check_assign_boxes(cp, [(["anchors[0]"], [good]), (["gt[0]", "gt[1]"], [good, neg])], "xyxy")
    with pytest.raises(InvalidAnnotationError, match=r"^gt\[0\] box 1 is not finite"):
        fc._check_assign_boxes(cp, [(["gt[0]"], [nan])], "xywh")

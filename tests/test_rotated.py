"""fastap.rotated_iou / fastap.quad_iou: exact IoU of rotated boxes and quadrilaterals.

Oracle: shapely (GEOS) polygon intersection, on polygons built here from the documented
convention with an independent formula (a rotation matrix). Tolerance: 1e-9 relative on
the IoU, with an absolute floor of 1e-13 for IoUs at rounding level (an overlap that is a
sliver of width ~1e-16 of the coordinates has no meaningful relative error); observed
errors are about 1e-15 typically, 1e-11 at worst on tiny overlaps. Exact values (0 and 1,
to the bit) where the geometry gives them exactly: disjoint or touching boxes, zero-area
boxes, a box and itself or the same corners under another parametrisation.

The CUDA kernel (csrc/cuda/rotated_iou.cu) is checked as box_iou.cu is in test_cuda.py:
nvcc -ptx where nvcc exists, NVRTC where CuPy exists, and everywhere its source compiled
as C++ over tests/cuda_emu/cuda_emu.h, driven by fastap.rotated's own launch code (through
the stand-in CuPy of tests/cuda_emu/fake_cupy.py), equal bit for bit to the C path.
"""
import ctypes
import importlib.util
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import fastap
from fastap import rotated
from fastap.errors import DeviceError, InvalidAnnotationError, InvalidOptionError, InvalidTypeError

shapely = pytest.importorskip("shapely")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CU = os.path.join(ROOT, "csrc", "cuda", "rotated_iou.cu")
RTOL, ATOL = 1e-9, 1e-13


# ---- the oracle -----------------------------------------------------------------------

def corners(boxes, rad=False):
    """(n, 4, 2) corners of XYWHA boxes: detectron2's convention, written as a rotation
    matrix [[c, s], [-s, c]] applied to the unrotated corners (y axis down, CCW on screen)."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 5)
    t = b[:, 4] if rad else np.deg2rad(b[:, 4])
    c, s = np.cos(t), np.sin(t)
    local = np.array([[0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5], [0.5, -0.5]])
    dx = local[None, :, 0] * b[:, None, 2]
    dy = local[None, :, 1] * b[:, None, 3]
    x = b[:, None, 0] + c[:, None] * dx + s[:, None] * dy
    y = b[:, None, 1] - s[:, None] * dx + c[:, None] * dy
    return np.stack([x, y], axis=2)


def shapely_iou(pa, pb):
    """IoU matrix of (n, k, 2) and (m, k, 2) vertex arrays by shapely."""
    A = shapely.polygons(np.asarray(pa))
    B = shapely.polygons(np.asarray(pb))
    inter = shapely.area(shapely.intersection(A[:, None], B[None, :]))
    aa, ab = shapely.area(A), shapely.area(B)
    union = aa[:, None] + ab[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def assert_close(got, want):
    assert got.shape == want.shape and got.dtype == np.float64
    assert ((got >= 0) & (got <= 1)).all()
    err = np.abs(got - want)
    bad = err > RTOL * want + ATOL
    assert not bad.any(), (np.argwhere(bad)[:5], got[bad][:5], want[bad][:5])


def random_boxes(rng, n, spread=40.0):
    """Many overlapping boxes: centres in a small square, sizes 0.5..30, any angle
    (beyond +-360 too); some rounded to integers (exact touching, shared edges)."""
    b = np.c_[rng.uniform(0, spread, (n, 2)), rng.uniform(0.5, 30, (n, 2)), rng.uniform(-800, 800, n)]
    r = rng.random(n) < 0.3
    b[r] = np.round(b[r])
    return b


# ---- rotated boxes against shapely ----------------------------------------------------

def test_random_boxes_equal_shapely():
    rng = np.random.default_rng(0)
    a, b = random_boxes(rng, 160), random_boxes(rng, 140)
    got = fastap.rotated_iou(a, b)
    want = shapely_iou(corners(a), corners(b))
    assert (want > 0).mean() > 0.3          # most pairs overlap
    assert_close(got, want)
    # radians: the same boxes
    ar, br = a.copy(), b.copy()
    ar[:, 4], br[:, 4] = np.deg2rad(a[:, 4]), np.deg2rad(b[:, 4])
    assert_close(fastap.rotated_iou(ar, br, angle_unit="rad"), shapely_iou(corners(ar, True), corners(br, True)))
    # threads (above ROT_PAIRS_SERIAL_BELOW): row chunks on any number of threads, same bits
    a2, b2 = random_boxes(rng, 300), random_boxes(rng, 200)
    assert a2.shape[0] * b2.shape[0] >= fastap._core.ROT_PAIRS_SERIAL_BELOW
    assert np.array_equal(fastap.rotated_iou(a2, b2, num_threads=1), fastap.rotated_iou(a2, b2, num_threads=3))


def test_identical_and_equivalent_boxes_give_exactly_one():
    rng = np.random.default_rng(1)
    a = random_boxes(rng, 50)
    assert (np.diag(fastap.rotated_iou(a, a)) == 1.0).all()
    # the same corners under another parametrisation: a + 360 k, a + 180, (h, w, a + 90),
    # exactly 1 where the angle's sum is exact (angles in 1/4 degrees), and within
    # rounding of 1 where a + 360 k itself rounds
    for angles, exact in ((np.round(a[:, 4] * 4) / 4, True), (a[:, 4], False)):
        a[:, 4] = angles
        for other in (a + [0, 0, 0, 0, 720], a + [0, 0, 0, 0, -360], a + [0, 0, 0, 0, 180],
                      a[:, [0, 1, 3, 2, 4]] + [0, 0, 0, 0, 90]):
            d = np.diag(fastap.rotated_iou(a, other))
            assert (d == 1.0).all() if exact else (d >= 1 - 1e-13).all()
    # detectron2's expectation: a square and itself turned by 90 degrees
    sq = np.array([[10.0, 20.0, 6.0, 6.0, 0.0]])
    assert fastap.rotated_iou(sq, sq + [0, 0, 0, 0, 90])[0, 0] == 1.0
    assert fastap.rotated_iou(sq + [0, 0, 0, 0, 30], sq + [0, 0, 0, 0, 120])[0, 0] == 1.0
    # a square turned by 45 degrees: the octagon against shapely
    assert_close(fastap.rotated_iou(sq, sq + [0, 0, 0, 0, 45]),
                 shapely_iou(corners(sq), corners(sq + [0, 0, 0, 0, 45])))


def test_degenerate_touching_and_nested():
    box = [0.0, 0.0, 10.0, 4.0, 0.0]
    cases = np.array([
        [0, 0, 0, 4, 0], [0, 0, 10, 0, 30], [0, 0, 0, 0, 0],       # zero width / height / both
        [10, 0, 10, 4, 0], [0, 4, 10, 4, 0],                        # share an edge
        [10, 4, 10, 4, 0], [-10, -4, 10, 4, 180],                   # share a corner
        [5 + 2 * np.sqrt(2), 2 + 2 * np.sqrt(2), 4, 4, 45],         # corner on a corner, turned
        [0, 0, 4, 2, 17], [0, 0, 10, 4, 0.0], [0, 0, 20, 8, 0],     # inside, equal, around
        [0, 0, 10, 4, 1e-12], [0, 0, 10, 4, 180 + 1e-9],            # nearly parallel
        [0.1, 0, 10, 4, -1e-10], [3, 1e-13, 10, 4, 0],
    ], dtype=np.float64)
    got = fastap.rotated_iou([box], cases)[0]
    want = shapely_iou(corners([box]), corners(cases))[0]
    assert_close(got[None], want[None])
    assert (got[:6] == 0).all() and got[7] <= 1e-15
    assert got[9] == 1.0 and got[10] == 0.25
    assert got[8] == pytest.approx(8 / 40, rel=1e-15)
    # zero-area boxes give 0 with themselves too
    assert (fastap.rotated_iou(cases[:3], cases[:3]) == 0).all()


def test_nearly_parallel_and_near_identical_stay_in_range():
    rng = np.random.default_rng(2)
    base = random_boxes(rng, 40)
    eps = np.array([0, 1e-15, 1e-12, 1e-9, 1e-6])
    pert = np.concatenate([base + np.c_[rng.normal(0, 1, (40, 4)) * e, rng.normal(0, 1, 40) * e] for e in eps])
    got = fastap.rotated_iou(pert, pert)
    assert ((got >= 0) & (got <= 1)).all()
    # a box against itself moved by 1e-15..1e-12 (relative): IoU within 1e-9 of 1. Here
    # shapely is no oracle: GEOS 3.14.1 (shapely 2.2.0) returns a MULTIPOINT (area 0) as the intersection of
    # boxes 14 and 54 (the same box, its angle 723 degrees one ulp apart)
    for k in (1, 2):
        assert (np.diag(got[:40, 40 * k:40 * k + 40]) >= 1 - 1e-9).all()
    assert shapely.area(shapely.intersection(*shapely.polygons(corners(pert[[14, 54]])))) in (0.0, 391.0)
    far = np.r_[0:40, 120:200]                  # moved by 1e-9 and 1e-6: shapely is exact there
    assert_close(got[np.ix_(far, far)], shapely_iou(corners(pert[far]), corners(pert[far])))


@pytest.mark.parametrize("shift", [1e4, 1e7, 2.0 ** 40])
def test_huge_coordinates(shift):
    """Boxes far from the origin: the oracle is shapely on the same boxes moved back by
    the shift (exact: the centres' difference from the shift is exactly representable),
    so shapely works near the origin while fastap gets the huge coordinates; each pair
    is computed in the frame of one box's centre, so no precision is lost."""
    rng = np.random.default_rng(3)
    off = np.array([shift, -shift, 0, 0, 0])
    a, b = random_boxes(rng, 60) + off, random_boxes(rng, 50) + off
    want = shapely_iou(corners(a - off), corners(b - off))
    assert_close(fastap.rotated_iou(a, b), want)
    if shift < 1e5:         # quads: corners shifted exactly (1e4 + a corner) only here
        qa = corners(a - off).reshape(-1, 8) + np.tile(off[:2], 4)
        qb = corners(b - off).reshape(-1, 8) + np.tile(off[:2], 4)
        assert_close(fastap.quad_iou(qa, qb), shapely_iou((qa - np.tile(off[:2], 4)).reshape(-1, 4, 2),
                                                          (qb - np.tile(off[:2], 4)).reshape(-1, 4, 2)))


# ---- quadrilaterals -------------------------------------------------------------------

def random_quads(rng, n):
    """Convex quads: 4 points on an ellipse at sorted random angles, counter-clockwise or
    clockwise, from a random first vertex (DOTA lists them either way)."""
    ang = np.sort(rng.uniform(0, 2 * np.pi, (n, 4)), axis=1)
    c = rng.uniform(0, 30, (n, 1, 2))
    r = rng.uniform(2, 20, (n, 1, 2))
    pts = c + r * np.stack([np.cos(ang), np.sin(ang)], axis=2)
    for i in range(n):
        pts[i] = np.roll(pts[i], int(rng.integers(4)), axis=0)
        if rng.random() < 0.5:
            pts[i] = pts[i][::-1]
    return pts


def test_quads_equal_shapely_and_vertex_order():
    rng = np.random.default_rng(4)
    qa, qb = random_quads(rng, 120), random_quads(rng, 100)
    got = fastap.quad_iou(qa.reshape(-1, 8), qb.reshape(-1, 8))
    assert_close(got, shapely_iou(qa, qb))
    assert (got > 0).mean() > 0.3
    # another first vertex or the other direction: the same polygon, IoU exactly 1
    other = np.stack([np.roll(q, k, axis=0)[::d] for q, k, d in zip(qa, rng.integers(0, 4, 120),
                                                                   rng.choice([1, -1], 120))])
    assert (np.diag(fastap.quad_iou(qa.reshape(-1, 8), other.reshape(-1, 8))) == 1.0).all()


def test_quads_of_rotated_boxes_equal_rotated_iou():
    rng = np.random.default_rng(5)
    a, b = random_boxes(rng, 40), random_boxes(rng, 30)
    got = fastap.quad_iou(corners(a).reshape(-1, 8), corners(b).reshape(-1, 8))
    assert np.allclose(got, fastap.rotated_iou(a, b), rtol=1e-12, atol=1e-14)


def test_nonconvex_quads_refused_or_hull():
    square = [0, 0, 4, 0, 4, 4, 0, 4]
    bowtie = [0, 0, 4, 4, 4, 0, 0, 4]              # the square's points in a crossing order
    dart = [0, 0, 4, 0, 1, 1, 0, 4]                 # a reflex vertex at (1, 1)
    with pytest.raises(InvalidAnnotationError, match=r"q2 quad 1 is not convex .*nonconvex='hull'"):
        fastap.quad_iou([square], [square, bowtie])
    with pytest.raises(InvalidAnnotationError, match=r"q1 quad 0 is not convex.*\[0.0, 0.0, 4.0, 0.0, 1.0"):
        fastap.quad_iou([dart], [square])
    got = fastap.quad_iou([square], [bowtie, dart], nonconvex="hull")
    assert got[0, 0] == 1.0
    hull = shapely.convex_hull(shapely.MultiPoint(np.reshape(dart, (4, 2))))
    assert got[0, 1] == pytest.approx(hull.area / 16, rel=1e-15)
    # degenerate quads are convex, of area 0: collinear, repeated, a triangle (area > 0)
    deg = np.array([[0, 0, 1, 1, 2, 2, 3, 3], [1, 1, 1, 1, 1, 1, 1, 1], [0, 0, 4, 0, 4, 0, 0, 4]], float)
    got = fastap.quad_iou(deg, [square])[:, 0]
    assert got[0] == 0 and got[1] == 0 and got[2] == pytest.approx(0.5, rel=1e-15)
    # rounding-level reflex: a convex quad with a point 1e-14 inside an edge is accepted
    near = [0, 0, 2, 1e-14, 4, 0, 0, 4]
    assert fastap.quad_iou([near], [square])[0, 0] == pytest.approx(0.5, rel=1e-12)


# ---- inputs and errors ----------------------------------------------------------------

def test_dtypes_shapes_and_errors():
    rng = np.random.default_rng(6)
    a = random_boxes(rng, 20)
    f32 = a.astype(np.float32)
    got = fastap.rotated_iou(f32, f32[:5])
    assert got.dtype == np.float64 and np.array_equal(got, fastap.rotated_iou(f32.astype(np.float64), f32[:5].astype(np.float64)))
    assert fastap.rotated_iou(np.zeros((0, 5)), a).shape == (0, 20)
    assert fastap.rotated_iou(a, []).shape == (20, 0)
    assert fastap.quad_iou([], np.zeros((3, 8))).shape == (0, 3)
    assert fastap.rotated_iou(a.tolist()[:2], np.round(a[:3]).astype(np.int64)).shape == (2, 3)
    torch = pytest.importorskip("torch")
    assert np.array_equal(fastap.rotated_iou(torch.from_numpy(a), torch.from_numpy(a)), fastap.rotated_iou(a, a))
    with pytest.raises(InvalidAnnotationError, match=r"boxes1 should have shape \(n, 5\), got \(20, 4\)"):
        fastap.rotated_iou(a[:, :4], a)
    with pytest.raises(InvalidAnnotationError, match=r"q2 should have shape \(n, 8\)"):
        fastap.quad_iou(np.zeros((1, 8)), np.zeros((1, 5)))
    with pytest.raises(InvalidTypeError, match="boxes2 should hold real numbers"):
        fastap.rotated_iou(a, np.array([["a"] * 5]))
    with pytest.raises(InvalidAnnotationError, match=r"boxes2 box 1 is not finite: \[0.0, 0.0, 1.0, 1.0, nan\]"):
        fastap.rotated_iou(a, [[0, 0, 1, 1, 0], [0, 0, 1, 1, np.nan]])
    with pytest.raises(InvalidAnnotationError, match=r"boxes1 box 0 has a negative width or height"):
        fastap.rotated_iou([[0, 0, -1, 1, 0]], a)
    with pytest.raises(InvalidAnnotationError, match=r"q1 quad 0 is not finite"):
        fastap.quad_iou([[0, 0, 1, 0, 1, np.inf, 0, 1]], np.zeros((1, 8)))
    # sizes whose products would overflow: refused, rather than an IoU from inf and NaN
    with pytest.raises(InvalidAnnotationError, match=r"boxes2 box 1 spans more than 1e\+150"):
        fastap.rotated_iou(a, [[0, 0, 1, 1, 0], [0, 0, 1e200, 1e200, 0]])
    with pytest.raises(InvalidAnnotationError, match=r"q1 quad 0 spans more than 1e\+150"):
        fastap.quad_iou([[-1e308, 0, 1e308, 0, 1e308, 1, -1e308, 1]], np.zeros((1, 8)))
    big = [[1e308, -1e308, 1e150, 1e150, 33.0], [-1e308, 0, 1e150, 1e149, 0.0]]
    assert np.array_equal(fastap.rotated_iou(big, big), np.eye(2))
    q = np.array([[0, 0, 1e150, 0, 1e150, 1e150, 0, 1e150], [1e149, 0, 1e150, 0, 1e150, 1e150, 1e149, 1e150]])
    assert fastap.quad_iou(q, q)[0, 1] == pytest.approx(0.9, rel=1e-14)
    with pytest.raises(InvalidOptionError, match="angle_unit should be 'deg' or 'rad'"):
        fastap.rotated_iou(a, a, angle_unit="degrees")
    with pytest.raises(InvalidOptionError, match="nonconvex should be 'raise' or 'hull'"):
        fastap.quad_iou(np.zeros((1, 8)), np.zeros((1, 8)), nonconvex="skip")


def test_exported():
    assert "rotated_iou" in fastap.__all__ and "quad_iou" in fastap.__all__
    assert fastap.rotated_iou is rotated.rotated_iou and fastap.quad_iou.__doc__


# ---- the CUDA kernel: compile checks ----------------------------------------------------

def test_nvcc_ptx(tmp_path):
    """nvcc -ptx of rotated_iou.cu as shipped to NVRTC (rotated_pair.h inlined) and as in
    the tree (-I csrc), for each of sm_70/80/90 this nvcc supports (CUDA 13 dropped sm_70:
    there it must be refused for that reason, and NVRTC checks Volta). No fused
    multiply-add in the pair kernel (the C path's rounding); sin/cos of the record kernel
    are CUDA's own (they use fma internally)."""
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc is not on the PATH: the CUDA compile check needs the CUDA toolkit")
    listed = subprocess.run([nvcc, "--list-gpu-arch"], capture_output=True, text=True, check=True).stdout
    supported = {int(x) for x in re.findall(r"compute_(\d+)", listed)}
    src = tmp_path / "rotated_inlined.cu"
    src.write_text(rotated.kernel_source())
    checked = 0
    for arch in (70, 80, 90):
        cmd = [nvcc, "-ptx", "-arch=sm_%d" % arch, "-fmad=false", "-prec-div=true", "-ftz=false"]
        for extra, path in (([], str(src)), (["-I", os.path.join(ROOT, "csrc")], CU)):
            out = tmp_path / ("k%d.ptx" % arch)
            r = subprocess.run(cmd + extra + ["-o", str(out), path], capture_output=True, text=True)
            if arch not in supported:
                assert arch == 70 and r.returncode != 0 and "sm_70" in r.stderr, r.stderr
                continue
            assert r.returncode == 0, r.stderr
            ptx = out.read_text()
            entries = dict(re.findall(r"\.entry (\w+)\s*\((.*?)\n}\n", ptx, re.S))
            assert sorted(entries) == ["fa_rot_iou", "fa_rot_quad_records", "fa_rot_rbox_records"]
            assert not re.search(r"\bfma\.", entries["fa_rot_iou"] + entries["fa_rot_quad_records"])
            assert "div.rn.f64" in entries["fa_rot_iou"]
            checked += 1
    assert checked >= 4


def test_nvrtc_ptx():
    try:
        from cupy.cuda import nvrtc
        nvrtc.getVersion()
    except Exception as e:
        pytest.skip("NVRTC (CuPy) is not available (%s): pip install 'fastap[cuda]'" % type(e).__name__)
    for arch in (70, 80, 90):
        prog = nvrtc.createProgram(rotated.kernel_source(), "rotated_iou.cu", (), ())
        try:
            nvrtc.compileProgram(prog, tuple(fastap.cuda.NVRTC_OPTIONS) + ("--gpu-architecture=compute_%d" % arch,))
        finally:
            nvrtc.destroyProgram(prog)


def test_shipped_source_and_headers():
    cu, h = rotated._source_paths()
    with open(CU) as f:
        want = f.read()
    with open(cu) as f:
        assert f.read() == want
    includes = re.findall(r'#\s*include\s*[<"]([^>"]+)', want)
    assert includes == ["rotated_pair.h"]
    with open(h) as f:
        header = f.read()
    assert "#include" not in header and rotated.kernel_source() == want.replace('#include "rotated_pair.h"', header)


# ---- the CUDA kernel on the CPU (emulation) -------------------------------------------

@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    cxx = next((shutil.which(c) for c in ("g++", "c++", "clang++") if shutil.which(c)), None)
    if cxx is None:
        pytest.skip("no C++ compiler (g++/c++/clang++) to build the CUDA emulation test")
    out = tmp_path_factory.mktemp("rot_emu") / "rotated_iou_emu.so"
    emu_dir = os.path.join(ROOT, "tests", "cuda_emu")
    cmd = [cxx, "-std=c++17", "-O1", "-ffp-contract=off", "-pthread", "-shared", "-fPIC", "-I" + emu_dir,
           "-I" + os.path.join(ROOT, "csrc"), "-I" + os.path.join(ROOT, "csrc", "cuda"),
           os.path.join(emu_dir, "rotated_iou_emu.cpp"), "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lib = ctypes.CDLL(str(out))
    vp, i64, u = ctypes.c_void_p, ctypes.c_longlong, ctypes.c_uint
    lib.fa_emu_rot_records.argtypes = [ctypes.c_int, u, u, vp, i64, ctypes.c_int, vp]
    lib.fa_emu_rot_iou.argtypes = [u, u, u, u, vp, i64, vp, i64, vp, i64]
    assert [lib.fa_emu_rot_constant(i) for i in range(4)] == [32, 8, 128, fastap._core.ROT_RECORD]
    return lib


def fake_cupy(lib):
    """tests/cuda_emu/fake_cupy.py's stand-in CuPy with a RawModule whose kernels are the
    emulated rotated_iou.cu."""
    spec = importlib.util.spec_from_file_location("fastap_test_fake_cupy_rot",
                                                  os.path.join(ROOT, "tests", "cuda_emu", "fake_cupy.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cp = mod.make(None)
    launches = cp.launches

    def call(name, grid, block, args):
        for x in args:
            if isinstance(x, np.ndarray):
                assert type(x) is cp.ndarray and x.dtype == np.float64     # device arrays only
        launches.append((name, grid, block))
        p = [x.ctypes.data if isinstance(x, np.ndarray) else int(x) for x in args]
        if name == "fa_rot_iou":
            assert grid[2] == 1 and block[2] == 1
            rc = lib.fa_emu_rot_iou(grid[0], grid[1], block[0], block[1], *p)
        elif name == "fa_rot_rbox_records":
            rc = lib.fa_emu_rot_records(0, grid[0], block[0], *p)
        else:
            rc = lib.fa_emu_rot_records(1, grid[0], block[0], p[0], p[1], 0, p[2])
        assert rc == 0

    class RawModule:
        def __init__(self, code, options=()):
            assert "--fmad=false" in options and 'extern "C" __global__' in code
            self.code = code

        def get_function(self, name):
            assert name in self.code
            return lambda grid, block, args: call(name, grid, block, args)

    cp.RawModule = RawModule
    return cp


@pytest.fixture
def cp(emu, monkeypatch):
    fake = fake_cupy(emu)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.setattr(rotated, "_MODULES", {})
    return fake


def test_emulated_kernels_equal_c_path_bitwise(cp, monkeypatch):
    rng = np.random.default_rng(7)
    a, b = random_boxes(rng, 37), random_boxes(rng, 70)
    b[:3] = a[:3]
    b[5, 2] = 0.0
    want = fastap.rotated_iou(a, b)
    got = fastap.rotated_iou(cp.asarray(a), cp.asarray(b))
    assert type(got) is cp.ndarray and got.dtype == np.float64 and np.array_equal(np.asarray(got), want)
    rad = fastap.rotated_iou(cp.asarray(a), cp.asarray(b), angle_unit="rad")
    assert np.array_equal(np.asarray(rad), fastap.rotated_iou(a, b, angle_unit="rad"))
    # the records themselves, and launches split along rows (grid.y capped at 1 tile)
    dev_rec = rotated.records_on_device(cp, cp.asarray(a), "box")
    assert np.array_equal(np.asarray(dev_rec), fastap._core.rotated_records(a))
    chunked = rotated.iou_on_device(cp, dev_rec, rotated.records_on_device(cp, cp.asarray(b), "box"), max_grid_y=1)
    assert np.array_equal(np.asarray(chunked), want)
    assert {x[0] for x in cp.launches} == {"fa_rot_rbox_records", "fa_rot_iou"}
    qa, qb = random_quads(rng, 33).reshape(-1, 8), random_quads(rng, 41).reshape(-1, 8)
    got = fastap.quad_iou(cp.asarray(qa), cp.asarray(qb.astype(np.float32)))
    assert np.array_equal(np.asarray(got), fastap.quad_iou(qa, qb.astype(np.float32)))
    assert fastap.rotated_iou(cp.zeros((0, 5)), cp.asarray(b)).shape == (0, 70)


def test_emulated_gpu_errors(cp):
    a = cp.asarray(np.ones((2, 5)))
    with pytest.raises(InvalidAnnotationError, match=r"boxes2 box 1 is not finite"):
        fastap.rotated_iou(a, cp.asarray([[0, 0, 1, 1, 0], [0, 0, 1, np.nan, 0]]))
    with pytest.raises(InvalidAnnotationError, match=r"boxes1 box 0 has a negative width"):
        fastap.rotated_iou(cp.asarray([[0, 0, 1, -1, 0.0]]), a)
    with pytest.raises(InvalidAnnotationError, match=r"q1 quad 0 is not convex"):
        fastap.quad_iou(cp.asarray([[0, 0, 4, 4, 4, 0, 0, 4.0]]), cp.asarray([[0, 0, 4, 0, 4, 4, 0, 4.0]]))
    hull = fastap.quad_iou(cp.asarray([[0, 0, 4, 4, 4, 0, 0, 4.0]]), cp.asarray([[0, 0, 4, 0, 4, 4, 0, 4.0]]),
                           nonconvex="hull")
    assert float(hull[0, 0]) == 1.0
    with pytest.raises(InvalidAnnotationError, match=r"boxes2 should have shape \(n, 5\)"):
        fastap.rotated_iou(a, cp.zeros((3, 4)))
    with pytest.raises(DeviceError, match="host array"):
        fastap.rotated_iou(a, np.ones((2, 5)))
    with pytest.raises(InvalidTypeError, match="num_threads is for the CPU path"):
        fastap.rotated_iou(a, a, num_threads=2)


def test_without_cupy(monkeypatch, emu):
    fake = fake_cupy(emu)
    x = fake.asarray(np.ones((1, 5)))
    monkeypatch.setitem(sys.modules, "cupy", None)
    with pytest.raises(ImportError, match=r"needs CuPy: pip install 'fastap\[cuda\]'"):
        fastap.rotated_iou(x, x)


def test_on_a_cuda_device():
    """Where a CUDA device and CuPy exist: the GPU against the CPU path (quads bit for bit;
    rotated boxes to rounding, CUDA's sin/cos being its own)."""
    if not fastap.cuda.is_available():
        pytest.skip("no CUDA device (or CuPy): the same checks ran on the emulated kernel")
    import cupy
    rng = np.random.default_rng(8)
    a, b = random_boxes(rng, 300), random_boxes(rng, 200)
    got = cupy.asnumpy(fastap.rotated_iou(cupy.asarray(a), cupy.asarray(b)))
    assert np.allclose(got, fastap.rotated_iou(a, b), rtol=1e-12, atol=1e-14)
    qa, qb = random_quads(rng, 100).reshape(-1, 8), random_quads(rng, 90).reshape(-1, 8)
    got = cupy.asnumpy(fastap.quad_iou(cupy.asarray(qa), cupy.asarray(qb)))
    assert np.array_equal(got, fastap.quad_iou(qa, qb))

"""Rotated IoU benchmark: fastap.rotated_iou / quad_iou against shapely (GEOS polygon
intersection, vectorised over all pairs with shapely 2's array functions) and against a
vectorised NumPy clipping of all pairs (numpy_rotated_iou below), n x m pairs.

    python -m bench.rotated [--n 1000] [--m 1000] [--repeat 3] [--threads N]
                            [--shapely-rows 1000]

Two scenes: "aerial" (boxes of 8-120 px at any angle in a 1024 x 1024 image, as DOTA:
few pairs overlap) and "dense" (centres in a 60 x 60 square: most pairs overlap, every
pair is clipped). Each row: median of --repeat calls after one warm-up, the time per
pair, and shapely's time over fastap's. shapely runs on the first --shapely-rows rows
(its time scaled to n x m) and its IoUs are compared with fastap's (max abs difference).
Peak memory: what one call allocates through Python's and NumPy's allocators
(tracemalloc; shapely's geometries are Python objects and are seen, GEOS's own heap is not).
Where CuPy and a CUDA device exist, a GPU row is added.
"""
import argparse
import statistics
import time

import numpy as np

import fastap
from fastap.threads import thread_count


def _median(fn, repeat, sync=lambda: None):
    fn()
    sync()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _peak_mb(fn):
    """Peak memory one call allocates through Python's and NumPy's allocators (tracemalloc:
    arrays, Python objects such as shapely's geometries; not GEOS's own C++ heap)."""
    import tracemalloc
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()


def make_boxes(rng, n, scene):
    if scene == "aerial":
        xy = rng.uniform(0, 1024, (n, 2))
        wh = rng.uniform(8, 120, (n, 2))
    else:
        xy = rng.uniform(0, 60, (n, 2))
        wh = rng.uniform(5, 40, (n, 2))
    return np.c_[xy, wh, rng.uniform(-180, 180, n)]


def corners(b):
    """(n, 4, 2) corners in detectron2's convention (fastap.rotated's docstring)."""
    t = np.deg2rad(b[:, 4])
    c, s = np.cos(t)[:, None], np.sin(t)[:, None]
    dx = np.array([0.5, -0.5, -0.5, 0.5])[None] * b[:, None, 2]
    dy = np.array([0.5, 0.5, -0.5, -0.5])[None] * b[:, None, 3]
    return np.stack([b[:, None, 0] + c * dx + s * dy, b[:, None, 1] - s * dx + c * dy], axis=2)


def shapely_iou(shapely, pa, pb):
    A, B = shapely.polygons(pa), shapely.polygons(pb)
    inter = shapely.area(shapely.intersection(A[:, None], B[None, :]))
    aa, ab = shapely.area(A), shapely.area(B)
    return inter / (aa[:, None] + ab[None, :] - inter)


def _clip_np(px, py, cnt, ox, oy, ex, ey):
    """One Sutherland-Hodgman step for P polygons at once: (P, K) vertices, cnt valid per
    row, clipped to the left of the edges (ox, oy) + t (ex, ey) (each (P,))."""
    P, K = px.shape
    idx = np.arange(K)[None, :]
    valid = idx < cnt[:, None]
    prev = np.where(idx == 0, cnt[:, None] - 1, idx - 1).clip(0)
    s = ex[:, None] * (py - oy[:, None]) - ey[:, None] * (px - ox[:, None])
    sp = np.take_along_axis(s, prev, 1)
    xp, yp = np.take_along_axis(px, prev, 1), np.take_along_axis(py, prev, 1)
    cross = valid & (((sp > 0) & (s < 0)) | ((sp < 0) & (s > 0)))
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(cross, sp / np.where(cross, sp - s, 1), 0)
    # interleaved candidates: the crossing point before vertex i, then vertex i
    cx = np.stack([xp + t * (px - xp), px], axis=2).reshape(P, 2 * K)
    cy = np.stack([yp + t * (py - yp), py], axis=2).reshape(P, 2 * K)
    keep = np.stack([cross, valid & (s >= 0)], axis=2).reshape(P, 2 * K)
    order = np.argsort(~keep, axis=1, kind="stable")[:, :8]
    return np.take_along_axis(cx, order, 1), np.take_along_axis(cy, order, 1), np.minimum(keep.sum(1), 8)


def numpy_rotated_iou(a, b, chunk=1 << 16):
    """A vectorised NumPy rotated IoU (the usual hand-written baseline): every pair's
    clipping as array operations over all pairs, in chunks of `chunk` pairs."""
    ca, cb = corners(a), corners(b)
    area_a, area_b = a[:, 2] * a[:, 3], b[:, 2] * b[:, 3]
    n, m = len(a), len(b)
    out = np.empty(n * m)
    ii, jj = np.divmod(np.arange(n * m), m)
    for p0 in range(0, n * m, chunk):
        i, j = ii[p0:p0 + chunk], jj[p0:p0 + chunk]
        px, py = ca[i, :, 0], ca[i, :, 1]
        cnt = np.full(len(i), 4)
        for e in range(4):
            q0, q1 = cb[j, e], cb[j, (e + 1) % 4]
            px, py, cnt = _clip_np(px, py, cnt, q0[:, 0], q0[:, 1], q1[:, 0] - q0[:, 0], q1[:, 1] - q0[:, 1])
        k = np.arange(px.shape[1])[None, :]
        nxt = np.where(k + 1 < cnt[:, None], k + 1, 0)
        term = px * np.take_along_axis(py, nxt, 1) - np.take_along_axis(px, nxt, 1) * py
        inter = np.where(cnt >= 3, 0.5 * np.where(k < cnt[:, None], term, 0).sum(1), 0).clip(0)
        union = area_a[i] + area_b[j] - inter
        out[p0:p0 + chunk] = np.where(union > 0, inter / np.where(union > 0, union, 1), 0)
    return out.reshape(n, m)


def _gpu_row(a, b, fast, repeat):
    try:
        import cupy as cp
        if not fastap.cuda.is_available():
            return None
    except ImportError:
        return None
    da, db = cp.asarray(a), cp.asarray(b)
    t = _median(lambda: fastap.rotated_iou(da, db), repeat, cp.cuda.Device().synchronize)
    diff = float(np.abs(cp.asnumpy(fastap.rotated_iou(da, db)) - fast).max())
    return t, diff, cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)["name"].decode()


def run_scene(scene, args, shapely):
    rng = np.random.default_rng(0)
    a, b = make_boxes(rng, args.n, scene), make_boxes(rng, args.m, scene)
    pairs = args.n * args.m
    fast = fastap.rotated_iou(a, b, num_threads=args.threads)
    t_fast = _median(lambda: fastap.rotated_iou(a, b, num_threads=args.threads), args.repeat)
    t_one = _median(lambda: fastap.rotated_iou(a, b, num_threads=1), args.repeat)
    qa, qb = corners(a).reshape(-1, 8), corners(b).reshape(-1, 8)
    t_quad = _median(lambda: fastap.quad_iou(qa, qb, num_threads=args.threads), args.repeat)
    print("%s scene: %d x %d pairs, %.1f%% overlapping" % (scene, args.n, args.m, 100 * (fast > 0).mean()))
    print("  fastap rotated_iou, %d threads: %9.2f ms  %7.1f ns/pair"
          % (thread_count(args.threads), t_fast * 1e3, t_fast / pairs * 1e9))
    print("  fastap rotated_iou, 1 thread:   %9.2f ms  %7.1f ns/pair" % (t_one * 1e3, t_one / pairs * 1e9))
    print("  fastap quad_iou (same boxes):   %9.2f ms  %7.1f ns/pair" % (t_quad * 1e3, t_quad / pairs * 1e9))
    print("  fastap peak traced memory: %.1f MB (the %d x %d float64 output: %.1f MB)"
          % (_peak_mb(lambda: fastap.rotated_iou(a, b, num_threads=args.threads)), args.n, args.m, pairs * 8 / 2 ** 20))
    if shapely is not None:
        rows = min(args.shapely_rows, args.n)
        pa, pb = corners(a[:rows]), corners(b)
        t_sh = _median(lambda: shapely_iou(shapely, pa, pb), 1) * args.n / rows
        diff = np.abs(shapely_iou(shapely, pa, pb) - fast[:rows]).max()
        print("  shapely %s (GEOS %s), %d rows scaled: %9.2f ms  %7.1f ns/pair"
              % (shapely.__version__, shapely.geos_version_string, rows, t_sh * 1e3, t_sh / pairs * 1e9))
        print("  shapely / fastap: %.1fx (all threads), %.1fx (1 thread); max |IoU difference| %.2e"
              % (t_sh / t_fast, t_sh / t_one, diff))
        print("  shapely peak traced memory, %d rows: %.1f MB (geometries and arrays; GEOS's heap not seen)"
              % (rows, _peak_mb(lambda: shapely_iou(shapely, pa, pb))))
    ref = numpy_rotated_iou(a, b)
    t_np = _median(lambda: numpy_rotated_iou(a, b), 1)
    print("  NumPy clipping peak traced memory: %.1f MB" % _peak_mb(lambda: numpy_rotated_iou(a, b)))
    print("  vectorised NumPy clipping:      %9.2f ms  %7.1f ns/pair  (%.1fx fastap's time; max |IoU "
          "difference| %.2e)" % (t_np * 1e3, t_np / pairs * 1e9, t_np / t_fast, np.abs(ref - fast).max()))
    gpu = _gpu_row(a, b, fast, args.repeat)
    if gpu is not None:
        print("  fastap on %s: %9.2f ms (max |difference| from the CPU %.2e)" % (gpu[2], gpu[0] * 1e3, gpu[1]))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--m", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--shapely-rows", type=int, default=1000)
    args = p.parse_args(argv)
    try:
        import shapely
    except ImportError:
        shapely = None
        print("shapely is not installed (pip install shapely): fastap rows only")
    for scene in ("aerial", "dense"):
        run_scene(scene, args, shapely)


if __name__ == "__main__":
    main()

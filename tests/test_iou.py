"""fastap.box_iou: bitwise equal to pycocotools' bbIou for xywh, to a NumPy oracle for
the other formats, and the usual properties (hypothesis)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastap
from fastap import reference


def _random_xywh(rng, n, scale=100.0):
    xy = rng.uniform(-scale, scale, size=(n, 2))
    wh = rng.uniform(0, scale, size=(n, 2))
    b = np.concatenate([xy, wh], axis=1)
    b[rng.random(n) < 0.1, 2] = 0.0           # degenerate
    return np.round(b, rng.integers(0, 3))


def numpy_iou_xyxy(a, b):
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = rb - lt
    inter = np.where((wh[..., 0] > 0) & (wh[..., 1] > 0), wh[..., 0] * wh[..., 1], 0.0)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(inter > 0, inter / union, 0.0)


@pytest.mark.parametrize("seed", range(5))
def test_xywh_bitwise_pycocotools(seed):
    mask = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(seed)
    a, b = _random_xywh(rng, 37), _random_xywh(rng, 53)
    crowd = (rng.random(53) < 0.3).astype(np.uint8)
    want = np.asarray(mask.iou(a.tolist(), b.tolist(), crowd.tolist()))
    got = fastap.box_iou(a, b, fmt="xywh", iscrowd=crowd)
    assert got.dtype == np.float64 and got.shape == (37, 53)
    assert np.array_equal(got.view(np.int64), want.view(np.int64))
    assert np.array_equal(got, reference.box_iou_xywh(a, b, crowd))


def test_large_parallel_matches_serial():
    rng = np.random.default_rng(1)
    a, b = _random_xywh(rng, 700), _random_xywh(rng, 500)
    one = fastap.box_iou(a, b, fmt="xywh", num_threads=1)
    two = fastap.box_iou(a, b, fmt="xywh", num_threads=2)
    assert np.array_equal(one, two)
    assert np.array_equal(one, reference.box_iou_xywh(a, b))


def test_formats_agree():
    rng = np.random.default_rng(2)
    a, b = _random_xywh(rng, 20), _random_xywh(rng, 30)
    ax = np.concatenate([a[:, :2], a[:, :2] + a[:, 2:]], axis=1)
    bx = np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)
    got = fastap.box_iou(ax, bx)               # default fmt="xyxy"
    assert np.allclose(got, fastap.box_iou(a, b, fmt="xywh"), rtol=1e-12, atol=1e-12)
    assert np.array_equal(got, numpy_iou_xyxy(ax, bx))
    ac = np.concatenate([a[:, :2] + a[:, 2:] / 2, a[:, 2:]], axis=1)
    bc = np.concatenate([b[:, :2] + b[:, 2:] / 2, b[:, 2:]], axis=1)
    assert np.allclose(fastap.box_iou(ac, bc, fmt="cxcywh"), got, rtol=1e-12, atol=1e-12)


def test_edges_exact():
    a = np.array([[0, 0, 10, 10]], float)
    b = np.array([[10, 0, 10, 10], [0, 0, 20, 10], [0, 0, 10, 10], [2, 2, 0, 5], [0, 0, 10, 7.5]], float)
    got = fastap.box_iou(a, b, fmt="xywh")[0]
    assert got.tolist() == [0.0, 0.5, 1.0, 0.0, 0.75]   # touching, exact 0.5, identical, degenerate, exact 0.75
    # crowd: union is the first box's area
    assert fastap.box_iou([[0, 0, 10, 10]], [[0, 0, 100, 100]], fmt="xywh", iscrowd=[1])[0, 0] == 1.0


def test_empty_and_types():
    assert fastap.box_iou(np.zeros((0, 4)), np.ones((3, 4))).shape == (0, 3)
    assert fastap.box_iou(np.ones((3, 4), np.float32), []).shape == (3, 0)
    assert fastap.box_iou([[0, 0, 1, 1]], [[0, 0, 1, 1]]).tolist() == [[1.0]]


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"b should have shape \(n, 4\), got \(2, 3\)"):
        fastap.box_iou(np.zeros((1, 4)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="a box 1 is not finite"):
        fastap.box_iou([[0, 0, 1, 1], [0, np.nan, 1, 1]], [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="negative width"):
        fastap.box_iou([[0, 0, -1, 1]], [[0, 0, 1, 1]], fmt="xywh")
    with pytest.raises(TypeError, match="should hold numbers"):
        fastap.box_iou([["a", "b", "c", "d"]], [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="fmt should be"):
        fastap.box_iou([[0, 0, 1, 1]], [[0, 0, 1, 1]], fmt="yxyx")
    with pytest.raises(ValueError, match="one flag per box"):
        fastap.box_iou([[0, 0, 1, 1]], [[0, 0, 1, 1]], iscrowd=[0, 1])


# pixel coordinates with two decimals, as detectors write them
coord = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False).map(lambda v: round(v, 2))
size = st.floats(min_value=0, max_value=1e4, allow_nan=False).map(lambda v: round(v, 2))
box = st.tuples(coord, coord, size, size)


@settings(max_examples=200, deadline=None)
@given(st.lists(box, min_size=1, max_size=8), st.lists(box, min_size=1, max_size=8))
def test_properties(a, b):
    a, b = np.array(a), np.array(b)
    ab = fastap.box_iou(a, b, fmt="xywh")
    ba = fastap.box_iou(b, a, fmt="xywh")
    # pycocotools' xywh arithmetic recomputes x + w, so an IoU can exceed 1 by rounding
    assert ((ab >= 0) & (ab <= 1 + 1e-9)).all()
    assert np.array_equal(ab, ba.T)                       # symmetric
    assert np.array_equal(ab, reference.box_iou_xywh(a, b))
    self_iou = np.diag(fastap.box_iou(a, a, fmt="xywh"))
    assert np.all((np.abs(self_iou - 1.0) < 1e-9) | (self_iou == 0.0))
    # corner boxes: exactly within [0, 1], identical boxes exactly 1
    ax = np.concatenate([a[:, :2], a[:, :2] + a[:, 2:]], axis=1)
    bx = np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)
    xy = fastap.box_iou(ax, bx)
    assert ((xy >= 0) & (xy <= 1)).all()
    assert np.array_equal(xy, fastap.box_iou(bx, ax).T)
    assert np.array_equal(xy, numpy_iou_xyxy(ax, bx))
    d = np.diag(fastap.box_iou(ax, ax))
    area = (ax[:, 2] - ax[:, 0]) * (ax[:, 3] - ax[:, 1])
    assert np.all((d == 1.0) | (area == 0))


def test_xyxy_vectorised_row_equals_the_pair_formula():
    """Corner boxes without crowd flags run a branch-free row (csrc/iou.c, vectorised):
    bit for bit the per-pair formula, which the crowd path (flags all 0) still runs, on
    touching, nested, zero-size and signed-zero boxes, and equal to the reference."""
    rng = np.random.default_rng(17)
    fixed = np.array([[0, 0, 10, 10], [10, 0, 20, 10], [0, 10, 10, 20], [-0.0, -0.0, 0.0, 0.0],
                      [0.0, -0.0, 5, 5], [-5, -5, -0.0, -0.0], [2, 2, 2, 8], [3, 3, 9, 3],
                      [1e-150, 1e-150, 3e-150, 3e-150], [0.1, 0.2, 0.30000000000000004, 0.9]], float)
    xy = np.round(rng.uniform(-30, 30, size=(600, 2)), 1)
    wh = np.round(rng.uniform(0, 25, size=(600, 2)), 1)
    wh[rng.random(600) < 0.1, 0] = 0.0
    boxes = np.concatenate([fixed, np.concatenate([xy, xy + wh], axis=1)])
    a, b = boxes[::2].copy(), boxes[1::2].copy()
    for x, y in ((a, b), (b, a), (boxes, boxes[:300])):      # tiles of 256 columns and a ragged one
        got = fastap.box_iou(x, y)
        scalar = fastap.box_iou(x, y, iscrowd=np.zeros(len(y)))
        assert np.array_equal(got.view(np.uint64), scalar.view(np.uint64))
        assert (got >= 0).all() and (got <= 1).all()
    small = boxes[:40]
    want = np.zeros((40, 40))
    for i, p in enumerate(small.tolist()):        # the formula, pair by pair, in Python floats
        for j, q in enumerate(small.tolist()):
            w = min(p[2], q[2]) - max(p[0], q[0])
            h = min(p[3], q[3]) - max(p[1], q[1])
            if w > 0 and h > 0:
                area_p, area_q = (p[2] - p[0]) * (p[3] - p[1]), (q[2] - q[0]) * (q[3] - q[1])
                want[i, j] = w * h / (area_p + area_q - w * h)
    assert np.array_equal(fastap.box_iou(small, small), want)

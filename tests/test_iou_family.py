"""The IoU family on the CPU: box_iou(kind="giou"|"diou"|"ciou", aligned=True) and
generalized_box_iou / distance_box_iou / complete_box_iou against torchvision's.

The oracle is torchvision.ops where it imports; torchvision is an optional CUDA-built
package on some machines (this project's carry a CPU torch that its wheels do not load), so
otherwise it is ``TV`` below: torchvision's functions re-written in torch from its source's
operations, in its order (box_convert, _box_inter_union, _box_diou_iou, generalized_box_iou,
complete_box_iou), checked equal bit for bit to torchvision 0.28's Python code when written.

Tolerances (see fastap.generalized_box_iou's docstring):
- float64 boxes: GIoU and DIoU bit for bit; CIoU within 1e-15 absolute (atan: the C
  library's against torch's, each about 1 ulp from exact; v and alpha are <= 1).
- float32 boxes: torchvision computes in float32, fastap in float64 and rounds once (to a
  float64 result here): they differ by float32 rounding of torchvision's intermediate
  terms, a few float32 epsilons (1.2e-7) relative to the terms' size; with coordinates
  within +-100 and extents up to 80 that is below 1e-5 absolute, the bound used.
- where torchvision divides 0 by 0 (NaN), fastap's defined values are checked instead.
"""
import math

import numpy as np
import pytest

import fastap

torch = pytest.importorskip("torch")

KINDS = ["giou", "diou", "ciou"]
FORMATS = ["xyxy", "xywh", "cxcywh"]


class TV:
    """torchvision.ops' generalized_box_iou, distance_box_iou, complete_box_iou and
    box_convert, operation for operation (float64 or float32 tensors, as torchvision)."""

    @staticmethod
    def box_convert(x, in_fmt, out_fmt="xyxy"):
        if in_fmt == "xywh":
            return torch.stack([x[:, 0], x[:, 1], x[:, 0] + x[:, 2], x[:, 1] + x[:, 3]], dim=-1)
        if in_fmt == "cxcywh":
            cx, cy, w, h = x.unbind(-1)
            return torch.stack((cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h), dim=-1)
        return x

    @staticmethod
    def _inter_union(b1, b2):
        area1 = (b1[:, 2] - b1[:, 0]) * (b1[:, 3] - b1[:, 1])
        area2 = (b2[:, 2] - b2[:, 0]) * (b2[:, 3] - b2[:, 1])
        lt = torch.max(b1[:, None, :2], b2[None, :, :2])
        rb = torch.min(b1[:, None, 2:], b2[None, :, 2:])
        wh = (rb - lt).clamp(min=0)
        inter = wh[..., 0] * wh[..., 1]
        return inter, area1[:, None] + area2[None, :] - inter

    @staticmethod
    def _enclosing(b1, b2):
        lti = torch.min(b1[:, None, :2], b2[None, :, :2])
        rbi = torch.max(b1[:, None, 2:], b2[None, :, 2:])
        return (rbi - lti).clamp(min=0)

    @classmethod
    def generalized_box_iou(cls, b1, b2):
        inter, union = cls._inter_union(b1, b2)
        iou = inter / union
        whi = cls._enclosing(b1, b2)
        areai = whi[..., 0] * whi[..., 1]
        return iou - (areai - union) / areai

    @classmethod
    def _diou_iou(cls, b1, b2, eps):
        inter, union = cls._inter_union(b1, b2)
        iou = inter / union
        whi = cls._enclosing(b1, b2)
        diag = (whi[..., 0] ** 2) + (whi[..., 1] ** 2) + eps
        x_p, y_p = (b1[:, 0] + b1[:, 2]) / 2, (b1[:, 1] + b1[:, 3]) / 2
        x_g, y_g = (b2[:, 0] + b2[:, 2]) / 2, (b2[:, 1] + b2[:, 3]) / 2
        dist = ((x_p[:, None] - x_g[None, :]) ** 2) + ((y_p[:, None] - y_g[None, :]) ** 2)
        return iou - (dist / diag), iou

    @classmethod
    def distance_box_iou(cls, b1, b2, eps=1e-7):
        return cls._diou_iou(b1, b2, eps)[0]

    @classmethod
    def complete_box_iou(cls, b1, b2, eps=1e-7):
        diou, iou = cls._diou_iou(b1, b2, eps)
        w_pred, h_pred = b1[:, None, 2] - b1[:, None, 0], b1[:, None, 3] - b1[:, None, 1]
        w_gt, h_gt = b2[None, :, 2] - b2[None, :, 0], b2[None, :, 3] - b2[None, :, 1]
        v = (4 / (torch.pi ** 2)) * torch.pow(torch.atan(w_pred / h_pred) - torch.atan(w_gt / h_gt), 2)
        alpha = v / (1 - iou + v + eps)
        return diou - alpha * v


def _torchvision():
    try:
        from torchvision import ops
        return ops
    except Exception:       # absent, or a CUDA build that does not load beside this torch
        return None


ORACLES = [TV] + ([_torchvision()] if _torchvision() is not None else [])
NAMES = {"giou": "generalized_box_iou", "diou": "distance_box_iou", "ciou": "complete_box_iou"}


def boxes_xywh(rng, n, degenerate=0.15):
    """Boxes within +-100, extents up to 80, some with zero width, height or both, some
    repeated (identical pairs), touching and nested ones."""
    xy = np.round(rng.uniform(-100, 20, size=(n, 2)), 1)
    wh = np.round(rng.uniform(0, 80, size=(n, 2)), 1)
    wh[rng.random(n) < degenerate, 0] = 0
    wh[rng.random(n) < degenerate, 1] = 0
    b = np.concatenate([xy, wh], axis=1)
    if n > 10:
        b[1] = b[0]                                   # identical
        b[2] = [b[0, 0] + b[0, 2], b[0, 1], 5, 5]     # touching
        b[3] = [b[0, 0], b[0, 1], b[0, 2] / 2, b[0, 3] / 2]   # nested
        b[4] = [3, 3, 0, 0]                           # points
        b[5] = [3, 3, 0, 0]
    return b


def as_fmt(xywh, fmt):
    if fmt == "xywh":
        return xywh
    if fmt == "xyxy":
        return np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
    return np.concatenate([xywh[:, :2] + xywh[:, 2:] / 2, xywh[:, 2:]], axis=1)


def oracle(ops, kind, a, b, fmt, eps=1e-7):
    ta = TV.box_convert(torch.from_numpy(a), fmt)
    tb = TV.box_convert(torch.from_numpy(b), fmt)
    f = getattr(ops, NAMES[kind])
    return (f(ta, tb) if kind == "giou" else f(ta, tb, eps=eps)).numpy()


def defined_values(kind, a, b, fmt, eps=1e-7):
    """fastap's values where torchvision's are NaN (0/0), from the documented rules, in
    NumPy: IoU 0 for an empty union, GIoU's penalty 0 for an empty enclosing box, CIoU's v
    0 for a point box."""
    ca = np.asarray(TV.box_convert(torch.from_numpy(a.astype(np.float64)), fmt))
    cb = np.asarray(TV.box_convert(torch.from_numpy(b.astype(np.float64)), fmt))
    w_a, h_a = ca[:, 2] - ca[:, 0], ca[:, 3] - ca[:, 1]
    w_b, h_b = cb[:, 2] - cb[:, 0], cb[:, 3] - cb[:, 1]
    iw = np.clip(np.minimum(ca[:, None, 2], cb[None, :, 2]) - np.maximum(ca[:, None, 0], cb[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(ca[:, None, 3], cb[None, :, 3]) - np.maximum(ca[:, None, 1], cb[None, :, 1]), 0, None)
    inter = iw * ih
    union = (w_a * h_a)[:, None] + (w_b * h_b)[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(inter > 0, inter / union, 0.0)
        cw = np.maximum(ca[:, None, 2], cb[None, :, 2]) - np.minimum(ca[:, None, 0], cb[None, :, 0])
        ch = np.maximum(ca[:, None, 3], cb[None, :, 3]) - np.minimum(ca[:, None, 1], cb[None, :, 1])
        c = cw * ch
        if kind == "giou":
            return np.where(c > 0, iou - (c - union) / c, iou)
        diag = cw ** 2 + ch ** 2 + eps
        dx = (ca[:, None, 0] + ca[:, None, 2]) / 2 - (cb[None, :, 0] + cb[None, :, 2]) / 2
        dy = (ca[:, None, 1] + ca[:, None, 3]) / 2 - (cb[None, :, 1] + cb[None, :, 3]) / 2
        diou = iou - np.where(diag > 0, (dx ** 2 + dy ** 2) / diag, 0.0)
        if kind == "diou":
            return diou
        ang_a = np.where(h_a > 0, np.arctan(w_a / h_a), np.where(w_a > 0, math.pi / 2, np.nan))
        ang_b = np.where(h_b > 0, np.arctan(w_b / h_b), np.where(w_b > 0, math.pi / 2, np.nan))
        v = 4 / math.pi ** 2 * (ang_a[:, None] - ang_b[None, :]) ** 2
        v = np.where(np.isnan(v), 0.0, v)
        den = 1 - iou + v + eps
        return diou - np.where(den > 0, v / den, 0.0) * v


def check_against(got, want, kind, a, b, fmt, eps=1e-7, tol=None):
    """got: fastap's (float64); want: an oracle's (NaN where torchvision divides 0 by 0)."""
    assert got.dtype == np.float64 and got.shape == want.shape and np.isfinite(got).all()
    finite = np.isfinite(want)
    if tol is None:
        if kind == "ciou":
            assert np.abs(got[finite] - want[finite]).max(initial=0) <= 1e-15
        else:
            assert np.array_equal(got[finite], want[finite])
    else:
        assert np.abs(got[finite] - want[finite]).max(initial=0) <= tol
    nan = ~finite
    if want.ndim == 2:
        rule = defined_values(kind, a, b, fmt, eps)
        assert np.allclose(got[nan], rule[nan], rtol=0, atol=1e-12)
    return int(nan.sum())


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("ops", ORACLES, ids=lambda o: "reimpl" if o is TV else "torchvision")
def test_pairwise_matches_torchvision_float64(ops, kind, fmt):
    rng = np.random.default_rng(sum(map(ord, kind + fmt)))
    a = as_fmt(boxes_xywh(rng, 120), fmt)
    b = as_fmt(boxes_xywh(rng, 90), fmt)
    got = fastap.box_iou(a, b, fmt=fmt, kind=kind)
    n_nan = check_against(got, oracle(ops, kind, a, b, fmt), kind, a, b, fmt)
    assert n_nan > 0 or kind != "giou"               # the degenerate pairs were exercised
    assert np.array_equal(got, getattr(fastap, NAMES[kind])(a, b, fmt=fmt))
    # aligned: the diagonal of the matrix, bit for bit
    k = min(len(a), len(b))
    assert np.array_equal(fastap.box_iou(a[:k], b[:k], fmt=fmt, kind=kind, aligned=True), np.diag(got[:, :k]))
    assert np.array_equal(getattr(fastap, NAMES[kind])(a[:k], b[:k], fmt=fmt, aligned=True), np.diag(got[:, :k]))


@pytest.mark.parametrize("kind", KINDS)
def test_float32_matches_torchvision_within_float32_rounding(kind):
    rng = np.random.default_rng(5)
    for ops in ORACLES:
        for fmt in FORMATS:
            a = as_fmt(boxes_xywh(rng, 80, degenerate=0), fmt).astype(np.float32)
            b = as_fmt(boxes_xywh(rng, 70, degenerate=0), fmt).astype(np.float32)
            got = fastap.box_iou(a, b, fmt=fmt, kind=kind)
            # fastap widens float32 exactly and computes in float64
            assert np.array_equal(got, fastap.box_iou(a.astype(np.float64), b.astype(np.float64), fmt=fmt,
                                                      kind=kind))
            check_against(got, oracle(ops, kind, a, b, fmt).astype(np.float64), kind, a, b, fmt, tol=1e-5)


@pytest.mark.parametrize("kind", ["diou", "ciou"])
def test_eps(kind):
    rng = np.random.default_rng(6)
    a, b = as_fmt(boxes_xywh(rng, 40), "xyxy"), as_fmt(boxes_xywh(rng, 30), "xyxy")
    for eps in (0.0, 1e-7, 0.5):
        got = fastap.box_iou(a, b, kind=kind, eps=eps)
        check_against(got, oracle(TV, kind, a, b, "xyxy", eps=eps), kind, a, b, "xyxy", eps=eps)
    f = getattr(fastap, NAMES[kind])
    assert np.array_equal(f(a, b, eps=0.5), fastap.box_iou(a, b, kind=kind, eps=0.5))


def test_degenerate_cases_defined():
    """Where torchvision returns NaN, the documented values."""
    pt = [[3, 3, 3, 3]]
    line_v = [[3, 0, 3, 10]]                 # zero width
    line_h = [[0, 3, 10, 3]]                 # zero height
    sq = [[0, 0, 10, 10]]
    # two points: IoU 0 (empty union); GIoU penalty 0 (empty enclosing box); DIoU: with
    # eps the penalty is 0 / eps = 0, with eps=0 it is defined 0; CIoU: v = 0
    for kind in KINDS:
        for eps in (1e-7, 0.0):
            assert fastap.box_iou(pt, pt, kind=kind, eps=eps)[0, 0] == 0.0
    # a zero-width line against itself: C = 0 -> GIoU 0
    assert fastap.generalized_box_iou(line_v, line_v)[0, 0] == 0.0
    # a point inside a square: IoU 0, GIoU -(100 - 100)/100 = 0, DIoU -d^2/c^2
    assert fastap.generalized_box_iou(pt, sq)[0, 0] == 0.0
    assert fastap.distance_box_iou(pt, sq, eps=0)[0, 0] == -(2 * 2 ** 2) / 200
    # CIoU: a point has no aspect ratio (v = 0), so CIoU = DIoU; a zero-height line's
    # aspect angle is pi/2 (atan(w/0)), as in torchvision
    assert fastap.complete_box_iou(pt, sq)[0, 0] == fastap.distance_box_iou(pt, sq)[0, 0]
    v = 4 / math.pi ** 2 * (math.pi / 2 - math.pi / 4) ** 2
    d = fastap.distance_box_iou(line_h, sq)[0, 0]
    assert fastap.complete_box_iou(line_h, sq)[0, 0] == pytest.approx(d - v / (1 + v + 1e-7) * v, abs=1e-15)
    want = TV.complete_box_iou(torch.tensor(line_h, dtype=torch.float64), torch.tensor(sq, dtype=torch.float64))
    assert fastap.complete_box_iou(line_h, sq)[0, 0] == pytest.approx(float(want[0, 0]), abs=1e-15)
    # identical boxes: 1 for every kind; alpha's denominator 0 with eps=0 -> CIoU 1
    for kind in KINDS:
        assert fastap.box_iou(sq, sq, kind=kind, eps=0.0)[0, 0] == 1.0
        assert fastap.box_iou(sq, sq, kind=kind)[0, 0] == 1.0
    # ranges: GIoU, DIoU in [-1, 1]; CIoU in [-2, 1]
    rng = np.random.default_rng(7)
    a, b = as_fmt(boxes_xywh(rng, 60), "xyxy"), as_fmt(boxes_xywh(rng, 60), "xyxy")
    for kind, lo in (("giou", -1), ("diou", -1), ("ciou", -2)):
        r = fastap.box_iou(a, b, kind=kind)
        assert ((r >= lo) & (r <= 1)).all()


def test_plain_iou_unchanged():
    """kind="iou" (the default) is box_iou as before: pycocotools' bits for xywh; aligned
    is its diagonal, crowd flags included."""
    mask = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(8)
    a, b = boxes_xywh(rng, 50), boxes_xywh(rng, 50)
    crowd = (rng.random(50) < 0.3).astype(np.uint8)
    want = np.asarray(mask.iou(a.tolist(), b.tolist(), crowd.tolist()))
    got = fastap.box_iou(a, b, fmt="xywh", iscrowd=crowd, kind="iou")
    assert np.array_equal(got.view(np.int64), want.view(np.int64))
    al = fastap.box_iou(a, b, fmt="xywh", iscrowd=crowd, aligned=True)
    assert np.array_equal(al.view(np.int64), np.diag(want).copy().view(np.int64))
    for fmt in ("xyxy", "cxcywh"):
        x, y = as_fmt(a, fmt), as_fmt(b, fmt)
        assert np.array_equal(fastap.box_iou(x, y, fmt=fmt, aligned=True), np.diag(fastap.box_iou(x, y, fmt=fmt)))


def test_threads_out_and_empty():
    rng = np.random.default_rng(9)
    a, b = as_fmt(boxes_xywh(rng, 700), "xyxy"), as_fmt(boxes_xywh(rng, 400), "xyxy")
    for kind in KINDS:
        one = fastap.box_iou(a, b, kind=kind, num_threads=1)
        assert np.array_equal(one, fastap.box_iou(a, b, kind=kind, num_threads=2))
        out = np.full((700, 400), np.nan)
        assert fastap.box_iou(a, b, kind=kind, out=out) is out and np.array_equal(out, one)
        big_a = np.tile(a, (80, 1))                  # 56 000 pairs: the threaded aligned path
        vec = np.empty(len(big_a))
        assert fastap.box_iou(big_a, big_a[::-1], kind=kind, aligned=True, num_threads=2, out=vec) is vec
        assert np.array_equal(vec, fastap.box_iou(big_a, big_a[::-1], kind=kind, aligned=True, num_threads=1))
        assert fastap.box_iou(np.zeros((0, 4)), b, kind=kind).shape == (0, 400)
        assert fastap.box_iou(a, [], kind=kind).shape == (700, 0)
        assert fastap.box_iou([], [], kind=kind, aligned=True).shape == (0,)
    t = torch.from_numpy(a[:5]).float()              # CPU tensors are accepted
    assert np.array_equal(fastap.complete_box_iou(t, t), fastap.complete_box_iou(a[:5].astype(np.float32),
                                                                                a[:5].astype(np.float32)))


def test_bad_options_are_named():
    box = [[0, 0, 1, 1]]
    with pytest.raises(ValueError, match="kind should be one of 'iou', 'giou', 'diou', 'ciou', got 'eiou'"):
        fastap.box_iou(box, box, kind="eiou")
    with pytest.raises(ValueError, match=r"iscrowd \(pycocotools' crowd rule\) is for kind='iou'"):
        fastap.box_iou(box, box, kind="giou", iscrowd=[1])
    with pytest.raises(ValueError, match="same number of boxes, got 1 and 2"):
        fastap.box_iou(box, box * 2, kind="diou", aligned=True)
    with pytest.raises(ValueError, match="eps should be a finite number >= 0"):
        fastap.distance_box_iou(box, box, eps=-1e-7)
    with pytest.raises(ValueError, match="eps should be a finite number >= 0"):
        fastap.complete_box_iou(box, box, eps=float("nan"))
    with pytest.raises(TypeError, match="eps should be a number"):
        fastap.complete_box_iou(box, box, eps="small")
    with pytest.raises(TypeError, match="aligned should be True or False"):
        fastap.box_iou(box, box, aligned="yes")
    with pytest.raises(ValueError, match="negative width or height"):
        fastap.generalized_box_iou([[0, 0, -1, 1]], box, fmt="xywh")
    with pytest.raises(ValueError, match="negative width or height"):
        fastap.generalized_box_iou([[2, 0, 1, 1]], box)
    with pytest.raises(ValueError, match="a box 0 is not finite"):
        fastap.complete_box_iou([[0, 0, np.inf, 1]], box)
    with pytest.raises(ValueError, match=r"out should be a writeable C-contiguous float64 array of shape \(1,\)"):
        fastap.box_iou(box, box, kind="giou", aligned=True, out=np.empty((1, 1)))
    with pytest.raises(ValueError, match="fmt should be"):
        fastap.distance_box_iou(box, box, fmt="yxyx")

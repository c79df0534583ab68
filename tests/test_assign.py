"""fastap.assign: torchvision's Matcher / SSDMatcher rules without the IoU matrix, against
fastap.reference.assign (written from torchvision's documented steps) and, where
torchvision imports, against torchvision's Matcher and SSDMatcher themselves."""
import numpy as np
import pytest

import fastap
from fastap import reference

RULES = [dict(high=0.7, low=0.3, allow_low_quality_matches=True),     # Faster R-CNN's RPN
         dict(high=0.5, low=0.4, allow_low_quality_matches=True),     # RetinaNet
         dict(high=0.5, low=0.5, allow_low_quality_matches=False),    # Faster R-CNN's ROI heads
         dict(high=0.5, rule="ssd")]                                   # SSD


def grid_anchors(step=16, size=(32, 64), image=(160, 128)):
    """Anchors on a grid: many equal IoUs (ties) against aligned ground truth."""
    out = []
    for y in range(0, image[1], step):
        for x in range(0, image[0], step):
            for s in size:
                out.append([x - s / 2, y - s / 2, x + s / 2, y + s / 2])
    return np.array(out, float)


def random_gt(rng, g):
    xy = np.round(rng.uniform(-10, 150, size=(g, 2)))
    wh = np.round(rng.uniform(0, 90, size=(g, 2)))
    b = np.concatenate([xy, xy + wh], axis=1)
    if g > 3:
        b[1] = b[0]                      # a duplicated ground truth: ties between gts
        b[2] = [500, 500, 510, 510]      # overlaps no anchor: its highest IoU is 0
        b[3] = [16, 16, 48, 48]          # equals an anchor exactly
    return b


def _torchvision_matchers():
    try:
        import torch
        from torchvision.models.detection._utils import Matcher, SSDMatcher
    except Exception:
        return None
    return torch, Matcher, SSDMatcher


@pytest.mark.parametrize("rule", RULES, ids=["rpn", "retinanet", "roi", "ssd"])
def test_matches_reference(rule):
    rng = np.random.default_rng(len(str(rule)))
    anchors = grid_anchors()
    tv = _torchvision_matchers()
    seen = set()
    for g in (1, 2, 7, 20):
        gt = random_gt(rng, g)
        want_m, want_iou = reference.assign(anchors, gt, **rule)
        m, iou = fastap.assign(anchors, gt, **rule)
        assert m.dtype == np.int64 and iou.dtype == np.float64 and m.shape == iou.shape == (len(anchors),)
        assert np.array_equal(m, want_m), g
        assert np.array_equal(iou, want_iou), g
        if tv is not None:
            torch, Matcher, SSDMatcher = tv
            q = torch.from_numpy(fastap.box_iou(gt, anchors))
            mt = (SSDMatcher(rule["high"]) if rule.get("rule") == "ssd" else Matcher(
                rule["high"], rule["low"], rule["allow_low_quality_matches"]))(q)
            assert np.array_equal(mt.numpy(), m)
        assert set(np.unique(m)) <= set(range(-2, g))
        seen |= set(np.unique(m).tolist())
    # the cases were exercised: matched and background anchors
    assert min(seen) == -1 and max(seen) >= 1


def test_low_quality_and_ssd_rules_explicit():
    anchors = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [100, 100, 110, 110], [5, 0, 15, 10]], float)
    gt = np.array([[0, 0, 20, 10]], float)                       # IoU 0.5 with anchors 0, 1 and 3
    m, iou = fastap.assign(anchors, gt, high=0.7, low=0.3)
    assert m.tolist() == [-2, -2, -1, -2] and iou.tolist() == [0.5, 0.5, 0.0, 0.5]
    m, _ = fastap.assign(anchors, gt, high=0.7, low=0.3, allow_low_quality_matches=True)
    assert m.tolist() == [0, 0, -1, 0]                            # every tied best anchor
    # torchvision's rule as written: a ground truth that overlaps no anchor has highest IoU
    # 0, so every anchor with IoU 0 to it "ties" and gets its best match back (its argmax:
    # the first ground truth, 0, when it overlaps nothing)
    far = np.concatenate([gt, [[500, 500, 510, 510]]])
    m, _ = fastap.assign(anchors, far, high=0.7, low=0.3, allow_low_quality_matches=True)
    assert m.tolist() == [0, 0, 0, 0]
    assert np.array_equal(m, reference.assign(anchors, far, 0.7, 0.3, True)[0])
    m, iou = fastap.assign(anchors, gt, high=0.7, rule="ssd")
    assert m.tolist() == [0, -1, -1, -1] and iou.tolist() == [0.5, 0.5, 0.0, 0.5]   # the first best anchor
    # an anchor that is the best of two ground truths goes to the later one (SSD)
    gt2 = np.array([[0, 0, 10, 10], [0, 0, 10, 12]], float)
    m, iou = fastap.assign(anchors[2:], gt2, high=0.9, rule="ssd")
    assert m.tolist() == [-1, 1] and iou[1] == 50 / 170
    # no ground truth: background; no anchors: empty
    m, iou = fastap.assign(anchors, np.zeros((0, 4)), high=0.5)
    assert m.tolist() == [-1] * 4 and iou.tolist() == [0.0] * 4
    m, iou = fastap.assign(np.zeros((0, 4)), gt, high=0.5, rule="ssd")
    assert m.shape == iou.shape == (0,)


def test_batches_formats_threads():
    rng = np.random.default_rng(3)
    anchors = grid_anchors(step=8)                                 # 640 anchors
    gts = [random_gt(rng, g) for g in (5, 0, 12, 1)]
    m, iou = fastap.assign(anchors, gts, high=0.7, low=0.3, allow_low_quality_matches=True)
    assert m.shape == iou.shape == (4, len(anchors))
    for b, gt in enumerate(gts):
        wm, wi = reference.assign(anchors, gt, 0.7, 0.3, True)
        assert np.array_equal(m[b], wm) and np.array_equal(iou[b], wi)
    # per-image anchors (ragged), and the other formats
    per = [anchors[:100], anchors[50:400], anchors, anchors[:1]]
    ms, ious = fastap.assign(per, gts, high=0.5, rule="ssd")
    for a, gt, mm, ii in zip(per, gts, ms, ious):
        wm, wi = reference.assign(a, gt, 0.5, rule="ssd")
        assert np.array_equal(mm, wm) and np.array_equal(ii, wi)
    xywh = np.concatenate([anchors[:, :2], anchors[:, 2:] - anchors[:, :2]], axis=1)
    gt = gts[2]
    gt_xywh = np.concatenate([gt[:, :2], gt[:, 2:] - gt[:, :2]], axis=1)
    assert np.array_equal(fastap.assign(xywh, gt_xywh, high=0.5, fmt="xywh")[0],
                          fastap.assign(anchors, gt, high=0.5)[0])
    # threads: anchors split in chunks, gt maxima merged: the same result
    big = np.tile(anchors, (100, 1)) + np.repeat(np.arange(100.0), len(anchors))[:, None] * 0.01
    gt = random_gt(rng, 40)
    one = fastap.assign(big, gt, high=0.7, low=0.3, allow_low_quality_matches=True, num_threads=1)
    two = fastap.assign(big, gt, high=0.7, low=0.3, allow_low_quality_matches=True, num_threads=2)
    assert all(np.array_equal(x, y) for x, y in zip(one, two))
    ssd1 = fastap.assign(big, gt, high=0.5, rule="ssd", num_threads=1)
    ssd2 = fastap.assign(big, gt, high=0.5, rule="ssd", num_threads=2)
    assert all(np.array_equal(x, y) for x, y in zip(ssd1, ssd2))
    wm, _ = reference.assign(big[::50], gt, 0.5, rule="ssd")
    assert np.array_equal(fastap.assign(big[::50], gt, high=0.5, rule="ssd", num_threads=2)[0], wm)


def test_bad_input_is_named():
    a = grid_anchors()[:4]
    gt = [[0, 0, 10, 10]]
    with pytest.raises(ValueError, match="rule should be 'matcher' or 'ssd'"):
        fastap.assign(a, gt, rule="yolo")
    with pytest.raises(ValueError, match="low should be <= high"):
        fastap.assign(a, gt, high=0.3, low=0.7)
    with pytest.raises(ValueError, match="rule='ssd' is SSDMatcher"):
        fastap.assign(a, gt, high=0.5, low=0.4, rule="ssd")
    with pytest.raises(TypeError, match="high and low should be numbers"):
        fastap.assign(a, gt, high="a")
    with pytest.raises(ValueError, match=r"gt\[1\]: boxes with negative width"):
        fastap.assign(a, [gt, [[5, 5, 0, 0]]])
    with pytest.raises(ValueError, match="same length"):
        fastap.assign([a, a], [gt])
    with pytest.raises(ValueError, match=r"anchors should have shape \(n, 4\)"):
        fastap.assign(np.zeros((3, 5)), gt)


def test_ssd_forced_iou_is_the_ground_truths_highest():
    """A forced anchor's IoU is its ground truth's highest IoU, the value the matching saw
    (the reference's quality[k, best_anchor[k]]). Boxes so small that their areas underflow
    to 0: the corner formula of the matching says 0 (the intersection is 0); an IoU
    recomputed with 0 / 0 would say NaN."""
    tiny = np.array([[0, 0, 1e-200, 1e-200], [0, 0, 2e-200, 1e-200]])
    gt = np.array([[0, 0, 1e-200, 1e-200]])
    m, iou = fastap.assign(tiny, gt, high=0.5, rule="ssd")
    want_m, want_iou = reference.assign(tiny, gt, 0.5, rule="ssd")
    assert m.tolist() == want_m.tolist() == [0, -1]
    assert iou.tolist() == want_iou.tolist() == [0.0, 0.0]


def test_low_quality_ties_across_thread_chunks():
    """allow_low_quality_matches with exact ties spread over the anchors: the grid repeated
    (each ground truth's best anchor appears in every thread's chunk), a ground truth that
    overlaps nothing (every anchor ties at 0): pass 2 visits only the anchors between each
    chunk's first and last reaching the maximum, and must still find all of them."""
    rng = np.random.default_rng(5)
    anchors = np.tile(grid_anchors(step=8), (40, 1))         # 25,600 anchors, 40 copies of each
    for g in (9, 12):                                         # n * g: above the threaded size
        gt = random_gt(rng, g)
        for boxes in (gt, np.delete(gt, 2, axis=0)):          # with and without the far box
            want = reference.assign(anchors, boxes, 0.7, 0.3, True)
            for nt in (1, 2):
                got = fastap.assign(anchors, boxes, 0.7, 0.3, True, num_threads=nt)
                assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1]), (g, nt)
            m = want[0].reshape(40, -1)
            assert (m == m[0]).all() and (m >= 0).any()


def test_low_quality_two_tied_anchors():
    """A ground truth whose highest IoU is reached by exactly two anchors (a symmetric pair,
    apart in anchor order): both get their best match back, as torchvision's rule says."""
    anchors = np.array([[0, 0, 20, 10], [100, 100, 110, 110], [50, 50, 60, 60], [10, 0, 30, 10]], float)
    gt = np.array([[10, 0, 20, 10], [100, 100, 111, 110]], float)
    for nt in (1, 2):
        m, iou = fastap.assign(anchors, gt, high=0.7, low=0.3, allow_low_quality_matches=True, num_threads=nt)
        assert m.tolist() == [0, 1, -1, 0] and iou.tolist() == [0.5, 100 / 110, 0.0, 0.5]
        assert np.array_equal(m, reference.assign(anchors, gt, 0.7, 0.3, True)[0])

"""The DOTA task-1 protocol (fastap.evaluate_dota) against fastap.reference.evaluate_dota,
which follows the DOTA devkit's dota_evaluation_task1.py line by line (horizontal-box
prefilter with the +1 pixel rule, polygon IoU, IoU > 0.5, difficult objects neither TP
nor FP, 11-point AP), its polygon IoU measured by shapely."""
import warnings

import numpy as np
import pytest

import fastap
from fastap import reference
from fastap.errors import FastapWarning, InvalidAnnotationError, InvalidOptionError
from fastap.synthetic import make_dota, rbox_to_quad

pytest.importorskip("shapely")


def _quad_iou_fn(g, d):
    return float(fastap.quad_iou(np.asarray(g)[None], np.asarray(d)[None])[0, 0])


def _near_threshold(gt, dt, thr=0.5, tol=1e-9):
    """Pairs of the same image and class whose IoU lies within tol of the threshold (where
    shapely and fastap could round to different sides)."""
    n = 0
    for img in np.unique(dt["image_id"]):
        for c in np.unique(dt["category_id"]):
            g = (gt["image_id"] == img) & (gt["category_id"] == c)
            d = (dt["image_id"] == img) & (dt["category_id"] == c)
            if g.any() and d.any():
                n += int((np.abs(fastap.quad_iou(gt["poly"][g], dt["poly"][d]) - thr) < tol).sum())
    return n


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("use_07_metric", [True, False])
def test_matches_reference_with_shapely(seed, use_07_metric):
    """No ties among scores: the order is the devkit's whatever its sort; shapely's polygon
    IoU decides the same hits (no IoU within 1e-9 of 0.5), so AP is equal bit for bit."""
    gt, dt = make_dota(seed, n_images=25, n_classes=6, objects_per_image=12, dets_per_image=20)
    assert np.unique(dt["score"]).shape[0] == dt["score"].shape[0]
    assert _near_threshold(gt, dt) == 0
    res = fastap.evaluate_dota(gt, dt, use_07_metric=use_07_metric)
    cats, ap, npos, m = reference.evaluate_dota(gt, dt, use_07_metric=use_07_metric)
    assert np.array_equal(res.cat_ids, cats)
    assert np.array_equal(res.n_pos, npos)
    assert np.array_equal(res.ap, ap), (res.ap, ap)
    assert res.map == m and 0.2 < m < 1
    assert (gt["difficult"] != 0).any()


def test_ties_stable_and_at_the_threshold():
    """Scores rounded into ties (fastap: stable, input order), detections at IoU exactly 0.5
    (not a hit: the devkit needs IoU > 0.5) and exactly 1 (another vertex order): fastap
    equals the reference run with the same polygon IoU."""
    gt, dt = make_dota(4, n_images=15, n_classes=4, objects_per_image=10, dets_per_image=14, score_decimals=1)
    half = np.c_[np.zeros(6), np.zeros(6), np.full(6, 20.0), np.full(6, 10.0), np.zeros(6)]
    half[:, :2] = [[100.0 + 60 * i, 200.0] for i in range(6)]
    g6 = rbox_to_quad(half)
    d6 = rbox_to_quad(np.c_[half[:, :2], half[:, 2] / 2, half[:, 3], half[:, 4]])   # IoU 0.5 exactly
    d_same = np.roll(g6, 2, axis=1)                                                    # IoU 1, vertex order turned
    assert np.all(fastap.quad_iou(g6, d6).diagonal() == 0.5)
    gt = {"image_id": np.r_[gt["image_id"], np.ones(6, np.int64)], "category_id": np.r_[gt["category_id"],
          np.full(6, 1, np.int64)], "poly": np.r_[gt["poly"], g6], "difficult": np.r_[gt["difficult"], np.zeros(6, np.uint8)]}
    dt = {"image_id": np.r_[dt["image_id"], np.ones(12, np.int64)], "category_id": np.r_[dt["category_id"],
          np.full(12, 1, np.int64)], "poly": np.r_[dt["poly"], d6, d_same], "score": np.r_[dt["score"], np.full(12, 0.5)]}
    assert np.unique(dt["score"]).shape[0] < dt["score"].shape[0] // 4
    res = fastap.evaluate_dota(gt, dt)
    cats, ap, npos, m = reference.evaluate_dota(gt, dt, poly_iou=_quad_iou_fn)
    assert np.array_equal(res.ap, ap) and res.map == m


def test_stable_tie_order_decides():
    """Two detections with the same score, a hit and a miss: in input order, the hit
    listed first gives AP 1; listed after the miss, precision at recall 1 is 1/2 and the
    11-point AP 0.5 (the devkit's quicksort could give either)."""
    g = rbox_to_quad([[50, 50, 20, 10, 0]])
    hit, miss = g[0], rbox_to_quad([[300, 300, 20, 10, 0]])[0]
    gt = {"image_id": np.array([1]), "category_id": np.array([1]), "poly": g}

    def ap(order):
        polys = np.array([hit, miss])[order]
        dt = {"image_id": np.array([1, 1]), "category_id": np.array([1, 1]), "poly": polys, "score": np.array([.7, .7])}
        return fastap.evaluate_dota(gt, dt).ap[0], reference.evaluate_dota(gt, dt, poly_iou=_quad_iou_fn)[1][0]
    first, ref_first = ap([0, 1])
    second, ref_second = ap([1, 0])
    assert first == ref_first == pytest.approx(1.0)        # 11 x (1 / 11), summed as the devkit does
    assert second == ref_second == pytest.approx(0.5)


def test_difficult_objects():
    """A detection on a difficult object is neither TP nor FP; difficult objects are not
    positives; a class whose objects are all difficult has AP NaN, left out of mAP, warned."""
    g = rbox_to_quad([[50, 50, 20, 10, 30], [150, 50, 20, 10, 30], [50, 150, 30, 30, 0]])
    gt = {"image_id": np.array([1, 1, 1]), "category_id": np.array([1, 1, 2]), "poly": g,
          "difficult": np.array([1, 0, 1])}
    dt = {"image_id": np.array([1, 1, 1]), "category_id": np.array([1, 1, 2]), "poly": g, "score": np.array([.9, .8, .7])}
    with pytest.warns(FastapWarning, match="no non-difficult ground truth"):
        res = fastap.evaluate_dota(gt, dt)
    assert res.n_pos.tolist() == [1, 0]
    assert res.ap[0] == pytest.approx(1.0) and np.isnan(res.ap[1]) and res.map == res.ap[0]
    cats, ap, npos, m = reference.evaluate_dota(gt, dt, poly_iou=_quad_iou_fn)
    assert ap[0] == res.ap[0] and np.isnan(ap[1]) and m == res.map


def test_no_python_loop_per_detection_scale():
    """A DOTA-sized class list at scale runs (the C path): 200 images x 50 objects."""
    gt, dt = make_dota(1, n_images=200, n_classes=15)
    res = fastap.evaluate_dota(gt, dt, class_names=dict(enumerate(["x"] + list(fastap.protocols.dota.DOTA_CLASSES))))
    assert res.ap.shape == (15,) and 0.2 < res.map < 1
    assert set(res.per_class_ap_by_name) == set(fastap.protocols.dota.DOTA_CLASSES)


def test_bad_input():
    gt, dt = make_dota(2, n_images=3, n_classes=2, objects_per_image=4, dets_per_image=5)
    bow = gt["poly"].copy()
    bow[1] = [0, 0, 10, 10, 10, 0, 0, 10]                     # self-intersecting order
    with pytest.raises(InvalidAnnotationError, match=r"ground truth record 1 \(image_id \d+, category_id \d+\): "
                                                     r"field 'poly' is not a convex"):
        fastap.evaluate_dota(dict(gt, poly=bow), dt)
    fastap.evaluate_dota(dict(gt, poly=bow), dt, nonconvex="hull")
    bad = dt["poly"].copy()
    bad[2, 3] = np.nan
    with pytest.raises(InvalidAnnotationError, match="detections record 2.*'poly'.*finite"):
        fastap.evaluate_dota(gt, dict(dt, poly=bad))
    with pytest.raises(InvalidAnnotationError, match="missing field 'poly'"):
        fastap.evaluate_dota({k: v for k, v in gt.items() if k != "poly"}, dt)
    with pytest.raises(InvalidAnnotationError, match="'poly'"):
        fastap.evaluate_dota(dict(gt, poly=gt["poly"][:, :6]), dt)
    with pytest.raises(InvalidOptionError, match="nonconvex"):
        fastap.evaluate_dota(gt, dt, nonconvex="keep")
    with pytest.raises(InvalidOptionError, match="iou_threshold"):
        fastap.evaluate_dota(gt, dt, iou_threshold=1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fastap.evaluate_dota(gt, dt)


def test_binding_refuses_best_outside_the_category():
    """voc_evaluate_best: a detection's best ground truth must be one of its category's
    (the matching marks it taken by its offset in that run): anything else is refused."""
    from fastap import _core
    from fastap.protocols.dota import dota_columns
    from fastap.tables import build_tables
    gt, dt = make_dota(5, n_images=2, n_classes=2, objects_per_image=3, dets_per_image=3)
    g, d = dota_columns(gt, dt)
    t = build_tables(g, d, [1, 2], [1, 2], True, dt_by_image=False)
    n_dt, n_gt = t.core.n_dt, t.core.n_gt
    diff = np.zeros(n_gt, np.uint8)
    iou = np.ones(n_dt)
    _core.voc_evaluate_best(t.core, diff, np.full(n_dt, -1, np.int64), iou, 0.5, strict=True)
    wrong = np.full(n_dt, -1, np.int64)
    wrong[0] = n_gt - 1 if int(t.core.dt_off[1]) > 0 else 0       # the last gt is of the last category
    assert int(t.core.gt_off[1]) <= n_gt - 1
    with pytest.raises(ValueError, match="category"):
        _core.voc_evaluate_best(t.core, diff, wrong, iou, 0.5, strict=True)
    with pytest.raises(ValueError, match="category"):
        _core.voc_evaluate_best(t.core, diff, np.full(n_dt, n_gt, np.int64), iou, 0.5)

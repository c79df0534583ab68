"""VOC AP (all-point VOC2010+ and 11-point VOC2007) against the published values of
the real VOC cases and against fastap.reference."""
import glob
import json
import os

import numpy as np
import pytest

import fastap
from fastap import reference
from fastap.columns import dt_columns, gt_columns
from fastap.synthetic import make_arrays

from conftest import REALDATA


def _odm_sample():
    d = os.path.join(REALDATA, "odm_voc_sample_7img")
    gt = {"image_id": [], "category_id": [], "bbox": []}
    dt = {"image_id": [], "category_id": [], "bbox": [], "score": []}
    for img, path in enumerate(sorted(glob.glob(os.path.join(d, "groundtruths", "*.txt")))):
        for line in open(path).read().split("\n"):
            if line.strip():
                _, x, y, w, h = line.split()
                gt["image_id"].append(img); gt["category_id"].append(1)
                gt["bbox"].append([float(x), float(y), float(w), float(h)])
        dpath = os.path.join(d, "detections", os.path.basename(path))
        for line in open(dpath).read().split("\n"):
            if line.strip():
                _, s, x, y, w, h = line.split()
                dt["image_id"].append(img); dt["category_id"].append(1)
                dt["bbox"].append([float(x), float(y), float(w), float(h)]); dt["score"].append(float(s))
    return gt, dt


@pytest.mark.parametrize("thr,all_point,eleven", [
    (0.1, 0.3371980676, 0.3333333333), (0.3, 0.2456866804, 0.2683982683),
    (0.5, 0.0222222222, 0.0303030303), (0.75, 0.0, 0.0)])
def test_odm_sample_published(thr, all_point, eleven):
    gt, dt = _odm_sample()
    assert len(gt["bbox"]) == 15 and len(dt["bbox"]) == 24
    assert fastap.evaluate(gt, dt, protocol="voc", iou_threshold=thr).map == pytest.approx(all_point, abs=1e-9)
    assert fastap.evaluate(gt, dt, protocol="voc07", iou_threshold=thr).map == pytest.approx(eleven, abs=1e-9)


@pytest.mark.parametrize("thr,eleven,all_point", [(0.5, 0.8864, 0.8958), (0.75, 0.4924, 0.5097)])
def test_review_odm_toy_example_published(thr, eleven, all_point):
    d = os.path.join(REALDATA, "review_odm_toyexample_voc")
    g = json.load(open(os.path.join(d, "toy_example_coco.json")))["annotations"]
    t = json.load(open(os.path.join(d, "coco_dets.json")))["annotations"]
    gt = {k: [a[k] for a in g] for k in ("image_id", "category_id", "bbox")}
    dt = {k: [a[k] for a in t] for k in ("image_id", "category_id", "bbox", "score")}
    assert fastap.evaluate(gt, dt, protocol="voc07", iou_threshold=thr).map == pytest.approx(eleven, abs=5e-5)
    assert fastap.evaluate(gt, dt, protocol="voc", iou_threshold=thr).map == pytest.approx(all_point, abs=5e-5)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("protocol", ["voc", "voc07"])
@pytest.mark.parametrize("plus_one", [True, False])
def test_equals_reference(seed, protocol, plus_one, num_threads):
    images, cats, gt, dt = make_arrays(seed=seed, edge_cases=True, n_images=70, n_categories=5)
    g, d = gt_columns(gt), dt_columns(dt)
    for thr in (0.3, 0.5, 0.75):
        res = fastap.evaluate(gt, dt, protocol=protocol, iou_threshold=thr, plus_one=plus_one,
                              num_threads=num_threads)
        want = reference.evaluate_voc({**g, "difficult": g["iscrowd"] | g["ignore"]}, d, iou_threshold=thr,
                                      use_11_point=protocol == "voc07", plus_one=plus_one)
        assert np.array_equal(res.ap, want["ap"], equal_nan=True)
        assert np.array_equal(res.cat_ids, want["categories"])
        assert np.array_equal(res.n_pos, want["n_pos"])
        assert res.map == want["map"]


def test_duplicate_is_false_positive_and_difficult_ignored():
    gt = {"image_id": [1, 1], "category_id": [1, 1], "bbox": [[0, 0, 10, 10], [50, 50, 10, 10]],
          "iscrowd": [0, 1]}
    dt = {"image_id": [1, 1, 1], "category_id": [1, 1, 1],
          "bbox": [[0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 10, 10]], "score": [0.9, 0.8, 0.7]}
    r = fastap.evaluate(gt, dt, protocol="voc")
    # TP, then a duplicate (FP), then a detection of a difficult gt (ignored):
    # precision 1 at recall 1 -> AP 1.0
    assert r.map == 1.0 and r.n_pos.tolist() == [1]

"""The array API, fastap.evaluate: the same numbers as the COCOeval facade and
pycocotools, named metrics, per-class AP, box formats."""
import numpy as np
import pytest

import fastap
from fastap.protocols.coco import STAT_NAMES
from fastap.synthetic import make_arrays, make_coco

from conftest import run_pycocotools


def _arrays_from(d, r):
    A = d["annotations"]
    gt = {"id": [a["id"] for a in A], "image_id": [a["image_id"] for a in A],
          "category_id": [a["category_id"] for a in A], "bbox": [a["bbox"] for a in A],
          "area": [a["area"] for a in A], "iscrowd": [a["iscrowd"] for a in A]}
    dt = {"image_id": [x["image_id"] for x in r], "category_id": [x["category_id"] for x in r],
          "bbox": [x["bbox"] for x in r], "score": [x["score"] for x in r]}
    return gt, dt


def test_array_api_equals_pycocotools():
    pytest.importorskip("pycocotools")
    d, r = make_coco(seed=3, edge_cases=True, n_images=50, n_categories=5)
    ref, ref_lines = run_pycocotools(d, r)
    gt, dt = _arrays_from(d, r)
    res = fastap.evaluate(gt, dt, img_ids=[i["id"] for i in d["images"]],
                          cat_ids=[c["id"] for c in d["categories"]])
    for k in ("precision", "recall", "scores"):
        assert np.array_equal(getattr(res, k), ref.eval[k])
    assert np.array_equal(res.stats, ref.stats)
    assert [getattr(res, n) for n in STAT_NAMES] == ref.stats.tolist()
    assert res.summary == ref_lines
    for k, c in enumerate(res.cat_ids.tolist()):
        p = ref.eval["precision"][:, :, k, 0, -1]
        want = np.mean(p[p > -1]) if (p > -1).any() else np.nan
        assert res.per_class_ap[c] == want or (np.isnan(want) and np.isnan(res.per_class_ap[c]))
    d2 = res.to_dict()
    assert d2["metrics"]["map"] == res.map and len(d2["stats"]) == 12


def test_box_formats_equivalent():
    images, cats, gt, dt = make_arrays(seed=1, n_images=30, n_categories=3)
    base = fastap.evaluate(gt, dt)
    to_xyxy = lambda b: np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)
    gx = {**gt, "bbox": to_xyxy(gt["bbox"])}
    dx = {**dt, "bbox": to_xyxy(dt["bbox"])}
    res = fastap.evaluate(gx, dx, box_format="xyxy")
    assert np.allclose(res.stats, base.stats, atol=1e-6)


def test_numpy_inputs_and_thread_counts_agree():
    images, cats, gt, dt = make_arrays(seed=4, n_images=40, n_categories=4, edge_cases=True)
    a = fastap.evaluate(gt, dt, num_threads=1)
    b = fastap.evaluate(gt, dt, num_threads=2)
    assert np.array_equal(a.precision, b.precision) and np.array_equal(a.scores, b.scores)


def test_permuting_inputs_changes_nothing():
    """Property: the order of images in the input changes nothing (detections of one
    image keep their relative order, which decides score ties)."""
    images, cats, gt, dt = make_arrays(seed=5, n_images=40, n_categories=4)
    base = fastap.evaluate(gt, dt)
    rng = np.random.default_rng(0)
    perm_img = rng.permutation(np.unique(dt["image_id"]))
    rank = {v: i for i, v in enumerate(perm_img.tolist())}
    o = np.argsort([rank[v] for v in dt["image_id"].tolist()], kind="stable")
    dt2 = {k: np.asarray(v)[o] for k, v in dt.items()}
    og = np.argsort([rank.get(v, -1) for v in gt["image_id"].tolist()], kind="stable")
    gt2 = {k: np.asarray(v)[og] for k, v in gt.items()}
    res = fastap.evaluate(gt2, dt2)
    assert np.array_equal(res.precision, base.precision)


def test_voc_result_fields():
    images, cats, gt, dt = make_arrays(seed=2, n_images=30, n_categories=3)
    r = fastap.evaluate(gt, dt, protocol="voc")
    assert r.ap.shape == r.n_pos.shape == r.cat_ids.shape
    assert set(r.per_class_ap) == set(r.cat_ids.tolist())
    assert 0.0 <= r.map <= 1.0


def test_empty_detections_array_api():
    images, cats, gt, dt = make_arrays(seed=2, n_images=10, n_categories=3)
    empty = {"image_id": [], "category_id": [], "bbox": np.zeros((0, 4)), "score": []}
    with pytest.warns(fastap.EmptyResultsWarning, match="no detections"):
        r = fastap.evaluate(gt, empty)
    assert r.map == 0.0


def test_per_class_table_matches_pycocotools_arrays(tmp_path):
    pytest.importorskip("pycocotools")
    d, r = make_coco(seed=7, edge_cases=True, n_images=50, n_categories=5)
    ref, _ = run_pycocotools(d, r)
    gt, dt = _arrays_from(d, r)
    res = fastap.evaluate(gt, dt, img_ids=[i["id"] for i in d["images"]],
                          cat_ids=[c["id"] for c in d["categories"]])
    table = res.per_class()
    P, Rc = ref.eval["precision"], ref.eval["recall"]
    for k, c in enumerate(ref.params.catIds):
        row = table[table["category_id"] == c][0]
        for field, s in (("ap", P[:, :, k, 0, 2]), ("ap50", P[0, :, k, 0, 2]), ("ap75", P[5, :, k, 0, 2]),
                         ("ap_small", P[:, :, k, 1, 2]), ("ap_medium", P[:, :, k, 2, 2]),
                         ("ap_large", P[:, :, k, 3, 2]), ("ar", Rc[:, k, 0, 2])):
            v = s[s > -1]
            want = np.mean(v) if v.size else np.nan
            assert (np.isnan(want) and np.isnan(row[field])) or row[field] == want, (c, field)
    assert row["ap"] == res.per_class_ap[c] or np.isnan(row["ap"])
    out = tmp_path / "t.csv"
    res.to_csv(out)
    lines = out.read_text().splitlines()
    assert lines[0] == "category_id,ap,ap50,ap75,ap_small,ap_medium,ap_large,ar" and len(lines) == len(table) + 1


def test_sorted_ids_list_equals_sorted():
    """COCOeval's params.imgIds (sorted(cocoGt.getImgIds()) in pycocotools) sorted as an
    int64 array when every id is a Python int: the same list, the same types; anything
    else (bools, floats, ints beyond int64) by sorted()."""
    import random
    from fastap.columns import sorted_ids_list as _sorted_ids_list
    rng = random.Random(2)
    cases = [[3, 1, 2], list(range(100, 0, -1)), [rng.randint(-10 ** 12, 10 ** 12) for _ in range(1000)],
             [2 ** 70] + list(range(100)), [1.5] + list(range(100)), [True] + list(range(100)), []]
    for ids in cases:
        got = _sorted_ids_list(ids)
        assert got == sorted(ids) and [type(x) for x in got] == [type(x) for x in sorted(ids)]


@pytest.mark.parametrize("iou_type", ["bbox", "segm", "keypoints"])
def test_coco_objects_from_files_pickle(tmp_path, iou_type):
    """COCO objects read from files keep the files' text in memory maps (the ground
    truth's private copy, the results' pages); they pickle as pycocotools' do (the maps
    go as bytes), and the copies evaluate to the same arrays. The ground truth no longer
    depends on its file once loaded: rewriting the file changes nothing."""
    import io
    import json
    import pickle
    from contextlib import redirect_stdout
    from fastap.synthetic import make_keypoints_coco, make_segm_coco
    if iou_type == "keypoints":
        ds, res = make_keypoints_coco(3, n_images=12)
    elif iou_type == "segm":
        ds, res = make_segm_coco(3, n_images=6, n_categories=3, dets_per_image=10)
    else:
        ds, res = make_coco(3, n_images=12, n_categories=4)
    g, d = tmp_path / "gt.json", tmp_path / "dt.json"
    g.write_text(json.dumps(ds))
    d.write_text(json.dumps(res))

    def run(gt, dt):
        ev = fastap.COCOeval(gt, dt, iou_type)
        ev.evaluate()
        ev.accumulate()
        return ev.eval

    with redirect_stdout(io.StringIO()):
        gt = fastap.COCO(str(g))
        dt = gt.loadRes(str(d))
        g.write_text("[]")                       # the loaded ground truth keeps its own copy
        gt2, dt2 = pickle.loads(pickle.dumps((gt, dt)))
        a, b = run(gt, dt), run(gt2, dt2)
    for k in ("precision", "recall", "scores"):
        assert np.array_equal(a[k].view(np.uint64), b[k].view(np.uint64)), k
    assert len(gt2.dataset["annotations"]) == len(ds["annotations"])
    assert len(dt2.dataset["annotations"]) == len(res)

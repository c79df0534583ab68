"""fastap.reference against pycocotools (COCO bbox) and published VOC AP numbers.

pycocotools is the oracle: the whole ``eval['precision']``, ``eval['recall']`` and
``eval['scores']`` arrays must be equal (``np.array_equal``), and so must ``stats`` and
the printed summary lines.
"""

import contextlib
import copy
import glob
import io
import json
import os

import numpy as np
import pytest

pytest.importorskip("pycocotools")
from pycocotools import mask as mask_utils  # noqa: E402
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval, Params  # noqa: E402

from fastap import reference  # noqa: E402
from fastap.synthetic import make_coco  # noqa: E402

REALDATA = os.path.join(os.path.dirname(__file__), "data", "realdata")
REALDATA = os.environ.get("FASTAP_REALDATA", os.path.normpath(REALDATA))


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------

def to_columns(dataset, results):
    """Columnar gt/dt arrays from a COCO dataset dict and a results list."""
    anns = dataset["annotations"]
    gt = {
        "id": np.array([a["id"] for a in anns], dtype=np.int64),
        "image_id": np.array([a["image_id"] for a in anns], dtype=np.int64),
        "category_id": np.array([a["category_id"] for a in anns], dtype=np.int64),
        "bbox": np.array([a["bbox"] for a in anns], dtype=np.float64).reshape(-1, 4),
        "area": np.array([a["area"] for a in anns], dtype=np.float64),
        "iscrowd": np.array([a.get("iscrowd", 0) for a in anns], dtype=np.uint8),
    }
    dt = {
        "image_id": np.array([r["image_id"] for r in results], dtype=np.int64),
        "category_id": np.array([r["category_id"] for r in results], dtype=np.int64),
        "bbox": np.array([r["bbox"] for r in results], dtype=np.float64).reshape(-1, 4),
        "score": np.array([r["score"] for r in results], dtype=np.float64),
        "area": np.array([r["bbox"][2] * r["bbox"][3] for r in results], dtype=np.float64),
    }
    return gt, dt


def run_pycocotools(dataset, results, configure=None):
    """Run pycocotools; return (COCOeval after summarize, params before evaluate, lines)."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(dataset)
        coco.createIndex()
        coco_dt = coco.loadRes(copy.deepcopy(results))
        ev = COCOeval(coco, coco_dt, iouType="bbox")
        if configure is not None:
            configure(ev.params)
        params = copy.deepcopy(ev.params)
        ev.evaluate()
        ev.accumulate()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ev.summarize()
    return ev, params, out.getvalue().splitlines()


def params_snapshot(p):
    return (list(p.imgIds), list(p.catIds), np.array(p.iouThrs).tolist(),
            np.array(p.recThrs).tolist(), list(p.maxDets), [list(a) for a in p.areaRng],
            list(p.areaRngLbl), p.useCats)


def check_against_pycocotools(dataset, results, configure=None, summary=True):
    ev, params, lines = run_pycocotools(dataset, results, configure)
    gt, dt = to_columns(dataset, results)
    before = params_snapshot(params)
    got = reference.evaluate_coco(gt, dt, params)
    assert params_snapshot(params) == before, "evaluate_coco modified the params object"
    for key in ("precision", "recall", "scores"):
        assert got[key].dtype == np.float64
        assert got[key].shape == ev.eval[key].shape, key
        assert np.array_equal(got[key], ev.eval[key]), (
            key, float(np.max(np.abs(got[key] - ev.eval[key]))))
    if summary:
        stats, my_lines = reference.summarize(got["precision"], got["recall"], params)
        assert np.array_equal(stats, np.asarray(ev.stats)), (stats, ev.stats)
        assert my_lines == lines
    return got, ev


# ----------------------------------------------------------------------------------------
# IoU
# ----------------------------------------------------------------------------------------

def test_box_iou_matches_maskapi():
    rng = np.random.default_rng(5)
    d = np.round(rng.uniform(0, 50, size=(40, 4)), 1)
    g = np.round(rng.uniform(0, 50, size=(30, 4)), 1)
    g[:5] = d[:5]                       # identical boxes
    g[5, 2] = 0.0                       # degenerate gt
    crowd = (rng.random(30) < 0.3).astype(np.uint8)
    expected = mask_utils.iou(d.tolist(), g.tolist(), crowd.tolist())
    got = reference.box_iou_xywh(d, g, crowd)
    assert got.dtype == np.float64 and got.shape == (40, 30)
    assert np.array_equal(got, expected)
    no_crowd = mask_utils.iou(d.tolist(), g.tolist(), [0] * 30)
    assert np.array_equal(reference.box_iou_xywh(d, g), no_crowd)


def test_box_iou_exact_thresholds():
    gt = [[0.0, 0.0, 10.0, 10.0]]
    assert reference.box_iou_xywh([[0.0, 0.0, 10.0, 5.0]], gt)[0, 0] == 0.5
    assert reference.box_iou_xywh([[0.0, 0.0, 10.0, 7.5]], gt)[0, 0] == 0.75
    assert reference.box_iou_xywh([[10.0, 0.0, 5.0, 5.0]], gt)[0, 0] == 0.0   # touching


# ----------------------------------------------------------------------------------------
# COCO on generated data
# ----------------------------------------------------------------------------------------

SMALL = dict(n_images=60, n_categories=6, gt_per_image=5.0, dets_per_image=30)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_generated_edge_cases_default_params(seed):
    dataset, results = make_coco(seed, edge_cases=True, **SMALL)
    check_against_pycocotools(dataset, results)


def test_generated_no_edge_cases():
    dataset, results = make_coco(11, edge_cases=False, scale="tiny")
    check_against_pycocotools(dataset, results)


def _custom_thresholds(p):
    p.iouThrs = np.array([0.3, 0.5, 0.77])
    p.recThrs = np.linspace(0, 1, 11)


def _custom_max_dets(p):
    p.maxDets = [300, 1, 5]          # unsorted on purpose: evaluate() sorts them


def _custom_areas(p):
    p.areaRng = [[0, 1e10], [0, 40 ** 2], [40 ** 2, 1e10], [100.0, 2500.0]]
    p.areaRngLbl = ["all", "small", "large", "odd"]


def _img_subset(p):
    ids = list(p.imgIds)
    p.imgIds = ids[::3][::-1] + ids[:2]           # unsorted, with duplicates


def _cat_subset(p):
    p.catIds = [p.catIds[3], p.catIds[0], p.catIds[4], p.catIds[0]]


def _no_cats(p):
    p.useCats = 0


def _no_cats_subset(p):
    p.useCats = 0
    p.catIds = [p.catIds[4], p.catIds[1], p.catIds[2]]   # list order is the pooling order


def _everything(p):
    _custom_thresholds(p)
    _custom_max_dets(p)
    _custom_areas(p)
    _img_subset(p)
    _cat_subset(p)


@pytest.mark.parametrize("configure", [
    _custom_thresholds, _custom_max_dets, _custom_areas, _img_subset, _cat_subset,
    _no_cats, _no_cats_subset, _everything,
], ids=lambda f: f.__name__.strip("_"))
def test_generated_custom_params(configure):
    dataset, results = make_coco(7, edge_cases=True, **SMALL)
    check_against_pycocotools(dataset, results, configure)


def test_more_dets_than_max_dets():
    # ~50 detections per image against maxDets[-1] = 20 (and 2*50+7 in some images)
    dataset, results = make_coco(4, edge_cases=True, n_images=30, n_categories=3,
                                 gt_per_image=6.0, dets_per_image=50)
    check_against_pycocotools(dataset, results, lambda p: setattr(p, "maxDets", [1, 10, 20]))


def test_annotation_id_zero_generated():
    # ids 0..G-1: annotation 0 exists and gets matched in the generated data
    dataset, results = make_coco(3, edge_cases=True, **SMALL)
    for a in dataset["annotations"]:
        a["id"] -= 1
    assert dataset["annotations"][0]["id"] == 0
    _, ev = check_against_pycocotools(dataset, results)
    zero_taken = any(e is not None and 0 in e["gtIds"] and
                     e["gtMatches"][:, e["gtIds"].index(0)].any() for e in ev.evalImgs)
    assert zero_taken


def _hand_dataset(anns, n_images=2, n_categories=1):
    return {
        "images": [{"id": i + 1, "width": 100, "height": 100} for i in range(n_images)],
        "categories": [{"id": c + 1, "name": "c%d" % c} for c in range(n_categories)],
        "annotations": anns,
    }


def _ann(aid, img, bbox, cat=1, crowd=0, area=None):
    return {"id": aid, "image_id": img, "category_id": cat, "bbox": bbox,
            "area": bbox[2] * bbox[3] if area is None else area, "iscrowd": crowd}


def _det(img, bbox, score, cat=1):
    return {"image_id": img, "category_id": cat, "bbox": bbox, "score": score}


def test_annotation_id_zero_quirk():
    anns = [_ann(0, 1, [10.0, 10.0, 20.0, 20.0], area=2000.0),  # matched, but its id is 0
            _ann(5, 1, [60.0, 60.0, 30.0, 30.0]),
            _ann(6, 2, [5.0, 5.0, 40.0, 40.0], area=30.0),   # small by its area field
            _ann(8, 2, [50.0, 50.0, 40.0, 50.0])]            # medium
    dets = [_det(1, [10.0, 10.0, 20.0, 20.0], 0.9),  # -> gt 0; own area 400 is not medium
            _det(1, [60.0, 60.0, 30.0, 30.0], 0.8),
            _det(2, [5.0, 5.0, 40.0, 40.0], 0.7),
            _det(1, [11.0, 10.0, 20.0, 20.0], 0.6),  # duplicate of gt 0
            _det(2, [50.0, 50.0, 40.0, 50.0], 0.5)]
    dataset = _hand_dataset(anns)
    got, _ = check_against_pycocotools(dataset, dets)
    # with id 1 instead of 0 the numbers change: the quirk is really exercised
    dataset_1 = copy.deepcopy(dataset)
    dataset_1["annotations"][0]["id"] = 1
    got_1, _ = check_against_pycocotools(dataset_1, dets)
    assert not np.array_equal(got["precision"], got_1["precision"])


def test_exact_iou_threshold_hits():
    gt_box = [0.0, 0.0, 10.0, 10.0]
    anns = [_ann(1, 1, gt_box), _ann(2, 2, gt_box), _ann(3, 3, gt_box),
            _ann(4, 4, gt_box), _ann(5, 4, gt_box),           # two equal gts: later wins
            _ann(6, 5, gt_box, crowd=1), _ann(7, 5, [20.0, 20.0, 10.0, 10.0]),
            _ann(8, 6, gt_box),
            _ann(9, 7, [0.0, 0.0, 10.0, 6.0]), _ann(10, 7, gt_box, crowd=1),
            _ann(11, 8, [0.0, 0.0, 32.0, 32.0]), _ann(12, 8, [40.0, 0.0, 96.0, 96.0]),
            _ann(13, 8, [0.0, 40.0, 10.0, 10.0], area=32.0 ** 2),   # area exactly on a bound
            _ann(14, 8, [40.0, 40.0, 10.0, 10.0], area=96.0 ** 2)]
    dets = [_det(1, [0.0, 0.0, 10.0, 5.0], 0.9),               # IoU exactly 0.5
            _det(2, [0.0, 0.0, 10.0, 7.5], 0.9),               # IoU exactly 0.75
            _det(3, [0.0, 0.0, 10.0, 4.999999999999999], 0.9),  # just below 0.5
            _det(4, [0.0, 0.0, 10.0, 7.5], 0.5),
            _det(4, [0.0, 0.0, 10.0, 7.5], 0.5),               # tied score and IoU
            _det(5, [0.0, 0.0, 10.0, 5.0], 0.3),               # crowd, IoU 1 (union = dt area)
            _det(5, [0.0, 0.0, 5.0, 10.0], 0.3),
            _det(5, [20.0, 20.0, 10.0, 7.5], 0.3),
            _det(6, [0.0, 0.0, 10.0, 10.0 * (1 - 5e-12)], 0.8),   # IoU just below 1
            _det(7, [0.0, 0.0, 10.0, 10.0], 0.7),   # regular gt 9 at 0.6, crowd gt 10 at 1.0
            _det(8, [0.0, 0.0, 32.0, 32.0], 0.6), _det(8, [40.0, 0.0, 96.0, 96.0], 0.6),
            _det(8, [0.0, 40.0, 10.0, 10.0], 0.65), _det(8, [40.0, 40.0, 10.0, 10.0], 0.65)]
    dataset = _hand_dataset(anns, n_images=8)
    assert 1 - 1e-10 <= reference.box_iou_xywh([dets[8]["bbox"]], [gt_box])[0, 0] < 1.0
    assert reference.box_iou_xywh([dets[0]["bbox"]], [gt_box])[0, 0] == 0.5
    assert reference.box_iou_xywh([dets[1]["bbox"]], [gt_box])[0, 0] == 0.75
    check_against_pycocotools(dataset, dets)
    check_against_pycocotools(dataset, dets,
                              lambda p: setattr(p, "iouThrs", np.array([0.5, 0.75, 1.0])))


def test_no_detections_for_a_category_and_empty_settings():
    anns = [_ann(1, 1, [0.0, 0.0, 10.0, 10.0], cat=1), _ann(2, 2, [0.0, 0.0, 50.0, 50.0], cat=2),
            _ann(3, 2, [50.0, 50.0, 20.0, 20.0], cat=2, crowd=1)]
    dets = [_det(2, [0.0, 0.0, 50.0, 50.0], 0.5, cat=2),
            _det(1, [50.0, 50.0, 10.0, 10.0], 0.4, cat=3)]
    dataset = _hand_dataset(anns, n_categories=3)
    check_against_pycocotools(dataset, dets)


# ----------------------------------------------------------------------------------------
# COCO on real data
# ----------------------------------------------------------------------------------------

def _real_bbox_cases():
    cases = []
    for path in sorted(glob.glob(os.path.join(REALDATA, "*", "case.json"))):
        folder = os.path.dirname(path)
        with open(path) as f:
            case = json.load(f)
        for ev in case.get("evals", []):
            if ev.get("iou_type") == "bbox" and "gt" in ev and "dt" in ev:
                cases.append(pytest.param(folder, ev, id=os.path.basename(folder)))
    return cases


@pytest.mark.parametrize("folder,case", _real_bbox_cases())
def test_realdata_bbox(folder, case):
    with open(os.path.join(folder, case["gt"])) as f:
        dataset = json.load(f)
    with open(os.path.join(folder, case["dt"])) as f:
        results = json.load(f)
    if case.get("dt_format") == "dataset_annotations":
        results = results["annotations"]
    got, ev = check_against_pycocotools(dataset, results)
    with open(os.path.join(folder, "expected.json")) as f:
        expected = json.load(f)["evals"][case["id"]]
    gt, dt = to_columns(dataset, results)
    p = Params(iouType="bbox")
    p.imgIds = sorted(img["id"] for img in dataset["images"])
    p.catIds = sorted(c["id"] for c in dataset["categories"])
    stats, lines = reference.summarize(got["precision"], got["recall"], p)
    assert stats.tolist() == expected["stats"]
    assert [line.strip() for line in lines] == expected["summary"]


# ----------------------------------------------------------------------------------------
# PASCAL VOC
# ----------------------------------------------------------------------------------------

def _odm_txt_case():
    folder = os.path.join(REALDATA, "odm_voc_sample_7img")
    gt_rows, dt_rows = [], []
    for image_id, name in enumerate(sorted(os.listdir(os.path.join(folder, "groundtruths"))), 1):
        with open(os.path.join(folder, "groundtruths", name)) as f:
            for line in f:
                if line.strip():
                    _, x, y, w, h = line.split()
                    gt_rows.append((image_id, [float(x), float(y), float(w), float(h)]))
        with open(os.path.join(folder, "detections", name)) as f:
            for line in f:
                if line.strip():
                    _, s, x, y, w, h = line.split()
                    dt_rows.append((image_id, float(s), [float(x), float(y), float(w), float(h)]))
    gt = {"id": np.arange(1, len(gt_rows) + 1, dtype=np.int64),
          "image_id": np.array([r[0] for r in gt_rows], dtype=np.int64),
          "category_id": np.ones(len(gt_rows), dtype=np.int64),
          "bbox": np.array([r[1] for r in gt_rows], dtype=np.float64),
          "area": np.array([r[1][2] * r[1][3] for r in gt_rows], dtype=np.float64),
          "iscrowd": np.zeros(len(gt_rows), dtype=np.uint8)}
    dt = {"image_id": np.array([r[0] for r in dt_rows], dtype=np.int64),
          "category_id": np.ones(len(dt_rows), dtype=np.int64),
          "score": np.array([r[1] for r in dt_rows], dtype=np.float64),
          "bbox": np.array([r[2] for r in dt_rows], dtype=np.float64),
          "area": np.array([r[2][2] * r[2][3] for r in dt_rows], dtype=np.float64)}
    return gt, dt


@pytest.mark.parametrize("iou,all_point,eleven_point", [
    (0.1, 0.3371980676, 0.3333333333),
    (0.3, 0.2456866804, 0.2683982683),
    (0.5, 0.0222222222, 0.0303030303),
    (0.75, 0.0, 0.0),
])
def test_voc_odm_sample(iou, all_point, eleven_point):
    gt, dt = _odm_txt_case()
    res = reference.evaluate_voc(gt, dt, iou_threshold=iou)
    assert res["categories"].tolist() == [1] and res["n_pos"].tolist() == [15]
    assert abs(res["ap"][0] - all_point) <= 1e-9 and res["map"] == res["ap"][0]
    res11 = reference.evaluate_voc(gt, dt, iou_threshold=iou, use_11_point=True)
    assert abs(res11["ap"][0] - eleven_point) <= 1e-9


@pytest.mark.parametrize("iou,eleven_point,all_point",
                         [(0.5, 0.8864, 0.8958), (0.75, 0.4924, 0.5097)])
def test_voc_toyexample(iou, eleven_point, all_point):
    folder = os.path.join(REALDATA, "review_odm_toyexample_voc")
    with open(os.path.join(folder, "toy_example_coco.json")) as f:
        dataset = json.load(f)
    with open(os.path.join(folder, "coco_dets.json")) as f:
        results = json.load(f)["annotations"]
    gt, dt = to_columns(dataset, results)
    ap_11 = reference.evaluate_voc(gt, dt, iou, use_11_point=True)["ap"][0]
    assert abs(ap_11 - eleven_point) <= 5e-5
    assert abs(reference.evaluate_voc(gt, dt, iou)["ap"][0] - all_point) <= 5e-5


def test_voc_rules_by_hand():
    # image 1: gts A (difficult) and B; image 2: gt C; category 2 has only a difficult gt
    gt = {"id": np.arange(1, 5), "image_id": np.array([1, 1, 2, 2]),
          "category_id": np.array([1, 1, 1, 2]),
          "bbox": np.array([[0, 0, 9, 9], [20, 20, 9, 9], [0, 0, 9, 9], [0, 0, 9, 9]], float),
          "area": np.full(4, 100.0), "iscrowd": np.array([1, 0, 0, 1], np.uint8)}
    dt = {"image_id": np.array([1, 1, 1, 2, 3, 2]), "category_id": np.array([1, 1, 1, 1, 1, 2]),
          "bbox": np.array([[0, 0, 9, 9], [20, 20, 9, 9], [20, 20, 9, 9], [0, 0, 9, 4],
                            [0, 0, 9, 9], [0, 0, 9, 9]], float),
          "score": np.array([0.9, 0.8, 0.8, 0.7, 0.6, 0.5]), "area": np.full(6, 100.0)}
    # order: difficult (skip), B (TP), B again (FP, taken), C at IoU 0.5 (TP at 0.5),
    # image 3 without gt (FP)
    res = reference.evaluate_voc(gt, dt, iou_threshold=0.5)
    assert res["categories"].tolist() == [1, 2] and res["n_pos"].tolist() == [2, 0]
    tp = np.array([1, 0, 1, 0.0]); fp = np.array([0, 1, 0, 1.0])
    rec = np.cumsum(tp) / 2
    prec = np.cumsum(tp) / np.maximum(np.cumsum(tp) + np.cumsum(fp), np.finfo(np.float64).eps)
    assert res["ap"][0] == reference.voc_ap(rec, prec)
    assert res["ap"][0] == 0.5 * 1.0 + 0.5 * (2 / 3)
    assert np.isnan(res["ap"][1]) and res["map"] == res["ap"][0]
    # equal IoU with two gts: the first one is taken (here a difficult one: no TP)
    gt_tie = {"id": np.arange(1, 3), "image_id": np.array([1, 1]), "category_id": np.array([1, 1]),
              "bbox": np.array([[0, 0, 9, 9], [0, 0, 9, 9]], float), "area": np.full(2, 100.0),
              "iscrowd": np.array([1, 0], np.uint8)}
    dt_tie = {"image_id": np.array([1]), "category_id": np.array([1]),
              "bbox": np.array([[0, 0, 9, 9]], float), "score": np.array([0.9]),
              "area": np.array([100.0])}
    assert reference.evaluate_voc(gt_tie, dt_tie)["ap"][0] == 0.0
    # difficult from an explicit array instead of iscrowd
    gt2 = dict(gt, difficult=np.zeros(4, np.uint8))
    res2 = reference.evaluate_voc(gt2, dt, iou_threshold=0.5)
    assert res2["n_pos"].tolist() == [3, 1]
    # without +1 the IoU of det 4 with C is exactly 0.5 too; at 0.51 it misses
    res3 = reference.evaluate_voc(gt, dt, iou_threshold=0.51, plus_one=False)
    assert res3["ap"][0] == reference.voc_ap(np.array([0.5, 0.5, 0.5, 0.5]),
                                             np.array([1, 0.5, 1 / 3, 0.25]))

"""iouType="rotated": the COCO protocol on rotated boxes (detectron2's RotatedCOCOeval).

The oracle is what detectron2 does: pycocotools' own COCOeval with computeIoU replaced by a
rotated IoU (here fastap.rotated_iou, whose geometry tests/test_rotated.py holds against
shapely), the crowd rule applied to crowd ground truth (detectron2 asserts there is none).
Everything else -- _prepare, evaluateImg, accumulate, summarize -- is pycocotools' code, so
the whole eval arrays must be bit-identical to fastap's C pass."""
import copy
import json

import numpy as np
import pytest

import fastap
from fastap.errors import InvalidAnnotationError, InvalidOptionError
from fastap.synthetic import make_rotated_coco
from conftest import _run as run_coco
from conftest import assert_same_eval, assert_same_evalimgs_and_ious, oracle_gt_dt, quiet

pytest.importorskip("pycocotools")
from pycocotools.coco import COCO as PyCOCO            # noqa: E402
from pycocotools.cocoeval import COCOeval as PyCOCOeval  # noqa: E402

shapely = pytest.importorskip("shapely.geometry")


class RotatedOracle(PyCOCOeval):
    """detectron2's RotatedCOCOeval, its rotated IoU being fastap.rotated_iou (float64;
    detectron2's kernel runs in float32) and crowd ground truth taking the crowd rule."""

    def computeIoU(self, imgId, catId):
        pair = oracle_gt_dt(self, imgId, catId)
        if pair is None:
            return []
        gt, dt = pair
        g = np.array([o["bbox"] for o in gt], np.float64).reshape(-1, 5)
        d = np.array([o["bbox"] for o in dt], np.float64).reshape(-1, 5)
        return fastap.rotated_iou(d, g, iscrowd=[int(o["iscrowd"]) for o in gt])


def _run(cls_coco, cls_eval, dataset, results, iou_type, set_params=None):
    return run_coco(cls_coco, cls_eval, dataset, results, set_params, iou_type)[0]


def _oracle(dataset, results, set_params=None):
    return _run(PyCOCO, RotatedOracle, dataset, results, "bbox", set_params)


def _fastap(dataset, results, set_params=None):
    return _run(fastap.COCO, fastap.COCOeval, dataset, results, "rotated", set_params)


def _areas(p):
    p.areaRng = [[0, 1e10], [0, 900], [900, 6000], [6000, 1e10]]


def _max_dets(p):
    p.maxDets = [1, 3, 8]


def _no_cats(p):
    p.useCats = 0


def _thresholds(p):
    p.iouThrs = np.array([0.1, 0.5, 0.77])
    p.recThrs = np.linspace(0, 1, 21)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("set_params", [None, _areas, _max_dets, _no_cats, _thresholds])
def test_cocoeval_rotated_matches_oracle(seed, set_params):
    data, res = make_rotated_coco(seed, n_images=25, n_categories=3, crowd_frac=0.15)
    assert any(a["iscrowd"] for a in data["annotations"])
    ref = _oracle(data, res, set_params)
    ev = _fastap(data, res, set_params)
    assert_same_eval(ref, ev)
    assert (ref.eval["precision"] > 0.3).any()      # matches happen (not a vacuous comparison)


def test_ties_and_exact_thresholds():
    """Scores all tied (input order decides), and detections at IoU exactly 1 (a box turned
    by 90 degrees with w and h swapped) and exactly at a threshold (a box halved)."""
    data, res = make_rotated_coco(3, n_images=10, n_categories=2, score_decimals=0)
    extra = []
    for a in data["annotations"][:12]:
        x, y, w, h, t = a["bbox"]
        extra.append({"image_id": a["image_id"], "category_id": a["category_id"], "bbox": [x, y, h, w, t + 90],
                      "score": 0.5})
        # same centre and angle, width halved: IoU = 0.5 exactly (w/2*h / (w*h))
        extra.append({"image_id": a["image_id"], "category_id": a["category_id"], "bbox": [x, y, w / 2, h, t],
                      "score": 0.5})
    res = res + extra
    ref, ev = _oracle(data, res), _fastap(data, res)
    assert_same_eval(ref, ev)
    assert_same_evalimgs_and_ious(ref, ev)          # matches, ignore flags and IoU blocks


def test_results_file_and_dicts_as_pycocotools(tmp_path):
    """A results file with 5-value boxes: loadRes keeps them (pycocotools takes any bbox of
    4 values or more), area = w*h (bbox[2] * bbox[3]), a 4-corner segmentation from the
    first four values, ids 1..N, iscrowd 0 -- the dicts equal pycocotools' -- and the
    evaluation of the file equals that of the dicts."""
    data, res = make_rotated_coco(5, n_images=12)
    path = tmp_path / "res.json"
    path.write_text(json.dumps(res))
    with quiet():
        pg = PyCOCO()
        pg.dataset = copy.deepcopy(data)
        pg.createIndex()
        pres = pg.loadRes(str(path))
        fg = fastap.COCO()
        fg.dataset = copy.deepcopy(data)
        fg.createIndex()
        fres = fg.loadRes(str(path))
        ev = fastap.COCOeval(fg, fres, "rotated")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert_same_eval(_oracle(data, res), ev)
    assert fres.dataset["annotations"] == pres.dataset["annotations"]
    assert all(len(a["bbox"]) == 5 for a in fres.dataset["annotations"])
    # and once the dicts exist, they are what is read (an in-place edit is seen)
    fres.dataset["annotations"][0]["bbox"][2] = -1.0
    ev2 = fastap.COCOeval(fg, fres, "rotated")
    with quiet(), pytest.raises(InvalidAnnotationError, match=r"record 0.*'bbox'.*negative width"):
        ev2.evaluate()


def test_pycocotools_objects_as_input():
    """fastap's COCOeval on pycocotools' COCO objects (their loadRes dicts)."""
    data, res = make_rotated_coco(6, n_images=15)
    with quiet():
        pg = PyCOCO()
        pg.dataset = copy.deepcopy(data)
        pg.createIndex()
        pd = pg.loadRes(copy.deepcopy(res))
        ev = fastap.COCOeval(pg, pd, "rotated")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert_same_eval(_oracle(data, res), ev)


def test_python_flow_computeiou():
    """A subclass overriding evaluateImg runs pycocotools' flow, which calls fastap's
    computeIoU for iouType 'rotated': the same numbers as the C pass."""
    class Sub(fastap.COCOeval):
        def evaluateImg(self, imgId, catId, aRng, maxDet):
            return super().evaluateImg(imgId, catId, aRng, maxDet)

    data, res = make_rotated_coco(7, n_images=10, crowd_frac=0.2)
    ref = _fastap(data, res)
    ev = _run(fastap.COCO, Sub, data, res, "rotated")
    assert_same_eval(ref, ev)


def test_array_api_rotated():
    """fastap.evaluate(..., iou_type='rotated') on arrays: the numbers of COCOeval."""
    data, res = make_rotated_coco(8, n_images=20)
    ref = _fastap(data, res)
    anns = data["annotations"]
    gt = {"image_id": np.array([a["image_id"] for a in anns]), "category_id": np.array([a["category_id"] for a in anns]),
          "bbox": np.array([a["bbox"] for a in anns]), "area": np.array([a["area"] for a in anns]),
          "iscrowd": np.array([a["iscrowd"] for a in anns]), "id": np.array([a["id"] for a in anns])}
    dt = {"image_id": np.array([r["image_id"] for r in res]), "category_id": np.array([r["category_id"] for r in res]),
          "bbox": np.array([r["bbox"] for r in res]), "score": np.array([r["score"] for r in res])}
    out = fastap.evaluate(gt, dt, iou_type="rotated", img_ids=[i["id"] for i in data["images"]],
                          cat_ids=[c["id"] for c in data["categories"]])
    assert np.array_equal(out.precision, ref.eval["precision"])
    assert np.array_equal(out.recall, ref.eval["recall"])
    assert np.array_equal(np.asarray(out.stats), np.asarray(ref.stats))
    with quiet():
        g = fastap.COCO()
        g.dataset = copy.deepcopy(data)
        g.createIndex()
        d = g.loadRes(copy.deepcopy(res))
    out2 = fastap.evaluate(g, d, iou_type="rotated")
    assert np.array_equal(out2.precision, ref.eval["precision"])
    with pytest.raises(InvalidOptionError, match="box_format"):
        fastap.evaluate(gt, dt, iou_type="rotated", box_format="xyxy")


def test_crowd_rule_against_shapely():
    """rotated_iou(iscrowd=...): the intersection over the first box's area, as shapely
    measures it; the other columns unchanged."""
    rng = np.random.default_rng(0)
    a = np.c_[rng.uniform(0, 50, (30, 2)), rng.uniform(1, 20, (30, 2)), rng.uniform(-180, 180, 30)]
    b = np.c_[rng.uniform(0, 50, (20, 2)), rng.uniform(1, 20, (20, 2)), rng.uniform(-180, 180, 20)]
    crowd = rng.random(20) < 0.5

    def poly(x):
        cx, cy, w, h, t = x
        s, c = np.sin(np.deg2rad(t)), np.cos(np.deg2rad(t))
        return shapely.Polygon([(cx + c * dx + s * dy, cy - s * dx + c * dy)
                                for dx, dy in ((w / 2, h / 2), (-w / 2, h / 2), (-w / 2, -h / 2), (w / 2, -h / 2))])
    plain = fastap.rotated_iou(a, b)
    got = fastap.rotated_iou(a, b, iscrowd=crowd)
    assert np.array_equal(got[:, ~crowd], plain[:, ~crowd])
    ref = np.array([[poly(p).intersection(poly(q)).area / poly(p).area for q in b[crowd]] for p in a])
    assert np.abs(got[:, crowd] - ref).max() < 1e-9
    assert (got >= 0).all() and (got <= 1).all() and (got[:, crowd] > 0).any()
    with pytest.raises(InvalidAnnotationError, match="iscrowd"):
        fastap.rotated_iou(a, b, iscrowd=[0, 1])


def test_bad_input_is_named():
    data, res = make_rotated_coco(9, n_images=4)
    with quiet():
        g = fastap.COCO()
        g.dataset = copy.deepcopy(data)
        g.createIndex()
        d = g.loadRes(copy.deepcopy(res))
    # rotated results evaluated as axis-aligned boxes: refused, naming iouType 'rotated'
    ev = fastap.COCOeval(g, d, "bbox")
    with quiet(), pytest.raises(InvalidAnnotationError, match="iouType='rotated'"):
        ev.evaluate()
    # axis-aligned ground truth evaluated as rotated
    flat = copy.deepcopy(data)
    for a in flat["annotations"]:
        a["bbox"] = a["bbox"][:4]
    with quiet():
        g4 = fastap.COCO()
        g4.dataset = flat
        g4.createIndex()
    ev = fastap.COCOeval(g4, d, "rotated")
    with quiet(), pytest.raises(InvalidAnnotationError, match="'bbox' holds 4 values.*x_ctr, y_ctr, w, h, angle"):
        ev.evaluate()
    # a bad record: named by index, id and field
    bad = copy.deepcopy(data)
    bad["annotations"][2]["bbox"][3] = float("nan")
    with quiet():
        gb = fastap.COCO()
        gb.dataset = bad
        gb.createIndex()
    ev = fastap.COCOeval(gb, d, "rotated")
    with quiet(), pytest.raises(InvalidAnnotationError, match=r"record 2 \(id 3\): field 'bbox' should be finite"):
        ev.evaluate()
    mixed = copy.deepcopy(res)
    mixed[1]["bbox"] = mixed[1]["bbox"][:4]
    with quiet(), pytest.raises(InvalidAnnotationError, match="record 1.*'bbox'"):
        g.loadRes(mixed)


def test_no_detections():
    data, res = make_rotated_coco(10, n_images=5)
    ref = _oracle(data, res[:1])
    ev = _fastap(data, res[:1])
    assert_same_eval(ref, ev)


def test_detectron2_subclass_of_fastap_cocoeval():
    """detectron2's RotatedCOCOeval subclassing fastap's COCOeval (fastap standing in for
    pycocotools): iouType 'bbox', its own computeIoU over 5-value boxes of loadRes's dicts;
    pycocotools' flow runs and gives the oracle's numbers."""
    class D2Rotated(fastap.COCOeval):
        computeIoU = RotatedOracle.computeIoU

    data, res = make_rotated_coco(11, n_images=15, crowd_frac=0.1)
    assert_same_eval(_oracle(data, res), _run(fastap.COCO, D2Rotated, data, res, "bbox"))


def test_binding_checks_rows_and_ranges():
    """The row kernels' bindings refuse offsets and ranges outside their buffers (a
    ValueError, never a read out of bounds)."""
    from fastap import _core
    rec = _core.rotated_records(np.array([[0.0, 0, 2, 2, 0], [1, 1, 2, 2, 30]]))
    one = np.array([0], np.int64)
    with pytest.raises(ValueError, match="outside"):
        _core.rotated_iou_rows(rec[:1], one, one, np.array([3], np.int64), rec, np.zeros(2, np.uint8), 3)
    with pytest.raises(ValueError, match="outside"):
        _core.rotated_iou_rows(rec[:1], np.array([2], np.int64), one, np.array([2], np.int64), rec,
                               np.zeros(2, np.uint8), 3)
    with pytest.raises(ValueError, match="outside"):
        _core.rotated_best_gt(rec[:1], np.array([1], np.int64), np.array([2], np.int64), rec)
    out = _core.rotated_iou_rows(rec[:1], one, one, np.array([2], np.int64), rec, np.array([0, 1], np.uint8), 2)
    assert out[0] == 1.0 and out[1] == fastap.rotated_iou(np.array([[0.0, 0, 2, 2, 0]]), np.array([[1.0, 1, 2, 2, 30]]),
                                                          iscrowd=[1])[0, 0]
    best, best_iou = _core.rotated_best_gt(rec[1:], one, np.array([2], np.int64), rec)
    assert best.tolist() == [1] and best_iou.tolist() == [1.0]


def test_reports_on_rotated_boxes():
    """The reports compare detections with ground truth of any class by the rotated IoU
    (geometry.pair_ious): boxes at angle 0 give the confusion matrix and the error
    analysis of the bbox evaluation of the same boxes (x = x_ctr - w / 2, ...)."""
    data, res = make_rotated_coco(12, n_images=20, crowd_frac=0.0)
    for r in [a["bbox"] for a in data["annotations"]] + [r["bbox"] for r in res]:
        r[4] = 0.0
    ev = _fastap(data, res)
    flat, flat_res = copy.deepcopy(data), copy.deepcopy(res)
    for r in [a["bbox"] for a in flat["annotations"]] + [r["bbox"] for r in flat_res]:
        r[:] = [r[0] - r[2] / 2, r[1] - r[3] / 2, r[2], r[3]]
    ref = _run(fastap.COCO, fastap.COCOeval, flat, flat_res, "bbox")
    assert np.abs(ev.eval["precision"] - ref.eval["precision"]).max() < 1e-12
    cm, cm_ref = ev.confusion_matrix(), ref.confusion_matrix()
    assert np.array_equal(cm.matrix, cm_ref.matrix) and cm.matrix[:-1, :-1].trace() > 0
    ea, ea_ref = ev.error_analysis(), ref.error_analysis()
    assert ea.counts == ea_ref.counts

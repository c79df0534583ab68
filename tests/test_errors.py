"""Bad input gets a clear ValueError/TypeError naming the field and the record;
nothing is dropped silently."""
import copy
import json

import numpy as np
import pytest

import fastap
from fastap.errors import FastapError, InvalidAnnotationError, InvalidFileError

from conftest import quiet


def _gt():
    return {"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 1}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100,
                             "iscrowd": 0},
                            {"id": 2, "image_id": 2, "category_id": 1, "bbox": [5, 5, 10, 10], "area": 100,
                             "iscrowd": 0}]}


def _dets():
    return [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
            {"image_id": 2, "category_id": 1, "bbox": [5, 5, 10, 10], "score": 0.8}]


def _load_and_eval(gt, dets):
    with quiet():
        g = fastap.COCO(gt)
        d = g.loadRes(dets)
        ev = fastap.COCOeval(g, d, "bbox")
        ev.evaluate()
        ev.accumulate()
    return ev


@pytest.mark.parametrize("field,value,match", [
    ("bbox", [0, float("nan"), 10, 10], r"results record 1: field 'bbox' should be finite"),
    ("bbox", [0, 0, float("inf"), 10], r"results record 1: field 'bbox' should be finite"),
    ("bbox", [0, 0, -1, 10], r"results record 1: field 'bbox' has a negative width or height"),
    ("bbox", [0, 0, 10], r"results record 1: field 'bbox' should be 4 numbers, got \[0, 0, 10\]"),
    ("bbox", [0, 0, "10", 10], r"results record 1: field 'bbox' should be 4 numbers"),
    ("bbox", None, r"results record 1: field 'bbox' should be 4 numbers, got None"),
    ("score", float("nan"), r"results record 1: field 'score' should be finite"),
    ("score", "high", r"results record 1: field 'score' should be a number, got 'high'"),
    ("image_id", 3, r"results record 1: image_id 3 is not an image of the ground truth"),
    ("image_id", 1.5, r"results record 1: field 'image_id' should be an integer id"),
    ("category_id", "cat", r"results record 1: field 'category_id' should be a number, got 'cat'"),
])
def test_bad_result_record(field, value, match):
    dets = _dets()
    dets[1][field] = value
    with pytest.raises(InvalidAnnotationError, match=match):
        _load_and_eval(_gt(), dets)


def test_missing_score_names_record():
    dets = _dets()
    del dets[1]["score"]
    with pytest.raises(InvalidAnnotationError, match=r"results record 1: missing field 'score'"):
        _load_and_eval(_gt(), dets)


@pytest.mark.parametrize("field,value,match", [
    ("bbox", [0, 0, 10, float("nan")], r"annotations record 1 \(id 2\): field 'bbox' should be finite"),
    ("bbox", [0, 0, 10, -2], r"annotations record 1 \(id 2\): field 'bbox' has a negative width"),
    ("bbox", [1, 2, 3], r"annotations record 1 \(id 2\): field 'bbox' should be 4 numbers"),
    ("area", "big", r"annotations record 1 \(id 2\): field 'area' should be a number"),
    ("iscrowd", 2, r"annotations record 1 \(id 2\): field 'iscrowd' should be 0 or 1"),
])
def test_bad_ground_truth_record(field, value, match):
    gt = _gt()
    gt["annotations"][1][field] = value
    with pytest.raises(InvalidAnnotationError, match=match):
        _load_and_eval(gt, _dets())


def test_missing_gt_field():
    gt = _gt()
    del gt["annotations"][1]["bbox"]
    with pytest.raises(InvalidAnnotationError, match=r"annotations record 1 \(id 2\): missing field 'bbox'"):
        _load_and_eval(gt, _dets())


def test_duplicate_annotation_ids():
    gt = _gt()
    gt["annotations"][1]["id"] = 1
    with pytest.raises(InvalidAnnotationError, match=r"id 1 is used by records 0 and 1"):
        _load_and_eval(gt, _dets())


def test_file_not_json_names_file(tmp_path):
    bad = tmp_path / "gt.json"
    bad.write_text("{not json")
    with pytest.raises(InvalidFileError, match=str(bad)):
        with quiet():
            fastap.COCO(str(bad))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_gt()))
    res = tmp_path / "res.json"
    res.write_text('[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 0.5}]')
    with quiet():
        g = fastap.COCO(str(good))
    with pytest.raises(InvalidFileError, match=r"res.json.*record 0.*bbox"):
        with quiet():
            g.loadRes(str(res))
    with pytest.raises(InvalidFileError, match="cannot read"):
        with quiet():
            g.loadRes(str(tmp_path / "missing.json"))


def test_annotation_file_not_object(tmp_path):
    p = tmp_path / "gt.json"
    p.write_text("[1, 2]")
    with pytest.raises(InvalidAnnotationError, match="should hold a JSON object"):
        with quiet():
            fastap.COCO(str(p))


def test_large_annotation_file_checked_while_read(tmp_path, monkeypatch):
    """Annotation files of 1 MB or more are validated on a second thread while their
    members are read: the same dataset as a one-thread load, and for a broken file the
    same error, whatever reading the members ran into first."""
    from fastap.synthetic import make_keypoints_coco
    ds, _ = make_keypoints_coco(3, n_images=1500)
    text = json.dumps(ds)
    assert len(text) > 1 << 20
    good = tmp_path / "gt.json"
    good.write_text(text)
    cut = text.index('"annotations"') + len(text) // 4
    broken = {
        "annotations": text[:cut] + "]]" + text[cut:],             # brackets do not match
        "images": text.replace('"height": ', '"height": -', 1).replace('"height": -', '"height": --', 1),
        "tail": text + " x",
        "string": text.replace('"keypoints": [', '"keypoints": ["\\x", ', 1),   # an invalid escape
    }
    loads = {}
    for threads in ("1", "2"):
        monkeypatch.setenv("FASTAP_NUM_THREADS", threads)
        with quiet():
            g = fastap.COCO(str(good))
        loads[threads] = g
        for name, bad in broken.items():
            p = tmp_path / ("%s.json" % name)
            p.write_text(bad)
            with pytest.raises(InvalidFileError, match="not a valid JSON file") as ei:
                with quiet():
                    fastap.COCO(str(p))
            loads[threads, name] = str(ei.value)
    for name in broken:
        assert loads["1", name] == loads["2", name]
    a, b = loads["1"], loads["2"]
    assert a.dataset == b.dataset == ds
    for k in ("id", "image_id", "bbox", "area"):
        assert np.array_equal(a._columns("gt")[k], b._columns("gt")[k])


def test_results_array_shape():
    with quiet():
        g = fastap.COCO(_gt())
    with pytest.raises(InvalidAnnotationError, match=r"shape \(N, 7\)"):
        with quiet():
            g.loadRes(np.zeros((3, 6)))


def test_array_api_errors():
    gt = {"image_id": [1, 2], "category_id": [1, 1], "bbox": [[0, 0, 1, 1], [0, 0, 1, 1]]}
    dt = {"image_id": [1], "category_id": [1], "bbox": [[0, 0, 1, 1]], "score": [np.inf]}
    with pytest.raises(InvalidAnnotationError, match=r"detections record 0: field 'score' should be finite"):
        fastap.evaluate(gt, dt)
    with pytest.raises(InvalidAnnotationError, match=r"detections: missing field 'score'"):
        fastap.evaluate(gt, {"image_id": [1], "category_id": [1], "bbox": [[0, 0, 1, 1]]})
    with pytest.raises(InvalidAnnotationError, match=r"field 'bbox' should have shape \(1, 4\)"):
        fastap.evaluate(gt, {"image_id": [1], "category_id": [1], "bbox": np.zeros((1, 5)), "score": [1.0]})
    with pytest.raises(TypeError, match="mapping of arrays"):
        fastap.evaluate([1, 2], dt)
    with pytest.raises(ValueError, match="protocol should be"):
        fastap.evaluate(gt, {**dt, "score": [0.5]}, protocol="lvis-v0")


def test_errors_are_value_and_type_errors():
    assert issubclass(InvalidAnnotationError, ValueError) and issubclass(InvalidAnnotationError, FastapError)
    assert issubclass(fastap.InvalidTypeError, TypeError)


def test_nothing_dropped_categories_outside_gt_still_counted():
    """A detection of a category absent from the ground truth is kept by loadRes (as in
    pycocotools) and simply not evaluated; the result count is unchanged."""
    dets = _dets() + [{"image_id": 1, "category_id": 99, "bbox": [0, 0, 1, 1], "score": 0.1}]
    with quiet():
        g = fastap.COCO(_gt())
        with pytest.warns(fastap.UnknownIdsWarning, match="1 of 3 records have a category_id"):
            d = g.loadRes(copy.deepcopy(dets))
    assert len(d.dataset["annotations"]) == 3


@pytest.mark.parametrize("iou_type", ["segm", "keypoints"])
def test_results_file_rewritten_after_loadres(tmp_path, iou_type):
    """A results file rewritten in place after loadRes (a shorter file): evaluation never
    reads it again (what the results keep of its text was copied at loadRes; the reads
    in place used to end the interpreter with a bus error) and gives the numbers of the
    file loadRes read; building the result dicts, which reads it again, is refused with
    an error naming the file. A file replaced by rename leaves the loaded results as they
    were."""
    import io
    import json
    import os
    from contextlib import redirect_stdout
    from fastap.synthetic import make_keypoints_coco, make_segm_coco
    if iou_type == "segm":
        ds, res = make_segm_coco(3, n_images=6, n_categories=3, dets_per_image=10)
    else:
        ds, res = make_keypoints_coco(3, n_images=12)
    g, d = tmp_path / "gt.json", tmp_path / "dt.json"
    g.write_text(json.dumps(ds))
    d.write_text(json.dumps(res))
    with redirect_stdout(io.StringIO()):
        gt = fastap.COCO(str(g))
        dt = gt.loadRes(str(d))
        ref = fastap.COCOeval(gt, gt.loadRes(json.loads(d.read_text())), iou_type)
        ref.evaluate()
        ref.accumulate()
        d.write_text("[]")                                   # rewritten in place
        ev = fastap.COCOeval(gt, dt, iou_type)
        ev.evaluate()
        ev.accumulate()
        assert np.array_equal(ev.eval["precision"].view(np.uint64), ref.eval["precision"].view(np.uint64))
        with pytest.raises(fastap.InvalidFileError, match=r"dt\.json: the results file changed on disk"):
            dt.dataset
        with pytest.raises(fastap.InvalidFileError, match="load it again"):
            dt.loadAnns(dt.getAnnIds())
    # replaced by rename: the mapping still holds the loaded text (the old file's pages)
    d2 = tmp_path / "dt2.json"
    d2.write_text(json.dumps(res))
    with redirect_stdout(io.StringIO()):
        kept = gt.loadRes(str(d2))
        tmp = tmp_path / "new.json"
        tmp.write_text("[]")
        os.replace(tmp, d2)
        ev = fastap.COCOeval(gt, kept, iou_type)
        ev.evaluate()
        ev.accumulate()
    assert np.array_equal(ev.eval["precision"].view(np.uint64), ref.eval["precision"].view(np.uint64))
    assert len(kept.dataset["annotations"]) == len(res)

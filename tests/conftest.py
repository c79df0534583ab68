"""Shared helpers: run pycocotools (the oracle) and fastap on the same data."""
import contextlib
import copy
import io
import json
import os

import numpy as np
import pytest

DATA = os.path.join(os.path.dirname(__file__), "data")
REALDATA = os.path.join(DATA, "realdata")


def quiet():
    return contextlib.redirect_stdout(io.StringIO())


def _run(COCO, COCOeval, dataset, results, set_params, iou_type="bbox", **eval_kw):
    """COCO from a copy of `dataset` (as frameworks do: dataset + createIndex), loadRes
    of a copy of `results`, COCOeval of `iou_type`; returns it and its summary lines."""
    with quiet():
        gt = COCO()
        gt.dataset = copy.deepcopy(dataset)
        gt.createIndex()
        dt = gt.loadRes(copy.deepcopy(results))
        ev = COCOeval(gt, dt, iou_type, **eval_kw)
        if set_params:
            set_params(ev.params)
        ev.evaluate()
        ev.accumulate()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ev.summarize()
    return ev, out.getvalue().splitlines()


def run_pycocotools(dataset, results, set_params=None, iou_type="bbox"):
    """pycocotools COCOeval on a dataset dict and a results list; returns the
    evaluated object and the printed summary lines."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    return _run(COCO, COCOeval, dataset, results, set_params, iou_type)


def run_fastap(dataset, results, set_params=None, num_threads=None, iou_type="bbox"):
    import fastap
    return _run(fastap.COCO, fastap.COCOeval, dataset, results, set_params, iou_type, num_threads=num_threads)


def compare_with_pycocotools(dataset, results, iou_type, set_params=None):
    """pycocotools and fastap on the same data: whole arrays, stats and printed lines
    equal; returns (pycocotools' COCOeval, fastap's)."""
    ref, ref_lines = run_pycocotools(dataset, results, set_params, iou_type=iou_type)
    ev, lines = run_fastap(dataset, results, set_params, iou_type=iou_type)
    assert_same_eval(ref, ev)
    assert lines == ref_lines
    return ref, ev


def oracle_gt_dt(ev, imgId, catId):
    """What pycocotools' computeIoU compares, for an oracle subclass of its COCOeval:
    (ground truths, detections by descending score cut to maxDets[-1]) of (imgId, catId)
    (of every category with useCats=0); None when both are empty."""
    p = ev.params
    if p.useCats:
        gt, dt = ev._gts[imgId, catId], ev._dts[imgId, catId]
    else:
        gt = [g for c in p.catIds for g in ev._gts[imgId, c]]
        dt = [d for c in p.catIds for d in ev._dts[imgId, c]]
    if len(gt) == 0 and len(dt) == 0:
        return None
    order = np.argsort([-d["score"] for d in dt], kind="mergesort")
    return gt, [dt[i] for i in order][:p.maxDets[-1]]


def assert_same_evalimgs_and_ious(ref, ev):
    """evalImgs (ids, scores, matches, ignore flags) and ious equal pycocotools'."""
    assert set(ref.ious) == set(ev.ious)
    for key, v in ref.ious.items():
        assert np.array_equal(np.asarray(v), np.asarray(ev.ious[key])), key
    assert len(ref.evalImgs) == len(ev.evalImgs)
    for a, b in zip(ref.evalImgs, ev.evalImgs):
        assert (a is None) == (b is None)
        if a is not None:
            for k in ("dtIds", "gtIds", "dtScores"):
                assert a[k] == b[k]
            for k in ("dtMatches", "gtMatches", "gtIgnore", "dtIgnore"):
                assert np.array_equal(a[k], b[k]), k


def assert_same_eval(ref, ev):
    """Whole arrays bit-identical (max abs diff exactly 0) and the same stats."""
    for key in ("precision", "recall", "scores"):
        a, b = ref.eval[key], ev.eval[key]
        assert a.shape == b.shape, (key, a.shape, b.shape)
        assert np.array_equal(a, b), (key, float(np.max(np.abs(a - b))))
    assert ref.eval["counts"] == ev.eval["counts"]
    assert np.array_equal(np.asarray(ref.stats), np.asarray(ev.stats)), (ref.stats, ev.stats)


def load_case(name, eval_id="bbox"):
    """(dataset dict, results list, expected dict) of a realdata case."""
    d = os.path.join(REALDATA, name)
    with open(os.path.join(d, "case.json")) as f:
        case = json.load(f)
    ev = next(e for e in case["evals"] if e["id"] == eval_id)
    with open(os.path.join(d, ev["gt"])) as f:
        gt = json.load(f)
    with open(os.path.join(d, ev["dt"])) as f:
        dt = json.load(f)
    if ev.get("dt_format") == "dataset_annotations":
        dt = dt["annotations"]
    with open(os.path.join(d, "expected.json")) as f:
        expected = json.load(f)["evals"][eval_id]
    return gt, dt, expected, os.path.join(d, ev["gt"]), os.path.join(d, ev["dt"])


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def num_threads(request):
    return request.param


def evaluate_from_file_twice(tmp_path, dataset, results, iou_type):
    """Ground truth written to a file and read by fastap.COCO, then two full evaluations
    of the results against it (a new COCOeval each time, as every epoch of training
    does). Returns (the COCO, [the two COCOevals]) -- the caller is inside quiet()."""
    import fastap
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(dataset))
    gt = fastap.COCO(str(path))
    runs = []
    for _ in range(2):
        ev = fastap.COCOeval(gt, gt.loadRes(copy.deepcopy(results)), iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        runs.append(ev)
    return gt, runs

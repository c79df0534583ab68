"""Every case of tests/data/realdata (real COCO-format data with pycocotools' published
numbers), for every iou type it has (bbox, segm, keypoints): stats equal expected.json
exactly, whole arrays equal a live pycocotools run, from the files and from in-memory
dicts."""
import glob
import json
import os

import numpy as np
import pytest

import fastap

from conftest import REALDATA, assert_same_eval, load_case, quiet, run_fastap, run_pycocotools


def _cases():
    out = []
    for path in sorted(glob.glob(os.path.join(REALDATA, "*", "case.json"))):
        with open(path) as f:
            case = json.load(f)
        for ev in case["evals"]:
            if ev.get("iou_type") in ("bbox", "segm", "keypoints") and "gt" in ev and "dt" in ev \
                    and os.path.exists(os.path.join(os.path.dirname(path), ev["dt"])):
                out.append((os.path.basename(os.path.dirname(path)), ev["id"], ev["iou_type"]))
    return out


CASES = _cases()
IDS = ["%s-%s" % (c[0], c[1]) for c in CASES]


def test_cases_found():
    kinds = [c[2] for c in CASES]
    assert kinds.count("bbox") >= 6 and kinds.count("segm") >= 3 and kinds.count("keypoints") >= 1, CASES


@pytest.mark.parametrize("name,eval_id,iou_type", CASES, ids=IDS)
def test_realdata_stats_match_expected(name, eval_id, iou_type):
    gt, dt, expected, gt_path, dt_path = load_case(name, eval_id)
    ev, lines = run_fastap(gt, dt, iou_type=iou_type)
    assert ev.stats.tolist() == expected["stats"]
    assert [l.strip() for l in lines] == [l.strip() for l in expected["summary"]]
    for cat, want in expected.get("per_category", {}).items():
        k = ev.params.catIds.index(int(cat))
        p = ev.eval["precision"][:, :, k, 0, -1]
        ap = float(np.mean(p[p > -1])) if (p > -1).any() else -1.0
        assert ap == want["ap"], (cat, ap, want["ap"])


@pytest.mark.parametrize("name,eval_id,iou_type", CASES, ids=IDS)
def test_realdata_arrays_match_pycocotools(name, eval_id, iou_type):
    pytest.importorskip("pycocotools")
    gt, dt, _, _, _ = load_case(name, eval_id)
    ref, ref_lines = run_pycocotools(gt, dt, iou_type=iou_type)
    ev, lines = run_fastap(gt, dt, iou_type=iou_type)
    assert_same_eval(ref, ev)
    assert lines == ref_lines
    for a, b in zip(ref.evalImgs, ev.evalImgs):
        assert (a is None) == (b is None)
        if a is not None:
            assert a["dtIds"] == b["dtIds"] and a["gtIds"] == b["gtIds"]
            assert np.array_equal(a["dtMatches"], b["dtMatches"]) and np.array_equal(a["dtIgnore"], b["dtIgnore"])
    for key, v in ref.ious.items():
        assert np.array_equal(np.asarray(v), np.asarray(ev.ious[key])), key


@pytest.mark.parametrize("name,eval_id,iou_type", CASES, ids=IDS)
def test_realdata_from_files(name, eval_id, iou_type):
    gt, dt, expected, gt_path, dt_path = load_case(name, eval_id)
    with open(os.path.join(REALDATA, name, "case.json")) as f:
        fmt = next(e for e in json.load(f)["evals"] if e["id"] == eval_id).get("dt_format")
    with quiet():
        g = fastap.COCO(gt_path)
        d = g.loadRes(dt if fmt == "dataset_annotations" else dt_path)
        ev = fastap.COCOeval(g, d, iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert ev.stats.tolist() == expected["stats"]


def test_demo_case_published_numbers():
    """The cocoapi demo: pycocotools prints AP 0.505 (published printout, 3 decimals)."""
    gt, dt, expected, _, _ = load_case("cocoapi_val2014_fake100", "bbox")
    ev, lines = run_fastap(gt, dt)
    assert lines[0].endswith("= 0.505")
    published = [0.505, 0.697, 0.573, 0.586, 0.519, 0.501, 0.387, 0.594, 0.595, 0.640, 0.566, 0.564]
    assert np.round(ev.stats, 3).tolist() == published

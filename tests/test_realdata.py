"""Every bbox case of tests/data/realdata (real COCO-format data with pycocotools'
published numbers): stats equal expected.json exactly, whole arrays equal a live
pycocotools run, from the files and from in-memory dicts."""
import glob
import json
import os

import numpy as np
import pytest

import fastap

from conftest import REALDATA, assert_same_eval, load_case, quiet, run_fastap, run_pycocotools


def _bbox_cases():
    out = []
    for path in sorted(glob.glob(os.path.join(REALDATA, "*", "case.json"))):
        with open(path) as f:
            case = json.load(f)
        for ev in case["evals"]:
            if ev.get("iou_type") == "bbox" and "gt" in ev and "dt" in ev:
                out.append(os.path.basename(os.path.dirname(path)))
    return out


CASES = _bbox_cases()


def test_cases_found():
    assert len(CASES) >= 6, CASES


@pytest.mark.parametrize("name", CASES)
def test_realdata_stats_match_expected(name):
    gt, dt, expected, gt_path, dt_path = load_case(name)
    ev, lines = run_fastap(gt, dt)
    assert ev.stats.tolist() == expected["stats"]
    assert [l.strip() for l in lines] == [l.strip() for l in expected["summary"]]
    for cat, want in expected.get("per_category", {}).items():
        k = ev.params.catIds.index(int(cat))
        p = ev.eval["precision"][:, :, k, 0, -1]
        ap = float(np.mean(p[p > -1])) if (p > -1).any() else -1.0
        assert ap == want["ap"], (cat, ap, want["ap"])


@pytest.mark.parametrize("name", CASES)
def test_realdata_arrays_match_pycocotools(name):
    pytest.importorskip("pycocotools")
    gt, dt, _, _, _ = load_case(name)
    ref, ref_lines = run_pycocotools(gt, dt)
    ev, lines = run_fastap(gt, dt)
    assert_same_eval(ref, ev)
    assert lines == ref_lines


@pytest.mark.parametrize("name", [c for c in CASES])
def test_realdata_from_files(name):
    gt, dt, expected, gt_path, dt_path = load_case(name)
    with open(os.path.join(REALDATA, name, "case.json")) as f:
        fmt = next(e for e in json.load(f)["evals"] if e["id"] == "bbox").get("dt_format")
    with quiet():
        g = fastap.COCO(gt_path)
        d = g.loadRes(dt if fmt == "dataset_annotations" else dt_path)
        ev = fastap.COCOeval(g, d, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert ev.stats.tolist() == expected["stats"]


def test_demo_case_published_numbers():
    """The cocoapi demo: pycocotools prints AP 0.505 (published printout, 3 decimals)."""
    gt, dt, expected, _, _ = load_case("cocoapi_val2014_fake100")
    ev, lines = run_fastap(gt, dt)
    assert lines[0].endswith("= 0.505")
    published = [0.505, 0.697, 0.573, 0.586, 0.519, 0.501, 0.387, 0.594, 0.595, 0.640, 0.566, 0.564]
    assert np.round(ev.stats, 3).tolist() == published

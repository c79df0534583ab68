"""Input that is valid but looks like a mistake gets a warning (issue 16, item 6).

pycocotools gives the same numbers for these inputs, and so does fastap: the warning
(a :class:`fastap.FastapWarning` through Python's ``warnings``, never on stdout) says
what looks wrong and how many records it affects; the numbers never change. Legitimate
inputs (a per-batch evaluation with ``params.imgIds`` restricted, a category without
detections, detections of a category without ground truth) get no warning.
"""
import contextlib
import copy
import io
import json
import os
import warnings

import numpy as np
import pytest

import fastap
from fastap.errors import (BoxesAsMasksWarning, EmptyResultsWarning, FastapWarning, IgnoredArgumentWarning,
                           UnknownIdsWarning)

from conftest import REALDATA

CASE = os.path.join(REALDATA, "cocoapi_val2014_fake100")
GT = os.path.join(CASE, "instances_val2014_100.json")
DT = os.path.join(CASE, "instances_val2014_fakebbox100_results.json")


def quiet():
    return contextlib.redirect_stdout(io.StringIO())


@contextlib.contextmanager
def fastap_warnings():
    """Every FastapWarning issued inside, each time (not once per location)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = []
        yield got
    got.extend(w for w in caught if issubclass(w.category, FastapWarning))


def no_fastap_warning():
    return _NoWarning()


class _NoWarning:
    def __enter__(self):
        self._cm = fastap_warnings()
        self.got = self._cm.__enter__()
        return self.got

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)
        assert not self.got, [str(w.message) for w in self.got]
        return False


def results():
    with open(DT) as f:
        return json.load(f)


def coco_eval(gt, dt, iou_type="bbox", set_params=None):
    with quiet():
        ev = fastap.COCOeval(gt, dt, iou_type)
        if set_params:
            set_params(ev.params)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def pycocotools_stats(res, iou_type="bbox"):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    with quiet():
        gt = COCO(GT)
        ev = COCOeval(gt, gt.loadRes(copy.deepcopy(res)), iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


# -- the classes ---------------------------------------------------------------------------

def test_warning_classes_are_exported():
    for name in ("FastapWarning", "UnknownIdsWarning", "EmptyResultsWarning", "BoxesAsMasksWarning",
                 "IgnoredArgumentWarning"):
        cls = getattr(fastap, name)
        assert name in fastap.__all__ and cls.__doc__
        assert issubclass(cls, fastap.FastapWarning) and issubclass(cls, UserWarning)
    w = UnknownIdsWarning("x", records=3)
    assert str(w) == "x" and w.records == 3


# -- results whose category ids are not the ground truth's ----------------------------------

def test_loadres_shifted_categories_warn_and_numbers_unchanged():
    res = results()
    for r in res:
        r["category_id"] += 1000
    with quiet():
        gt = fastap.COCO(GT)
    with fastap_warnings() as got, quiet():
        dt = gt.loadRes(res)
    assert [w.category for w in got] == [UnknownIdsWarning]
    msg = str(got[0].message)
    assert "734 of 734" in msg and "category_id" in msg and "1001" in msg
    assert got[0].message.records == 734
    ev = coco_eval(gt, dt)
    assert np.array_equal(ev.stats, pycocotools_stats(res))


def test_loadres_file_names_the_file(tmp_path):
    res = results()
    for r in res:
        r["category_id"] += 1000
    path = tmp_path / "shifted.json"
    path.write_text(json.dumps(res))
    with quiet():
        gt = fastap.COCO(GT)
    with fastap_warnings() as got, quiet():
        gt.loadRes(str(path))
    assert len(got) == 1 and "shifted.json" in str(got[0].message)


def test_loadres_zero_based_class_indices():
    """Contiguous 0-based class indices against COCO's sparse 1-based category ids: the
    records whose index is not an id are counted, and the message says what it looks like."""
    with quiet():
        gt = fastap.COCO(GT)
    cat_ids = sorted(gt.getCatIds())
    index = {c: i for i, c in enumerate(cat_ids)}
    res = results()
    for r in res:
        r["category_id"] = index[r["category_id"]]
    n_bad = sum(r["category_id"] not in gt.cats for r in res)
    assert 0 < n_bad < len(res)
    with fastap_warnings() as got, quiet():
        dt = gt.loadRes(res)
    assert [w.category for w in got] == [UnknownIdsWarning]
    msg = str(got[0].message)
    assert "%d of %d" % (n_bad, len(res)) in msg and "class indices" in msg
    ev = coco_eval(gt, dt)
    assert np.array_equal(ev.stats, pycocotools_stats(res))


def test_loadres_warns_once_per_ground_truth():
    """The torchvision flow calls loadRes per batch: one warning, not one per batch."""
    with quiet():
        gt = fastap.COCO(GT)
    res = results()
    for r in res:
        r["category_id"] += 1000
    with fastap_warnings() as got, quiet():
        for k in range(0, 40, 10):
            gt.loadRes(res[k:k + 10])
    assert len(got) == 1 and "10 of 10" in str(got[0].message)


def test_loadres_with_categories_narrowed_on_purpose_does_not_warn():
    """``cats`` assigned a subset of the annotations' categories (as mmdetection does):
    results of the others are expected, not a mistake."""
    for lazy in (True, False):
        with quiet():
            gt = fastap.COCO(GT) if lazy else fastap.COCO(json.load(open(GT)))
        gt.cats = {c: v for c, v in gt.cats.items() if c % 2}
        with no_fastap_warning(), quiet():
            gt.loadRes(results())


# -- empty results ----------------------------------------------------------------------------

def test_cocoeval_empty_results_warn(tmp_path):
    path = tmp_path / "empty.json"
    path.write_text("[]")
    with quiet():
        gt = fastap.COCO(GT)
        dt = gt.loadRes(str(path))
    with fastap_warnings() as got:
        ev = coco_eval(gt, dt)
    assert [w.category for w in got] == [EmptyResultsWarning]
    assert "no detections" in str(got[0].message)
    assert ev.stats.tolist() == [0.0] * 12


def test_cocoeval_empty_batch_does_not_warn():
    """A batch without detections in a per-batch flow is not a mistake."""
    with quiet():
        gt = fastap.COCO(GT)
        dt = gt.loadRes([])
    img = sorted(gt.getImgIds())[:4]
    with no_fastap_warning():
        with quiet():
            ev = fastap.COCOeval(gt, dt, "bbox")
            ev.params.imgIds = img
            ev.evaluate()


def test_evaluate_arrays_empty_warns():
    gt = {"image_id": [1, 2], "category_id": [1, 1], "bbox": [[0, 0, 10, 10], [0, 0, 5, 5]]}
    dt = {"image_id": np.zeros(0, np.int64), "category_id": np.zeros(0, np.int64), "bbox": np.zeros((0, 4)),
          "score": np.zeros(0)}
    with fastap_warnings() as got:
        res = fastap.evaluate(gt, dt)
    assert [w.category for w in got] == [EmptyResultsWarning]
    assert res.map == 0.0
    with fastap_warnings() as got:
        fastap.evaluate(gt, dt, protocol="voc")
    assert [w.category for w in got] == [EmptyResultsWarning]


# -- segm on results that have only boxes ----------------------------------------------------

@pytest.mark.parametrize("as_file", [True, False])
def test_segm_on_box_results_warns(as_file):
    with quiet():
        gt = fastap.COCO(GT)
        dt = gt.loadRes(DT if as_file else results())
    with fastap_warnings() as got:
        ev = coco_eval(gt, dt, "segm")
    assert [w.category for w in got] == [BoxesAsMasksWarning]
    msg = str(got[0].message)
    assert "734 of 734" in msg and "segmentation" in msg
    assert np.array_equal(ev.stats, pycocotools_stats(results(), "segm"))


def test_segm_on_some_box_results_counts_them():
    with quiet():
        gt = fastap.COCO(GT)
        seg = gt.loadRes(DT)
        anns = seg.dataset["annotations"]        # box results as dicts, their rectangles as polygons
    res = [{k: a[k] for k in ("image_id", "category_id", "bbox", "score")} for a in anns]
    for r, a in zip(res[:100], anns[:100]):
        r["segmentation"] = gt.annToRLE(a)
        r["segmentation"]["counts"] = r["segmentation"]["counts"].decode()
    with quiet():
        dt = gt.loadRes(res)
    with fastap_warnings() as got:
        coco_eval(gt, dt, "segm")
    assert len(got) == 1 and "634 of 734" in str(got[0].message)


def test_segm_with_masks_does_not_warn():
    with quiet():
        gt = fastap.COCO(GT)
        dt = gt.loadRes(os.path.join(CASE, "instances_val2014_fakesegm100_results.json"))
    with no_fastap_warning():
        coco_eval(gt, dt, "segm")


def test_warnings_never_print_on_stdout():
    """The drop-in prints what pycocotools prints: a warning goes to stderr."""
    res = results()
    for r in res:
        r["category_id"] += 1000
    out = io.StringIO()
    with fastap_warnings() as got:
        with contextlib.redirect_stdout(out):
            gt = fastap.COCO(GT)
            dt = gt.loadRes(res)
            ev = fastap.COCOeval(gt, dt, "segm")
            ev.evaluate()
    assert [w.category for w in got] == [UnknownIdsWarning, BoxesAsMasksWarning]
    assert "category" not in out.getvalue() and "warning" not in out.getvalue().lower()


# -- the array API ------------------------------------------------------------------------------

def _arrays(dt_cat_shift=0, dt_img_shift=0):
    rng = np.random.default_rng(0)
    n = 60
    box = np.c_[rng.uniform(0, 50, (n, 2)), rng.uniform(5, 30, (n, 2))]
    gt = {"image_id": np.arange(n) % 10 + 1, "category_id": np.arange(n) % 3 + 1, "bbox": box}
    dt = {"image_id": gt["image_id"] + dt_img_shift, "category_id": gt["category_id"] + dt_cat_shift,
          "bbox": box + 0.5, "score": rng.uniform(0, 1, n)}
    return gt, dt


def test_evaluate_arrays_disjoint_categories_warn():
    gt, dt = _arrays(dt_cat_shift=100)
    with fastap_warnings() as got:
        res = fastap.evaluate(gt, dt)
    assert [w.category for w in got] == [UnknownIdsWarning]
    msg = str(got[0].message)
    assert "60 of 60" in msg and "category" in msg and "101" in msg
    assert res.map == 0.0
    with fastap_warnings() as got:
        assert fastap.evaluate(gt, dt, protocol="voc").map == 0.0
    assert [w.category for w in got] == [UnknownIdsWarning]


def test_evaluate_arrays_zero_based_labels_warn():
    """Labels 0..2 against categories 1..3: most labels are categories too, but shifted."""
    gt, dt = _arrays(dt_cat_shift=-1)
    with fastap_warnings() as got:
        fastap.evaluate(gt, dt)
    assert [w.category for w in got] == [UnknownIdsWarning]
    msg = str(got[0].message)
    assert "20 of 60" in msg and "0-based" in msg


def test_evaluate_arrays_disjoint_images_warn():
    gt, dt = _arrays(dt_img_shift=1000)
    with fastap_warnings() as got:
        res = fastap.evaluate(gt, dt)
    assert [w.category for w in got] == [UnknownIdsWarning]
    assert "image" in str(got[0].message) and "60 of 60" in str(got[0].message)
    assert res.map == 0.0


def test_evaluate_arrays_legitimate_inputs_do_not_warn():
    gt, dt = _arrays()
    with no_fastap_warning():
        fastap.evaluate(gt, dt)
        # a category without detections, and detections of a category without ground truth
        gt2 = {k: np.concatenate([v, v[:1]]) for k, v in gt.items()}
        gt2["category_id"][-1] = 7
        dt2 = {k: np.concatenate([v, v[:2]]) for k, v in dt.items()}
        dt2["category_id"][-2:] = 9
        fastap.evaluate(gt2, dt2)
        fastap.evaluate(gt2, dt2, protocol="voc")
        # a few images without detections, and detections on images without ground truth
        dt3 = {k: v[:30] for k, v in dt.items()}
        dt3["image_id"] = dt3["image_id"].copy()
        dt3["image_id"][:5] = 99
        fastap.evaluate(gt, dt3)
        # a model that matches nothing at all, on the right images and categories
        dt4 = dict(dt, bbox=dt["bbox"] + 500)
        fastap.evaluate(gt, dt4)


def test_iou_threshold_under_coco_protocol_warns():
    gt, dt = _arrays()
    base = fastap.evaluate(gt, dt)
    with fastap_warnings() as got:
        res = fastap.evaluate(gt, dt, iou_threshold=0.75)
    assert [w.category for w in got] == [IgnoredArgumentWarning]
    assert "iou_threshold" in str(got[0].message) and "iou_thresholds" in str(got[0].message)
    assert np.array_equal(res.stats, base.stats)
    with fastap_warnings() as got:
        fastap.evaluate(gt, dt, iou_threshold=0.5)       # even the VOC default: it is not AP50
    assert [w.category for w in got] == [IgnoredArgumentWarning]
    with fastap_warnings() as got:
        fastap.evaluate(gt, dt, plus_one=False)
    assert [w.category for w in got] == [IgnoredArgumentWarning]


def test_coco_arguments_under_voc_protocol_warn():
    gt, dt = _arrays()
    base = fastap.evaluate(gt, dt, protocol="voc")
    for kw in ({"iou_thresholds": [0.75]}, {"max_dets": [10]}, {"area_ranges": [[0, 1e5]]},
               {"rec_thresholds": [0, 1]}):
        with fastap_warnings() as got:
            res = fastap.evaluate(gt, dt, protocol="voc", **kw)
        assert [w.category for w in got] == [IgnoredArgumentWarning], kw
        assert list(kw)[0] in str(got[0].message)
        assert res.map == base.map
    with no_fastap_warning():
        fastap.evaluate(gt, dt, protocol="voc07", iou_threshold=0.3, plus_one=False)


# -- COCOeval: legitimate flows ------------------------------------------------------------------

def test_per_batch_flow_and_class_reruns_do_not_warn():
    with quiet():
        gt = fastap.COCO(GT)
    res = results()
    img_ids = sorted(gt.getImgIds())
    with no_fastap_warning():
        for k in range(0, len(img_ids), 16):
            batch = set(img_ids[k:k + 16])
            with quiet():
                part = [r for r in res if r["image_id"] in batch]
                dt = gt.loadRes(part) if part else fastap.COCO()
                ev = fastap.COCOeval(gt, dt, "bbox")
                ev.params.imgIds = sorted(batch)
                ev.evaluate()
        with quiet():
            dt = gt.loadRes(res)
        for c in sorted(gt.getCatIds())[:5]:        # torchmetrics' per-class re-runs
            coco_eval(gt, dt, set_params=lambda p: setattr(p, "catIds", [c]))


# -- Evaluator ------------------------------------------------------------------------------------

def test_evaluator_unknown_categories_warn_once():
    res = results()
    for r in res:
        r["category_id"] += 1000
    ev = fastap.Evaluator(GT)
    by_img = {}
    for r in res:
        by_img.setdefault(r["image_id"], []).append(r)
    with fastap_warnings() as got:
        for rs in list(by_img.values())[:5]:
            ev.update(rs)
    assert [w.category for w in got] == [UnknownIdsWarning]
    assert "category_id" in str(got[0].message)


def test_evaluator_empty_warns_at_compute():
    ev = fastap.Evaluator(GT)
    ev.update([])
    with fastap_warnings() as got:
        r = ev.compute()
    assert [w.category for w in got] == [EmptyResultsWarning]
    assert r.stats[0] == 0.0


def test_evaluator_free_mode_disjoint_categories_warn():
    ev = fastap.Evaluator()
    gt, dt = _arrays(dt_cat_shift=100)
    ev.update({"image_id": dt["image_id"], "boxes": dt["bbox"], "scores": dt["score"],
               "labels": dt["category_id"]},
              {"image_id": gt["image_id"], "boxes": gt["bbox"], "labels": gt["category_id"]})
    with fastap_warnings() as got:
        ev.compute()
    assert [w.category for w in got] == [UnknownIdsWarning]


def test_evaluator_legitimate_does_not_warn():
    res = results()
    ev = fastap.Evaluator(GT)
    by_img = {}
    for r in res:
        by_img.setdefault(r["image_id"], []).append(r)
    with no_fastap_warning():
        for rs in by_img.values():
            ev.update(rs)
        ev.compute()

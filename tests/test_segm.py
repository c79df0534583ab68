"""iouType="segm": mask IoU and the whole evaluation bit-identical to pycocotools on
generated masks (polygon and multi-polygon ground truth, crowds as uncompressed RLE,
compressed-RLE results, polygons reaching outside the image, one-pixel objects), from
dicts and from files, plus the array API and the error cases."""
import copy
import json

import numpy as np
import pytest

import fastap
from fastap.synthetic import make_segm_coco

from conftest import (assert_same_eval, assert_same_evalimgs_and_ious, compare_with_pycocotools, quiet,
                      run_fastap, run_pycocotools)

pytest.importorskip("pycocotools")


def _compare(ds, res, set_params=None):
    return compare_with_pycocotools(ds, res, "segm", set_params)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("edge_cases", [False, True])
def test_segm_parity(seed, edge_cases):
    ds, res = make_segm_coco(seed, n_images=30, dets_per_image=30, edge_cases=edge_cases)
    ref, ev = _compare(ds, res)
    assert ev.stats[0] > 0.05


def test_segm_results_with_bbox_take_the_box_branch():
    """Results with a bbox (detectron2's output) get area = w*h in pycocotools' loadRes,
    which decides the area-range ignore of unmatched detections."""
    ds, res = make_segm_coco(4, n_images=30, dets_per_image=30, edge_cases=True, with_bbox=True)
    _compare(ds, res)


def test_segm_ious_and_evalimgs_equal_pycocotools():
    ds, res = make_segm_coco(5, n_images=15, dets_per_image=20, edge_cases=True)
    ref, ev = _compare(ds, res)
    assert_same_evalimgs_and_ious(ref, ev)


@pytest.mark.parametrize("case", ["nocats", "maxdets", "iouthrs"])
def test_segm_custom_params(case):
    ds, res = make_segm_coco(6, n_images=20, dets_per_image=40, edge_cases=True)

    def setp(p):
        if case == "nocats":
            p.useCats = 0
        elif case == "maxdets":
            p.maxDets = [1, 5, 30]
        else:
            p.iouThrs = np.array([0.1, 0.5, 0.99])
    ref, _ = run_pycocotools(ds, res, setp, iou_type="segm")
    ev, _ = run_fastap(ds, res, setp, iou_type="segm")
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(ref.eval[key], ev.eval[key]), key


def test_segm_threads_agree(num_threads):
    ds, res = make_segm_coco(8, n_images=30, dets_per_image=30)
    ref, _ = run_fastap(ds, res, iou_type="segm", num_threads=1)
    ev, _ = run_fastap(ds, res, iou_type="segm", num_threads=num_threads)
    assert_same_eval(ref, ev)


@pytest.mark.parametrize("with_bbox", [False, True])
def test_segm_from_files(tmp_path, with_bbox):
    """Files take the C scanner's path (masks converted from the text, no dicts); the
    numbers equal pycocotools' on the same files, and the result dicts built on demand
    have pycocotools' area, bbox and id."""
    from pycocotools.coco import COCO as PC
    from pycocotools.cocoeval import COCOeval as PE
    ds, res = make_segm_coco(9, n_images=25, dets_per_image=30, edge_cases=True, with_bbox=with_bbox)
    g, d = tmp_path / "gt.json", tmp_path / "dt.json"
    g.write_text(json.dumps(ds))
    d.write_text(json.dumps(res))
    out = []
    for C, E in ((PC, PE), (fastap.COCO, fastap.COCOeval)):
        with quiet():
            gt = C(str(g))
            dt = gt.loadRes(str(d))
            ev = E(gt, dt, "segm")
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        out.append((ev, dt))
    assert_same_eval(out[0][0], out[1][0])
    a, b = out[0][1].dataset["annotations"], out[1][1].dataset["annotations"]
    for x, y in zip(a, b):
        assert list(np.asarray(x["bbox"], dtype=float)) == list(np.asarray(y["bbox"], dtype=float))
        assert float(x["area"]) == float(y["area"]) and x["id"] == y["id"]


def test_segm_array_api():
    ds, res = make_segm_coco(10, n_images=20, dets_per_image=20, edge_cases=True)
    ref, _ = run_pycocotools(ds, res, iou_type="segm")
    A = ds["annotations"]
    gt = {k: [a[k] for a in A] for k in ("id", "image_id", "category_id", "bbox", "area", "iscrowd", "segmentation")}
    dt = {k: [r[k] for r in res] for k in ("image_id", "category_id", "score", "segmentation")}
    sizes = {im["id"]: (im["height"], im["width"]) for im in ds["images"]}
    r = fastap.evaluate(gt, dt, iou_type="segm", image_sizes=sizes, img_ids=[im["id"] for im in ds["images"]],
                        cat_ids=[c["id"] for c in ds["categories"]])
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(ref.eval[key], getattr(r, key)), key


def _eval(ds, res):
    with quiet():
        g = fastap.COCO()
        g.dataset = copy.deepcopy(ds)
        g.createIndex()
        d = g.loadRes(copy.deepcopy(res))
        ev = fastap.COCOeval(g, d, "segm")
        ev.evaluate()
    return ev


@pytest.mark.parametrize("mutate,match", [
    (lambda ds, res: res[2]["segmentation"].update(counts="\x7f\x7f"), r"results record 2: segmentation"),
    (lambda ds, res: res[1]["segmentation"].update(size=[10, 10]), r"results record 1: segmentation"),
    (lambda ds, res: res[3]["segmentation"].update(counts=res[3]["segmentation"]["counts"][:-3]),
     r"results record 3: segmentation"),
    (lambda ds, res: ds["annotations"][4].update(segmentation=[]), r"annotations record 4: segmentation: an empty polygon"),
    (lambda ds, res: ds["annotations"][5].update(segmentation=[[1, 2]]), r"annotations record 5: segmentation: a polygon"),
    (lambda ds, res: ds["annotations"][0].update(segmentation={"size": [480, 640], "counts": [5, -1]}),
     r"annotations record 0: segmentation: uncompressed RLE counts"),
])
def test_segm_bad_masks(mutate, match):
    ds, res = make_segm_coco(1, n_images=5, dets_per_image=5)
    ds, res = copy.deepcopy(ds), copy.deepcopy(res)
    mutate(ds, res)
    with pytest.raises(fastap.InvalidAnnotationError, match=match):
        _eval(ds, res)


def test_segm_file_errors(tmp_path):
    """From a file (the C scanner's path), a bad or missing mask is named by record."""
    ds, res = make_segm_coco(3, n_images=5, dets_per_image=5)
    g = tmp_path / "gt.json"
    g.write_text(json.dumps(ds))
    cases = ((2, lambda r: r["segmentation"].update(counts="\x7f\x7f"), r"record 2: segmentation: .*character"),
             (3, lambda r: r["segmentation"].update(size=[10, 10]), r"record 3: segmentation: .*counts"),
             (4, lambda r: r.pop("segmentation"), r"record 4: missing field 'segmentation'"))
    for i, mutate, match in cases:
        bad = copy.deepcopy(res)
        mutate(bad[i])
        d = tmp_path / ("dt%d.json" % i)
        d.write_text(json.dumps(bad))
        with pytest.raises(fastap.InvalidAnnotationError, match=match):
            with quiet():
                gt = fastap.COCO(str(g))
                ev = fastap.COCOeval(gt, gt.loadRes(str(d)), "segm")
                ev.evaluate()


def test_segm_ground_truth_masks_reused(tmp_path):
    """A ground truth read from a file keeps its masks for the next evaluation (a new
    COCOeval every epoch); a changed image size, or new dicts, are taken into account."""
    ds, res = make_segm_coco(12, n_images=10, dets_per_image=10)
    g = tmp_path / "gt.json"
    g.write_text(json.dumps(ds))
    with quiet():
        gt = fastap.COCO(str(g))
        runs = []
        for _ in range(2):
            ev = fastap.COCOeval(gt, gt.loadRes(copy.deepcopy(res)), "segm")
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
            runs.append(ev)
        assert "gt_rle" in gt._geom
        first = gt._geom["gt_rle"][1]
        assert_same_eval(runs[0], runs[1])
        img = next(iter(gt.imgs.values()))
        img["height"] += 10                      # polygons must be rasterised again
        ev = fastap.COCOeval(gt, gt.loadRes(copy.deepcopy(res)), "segm")
        ev.evaluate()
        assert gt._geom["gt_rle"][1] is not first
    ref, _ = run_pycocotools(ds, res, iou_type="segm")
    assert_same_eval(ref, runs[1])

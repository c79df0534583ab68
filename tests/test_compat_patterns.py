"""The frameworks' call sequences written against pycocotools' module names, run once with
``fastap.init_as_pycocotools()`` and once with the real pycocotools, each in its own
interpreter: the numbers (stats and whole eval arrays, as hex digests) must be the same.

Patterns: torchvision's CocoEvaluator (per-batch loadRes + evaluate + evalImgs, batches
merged and assigned, accumulate) for bbox and segm; DETR's own ``evaluate(self)``;
detectron2's subclass overriding ``computeIoU`` (``from ...cocoeval import COCOeval,
maskUtils``); mmdetection's COCO subclass built with ``super().__init__(annotation_file=...)``
and its ``COCOevalMP``-style overrides of ``evaluateImg`` and ``summarize``."""
import json

import pytest

from test_compat import run_python

WORKER = r'''
import contextlib, copy, hashlib, io, json, os, sys, tempfile
import numpy as np
if REPLACE:
    import fastap
    fastap.init_as_pycocotools()
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval, maskUtils
import pycocotools.mask as mask_util
from fastap.synthetic import make_coco, make_segm_coco

def digest(ev):
    h = {k: hashlib.sha256(np.ascontiguousarray(ev.eval[k], dtype=np.float64).tobytes()).hexdigest()
         for k in ("precision", "recall", "scores")}
    h["stats"] = [float(x).hex() for x in ev.stats]
    return h

def quiet():
    return contextlib.redirect_stdout(io.StringIO())

def torchvision_flow(ds, res, iou_type, batch):
    with quiet():
        gt = COCO()
        gt.dataset = copy.deepcopy(ds)
        gt.createIndex()
        ev = COCOeval(gt, iouType=iou_type)
        ids = sorted(gt.getImgIds())
        by = {}
        for r in res:
            by.setdefault(r["image_id"], []).append(r)
        parts, all_ids = [], []
        for i in range(0, len(ids), batch):
            b = ids[i:i + batch]
            mine = [r for j in b for r in by.get(j, [])]
            ev.cocoDt = COCO.loadRes(gt, copy.deepcopy(mine)) if mine else COCO()
            ev.params.imgIds = b
            ev.evaluate()
            parts.append(np.asarray(ev.evalImgs).reshape(-1, len(ev.params.areaRng), len(b)))
            all_ids.extend(b)
        merged = np.concatenate(parts, 2)
        ev.evalImgs = list(merged.flatten())
        ev.params.imgIds = all_ids
        ev._paramsEval = copy.deepcopy(ev.params)
        ev.accumulate()
        ev.summarize()
    return digest(ev)

class DetrStyle(COCOeval):
    def evaluate(self):
        p = self.params
        p.imgIds = list(np.unique(p.imgIds))
        if p.useCats:
            p.catIds = list(np.unique(p.catIds))
        p.maxDets = sorted(p.maxDets)
        self.params = p
        self._prepare()
        cat_ids = p.catIds if p.useCats else [-1]
        compute = self.computeIoU if p.iouType in ("segm", "bbox") else self.computeOks
        self.ious = {(i, c): compute(i, c) for i in p.imgIds for c in cat_ids}
        self.evalImgs = [self.evaluateImg(i, c, a, p.maxDets[-1])
                         for c in cat_ids for a in p.areaRng for i in p.imgIds]
        self._paramsEval = copy.deepcopy(self.params)

class RotatedStyle(COCOeval):
    """detectron2's RotatedCOCOeval shape: computeIoU from _gts/_dts (here the box IoU of
    maskUtils, i.e. rotation 0)."""
    def computeIoU(self, imgId, catId):
        p = self.params
        gt = self._gts[imgId, catId] if p.useCats else [g for c in p.catIds for g in self._gts[imgId, c]]
        dt = self._dts[imgId, catId] if p.useCats else [d for c in p.catIds for d in self._dts[imgId, c]]
        if len(gt) == 0 and len(dt) == 0:
            return []
        order = np.argsort([-d["score"] for d in dt], kind="mergesort")
        dt = [dt[i] for i in order][:p.maxDets[-1]]
        return maskUtils.iou([d["bbox"] for d in dt], [g["bbox"] for g in gt], [int(g["iscrowd"]) for g in gt])

class MMDetCOCO(COCO):
    def __init__(self, annotation_file=None):
        super().__init__(annotation_file=annotation_file)
        self.img_ann_map = self.imgToAnns
        self.cat_img_map = self.catToImgs
    def get_ann_ids(self, img_ids=[], cat_ids=[]):
        return self.getAnnIds(img_ids, cat_ids)

class MPStyle(COCOeval):
    def evaluateImg(self, imgId, catId, aRng, maxDet):
        return super().evaluateImg(imgId, catId, aRng, maxDet)
    def summarize(self):
        super().summarize()
        self.stats = np.round(self.stats, 6)

def direct(cls, gt, res, iou_type):
    with quiet():
        ev = cls(gt, gt.loadRes(copy.deepcopy(res)), iou_type)
        ev.evaluate(); ev.accumulate(); ev.summarize()
    return digest(ev)

out = {"module": COCOeval.__module__}
ds, res = make_coco(seed=11, n_images=24, n_categories=5, dets_per_image=15, edge_cases=True)
sds, sres = make_segm_coco(seed=12, n_images=10, dets_per_image=8)
out["torchvision bbox batch 1"] = torchvision_flow(ds, res, "bbox", 1)
out["torchvision bbox batch 7"] = torchvision_flow(ds, res, "bbox", 7)
out["torchvision segm batch 3"] = torchvision_flow(sds, sres, "segm", 3)
with quiet():
    gt = COCO(); gt.dataset = copy.deepcopy(ds); gt.createIndex()
out["detr evaluate"] = direct(DetrStyle, gt, res, "bbox")
out["detectron2 rotated computeIoU"] = direct(RotatedStyle, gt, res, "bbox")
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "gt.json")
    with open(path, "w") as f:
        json.dump(ds, f)
    with quiet():
        mg = MMDetCOCO(path)
    assert len(mg.get_ann_ids(img_ids=[ds["images"][0]["id"]])) >= 0
    out["mmdet COCO subclass + MP overrides"] = direct(MPStyle, mg, res, "bbox")

print("RESULT" + json.dumps(out))
'''


def _run(replace):
    text = run_python("REPLACE = %s\n" % replace + WORKER, timeout=600)
    line = [ln for ln in text.splitlines() if ln.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT"):])


@pytest.fixture(scope="module")
def both():
    return _run(True), _run(False)


def test_the_replacement_was_used(both):
    ours, real = both
    assert ours["module"] == "fastap.coco" and real["module"] == "pycocotools.cocoeval"


@pytest.mark.parametrize("pattern", ["torchvision bbox batch 1", "torchvision bbox batch 7",
                                     "torchvision segm batch 3", "detr evaluate",
                                     "detectron2 rotated computeIoU", "mmdet COCO subclass + MP overrides"])
def test_pattern_gives_pycocotools_numbers(both, pattern):
    ours, real = both
    assert ours[pattern] == real[pattern]

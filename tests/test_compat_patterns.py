"""The frameworks' call sequences written against pycocotools' module names, run once with
``fastap.init_as_pycocotools()`` and once with the real pycocotools, each in its own
interpreter: the numbers (stats and whole eval arrays, as hex digests) must be the same.

Patterns: torchvision's CocoEvaluator (per-batch loadRes + evaluate + evalImgs, batches
merged and assigned, accumulate) for bbox and segm; DETR's own ``evaluate(self)``;
detectron2's subclass overriding ``computeIoU`` (``from ...cocoeval import COCOeval,
maskUtils``); mmdetection's COCO subclass built with ``super().__init__(annotation_file=...)``
and its ``COCOevalMP``-style overrides of ``evaluateImg`` and ``summarize``; detectron2's
``COCOeval_opt`` shape (own ``evaluate()`` reading ``_gts`` / ``_dts`` / ``ious``, own
``accumulate()`` assigning ``eval``) and its segm results without boxes; ultralytics'
``eval_json`` (files, ``params.imgIds`` from file names, records with a box and a mask)."""
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

def prepare_as_pycocotools(ev):
    """The first steps of pycocotools' evaluate(), which these evaluate() overrides repeat."""
    p = ev.params
    p.imgIds = list(np.unique(p.imgIds))
    if p.useCats:
        p.catIds = list(np.unique(p.catIds))
    p.maxDets = sorted(p.maxDets)
    ev.params = p
    ev._prepare()
    return p, p.catIds if p.useCats else [-1]

class DetrStyle(COCOeval):
    def evaluate(self):
        p, cat_ids = prepare_as_pycocotools(self)
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

class OptStyle(COCOeval):
    """detectron2's COCOeval_opt shape: its own evaluate() reads _gts / _dts (id, score,
    area, iscrowd, ignore) and ious after _prepare() and hands them to a C++ extension;
    its accumulate() assigns self.eval, which the inherited summarize() reads. The C++
    part is stood in for by evaluateImg / accumulate of the base class, and a digest of
    what the extension would have been given is kept."""
    def evaluate(self):
        p, cat_ids = prepare_as_pycocotools(self)
        self.ious = {(i, c): self.computeIoU(i, c) for i in p.imgIds for c in cat_ids}
        def cpp(instances, det=False):
            return [(int(x["id"]), float(x["score"] if det else x.get("score", 0.0)), float(x["area"]),
                     int(x.get("iscrowd", 0)), int(x.get("ignore", 0))) for x in instances]
        h = hashlib.sha256()
        for i in p.imgIds:
            for c in p.catIds:
                h.update(repr((cpp(self._gts[i, c]), cpp(self._dts[i, c], True))).encode())
            for c in cat_ids:
                h.update(np.ascontiguousarray(self.ious[i, c], dtype=np.float64).tobytes())
        self.given_to_cpp = h.hexdigest()
        self._evalImgs_cpp = [self.evaluateImg(i, c, a, p.maxDets[-1])
                              for c in cat_ids for a in p.areaRng for i in p.imgIds]
        self._paramsEval = copy.deepcopy(self.params)
    def accumulate(self):
        self.evalImgs = self._evalImgs_cpp
        super().accumulate()
        e = self.eval
        # a new dict, as the extension returns: summarize() must read this one
        self.eval = {"params": self._paramsEval, "counts": e["counts"],
                     "precision": np.array(e["precision"]).reshape(e["counts"]) * 0.5,
                     "recall": np.array(e["recall"]), "scores": np.array(e["scores"])}

def ultralytics_flow(ds, res, iou_types):
    """ultralytics' eval_json (the pycocotools versions): COCO and loadRes of files,
    params.imgIds from the image file names, stats read after summarize(); its
    segmentation validator writes records holding both a box and an RLE mask."""
    out = {}
    with tempfile.TemporaryDirectory() as d:
        anno, pred = os.path.join(d, "anno.json"), os.path.join(d, "pred.json")
        with open(anno, "w") as f:
            json.dump(ds, f)
        with open(pred, "w") as f:
            json.dump(res, f)
        with quiet():
            a = COCO(str(anno))
            pr = a.loadRes(str(pred))
            im_files = ["/data/images/%012d.jpg" % img["id"] for img in ds["images"]][:-2]
            for t in iou_types:
                ev = COCOeval(a, pr, t)
                ev.params.imgIds = [int(os.path.splitext(os.path.basename(x))[0]) for x in im_files]
                ev.evaluate(); ev.accumulate(); ev.summarize()
                out[t] = digest(ev)
    return out

def detectron2_flow(ds, res, iou_type, cls):
    """detectron2's _evaluate_predictions_on_coco: boxes popped from segm results before
    loadRes(list), params.imgIds set, per-category AP read from eval['precision']."""
    with quiet():
        gt = COCO(); gt.dataset = copy.deepcopy(ds); gt.createIndex()
        rs = copy.deepcopy(res)
        if iou_type == "segm":
            for r in rs:
                r.pop("bbox", None)
        ev = cls(gt, gt.loadRes(rs), iou_type)
        ev.params.imgIds = sorted(gt.getImgIds())[1:]
        ev.evaluate(); ev.accumulate(); ev.summarize()
    h = digest(ev)
    pr = ev.eval["precision"]
    h["per category"] = [float(np.mean(x[x > -1])).hex() if (x > -1).any() else "nan"
                         for x in (pr[:, :, k, 0, -1] for k in range(pr.shape[2]))]
    h["given to cpp"] = getattr(ev, "given_to_cpp", None)
    return h

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

out["detectron2 COCOeval_opt bbox"] = detectron2_flow(ds, res, "bbox", OptStyle)
out["detectron2 COCOeval_opt segm"] = detectron2_flow(sds, sres, "segm", OptStyle)
out["detectron2 COCOeval segm"] = detectron2_flow(sds, sres, "segm", COCOeval)
# ultralytics: each record a box and an RLE mask
with quiet():
    sgt = COCO(); sgt.dataset = copy.deepcopy(sds); sgt.createIndex()
    dres = sgt.loadRes(copy.deepcopy(sres))
both_res = []
for r in sres:
    rle = mask_util.frPyObjects(r["segmentation"], *[sds["images"][[i["id"] for i in sds["images"]].index(r["image_id"])][k]
                                                  for k in ("height", "width")]) if isinstance(r["segmentation"], list) \
        else r["segmentation"]
    if isinstance(rle, list):
        rle = mask_util.merge(rle)
    rle = dict(rle, counts=rle["counts"].decode() if isinstance(rle["counts"], bytes) else rle["counts"])
    both_res.append({"image_id": r["image_id"], "category_id": r["category_id"], "score": r["score"],
                     "bbox": [round(float(x), 3) for x in mask_util.toBbox(rle)], "segmentation": rle})
out["ultralytics bbox"] = ultralytics_flow(ds, res, ["bbox"])
out["ultralytics segm (box + RLE records)"] = ultralytics_flow(sds, both_res, ["bbox", "segm"])

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
                                     "detectron2 rotated computeIoU", "mmdet COCO subclass + MP overrides",
                                     "detectron2 COCOeval_opt bbox", "detectron2 COCOeval_opt segm",
                                     "detectron2 COCOeval segm", "ultralytics bbox",
                                     "ultralytics segm (box + RLE records)"])
def test_pattern_gives_pycocotools_numbers(both, pattern):
    ours, real = both
    assert ours[pattern] == real[pattern]

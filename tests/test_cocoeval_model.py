"""COCOeval's object model against pycocotools' (the oracle): _prepare / _gts / _dts,
computeIoU, computeOks, evaluateImg, ious, accumulate() of assigned (merged) evalImgs
as torchvision and DETR do it, subclasses overriding pycocotools' methods, and
COCOeval built without detections. Whole arrays compared, bit for bit."""
import copy
from collections import OrderedDict

import numpy as np
import pytest
from pycocotools import coco as pc_coco
from pycocotools import cocoeval as pc_eval

import fastap
from fastap.errors import InvalidAnnotationError
from fastap.synthetic import make_coco, make_keypoints_coco, make_segm_coco

from conftest import assert_same_eval, quiet

PC = (pc_coco.COCO, pc_eval.COCOeval)
FA = (fastap.COCO, fastap.COCOeval)


def _data(kind, seed=0, n_images=24):
    if kind == "bbox":
        return make_coco(seed=seed, edge_cases=True, n_images=n_images, n_categories=4, dets_per_image=25)
    if kind == "segm":
        return make_segm_coco(seed=seed, n_images=max(4, n_images // 3), n_categories=3, dets_per_image=12,
                              edge_cases=True)
    return make_keypoints_coco(seed=seed, n_images=n_images, edge_cases=True)


def _gt(lib, dataset):
    with quiet():
        gt = lib[0]()
        gt.dataset = copy.deepcopy(dataset)
        gt.createIndex()
    return gt


def _pair(lib, dataset, results, iou_type, cls=None):
    gt = _gt(lib, dataset)
    with quiet():
        dt = gt.loadRes(copy.deepcopy(results))
        ev = (cls or lib[1])(gt, dt, iou_type)
    return ev


def _run(ev):
    with quiet():
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def assert_same_eval_img(a, b):
    assert (a is None) == (b is None)
    if a is None:
        return
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], np.ndarray):
            assert isinstance(b[key], np.ndarray), key
            assert a[key].dtype == b[key].dtype, (key, a[key].dtype, b[key].dtype)
            assert a[key].shape == b[key].shape, key
            assert np.array_equal(a[key], b[key]), key
        else:
            assert a[key] == b[key], key


def assert_same_iou(a, b):
    if isinstance(a, list):
        assert isinstance(b, list) and b == a == []
    else:
        assert a.shape == b.shape
        assert np.array_equal(a, b)


KINDS = ["bbox", "segm", "keypoints"]


# -- _prepare, computeIoU / computeOks, evaluateImg -------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("use_cats", [1, 0])
def test_prepare_gts_dts(kind, use_cats):
    d, r = _data(kind, seed=3)
    evs = []
    for lib in (PC, FA):
        ev = _pair(lib, d, r, kind)
        ev.params.useCats = use_cats
        ev.params.imgIds = ev.params.imgIds[::2]
        with quiet():
            ev._prepare()
        evs.append(ev)
    ref, ev = evs
    assert set(ref._gts) == set(ev._gts) and set(ref._dts) == set(ev._dts)
    assert ev._gts
    for a, b in ((ref._gts, ev._gts), (ref._dts, ev._dts)):
        for key in a:
            assert [x["id"] for x in a[key]] == [x["id"] for x in b[key]]
            for x, y in zip(a[key], b[key]):
                assert set(x) == set(y)
                for f in x:
                    if f == "segmentation" and kind == "segm":
                        assert x[f]["size"] == y[f]["size"]
                        cx, cy = x[f]["counts"], y[f]["counts"]
                        assert (cx if isinstance(cx, bytes) else cx.encode()) == \
                               (cy if isinstance(cy, bytes) else cy.encode()), key
                    elif isinstance(x[f], np.ndarray) or isinstance(y[f], np.ndarray):
                        assert np.array_equal(x[f], y[f]), f
                    else:
                        assert x[f] == y[f], f
    assert isinstance(ev.evalImgs, type(ref.evalImgs)) and len(ev.evalImgs) == 0
    assert ev.eval == {}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("use_cats", [1, 0])
def test_compute_iou_and_evaluate_img(kind, use_cats):
    """computeIoU / computeOks and evaluateImg, after fastap's own evaluate() (_gts,
    _dts and ious then built when read) and after _prepare(), equal pycocotools'."""
    d, r = _data(kind, seed=5)
    ref = _pair(PC, d, r, kind)
    ref.params.useCats = use_cats
    ev = _pair(FA, d, r, kind)
    ev.params.useCats = use_cats
    with quiet():
        ref.evaluate()
        ev.evaluate()
    method = "computeOks" if kind == "keypoints" else "computeIoU"
    cats = ref.params.catIds if use_cats else [-1]
    n = 0
    for img in ref.params.imgIds:
        for c in cats:
            a = getattr(ref, method)(img, c)
            assert_same_iou(a, getattr(ev, method)(img, c))
            assert_same_iou(ref.ious[img, c], ev.ious[img, c])
            n += not isinstance(a, list)
    assert n > 0 or (kind == "keypoints" and not use_cats)
    p = ref.params
    i = 0
    for c in cats:
        for a in p.areaRng:
            for img in p.imgIds:
                assert_same_eval_img(ref.evalImgs[i], ev.evaluateImg(img, c, a, p.maxDets[-1]))
                assert_same_eval_img(ref.evalImgs[i], ev.evalImgs[i])
                i += 1
    # the same after fastap's _prepare() and its computeIoU
    with quiet():
        ev._prepare()
    ev.ious = {(img, c): getattr(ev, method)(img, c) for img in p.imgIds for c in cats}
    i = 0
    for c in cats:
        for a in p.areaRng:
            for img in p.imgIds:
                assert_same_eval_img(ref.evalImgs[i], ev.evaluateImg(img, c, a, p.maxDets[-1]))
                i += 1
    with quiet():
        ev.evaluate()
    assert_same_eval(_acc(ref), _acc(ev))


def test_evaluate_img_matching_edge_cases():
    """Hand-made IoU matrices through evaluateImg: ties between ground truths (the
    later wins), crowds matched many times, a threshold hit exactly, an ignored ground
    truth never taken over a regular one, detection id 0 and NaN IoUs."""
    rng = np.random.default_rng(0)
    for trial in range(60):
        G, D = int(rng.integers(1, 6)), int(rng.integers(1, 8))
        gts = [{"id": int(g + (trial % 3 == 0 and g == 0) * -g), "area": float(rng.choice([10, 500, 5000])),
                "iscrowd": int(rng.random() < .3), "ignore": int(rng.random() < .2)} for g in range(G)]
        for g in gts:
            g["ignore"] = g["iscrowd"]
        dts = [{"id": int(x + (trial % 4 != 0)), "score": float(rng.choice([.1, .5, .9])),
                "area": float(rng.choice([10, 500, 5000]))} for x in range(D)]
        ious = rng.choice([0.0, .3, .5, .55, .75, .95, 1.0], size=(D, G))
        if trial % 10 == 9:
            ious[0, 0] = np.nan
        out = []
        for lib in (PC, FA):
            ev = lib[1](iouType="bbox")
            ev._gts = {(1, 1): copy.deepcopy(gts)}
            ev._dts = {(1, 1): copy.deepcopy(dts)}
            ev.ious = {(1, 1): ious}
            out.append([ev.evaluateImg(1, 1, a, 100) for a in ev.params.areaRng])
        for a, b in zip(*out):
            assert_same_eval_img(a, b)


def test_compute_oks_values():
    """OKS of many random poses (visible / none visible keypoints, crowd boxes)."""
    d, r = make_keypoints_coco(seed=11, n_images=30, dets_per_image=30, edge_cases=True)
    ref, ev = _pair(PC, d, r, "keypoints"), _pair(FA, d, r, "keypoints")
    with quiet():
        ref._prepare()
        ev._prepare()
    n = 0
    for img in ref.params.imgIds:
        a = ref.computeOks(img, 1)
        b = ev.computeOks(img, 1)
        assert_same_iou(a, b)
        n += not isinstance(a, list)
    assert n > 10


# -- accumulate() of assigned evalImgs: torchvision's CocoEvaluator -----------------------------
def _torchvision_eval(lib, dataset, results, iou_type, batches, cls=None, order=None):
    """torchvision references/detection/coco_eval.py: per batch loadRes, cocoDt,
    params.imgIds, evaluate(), evalImgs reshaped [-1, A, I]; then the batches
    concatenated along images, np.unique of the ids, and evalImgs, params.imgIds and
    _paramsEval assigned (create_common_coco_eval); then accumulate / summarize."""
    gt = _gt(lib, dataset)
    ev = (cls or lib[1])(gt, iouType=iou_type)
    all_ids, all_imgs = [], []
    by_img = {}
    for x in results:
        by_img.setdefault(x["image_id"], []).append(x)
    for b in (order or range(len(batches))):
        ids = list(np.unique(batches[b]))
        res = [copy.deepcopy(x) for i in ids for x in by_img.get(i, [])]
        with quiet():
            dt = lib[0].loadRes(gt, res) if res else lib[0]()
        ev.cocoDt = dt
        ev.params.imgIds = list(ids)
        with quiet():
            ev.evaluate()
        all_ids.extend(ev.params.imgIds)
        all_imgs.append(np.asarray(ev.evalImgs).reshape(-1, len(ev.params.areaRng), len(ev.params.imgIds)))
    merged_ids, idx = np.unique(np.array(all_ids), return_index=True)
    merged = np.concatenate(all_imgs, 2)[..., idx]
    ev.evalImgs = list(merged.flatten())
    ev.params.imgIds = list(merged_ids)
    ev._paramsEval = copy.deepcopy(ev.params)
    return _acc(ev)


def _acc(ev):
    with quiet():
        ev.accumulate()
        ev.summarize()
    return ev


def _splits(img_ids, n, seed):
    rng = np.random.default_rng(seed)
    ids = np.array(img_ids)
    rng.shuffle(ids)
    return [sorted(x.tolist()) for x in np.array_split(ids, n)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n_batches", [2, 3, 7])
def test_accumulate_merged_batches(kind, n_batches):
    d, r = _data(kind, seed=n_batches, n_images=30)
    img_ids = [im["id"] for im in d["images"]]
    batches = _splits(img_ids, n_batches, n_batches)
    order = list(np.random.default_rng(n_batches + 1).permutation(n_batches))
    ref = _torchvision_eval(PC, d, r, kind, batches, order=order)
    ev = _torchvision_eval(FA, d, r, kind, batches, order=order)
    assert_same_eval(ref, ev)
    # and the same as one evaluation of everything
    whole = _run(_pair(FA, d, r, kind))
    assert_same_eval(whole, ev)


def test_accumulate_merged_ranks_with_duplicates():
    """Two 'ranks' whose batches overlap (DistributedSampler pads with repeated images):
    np.unique keeps the first copy, as torchvision merges them."""
    d, r = _data("bbox", seed=9, n_images=20)
    ids = [im["id"] for im in d["images"]]
    batches = [ids[:8], ids[8:14] + ids[:2], ids[14:], ids[3:5]]
    ref = _torchvision_eval(PC, d, r, "bbox", batches)
    ev = _torchvision_eval(FA, d, r, "bbox", batches)
    assert_same_eval(ref, ev)


def test_accumulate_custom_params_and_use_cats_0():
    d, r = _data("bbox", seed=4, n_images=20)
    for use_cats in (0, 1):
        out = []
        for lib in (PC, FA):
            ev = _pair(lib, d, r, "bbox")
            ev.params.useCats = use_cats
            ev.params.maxDets = [3, 1, 50]
            ev.params.iouThrs = np.array([.3, .5, .7])
            ev.params.areaRng = [[0, 1e10], [0, 2000]]
            ev.params.areaRngLbl = ["all", "small"]
            with quiet():
                ev.evaluate()
            ev.evalImgs = list(ev.evalImgs)          # assigned: the dicts path
            with quiet():
                ev.accumulate()
            out.append(ev)
        for key in ("precision", "recall", "scores"):
            assert np.array_equal(out[0].eval[key], out[1].eval[key]), key


def test_accumulate_params_changed_after_evaluate():
    """params edited between evaluate() and accumulate() (fewer images, another recThrs,
    an extra maxDets): pycocotools' reading of evalImgs through _paramsEval."""
    d, r = _data("bbox", seed=6, n_images=20)
    out = []
    for lib in (PC, FA):
        ev = _pair(lib, d, r, "bbox")
        with quiet():
            ev.evaluate()
        ev.params.imgIds = ev.params.imgIds[:12]
        ev.params.recThrs = np.linspace(0, 1, 11)
        ev.params.maxDets = [1, 10, 100, 300]
        with quiet():
            ev.accumulate()
        out.append(ev)
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(out[0].eval[key], out[1].eval[key]), key


def test_accumulate_refuses_misaligned_layouts():
    d, r = _data("bbox", seed=6, n_images=12)
    ev = _pair(FA, d, r, "bbox")
    with quiet():
        ev.evaluate()
    eimgs = list(ev.evalImgs)
    # images of the second half only: pycocotools would read the first half's entries
    ev.params.imgIds = ev.params.imgIds[6:]
    with pytest.raises(InvalidAnnotationError, match="imgIds"):
        with quiet():
            ev.accumulate()
    ev.params.imgIds = list(ev._paramsEval.imgIds)
    # entries shuffled: categories / images out of place
    ev.evalImgs = eimgs[::-1]
    with pytest.raises(InvalidAnnotationError, match="layout"):
        with quiet():
            ev.accumulate()
    ev.evalImgs = eimgs[:10]
    with pytest.raises(InvalidAnnotationError, match="no entry"):
        with quiet():
            ev.accumulate()
    ev.evalImgs = [e if e is None else {"dtScores": []} for e in eimgs]
    with pytest.raises(InvalidAnnotationError, match="dtMatches"):
        with quiet():
            ev.accumulate()
    ev.evalImgs = eimgs
    ev.params.iouThrs = np.array([.5, .75])
    with pytest.raises(InvalidAnnotationError, match="iouThrs"):
        with quiet():
            ev.accumulate()
    ev2 = _pair(FA, d, r, "bbox")
    with pytest.raises(InvalidAnnotationError, match="evaluate"):
        with quiet():
            ev2.accumulate()
    with quiet():
        ev2._prepare()
    with pytest.raises(InvalidAnnotationError):
        with quiet():
            ev2.accumulate()


def test_fast_path_kept_when_not_assigned():
    """evalImgs read (built from the pass) but not assigned: accumulate() stays in C and
    equals the dicts path."""
    d, r = _data("bbox", seed=2)
    ev = _run(_pair(FA, d, r, "bbox"))
    assert ev._fa_eimgs_mode == "pass"
    _ = ev.evalImgs
    assert ev._fa_eimgs_mode == "pass"
    prec = ev.eval["precision"].copy()
    ev.evalImgs = ev.evalImgs
    _acc(ev)
    assert np.array_equal(prec, ev.eval["precision"])


# -- subclasses ---------------------------------------------------------------------------------
def _detr_evaluate(self):
    """DETR / RT-DETR's evaluate(self) (a module function called on the COCOeval)."""
    p = self.params
    if p.useSegm is not None:
        p.iouType = 'segm' if p.useSegm == 1 else 'bbox'
    p.imgIds = list(np.unique(p.imgIds))
    if p.useCats:
        p.catIds = list(np.unique(p.catIds))
    p.maxDets = sorted(p.maxDets)
    self.params = p
    self._prepare()
    catIds = p.catIds if p.useCats else [-1]
    computeIoU = self.computeIoU if p.iouType in ('segm', 'bbox') else self.computeOks
    self.ious = {(imgId, catId): computeIoU(imgId, catId) for imgId in p.imgIds for catId in catIds}
    evaluateImg = self.evaluateImg
    maxDet = p.maxDets[-1]
    evalImgs = [evaluateImg(imgId, catId, areaRng, maxDet)
                for catId in catIds for areaRng in p.areaRng for imgId in p.imgIds]
    evalImgs = np.asarray(evalImgs).reshape(len(catIds), len(p.areaRng), len(p.imgIds))
    self._paramsEval = copy.deepcopy(self.params)
    return p.imgIds, evalImgs


def _detr_flow(lib, dataset, results, iou_type, batches, as_method):
    gt = _gt(lib, dataset)
    if as_method:
        cls = type("DetrEval", (lib[1],), {"evaluate": lambda self: _detr_evaluate(self)})
    else:
        cls = lib[1]
    ev = cls(gt, iouType=iou_type)
    ids_all, imgs_all = [], []
    for ids in batches:
        res = [copy.deepcopy(x) for x in results if x["image_id"] in set(ids)]
        with quiet():
            ev.cocoDt = lib[0].loadRes(gt, res) if res else lib[0]()
        ev.params.imgIds = list(ids)
        img_ids, eimgs = ev.evaluate() if as_method else _detr_evaluate(ev)
        ids_all.extend(img_ids)
        imgs_all.append(eimgs)
    merged_ids, idx = np.unique(np.array(ids_all), return_index=True)
    merged = np.concatenate(imgs_all, 2)[..., idx]
    ev.evalImgs = list(merged.flatten())
    ev.params.imgIds = list(merged_ids)
    ev._paramsEval = copy.deepcopy(ev.params)
    return _acc(ev)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("as_method", [True, False])
def test_detr_evaluate(kind, as_method):
    d, r = _data(kind, seed=12, n_images=18)
    batches = _splits([im["id"] for im in d["images"]], 3, 1)
    ref = _detr_flow(PC, d, r, kind, batches, as_method)
    ev = _detr_flow(FA, d, r, kind, batches, as_method)
    assert_same_eval(ref, ev)


def _rotated_iou(dt, gt, crowd):
    """A rotated-box IoU for boxes [x, y, w, h] (angle 0), as detectron2's
    RotatedCOCOeval computes through pairwise_iou_rotated: centre form, float64."""
    if len(dt) == 0 or len(gt) == 0:
        return []
    d = np.asarray(dt, dtype=np.float64)
    g = np.asarray(gt, dtype=np.float64)
    dc, gc = d[:, :2] + d[:, 2:] / 2, g[:, :2] + g[:, 2:] / 2
    lo = np.maximum(dc[:, None] - d[:, None, 2:] / 2, gc[None] - g[None, :, 2:] / 2)
    hi = np.minimum(dc[:, None] + d[:, None, 2:] / 2, gc[None] + g[None, :, 2:] / 2)
    inter = np.clip(hi - lo, 0, None).prod(axis=2)
    da, ga = d[:, 2] * d[:, 3], g[:, 2] * g[:, 3]
    union = np.where(np.asarray(crowd, bool)[None], da[:, None], da[:, None] + ga[None] - inter)
    return inter / union


def _rotated_cls(base):
    class RotatedCOCOeval(base):
        def computeIoU(self, imgId, catId):
            p = self.params
            gt, dt = self._gts[imgId, catId], self._dts[imgId, catId]
            if len(gt) == 0 and len(dt) == 0:
                return []
            inds = np.argsort([-d["score"] for d in dt], kind="mergesort")
            dt = [dt[i] for i in inds][:p.maxDets[-1]]
            return _rotated_iou([o["bbox"] for o in dt], [o["bbox"] for o in gt],
                                [int(o["iscrowd"]) for o in gt])
    return RotatedCOCOeval


def test_subclass_compute_iou():
    d, r = _data("bbox", seed=13)
    ref = _run(_pair(PC, d, r, "bbox", cls=_rotated_cls(PC[1])))
    ev = _run(_pair(FA, d, r, "bbox", cls=_rotated_cls(FA[1])))
    assert ev._pass is None and ev._fa_eimgs_mode == "dicts"
    assert_same_eval(ref, ev)
    for key, v in ref.ious.items():
        assert_same_iou(v, ev.ious[key])
    for a, b in zip(ref.evalImgs, ev.evalImgs):
        assert_same_eval_img(a, b)


def _overriding(base, name):
    if name == "evaluateImg":
        def evaluateImg(self, imgId, catId, aRng, maxDet):
            e = base.evaluateImg(self, imgId, catId, aRng, maxDet)
            if e is not None and e["dtScores"]:
                e["dtScores"] = [s * 0.5 if i % 2 else s for i, s in enumerate(e["dtScores"])]
            return e
        return type("E", (base,), {"evaluateImg": evaluateImg})
    if name == "_prepare":
        def _prepare(self):
            base._prepare(self)
            for k in list(self._dts):
                self._dts[k] = [x for x in self._dts[k] if x["score"] >= 0.3]
        return type("P", (base,), {"_prepare": _prepare})
    if name == "accumulate":
        def accumulate(self, p=None):
            base.accumulate(self, p)
            self.eval["precision"] = np.minimum(self.eval["precision"], 0.9)
        return type("A", (base,), {"accumulate": accumulate})
    if name == "summarize":
        def summarize(self):
            p = self.params
            prec = self.eval["precision"][:, :, :, 0, -1]
            self.stats = np.array([np.mean(prec[prec > -1]),
                                   np.mean(self.eval["recall"][0][self.eval["recall"][0] > -1]),
                                   len(p.iouThrs), len(p.recThrs), len(p.catIds)])
        return type("S", (base,), {"summarize": summarize})
    raise AssertionError(name)


@pytest.mark.parametrize("name", ["evaluateImg", "_prepare", "accumulate", "summarize"])
def test_subclass_overrides(name):
    d, r = _data("bbox", seed=14)
    ref = _run(_pair(PC, d, r, "bbox", cls=_overriding(PC[1], name)))
    ev = _run(_pair(FA, d, r, "bbox", cls=_overriding(FA[1], name)))
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(ref.eval[key], ev.eval[key]), key
    assert np.array_equal(np.asarray(ref.stats), np.asarray(ev.stats))
    if name in ("accumulate", "summarize"):
        assert ev._pass is not None          # the C pass still runs


def test_subclass_overrides_segm_prepare():
    d, r = _data("segm", seed=15)
    ref = _run(_pair(PC, d, r, "segm", cls=_overriding(PC[1], "_prepare")))
    ev = _run(_pair(FA, d, r, "segm", cls=_overriding(FA[1], "_prepare")))
    assert_same_eval(ref, ev)


# -- ious, construction without detections, reassignment ----------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_ious_is_a_dict(kind):
    d, r = _data(kind, seed=16)
    ref = _run(_pair(PC, d, r, kind))
    ev = _run(_pair(FA, d, r, kind))
    ious = ev.ious
    assert isinstance(ious, dict)
    k0 = next(iter(ref.ious))
    assert_same_iou(ref.ious[k0], ious[k0])           # one key, computed alone
    assert len(ious) == len(ref.ious)
    assert list(ious) == list(ref.ious)               # pycocotools' key order
    for (ka, va), (kb, vb) in zip(ref.ious.items(), ious.items()):
        assert ka == kb
        assert_same_iou(va, vb)
    rebuilt = type(ious)(OrderedDict((k, np.asarray(v) * 2) for k, v in ious.items()))
    assert type(rebuilt) is type(ious) and len(rebuilt) == len(ious)
    assert np.array_equal(np.asarray(rebuilt[k0]), np.asarray(ref.ious[k0]) * 2)
    assert dict(copy.deepcopy(ious)).keys() == ref.ious.keys()
    ev.ious = {"x": 1}
    assert ev.ious == {"x": 1}
    # lazily built, then edited before being read whole: the edit stays
    ev2 = _run(_pair(FA, d, r, kind))
    ev2.ious[k0] = "mine"
    assert dict(ev2.ious.items())[k0] == "mine" and len(ev2.ious) == len(ref.ious)


@pytest.mark.parametrize("kind", ["bbox", "keypoints"])
def test_cocoeval_without_dt_then_assigned(kind):
    d, r = _data(kind, seed=17)
    refs = []
    for lib in (PC, FA):
        gt = _gt(lib, d)
        ev = lib[1](gt, iouType=kind)
        if lib is FA:
            with pytest.raises(InvalidAnnotationError, match="cocoDt"):
                with quiet():
                    ev.evaluate()
        with quiet():
            ev.cocoDt = gt.loadRes(copy.deepcopy(r))
        refs.append(_run(ev))
    assert_same_eval(*refs)


def test_reassign_between_evaluations():
    """cocoDt, cocoGt and params.imgIds replaced between evaluations of one COCOeval."""
    d1, r1 = _data("bbox", seed=18)
    d2, r2 = _data("bbox", seed=19)
    outs = []
    for lib in (PC, FA):
        gt1, gt2 = _gt(lib, d1), _gt(lib, d2)
        ev = lib[1](gt1, iouType="bbox")
        steps = []
        with quiet():
            ev.cocoDt = gt1.loadRes(copy.deepcopy(r1))
        steps.append(copy.deepcopy(_run(ev).eval["precision"]))
        ev.params.imgIds = ev.params.imgIds[:10]
        steps.append(copy.deepcopy(_run(ev).eval["precision"]))
        ev.cocoGt = gt2
        with quiet():
            ev.cocoDt = gt2.loadRes(copy.deepcopy(r2))
        ev.params.imgIds = sorted(gt2.getImgIds())
        steps.append(copy.deepcopy(_run(ev).eval["precision"]))
        outs.append((steps, list(ev.stats)))
    for a, b in zip(outs[0][0], outs[1][0]):
        assert np.array_equal(a, b)
    assert outs[0][1] == outs[1][1]


@pytest.mark.parametrize("kind", KINDS)
def test_torchvision_empty_batch(kind):
    """A batch without any result: COCO() as cocoDt (torchvision's update)."""
    d, r = _data(kind, seed=20, n_images=24)
    ids = [im["id"] for im in d["images"]]
    h = len(ids) // 2
    keep = set(ids[:h])
    r = [x for x in r if x["image_id"] in keep]
    batches = [ids[:h], ids[h:]]
    ref = _torchvision_eval(PC, d, r, kind, batches)
    ev = _torchvision_eval(FA, d, r, kind, batches)
    assert_same_eval(ref, ev)


def test_subclass_compute_oks():
    """A keypoints subclass overriding computeOks (here: OKS squared) gets it used."""
    def cls(base):
        def computeOks(self, imgId, catId):
            v = base.computeOks(self, imgId, catId)
            return v if isinstance(v, list) else v ** 2
        return type("K", (base,), {"computeOks": computeOks})
    d, r = _data("keypoints", seed=21)
    ref = _run(_pair(PC, d, r, "keypoints", cls=cls(PC[1])))
    ev = _run(_pair(FA, d, r, "keypoints", cls=cls(FA[1])))
    assert ev._pass is None
    assert_same_eval(ref, ev)
    plain = _run(_pair(FA, d, r, "keypoints"))
    assert not np.array_equal(plain.eval["precision"], ev.eval["precision"])


@pytest.mark.parametrize("kind", ["bbox", "keypoints"])
@pytest.mark.parametrize("use_cats", [1, 0])
def test_gts_dts_after_fast_evaluate(kind, use_cats):
    """_gts / _dts read after fastap's own evaluate() hold what pycocotools' evaluate()
    left there (built when read): the same keys in the same order, ignore flags."""
    d, r = _data(kind, seed=22)
    ref, ev = _pair(PC, d, r, kind), _pair(FA, d, r, kind)
    ref.params.useCats = ev.params.useCats = use_cats
    with quiet():
        ref.evaluate()
        ev.evaluate()
    assert ev._pass is not None
    assert list(ref._gts) == list(ev._gts) and list(ref._dts) == list(ev._dts)
    for key in ref._gts:
        assert [(g["id"], g["ignore"]) for g in ref._gts[key]] == [(g["id"], g["ignore"]) for g in ev._gts[key]]
    for key in ref._dts:
        assert [x["id"] for x in ref._dts[key]] == [x["id"] for x in ev._dts[key]]


@pytest.mark.parametrize("kind", KINDS)
def test_pickle_and_deepcopy(kind):
    """A COCOeval after evaluate() pickles and deep-copies as pycocotools' does; the
    copy accumulates to the same numbers."""
    import pickle
    d, r = _data(kind, seed=23)
    ref = _run(_pair(PC, d, r, kind))
    ev = _pair(FA, d, r, kind)
    with quiet():
        ev.evaluate()
    for clone in (copy.deepcopy(ev), pickle.loads(pickle.dumps(ev))):
        assert len(clone.evalImgs) == len(ref.evalImgs)
        assert_same_eval(ref, _acc(clone))
        assert list(clone.ious) == list(ref.ious)
    assert_same_eval(ref, _acc(ev))
    assert ev._pass is not None


def test_eval_imgs_as_arrays():
    """evalImgs assigned as a flat object array works; a 3-D one is refused."""
    d, r = _data("bbox", seed=24)
    ref = _run(_pair(PC, d, r, "bbox"))
    ev = _pair(FA, d, r, "bbox")
    with quiet():
        ev.evaluate()
    arr = np.asarray(ev.evalImgs)
    ev.evalImgs = arr
    assert_same_eval(ref, _acc(ev))
    ev.evalImgs = arr.reshape(len(ev.params.catIds), len(ev.params.areaRng), -1)
    with pytest.raises(InvalidAnnotationError, match="flat"):
        with quiet():
            ev.accumulate()


@pytest.mark.parametrize("seed", range(6))
def test_accumulate_eval_imgs_on_pycocotools_dicts(seed):
    """fastap.coco.accumulate_eval_imgs on pycocotools' own evalImgs, with odd
    parameters (unsorted or coarse recThrs, maxDets with 0 and beyond the detections,
    custom area ranges, useCats 0), equals pycocotools' accumulate()."""
    from fastap.coco import accumulate_eval_imgs
    rng = np.random.default_rng(seed)
    d, r = make_coco(seed=seed, edge_cases=True, n_images=15, n_categories=3, dets_per_image=int(rng.integers(1, 40)))
    ref = _pair(PC, d, r, "bbox")
    p = ref.params
    p.useCats = int(seed % 3 != 0)
    p.maxDets = sorted(rng.choice([0, 1, 3, 10, 100, 500], size=3, replace=False).tolist())
    rec = np.round(rng.random(int(rng.integers(1, 30))), 2)
    p.recThrs = rec if seed % 2 else np.sort(rec)
    p.areaRng = [[0, 1e10], [0, float(rng.integers(100, 3000))], [500, 1e10]]
    p.areaRngLbl = ["all", "a", "b"]
    with quiet():
        ref.evaluate()
        ref.accumulate()
    prec, rc, sc = accumulate_eval_imgs(ref.evalImgs, ref.params, ref._paramsEval)
    assert np.array_equal(prec, ref.eval["precision"])
    assert np.array_equal(rc, ref.eval["recall"])
    assert np.array_equal(sc, ref.eval["scores"])


def test_eval_imgs_edited_in_place():
    """The evalImgs list built from the pass, edited in place (an entry dropped), is
    what accumulate() reads, as in pycocotools."""
    d, r = _data("bbox", seed=25)
    out = []
    for lib in (PC, FA):
        ev = _pair(lib, d, r, "bbox")
        with quiet():
            ev.evaluate()
        eimgs = ev.evalImgs
        n = next(i for i, e in enumerate(eimgs) if e is not None and e["dtIds"] and e["gtIds"])
        eimgs[n] = None
        out.append(_acc(ev))
    assert_same_eval(*out)
    plain = _run(_pair(FA, d, r, "bbox"))
    assert not np.array_equal(plain.eval["precision"], out[1].eval["precision"])

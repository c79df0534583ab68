"""fastap.COCO, the dataset object, against pycocotools.coco.COCO (the oracle): mask
conversion, drawing, downloads, the loadRes forms frameworks use, subclasses, copies,
edits of annotation dicts between evaluations, and segm annotations without bbox."""
import copy
import json
import os
import pickle
import urllib.error
import urllib.request

import numpy as np
import pytest
from pycocotools import mask as pmask
from pycocotools.coco import COCO as PCOCO
from pycocotools.cocoeval import COCOeval as PCOCOeval

import fastap
from fastap.adapters.cocodata import DownloadError
from fastap.errors import FastapError, InvalidAnnotationError
from fastap.synthetic import make_coco, make_keypoints_coco, make_segm_coco

from conftest import assert_same_eval, quiet


def _coco(cls, dataset):
    with quiet():
        c = cls()
        c.dataset = copy.deepcopy(dataset)
        c.createIndex()
    return c


def _evaluate(ev_cls, gt, dt, iou_type, set_params=None):
    with quiet():
        ev = ev_cls(gt, dt, iou_type)
        if set_params:
            set_params(ev.params)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def _both(dataset, results, iou_type):
    """(pycocotools' COCOeval, fastap's) on copies of the same data."""
    pg, fg = _coco(PCOCO, dataset), _coco(fastap.COCO, dataset)
    with quiet():
        pd, fd = pg.loadRes(copy.deepcopy(results)), fg.loadRes(copy.deepcopy(results))
    return _evaluate(PCOCOeval, pg, pd, iou_type), _evaluate(fastap.COCOeval, fg, fd, iou_type)


def _segm_data(seed=0, **kw):
    ds, res = make_segm_coco(seed=seed, n_images=12, dets_per_image=15, edge_cases=True, **kw)
    # one compressed RLE annotation (bytes counts) and one with str counts
    for k, ann in enumerate(ds["annotations"][:2]):
        img = next(i for i in ds["images"] if i["id"] == ann["image_id"])
        rle = pmask.merge(pmask.frPyObjects(ann["segmentation"], img["height"], img["width"])) \
            if isinstance(ann["segmentation"], list) else pmask.frPyObjects(ann["segmentation"], img["height"], img["width"])
        ann["segmentation"] = {"size": rle["size"], "counts": rle["counts"].decode() if k else rle["counts"]}
    return ds, res


# -- 1. annToRLE / annToMask --------------------------------------------------------------------

def test_ann_to_rle_and_mask_equal_pycocotools():
    ds, _ = _segm_data()
    ds["annotations"][3]["segmentation"] = ds["annotations"][3]["segmentation"] * 2 \
        if isinstance(ds["annotations"][3]["segmentation"], list) else ds["annotations"][3]["segmentation"]
    pg, fg = _coco(PCOCO, ds), _coco(fastap.COCO, ds)
    kinds = set()
    for a in fg.dataset["annotations"]:
        seg = a["segmentation"]
        kinds.add("poly%d" % min(len(seg), 2) if isinstance(seg, list) else
                  "uncompressed" if isinstance(seg["counts"], list) else "rle-" + type(seg["counts"]).__name__)
        pa = pg.anns[a["id"]]
        r, pr = fg.annToRLE(a), pg.annToRLE(pa)
        assert r["size"] == list(pr["size"])
        assert pmask.decode(r).tobytes() == pmask.decode(pr).tobytes() if not isinstance(pr["counts"], str) \
            else r["counts"] == pr["counts"]
        m, pm = fg.annToMask(a), pg.annToMask(pa)
        assert m.dtype == pm.dtype == np.uint8 and m.shape == pm.shape
        assert np.array_equal(m, pm)
        if not isinstance(seg, list) and not isinstance(seg["counts"], list):
            assert fg.annToRLE(a) is a["segmentation"]          # compressed RLE passed through
    assert {"poly1", "poly2", "uncompressed", "rle-bytes", "rle-str"} <= kinds
    assert any(a["iscrowd"] for a in fg.dataset["annotations"])


def test_ann_to_rle_errors_name_image_and_field():
    ds, _ = _segm_data()
    del ds["images"][0]["height"]
    fg = _coco(fastap.COCO, ds)
    ann = next(a for a in fg.dataset["annotations"] if a["image_id"] == ds["images"][0]["id"]
               and isinstance(a["segmentation"], list))
    with pytest.raises(InvalidAnnotationError, match="missing field 'height'"):
        fg.annToMask(ann)
    with pytest.raises(InvalidAnnotationError, match="segmentation"):
        fg.annToRLE({"id": 1, "image_id": ann["image_id"]})


# -- 2. showAnns ------------------------------------------------------------------------------------

def _draw(coco, anns, draw_bbox):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.close("all")
    fig = plt.figure()
    np.random.seed(3)
    coco.showAnns(anns, draw_bbox=draw_bbox)
    ax = plt.gca()
    out = {"collections": [(type(c).__name__, len(c.get_paths()), np.asarray(c.get_facecolor()).round(12).tolist())
                           for c in ax.collections],
           "paths": [[p.vertices.tolist() for p in c.get_paths()] for c in ax.collections],
           "images": [np.asarray(im.get_array()).tolist() for im in ax.images],
           "lines": [(ln.get_xdata().tolist(), ln.get_ydata().tolist(), ln.get_marker()) for ln in ax.lines]}
    plt.close(fig)
    return out


@pytest.mark.parametrize("draw_bbox", [False, True])
def test_show_anns_draws_what_pycocotools_draws(draw_bbox):
    pytest.importorskip("matplotlib")
    ds, _ = _segm_data()
    pg, fg = _coco(PCOCO, ds), _coco(fastap.COCO, ds)
    ids = [a["id"] for a in ds["annotations"][:12]]
    a, b = _draw(pg, pg.loadAnns(ids), draw_bbox), _draw(fg, fg.loadAnns(ids), draw_bbox)
    assert len(a["images"]) >= 2 and len(a["collections"]) == 2
    assert a == b
    kd, _ = make_keypoints_coco(seed=1, n_images=4)
    pk, fk = _coco(PCOCO, kd), _coco(fastap.COCO, kd)
    ids = [x["id"] for x in kd["annotations"][:6]]
    a, b = _draw(pk, pk.loadAnns(ids), draw_bbox), _draw(fk, fk.loadAnns(ids), draw_bbox)
    assert len(a["lines"]) > 6
    assert a == b


def test_show_anns_without_matplotlib(monkeypatch):
    import builtins
    real = builtins.__import__

    def no_mpl(name, *args, **kw):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real(name, *args, **kw)
    ds, _ = _segm_data()
    fg = _coco(fastap.COCO, ds)
    monkeypatch.setattr(builtins, "__import__", no_mpl)
    with pytest.raises(ImportError, match=r"pip install fastap\[plot\]"):
        fg.showAnns(fg.loadAnns([ds["annotations"][0]["id"]]))
    assert fg.showAnns([]) == 0


# -- 3. download --------------------------------------------------------------------------------------

def _img_dataset(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    images = []
    for i in (1, 2):
        (src / ("%d.jpg" % i)).write_bytes(b"image %d" % i)
        images.append({"id": i, "file_name": "%d.jpg" % i, "height": 4, "width": 4,
                       "coco_url": (src / ("%d.jpg" % i)).as_uri()})
    return {"images": images, "annotations": [], "categories": [{"id": 1, "name": "a"}]}


def test_download_file_urls_and_skip_existing(tmp_path, capsys):
    c = fastap.COCO(_img_dataset(tmp_path))
    assert c.download() == -1
    out = tmp_path / "out"
    c.download(str(out))
    assert (out / "1.jpg").read_bytes() == b"image 1" and (out / "2.jpg").read_bytes() == b"image 2"
    (out / "2.jpg").write_bytes(b"kept")
    c.download(str(out), imgIds=[2])
    assert (out / "2.jpg").read_bytes() == b"kept"
    assert "downloaded 0/1 images" in capsys.readouterr().out


def test_download_through_a_patched_opener(tmp_path, monkeypatch):
    calls = []

    def fake(url, fname):
        calls.append(url)
        with open(fname, "wb") as f:
            f.write(b"bytes of " + url.encode())
    monkeypatch.setattr(urllib.request, "urlretrieve", fake)
    d = _img_dataset(tmp_path)
    d["images"][0]["coco_url"] = "http://images.cocodataset.org/val2017/1.jpg"
    fastap.COCO(d).download(str(tmp_path / "o"), imgIds=[1])
    assert calls == ["http://images.cocodataset.org/val2017/1.jpg"]
    assert (tmp_path / "o" / "1.jpg").read_bytes().startswith(b"bytes of http")


def test_download_without_network_is_a_clear_error(tmp_path, monkeypatch):
    def unreachable(url, fname):
        open(fname, "wb").write(b"partial")
        raise urllib.error.URLError(OSError(101, "Network is unreachable"))
    monkeypatch.setattr(urllib.request, "urlretrieve", unreachable)
    d = _img_dataset(tmp_path)
    d["images"][0]["coco_url"] = "http://images.cocodataset.org/val2017/1.jpg"
    with pytest.raises(DownloadError) as e:
        fastap.COCO(d).download(str(tmp_path / "o"))
    msg = str(e.value)
    assert isinstance(e.value, FastapError)
    assert "image 1" in msg and "http://images.cocodataset.org/val2017/1.jpg" in msg and "unreachable" in msg
    assert not (tmp_path / "o" / "1.jpg").exists()          # no partial file left behind
    del d["images"][1]["coco_url"]
    with pytest.raises(InvalidAnnotationError, match="image 2: missing field 'coco_url'"):
        fastap.COCO(d).download(str(tmp_path / "o"), imgIds=[2])


# -- 4. loadNumpyAnnotations, loadRes forms ---------------------------------------------------------

def test_load_numpy_annotations_equals_pycocotools(capsys):
    ds, res = make_coco(seed=2, edge_cases=True, n_images=8)
    arr = np.array([[r["image_id"], *r["bbox"], r["score"], r["category_id"]] for r in res])
    pg, fg = _coco(PCOCO, ds), _coco(fastap.COCO, ds)
    capsys.readouterr()
    a = pg.loadNumpyAnnotations(arr)
    pout = capsys.readouterr().out
    b = fg.loadNumpyAnnotations(arr)
    assert capsys.readouterr().out == pout
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        assert x == y and all(type(x[k]) is type(y[k]) for k in x)
        assert [type(v) for v in x["bbox"]] == [type(v) for v in y["bbox"]]
    pe, fe = (_evaluate(PCOCOeval, pg, pg.loadRes(arr), "bbox"), _evaluate(fastap.COCOeval, fg, fg.loadRes(arr), "bbox"))
    assert_same_eval(pe, fe)
    with quiet():
        ue = _evaluate(fastap.COCOeval, fg, fastap.COCO.loadRes(fg, arr), "bbox")       # called unbound
    assert_same_eval(pe, ue)


def test_torchvision_flow_unbound_loadres_and_empty():
    ds, res = make_coco(seed=4, edge_cases=True, n_images=10)
    pg, fg = _coco(PCOCO, ds), _coco(fastap.COCO, ds)
    ref = _evaluate(PCOCOeval, pg, PCOCO.loadRes(pg, copy.deepcopy(res)), "bbox")
    with quiet():
        dt = fastap.COCO.loadRes(fg, copy.deepcopy(res))
    assert_same_eval(ref, _evaluate(fastap.COCOeval, fg, dt, "bbox"))
    with quiet(), pytest.warns(fastap.EmptyResultsWarning):     # the whole ground truth, no detections
        empty = fg.loadRes([])
        ev = fastap.COCOeval(fg, empty, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.cocoDt = fastap.COCO()                      # torchvision: COCO() when a batch has no results
        ev.evaluate()
        ev.accumulate()
    assert (ev.eval["precision"][ev.eval["precision"] > -1] == 0).all()


# -- 5. subclasses, assignments, copies -------------------------------------------------------------

def _subclasses(base):
    class MyCOCO(base):                 # mmdetection's COCO
        def __init__(self, annotation_file=None):
            super().__init__(annotation_file=annotation_file)
            self.img_ann_map = self.imgToAnns
            self.cat_img_map = self.catToImgs

        def get_ann_ids(self, img_ids=[], cat_ids=[], area_rng=[], iscrowd=None):
            return self.getAnnIds(img_ids, cat_ids, area_rng, iscrowd)

        def get_cat_ids(self, cat_names=[], sup_names=[], cat_ids=[]):
            return self.getCatIds(cat_names, sup_names, cat_ids)

        def load_anns(self, ids):
            return self.loadAnns(ids)

    class OwnIndex(base):               # a createIndex of its own, not calling super's
        def createIndex(self):
            anns, cats, imgs = {}, {}, {}
            img_to_anns, cat_to_imgs = {}, {}
            for ann in self.dataset.get("annotations", []):
                if ann["category_id"] % 3 == 0:          # drops some annotations from the index
                    continue
                img_to_anns.setdefault(ann["image_id"], []).append(ann)
                anns[ann["id"]] = ann
            for img in self.dataset.get("images", []):
                imgs[img["id"]] = img
            for cat in self.dataset.get("categories", []):
                cats[cat["id"]] = cat
            for ann in anns.values():
                cat_to_imgs.setdefault(ann["category_id"], []).append(ann["image_id"])
            from collections import defaultdict
            self.anns, self.cats, self.imgs = anns, cats, imgs
            self.imgToAnns, self.catToImgs = defaultdict(list, img_to_anns), defaultdict(list, cat_to_imgs)
    return MyCOCO, OwnIndex


@pytest.mark.parametrize("from_file", [False, True])
@pytest.mark.parametrize("which", [0, 1])
def test_subclasses_evaluate_as_pycocotools(tmp_path, from_file, which):
    ds, res = make_coco(seed=5, edge_cases=True, n_images=15)
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(ds))
    P, F = _subclasses(PCOCO)[which], _subclasses(fastap.COCO)[which]
    with quiet():
        pg = P(str(path)) if from_file else P()
        fg = F(str(path)) if from_file else F()
        if not from_file:
            for g in (pg, fg):
                g.dataset = copy.deepcopy(ds)
                g.createIndex()
    assert isinstance(fg, fastap.COCO)
    assert fg.getAnnIds() == pg.getAnnIds()
    assert sorted(fg.anns) == sorted(pg.anns)
    if which == 0:
        assert fg.get_ann_ids(img_ids=[ds["images"][0]["id"]]) == pg.get_ann_ids(img_ids=[ds["images"][0]["id"]])
        assert (fg.img_ann_map is fg.imgToAnns) == (pg.img_ann_map is pg.imgToAnns) == from_file
    else:
        assert len(fg.anns) < len(ds["annotations"])          # kept what its createIndex assigned
    with quiet():
        pd, fd = pg.loadRes(copy.deepcopy(res)), fg.loadRes(copy.deepcopy(res))
    assert_same_eval(_evaluate(PCOCOeval, pg, pd, "bbox"), _evaluate(fastap.COCOeval, fg, fd, "bbox"))


def test_assigning_cats_and_categories():
    ds, res = make_coco(seed=6, edge_cases=True, n_images=10)
    out = []
    for C, E in ((PCOCO, PCOCOeval), (fastap.COCO, fastap.COCOeval)):
        g = _coco(C, ds)
        g.dataset["categories"] = [c for c in g.dataset["categories"] if c["id"] % 2]
        g.cats = {c["id"]: c for c in g.dataset["categories"]}
        with quiet():
            d = g.loadRes(copy.deepcopy(res))
        assert d.dataset["categories"] == g.dataset["categories"]
        out.append(_evaluate(E, g, d, "bbox"))
        assert out[-1].params.catIds == sorted(g.cats)
    assert_same_eval(*out)


def _loaded_variants(tmp_path):
    """(name, gt factory, results, iou type) for the copy tests."""
    ds, res = make_coco(seed=7, edge_cases=True, n_images=10)
    sds, sres = make_segm_coco(seed=7, n_images=6, dets_per_image=10)
    kds, kres = make_keypoints_coco(seed=7, n_images=6)
    out = []
    for name, d, r, t in (("bbox", ds, res, "bbox"), ("segm", sds, sres, "segm"), ("kpt", kds, kres, "keypoints")):
        gp, rp = tmp_path / ("%s_gt.json" % name), tmp_path / ("%s_res.json" % name)
        gp.write_text(json.dumps(d))
        rp.write_text(json.dumps(r))
        out.append((name, d, r, t, str(gp), str(rp)))
    return out


@pytest.mark.parametrize("copier", ["deepcopy", "pickle"])
def test_copies_behave_the_same(tmp_path, copier):
    cp = copy.deepcopy if copier == "deepcopy" else (lambda x: pickle.loads(pickle.dumps(x)))
    for name, d, r, t, gp, rp in _loaded_variants(tmp_path):
        pg = _coco(PCOCO, d)
        with quiet():
            ref = _evaluate(PCOCOeval, pg, pg.loadRes(copy.deepcopy(r)), t)
            gts = [fastap.COCO(gp), fastap.COCO(copy.deepcopy(d))]
            for g in gts:
                dts = [g.loadRes(rp), g.loadRes(copy.deepcopy(r))]
                if t == "bbox":
                    dts.append(g.loadRes(np.array([[x["image_id"], *x["bbox"], x["score"], x["category_id"]]
                                                   for x in r])))
                for dt in dts:
                    g2, dt2 = cp(g), cp(dt)
                    assert_same_eval(ref, _evaluate(fastap.COCOeval, g2, dt2, t))
                    assert g2.getAnnIds() == g.getAnnIds() and dt2.getAnnIds() == dt.getAnnIds()
                    assert g2.dataset == g.dataset and dt2.dataset == dt.dataset
                    # after the dicts were read, a copy still evaluates the same
                    assert_same_eval(ref, _evaluate(fastap.COCOeval, cp(g), cp(dt), t))


# -- 6. edits to annotation dicts are seen ----------------------------------------------------------

def _edit(anns, rng):
    for a in anns:
        a["area"] = float(a["area"]) * float(rng.choice([0.01, 1.0, 50.0]))
    for a in anns[::7]:
        x, y, w, h = a["bbox"]
        a["bbox"] = [x + 1.5, y, w * 0.8, h]
    for a in anns[::11]:
        a["iscrowd"] = 1 - a.get("iscrowd", 0)


@pytest.mark.parametrize("source", ["dict", "file-read", "file-anns", "file-loadAnns"])
def test_edits_between_evaluations_are_seen(tmp_path, source):
    ds, res = make_coco(seed=8, edge_cases=True, n_images=20)
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(ds))
    pg = _coco(PCOCO, ds)
    with quiet():
        fg = _coco(fastap.COCO, ds) if source == "dict" else fastap.COCO(str(path))
        pd, fd = pg.loadRes(copy.deepcopy(res)), fg.loadRes(copy.deepcopy(res))
    assert_same_eval(_evaluate(PCOCOeval, pg, pd, "bbox"), _evaluate(fastap.COCOeval, fg, fd, "bbox"))
    if source == "file-anns":
        anns = [fg.anns[a["id"]] for a in pg.dataset["annotations"]]
    elif source == "file-loadAnns":
        anns = fg.loadAnns(fg.getAnnIds())
    else:
        anns = fg.dataset["annotations"]
    # the first evaluation (before the dicts were read) used the file's columns; now edit
    _edit(pg.dataset["annotations"], np.random.default_rng(0))
    _edit(anns, np.random.default_rng(0))
    with quiet():
        pd, fd = pg.loadRes(copy.deepcopy(res)), fg.loadRes(copy.deepcopy(res))
    before = _evaluate(fastap.COCOeval, _coco(fastap.COCO, ds), fd, "bbox")
    ref, ev = _evaluate(PCOCOeval, pg, pd, "bbox"), _evaluate(fastap.COCOeval, fg, fd, "bbox")
    assert_same_eval(ref, ev)
    assert not np.array_equal(before.eval["precision"], ev.eval["precision"])     # the edits mattered
    # and again, editing once more
    for a, b in zip(pg.dataset["annotations"], anns):
        a["area"] = b["area"] = 1.0
    assert_same_eval(_evaluate(PCOCOeval, pg, pd, "bbox"), _evaluate(fastap.COCOeval, fg, fd, "bbox"))


def test_edits_of_result_dicts_after_they_were_read():
    ds, res = make_coco(seed=9, edge_cases=True, n_images=10)
    pg, fg = _coco(PCOCO, ds), _coco(fastap.COCO, ds)
    with quiet():
        pd, fd = pg.loadRes(copy.deepcopy(res)), fg.loadRes(copy.deepcopy(res))
    assert_same_eval(_evaluate(PCOCOeval, pg, pd, "bbox"), _evaluate(fastap.COCOeval, fg, fd, "bbox"))
    for d in (pd, fd):
        for a in d.dataset["annotations"][::3]:
            a["score"] = 0.5
            a["area"] = 10.0
    assert_same_eval(_evaluate(PCOCOeval, pg, pd, "bbox"), _evaluate(fastap.COCOeval, fg, fd, "bbox"))


def _torchmetrics_like(ds, res):
    """torchmetrics' datasets: COCO() + .dataset + createIndex() for both sides; areas
    of both bbox and segm kept per annotation."""
    gt = copy.deepcopy(ds)
    dt = {"images": copy.deepcopy(ds["images"]), "categories": copy.deepcopy(ds["categories"]), "annotations": []}
    sizes = {i["id"]: (i["height"], i["width"]) for i in ds["images"]}
    for a in gt["annotations"]:
        h, w = sizes[a["image_id"]]
        s = a["segmentation"]
        rle = pmask.merge(pmask.frPyObjects(s, h, w)) if isinstance(s, list) else pmask.frPyObjects(s, h, w)
        a["area_bbox"], a["area_segm"] = a["bbox"][2] * a["bbox"][3], float(pmask.area(rle))
        a["area"] = a["area_bbox"]
    for n, r in enumerate(res):
        s = r["segmentation"]
        box = pmask.toBbox(s).tolist()
        dt["annotations"].append({"id": n + 1, "image_id": r["image_id"], "category_id": r["category_id"],
                                  "score": r["score"], "bbox": box, "segmentation": s, "iscrowd": 0,
                                  "area_bbox": box[2] * box[3], "area_segm": float(pmask.area(s)),
                                  "area": box[2] * box[3]})
    return gt, dt


def test_torchmetrics_flow_bbox_then_segm_with_areas_edited():
    ds, res = make_segm_coco(seed=10, n_images=12, dets_per_image=15, edge_cases=True)
    gt_d, dt_d = _torchmetrics_like(ds, res)
    evs = {}
    for C, E in ((PCOCO, PCOCOeval), (fastap.COCO, fastap.COCOeval)):
        gt, dt = _coco(C, gt_d), _coco(C, dt_d)
        out = []
        for t in ("bbox", "segm"):
            for coco in (gt, dt):
                for a in coco.dataset["annotations"]:
                    a["area"] = a["area_%s" % t]
            out.append(_evaluate(E, gt, dt, t))
        evs[C] = out
    for ref, ev in zip(evs[PCOCO], evs[fastap.COCO]):
        assert_same_eval(ref, ev)
    assert not np.array_equal(evs[fastap.COCO][1].eval["precision"][:, :, :, 1:],
                              _evaluate(fastap.COCOeval, _coco(fastap.COCO, gt_d), _coco(fastap.COCO, dt_d),
                                        "segm").eval["precision"][:, :, :, 1:])


# -- 7. segm annotations without bbox ----------------------------------------------------------------

@pytest.mark.parametrize("from_file", [False, True])
def test_segm_ground_truth_and_results_without_bbox(tmp_path, from_file):
    ds, res = _segm_data(seed=11)
    for a in ds["annotations"]:
        del a["bbox"]
    assert all("bbox" not in r for r in res)
    path = tmp_path / "gt.json"
    path.write_text(json.dumps({**ds, "annotations": [{**a, "segmentation": {**a["segmentation"], "counts":
                    a["segmentation"]["counts"].decode()} if isinstance(a["segmentation"], dict)
                    and isinstance(a["segmentation"]["counts"], bytes) else a["segmentation"]} for a in ds["annotations"]]}))
    pg = _coco(PCOCO, ds)
    with quiet():
        fg = fastap.COCO(str(path)) if from_file else _coco(fastap.COCO, ds)
        ref = _evaluate(PCOCOeval, pg, pg.loadRes(copy.deepcopy(res)), "segm")
        ev = _evaluate(fastap.COCOeval, fg, fg.loadRes(copy.deepcopy(res)), "segm")
    assert_same_eval(ref, ev)
    # the torchmetrics way: results as a dataset whose annotations have no bbox either
    dt = {"images": ds["images"], "categories": ds["categories"],
          "annotations": [{**r, "id": n + 1, "iscrowd": 0, "area": float(pmask.area(r["segmentation"]))}
                          for n, r in enumerate(res)]}
    assert_same_eval(_evaluate(PCOCOeval, pg, _coco(PCOCO, dt), "segm"),
                     _evaluate(fastap.COCOeval, fg, _coco(fastap.COCO, dt), "segm"))
    with quiet():
        dres = fg.loadRes(copy.deepcopy(res))
    with pytest.raises(InvalidAnnotationError, match=r"annotations record 0 \(id \d+\): missing field 'bbox'"):
        _evaluate(fastap.COCOeval, fg, dres, "bbox")
    with pytest.raises(InvalidAnnotationError, match=r"results record 0 \(id 1\): missing field 'bbox'"):
        _evaluate(fastap.COCOeval, _coco(fastap.COCO, {**ds, "annotations": [{**a, "bbox": [0, 0, 1, 1]}
                                                                            for a in ds["annotations"]]}),
                  _coco(fastap.COCO, dt), "bbox")
    with pytest.raises(InvalidAnnotationError, match="missing field 'bbox'"):
        fastap.evaluate(fg, dres)                               # the array API's box evaluation
    # and segm evaluates again after the refused bbox evaluation
    assert_same_eval(ref, _evaluate(fastap.COCOeval, fg, dres, "segm"))


def test_results_without_bbox_or_area_are_refused():
    ds, res = _segm_data(seed=12)
    dt = {"images": ds["images"], "categories": ds["categories"],
          "annotations": [{**r, "id": n + 1} for n, r in enumerate(res)]}
    with pytest.raises(InvalidAnnotationError, match="results record 0: missing fields 'bbox' and 'area'"):
        _evaluate(fastap.COCOeval, _coco(fastap.COCO, ds), _coco(fastap.COCO, dt), "segm")


def test_keypoints_ground_truth_without_bbox_is_refused():
    kd, kr = make_keypoints_coco(seed=13, n_images=5)
    for a in kd["annotations"]:
        del a["bbox"]
    with pytest.raises(InvalidAnnotationError, match=r"annotations record 0 \(id \d+\): missing field 'bbox'"):
        g = _coco(fastap.COCO, kd)
        with quiet():
            _evaluate(fastap.COCOeval, g, g.loadRes(copy.deepcopy(kr)), "keypoints")


def test_pycocotools_objects_without_bbox_through_fastap_cocoeval():
    ds, res = _segm_data(seed=14)
    for a in ds["annotations"]:
        del a["bbox"]
    pg = _coco(PCOCO, ds)
    with quiet():
        pd = pg.loadRes(copy.deepcopy(res))
    ref = _evaluate(PCOCOeval, pg, pd, "segm")
    assert_same_eval(ref, _evaluate(fastap.COCOeval, pg, pd, "segm"))
    with pytest.raises(InvalidAnnotationError, match="missing field 'bbox'"):
        _evaluate(fastap.COCOeval, pg, pd, "bbox")


def test_subclass_copies_keep_their_index():
    ds, res = make_coco(seed=15, edge_cases=True, n_images=10)
    P, F = _subclasses(PCOCO)[1], _subclasses(fastap.COCO)[1]
    pg, fg = _coco(P, ds), _coco(F, ds)
    with quiet():
        ref = _evaluate(PCOCOeval, pg, pg.loadRes(copy.deepcopy(res)), "bbox")
        g2 = copy.deepcopy(fg)
        assert type(g2) is F and sorted(g2.anns) == sorted(pg.anns)
        assert_same_eval(ref, _evaluate(fastap.COCOeval, g2, g2.loadRes(copy.deepcopy(res)), "bbox"))


def test_ann_to_mask_of_an_empty_polygon_list_is_an_empty_image_mask():
    c = fastap.COCO({"images": [{"id": 1, "height": 4, "width": 5}], "annotations": [], "categories": []})
    m = c.annToMask({"id": 3, "image_id": 1, "segmentation": []})
    assert m.shape == (4, 5) and m.dtype == np.uint8 and not m.any()


def test_per_batch_evaluation_reads_the_batch_dicts_as_edited():
    """A box evaluation of a few images of a ground truth whose dicts are user-visible
    reads those images' dicts through the index (as pycocotools' _prepare does), edits
    made in place included; the numbers equal pycocotools' batch by batch."""
    ds, res = make_coco(seed=5, n_images=30, n_categories=4, dets_per_image=12, edge_cases=True)
    pg, fg = _coco(PCOCO, ds), _coco(fastap.COCO, ds)
    ids = sorted(fg.getImgIds())
    for step, batch in enumerate((ids[:2], ids[2:5], ids[:2])):
        if step == 2:                    # edit the first batch's annotations in place, then again
            for g in (pg, fg):
                for a in g.loadAnns(g.getAnnIds(imgIds=batch)):
                    a["area"] = a["area"] * 0.01 if a["area"] > 40 ** 2 else a["area"] * 50.0
                    a["iscrowd"] = 1 - a["iscrowd"] if a["id"] % 3 == 0 else a["iscrowd"]
        mine = [r for r in res if r["image_id"] in batch]
        evs = []
        for cls, cocls, g in ((PCOCOeval, PCOCO, pg), (fastap.COCOeval, fastap.COCO, fg)):
            with quiet():
                ev = cls(g, cocls.loadRes(g, copy.deepcopy(mine)), "bbox")
                ev.params.imgIds = batch
                ev.evaluate()
                ev.accumulate()
                ev.summarize()
            evs.append(ev)
        assert_same_eval(*evs)


def test_results_images_index_as_pycocotools():
    """loadRes results index their images when first read (not at loadRes): the same
    imgs, getImgIds and loadImgs as pycocotools', pickled or not, and assignable."""
    ds, res = make_coco(seed=5, n_images=12)
    with quiet():
        g, pg = fastap.COCO(copy.deepcopy(ds)), PCOCO()
        pg.dataset = copy.deepcopy(ds)
        pg.createIndex()
        r, pr = g.loadRes(copy.deepcopy(res)), pg.loadRes(copy.deepcopy(res))
    assert "imgs" not in vars(r) and r._imgs is None          # not built by loadRes
    for obj in (r, pickle.loads(pickle.dumps(r)), copy.deepcopy(r)):
        assert obj.imgs == pr.imgs
        assert obj.getImgIds() == pr.getImgIds()
        assert obj.loadImgs(pr.getImgIds()[:3]) == pr.loadImgs(pr.getImgIds()[:3])
    r.imgs = {1: {"id": 1}}
    assert r.getImgIds() == [1]

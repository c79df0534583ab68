"""LVIS: fastap.lvis, fastap.evaluate(protocol="lvis"), init_as_lvis() and the CLI against
lvis-api 0.5.3 (the oracle), on generated LVIS-style data (fastap.synthetic.make_lvis: a
long tail of rare / common / frequent categories, neg_category_ids and
not_exhaustive_category_ids on images, ignore flags, zero areas, a ground truth of id 0,
images with more than 300 results whose scores tie at the cut, score ties across
categories). Compared: the whole precision and recall arrays, the results dict (keys,
order, values bit for bit) and the printed lines."""
import contextlib
import copy
import functools
import io
import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

import fastap
from fastap import lvis as F
from fastap.errors import InvalidAnnotationError
from fastap.synthetic import make_lvis

from test_compat import run_python

# lvis-api 0.5.3 (the oracle) uses np.float in eval.py, an alias NumPy 1.24 removed; lvis-api
# fixed it upstream but never released the fix: restore the alias before importing it
if not hasattr(np, "float"):
    np.float = float
import lvis as L  # noqa: E402
import lvis.eval  # noqa: E402,F401

logging.getLogger("lvis").setLevel(logging.ERROR)
logging.getLogger("fastap.lvis").setLevel(logging.ERROR)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@functools.lru_cache(maxsize=None)
def _data(seed, segm=False, with_bbox=False, n_images=50, n_categories=40, dets_per_image=300):
    return make_lvis(seed=seed, segm=segm, with_bbox=with_bbox, n_images=n_images, n_categories=n_categories,
                     dets_per_image=dets_per_image)


def _run(M, ds, res, iou_type, max_dets=300, set_params=None):
    """LVIS of a copy of the dataset dict, LVISResults of a copy of the results, LVISEval.run()."""
    gt = M.LVIS(copy.deepcopy(ds)) if M is F else _oracle_gt(ds)
    dt = M.LVISResults(gt, copy.deepcopy(res), max_dets=max_dets)
    ev = M.LVISEval(gt, dt, iou_type)
    if set_params:
        set_params(ev.params)
    ev.run()
    return ev


def _oracle_gt(ds):
    """lvis-api 0.5.3 reads only paths: its LVIS built on a dict."""
    gt = L.LVIS.__new__(L.LVIS)
    gt.logger = logging.getLogger("lvis.lvis")
    gt.dataset = copy.deepcopy(ds)
    gt._create_index()
    return gt


def _same(a, b):
    assert np.array_equal(a.eval["precision"], b.eval["precision"])
    assert np.array_equal(a.eval["recall"], b.eval["recall"])
    assert a.eval["precision"].dtype == b.eval["precision"].dtype
    assert list(a.results.keys()) == list(b.results.keys())
    for k in a.results:
        assert float(a.results[k]).hex() == float(b.results[k]).hex(), k
        assert type(a.results[k]) is type(b.results[k]), k
    assert a.eval["counts"] == b.eval["counts"]
    assert a.freq_groups == b.freq_groups


def _printed(ev):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ev.print_results()
    return out.getvalue()


@pytest.mark.parametrize("seed,max_dets", [(1, 300), (2, -1), (3, 40)])
def test_bbox_equals_lvis_api(seed, max_dets):
    ds, res = _data(seed)
    a, b = _run(F, ds, res, "bbox", max_dets), _run(L, ds, res, "bbox", max_dets)
    _same(a, b)
    assert _printed(a) == _printed(b)
    assert (a.eval["precision"] > 0).any() and (a.eval["precision"] == -1).any()


@pytest.mark.parametrize("with_bbox", [False, True])
def test_segm_equals_lvis_api(with_bbox):
    # with a box the results' area is the box's (lvis-api's bbox branch), without it the mask's
    ds, res = _data(4, segm=True, with_bbox=with_bbox, n_images=30, dets_per_image=50)
    a, b = _run(F, ds, res, "segm", 40), _run(L, ds, res, "segm", 40)
    _same(a, b)
    assert a.results["AP50"] > 0.1


def test_bbox_evaluation_of_mask_data():
    ds, res = _data(4, segm=True, with_bbox=True, n_images=30, dets_per_image=50)
    _same(_run(F, ds, res, "bbox"), _run(L, ds, res, "bbox"))


def test_params_edited_before_evaluate():
    ds, res = _data(5)

    def edit(p):
        p.img_ids = p.img_ids[::2]
        p.cat_ids = p.cat_ids[1::2] + [p.cat_ids[0]]
        p.iou_thrs = np.array([0.5, 0.6, 0.75])
        p.area_rng = [[0, 1e10], [0, 40 ** 2], [40 ** 2, 80 ** 2], [80 ** 2, 1e10]]
        p.rec_thrs = np.linspace(0, 1, 11)
        p.max_dets = 100
    a, b = _run(F, ds, res, "bbox", set_params=edit), _run(L, ds, res, "bbox", set_params=edit)
    _same(a, b)
    assert "AR@100" in a.results and _printed(a) == _printed(b)


def test_cap_ties_and_result_dicts():
    """The cut keeps, of equal scores, the results listed first; the result dicts (ids,
    areas, box polygons) and their order are lvis-api's."""
    ds, _ = _data(6, n_images=6, n_categories=8)
    imgs = [i["id"] for i in ds["images"]]
    cats = [c["id"] for c in ds["categories"]]
    rng = np.random.default_rng(0)
    res = [{"image_id": imgs[j % 3], "category_id": cats[j % 5], "bbox": [1.0 + j, 2.0, 30.0, 20.0 + j % 7],
            "score": [0.5, 0.25, 0.5, 0.75][j % 4]} for j in range(40)]
    res += [{"image_id": imgs[4], "category_id": cats[1], "bbox": [1, 2, 3, 4], "score": 0.1}]
    rng.shuffle(res)
    for max_dets in (5, 7, 300, -1):
        ours = F.LVISResults(F.LVIS(copy.deepcopy(ds)), copy.deepcopy(res), max_dets=max_dets)
        ref = L.LVISResults(_oracle_gt(ds), copy.deepcopy(res), max_dets=max_dets)
        assert ours.dataset["annotations"] == ref.dataset["annotations"]
        assert ours.get_ann_ids() == ref.get_ann_ids()
        assert sorted(ours.anns) == sorted(ref.anns)
        assert ours.get_top_results(imgs[0], 0.3) == ref.get_top_results(imgs[0], 0.3)
        assert ours.limit_dets_per_image(copy.deepcopy(res), 4) == ref.limit_dets_per_image(copy.deepcopy(res), 4)


def test_lvis_object_model(tmp_path):
    ds, _ = _data(7, n_images=20, n_categories=30)
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(ds))
    ours, ref = F.LVIS(str(path)), L.LVIS(str(path))
    assert ours.get_ann_ids() == ref.get_ann_ids()
    assert ours.get_img_ids() == ref.get_img_ids() and ours.get_cat_ids() == ref.get_cat_ids()
    some_imgs, some_cats = ref.get_img_ids()[:5], ref.get_cat_ids()[::3]
    for kw in ({"img_ids": some_imgs}, {"cat_ids": some_cats}, {"img_ids": some_imgs, "cat_ids": some_cats},
               {"cat_ids": some_cats, "area_rng": [0, 900]}):
        assert ours.get_ann_ids(**kw) == ref.get_ann_ids(**kw)
    assert ours.load_imgs(some_imgs) == ref.load_imgs(some_imgs)
    assert ours.load_cats(None) == ref.load_cats(None)
    ids = ref.get_ann_ids()[:7]
    assert ours.load_anns(ids) == ref.load_anns(ids)
    assert ours.img_ann_map == ref.img_ann_map and ours.cat_img_map == ref.cat_img_map
    assert ours.dataset == ref.dataset
    ann = ref.load_anns(ids[:1])[0]
    assert np.array_equal(ours.ann_to_mask(ann), ref.ann_to_mask(ann))


def test_ground_truth_edits_are_seen():
    """Once read, the ground truth's dicts are read again at every evaluate() (lvis-api
    reads them then): ignore flags and areas set in place count."""
    ds, res = _data(8)
    ours, ref = F.LVIS(copy.deepcopy(ds)), _oracle_gt(ds)
    for gt in (ours, ref):
        for i, a in enumerate(gt.dataset["annotations"]):
            if i % 9 == 0:
                a["ignore"] = 1
            if i % 13 == 0:
                a["area"] = 0.0
    a = F.LVISEval(ours, F.LVISResults(ours, copy.deepcopy(res)), "bbox")
    b = L.LVISEval(ref, L.LVISResults(ref, copy.deepcopy(res)), "bbox")
    a.run()
    b.run()
    _same(a, b)


def _columns(ds, res, segm=False):
    A = ds["annotations"]
    g = {"id": [a["id"] for a in A], "image_id": [a["image_id"] for a in A],
         "category_id": [a["category_id"] for a in A], "bbox": [a["bbox"] for a in A],
         "area": [a["area"] for a in A], "ignore": [a.get("ignore", 0) for a in A],
         "neg_category_ids": {i["id"]: i["neg_category_ids"] for i in ds["images"]},
         "not_exhaustive_category_ids": {i["id"]: i["not_exhaustive_category_ids"] for i in ds["images"]},
         "frequency": {c["id"]: c["frequency"] for c in ds["categories"]}}
    d = {"image_id": [r["image_id"] for r in res], "category_id": [r["category_id"] for r in res],
         "score": [r["score"] for r in res]}
    if segm:
        g["segmentation"] = [a["segmentation"] for a in A]
        d["segmentation"] = [r["segmentation"] for r in res]
    if "bbox" in res[0]:
        d["bbox"] = [r["bbox"] for r in res]
    return g, d


@pytest.mark.parametrize("segm", [False, True])
def test_array_api(segm):
    ds, res = _data(4, segm=True, n_images=30, dets_per_image=50) if segm else _data(1)
    b = _run(L, ds, res, "segm" if segm else "bbox", 45)
    g, d = _columns(ds, res, segm)
    sizes = {i["id"]: (i["height"], i["width"]) for i in ds["images"]}
    r = fastap.evaluate(g, d, protocol="lvis", iou_type="segm" if segm else "bbox", image_sizes=sizes, max_dets=45)
    assert np.array_equal(r.precision, b.eval["precision"]) and np.array_equal(r.recall, b.eval["recall"])
    assert [float(v).hex() for v in r.results.values()] == [float(v).hex() for v in b.results.values()]
    assert r.stats.shape == (13,) and r.metrics["AP"] == float(b.results["AP"])
    t = r.per_class()
    assert t.shape[0] == len(ds["categories"]) and set(t["frequency"].tolist()) <= {"r", "c", "f"}
    k = int(np.flatnonzero(~np.isnan(t["ap"]))[0])
    v = b.eval["precision"][:, :, k, 0]
    assert t["ap"][k] == np.mean(v[v > -1])
    if not segm:
        # the LVIS facade's columns form of the results
        ours = F.LVISEval(F.LVIS(copy.deepcopy(ds)), F.LVISResults(F.LVIS(copy.deepcopy(ds)), d, max_dets=45), "bbox")
        ours.run()
        _same(ours, b)


def test_array_api_errors():
    ds, res = _data(1, n_images=5, n_categories=6)
    g, d = _columns(ds, res)
    for field in ("neg_category_ids", "frequency"):
        with pytest.raises(InvalidAnnotationError, match=field):
            fastap.evaluate({k: v for k, v in g.items() if k != field}, d, protocol="lvis")
    bad = dict(g, frequency={**g["frequency"], ds["categories"][0]["id"]: "x"})
    with pytest.raises(InvalidAnnotationError, match=r"category 0 \(id %d\): field 'frequency'" % ds["categories"][0]["id"]):
        fastap.evaluate(bad, d, protocol="lvis")
    with pytest.raises(InvalidAnnotationError, match="not an image of the ground truth"):
        fastap.evaluate(g, dict(d, image_id=[10 ** 9] * len(d["image_id"])), protocol="lvis")
    with pytest.raises(ValueError, match="iou_type 'bbox' or 'segm'"):
        fastap.evaluate(g, d, protocol="lvis", iou_type="keypoints")


def test_facade_errors():
    ds, res = _data(1, n_images=5, n_categories=6)
    broken = copy.deepcopy(ds)
    del broken["images"][2]["neg_category_ids"]
    with pytest.raises(InvalidAnnotationError, match=r"image %d: missing field 'neg_category_ids'" % ds["images"][2]["id"]):
        F.LVISEval(F.LVIS(broken), copy.deepcopy(res), "bbox").run()
    ev = F.LVISEval(F.LVIS(copy.deepcopy(ds)), copy.deepcopy(res), "bbox")
    with pytest.raises(RuntimeError, match="accumulate"):
        ev.summarize()
    with pytest.raises(fastap.FastapError, match="evaluate"):
        ev.accumulate()
    ev.params.use_cats = 0
    with pytest.raises(InvalidAnnotationError, match="use_cats"):
        ev.evaluate()
    with pytest.raises(ValueError, match="iou_type: keypoints is not supported"):
        F.LVISEval(F.LVIS(copy.deepcopy(ds)), copy.deepcopy(res), "keypoints")
    with pytest.raises(InvalidAnnotationError, match="not an image of the ground truth"):
        F.LVISResults(F.LVIS(copy.deepcopy(ds)), [dict(res[0], image_id=10 ** 9)])
    with pytest.raises(TypeError, match="Unsupported type"):
        F.LVISEval(F.LVIS(copy.deepcopy(ds)), 3, "bbox")


DETECTRON2 = r'''
import copy, json, logging, sys
import numpy as np
if REPLACE:
    import fastap
    fastap.init_as_lvis()
else:
    np.float = float   # lvis-api 0.5.3 uses np.float (removed in NumPy 1.24)
import importlib.util
assert importlib.util.find_spec("lvis") is not None
from lvis import LVIS            # detectron2.data.datasets.lvis / LVISEvaluator.__init__
lvis_api = LVIS(GT)
assert len(lvis_api.get_ann_ids()) > 0
img_ids = sorted(lvis_api.imgs.keys())
anns = [lvis_api.img_ann_map[i] for i in img_ids[:3]]
print("n_anns", sum(len(a) for a in anns), len(lvis_api.load_imgs(img_ids[:3])))
results = json.load(open(RES))
metrics = ["AP", "AP50", "AP75", "APs", "APm", "APl", "APr", "APc", "APf"]
for iou_type in IOU_TYPES:
    lvis_results = copy.deepcopy(results)
    if iou_type == "segm":
        for c in lvis_results:
            c.pop("bbox", None)
    from lvis import LVISEval, LVISResults     # _evaluate_predictions_on_lvis
    lvis_results = LVISResults(lvis_api, lvis_results, max_dets=300)
    lvis_eval = LVISEval(lvis_api, lvis_results, iou_type)
    lvis_eval.run()
    lvis_eval.print_results()
    res = lvis_eval.get_results()
    print({m: float(res[m] * 100).hex() for m in metrics})
    print(float(np.asarray(lvis_eval.eval["precision"]).sum()).hex(), lvis_eval.eval["precision"].shape)
'''


def test_detectron2_sequence_in_child_interpreters(tmp_path):
    ds, res = _data(4, segm=True, with_bbox=True, n_images=30, dets_per_image=50)
    gt_path, res_path = tmp_path / "gt.json", tmp_path / "res.json"
    gt_path.write_text(json.dumps(ds))
    res_path.write_text(json.dumps(res))
    outs = []
    for replace in (True, False):
        code = (DETECTRON2.replace("REPLACE", repr(replace)).replace("GT", repr(str(gt_path)))
                .replace("RES", repr(str(res_path))).replace("IOU_TYPES", repr(["bbox", "segm"])))
        outs.append(run_python(code))
    assert outs[0] == outs[1]
    assert outs[0].count("Average Precision") == 18


def test_init_as_lvis_modules():
    with fastap.init_as_lvis() as h:
        assert h.active and h.owner
        import importlib
        for name in ("lvis", "lvis.lvis", "lvis.results", "lvis.eval"):
            m = importlib.import_module(name)
            assert m.__spec__.name == name and os.path.isfile(m.__file__)
        assert sys.modules["lvis"].LVISEval is F.LVISEval and sys.modules["lvis.eval"].Params is F.Params
        assert fastap.init_as_lvis().owner is False
    assert sys.modules["lvis"] is L and sys.modules["lvis"].LVISEval is not F.LVISEval
    assert fastap.restore_lvis() is False


def _cli(*args):
    env = dict(os.environ, PYTHONPATH=ROOT)
    p = subprocess.run([sys.executable, "-m", "fastap", "eval", *map(str, args)], capture_output=True, text=True,
                       env=env, cwd=ROOT, timeout=300)
    return p


def test_cli(tmp_path):
    ds, res = _data(1, n_images=30)
    gt_path, res_path = tmp_path / "gt.json", tmp_path / "res.json"
    gt_path.write_text(json.dumps(ds))
    res_path.write_text(json.dumps(res))
    b = _run(L, ds, res, "bbox")
    p = _cli(gt_path, res_path, "--per-class", "--csv", tmp_path / "pc.csv", "--json", tmp_path / "m.json")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(_printed(b))            # detected as LVIS: lvis-api's summary
    assert " frequency " in p.stdout
    out = json.loads((tmp_path / "m.json").read_text())
    assert out["protocol"] == "lvis" and out["results_lvis"] == {k: float(v) for k, v in b.results.items()}
    assert len(out["per_class"]) == len(ds["categories"])
    assert (tmp_path / "pc.csv").read_text().startswith("category_id,frequency,ap,")
    p = _cli(gt_path, res_path, "--protocol", "lvis", "--max-dets", "-1", "--quiet", "--json", "-")
    assert json.loads(p.stdout)["results_lvis"]["AP"] == float(_run(L, ds, res, "bbox", -1).results["AP"])
    p = _cli(gt_path, res_path, "--f1")
    assert p.returncode == 2 and "--protocol lvis" in p.stderr


def test_eval_imgs_equal_lvis_api():
    ds, res = _data(9, n_images=12, n_categories=15, dets_per_image=40)

    def edit(p):
        p.cat_ids = p.cat_ids[::-1]
    a, b = _run(F, ds, res, "bbox", 30, set_params=edit), _run(L, ds, res, "bbox", 30, set_params=edit)
    ea, eb = a.eval_imgs, b.eval_imgs
    assert len(ea) == len(eb) and sum(e is not None for e in eb) > 50
    for x, y in zip(ea, eb):
        assert (x is None) == (y is None)
        if x is None:
            continue
        assert x.keys() == y.keys()
        for key in x:
            if isinstance(y[key], np.ndarray):
                assert np.array_equal(x[key], y[key]) and x[key].dtype == y[key].dtype, key
            else:
                assert x[key] == y[key], key


@pytest.mark.parametrize("segm", [False, True])
def test_streaming_evaluator_equals_lvis_api(segm):
    """LVISEvaluator: results in per-batch updates of whole images, split across two
    states (one pickled, as from another process), merged: lvis-api's arrays and
    numbers on all the results at once; images without results count."""
    import pickle
    ds, res = _data(3, segm=segm, n_images=24, n_categories=30, dets_per_image=330)   # over the cap
    gt = F.LVIS(copy.deepcopy(ds))
    by = {}
    for r in res:
        by.setdefault(r["image_id"], []).append(r)
    imgs = sorted(by)[:-3]                       # the last three images get no results
    a = F.LVISEvaluator(gt, "segm" if segm else "bbox")
    b = F.LVISEvaluator(gt, "segm" if segm else "bbox")
    for k in range(0, len(imgs), 4):
        (a if k % 8 else b).update(copy.deepcopy([r for i in imgs[k:k + 4] for r in by[i]]))
    b = pickle.loads(pickle.dumps(b)).attach(gt)
    got = a.merge(b).compute()
    want = _run(L, ds, [r for i in imgs for r in res if r["image_id"] == i], "segm" if segm else "bbox")
    assert np.array_equal(got.eval["precision"], want.eval["precision"])
    assert np.array_equal(got.eval["recall"], want.eval["recall"])
    assert [float(v).hex() for v in got.results.values()] == [float(v).hex() for v in want.results.values()]
    assert list(got.results) == list(want.results)
    # an image's results split over two updates are refused, naming the image
    with pytest.raises(InvalidAnnotationError, match="image %d already had results" % imgs[0]):
        a.update(copy.deepcopy(by[imgs[0]][:1]))
    with pytest.raises(InvalidAnnotationError, match="both have results"):
        F.LVISEvaluator(gt).update(copy.deepcopy(by[imgs[0]])).merge(
            F.LVISEvaluator(gt).update(copy.deepcopy(by[imgs[0]])))


# -- the federated selection: the one-pass C table and the NumPy fallback ----------------------
@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_federated_selection_paths_agree_with_lvis_api(monkeypatch, iou_type):
    # the dense (image, category) table in C is taken when the ids allow it; sparse ids
    # (or a huge I x K) take the NumPy path: both must give lvis-api's arrays
    from fastap.protocols import lvis as P
    segm = iou_type == "segm"
    ds, res = _data(6, segm=segm, n_images=30, dets_per_image=60 if segm else 300)
    oracle = _run(L, ds, res, iou_type, 50)
    calls = []
    real = P._core.pair_select
    monkeypatch.setattr(P._core, "pair_select", lambda *a, **k: calls.append(1) or real(*a, **k))
    _same(_run(F, ds, res, iou_type, 50), oracle)
    assert calls, "the C table path was not taken"
    monkeypatch.setattr(P, "_pair_lookup", lambda I, K: False)
    calls.clear()
    _same(_run(F, ds, res, iou_type, 50), oracle)
    assert not calls


def test_sparse_image_ids_take_the_fallback_and_equal_lvis_api():
    # image ids spread over 2**40: no lookup table over their range
    ds, res = copy.deepcopy(_data(7)[0]), copy.deepcopy(_data(7)[1])
    new = {im["id"]: im["id"] * (1 << 40) + 3 for im in ds["images"]}
    for im in ds["images"]:
        im["id"] = new[im["id"]]
    for a in ds["annotations"] + res:
        a["image_id"] = new[a["image_id"]]
    _same(_run(F, ds, res, "bbox"), _run(L, ds, res, "bbox"))


def test_pair_select_checks_its_inputs():
    from fastap import _core
    ids = np.array([5, 6, 7], np.int64)
    lut = np.array([0, 1, -1], np.int64)
    table = np.ones((2, 2), np.uint8)
    area = np.ones(3)
    sel, img, cat, marked = _core.pair_select(ids, 5, lut, np.array([1, 2, 1], np.int64), 1, np.array([0, 1]),
                                              area, None, table, np.eye(2, dtype=np.uint8))
    assert sel.tolist() == [0, 1] and img.tolist() == [0, 1] and cat.tolist() == [0, 1]
    assert marked.tolist() == [True, True]
    # one table holding both marks: bit 0 evaluated, bit 1 not exhaustive
    both = np.array([[3, 0], [0, 1]], np.uint8)
    sel, img, cat, marked = _core.pair_select(ids, 5, lut, np.array([1, 2, 1], np.int64), 1, np.array([0, 1]),
                                              area, None, both)
    assert sel.tolist() == [0, 1] and marked.tolist() == [True, False]
    with pytest.raises(ValueError, match="below the table's shape"):
        _core.pair_select(ids, 5, np.array([0, 2, -1], np.int64), ids, 5, lut, area, None, table)
    with pytest.raises(ValueError, match="same length"):
        _core.pair_select(ids, 5, lut, ids[:2], 5, lut, area, None, table)
    with pytest.raises(ValueError, match="keep should have 3"):
        _core.pair_select(ids, 5, lut, ids, 5, lut, area, np.ones(2, bool), table)
    with pytest.raises(ValueError, match="mark should have"):
        _core.pair_select(ids, 5, lut, ids, 5, lut, area, None, table, np.ones((1, 2), np.uint8))
    # areas outside (0, inf), NaN included, and records the cap dropped are left out
    sel, *_ = _core.pair_select(ids, 5, lut, ids, 5, lut, np.array([np.nan, np.inf, 1.0]), None, table)
    assert sel.tolist() == []
    sel, *_ = _core.pair_select(ids, 5, lut, ids, 5, lut, np.array([1.0, 0.0, 1.0]),
                                np.array([False, True, True]), table)
    assert sel.tolist() == []


def test_image_lists_errors_name_the_image_and_field():
    ds, res = copy.deepcopy(_data(8)[0]), _data(8)[1]
    del ds["images"][3]["neg_category_ids"]
    with pytest.raises(InvalidAnnotationError, match=r"image %d: missing field 'neg_category_ids'"
                       % ds["images"][3]["id"]):
        _run(F, ds, res, "bbox")
    ds = copy.deepcopy(_data(8)[0])
    ds["images"][2]["not_exhaustive_category_ids"] = 7
    with pytest.raises(InvalidAnnotationError, match="not_exhaustive_category_ids' should hold lists"):
        _run(F, ds, res, "bbox")
    ds = copy.deepcopy(_data(8)[0])
    ds["images"][2]["not_exhaustive_category_ids"] = ["x"]
    with pytest.raises(InvalidAnnotationError, match="not_exhaustive_category_ids' should hold lists"):
        _run(F, ds, res, "bbox")


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 3, 5, 4), (10, 101, 40, 4), (10, 101, 1203, 4)])
def test_mean_valid_is_numpys_mean_bit_for_bit(shape):
    # the summary's reduction in C: the same values in the same order, NumPy's pairwise sum
    from fastap import _core
    rng = np.random.default_rng(shape[2])
    x = rng.random(shape) * rng.choice([1.0, 1e-9, 1e9], shape)
    x[rng.random(shape) < 0.3] = -1.0
    x[rng.random(shape) < 0.01] = np.nan
    T, R, K, A = shape
    cases = [(np.arange(T), None, 0), (np.arange(T)[-1:], None, A - 1),
             (np.arange(T), rng.choice(K, size=max(1, K // 3), replace=False), 0), (np.arange(T), [], 0)]
    for ts, ks, a in cases:
        s = x[ts] if ks is None else x[ts][:, :, list(ks)]
        s = s[..., a]
        want = s[s > -1]
        m, v = _core.mean_valid(x, ts, ks, a)
        assert m == want.shape[0]
        if m:
            assert float(v).hex() == float(np.mean(want)).hex()
    with pytest.raises(IndexError):
        _core.mean_valid(x, [T], None, 0)
    with pytest.raises(IndexError):
        _core.mean_valid(x, [0], [K], 0)
    with pytest.raises(IndexError):
        _core.mean_valid(x, [0], None, A)


def test_img_nel_is_lvis_apis_and_assignable():
    ds, res = _data(9)
    a, b = _run(F, ds, res, "bbox"), _run(L, ds, res, "bbox")
    assert a.img_nel == b.img_nel
    a.img_nel = {1: [2]}
    assert a.img_nel == {1: [2]}
    fresh = F.LVISEval(F.LVIS(copy.deepcopy(ds)), copy.deepcopy(res), "bbox")
    with pytest.raises(AttributeError):
        fresh.img_nel          # lvis-api sets it in evaluate()


# -- real data: 100 LVIS v0.5 validation images (tests/data/realdata/lvis_val_100/README.md) -------
REAL_LVIS = os.path.join(ROOT, "tests", "data", "realdata", "lvis_val_100", "lvis_val_100.json")


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_real_lvis_val_100_equals_lvis_api(iou_type, tmp_path):
    from fastap.synthetic import lvis_results_for
    with open(REAL_LVIS) as f:
        ds = json.load(f)
    res = lvis_results_for(ds, seed=0, segm=iou_type == "segm")
    path = tmp_path / "results.json"
    path.write_text(json.dumps(res))
    oracle_gt = L.LVIS(REAL_LVIS)
    b = L.LVISEval(oracle_gt, L.LVISResults(oracle_gt, str(path)), iou_type)
    b.run()
    gt = F.LVIS(REAL_LVIS)
    a = F.LVISEval(gt, F.LVISResults(gt, str(path)), iou_type)
    a.run()
    _same(a, b)
    assert _printed(a) == _printed(b)
    assert len(gt.cats) == 1230 and len(gt.imgs) == 100 and len(gt.anns) == 977
    # the real long tail reaches the summary: every frequency group has evaluated categories
    assert all(float(a.results[k]) > 0 for k in ("APr", "APc", "APf"))


@pytest.mark.parametrize("threads", [1, 2])
def test_pair_select_over_several_chunks_equals_numpy(threads):
    # more records than one chunk (2**19): the chunks' kept records are moved together in order
    from fastap import _core
    rng = np.random.default_rng(3)
    n, I, K = 1_300_000, 300, 40
    img_ids = np.sort(rng.choice(10_000, I, replace=False)).astype(np.int64)
    cat_ids = np.arange(1, K + 1, dtype=np.int64)
    img = rng.choice(np.concatenate([img_ids, [10_001]]), n)            # some on no evaluated image
    cat = rng.integers(1, K + 3, n).astype(np.int64)                    # some of no evaluated category
    area = rng.choice([1.0, 0.0, np.nan, np.inf, 5.0], n, p=[0.6, 0.1, 0.05, 0.05, 0.2])
    keep = rng.random(n) < 0.9
    table = (rng.random((I, K)) < 0.3).astype(np.uint8) | ((rng.random((I, K)) < 0.2).astype(np.uint8) << 1)
    ilut = np.full(10_002, -1, np.int64)
    ilut[img_ids] = np.arange(I)
    clut = np.full(K + 3, -1, np.int64)
    clut[cat_ids] = np.arange(K)
    sel, pi, pc, marked = _core.pair_select(img, 0, ilut, cat, 0, clut, area, keep, table, num_threads=threads)
    ip, cp = ilut[img], clut[np.minimum(cat, K + 2)]
    ok = (ip >= 0) & (cp >= 0) & (area > 0) & (area < np.inf) & keep
    cell = np.where(ok, ip * K + cp, 0)
    ok &= (table.reshape(-1)[cell] & 1) == 1
    want = np.flatnonzero(ok)
    assert n > 2 * 2 ** 19 and want.shape[0] > 100_000       # three chunks, each keeping some
    assert np.array_equal(sel, want)
    assert np.array_equal(pi, ip[want]) and np.array_equal(pc, cp[want])
    assert np.array_equal(marked, (table.reshape(-1)[cell[want]] >> 1) == 1)

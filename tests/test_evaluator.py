"""fastap.Evaluator: streaming updates and merged partial states give exactly the
single-process (and pycocotools') arrays, in any split and merge order."""
import copy
import pickle

import numpy as np
import pytest

import fastap
from fastap.synthetic import make_coco

from conftest import quiet, run_pycocotools


@pytest.fixture(scope="module")
def case():
    d, r = make_coco(seed=12, edge_cases=True, n_images=90, n_categories=6, gt_per_image=6,
                     dets_per_image=40)
    with quiet():
        g = fastap.COCO(copy.deepcopy(d))
        ev = fastap.COCOeval(g, g.loadRes(copy.deepcopy(r)), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return d, r, ev


def _by_image(r):
    out = {}
    for x in r:
        out.setdefault(x["image_id"], []).append(x)
    return out


def _same(res, ev):
    for k in ("precision", "recall", "scores"):
        assert np.array_equal(getattr(res, k), ev.eval[k]), k
    assert np.array_equal(res.stats, ev.stats)


@pytest.mark.parametrize("batch,flush", [(1, 4096), (16, 4096), (7, 10), (1000, 4096)])
def test_streaming_equals_one_shot(case, batch, flush):
    d, r, ref = case
    ev = fastap.Evaluator(d, flush_images=flush)
    per = _by_image(r)
    imgs = list(per)
    for i in range(0, len(imgs), batch):
        ev.update([x for im in imgs[i:i + batch] for x in per[im]])
    _same(ev.compute(), ref)


@pytest.mark.parametrize("seed", range(3))
def test_any_split_any_merge_order(case, seed):
    d, r, ref = case
    rng = np.random.default_rng(seed)
    per = _by_image(r)
    imgs = list(per)
    shard = rng.integers(0, 4, len(imgs))
    states = []
    for s in range(4):
        ev = fastap.Evaluator(d)
        ev.update([x for im, sh in zip(imgs, shard) for x in per[im] if sh == s])
        states.append(pickle.loads(pickle.dumps(ev)))          # as if sent from a worker
    order = rng.permutation(4)
    merged = fastap.Evaluator.merge_all([states[i] for i in order])
    _same(merged.compute(), ref)
    # pairwise tree reduction gives the same bits
    left = fastap.Evaluator.merge_all(states[:2])
    right = fastap.Evaluator.merge_all(states[2:])
    _same(left.merge(right).compute(), ref)


def test_npz_roundtrip(case, tmp_path):
    d, r, ref = case
    ev = fastap.Evaluator(d)
    ev.update(r)
    path = tmp_path / "state.npz"
    ev.save(path)
    back = fastap.Evaluator.load(path)
    _same(back.compute(), ref)
    fresh = fastap.Evaluator(d)
    _same(fresh.merge(back).compute(), ref)


def test_paths_arrays_and_params(case, tmp_path):
    d, r, _ = case

    def params(p):
        p.useCats = 0
        p.maxDets = [1, 5, 300]
        p.iouThrs = np.linspace(0.05, 0.95, 37)

    ref, _ = run_pycocotools(d, r, params)
    import json
    gt_path = tmp_path / "gt.json"
    gt_path.write_text(json.dumps(d))
    res_path = tmp_path / "res.json"
    res_path.write_text(json.dumps(r))
    ev = fastap.Evaluator(str(gt_path))
    params(ev.params)
    ev.update(str(res_path))
    got = ev.compute()
    for k in ("precision", "recall", "scores"):
        assert np.array_equal(getattr(got, k), ref.eval[k])
    arr = np.array([[x["image_id"], *x["bbox"], x["score"], x["category_id"]] for x in r])
    ev2 = fastap.Evaluator(str(gt_path))
    params(ev2.params)
    ev2.update(arr)
    assert np.array_equal(ev2.compute().precision, ref.eval["precision"])


def test_errors(case):
    d, r, _ = case
    ev = fastap.Evaluator(d)
    first = r[0]["image_id"]
    ev.update([x for x in r if x["image_id"] == first])
    with pytest.raises(ValueError, match="already evaluated"):
        ev.update([x for x in r if x["image_id"] == first])
    with pytest.raises(ValueError, match="not an evaluated image"):
        ev.update([{"image_id": 10 ** 9, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1.0}])
    other = copy.deepcopy(d)
    other["annotations"] = other["annotations"][1:]
    with pytest.raises(ValueError, match="different ground truths"):
        ev.merge(fastap.Evaluator(other))
    p2 = fastap.Evaluator(d)
    p2.params.maxDets = [1, 10, 50]
    with pytest.raises(ValueError, match="params.maxDets"):
        ev.merge(p2)
    a, b = fastap.Evaluator(d), fastap.Evaluator(d)
    a.update([x for x in r if x["image_id"] == first])
    b.update([x for x in r if x["image_id"] == first])
    with pytest.raises(ValueError, match="already evaluated"):
        a.merge(b)
    with pytest.raises(TypeError, match="update\\(results\\)"):
        fastap.Evaluator(d).update([], [])


def test_reset_and_empty(case):
    d, r, ref = case
    ev = fastap.Evaluator(d)
    with pytest.warns(fastap.EmptyResultsWarning):
        res = ev.compute()                   # nothing yet: AP 0 where there is ground truth
    assert res.map == 0.0
    ev.update(r)
    ev.reset()
    ev.update(r)
    _same(ev.compute(), ref)


def _free_inputs(d, r, xyxy=False):
    imgs = sorted(im["id"] for im in d["images"])
    gts = {i: [] for i in imgs}
    dts = {i: [] for i in imgs}
    for a in d["annotations"]:
        gts[a["image_id"]].append(a)
    for x in r:
        dts[x["image_id"]].append(x)

    def box(b):
        b = np.asarray(b, dtype=float).reshape(-1, 4)
        return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1) if xyxy else b

    preds = [{"boxes": box([x["bbox"] for x in dts[i]]), "scores": np.array([x["score"] for x in dts[i]]),
              "labels": np.array([x["category_id"] for x in dts[i]], dtype=np.int64)} for i in imgs]
    target = [{"boxes": box([a["bbox"] for a in gts[i]]), "labels": np.array([a["category_id"] for a in gts[i]],
                                                                             dtype=np.int64),
               "iscrowd": np.array([a["iscrowd"] for a in gts[i]]), "area": np.array([a["area"] for a in gts[i]])}
              for i in imgs]
    return imgs, preds, target


def test_free_mode_equals_pycocotools():
    d, r = make_coco(seed=3, edge_cases=True, n_images=50, n_categories=5)
    # free mode evaluates the categories seen in targets or predictions
    ref, _ = run_pycocotools(d, r)
    imgs, preds, target = _free_inputs(d, r)
    ev = fastap.Evaluator()
    for i in range(0, len(imgs), 8):
        ev.update(preds[i:i + 8], target[i:i + 8], image_ids=imgs[i:i + 8])
    res = ev.compute()
    seen = sorted({a["category_id"] for a in d["annotations"]} | {x["category_id"] for x in r})
    keep = [ref.params.catIds.index(c) for c in seen]
    assert res.cat_ids.tolist() == seen
    for k in ("precision", "scores"):
        assert np.array_equal(getattr(res, k), ref.eval[k][:, :, keep])
    assert np.array_equal(res.recall, ref.eval["recall"][:, keep])


def test_free_mode_split_merge_and_xyxy():
    d, r = make_coco(seed=4, n_images=40, n_categories=4)
    imgs, preds, target = _free_inputs(d, r, xyxy=True)
    one = fastap.Evaluator(box_format="xyxy")
    one.update(preds, target, image_ids=imgs)
    whole = one.compute()
    a, b = fastap.Evaluator(box_format="xyxy"), fastap.Evaluator(box_format="xyxy")
    a.update(preds[1::2], target[1::2], image_ids=imgs[1::2])
    b.update(preds[::2], target[::2], image_ids=imgs[::2])
    merged = fastap.Evaluator.merge_all([pickle.loads(pickle.dumps(b)), a]).compute()
    assert np.array_equal(merged.precision, whole.precision)
    assert np.array_equal(merged.recall, whole.recall)


def test_free_mode_torch_tensors():
    torch = pytest.importorskip("torch")
    d, r = make_coco(seed=5, n_images=20, n_categories=3)
    imgs, preds, target = _free_inputs(d, r)
    tp = [{k: torch.as_tensor(v) for k, v in p.items()} for p in preds]
    tt = [{k: torch.as_tensor(v) for k, v in t.items()} for t in target]
    a = fastap.Evaluator()
    a.update(tp, tt)
    b = fastap.Evaluator()
    b.update(preds, target)
    assert np.array_equal(a.compute().precision, b.compute().precision)


def test_free_mode_errors():
    ev = fastap.Evaluator()
    with pytest.raises(TypeError, match="needs the targets"):
        ev.update([{"boxes": np.zeros((0, 4)), "scores": [], "labels": []}])
    with pytest.raises(ValueError, match="one entry per image"):
        ev.update([{}], [])
    with pytest.raises(ValueError, match=r"preds\[0\]: missing key 'scores'"):
        ev.update([{"boxes": np.zeros((1, 4)), "labels": [1]}], [{"boxes": np.zeros((0, 4)), "labels": []}])
    with pytest.raises(ValueError, match="preds record 0: field 'bbox' should be finite"):
        ev.update([{"boxes": np.array([[0, 0, np.nan, 1]]), "scores": [1.0], "labels": [1]}],
                  [{"boxes": np.zeros((0, 4)), "labels": []}])


def test_columnar_gt_and_flat_free_mode():
    from fastap.synthetic import make_arrays
    images, cats, gt, dt = make_arrays(seed=8, edge_cases=True, n_images=40, n_categories=4)
    want = fastap.evaluate({k: v for k, v in gt.items() if k != "ignore"}, dt, img_ids=images, cat_ids=cats)
    ev = fastap.Evaluator({k: v for k, v in gt.items() if k != "ignore"})
    ev.params.imgIds, ev.params.catIds = images.tolist(), cats.tolist()
    half = np.isin(dt["image_id"], images[::2])
    ev.update({k: v[half] for k, v in dt.items()})
    ev.update({k: v[~half] for k, v in dt.items()})
    res = ev.compute()
    assert np.array_equal(res.precision, want.precision) and np.array_equal(res.stats, want.stats)
    # free mode, flat arrays: the images named in preds or target
    flat = fastap.Evaluator()
    g = {"image_id": gt["image_id"], "boxes": gt["bbox"], "labels": gt["category_id"], "iscrowd": gt["iscrowd"],
         "area": gt["area"]}
    p = {"image_id": dt["image_id"], "boxes": dt["bbox"], "scores": dt["score"], "labels": dt["category_id"]}
    flat.update(p, g)
    got = flat.compute()
    seen = np.union1d(gt["image_id"], dt["image_id"])
    ref = fastap.evaluate({k: v for k, v in gt.items() if k != "ignore"}, dt, img_ids=seen,
                          cat_ids=np.union1d(gt["category_id"], dt["category_id"]))
    assert np.array_equal(got.precision, ref.precision)


def test_free_mode_single_image_dict():
    ev = fastap.Evaluator(box_format="xyxy")
    ev.update({"boxes": np.array([[0, 0, 10, 10.]]), "scores": np.array([0.9]), "labels": np.array([1])},
              {"boxes": np.array([[0, 0, 10, 10.]]), "labels": np.array([1])})
    assert ev.compute().map == 1.0 / (1.0 + np.spacing(1))     # pycocotools: tp / (tp + fp + eps)


def test_without_images_and_evaluated_on(case):
    """Two states that both evaluated some images (a padded DistributedSampler): the
    repeats dropped from one, evaluated over a subset of the images: pycocotools' numbers
    for that subset."""
    d, r, _ = case
    per = _by_image(r)
    imgs = sorted(per)
    a_imgs, b_imgs = imgs[:50], imgs[40:80]            # 40..49 on both; 80.. never evaluated
    a, b = fastap.Evaluator(d), fastap.Evaluator(d)
    a.update([x for im in a_imgs for x in per[im]])
    b.update([x for im in b_imgs for x in per[im]])
    b = pickle.loads(pickle.dumps(b)).attach(a)        # as if from another rank
    subset = sorted(set(a_imgs) | set(b_imgs))
    merged = fastap.Evaluator.merge_all([a.evaluated_on(subset),
                                         b.without_images(a_imgs).evaluated_on(subset)])
    with quiet():
        g = fastap.COCO(copy.deepcopy(d))
        ref = fastap.COCOeval(g, g.loadRes([x for im in subset for x in per[im]]), "bbox")
        ref.params.imgIds = subset
        ref.evaluate()
        ref.accumulate()
        ref.summarize()
    _same(merged.compute(), ref)
    assert pycocotools_stats_equal(d, [x for im in subset for x in per[im]], subset, ref.stats)
    # the originals are unchanged; repeats are refused where counts are not kept apart
    with pytest.raises(fastap.InvalidAnnotationError, match="duplicate|already|twice|again"):
        fastap.Evaluator.merge_all([a, b])
    with pytest.raises(fastap.InvalidAnnotationError, match="attach"):
        pickle.loads(pickle.dumps(a)).evaluated_on(subset)
    free = fastap.Evaluator()
    with pytest.raises(fastap.InvalidAnnotationError, match="dataset-mode"):
        free.without_images([1])


def pycocotools_stats_equal(d, results, img_ids, stats):
    def set_ids(p):
        p.imgIds = img_ids
    ev, _ = run_pycocotools(d, results, set_ids)
    return np.array_equal(ev.stats, stats)

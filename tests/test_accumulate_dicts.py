"""accumulate() of assigned evalImgs dicts (fastap.coco.accumulate_eval_imgs, the C
kernel csrc/accum_blocks.c and its reader of evaluate()'s dicts) against pycocotools'
accumulate() on the very same dicts, including the orders and values its NumPy code
handles in its own way: ties, NaN and -0.0 scores, maxDets cuts, recall thresholds out
of order, blocks without non-ignored ground truth, and dicts in other types (lists,
other dtypes, dict subclasses), which take the NumPy reader."""
import copy

import numpy as np
import pytest
from pycocotools import cocoeval as pc_eval

from fastap import coco as fa_coco

from conftest import quiet


def _random_eval_imgs(rng, p, score_pool, T, kinds="arrays"):
    cats = p.catIds
    out = []
    det_id = 1
    for c in cats:
        for a in p.areaRng:
            for i in p.imgIds:
                if rng.random() < 0.25:
                    out.append(None)
                    continue
                D, G = int(rng.integers(0, 7)), int(rng.integers(0, 4))
                sc = sorted(rng.choice(score_pool, D).tolist(), reverse=bool(rng.random() < 0.7))
                dtm = (rng.random((T, D)) < 0.5) * rng.integers(1, 100, (T, D))
                dti = rng.random((T, D)) < 0.2
                gti = (rng.random(G) < 0.3).astype(int)
                e = {"image_id": i, "category_id": c, "aRng": a, "maxDet": p.maxDets[-1],
                     "dtIds": list(range(det_id, det_id + D)), "gtIds": list(range(G)),
                     "dtMatches": dtm.astype(float), "gtMatches": np.zeros((T, G)),
                     "dtScores": sc, "gtIgnore": gti, "dtIgnore": dti}
                det_id += D
                if kinds == "lists":            # other types: the NumPy reader
                    e["dtMatches"] = dtm.astype(np.int32)
                    e["gtIgnore"] = gti.tolist()
                    e["dtScores"] = np.asarray(sc)
                elif kinds == "subclass":
                    e = type("D", (dict,), {})(e)
                out.append(e)
    return out


def _params(rng, n_img=6, n_cat=3):
    p = pc_eval.Params("bbox")
    p.imgIds = list(range(1, n_img + 1))
    p.catIds = list(range(1, n_cat + 1))
    p.maxDets = [1, 3, 100]
    return p


def _pc_accumulate(eval_imgs, p):
    ev = pc_eval.COCOeval(iouType="bbox")
    ev.params = copy.deepcopy(p)
    ev._paramsEval = copy.deepcopy(p)
    ev.evalImgs = eval_imgs
    with quiet():
        ev.accumulate()
    return ev.eval


@pytest.mark.parametrize("kinds", ["arrays", "lists", "subclass"])
@pytest.mark.parametrize("seed", range(6))
def test_random_dicts_match_pycocotools(seed, kinds):
    rng = np.random.default_rng(seed)
    p = _params(rng)
    pools = [np.round(rng.random(40), 2),                          # many ties
             np.array([0.5, 0.5, np.nan, -0.0, 0.0, 0.25, np.nan]),  # NaN, signed zeros
             rng.random(100)]
    T = len(p.iouThrs)
    ev = _random_eval_imgs(rng, p, pools[seed % 3], T, kinds)
    if seed % 2:
        p.recThrs = np.concatenate([p.recThrs[50:], p.recThrs[:50]])   # out of order
    want = _pc_accumulate(copy.deepcopy(ev), p)
    got = fa_coco.accumulate_eval_imgs(ev, copy.deepcopy(p), copy.deepcopy(p))
    for name, arr in zip(("precision", "recall", "scores"), got):
        np.testing.assert_array_equal(arr, want[name], err_msg=name)


def test_no_non_ignored_gt_and_empty_blocks():
    rng = np.random.default_rng(7)
    p = _params(rng, n_img=3, n_cat=2)
    T = len(p.iouThrs)
    ev = _random_eval_imgs(rng, p, np.linspace(0, 1, 11), T)
    for e in ev:
        if e is not None and e["category_id"] == 1:
            e["gtIgnore"] = np.ones_like(e["gtIgnore"])      # npig 0: -1 stays
    ev[-3:] = [None] * 3
    want = _pc_accumulate(copy.deepcopy(ev), p)
    got = fa_coco.accumulate_eval_imgs(ev, copy.deepcopy(p), copy.deepcopy(p))
    for name, arr in zip(("precision", "recall", "scores"), got):
        np.testing.assert_array_equal(arr, want[name], err_msg=name)
    assert (got[1][:, 0] == -1).all()


def test_kernel_checks_its_arguments():
    from fastap import _core
    ok = dict(det_off=np.array([0, 2], np.int64), npig=np.array([1], np.int64), score=np.zeros(2),
              rank=np.zeros(2, np.int64), flags=np.zeros((10, 2), np.uint8),
              max_dets=np.array([100], np.int64), rec_thrs=np.linspace(0, 1, 101))
    q, r, s = _core.accumulate_blocks(**ok)
    assert q.shape == (1, 1, 10, 101) and r.shape == (1, 1, 10)
    for key, bad in (("det_off", np.array([0, 3], np.int64)), ("det_off", np.array([1, 2], np.int64)),
                     ("rank", np.zeros(3, np.int64)), ("flags", np.zeros((10, 3), np.uint8))):
        with pytest.raises(ValueError):
            _core.accumulate_blocks(**dict(ok, **{key: bad}))
    with pytest.raises(ValueError):
        _core.accumulate_blocks(**dict(ok, det_off=np.array([0, 2, 1, 2], np.int64),
                                       npig=np.ones(3, np.int64)))


@pytest.mark.parametrize("form", ["tuple", "array", "no names"])
def test_entries_naming_their_place_in_other_forms(form):
    """aRng as a tuple or an array, or entries without category_id / image_id / aRng:
    the C reader leaves them to the Python one, which accepts what pycocotools accepts."""
    rng = np.random.default_rng(3)
    p = _params(rng, n_img=4, n_cat=2)
    ev = _random_eval_imgs(rng, p, np.linspace(0, 1, 21), len(p.iouThrs))
    for e in ev:
        if e is None:
            continue
        if form == "tuple":
            e["aRng"] = tuple(e["aRng"])
        elif form == "array":
            e["aRng"] = np.array(e["aRng"])
        else:
            del e["category_id"], e["image_id"], e["aRng"]
    want = _pc_accumulate(copy.deepcopy(ev), p)
    got = fa_coco.accumulate_eval_imgs(ev, copy.deepcopy(p), copy.deepcopy(p))
    for name, arr in zip(("precision", "recall", "scores"), got):
        np.testing.assert_array_equal(arr, want[name], err_msg=name)

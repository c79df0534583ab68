"""iouType="boundary" (Boundary IoU, Cheng et al. 2021, boundary-iou-api's COCO rules):
the C erosion held against OpenCV's cv2.erode, and the whole evaluation against a
reference made of pycocotools' COCOeval whose computeIoU takes min(mask IoU, boundary
IoU) with boundaries made by OpenCV, as boundary-iou-api does."""
import copy

import numpy as np
import pytest

import fastap
from fastap import _core
from fastap import mask as fmask
from fastap.synthetic import make_segm_coco
from conftest import assert_same_eval, oracle_gt_dt, quiet

cv2 = pytest.importorskip("cv2")
pytest.importorskip("pycocotools")


def cv2_boundary(mask, dilation_ratio=0.02):
    """boundary-iou-api's rule, written out with OpenCV: the mask minus its erosion by a
    3x3 square repeated max(1, round(ratio * diagonal)) times, the mask padded by one
    background pixel (so the image border erodes it)."""
    h, w = mask.shape
    d = max(1, int(round(dilation_ratio * np.sqrt(h ** 2 + w ** 2))))
    padded = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    eroded = cv2.erode(padded, np.ones((3, 3), np.uint8), iterations=d)[1:h + 1, 1:w + 1]
    return mask - eroded


def fastap_boundary(mask, dilation_ratio=0.02):
    """The C path: the mask as an RLE set, its boundary set decoded back."""
    rle = fmask.encode(np.asfortranarray(mask))
    st = _core.rle_set_from_objects([rle], np.array([-1]), np.array([-1]))
    b = _core.rle_set_boundary(st, dilation_ratio)
    counts = b["cnts"][b["off"][0]:b["off"][1]].tolist()
    h, w = mask.shape
    assert sum(counts) == h * w
    return fmask.decode({"size": [h, w], "counts": fmask.frPyObjects({"size": [h, w], "counts": counts}, h, w)
                         ["counts"]}), b


def _random_masks(rng):
    """Masks with holes, 1-pixel features, shapes touching the image edges, thin lines."""
    out = []
    for h, w in ((1, 1), (1, 7), (7, 1), (2, 2), (5, 9), (17, 13), (40, 33), (64, 96)):
        for kind in range(6):
            if kind == 0:
                m = (rng.random((h, w)) < 0.5).astype(np.uint8)          # noise: holes, 1-px bits
            elif kind == 1:
                m = np.ones((h, w), np.uint8)                             # touches every edge
            elif kind == 2:
                m = np.zeros((h, w), np.uint8)                            # empty
            elif kind == 3:                                               # a blob with a hole
                yy, xx = np.mgrid[:h, :w]
                r = ((yy - h / 2) ** 2 + (xx - w / 2) ** 2) ** 0.5
                m = ((r < max(h, w) * 0.45) & (r > max(h, w) * 0.12)).astype(np.uint8)
            elif kind == 4:                                               # single pixels and lines
                m = np.zeros((h, w), np.uint8)
                m[rng.integers(0, h, 5), rng.integers(0, w, 5)] = 1
                m[h // 2, :] = 1
            else:                                                         # a box at an edge
                m = np.zeros((h, w), np.uint8)
                m[: max(1, h // 2), max(0, w // 3):] = 1
            out.append(m)
    return out


@pytest.mark.parametrize("ratio", [0.0, 0.02, 0.008, 0.05, 0.1, 0.3, 1.0])
def test_erosion_equals_opencv(ratio):
    rng = np.random.default_rng(int(ratio * 1000))
    for m in _random_masks(rng):
        got, _ = fastap_boundary(m, ratio)
        want = cv2_boundary(m, ratio)
        assert np.array_equal(got, want), (m.shape, ratio)


def test_dilation_rounds_as_python():
    for h, w in ((480, 640), (427, 640), (1, 1), (25, 0), (0, 0), (1000, 1000), (3, 4)):
        for r in (0.02, 0.008, 0.1, 0.5):
            assert _core.boundary_dilation(h, w, r) == max(1, int(round(r * np.sqrt(h ** 2 + w ** 2))))
    assert _core.boundary_dilation(3, 4, 0.5) == 2             # round(2.5) == 2: half to even
    assert _core.boundary_dilation(3, 4, 0.7) == 4             # round(3.5) == 4


def test_boundary_set_whole_skip_and_stats():
    rng = np.random.default_rng(3)
    masks = _random_masks(rng)[:12]
    rles = [fmask.encode(np.asfortranarray(m)) for m in masks]
    st = _core.rle_set_from_objects(rles, np.full(len(rles), -1), np.full(len(rles), -1))
    whole = np.zeros(len(rles), bool)
    whole[3] = True
    skip = np.zeros(len(rles), bool)
    skip[5] = True
    b = _core.rle_set_boundary(st, 0.02, whole=whole, skip=skip, num_threads=2)
    for i, m in enumerate(masks):
        counts = b["cnts"][b["off"][i]:b["off"][i + 1]]
        n = m.shape[0] * m.shape[1]
        if i == 3:
            assert counts.tolist() == [0, n] and b["area"][i] == n
        elif i == 5:
            assert counts.tolist() == [n] and b["area"][i] == 0
        else:
            assert b["area"][i] == cv2_boundary(m).sum()
    with pytest.raises(ValueError, match="dilation_ratio"):
        _core.rle_set_boundary(st, -1.0)
    with pytest.raises(ValueError, match="whole"):
        _core.rle_set_boundary(st, 0.02, whole=np.zeros(2, bool))


# ------------------------------------------------------------------------------ reference
def _reference(ds, res, dilation_ratio=0.02, set_params=None):
    """pycocotools' COCOeval with boundary-iou-api's computeBoundaryIoU as its computeIoU:
    min(mask IoU, boundary IoU) for non-crowd ground truth, mask IoU for crowd."""
    from pycocotools import mask as pmask
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    cache = {}

    def boundary(ann, who):
        key = (who, ann["id"])
        if key not in cache:
            m = pmask.decode(ann["segmentation"])
            cache[key] = pmask.encode(np.asfortranarray(cv2_boundary(m, dilation_ratio)))
        return cache[key]

    class BoundaryEval(COCOeval):
        def computeIoU(self, imgId, catId):
            pair = oracle_gt_dt(self, imgId, catId)
            if pair is None:
                return []
            gt, dt = pair
            crowd = [int(o["iscrowd"]) for o in gt]
            m = np.array(pmask.iou([d["segmentation"] for d in dt], [g["segmentation"] for g in gt], crowd))
            b = np.array(pmask.iou([boundary(d, "dt") for d in dt], [boundary(g, "gt") for g in gt], crowd))
            if len(gt) and len(dt):
                nc = np.array(crowd) == 0
                m[:, nc] = np.minimum(m[:, nc], b[:, nc])
                return m
            return np.minimum(m, b)

    with quiet():
        gt = COCO()
        gt.dataset = copy.deepcopy(ds)
        gt.createIndex()
        dt = gt.loadRes(copy.deepcopy(res))
        ev = BoundaryEval(gt, dt, "segm")
        if set_params:
            set_params(ev.params)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def _fastap(ds, res, dilation_ratio=0.02, set_params=None, num_threads=None):
    with quiet():
        gt = fastap.COCO()
        gt.dataset = copy.deepcopy(ds)
        gt.createIndex()
        dt = gt.loadRes(copy.deepcopy(res))
        ev = fastap.COCOeval(gt, dt, "boundary", dilation_ratio=dilation_ratio, num_threads=num_threads)
        if set_params:
            set_params(ev.params)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


@pytest.mark.parametrize("seed,edge_cases", [(0, False), (1, True), (2, True)])
def test_boundary_eval_equals_reference(seed, edge_cases):
    ds, res = make_segm_coco(seed, n_images=12, dets_per_image=15, edge_cases=edge_cases,
                             image_size=(160, 120))
    ref = _reference(ds, res)
    ev = _fastap(ds, res, num_threads=2)
    assert_same_eval(ref, ev)
    for key, v in ref.ious.items():
        assert np.array_equal(np.asarray(v), np.asarray(ev.ious[key])), key
    assert ev.stats[0] > 0.02
    # and it is not the mask evaluation
    with quiet():
        seg = fastap.COCOeval(ev.cocoGt, ev.cocoDt, "segm")
        seg.evaluate()
        seg.accumulate()
        seg.summarize()
    assert ev.stats[0] < seg.stats[0]


def test_boundary_eval_lvis_ratio_and_params():
    ds, res = make_segm_coco(4, n_images=10, dets_per_image=12, edge_cases=True, image_size=(200, 150))

    def setp(p):
        p.useCats = 0
        p.maxDets = [1, 5, 10]

    ref = _reference(ds, res, 0.008, setp)
    ev = _fastap(ds, res, 0.008, setp)
    assert_same_eval(ref, ev)


def test_boundary_crowd_ground_truth_uses_mask_iou():
    """Against a crowd ground truth the IoU is the mask IoU (crowd rule), not the min."""
    mask_g = np.zeros((40, 40), np.uint8)
    mask_g[5:35, 5:35] = 1
    mask_d = np.zeros((40, 40), np.uint8)
    mask_d[5:30, 5:30] = 1          # shares two edges with the ground truth
    g = fmask.encode(np.asfortranarray(mask_g))
    d = fmask.encode(np.asfortranarray(mask_d))
    for rle in (g, d):
        rle["counts"] = rle["counts"].decode()
    ds = {"images": [{"id": 1, "height": 40, "width": 40}], "categories": [{"id": 1, "name": "a"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": g, "area": 900.0,
                           "bbox": [5, 5, 30, 30], "iscrowd": 1},
                          {"id": 2, "image_id": 1, "category_id": 1, "segmentation": g, "area": 900.0,
                           "bbox": [5, 5, 30, 30], "iscrowd": 0}]}
    res = [{"image_id": 1, "category_id": 1, "segmentation": d, "score": 0.9}]
    ev = _fastap(ds, res)
    iou = np.asarray(ev.ious[1, 1])
    assert iou[0, 0] == 1.0                     # crowd: |d & g| / |d|, the mask IoU
    assert 0 < iou[0, 1] < 625 / 900            # non-crowd: below the mask IoU
    ref = _reference(ds, res)
    assert np.array_equal(np.asarray(ref.ious[1, 1]), iou)


def test_boundary_iou_type_refused_where_unsupported():
    with pytest.raises(ValueError, match="boundary"):
        fastap.COCOeval(None, None, "edges")


def test_boundary_python_flow_equals_c_flow():
    """A subclass overriding a per-image method runs pycocotools' Python flow, whose
    computeIoU then computes Boundary IoU itself: the same numbers as the C pass."""
    ds, res = make_segm_coco(7, n_images=8, dets_per_image=10, edge_cases=True, image_size=(120, 90))

    class Sub(fastap.COCOeval):
        def evaluateImg(self, imgId, catId, aRng, maxDet):
            return super().evaluateImg(imgId, catId, aRng, maxDet)

    ev = _fastap(ds, res)
    with quiet():
        sub = Sub(ev.cocoGt, ev.cocoDt, "boundary")
        sub.evaluate()
        sub.accumulate()
        sub.summarize()
    assert_same_eval(ev, sub)
    ref = _reference(ds, res)
    for key, v in ref.ious.items():
        assert np.array_equal(np.asarray(v), np.asarray(sub.ious[key])), key


def _arrays(ds, res):
    gt = {k: [a.get(k, 0) for a in ds["annotations"]] for k in ("image_id", "category_id", "iscrowd", "area", "id")}
    gt["segmentation"] = [a["segmentation"] for a in ds["annotations"]]
    gt["bbox"] = np.array([a["bbox"] for a in ds["annotations"]], float)
    dt = {k: [r[k] for r in res] for k in ("image_id", "category_id", "score")}
    dt["segmentation"] = [r["segmentation"] for r in res]
    sizes = {im["id"]: (im["height"], im["width"]) for im in ds["images"]}
    return gt, dt, sizes


def test_boundary_array_api_equals_reference():
    ds, res = make_segm_coco(8, n_images=10, dets_per_image=12, edge_cases=True, image_size=(150, 110))
    ref = _reference(ds, res)
    gt, dt, sizes = _arrays(ds, res)
    r = fastap.evaluate(gt, dt, iou_type="boundary", image_sizes=sizes, img_ids=[im["id"] for im in ds["images"]],
                        cat_ids=[c["id"] for c in ds["categories"]])
    assert np.array_equal(r.precision, ref.eval["precision"])
    assert np.array_equal(r.recall, ref.eval["recall"])
    # COCO objects through the array API, and the LVIS ratio
    ev = _fastap(ds, res)
    r2 = fastap.evaluate(ev.cocoGt, ev.cocoDt, iou_type="boundary")
    assert np.array_equal(r2.precision, ref.eval["precision"])
    ref8 = _reference(ds, res, 0.008)
    r3 = fastap.evaluate(gt, dt, iou_type="boundary", image_sizes=sizes, dilation_ratio=0.008,
                         img_ids=[im["id"] for im in ds["images"]], cat_ids=[c["id"] for c in ds["categories"]])
    assert np.array_equal(r3.precision, ref8.eval["precision"])
    assert not np.array_equal(r3.precision, r.precision)


def test_boundary_from_results_file(tmp_path):
    """Results read from a file keep their compressed strings in the text (a lazy RLE
    set): their boundaries are decoded from there."""
    import json
    ds, res = make_segm_coco(9, n_images=8, dets_per_image=10, edge_cases=True, image_size=(130, 100))
    ref = _reference(ds, res)
    gp, dp = tmp_path / "gt.json", tmp_path / "dt.json"
    gp.write_text(json.dumps(ds))
    dp.write_text(json.dumps(res))
    with quiet():
        gt = fastap.COCO(str(gp))
        dt = gt.loadRes(str(dp))
        ev = fastap.COCOeval(gt, dt, "boundary")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert_same_eval(ref, ev)
    from fastap.adapters.cocodata import rles_of
    assert "lazy" in rles_of(dt, gt, "dt")           # the path this test is for


def test_boundary_bad_options():
    ds, res = make_segm_coco(1, n_images=3, dets_per_image=3, image_size=(60, 50))
    gt, dt, sizes = _arrays(ds, res)
    with pytest.raises(ValueError, match="dilation_ratio"):
        fastap.evaluate(gt, dt, iou_type="boundary", image_sizes=sizes, dilation_ratio=-0.5)
    with pytest.warns(fastap.errors.IgnoredArgumentWarning, match="dilation_ratio"):
        fastap.evaluate(gt, dt, iou_type="segm", image_sizes=sizes, dilation_ratio=0.01)
    with pytest.raises(ValueError, match="lvis"):
        fastap.evaluate(gt, dt, iou_type="boundary", protocol="lvis", image_sizes=sizes)
    with pytest.raises(ValueError, match="boundary"):
        fastap.Evaluator(iou_type="boundary")


def test_boundary_set_refuses_inconsistent_sets():
    st = _core.rle_set_from_objects([fmask.encode(np.asfortranarray(np.ones((4, 5), np.uint8)))],
                                    np.array([-1]), np.array([-1]))
    for key, bad in (("off", np.array([0, 99], np.int64)), ("off", np.array([1, 2], np.int64)),
                     ("off", np.array([0], np.int64)), ("hw", np.array([[-1, 5]], np.int64)),
                     ("hw", np.array([[1 << 20, 1 << 20]], np.int64))):
        with pytest.raises(ValueError, match=key):
            _core.rle_set_boundary(dict(st, **{key: bad}), 0.02)
    with pytest.raises(ValueError, match="lazy"):
        _core.rle_set_boundary(dict(st, lazy=np.array([[0, 999, 3, 0]], np.int64), src=b"abc"), 0.02)
    b = _core.rle_set_boundary(st, 0.02)
    assert b["cnts"].tolist() == [0, 5, 2, 2, 2, 2, 2, 5] and b["area"][0] == 14     # a 1-pixel ring


def test_boundary_iou_api_positional_dilation_ratio_is_named_in_the_error():
    """boundary-iou-api's COCOeval takes dilation_ratio 4th; fastap's 4th is num_threads."""
    with pytest.raises(ValueError, match="dilation_ratio=0.008"):
        fastap.COCOeval(None, None, "boundary", 0.008)

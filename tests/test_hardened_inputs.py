"""Inputs that once gave a believable wrong number or a raw Python error (issue 16, items
4, 5, 10, 11 and 12): each now evaluates as pycocotools does or ends in one of fastap's
error classes, whose message names the file (when there is one), the record and the field.

* ids beyond int64 (a uint64 id >= 2**63, a Python int past int64) were wrapped onto
  other ids: ground-truth image 2**64 - 1 matched a detection on image -1;
* ``useCats=0`` with a category listed twice in ``catIds`` (pycocotools counts its
  objects twice, fastap counted them once);
* malformed annotation files and result lists (a record without ``id``, ``"annotations":
  null``, ``"images": [5]``, a string id among integers, ``image_id: null``, ...);
* ``Evaluator.load`` of a file that is not a state;
* ``FASTAP_NUM_THREADS=0`` reported as a bad results file; wrong ``iouType``,
  ``box_format``, ``protocol`` as plain ``ValueError``.
"""
import contextlib
import copy
import io
import json
import pickle
import re
import zipfile

import numpy as np
import pytest

import fastap
import fastap.cli
from fastap import COCO, COCOeval, Evaluator, InvalidAnnotationError, InvalidFileError, InvalidOptionError
from fastap.synthetic import make_coco, make_keypoints_coco

from conftest import compare_with_pycocotools, quiet, run_pycocotools

BIG = 2 ** 64 - 1          # as uint64 it wraps to -1 in int64

IMAGES = [{"id": 1, "height": 100, "width": 100}, {"id": 2, "height": 100, "width": 100}]
SQUARE = [[10, 10, 30, 10, 30, 30, 10, 30]]


def _dataset(**over):
    ds = {"images": copy.deepcopy(IMAGES), "categories": [{"id": 1, "name": "a"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "area": 400.0,
                           "iscrowd": 0, "segmentation": copy.deepcopy(SQUARE)},
                          {"id": 2, "image_id": 2, "category_id": 1, "bbox": [10, 10, 20, 20], "area": 400.0,
                           "iscrowd": 0, "segmentation": copy.deepcopy(SQUARE)}]}
    ds.update(over)
    return ds


def _results():
    return [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9},
            {"image_id": 2, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.8}]


def _coco_eval(gt, results, iou_type="bbox"):
    with quiet():
        dt = gt.loadRes(results)
        ev = COCOeval(gt, dt, iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def _coco(source):
    with quiet():
        return COCO(source)


def _write(tmp_path, name, obj):
    p = tmp_path / name
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return str(p)


# -- item 4: ids must fit in int64 -------------------------------------------------------------
def _arrays(gt_img=(1,), dt_img=(1,), gt_cat=(1,), dt_cat=(1,)):
    gt = {"image_id": gt_img, "category_id": gt_cat, "bbox": [[0, 0, 10, 10]] * len(gt_img)}
    dt = {"image_id": dt_img, "category_id": dt_cat, "bbox": [[0, 0, 10, 10]] * len(dt_img),
          "score": [0.9] * len(dt_img)}
    return gt, dt


@pytest.mark.parametrize("form,value", [(f, v) for f in ("uint64", "python int", "object array")
                                         for v in (BIG, 2 ** 63, 2 ** 64) if f != "uint64" or v <= BIG])
def test_ground_truth_image_beyond_int64_is_refused(form, value):
    """The issue's reproduction: ground-truth image 2**64 - 1 against a detection on
    image -1 gave AP 1.0 (the id wrapped to -1); now the id is refused, naming it."""
    ids = {"uint64": lambda: np.array([value], np.uint64), "python int": lambda: [value],
           "object array": lambda: np.array([value], dtype=object)}[form]()
    gt, dt = _arrays(gt_img=ids, dt_img=[value - 2 ** 64 if value > 2 ** 63 - 1 else -1])
    with pytest.raises(InvalidAnnotationError, match=r"ground truth record 0: field 'image_id' is %d, outside the "
                                                     r"int64 range" % value):
        fastap.evaluate(gt, dt)


@pytest.mark.parametrize("side,field", [("gt", "image_id"), ("gt", "category_id"), ("dt", "image_id"),
                                        ("dt", "category_id")])
def test_array_api_ids_beyond_int64_every_field(side, field):
    gt, dt = _arrays()
    d = gt if side == "gt" else dt
    d[field] = np.array([2 ** 63], np.uint64)
    what = "ground truth" if side == "gt" else "detections"
    with pytest.raises(InvalidAnnotationError, match=r"%s record 0: field '%s' is 9223372036854775808"
                       % (what, field)):
        fastap.evaluate(gt, dt)
    with pytest.raises(InvalidAnnotationError, match="outside the int64 range"):
        fastap.evaluate(*_arrays(), img_ids=np.array([BIG], np.uint64))
    with pytest.raises(InvalidAnnotationError, match="outside the int64 range"):
        fastap.evaluate(*_arrays(), cat_ids=[2 ** 64])


def test_uint64_ids_that_fit_evaluate_as_int64():
    gt, dt = _arrays(gt_img=np.array([5, 2 ** 63 - 1], np.uint64), dt_img=np.array([5, 2 ** 63 - 1], np.uint64))
    gt["category_id"] = dt["category_id"] = np.array([1, 1], np.uint64)
    gi, di = _arrays(gt_img=[5, 2 ** 63 - 1], dt_img=[5, 2 ** 63 - 1], gt_cat=[1, 1], dt_cat=[1, 1])
    a, b = fastap.evaluate(gt, dt), fastap.evaluate(gi, di)
    assert np.array_equal(a.precision, b.precision) and a.stats[0] == 1.0
    assert a.img_ids.tolist() == [5, 2 ** 63 - 1]


def test_list_of_ints_and_floats_read_exactly():
    """NumPy turns [2**53 + 1, 1.0] into floats, rounding 2**53 + 1 onto 2**53: two images
    would become one. The ids are read exactly instead."""
    gt, dt = _arrays(gt_img=[2 ** 53 + 1, 2.0], dt_img=[2 ** 53, 2.0])
    gt["category_id"] = dt["category_id"] = [1, 1]
    res = fastap.evaluate(gt, dt)
    assert sorted(res.img_ids.tolist()) == [2, 2 ** 53, 2 ** 53 + 1]
    assert res.stats[8] == 0.5          # AR@100: image 2**53 + 1 has no detection


def test_coco_dict_image_id_beyond_int64():
    with pytest.raises(InvalidAnnotationError, match=r"images record 0: field 'id' is %d, outside the int64" % BIG):
        _coco(_dataset(images=[{"id": BIG}]))


def test_coco_dict_annotation_ids_beyond_int64():
    for field in ("id", "image_id", "category_id"):
        ds = _dataset()
        ds["annotations"][1][field] = BIG
        gt = _coco(ds)
        with pytest.raises(InvalidAnnotationError, match=r"annotations record 1: field '%s' is %d, outside the "
                                                         r"int64" % (field, BIG)):
            _coco_eval(gt, _results())


def test_coco_file_ids_beyond_int64(tmp_path):
    """The C annotation reader refuses these ids; the dicts read instead are checked
    at load, and the error names the file."""
    for where, field in (("images", "id"), ("annotations", "image_id"), ("annotations", "id"),
                         ("categories", "id")):
        ds = _dataset()
        ds[where][-1][field] = 2 ** 63
        path = _write(tmp_path, "gt.json", ds)
        rec = len(ds[where]) - 1
        with pytest.raises(InvalidFileError, match=r"gt\.json: %s record %d.*field '%s' is 9223372036854775808, "
                                                   r"outside the int64" % (where, rec, field)):
            _coco(path)


def test_load_res_list_ids_beyond_int64():
    gt = _coco(_dataset(images=[{"id": -1, "height": 100, "width": 100}],
                        annotations=[{"id": 1, "image_id": -1, "category_id": 1, "bbox": [0, 0, 10, 10],
                                      "area": 100.0, "iscrowd": 0}]))
    for field in ("image_id", "category_id"):
        r = [{"image_id": -1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9}]
        r[0][field] = BIG
        with pytest.raises(InvalidAnnotationError, match=r"results record 0: field '%s' is %d, outside the int64"
                                                         % (field, BIG)):
            with quiet():
                gt.loadRes(r)
    with pytest.raises(InvalidAnnotationError, match=r"results row 0: image_id and category_id should be finite "
                                                     r"and within int64"):
        with quiet():
            gt.loadRes(np.array([[2.0 ** 64, 0, 0, 10, 10, 0.9, 1]]))


def test_load_res_file_ids_beyond_int64(tmp_path):
    gt = _coco(_dataset())
    for field in ("image_id", "category_id"):
        r = _results()
        r[1][field] = BIG
        path = _write(tmp_path, "dt.json", r)
        with pytest.raises(InvalidFileError, match=r"dt\.json: .*record 1, field '%s'.* outside the int64 range"
                                                   % field):
            with quiet():
                gt.loadRes(path)


def test_cocoeval_params_ids_beyond_int64():
    gt = _coco(_dataset())
    with quiet():
        ev = COCOeval(gt, gt.loadRes(_results()), "bbox")
    ev.params.imgIds = [1, BIG]
    with pytest.raises(InvalidAnnotationError, match=r"params record 1: field 'imgIds' is %d, outside" % BIG):
        with quiet():
            ev.evaluate()


def test_evaluator_ids_beyond_int64():
    gt = _coco(_dataset())
    ev = Evaluator(gt)
    with pytest.raises(InvalidAnnotationError, match=r"results record 0: field 'image_id' is %d" % BIG):
        ev.update([{"image_id": BIG, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}])
    p = fastap.Params("bbox")
    p.imgIds, p.catIds = np.array([1, BIG], np.uint64), [1]
    with pytest.raises(InvalidAnnotationError, match=r"params record 1: field 'imgIds' is %d" % BIG):
        Evaluator(gt, params=p).update(_results()[:1])
    free = Evaluator()
    with pytest.raises(InvalidAnnotationError, match=r"update record 0: field 'image_ids' is %d" % BIG):
        free.update([{"boxes": np.zeros((0, 4)), "scores": np.zeros(0), "labels": np.zeros(0, int)}],
                    [{"boxes": np.zeros((0, 4)), "labels": np.zeros(0, int)}], image_ids=np.array([BIG], np.uint64))
    gt_cols = {"image_id": np.array([BIG], np.uint64), "category_id": [1], "bbox": [[0, 0, 1, 1]]}
    with pytest.raises(InvalidAnnotationError, match=r"ground truth record 0: field 'image_id' is %d" % BIG):
        Evaluator(gt_cols)


# -- item 5: a category listed twice in catIds ---------------------------------------------------
@pytest.fixture(scope="module")
def small():
    return make_coco(seed=1, n_images=20, n_categories=4, edge_cases=True)


def test_use_cats_0_repeated_category_is_refused(small):
    """pycocotools pools every listed category: a category listed twice has its ground
    truths and detections counted twice (AP 0.2146 here, 0.2077 with each category once).
    fastap refuses the list instead of giving either number."""
    ds, res = small
    cats = [c["id"] for c in ds["categories"]]

    def twice(p):
        p.useCats = 0
        p.catIds = [cats[0], cats[1], cats[0]]
    ref, _ = run_pycocotools(ds, res, twice)
    assert ref._paramsEval.catIds == [cats[0], cats[1], cats[0]]        # what pycocotools pools
    msg = (r"params: field 'catIds' lists category %d twice \(positions 0 and 2\) with useCats=0: pycocotools "
           r".*twice; list each category once" % cats[0])
    gt = _coco(copy.deepcopy(ds))

    class PerImage(COCOeval):           # pycocotools' own evaluate() flow
        def evaluateImg(self, imgId, catId, aRng, maxDet):
            return COCOeval.evaluateImg(self, imgId, catId, aRng, maxDet)
    for cls in (COCOeval, PerImage):
        with quiet():
            ev = cls(gt, gt.loadRes(copy.deepcopy(res)), "bbox")
        twice(ev.params)
        with pytest.raises(InvalidAnnotationError, match=msg):
            with quiet():
                ev.evaluate()
    gt_a = {k: [a[k] for a in ds["annotations"]] for k in ("image_id", "category_id", "bbox", "area", "iscrowd")}
    dt_a = {k: [r[k] for r in res] for k in ("image_id", "category_id", "bbox", "score")}
    with pytest.raises(InvalidAnnotationError, match=r"field 'cat_ids' lists category %d twice" % cats[0]):
        fastap.evaluate(gt_a, dt_a, use_cats=False, cat_ids=[cats[0], cats[1], cats[0]])
    with pytest.raises(InvalidAnnotationError, match=r"field 'cat_ids' lists category %d twice" % cats[1]):
        fastap.evaluate(gt_a, dt_a, protocol="voc", use_cats=False, cat_ids=[cats[1], cats[1]])


def test_use_cats_0_each_category_once_matches_pycocotools(small):
    """The categories pooled in the listed order (not sorted), as pycocotools pools them."""
    ds, res = small
    cats = [c["id"] for c in ds["categories"]]

    def once(p):
        p.useCats = 0
        p.catIds = [cats[2], cats[0], cats[1]]
    compare_with_pycocotools(ds, res, "bbox", once)


def test_use_cats_1_repeated_category_matches_pycocotools(small):
    """With useCats=1 pycocotools' evaluate() makes catIds unique (np.unique): the
    category is evaluated once, as fastap does; whole arrays equal."""
    ds, res = small
    cats = [c["id"] for c in ds["categories"]]

    def twice(p):
        p.catIds = [cats[1], cats[0], cats[1], cats[3]]
    ref, ev = compare_with_pycocotools(ds, res, "bbox", twice)
    assert ref.eval["precision"].shape[2] == 3
    assert ev.params.catIds == sorted([cats[0], cats[1], cats[3]])


# -- item 10: malformed annotation files and result lists -----------------------------------------
def _mod(f):
    ds = _dataset()
    f(ds)
    return ds


MALFORMED = {
    "image without id": (lambda d: d["images"][1].pop("id"), r"images record 1: missing field 'id'"),
    "category without id": (lambda d: d["categories"][0].pop("id"), r"categories record 0: missing field 'id'"),
    "annotations null": (lambda d: d.__setitem__("annotations", None),
                         r"field 'annotations' should be a list of objects, got null"),
    "images null": (lambda d: d.__setitem__("images", None), r"field 'images' should be a list of objects, got null"),
    "images [5]": (lambda d: d.__setitem__("images", [5]), r"images record 0 should be an object, got 5"),
    "categories [5]": (lambda d: d.__setitem__("categories", [5]), r"categories record 0 should be an object, got 5"),
    "annotations [5]": (lambda d: d.__setitem__("annotations", [5]),
                        r"annotations record 0 should be an object, got 5"),
    "images 7": (lambda d: d.__setitem__("images", 7), r"field 'images' should be a list of objects, got int"),
    "string image id among integers": (lambda d: d["images"][1].__setitem__("id", "2"),
                                       r"images record 1: field 'id' is the string '2', but images record 0's is "
                                       r"the number 1"),
    "image id null": (lambda d: d["images"][1].__setitem__("id", None),
                      r"images record 1: field 'id' should be an integer id, got None"),
    "image id a list": (lambda d: d["images"][1].__setitem__("id", [2]),
                        r"images record 1: field 'id' should be an integer id, got \[2\]"),
    "image id 2**64": (lambda d: d["images"][1].__setitem__("id", 2 ** 64),
                       r"images record 1: field 'id' (is 18446744073709551616, outside the int64 range|should be an "
                       r"integer id within int64, got 1.8446744073709552e\+19)"),
    "category id 2**63": (lambda d: d["categories"][0].__setitem__("id", 2 ** 63),
                          r"categories record 0: field 'id' is 9223372036854775808, outside the int64 range"),
    "annotation without image_id": (lambda d: d["annotations"][1].pop("image_id"),
                                    r"annotations record 1 \(id 2\): missing field 'image_id'"),
    "annotation without id": (lambda d: d["annotations"][1].pop("id"), r"annotations record 1: missing field 'id'"),
    "annotation without category_id": (lambda d: d["annotations"][0].pop("category_id"),
                                       r"annotations record 0 \(id 1\): missing field 'category_id'"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_annotation_dict(name):
    change, msg = MALFORMED[name]
    with pytest.raises(InvalidAnnotationError, match=msg):
        gt = _coco(_mod(change))
        _coco_eval(gt, _results())         # (annotations are indexed when first read)


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_annotation_file(tmp_path, name):
    change, msg = MALFORMED[name]
    path = _write(tmp_path, "gt.json", _mod(change))
    with pytest.raises(InvalidFileError, match=re.escape(path) + ": " + msg):
        _coco(path)


def test_records_of_a_file_read_at_evaluation_name_it(tmp_path):
    """Annotations the C reader does not take are read as dicts, and some of their fields
    only at evaluation (masks, boxes): their errors still name the file."""
    ds = _dataset()
    ds["annotations"][1]["segmentation"] = {"size": [2 ** 64, 100], "counts": "abc"}
    path = _write(tmp_path, "gt.json", ds)
    with pytest.raises(InvalidFileError, match=re.escape(path) + r": annotations record 1: segmentation: size must "
                                                               r"be"):
        _coco_eval(_coco(path), _segm_results(), "segm")
    ds = _dataset()
    ds["annotations"][0]["bbox"] = "abc"
    path = _write(tmp_path, "gt2.json", ds)
    with pytest.raises(InvalidFileError, match=re.escape(path) + r": annotations record 0 \(id 1\): field 'bbox' "
                                                               r"should be 4 numbers, got 'abc'"):
        _coco_eval(_coco(path), _results())
    with pytest.raises(InvalidAnnotationError, match=r"^annotations record 0 \(id 1\): field 'bbox'") as ei:
        _coco_eval(_coco(ds), _results())            # a dict: no file to name
    assert not isinstance(ei.value, InvalidFileError)


def test_nan_image_id_in_a_dict():
    """pycocotools indexes a NaN id but never finds it again (NaN != NaN): the image's
    annotations would silently drop out. Refused."""
    with pytest.raises(InvalidAnnotationError, match=r"images record 1: field 'id' should be an integer id within "
                                                     r"int64, got nan"):
        _coco(_dataset(images=[IMAGES[0], {"id": float("nan")}]))


def test_string_annotation_id_among_integers_in_a_dict():
    ds = _dataset()
    ds["annotations"][1]["image_id"] = "2"
    gt = _coco(ds)
    with pytest.raises(InvalidAnnotationError, match=r"annotations record 1: field 'image_id' should be a number, "
                                                     r"got '2' \(fastap evaluates integer ids"):
        _coco_eval(gt, _results())


def test_what_pycocotools_loads_still_loads(tmp_path):
    """Checks at load refuse only what pycocotools cannot index or fastap would evaluate
    wrongly: string ids used throughout load (pycocotools evaluates them; fastap's
    evaluation says it needs integers), an empty dict as annotations, integral float ids."""
    ds = _dataset()
    for im in ds["images"]:
        im["id"] = "img%d" % im["id"]
    for a in ds["annotations"]:
        a["image_id"] = "img%d" % a["image_id"]
    gt = _coco(copy.deepcopy(ds))
    assert sorted(gt.imgs) == ["img1", "img2"] and len(gt.getAnnIds(imgIds=["img1"])) == 1
    assert sorted(_coco(_write(tmp_path, "s.json", ds)).imgs) == ["img1", "img2"]
    with pytest.raises(InvalidAnnotationError, match=r"results record 0: field 'image_id' should be a number, got "
                                                     r"'img1' \(fastap evaluates integer ids"):
        _coco_eval(gt, [{"image_id": "img1", "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9}])
    assert _coco_eval(_coco(_dataset(annotations={})), []).stats[0] == -1
    floats = _dataset(images=[{"id": 1.0, "height": 100, "width": 100}, {"id": 2.0, "height": 100, "width": 100}])
    ref, _ = run_pycocotools(floats, _results())
    assert _coco_eval(_coco(floats), _results()).stats.tolist() == list(ref.stats)


SEGM_RESULTS = {
    "image_id null": (lambda r: r[1].__setitem__("image_id", None),
                      r"results record 1: field 'image_id' should be a number, got None"),
    "no image_id": (lambda r: r[1].pop("image_id"), r"results record 1: missing field 'image_id'"),
    "image_id 2**63": (lambda r: r[1].__setitem__("image_id", 2 ** 63),
                       r"results record 1: field 'image_id' is 9223372036854775808, outside the int64 range"),
    "no score": (lambda r: r[1].pop("score"), r"results record 1: missing field 'score'"),
    "polygon on image_id null": (lambda r: (r[1].__setitem__("image_id", None),
                                            r[1].__setitem__("segmentation", copy.deepcopy(SQUARE))),
                                 r"results record 1: field 'image_id' should be a number, got None"),
    "size 2**64": (lambda r: r[1]["segmentation"].__setitem__("size", [2 ** 64, 100]),
                   r"results record 1: segmentation: size must be"),
}


def _segm_results():
    rle = fastap.mask.encode(np.asfortranarray(np.pad(np.ones((20, 20), np.uint8), ((10, 70), (10, 70)))))
    rle["counts"] = rle["counts"].decode()
    return [{"image_id": i, "category_id": 1, "segmentation": dict(rle), "score": 0.9} for i in (1, 2)]


@pytest.mark.parametrize("name", sorted(SEGM_RESULTS))
@pytest.mark.parametrize("how", ["list", "file"])
def test_malformed_segm_results(tmp_path, name, how):
    change, msg = SEGM_RESULTS[name]
    gt = _coco(_dataset())
    assert _coco_eval(gt, _segm_results(), "segm").stats[0] == 1.0       # the valid results
    r = _segm_results()
    change(r)
    if how == "list":
        with pytest.raises(InvalidAnnotationError, match=msg):
            _coco_eval(gt, r, "segm")
    else:
        path = _write(tmp_path, "dt.json", r)
        with pytest.raises(InvalidAnnotationError, match=re.escape(path) + ": " + msg):
            _coco_eval(gt, path, "segm")


@pytest.mark.parametrize("size", [2 ** 64, 2 ** 31, None, "a hundred", 100.5])
def test_image_size_for_polygons(size):
    """An image whose height cannot be a mask's (an integer in [0, 2**31 - 1]) when its
    polygons are rasterised: an error naming the image and the field."""
    ds = _dataset()
    ds["images"][1]["height"] = size
    gt = _coco(ds)
    with pytest.raises(InvalidAnnotationError, match=r"image 2: field 'height' should be an integer in "
                                                     r"\[0, 2\*\*31 - 1\]"):
        _coco_eval(gt, _segm_results(), "segm")


def test_evaluate_segm_arrays_bad_image_ids():
    rles = _segm_results()
    gt = {"image_id": [1, 2], "category_id": [1, 1], "segmentation": [SQUARE, SQUARE]}
    dt = {"image_id": [1, None], "category_id": [1, 1], "score": [0.9, 0.8],
          "segmentation": [r["segmentation"] for r in rles]}
    with pytest.raises(InvalidAnnotationError, match=r"detections record 1: field 'image_id' should be a number, "
                                                     r"got None"):
        fastap.evaluate(gt, dt, iou_type="segm", image_sizes={1: (100, 100), 2: (100, 100)})
    dt["image_id"] = [1, 2 ** 64]
    with pytest.raises(InvalidAnnotationError, match=r"detections record 1: field 'image_id' is 18446744073709551616"):
        fastap.evaluate(gt, dt, iou_type="segm", image_sizes={1: (100, 100), 2: (100, 100)})


# -- item 11: Evaluator.load of a file that is not a state ----------------------------------------
@pytest.fixture(scope="module")
def state_file(tmp_path_factory):
    ds, res = make_coco(seed=2, n_images=8, n_categories=3)
    with quiet():
        gt = COCO(ds)
    ev = Evaluator(gt)
    ev.update(res)
    path = str(tmp_path_factory.mktemp("state") / "state.npz")
    ev.save(path)
    return path, ev.compute()


def _rewrite_npz(src, dst, drop=(), replace=None):
    with np.load(src, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k not in drop}
    arrays.update(replace or {})
    np.savez(dst, **arrays)


class _Boom:
    """Unpickling it would write a file: Evaluator.load must never unpickle."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_load_valid_state(state_file):
    path, ref = state_file
    assert np.array_equal(Evaluator.load(path).compute().precision, ref.precision)


def test_load_refuses_what_is_not_a_state(tmp_path, state_file):
    src, _ = state_file
    cases = {}
    cases["json"] = (_write(tmp_path, "state.json", {"version": 1}), r"not a fastap Evaluator state .*pickled data "
                                                                     r"or is not NumPy's format")
    cases["text"] = (_write(tmp_path, "junk.npz", "hello"), r"not a fastap Evaluator state")
    data = open(src, "rb").read()
    trunc = tmp_path / "truncated.npz"
    trunc.write_bytes(data[:len(data) // 2])
    cases["truncated"] = (str(trunc), r"not a fastap Evaluator state")
    flipped = tmp_path / "corrupt.npz"
    z = zipfile.ZipFile(src)
    info = z.getinfo("part_score.npy")
    z.close()
    b = bytearray(data)
    off = info.header_offset + 30 + len(info.filename) + len(info.extra) + 200
    b[off] ^= 0xFF
    flipped.write_bytes(bytes(b))
    cases["corrupt member"] = (str(flipped), r"array 'part_score' cannot be read")
    npy = tmp_path / "one.npy"
    np.save(npy, np.zeros(3))
    cases["npy"] = (str(npy), r"holds a single array \(\.npy\)")
    for arr in ("part_score", "meta", "iouThrs", "dataset_npig"):
        dst = str(tmp_path / ("no_%s.npz" % arr))
        _rewrite_npz(src, dst, drop=(arr,))
        cases["missing " + arr] = (dst, r"(missing array '%s'|no 'meta' array)" % arr)
    dst = str(tmp_path / "v2.npz")
    with np.load(src) as zz:
        meta = json.loads(str(zz["meta"]))
    _rewrite_npz(src, dst, replace={"meta": np.array(json.dumps(dict(meta, version=2)))})
    cases["version 2"] = (dst, r"version 2; this fastap reads version 1")
    dst = str(tmp_path / "nometa.npz")
    _rewrite_npz(src, dst, replace={"meta": np.array(json.dumps({k: v for k, v in meta.items() if k != "npig_cats"}))})
    cases["meta without npig_cats"] = (dst, r"'meta' lacks field 'npig_cats'")
    dst = str(tmp_path / "badmeta.npz")
    _rewrite_npz(src, dst, replace={"meta": np.array("{not json")})
    cases["meta not JSON"] = (dst, r"array 'meta' should hold JSON")
    dst = str(tmp_path / "short.npz")
    with np.load(src) as zz:
        short = zz["part_score"][:-1]
    _rewrite_npz(src, dst, replace={"part_score": short})
    cases["part_score too short"] = (dst, r"array 'part_score' should have shape")
    dst = str(tmp_path / "strscore.npz")
    _rewrite_npz(src, dst, replace={"part_score": np.array(["a"] * len(short + 1))})
    cases["part_score strings"] = (dst, r"array 'part_score' should be a 1d float array")
    boom = tmp_path / "boom"
    dst = str(tmp_path / "pickled.npz")
    _rewrite_npz(src, dst, replace={"images": np.array([_Boom(str(boom))], dtype=object)})
    cases["pickled object array"] = (dst, r"array 'images' cannot be read")
    cases["no such file"] = (str(tmp_path / "nope.npz"), r"cannot read the file")
    for name, (path, msg) in cases.items():
        with pytest.raises(InvalidFileError, match=re.escape(path) + ": .*" + msg):
            Evaluator.load(path)
    assert not boom.exists()        # nothing was unpickled


# -- item 12: options and FASTAP_NUM_THREADS ------------------------------------------------------
def test_fastap_num_threads_0_names_the_variable(tmp_path, monkeypatch):
    """It was reported as an InvalidFileError naming the results file."""
    gt_path = _write(tmp_path, "gt.json", _dataset())
    dt_path = _write(tmp_path, "dt.json", _results())
    kp_ds, kp_res = make_keypoints_coco(seed=3, n_images=4)
    kp_gt, kp_dt = _write(tmp_path, "kp.json", kp_ds), _write(tmp_path, "kp_dt.json", kp_res)
    segm = _segm_results()
    segm_path = _write(tmp_path, "segm.json", segm)
    for value in ("0", "-2", "two"):
        monkeypatch.setenv("FASTAP_NUM_THREADS", value)
        gt = _coco(gt_path)
        for results in (dt_path, copy.deepcopy(segm), segm_path):
            with pytest.raises(InvalidOptionError, match=r"the environment variable FASTAP_NUM_THREADS should be an "
                                                         r"integer >= 1 .*got '%s'; unset it" % value) as ei:
                _coco_eval(gt, results, "bbox" if results is dt_path else "segm")
            assert not isinstance(ei.value, InvalidFileError) and isinstance(ei.value, ValueError)
        with pytest.raises(InvalidOptionError, match="FASTAP_NUM_THREADS"):
            fastap.evaluate(*_arrays())
        for kp_results in (kp_dt, copy.deepcopy(kp_res)):
            with pytest.raises(InvalidOptionError, match="FASTAP_NUM_THREADS"):
                _coco_eval(_coco(kp_gt), kp_results, "keypoints")
        err = io.StringIO()
        with contextlib.redirect_stderr(err), quiet():
            rc = fastap.cli.main(["eval", gt_path, dt_path])
        assert rc == 2
        assert re.search(r"fastap: error: the environment variable FASTAP_NUM_THREADS should be an integer >= 1",
                         err.getvalue()), err.getvalue()
        assert "dt.json" not in err.getvalue()
    monkeypatch.delenv("FASTAP_NUM_THREADS")
    with pytest.raises(InvalidOptionError, match=r"num_threads \(the command line's --threads\) should be an "
                                                 r"integer >= 1.*got 0"):
        fastap.evaluate(*_arrays(), num_threads=0)


def _options_cases():
    gt_d = _dataset()
    a = _arrays()
    return {
        "COCOeval iouType": (lambda: COCOeval(_coco(gt_d), iouType="box"), "iouType", "'bbox', 'segm', 'boundary', 'rotated' or 'keypoints'"),
        "Params iouType": (lambda: fastap.Params(iouType="mask"), "iouType", "'bbox', 'segm', 'boundary', 'rotated' or 'keypoints'"),
        "params.iouType edited": (lambda: _edited_iou_type(gt_d), "params.iouType", "'bbox', 'segm', 'boundary', 'rotated' or 'keypoints'"),
        "evaluate iou_type": (lambda: fastap.evaluate(*a, iou_type="boxes"), "iou_type",
                              "'bbox', 'segm', 'boundary', 'rotated' or 'keypoints'"),
        "evaluate box_format": (lambda: fastap.evaluate(*a, box_format="xyxyx"), "box_format",
                                "'xywh', 'xyxy' or 'cxcywh'"),
        "evaluate protocol": (lambda: fastap.evaluate(*a, protocol="pascal"), "protocol", "'coco', 'lvis', 'voc' or 'voc07'"),
        "evaluate voc box_format": (lambda: fastap.evaluate(*a, protocol="voc", box_format="ltrb"), "box_format",
                                    "'xywh', 'xyxy' or 'cxcywh'"),
        "evaluate segm voc": (lambda: fastap.evaluate(*a, iou_type="segm", protocol="voc"), "iou_type='segm'",
                              "the COCO protocol only"),
        "Evaluator iou_type": (lambda: Evaluator(iou_type="boxes"), "iou_type", "'bbox', 'segm' or 'keypoints'"),
        "Evaluator box_format": (lambda: Evaluator(box_format="yxyx"), "box_format", "'xywh', 'xyxy' or 'cxcywh'"),
        "box_iou fmt": (lambda: fastap.box_iou(np.zeros((1, 4)), np.zeros((1, 4)), fmt="xy"), "fmt",
                        "'xyxy', 'xywh' or 'cxcywh'"),
        "torchvision CocoEvaluator iou_types": (lambda: _tv_evaluator(gt_d), "iou_types",
                                                "'bbox', 'segm' or 'keypoints'"),
        "_core.box_iou fmt": (lambda: fastap._core.box_iou(np.zeros((1, 4)), np.zeros((1, 4)), fmt="cxcywh"), "fmt",
                              "'xywh' or 'xyxy'"),
    }


def _tv_evaluator(gt_d):
    from fastap.integrations.torchvision import CocoEvaluator
    CocoEvaluator(_coco(gt_d), ["bbox", "boxes"])


def _edited_iou_type(gt_d):
    gt = _coco(gt_d)
    with quiet():
        ev = COCOeval(gt, gt.loadRes(_results()), "bbox")
    ev.params.iouType = "bboxes"
    with quiet():
        ev.evaluate()


@pytest.mark.parametrize("name", sorted(_options_cases()))
def test_wrong_option_is_a_fastap_error_naming_the_choices(name):
    call, option, choices = _options_cases()[name]
    with pytest.raises(InvalidOptionError) as ei:
        call()
    assert isinstance(ei.value, ValueError) and isinstance(ei.value, fastap.FastapError)
    assert option in str(ei.value) and choices in str(ei.value), str(ei.value)


def test_cli_wrong_choices_are_usage_errors(tmp_path):
    gt_path = _write(tmp_path, "gt.json", _dataset())
    dt_path = _write(tmp_path, "dt.json", _results())
    for args in (["--iou-type", "box"], ["--protocol", "pascal"]):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as ei:
            fastap.cli.main(["eval", gt_path, dt_path] + args)
        assert ei.value.code == 2 and "invalid choice" in err.getvalue()
    err = io.StringIO()
    with contextlib.redirect_stderr(err), quiet():
        assert fastap.cli.main(["eval", gt_path, dt_path, "--threads", "0"]) == 2
    assert "--threads" in err.getvalue() and "integer >= 1" in err.getvalue()


def test_option_error_pickles():
    e = pickle.loads(pickle.dumps(InvalidOptionError("box_format should be 'xywh', got 'x'")))
    assert isinstance(e, InvalidOptionError) and str(e) == "box_format should be 'xywh', got 'x'"
    assert issubclass(InvalidOptionError, fastap.InvalidAnnotationError)      # what some of these raised before

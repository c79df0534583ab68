"""fastap.COCOeval against pycocotools (the oracle) on generated data: whole
precision/recall/scores arrays bit-identical, the same stats and summary lines."""
import copy

import numpy as np
import pytest

import fastap
from fastap.synthetic import make_coco

from conftest import assert_same_eval, quiet, run_fastap, run_pycocotools

pytest.importorskip("pycocotools")


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("edge_cases", [False, True])
def test_generated_default_params(seed, edge_cases, num_threads):
    d, r = make_coco(seed=seed, edge_cases=edge_cases, n_images=60, n_categories=6,
                     gt_per_image=5, dets_per_image=40)
    ref, ref_lines = run_pycocotools(d, r)
    ev, lines = run_fastap(d, r, num_threads=num_threads)
    assert_same_eval(ref, ev)
    assert lines == ref_lines


@pytest.mark.parametrize("n_categories", [1, 2, 3])
def test_few_categories_accumulated_by_area_range(n_categories):
    """Fewer categories than twice the threads: each category is sorted once and its
    area ranges accumulated on several threads. The arrays equal pycocotools' and a
    one-thread run's (which accumulates whole categories), with custom area ranges and
    maxDets too."""
    d, r = make_coco(seed=7, edge_cases=True, n_images=80, n_categories=n_categories,
                     gt_per_image=4, dets_per_image=30)

    def setp(p):
        p.areaRng = [[0, 1e10], [0, 30 ** 2], [30 ** 2, 90 ** 2], [90 ** 2, 1e10], [10 ** 2, 60 ** 2]]
        p.areaRngLbl = ["all", "s", "m", "l", "mid"]
        p.maxDets = [1, 5, 10, 100]

    for set_params in (None, setp):
        ref, _ = run_pycocotools(d, r, set_params)
        one, _ = run_fastap(d, r, set_params, num_threads=1)
        for nt in (2, 3):
            ev, _ = run_fastap(d, r, set_params, num_threads=nt)
            assert_same_eval(ref, ev)
            assert_same_eval(one, ev)


def test_generated_small_scale():
    d, r = make_coco(seed=11, edge_cases=True, scale="small")
    ref, ref_lines = run_pycocotools(d, r)
    ev, lines = run_fastap(d, r)
    assert_same_eval(ref, ev)
    assert lines == ref_lines


def _iou3(p):
    p.iouThrs = np.array([0.3, 0.5, 0.77])


def _rec11(p):
    p.recThrs = np.linspace(0, 1, 11)


def _maxdets(p):
    p.maxDets = [1, 5, 300]


def _maxdets_unsorted(p):
    p.maxDets = [100, 1, 10]


def _maxdets_no100(p):
    p.maxDets = [2, 20, 50]


def _area(p):
    p.areaRng = [[0, 1e10], [0, 50 ** 2], [50 ** 2, 1e10]]
    p.areaRngLbl = ["all", "small", "large"]


def _img_subset(p):
    p.imgIds = sorted(p.imgIds)[::3]


def _cat_subset(p):
    p.catIds = sorted(p.catIds)[1:4]


def _no_cats(p):
    p.useCats = 0


def _no_cats_subset(p):
    p.useCats = 0
    p.catIds = sorted(p.catIds)[:3]


def _many_thresholds(p):
    # more than 32 thresholds: evaluated in chunks of 32
    p.iouThrs = np.linspace(0.05, 0.95, 37)


def _unsorted_recall_thresholds(p):
    p.recThrs = np.array([0.5, 0.1, 0.9, 0.0, 1.0])


def _threshold_one(p):
    p.iouThrs = np.array([0.5, 1.0])


def _mixed(p):
    p.useCats = 0
    p.maxDets = [3, 30, 150]
    p.iouThrs = np.array([0.1, 0.55, 0.95])
    p.imgIds = sorted(p.imgIds)[5:]


@pytest.mark.parametrize("set_params", [
    _iou3, _rec11, _maxdets, _maxdets_unsorted, _maxdets_no100, _area, _img_subset, _cat_subset,
    _no_cats, _no_cats_subset, _many_thresholds, _unsorted_recall_thresholds, _threshold_one, _mixed,
], ids=lambda f: f.__name__.strip("_"))
def test_custom_params(set_params):
    d, r = make_coco(seed=5, edge_cases=True, n_images=80, n_categories=7, gt_per_image=6,
                     dets_per_image=60)
    ref, ref_lines = run_pycocotools(d, r, set_params)
    ev, lines = run_fastap(d, r, set_params)
    assert_same_eval(ref, ev)
    assert lines == ref_lines
    # params end up as pycocotools leaves them (sorted maxDets, catIds [-1] with useCats=0)
    assert list(ev.params.maxDets) == list(ref.params.maxDets)
    assert list(ev.params.catIds) == list(ref.params.catIds)


def test_eval_imgs_identical():
    d, r = make_coco(seed=8, edge_cases=True, n_images=40, n_categories=5, gt_per_image=5,
                     dets_per_image=30)
    ref, _ = run_pycocotools(d, r)
    ev, _ = run_fastap(d, r)
    assert len(ref.evalImgs) == len(ev.evalImgs)
    n = 0
    for a, b in zip(ref.evalImgs, ev.evalImgs):
        assert (a is None) == (b is None)
        if a is None:
            continue
        n += 1
        assert a.keys() == b.keys()
        for key in a:
            if isinstance(a[key], np.ndarray):
                assert a[key].dtype == b[key].dtype, key
                assert np.array_equal(a[key], b[key]), key
            else:
                assert a[key] == b[key], key
    assert n > 0


def test_ious_mapping():
    d, r = make_coco(seed=2, n_images=10, n_categories=3, gt_per_image=4, dets_per_image=10)
    ref, _ = run_pycocotools(d, r)
    ev, _ = run_fastap(d, r)
    for key, val in ref.ious.items():
        got = ev.ious[key]
        if len(val) == 0:
            assert len(got) == 0
        else:
            assert np.array_equal(np.asarray(val), got), key


def _base_case():
    images = [{"id": 1}, {"id": 2}]
    cats = [{"id": 1, "name": "a", "supercategory": "x"}, {"id": 2, "name": "b", "supercategory": "x"}]
    anns = [
        {"id": 0, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "area": 400, "iscrowd": 0},
        {"id": 5, "image_id": 1, "category_id": 1, "bbox": [50, 50, 20, 20], "area": 400, "iscrowd": 0},
        {"id": 6, "image_id": 2, "category_id": 2, "bbox": [0, 0, 100, 100], "area": 10000, "iscrowd": 1},
        {"id": 7, "image_id": 2, "category_id": 2, "bbox": [10, 10, 30, 30], "area": 900, "iscrowd": 0,
         "ignore": 1},
    ]
    dets = [
        {"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9},   # matches id 0
        {"image_id": 1, "category_id": 1, "bbox": [51, 50, 20, 20], "score": 0.9},
        {"image_id": 2, "category_id": 2, "bbox": [5, 5, 50, 50], "score": 0.8},     # crowd
        {"image_id": 2, "category_id": 2, "bbox": [60, 60, 10, 10], "score": 0.8},   # crowd again
        {"image_id": 2, "category_id": 2, "bbox": [10, 10, 30, 30], "score": 0.7},
    ]
    return {"images": images, "categories": cats, "annotations": anns}, dets


def test_quirks_id0_crowd_ignore_field():
    """An annotation with id 0 (its match counts as unmatched in accumulate), crowd
    regions matched many times, and an `ignore` field that pycocotools replaces by
    iscrowd."""
    d, r = _base_case()
    ref, ref_lines = run_pycocotools(d, r)
    ev, lines = run_fastap(d, r)
    assert_same_eval(ref, ev)
    assert lines == ref_lines


def test_iou_exactly_at_threshold():
    # IoU of [0,0,10,10] vs [0,0,20,10] is exactly 0.5; vs [0,0,10,7.5] exactly 0.75
    d = {"images": [{"id": 1}], "categories": [{"id": 1}],
         "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 20, 10], "area": 200,
                          "iscrowd": 0},
                         {"id": 2, "image_id": 1, "category_id": 1, "bbox": [100, 0, 10, 7.5], "area": 75,
                          "iscrowd": 0}]}
    r = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.5},
         {"image_id": 1, "category_id": 1, "bbox": [100, 0, 10, 10], "score": 0.5}]
    assert fastap.box_iou([[0, 0, 10, 10]], [[0, 0, 20, 10]], fmt="xywh")[0, 0] == 0.5
    assert fastap.box_iou([[100, 0, 10, 10]], [[100, 0, 10, 7.5]], fmt="xywh")[0, 0] == 0.75
    ref, _ = run_pycocotools(d, r)
    ev, _ = run_fastap(d, r)
    assert_same_eval(ref, ev)


def test_recall_exactly_on_thresholds():
    # 4 ground truths found one by one: recall hits 0.25, 0.5, 0.75, 1.0 exactly
    anns = [{"id": i + 1, "image_id": 1, "category_id": 1, "bbox": [i * 30, 0, 20, 20], "area": 400,
             "iscrowd": 0} for i in range(4)]
    d = {"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": anns}
    r = [{"image_id": 1, "category_id": 1, "bbox": [i * 30, 0, 20, 20], "score": 1 - i * 0.1} for i in range(4)]
    r += [{"image_id": 1, "category_id": 1, "bbox": [500, 500, 5, 5], "score": 0.95}]
    ref, _ = run_pycocotools(d, r)
    ev, _ = run_fastap(d, r)
    assert_same_eval(ref, ev)


def test_score_ties_across_images_and_within():
    anns = [{"id": i + 1, "image_id": 1 + i % 3, "category_id": 1, "bbox": [10 * i, 0, 8, 8], "area": 64,
             "iscrowd": 0} for i in range(9)]
    d = {"images": [{"id": i} for i in (1, 2, 3)], "categories": [{"id": 1}], "annotations": anns}
    r = [{"image_id": 1 + i % 3, "category_id": 1, "bbox": [10 * i + (i % 2), 0, 8, 8], "score": 0.5}
         for i in range(9)]
    r += [{"image_id": 1 + i % 3, "category_id": 1, "bbox": [10 * i, 1, 8, 8], "score": 0.5} for i in range(9)]
    ref, _ = run_pycocotools(d, r)
    ev, _ = run_fastap(d, r)
    assert_same_eval(ref, ev)


@pytest.mark.parametrize("spread", ["low_bits", "mixed"])
def test_score_order_with_scores_equal_in_their_upper_bits(spread):
    """Accumulation sorts scores by their upper 32 key bits first: scores that differ only
    below (long and short tied runs there, and exact ties) still come in pycocotools'
    stable descending order."""
    rng = np.random.default_rng(5)
    n_img = 30
    anns = [{"id": i + 1, "image_id": 1 + i % n_img, "category_id": 1,
             "bbox": [float(x) for x in rng.uniform(0, 200, 2)] + [40.0, 40.0], "area": 1600.0, "iscrowd": 0}
            for i in range(90)]
    d = {"images": [{"id": i + 1} for i in range(n_img)], "categories": [{"id": 1}], "annotations": anns}
    r = []
    for i in range(600):
        a = anns[rng.integers(len(anns))]
        k = int(rng.integers(0, 400))
        if spread == "low_bits":       # one long run in the upper bits, many exact ties
            score = 0.5 + k * 2.0 ** -40
        else:                          # short runs in the upper bits, some long ones
            score = float(rng.choice([0.25, 0.5, 0.75])) + (k % 7) * 2.0 ** -45 + (k // 7) * 2.0 ** -18
        b = [a["bbox"][0] + float(rng.normal(0, 6)), a["bbox"][1] + float(rng.normal(0, 6)), 40.0, 40.0]
        r.append({"image_id": a["image_id"], "category_id": 1, "bbox": b, "score": score})
    ref, _ = run_pycocotools(d, r)
    ev, _ = run_fastap(d, r)
    assert_same_eval(ref, ev)


def test_empty_results_evaluate_cleanly():
    """pycocotools crashes on loadRes([]); fastap evaluates: precision 0 where there is
    ground truth, -1 elsewhere."""
    d, _ = make_coco(seed=1, n_images=10, n_categories=3)
    with quiet():
        gt = fastap.COCO(d)
        dt = gt.loadRes([])
        ev = fastap.COCOeval(gt, dt, "bbox")
        with pytest.warns(fastap.EmptyResultsWarning):
            ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert ev.stats[0] == 0.0 and ev.stats[8] == 0.0
    assert set(np.unique(ev.eval["precision"])) <= {0.0, -1.0}
    assert (ev.eval["recall"][:, :, 0, :] == 0).all()


def test_no_ground_truth_at_all():
    d = {"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": []}
    r = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.3}]
    ref, ref_lines = run_pycocotools(d, r)
    ev, lines = run_fastap(d, r)
    assert_same_eval(ref, ev)
    assert lines == ref_lines


def test_numpy_results_array():
    d, r = make_coco(seed=4, n_images=20, n_categories=4)
    arr = np.array([[x["image_id"], *x["bbox"], x["score"], x["category_id"]] for x in r])
    ref, _ = run_pycocotools(d, list(r))
    with quiet():
        from pycocotools.coco import COCO as PC
        from pycocotools.cocoeval import COCOeval as PE
        g = PC()
        g.dataset = copy.deepcopy(d)
        g.createIndex()
        ref = PE(g, g.loadRes(arr), "bbox")
        ref.evaluate()
        ref.accumulate()
        ref.summarize()
        gt = fastap.COCO(copy.deepcopy(d))
        ev = fastap.COCOeval(gt, gt.loadRes(arr), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert_same_eval(ref, ev)


def test_dropin_object_model():
    """Mutable pycocotools object model: params edited after construction, dataset
    replaced + createIndex, iouType as keyword, float ids, images without width/height."""
    d, r = make_coco(seed=6, n_images=15, n_categories=3, gt_per_image=4, dets_per_image=12)
    for a in d["annotations"]:
        a["image_id"] = float(a["image_id"])
    for x in r:
        x["category_id"] = float(x["category_id"])
    for im in d["images"]:
        im.pop("width"), im.pop("height")
    ref, ref_lines = run_pycocotools(d, r)
    with quiet():
        gt = fastap.COCO()
        gt.dataset = copy.deepcopy(d)
        gt.createIndex()
        dt = gt.loadRes(copy.deepcopy(r))
        ev = fastap.COCOeval(cocoGt=gt, cocoDt=dt, iouType="bbox")
        ev.params.maxDets = [1, 10, 100]
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert_same_eval(ref, ev)
    # results dicts are materialised on demand, with pycocotools' added fields
    ann = dt.loadAnns(dt.getAnnIds(imgIds=[r[0]["image_id"]]))[0]
    assert {"area", "id", "iscrowd", "segmentation", "score"} <= set(ann)
    assert len(dt.dataset["annotations"]) == len(r)


def test_pycocotools_objects_accepted():
    """fastap.COCOeval also takes pycocotools COCO objects."""
    from pycocotools.coco import COCO as PC
    d, r = make_coco(seed=9, n_images=20, n_categories=4)
    ref, _ = run_pycocotools(d, r)
    with quiet():
        g = PC()
        g.dataset = copy.deepcopy(d)
        g.createIndex()
        ev = fastap.COCOeval(g, g.loadRes(copy.deepcopy(r)), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert_same_eval(ref, ev)


def test_summarize_prints_through_sys_stdout(capsys):
    d, r = make_coco(seed=3, n_images=10, n_categories=2)
    with quiet():
        gt = fastap.COCO(d)
        ev = fastap.COCOeval(gt, gt.loadRes(r), iouType="bbox")
        ev.evaluate()
        ev.accumulate()
    ev.summarize()
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 12 and out[0].startswith(" Average Precision  (AP) @[ IoU=0.50:0.95")


def test_default_iou_type_is_segm_and_needs_masks():
    """pycocotools' default iouType is segm; box-only ground truth then lacks the masks
    (pycocotools: KeyError), which fastap names."""
    d, r = make_coco(seed=3, n_images=5, n_categories=2)
    with quiet():
        gt = fastap.COCO(d)
        ev = fastap.COCOeval(gt, gt.loadRes(r))
        assert ev.params.iouType == "segm"
        with pytest.raises(fastap.InvalidAnnotationError, match=r"annotations record 0 .*'segmentation'"):
            ev.evaluate()


def test_coco_index_matches_pycocotools():
    """COCO's lookups (built lazily) answer as pycocotools' do."""
    from pycocotools.coco import COCO as PC
    d, r = make_coco(seed=10, edge_cases=True, n_images=30, n_categories=4)
    with quiet():
        ours, theirs = fastap.COCO(copy.deepcopy(d)), PC()
        theirs.dataset = copy.deepcopy(d)
        theirs.createIndex()
    img = d["images"][3]["id"]
    cat = d["categories"][1]["id"]
    assert ours.getAnnIds(imgIds=[img]) == theirs.getAnnIds(imgIds=[img])
    assert ours.getAnnIds(catIds=[cat], iscrowd=0) == theirs.getAnnIds(catIds=[cat], iscrowd=0)
    assert ours.getAnnIds(areaRng=[100, 5000]) == theirs.getAnnIds(areaRng=[100, 5000])
    assert sorted(ours.getImgIds(catIds=[cat])) == sorted(theirs.getImgIds(catIds=[cat]))
    assert ours.getCatIds() == theirs.getCatIds()
    assert ours.loadAnns(ours.getAnnIds(imgIds=img)) == theirs.loadAnns(theirs.getAnnIds(imgIds=img))
    assert ours.loadImgs(img) == theirs.loadImgs(img) and ours.loadCats(cat) == theirs.loadCats(cat)
    assert len(ours.anns) == len(theirs.anns) and set(ours.imgToAnns) == set(theirs.imgToAnns)


def test_gt_file_columns_then_edited_dicts(tmp_path):
    """COCO(path) evaluates from the columns the C scanner read; once the annotation
    dicts are read and edited, evaluation follows the edits, as pycocotools does."""
    import json
    d, r = make_coco(seed=14, edge_cases=True, n_images=30, n_categories=4)
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(d, indent=1))
    ref, ref_lines = run_pycocotools(d, r)
    with quiet():
        g = fastap.COCO(str(path))
        ev = fastap.COCOeval(g, g.loadRes(copy.deepcopy(r)), "bbox")
        ev.evaluate()
        ev.accumulate()
    assert_same_eval_arrays(ref, ev)
    assert list(g.dataset) == list(d)                       # members in the file's order
    for a in g.dataset["annotations"][:10]:
        a["iscrowd"] = 1
    d2 = copy.deepcopy(d)
    for a in d2["annotations"][:10]:
        a["iscrowd"] = 1
    ref2, _ = run_pycocotools(d2, r)
    with quiet():
        ev2 = fastap.COCOeval(g, g.loadRes(copy.deepcopy(r)), "bbox")
        ev2.evaluate()
        ev2.accumulate()
    assert_same_eval_arrays(ref2, ev2)


def test_gt_file_without_boxes_loads_and_errors_on_evaluate(tmp_path):
    import json
    d, r = make_coco(seed=15, n_images=5, n_categories=2)
    del d["annotations"][2]["bbox"]
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(d))
    with quiet():
        g = fastap.COCO(str(path))                          # loads, as pycocotools does
        assert len(g.dataset["annotations"]) == len(d["annotations"])
        ev = fastap.COCOeval(g, g.loadRes(r), "bbox")
        with pytest.raises(ValueError, match=r"annotations record 2 \(id \d+\): missing field 'bbox'"):
            ev.evaluate()


def assert_same_eval_arrays(ref, ev):
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(ref.eval[key], ev.eval[key]), key


def test_iou_thresholds_as_a_list():
    """iouThrs given as a Python list: the arrays equal pycocotools' (whose summarize()
    then crashes under NumPy 2: np.where on a 0-d bool); fastap summarizes as for the
    equal array."""
    d, r = make_coco(seed=16, n_images=30, n_categories=3)

    def as_list(p):
        p.iouThrs = [0.5, 0.6, 0.75, 0.9]

    def as_array(p):
        p.iouThrs = np.array([0.5, 0.6, 0.75, 0.9])

    from pycocotools.coco import COCO as PC
    from pycocotools.cocoeval import COCOeval as PE
    with quiet():
        g = PC()
        g.dataset = copy.deepcopy(d)
        g.createIndex()
        ref = PE(g, g.loadRes(copy.deepcopy(r)), "bbox")
        as_list(ref.params)
        ref.evaluate()
        ref.accumulate()
    ev, lines = run_fastap(d, r, as_list)
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(ref.eval[key], ev.eval[key]), key
    ev2, lines2 = run_fastap(d, r, as_array)
    assert np.array_equal(ev.stats, ev2.stats) and lines == lines2

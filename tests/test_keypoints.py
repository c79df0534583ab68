"""iouType="keypoints": OKS and the whole evaluation bit-identical to pycocotools on
generated poses (visible / invisible keypoints, ground truth without keypoints, crowds,
integer coordinates, custom sigmas and parameters), plus the error cases."""
import copy

import numpy as np
import pytest

import fastap
from fastap.synthetic import make_keypoints_coco

from conftest import (assert_same_eval, assert_same_evalimgs_and_ious, compare_with_pycocotools,
                      evaluate_from_file_twice, quiet,
                      run_fastap, run_pycocotools)

pytest.importorskip("pycocotools")


def _compare(ds, res, set_params=None):
    return compare_with_pycocotools(ds, res, "keypoints", set_params)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("edge_cases", [False, True])
def test_keypoints_parity(seed, edge_cases):
    ds, res = make_keypoints_coco(seed, n_images=40, edge_cases=edge_cases)
    ref, ev = _compare(ds, res)
    assert ev.stats.shape == (10,)
    assert ev.stats[0] > 0.05        # the generated poses do match


def test_keypoints_results_with_bbox_take_the_box_branch():
    """Results with a bbox get area = w*h (pycocotools' loadRes box branch), which
    decides the area-range ignore of unmatched detections."""
    ds, res = make_keypoints_coco(7, n_images=40, with_bbox=True, edge_cases=True)
    _compare(ds, res)


def test_keypoints_ious_and_evalimgs_equal_pycocotools():
    ds, res = make_keypoints_coco(3, n_images=25, edge_cases=True)
    ref, ev = _compare(ds, res)
    assert_same_evalimgs_and_ious(ref, ev)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("case", ["sigmas", "maxdets", "arearng", "nocats", "iouthrs", "few_kpts",
                                  "zero_sigma", "low_thrs"])
def test_keypoints_custom_params(case):
    n_kpt = 5 if case == "few_kpts" else 17
    ds, res = make_keypoints_coco(11, n_images=30, edge_cases=True, n_kpt=n_kpt)

    def setp(p):
        if case == "sigmas":
            p.kpt_oks_sigmas = np.linspace(0.02, 0.12, 17)
        elif case == "maxdets":
            p.maxDets = [5, 20]
        elif case == "arearng":
            p.areaRng = [[0, 1e10], [0, 50 ** 2], [50 ** 2, 1e10]]
        elif case == "nocats":
            p.useCats = 0
        elif case == "iouthrs":
            p.iouThrs = np.array([0.3, 0.5, 0.9])
        elif case == "few_kpts":
            p.kpt_oks_sigmas = np.array([0.026, 0.025, 0.025, 0.035, 0.035])
        elif case == "zero_sigma":          # infinite and NaN exponents: NaN OKS match in pycocotools
            p.kpt_oks_sigmas = np.where(np.arange(17) % 5 == 0, 0.0, np.linspace(0.02, 0.12, 17))
        elif case == "low_thrs":            # no pair below the lowest threshold is skipped
            p.iouThrs = np.array([0.0, 1e-300, 0.05])

    ref, _ = run_pycocotools(ds, res, setp, iou_type="keypoints")
    ev, _ = run_fastap(ds, res, setp, iou_type="keypoints")
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(ref.eval[key], ev.eval[key]), key


def test_keypoints_threads_agree(num_threads):
    ds, res = make_keypoints_coco(5, n_images=60)
    ref, _ = run_fastap(ds, res, iou_type="keypoints", num_threads=1)
    ev, _ = run_fastap(ds, res, iou_type="keypoints", num_threads=num_threads)
    assert_same_eval(ref, ev)


def test_keypoints_person_category_split_across_threads(monkeypatch):
    """The one person category is matched in image slices by several threads: the
    arrays, evalImgs and ious still equal pycocotools'."""
    from fastap import _core
    monkeypatch.setattr(_core, "_MATCH_SPLIT_MIN", 40)
    monkeypatch.setenv("FASTAP_NUM_THREADS", "3")
    ds, res = make_keypoints_coco(6, n_images=60, edge_cases=True)
    ref, ev = _compare(ds, res)
    assert_same_evalimgs_and_ious(ref, ev)


def test_oks_bounds_below_the_thresholds():
    """Pairs whose OKS is provably below the lowest threshold keep an upper bound of it,
    below that threshold; every other value is pycocotools' OKS. exact_ious() makes all
    of them exact, and COCOeval.ious reads exact values."""
    from fastap.geometry import exact_ious, iou_floor
    ds, res = make_keypoints_coco(21, n_images=40, edge_cases=True)
    ref, ev = _compare(ds, res)
    core = ev.eval_pass.tables.core
    assert iou_floor(core) == 0.5
    fast = core.extra["iou"].copy()
    exact_ious(core)
    assert iou_floor(core) == -np.inf
    exact = core.extra["iou"]
    above = exact >= 0.5
    assert np.array_equal(fast[above].view(np.uint64), exact[above].view(np.uint64))
    assert (fast[~above] < 0.5).all() and (fast[~above] >= exact[~above]).all()
    assert (fast != exact).sum() > 0.3 * exact.shape[0]     # the bound does skip pairs
    assert_same_evalimgs_and_ious(ref, ev)


def test_oks_rows_read_through_their_index():
    """oks_iou reads ground-truth and detection keypoints through gt_row / dt_row (no
    gathered copies): the same values as from arrays gathered into grouped order; rows
    outside the arrays are refused."""
    from fastap import _core
    ds, res = make_keypoints_coco(23, n_images=30, edge_cases=True)
    _, ev = _compare(ds, res)
    tables = ev.eval_pass.tables
    gkp, _ = fastap.adapters.cocodata.gt_keypoints(ev.cocoGt, 17)
    dkp, xy = fastap.adapters.cocodata.dt_keypoints(ev.cocoDt, 17)
    assert not xy
    sig = np.asarray(ev.params.kpt_oks_sigmas, dtype=np.float64)
    gi, di = tables.gt_index.astype(np.int64), tables.dt_index.astype(np.int64)
    g = np.ascontiguousarray(gkp[gi])
    nvis = (g[:, 2::3] > 0).sum(axis=1).astype(np.int64)
    core = tables.core
    a, _ = _core.oks_iou(core, sig, g, nvis, np.ascontiguousarray(dkp[di]), 20)
    a = a.copy()
    b, _ = _core.oks_iou(core, sig, np.ascontiguousarray(gkp), nvis, dkp, 20, gt_row=gi, dt_row=di)
    assert np.array_equal(a.view(np.uint64), b.view(np.uint64))
    # (x, y) pairs only, [D, 2K] (as the results scan keeps them): the same bits
    b = b.copy()
    pairs = np.ascontiguousarray(dkp.reshape(-1, 17, 3)[:, :, :2].reshape(-1, 34))
    c, _ = _core.oks_iou(core, sig, np.ascontiguousarray(gkp), nvis, pairs, 20, gt_row=gi, dt_row=di)
    assert np.array_equal(a.view(np.uint64), c.view(np.uint64))
    with pytest.raises(ValueError, match="gt_row"):
        _core.oks_iou(core, sig, np.ascontiguousarray(gkp), nvis, dkp, 20, gt_row=gi + gkp.shape[0], dt_row=di)


def test_oks_many_keypoints_and_batches():
    """OKS sends the exponents of many pairs to NumPy's exp at once, in batches of 2048
    numbers and 256 pairs; pairs with more terms than a batch holds go alone. Both,
    and batch boundaries inside a run of pairs, equal pycocotools."""
    for n_kpt, n_images in ((2100, 2), (700, 3), (5, 60)):
        ds, res = make_keypoints_coco(24, n_images=n_images, n_kpt=n_kpt, dets_per_image=30)
        a, b = ds["annotations"][0], ds["annotations"][1]
        a["keypoints"][2::3] = [2] * n_kpt              # every keypoint visible: n = K terms
        a["num_keypoints"] = n_kpt
        b["keypoints"][2::3] = [0] * n_kpt              # none: K terms to the grown box
        sig = np.linspace(0.02, 0.12, n_kpt)
        ref, ev = _compare(ds, res, lambda p: setattr(p, "kpt_oks_sigmas", sig))
        assert_same_evalimgs_and_ious(ref, ev)


def test_oks_operating_points_below_the_thresholds():
    """A report matching at a threshold below the evaluation's lowest one (where OKS
    values were bounds) gives what an evaluation at that threshold gives."""
    ds, res = make_keypoints_coco(22, n_images=40, edge_cases=True)
    ev, _ = run_fastap(ds, res, iou_type="keypoints")
    low, _ = run_fastap(ds, res, lambda p: setattr(p, "iouThrs", np.array([0.2, 0.5])),
                        iou_type="keypoints")
    a = fastap.operating_points(ev, iou_threshold=0.2)
    b = fastap.operating_points(low, iou_threshold=0.2)
    assert a.to_dict() == b.to_dict()
    assert a.to_dict() != fastap.operating_points(ev, iou_threshold=0.5).to_dict()


def _eval(ds, res, sigmas=None):
    with quiet():
        g = fastap.COCO()
        g.dataset = copy.deepcopy(ds)
        g.createIndex()
        d = g.loadRes(copy.deepcopy(res))
        ev = fastap.COCOeval(g, d, "keypoints")
        if sigmas is not None:
            ev.params.kpt_oks_sigmas = sigmas
        ev.evaluate()
    return ev


def test_keypoints_errors():
    ds, res = make_keypoints_coco(1, n_images=5)
    bad = copy.deepcopy(res)
    bad[3]["keypoints"] = bad[3]["keypoints"][:-3]
    with pytest.raises(fastap.InvalidAnnotationError, match=r"results record 3: keypoints should hold 51"):
        _eval(ds, bad)
    bad = copy.deepcopy(ds)
    del bad["annotations"][2]["num_keypoints"]
    with pytest.raises(fastap.InvalidAnnotationError, match=r"annotations record 2 \(id \d+\): missing field 'num_keypoints'"):
        _eval(bad, res)
    bad = copy.deepcopy(ds)
    bad["annotations"][1]["keypoints"][4] = float("nan")
    with pytest.raises(fastap.InvalidAnnotationError, match=r"annotations record 1 .*finite"):
        _eval(bad, res)
    with pytest.raises(fastap.InvalidAnnotationError, match=r"annotations record 0 .*should hold 15 numbers .*kpt_oks_sigmas.*got 51"):
        _eval(ds, res, sigmas=np.full(5, 0.05))


@pytest.mark.parametrize("with_bbox", [False, True])
def test_keypoints_from_files(tmp_path, with_bbox):
    """Files take the C scanner's path (keypoints read from the text, no dicts built);
    the numbers equal pycocotools' on the same files, and the result dicts built later
    on demand equal pycocotools' loadRes dicts."""
    import json
    from pycocotools.coco import COCO as PC
    from pycocotools.cocoeval import COCOeval as PE
    ds, res = make_keypoints_coco(21, n_images=40, edge_cases=True, with_bbox=with_bbox)
    g, d = tmp_path / "gt.json", tmp_path / "dt.json"
    g.write_text(json.dumps(ds))
    d.write_text(json.dumps(res))
    out = []
    for C, E in ((PC, PE), (fastap.COCO, fastap.COCOeval)):
        with quiet():
            gt = C(str(g))
            dt = gt.loadRes(str(d))
            ev = E(gt, dt, "keypoints")
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        out.append((ev, dt))
    assert_same_eval(out[0][0], out[1][0])
    assert out[1][1]._res_kind == ("bbox" if with_bbox else "keypoints")
    if not with_bbox:     # the scan kept only the detections' (x, y) pairs
        assert out[1][1]._geom["keypoints_xy"] and out[1][1]._geom["keypoints"].shape[1] == 34
    a, b = out[0][1].dataset["annotations"], out[1][1].dataset["annotations"]
    for x, y in zip(a, b):     # the dicts built on demand keep every number (v included)
        assert x["keypoints"] == list(y["keypoints"])
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x["bbox"] == list(y["bbox"]) and float(x["area"]) == float(y["area"]) and x["id"] == y["id"]


def test_oks_paths_agree():
    """OKS through NumPy's exp inner loop per pair and through np.exp on one buffer (the
    fallback) give the same bits, and both equal pycocotools."""
    from fastap import _core
    ds, res = make_keypoints_coco(13, n_images=40, edge_cases=True)
    ref, _ = run_pycocotools(ds, res, iou_type="keypoints")
    try:
        out = {}
        for mode in ("auto", "buffer"):
            _core._oks_exp_mode(mode)
            ev, _ = run_fastap(ds, res, iou_type="keypoints")
            out[mode] = ev
            assert_same_eval(ref, ev)
        for key, v in out["auto"].ious.items():
            assert np.array_equal(np.asarray(v), np.asarray(out["buffer"].ious[key]))
    finally:
        _core._oks_exp_mode("auto")
    assert _core.oks_uses_numpy_exp_loop() in (True, False)


def test_keypoints_file_errors(tmp_path):
    """From a file (the C scanner's path), a record with another number of keypoints or
    without keypoints is named."""
    import json
    ds, res = make_keypoints_coco(2, n_images=5)
    g = tmp_path / "gt.json"
    g.write_text(json.dumps(ds))
    for i, mutate, match in ((3, lambda r: r.update(keypoints=r["keypoints"][:-3]), r"record 3: keypoints should hold 51"),
                             (4, lambda r: r.pop("keypoints"), r"record 4: missing field 'keypoints'")):
        bad = copy.deepcopy(res)
        mutate(bad[i])
        d = tmp_path / ("dt%d.json" % i)
        d.write_text(json.dumps(bad))
        with pytest.raises(fastap.InvalidAnnotationError, match=match):
            with quiet():
                gt = fastap.COCO(str(g))
                ev = fastap.COCOeval(gt, gt.loadRes(str(d)), "keypoints")
                ev.evaluate()


def test_scan_keypoint_boxes_equal_loadres_boxes(tmp_path):
    """The results scan computes each record's keypoint box (pycocotools' loadRes box):
    bit-identical to keypoint_boxes and to NumPy's min / max, with ties, -0.0 and
    integer coordinates; a record with a non-finite number gets NaN, and loadRes then
    names it."""
    import json
    from fastap import _core
    rng = np.random.default_rng(8)
    recs = []
    for i in range(300):
        k = rng.uniform(-50, 700, 51).round(int(rng.integers(0, 3)))
        if i % 5 == 0:
            k[0::3] = k[0]                       # every x equal
        if i % 7 == 0:
            k[1::3][:4] = -0.0
        recs.append({"image_id": 1, "category_id": 1, "keypoints": k.tolist(), "score": 0.5})
    data = json.dumps(recs).encode()
    g = _core.parse_results_json(data, geometry=True, kpt_stride=51)
    kp = g["kpt_values"]
    bb, area = _core.keypoint_boxes(kp)
    assert np.array_equal(g["kpt_box"].view(np.uint64), bb.view(np.uint64))
    x, y = kp[:, 0::3], kp[:, 1::3]
    want = np.stack([x.min(1), y.min(1), x.max(1) - x.min(1), y.max(1) - y.min(1)], axis=1)
    assert np.array_equal(g["kpt_box"], want)
    assert np.array_equal(g["kpt_box"][:, 2] * g["kpt_box"][:, 3], area)
    # (x, y) pairs kept only: the same boxes, from the same numbers
    gxy = _core.parse_results_json(data, geometry=True, kpt_stride=51, kpt_xy=True)
    assert np.array_equal(gxy["kpt_box"].view(np.uint64), g["kpt_box"].view(np.uint64))
    assert np.array_equal(gxy["kpt_values"].view(np.uint64),
                          np.ascontiguousarray(kp.reshape(-1, 17, 3)[:, :, :2]).reshape(-1, 34).view(np.uint64))
    bad = json.dumps(recs[:3]).replace(str(recs[1]["keypoints"][4]), "Infinity", 1).encode()
    g = _core.parse_results_json(bad, geometry=True, kpt_stride=51)
    assert np.isnan(g["kpt_box"][1]).all() and not np.isnan(g["kpt_box"][[0, 2]]).any()
    # a non-finite v, which the (x, y) rows do not keep, still makes the box NaN
    bad_v = json.dumps(recs[:3]).replace(str(recs[2]["keypoints"][5]), "NaN", 1).encode()
    for xy in (False, True):
        g = _core.parse_results_json(bad_v, geometry=True, kpt_stride=51, kpt_xy=xy)
        assert np.isnan(g["kpt_box"][2]).all() and not np.isnan(g["kpt_box"][:2]).any()
    ds, _ = make_keypoints_coco(2, n_images=5)
    if all(im["id"] != 1 for im in ds["images"]):
        ds["images"].append({"id": 1, "width": 640, "height": 480})
    gp, rp = tmp_path / "gt.json", tmp_path / "res.json"
    gp.write_text(json.dumps(ds))
    rp.write_bytes(bad)
    with quiet():
        gt = fastap.COCO(str(gp))
        with pytest.raises(fastap.InvalidAnnotationError, match=r"results record 1: keypoints should be finite"):
            gt.loadRes(str(rp))


def test_file_ground_truth_keypoints_kept_between_evaluations(tmp_path):
    """Keypoints of a ground truth read from a file are parsed once and kept for the next
    evaluation (a new COCOeval every epoch; other sigmas of the same count read the same
    keypoints); edited dicts are read from the dicts."""
    ds, res = make_keypoints_coco(14, n_images=20)
    with quiet():
        gt, runs = evaluate_from_file_twice(tmp_path, ds, res, "keypoints")
        first = gt._geom["gt_kpt"][1][0]
        assert_same_eval(runs[0], runs[1])
        sig = np.linspace(0.02, 0.1, 17)
        other = _eval_with(gt, res, sig)
        assert gt._geom["gt_kpt"][1][0] is first
        ann = gt.dataset["annotations"][0]          # the dicts now: edits count
        ann["keypoints"] = [v + 40.0 if i % 3 != 2 else v for i, v in enumerate(ann["keypoints"])]
        gt.createIndex()
        edited = fastap.COCOeval(gt, gt.loadRes(copy.deepcopy(res)), "keypoints")
        edited.evaluate()
        edited.accumulate()
        edited.summarize()
    ref, _ = run_pycocotools(gt.dataset, res, iou_type="keypoints")
    assert_same_eval(ref, edited)
    assert_same_eval(run_pycocotools(ds, res, iou_type="keypoints")[0], runs[1])
    with_sig, _ = run_pycocotools(ds, res, lambda p: setattr(p, "kpt_oks_sigmas", sig), iou_type="keypoints")
    with quiet():
        other.accumulate()
        other.summarize()
    assert_same_eval(with_sig, other)


def test_file_ground_truth_keypoints_read_at_load(tmp_path):
    """A ground-truth file's keypoints are parsed when it is loaded (an evaluation finds
    them read); a file whose keypoints cannot be read still loads, as in pycocotools, and
    the evaluation names the record."""
    import json
    ds, res = make_keypoints_coco(15, n_images=8)
    g = tmp_path / "gt.json"
    g.write_text(json.dumps(ds))
    with quiet():
        gt = fastap.COCO(str(g))
    n_kpt, (kp, num) = gt._geom["gt_kpt"]
    assert n_kpt == 17 and kp.shape == (len(ds["annotations"]), 51)
    want = np.array([a["keypoints"] for a in ds["annotations"]], dtype=np.float64)
    assert np.array_equal(kp, want)
    bad = copy.deepcopy(ds)
    bad["annotations"][2]["keypoints"][4] = float("nan")
    b = tmp_path / "bad.json"
    b.write_text(json.dumps(bad))
    with quiet():
        gt = fastap.COCO(str(b))
        assert "gt_kpt" not in gt._geom
        ev = fastap.COCOeval(gt, gt.loadRes(copy.deepcopy(res)), "keypoints")
        with pytest.raises(fastap.InvalidAnnotationError, match=r"annotations record 2: keypoints should be finite"):
            ev.evaluate()


def _eval_with(gt, res, sigmas):
    ev = fastap.COCOeval(gt, gt.loadRes(copy.deepcopy(res)), "keypoints")
    ev.params.kpt_oks_sigmas = sigmas
    ev.evaluate()
    return ev


def test_keypoint_nvis_counts_visible_keypoints():
    """_core.keypoint_nvis (pycocotools' k1 = count(vg > 0) of the rows OKS reads) equals
    NumPy's count, NaN and negative visibilities included; bad rows are refused."""
    from fastap import _core
    rng = np.random.default_rng(9)
    kpt = rng.normal(size=(50, 51))
    kpt[3, 2] = np.nan
    rows = rng.integers(0, 50, 80)
    assert np.array_equal(_core.keypoint_nvis(kpt, rows), (kpt[rows, 2::3] > 0).sum(axis=1))
    assert _core.keypoint_nvis(kpt, np.zeros(0, np.int64)).shape == (0,)
    with pytest.raises(ValueError, match="rows"):
        _core.keypoint_nvis(kpt, np.array([50]))

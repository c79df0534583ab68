"""fastap.reports: operating points, confusion matrix and TIDE error analysis.

Oracles: hand-checkable cases; brute-force Python over pycocotools' evalImgs (operating
points); a plain-Python transcription of ultralytics' ConfusionMatrix rule; tidecv
itself (error analysis) where it is installed."""
import json

import numpy as np
import pytest

import fastap
from fastap import synthetic
from fastap.reports import compute as report
from fastap.reports import run_reports
from fastap.errors import InvalidAnnotationError

from conftest import run_fastap, run_pycocotools


def _arrays(gt_rows, dt_rows):
    """gt rows (image, cat, x, y, w, h[, crowd]); dt rows (image, cat, x, y, w, h, score)."""
    g = np.asarray(gt_rows, dtype=np.float64).reshape(-1, 6 if not gt_rows or len(gt_rows[0]) == 6 else 7)
    d = np.asarray(dt_rows, dtype=np.float64).reshape(-1, 7)
    gt = {"image_id": g[:, 0].astype(int), "category_id": g[:, 1].astype(int), "bbox": g[:, 2:6]}
    if g.shape[1] == 7:
        gt["iscrowd"] = g[:, 6]
    dt = {"image_id": d[:, 0].astype(int), "category_id": d[:, 1].astype(int), "bbox": d[:, 2:6],
          "score": d[:, 6]}
    return gt, dt


# ----------------------------------------------------------------------------- operating points

def test_operating_points_hand_case():
    # two gts of class 1; detections .9 (hits gt A), .8 (nothing), .8 (hits gt B), .3 (nothing)
    gt, dt = _arrays([(1, 1, 0, 0, 10, 10), (1, 1, 50, 50, 10, 10)],
                     [(1, 1, 0, 0, 10, 10, .9), (1, 1, 200, 200, 5, 5, .8), (1, 1, 50, 50, 10, 10, .8),
                      (1, 1, 300, 300, 5, 5, .3)])
    op = fastap.evaluate(gt, dt).operating_points()
    c = op.curve(1)
    np.testing.assert_array_equal(c["threshold"], [.9, .8, .3])
    np.testing.assert_array_equal(c["tp"], [1, 2, 2])
    np.testing.assert_array_equal(c["fp"], [0, 1, 2])
    np.testing.assert_allclose(c["precision"], [1, 2 / 3, .5])
    np.testing.assert_allclose(c["recall"], [.5, 1, 1])
    np.testing.assert_allclose(c["f1"], [2 / 3, .8, 2 / 3])
    b = op.best[0]
    assert (b["threshold"], b["tp"], b["fp"], b["n_gt"]) == (.8, 2, 1, 2)
    assert b["f1"] == pytest.approx(.8)
    assert op.overall_best["threshold"] == .8 and op.overall_best["f1"] == pytest.approx(.8)


def test_operating_points_best_f1_tie_takes_higher_threshold_and_no_gt_is_nan():
    # class 1: F1 equal at .9 (P=1, R=.5 -> 2/3) and at .5 (P=.5, R=1 -> 2/3); class 2: no gt
    gt, dt = _arrays([(1, 1, 0, 0, 10, 10), (1, 1, 50, 50, 10, 10)],
                     [(1, 1, 0, 0, 10, 10, .9), (1, 1, 200, 200, 5, 5, .7), (1, 1, 210, 210, 5, 5, .6),
                      (1, 1, 50, 50, 10, 10, .5), (1, 2, 0, 0, 10, 10, .4)])
    op = fastap.evaluate(gt, dt).operating_points()
    b = {int(r["category_id"]): r for r in op.best}
    assert b[1]["threshold"] == .9 and b[1]["f1"] == pytest.approx(2 / 3)
    assert np.isnan(b[2]["f1"]) and b[2]["tp"] == -1 and b[2]["n_gt"] == 0
    assert np.isnan(op.curve(2)["recall"]).all()


def _brute_force_curves(ref, t_index, area_index=0):
    """Per category: [(score, cum tp, cum fp)] at each distinct score from pycocotools'
    evalImgs (dtMatches, dtIgnore, dtScores), by plain Python."""
    p = ref.params
    out, npos = {}, {}
    for e in ref.evalImgs:
        if e is None or e["aRng"] != p.areaRng[area_index]:
            continue
        c = e["category_id"]
        out.setdefault(c, [])
        npos[c] = npos.get(c, 0) + int(np.sum(np.asarray(e["gtIgnore"]) == 0))
        for j, s in enumerate(e["dtScores"][:p.maxDets[-1]]):
            if e["dtIgnore"][t_index][j]:
                continue
            out[c].append((e["image_id"], j, s, bool(e["dtMatches"][t_index][j] > 0)))
    curves = {}
    for c, dets in out.items():
        # pycocotools' order: images in id order, rank in image, then a stable sort by -score
        dets.sort(key=lambda x: (x[0], x[1]))
        dets = sorted(dets, key=lambda x: -x[2])
        pts, tp, fp = [], 0, 0
        for i, (_, _, s, hit) in enumerate(dets):
            tp += hit
            fp += not hit
            if i + 1 == len(dets) or dets[i + 1][2] != s:
                pts.append((s, tp, fp))
        curves[c] = (pts, npos[c])
    return curves


@pytest.mark.parametrize("iou", [0.5, 0.75])
def test_operating_points_against_brute_force_over_pycocotools(iou):
    ds, res = synthetic.make_coco(seed=3, edge_cases=True, n_images=60, n_categories=6, dets_per_image=15,
                                  score_decimals=2)
    ref, _ = run_pycocotools(ds, res)
    ev, _ = run_fastap(ds, res)
    t = int(np.flatnonzero(np.isclose(ref.params.iouThrs, iou))[0])
    bf = _brute_force_curves(ref, t)
    op = ev.operating_points(iou)
    assert set(bf) == set(op.cat_ids.tolist())
    for c, (pts, npos) in bf.items():
        cur = op.curve(c)
        assert op.n_gt[op.cat_ids == c][0] == npos
        np.testing.assert_array_equal(cur["threshold"], [x[0] for x in pts])
        np.testing.assert_array_equal(cur["tp"], [x[1] for x in pts])
        np.testing.assert_array_equal(cur["fp"], [x[2] for x in pts])
        if npos:
            tp = np.array([x[1] for x in pts], float)
            fp = np.array([x[2] for x in pts], float)
            np.testing.assert_allclose(cur["precision"], tp / (tp + fp))
            np.testing.assert_allclose(cur["recall"], tp / npos)
            # the final recall is pycocotools' recall array (area all, last maxDets)
            k = int(np.flatnonzero(op.cat_ids == c)[0])
            if len(pts):
                assert cur["recall"][-1] == pytest.approx(ref.eval["recall"][t, k, 0, -1])
    # micro: the pooled counts and the distinct scores of all categories
    n_all = sum(n for _, n in bf.values())
    assert op.overall_best["n_gt"] == n_all
    assert op.overall["tp"][-1] == sum(pts[-1][1] for pts, _ in bf.values() if pts)
    assert op.overall["fp"][-1] == sum(pts[-1][2] for pts, _ in bf.values() if pts)
    np.testing.assert_array_equal(op.overall["threshold"], np.unique(np.concatenate(
        [[x[0] for x in pts] for pts, _ in bf.values()]))[::-1])


def test_operating_points_unevaluated_threshold_rematches():
    _, _, gt, dt = synthetic.make_arrays(n_images=40, n_categories=4, seed=5, score_decimals=2)
    a = fastap.evaluate(gt, dt).operating_points(0.52)
    b = fastap.evaluate(gt, dt, iou_thresholds=[0.52]).operating_points(0.52)
    for f in ("threshold", "tp", "fp", "offsets"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    with pytest.raises(ValueError, match="max_dets"):
        fastap.evaluate(gt, dt).operating_points(max_dets=101)
    with pytest.raises(ValueError, match="area"):
        fastap.evaluate(gt, dt).operating_points(area="huge")


def test_operating_points_max_dets_cut():
    gt, dt = _arrays([(1, 1, 0, 0, 10, 10)], [(1, 1, 200, 200, 5, 5, .9), (1, 1, 0, 0, 10, 10, .8)])
    op = fastap.evaluate(gt, dt).operating_points(max_dets=1)
    np.testing.assert_array_equal(op.curve(1)["tp"], [0])
    np.testing.assert_array_equal(op.curve(1)["fp"], [1])


# ----------------------------------------------------------------------------- confusion matrix

def _iou(a, b):
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    i = w * h
    return i / (a[2] * a[3] + b[2] * b[3] - i)


def _ultralytics_rule(gt, dt, cats, iou_thr, conf):
    """ultralytics' ConfusionMatrix.process_batch, transcribed per image in plain Python
    (matrix stored [true, pred] here), crowds left out."""
    K = len(cats)
    idx = {c: i for i, c in enumerate(cats)}
    M = np.zeros((K + 1, K + 1), np.int64)
    crowd = gt.get("iscrowd", np.zeros(len(gt["image_id"])))
    for img in np.union1d(gt["image_id"], dt["image_id"]):
        g = [i for i in np.flatnonzero(gt["image_id"] == img) if not crowd[i]]
        d = [i for i in np.flatnonzero(dt["image_id"] == img) if dt["score"][i] > conf]
        d.sort(key=lambda i: -dt["score"][i])
        pairs = [(gi, di, _iou(dt["bbox"][d[di]], gt["bbox"][g[gi]]))
                 for gi in range(len(g)) for di in range(len(d))]
        pairs = [p for p in pairs if p[2] > iou_thr]
        best_d = {}
        for gi, di, v in pairs:          # each detection: its best gt (first on ties)
            if di not in best_d or v > best_d[di][1]:
                best_d[di] = (gi, v)
        best_g = {}
        for di in sorted(best_d):        # each gt: its best detection (first on ties)
            gi, v = best_d[di]
            if gi not in best_g or v > best_g[gi][1]:
                best_g[gi] = (di, v)
        dmatch = {di: gi for gi, (di, _) in best_g.items()}
        for gi, i in enumerate(g):
            tc = idx[gt["category_id"][i]]
            if gi in best_g:
                M[tc, idx[dt["category_id"][d[best_g[gi][0]]]]] += 1
            else:
                M[tc, K] += 1
        for di, i in enumerate(d):
            if di not in dmatch:
                M[K, idx[dt["category_id"][i]]] += 1
    return M


def test_confusion_matrix_hand_case():
    gt, dt = _arrays(
        [(1, 1, 0, 0, 10, 10, 0), (1, 2, 50, 50, 10, 10, 0), (1, 1, 100, 100, 10, 10, 0),
         (1, 2, 300, 300, 10, 10, 1)],
        [(1, 1, 0, 0, 10, 10, .9),      # right class on gt 1
         (1, 1, 0, 1, 10, 10, .85),     # second on gt 1: unmatched -> background FP of class 1
         (1, 1, 50, 50, 10, 10, .8),    # class 1 on a class-2 gt: confusion 2 -> 1
         (1, 2, 200, 200, 5, 5, .7),    # nothing there: background FP of class 2
         (1, 1, 100, 100, 10, 10, .2),  # below the score threshold: not counted (gt 3 missed)
         (1, 2, 300, 300, 10, 10, .9)])  # on a crowd: crowds are left out -> background FP
    cm = fastap.evaluate(gt, dt).confusion_matrix(0.5, 0.25)
    want = np.array([[1, 0, 1],       # true 1: one right, one missed
                     [1, 0, 0],       # true 2: became class 1
                     [1, 2, 0]])      # background: FPs of class 1 and 2 (x2)
    np.testing.assert_array_equal(cm.matrix, want)
    np.testing.assert_array_equal(cm.cat_ids, [1, 2])
    np.testing.assert_allclose(cm.normalized()[0], [.5, 0, .5])
    d = cm.to_dict()
    assert d["labels"] == [1, 2, "background"] and d["matrix"] == want.tolist()


def test_confusion_matrix_strict_thresholds():
    # IoU exactly 0.5 is not a match (ultralytics: iou > thr); score exactly at conf is dropped
    gt, dt = _arrays([(1, 1, 0, 0, 10, 10)], [(1, 1, 0, 0, 10, 5, .9), (1, 1, 0, 0, 10, 10, .25)])
    cm = fastap.evaluate(gt, dt).confusion_matrix(0.5, 0.25)
    np.testing.assert_array_equal(cm.matrix, [[0, 1], [1, 0]])
    cm = fastap.evaluate(gt, dt).confusion_matrix(0.49, 0.2)
    np.testing.assert_array_equal(cm.matrix, [[1, 0], [1, 0]])


def test_confusion_matrix_second_best_does_not_fall_back():
    # det A overlaps gt1 (0.9) and gt2 (0.6); det B overlaps gt1 (0.95) only. B takes gt1,
    # A's best was gt1 so A is unmatched although gt2 is free (ultralytics' rule)
    gt, dt = _arrays([(1, 1, 0, 0, 10, 10), (1, 1, 4, 0, 10, 10)],
                     [(1, 1, 0.5, 0, 10, 10, .9), (1, 1, 0.25, 0, 10, 10, .8)])
    cm = fastap.evaluate(gt, dt).confusion_matrix(0.5, 0.25)
    np.testing.assert_array_equal(cm.matrix, [[1, 1], [1, 0]])


@pytest.mark.parametrize("seed", [0, 1])
def test_confusion_matrix_against_transcribed_rule(seed):
    _, cats, gt, dt = synthetic.make_arrays(n_images=30, n_categories=5, seed=seed, dets_per_image=12,
                                            edge_cases=True)
    r = fastap.evaluate(gt, dt)
    for thr, conf in ((0.5, 0.25), (0.3, 0.0), (0.7, 0.5)):
        cm = r.confusion_matrix(thr, conf)
        np.testing.assert_array_equal(cm.matrix, _ultralytics_rule(gt, dt, cm.cat_ids.tolist(), thr, conf))


# ----------------------------------------------------------------------------- error analysis

def test_error_analysis_hand_case():
    # image 1: gt A (class 1) and gt B (class 2) far apart, gt C (class 1)
    gt, dt = _arrays([(1, 1, 0, 0, 10, 10), (1, 2, 100, 100, 10, 10), (1, 1, 300, 300, 10, 10),
                      (1, 1, 500, 500, 10, 10)],
                     [(1, 1, 0, 0, 10, 10, .9),        # TP on A
                      (1, 1, 0, 0, 10, 10, .8),        # Dupe (A taken)
                      (1, 1, 100, 100, 10, 10, .7),    # Cls (on B, wrong class)
                      (1, 1, 300, 300, 10, 4, .6),     # Loc (IoU .4 with C, C unmatched)
                      (1, 2, 300, 300, 10, 4, .5),     # Both (IoU .4 with C, wrong class)
                      (1, 1, 800, 800, 10, 10, .4)])   # Bkg
    ea = fastap.evaluate(gt, dt).error_analysis()
    want = [-1, 3, 0, 1, 2, 4]                      # codes in ERROR_TYPES order
    np.testing.assert_array_equal(ea.dt_error, want)
    assert ea.counts == {"Cls": 1, "Loc": 1, "Both": 1, "Dupe": 1, "Bkg": 1, "Miss": 1}
    # gt D (500, 500) is missed; B is claimed by the Cls error, C by the Loc error
    np.testing.assert_array_equal(ea.gt_missed, [False, False, False, True])
    # AP by hand: class 1 (3 gts A, C, D): TP .9, FP .8, FP .7, FP .6, FP .4
    #   -> precision envelope 1 up to recall 1/3: AP = 34/101; class 2 (gt B): FP .5 -> 0
    assert ea.ap == pytest.approx((34 / 101 + 0) / 2)
    # Loc fix: the .6 detection takes C -> class 1: TP .9, FP .8, FP .7, TP .6, FP .4:
    #   precision at recall 2/3 is 2/4 -> AP = (34 * 1 + 33 * .5) / 101
    assert ea.fixed_ap["Loc"] == pytest.approx(((34 + 33 * .5) / 101 + 0) / 2)
    # Cls fix: the .7 detection becomes a TP of class 2 -> class 2 AP 1; class 1 loses an FP
    assert ea.fixed_ap["Cls"] == pytest.approx((34 / 101 + 1) / 2)
    # Miss fix: class 1 has 2 gts -> TP .9 reaches recall 1/2: AP = 51/101
    assert ea.fixed_ap["Miss"] == pytest.approx((51 / 101 + 0) / 2)
    # FalsePos: no FPs at all -> class 1 recall 1/3 with precision 1; class 2 0
    assert ea.special["FalsePos"] == pytest.approx(ea.fixed_ap["FalsePos"] - ea.ap)
    for t in report.ERROR_TYPES:
        assert ea.dap[t] == max(ea.fixed_ap[t] - ea.ap, 0.0)
    assert json.loads(json.dumps(ea.to_dict()))["counts"]["Bkg"] == 1
    assert "Cls" in ea.summary()


def test_error_analysis_best_claim_wins():
    # two Loc errors on the same unmatched gt: only the higher-scoring one becomes a TP
    gt, dt = _arrays([(1, 1, 0, 0, 10, 10)], [(1, 1, 0, 0, 10, 4, .9), (1, 1, 0, 0, 10, 4.5, .8)])
    ea = fastap.evaluate(gt, dt).error_analysis()
    np.testing.assert_array_equal(ea.dt_error, [1, 1])
    assert ea.fixed_ap["Loc"] == pytest.approx(1.0)
    assert ea.counts["Miss"] == 0


def test_error_analysis_baseline_is_pycocotools_ap50_bit_for_bit():
    ds, res = synthetic.make_coco(seed=2, edge_cases=True, n_images=80, n_categories=6, dets_per_image=20)
    ref, _ = run_pycocotools(ds, res)
    ev, _ = run_fastap(ds, res)
    ea = ev.error_analysis()
    assert ea.ap == ref.stats[1]
    ea75 = ev.error_analysis(pos_threshold=0.75)
    assert ea75.ap == ref.stats[2]
    # the array API gives the same analysis
    _, _, gt, dt = synthetic.make_arrays(n_images=50, n_categories=5, seed=4, edge_cases=True)
    r = fastap.evaluate(gt, dt)
    assert r.error_analysis().ap == r.stats[1]
    # every false positive at IoU .5 gets exactly one type
    op = r.operating_points()
    assert int((r.error_analysis().dt_error >= 0).sum()) == int(op.overall["fp"][-1])


def test_reports_need_a_coco_pass():
    _, _, gt, dt = synthetic.make_arrays(n_images=10, n_categories=3, seed=0)
    voc = fastap.evaluate(gt, dt, protocol="voc")
    with pytest.raises(InvalidAnnotationError, match="matching results"):
        report.operating_points(voc)
    with pytest.raises(ValueError, match="useCats"):
        fastap.evaluate(gt, dt, use_cats=False).error_analysis()
    ev = fastap.COCOeval(None, None, "bbox")
    with pytest.raises(InvalidAnnotationError, match="evaluate"):
        ev.confusion_matrix()
    with pytest.raises(ValueError, match="bg_threshold"):
        fastap.evaluate(gt, dt).error_analysis(pos_threshold=0.5, bg_threshold=0.6)


def test_reports_with_pooled_categories():
    _, _, gt, dt = synthetic.make_arrays(n_images=20, n_categories=3, seed=1)
    r = fastap.evaluate(gt, dt, use_cats=False)
    op = r.operating_points()
    assert op.cat_ids.tolist() == [-1]
    cm = r.confusion_matrix()
    assert cm.matrix.shape == (4, 4)
    np.testing.assert_array_equal(cm.matrix, fastap.evaluate(gt, dt).confusion_matrix().matrix)


def _tidecv_run(gt, dt, images):
    from tidecv import TIDE, Data
    g, d = Data("gt"), Data("dt")
    for im in images.tolist():
        g.add_image(int(im), str(im))
    for i in range(len(gt["image_id"])):
        g.add_ground_truth(int(gt["image_id"][i]), int(gt["category_id"][i]), gt["bbox"][i].tolist())
    for i in range(len(dt["image_id"])):
        d.add_detection(int(dt["image_id"][i]), int(dt["category_id"][i]), float(dt["score"][i]),
                        dt["bbox"][i].tolist())
    t = TIDE()
    t.evaluate(g, d, mode=TIDE.BOX)
    run = t.runs["dt"]
    return (run, {k: v for k, v in t.get_main_errors()["dt"].items()},
            {k: v for k, v in t.get_special_errors()["dt"].items()},
            {k.short_name: v for k, v in run.count_errors().items()})


@pytest.mark.parametrize("seed", [0, 2])
def test_error_analysis_against_tidecv(seed):
    pytest.importorskip("tidecv")
    # data on which tidecv's and COCO's protocols agree: no crowds, every class has
    # ground truth, fewer than 100 detections per image, distinct scores
    images, _, gt, dt = synthetic.make_arrays(n_images=60, n_categories=5, gt_per_image=5, dets_per_image=12,
                                              seed=seed, crowd_frac=0.0, score_decimals=9)
    keep = np.isin(dt["category_id"], np.unique(gt["category_id"]))
    dt = {k: v[keep] for k, v in dt.items()}
    assert np.unique(dt["score"]).size == dt["score"].size
    ea = fastap.evaluate(gt, dt).error_analysis()
    run, main, special, counts = _tidecv_run(gt, dt, images)
    assert 100 * ea.ap == pytest.approx(run.ap, abs=1e-9)
    for t in report.ERROR_TYPES:
        assert ea.counts[t] == counts[t], t
        assert 100 * ea.dap[t] == pytest.approx(main[t], abs=1e-9), t
    assert 100 * ea.special["FalsePos"] == pytest.approx(special["FalsePos"], abs=1e-9)
    # FalseNeg agrees while every class keeps a true positive (tidecv counts a class
    # left without positives as AP 0, COCO leaves it out)
    n_tp = np.bincount(np.searchsorted(np.unique(gt["category_id"]),
                                       dt["category_id"][ea.dt_error == -1]))
    assert (n_tp > 0).all()
    assert 100 * ea.special["FalseNeg"] == pytest.approx(special["FalseNeg"], abs=1e-9)


# ----------------------------------------------------------------------------- CLI

def test_cli_report_options(tmp_path, capsys):
    from fastap.cli import main
    gt_path, dt_path = synthetic.write_coco(str(tmp_path), seed=1, scale="tiny")
    out = tmp_path / "m.json"
    assert main(["eval", gt_path, dt_path, "--f1", "--confusion", "--errors", "--json", str(out),
                 "--iou-thr", "0.5", "--conf", "0.3"]) == 0
    text = capsys.readouterr().out
    assert "best-F1 operating points" in text and "all (micro)" in text
    assert "confusion matrix (IoU > 0.5, score > 0.3)" in text and "dAP" in text
    d = json.loads(out.read_text())
    assert set(d) >= {"operating_points", "confusion_matrix", "error_analysis"}
    assert d["confusion_matrix"]["score_threshold"] == 0.3
    assert len(d["operating_points"]["per_class_best"]) == 5
    assert set(d["error_analysis"]["dap"]) == set(report.ERROR_TYPES)
    # keys appear only when asked for
    assert main(["eval", gt_path, dt_path, "--quiet", "--json", str(out)]) == 0
    assert not set(json.loads(out.read_text())) & {"operating_points", "confusion_matrix", "error_analysis"}


# ----------------------------------------------------------------------------- fast paths vs references

def _ref_q(cat, tp, fp, npig, rec_thrs, K):
    """pycocotools' accumulation in NumPy, per category (the reference of ap_sorted)."""
    keep = tp | fp
    c, t, f = cat[keep], tp[keep], fp[keep]
    q = np.full((rec_thrs.shape[0], K), -1.0)
    for k in range(K):
        if npig[k] <= 0:
            continue
        tk = np.cumsum(t[c == k]).astype(np.float64)
        fk = np.cumsum(f[c == k]).astype(np.float64)
        col = np.zeros(rec_thrs.shape[0])
        if tk.size:
            rc = tk / npig[k]
            env = np.maximum.accumulate((tk / (fk + tk + np.spacing(1)))[::-1])[::-1]
            idx = np.searchsorted(rc, rec_thrs, side="left")
            ok = idx < env.shape[0]
            col[ok] = env[idx[ok]]
        q[:, k] = col
    return q


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ap_sorted_equals_numpy_accumulation(seed):
    rng = np.random.default_rng(seed)
    K, n = 7, 3000
    cat = np.sort(rng.integers(0, K, n)).astype(np.int32)
    kind = rng.integers(0, 3, n)                     # 0 tp, 1 fp, 2 ignored
    tp, fp = kind == 0, kind == 1
    npig = rng.integers(0, 400, K).astype(np.int64)
    npig[1] = 0
    rec = np.linspace(0.0, 1.0, 101)
    off = np.searchsorted(cat, np.arange(K + 1)).astype(np.int64)
    q = fastap._core.ap_sorted(off, tp, fp, npig, rec)
    np.testing.assert_array_equal(q, _ref_q(cat, tp, fp, npig, rec, K))
    assert report._map_sorted(cat, tp, fp, npig, rec, K) == np.mean(q[q > -1])
    with pytest.raises(ValueError, match="cat_off"):
        fastap._core.ap_sorted(off[::-1].copy(), tp, fp, npig, rec)
    with pytest.raises(ValueError, match="same length"):
        fastap._core.ap_sorted(off, tp, fp[:-1], npig, rec)


@pytest.mark.parametrize("seed", [0, 1])
def test_sort_runs_desc_and_resort_moved_equal_lexsort(seed):
    rng = np.random.default_rng(seed)
    K, n = 9, 20000                                  # above the 2-thread cutoff
    cat = np.sort(rng.integers(0, K, n)).astype(np.int32)
    score = np.round(rng.random(n), 2)               # many ties
    off = np.searchsorted(cat, np.arange(K + 1)).astype(np.int64)
    ref = np.lexsort((-score, cat))
    for nt in (1, 2):
        np.testing.assert_array_equal(fastap._core.sort_runs_desc(off, score, nt), ref)
    with pytest.raises(ValueError, match="finite"):
        fastap._core.sort_runs_desc(off, np.where(np.arange(n) == 5, np.nan, score))
    # moving entries to other categories: insertion equals a full stable re-sort
    cat, score = cat[ref], score[ref]
    moved = rng.choice(n, 700, replace=False).astype(np.int64)
    new = ((cat[moved] + rng.integers(1, K, moved.size)) % K).astype(np.int32)
    order, c2 = report._resort_moved(cat, score, off, moved, new)
    cat2 = cat.copy()
    cat2[moved] = new
    full = np.lexsort((-score, cat2))
    np.testing.assert_array_equal(order, full)
    np.testing.assert_array_equal(c2, cat2[full])


def test_tide_ious_rows_equals_tide_ious_by_image():
    ps = report.pass_of(fastap.evaluate(*synthetic.make_arrays(n_images=40, n_categories=5, seed=3,
                                                                 dets_per_image=25)[2:]))
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(ps.n_dt, ps.n_dt // 2, replace=False)).astype(np.int64)
    do, doff = report._by_image(ps.tables.dt_img[rows], ps.I)
    go, goff = report._by_image(ps.tables.gt_img, ps.I)
    dsel, gsel = rows[do], go
    skip = (rng.random(gsel.size) < 0.1).astype(np.uint8)
    used = (rng.random(gsel.size) < 0.5).astype(np.uint8)
    gb, gc = np.ascontiguousarray(ps.gt_box[gsel]), np.ascontiguousarray(ps.gt_cat[gsel])
    a = fastap._core.tide_ious(doff, np.ascontiguousarray(ps.dt_box[dsel]), np.ascontiguousarray(ps.dt_cat[dsel]),
                               goff, gb, gc, skip, used)
    img = np.ascontiguousarray(ps.tables.dt_img, dtype=np.int32)
    for nt in (1, 2):
        b = fastap._core.tide_ious_rows(dsel, img, ps.dt_box, ps.dt_cat, goff, gb, gc, skip, used,
                                        gsel.astype(np.int64), num_threads=nt)
        for x, y in zip(a[::2], b[::2]):
            np.testing.assert_array_equal(x, y)
        for x, y in zip(a[1::2], b[1::2]):
            np.testing.assert_array_equal(np.where(x >= 0, gsel[np.maximum(x, 0)], -1), y)
    with pytest.raises(ValueError, match="rows"):
        fastap._core.tide_ious_rows(np.full(3, ps.n_dt, np.int64), img, ps.dt_box, ps.dt_cat, goff, gb, gc,
                                    skip, used, gsel.astype(np.int64))


def test_operating_points_equal_sorting_reference():
    """The micro curve (from sorted scores) and the best points (per-segment maxima)
    equal the permutation-based computation they replace."""
    r = fastap.evaluate(*synthetic.make_arrays(n_images=60, n_categories=6, seed=5, dets_per_image=30,
                                               edge_cases=True)[2:])
    op = r.operating_points()
    ps = report.pass_of(r)
    tp, fp, npig = ps.bits(0.5, 0, None)
    sel = np.lexsort((-ps.dt_score, ps.dt_cat))
    sel = sel[(tp | fp)[sel]]
    s, t, f = ps.dt_score[sel], tp[sel], fp[sel]
    o2 = np.argsort(-s, kind="stable")
    pos2, tp2, fp2 = report._curve_points(s[o2], t[o2], f[o2], np.zeros(s.size, np.int32))
    np.testing.assert_array_equal(op.overall["threshold"], s[o2][pos2])
    np.testing.assert_array_equal(op.overall["tp"], tp2)
    np.testing.assert_array_equal(op.overall["fp"], fp2)
    pc = ps.dt_cat[sel][report._curve_points(s, t, f, ps.dt_cat[sel])[0]]
    key = np.where(np.isnan(op.f1), -1.0, op.f1)
    o = np.lexsort((np.arange(pc.size), -key, pc))
    first = np.r_[True, pc[o][1:] != pc[o][:-1]]
    bi = o[first]
    ok = ~np.isnan(op.f1[bi])
    np.testing.assert_array_equal(op.best["threshold"][pc[bi][ok]], op.threshold[bi][ok])
    np.testing.assert_array_equal(op.best["tp"][pc[bi][ok]], op.tp[bi][ok])


def test_cli_reports_threaded_equal_direct_calls(tmp_path):
    pytest.importorskip("matplotlib")
    ds, res = synthetic.make_coco(seed=4, edge_cases=True, n_images=60, n_categories=5, dets_per_image=20)
    ev, _ = run_fastap(ds, res)
    ps = report.pass_of(ev)
    before = ps.num_threads
    out = run_reports(ev, operating_points=True, confusion_matrix=True, error_analysis=True,
                      plot_dir=str(tmp_path / "p"), iou_threshold=0.5, score_threshold=0.25)
    out = {k: v if k == "plots" else v.to_dict() for k, v in out.items()}
    assert ps.num_threads == before          # the report threads' split is undone
    ev2, _ = run_fastap(ds, res)
    assert out["error_analysis"] == report.error_analysis(ev2).to_dict()
    assert out["operating_points"] == report.operating_points(ev2).to_dict()
    assert out["confusion_matrix"] == report.confusion_matrix(ev2).to_dict()
    assert sorted(out["plots"]) == sorted(["pr", "operating_points", "confusion", "errors"])

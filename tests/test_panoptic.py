"""Panoptic quality (fastap.panoptic) against hand-computed answers on tiny maps and against
the NumPy reference (fastap.reference.panoptic_quality, panopticapi's rules) on random
maps; the C pair histogram against np.unique; the COCO panoptic file path on PNGs written
here. panopticapi itself is not on PyPI (pip install panopticapi finds nothing), so the
reference, which follows its pq_compute rule by rule, is the oracle."""
import json
import math
import os
import pickle

import numpy as np
import pytest

import fastap
from fastap import _core, reference
from fastap.errors import FastapWarning, InvalidAnnotationError, InvalidFileError, InvalidTypeError
from fastap.panoptic import PanopticEvaluator, evaluate_panoptic, pq_from_segment_maps, read_segment_map, rgb_to_id

CATS = [{"id": 1, "isthing": 1, "name": "person"}, {"id": 2, "isthing": 0, "name": "sky"},
        {"id": 3, "isthing": 0, "name": "empty"}]
NAN = float("nan")


def seg(i, c, crowd=0, **kw):
    return dict(id=i, category_id=c, iscrowd=crowd, **kw)


def run(gt, gsegs, pred, psegs, cats=CATS):
    """fastap on one image, checked equal to the reference (every number, to the bit)."""
    r = pq_from_segment_maps([gt], [gsegs], [pred], [psegs], cats)
    ref = reference.panoptic_quality([gt], [gsegs], [pred], [psegs], cats)
    assert_same(r, ref)
    return r


def assert_same(r, ref):
    got = r.to_panopticapi()
    for name in ("All", "Things", "Stuff"):
        assert got[name]["n"] == ref[name]["n"]
        for m in ("pq", "sq", "rq"):
            a, b = got[name][m], ref[name][m]
            assert (math.isnan(a) and math.isnan(b)) or a == b, (name, m, a, b)
    assert got["per_class"] == ref["per_class"]
    for j, c in enumerate(r.category_ids):
        assert (r.iou_sum[j], r.tp[j], r.fp[j], r.fn[j]) == ref["counts"][int(c)]


def maps(rows):
    """A uint32 map from rows of digits."""
    return np.array([[int(ch) for ch in row] for row in rows], np.uint32)


def check(r, cat, pq, sq, rq, tp, fp, fn):
    j = list(r.category_ids).index(cat)
    assert (r.tp[j], r.fp[j], r.fn[j]) == (tp, fp, fn)
    for got, want in ((r.pq[j], pq), (r.sq[j], sq), (r.rq[j], rq)):
        assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want, abs=1e-15)


GT_BASIC = maps(["1111", "2222", "2222", "2222"])


def test_perfect_match():
    r = run(GT_BASIC, [seg(1, 1), seg(2, 2)], GT_BASIC, [seg(1, 1), seg(2, 2)])
    check(r, 1, 1, 1, 1, 1, 0, 0)
    check(r, 2, 1, 1, 1, 1, 0, 0)
    check(r, 3, NAN, NAN, NAN, 0, 0, 0)               # the empty category: left out
    assert r.summary["All"] == {"pq": 1.0, "sq": 1.0, "rq": 1.0, "n": 2}
    assert r.summary["Stuff"]["n"] == 1 and r.summary["Things"]["n"] == 1
    assert r.to_panopticapi()["per_class"][3] == {"pq": 0.0, "sq": 0.0, "rq": 0.0}   # panopticapi's 0.0
    assert r.PQ == 1.0 and "PQ" in r.table(per_class=True) and "empty" in r.table(per_class=True)


def test_one_miss():
    gt = maps(["1133", "2222", "2222", "2222"])
    pred = maps(["1100", "2222", "2222", "2222"])
    r = run(gt, [seg(1, 1), seg(3, 1), seg(2, 2)], pred, [seg(1, 1), seg(2, 2)])
    check(r, 1, 1 / 1.5, 1, 1 / 1.5, 1, 0, 1)        # PQ = 1 / (1 + 0 + 1/2)
    check(r, 2, 1, 1, 1, 1, 0, 0)


def test_one_false_positive_things_and_stuff():
    pred = maps(["1111", "2222", "2222", "3322"])
    r = run(GT_BASIC, [seg(1, 1), seg(2, 2)], pred, [seg(1, 1), seg(2, 2), seg(3, 1)])
    check(r, 1, 1 / 1.5, 1, 1 / 1.5, 1, 1, 0)
    check(r, 2, 10 / 12, 10 / 12, 1, 1, 0, 0)        # inter 10, union 10 + 12 - 10
    assert r.summary["Things"]["pq"] == pytest.approx(2 / 3)
    assert r.summary["Stuff"]["pq"] == pytest.approx(5 / 6)
    assert r.summary["All"]["pq"] == pytest.approx(0.75) and r.summary["All"]["n"] == 2


def test_iou_exactly_half_is_not_a_match():
    gt = maps(["1111", "1111", "2222", "2222"])
    pred = maps(["1111", "2222", "2222", "2222"])
    r = run(gt, [seg(1, 1), seg(2, 2)], pred, [seg(1, 1), seg(2, 2)])
    check(r, 1, 0, 0, 0, 0, 1, 1)                    # 4 / 8 = 0.5: a miss and a false positive
    check(r, 2, 2 / 3, 2 / 3, 1, 1, 0, 0)
    assert r.summary["All"]["pq"] == pytest.approx(1 / 3)
    pred = maps(["1111", "1222", "2222", "2222"])    # 5 / 8 > 0.5
    r = run(gt, [seg(1, 1), seg(2, 2)], pred, [seg(1, 1), seg(2, 2)])
    check(r, 1, 0.625, 0.625, 1, 1, 0, 0)
    check(r, 2, 8 / 11, 8 / 11, 1, 1, 0, 0)


def test_void_pixels_leave_the_union():
    gt = maps(["1111", "1100", "2222", "2222"])
    pred = maps(["1111", "1111", "2222", "2222"])
    r = run(gt, [seg(1, 1), seg(2, 2)], pred, [seg(1, 1), seg(2, 2)])
    check(r, 1, 1, 1, 1, 1, 0, 0)                    # 6 / (8 + 6 - 6 - 2), not 6 / 8


def test_prediction_mostly_on_void_is_not_a_false_positive():
    gt = maps(["0000", "0000", "2222", "2222"])
    pred = maps(["1111", "0000", "1222", "2222"])
    r = run(gt, [seg(2, 2)], pred, [seg(1, 1), seg(2, 2)])
    check(r, 1, NAN, NAN, NAN, 0, 0, 0)              # 4 of its 5 pixels on VOID
    check(r, 2, 7 / 8, 7 / 8, 1, 1, 0, 0)
    assert r.summary["Things"]["n"] == 0 and math.isnan(r.summary["Things"]["pq"])
    assert r.summary["All"]["pq"] == r.summary["Stuff"]["pq"] == pytest.approx(7 / 8)


def test_crowd_absorbs_a_false_positive_of_its_category():
    gt = maps(["1111", "1111", "2222", "2222"])
    gsegs = [seg(1, 1, crowd=1), seg(2, 2)]
    pred = maps(["1111", "0000", "1122", "2222"])
    r = run(gt, gsegs, pred, [seg(1, 1), seg(2, 2)])
    check(r, 1, NAN, NAN, NAN, 0, 0, 0)              # 4 of 6 pixels on the crowd; the crowd is no FN
    check(r, 2, 0.75, 0.75, 1, 1, 0, 0)
    r = run(gt, gsegs, pred, [seg(1, 2), seg(2, 2)])  # another category: the crowd does not absorb it
    check(r, 2, 0.75 / 1.5, 0.75, 1 / 1.5, 1, 1, 0)
    pred = maps(["1100", "0000", "1122", "2222"])    # 2 of 4 on the crowd: exactly half is a FP
    r = run(gt, gsegs, pred, [seg(1, 1), seg(2, 2)])
    check(r, 1, 0, 0, 0, 0, 1, 0)


def test_only_the_last_crowd_segment_of_a_category_counts():
    gt = maps(["1111", "3333", "2222", "2222"])
    gsegs = [seg(1, 1, crowd=1), seg(3, 1, crowd=1), seg(2, 2)]
    r = run(gt, gsegs, maps(["1111", "0000", "2222", "2222"]), [seg(1, 1), seg(2, 2)])
    check(r, 1, 0, 0, 0, 0, 1, 0)                    # on crowd 1, but panopticapi keeps crowd 3
    r = run(gt, gsegs, maps(["0000", "1111", "2222", "2222"]), [seg(1, 1), seg(2, 2)])
    check(r, 1, NAN, NAN, NAN, 0, 0, 0)


def test_ground_truth_area_field_is_used():
    r = run(GT_BASIC, [seg(1, 1, area=5), seg(2, 2)], GT_BASIC, [seg(1, 1), seg(2, 2)])
    check(r, 1, 0.8, 0.8, 1, 1, 0, 0)                # panopticapi: 4 / (4 + 5 - 4)


def random_case(rng, h=24, w=32, n_seg=9):
    """A ground truth of 4 x 4 blocks (some VOID, some crowd) and a perturbed prediction
    with its own ids and sometimes wrong categories."""
    bh, bw = h // 4, w // 4
    low = rng.integers(0, n_seg + 1, (bh, bw))
    gt = np.repeat(np.repeat(low, 4, 0), 4, 1).astype(np.uint32) * 3
    cats = {i: int(rng.integers(1, 7)) for i in range(1, n_seg + 1)}
    gsegs = [seg(3 * i, cats[i], crowd=int(rng.random() < 0.15)) for i in rng.permutation(range(1, n_seg + 1))
             if ((gt == 3 * i).any() and rng.random() > 0.1) or rng.random() < 0.3]
    pred = np.where(gt > 0, gt // 3 * 5 + 1, 0).astype(np.uint32)
    flip = rng.random((h, w)) < 0.04
    pred[flip] = rng.integers(0, n_seg + 3, flip.sum()) * 5 + 1
    for _ in range(3):
        y, x = rng.integers(0, h - 4), rng.integers(0, w - 6)
        pred[y:y + rng.integers(1, 5), x:x + rng.integers(1, 7)] = rng.choice([0, 5 * (n_seg + 2) + 1])
    pred[pred == 1] = 0
    pcat = {i: (cats.get((i - 1) // 5) or int(rng.integers(1, 7))) if rng.random() < 0.85 else int(rng.integers(1, 7))
            for i in np.unique(pred).tolist() if i}
    psegs = [seg(i, c) for i, c in pcat.items()]
    return gt, gsegs, pred, psegs


RCATS = [{"id": c, "isthing": int(c <= 3)} for c in (4, 1, 2, 3, 5, 6, 7)]   # 7 never occurs


def test_random_maps_equal_the_reference_and_merge_exactly():
    rng = np.random.default_rng(7)
    cases = [random_case(rng) for _ in range(60)]
    g, gs, p, ps = (list(x) for x in zip(*cases))
    with pytest.warns(FastapWarning, match="no segments_info lists"):   # gt ids left out of segments_info
        r = pq_from_segment_maps(g, gs, p, ps, RCATS, num_threads=2)
    assert_same(r, reference.panoptic_quality(g, gs, p, ps, RCATS))
    assert r.tp.sum() > 50 and r.fp.sum() > 20 and r.fn.sum() > 20
    # split, merged in another order: the same bits
    a = PanopticEvaluator(RCATS)
    b = PanopticEvaluator(RCATS)
    with pytest.warns(FastapWarning):
        a.update(g[:25], gs[:25], p[:25], ps[:25])
        b.update(g[25:], gs[25:], p[25:], ps[25:])
    m = pickle.loads(pickle.dumps(b)).merge(a).compute()
    assert m.to_panopticapi() == r.to_panopticapi() and _same_nan(m, r)
    assert np.array_equal(m.iou_sum, r.iou_sum) and m.n_images == 60


def _same_nan(a, b):
    return all(np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True) for f in ("pq", "sq", "rq", "iou_sum"))


def test_pair_histogram_equals_np_unique(monkeypatch):
    monkeypatch.setattr(_core, "PANOPTIC_SERIAL_BELOW", 0)          # the parallel branch on small maps
    rng = np.random.default_rng(3)
    g = [rng.integers(0, 6, (37, 41)).astype(np.uint32), rng.integers(0, 2 ** 32, (120, 130), dtype=np.uint32),
         np.zeros((0, 5), np.uint32), np.full((50, 60), 2 ** 32 - 1, np.uint32),
         rng.integers(0, 2 ** 32, (90, 100), dtype=np.uint32)]        # after the empty map: the table regrows
    p = [rng.integers(0, 9, x.shape).astype(np.uint32) for x in g[:2]] + [g[2].copy(), g[3].copy(), g[4] // 3]
    for nt in (1, 2):
        off, keys, counts = _core.panoptic_pairs(g, p, num_threads=nt)
        for i in range(len(g)):
            u, c = np.unique(g[i].astype(np.uint64) << np.uint64(32) | p[i], return_counts=True)
            assert np.array_equal(keys[off[i]:off[i + 1]], u) and np.array_equal(counts[off[i]:off[i + 1]], c)
    with pytest.raises(InvalidTypeError, match="uint32"):
        _core.panoptic_pairs([g[0].astype(np.int64)], [p[0]])
    with pytest.raises(InvalidAnnotationError, match="does not match"):
        _core.panoptic_pairs([g[0]], [p[1]])
    with pytest.raises(InvalidAnnotationError, match="2D"):
        _core.panoptic_pairs([g[0][None]], [p[0][None]])


def test_bad_input_is_named():
    gs = [seg(1, 1), seg(2, 2)]
    with pytest.raises(InvalidAnnotationError, match="segment id 2 is in the segment map but not in"):
        pq_from_segment_maps([GT_BASIC], [gs], [GT_BASIC], [[seg(1, 1)]], CATS)
    with pytest.raises(InvalidAnnotationError, match="segment 9: listed in segments_info but not in the segment map"):
        pq_from_segment_maps([GT_BASIC], [gs], [GT_BASIC], [gs + [seg(9, 1)]], CATS)
    with pytest.raises(InvalidAnnotationError, match="'category_id' 8 is not in the categories"):
        pq_from_segment_maps([GT_BASIC], [gs], [GT_BASIC], [[seg(1, 1), seg(2, 8)]], CATS)
    with pytest.raises(InvalidAnnotationError, match="repeats"):
        pq_from_segment_maps([GT_BASIC], [gs + [seg(1, 2)]], [GT_BASIC], [gs], CATS)
    with pytest.raises(InvalidAnnotationError, match="0 is VOID"):
        pq_from_segment_maps([GT_BASIC], [gs + [seg(0, 2)]], [GT_BASIC], [gs], CATS)
    with pytest.raises(InvalidAnnotationError, match="shape"):
        pq_from_segment_maps([GT_BASIC], [gs], [GT_BASIC[:2]], [gs], CATS)
    with pytest.raises(InvalidAnnotationError, match="gt.*segment 2: field 'area'".replace("gt", "ground truth")):
        pq_from_segment_maps([GT_BASIC], [[seg(1, 1), seg(2, 2, area="x")]], [GT_BASIC], [gs], CATS)
    with pytest.raises(InvalidAnnotationError, match="isthing"):
        PanopticEvaluator([{"id": 1}])
    with pytest.raises(InvalidTypeError, match="integer segment ids"):
        pq_from_segment_maps([GT_BASIC.astype(float)], [gs], [GT_BASIC], [gs], CATS)
    with pytest.raises(InvalidAnnotationError, match="outside"):
        pq_from_segment_maps([GT_BASIC.astype(np.int64) - 2], [gs], [GT_BASIC], [gs], CATS)


def _write_png(path, ids):
    from PIL import Image
    rgb = np.stack([ids % 256, ids // 256 % 256, ids // 65536], axis=-1).astype(np.uint8)
    Image.fromarray(rgb, "RGB").save(path)


def test_coco_panoptic_files(tmp_path):
    rng = np.random.default_rng(11)
    cases = [random_case(rng) for _ in range(5)]
    big = [(g * 1000 + (g > 0) * 70000, p * 999 + (p > 0) * 65536) for g, _, p, _ in cases]   # ids over 2^16
    os.makedirs(tmp_path / "gt")
    os.makedirs(tmp_path / "pred")
    gt_json = {"categories": RCATS, "annotations": []}
    pred_json = {"annotations": []}
    maps_g, maps_p, sg, sp = [], [], [], []
    for k, ((g, gsegs, p, psegs), (G, P)) in enumerate(zip(cases, big)):
        gsegs = [dict(s, id=int(s["id"]) * 1000 + 70000) for s in gsegs]
        psegs = [dict(s, id=int(s["id"]) * 999 + 65536) for s in psegs]
        _write_png(tmp_path / "gt" / ("%d.png" % k), G)
        _write_png(tmp_path / "pred" / ("%d.png" % k), P)
        gt_json["annotations"].append({"image_id": 100 + k, "file_name": "%d.png" % k, "segments_info": gsegs})
        pred_json["annotations"].insert(0, {"image_id": 100 + k, "file_name": "%d.png" % k, "segments_info": psegs})
        maps_g.append(G)
        maps_p.append(P)
        sg.append(gsegs)
        sp.append(psegs)
    (tmp_path / "gt.json").write_text(json.dumps(gt_json))
    (tmp_path / "pred.json").write_text(json.dumps(pred_json))
    with pytest.warns(FastapWarning):
        r = evaluate_panoptic(str(tmp_path / "gt.json"), str(tmp_path / "gt"), str(tmp_path / "pred.json"),
                              str(tmp_path / "pred"), batch_size=2)
    assert_same(r, reference.panoptic_quality(maps_g, sg, maps_p, sp, RCATS))
    assert np.array_equal(read_segment_map(tmp_path / "gt" / "0.png"), maps_g[0])
    assert fastap.evaluate_panoptic is evaluate_panoptic and isinstance(r, fastap.PanopticResult)
    with pytest.warns(FastapWarning):      # the folders default to the JSON paths without .json
        r2 = evaluate_panoptic(str(tmp_path / "gt.json"), pred_json=str(tmp_path / "pred.json"))
    assert np.array_equal(r2.tp, r.tp) and np.array_equal(r2.iou_sum, r.iou_sum)
    pred_json["annotations"].pop()
    with pytest.raises(InvalidFileError, match="no prediction for the image with id 100"):
        evaluate_panoptic(gt_json, str(tmp_path / "gt"), pred_json, str(tmp_path / "pred"))
    with pytest.raises(InvalidFileError, match="missing.json"):
        evaluate_panoptic(str(tmp_path / "missing.json"), str(tmp_path / "gt"), pred_json, str(tmp_path / "pred"))
    with pytest.raises(fastap.InvalidOptionError, match="pred_json"):
        evaluate_panoptic(gt_json, str(tmp_path / "gt"))
    (tmp_path / "gt" / "bad.png").write_bytes(b"not a png")
    with pytest.raises(InvalidFileError, match="bad.png"):
        read_segment_map(tmp_path / "gt" / "bad.png")


def test_rgb_to_id():
    rgb = np.array([[[1, 2, 3], [255, 255, 255]]], np.uint8)
    assert rgb_to_id(rgb).tolist() == [[1 + 2 * 256 + 3 * 65536, 2 ** 24 - 1]]
    r = pq_from_segment_maps([np.stack([GT_BASIC] + [GT_BASIC * 0] * 2, -1).astype(np.uint8)], [[seg(1, 1), seg(2, 2)]],
                             [GT_BASIC], [[seg(1, 1), seg(2, 2)]], CATS)
    assert r.PQ == 1.0

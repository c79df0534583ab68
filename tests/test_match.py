"""The C path held equal to fastap.reference, kernel by kernel and end to end, on
generated data; the grouping kernel against NumPy's stable sorts."""
import numpy as np
import pytest

import fastap
from fastap import _core, reference
from fastap.columns import IdIndex, dt_columns, gt_columns
from fastap.protocols.coco import coco_accumulate, coco_match
from fastap.tables import build_tables
from fastap.params import Params
from fastap.synthetic import make_arrays


def _cols(seed, **kw):
    images, cats, gt, dt = make_arrays(seed=seed, edge_cases=True, **kw)
    return images, cats, gt_columns(gt), dt_columns(dt)


@pytest.mark.parametrize("seed", range(4))
def test_group_matches_numpy_lexsort(seed):
    rng = np.random.default_rng(seed)
    n = 5000
    major = rng.integers(0, 7, n).astype(np.int32)
    minor = rng.integers(0, 50, n).astype(np.int32)
    score = np.round(rng.random(n), 2)          # many ties
    order, off = _core.group(major, 7, minor, 50, score)
    want = np.lexsort((np.arange(n), -score, minor, major))
    assert np.array_equal(order, want)
    assert np.array_equal(off, np.searchsorted(major[want], np.arange(8)))
    order2, _ = _core.group(major, 7, minor, 50, None)
    assert np.array_equal(order2, np.lexsort((np.arange(n), minor, major)))


def test_group_long_runs():
    # one run of 10k records exercises the merge sort, not just insertion sort
    rng = np.random.default_rng(3)
    score = np.round(rng.random(10000), 3)
    order, _ = _core.group(np.zeros(10000, np.int32), 1, np.zeros(10000, np.int32), 1, score)
    assert np.array_equal(order, np.argsort(-score, kind="stable"))


class P:
    """A pycocotools-like params object for the reference."""

    def __init__(self, images, cats, **kw):
        p = Params("bbox")
        self.__dict__.update(p.__dict__)
        self.imgIds, self.catIds = list(images), list(cats)
        self.__dict__.update(kw)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kw", [{}, {"useCats": 0}, {"maxDets": [1, 4, 250]},
                                {"iouThrs": np.linspace(0.05, 0.95, 40)}],
                         ids=["default", "useCats0", "maxDets", "40thresholds"])
def test_c_path_equals_reference(seed, kw, num_threads):
    images, cats, gt, dt = _cols(seed, n_images=80, n_categories=6, gt_per_image=6, dets_per_image=50)
    p = P(images, cats, **kw)
    want = reference.evaluate_coco(gt, dt, p)
    tables = build_tables(gt, dt, images, cats, bool(p.useCats))
    md = sorted(p.maxDets)
    m = coco_match(tables, p.iouThrs, md, p.areaRng, num_threads=num_threads)
    got = coco_accumulate(tables, m, p.iouThrs, p.recThrs, md, p.areaRng, num_threads=num_threads)
    for name, g in zip(("precision", "recall", "scores"), got):
        assert np.array_equal(g, want[name]), name


def test_match_kernel_counts():
    """npig from the match kernel equals the number of non-ignored ground truths."""
    images, cats, gt, dt = _cols(7, n_images=50, n_categories=4)
    p = Params("bbox")
    tables = build_tables(gt, dt, images, cats)
    m = coco_match(tables, p.iouThrs, p.maxDets, p.areaRng)[0]
    for k, c in enumerate(np.unique(cats)):
        sel = gt["category_id"] == c
        for a, (lo, hi) in enumerate(p.areaRng):
            ok = sel & (gt["iscrowd"] == 0) & (gt["area"] >= lo) & (gt["area"] <= hi)
            assert m["npig"][k, a] == ok.sum()
    # a detection is never both a TP and a FP
    assert not (m["dt_tp"] & m["dt_fp"]).any()


def test_array_api_equals_reference_summary():
    images, cats, gt, dt = _cols(2, n_images=60, n_categories=5)
    res = fastap.evaluate(gt, dt, img_ids=images, cat_ids=cats)
    p = P(images, cats)
    want = reference.evaluate_coco(gt, dt, p)
    stats, lines = reference.summarize(want["precision"], want["recall"], p)
    assert np.array_equal(res.stats, stats)
    assert res.summary == lines
    assert res.map == stats[0] and res.ar_100 == stats[8]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("threads", [2, 3, 5])
def test_large_categories_split_across_threads(seed, threads, monkeypatch):
    """A category with many detections is matched in image slices by several threads:
    every output (the match bits, ranks, ignore flags, matched ground truths and the
    counts of non-ignored ground truths) equals the one-slice matching, for few and
    many categories, with images that have ground truth but no detections."""
    images, cats, gt, dt = _cols(seed, n_images=120, n_categories=2 + seed, gt_per_image=5, dets_per_image=40)
    p = P(images, cats)
    tables = build_tables(gt, dt, images, cats, True)
    md = sorted(p.maxDets)
    one = coco_match(tables, p.iouThrs, md, p.areaRng, details=True, num_threads=1)[0]
    monkeypatch.setattr(_core, "_MATCH_SPLIT_MIN", 50)
    tasks = _core._match_tasks(tables.core, threads)
    assert tasks is not None and tasks.shape[0] > len(cats)
    split = coco_match(tables, p.iouThrs, md, p.areaRng, details=True, num_threads=threads)[0]
    assert one.keys() == split.keys()
    for key in one:
        assert np.array_equal(one[key], split[key]), key
    want = reference.evaluate_coco(gt, dt, p)
    got = coco_accumulate(tables, [split], p.iouThrs, p.recThrs, md, p.areaRng, num_threads=threads)
    for name, g in zip(("precision", "recall", "scores"), got):
        assert np.array_equal(g, want[name]), name


def test_unique_ids_equals_numpy_unique():
    """fastap.columns.unique_ids (the sorted-unique ids of evaluate / build_tables, without NumPy's
    hashing unique) equals np.unique, dtype included, and never hands back its input."""
    from fastap.columns import unique_ids
    rng = np.random.default_rng(1)
    for i in range(1000):
        n = int(rng.integers(0, 40))
        a = rng.integers(-5, 20, n).astype([np.int64, np.int32, np.uint8][i % 3])
        if i % 4 == 0:
            a = np.unique(a)                       # already sorted and unique
        u, r = unique_ids(a), np.unique(a)
        assert np.array_equal(u, r) and u.dtype == r.dtype
        assert not np.shares_memory(u, a)
    assert np.array_equal(unique_ids(np.array([2.0, 1.0, 2.0])), [1.0, 2.0])


def test_id_index_lookup_table_equals_search():
    """IdIndex's lookup table (one C pass, _core.index_lut) gives the positions and the
    found flags of a binary search: ids below, inside and above the range, absent ids
    inside it, int32 / uint8 / float queries."""
    rng = np.random.default_rng(3)
    for i in range(200):
        ids = np.unique(rng.integers(-50, 500, int(rng.integers(1, 60))))
        q = rng.integers(-80, 560, int(rng.integers(0, 300)))
        ix = IdIndex(ids, q.shape[0])
        assert ix.lut is not None
        pos = np.minimum(np.searchsorted(ids, q), ids.shape[0] - 1)
        found = ids[pos] == q
        for qq in (q, q.astype(np.int32), q.astype(np.float64)):
            p, ok = ix(qq)
            assert np.array_equal(ok, found) and np.array_equal(p, np.where(found, pos, 0))
        if ids.min() >= 0:
            qu = np.clip(q, 0, 255).astype(np.uint8)
            p, ok = ix(qu)
            want = ids[np.minimum(np.searchsorted(ids, qu), ids.shape[0] - 1)] == qu
            assert np.array_equal(ok, want)
    with pytest.raises(ValueError, match="lut"):
        _core.index_lut(np.zeros(3, np.int64), 0, np.zeros(0, np.int64))


def test_group_on_threads_equals_one_thread():
    """_core.group sorts the score runs in parts on several threads: the same order as on
    one thread and as a lexsort, with runs longer than a part, one run for everything,
    many one-record runs and tied scores."""
    rng = np.random.default_rng(5)
    for n_major, n_minor, n in ((1, 1, 30000), (1, 3, 40000), (3, 5000, 60000), (2, 40000, 50000)):
        major = rng.integers(0, n_major, n).astype(np.int32)
        minor = rng.integers(0, n_minor, n).astype(np.int32)
        score = rng.random(n).round(2)          # ties
        want = np.lexsort((np.arange(n), -score, minor, major))
        one = _core.group(major, n_major, minor, n_minor, score, num_threads=1)
        for nt in (2, 3, 7):
            order, off = _core.group(major, n_major, minor, n_minor, score, num_threads=nt)
            assert np.array_equal(order, want) and np.array_equal(order, one[0])
            assert np.array_equal(off, one[1])


def test_tables_without_detection_boxes():
    """build_tables(dt_boxes=False) (masks and keypoints: matched by precomputed IoUs)
    gathers no detection boxes: Tables.dt_box() gathers them on request, equal to the
    tables with boxes; box matching and VOC refuse such tables instead of reading boxes
    that are not there."""
    images, cats, gt, dt = _cols(2, n_images=30, n_categories=4)
    img_ids, cat_ids = np.asarray(images), np.asarray(cats)
    with_box = build_tables(gt, dt, img_ids, cat_ids)
    without = build_tables(gt, dt, img_ids, cat_ids, dt_boxes=False)
    assert with_box.core.has_dt_box and not without.core.has_dt_box
    assert np.array_equal(with_box.dt_box(), without.dt_box())
    assert np.array_equal(with_box.dt_index, without.dt_index)
    with pytest.raises(ValueError, match="box matching needs the detections' boxes"):
        coco_match(without, [0.5], [100], [[0, 1e10]])
    with pytest.raises(ValueError, match="needs the detections' boxes"):
        _core.voc_evaluate(without.core, None, 0.5)


def test_lut_group_equals_the_filtering_path():
    """build_tables groups records whose images and categories are all evaluated in one C
    pass (_core.lut_group); the same tables as the general path (lookups, filtering,
    group), which it falls back to when a record is on another image or category."""
    images, cats, gt, dt = _cols(6, n_images=40, n_categories=5)
    img_ids, cat_ids = np.unique(images), np.unique(cats)
    keep = np.isin(dt["image_id"], img_ids) & np.isin(dt["category_id"], cat_ids)
    dt = {k: v[keep] for k, v in dt.items()}
    fast = build_tables(gt, dt, img_ids, cat_ids)
    # int32 ids take the general path
    dt32 = {**dt, "image_id": dt["image_id"].astype(np.int32), "category_id": dt["category_id"].astype(np.int32)}
    gt32 = {**gt, "image_id": gt["image_id"].astype(np.int32), "category_id": gt["category_id"].astype(np.int32)}
    slow = build_tables(gt32, dt32, img_ids, cat_ids)
    for name in ("dt_index", "dt_img", "gt_index", "gt_img"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    assert np.array_equal(fast.core.dt_off, slow.core.dt_off)
    assert np.array_equal(fast.core.gt_off, slow.core.gt_off)
    ilut, clut = IdIndex(img_ids, 10).lut, IdIndex(cat_ids, 10).lut
    lo_i, lo_c = int(img_ids.min()), int(cat_ids.min())
    order, img_sorted, off = _core.lut_group(dt["image_id"], lo_i, ilut, img_ids.shape[0], dt["category_id"],
                                             lo_c, clut, cat_ids.shape[0], dt["score"])
    ip = np.searchsorted(img_ids, dt["image_id"]).astype(np.int32)
    cp = np.searchsorted(cat_ids, dt["category_id"]).astype(np.int32)
    want = np.lexsort((np.arange(ip.shape[0]), -dt["score"], ip, cp))
    assert np.array_equal(order, want) and np.array_equal(img_sorted, ip[want])
    assert np.array_equal(off, np.searchsorted(cp[want], np.arange(cat_ids.shape[0] + 1)))
    other = dt["image_id"].copy()
    other[3] = img_ids.max() + 1                    # an image outside the table
    assert _core.lut_group(other, lo_i, ilut, img_ids.shape[0], dt["category_id"], lo_c, clut,
                           cat_ids.shape[0]) is None


def test_tables_check_image_order():
    """CocoTables refuses detections or ground truths not sorted by image inside a
    category, or negative image indices; the order may restart at every category."""
    def tables(img, off):
        n = len(img)
        z = np.zeros(0, np.int32)
        return _core.CocoTables(len(off) - 1, np.zeros(len(off), np.int64), z, np.zeros((0, 4)), np.zeros(0),
                                np.zeros(0, np.uint8), np.zeros(0, np.uint8), np.asarray(off, np.int64),
                                np.asarray(img, np.int32), np.zeros((n, 4)), np.zeros(n), np.zeros(n))
    tables([0, 2, 2, 5, 1, 3, 0], [0, 4, 6, 6, 7])              # restarts at 4 and 6
    with pytest.raises(ValueError, match="sorted by image"):
        tables([0, 2, 1, 5], [0, 4])
    with pytest.raises(ValueError, match="sorted by image"):
        tables([0, 2, 1, 3], [0, 1, 1, 4])                  # after an empty category
    with pytest.raises(ValueError, match="non-negative"):
        tables([-1, 0], [0, 2])

"""Instance masks given as polygons in the results (issue 18 item 5), bit-identical to
pycocotools: from a file (the C scanner's path, where the polygons stay in the text
and only those whose bound meets a ground truth's box are rasterised) and from a list,
with a box per record (pycocotools' loadRes box branch: area = w*h; every library reads
these) and without (its mask branch, which pycocotools' loadRes refuses for polygons:
fastap takes the area and box of the rasterised polygons, so the oracle is pycocotools
on the same masks given as RLE). Multi-part, degenerate, tiny polygons, polygons partly
or wholly outside the image, crowd ground truth,
results mixing polygons and RLE; Boundary IoU of polygon results."""
import copy
import json

import numpy as np
import pytest

import fastap
from fastap.synthetic import make_segm_coco

from conftest import assert_same_eval, assert_same_evalimgs_and_ious, quiet

pytest.importorskip("pycocotools")
import pycocotools.mask as pm  # noqa: E402
from pycocotools.coco import COCO as PC  # noqa: E402
from pycocotools.cocoeval import COCOeval as PE  # noqa: E402


def _edge_polygons(ds, res, rng):
    """Put the awkward polygons into some results (in place): degenerate (one point
    repeated, collinear), sub-pixel, partly and wholly outside the image, three parts,
    a thin sliver along a ground truth's box (its bound meets the box, the mask may
    not). (Not a 4-number list, which pycocotools' frPyObjects reads as [x, y, w, h]
    boxes: its annToRLE then fails on a list where it wants an array.)"""
    W, H = ds["images"][0]["width"], ds["images"][0]["height"]
    by_img = {}
    for a in ds["annotations"]:
        by_img.setdefault((a["image_id"], a["category_id"]), []).append(a)
    for i, r in enumerate(res):
        k = i % 20
        x, y = float(rng.uniform(0, W)), float(rng.uniform(0, H))
        if k == 0:
            r["segmentation"] = [[x, y] * 4]                                  # one point
        elif k == 1:
            r["segmentation"] = [[x, y, x + 10, y + 5, x + 20, y + 10]]         # collinear
        elif k == 2:
            r["segmentation"] = [[x, y, x + 0.3, y, x + 0.3, y + 0.4]]          # sub-pixel
        elif k == 3:
            r["segmentation"] = [[W - 15.5, y, W + 40.2, y + 3, W + 30, y + 60.7, W - 5, y + 50]]   # partly out
        elif k == 4:
            r["segmentation"] = [[-50, -40, -10.5, -40, -20, -3.2]]             # wholly out
        elif k == 5:
            r["segmentation"] = r["segmentation"] + [[x, y, x + 9, y, x + 4, y + 7],
                                                     [x + 2, y + 1, x + 30, y + 2, x + 3, y + 25.5]]
        elif k == 6:
            gts = by_img.get((r["image_id"], r["category_id"]))
            if gts:
                gx, gy, gw, gh = gts[0]["bbox"]
                r["segmentation"] = [[gx - 3.2, gy - 3.1, gx - 0.9, gy - 3.4, gx - 1.1, gy + gh + 2]]
    return res


def _data(seed, with_bbox, n_images=25, dets=30):
    ds, res = make_segm_coco(seed, n_images=n_images, dets_per_image=dets, edge_cases=True,
                             result_format="polygon", with_bbox=with_bbox)
    return ds, _edge_polygons(ds, res, np.random.default_rng(seed))


def _as_rle(ds, res):
    """The results with every polygon list replaced by its merged RLE (pycocotools'
    annToRLE): what pycocotools' loadRes mask branch reads."""
    sizes = {im["id"]: (im["height"], im["width"]) for im in ds["images"]}
    out = []
    for r in res:
        r = dict(r)
        if isinstance(r["segmentation"], list):
            h, w = sizes[r["image_id"]]
            rle = pm.merge(pm.frPyObjects(r["segmentation"], h, w))
            r["segmentation"] = {"size": rle["size"], "counts": rle["counts"].decode()}
        out.append(r)
    return out


def _run(C, E, gt_src, res_src, iou_type="segm"):
    with quiet():
        if isinstance(gt_src, dict):
            gt = C()
            gt.dataset = copy.deepcopy(gt_src)
            gt.createIndex()
        else:
            gt = C(gt_src)
        dt = gt.loadRes(copy.deepcopy(res_src) if isinstance(res_src, list) else res_src)
        ev = E(gt, dt, iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev, dt


def _sources(tmp_path, ds, res, name):
    g, d = tmp_path / ("%s-gt.json" % name), tmp_path / ("%s-dt.json" % name)
    g.write_text(json.dumps(ds))
    d.write_text(json.dumps(res))
    return str(g), str(d)


def _same_records(a, b):
    """area, bbox and id of the results' dicts equal (pycocotools' vs fastap's)."""
    a, b = a.dataset["annotations"], b.dataset["annotations"]
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert float(x["area"]) == float(y["area"]) and x["id"] == y["id"]
        assert [float(v) for v in x["bbox"]] == [float(v) for v in y["bbox"]]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("source", ["file", "list"])
def test_polygon_results_with_bbox_equal_pycocotools(tmp_path, seed, source):
    """Box branch: pycocotools reads the polygons themselves (annToRLE at evaluation)."""
    ds, res = _data(seed, with_bbox=True)
    g, d = _sources(tmp_path, ds, res, "b")
    ref, rdt = _run(PC, PE, g, d)
    ev, fdt = _run(fastap.COCO, fastap.COCOeval, g if source == "file" else ds, d if source == "file" else res)
    assert_same_eval(ref, ev)
    assert_same_evalimgs_and_ious(ref, ev)
    _same_records(rdt, fdt)
    assert ev.stats[0] > 0.02           # detections do match: the IoUs are not all 0
    if source == "file":                # polygons left in the text, not even rasterised
        from fastap.adapters.cocodata import rles_of
        st = rles_of(fdt, ev.cocoGt, "dt")
        assert st["cnts"].shape[0] < 50 and (st["lazy"][:, 3] == 3).sum() > 0.9 * len(res)


@pytest.mark.parametrize("seed", [2, 3])
@pytest.mark.parametrize("source", ["file", "list"])
def test_polygon_results_without_bbox_equal_pycocotools_on_their_masks(tmp_path, seed, source):
    """Mask branch: the area and box of the rasterised polygons (merged over their
    parts), the IoU of the masks -- pycocotools' numbers for the same masks as RLE."""
    ds, res = _data(seed, with_bbox=False)
    g, d = _sources(tmp_path, ds, res, "p")
    _, d_rle = _sources(tmp_path, ds, _as_rle(ds, res), "r")
    ref, rdt = _run(PC, PE, g, d_rle)
    ev, fdt = _run(fastap.COCO, fastap.COCOeval, g if source == "file" else ds, d if source == "file" else res)
    assert_same_eval(ref, ev)
    assert_same_evalimgs_and_ious(ref, ev)
    _same_records(rdt, fdt)
    if source == "file":                # rasterised for their areas, their counts not kept
        st = fdt._geom["rle"]
        assert st["cnts"].shape[0] < 50 and (st["lazy"][:, 3] == 2).sum() > 0.9 * len(res)


def test_pycocotools_refuses_polygon_results_without_bbox():
    """Why the oracle above converts the polygons first (if pycocotools ever reads them,
    the test above should compare with it directly)."""
    ds, res = _data(4, with_bbox=False, n_images=3, dets=3)
    with pytest.raises(TypeError):
        _run(PC, PE, ds, res)


@pytest.mark.parametrize("with_bbox", [False, True])
def test_results_mixing_polygons_and_rle(tmp_path, with_bbox):
    """Every other result as RLE: with boxes pycocotools reads the mix itself; without,
    it gets the polygons as RLE (it refuses polygons there)."""
    ds, res = _data(5, with_bbox=with_bbox)
    rle = _as_rle(ds, res)
    mixed = [rle[i] if i % 2 else r for i, r in enumerate(res)]
    g, d = _sources(tmp_path, ds, mixed, "m")
    _, d_ref = _sources(tmp_path, ds, mixed if with_bbox else rle, "mr")
    ref, _ = _run(PC, PE, g, d_ref)
    for gsrc, dsrc in ((g, d), (ds, mixed)):
        ev, _ = _run(fastap.COCO, fastap.COCOeval, gsrc, dsrc)
        assert_same_eval(ref, ev)
        assert_same_evalimgs_and_ious(ref, ev)


def test_polygon_results_crowd_ground_truth_and_custom_params(tmp_path):
    """Crowd ground truth everywhere (a crowd's union is the detection's area), no
    categories, a low IoU threshold: the bound of a polygon decides nothing on its own."""
    ds, res = _data(6, with_bbox=True)
    for a in ds["annotations"][::3]:
        if isinstance(a["segmentation"], list):
            h, w = ds["images"][0]["height"], ds["images"][0]["width"]
            rle = pm.merge(pm.frPyObjects(a["segmentation"], h, w))
            a["segmentation"] = {"size": rle["size"], "counts": rle["counts"].decode()}
        a["iscrowd"] = 1
    g, d = _sources(tmp_path, ds, res, "c")
    out = []
    for C, E in ((PC, PE), (fastap.COCO, fastap.COCOeval)):
        with quiet():
            gt = C(g)
            ev = E(gt, gt.loadRes(d), "segm")
            ev.params.useCats = 0
            ev.params.iouThrs = np.array([0.01, 0.5, 0.9])
            ev.evaluate()
            ev.accumulate()
        out.append(ev)
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(out[0].eval[key], out[1].eval[key]), key
    assert_same_evalimgs_and_ious(*out)


def test_boundary_iou_of_polygon_results_from_file_and_list(tmp_path):
    """Boundary IoU decodes the polygons left in a file's text: the same numbers as
    from the list (whose polygons are rasterised up front)."""
    ds, res = _data(7, with_bbox=True, n_images=10, dets=20)
    g, d = _sources(tmp_path, ds, res, "bd")
    a, _ = _run(fastap.COCO, fastap.COCOeval, g, d, "boundary")
    b, _ = _run(fastap.COCO, fastap.COCOeval, ds, res, "boundary")
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(a.eval[key], b.eval[key]), key
    assert_same_evalimgs_and_ious(a, b)


def _poly_text(segs):
    recs = ['{"image_id": 1, "category_id": 1, "segmentation": %s, "score": 0.5}' % json.dumps(s) for s in segs]
    return ("[" + ", ".join(recs) + "]").encode()


@pytest.mark.parametrize("exact", [True, False])
def test_lazy_polygon_set_equals_stored(exact):
    """Polygons left in the text decode to the counts rasterised up front; with exact,
    the same boxes and areas; without, boxes that hold the mask's and NaN areas."""
    from fastap import _core
    from fastap.synthetic import random_polygons
    rng = np.random.default_rng(3)
    h, w = 61, 47
    polys = random_polygons(rng, 200, h, w, n_points=(3, 40), outside=0.3)
    segs = [[p] if i % 5 else [p, polys[(i + 1) % 200]] for i, p in enumerate(polys)]
    segs += [[[5.5, 5.5] * 3], [[-9, -9, -3, -9, -3, -2]], [[0.2, 0.2, 0.4, 0.2, 0.3, 0.45]], [[1, 2, 3, 4]]]
    data = _poly_text(segs)
    g = _core.parse_results_json(data, geometry=True)
    n = len(segs)
    hh, ww = np.full(n, h, np.int64), np.full(n, w, np.int64)
    stored = _core.rle_set_from_spans(data, g["seg_span"], hh, ww)
    lazy = _core.rle_set_from_spans(data, g["seg_span"], hh, ww, lazy=True, exact=exact)
    kinds = lazy["lazy"][:, 3]
    assert (kinds[:-1] == (2 if exact else 3)).all() and lazy["lazy"][-1, 0] == -1     # a box: stored
    assert np.array_equal(stored["hw"], lazy["hw"])
    for i in range(n):
        assert np.array_equal(_core.rle_set_counts(stored, i), _core.rle_set_counts(lazy, i)), i
    if exact:
        assert np.array_equal(stored["bbox"], lazy["bbox"]) and np.array_equal(stored["area"], lazy["area"])
        return
    sb, lb = stored["bbox"][:-1], lazy["bbox"][:-1]
    nonempty = stored["area"][:-1] > 0
    assert nonempty.sum() > 150 and (~nonempty).sum() >= 2
    assert (lb[nonempty, :2] <= sb[nonempty, :2]).all()
    assert (lb[nonempty, :2] + lb[nonempty, 2:] >= sb[nonempty, :2] + sb[nonempty, 2:]).all()
    assert np.isnan(lazy["area"][:-1]).all() and lazy["area"][-1] == stored["area"][-1]


@pytest.mark.parametrize("seg,match", [
    ([], "an empty polygon list"),
    ([[1, 2]], "a polygon needs at least 3 points"),
    ([[1, 2, 3, 4, 5, 6], [1, 2]], None),                           # a later short part is rasterised
    ([[1, 2, 3e8, 4, 5, 6]], "polygon coordinates must be finite numbers within"),
])
def test_lazy_polygon_errors_as_stored(seg, match):
    """Polygons left in the text are checked as those rasterised up front: the same
    error, naming the same record, or none."""
    from fastap import _core
    data = _poly_text([[[1, 1, 5, 1, 3, 4]], seg])
    g = _core.parse_results_json(data, geometry=True)
    z = np.full(2, 9, np.int64)
    msgs = []
    for lazy, exact in ((False, True), (True, True), (True, False)):
        try:
            _core.rle_set_from_spans(data, g["seg_span"], z, z, "results", lazy=lazy, exact=exact)
            msgs.append(None)
        except ValueError as e:
            msgs.append(str(e))
    assert msgs[0] == msgs[1] == msgs[2]
    if match is None:
        assert msgs[0] is None
    else:
        assert msgs[0].startswith("results record 1: segmentation") and match in msgs[0]


def test_lazy_polygons_need_the_image_size():
    from fastap import _core
    data = _poly_text([[[1, 1, 5, 1, 3, 4]]])
    g = _core.parse_results_json(data, geometry=True)
    z = np.full(1, -1, np.int64)
    for exact in (True, False):
        with pytest.raises(ValueError, match="results record 0: segmentation: polygons need the image's height"):
            _core.rle_set_from_spans(data, g["seg_span"], z, z, "results", lazy=True, exact=exact)


@pytest.mark.parametrize("threads", [1, 2])
def test_scan_releasing_mapped_pages_reads_the_same(tmp_path, threads):
    """loadRes scans a mask file's mapping releasing its pages part by part (so that the
    mapping and the copy of the values' text are not resident together): the columns,
    spans and copied text equal a scan of the bytes, the mapping still reads the file,
    and the digest taken releasing pages is the digest."""
    import mmap
    from fastap import _core
    ds, res = _data(8, with_bbox=False, n_images=40, dets=60)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(res))
    raw = path.read_bytes()
    ref = _core.parse_results_json(raw, geometry=True, num_threads=threads, _min_part_bytes=1 << 16)
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            shadow = np.empty(len(mm), np.uint8)
            got = _core.parse_results_json(mm, geometry=True, num_threads=threads, _min_part_bytes=1 << 16,
                                           shadow=shadow, release_pages=True)
            assert bytes(mm[:]) == raw
            assert _core.text_digest(mm, release_pages=True) == _core.text_digest(raw)
            assert bytes(mm[:]) == raw
        finally:
            mm.close()
    for k in ("image_id", "category_id", "score", "seg_span"):
        assert np.array_equal(ref[k], got[k]), k
    for a, b in got["seg_span"]:
        assert shadow[a:b].tobytes() == raw[a:b]


def _vertex_box(seg):
    """The box the results scan records for a segmentation (its ``seg_bound``), from
    json.loads: NaN unless it is polygons, the first over 4 numbers, each polygon at
    most FA_POLY_BOUND_VALUES (2048) numbers, every number within (-2e8, 2e8)."""
    nan = [np.nan] * 4
    if not isinstance(seg, list) or not seg or not all(isinstance(p, list) for p in seg) or len(seg[0]) <= 4:
        return nan
    vals = [v for p in seg for v in p]
    if any(len(p) > 2048 for p in seg) or not all(-2e8 < v < 2e8 for v in vals):
        return nan
    xs = [p[j] for p in seg for j in range(0, len(p) - 1, 2)]
    ys = [p[j + 1] for p in seg for j in range(0, len(p) - 1, 2)]
    return [min(xs), min(ys), max(xs), max(ys)]


@pytest.mark.parametrize("threads", [1, 2])
def test_scan_bounds_polygons_as_json_loads(threads):
    """The results scan reads each polygon list's vertex box as it passes (so that
    evaluation never reads the numbers only to bound them): equal to json.loads' numbers,
    NaN for what the mask readers must check themselves (boxes, RLE, empty lists, long
    polygons, coordinates out of range or not finite)."""
    from fastap import _core
    from fastap.synthetic import random_polygons
    rng = np.random.default_rng(11)
    polys = random_polygons(rng, 300, 480, 640, n_points=(3, 60), outside=0.2)
    segs = [[p] if i % 4 else [p, polys[(i + 7) % 300]] for i, p in enumerate(polys)]
    segs += [[[1, 2, 3, 4]], [[1, 2, 3, 4], [5, 6, 7, 8, 9, 10]], [[1, 2, 3, 4, 5, 6], []], [[]], [],
             [[1, 2, 3, 4, 5, 6, 7]], [[-0.0, 5, 2e8 - 1, -2e8 + 1, 3, 3]], [[1, 2, 3, 4, 5, 2e8]],
             [[1, 2, 3, 4, 5, float("nan")]], [[1, 2, 3, 4, 5, float("inf")]], [[1e2, 2.5e1, 3, 4, 5, 6]],
             [[float(v) for v in range(2048)]], [[float(v) for v in range(2050)]],
             [[1, 2, 3, 4, 5, 6], [float(v) for v in range(2050)]],
             {"size": [4, 4], "counts": "04"}, {"size": [2, 2], "counts": [0, 4]}]
    recs = [{"image_id": 1, "category_id": 1, "segmentation": s, "score": 0.5} for s in segs]
    data = json.dumps(recs).replace(", ", ",\n ", 50).encode()     # some other whitespace
    g = _core.parse_results_json(data, geometry=True, num_threads=threads, _min_part_bytes=1 << 12)
    want = np.array([_vertex_box(s) for s in segs])
    np.testing.assert_array_equal(g["seg_bound"], want)
    assert np.isfinite(want[:300]).all() and np.isnan(want[300:, 0]).sum() == 11


def test_lazy_polygon_set_from_scan_bounds_equals_reading_them():
    """Given the scan's vertex boxes, the lazy set reads no polygon's text, and is the
    set made by reading them: the same rows, boxes, NaN areas and decoded counts."""
    from fastap import _core
    from fastap.synthetic import random_polygons
    rng = np.random.default_rng(5)
    h, w = 61, 47
    polys = random_polygons(rng, 200, h, w, n_points=(3, 40), outside=0.3)
    segs = [[p] if i % 5 else [p, polys[(i + 1) % 200]] for i, p in enumerate(polys)]
    segs += [[[5.5, 5.5] * 3], [[-9, -9, -3, -9, -3, -2]], [[1, 2, 3, 4]], [[float(v) for v in range(3000)]]]
    data = _poly_text(segs)
    g = _core.parse_results_json(data, geometry=True)
    n = len(segs)
    hh, ww = np.full(n, h, np.int64), np.full(n, w, np.int64)
    read = _core.rle_set_from_spans(data, g["seg_span"], hh, ww, lazy=True, exact=False)
    given = _core.rle_set_from_spans(data, g["seg_span"], hh, ww, lazy=True, exact=False, poly_bound=g["seg_bound"])
    assert set(read) == set(given)
    for k in read:
        if isinstance(read[k], np.ndarray):
            np.testing.assert_array_equal(read[k], given[k], err_msg=k)
    for i in range(n):
        assert np.array_equal(_core.rle_set_counts(read, i), _core.rle_set_counts(given, i)), i
    # the bounds are taken as given (their text is not read): a wrong bound shows
    moved = g["seg_bound"].copy()
    moved[0] += 5
    assert _core.rle_set_from_spans(data, g["seg_span"], hh, ww, lazy=True, exact=False,
                                    poly_bound=moved)["bbox"][0, 0] == read["bbox"][0, 0] + 5
    for bad in (g["seg_bound"][:-1], np.where(np.arange(n)[:, None] == 3, [9, 0, 1, 1], g["seg_bound"]),
                np.where(np.arange(n)[:, None] == 3, [0, 0, 3e8, 1], g["seg_bound"])):
        with pytest.raises(ValueError, match="poly_bound should"):
            _core.rle_set_from_spans(data, g["seg_span"], hh, ww, lazy=True, exact=False, poly_bound=bad)


@pytest.mark.parametrize("seg,match", [
    ([], "an empty polygon list"),
    ([[1, 2]], "a polygon needs at least 3 points"),
    ([[1, 2, 3e8, 4, 5, 6]], "polygon coordinates must be finite numbers within"),
    ([[1, 2, 3, 4, 5, 6]], "polygons need the image's height"),
])
def test_evaluation_of_scanned_polygons_raises_as_before(tmp_path, seg, match):
    """A results file whose polygons the scan bounded or left alone: a bad one is still
    refused when evaluated, naming the file's record and the field."""
    ds = {"images": [{"id": 1, "height": 20, "width": 20}, {"id": 2}],
          "categories": [{"id": 1, "name": "a"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "area": 25,
                           "iscrowd": 0, "segmentation": [[1, 1, 6, 1, 6, 6, 1, 6]]}]}
    res = [{"image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.9, "segmentation": [[1, 1, 6, 1, 4, 5]]},
           {"image_id": 2 if "height" in match else 1, "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.8,
            "segmentation": seg}]
    g, d = _sources(tmp_path, ds, res, "bad")
    with quiet():
        gt = fastap.COCO(g)
        dt = gt.loadRes(d)
        ev = fastap.COCOeval(gt, dt, "segm")
        with pytest.raises(fastap.errors.InvalidAnnotationError, match="results record 1: segmentation") as e:
            ev.evaluate()
    assert match in str(e.value)


def test_reports_of_polygon_results_from_file_equal_from_list(tmp_path):
    """An evaluation of polygon results read from a file does not hold their lazily made
    mask set for the reports (it is made again when a report asks): the confusion matrix
    and the error analysis equal those of the same results given as a list."""
    ds, res = _data(4, with_bbox=True, n_images=30, dets=40)
    g, d = _sources(tmp_path, ds, res, "rep")
    ev_file, _ = _run(fastap.COCO, fastap.COCOeval, g, d)
    remade = ev_file._pass.tables.core.extra["pair_iou"].args[1]
    assert isinstance(remade, fastap.geometry._Remade) and remade._rles is None     # not held
    ev_list, _ = _run(fastap.COCO, fastap.COCOeval, ds, res)
    for thr, conf in ((0.5, 0.05), (0.75, 0.3)):
        np.testing.assert_array_equal(ev_file.confusion_matrix(thr, conf).matrix,
                                      ev_list.confusion_matrix(thr, conf).matrix)
    ea_f, ea_l = ev_file.error_analysis(), ev_list.error_analysis()
    np.testing.assert_array_equal(ea_f.dt_error, ea_l.dt_error)
    assert remade._rles is not None


def test_lazy_polygon_objects_equal_rasterised():
    """Polygons given as Python lists (loadRes of a list, box branch) are packed and
    bounded, not rasterised: each decodes to the counts the general path rasterises,
    within a box that holds the mask's; what they cannot hold (boxes, RLE, NumPy arrays,
    bools, ints past 2**53) goes through the general path as before."""
    from fastap import _core
    from fastap.synthetic import random_polygons
    rng = np.random.default_rng(9)
    h, w = 61, 47
    polys = random_polygons(rng, 150, h, w, n_points=(3, 40), outside=0.3)
    segs = [[p] if i % 5 else [p, tuple(polys[(i + 1) % 150])] for i, p in enumerate(polys)]
    segs += [[[5, 5, 9, 5, 7, 9]], ([1.5, 2, 30, 4, 20, 25],), [[1, 2, 3, 4]],          # ints, a tuple, a box
             [np.array([1.0, 2, 30, 4, 15, 25])], [[True, 2, 30, 4, 15, 25]],                  # array, bool
             [[1, 2, 30, 4.5, 15, 25, 99]], {"size": [h, w], "counts": [0, h * w]}]           # odd length, RLE
    n = len(segs)
    hh, ww = np.full(n, h, np.int64), np.full(n, w, np.int64)
    eager = _core.rle_set_from_objects(segs, hh, ww)
    lazy = _core.rle_set_from_objects(segs, hh, ww, lazy_polygons=True)
    kinds = lazy["lazy"][:, 3]
    packed = kinds == 4
    assert packed.sum() == 153 and not packed[[152, 153, 154, 156]].any()     # box, array, bool, RLE
    for i in range(n):
        assert np.array_equal(_core.rle_set_counts(eager, i), _core.rle_set_counts(lazy, i)), i
    np.testing.assert_array_equal(eager["hw"], lazy["hw"])
    nonempty = packed & (eager["area"] > 0)
    eb, lb = eager["bbox"][nonempty], lazy["bbox"][nonempty]
    assert nonempty.sum() > 100
    assert (lb[:, :2] <= eb[:, :2]).all() and (lb[:, :2] + lb[:, 2:] >= eb[:, :2] + eb[:, 2:]).all()
    assert np.isnan(lazy["area"][packed]).all()
    np.testing.assert_array_equal(lazy["area"][~packed], eager["area"][~packed])


@pytest.mark.parametrize("seg", [
    [[1, 2, float("nan"), 4, 5, 6]], [[1, 2]], [[1, 2, 3e8, 4, 5, 6]], [[1, 2, 3, 4, 5, 6], [1, 2, 3, 4]],
    [[2 ** 60, 2, 3, 4, 5, 6]], [[1, 2, 3, 4], [1, 2, 3, 4, 5, 6]], [[1, 2, 3, 4, 5, 6]]])
@pytest.mark.parametrize("size", [9, -1])
def test_lazy_polygon_objects_refused_as_rasterised(seg, size):
    """Packed polygons are checked as the general path checks them: the same error,
    naming the same record (or none)."""
    from fastap import _core
    z = np.full(2, size, np.int64)
    msgs = []
    for lazy in (False, True):
        try:
            _core.rle_set_from_objects([[[1, 1, 5, 1, 3, 4]], seg], z, z, "results", lazy_polygons=lazy)
            msgs.append(None)
        except ValueError as e:
            msgs.append(str(e))
    assert msgs[0] == msgs[1]
    if size < 0:
        assert msgs[0].startswith("results record 0: segmentation: polygons need the image's height")


def test_list_polygon_results_read_at_evaluation(tmp_path):
    """loadRes of a list (box branch): the evaluation reads the records as they are when
    it runs, without building the result dicts first -- an edit made in place after
    loadRes counts, as in pycocotools, and a record without a mask is its box's
    rectangle (warned)."""
    ds, res = _data(6, with_bbox=True, n_images=20, dets=25)
    res[3]["segmentation"] = [[1, 1, 200, 1, 200, 150, 1, 150]]
    del res[5]["segmentation"]
    edited = copy.deepcopy(res)
    edited[7]["segmentation"] = [[3, 3, 90, 4, 60, 70]]
    with quiet():
        gt = fastap.COCO()
        gt.dataset = copy.deepcopy(ds)
        gt.createIndex()
        mine = copy.deepcopy(res)
        dt = gt.loadRes(mine)
        mine[7]["segmentation"] = [[3, 3, 90, 4, 60, 70]]           # after loadRes, in place
        ev = fastap.COCOeval(gt, dt, "segm")
        with pytest.warns(fastap.errors.BoxesAsMasksWarning, match=r"1 of \d+ results have no 'segmentation'"):
            ev.evaluate()
        ev.accumulate()
        ev.summarize()
        assert dt._pending is not None                            # the dicts were not built
    ref, _ = _run(PC, PE, ds, edited)
    assert_same_eval(ref, ev)

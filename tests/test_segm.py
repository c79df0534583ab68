"""iouType="segm": mask IoU and the whole evaluation bit-identical to pycocotools on
generated masks (polygon and multi-polygon ground truth, crowds as uncompressed RLE,
compressed-RLE results, polygons reaching outside the image, one-pixel objects), from
dicts and from files, plus the array API and the error cases."""
import copy
import json

import numpy as np
import pytest

import fastap
from fastap.synthetic import make_segm_coco

from conftest import (assert_same_eval, assert_same_evalimgs_and_ious, compare_with_pycocotools,
                      evaluate_from_file_twice, quiet,
                      run_fastap, run_pycocotools)

pytest.importorskip("pycocotools")


def _compare(ds, res, set_params=None):
    return compare_with_pycocotools(ds, res, "segm", set_params)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("edge_cases", [False, True])
def test_segm_parity(seed, edge_cases):
    ds, res = make_segm_coco(seed, n_images=30, dets_per_image=30, edge_cases=edge_cases)
    ref, ev = _compare(ds, res)
    assert ev.stats[0] > 0.05


def test_segm_results_with_bbox_take_the_box_branch():
    """Results with a bbox (detectron2's output) get area = w*h in pycocotools' loadRes,
    which decides the area-range ignore of unmatched detections."""
    ds, res = make_segm_coco(4, n_images=30, dets_per_image=30, edge_cases=True, with_bbox=True)
    _compare(ds, res)


def test_segm_ious_and_evalimgs_equal_pycocotools():
    ds, res = make_segm_coco(5, n_images=15, dets_per_image=20, edge_cases=True)
    ref, ev = _compare(ds, res)
    assert_same_evalimgs_and_ious(ref, ev)


@pytest.mark.parametrize("case", ["nocats", "maxdets", "iouthrs"])
def test_segm_custom_params(case):
    ds, res = make_segm_coco(6, n_images=20, dets_per_image=40, edge_cases=True)

    def setp(p):
        if case == "nocats":
            p.useCats = 0
        elif case == "maxdets":
            p.maxDets = [1, 5, 30]
        else:
            p.iouThrs = np.array([0.1, 0.5, 0.99])
    ref, _ = run_pycocotools(ds, res, setp, iou_type="segm")
    ev, _ = run_fastap(ds, res, setp, iou_type="segm")
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(ref.eval[key], ev.eval[key]), key


def test_segm_threads_agree(num_threads):
    ds, res = make_segm_coco(8, n_images=30, dets_per_image=30)
    ref, _ = run_fastap(ds, res, iou_type="segm", num_threads=1)
    ev, _ = run_fastap(ds, res, iou_type="segm", num_threads=num_threads)
    assert_same_eval(ref, ev)


@pytest.mark.parametrize("with_bbox", [False, True])
def test_segm_from_files(tmp_path, with_bbox):
    """Files take the C scanner's path (masks converted from the text, no dicts); the
    numbers equal pycocotools' on the same files, and the result dicts built on demand
    have pycocotools' area, bbox and id."""
    from pycocotools.coco import COCO as PC
    from pycocotools.cocoeval import COCOeval as PE
    ds, res = make_segm_coco(9, n_images=25, dets_per_image=30, edge_cases=True, with_bbox=with_bbox)
    g, d = tmp_path / "gt.json", tmp_path / "dt.json"
    g.write_text(json.dumps(ds))
    d.write_text(json.dumps(res))
    out = []
    for C, E in ((PC, PE), (fastap.COCO, fastap.COCOeval)):
        with quiet():
            gt = C(str(g))
            dt = gt.loadRes(str(d))
            ev = E(gt, dt, "segm")
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        out.append((ev, dt))
    assert_same_eval(out[0][0], out[1][0])
    a, b = out[0][1].dataset["annotations"], out[1][1].dataset["annotations"]
    for x, y in zip(a, b):
        assert list(np.asarray(x["bbox"], dtype=float)) == list(np.asarray(y["bbox"], dtype=float))
        assert float(x["area"]) == float(y["area"]) and x["id"] == y["id"]


def test_segm_array_api():
    ds, res = make_segm_coco(10, n_images=20, dets_per_image=20, edge_cases=True)
    ref, _ = run_pycocotools(ds, res, iou_type="segm")
    A = ds["annotations"]
    gt = {k: [a[k] for a in A] for k in ("id", "image_id", "category_id", "bbox", "area", "iscrowd", "segmentation")}
    dt = {k: [r[k] for r in res] for k in ("image_id", "category_id", "score", "segmentation")}
    sizes = {im["id"]: (im["height"], im["width"]) for im in ds["images"]}
    r = fastap.evaluate(gt, dt, iou_type="segm", image_sizes=sizes, img_ids=[im["id"] for im in ds["images"]],
                        cat_ids=[c["id"] for c in ds["categories"]])
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(ref.eval[key], getattr(r, key)), key


def _eval(ds, res):
    with quiet():
        g = fastap.COCO()
        g.dataset = copy.deepcopy(ds)
        g.createIndex()
        d = g.loadRes(copy.deepcopy(res))
        ev = fastap.COCOeval(g, d, "segm")
        ev.evaluate()
    return ev


@pytest.mark.parametrize("mutate,match", [
    (lambda ds, res: res[2]["segmentation"].update(counts="\x7f\x7f"), r"results record 2: segmentation"),
    (lambda ds, res: res[1]["segmentation"].update(size=[10, 10]), r"results record 1: segmentation"),
    (lambda ds, res: res[3]["segmentation"].update(counts=res[3]["segmentation"]["counts"][:-3]),
     r"results record 3: segmentation"),
    (lambda ds, res: ds["annotations"][4].update(segmentation=[]), r"annotations record 4: segmentation: an empty polygon"),
    (lambda ds, res: ds["annotations"][5].update(segmentation=[[1, 2]]), r"annotations record 5: segmentation: a polygon"),
    (lambda ds, res: ds["annotations"][0].update(segmentation={"size": [480, 640], "counts": [5, -1]}),
     r"annotations record 0: segmentation: uncompressed RLE counts"),
])
def test_segm_bad_masks(mutate, match):
    ds, res = make_segm_coco(1, n_images=5, dets_per_image=5)
    ds, res = copy.deepcopy(ds), copy.deepcopy(res)
    mutate(ds, res)
    with pytest.raises(fastap.InvalidAnnotationError, match=match):
        _eval(ds, res)


def test_segm_file_errors(tmp_path):
    """From a file (the C scanner's path), a bad or missing mask is named by record."""
    ds, res = make_segm_coco(3, n_images=5, dets_per_image=5)
    g = tmp_path / "gt.json"
    g.write_text(json.dumps(ds))
    cases = ((2, lambda r: r["segmentation"].update(counts="\x7f\x7f"), r"record 2: segmentation: .*character"),
             (3, lambda r: r["segmentation"].update(size=[10, 10]), r"record 3: segmentation: .*counts"),
             (4, lambda r: r.pop("segmentation"), r"record 4: missing field 'segmentation'"))
    for i, mutate, match in cases:
        bad = copy.deepcopy(res)
        mutate(bad[i])
        d = tmp_path / ("dt%d.json" % i)
        d.write_text(json.dumps(bad))
        with pytest.raises(fastap.InvalidAnnotationError, match=match):
            with quiet():
                gt = fastap.COCO(str(g))
                ev = fastap.COCOeval(gt, gt.loadRes(str(d)), "segm")
                ev.evaluate()


def test_segm_ground_truth_masks_reused(tmp_path):
    """A ground truth read from a file keeps its masks for the next evaluation (a new
    COCOeval every epoch); a changed image size, or new dicts, are taken into account."""
    ds, res = make_segm_coco(12, n_images=10, dets_per_image=10)
    with quiet():
        gt, runs = evaluate_from_file_twice(tmp_path, ds, res, "segm")
        assert "gt_rle" in gt._geom
        first = gt._geom["gt_rle"][1]
        assert_same_eval(runs[0], runs[1])
        img = next(iter(gt.imgs.values()))
        img["height"] += 10                      # polygons must be rasterised again
        ev = fastap.COCOeval(gt, gt.loadRes(copy.deepcopy(res)), "segm")
        ev.evaluate()
        assert gt._geom["gt_rle"][1] is not first
    ref, _ = run_pycocotools(ds, res, iou_type="segm")
    assert_same_eval(ref, runs[1])


def _rle_text(strings, size=(37, 23)):
    """Results-file text whose records hold these raw JSON string bodies as counts."""
    recs = ['{"image_id": 1, "category_id": 1, "segmentation": {"size": [%d, %d], "counts": "%s"}, "score": 0.5}'
            % (size[0], size[1], s) for s in strings]
    return ("[" + ", ".join(recs) + "]").encode()


def test_lazy_rle_set_equals_stored():
    """Compressed strings left in the text (lazy) give the boxes, areas and counts of the
    strings decoded up front, with the JSON escape of a backslash, with other escapes
    (read through the strict path) and with sizes 0."""
    from fastap import _core, mask
    rng = np.random.default_rng(5)
    h, w = 37, 23
    strings = []
    for k in range(300):
        m = np.asfortranarray(rng.random((h, w)) < rng.choice([0.0, 0.02, 0.3, 0.7, 1.0]))
        if k % 7 == 0:
            m[:] = 0
            m[rng.integers(h), rng.integers(w)] = 1
        s = mask.encode(m.astype(np.uint8))["counts"].decode()
        strings.append(json.dumps(s)[1:-1])                       # "\\" escapes
    strings.append(strings[5].replace("0", "\\u0030"))            # other escapes: strict path
    strings.append(next(s for s in strings if "\\\\" in s).replace("\\\\", "\\u005c"))
    data = _rle_text(strings)
    g = _core.parse_results_json(data, geometry=True)
    n = len(strings)
    sizes = np.full(n, -1, np.int64)
    stored = _core.rle_set_from_spans(data, g["seg_span"], sizes, sizes)
    assert (g["seg_rle"][:300, 0] == 37).all() and (g["seg_rle"][300:] == -1).all()
    for fields in (None, g["seg_rle"]):         # RLE objects read again, or as the scan read them
        lazy = _core.rle_set_from_spans(data, g["seg_span"], sizes, sizes, lazy=True, rle_fields=fields)
        assert "lazy" in lazy and "lazy" not in stored
        assert (lazy["lazy"][:300, 0] >= 0).all() and (lazy["lazy"][300:, 0] < 0).all()
        for key in ("hw", "bbox", "area"):
            assert np.array_equal(stored[key], lazy[key]), key
        for i in range(n):
            assert np.array_equal(_core.rle_set_counts(stored, i), _core.rle_set_counts(lazy, i)), i
    # empty images: the empty string is the one valid mask
    empty = _rle_text(["", ""], size=(0, 5))
    g = _core.parse_results_json(empty, geometry=True)
    z = np.full(2, -1, np.int64)
    st = _core.rle_set_from_spans(empty, g["seg_span"], z, z, lazy=True)
    assert np.array_equal(st["area"], [0, 0]) and st["bbox"].tolist() == [[0.0] * 4] * 2


@pytest.mark.parametrize("bad", ["\\u007f", "0\\\\", "Z", "1", "04", "\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\"])
def test_lazy_rle_errors_as_stored(bad):
    """A string that is not valid RLE gives, when left in the text, the error (message
    and record) of the strict path: bad characters, a value cut short after an escape,
    a sum that is not h * w, a value longer than 12 characters."""
    from fastap import _core
    data = _rle_text(["11", "2", bad], size=(1, 2))
    g = _core.parse_results_json(data, geometry=True)
    z = np.full(3, -1, np.int64)
    msgs = []
    for lazy, fields in ((False, None), (True, None), (True, g["seg_rle"])):
        with pytest.raises(ValueError) as e:
            _core.rle_set_from_spans(data, g["seg_span"], z, z, "results", lazy=lazy, rle_fields=fields)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1] == msgs[2] and msgs[0].startswith("results record 2: segmentation")


def test_image_sizes_lookup_table_equals_per_image_lookup():
    """Many records on few images take a lookup table: the same sizes as looking every
    id up in the images, with unknown, negative and out-of-range ids and images
    without a size giving -1."""
    from fastap.geometry import _image_sizes
    rng = np.random.default_rng(4)
    imgs = {i: {"height": 100 + i % 7, "width": 200 + i % 5} for i in range(0, 300, 2)}
    imgs[4] = {"id": 4}
    ids = rng.integers(-5, 320, 5000)
    h, w = _image_sizes(ids, imgs)
    want_h = [imgs.get(int(i), {}).get("height", -1) for i in ids]
    want_w = [imgs.get(int(i), {}).get("width", -1) for i in ids]
    assert h.tolist() == want_h and w.tolist() == want_w
    h2, w2 = _image_sizes(ids[:10], imgs)                      # few records: the per-image path
    assert h2.tolist() == want_h[:10] and w2.tolist() == want_w[:10]


def test_lazy_rle_object_forms():
    """RLE objects in other shapes than {"size": [h, w], "counts": "..."} (keys in the
    other order, whitespace, another key, sizes written as floats, repeated keys) give the same set, lazy or not, as the full parser reads them."""
    from fastap import _core, mask
    m = np.zeros((6, 4), np.uint8, order="F")
    m[1:4, 1:3] = 1
    c = json.dumps(mask.encode(m)["counts"].decode())
    forms = ['{"size": [6, 4], "counts": %s}' % c,
             '{"counts": %s, "size": [6, 4]}' % c,
             '{ "size" :[ 6 ,4 ] ,\n "counts" : %s }' % c,
             '{"size": [6, 4], "counts": %s, "extra": [1, {"a": "}"}]}' % c,
             '{"size": [6.0, 4.0], "counts": %s}' % c,
             '{"size": [6, 4], "counts": "0", "counts": %s}' % c]
    recs = ['{"image_id": 1, "category_id": 1, "segmentation": %s, "score": 0.5}' % f for f in forms]
    data = ("[" + ", ".join(recs) + "]").encode()
    g = _core.parse_results_json(data, geometry=True)
    z = np.full(len(forms), -1, np.int64)
    stored = _core.rle_set_from_spans(data, g["seg_span"], z, z)
    for fields in (None, g["seg_rle"]):
        lazy = _core.rle_set_from_spans(data, g["seg_span"], z, z, lazy=True, rle_fields=fields)
        for key in ("hw", "bbox", "area"):
            assert np.array_equal(stored[key], lazy[key]), key
        for i in range(len(forms)):
            assert np.array_equal(_core.rle_set_counts(stored, i), _core.rle_set_counts(lazy, i)), i
    assert stored["area"].tolist() == [6.0] * len(forms)
    # the scan reads the objects it can (any key order, whitespace, float sizes); the
    # others (another key, a repeated key) are left to the readers, marked -1
    sr = g["seg_rle"]
    assert (sr[[0, 1, 2, 4], :2] == [6, 4]).all() and (sr[[3, 5]] == -1).all()
    for i in (0, 1, 2, 4):
        s0 = g["seg_span"][i, 0] + sr[i, 2]
        assert data[s0:s0 + sr[i, 3]] == c[1:-1].encode() and sr[i, 4] == ("\\" in c)


def test_scan_reads_rle_objects_as_valid_json_only():
    """A counts string with a control character or a non-ASCII byte is not read by the
    scan's RLE shortcut: the scanner's own checks give their errors (control character)
    or accept it (UTF-8) for the mask readers to reject, as without the shortcut; bad
    rle_fields are refused."""
    from fastap import _core
    bad = b'[{"image_id": 1, "category_id": 1, "segmentation": {"size": [1, 2], "counts": "1\x011"}, "score": 1}]'
    with pytest.raises(ValueError, match="control character"):
        _core.parse_results_json(bad, geometry=True)
    utf = '[{"image_id": 1, "category_id": 1, "segmentation": {"size": [1, 2], "counts": "1\u00e91"}, "score": 1}]'
    data = utf.encode("utf-8")
    g = _core.parse_results_json(data, geometry=True)
    assert (g["seg_rle"] == -1).all()
    z = np.full(1, -1, np.int64)
    with pytest.raises(ValueError, match="results record 0: segmentation"):
        _core.rle_set_from_spans(data, g["seg_span"], z, z, "results", lazy=True, rle_fields=g["seg_rle"])
    ok = b'[{"image_id": 1, "category_id": 1, "segmentation": {"size": [1, 2], "counts": "11"}, "score": 1}]'
    g = _core.parse_results_json(ok, geometry=True)
    wrong = g["seg_rle"].copy()
    wrong[0, 3] = 10 ** 6                        # past the span: refused before any C reads it
    with pytest.raises(ValueError, match="rle_fields"):
        _core.rle_set_from_spans(ok, g["seg_span"], z, z, lazy=True, rle_fields=wrong)


@pytest.mark.parametrize("many", [False, True])
def test_image_sizes_for_polygons(many):
    """The sizes polygons are rasterised at, per record: plain int sizes in one pass,
    anything else one by one -- the same sizes (-1 for an unknown image or one without a
    size), and an error naming the image and the field for a size that is no integer in
    [0, 2**31 - 1]."""
    from fastap.errors import InvalidAnnotationError
    from fastap.geometry import _image_sizes
    imgs = {i: {"id": i, "height": 10 + i, "width": 20 + i} for i in range(50)}
    imgs[7] = {"id": 7}                                        # no size
    ids = np.array([3, 7, 60, 0, 49, 3] * (40 if many else 1))  # 60: not an image
    want_h = np.array([13, -1, -1, 10, 59, 13] * (40 if many else 1))
    h, w = _image_sizes(ids, imgs)
    np.testing.assert_array_equal(h, want_h)
    np.testing.assert_array_equal(w, np.where(want_h < 0, -1, want_h + 10))
    imgs[3] = {"id": 3, "height": np.int64(13), "width": 23.0}  # not plain ints: read one by one
    h2, w2 = _image_sizes(ids, imgs)
    np.testing.assert_array_equal(h2, h)
    np.testing.assert_array_equal(w2, w)
    for bad in (True, -1, 2 ** 31, "13", 13.5, None):
        imgs[3] = {"id": 3, "height": bad, "width": 23}
        with pytest.raises(InvalidAnnotationError, match=r"image 3: field 'height' should be an integer in \[0, "):
            _image_sizes(ids, imgs)

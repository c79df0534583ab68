"""YOLO txt and PASCAL VOC readers (fastap.formats): hand-checkable cases, the published
VOC numbers of the realdata VOC cases read back from YOLO/VOC fixtures, the same COCO
arrays as pycocotools on the equivalent COCO JSON, and every malformed input."""
import json
import os
import sys

import numpy as np
import pytest

import fastap
from fastap import formats, synthetic
from fastap.errors import InvalidAnnotationError, InvalidFileError

from conftest import DATA, REALDATA, run_pycocotools

F = os.path.join(DATA, "formats")
ODM_YOLO, ODM_VOC = os.path.join(F, "odm7_yolo"), os.path.join(F, "odm7_voc")
TOY_YOLO, TOY_VOC = os.path.join(F, "toy_yolo"), os.path.join(F, "toy_voc")

ODM_PUBLISHED = [(0.1, 0.3371980676, 0.3333333333), (0.3, 0.2456866804, 0.2683982683),
                 (0.5, 0.0222222222, 0.0303030303), (0.75, 0.0, 0.0)]
TOY_PUBLISHED = [(0.5, 0.8864, 0.8958), (0.75, 0.4924, 0.5097)]


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def _coco_from_columns(gt, dt):
    """A COCO dataset dict and results list holding exactly the boxes of the columns."""
    sizes = gt.image_sizes if gt.image_sizes is not None else np.ones((len(gt.images), 2), np.int64)
    dataset = {"images": [{"id": i, "width": int(w), "height": int(h), "file_name": s + ".jpg"}
                          for i, (s, (w, h)) in enumerate(zip(gt.images, sizes.tolist()))],
               "categories": [{"id": int(c)} for c in np.unique(np.concatenate([gt["category_id"],
                                                                               dt["category_id"]]))],
               "annotations": [{"id": k + 1, "image_id": int(i), "category_id": int(c), "bbox": b,
                                "area": b[2] * b[3], "iscrowd": 0}
                               for k, (i, c, b) in enumerate(zip(gt["image_id"].tolist(),
                                                                 gt["category_id"].tolist(),
                                                                 gt["bbox"].tolist()))]}
    results = [{"image_id": int(i), "category_id": int(c), "bbox": b, "score": s}
               for i, c, b, s in zip(dt["image_id"].tolist(), dt["category_id"].tolist(), dt["bbox"].tolist(),
                                     dt["score"].tolist())]
    return dataset, results


def _assert_same_as_pycocotools(gt, dt):
    pytest.importorskip("pycocotools")
    dataset, results = _coco_from_columns(gt, dt)
    ref, _ = run_pycocotools(dataset, results)
    res = fastap.evaluate(gt, dt, img_ids=gt.image_ids)
    for k in ("precision", "recall", "scores"):
        assert np.array_equal(ref.eval[k], getattr(res, k)), k
    assert np.array_equal(ref.stats, res.stats)
    return res


# ----------------------------------------------------------------------------- YOLO

def test_yolo_hand_checked(tmp_path):
    _write(str(tmp_path / "gt" / "a.txt"), "0 0.5 0.5 0.2 0.4\n\n1 0.25 0.75 0.5 0.5")   # blank line, no final \n
    _write(str(tmp_path / "gt" / "b.txt"), "")                                          # an image without objects
    _write(str(tmp_path / "pr" / "a.txt"), "0 0.5 0.5 0.2 0.4 0.9\r\n1 0.25 0.75 0.5 0.5 0.5  \n")
    sizes = {"a.jpg": [100, 50], "b": [10, 10], "c": [20, 20]}          # c: no label file
    gt = formats.read_yolo(str(tmp_path / "gt"), image_sizes=sizes)
    assert gt.images == ["a", "b", "c"] and gt.image_sizes.tolist() == [[100, 50], [10, 10], [20, 20]]
    assert gt["image_id"].tolist() == [0, 0] and gt["category_id"].tolist() == [0, 1]
    # x1 = 100 * (0.5 - 0.1) = 40, y1 = 50 * (0.5 - 0.2) = 15, x2 = 60, y2 = 35
    assert gt["bbox"].tolist() == [[40.0, 15.0, 20.0, 20.0], [0.0, 25.0, 50.0, 25.0]]
    assert gt["bbox"].dtype == np.float64 and gt["iscrowd"].tolist() == [0, 0]
    dt = formats.read_yolo(str(tmp_path / "pr"), predictions=True, images=gt)
    assert dt.images == gt.images and dt["score"].tolist() == [0.9, 0.5]
    assert np.array_equal(dt["bbox"], gt["bbox"])
    res = _assert_same_as_pycocotools(gt, dt)
    assert res.map == pytest.approx(1.0, abs=1e-15)     # pycocotools' eps in tp / (tp + fp + eps)
    assert fastap.evaluate(gt, dt, protocol="voc").map == 1.0


def test_yolo_empty_folders(tmp_path):
    (tmp_path / "l").mkdir()
    gt = formats.read_yolo(str(tmp_path / "l"))
    dt = formats.read_yolo(str(tmp_path / "l"), predictions=True, images=gt)
    assert gt.images == [] and gt["bbox"].shape == (0, 4) and dt["score"].shape == (0,)


def test_yolo_formula_is_ultralytics_xywhn2xyxy():
    rng = np.random.default_rng(0)
    v = rng.random((200, 4)) * 0.5 + 0.25
    W, H = 1333.0, 751.0
    with_file = {"x": [W, H]}
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        _write(os.path.join(d, "x.txt"), "".join("3 %r %r %r %r\n" % tuple(r) for r in v.tolist()))
        gt = formats.read_yolo(d, image_sizes=with_file)
    x1, y1 = W * (v[:, 0] - v[:, 2] / 2), H * (v[:, 1] - v[:, 3] / 2)
    x2, y2 = W * (v[:, 0] + v[:, 2] / 2), H * (v[:, 1] + v[:, 3] / 2)
    assert np.array_equal(gt["bbox"], np.stack([x1, y1, x2 - x1, y2 - y1], axis=1))


@pytest.mark.parametrize("size,exact", [((512, 256), True), ((640, 480), False)])
def test_yolo_round_trip_and_pycocotools(tmp_path, size, exact):
    images, cats, g, d = synthetic.make_arrays(n_images=40, n_categories=4, seed=3, box_decimals=0,
                                               image_size=size, dets_per_image=15)
    W, H = size
    stems = ["img%03d" % i for i in range(len(images))]
    pos = {int(v): k for k, v in enumerate(images.tolist())}
    cls = {int(c): k for k, c in enumerate(cats.tolist())}

    def conv(c):
        b = c["bbox"].copy()
        b[:, 0] = np.clip(b[:, 0], 0, W - 1)
        b[:, 1] = np.clip(b[:, 1], 0, H - 1)
        b[:, 2] = np.minimum(b[:, 2], W - b[:, 0])
        b[:, 3] = np.minimum(b[:, 3], H - b[:, 1])
        out = {"image_id": np.array([pos[int(i)] for i in c["image_id"]]),
               "category_id": np.array([cls[int(k)] for k in c["category_id"]]), "bbox": b}
        if "score" in c:
            out["score"] = c["score"]
        return out
    g, d = conv(g), conv(d)
    sizes = [size] * len(stems)
    synthetic.write_yolo_labels(str(tmp_path / "labels"), g, stems, sizes)
    synthetic.write_yolo_labels(str(tmp_path / "preds"), d, stems, sizes)
    gt = formats.read_yolo(str(tmp_path / "labels"), image_sizes=dict(zip(stems, sizes)))
    dt = formats.read_yolo(str(tmp_path / "preds"), predictions=True, images=gt)
    order_g = np.argsort(g["image_id"], kind="stable")
    order_d = np.argsort(d["image_id"], kind="stable")
    if exact:   # power-of-two sizes, whole pixels: bit-exact round trip
        assert np.array_equal(gt["bbox"], g["bbox"][order_g])
        assert np.array_equal(dt["bbox"], d["bbox"][order_d])
    else:
        assert np.allclose(gt["bbox"], g["bbox"][order_g], rtol=0, atol=1e-9)
        assert np.allclose(dt["bbox"], d["bbox"][order_d], rtol=0, atol=1e-9)
    assert np.array_equal(dt["score"], d["score"][order_d])
    assert np.array_equal(gt["category_id"], g["category_id"][order_g])
    _assert_same_as_pycocotools(gt, dt)


def _odm_yolo(**kw):
    gt = formats.read_yolo(os.path.join(ODM_YOLO, "labels"), class_names=os.path.join(ODM_YOLO, "classes.txt"),
                           **kw)
    return gt, formats.read_yolo(os.path.join(ODM_YOLO, "predictions"), predictions=True, images=gt)


def _odm_voc():
    gt = formats.read_voc_xml(os.path.join(ODM_VOC, "Annotations"))
    return gt, formats.read_voc_results(os.path.join(ODM_VOC, "results"), gt)


def _odm_original():
    """The realdata case's own txt files (x y w h in pixels), as columns."""
    sys.path.insert(0, F)
    try:
        import make_fixtures
    finally:
        sys.path.pop(0)
    return make_fixtures.odm_sample()


@pytest.mark.parametrize("reader", ["yolo_sizes", "yolo_images", "voc"])
def test_odm_sample_published_voc_numbers(reader):
    if reader == "voc":
        gt, dt = _odm_voc()
    elif reader == "yolo_images":
        gt, dt = _odm_yolo(images_dir=os.path.join(ODM_YOLO, "images"))
    else:
        gt, dt = _odm_yolo(image_sizes=os.path.join(ODM_YOLO, "image_sizes.json"))
    assert gt.class_names == ["person"] and gt.image_sizes.tolist() == [[256, 256]] * 7
    assert len(gt["bbox"]) == 15 and len(dt["bbox"]) == 24
    stems, og, od = _odm_original()
    assert gt.images == stems
    assert np.array_equal(gt["bbox"], np.asarray(og["bbox"]))      # exact: 256 x 256 images
    assert np.array_equal(dt["bbox"], np.asarray(od["bbox"]))
    for thr, all_point, eleven in ODM_PUBLISHED:
        assert fastap.evaluate(gt, dt, protocol="voc", iou_threshold=thr).map == pytest.approx(all_point, abs=1e-9)
        assert fastap.evaluate(gt, dt, protocol="voc07", iou_threshold=thr).map == pytest.approx(eleven, abs=1e-9)
    res = _assert_same_as_pycocotools(gt, dt)
    exp = json.load(open(os.path.join(REALDATA, "odm_voc_sample_7img", "expected.json")))["evals"]["bbox"]
    assert res.stats.tolist() == exp["stats"]


def _toy(reader):
    if reader == "voc":
        gt = formats.read_voc_xml(os.path.join(TOY_VOC, "Annotations"))
        return gt, formats.read_voc_results(os.path.join(TOY_VOC, "results"), gt)
    gt = formats.read_yolo(os.path.join(TOY_YOLO, "labels"), image_sizes=os.path.join(TOY_YOLO, "image_sizes.csv"),
                           class_names=os.path.join(TOY_YOLO, "data.yaml"))
    return gt, formats.read_yolo(os.path.join(TOY_YOLO, "predictions"), predictions=True, images=gt)


@pytest.mark.parametrize("reader", ["yolo", "voc"])
def test_toy_example_published_voc_numbers(reader):
    gt, dt = _toy(reader)
    assert gt.class_names == ["cat"] and len(gt.images) == 10 and len(gt["bbox"]) == 12 and len(dt["bbox"]) == 12
    for thr, eleven, all_point in TOY_PUBLISHED:
        assert fastap.evaluate(gt, dt, protocol="voc07", iou_threshold=thr).map == pytest.approx(eleven, abs=5e-5)
        assert fastap.evaluate(gt, dt, protocol="voc", iou_threshold=thr).map == pytest.approx(all_point, abs=5e-5)


@pytest.mark.parametrize("reader", ["yolo", "voc"])
def test_toy_example_same_arrays_as_coco_json(reader):
    """The readers' columns against the case's COCO JSON (same boxes; YOLO to 1e-12
    pixel), and evaluate() against pycocotools on the JSON itself, with the annotation
    ids renumbered 1..G (pycocotools counts a match to id 0 as unmatched, and the JSON
    starts at 0)."""
    pytest.importorskip("pycocotools")
    gt, dt = _toy(reader)
    d = os.path.join(REALDATA, "review_odm_toyexample_voc")
    g = json.load(open(os.path.join(d, "toy_example_coco.json")))
    t = json.load(open(os.path.join(d, "coco_dets.json")))["annotations"]
    stem_of = {im["id"]: os.path.splitext(im["file_name"])[0] for im in g["images"]}
    want = sorted((gt.images.index(stem_of[a["image_id"]]), k, a["bbox"]) for k, a in enumerate(g["annotations"]))
    assert gt["image_id"].tolist() == [w[0] for w in want]
    assert np.allclose(gt["bbox"], [w[2] for w in want], rtol=0, atol=1e-12)
    if reader == "voc":
        assert np.array_equal(gt["bbox"], np.array([w[2] for w in want]))
    for k, a in enumerate(g["annotations"]):
        a["id"] = k + 1
    for im in g["images"]:
        im["id"] = gt.images.index(stem_of[im["id"]])
    for a in g["annotations"]:
        a["image_id"] = gt.images.index(stem_of[a["image_id"]])
    results = [{"image_id": gt.images.index(stem_of[a["image_id"]]), "category_id": 0, "bbox": a["bbox"],
                "score": a["score"]} for a in t]
    ref, _ = run_pycocotools(g, results)
    res = fastap.evaluate(gt, dt, img_ids=gt.image_ids)
    for k in ("precision", "recall", "scores"):
        assert np.array_equal(ref.eval[k], getattr(res, k)), k
    _assert_same_as_pycocotools(gt, dt)


def test_voc_difficult_is_ignore(tmp_path):
    gt = {"image_id": [0, 0], "category_id": [1, 0], "bbox": [[0, 0, 10, 10], [50, 50, 10, 10]], "ignore": [0, 1]}
    synthetic.write_voc_xml(str(tmp_path / "A"), gt, ["im"], [(100, 100)], ["bird", "cat"])
    dt = {"image_id": [0, 0], "category_id": [1, 0], "bbox": [[0, 0, 10, 10], [50, 50, 10, 10]], "score": [0.9, 0.8]}
    synthetic.write_voc_results(str(tmp_path / "R"), dt, ["im"], ["bird", "cat"])
    g = formats.read_voc_xml(str(tmp_path / "A"))
    assert g.class_names == ["bird", "cat"] and g["ignore"].tolist() == [0, 1] and g["iscrowd"].tolist() == [0, 0]
    assert g["bbox"].tolist() == [[0, 0, 10, 10], [50, 50, 10, 10]] and g.image_sizes.tolist() == [[100, 100]]
    d = formats.read_voc_results(str(tmp_path / "R"), g)
    assert d["category_id"].tolist() == [0, 1] and d["score"].tolist() == [0.8, 0.9]   # files in class order
    r = fastap.evaluate(g, d, protocol="voc")
    assert r.n_pos.tolist() == [0, 1] and r.map == 1.0
    # a file named <class>.txt works too; with names given, their order gives the ids
    g2 = formats.read_voc_xml([str(tmp_path / "A" / "im.xml")], class_names=["cat", "bird"])
    assert g2["category_id"].tolist() == [0, 1]
    os.rename(str(tmp_path / "R" / "comp4_det_test_cat.txt"), str(tmp_path / "cat.txt"))
    d2 = formats.read_voc_results(str(tmp_path / "cat.txt"), g2)
    assert d2["category_id"].tolist() == [0] and d2["image_id"].tolist() == [0]


# ----------------------------------------------------------------------------- names, sizes, headers

@pytest.mark.parametrize("text", ["names: ['a', \"b c\", d]\n", "nc: 3\nnames:\n  - a\n  - b c\n  - d\nval: x\n",
                                  "names:\n  0: a\n  1: 'b c'\n  2: d\n"])
@pytest.mark.parametrize("with_yaml", [True, False])
def test_data_yaml_names(tmp_path, monkeypatch, text, with_yaml):
    if with_yaml:
        pytest.importorskip("yaml")
    else:
        monkeypatch.setitem(sys.modules, "yaml", None)
    p = _write(str(tmp_path / "data.yaml"), "path: /x\n" + text)
    assert formats.read_class_names(p) == ["a", "b c", "d"]


def test_image_size_files(tmp_path):
    want = {"a": (10, 20), "b": (30, 40)}
    p = _write(str(tmp_path / "s.json"), json.dumps({"a.png": [10, 20], "b": [30, 40]}))
    assert formats.read_image_sizes(p) == want
    p = _write(str(tmp_path / "c.json"), json.dumps({"images": [{"id": 1, "file_name": "x/a.jpg", "width": 10,
                                                                 "height": 20},
                                                                {"id": 2, "file_name": "b.jpg", "width": 30,
                                                                 "height": 40}]}))
    assert formats.read_image_sizes(p) == want
    p = _write(str(tmp_path / "s.csv"), "file,width,height\na.jpg,10,20\nb 30 40\n")
    assert formats.read_image_sizes(p) == {"a": (10.0, 20.0), "b": (30.0, 40.0)}


def test_image_headers_against_pillow(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    cases = [("a.png", (37, 21), {}), ("b.jpg", (64, 48), {}), ("c.gif", (5, 9), {}), ("d.bmp", (17, 3), {}),
             ("e.webp", (33, 44), {}), ("f.webp", (31, 7), {"lossless": True}), ("g.jpg", (40, 30), "exif6"),
             ("h.png", (1, 1), {}), ("i.tiff", (12, 13), {})]
    for name, size, kw in cases:
        im = Image.new("RGB", size, (10, 200, 30))
        if kw == "exif6":
            ex = Image.Exif()
            ex[0x0112] = 6
            im.save(str(tmp_path / name), exif=ex)
            want = (size[1], size[0])            # rotated 90 degrees: width and height swap
        else:
            im.save(str(tmp_path / name), **kw)
            want = size
        assert tuple(formats.read_image_size(str(tmp_path / name))) == want, name
    sizes = formats.read_image_sizes(str(tmp_path))
    assert sizes["a"] == (37, 21) and sizes["g"] == (30, 40) and len(sizes) == len(cases)


def test_png_writer_and_header(tmp_path):
    synthetic.write_png(str(tmp_path / "x.png"), 1000, 3)
    assert formats.read_image_size(str(tmp_path / "x.png")) == (1000, 3)


def test_bulk_parser_equals_float(tmp_path):
    """The one-call np.fromstring path gives exactly Python's float() of each token."""
    rng = np.random.default_rng(1)
    v = rng.random((3000, 5))
    lines = ["%d %s %s %s %s" % (int(r[0] * 9), repr(r[1]), "%.6g" % r[2], "%.3e" % r[3], str(np.float32(r[4])))
             for r in v.tolist()]
    blobs = ["\n".join(lines[i::7]).encode() for i in range(7)]
    rows, files, line_no = formats._parse_rows(["f%d" % i for i in range(7)], blobs, 5, formats._YOLO_FIELDS[:5])
    want = [[float(x) for x in lines[i + 7 * k].split()] for i in range(7) for k in range(len(lines[i::7]))]
    assert np.array_equal(rows, np.array(want))
    assert files.tolist() == [i for i in range(7) for _ in lines[i::7]]
    assert line_no.tolist() == [k + 1 for i in range(7) for k in range(len(lines[i::7]))]


# ----------------------------------------------------------------------------- malformed input

YOLO_BAD = [
    ("0 0.5 0.5 0.2\n", r"a\.txt: line 1: field 'h' is missing: expected 5 fields"),
    ("0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2 0.1\n", r"a\.txt: line 2: 1 extra field"),
    ("0 0.5 0.5 0.2 0.2\n\n0 0.5 zz 0.2 0.2\n", r"a\.txt: line 3: field 'cy' should be a number, got 'zz'"),
    ("0 0.5 0.5 nan 0.2\n", r"a\.txt: line 1: field 'w' should be finite"),
    ("0 0.5 0.5 inf 0.2\n", r"a\.txt: line 1: field 'w' should be finite"),
    ("1.5 0.5 0.5 0.2 0.2\n", r"a\.txt: line 1: field 'class' should be a non-negative integer, got 1\.5"),
    ("-1 0.5 0.5 0.2 0.2\n", r"a\.txt: line 1: field 'class' should be a non-negative integer"),
    ("0 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.2 0.2\n", r"a\.txt: line 2: field 'class' is out of range: 7, with 2 class"),
    ("0 120 0.5 0.2 0.2\n", r"a\.txt: line 1: field 'cx' should be normalised to \[0, 1\]"),
    ("0 0.5 0.5 -0.2 0.2\n", r"a\.txt: line 1: field 'w' should be normalised"),
    (b"0 0.5 0.5 0.2 \xff\n", r"a\.txt: not a UTF-8 text file"),
]


@pytest.mark.parametrize("text,match", YOLO_BAD)
def test_yolo_bad_lines(tmp_path, text, match):
    p = str(tmp_path / "l" / "a.txt")
    os.makedirs(os.path.dirname(p))
    with open(p, "wb") as f:
        f.write(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(InvalidAnnotationError, match=match):
        formats.read_yolo(str(tmp_path / "l"), image_sizes={"a": (10, 10)}, class_names=["x", "y"])


def test_yolo_bad_prediction_and_context(tmp_path):
    _write(str(tmp_path / "l" / "a.txt"), "0 0.5 0.5 0.2 0.2\n")
    _write(str(tmp_path / "p" / "a.txt"), "0 0.5 0.5 0.2 0.2\n")
    _write(str(tmp_path / "q" / "zz.txt"), "0 0.5 0.5 0.2 0.2 0.3\n")
    with pytest.raises(InvalidAnnotationError, match=r"a\.txt: field 'size' is missing"):
        formats.read_yolo(str(tmp_path / "l"))
    with pytest.raises(InvalidAnnotationError, match=r"a\.txt: field 'size' is missing: no image size for 'a'"):
        formats.read_yolo(str(tmp_path / "l"), image_sizes={"b": (1, 1)})
    gt = formats.read_yolo(str(tmp_path / "l"), image_sizes={"a": (10, 10)})
    with pytest.raises(InvalidAnnotationError, match=r"a\.txt: line 1: field 'conf' is missing"):
        formats.read_yolo(str(tmp_path / "p"), predictions=True, images=gt)
    with pytest.raises(InvalidFileError, match=r"zz\.txt: image 'zz' is not among the 1 images"):
        formats.read_yolo(str(tmp_path / "q"), predictions=True, images=gt)
    with pytest.raises(InvalidFileError, match=r"nope: cannot list the labels folder"):
        formats.read_yolo(str(tmp_path / "nope"), image_sizes={"a": (1, 1)})
    bad = _write(str(tmp_path / "img" / "a.jpg"), "not an image")
    with pytest.raises(InvalidFileError, match=r"a\.jpg: cannot read the image size"):
        formats.read_yolo(str(tmp_path / "l"), images_dir=os.path.dirname(bad))
    with open(bad, "wb") as f:
        f.write(b"\xff\xd8\xff\xe0\x00\x04ab\xff\xd9")        # a JPEG without a frame header
    with pytest.raises(InvalidFileError, match=r"a\.jpg: JPEG without a frame header"):
        formats.read_image_size(bad)
    with open(bad, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00")       # truncated PNG
    with pytest.raises(InvalidFileError, match=r"a\.jpg: truncated image header"):
        formats.read_image_size(bad)
    with pytest.raises(InvalidAnnotationError, match=r"s\.csv: line 2: field 'height' should be a positive"):
        formats.read_image_sizes(_write(str(tmp_path / "s.csv"), "a,1,2\nb,1,0\n"))
    with pytest.raises(InvalidAnnotationError, match=r"s\.json: record 0: field 'width' should be a positive"):
        formats.read_image_sizes(_write(str(tmp_path / "s.json"), '[{"file_name": "a", "height": 3}]'))
    with pytest.raises(InvalidAnnotationError, match=r"classes\.txt: line 2: field 'name' is empty"):
        formats.read_class_names(_write(str(tmp_path / "classes.txt"), "a\n\nb\n"))


OBJ = "<object><name>%s</name><difficult>%s</difficult><bndbox>%s</bndbox></object>"
BOX = "<xmin>1</xmin><ymin>2</ymin><xmax>30</xmax><ymax>40</ymax>"


@pytest.mark.parametrize("objects,match", [
    (OBJ % ("cat", "0", BOX) + OBJ % ("cat", "0", "<xmin>1</xmin><ymin>2</ymin><xmax>30</xmax>"),
     r"a\.xml: object 2: field 'ymax' is missing"),
    (OBJ % ("cat", "0", BOX.replace("<xmin>1<", "<xmin>one<")), r"a\.xml: object 1: field 'xmin' should be a number"),
    (OBJ % ("cat", "0", BOX.replace("<xmax>30<", "<xmax>0<")), r"a\.xml: object 1: field 'xmax' is smaller than xmin"),
    (OBJ % ("cat", "2", BOX), r"a\.xml: object 1: field 'difficult' should be 0 or 1, got '2'"),
    (OBJ % ("", "0", BOX), r"a\.xml: object 1: field 'name' is missing"),
    ("<object><name>cat</name></object>", r"a\.xml: object 1: field 'bndbox' is missing"),
    (OBJ % ("cat", "0", BOX) + OBJ % ("dog", "0", BOX), r"a\.xml: object 2: field 'name' is 'dog', not one of the 1"),
    ("<object>", r"a\.xml: not a valid XML file"),
])
def test_voc_xml_bad(tmp_path, objects, match):
    _write(str(tmp_path / "A" / "a.xml"), "<annotation><size><width>50</width><height>50</height></size>%s"
           "</annotation>" % objects)
    with pytest.raises((InvalidAnnotationError, InvalidFileError), match=match):
        formats.read_voc_xml(str(tmp_path / "A"), class_names=["cat"])


@pytest.mark.parametrize("text,match", [
    ("a 0.9 1 2 3 4\nb 0.5 1 2 3\n", r"comp4_det_test_cat\.txt: line 2: field 'ymax' is missing"),
    ("a 0.9 1 2 3 4\nb x 1 2 3 4\n", r"comp4_det_test_cat\.txt: line 2: field 'score' should be a number, got 'x'"),
    ("a 0.9 1 2 3 4\nzz 0.5 1 2 3 4\n", r"comp4_det_test_cat\.txt: line 2: field 'image_id' is 'zz', not one of"),
    ("a 0.9 5 2 3 4\n", r"comp4_det_test_cat\.txt: line 1: field 'xmax' is smaller than xmin"),
    ("\na 0.9 1 2 3 inf\n", r"comp4_det_test_cat\.txt: line 2: field 'ymax' should be finite"),
])
def test_voc_results_bad(tmp_path, text, match):
    p = _write(str(tmp_path / "R" / "comp4_det_test_cat.txt"), text)
    with pytest.raises(InvalidAnnotationError, match=match):
        formats.read_voc_results(p, ["a", "b"], class_names=["cat"])


def test_voc_results_unknown_class_file(tmp_path):
    p = _write(str(tmp_path / "comp4_det_test_dog.txt"), "a 0.9 1 2 3 4\n")
    with pytest.raises(InvalidFileError, match=r"comp4_det_test_dog\.txt: the file name names none of the 1 classes"):
        formats.read_voc_results(p, ["a"], class_names=["cat"])

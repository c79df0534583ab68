"""Readers of oriented-box formats (fastap.formats): DOTA label files and task-1 result
files, ultralytics OBB labels; the CLI route (fastap eval --format dota / yolo-obb,
--iou-type rotated). Bad lines are InvalidFileError naming the file, the line and the
field."""
import json
import os

import numpy as np
import pytest

import fastap
from fastap import cli, formats
from fastap.errors import InvalidFileError
from fastap.protocols.dota import DOTA_CLASSES
from fastap.synthetic import make_dota, make_rotated_coco, write_dota

NAMES = ["unused"] + list(DOTA_CLASSES)      # make_dota's category ids are 1-based


@pytest.fixture
def dota(tmp_path):
    gt, dt = make_dota(3, n_images=12, n_classes=15, objects_per_image=14, dets_per_image=18)
    lab, res, images = write_dota(str(tmp_path / "d"), gt, dt, NAMES)
    return gt, dt, lab, res, images


def test_read_dota_round_trip(dota):
    gt, dt, lab, res, images = dota
    g = formats.read_dota(lab, class_names=NAMES)
    r = formats.read_dota_results(res, g)
    assert g.images == images and g.class_names == NAMES
    # the same records (ids shift by one: image i is images[i - 1]), in file order
    o = np.lexsort((np.arange(gt["image_id"].shape[0]), gt["image_id"]))
    assert np.array_equal(g["image_id"], gt["image_id"][o] - 1)
    assert np.array_equal(g["category_id"], gt["category_id"][o])
    assert np.array_equal(g["poly"], gt["poly"][o]) and np.array_equal(g["difficult"], gt["difficult"][o])
    assert r["poly"].shape == dt["poly"].shape and set(r["score"].tolist()) == set(dt["score"].tolist())
    a, b = fastap.evaluate_dota(gt, dt), fastap.evaluate_dota(g, r)
    assert np.array_equal(a.ap, b.ap, equal_nan=True) and a.map == b.map
    # default class names: the ones found, sorted; the devkit's Task1_<class> file names
    g2 = formats.read_dota(lab)
    assert g2.class_names == sorted(set(NAMES[1:]))
    r2 = formats.read_dota_results(res, g2)
    assert fastap.evaluate_dota(g2, r2).map == a.map


def test_read_dota_headers_short_lines_and_crlf(tmp_path):
    p = tmp_path / "P1.txt"
    p.write_bytes(b"imagesource:GoogleEarth\r\ngsd:null\r\n1 2 3 2 3 4 1 4 plane 1\r\n\r\n5 6 7 6 7 8 5 8 ship\r\n")
    g = formats.read_dota([str(p)])
    assert g["poly"].tolist() == [[1, 2, 3, 2, 3, 4, 1, 4], [5, 6, 7, 6, 7, 8, 5, 8]]
    assert g["difficult"].tolist() == [1, 0] and g.class_names == ["plane", "ship"]
    assert g["category_id"].tolist() == [0, 1] and g.images == ["P1"]


@pytest.mark.parametrize("text, line, field", [
    (b"1 2 3 2 3 4 1 4\n", 1, "class"),                              # a field missing
    (b"imagesource:x\n1 2 3 2 3 x 1 4 plane 0\n", 2, "y3"),           # not a number
    (b"1 2 3 2 3 4 1 nan plane 0\n", 1, "y4"),                       # not finite
    (b"1 2 3 2 3 4 1 4 plane hard\n", 1, "difficult"),
    (b"1 2 3 2 3 4 1 4 boat 0\n", 1, "class"),                       # not a class name
])
def test_read_dota_bad_lines(tmp_path, text, line, field):
    p = tmp_path / "P7.txt"
    p.write_bytes(text)
    with pytest.raises(InvalidFileError) as e:
        formats.read_dota([str(p)], class_names=["plane", "ship"])
    msg = str(e.value)
    assert str(p) in msg and "line %d" % line in msg and "'%s'" % field in msg, msg


def test_read_dota_results_bad_lines(dota, tmp_path):
    gt, dt, lab, res, images = dota
    g = formats.read_dota(lab, class_names=NAMES)
    for text, line, field in ((b"%s 0.5 1 2 3 2 3 4 1\n" % images[0].encode(), 1, "y4"),
                              (b"%s 0.5 1 2 3 2 3 4 1 4\nP9999 0.1 1 2 3 2 3 4 1 4\n" % images[0].encode(), 2,
                               "image_id"),
                              (b"%s high 1 2 3 2 3 4 1 4\n" % images[0].encode(), 1, "score")):
        p = tmp_path / "Task1_plane.txt"
        p.write_bytes(text)
        with pytest.raises(InvalidFileError) as e:
            formats.read_dota_results(str(p), g)
        msg = str(e.value)
        assert str(p) in msg and "line %d" % line in msg and "'%s'" % field in msg, msg


def test_read_yolo_obb(tmp_path):
    lab, pred = tmp_path / "labels", tmp_path / "pred"
    lab.mkdir()
    pred.mkdir()
    (lab / "a.txt").write_text("0 0.1 0.2 0.3 0.2 0.3 0.4 0.1 0.4\n1 0.5 0.5 0.75 0.5 0.75 0.75 0.5 0.75\n")
    (lab / "b.txt").write_text("")
    (pred / "a.txt").write_text("0 0.1 0.2 0.3 0.2 0.3 0.4 0.1 0.4 0.9\n1 0.5 0.5 0.6 0.5 0.6 0.6 0.5 0.6 0.4\n")
    sizes = {"a": (200, 100), "b": (50, 50)}
    g = formats.read_yolo_obb(str(lab), image_sizes=sizes)
    d = formats.read_yolo_obb(str(pred), predictions=True, images=g)
    assert g["poly"][0].tolist() == pytest.approx([20, 20, 60, 20, 60, 40, 20, 40])
    assert g["difficult"].tolist() == [0, 0] and d["score"].tolist() == [0.9, 0.4]
    assert g.images == ["a", "b"]
    res = fastap.evaluate_dota(g, d)
    # class 0: the same quad (IoU 1); class 1: 20 x 10 pixels inside 50 x 25, IoU 0.16
    assert res.ap[0] == pytest.approx(1.0) and res.ap[1] == 0.0
    (lab / "a.txt").write_text("0 0.1 0.2 0.3 0.2 0.3 1.4 0.1 0.4\n")
    with pytest.raises(fastap.InvalidAnnotationError, match=r"a.txt: line 1: field 'y3'"):
        formats.read_yolo_obb(str(lab), image_sizes=sizes)
    with pytest.raises(fastap.InvalidAnnotationError, match="'size'"):
        formats.read_yolo_obb(str(lab))


def _cli(argv, capsys):
    try:
        rc = cli.main(argv)
    except SystemExit as e:          # argparse's usage errors
        rc = e.code
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_dota(dota, tmp_path, capsys):
    gt, dt, lab, res, images = dota
    js = str(tmp_path / "out.json")
    rc, out, err = _cli(["eval", lab, res, "--format", "dota", "--per-class", "--json", js], capsys)
    assert rc == 0, err
    want = fastap.evaluate_dota(gt, dt)
    assert "DOTA task-1 AP @ IoU > 0.5 (11-point): mAP = %.4f" % want.map in out
    data = json.load(open(js))
    assert data["protocol"] == "dota" and data["map"] == want.map
    rc, out, err = _cli(["eval", lab, res, "--format", "dota", "--protocol", "voc"], capsys)
    assert rc == 2 and "--protocol dota" in err
    bad = os.path.join(lab, images[0] + ".txt")
    with open(bad, "a") as f:
        f.write("1 2 3\n")
    rc, out, err = _cli(["eval", lab, res, "--format", "dota"], capsys)
    assert rc == 2 and bad in err and "line" in err and "field 'y2' is missing" in err, err


def test_cli_rotated_coco(tmp_path, capsys):
    d, r = make_rotated_coco(2, n_images=15)
    g, p = tmp_path / "gt.json", tmp_path / "res.json"
    g.write_text(json.dumps(d))
    p.write_text(json.dumps(r))
    rc, out, err = _cli(["eval", str(g), str(p), "--iou-type", "rotated"], capsys)
    assert rc == 0, err
    gt = fastap.COCO(str(g))
    ev = fastap.COCOeval(gt, gt.loadRes(str(p)), "rotated")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    capsys.readouterr()
    assert "= %.3f" % ev.stats[0] in out
    rc, out, err = _cli(["eval", str(g), str(p)], capsys)
    assert rc == 2 and "rotated" in err
    rc, out, err = _cli(["eval", str(g), str(p), "--iou-type", "rotated", "--f1", "--confusion", "--errors"], capsys)
    assert rc == 0 and "F1" in out, err
    rc, out, err = _cli(["eval", str(g), str(p), "--iou-type", "rotated", "--protocol", "lvis"], capsys)
    assert rc == 2 and "rotated" in err

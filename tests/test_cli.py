"""The fastap command line: eval, demo, exit codes."""
import json
import os
import subprocess
import sys

import pytest

from fastap import cli

from conftest import REALDATA

CASE = os.path.join(REALDATA, "cocoapi_val2014_fake100")
GT = os.path.join(CASE, "instances_val2014_100.json")
DT = os.path.join(CASE, "instances_val2014_fakebbox100_results.json")


def test_eval_prints_summary_and_time(capsys, tmp_path):
    out_json = tmp_path / "m.json"
    assert cli.main(["eval", GT, DT, "--json", str(out_json)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.505"
    assert out[-1].startswith("fastap: load")
    data = json.loads(out_json.read_text())
    assert data["stats"]["AP"] == 0.5045806987249628


def test_eval_bad_input_exit_code_2(capsys, tmp_path):
    bad = tmp_path / "res.json"
    bad.write_text('[{"image_id": 42, "category_id": 1, "bbox": [1, 2, 3, 4]}]')
    assert cli.main(["eval", GT, str(bad)]) == 2
    err = capsys.readouterr().err
    assert "res.json" in err and "score" in err and "record 0" in err
    assert cli.main(["eval", GT, str(tmp_path / "nope.json")]) == 2


def test_quiet(capsys, tmp_path):
    assert cli.main(["eval", GT, DT, "--quiet", "--json", str(tmp_path / "o.json")]) == 0
    assert capsys.readouterr().out == ""


def test_demo_small(capsys):
    assert cli.main(["demo", "--scale", "tiny", "--no-compare"]) == 0
    out = capsys.readouterr().out
    assert "= 0.505" in out and "generated data at tiny scale" in out


def test_demo_compares_with_pycocotools(capsys):
    pytest.importorskip("pycocotools")
    assert cli.main(["demo", "--scale", "tiny"]) == 0
    assert "bit-identical" in capsys.readouterr().out


def test_module_entry_point():
    r = subprocess.run([sys.executable, "-m", "fastap", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "fastap eval" in r.stdout


def test_progress_reports_phases(capsys):
    assert cli.main(["eval", GT, DT, "--progress", "--quiet"]) == 0
    err = capsys.readouterr().err
    for phase in ("load", "evaluate", "accumulate"):
        assert phase in err


def test_per_class_and_csv(capsys, tmp_path):
    csv_path, js = tmp_path / "pc.csv", tmp_path / "m.json"
    assert cli.main(["eval", GT, DT, "--per-class", "--csv", str(csv_path), "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "category_id" in out and "ap50" in out
    rows = csv_path.read_text().splitlines()
    assert rows[0].startswith("category_id,ap,") and len(rows) == 81          # 80 COCO categories
    data = json.loads(js.read_text())
    assert len(data["per_class"]) == 80
    person = next(r for r in data["per_class"] if r["category_id"] == 1)
    assert person["ap"] == 0.5326060142444453        # expected.json's per-category AP for person


# ----------------------------------------------------------------------------- formats, help, exit codes

FMT = os.path.join(os.path.dirname(REALDATA), "formats")
ODM_YOLO = os.path.join(FMT, "odm7_yolo")
TOY_VOC = os.path.join(FMT, "toy_voc")


def _option_strings(parser):
    return [s for a in parser._actions for s in a.option_strings if s not in ("-h",)]


def test_help_lists_every_option_and_examples(capsys):
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, __import__("argparse")._SubParsersAction))
    for argv, p in [([], parser)] + [([name], sp) for name, sp in sub.choices.items()]:
        with pytest.raises(SystemExit) as e:
            cli.main(argv + ["--help"])
        assert e.value.code == 0
        out = capsys.readouterr().out
        for opt in _option_strings(p):
            assert opt in out, (argv, opt)
        assert "examples:" in out and "exit codes:" in out
        assert {"demo": "fastap demo", "segeval": "fastap segeval "}.get((argv or [""])[0], "fastap eval ") in out
        if argv == ["eval"]:
            assert "--format yolo" in out and "--format voc" in out and "input formats" in out


def test_eval_yolo_voc_protocol_json(tmp_path, capsys):
    js = tmp_path / "m.json"
    argv = ["eval", os.path.join(ODM_YOLO, "labels"), os.path.join(ODM_YOLO, "predictions"), "--format", "yolo",
            "--images", os.path.join(ODM_YOLO, "images"), "--names", os.path.join(ODM_YOLO, "classes.txt"),
            "--protocol", "voc", "--iou-threshold", "0.3", "--per-class", "--json", str(js)]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "VOC AP @ IoU 0.3 (all-point): mAP = 0.2457" in out and "person" in out
    data = json.loads(js.read_text())
    assert data["map"] == pytest.approx(0.2456866804, abs=1e-9)
    assert data["per_class"] == [{"category_id": 0, "ap": data["map"], "n_pos": 15, "name": "person"}]


def test_eval_voc_formats_json_csv_stdout(capsys):
    pytest.importorskip("pycocotools")
    gt, res = os.path.join(TOY_VOC, "Annotations"), os.path.join(TOY_VOC, "results")
    assert cli.main(["eval", gt, res, "--format", "voc", "--protocol", "voc07", "--json", "-"]) == 0
    data = json.loads(capsys.readouterr().out)          # nothing else on stdout
    assert data["map"] == pytest.approx(0.8864, abs=5e-5) and data["protocol"] == "voc07"
    assert cli.main(["eval", gt, res, "--format", "voc", "--csv", "-"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].startswith("category_id,ap,ap50") and rows[1].startswith("0,") and len(rows) == 2
    assert cli.main(["eval", gt, res, "--format", "voc", "--json", "-", "--per-class"]) == 0
    data = json.loads(capsys.readouterr().out)
    from fastap import formats
    g = formats.read_voc_xml(gt)
    r = fastap_eval(g, formats.read_voc_results(res, g))
    assert [data["stats"][k] for k in cli.STAT_LABELS] == r.stats.tolist()
    assert data["per_class"][0]["name"] == "cat" and data["per_class"][0]["ap"] == r.per_class()["ap"][0]


def fastap_eval(gt, dt):
    import fastap
    return fastap.evaluate(gt, dt, img_ids=gt.image_ids)


def test_eval_coco_with_voc_protocol(capsys):
    import fastap
    assert cli.main(["eval", GT, DT, "--protocol", "voc", "--json", "-"]) == 0
    data = json.loads(capsys.readouterr().out)
    with contextlib_quiet():
        g = fastap.COCO(GT)
        d = g.loadRes(DT)
    assert data["map"] == fastap.evaluate(g, d, protocol="voc").map


def contextlib_quiet():
    import contextlib
    import io
    return contextlib.redirect_stdout(io.StringIO())


def _bad_yolo(tmp_path, text, name="a.txt"):
    (tmp_path / "l").mkdir(exist_ok=True)
    (tmp_path / "l" / name).write_text(text)
    return str(tmp_path / "l")


@pytest.mark.parametrize("case,match", [
    ("non-number", r"^fastap: error: .*a\.txt: line 2: field 'cx' should be a number, got 'x'$"),
    ("fields", r"^fastap: error: .*a\.txt: line 1: field 'h' is missing: expected 5 fields"),
    ("class", r"^fastap: error: .*a\.txt: line 1: field 'class' is out of range: 3, with 1 class names$"),
    ("range", r"^fastap: error: .*a\.txt: line 1: field 'w' should be normalised to \[0, 1\]"),
    ("size", r"^fastap: error: .*a\.txt: field 'size' is missing: no image size for 'a'"),
    ("image", r"^fastap: error: .*a\.png: cannot read the image size"),
    ("missing", r"^fastap: error: .*nowhere: cannot list the labels folder"),
    ("xml", r"^fastap: error: .*im\.xml: object 1: field 'xmin' should be a number, got 'q'$"),
    ("voc-results", r"^fastap: error: .*comp4_det_test_cat\.txt: line 1: field 'image_id' is 'zz', not one of the 1"),
    ("output", r"^fastap: error: .*m\.json: cannot write the file"),
])
def test_eval_bad_input_messages(tmp_path, capsys, case, match):
    sizes = tmp_path / "sizes.json"
    sizes.write_text('{"a": [10, 10]}')
    names = tmp_path / "classes.txt"
    names.write_text("cat\n")
    good = _bad_yolo(tmp_path, "0 0.5 0.5 0.1 0.1\n")
    preds = tmp_path / "p"
    preds.mkdir()
    yolo = ["--format", "yolo", "--image-sizes", str(sizes), "--names", str(names)]
    if case == "non-number":
        argv = [_bad_yolo(tmp_path, "0 0.5 0.5 0.1 0.1\n0 x 0.5 0.1 0.1\n"), str(preds)] + yolo
    elif case == "fields":
        argv = [_bad_yolo(tmp_path, "0 0.5 0.5 0.1\n"), str(preds)] + yolo
    elif case == "class":
        argv = [_bad_yolo(tmp_path, "3 0.5 0.5 0.1 0.1\n"), str(preds)] + yolo
    elif case == "range":
        argv = [_bad_yolo(tmp_path, "0 0.5 0.5 40 0.1\n"), str(preds)] + yolo
    elif case == "size":
        sizes.write_text('{"b": [10, 10]}')
        argv = [good, str(preds)] + yolo
    elif case == "image":
        (tmp_path / "img").mkdir()
        (tmp_path / "img" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n")
        argv = [good, str(preds), "--format", "yolo", "--images", str(tmp_path / "img")]
    elif case == "missing":
        argv = [str(tmp_path / "nowhere"), str(preds)] + yolo
    elif case in ("xml", "voc-results"):
        (tmp_path / "A").mkdir()
        box = "<xmin>%s</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax>" % ("q" if case == "xml" else "1")
        (tmp_path / "A" / "im.xml").write_text("<annotation><object><name>cat</name><bndbox>%s</bndbox></object>"
                                               "</annotation>" % box)
        (tmp_path / "R").mkdir()
        (tmp_path / "R" / "comp4_det_test_cat.txt").write_text("zz 0.5 1 1 5 5\n")
        argv = [str(tmp_path / "A"), str(tmp_path / "R"), "--format", "voc"]
    else:
        (preds / "a.txt").write_text("0 0.5 0.5 0.1 0.1 0.9\n")    # (no predictions at all would warn)
        argv = [good, str(preds), "--json", str(tmp_path / "no" / "m.json")] + yolo
    assert cli.main(["eval"] + argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert __import__("re").search(match, err.strip()), err


def test_usage_error_exit_code_2(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["eval", GT, DT, "--format", "xml"])
    assert e.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_eval_keypoints_json(tmp_path, capsys):
    """--iou-type keypoints on the real person-keypoints case: the 10 stats, under
    pycocotools' keypoint labels, equal its published numbers."""
    d = os.path.join(REALDATA, "fce_keypoints_val2017_139099")
    out = tmp_path / "k.json"
    assert cli.main(["eval", os.path.join(d, "gt_dataset.json"), os.path.join(d, "dt_dataset.json"),
                     "--iou-type", "keypoints", "--json", str(out), "--quiet"]) == 0
    with open(os.path.join(d, "expected.json")) as f:
        want = json.load(f)["evals"]["keypoints"]["stats"]
    got = json.loads(out.read_text())
    assert list(got["stats"]) == ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]
    assert list(got["stats"].values()) == want

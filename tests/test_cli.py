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

"""The command line as a new user meets it (issue 16, items 6 and 14): common mistakes
get a warning on stderr (and in ``--json``), options that do not apply a usage error
(exit code 2, argparse's shape), and every other failure one clear line, before the
evaluation runs where it can be known then. Each case runs ``python -m fastap`` in a
child process: exit codes, stderr and pipes are what a shell sees."""
import json
import os
import subprocess
import sys

import pytest

from conftest import DATA, REALDATA

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASE = os.path.join(REALDATA, "cocoapi_val2014_fake100")
GT = os.path.join(CASE, "instances_val2014_100.json")
DT = os.path.join(CASE, "instances_val2014_fakebbox100_results.json")
ODM_YOLO = os.path.join(DATA, "formats", "odm7_yolo")
TOY_VOC = os.path.join(DATA, "formats", "toy_voc")


def fastap(*args, prelude=None, stdout=subprocess.PIPE):
    """Run ``fastap`` with ``args`` in a child interpreter; ``prelude``: Python run
    before the CLI (e.g. to hide an installed package)."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if prelude is None:
        cmd = [sys.executable, "-m", "fastap"] + list(args)
    else:
        cmd = [sys.executable, "-c", prelude + "\nimport sys\nfrom fastap.cli import main\n"
               "sys.exit(main(sys.argv[1:]))"] + list(args)
    return subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
                          timeout=300)


def usage_error(proc, *words):
    """argparse's shape: the usage line, then 'fastap eval: error: ...', exit code 2."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    err = proc.stderr
    assert err.startswith("usage: fastap eval"), err
    assert "fastap eval: error: " in err and "Traceback" not in err, err
    line = err[err.index("fastap eval: error: "):]
    for w in words:
        assert w in line, (w, line)
    assert proc.stdout == "", "nothing evaluated: %r" % proc.stdout[:200]


def one_line_error(proc, *words):
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    err = proc.stderr.strip()
    assert err.startswith("fastap: error: ") and len(err.splitlines()) == 1, err
    for w in words:
        assert w in err, (w, err)
    return err


@pytest.fixture
def shifted(tmp_path):
    res = json.load(open(DT))
    for r in res:
        r["category_id"] += 1000
    p = tmp_path / "shifted.json"
    p.write_text(json.dumps(res))
    return str(p)


# -- item 6: warnings ---------------------------------------------------------------------------

def test_shifted_categories_warn_on_stderr_and_in_json(tmp_path, shifted):
    js = tmp_path / "m.json"
    proc = fastap("eval", GT, shifted, "--json", str(js))
    assert proc.returncode == 0, proc.stderr
    warn = [ln for ln in proc.stderr.splitlines() if ln.startswith("fastap: warning: ")]
    assert len(warn) == 1 and "734 of 734" in warn[0] and "category_id" in warn[0], proc.stderr
    assert "shifted.json" in warn[0]
    data = json.loads(js.read_text())
    assert data["warnings"] == [{"warning": "UnknownIdsWarning", "message": warn[0][len("fastap: warning: "):],
                                 "records": 734}]
    assert data["stats"]["AP"] == 0.0


def test_json_on_stdout_stays_parseable_with_a_warning(shifted):
    proc = fastap("eval", GT, shifted, "--json", "-")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["warnings"][0]["warning"] == "UnknownIdsWarning"
    assert "fastap: warning:" in proc.stderr


def test_no_warning_key_problems_on_good_input(tmp_path):
    js = tmp_path / "m.json"
    proc = fastap("eval", GT, DT, "--json", str(js))
    assert proc.returncode == 0 and proc.stderr == ""
    assert json.loads(js.read_text())["warnings"] == []


def test_empty_results_file_warns(tmp_path):
    p = tmp_path / "empty.json"
    p.write_text("[]")
    proc = fastap("eval", GT, str(p))
    assert proc.returncode == 0
    assert "fastap: warning: " in proc.stderr and "no detections" in proc.stderr


def test_segm_on_box_results_warns():
    proc = fastap("eval", GT, DT, "--iou-type", "segm")
    assert proc.returncode == 0
    assert "fastap: warning: " in proc.stderr and "734 of 734" in proc.stderr
    assert "segmentation" in proc.stderr


def test_iou_threshold_under_coco_protocol_is_a_usage_error():
    usage_error(fastap("eval", GT, DT, "--iou-threshold", "0.75"), "--iou-threshold", "--protocol voc")


def test_report_threshold_without_reports_is_a_usage_error():
    # the VOC protocol's threshold is --iou-threshold; --iou-thr is the reports'
    usage_error(fastap("eval", GT, DT, "--iou-thr", "0.75", "--protocol", "voc"), "--iou-thr", "--iou-threshold")
    usage_error(fastap("eval", GT, DT, "--conf", "0.5"), "--conf", "--confusion")


def test_reports_under_voc_protocol_are_a_usage_error():
    usage_error(fastap("eval", GT, DT, "--f1", "--protocol", "voc07"), "--f1", "--protocol coco")


def test_segm_under_voc_protocol_is_a_usage_error():
    usage_error(fastap("eval", GT, DT, "--iou-type", "segm", "--protocol", "voc"), "--iou-type", "--protocol coco")
    usage_error(fastap("eval", os.path.join(ODM_YOLO, "labels"), os.path.join(ODM_YOLO, "predictions"),
                       "--format", "yolo", "--images", os.path.join(ODM_YOLO, "images"), "--iou-type", "segm"),
                "--iou-type", "--format coco")


def test_yolo_options_with_other_formats_are_a_usage_error():
    usage_error(fastap("eval", GT, DT, "--image-sizes", GT), "--image-sizes", "--format yolo")
    usage_error(fastap("eval", os.path.join(TOY_VOC, "Annotations"), os.path.join(TOY_VOC, "results"),
                       "--format", "voc", "--images", TOY_VOC), "--images", "--format yolo")


def test_reports_with_yolo_format_under_coco_protocol_run(tmp_path):
    """They used to be accepted and silently not computed."""
    js = tmp_path / "m.json"
    proc = fastap("eval", os.path.join(ODM_YOLO, "labels"), os.path.join(ODM_YOLO, "predictions"),
                  "--format", "yolo", "--images", os.path.join(ODM_YOLO, "images"), "--f1", "--json", str(js))
    assert proc.returncode == 0, proc.stderr
    assert "best-F1 operating points" in proc.stdout
    assert "operating_points" in json.loads(js.read_text())


# -- item 14: CLI failures ----------------------------------------------------------------------

def test_plots_without_matplotlib_fails_before_evaluating(tmp_path):
    proc = fastap("eval", GT, DT, "--plots", str(tmp_path / "p"),
                  prelude="import sys\nsys.modules['matplotlib'] = None")
    err = one_line_error(proc, "--plots", "matplotlib", "pip install")
    assert proc.stdout == "", "evaluated first: %r" % proc.stdout[:200]
    assert "Traceback" not in err
    assert not (tmp_path / "p").exists()


def test_plots_into_a_file_is_a_usage_error():
    usage_error(fastap("eval", GT, DT, "--plots", GT), "--plots", "not a folder")


def test_plots_into_an_unwritable_place_names_it(tmp_path):
    (tmp_path / "f").write_text("x")
    err = one_line_error(fastap("eval", GT, DT, "--quiet", "--plots", str(tmp_path / "f" / "sub")), "sub")
    assert "Errno" not in err


def test_broken_pipe_exits_quietly():
    """Output into a pipe whose reader has gone (``fastap eval ... | head -1``): no
    'Broken pipe' error, no traceback, the SIGPIPE exit status."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "fastap", "eval", GT, DT, "--per-class"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=ROOT)
    proc.stdout.close()            # the reader is gone before anything is written
    err = proc.stderr.read().decode()
    rc = proc.wait(timeout=300)
    proc.stderr.close()
    assert err == "" and rc == 141, (rc, err)
    shell = subprocess.run("'%s' -m fastap eval '%s' '%s' --per-class | head -1" % (sys.executable, GT, DT),
                           shell=True, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert shell.stderr == "" and shell.stdout.startswith(" Average Precision"), shell


def test_folder_without_format_suggests_it():
    usage_error(fastap("eval", os.path.join(ODM_YOLO, "labels"), os.path.join(ODM_YOLO, "predictions")),
                "is a folder", "--format yolo", "voc")
    usage_error(fastap("eval", GT, os.path.join(ODM_YOLO, "predictions")), "RESULTS", "is a folder")


def test_ground_truth_without_images_says_so(tmp_path):
    d = json.load(open(GT))
    del d["images"]
    p = tmp_path / "noimages.json"
    p.write_text(json.dumps(d))
    err = one_line_error(fastap("eval", str(p), DT), "noimages.json", "'images'")
    assert "is not an image of the ground truth" not in err
    d["images"] = []
    p.write_text(json.dumps(d))
    one_line_error(fastap("eval", str(p), DT), "noimages.json", "'images'", "empty")


def test_yolo_without_sizes_names_the_options():
    usage_error(fastap("eval", os.path.join(ODM_YOLO, "labels"), os.path.join(ODM_YOLO, "predictions"),
                       "--format", "yolo"), "--image-sizes", "--images")

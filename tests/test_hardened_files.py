"""Input files that once crashed the interpreter, changed the numbers behind a user's back,
were refused though valid, or cost gigabytes before their error (issue 16, items 2, 3, 7,
8, 9, 13). Cases that could end the interpreter run in a child interpreter: a crash there
is a failed test, not a dead test run."""
import contextlib
import io
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import fastap
from fastap import mask as fmask
from fastap.adapters.jsonfile import load_json_bytes
from fastap.synthetic import make_keypoints_coco, make_segm_coco

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def quiet(f, *a, **kw):
    with contextlib.redirect_stdout(io.StringIO()):
        return f(*a, **kw)


def run_child(code, timeout=300):
    """Run code in a child interpreter (fastap from this checkout); its stdout."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)
    assert proc.returncode == 0, "the child interpreter died (%d): %s%s" % (proc.returncode, proc.stdout[-2000:],
                                                                           proc.stderr[-3000:])
    return proc.stdout


def cocoeval_stats(gt, dt, iou_type, impl=fastap):
    ev = impl.COCOeval(gt, dt, iou_type)
    quiet(ev.evaluate)
    quiet(ev.accumulate)
    quiet(ev.summarize)
    return np.asarray(ev.stats).tolist()


# ---------------------------------------------------------------------------------------
# items 2 and 3: a results file changed on disk after (or while) loadRes read it
# ---------------------------------------------------------------------------------------

KINDS = {
    # RLE masks without boxes: loadRes' segm branch, compressed strings left lazy
    "segm": dict(iou_type="segm"),
    # masks with boxes: loadRes' box branch, the segmentations kept as spans of text
    "segm+bbox": dict(iou_type="segm"),
    # keypoints with boxes: the box branch, the keypoints kept as spans of text
    "keypoints+bbox": dict(iou_type="keypoints"),
    # keypoints: parsed at loadRes; the file's text is still needed for the dicts
    "keypoints": dict(iou_type="keypoints"),
}


def write_case(directory, kind):
    """(gt path, results path) of a small dataset of the kind."""
    if kind.startswith("segm"):
        ds, res = make_segm_coco(seed=3, n_images=12, dets_per_image=15, with_bbox=kind == "segm+bbox")
    else:
        ds, res = make_keypoints_coco(seed=3, n_images=12, dets_per_image=8, with_bbox=kind == "keypoints+bbox")
    gt, dt = os.path.join(directory, "gt.json"), os.path.join(directory, "results.json")
    with open(gt, "w") as f:
        json.dump(ds, f)
    with open(dt, "w") as f:
        json.dump(res, f)
    return gt, dt


def same_size_rewrite(path):
    """The results file rewritten in place at the same size with other masks / keypoints:
    the counts strings of masks of equal length rotated among their records, keypoint
    digits changed."""
    with open(path, "rb") as f:
        data = f.read()
    recs = json.loads(data)
    if "segmentation" in recs[0]:
        by_len = {}
        for r in recs:
            by_len.setdefault(len(r["segmentation"]["counts"]), []).append(r)
        for group in by_len.values():
            counts = [r["segmentation"]["counts"] for r in group]
            for r, c in zip(group, counts[1:] + counts[:1]):
                r["segmentation"]["counts"] = c
        new = json.dumps(recs).encode()
    else:
        new = data.replace(b"1", b"7").replace(b"2", b"1")
    assert len(new) == len(data) and new != data
    with open(path, "r+b") as f:
        f.write(new)


CHILD_SETUP = """
import contextlib, io, json, os, pickle, sys, threading, time
import numpy as np
import fastap
sys.path.insert(0, "tests")
from test_hardened_files import cocoeval_stats, quiet, same_size_rewrite
gt_path, dt_path, iou_type = %r, %r, %r
gt = quiet(fastap.COCO, gt_path)
"""


CHANGES = {
    # rewritten in place: the dicts cannot be built from it any more
    "truncate to 100 bytes": ("os.truncate(dt_path, 100)", "error"),
    "truncate to 0": ("os.truncate(dt_path, 0)", "error"),
    "same-size rewrite": ("same_size_rewrite(dt_path)", "error"),
    # the file loadRes read is still there for the dicts (kept open, as a mapping kept it)
    "removed": ("os.remove(dt_path)", "same"),
    "replaced by rename": ("open(dt_path + '.new', 'w').write('[]'); os.replace(dt_path + '.new', dt_path)", "same"),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_results_file_changed_after_loadres(tmp_path, kind, change):
    """After loadRes, evaluate() gives the numbers of the file loadRes read, whatever
    happened to the file since. The result dicts (``dataset``, and pickling, which needs
    them) are those of the file loadRes read, or, when it was rewritten in place, an
    InvalidFileError naming it."""
    gt_path, dt_path = write_case(str(tmp_path), kind)
    iou_type = KINDS[kind]["iou_type"]
    gt = quiet(fastap.COCO, gt_path)
    want = cocoeval_stats(gt, quiet(gt.loadRes, dt_path), iou_type)
    with open(dt_path) as f:
        scores = [r["score"] for r in json.load(f)]
    act, expect = CHANGES[change]
    out = run_child(CHILD_SETUP % (gt_path, dt_path, iou_type) + """
dt = quiet(gt.loadRes, dt_path)
%s
print("STATS", json.dumps(cocoeval_stats(gt, dt, iou_type)))
print("STATS", json.dumps(cocoeval_stats(gt, dt, iou_type)))
for what, f in (("dataset", lambda: dt.dataset["annotations"]),
                ("pickle", lambda: pickle.loads(pickle.dumps(dt)).dataset["annotations"])):
    try:
        print("SCORES", what, json.dumps([a["score"] for a in f()]))
    except fastap.InvalidFileError as e:
        print("ERROR", what, e)
""" % act)
    lines = out.splitlines()
    stats = [json.loads(x[6:]) for x in lines if x.startswith("STATS ")]
    assert stats == [want, want], out
    ends = [x for x in lines if x.startswith(("ERROR", "SCORES"))]
    assert len(ends) == 2, out
    for x in ends:
        if expect == "error":
            assert x.startswith("ERROR") and dt_path in x and "changed on disk since loadRes" in x, out
        else:
            assert x.startswith("SCORES") and json.loads(x.split(" ", 2)[2]) == scores, out


@pytest.mark.parametrize("change", ["same-size rewrite", "truncate to 100 bytes", "removed"])
def test_results_file_changed_after_loadres_without_digest(tmp_path, change):
    """A file last changed long before loadRes read it is not digested (a rewrite gives
    it a new modification time): a rewrite in place is still refused when the dicts are
    built, a removal is not. (The child treats every file as old.)"""
    gt_path, dt_path = write_case(str(tmp_path), "segm")
    gt = quiet(fastap.COCO, gt_path)
    want = cocoeval_stats(gt, quiet(gt.loadRes, dt_path), "segm")
    act, expect = CHANGES[change]
    out = run_child(CHILD_SETUP % (gt_path, dt_path, "segm") + """
import fastap.adapters.jsonfile as jf
jf.MappedText.RECENT_NS = -10 ** 15          # every file counts as changed long ago
dt = quiet(gt.loadRes, dt_path)
assert dt._geom["text"][0].digest is None
time.sleep(0.05)                            # past the file system clock's tick
%s
print("STATS", json.dumps(cocoeval_stats(gt, dt, iou_type)))
try:
    print("SCORES", len(dt.dataset["annotations"]))
except fastap.InvalidFileError as e:
    print("ERROR", e)
""" % act)
    lines = out.splitlines()
    assert json.loads(lines[0][6:]) == want, out
    if expect == "error":
        assert lines[1].startswith("ERROR") and dt_path in lines[1], out
    else:
        assert lines[1].startswith("SCORES"), out


@pytest.mark.parametrize("kind", ["segm", "keypoints+bbox"])
def test_results_file_unchanged_builds_its_dicts(tmp_path, kind):
    """The control: the file untouched, its dicts are those of json.load (plus loadRes'
    fields), and a pickled COCO carries them."""
    gt_path, dt_path = write_case(str(tmp_path), kind)
    gt = quiet(fastap.COCO, gt_path)
    dt = quiet(gt.loadRes, dt_path)
    with open(dt_path) as f:
        recs = json.load(f)
    anns = dt.dataset["annotations"]
    assert len(anns) == len(recs)
    assert all(a["score"] == r["score"] and a["image_id"] == r["image_id"] for a, r in zip(anns, recs))
    dt2 = quiet(gt.loadRes, dt_path)
    back = pickle.loads(pickle.dumps(dt2))
    assert back.dataset["annotations"] == anns


@pytest.mark.parametrize("kind", ["segm", "segm+bbox", "keypoints+bbox"])
def test_results_file_truncated_during_evaluate(tmp_path, kind):
    """A thread truncates and rewrites the file over and over while evaluate() runs:
    the numbers are those of the file loadRes read, every time."""
    gt_path, dt_path = write_case(str(tmp_path), kind)
    iou_type = KINDS[kind]["iou_type"]
    gt = quiet(fastap.COCO, gt_path)
    want = cocoeval_stats(gt, quiet(gt.loadRes, dt_path), iou_type)
    out = run_child(CHILD_SETUP % (gt_path, dt_path, iou_type) + """
with open(dt_path, "rb") as f:
    original = f.read()
dt = quiet(gt.loadRes, dt_path)
stop = False
def churn():
    while not stop:
        os.truncate(dt_path, 10)
        with open(dt_path, "r+b") as f:
            f.write(original)
t = threading.Thread(target=churn)
t.start()
try:
    for _ in range(5):
        print("STATS", json.dumps(cocoeval_stats(gt, dt, iou_type)))
finally:
    stop = True
    t.join()
""")
    stats = [json.loads(x[6:]) for x in out.splitlines() if x.startswith("STATS ")]
    assert stats == [want] * 5, out


@pytest.mark.parametrize("scan", ["box", "geometry"])
def test_results_file_truncated_during_loadres(tmp_path, scan):
    """The file is truncated after loadRes mapped it and before its scan reads it (the
    scan's function is wrapped to do it): an InvalidFileError naming the file, not a bus
    error (the pages past the new end were gone from the mapping)."""
    if scan == "box":
        ds, res = make_segm_coco(seed=3, n_images=12, dets_per_image=15)
        res = [{"image_id": r["image_id"], "category_id": r["category_id"], "bbox": [1, 2, 30, 40],
                "score": r["score"]} for r in res] * 200
        wrap = "fastap.adapters.jsonfile._core"
        fn = "parse_results_json"
    else:
        ds, res = make_segm_coco(seed=3, n_images=12, dets_per_image=15)
        res = res * 20
        wrap = "fastap.adapters.jsonfile"
        fn = "_geometry_scan"
    gt_path, dt_path = str(tmp_path / "gt.json"), str(tmp_path / "results.json")
    with open(gt_path, "w") as f:
        json.dump(ds, f)
    with open(dt_path, "w") as f:
        json.dump(res, f)
    assert os.path.getsize(dt_path) > 1 << 17
    out = run_child(CHILD_SETUP % (gt_path, dt_path, "segm") + """
import fastap.adapters.jsonfile
target = %s
original = getattr(target, %r)
def wrapped(data, *a, **kw):
    os.truncate(dt_path, 4096)
    return original(data, *a, **kw)
setattr(target, %r, wrapped)
try:
    quiet(gt.loadRes, dt_path)
    print("NO ERROR")
except fastap.InvalidFileError as e:
    print("ERROR", e)
""" % (wrap, fn, fn))
    assert out.startswith("ERROR") and dt_path in out and "changed on disk while loadRes read it" in out, out


def test_results_file_truncated_at_random_moments_during_loadres(tmp_path):
    """A thread truncates the file at a random moment of each of 20 loads: each load
    either ends before it (the numbers of the whole file) or is an InvalidFileError
    naming the file; the interpreter lives on."""
    ds, res = make_segm_coco(seed=4, n_images=12, dets_per_image=15)
    gt_path, dt_path = str(tmp_path / "gt.json"), str(tmp_path / "results.json")
    with open(gt_path, "w") as f:
        json.dump(ds, f)
    with open(dt_path, "w") as f:
        json.dump(res * 30, f)
    out = run_child(CHILD_SETUP % (gt_path, dt_path, "segm") + """
import random
with open(dt_path, "rb") as f:
    original = f.read()
want = cocoeval_stats(gt, quiet(gt.loadRes, dt_path), "segm")
rng = random.Random(0)
ok = err = 0
for i in range(20):
    with open(dt_path, "wb") as f:
        f.write(original)
    t = threading.Timer(rng.uniform(0, 0.05), os.truncate, (dt_path, rng.randrange(0, len(original))))
    t.start()
    try:
        dt = quiet(gt.loadRes, dt_path)
        assert cocoeval_stats(gt, dt, "segm") == want
        ok += 1
    except fastap.InvalidFileError as e:
        assert dt_path in str(e), e
        err += 1
    t.join()
print("DONE", ok, err)
""")
    assert out.startswith("DONE"), out


def test_map_guard_reads_zeros_and_leaves_other_bus_errors_alone(tmp_path):
    """csrc/textfile.c's guard: a guarded mapping whose file shrank reads zeros past the
    end and reports it; a SIGBUS elsewhere, while a guard is active, still ends the
    process as it would have without it (the previous action is kept)."""
    p, q = str(tmp_path / "a.bin"), str(tmp_path / "b.bin")
    code = """
import mmap, os, sys
from fastap import _core
p, q = %r, %r
for path in (p, q):
    with open(path, "wb") as f:
        f.write(b"x" * (1 << 20))
fa, fb = open(p, "rb"), open(q, "rb")
a = mmap.mmap(fa.fileno(), 0, access=mmap.ACCESS_READ)
b = mmap.mmap(fb.fileno(), 0, access=mmap.ACCESS_READ)
slot = _core.map_guard_add(a)
os.truncate(p, 5000)
got = a[:]
print("GUARDED", slot, got.count(b"x"), got.count(b"\\0"), _core.map_guard_remove(slot), flush=True)
slot = _core.map_guard_add(a)
os.truncate(q, 5000)
b[:]
print("NOT REACHED", flush=True)
""" % (p, q)
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    first = proc.stdout.splitlines()[0].split()
    assert first[0] == "GUARDED" and int(first[1]) >= 0, proc.stdout + proc.stderr
    assert int(first[2]) == 5000 and int(first[3]) == (1 << 20) - 5000 and int(first[4]) > 0, proc.stdout
    assert "NOT REACHED" not in proc.stdout and proc.returncode == -signal.SIGBUS, (proc.returncode, proc.stderr)


# ---------------------------------------------------------------------------------------
# item 7: "bbox": [] next to an RLE segmentation
# ---------------------------------------------------------------------------------------

def _masks_gt(directory):
    m1 = np.zeros((10, 10), np.uint8, order="F")
    m1[2:6, 3:8] = 1
    m2 = np.zeros((10, 10), np.uint8, order="F")
    m2[1:6, 3:9] = 1
    c1, c2 = (fmask.encode(m)["counts"].decode() for m in (m1, m2))
    gt = {"images": [{"id": 1, "height": 10, "width": 10}], "categories": [{"id": 1, "name": "a"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 20.0,
                           "bbox": [3, 2, 5, 4], "segmentation": [[3, 2, 8, 2, 8, 6, 3, 6]]},
                          {"id": 2, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 30.0,
                           "bbox": [3, 1, 6, 5], "segmentation": [[3, 1, 9, 1, 9, 6, 3, 6]]}]}
    path = os.path.join(directory, "gt.json")
    with open(path, "w") as f:
        json.dump(gt, f)
    return path, c1, c2


def _rec(counts, bbox, score):
    r = {"image_id": 1, "category_id": 1, "score": score}
    if bbox is not None:
        r["bbox"] = bbox                       # before the segmentation, as in the issue
    r["segmentation"] = {"size": [10, 10], "counts": counts}
    return r


EMPTY_BBOX = {
    "every record": lambda c1, c2: [_rec(c1, [], 0.9), _rec(c2, [], 0.8)],
    "first empty, second without": lambda c1, c2: [_rec(c1, [], 0.9), _rec(c2, None, 0.8)],
    "first empty, second a box": lambda c1, c2: [_rec(c1, [], 0.9), _rec(c2, [3, 1, 6, 5], 0.8)],
    "first without, second empty": lambda c1, c2: [_rec(c1, None, 0.9), _rec(c2, [], 0.8)],
}


@pytest.mark.parametrize("case", sorted(EMPTY_BBOX))
def test_empty_bbox_next_to_a_mask(tmp_path, case):
    """A results file whose records carry "bbox": [] with their RLE: loaded as the same
    records given as a list and as pycocotools loads it (segm branch, the mask's area,
    "bbox" left as []); a segm evaluation gives pycocotools' numbers; a bbox evaluation
    is an error naming the record and the field (pycocotools raises too)."""
    from pycocotools.coco import COCO as PCOCO
    from pycocotools.cocoeval import COCOeval as PCOCOeval

    gt_path, c1, c2 = _masks_gt(str(tmp_path))
    recs = EMPTY_BBOX[case](c1, c2)
    dt_path = str(tmp_path / "results.json")
    with open(dt_path, "w") as f:
        json.dump(recs, f)
    pgt = quiet(PCOCO, gt_path)
    pdt = quiet(pgt.loadRes, dt_path)

    class P:
        COCOeval = PCOCOeval
    want = cocoeval_stats(pgt, pdt, "segm", impl=P)
    with pytest.raises(Exception):
        cocoeval_stats(pgt, quiet(pgt.loadRes, dt_path), "bbox", impl=P)
    gt = quiet(fastap.COCO, gt_path)
    for src in (dt_path, json.loads(json.dumps(recs))):
        dt = quiet(gt.loadRes, src)
        assert cocoeval_stats(gt, dt, "segm") == want
        with pytest.raises(fastap.InvalidAnnotationError) as ei:
            cocoeval_stats(gt, quiet(gt.loadRes, src), "bbox")
        msg = str(ei.value)
        assert "'bbox'" in msg and "record %d" % [r.get("bbox") for r in recs].index([]) in msg, msg
        got = [a["bbox"] for a in dt.dataset["annotations"]]
        assert [list(map(float, b)) for b in got] == [list(map(float, a["bbox"])) for a in pdt.dataset["annotations"]]
        assert [a["area"] for a in dt.dataset["annotations"]] == [a["area"] for a in pdt.dataset["annotations"]]
        # read through the dicts (built above) the next evaluation: the same
        assert cocoeval_stats(gt, dt, "segm") == want


def test_empty_bbox_after_a_box_is_refused(tmp_path):
    """The first record has a box (loadRes' box branch), a later one "bbox": []:
    pycocotools fails (IndexError); fastap says which record, from a file or a list."""
    gt_path, c1, c2 = _masks_gt(str(tmp_path))
    recs = [_rec(c1, [3, 2, 5, 4], 0.9), _rec(c2, [], 0.8)]
    dt_path = str(tmp_path / "results.json")
    with open(dt_path, "w") as f:
        json.dump(recs, f)
    gt = quiet(fastap.COCO, gt_path)
    for src in (dt_path, recs):
        with pytest.raises(fastap.InvalidAnnotationError) as ei:
            quiet(gt.loadRes, src)
        assert "record 1" in str(ei.value) and "bbox" in str(ei.value)


# ---------------------------------------------------------------------------------------
# item 8: duplicated keys -- the last one wins, as json.loads has it
# ---------------------------------------------------------------------------------------

def _dup_cases(c1):
    seg = '{"size": [10, 10], "counts": "%s"}' % c1
    return {
        # results records: a first value the scanner would refuse, then a good one
        "bbox": '{"image_id": 1, "category_id": 1, "score": 0.9, "bbox": [], "bbox": [3, 2, 5, 4]}',
        "image_id": '{"image_id": "one", "image_id": 1, "category_id": 1, "score": 0.9, "bbox": [3, 2, 5, 4]}',
        "category_id": '{"image_id": 1, "category_id": null, "category_id": 1, "score": 0.9, "bbox": [3, 2, 5, 4]}',
        "score": '{"image_id": 1, "category_id": 1, "score": "high", "score": 0.9, "bbox": [3, 2, 5, 4]}',
        "area": '{"image_id": 1, "category_id": 1, "score": 0.9, "area": "x", "area": 7, "bbox": [3, 2, 5, 4]}',
        "bbox, both good": '{"image_id": 1, "category_id": 1, "score": 0.9, "bbox": [0, 0, 1, 1], '
                           '"bbox": [3, 2, 5, 4]}',
        "segmentation": '{"image_id": 1, "category_id": 1, "score": 0.9, "segmentation": 5, "segmentation": %s}'
                        % seg,
        "rle size": '{"image_id": 1, "category_id": 1, "score": 0.9, "segmentation": '
                    '{"size": [], "size": [10, 10], "counts": "%s"}}' % c1,
        "rle size, both good": '{"image_id": 1, "category_id": 1, "score": 0.9, "segmentation": '
                               '{"size": [20, 20], "size": [10, 10], "counts": "%s"}}' % c1,
        "rle counts": '{"image_id": 1, "category_id": 1, "score": 0.9, "segmentation": '
                      '{"size": [10, 10], "counts": 7, "counts": "%s"}}' % c1,
    }


@pytest.mark.parametrize("case", sorted(_dup_cases("x")))
def test_duplicate_keys_in_results_file(tmp_path, case):
    """A results file whose records repeat a key: read as json.loads reads it (the last
    value), so the numbers are pycocotools' on the same file."""
    from pycocotools.coco import COCO as PCOCO
    from pycocotools.cocoeval import COCOeval as PCOCOeval

    gt_path, c1, _ = _masks_gt(str(tmp_path))
    rec = _dup_cases(c1)[case]
    text = "[%s, %s]" % (rec, rec.replace("0.9", "0.4"))
    dt_path = str(tmp_path / "results.json")
    with open(dt_path, "w") as f:
        f.write(text)
    iou_type = "segm" if "segmentation" in rec else "bbox"
    pgt = quiet(PCOCO, gt_path)

    class P:
        COCOeval = PCOCOeval
    want = cocoeval_stats(pgt, quiet(pgt.loadRes, dt_path), iou_type, impl=P)
    gt = quiet(fastap.COCO, gt_path)
    dt = quiet(gt.loadRes, dt_path)
    assert cocoeval_stats(gt, dt, iou_type) == want
    assert [a["score"] for a in dt.dataset["annotations"]] == [0.9, 0.4]


def test_duplicate_keys_last_bad_value_is_an_error(tmp_path):
    """The last value decides: a good first value followed by a bad one is an error
    naming the record and the field."""
    gt_path, _, _ = _masks_gt(str(tmp_path))
    dt_path = str(tmp_path / "results.json")
    with open(dt_path, "w") as f:
        f.write('[{"image_id": 1, "category_id": 1, "score": 0.9, "bbox": [3, 2, 5, 4]}, '
                '{"image_id": 1, "category_id": 1, "score": 0.9, "bbox": [3, 2, 5, 4], "bbox": [1]}]')
    gt = quiet(fastap.COCO, gt_path)
    with pytest.raises(fastap.InvalidFileError) as ei:
        quiet(gt.loadRes, dt_path)
    assert dt_path in str(ei.value) and "record 1" in str(ei.value) and "bbox" in str(ei.value)


def test_duplicate_keys_in_annotation_file(tmp_path):
    """An annotation file whose annotations, images and top-level members repeat keys:
    the C scanner takes it (no fall-back to a slow general parse) and reads the last
    values, as json.loads and pycocotools do."""
    from pycocotools.coco import COCO as PCOCO
    from pycocotools.cocoeval import COCOeval as PCOCOeval

    gt_path, _, _ = _masks_gt(str(tmp_path))
    with open(gt_path) as f:
        text = f.read()
    text = text.replace('"id": 1, "image_id": 1', '"id": "x", "id": 1, "image_id": 1') \
               .replace('"area": 30.0', '"area": null, "area": 30.0') \
               .replace('"bbox": [3, 2, 5, 4]', '"bbox": [], "bbox": [3, 2, 5, 4]') \
               .replace('"iscrowd": 0, "area": 20.0', '"iscrowd": 7, "iscrowd": 0, "area": 20.0') \
               .replace('"images": [', '"images": 5, "images": [')
    assert json.loads(text)["annotations"][0]["id"] == 1
    with open(gt_path, "w") as f:
        f.write(text)
    recs = [{"image_id": 1, "category_id": 1, "score": 0.9, "bbox": [3, 2, 5, 4.5]},
            {"image_id": 1, "category_id": 1, "score": 0.8, "bbox": [3, 1, 6, 5]}]
    pgt = quiet(PCOCO, gt_path)

    class P:
        COCOeval = PCOCOeval
    want = cocoeval_stats(pgt, quiet(pgt.loadRes, recs), "bbox", impl=P)
    gt = quiet(fastap.COCO, gt_path)
    assert gt._raw_anns is not None, "the annotations should have been read by the C scanner"
    assert cocoeval_stats(gt, quiet(gt.loadRes, recs), "bbox") == want
    assert gt.dataset == json.loads(text)


# ---------------------------------------------------------------------------------------
# item 9: nesting deeper than the readers follow
# ---------------------------------------------------------------------------------------

DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize("orjson", ["with orjson", "without orjson"])
@pytest.mark.parametrize("where", ["results: an unknown field", "results: the segmentation",
                                   "annotations: a member", "annotations: an annotation's field"])
def test_deep_nesting_is_an_invalid_file_error(tmp_path, monkeypatch, where, orjson):
    if orjson == "without orjson":
        monkeypatch.setitem(sys.modules, "orjson", None)
    else:
        pytest.importorskip("orjson")
    gt_path, c1, _ = _masks_gt(str(tmp_path))
    path = str(tmp_path / "deep.json")
    if where.startswith("results"):
        field = '"x": %s' % DEEP if "unknown" in where else '"segmentation": %s' % DEEP
        text = '[{"image_id": 1, "category_id": 1, "score": 0.9, "bbox": [3, 2, 5, 4]}, ' \
               '{"image_id": 1, "category_id": 1, "score": 0.9, "bbox": [3, 2, 5, 4], %s}]' % field
    else:
        with open(gt_path) as f:
            ds = json.load(f)
        text = json.dumps(ds)
        text = text[:-1] + ', "deep": %s}' % DEEP if "member" in where else \
            text.replace('"iscrowd": 0, "area": 30.0', '"iscrowd": 0, "deep": %s, "area": 30.0' % DEEP)
    with open(path, "w") as f:
        f.write(text)
    gt = quiet(fastap.COCO, gt_path)
    with pytest.raises(fastap.InvalidFileError) as ei:
        if where.startswith("results"):
            quiet(gt.loadRes, path)
        else:
            quiet(fastap.COCO, path)
    msg = str(ei.value)
    assert path in msg and "nest" in msg, msg
    if where.startswith("results"):
        assert "record 1" in msg, msg


# ---------------------------------------------------------------------------------------
# item 13: files that are no JSON at all
# ---------------------------------------------------------------------------------------

MEMORY_CHILD = """
import contextlib, io, os, resource, sys, time
import fastap
with contextlib.redirect_stdout(io.StringIO()):
    gt = fastap.COCO(%r)
path = %r
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for what in ("results", "annotations"):
    t = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            gt.loadRes(path) if what == "results" else fastap.COCO(path)
        print("NO ERROR", what)
    except fastap.InvalidFileError as e:
        print("ERROR", what, "%%.3f" %% (time.perf_counter() - t), e)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print("GROWN_KB", grown)
"""


@pytest.mark.parametrize("content", ["zeros", "'[' then zeros", "'{' then zeros"])
def test_large_file_of_zeros_is_refused_at_once(tmp_path, content):
    """A 3 GB file of NUL bytes (sparse: cheap to make), or one whose first byte is a
    bracket and the rest zeros: refused within a second, naming the file, with no copy
    of it (the child's peak memory grows by less than 64 MB)."""
    gt_path, _, _ = _masks_gt(str(tmp_path))
    path = str(tmp_path / "zeros.json")
    with open(path, "wb") as f:
        if content != "zeros":
            f.write(content[1].encode())
        f.truncate(3 << 30)
    out = run_child(MEMORY_CHILD % (gt_path, path), timeout=120)
    lines = out.splitlines()
    errors = [x.split(" ", 3) for x in lines if x.startswith(("ERROR", "NO ERROR"))]
    assert len(errors) == 2 and all(e[0] == "ERROR" for e in errors), out
    for e in errors:
        assert float(e[2]) < 1.0 and path in e[3] and ("NUL" in e[3] or "\\x00" in e[3]), out
    grown = int(lines[-1].split()[1])
    assert grown < 64 * 1024, out


def test_dev_zero_and_urandom_are_refused(tmp_path):
    gt_path, _, _ = _masks_gt(str(tmp_path))
    for dev in ("/dev/zero", "/dev/urandom"):
        out = run_child(MEMORY_CHILD % (gt_path, dev), timeout=120)
        lines = out.splitlines()
        errors = [x.split(" ", 3) for x in lines if x.startswith(("ERROR", "NO ERROR"))]
        assert len(errors) == 2 and all(e[0] == "ERROR" and dev in e[3] and float(e[2]) < 1.0 for e in errors), out
        assert int(lines[-1].split()[1]) < 64 * 1024, out


def _through_fifo(tmp_path, payload, load):
    fifo = str(tmp_path / "fifo.json")
    os.mkfifo(fifo)

    def write():
        try:
            with open(fifo, "wb") as f:
                f.write(payload)
        except BrokenPipeError:      # the reader refused the bytes and closed the pipe
            pass
    t = threading.Thread(target=write)
    t.start()
    try:
        return load(fifo), fifo
    finally:
        t.join(timeout=30)


def test_pipe_of_json_is_read(tmp_path):
    """A named pipe (or /dev/stdin, a shell's process substitution) is no regular file:
    it is read in checked chunks, and valid JSON through it gives what the file gives."""
    gt_path, dt_path = write_case(str(tmp_path), "segm")
    gt = quiet(fastap.COCO, gt_path)
    want = cocoeval_stats(gt, quiet(gt.loadRes, dt_path), "segm")
    with open(dt_path, "rb") as f:
        results = f.read()
    with open(gt_path, "rb") as f:
        annotations = f.read()
    dt, _ = _through_fifo(tmp_path, b"\xef\xbb\xbf \n" + results, lambda p: quiet(gt.loadRes, p))
    assert cocoeval_stats(gt, dt, "segm") == want
    os.remove(str(tmp_path / "fifo.json"))
    gt2, _ = _through_fifo(tmp_path, annotations, lambda p: quiet(fastap.COCO, p))
    assert cocoeval_stats(gt2, quiet(gt2.loadRes, dt_path), "segm") == want


def test_pipe_of_zeros_after_a_valid_start_is_refused(tmp_path):
    payload = b'[{"image_id": 1, "category_id": 1, "score": 0.9, "bbox": [3, 2, 5, 4]}, ' + bytes(3 << 20)
    gt_path, _, _ = _masks_gt(str(tmp_path))
    gt = quiet(fastap.COCO, gt_path)

    def load(p):
        with pytest.raises(fastap.InvalidFileError) as ei:
            quiet(gt.loadRes, p)
        return str(ei.value)
    msg, fifo = _through_fifo(tmp_path, payload, load)
    assert fifo in msg and "byte %d" % payload.index(b"\0") in msg, msg


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"])
def test_utf16_and_utf32_files_are_refused_with_a_hint(tmp_path, encoding):
    """UTF-16/32 files (with or without a byte-order mark): refused, naming the file and
    saying how to convert it; pycocotools (which reads UTF-8) refuses them too."""
    gt_path, _, _ = _masks_gt(str(tmp_path))
    gt = quiet(fastap.COCO, gt_path)
    with open(gt_path) as f:
        annotations = f.read()
    for text, load in (('[{"image_id": 1, "category_id": 1, "score": 0.9, "bbox": [3, 2, 5, 4]}]', gt.loadRes),
                       (annotations, fastap.COCO)):
        path = str(tmp_path / ("x-%s.json" % encoding))
        with open(path, "wb") as f:
            f.write((" " + text).encode(encoding))
        with pytest.raises(fastap.InvalidFileError) as ei:
            quiet(load, path)
        msg = str(ei.value)
        assert path in msg and "UTF-16 or UTF-32" in msg and "iconv" in msg, msg


@pytest.mark.parametrize("content", [b"", b" \n\t ", b"\xef\xbb\xbf  ", b"PK\x03\x04\x14\x00", b"\x89PNG\r\n",
                                     b"hello", b"null", b"42", b'"results"', b"[1, \x01]"])
def test_not_json_is_named(tmp_path, content):
    gt_path, _, _ = _masks_gt(str(tmp_path))
    gt = quiet(fastap.COCO, gt_path)
    path = str(tmp_path / "x.json")
    with open(path, "wb") as f:
        f.write(content)
    for load in (gt.loadRes, fastap.COCO):
        with pytest.raises(fastap.InvalidFileError) as ei:
            quiet(load, path)
        assert path in str(ei.value)


def test_utf8_bom_is_read(tmp_path, monkeypatch):
    """A UTF-8 byte-order mark is allowed (json.loads takes it), whichever reader reads
    the text: the C scanner, or the general parser (orjson refuses a BOM by itself)."""
    gt_path, _, _ = _masks_gt(str(tmp_path))
    gt = quiet(fastap.COCO, gt_path)
    path = str(tmp_path / "bom.json")
    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf" + b'[{"image_id": 1, "category_id": 1, "score": 0.9, "bbox": [3, 2, 5, 4]}]')
    dt = quiet(gt.loadRes, path)
    assert [a["score"] for a in dt.dataset["annotations"]] == [0.9]
    assert load_json_bytes(b"\xef\xbb\xbf[1, {}]", "x") == [1, {}]
    monkeypatch.setitem(sys.modules, "orjson", None)
    assert load_json_bytes(b"\xef\xbb\xbf[1, {}]", "x") == [1, {}]


def test_result_columns_of_a_file_with_masks_and_boxes(tmp_path):
    """The array paths (Evaluator.update, dask) read a results file's boxes: a file whose
    records carry masks too gives its boxes (it was a TypeError about a tuple), without
    keeping the file mapped; records without a box are named."""
    from fastap.adapters.records import result_columns
    _, dt_path = write_case(str(tmp_path), "segm+bbox")
    with open(dt_path) as f:
        recs = json.load(f)
    cols = result_columns(dt_path)
    assert np.array_equal(cols["bbox"], np.array([r["bbox"] for r in recs], dtype=np.float64))
    assert cols["score"].tolist() == [r["score"] for r in recs]
    _, dt_path = write_case(str(tmp_path), "segm")
    with pytest.raises(fastap.InvalidAnnotationError) as ei:
        result_columns(dt_path)
    assert dt_path in str(ei.value) and "record 0" in str(ei.value) and "'bbox'" in str(ei.value)

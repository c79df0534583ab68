"""Inputs that once crashed the interpreter: each runs in a child interpreter (a crash
there is a failed test, not a dead test run) and must end in a clear fastap error."""
import subprocess
import sys
import textwrap

import pytest

CASES = {
    # an RLE segmentation whose 'size' is not [h, w] (it was indexed before its length
    # was checked, with Cython's bounds checks off: a segmentation fault)
    "evaluate segm, size []": """
        fastap.evaluate({"image_id": [1], "category_id": [1], "bbox": [[0, 0, 10, 10]],
                         "segmentation": [{"size": [], "counts": "abc"}]},
                        {"image_id": [1], "category_id": [1], "score": [0.9],
                         "segmentation": [{"size": [10, 10], "counts": "f037000`1"}]},
                        iou_type="segm", image_sizes={1: (10, 10)})
    """,
    "evaluate segm, size [h]": """
        fastap.evaluate({"image_id": [1], "category_id": [1], "bbox": [[0, 0, 10, 10]],
                         "segmentation": [{"size": [10, 10], "counts": "f037000`1"}]},
                        {"image_id": [1], "category_id": [1], "score": [0.9],
                         "segmentation": [{"size": [10], "counts": "f037000`1"}]},
                        iou_type="segm", image_sizes={1: (10, 10)})
    """,
    "loadRes list, size []": """
        gt = fastap.COCO({"images": [{"id": 1, "height": 10, "width": 10}],
                          "categories": [{"id": 1, "name": "a"}],
                          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                                           "area": 4.0, "bbox": [0, 0, 2, 2],
                                           "segmentation": [[0, 0, 2, 0, 2, 2, 0, 2]]}]})
        gt.loadRes([{"image_id": 1, "category_id": 1, "score": 0.5,
                     "segmentation": {"size": [], "counts": "f037000`1"}}])
    """,
    "COCO(dict) segm evaluation, size {}": """
        gt = fastap.COCO({"images": [{"id": 1, "height": 10, "width": 10}],
                          "categories": [{"id": 1, "name": "a"}],
                          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                                           "area": 4.0, "bbox": [0, 0, 2, 2],
                                           "segmentation": {"size": {"h": 10, "w": 10}, "counts": "f037000`1"}}]})
        dt = gt.loadRes([{"image_id": 1, "category_id": 1, "score": 0.5,
                          "segmentation": {"size": [10, 10], "counts": "f037000`1"}}])
        ev = fastap.COCOeval(gt, dt, "segm")
        ev.evaluate()
    """,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_rle_size_is_a_clear_error(name):
    code = "import contextlib, io, fastap\n" \
           "try:\n" \
           "    with contextlib.redirect_stdout(io.StringIO()):\n" + \
           textwrap.indent(textwrap.dedent(CASES[name]), "        ") + \
           "except fastap.FastapError as e:\n" \
           "    print('ERROR', type(e).__name__, e)\n" \
           "else:\n" \
           "    print('NO ERROR')\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, "the interpreter died (%d): %s" % (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.startswith("ERROR InvalidAnnotationError"), proc.stdout + proc.stderr[-2000:]
    assert "size" in proc.stdout and "record 0" in proc.stdout, proc.stdout

"""torchmetrics' MeanAveragePrecision(backend="pycocotools") with fastap.init_as_pycocotools()
active gives every metric the real pycocotools gives (fastap/compat.py).

Each run is a subprocess (``WORKER``): one with the replacement, one with the real
pycocotools, so that the two share no module; the returned dicts are compared value for
value (float.hex of every element, shapes and dtypes). torchmetrics calls, in
``torchmetrics/detection/helpers.py``: ``COCO()``, ``.dataset = {...}``, ``createIndex()``,
``mask_utils.encode`` / ``area``, ``COCOeval(gt, dt, iouType=...)``, edits of ``params``
(``iouThrs``, ``recThrs``, ``maxDets``, per class ``catIds = [c]``), of the annotations'
``area`` between the bbox and the segm evaluation, ``evaluate()`` / ``accumulate()`` /
``summarize()``, ``stats``, ``eval["precision" / "recall" / "scores"]`` and ``ious``
(rebuilt as ``type(ious)(mapping)``).

torchvision: torchmetrics needs it for ``torchvision.ops.box_convert`` only (and refuses
to build the metric without it). Where it does not import (here: the PyPI wheel for torch
2.13 is a CUDA build, which fails on the CPU torch), the worker puts a stub of
``box_convert`` in its place, the same in both runs.
"""
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("torchmetrics")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORKER = r'''
import importlib.machinery, json, sys, types
cfg = json.loads(sys.argv[1])
if cfg["fastap"]:
    import fastap
    fastap.init_as_pycocotools()
import numpy as np
import torch


def _stub_torchvision():
    """torchvision.ops.box_convert (as torchvision computes it), for torchmetrics."""
    tv = types.ModuleType("torchvision")
    tv.__spec__ = importlib.machinery.ModuleSpec("torchvision", None, is_package=True)
    tv.__path__ = []
    ops = types.ModuleType("torchvision.ops")
    ops.__spec__ = importlib.machinery.ModuleSpec("torchvision.ops", None)

    def box_convert(boxes, in_fmt, out_fmt):
        if in_fmt == out_fmt:
            return boxes.clone()
        if in_fmt == "xywh":
            x, y, w, h = boxes.unbind(-1)
            boxes = torch.stack([x, y, x + w, y + h], -1)
        elif in_fmt == "cxcywh":
            cx, cy, w, h = boxes.unbind(-1)
            boxes = torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], -1)
        x1, y1, x2, y2 = boxes.unbind(-1)
        if out_fmt == "xywh":
            return torch.stack([x1, y1, x2 - x1, y2 - y1], -1)
        if out_fmt == "cxcywh":
            return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], -1)
        return boxes
    ops.box_convert = box_convert
    tv.ops = ops
    sys.modules["torchvision"], sys.modules["torchvision.ops"] = tv, ops


import torchmetrics.detection.mean_ap as tm_mean_ap
try:
    import torchvision.ops  # noqa: F401
except Exception:
    _stub_torchvision()
    tm_mean_ap._TORCHVISION_AVAILABLE = True
MeanAveragePrecision = tm_mean_ap.MeanAveragePrecision


def inputs(seed, n_images=4, h=48, w=64, n_classes=3):
    """Boxes, masks (the boxes less a corner), labels, crowds; detections near the ground truth."""
    rng = np.random.default_rng(seed)
    preds, target = [], []
    for _ in range(n_images):
        def objs(n):
            x0, y0 = rng.integers(0, w - 8, n), rng.integers(0, h - 8, n)
            x1 = np.minimum(x0 + rng.integers(4, 40, n), w)
            y1 = np.minimum(y0 + rng.integers(4, 30, n), h)
            masks = np.zeros((n, h, w), bool)
            for k in range(n):
                masks[k, y0[k]:y1[k], x0[k]:x1[k]] = True
                masks[k, y0[k]:y0[k] + 2, x0[k]:x0[k] + 2] = False
            return np.stack([x0, y0, x1, y1], 1).astype(np.float32), masks
        ng, nd = int(rng.integers(1, 6)), int(rng.integers(0, 8))
        gb, gm = objs(ng)
        db, dm = objs(nd)
        gl, dl = rng.integers(0, n_classes, ng), rng.integers(0, n_classes, nd)
        k = min(nd, ng)
        if k:
            db[:k] = gb[:k] + rng.normal(0, 1.5, (k, 4)).astype(np.float32)
            db[:, 2:] = np.maximum(db[:, 2:], db[:, :2] + 1)
            dm[:k], dl[:k] = gm[:k], gl[:k]
            dl[:1] = (dl[:1] + 1) % n_classes
        target.append(dict(boxes=torch.tensor(gb), masks=torch.tensor(gm), labels=torch.tensor(gl),
                           iscrowd=torch.tensor((rng.random(ng) < 0.15).astype(np.int64))))
        preds.append(dict(boxes=torch.tensor(db), masks=torch.tensor(dm), labels=torch.tensor(dl),
                          scores=torch.tensor(np.round(rng.random(nd), 2).astype(np.float32))))
    return preds, target


def plain(v):
    """Tensors as shape, dtype and float.hex of each element; dicts as sorted pairs."""
    if isinstance(v, torch.Tensor):
        return [list(v.shape), str(v.dtype), [x.hex() for x in v.double().flatten().tolist()]]
    if isinstance(v, dict):
        # keys by value: pycocotools' (imgId, catId) keys hold NumPy ints (np.unique of
        # params.imgIds), fastap's Python ints; they compare and hash equal, so a dict
        # lookup finds the same entry either way
        return sorted([repr(tuple(int(e) for e in k) if isinstance(k, tuple) else k), plain(x)]
                      for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return repr(v)


metric = MeanAveragePrecision(backend="pycocotools", **cfg["kw"])
for seed in (0, 1):
    metric.update(*inputs(seed))
result = metric.compute()
import pycocotools.cocoeval
out = {k: plain(v) for k, v in result.items()}
out["_cocoeval"] = pycocotools.cocoeval.COCOeval.__module__
print("RESULT" + json.dumps(out))
'''


def run_worker(replace, kw):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    proc = subprocess.run([sys.executable, "-c", WORKER, json.dumps({"fastap": replace, "kw": kw})], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode:
        pytest.fail(("with fastap" if replace else "with pycocotools") + ":\n" + proc.stderr[-3000:], pytrace=False)
    return json.loads(proc.stdout.split("RESULT", 1)[1])


CASES = {
    "bbox": {"iou_type": "bbox"},
    "segm": {"iou_type": "segm"},
    "bbox+segm": {"iou_type": ["bbox", "segm"]},
    "bbox-class_metrics": {"iou_type": "bbox", "class_metrics": True},
    "bbox-extended_summary": {"iou_type": "bbox", "extended_summary": True},
    "segm-class_metrics-extended_summary": {"iou_type": "segm", "class_metrics": True, "extended_summary": True},
    "bbox-params-micro-xywh": {"iou_type": "bbox", "iou_thresholds": [0.5, 0.75], "max_detection_thresholds": [1, 3, 10],
                               "class_metrics": True, "average": "micro", "box_format": "xywh"},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_mean_average_precision_equals_pycocotools(case):
    kw = CASES[case]
    real, ours = run_worker(False, kw), run_worker(True, kw)
    assert real.pop("_cocoeval") == "pycocotools.cocoeval"
    assert ours.pop("_cocoeval") == "fastap.coco"
    assert sorted(ours) == sorted(real)
    for key in real:
        assert ours[key] == real[key], key

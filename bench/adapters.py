"""One adapter per evaluated library, so every library runs the same five steps.

``load(gt_path, results_path)`` -> ``(gt, dt)``; ``make_eval(gt, dt)`` -> an evaluator;
``evaluate(E)``, ``accumulate(E)``, ``summarize(E)``; then ``stats(E)`` (the 12
numbers) and ``arrays(E)`` (``precision``/``recall``/``scores`` where exposed).

The timed "evaluate" phase is ``make_eval`` + ``evaluate``: constructing ``COCOeval``
is part of evaluating (it is cheap everywhere, but a library could hide work there).

Library quirks that matter for reading the phase columns:

* ``faster_coco_eval``: ``COCOeval_faster.evaluate()`` computes the IoUs in Python/
  C++ and, with its default ``separate_eval=False``, also accumulates
  (``COCOevalEvaluateAccumulate``); ``accumulate()`` then does almost nothing. Its
  ``print_function`` defaults to ``logger.info`` (nothing on stdout).
* ``ultrafast_pycocotools``: ``evaluate()`` does matching *and* accumulation in Rust;
  ``accumulate()`` only publishes ``self.eval``. ``loadRes(path)`` parses the file
  natively into a compact form (no per-detection dicts).
* ``hotcoco``: the classes are Rust (``COCO``/``COCOeval`` from ``hotcoco.hotcoco``);
  ``COCOeval.eval`` is a property that builds a new dict on every access, so it is
  read once, outside the timed phases.
* ``fastap.reference``: a function, not classes: "load" is ``json.load`` of both
  files plus the conversion to columnar NumPy arrays; "evaluate" is
  ``evaluate_coco(gt, dt, params)`` (which also accumulates, so "accumulate" is
  empty); "summarize" is ``fastap.reference.summarize`` on its arrays. Its ``Params``
  is ``fastap.params.Params("bbox")`` with ``imgIds``/``catIds`` from the ground truth.
"""

from __future__ import annotations

import json
import os

from bench.data import FASTAP_DIR, import_fastap_module

LIBS = ("fastap", "pycocotools", "faster_coco_eval", "hotcoco", "ultrafast", "reference")
# pycocotools and the pure-Python reference: ``--slow-repeat`` and ``--skip-slow``
SLOW = ("pycocotools", "reference")
# the libraries fastap is compared with as "peers" (not its own reference)
PEERS = ("pycocotools", "faster_coco_eval", "hotcoco", "ultrafast")
ALIASES = {
    "pycoco": "pycocotools",
    "faster-coco-eval": "faster_coco_eval", "faster_coco": "faster_coco_eval", "fce": "faster_coco_eval",
    "ultrafast_pycocotools": "ultrafast", "ultrafast-pycocotools": "ultrafast", "ufcoco": "ultrafast",
    "fastap.reference": "reference", "ref": "reference", "fastap_reference": "reference",
}
DISPLAY = {
    "fastap": "fastap",
    "pycocotools": "pycocotools",
    "faster_coco_eval": "faster_coco_eval",
    "hotcoco": "hotcoco",
    "ultrafast": "ultrafast_pycocotools",
    "reference": "fastap.reference",
}
DISTRIBUTION = {
    "fastap": "fastap", "pycocotools": "pycocotools", "faster_coco_eval": "faster-coco-eval",
    "hotcoco": "hotcoco", "ultrafast": "ultrafast-pycocotools", "reference": "fastap",
}


def iou_type():
    """The evaluated iou type: ``FASTAP_BENCH_IOU_TYPE`` (set by bench.run from the
    data), default bbox."""
    return os.environ.get("FASTAP_BENCH_IOU_TYPE", "bbox")


def results_as_list():
    """True when the results are given to ``loadRes`` as a list of dicts read with
    ``json.load`` (timed in the load) rather than as the file's path:
    ``FASTAP_BENCH_RESULTS=list`` (set by bench.run's ``--results-as list``)."""
    return os.environ.get("FASTAP_BENCH_RESULTS", "file") == "list"


class NotImportable(Exception):
    """The library cannot be imported (or lacks the API): the benchmark skips it."""


def canonical(name):
    n = name.strip()
    n = ALIASES.get(n, ALIASES.get(n.lower(), n.lower()))
    if n not in LIBS:
        raise ValueError("unknown library %r (known: %s)" % (name, ", ".join(LIBS)))
    return n


def _dist_version(dist):
    try:
        from importlib.metadata import version
        return version(dist)
    except Exception:
        return None


def _fastap_version():
    """fastap's version from ``fastap/_version.py`` (works without the extension)."""
    ns = {}
    try:
        with open(os.path.join(FASTAP_DIR, "_version.py")) as f:
            exec(f.read(), ns)
        return ns.get("__version__")
    except OSError:
        return None


class CocoApiAdapter:
    """A library with pycocotools' ``COCO``/``COCOeval`` interface."""

    has_accumulate = True

    def __init__(self, name, COCO, COCOeval, version, module_file=None, eval_kwargs=None):
        self.name = name
        self.COCO = COCO
        self.COCOeval = COCOeval
        self.version = version
        self.module_file = module_file
        self.eval_kwargs = eval_kwargs or {}

    def load(self, gt_path, dt_path):
        gt = self.COCO(gt_path)
        if results_as_list():
            with open(dt_path) as f:
                dt = gt.loadRes(json.load(f))
        else:
            dt = gt.loadRes(dt_path)
        return gt, dt

    def make_eval(self, gt, dt):
        return self.COCOeval(gt, dt, iou_type(), **self.eval_kwargs)

    def evaluate(self, E):
        E.evaluate()

    def accumulate(self, E):
        E.accumulate()

    def summarize(self, E):
        E.summarize()

    def stats(self, E):
        return [float(x) for x in list(E.stats)[:12]]

    def arrays(self, E):
        import numpy as np
        ev = E.eval  # hotcoco builds a new dict per access: read it once
        out = {}
        if not ev:
            return out
        for k in ("precision", "recall", "scores"):
            try:
                v = ev[k]
            except (KeyError, TypeError):
                continue
            if v is not None:
                out[k] = np.asarray(v, dtype=np.float64)
        return out


def _import_fastap():
    try:
        import fastap
        COCO, COCOeval = fastap.COCO, fastap.COCOeval
    except Exception as e:  # ImportError, AttributeError (engine not there yet), ...
        raise NotImportable("%s: %s" % (type(e).__name__, e)) from e
    v = getattr(fastap, "__version__", None) or _fastap_version()
    return CocoApiAdapter("fastap", COCO, COCOeval, v, getattr(fastap, "__file__", None))


def _import_pycocotools():
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
        import pycocotools
    except Exception as e:
        raise NotImportable("%s: %s" % (type(e).__name__, e)) from e
    return CocoApiAdapter("pycocotools", COCO, COCOeval, _dist_version("pycocotools"),
                          pycocotools.__file__)


def _import_faster_coco_eval():
    try:
        import faster_coco_eval
        from faster_coco_eval import COCO, COCOeval_faster
    except Exception as e:
        raise NotImportable("%s: %s" % (type(e).__name__, e)) from e
    v = getattr(faster_coco_eval, "__version__", None) or _dist_version("faster-coco-eval")
    return CocoApiAdapter("faster_coco_eval", COCO, COCOeval_faster, v, faster_coco_eval.__file__)


def _import_hotcoco():
    try:
        import hotcoco
        from hotcoco import COCO, COCOeval
    except Exception as e:
        raise NotImportable("%s: %s" % (type(e).__name__, e)) from e
    v = getattr(hotcoco, "__version__", None) or _dist_version("hotcoco")
    return CocoApiAdapter("hotcoco", COCO, COCOeval, v, hotcoco.__file__)


def _import_ultrafast():
    try:
        import ultrafast_pycocotools
        from ultrafast_pycocotools import COCO, COCOeval
    except Exception as e:
        raise NotImportable("%s: %s" % (type(e).__name__, e)) from e
    v = getattr(ultrafast_pycocotools, "__version__", None) or _dist_version("ultrafast-pycocotools")
    return CocoApiAdapter("ultrafast", COCO, COCOeval, v, ultrafast_pycocotools.__file__)


# --------------------------------------------------------------------------------------
# fastap.reference (pure Python, columnar input)
# --------------------------------------------------------------------------------------

def columnar_from_json(gt_path, dt_path):
    """``json.load`` both files and convert to the reference's columnar dicts.

    Detections get ``area = w * h`` as ``COCO.loadRes`` sets it for bbox results.
    Returns ``(gt, dt, image_ids, category_ids)``.
    """
    import numpy as np
    with open(gt_path) as f:
        dataset = json.load(f)
    with open(dt_path) as f:
        results = json.load(f)
    anns = dataset.get("annotations", [])
    gt = dict(
        id=np.array([a["id"] for a in anns], dtype=np.int64),
        image_id=np.array([a["image_id"] for a in anns], dtype=np.int64),
        category_id=np.array([a["category_id"] for a in anns], dtype=np.int64),
        bbox=np.array([a["bbox"] for a in anns], dtype=np.float64).reshape(-1, 4),
        area=np.array([a["area"] for a in anns], dtype=np.float64),
        iscrowd=np.array([a.get("iscrowd", 0) for a in anns], dtype=np.uint8),
    )
    if any("ignore" in a for a in anns):
        gt["ignore"] = np.array([a.get("ignore", 0) for a in anns], dtype=np.uint8)
    bbox = np.array([r["bbox"] for r in results], dtype=np.float64).reshape(-1, 4)
    dt = dict(
        image_id=np.array([r["image_id"] for r in results], dtype=np.int64),
        category_id=np.array([r["category_id"] for r in results], dtype=np.int64),
        bbox=bbox,
        score=np.array([r["score"] for r in results], dtype=np.float64),
        area=bbox[:, 2] * bbox[:, 3],
    )
    image_ids = sorted(int(im["id"]) for im in dataset.get("images", []))
    category_ids = sorted(int(c["id"]) for c in dataset.get("categories", []))
    return gt, dt, image_ids, category_ids


class _RefEval:
    def __init__(self, gt, dt, params):
        self.gt, self.dt, self.params = gt, dt, params
        self.eval = {}
        self.stats = []


class ReferenceAdapter:
    """``fastap.reference.evaluate_coco`` on columnar arrays."""

    name = "reference"
    has_accumulate = False

    def __init__(self, module):
        self.module = module
        self.evaluate_coco = module.evaluate_coco
        self._summarize = module.summarize
        self.Params = import_fastap_module("params").Params
        self.version = getattr(module, "__version__", None) or _fastap_version()
        self.module_file = getattr(module, "__file__", None)

    def load(self, gt_path, dt_path):
        gt, dt, image_ids, category_ids = columnar_from_json(gt_path, dt_path)
        return (gt, image_ids, category_ids), dt

    def _params(self, image_ids, category_ids):
        p = self.Params("bbox")
        p.imgIds = list(image_ids)
        p.catIds = list(category_ids)
        return p

    def make_eval(self, gt, dt):
        gt_cols, image_ids, category_ids = gt
        return _RefEval(gt_cols, dt, self._params(image_ids, category_ids))

    def evaluate(self, E):
        E.eval = dict(self.evaluate_coco(E.gt, E.dt, E.params))

    def accumulate(self, E):
        pass

    def summarize(self, E):
        E.stats = self._summarize(E.eval["precision"], E.eval["recall"], E.params)[0]

    def stats(self, E):
        return [float(x) for x in E.stats]

    def arrays(self, E):
        import numpy as np
        return {k: np.asarray(E.eval[k], dtype=np.float64)
                for k in ("precision", "recall", "scores") if E.eval.get(k) is not None}


def _import_reference():
    if iou_type() != "bbox":
        raise NotImportable("fastap.reference evaluates bbox only")
    try:
        module = import_fastap_module("reference")
        module.evaluate_coco
    except Exception as e:
        raise NotImportable("%s: %s" % (type(e).__name__, e)) from e
    return ReferenceAdapter(module)


_IMPORTERS = {
    "fastap": _import_fastap,
    "pycocotools": _import_pycocotools,
    "faster_coco_eval": _import_faster_coco_eval,
    "hotcoco": _import_hotcoco,
    "ultrafast": _import_ultrafast,
    "reference": _import_reference,
}


def get_adapter(name):
    """Import the library and return its adapter; raise :class:`NotImportable`."""
    return _IMPORTERS[canonical(name)]()

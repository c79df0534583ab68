"""The benchmark data: ``fastap.synthetic`` files, generated once and cached.

The files live in ``<data dir>/<scale>-seed<seed>/`` (``gt.json``, ``results.json``
and ``meta.json``); the data dir is ``--data-dir``, else ``$FASTAP_BENCH_DATA``, else
``<tmp>/fastap-bench-data``. ``meta.json`` records the sizes and a hash of
``fastap/synthetic.py``: a changed generator regenerates the files.

``fastap.synthetic`` is imported without running ``fastap/__init__.py`` when that
fails (before the compiled extension is built): see :func:`import_fastap_module`.

Run as ``python -m bench.data SCALE [SEED] [DATA_DIR]`` to generate in a separate
process (the parent of the benchmark does that so its own memory stays small).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import subprocess
import sys
import tempfile
import types

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FASTAP_DIR = os.path.join(REPO_ROOT, "fastap")
SCALES = ("tiny", "small", "coco_val2017", "objects365", "segm_1k", "segm_5k", "segm_1k_poly", "segm_1k_poly_nobox",
          "kpt_person")
# the iou type of each scale (bbox unless listed)
IOU_TYPES = {"segm_1k": "segm", "segm_5k": "segm", "segm_1k_poly": "segm", "segm_1k_poly_nobox": "segm",
             "kpt_person": "keypoints"}
# generator arguments of the mask / keypoint scales (COCO val2017-like statistics;
# person keypoints: 6,352 people with keypoints on 5,000 images, 20 detections each)
EXTRA_SCALES = {
    "segm_1k": dict(n_images=1000, n_categories=80, gt_per_image=7.3, dets_per_image=100),
    "segm_5k": dict(n_images=5000, n_categories=80, gt_per_image=7.3, dets_per_image=100),
    # results as polygons (a contour exporter's output, 20-60 vertices, some in two parts),
    # with their box (pycocotools' loadRes then takes its box branch: area = w*h; every
    # peer reads them) or without (loadRes' mask branch: area of the rasterised polygons;
    # pycocotools, faster-coco-eval and ultrafast-pycocotools reject them)
    "segm_1k_poly": dict(n_images=1000, n_categories=80, gt_per_image=7.3, dets_per_image=100,
                         result_format="polygon", with_bbox=True),
    "segm_1k_poly_nobox": dict(n_images=1000, n_categories=80, gt_per_image=7.3, dets_per_image=100,
                               result_format="polygon"),
    "kpt_person": dict(n_images=5000, gt_per_image=1.3, dets_per_image=20),
}


def iou_type_of(scale):
    return IOU_TYPES.get(scale, "bbox")
# scales at which ``--skip-slow`` skips pycocotools and the pure-Python reference
BIG_SCALES = ("coco_val2017", "objects365")


def import_fastap_module(name):
    """Import ``fastap.<name>`` from this repository's ``fastap/`` directory.

    First the normal way; if that fails (``fastap/__init__.py`` imports the compiled
    extension, which may not be built yet), ``fastap`` is registered as a bare package
    whose ``__init__`` is not run, so pure-Python submodules (and their relative
    imports of other pure-Python submodules) still load.
    """
    full = "fastap." + name
    try:
        return importlib.import_module(full)
    except Exception as first:
        for k in [k for k in sys.modules if k == "fastap" or k.startswith("fastap.")]:
            del sys.modules[k]
        pkg = types.ModuleType("fastap")
        pkg.__path__ = [FASTAP_DIR]
        pkg.__file__ = os.path.join(FASTAP_DIR, "__init__.py")
        pkg.__package__ = "fastap"
        sys.modules["fastap"] = pkg
        try:
            return importlib.import_module(full)
        except Exception as second:
            for k in [k for k in sys.modules if k == "fastap" or k.startswith("fastap.")]:
                del sys.modules[k]
            a = "%s: %s" % (type(first).__name__, first)
            b = "%s: %s" % (type(second).__name__, second)
            raise ImportError(a if a == b else "%s; without running fastap/__init__.py: %s"
                              % (a, b)) from second


def _synthetic_hash():
    with open(os.path.join(FASTAP_DIR, "synthetic.py"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def default_data_dir():
    return os.environ.get("FASTAP_BENCH_DATA") or os.path.join(tempfile.gettempdir(),
                                                               "fastap-bench-data")


def data_paths(scale, seed=0, data_dir=None):
    d = os.path.join(data_dir or default_data_dir(), "%s-seed%d" % (scale, seed))
    return d, os.path.join(d, "gt.json"), os.path.join(d, "results.json"), os.path.join(d, "meta.json")


def read_meta(scale, seed=0, data_dir=None):
    """The cached files' ``meta.json``, or ``None`` when missing or stale."""
    _, gt, dt, meta = data_paths(scale, seed, data_dir)
    if not (os.path.exists(gt) and os.path.exists(dt) and os.path.exists(meta)):
        return None
    try:
        with open(meta) as f:
            m = json.load(f)
    except (OSError, ValueError):
        return None
    if m.get("synthetic_sha256") != _synthetic_hash():
        return None
    if m.get("gt_bytes") != os.path.getsize(gt) or m.get("results_bytes") != os.path.getsize(dt):
        return None
    return m


def generate(scale, seed=0, data_dir=None):
    """Write the files in this process; return ``meta``."""
    if scale not in SCALES:
        raise ValueError("unknown scale %r (one of %s)" % (scale, ", ".join(SCALES)))
    synthetic = import_fastap_module("synthetic")
    d, gt_path, dt_path, meta_path = data_paths(scale, seed, data_dir)
    os.makedirs(d, exist_ok=True)
    if os.path.exists(meta_path):
        os.remove(meta_path)
    kind = iou_type_of(scale)
    if kind == "segm":
        try:                    # the same RLEs either way; pycocotools needs no build
            import pycocotools.mask as mask_api
        except ImportError:
            mask_api = import_fastap_module("mask")
        kw = dict(EXTRA_SCALES[scale])
        kw.setdefault("with_bbox", False)
        dataset, results = synthetic.make_segm_coco(seed=seed, mask_api=mask_api, **kw)
    elif kind == "keypoints":
        dataset, results = synthetic.make_keypoints_coco(seed=seed, **EXTRA_SCALES[scale])
    else:
        dataset, results = synthetic.make_coco(seed=seed, scale=scale)
    # write to temporary names, then rename: a killed run leaves no half file behind
    for obj, path in ((dataset, gt_path), (results, dt_path)):
        with open(path + ".part", "w") as f:
            json.dump(obj, f)
        os.replace(path + ".part", path)
    meta = dict(
        scale=scale, seed=seed, iou_type=kind,
        params=dict(EXTRA_SCALES[scale] if scale in EXTRA_SCALES else synthetic.SCALES[scale]),
        n_images=len(dataset["images"]), n_categories=len(dataset["categories"]),
        n_gt=len(dataset["annotations"]), n_dt=len(results),
        n_crowd=sum(1 for a in dataset["annotations"] if a.get("iscrowd")),
        gt_bytes=os.path.getsize(gt_path), results_bytes=os.path.getsize(dt_path),
        synthetic_sha256=_synthetic_hash(),
    )
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def ensure_data(scale, seed=0, data_dir=None, subprocess_=True, log=None):
    """Return ``(gt_path, results_path, meta)``, generating the files when needed.

    With ``subprocess_`` the generation runs in a child interpreter, so the caller's
    peak memory is not raised by it.
    """
    meta = read_meta(scale, seed, data_dir)
    if meta is None:
        if log:
            log("generating %s data (seed %d) in %s ..." % (scale, seed,
                                                           data_paths(scale, seed, data_dir)[0]))
        if subprocess_:
            cmd = [sys.executable, "-m", "bench.data", scale, str(seed)]
            if data_dir:
                cmd.append(data_dir)
            subprocess.run(cmd, cwd=REPO_ROOT, check=True)
            meta = read_meta(scale, seed, data_dir)
            if meta is None:
                raise RuntimeError("data generation for %s did not produce valid files" % scale)
        else:
            meta = generate(scale, seed, data_dir)
    _, gt, dt, _ = data_paths(scale, seed, data_dir)
    return gt, dt, meta


if __name__ == "__main__":
    a = sys.argv[1:]
    if not a or a[0] in ("-h", "--help"):
        print("usage: python -m bench.data SCALE [SEED] [DATA_DIR]   (scales: %s)" % ", ".join(SCALES))
        sys.exit(0 if a else 2)
    m = generate(a[0], int(a[1]) if len(a) > 1 else 0, a[2] if len(a) > 2 else None)
    print(json.dumps(m))

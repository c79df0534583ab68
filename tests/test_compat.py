"""fastap.init_as_pycocotools(): pycocotools' module names give fastap's drop-ins, and
restore_pycocotools() puts sys.modules back as it was (fastap/compat.py).

In-process tests restore in a fixture and check that sys.modules and sys.meta_path are
as before; the end-to-end comparisons run the replaced and the real pycocotools in two
subprocesses, so that they share no module."""
import importlib
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import pycocotools._mask as real_c_mask
import pycocotools.coco as real_coco
import pycocotools.cocoeval as real_cocoeval
import pycocotools.mask as real_mask

import fastap
import fastap.mask
from fastap.compat import MODULE_NAMES, PYCOCOTOOLS_VERSION

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MASK_FUNCTIONS = ["encode", "decode", "area", "toBbox", "iou", "merge", "frPyObjects"]


def _pycocotools_entries():
    return {k: m for k, m in sys.modules.items() if k == "pycocotools" or k.startswith("pycocotools.")}


@pytest.fixture
def replaced():
    """The replacement, active for one test; afterwards sys.modules is as before it."""
    before, meta_path = _pycocotools_entries(), list(sys.meta_path)
    handle = fastap.init_as_pycocotools()
    try:
        yield handle
    finally:
        fastap.restore_pycocotools()
        after = _pycocotools_entries()
        assert sorted(after) == sorted(before) and all(after[k] is before[k] for k in before)
        assert sys.meta_path == meta_path


def run_python(code, timeout=300):
    """Run ``code`` in a fresh interpreter that imports this checkout of fastap; its stdout."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout


# ----------------------------------------------------------------------------- the modules

def test_find_spec_and_import_module(replaced):
    for name in MODULE_NAMES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.name == name
        module = importlib.import_module(name)
        assert module is sys.modules[name] and module.__spec__ is spec
        assert os.path.isfile(module.__file__) and module.__file__.startswith(os.path.dirname(fastap.__file__))
    package = sys.modules["pycocotools"]
    assert package.__path__ == [] and package.__spec__.submodule_search_locations == []
    assert importlib.util.find_spec("pycocotools.not_a_module") is None
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("pycocotools.not_a_module")


def test_imports_give_fastaps_objects(replaced):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval, Params, maskUtils
    import pycocotools.mask as mask_util
    import pycocotools._mask as c_mask
    import pycocotools
    from pycocotools import coco, cocoeval, mask
    assert COCO is fastap.COCO and COCOeval is fastap.COCOeval and Params is fastap.Params
    assert maskUtils is mask_util and coco.maskUtils is mask_util and mask_util._mask is c_mask
    assert (pycocotools.coco, pycocotools.cocoeval, pycocotools.mask) == (coco, cocoeval, mask)
    assert mask is mask_util and pycocotools._mask is c_mask
    for f in MASK_FUNCTIONS:
        assert getattr(mask_util, f) is getattr(fastap.mask, f) and getattr(c_mask, f) is getattr(fastap.mask, f)
    assert coco._isArrayLike([1]) and not coco._isArrayLike(3)


def test_c_mask_names_are_the_real_ones_fastap_has(replaced):
    """pycocotools._mask gives the real C module's functions that fastap.mask has; the rest
    are the C module's helpers and classes, documented as missing."""
    import pycocotools._mask as c_mask
    real = {n for n in dir(real_c_mask) if not n.startswith("_") and callable(getattr(real_c_mask, n))}
    ours = {n for n in dir(c_mask) if not n.startswith("_")}
    assert ours == set(MASK_FUNCTIONS)
    assert real - ours == {"frBbox", "frPoly", "frUncompressedRLE", "RLEs", "Masks"}


def test_version(replaced):
    for name in MODULE_NAMES[1:]:
        assert sys.modules[name].__version__ == PYCOCOTOOLS_VERSION == "2.0.11"
    import pycocotools
    assert not hasattr(pycocotools, "__version__") and not hasattr(sys.modules["pycocotools"], "__version__")
    # mmdetection's test for mmpycocotools (mmdet/datasets/api_wrappers/coco_api.py) stays quiet
    assert not getattr(pycocotools, "__version__", "0") >= "12.0.2"
    version = tuple(int(p) for p in PYCOCOTOOLS_VERSION.split("."))
    assert version >= (2, 0, 9)          # torchmetrics' newest pycocotools check
    assert version >= tuple(int(p) for p in real_coco.__version__.split("."))   # the real coco module's "2.0"


def test_lazy_import_inside_a_function_gets_fastap():
    def compute():                      # as torchmetrics' compute(): the import runs at call time
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
        import pycocotools.mask as mask_utils
        return COCO, COCOeval, mask_utils.encode
    assert compute() == (real_coco.COCO, real_cocoeval.COCOeval, real_mask.encode)
    with fastap.init_as_pycocotools():
        assert compute() == (fastap.COCO, fastap.COCOeval, fastap.mask.encode)
    assert compute() == (real_coco.COCO, real_cocoeval.COCOeval, real_mask.encode)


def test_reload_keeps_the_replacement(replaced):
    import pycocotools.coco
    assert importlib.reload(pycocotools.coco).COCO is fastap.COCO
    del sys.modules["pycocotools.cocoeval"]
    assert importlib.import_module("pycocotools.cocoeval").COCOeval is fastap.COCOeval


def test_names_bound_before_the_call_keep_the_real_objects(replaced):
    """Documented limit: the call must come before the framework's import."""
    assert real_coco.COCO is not fastap.COCO and real_coco.__name__ == "pycocotools.coco"
    assert sys.modules["pycocotools.coco"] is not real_coco


def test_metadata_is_the_installed_distribution():
    """Documented limit: importlib.metadata reports the installed pycocotools, not fastap."""
    import importlib.metadata
    installed = importlib.metadata.version("pycocotools")
    with fastap.init_as_pycocotools():
        assert importlib.metadata.version("pycocotools") == installed
        assert os.path.dirname(real_coco.__file__) != os.path.dirname(sys.modules["pycocotools"].__file__)


# ----------------------------------------------------------------------------- idempotence, restore, `with`

def test_idempotent(replaced):
    assert replaced.owner and replaced.active
    state = dict(_pycocotools_entries()), list(sys.meta_path)
    second = fastap.init_as_pycocotools()
    assert not second.owner and second.active
    assert _pycocotools_entries() == state[0] and all(_pycocotools_entries()[k] is m for k, m in state[0].items())
    assert sys.meta_path == state[1]
    with second:                         # a handle that did not install leaves it in place
        pass
    assert replaced.active and sys.modules["pycocotools.coco"].COCO is fastap.COCO


def test_restore_brings_back_the_real_modules():
    before = _pycocotools_entries()
    assert before["pycocotools.coco"] is real_coco
    fastap.init_as_pycocotools()
    assert sys.modules["pycocotools.coco"] is not real_coco
    assert fastap.restore_pycocotools() is True
    after = _pycocotools_entries()
    assert sorted(after) == sorted(before) and all(after[k] is before[k] for k in before)
    assert fastap.restore_pycocotools() is False          # nothing left to undo
    from pycocotools.coco import COCO
    assert COCO is real_coco.COCO


def test_restore_removes_what_was_not_there():
    code = """
import sys, importlib.util
import fastap
had = sorted(k for k in sys.modules if k.startswith("pycocotools"))
fastap.init_as_pycocotools()
from pycocotools.coco import COCO
assert COCO is fastap.COCO
fastap.restore_pycocotools()
left = sorted(k for k in sys.modules if k.startswith("pycocotools"))
import pycocotools.coco
print(had, left, pycocotools.coco.COCO is fastap.COCO, "site-packages" in pycocotools.coco.__file__
      or "dist-packages" in pycocotools.coco.__file__)
"""
    assert run_python(code).split() == ["[]", "[]", "False", "True"]


def test_context_manager():
    with fastap.init_as_pycocotools() as handle:
        assert handle.active and handle.owner
        import pycocotools.cocoeval
        assert pycocotools.cocoeval.COCOeval is fastap.COCOeval
        with fastap.init_as_pycocotools() as inner:       # nested: the outer block owns it
            assert not inner.owner
        assert sys.modules["pycocotools.cocoeval"].COCOeval is fastap.COCOeval
    assert not handle.active and sys.modules["pycocotools.cocoeval"] is real_cocoeval
    with pytest.raises(KeyError):                           # restored on an exception too
        with fastap.init_as_pycocotools():
            raise KeyError("x")
    assert sys.modules["pycocotools.cocoeval"] is real_cocoeval


# ----------------------------------------------------------------------------- same numbers as pycocotools

EVAL_SCRIPT = """
import json, sys
if {replace}:
    import fastap
    fastap.init_as_pycocotools()
import contextlib, io
import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from fastap.synthetic import make_coco
out = {{}}
for seed in (0, 1):
    dataset, results = make_coco(seed=seed, edge_cases=True, n_images=12, n_categories=3)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = dataset
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(results), iouType="bbox")
        ev.evaluate(); ev.accumulate(); ev.summarize()
    out[seed] = [COCOeval.__module__, list(map(float, ev.stats)), ev.eval["precision"].ravel().tolist(),
                 ev.eval["recall"].ravel().tolist()]
print(json.dumps(out))
"""


def test_framework_code_after_init_gives_pycocotools_numbers():
    real = json.loads(run_python(EVAL_SCRIPT.format(replace=False)))
    ours = json.loads(run_python(EVAL_SCRIPT.format(replace=True)))
    for seed in real:
        assert real[seed][0] == "pycocotools.cocoeval" and ours[seed][0].startswith("fastap.")
        assert ours[seed][1] == real[seed][1]                     # bit for bit (JSON keeps doubles exact)
        assert ours[seed][2:] == real[seed][2:]
        assert max(real[seed][1]) > 0


def _masks(seed=0, n=5, h=37, w=53):
    rng = np.random.default_rng(seed)
    m = np.zeros((h, w, n), np.uint8, order="F")
    for k in range(n):
        y0, x0 = rng.integers(0, h - 5), rng.integers(0, w - 5)
        m[y0:y0 + rng.integers(3, 20), x0:x0 + rng.integers(3, 30), k] = 1
        m[rng.integers(0, h, 20), rng.integers(0, w, 20), k] = 1
    return m


def test_mask_functions_equal_the_real_ones(replaced):
    import pycocotools.mask as mask_util
    import pycocotools._mask as c_mask
    m = _masks()
    rles, real_rles = mask_util.encode(m), real_mask.encode(m)
    assert rles == real_rles and mask_util.encode(m[:, :, 0]) == real_mask.encode(np.asfortranarray(m[:, :, 0]))
    assert np.array_equal(mask_util.decode(rles), real_mask.decode(real_rles))
    assert np.array_equal(mask_util.area(rles), real_mask.area(real_rles))
    assert np.array_equal(mask_util.toBbox(rles), real_mask.toBbox(real_rles))
    crowd = [0, 1, 0, 0, 1]
    assert np.array_equal(mask_util.iou(rles, rles[::-1], crowd), real_mask.iou(real_rles, real_rles[::-1], crowd))
    assert mask_util.merge(rles) == real_mask.merge(real_rles)
    assert mask_util.merge(rles, intersect=1) == real_mask.merge(real_rles, intersect=1)
    polys = [[3.0, 4.0, 20.5, 6.0, 15.0, 30.25, 2.0, 25.0], [10.0, 10.0, 30.0, 12.0, 25.0, 20.0]]
    assert mask_util.frPyObjects(polys, 37, 53) == real_mask.frPyObjects(polys, 37, 53)
    boxes = np.array([[1.5, 2.0, 10.0, 7.25], [0.0, 0.0, 53.0, 37.0]])
    assert mask_util.frPyObjects(boxes, 37, 53) == real_mask.frPyObjects(boxes, 37, 53)
    assert c_mask.encode(m) == real_c_mask.encode(m)
    assert np.array_equal(c_mask.area(rles), real_c_mask.area(real_rles))
    assert np.array_equal(c_mask.iou(rles, rles, crowd), real_c_mask.iou(real_rles, real_rles, crowd))

"""``fastap.init_as_pycocotools()``: frameworks that ``import pycocotools`` get fastap.

After the call, ``import pycocotools``, ``from pycocotools.coco import COCO``,
``from pycocotools.cocoeval import COCOeval, Params, maskUtils`` and
``import pycocotools.mask as mask_util`` give fastap's objects, wherever the import
happens: at the top of a module imported afterwards, or lazily inside a function
(torchmetrics imports ``pycocotools.coco`` inside its ``compute()``)::

    import fastap
    fastap.init_as_pycocotools()      # first: before the framework is imported
    import torchmetrics               # ... its COCO / COCOeval are now fastap's

    with fastap.init_as_pycocotools():        # or only for a block
        metric.compute()

How it works. Five modules are registered in ``sys.modules``: ``pycocotools`` (a
package: ``__path__ == []``, its spec has ``submodule_search_locations``),
``pycocotools.coco``, ``pycocotools.cocoeval``, ``pycocotools.mask`` and
``pycocotools._mask``. They are ordinary module objects made by the import system
from a ``ModuleSpec`` whose loader is a finder placed first on ``sys.meta_path`` while
the replacement is active, so ``importlib.util.find_spec("pycocotools.mask")``,
``importlib.import_module`` and ``importlib.reload`` give the replacement too (never
the installed pycocotools). Their ``__file__`` is the fastap source that implements
them. The submodules carry ``__version__ == PYCOCOTOOLS_VERSION`` ("2.0.11": the
pycocotools release fastap is tested against, bit for bit; of the real modules only
``coco`` defines one, "2.0"). The package, like the real one, has none: mmdetection
tells mmpycocotools apart by ``getattr(pycocotools, '__version__', '0') >= '12.0.2'``,
a string comparison that any "2.x" passes, so a package version would make it warn
"mmpycocotools is deprecated".

==========================  ====================================================================
module                      names (fastap's objects)
==========================  ====================================================================
``pycocotools``             ``coco``, ``cocoeval``, ``mask``, ``_mask`` (the modules below)
``pycocotools.coco``        ``COCO`` (:class:`fastap.COCO`), ``maskUtils`` (the mask module),
                            ``_isArrayLike``
``pycocotools.cocoeval``    ``COCOeval`` (:class:`fastap.COCOeval`), ``Params``, ``maskUtils``
``pycocotools.mask``        ``encode``, ``decode``, ``area``, ``toBbox``, ``iou``, ``merge``,
                            ``frPyObjects`` (:mod:`fastap.mask`), ``_mask``
``pycocotools._mask``       the same seven functions. Not provided: the C module's helpers
                            ``frBbox``, ``frPoly``, ``frUncompressedRLE`` (use
                            ``frPyObjects``) and its classes ``RLEs``, ``Masks``
==========================  ====================================================================

Undoing it. ``fastap.restore_pycocotools()`` puts back exactly the ``pycocotools``
entries ``sys.modules`` held before (the same module objects when the real
pycocotools had been imported; nothing when it had not) and removes the finder.
``init_as_pycocotools()`` returns a :class:`PycocotoolsReplacement`; used in ``with``,
the block's end restores as ``restore_pycocotools()`` does. The call is idempotent: a
second call while the replacement is active changes nothing, and the handle it returns
restores nothing at the end of a ``with`` (the replacement ends with the outer block,
or with ``restore_pycocotools()``).

What it cannot do:

* a module that ran ``from pycocotools.coco import COCO`` (or ``import
  pycocotools.coco``) before the call keeps the real objects it bound; call
  ``init_as_pycocotools()`` before importing the framework (the same holds in
  reverse: after ``restore_pycocotools()``, names bound meanwhile stay fastap's);
* the installed distribution's metadata is not touched:
  ``importlib.metadata.version("pycocotools")`` gives the real install's version, or
  raises ``PackageNotFoundError`` when pycocotools is not installed (a framework that
  checks it needs pycocotools installed; torchmetrics falls back to importing the
  module when the metadata is missing, except for its version checks);
* other processes (DataLoader workers, ``torch.multiprocessing`` ranks started with
  ``spawn``) start without the replacement: call it in their entry point too.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading

from . import coco as _fastap_coco
from . import lvis as _fastap_lvis
from . import mask
from .coco import COCO, COCOeval
from .lvis import LVIS, LVISEval, LVISResults
from .params import Params

__all__ = ["PYCOCOTOOLS_VERSION", "PycocotoolsReplacement", "init_as_pycocotools", "restore_pycocotools",
           "LvisReplacement", "init_as_lvis", "restore_lvis"]

#: the ``__version__`` the replacement modules carry: the pycocotools release whose
#: numbers and object model fastap reproduces (its test oracle)
PYCOCOTOOLS_VERSION = "2.0.11"

_MASK_FUNCTIONS = ("encode", "decode", "area", "toBbox", "iou", "merge", "frPyObjects")
_SUBMODULES = ("coco", "cocoeval", "mask", "_mask")
# import order: a module's names may refer to the modules before it
MODULE_NAMES = ("pycocotools", "pycocotools._mask", "pycocotools.mask", "pycocotools.coco",
                "pycocotools.cocoeval")


def _is_array_like(obj):
    """pycocotools.coco's ``_isArrayLike``: iterable and sized."""
    return hasattr(obj, "__iter__") and hasattr(obj, "__len__")


def _contents(name):
    """The names the replacement module ``name`` holds (its submodules come from the import)."""
    mask_functions = {f: getattr(mask, f) for f in _MASK_FUNCTIONS}
    modules = sys.modules
    return {
        "pycocotools": {},
        "pycocotools._mask": mask_functions,
        "pycocotools.mask": {**mask_functions, "_mask": modules.get("pycocotools._mask")},
        "pycocotools.coco": {"COCO": COCO, "maskUtils": modules.get("pycocotools.mask"),
                             "_isArrayLike": _is_array_like},
        "pycocotools.cocoeval": {"COCOeval": COCOeval, "Params": Params,
                                 "maskUtils": modules.get("pycocotools.mask")},
    }[name]


def _origin(name):
    return {"pycocotools": __file__, "pycocotools._mask": mask.__file__, "pycocotools.mask": mask.__file__,
            "pycocotools.coco": _fastap_coco.__file__, "pycocotools.cocoeval": _fastap_coco.__file__}[name]


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds and loads the modules of one replaced package (first on ``sys.meta_path``
    while active): ``names`` (the package first), their contents and source files from
    ``contents(name)`` / ``origin(name)``, ``version`` on the submodules (None: none)."""

    def __init__(self, package, names, contents, origin, version):
        self.package, self.names, self.contents, self.origin, self.version = package, names, contents, origin, version

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.names:
            return None
        is_package = fullname == self.package
        spec = importlib.machinery.ModuleSpec(fullname, self, origin=self.origin(fullname), is_package=is_package)
        spec.has_location = True            # gives the module a __file__
        if is_package:
            spec.submodule_search_locations = []
        return spec

    def create_module(self, spec):
        return None                         # the default module object

    def exec_module(self, module):
        if module.__name__ != self.package and self.version is not None:
            module.__version__ = self.version      # (the real package has no __version__ either)
        module.__dict__.update(self.contents(module.__name__))

    def owns(self, key):
        """Whether ``key`` (a sys.modules key) is the package or one of its submodules."""
        return key == self.package or key.startswith(self.package + ".")


class _Replacement:
    """One replaced package: installs its finder and modules, and undoes that."""

    def __init__(self, finder):
        self.finder = finder
        self.saved = None                   # the package's sys.modules entries before the call

    def install(self):
        """True when this call installed the replacement, False when it was active."""
        with _LOCK:
            if self.saved is not None:
                return False
            saved = {k: m for k, m in sys.modules.items() if self.finder.owns(k)}
            try:
                for k in saved:
                    del sys.modules[k]
                sys.meta_path.insert(0, self.finder)
                self.saved = saved
                for name in self.finder.names:
                    importlib.import_module(name)
            except BaseException:
                self.restore()
                raise
            return True

    def restore(self):
        with _LOCK:
            saved = self.saved
            if saved is None:
                return False
            while self.finder in sys.meta_path:
                sys.meta_path.remove(self.finder)
            for k in [k for k in sys.modules if self.finder.owns(k)]:
                del sys.modules[k]
            sys.modules.update(saved)
            self.saved = None
            return True


class PycocotoolsReplacement:
    """The handle :func:`init_as_pycocotools` returns; a context manager.

    ``with init_as_pycocotools(): ...`` restores ``sys.modules`` at the block's end
    when this call installed the replacement (``owner``); a handle from a call that
    found it already active leaves it in place. ``restore()`` is
    :func:`restore_pycocotools`.
    """

    _replacement_name = "pycocotools"

    def __init__(self, owner):
        self.owner = owner

    @property
    def active(self):
        """Whether the replacement is in place now."""
        return _REPLACEMENTS[self._replacement_name].saved is not None

    def restore(self):
        return _REPLACEMENTS[self._replacement_name].restore()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.owner:
            self.restore()
        return False

    def __repr__(self):
        return "<%s active=%s owner=%s>" % (type(self).__name__, self.active, self.owner)


_LOCK = threading.RLock()
_FINDER = _Finder("pycocotools", MODULE_NAMES, _contents, _origin, PYCOCOTOOLS_VERSION)
_REPLACEMENTS = {"pycocotools": _Replacement(_FINDER)}


def init_as_pycocotools():
    """Make ``import pycocotools`` (and its ``coco``, ``cocoeval``, ``mask``, ``_mask``)
    give fastap's drop-ins, in this process, until :func:`restore_pycocotools`.

    Call it before the framework that imports pycocotools is imported. Idempotent.
    The submodules carry ``__version__ == "2.0.11"`` (:data:`PYCOCOTOOLS_VERSION`), the
    pycocotools release fastap reproduces; the package has none, as the real one;
    ``importlib.metadata`` still reports the installed distribution (or none). See :mod:`fastap.compat` for what each module
    holds and what the replacement cannot reach.

    Returns
    -------
    PycocotoolsReplacement
        A handle; ``with fastap.init_as_pycocotools(): ...`` undoes the replacement at
        the block's end (if this call made it).
    """
    return PycocotoolsReplacement(owner=_REPLACEMENTS["pycocotools"].install())


def restore_pycocotools():
    """Undo :func:`init_as_pycocotools`: ``sys.modules`` gets back exactly the
    ``pycocotools`` entries it held before (the same objects), the others are removed.

    Returns True if a replacement was undone, False if none was active.
    """
    return _REPLACEMENTS["pycocotools"].restore()


# -- lvis-api -------------------------------------------------------------------------------------
#: the modules init_as_lvis() registers, in import order (lvis-api's ``vis`` and ``colormap``,
#: which draw with OpenCV and matplotlib, are not among them)
LVIS_MODULE_NAMES = ("lvis", "lvis.lvis", "lvis.results", "lvis.eval")


def _lvis_contents(name):
    return {
        "lvis": {"LVIS": LVIS, "LVISResults": LVISResults, "LVISEval": LVISEval,
                 "__all__": ["LVIS", "LVISResults", "LVISEval"]},
        "lvis.lvis": {"LVIS": LVIS, "mask_utils": mask},
        "lvis.results": {"LVIS": LVIS, "LVISResults": LVISResults, "mask_utils": mask},
        "lvis.eval": {"LVIS": LVIS, "LVISResults": LVISResults, "LVISEval": LVISEval,
                      "Params": _fastap_lvis.Params, "mask_utils": mask},
    }[name]


def _lvis_origin(name):
    return __file__ if name == "lvis" else _fastap_lvis.__file__


_REPLACEMENTS["lvis"] = _Replacement(_Finder("lvis", LVIS_MODULE_NAMES, _lvis_contents, _lvis_origin, None))


class LvisReplacement(PycocotoolsReplacement):
    """The handle :func:`init_as_lvis` returns; a context manager (see
    :class:`PycocotoolsReplacement`); ``restore()`` is :func:`restore_lvis`."""

    _replacement_name = "lvis"


def init_as_lvis():
    """Make ``import lvis`` (and ``lvis.lvis``, ``lvis.results``, ``lvis.eval``) give
    fastap's drop-ins for lvis-api 0.5.3 (:mod:`fastap.lvis`: ``LVIS``, ``LVISResults``,
    ``LVISEval``, ``Params``), in this process, until :func:`restore_lvis`.

    Works as :func:`init_as_pycocotools` does (module specs from a finder first on
    ``sys.meta_path``, so ``importlib.util.find_spec("lvis")`` finds the replacement;
    idempotent; a context manager): call it before importing the framework (detectron2's
    ``LVISEvaluator`` imports ``lvis`` when it is built and when it evaluates). The
    modules carry no ``__version__`` (lvis-api's have none); ``lvis.vis`` (LVISVis,
    drawing) is not provided.

    Returns
    -------
    LvisReplacement
    """
    return LvisReplacement(owner=_REPLACEMENTS["lvis"].install())


def restore_lvis():
    """Undo :func:`init_as_lvis`: ``sys.modules`` gets back exactly the ``lvis``
    entries it held before. Returns True if a replacement was undone."""
    return _REPLACEMENTS["lvis"].restore()

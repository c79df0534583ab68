"""The one thread-count policy of fastap.

Every C kernel takes ``num_threads``, resolved by the binding's :func:`thread_count`
(re-exported here): an integer >= 1, or None for the default -- the environment variable
``FASTAP_NUM_THREADS`` if set, else OpenMP's maximum, which honours ``OMP_NUM_THREADS``
and is all cores by default, capped by ``torch.get_num_threads()`` when torch has been
imported (so ``torch.set_num_threads(n)`` caps fastap too, and a DataLoader worker, where
torch uses one thread, runs fastap on one); 1 in a build without OpenMP. A value that is
not an integer >= 1 (``num_threads=0``, ``FASTAP_NUM_THREADS=0``) raises
:class:`fastap.errors.InvalidOptionError` (a ``ValueError``) naming the argument or the
environment variable, wherever it is first read (never as an error of an input file). The
rule for "too small to be worth threads" lives beside the kernels it guards, in the
binding (``fastap/_core.pyx``), with the measurement behind each number; the Python
layers only pass ``num_threads`` down, except where two pieces of work run side by
side (:func:`half_of`, used by :mod:`fastap.reports`).

Inside a training process. Ways to cap fastap's threads, strongest first: the
``num_threads=`` argument (``COCOeval(..., num_threads=1)``), ``FASTAP_NUM_THREADS``,
``torch.set_num_threads``, ``OMP_NUM_THREADS``. Small calls (a per-batch ``evaluate()``
of a few images) run on the calling thread and start no OpenMP team at all (see
``SERIAL_BELOW`` in the binding). After a call that did use threads, libgomp's idle
workers spin for a few milliseconds before they sleep (measured: 4-6 ms of CPU in the
0.5 s after a two-thread call, 320 ms with ``OMP_WAIT_POLICY=active``, 0.1 ms with
``passive``). fastap does not set ``OMP_WAIT_POLICY`` itself: its runtime is libgomp.so.1,
the soname of the libgomp that torch ships, so in a process with torch the two share one
OpenMP runtime and a policy set by fastap would slow torch's own parallel regions; set
``OMP_WAIT_POLICY=passive`` (before the first import of fastap or torch) to make idle
workers sleep at once.
"""
from __future__ import annotations

import contextlib
import os
import threading

import numpy as np

from ._core import thread_count

__all__ = ["thread_count", "half_of", "fresh_memory"]


def half_of(num_threads=None):
    """The threads each of two side-by-side jobs gets: half of :func:`thread_count`, at
    least one (on two cores, one each, rather than four threads waiting at barriers)."""
    return max(1, thread_count(num_threads) // 2)


# -- large fresh allocations -------------------------------------------------------------------
# NumPy advises the kernel to back every array of 4 MiB or more with transparent huge pages
# (madvise(MADV_HUGEPAGE)). Where the kernel's THP "defrag" setting makes such a fault
# compact memory synchronously ("always", "madvise", "defer+madvise"), the first touch of a
# fresh large array stalls while the kernel assembles 2 MiB pages: measured on the 2-core
# development machine (defrag "madvise"), gathering 2M boxes into a new 64 MB array took
# 0.13 s with the advice and 0.04 s without, and an LVIS evaluate() of 6M results 0.52 s
# against 0.35 s. fastap's one-pass kernels touch each large output once, so huge pages
# buy them little: around its large evaluations fastap turns the advice off, and back on
# when the last of them ends. A process that sets NUMPY_MADVISE_HUGEPAGE chose for itself:
# fastap then leaves the advice alone, as it does where defrag does not stall.
_set_hugepage = getattr(getattr(getattr(np, "_core", None), "multiarray", None), "_set_madvise_hugepage", None)
_advice_lock = threading.Lock()
_advice_depth = 0
_advice_prev = None


def _defrag_stalls(path="/sys/kernel/mm/transparent_hugepage/defrag"):
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return False
    current = text[text.find("[") + 1:text.find("]")] if "[" in text else text.strip()
    return current in ("always", "madvise", "defer+madvise")


_STALLS = _set_hugepage is not None and "NUMPY_MADVISE_HUGEPAGE" not in os.environ and _defrag_stalls()


@contextlib.contextmanager
def fresh_memory():
    """Context for a call that allocates and fills large arrays once: NumPy's huge-page
    advice is off inside it where the kernel would compact memory synchronously for it
    (see above; nested and concurrent uses count, the advice returns when the last
    ends). Changes no result."""
    global _advice_depth, _advice_prev
    if not _STALLS:
        yield
        return
    with _advice_lock:
        if _advice_depth == 0:
            _advice_prev = _set_hugepage(False)
        _advice_depth += 1
    try:
        yield
    finally:
        with _advice_lock:
            _advice_depth -= 1
            if _advice_depth == 0:
                _set_hugepage(bool(_advice_prev))

"""The one thread-count policy of fastap.

Every C kernel takes ``num_threads``: None means :func:`thread_count` (the environment
variable ``FASTAP_NUM_THREADS`` if set, else OpenMP's maximum, which honours
``OMP_NUM_THREADS`` and is all cores by default; 1 in a build without OpenMP). The
rule for "too small to be worth threads" lives beside the kernels it guards, in the
binding (``fastap/_core.pyx``), with the measurement behind each number; the Python
layers only pass ``num_threads`` down, except where two pieces of work run side by
side (:func:`half_of`, used by :mod:`fastap.reports`).
"""
from __future__ import annotations

from . import _core

__all__ = ["thread_count", "half_of"]


def thread_count(num_threads=None):
    """Threads a kernel given ``num_threads`` uses (None: the default, see above).
    ValueError for anything but an integer >= 1."""
    if num_threads is None:
        return _core.max_threads()
    try:
        n = int(num_threads)
    except (TypeError, ValueError):
        raise ValueError("num_threads (or FASTAP_NUM_THREADS) must be an integer >= 1, got %r"
                         % (num_threads,)) from None
    if n < 1:
        raise ValueError("num_threads (or FASTAP_NUM_THREADS) must be >= 1, got %r" % (num_threads,))
    return n


def half_of(num_threads=None):
    """The threads each of two side-by-side jobs gets: half of :func:`thread_count`, at
    least one (on two cores, one each, rather than four threads waiting at barriers)."""
    return max(1, thread_count(num_threads) // 2)

"""The one thread-count policy of fastap.

Every C kernel takes ``num_threads``, resolved by the binding's :func:`thread_count`
(re-exported here): an integer >= 1, or None for the default -- the environment variable
``FASTAP_NUM_THREADS`` if set, else OpenMP's maximum, which honours ``OMP_NUM_THREADS``
and is all cores by default; 1 in a build without OpenMP. The
rule for "too small to be worth threads" lives beside the kernels it guards, in the
binding (``fastap/_core.pyx``), with the measurement behind each number; the Python
layers only pass ``num_threads`` down, except where two pieces of work run side by
side (:func:`half_of`, used by :mod:`fastap.reports`).
"""
from __future__ import annotations

from ._core import thread_count

__all__ = ["thread_count", "half_of"]


def half_of(num_threads=None):
    """The threads each of two side-by-side jobs gets: half of :func:`thread_count`, at
    least one (on two cores, one each, rather than four threads waiting at barriers)."""
    return max(1, thread_count(num_threads) // 2)

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

from ._core import thread_count

__all__ = ["thread_count", "half_of"]


def half_of(num_threads=None):
    """The threads each of two side-by-side jobs gets: half of :func:`thread_count`, at
    least one (on two cores, one each, rather than four threads waiting at barriers)."""
    return max(1, thread_count(num_threads) // 2)

"""Timing helpers shared by the single-purpose benchmarks (semantic, panoptic)."""
import statistics
import time

__all__ = ["median_time"]


def median_time(fn, repeat):
    """Run ``fn()`` ``repeat`` times; (median seconds, the last result)."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(statistics.median(times)), out

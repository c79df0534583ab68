"""Timing helpers shared by the single-purpose benchmarks (semantic, panoptic)."""
import statistics
import time

__all__ = ["median_time", "warm_median"]


def median_time(fn, repeat):
    """Run ``fn()`` ``repeat`` times; (median seconds, the last result)."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(statistics.median(times)), out


def warm_median(fn, repeat):
    """Median seconds of ``repeat`` calls of ``fn()`` after one untimed warm-up call."""
    fn()
    return median_time(fn, repeat)[0]

"""Scaling checks for inputs that once made a stage quadratic or exponential.

A test builds an input of some size and of twice that size, times the work on each in the
same process, and asserts that doubling the input did not more than triple the time. The
ratio, not a time limit, is what is checked: machines are noisy, and a quadratic algorithm
gives 4x per doubling (an exponential one far more) wherever it runs. The two sizes are
timed alternately a few times and the best of each taken, so a slow moment of a shared
machine falls on both or on neither; the time is the thread's own CPU time, so other
processes on a loaded machine do not count, and a ratio over the limit is measured once more
before it fails (a linear stage gives about 2x, the faults these tests guard against 4x and
more).
"""

from __future__ import annotations

import time
from collections.abc import Callable

# Doubling the input may at most triple the time (linear work gives 2x, quadratic 4x).
MAX_RATIO = 3.0
REPEATS = 5
# The smaller input is grown until its work takes this long: below it, timer resolution
# and cache effects make the ratio noise.
MIN_SECONDS = 0.05
MAX_DOUBLINGS = 8


def best_seconds(work: Callable[[], object], repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.thread_time()
        work()
        best = min(best, time.thread_time() - started)
    return best


def doubling_ratio(make: Callable[[int], object], work: Callable[[object], object], size: int) -> float:
    """Time of ``work(make(2 * size))`` over the time of ``work(make(size))`` (inputs made outside
    the timing), ``size`` first doubled until the smaller input takes :data:`MIN_SECONDS`."""
    small = make(size)
    work(small)  # first-use costs (tables, caches) out of the comparison
    for _ in range(MAX_DOUBLINGS):
        if _seconds(work, small) >= MIN_SECONDS:
            break
        size *= 2
        small = make(size)
    large = make(2 * size)
    ratio = _paired_ratio(work, small, large)
    if ratio >= MAX_RATIO:
        ratio = min(ratio, _paired_ratio(work, small, large))
    return ratio


def _paired_ratio(work: Callable[[object], object], small: object, large: object) -> float:
    small_best = large_best = float("inf")
    for _ in range(REPEATS):
        small_best = min(small_best, _seconds(work, small))
        large_best = min(large_best, _seconds(work, large))
    return large_best / small_best


def _seconds(work: Callable[[object], object], data: object) -> float:
    started = time.thread_time()
    work(data)
    return time.thread_time() - started

"""Scaling checks for inputs that once made a stage quadratic or exponential.

A test builds an input of some size and of twice that size, times the work on each in the
same process, and asserts that doubling the input did not more than triple the time. The
ratio, not a time limit, is what is checked: machines are noisy, and a quadratic algorithm
gives 4x per doubling (an exponential one far more) wherever it runs. The two sizes are
timed alternately a few times and the best of each taken, so a slow moment of a shared
machine falls on both or on neither.
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
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
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
    small_best = large_best = float("inf")
    for _ in range(REPEATS):
        small_best = min(small_best, _seconds(work, small))
        large_best = min(large_best, _seconds(work, large))
    return large_best / small_best


def _seconds(work: Callable[[object], object], data: object) -> float:
    started = time.perf_counter()
    work(data)
    return time.perf_counter() - started

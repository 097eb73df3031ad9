"""Timing helpers shared by the benchmark scripts."""

from __future__ import annotations

import time


def best(fn, repeat: int) -> float:
    """The shortest of `repeat` timed calls of fn(): the least disturbed by a noisy machine."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)

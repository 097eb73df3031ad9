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


def children_cpu() -> float:
    """CPU seconds (user + system) used so far by finished child processes."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def best_of_rounds(fns: dict, repeat: int, clock=time.perf_counter) -> dict:
    """The shortest time of each fn() over `repeat` rounds, each round calling every fn once in turn:
    a burst of load on a shared machine then slows all of them, not one. `clock`: wall time by
    default; `time.process_time` or `children_cpu` count CPU time, which others' load hardly moves."""
    times: dict = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = clock()
            fn()
            times[name].append(clock() - start)
    return {name: min(values) for name, values in times.items()}

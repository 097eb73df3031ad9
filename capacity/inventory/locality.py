"""Which nodes to take and which to give back, keeping each holder in as few racks as possible.

Pure functions over (rack, serial) pairs; the store decides what is a candidate.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Iterable, Protocol, Sequence, TypeVar


class _Node(Protocol):
    @property
    def rack(self) -> str: ...

    @property
    def serial(self) -> str: ...


N = TypeVar("N", bound=_Node)  # anything with .rack and .serial


def pick(candidates: Iterable[N], count: int, home: Counter | None = None) -> list[N]:
    """`count` of `candidates` in the fewest racks: first the racks the holder is in already (most of
    its nodes first); then, while no single rack can hold the rest, the rack with the most candidates;
    finally the smallest rack that holds the rest, so big racks stay whole for big requests.
    Returns fewer than `count` only when there are not enough candidates."""
    home = home or Counter()
    racks: dict[str, list[N]] = defaultdict(list)
    for node in sorted(candidates, key=lambda n: n.serial):
        racks[node.rack].append(node)
    chosen: list[N] = []
    for rack in sorted((r for r in racks if home[r]), key=lambda r: (-home[r], r)):
        chosen += _take(racks, rack, count - len(chosen))
    while len(chosen) < count and racks:
        need = count - len(chosen)
        fits = [r for r in racks if len(racks[r]) >= need]
        if fits:
            rack = min(fits, key=lambda r: (len(racks[r]), r))
        else:
            rack = min(racks, key=lambda r: (-len(racks[r]), r))
        chosen += _take(racks, rack, need)
    return chosen


def _take(racks: dict[str, list], rack: str, need: int) -> list:
    taken, racks[rack] = racks[rack][:need], racks[rack][need:]
    if not racks[rack]:
        del racks[rack]
    return taken


def give_back(held: Sequence[N], count: int, releasable: Iterable[N] | None = None) -> list[N]:
    """`count` nodes to release from `held` (only from `releasable`, all of held by default): those
    in the racks where the holder has the fewest nodes, so the rest stays together."""
    per_rack = Counter(n.rack for n in held)
    pool = list(held if releasable is None else releasable)
    pool.sort(key=lambda n: (per_rack[n.rack], n.rack, n.serial))
    return pool[:max(count, 0)]

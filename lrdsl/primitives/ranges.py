"""Registry stage, ranges: how each primitive's values go up and down.

Every registered primitive is classified here, for :mod:`.extent`, which finds
exact value ranges from it: monotone over its whole local time (the min and
max are at the ends), piecewise monotone with breaks it knows (1cycle's
phase starts, a warm-up built into a decay, piecewise's boundaries), monotone
on each cycle, or a combinator of other schedules.  ``tests/test_ranges.py``
fails for a primitive that is not classified, and checks the ranges against
dense evaluation.
"""

from __future__ import annotations

import math

from ..language.domain import STEP_LIMIT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from ..language.ir import Node

#: Monotone over their whole local time (a bounded one holds its end value after).
MONOTONE = frozenset(
    {
        "const",
        "hold",
        "linear",
        "warmup",
        "cosine",
        "cooldown",
        "poly",
        "exp",
        "step",
        "multistep",
        "inverse_time",
        "plateau",  # each cut multiplies by factor < 1: it only ever goes down
    }
)


def _warmup_break(p: Mapping[str, Any]) -> list[int]:
    w = int(p["warmup"])
    return [w - 1, w, w + 1]


def _one_cycle_breaks(p: Mapping[str, Any]) -> list[int]:
    return [x for f in p["firsts"] for x in (f - 1, f)]


def _piecewise_breaks(p: Mapping[str, Any]) -> list[int]:
    return [int(b) for b in p["boundaries"]]


#: Piecewise monotone, with the local steps where a piece may begin or turn.
BREAKS: dict[str, Callable[[Mapping[str, Any]], list[int]]] = {
    "inverse_sqrt": _warmup_break,
    "noam": _warmup_break,
    "one_cycle": _one_cycle_breaks,
    "piecewise": _piecewise_breaks,
}

#: Built from other schedules: cut where their parts are (:mod:`.extent`).
COMBINATORS = frozenset({"repeat", "min", "max"})


def period(node: Node) -> int | None:
    """Steps per cycle of a periodic node whose value at a fixed place in the
    cycle moves one way from cycle to cycle (``None``: not such a node)."""
    p = node.params
    if node.op == "repeat":
        return int(p["period"])
    if node.op == "cyclic":
        return int(p["up"] + p["down"])
    if node.op == "cosine_restarts" and p["t_mul"] == 1:
        return int(p["n"])
    return None


def _cyclic_cycles(np: Any, spend: Callable[[int], None], p: Any, lo: int, hi: int) -> Any:
    """A triangle's cycle starts and turns (and exp_range's hump in the rise)."""
    period = p["up"] + p["down"]
    ks = np.arange(lo // period, (hi - 1) // period + 1, dtype=np.int64) * period
    marks = [ks, ks + p["up"], ks + p["up"] + 1]
    if p["mode"] == "exp_range" and p["gamma"] != 1:
        peak = -1.0 / math.log(p["gamma"])  # where r * gamma^r turns
        if 0 < peak < p["up"]:
            marks += [ks + math.floor(peak), ks + math.ceil(peak)]
    c = np.concatenate([np.asarray([lo], dtype=np.int64), *marks])
    return np.unique(c[(c >= lo) & (c < hi)])


def _restart_cycles(np: Any, spend: Callable[[int], None], p: Any, lo: int, hi: int) -> Any:
    """The first whole step of each restart cycle in the interval."""
    if p["t_mul"] == 1:
        n = p["n"]
        spend((hi - 1) // n - lo // n + 1)
        c = np.arange(-(-lo // n), (hi - 1) // n + 1, dtype=np.int64) * n
    else:
        k = len(p["lengths"])
        table = np.asarray(p["starts"][: k + 1], dtype=np.int64)
        parts = [table]
        if p["tail"] is not None and hi > table[-1]:
            from .restarts import tail_cycle, tail_start

            bk, lk, jmax = p["tail"]
            q = float(p["t_mul"])
            j0 = tail_cycle(bk, lk, q, jmax, max(lo, int(table[-1])))
            j1 = tail_cycle(bk, lk, q, jmax, hi - 1)
            spend(j1 - j0 + 1 + len(table))
            parts.append(np.asarray([math.ceil(tail_start(bk, lk, q, j)) for j in range(j0, j1 + 2)], dtype=np.int64))
        c = np.concatenate(parts)
    c = np.concatenate([np.asarray([lo], dtype=np.int64), c[(c >= lo) & (c < hi)]])
    return np.unique(c)


#: Monotone on each cycle: the first steps of their cycles (and turns) in an
#: interval, for :mod:`.extent`; ``spend(n)`` is told how many before they are listed.
CYCLES: dict[str, Callable[..., Any]] = {"cyclic": _cyclic_cycles, "cosine_restarts": _restart_cycles}
CYCLIC = frozenset(CYCLES)


# ---------------------------------------------------------------- for extent


def direction(np: Any, first: Any, last: Any) -> Any:
    """+1 rising, -1 falling, 0 flat, per piece (NaN ends: flat)."""
    with np.errstate(invalid="ignore"):
        return np.sign(np.nan_to_num(last - first, nan=0.0, posinf=1.0, neginf=-1.0))


def sign_of(np: Any, first: Any, last: Any) -> Any:
    """+1 or -1 when both ends (so the whole monotone piece) have that sign, else 0."""
    s, t = np.sign(first), np.sign(last)
    return np.where(s == t, s, 0)


def seq_parts(node: Node, lo: int, hi: int) -> list[tuple[int, int, Node]]:
    starts = list(node.params["starts"])
    stops = [*starts[1:], STEP_LIMIT + 1]
    return [(s, e, kid) for s, e, kid in zip(starts, stops, node.kids) if s < hi and e > lo]

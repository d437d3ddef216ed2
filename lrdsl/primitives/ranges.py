"""Registry stage, ranges: where a primitive takes its smallest and largest values.

A segment's value range over local steps ``lo .. hi-1`` is exact and costs
O(1) evaluations when the primitive is monotone there (the two ends) or
piecewise monotone with breaks it knows (1cycle's phase starts, a warm-up
built into a decay, piecewise's boundaries): :func:`candidates` lists the
local steps to evaluate.  For the others (periodic and combined schedules)
it returns ``None`` and the caller samples.  Every registered primitive is
classified here; ``tests/test_ranges.py`` fails for one that is not, and
checks the candidates against dense evaluation.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

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

#: Sampled: periodic, or built from other schedules.
SAMPLED = frozenset({"cosine_restarts", "cyclic", "repeat", "min", "max"})


def candidates(op: str, params: Mapping[str, Any], lo: int, hi: int) -> list[int] | None:
    """Local steps in ``lo..hi-1`` where the segment's min and max are taken
    (``None``: not known, sample instead)."""
    if hi <= lo:
        return []
    if op in MONOTONE:
        return sorted({lo, hi - 1})
    breaks = BREAKS.get(op)
    if breaks is None:
        return None
    return sorted({lo, hi - 1, *(b for b in breaks(params) if lo <= b < hi)})

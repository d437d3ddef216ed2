"""Where two schedules first differ, found segment by segment.

    v = lrdsl.agree.first_difference(old, new, until=50_000)
    v.step          # None: bit-identical at every step 0..until-1
    v.spans         # how each span was decided: equal, constant or evaluated

Both schedules' top-level segments cut the steps into spans.  On a span where
both run the same compiled segment from the same start, the values are the
same computation, so they are equal without evaluating anything; where both
run a constant segment (``const``, ``hold``), one value each decides it.  Only
the other spans are evaluated, with the C kernel, in chunks, stopping at the
first difference.  So a WSD branch-off (``warmup(2k) >> hold()`` resumed as
``warmup(2k) >> hold(48k) >> cooldown(10k)``) is decided in microseconds at
any step.  Values are compared bit for bit (a NaN equals the same NaN).

This is what ``DSLScheduler(..., resume="prefix")`` and ``lrdsl compare
--until`` use.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

from .language.domain import STEP_LIMIT
from .language.errors import LrdslError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from .schedule import Schedule

__all__ = ["Span", "Verdict", "first_difference", "spans"]

#: Segments whose value is one number over their whole span.
CONSTANT_OPS = frozenset({"const", "hold"})
#: Steps evaluated at a time on a span that has to be evaluated.
CHUNK = 1 << 18


class Span(NamedTuple):
    start: int
    stop: int  # exclusive
    how: str  # "equal" (same segment), "constant" (one value each) or "evaluated"


class Verdict(NamedTuple):
    """``step`` is the first step where the two differ (``None``: nowhere before
    ``until``), with both values there; ``spans`` says how each span was decided."""

    step: int | None
    a: float | None
    b: float | None
    spans: tuple[Span, ...]

    @property
    def evaluated(self) -> int:
        """How many steps had to be evaluated."""
        return sum(s.stop - s.start for s in self.spans if s.how == "evaluated")


def _segments(s: Schedule) -> list[tuple[int, Any]]:
    return list(s.program.segments())


def spans(a: Schedule, b: Schedule, until: int) -> Iterator[Span]:
    """The spans of ``0..until-1`` on which each schedule runs one segment, with
    how they can be decided: ``equal`` (the same segment from the same start:
    equal values), ``constant`` (two constant segments: one value each) or
    ``evaluated``."""
    if isinstance(until, bool) or not isinstance(until, int) or not 0 <= until <= STEP_LIMIT:
        raise LrdslError(f"until must be a whole number from 0 to 2**53, got {until!r}", code="E0305")
    sa, sb = _segments(a), _segments(b)
    cuts = sorted({0, until, *(s for s, _ in sa if s < until), *(s for s, _ in sb if s < until)})
    ia = ib = 0
    for start, stop in itertools.pairwise(cuts):
        while ia + 1 < len(sa) and sa[ia + 1][0] <= start:
            ia += 1
        while ib + 1 < len(sb) and sb[ib + 1][0] <= start:
            ib += 1
        (a0, na), (b0, nb) = sa[ia], sb[ib]
        if a0 == b0 and same_node(na, nb):
            yield Span(start, stop, "equal")
        elif na.op in CONSTANT_OPS and nb.op in CONSTANT_OPS:
            yield Span(start, stop, "constant")
        else:
            yield Span(start, stop, "evaluated")


def first_difference(a: Schedule, b: Schedule, until: int) -> Verdict:
    """The first step in ``0..until-1`` where ``a`` and ``b`` differ."""
    done: list[Span] = []
    for span in spans(a, b, until):
        step = _first_in(a, b, span)
        if done and done[-1].how == span.how:
            done[-1] = done[-1]._replace(stop=span.stop)
        else:
            done.append(span)
        if step is not None:
            done[-1] = done[-1]._replace(stop=step + 1)
            return Verdict(step, a(step), b(step), tuple(done))
    return Verdict(None, None, None, tuple(done))


def chunks(span: Span) -> Iterator[Any]:
    """The steps of an evaluated span, as int64 arrays of at most :data:`CHUNK`."""
    import numpy as np

    for lo in range(span.start, span.stop, CHUNK):
        yield np.arange(lo, min(span.stop, lo + CHUNK), dtype=np.int64)


def _first_in(a: Schedule, b: Schedule, span: Span) -> int | None:
    """The first step of ``span`` where the two differ."""
    if span.how == "equal":
        return None
    if span.how == "constant":
        return None if _same_bits(a(span.start), b(span.start)) else span.start
    import numpy as np

    for steps in chunks(span):
        x, y = a.values(steps), b.values(steps)
        differ = np.flatnonzero(x.view(np.uint64) != y.view(np.uint64))
        if differ.size:
            return int(steps[differ[0]])
    return None


def same_node(x: Any, y: Any) -> bool:
    """The same computation: op, length, end, parameters and kids (labels, the
    text a segment was written as, aside); numbers compared bit for bit."""
    stack = [(x, y)]
    while stack:
        p, q = stack.pop()
        if p.op != q.op or p.length != q.length or not _same_value(p.end, q.end) or len(p.kids) != len(q.kids):
            return False
        if p.params.keys() != q.params.keys() or not all(_same_value(p.params[k], q.params[k]) for k in p.params):
            return False
        stack.extend(zip(p.kids, q.kids))
    return True


def _same_value(x: object, y: object) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return _same_bits(x, y)
    if isinstance(x, (tuple, list)) and isinstance(y, (tuple, list)):
        return len(x) == len(y) and all(_same_value(u, v) for u, v in zip(x, y))
    return type(x) is type(y) and x == y


def _same_bits(x: float, y: float) -> bool:
    import struct

    return struct.pack("<d", x) == struct.pack("<d", y)

"""Where two schedules first differ, found segment by segment.

    v = lrdsl.agree.first_difference(old, new, until=50_000)
    v.step          # None: bit-identical at every step 0..until-1
    v.spans         # how each span was decided: equal, constant or evaluated

Both schedules' top-level segments cut the steps into spans, and so does the
end of each bounded segment (and of a bounded schedule): past its length a
segment holds its end value.  On a span where both run the same compiled
segment from the same start, the values are the same computation, so they are
equal without evaluating anything; where both are constant (a ``const`` or
``hold``, a pointwise op of constants, a segment past its length), one value
each decides it.  Only the other spans are evaluated, with the C kernel, in
chunks, stopping at the first difference.  So a WSD branch-off
(``warmup(2k) >> hold()`` resumed as ``warmup(2k) >> hold(48k) >>
cooldown(10k)``) is decided in microseconds at any step, and so is
``cosine(5)`` against ``cosine(6)`` over 2**40 steps (six steps evaluated).
Values are compared bit for bit (a NaN equals the same NaN).

This is what ``DSLScheduler(..., resume="prefix")`` and ``lrdsl compare``
use.
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

#: Segments whose value is one number over their whole length.
CONSTANT_OPS = frozenset({"const", "hold"})
#: Ops that combine their kids step by step (the kids run on the same local steps).
POINTWISE_OPS = frozenset({"min", "max", "add", "sub", "mul", "div"})
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


class Piece(NamedTuple):
    """Steps ``start..stop-1`` of one schedule, on which it runs the top-level
    segment that starts at ``seg`` (``node``), within its length or past it;
    ``seg`` and ``node`` are ``None`` past a bounded schedule's length.
    ``constant``: one value on every step of the piece."""

    start: int
    stop: int
    seg: int | None
    node: Any
    constant: bool


def pieces(s: Schedule, until: int) -> list[Piece]:
    """``0..until-1`` cut where ``s`` changes segment and where a bounded segment
    (or the schedule itself) ends and holds its end value."""
    root = s.program.root
    limit = until if root.length is None else min(until, root.length)
    segs = [(start, node) for start, node in s.program.segments() if start < limit]
    out: list[Piece] = []
    if segs and segs[0][0] > 0:  # never compiled so; not assumed constant
        out.append(Piece(0, segs[0][0], None, None, False))
    for i, (start, node) in enumerate(segs):
        nxt = segs[i + 1][0] if i + 1 < len(segs) else limit
        end = nxt if node.length is None else min(nxt, start + node.length)
        if end > start:
            out.append(Piece(start, end, start, node, constant_node(node)))
        if max(start, end) < nxt:  # past its length: it holds its end value
            out.append(Piece(max(start, end), nxt, start, node, True))
    if limit < until:  # past the schedule's length: it holds the root's end value
        out.append(Piece(limit, until, None, None, True))
    return out


def constant_node(node: Any) -> bool:
    """One value at every local step before the node's length: a ``const`` or
    ``hold``, or a pointwise op whose kids are all constant over that length."""
    for part in node.walk():
        if part.op in CONSTANT_OPS:
            continue
        if part.op not in POINTWISE_OPS:
            return False
        for kid in part.kids:  # a kid that ends inside the window changes value there
            if kid.length is not None and (part.length is None or kid.length < part.length):
                return False
    return True


def spans(a: Schedule, b: Schedule, until: int) -> Iterator[Span]:
    """The spans of ``0..until-1`` on which each schedule runs one segment (within
    its length or past it), with how they can be decided: ``equal`` (the same
    segment from the same start: equal values), ``constant`` (both constant:
    one value each) or ``evaluated``."""
    if isinstance(until, bool) or not isinstance(until, int) or not 0 <= until <= STEP_LIMIT:
        raise LrdslError(f"until must be a whole number from 0 to 2**53, got {until!r}", code="E0305")
    pa, pb = pieces(a, until), pieces(b, until)
    cuts = sorted({0, until, *(p.start for p in pa), *(p.start for p in pb)})
    ia = ib = 0
    for start, stop in itertools.pairwise(cuts):
        while pa[ia].stop <= start:
            ia += 1
        while pb[ib].stop <= start:
            ib += 1
        p, q = pa[ia], pb[ib]
        if p.seg is not None and p.seg == q.seg and same_node(p.node, q.node):
            yield Span(start, stop, "equal")
        elif p.constant and q.constant:
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


def chunks(span: Span, out: Any = None) -> Iterator[Any]:
    """The steps of an evaluated span, as int64 arrays of at most :data:`CHUNK`.

    With ``out`` (an int64 array of at least ``min(CHUNK, span length)``
    elements) every chunk is a view of it, refilled in place: no array is
    allocated per chunk (a fresh array of 2**18 steps costs more page faults
    than the kernel takes to evaluate it)."""
    import numpy as np

    if out is None:
        for lo in range(span.start, span.stop, CHUNK):
            yield np.arange(lo, min(span.stop, lo + CHUNK), dtype=np.int64)
        return
    size = min(CHUNK, span.stop - span.start)
    steps = out[:size]
    steps[...] = np.arange(span.start, span.start + size, dtype=np.int64)
    for lo in range(span.start, span.stop, size):
        yield steps[: min(size, span.stop - lo)]
        steps += size


def buffers(size: int) -> tuple[Any, Any, Any]:
    """Scratch arrays for evaluating chunks of ``size`` steps: steps and two value arrays."""
    import numpy as np

    return np.empty(size, dtype=np.int64), np.empty(size), np.empty(size)


def _first_in(a: Schedule, b: Schedule, span: Span) -> int | None:
    """The first step of ``span`` where the two differ."""
    if span.how == "equal":
        return None
    if span.how == "constant":
        return None if _same_bits(a(span.start), b(span.start)) else span.start
    import numpy as np

    at, xs, ys = buffers(min(CHUNK, span.stop - span.start))
    for steps in chunks(span, at):
        m = len(steps)
        x, y = a.values(steps, out=xs[:m]), b.values(steps, out=ys[:m])
        differ = x.view(np.uint64) != y.view(np.uint64)
        k = int(differ.argmax())
        if differ[k]:
            return int(steps[k])
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

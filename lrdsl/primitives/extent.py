"""Registry stage, extents: the steps where a tree takes its smallest and
largest values on an interval, found from its structure, not by sampling.

A node is cut into *pieces* on which it is monotone (:meth:`Extent.pieces`):
a monotone primitive is one piece, a piecewise-monotone one has the breaks
:mod:`.ranges` lists, a cyclic or restart schedule two or one a cycle, a
chain and a repeat the pieces of their parts.  On a piece where two
combined schedules are both monotone, the combination is monotone when the
directions allow it (a sum of two rising schedules rises); ``min``/``max``
of a rising and a falling one turns once, where they cross, which a binary
search finds; a sum of opposite directions is evaluated step by step when
short.  Each piece's first and last steps (and their neighbours) give the
range exactly, in O(pieces * log) evaluations whatever the length.

Periodic schedules over more cycles than :data:`BUDGET` pieces are reduced
instead: each of their values, at a fixed place in the cycle, moves one way
from cycle to cycle (a decay factor, a halving amplitude), so the extremes
over whole cycles are in the first or the last one.  What none of this
covers, or costs more than its bounds, raises :class:`Inexact`.
"""

from __future__ import annotations

from .ranges import BREAKS, CYCLES, MONOTONE, direction, seq_parts, sign_of
from .ranges import period as period_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..language.ir import Node

#: Pieces one analysis may enumerate before periodic parts are reduced.
BUDGET = 1 << 16
#: Candidate steps kept as they are; more are evaluated and cut to the min and max.
KEEP = 256
#: Pieces one analysis may count over all its attempts.
PIECES = 1 << 21
#: Node-steps (steps times the nodes evaluated at each) one analysis may spend.
WORK = 1 << 22
#: A non-monotone stretch up to this many steps is evaluated step by step.
DENSE = 1 << 12
#: Ops that are one number wherever they run.
CONSTANT = frozenset({"const", "hold"})


class Inexact(Exception):
    """The extremes of this tree are not found exactly: sample instead."""


class _TooMany(Exception):
    pass


class Extent:
    """Extents of one tree's nodes; ``evaluator(node)`` gives a function from
    an int64 array of local steps to the node's float64 values there."""

    def __init__(self, evaluator: Callable[[Node], Callable[[Any], Any]], budget: int = BUDGET) -> None:
        import numpy as np

        self.np = np
        self._evaluator = evaluator
        self._fns: dict[int, tuple[Callable[[Any], Any], int]] = {}
        self.work = 0  # node-steps evaluated so far
        self.spent = 0  # pieces counted so far, over every attempt
        self._pieces: dict[tuple[int, int, int], Any] = {}
        self._candidates: dict[tuple[int, int, int], Any] = {}
        self.budget = budget
        self.used = 0
        self.dense_left = 0  # steps the caller may still evaluate one by one

    def values(self, node: Node, steps: Any) -> Any:
        """The node's values at local ``steps``; :class:`Inexact` once the
        analysis has evaluated :data:`WORK` node-steps (a bound on its cost
        for any tree, however many pieces its parts have)."""
        fn, size = self._fn(node)
        steps = self.np.asarray(steps, dtype=self.np.int64)
        self.work += steps.size * size
        if self.work > WORK:
            raise Inexact("too costly to bound exactly")
        return fn(steps)

    def evaluate(self, node: Node, steps: Any) -> Any:
        """The node's values at local ``steps``, outside the :data:`WORK` count
        (for a caller that bounds its own evaluations)."""
        return self._fn(node)[0](self.np.asarray(steps, dtype=self.np.int64))

    def _fn(self, node: Node) -> tuple[Callable[[Any], Any], int]:
        got = self._fns.get(id(node))
        if got is None:
            got = self._fns[id(node)] = (self._evaluator(node), sum(1 for _ in node.walk()))
        return got

    # ------------------------------------------------------------ candidates

    def candidates(self, node: Node, lo: int, hi: int) -> Any:
        """Sorted local steps in ``lo..hi-1`` among which the node takes its min
        and max there (:class:`Inexact` when that is not known); remembered."""
        key = (id(node), lo, hi)
        got = self._candidates.get(key)
        if got is None:
            got = self._find(node, lo, hi)
            if got.size > KEEP:  # keep where the min and max are: a repeat's levels would double them
                v = self.values(node, got)
                got = self.np.unique(got[[0, int(self.np.argmin(v)), int(self.np.argmax(v))]])
            self._candidates[key] = got
        return got

    def _find(self, node: Node, lo: int, hi: int) -> Any:
        np = self.np
        if hi <= lo:
            return np.empty(0, dtype=np.int64)
        if node.op in _WITH_CONSTANT and len(node.kids) == 2:
            try:  # with a constant: where the other kid takes its extremes, no evaluation
                length = node.length
                if length is None or hi <= length:
                    return self._with_constant(node, lo, hi)
                head = self._with_constant(node, lo, length) if lo < length else np.empty(0, dtype=np.int64)
                return np.union1d(head, np.asarray([max(lo, length)], dtype=np.int64))
            except Inexact:
                pass
        try:
            return self._around(self.pieces(node, lo, hi), lo, hi)
        except _TooMany:
            pass
        length = node.length
        if length is not None and hi > length:  # the hold after a bounded node is one value
            head = self.candidates(node, lo, length) if lo < length else np.empty(0, dtype=np.int64)
            return np.union1d(head, np.asarray([max(lo, length)], dtype=np.int64))
        op = node.op
        if op == "seq":
            parts = [self.candidates(kid, max(lo, s) - s, min(hi, e) - s) + s for s, e, kid in seq_parts(node, lo, hi)]
            return np.unique(np.concatenate(parts))
        if op in ("repeat", "cyclic", "cosine_restarts"):
            return self._periodic(node, lo, hi)
        if op in _WITH_CONSTANT and len(node.kids) == 2:
            return self._with_constant(node, lo, hi)
        raise Inexact(op)

    def _around(self, starts: Any, lo: int, hi: int) -> Any:
        """Each piece's first and last steps, with their neighbours."""
        np = self.np
        c = np.concatenate([starts - 1, starts, starts + 1, np.asarray([hi - 1], dtype=np.int64)])
        return np.unique(c[(c >= lo) & (c < hi)])

    def _periodic(self, node: Node, lo: int, hi: int) -> Any:
        """Whole cycles: the first and the last; the cut ones at either end."""
        np = self.np
        period = period_of(node)
        if period is None:
            raise Inexact(node.op)
        k0, k1 = lo // period, (hi - 1) // period
        if node.op == "repeat":  # one period of a repeat is its schedule's
            kid = node.kids[0]

            def within(k: int, a: int, b: int) -> Any:
                self.used = 0  # each period gets the whole budget: at most four per level
                return self.candidates(kid, a - k * period, b - k * period) + k * period
        else:

            def within(k: int, a: int, b: int) -> Any:
                self.used = 0
                return self._around(self.pieces(node, a, b), a, b)

        if k0 == k1:
            return within(k0, lo, hi)
        parts = [within(k0, lo, (k0 + 1) * period), within(k1, k1 * period, hi)]
        for k in {k for k in (k0 + 1, k1 - 1) if k0 < k < k1}:
            parts.append(within(k, k * period, (k + 1) * period))
        return np.unique(np.concatenate(parts))

    def _with_constant(self, node: Node, lo: int, hi: int) -> Any:
        """A schedule combined with a constant, elementwise monotone: its extremes."""
        a, b = node.kids
        if a.op in CONSTANT and b.op not in CONSTANT:
            other, first = b, False
        elif b.op in CONSTANT and a.op not in CONSTANT:
            other, first = a, True
        else:
            raise Inexact(node.op)
        c = self.candidates(other, lo, hi)
        if node.op == "div" and not first:  # k / x: monotone on one side of 0 only
            v = self.values(other, c)
            if not (bool((v > 0).all()) or bool((v < 0).all())):
                raise Inexact("div")
        return c

    def first_where(self, node: Node, lo: int, hi: int, bad: Callable[[Any], Any]) -> int | None:
        """The first local step in ``lo..hi-1`` where ``bad(value)`` holds, for a
        predicate that holds on a prefix or a suffix of any monotone piece (a
        value at or below 0, a value that is not finite); ``None``: nowhere.
        Each piece's ends, then a binary search in the first piece that turns bad."""
        np = self.np
        if hi <= lo:
            return None
        self.used = 0
        try:
            starts = self.pieces(node, lo, hi)
        except _TooMany:
            return self._first_reduced(node, lo, hi, bad)
        ends = np.append(starts[1:], hi) - 1
        points = self._around(starts, lo, hi)
        hit = points[bad(self.values(node, points))]
        found = int(hit[0]) if hit.size else None
        turning = bad(self.values(node, ends)) & ~bad(self.values(node, starts))
        a, b = starts[turning] + 1, ends[turning]  # the first bad step is in [a, b]
        while a.size:
            open_ = a < b
            if not open_.any():
                break
            mid = (a + b) // 2
            worse = bad(self.values(node, mid))
            b = np.where(open_ & worse, mid, b)
            a = np.where(open_ & ~worse, mid + 1, a)
        if a.size and (found is None or int(a[0]) < found):
            found = int(a[0])
        return found

    def _first_reduced(self, node: Node, lo: int, hi: int, bad: Callable[[Any], Any]) -> int | None:
        """:meth:`first_where` over more pieces than the budget: a chain part by
        part; a periodic node's first cycle, then a binary search over the
        whole cycles (at a fixed place in the cycle a value moves one way, so
        once a cycle has a bad step every later one has)."""
        length = node.length
        if length is not None and hi > length:
            found = self.first_where(node, lo, length, bad) if lo < length else None
            at = max(lo, length)
            return found if found is not None or not bad(self.values(node, [at]))[0] else at
        if node.op == "seq":
            for s, e, kid in seq_parts(node, lo, hi):
                found = self.first_where(kid, max(lo, s) - s, min(hi, e) - s, bad)
                if found is not None:
                    return found + s
            return None
        period = period_of(node)
        if period is None or (hi - 1) // period == lo // period:
            raise Inexact(node.op)
        k0, k1 = lo // period, (hi - 1) // period

        def cycle(k: int) -> int | None:
            return self.first_where(node, max(lo, k * period), min(hi, (k + 1) * period), bad)

        found = cycle(k0)
        if found is not None:
            return found
        a, b = k0 + 1, k1 - 1  # the whole cycles after the first
        if a <= b and cycle(b) is not None:
            while a < b:
                mid = (a + b) // 2
                if cycle(mid) is None:
                    a = mid + 1
                else:
                    b = mid
            return cycle(a)
        return cycle(k1)

    # ------------------------------------------------------------ pieces

    def pieces(self, node: Node, lo: int, hi: int) -> Any:
        """Sorted first steps of pieces covering ``lo..hi-1`` (the first is ``lo``)
        on each of which the node is monotone.  Remembered per node and interval:
        nested repeats ask for the same whole period at every level."""
        key = (id(node), lo, hi)
        got = self._pieces.get(key)
        if got is None:
            got = self._pieces[key] = self._cut(node, lo, hi)
        return got

    def _cut(self, node: Node, lo: int, hi: int) -> Any:
        np = self.np
        length = node.length
        if length is not None and hi > length:
            tail = np.asarray([max(lo, length)], dtype=np.int64)
            return tail if lo >= length else np.concatenate([self._inner(node, lo, length), tail])
        return self._inner(node, lo, hi)

    def _spend(self, n: int) -> None:
        """Count ``n`` pieces about to be listed: over the budget, the caller
        reduces (:class:`_TooMany`, charged the whole budget: what an attempt can
        have cost); over :data:`PIECES` in the whole analysis, :class:`Inexact`
        (nested periodic parts would otherwise retry each level's cycles)."""
        self.used += n
        over = self.used > self.budget
        self.spent += self.budget if over else n
        if self.spent > PIECES:
            raise Inexact("too many pieces to bound exactly")
        if over:
            raise _TooMany

    def _inner(self, node: Node, lo: int, hi: int) -> Any:
        np = self.np
        op = node.op
        first = np.asarray([lo], dtype=np.int64)
        if op in MONOTONE:
            return first
        breaks = BREAKS.get(op)
        if breaks is not None:
            inside = [b for b in breaks(node.params) if lo < b < hi]
            return np.unique(np.asarray([lo, *inside], dtype=np.int64))
        cycles = CYCLES.get(op)
        if cycles is not None:
            return self._cycles(node, cycles, lo, hi)
        if op == "seq":
            parts = [self.pieces(kid, max(lo, s) - s, min(hi, e) - s) + s for s, e, kid in seq_parts(node, lo, hi)]
            return np.concatenate(parts)
        if op == "repeat":
            return self._repeat(node, lo, hi)
        if op in _COMBINE:
            return self._combine(node, lo, hi)
        raise Inexact(op)

    def _cycles(self, node: Node, cycles: Any, lo: int, hi: int) -> Any:
        period = period_of(node)
        if period is not None:
            self._spend(3 * ((hi - 1) // period - lo // period + 1))
        return cycles(self.np, self._spend, node.params, lo, hi)

    def _repeat(self, node: Node, lo: int, hi: int) -> Any:
        np = self.np
        period = node.params["period"]
        kid = node.kids[0]
        k0, k1 = lo // period, (hi - 1) // period
        if k0 == k1:
            return self.pieces(kid, lo - k0 * period, hi - k0 * period) + k0 * period
        head = self.pieces(kid, lo - k0 * period, period) + k0 * period
        tail = self.pieces(kid, 0, hi - k1 * period) + k1 * period
        self._spend(len(head) + len(tail))  # the same period twice: remembered, so counted here
        middle = np.empty(0, dtype=np.int64)
        if k1 > k0 + 1:
            one = self.pieces(kid, 0, period)
            self._spend(len(one) * (k1 - k0 - 1))
            middle = (one[None, :] + period * np.arange(k0 + 1, k1, dtype=np.int64)[:, None]).reshape(-1)
        return np.concatenate([head, middle, tail])

    def _combine(self, node: Node, lo: int, hi: int) -> Any:
        """Pieces of a combination: the kids' pieces, cut where it turns."""
        np = self.np
        starts = np.unique(np.concatenate([self.pieces(kid, lo, hi) for kid in node.kids]))
        self._spend(len(starts))
        ends = np.append(starts[1:], hi) - 1
        ways = np.stack([direction(np, self.values(k, starts), self.values(k, ends)) for k in node.kids])
        if node.op in ("min", "max"):
            cross = (ways > 0).any(axis=0) & (ways < 0).any(axis=0)
            turns = self._crossings(node, ways[:, cross], starts[cross], ends[cross])
        else:
            turns = self._bumps(node, ways, starts, ends)
        return np.unique(np.concatenate([starts, turns]))

    def _bumps(self, node: Node, ways: Any, starts: Any, ends: Any) -> Any:
        """Pieces where a sum, difference, product or quotient of two monotone
        schedules may turn inside: evaluated step by step (when short)."""
        np = self.np
        da, db = ways
        if node.op == "add":
            ok = da * db >= 0
        elif node.op == "sub":
            ok = da * db <= 0
        else:  # mul, div: a constant factor, or both of one sign moving the right ways
            a, b = node.kids
            sa = sign_of(np, self.values(a, starts), self.values(a, ends))
            sb = sign_of(np, self.values(b, starts), self.values(b, ends))
            turn = da * db * sa * sb
            if node.op == "mul":
                ok = (da == 0) | (db == 0) | (turn > 0)
            else:
                ok = (sb != 0) & ((db == 0) | (da == 0) | (turn < 0))
        bad = ~ok
        if not bad.any():
            return np.empty(0, dtype=np.int64)
        if int((ends[bad] - starts[bad] + 1).sum()) > DENSE:
            raise Inexact(node.op)
        return np.concatenate([np.arange(s, e + 1, dtype=np.int64) for s, e in zip(starts[bad], ends[bad])])

    def _crossings(self, node: Node, ways: Any, lo: Any, hi: Any) -> Any:
        """Where, on each piece, the envelope of the rising kids meets that of the
        falling ones (min or max of monotone schedules turns once, there): the
        first step where the rising envelope is at or above the falling one."""
        np = self.np
        if not lo.size:
            return lo
        pick, far = (np.min, np.inf) if node.op == "min" else (np.max, -np.inf)
        up, down = ways >= 0, ways < 0
        a, b = lo.copy(), hi + 1  # the crossing is in [a, b); b when there is none
        while True:
            open_ = a < b
            if not open_.any():
                return a[a <= hi]
            mid = np.where(open_, (a + b) // 2, lo)
            v = np.stack([self.values(k, mid) for k in node.kids])
            rising = pick(np.where(up, v, far), axis=0)
            falling = pick(np.where(down, v, far), axis=0)
            met = rising >= falling
            b = np.where(open_ & met, mid, b)
            a = np.where(open_ & ~met, mid + 1, a)


_COMBINE = frozenset({"min", "max", "add", "sub", "mul", "div"})
_WITH_CONSTANT = _COMBINE

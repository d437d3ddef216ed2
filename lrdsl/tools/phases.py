"""The phases ``lrdsl check`` and ``explain`` show: what a run reaches.

:func:`reached` gives one :class:`Row` per top-level segment that the run's
``total_steps`` reach: a segment that runs past the total is cut there (its
values are those of the steps before the total, and a note says so), and a
segment that starts after it is left out with a note (``lint`` warns about
both).  The unbounded last segment of a chain that begins at the total stays:
it is what the schedule holds from there on.

Without a total a text with ``%`` lengths or an elastic segment cannot be
compiled, yet it is valid: :func:`open_rows` describes it from two compiles
at totals far apart (:data:`PROBES`).  A step that is the same in both is a
step; one that moves with the total is written in terms of it (``total``,
``total-100``, ``5%``), the elastic segment says it fills the total, and a
value that could depend on the total is ``-``.
"""

from __future__ import annotations

from fractions import Fraction

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..language.ir import Node, Phase
    from ..schedule import Schedule

#: The totals an open schedule is compiled at: far apart, and multiples of
#: 10**14 so that any percentage with up to 12 decimals is a whole step.
PROBES = (10**14, 2 * 10**14)


class Row:
    """One phase as shown: steps ``[start, end)`` (``None``: not a fixed step),
    how they read, the values (``None``: depends on the total) and a note."""

    __slots__ = ("end", "end_text", "first", "hi", "index", "lo", "note", "start", "start_text", "text")

    def __init__(
        self,
        index: int,
        start: int | None,
        end: int | None,
        text: str,
        values: tuple[float | None, float | None, float | None],
        note: str = "",
        shown: tuple[str, str] | None = None,
    ) -> None:
        self.index, self.start, self.end, self.text, self.note = index, start, end, text, note
        self.first, self.lo, self.hi = values
        self.start_text, self.end_text = shown or (str(start), "inf" if end is None else str(end))


def reached(sched: Schedule) -> tuple[list[Row], list[str]]:
    """The phases a run of ``sched.total_steps`` reaches, and notes on what it does not."""
    total = sched.total_steps
    phases = sched.phases
    rows: list[Row] = []
    notes: list[str] = []
    for i, ((start, node), ph) in enumerate(zip(sched.program.segments(), phases)):
        last = ph is phases[-1]
        if total is not None and (start > total or (start == total and not (last and ph.end is None))):
            notes.append(f"'{ph.text}' (from step {start}) is not reached in the {total} total steps")
            continue
        if total is not None and ph.end is not None and ph.end > total:
            cut = cut_phase(sched, start, node, total)
            note = f"cut at the total, runs to {ph.end}" + _sampled(cut)
            rows.append(Row(i, start, total, ph.text, (cut.first, cut.lo, cut.hi), note))
            continue
        rows.append(Row(i, start, ph.end, ph.text, (ph.first, ph.lo, ph.hi), _sampled(ph).lstrip("; ")))
    return rows, notes


def _sampled(ph: Phase) -> str:
    """The note on a phase whose min and max are from samples, not exact."""
    return "" if ph.exact else "; min and max sampled"


def cut_phase(sched: Schedule, start: int, node: Node, total: int) -> Phase:
    """The phase of ``node`` (a top-level segment starting at ``start``) over
    the steps before ``total`` only, computed as :attr:`Schedule.phases` is."""
    from ..language.end_values import left_limit
    from ..schedule import Schedule

    n = total - start
    cut = node._replace(length=n, end=left_limit(node._replace(length=None), n))
    program = sched.program._replace(root=cut, total_steps=None)
    phase = Schedule(program, sched.ast, sched._checked, sched.placeholders).phases[0]
    return phase._replace(start=start, end=total)


# ---------------------------------------------------------------- without a total


def open_rows(a: Schedule, b: Schedule, elastic: Sequence[bool]) -> list[Row]:
    """The phases of a text that needs a total, from its compiles ``a`` and
    ``b`` at the two :data:`PROBES`; ``elastic[i]``: segment ``i`` fills the total."""
    rows = []
    pairs = list(zip(a.program.segments(), b.program.segments(), a.phases, b.phases))
    for i, ((s1, n1), (s2, n2), p1, p2) in enumerate(pairs):
        e1, e2 = p1.end, p2.end
        fixed = s1 == s2 and e1 == e2
        same = _same(n1, n2, lengths=True)
        first = p1.first if p1.first == p2.first else None
        constant = p1.lo == p1.hi == p1.first and (p2.lo, p2.hi) == (p1.lo, p1.hi)
        lo: float | None = None  # an unbounded last segment's values run to the total
        hi: float | None = None
        if (same and e1 is not None) or constant:
            lo, hi = p1.lo, p1.hi
        note = "fills the total" if elastic[i] else ""
        shown = (_symbolic(s1, s2), "inf" if e1 is None or e2 is None else _symbolic(e1, e2))
        rows.append(Row(i, s1 if s1 == s2 else None, e1 if fixed else None, p1.text, (first, lo, hi), note, shown))
    return rows


def _symbolic(x1: int, x2: int) -> str:
    """A step as the total makes it: ``x1`` at the first probe, ``x2`` at the second."""
    if x1 == x2:
        return str(x1)
    t1, t2 = PROBES
    share = Fraction(x2 - x1, t2 - t1)
    rest = x1 - share * t1
    head = "total" if share == 1 else f"{float(share * 100):g}%"
    if rest.denominator != 1 or rest == 0:
        return head
    return f"{head}{int(rest):+d}"


def _same(a: Node, b: Node, lengths: bool) -> bool:
    """Whether two compiled nodes compute the same values (lengths too when asked)."""
    if a.op != b.op or len(a.kids) != len(b.kids):
        return False
    if lengths and a.length != b.length:
        return False
    pa = {k: v for k, v in a.params.items() if k != "_length"}
    pb = {k: v for k, v in b.params.items() if k != "_length"}
    if pa != pb:
        return False
    return all(_same(x, y, lengths) for x, y in zip(a.kids, b.kids))


# ---------------------------------------------------------------- the table


def table(rows: Sequence[Row]) -> str:
    """start, end, segment, value at start and the range of values, one phase a row."""
    lines: list[tuple[str, ...]] = [("start", "end", "segment", "first", "min", "max", "")]
    for r in rows:
        lines.append((r.start_text, r.end_text, r.text, _g(r.first), _g(r.lo), _g(r.hi), r.note))
    return align(lines, left=(2, 6))


def _g(v: float | None) -> str:
    return "-" if v is None else f"{v:.6g}"


def align(rows: list[tuple[str, ...]], left: tuple[int, ...] = ()) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = [c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)

"""What the ``lrdsl`` command prints: evaluated steps as CSV, JSON or a table,
the phase table, ``explain`` and ``compare``.

Steps are produced and evaluated in chunks (a contiguous range goes to the
kernel's range path, a sample to its sorted path), so ``--steps 10**9 --every
10**6`` touches a thousand steps and a long CSV streams in constant memory.
Nothing here imports numpy when the C kernel is built.
"""

from __future__ import annotations

from array import array

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from typing import Any, TextIO

    from ..schedule import Schedule

CHUNK = 1 << 16
#: The table view shows every step up to this many, then a sample.
TABLE_ROWS = 200


class Steps:
    """The steps to print: ``0..n-1``, every ``every``-th of them, or ``at``."""

    def __init__(self, n: int, every: int | None = None, at: Sequence[int] | None = None) -> None:
        self.n = n
        self.every = every or 1
        self.at = None if at is None else list(at)

    @property
    def count(self) -> int:
        if self.at is not None:
            return len(self.at)
        return (self.n + self.every - 1) // self.every

    @property
    def contiguous(self) -> bool:
        return self.at is None and self.every == 1

    def chunks(self) -> Iterator[list[int] | range]:
        if self.at is not None:
            for i in range(0, len(self.at), CHUNK):
                yield self.at[i : i + CHUNK]
            return
        span = CHUNK * self.every
        for start in range(0, self.n, span):
            yield range(start, min(self.n, start + span), self.every)


def values(sched: Schedule, steps: list[int] | range) -> list[float]:
    """The schedule at ``steps`` as Python floats (the kernel without numpy)."""
    kernel = sched._kernel
    if kernel is not None:
        if isinstance(steps, range) and steps.step == 1:
            return kernel.range_list(steps.start, len(steps))  # type: ignore[no-any-return]
        if list(steps) == sorted(steps):
            out = array("d", bytes(8 * len(steps)))
            if kernel.values(array("q", steps), out) == 0:
                return out.tolist()
    import numpy as np

    return sched.values(np.asarray(list(steps), dtype=np.int64)).tolist()  # type: ignore[no-any-return]


def write_csv(out: TextIO, sched: Schedule, plan: Steps) -> None:
    out.write("step,lr\n")
    for chunk in plan.chunks():
        out.write("".join(f"{t},{v!r}\n" for t, v in zip(chunk, values(sched, chunk))))


def write_json(out: TextIO, sched: Schedule, plan: Steps) -> None:
    """``{"schedule": ..., context ..., "step": [...], "lr": [...]}``, streamed."""
    import json

    head = {
        "schedule": sched.canonical,
        "base_lr": sched.base_lr,
        "total_steps": sched.total_steps,
        "steps_per_epoch": sched.steps_per_epoch,
    }
    out.write("{" + json.dumps(head)[1:-1] + ', "step": [')
    for i, chunk in enumerate(plan.chunks()):
        out.write((", " if i else "") + ", ".join(map(str, chunk)))
    out.write('], "lr": [')
    for i, chunk in enumerate(plan.chunks()):
        out.write((", " if i else "") + ", ".join(repr(v) for v in values(sched, chunk)))
    out.write("]}\n")


def table_steps(sched: Schedule | Sequence[Schedule], plan: Steps) -> tuple[list[int], bool]:
    """The steps the table shows and whether that is a sample: past
    :data:`TABLE_ROWS` steps, every :func:`stride`-th (a round number of
    steps), the last, and each phase boundary of every schedule given."""
    if plan.count <= TABLE_ROWS:
        return [t for chunk in plan.chunks() for t in chunk], False
    if plan.at is not None:
        picks = {plan.at[round(i * (len(plan.at) - 1) / (TABLE_ROWS - 1))] for i in range(TABLE_ROWS)}
        return sorted(picks), True
    last = (plan.count - 1) * plan.every
    picks = set(range(0, last + 1, stride(plan))) | {last}
    if plan.every == 1:
        for phase in (ph for one in _each(sched) for ph in one.phases):
            for s in (phase.start - 1, phase.start):
                if 0 <= s <= last:
                    picks.add(s)
    return sorted(picks), True


def stride(plan: Steps) -> int:
    """The steps between sampled rows: 1, 2 or 5 times a power of ten (times
    ``--every``), the smallest that keeps the sample within :data:`TABLE_ROWS`."""
    scale = 1
    while True:
        for k in (1, 2, 5):
            if -(-plan.count // (k * scale)) <= TABLE_ROWS:
                return k * scale * plan.every
        scale *= 10


def _each(sched: Schedule | Sequence[Schedule]) -> Sequence[Schedule]:
    return sched if isinstance(sched, (list, tuple)) else [sched]  # type: ignore[list-item]


def readable(v: float) -> str:
    """A table cell: the exact ``repr`` when it has at most 12 significant
    digits, else 12 of them (``0.0006``, not ``0.0006000000000000001``)."""
    short = f"{v:.12g}"
    return repr(v) if float(short) == v else short


def sample_note(shown: int, plan: Steps) -> str:
    """The line under a sampled table."""
    every = stride(plan)
    return (
        f"(showing {shown} of {plan.count} steps: one every {every} steps, the last and every phase boundary;"
        " --format csv gives all, exactly)\n"
        if plan.at is None
        else f"(showing {shown} of the {plan.count} steps of --at, evenly; --format csv gives all, exactly)\n"
    )


def write_table(out: TextIO, sched: Schedule, plan: Steps) -> None:
    steps, sampled = table_steps(sched, plan)
    width = max(4, len(str(steps[-1] if steps else 0)))
    out.write(f"{'step':>{width}}  lr\n")
    lines = [f"{t:>{width}}  {readable(v)}" for t, v in zip(steps, values(sched, steps))]
    out.write("\n".join(lines) + "\n")
    if sampled:
        out.write(sample_note(len(steps), plan))


def terminal_plot(sched: Schedule, n: int, log: bool, *, ascii_only: bool = False, height: int = 10) -> str:
    """A braille chart of steps 0..n-1, ``height`` rows, min/max preserving
    when n is large (ASCII characters only when ``ascii_only``)."""
    from .termplot import braille

    if n <= 4096:
        return braille(values(sched, range(n)), log=log, ascii_only=ascii_only, height=height)
    cols = 120
    samples: list[int] = []
    for c in range(cols):
        lo = c * n // cols
        hi = max(lo + 1, (c + 1) * n // cols)
        samples.extend(range(lo, hi, max(1, (hi - lo) // 64)))
    return braille(values(sched, samples), first_step=0, last_step=n - 1, log=log, ascii_only=ascii_only, height=height)


# ---------------------------------------------------------------- phases and explain


def phase_table(sched: Schedule) -> str:
    """The phases the run reaches (see :func:`lrdsl.tools.phases.reached`), one
    a row, with a note under the table for each one cut or left out."""
    from .phases import reached, table

    rows, notes = reached(sched)
    return table(rows) + "".join(f"\n({n})" for n in notes)


def explain_text(sched: Schedule, rich: bool, name: str = "lr", title: str | None = None) -> str | None:
    """``lrdsl explain`` of one schedule: see :func:`lrdsl.tools.explain.explain_text`."""
    from .explain import explain_text as text

    return text(sched, rich, name=name, title=title)


# ---------------------------------------------------------------- compare


def compare(a: Schedule, b: Schedule, n: int, progress: Callable[[int, int], object] | None = None) -> dict[str, Any]:
    """The first step in 0..n-1 where the two differ (with both values), and the
    largest absolute and relative differences (each at its first step, with
    both values there: ``max_abs_values``, ``max_rel_values``).  The values are
    the ones compared, from :meth:`Schedule.values` (the kernel's range path,
    which may differ from ``sched(t)`` in the last bit).

    Spans where both run the same segment are equal without evaluation, and
    spans where both are constant are decided by one value each
    (:mod:`lrdsl.agree`); ``evaluated`` lists the spans that had to be
    evaluated, ``equal_spans`` and ``constant_spans`` count the others.  The
    evaluated spans stream in chunks: ``progress(done, todo)`` (when given) is
    called after each, with the steps evaluated so far and in all.  A
    KeyboardInterrupt while comparing stops it: the result is what was found on
    steps ``0..checked-1``, with ``interrupted`` true (else ``checked`` is n)."""
    from ..agree import CHUNK as CHUNK_EVAL
    from ..agree import buffers, chunks, spans

    plan = list(spans(a, b, n))
    todo = sum(s.stop - s.start for s in plan if s.how == "evaluated")
    evaluated: list[tuple[int, int]] = []  # adjacent evaluated spans merged
    for span in plan:
        if span.how == "evaluated" and evaluated and evaluated[-1][1] == span.start:
            evaluated[-1] = (evaluated[-1][0], span.stop)
        elif span.how == "evaluated":
            evaluated.append((span.start, span.stop))
    size = min(CHUNK_EVAL, max((s.stop - s.start for s in plan if s.how == "evaluated"), default=1))
    at, xs, ys = buffers(size)  # every chunk is evaluated into these: nothing is allocated per chunk
    found = Differences(size)
    done = 0
    interrupted = False
    try:
        for span in plan:
            if span.how == "equal":
                found.skip(span.stop)
                continue
            one = span.how == "constant"  # one value each decides it (each constant span has its own)
            for steps in chunks(span._replace(stop=span.start + 1) if one else span, at):
                m = len(steps)
                x, y = a.values(steps, out=xs[:m]), b.values(steps, out=ys[:m])
                found.add(steps, x, y, stop=span.stop if one else None)
                if not one:
                    done += m
                    if progress is not None:
                        progress(done, todo)
    except KeyboardInterrupt:
        interrupted = True
    first, worst_abs, worst_rel, checked = found.state
    return {
        "identical": first is None,
        "first_difference": None if first is None else first[0],
        "a_at_first": None if first is None else first[1],
        "b_at_first": None if first is None else first[2],
        "max_abs": worst_abs[0],
        "max_abs_at": worst_abs[1],
        "max_abs_values": worst_abs[2:],
        "max_rel": worst_rel[0],
        "max_rel_at": worst_rel[1],
        "max_rel_values": worst_rel[2:],
        "evaluated": evaluated,
        "equal_spans": sum(s.how == "equal" for s in plan),
        "constant_spans": sum(s.how == "constant" for s in plan),
        "interrupted": interrupted,
        "checked": checked,
    }


#: A largest difference: (difference, step, a there, b there); step None before any.
Worst = tuple[float, int | None, float | None, float | None]


class Differences:
    """The first step where two value arrays differ (bit for bit) and the largest
    absolute and relative differences over the differing steps, each with the
    first step it is taken at and both values there, chunk by chunk.  The
    relative difference is to the larger magnitude; NaN differences are left
    out.  The values are the ones compared, so ``a != b`` at each.

    ``state`` is ``(first, max_abs, max_rel, checked)``, ``first`` ``(step,
    a, b)`` or ``None``, the maxima :data:`Worst`: the steps ``0..checked-1``
    are accounted for.  Each chunk replaces it in one assignment, so a
    KeyboardInterrupt leaves it as it was before or after a chunk, never half
    updated."""

    def __init__(self, size: int) -> None:
        import numpy as np

        none: Worst = (0.0, None, None, None)
        self.state: tuple[tuple[int, float, float] | None, Worst, Worst, int] = (None, none, none, 0)
        # scratch for chunks of up to ``size`` steps, so that nothing is allocated per chunk
        self._d, self._r, self._s = np.empty(size), np.empty(size), np.empty(size)
        self._ne = np.empty(size, dtype=bool)

    def skip(self, stop: int) -> None:
        """Steps up to ``stop`` are equal."""
        first, worst_abs, worst_rel, _ = self.state
        self.state = (first, worst_abs, worst_rel, stop)

    def add(self, steps: Any, x: Any, y: Any, stop: int | None = None) -> None:
        """Both schedules' values ``x`` and ``y`` at ``steps`` (an int64 array),
        accounting for the steps up to ``stop`` (default: the last of ``steps``
        and one; more for a constant span, decided by its first step)."""
        import numpy as np

        first, worst_abs, worst_rel, _ = self.state
        stop = int(steps[-1]) + 1 if stop is None else stop
        m = len(x)
        if first is None:
            differ = np.not_equal(x.view(np.uint64), y.view(np.uint64), out=self._ne[:m])
            k = int(differ.argmax())
            if not differ[k]:
                self.state = (first, worst_abs, worst_rel, stop)
                return
            first = (int(steps[k]), float(x[k]), float(y[k]))
        d, r, s = self._d[:m], self._r[:m], self._s[:m]
        with np.errstate(invalid="ignore", over="ignore"):
            np.abs(np.subtract(x, y, out=d), out=d)
            np.maximum(np.abs(x, out=r), np.abs(y, out=s), out=s)
            # where both are zero d is too: 0 / tiny is 0, as 0 / inf
            np.divide(d, np.maximum(s, 5e-324, out=s), out=r)
        worst_abs = _larger(worst_abs, d, steps, x, y)
        worst_rel = _larger(worst_rel, r, steps, x, y)
        self.state = (first, worst_abs, worst_rel, stop)


def _larger(worst: Worst, arr: Any, steps: Any, x: Any, y: Any) -> Worst:
    """``worst``, or the largest of ``arr`` over the steps where ``x`` and ``y``
    differ, if larger."""
    import numpy as np

    k = int(arr.argmax())  # the first NaN, if there is one
    if not arr[k] > 0:  # a NaN, or no difference above zero: look at the differing steps only
        differ = np.flatnonzero(x.view(np.uint64) != y.view(np.uint64))
        if not differ.size or np.all(np.isnan(arr[differ])):
            return worst
        k = int(differ[np.nanargmax(arr[differ])])
    # a step where arr > 0 differs, and elsewhere arr is 0 or NaN: k is the first largest
    if worst[1] is None or arr[k] > worst[0]:
        return float(arr[k]), int(steps[k]), float(x[k]), float(y[k])
    return worst

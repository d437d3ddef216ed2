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
    from collections.abc import Iterator, Sequence
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


def compare(a: Schedule, b: Schedule, n: int) -> dict[str, Any]:
    """The first step in 0..n-1 where the two differ (with both values), and the
    largest absolute and relative differences.  Spans where both run the same
    segment are equal without evaluation (:mod:`lrdsl.agree`); ``evaluated``
    lists the spans that had to be evaluated."""
    import numpy as np

    from ..agree import chunks, spans

    first: int | None = None
    worst_abs: tuple[float, int | None] = (0.0, None)
    worst_rel: tuple[float, int | None] = (0.0, None)
    evaluated: list[tuple[int, int]] = []
    for span in spans(a, b, n):
        if span.how == "equal":
            continue
        if span.how == "constant":
            groups: Any = [np.array([span.start], dtype=np.int64)]
        else:
            evaluated.append((span.start, span.stop))
            groups = chunks(span)
        for steps in groups:
            x, y = a.values(steps), b.values(steps)
            differ = np.flatnonzero(x.view(np.uint64) != y.view(np.uint64))
            if not differ.size:
                continue
            if first is None:
                first = int(steps[differ[0]])
            xs, ys, at = x[differ], y[differ], steps[differ]
            with np.errstate(invalid="ignore"):
                d = np.abs(xs - ys)
                scale = np.maximum(np.abs(xs), np.abs(ys))
                r = d / np.where(scale > 0, scale, np.inf)  # relative to the larger magnitude
            for arr, rel in ((d, False), (r, True)):
                if np.all(np.isnan(arr)):
                    continue
                k = int(np.nanargmax(arr))
                worst = worst_rel if rel else worst_abs
                if worst[1] is None or arr[k] > worst[0]:
                    if rel:
                        worst_rel = (float(arr[k]), int(at[k]))
                    else:
                        worst_abs = (float(arr[k]), int(at[k]))
    return {
        "identical": first is None,
        "first_difference": first,
        "a_at_first": None if first is None else a(first),
        "b_at_first": None if first is None else b(first),
        "max_abs": worst_abs[0],
        "max_abs_at": worst_abs[1],
        "max_rel": worst_rel[0],
        "max_rel_at": worst_rel[1],
        "evaluated": evaluated,
    }

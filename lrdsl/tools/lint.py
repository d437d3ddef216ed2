"""Check stage, advisory: what ``lrdsl check`` says about schedules that
compile but are probably not what was meant.  Nothing here fails a check.

Warnings (:func:`lint`, printed as ``warning:``):

- a jump at a segment boundary by more than :data:`JUMP_FACTOR`;
- a segment that starts after the last of the total steps;
- a schedule longer than the total: the run ends inside a segment;
- a learning rate that reaches 0 (or below) before the run's last step;
- a schedule that ends before the total and holds its last value from there;
- a learning rate that is not finite (a growth factor overflowing, say).

Notes (:func:`notes`, printed only under ``lrdsl check --notes``): things
that are usually meant, so a warning every time would teach users to ignore
warnings:

- a warmup whose first step is 0, the HuggingFace and Keras convention (the
  first update does nothing).
"""

from __future__ import annotations

import itertools
import math

from ..language.domain import STEP_LIMIT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..schedule import Schedule

#: A boundary where the lr changes by more than this factor gets a warning.
JUMP_FACTOR = 10.0


def lint(sched: Schedule, name: str = "lr") -> list[str]:
    """The warnings about ``sched``, in order (``name``: what its values are, as
    the warnings say it: a plan's ``momentum``)."""
    out: list[str] = []
    total = sched.total_steps
    segments = sched.program.segments()
    phases = sched.phases
    for (start, _node), phase in zip(segments, phases):
        if start > 0 and (total is None or start <= total):  # a boundary the run never reaches is no jump
            before, after = sched(start - 1), sched(start)
            lo, hi = sorted((abs(before), abs(after)))
            if hi > 0 and (lo == 0 or hi / lo > JUMP_FACTOR):
                out.append(
                    f"the {name} jumps from {before:.3g} to {after:.3g} at step {start}, where '{phase.text}' begins"
                )
        last = phase is phases[-1]
        if total is not None and (start > total or (start == total and not (last and phase.end is None))):
            out.append(f"'{phase.text}' starts at step {start}, after the last of the {total} total steps")
    if total is not None:
        out.extend(_longer(sched, total))
    out.extend(_values(sched, total, name))
    length = sched.program.root.length
    if total is not None and length is not None and length < total:
        out.append(
            f"the schedule ends at step {length}, before the {total} total steps; it holds"
            f" {sched.program.root.end:.3g} from there"
        )
    return out


def notes(sched: Schedule) -> list[str]:
    """What ``lrdsl check --notes`` adds: conventions that are usually meant."""
    out = []
    for (start, node), phase in zip(sched.program.segments(), sched.phases):
        if node.op == "warmup" and phase.first == 0.0:
            out.append(
                f"'{phase.text}' starts at 0 at step {start}, so that step's update does nothing"
                " (the HuggingFace and Keras convention; start= gives it a first value)"
            )
    return out


def _longer(sched: Schedule, total: int) -> list[str]:
    """A warning when the run ends inside a segment that goes on past the total."""
    for (start, _node), phase in zip(sched.program.segments(), sched.phases):
        if start < total and phase.end is not None and phase.end > total:
            return [
                f"the schedule is longer than the {total} total steps: the run ends at step {total - 1},"
                f" at {sched(total - 1):.3g}, inside '{phase.text}', which runs to step {phase.end}"
            ]
    return []


def _values(sched: Schedule, total: int | None, name: str) -> list[str]:
    """Warnings about the values the run takes: not finite, or 0 and below."""
    import numpy as np

    out: list[str] = []
    horizon = total if total is not None else sched.program.root.length
    if not horizon:
        return out
    horizon = min(horizon, STEP_LIMIT)
    reached = [(ph.lo, ph.hi) for ph in sched.phases if ph.start < horizon]
    root = sched.program.root
    if root.length is not None and root.length < horizon:  # and the value it holds after
        reached.append((root.end, root.end))
    exact = all(ph.exact for ph in sched.phases if ph.start < horizon)
    if not exact or not all(math.isfinite(lo) and math.isfinite(hi) for lo, hi in reached):
        bad = _first(sched, horizon, lambda v: ~np.isfinite(v))
        if bad is not None:
            out.append(f"the {name} is not finite ({sched(bad)}) from step {bad} on")
    if not exact or not min((lo for lo, _hi in reached), default=1.0) > 0:
        step = _first(sched, horizon, lambda v: ~(v > 0), skip_warmup=True)
        if step is not None:
            where = (
                f"before the run's last step ({total - 1}, the last of the {total} total steps)"
                if total is not None
                else f"before the schedule ends at step {horizon}"
            )
            out.append(f"the {name} reaches {sched(step):.3g} at step {step}, {where}")
    return out


def _first(sched: Schedule, horizon: int, bad: Any, skip_warmup: bool = False) -> int | None:
    """The first step before ``horizon`` where ``bad`` holds: exact, from the
    schedule's monotone pieces (:meth:`Extent.first_where`), O(pieces); a
    warmup's first step (0 by convention) is skipped when asked."""
    from functools import partial

    from ..primitives.extent import Extent, Inexact
    from ..primitives.phases import node_values

    ext = Extent(partial(node_values, sched))
    skip = {s for s, node in sched.program.segments() if node.op == "warmup"} if skip_warmup else set()
    lo = 0
    while lo < horizon:
        try:
            step = ext.first_where(sched.program.root, lo, horizon, bad)
        except Inexact:
            return _scanned(sched, lo, horizon, bad, skip)
        if step is None or step not in skip:
            return step
        lo = step + 1
    return None


#: Horizons up to this many steps are scanned step by step where the pieces are
#: not known; longer ones at each segment's ends and this many evenly spaced
#: steps per segment.
DENSE_SCAN = 1 << 22


def _scanned(sched: Schedule, lo: int, horizon: int, bad: Any, skip: set[int]) -> int | None:
    """The first bad step found by evaluating (every step when few, else samples)."""
    import numpy as np

    if horizon - lo <= DENSE_SCAN:
        blocks: Any = (np.arange(a, min(horizon, a + (1 << 20)), dtype=np.int64) for a in range(lo, horizon, 1 << 20))
    else:
        segments = sched.program.segments()
        ends = [s + n.length for s, n in segments if n.length is not None]  # where holds begin
        marks = sorted({m for m in (lo, horizon, *(s for s, _n in segments), *ends) if lo <= m <= horizon})
        parts = [np.linspace(a, b - 1, 1 << 12).astype(np.int64) for a, b in itertools.pairwise(marks) if b > a]
        blocks = [np.unique(np.concatenate([*parts, np.asarray(marks[:-1], dtype=np.int64)]))]
    for steps in blocks:
        hit = steps[bad(sched.values(steps))]
        for step in hit:
            if int(step) not in skip:
                return int(step)
    return None

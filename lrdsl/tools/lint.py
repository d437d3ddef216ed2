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

from ..language.domain import STEP_LIMIT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from ..schedule import Schedule

#: A boundary where the lr changes by more than this factor gets a warning.
JUMP_FACTOR = 10.0


def lint(sched: Schedule) -> list[str]:
    """The warnings about ``sched``, in order."""
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
                    f"the lr jumps from {before:.3g} to {after:.3g} at step {start}, where '{phase.text}' begins"
                )
        last = phase is phases[-1]
        if total is not None and (start > total or (start == total and not (last and phase.end is None))):
            out.append(f"'{phase.text}' starts at step {start}, after the last of the {total} total steps")
    if total is not None:
        out.extend(_longer(sched, total))
    out.extend(_values(sched, total))
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


def _values(sched: Schedule, total: int | None) -> list[str]:
    """Warnings about the values the run takes: not finite, or 0 and below."""
    out: list[str] = []
    horizon = total if total is not None else sched.program.root.length
    if not horizon:
        return out
    segments = sched.program.segments()
    bad = _first_nonfinite(sched, horizon)
    if bad is not None:
        out.append(f"the lr is not finite ({sched(bad)}) from step {bad} on")
    low = min((ph.lo for ph, (s, _n) in zip(sched.phases, segments) if s < horizon), default=1.0)
    if not low > 0:
        step = _first_nonpositive(sched, horizon)
        if step is not None and not _warmup_start(sched, step):
            where = (
                f"before the run's last step ({total - 1}, the last of the {total} total steps)"
                if total is not None
                else f"before the schedule ends at step {horizon}"
            )
            out.append(f"the lr reaches {sched(step):.3g} at step {step}, {where}")
    return out


#: Horizons up to this many steps are scanned step by step; longer ones at
#: each segment's ends and this many evenly spaced steps per segment, so a
#: check costs the same at any total.
DENSE_SCAN = 1 << 22


def _scan(sched: Schedule, horizon: int) -> Iterator[tuple[Any, Any]]:
    """``(steps, values)`` blocks covering ``[0, horizon)`` in order."""
    import numpy as np

    horizon = min(horizon, STEP_LIMIT)
    if horizon <= DENSE_SCAN:
        for start in range(0, horizon, 1 << 20):
            steps = np.arange(start, min(horizon, start + (1 << 20)), dtype=np.int64)
            yield steps, sched.values(steps)
        return
    marks = [s for s, _node in sched.program.segments() if s < horizon] + [horizon]
    parts = [np.linspace(a, b - 1, 1 << 12).astype(np.int64) for a, b in itertools.pairwise(marks) if b > a]
    steps = np.unique(np.concatenate([*parts, np.asarray(marks[:-1], dtype=np.int64)]))
    yield steps, sched.values(steps)


def _first_nonpositive(sched: Schedule, horizon: int) -> int | None:
    import numpy as np

    for steps, vals in _scan(sched, horizon):
        hit = np.flatnonzero(vals <= 0)
        for i in hit:
            if not _warmup_start(sched, int(steps[i])):
                return int(steps[i])
    return None


def _first_nonfinite(sched: Schedule, horizon: int) -> int | None:
    import numpy as np

    for steps, vals in _scan(sched, horizon):
        hit = np.flatnonzero(~np.isfinite(vals))
        if hit.size:
            return int(steps[hit[0]])
    return None


def _warmup_start(sched: Schedule, step: int) -> bool:
    return any(s == step and node.op == "warmup" for s, node in sched.program.segments())

"""Check stage, advisory: warnings ``lrdsl check`` prints about schedules that
compile but are probably not what was meant.  They never fail a check.

- a jump at a segment boundary by more than :data:`JUMP_FACTOR`;
- a segment that starts after the last of the total steps;
- a learning rate that reaches 0 (or below) before the end;
- a warmup whose first step is 0 (the first update does nothing);
- a schedule that ends before the total and holds its last value from there;
- a learning rate that is not finite (a growth factor overflowing, say).
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
    out: list[str] = []
    total = sched.total_steps
    segments = sched.program.segments()
    phases = sched.phases
    for (start, node), phase in zip(segments, phases):
        if start > 0:
            before, after = sched(start - 1), sched(start)
            lo, hi = sorted((abs(before), abs(after)))
            if hi > 0 and (lo == 0 or hi / lo > JUMP_FACTOR):
                out.append(
                    f"the lr jumps from {before:.3g} to {after:.3g} at step {start}, where '{phase.text}' begins"
                )
        last = phase is phases[-1]
        if total is not None and (start > total or (start == total and not (last and phase.end is None))):
            out.append(f"'{phase.text}' starts at step {start}, after the last of the {total} total steps")
        if node.op == "warmup" and phase.first == 0.0:
            out.append(
                f"'{phase.text}' starts at 0 at step {start}, so that step's update does nothing;"
                " give it start= or accept the HuggingFace/Keras convention"
            )
    horizon = total if total is not None else sched.program.root.length
    if horizon:
        bad = _first_nonfinite(sched, horizon)
        if bad is not None:
            out.append(f"the lr is not finite ({sched(bad)}) from step {bad} on")
        low = min((ph.lo for ph, (s, _n) in zip(phases, segments) if s < horizon), default=1.0)
        if not low > 0:
            step = _first_nonpositive(sched, horizon)
            if step is not None and not _warmup_start(sched, step):
                out.append(f"the lr reaches {sched(step):.3g} at step {step}, before the end of the schedule")
    length = sched.program.root.length
    if total is not None and length is not None and length < total:
        out.append(
            f"the schedule ends at step {length}, before the {total} total steps; it holds"
            f" {sched.program.root.end:.3g} from there"
        )
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

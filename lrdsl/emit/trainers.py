"""What the trainer integrations (Lightning, the HuggingFace Trainer, timm-style
loops) ask of a :class:`~lrdsl.torch.DSLScheduler`, through its public API only:
whether any param group's schedule has a ``plateau`` (so the trainer must feed
it a metric), where its schedules end, and the check that the trainer will
step it that many times.  Importing this module imports torch.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..reactive import locate


def schedules_of(sched: Any) -> list[Any]:
    """Every compiled schedule of a DSLScheduler: each group's lr and plan keys."""
    return [s for plan in sched.plans for _, s in plan.items()]


def has_plateau(sched: Any) -> bool:
    """Whether any param group's schedule (any key of a plan) has a ``plateau``."""
    return any(locate(s.program.root) for s in schedules_of(sched))


def horizon(sched: Any) -> int | None:
    """Where the scheduler's schedules end: the furthest end of a last phase
    (``total_steps`` resolves ``%`` and elastic lengths); None when every
    schedule ends in an unbounded phase (a ``const``, a ``plateau``)."""
    ends = {s.phases[-1].end for s in schedules_of(sched) if s.clock == "steps" and s.phases} - {None}
    return max(ends) if ends else None  # type: ignore[type-var]


def check_total(sched: Any, steps: float | int | None, what: str, stacklevel: int = 3) -> None:
    """Warn when the scheduler's schedules end elsewhere than ``steps``, the
    number of ``step()`` calls the trainer will make (``what`` says whose count):
    a decay that never finishes, or one held at its end for the rest of the run."""
    end = horizon(sched)
    if end is None or steps is None or steps != steps or steps in (float("inf"), -1):
        return
    if int(steps) != end:
        warnings.warn(
            f"the schedule runs {end} steps (to the end of its last phase), but {what} will step it"
            f" {int(steps)} times; build it with total_steps={int(steps)} and lengths that end there"
            " (% lengths do), or end it with an unbounded phase",
            UserWarning,
            stacklevel=stacklevel,
        )

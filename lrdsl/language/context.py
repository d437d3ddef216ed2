"""Compile stage, input: the context a compile runs in.

What a compile knows beyond the text: the base learning rate (``base``, the
default of most values), the total steps (``%`` lengths, the elastic
segment's fill) and the steps per epoch (``ep`` lengths).  The caller's
values are validated here (E0503): the base a finite number >= 0, the step
counts whole numbers from 1 to :data:`MAX_LENGTH`.
"""

from __future__ import annotations

import math

from ._record import Record
from .domain import STEP_LIMIT
from .errors import ContextError

#: The longest length a segment may have (float64 represents every step below it).
MAX_LENGTH = STEP_LIMIT


class Context(Record):
    """What a compile knows beyond the text: the base lr, the total steps, the steps per epoch."""

    __slots__ = ("base", "total", "spe")
    _defaults = {"base": 1.0, "total": None, "spe": None}

    base: float
    total: int | None
    spe: int | None


def make_context(base_lr: object, total_steps: object, steps_per_epoch: object) -> Context:
    """Validate the caller's context (E0503)."""
    base = 1.0 if base_lr is None else base_lr
    if isinstance(base, bool) or not isinstance(base, (int, float)) or not math.isfinite(base) or base < 0:
        raise ContextError(f"base_lr must be a finite number >= 0, got {base_lr!r}", code="E0503")
    for name, value in (("total_steps", total_steps), ("steps_per_epoch", steps_per_epoch)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LENGTH
        ):
            raise ContextError(f"{name} must be a whole number from 1 to 2**53, got {value!r}", code="E0503")
    return Context(float(base), total_steps, steps_per_epoch)  # type: ignore[arg-type]

"""Compile stage, input: the context a compile runs in.

What a compile knows beyond the text: the base learning rate (``base``, the
default of most values), the total (``%`` lengths, the elastic segment's
fill), the steps per epoch (``ep`` lengths), and the clock with the tokens and
samples per step (``tok`` and ``sp`` lengths).  Under the step clock (the
default) time is counted in optimizer steps; under the token or sample clock
it is the count consumed, which a trainer advances by the batch's size.  The caller's
values are validated here (E0503): the base a finite number >= 0, the step
counts whole numbers from 1 to :data:`MAX_LENGTH`.
"""

from __future__ import annotations

import math
from fractions import Fraction

from ._record import Record
from .domain import STEP_LIMIT
from .errors import ContextError

#: The longest length a segment may have (float64 represents every step below it).
MAX_LENGTH = STEP_LIMIT


#: What time is counted in: optimizer steps, or the tokens or samples consumed.
CLOCKS = ("steps", "tokens", "samples")


class Context(Record):
    """What a compile knows beyond the text: the base lr, the total (in the
    clock's units), the steps per epoch, the clock and the tokens and samples
    per step."""

    __slots__ = ("base", "total", "spe", "clock", "tps", "sps")
    _defaults = {"base": 1.0, "total": None, "spe": None, "clock": "steps", "tps": None, "sps": None}

    base: float
    total: int | None
    spe: int | None
    clock: str
    tps: int | None
    sps: int | None


def _count(name: str, value: object) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LENGTH):
        raise ContextError(f"{name} must be a whole number from 1 to 2**53, got {value!r}", code="E0503")
    return value  # type: ignore[return-value]


def make_context(
    base_lr: object,
    total_steps: object,
    steps_per_epoch: object,
    *,
    clock: object = "steps",
    tokens_per_step: object = None,
    samples_per_step: object = None,
    total_tokens: object = None,
    total_samples: object = None,
) -> Context:
    """Validate the caller's context (E0503).  The total is kept in the clock's
    units: ``total_tokens`` (or ``total_samples``) converts to steps with
    ``tokens_per_step`` (rounded half up) under the step clock, and
    ``total_steps`` to tokens under the token clock."""
    base = 1.0 if base_lr is None else base_lr
    if isinstance(base, bool) or not isinstance(base, (int, float)) or not math.isfinite(base) or base < 0:
        raise ContextError(f"base_lr must be a finite number >= 0, got {base_lr!r}", code="E0503")
    if clock not in CLOCKS:
        raise ContextError(f"clock must be one of {', '.join(CLOCKS)}, got {clock!r}", code="E0503")
    steps = _count("total_steps", total_steps)
    spe = _count("steps_per_epoch", steps_per_epoch)
    tps = _count("tokens_per_step", tokens_per_step)
    sps = _count("samples_per_step", samples_per_step)
    per_step = {"steps": 1, "tokens": tps, "samples": sps}
    given = [
        (what, n, per_step[what])
        for what, n in (
            ("steps", steps),
            ("tokens", _count("total_tokens", total_tokens)),
            ("samples", _count("total_samples", total_samples)),
        )
        if n is not None
    ]
    total = None
    for what, n, rate in given:  # each given total, in the clock's units
        unit = per_step[clock]  # type: ignore[index]
        if what == clock:  # already in the clock's units
            rate = unit = 1
        if rate is None or unit is None:
            need = "tokens_per_step" if "tokens" in (what, clock) else "samples_per_step"
            raise ContextError(f"total_{what} under the {clock[:-1]} clock needs {need}", code="E0503")
        x = Fraction(n) * unit / rate
        converted = math.floor(x + Fraction(1, 2))
        if converted < 1:
            raise ContextError(f"total_{what}={n} is less than one {clock[:-1]}", code="E0503")
        if total is not None and converted != total:
            raise ContextError(
                f"the totals disagree: total_{what}={n} is {converted} {clock}, another total gives {total}",
                code="E0503",
            )
        total = converted
    return Context(float(base), total, spe, clock, tps, sps)  # type: ignore[arg-type]


def context_of(program: object, base_lr: object) -> Context:
    """The context ``program`` was compiled in, with another base."""
    clock, tps, sps = program.clock  # type: ignore[attr-defined]
    total = program.total_steps  # type: ignore[attr-defined]
    return make_context(
        base_lr,
        total if clock == "steps" else None,
        program.steps_per_epoch,  # type: ignore[attr-defined]
        clock=clock,
        tokens_per_step=tps,
        samples_per_step=sps,
        total_tokens=total if clock == "tokens" else None,
        total_samples=total if clock == "samples" else None,
    )

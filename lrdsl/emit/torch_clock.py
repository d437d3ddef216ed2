"""Token and sample clocks of :class:`~lrdsl.torch.DSLScheduler`: the consumed count.

Under ``clock="tokens"`` (or ``"samples"``) the schedule's time is the count
consumed, not the steps taken, so a batch size that changes during the run
moves the schedule by what each batch really holds::

    sched = DSLScheduler(opt, "warmup(200Mtok) >> cosine(2Btok)", clock="tokens")
    for batch in loader:
        ...; optimizer.step()
        sched.step(tokens=batch["attention_mask"].sum())

``step(tokens=n)`` (``samples=n``) advances the count by ``n`` (a whole number
>= 0: an int, a numpy integer or a one-element integer tensor) and sets every
param group's values to the schedule at the exact count; ``step()`` with no
count advances by ``tokens_per_step`` when the scheduler was given it, and is
an error naming both otherwise.  ``last_epoch`` (and torch's ``_step_count``)
still count ``step()`` calls, as the ``LRScheduler`` contract says;
:attr:`DSLScheduler.consumed` is the count, kept in ``state_dict()`` (its
``'consumed'``) so a resume is exact.  A scheduler built with
``last_epoch=k`` under a token clock starts at ``(k + 1) * tokens_per_step``
(torch's initial step moves it to step ``k + 1``), which needs
``tokens_per_step``; resume from a state instead to keep the exact count.

Plateau under a token clock: a metric given with ``step(metric, tokens=n)``
was measured on the batch that took the count from ``c`` to ``c + n``; it
counts when the plateau covers the last unit consumed (``c + n - 1``, which
with one token per batch is the step clock's rule) and a cut applies from
the current count ``c + n``; :meth:`DSLScheduler.observe` applies a cut from
the current count too.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import torch

from ..language.domain import MAX_STEP, check_step, out_of_domain
from ..language.errors import LrdslError
from ..reactive import whole

#: The clocks a scheduler can count in (the compile's clocks).
CLOCKS = ("steps", "tokens", "samples")

#: The scheduler's argument that gives a clock's count per step.
PER_STEP = {"tokens": "tokens_per_step", "samples": "samples_per_step"}


def check_clock(clock: object) -> str:
    if not isinstance(clock, str) or clock not in CLOCKS:
        raise LrdslError(f"clock must be one of {', '.join(CLOCKS)}, got {clock!r}", code="E0503")
    return clock


def context(clock: str, **given: object) -> dict[str, Any]:
    """The compile context of a scheduler: ``total_steps`` and
    ``steps_per_epoch`` always (as before clocks, so a fingerprint of a
    step-clock scheduler is unchanged), the other arguments when given, the
    clock when it is not ``"steps"``, then the placeholders."""
    placeholders = given.pop("placeholders")
    ctx: dict[str, Any] = {"total_steps": given.pop("total_steps"), "steps_per_epoch": given.pop("steps_per_epoch")}
    ctx.update((k, v) for k, v in given.items() if v is not None)
    if clock != "steps":
        ctx["clock"] = clock
    ctx.update(placeholders)  # type: ignore[call-overload]
    return ctx


def check_clocks(scheds: list[Any], clock: str) -> None:
    """A compiled Schedule given to the scheduler keeps its own clock: it must be the scheduler's."""
    for s in scheds:
        if s.clock != clock:
            raise LrdslError(
                f"the schedule {s.canonical!r} was compiled under the {s.clock[:-1]} clock,"
                f" and this scheduler counts {clock}",
                code="E0503",
                hints=[f"pass clock={s.clock!r} to DSLScheduler, or compile the schedule with clock={clock!r}"],
            )


def setup(sched: Any, clock: str, per_step: dict[str, int | None], last_epoch: int) -> None:
    """The clock's attributes: ``_clock`` (None for steps: the fast path),
    ``_per_step`` (the default advance) and ``_consumed``."""
    sched._clock = None if clock == "steps" else clock
    sched._per_step = per_step.get(clock)
    sched._consumed = 0
    if clock != "steps" and last_epoch != -1:
        if sched._per_step is None:
            raise LrdslError(
                f"last_epoch={last_epoch} under the {clock[:-1]} clock needs {PER_STEP[clock]} to know the count",
                code="E0305",
                hints=["resume with load_state_dict(state), which keeps the exact count"],
            )
        sched._consumed = (last_epoch + 1) * sched._per_step
        if sched._consumed > MAX_STEP:
            raise out_of_domain(sched._consumed)


def count(value: object, what: str) -> int:
    """A count given to ``step(tokens=...)``: a whole number >= 0."""
    if type(value) is int and 0 <= value <= MAX_STEP:  # the common case, without the ABC checks
        return value
    if isinstance(value, torch.Tensor):
        if value.numel() != 1 or value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool:
            raise LrdslError(
                f"{what}= must be a whole number, got a tensor of {value.numel()} {value.dtype}", code="E0305"
            )
        value = int(value.item())
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise LrdslError(f"{what}= must be a whole number of {what} >= 0, got {value!r}", code="E0305")
    return whole(value, f"{what}=")


def step(sched: Any, metrics: object, epoch: object, tokens: object, samples: object) -> None:
    """Every ``step()`` that is not the step clock's plain step: torch's
    deprecated ``epoch=``, and the token and sample clocks."""
    clock = sched._clock
    if clock is None:
        if tokens is not None or samples is not None:
            name = "tokens" if tokens is not None else "samples"
            raise LrdslError(
                f"step({name}=...) needs a {name[:-1]} clock; this scheduler counts steps",
                code="E0305",
                hints=[f"build it with DSLScheduler(..., clock={name!r})"],
            )
        t = check_step(epoch)
        warnings.warn("passing epoch to step() is deprecated; lrdsl sets last_epoch to it", UserWarning, stacklevel=3)
        if t > sched._watch:
            sched._guard.watch(sched, t - 1, t, 4, metrics is not None)
        return advance(sched, t, t, metrics)
    if epoch is not None:
        raise LrdslError(f"step(epoch=...) has no meaning under the {clock[:-1]} clock", code="E0305",
                         hints=[f"advance the count with step({clock}=n)"])  # fmt: skip
    other, given = ("samples", samples) if clock == "tokens" else ("tokens", tokens)
    if given is not None:
        raise LrdslError(f"this scheduler counts {clock}: pass step({clock}=n), not {other}=", code="E0305")
    n = tokens if clock == "tokens" else samples
    if sched._step_count == 0:  # torch's initial step, in the constructor: nothing consumed
        n = 0
    elif n is None:
        if sched._per_step is None:
            raise LrdslError(
                f"step() under the {clock[:-1]} clock needs the count: pass step({clock}=n), or build the"
                f" scheduler with {PER_STEP[clock]}= to advance by it",
                code="E0305",
            )
        n = sched._per_step
    else:
        n = count(n, clock)
    prev = sched._consumed
    now = prev + n
    if now > MAX_STEP:
        raise out_of_domain(now)
    if sched._step_count:
        sched._guard.watch(sched, prev, now, 4, metrics is not None)
    sched._consumed = now
    advance(sched, sched.last_epoch + 1, now, metrics)


def advance(sched: Any, step: int, t: int, metrics: object) -> None:
    """What ``step()`` does once the new step and time are known (the fast
    path in :meth:`DSLScheduler.step` is this, inlined)."""
    if sched._step_count == 1:
        from .torch_guard import warn_order

        warn_order(sched.optimizer, stacklevel=5)
    sched._step_count += 1
    sched.last_epoch = step
    if metrics is not None:
        sched._report(metrics, t)
    sched._apply(t)

"""PyTorch emitter: a real ``torch.optim.lr_scheduler.LRScheduler`` from a schedule.

    from lrdsl.torch import DSLScheduler
    sched = DSLScheduler(optimizer, "warmup(500) >> cosine(95%, min=1e-6)", total_steps=10_000)
    for batch in loader:
        loss.backward(); optimizer.step(); sched.step()

PyTorch's conventions hold: after construction every group's lr is the value
at step 0, after ``k`` calls of ``step()`` the value at step ``k``; ``base`` is
each group's initial lr.  Every lr is computed from ``k`` (closed form, no
drift).  ``state_dict()`` holds plain values only, so ``torch.load(...,
weights_only=True)`` reads it, and ``load_state_dict`` resumes bit-identically.
``step(metric)`` feeds ``plateau(...)`` segments.  Importing this module
imports torch; ``import lrdsl`` does not.

A state's checks live in :mod:`lrdsl.emit.torch_state`; :func:`range_test`
(from :mod:`lrdsl.emit.torch_rangetest`) runs Smith's learning-rate range
test on a model and gives the model and optimizer back as they were.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
from torch.optim.lr_scheduler import LRScheduler

from .._version import __version__
from ..language.domain import MAX_STEP, check_step, out_of_domain
from ..language.errors import LrdslError
from ..reactive import Feedback
from ..schedule import Schedule
from ..schedule import compile as compile_schedule
from .torch_rangetest import range_test
from .torch_state import STATE_FORMAT, check_same_schedule, check_state, fingerprint
from .torch_state import plain_float as _float

__all__ = ["DSLScheduler", "range_test"]


class DSLScheduler(LRScheduler):
    """A learning-rate scheduler from an lrdsl schedule.

    ``schedule`` is a text or a compiled :class:`~lrdsl.Schedule` (its text is
    recompiled for each param group's base lr), or a sequence of them (a list,
    a tuple, an OmegaConf ``ListConfig``), one per param group.
    ``total_steps``, ``steps_per_epoch`` and placeholder values are passed to
    :func:`lrdsl.compile`.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        schedule: str | Schedule | Sequence[str | Schedule],
        *,
        total_steps: int | None = None,
        steps_per_epoch: int | None = None,
        last_epoch: int = -1,
        **placeholders: object,
    ) -> None:
        groups = optimizer.param_groups
        specs = _specs(schedule, len(groups))
        if isinstance(last_epoch, bool) or last_epoch != -1:
            last_epoch = check_step(last_epoch)
        for i, group in enumerate(groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", _float(group["lr"]))
            elif "initial_lr" not in group:
                raise LrdslError(
                    f"param group {i} has no 'initial_lr', which resuming with last_epoch={last_epoch} needs",
                    code="E0305",
                    hints=["load the optimizer's state_dict first, or leave last_epoch at -1"],
                )
        self._specs = specs
        self._context = {"total_steps": total_steps, "steps_per_epoch": steps_per_epoch, **placeholders}
        self._set(self._compiled([_float(group["initial_lr"]) for group in groups]))
        super().__init__(optimizer, last_epoch)

    def _compiled(self, bases: list[float]) -> list[Schedule]:
        """Each group's schedule for its base lr (nothing is changed)."""
        scheds = []
        for spec, base in zip(self._specs, bases):
            if isinstance(spec, Schedule):
                sched = spec.with_base(base)
            else:
                sched = compile_schedule(spec, base_lr=base, **self._context)  # type: ignore[arg-type]
            scheds.append(sched)
        return scheds

    def _set(self, scheds: list[Schedule], feedback: list[Feedback] | None = None) -> None:
        self._schedules = scheds
        self._feedback = feedback if feedback is not None else [Feedback(s) for s in scheds]
        self._calls = [s._call for s in scheds]

    # ------------------------------------------------------------ the LRScheduler contract

    def get_lr(self) -> list[float]:  # type: ignore[override]
        """The lrs at ``last_epoch``, computed from the step (closed form)."""
        t = self.last_epoch
        return [f(t) for f in self._calls]

    def _get_closed_form_lr(self) -> list[float]:
        return self.get_lr()

    def step(self, metrics: object = None, epoch: int | None = None) -> None:  # type: ignore[override]
        """Advance one step; ``metrics`` (the value measured during the step that
        just ran) feeds any ``plateau(...)`` segment."""
        if epoch is None:
            t = self.last_epoch + 1
            if t > MAX_STEP:
                raise out_of_domain(t)
        else:
            t = check_step(epoch)
            warnings.warn(
                "passing epoch to step() is deprecated; lrdsl sets last_epoch to it", UserWarning, stacklevel=2
            )
        if self._step_count == 1:
            _warn_order(self.optimizer)
        self._step_count += 1
        self.last_epoch = t
        if metrics is not None:
            self._report(metrics, t)
        self._apply(t)

    def _apply(self, t: int) -> None:
        """Set every group's lr to its value at step ``t`` (in place for a tensor lr)."""
        lrs = []
        for group, f in zip(self.optimizer.param_groups, self._calls):
            lr = f(t)
            current = group["lr"]
            if isinstance(current, torch.Tensor):
                current.fill_(lr)
            else:
                group["lr"] = lr
            lrs.append(lr)
        self._last_lr = lrs

    def observe(self, metrics: object) -> None:
        """Feed a metric without advancing the step (e.g. once per epoch when
        ``step()`` runs per batch); a cut applies from the current step."""
        self._report(metrics, self.last_epoch)
        self._apply(self.last_epoch)

    def _report(self, metrics: object, t: int) -> None:
        for i, fb in enumerate(self._feedback):
            if fb:
                self._schedules[i] = fb.report(metrics, t)
                self._calls[i] = self._schedules[i]._call

    @property
    def schedules(self) -> list[Schedule]:
        """The compiled schedule of each param group (with plateau cuts so far)."""
        return list(self._schedules)

    # ------------------------------------------------------------ checkpoints

    def fingerprint(self) -> str:
        """A hash of what defines the values: the canonical texts and the context."""
        return fingerprint(self._schedules, self._context)

    def state_dict(self) -> dict[str, Any]:
        """Plain values only (``torch.load(..., weights_only=True)`` reads them)."""
        return {
            "format": STATE_FORMAT,
            "lrdsl": __version__,
            "schedules": [s.canonical for s in self._schedules],
            "fingerprint": self.fingerprint(),
            "base_lrs": [_float(b) for b in self.base_lrs],
            "last_epoch": int(self.last_epoch),
            "step_count": int(self._step_count),
            "last_lr": [float(x) for x in self._last_lr],
            "plateaus": [fb.state() for fb in self._feedback],
        }

    def load_state_dict(self, state_dict: dict[str, Any], *, strict: bool = True) -> None:  # type: ignore[override]
        """Resume from :meth:`state_dict`.  A state saved from a different schedule
        (another text, total or placeholder) is an error unless ``strict=False``.

        Every value is checked (type, range, and the plateau cuts against the
        schedule) before anything changes, so a refused state (an
        :class:`~lrdsl.LrdslError` naming the key) leaves the scheduler and the
        optimizer as they were."""
        state = check_state(state_dict, len(self.optimizer.param_groups))
        try:
            scheds = self._compiled(state["base_lrs"])
        except LrdslError as err:
            raise LrdslError(f"the state's 'base_lrs' do not compile: {err.message}", code=err.code) from None
        if strict:
            check_same_schedule(state, scheds, self._context)
        feedback = [Feedback(s) for s in scheds]
        t = state["last_epoch"]
        for i, fb in enumerate(feedback):  # checks every plateau state before taking it
            scheds[i] = fb.load(state["plateaus"][i], t, where=f"plateaus[{i}]")
        # nothing below can fail: commit
        self.base_lrs = list(state["base_lrs"])  # type: ignore[assignment]
        self._set(scheds, feedback)
        self.last_epoch = t
        self._step_count = state["step_count"]
        self._apply(t)

    # ------------------------------------------------------------ copies and pickles

    def __getstate__(self) -> dict[str, Any]:
        """Plain values for the compiled parts (the kernel's copy of a program
        does not pickle); :meth:`__setstate__` recompiles them."""
        state = self.__dict__.copy()
        for key in ("_schedules", "_feedback", "_calls"):
            state.pop(key, None)
        state["_specs"] = [_Spec.of(s) if isinstance(s, Schedule) else s for s in self._specs]
        state["_plateaus"] = [fb.state() for fb in self._feedback]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        plateaus = state.pop("_plateaus")
        state["_specs"] = [s.compile() if isinstance(s, _Spec) else s for s in state["_specs"]]
        self.__dict__.update(state)
        scheds = self._compiled([_float(b) for b in self.base_lrs])
        feedback = [Feedback(s) for s in scheds]
        for i, fb in enumerate(feedback):
            scheds[i] = fb.load(plateaus[i], self.last_epoch, where=f"plateaus[{i}]")
        self._set(scheds, feedback)


class _Spec(NamedTuple):
    """A compiled schedule given as a spec, as what recompiles it."""

    source: str
    base_lr: float
    total_steps: int | None
    steps_per_epoch: int | None
    placeholders: dict[str, object]

    @classmethod
    def of(cls, s: Schedule) -> _Spec:
        return cls(s.source, s.base_lr, s.total_steps, s.steps_per_epoch, dict(s.placeholders))

    def compile(self) -> Schedule:
        return compile_schedule(
            self.source,
            base_lr=self.base_lr,
            total_steps=self.total_steps,
            steps_per_epoch=self.steps_per_epoch,
            **self.placeholders,
        )


def _specs(schedule: object, n: int) -> list[str | Schedule]:
    """One schedule (text or compiled) per param group."""
    if isinstance(schedule, (str, Schedule)):
        return [schedule] * n
    if not isinstance(schedule, Sequence) or isinstance(schedule, (bytes, bytearray)):
        raise LrdslError(
            "the schedule must be a text, a compiled Schedule or a sequence of them (one per param group), "
            f"got {type(schedule).__name__}",
            code="E0305",
        )
    specs = list(schedule)
    if len(specs) != n:
        raise LrdslError(f"got {len(specs)} schedules for {n} param groups", code="E0305")
    for i, spec in enumerate(specs):
        if not isinstance(spec, (str, Schedule)):
            raise LrdslError(
                f"schedule[{i}] must be a text or a compiled Schedule, got {type(spec).__name__}", code="E0305"
            )
    return specs


def _warn_order(optimizer: torch.optim.Optimizer) -> None:
    """torch's own warnings for a first step() before optimizer.step()."""
    if not hasattr(optimizer.step, "_wrapped_by_lr_sched"):
        warnings.warn(
            "Seems like `optimizer.step()` has been overridden after learning rate scheduler initialization. "
            "Please, make sure to call `optimizer.step()` before `lr_scheduler.step()`.",
            UserWarning,
            stacklevel=3,
        )
    elif not getattr(optimizer, "_opt_called", False):
        warnings.warn(
            "Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
            "In PyTorch 1.1.0 and later, you should call them in the opposite order: "
            "`optimizer.step()` before `lr_scheduler.step()`.",
            UserWarning,
            stacklevel=3,
        )

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

:func:`range_test` runs Smith's learning-rate range test on a model and gives
the model and optimizer back as they were.
"""

from __future__ import annotations

import copy
import hashlib
import json
import warnings
from typing import Any

import torch
from torch.optim.lr_scheduler import LRScheduler

from ._version import __version__
from .errors import LrdslError
from .rangetest import RangeTestResult, run
from .reactive import Feedback
from .schedule import Schedule
from .schedule import compile as compile_schedule

__all__ = ["DSLScheduler", "range_test"]

_STATE_FORMAT = 1


class DSLScheduler(LRScheduler):
    """A learning-rate scheduler from an lrdsl schedule.

    ``schedule`` is a text or a compiled :class:`~lrdsl.Schedule` (its text is
    recompiled for each param group's base lr), or a list of them, one per
    param group.  ``total_steps``, ``steps_per_epoch`` and placeholder values
    are passed to :func:`lrdsl.compile`.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        schedule: str | Schedule | list[str | Schedule],
        *,
        total_steps: int | None = None,
        steps_per_epoch: int | None = None,
        last_epoch: int = -1,
        **placeholders: object,
    ) -> None:
        groups = optimizer.param_groups
        specs = list(schedule) if isinstance(schedule, (list, tuple)) else [schedule] * len(groups)
        if len(specs) != len(groups):
            raise LrdslError(f"got {len(specs)} schedules for {len(groups)} param groups", code="E0305")
        if last_epoch == -1:
            for group in groups:
                group.setdefault("initial_lr", _float(group["lr"]))
        self._specs = specs
        self._context = {"total_steps": total_steps, "steps_per_epoch": steps_per_epoch, **placeholders}
        self._build([_float(group["initial_lr"]) for group in groups])
        super().__init__(optimizer, last_epoch)

    def _build(self, bases: list[float]) -> None:
        scheds = []
        for spec, base in zip(self._specs, bases):
            if isinstance(spec, Schedule):
                sched = spec.with_base(base)
            else:
                sched = compile_schedule(spec, base_lr=base, **self._context)  # type: ignore[arg-type]
            scheds.append(sched)
        self._schedules = scheds
        self._feedback = [Feedback(s) for s in scheds]
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
        if self._step_count == 1:
            _warn_order(self.optimizer)
        self._step_count += 1
        if epoch is None:
            t = self.last_epoch + 1
        else:
            warnings.warn(
                "passing epoch to step() is deprecated; lrdsl sets last_epoch to it", UserWarning, stacklevel=2
            )
            t = int(epoch)
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
        data = {
            "texts": [s.canonical for s in self._schedules],
            "total_steps": self._context.get("total_steps"),
            "steps_per_epoch": self._context.get("steps_per_epoch"),
            "placeholders": {k: v for k, v in self._context.items() if k not in ("total_steps", "steps_per_epoch")},
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=repr).encode()).hexdigest()

    def state_dict(self) -> dict[str, Any]:
        """Plain values only (``torch.load(..., weights_only=True)`` reads them)."""
        return {
            "format": _STATE_FORMAT,
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
        (another text, total or placeholder) is an error unless ``strict=False``."""
        if not isinstance(state_dict, dict) or state_dict.get("format") != _STATE_FORMAT:
            raise LrdslError("not a state saved by lrdsl's DSLScheduler.state_dict()", code="E0305")
        bases = [float(b) for b in state_dict["base_lrs"]]
        if len(bases) != len(self.optimizer.param_groups):
            raise LrdslError(
                f"the state has {len(bases)} param groups, the optimizer {len(self.optimizer.param_groups)}",
                code="E0305",
            )
        self.base_lrs = bases  # type: ignore[assignment]
        self._build(bases)
        if strict and state_dict["fingerprint"] != self.fingerprint():
            raise LrdslError(
                "the state was saved from a different schedule: "
                f"{state_dict['schedules']} vs {[s.canonical for s in self._schedules]}",
                code="E0305",
                hints=["pass strict=False to load_state_dict to resume this schedule at the saved step anyway"],
            )
        for i, (fb, states) in enumerate(zip(self._feedback, state_dict["plateaus"])):
            if fb:
                self._schedules[i] = fb.load(states)
                self._calls[i] = self._schedules[i]._call
        self.last_epoch = int(state_dict["last_epoch"])
        self._step_count = int(state_dict["step_count"])
        self._apply(self.last_epoch)


def _float(x: object) -> float:
    return float(x.item()) if isinstance(x, torch.Tensor) else float(x)  # type: ignore[arg-type]


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


def range_test(
    model: torch.nn.Module,
    loss_fn: Any,
    loader: Any,
    optimizer: torch.optim.Optimizer,
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 100,
    schedule: str = "exp",
    *,
    device: Any = None,
    beta: float = 0.98,
    diverge: float = 4.0,
) -> RangeTestResult:
    """The LR range test: one batch per step from ``loader`` (cycled if it runs
    out) with the lr of every param group raised from ``start`` to ``end`` along
    an lrdsl ramp, until the smoothed loss exceeds ``diverge`` times its best.

    Each batch is ``(inputs, targets)``; the loss is ``loss_fn(model(inputs),
    targets)`` (``model(*inputs)`` when ``inputs`` is a tuple or list), moved to
    ``device`` if given.  The model's and optimizer's state (weights, buffers,
    momenta, lrs, train/eval mode) are restored afterwards.  See
    :mod:`lrdsl.rangetest` for how the suggestions are made.
    """
    model_state = copy.deepcopy(model.state_dict())
    optimizer_state = copy.deepcopy(optimizer.state_dict())
    was_training = model.training
    batches = _cycle(loader)

    def train_step(lr: float) -> float:
        for group in optimizer.param_groups:
            group["lr"] = lr
        inputs, targets = _to(next(batches), device)
        optimizer.zero_grad()
        outputs = model(*inputs) if isinstance(inputs, (tuple, list)) else model(inputs)
        loss = loss_fn(outputs, targets)
        loss.backward()
        optimizer.step()
        return _float(loss.detach())

    model.train()
    try:
        return run(train_step, start, end, steps, schedule, beta=beta, diverge=diverge)
    finally:
        model.load_state_dict(model_state)
        optimizer.load_state_dict(optimizer_state)
        optimizer.zero_grad()
        model.train(was_training)


def _cycle(loader: Any) -> Any:
    """The loader's batches, over and over; an empty loader is an error."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise LrdslError("the range test's loader yielded no batches", code="E0401")


def _to(batch: Any, device: Any) -> tuple[Any, Any]:
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise LrdslError(f"the range test needs (inputs, targets) batches, got {type(batch).__name__}", code="E0305")
    if device is None:
        return batch[0], batch[1]

    def move(x: Any) -> Any:
        return x.to(device) if isinstance(x, torch.Tensor) else type(x)(map(move, x))

    return move(batch[0]), move(batch[1])

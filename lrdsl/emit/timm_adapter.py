"""timm-style loops: an lrdsl schedule behind timm's scheduler protocol.

    from lrdsl.timm import Scheduler
    lr_scheduler = Scheduler(optimizer, "warmup(5ep) >> cosine(95ep, min=1e-6)",
                             t_in_epochs=False, updates_per_epoch=updates_per_epoch, num_epochs=100)

timm's schedulers (``timm/scheduler/scheduler.py``) take the time from the
caller rather than counting it: ``step(epoch, metric=None)`` at the end of each
epoch with the next epoch's index, ``step_update(num_updates, metric=None)``
after each optimizer update with the updates done so far; ``t_in_epochs`` says
which of the two moves the value (the other call does nothing).  timm's
``train.py`` makes exactly these calls (resume: ``step_update(start_epoch *
updates_per_epoch)`` or ``step(start_epoch)``; per update:
``step_update(num_updates=num_updates, metric=losses_m.avg)``; per epoch:
``step(epoch + 1, metric)`` with the evaluation metric, or ``metric=None`` when
the epoch is not evaluated).  :class:`Scheduler` runs an lrdsl text (or a plan,
or a list per param group) through a :class:`~lrdsl.torch.DSLScheduler` with
that protocol:

- the lr after construction is the value at 0; ``step(e)`` (``t_in_epochs=True``)
  or ``step_update(u)`` (``t_in_epochs=False``) sets the value at ``e`` or ``u``
  (the next step in one ``DSLScheduler.step``, any other time directly, as
  timm's stateless schedulers allow);
- ``plateau`` is fed the metric of ``step(epoch, metric)`` (the evaluation
  metric; ``None`` gives no report), as timm's own ``PlateauLRScheduler``: per
  epoch with ``t_in_epochs=True``, and with ``t_in_epochs=False`` by
  ``observe(metric)`` at the current update.  ``step_update``'s metric (timm
  passes the running training-loss average) is not fed;
- ``updates_per_epoch`` is ``steps_per_epoch`` for ``ep`` lengths when stepping
  per update (1 when ``t_in_epochs``: then a step is an epoch), ``num_epochs``
  sets ``total_steps`` (for ``%`` lengths); a group's ``lr_scale`` multiplies its lr
  as in timm's ``update_groups``;
- ``state_dict()``/``load_state_dict()`` are the DSLScheduler's (plain values,
  plateau state included).

timm's noise options (``noise_range_t``...) have no lrdsl counterpart and are
refused.  Importing this module imports torch.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..language.errors import LrdslError
from ._feed import feed
from .torch import DSLScheduler

__all__ = ["Scheduler"]

_NOISE = ("noise_range_t", "noise_type", "noise_pct", "noise_std", "noise_seed", "cycle_limit", "k_decay")


class Scheduler:
    """timm's scheduler protocol over an lrdsl schedule (see the module docstring)."""

    def __init__(
        self,
        optimizer: Any,
        schedule: Any,
        *,
        t_in_epochs: bool = True,
        updates_per_epoch: int | None = None,
        num_epochs: int | None = None,
        total_steps: int | None = None,
        **placeholders: Any,
    ) -> None:
        refused = [k for k in placeholders if k in _NOISE]
        if refused:
            raise LrdslError(f"{refused[0]} is timm's, not lrdsl's: lrdsl schedules are deterministic", code="E0801")
        if updates_per_epoch is not None and (isinstance(updates_per_epoch, bool) or updates_per_epoch < 1):
            raise LrdslError(f"updates_per_epoch must be a whole number >= 1, got {updates_per_epoch!r}", code="E0305")
        if not t_in_epochs and updates_per_epoch is None and num_epochs is not None:
            raise LrdslError("t_in_epochs=False with num_epochs needs updates_per_epoch", code="E0305")
        per_epoch = 1 if t_in_epochs else updates_per_epoch
        if total_steps is None and num_epochs is not None:
            total_steps = num_epochs * (per_epoch or 1)
        self.optimizer = optimizer
        self.param_group_field = "lr"
        self.t_in_epochs = bool(t_in_epochs)
        self.updates_per_epoch = updates_per_epoch
        self.metric: Any = None
        self.scheduler = DSLScheduler(
            optimizer, schedule, total_steps=total_steps, steps_per_epoch=per_epoch, **placeholders
        )
        self.base_values = list(self.scheduler.base_lrs)
        self._scale()

    # ------------------------------------------------------------ timm's protocol

    def step(self, epoch: int, metric: Any = None) -> None:
        """End of an epoch: ``epoch`` is the next epoch's index; ``metric`` (the
        evaluation metric, or None) feeds plateau."""
        self.metric = metric
        if self.t_in_epochs:
            self._goto(epoch, metric)
        elif feed([self.scheduler], metric):
            self._scale()

    def step_update(self, num_updates: int, metric: Any = None) -> None:
        """After an optimizer update: ``num_updates`` done so far (its metric,
        a running training loss in timm, is not fed to plateau)."""
        self.metric = metric
        if not self.t_in_epochs:
            self._goto(num_updates, None)

    def _goto(self, t: int, metric: Any) -> None:
        sched = self.scheduler
        if t == sched.last_epoch + 1:
            sched.step(metric)
        elif t == sched.last_epoch:
            feed([sched], metric)
        else:  # a jump (a resume, an evaluation-only epoch count): set the step directly
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="passing epoch to step", category=UserWarning)
                warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step", category=UserWarning)
                sched.step(metric, epoch=t)
        self._scale()

    def _scale(self) -> None:
        """timm's ``update_groups``: a group's ``lr_scale`` multiplies its scheduled lr."""
        plans = self.scheduler.plans
        for group, plan, lr in zip(self.optimizer.param_groups, plans, self.scheduler.get_last_lr()):
            if "lr_scale" in group and "lr" in plan:
                value = lr * group["lr_scale"]
                if hasattr(group["lr"], "fill_"):
                    group["lr"].fill_(value)  # a tensor lr stays the same tensor
                else:
                    group["lr"] = value

    # ------------------------------------------------------------ the rest

    def get_last_lr(self) -> list[float]:
        """The scheduled lrs (before ``lr_scale``)."""
        return [float(x) for x in self.scheduler.get_last_lr()]

    @property
    def schedules(self) -> list[Any]:
        return self.scheduler.schedules

    def state_dict(self) -> dict[str, Any]:
        return {"t_in_epochs": self.t_in_epochs, "scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not isinstance(state_dict, dict) or set(state_dict) != {"t_in_epochs", "scheduler"}:
            raise LrdslError("not a state saved by lrdsl.timm.Scheduler.state_dict()", code="E0305")
        if state_dict["t_in_epochs"] != self.t_in_epochs:
            raise LrdslError(
                f"the state was saved with t_in_epochs={state_dict['t_in_epochs']}, this scheduler has"
                f" t_in_epochs={self.t_in_epochs}",
                code="E0305",
            )
        self.scheduler.load_state_dict(state_dict["scheduler"])
        self._scale()

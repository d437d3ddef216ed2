"""Lightning: the ``configure_optimizers`` scheduler dict for a DSLScheduler,
and the callback that feeds ``plateau`` once per validation.

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=3e-4)
        sched = DSLScheduler(opt, "warmup(500) >> cosine(95%, min=1e-6)",
                             total_steps=self.trainer.estimated_stepping_batches)
        return {"optimizer": opt, "lr_scheduler": lrdsl.lightning.scheduler_config(sched)}

What Lightning does with the dict (``lightning/pytorch/loops/training_epoch_loop.py``,
``_update_learning_rates``): a config is stepped after each optimizer step when
``interval`` is ``"step"`` (Lightning's default is ``"epoch"``, which would stretch
a 500-step warmup over 500 epochs), every ``frequency`` intervals; when
``reduce_on_plateau`` is true it calls ``step(trainer.callback_metrics[monitor])``
instead of ``step()``, and otherwise never passes a metric, so a plateau would
hold its start value for ever.  :func:`scheduler_config` sets these keys from the
schedule:

- ``interval="step"`` (the default: lrdsl lengths count ``step()`` calls) and no
  plateau: ``step()`` after every optimizer step;
- ``interval="epoch"`` with a plateau: ``reduce_on_plateau=True`` and ``monitor``,
  so Lightning calls ``step(metric)`` at each epoch's end, after that epoch's
  validation (the metric must be logged every epoch);
- ``interval="step"`` with a plateau: Lightning's ``reduce_on_plateau`` path cannot
  serve it (before the first validation the monitored metric does not exist --
  an error, or with ``strict=False`` a skipped step, which shifts the schedule --
  and after it the same validation value would be fed at every step, each
  counted as a fresh report).  So the dict steps the scheduler without a metric
  and :class:`PlateauFeed` gives it the metric once per validation
  (``sched.observe(metric)``, a cut from the current step).  Pass
  ``trainer=self.trainer`` and :func:`scheduler_config` adds the callback when the
  Trainer has none; without a trainer it is an error (E0607), never a silent
  plateau.

With ``trainer=`` the total the schedule was built for is checked against
``trainer.estimated_stepping_batches`` (optimizer steps, after gradient
accumulation) or ``max_epochs``, with a warning when they differ.  Checkpoints
need nothing: Lightning saves ``sched.state_dict()`` (plain values) in the
checkpoint and resuming with ``ckpt_path`` restores it bit-identically.
Importing this module imports lightning.
"""

from __future__ import annotations

import warnings
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.trainer.states import TrainerFn

from ..language.errors import LrdslError
from ._feed import feed, monitored
from .torch import DSLScheduler
from .torch_guard import expect_metrics
from .trainers import check_total, has_plateau

__all__ = ["PlateauFeed", "scheduler_config"]


class PlateauFeed(pl.Callback):
    """Feeds ``trainer.callback_metrics[monitor]`` to the plateau of every
    DSLScheduler the Trainer steps per step, once at the end of each validation
    during ``fit`` (``sched.observe(metric)``: the scheduler's step does not move;
    a cut applies from the current step).  Sanity-check validation is skipped.
    A monitored metric missing after a validation is an error with
    ``strict=True`` (as Lightning's own), else a warning.  When the Trainer
    validates, it tells those schedulers at the start of training that the
    metric comes once per validation (no :class:`~lrdsl.FeedbackWarning` for
    the steps before the first)."""

    def __init__(self, monitor: str = "val_loss", *, strict: bool = True) -> None:
        self.monitor = monitor
        self.strict = strict

    def _fed(self, trainer: pl.Trainer) -> list[DSLScheduler]:
        """The schedulers this callback feeds: per step, with a plateau."""
        return [
            c.scheduler
            for c in trainer.lr_scheduler_configs
            if isinstance(c.scheduler, DSLScheduler) and not c.reduce_on_plateau and has_plateau(c.scheduler)
        ]

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.enable_validation:
            for sched in self._fed(trainer):
                expect_metrics(sched)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or trainer.state.fn != TrainerFn.FITTING:
            return
        fed = self._fed(trainer)
        if fed:
            metric = monitored(
                trainer.callback_metrics,
                self.monitor,
                "PlateauFeed monitors {key!r}, which this validation did not log; logged: {names}"
                + ("" if self.strict else "; the plateau got no report"),
                strict=self.strict,
                hints=[f"self.log({self.monitor!r}, ...) in validation_step"],
                category=RuntimeWarning,
            )
            feed(fed, metric)


def scheduler_config(
    sched: DSLScheduler,
    monitor: str | None = None,
    *,
    interval: str = "step",
    frequency: int = 1,
    name: str | None = None,
    strict: bool = True,
    trainer: pl.Trainer | None = None,
) -> dict[str, Any]:
    """The ``"lr_scheduler"`` entry of ``configure_optimizers``' dict for ``sched``
    (see the module docstring for what each case sets).  ``monitor`` names the
    logged metric a ``plateau`` reads (required when any param group's schedule
    has one); ``trainer`` (``self.trainer``) lets it attach :class:`PlateauFeed`
    and check the step count."""
    if not isinstance(sched, DSLScheduler):
        raise LrdslError(f"scheduler_config takes a DSLScheduler, got {type(sched).__name__}", code="E0305")
    if interval not in ("step", "epoch"):
        raise LrdslError(f"interval must be 'step' or 'epoch', got {interval!r}", code="E0305")
    if isinstance(frequency, bool) or not isinstance(frequency, int) or frequency < 1:
        raise LrdslError(f"frequency must be a whole number >= 1, got {frequency!r}", code="E0305")
    plateau = has_plateau(sched)
    config: dict[str, Any] = {"scheduler": sched, "interval": interval, "frequency": frequency}
    if name is not None:
        config["name"] = name
    if plateau and monitor is None:
        raise LrdslError(
            "the schedule has a plateau(...), which needs a metric: pass monitor= (the name you self.log)",
            code="E0607",
            hints=["scheduler_config(sched, monitor='val_loss', trainer=self.trainer)"],
        )
    if plateau and interval == "epoch":
        config.update(reduce_on_plateau=True, monitor=monitor, strict=strict)
    elif plateau:
        config["reduce_on_plateau"] = False
        _attach_feed(trainer, monitor, strict)  # type: ignore[arg-type]
    if trainer is not None:
        _check_counts(sched, trainer, interval, frequency)
    return config


def _attach_feed(trainer: pl.Trainer | None, monitor: str, strict: bool) -> None:
    if trainer is None:
        raise LrdslError(
            "a plateau(...) stepped per step needs its metric once per validation, which Lightning's"
            " reduce_on_plateau cannot give (it would pass the last validation value at every step)",
            code="E0607",
            hints=[
                "pass trainer=self.trainer: scheduler_config then adds lrdsl.lightning.PlateauFeed(monitor)",
                "or interval='epoch' for a schedule counted in epochs",
            ],
        )
    callbacks: list[Any] = trainer.callbacks  # type: ignore[attr-defined]  # set by Trainer.__init__
    feeds = [cb for cb in callbacks if isinstance(cb, PlateauFeed)]
    if any(cb.monitor != monitor for cb in feeds):
        raise LrdslError(
            f"the Trainer's PlateauFeed monitors {feeds[0].monitor!r}, the scheduler config {monitor!r}",
            code="E0607",
        )
    if not feeds:
        callbacks.append(PlateauFeed(monitor, strict=strict))


def _check_counts(sched: DSLScheduler, trainer: pl.Trainer, interval: str, frequency: int) -> None:
    if interval == "step":
        steps = trainer.estimated_stepping_batches
        check_total(sched, None if steps == float("inf") else int(steps) // frequency, "the Trainer", stacklevel=4)
        return
    epochs = trainer.max_epochs
    if epochs is not None and epochs > 0:
        check_total(sched, epochs // frequency, "the Trainer (interval='epoch', max_epochs)", stacklevel=4)
    if has_plateau(sched) and trainer.check_val_every_n_epoch not in (None, 1):
        warnings.warn(
            f"the plateau reads the metric at every epoch's end, but the Trainer validates every"
            f" {trainer.check_val_every_n_epoch} epochs: between validations it sees the last value again",
            UserWarning,
            stacklevel=3,
        )

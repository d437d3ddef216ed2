"""The HuggingFace Trainer: an lrdsl schedule built on the Trainer's own
optimizer and step count, and the callback that feeds ``plateau`` the
evaluation metric.

    from lrdsl.hf import DSLTrainer
    trainer = DSLTrainer(model=model, args=args, train_dataset=ds, eval_dataset=ev,
                         lr_schedule="warmup(5%) >> cosine(95%, min=1e-6)")
    trainer.train()

What the Trainer does (``transformers/trainer.py``): ``create_scheduler(num_training_steps)``
runs after the optimizer exists, with ``num_training_steps`` the run's optimizer
steps (``max_steps``, or epochs times update steps per epoch, after gradient
accumulation); the training loop calls ``lr_scheduler.step()`` once per
optimizer step (never per micro-batch, and not when the optimizer step was
skipped), and calls ``step(metric)`` only for torch's own ``ReduceLROnPlateau``.
Checkpoints save ``lr_scheduler.state_dict()`` as ``scheduler.pt`` and
``resume_from_checkpoint`` loads it with ``torch.load(..., weights_only=True)``,
which DSLScheduler's plain-value state passes.

- :class:`DSLTrainerMixin` overrides ``create_scheduler``: the schedule (a text,
  a plan, a list per param group) is compiled with ``total_steps=num_training_steps``
  and, when the train dataloader has a length, ``steps_per_epoch`` = the
  Trainer's update steps per epoch (so ``%`` and ``ep`` lengths mean the
  Trainer's run), on the Trainer's optimizer (``base`` is each param group's
  lr: ``args.learning_rate``).  ``TrainingArguments``' own ``lr_scheduler_type``,
  ``lr_scheduler_kwargs`` and warmup are then unused, with a warning if set.
  :class:`DSLTrainer` is the mixin on ``transformers.Trainer``.
- :class:`PlateauCallback` feeds ``metrics["eval_" + metric_for_best_model]``
  (``eval_loss`` by default, Trainer's own rule) to the DSLScheduler after each
  evaluation during training, with ``sched.observe(metric)``: the scheduler's
  step does not move, a cut applies from the current step.  DSLTrainer adds it;
  with a plain Trainer and ``optimizers=(opt, DSLScheduler(...))``, pass
  ``callbacks=[PlateauCallback()]``.

Importing this module imports transformers.
"""

from __future__ import annotations

import warnings
from typing import Any

import transformers
from transformers import TrainerCallback

from ..language.errors import LrdslError
from ..reactive import locate
from ._feed import feed, monitored
from .torch import DSLScheduler
from .torch_guard import expect_metrics
from .trainers import check_total, has_plateau, schedules_of

__all__ = ["DSLTrainer", "DSLTrainerMixin", "PlateauCallback", "make_scheduler"]


def make_scheduler(optimizer: Any, schedule: Any, num_training_steps: int, **kwargs: Any) -> DSLScheduler:
    """A DSLScheduler for ``optimizer`` built for ``num_training_steps`` optimizer
    steps (an explicit ``total_steps=`` wins, with a warning when it differs)."""
    kwargs.setdefault("total_steps", num_training_steps)
    sched = DSLScheduler(optimizer, schedule, **kwargs)
    check_total(sched, num_training_steps, "the Trainer (num_training_steps)", stacklevel=4)
    return sched


class DSLTrainerMixin:
    """Put before ``transformers.Trainer`` (or a subclass of it) in the bases; set
    ``lr_schedule`` (and ``lr_schedule_kwargs``: ``steps_per_epoch``, placeholders)
    before ``Trainer.__init__`` runs, or use :class:`DSLTrainer`."""

    lr_schedule: Any = None
    lr_schedule_kwargs: dict[str, Any] | None = None
    _lrdsl_steps_per_epoch: int | None = None

    def set_initial_training_values(self, args: Any, dataloader: Any) -> Any:
        values = super().set_initial_training_values(args, dataloader)  # type: ignore[misc]
        sized = transformers.trainer_utils.has_length(dataloader)
        self._lrdsl_steps_per_epoch = int(values[1]) if sized else None  # update steps per epoch
        return values

    def create_scheduler(self, num_training_steps: int, optimizer: Any = None) -> Any:
        if self.lr_scheduler is None and self.lr_schedule is not None:  # type: ignore[attr-defined,has-type]
            _warn_unused(self.args, num_training_steps)  # type: ignore[attr-defined]
            kwargs = dict(self.lr_schedule_kwargs or {})
            if self._lrdsl_steps_per_epoch is not None:
                kwargs.setdefault("steps_per_epoch", self._lrdsl_steps_per_epoch)
            opt = self.optimizer if optimizer is None else optimizer  # type: ignore[attr-defined]
            self.lr_scheduler = make_scheduler(opt, self.lr_schedule, num_training_steps, **kwargs)
            self._created_lr_scheduler = True  # the Trainer rebuilds it on a second train()
        return super().create_scheduler(num_training_steps, optimizer)  # type: ignore[misc]


class PlateauCallback(TrainerCallback):  # type: ignore[misc]
    """Feeds the evaluation metric to a DSLScheduler's plateau after each
    evaluation during training.  ``metric`` defaults to the Trainer's
    ``metric_for_best_model`` (``"loss"``), prefixed ``eval_`` as the Trainer
    does; a metric missing from the evaluation is an error, as it is for the
    Trainer's own ReduceLROnPlateau.  When the Trainer evaluates
    (``eval_strategy`` is not ``"no"``), it tells the scheduler at the start
    of training that the metric comes once per evaluation (no
    :class:`~lrdsl.FeedbackWarning` for the steps before the first)."""

    def __init__(self, metric: str | None = None) -> None:
        self.metric = metric
        self.training = False

    def on_train_begin(self, args: Any, state: Any, control: Any, lr_scheduler: Any = None, **kwargs: Any) -> None:
        self.training = True
        if not isinstance(lr_scheduler, DSLScheduler) or not has_plateau(lr_scheduler):
            return
        strategy = getattr(args, "eval_strategy", "no")
        if str(getattr(strategy, "value", strategy)) != "no":  # the metric comes once per evaluation
            expect_metrics(lr_scheduler)
        if args.greater_is_better is not None:
            want = "max" if args.greater_is_better else "min"
            modes = {n.params["mode"] for s in schedules_of(lr_scheduler) for _, n, _ in locate(s.program.root)}
            if modes - {want}:
                warnings.warn(
                    f"the plateau's mode is {sorted(modes - {want})[0]}, but greater_is_better={args.greater_is_better}"
                    f" for {self._key(args)!r}; write plateau(mode={want}, ...)",
                    UserWarning,
                    stacklevel=2,
                )

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.training = False

    def _key(self, args: Any) -> str:
        key = self.metric or args.metric_for_best_model or "loss"
        return key if key.startswith("eval_") else f"eval_{key}"

    def on_evaluate(
        self, args: Any, state: Any, control: Any, metrics: Any = None, lr_scheduler: Any = None, **kwargs: Any
    ) -> None:
        if not self.training or not isinstance(lr_scheduler, DSLScheduler) or not has_plateau(lr_scheduler):
            return
        key = self._key(args)
        metric = monitored(
            metrics,
            key,
            "the plateau reads {key!r}, which the evaluation did not return; it returned: {names}",
            strict=True,
            hints=["set metric_for_best_model (or PlateauCallback(metric=...)) to one of those"],
        )
        feed([lr_scheduler], metric)


class DSLTrainer(DSLTrainerMixin, transformers.Trainer):  # type: ignore[misc]
    """``transformers.Trainer`` with its lr scheduler built from ``lr_schedule`` (a
    text, a plan, or a list per param group; ``lr_schedule_kwargs`` go to
    :class:`~lrdsl.torch.DSLScheduler`) and a :class:`PlateauCallback`."""

    def __init__(self, *args: Any, lr_schedule: Any, lr_schedule_kwargs: dict[str, Any] | None = None, **kw: Any):
        if lr_schedule is None:
            raise LrdslError("DSLTrainer needs lr_schedule= (a schedule text or a plan)", code="E0305")
        self.lr_schedule = lr_schedule
        self.lr_schedule_kwargs = lr_schedule_kwargs
        super().__init__(*args, **kw)
        if not any(isinstance(cb, PlateauCallback) for cb in self.callback_handler.callbacks):
            self.add_callback(PlateauCallback())


def _warn_unused(args: Any, num_training_steps: int) -> None:
    """TrainingArguments' own schedule settings, which the lrdsl schedule replaces."""
    unused = []
    if str(getattr(args.lr_scheduler_type, "value", args.lr_scheduler_type)) != "linear":
        unused.append(f"lr_scheduler_type={args.lr_scheduler_type!s}")
    if args.lr_scheduler_kwargs:
        unused.append(f"lr_scheduler_kwargs={args.lr_scheduler_kwargs!r}")
    if args.get_warmup_steps(num_training_steps) > 0:
        unused.append(f"warmup ({args.get_warmup_steps(num_training_steps)} steps)")
    if unused:
        warnings.warn(
            f"the lrdsl schedule replaces the Trainer's: {', '.join(unused)} not applied;"
            " write the warmup in the schedule text (warmup(5%) >> ...)",
            UserWarning,
            stacklevel=3,
        )

"""Keras 3: a callback that schedules any optimizer hyperparameter from a plan.

    cb = lrdsl.keras.callback({
        "learning_rate": "one_cycle(120, max=0.1)",
        "momentum": "one_cycle(120, start=0.95, peak=0.85, end=0.95)",
        "weight_decay": "linear(120, start=base, end=10 * base)",
    }, per="batch")
    model.fit(x, y, epochs=3, callbacks=[cb])

Keys are Keras's attribute names or any spelling :func:`lrdsl.plan.canonical_key`
knows (``lr``, ``betas[0]``/``b1`` for ``beta_1``, ``ema_decay``, ``wd``); a key
the optimizer has no number for is an E0207 error listing its numeric
hyperparameters.  In each text ``base`` is the optimizer's configured value of
that hyperparameter (an unset ``weight_decay`` is 0; the learning rate: its
value when training first begins).

The values take effect under ``tf.function``, ``jit_compile=True`` and on every
backend: each scheduled attribute becomes a variable the compiled train step
reads (see :mod:`lrdsl.emit.keras_hyper`), or the callback refuses (E0801)
naming the attribute.  Per epoch (step = epoch index) or per batch (step =
batches seen by this callback, across ``fit`` calls), as
:class:`lrdsl.keras.DSLCallback` counts; ``plateau(...)`` in any text is fed
the ``monitor`` metric at each epoch's end; the values go into the epoch's logs
under the attribute names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras

from ..language.errors import LrdslError, UnsupportedError
from ..plan import Plan, canonical_key, compile_plan
from ..reactive import Feedback
from ._feed import monitored
from .keras_hyper import HyperVariable, attribute_of, bind, configured_value

__all__ = ["DSLPlanCallback"]


def _inner(optimizer: Any) -> Any:
    """The optimizer holding the hyperparameters (a LossScaleOptimizer's inner one)."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def plateau_report(callback: Any, epoch: int, logs: Mapping[str, Any]) -> tuple[int, Any] | None:
    """A Keras callback's report to its plateaus at the end of ``epoch``: the
    step the report applies from (the next epoch, or with ``per="batch"`` the
    batches seen) and the ``monitor`` metric; None, with a warning, when the
    epoch's logs lack it (:class:`DSLPlanCallback` and
    :class:`lrdsl.keras.DSLCallback`)."""
    current = monitored(
        logs, callback.monitor, "lrdsl: plateau(...) monitors `{key}`, which is not in the logs: {listed}", stacklevel=3
    )
    if current is None:
        return None
    return (epoch + 1 if callback.per == "epoch" else callback._batches), current


class DSLPlanCallback(keras.callbacks.Callback):
    """Sets every hyperparameter a plan names at the start of each epoch
    (``per="epoch"``) or batch (``per="batch"``).  ``plan`` is a mapping from
    hyperparameter name to schedule text, or a compiled :class:`~lrdsl.Plan`
    (whose ``base`` values are kept).  ``bases`` overrides the optimizer's
    values as ``base`` (``base_lr`` is ``bases["lr"]``)."""

    def __init__(
        self,
        plan: Mapping[str, Any] | Plan,
        *,
        bases: Mapping[str, float] | None = None,
        base_lr: float | None = None,
        per: str = "epoch",
        monitor: str = "val_loss",
        verbose: int = 0,
        total_steps: int | None = None,
        steps_per_epoch: int | None = None,
        **placeholders: Any,
    ) -> None:
        super().__init__()
        if per not in ("epoch", "batch"):
            raise LrdslError(f"per must be 'epoch' or 'batch', got {per!r}", code="E0306")
        self.per = per
        self.monitor = monitor
        self.verbose = verbose
        self._context = {"total_steps": total_steps, "steps_per_epoch": steps_per_epoch, **placeholders}
        self._bases = dict(bases or {})
        if base_lr is not None:
            self._bases.setdefault("lr", base_lr)
        self.plan: Plan | None = None
        if isinstance(plan, Plan):
            if self._bases or any(v is not None for v in self._context.values()):
                raise LrdslError(
                    "a compiled Plan carries its own bases and context; give the mapping of texts to set them here",
                    code="E0305",
                )
            self.sources = plan.sources
            self.plan = plan
        else:
            # the texts, keys and placeholders are checked now; the domains once the bases are known
            self.sources = dict(compile_plan(plan, bases=self._bases, check_domains=False, **self._context).sources)
        self.attributes = {key: attribute_of(key) for key in self.sources}
        twice = [a for a in set(self.attributes.values()) if list(self.attributes.values()).count(a) > 1]
        if twice:
            keys = [k for k, a in self.attributes.items() if a == twice[0]]
            raise LrdslError(f"the plan names the optimizer's {twice[0]} twice: {', '.join(keys)}", code="E0303")
        self.feedback: dict[str, Feedback] = {}
        self.variables: dict[str, HyperVariable | None] = {}
        self._checked: list[HyperVariable] = []
        self.step = 0  # the step the current values belong to
        self._batches = 0
        if self.plan is not None:
            self._watch(self.plan)

    def _watch(self, plan: Plan) -> None:
        self.plan = plan
        self.feedback = {k: f for k, s in plan.items() if (f := Feedback(s, rule="keras"))}

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        model = self.model
        if self.per == "batch" and int(getattr(model, "steps_per_execution", 1) or 1) > 1:
            raise UnsupportedError(
                f"per='batch' sets the values once per call of the train function, which runs"
                f" steps_per_execution={model.steps_per_execution} batches",
                code="E0801",
                hints=["compile the model with steps_per_execution=1, or use per='epoch'"],
            )
        optimizer = _inner(model.optimizer)
        if self.plan is None:
            given = {canonical_key(k): v for k, v in self._bases.items()}
            bases = {
                k: given[c] if (c := canonical_key(k)) in given else configured_value(optimizer, k)
                for k in self.sources
            }
            self._watch(compile_plan(self.sources, bases=bases, **self._context))
        # bound again at each fit: a variable already in place is kept, one replaced since is put back
        self.variables = {key: bind(optimizer, key, model) for key in self.sources}
        self._checked = [v for v in self.variables.values() if v is not None]

    def _set(self, t: int) -> dict[str, float]:
        assert self.plan is not None
        self.step = t
        values = {key: schedule(t) for key, schedule in self.plan.items()}
        # a hyperparameter keeps its variable's value when it does not change (on JAX, no state sync);
        # the learning rate is always set, as DSLCallback does
        todo = [k for k, v in values.items() if (var := self.variables[k]) is None or var.now != v or var.step is None]
        if todo:
            optimizer = _inner(self.model.optimizer)  # self.model: on JAX, the state goes back to the variables
            for key in todo:
                variable = self.variables[key]
                if variable is None:
                    optimizer.learning_rate = values[key]
                elif vars(optimizer).get(variable.attribute) is variable:
                    variable.set(values[key], t)
                else:
                    raise UnsupportedError(
                        f"optimizer.{variable.attribute} was replaced while training, so lrdsl's schedule for it"
                        " no longer reaches the optimizer",
                        code="E0801",
                        hints=[f"leave {variable.attribute} to the plan, or take it out of the plan"],
                    )
        for variable in self._checked:
            variable.step = t
        return {self.attributes[k]: v for k, v in values.items()}

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.per == "epoch":
            values = self._set(epoch)
            if self.verbose > 0:
                told = ", ".join(f"{a} to {v}" for a, v in values.items())
                print(f"\nEpoch {epoch + 1}: lrdsl setting {told}.")

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.per == "batch":
            self._set(self._batches)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._batches += 1
        for variable in self._checked:
            if variable.unchecked:  # the step just traced, or ran with a new value
                variable.verify()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        assert self.plan is not None
        if self.feedback and (report := plateau_report(self, epoch, logs)) is not None:
            after, current = report
            self._report(epoch, after, float(current))
        for key in self.plan:
            variable = self.variables.get(key)
            if variable is None:
                optimizer = _inner(self.model.optimizer)
                logs[self.attributes[key]] = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
            else:
                logs[self.attributes[key]] = variable.now

    def _report(self, epoch: int, after: int, current: float) -> None:
        assert self.plan is not None
        schedules = dict(self.plan.items())
        for key, feedback in self.feedback.items():
            before = schedules[key]
            schedules[key] = feedback.report(current, after)
            if schedules[key] is not before and self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: lrdsl plateau reducing {self.attributes[key]} to {schedules[key](after)}.")
        self.plan = Plan(schedules)

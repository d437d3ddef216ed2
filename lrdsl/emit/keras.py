"""Keras 3 emitter: a graph-safe, serializable ``LearningRateSchedule`` and a
callback, from a schedule.

    lr = lrdsl.compile("warmup(1000) >> cosine_restarts(2000, t_mul=2, m_mul=0.9)", base_lr=3e-4).to_keras()
    model.compile(optimizer=keras.optimizers.AdamW(learning_rate=lr), loss="mse")
    cb = lrdsl.keras.callback("step(5, gamma=0.5)", base_lr=0.1, verbose=1)   # per epoch
    cb = lrdsl.keras.callback({"lr": "cosine(90)", "weight_decay": "linear(90, end=10 * base)"})  # a plan

:class:`DSLSchedule` evaluates the compiled program with ``keras.ops`` (one
``tf.gather`` per look-up on TensorFlow), through the numpy reference's
per-primitive formulas, so it runs eagerly, in ``tf.function``, under XLA and
on every Keras backend.  Steps are kept as integers for everything discrete
(segments, cycles, stairs) and cast to float64 only for the fractional part,
so steps beyond 2**24 still advance; the value is computed in float64 where
the backend has it and returned in Keras's float type.  For a float32 result
the cosines and constant powers take the lean formulas of
:mod:`lrdsl.backends.lean` (one float32 sine, tables of powers: within 3e-7
before the rounding), so a step costs what Keras's own schedule does.
Importing this module imports keras and registers the schedule for
``keras.models.load_model``.

Given a plan (a mapping from hyperparameter name to text), :func:`callback`
returns a :class:`~lrdsl.emit.keras_plan.DSLPlanCallback`, which sets any
optimizer hyperparameter (``weight_decay``, ``beta_1``, ``momentum``,
``ema_momentum``, ...) so that the compiled train step sees it.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
from keras import ops

from ..backends import lean
from ..backends.tensor import Lib, TensorOps, guarded, keras_lib
from ..language.errors import LrdslError
from ..plan import Plan
from ..reactive import Feedback, check_keys, refuse
from ..schedule import Schedule
from ..schedule import compile as compile_schedule
from ..tools.rangetest import RangeTestResult, run
from .keras_plan import DSLPlanCallback, plateau_report

__all__ = ["DSLCallback", "DSLPlanCallback", "DSLSchedule", "callback", "range_test"]


def compute_dtypes() -> tuple[str, str]:
    """(float, int) dtypes to compute in: 64-bit unless the backend is JAX
    without ``jax_enable_x64``."""
    if keras.backend.backend() == "jax":
        import jax

        if not jax.config.jax_enable_x64:  # type: ignore[attr-defined]
            return "float32", "int32"
    return "float64", "int64"


@keras.saving.register_keras_serializable(package="lrdsl")
class DSLSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A Keras learning-rate schedule from an lrdsl schedule text (or a compiled
    :class:`~lrdsl.Schedule`).  ``get_config`` holds the text and the context,
    so ``model.save`` / ``keras.models.load_model`` round-trip it."""

    def __init__(
        self,
        schedule: str | Schedule,
        base_lr: float | None = None,
        total_steps: int | None = None,
        steps_per_epoch: int | None = None,
        placeholders: dict[str, Any] | None = None,
        name: str = "DSLSchedule",
    ) -> None:
        super().__init__()
        given = {"schedule": schedule, "base_lr": base_lr, "total_steps": total_steps}
        _check_config({**given, "steps_per_epoch": steps_per_epoch, "placeholders": placeholders, "name": name}, "")
        if isinstance(schedule, Schedule):
            text = schedule.source
            base_lr = schedule.base_lr if base_lr is None else base_lr
            total_steps = schedule.total_steps if total_steps is None else total_steps
            steps_per_epoch = schedule.steps_per_epoch if steps_per_epoch is None else steps_per_epoch
            placeholders = {**schedule.placeholders, **(placeholders or {})}
        else:
            text = schedule
        self.text = text
        self.base_lr = base_lr
        self.total_steps = total_steps
        self.steps_per_epoch = steps_per_epoch
        self.placeholders = dict(placeholders or {})
        self.name = name
        self.schedule = compile_schedule(
            text, base_lr=base_lr, total_steps=total_steps, steps_per_epoch=steps_per_epoch, **self.placeholders
        )
        refuse(
            self.schedule,
            "a LearningRateSchedule",
            "use lrdsl.keras.callback(...), which reads the metric at the end of each epoch",
        )

    def __call__(self, step: Any) -> Any:
        fdtype, idtype = compute_dtypes()
        floatx = keras.config.floatx()
        xp = TensorOps(_lib(), fdtype, idtype)
        # a float32 learning rate from float64: the lean formulas, within 3e-7 before the rounding
        walk = lean.evaluate if fdtype == "float64" and floatx == "float32" else None
        return ops.cast(guarded(xp, self.schedule.program.root, step, walk), floatx)

    def get_config(self) -> dict[str, Any]:
        return {
            "schedule": self.text,
            "base_lr": self.base_lr,
            "total_steps": self.total_steps,
            "steps_per_epoch": self.steps_per_epoch,
            "placeholders": dict(self.placeholders),
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DSLSchedule:
        """The schedule :meth:`get_config` describes; a config with a missing,
        unknown or wrong-typed key (a tampered saved model) is an
        :class:`~lrdsl.LrdslError` (E0305) naming the key."""
        check_keys(config, _CONFIG_KEYS, "the DSLSchedule config")
        _check_config(config, " (in the config)")
        return cls(**config)

    def __reduce__(self) -> tuple[Any, ...]:
        # copies and pickles go through the config, as model.save does
        return (type(self).from_config, (self.get_config(),))


if keras.backend.backend() == "tensorflow":
    # Autograph must not rewrite lrdsl's Python when a tf.function calls the
    # schedule: it would re-parse every formula on each trace (2.8 s against
    # Keras's 0.05 for a restart schedule summed in a loop); the graph is the
    # same without it (no Python branch depends on a tensor).
    import tensorflow as tf

    DSLSchedule.__call__ = tf.autograph.experimental.do_not_convert(DSLSchedule.__call__)  # type: ignore[method-assign]


class _Gather:
    """``keras.ops`` with ``take`` as one ``tf.gather``: Keras's ``take`` adds a
    reshape and a negative-index fix-up (eight graph ops a look-up, and 17 ms
    of tracing each), which the namespace's in-range indices never need."""

    def __init__(self, gather: Any) -> None:
        self.take = gather

    def __getattr__(self, name: str) -> Any:
        return getattr(ops, name)


def _lib() -> Lib:
    lib = keras_lib()
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        lib.m = _Gather(tf.gather)
    return lib


_CONFIG_KEYS = ("schedule", "base_lr", "total_steps", "steps_per_epoch", "placeholders", "name")


def _check_config(config: dict[str, Any], where: str) -> None:
    """The types of DSLSchedule's arguments (lrdsl.compile checks the ranges)."""

    def wrong(key: str, want: str) -> LrdslError:
        got = config[key]
        return LrdslError(
            f"DSLSchedule's '{key}'{where} must be {want}, got {got!r} ({type(got).__name__})", code="E0305"
        )

    if not isinstance(config["schedule"], (str, Schedule)):
        raise wrong("schedule", "a schedule text")
    base = config["base_lr"]
    if base is not None and (isinstance(base, bool) or not isinstance(base, numbers.Real)):
        raise wrong("base_lr", "a number or null")
    for key in ("total_steps", "steps_per_epoch"):
        value = config[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
            raise wrong(key, "a whole number or null")
    holes = config["placeholders"]
    if holes is not None and (not isinstance(holes, dict) or not all(isinstance(k, str) for k in holes)):
        raise wrong("placeholders", "a mapping of names to values")
    if not isinstance(config["name"], str):
        raise wrong("name", "a text")


class DSLCallback(keras.callbacks.Callback):
    """Sets the optimizer's learning rate from a schedule at the start of each
    epoch (``per="epoch"``, step = epoch index) or batch (``per="batch"``, step
    = batches seen), like ``keras.callbacks.LearningRateScheduler``; feeds
    ``plateau(...)`` segments the ``monitor`` metric at each epoch's end, as
    ``keras.callbacks.ReduceLROnPlateau`` decides.  ``base`` is ``base_lr``, or
    the optimizer's learning rate when training starts."""

    def __init__(
        self,
        schedule: str | Schedule,
        *,
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
        self.text = schedule.source if isinstance(schedule, Schedule) else schedule
        self.base_lr = schedule.base_lr if isinstance(schedule, Schedule) and base_lr is None else base_lr
        self.per = per
        self.monitor = monitor
        self.verbose = verbose
        self._context = {"total_steps": total_steps, "steps_per_epoch": steps_per_epoch, **placeholders}
        self.schedule: Schedule | None = None
        self.feedback: Feedback | None = None
        self.step = 0  # the step the current lr belongs to
        self._batches = 0
        if self.base_lr is not None:
            self._compile(self.base_lr)

    def _compile(self, base: float) -> None:
        self.schedule = compile_schedule(self.text, base_lr=base, **self._context)
        self.feedback = Feedback(self.schedule, rule="keras")

    def _set(self, t: int) -> float:
        assert self.schedule is not None
        self.step = t
        lr = self.schedule(t)
        self.model.optimizer.learning_rate = lr
        return lr

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self.schedule is None:
            self.base_lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            self._compile(self.base_lr)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.per == "epoch":
            lr = self._set(epoch)
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: lrdsl setting learning rate to {lr}.")

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.per == "batch":
            self._set(self._batches)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._batches += 1

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        assert self.feedback is not None
        if self.feedback and (report := plateau_report(self, epoch, logs)) is not None:
            after, current = report
            before = self.schedule
            self.schedule = self.feedback.report(current, after)
            if self.schedule is not before and self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: lrdsl plateau reducing learning rate to {self.schedule(after)}.")
        logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))


def callback(schedule: str | Schedule | Mapping[str, Any] | Plan, **kwargs: Any) -> DSLCallback | DSLPlanCallback:
    """``lrdsl.keras.callback(text, base_lr=None, per="epoch", monitor="val_loss",
    verbose=0, total_steps=None, steps_per_epoch=None, **placeholders)``: the
    learning rate from one schedule (:class:`DSLCallback`).

    Given a plan (a mapping from hyperparameter name to text, or an
    :class:`~lrdsl.Plan`), a :class:`DSLPlanCallback` that sets every
    hyperparameter it names (``learning_rate``, ``weight_decay``, ``beta_1``,
    ``momentum``, ``ema_momentum``, ...), with ``bases=`` in place of
    ``base_lr=`` (which still means ``bases["lr"]``)."""
    if isinstance(schedule, (Mapping, Plan)):
        return DSLPlanCallback(schedule, **kwargs)
    return DSLCallback(schedule, **kwargs)


def range_test(
    model: keras.Model,
    x: Any,
    y: Any,
    batch_size: int = 32,
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 100,
    schedule: str = "exp",
    *,
    beta: float = 0.98,
    diverge: float = 4.0,
) -> RangeTestResult:
    """The LR range test on a compiled Keras model: one ``train_on_batch`` per
    step on consecutive ``batch_size`` slices of ``x``/``y`` (wrapping around),
    with the optimizer's lr raised from ``start`` to ``end`` along an lrdsl ramp,
    until the smoothed loss exceeds ``diverge`` times its best.

    The model's weights, the optimizer's variables (iterations, momenta, lr) and
    the metrics are restored afterwards.  The model must be compiled with a
    plain float learning rate (a ``LearningRateSchedule`` cannot be overridden).
    See :mod:`lrdsl.tools.rangetest` for how the suggestions are made.
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise LrdslError("the range test needs a compiled model (model.compile(optimizer=..., loss=...))", code="E0305")
    if not isinstance(optimizer._learning_rate, keras.Variable):
        raise LrdslError(
            "the range test sets the optimizer's lr, so compile the model with a float learning_rate, not a schedule",
            code="E0305",
        )
    n = len(x[0]) if isinstance(x, (list, tuple)) else len(x)
    if n == 0 or batch_size < 1:
        raise LrdslError(f"the range test needs data and batch_size >= 1, got {n} rows, {batch_size}", code="E0401")
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    weights = model.get_weights()
    saved = [keras.ops.convert_to_numpy(v) for v in optimizer.variables]

    def take(data: Any, i: list[int]) -> Any:
        if isinstance(data, (list, tuple)):
            return type(data)(take(d, i) for d in data)
        return np.take(data, i, axis=0)

    position = 0

    def train_step(lr: float) -> float:
        nonlocal position
        index = [(position + k) % n for k in range(min(batch_size, n))]
        position = (position + batch_size) % n
        optimizer.learning_rate = lr
        logs = model.train_on_batch(take(x, index), take(y, index), return_dict=True)
        return float(keras.ops.convert_to_numpy(logs["loss"]))

    try:
        return run(train_step, start, end, steps, schedule, beta=beta, diverge=diverge)
    finally:
        model.set_weights(weights)
        for variable, value in zip(optimizer.variables, saved):
            variable.assign(value)
        model.reset_metrics()

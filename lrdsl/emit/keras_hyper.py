"""Keras 3 optimizer hyperparameters that a callback can change while training.

A Keras optimizer keeps its learning rate in a variable, but ``beta_1``,
``momentum``, ``weight_decay``, ``ema_momentum`` and the rest are Python
floats, read when the train function is traced: under ``tf.function``, XLA or
``jax.jit`` the value is baked into the compiled step, so assigning
``optimizer.beta_1 = 0.8`` later changes nothing.  :func:`bind` replaces such an
attribute by a :class:`HyperVariable`, a non-trainable scalar
``keras.Variable`` the compiled step reads anew at every step, and
:meth:`HyperVariable.set` assigns it.

Where an optimizer makes a Python decision from the value (SGD's
``if self.momentum != 0`` builds momentum buffers, ``clipnorm > 0`` turns
clipping on), the variable answers for the configured value, as the optimizer
was built for it, and remembers the question; a scheduled value that would
answer it the other way is an :class:`~lrdsl.UnsupportedError` (E0801) rather
than a silent difference.  (A momentum of exactly 0 with a momentum buffer is
plain SGD, so ``momentum`` may reach 0.)

The optimizer keeps reporting the configured values in ``get_config`` (so a
saved model reloads with the optimizer it was created with, and a plan given to
it again has the same ``base``).  On the JAX backend the variables are optimizer
variables (a jitted step only sees state passed to it), left out of the
optimizer's saved variables.
"""

from __future__ import annotations

import numbers
import operator
from typing import Any

import keras

from ..language.errors import LrdslError, UnsupportedError, did_you_mean
from ..plan import canonical_key

__all__ = ["HyperVariable", "attribute_of", "bind", "configured_value", "hyperparameters"]

#: Keras's attribute for each canonical plan key that Keras spells differently.
_KERAS_NAMES = {"lr": "learning_rate", "betas[0]": "beta_1", "betas[1]": "beta_2", "eps": "epsilon"}
#: Settings that shape the optimizer or only start it (no schedule can change them).
_STRUCTURAL = ("gradient_accumulation_steps", "ema_overwrite_frequency", "iterations", "initial_accumulator_value")
#: Settings that are off when None; scheduling them turns them on, from 0.
_OFF_WHEN_NONE = ("weight_decay",)

_COMPARISONS = {
    "__eq__": ("==", operator.eq),
    "__ne__": ("!=", operator.ne),
    "__lt__": ("<", operator.lt),
    "__le__": ("<=", operator.le),
    "__gt__": (">", operator.gt),
    "__ge__": (">=", operator.ge),
}
_SYMBOLS = {sym: op for sym, op in _COMPARISONS.values()}


def attribute_of(key: str) -> str:
    """The Keras optimizer attribute a plan key names: ``lr`` -> ``learning_rate``,
    ``betas[0]``/``b1`` -> ``beta_1``, ``ema_decay`` -> ``ema_momentum``, ..."""
    canon = canonical_key(key)
    return _KERAS_NAMES.get(canon, canon)


def _answer(sym: str, value: float, other: float) -> bool:
    return bool(value) if sym == "bool" else bool(_SYMBOLS[sym](value, other))


class HyperVariable(keras.Variable):
    """A scheduled optimizer hyperparameter: a non-trainable float scalar.

    ``configured`` is the optimizer's own value (None for an unset
    ``weight_decay``); ``now`` is the value last assigned, kept on the host so
    reading it costs no device transfer."""

    def __init__(self, attribute: str, configured: float | None, value: float) -> None:
        super().__init__(
            float(value),
            dtype=keras.config.floatx(),
            trainable=False,
            name=f"lrdsl_{attribute}",
            aggregation="only_first_replica",
        )
        self.attribute = attribute
        self.configured = configured
        self.static = 0.0 if configured is None else float(configured)
        self.now = float(value)
        self.step: int | None = None  # the step ``now`` belongs to
        self.decisions: list[tuple[str, float]] = []  # (comparison, number) the traced step asked
        self.unchecked = False  # True until verify() has seen the latest value and decisions

    def set(self, value: float, step: int) -> None:
        """Assign ``value`` (the schedule's value at ``step``), once the value
        the last step ran with is checked against the decisions its trace made."""
        self.verify()
        for sym, other in self.decisions:
            self._check(sym, other, value, step)
        self.now = value
        self.step = step
        self.unchecked = True
        self.assign(value)

    def verify(self) -> None:
        """E0801 if the value last assigned answers a decision the traced step
        made the other way (a trace happens after the first assignment)."""
        for sym, other in self.decisions:
            self._check(sym, other, self.now, self.step)
        self.unchecked = False

    def _check(self, sym: str, other: float, value: float, step: int | None) -> None:
        if _answer(sym, value, other) == _answer(sym, self.static, other):
            return
        if self.attribute == "momentum" and other == 0:  # a momentum buffer at momentum 0 is plain SGD
            return
        question = f"bool({self.attribute})" if sym == "bool" else f"{self.attribute} {sym} {other!r}"
        when = "" if step is None else f" at step {step}"
        raise UnsupportedError(
            f"the optimizer decides `{question}` once, when it builds its train step, for its configured"
            f" {self.attribute}={self.configured!r}; the scheduled {self.attribute}={value!r}{when} decides it"
            " the other way, which the compiled step would not follow",
            code="E0801",
            hints=[f"keep the {self.attribute} schedule on the configured value's side of {other!r}"],
        )

    def _decide(self, sym: str, other: float) -> bool:
        # runs while the step is traced (torch.compile too): configured values only, checked in set/verify
        if (sym, other) not in self.decisions:
            self.decisions.append((sym, other))
            self.unchecked = True
        return _answer(sym, self.static, other)

    def __bool__(self) -> bool:
        return self._decide("bool", 0.0)


def _comparison(name: str, sym: str) -> Any:
    inherited = getattr(keras.Variable, name)

    def compare(self: HyperVariable, other: object) -> Any:
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return self._decide(sym, float(other))
        return inherited(self, other)

    compare.__name__ = name
    compare.__doc__ = f"``{sym}`` with a Python number answers for the configured value; else the variable's own."
    return compare


for _name, (_sym, _op) in _COMPARISONS.items():
    setattr(HyperVariable, _name, _comparison(_name, _sym))


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def hyperparameters(optimizer: Any) -> list[str]:
    """The optimizer's numeric hyperparameters: ``learning_rate`` and every
    public attribute holding a number (``weight_decay`` even when unset)."""
    names = ["learning_rate"]
    for name, value in vars(optimizer).items():
        if name.startswith("_") or name in _STRUCTURAL or name in names:
            continue
        if isinstance(value, HyperVariable) or _is_number(value) or (name in _OFF_WHEN_NONE and value is None):
            names.append(name)
    return names


def _lookup(optimizer: Any, key: str, attribute: str) -> Any:
    """The optimizer's current value of ``attribute``: E0207 when it has no such
    number, E0801 when it has one no schedule can change."""
    kind = type(optimizer).__name__
    value = getattr(optimizer, attribute, ...)
    if attribute in _STRUCTURAL and value is not ...:
        raise UnsupportedError(
            f"'{key}': {kind}'s {attribute} fixes the optimizer's structure or its initial state; it is not a"
            " hyperparameter a schedule can change",
            code="E0801",
        )
    if value is None and attribute not in _OFF_WHEN_NONE:
        raise UnsupportedError(
            f"'{key}': this {kind} was created without {attribute} (None), so its train step never reads it",
            code="E0801",
            hints=[f"create the optimizer with {attribute}=<a number> to schedule it"],
        )
    if isinstance(value, HyperVariable) or value is None:
        return value
    if not _is_number(value):
        names = hyperparameters(optimizer)
        named = f"'{key}'" if key == attribute else f"'{key}' ({attribute})"
        what = f"{kind} has no {named}" if value is ... else f"{kind}'s {named} is not a number ({value!r})"
        raise LrdslError(
            f"the plan's key is not a hyperparameter of the optimizer: {what}; {kind}'s numeric hyperparameters are"
            f" {', '.join(names)}",
            code="E0207",
            hints=did_you_mean(attribute, names),
        )
    if isinstance(value, numbers.Integral) and canonical_key(attribute) not in _FLOAT_KEYS:
        raise UnsupportedError(
            f"'{key}': {kind}'s {attribute}={value!r} is a whole-number setting of the optimizer's structure, not a"
            " float hyperparameter lrdsl can schedule",
            code="E0801",
        )
    return value


_FLOAT_KEYS = ("weight_decay", "momentum", "betas[0]", "betas[1]", "ema_momentum", "epsilon", "rho")


def configured_value(optimizer: Any, key: str) -> float:
    """What ``base`` means for ``key``: the optimizer's configured value
    (``learning_rate``: its value now; an unset ``weight_decay``: 0)."""
    attribute = attribute_of(key)
    if attribute == "learning_rate":
        return float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    value = _lookup(optimizer, key, attribute)
    if isinstance(value, HyperVariable):
        return value.static
    return 0.0 if value is None else float(value)


def bind(optimizer: Any, key: str, model: Any) -> HyperVariable | None:
    """Make ``key`` settable while training: None for the learning rate (already
    a variable), else the attribute's :class:`HyperVariable`, installed now if
    it is not yet (then the model's train function, if traced, is rebuilt)."""
    attribute = attribute_of(key)
    kind = type(optimizer).__name__
    if attribute == "learning_rate":
        if not isinstance(getattr(optimizer, "_learning_rate", None), keras.Variable):
            raise UnsupportedError(
                f"'{key}': this {kind}'s learning rate is a schedule or a callable, which a callback cannot set",
                code="E0801",
                hints=["create the optimizer with a float learning_rate, or leave 'lr' out of the plan"],
            )
        return None
    value = _lookup(optimizer, key, attribute)
    if isinstance(value, HyperVariable):
        return value
    if attribute == "ema_momentum" and not getattr(optimizer, "use_ema", False):
        raise UnsupportedError(
            f"'{key}': this {kind} has use_ema=False, so it never reads ema_momentum",
            code="E0801",
            hints=["create the optimizer with use_ema=True"],
        )
    if attribute == "momentum" and value == 0:
        raise UnsupportedError(
            f"'{key}': this {kind} was created with momentum=0, so it keeps no momentum buffer to schedule",
            code="E0801",
            hints=["create the optimizer with momentum > 0 (the schedule's first value, say)"],
        )
    variable = HyperVariable(attribute, value, 0.0 if value is None else float(value))
    _adopt(optimizer)
    optimizer._lrdsl_hyper[attribute] = variable
    object.__setattr__(optimizer, attribute, variable)  # bypass Keras's tracking: see _adopt
    if keras.backend.backend() == "jax":
        optimizer._track_variable(variable)
    if getattr(model, "train_function", None) is not None:
        model.make_train_function(force=True)  # a traced step holds the old float
    return variable


def _adopt(optimizer: Any) -> None:
    """Once per optimizer: ``get_config`` reports configured values, and the
    saved variables leave the hyperparameters out (they follow the schedule)."""
    if "_lrdsl_hyper" in vars(optimizer):
        return
    object.__setattr__(optimizer, "_lrdsl_hyper", {})
    cls = type(optimizer)

    def get_config() -> dict[str, Any]:
        config = cls.get_config(optimizer)
        for attribute, variable in optimizer._lrdsl_hyper.items():
            if attribute in config:
                config[attribute] = variable.configured
        return config

    def saved() -> list[Any]:
        return [v for v in optimizer.variables if not isinstance(v, HyperVariable)]

    def save_own_variables(store: Any) -> None:
        for i, variable in enumerate(saved()):
            store[str(i)] = variable.numpy()

    def load_own_variables(store: Any) -> None:
        own = saved()
        if len(store.keys()) != len(own):
            import warnings

            warnings.warn(
                f"Skipping variable loading for optimizer '{optimizer.name}', because it has {len(own)} variables"
                f" whereas the saved optimizer has {len(store.keys())} variables.",
                stacklevel=2,
            )
            return
        for i, variable in enumerate(own):
            variable.assign(store[str(i)])

    for method in (get_config, save_own_variables, load_own_variables):
        object.__setattr__(optimizer, method.__name__, method)

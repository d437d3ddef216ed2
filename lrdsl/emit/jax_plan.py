"""optax: a plan as the hyperparameters of ``optax.inject_hyperparams``.

    tx = lrdsl.jax.inject_hyperparams(optax.adamw, {
        "lr": "warmup(1k) >> cosine(9k)",
        "b1": "linear(10k, start=0.95, end=base)",
        "weight_decay": "linear(10k, start=base, end=10 * base)",
    }, learning_rate=3e-4, b1=0.9, weight_decay=1e-4)
    state = tx.init(params)        # state.hyperparams: each value at the current count

    # or, the same keyword arguments by hand:
    kwargs = lrdsl.jax.hyperparams(plan, optax.adamw, learning_rate=3e-4, b1=0.9, weight_decay=1e-4)
    tx = optax.inject_hyperparams(optax.adamw)(**kwargs)

Each scheduled key becomes a jit-traceable ``count -> value`` function
(:func:`lrdsl.jax.to_optax`); the other static values pass through.  Keys are
optax's parameter names or any spelling :func:`lrdsl.plan.canonical_key` knows
(``lr`` for ``learning_rate``, ``betas[0]``/``beta_1`` for ``b1``,
``betas[1]``/``beta_2`` for ``b2``, ``epsilon`` for ``eps``, ``wd``), for the
plan and for the static values alike.  In each text ``base`` is that
hyperparameter's static value, else the optimizer's default (``b1=0.9`` for
``optax.adamw``), else 1.0.  Given the optimizer, a key its signature does not
take as a number is an E0207 error naming those it does.

For a ``total_steps``, ``steps_per_epoch`` or placeholders, pass a compiled
plan (``lrdsl.compile_plan(texts, total_steps=...)``): each key's schedule is
re-based on its static value (:meth:`lrdsl.Schedule.with_base`).
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Mapping
from typing import Any

from ..language.errors import LrdslError, did_you_mean
from ..plan import Plan, canonical_key, compile_plan

__all__ = ["hyperparams", "inject_hyperparams", "optax_name"]

#: optax's parameter for each canonical key optax spells differently.
_OPTAX_NAMES = {"lr": "learning_rate", "betas[0]": "b1", "betas[1]": "b2", "epsilon": "eps"}
#: parameters that take a number-like default but are no hyperparameter
_NOT_NUMERIC = ("mask",)


def optax_name(key: str) -> str:
    """optax's parameter name for a plan key: ``lr`` -> ``learning_rate``,
    ``betas[0]``/``beta_1`` -> ``b1``, ``betas[1]`` -> ``b2``, ..."""
    canon = canonical_key(key)
    return _OPTAX_NAMES.get(canon, canon)


def _numeric(p: inspect.Parameter) -> bool:
    if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in _NOT_NUMERIC or p.name.endswith("dtype"):
        return False
    if isinstance(p.default, (bool, str)):
        return False
    if isinstance(p.default, numbers.Real):
        return True
    return "float" in str(p.annotation)


def _parameters(optimizer: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    try:
        return dict(inspect.signature(optimizer).parameters)
    except (TypeError, ValueError) as err:
        raise LrdslError(f"cannot read the signature of {optimizer!r}: {err}", code="E0305") from None


def _check(name: str, key: str, optimizer: Callable[..., Any], params: dict[str, inspect.Parameter], what: str) -> None:
    if name in params and _numeric(params[name]):
        return
    numeric = [n for n, p in params.items() if _numeric(p)]
    label = getattr(optimizer, "__name__", repr(optimizer))
    shown = f"'{key}' (optax's '{name}')" if key != name else f"'{key}'"
    raise LrdslError(
        f"the {what} {shown} is not a numeric hyperparameter of {label}, which takes {', '.join(numeric)}",
        code="E0207",
        hints=did_you_mean(name, numeric),
    )


def hyperparams(
    plan: Mapping[str, Any] | Plan, optimizer: Callable[..., Any] | None = None, /, **static: Any
) -> dict[str, Any]:
    """The keyword arguments of ``optax.inject_hyperparams(optimizer)``: each
    key of ``plan`` as a ``count -> value`` schedule whose ``base`` is its
    ``static`` value (else ``optimizer``'s default), and every other static
    value as it is.  With ``optimizer``, every name is checked against its
    signature (E0207)."""
    from .jax import to_optax

    if not isinstance(plan, (Mapping, Plan)):
        raise LrdslError(
            f"a plan is a mapping from hyperparameter name to schedule text, got {type(plan).__name__}",
            code="E0305",
            hints=["for the learning rate alone, use lrdsl.compile(text).to_optax()"],
        )
    params = _parameters(optimizer) if optimizer is not None else {}
    given: dict[str, Any] = {}
    for key, value in static.items():
        name = optax_name(key)
        if optimizer is not None:
            _check(name, key, optimizer, params, "static value")
        if name in given:
            raise LrdslError(f"a static value is given twice for optax's '{name}'", code="E0303")
        given[name] = value
    names = {key: optax_name(key) for key in plan}
    for key, name in names.items():
        if optimizer is not None:
            _check(name, key, optimizer, params, "plan key")
    bases = {key: _base(given, params, name) for key, name in names.items()}
    if isinstance(plan, Plan):
        schedules = {k: s if (b := bases[k]) is None else s.with_base(b) for k, s in plan.items()}
    else:
        compiled = compile_plan(plan, bases={k: b for k, b in bases.items() if b is not None})
        schedules = dict(compiled.items())
    out = dict(given)
    for key, schedule in schedules.items():
        try:
            out[names[key]] = to_optax(schedule)
        except LrdslError as err:
            raise err.in_key(key) from None
    return out


def _base(given: dict[str, Any], params: dict[str, inspect.Parameter], name: str) -> float | None:
    """What ``base`` means for optax's ``name``: its static value, else the
    optimizer's default, else None (lrdsl.compile's default, 1.0)."""
    value = given.get(name, inspect.Parameter.empty)
    if value is inspect.Parameter.empty and name in params:
        value = params[name].default
    if value is inspect.Parameter.empty or value is None:
        return None
    if callable(value):
        raise LrdslError(
            f"optax's '{name}' is both scheduled by the plan and given as a schedule",
            code="E0303",
            hints=[f"give '{name}' a number (its base), or leave it out of the plan"],
        )
    try:
        return float(value)
    except (TypeError, ValueError):
        raise LrdslError(f"the static value of '{name}' must be a number, got {value!r}", code="E0305") from None


def inject_hyperparams(
    optimizer: Callable[..., Any],
    plan: Mapping[str, Any] | Plan,
    /,
    *,
    static_args: str | tuple[str, ...] = (),
    hyperparam_dtype: Any = None,
    **static: Any,
) -> Any:
    """``optax.inject_hyperparams(optimizer, static_args, hyperparam_dtype)(**hyperparams(plan, optimizer, **static))``:
    the optimizer, with each scheduled value in ``state.hyperparams``."""
    import optax

    kwargs = hyperparams(plan, optimizer, **static)
    return optax.inject_hyperparams(optimizer, static_args=static_args, hyperparam_dtype=hyperparam_dtype)(**kwargs)

"""OmegaConf and Hydra: a resolver that compiles schedules inside configs.

    import lrdsl.omegaconf
    lrdsl.omegaconf.register()
    cfg = OmegaConf.create({"lr": 3e-4, "sched": "${lrdsl:'warmup(5%) >> cosine(95%)', ${lr}, 10000}"})
    cfg.sched            # a compiled lrdsl.Schedule (base_lr 3e-4, total_steps 10000)

The resolver's arguments are the schedule text, then optionally ``base_lr``,
``total_steps`` and ``steps_per_epoch``.  OmegaConf renamed its registration
call twice: 2.0 has the old ``register_resolver`` (string arguments), 2.1-2.3
``register_new_resolver``, 2.4 ``register_resolver`` again with the new
behaviour; :func:`register` uses whichever the installed version has.
"""

from __future__ import annotations

from typing import Any

import omegaconf as _oc
from omegaconf import OmegaConf

from .errors import LrdslError
from .schedule import Schedule
from .schedule import compile as compile_schedule

__all__ = ["register", "resolve"]


def resolve(text: Any, base_lr: Any = None, total_steps: Any = None, steps_per_epoch: Any = None) -> Schedule:
    """Compile ``text`` with the optional context (numbers or their text)."""
    return compile_schedule(
        str(text),
        base_lr=_number(base_lr, "base_lr", float),
        total_steps=_number(total_steps, "total_steps", int),
        steps_per_epoch=_number(steps_per_epoch, "steps_per_epoch", int),
    )


def _number(value: Any, name: str, kind: type) -> Any:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null")):
        return None
    if isinstance(value, kind) and not isinstance(value, bool):
        return value
    try:
        return kind(float(value)) if kind is int and float(value).is_integer() else kind(value)
    except (TypeError, ValueError):
        raise LrdslError(f"the lrdsl resolver's {name} must be a number, got {value!r}", code="E0305") from None


def _version() -> tuple[int, int]:
    parts = _oc.__version__.split(".")
    return int(parts[0]), int(parts[1])


def register(name: str = "lrdsl", *, replace: bool = True) -> None:
    """Register the ``${lrdsl:...}`` resolver (idempotent with ``replace=True``)."""
    if _version() >= (2, 4):
        OmegaConf.register_resolver(name, resolve, replace=replace)  # type: ignore[call-arg]
    elif hasattr(OmegaConf, "register_new_resolver"):
        OmegaConf.register_new_resolver(name, resolve, replace=replace)
    else:  # OmegaConf 2.0: arguments arrive as strings; no replace flag
        if replace:
            OmegaConf.clear_resolver(name)  # type: ignore[attr-defined]
        OmegaConf.register_resolver(name, resolve)

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

Numbers are never rounded (``total_steps=3.9`` is an error, as in
:func:`lrdsl.compile`).  ``OmegaConf.to_yaml(cfg, resolve=True)`` writes a
resolved schedule as the mapping :func:`lrdsl.load` reads (``schedule``,
``base_lr``, ``total_steps``, ...), not as a Python object: importing this
module teaches OmegaConf's YAML dumper that.
"""

from __future__ import annotations

import math
from typing import Any

import omegaconf as _oc
from omegaconf import OmegaConf

from ..language.errors import LrdslError
from ..schedule import Schedule
from ..schedule import compile as compile_schedule

__all__ = ["register", "resolve"]


def resolve(text: Any, base_lr: Any = None, total_steps: Any = None, steps_per_epoch: Any = None) -> Schedule:
    """Compile ``text`` with the optional context (numbers or their text).

    Numbers are taken as they are, never rounded: ``total_steps=3.9``, a
    boolean, ``inf`` or ``nan`` raise :class:`~lrdsl.LrdslError`, as
    :func:`lrdsl.compile` makes them (a whole float such as ``1e4`` is 10000)."""
    if not isinstance(text, str):
        raise LrdslError(
            f"the lrdsl resolver's first argument must be a schedule text, got {type(text).__name__}", code="E0305"
        )
    return compile_schedule(
        text,
        base_lr=_number(base_lr, "base_lr", whole=False),
        total_steps=_number(total_steps, "total_steps", whole=True),
        steps_per_epoch=_number(steps_per_epoch, "steps_per_epoch", whole=True),
    )


def _number(value: Any, name: str, *, whole: bool) -> Any:
    """``value`` as an int or float, or None; the domain is lrdsl.compile's to check."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null")):
        return None
    if isinstance(value, str):  # OmegaConf 2.0 passes every argument as text
        try:
            value = int(value.strip())
        except ValueError:
            try:
                value = float(value.strip())  # "1e400" is inf, which compile refuses
            except ValueError:
                raise LrdslError(f"the lrdsl resolver's {name} must be a number, got {value!r}", code="E0305") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LrdslError(f"the lrdsl resolver's {name} must be a number, got {value!r}", code="E0305")
    if whole and isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)  # exact: compile refuses anything above 2**53
    return value


def _represent(dumper: Any, schedule: Schedule) -> Any:
    """A schedule in YAML (``OmegaConf.to_yaml(cfg, resolve=True)``): the
    mapping :func:`lrdsl.load` reads back into the same schedule."""
    data: dict[str, Any] = {"schedule": schedule.source, "base_lr": schedule.base_lr}
    for key in ("total_steps", "steps_per_epoch"):
        if getattr(schedule, key) is not None:
            data[key] = getattr(schedule, key)
    if schedule.placeholders:
        data["placeholders"] = dict(schedule.placeholders)
    return dumper.represent_dict(data)


def _add_representer() -> None:
    """Teach OmegaConf's YAML dumper (only it) to write a resolved schedule."""
    try:
        from omegaconf._utils import get_omega_conf_dumper
    except ImportError:  # pragma: no cover - an OmegaConf without it
        return
    get_omega_conf_dumper().add_representer(Schedule, _represent)


def _version() -> tuple[int, int]:
    parts = _oc.__version__.split(".")
    return int(parts[0]), int(parts[1])


def register(name: str = "lrdsl", *, replace: bool = True) -> None:
    """Register the ``${lrdsl:...}`` resolver (idempotent with ``replace=True``)."""
    _add_representer()
    if _version() >= (2, 4):
        OmegaConf.register_resolver(name, resolve, replace=replace)  # type: ignore[call-arg]
    elif hasattr(OmegaConf, "register_new_resolver"):
        OmegaConf.register_new_resolver(name, resolve, replace=replace)
    else:  # OmegaConf 2.0: arguments arrive as strings; no replace flag
        if replace:
            OmegaConf.clear_resolver(name)  # type: ignore[attr-defined]
        OmegaConf.register_resolver(name, resolve)


_add_representer()

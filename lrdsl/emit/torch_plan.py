"""Plans in :class:`~lrdsl.torch.DSLScheduler`: which param-group entry each key names.

A plan's key is a param group's own name for a numeric entry (``lr``,
``momentum``, ``weight_decay``, ``eps``...) or an element of a tuple entry
(``betas[0]``); a spelling :func:`lrdsl.plan.canonical_key` maps to one of
these (``learning_rate``, ``beta_1``, ``wd``) is accepted too, the group's own
name first.  :func:`resolve` turns a key into a :class:`Target` (or an E0207
naming the group's numeric keys, with did-you-mean); :func:`keep_initial`
records each entry's initial value in the group as ``initial_<entry>``, the
way torch keeps ``initial_lr`` (set once at construction, required when
resuming with ``last_epoch != -1``), and :func:`base_of` reads ``base`` from
it.  :func:`apply` writes a step's values: a tensor in place with ``fill_``,
a tuple element by replacing the tuple (torch reads ``group["betas"]`` as a
tuple each step).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import torch

from ..language.errors import LrdslError, did_you_mean
from ..plan import Plan, canonical_key, check_key
from ..schedule import Schedule

#: What one param group is given: one lr schedule, or a plan (key -> text or Schedule).
Spec = str | Schedule | dict[str, Any]

_INDEXED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\[([0-9]+)\]")


class Target(NamedTuple):
    """The param-group entry a plan key sets: ``group[entry]``, or element
    ``element`` of the tuple ``group[entry]`` (-1: the entry itself)."""

    group: int
    key: str  # the group's spelling: 'lr', 'momentum', 'betas[0]'
    entry: str
    element: int


def _number(value: object) -> bool:
    if isinstance(value, torch.Tensor):
        return value.numel() == 1 and value.dtype != torch.bool
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _tuple(value: object) -> bool:
    return isinstance(value, (tuple, list)) and len(value) > 0 and all(_number(x) for x in value)


def _own(name: str) -> bool:
    """Entries a plan may name: not the parameters, not the schedulers' records."""
    return name != "params" and not name.startswith("initial_")


def numeric_keys(group: Mapping[str, Any]) -> list[str]:
    """The keys a plan may name in ``group``: its numeric entries and the
    elements of its tuples of numbers."""
    out: list[str] = []
    for name, value in group.items():
        if not isinstance(name, str) or not _own(name):
            continue
        if _number(value):
            out.append(name)
        elif _tuple(value):
            out.extend(f"{name}[{j}]" for j in range(len(value)))
    return out


def _split(key: str) -> tuple[str, int]:
    m = _INDEXED.fullmatch(key)
    return (m.group(1), int(m.group(2))) if m else (key, -1)


def resolve(group: Mapping[str, Any], i: int, key: object) -> Target:
    """The entry of param group ``i`` that ``key`` names (E0207 if none)."""
    key = check_key(key, f"param group {i}'s plan")
    for candidate in dict.fromkeys((key, canonical_key(key))):
        name, index = _split(candidate)
        if name not in group or not _own(name):
            continue
        value = group[name]
        if index == -1 and _number(value):
            return Target(i, candidate, name, -1)
        if index >= 0 and _tuple(value) and index < len(value):
            return Target(i, candidate, name, index)
    keys = numeric_keys(group)
    hints = did_you_mean(key, keys)
    name, index = _split(key) if _split(key)[0] in group else _split(canonical_key(key))
    if name in group:
        hints.append(_why_not(name, group[name], index))
    raise LrdslError(
        f"param group {i} has no numeric entry '{key}'; its keys are {', '.join(keys) or 'none'}",
        code="E0207",
        hints=hints,
    )


def _why_not(name: str, value: object, index: int) -> str:
    if name == "params":
        return "'params' holds the parameters, not a hyperparameter"
    if not _own(name):
        return f"'{name}' is the scheduler's record of an initial value, not a hyperparameter"
    if _tuple(value):
        n = len(value)  # type: ignore[arg-type]
        return f"'{name}' is a tuple of {n}: its keys are " + ", ".join(f"'{name}[{j}]'" for j in range(n))
    if _number(value):
        return f"'{name}' is a number, not a tuple: its key is '{name}'"
    return f"'{name}' is {value!r}, not a number the scheduler can set"


def group_plan(spec: Spec, group: Mapping[str, Any], i: int) -> list[tuple[str, Target, Any]]:
    """``(the plan's key, its target, its text or Schedule)`` for each key of a
    group's plan; one ``lr`` entry for a single schedule (its key ``''``)."""
    if not isinstance(spec, dict):
        return [("", Target(i, "lr", "lr", -1), spec)]
    out = []
    seen: dict[Target, str] = {}
    for key, value in spec.items():
        target = resolve(group, i, key)
        if target in seen:
            raise LrdslError(
                f"param group {i}'s plan names '{target.key}' twice: as '{seen[target]}' and '{key}'", code="E0303"
            )
        seen[target] = key
        out.append((key, target, value))
    return out


def keep_initial(group: dict[str, Any], i: int, entries: Sequence[str], last_epoch: int) -> None:
    """Record ``initial_<entry>`` for each entry (setdefault, as torch records
    ``initial_lr``), or require it when resuming."""
    for entry in dict.fromkeys(entries):
        name = f"initial_{entry}"
        if last_epoch == -1:
            value = group[entry]
            group.setdefault(name, tuple(_plain(x) for x in value) if _tuple(value) else _plain(value))
        elif name not in group:
            raise LrdslError(
                f"param group {i} has no '{name}', which resuming with last_epoch={last_epoch} needs",
                code="E0305",
                hints=["load the optimizer's state_dict first, or leave last_epoch at -1"],
            )


def base_of(group: Mapping[str, Any], t: Target) -> float:
    """What ``base`` means in ``t``'s text: its entry's initial value."""
    name = f"initial_{t.entry}"
    value = group[name]
    if t.element >= 0:
        if not _tuple(value) or t.element >= len(value):
            raise LrdslError(
                f"param group {t.group}'s '{name}' is {value!r}, which has no element {t.element}", code="E0305"
            )
        value = value[t.element]
    if not _number(value) or not math.isfinite(x := _plain(value)):
        raise LrdslError(f"param group {t.group}'s '{name}' is {value!r}, not a finite number", code="E0305")
    return x


def _plain(x: object) -> float:
    return float(x.item()) if isinstance(x, torch.Tensor) else float(x)  # type: ignore[arg-type]


def apply(groups: list[dict[str, Any]], targets: Sequence[Target], calls: Sequence[Any], t: int) -> list[float]:
    """Set each target to its value at step ``t``; the values, in target order."""
    values = []
    for target, f in zip(targets, calls):
        v = f(t)
        group = groups[target.group]
        current = group[target.entry]
        if target.element < 0:
            if isinstance(current, torch.Tensor):
                current.fill_(v)
            else:
                group[target.entry] = v
        else:
            j = target.element
            element = current[j]
            if isinstance(element, torch.Tensor):
                element.fill_(v)
            else:
                group[target.entry] = (*current[:j], v, *current[j + 1 :])
        values.append(v)
    return values


def specs(schedule: object, n: int) -> list[Spec]:
    """One spec per param group: a text or Schedule (the lr), or a plan as a dict."""
    if isinstance(schedule, (str, Schedule)):
        return [schedule] * n
    if isinstance(schedule, (Mapping, Plan)):
        return [_plan(schedule, None)] * n
    if not isinstance(schedule, Sequence) or isinstance(schedule, (bytes, bytearray)):
        raise LrdslError(
            "the schedule must be a text, a compiled Schedule, a plan (a mapping from param-group key to text)"
            f" or a sequence of them (one per param group), got {type(schedule).__name__}",
            code="E0305",
        )
    given = list(schedule)
    if len(given) != n:
        raise LrdslError(f"got {len(given)} schedules for {n} param groups", code="E0305")
    out: list[Spec] = []
    for i, spec in enumerate(given):
        if isinstance(spec, (str, Schedule)):
            out.append(spec)
        elif isinstance(spec, (Mapping, Plan)):
            out.append(_plan(spec, i))
        else:
            raise LrdslError(
                f"schedule[{i}] must be a text, a compiled Schedule or a plan, got {type(spec).__name__}",
                code="E0305",
            )
    return out


def _plan(plan: Mapping[str, Any] | Plan, i: int | None) -> dict[str, Any]:
    items = plan.items() if isinstance(plan, Plan) else [(k, plan[k]) for k in plan]
    if not items:
        where = "the plan" if i is None else f"schedule[{i}]"
        raise LrdslError(f"{where} is empty: a plan names at least one hyperparameter", code="E0305")
    return dict(items)

"""Checkpoints of :class:`~lrdsl.torch.DSLScheduler`: what a state holds, and its checks.

A state is plain values only (numbers, texts, lists and dicts of them), so
``torch.load(..., weights_only=True)`` reads it; :func:`plain_float` turns a
tensor lr into one.  :func:`fingerprint` hashes what defines the values (the
canonical texts and the compile context), so a state saved from another
schedule is recognised.  :func:`check_state` checks every value of a state
for type and range before ``load_state_dict`` changes anything (the plateau
cuts are checked against the schedule by :meth:`Feedback.load`), and
:func:`check_same_schedule` refuses a state of another schedule (which
``resume="prefix"`` and ``"any"`` may take instead: :mod:`lrdsl.emit.torch_resume`);
each refusal is an :class:`~lrdsl.LrdslError` naming the key.  The
:data:`OPTIONAL_KEYS` are what later lrdsl versions added.

Two layouts: format 1 (:data:`STATE_FORMAT`) for a scheduler of the lr alone,
as every lrdsl wrote before plans, and format 2 (:data:`PLAN_FORMAT`) for a
plan, where every per-group entry is a dict by key (``{'lr': ...,
'momentum': ...}``): ``schedules``, ``bases``, ``last_values`` and
``plateaus``; :func:`check_plan_state`, :func:`plan_fingerprint` and
:func:`check_same_plan` are their checks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import torch

from ..language.errors import LrdslError
from ..reactive import check_keys, check_list, real, whole
from ..schedule import Schedule

#: The layout of the state :meth:`DSLScheduler.state_dict` writes.
STATE_FORMAT = 1

STATE_KEYS: tuple[str, ...] = ("format", "lrdsl", "schedules", "fingerprint", "base_lrs", "last_epoch")
STATE_KEYS += ("step_count", "last_lr", "plateaus")

#: Keys a state may have: the compile contexts (for ``resume="prefix"``) and,
#: under a token or sample clock, the count consumed (:mod:`lrdsl.emit.torch_resume`).
OPTIONAL_KEYS = ("contexts", "consumed")

#: The layout of the state of a plan (several hyperparameters).
PLAN_FORMAT = 2

PLAN_KEYS: tuple[str, ...] = ("format", "lrdsl", "schedules", "fingerprint", "base_lrs", "bases", "last_epoch")
PLAN_KEYS += ("step_count", "last_lr", "last_values", "plateaus")


def plain_float(x: object) -> float:
    """A number or a one-element tensor as a plain float."""
    return float(x.item()) if isinstance(x, torch.Tensor) else float(x)  # type: ignore[arg-type]


def fingerprint(scheds: list[Schedule], context: Mapping[str, object]) -> str:
    """A hash of what defines the values: the canonical texts and the context."""
    data = {
        "texts": [s.canonical for s in scheds],
        "total_steps": context.get("total_steps"),
        "steps_per_epoch": context.get("steps_per_epoch"),
        "placeholders": {k: v for k, v in context.items() if k not in ("total_steps", "steps_per_epoch")},
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=repr).encode()).hexdigest()


def check_state(state: object, groups: int) -> dict[str, Any]:
    """The state's values checked for type and range (plateaus are checked
    against the schedule by :meth:`Feedback.load`)."""
    if not isinstance(state, dict):
        raise LrdslError(f"not a state saved by DSLScheduler.state_dict(): a {type(state).__name__}", code="E0305")
    fmt = state.get("format")
    if "format" in state and (type(fmt) is not int or fmt != STATE_FORMAT):
        if type(fmt) is int and fmt == PLAN_FORMAT:
            raise LrdslError(
                f"the state's 'format' is {PLAN_FORMAT}: it was saved from a plan of several hyperparameters,"
                " and this scheduler schedules the lr alone",
                code="E0305",
                hints=["build the scheduler with the plan the state was saved from"],
            )
        raise LrdslError(f"the state's 'format' is {fmt!r}; this lrdsl reads format {STATE_FORMAT}", code="E0305")
    check_keys(state, STATE_KEYS + _optional(state), "the state")
    group_list = _group_list(state, groups)
    return {
        **_optional_values(state, group_list),
        "lrdsl": text(state["lrdsl"], "'lrdsl'"),
        "schedules": [text(s, f"'schedules'[{i}]") for i, s in enumerate(group_list("schedules"))],
        "fingerprint": text(state["fingerprint"], "'fingerprint'"),
        "base_lrs": [real(b, f"'base_lrs'[{i}]") for i, b in enumerate(group_list("base_lrs"))],
        "last_epoch": whole(state["last_epoch"], "'last_epoch'"),
        "step_count": whole(state["step_count"], "'step_count'"),
        # the lrs the schedule gave (re-derived on load): inf where the schedule overflowed
        "last_lr": [real(x, f"'last_lr'[{i}]", finite=False) for i, x in enumerate(group_list("last_lr"))],
        "plateaus": group_list("plateaus"),
    }


def _optional(state: dict[str, Any]) -> tuple[str, ...]:
    return tuple(k for k in OPTIONAL_KEYS if k in state)


def _optional_values(state: dict[str, Any], per_group: Any) -> dict[str, Any]:
    """``'consumed'`` checked, ``'contexts'`` one per param group (each checked
    by :func:`lrdsl.emit.torch_resume.check_context`); None where absent."""
    consumed = state.get("consumed")
    return {
        "consumed": None if consumed is None else whole(consumed, "'consumed'"),
        "contexts": per_group("contexts") if "contexts" in state else None,
    }


def _group_list(state: dict[str, Any], groups: int) -> Any:
    def group_list(key: str) -> list[Any]:
        values = check_list(state[key], f"'{key}'")
        if len(values) != groups:
            raise LrdslError(
                f"the state's '{key}' has {len(values)} param groups, the optimizer {groups}", code="E0305"
            )
        return values

    return group_list


def text(value: object, key: str) -> str:
    if not isinstance(value, str):
        raise LrdslError(f"{key} must be a text, got {type(value).__name__}", code="E0305")
    return value


_RESUME_HINT = (
    "build the scheduler with resume='prefix' to continue a changed plan that agrees on the steps taken, or"
    " resume='any' (or load_state_dict(state, strict=False)) to resume it at the saved step anyway"
)


def check_same_schedule(state: dict[str, Any], scheds: list[Schedule], context: Mapping[str, object]) -> None:
    """E0305 unless a checked state was saved from ``scheds`` in ``context``
    (its fingerprint and its canonical texts agree)."""
    texts = [s.canonical for s in scheds]
    if state["fingerprint"] != fingerprint(scheds, context) or state["schedules"] != texts:
        raise LrdslError(
            "the state was saved from a different schedule ('fingerprint' or 'schedules' differ): "
            f"{state['schedules']} vs {texts}",
            code="E0305",
            hints=[_RESUME_HINT],
        )


# ------------------------------------------------------------ plans (format 2)


def plan_fingerprint(texts: list[dict[str, str]], context: Mapping[str, object]) -> str:
    """A hash of what defines a plan's values: each group's canonical texts by key and the context."""
    data = {
        "plan": texts,
        "total_steps": context.get("total_steps"),
        "steps_per_epoch": context.get("steps_per_epoch"),
        "placeholders": {k: v for k, v in context.items() if k not in ("total_steps", "steps_per_epoch")},
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=repr).encode()).hexdigest()


def check_plan_state(state: object, keys: list[list[str]]) -> dict[str, Any]:
    """A plan's state checked for type and range; ``keys[i]`` are the keys
    param group ``i`` schedules, which every per-group dict must have exactly."""
    if not isinstance(state, dict):
        raise LrdslError(f"not a state saved by DSLScheduler.state_dict(): a {type(state).__name__}", code="E0305")
    fmt = state.get("format", STATE_FORMAT)
    if type(fmt) is not int or fmt != PLAN_FORMAT:
        if type(fmt) is int and fmt == STATE_FORMAT:
            raise LrdslError(
                f"the state's 'format' is {STATE_FORMAT}: it was saved from a schedule of the lr alone, and this"
                f" scheduler's plan schedules {', '.join(keys[0])}" + (" (param group 0)" if len(keys) > 1 else ""),
                code="E0305",
                hints=["build the scheduler with the schedule the state was saved from"],
            )
        raise LrdslError(f"the state's 'format' is {fmt!r}; this lrdsl reads format {PLAN_FORMAT}", code="E0305")
    check_keys(state, PLAN_KEYS + _optional(state), "the state")
    group_list = _group_list(state, len(keys))

    def by_key(name: str) -> list[dict[str, Any]]:
        out = []
        for i, value in enumerate(group_list(name)):
            where = f"'{name}'[{i}]"
            if isinstance(value, dict) and set(value) != set(keys[i]):
                raise LrdslError(
                    f"the state's {where} has the keys {', '.join(map(str, value))}; param group {i} schedules"
                    f" {', '.join(keys[i])}",
                    code="E0305",
                )
            out.append(check_keys(value, tuple(keys[i]), where))
        return out

    checked: dict[str, Any] = {
        **_optional_values(state, by_key),
        "lrdsl": text(state["lrdsl"], "'lrdsl'"),
        "schedules": [
            {k: text(v, f"'schedules'[{i}][{k!r}]") for k, v in d.items()} for i, d in enumerate(by_key("schedules"))
        ],
        "fingerprint": text(state["fingerprint"], "'fingerprint'"),
        "base_lrs": [real(b, f"'base_lrs'[{i}]") for i, b in enumerate(group_list("base_lrs"))],
        "bases": [{k: real(v, f"'bases'[{i}][{k!r}]") for k, v in d.items()} for i, d in enumerate(by_key("bases"))],
        "last_epoch": whole(state["last_epoch"], "'last_epoch'"),
        "step_count": whole(state["step_count"], "'step_count'"),
        "last_lr": [real(x, f"'last_lr'[{i}]", finite=False) for i, x in enumerate(group_list("last_lr"))],
        "last_values": [
            {k: real(v, f"'last_values'[{i}][{k!r}]", finite=False) for k, v in d.items()}
            for i, d in enumerate(by_key("last_values"))
        ],
        "plateaus": by_key("plateaus"),
    }
    for i, bases in enumerate(checked["bases"]):
        if "lr" in bases and bases["lr"] != checked["base_lrs"][i]:
            raise LrdslError(
                f"the state's 'base_lrs'[{i}] is {checked['base_lrs'][i]!r}, but its 'bases'[{i}]['lr'] is"
                f" {bases['lr']!r}",
                code="E0305",
            )
    return checked


def check_same_plan(state: dict[str, Any], texts: list[dict[str, str]], context: Mapping[str, object]) -> None:
    """E0305 unless a checked plan state was saved from these texts in ``context``."""
    if state["fingerprint"] != plan_fingerprint(texts, context) or state["schedules"] != texts:
        raise LrdslError(
            "the state was saved from a different plan ('fingerprint' or 'schedules' differ): "
            f"{state['schedules']} vs {texts}",
            code="E0305",
            hints=[_RESUME_HINT],
        )

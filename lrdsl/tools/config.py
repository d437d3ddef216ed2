"""Schedules and plans in configuration files (YAML, TOML, JSON).

    optim:
      schedule: |
        # warm up, then anneal
        warmup(5%) >> cosine(95%, min=1e-5)
      plan:                      # one schedule per hyperparameter
        lr: one_cycle(10k, max=0.1)
        momentum: one_cycle(10k, start=0.95, peak=0.85, end=0.95)
        weight_decay: linear(10k, start=5e-4, end=5e-3)

``lrdsl.load("train.yaml", "optim.schedule", total_steps=10_000)`` compiles a
schedule and ``lrdsl.load_plan("train.yaml", "optim.plan")`` a plan;
``lrdsl eval --config train.yaml --key optim.plan --steps 10000`` prints either.
The value at the key is one of:

- a schedule text;
- a plan: a mapping from hyperparameter name to schedule text, with no
  ``schedule`` key (the compile context cannot sit among its hyperparameters);
- a mapping with ``schedule`` (a text or a plan) and any of ``base_lr``,
  ``bases`` (hyperparameter name -> number: what ``base`` means in each text),
  ``total_steps``, ``steps_per_epoch`` and ``placeholders``.

Keyword arguments given to :func:`load` or :func:`load_plan` win over the
file.  The format comes from the file's extension; YAML needs PyYAML (``pip
install lrdsl[yaml]``), TOML uses the standard library.

Input is untrusted, so it is read bounded: at most
:data:`~lrdsl.language.domain.MAX_CONFIG_BYTES` of a config file (more is E0701, found
without reading it all), and a file that cannot be read, a directory or a
document of the wrong shape is E0901.  :func:`read_limited` and
:func:`open_input` do the same for the command line's ``@FILE``, ``-`` and
``--metrics``.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..language.domain import MAX_CONFIG_BYTES
from ..language.errors import LrdslError, did_you_mean
from .bounded import error as _error
from .bounded import open_input, read_limited, shown, too_large

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..plan import Plan
    from ..schedule import Schedule

_CONTEXT = (
    "base_lr",
    "total_steps",
    "steps_per_epoch",
    "tokens_per_step",
    "samples_per_step",
    "total_tokens",
    "total_samples",
)
#: Keys of the ``schedule:`` form that are not hyperparameters: never plan keys.
CONTEXT_KEYS = (*_CONTEXT, "bases", "placeholders")
#: Names a placeholder cannot have when it is filled by keyword (``compile``'s own).
_RESERVED = ("text", *_CONTEXT)
#: ... and when a plan is compiled (``compile_plan``'s own).
PLAN_RESERVED = (*_RESERVED, "bases", "check_domains")
#: The ``schedule:`` form, shown when a plan mixes in its context.
_SCHEDULE_FORM = (
    "put the plan under 'schedule' and the context beside it, e.g. "
    "{schedule: {lr: '...', momentum: '...'}, total_steps: 10000, bases: {momentum: 0.9}}"
)
_SHAPES = "give a schedule text, a plan (hyperparameter name -> text), or a mapping with 'schedule' and optional " + (
    "base_lr, bases, total_steps, steps_per_epoch, placeholders"
)

__all__ = [
    "entry",
    "load",
    "load_plan",
    "lookup",
    "open_input",
    "read",
    "read_limited",
    "shown",
    "too_large",
    "value_at",
]


# ---------------------------------------------------------------- documents


def read(path: str | Path) -> Any:
    """The parsed document (format from the extension: .yaml/.yml, .toml, .json).

    At most :data:`~lrdsl.language.domain.MAX_CONFIG_BYTES` are read (E0701 beyond)."""
    name = os.fspath(path)
    raw = read_limited(name, MAX_CONFIG_BYTES, "a config file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _error(f"{shown(name)} is not valid UTF-8 (byte {err.start})") from None
    return _parse(text, name, Path(name).suffix.lower())


def _parse(text: str, name: str, suffix: str) -> Any:
    try:
        if suffix in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise _error("reading YAML needs PyYAML", "pip install 'lrdsl[yaml]'") from None
            return yaml.safe_load(text)
        if suffix == ".toml":
            try:
                import tomllib
            except ImportError:  # Python 3.10
                import tomli as tomllib  # type: ignore[no-redef]
            return tomllib.loads(text)
        if suffix == ".json":
            import json

            return json.loads(text)
    except LrdslError:
        raise
    except Exception as err:  # each parser has its own error type (RecursionError too)
        where = ""
        mark = getattr(err, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        elif getattr(err, "lineno", None) is not None:
            where = f" at line {err.lineno}, column {getattr(err, 'colno', '?')}"  # type: ignore[attr-defined]
        detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise _error(f"{shown(name)} is not valid {suffix[1:].upper()}{where}: {detail[:200]}") from None
    raise _error(f"cannot tell the format of {shown(name)}", "use a .yaml, .yml, .toml or .json file")


def lookup(document: Any, key: str | None, path: str | Path = "") -> Any:
    """The value at a dotted key (``optim.schedule``; list items by index)."""
    if not key:
        return document
    node = document
    walked: list[str] = []
    for part in key.split("."):
        found, node_next = _child(node, part)
        if not found:
            here = ".".join(walked) or "the top level"
            keys = [str(k) for k in node] if isinstance(node, dict) else []
            listed = ", ".join(keys[:20]) + (f", ... ({len(keys)} keys)" if len(keys) > 20 else "")
            raise _error(
                f"{shown(path)} has no key {shown(key)}: {here} has no {shown(part)}",
                *(did_you_mean(part, keys) or ([f"{here} has: {listed}"] if keys else [])),
            )
        node = node_next
        walked.append(part)
    return node


def _child(node: Any, part: str) -> tuple[bool, Any]:
    """``(True, node[part])``, matching a mapping's non-text keys (``1:``) by
    their text and a list's items by a decimal index; ``(False, None)`` if absent."""
    if isinstance(node, dict):
        if part in node:
            return True, node[part]
        for k, v in node.items():
            if not isinstance(k, str) and str(k) == part:
                return True, v
    elif isinstance(node, list) and part.isascii() and part.isdecimal() and int(part) < len(node):
        return True, node[int(part)]
    return False, None


def value_at(path: str | Path, key: str | None = None) -> tuple[str | dict[str, str], dict[str, Any]]:
    """The schedule text or plan mapping at ``key``, and the compile context
    stored beside it (``bases`` as a mapping when given)."""
    value = lookup(read(path), key, path)
    where = shown(path)
    at = f"the value at {shown(key)}" if key else "the document"
    if isinstance(value, str):
        return value, {}
    if isinstance(value, dict) and "schedule" in value:
        inner = value["schedule"]
        if isinstance(inner, dict):
            body: str | dict[str, str] = _plan(inner, where, f"'schedule' in {at}")
        elif isinstance(inner, str):
            body = inner
        else:
            raise _error(
                f"{where}: 'schedule' in {at} is a {_kind(inner)}, not the schedule text",
                "'schedule' is a text, or a plan: a mapping from hyperparameter name to text",
            )
        context: dict[str, Any] = {k: value[k] for k in _CONTEXT if value.get(k) is not None}
        context.update(_placeholders(value.get("placeholders"), where, at))
        bases = _bases(value.get("bases"), where, at)
        if bases:
            if "base_lr" in context and any(canonical(k) == "lr" for k in bases):
                raise _error(f"{where}: {at} gives the lr's base twice, as base_lr and in bases", "keep one of them")
            context["bases"] = bases
        if isinstance(body, dict):
            names = [*bases, *(["lr"] if "base_lr" in context else [])]
            check_bases(names, body, f"{where}: {'base_lr' if 'base_lr' in context else 'bases'} in {at}")
        return body, context
    if isinstance(value, dict):
        try:
            return _plan(value, where, at), {}
        except LrdslError as err:
            if key is None:  # most likely the key was left out: say where the schedules are
                err.hints = (*err.hints, *_key_hint(value))
            raise
    raise _error(f"{where}: {at} is a {_kind(value)}, not a schedule", _SHAPES)


def _key_hint(document: dict[Any, Any]) -> list[str]:
    """``give the key ...``: where in ``document`` schedules or plans seem to be."""
    found: list[str] = []
    stack: list[tuple[str, Any, int]] = [(str(k), v, 1) for k, v in document.items()]
    while stack and len(found) < 6:
        path, node, depth = stack.pop(0)
        if isinstance(node, str) or (isinstance(node, dict) and "schedule" in node):
            found.append(path)
        elif isinstance(node, dict) and depth < 4:
            if node and all(isinstance(v, str) for v in node.values()):
                found.append(path)  # a plan
            else:
                stack.extend((f"{path}.{k}", v, depth + 1) for k, v in node.items())
    where = f": the document has schedules at {', '.join(found)}" if found else ""
    return [f"give the key of the schedule or plan (--key A.B on the command line, lrdsl.load(path, 'A.B')){where}"]


def check_bases(names: list[str], plan: dict[str, str], where: str) -> None:
    """E0207 when a base is given for a hyperparameter the plan does not schedule."""
    keys = {canonical(k) for k in plan}
    for name in names:
        if canonical(name) not in keys:
            raise LrdslError(
                f"{where} gives a base for {name!r}, which the plan does not schedule (it schedules {', '.join(plan)})",
                code="E0207",
                hints=did_you_mean(name, list(plan)),
            )


def _kind(value: object) -> str:
    return "null (empty)" if value is None else type(value).__name__


def canonical(key: str) -> str:
    """The one name of a hyperparameter (:func:`lrdsl.plan.canonical_key`)."""
    from ..plan import canonical_key

    return canonical_key(key)


def _plan(value: dict[Any, Any], where: str, at: str) -> dict[str, str]:
    """A plan mapping from a config: hyperparameter names to schedule texts."""
    from ..plan import check_key

    if not value:
        raise _error(
            f"{where}: {at} is an empty mapping, not a schedule or a plan",
            "a plan maps hyperparameter names to schedule texts: {lr: 'cosine(100)', momentum: 'const(0.9)'}",
        )
    mixed = [k for k in value if k in CONTEXT_KEYS]
    if mixed:
        raise _error(
            f"{where}: {at} is a plan, and {mixed[0]!r} in it is the plan's context, not a hyperparameter",
            _SCHEDULE_FORM,
        )
    for k, v in value.items():
        check_key(k, f"{where}: {at}")
        if not isinstance(v, str):
            raise _error(
                f"{where}: {at} has no 'schedule', so it is a plan, whose values are schedule texts;"
                f" {shown(k)} is a {_kind(v)}",
                "a plan maps hyperparameter names to texts: {lr: 'cosine(100)', momentum: 'const(0.9)'}; "
                "one schedule is a text, or a mapping with 'schedule'",
            )
    return dict(value)


def _bases(value: Any, where: str, at: str) -> dict[str, float]:
    """A config's ``bases`` mapping: hyperparameter name -> number."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _error(
            f"{where}: 'bases' in {at} must be a mapping from hyperparameter name to number, not a {_kind(value)}"
        )
    for k, v in value.items():
        if not isinstance(k, str):
            raise _error(f"{where}: 'bases' in {at} names hyperparameters like 'momentum', not {shown(k)}")
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _error(f"{where}: 'bases' in {at} gives {shown(k)} a {_kind(v)}, not a number")
    return dict(value)


def entry(path: str | Path, key: str | None = None) -> tuple[str, dict[str, Any]]:
    """The schedule text at ``key`` and the compile context stored beside it
    (a plan there is an error pointing to :func:`load_plan`)."""
    value, context = value_at(path, key)
    at = f"the value at {shown(key)}" if key else "the document"
    if not isinstance(value, str):
        raise _error(
            f"{shown(path)}: {at} is a plan ({', '.join(value)}), not one schedule",
            "lrdsl.load_plan(path, key) compiles a plan; lrdsl.load compiles one schedule",
        )
    return value, single_context(context, f"{shown(path)}: 'bases' in {at}")


def single_context(context: dict[str, Any], where: str) -> dict[str, Any]:
    """``context`` for one (lr) schedule: a ``bases`` entry for the lr becomes
    ``base_lr``; one for another hyperparameter is an error (E0901)."""
    out = dict(context)
    for k, v in out.pop("bases", {}).items():
        if canonical(k) != "lr":
            raise _error(
                f"{where} names {k!r}, but the schedule is one text, for the lr",
                "a plan (hyperparameter name -> text) schedules other hyperparameters: see lrdsl.load_plan",
            )
        out["base_lr"] = v
    return out


def merged_context(context: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``compile_plan``'s keyword arguments: the file's ``context`` with
    ``overrides`` over it (``None`` values ignored), every base in ``bases``."""
    out = {k: v for k, v in context.items() if k not in ("bases", "base_lr")}
    bases: dict[str, float] = {}

    def put(key: str, base: float) -> None:
        for old in [k for k in bases if canonical(k) == canonical(key)]:
            del bases[old]
        bases[key] = base

    for key, base in context.get("bases", {}).items():
        put(key, base)
    if context.get("base_lr") is not None:
        put("lr", context["base_lr"])
    given = {k: v for k, v in overrides.items() if v is not None}
    for key, base in (given.pop("bases", None) or {}).items():
        put(key, base)
    if "base_lr" in given:
        put("lr", given.pop("base_lr"))
    out.update(given)
    out["bases"] = bases
    return out


def _placeholders(value: Any, where: str, at: str) -> dict[str, Any]:
    """A config's ``placeholders`` mapping: names that ``compile`` takes by keyword."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _error(f"{where}: 'placeholders' in {at} must be a mapping, not a {type(value).__name__}")
    for name in value:
        if not isinstance(name, str) or not name.isidentifier():
            raise _error(f"{where}: placeholder names in {at} are names like 'n' or 'peak', not {shown(name)}")
        if name in PLAN_RESERVED:
            raise _error(
                f"{where}: a placeholder in {at} cannot be called {name!r}",
                f"{', '.join(PLAN_RESERVED)} are names of the compile call; rename the placeholder",
            )
    return dict(value)


def load(path: str | Path, key: str | None = None, **kwargs: Any) -> Schedule:
    """Compile the schedule stored at ``key`` in a YAML, TOML or JSON file."""
    from ..schedule import compile as compile_schedule

    text, context = entry(path, key)
    context.update({k: v for k, v in kwargs.items() if v is not None})
    return compile_schedule(text, **context)


def load_plan(path: str | Path, key: str | None = None, **kwargs: Any) -> Plan:
    """Compile the plan stored at ``key`` in a YAML, TOML or JSON file (a plain
    schedule text there is the plan ``{"lr": text}``).

    ``kwargs`` are :func:`lrdsl.plan.compile_plan`'s (``bases``, ``base_lr``,
    ``total_steps``, ``steps_per_epoch``, ``check_domains``, placeholders) and
    win over the file's context; ``bases`` is merged key by key."""
    from ..plan import compile_plan

    value, context = value_at(path, key)
    plan = {"lr": value} if isinstance(value, str) else value
    return compile_plan(plan, **merged_context(context, kwargs))

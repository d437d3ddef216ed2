"""Schedules in configuration files (YAML, TOML, JSON).

    optim:
      schedule: |
        # warm up, then anneal
        warmup(5%) >> cosine(95%, min=1e-5)

``lrdsl.load("train.yaml", "optim.schedule", total_steps=10_000)`` compiles it;
``lrdsl eval --config train.yaml --key optim.schedule --steps 10000`` prints it.
The value at the key is the schedule text, or a mapping with ``schedule`` and
any of ``base_lr``, ``total_steps``, ``steps_per_epoch`` and ``placeholders``
(keyword arguments given to :func:`load` win over the file).  The format comes
from the file's extension; YAML needs PyYAML (``pip install lrdsl[yaml]``), TOML
uses the standard library.
"""

from __future__ import annotations

from pathlib import Path

from .errors import LrdslError, did_you_mean

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .schedule import Schedule

_CONTEXT = ("base_lr", "total_steps", "steps_per_epoch")


def _error(message: str, *hints: str) -> LrdslError:
    return LrdslError(message, code="E0901", hints=hints)


def read(path: str | Path) -> Any:
    """The parsed document (format from the extension: .yaml/.yml, .toml, .json)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise _error(f"cannot read {str(p)!r}: {err.strerror or err}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _error(f"{str(p)!r} is not valid UTF-8 (byte {err.start})") from None
    suffix = p.suffix.lower()
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
    except Exception as err:  # each parser has its own error type
        where = ""
        mark = getattr(err, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        elif getattr(err, "lineno", None) is not None:
            where = f" at line {err.lineno}, column {getattr(err, 'colno', '?')}"  # type: ignore[attr-defined]
        raise _error(f"{str(p)!r} is not valid {suffix[1:].upper()}{where}: {err}") from None
    raise _error(f"cannot tell the format of {str(p)!r}", "use a .yaml, .yml, .toml or .json file")


def lookup(document: Any, key: str | None, path: str | Path = "") -> Any:
    """The value at a dotted key (``optim.schedule``; list items by index)."""
    if not key:
        return document
    node = document
    walked: list[str] = []
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            here = ".".join(walked) or "the top level"
            keys = [str(k) for k in node] if isinstance(node, dict) else []
            raise _error(
                f"{str(path)!r} has no key {key!r}: {here} has no {part!r}",
                *(did_you_mean(part, keys) or ([f"{here} has: {', '.join(keys)}"] if keys else [])),
            )
        walked.append(part)
    return node


def entry(path: str | Path, key: str | None = None) -> tuple[str, dict[str, Any]]:
    """The schedule text at ``key`` and the compile context stored beside it."""
    value = lookup(read(path), key, path)
    if isinstance(value, str):
        return value, {}
    if isinstance(value, dict) and isinstance(value.get("schedule"), str):
        context: dict[str, Any] = {k: value[k] for k in _CONTEXT if value.get(k) is not None}
        placeholders = value.get("placeholders") or {}
        if not isinstance(placeholders, dict):
            raise _error(f"{str(path)!r}: 'placeholders' at {key!r} must be a mapping")
        context.update(placeholders)
        return value["schedule"], context
    raise _error(
        f"{str(path)!r}: the value at {key!r} is a {type(value).__name__}, not a schedule",
        "give the schedule text, or a mapping with 'schedule' and optional base_lr, total_steps, steps_per_epoch, placeholders",
    )


def load(path: str | Path, key: str | None = None, **kwargs: Any) -> Schedule:
    """Compile the schedule stored at ``key`` in a YAML, TOML or JSON file."""
    from .schedule import compile as compile_schedule

    text, context = entry(path, key)
    context.update({k: v for k, v in kwargs.items() if v is not None})
    return compile_schedule(text, **context)

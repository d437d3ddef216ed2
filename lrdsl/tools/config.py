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

Input is untrusted, so it is read bounded: at most
:data:`~lrdsl.language.domain.MAX_CONFIG_BYTES` of a config file (more is E0701, found
without reading it all), and a file that cannot be read, a directory or a
document of the wrong shape is E0901.  :func:`read_limited` and
:func:`open_input` do the same for the command line's ``@FILE``, ``-`` and
``--metrics``.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from ..language.domain import MAX_CONFIG_BYTES
from ..language.errors import LimitError, LrdslError, did_you_mean

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

    from ..schedule import Schedule

_CONTEXT = ("base_lr", "total_steps", "steps_per_epoch")
#: Names a placeholder cannot have when it is filled by keyword (``compile``'s own).
_RESERVED = ("text", *_CONTEXT)
_SHOWN = 60  # characters of a path or value quoted back in a message


def _error(message: str, *hints: str) -> LrdslError:
    return LrdslError(message, code="E0901", hints=hints)


def shown(text: object, limit: int = _SHOWN) -> str:
    """``repr(str(text))``, cut to about ``limit`` characters, for messages."""
    s = str(text)
    if len(s) > limit:
        s = s[: limit - 3] + "..."
    return repr(s)


# ---------------------------------------------------------------- bounded reading


def open_input(path: str | os.PathLike[str]) -> BinaryIO:
    """``path`` opened for reading in binary mode, or an :class:`LrdslError` (E0901).

    A directory is refused.  A FIFO or a device is opened without blocking (a
    FIFO with no writer would block ``open`` for ever) and then read as usual,
    so ``@<(cmd)`` and ``/dev/stdin`` work and a FIFO nobody writes reads as
    empty."""
    name = os.fspath(path)
    try:
        mode = os.stat(name).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "Is a directory")
        special = not stat.S_ISREG(mode)
        flags = os.O_RDONLY | getattr(os, "O_BINARY", 0)
        if special:
            flags |= getattr(os, "O_NONBLOCK", 0)
        fd = os.open(name, flags)
        try:
            if special and hasattr(os, "O_NONBLOCK"):
                os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise
    except (OSError, ValueError) as err:  # ValueError: a NUL in the path
        reason = getattr(err, "strerror", None) or str(err)
        raise _error(f"cannot read {shown(name)}: {reason}") from None


def too_large(where: str, limit: int, what: str) -> LimitError:
    return LimitError(f"{where} is larger than {_size(limit)}, the most lrdsl reads for {what}", code="E0701")


def _size(n: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"


def read_limited(path: str | os.PathLike[str], limit: int, what: str = "a file", *, stdin: bool = False) -> bytes:
    """The bytes of ``path`` (with ``stdin``, ``"-"`` is standard input), reading
    at most ``limit + 1`` of them: more than ``limit`` is a :class:`LimitError`
    (E0701), a file that cannot be read an :class:`LrdslError` (E0901)."""
    name = os.fspath(path)
    if stdin and name == "-":
        return _read_stdin(limit, what)
    with open_input(name) as fh:
        try:
            st = os.fstat(fh.fileno())
            if stat.S_ISREG(st.st_mode) and st.st_size > limit:  # too large before reading any of it
                raise too_large(shown(name), limit, what)
            data = fh.read(limit + 1)
        except OSError as err:
            raise _error(f"cannot read {shown(name)}: {err.strerror or err}") from None
    if len(data) > limit:
        raise too_large(shown(name), limit, what)
    return data


def _read_stdin(limit: int, what: str) -> bytes:
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise _error("cannot read standard input: there is none")
    try:
        data: bytes = stream.read(limit + 1)
    except (OSError, ValueError) as err:
        raise _error(f"cannot read standard input: {getattr(err, 'strerror', None) or err}") from None
    if len(data) > limit:
        raise too_large("standard input", limit, what)
    return data


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


def entry(path: str | Path, key: str | None = None) -> tuple[str, dict[str, Any]]:
    """The schedule text at ``key`` and the compile context stored beside it."""
    value = lookup(read(path), key, path)
    at = f"the value at {shown(key)}" if key else "the document"
    if isinstance(value, str):
        return value, {}
    if isinstance(value, dict) and "schedule" in value:
        if not isinstance(value["schedule"], str):
            raise _error(
                f"{shown(path)}: 'schedule' in {at} is a {type(value['schedule']).__name__}, not the schedule text"
            )
        context: dict[str, Any] = {k: value[k] for k in _CONTEXT if value.get(k) is not None}
        context.update(_placeholders(value.get("placeholders"), shown(path), at))
        return value["schedule"], context
    raise _error(
        f"{shown(path)}: {at} is a {type(value).__name__}, not a schedule",
        "give the schedule text, or a mapping with 'schedule' and optional base_lr, total_steps, steps_per_epoch, placeholders",
    )


def _placeholders(value: Any, where: str, at: str) -> dict[str, Any]:
    """A config's ``placeholders`` mapping: names that ``compile`` takes by keyword."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _error(f"{where}: 'placeholders' in {at} must be a mapping, not a {type(value).__name__}")
    for name in value:
        if not isinstance(name, str) or not name.isidentifier():
            raise _error(f"{where}: placeholder names in {at} are names like 'n' or 'peak', not {shown(name)}")
        if name in _RESERVED:
            raise _error(
                f"{where}: a placeholder in {at} cannot be called {name!r}",
                f"{', '.join(_RESERVED)} are names of the compile call; rename the placeholder",
            )
    return dict(value)


def load(path: str | Path, key: str | None = None, **kwargs: Any) -> Schedule:
    """Compile the schedule stored at ``key`` in a YAML, TOML or JSON file."""
    from ..schedule import compile as compile_schedule

    text, context = entry(path, key)
    context.update({k: v for k, v in kwargs.items() if v is not None})
    return compile_schedule(text, **context)

"""lrdsl: a language for learning-rate schedules.

>>> import lrdsl
>>> s = lrdsl.compile("warmup(5) >> cosine(95)", base_lr=0.1)
>>> s(5)
0.1

The stages are visible in the layout: :mod:`lrdsl.syntax` (text -> AST),
:mod:`lrdsl.check` (names, arity, kinds), :mod:`lrdsl.compile` (AST -> the
:mod:`lrdsl.ir` program), :mod:`lrdsl.backends` (evaluation) and the emitters
(:mod:`lrdsl.torch`, :mod:`lrdsl.keras`), which import their framework only
when used.  ``import lrdsl`` imports neither numpy nor lark.
"""

from __future__ import annotations

from ._version import __version__
from .backends import backend, backend_reason
from .errors import (
    ArgumentError,
    CompositionError,
    ContextError,
    LimitError,
    LrdslError,
    LrdslSyntaxError,
    UnknownNameError,
    UnsupportedError,
    ValueDomainError,
)
from .ir import Phase, Program
from .schedule import Schedule, compile
from .syntax import parse


def load(path: str, key: str | None = None, **kwargs: object) -> Schedule:
    """Compile the schedule stored at ``key`` (``a.b.c``) in a YAML, TOML or JSON
    file; see :mod:`lrdsl.config`."""
    from .config import load as _load

    return _load(path, key, **kwargs)


__all__ = [
    "ArgumentError",
    "CompositionError",
    "ContextError",
    "LimitError",
    "LrdslError",
    "LrdslSyntaxError",
    "Phase",
    "Program",
    "Schedule",
    "UnknownNameError",
    "UnsupportedError",
    "ValueDomainError",
    "__version__",
    "backend",
    "backend_reason",
    "compile",
    "load",
    "parse",
]

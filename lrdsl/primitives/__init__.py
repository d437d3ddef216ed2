"""Registry stage: the catalogue of primitives, one :class:`Primitive` each.

Adding a primitive touches its definition (a module here), the ``CATALOGUE``
tuple below and one case in the C kernel; the checker, compiler, evaluators,
``lrdsl list`` and the tests parametrized over the registry pick it up.
"""

from __future__ import annotations

from . import decays, periodic, reactive, structural
from .base import P, Param, ParamError, Primitive

CATALOGUE: tuple[Primitive, ...] = (*decays.ALL, *periodic.ALL, *reactive.ALL, *structural.ALL)

REGISTRY: dict[str, Primitive] = {p.name: p for p in CATALOGUE}

if len(REGISTRY) != len(CATALOGUE):  # pragma: no cover - a programming error
    raise RuntimeError("duplicate primitive names in the catalogue")

__all__ = ["CATALOGUE", "REGISTRY", "P", "Param", "ParamError", "Primitive"]

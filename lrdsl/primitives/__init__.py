"""Registry stage: the catalogue of primitives, one :class:`Primitive` each.

Adding a primitive touches its definition (a module here, with its formula
and kernel slots) and its C functions in ``ext/lrdsl_prims.c``; then
``python -m lrdsl._gen_kernel`` regenerates the kernel's dispatch and the
README's tables (CONTRIBUTING.md has the recipe).  The checker, compiler,
evaluators, ``lrdsl list`` and the tests parametrized over the registry pick
it up.
"""

from __future__ import annotations

from . import cooldown, decays, periodic, reactive, restarts, smooth, structural
from .base import P, Param, ParamError, Primitive

CATALOGUE: tuple[Primitive, ...] = (
    *smooth.ALL,
    *cooldown.ALL,
    *decays.ALL,
    *restarts.ALL,
    *periodic.ALL,
    *reactive.ALL,
    *structural.ALL,
)

REGISTRY: dict[str, Primitive] = {p.name: p for p in CATALOGUE}

if len(REGISTRY) != len(CATALOGUE):  # pragma: no cover - a programming error
    raise RuntimeError("duplicate primitive names in the catalogue")

__all__ = ["CATALOGUE", "REGISTRY", "P", "Param", "ParamError", "Primitive"]

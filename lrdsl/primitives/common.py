"""Registry stage: helpers the primitive definitions share (the raised
cosine every cosine-shaped formula uses, the ``steps=`` bound)."""

from __future__ import annotations

import math

from .base import LENGTH, Param

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

HALF_PI = math.pi / 2


def raised_cosine(xp, angle, rest, first):  # type: ignore[no-untyped-def]
    """``(1 + cos(angle)) / 2``, accurate to an ulp or two everywhere.

    Where ``first`` (the first half of a descent) it is computed as written,
    which is the frameworks' own formula and exact there; elsewhere as
    ``sin(rest)**2`` with ``rest = (pi - angle) / 2`` computed by the caller
    from exact integers, because ``1 + cos`` cancels near the end of a descent
    (torch's CosineAnnealingLR loses ~1e-9 relative at its last steps).
    """
    s = xp.sin(rest)
    return xp.where(first, (1.0 + xp.cos(angle)) / 2, s * s)


def steps_param() -> Param:
    return Param("steps", LENGTH, None, "bound an unbounded primitive to this many steps", positional=False)


def _steps(a: Mapping[str, Any]) -> int | None:
    return a["steps"]


def _n(a: Mapping[str, Any]) -> int | None:
    return a["n"]


def _same(a: Mapping[str, Any]) -> dict[str, Any]:
    return dict(a)

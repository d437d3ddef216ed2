"""Registry stage: how a primitive declares its C kernel case.

A primitive's ``slots(p)`` turns its prepared parameters into the node's
float and int slots (the layout its ``lrp_<name>_scalar``/``_range``
functions in ``ext/lrdsl_prims.c`` read), and ``check(f, ip)`` says whether
slot arrays are ones those functions can run on safely (sizes, enums, lengths
and positions within the step domain, sorted tables): the kernel's validator
(:func:`lrdsl.backends.lower.validate`) calls it for every node it is given.
The helpers here build the common checks.
"""

from __future__ import annotations

from itertools import pairwise

from ..language.domain import STEP_LIMIT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

#: Lengths, positions and table entries lie in ``[0, LIMIT]``.
LIMIT = STEP_LIMIT


def fixed(nf: int, ni: int, *ranges: tuple[int, int, int]) -> Callable[[Sequence[float], Sequence[int]], bool]:
    """A check for ``nf`` float and ``ni`` int slots, with ``lo <= ip[k] <= hi``
    for each ``(k, lo, hi)`` (a length: ``(k, 1, LIMIT)``; an enum: ``(k, 0, 2)``)."""

    def check(f: Sequence[float], ip: Sequence[int]) -> bool:
        return len(f) == nf and len(ip) == ni and all(lo <= ip[k] <= hi for k, lo, hi in ranges)

    return check


def steps_table(xs: Sequence[int], strict: bool = False) -> bool:
    """Sorted (strictly, if asked) steps in ``[0, LIMIT]``."""
    ordered = all(a < b if strict else a <= b for a, b in pairwise(xs))
    return ordered and all(0 <= x <= LIMIT for x in xs)


def table(extra_floats: int) -> Callable[[Sequence[float], Sequence[int]], bool]:
    """A check for ``ip`` a sorted table of steps and ``len(f) == len(ip) + extra_floats``."""

    def check(f: Sequence[float], ip: Sequence[int]) -> bool:
        return len(f) == len(ip) + extra_floats and steps_table(ip)

    return check

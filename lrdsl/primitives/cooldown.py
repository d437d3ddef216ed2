"""Registry stage: ``cooldown``, the decay LLM trainers end a run with.

A cooldown goes from ``start`` (by default where the previous segment ends)
to ``end`` over ``n`` steps in one of the shapes the trainers use: with
progress ``p = t/n`` and ``f(p)`` the fraction of the drop still to come,
``value = end + (start - end) * f(p)``.  It is written as ``start - (start -
end) * (1 - f)`` in the first half (``2t <= n``) and as ``end + (start - end) *
f`` after it, each factor computed from the exact integers ``t`` and ``n - t``
(``1 - sqrt(p)`` as ``(1 - p)/(1 + sqrt(p))``, ``1 - p**2`` as ``(1 - p)(1 +
p)``, the cosine's two parts as ``sin**2`` of their half-angles): so step 0 is
``start`` and step ``n`` is ``end`` exactly, and values near either end keep
their relative precision.  WSD (warmup-stable-decay) is the chain
``warmup(2k) >> hold() >> cooldown(20%, shape=sqrt)``: the hold is elastic
under ``total_steps``.  Its C functions are ``lrp_cooldown_scalar``/``_range``
in ``ext/lrdsl_prims.c``.
"""

from __future__ import annotations

from .base import ENUM, LENGTH, POSITIVE, PREV, REAL, VALUE, Param, ParamError, Primitive
from .common import HALF_PI, _n
from .kernel import LIMIT, fixed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

#: The kernel's codes for cooldown shapes.
COOLDOWN_SHAPES = {"linear": 0, "cos": 1, "sqrt": 2, "square": 3, "power": 4, "exp": 5}


def cooldown_prepare(a: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(a)
    shape = a["shape"]
    if shape == "power":
        if a["power"] is None:
            out["power"] = 2.0
    elif a["power"] is not None:
        raise ParamError("power", f"power= is the exponent of shape=power, and this cooldown's shape is {shape}")
    if shape == "exp" and not (a["start"] > 0 and a["end"] > 0):
        raise ParamError(
            "end" if a["start"] > 0 else "start",
            f"shape=exp decays geometrically, so start and end must both be > 0 (start={a['start']}, end={a['end']})",
        )
    return out


def _parts(xp, shape, a, b, n, k):  # type: ignore[no-untyped-def]
    """``(1 - f, f)``: the drop done and the drop to come, from the elapsed
    steps ``a = t`` and the remaining ``b = n - t`` (both floats)."""
    if shape == "linear":
        return a / n, b / n
    if shape == "cos":  # (1 - cos(pi p))/2 = sin^2(pi t/(2n)), (1 + cos(pi p))/2 = sin^2(pi (n-t)/(2n))
        sg = xp.sin(a * (HALF_PI / n))
        sf = xp.sin(b * (HALF_PI / n))
        return sg * sg, sf * sf
    if shape == "sqrt":
        g = xp.sqrt(a / n)
        return g, (b / n) / (1.0 + g)
    if shape == "square":
        x = a / n
        return x * x, (b / n) * (1.0 + x)
    g = xp.power(a / n, k)  # power
    return g, 1.0 - g


def cooldown_formula(xp, t, p):  # type: ignore[no-untyped-def]
    n, s, e = p.n, p.start, p.end
    a, b = xp.f(t), xp.f(n - t)
    first = 2 * t <= n
    if p.shape == "exp":
        return xp.where(first, s * xp.power(e / s, a / n), e * xp.power(s / e, b / n))
    g, f = _parts(xp, p.shape, a, b, n, p.power)
    d = s - e
    return xp.where(first, s - d * g, e + d * f)


COOLDOWN = Primitive(
    "cooldown",
    (
        Param("n", LENGTH, doc="length in steps"),
        Param("shape", ENUM, "linear", "decay shape", choices=tuple(COOLDOWN_SHAPES)),
        Param("end", VALUE, 0.0, "value at step n and after"),
        Param("start", VALUE, PREV, "value at step 0"),
        Param("power", REAL, None, "the exponent of shape=power", domain=POSITIVE, positional=False, shown="2"),
    ),
    "decay from the previous value to end over n steps, in an LLM trainer's shape",
    """end + (start-end)*f(p), p = t/n: linear f = 1-p; cos f = (1 + cos(pi*p))/2;
    sqrt f = 1 - sqrt(p) (HuggingFace's '1-sqrt', Megatron's 'minus_sqrt', torchtitan's
    'sqrt'); square f = 1 - p^2; power f = 1 - p^power; exp: start*(end/start)^p
    (start, end > 0).  start is exact at step 0, end at step n.

    >>> s = lrdsl.compile("const(1, steps=2) >> cooldown(4, shape=sqrt)")
    >>> s(2), s(3), s(6)
    (1.0, 0.5, 0.0)
    """,
    matches="torchtitan decay_type; Megatron --lr-wsd-decay-style; HuggingFace get_wsd_schedule decay_type",
    opcode=17,
    slots=lambda p: ([p["start"], p["end"], p["power"] or 0.0], [p["n"], COOLDOWN_SHAPES[p["shape"]]]),
    check=fixed(3, 2, (0, 1, LIMIT), (1, 0, len(COOLDOWN_SHAPES) - 1)),
    formula=cooldown_formula,
    prepare=cooldown_prepare,
    length=_n,
)


ALL = (COOLDOWN,)

"""Registry stage: the smooth primitives (constants, ramps, the cosine).

Each formula is written once against the array namespace ``xp`` (see
:mod:`lrdsl.backends.namespace`) and computes values at local integer steps
``t``.  Where a framework's closed form loses precision (``1 + cos x`` near the
end of a cosine, ``1 - t/n`` near the end of a linear decay) the formula uses
an algebraically equal form that does not: ``sin^2`` of the remaining
half-angle, ``start*((n-t)/n) + end*(t/n)`` (exact at both ends, and HuggingFace's
linear warmup and decay bit for bit).  The README lists these places.
Each primitive also declares its kernel slots (``slots``) and their check
(``check``); its C functions are ``lrp_<name>_scalar``/``_range`` in
``ext/lrdsl_prims.c``.
"""

from __future__ import annotations

import math

from .base import (
    BASE,
    ENUM,
    LENGTH,
    NEXT,
    PREV,
    REAL,
    UNIT,
    VALUE,
    Param,
    ParamError,
    Primitive,
)
from .common import HALF_PI, _n, _same, _steps, raised_cosine, steps_param
from .kernel import LIMIT, fixed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


#: The kernel's codes for warmup shapes.
SHAPES = {"linear": 0, "cos": 1, "exp": 2, "sqrt": 3}

# ---------------------------------------------------------------- const, hold


def const_formula(xp, t, p):  # type: ignore[no-untyped-def]
    return xp.full(t, p.value)


CONST = Primitive(
    "const",
    (Param("value", VALUE, BASE, "the learning rate"), steps_param()),
    "a constant learning rate",
    """value at every step.

    >>> lrdsl.compile("const(1e-3)")(10**9)
    0.001
    """,
    matches="torch ConstantLR(factor=1)",
    opcode=1,
    slots=lambda p: ([p["value"]], []),
    check=fixed(1, 0),
    formula=const_formula,
    prepare=_same,
    length=_steps,
)

HOLD = Primitive(
    "hold",
    (
        Param("n", LENGTH, None, "steps to hold (none: unbounded, elastic in a chain)"),
        Param("value", VALUE, PREV, "the value held"),
    ),
    "hold the previous segment's end value (or base)",
    """value at every step; by default the value the previous segment ends at,
    or base when there is none or the previous segment is a warmup that ramps
    to this one.

    >>> s = lrdsl.compile("linear(10, start=1, end=0.5) >> hold(5) >> const(0)")
    >>> s(12)
    0.5
    """,
    matches="-",
    opcode=1,
    slots=lambda p: ([p["value"]], []),
    check=fixed(1, 0),
    c_name="const",
    formula=const_formula,
    prepare=_same,
    length=_n,
)

# ---------------------------------------------------------------- linear, warmup


def linear_formula(xp, t, p):  # type: ignore[no-untyped-def]
    return p.start * (xp.f(p.n - t) / p.n) + p.end * (xp.f(t) / p.n)


LINEAR = Primitive(
    "linear",
    (
        Param("n", LENGTH, doc="length in steps"),
        Param("start", VALUE, BASE, "value at step 0"),
        Param("end", VALUE, 0.0, "value at step n and after"),
    ),
    "a straight line from start to end over n steps",
    """start*((n-t)/n) + end*(t/n) for t < n, then end.

    >>> lrdsl.compile("linear(4, start=1, end=0)")(1)
    0.75
    """,
    matches="torch LinearLR(start_factor, end_factor, total_iters=n) x base; Keras PolynomialDecay(power=1)",
    opcode=2,
    slots=lambda p: ([p["start"], p["end"]], [p["n"]]),
    check=fixed(2, 1, (0, 1, LIMIT)),
    formula=linear_formula,
    prepare=_same,
    length=_n,
)


def warmup_prepare(a: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(a)
    if a["shape"] == "exp" and not (a["start"] > 0 and a["end"] > 0):
        raise ParamError(
            "start",
            "shape=exp ramps geometrically, so start and the target must both be > 0"
            f" (start={a['start']}, target={a['end']})",
        )
    return out


def warmup_formula(xp, t, p):  # type: ignore[no-untyped-def]
    if p.shape == "linear":
        return linear_formula(xp, t, p)
    if p.shape == "cos":  # the cosine descent run backwards: (1 - cos(pi*t/n))/2
        left = p.n - t
        h = raised_cosine(xp, (math.pi * xp.f(left)) / p.n, xp.f(t) * (HALF_PI / p.n), 2 * left <= p.n)
        return p.start + (p.end - p.start) * h
    if p.shape == "sqrt":  # HuggingFace's 1 - sqrt(1 - t/n), as (t/n) / (1 + sqrt((n-t)/n))
        h = (xp.f(t) / p.n) / (1.0 + xp.sqrt(xp.f(p.n - t) / p.n))
        return p.start + (p.end - p.start) * h
    return p.start * xp.power(p.end / p.start, xp.f(t) / p.n)


WARMUP = Primitive(
    "warmup",
    (
        Param("n", LENGTH, doc="length in steps"),
        Param("start", VALUE, 0.0, "value at step 0"),
        Param("end", VALUE, NEXT, "target; by default where the next segment starts (base when last)"),
        Param("shape", ENUM, "linear", "ramp shape", choices=tuple(SHAPES)),
    ),
    "ramp to where the next segment starts",
    """linear: start + (target-start)*t/n; cos: start + (target-start)*(1 - cos(pi*t/n))/2;
    exp: start*(target/start)^(t/n); sqrt: start + (target-start)*(1 - sqrt(1 - t/n))
    (HuggingFace's '1-sqrt' warm-up).  The target is reached exactly at step n,
    where the next segment begins.

    >>> s = lrdsl.compile("warmup(4) >> const(0.8)")
    >>> s(0), s(1), s(4)
    (0.0, 0.2, 0.8)
    """,
    matches="Keras CosineDecay(warmup_steps=n, warmup_target); HuggingFace get_*_schedule_with_warmup",
    opcode=3,
    slots=lambda p: ([p["start"], p["end"]], [p["n"], SHAPES[p["shape"]]]),
    check=fixed(2, 2, (0, 1, LIMIT), (1, 0, len(SHAPES) - 1)),
    formula=warmup_formula,
    prepare=warmup_prepare,
    length=_n,
)

# ---------------------------------------------------------------- cosine


def cosine_prepare(a: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(a)
    if a["alpha"] is not None:
        if a["min"] is not None:
            raise ParamError(
                "alpha", "give min= or alpha=, not both (alpha is min as a fraction of peak)", code="E0307"
            )
        out["min"] = a["alpha"] * a["peak"]
    elif a["min"] is None:
        out["min"] = 0.0
    del out["alpha"]
    return out


def cosine_formula(xp, t, p):  # type: ignore[no-untyped-def]
    h = raised_cosine(xp, (math.pi * xp.f(t)) / p.n, xp.f(p.n - t) * (HALF_PI / p.n), 2 * t <= p.n)
    return p.min + (p.peak - p.min) * h


COSINE = Primitive(
    "cosine",
    (
        Param("n", LENGTH, doc="length in steps"),
        Param("peak", VALUE, BASE, "value at step 0"),
        Param("min", VALUE, None, "value at step n and after", shown="0"),
        Param("alpha", REAL, None, "min as a fraction of peak", domain=UNIT, positional=False),
    ),
    "half a cosine from peak to min over n steps",
    """min + (peak-min) * (1 + cos(pi*t/n))/2 (as sin^2(pi*(n-t)/(2n)) in the second half).

    >>> round(lrdsl.compile("cosine(100, min=0.1)")(50), 12)
    0.55
    """,
    matches="torch CosineAnnealingLR(T_max=n, eta_min=min) closed form; Keras CosineDecay(decay_steps=n, alpha)",
    opcode=4,
    slots=lambda p: ([p["peak"], p["min"]], [p["n"]]),
    check=fixed(2, 1, (0, 1, LIMIT)),
    formula=cosine_formula,
    prepare=cosine_prepare,
    length=_n,
)


ALL = (CONST, HOLD, LINEAR, WARMUP, COSINE)

"""Registry stage: the monotone and constant primitives.

Each formula is written once against the array namespace ``xp`` (see
:mod:`lrdsl.backends.ops`) and computes values at local integer steps ``t``.
Where a framework's closed form loses precision (``1 + cos x`` near the end of
a cosine, ``1 - t/n`` near the end of a linear decay) the formula uses an
algebraically equal form that does not: ``sin^2`` of the remaining half-angle,
``(start*(n-t) + end*t)/n``.  The README lists these places.
"""

from __future__ import annotations

import math

from .base import (
    BASE,
    BOOL,
    ENUM,
    LENGTH,
    NEXT,
    NONNEGATIVE,
    POSITION,
    POSITIONS,
    POSITIVE,
    PREV,
    REAL,
    UNIT,
    VALUE,
    VALUES,
    Param,
    ParamError,
    Primitive,
)

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
    formula=const_formula,
    prepare=_same,
    length=_n,
)

# ---------------------------------------------------------------- linear, warmup


def linear_formula(xp, t, p):  # type: ignore[no-untyped-def]
    return (p.start * xp.f(p.n - t) + p.end * xp.f(t)) / p.n


LINEAR = Primitive(
    "linear",
    (
        Param("n", LENGTH, doc="length in steps"),
        Param("start", VALUE, BASE, "value at step 0"),
        Param("end", VALUE, 0.0, "value at step n and after"),
    ),
    "a straight line from start to end over n steps",
    """(start*(n-t) + end*t) / n for t < n, then end.

    >>> lrdsl.compile("linear(4, start=1, end=0)")(1)
    0.75
    """,
    matches="torch LinearLR(start_factor, end_factor, total_iters=n) x base; Keras PolynomialDecay(power=1)",
    opcode=2,
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
    return p.start * xp.power(p.end / p.start, xp.f(t) / p.n)


WARMUP = Primitive(
    "warmup",
    (
        Param("n", LENGTH, doc="length in steps"),
        Param("start", VALUE, 0.0, "value at step 0"),
        Param("end", VALUE, NEXT, "target; by default where the next segment starts (base when last)"),
        Param("shape", ENUM, "linear", "ramp shape", choices=("linear", "cos", "exp")),
    ),
    "ramp to where the next segment starts",
    """linear: start + (target-start)*t/n; cos: start + (target-start)*(1 - cos(pi*t/n))/2;
    exp: start*(target/start)^(t/n).  The target is reached exactly at step n,
    where the next segment begins.

    >>> s = lrdsl.compile("warmup(4) >> const(0.8)")
    >>> s(0), s(1), s(4)
    (0.0, 0.2, 0.8)
    """,
    matches="Keras CosineDecay(warmup_steps=n, warmup_target); HuggingFace get_*_schedule_with_warmup",
    opcode=3,
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
    formula=cosine_formula,
    prepare=cosine_prepare,
    length=_n,
)

# ---------------------------------------------------------------- step, multistep, exp


def step_formula(xp, t, p):  # type: ignore[no-untyped-def]
    return p.start * xp.power(p.gamma, xp.f(xp.floordiv(t, p.every)))


STEP = Primitive(
    "step",
    (
        Param("every", LENGTH, doc="steps between decays"),
        Param("gamma", REAL, 0.1, "factor per decay", domain=POSITIVE),
        Param("start", VALUE, BASE, "value before the first decay"),
        steps_param(),
    ),
    "staircase decay every `every` steps",
    """start * gamma^floor(t/every).

    >>> lrdsl.compile("step(10, gamma=0.5)")(25)
    0.25
    """,
    matches="torch StepLR(step_size=every, gamma); Keras ExponentialDecay(staircase=True)",
    opcode=5,
    formula=step_formula,
    prepare=_same,
    length=_steps,
    end="stair",
)


def multistep_formula(xp, t, p):  # type: ignore[no-untyped-def]
    k = xp.searchsorted(p.milestones, t, "right")
    return p.start * xp.power(p.gamma, xp.f(k))


MULTISTEP = Primitive(
    "multistep",
    (
        Param("milestones", POSITIONS, doc="steps at which to decay, increasing"),
        Param("gamma", REAL, 0.1, "factor per milestone", domain=POSITIVE),
        Param("start", VALUE, BASE, "value before the first milestone"),
        steps_param(),
    ),
    "decay by gamma at each listed step",
    """start * gamma^(number of milestones <= t).

    >>> lrdsl.compile("multistep([3, 5], gamma=0.5)")(5)
    0.25
    """,
    matches="torch MultiStepLR(milestones, gamma)",
    opcode=6,
    formula=multistep_formula,
    prepare=_same,
    length=_steps,
    end="stair",
)


def exp_formula(xp, t, p):  # type: ignore[no-untyped-def]
    if p.staircase:
        return p.start * xp.power(p.gamma, xp.f(xp.floordiv(t, p.every)))
    return p.start * xp.power(p.gamma, xp.f(t) / p.every)


EXP = Primitive(
    "exp",
    (
        Param("gamma", REAL, doc="factor per `every` steps", domain=POSITIVE),
        Param("every", LENGTH, 1, "steps per factor of gamma"),
        Param("staircase", BOOL, False, "decay in whole steps of `every`"),
        Param("start", VALUE, BASE, "value at step 0"),
        steps_param(),
    ),
    "exponential decay",
    """start * gamma^(t/every) (floor(t/every) with staircase=true).

    >>> lrdsl.compile("exp(0.5, every=2)")(2)
    0.5
    """,
    matches="torch ExponentialLR(gamma); Keras ExponentialDecay(decay_steps=every, decay_rate=gamma, staircase)",
    opcode=7,
    formula=exp_formula,
    prepare=_same,
    length=_steps,
    end="staircase",
)

# ---------------------------------------------------------------- poly, inverse_time, inverse_sqrt


def poly_formula(xp, t, p):  # type: ignore[no-untyped-def]
    return (p.start - p.end) * xp.power(xp.f(p.n - t) / p.n, p.power) + p.end


POLY = Primitive(
    "poly",
    (
        Param("n", LENGTH, doc="length in steps"),
        Param("power", REAL, 1.0, "exponent", domain=POSITIVE),
        Param("end", VALUE, 0.0, "value at step n and after"),
        Param("start", VALUE, BASE, "value at step 0"),
    ),
    "polynomial decay to end over n steps",
    """(start-end) * ((n-t)/n)^power + end.

    >>> lrdsl.compile("poly(10, power=2)")(5)
    0.25
    """,
    matches="torch PolynomialLR(total_iters=n, power); Keras PolynomialDecay(decay_steps=n, power, end_learning_rate=end, cycle=False)",
    opcode=8,
    formula=poly_formula,
    prepare=_same,
    length=_n,
)


def inverse_time_formula(xp, t, p):  # type: ignore[no-untyped-def]
    if p.staircase:
        x = xp.f(xp.floordiv(t, p.every))
    else:
        x = xp.f(t) / p.every
    return p.start / (1.0 + p.rate * x)


INVERSE_TIME = Primitive(
    "inverse_time",
    (
        Param("every", LENGTH, doc="steps per unit of decay"),
        Param("rate", REAL, doc="decay rate", domain=NONNEGATIVE),
        Param("staircase", BOOL, False, "decay in whole steps of `every`"),
        Param("start", VALUE, BASE, "value at step 0"),
        steps_param(),
    ),
    "inverse-time decay",
    """start / (1 + rate * t/every) (floor(t/every) with staircase=true).

    >>> lrdsl.compile("inverse_time(10, 1)")(10)
    0.5
    """,
    matches="Keras InverseTimeDecay(decay_steps=every, decay_rate=rate, staircase)",
    opcode=9,
    formula=inverse_time_formula,
    prepare=_same,
    length=_steps,
    end="staircase",
)


def inverse_sqrt_prepare(a: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(a)
    if out["timescale"] is None:
        out["timescale"] = a["warmup"] or 10_000
    return out


def inverse_sqrt_formula(xp, t, p):  # type: ignore[no-untyped-def]
    w = p.warmup
    decay = p.start / xp.sqrt(xp.f(xp.maximum(t, w) - w + p.timescale) / p.timescale)
    if not w:
        return decay
    return xp.where(t < w, p.start * xp.f(t) / w, decay)


INVERSE_SQRT = Primitive(
    "inverse_sqrt",
    (
        Param("timescale", LENGTH, None, "the decay's time scale", shown="warmup or 10000"),
        Param("warmup", POSITION, 0, "linear warm-up steps from 0, built in as HuggingFace does"),
        Param("start", VALUE, BASE, "value when the decay begins"),
        steps_param(),
    ),
    "inverse square-root decay (Transformer)",
    """start * t/warmup for t < warmup, then start / sqrt((t - warmup + timescale)/timescale).

    >>> lrdsl.compile("inverse_sqrt(100)")(300)
    0.5
    """,
    matches="HuggingFace get_inverse_sqrt_schedule(num_warmup_steps=warmup, timescale)",
    opcode=10,
    formula=inverse_sqrt_formula,
    prepare=inverse_sqrt_prepare,
    length=_steps,
)


def noam_prepare(a: Mapping[str, Any]) -> dict[str, Any]:
    w = a["warmup"]
    if a["d_model"] is None:
        scale = a["peak"] * math.sqrt(w)
    else:
        scale = a["factor"] / math.sqrt(a["d_model"])
    return {"warmup": w, "scale": scale, "steps": a["steps"]}


def noam_formula(xp, t, p):  # type: ignore[no-untyped-def]
    s = xp.f(xp.maximum(t, 1))
    return p.scale * xp.minimum(1.0 / xp.sqrt(s), s * (p.warmup**-1.5))


NOAM = Primitive(
    "noam",
    (
        Param("warmup", LENGTH, doc="warm-up steps"),
        Param("d_model", REAL, None, "model width; sets the scale as in the paper", domain=POSITIVE),
        Param("factor", REAL, 1.0, "multiplier with d_model", domain=POSITIVE),
        Param("peak", VALUE, BASE, "value reached at step `warmup` (without d_model)"),
        steps_param(),
    ),
    "the Transformer paper's schedule",
    """scale * min(s^-0.5, s * warmup^-1.5) with s = max(t, 1); scale is
    factor/sqrt(d_model), or chosen so the peak at s = warmup is `peak`.

    >>> lrdsl.compile("noam(4)")(16)
    0.5
    """,
    matches="Attention Is All You Need (Noam) as in the Annotated Transformer (step 0 counts as 1)",
    opcode=11,
    formula=noam_formula,
    prepare=noam_prepare,
    length=_steps,
)

# ---------------------------------------------------------------- piecewise


def piecewise_prepare(a: Mapping[str, Any]) -> dict[str, Any]:
    if len(a["values"]) != len(a["boundaries"]) + 1:
        nb = len(a["boundaries"])
        raise ParamError(
            "values",
            f"piecewise needs one more value than boundaries: {nb} boundar{'y takes' if nb == 1 else 'ies take'}"
            f" {nb + 1} values, got {len(a['values'])}",
        )
    return dict(a)


def piecewise_formula(xp, t, p):  # type: ignore[no-untyped-def]
    return xp.take(p["values"], xp.searchsorted(p.boundaries, t, "left"))


PIECEWISE = Primitive(
    "piecewise",
    (
        Param("boundaries", POSITIONS, doc="increasing steps"),
        Param("values", VALUES, doc="len(boundaries)+1 learning rates"),
        steps_param(),
    ),
    "piecewise constant",
    """values[0] for t <= boundaries[0], values[i] for boundaries[i-1] < t <= boundaries[i],
    values[-1] after the last boundary.

    >>> s = lrdsl.compile("piecewise([10, 20], [1, 0.5, 0.1])")
    >>> s(10), s(11), s(21)
    (1.0, 0.5, 0.1)
    """,
    matches="Keras PiecewiseConstantDecay(boundaries, values)",
    opcode=12,
    formula=piecewise_formula,
    prepare=piecewise_prepare,
    length=_steps,
    end="stair",
)

ALL = (CONST, HOLD, LINEAR, WARMUP, COSINE, STEP, MULTISTEP, EXP, POLY, INVERSE_TIME, INVERSE_SQRT, NOAM, PIECEWISE)

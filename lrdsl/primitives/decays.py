"""Registry stage: the decaying primitives (staircases, exponential,
polynomial, inverse-time and Transformer decays, piecewise constants).

Formulas are written once against the array namespace ``xp``; integer parts
(stairs, milestones) stay integers, so they are exact for any step.  Each
primitive also declares its kernel slots (``slots``) and their check
(``check``); its C functions are ``lrp_<name>_scalar``/``_range`` in
``ext/lrdsl_prims.c``.
"""

from __future__ import annotations

import math

from .base import (
    BASE,
    BOOL,
    LENGTH,
    NONNEGATIVE,
    POSITION,
    POSITIONS,
    POSITIVE,
    REAL,
    VALUE,
    VALUES,
    Param,
    ParamError,
    Primitive,
)
from .common import _n, _same, _steps, steps_param
from .kernel import LIMIT, fixed, steps_table, table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


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
    slots=lambda p: ([p["start"], p["gamma"]], [p["every"]]),
    check=fixed(2, 1, (0, 1, LIMIT)),
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
    slots=lambda p: ([p["start"], p["gamma"]], list(p["milestones"])),
    check=lambda f, ip: len(f) == 2 and steps_table(ip),
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
    slots=lambda p: ([p["start"], p["gamma"]], [p["every"], int(p["staircase"])]),
    check=fixed(2, 2, (0, 1, LIMIT), (1, 0, 1)),
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
    slots=lambda p: ([p["start"], p["end"], p["power"]], [p["n"]]),
    check=fixed(3, 1, (0, 1, LIMIT)),
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
    slots=lambda p: ([p["start"], p["rate"]], [p["every"], int(p["staircase"])]),
    check=fixed(2, 2, (0, 1, LIMIT), (1, 0, 1)),
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
    slots=lambda p: ([p["start"]], [p["warmup"], p["timescale"]]),
    check=fixed(1, 2, (0, 0, LIMIT), (1, 1, LIMIT)),
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
    slots=lambda p: ([p["scale"]], [p["warmup"]]),
    check=fixed(1, 1, (0, 1, LIMIT)),
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
    slots=lambda p: (list(p["values"]), list(p["boundaries"])),
    check=table(1),
    formula=piecewise_formula,
    prepare=piecewise_prepare,
    length=_steps,
    end="stair",
)


ALL = (STEP, MULTISTEP, EXP, POLY, INVERSE_TIME, INVERSE_SQRT, NOAM, PIECEWISE)

"""Registry stage: the cyclic primitives (cyclical LR, 1cycle).

Formulas are written once against the array namespace ``xp``; cycle indices
and phase starts stay integers.  Each primitive declares its kernel slots and
their check; its C functions are in ``ext/lrdsl_prims.c``.
"""

from __future__ import annotations

import math

from .base import (
    BASE,
    BOOL,
    ENUM,
    INT,
    LENGTH,
    POSITIVE,
    REAL,
    VALUE,
    Domain,
    P,
    Param,
    ParamError,
    Primitive,
)
from .common import HALF_PI, raised_cosine, steps_param
from .kernel import LIMIT, fixed, steps_table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

# ---------------------------------------------------------------- cyclic

#: The kernel's codes for cyclic modes.
MODES = {"triangular": 0, "triangular2": 1, "exp_range": 2}


def cyclic_length(a: Mapping[str, Any]) -> int | None:
    if a["steps"] is not None:
        if a["cycles"] is not None:
            raise ParamError("steps", "give steps= or cycles=, not both", code="E0307")
        return a["steps"]
    if a["cycles"] is None:
        return None
    down = a["down"] if a["down"] is not None else a["step_size"]
    return a["cycles"] * (a["step_size"] + down)


def cyclic_prepare(a: Mapping[str, Any]) -> dict[str, Any]:
    up = a["step_size"]
    down = a["down"] if a["down"] is not None else up
    return {
        "up": up,
        "down": down,
        "low": a["low"],
        "high": a["high"],
        "mode": a["mode"],
        "gamma": a["gamma"],
    }


def cyclic_formula(xp, t, p):  # type: ignore[no-untyped-def]
    total = p.up + p.down
    c = xp.floordiv(t, total)
    r = t - c * total
    sf = xp.where(r <= p.up, xp.f(r) / p.up, xp.f(total - r) / p.down)
    height = (p.high - p.low) * sf
    if p.mode == "triangular2":
        height = height * xp.power(0.5, xp.f(c))
    elif p.mode == "exp_range":
        height = height * xp.power(p.gamma, xp.f(t))
    return p.low + height


CYCLIC = Primitive(
    "cyclic",
    (
        Param("step_size", LENGTH, doc="steps from low to high"),
        Param("low", VALUE, doc="the value each cycle starts at (start= too)"),
        Param("high", VALUE, BASE, "the value at each cycle's turn (peak= too)"),
        Param("mode", ENUM, "triangular", "amplitude policy", choices=("triangular", "triangular2", "exp_range")),
        Param("gamma", REAL, 1.0, "exp_range: amplitude factor per step", domain=POSITIVE),
        Param("down", LENGTH, None, "steps from high back to low", positional=False, shown="step_size"),
        Param("cycles", INT, None, "number of cycles (default: unbounded)", domain=Domain(1, None), positional=False),
        steps_param(),
    ),
    "cyclical learning rate (triangular, triangular2, exp_range)",
    """a triangle between low and high; triangular2 halves the amplitude each
    cycle, exp_range scales it by gamma^t.  high may be below low: the
    momentum mirror of torch's cycle_momentum is cyclic(n, start=0.95, peak=0.85)
    (start= and peak= are other names for low= and high=).

    >>> s = lrdsl.compile("cyclic(4, low=0.2, high=1)")
    >>> [round(s(t), 12) for t in (0, 2, 4, 6, 8)]
    [0.2, 0.6, 1.0, 0.6, 0.2]
    """,
    matches="torch CyclicLR(base_lr=low, max_lr=high, step_size_up, step_size_down, mode, gamma); the CLR paper",
    opcode=14,
    slots=lambda p: ([p["low"], p["high"], p["gamma"]], [p["up"], p["down"], MODES[p["mode"]]]),
    check=fixed(3, 3, (0, 1, LIMIT), (1, 1, LIMIT), (2, 0, 2)),
    formula=cyclic_formula,
    prepare=cyclic_prepare,
    length=cyclic_length,
    bounds=("steps", "cycles"),
    aliases=(("start", "low"), ("peak", "high")),
)

# ---------------------------------------------------------------- one_cycle


def one_cycle_prepare(a: Mapping[str, Any]) -> dict[str, Any]:
    n = a["n"]
    pct = a["pct_start"]
    top = a["max"]
    initial = _given_or(a, "start", "div", lambda div: top / div, 25.0)
    low = _given_or(a, "end", "final_div", lambda final_div: initial / final_div, 1e4)
    ends: tuple[float, ...]
    lrs: tuple[tuple[float, float], ...]
    if a["three_phase"]:  # the phase ends exactly as torch's OneCycleLR computes them
        ends = (float(pct * n) - 1, float(2 * pct * n) - 2, n - 1)
        lrs = ((initial, top), (top, initial), (initial, low))
    else:
        ends = (float(pct * n) - 1, n - 1)
        lrs = ((initial, top), (top, low))
    # whole steps where each phase begins: phase k holds steps t <= ends[k]
    firsts = [0] + [max(0, math.floor(e) + 1) for e in ends[:-1]]
    for k, e in enumerate(ends):
        s0 = 0.0 if k == 0 else ends[k - 1]
        stop = n if k == len(ends) - 1 else firsts[k + 1]
        if e == s0 and firsts[k] < min(stop, n):
            raise ParamError(
                "pct_start",
                f"pct_start={pct} with n={n} gives a phase of zero length, where torch's"
                " OneCycleLR divides by zero; change pct_start or n",
            )
    return {
        "ends": ends,
        "lrs": lrs,
        "firsts": tuple(firsts),
        "cos": a["anneal"] == "cos",
        "n": n,
    }


def _given_or(a: Mapping[str, Any], value: str, ratio: str, derive: Any, default: float) -> float:
    """``a[value]`` when given, else derived from the ratio (its default when not given)."""
    if a[value] is not None:
        if a[ratio] is not None:
            raise ParamError(value, f"give {value}= or {ratio}=, not both", code="E0307")
        return float(a[value])
    return float(derive(default if a[ratio] is None else a[ratio]))


def one_cycle_formula(xp, t, p):  # type: ignore[no-untyped-def]
    fns = []
    for k, (e, (a, b)) in enumerate(zip(p.ends, p.lrs)):
        s0 = 0.0 if k == 0 else p.ends[k - 1]
        first = p.firsts[k]
        fns.append(_phase(xp, first, s0, e, a, b, p.cos))
    return xp.piecewise(t, p.firsts, fns)


def _phase(xp, first, s0, e, a, b, cos):  # type: ignore[no-untyped-def]
    def phase(local):  # type: ignore[no-untyped-def]
        step = xp.f(local + first)
        pct = (step - s0) / (e - s0)
        if cos:  # torch: b + (a - b)/2 * (cos(pi*pct) + 1)
            h = raised_cosine(xp, math.pi * pct, (e - step) / (e - s0) * HALF_PI, pct <= 0.5)
            return b + (a - b) * h
        # torch's (b - a) * pct + a as a weighted mean: no cancellation near 0
        return (a * (e - step) + b * (step - s0)) / (e - s0)

    return phase


ONE_CYCLE = Primitive(
    "one_cycle",
    (
        Param("n", LENGTH, doc="total steps"),
        Param("max", VALUE, BASE, "the value the first phase rises to (peak= too)"),
        Param("pct_start", REAL, 0.3, "fraction of n spent rising", domain=Domain(0, 1, lo_open=True, hi_open=True)),
        Param("div", REAL, None, "initial value = max/div", domain=POSITIVE, shown="25"),
        Param("final_div", REAL, None, "final value = initial/final_div", domain=POSITIVE, shown="1e4"),
        Param("anneal", ENUM, "cos", "annealing shape", choices=("cos", "linear")),
        Param("three_phase", BOOL, False, "rise, fall back to initial, then anneal to final"),
        Param("start", VALUE, None, "initial value (instead of div)", positional=False, shown="max/div"),
        Param("end", VALUE, None, "final value (instead of final_div)", positional=False, shown="start/final_div"),
    ),
    "the 1cycle policy",
    """max/div rising to max over pct_start*n steps, then annealing to
    max/div/final_div at step n-1 (cosine or linear), as torch computes it.
    start=, peak= (another name for max) and end= give the three values
    directly, in any order: the momentum mirror of torch's cycle_momentum is
    one_cycle(n, start=0.95, peak=0.85, end=0.95).

    >>> s = lrdsl.compile("one_cycle(10, max=1, div=10, pct_start=0.5, anneal=linear)")
    >>> s(0), s(4)
    (0.1, 1.0)
    """,
    matches="torch OneCycleLR(max_lr=max, total_steps=n, pct_start, anneal_strategy, div_factor, final_div_factor, three_phase)",
    opcode=15,
    slots=lambda p: one_cycle_slots(p),
    check=lambda f, ip: one_cycle_check(f, ip),
    formula=one_cycle_formula,
    prepare=one_cycle_prepare,
    length=lambda a: a["n"],
    end="stair",
    aliases=(("peak", "max"),),
)


def one_cycle_slots(p: P) -> tuple[list[float], list[int]]:
    phases = [x for e, (a, b) in zip(p["ends"], p["lrs"]) for x in (e, a, b)]
    return phases, [len(p["ends"]), int(p["cos"]), *p["firsts"]]


def one_cycle_check(f: Sequence[float], ip: Sequence[int]) -> bool:
    if len(ip) < 3 or not (ip[0] >= 1 and len(ip) == 2 + ip[0] and len(f) == 3 * ip[0] and ip[1] in (0, 1)):
        return False
    firsts = ip[2:]
    return firsts[0] == 0 and steps_table(firsts) and all(math.isfinite(x) for x in f[0::3])


ALL = (CYCLIC, ONE_CYCLE)

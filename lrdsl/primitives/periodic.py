"""Registry stage: the cyclic primitives (SGDR restarts, cyclical LR, 1cycle).

Restart cycles are counted with integers, never ``floor(log(...))``: the cycle
start steps are tabulated at compile time with exact rational arithmetic on the
float64 ``t_mul`` (the same number Keras multiplies by: ``1.1`` is the double
1.1000000000000000888), and the formula looks the step up in that table.  Keras's log form puts some boundary steps in the wrong cycle
(``first_decay_steps=11, t_mul=3`` at step 1331); this one cannot.
"""

from __future__ import annotations

import math
from fractions import Fraction

from ..backends.ops import ScalarOps
from ..domain import STEP_LIMIT
from .base import (
    BASE,
    BOOL,
    ENUM,
    INT,
    LENGTH,
    POSITIVE,
    REAL,
    UNIT,
    VALUE,
    Domain,
    P,
    Param,
    ParamError,
    Primitive,
)
from .decays import HALF_PI, raised_cosine, steps_param

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

#: Cycles tabulated with exact rational boundaries (a whole ``t_mul`` is
#: tabulated exactly up to the step limit: at most 54 cycles).  Past them a
#: boundary's denominator outgrows any length, and the closed form below takes
#: over, so compile time and memory do not grow with the number of cycles.
EXACT_CYCLES = 96


def decimal_fraction(x: float) -> Fraction:
    """The decimal a user wrote: 1.1 is 11/10, not the binary double nearest it
    (for lengths: ``0.15%`` of 1000 steps is exactly 1.5 steps)."""
    return Fraction(repr(float(x))) if not float(x).is_integer() else Fraction(int(x))


def restart_table(n: int, t_mul: float, cycles: int | None) -> tuple[list[int], list[float], list[float], Any]:
    """The exact part of an SGDR cycle table and the closed-form tail after it.

    Cycles ``0 .. K-1`` are tabulated: ``S`` their first whole steps (``K + 1``
    entries: ``S[K]`` is where the tail or the next cycle begins), ``B`` their
    real starts (``K + 1`` entries) and ``L`` their real lengths, all from
    exact rationals of the float64 ``t_mul``.  ``tail`` is ``None`` when the
    table covers every cycle below the step limit, else ``(BK, LK, jmax)``:
    tail cycle ``j`` (cycle ``K + j``) starts at :func:`tail_start`, and
    ``jmax`` is the last tail cycle (``None``: unbounded)."""
    q = Fraction(t_mul)  # exactly the float64 the frameworks use
    whole = q.denominator == 1
    S: list[int] = []
    B: list[float] = []
    L: list[float] = []
    b = Fraction(0)
    length = Fraction(n)
    while (cycles is None or len(S) < cycles) and b < STEP_LIMIT and (whole or len(S) < EXACT_CYCLES):
        S.append(math.ceil(b))
        B.append(float(b))
        L.append(float(length))
        b += length
        length *= q
    S.append(math.ceil(b) if b < STEP_LIMIT else STEP_LIMIT)
    B.append(float(b))
    tail = None
    if (cycles is None or cycles > len(L)) and b < STEP_LIMIT:
        tail = (float(b), float(length), None if cycles is None else cycles - len(L) - 1)
    return S, B, L, tail


def _pow(x: float, y: float) -> float:
    try:
        return math.pow(x, y)
    except OverflowError:
        return math.inf


def tail_start(bk: float, lk: float, q: float, j: int) -> float:
    """Where tail cycle ``j`` starts: ``BK + LK * (q**j - 1) / (q - 1)`` in
    float64 (the C kernel computes it with the same operations)."""
    return bk + lk * ((_pow(q, float(j)) - 1.0) / (q - 1.0))


def tail_cycle(bk: float, lk: float, q: float, jmax: int | None, t: int) -> int:
    """The tail cycle holding step ``t >= BK``: the last ``j`` whose start is
    ``<= t``.  A float64 log estimate, then an exact correction against
    :func:`tail_start` (mirrored by ``restart_cycle`` in the C kernel)."""
    top = (1 << 62) if jmax is None else jmax
    x = (t - bk) * (q - 1.0) / lk
    if x <= -1.0:  # t_mul < 1: past the sum of all cycles
        j = top
    else:
        e = math.log1p(x) / math.log(q)
        j = 0 if not e > 0 else top if e >= top else int(e)
    for _ in range(64):
        if j > 0 and tail_start(bk, lk, q, j) > t:
            j -= 1
        elif j < top and tail_start(bk, lk, q, j + 1) <= t:
            j += 1
        else:
            return j
    lo, hi = 0, top  # the estimate was far off: bisect (start(lo) <= t)
    while lo < hi:
        mid = hi - (hi - lo) // 2
        if tail_start(bk, lk, q, mid) <= t:
            lo = mid
        else:
            hi = mid - 1
    return lo


def restarts_length(a: Mapping[str, Any]) -> int | None:
    if a["steps"] is not None:
        if a["cycles"] is not None:
            raise ParamError("steps", "give steps= or cycles=, not both", code="E0307")
        return a["steps"]
    if a["cycles"] is None:
        return None
    S, B, L, tail = restart_table(a["n"], a["t_mul"], a["cycles"])
    if tail is None:
        end = B[-1] if len(L) == a["cycles"] else math.inf
    else:  # the end of the last cycle: the start of the one after it
        end = tail_start(tail[0], tail[1], float(a["t_mul"]), tail[2] + 1)
    if not end < STEP_LIMIT:
        return STEP_LIMIT  # ends past the step domain: never, for any step lrdsl evaluates
    return math.ceil(end) if len(L) < a["cycles"] else S[-1]


def restarts_prepare(a: Mapping[str, Any]) -> dict[str, Any]:
    peak = a["peak"]
    lo = a["min"]
    if a["alpha"] is not None:
        if lo is not None:
            raise ParamError("alpha", "give min= or alpha=, not both", code="E0307")
        lo = a["alpha"] * peak
    elif lo is None:
        lo = 0.0
    t_mul = a["t_mul"]
    if t_mul < 1 and a["cycles"] is None:
        raise ParamError(
            "t_mul",
            f"t_mul={t_mul} shrinks each cycle, so the cycles run out after a finite number of"
            " steps; give cycles= to say how many",
        )
    out = {"n": a["n"], "peak": peak, "min": lo, "m_mul": a["m_mul"], "t_mul": t_mul}
    if t_mul != 1:
        S, B, L, tail = restart_table(a["n"], t_mul, a["cycles"])
        out.update(starts=tuple(S), real_starts=tuple(B), lengths=tuple(L), tail=tail)
    return out


def restart_cycles(xp, t, p):  # type: ignore[no-untyped-def]
    """``(i, start, stop, length)``: the cycle of each step and its real bounds."""
    if p.t_mul == 1:  # cycle i covers [i*n, (i+1)*n)
        i = xp.floordiv(t, p.n)
        start = xp.f(i * p.n)
        return i, start, start + p.n, float(p.n)
    k = len(p.lengths)
    i = xp.searchsorted(p.starts[:k], t, "right") - 1
    start = xp.take(p.real_starts, i)
    stop = xp.take(p.real_starts, i + 1)
    length = xp.take(p.lengths, i)
    if p.tail is None:
        return i, start, stop, length
    bk, lk, jmax = p.tail
    q = float(p.t_mul)
    tail = t >= p.starts[k]
    j = xp.restart_tail(xp.maximum(t, p.starts[k]), bk, lk, q, jmax)
    lo = bk + lk * ((xp.power(q, xp.f(j)) - 1.0) / (q - 1.0))
    hi = bk + lk * ((xp.power(q, xp.f(j + 1)) - 1.0) / (q - 1.0))
    return (
        xp.where(tail, j + k, i),
        xp.where(tail, lo, start),
        xp.where(tail, hi, stop),
        xp.where(tail, hi - lo, length),
    )


def restarts_formula(xp, t, p):  # type: ignore[no-untyped-def]
    i, start, stop, length = restart_cycles(xp, t, p)
    frac = (xp.f(t) - start) / length
    h = raised_cosine(xp, math.pi * frac, (stop - xp.f(t)) / length * HALF_PI, frac <= 0.5)
    return p.min + (p.peak - p.min) * (xp.power(p.m_mul, xp.f(i)) * h)


def restarts_end(p: P, length: int) -> float:
    """The left limit at ``length``: a cycle that ends there (or, for
    ``cycles=`` with a fractional end, the last cycle, which ends in the step
    before) ends at min; a cycle cut by ``steps=`` holds its value there."""
    if length >= STEP_LIMIT:
        return float(restarts_formula(_SCALAR, STEP_LIMIT - 1, p))
    _i, _start, stop, _length = restart_cycles(_SCALAR, length - 1, p)
    if stop <= length:  # the last cycle ends there (or, shrinking, just before)
        return float(p.min)
    return float(restarts_formula(_SCALAR, length, p))


COSINE_RESTARTS = Primitive(
    "cosine_restarts",
    (
        Param("n", LENGTH, doc="length of the first cycle"),
        Param("t_mul", REAL, 2.0, "each cycle is t_mul times longer", domain=POSITIVE),
        Param("m_mul", REAL, 1.0, "each cycle's peak is m_mul times the last", domain=Domain(0, None)),
        Param("alpha", REAL, None, "min as a fraction of peak", domain=UNIT),
        Param("min", VALUE, None, "value at the end of every cycle", positional=False, shown="0"),
        Param("peak", VALUE, BASE, "value at step 0", positional=False),
        Param("cycles", INT, None, "number of cycles (default: unbounded)", domain=Domain(1, None), positional=False),
        steps_param(),
    ),
    "cosine annealing with warm restarts (SGDR)",
    """in cycle i (lengths n, n*t_mul, n*t_mul^2, ...), at fraction x through it:
    min + (peak-min) * m_mul^i * (1 + cos(pi*x))/2.

    >>> s = lrdsl.compile("cosine_restarts(10, t_mul=2)")
    >>> [round(s(t), 12) for t in (0, 5, 10, 20)]
    [1.0, 0.5, 1.0, 0.5]
    """,
    matches="Keras CosineDecayRestarts(first_decay_steps=n, t_mul, m_mul, alpha); torch CosineAnnealingWarmRestarts(T_0=n, T_mult, eta_min) for m_mul=1 and whole t_mul",
    opcode=13,
    formula=restarts_formula,
    prepare=restarts_prepare,
    length=restarts_length,
    end_fn=restarts_end,
    bounds=("steps", "cycles"),
)

# ---------------------------------------------------------------- cyclic


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
        Param("low", VALUE, doc="bottom of the cycle"),
        Param("high", VALUE, BASE, "top of the cycle"),
        Param("mode", ENUM, "triangular", "amplitude policy", choices=("triangular", "triangular2", "exp_range")),
        Param("gamma", REAL, 1.0, "exp_range: amplitude factor per step", domain=POSITIVE),
        Param("down", LENGTH, None, "steps from high back to low", positional=False, shown="step_size"),
        Param("cycles", INT, None, "number of cycles (default: unbounded)", domain=Domain(1, None), positional=False),
        steps_param(),
    ),
    "cyclical learning rate (triangular, triangular2, exp_range)",
    """a triangle between low and high; triangular2 halves the amplitude each
    cycle, exp_range scales it by gamma^t.

    >>> s = lrdsl.compile("cyclic(4, low=0.2, high=1)")
    >>> [round(s(t), 12) for t in (0, 2, 4, 6, 8)]
    [0.2, 0.6, 1.0, 0.6, 0.2]
    """,
    matches="torch CyclicLR(base_lr=low, max_lr=high, step_size_up, step_size_down, mode, gamma); the CLR paper",
    opcode=14,
    formula=cyclic_formula,
    prepare=cyclic_prepare,
    length=cyclic_length,
    bounds=("steps", "cycles"),
)

# ---------------------------------------------------------------- one_cycle


def one_cycle_prepare(a: Mapping[str, Any]) -> dict[str, Any]:
    n = a["n"]
    pct = a["pct_start"]
    top = a["max"]
    initial = top / a["div"]
    low = initial / a["final_div"]
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
        Param("max", VALUE, BASE, "peak learning rate"),
        Param("pct_start", REAL, 0.3, "fraction of n spent rising", domain=Domain(0, 1, lo_open=True, hi_open=True)),
        Param("div", REAL, 25.0, "initial lr = max/div", domain=POSITIVE),
        Param("final_div", REAL, 1e4, "final lr = initial/final_div", domain=POSITIVE),
        Param("anneal", ENUM, "cos", "annealing shape", choices=("cos", "linear")),
        Param("three_phase", BOOL, False, "rise, fall back to initial, then anneal to final"),
    ),
    "the 1cycle policy",
    """max/div rising to max over pct_start*n steps, then annealing to
    max/div/final_div at step n-1 (cosine or linear), as torch computes it.

    >>> s = lrdsl.compile("one_cycle(10, max=1, div=10, pct_start=0.5, anneal=linear)")
    >>> s(0), s(4)
    (0.1, 1.0)
    """,
    matches="torch OneCycleLR(max_lr=max, total_steps=n, pct_start, anneal_strategy, div_factor, final_div_factor, three_phase)",
    opcode=15,
    formula=one_cycle_formula,
    prepare=one_cycle_prepare,
    length=lambda a: a["n"],
    end="stair",
)

ALL = (COSINE_RESTARTS, CYCLIC, ONE_CYCLE)

_SCALAR = ScalarOps()

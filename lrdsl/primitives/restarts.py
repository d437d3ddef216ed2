"""Registry stage: cosine annealing with warm restarts (SGDR).

Restart cycles are counted with integers, never ``floor(log(...))``: the cycle
start steps are tabulated at compile time with exact rational arithmetic on the
float64 ``t_mul`` (the same number Keras multiplies by: ``1.1`` is the double
1.1000000000000000888), and the formula looks the step up in that table.
Keras's log form puts some boundary steps in the wrong cycle
(``first_decay_steps=11, t_mul=3`` at step 1331); this one cannot.  Past the
table (96 cycles, or every cycle below the step limit for a whole ``t_mul``) a
closed form takes over: :func:`tail_start` and :func:`tail_cycle`, mirrored
operation for operation by ``restart_cycle`` in ``ext/lrdsl_prims.c``.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

from ..backends.ops import ScalarOps
from ..language.domain import STEP_LIMIT
from .base import (
    BASE,
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
from .common import HALF_PI, raised_cosine, steps_param
from .kernel import LIMIT, steps_table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
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
    S, B, L, tail = _restart_table(n, float(t_mul), cycles)
    return list(S), list(B), list(L), tail


@functools.lru_cache(maxsize=256)
def _restart_table(
    n: int, t_mul: float, cycles: int | None
) -> tuple[tuple[int, ...], tuple[float, ...], tuple[float, ...], Any]:
    # Exact rationals over a common denominator den**k (t_mul = num/den with den a
    # power of two): big-integer sums and products, no gcd per step as Fraction does.
    q = Fraction(t_mul)  # exactly the float64 the frameworks use
    num, den = q.numerator, q.denominator
    whole = den == 1
    S: list[int] = []
    B: list[float] = []
    L: list[float] = []
    bn, ln, d = 0, n, 1  # b = bn/d, length = ln/d
    while (cycles is None or len(S) < cycles) and bn < STEP_LIMIT * d and (whole or len(S) < EXACT_CYCLES):
        S.append(-(-bn // d))
        B.append(bn / d)
        L.append(ln / d)
        bn = (bn + ln) * den
        ln *= num
        d *= den
    below = bn < STEP_LIMIT * d
    S.append(-(-bn // d) if below else STEP_LIMIT)
    B.append(bn / d)
    tail = None
    if (cycles is None or cycles > len(L)) and below:
        tail = (bn / d, ln / d, None if cycles is None else cycles - len(L) - 1)
    return tuple(S), tuple(B), tuple(L), tail


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
    if a["t_mul"] == 1:  # equal cycles: no table (one entry per cycle would be a memory bomb)
        return min(a["n"] * a["cycles"], STEP_LIMIT)
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
    slots=lambda p: restarts_slots(p),
    check=lambda f, ip: restarts_check(f, ip),
    formula=restarts_formula,
    prepare=restarts_prepare,
    length=restarts_length,
    end_fn=restarts_end,
    bounds=("steps", "cycles"),
)


# ---------------------------------------------------------------- kernel slots


def restarts_slots(p: P) -> tuple[list[float], list[int]]:
    """ip: n, K, has tail, last tail cycle (-1: unbounded), S[0..K];
    f: peak, min, m_mul, tail BK, tail LK, t_mul, B[0..K], L[0..K-1], m_mul**i for i < K."""
    m = p["m_mul"]
    if p["t_mul"] == 1:
        return [p["peak"], p["min"], m, 0.0, 0.0, 1.0], [p["n"], 0, 0, -1]
    k = len(p["lengths"])
    powers = [m ** float(i) for i in range(k)]  # libm pow, as the formula's power(m, i)
    tail = p["tail"]
    bk, lk, jmax = tail if tail is not None else (0.0, 0.0, None)
    fs = [p["peak"], p["min"], m, bk, lk, float(p["t_mul"]), *p["real_starts"], *p["lengths"], *powers]
    last = -1 if jmax is None else min(jmax, LIMIT)
    return fs, [p["n"], k, int(tail is not None), last, *p["starts"]]


def restarts_check(f: Sequence[float], ip: Sequence[int]) -> bool:
    if len(ip) < 4 or len(f) < 6:
        return False
    n, k, tail, last = ip[0], ip[1], ip[2], ip[3]
    if not (1 <= n <= LIMIT and tail in (0, 1) and -1 <= last <= LIMIT and k >= 0):
        return False
    if k == 0:
        return len(ip) == 4 and len(f) == 6 and tail == 0
    if len(ip) != 4 + k + 1 or len(f) != 6 + (k + 1) + 2 * k:
        return False
    starts, reals, q = ip[4:], f[6 : 6 + k + 1], f[5]
    if starts[0] != 0 or not steps_table(starts) or not (math.isfinite(q) and q > 0 and q != 1):
        return False
    if not all(math.isfinite(x) and x >= 0 for x in reals) or list(reals) != sorted(reals):
        return False
    bk, lk = f[3], f[4]
    return not tail or (math.isfinite(bk) and 0 <= bk < LIMIT and math.isfinite(lk) and lk > 0 and starts[-1] < LIMIT)


ALL = (COSINE_RESTARTS,)

_SCALAR = ScalarOps()

"""Evaluation stage: the program on a tensor library for a value that is
rounded to float32 at the end (Keras's learning rate), as cheap per step as
the frameworks' own schedules.

:func:`evaluate` walks the program as :func:`lrdsl.backends.reference.evaluate`
does, over a :class:`~lrdsl.backends.tensor.TensorOps` computing in float64,
and gives the primitives the Keras built-ins cover leaner formulas than the
reference's.  Inside a compiled loop a transcendental function in float64
costs XLA 4-20 ns a step where the float32 one costs about 1, and the rest of
a schedule is a few ns, so these are what a step costs:

- the raised cosine (``cosine``, ``cosine_restarts``) is ``sin(rest)**2``, one
  sine where the reference takes a sine and a cosine under a ``where``, and the
  sine is taken in float32 of its float64 argument ``rest``, which lies in
  ``[0, pi/2]``: the sine cancels nothing there, so its relative error is the
  float32 sine's (1.2e-7 measured, argument rounding included), 2.4e-7 squared.
  Used only where ``min + (peak - min) * h`` cannot cancel (``min`` and
  ``peak - min`` of one sign, the usual descent); elsewhere (a rising cosine)
  the float64 formula.
- a constant's power ``gamma**(n / per)`` over whole ``n`` (``exp``,
  ``step``, ``multistep``, ``repeat``'s decay, the restarts' ``m_mul**i``) is
  one or two look-ups in tables of libm's powers (the digits of ``n``, up to
  where the power is 0 or inf in float64), within two ulps and the exponent's
  rounding (below 2e-13) of ``pow``, where a float64 ``pow`` of 0.9 costs XLA
  20 ns a step; past 2048**2 steps of table, ``exp(x * log(gamma))``.  Always
  a factor, so nothing cancels.
- a segment's local time is clamped once (a chain does not clamp a segment
  that holds its own end), so a step's graph is a few dozen scalar ops.

So a lean value is within 3e-7 relative of the float64 reference before the
final rounding to float32 (6e-8), inside the emitters' 1e-6.  Everything
discrete (segments, cycles, stairs, restart boundaries) is the reference's own
integer code, unchanged, and every other primitive is its registry formula.
"""

from __future__ import annotations

import math
from functools import partial, reduce

from ..primitives import REGISTRY
from ..primitives.common import HALF_PI
from ..primitives.restarts import restart_cycles

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..language.ir import Node
    from ..primitives.base import P
    from .tensor import TensorOps


def evaluate(xp: TensorOps, node: Node, t: Any) -> Any:
    """Values of ``node`` at local steps ``t``: the reference's walk, with the
    lean formulas for the primitives in :data:`LEAN` (``xp`` computes in float64)."""
    length = node.length
    if length is None or length > xp.top:  # unbounded, or ends past every step the type holds
        return _inner(xp, node, t)
    value = _inner(xp, node, xp.minimum(t, xp.lib.constant(length - 1, xp.idtype)))
    return xp.where(t >= length, xp.f(node.end), value)  # the end value, broadcast


def _chain(xp: TensorOps, t: Any, starts: tuple[int, ...], kids: tuple[Node, ...]) -> Any:
    """A ``seq``: :meth:`TensorOps.piecewise` without the clamp above a segment
    that ends where the next begins (its own length holds it at its end)."""
    m = xp.lib.m
    out = None
    for k, kid in enumerate(kids):
        lo = starts[k]
        if lo > xp.top:
            break  # segments past the step type's range: never reached
        hi = starts[k + 1] if k + 1 < len(starts) else None
        if hi is not None and hi <= lo:
            continue  # an empty segment
        local = t if lo == 0 else m.maximum(t - lo, xp.lib.constant(0, xp.idtype))
        bounded = kid.length is not None and hi is not None and kid.length <= hi - lo
        if hi is not None and hi <= xp.top and not bounded:
            local = m.minimum(local, xp.lib.constant(hi - lo - 1, xp.idtype))
        value = evaluate(xp, kid, local)
        out = value if out is None else m.where(t >= lo, value, out)
    return out


def _inner(xp: TensorOps, node: Node, t: Any) -> Any:
    op = node.op
    p = node.params
    if op == "seq":
        return _chain(xp, t, p["starts"], node.kids)
    if op == "repeat":
        period = p["period"]
        vals = xp.periodic(t, period, partial(evaluate, xp, node.kids[0]))
        if p["decay"] != 1:
            vals = vals * _powers(xp, p["decay"], xp.floordiv(t, period))
        return vals
    if op == "min":
        return reduce(xp.minimum, [evaluate(xp, k, t) for k in node.kids])
    if op == "max":
        return reduce(xp.maximum, [evaluate(xp, k, t) for k in node.kids])
    if op in _BINARY:
        a, b = (evaluate(xp, k, t) for k in node.kids)
        return _BINARY[op](a, b)
    lean = LEAN.get(op)
    value = None if lean is None else lean(xp, t, p)
    return REGISTRY[op].formula(xp, t, p) if value is None else value  # type: ignore[misc]


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


# ---------------------------------------------------------------- the pieces


def _sin32(xp: TensorOps, x: Any) -> Any:
    """``sin(x)`` for float64 ``x`` in ``[0, pi/2]``, taken in float32 (1.2e-7 relative)."""
    to = xp.lib.to
    return to(xp.lib.m.sin(to(x, "float32")), xp.fdtype)


def _power(xp: TensorOps, gamma: float, x: Any) -> Any:
    """``gamma**x`` for a constant ``gamma`` and float64 exponents ``x``, as a factor."""
    if not (isinstance(gamma, (int, float)) and 0 < gamma < math.inf):
        return xp.power(gamma, x)  # 0**x, and anything unusual: the reference's pow
    return xp.exp(x * math.log(gamma))


def _powers(xp: TensorOps, gamma: float, n: Any, per: int = 1, top: int | None = None) -> Any:
    """``gamma**(n / per)`` for integers ``n >= 0`` (at most ``top``), as a
    factor: looked up in tables of ``gamma``'s powers, the digits of ``n`` in
    base ``B`` (``T0[n % B] * T1[n // B]``, ``Tk[d] = gamma**(d B**k / per)``), each entry libm's
    ``pow``, so within two float64 ulps of it, where a power or an ``exp``
    would cost XLA 5-20 ns a step.  The exponents run up to where the power is
    0 or inf in float64 and stays so (n is clamped there): 1,100 steps of
    ``gamma=0.5``, a million of ``0.9993``; past ``_TABLE**2`` the lean ``exp``."""
    if not (isinstance(gamma, (int, float)) and 0 < gamma < math.inf):
        return _power(xp, gamma, xp.f(n) / per)
    if gamma == 1:
        return 1.0
    last = math.ceil(746.0 * per / abs(math.log(gamma)))  # gamma**(last/per) is 0 or inf in float64
    if top is not None:
        last = min(last, top)
    if last >= _TABLE * _TABLE:
        return _power(xp, gamma, xp.f(n) / per)
    if top is None or last < top:  # steps are >= 0, and a bounded n (a cycle, a count) needs no clamp
        n = xp.minimum(n, xp.lib.constant(last, xp.idtype))
    if last < _TABLE:
        return xp.take([_pow(gamma, d / per) for d in range(last + 1)], n)
    base = 1 << ((math.isqrt(last) + 1) - 1).bit_length()  # a power of two, base**2 > last
    # n // base as floor(n * 2**-k) in float64: exact (n < 2**22), and no integer
    # division, which XLA keeps out of the fused loop body
    high = xp.lib.to(xp.lib.m.floor(xp.f(n) * (1.0 / base)), xp.idtype)
    low = xp.take([_pow(gamma, d / per) for d in range(base)], n - high * base)
    return low * xp.take([_pow(gamma, d * base / per) for d in range(last // base + 1)], high)


#: The largest table of powers, and the base of a two-digit one.
_TABLE = 2048


def _pow(gamma: float, y: float) -> float:
    try:
        return math.pow(gamma, y)
    except OverflowError:
        return math.inf


def _one_signed(low: float, high: float) -> bool:
    """``low + (high - low) * h`` for ``h`` in ``[0, 1]`` adds two terms of one
    sign, so it keeps ``h``'s relative error (no cancellation)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return False
    return (low >= 0 and high >= low) or (low <= 0 and high <= low)


# ---------------------------------------------------------------- lean formulas (None: use the reference's)


def _cosine(xp: TensorOps, t: Any, p: P) -> Any:
    if not _one_signed(p.min, p.peak):
        return None
    s = _sin32(xp, xp.f(p.n - t) * (HALF_PI / p.n))  # (1 + cos(pi t/n))/2 = sin((n-t) pi/(2n))**2
    return p.min + (p.peak - p.min) * (s * s)


def _restarts(xp: TensorOps, t: Any, p: P) -> Any:
    if not _one_signed(p.min, p.peak):
        return None
    i, _start, stop, length = restart_cycles(xp, t, p)  # the reference's exact cycles
    s = _sin32(xp, (stop - xp.f(t)) / length * HALF_PI)
    return p.min + (p.peak - p.min) * (_cycle_decay(xp, p, i) * (s * s))


def _cycle_decay(xp: TensorOps, p: P, i: Any) -> Any:
    """``m_mul**i``: a look-up while every cycle is tabulated, else the lean power."""
    m = p.m_mul
    if m == 1:
        return 1.0
    top = len(p.lengths) - 1 if p.t_mul != 1 and p.tail is None else None  # every cycle tabulated
    return _powers(xp, m, i, top=top)


def _stairs(xp: TensorOps, t: Any, p: P) -> Any:
    return p.start * _powers(xp, p.gamma, xp.floordiv(t, p.every))


def _multistep(xp: TensorOps, t: Any, p: P) -> Any:
    k = xp.searchsorted(p.milestones, t, "right")
    return p.start * _powers(xp, p.gamma, k, top=len(p.milestones))


def _exp(xp: TensorOps, t: Any, p: P) -> Any:
    if p.staircase:
        return _stairs(xp, t, p)
    return p.start * _powers(xp, p.gamma, t, per=p.every)


#: Primitives with a lean formula; each returns None where it falls back to the reference's.
LEAN: dict[str, Callable[[TensorOps, Any, P], Any]] = {
    "cosine": _cosine,
    "cosine_restarts": _restarts,
    "exp": _exp,
    "step": _stairs,
    "multistep": _multistep,
}

__all__ = ["LEAN", "evaluate"]

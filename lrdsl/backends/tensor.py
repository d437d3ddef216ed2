"""Evaluation stage: the array namespace over tensor libraries (``keras.ops``,
``jax.numpy``), for the emitters.

:class:`TensorOps` gives the primitive formulas what :mod:`lrdsl.backends.ops`
gives them on numpy, written so a program traces into one graph: no Python
branch on values, ``piecewise`` as a chain of ``where`` over pieces that each
see their own clamped local time (no NaN or inf from a formula outside its
domain, even in an unselected branch), table look-ups by bisection.  A
:class:`Lib` adapter names the handful of calls that differ between libraries.

Computing in float32 (JAX without ``jax_enable_x64``): ``power(gamma, x)`` with
a constant ``gamma`` near 1 that float32 cannot hold is ``exp(x * log(gamma))``
with the log taken in float64, which keeps 1e-7 where ``gamma`` rounded to
float32 would lose ``x * 6e-8`` (1e-4 relative after 2,000 steps of
``exp(0.9999)``); a ``gamma`` float32 holds (0.5, 2) stays ``pow``, exact for
whole exponents and C99 at 1, inf and NaN.  Integer constants past the int32
step range (lengths, periods, segment starts) are never reached by a step and
are not converted to int32.
"""

from __future__ import annotations

import math

import numpy as np

from ..language.domain import MAX_STEP

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any


class Lib:
    """The calls :class:`TensorOps` needs, over one library's module."""

    def __init__(self, m: Any, to: Callable[[Any, str], Any], constant: Callable[[Any, str], Any]) -> None:
        self.m = m
        self.to = to  # cast a tensor
        self.constant = constant  # a Python number or numpy array as a tensor of a dtype


def keras_lib() -> Lib:
    from keras import ops

    return Lib(ops, ops.cast, lambda x, dtype: ops.convert_to_tensor(x, dtype=dtype))


def jax_lib() -> Lib:
    import jax.numpy as jnp

    return Lib(jnp, lambda x, dtype: jnp.asarray(x).astype(dtype), lambda x, dtype: jnp.asarray(x, dtype=dtype))


class TensorOps:
    """The :class:`~lrdsl.backends.namespace.ArrayNamespace` over a tensor
    library, computing in ``fdtype`` with steps of ``idtype``."""

    name = "tensor"

    def __init__(self, lib: Lib, fdtype: str, idtype: str) -> None:
        m = lib.m
        self.lib = lib
        self.fdtype = fdtype
        self.idtype = idtype
        self.sin = m.sin
        self.cos = m.cos
        self.exp = m.exp
        self.log = m.log
        self.sqrt = m.sqrt
        self.where = m.where
        self.minimum = m.minimum
        self.maximum = m.maximum
        self.top = int(np.iinfo(idtype).max)  # the largest step the step type holds

    def f(self, x: Any) -> Any:
        if isinstance(x, (int, float)):  # straight to the dtype: not through float32
            return self.lib.constant(x, self.fdtype)
        return self.lib.to(x, self.fdtype)

    def power(self, a: Any, b: Any) -> Any:
        if self.fdtype == "float32" and _drifts_in_float32(a):
            return self.lib.m.exp(self.f(b) * math.log(a))  # the log in float64
        return self.lib.m.power(self.f(a), self.f(b))

    def floordiv(self, a: Any, b: int) -> Any:
        if isinstance(b, int) and b > self.top:  # past the step type, so |a| < b: 0, or -1 below 0
            return -self.lib.to(a < 0, self.idtype)
        return self.lib.m.floor_divide(a, b)

    def full(self, t: Any, value: float) -> Any:
        m = self.lib.m
        return m.zeros_like(self.f(t)) + self.f(value)

    def searchsorted(self, table: Sequence[int], t: Any, side: str) -> Any:
        """A few entries: one comparison each, summed.  More: a binary search,
        one look-up per halving (a table of 54 restart starts is 6 look-ups,
        not a reduction over 54 comparisons per step, which costs XLA ~200 ns
        a step inside a loop)."""
        m = self.lib.m
        table = [int(v) for v in table if v <= self.top]  # entries past the step type's range: never reached
        if len(table) == 0:
            return m.zeros_like(t)

        def hit(v: Any) -> Any:
            return (v <= t) if side == "right" else (v < t)

        if len(table) <= _UNROLLED:
            out = self.lib.to(hit(table[0]), self.idtype)
            for v in table[1:]:
                out = out + self.lib.to(hit(v), self.idtype)
            return out
        size = 1 << len(table).bit_length()  # padded to size - 1 >= len(table) entries
        pad = [0, *table] + [self.top] * (size - 1 - len(table))  # pad[k] = table[k - 1]
        tab = self.lib.constant(np.asarray(pad, dtype=np.int64), self.idtype)
        pos = m.zeros_like(t)  # the entries known to hit: table[:pos]
        half = size // 2
        while half:
            nxt = pos + half
            pos = m.where(hit(m.take(tab, nxt)), nxt, pos)
            half //= 2
        if self.top > MAX_STEP:  # steps stop at MAX_STEP (guarded), below the padding
            return pos
        return m.minimum(pos, len(table))  # a step at the type's top also passes the padding

    def take(self, table: Sequence[float], i: Any) -> Any:
        return self.lib.m.take(self.lib.constant(np.asarray(table, dtype=np.float64), self.fdtype), i)

    def restart_tail(self, t: Any, bk: float, lk: float, q: float, jmax: int | None) -> Any:
        """The tail cycle of each step (see ``periodic.tail_cycle``): the log
        estimate and two correction rounds against the closed-form starts, in
        the graph's float type (float32 puts far boundaries within its rounding)."""
        m = self.lib.m
        top = min((1 << 62) if jmax is None else jmax, self.top - 1)
        tf = self.f(t)
        x = m.maximum((tf - bk) * ((q - 1.0) / lk), -1.0 + 2.0**-52)
        e = m.clip(m.floor(m.log1p(x) / math.log(q)), 0, top)
        j = self.lib.to(e, self.idtype)

        def start(j: Any) -> Any:
            return bk + lk * ((self.power(q, j) - 1.0) / (q - 1.0))

        for _ in range(2):
            j = m.where(start(j) > tf, m.maximum(j - 1, 0), j)
            j = m.where(m.logical_and(j < top, start(j + 1) <= tf), j + 1, j)
        return j

    def piecewise(self, t: Any, starts: Sequence[int], fns: Sequence[Callable[[Any], Any]]) -> Any:
        m = self.lib.m
        out = None
        for k, fn in enumerate(fns):
            lo = starts[k]
            if lo > self.top:
                break  # pieces past the step type's range: never reached
            hi = starts[k + 1] if k + 1 < len(starts) else None
            if hi is not None and hi <= lo:
                continue  # an empty piece
            if hi is not None and hi > self.top:
                hi = None  # the last piece a step reaches: no clamp (hi - lo - 1 may not fit)
            # steps are >= 0, so a piece at 0 sees them as they are; the bounds
            # are typed constants (a Python int costs Keras a cast in the graph)
            local = t if lo == 0 else m.maximum(t - lo, self.lib.constant(0, self.idtype))
            if hi is not None:
                local = m.minimum(local, self.lib.constant(hi - lo - 1, self.idtype))
            value = fn(local)
            out = value if out is None else m.where(t >= lo, value, out)
        return out

    def periodic(self, t: Any, period: int, fn: Callable[[Any], Any]) -> Any:
        if period > self.top:
            return fn(t)  # every step is in the first period
        return fn(t - self.lib.m.floor_divide(t, period) * period)


#: Tables up to this size are searched by summing comparisons, larger ones by bisection.
_UNROLLED = 4


def _drifts_in_float32(a: Any) -> bool:
    """A constant base near 1 that float32 cannot hold (0.9999, not 0.5 or 1):
    ``a**x`` with ``a`` rounded to float32 drifts by ``x`` times its rounding."""
    return isinstance(a, (int, float)) and a > 0 and abs(math.log(a)) < 1 and float(np.float32(a)) != a


if TYPE_CHECKING:  # mypy checks that it keeps the protocol
    from .namespace import ArrayNamespace

    _tensor: ArrayNamespace = TensorOps(keras_lib(), "float64", "int64")


def guarded(ops: TensorOps, root: Any, step: Any, evaluate: Callable[..., Any] | None = None) -> Any:
    """The program ``root`` at ``step`` on a tensor library, inside the step
    domain: a concrete step (a Python or numpy integer, a numpy array) outside
    ``[0, 2**53)`` is an :class:`~lrdsl.LrdslError` (E0401) here; a traced one,
    where nothing can be raised, gives NaN (never a wrapped or clamped step).
    ``evaluate(ops, root, t)`` walks the program (default: the reference
    evaluator; :func:`lrdsl.backends.lean.evaluate` for a float32 result)."""
    from ..language.domain import check_step, out_of_domain

    if evaluate is None:
        from .reference import evaluate as walk
    else:
        walk = evaluate

    if isinstance(step, (int, np.integer)):
        check_step(int(step))
    elif (
        isinstance(step, np.ndarray)
        and step.size
        and (step.dtype.kind not in "iu" or step.min() < 0 or step.max() > MAX_STEP)
    ):
        raise out_of_domain(step.min() if step.min() < 0 else step.max())
    m = ops.lib.m
    t = ops.lib.to(step, ops.idtype)
    top = min(MAX_STEP, int(np.iinfo(ops.idtype).max))
    # the program sees the steps clipped into the domain (one clip, which XLA
    # fuses with what follows where a select of 0 would not), its value is NaN there
    inside = m.clip(t, 0, top)
    value = walk(ops, root, inside)
    return m.where(inside != t, ops.f(math.nan), value)

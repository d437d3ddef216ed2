"""Evaluation stage: the array namespaces that primitive formulas are written
against.

A formula sees ``xp`` and the local integer steps ``t``; it may use the members
of :class:`~lrdsl.backends.namespace.ArrayNamespace` only: ``f`` (to float64),
``sin cos exp log sqrt power``, ``floordiv``, ``where``, ``minimum``,
``maximum``, ``full``, ``searchsorted``/``take`` (table look-ups),
``restart_tail``, ``piecewise`` (pieces starting at given steps) and
``periodic``.  :class:`NumpyOps` evaluates arrays (the reference backend),
:class:`ScalarOps` evaluates one Python int with the ``math`` module
(compile-time values and the scalar fallback, with no numpy import), and the
emitters use :class:`~lrdsl.backends.tensor.TensorOps`.  All of them keep the
protocol's contracts (``tests/test_namespace.py``): ScalarOps gives numpy's
IEEE results (NaN, ±inf) where ``math`` would raise.
"""

from __future__ import annotations

import bisect
import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any


class ScalarOps:
    """One step at a time, Python ints in and floats out."""

    name = "scalar"
    f = staticmethod(float)

    @staticmethod
    def sin(x: float) -> float:
        return math.sin(x) if math.isfinite(x) else math.nan

    @staticmethod
    def cos(x: float) -> float:
        return math.cos(x) if math.isfinite(x) else math.nan

    @staticmethod
    def exp(x: float) -> float:
        try:
            return math.exp(x)
        except OverflowError:
            return math.inf

    @staticmethod
    def log(x: float) -> float:
        if x > 0 or x != x:
            return math.log(x)
        return -math.inf if x == 0 else math.nan

    @staticmethod
    def sqrt(x: float) -> float:
        return math.sqrt(x) if x >= 0 or x != x else math.nan

    @staticmethod
    def power(a: float, b: float) -> float:
        """C99 ``pow`` as numpy's: an overflow or a pole is a signed inf, a
        negative base to a non-integer power NaN (never a complex number)."""
        a, b = float(a), float(b)
        if -math.inf < a < 0 and math.isfinite(b) and not b.is_integer():
            return math.nan
        try:
            return math.pow(a, b)
        except OverflowError:  # beyond float64: odd powers keep a negative base's sign
            return -math.inf if a < 0 and b % 2 == 1 else math.inf
        except ValueError:  # zero to a negative power: a pole, signed as the zero for odd powers
            return -math.inf if math.copysign(1.0, a) < 0 and b % 2 == 1 else math.inf

    @staticmethod
    def floordiv(a: int, b: int) -> int:
        return a // b

    @staticmethod
    def where(c: bool, a: float, b: float) -> float:
        return a if c else b

    @staticmethod
    def minimum(a: float, b: float) -> float:
        """NaN propagates from either operand, as numpy's ``minimum``."""
        return b if b != b or b < a else a

    @staticmethod
    def maximum(a: float, b: float) -> float:
        return b if b != b or b > a else a

    @staticmethod
    def full(t: int, value: float) -> float:
        return float(value)

    @staticmethod
    def searchsorted(table: Sequence[float], t: float, side: str) -> int:
        return (bisect.bisect_right if side == "right" else bisect.bisect_left)(table, t)

    @staticmethod
    def take(table: Sequence[float], i: int) -> float:
        return table[i]

    @staticmethod
    def restart_tail(t: int, bk: float, lk: float, q: float, jmax: int | None) -> int:
        from ..primitives.restarts import tail_cycle

        return tail_cycle(bk, lk, q, jmax, t)

    @staticmethod
    def piecewise(t: int, starts: Sequence[int], fns: Sequence[Callable[[int], float]]) -> float:
        k = bisect.bisect_right(starts, t) - 1
        return fns[k](t - starts[k])

    @staticmethod
    def periodic(t: int, period: int, fn: Callable[[int], float]) -> float:
        return fn(t % period)


class NumpyOps:
    """Whole arrays at once.  ``t`` arrives sorted (the reference evaluator
    sorts once), so ``piecewise`` cuts contiguous slices instead of masks."""

    name = "numpy"

    def __init__(self) -> None:
        import numpy as np

        self.np = np
        self.sin = np.sin
        self.cos = np.cos
        self.exp = np.exp
        self.log = np.log
        self.sqrt = np.sqrt
        self.floordiv = np.floor_divide
        self.where = np.where
        self.minimum = np.minimum
        self.maximum = np.maximum

    def f(self, x: Any) -> Any:
        return self.np.asarray(x, dtype=self.np.float64)

    def power(self, a: Any, b: Any) -> Any:
        """In float64 whatever the arguments (``np.power`` of integers wraps)."""
        return self.np.power(a, b, dtype=self.np.float64)

    def full(self, t: Any, value: float) -> Any:
        return self.np.full(self.np.shape(t), float(value))

    def searchsorted(self, table: Sequence[float], t: Any, side: str) -> Any:
        return self.np.searchsorted(self.np.asarray(table), t, side=side)  # type: ignore[call-overload]

    def take(self, table: Sequence[float], i: Any) -> Any:
        return self.np.asarray(table, dtype=self.np.float64)[i]

    def restart_tail(self, t: Any, bk: float, lk: float, q: float, jmax: int | None) -> Any:
        """:func:`~lrdsl.primitives.restarts.tail_cycle` over an array."""
        from ..primitives.restarts import tail_cycle

        np = self.np
        top = (1 << 62) if jmax is None else jmax
        tf = np.asarray(t, dtype=np.float64)
        x = (tf - bk) * (q - 1.0) / lk
        with np.errstate(all="ignore"):
            e = np.log1p(x) / math.log(q)
            j = np.where(x <= -1.0, top, np.where(~(e > 0), 0, np.where(e >= top, top, np.floor(e)))).astype(np.int64)

            def start(j: Any) -> Any:
                return bk + lk * ((np.power(q, j.astype(np.float64)) - 1.0) / (q - 1.0))

            for _ in range(64):
                down = (j > 0) & (start(j) > tf)
                up = ~down & (j < top) & (start(j + 1) <= tf)
                if not (down.any() or up.any()):
                    return j
                j = j - down + up
        flat = np.asarray(t).reshape(-1)
        return np.array([tail_cycle(bk, lk, q, jmax, int(v)) for v in flat], dtype=np.int64).reshape(np.shape(t))

    def periodic(self, t: Any, period: int, fn: Callable[[Any], Any]) -> Any:
        np = self.np
        local = np.asarray(t) % period
        order = np.argsort(local, kind="stable")
        out = np.empty(local.shape, dtype=np.float64)
        out[order] = fn(local[order])
        return out

    def piecewise(self, t: Any, starts: Sequence[int], fns: Sequence[Callable[[Any], Any]]) -> Any:
        np = self.np
        t = np.asarray(t)
        out = np.empty(t.shape, dtype=np.float64)
        cuts = np.searchsorted(t, np.asarray(starts), side="left")
        cuts = np.append(cuts, t.size)
        for k, fn in enumerate(fns):
            lo, hi = cuts[k], cuts[k + 1]
            if hi > lo:
                out[lo:hi] = fn(t[lo:hi] - starts[k])
        return out


_NUMPY: list[NumpyOps] = []


def numpy_ops() -> NumpyOps:
    """The shared numpy namespace (numpy is imported on first use only)."""
    if not _NUMPY:
        _NUMPY.append(NumpyOps())
    return _NUMPY[0]


if TYPE_CHECKING:  # mypy checks that both keep the protocol
    from .namespace import ArrayNamespace

    _scalar: ArrayNamespace = ScalarOps()
    _numpy: ArrayNamespace = NumpyOps()

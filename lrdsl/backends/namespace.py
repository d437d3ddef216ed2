"""Evaluation stage: the interface every array namespace provides.

A primitive's formula (``formula(xp, t, p)`` in :mod:`lrdsl.primitives`) and
the structural evaluator (:func:`lrdsl.backends.reference.evaluate`) are
written once against ``xp``, an :class:`ArrayNamespace`, and run on all of
them: :class:`~lrdsl.backends.ops.ScalarOps` (one Python int at a time, the
``math`` module), :class:`~lrdsl.backends.ops.NumpyOps` (int64 arrays, the
reference) and :class:`~lrdsl.backends.tensor.TensorOps` (``keras.ops`` or
``jax.numpy`` tensors, float64/int64 or float32/int32).  A formula may use
only the members listed here (``tests/test_namespace.py`` scans the sources)
and every implementation provides all of them, agreeing with numpy on sample
values (the same test); a new operation is added here first.

Argument kinds in the contracts: *steps* are integers (a Python int, an
integer array or tensor) and stay integers; *floats* are the namespace's float
type (``f`` makes them); *constants* are plain Python numbers or tuples from a
primitive's prepared parameters.  Elementwise members follow IEEE 754 as numpy
does: NaN in gives NaN out, overflow gives ``inf``, a domain error gives NaN,
and nothing raises (both branches of ``where`` are computed, so an unselected
one must not be able to stop the scalar path).  Zeros compare by value: the
sign of a zero result is not part of any contract.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, Literal


@runtime_checkable
class ArrayNamespace(Protocol):
    """The operations formulas and the reference evaluator may call on ``xp``
    (besides ``+ - * /``, comparisons and unary minus on its values)."""

    name: str
    """A short label for messages and tests: ``"scalar"``, ``"numpy"``, ``"tensor"``."""

    def f(self, x: Any, /) -> Any:
        """Steps or constants as floats (float64, or the tensor float type); exact for integers below 2**53 in float64."""

    def sin(self, x: Any, /) -> Any:
        """Elementwise sine of floats (radians); NaN or ±inf gives NaN."""

    def cos(self, x: Any, /) -> Any:
        """Elementwise cosine of floats (radians); NaN or ±inf gives NaN."""

    def exp(self, x: Any, /) -> Any:
        """Elementwise e**x of floats; overflow gives inf, -inf gives 0."""

    def log(self, x: Any, /) -> Any:
        """Elementwise natural log of floats; 0 gives -inf, a negative gives NaN."""

    def sqrt(self, x: Any, /) -> Any:
        """Elementwise square root of floats; a negative gives NaN."""

    def power(self, a: Any, b: Any, /) -> Any:
        """``a**b`` in floats (either may be a constant, integers are cast first), as C99 pow: overflow ±inf, 0**-x inf."""

    def floordiv(self, a: Any, b: int, /) -> Any:
        """Steps ``a`` floor-divided by a constant integer ``b > 0`` (it may exceed the step type): exact, toward -inf."""

    def where(self, c: Any, a: Any, b: Any, /) -> Any:
        """``a`` where the booleans ``c`` hold, else ``b``; both are computed for every element (integers stay integers)."""

    def minimum(self, a: Any, b: Any, /) -> Any:
        """Elementwise minimum; NaN from either operand propagates, as numpy's; integers stay integers."""

    def maximum(self, a: Any, b: Any, /) -> Any:
        """Elementwise maximum; NaN from either operand propagates, as numpy's; integers stay integers."""

    def full(self, t: Any, value: float, /) -> Any:
        """The constant ``value`` as floats, at every element of the steps ``t`` (their shape)."""

    def searchsorted(self, table: Sequence[int], t: Any, side: Literal["left", "right"], /) -> Any:
        """For a non-decreasing integer ``table``, integers counting its entries ``< t`` (``"left"``) or ``<= t`` (``"right"``)."""

    def take(self, table: Sequence[float], i: Any, /) -> Any:
        """``table[i]`` as floats for integer indices ``0 <= i < len(table)``."""

    def restart_tail(self, t: Any, bk: float, lk: float, q: float, jmax: int | None, /) -> Any:
        """Integers: the last ``j <= jmax`` (None: unbounded) with ``bk + lk*(q**j - 1)/(q - 1) <= t``, for steps ``t >= bk``."""

    def piecewise(self, t: Any, starts: Sequence[int], fns: Sequence[Callable[[Any], Any]], /) -> Any:
        """Floats: ``fns[k](t - starts[k])`` on ``[starts[k], starts[k+1])``; each piece sees its own local time only (sorted steps ``t >= starts[0]``)."""

    def periodic(self, t: Any, period: int, fn: Callable[[Any], Any], /) -> Any:
        """Floats: ``fn(t mod period)``, so ``fn`` sees local steps in ``[0, period)`` only (sorted, on arrays)."""


def _members(cls: type) -> tuple[str, ...]:
    """The public names a protocol class declares, in declaration order."""
    names = dict.fromkeys([*getattr(cls, "__annotations__", {}), *vars(cls)])
    return tuple(n for n in names if not n.startswith("_"))


#: Every member of :class:`ArrayNamespace`, for tests and tools.
MEMBERS: tuple[str, ...] = _members(ArrayNamespace)

__all__ = ["MEMBERS", "ArrayNamespace"]

"""Compile stage, numbers: a checked number (:class:`~lrdsl.language.checked.CNum`)
to its value in the context.

Units resolve here (``%`` of ``total_steps``, E0501 without it; ``ep`` of
``steps_per_epoch``, E0502 without it; ``tok`` and ``sp`` with
``tokens_per_step`` and ``samples_per_step``, and a bare length under a token
or sample clock, E0504 without them), as do ``base`` and ``prev`` (E0605
where there is no previous value, or where it is the warmup's that ends
where this segment starts).  Arithmetic is exact (fractions; a decimal
literal means the decimal the user wrote; ``**`` falls back to float for
large or fractional exponents) and rounds to float64 once, refusing what
overflows or underflows (E0105).  Lengths and positions become whole steps,
unit lengths rounded half up (E0401, E0402, E0403).
"""

from __future__ import annotations

import math
from fractions import Fraction

from ..primitives.restarts import decimal_fraction
from . import ast as A
from .checked import CNum
from .context import MAX_LENGTH, Context
from .errors import CompositionError, ContextError, ValueDomainError
from .printer import number_text


class _Handoff:
    """``prev`` of the segment after a warmup: the warmup ends where that
    segment starts, so an explicit ``prev`` there is a cycle."""


HANDOFF = _Handoff()


class NumberCompiler:
    """Numbers in a context: the base of the compiler's stages."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def exact(self, c: CNum, prev: object, length: bool = False) -> Fraction | float:
        try:
            return self._eval(c.expr, prev, length)
        except OverflowError:
            raise ValueDomainError("number too large for a float64", c.span, code="E0105") from None

    def _eval(self, e: object, prev: object, length: bool = False) -> Fraction | float:
        if isinstance(e, A.Num):
            x = Fraction(e.value) if isinstance(e.value, int) else decimal_fraction(e.value)
            if e.unit == "%":
                if self.ctx.total is None:
                    raise ContextError(
                        f"'{e.value}%' is a fraction of the total {self.ctx.clock}, which is not known",
                        e.span,
                        code="E0501",
                        label=f"needs total_{self.ctx.clock}",
                        hints=[f"pass total_{self.ctx.clock}=... to lrdsl.compile, or --steps N to lrdsl eval"],
                    )
                return x * self.ctx.total / 100
            if e.unit == "ep":
                if self.ctx.spe is None:
                    raise ContextError(
                        f"'{e.value}ep' counts epochs, but steps_per_epoch is not known",
                        e.span,
                        code="E0502",
                        label="needs steps_per_epoch",
                        hints=["pass steps_per_epoch=... to lrdsl.compile, or --steps-per-epoch K to lrdsl eval"],
                    )
                return x * self.ctx.spe * self._per("step", e)
            if e.unit in ("tok", "sp"):
                return x * self._per("token" if e.unit == "tok" else "sample", e)
            return x * self._per("step", e) if length and self.ctx.clock != "steps" else x
        if isinstance(e, A.Name):
            if e.id == "base":
                return Fraction(self.ctx.base)
            if prev is HANDOFF:
                raise CompositionError(
                    "'prev' here is where the warmup before this segment ends, and that warmup ends"
                    " where this segment starts: the value depends on itself",
                    e.span,
                    code="E0605",
                    label="circular",
                    hints=["give this segment an explicit start value, or the warmup an explicit end="],
                )
            if prev is None:
                raise CompositionError(
                    "'prev' is the value the previous segment ends at, and there is no previous segment here",
                    e.span,
                    code="E0605",
                    label="no previous segment",
                    hints=["use 'base' or a number"],
                )
            assert isinstance(prev, float)
            return Fraction(prev)
        if isinstance(e, A.Neg):
            return -self._eval(e.operand, prev, length)
        assert isinstance(e, A.BinOp)
        a, b = self._eval(e.left, prev, length), self._eval(e.right, prev, length)
        if e.op == "+":
            return a + b
        if e.op == "-":
            return a - b
        if e.op == "*":
            return a * b
        if e.op == "/":
            if b == 0:
                raise ValueDomainError("division by zero", e.span, code="E0401", label="divides by 0")
            return a / b
        # '**': exact for small whole exponents, float otherwise
        if isinstance(b, Fraction) and b.denominator == 1 and abs(b) <= 64 and not (a == 0 and b < 0):
            return a**b
        if a < 0 and not (isinstance(b, Fraction) and b.denominator == 1):
            raise ValueDomainError("a negative number to a fractional power", e.span, code="E0401")
        if a == 0 and b < 0:
            raise ValueDomainError("zero to a negative power", e.span, code="E0401")
        return float(a) ** float(b)

    def real(self, c: CNum, prev: object) -> float:
        exact = self.exact(c, prev)
        try:
            x = float(exact)
        except OverflowError:
            x = math.inf
        if not math.isfinite(x):
            raise ValueDomainError("number too large for a float64", c.span, code="E0105", label="overflows")
        if x == 0.0 and exact != 0:
            raise ValueDomainError("number too small for a float64", c.span, code="E0105", label="underflows to 0")
        return x

    def _per(self, unit: str, e: A.Num) -> Fraction:
        """One ``unit`` (step, token, sample) in the clock's units, or E0504."""
        ctx = self.ctx
        rate = {"step": 1, "token": ctx.tps, "sample": ctx.sps}
        clock = ctx.clock[:-1]  # "step", "token" or "sample"
        if unit == clock:
            return Fraction(1)
        have, want = rate[unit], rate[clock]
        if have is None or want is None:
            need = f"{unit if have is None else clock}s_per_step"
            raise ContextError(
                f"'{number_text(e.value, e.unit)}' counts {unit}s, but the schedule's clock counts {ctx.clock}"
                f" and {need} is not known",
                e.span,
                code="E0504",
                label=f"needs {need}",
                hints=[f"pass {need}=... to lrdsl.compile, or --{need.replace('_', '-')} N to lrdsl eval"],
            )
        return Fraction(want, have)

    def steps(self, c: CNum, what: str, minimum: int) -> int:
        """A length or position in whole steps (whole units of the clock)."""
        x = self.exact(c, None, length=True)
        if c.unit or self.ctx.clock != "steps":
            n = math.floor(x + Fraction(1, 2))  # whole steps, halves rounded up
            if n < minimum and x >= 0:
                from .printer import to_text

                raise ValueDomainError(
                    f"{what} is {to_text(c.expr)} = {show_number(x)} steps, which rounds to {n}",
                    c.span,
                    code="E0403",
                    label=f"rounds to {n}",
                    hints=["use a larger fraction, or a length in steps"],
                )
        else:
            if isinstance(x, float) or x.denominator != 1:
                raise ValueDomainError(
                    f"{what} must be a whole number of steps, got {show_number(x)}",
                    c.span,
                    code="E0402",
                    label="not whole",
                    hints=["lengths are counted in steps; '%' and 'ep' lengths are rounded for you"],
                )
            n = int(x)
        if n < minimum:
            raise ValueDomainError(
                f"{what} must be at least {minimum}, got {n}", c.span, code="E0401", label="too small"
            )
        if n > MAX_LENGTH:
            raise ValueDomainError(f"{what} {n} is beyond 2**53 steps", c.span, code="E0401", label="too large")
        return n


def show_number(x: Fraction | float) -> str:
    """A number for a message: whole numbers without '.0', huge ones short."""
    try:
        f = float(x)
    except OverflowError:
        return "a number beyond float64"
    if isinstance(x, Fraction) and x.denominator == 1 and abs(x) < 10**15:
        return str(x.numerator)
    if f.is_integer() and abs(f) < 1e15:
        return str(int(f))
    return repr(f)

"""Translation stage, values: the numbers and learning rates every translator writes.

A source schedule's numbers are read with :func:`_float` and :func:`_steps`
(finite, and whole where lrdsl counts steps), and written back with
:func:`_num` so that lrdsl reads the same float64.  A learning rate is a
:class:`_V`, ``c * base`` or the number ``c``; :func:`_kw` writes it as an
argument unless it is lrdsl's default.  :func:`_finish` gives a translation's
canonical text, checked to compile, and :func:`_fail` the E0801 error for what
lrdsl cannot express; :func:`_options` reads a trainer's options (dashes or
underscores, E0202 for an unknown one) and :func:`_choice` one of its words.  The segment shapes built from these values are in
:mod:`lrdsl.translate._pieces`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

from ..language.errors import ArgumentError, LrdslError, UnsupportedError, did_you_mean

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


#: The most segments a translation may write (its text must stay within the parser's MAX_TOKENS).
MAX_SEGMENTS = 200


# ---------------------------------------------------------------- numbers and values


def _fail(message: str, *hints: str) -> UnsupportedError:
    return UnsupportedError(message, code="E0801", hints=hints)


def _num(x: float | int) -> str:
    """A number as lrdsl reads it back to the same float64: whole values as
    integers, the rest with ``repr``."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ArgumentError(f"expected a number, got {x!r}", None, code="E0305")
    if isinstance(x, int):
        return str(x)
    x = float(x)
    if not math.isfinite(x):
        raise _fail(f"the value {x!r} is not a finite number")
    if x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(x)


def _float(x: object, what: str) -> float:
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _fail(f"{what} is {x!r}, not a number") from None
    if not math.isfinite(value):
        raise _fail(f"{what} is {value!r}, not a finite number")
    return value


def _steps(x: object, what: str, minimum: int = 1) -> int:
    """A whole number of steps >= ``minimum``."""
    if isinstance(x, bool):
        raise _fail(f"{what} is {x!r}, not a number of steps")
    try:
        frac = Fraction(x)  # type: ignore[arg-type, call-overload]
    except (TypeError, ValueError):
        try:
            frac = Fraction(float(x))  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            raise _fail(f"{what} is {x!r}, not a number of steps") from None
    if frac.denominator != 1:
        raise _fail(
            f"{what}={x!r} is not a whole number of steps",
            "lrdsl counts lengths and milestones in whole steps",
        )
    n = int(frac)
    if n < minimum:
        raise _fail(f"{what}={n} must be at least {minimum}")
    return n


def _decimal(x: float) -> Fraction:
    """The decimal a user wrote (0.3 is 3/10), as lrdsl reads a literal."""
    return Fraction(repr(float(x))) if not float(x).is_integer() else Fraction(int(x))


class _V:
    """A learning rate in a text: ``c * base`` (``rel``) or the number ``c``."""

    __slots__ = ("c", "rel")

    def __init__(self, c: float, rel: bool = False) -> None:
        self.c = float(c)
        self.rel = rel

    def text(self) -> str:
        if not self.rel:
            return _num(self.c)
        if self.c == 1:
            return "base"
        if self.c == 0:
            return "0"
        return f"{_num(self.c)} * base"

    def times(self, f: float) -> _V:
        return _V(self.c * f, self.rel)

    def toward(self, other: _V, weight: Fraction) -> _V:
        """``self + weight * (other - self)`` (the same base only), computed on the
        decimals as written and rounded once, so 0.01 + 0.99*100/300 reads 0.34."""
        assert self.rel == other.rel
        a, b = _decimal(self.c), _decimal(other.c)
        return _V(float(a + (b - a) * weight), self.rel)

    @property
    def is_base(self) -> bool:
        return self.rel and self.c == 1

    @property
    def is_zero(self) -> bool:
        return self.c == 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _V):
            return NotImplemented
        if self.c == 0 and other.c == 0:
            return True
        return self.c == other.c and self.rel == other.rel

    def __hash__(self) -> int:
        return hash((self.c, self.rel))


def _args(*parts: str | None) -> str:
    return ", ".join(p for p in parts if p)


def _kw(name: str, value: _V | None, *, omit_base: bool = False, omit_zero: bool = False) -> str | None:
    """``name=value`` unless it is lrdsl's default."""
    if value is None or (omit_base and value.is_base) or (omit_zero and value.is_zero):
        return None
    return f"{name}={value.text()}"


def _paren(text: str) -> str:
    return f"({text})"


def _finish(text: str, what: str) -> str:
    """Canonical form, checked to compile with no context but a base lr."""
    from ..language.printer import to_text
    from ..language.syntax import parse
    from ..schedule import compile as compile_schedule

    try:
        canonical = to_text(parse(text))
        compile_schedule(canonical, base_lr=1.0)
    except LrdslError as err:
        raise _fail(f"{what} translates to {text!r}, which lrdsl rejects: {err.message}") from None
    return canonical


def _nice_float(approx: float, ok: Callable[[float], bool]) -> float | None:
    """The shortest decimal near ``approx`` for which ``ok`` holds (then a few
    ulps either side), or None."""
    for digits in range(1, 18):
        c = float(f"{approx:.{digits}g}")
        if ok(c):
            return c
    lo = hi = approx
    for _ in range(8):
        lo, hi = math.nextafter(lo, -math.inf), math.nextafter(hi, math.inf)
        for c in (lo, hi):
            if ok(c):
                return c
    return None


def _positive(x: object, what: str) -> float:
    value = _float(x, what)
    if value <= 0:
        raise _fail(f"{what}={value!r}: lrdsl's decays need a factor > 0")
    return value


def _options(cfg: object, known: Mapping[str, object], what: str) -> dict[str, object]:
    """A trainer's options (a mapping, an ``argparse.Namespace`` or a dataclass)
    with keys spelled ``--lr-decay-style``, ``lr-decay-style`` or
    ``lr_decay_style`` (one ``prefix.`` such as ``lr_scheduler.`` dropped), over
    ``known``'s defaults; an unknown key is E0202 with a did-you-mean."""
    import dataclasses

    if isinstance(cfg, Mapping):
        items = dict(cfg)
    elif dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        items = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}
    elif hasattr(cfg, "__dict__"):
        items = dict(vars(cfg))
    else:
        raise ArgumentError(f"{what} options must be a mapping, got {type(cfg).__name__}", None, code="E0305")
    out = dict(known)
    for key, value in items.items():
        name = str(key).lstrip("-").replace("-", "_").rsplit(".", 1)[-1]
        if name not in known:
            raise ArgumentError(
                f"{what} has no option {str(key)!r}",
                None,
                code="E0202",
                hints=[*did_you_mean(name, known), "the options: " + ", ".join(known)],
            )
        out[name] = value
    return out


def _choice(value: object, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise ArgumentError(
            f"{what}={value!r} is not one of {', '.join(choices)}",
            None,
            code="E0306",
            hints=did_you_mean(str(value), choices),
        )
    return str(value)

"""Translation stage: the pieces every translator writes with (values that may
be factors of ``base``, segments that can be cut at a milestone, chains)."""

from __future__ import annotations

import math
from fractions import Fraction

from ..language.errors import ArgumentError, LrdslError, UnsupportedError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


#: The most segments a translation may write (lrdsl's own limit is 10,000 nodes).
MAX_SEGMENTS = 2_000


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


# ---------------------------------------------------------------- pieces


class _Piece:
    """One segment's shape.  ``text()`` matches at every step from 0 on;
    ``cut(n)`` is a bounded text of exactly ``n`` steps matching on ``0..n-1``
    (None: not expressible with the shape's own parameters); ``upto(n)``
    matches on ``0..n-1`` and may be shorter to read."""

    def text(self) -> str:
        raise NotImplementedError

    def cut(self, n: int) -> str | None:
        return None

    def upto(self, n: int) -> str:
        return self.text()


class _Consts(_Piece):
    """Constant runs: ``[(value, steps), ..., (value, None)]``."""

    def __init__(self, runs: Sequence[tuple[_V, int | None]]) -> None:
        merged: list[tuple[_V, int | None]] = []
        for v, n in runs:
            if n == 0:
                continue
            if merged and merged[-1][0] == v and merged[-1][1] is not None:
                prev_n = merged[-1][1]
                merged[-1] = (v, None if n is None else prev_n + n)  # type: ignore[operator]
            else:
                merged.append((v, n))
            if n is None:
                break
        self.runs = merged

    @staticmethod
    def _const(v: _V, n: int | None) -> str:
        value = None if v.is_base else v.text()
        return f"const({_args(value, None if n is None else f'steps={n}')})"

    def text(self) -> str:
        return " >> ".join(self._const(v, n) for v, n in self.runs)

    def cut(self, n: int) -> str:
        out = []
        left = n
        for v, k in self.runs:
            take = left if k is None else min(k, left)
            out.append(self._const(v, take))
            left -= take
            if left == 0:
                break
        return " >> ".join(out)


class _Linear(_Piece):
    def __init__(self, n: int, start: _V, end: _V) -> None:
        self.n, self.start, self.end = n, start, end

    def _text(self, n: int, end: _V) -> str:
        return f"linear({_args(str(n), _kw('start', self.start, omit_base=True), _kw('end', end, omit_zero=True))})"

    def text(self) -> str:
        return self._text(self.n, self.end)

    def cut(self, n: int) -> str:
        if n == self.n:
            return self.text()
        if n > self.n:
            return f"{self.text()} >> hold({n - self.n})"
        return self._text(n, self.start.toward(self.end, Fraction(n, self.n)))


class _Formatted(_Piece):
    """A primitive with ``steps=``: ``template`` has ``{steps}`` where the
    bound goes (several factors of a product may each have one)."""

    def __init__(self, template: str) -> None:
        self.template = template

    def text(self) -> str:
        return self.template.replace("{steps}", "")

    def cut(self, n: int) -> str:
        return self.template.replace("{steps}", f", steps={n}")


class _Poly(_Piece):
    def __init__(self, n: int, power: float, start: _V) -> None:
        self.n, self.power, self.start = n, power, start

    def text(self) -> str:
        power = None if self.power == 1 else f"power={_num(self.power)}"
        return f"poly({_args(str(self.n), power, _kw('start', self.start, omit_base=True))})"

    def cut(self, n: int) -> str | None:
        if n == self.n:
            return self.text()
        if n > self.n:
            return f"{self.text()} >> hold({n - self.n})"
        if self.power == 1:
            return _Linear(self.n, self.start, _V(0, self.start.rel)).cut(n)
        return None  # ((n-t)/n)**power cut early is not a poly of its own


class _PeriodicCos(_Piece):
    """torch's CosineAnnealingLR (and HF's cosines): half-periods of ``T``
    steps, down from ``first`` to ``low``, up to ``peak``, down again, ..."""

    def __init__(self, T: int, first: _V, peak: _V, low: _V) -> None:
        self.T, self.first, self.peak, self.low = T, first, peak, low

    def _down(self, top: _V) -> str:
        return f"cosine({_args(str(self.T), _kw('peak', top, omit_base=True), _kw('min', self.low, omit_zero=True))})"

    def _up(self) -> str:
        start = _kw("start", self.low, omit_zero=True)
        return f"warmup({_args(str(self.T), start, f'end={self.peak.text()}', 'shape=cos')})"

    def _partial(self, k: int, r: int) -> str:
        if k % 2 == 0:  # a descent
            top, bottom = (self.first if k == 0 else self.peak), self.low
        else:  # a climb: a "descent" from low to peak
            top, bottom = self.low, self.peak
        return f"cosine_restarts({self.T}, t_mul=1, peak={top.text()}, min={bottom.text()}, steps={r})"

    def _halves(self, q: int) -> list[str]:
        """Texts of the first ``q`` half-periods, repeats folded."""
        out: list[str] = []
        if q == 0:
            return out
        if self.first == self.peak:
            pair, rest, single = (self._down(self.peak), self._up()), q, self._down(self.peak)
        else:
            out.append(self._down(self.first))
            pair, rest, single = (self._up(), self._down(self.peak)), q - 1, self._up()
        k, odd = divmod(rest, 2)
        if k == 1:
            out.extend(pair)
        elif k > 1:
            out.append(f"repeat({pair[0]} >> {pair[1]}, {k})")
        if odd:
            out.append(single)
        return out

    def text(self) -> str:
        cycle = f"repeat({self._down(self.peak)} >> {self._up()})"
        if self.first == self.peak:
            return cycle
        return f"{self._down(self.first)} >> {self._up()} >> {cycle}"

    def cut(self, n: int) -> str:
        q, r = divmod(n, self.T)
        parts = self._halves(q)
        if r:
            parts.append(self._partial(q, r))
        return " >> ".join(parts)

    def upto(self, n: int) -> str:
        if n <= self.T + 1:
            return self._down(self.first)  # holds low from step T, where torch is at low
        return self.text()


class _OneCycle(_Piece):
    def __init__(self, text: str, n: int, extra: float | None) -> None:
        self._text, self.n, self.extra = text, n, extra

    def text(self) -> str:
        return self._text

    def cut(self, n: int) -> str | None:
        if n == self.n:
            return self._text
        if n == self.n + 1:  # torch's extrapolated value, used when a milestone follows one step later
            if self.extra is None or self.extra < 0:
                raise _fail(
                    f"OneCycleLR(total_steps={self.n}) extrapolates its last phase to {self.extra!r} at step"
                    f" {self.n}, a negative learning rate, and this SequentialLR runs that step"
                )
            return f"{self._text} >> const({_num(self.extra)}, steps=1)"
        if n > self.n + 1:
            raise _fail(
                f"OneCycleLR(total_steps={self.n}) runs for {n} steps in this SequentialLR, but torch raises"
                f" ValueError once it is stepped past step {self.n}",
                "move the milestone to at most total_steps + 1 steps after the OneCycleLR starts",
            )
        return None


class _Product(_Piece):
    def __init__(self, factors: Sequence[_Piece]) -> None:
        self.factors = list(factors)

    def text(self) -> str:
        return " * ".join(_paren(f.text()) for f in self.factors)

    def cut(self, n: int) -> str | None:
        cuts = [f.cut(n) for f in self.factors]
        if any(c is None for c in cuts):
            return None
        return " * ".join(_paren(c) for c in cuts)  # type: ignore[arg-type]


def _chain(parts: Sequence[tuple[_Piece, int | None]], horizon: int | None) -> str:
    """``a >> b >> ...`` for pieces of the given lengths (the last None: it
    runs on); a piece that cannot be cut is windowed."""
    texts: list[str] = []
    for i, (piece, n) in enumerate(parts):
        if horizon is not None and (n is None or horizon <= n):
            texts.append(piece.upto(horizon))
            break
        if n is None:
            texts.append(piece.text())
            break
        cut = piece.cut(n)
        if cut is None:  # a 0/1 window: piece for n steps, then the rest
            rest = _chain(parts[i + 1 :], None if horizon is None else horizon - n)
            texts.append(
                f"({_paren(piece.text())} * (const(1, steps={n}) >> const(0)) + (const(0, steps={n}) >> {rest}))"
            )
            break
        texts.append(cut)
        if horizon is not None:
            horizon -= n
    if len(texts) > MAX_SEGMENTS:
        raise _fail(f"the translation needs {len(texts)} segments, more than {MAX_SEGMENTS}")
    return " >> ".join(texts)


def _positive(x: object, what: str) -> float:
    value = _float(x, what)
    if value <= 0:
        raise _fail(f"{what}={value!r}: lrdsl's decays need a factor > 0")
    return value

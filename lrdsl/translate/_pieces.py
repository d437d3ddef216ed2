"""Translation stage, pieces: the segment shapes a translation is written in.

A :class:`_Piece` is one source schedule's shape, written with the values of
:mod:`lrdsl.translate._common`: constant runs, linear and polynomial ramps,
torch's periodic cosine, OneCycleLR, a primitive with a ``steps=`` bound to
fill in, and products of these.  Each can say its text for all steps, its
text cut to exactly ``n`` steps (when its own parameters can express that) and
a possibly shorter text that matches on the first ``n`` steps.  :func:`_chain`
joins pieces that a milestone switches between, windowing a piece that cannot
be cut, within :data:`~lrdsl.translate._common.MAX_SEGMENTS`.
"""

from __future__ import annotations

from fractions import Fraction

from ._common import _V, MAX_SEGMENTS, _args, _fail, _kw, _num, _paren

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


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

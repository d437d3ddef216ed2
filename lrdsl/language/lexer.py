"""Syntax stage, lexing: schedule text -> tokens, number literals -> values.

The terminals are the grammar's own (:data:`lrdsl.language._tables.TERMINALS`),
joined into one alternation in the order Lark's basic lexer tries them;
whitespace and comments (``IGNORE``) are dropped.  A character that no terminal
matches ends the stream with a ``$BAD`` token for the driver to report, and
every other stream ends with ``$END``.  Number literals are read here too: the
``k``/``M``/``B``/``T`` multipliers (exact decimal scaling), the ``ep``, ``tok``,
``sp`` and ``%`` units, and
the limits on a literal's length and float64 range.
"""

from __future__ import annotations

import re
from decimal import Decimal

from . import _tables as T
from .ast import Num, Span
from .errors import LrdslSyntaxError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

#: The longest number literal accepted, in characters (see README, "Limits").
MAX_NUMBER_CHARS = 100

_END = "$END"
_SUFFIXES = {"k": 1000, "M": 1_000_000, "B": 1_000_000_000, "T": 1_000_000_000_000}
_UNITS = ("tok", "ep", "sp")


class _Tok:
    __slots__ = ("end", "start", "text", "type")

    def __init__(self, kind: str, text: str, start: int, end: int) -> None:
        self.type = kind
        self.text = text
        self.start = start
        self.end = end


_LEXER = re.compile("|".join(f"(?P<{name}>{rx})" for name, rx in T.TERMINALS))
_IGNORE = frozenset(T.IGNORE)


def _tokens(src: str) -> Iterator[_Tok]:
    pos = 0
    ignore = _IGNORE
    for m in _LEXER.finditer(src):
        start = m.start()
        if start != pos or m.end() == start:
            break
        pos = m.end()
        kind = m.lastgroup
        if kind not in ignore:
            yield _Tok(kind, m.group(), start, pos)  # type: ignore[arg-type]
    if pos < len(src):
        yield _Tok("$BAD", src[pos], pos, pos + 1)
        return
    yield _Tok(_END, "", pos, pos)


def _number(tok: _Tok) -> Num:
    text = tok.text
    span = Span(tok.start, tok.end)
    if len(text) > MAX_NUMBER_CHARS:
        raise LrdslSyntaxError(
            f"number literal of {len(text)} characters; at most {MAX_NUMBER_CHARS} are accepted",
            span,
            code="E0104",
            label="too long",
        )
    unit = None
    scale = 0
    if text.endswith("%"):
        unit, text = "%", text[:-1]
    else:
        for u in _UNITS:
            if text.endswith(u):
                unit, text = u, text[: -len(u)]
                break
        if text[-1] in _SUFFIXES:
            scale, text = _SUFFIXES[text[-1]], text[:-1]
    digits = text.replace("_", "") if "_" in text else text
    value: int | float
    whole = "." not in digits and "e" not in digits and "E" not in digits
    if scale:  # exact decimal scaling: 1.5k is 1500, not 1500.0000000000002
        try:
            exact = Decimal(digits) * scale
        except ArithmeticError:  # beyond Decimal's exponent range: 1e1000000k
            raise LrdslSyntaxError(
                f"number {tok.text} is too large for a float64", span, code="E0105", label="overflows to infinity"
            ) from None
        value = int(exact) if whole else float(exact)
    elif whole:
        value = int(digits)
    else:
        value = float(digits)  # correctly rounded, like Decimal -> float
    if isinstance(value, float):
        if value == float("inf"):
            raise LrdslSyntaxError(
                f"number {tok.text} is too large for a float64",
                span,
                code="E0105",
                label="overflows to infinity",
            )
        if value == 0.0 and any(c in "123456789" for c in digits.split("e")[0].split("E")[0]):
            raise LrdslSyntaxError(
                f"number {tok.text} is too small for a float64",
                span,
                code="E0105",
                label="underflows to zero",
            )
    return Num(value, unit, span=span)

"""Syntax stage, diagnostics: what the parser expected, in plain words.

When the driver in :mod:`lrdsl.language.syntax` meets a token its tables have
no action for, this module says what could have come instead and why the
token did not fit.  LALR states merge lookaheads, so the candidates are found
by simulating the reductions on a copy of the state stack (never by reading one
action row), and they are grouped for reading (``a number, a schedule or
'('``, ``an operator``).  Hints name the usual slips: a missing ``>>`` or
``,``, an unknown number suffix, a bracket that is not closed, a quote.
"""

from __future__ import annotations

from . import _tables as T
from .ast import Span
from .errors import LrdslSyntaxError, line_col
from .lexer import _END, _Tok

# Plain-words names of terminals for "expected ..." messages.
_WORDS = {
    "NUMBER": "a number",
    "NAME": "a name",
    "PLACEHOLDER": "a $placeholder",
    _END: "the end of the input",
}
_EXPR_START = {"NUMBER", "NAME", "PLACEHOLDER", "LPAR", "LSQB", "MINUS"}
_OPERATORS = {"__ANON_0", "__ANON_1", "PLUS", "MINUS", "STAR", "SLASH"}

#: A stack entry of the driver: (state, value, start, end, depth).
_Entry = tuple[int, object, int, int, int]


def _symbol_words(symbol: str) -> str:
    if symbol in _WORDS:
        return _WORDS[symbol]
    literal = T.LITERALS.get(symbol)
    if literal is None:  # anonymous terminals carry their pattern
        literal = dict(T.TERMINALS)[symbol].replace("\\", "")
    return f"'{literal}'"


def describe_expected(symbols: set[str]) -> str:
    """Plain words for a set of terminal names: ``a number, a schedule or '('``,
    ``')', ',' or an operator``."""
    parts: list[str] = []
    rest = set(symbols)
    if {"NUMBER", "NAME", "LPAR"} <= rest:
        parts += ["a number", "a schedule", "'('"]
        rest -= _EXPR_START
    operators = rest & _OPERATORS
    tail = []
    if len(operators) >= 3:
        rest -= operators
        tail.append("an operator")
    if _END in rest:
        rest.discard(_END)
        tail.append(_WORDS[_END])
    parts += sorted(_symbol_words(s) for s in rest) + tail
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def _undo(stack: list[_Entry], trail: list[list[_Entry]]) -> list[int]:
    """The parser states as they were before the current token's reductions."""
    states = [e[0] for e in stack]
    for popped in reversed(trail):
        states.pop()
        states.extend(e[0] for e in popped)
    return states


def _acceptable(states: list[int]) -> set[str]:
    """The terminals the parser can really take next from this stack.

    LALR states merge lookaheads, so a state's action row may list terminals
    that only fit in another context; simulating the reductions for each
    candidate keeps "expected ..." honest.
    """
    out = set()
    for term in T.ACTIONS[states[-1]]:
        if (term.isupper() or term.startswith("__ANON") or term == _END) and _accepts(states, term):
            out.add(term)
    return out


def _accepts(states: list[int], term: str) -> bool:
    stack = list(states)
    while True:
        act = T.ACTIONS[stack[-1]].get(term)
        if act is None:
            return False
        if act >= 0:
            return True
        origin, size, _tag = T.RULES[-1 - act]
        if size:
            del stack[-size:]
        goto = T.ACTIONS[stack[-1]].get(origin)
        if goto is None:  # pragma: no cover - tables are consistent
            return False
        stack.append(goto)
        if term == _END and goto == T.END_STATE:
            return True


def _show_char(ch: str) -> str:
    if ch.isprintable() and not ch.isspace():
        return f"'{ch}'"
    return f"U+{ord(ch):04X}"


def _char_hints(ch: str) -> list[str]:
    if ch in "\"'":
        return ["lrdsl has no strings: enum values are bare words, e.g. mode=triangular2"]
    if ch == ">":
        return ["chain segments with '>>'"]
    if not ch.isascii():
        return ["names and numbers are ASCII; check for a pasted non-ASCII character"]
    return []


def _bad_char(tok: _Tok, states: list[int]) -> LrdslSyntaxError:
    """A character that starts no token (E0101)."""
    return LrdslSyntaxError(
        f"unexpected character {_show_char(tok.text)}",
        Span(tok.start, tok.end),
        code="E0101",
        label=f"expected {describe_expected(_acceptable(states))}",
        hints=_char_hints(tok.text),
    )


def _unexpected(tok: _Tok, states: list[int], prev: _Tok | None, opened: list[_Tok], src: str) -> LrdslSyntaxError:
    """A token the grammar does not allow here (E0102), or the end of the input (E0103)."""
    expected = _acceptable(states)
    words = describe_expected(expected)
    if tok.type == _END:
        hints = []
        if opened:
            line, col = line_col(src, opened[-1].start)
            hints.append(f"the '{opened[-1].text}' at line {line}, column {col} is not closed")
        return LrdslSyntaxError(
            "unexpected end of input",
            Span(tok.start, tok.start),
            code="E0103",
            label=f"expected {words}",
            hints=hints,
        )
    shown = tok.text if len(tok.text) <= 20 else tok.text[:17] + "..."
    what = {"NAME": "name", "NUMBER": "number", "PLACEHOLDER": "placeholder"}.get(tok.type)
    return LrdslSyntaxError(
        f"unexpected {what} '{shown}'" if what else f"unexpected '{shown}'",
        Span(tok.start, tok.end),
        code="E0102",
        label=f"expected {words}",
        hints=_token_hints(tok, prev, expected),
    )


def _token_hints(tok: _Tok, prev: _Tok | None, expected: set[str]) -> list[str]:
    """The likeliest slip behind an unexpected token, from the token before it."""
    kind = tok.type
    if prev is not None and prev.type == "NUMBER" and kind == "NAME" and prev.end == tok.start:
        return ["number suffixes are k (thousand), M (million), ep (epochs) and % (of the total steps)"]
    if prev is not None and prev.type == "NAME":
        if kind in ("NUMBER", "NAME", "PLACEHOLDER") and "COMMA" in expected:
            return [f"a keyword argument is written {prev.text}={tok.text}"]
        if "LPAR" in expected and kind in ("NUMBER", "NAME", "PLACEHOLDER", "LSQB"):
            return [f"to call {prev.text}, write {prev.text}(...)"]
    if "SEMICOLON" in expected and _END not in expected:
        return ["end each binding with ';'"]
    if kind in ("NAME", "NUMBER", "PLACEHOLDER", "LPAR") and "COMMA" in expected:
        return ["separate arguments with ','"]
    if kind in ("NAME", "NUMBER", "LPAR") and "__ANON_0" in expected:
        return ["chain segments with '>>'"]
    return []

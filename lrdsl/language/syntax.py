"""Syntax stage: schedule text -> :mod:`lrdsl.language.ast`.

The grammar is ``grammar/lrdsl.lark``, compiled by Lark's LALR(1) generator into
the cached tables of :mod:`lrdsl.language._tables` (``python -m lrdsl.language._gen_tables``).
This module drives those tables with a plain shift/reduce loop and a lexer built
from the same terminal definitions, in the order Lark's basic lexer uses; the
tests parse corpora with both this driver and Lark itself and require identical
trees.  Positions are kept on every node.  No validation happens here beyond
the grammar and the limits that keep parsing bounded (source size, nesting
depth, literal length); no input ever reaches ``eval``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from . import _tables as T
from .ast import (
    Arg,
    Binding,
    BinOp,
    Call,
    ListExpr,
    Module,
    Name,
    Neg,
    Num,
    Placeholder,
    Seq,
    Span,
)
from .errors import LimitError, LrdslError, LrdslSyntaxError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: Limits that keep parsing cheap whatever the input (see README, "Limits").
MAX_SOURCE_CHARS = 16 * 1024
MAX_DEPTH = 128
MAX_NUMBER_CHARS = 100

_END = "$END"
_SUFFIXES = {"k": 1000, "M": 1_000_000}

# Plain-words names of terminals for "expected ..." messages.
_WORDS = {
    "NUMBER": "a number",
    "NAME": "a name",
    "PLACEHOLDER": "a $placeholder",
    _END: "the end of the input",
}
_EXPR_START = {"NUMBER", "NAME", "PLACEHOLDER", "LPAR", "LSQB", "MINUS"}
_OPERATORS = {"__ANON_0", "__ANON_1", "PLUS", "MINUS", "STAR", "SLASH"}


class _Tok:
    __slots__ = ("end", "start", "text", "type")

    def __init__(self, kind: str, text: str, start: int, end: int) -> None:
        self.type = kind
        self.text = text
        self.start = start
        self.end = end


_LEXER = re.compile("|".join(f"(?P<{name}>{rx})" for name, rx in T.TERMINALS))
_IGNORE = frozenset(T.IGNORE)


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


def parse(src: str) -> Module:
    """Parse a schedule text into a :class:`~lrdsl.language.ast.Module`.

    Raises :class:`~lrdsl.errors.LrdslSyntaxError` (or :class:`LimitError`) with
    the source attached, so ``str(err)`` renders the caret diagnostic.
    """
    if not isinstance(src, str):
        raise LrdslError(f"a schedule must be text, not {type(src).__name__}", code="E0305")
    try:
        return _parse(src)
    except LrdslError as err:
        raise err.with_source(src) from None


def _parse(src: str) -> Module:
    if len(src) > MAX_SOURCE_CHARS:
        raise LimitError(
            f"the schedule text is {len(src)} characters long; the limit is {MAX_SOURCE_CHARS}",
            Span(MAX_SOURCE_CHARS, MAX_SOURCE_CHARS + 1),
            code="E0701",
            label="the limit is reached here",
        )
    if not src.strip() or all(t.type == _END for t in _tokens(src)):
        raise LrdslSyntaxError(
            "the schedule is empty",
            Span(len(src), len(src)),
            code="E0106",
            label="expected a schedule",
            hints=["write a schedule such as 'warmup(5%) >> cosine(95%)'"],
        )
    return drive(src, _make)  # type: ignore[return-value]


def drive(src: str, build: Callable[[str, list[object], Span], object]) -> object:
    """Run the LALR tables over ``src``; ``build(tag, children, span)`` makes
    each reduced rule's value.  Children are :class:`_Tok` for terminals.

    The driver is iterative.  It bounds nesting: open brackets may nest at most
    :data:`MAX_DEPTH` deep, and so may the built values (a value that is not one
    of its children, a list or an argument adds a level), so later tree walks
    stay bounded.  Unit rules (``?sum: product``) are folded without a call.
    """
    actions = T.ACTIONS
    rules = T.RULES
    passthrough = _PASSTHROUGH
    folds = _FOLDS
    # one stack entry per symbol: (state, value, start, end, depth)
    stack: list[tuple[int, object, int, int, int]] = [(T.START_STATE, None, 0, 0, 0)]
    prev: _Tok | None = None
    opened: list[_Tok] = []  # brackets not closed yet, for messages and the depth limit
    for tok in _tokens(src):
        kind = tok.type
        if kind == "$BAD":
            raise LrdslSyntaxError(
                f"unexpected character {_show_char(tok.text)}",
                Span(tok.start, tok.end),
                code="E0101",
                label=f"expected {describe_expected(_acceptable([e[0] for e in stack]))}",
                hints=_char_hints(tok.text),
            )
        if kind in _OPENERS:
            opened.append(tok)
            if len(opened) > MAX_DEPTH:
                raise _too_deep(Span(tok.start, tok.end))
        elif kind in _CLOSERS and opened:
            opened.pop()
        trail: list[list[tuple[int, object, int, int, int]]] = []  # popped, for messages
        while True:
            act = actions[stack[-1][0]].get(kind)
            if act is None:
                raise _unexpected(tok, _undo(stack, trail), prev, opened, src)
            if act >= 0:
                stack.append((act, tok, tok.start, tok.end, 0))
                prev = tok
                break
            rule = -1 - act
            origin, size, tag = rules[rule]
            if rule in passthrough:
                # A run of unit rules pops and pushes one entry each, so the state
                # it ends in depends only on (state below, top state, lookahead).
                top = stack[-1]
                below = stack[-2][0]
                key = (below, top[0], kind)
                goto = folds.get(key, -1)
                if goto < 0:
                    goto = folds[key] = _fold(below, top[0], kind)
                trail.append([top])
                stack[-1] = (goto, top[1], top[2], top[3], top[4])
            else:
                if size:
                    popped = stack[-size:]
                    del stack[-size:]
                    kids = [e[1] for e in popped]
                    start, end = popped[0][2], popped[-1][3]
                    depth = max(e[4] for e in popped)
                else:
                    popped, kids = [], []
                    start = end = tok.start
                    depth = 0
                trail.append(popped)
                value = build(tag, kids, Span(start, end))
                if isinstance(value, _Chain):  # a chain absorbs the chains it joins
                    depth = max(e[4] if isinstance(e[1], _Chain) else e[4] + 1 for e in popped)
                elif not (isinstance(value, (list, Arg, Binding, Module)) or any(value is k for k in kids)):
                    depth += 1
                if depth > MAX_DEPTH:
                    raise _too_deep(Span(start, end))
                goto = actions[stack[-1][0]][origin]
                stack.append((goto, value, start, end, depth))
            if goto == T.END_STATE and kind == _END:
                return stack[-1][1]
    raise AssertionError("the token stream always ends with $END")  # pragma: no cover


def _fold(below: int, top: int, kind: str) -> int:
    """Apply consecutive unit-rule reductions on lookahead ``kind``."""
    while True:
        act = T.ACTIONS[top].get(kind)
        if act is None or act >= 0 or (-1 - act) not in _PASSTHROUGH:
            return top
        top = T.ACTIONS[below][T.RULES[-1 - act][0]]


_FOLDS: dict[tuple[int, int, str], int] = {}
_OPENERS = frozenset(("LPAR", "LSQB"))
_CLOSERS = frozenset(("RPAR", "RSQB"))


def _too_deep(span: Span) -> LimitError:
    return LimitError(
        f"the expression nests more than {MAX_DEPTH} levels deep",
        span,
        code="E0702",
        label="too deep",
        hints=["name parts with bindings: 'a = ...; b = ...; a >> b'"],
    )


def _undo(
    stack: list[tuple[int, object, int, int, int]], trail: list[list[tuple[int, object, int, int, int]]]
) -> list[int]:
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


def _unexpected(tok: _Tok, states: list[int], prev: _Tok | None, opened: list[_Tok], src: str) -> LrdslSyntaxError:
    expected = _acceptable(states)
    words = describe_expected(expected)
    if tok.type == _END:
        hints = []
        if opened:
            from .errors import line_col

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
    hints = []
    if prev is not None and prev.type == "NUMBER" and tok.type == "NAME" and prev.end == tok.start:
        hints.append("number suffixes are k (thousand), M (million), ep (epochs) and % (of the total steps)")
    elif (
        prev is not None
        and prev.type == "NAME"
        and tok.type in ("NUMBER", "NAME", "PLACEHOLDER")
        and "COMMA" in expected
    ):
        hints.append(f"a keyword argument is written {prev.text}={tok.text}")
    elif (
        prev is not None
        and prev.type == "NAME"
        and "LPAR" in expected
        and tok.type in ("NUMBER", "NAME", "PLACEHOLDER", "LSQB")
    ):
        hints.append(f"to call {prev.text}, write {prev.text}(...)")
    elif "SEMICOLON" in expected and _END not in expected:
        hints.append("end each binding with ';'")
    elif tok.type in ("NAME", "NUMBER", "PLACEHOLDER", "LPAR") and "COMMA" in expected:
        hints.append("separate arguments with ','")
    elif tok.type in ("NAME", "NUMBER", "LPAR") and "__ANON_0" in expected:
        hints.append("chain segments with '>>'")
    return LrdslSyntaxError(
        f"unexpected {what} '{shown}'" if what else f"unexpected '{shown}'",
        Span(tok.start, tok.end),
        code="E0102",
        label=f"expected {words}",
        hints=hints,
    )


# ---------------------------------------------------------------- tree building


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
    if text.endswith("ep"):
        unit, text = "ep", text[:-2]
    elif text.endswith("%"):
        unit, text = "%", text[:-1]
    elif text[-1] in _SUFFIXES:
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


class _Chain:
    """A ``>>`` chain while it is being parsed: a mutable list, so joining n
    segments costs O(n), not O(n^2); it becomes a :class:`Seq` when used."""

    __slots__ = ("end", "items", "start")

    def __init__(self, items: list[object], start: int, end: int) -> None:
        self.items = items
        self.start = start
        self.end = end


def _fin(value: object) -> object:
    if isinstance(value, _Chain):
        return Seq(tuple(value.items), span=Span(value.start, value.end))  # type: ignore[arg-type]
    return value


def _flatten(kids: list[object]) -> list[object]:
    """Children of a repetition helper rule, punctuation dropped; the helper's
    own list (left recursion) is extended in place."""
    out: list[object] | None = None
    for kid in kids:
        if isinstance(kid, list):
            if out is None:
                out = kid
            else:
                out.extend(kid)
        elif not isinstance(kid, _Tok):
            if out is None:
                out = []
            out.append(_fin(kid))
    return [] if out is None else out


def _make(tag: str, kids: list[object], span: Span) -> object:
    if tag.startswith("__") or tag == "arguments":
        return _flatten(kids)
    if tag == "number":
        return _number(kids[0])  # type: ignore[arg-type]
    if tag == "name":
        return Name(kids[0].text, span=span)  # type: ignore[attr-defined]
    if tag == "placeholder":
        return Placeholder(kids[0].text[1:], span=span)  # type: ignore[attr-defined]
    if tag == "call":
        name = kids[0]
        args = []
        for item in _flatten(kids[1:]):
            args.append(item if isinstance(item, Arg) else Arg(None, item, span=item.span))  # type: ignore[arg-type, attr-defined]
        return Call(name.text, tuple(args), span=span, func_span=Span(name.start, name.end))  # type: ignore[attr-defined]
    if tag == "kwarg":
        name = kids[0]
        return Arg(name.text, _fin(kids[2]), span=span, name_span=Span(name.start, name.end))  # type: ignore[arg-type, attr-defined]
    if tag == "list":
        return ListExpr(tuple(_flatten(kids)), span=span)  # type: ignore[arg-type]
    if tag == "then":
        left, right = kids[0], kids[2]
        chain = left if isinstance(left, _Chain) else _Chain([left], span.start, span.end)
        if isinstance(right, _Chain):
            chain.items.extend(right.items)
        else:
            chain.items.append(right)
        chain.start, chain.end = span.start, span.end
        return chain
    if tag in _BINOPS:
        return BinOp(_BINOPS[tag], _fin(kids[0]), _fin(kids[2]), span=span)  # type: ignore[arg-type]
    if tag == "neg":
        return Neg(_fin(kids[1]), span=span)  # type: ignore[arg-type]
    if tag == "binding":
        name = kids[0]
        return Binding(name.text, _fin(kids[2]), span=span, name_span=Span(name.start, name.end))  # type: ignore[arg-type, attr-defined]
    if tag == "start":
        parts = _flatten(kids)
        return Module(tuple(parts[:-1]), parts[-1], span=span)  # type: ignore[arg-type]
    if tag == "atom":  # "(" expr ")"
        inner = kids[1]
        if isinstance(inner, _Chain):  # parentheses end a chain: a >> (b >> c) stays flat
            return inner
        return inner
    raise AssertionError(f"unhandled rule {tag}")  # pragma: no cover


_BINOPS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}
_BUILT = {"number", "name", "placeholder", "call", "kwarg", "list", "then", "neg", "binding", "start"}
_BUILT.update(_BINOPS)
#: Rules whose value is their single child (``?sum: product``).
_PASSTHROUGH = frozenset(
    i
    for i, (origin, size, tag) in enumerate(T.RULES)
    if size == 1 and tag not in _BUILT and not tag.startswith("__") and tag != "arguments"
)

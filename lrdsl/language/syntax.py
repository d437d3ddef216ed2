"""Syntax stage: schedule text -> :mod:`lrdsl.language.ast`.

The grammar is ``grammar/lrdsl.lark``, compiled by Lark's LALR(1) generator into
the cached tables of :mod:`lrdsl.language._tables` (``python -m lrdsl.language._gen_tables``).
This module drives those tables with a plain shift/reduce loop over the tokens
of :mod:`lrdsl.language.lexer` (built from the same terminal definitions, in the
order Lark's basic lexer uses); :mod:`lrdsl.language.builder` makes the nodes
and :mod:`lrdsl.language.parse_errors` the diagnostics.  The tests parse corpora
with both this driver and Lark itself and require identical trees.  Positions
are kept on every node.  No validation happens here beyond the grammar and the
limits that keep parsing bounded (source size, nesting depth, literal length);
no input ever reaches ``eval``.
"""

from __future__ import annotations

from . import _tables as T
from .ast import Arg, Binding, Module, Span
from .builder import _PASSTHROUGH, _Chain, _make
from .errors import LimitError, LrdslError, LrdslSyntaxError
from .lexer import _END, MAX_NUMBER_CHARS, _Tok, _tokens
from .parse_errors import _bad_char, _undo, _unexpected, describe_expected

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

#: Limits that keep parsing cheap whatever the input (see README, "Limits");
#: ``MAX_NUMBER_CHARS`` is the lexer's.
MAX_SOURCE_CHARS = 16 * 1024
MAX_DEPTH = 128
#: Tokens (numbers, names, operators, brackets) in one text: every later stage
#: costs about the same per token, so this bounds compile time (a chain of ~200
#: segments, or a list of ~500 numbers; real schedules use a few dozen).
MAX_TOKENS = 1_024

__all__ = ["MAX_DEPTH", "MAX_NUMBER_CHARS", "MAX_SOURCE_CHARS", "MAX_TOKENS", "describe_expected", "drive", "parse"]


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
    for count, tok in enumerate(_tokens(src), 1):
        kind = tok.type
        if count > MAX_TOKENS:
            raise _too_many_tokens(Span(tok.start, tok.end))
        if kind == "$BAD":
            raise _bad_char(tok, [e[0] for e in stack])
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


def _too_many_tokens(span: Span) -> LimitError:
    return LimitError(
        f"the schedule has more than {MAX_TOKENS} tokens (numbers, names, operators); the limit is {MAX_TOKENS}",
        span,
        code="E0701",
        label="the limit is reached here",
        hints=["a schedule this long is usually generated: use lists (multistep, piecewise) or repeat(...)"],
    )

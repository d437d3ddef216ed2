"""Syntax stage, tree building: reduced grammar rules -> :mod:`lrdsl.language.ast` nodes.

The driver in :mod:`lrdsl.language.syntax` calls :func:`_make` with a rule's tag
(its alias in ``grammar/lrdsl.lark``), its children and its span; a table maps
each tag to the function that builds its node.  Repetition helper rules
(``__start_star_0``, ``arguments``) build plain lists that the rule using them
splices in, punctuation dropped.  A ``>>`` chain stays a mutable
:class:`_Chain` while it grows, so joining n segments costs O(n), and becomes a
:class:`~lrdsl.language.ast.Seq` when something else takes it as a child.
Rules whose value is their single child (``?sum: product``) build nothing:
:data:`_PASSTHROUGH` lists them for the driver to fold.
"""

from __future__ import annotations

from . import _tables as T
from .ast import Arg, Binding, BinOp, Call, ListExpr, Module, Name, Neg, Placeholder, Seq, Span
from .lexer import _number, _Tok

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


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
    """The value of a reduced rule ``tag`` (the ``build`` of :func:`~lrdsl.language.syntax.drive`)."""
    maker = _MAKERS.get(tag)
    if maker is not None:
        return maker(kids, span)
    if tag.startswith("__"):
        return _flatten(kids)
    raise AssertionError(f"unhandled rule {tag}")  # pragma: no cover


def _arguments(kids: list[object], span: Span) -> object:
    return _flatten(kids)


def _number_rule(kids: list[object], span: Span) -> object:
    return _number(kids[0])  # type: ignore[arg-type]


def _name(kids: list[object], span: Span) -> object:
    return Name(kids[0].text, span=span)  # type: ignore[attr-defined]


def _placeholder(kids: list[object], span: Span) -> object:
    return Placeholder(kids[0].text[1:], span=span)  # type: ignore[attr-defined]


def _call(kids: list[object], span: Span) -> object:
    name = kids[0]
    args = []
    for item in _flatten(kids[1:]):
        args.append(item if isinstance(item, Arg) else Arg(None, item, span=item.span))  # type: ignore[arg-type, attr-defined]
    return Call(name.text, tuple(args), span=span, func_span=Span(name.start, name.end))  # type: ignore[attr-defined]


def _kwarg(kids: list[object], span: Span) -> object:
    name = kids[0]
    return Arg(name.text, _fin(kids[2]), span=span, name_span=Span(name.start, name.end))  # type: ignore[arg-type, attr-defined]


def _list(kids: list[object], span: Span) -> object:
    return ListExpr(tuple(_flatten(kids)), span=span)  # type: ignore[arg-type]


def _then(kids: list[object], span: Span) -> object:
    left, right = kids[0], kids[2]
    chain = left if isinstance(left, _Chain) else _Chain([left], span.start, span.end)
    if isinstance(right, _Chain):
        chain.items.extend(right.items)
    else:
        chain.items.append(right)
    chain.start, chain.end = span.start, span.end
    return chain


def _binop(op: str) -> Callable[[list[object], Span], object]:
    def make(kids: list[object], span: Span) -> object:
        return BinOp(op, _fin(kids[0]), _fin(kids[2]), span=span)  # type: ignore[arg-type]

    return make


def _neg(kids: list[object], span: Span) -> object:
    return Neg(_fin(kids[1]), span=span)  # type: ignore[arg-type]


def _binding(kids: list[object], span: Span) -> object:
    name = kids[0]
    return Binding(name.text, _fin(kids[2]), span=span, name_span=Span(name.start, name.end))  # type: ignore[arg-type, attr-defined]


def _start(kids: list[object], span: Span) -> object:
    parts = _flatten(kids)
    return Module(tuple(parts[:-1]), parts[-1], span=span)  # type: ignore[arg-type]


def _atom(kids: list[object], span: Span) -> object:
    """``"(" expr ")"``: the inner value, a chain left open (a >> (b >> c) stays flat)."""
    return kids[1]


_BINOPS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}
#: The builder of each rule tag that makes a node (or a list, or a chain).
_MAKERS: dict[str, Callable[[list[object], Span], object]] = {
    "arguments": _arguments,
    "number": _number_rule,
    "name": _name,
    "placeholder": _placeholder,
    "call": _call,
    "kwarg": _kwarg,
    "list": _list,
    "then": _then,
    **{tag: _binop(op) for tag, op in _BINOPS.items()},
    "neg": _neg,
    "binding": _binding,
    "start": _start,
    "atom": _atom,
}
#: Rules whose value is their single child (``?sum: product``).
_PASSTHROUGH = frozenset(
    i for i, (_origin, size, tag) in enumerate(T.RULES) if size == 1 and tag not in _MAKERS and not tag.startswith("__")
)

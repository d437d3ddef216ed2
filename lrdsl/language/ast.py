"""Syntax stage, output: the abstract syntax tree of a schedule text.

Immutable slotted records (:mod:`lrdsl.language._record`).  Every node carries a ``span`` (character offsets
into the source) that is excluded from equality, so two texts that differ only
in spacing, comments or number spelling (``1_000`` vs ``1000``) give equal trees.
Nothing here validates: names, arities and values are the checker's business.
"""

from __future__ import annotations

from ._record import Record

TYPE_CHECKING = False  # typing costs ~9 ms of start-up; only type checkers need it


class Span(Record):
    """Half-open range ``[start, end)`` of character offsets into the source."""

    __slots__ = ("start", "end")

    start: int
    end: int


NOSPAN = Span(0, 0)


class Num(Record):
    """A number literal.  ``unit`` is ``None``, ``"ep"``, ``"tok"``, ``"sp"`` or ``"%"``;
    the ``k``/``M``/``B``/``T`` multipliers are already applied to ``value``.  ``value`` is an ``int`` when
    the literal was written as a whole number (``12``, ``2k``), else a ``float``."""

    __slots__ = ("value", "unit", "span")
    _defaults = {"unit": None, "span": NOSPAN}
    _hidden = frozenset(("span",))

    value: int | float
    unit: str | None
    span: Span


class Name(Record):
    """A bare name: a binding, ``base``, ``prev``, ``true``/``false`` or an enum word."""

    __slots__ = ("id", "span")
    _defaults = {"span": NOSPAN}
    _hidden = frozenset(("span",))

    id: str
    span: Span


class Placeholder(Record):
    """``$name``: a value supplied by the caller (``compile(..., name=...)``, ``-D name=...``)."""

    __slots__ = ("name", "span")
    _defaults = {"span": NOSPAN}
    _hidden = frozenset(("span",))

    name: str
    span: Span


class Arg(Record):
    """One call argument; ``name`` is ``None`` for a positional argument."""

    __slots__ = ("name", "value", "span", "name_span")
    _defaults = {"span": NOSPAN, "name_span": NOSPAN}
    _hidden = frozenset(("span", "name_span"))

    name: str | None
    value: Expr
    span: Span
    name_span: Span


class Call(Record):
    """``func(args...)``: a primitive or combinator, resolved by name in the registry."""

    __slots__ = ("func", "args", "span", "func_span")
    _defaults = {"args": (), "span": NOSPAN, "func_span": NOSPAN}
    _hidden = frozenset(("span", "func_span"))

    func: str
    args: tuple[Arg, ...]
    span: Span
    func_span: Span


class ListExpr(Record):
    """``[a, b, ...]``."""

    __slots__ = ("items", "span")
    _defaults = {"items": (), "span": NOSPAN}
    _hidden = frozenset(("span",))

    items: tuple[Expr, ...]
    span: Span


class BinOp(Record):
    """``left op right`` for ``op`` in ``+ - * / **``."""

    __slots__ = ("op", "left", "right", "span")
    _defaults = {"span": NOSPAN}
    _hidden = frozenset(("span",))

    op: str
    left: Expr
    right: Expr
    span: Span


class Neg(Record):
    """Unary minus."""

    __slots__ = ("operand", "span")
    _defaults = {"span": NOSPAN}
    _hidden = frozenset(("span",))

    operand: Expr
    span: Span


class Seq(Record):
    """``a >> b >> ...``: a chain, flattened (``>>`` is associative)."""

    __slots__ = ("items", "span")
    _defaults = {"span": NOSPAN}
    _hidden = frozenset(("span",))

    items: tuple[Expr, ...]
    span: Span


class Binding(Record):
    """``name = value;`` before the schedule expression."""

    __slots__ = ("name", "value", "span", "name_span")
    _defaults = {"span": NOSPAN, "name_span": NOSPAN}
    _hidden = frozenset(("span", "name_span"))

    name: str
    value: Expr
    span: Span
    name_span: Span


class Module(Record):
    """A whole schedule text: bindings, then the schedule expression."""

    __slots__ = ("bindings", "body", "span")
    _defaults = {"span": NOSPAN}
    _hidden = frozenset(("span",))

    bindings: tuple[Binding, ...]
    body: Expr
    span: Span


if TYPE_CHECKING:
    Expr = Num | Name | Placeholder | Call | ListExpr | BinOp | Neg | Seq


def children(node: object) -> tuple[object, ...]:
    """The direct sub-nodes of ``node``, in source order (for iterative walks)."""
    if isinstance(node, Module):
        return (*node.bindings, node.body)
    if isinstance(node, Binding):
        return (node.value,)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Arg):
        return (node.value,)
    if isinstance(node, (ListExpr, Seq)):
        return node.items
    if isinstance(node, BinOp):
        return (node.left, node.right)
    if isinstance(node, Neg):
        return (node.operand,)
    return ()

"""Syntax stage, output: the abstract syntax tree of a schedule text.

Frozen, slotted dataclasses.  Every node carries a ``span`` (character offsets
into the source) that is excluded from equality, so two texts that differ only
in spacing, comments or number spelling (``1_000`` vs ``1000``) give equal trees.
Nothing here validates: names, arities and values are the checker's business.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TYPE_CHECKING = False  # typing costs ~9 ms of start-up; only type checkers need it


@dataclass(frozen=True, slots=True)
class Span:
    """Half-open range ``[start, end)`` of character offsets into the source."""

    start: int
    end: int


NOSPAN = Span(0, 0)


def _span() -> Span:
    return field(default=NOSPAN, compare=False, repr=False, kw_only=True)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Num:
    """A number literal.  ``unit`` is ``None``, ``"ep"`` or ``"%"``; the ``k``/``M``
    multipliers are already applied to ``value``.  ``value`` is an ``int`` when
    the literal was written as a whole number (``12``, ``2k``), else a ``float``."""

    value: int | float
    unit: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Name:
    """A bare name: a binding, ``base``, ``prev``, ``true``/``false`` or an enum word."""

    id: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Placeholder:
    """``$name``: a value supplied by the caller (``compile(..., name=...)``, ``-D name=...``)."""

    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Arg:
    """One call argument; ``name`` is ``None`` for a positional argument."""

    name: str | None
    value: Expr
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class Call:
    """``func(args...)``: a primitive or combinator, resolved by name in the registry."""

    func: str
    args: tuple[Arg, ...] = ()
    span: Span = _span()
    func_span: Span = _span()


@dataclass(frozen=True, slots=True)
class ListExpr:
    """``[a, b, ...]``."""

    items: tuple[Expr, ...] = ()
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class BinOp:
    """``left op right`` for ``op`` in ``+ - * / **``."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Neg:
    """Unary minus."""

    operand: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Seq:
    """``a >> b >> ...``: a chain, flattened (``>>`` is associative)."""

    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Binding:
    """``name = value;`` before the schedule expression."""

    name: str
    value: Expr
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class Module:
    """A whole schedule text: bindings, then the schedule expression."""

    bindings: tuple[Binding, ...]
    body: Expr
    span: Span = _span()


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

"""Check stage, output: the checked tree.

What :func:`lrdsl.language.check.check` returns and the compiler reads:
numbers (:class:`CNum`, still exact ASTs, placeholders filled), words, lists,
and the schedule nodes (:class:`CCall` with arguments matched to parameters,
:class:`CSeq` chains, :class:`COp` pointwise arithmetic, :class:`CConst`
numbers standing for schedules).  Each carries its span and a ``kind`` the
checker's messages name.
"""

from __future__ import annotations

from ._record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..primitives.base import Primitive
    from .ast import Span


class CNum(Record):
    """A compile-time number: an AST of numbers, ``base``/``prev`` and
    arithmetic, with placeholders already filled."""

    __slots__ = ("expr", "span", "unit", "lr")
    _defaults = {"unit": False, "lr": False}  # unit: has an ep or % literal; lr: uses base or prev

    expr: Any
    span: Span
    unit: bool
    lr: bool

    kind = "num"


class CWord(Record):
    __slots__ = ("word", "span")

    word: str
    span: Span
    kind = "word"


class CList(Record):
    __slots__ = ("items", "span")

    items: tuple[object, ...]
    span: Span
    kind = "list"


class CCall(Record):
    """A primitive or combinator call with its arguments matched to parameters.
    ``args`` maps parameter names to checked values (``operands`` for min/max)."""

    __slots__ = ("prim", "args", "span", "text", "arg_spans")
    _defaults = {"arg_spans": dict}

    prim: Primitive
    args: dict[str, object]
    span: Span
    text: str
    arg_spans: dict[str, Span]
    kind = "sched"


class CSeq(Record):
    """A chain; ``item_spans`` are where each item is written (a bound chain's
    items all point at the name that brought them in)."""

    __slots__ = ("items", "span", "text", "item_spans")
    _defaults = {"item_spans": ()}

    items: tuple[object, ...]
    span: Span
    text: str
    kind = "sched"


class COp(Record):
    """Pointwise ``+ - * /`` with at least one schedule operand."""

    __slots__ = ("op", "kids", "span", "text")

    op: str
    kids: tuple[object, ...]
    span: Span
    text: str
    kind = "sched"


class CConst(Record):
    """A number standing where a schedule is expected."""

    __slots__ = ("value", "span", "text")

    value: CNum
    span: Span
    text: str
    kind = "sched"

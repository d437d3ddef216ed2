"""Compile stage: checked tree -> :class:`~lrdsl.language.ir.Program`.

Resolves what needs the context: units (``%`` of ``total_steps``, ``ep`` of
``steps_per_epoch``, rounded half up to whole steps), defaults (``base``,
``prev``), parameter domains, segment lengths, the elastic fill of one
unbounded segment per chain, warmup targets (the value the next segment
starts at) and the values bounded segments hold after they end.

Numbers are computed exactly (fractions; a decimal literal means the decimal
the user wrote) and rounded to float64 once.

This module compiles schedules (constants, chains with their elastic fill
and warmup targets, ``repeat``, pointwise combinations, primitives); it
builds on :mod:`~lrdsl.language.compile_lengths`, which builds on
:mod:`~lrdsl.language.compile_args` and
:mod:`~lrdsl.language.compile_numbers`.  The context is
:mod:`~lrdsl.language.context`, node values :mod:`~lrdsl.language.end_values`.
"""

from __future__ import annotations

import math

from ..primitives.base import P, ParamError
from .checked import CCall, CConst, COp, CSeq
from .compile_lengths import LengthCompiler
from .compile_numbers import HANDOFF
from .context import MAX_LENGTH as MAX_LENGTH
from .context import Context as Context
from .context import context_of as context_of
from .context import make_context as make_context
from .end_values import left_limit as left_limit
from .end_values import value_at as value_at
from .errors import CompositionError, LimitError, ValueDomainError
from .ir import Node, Program

#: The most IR nodes a program may have.
MAX_NODES = 10_000


def compile_program(checked: object, ctx: Context, source: str = "") -> Program:
    root = _Compiler(ctx).node(checked, ctx.total, False, None)
    return Program(root, ctx.base, ctx.total, ctx.spe, source, (ctx.clock, ctx.tps, ctx.sps))


class _Compiler(LengthCompiler):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.count = 0

    # ------------------------------------------------------------ schedules

    def node(self, c: object, span: int | None, fill: bool, prev: object, target: float | None = None) -> Node:
        """Compile ``c``.  ``span`` is the room it has (for elastic segments of
        the chains inside it); with ``fill`` it is the elastic segment itself
        and takes exactly ``span`` steps."""
        self.count += 1
        if self.count > MAX_NODES:
            raise LimitError(
                f"the schedule has more than {MAX_NODES} parts",
                getattr(c, "span", None),
                code="E0703",
                label="limit reached here",
            )
        if isinstance(c, CConst):
            v = self.real(c.value, prev)
            if v < 0:
                raise ValueDomainError(
                    f"a learning rate must be >= 0, got {v!r}", c.span, code="E0401", label="negative"
                )
            return self.finish(Node("const", None, math.nan, P(value=v), label=c.text), span, fill)
        if isinstance(c, CSeq):
            return self.chain(c, span, fill, prev)
        if isinstance(c, COp):
            kids = tuple(self.node(k, span, False, prev) for k in c.kids)
            op = {"+": "add", "-": "sub", "*": "mul", "/": "div"}[c.op]
            if op == "div" and kids[1].params.get("value") == 0:
                raise ValueDomainError("division by zero", c.kids[1].span, code="E0401", label="divides by 0")  # type: ignore[attr-defined]
            return self.combine(op, kids, span, fill, c.text)
        assert isinstance(c, CCall)
        name = c.prim.name
        if name in ("min", "max"):
            kids = tuple(self.node(k, span, False, prev) for k in c.args["operands"])  # type: ignore[attr-defined]
            return self.combine(name, kids, span, fill, c.text)
        if name == "repeat":
            return self.repeat(c, span, fill, prev)
        return self.primitive(c, span, fill, prev, target)

    def finish(self, node: Node, span: int | None, fill: bool) -> Node:
        """Give an elastic node its span; compute a bounded node's end value."""
        if fill:
            assert span is not None
            node = node._replace(length=span)
        if node.length is not None and math.isnan(node.end):
            node = node._replace(end=left_limit(node._replace(length=None), node.length))
        return node

    def primitive(self, c: CCall, span: int | None, fill: bool, prev: object, target: float | None) -> Node:
        prim = c.prim
        args = self.resolve(c, prev, target)
        try:
            length = prim.length(args)  # type: ignore[misc]
            if fill:
                length = span
            args["_length"] = length
            params = P(prim.prepare(args))  # type: ignore[misc]
        except ParamError as err:
            raise self.prim_error(c, err) from None
        return self.finish(Node(prim.name, length, math.nan, params, label=c.text), None, False)

    def repeat(self, c: CCall, span: int | None, fill: bool, prev: object) -> Node:
        body = self.node(c.args["schedule"], None, False, prev)
        if body.length is None:
            raise CompositionError(
                f"repeat needs a bounded schedule, and '{body.label}' is unbounded",
                c.arg_spans.get("schedule", c.span),
                code="E0604",
                label="unbounded",
                hints=["bound it with steps=N (or cycles=N for periodic primitives)"],
            )
        if any(node.op == "plateau" for node in body.walk()):
            raise CompositionError(
                "a plateau cannot be repeated: its cuts follow the metric, not the step",
                c.arg_spans.get("schedule", c.span),
                code="E0607",
                label="contains plateau(...)",
            )
        args = self.resolve(c, prev, None)
        n = args["n"]
        length = None if n is None else body.length * n  # type: ignore[operator]
        node = Node("repeat", length, math.nan, P(period=body.length, count=n, decay=args["decay"]), (body,), c.text)
        return self.finish(node, span, fill)

    def combine(self, op: str, kids: tuple[Node, ...], span: int | None, fill: bool, text: str) -> Node:
        length = self.combined([k.length for k in kids], kids)
        return self.finish(Node(op, length, math.nan, P(), kids, text), span, fill)

    def chain(self, c: CSeq, span: int | None, fill: bool, prev: object) -> Node:
        items = c.items
        n = len(items)
        where = c.item_spans or tuple(i.span for i in items)  # type: ignore[attr-defined]
        lengths = [self.measure(i) for i in items]
        elastic = [i for i in range(n - 1) if lengths[i] is None]
        if len(elastic) > 1:
            a, b = (items[i] for i in elastic[:2])
            raise CompositionError(
                f"a chain can have one elastic (unbounded, not last) segment; '{_text(a)}' and '{_text(b)}' both are",
                b.span,  # type: ignore[attr-defined]
                code="E0602",
                label="second elastic segment",
                hints=["bound one of them with steps=N (or cycles=N)"],
            )
        if elastic:
            i = elastic[0]
            if span is None:
                raise CompositionError(
                    f"'{_text(items[i])}' has no length of its own and is not the last segment, so it"
                    " fills what the other segments leave of the total steps, but the total is not known",
                    where[i],
                    code="E0601",
                    label="elastic segment",
                    hints=[
                        "pass total_steps=... to lrdsl.compile, or --steps N to lrdsl eval",
                        "or bound it with steps=N (cycles=N for periodic primitives)",
                        "or move it to the end of the chain",
                    ],
                )
            used = sum(x for x in lengths if x is not None)
            room = span - used
            if room < 1:
                raise CompositionError(
                    f"the other segments take {used} of the {span} total steps, leaving nothing for"
                    f" the elastic segment '{_text(items[i])}'",
                    where[i],
                    code="E0603",
                    label="no steps left",
                    hints=["raise the total, or shorten the bounded segments"],
                )
            lengths[i] = room
        nodes: list[Node | None] = [None] * n
        for i in range(n):
            if i < n - 1 and _hands_off(items[i]):
                continue  # compiled once the segment it ramps to is
            nodes[i] = self.node(items[i], lengths[i], i in elastic, self.prev_of(nodes, i, prev))
            target = value_at(nodes[i], 0)  # type: ignore[arg-type]
            j = i - 1
            while j >= 0 and nodes[j] is None:  # the warmups before, right to left
                nodes[j] = self.node(items[j], None, False, self.prev_of(nodes, j, prev), target)
                target = value_at(nodes[j], 0)  # type: ignore[arg-type]
                j -= 1
        kids = tuple(nodes)  # type: ignore[arg-type]
        starts = [0]
        for k in kids[:-1]:
            starts.append(starts[-1] + k.length)  # type: ignore[operator, union-attr]
        last = kids[-1]
        length = None if last.length is None else starts[-1] + last.length  # type: ignore[union-attr]
        node = Node("seq", length, math.nan if length is None else last.end, P(starts=tuple(starts)), kids, c.text)  # type: ignore[arg-type, union-attr]
        return self.finish(node, span, fill)

    @staticmethod
    def prev_of(nodes: list[Node | None], i: int, outer: object) -> object:
        if i == 0:
            return outer
        before = nodes[i - 1]
        return HANDOFF if before is None else before.end


def _hands_off(c: object) -> bool:
    return isinstance(c, CCall) and c.prim.name == "warmup" and "end" not in c.args


def _text(c: object) -> str:
    text = getattr(c, "text", "")
    return text if len(text) <= 60 else text[:57] + "..."

"""What ``lrdsl explain`` shows of a segment: every parameter resolved, in the
language's own spelling.

The compiler turns a call's arguments into the numbers its formula reads
(``one_cycle``'s ``lrs``, ``ends`` and ``cos``), and those are not what the
user wrote.  :func:`segments` compiles the schedule's checked tree once more
with a compiler that keeps each call's resolved arguments (every parameter of
the primitive, given or defaulted: ``base``, ``prev``, the warmup's target),
and renders each top-level segment as a call in the language's syntax:
``one_cycle(n=1000, max=0.1, pct_start=0.3, div=25, final_div=10000,
anneal=cos, three_phase=false, start=0.004, end=4e-07)``.  A parameter that
stands for another (``div`` for ``start``, ``alpha`` for ``min``) shows the
value it comes to; ``none`` marks one left unset (an unbounded ``steps=``),
as ``lrdsl list`` writes it; an elastic segment shows the steps it fills.
"""

from __future__ import annotations

import math

from ..language.compiler import _Compiler, context_of
from ..primitives.base import LENGTH, SCHED

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..language.ir import Node
    from ..primitives.base import Primitive
    from ..schedule import Schedule

#: List items shown before the count.
_ITEMS = 8
#: Significant digits of a resolved number (float64 has 15 to 17).
DIGITS = 12


class _Recording(_Compiler):  # type: ignore[misc]
    """The compiler, keeping each call's resolved arguments by the node it made."""

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.calls: dict[int, tuple[Primitive, dict[str, Any]]] = {}
        self.filled: set[int] = set()
        self._last: dict[str, Any] = {}

    def resolve(self, c: Any, prev: object, target: float | None, lengths_only: bool = False) -> dict[str, object]:
        args = super().resolve(c, prev, target, lengths_only)
        if not lengths_only:
            self._last = args
        return args  # type: ignore[no-any-return]

    def node(self, c: Any, span: int | None, fill: bool, prev: object, target: float | None = None) -> Node:
        node = super().node(c, span, fill, prev, target)
        if fill:
            self.filled.add(id(node))
        return node  # type: ignore[no-any-return]

    def primitive(self, c: Any, span: int | None, fill: bool, prev: object, target: float | None) -> Node:
        node = super().primitive(c, span, fill, prev, target)
        self.calls[id(node)] = (c.prim, self._last)
        return node  # type: ignore[no-any-return]

    def repeat(self, c: Any, span: int | None, fill: bool, prev: object) -> Node:
        node = super().repeat(c, span, fill, prev)
        self.calls[id(node)] = (c.prim, self._last)
        return node  # type: ignore[no-any-return]


class Segment:
    """One top-level segment: its resolved text and whether it fills the total."""

    __slots__ = ("elastic", "text")

    def __init__(self, text: str, elastic: bool) -> None:
        self.text = text
        self.elastic = elastic


def segments(sched: Schedule) -> list[Segment]:
    """Each top-level segment (as :attr:`Schedule.phases` lists them), resolved."""
    rec = _Recording(context_of(sched.program, sched.base_lr))
    root = rec.node(sched._checked, rec.ctx.total, False, None)
    kids = root.kids if root.op == "seq" else (root,)
    return [Segment(_render(k, rec), id(k) in rec.filled) for k in kids]


# ---------------------------------------------------------------- rendering

_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def _render(node: Node, rec: _Recording) -> str:
    call = rec.calls.get(id(node))
    if call is not None:
        prim, args = call
        if prim.name == "repeat":
            body = _render(node.kids[0], rec)
            return f"repeat({body}, n={_value(args['n'])}, decay={_value(args['decay'])})"
        shown = _resolved(prim, args, node)
        return f"{prim.name}(" + ", ".join(f"{k}={_value(v)}" for k, v in shown.items()) + ")"
    op = node.op
    if op == "const":  # a number standing for a schedule
        return _value(node.params["value"])
    if op == "seq":
        return " >> ".join(_render(k, rec) for k in node.kids)
    if op in ("min", "max"):
        return f"{op}(" + ", ".join(_render(k, rec) for k in node.kids) + ")"
    sym = _SYMBOLS[op]
    parts = []
    for i, kid in enumerate(node.kids):
        text = _render(kid, rec)
        tight = kid.op in ("mul", "div") and op in ("add", "sub")
        if kid.op == "seq" or (kid.op in _SYMBOLS and not tight and (i > 0 or op in ("mul", "div"))):
            text = f"({text})"
        parts.append(text)
    return f" {sym} ".join(parts)


def _resolved(prim: Primitive, args: dict[str, Any], node: Node) -> dict[str, Any]:
    """Every parameter of ``prim`` (in its declared order) and the value it came to."""
    prepared = node.params
    out: dict[str, Any] = {}
    for p in prim.params:
        if p.kind == SCHED:
            continue
        value = args.get(p.name)
        if value is None and prepared.get(p.name) is not None:
            value = prepared[p.name]  # a default the primitive works out (cyclic's down, ...)
        out[p.name] = value
    _alternatives(prim.name, out, prepared)
    length = args.get("_length")
    if length is not None and node.length is not None:
        # an elastic segment: the bound it was given is the steps it fills
        for p in prim.params:
            if p.kind == LENGTH and out.get(p.name) is None:
                out[p.name] = length
                break
    return out


def _alternatives(name: str, out: dict[str, Any], prepared: Any) -> None:
    """Parameters that say one thing two ways: each shows the value it comes to."""
    if name in ("cosine", "cosine_restarts"):
        low, peak = prepared.get("min"), out.get("peak")
        if out.get("min") is None:
            out["min"] = low
        if out.get("alpha") is None and low is not None and peak:
            out["alpha"] = low / peak
    elif name == "one_cycle":
        lrs = prepared["lrs"]
        initial, top, low = lrs[0][0], lrs[0][1], lrs[-1][1]
        if out.get("start") is None:
            out["start"] = initial
        if out.get("end") is None:
            out["end"] = low
        if out.get("div") is None and initial:
            out["div"] = top / initial
        if out.get("final_div") is None and low:
            out["final_div"] = initial / low


def _value(v: object) -> str:
    """A resolved value as the language writes it."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return number(v)
    if isinstance(v, (tuple, list)):
        items = [_value(x) for x in v[:_ITEMS]]
        more = f", ... ({len(v)} in all)" if len(v) > _ITEMS else ""
        return "[" + ", ".join(items) + more + "]"
    return str(v)


def number(x: float) -> str:
    """``x`` to :data:`DIGITS` significant digits, as a person reads it
    (``0.0006``, not ``0.0006000000000000001``); whole numbers without a point."""
    if not math.isfinite(x):
        return str(x)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.{DIGITS}g}"

"""Compile stage: checked tree -> :class:`~lrdsl.language.ir.Program`.

Resolves what needs the context: units (``%`` of ``total_steps``, ``ep`` of
``steps_per_epoch``, rounded half up to whole steps), defaults (``base``,
``prev``), parameter domains, segment lengths, the elastic fill of one
unbounded segment per chain, warmup targets (the value the next segment
starts at) and the values bounded segments hold after they end.

Numbers are computed exactly (fractions; a decimal literal means the decimal
the user wrote) and rounded to float64 once.
"""

from __future__ import annotations

import math
from fractions import Fraction

from ..backends.ops import ScalarOps
from ..backends.reference import evaluate
from ..primitives import REGISTRY
from ..primitives.base import (
    BASE,
    BOOL,
    ENUM,
    INT,
    LENGTH,
    NEXT,
    POSITION,
    POSITIONS,
    PREV,
    REQUIRED,
    SCHED,
    VALUE,
    VALUES,
    P,
    Param,
    ParamError,
    Primitive,
)
from ..primitives.restarts import decimal_fraction
from ._record import Record
from .check import CCall, CConst, CList, CNum, COp, CSeq, CWord
from .errors import CompositionError, ContextError, LimitError, LrdslError, ValueDomainError
from .ir import Node, Program

#: The most IR nodes a program may have.
MAX_NODES = 10_000
#: The longest length a segment may have (float64 represents every step below it).
MAX_LENGTH = 2**53

_SCALAR = ScalarOps()


class _Handoff:
    """``prev`` of the segment after a warmup: the warmup ends where that
    segment starts, so an explicit ``prev`` there is a cycle."""


HANDOFF = _Handoff()


class Context(Record):
    """What a compile knows beyond the text: the base lr, the total steps, the steps per epoch."""

    __slots__ = ("base", "total", "spe")
    _defaults = {"base": 1.0, "total": None, "spe": None}

    base: float
    total: int | None
    spe: int | None


def make_context(base_lr: object, total_steps: object, steps_per_epoch: object) -> Context:
    """Validate the caller's context (E0503)."""
    base = 1.0 if base_lr is None else base_lr
    if isinstance(base, bool) or not isinstance(base, (int, float)) or not math.isfinite(base) or base < 0:
        raise ContextError(f"base_lr must be a finite number >= 0, got {base_lr!r}", code="E0503")
    for name, value in (("total_steps", total_steps), ("steps_per_epoch", steps_per_epoch)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LENGTH
        ):
            raise ContextError(f"{name} must be a whole number from 1 to 2**53, got {value!r}", code="E0503")
    return Context(float(base), total_steps, steps_per_epoch)  # type: ignore[arg-type]


def compile_program(checked: object, ctx: Context, source: str = "") -> Program:
    root = _Compiler(ctx).node(checked, ctx.total, False, None)
    return Program(root, ctx.base, ctx.total, ctx.spe, source)


def value_at(node: Node, t: int) -> float:
    return float(evaluate(_SCALAR, node, t))  # type: ignore[arg-type]


class _Compiler:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.count = 0

    # ------------------------------------------------------------ numbers

    def exact(self, c: CNum, prev: object) -> Fraction | float:
        try:
            return self._eval(c.expr, prev)
        except OverflowError:
            raise ValueDomainError("number too large for a float64", c.span, code="E0105") from None

    def _eval(self, e: object, prev: object) -> Fraction | float:
        from . import ast as A

        if isinstance(e, A.Num):
            x = Fraction(e.value) if isinstance(e.value, int) else decimal_fraction(e.value)
            if e.unit == "%":
                if self.ctx.total is None:
                    raise ContextError(
                        f"'{e.value}%' is a fraction of the total steps, which is not known",
                        e.span,
                        code="E0501",
                        label="needs total_steps",
                        hints=["pass total_steps=... to lrdsl.compile, or --steps N to lrdsl eval"],
                    )
                return x * self.ctx.total / 100
            if e.unit == "ep":
                if self.ctx.spe is None:
                    raise ContextError(
                        f"'{e.value}ep' counts epochs, but steps_per_epoch is not known",
                        e.span,
                        code="E0502",
                        label="needs steps_per_epoch",
                        hints=["pass steps_per_epoch=... to lrdsl.compile, or --steps-per-epoch K to lrdsl eval"],
                    )
                return x * self.ctx.spe
            return x
        if isinstance(e, A.Name):
            if e.id == "base":
                return Fraction(self.ctx.base)
            if prev is HANDOFF:
                raise CompositionError(
                    "'prev' here is where the warmup before this segment ends, and that warmup ends"
                    " where this segment starts: the value depends on itself",
                    e.span,
                    code="E0605",
                    label="circular",
                    hints=["give this segment an explicit start value, or the warmup an explicit end="],
                )
            if prev is None:
                raise CompositionError(
                    "'prev' is the value the previous segment ends at, and there is no previous segment here",
                    e.span,
                    code="E0605",
                    label="no previous segment",
                    hints=["use 'base' or a number"],
                )
            assert isinstance(prev, float)
            return Fraction(prev)
        if isinstance(e, A.Neg):
            return -self._eval(e.operand, prev)
        assert isinstance(e, A.BinOp)
        a, b = self._eval(e.left, prev), self._eval(e.right, prev)
        if e.op == "+":
            return a + b
        if e.op == "-":
            return a - b
        if e.op == "*":
            return a * b
        if e.op == "/":
            if b == 0:
                raise ValueDomainError("division by zero", e.span, code="E0401", label="divides by 0")
            return a / b
        # '**': exact for small whole exponents, float otherwise
        if isinstance(b, Fraction) and b.denominator == 1 and abs(b) <= 64 and not (a == 0 and b < 0):
            return a**b
        if a < 0 and not (isinstance(b, Fraction) and b.denominator == 1):
            raise ValueDomainError("a negative number to a fractional power", e.span, code="E0401")
        if a == 0 and b < 0:
            raise ValueDomainError("zero to a negative power", e.span, code="E0401")
        return float(a) ** float(b)

    def real(self, c: CNum, prev: object) -> float:
        exact = self.exact(c, prev)
        try:
            x = float(exact)
        except OverflowError:
            x = math.inf
        if not math.isfinite(x):
            raise ValueDomainError("number too large for a float64", c.span, code="E0105", label="overflows")
        if x == 0.0 and exact != 0:
            raise ValueDomainError("number too small for a float64", c.span, code="E0105", label="underflows to 0")
        return x

    def steps(self, c: CNum, what: str, minimum: int) -> int:
        """A length or position in whole steps."""
        x = self.exact(c, None)
        if c.unit:
            n = math.floor(x + Fraction(1, 2))  # whole steps, halves rounded up
            if n < minimum and x >= 0:
                from .printer import to_text

                raise ValueDomainError(
                    f"{what} is {to_text(c.expr)} = {_show(x)} steps, which rounds to {n}",
                    c.span,
                    code="E0403",
                    label=f"rounds to {n}",
                    hints=["use a larger fraction, or a length in steps"],
                )
        else:
            if isinstance(x, float) or x.denominator != 1:
                raise ValueDomainError(
                    f"{what} must be a whole number of steps, got {_show(x)}",
                    c.span,
                    code="E0402",
                    label="not whole",
                    hints=["lengths are counted in steps; '%' and 'ep' lengths are rounded for you"],
                )
            n = int(x)
        if n < minimum:
            raise ValueDomainError(
                f"{what} must be at least {minimum}, got {n}", c.span, code="E0401", label="too small"
            )
        if n > MAX_LENGTH:
            raise ValueDomainError(f"{what} {n} is beyond 2**53 steps", c.span, code="E0401", label="too large")
        return n

    # ------------------------------------------------------------ arguments

    def resolve(self, c: CCall, prev: object, target: float | None, lengths_only: bool = False) -> dict[str, object]:
        args: dict[str, object] = {}
        for param in c.prim.params:
            if param.kind == SCHED:
                continue
            if lengths_only and param.kind in (VALUE, VALUES):
                args[param.name] = 0.0
                continue
            given = c.args.get(param.name)
            if given is None:
                args[param.name] = self.default(param, prev, target)
            else:
                args[param.name] = self.argument(c.prim, param, given, prev)
        return args

    def default(self, param: Param, prev: object, target: float | None) -> object:
        d = param.default
        if d is BASE:
            return self.ctx.base
        if d is PREV:
            return prev if isinstance(prev, float) else self.ctx.base
        if d is NEXT:
            return self.ctx.base if target is None else target
        assert d is not REQUIRED
        return d

    def argument(self, prim: Primitive, param: Param, value: object, prev: object) -> object:
        kind = param.kind
        if kind == BOOL:
            assert isinstance(value, CWord)
            return value.word == "true"
        if kind == ENUM:
            assert isinstance(value, CWord)
            return value.word
        if kind in (POSITIONS, VALUES):
            assert isinstance(value, CList)
            items = [
                self.argument(prim, param._replace(kind=POSITION if kind == POSITIONS else VALUE), i, prev)
                for i in value.items
            ]
            if kind == POSITIONS:
                for a, b, item in zip(items, items[1:], value.items[1:]):
                    if b <= a:  # type: ignore[operator]
                        raise ValueDomainError(
                            f"{prim.name}'s {param.name} must be strictly increasing: {b} follows {a}",
                            item.span,  # type: ignore[attr-defined]
                            code="E0401",
                            label="not increasing",
                        )
            return tuple(items)
        assert isinstance(value, CNum)
        what = f"{prim.name}'s {param.name}"
        if kind == LENGTH:
            return self.steps(value, what, 1)
        if kind == POSITION:
            return self.steps(value, what, 0)
        x = self.real(value, prev)
        if kind == INT:
            if not x.is_integer():
                raise ValueDomainError(
                    f"{what} must be a whole number, got {x!r}", value.span, code="E0401", label="not whole"
                )
            x = int(x)  # type: ignore[assignment]
        if kind == VALUE:
            if x < 0:
                raise ValueDomainError(
                    f"{what} is a learning rate and must be >= 0, got {x!r}",
                    value.span,
                    code="E0401",
                    label="negative",
                )
            return x
        if not param.domain.contains(x):
            raise ValueDomainError(
                f"{what} must be {param.domain.describe()}, got {_show(x)}",
                value.span,
                code="E0401",
                label="out of range",
            )
        return x

    def prim_error(self, c: CCall, err: ParamError) -> LrdslError:
        span = c.arg_spans.get(err.param, c.span)
        message = str(err) if str(err).startswith(c.prim.name) else f"{c.prim.name}: {err}"
        return ValueDomainError(message, span, code=err.code, label="here")

    # ------------------------------------------------------------ lengths

    def measure(self, c: object) -> int | None:
        """The length ``c`` will have, without a span to fill (None: unbounded)."""
        if isinstance(c, CConst):
            return None
        if isinstance(c, CSeq):
            lengths = [self.measure(i) for i in c.items]
            return None if None in lengths else sum(lengths)  # type: ignore[arg-type]
        if isinstance(c, COp):
            return self.combined([self.measure(k) for k in c.kids], c.kids)
        assert isinstance(c, CCall)
        name = c.prim.name
        if name == "repeat":
            body = self.measure(c.args["schedule"])
            n = c.args.get("n")
            if body is None or n is None:
                return None
            return body * int(self.real(n, None))  # type: ignore[arg-type]
        if name in ("min", "max"):
            kids = c.args["operands"]
            return self.combined([self.measure(k) for k in kids], kids)  # type: ignore[attr-defined]
        args = self.resolve(c, None, None, lengths_only=True)
        try:
            return c.prim.length(args)  # type: ignore[misc]
        except ParamError as err:
            raise self.prim_error(c, err) from None

    @staticmethod
    def combined(lengths: list[int | None], kids: object) -> int | None:
        """A pointwise combination lasts as long as its longest bounded operand,
        unless an operand that is not a constant is unbounded."""
        bounded = [n for n in lengths if n is not None]
        for n, kid in zip(lengths, kids):  # type: ignore[call-overload]
            if n is None and not _constant(kid):
                return None
        return max(bounded) if bounded else None

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


def _constant(c: object) -> bool:
    if isinstance(c, Node):
        return c.op == "const" and c.length is None
    return isinstance(c, CConst) or (isinstance(c, CCall) and c.prim.name == "const" and "steps" not in c.args)


def _text(c: object) -> str:
    text = getattr(c, "text", "")
    return text if len(text) <= 60 else text[:57] + "..."


def _show(x: Fraction | float) -> str:
    """A number for a message: whole numbers without '.0', huge ones short."""
    try:
        f = float(x)
    except OverflowError:
        return "a number beyond float64"
    if isinstance(x, Fraction) and x.denominator == 1 and abs(x) < 10**15:
        return str(x.numerator)
    if f.is_integer() and abs(f) < 1e15:
        return str(int(f))
    return repr(f)


def left_limit(node: Node, at: int) -> float:
    """The value ``node`` approaches just before step ``at`` (its end value when
    bounded there): formulas that are continuous give their value at ``at``,
    staircases their last step's value, a restart cycle that ends exactly there
    its minimum."""
    if node.length is not None and node.length <= at:
        return node.end
    op = node.op
    if op == "seq":
        starts = node.params["starts"]
        k = max(i for i, s in enumerate(starts) if s < at)
        return left_limit(node.kids[k], at - starts[k])
    if op == "repeat":
        period = node.params["period"]
        k = (at - 1) // period
        # IEEE, as the evaluators compute it: decay**k overflows to inf, never raises
        return _SCALAR.power(float(node.params["decay"]), float(k)) * left_limit(node.kids[0], at - k * period)
    if op in ("min", "max", "add", "sub", "mul", "div"):
        vals = [left_limit(k, at) for k in node.kids]
        return _combine(op, vals)
    prim = REGISTRY[op]
    if prim.end_fn is not None:
        return prim.end_fn(node.params, at)
    rule = prim.end
    if rule == "staircase":
        rule = "stair" if node.params["staircase"] else "continuous"
    t = at if rule == "continuous" else at - 1
    assert prim.formula is not None
    return float(prim.formula(_SCALAR, t, node.params))


def _combine(op: str, vals: list[float]) -> float:
    if op == "min":
        return min(vals)
    if op == "max":
        return max(vals)
    a, b = vals
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    return a / b

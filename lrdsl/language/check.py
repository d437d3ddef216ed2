"""Check stage: AST -> checked tree.

Resolves names (bindings, ``base``, ``prev``, ``true``/``false``, enum words)
and placeholders, looks primitives up in the registry, matches arguments to
parameters (arity, keywords, duplicates, order) and checks the kind of every
value (number, length, list, schedule, word).  Everything that needs the
compile context (units, the base learning rate, domains of computed values)
is the compiler's.  Errors carry spans and did-you-mean hints.
"""

from __future__ import annotations

from ..primitives import REGISTRY
from ..primitives.base import (
    BOOL,
    ENUM,
    KIND_WORDS,
    LENGTH,
    POSITION,
    POSITIONS,
    SCHED,
    VALUE,
    VALUES,
    Param,
    Primitive,
)
from . import ast as A
from ._record import Record
from .errors import ArgumentError, LimitError, LrdslError, UnknownNameError, did_you_mean
from .syntax import MAX_DEPTH

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

RESERVED = frozenset({"base", "prev", "true", "false"})


class CNum(Record):
    """A compile-time number: an AST of numbers, ``base``/``prev`` and
    arithmetic, with placeholders already filled."""

    __slots__ = ("expr", "span", "unit", "lr")
    _defaults = {"unit": False, "lr": False}  # unit: has an ep or % literal; lr: uses base or prev

    expr: Any
    span: A.Span
    unit: bool
    lr: bool

    kind = "num"


class CWord(Record):
    __slots__ = ("word", "span")

    word: str
    span: A.Span
    kind = "word"


class CList(Record):
    __slots__ = ("items", "span")

    items: tuple[object, ...]
    span: A.Span
    kind = "list"


class CCall(Record):
    """A primitive or combinator call with its arguments matched to parameters.
    ``args`` maps parameter names to checked values (``operands`` for min/max)."""

    __slots__ = ("prim", "args", "span", "text", "arg_spans")
    _defaults = {"arg_spans": dict}

    prim: Primitive
    args: dict[str, object]
    span: A.Span
    text: str
    arg_spans: dict[str, A.Span]
    kind = "sched"


class CSeq(Record):
    """A chain; ``item_spans`` are where each item is written (a bound chain's
    items all point at the name that brought them in)."""

    __slots__ = ("items", "span", "text", "item_spans")
    _defaults = {"item_spans": ()}

    items: tuple[object, ...]
    span: A.Span
    text: str
    kind = "sched"


class COp(Record):
    """Pointwise ``+ - * /`` with at least one schedule operand."""

    __slots__ = ("op", "kids", "span", "text")

    op: str
    kids: tuple[object, ...]
    span: A.Span
    text: str
    kind = "sched"


class CConst(Record):
    """A number standing where a schedule is expected."""

    __slots__ = ("value", "span", "text")

    value: CNum
    span: A.Span
    text: str
    kind = "sched"


#: Names ``lrdsl.compile`` takes itself, so no placeholder could ever be given them.
RESERVED_PLACEHOLDERS = frozenset({"base_lr", "total_steps", "steps_per_epoch"})


def check(module: A.Module, placeholders: Mapping[str, object] | None = None) -> object:
    """Check a parsed module; return the checked schedule expression."""
    return _Checker(dict(placeholders or {})).module(module)


class _Checker:
    def __init__(self, placeholders: dict[str, object]) -> None:
        self.placeholders = placeholders
        self.used: set[str] = set()
        self.bindings: dict[str, object] = {}
        self.sizes: dict[int, tuple[int, int]] = {}

    # -------------------------------------------------------------- names

    def module(self, module: A.Module) -> object:
        for b in module.bindings:
            if b.name in RESERVED or b.name in REGISTRY:
                what = "a primitive" if b.name in REGISTRY else "reserved"
                raise LrdslError(
                    f"'{b.name}' is {what} and cannot be bound",
                    b.name_span,
                    code="E0206",
                    label="choose another name",
                )
            if b.name in self.bindings:
                raise LrdslError(f"'{b.name}' is bound twice", b.name_span, code="E0206", label="bound again here")
            self.bindings[b.name] = self.expr(b.value)
            self._bound(self.bindings[b.name], b.span, f"'{b.name}'")
        body = self.expr(module.body)
        self._bound(body, module.body.span, "the schedule")
        self._check_placeholders()
        return self.as_sched(body, module.body)

    def _bound(self, value: object, span: A.Span, what: str) -> None:
        """Bindings share subtrees, so ``b = a >> a; c = b >> b; ...`` doubles in a
        few characters, and ``b = a + 1; c = b + 1; ...`` nests one level per
        binding; everything after this stage walks the expanded tree."""
        size, depth = expanded_size(value, self.sizes)
        if size > MAX_NODES:
            raise LimitError(
                f"{what} expands to {size} parts; the limit is {MAX_NODES}",
                span,
                code="E0703",
                label="too large once its bindings are expanded",
            )
        if depth > MAX_DEPTH:
            raise LimitError(
                f"{what} nests {depth} levels deep once its bindings are expanded; the limit is {MAX_DEPTH}",
                span,
                code="E0702",
                label="too deep",
            )

    def _check_placeholders(self) -> None:
        unused = sorted(set(self.placeholders) - self.used)
        if unused:
            raise UnknownNameError(
                f"placeholder value given for {', '.join('$' + u for u in unused)}, which the schedule does not use",
                None,
                code="E0205",
                hints=did_you_mean(unused[0], self.used) if self.used else [],
            )

    def expr(self, node: object) -> object:
        if isinstance(node, A.Num):
            return CNum(node, node.span, unit=node.unit is not None)
        if isinstance(node, A.Name):
            return self.name(node)
        if isinstance(node, A.Placeholder):
            return self.placeholder(node)
        if isinstance(node, A.Call):
            return self.call(node)
        if isinstance(node, A.ListExpr):
            return CList(tuple(self.expr(i) for i in node.items), node.span)
        if isinstance(node, A.Seq):
            from .printer import to_text

            items: list[object] = []
            spans: list[A.Span] = []
            for i in node.items:
                value = self.as_sched(self.expr(i), i)
                if isinstance(value, CSeq):  # a bound chain joins this one, as if written out
                    items.extend(value.items)
                    spans.extend(i.span for _ in value.items)  # type: ignore[attr-defined]
                else:
                    items.append(value)
                    spans.append(i.span)  # type: ignore[attr-defined]
            return CSeq(tuple(items), node.span, to_text(node), tuple(spans))
        if isinstance(node, A.Neg):
            inner = self.expr(node.operand)
            if isinstance(inner, CNum):
                return CNum(A.Neg(inner.expr, span=node.span), node.span, inner.unit, inner.lr)
            raise self.kind_error(inner, node.operand, "a number", "'-' negates numbers only")
        if isinstance(node, A.BinOp):
            return self.binop(node)
        raise TypeError(f"unexpected node {node!r}")  # pragma: no cover

    def name(self, node: A.Name) -> object:
        if node.id in self.bindings:
            return self.bindings[node.id]
        if node.id in ("base", "prev"):
            return CNum(node, node.span, lr=True)
        return CWord(node.id, node.span)

    def placeholder(self, node: A.Placeholder) -> object:
        if node.name in RESERVED_PLACEHOLDERS:
            raise ArgumentError(
                f"${node.name} cannot be a placeholder: {node.name}= is lrdsl.compile's own argument",
                node.span,
                code="E0206",
                label="reserved name",
                hints=[f"rename it, e.g. ${node.name}_value"],
            )
        if node.name not in self.placeholders:
            hints = [f"give it a value: lrdsl.compile(..., {node.name}=...) or lrdsl eval -D {node.name}=..."]
            if self.placeholders:
                hints = did_you_mean(node.name, self.placeholders) + hints
            raise UnknownNameError(
                f"placeholder ${node.name} has no value",
                node.span,
                code="E0204",
                label="no value given",
                hints=hints,
            )
        self.used.add(node.name)
        try:
            value = placeholder_value(node.name, self.placeholders[node.name])
        except LrdslError as err:
            err.span = err.span or node.span
            raise
        return CNum(A.Num(value.value, value.unit, span=node.span), node.span, unit=value.unit is not None)

    # -------------------------------------------------------------- operators

    def binop(self, node: A.BinOp) -> object:
        left, right = self.expr(node.left), self.expr(node.right)
        for side, ast_side in ((left, node.left), (right, node.right)):
            if isinstance(side, (CWord, CList)):
                raise self.kind_error(
                    side, ast_side, "a number or a schedule", f"'{node.op}' needs numbers or schedules"
                )
        if isinstance(left, CNum) and isinstance(right, CNum):
            expr = A.BinOp(node.op, left.expr, right.expr, span=node.span)
            return CNum(expr, node.span, left.unit or right.unit, left.lr or right.lr)
        if node.op == "**":
            raise LrdslError(
                "'**' takes numbers, not schedules",
                node.span,
                code="E0606",
                label="a schedule here",
                hints=["for a decay per step use exp(gamma) or step(every, gamma)"],
            )
        if node.op == "/" and not isinstance(right, CNum):
            raise LrdslError(
                "a schedule can be divided by a number only",
                node.right.span,  # type: ignore[attr-defined]
                code="E0606",
                label="a schedule here",
            )
        from .printer import to_text

        kids = (self.as_sched(left, node.left), self.as_sched(right, node.right))
        return COp(node.op, kids, node.span, to_text(node))

    def as_sched(self, value: object, node: object) -> object:
        """``value`` where a schedule is expected (a number becomes a constant)."""
        if isinstance(value, CNum):
            if value.unit:
                raise ArgumentError(
                    "a length (with 'ep' or '%') is not a learning rate",
                    value.span,
                    code="E0305",
                    label="a length, where a schedule is expected",
                )
            from .printer import to_text

            return CConst(value, value.span, to_text(value.expr))
        if isinstance(value, (CCall, CSeq, COp, CConst)):
            return value
        raise self.kind_error(value, node, "a schedule", "")

    def kind_error(self, value: object, node: object, wanted: str, why: str) -> LrdslError:
        span = getattr(node, "span", None) or getattr(value, "span", None)
        if isinstance(value, CWord):
            span = value.span  # where the word is written, which may be inside a binding
            if value.word in ("true", "false"):
                return ArgumentError(f"expected {wanted}, got {value.word}", span, code="E0305", label=why)
            pool = [*self.bindings, "base", "prev", *(REGISTRY if "schedule" in wanted else ())]
            hints = did_you_mean(value.word, pool)
            if value.word in ("nan", "inf", "infinity", "NaN", "Inf"):
                hints = ["numbers are finite: there is no nan or inf literal"]
            if value.word in REGISTRY:
                hints = [f"'{value.word}' is a primitive: call it, e.g. {REGISTRY[value.word].signature}"]
            return UnknownNameError(
                f"unknown name '{value.word}'", span, code="E0203", label="not defined", hints=hints
            )
        got = {"num": "a number", "list": "a list", "sched": "a schedule"}.get(
            getattr(value, "kind", ""), "something else"
        )
        return ArgumentError(f"expected {wanted}, got {got}", span, code="E0305", label=why or f"{got} here")

    # -------------------------------------------------------------- calls

    def call(self, node: A.Call) -> CCall:
        from .printer import to_text

        prim = REGISTRY.get(node.func)
        if prim is None:
            raise UnknownNameError(
                f"unknown primitive '{node.func}'",
                node.func_span,
                code="E0201",
                label="not a primitive",
                hints=did_you_mean(node.func, REGISTRY) or ["`lrdsl list` shows every primitive"],
            )
        if prim.variadic:
            return self.variadic(prim, node, to_text(node))
        args: dict[str, object] = {}
        spans: dict[str, A.Span] = {}
        positional = [p for p in prim.params if p.positional]
        seen_keyword: A.Arg | None = None
        for i, arg in enumerate(node.args):
            if arg.name is None:
                if seen_keyword is not None:
                    raise ArgumentError(
                        "positional argument after a keyword argument",
                        arg.span,
                        code="E0304",
                        label="positional",
                        hints=[f"move it before '{seen_keyword.name}=' or name it"],
                    )
                if i >= len(positional):
                    raise ArgumentError(
                        f"{prim.name} takes at most {len(positional)} positional argument"
                        f"{'s' if len(positional) != 1 else ''}, got {sum(a.name is None for a in node.args)}",
                        arg.span,
                        code="E0301",
                        label="one too many",
                        hints=[f"the signature is {prim.signature}"],
                    )
                param = positional[i]
            else:
                seen_keyword = arg
                found = prim.param(arg.name)
                if found is None:
                    raise self.unknown_keyword(prim, arg)
                param = found
            if param.name in args:
                raise ArgumentError(
                    f"{prim.name} got '{param.name}' twice",
                    arg.name_span if arg.name else arg.span,
                    code="E0303",
                    label="given again here",
                )
            args[param.name] = self.argument(prim, param, arg)
            spans[param.name] = arg.span
        for param in prim.params:
            if param.required and param.name not in args:
                raise ArgumentError(
                    f"{prim.name} needs '{param.name}' ({param.doc})",
                    node.span,
                    code="E0302",
                    label=f"'{param.name}' missing",
                    hints=[f"the signature is {prim.signature}"],
                )
        return CCall(prim, args, node.span, to_text(node), spans)

    def unknown_keyword(self, prim: Primitive, arg: A.Arg) -> LrdslError:
        assert arg.name is not None
        names = [p.name for p in prim.params]
        hints = did_you_mean(arg.name, names)
        if arg.name == "steps" and "steps" not in names:
            hints = [f"{prim.name} already has a length ({prim.params[0].name}); 'steps=' bounds unbounded primitives"]
        elif not hints:
            hints = [f"{prim.name} takes {', '.join(names)}"]
        return UnknownNameError(
            f"{prim.name} has no parameter '{arg.name}'",
            arg.name_span,
            code="E0202",
            label="unknown keyword",
            hints=hints,
        )

    def variadic(self, prim: Primitive, node: A.Call, text: str) -> CCall:
        kids = []
        for arg in node.args:
            if arg.name is not None:
                raise UnknownNameError(
                    f"{prim.name} takes only positional operands",
                    arg.name_span,
                    code="E0202",
                    label="keyword",
                )
            kids.append(self.as_sched(self.expr(arg.value), arg.value))
        if len(kids) < 2:
            raise ArgumentError(
                f"{prim.name} needs at least two operands, got {len(kids)}",
                node.span,
                code="E0302",
                label="add an operand",
                hints=[f"e.g. {prim.name}(cosine(1000), 1e-5)"],
            )
        return CCall(prim, {"operands": tuple(kids)}, node.span, text)

    def argument(self, prim: Primitive, param: Param, arg: A.Arg) -> object:
        value = self.expr(arg.value)
        kind = param.kind
        if kind == SCHED:
            return self.as_sched(value, arg.value)
        if kind in (BOOL, ENUM):
            choices = ("true", "false") if kind == BOOL else param.choices
            if isinstance(value, CWord) and value.word in choices:
                return value
            if isinstance(value, CWord):
                raise self._bad_choice(prim, param, value, choices)
            raise self.kind_error(
                value, arg.value, " or ".join(choices), f"{param.name} is one of: {', '.join(choices)}"
            )
        if kind in (POSITIONS, VALUES):
            if not isinstance(value, CList):
                raise self.kind_error(value, arg.value, "a list", f"{param.name} is a list, e.g. [30, 60, 90]")
            return CList(
                tuple(
                    self.number(prim, param, item, item, VALUE if kind == VALUES else POSITION) for item in value.items
                ),
                value.span,
            )
        return self.number(prim, param, value, arg.value, kind)

    def number(self, prim: Primitive, param: Param, value: object, node: object, kind: str) -> CNum:
        if not isinstance(value, CNum):
            raise self.kind_error(
                value,
                node,
                KIND_WORDS.get(kind, "a number"),
                f"{param.name} is {KIND_WORDS.get(param.kind, 'a number')}",
            )
        if value.unit and kind not in (LENGTH, POSITION):
            raise ArgumentError(
                f"{prim.name}'s '{param.name}' is {KIND_WORDS[param.kind]}; units (ep, %) apply to lengths only",
                value.span,
                code="E0305",
                label="a length",
            )
        if value.lr and kind != VALUE:
            raise ArgumentError(
                f"{prim.name}'s '{param.name}' is {KIND_WORDS[param.kind]}, not a learning rate; 'base' and 'prev' are learning rates",
                value.span,
                code="E0305",
                label="a learning rate here",
            )
        return value

    def _bad_choice(self, prim: Primitive, param: Param, value: CWord, choices: tuple[str, ...]) -> LrdslError:
        return ArgumentError(
            f"{prim.name}'s '{param.name}' must be one of {', '.join(choices)}; got '{value.word}'",
            value.span,
            code="E0306",
            label="not a choice",
            hints=did_you_mean(value.word, choices),
        )


#: The most parts (checked nodes and number terms) a schedule may expand to.
MAX_NODES = 10_000


def _parts(value: object) -> tuple[object, ...]:
    if isinstance(value, CNum):
        return (value.expr,)
    if isinstance(value, (A.BinOp, A.Neg)):
        return A.children(value)
    if isinstance(value, (CList, CSeq)):
        return value.items
    if isinstance(value, COp):
        return value.kids
    if isinstance(value, CConst):
        return (value.value,)
    if isinstance(value, CCall):
        out: list[object] = []
        for v in value.args.values():
            out.extend(v if isinstance(v, tuple) else (v,))
        return tuple(out)
    return ()


def expanded_size(value: object, memo: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """``(parts, depth)`` of ``value`` with every shared subtree counted each
    time it is used; iterative and linear in the number of distinct objects.
    Number wrappers (:class:`CNum`, :class:`CConst`) add no depth, so depth matches the
    parser's count for an expression written out."""
    stack: list[tuple[object, bool]] = [(value, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in memo:
            continue
        parts = _parts(node)
        if done:
            size = 1 + sum(memo[id(p)][0] for p in parts)
            depth = max((memo[id(p)][1] for p in parts), default=0) + (0 if isinstance(node, (CNum, CConst)) else 1)
            memo[key] = (size, depth)
        else:
            stack.append((node, True))
            stack.extend((p, False) for p in parts if id(p) not in memo)
    return memo[id(value)]


def placeholder_value(name: str, value: object) -> A.Num:
    """A placeholder's value as a number literal: an int, a float, or text such
    as ``"3e-4"`` or ``"5%"`` (how ``-D name=value`` arrives)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ArgumentError(f"placeholder ${name} must be a number, not {type(value).__name__}", None, code="E0305")
    if isinstance(value, str):
        from .syntax import parse

        try:
            body = parse(value.strip()).body
        except LrdslError:
            body = None
        if not isinstance(body, A.Num):
            raise ArgumentError(
                f"placeholder ${name}={value!r} is not a number",
                None,
                code="E0305",
                hints=["placeholder values are numbers, optionally with a unit: 3e-4, 2k, 5%, 2ep"],
            )
        return body
    if isinstance(value, float) and not (value == value and abs(value) != float("inf")):
        raise ArgumentError(f"placeholder ${name}={value} is not finite", None, code="E0105")
    return A.Num(value)

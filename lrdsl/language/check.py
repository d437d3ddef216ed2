"""Check stage: AST -> checked tree.

Resolves names (bindings, ``base``, ``prev``, ``true``/``false``, enum words)
and placeholders, looks primitives up in the registry, matches arguments to
parameters (arity, keywords, duplicates, order) and checks the kind of every
value (number, length, list, schedule, word).  Everything that needs the
compile context (units, the base learning rate, domains of computed values)
is the compiler's.  Errors carry spans and did-you-mean hints.

This module checks names and expressions; calls are
:mod:`~lrdsl.language.check_calls`, placeholders
:mod:`~lrdsl.language.check_placeholders`, the size limits
:mod:`~lrdsl.language.check_limits`, and the checked tree's types are
:mod:`~lrdsl.language.checked`.
"""

from __future__ import annotations

from ..primitives import REGISTRY
from . import ast as A
from .check_calls import CallChecker
from .check_limits import bound
from .check_placeholders import Placeholders
from .check_placeholders import placeholder_value as placeholder_value
from .checked import CCall, CConst, CList, CNum, COp, CSeq, CWord
from .errors import ArgumentError, LrdslError, UnknownNameError, did_you_mean

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

RESERVED = frozenset({"base", "prev", "true", "false"})


def check(module: A.Module, placeholders: Mapping[str, object] | None = None) -> object:
    """Check a parsed module; return the checked schedule expression."""
    return _Checker(dict(placeholders or {})).module(module)


class _Checker(CallChecker):
    def __init__(self, placeholders: dict[str, object]) -> None:
        self.placeholders = Placeholders(placeholders)
        self.bindings: dict[str, object] = {}
        self.sizes: dict[int, tuple[int, int]] = {}
        self.calls: list[A.Call] = []  # the calls being checked, innermost last (for messages)
        self.after_first = False  # inside a chain's second or later segment, where 'prev' is defined

    def call(self, node: A.Call) -> CCall:
        self.calls.append(node)
        try:
            return super().call(node)
        finally:
            self.calls.pop()

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
            bound(self.bindings[b.name], b.span, f"'{b.name}'", self.sizes)
        body = self.expr(module.body)
        if module.bindings:  # without bindings nothing is shared: the parser's token limit bounds the size
            bound(body, module.body.span, "the schedule", self.sizes)
        self.placeholders.check_all_used()
        return self.as_sched(body, module.body)

    def expr(self, node: object) -> object:
        if isinstance(node, A.Num):
            return CNum(node, node.span, unit=node.unit is not None)
        if isinstance(node, A.Name):
            return self.name(node)
        if isinstance(node, A.Placeholder):
            return self.placeholders.number(node)
        if isinstance(node, A.Call):
            return self.call(node)
        if isinstance(node, A.ListExpr):
            return CList(tuple(self.expr(i) for i in node.items), node.span)
        if isinstance(node, A.Seq):
            from .printer import to_text

            items: list[object] = []
            spans: list[A.Span] = []
            outer = self.after_first
            for k, i in enumerate(node.items):
                self.after_first = outer or k > 0
                try:
                    value = self.as_sched(self.expr(i), i)
                finally:
                    self.after_first = outer
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
            return UnknownNameError(
                f"unknown name '{value.word}'",
                span,
                code="E0203",
                label="not defined",
                hints=self.word_hints(value.word, wanted == "a schedule"),
            )
        got = {"num": "a number", "list": "a list", "sched": "a schedule"}.get(
            getattr(value, "kind", ""), "something else"
        )
        return ArgumentError(f"expected {wanted}, got {got}", span, code="E0305", label=why or f"{got} here")

    def word_hints(self, word: str, schedule: bool) -> list[str]:
        """What to say of an unknown name: a close name that can be referred to
        (a primitive only where a schedule goes), what values can refer to, and,
        for a keyword argument's name, how to share its value."""
        if word in ("nan", "inf", "infinity", "NaN", "Inf"):
            return ["numbers are finite: there is no nan or inf literal"]
        if word in REGISTRY:
            return [f"'{word}' is a primitive: call it, e.g. {REGISTRY[word].signature}"]
        names = [*self.bindings, "base", *(["prev"] if self.after_first else [])]
        hints = did_you_mean(word, [*names, *(REGISTRY if schedule else ())])
        if schedule:
            return hints
        shared = self.keyword_hint(word)
        bound = f", the bindings ({', '.join(self.bindings)})" if self.bindings else ""
        prev = ", 'prev' (the value the previous segment ends at)" if self.after_first else ""
        refer = f"a value can refer to 'base' (the configured value){prev}{bound} and $placeholders"
        if shared:
            return [*hints, *shared, refer]
        return [*hints, refer, f"to name a value, bind it before the schedule: {word} = 1e-3; ..."]

    def keyword_hint(self, word: str) -> list[str]:
        """For a name that is a keyword argument of an enclosing call: that
        keyword arguments cannot be referred to, and the binding form instead."""
        from .printer import to_text

        for call in reversed(self.calls):
            given = next((a for a in call.args if a.name == word), None)
            if given is None:
                continue
            args = tuple(a._replace(value=A.Name(word, span=a.value.span)) if a is given else a for a in call.args)
            example = f"{word} = {to_text(given.value)}; {to_text(call._replace(args=args))}"
            return [
                f"'{word}' is a keyword argument of {call.func}, and keyword arguments cannot be referred to",
                f"bind the value and use the name twice: {example}",
            ]
        inner = self.calls[-1] if self.calls else None
        prim = REGISTRY.get(inner.func) if inner is not None else None
        if inner is None or prim is None or prim.param(word) is None:
            return []
        call = inner
        example = to_text(call._replace(args=(*call.args, A.Arg(word, A.Name(word, span=call.span), span=call.span))))
        return [
            f"'{word}' is a parameter of {call.func}, not a value that can be referred to",
            f"bind the value and use the name twice: {word} = 1e-3; {example}",
        ]

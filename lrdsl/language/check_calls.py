"""Check stage, calls: a primitive or combinator call against its signature.

Looks the primitive up in the registry (E0201), matches arguments to
parameters (positional after keyword E0304, too many E0301, unknown keyword
E0202, given twice E0303, missing E0302; ``min``/``max`` take two or more
positional operands) and checks the kind of every argument: a schedule, a
flag or enum word (E0306), a list, a length or position (which may have a
unit), a learning rate (which may use ``base``/``prev``) or another number
(E0305).  :class:`CallChecker` is the part of the checker that does this;
the expressions themselves are checked by :mod:`lrdsl.language.check`.
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
from .checked import CCall, CList, CNum, CWord
from .errors import ArgumentError, LrdslError, UnknownNameError, did_you_mean

TYPE_CHECKING = False


class CallChecker:
    """Calls and their arguments; the checker it is part of provides the rest."""

    if TYPE_CHECKING:

        def expr(self, node: object) -> object: ...

        def as_sched(self, value: object, node: object) -> object: ...

        def kind_error(self, value: object, node: object, wanted: str, why: str) -> LrdslError: ...

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

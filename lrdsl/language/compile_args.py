"""Compile stage, arguments: a call's checked arguments to the values its
primitive is prepared with.

Every parameter gets a value: the one given (a flag, an enum word, a length
or position in whole steps, a strictly increasing list of positions, a
learning rate >= 0, a whole number, or a number in the parameter's domain;
E0401 otherwise) or its default (``base``, ``prev``, the value the next
segment starts at for a warmup's ``end``, or a constant).  A primitive's own
:class:`~lrdsl.primitives.base.ParamError` becomes an error at the argument
it names.
"""

from __future__ import annotations

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
    Param,
    ParamError,
    Primitive,
)
from .checked import CCall, CList, CNum, CWord
from .compile_numbers import NumberCompiler, show_number
from .errors import LrdslError, ValueDomainError


class ArgumentCompiler(NumberCompiler):
    """Arguments of calls, on top of numbers."""

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
            item_param = param._replace(kind=POSITION if kind == POSITIONS else VALUE)
            items = [self.argument(prim, item_param, i, prev) for i in value.items]
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
                f"{what} must be {param.domain.describe()}, got {show_number(x)}",
                value.span,
                code="E0401",
                label="out of range",
            )
        return x

    def prim_error(self, c: CCall, err: ParamError) -> LrdslError:
        span = c.arg_spans.get(err.param, c.span)
        message = str(err) if str(err).startswith(c.prim.name) else f"{c.prim.name}: {err}"
        return ValueDomainError(message, span, code=err.code, label="here")

"""Compile stage, lengths: how many steps a checked schedule will take, before
it is compiled.

A chain needs its segments' lengths first, to give its one elastic
(unbounded, not last) segment what the others leave of the total.  A
constant is unbounded, a chain as long as its segments together, a
``repeat`` its body times ``n``, a pointwise combination as long as its
longest bounded operand (unbounded if an operand that is not a constant is),
and a primitive what its ``length`` rule says of its arguments (values set
aside: only lengths are resolved).
"""

from __future__ import annotations

from ..primitives.base import ParamError
from .checked import CCall, CConst, COp, CSeq
from .compile_args import ArgumentCompiler
from .ir import Node


class LengthCompiler(ArgumentCompiler):
    """Lengths of checked schedules, on top of arguments."""

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


def _constant(c: object) -> bool:
    if isinstance(c, Node):
        return c.op == "const" and c.length is None
    return isinstance(c, CConst) or (isinstance(c, CCall) and c.prim.name == "const" and "steps" not in c.args)

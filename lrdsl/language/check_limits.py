"""Check stage, limits: how large and how deep a schedule is once its bindings
are expanded.

Bindings share subtrees, so ``b = a >> a; c = b >> b; ...`` doubles in a few
characters, and ``b = a + 1; c = b + 1; ...`` nests one level per binding;
everything after the check stage walks the expanded tree.  :func:`bound`
refuses a binding or a body over :data:`MAX_NODES` parts (E0703) or
:data:`~lrdsl.language.syntax.MAX_DEPTH` levels (E0702), counting every shared
subtree each time it is used without expanding it.
"""

from __future__ import annotations

from . import ast as A
from .checked import CCall, CConst, CList, CNum, COp, CSeq
from .errors import LimitError
from .syntax import MAX_DEPTH

#: The most parts (checked nodes and number terms) a schedule may expand to:
#: about what :data:`~lrdsl.language.syntax.MAX_TOKENS` tokens written out make.
MAX_NODES = 768


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


def bound(value: object, span: A.Span, what: str, memo: dict[int, tuple[int, int]]) -> None:
    """Refuse ``value`` (a binding's value or the body, ``what`` in messages) when
    it expands to too many parts or too deep a tree; ``memo`` is shared across
    the module's bindings."""
    size, depth = expanded_size(value, memo)
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

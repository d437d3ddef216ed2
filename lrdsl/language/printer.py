"""Syntax stage, inverse: the canonical text of an AST.

``to_text(parse(s))`` is the canonical form of ``s``: single spaces, ``>>``
chains flat, numbers in Python's shortest round-trip spelling with their unit,
parentheses only where precedence needs them.  It parses back to an equal AST
(a property test checks this on generated trees).
"""

from __future__ import annotations

from .ast import Arg, Binding, BinOp, Call, ListExpr, Module, Name, Neg, Num, Placeholder, Seq

# precedence levels, loosest first
_SEQ, _SUM, _PRODUCT, _UNARY, _POWER, _ATOM = range(1, 7)
_LEVEL = {"+": _SUM, "-": _SUM, "*": _PRODUCT, "/": _PRODUCT, "**": _POWER}


def number_text(value: int | float, unit: str | None = None) -> str:
    """``5%``, ``2ep``, ``200Mtok``, ``1e-06``, ``0.5``, ``1000``."""
    if isinstance(value, int) and unit in ("tok", "sp") and value:  # token counts read best as 200M, 2B
        for suffix, scale in (("T", 10**12), ("B", 10**9), ("M", 10**6), ("k", 10**3)):
            if value % scale == 0:
                return f"{value // scale}{suffix}{unit}"
    text = str(value) if isinstance(value, int) else repr(float(value))
    return text + (unit or "")


def to_text(node: object) -> str:
    """Canonical text of a :class:`~lrdsl.language.ast.Module` or any expression node."""
    if isinstance(node, Module):
        parts = [f"{b.name} = {to_text(b.value)};" for b in node.bindings]
        return " ".join([*parts, to_text(node.body)])
    if isinstance(node, Binding):
        return f"{node.name} = {to_text(node.value)};"
    return _expr(node, _SEQ)


def _wrap(text: str, own: int, needed: int) -> str:
    return f"({text})" if own < needed else text


def _expr(node: object, needed: int) -> str:
    if isinstance(node, Num):
        return number_text(node.value, node.unit)
    if isinstance(node, Name):
        return node.id
    if isinstance(node, Placeholder):
        return f"${node.name}"
    if isinstance(node, Call):
        return f"{node.func}({', '.join(_arg(a) for a in node.args)})"
    if isinstance(node, ListExpr):
        return f"[{', '.join(_expr(i, _SEQ) for i in node.items)}]"
    if isinstance(node, Seq):
        return _wrap(" >> ".join(_expr(i, _SUM) for i in node.items), _SEQ, needed)
    if isinstance(node, Neg):
        return _wrap(f"-{_expr(node.operand, _UNARY)}", _UNARY, needed)
    if isinstance(node, BinOp):
        level = _LEVEL[node.op]
        if node.op == "**":  # atom ** unary: right-associative
            text = f"{_expr(node.left, _ATOM)} ** {_expr(node.right, _UNARY)}"
        else:  # left-associative: the right operand binds one level tighter
            text = f"{_expr(node.left, level)} {node.op} {_expr(node.right, level + 1)}"
        return _wrap(text, level, needed)
    raise TypeError(f"not an lrdsl AST node: {node!r}")


def _arg(arg: Arg) -> str:
    value = _expr(arg.value, _SEQ)
    return value if arg.name is None else f"{arg.name}={value}"

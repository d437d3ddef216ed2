"""Compile stage, values of compiled nodes: a node's value at a step, and the
value a bounded node holds after it ends.

The compiler needs both while it builds the tree: a warmup ramps to the
value the next segment starts at (:func:`value_at`), and every bounded node
records its end value (:func:`left_limit`, which the plateau feedback of
:mod:`lrdsl.reactive` also uses when it rewrites a program).  Both compute
as the scalar reference evaluator does, in IEEE float64.
"""

from __future__ import annotations

from ..backends.ops import ScalarOps
from ..backends.reference import evaluate
from ..primitives import REGISTRY
from .ir import Node

_SCALAR = ScalarOps()


def value_at(node: Node, t: int) -> float:
    return float(evaluate(_SCALAR, node, t))  # type: ignore[arg-type]


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

"""Evaluation stage: the reference evaluator.

One tree walk over the IR, generic over the array namespace: with
:class:`~lrdsl.backends.ops.NumpyOps` it is the numpy reference backend, with
:class:`~lrdsl.backends.ops.ScalarOps` the pure-Python scalar path used at
compile time (warmup targets, end values) and when neither numpy nor the C
kernel is wanted.  Primitive formulas come from the registry; this module only
knows the structural ops.
"""

from __future__ import annotations

from functools import partial, reduce

from ..primitives import REGISTRY

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..language.ir import Node


def evaluate(xp, node: Node, t):  # type: ignore[no-untyped-def]
    """Values of ``node`` at local steps ``t`` (sorted, for array namespaces)."""
    if node.length is not None:
        end = node.end
        return xp.piecewise(t, (0, node.length), (partial(_inner, xp, node), lambda u: xp.full(u, end)))
    return _inner(xp, node, t)


def _inner(xp, node: Node, t):  # type: ignore[no-untyped-def]
    op = node.op
    p = node.params
    if op == "seq":
        return xp.piecewise(t, p["starts"], [partial(evaluate, xp, k) for k in node.kids])
    if op == "repeat":
        period = p["period"]
        vals = xp.periodic(t, period, partial(evaluate, xp, node.kids[0]))
        if p["decay"] != 1:
            vals = vals * xp.power(p["decay"], xp.f(xp.floordiv(t, period)))
        return vals
    if op == "min":
        return reduce(xp.minimum, [evaluate(xp, k, t) for k in node.kids])
    if op == "max":
        return reduce(xp.maximum, [evaluate(xp, k, t) for k in node.kids])
    if op in _BINARY:
        a, b = (evaluate(xp, k, t) for k in node.kids)
        return _BINARY[op](a, b)
    return REGISTRY[op].formula(xp, t, p)  # type: ignore[misc]


_BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


def values_numpy(node: Node, steps, out=None):  # type: ignore[no-untyped-def]
    """The numpy reference backend: float64 values at int64 ``steps`` (any order)."""
    import numpy as np

    from .ops import numpy_ops

    xp = numpy_ops()
    steps = np.asarray(steps)
    flat = steps.reshape(-1)
    if flat.size > 1 and not bool(np.all(flat[:-1] <= flat[1:])):
        order = np.argsort(flat, kind="stable")
        vals = np.empty(flat.shape, dtype=np.float64)
        vals[order] = evaluate(xp, node, flat[order])
    else:
        vals = np.asarray(evaluate(xp, node, flat), dtype=np.float64)
    vals = vals.reshape(steps.shape)
    if out is None:
        return vals
    out[...] = vals
    return out

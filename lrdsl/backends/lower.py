"""Evaluation stage: lower an IR tree to the flat arrays the C kernel walks.

Each node becomes one row of :data:`NODE_FIELDS` int64s (opcode, length,
offsets and counts into the float-parameter, int-parameter and child arrays)
plus its end value.  The per-op slot layouts below are the contract with
``ext/lrdsl_kernel.c``; the opcodes are the registry's (a test checks that the
kernel's table agrees).  The program is validated here, once, so the kernel's
nogil loops can trust it.
"""

from __future__ import annotations

import math
from array import array

from ..primitives import REGISTRY

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..ir import Node

NODE_FIELDS = 8  # op, length (-1: unbounded), f offset, f count, i offset, i count, kid offset, kid count

#: Structural opcodes (primitives use their registry opcode).
STRUCTURAL_OPS = {"seq": 30, "add": 31, "sub": 32, "mul": 33, "div": 34}
COMBINATORS = ("min", "max", "add", "sub", "mul", "div")
_SHAPES = {"linear": 0, "cos": 1, "exp": 2}
_MODES = {"triangular": 0, "triangular2": 1, "exp_range": 2}


def opcode(op: str) -> int:
    if op in STRUCTURAL_OPS:
        return STRUCTURAL_OPS[op]
    return REGISTRY[op].opcode


def slots(node: Node) -> tuple[list[float], list[int]]:
    """The float and int parameter slots of one node."""
    p = node.params
    op = node.op
    if op in ("const", "hold"):
        return [p["value"]], []
    if op == "linear":
        return [p["start"], p["end"]], [p["n"]]
    if op == "warmup":
        return [p["start"], p["end"]], [p["n"], _SHAPES[p["shape"]]]
    if op == "cosine":
        return [p["peak"], p["min"]], [p["n"]]
    if op == "step":
        return [p["start"], p["gamma"]], [p["every"]]
    if op == "multistep":
        return [p["start"], p["gamma"]], list(p["milestones"])
    if op == "exp":
        return [p["start"], p["gamma"]], [p["every"], int(p["staircase"])]
    if op == "poly":
        return [p["start"], p["end"], p["power"]], [p["n"]]
    if op == "inverse_time":
        return [p["start"], p["rate"]], [p["every"], int(p["staircase"])]
    if op == "inverse_sqrt":
        return [p["start"]], [p["warmup"], p["timescale"]]
    if op == "noam":
        return [p["scale"]], [p["warmup"]]
    if op == "piecewise":
        return list(p["values"]), list(p["boundaries"])
    if op == "cosine_restarts":
        if p["t_mul"] == 1:
            return [p["peak"], p["min"], p["m_mul"]], [p["n"], 0]
        starts = list(p["starts"])
        m = p["m_mul"]
        powers = [m ** float(i) for i in range(len(starts))]  # libm pow, as the formula's power(m, i)
        fs = [p["peak"], p["min"], m, *p["real_starts"], *p["lengths"], *powers]
        return fs, [p["n"], len(starts), *starts]
    if op == "cyclic":
        return [p["low"], p["high"], p["gamma"]], [p["up"], p["down"], _MODES[p["mode"]]]
    if op == "one_cycle":
        phases = [x for e, (a, b) in zip(p["ends"], p["lrs"]) for x in (e, a, b)]
        return phases, [len(p["ends"]), int(p["cos"]), *p["firsts"]]
    if op == "plateau":
        return [p["start"], *p["levels"]], list(p["cuts"])
    if op == "repeat":
        return [p["decay"]], [p["period"], -1 if p["count"] is None else p["count"]]
    if op == "seq":
        return [], list(p["starts"])
    if op in COMBINATORS:
        return [], []
    raise ValueError(f"no kernel lowering for op {op!r}")  # pragma: no cover


def lower(root: Node) -> tuple[array, array, array, array, array, int]:
    """``(nodes, ends, fparams, iparams, kids, scratch_levels)``; the root is node 0."""
    order: list[Node] = []
    index: dict[int, int] = {}
    stack = [root]
    while stack:  # number the nodes, parents before children
        node = stack.pop()
        index[id(node)] = len(order)
        order.append(node)
        stack.extend(reversed(node.kids))
    nodes = array("q")
    ends = array("d")
    fparams = array("d")
    iparams = array("q")
    kids = array("q")
    for node in order:
        fs, ints = slots(node)
        for x in fs:
            if not isinstance(x, (int, float)) or math.isnan(x):
                raise ValueError(f"bad float slot in {node.op}: {x!r}")  # pragma: no cover
        nodes.extend(
            (
                opcode(node.op),
                -1 if node.length is None else node.length,
                len(fparams),
                len(fs),
                len(iparams),
                len(ints),
                len(kids),
                len(node.kids),
            )
        )
        ends.append(0.0 if node.length is None else node.end)
        fparams.extend(float(x) for x in fs)
        iparams.extend(int(x) for x in ints)
        kids.extend(index[id(k)] for k in node.kids)
    return nodes, ends, fparams, iparams, kids, scratch_levels(root)


def scratch_levels(root: Node) -> int:
    """How many scratch blocks the kernel needs: the nesting of pointwise ops."""
    best = 0
    stack: list[tuple[Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if node.op in COMBINATORS:
            depth += 1
        best = max(best, depth)
        stack.extend((k, depth) for k in node.kids)
    return best

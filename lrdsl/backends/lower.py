"""Evaluation stage: lower an IR tree to the flat arrays the C kernel walks,
and validate such arrays before the kernel may see them.

Each node becomes one row of :data:`NODE_FIELDS` int64s (opcode, length,
offsets and counts into the float-parameter, int-parameter and child arrays)
plus its end value.  The per-op slot layouts below are the contract with
``ext/lrdsl_kernel.c``; the opcodes are the registry's (a test checks that the
kernel's table agrees).

Lengths and positions past the step domain (a derived length such as
``cosine_restarts(1, t_mul=2, cycles=63)`` can be 2**63) are lowered as
"never": such a segment does not end, and segments after it are left out,
for no step the kernel evaluates (steps are below 2**53) can reach them.

:func:`validate` is the kernel's gate: the Cython ``Program`` runs it on any
arrays it is given (lowered here, or read from anywhere else), so the nogil
loops only ever see tables whose sizes, offsets, sortedness and ranges keep
every index in bounds and every int64 sum below 2**63.
"""

from __future__ import annotations

import itertools
from array import array

from ..language.domain import STEP_LIMIT
from ..primitives import REGISTRY

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..language.ir import Node

NODE_FIELDS = 8  # op, length (-1: unbounded), f offset, f count, i offset, i count, kid offset, kid count

#: Structural opcodes (primitives use their registry opcode).
STRUCTURAL_OPS = {"seq": 30, "add": 31, "sub": 32, "mul": 33, "div": 34}
COMBINATORS = ("min", "max", "add", "sub", "mul", "div")
#: The deepest tree the kernel's recursive walk is given (parsing allows 128).
MAX_DEPTH = 1024


def opcode(op: str) -> int:
    if op in STRUCTURAL_OPS:
        return STRUCTURAL_OPS[op]
    return REGISTRY[op].opcode


def _clamp(n: int) -> int:
    return n if n < STEP_LIMIT else STEP_LIMIT


def slots(node: Node) -> tuple[list[float], list[int]]:
    """The float and int parameter slots of one node: a primitive's own
    ``slots``, or the structural ops' layouts here."""
    p = node.params
    op = node.op
    if op == "repeat":
        count = -1 if p["count"] is None else _clamp(p["count"])
        return [p["decay"]], [_clamp(p["period"]), count]
    if op == "seq":
        return [], [s for s in p["starts"] if s < STEP_LIMIT]
    if op in COMBINATORS:
        return [], []
    prim = REGISTRY.get(op)
    if prim is None or prim.slots is None:
        raise ValueError(f"no kernel lowering for op {op!r}")
    return prim.slots(p)


def _reachable(node: Node) -> tuple[Node, ...]:
    """The kids the kernel can reach: a chain's segments starting in the domain."""
    if node.op == "seq":
        return tuple(k for s, k in zip(node.params["starts"], node.kids) if s < STEP_LIMIT)
    return node.kids


def lower(root: Node) -> tuple[array, array, array, array, array]:
    """``(nodes, ends, fparams, iparams, kids)``; the root is node 0.  The
    kernel's ``Program`` validates them (:func:`validate`) when it is built."""
    order: list[Node] = [root]
    kid_rows: list[list[int]] = []
    while len(kid_rows) < len(order):  # breadth first: a node's kids get later rows
        reach = _reachable(order[len(kid_rows)])
        kid_rows.append(list(range(len(order), len(order) + len(reach))))
        order.extend(reach)
    nodes = array("q")
    ends = array("d")
    fparams = array("d")
    iparams = array("q")
    kids = array("q")
    for node, rows in zip(order, kid_rows):
        fs, ints = slots(node)
        bounded = node.length is not None and node.length < STEP_LIMIT
        nodes.extend(
            (
                opcode(node.op),
                node.length if bounded and node.length is not None else -1,
                len(fparams),
                len(fs),
                len(iparams),
                len(ints),
                len(kids),
                len(rows),
            )
        )
        ends.append(float(node.end) if bounded else 0.0)
        fparams.extend(float(x) for x in fs)
        iparams.extend(int(x) for x in ints)
        kids.extend(rows)
    return nodes, ends, fparams, iparams, kids


# ------------------------------------------------------------------ validation


class ProgramError(ValueError):
    """A program table the kernel must not see (a bug, or tampered input)."""


_OPS = {name: code for name, code in ((p.name, p.opcode) for p in REGISTRY.values()) if code}
_OPS.update(STRUCTURAL_OPS)
_NAMES: dict[int, str] = {}
for _name, _code in _OPS.items():
    _NAMES.setdefault(_code, _name)  # hold shares const's opcode


def _need(ok: bool, what: str, k: int) -> None:
    if not ok:
        raise ProgramError(f"node {k}: {what}")


def _sorted(xs: Sequence[int], strict: bool = False) -> bool:
    return all(a < b if strict else a <= b for a, b in itertools.pairwise(xs))


def _steps_ok(xs: Sequence[int]) -> bool:
    return all(0 <= x <= STEP_LIMIT for x in xs)


def _check_prim(name: str, f: Sequence[float], ip: Sequence[int], nk: int, k: int) -> None:
    prim = REGISTRY[name]
    _need(nk == 0, "a primitive has no kids", k)
    _need(prim.check is not None, f"no kernel case for {name!r}", k)
    _need(prim.check(f, ip), f"{name}: slots that its kernel case cannot take ({len(f)} floats, {len(ip)} ints)", k)  # type: ignore[misc]


def _check_node(op: int, f: Sequence[float], ip: Sequence[int], nk: int, k: int) -> None:
    name = _NAMES.get(op)
    _need(name is not None, f"unknown opcode {op}", k)
    if name == "seq":
        _need(nk >= 1 and not f and len(ip) == nk, "seq slots", k)
        _need(ip[0] == 0 and _sorted(ip, strict=True) and all(s < STEP_LIMIT for s in ip), "seq starts", k)
    elif name == "repeat":
        _need(nk == 1 and len(f) == 1 and len(ip) == 2, "repeat slots", k)
        _need(1 <= ip[0] <= STEP_LIMIT and (ip[1] == -1 or 1 <= ip[1] <= STEP_LIMIT), "repeat period", k)
    elif name in ("min", "max"):
        _need(nk >= 1 and not f and not ip, f"{name} slots", k)
    elif name in COMBINATORS:
        _need(nk == 2 and not f and not ip, f"{name} slots", k)
    else:
        _check_prim(name, f, ip, nk, k)  # type: ignore[arg-type]


def validate(
    nodes: Sequence[int], ends: Sequence[float], fp: Sequence[float], ip: Sequence[int], kids: Sequence[int]
) -> int:
    """Check a lowered program; returns the scratch levels the kernel needs.

    Raises :class:`ProgramError` for anything that could send the kernel out
    of its buffers, into an int64 overflow or into unbounded recursion: row
    counts, offsets and counts, opcodes and their slot layouts, lengths and
    positions (in ``[0, 2**53]``), sorted tables, and kids that point forward
    (a tree, walked parents first, of depth at most :data:`MAX_DEPTH`)."""
    count = len(nodes) // NODE_FIELDS
    if count == 0 or len(nodes) != count * NODE_FIELDS or len(ends) != count:
        raise ProgramError("node table and end values disagree in size")
    depth = [0] * count
    levels = [0] * count
    parent_seen = [False] * count
    parent_seen[0] = True
    for k in range(count):
        row = nodes[k * NODE_FIELDS : (k + 1) * NODE_FIELDS]
        op, length, fo, fn, io, ni, ko, nk = row
        _need(parent_seen[k], "not reachable from the root", k)
        _need(length == -1 or 1 <= length < STEP_LIMIT, f"length {length}", k)
        for off, cnt, size in ((fo, fn, len(fp)), (io, ni, len(ip)), (ko, nk, len(kids))):
            _need(off >= 0 and cnt >= 0 and off + cnt <= size, "slot offsets", k)
        kd = kids[ko : ko + nk]
        _check_node(op, fp[fo : fo + fn], ip[io : io + ni], nk, k)
        lv = 1 if _NAMES[op] in COMBINATORS else 0
        for c in kd:
            _need(k < c < count and not parent_seen[c], "kids must be later, unshared nodes", k)
            parent_seen[c] = True
            depth[c] = depth[k] + 1
            levels[c] = levels[k] + lv
            _need(depth[c] <= MAX_DEPTH, "tree too deep", k)
    return max(levels[k] + (1 if _NAMES[nodes[k * NODE_FIELDS]] in COMBINATORS else 0) for k in range(count))

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
import math
from array import array

from ..domain import STEP_LIMIT
from ..primitives import REGISTRY

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..ir import Node

NODE_FIELDS = 8  # op, length (-1: unbounded), f offset, f count, i offset, i count, kid offset, kid count

#: Structural opcodes (primitives use their registry opcode).
STRUCTURAL_OPS = {"seq": 30, "add": 31, "sub": 32, "mul": 33, "div": 34}
COMBINATORS = ("min", "max", "add", "sub", "mul", "div")
_SHAPES = {"linear": 0, "cos": 1, "exp": 2}
_MODES = {"triangular": 0, "triangular2": 1, "exp_range": 2}
#: The deepest tree the kernel's recursive walk is given (parsing allows 128).
MAX_DEPTH = 1024


def opcode(op: str) -> int:
    if op in STRUCTURAL_OPS:
        return STRUCTURAL_OPS[op]
    return REGISTRY[op].opcode


def _clamp(n: int) -> int:
    return n if n < STEP_LIMIT else STEP_LIMIT


def _restart_slots(p: dict) -> tuple[list[float], list[int]]:  # type: ignore[type-arg]
    # ip: n, K, has tail, last tail cycle (-1: none), S[0..K]
    # f: peak, min, m_mul, tail BK, tail LK, t_mul, B[0..K], L[0..K-1], m_mul**i for i < K
    m = p["m_mul"]
    if p["t_mul"] == 1:
        return [p["peak"], p["min"], m, 0.0, 0.0, 1.0], [p["n"], 0, 0, -1]
    starts = list(p["starts"])
    k = len(p["lengths"])
    powers = [m ** float(i) for i in range(k)]  # libm pow, as the formula's power(m, i)
    tail = p["tail"]
    bk, lk, jmax = tail if tail is not None else (0.0, 0.0, None)
    fs = [p["peak"], p["min"], m, bk, lk, float(p["t_mul"]), *p["real_starts"], *p["lengths"], *powers]
    last = -1 if jmax is None else _clamp(jmax)
    return fs, [p["n"], k, int(tail is not None), last, *starts]


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
        return _restart_slots(p)
    if op == "cyclic":
        return [p["low"], p["high"], p["gamma"]], [p["up"], p["down"], _MODES[p["mode"]]]
    if op == "one_cycle":
        phases = [x for e, (a, b) in zip(p["ends"], p["lrs"]) for x in (e, a, b)]
        return phases, [len(p["ends"]), int(p["cos"]), *p["firsts"]]
    if op == "plateau":
        return [p["start"], *p["levels"]], list(p["cuts"])
    if op == "repeat":
        count = -1 if p["count"] is None else _clamp(p["count"])
        return [p["decay"]], [_clamp(p["period"]), count]
    if op == "seq":
        return [], [s for s in p["starts"] if s < STEP_LIMIT]
    if op in COMBINATORS:
        return [], []
    raise ValueError(f"no kernel lowering for op {op!r}")  # pragma: no cover


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


def _check_restarts(f: Sequence[float], ip: Sequence[int], k: int) -> None:
    _need(len(ip) >= 4 and len(f) >= 6, "cosine_restarts slots", k)
    n, cycles, tail, last = ip[0], ip[1], ip[2], ip[3]
    _need(1 <= n <= STEP_LIMIT and tail in (0, 1) and -1 <= last <= STEP_LIMIT, "cosine_restarts header", k)
    if cycles == 0:
        _need(len(ip) == 4 and len(f) == 6 and tail == 0, "cosine_restarts (t_mul=1) slots", k)
        return
    _need(cycles >= 1 and len(ip) == 4 + cycles + 1 and len(f) == 6 + (cycles + 1) + 2 * cycles, "restart table", k)
    starts = ip[4:]
    _need(starts[0] == 0 and _sorted(starts) and _steps_ok(starts), "restart starts", k)
    q = f[5]
    _need(math.isfinite(q) and q > 0 and q != 1, "restart t_mul", k)
    if tail:
        bk, lk = f[3], f[4]
        _need(math.isfinite(bk) and 0 <= bk < STEP_LIMIT and math.isfinite(lk) and lk > 0, "restart tail", k)
        _need(starts[-1] < STEP_LIMIT, "restart tail start", k)
    reals = f[6 : 6 + cycles + 1]
    _need(all(math.isfinite(x) and x >= 0 for x in reals) and _sorted(reals), "restart real starts", k)  # type: ignore[arg-type]


def _check_prim(name: str, f: Sequence[float], ip: Sequence[int], nk: int, k: int) -> None:
    nf, ni = len(f), len(ip)
    _need(nk == 0, "a primitive has no kids", k)
    fixed = {
        "const": (1, 0),
        "linear": (2, 1),
        "warmup": (2, 2),
        "cosine": (2, 1),
        "step": (2, 1),
        "exp": (2, 2),
        "poly": (3, 1),
        "inverse_time": (2, 2),
        "inverse_sqrt": (1, 2),
        "noam": (1, 1),
        "cyclic": (3, 3),
    }
    if name in fixed:
        _need((nf, ni) == fixed[name], f"{name} takes {fixed[name]} slots, got {(nf, ni)}", k)
        if name in ("linear", "cosine", "poly", "step", "noam"):
            _need(1 <= ip[0] <= STEP_LIMIT, f"{name} length", k)
        elif name in ("warmup", "exp", "inverse_time"):
            _need(1 <= ip[0] <= STEP_LIMIT and 0 <= ip[1] <= (2 if name == "warmup" else 1), f"{name} slots", k)
        elif name == "inverse_sqrt":
            _need(0 <= ip[0] <= STEP_LIMIT and 1 <= ip[1] <= STEP_LIMIT, "inverse_sqrt slots", k)
        elif name == "cyclic":
            _need(1 <= ip[0] <= STEP_LIMIT and 1 <= ip[1] <= STEP_LIMIT and 0 <= ip[2] <= 2, "cyclic slots", k)
    elif name == "multistep":
        _need(nf == 2 and _sorted(ip) and _steps_ok(ip), "multistep milestones", k)
    elif name in ("piecewise", "plateau"):
        _need(nf == ni + 1 and _sorted(ip) and _steps_ok(ip), f"{name} table", k)
    elif name == "one_cycle":
        _need(ni >= 3 and ip[0] >= 1 and ni == 2 + ip[0] and nf == 3 * ip[0] and ip[1] in (0, 1), "one_cycle slots", k)
        firsts = ip[2:]
        _need(firsts[0] == 0 and _sorted(firsts) and _steps_ok(firsts), "one_cycle phases", k)
        _need(all(math.isfinite(x) for x in f[0::3]), "one_cycle phase ends", k)
    elif name == "cosine_restarts":
        _check_restarts(f, ip, k)
    else:
        raise ProgramError(f"node {k}: no kernel case for {name!r}")


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

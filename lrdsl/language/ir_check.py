"""Compile stage, output check: a :class:`~lrdsl.language.ir.Program` read from outside
(``Program.from_json``) is validated before anything evaluates it.

The document's shape and types are checked (every length a whole number,
every parameter a number, word, flag or list of them), the tree is lowered
and put through the kernel's table validator
(:func:`lrdsl.backends.lower.validate`, on either backend), and when the
program's source compiles on its own (no placeholders) the program must be
exactly what that source compiles to in the recorded context, plateau
feedback (cuts and levels, checked separately) aside.
"""

from __future__ import annotations

import json
import math

from .errors import LrdslError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .ir import Node, Program

#: The largest JSON document read (a program from a 16 KiB source is far smaller).
MAX_JSON_BYTES = 16 << 20
_SCALARS = (int, float, str, bool, type(None))


def _bad(why: str) -> LrdslError:
    return LrdslError(f"not a valid lrdsl program: {why}", code="E0305")


def program_from_json(cls: type[Program], text: str | bytes) -> Program:
    if not isinstance(text, (str, bytes, bytearray)):
        raise _bad(f"expected JSON text, got {type(text).__name__}")
    if len(text) > MAX_JSON_BYTES:
        raise LrdslError(f"the program is {len(text)} bytes; the limit is {MAX_JSON_BYTES}", code="E0701")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise _bad(f"not JSON ({err})") from None
    if not isinstance(data, dict) or set(data) - {
        "base_lr",
        "total_steps",
        "steps_per_epoch",
        "source",
        "root",
        "clock",
    }:
        raise _bad("expected an object with root, base_lr, total_steps, steps_per_epoch, source and clock")
    for key in ("root", "base_lr", "total_steps", "steps_per_epoch"):
        if key not in data:
            raise _bad(f"'{key}' is missing")
    source = data.get("source", "")
    if not isinstance(source, str):
        raise _bad("'source' is not a string")
    from .compiler import context_of

    clock = data.get("clock", ["steps", None, None])
    if not (isinstance(clock, list) and len(clock) == 3):
        raise _bad("'clock' is not [clock, tokens_per_step, samples_per_step]")
    if isinstance(data["base_lr"], bool) or not isinstance(data["base_lr"], (int, float)):
        raise _bad("'base_lr' is not a number")
    root = _node(data["root"], 0)
    program = cls(root, float(data["base_lr"]), data["total_steps"], data["steps_per_epoch"], source, tuple(clock))
    try:
        context_of(program, data["base_lr"])
    except LrdslError as err:
        raise _bad(str(err).splitlines()[0]) from None
    _check_tables(root)
    _check_against_source(program)
    return program


def _node(data: Any, depth: int) -> Node:
    from ..primitives import REGISTRY
    from ..primitives.base import P
    from .ir import STRUCTURAL, Node

    if depth > 1024:
        raise _bad("the tree is too deep")
    if not isinstance(data, dict) or set(data) - {"op", "length", "end", "params", "kids", "label"}:
        raise _bad("a node is an object with op, length, end, params, kids and label")
    op, length, end = data.get("op"), data.get("length"), data.get("end")
    params, kids, label = data.get("params", {}), data.get("kids", []), data.get("label", "")
    if not isinstance(op, str) or (op not in REGISTRY and op not in STRUCTURAL):
        raise _bad(f"unknown op {op!r}")
    if length is not None and (type(length) is not int or length < 1):
        raise _bad(f"{op}: length {length!r} is not a whole number >= 1")
    if end is not None and (isinstance(end, bool) or not isinstance(end, (int, float))):
        raise _bad(f"{op}: end {end!r} is not a number")
    if not isinstance(params, dict) or not isinstance(kids, list) or not isinstance(label, str):
        raise _bad(f"{op}: params, kids or label of the wrong type")
    for key, value in params.items():
        _check_param(op, key, value, 0)
    built = P({k: _tuples(v) for k, v in params.items()})
    return Node(
        op, length, math.nan if end is None else float(end), built, tuple(_node(k, depth + 1) for k in kids), label
    )


def _check_param(op: str, key: str, value: Any, depth: int) -> None:
    if isinstance(value, list):
        if depth > 3:
            raise _bad(f"{op}.{key} nests too deeply")
        for item in value:
            _check_param(op, key, item, depth + 1)
    elif not isinstance(value, _SCALARS):
        raise _bad(f"{op}.{key} is not a number, word, flag or list")
    elif isinstance(value, float) and math.isnan(value) and key not in ("value", "start", "end", "peak", "min"):
        raise _bad(f"{op}.{key} is NaN")


def _tuples(v: object) -> object:
    if isinstance(v, list):
        return tuple(_tuples(x) for x in v)
    return v


def _check_tables(root: Node) -> None:
    from ..backends.lower import ProgramError, lower, slots, validate

    for node in root.walk():
        try:
            fs, ints = slots(node)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise _bad(f"{node.op}: bad or missing parameters ({err})") from None
        if any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in fs):
            raise _bad(f"{node.op}: a parameter that must be a number is not")
        if any(type(x) not in (int, bool) for x in ints):
            raise _bad(f"{node.op}: a step count or table entry is not a whole number")
    try:
        validate(*lower(root))
    except (ProgramError, OverflowError, KeyError, TypeError, ValueError) as err:
        raise _bad(str(err)) from None


def _strip(node: Node) -> Node:
    """The node with plateau feedback (cuts made, levels reached) removed."""
    params = node.params
    if node.op == "plateau":
        params = type(params)({**params, "cuts": (), "levels": ()})
    return node._replace(params=params, kids=tuple(_strip(k) for k in node.kids))


def _check_against_source(program: Program) -> None:
    from ..schedule import compile as compile_schedule
    from .ir import _node_dict

    if not program.source:
        raise _bad("it has no source text to check it against")
    try:
        expected = compile_schedule(program.source, base_lr=program.base_lr, **_context(program)).program
    except LrdslError as err:
        if err.code == "E0204":  # placeholders: the values are not recorded; the tables were checked
            return
        raise _bad(f"its source does not compile ({str(err).splitlines()[0]})") from None
    a = json.dumps(_node_dict(_strip(program.root)), sort_keys=True)
    b = json.dumps(_node_dict(_strip(expected.root)), sort_keys=True)
    if a != b:
        raise _bad("it is not what its source compiles to")
    for got in program.root.walk():
        if got.op == "plateau":
            _check_feedback(got)


def _check_feedback(node: Node) -> None:
    cuts, levels = node.params.get("cuts", ()), node.params.get("levels", ())
    if len(cuts) != len(levels) or list(cuts) != sorted(cuts) or any(c < 1 for c in cuts):
        raise _bad("plateau cuts are not an increasing list of steps, one per level")
    if node.length is not None and any(c > node.length for c in cuts):
        raise _bad("a plateau cut lies past the plateau's end")
    if any(isinstance(x, bool) or not math.isfinite(x) or x < 0 for x in levels):
        raise _bad("a plateau level is negative or not finite")


def _context(program: Program) -> dict[str, Any]:
    clock, tps, sps = program.clock
    total = program.total_steps
    out: dict[str, Any] = {"steps_per_epoch": program.steps_per_epoch, "clock": clock}
    out["total_steps" if clock == "steps" else f"total_{clock}"] = total
    return {**out, "tokens_per_step": tps, "samples_per_step": sps}

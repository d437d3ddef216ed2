"""Compile stage, output: the immutable program every backend evaluates.

A :class:`Node` is one operation over local time ``t``: a primitive (``op`` is
its registry name, ``params`` its prepared numbers), a chain (``seq``: kids
start at ``params.starts``), a ``repeat``, or a pointwise ``min``, ``max``,
``add``, ``sub``, ``mul``, ``div``.  A node with a ``length`` holds ``end``
from that step on; a node without one is unbounded.  A :class:`Program` is the
root node plus the context it was compiled in; ``pretty()`` disassembles it and
``to_json``/``from_json`` round-trip it.
"""

from __future__ import annotations

import json
import math

from ..primitives.base import P
from ._record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

#: Ops that are not registry primitives.
STRUCTURAL = ("seq", "repeat", "min", "max", "add", "sub", "mul", "div")


class Node(Record):
    __slots__ = ("op", "length", "end", "params", "kids", "label")
    _defaults = {"params": P, "kids": (), "label": ""}

    op: str
    length: int | None
    end: float
    params: P
    kids: tuple[Node, ...]
    label: str

    __hash__ = None  # type: ignore[assignment]

    def walk(self) -> Iterator[Node]:
        """Every node of the tree, parents first (iterative)."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.kids))


class Phase(Record):
    """One top-level segment: steps ``[start, end)`` (``end`` is ``None`` for an
    unbounded last segment), its primitive and source text, and the values it
    takes (``lo``/``hi``; for an unbounded phase, over the steps evaluated).
    ``exact``: ``lo`` and ``hi`` are the true min and max (found from the
    segment's structure); ``False``: they come from samples."""

    __slots__ = ("start", "end", "kind", "text", "first", "lo", "hi", "exact")
    _defaults = {"exact": True}

    start: int
    end: int | None
    kind: str
    text: str
    first: float
    lo: float
    hi: float
    exact: bool


class Program(Record):
    __slots__ = ("root", "base_lr", "total_steps", "steps_per_epoch", "source", "clock")
    _defaults = {"source": "", "clock": ("steps", None, None)}

    root: Node
    base_lr: float
    total_steps: int | None  # the total in the clock's units (tokens under the token clock)
    steps_per_epoch: int | None
    source: str
    clock: tuple[str, int | None, int | None]  # (clock, tokens_per_step, samples_per_step)

    __hash__ = None  # type: ignore[assignment]

    def segments(self) -> list[tuple[int, Node]]:
        """Top-level segments with their start steps."""
        if self.root.op == "seq":
            return list(zip(self.root.params["starts"], self.root.kids))
        return [(0, self.root)]

    def pretty(self) -> str:
        """A readable listing of the program, one node a line."""
        lines = [f"; base_lr={self.base_lr!r} total_steps={self.total_steps} steps_per_epoch={self.steps_per_epoch}"]
        stack: list[tuple[Node, int, str]] = [(self.root, 0, "")]
        while stack:
            node, depth, at = stack.pop()
            length = "inf" if node.length is None else str(node.length)
            end = "" if node.length is None else f" end={node.end!r}"
            params = " ".join(f"{k}={_short(v)}" for k, v in node.params.items() if not k.startswith("_"))
            lines.append(f"{'  ' * depth}{at}{node.op} len={length}{end} {params}".rstrip())
            starts = node.params.get("starts") if node.op == "seq" else None
            for i in reversed(range(len(node.kids))):
                label = f"@{starts[i]} " if starts is not None else ""
                stack.append((node.kids[i], depth + 1, label))
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {
                "base_lr": self.base_lr,
                "total_steps": self.total_steps,
                "steps_per_epoch": self.steps_per_epoch,
                "source": self.source,
                "root": _node_dict(self.root),
                **({} if self.clock == ("steps", None, None) else {"clock": list(self.clock)}),
            }
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Program:
        """The program ``to_json`` wrote, validated: a malformed or tampered
        document is an :class:`~lrdsl.errors.LrdslError` (E0305), never a
        program the evaluators cannot trust.  See :mod:`lrdsl.language.ir_check`."""
        from .ir_check import program_from_json

        return program_from_json(cls, text)


def _short(value: object) -> str:
    if isinstance(value, (tuple, list)) and len(value) > 6:
        return f"[{', '.join(map(repr, value[:3]))}, ... {len(value)} items]"
    return repr(value)


def _node_dict(node: Node) -> dict[str, object]:
    return {
        "op": node.op,
        "length": node.length,
        "end": None if math.isnan(node.end) else node.end,
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in node.params.items()},
        "kids": [_node_dict(k) for k in node.kids],
        "label": node.label,
    }


def _node_from(data: dict[str, object]) -> Node:
    params = P({k: _tuples(v) for k, v in data["params"].items()})  # type: ignore[attr-defined]
    end = data["end"]
    return Node(
        data["op"],  # type: ignore[arg-type]
        data["length"],  # type: ignore[arg-type]
        math.nan if end is None else end,  # type: ignore[arg-type]
        params,
        tuple(_node_from(k) for k in data["kids"]),  # type: ignore[attr-defined]
        data.get("label", ""),  # type: ignore[arg-type]
    )


def _tuples(v: object) -> object:
    if isinstance(v, list):
        return tuple(_tuples(x) for x in v)
    return v

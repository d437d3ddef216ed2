"""``lrdsl explain``: each phase the run reaches, with every parameter resolved.

Each phase shows where it runs, its text, the call it resolves to (every
parameter of the primitive, in the language's own spelling: see
:mod:`lrdsl.tools.resolved`) and the values it takes: at its first and last
step, its minimum and its maximum.  A phase the total cuts is shown up to the
total, and says so (see :mod:`lrdsl.tools.phases`).

As plain text every value is written out in full.  As a rich table the
numbers sit in one column that never wraps and the texts in one that folds,
so an 80-column terminal shows every value whole.
"""

from __future__ import annotations

from .phases import reached
from .resolved import number, segments

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..schedule import Schedule


def explain_rows(sched: Schedule) -> list[dict[str, Any]]:
    """One row a phase the run reaches: where it runs, what it is with every
    parameter resolved, and the values it takes."""
    resolved = segments(sched)
    ops = [node.op for _start, node in sched.program.segments()]
    rows, _notes = reached(sched)
    out = []
    for r in rows:
        seg = resolved[r.index]
        notes = [n for n in (r.note, "fills the total" if seg.elastic else "") if n]
        out.append(
            {
                "start": r.start,
                "end": r.end,
                "segment": r.text,
                "primitive": ops[r.index],
                "resolved": seg.text,
                "note": "; ".join(notes),
                "lr at start": r.first,
                "lr at end": None if r.end is None else sched(r.end - 1),
                "min": r.lo,
                "max": r.hi,
            }
        )
    return out


def _cell(v: object) -> str:
    if v is None:
        return "-"
    return number(v) if isinstance(v, float) else str(v)


def explain_text(sched: Schedule, rich: bool, name: str = "lr", title: str | None = None) -> str | None:
    """The explain table as plain text, or ``None`` after printing it with rich
    (``name``: what the values are; ``title``: the heading, the canonical form by default)."""
    rows = explain_rows(sched)
    heading = sched.canonical if title is None else title
    if rich:
        _rich(rows, name, heading)
        return None
    lines = [heading, ""]
    for row in rows:
        end = "inf" if row["end"] is None else row["end"]
        lines.append(f"[{row['start']}, {end})  {row['segment']}" + (f"  ({row['note']})" if row["note"] else ""))
        lines.append(f"    {row['resolved']}")
        values = [_cell(row[k]) for k in ("lr at start", "lr at end", "min", "max")]
        lines.append(f"    {name} " + "{} -> {}, min {}, max {}".format(*values))
    return "\n".join(lines)


def _rich(rows: list[dict[str, Any]], name: str, heading: str) -> None:
    """Print the rows as a rich table: texts fold, numbers never wrap."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    console.print(Text(heading, style="bold", overflow="fold"))
    table = Table(show_lines=True)
    table.add_column("steps", justify="right", no_wrap=True)
    table.add_column("segment, resolved", overflow="fold", ratio=1)
    table.add_column(name, no_wrap=True)
    for row in rows:
        end = "inf" if row["end"] is None else str(row["end"])
        text = Text(row["segment"], overflow="fold")
        if row["note"]:
            text.append(f"  ({row['note']})", style="italic")
        text.append("\n")
        text.append(row["resolved"], style="dim")
        values = "\n".join(
            f"{label} {_cell(row[key])}"
            for label, key in (("start", "lr at start"), ("end  ", "lr at end"), ("min  ", "min"), ("max  ", "max"))
        )
        table.add_row(f"[{row['start']}, {end})", text, values)
    console.print(table)

"""What the ``lrdsl`` command prints for a plan: one column, one plot, one
section per hyperparameter, in the plan's order.

CSV is a header ``step,lr,momentum,...`` and one row per step, each value
``repr``-exact as the lr column of one schedule is; JSON is ``{"plan": {key:
canonical text}, "bases": ..., "total_steps": ..., "steps_per_epoch": ...,
"step": [...], "lr": [...], "momentum": [...], ...}``; the table has one
column per key, then one small terminal plot per key.  ``check`` and
``explain`` print each key under a heading ``key:``.  Steps are evaluated in
the chunks of :class:`lrdsl.tools.report.Steps`, so a long CSV streams.
"""

from __future__ import annotations

from ..language.errors import LrdslError
from .report import Steps, explain_text, phase_table, readable, sample_note, table_steps, terminal_plot, values

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

    from ..plan import Plan

#: Names the JSON output uses itself, so no plan key can have them there.
OUTPUT_NAMES = ("step", "plan", "bases", "total_steps", "steps_per_epoch")
#: Rows of each key's terminal plot.
PLOT_ROWS = 6


def check_output_names(plan: Plan) -> None:
    """E0207 when a plan key is a name the CSV or JSON output uses for itself."""
    for key in plan:
        if key in OUTPUT_NAMES:
            raise LrdslError(
                f"the plan's key {key!r} is a name lrdsl eval's output uses for itself ({', '.join(OUTPUT_NAMES)})",
                code="E0207",
                hints=["a plan's keys are the optimizer's hyperparameters: lr, momentum, weight_decay, betas[0], ..."],
            )


def write_csv(out: TextIO, plan: Plan, steps: Steps) -> None:
    """``step,<key>,...`` and one row a step."""
    out.write(",".join(["step", *plan]) + "\n")
    schedules = [s for _k, s in plan.items()]
    for chunk in steps.chunks():
        columns = [values(s, chunk) for s in schedules]
        out.write("".join(f"{t}," + ",".join(repr(v) for v in row) + "\n" for t, *row in zip(chunk, *columns)))


def write_json(out: TextIO, plan: Plan, steps: Steps) -> None:
    """``{"plan": ..., "bases": ..., context ..., "step": [...], "<key>": [...], ...}``, streamed."""
    import json

    first = next(iter(plan.items()))[1]
    head = {
        "plan": plan.canonical,
        "bases": plan.bases,
        "total_steps": first.total_steps,
        "steps_per_epoch": first.steps_per_epoch,
    }
    out.write("{" + json.dumps(head)[1:-1] + ', "step": [')
    for i, chunk in enumerate(steps.chunks()):
        out.write((", " if i else "") + ", ".join(map(str, chunk)))
    for key, sched in plan.items():
        out.write(f"], {json.dumps(key)}: [")
        for i, chunk in enumerate(steps.chunks()):
            out.write((", " if i else "") + ", ".join(repr(v) for v in values(sched, chunk)))
    out.write("]}\n")


def write_table(out: TextIO, plan: Plan, steps: Steps) -> None:
    """One column per key; past :data:`~lrdsl.tools.report.TABLE_ROWS` steps, a
    sample keeping every key's phase boundaries."""
    schedules = [s for _k, s in plan.items()]
    shown, sampled = table_steps(schedules, steps)
    columns = [[readable(v) for v in values(s, shown)] for s in schedules]
    width = max(4, len(str(shown[-1] if shown else 0)))
    widths = [max(len(key), *(len(v) for v in col)) for key, col in zip(plan, columns)]
    rows = [[f"{'step':>{width}}", *(k.ljust(w) for k, w in zip(plan, widths))]]
    for i, t in enumerate(shown):
        rows.append([f"{t:>{width}}", *(col[i].ljust(w) for col, w in zip(columns, widths))])
    out.write("\n".join("  ".join(r).rstrip() for r in rows) + "\n")
    if sampled:
        out.write(sample_note(len(shown), steps))


def terminal_plots(plan: Plan, n: int, log: bool, *, ascii_only: bool = False) -> str:
    """One small terminal plot per key, each under its heading."""
    parts = []
    for key, sched in plan.items():
        parts.append(f"{key}:\n" + terminal_plot(sched, n, log, ascii_only=ascii_only, height=PLOT_ROWS))
    return "\n\n".join(parts)


def indent(text: str) -> str:
    return "\n".join(("  " + line).rstrip() for line in text.splitlines())


def check_text(plan: Plan) -> str:
    """Each key under its heading: the canonical text and the phase table."""
    parts = []
    for key, sched in plan.items():
        parts.append(f"{key}:\n{indent(sched.canonical)}\n\n{indent(phase_table(sched))}")
    return "\n\n".join(parts)


def warnings(plan: Plan) -> list[str]:
    """:func:`lrdsl.tools.lint.lint`'s warnings for each key, each naming its key."""
    from ..plan import canonical_key
    from .lint import lint

    out = []
    for key, sched in plan.items():
        for w in lint(sched, name="lr" if canonical_key(key) == "lr" else key):
            out.append(f"in the plan's '{key}': {w}")
    return out


def notes(plan: Plan) -> list[str]:
    """:func:`lrdsl.tools.lint.notes` for the lr's key (a warmup from 0 makes an
    idle first step only for the lr; a momentum warmup from 0 is no idle step)."""
    from ..plan import canonical_key
    from .lint import notes as lint_notes

    return [
        f"in the plan's '{key}': {n}" for key, s in plan.items() if canonical_key(key) == "lr" for n in lint_notes(s)
    ]


def explain(plan: Plan, rich: bool) -> str | None:
    """``explain`` for each key (plain text, or ``None`` after printing rich tables)."""
    parts = []
    for key, sched in plan.items():
        text = explain_text(sched, rich, name=key, title=f"{key}: {sched.canonical}")
        if text is not None:
            parts.append(text)
    return "\n\n".join(parts) if parts else None

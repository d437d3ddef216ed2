"""The ``lrdsl`` commands that describe one schedule without evaluating it: check, explain.

``check`` prints the canonical form and the phase table, with each of
:func:`lrdsl.tools.lint.lint`'s warnings on stderr (the exit status stays
0: a warning is advice, not an error); ``explain`` prints the phase table
with every parameter resolved, as rich tables when the caller says the
terminal takes them (see :func:`lrdsl.tools.cli_output.use_rich`).  For a
plan both print each hyperparameter under its heading, and a warning names
its key.  Both report a schedule or plan that does not compile (a value out
of a key's domain is E0404, naming the key), with its code, as exit status 2.
"""

from __future__ import annotations

import sys

from ..schedule import Schedule
from .cli_input import target_from

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def cmd_check(args: argparse.Namespace) -> int:
    """``lrdsl check``: the canonical form and phases; warnings on stderr."""
    from .lint import lint
    from .report import phase_table

    sched = target_from(args)
    out = sys.stdout
    if not isinstance(sched, Schedule):
        from . import plan_report

        out.write(plan_report.check_text(sched) + "\n")
        for w in plan_report.warnings(sched):
            print(f"warning: {w}", file=sys.stderr)
        return 0
    out.write(sched.canonical + "\n\n")
    out.write(phase_table(sched) + "\n")
    for w in lint(sched):
        print(f"warning: {w}", file=sys.stderr)
    return 0


def cmd_explain(args: argparse.Namespace, *, rich: bool) -> int:
    """``lrdsl explain``: the phase table with every parameter resolved."""
    from .report import explain_text

    sched = target_from(args)
    if isinstance(sched, Schedule):
        text = explain_text(sched, rich=rich)
    else:
        from .plan_report import explain

        text = explain(sched, rich=rich)
    if text is not None:
        sys.stdout.write(text + "\n")
    return 0

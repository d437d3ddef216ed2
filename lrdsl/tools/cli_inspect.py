"""The ``lrdsl`` commands that describe one schedule without evaluating it: check, explain.

``check`` prints the canonical form and the phase table, with each of
:func:`lrdsl.tools.lint.lint`'s warnings on stderr (the exit status stays
0: a warning is advice, not an error); ``explain`` prints the phase table
with every parameter resolved, as rich tables when the caller says the
terminal takes them (see :func:`lrdsl.tools.cli_output.use_rich`).  Both
report a schedule that does not compile, with its code, as exit status 2.
"""

from __future__ import annotations

import sys

from .cli_input import schedule_from

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def cmd_check(args: argparse.Namespace) -> int:
    """``lrdsl check``: the canonical form and phases; warnings on stderr."""
    from .lint import lint
    from .report import phase_table

    sched = schedule_from(args)
    out = sys.stdout
    out.write(sched.canonical + "\n\n")
    out.write(phase_table(sched) + "\n")
    for w in lint(sched):
        print(f"warning: {w}", file=sys.stderr)
    return 0


def cmd_explain(args: argparse.Namespace, *, rich: bool) -> int:
    """``lrdsl explain``: the phase table with every parameter resolved."""
    from .report import explain_text

    sched = schedule_from(args)
    text = explain_text(sched, rich=rich)
    if text is not None:
        sys.stdout.write(text + "\n")
    return 0

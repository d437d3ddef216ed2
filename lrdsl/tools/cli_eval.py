"""The ``lrdsl`` commands that evaluate schedules over steps 0..N-1: eval, plot, compare.

``eval`` prints the values as a table (with a terminal plot), CSV or JSON,
streamed in chunks by :mod:`lrdsl.tools.report`, and feeds a plateau its
metric series first (``--metrics``); ``plot`` draws schedules to a PNG or
SVG file; ``compare`` says where two schedules differ, exit status 1 when
they do.  A plot's output path is checked before any work, and ``--steps``
is bounded by :data:`MAX_EVAL_STEPS`.  matplotlib is imported only to draw.
"""

from __future__ import annotations

import sys

from ..language.errors import LimitError, LrdslError
from .cli_input import Usage, read_metrics, schedule_from
from .cli_output import unicode_ok

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from ..schedule import Schedule

#: The most steps ``lrdsl eval`` evaluates in one run (values are streamed in chunks).
MAX_EVAL_STEPS = 2**40


def cmd_eval(args: argparse.Namespace) -> int:
    """``lrdsl eval``: the learning rate at steps 0..N-1."""
    from . import report

    n = args.steps
    check_steps(n, "lrdsl eval evaluates")
    if args.every is not None and args.at is not None:
        raise Usage("give --every or --at, not both")
    drawing = args.plot not in (None, "-")
    if drawing:  # a path that cannot be written fails before any work
        from .plot import check_output

        check_output(args.plot)
    sched = _with_metrics(schedule_from(args), args.metrics, n)
    plan = report.Steps(n, args.every, args.at)
    if drawing:
        from .plot import plot

        plot([(sched.canonical, sched)], n, args.plot, log=args.log)
    out = sys.stdout
    ascii_only = not unicode_ok(out)
    if args.format == "csv":
        report.write_csv(out, sched, plan)
    elif args.format == "json":
        report.write_json(out, sched, plan)
    elif args.plot == "-":
        out.write(report.terminal_plot(sched, n, args.log, ascii_only=ascii_only) + "\n")
    else:
        report.write_table(out, sched, plan)
        out.write("\n" + report.terminal_plot(sched, n, args.log, ascii_only=ascii_only) + "\n")
    out.flush()
    return 0


def check_steps(n: int, what: str) -> None:
    """E0704 when ``--steps`` is more than one run evaluates (:data:`MAX_EVAL_STEPS`)."""
    if n > MAX_EVAL_STEPS:
        raise LimitError(
            f"--steps {n} is more than {what} in one run ({MAX_EVAL_STEPS}, 2**40)",
            code="E0704",
        )


def _with_metrics(sched: Schedule, path: str | None, n: int) -> Schedule:
    """Feed a plateau's metric series, step by step, as a training loop would."""
    from ..reactive import Feedback

    fb = Feedback(sched)
    if not fb:
        if path is not None:
            raise Usage("--metrics is for schedules with plateau(...); this one has none")
        return sched
    if path is None:
        raise LrdslError(
            "plateau(...) cuts the lr when a metric stalls, so it needs the metric series",
            code="E0607",
            hints=["pass --metrics FILE: one number per line, line i reported after step i"],
        )
    values = read_metrics(path, n - 1)
    for t, value in enumerate(values, 1):
        sched = fb.report(value, t)
    return sched


def cmd_plot(args: argparse.Namespace) -> int:
    """``lrdsl plot``: schedules drawn together to a PNG or SVG file."""
    from .plot import check_output, plot

    check_output(args.output)  # a path that cannot be written fails before any work
    schedules = [schedule_from(args, e) for e in args.exprs]
    plot([(s.canonical, s) for s in schedules], args.steps, args.output, log=args.log, title=args.title)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """``lrdsl compare``: 0 when two schedules agree over steps 0..N-1, else 1 and where they differ."""
    from .report import compare

    if len(args.exprs) != 2:
        raise Usage(f"compare takes two schedules, got {len(args.exprs)}")
    check_steps(args.steps, "lrdsl compare compares")
    a, b = (schedule_from(args, e) for e in args.exprs)
    result = compare(a, b, args.steps)
    out = sys.stdout
    if result["identical"]:
        out.write(f"identical over steps 0..{args.steps - 1}\n")
        return 0
    out.write(f"first difference at step {result['first_difference']}\n")
    out.write(f"max |a-b|       {result['max_abs']:.6g} at step {result['max_abs_at']}\n")
    out.write(f"max |a-b|/|a|   {result['max_rel']:.6g} at step {result['max_rel_at']}\n")
    return 1

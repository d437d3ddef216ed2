"""The ``lrdsl`` commands that evaluate schedules over steps 0..N-1: eval, plot, compare.

``eval`` prints the values as a table (with a terminal plot), CSV or JSON,
streamed in chunks by :mod:`lrdsl.tools.report` (a plan: one column and one
small plot per hyperparameter, by :mod:`lrdsl.tools.plan_report`), and feeds
a plateau its metric series first (``--metrics``); ``plot`` draws schedules
to a PNG or SVG file (a plan: one axis per hyperparameter); ``compare`` says
where two schedules differ, exit status 1 when they do.  A plot's output path
is checked before any work, and ``--steps`` is bounded by
:data:`MAX_EVAL_STEPS`.  matplotlib is imported only to draw.
"""

from __future__ import annotations

import sys

from ..language.errors import LimitError, LrdslError
from ..schedule import Schedule
from .cli_input import Usage, compared, read_metrics, schedule_from, target_from
from .cli_output import unicode_ok

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from ..plan import Plan
    from ..reactive import Feedback

#: The most steps ``lrdsl eval`` evaluates in one run (values are streamed in chunks).
MAX_EVAL_STEPS = 2**40


def cmd_eval(args: argparse.Namespace) -> int:
    """``lrdsl eval``: the learning rate (or each hyperparameter of a plan) at steps 0..N-1."""
    from . import report

    n = args.steps
    check_steps(n, "lrdsl eval evaluates")
    if args.every is not None and args.at is not None:
        raise Usage("give --every or --at, not both")
    if args.plot == "-" and args.format != "table":
        raise Usage(
            f"--plot - prints the terminal plot instead of the table, so it does not go with --format {args.format};"
            f" give --plot FILE.png (or .svg) to draw the {args.format.upper()} data's plot to a file"
        )
    drawing = args.plot not in (None, "-")
    if drawing:  # a path that cannot be written fails before any work
        from .plot import check_output

        check_output(args.plot)
    target = target_from(args)
    if not isinstance(target, Schedule):
        return _eval_plan(args, _plan_with_metrics(target, args.metrics, n), drawing)
    sched = _with_metrics(target, args.metrics, n)
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


def _eval_plan(args: argparse.Namespace, plan: Plan, drawing: bool) -> int:
    """``lrdsl eval`` of a plan: one column (and one plot) per hyperparameter."""
    from . import plan_report
    from .report import Steps

    n = args.steps
    plan_report.check_output_names(plan)
    steps = Steps(n, args.every, args.at)
    if drawing:
        from .plot import plot_plan

        plot_plan(plan, n, args.plot, log=args.log)
    out = sys.stdout
    ascii_only = not unicode_ok(out)
    if args.format == "csv":
        plan_report.write_csv(out, plan, steps)
    elif args.format == "json":
        plan_report.write_json(out, plan, steps)
    elif args.plot == "-":
        out.write(plan_report.terminal_plots(plan, n, args.log, ascii_only=ascii_only) + "\n")
    else:
        plan_report.write_table(out, plan, steps)
        out.write("\n" + plan_report.terminal_plots(plan, n, args.log, ascii_only=ascii_only) + "\n")
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
    return _fed({"": fb}, path, n)[""]


def _plan_with_metrics(plan: Plan, path: str | None, n: int) -> Plan:
    """A plan whose texts' plateaus have been fed the metric series (every key
    with a plateau sees the same series)."""
    from ..plan import Plan, check_domain
    from ..reactive import Feedback

    feedbacks = {k: fb for k, fb in ((k, Feedback(s)) for k, s in plan.items()) if fb}
    if not feedbacks:
        if path is not None:
            raise Usage("--metrics is for schedules with plateau(...); no text of this plan has one")
        return plan
    fed = _fed(feedbacks, path, n)
    for key, sched in fed.items():
        check_domain(key, sched)
    return Plan({k: fed.get(k, s) for k, s in plan.items()})


def _fed(feedbacks: dict[str, Feedback], path: str | None, n: int) -> dict[str, Schedule]:
    if path is None:
        raise LrdslError(
            "plateau(...) cuts the lr when a metric stalls, so it needs the metric series",
            code="E0607",
            hints=["pass --metrics FILE: one number per line, line i reported after step i"],
        )
    values = read_metrics(path, n - 1)
    out = {k: fb.schedule for k, fb in feedbacks.items()}
    for t, value in enumerate(values, 1):
        for k, fb in feedbacks.items():
            out[k] = fb.report(value, t)
    return out


def cmd_plot(args: argparse.Namespace) -> int:
    """``lrdsl plot``: schedules drawn together to a PNG or SVG file, or a
    plan drawn one axis per hyperparameter."""
    from .plot import check_output, plot, plot_plan

    check_output(args.output)  # a path that cannot be written fails before any work
    if args.exprs:
        if args.config is not None or args.plan:
            raise Usage(f"give EXPRs or {'--config' if args.config is not None else '--plan'}, not both")
        schedules = [schedule_from(args, e) for e in args.exprs]
    else:
        target = target_from(args)
        if not isinstance(target, Schedule):
            plot_plan(target, args.steps, args.output, log=args.log, title=args.title)
            print(f"wrote {args.output}", file=sys.stderr)
            return 0
        schedules = [target]
    plot([(s.canonical, s) for s in schedules], args.steps, args.output, log=args.log, title=args.title)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """``lrdsl compare``: 0 when two schedules agree over steps 0..N-1, else 1 and
    where they differ; 130 when interrupted (Ctrl-C), with what was found so far."""
    from .report import compare

    count = len(args.exprs) + (max(1, len(args.key)) if args.config is not None else 0)
    if count != 2:
        raise Usage(f"compare takes two schedules (EXPRs, or --config with a --key for each), got {count}")
    if args.until is None and args.steps is None:
        raise Usage("compare needs --steps N (compare steps 0..N-1) or --until K (does NEW continue OLD?)")
    a, b = compared(args)
    if args.until is not None:
        return _verdict(a, b, args.until)
    n = args.steps
    check_steps(n, "lrdsl compare compares")
    with ProgressBar() as bar:
        result = compare(a, b, n, bar.update if bar.shown else None)
    out = sys.stdout
    done, interrupted = result["checked"], result["interrupted"]
    if result["identical"]:
        if not interrupted:
            out.write(f"identical over steps 0..{n - 1}\n")
            return 0
        out.write(f"no difference over steps 0..{done - 1}\n" if done else "")
    else:
        out.write(f"a: {a.canonical}\nb: {b.canonical}\n")
        out.write(
            f"first difference at step {result['first_difference']}: a = {result['a_at_first']!r},"
            f" b = {result['b_at_first']!r}\n"
        )
        for label, key in (("max |a-b|               ", "max_abs"), ("max |a-b|/max(|a|,|b|)  ", "max_rel")):
            at, (x, y) = result[key + "_at"], result[key + "_values"]
            where = "(every difference is a NaN)" if at is None else f"at step {at} (a = {x!r}, b = {y!r})"
            out.write(f"{label}  {result[key]:.6g} {where}\n")
    if interrupted:
        out.write(f"interrupted at step {done} of {n}: the maxima cover steps 0..{done - 1} only\n")
        return 130
    out.write(_evaluated(result["evaluated"], n, result["equal_spans"], result["constant_spans"]))
    return 1


class ProgressBar:
    """A rich progress bar on stderr for ``compare``'s evaluated steps, when
    stderr is a terminal (and rich is installed); ``shown`` false otherwise.
    It appears only once there are :data:`BAR_FROM` steps to evaluate, is
    redrawn at most ten times a second, and is cleared when done."""

    #: Fewer steps to evaluate than this take a moment: no bar.
    BAR_FROM = 1 << 22

    def __init__(self) -> None:
        try:
            self.shown = bool(sys.stderr.isatty())
        except (AttributeError, ValueError):  # no stderr, or a closed one
            self.shown = False
        self._bar: Any = None
        self._task: Any = None
        self._drawn = 0.0
        self._off = False  # rich is not installed

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, done: int, todo: int) -> None:
        import time

        if todo < self.BAR_FROM or self._off:
            return
        if self._bar is None and not self._start(todo):
            return
        now = time.monotonic()
        if done == todo or now - self._drawn >= 0.1:
            self._drawn = now
            self._bar.update(self._task, completed=done)

    def _start(self, todo: int) -> bool:
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
        except ImportError:
            self._off = True
            return False
        columns = (TextColumn("comparing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        self._bar = Progress(*columns, console=Console(file=sys.stderr), transient=True)
        self._task = self._bar.add_task("compare", total=todo)
        self._bar.start()
        return True


def _evaluated(spans: list[tuple[int, int]], n: int, equal: int = 0, constant: int = 0) -> str:
    """Which steps had to be evaluated, and how many spans were decided without
    evaluation (running the same segment in both, or constant in both)."""
    count = sum(b - a for a, b in spans)
    kinds = ((equal, "running the same segment"), (constant, "constant in both"))
    rest = ", ".join(f"{k} span{'s' if k != 1 else ''} {how}" for k, how in kinds if k)
    decided = f"; decided without evaluation: {rest}" if rest else ""
    if not spans:
        return f"evaluated no step{decided}\n"
    shown = ", ".join(f"{a}..{b - 1}" for a, b in spans[:4]) + (", ..." if len(spans) > 4 else "")
    return f"evaluated {count} of {n} steps ({shown}){decided}\n"


def _verdict(old: Schedule, new: Schedule, until: int) -> int:
    """``compare --until K``: 0 when NEW gives OLD's values at every step 0..K-1."""
    from ..agree import first_difference

    v = first_difference(old, new, until)
    out = sys.stdout
    if v.step is None:
        out.write(f"NEW continues OLD: bit-identical at every step 0..{until - 1}\n")
        evaluated = [(s.start, s.stop) for s in v.spans if s.how == "evaluated"]
        count = {how: sum(s.how == how for s in v.spans) for how in ("equal", "constant")}
        out.write(_evaluated(evaluated, until, count["equal"], count["constant"]))
        return 0
    out.write(f"NEW differs from OLD at step {v.step}: OLD = {v.a!r}, NEW = {v.b!r}\n")
    out.write("a run that has taken more steps than that cannot resume with NEW under resume='prefix'\n")
    return 1

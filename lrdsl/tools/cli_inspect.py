"""The ``lrdsl`` commands that describe one schedule without evaluating it: check, explain.

``check`` prints the canonical form and the phase table of the steps the run
reaches, with each of :func:`lrdsl.tools.lint.lint`'s warnings on stderr (the
exit status stays 0: a warning is advice, not an error), and with
``--notes`` also :func:`lrdsl.tools.lint.notes` (conventions that are usually
meant, such as a warmup from 0).  A valid text passes ``check`` without a
total: when it needs one (``%`` lengths, an elastic segment) the table says
what is fixed and what moves with the total (see
:func:`lrdsl.tools.phases.open_rows`), and a note says that compiling needs
it.  ``explain`` prints the phase table with every parameter resolved, as
rich tables when the caller says the terminal takes them (see
:func:`lrdsl.tools.cli_output.use_rich`).  For a plan both print each
hyperparameter under its heading, and a warning names its key.  Both report a
schedule or plan that does not compile (a value out of a key's domain is
E0404, naming the key), with its code, as exit status 2.
"""

from __future__ import annotations

import sys

from ..language.errors import LrdslError
from ..schedule import Schedule
from .cli_input import target_from

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from ..plan import Plan

#: The codes of a text that compiles once it is given a total.
NEEDS_TOTAL = ("E0501", "E0601")


def cmd_check(args: argparse.Namespace) -> int:
    """``lrdsl check``: the canonical form and phases; warnings on stderr."""
    try:
        sched = target_from(args)
    except LrdslError as err:
        if err.code not in NEEDS_TOTAL or args.steps is not None or args.total is not None:
            raise
        return _check_open(args, err)
    _report(sched, args.notes, sys.stdout)
    return 0


def _report(sched: Schedule | Plan, with_notes: bool, out: object) -> None:
    from . import lint, plan_report
    from .report import phase_table

    if isinstance(sched, Schedule):
        text = sched.canonical + "\n\n" + phase_table(sched)
        warnings, notes = lint.lint(sched), lint.notes(sched)
    else:
        text = plan_report.check_text(sched)
        warnings, notes = plan_report.warnings(sched), plan_report.notes(sched)
    out.write(text + "\n")  # type: ignore[attr-defined]
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    for n in notes if with_notes else ():
        print(f"note: {n}", file=sys.stderr)


def _check_open(args: argparse.Namespace, err: LrdslError) -> int:
    """``lrdsl check`` of a text that needs a total and was given none."""
    import argparse

    from . import phases, plan_report
    from .lint import lint, notes
    from .resolved import segments

    probes = []
    for total in phases.PROBES:
        try:
            probes.append(target_from(argparse.Namespace(**{**vars(args), "total": total})))
        except LrdslError:
            raise err from None  # not only the total is missing: the first error stands
    a, b = probes
    pairs: list[tuple[str, Schedule, Schedule]]
    if isinstance(a, Schedule) and isinstance(b, Schedule):
        pairs = [("", a, b)]
    else:
        assert not isinstance(a, Schedule) and not isinstance(b, Schedule)
        pairs = [(k, a[k], b[k]) for k in a]
    parts = []
    said: list[str] = []
    reasons: set[str] = set()
    for key, s1, s2 in pairs:
        elastic = [seg.elastic for seg in segments(s1)]
        rows = phases.open_rows(s1, s2, elastic)
        if any(elastic):
            reasons.add("an elastic segment fills it")
        if any("%" in t for r in rows for t in (r.start_text, r.end_text)) or err.code == "E0501":
            reasons.add("'%' lengths are fractions of it")
        body = s1.canonical + "\n\n" + phases.table(rows)
        parts.append(f"{key}:\n" + plan_report.indent(body) if key else body)
        for found in (lint, *((notes,) if args.notes else ())):
            same = [w for w in found(s1) if w in found(s2) and not any(str(t) in w for t in phases.PROBES)]
            tag = "note" if found is notes else "warning"
            said.extend(f"{tag}: " + (f"in the plan's '{key}': {w}" if key else w) for w in same)
    why = " and ".join(sorted(reasons)) or "the schedule needs it"
    sys.stdout.write("\n\n".join(parts) + "\n\n")
    sys.stdout.write(
        f"No total steps given, and {why}: 'total' above stands for it,\n"
        "and '-' marks a value that depends on it.  Compiling needs a total:\n"
        f"--steps N or --total T to lrdsl {args.command}, total_steps=... to lrdsl.compile.\n"
    )
    for line in said:
        print(line, file=sys.stderr)
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

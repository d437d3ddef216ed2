"""The ``lrdsl`` command: a thin shell over the Python API.

``main(argv) -> int`` returns the exit status: 0 on success, 2 for any bad
input (with one diagnostic on stderr, never a traceback).  Data goes to
stdout, diagnostics to stderr.  Start-up stays light: numpy, torch, keras and
matplotlib are imported only by the subcommands that need them.
"""

from __future__ import annotations

import os
import sys

from ._version import __version__
from .errors import LimitError, LrdslError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from .schedule import Schedule

#: The most steps ``lrdsl eval`` evaluates in one run (values are streamed in chunks).
MAX_EVAL_STEPS = 2**40


class _Usage(Exception):
    """A command-line mistake: message for stderr, exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as stop:  # argparse: --help (0) or a usage error (2)
        return int(stop.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.run(args))
    except LrdslError as err:
        print(err.render(), file=sys.stderr)
        return 2
    except _Usage as err:
        print(f"lrdsl: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `lrdsl eval ... | head`
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # pragma: no cover - a bug, reported without a traceback
        if os.environ.get("LRDSL_DEBUG"):
            raise
        print(f"lrdsl: internal error: {type(err).__name__}: {err}", file=sys.stderr)
        print("lrdsl: please report this; LRDSL_DEBUG=1 shows the traceback", file=sys.stderr)
        return 70


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover
        pass


def _parser() -> argparse.ArgumentParser:
    import argparse

    from .backends import backend, backend_reason

    reason = backend_reason()
    version = f"lrdsl {__version__} (backend: {backend()}{'; ' + reason if reason else ''})"
    parser = argparse.ArgumentParser(
        prog="lrdsl",
        description="Evaluate, check and plot learning-rate schedules written in the lrdsl language.",
    )
    parser.add_argument("--version", action="version", version=version)
    parser.set_defaults(command=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def context(p: argparse.ArgumentParser, steps_required: bool, many: bool = False) -> None:
        if many:
            p.add_argument("exprs", metavar="EXPR", nargs="+", help="schedules to draw together")
        else:
            p.add_argument(
                "expr", metavar="EXPR", nargs="?", help="the schedule; '-' reads stdin, '@FILE' reads a file"
            )
            p.add_argument("--config", metavar="FILE", help="read the schedule from a YAML, TOML or JSON file")
            p.add_argument("--key", metavar="A.B.C", help="where in --config the schedule is")
        p.add_argument(
            "--steps",
            type=_count,
            required=steps_required,
            metavar="N",
            help="steps 0..N-1; N is also the total steps unless --total is given",
        )
        p.add_argument("--total", type=_count, metavar="T", help="total steps for %% lengths and elastic segments")
        p.add_argument("--base-lr", type=_number, default=None, metavar="X", help="what 'base' means (default 1.0)")
        p.add_argument("--steps-per-epoch", type=_count, metavar="K", help="steps per epoch, for 'ep' lengths")
        p.add_argument(
            "-D",
            dest="define",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="fill the placeholder $NAME (repeatable)",
        )

    ev = sub.add_parser("eval", help="print the learning rate at steps 0..N-1")
    context(ev, True)
    ev.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default table)")
    ev.add_argument("--every", type=_count, metavar="K", help="only every K-th step (0, K, 2K, ...)")
    ev.add_argument("--at", type=_step_list, metavar="T1,T2,...", help="only these steps")
    ev.add_argument(
        "--plot", metavar="FILE", help="'-': print only the terminal plot; FILE.png or FILE.svg: also draw it"
    )
    ev.add_argument("--log", action="store_true", help="plot on a log scale")
    ev.add_argument(
        "--metrics",
        metavar="FILE",
        help="for plateau(...): one metric per line, line i reported after step i (i from 0)",
    )
    ev.set_defaults(run=_cmd_eval)

    ck = sub.add_parser("check", help="check a schedule: canonical form, phases and warnings")
    context(ck, False)
    ck.set_defaults(run=_cmd_check)

    ex = sub.add_parser("explain", help="the phase table with every parameter resolved")
    context(ex, False)
    ex.set_defaults(run=_cmd_explain)

    pl = sub.add_parser("plot", help="draw schedules to a PNG or SVG file (needs matplotlib)")
    context(pl, True, many=True)
    pl.add_argument("-o", "--output", required=True, metavar="FILE", help="FILE.png or FILE.svg")
    pl.add_argument("--log", action="store_true", help="log-scale y axis")
    pl.add_argument("--title", help="the title (default: the schedule)")
    pl.set_defaults(run=_cmd_plot)

    cp = sub.add_parser("compare", help="how two schedules differ over steps 0..N-1")
    context(cp, True, many=True)
    cp.set_defaults(run=_cmd_compare)

    tr = sub.add_parser(
        "translate",
        help="the lrdsl text of a HuggingFace scheduler type",
        description="Print the lrdsl text of transformers.get_scheduler(TYPE, ...): "
        "compile it with base_lr = the optimizer's lr.",
    )
    tr.add_argument("type", metavar="TYPE", help="linear, cosine, cosine_with_restarts, polynomial, constant, ...")
    tr.add_argument("--num-warmup-steps", type=int, default=0, metavar="N")
    tr.add_argument("--num-training-steps", type=int, default=None, metavar="N")
    tr.add_argument(
        "--lr-init", type=_number, default=None, metavar="X", help="the optimizer's default lr (HF's lr_init)"
    )
    tr.add_argument("--steps", type=_count, default=None, metavar="N", help="only steps 0..N-1 need to match")
    tr.add_argument(
        "-k",
        dest="kwargs",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a scheduler argument, e.g. -k num_cycles=2",
    )
    tr.set_defaults(run=_cmd_translate)

    ls = sub.add_parser("list", help="the primitive catalogue")
    ls.add_argument("--markdown", action="store_true", help="as the README's Markdown table")
    ls.set_defaults(run=_cmd_list)
    return parser


def _step_list(text: str) -> list[int]:
    import argparse

    try:
        steps = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected steps like 0,100,1000, got {text!r}") from None
    if not steps or min(steps) < 0:
        raise argparse.ArgumentTypeError(f"steps are whole numbers >= 0, got {text!r}")
    return steps


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        import argparse

        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        import argparse

        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _number(text: str) -> float:
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


# ---------------------------------------------------------------- input


def read_expr(expr: str) -> str:
    """The schedule text: the argument itself, stdin for '-', a file for '@FILE'."""
    if expr == "-":
        data = sys.stdin.buffer.read()
        return _decode(data, "standard input")
    if expr.startswith("@"):
        path = expr[1:]
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as err:
            raise _Usage(f"cannot read {path!r}: {err.strerror or err}") from None
        return _decode(data, path)
    return expr


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise LrdslError(
            f"{where} is not valid UTF-8 (byte {err.start}: {data[err.start : err.start + 1]!r})",
            code="E0101",
            hints=["save the schedule as UTF-8 text"],
        ) from None


def _defines(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise _Usage(f"-D takes NAME=VALUE, got {item!r}")
        out[name] = value
    return out


def _compile(args: argparse.Namespace, expr: str | None = None) -> Schedule:
    """The schedule the arguments describe: EXPR, '-', '@FILE' or --config/--key,
    with the command line's context over the file's."""
    from .schedule import compile as compile_schedule

    context: dict[str, object] = {}
    where = ""
    if expr is None:
        expr = args.expr
        if getattr(args, "config", None) is not None:
            if expr is not None:
                raise _Usage("give EXPR or --config, not both")
            from .config import entry

            text, context = entry(args.config, args.key)
            where = f"the schedule comes from {args.config}" + (f" at {args.key}" if args.key else "")
        elif expr is None:
            raise _Usage("give a schedule: EXPR, '-', '@FILE' or --config FILE --key A.B")
        elif getattr(args, "key", None) is not None:
            raise _Usage("--key goes with --config")
    if not context and expr is not None:
        text = read_expr(expr)
    total = args.total if args.total is not None else args.steps
    cli = {"base_lr": args.base_lr, "total_steps": total, "steps_per_epoch": args.steps_per_epoch}
    context.update({k: v for k, v in cli.items() if v is not None})
    context.update(_defines(args.define))
    try:
        return compile_schedule(text, **context)  # type: ignore[arg-type]
    except LrdslError as err:
        if where:
            err.hints = (*err.hints, where)
        raise


# ---------------------------------------------------------------- eval


def _cmd_eval(args: argparse.Namespace) -> int:
    from . import report

    sched = _with_metrics(_compile(args), args.metrics, args.steps)
    n = args.steps
    if n > MAX_EVAL_STEPS:
        raise LimitError(
            f"--steps {n} is more than lrdsl eval evaluates in one run ({MAX_EVAL_STEPS})",
            code="E0704",
        )
    if args.every is not None and args.at is not None:
        raise _Usage("give --every or --at, not both")
    plan = report.Steps(n, args.every, args.at)
    if args.plot not in (None, "-"):
        from .plot import plot

        plot([(sched.canonical, sched)], n, args.plot, log=args.log)
    out = sys.stdout
    if args.format == "csv":
        report.write_csv(out, sched, plan)
    elif args.format == "json":
        report.write_json(out, sched, plan)
    elif args.plot == "-":
        out.write(report.terminal_plot(sched, n, args.log) + "\n")
    else:
        report.write_table(out, sched, plan)
        out.write("\n" + report.terminal_plot(sched, n, args.log) + "\n")
    out.flush()
    return 0


def _with_metrics(sched: Schedule, path: str | None, n: int) -> Schedule:
    """Feed a plateau's metric series, step by step, as a training loop would."""
    from .reactive import Feedback

    fb = Feedback(sched)
    if not fb:
        if path is not None:
            raise _Usage("--metrics is for schedules with plateau(...); this one has none")
        return sched
    if path is None:
        raise LrdslError(
            "plateau(...) cuts the lr when a metric stalls, so it needs the metric series",
            code="E0607",
            hints=["pass --metrics FILE: one number per line, line i reported after step i"],
        )
    values = _read_metrics(path)
    for t in range(1, min(n, len(values) + 1)):
        sched = fb.report(values[t - 1], t)
    return sched


def _read_metrics(path: str) -> list[float]:
    text = read_expr("@" + path) if path != "-" else read_expr("-")
    values = []
    for lineno, line in enumerate(text.splitlines(), 1):
        item = line.split("#", 1)[0].strip().split(",")[-1].strip()
        if not item:
            continue
        try:
            values.append(float(item))
        except ValueError:
            raise _Usage(f"{path}:{lineno}: not a number: {line.strip()!r}") from None
    return values


# ---------------------------------------------------------------- check


def _cmd_check(args: argparse.Namespace) -> int:
    from .lint import lint
    from .report import phase_table

    sched = _compile(args)
    out = sys.stdout
    out.write(sched.canonical + "\n\n")
    out.write(phase_table(sched) + "\n")
    for w in lint(sched):
        print(f"warning: {w}", file=sys.stderr)
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from .report import explain_text

    sched = _compile(args)
    text = explain_text(sched, rich=_use_rich())
    if text is not None:
        sys.stdout.write(text + "\n")
    return 0


def _use_rich() -> bool:
    """rich tables on a terminal that takes colour, when rich is installed."""
    if os.environ.get("NO_COLOR") or not sys.stdout.isatty():
        return False
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def _cmd_plot(args: argparse.Namespace) -> int:
    from .plot import plot

    schedules = [_compile(args, e) for e in args.exprs]
    plot([(s.canonical, s) for s in schedules], args.steps, args.output, log=args.log, title=args.title)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .report import compare

    if len(args.exprs) != 2:
        raise _Usage(f"compare takes two schedules, got {len(args.exprs)}")
    a, b = (_compile(args, e) for e in args.exprs)
    result = compare(a, b, args.steps)
    out = sys.stdout
    if result["identical"]:
        out.write(f"identical over steps 0..{args.steps - 1}\n")
        return 0
    out.write(f"first difference at step {result['first_difference']}\n")
    out.write(f"max |a-b|       {result['max_abs']:.6g} at step {result['max_abs_at']}\n")
    out.write(f"max |a-b|/|a|   {result['max_rel']:.6g} at step {result['max_rel_at']}\n")
    return 1


# ---------------------------------------------------------------- translate


def _cmd_translate(args: argparse.Namespace) -> int:
    from .translate import from_hf

    kwargs: dict[str, object] = {}
    for item in args.kwargs:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise _Usage(f"-k takes NAME=VALUE, got {item!r}")
        kwargs[name] = _literal(value)
    text = from_hf(
        args.type,
        args.num_warmup_steps,
        args.num_training_steps,
        steps=args.steps,
        lr_init=args.lr_init,
        **kwargs,
    )
    sys.stdout.write(text + "\n")
    return 0


def _literal(value: str) -> object:
    """-k values: ints, floats, true/false/none, else the text itself."""
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


# ---------------------------------------------------------------- list


def _cmd_list(args: argparse.Namespace) -> int:
    from .primitives import CATALOGUE

    if args.markdown:
        sys.stdout.write(primitive_table() + "\n")
        return 0
    for p in CATALOGUE:
        sys.stdout.write(
            f"{p.signature}\n    {p.summary}; {p.matches}\n"
            if p.matches != "-"
            else f"{p.signature}\n    {p.summary}\n"
        )
    return 0


def code_table() -> str:
    """The README's error-code table, generated from lrdsl.errors.CODES."""
    from .errors import CODES

    return "\n".join(["| code | meaning |", "| --- | --- |", *(f"| {c} | {m} |" for c, m in CODES.items())])


def primitive_table() -> str:
    """The README's primitive table, generated from the registry."""
    from .primitives import CATALOGUE

    rows = ["| primitive | meaning | matches |", "| --- | --- | --- |"]
    for p in CATALOGUE:
        rows.append(f"| `{p.signature}` | {p.summary} | {p.matches} |")
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

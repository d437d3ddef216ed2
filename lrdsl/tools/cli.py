"""The ``lrdsl`` command: a thin shell over the Python API.

``main(argv) -> int`` returns the exit status: 0 on success, 2 for any bad
input (with one diagnostic on stderr, never a traceback).  Data goes to
stdout, diagnostics to stderr.  Start-up stays light: numpy, torch, keras and
matplotlib are imported only by the subcommands that need them.
"""

from __future__ import annotations

import contextlib
import os
import sys

from .._version import __version__
from ..language.errors import LimitError, LrdslError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any, BinaryIO

    from ..schedule import Schedule

#: The most steps ``lrdsl eval`` evaluates in one run (values are streamed in chunks).
MAX_EVAL_STEPS = 2**40


class _Usage(Exception):
    """A command-line mistake: message for stderr, exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; the exit status is 0, 1 (``compare``: the schedules
    differ) or 2 (bad input or an input/output failure, one message on stderr)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as stop:  # argparse: --help (0) or a usage error (2)
        return stop.code if isinstance(stop.code, int) else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    _tolerant_stdout()
    try:
        code = int(args.run(args))
        sys.stdout.flush()
        return code
    except LrdslError as err:
        print(err.render(), file=sys.stderr)
        return 2
    except _Usage as err:
        print(f"lrdsl: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `lrdsl eval ... | head`
        _silence_stdout()
        return 0
    except OSError as err:  # the environment, not lrdsl: a full disk under stdout, ...
        _silence_stdout()
        print(f"lrdsl: error: input/output failed: {err.strerror or err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # pragma: no cover - a bug, reported without a traceback
        # Every user input is turned into an LrdslError (or a _Usage) before this
        # point; 70 (EX_SOFTWARE) marks a bug in lrdsl, never a bad input.
        if os.environ.get("LRDSL_DEBUG"):
            raise
        print(f"lrdsl: internal error: {type(err).__name__}: {err}", file=sys.stderr)
        print("lrdsl: please report this; LRDSL_DEBUG=1 shows the traceback", file=sys.stderr)
        return 70


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # pragma: no cover
        pass


#: Characters outside ASCII that lrdsl prints (the terminal plot's).
_UNICODE_SAMPLE = "\u28ff\u2524\u2514\u2500"


def unicode_ok(stream: object) -> bool:
    """Whether ``stream`` can print the terminal plot's braille and box drawing."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        _UNICODE_SAMPLE.encode(encoding)
    except (UnicodeError, LookupError):
        return False
    return True


def _tolerant_stdout() -> None:
    """On a stdout that cannot encode Unicode (PYTHONIOENCODING=ascii, a latin-1
    terminal) print '?' for a stray character rather than fail; lrdsl's own
    output already falls back to ASCII there."""
    out = sys.stdout
    reconfigure = getattr(out, "reconfigure", None)
    if unicode_ok(out) or getattr(out, "errors", None) != "strict" or reconfigure is None:
        return
    with contextlib.suppress(ValueError, OSError):
        reconfigure(errors="replace")


# ---------------------------------------------------------------- the parser


def _parser() -> argparse.ArgumentParser:
    import argparse

    from ..backends import backend, backend_reason

    reason = backend_reason()
    version = f"lrdsl {__version__} (backend: {backend()}{'; ' + reason if reason else ''})"
    parser = argparse.ArgumentParser(
        prog="lrdsl",
        description="Evaluate, check and plot learning-rate schedules written in the lrdsl language.",
    )
    parser.add_argument("--version", action="version", version=version)
    parser.set_defaults(command=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_eval(sub)
    ck = sub.add_parser("check", help="check a schedule: canonical form, phases and warnings")
    _add_context(ck, False)
    ck.set_defaults(run=_cmd_check)
    ex = sub.add_parser("explain", help="the phase table with every parameter resolved")
    _add_context(ex, False)
    ex.set_defaults(run=_cmd_explain)
    pl = sub.add_parser("plot", help="draw schedules to a PNG or SVG file (needs matplotlib)")
    _add_context(pl, True, many=True)
    pl.add_argument("-o", "--output", required=True, metavar="FILE", help="FILE.png or FILE.svg")
    pl.add_argument("--log", action="store_true", help="log-scale y axis")
    pl.add_argument("--title", help="the title (default: the schedule)")
    pl.set_defaults(run=_cmd_plot)
    cp = sub.add_parser("compare", help="how two schedules differ over steps 0..N-1")
    _add_context(cp, True, many=True)
    cp.set_defaults(run=_cmd_compare)
    _add_translate(sub)
    ls = sub.add_parser("list", help="the primitive catalogue")
    ls.add_argument("--markdown", action="store_true", help="as the README's Markdown table")
    ls.set_defaults(run=_cmd_list)
    return parser


def _add_context(p: argparse.ArgumentParser, steps_required: bool, many: bool = False) -> None:
    """The schedule (EXPR, or EXPRs) and its compile context."""
    if many:
        p.add_argument("exprs", metavar="EXPR", nargs="+", help="schedules to draw together")
    else:
        p.add_argument("expr", metavar="EXPR", nargs="?", help="the schedule; '-' reads stdin, '@FILE' reads a file")
        p.add_argument("--config", metavar="FILE", help="read the schedule from a YAML, TOML or JSON file")
        p.add_argument("--key", metavar="A.B.C", help="where in --config the schedule is")
    p.add_argument(
        "--steps",
        type=_length,
        required=steps_required,
        metavar="N",
        help="steps 0..N-1; N is also the total steps unless --total is given",
    )
    p.add_argument("--total", type=_length, metavar="T", help="total steps for %% lengths and elastic segments")
    p.add_argument("--base-lr", type=_number, default=None, metavar="X", help="what 'base' means (default 1.0)")
    p.add_argument("--steps-per-epoch", type=_length, metavar="K", help="steps per epoch, for 'ep' lengths")
    p.add_argument(
        "-D",
        dest="define",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="fill the placeholder $NAME (repeatable)",
    )


def _add_eval(sub: Any) -> None:
    ev = sub.add_parser("eval", help="print the learning rate at steps 0..N-1")
    _add_context(ev, True)
    ev.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default table)")
    ev.add_argument("--every", type=_stride, metavar="K", help="only every K-th step (0, K, 2K, ...)")
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


def _add_translate(sub: Any) -> None:
    tr = sub.add_parser(
        "translate",
        help="the lrdsl text of a HuggingFace scheduler type",
        description="Print the lrdsl text of transformers.get_scheduler(TYPE, ...): "
        "compile it with base_lr = the optimizer's lr.",
    )
    tr.add_argument("type", metavar="TYPE", help="linear, cosine, cosine_with_restarts, polynomial, constant, ...")
    tr.add_argument("--num-warmup-steps", type=_natural, default=0, metavar="N")
    tr.add_argument("--num-training-steps", type=_natural, default=None, metavar="N")
    tr.add_argument(
        "--lr-init", type=_number, default=None, metavar="X", help="the optimizer's default lr (HF's lr_init)"
    )
    tr.add_argument("--steps", type=_length, default=None, metavar="N", help="only steps 0..N-1 need to match")
    tr.add_argument(
        "-k",
        dest="kwargs",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a scheduler argument, e.g. -k num_cycles=2",
    )
    tr.set_defaults(run=_cmd_translate)


# ---------------------------------------------------------------- option values
# argparse prefixes each message with the option ("argument --at: ...").


def _whole(text: str) -> int:
    """A whole number written in decimal (``_`` separators allowed)."""
    import argparse

    digits = text.strip().replace("_", "")
    body = digits[1:] if digits[:1] in ("+", "-") else digits
    if not (body.isascii() and body.isdigit()):
        raise argparse.ArgumentTypeError(f"expected a whole number, got {_shown(text)}")
    if len(body.lstrip("0")) > 30:  # far outside every domain, and int() may refuse it
        raise argparse.ArgumentTypeError(f"{_shown(text)} is far too large")
    return int(digits)


def _bounded(text: str, low: int, high: int, high_text: str) -> int:
    import argparse

    value = _whole(text)
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
    if value > high:
        raise argparse.ArgumentTypeError(f"must be at most {high_text}, got {_shown(text)}")
    return value


def _length(text: str) -> int:
    """--steps, --total, --steps-per-epoch: 1 <= N <= 2**53 (compile's context)."""
    from ..language.domain import STEP_LIMIT

    return _bounded(text, 1, STEP_LIMIT, "2**53")


def _natural(text: str) -> int:
    """A count that may be 0 (translate's step counts), below 2**53."""
    from ..language.domain import STEP_LIMIT

    return _bounded(text, 0, STEP_LIMIT, "2**53")


def _stride(text: str) -> int:
    """--every: 1 <= K < 2**53."""
    from ..language.domain import MAX_STEP

    return _bounded(text, 1, MAX_STEP, "2**53 - 1")


def _step_list(text: str) -> list[int]:
    """--at: steps 0 <= t < 2**53, separated by commas."""
    import argparse

    from ..language.domain import MAX_STEP

    steps = []
    for part in text.split(","):
        if not part.strip():
            continue
        try:
            steps.append(_bounded(part, 0, MAX_STEP, "2**53 - 1"))
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(
                f"steps are whole numbers with 0 <= step < 2**53, and {_shown(part.strip())} is not one"
            ) from None
    if not steps:
        raise argparse.ArgumentTypeError(f"expected steps like 0,100,1000, got {_shown(text)}")
    return steps


def _number(text: str) -> float:
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {_shown(text)}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {_shown(text)}")
    return value


def _shown(text: object) -> str:
    from .config import shown

    return shown(text, 40)


# ---------------------------------------------------------------- input


def _source_bytes() -> int:
    """Bytes of a schedule read from '-' or '@FILE' before giving up (E0701).

    The parser's limit is :data:`~lrdsl.language.domain.MAX_INPUT_BYTES` characters; a
    character is up to 4 bytes of UTF-8, so reading 4 times as many bytes lets
    any text within the limit through, and lets the parser report a text over it
    with its length and the line and column where it crosses the limit."""
    from ..language.domain import MAX_INPUT_BYTES

    return 4 * MAX_INPUT_BYTES


def read_expr(expr: str) -> str:
    """The schedule text: the argument itself, stdin for '-', a file for '@FILE'
    (bounded: see :func:`_source_bytes`)."""
    if expr != "-" and not expr.startswith("@"):
        return expr
    from .config import read_limited

    if expr == "-":
        return _decode(read_limited("-", _source_bytes(), "a schedule", stdin=True), "standard input")
    path = expr[1:]  # '@-' is a file called '-'
    return _decode(read_limited(path, _source_bytes(), "a schedule"), repr(path))


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise LrdslError(
            f"{where} is not valid UTF-8 (byte {err.start}: {data[err.start : err.start + 1]!r})",
            code="E0101",
            hints=["save it as UTF-8 text"],
        ) from None


#: Names ``lrdsl.compile`` takes itself, so no placeholder can be filled by them.
_RESERVED = ("text", "base_lr", "total_steps", "steps_per_epoch")


def _defines(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise _Usage(f"-D takes NAME=VALUE, got {_shown(item)}")
        if name in _RESERVED:
            hint = "--base-lr, --total or --steps-per-epoch" if name != "text" else "another name"
            raise _Usage(f"-D cannot fill a placeholder called {name!r}; use {hint}")
        out[name] = value
    return out


def _compile(args: argparse.Namespace, expr: str | None = None) -> Schedule:
    """The schedule the arguments describe: EXPR, '-', '@FILE' or --config/--key,
    with the command line's context over the file's."""
    from ..schedule import compile as compile_schedule

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
    if not where and expr is not None:
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

    n = args.steps
    _check_steps(n, "lrdsl eval evaluates")
    if args.every is not None and args.at is not None:
        raise _Usage("give --every or --at, not both")
    drawing = args.plot not in (None, "-")
    if drawing:  # a path that cannot be written fails before any work
        from .plot import check_output

        check_output(args.plot)
    sched = _with_metrics(_compile(args), args.metrics, n)
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


def _check_steps(n: int, what: str) -> None:
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
            raise _Usage("--metrics is for schedules with plateau(...); this one has none")
        return sched
    if path is None:
        raise LrdslError(
            "plateau(...) cuts the lr when a metric stalls, so it needs the metric series",
            code="E0607",
            hints=["pass --metrics FILE: one number per line, line i reported after step i"],
        )
    values = _read_metrics(path, n - 1)
    for t, value in enumerate(values, 1):
        sched = fb.report(value, t)
    return sched


def _read_metrics(path: str, need: int) -> list[float]:
    """The first ``need`` metrics in FILE ('-': stdin), one number a line ('#'
    starts a comment; of 'a,b,c' the last column counts).  Lines are read one
    at a time, at most :data:`~lrdsl.language.domain.MAX_METRICS_BYTES` in all."""
    from .config import open_input

    if path == "-":
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:
            raise LrdslError("cannot read standard input: there is none", code="E0901")
        return _metric_lines(stream, "standard input", need)
    with open_input(path) as fh:
        return _metric_lines(fh, repr(path), need)


def _metric_lines(fh: BinaryIO, where: str, need: int) -> list[float]:
    from ..language.domain import MAX_METRICS_BYTES
    from .config import too_large

    values: list[float] = []
    used = 0
    lineno = 0
    while len(values) < need:
        try:
            raw = fh.readline(MAX_METRICS_BYTES - used + 1)
        except (OSError, ValueError) as err:
            raise LrdslError(f"cannot read {where}: {getattr(err, 'strerror', None) or err}", code="E0901") from None
        if not raw:
            break
        used += len(raw)
        if used > MAX_METRICS_BYTES:
            raise too_large(where, MAX_METRICS_BYTES, "a metrics file")
        lineno += 1
        line = _decode(raw, f"{where} line {lineno}")
        item = line.split("#", 1)[0].strip().split(",")[-1].strip()
        if not item:
            continue
        try:
            values.append(float(item))
        except ValueError:
            raise LrdslError(
                f"{where} line {lineno}: a metric is a number, got {_shown(line.strip())}",
                code="E0305",
                hints=["one number per line (or CSV rows, the last column a number); '#' starts a comment"],
            ) from None
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
    from .plot import check_output, plot

    check_output(args.output)  # a path that cannot be written fails before any work
    schedules = [_compile(args, e) for e in args.exprs]
    plot([(s.canonical, s) for s in schedules], args.steps, args.output, log=args.log, title=args.title)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .report import compare

    if len(args.exprs) != 2:
        raise _Usage(f"compare takes two schedules, got {len(args.exprs)}")
    _check_steps(args.steps, "lrdsl compare compares")
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


#: from_hf's own parameters, which -k cannot name, and where they go instead.
_HF_OWN = {
    "lr_scheduler_type": "TYPE",
    "num_warmup_steps": "--num-warmup-steps",
    "num_training_steps": "--num-training-steps",
    "steps": "--steps",
    "lr_init": "--lr-init",
}


def _cmd_translate(args: argparse.Namespace) -> int:
    from ..translate import from_hf

    kwargs: dict[str, object] = {}
    for item in args.kwargs:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise _Usage(f"-k takes NAME=VALUE, got {_shown(item)}")
        if name in _HF_OWN:
            raise _Usage(f"-k {name}=...: give it as {_HF_OWN[name]}, it is not a scheduler argument")
        kwargs[name] = _literal(value)
    try:
        text = from_hf(
            args.type,
            args.num_warmup_steps,
            args.num_training_steps,
            steps=args.steps,
            lr_init=args.lr_init,
            **kwargs,
        )
    except (TypeError, ValueError) as err:
        if not kwargs:  # not the -k values: a bug, for the last-resort handler
            raise
        # -k values are typed by hand and handed to the Python API as they are
        raise LrdslError(
            f"a -k value is of the wrong kind for {args.type!r}: {err}",
            code="E0305",
            hints=["-k values are numbers, true/false, none or words, e.g. -k num_cycles=0.5"],
        ) from None
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
    from ..primitives import CATALOGUE

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
    from ..language.errors import CODES

    return "\n".join(["| code | meaning |", "| --- | --- |", *(f"| {c} | {m} |" for c, m in CODES.items())])


def primitive_table() -> str:
    """The README's primitive table, generated from the registry."""
    from ..primitives import CATALOGUE

    rows = ["| primitive | meaning | matches |", "| --- | --- | --- |"]
    for p in CATALOGUE:
        rows.append(f"| `{p.signature}` | {p.summary} | {p.matches} |")
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

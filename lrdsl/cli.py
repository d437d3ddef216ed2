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
    from collections.abc import Iterator, Sequence
    from typing import TextIO

    from .schedule import Schedule

#: The most steps ``lrdsl eval`` evaluates in one run (values are streamed in chunks).
MAX_EVAL_STEPS = 2**40
#: Table output shows every step up to this many, then a sample.
TABLE_ROWS = 200
_CHUNK = 1 << 16


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
        description="Evaluate and check learning-rate schedules written in the lrdsl language.",
    )
    parser.add_argument("--version", action="version", version=version)
    parser.set_defaults(command=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def context(p: argparse.ArgumentParser, steps_required: bool) -> None:
        p.add_argument("expr", metavar="EXPR", help="the schedule; '-' reads stdin, '@FILE' reads a file")
        p.add_argument(
            "--steps",
            type=_count,
            required=steps_required,
            metavar="N",
            help="evaluate steps 0..N-1; N is also the total steps unless --total is given",
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
    ev.add_argument("--plot", metavar="-", help="'-': print only the terminal plot")
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


def _compile(args: argparse.Namespace) -> Schedule:
    from .schedule import compile as compile_schedule

    text = read_expr(args.expr)
    total = args.total if args.total is not None else args.steps
    return compile_schedule(
        text,
        base_lr=args.base_lr,
        total_steps=total,
        steps_per_epoch=args.steps_per_epoch,
        **_defines(args.define),
    )


# ---------------------------------------------------------------- eval


def _cmd_eval(args: argparse.Namespace) -> int:
    sched = _with_metrics(_compile(args), args.metrics, args.steps)
    n = args.steps
    if n > MAX_EVAL_STEPS:
        raise LimitError(
            f"--steps {n} is more than lrdsl eval evaluates in one run ({MAX_EVAL_STEPS})",
            code="E0704",
        )
    out = sys.stdout
    if args.format == "csv":
        out.write("step,lr\n")
        for start, vals in _chunks(sched, n):
            out.write("".join(f"{start + i},{v!r}\n" for i, v in enumerate(vals)))
    elif args.format == "json":
        _write_json(out, sched, n)
    elif args.plot == "-":
        out.write(_plot(sched, n, args.log) + "\n")
    else:
        _write_table(out, sched, n)
        out.write("\n" + _plot(sched, n, args.log) + "\n")
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


def _chunks(sched: Schedule, n: int) -> Iterator[tuple[int, list[float]]]:
    for start in range(0, n, _CHUNK):
        yield start, sched_range(sched, start, min(n, start + _CHUNK) - start)


def sched_range(sched: Schedule, start: int, count: int) -> list[float]:
    """Values at ``start .. start+count-1`` as Python floats."""
    kernel = sched._kernel
    if kernel is not None:
        return kernel.range_list(start, count)  # type: ignore[attr-defined, no-any-return]
    import numpy as np

    return sched.values(np.arange(start, start + count, dtype=np.int64)).tolist()  # type: ignore[attr-defined, no-any-return]


def _write_json(out: TextIO, sched: Schedule, n: int) -> None:
    import json

    head = {
        "schedule": sched.canonical,
        "base_lr": sched.base_lr,
        "total_steps": sched.total_steps,
        "steps_per_epoch": sched.steps_per_epoch,
    }
    out.write("{" + json.dumps(head)[1:-1] + ', "step": [')
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        out.write((", " if start else "") + ", ".join(map(str, range(start, stop))))
    out.write('], "lr": [')
    for start, vals in _chunks(sched, n):
        out.write((", " if start else "") + ", ".join(repr(v) for v in vals))
    out.write("]}\n")


def _sample_steps(sched: Schedule, n: int) -> list[int]:
    if n <= TABLE_ROWS:
        return list(range(n))
    picks = {round(i * (n - 1) / (TABLE_ROWS - 1)) for i in range(TABLE_ROWS)}
    for phase in sched.phases:
        for s in (phase.start - 1, phase.start):
            if 0 <= s < n:
                picks.add(s)
    return sorted(picks)


def _write_table(out: TextIO, sched: Schedule, n: int) -> None:
    steps = _sample_steps(sched, n)
    width = max(4, len(str(n - 1)))
    out.write(f"{'step':>{width}}  lr\n")
    lines = []
    for t in steps:
        lines.append(f"{t:>{width}}  {sched(t)!r}")
    out.write("\n".join(lines) + "\n")
    if len(steps) < n:
        out.write(
            f"(showing {len(steps)} of {n} steps: every phase boundary and an even sample; --format csv gives all)\n"
        )


def _plot(sched: Schedule, n: int, log: bool) -> str:
    from .termplot import braille

    if n <= 4096:
        vals = sched_range(sched, 0, n)
        return braille(vals, log=log)
    # a min/max-preserving sample: 120 columns x 64 evenly spaced steps each
    cols = 120
    vals = []
    for c in range(cols):
        lo = c * n // cols
        hi = max(lo + 1, (c + 1) * n // cols)
        stride = max(1, (hi - lo) // 64)
        vals.extend(sched(t) for t in range(lo, hi, stride))
    return braille(vals, first_step=0, last_step=n - 1, log=log)


# ---------------------------------------------------------------- check


def _cmd_check(args: argparse.Namespace) -> int:
    from .lint import lint

    sched = _compile(args)
    out = sys.stdout
    out.write(sched.canonical + "\n\n")
    out.write(phase_table(sched) + "\n")
    warnings = lint(sched)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0


def phase_table(sched: Schedule) -> str:
    """start, end, segment, value at start and the range of values, one phase a row."""
    rows = [("start", "end", "segment", "first", "min", "max")]
    for ph in sched.phases:
        rows.append(
            (
                str(ph.start),
                "inf" if ph.end is None else str(ph.end),
                ph.text,
                f"{ph.first:.6g}",
                f"{ph.lo:.6g}",
                f"{ph.hi:.6g}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = [r[0].rjust(widths[0]), r[1].rjust(widths[1]), r[2].ljust(widths[2])]
        cells += [c.rjust(w) for c, w in zip(r[3:], widths[3:])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


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

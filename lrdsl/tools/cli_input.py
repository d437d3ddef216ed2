"""What the ``lrdsl`` command reads: the schedule, its context, the metrics.

:func:`schedule_from` turns the parsed arguments into a
:class:`~lrdsl.Schedule`: the text comes from EXPR itself, stdin ('-'), a
file ('@FILE') or ``--config FILE --key A.B``, and the command line's
context (``--base-lr``, ``--total``, ``-D NAME=VALUE``, ...) goes over the
file's.  :func:`read_metrics` reads a plateau's metric series one line at a
time.  Every read is bounded and every text must be UTF-8; a bad input is an
:class:`~lrdsl.LrdslError`, a command-line mistake a :class:`Usage`, never a
traceback.
"""

from __future__ import annotations

import sys

from ..language.errors import LrdslError
from .cli_options import shown

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import BinaryIO

    from ..schedule import Schedule


class Usage(Exception):
    """A command-line mistake: message for stderr, exit status 2."""


# ---------------------------------------------------------------- the schedule's text


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
        return decode(read_limited("-", _source_bytes(), "a schedule", stdin=True), "standard input")
    path = expr[1:]  # '@-' is a file called '-'
    return decode(read_limited(path, _source_bytes(), "a schedule"), repr(path))


def decode(data: bytes, where: str) -> str:
    """``data`` as UTF-8 text; E0101 naming ``where`` and the first bad byte if it is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise LrdslError(
            f"{where} is not valid UTF-8 (byte {err.start}: {data[err.start : err.start + 1]!r})",
            code="E0101",
            hints=["save it as UTF-8 text"],
        ) from None


# ---------------------------------------------------------------- the schedule


#: Names ``lrdsl.compile`` takes itself, so no placeholder can be filled by them.
_RESERVED = ("text", "base_lr", "total_steps", "steps_per_epoch")


def _defines(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise Usage(f"-D takes NAME=VALUE, got {shown(item)}")
        if name in _RESERVED:
            hint = "--base-lr, --total or --steps-per-epoch" if name != "text" else "another name"
            raise Usage(f"-D cannot fill a placeholder called {name!r}; use {hint}")
        out[name] = value
    return out


def schedule_from(args: argparse.Namespace, expr: str | None = None) -> Schedule:
    """The schedule the arguments describe: EXPR, '-', '@FILE' or --config/--key,
    with the command line's context over the file's."""
    from ..schedule import compile as compile_schedule

    context: dict[str, object] = {}
    where = ""
    if expr is None:
        expr = args.expr
        if getattr(args, "config", None) is not None:
            if expr is not None:
                raise Usage("give EXPR or --config, not both")
            from .config import entry

            text, context = entry(args.config, args.key)
            where = f"the schedule comes from {args.config}" + (f" at {args.key}" if args.key else "")
        elif expr is None:
            raise Usage("give a schedule: EXPR, '-', '@FILE' or --config FILE --key A.B")
        elif getattr(args, "key", None) is not None:
            raise Usage("--key goes with --config")
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


# ---------------------------------------------------------------- metrics


def read_metrics(path: str, need: int) -> list[float]:
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
        line = decode(raw, f"{where} line {lineno}")
        item = line.split("#", 1)[0].strip().split(",")[-1].strip()
        if not item:
            continue
        try:
            values.append(float(item))
        except ValueError:
            raise LrdslError(
                f"{where} line {lineno}: a metric is a number, got {shown(line.strip())}",
                code="E0305",
                hints=["one number per line (or CSV rows, the last column a number); '#' starts a comment"],
            ) from None
    return values

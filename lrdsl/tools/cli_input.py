"""What the ``lrdsl`` command reads: the schedule or plan, its context, the metrics.

:func:`target_from` turns the parsed arguments into a
:class:`~lrdsl.Schedule` or a :class:`~lrdsl.plan.Plan`: a text comes from
EXPR itself, stdin ('-'), a file ('@FILE') or ``--config FILE --key A.B``; a
plan from ``--config`` (a plan value there) or from ``--plan KEY=TEXT``
options, one per hyperparameter.  The command line's context (``--base-lr``,
``--base KEY=X``, ``--total``, ``-D NAME=VALUE``, ...) goes over the file's;
in a plan ``-D`` fills the placeholders of every text.
:func:`schedule_from` is the same for commands that take only schedules.  :func:`read_metrics` reads a plateau's metric series one line at a
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
    from typing import Any, BinaryIO

    from ..plan import Plan
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
_RESERVED = (
    "text",
    "base_lr",
    "total_steps",
    "steps_per_epoch",
    "tokens_per_step",
    "samples_per_step",
    "total_tokens",
    "total_samples",
    "clock",
)
#: ... and ``lrdsl.compile_plan``.
_PLAN_RESERVED = (*_RESERVED, "bases", "check_domains")
#: What each of those is on the command line.
_OPTION = {
    "base_lr": "--base-lr",
    "total_steps": "--total",
    "steps_per_epoch": "--steps-per-epoch",
    "tokens_per_step": "--tokens-per-step",
    "samples_per_step": "--samples-per-step",
    "bases": "--base",
}


def _defines(items: list[str], reserved: tuple[str, ...] = _RESERVED) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise Usage(f"-D takes NAME=VALUE, got {shown(item)}")
        if name in reserved:
            hint = f"use {_OPTION[name]}" if name in _OPTION else "rename the placeholder"
            raise Usage(f"-D cannot fill a placeholder called {name!r}; {hint}")
        out[name] = value
    return out


def _source(args: argparse.Namespace, expr: str | None) -> tuple[str | dict[str, str], dict[str, Any], str]:
    """The text or plan mapping, the file's context, and where it comes from."""
    if expr is not None:  # one of several EXPRs
        return read_expr(expr), {}, ""
    expr = getattr(args, "expr", None)
    config = getattr(args, "config", None)
    items = getattr(args, "plan", None) or []
    given = [n for n, on in (("EXPR", expr is not None), ("--config", config is not None), ("--plan", items)) if on]
    if len(given) > 1:
        raise Usage(f"give {' or '.join(given)}, not {'both' if len(given) == 2 else 'all three'}")
    if getattr(args, "key", None) is not None and config is None:
        raise Usage("--key goes with --config")
    if config is not None:
        from .config import value_at

        value, context = value_at(config, args.key)
        return value, context, f"{config}" + (f" at {args.key}" if args.key else "")
    if items:
        return _plan_items(items), {}, ""
    if expr is None:
        raise Usage("give a schedule: EXPR, '-', '@FILE', --config FILE --key A.B, or a plan with --plan KEY=TEXT")
    return read_expr(expr), {}, ""


def _plan_items(items: list[tuple[str, str]]) -> dict[str, str]:
    """``--plan KEY=TEXT`` options as a plan mapping (each TEXT may be '@FILE' or '-')."""
    from ..plan import canonical_key
    from .config import CONTEXT_KEYS

    out: dict[str, str] = {}
    if sum(text == "-" for _key, text in items) > 1:
        raise Usage("--plan reads standard input ('-') for one key at most")
    for key, text in items:
        if key in CONTEXT_KEYS:
            hint = f"use {_OPTION[key]}" if key in _OPTION else "use -D NAME=VALUE"
            raise Usage(f"--plan {key}=...: {key!r} is the plan's context, not a hyperparameter; {hint}")
        twice = [k for k in out if canonical_key(k) == canonical_key(key)]
        if twice:
            raise Usage(f"--plan names one hyperparameter twice: {twice[0]!r} and {key!r}")
        out[key] = read_expr(text)
    return out


def _cli_context(args: argparse.Namespace) -> dict[str, Any]:
    total = args.total if args.total is not None else args.steps
    out = {"base_lr": args.base_lr, "total_steps": total, "steps_per_epoch": args.steps_per_epoch}
    for key in ("tokens_per_step", "samples_per_step"):
        if getattr(args, key, None) is not None:
            out[key] = getattr(args, key)
    return out


def _cli_bases(args: argparse.Namespace) -> dict[str, float]:
    """``--base KEY=X`` options: no hyperparameter twice, the lr not also by --base-lr."""
    from ..plan import canonical_key

    out: dict[str, float] = {}
    for key, value in getattr(args, "bases", None) or []:
        twice = [k for k in out if canonical_key(k) == canonical_key(key)]
        if twice:
            raise Usage(f"--base names one hyperparameter twice: {twice[0]!r} and {key!r}")
        if canonical_key(key) == "lr" and args.base_lr is not None:
            raise Usage("give --base-lr X or --base lr=X, not both")
        out[key] = value
    return out


def target_from(args: argparse.Namespace) -> Schedule | Plan:
    """The schedule or plan the arguments describe, the command line's
    context over the file's."""
    value, context, where = _source(args, None)
    if isinstance(value, str):
        return _schedule(value, context, where, args)
    from ..plan import compile_plan
    from .config import check_bases, merged_context

    bases = _cli_bases(args)
    check_bases([*bases], value, "--base")
    if args.base_lr is not None:
        check_bases(["lr"], value, "--base-lr")
    kwargs = merged_context(context, {**_cli_context(args), "bases": bases})
    kwargs.update(_defines(args.define, _PLAN_RESERVED))
    try:
        return compile_plan(value, **kwargs)
    except LrdslError as err:
        if where:
            err.hints = (*err.hints, f"the plan comes from {where}")
        raise


def schedule_from(args: argparse.Namespace, expr: str | None = None) -> Schedule:
    """The schedule the arguments describe: EXPR, '-', '@FILE' or --config/--key,
    with the command line's context over the file's."""
    value, context, where = _source(args, expr)
    if not isinstance(value, str):
        raise Usage(f"this command takes one schedule, and the value in {where} is a plan")
    return _schedule(value, context, where, args)


def compared(args: argparse.Namespace) -> list[Schedule]:
    """``compare``'s schedules: those in ``--config`` (one per ``--key``, in
    order), then the EXPRs, which are compiled in the file's context (its first)."""
    from .config import value_at

    keys = list(getattr(args, "key", None) or [])
    if keys and args.config is None:
        raise Usage("--key goes with --config")
    out: list[Schedule] = []
    context: dict[str, Any] = {}
    if args.config is not None:
        for i, key in enumerate(keys or [None]):
            value, found = value_at(args.config, key)
            where = f"{args.config}" + (f" at {key}" if key else "")
            if not isinstance(value, str):
                raise Usage(f"compare takes schedules, and the value in {where} is a plan")
            if i == 0:
                context = found
            out.append(_schedule(value, found, where, args))
    out.extend(_schedule(read_expr(e), context, "", args) for e in args.exprs)
    return out


def _schedule(text: str, context: dict[str, Any], where: str, args: argparse.Namespace) -> Schedule:
    from ..plan import canonical_key
    from ..schedule import compile as compile_schedule
    from .config import single_context

    bases = _cli_bases(args)
    others = [k for k in bases if canonical_key(k) != "lr"]
    if others:
        raise Usage(
            f"--base {others[0]}=...: the schedule is one text, for the lr;"
            f" a plan (--plan KEY=TEXT, or a plan in --config) schedules {others[0]}"
        )
    context = single_context(context, f"{where}: 'bases'")
    cli = _cli_context(args)
    if bases:
        cli["base_lr"] = next(iter(bases.values()))
    context.update({k: v for k, v in cli.items() if v is not None})
    context.update(_defines(args.define))
    try:
        return compile_schedule(text, **context)
    except LrdslError as err:
        if where:
            err.hints = (*err.hints, f"the schedule comes from {where}")
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

"""The ``lrdsl`` command's options: what each subcommand takes, and their values.

:func:`add_context` gives a subcommand its schedule (EXPR, or EXPRs) and
compile context, :func:`add_eval` and :func:`add_translate` the two
subcommands with options of their own; :mod:`lrdsl.tools.cli` wires each to
its run function.  The value types (:func:`length`, :func:`step_list`,
:func:`number`, ...) check a value against the domain of
:mod:`lrdsl.language.domain` and raise ``argparse.ArgumentTypeError``, so
argparse reports a bad value as a usage error (exit 2), prefixed with the
option.  Nothing here imports argparse until the parser is built.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


# ---------------------------------------------------------------- the subcommands' options


def add_context(p: argparse.ArgumentParser, steps_required: bool, many: bool = False, plans: bool = True) -> None:
    """The schedule (EXPR, or EXPRs) and its compile context; with ``plans``,
    also ``--config``/``--key``, a plan on the command line (``--plan``) and
    the other hyperparameters' bases (``--base``)."""
    if many:
        p.add_argument("exprs", metavar="EXPR", nargs="*" if plans else "+", help="schedules to draw together")
    else:
        p.add_argument("expr", metavar="EXPR", nargs="?", help="the schedule; '-' reads stdin, '@FILE' reads a file")
    if plans:
        p.add_argument("--config", metavar="FILE", help="read the schedule or plan from a YAML, TOML or JSON file")
        p.add_argument("--key", metavar="A.B.C", help="where in --config the schedule or plan is")
        p.add_argument(
            "--plan",
            dest="plan",
            action="append",
            default=[],
            type=plan_item,
            metavar="KEY=TEXT",
            help="a plan on the command line: one hyperparameter's schedule (repeatable; TEXT may be '@FILE' or '-')",
        )
    p.add_argument(
        "--steps",
        type=length,
        required=steps_required,
        metavar="N",
        help="steps 0..N-1; N is also the total steps unless --total is given",
    )
    p.add_argument("--total", type=length, metavar="T", help="total steps for %% lengths and elastic segments")
    p.add_argument(
        "--base-lr", type=number, default=None, metavar="X", help="what 'base' means in the lr's text (default 1.0)"
    )
    if plans:
        p.add_argument(
            "--base",
            dest="bases",
            action="append",
            default=[],
            type=base_item,
            metavar="KEY=X",
            help="what 'base' means in a plan's KEY schedule (default 1.0; repeatable)",
        )
    p.add_argument("--steps-per-epoch", type=length, metavar="K", help="steps per epoch, for 'ep' lengths")
    p.add_argument("--tokens-per-step", type=length, metavar="K", help="tokens per step, for 'tok' lengths")
    p.add_argument("--samples-per-step", type=length, metavar="K", help="samples per step, for 'sp' lengths")
    p.add_argument(
        "-D",
        dest="define",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="fill the placeholder $NAME (repeatable; in a plan, in every text)",
    )


def add_eval(sub: Any) -> argparse.ArgumentParser:
    """The ``eval`` subcommand and its options (the caller sets its run function)."""
    ev = sub.add_parser("eval", help="print the learning rate (or a plan's every hyperparameter) at steps 0..N-1")
    add_context(ev, True)
    ev.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default table)")
    ev.add_argument("--every", type=stride, metavar="K", help="only every K-th step (0, K, 2K, ...)")
    ev.add_argument("--at", type=step_list, metavar="T1,T2,...", help="only these steps")
    ev.add_argument(
        "--plot", metavar="FILE", help="'-': print only the terminal plot; FILE.png or FILE.svg: also draw it"
    )
    ev.add_argument("--log", action="store_true", help="plot on a log scale")
    ev.add_argument(
        "--metrics",
        metavar="FILE",
        help="for plateau(...): one metric per line, line i reported after step i (i from 0)",
    )
    return ev


def add_translate(sub: Any) -> argparse.ArgumentParser:
    """The ``translate`` subcommand and its options (the caller sets its run function)."""
    tr = sub.add_parser(
        "translate",
        help="the lrdsl text of a HuggingFace scheduler type",
        description="Print the lrdsl text of transformers.get_scheduler(TYPE, ...): "
        "compile it with base_lr = the optimizer's lr.",
    )
    tr.add_argument("type", metavar="TYPE", help="linear, cosine, cosine_with_restarts, polynomial, constant, ...")
    tr.add_argument("--num-warmup-steps", type=natural, default=0, metavar="N")
    tr.add_argument("--num-training-steps", type=natural, default=None, metavar="N")
    tr.add_argument(
        "--lr-init", type=number, default=None, metavar="X", help="the optimizer's default lr (HF's lr_init)"
    )
    tr.add_argument("--steps", type=length, default=None, metavar="N", help="only steps 0..N-1 need to match")
    tr.add_argument(
        "-k",
        dest="kwargs",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a scheduler argument, e.g. -k num_cycles=2",
    )
    return tr


# ---------------------------------------------------------------- option values
# argparse prefixes each message with the option ("argument --at: ...").


def _whole(text: str) -> int:
    """A whole number written in decimal (``_`` separators allowed)."""
    import argparse

    digits = text.strip().replace("_", "")
    body = digits[1:] if digits[:1] in ("+", "-") else digits
    if not (body.isascii() and body.isdigit()):
        raise argparse.ArgumentTypeError(f"expected a whole number, got {shown(text)}")
    if len(body.lstrip("0")) > 30:  # far outside every domain, and int() may refuse it
        raise argparse.ArgumentTypeError(f"{shown(text)} is far too large")
    return int(digits)


def _bounded(text: str, low: int, high: int, high_text: str) -> int:
    import argparse

    value = _whole(text)
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
    if value > high:
        raise argparse.ArgumentTypeError(f"must be at most {high_text}, got {shown(text)}")
    return value


def length(text: str) -> int:
    """--steps, --total, --steps-per-epoch: 1 <= N <= 2**53 (compile's context)."""
    from ..language.domain import STEP_LIMIT

    return _bounded(text, 1, STEP_LIMIT, "2**53")


def natural(text: str) -> int:
    """A count that may be 0 (translate's step counts), below 2**53."""
    from ..language.domain import STEP_LIMIT

    return _bounded(text, 0, STEP_LIMIT, "2**53")


def stride(text: str) -> int:
    """--every: 1 <= K < 2**53."""
    from ..language.domain import MAX_STEP

    return _bounded(text, 1, MAX_STEP, "2**53 - 1")


def step_list(text: str) -> list[int]:
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
                f"steps are whole numbers with 0 <= step < 2**53, and {shown(part.strip())} is not one"
            ) from None
    if not steps:
        raise argparse.ArgumentTypeError(f"expected steps like 0,100,1000, got {shown(text)}")
    return steps


def number(text: str) -> float:
    """--base-lr, --lr-init: a finite number >= 0."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {shown(text)}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {shown(text)}")
    return value


def _hyperparameter(key: str, option: str, text: str) -> str:
    import argparse

    from ..language.errors import LrdslError
    from ..plan import check_key

    try:
        return check_key(key)
    except LrdslError:
        raise argparse.ArgumentTypeError(
            f"{option} takes KEY=..., KEY a hyperparameter such as lr, momentum or betas[0]; got {shown(text)}"
        ) from None


def plan_item(text: str) -> tuple[str, str]:
    """--plan KEY=TEXT: one hyperparameter's schedule text (or '@FILE', '-')."""
    key, sep, value = text.partition("=")
    if not sep:
        import argparse

        raise argparse.ArgumentTypeError(f"expected KEY=TEXT such as momentum='const(0.9)', got {shown(text)}")
    return _hyperparameter(key.strip(), "--plan", text), value


def base_item(text: str) -> tuple[str, float]:
    """--base KEY=X: what 'base' means in the KEY schedule, a finite number >= 0."""
    import argparse

    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(
            f"expected KEY=X such as momentum=0.9, got {shown(text)} (the lr's base is also --base-lr X)"
        )
    key = _hyperparameter(key.strip(), "--base", text)
    try:
        return key, number(value)
    except argparse.ArgumentTypeError as err:
        raise argparse.ArgumentTypeError(f"{key}: {err}") from None


def shown(text: object) -> str:
    """``text`` quoted for a message, cut to 40 characters."""
    from .config import shown as quoted

    return quoted(text, 40)

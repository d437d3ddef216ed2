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


def add_context(p: argparse.ArgumentParser, steps_required: bool, many: str = "", plans: bool = True) -> None:
    """The schedule (EXPR, or with ``many``, EXPRs that it describes) and its
    compile context; with ``plans``, also ``--config``/``--key``, a plan on
    the command line (``--plan``) and the other hyperparameters' bases (``--base``)."""
    if many:
        p.add_argument("exprs", metavar="EXPR", nargs="*", help=many)
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


def add_compare(sub: Any) -> argparse.ArgumentParser:
    """The ``compare`` subcommand and its options (the caller sets its run function)."""
    cp = sub.add_parser(
        "compare",
        help="how two schedules differ over steps 0..N-1, or (--until K) whether NEW continues OLD exactly",
        description="Compare two schedules step by step: A and B (with --until, OLD and NEW), each an EXPR"
        " or a schedule in --config (--key once per schedule, the file's first).  Spans where both run the"
        " same segment are equal without evaluation, and spans where both are constant (a const or hold, a"
        " segment past its length) are decided by one value each; only the others are evaluated, in chunks"
        " (a progress bar on a terminal; Ctrl-C prints what was found so far, exit 130).  Exit 0 when they"
        " agree, 1 when they differ.  With --until K: the verdict a resume with resume='prefix' gives after K steps.",
    )
    add_context(cp, False, many="the two schedules A and B (OLD and NEW); '-' reads stdin, '@FILE' a file", plans=False)
    cp.add_argument(
        "--config", metavar="FILE", help="read schedules from a YAML, TOML or JSON file (its context applies to both)"
    )
    cp.add_argument(
        "--key",
        metavar="A.B.C",
        action="append",
        default=[],
        help="where in --config a schedule is (repeatable: --key old --key new compares two of the file's)",
    )
    cp.add_argument(
        "--until",
        type=length,
        metavar="K",
        help="only whether they agree at every step 0..K-1 (the steps a run has taken), and where not",
    )
    return cp


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


#: A whole number as the language writes one: ``10000``, ``10_000``, ``10k``,
#: ``1.5M``, ``1e4`` (the multipliers k, M, B, T; an exponent of at most 3 digits).
_NUMBER = r"[+-]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9]{1,3})?[kMBT]?"
_SCALE = {"k": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}


def _whole(text: str) -> int:
    """A whole number in the language's number syntax (``10k``, ``1e4``,
    ``10_000``); a fraction (``1.5``) or another word is refused."""
    import argparse
    import re
    from decimal import Decimal, InvalidOperation

    body = text.strip()
    if len(body) > 40 or not re.fullmatch(_NUMBER, body):
        raise argparse.ArgumentTypeError(
            f"expected a whole number (such as 10000, 10_000, 10k or 1e4), got {shown(text)}"
        )
    scale = _SCALE.get(body[-1], 1)
    digits = (body[:-1] if scale != 1 else body).replace("_", "")
    try:
        value = Decimal(digits) * scale
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {shown(text)}") from None
    if abs(value) >= Decimal(10) ** 30:  # far outside every domain
        raise argparse.ArgumentTypeError(f"{shown(text)} is far too large")
    if value != value.to_integral_value():
        raise argparse.ArgumentTypeError(f"expected a whole number of steps, and {shown(text)} is {value.normalize()}")
    return int(value)


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

"""The ``lrdsl`` commands that read no schedule: translate and list, and the README's tables.

``translate`` prints the lrdsl text of a HuggingFace scheduler type
(:func:`lrdsl.translate.from_hf`), its scheduler arguments given as
``-k NAME=VALUE`` and read as numbers, true/false, none or words; ``list``
prints the primitive catalogue, wrapped to the terminal (at most
:data:`LIST_WIDTH` columns).  :func:`primitive_table` and
:func:`code_table` generate the README's Markdown tables from the
registries, so the documentation cannot drift from the code (a test and
``lrdsl._gen_kernel`` read them).
"""

from __future__ import annotations

import sys

from ..language.errors import LrdslError
from .cli_input import Usage
from .cli_options import shown

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


# ---------------------------------------------------------------- translate


#: from_hf's own parameters, which -k cannot name, and where they go instead.
_HF_OWN = {
    "lr_scheduler_type": "TYPE",
    "num_warmup_steps": "--num-warmup-steps",
    "num_training_steps": "--num-training-steps",
    "steps": "--steps",
    "lr_init": "--lr-init",
}


def cmd_translate(args: argparse.Namespace) -> int:
    """``lrdsl translate``: the lrdsl text of ``transformers.get_scheduler(TYPE, ...)``."""
    from ..translate import from_hf

    kwargs: dict[str, object] = {}
    for item in args.kwargs:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise Usage(f"-k takes NAME=VALUE, got {shown(item)}")
        if name in _HF_OWN:
            raise Usage(f"-k {name}=...: give it as {_HF_OWN[name]}, it is not a scheduler argument")
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


def cmd_list(args: argparse.Namespace) -> int:
    """``lrdsl list``: the primitive catalogue (``--markdown``: the README's table)."""
    from ..primitives import CATALOGUE

    if args.markdown:
        sys.stdout.write(primitive_table() + "\n")
        return 0
    import shutil
    import textwrap

    width = min(LIST_WIDTH, shutil.get_terminal_size((LIST_WIDTH, 24)).columns)
    for p in CATALOGUE:
        body = f"{p.summary}; matches {p.matches}" if p.matches != "-" else p.summary
        indent = " " * (len(p.name) + 1)
        for line in textwrap.wrap(p.signature, max(40, width), subsequent_indent=indent, break_on_hyphens=False):
            sys.stdout.write(line + "\n")
        for line in textwrap.wrap(body, max(40, width), initial_indent="    ", subsequent_indent="      "):
            sys.stdout.write(line + "\n")
    return 0


#: ``lrdsl list`` wraps to the terminal's width, at most this many columns.
LIST_WIDTH = 100


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

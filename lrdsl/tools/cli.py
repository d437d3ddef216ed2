"""The ``lrdsl`` command: a thin shell over the Python API.

``main(argv) -> int`` returns the exit status: 0 on success, 2 for any bad
input (with one diagnostic on stderr, never a traceback).  Data goes to
stdout, diagnostics to stderr.  Start-up stays light: numpy, torch, keras and
matplotlib are imported only by the subcommands that need them.  This module
is the entry point: the exit-status policy and the parser, wiring each
subcommand to its run function; the options are in
:mod:`~lrdsl.tools.cli_options`, the inputs in :mod:`~lrdsl.tools.cli_input`,
the streams in :mod:`~lrdsl.tools.cli_output`, and the commands in
:mod:`~lrdsl.tools.cli_eval` (eval, plot, compare),
:mod:`~lrdsl.tools.cli_inspect` (check, explain) and
:mod:`~lrdsl.tools.cli_catalogue` (translate, list).
"""

from __future__ import annotations

import os
import sys

from .._version import __version__
from ..language.errors import LrdslError
from .cli_catalogue import cmd_list as _cmd_list
from .cli_catalogue import cmd_translate as _cmd_translate
from .cli_catalogue import code_table, primitive_table
from .cli_eval import MAX_EVAL_STEPS
from .cli_eval import cmd_compare as _cmd_compare
from .cli_eval import cmd_eval as _cmd_eval
from .cli_eval import cmd_plot as _cmd_plot
from .cli_input import Usage as _Usage
from .cli_input import read_expr
from .cli_inspect import cmd_check as _cmd_check
from .cli_inspect import cmd_explain
from .cli_options import add_compare, add_context, add_eval, add_translate
from .cli_output import silence_stdout as _silence_stdout
from .cli_output import tolerant_stdout as _tolerant_stdout
from .cli_output import unicode_ok
from .cli_output import use_rich as _use_rich

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

# Kept importable from here: the README tables (lrdsl._gen_kernel, the tests)
# and the names other code and tests reach by this module's path.
__all__ = ["MAX_EVAL_STEPS", "code_table", "main", "primitive_table", "read_expr", "unicode_ok"]


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
        err.hints = tuple(for_command(h, args.command) for h in err.hints)
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


def for_command(hint: str, command: str) -> str:
    """A hint as it reads on the command line of ``lrdsl COMMAND``: the option
    to give to the command in use, not the Python call and ``lrdsl eval``
    (``pass total_steps=... to lrdsl.compile, or --steps N to lrdsl eval``)."""
    import re

    total = " (or --total T)" if command != "translate" else ""
    hint = re.sub(
        r"pass (\S+)=\.\.\. to lrdsl\.compile, or (--\S+ \S+) to lrdsl eval",
        lambda m: f"pass {m[2]}{total if m[2].startswith('--steps ') else ''} to lrdsl {command}",
        hint,
    )
    hint = re.sub(r"lrdsl\.compile\(\.\.\., (\w+)=\.\.\.\) or lrdsl eval -D", f"lrdsl {command} -D", hint)
    return hint.replace("lrdsl eval", f"lrdsl {command}")


# ---------------------------------------------------------------- the parser
# The run functions are looked up here when the parser is built, so a test can
# replace one by this module's path (``lrdsl.tools.cli._cmd_list``).


def _parser() -> argparse.ArgumentParser:
    import argparse

    from ..backends import backend, backend_reason

    reason = backend_reason()
    version = f"lrdsl {__version__} (backend: {backend()}{'; ' + reason if reason else ''})"
    parser = argparse.ArgumentParser(
        prog="lrdsl",
        description="Evaluate, check and plot learning-rate schedules written in the lrdsl language, "
        "and plans: one schedule per hyperparameter (--config with a plan, or --plan KEY=TEXT ...).",
    )
    parser.add_argument("--version", action="version", version=version)
    parser.set_defaults(command=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_eval(sub).set_defaults(run=_cmd_eval)
    ck = sub.add_parser(
        "check",
        help="check a schedule or plan: canonical form, phases and warnings",
        description="Print the canonical form and the phases the run reaches, and warn (on stderr, exit 0)"
        " about what is probably not meant.  A text that needs a total (%% lengths, an elastic segment)"
        " is checked without one: the phases say what moves with it.",
    )
    add_context(ck, False)
    ck.add_argument(
        "--notes",
        action="store_true",
        help="also print notes: conventions that are usually meant, such as a warmup whose first step is 0",
    )
    ck.set_defaults(run=_cmd_check)
    ex = sub.add_parser("explain", help="the phase table with every parameter resolved")
    add_context(ex, False)
    ex.set_defaults(run=_cmd_explain)
    pl = sub.add_parser(
        "plot", help="draw schedules (or a plan, one axis each) to a PNG or SVG file (needs matplotlib)"
    )
    add_context(pl, True, many="schedules to draw together (or --config/--key, or --plan)")
    pl.add_argument("-o", "--output", required=True, metavar="FILE", help="FILE.png or FILE.svg")
    pl.add_argument("--log", action="store_true", help="log-scale y axis")
    pl.add_argument("--title", help="the title (default: the schedule)")
    pl.set_defaults(run=_cmd_plot)
    cp = add_compare(sub)
    cp.set_defaults(run=_cmd_compare)
    add_translate(sub).set_defaults(run=_cmd_translate)
    ls = sub.add_parser("list", help="the primitive catalogue")
    ls.add_argument("--markdown", action="store_true", help="as the README's Markdown table")
    ls.set_defaults(run=_cmd_list)
    return parser


def _cmd_explain(args: argparse.Namespace) -> int:
    """``lrdsl explain``, asking :func:`_use_rich` (by this module's path, so a
    test can replace it) whether the terminal takes rich tables."""
    return cmd_explain(args, rich=_use_rich())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

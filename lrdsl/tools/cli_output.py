"""What the ``lrdsl`` command's standard output can take, and what to do when it fails.

:func:`unicode_ok` says whether a stream can print the terminal plot's
braille and box drawing (the plot falls back to ASCII when it cannot), and
:func:`use_rich` whether ``explain`` may draw rich tables.
:func:`tolerant_stdout` makes a stdout that cannot encode Unicode print '?'
for a stray character rather than fail, and :func:`silence_stdout` points
stdout at the null device once it is broken (a closed pipe, a full disk), so
exiting does not fail a second time while flushing.
"""

from __future__ import annotations

import contextlib
import os
import sys

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


def tolerant_stdout() -> None:
    """On a stdout that cannot encode Unicode (PYTHONIOENCODING=ascii, a latin-1
    terminal) print '?' for a stray character rather than fail; lrdsl's own
    output already falls back to ASCII there."""
    out = sys.stdout
    reconfigure = getattr(out, "reconfigure", None)
    if unicode_ok(out) or getattr(out, "errors", None) != "strict" or reconfigure is None:
        return
    with contextlib.suppress(ValueError, OSError):
        reconfigure(errors="replace")


def silence_stdout() -> None:
    """Send whatever is still buffered for stdout to the null device."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # pragma: no cover
        pass


def use_rich() -> bool:
    """rich tables on a terminal that takes colour, when rich is installed."""
    if os.environ.get("NO_COLOR") or not sys.stdout.isatty():
        return False
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True

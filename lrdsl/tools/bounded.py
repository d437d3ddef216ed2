"""Reading untrusted input, bounded: config files, ``@FILE``, ``-`` and ``--metrics``.

:func:`read_limited` reads at most a given number of bytes (more is E0701,
found without reading it all when the file says its size), :func:`open_input`
opens a file, a FIFO or a device without blocking on a FIFO nobody writes;
a file that cannot be read or a directory is E0901.  :func:`shown` quotes a
path or a value back in a message, cut to a readable length.
"""

from __future__ import annotations

import os
import stat
import sys

from ..language.errors import LimitError, LrdslError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

_SHOWN = 60  # characters of a path or value quoted back in a message


def error(message: str, *hints: str) -> LrdslError:
    return LrdslError(message, code="E0901", hints=hints)


def shown(text: object, limit: int = _SHOWN) -> str:
    """``repr(str(text))``, cut to about ``limit`` characters, for messages."""
    s = str(text)
    if len(s) > limit:
        s = s[: limit - 3] + "..."
    return repr(s)


def open_input(path: str | os.PathLike[str]) -> BinaryIO:
    """``path`` opened for reading in binary mode, or an :class:`LrdslError` (E0901).

    A directory is refused.  A FIFO or a device is opened without blocking (a
    FIFO with no writer would block ``open`` for ever) and then read as usual,
    so ``@<(cmd)`` and ``/dev/stdin`` work and a FIFO nobody writes reads as
    empty."""
    name = os.fspath(path)
    try:
        mode = os.stat(name).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "Is a directory")
        special = not stat.S_ISREG(mode)
        flags = os.O_RDONLY | getattr(os, "O_BINARY", 0)
        if special:
            flags |= getattr(os, "O_NONBLOCK", 0)
        fd = os.open(name, flags)
        try:
            if special and hasattr(os, "O_NONBLOCK"):
                os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise
    except (OSError, ValueError) as err:  # ValueError: a NUL in the path
        reason = getattr(err, "strerror", None) or str(err)
        raise error(f"cannot read {shown(name)}: {reason}") from None


def too_large(where: str, limit: int, what: str) -> LimitError:
    return LimitError(f"{where} is larger than {_size(limit)}, the most lrdsl reads for {what}", code="E0701")


def _size(n: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"


def read_limited(path: str | os.PathLike[str], limit: int, what: str = "a file", *, stdin: bool = False) -> bytes:
    """The bytes of ``path`` (with ``stdin``, ``"-"`` is standard input), reading
    at most ``limit + 1`` of them: more than ``limit`` is a :class:`LimitError`
    (E0701), a file that cannot be read an :class:`LrdslError` (E0901)."""
    name = os.fspath(path)
    if stdin and name == "-":
        return _read_stdin(limit, what)
    with open_input(name) as fh:
        try:
            st = os.fstat(fh.fileno())
            if stat.S_ISREG(st.st_mode) and st.st_size > limit:  # too large before reading any of it
                raise too_large(shown(name), limit, what)
            data = fh.read(limit + 1)
        except OSError as err:
            raise error(f"cannot read {shown(name)}: {err.strerror or err}") from None
    if len(data) > limit:
        raise too_large(shown(name), limit, what)
    return data


def _read_stdin(limit: int, what: str) -> bytes:
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise error("cannot read standard input: there is none")
    try:
        data: bytes = stream.read(limit + 1)
    except (OSError, ValueError) as err:
        raise error(f"cannot read standard input: {getattr(err, 'strerror', None) or err}") from None
    if len(data) > limit:
        raise too_large("standard input", limit, what)
    return data

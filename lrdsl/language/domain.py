"""The step domain and the size limits of untrusted input, in one place.

Steps are whole numbers ``0 <= t < STEP_LIMIT`` (2**53).  Inside that range a
step is an exact float64 (every framework path casts steps to floating point),
and a step plus any length or position of a program (also below 2**53) cannot
overflow int64, so the C kernel's integer arithmetic needs no checks.  A step
outside it is an :class:`~lrdsl.errors.LrdslError` (E0401) on every path.
"""

from __future__ import annotations

import operator

from .errors import LrdslError

#: Steps, lengths and positions are below this: ``0 <= t < 2**53``.
STEP_LIMIT = 2**53
MAX_STEP = STEP_LIMIT - 1

#: The schedule text limit, in characters (the parser's ``MAX_SOURCE_CHARS``);
#: the CLI reads up to four bytes a character of it from a file or stdin.
MAX_INPUT_BYTES = 16 * 1024
#: Bytes of a config file (--config, lrdsl.load) and of a metrics file.
MAX_CONFIG_BYTES = 1 << 20
MAX_METRICS_BYTES = 64 << 20


def out_of_domain(t: object) -> LrdslError:
    return LrdslError(
        f"a step is a whole number with 0 <= step < 2**53, got {t}",
        code="E0401",
        hints=["steps count completed optimizer steps from 0; lrdsl evaluates steps below 2**53"],
    )


def check_step(step: object) -> int:
    """``step`` as an int in the step domain, or an :class:`LrdslError`."""
    if isinstance(step, bool):
        raise LrdslError(f"a step is a whole number >= 0, got {step!r}", code="E0305")
    try:
        t = operator.index(step)  # type: ignore[arg-type]
    except TypeError:
        if isinstance(step, float) and step.is_integer():
            t = int(step)
        else:
            raise LrdslError(f"a step is a whole number >= 0, got {step!r}", code="E0305") from None
    if t < 0 or t > MAX_STEP:
        raise out_of_domain(t)
    return t

"""A terminal plot of a schedule in Unicode braille (2x4 dots per cell), with no
dependency beyond the standard library, so ``lrdsl eval`` can show the curve
at a glance.  Each column covers a range of steps and draws the minimum and
maximum of the values in it, so spikes and restarts stay visible; fewer steps
than columns are stretched to the full width.  Where the
terminal cannot show Unicode (``ascii_only=True``) the same grid is drawn with
ASCII: ``'`` for dots in the upper half of a cell, ``.`` the lower, ``:`` both.
"""

from __future__ import annotations

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [row][col] within a cell


def braille(
    values: Sequence[float],
    *,
    first_step: int = 0,
    last_step: int | None = None,
    width: int = 60,
    height: int = 10,
    log: bool = False,
    ascii_only: bool = False,
) -> str:
    """Render ``values`` (evenly spaced steps) as a braille chart with axes
    (with ASCII characters only when ``ascii_only``)."""
    n = len(values)
    if n == 0:
        return "(no steps)"
    last = first_step + n - 1 if last_step is None else last_step
    ys = [_y(v, log) for v in values]
    finite = [y for y in ys if y is not None]
    if not finite:
        return "(no finite positive values to plot)" if log else "(no finite values to plot)"
    lo, hi = min(finite), max(finite)
    if hi == lo:
        lo, hi = lo - 1.0, hi + 1.0
    cols = width * 2  # a short schedule is stretched: each step takes its share of the width
    rows = height * 4
    grid = [[0] * width for _ in range(height)]
    prev: tuple[int, int] | None = None
    for c in range(cols):
        a, b = c * n // cols, max(c * n // cols + 1, (c + 1) * n // cols)
        bucket = [y for y in ys[a:b] if y is not None]
        if not bucket:
            prev = None
            continue
        r_top = _row(max(bucket), lo, hi, rows)
        r_bot = _row(min(bucket), lo, hi, rows)
        own = (r_top, r_bot)
        if prev is not None:  # reach toward the previous column so steep edges stay joined
            if r_bot < prev[0]:
                r_bot = prev[0]
            elif r_top > prev[1]:
                r_top = prev[1]
        for r in range(r_top, r_bot + 1):
            grid[r // 4][c // 2] |= _BITS[r % 4][c % 2]
        prev = own
    top = _label(hi, log)
    bottom = _label(lo, log)
    pad = max(len(top), len(bottom))
    cell, tick, corner, rule = (_ascii_cell, "|", "+", "-") if ascii_only else (_braille_cell, "┤", "└", "─")
    lines = []
    for i, row in enumerate(grid):
        label = top if i == 0 else bottom if i == height - 1 else ""
        lines.append(f"{label:>{pad}} {tick}" + "".join(cell(bits) for bits in row))
    axis = f"{'':>{pad}} {corner}" + rule * len(grid[0])
    left, right = str(first_step), str(last)
    ticks = f"{'':>{pad}}  {left}{right:>{max(1, len(grid[0]) - len(left))}}"
    return "\n".join([*lines, axis, ticks])


_UPPER = 0x01 | 0x08 | 0x02 | 0x10  # dots in rows 0 and 1 of a cell
_LOWER = 0x04 | 0x20 | 0x40 | 0x80  # rows 2 and 3


def _braille_cell(bits: int) -> str:
    return chr(0x2800 + bits)


def _ascii_cell(bits: int) -> str:
    return " '.:"[(1 if bits & _UPPER else 0) + (2 if bits & _LOWER else 0)]


def _y(v: float, log: bool) -> float | None:
    if not math.isfinite(v):
        return None
    if log:
        return math.log10(v) if v > 0 else None
    return v


def _row(y: float, lo: float, hi: float, rows: int) -> int:
    frac = (y - lo) / (hi - lo)
    return min(rows - 1, max(0, round((1.0 - frac) * (rows - 1))))


def _label(y: float, log: bool) -> str:
    v = 10**y if log else y
    return f"{v:.3g}"

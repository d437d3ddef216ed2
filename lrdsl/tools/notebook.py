"""How a schedule and a plan show themselves in Jupyter: ``_repr_html_``.

The HTML is the canonical text, the phase table and an inline SVG plot:
matplotlib's when it is installed (``svg="matplotlib"``), else a small
dependency-free SVG polyline drawn here (``svg="plain"``).  Everything is
escaped; nothing is fetched.
"""

from __future__ import annotations

import html
import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..plan import Plan
    from ..schedule import Schedule

#: Points of the plain SVG polyline; steps shown when a schedule has no end.
POINTS = 400
DEFAULT_STEPS = 1000
_W, _H, _PAD = 480, 160, 28
_HEAD = ("start", "end", "segment", "first", "min", "max")
#: The schedule of docs/notebook.ipynb's first cell (base 0.1, 100 steps), drawn as docs/notebook.svg.
DOCS_EXAMPLE = "warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)"


def horizon(s: Schedule) -> int:
    """The steps worth drawing: the total, else where the last bounded segment ends
    (plus a tenth, to show what it holds), else :data:`DEFAULT_STEPS`."""
    if s.total_steps is not None:
        return max(1, s.total_steps)
    ends = [p.end for p in s.phases if p.end is not None]
    if not ends:
        return DEFAULT_STEPS
    end = max(ends)
    return max(2, min(end + max(1, end // 10), 2**53))


def _samples(s: Schedule, n: int) -> tuple[list[int], list[float]]:
    import numpy as np

    steps = np.unique(np.linspace(0, n - 1, min(n, POINTS)).astype(np.int64))
    return [int(t) for t in steps], [float(v) for v in s.values(steps)]


def plain_svg(s: Schedule, n: int | None = None, label: str = "lr") -> str:
    """A dependency-free SVG line plot of ``s`` over steps ``0..n-1``."""
    n = horizon(s) if n is None else n
    xs, ys = _samples(s, n)
    finite = [y for y in ys if math.isfinite(y)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    lo = min(lo, 0.0)
    span = (hi - lo) or 1.0
    last = max(xs[-1], 1)

    def px(t: int) -> float:
        return _PAD + (_W - 2 * _PAD) * t / last

    def py(v: float) -> float:
        return _H - _PAD - (_H - 2 * _PAD) * (v - lo) / span

    pts = " ".join(f"{px(t):.1f},{py(v):.1f}" for t, v in zip(xs, ys) if math.isfinite(v))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}"'
        f' role="img" aria-label="{html.escape(label)} over steps 0..{n - 1}">'
        f'<rect width="{_W}" height="{_H}" fill="white"/>'
        f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" stroke="#888"/>'
        f'<line x1="{_PAD}" y1="{_PAD}" x2="{_PAD}" y2="{_H - _PAD}" stroke="#888"/>'
        f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{pts}"/>'
        f'<text x="{_PAD}" y="{_H - 8}" font-size="10">0</text>'
        f'<text x="{_W - _PAD}" y="{_H - 8}" font-size="10" text-anchor="end">{n - 1}</text>'
        f'<text x="4" y="{_PAD}" font-size="10">{hi:.3g}</text>'
        f'<text x="4" y="{_H - _PAD}" font-size="10">{lo:.3g}</text>'
        f'<text x="{_W // 2}" y="14" font-size="11" text-anchor="middle">{html.escape(label)}</text>'
        "</svg>"
    )


def matplotlib_svg(items: Sequence[tuple[str, Schedule]], n: int) -> str | None:
    """An SVG from matplotlib (one axis per item), or ``None`` without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except Exception:  # not installed, or no usable backend: the plain SVG instead
        return None
    import io

    fig, axes = plt.subplots(len(items), 1, figsize=(6, 1.8 * len(items) + 0.4), sharex=True, squeeze=False)
    for ax, (label, s) in zip(axes[:, 0], items):
        xs, ys = _samples(s, n)
        ax.plot(xs, ys, lw=1.5)
        ax.set_ylabel(label)
        for p in s.phases[1:]:
            if p.start < n:
                ax.axvline(p.start, color="#bbb", lw=0.8, zorder=0)
    axes[-1, 0].set_xlabel("step")
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _phase_cells(s: Schedule) -> list[list[str]]:
    """The phase table's cells, one row a phase (under :data:`_HEAD`), unescaped."""
    ends = ["runs on" if p.end is None else str(p.end) for p in s.phases]
    return [[str(p.start), end, p.text, *(f"{v:.6g}" for v in (p.first, p.lo, p.hi))] for p, end in zip(s.phases, ends)]


def _phase_table(s: Schedule) -> str:
    rows = ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>" for cells in _phase_cells(s)]
    head = "".join(f"<th>{h}</th>" for h in _HEAD)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def schedule_html(s: Schedule, svg: str = "auto") -> str:
    """The HTML a notebook shows for ``s``."""
    n = horizon(s)
    picture = matplotlib_svg([("lr", s)], n) if svg in ("auto", "matplotlib") else None
    picture = picture or plain_svg(s, n)
    return (
        f"<div class='lrdsl'><p><code>{html.escape(s.canonical)}</code> &middot; base {s.base_lr!r}</p>"
        f"{_phase_table(s)}{picture}</div>"
    )


def plan_html(plan: Plan, svg: str = "auto") -> str:
    """The HTML a notebook shows for a plan: each key's text and phases, one axis each."""
    items = plan.items()
    n = max(horizon(s) for _, s in items)
    picture = matplotlib_svg(items, n) if svg in ("auto", "matplotlib") else None
    if picture is None:
        picture = "".join(plain_svg(s, n, key) for key, s in items)
    parts = [
        f"<h4>{html.escape(key)}</h4><p><code>{html.escape(s.canonical)}</code> &middot; base {s.base_lr!r}</p>"
        f"{_phase_table(s)}"
        for key, s in items
    ]
    return f"<div class='lrdsl-plan'>{''.join(parts)}{picture}</div>"


def picture_svg(s: Schedule) -> str:
    """What a notebook shows for ``s`` as one standalone SVG: the canonical text,
    the phase table (monospace text) and the plain plot.  ``docs/notebook.svg``
    is this for :data:`DOCS_EXAMPLE` (``python -m lrdsl.tools.notebook --svg FILE``)."""
    rows = [list(_HEAD), *_phase_cells(s)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEAD))]
    table = ["  ".join(c.ljust(w) if i == 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    lines = [f"{s.canonical} \u00b7 base {s.base_lr!r}", "", *table]
    char, step, top = 6.6, 16, 20  # a monospace character's width and a line's height at font-size 11
    width = max(_W, math.ceil(char * max(map(len, lines))) + 16)
    height = top + step * len(lines) + _H
    bold = ' font-weight="bold"'
    text = "".join(
        f'<text x="8" y="{top + step * i}" xml:space="preserve"{bold if i == 2 else ""}>{html.escape(line)}</text>'
        for i, line in enumerate(lines)
        if line
    )
    rule = top + step * 2 + 5
    plot = plain_svg(s).replace("<svg ", f'<svg x="0" y="{top + step * len(lines) - 8}" ', 1)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f'<rect width="{width}" height="{height}" fill="white"/>'
        f'<g font-family="monospace" font-size="11" fill="#222">{text}</g>'
        f'<line x1="8" y1="{rule}" x2="{width - 8}" y2="{rule}" stroke="#bbb"/>'
        f"{plot}</svg>\n"
    )


def docs_schedule() -> Schedule:
    """The schedule docs/notebook.ipynb shows first (and docs/notebook.svg draws)."""
    from .. import schedule

    return schedule.compile(DOCS_EXAMPLE, base_lr=0.1, total_steps=100)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m lrdsl.tools.notebook --svg FILE``: write the docs picture."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m lrdsl.tools.notebook", description=main.__doc__)
    parser.add_argument("--svg", required=True, help="the file to write (docs/notebook.svg)")
    args = parser.parse_args(argv)
    picture = picture_svg(docs_schedule())
    with open(args.svg, "w", encoding="utf-8", newline="\n") as f:
        f.write(picture)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

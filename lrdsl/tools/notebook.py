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


def _phase_table(s: Schedule) -> str:
    rows = []
    for p in s.phases:
        end = "runs on" if p.end is None else p.end
        cells = [p.start, end, html.escape(p.text), f"{p.first:.6g}", f"{p.lo:.6g}", f"{p.hi:.6g}"]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("start", "end", "segment", "first", "min", "max"))
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

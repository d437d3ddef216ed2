"""Plots of schedules as PNG or SVG files, with matplotlib (``pip install
lrdsl[plot]``), imported only here.

``plot([(label, schedule), ...], steps, path)`` draws each schedule over steps
``0..steps-1``, shades and labels its phases (one schedule: bands across the
axes; several: one strip per schedule along the top, in its curve's colour),
and writes the file (format from the extension); ``plot_plan(plan, steps, path)`` draws a
plan, one axis per hyperparameter, stacked on a shared step axis.  Long schedules are drawn from an even sample
that keeps every phase boundary, so a plot of 10**9 steps costs what a plot of
10**5 does.
"""

from __future__ import annotations

from ..language.errors import LrdslError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..plan import Plan
    from ..schedule import Schedule

#: Steps drawn per curve at most (more are sampled evenly, boundaries kept).
MAX_POINTS = 200_000
_PHASE_COLOURS = ("#4C72B0", "#DD8452")


def _steps(schedules: Sequence[Schedule], n: int) -> list[int]:
    if n <= MAX_POINTS:
        return list(range(n))
    picks = {round(i * (n - 1) / (MAX_POINTS - 1)) for i in range(MAX_POINTS)}
    for sched in schedules:
        for phase in sched.phases:
            for s in (phase.start - 1, phase.start):
                if 0 <= s < n:
                    picks.add(s)
    return sorted(picks)


def check_output(path: str) -> str:
    """The format (``"png"`` or ``"svg"``) of ``path``, once it is clear the file
    can be written there; else an :class:`LrdslError` (E0305 for the extension,
    E0901 for the place)."""
    import os

    suffix = path.rsplit(".", 1)[-1].lower() if "." in os.path.basename(path) else ""
    if suffix not in ("png", "svg"):
        raise LrdslError(f"a plot is written as .png or .svg, not {_shown(path)}", code="E0305")
    parent = os.path.dirname(path) or "."
    problem = None
    if os.path.isdir(path):
        problem = "it is a directory"
    elif not os.path.isdir(parent):
        problem = f"there is no directory {_shown(parent)}"
    elif "\0" in path:
        problem = "a path has no NUL characters"
    elif not os.access(path if os.path.exists(path) else parent, os.W_OK):
        problem = "permission denied"
    if problem:
        raise LrdslError(f"cannot write the plot to {_shown(path)}: {problem}", code="E0901")
    return suffix


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _literal(label: str) -> str:
    """``label`` as matplotlib draws it verbatim ('$' would start mathtext)."""
    return label.replace("$", r"\$")


def plot(
    items: Sequence[tuple[str, Schedule]],
    steps: int,
    path: str,
    *,
    log: bool = False,
    title: str | None = None,
) -> None:
    """Write a plot of ``items`` (label, schedule) over ``steps`` steps to ``path``.

    The figure is drawn in memory and then written: a path that cannot be
    written is an :class:`LrdslError` (E0901), found before any drawing."""
    suffix = check_output(path)
    plt = _pyplot()
    _write(plt, _figure(plt, items, steps, log, title), path, suffix)


def plot_plan(plan: Plan, steps: int, path: str, *, log: bool = False, title: str | None = None) -> None:
    """Write a plot of a plan to ``path``: one axis per hyperparameter, stacked
    and sharing the step axis, each with its key's phases shaded."""
    suffix = check_output(path)
    plt = _pyplot()
    _write(plt, plan_figure(plan, steps, log=log, title=title), path, suffix)


def plan_figure(plan: Plan, steps: int, *, log: bool = False, title: str | None = None):  # type: ignore[no-untyped-def]
    """The matplotlib figure :func:`plot_plan` writes (the caller closes it):
    ``fig.axes`` holds one axis per key, in the plan's order."""
    import numpy as np

    from ..plan import canonical_key
    from .report import values

    plt = _pyplot()
    items = plan.items()
    xs = _steps([s for _, s in items], steps)
    style = "steps-post" if len(xs) == steps else "default"
    fig, axes = plt.subplots(len(items), 1, sharex=True, squeeze=False, figsize=(8, 1.0 + 2.2 * len(items)), dpi=100)
    for ax, (key, sched) in zip(axes[:, 0], items):
        _shade(ax, sched, steps, log)
        ys = np.asarray(values(sched, xs))
        if log:
            ys = np.where(ys > 0, ys, np.nan)
        ax.plot(xs, ys, linewidth=1.6, drawstyle=style, solid_joinstyle="round")
        ax.set_ylabel(_literal(key))
        ax.set_title(_literal(f"{key}: {sched.canonical}"), fontsize=8, loc="left")
        _style(ax, log, zero=canonical_key(key) == "lr")  # others: the axis fits the curve
    axes[-1, 0].set_xlim(0, max(1, steps - 1))
    axes[-1, 0].set_xlabel("step")
    if title:
        fig.suptitle(_literal(title), fontsize=9, x=0.01, ha="left")
    fig.tight_layout()
    return fig


def _pyplot():  # type: ignore[no-untyped-def]
    try:
        import matplotlib
    except ImportError:
        raise LrdslError(
            "plotting needs matplotlib, which is not installed", code="E0802", hints=["pip install 'lrdsl[plot]'"]
        ) from None
    if "matplotlib.pyplot" not in __import__("sys").modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _write(plt, fig, path: str, suffix: str) -> None:  # type: ignore[no-untyped-def]
    import io

    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format=suffix)
    finally:
        plt.close(fig)
    try:
        with open(path, "wb") as fh:
            fh.write(buffer.getbuffer())
    except (OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise LrdslError(f"cannot write the plot to {_shown(path)}: {reason}", code="E0901") from None


def _style(ax, log: bool, zero: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Log or linear y axis (from 0 when ``zero``), grid, no top or right spine."""
    if log:
        ax.set_yscale("log")
    else:
        from matplotlib.ticker import FuncFormatter

        if zero:
            ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.grid(True, linewidth=0.4, alpha=0.5)
    ax.spines[["top", "right"]].set_visible(False)


def figure(items: Sequence[tuple[str, Schedule]], steps: int, *, log: bool = False, title: str | None = None):  # type: ignore[no-untyped-def]
    """The matplotlib figure :func:`plot` writes (the caller closes it)."""
    return _figure(_pyplot(), items, steps, log, title)


def _figure(plt, items: Sequence[tuple[str, Schedule]], steps: int, log: bool, title: str | None):  # type: ignore[no-untyped-def]
    import numpy as np

    from .report import values

    xs = _steps([s for _, s in items], steps)
    height = 4 + 0.22 * (len(items) if len(items) > 1 else 0)
    fig, ax = plt.subplots(figsize=(8, height), dpi=100)
    # every step drawn: a step holds its value until the next (stairs stay square)
    style = "steps-post" if len(xs) == steps else "default"
    lines = []
    for label, sched in items:
        ys = np.asarray(values(sched, xs))
        if log:
            ys = np.where(ys > 0, ys, np.nan)
        (line,) = ax.plot(xs, ys, linewidth=1.6, label=_literal(label), drawstyle=style, solid_joinstyle="round")
        lines.append(line)
    if len(items) == 1:
        _shade(ax, items[0][1], steps, log)
    else:  # one strip of phases per schedule, in its curve's colour
        for k, ((_label, sched), line) in enumerate(zip(items, lines)):
            _strip(ax, sched, steps, k, line.get_color())
    ax.set_xlim(0, max(1, steps - 1))
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    _style(ax, log)
    if len(items) > 1:
        _headroom(ax, len(items) * _STRIP + 0.03, log)
    if len(items) > 1:  # below the axes, where no curve runs
        ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.16), ncol=1)
    heading = title if title is not None else (items[0][0] if len(items) == 1 else "")
    ax.set_title(_literal(heading), fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def _shade(ax, sched: Schedule, steps: int, log: bool) -> None:  # type: ignore[no-untyped-def]
    """Alternate light bands for the phases, named at the top when wide enough."""
    from matplotlib.transforms import blended_transform_factory

    phases = [p for p in sched.phases if p.start < steps]
    if len(phases) < 2:
        return
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    for i, phase in enumerate(phases):
        end = steps - 1 if phase.end is None else min(phase.end, steps - 1)
        ax.axvspan(phase.start, end, color=_PHASE_COLOURS[i % 2], alpha=0.07, linewidth=0)
        if phase.start > 0:
            ax.axvline(phase.start, color="0.5", linewidth=0.6, linestyle=(0, (3, 3)))
        if (end - phase.start) / max(1, steps) >= 0.07:
            ax.text(
                (phase.start + end) / 2,
                0.98,
                phase.kind,
                transform=trans,
                ha="center",
                va="top",
                fontsize=7,
                color="0.35",
            )


#: Height of one schedule's strip of phases, as a fraction of the axes.
_STRIP = 0.05


def _headroom(ax, share: float, log: bool) -> None:  # type: ignore[no-untyped-def]
    """Raise the top of the y axis so the top ``share`` of the axes is above every curve."""
    import math

    lo, hi = ax.get_ylim()
    if log and lo > 0:
        top = math.log10(lo) + (math.log10(hi) - math.log10(lo)) / (1 - share)
        ax.set_ylim(lo, 10**top)
    else:
        ax.set_ylim(lo, lo + (hi - lo) / (1 - share))


def _strip(ax, sched: Schedule, steps: int, k: int, colour: str) -> None:  # type: ignore[no-untyped-def]
    """Schedule ``k``'s phases in an overlay: a strip of alternating bands in its
    colour along the top of the axes (the ``k``-th from the top), each phase
    named in it when wide enough, and its boundaries dashed in that colour."""
    from matplotlib.transforms import blended_transform_factory

    phases = [p for p in sched.phases if p.start < steps]
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    top = 1.0 - k * _STRIP
    for i, phase in enumerate(phases):
        end = steps - 1 if phase.end is None else min(phase.end, steps - 1)
        ax.axvspan(
            phase.start, end, ymin=top - _STRIP, ymax=top, color=colour, alpha=0.10 + 0.12 * (i % 2), linewidth=0
        )
        if phase.start > 0:
            ax.axvline(phase.start, color=colour, linewidth=0.6, linestyle=(0, (3, 3)), alpha=0.7)
        if (end - phase.start) / max(1, steps) >= 0.07:
            ax.text(
                (phase.start + end) / 2,
                top - _STRIP / 2,
                phase.kind,
                transform=trans,
                ha="center",
                va="center",
                fontsize=6,
                color=colour,
            )

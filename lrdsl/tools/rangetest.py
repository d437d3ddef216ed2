"""The learning-rate range test (Smith, "Cyclical Learning Rates for Training
Neural Networks", section 3.3): raise the lr along a ramp, one batch a step,
record the loss, stop when it diverges, and read a good range off the curve.

The ramp is an lrdsl schedule (``warmup(steps-1, start=start, end=end,
shape=exp)`` for ``schedule="exp"``, ``shape=linear`` for ``"linear"``).  The
framework wrappers (:func:`lrdsl.torch.range_test`, :func:`lrdsl.keras.range_test`)
give :func:`run` a ``train_step(lr) -> loss`` and restore the model and the
optimizer afterwards; this module does the rest.

Stopping: an exponential moving average of the loss (``beta=0.98``, with bias
correction, as in fastai) is compared with its best value; the test stops when
it exceeds ``diverge`` (4) times the best, or when a loss is not finite.

Suggestions, from ``smoothed``: a centred moving average of the loss over
``2h+1`` steps, ``h = max(1, steps // 40)`` (a moving average that looks both
ways does not lag behind the ramp the way the stopping average does):

- ``divergence_lr``: a decade below the lr at the smoothed loss's minimum.
  Past the minimum the loss climbs and then diverges; one tenth of it is a
  large lr that is still safely on the way down (fastai's ``minimum/10``).
- ``steepest_lr``: where the smoothed loss falls fastest per decade of lr (the
  most negative slope of loss against log lr), between the first tenth of the
  curve and the smoothed loss's minimum (fastai's ``steep``).  It is the more
  conservative of the two, often several times smaller.
- ``max_lr = divergence_lr``, the suggested top of a cyclical or 1cycle
  schedule (Smith: the lr where the loss stops improving, backed off), and
  ``min_lr = max_lr / 4``, Smith's rule of thumb (1/3 to 1/4 of max_lr).

On full-batch gradient descent on a quadratic, where lrs above ``2/lambda_max``
diverge, ``max_lr`` lands at about a fifth of that limit (tests/test_rangetest.py).
"""

from __future__ import annotations

import math

from ..language.errors import LrdslError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def ramp(start: float, end: float, steps: int, schedule: str = "exp") -> str:
    """The lrdsl text of the range test's ramp: ``start`` at step 0, ``end`` at
    step ``steps - 1``."""
    if not (0 < start < end) or not math.isfinite(end):
        raise LrdslError(f"the range test needs 0 < start < end, got start={start!r}, end={end!r}", code="E0401")
    if steps < 3:
        raise LrdslError(f"the range test needs at least 3 steps, got {steps}", code="E0401")
    if schedule not in ("exp", "linear"):
        raise LrdslError(f"schedule is 'exp' or 'linear', not {schedule!r}", code="E0306")
    return f"warmup({steps - 1}, start={start!r}, end={end!r}, shape={schedule})"


class RangeTestResult:
    """The curve (``lrs``, ``losses``, ``smoothed``), whether it ``diverged``,
    and the suggestions."""

    def __init__(self, lrs: list[float], losses: list[float], smoothed: list[float], diverged: bool) -> None:
        self.lrs = lrs
        self.losses = losses
        self.smoothed = smoothed
        self.diverged = diverged
        self.steepest_lr, self.divergence_lr = _suggest(lrs, smoothed)
        self.max_lr = self.divergence_lr
        self.min_lr = self.max_lr / 4

    def __repr__(self) -> str:
        return (
            f"RangeTestResult({len(self.lrs)} steps, diverged={self.diverged}, "
            f"steepest_lr={self.steepest_lr:.3g}, divergence_lr={self.divergence_lr:.3g}, max_lr={self.max_lr:.3g})"
        )

    def cyclic(self, step_size: int = 2000, mode: str = "triangular") -> str:
        """A ``cyclic(...)`` schedule between ``min_lr`` and ``max_lr``."""
        return f"cyclic({step_size}, low={self.min_lr:.3g}, high={self.max_lr:.3g}, mode={mode})"

    def one_cycle(self, steps: int) -> str:
        """A ``one_cycle(...)`` schedule peaking at ``max_lr``."""
        return f"one_cycle({steps}, max={self.max_lr:.3g})"

    def plot(self, path: str) -> None:
        """Loss against lr on a log axis, with the suggestions marked."""
        try:
            import matplotlib
        except ImportError:
            raise LrdslError("plotting needs matplotlib", code="E0305", hints=["pip install 'lrdsl[plot]'"]) from None
        import sys

        if "matplotlib.pyplot" not in sys.modules:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
        ax.plot(self.lrs, self.losses, color="0.75", linewidth=1, label="loss")
        ax.plot(self.lrs, self.smoothed, linewidth=1.8, label="smoothed loss")
        ax.axvspan(self.min_lr, self.max_lr, color="#4C72B0", alpha=0.1, linewidth=0, label="suggested range")
        for lr, name, colour in (
            (self.steepest_lr, "steepest", "#55A868"),
            (self.max_lr, "max_lr (minimum/10)", "#C44E52"),
        ):
            ax.axvline(lr, color=colour, linestyle=(0, (4, 3)), linewidth=1.2, label=f"{name}: {lr:.3g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        finite = [v for v in self.smoothed if math.isfinite(v)]
        if finite:
            lo, first = min(finite), finite[0]
            ax.set_ylim(lo - 0.1 * abs(first - lo), first + 0.5 * abs(first - lo) + 1e-12)
        ax.grid(True, linewidth=0.4, alpha=0.5)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(frameon=False, fontsize=8)
        ax.set_title(f"LR range test: max_lr {self.max_lr:.3g}, min_lr {self.min_lr:.3g}", fontsize=9, loc="left")
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)


def _centred(losses: list[float]) -> list[float]:
    """Centred moving average over ``2h+1`` steps (fewer at the ends); a window
    holding a non-finite loss is infinite."""
    n = len(losses)
    h = max(1, n // 40)
    out = []
    for i in range(n):
        window = losses[max(0, i - h) : i + h + 1]
        out.append(sum(window) / len(window) if all(math.isfinite(v) for v in window) else math.inf)
    return out


def _suggest(lrs: list[float], smoothed: list[float]) -> tuple[float, float]:
    n = len(smoothed)
    if n < 3:
        raise LrdslError("the range test stopped after fewer than 3 steps; start lower", code="E0401")
    best = min(range(n), key=lambda i: smoothed[i])
    slopes = []
    for i in range(max(n // 10, 1), min(best + 1, n - 1)):
        dx = math.log(lrs[i + 1]) - math.log(lrs[i - 1])
        dy = smoothed[i + 1] - smoothed[i - 1]
        if math.isfinite(dy):
            slopes.append((dy / dx, i))
    steepest = lrs[min(slopes)[1]] if slopes else lrs[best]
    return steepest, lrs[best] / 10


def run(
    train_step: Callable[[float], float],
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 100,
    schedule: str = "exp",
    beta: float = 0.98,
    diverge: float = 4.0,
) -> RangeTestResult:
    """Run ``train_step(lr) -> loss`` along the ramp until the loss diverges
    (its moving average exceeds ``diverge`` times its best, or it is not finite)."""
    from ..schedule import compile as compile_schedule

    if not (0 < beta < 1) or not diverge > 1:
        raise LrdslError(f"the range test needs 0 < beta < 1 and diverge > 1, got {beta!r}, {diverge!r}", code="E0401")
    lr_at = compile_schedule(ramp(start, end, steps, schedule))
    lrs: list[float] = []
    losses: list[float] = []
    avg = 0.0
    best = math.inf
    diverged = False
    for i in range(steps):
        lr = lr_at(i)
        loss = float(train_step(lr))
        lrs.append(lr)
        losses.append(loss)
        if not math.isfinite(loss):
            diverged = True
            break
        avg = beta * avg + (1 - beta) * loss
        value = avg / (1 - beta ** (i + 1))
        best = min(best, value)
        if i >= 5 and value > diverge * best:
            diverged = True
            break
    return RangeTestResult(lrs, losses, _centred(losses), diverged)

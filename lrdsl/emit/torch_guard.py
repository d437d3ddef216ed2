"""The runtime guard of :class:`~lrdsl.torch.DSLScheduler`: counting mistakes, warned once.

The field's commonest schedule bugs are counting mistakes, and they are
silent: a scheduler stepped once per micro-batch under gradient
accumulation, once per process, or per batch where the horizon counts
epochs, and a ``plateau(...)`` that never receives a metric.  The
scheduler knows what it was built for and says so, once each, with a Python
warning:

- :class:`lrdsl.CountingWarning` when ``step()`` is called while the
  schedule is already at the end of its plan: under the step clock the
  ``N + 1``-th ``step()`` of a plan of ``N`` steps (``N`` calls are a whole
  run: the last one sets the value after the last optimizer step), under a
  token clock a batch begun at or past the token total.  The plan's end is
  its total (``total_steps``, ``total_tokens``...) when one is known, whatever
  the last segment (the total is what the run was said to be), else the end
  of its last segment when every schedule ends (past it each would hold a
  value nobody wrote, which is what a run stepped too often looks like).  A
  schedule with no total that ends in an unbounded segment (``>> const(1e-6)``,
  ``exp(0.99)``) runs on by design and is never warned about; with several
  param groups or keys, the latest end counts.
- :class:`lrdsl.FeedbackWarning` when a plateau segment has been active for
  more than ``max(patience + 1, 2 * steps_per_epoch)`` ``step()`` calls
  (``steps_per_epoch`` when the schedule knows it) and the scheduler has
  never received a metric, by ``step(metric)`` or ``observe(metric)``, before
  or during the plateau: ``patience + 1`` reports are what a cut needs, and
  two epochs cover a metric fed once per epoch.  A loop that feeds a metric
  less often than that, without ``steps_per_epoch``, is warned too early:
  the message says how to silence it.  A callback that feeds the metric
  once per validation calls :func:`expect_metrics` when it is attached.

Silence them with ``warnings.filterwarnings("ignore",
category=lrdsl.LrdslWarning)`` (or either class), or build the scheduler with
``DSLScheduler(..., warn=False)``.

The plain ``step()`` pays one comparison for the guard: ``_watch`` is the
next step at which anything may need saying under the step clock (never
more than the last step of the domain, so the same comparison catches a
step past it), and -1 under a token or sample clock, so the same comparison
sends those the long way.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import torch

from ..language.domain import MAX_STEP, out_of_domain
from ..language.errors import CountingWarning, FeedbackWarning
from ..reactive import locate

#: What each plain loop, trainer and framework does to feed ``plateau(...)``.
FEEDING = (
    "a plain loop: sched.step(metric) after each step, or sched.observe(metric) where the metric is measured"
    " (e.g. once per epoch); Lightning: return lrdsl.lightning.scheduler_config(sched, monitor='val_loss',"
    " trainer=self.trainer) as configure_optimizers' 'lr_scheduler' (by hand, with interval 'epoch': set"
    " 'reduce_on_plateau': True and 'monitor' in that dict; without reduce_on_plateau Lightning never passes"
    " the metric); HuggingFace Trainer: callbacks=[lrdsl.hf.PlateauCallback()], which feeds eval_loss after"
    " each evaluation (the Trainer itself calls step() without a metric)"
)


class Watch(NamedTuple):
    """A plateau segment the guard watches: where it is and when to speak."""

    start: int  # in the clock's units
    stop: int | None
    threshold: int  # step() calls without a metric before warning
    where: str  # "param group 0's 'lr'"
    text: str


def horizon(scheds: list[Any]) -> int | None:
    """The end of the plan, in the clock's units (see the module's docs)."""
    ends = []
    for s in scheds:
        *_, (start, last) = s.program.segments()
        end = None if last.length is None else start + last.length
        if s.total_steps is None and end is None:
            return None
        ends.append(max(s.total_steps or 0, end or 0))
    return max(ends) if ends else None


def watches(scheds: list[Any], targets: list[Any]) -> list[Watch]:
    out = []
    for s, t in zip(scheds, targets):
        spe = s.steps_per_epoch
        for _, node, start in locate(s.program.root):
            stop = None if node.length is None else start + node.length
            threshold = max(int(node.params["patience"]) + 1, 2 * spe if spe else 0)
            where = f"param group {t.group}'s '{t.key}'"
            out.append(Watch(start, stop, threshold, where, node.label or "plateau(...)"))
    return out


class Guard:
    """The guard's state: what is still to be watched, and whether a metric
    was ever received (plain attributes: it pickles with the scheduler)."""

    def __init__(self, enabled: bool, clock: str | None) -> None:
        self.clock = clock
        self.fed = False  # a metric was received
        self.past_said = self.feed_said = not enabled
        self.horizon: int | None = None
        self.plateaus: list[Watch] = []
        self.began: dict[int, int] = {}  # token clock: the step() call at which each plateau began
        self.origin = 0  # step clock: plateaus are watched from here (the step resumed at)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Guard) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]

    def reset(self, sched: Any, origin: int = 0) -> None:
        """Read the plan (at construction, and after a load at step ``origin``,
        from where the plateaus are watched anew); set ``_watch``.  A loaded
        plateau state that has taken a report counts as fed."""
        self.horizon = horizon(sched._schedules)
        self.plateaus = watches(sched._schedules, sched._targets)
        self.began = {}
        self.origin = origin
        self.fed = self.fed or any(abs(p.best) != math.inf for fb in sched._feedback for p in fb.plateaus)
        sched._watch = self.next()

    def next(self) -> int:
        """Step clock: the last step at which nothing needs checking (-1 under
        a token or sample clock, whose every step() goes the long way)."""
        if self.clock is not None:
            return -1
        at = MAX_STEP
        if not self.past_said and self.horizon is not None:
            at = min(at, self.horizon)
        if not self.feed_said and not self.fed and self.plateaus:
            at = min(at, min(max(w.start, self.origin) + w.threshold for w in self.plateaus))
        return at

    def watch(self, sched: Any, prev: int, now: int, stacklevel: int, fed: bool = False) -> None:
        """Called by ``step()`` moving from ``prev`` to ``now`` (for the step
        clock only when ``now > _watch``); ``fed``: a metric comes with it."""
        if now > MAX_STEP:
            raise out_of_domain(now)
        self.fed = self.fed or fed
        if sched._step_count == 0:  # the constructor's step
            return
        if not self.past_said and self.horizon is not None and prev >= self.horizon:
            self.past_said = True
            warnings.warn(self._past(sched, prev), CountingWarning, stacklevel=stacklevel)
        if not self.feed_said and not self.fed and self.plateaus:
            found = self._unfed(prev, now, sched.last_epoch + 1)
            if found is not None:
                self.feed_said = True
                warnings.warn(self._feed(*found), FeedbackWarning, stacklevel=stacklevel)
        sched._watch = self.next()

    def _unfed(self, prev: int, now: int, call: int) -> tuple[Watch, int] | None:
        """The plateau that has run past its threshold without a metric, if
        any, and for how many ``step()`` calls (``call`` is this one's number)."""
        keep = []
        found = None
        for w in self.plateaus:
            if w.stop is not None and prev >= w.stop:
                continue  # over: it can no longer be fed
            keep.append(w)
            if prev < w.start:
                continue
            if self.clock is None:
                since = now - max(w.start, self.origin)
            else:
                since = call - self.began.setdefault(w.start, call) + 1
            if since > w.threshold and found is None:
                found = (w, since)
        self.plateaus = keep
        return found

    def _past(self, sched: Any, prev: int) -> str:
        unit = "steps" if self.clock is None else self.clock
        if self.clock is None:
            what = f"step() moved it to step {prev + 1:,}, and the plan has {self.horizon:,} steps"
        else:
            what = f"step() began a batch at {prev:,} {unit} consumed, and the plan has {self.horizon:,} {unit}"
        return (
            f"DSLScheduler stepped past the end of its plan: {what}; from here each value just holds."
            " The likely cause is a counting mistake: the scheduler stepped once per micro-batch under gradient"
            " accumulation (step it once per optimizer step), once per process or GPU (accelerate's prepare()"
            " steps it num_processes times unless batches are split), or a total given in epochs where the"
            " scheduler steps per batch. If the run is meant to be longer, give the longer total or end the plan"
            " with an unbounded segment (e.g. '>> const(1e-6)'). Silence: warnings.filterwarnings('ignore',"
            " category=lrdsl.CountingWarning) or DSLScheduler(..., warn=False)."
        )

    def _feed(self, w: Watch, n: int) -> str:
        unit = "step" if self.clock is None else self.clock[:-1]
        return (
            f"DSLScheduler: {w.where}'s {w.text} (from {unit} {w.start:,}) has been active for {n:,} step()"
            " calls without receiving any metric, so it holds its start value and never cuts. Feed it: "
            f"{FEEDING}. If you feed it less often than every {w.threshold:,} steps, pass steps_per_epoch= or"
            " silence this: warnings.filterwarnings('ignore', category=lrdsl.FeedbackWarning) or"
            " DSLScheduler(..., warn=False)."
        )


def expect_metrics(sched: Any) -> None:
    """Say that something will feed ``sched``'s plateaus when the metric is
    measured (a Lightning or HuggingFace callback feeding once per
    validation): no :class:`~lrdsl.FeedbackWarning` for it."""
    sched._guard.fed = True


def warn_order(optimizer: torch.optim.Optimizer, stacklevel: int = 3) -> None:
    """torch's own warnings for a first step() before optimizer.step()."""
    if not hasattr(optimizer.step, "_wrapped_by_lr_sched"):
        warnings.warn(
            "Seems like `optimizer.step()` has been overridden after learning rate scheduler initialization. "
            "Please, make sure to call `optimizer.step()` before `lr_scheduler.step()`.",
            UserWarning,
            stacklevel=stacklevel,
        )
    elif not getattr(optimizer, "_opt_called", False):
        warnings.warn(
            "Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
            "In PyTorch 1.1.0 and later, you should call them in the opposite order: "
            "`optimizer.step()` before `lr_scheduler.step()`.",
            UserWarning,
            stacklevel=stacklevel,
        )

"""Feedback for reactive segments (``plateau``), shared by the torch scheduler,
the Keras callback and ``lrdsl eval --metrics``.

A :class:`Plateau` is the state of one plateau segment of one schedule: the
decision state torch's ``ReduceLROnPlateau`` keeps (best, bad reports,
cooldown) and the cuts made so far.  A report is the metric measured while
step ``t - 1`` ran, given when the schedule moves to step ``t``; it counts when
the plateau was active at ``t - 1``, and a cut takes effect from step ``t``.
:class:`Feedback` holds the plateaus of one schedule and rebuilds the schedule
(its program, and the kernel's copy) when a cut happens, so evaluation stays
closed-form: the plateau is a staircase through the cuts made so far.
"""

from __future__ import annotations

import math
import numbers

from .language.domain import MAX_STEP
from .language.errors import LrdslError, UnsupportedError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .language.ir import Node
    from .schedule import Schedule


class Plateau:
    """One plateau segment's feedback state (plain values only, for checkpoints).

    ``rule`` is whose decision to replay: ``"torch"`` (``ReduceLROnPlateau`` in
    torch: a cut after more than ``patience`` bad reports, skipped when smaller
    than ``eps``) or ``"keras"`` (``keras.callbacks.ReduceLROnPlateau``: a cut
    after ``patience`` bad reports outside cooldown, while the float32 lr is
    above ``min_lr``; ``threshold_mode=abs`` with ``threshold`` is Keras's
    ``min_delta``)."""

    def __init__(self, index: int, node: Node, start: int, rule: str = "torch") -> None:
        p = node.params
        self.rule = rule
        self.index = index  # the node's position in the program's preorder walk
        self.start = start  # global step where the plateau begins
        self.stop = None if node.length is None else start + node.length
        self.factor = float(p["factor"])
        self.patience = int(p["patience"])
        self.mode = p["mode"]
        self.threshold = float(p["threshold"])
        self.threshold_mode = p["threshold_mode"]
        self.cooldown = int(p["cooldown"])
        self.min_lr = float(p["min_lr"])
        self.eps = float(p["eps"])
        self.level0 = float(p["start"])
        self.cuts: list[int] = list(p["cuts"])
        self.levels: list[float] = list(p["levels"])
        self.best = math.inf if self.mode == "min" else -math.inf
        self.bad = 0
        self.cooling = 0

    def active(self, t: int) -> bool:
        return t >= self.start and (self.stop is None or t < self.stop)

    @property
    def level(self) -> float:
        return self.levels[-1] if self.levels else self.level0

    def better(self, a: float) -> bool:
        best = self.best
        if self.rule == "keras" and self.threshold_mode == "abs":  # Keras: less(a + min_delta, best)
            return a + self.threshold < best if self.mode == "min" else a - self.threshold > best
        if self.mode == "min":
            return a < best * (1.0 - self.threshold) if self.threshold_mode == "rel" else a < best - self.threshold
        return a > best * (self.threshold + 1.0) if self.threshold_mode == "rel" else a > best + self.threshold

    def report(self, metric: float, t: int) -> bool:
        """Feed the metric measured during step ``t - 1``; True when it cut the
        level from step ``t`` on."""
        if not self.active(t - 1):
            return False
        if self.rule == "keras":
            return self._report_keras(metric, t)
        if self.better(metric):  # torch's ReduceLROnPlateau.step, line for line
            self.best = metric
            self.bad = 0
        else:
            self.bad += 1
        if self.cooling > 0:
            self.cooling -= 1
            self.bad = 0
        if self.bad > self.patience:
            self.cooling = self.cooldown
            self.bad = 0
            old = self.level
            new = max(old * self.factor, self.min_lr)
            if old - new > self.eps:
                return self._cut(t, new)
        return False

    def _report_keras(self, metric: float, t: int) -> bool:
        """keras.callbacks.ReduceLROnPlateau.on_epoch_end, line for line; the lr
        it reads back is the optimizer's float32 variable."""
        import struct

        if self.cooling > 0:
            self.cooling -= 1
            self.bad = 0
        if self.better(metric):
            self.best = metric
            self.bad = 0
        elif self.cooling <= 0:
            self.bad += 1
            if self.bad >= self.patience:
                old = _f32(self.level, struct)
                if old > _f32(self.min_lr, struct):
                    self.cooling = self.cooldown
                    self.bad = 0
                    return self._cut(t, max(old * self.factor, self.min_lr))
        return False

    def _cut(self, t: int, new: float) -> bool:
        self.cuts.append(t - self.start)
        self.levels.append(new)
        return True

    def state(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "best": self.best,
            "bad": self.bad,
            "cooling": self.cooling,
            "cuts": list(self.cuts),
            "levels": list(self.levels),
        }

    def check(self, state: object, now: int, where: str) -> dict[str, Any]:
        """``state`` (from :meth:`state`) validated against this plateau at step
        ``now``, as plain values; an :class:`LrdslError` naming the key if it
        is not a state this plateau can have reached by step ``now``."""
        state = check_keys(state, _STATE_KEYS, where)
        if whole(state["index"], f"{where}.index") != self.index:
            raise LrdslError(f"{where}.index is {state['index']}, this plateau's is {self.index}", code="E0305")
        best = real(state["best"], f"{where}.best", finite=False)  # +-inf before the first report
        bad = whole(state["bad"], f"{where}.bad", hi=self.patience if self.rule == "torch" else MAX_STEP)
        cooling = whole(state["cooling"], f"{where}.cooling", hi=self.cooldown)
        cuts = [whole(c, f"{where}.cuts[{i}]", lo=1) for i, c in enumerate(check_list(state["cuts"], f"{where}.cuts"))]
        levels = [real(v, f"{where}.levels[{i}]") for i, v in enumerate(check_list(state["levels"], f"{where}.levels"))]
        if len(levels) != len(cuts):
            raise LrdslError(f"{where} has {len(cuts)} cuts but {len(levels)} levels", code="E0305")
        last = self.level0
        for i, (cut, level) in enumerate(zip(cuts, levels)):
            if i and cut < cuts[i - 1]:
                raise LrdslError(f"{where}.cuts must be in order, got {cuts}", code="E0401")
            if self.start + cut > now or (self.stop is not None and self.start + cut > self.stop):
                raise LrdslError(
                    f"{where}.cuts[{i}]={cut} is a cut at step {self.start + cut}, after the state's step {now}"
                    + ("" if self.stop is None else f" or the plateau's end {self.stop}"),
                    code="E0401",
                )
            # every cut lowers the level (up to Keras's float32 rounding) and stays at or above min_lr
            if not self.min_lr <= level <= last + abs(last) * 2.0**-23:
                raise LrdslError(
                    f"{where}.levels[{i}]={level!r} is not a level this plateau can cut to "
                    f"(from {last!r}, min_lr {self.min_lr!r})",
                    code="E0401",
                )
            last = level
        return {"best": best, "bad": bad, "cooling": cooling, "cuts": cuts, "levels": levels}

    def load(self, state: dict[str, Any]) -> None:
        """Take a state that :meth:`check` returned."""
        self.best = state["best"]
        self.bad = state["bad"]
        self.cooling = state["cooling"]
        self.cuts = list(state["cuts"])
        self.levels = list(state["levels"])


class Feedback:
    """The plateaus of one schedule; :meth:`report` returns the schedule to use
    from now on (a rebuilt one after a cut, else the same object)."""

    def __init__(self, schedule: Schedule, rule: str = "torch") -> None:
        self.schedule = schedule
        self.plateaus = [Plateau(i, node, start, rule) for i, node, start in locate(schedule.program.root)]

    def __bool__(self) -> bool:
        return bool(self.plateaus)

    def report(self, metric: object, t: int) -> Schedule:
        value = _metric(metric)
        if any([p.report(value, t) for p in self.plateaus]):
            self.schedule = rebuild(self.schedule, self.plateaus)
        return self.schedule

    def state(self) -> list[dict[str, Any]]:
        return [p.state() for p in self.plateaus]

    def load(self, states: object, now: int, where: str = "plateaus") -> Schedule:
        """Resume from :meth:`state` at step ``now``: every plateau's state is
        checked before any is taken, so a bad state changes nothing."""
        states = check_list(states, where)
        if len(states) != len(self.plateaus):
            raise LrdslError(
                f"{where}: the saved state has {len(states)} plateau segments, this schedule {len(self.plateaus)}",
                code="E0607",
            )
        checked = [p.check(state, now, f"{where}[{i}]") for i, (p, state) in enumerate(zip(self.plateaus, states))]
        for p, state in zip(self.plateaus, checked):
            p.load(state)
        if self.plateaus:
            self.schedule = rebuild(self.schedule, self.plateaus)
        return self.schedule


_STATE_KEYS = ("index", "best", "bad", "cooling", "cuts", "levels")


# ------------------------------------------------------------ checking saved states
# Checkpoints are untrusted input: each value is checked for its type and range,
# nothing is converted lossily (3.7 is not a step, True is not a number).


def check_keys(state: object, keys: tuple[str, ...], where: str) -> dict[str, Any]:
    """``state`` as a dict with exactly ``keys``."""
    if not isinstance(state, dict):
        raise LrdslError(f"{where} must be a dict, got {type(state).__name__}", code="E0305")
    missing = [k for k in keys if k not in state]
    extra = [k for k in state if k not in keys]
    if missing or extra:
        parts = ([f"lacks {', '.join(map(repr, missing))}"] if missing else []) + (
            [f"has unknown {', '.join(map(repr, extra))}"] if extra else []
        )
        raise LrdslError(f"{where} {' and '.join(parts)}", code="E0305", hints=[f"the keys are {', '.join(keys)}"])
    return state


def check_list(value: object, where: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise LrdslError(f"{where} must be a list, got {type(value).__name__}", code="E0305")
    return list(value)


def whole(value: object, where: str, lo: int = 0, hi: int = MAX_STEP) -> int:
    """An integer (not a bool, not a float) with ``lo <= value <= hi``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise LrdslError(f"{where} must be a whole number, got {value!r}", code="E0305")
    n = int(value)
    if not lo <= n <= hi:
        raise LrdslError(f"{where} must be from {lo} to {hi}, got {n}", code="E0401")
    return n


def real(value: object, where: str, *, finite: bool = True) -> float:
    """A real number (not a bool), never NaN, finite unless ``finite=False``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise LrdslError(f"{where} must be a number, got {value!r}", code="E0305")
    x = float(value)
    if math.isnan(x) or (finite and math.isinf(x)):
        raise LrdslError(f"{where} must be a {'finite ' if finite else ''}number, got {x!r}", code="E0401")
    return x


def _f32(x: float, struct: Any) -> float:
    """``x`` rounded to float32, as a Keras variable holds it."""
    return float(struct.unpack("f", struct.pack("f", x))[0])


def _metric(metric: object) -> float:
    try:
        value = float(metric)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise LrdslError(f"a metric must be a number, got {metric!r}", code="E0305") from None
    return value


def locate(root: Node) -> list[tuple[int, Node, int]]:
    """``(preorder index, node, global start)`` of every plateau, through chains
    and pointwise operators (a plateau inside ``repeat`` is a compile error)."""
    found = []
    stack: list[tuple[Node, int]] = [(root, 0)]
    index = 0
    while stack:
        node, offset = stack.pop()
        if node.op == "plateau":
            found.append((index, node, offset))
        index += 1
        starts = node.params["starts"] if node.op == "seq" else [0] * len(node.kids)
        stack.extend((kid, offset + s) for kid, s in reversed(list(zip(node.kids, starts))))
    return found


def refuse(schedule: Schedule, target: str, hint: str) -> None:
    """For emitters that never see a metric (a Keras schedule, an optax
    schedule): a schedule with a plateau is an error (E0801)."""
    if locate(schedule.program.root):
        raise UnsupportedError(f"plateau(...) needs a metric, which {target} never sees", code="E0801", hints=[hint])


def rebuild(schedule: Schedule, plateaus: list[Plateau]) -> Schedule:
    """The schedule with every plateau's cuts and levels written into its program."""
    from .language.compiler import left_limit
    from .schedule import Schedule

    by_index = {p.index: p for p in plateaus}
    counter = [0]

    def walk(node: Node) -> Node:
        index = counter[0]
        counter[0] += 1
        kids = tuple(walk(k) for k in node.kids)
        if index in by_index:
            p = by_index[index]
            params = node.params.__class__({**node.params, "cuts": tuple(p.cuts), "levels": tuple(p.levels)})
            node = node._replace(params=params, kids=kids)
            if node.length is not None:
                node = node._replace(end=left_limit(node._replace(length=None), node.length))
            return node
        if kids != node.kids:
            node = node._replace(kids=kids)
            if node.length is not None:
                node = node._replace(end=left_limit(node._replace(length=None), node.length))
        return node

    program = schedule.program._replace(root=walk(schedule.program.root))
    return Schedule(program, schedule.ast, schedule._checked, schedule.placeholders)

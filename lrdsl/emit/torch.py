"""PyTorch emitter: a real ``torch.optim.lr_scheduler.LRScheduler`` from a schedule or a plan.

    from lrdsl.torch import DSLScheduler
    sched = DSLScheduler(optimizer, "warmup(500) >> cosine(95%, min=1e-6)", total_steps=10_000)
    for batch in loader:
        loss.backward(); optimizer.step(); sched.step()

PyTorch's conventions hold: after construction every group's lr is the value
at step 0, after ``k`` calls of ``step()`` the value at step ``k``; ``base`` is
each group's initial lr.  Every lr is computed from ``k`` (closed form, no
drift).  ``state_dict()`` holds plain values only, so ``torch.load(...,
weights_only=True)`` reads it, and ``load_state_dict`` resumes bit-identically.
``step(metric)`` feeds ``plateau(...)`` segments.  Importing this module
imports torch; ``import lrdsl`` does not.

A plan schedules more than the lr: a mapping from param-group key to text
(or a compiled :class:`lrdsl.plan.Plan`), or a list of them, one per group::

    DSLScheduler(opt, {
        "lr": "one_cycle(10k, max=0.1)",
        "momentum": "one_cycle(10k, start=0.95, peak=0.85, end=0.95)",
        "weight_decay": "linear(10k, start=base, end=10 * base)",
    })

Any numeric entry of the param group is a key, ``betas[0]``/``betas[1]`` an
element of a tuple (Keras's and optax's spellings -- ``learning_rate``,
``beta_1``, ``b2``, ``wd`` -- name the same entries).  ``base`` in a key's text
is the group's initial value of that entry, kept in the group as
``initial_<entry>`` (``initial_momentum``, ``initial_betas``) the way torch keeps
``initial_lr``.  Each text must keep its key in its domain (lr and weight decay
>= 0, momentum and betas in [0, 1]; :func:`lrdsl.plan.domain_of`).  A plan
without ``lr`` leaves the lr alone (another scheduler may drive it) and
``get_last_lr()`` reports it as it is; :meth:`DSLScheduler.get_last` and
:attr:`DSLScheduler.last_values` give the other keys' values.  ``plateau(...)``
works in any key's text; the state of a plan (format 2) holds every key.

Under ``clock="tokens"`` (or ``"samples"``) the schedule's time is the count
consumed, advanced by ``sched.step(tokens=n)`` (:mod:`lrdsl.emit.torch_clock`).
``resume="exact" | "prefix" | "any"`` says which saved states
``load_state_dict`` takes (:mod:`lrdsl.emit.torch_resume`: ``"prefix"`` takes
a changed plan that agrees on every step taken, a WSD branch-off).  The
scheduler warns once when it is stepped past its plan, or a plateau gets no
metric (:mod:`lrdsl.emit.torch_guard`; ``warn=False`` silences it).

A state's checks live in :mod:`lrdsl.emit.torch_state`, the plan's keys in
:mod:`lrdsl.emit.torch_plan`; :func:`range_test` (from
:mod:`lrdsl.emit.torch_rangetest`) runs Smith's learning-rate range test on a
model and gives the model and optimizer back as they were.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch.optim.lr_scheduler import LRScheduler

from .._version import __version__
from ..language.domain import check_step
from ..language.errors import LrdslError
from ..plan import Plan, canonical_key, compile_plan
from ..reactive import Feedback
from ..schedule import Schedule
from ..schedule import compile as compile_schedule
from . import torch_clock as C
from . import torch_plan as P
from . import torch_resume as R
from .torch_guard import Guard, warn_order
from .torch_rangetest import range_test
from .torch_state import PLAN_FORMAT, STATE_FORMAT, fingerprint, plan_fingerprint
from .torch_state import plain_float as _float

__all__ = ["DSLScheduler", "range_test"]


class DSLScheduler(LRScheduler):
    """A learning-rate scheduler from an lrdsl schedule, or a scheduler of
    several hyperparameters from a plan.

    ``schedule`` is a text or a compiled :class:`~lrdsl.Schedule` (its text is
    recompiled for each param group's base lr), a plan (a mapping from
    param-group key to text or Schedule, or a compiled
    :class:`~lrdsl.plan.Plan`), or a sequence of these (a list, a tuple, an
    OmegaConf ``ListConfig``), one per param group.  ``total_steps``,
    ``steps_per_epoch``, the clock with ``tokens_per_step``,
    ``samples_per_step``, ``total_tokens`` and ``total_samples``, and
    placeholder values are passed to :func:`lrdsl.compile`
    (:func:`lrdsl.plan.compile_plan` for a plan).  ``clock="tokens"``
    (``"samples"``): the time is the count consumed, advanced by
    ``step(tokens=n)`` (``step()`` advances by ``tokens_per_step``).
    ``resume``: which states :meth:`load_state_dict` takes (``"exact"``,
    ``"prefix"`` or ``"any"``).  ``warn=False``: no warnings for counting
    mistakes.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        schedule: str | Schedule | Mapping[str, str | Schedule] | Plan | Sequence[Any],
        *,
        total_steps: int | None = None,
        steps_per_epoch: int | None = None,
        clock: str = "steps",
        tokens_per_step: int | None = None,
        samples_per_step: int | None = None,
        total_tokens: int | None = None,
        total_samples: int | None = None,
        resume: str = "exact",
        warn: bool = True,
        last_epoch: int = -1,
        **placeholders: object,
    ) -> None:
        groups = optimizer.param_groups
        specs = P.specs(schedule, len(groups))
        clock = C.check_clock(clock)
        self._resume = R.check_mode(resume)
        if isinstance(last_epoch, bool) or last_epoch != -1:
            last_epoch = check_step(last_epoch)
        items = [P.group_plan(spec, group, i) for i, (spec, group) in enumerate(zip(specs, groups))]
        for i, group in enumerate(groups):  # initial_lr, initial_momentum, ...: what base is
            P.keep_initial(group, i, ["lr", *(t.entry for _, t, _ in items[i])], last_epoch)
        self._specs = specs
        self._keys = [[key for key, _, _ in its] for its in items]
        self._layout([t for its in items for _, t, _ in its])
        per_step = {"tokens": tokens_per_step, "samples": samples_per_step}
        self._context = C.context(
            clock, total_steps=total_steps, steps_per_epoch=steps_per_epoch, tokens_per_step=tokens_per_step,
            samples_per_step=samples_per_step, total_tokens=total_tokens, total_samples=total_samples,
            placeholders=placeholders,
        )  # fmt: skip
        bases = [
            _float(groups[t.group]["initial_lr"]) if t.entry == "lr" else P.base_of(groups[t.group], t)
            for t in self._targets
        ]
        self._set(self._compiled(bases))
        C.check_clocks(self._schedules, clock)
        C.setup(self, clock, per_step, last_epoch)  # _clock, _per_step, _consumed
        self._bases = bases
        self._values: list[float] = []  # a plan's values last set, target by target
        self._guard = Guard(bool(warn), self._clock)
        self._watch = -1  # the step after which step() asks the guard (or -1: always)
        self._guard.reset(self)
        super().__init__(optimizer, last_epoch)

    def _layout(self, targets: list[P.Target]) -> None:
        """Which entries are set: ``_targets`` (flat, group by group), ``_lr_slot``
        (each group's lr target, or None), ``_lr_only`` (one lr per group: the fast path)."""
        self._targets = targets
        n = len(self._specs)
        slots: list[int | None] = [None] * n
        for j, t in enumerate(targets):
            if t.entry == "lr":
                slots[t.group] = j
        self._lr_slot = slots
        self._lr_only = len(targets) == n and all(j is not None for j in slots)

    def _compiled(self, bases: list[float]) -> list[Schedule]:
        """Each target's schedule for its base (nothing is changed)."""
        scheds: list[Schedule] = []
        for spec, keys in zip(self._specs, self._keys):
            mine, bases = bases[: len(keys)], bases[len(keys) :]
            if isinstance(spec, dict):
                plan = compile_plan({k: spec[k] for k in keys}, bases=dict(zip(keys, mine)), **self._context)  # type: ignore[arg-type]
                scheds.extend(plan[k] for k in keys)
            elif isinstance(spec, Schedule):
                scheds.append(spec.with_base(mine[0]))
            else:
                scheds.append(compile_schedule(spec, base_lr=mine[0], **self._context))  # type: ignore[arg-type]
        return scheds

    def _set(self, scheds: list[Schedule], feedback: list[Feedback] | None = None) -> None:
        self._schedules = scheds
        self._feedback = feedback if feedback is not None else [Feedback(s) for s in scheds]
        self._calls = [s._call for s in scheds]

    # ------------------------------------------------------------ the LRScheduler contract

    def get_lr(self) -> list[float]:  # type: ignore[override]
        """The lrs at ``last_epoch``, computed from the step (closed form); a
        group whose plan has no ``lr`` keeps its lr."""
        t = self.last_epoch if self._clock is None else self._consumed
        if self._lr_only:
            return [f(t) for f in self._calls]
        groups = self.optimizer.param_groups
        return [_float(groups[i]["lr"]) if j is None else self._calls[j](t) for i, j in enumerate(self._lr_slot)]

    def _get_closed_form_lr(self) -> list[float]:
        return self.get_lr()

    def step(  # type: ignore[override]
        self, metrics: object = None, epoch: int | None = None, tokens: object = None, samples: object = None
    ) -> None:
        """Advance one step; ``metrics`` (the value measured during the step that
        just ran) feeds any ``plateau(...)`` segment.  Under a token (sample)
        clock ``tokens=n`` (``samples=n``) is what the step consumed.  (Not
        keyword-only, for speed: CPython specializes calls of such functions.)"""
        if epoch is not None or tokens is not None or samples is not None:
            return C.step(self, metrics, epoch, tokens, samples)
        t = self.last_epoch + 1
        if t > self._watch:  # a token or sample clock, past the domain, or something the guard may say
            if self._clock is not None:
                return C.step(self, metrics, None, None, None)
            self._guard.watch(self, t - 1, t, 3, metrics is not None)
        if self._step_count == 1:
            warn_order(self.optimizer)
        self._step_count += 1
        self.last_epoch = t
        if metrics is not None:
            self._report(metrics, t)
        self._apply(t)

    def _apply(self, t: int) -> None:
        """Set every group's lr to its value at step ``t`` (in place for a tensor lr)."""
        if not self._lr_only:
            return self._apply_plan(t)
        lrs = []
        for group, f in zip(self.optimizer.param_groups, self._calls):
            lr = f(t)
            current = group["lr"]
            if isinstance(current, torch.Tensor):
                current.fill_(lr)
            else:
                group["lr"] = lr
            lrs.append(lr)
        self._last_lr = lrs

    def _apply_plan(self, t: int) -> None:
        """Set every target of a plan to its value at step ``t``."""
        groups = self.optimizer.param_groups
        values = P.apply(groups, self._targets, self._calls, t)
        self._values = values
        self._last_lr = [_float(groups[i]["lr"]) if j is None else values[j] for i, j in enumerate(self._lr_slot)]

    def observe(self, metrics: object) -> None:
        """Feed a metric without advancing the step (e.g. once per epoch when
        ``step()`` runs per batch); a cut applies from the current step (count)."""
        t = self.consumed
        self._report(metrics, t)
        self._apply(t)

    @property
    def consumed(self) -> int:
        """The count the schedule is at: the tokens (samples) consumed under a
        token (sample) clock, the steps taken (``last_epoch``) under the step clock."""
        return self.last_epoch if self._clock is None else self._consumed  # type: ignore[no-any-return]

    def _report(self, metrics: object, t: int) -> None:
        self._guard.fed = True
        for j, fb in enumerate(self._feedback):
            if fb:
                self._schedules[j] = fb.report(metrics, t)
                self._calls[j] = self._schedules[j]._call

    # ------------------------------------------------------------ what is scheduled

    @property
    def schedules(self) -> list[Schedule]:
        """The compiled lr schedule of each param group (with plateau cuts so
        far); for a plan's other keys see :attr:`plans`."""
        missing = [i for i, j in enumerate(self._lr_slot) if j is None]
        if missing:
            raise LrdslError(
                f"param group {missing[0]}'s plan has no 'lr'", code="E0207", hints=["see .plans for every key"]
            )
        return [self._schedules[j] for j in self._lr_slot]  # type: ignore[index]

    @property
    def plans(self) -> list[Plan]:
        """Each param group's compiled plan, by the group's keys (``lr`` alone for
        a single schedule), with plateau cuts so far."""
        out: list[dict[str, Schedule]] = [{} for _ in self._specs]
        for t, s in zip(self._targets, self._schedules):
            out[t.group][t.key] = s
        return [Plan(d) for d in out]

    @property
    def last_values(self) -> list[dict[str, float]]:
        """Each param group's scheduled keys and the values last set (``lr``
        always: :meth:`get_last_lr`'s value)."""
        out: list[dict[str, float]] = [{"lr": float(lr)} for lr in self._last_lr]
        if not self._lr_only:
            for t, v in zip(self._targets, self._values):
                out[t.group][t.key] = v
        return out

    def get_last(self, key: str) -> list[float]:
        """The value of ``key`` (``'momentum'``, ``'betas[0]'``...) in each param
        group: the one last set, or the group's own where its plan does not
        schedule the key (E0207 where the group has no such entry)."""
        groups = self.optimizer.param_groups
        last = self.last_values
        out = []
        for i, group in enumerate(groups):
            mine = {canonical_key(k): v for k, v in last[i].items()}
            if canonical_key(key) in mine:
                out.append(mine[canonical_key(key)])
                continue
            t = P.resolve(group, i, key)
            value = group[t.entry] if t.element < 0 else group[t.entry][t.element]
            out.append(_float(value))
        return out

    # ------------------------------------------------------------ checkpoints

    def _texts(self, scheds: list[Schedule] | None = None) -> list[dict[str, str]]:
        """Each group's canonical texts by key."""
        return self._by_group([s.canonical for s in (self._schedules if scheds is None else scheds)])

    def fingerprint(self) -> str:
        """A hash of what defines the values: the canonical texts and the context."""
        if self._lr_only:
            return fingerprint(self._schedules, self._context)
        return plan_fingerprint(self._texts(), self._context)

    def _by_group(self, values: list[Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{} for _ in self._specs]
        for t, v in zip(self._targets, values):
            out[t.group][t.key] = v
        return out

    def state_dict(self) -> dict[str, Any]:
        """Plain values only (``torch.load(..., weights_only=True)`` reads them):
        format 1 for the lr alone, format 2 (every key by group) for a plan."""
        state: dict[str, Any] = {
            "format": STATE_FORMAT,
            "lrdsl": __version__,
            "schedules": [s.canonical for s in self._schedules],
            "fingerprint": self.fingerprint(),
            "base_lrs": [_float(b) for b in self.base_lrs],
            "last_epoch": int(self.last_epoch),
            "step_count": int(self._step_count),
            "last_lr": [float(x) for x in self._last_lr],
            "plateaus": [fb.state() for fb in self._feedback],
        }
        if self._lr_only:
            return R.extras(self, state)
        state["format"] = PLAN_FORMAT
        state["schedules"] = self._texts()
        state["plateaus"] = self._by_group(state["plateaus"])
        state["bases"] = self._by_group([float(b) for b in self._bases])
        state["last_values"] = self._by_group([float(v) for v in self._values])
        return R.extras(self, state)

    def load_state_dict(self, state_dict: dict[str, Any], *, strict: bool = True) -> None:  # type: ignore[override]
        """Resume from :meth:`state_dict`.  Which states are taken is the
        scheduler's ``resume`` mode: ``"exact"`` (the same plan and context),
        ``"prefix"`` (a plan that gives the same values at every step taken) or
        ``"any"``; ``strict=False`` is ``"any"`` for this call.

        Every value is checked (type, range, and the plateau cuts against the
        schedule) before anything changes, so a refused state (an
        :class:`~lrdsl.LrdslError` naming the key) leaves the scheduler and the
        optimizer as they were."""
        R.load(self, state_dict, self._resume if strict else "any")

    # ------------------------------------------------------------ copies and pickles

    def __getstate__(self) -> dict[str, Any]:
        """The specs and plateau states; :meth:`__setstate__` recompiles the
        schedules from them (a compiled Schedule in a spec pickles itself)."""
        state = self.__dict__.copy()
        for key in ("_schedules", "_feedback", "_calls"):
            state.pop(key, None)
        state["_plateaus"] = [fb.state() for fb in self._feedback]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        plateaus = state.pop("_plateaus")
        self.__dict__.update(state)
        if "_targets" not in state:  # pickled by an lrdsl before plans: the lr alone
            self._keys = [[""] for _ in self._specs]
            self._layout([P.Target(i, "lr", "lr", -1) for i in range(len(self._specs))])
            self._bases = [_float(b) for b in self.base_lrs]
            self._values = []
        if "_clock" not in state:  # ... or before clocks, resume modes and the guard
            self._clock, self._per_step, self._consumed, self._resume = None, None, 0, "exact"
            self._guard = Guard(True, None)
        scheds = self._compiled(self._bases)
        feedback = [Feedback(s) for s in scheds]
        for j, fb in enumerate(feedback):
            scheds[j] = fb.load(plateaus[j], self.consumed, where=f"plateaus[{j}]")
        self._set(scheds, feedback)
        self._guard.reset(self, self.last_epoch)

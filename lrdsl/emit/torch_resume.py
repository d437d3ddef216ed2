"""Resuming :class:`~lrdsl.torch.DSLScheduler`: the three modes, and what a state keeps for them.

``DSLScheduler(..., resume=...)`` says which saved states ``load_state_dict``
accepts (set at construction, because trainers call ``load_state_dict(state)``
themselves):

- ``"exact"`` (the default): only a state saved from the same plan in the
  same context (its fingerprint: the canonical texts, the totals, the clock,
  the placeholders).
- ``"prefix"``: also a state saved from another plan, if and only if, for
  every param group and every key, the new plan gives bit-identical values to
  the saved one at every step already taken: ``0 .. last_epoch - 1`` (counts
  ``0 .. consumed - 1`` under a token or sample clock).  The value at
  ``last_epoch`` itself is the one the next optimizer step will use, so the
  new plan may change it: a WSD cooldown branched off at the saved step
  (``warmup(2k) >> hold()`` saved at step 50k, resumed as ``warmup(2k) >>
  hold(48k) >> cooldown(10k, shape=sqrt)``) and an extended run (``cosine(10k)``
  saved at 5k, resumed as ``cosine(10k) >> const(1e-6)``) are accepted.  The
  saved texts are recompiled in their saved context (each target's clock,
  total, steps per epoch, tokens and samples per step and placeholders, the
  state's ``'contexts'``) with the saved bases and compared with
  :func:`lrdsl.agree.first_difference`, segment by segment, so the answer
  takes milliseconds at step 10**9.  Anything else is an
  :class:`~lrdsl.LrdslError` (E0608) naming the param group, the key, the
  first differing step and both values.  Plateau: the cuts made so far are
  part of the values taken, so every plateau segment that began before the
  saved step must be in the new plan too, from the same step and with the
  same parameters (``factor``, ``patience``, ``mode``, ``threshold``...; its
  length may change, as a hold's does in a branch-off); its state (best,
  bad reports, cooldown, cuts) carries over and the values with the cuts are
  compared.  Plateaus that begin at or after the saved step start fresh.
  The keys each group schedules must stay the same.  A state written before
  ``'contexts'`` existed can only resume exactly.
- ``"any"``: any state of the same layout (the same param groups and keys),
  resumed at the saved step with the new plan: what ``load_state_dict(state,
  strict=False)`` did and still does for that one call.

A state written here has ``'contexts'`` (one per param group, a dict by key
for a plan) and, under a token or sample clock, ``'consumed'``.
"""

from __future__ import annotations

from typing import Any

from ..agree import first_difference
from ..language.errors import LrdslError
from ..reactive import Feedback, Plateau, check_keys, whole
from ..schedule import Schedule
from ..schedule import compile as compile_schedule
from .torch_clock import CLOCKS
from .torch_state import check_plan_state, check_same_plan, check_same_schedule, check_state

#: The values of ``DSLScheduler(..., resume=...)``.
MODES = ("exact", "prefix", "any")

CONTEXT_KEYS = ("clock", "total", "steps_per_epoch", "tokens_per_step", "samples_per_step", "placeholders")


def check_mode(mode: object) -> str:
    if not isinstance(mode, str) or mode not in MODES:
        raise LrdslError(f"resume must be one of {', '.join(map(repr, MODES))}, got {mode!r}", code="E0306")
    return mode


def saved_context(s: Schedule) -> dict[str, Any]:
    """What recompiles ``s``'s canonical text to ``s`` (with its base): plain values only."""
    clock, tps, sps = s.program.clock
    placeholders = {k: v if isinstance(v, (str, int)) else float(v) for k, v in s.placeholders.items()}  # type: ignore[arg-type]
    return {
        "clock": clock,
        "total": s.total_steps,
        "steps_per_epoch": s.steps_per_epoch,
        "tokens_per_step": tps,
        "samples_per_step": sps,
        "placeholders": placeholders,
    }


def check_context(value: object, where: str) -> dict[str, Any]:
    """A saved context checked for type and range (it is untrusted input)."""
    ctx = check_keys(value, CONTEXT_KEYS, where)
    if ctx["clock"] not in CLOCKS:
        raise LrdslError(f"{where}['clock'] must be one of {', '.join(CLOCKS)}, got {ctx['clock']!r}", code="E0305")
    out: dict[str, Any] = {"clock": ctx["clock"]}
    for key in CONTEXT_KEYS[1:-1]:
        out[key] = None if ctx[key] is None else whole(ctx[key], f"{where}[{key!r}]", lo=1)
    placeholders = ctx["placeholders"]
    if not isinstance(placeholders, dict) or not all(
        isinstance(k, str) and isinstance(v, (int, float, str)) and not isinstance(v, bool)
        for k, v in placeholders.items()
    ):
        raise LrdslError(f"{where}['placeholders'] must be a dict of names to numbers or texts", code="E0305")
    out["placeholders"] = dict(placeholders)
    return out


def compile_saved(text: str, base: float, ctx: dict[str, Any]) -> Schedule:
    """A saved text compiled in its saved context."""
    clock, total = ctx["clock"], ctx["total"]
    return compile_schedule(
        text,
        base_lr=base,
        total_steps=total if clock == "steps" else None,
        total_tokens=total if clock == "tokens" else None,
        total_samples=total if clock == "samples" else None,
        steps_per_epoch=ctx["steps_per_epoch"],
        tokens_per_step=ctx["tokens_per_step"],
        samples_per_step=ctx["samples_per_step"],
        clock=clock,
        **ctx["placeholders"],
    )


def extras(sched: Any, state: dict[str, Any]) -> dict[str, Any]:
    """``'contexts'`` (and ``'consumed'`` under a token or sample clock) added to a state."""
    contexts = [saved_context(s) for s in sched._schedules]
    state["contexts"] = contexts if sched._lr_only else sched._by_group(contexts)
    if sched._clock is not None:
        state["consumed"] = int(sched._consumed)
    return state


def _clock_of(sched: Any, state: dict[str, Any]) -> int:
    """The saved time (the step, or the count under a token clock); E0305 when the clocks differ."""
    clock, consumed = sched._clock, state["consumed"]
    if clock is None and consumed is not None:
        raise LrdslError(
            "the state was saved under a token or sample clock (it has 'consumed'); this scheduler counts steps",
            code="E0305",
            hints=["build the scheduler with the clock the state was saved with"],
        )
    if clock is not None and consumed is None:
        raise LrdslError(
            f"the state has no 'consumed': it was saved under the step clock, and this scheduler counts {clock}",
            code="E0305",
            hints=["build the scheduler with the clock the state was saved with"],
        )
    return state["last_epoch"] if clock is None else consumed  # type: ignore[no-any-return]


def load(sched: Any, state_dict: object, mode: str) -> None:
    """``load_state_dict`` in ``mode``: everything is checked before anything changes."""
    n = len(sched._specs)
    targets = sched._targets
    if sched._lr_only:
        state = check_state(state_dict, n)
        bases = list(state["base_lrs"])
        wheres = [f"plateaus[{i}]" for i in range(n)]
        plateaus = list(state["plateaus"])
        texts, contexts = list(state["schedules"]), state["contexts"]
    else:
        keys = [[t.key for t in targets if t.group == i] for i in range(n)]
        state = check_plan_state(state_dict, keys)
        bases = [state["bases"][t.group][t.key] for t in targets]
        wheres = [f"plateaus[{t.group}][{t.key!r}]" for t in targets]
        plateaus = [state["plateaus"][t.group][t.key] for t in targets]
        texts = [state["schedules"][t.group][t.key] for t in targets]
        contexts = None if state["contexts"] is None else [state["contexts"][t.group][t.key] for t in targets]
    if contexts is not None:
        contexts = [check_context(c, f"'contexts'{w[len('plateaus') :]}") for c, w in zip(contexts, wheres)]
    now = _clock_of(sched, state)
    consumed = state["consumed"]
    try:
        scheds = sched._compiled(bases)
    except LrdslError as err:
        what = "base_lrs" if sched._lr_only else "bases"
        raise LrdslError(f"the state's '{what}' do not compile: {err.message}", code=err.code) from None
    feedback = [Feedback(s) for s in scheds]
    if mode == "prefix" and not _same(sched, state, scheds):
        scheds = prefix(sched, feedback, texts, contexts, bases, plateaus, wheres, now)
    else:
        if mode == "exact":
            _check_same(sched, state, scheds)
        for j, (fb, saved, where) in enumerate(zip(feedback, plateaus, wheres)):  # checks every plateau first
            scheds[j] = fb.load(saved, now, where=where)
    # nothing below can fail: commit
    sched.base_lrs = list(state["base_lrs"])
    sched._bases = bases
    sched._set(scheds, feedback)
    sched.last_epoch = state["last_epoch"]
    sched._step_count = state["step_count"]
    if consumed is not None:
        sched._consumed = consumed
    sched._guard.reset(sched, sched.last_epoch)
    sched._apply(now)


def _check_same(sched: Any, state: dict[str, Any], scheds: list[Schedule]) -> None:
    if sched._lr_only:
        check_same_schedule(state, scheds, sched._context)
    else:
        check_same_plan(state, sched._texts(scheds), sched._context)


def _same(sched: Any, state: dict[str, Any], scheds: list[Schedule]) -> bool:
    try:
        _check_same(sched, state, scheds)
    except LrdslError:
        return False
    return True


def prefix(
    sched: Any,
    feedback: list[Feedback],
    texts: list[str],
    contexts: list[dict[str, Any]] | None,
    bases: list[float],
    plateaus: list[Any],
    wheres: list[str],
    now: int,
) -> list[Schedule]:
    """The new schedules (with the plateau states carried over) when they
    continue the saved ones up to ``now``; else E0608 at the first difference."""
    if contexts is None:
        raise LrdslError(
            "resume='prefix' needs the state's 'contexts' to recompile the saved plan; this state was written"
            " by an lrdsl before them, so it can only resume the plan it was saved from",
            code="E0608",
            hints=["build the scheduler with the saved plan (resume='exact'), or use resume='any'"],
        )
    unit = "step" if sched._clock is None else sched._clock[:-1]
    found: list[tuple[int, int, float, float]] = []
    new: list[Schedule] = []
    for j, (t, fb) in enumerate(zip(sched._targets, feedback)):
        name = f"param group {t.group}'s '{t.key}'"
        ctx = contexts[j]
        if ctx["clock"] != (sched._clock or "steps"):
            raise LrdslError(f"resume='prefix': {name} was saved under the {ctx['clock'][:-1]} clock", code="E0608")
        try:
            old = compile_saved(texts[j], bases[j], ctx)
        except LrdslError as err:
            raise LrdslError(
                f"{name}'s saved text does not compile in its saved context: {err}", code="E0608"
            ) from None
        old_fb = Feedback(old)
        old = old_fb.load(plateaus[j], now, where=wheres[j])
        mine = fb.load(carry(old_fb, fb, plateaus[j], now, f"{name}'s", unit), now, where=wheres[j])
        new.append(mine)
        v = first_difference(old, mine, now)
        if v.step is not None:
            found.append((v.step, j, v.a, v.b))  # type: ignore[arg-type]
    if found:
        step, j, a, b = min(found)
        t = sched._targets[j]
        raise LrdslError(
            f"resume='prefix': the new plan does not continue the saved one: param group {t.group}'s '{t.key}' is"
            f" {b!r} at {unit} {step:,} in the new plan, {a!r} in the saved one ({unit}s 0..{now - 1:,} are taken)",
            code="E0608",
            hints=[f"saved: {texts[j]}", f"new: {new[j].canonical}", "resume='any' resumes the new plan anyway"],
        )
    return new


def _rule(p: Plateau) -> tuple[Any, ...]:
    return (p.factor, p.patience, p.mode, p.threshold, p.threshold_mode, p.cooldown, p.min_lr, p.eps, p.level0)


def carry(old: Feedback, new: Feedback, saved: list[Any], now: int, name: str, unit: str) -> list[Any]:
    """The saved plateau states for the new schedule's plateaus: those begun
    before ``now`` carried over (the same start and parameters), the others fresh."""
    begun = {p.start: (p, s) for p, s in zip(old.plateaus, saved) if p.start < now}
    out = []
    for q in new.plateaus:
        if q.start >= now:
            out.append(q.state())
            continue
        hit = begun.pop(q.start, None)
        if hit is None or _rule(hit[0]) != _rule(q):
            raise LrdslError(
                f"resume='prefix': {name} plateau from {unit} {q.start:,} has begun, and the saved plan"
                + (" has no plateau there" if hit is None else " has one there with other parameters"),
                code="E0608",
                hints=["a plateau that has run must stay as it was: its cuts are part of the values taken"],
            )
        out.append({**hit[1], "index": q.index})
    if begun:
        start = min(begun)
        raise LrdslError(
            f"resume='prefix': {name} saved plateau from {unit} {start:,} has begun, and the new plan drops it",
            code="E0608",
            hints=["a plateau that has run must stay as it was: its cuts are part of the values taken"],
        )
    return out

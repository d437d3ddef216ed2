"""Translation stage: ``torch.optim.lr_scheduler`` objects -> lrdsl text."""

from __future__ import annotations

import itertools
import math

from ..language.errors import ArgumentError
from ._common import (
    _V,
    _args,
    _chain,
    _Consts,
    _fail,
    _finish,
    _float,
    _Formatted,
    _kw,
    _Linear,
    _nice_float,
    _num,
    _OneCycle,
    _paren,
    _PeriodicCos,
    _Piece,
    _Poly,
    _positive,
    _Product,
    _steps,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


_TORCH_SIMPLE = (
    "ConstantLR",
    "LinearLR",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "OneCycleLR",
)
_TORCH_FACTORS = ("ConstantLR", "LinearLR", "StepLR", "MultiStepLR", "ExponentialLR", "PolynomialLR")


class _TorchContext:
    """Group ``g``'s reference base R (the group's ``initial_lr``) and whether
    values are written as factors of base."""

    def __init__(self, optimizer: Any, g: int, rel: bool) -> None:
        groups = optimizer.param_groups
        if not 0 <= g < len(groups):
            raise ArgumentError(f"group={g}, but the optimizer has {len(groups)} param groups", code="E0401")
        group = groups[g]
        self.g = g
        self.group = group
        self.R = _float(group.get("initial_lr", group["lr"]), "the param group's initial_lr")
        self.rel = rel

    def val(self, factor: float, b: float) -> _V:
        """``factor * b`` where ``b`` is a scheduler's base lr."""
        if self.rel and b == self.R:
            return _V(factor, True)
        return _V(factor * b, False)

    def base_of(self, s: Any) -> float:
        return _float(s.base_lrs[self.g], f"{type(s).__name__}.base_lrs[{self.g}]")


def _torch_classes() -> Any:
    from torch.optim import lr_scheduler

    return lr_scheduler


def _kind(s: Any, L: Any) -> str:
    """The built-in class of ``s`` by exact type (a subclass may change the formula)."""
    cls = type(s)
    name = cls.__name__
    builtin = getattr(L, name, None)
    if builtin is cls:
        return name
    for base in cls.__mro__[1:]:
        if getattr(L, base.__name__, None) is base and base.__name__ not in ("LRScheduler", "_LRScheduler"):
            raise _fail(
                f"{name} subclasses torch's {base.__name__} and may override its formula; lrdsl translates"
                " the built-in schedulers only"
            )
    raise _fail(f"{name} is not one of torch.optim.lr_scheduler's built-in schedulers")


def _contains(s: Any, names: Sequence[str]) -> bool:
    kids = getattr(s, "_schedulers", None)
    if kids is not None:
        return any(_contains(k, names) for k in kids)
    return type(s).__name__ in names


def _torch_piece(
    s: Any, kind: str, ctx: _TorchContext, *, first: bool, start: _V | None, replay: bool = False
) -> _Piece:
    """The piece for one built-in scheduler.

    ``first``: it starts by its own initial step (as when constructed, or as
    the scheduler active at a SequentialLR's step 0), from the lr ``start``;
    otherwise a SequentialLR milestone starts it with ``_update_lr(0)`` (its
    closed form at 0 from ``base_lrs``, or ``get_lr()``).  ``replay``: the
    initial step is re-run outside torch's initial mode (a ChainedScheduler at
    a SequentialLR's start), so ExponentialLR and PolynomialLR step once more."""
    name = kind
    if name in ("CyclicLR", "OneCycleLR", "CosineAnnealingWarmRestarts"):
        return _torch_absolute(s, name, ctx)
    b = ctx.base_of(s)
    base = ctx.val(1.0, b)
    x = start if (first and start is not None) else base
    if name == "ConstantLR":
        f = _float(s.factor, "ConstantLR.factor")
        ti = _steps(s.total_iters, "ConstantLR.total_iters", 0)
        if ti == 0:
            return _Consts([(x.times(f) if first else x, None)])
        if f == 0:
            raise _fail(
                f"ConstantLR(factor=0, total_iters={ti}): torch divides the lr by the factor at step"
                f" {ti} and raises ZeroDivisionError"
            )
        return _Consts([(x.times(f), ti), (x, None)])
    if name == "LinearLR":
        sf = _float(s.start_factor, "LinearLR.start_factor")
        ef = _float(s.end_factor, "LinearLR.end_factor")
        ti = _steps(s.total_iters, "LinearLR.total_iters", 0)
        if ti == 0:
            if not first:
                raise _fail(
                    "LinearLR(total_iters=0) after a SequentialLR milestone: torch's closed form divides"
                    " by total_iters there and raises ZeroDivisionError"
                )
            return _Consts([(x.times(sf), None)])
        return _Linear(ti, x.times(sf), x.times(ef))
    if name == "StepLR":
        every = _steps(s.step_size, "StepLR.step_size")
        gamma = _positive(s.gamma, "StepLR.gamma")
        g = None if gamma == 0.1 else f"gamma={_num(gamma)}"
        return _Formatted(f"step({_args(str(every), g, _kw('start', x, omit_base=True))}{{steps}})")
    if name == "MultiStepLR":
        gamma = _positive(s.gamma, "MultiStepLR.gamma")
        counts: dict[int, int] = {}
        for m, c in dict(s.milestones).items():
            step = _steps(m, "a MultiStepLR milestone", -(2**62))
            if step < 0:
                if first:
                    continue  # never reached by stepping
                step = 0  # the closed form at step 0 counts it
            counts[step] = counts.get(step, 0) + int(c)
        return _multistep(counts, gamma, x)
    if name == "ExponentialLR":
        gamma = _positive(s.gamma, "ExponentialLR.gamma")
        if replay:
            x = x.times(gamma)
        return _Formatted(f"exp({_args(_num(gamma), _kw('start', x, omit_base=True))}{{steps}})")
    if name == "PolynomialLR":
        ti = _steps(s.total_iters, "PolynomialLR.total_iters", 0)
        power = _float(s.power, "PolynomialLR.power")
        if ti == 0:
            if not first:
                raise _fail(
                    "PolynomialLR(total_iters=0) after a SequentialLR milestone: torch's closed form divides"
                    " by total_iters there and raises ZeroDivisionError"
                )
            return _Consts([(x, None)])
        if power <= 0:
            raise _fail(f"PolynomialLR(power={power!r}): lrdsl's poly needs power > 0")
        if replay:
            x = x.times(((1.0 - 0 / ti) / (1.0 - (0 - 1) / ti)) ** power)
        return _Poly(ti, power, x)
    if name == "CosineAnnealingLR":
        T = _steps(s.T_max, "CosineAnnealingLR.T_max")
        low = _V(_float(s.eta_min, "CosineAnnealingLR.eta_min"))
        # the first descent follows the lr it starts from; from step T+1 on torch adds
        # (base_lr - eta_min) * (1 - cos(pi/T)) / 2, so every later half-period is base_lr's
        return _PeriodicCos(T, x, base, low)
    raise _fail(f"{name} is not translated")  # pragma: no cover - filtered by the caller


def _multistep(counts: dict[int, int], gamma: float, start: _V) -> _Piece:
    """gamma^(milestones <= t, with multiplicity): one multistep per layer of repeats."""
    if not counts:
        return _Consts([(start, None)])
    layers: list[str] = []
    depth = 1
    while True:
        ms = sorted(m for m, c in counts.items() if c >= depth)
        if not ms:
            break
        g = None if gamma == 0.1 else f"gamma={_num(gamma)}"
        st = _kw("start", start, omit_base=True) if depth == 1 else "start=1"
        layers.append(f"multistep({_args('[' + ', '.join(map(str, ms)) + ']', g, st)}{{steps}})")
        depth += 1
    if len(layers) == 1:
        return _Formatted(layers[0])
    return _Formatted(" * ".join(_paren(t) for t in layers))


def _torch_absolute(s: Any, name: str, ctx: _TorchContext) -> _Piece:
    """Schedulers whose lr is an absolute formula of the step."""
    g = ctx.g
    if name == "CosineAnnealingWarmRestarts":
        T0 = _steps(s.T_0, "CosineAnnealingWarmRestarts.T_0")
        tm = _steps(s.T_mult, "CosineAnnealingWarmRestarts.T_mult")
        low = _V(_float(s.eta_min, "CosineAnnealingWarmRestarts.eta_min"))
        peak = ctx.val(1.0, ctx.base_of(s))
        args = _args(str(T0), f"t_mul={tm}", _kw("min", low, omit_zero=True), _kw("peak", peak, omit_base=True))
        return _Formatted(f"cosine_restarts({args}{{steps}})")
    if name == "CyclicLR":
        if getattr(s, "_scale_fn_custom", None) is not None:
            raise _fail(
                "CyclicLR with a custom scale_fn: lrdsl's cyclic knows the triangular, triangular2 and"
                " exp_range amplitudes only"
            )
        total = _float(s.total_size, "CyclicLR.total_size")
        ratio = _float(s.step_ratio, "CyclicLR.step_ratio")
        up = round(total * ratio)
        down = total - up
        if not (up >= 1 and down >= 1 and float(up) / total == ratio and float(down).is_integer()):
            raise _fail(f"CyclicLR's step sizes (total {total!r}, up ratio {ratio!r}) are not whole numbers of steps")
        low = _V(_float(s.base_lrs[g], f"CyclicLR.base_lrs[{g}]"))
        high = _V(_float(s.max_lrs[g], f"CyclicLR.max_lrs[{g}]"))
        mode = str(s.mode)
        if mode not in ("triangular", "triangular2", "exp_range"):  # pragma: no cover - torch validates
            raise _fail(f"CyclicLR mode {mode!r} is not one of triangular, triangular2, exp_range")
        gamma = _positive(s.gamma, "CyclicLR.gamma") if mode == "exp_range" else 1.0
        args = _args(
            str(up),
            f"low={low.text()}",
            f"high={high.text()}",
            None if mode == "triangular" else f"mode={mode}",
            None if gamma == 1.0 else f"gamma={_num(gamma)}",
            None if down == up else f"down={int(down)}",
        )
        return _Formatted(f"cyclic({args}{{steps}})")
    assert name == "OneCycleLR"
    return _one_cycle(s, ctx)


def _one_cycle(s: Any, ctx: _TorchContext) -> _Piece:
    group = ctx.group
    n = _steps(s.total_steps, "OneCycleLR.total_steps")
    top = _float(group["max_lr"], "the group's max_lr")
    initial = _float(group["initial_lr"], "the group's initial_lr")
    low = _float(group["min_lr"], "the group's min_lr")
    anneal = getattr(s, "_anneal_func_type", None)
    if anneal not in ("cos", "linear"):
        raise _fail("this OneCycleLR has no anneal_strategy 'cos' or 'linear' (a custom anneal_func?)")
    phases = list(s._schedule_phases)
    three = len(phases) == 3
    ends = [float(p["end_step"]) for p in phases]
    if initial <= 0:
        raise _fail(f"OneCycleLR's initial lr max_lr/div_factor is {initial!r}; lrdsl's one_cycle needs it > 0")

    def ends_of(pct: float) -> list[float]:
        if three:
            return [float(pct * n) - 1, float(2 * pct * n) - 2, float(n - 1)]
        return [float(pct * n) - 1, float(n - 1)]

    pct = _nice_float((ends[0] + 1) / n, lambda c: 0 < c < 1 and ends_of(c) == ends)
    div = _nice_float(top / initial, lambda c: c > 0 and top / c == initial)
    final = _nice_float(initial / low, lambda c: c > 0 and initial / c == low) if low > 0 else None
    if pct is None or div is None or final is None:
        raise _fail(
            "OneCycleLR's phases and lrs (max_lr, initial_lr, min_lr in its param group) do not come from"
            " a pct_start, div_factor and final_div_factor that lrdsl can write"
        )
    args = _args(
        str(n),
        f"max={_num(top)}",
        None if pct == 0.3 else f"pct_start={_num(pct)}",
        None if div == 25.0 else f"div={_num(div)}",
        None if final == 1e4 else f"final_div={_num(final)}",
        None if anneal == "cos" else "anneal=linear",
        "three_phase=true" if three else None,
    )
    # torch's value one step past the end: the last phase extrapolated (pct > 1)
    s0 = ends[-2]
    frac = (n - s0) / (ends[-1] - s0)
    start_lr = initial if three else top
    if anneal == "cos":
        extra = low + (start_lr - low) / 2.0 * (math.cos(math.pi * frac) + 1)
    else:
        extra = (low - start_lr) * frac + start_lr
    return _OneCycle(f"one_cycle({args})", n, extra)


def _plateau(s: Any, ctx: _TorchContext) -> str:
    """ReduceLROnPlateau's settings as plateau(...) arguments (lrdsl's defaults are torch's)."""
    g = ctx.g
    words = {"mode": ("min", str(s.mode)), "threshold_mode": ("rel", str(s.threshold_mode))}
    whole = {
        "patience": (10, _steps(s.patience, "ReduceLROnPlateau.patience", 0)),
        "cooldown": (0, _steps(s.cooldown, "ReduceLROnPlateau.cooldown", 0)),
    }
    reals = {
        "factor": (0.1, _float(s.factor, "ReduceLROnPlateau.factor")),
        "threshold": (1e-4, _float(s.threshold, "ReduceLROnPlateau.threshold")),
        "min_lr": (0.0, _float(s.min_lrs[g], f"ReduceLROnPlateau.min_lrs[{g}]")),
        "eps": (1e-8, _float(s.eps, "ReduceLROnPlateau.eps")),
    }
    args: list[str] = []
    for key in ("factor", "patience", "mode", "threshold", "threshold_mode", "cooldown", "min_lr", "eps"):
        if key in words:
            default, word = words[key]
            if word != default:
                args.append(f"{key}={word}")
        elif key in whole:
            default_n, n = whole[key]
            if n != default_n:
                args.append(f"{key}={n}")
        else:
            default_x, x = reals[key]
            if x != default_x:
                args.append(f"{key}={_num(x)}")
    return f"plateau({_args(*args)})"


def from_torch(scheduler: Any, *, group: int = 0, steps: int | None = None) -> str:
    """The lrdsl text of a ``torch.optim.lr_scheduler`` scheduler, for param
    group ``group``.

    Compile it with ``base_lr`` = that group's ``initial_lr`` (the optimizer's
    lr for the group, unless a CyclicLR/OneCycleLR changed it, in which case the
    text has no ``base`` in it).  With ``steps=N`` the text only has to match
    on steps ``0..N-1``.  Raises :class:`~lrdsl.errors.UnsupportedError` (E0801)
    for what lrdsl cannot express, saying why.
    """
    L = _torch_classes()
    if steps is not None:
        steps = _steps(steps, "steps")
    name = type(scheduler).__name__
    if name == "ReduceLROnPlateau" and type(scheduler) is L.ReduceLROnPlateau:
        ctx = _TorchContext(scheduler.optimizer, group, True)
        return _finish(_plateau(scheduler, ctx), "ReduceLROnPlateau")
    kind = _kind(scheduler, L)
    if kind in ("LambdaLR", "MultiplicativeLR"):
        raise _fail(
            f"{kind} computes the lr with an arbitrary Python function (lr_lambda), whose formula lrdsl cannot read",
            "for HuggingFace's schedules (get_scheduler / lr_scheduler_type), use lrdsl.translate.from_hf",
        )
    rel = not _contains(scheduler, ("CyclicLR", "OneCycleLR"))
    ctx = _TorchContext(scheduler.optimizer, group, rel)
    if kind == "SequentialLR":
        text = _sequential(scheduler, ctx, L, steps)
    elif kind == "ChainedScheduler":
        piece = _chained(scheduler, ctx, L, replay=False)
        text = piece.text() if steps is None else piece.upto(steps)
    elif kind in _TORCH_SIMPLE:
        piece = _torch_piece(scheduler, kind, ctx, first=True, start=None)
        text = piece.text() if steps is None else piece.upto(steps)
    else:
        raise _fail(f"{kind} is not translated to lrdsl")
    return _finish(text, kind)


def _chained(s: Any, ctx: _TorchContext, L: Any, *, replay: bool, start: _V | None = None) -> _Piece:
    """A ChainedScheduler of pure factors: lr_t = base * F1(t) * F2(t) * ..."""
    flat: list[Any] = []

    def walk(x: Any) -> None:
        kind = _kind(x, L)
        if kind == "ChainedScheduler":
            for k in x._schedulers:
                walk(k)
        else:
            flat.append((x, kind))

    walk(s)
    for _x, kind in flat:
        if kind not in _TORCH_FACTORS:
            why = {
                "CosineAnnealingLR": "its step adds eta_min and, from T_max + 1 on, (base_lr - eta_min)*(1 - cos(pi/T_max))/2,"
                " so it is not a factor the other schedulers' factors multiply",
                "SequentialLR": "a SequentialLR inside a ChainedScheduler resets the lr at its milestones",
                "LambdaLR": "its lr is an arbitrary Python function",
                "MultiplicativeLR": "its factor is an arbitrary Python function",
            }.get(kind, "it sets the lr from its own formula at every step, discarding the other schedulers' factors")
            raise _fail(f"ChainedScheduler with {kind}: {why}")
    if not flat:  # pragma: no cover - torch requires one
        raise _fail("an empty ChainedScheduler")
    # every factor multiplies the lr the chain started from (the group's lr when the
    # schedulers were built; initial_lr); the schedulers' own base_lrs play no part
    lead = start if start is not None else ctx.val(1.0, ctx.R)
    factors: list[_Piece] = []
    for i, (x, kind) in enumerate(flat):
        factors.append(_torch_piece(x, kind, ctx, first=True, start=lead if i == 0 else _V(1.0), replay=replay))
    return factors[0] if len(factors) == 1 else _Product(factors)


def _sequential(s: Any, ctx: _TorchContext, L: Any, horizon: int | None) -> str:
    scheds = list(s._schedulers)
    ms = [_steps(m, "a SequentialLR milestone", 0) for m in s._milestones]
    if any(b < a for a, b in itertools.pairwise(ms)):
        raise _fail(f"SequentialLR milestones {ms} are not in increasing order")
    bounds = [0, *ms]
    parts: list[tuple[_Piece, int | None]] = []
    x = ctx.val(1.0, ctx.R)  # the lr SequentialLR resets every group to: its initial_lr
    for i, sched in enumerate(scheds):
        begin = bounds[i]
        end = ms[i] if i < len(ms) else None
        n = None if end is None else end - begin
        if n == 0:
            continue  # never active
        kind = _kind(sched, L)
        first = begin == 0
        if kind in ("SequentialLR", "ChainedScheduler"):
            if not first or kind == "SequentialLR":
                where = "after a milestone" if not first else "at its start"
                raise _fail(
                    f"a {kind} nested in a SequentialLR {where}: torch's SequentialLR "
                    + (
                        "calls _update_lr(0) on it at the milestone, which raises NotImplementedError"
                        if not first
                        else "re-runs its initial step through SequentialLR.step(), which lrdsl does not model"
                    )
                )
            piece: _Piece = _chained(sched, ctx, L, replay=True, start=x)
        elif kind in ("LambdaLR", "MultiplicativeLR"):
            raise _fail(f"SequentialLR with {kind}: its lr is an arbitrary Python function")
        elif kind in _TORCH_SIMPLE:
            piece = _torch_piece(sched, kind, ctx, first=first, start=x if first else None)
        else:
            raise _fail(f"SequentialLR with {kind}: not translated")
        parts.append((piece, n))
    return _chain(parts, horizon)

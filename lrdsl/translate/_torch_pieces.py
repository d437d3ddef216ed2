"""Translation stage, torch schedulers: one built-in ``torch.optim.lr_scheduler`` -> a piece.

Each built-in scheduler class has a function here that reads its documented
attributes and returns the :mod:`~lrdsl.translate._pieces` piece for one param
group, found through a table keyed by the class name.  The factor schedulers
(``ConstantLR``, ``LinearLR``, ``StepLR``, ``MultiStepLR``, ``ExponentialLR``,
``PolynomialLR``) and ``CosineAnnealingLR`` multiply the lr they start from;
``CosineAnnealingWarmRestarts``, ``CyclicLR`` and ``OneCycleLR`` set it from an
absolute formula of the step.  A :class:`_TorchContext` says which group is
read and whether values are written as factors of ``base``.
"""

from __future__ import annotations

import math

from ..language.errors import ArgumentError
from ._common import _V, _args, _fail, _float, _kw, _nice_float, _num, _paren, _positive, _steps
from ._pieces import _Consts, _Formatted, _Linear, _OneCycle, _PeriodicCos, _Piece, _Poly

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


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
    absolute = _ABSOLUTE.get(kind)
    if absolute is not None:
        return absolute(s, ctx)
    base = ctx.val(1.0, ctx.base_of(s))
    x = start if (first and start is not None) else base
    relative = _RELATIVE.get(kind)
    if relative is None:  # pragma: no cover - filtered by the caller
        raise _fail(f"{kind} is not translated")
    return relative(s, x, base, first, replay)


# ---------------------------------------------------------------- relative: they scale the lr they start from
# Each takes (scheduler, x: the lr it starts from, base: its base lr, first, replay); see _torch_piece.


def _constant_lr(s: Any, x: _V, base: _V, first: bool, replay: bool) -> _Piece:
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


def _linear_lr(s: Any, x: _V, base: _V, first: bool, replay: bool) -> _Piece:
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


def _step_lr(s: Any, x: _V, base: _V, first: bool, replay: bool) -> _Piece:
    every = _steps(s.step_size, "StepLR.step_size")
    gamma = _positive(s.gamma, "StepLR.gamma")
    g = None if gamma == 0.1 else f"gamma={_num(gamma)}"
    return _Formatted(f"step({_args(str(every), g, _kw('start', x, omit_base=True))}{{steps}})")


def _multistep_lr(s: Any, x: _V, base: _V, first: bool, replay: bool) -> _Piece:
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


def _exponential_lr(s: Any, x: _V, base: _V, first: bool, replay: bool) -> _Piece:
    gamma = _positive(s.gamma, "ExponentialLR.gamma")
    if replay:
        x = x.times(gamma)
    return _Formatted(f"exp({_args(_num(gamma), _kw('start', x, omit_base=True))}{{steps}})")


def _polynomial_lr(s: Any, x: _V, base: _V, first: bool, replay: bool) -> _Piece:
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


def _cosine_annealing_lr(s: Any, x: _V, base: _V, first: bool, replay: bool) -> _Piece:
    T = _steps(s.T_max, "CosineAnnealingLR.T_max")
    low = _V(_float(s.eta_min, "CosineAnnealingLR.eta_min"))
    # the first descent follows the lr it starts from; from step T+1 on torch adds
    # (base_lr - eta_min) * (1 - cos(pi/T)) / 2, so every later half-period is base_lr's
    return _PeriodicCos(T, x, base, low)


# ---------------------------------------------------------------- absolute: a formula of the step


def _warm_restarts(s: Any, ctx: _TorchContext) -> _Piece:
    T0 = _steps(s.T_0, "CosineAnnealingWarmRestarts.T_0")
    tm = _steps(s.T_mult, "CosineAnnealingWarmRestarts.T_mult")
    low = _V(_float(s.eta_min, "CosineAnnealingWarmRestarts.eta_min"))
    peak = ctx.val(1.0, ctx.base_of(s))
    args = _args(str(T0), f"t_mul={tm}", _kw("min", low, omit_zero=True), _kw("peak", peak, omit_base=True))
    return _Formatted(f"cosine_restarts({args}{{steps}})")


def _cyclic_lr(s: Any, ctx: _TorchContext) -> _Piece:
    g = ctx.g
    low = _V(_float(s.base_lrs[g], f"CyclicLR.base_lrs[{g}]"))
    high = _V(_float(s.max_lrs[g], f"CyclicLR.max_lrs[{g}]"))
    return _Formatted(f"cyclic({_cyclic_args(s, f'low={low.text()}', f'high={high.text()}')}{{steps}})")


def _cyclic_args(s: Any, low: str, high: str) -> str:
    """CyclicLR's cycle as cyclic(...) arguments, between ``low`` and ``high``."""
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
    mode = str(s.mode)
    if mode not in ("triangular", "triangular2", "exp_range"):  # pragma: no cover - torch validates
        raise _fail(f"CyclicLR mode {mode!r} is not one of triangular, triangular2, exp_range")
    gamma = _positive(s.gamma, "CyclicLR.gamma") if mode == "exp_range" else 1.0
    return _args(
        str(up),
        low,
        high,
        None if mode == "triangular" else f"mode={mode}",
        None if gamma == 1.0 else f"gamma={_num(gamma)}",
        None if down == up else f"down={int(down)}",
    )


def _one_cycle_shape(s: Any) -> tuple[int, str | None, bool, list[float], list[str | None]]:
    """OneCycleLR's length, anneal, phase count and ends, and its pct_start,
    anneal and three_phase arguments (None where lrdsl's default)."""
    n = _steps(s.total_steps, "OneCycleLR.total_steps")
    anneal = getattr(s, "_anneal_func_type", None)
    if anneal not in ("cos", "linear"):
        raise _fail("this OneCycleLR has no anneal_strategy 'cos' or 'linear' (a custom anneal_func?)")
    phases = list(s._schedule_phases)
    three = len(phases) == 3
    ends = [float(p["end_step"]) for p in phases]

    def ends_of(pct: float) -> list[float]:
        if three:
            return [float(pct * n) - 1, float(2 * pct * n) - 2, float(n - 1)]
        return [float(pct * n) - 1, float(n - 1)]

    pct = _nice_float((ends[0] + 1) / n, lambda c: 0 < c < 1 and ends_of(c) == ends)
    if pct is None:
        raise _fail(f"OneCycleLR's phase ends {ends} do not come from a pct_start that lrdsl can write")
    args = [
        None if pct == 0.3 else f"pct_start={_num(pct)}",
        None if anneal == "cos" else "anneal=linear",
        "three_phase=true" if three else None,
    ]
    return n, anneal, three, ends, args


def _one_cycle(s: Any, ctx: _TorchContext) -> _Piece:
    """OneCycleLR as one_cycle(...), its arguments recovered from the group's lrs and
    the phase ends, with torch's value one step past the end for a milestone there."""
    group = ctx.group
    n, anneal, three, ends, shape = _one_cycle_shape(s)
    top = _float(group["max_lr"], "the group's max_lr")
    initial = _float(group["initial_lr"], "the group's initial_lr")
    low = _float(group["min_lr"], "the group's min_lr")
    if initial <= 0:
        raise _fail(f"OneCycleLR's initial lr max_lr/div_factor is {initial!r}; lrdsl's one_cycle needs it > 0")
    div = _nice_float(top / initial, lambda c: c > 0 and top / c == initial)
    final = _nice_float(initial / low, lambda c: c > 0 and initial / c == low) if low > 0 else None
    if div is None or final is None:
        raise _fail(
            "OneCycleLR's lrs (max_lr, initial_lr, min_lr in its param group) do not come from"
            " a div_factor and final_div_factor that lrdsl can write"
        )
    args = _args(
        str(n),
        f"max={_num(top)}",
        shape[0],
        None if div == 25.0 else f"div={_num(div)}",
        None if final == 1e4 else f"final_div={_num(final)}",
        *shape[1:],
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


# ---------------------------------------------------------------- the momentum CyclicLR and OneCycleLR cycle


def momentum_key(s: Any) -> str | None:
    """The group entry a CyclicLR or OneCycleLR cycles, exactly as torch chooses
    (``betas[0]`` when ``"betas" in optimizer.defaults``, else ``momentum``), or
    None when ``cycle_momentum`` is off."""
    if not getattr(s, "cycle_momentum", False):
        return None
    use_beta1 = getattr(s, "use_beta1", None)
    if use_beta1 is None:  # pragma: no cover - torch sets it with cycle_momentum
        use_beta1 = "betas" in s.optimizer.defaults
    return "betas[0]" if use_beta1 else "momentum"


def _momenta(s: Any, kind: str, ctx: _TorchContext) -> tuple[float, float]:
    """(max_momentum, base_momentum) of group ``ctx.g``, where torch reads them."""
    g = ctx.g
    if kind == "CyclicLR":
        return (
            _float(s.max_momentums[g], f"CyclicLR.max_momentums[{g}]"),
            _float(s.base_momentums[g], f"CyclicLR.base_momentums[{g}]"),
        )
    return (
        _float(ctx.group["max_momentum"], "the group's max_momentum"),
        _float(ctx.group["base_momentum"], "the group's base_momentum"),
    )


def momentum_piece(s: Any, kind: str, ctx: _TorchContext) -> _Piece:
    """The momentum (or beta1) a CyclicLR/OneCycleLR sets, in absolute numbers:
    the lr's cycle mirrored, from max_momentum to base_momentum and back."""
    top, bottom = _momenta(s, kind, ctx)
    start, peak = f"start={_num(top)}", f"peak={_num(bottom)}"
    if kind == "CyclicLR":
        return _Formatted(f"cyclic({_cyclic_args(s, start, peak)}{{steps}})")
    n, _, _, _, shape = _one_cycle_shape(s)
    text = f"one_cycle({_args(str(n), start, peak, f'end={_num(top)}', *shape)})"
    return _OneCycle(text, n, momentum_at(s, kind, ctx, n))


def momentum_at(s: Any, kind: str, ctx: _TorchContext, k: int) -> float:
    """torch's momentum at the scheduler's step ``k``, computed as its get_lr does."""
    top, bottom = _momenta(s, kind, ctx)
    if kind == "CyclicLR":
        cycle = math.floor(1 + k / s.total_size)
        x = 1.0 + k / s.total_size - cycle
        factor = x / s.step_ratio if x <= s.step_ratio else (x - 1) / (s.step_ratio - 1)
        height = (top - bottom) * factor
        return top - height * s.scale_fn(cycle if s.scale_mode == "cycle" else k)
    start_step = 0.0
    phases = s._schedule_phases
    for i, phase in enumerate(phases):
        end_step = phase["end_step"]
        if k <= end_step or i == len(phases) - 1:
            pct = (k - start_step) / (end_step - start_step)
            a, b = (float(ctx.group[phase[f"{w}_momentum"]]) for w in ("start", "end"))
            return float(s._anneal_func(a, b, pct))
        start_step = end_step
    raise AssertionError("unreachable")  # pragma: no cover


_RELATIVE: dict[str, Callable[[Any, _V, _V, bool, bool], _Piece]] = {
    "ConstantLR": _constant_lr,
    "LinearLR": _linear_lr,
    "StepLR": _step_lr,
    "MultiStepLR": _multistep_lr,
    "ExponentialLR": _exponential_lr,
    "PolynomialLR": _polynomial_lr,
    "CosineAnnealingLR": _cosine_annealing_lr,
}
_ABSOLUTE: dict[str, Callable[[Any, _TorchContext], _Piece]] = {
    "CosineAnnealingWarmRestarts": _warm_restarts,
    "CyclicLR": _cyclic_lr,
    "OneCycleLR": _one_cycle,
}
#: The schedulers translated on their own (not containers of others).
_TORCH_SIMPLE = (*_RELATIVE, *_ABSOLUTE)
#: The schedulers whose step multiplies the lr by a factor of their own (ChainedScheduler's members).
_TORCH_FACTORS = ("ConstantLR", "LinearLR", "StepLR", "MultiStepLR", "ExponentialLR", "PolynomialLR")

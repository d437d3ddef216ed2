"""Translation stage: ``keras.optimizers.schedules`` objects -> lrdsl text."""

from __future__ import annotations

import itertools

from ._common import _V, MAX_SEGMENTS, _args, _fail, _finish, _float, _kw, _num, _positive, _steps

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def from_keras(schedule: Any, *, steps: int | None = None) -> str:
    """The lrdsl text of a ``keras.optimizers.schedules`` schedule (values are
    absolute: any ``base_lr`` compiles it).  With ``steps=N`` the text only has
    to match on steps ``0..N-1`` (needed for ``PolynomialDecay(cycle=True)``)."""
    cls = type(schedule)
    name = cls.__name__
    if not cls.__module__.startswith("keras") or not hasattr(schedule, "get_config"):
        raise _fail(f"{name} is not a keras.optimizers.schedules built-in schedule")
    if steps is not None:
        steps = _steps(steps, "steps")
    cfg = schedule.get_config()
    if name == "ExponentialDecay":
        start = _V(_float(cfg["initial_learning_rate"], "initial_learning_rate"))
        every = _steps(cfg["decay_steps"], "ExponentialDecay.decay_steps")
        rate = _positive(cfg["decay_rate"], "ExponentialDecay.decay_rate")
        stair = "staircase=true" if cfg.get("staircase") else None
        every_text = None if every == 1 else f"every={every}"
        text = f"exp({_args(_num(rate), every_text, stair, f'start={start.text()}')})"
    elif name == "PiecewiseConstantDecay":
        bounds = [_steps(b, "a PiecewiseConstantDecay boundary", 0) for b in cfg["boundaries"]]
        values = [_V(_float(v, "a PiecewiseConstantDecay value")) for v in cfg["values"]]
        if any(b <= a for a, b in itertools.pairwise(bounds)):
            raise _fail(f"PiecewiseConstantDecay boundaries {bounds} are not strictly increasing")
        text = f"piecewise([{', '.join(map(str, bounds))}], [{', '.join(v.text() for v in values)}])"
    elif name == "PolynomialDecay":
        text = _keras_poly(cfg, steps)
    elif name == "InverseTimeDecay":
        start = _V(_float(cfg["initial_learning_rate"], "initial_learning_rate"))
        every = _steps(cfg["decay_steps"], "InverseTimeDecay.decay_steps")
        rate = _float(cfg["decay_rate"], "InverseTimeDecay.decay_rate")
        if rate < 0:
            raise _fail(f"InverseTimeDecay(decay_rate={rate!r}): lrdsl's inverse_time needs a rate >= 0")
        stair = "staircase=true" if cfg.get("staircase") else None
        text = f"inverse_time({_args(str(every), _num(rate), stair, f'start={start.text()}')})"
    elif name == "CosineDecay":
        initial = _V(_float(cfg["initial_learning_rate"], "initial_learning_rate"))
        n = _steps(cfg["decay_steps"], "CosineDecay.decay_steps")
        alpha = _float(cfg.get("alpha", 0.0), "CosineDecay.alpha")
        alpha_text = None if alpha == 0 else f"alpha={_num(alpha)}"
        target = cfg.get("warmup_target")
        if target is None:
            text = f"cosine({_args(str(n), f'peak={initial.text()}', alpha_text)})"
        else:
            peak = _V(_float(target, "CosineDecay.warmup_target"))
            w = _steps(cfg.get("warmup_steps", 0), "CosineDecay.warmup_steps", 0)
            decay = f"cosine({_args(str(n), f'peak={peak.text()}', alpha_text)})"
            ramp = f"warmup({_args(str(w), _kw('start', initial, omit_zero=True))})"
            text = decay if w == 0 else f"{ramp} >> {decay}"
    elif name == "CosineDecayRestarts":
        initial = _V(_float(cfg["initial_learning_rate"], "initial_learning_rate"))
        n = _steps(cfg["first_decay_steps"], "CosineDecayRestarts.first_decay_steps")
        t_mul = _float(cfg.get("t_mul", 2.0), "CosineDecayRestarts.t_mul")
        m_mul = _float(cfg.get("m_mul", 1.0), "CosineDecayRestarts.m_mul")
        alpha = _float(cfg.get("alpha", 0.0), "CosineDecayRestarts.alpha")
        if t_mul < 1:
            raise _fail(
                f"CosineDecayRestarts(t_mul={t_mul!r}): its cycles shrink, so they end after"
                f" {n}/(1 - t_mul) steps, where Keras's cycle formula takes the log of a negative number"
                " and gives NaN"
            )
        if m_mul < 0:
            raise _fail(f"CosineDecayRestarts(m_mul={m_mul!r}): lrdsl needs m_mul >= 0")
        args = _args(
            str(n),
            None if t_mul == 2.0 else f"t_mul={_num(t_mul)}",
            None if m_mul == 1.0 else f"m_mul={_num(m_mul)}",
            None if alpha == 0 else f"alpha={_num(alpha)}",
            f"peak={initial.text()}",
        )
        text = f"cosine_restarts({args})"
    else:
        raise _fail(
            f"{name} is not one of Keras's built-in schedules (ExponentialDecay, PiecewiseConstantDecay,"
            " PolynomialDecay, InverseTimeDecay, CosineDecay, CosineDecayRestarts)"
        )
    return _finish(text, name)


def _keras_poly(cfg: dict[str, Any], steps: int | None) -> str:
    initial = _float(cfg["initial_learning_rate"], "initial_learning_rate")
    d = _steps(cfg["decay_steps"], "PolynomialDecay.decay_steps")
    end = _float(cfg.get("end_learning_rate", 1e-4), "PolynomialDecay.end_learning_rate")
    power = _float(cfg.get("power", 1.0), "PolynomialDecay.power")
    if power <= 0:
        raise _fail(f"PolynomialDecay(power={power!r}): lrdsl's poly needs power > 0")
    pw = None if power == 1 else f"power={_num(power)}"
    first = f"poly({_args(str(d), pw, f'end={_num(end)}', f'start={_num(initial)}')})"
    if not cfg.get("cycle"):
        return first
    if steps is None:
        raise _fail(
            "PolynomialDecay(cycle=True): cycle k (steps (k-1)*decay_steps+1 .. k*decay_steps) decays over"
            " k*decay_steps steps, a different polynomial each cycle, so the schedule has one segment"
            " per cycle without end",
            "pass steps=N: the text then has the cycles that start before step N",
        )
    # cycle 1 covers steps 0..d (value end at step d); cycle k >= 2 covers steps
    # (k-1)*d+1 .. k*d with (initial - end) * ((k*d - t)/(k*d))**power + end, i.e. a
    # poly over d - 1 steps from that value at its first step, then end at k*d
    if d == 1 or steps <= d + 1:
        return first  # with d == 1 every later cycle is the single value end
    parts = [first, "hold(1)"]
    t, k = d + 1, 2  # the first step of cycle k
    while t < steps:
        top = (initial - end) * ((d - 1) / (k * d)) ** power + end
        parts.append(f"poly({_args(str(d - 1), pw, f'end={_num(end)}', f'start={_num(top)}')}) >> hold(1)")
        t, k = t + d, k + 1
        if 2 * len(parts) > MAX_SEGMENTS:
            raise _fail(f"PolynomialDecay(cycle=True) over {steps} steps needs more than {MAX_SEGMENTS} segments")
    return " >> ".join(parts)

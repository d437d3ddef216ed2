"""Translation stage: HuggingFace ``lr_scheduler_type`` names -> lrdsl text."""

from __future__ import annotations

from fractions import Fraction

from ..language.errors import ArgumentError, UnsupportedError, did_you_mean
from ._common import _V, _args, _Consts, _decimal, _fail, _finish, _float, _kw, _num, _PeriodicCos, _Piece, _steps

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


#: HuggingFace's ``SchedulerType`` values (transformers.trainer_utils).
HF_SCHEDULER_TYPES = (
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
    "reduce_lr_on_plateau",
    "cosine_with_min_lr",
    "cosine_warmup_with_min_lr",
    "warmup_stable_decay",
)

_HF_KWARGS: dict[str, tuple[str, ...]] = {
    "linear": (),
    "cosine": ("num_cycles",),
    "cosine_with_restarts": ("num_cycles",),
    "polynomial": ("lr_end", "power"),
    "constant": (),
    "constant_with_warmup": (),
    "inverse_sqrt": ("timescale",),
    "reduce_lr_on_plateau": (
        "mode",
        "factor",
        "patience",
        "threshold",
        "threshold_mode",
        "cooldown",
        "min_lr",
        "eps",
    ),
    "cosine_with_min_lr": ("num_cycles", "min_lr", "min_lr_rate"),
    "cosine_warmup_with_min_lr": ("num_cycles", "min_lr", "min_lr_rate", "warmup_lr_rate"),
    "warmup_stable_decay": (
        "num_stable_steps",
        "num_decay_steps",
        "warmup_type",
        "decay_type",
        "min_lr_ratio",
        "num_cycles",
    ),
}


def from_hf(
    lr_scheduler_type: Any,
    num_warmup_steps: int = 0,
    num_training_steps: int | None = None,
    *,
    steps: int | None = None,
    lr_init: float | None = None,
    **kwargs: Any,
) -> str:
    """The lrdsl text of HuggingFace's ``get_scheduler(lr_scheduler_type,
    optimizer, num_warmup_steps, num_training_steps, scheduler_specific_kwargs=kwargs)``.

    Compile it with ``base_lr`` = the optimizer's lr (what HF's LambdaLR
    multiplies).  ``lr_init`` is HF's ``optimizer.defaults['lr']``, which
    ``polynomial`` (lr_end) and ``cosine_with_min_lr`` (min_lr) divide by: without
    it those absolute lrs are written as numbers (right when the group's lr is
    the optimizer's default), with it as factors of base.  With ``steps=N`` the
    text only has to match on steps ``0..N-1``.

    ``kwargs`` are the ``get_*_schedule*`` function's own arguments (``num_cycles``,
    ``lr_end``, ``power``, ``timescale``, ``min_lr``, ``min_lr_rate``,
    ``num_stable_steps``, ``num_decay_steps``, ``warmup_type``, ``decay_type``,
    ``min_lr_ratio``, ReduceLROnPlateau's settings).  Note that ``get_scheduler``
    itself drops ``scheduler_specific_kwargs`` for ``constant``,
    ``constant_with_warmup`` and ``inverse_sqrt`` (``timescale=`` here follows
    ``get_inverse_sqrt_schedule``).  HF's ``cosine`` keeps oscillating after
    ``num_training_steps`` (nothing clamps its progress), and so does the text
    unless ``steps`` stops it there.
    """
    name = str(getattr(lr_scheduler_type, "value", lr_scheduler_type))
    if name not in _HF_KWARGS:
        raise UnsupportedError(
            f"{name!r} is not a HuggingFace SchedulerType",
            code="E0801",
            hints=[*did_you_mean(name, HF_SCHEDULER_TYPES), "one of: " + ", ".join(HF_SCHEDULER_TYPES)],
        )
    for key in kwargs:
        if key not in _HF_KWARGS[name]:
            allowed = ", ".join(_HF_KWARGS[name]) or "none"
            raise ArgumentError(
                f"HuggingFace's {name!r} schedule takes no argument {key!r} (it takes: {allowed})",
                code="E0202",
                hints=did_you_mean(key, _HF_KWARGS[name]),
            )
    if steps is not None:
        steps = _steps(steps, "steps")
    w = _steps(num_warmup_steps if num_warmup_steps is not None else 0, "num_warmup_steps", 0)
    if lr_init is not None:
        lr_init = _float(lr_init, "lr_init")
        if lr_init <= 0:
            raise ArgumentError(f"lr_init={lr_init!r} must be > 0", code="E0401")
    text = _hf(name, w, num_training_steps, steps, lr_init, kwargs)
    return _finish(text, f"HuggingFace {name!r}")


def _need(n: object, what: str, name: str) -> int:
    if n is None:
        raise ArgumentError(f"HuggingFace's {name!r} schedule needs {what}", code="E0302")
    return _steps(n, what, 0)


def _hf_warmup(w: int, parts: list[str], target: str | None = None) -> None:
    """HF's warm-up: float(t) / max(1, w) of base for t < w."""
    if w:
        parts.insert(0, f"warmup({w}{'' if target is None else ', end=' + target})")


def _hf(name: str, w: int, total: int | None, steps: int | None, lr_init: float | None, kw: dict[str, Any]) -> str:
    base = _V(1.0, True)
    horizon = None if steps is None else max(1, steps - w)  # steps left after the warm-up
    if name == "constant":
        return "const()"
    if name == "constant_with_warmup":
        parts = ["const()"]
        _hf_warmup(w, parts)
        return " >> ".join(parts)
    if name == "inverse_sqrt":
        ts = kw.get("timescale")
        ts = (w or 10_000) if ts is None else _steps(ts, "timescale")
        return f"inverse_sqrt({_args(str(ts), f'warmup={w}' if w else None)})"
    if name == "reduce_lr_on_plateau":
        defaults = {"mode": "min", "factor": 0.1, "patience": 10, "threshold": 1e-4}
        defaults.update({"threshold_mode": "rel", "cooldown": 0, "min_lr": 0, "eps": 1e-8})
        args = []
        for key, default in defaults.items():
            if key not in kw or kw[key] == default:
                continue
            value = kw[key]
            if key == "min_lr" and isinstance(value, (list, tuple)):
                raise _fail("a per-group min_lr list: translate one group at a time with min_lr=<that group's>")
            args.append(f"{key}={value}" if isinstance(value, str) else f"{key}={_num(value)}")
        return f"plateau({_args(*args)})"
    if name == "cosine_warmup_with_min_lr":
        raise _fail(
            "HuggingFace's 'cosine_warmup_with_min_lr' warms up as (t + 1)/num_warmup_steps and starts its"
            " cosine at progress (t - num_warmup_steps + 1)/(num_training_steps - num_warmup_steps), one step"
            " into the descent; lrdsl's cosines start at their peak and its warm-ups at their start value",
            "'cosine_with_min_lr' is the same schedule without the one-step shift",
        )
    if name == "warmup_stable_decay":
        return _hf_wsd(w, total, kw, steps)
    total = _need(total, "num_training_steps", name)
    D = max(1, total - w)  # HF's float(max(1, num_training_steps - num_warmup_steps))
    if name == "linear":
        if total <= w:  # max(0, (total - t)/1) is 0 from the warm-up's end
            parts = ["const(0)"]
            _hf_warmup(w, parts, "base")
            return " >> ".join(parts)
        parts = [f"linear({D})"]
        _hf_warmup(w, parts)
        return " >> ".join(parts)
    if name in ("cosine", "cosine_with_min_lr"):
        cycles = _float(kw.get("num_cycles", 0.5), "num_cycles")
        low = _V(0.0)
        if name == "cosine_with_min_lr":
            low = _hf_min(kw, lr_init)
        parts = [_hf_cosine(D, cycles, base, low, horizon)]
        _hf_warmup(w, parts)
        return " >> ".join(parts)
    if name == "cosine_with_restarts":
        cycles = _float(kw.get("num_cycles", 1), "num_cycles")
        if cycles < 0:
            raise _fail(f"num_cycles={cycles!r}: a negative number of restarts")
        if cycles == 0:  # (0 * progress) % 1 = 0: base until progress reaches 1
            body = f"const(base, steps={D}) >> const(0)"
        else:
            length = Fraction(D) / _decimal(cycles)
            if length.denominator != 1:
                raise _fail(
                    f"'cosine_with_restarts' with num_cycles={cycles!r} over {D} steps has cycles of"
                    f" {float(length):.6g} steps; lrdsl's restart cycles are whole steps",
                    "choose num_training_steps - num_warmup_steps divisible by num_cycles",
                )
            n = int(length)
            if float(cycles).is_integer():
                c = int(cycles)
                body = f"cosine({n})" if c == 1 else f"cosine_restarts({n}, t_mul=1, cycles={c})"
            else:
                body = f"cosine_restarts({n}, t_mul=1, steps={D}) >> const(0)"
        parts = [body]
        _hf_warmup(w, parts)
        return " >> ".join(parts)
    assert name == "polynomial"
    lr_end = _float(kw.get("lr_end", 1e-7), "lr_end")
    power = _float(kw.get("power", 1.0), "power")
    if lr_init is not None and not lr_init > lr_end:
        raise ArgumentError(f"lr_end ({lr_end}) must be smaller than initial lr ({lr_init})", code="E0401")
    end = _V(lr_end) if lr_init is None else _V(lr_end / lr_init, True)
    if total == w:
        raise _fail(
            f"HuggingFace's 'polynomial' with num_training_steps == num_warmup_steps ({total}) divides by"
            f" num_training_steps - num_warmup_steps = 0 at step {total} (ZeroDivisionError)"
        )
    if total < w:  # no decay steps: the warm-up, then lr_end / lr_init from step w on
        parts = [f"const({end.text()})"]
        _hf_warmup(w, parts, "base")
        return " >> ".join(parts)
    if power <= 0:
        raise _fail(f"power={power!r}: lrdsl's poly needs power > 0")
    pw = None if power == 1 else f"power={_num(power)}"
    parts = [f"poly({_args(str(total - w), pw, _kw('end', end, omit_zero=True))})"]
    _hf_warmup(w, parts)
    return " >> ".join(parts)


def _hf_min(kw: dict[str, Any], lr_init: float | None) -> _V:
    """cosine_with_min_lr's floor: min_lr (absolute) or min_lr_rate (of base)."""
    min_lr, rate = kw.get("min_lr"), kw.get("min_lr_rate")
    if min_lr is not None and rate is not None:
        raise ArgumentError("give min_lr or min_lr_rate, not both (as HuggingFace requires)", code="E0307")
    if min_lr is None and rate is None:
        raise ArgumentError("'cosine_with_min_lr' needs min_lr or min_lr_rate", code="E0302")
    if rate is not None:
        r = _float(rate, "min_lr_rate")
        if r < 0:
            raise _fail(f"min_lr_rate={r!r} < 0: HF clamps the lr at 0 there; lrdsl's min must be >= 0")
        return _V(r, True)
    m = _float(min_lr, "min_lr")
    if m < 0:
        raise _fail(f"min_lr={m!r} < 0: HF clamps the lr at 0 there; lrdsl's min must be >= 0")
    return _V(m) if lr_init is None else _V(m / lr_init, True)


def _hf_cosine(D: int, cycles: float, peak: _V, low: _V, horizon: int | None, exact: int | None = None) -> str:
    """HF's 0.5 * (1 + cos(2*pi*num_cycles*progress)) from peak to low, progress =
    s / D: a periodic cosine of half-period D / (2*num_cycles) steps."""
    half = _hf_half(D, cycles)
    piece: _Piece = _Consts([(peak, None)]) if half == 0 else _PeriodicCos(half, peak, peak, low)
    if exact is not None:
        text = piece.cut(exact)
        assert text is not None
        return text
    return piece.text() if horizon is None else piece.upto(horizon)


def _hf_wsd(w: int, total: int | None, kw: dict[str, Any], steps: int | None) -> str:
    D = kw.get("num_decay_steps")
    if D is None:
        raise ArgumentError("'warmup_stable_decay' needs num_decay_steps", code="E0302")
    D = _steps(D, "num_decay_steps", 0)
    S = kw.get("num_stable_steps")
    if S is None:
        if total is None:
            raise ArgumentError("'warmup_stable_decay' needs num_training_steps or num_stable_steps", code="E0302")
        S = _steps(total, "num_training_steps", 0) - w - D
        if S < 0:
            raise _fail(
                f"num_training_steps={total} is less than num_warmup_steps + num_decay_steps = {w + D}: HF's"
                " decay then starts part-way through at a negative stable length"
            )
    S = _steps(S, "num_stable_steps", 0)
    warmup_type = kw.get("warmup_type", "linear")
    decay_type = kw.get("decay_type", "cosine")
    r = _float(kw.get("min_lr_ratio", 0), "min_lr_ratio")
    cycles = _float(kw.get("num_cycles", 0.5), "num_cycles")
    if r < 0:
        raise _fail(f"min_lr_ratio={r!r} < 0: HF clamps the lr at 0 there; lrdsl's values must be >= 0")
    low = _V(r, True)
    parts: list[str] = []
    if w:
        if warmup_type == "linear":
            parts.append(f"warmup({_args(str(w), _kw('start', low, omit_zero=True), 'end=base')})")
        elif warmup_type == "cosine":
            parts.append(f"warmup({_args(str(w), _kw('start', low, omit_zero=True), 'end=base', 'shape=cos')})")
        elif warmup_type == "1-sqrt":  # r + (1-r)(1 - sqrt(1 - t/w)) = base - (base - low)*((w-t)/w)^0.5
            parts.append(f"poly({w}, power=0.5, end=base, start={low.text()})")
        else:
            raise ArgumentError(f"warmup_type={warmup_type!r} is not linear, cosine or 1-sqrt", code="E0306")
    if S:
        parts.append(f"hold({S})" if parts else f"const(base, steps={S})")
    if D:
        if decay_type == "linear":
            parts.append(f"linear({_args(str(D), _kw('end', low, omit_zero=True))})")
        elif decay_type == "cosine":
            parts.append(_hf_cosine(D, cycles, _V(1.0, True), low, None, exact=D))
            half = _hf_half(D, cycles)
            if not (half and D % half == 0 and (D // half) % 2 == 1):  # not ending at the bottom of a descent
                parts.append(f"const({low.text()})")
        elif decay_type == "1-sqrt":
            raise _fail(
                "warmup_stable_decay with decay_type='1-sqrt': its decay is 1 - sqrt(progress), a square root"
                " of the elapsed time; lrdsl's poly has powers of the remaining time ((n - t)/n)**power",
                "decay_type='linear' or 'cosine' translate",
            )
        else:
            raise ArgumentError(f"decay_type={decay_type!r} is not linear, cosine or 1-sqrt", code="E0306")
    else:
        parts.append(f"const({low.text()})")
    del steps  # every part is bounded or a constant: the text is already as short as it gets
    return " >> ".join(parts)


def _hf_half(D: int, cycles: float) -> int:
    """The half-period D / (2*|num_cycles|) in whole steps (0: num_cycles=0, a constant)."""
    if cycles == 0:
        return 0
    half = Fraction(D) / (2 * _decimal(abs(cycles)))
    if half.denominator != 1:
        raise _fail(
            f"a cosine with num_cycles={cycles!r} over {D} steps has half-periods of {float(half):.6g} steps;"
            " lrdsl's cosines have whole-step lengths",
            "choose the decay length divisible by 2*num_cycles (num_cycles=0.5 always works)",
        )
    return int(half)

"""Translation stage, HuggingFace schedules: one ``lr_scheduler_type`` -> lrdsl text.

Each HuggingFace ``SchedulerType`` has a function here that writes, from the
``get_scheduler`` call's arguments (an :class:`_HfCall`), the text of the
LambdaLR factor that ``transformers.optimization`` builds for it, found
through a table keyed by the name.  HF's warm-up ``t / max(1, w)`` is lrdsl's
``warmup(w)``, its cosines become periodic cosines of whole-step half-periods
and its absolute lrs (``lr_end``, ``min_lr``) are written as numbers, or as
factors of ``base`` when ``lr_init`` is known.  ``warmup_stable_decay``'s
shapes are ``warmup(shape=linear|cos|sqrt)`` and ``linear``, a periodic
cosine or ``cooldown(shape=sqrt)``; ``cosine_warmup_with_min_lr``'s one-step
offset (warm-up ``(t + 1)/w``, cosine progress ``(t - w + 1)/(total - w)``) is a
warm-up one step shorter, so the cosine starts at its peak at step ``w - 1``.
:mod:`lrdsl.translate._hf` checks the names and arguments first.
"""

from __future__ import annotations

from fractions import Fraction

from ..language.errors import ArgumentError
from ._common import _V, _args, _decimal, _fail, _float, _kw, _num, _steps
from ._pieces import _Consts, _PeriodicCos, _Piece

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class _HfCall:
    """A ``get_scheduler`` call, checked: the name, ``num_warmup_steps`` (``w``),
    ``num_training_steps`` (``total``, maybe None), the horizon ``steps``,
    ``lr_init`` and the scheduler-specific ``kw``."""

    __slots__ = ("kw", "lr_init", "name", "steps", "total", "w")

    def __init__(
        self, name: str, w: int, total: int | None, steps: int | None, lr_init: float | None, kw: dict[str, Any]
    ) -> None:
        self.name, self.w, self.total, self.steps, self.lr_init, self.kw = name, w, total, steps, lr_init, kw

    @property
    def horizon(self) -> int | None:
        """The steps left after the warm-up that the text must match on (None: all)."""
        return None if self.steps is None else max(1, self.steps - self.w)

    def decay(self) -> tuple[int, int]:
        """``num_training_steps`` (required here) and HF's decay length
        ``float(max(1, num_training_steps - num_warmup_steps))``."""
        total = _need(self.total, "num_training_steps", self.name)
        return total, max(1, total - self.w)


def _constant(c: _HfCall) -> str:
    return "const()"


def _constant_with_warmup(c: _HfCall) -> str:
    parts = ["const()"]
    _hf_warmup(c.w, parts)
    return " >> ".join(parts)


def _inverse_sqrt(c: _HfCall) -> str:
    ts = c.kw.get("timescale")
    ts = (c.w or 10_000) if ts is None else _steps(ts, "timescale")
    return f"inverse_sqrt({_args(str(ts), f'warmup={c.w}' if c.w else None)})"


def _reduce_lr_on_plateau(c: _HfCall) -> str:
    defaults = {"mode": "min", "factor": 0.1, "patience": 10, "threshold": 1e-4}
    defaults.update({"threshold_mode": "rel", "cooldown": 0, "min_lr": 0, "eps": 1e-8})
    args = []
    for key, default in defaults.items():
        if key not in c.kw or c.kw[key] == default:
            continue
        value = c.kw[key]
        if key == "min_lr" and isinstance(value, (list, tuple)):
            raise _fail("a per-group min_lr list: translate one group at a time with min_lr=<that group's>")
        args.append(f"{key}={value}" if isinstance(value, str) else f"{key}={_num(value)}")
    return f"plateau({_args(*args)})"


def _cosine_warmup_with_min_lr(c: _HfCall) -> str:
    """HF's warm-up (t + 1)/w (or warmup_lr_rate + (1 - warmup_lr_rate) t/(w - 1)) reaches
    base at step w - 1, and its cosine's progress (t - w + 1)/(total - w) is 0 there: so
    the text is a warm-up one step shorter than w and a cosine from step w - 1."""
    total = _need(c.total, "num_training_steps", c.name)
    w, D = c.w, max(1, total - c.w)
    rate = c.kw.get("warmup_lr_rate")
    r0 = None if rate is None else _float(rate, "warmup_lr_rate")
    if w == 0 or (w == 1 and r0 is not None and r0 != 1):
        at = "step 0" if w == 0 else "step 1, after its warm-up step at warmup_lr_rate"
        raise _fail(
            f"HuggingFace's 'cosine_warmup_with_min_lr' with num_warmup_steps={w} starts its cosine one step"
            f" into the descent (progress 1/{D} at {at}); lrdsl's cosines start at their peak",
            "num_warmup_steps >= 2 translates exactly (the warm-up is then one step shorter),"
            " and so does 'cosine_with_min_lr'",
        )
    if r0 is not None and r0 < 0:
        raise _fail(f"warmup_lr_rate={r0!r} < 0: HF clamps nothing there; lrdsl's values must be >= 0")
    cycles = _float(c.kw.get("num_cycles", 0.5), "num_cycles")
    low = _hf_min(c.kw, c.lr_init, c.name)
    horizon = None if c.steps is None else max(1, c.steps - (w - 1))
    parts = [_hf_cosine(D, cycles, _V(1.0, True), low, horizon)]
    if w >= 2:
        start = _V(1 / w if r0 is None else r0, True)
        parts.insert(0, f"warmup({_args(str(w - 1), _kw('start', start, omit_zero=True))})")
    return " >> ".join(parts)


def _greedy(c: _HfCall) -> str:
    raise _fail(
        "HuggingFace's 'greedy' (GreedyLR) raises the lr when the metric keeps improving (lr / factor, up to"
        " max_lr) and resets it after reset_start steps at min_lr; lrdsl's plateau(...) only lowers it",
        "'reduce_lr_on_plateau' translates to plateau(...)",
    )


def _linear(c: _HfCall) -> str:
    total, D = c.decay()
    if total <= c.w:  # max(0, (total - t)/1) is 0 from the warm-up's end
        parts = ["const(0)"]
        _hf_warmup(c.w, parts, "base")
        return " >> ".join(parts)
    parts = [f"linear({D})"]
    _hf_warmup(c.w, parts)
    return " >> ".join(parts)


def _cosine(c: _HfCall) -> str:
    """``cosine`` and ``cosine_with_min_lr`` (the same with a floor)."""
    _total, D = c.decay()
    cycles = _float(c.kw.get("num_cycles", 0.5), "num_cycles")
    low = _V(0.0)
    if c.name == "cosine_with_min_lr":
        low = _hf_min(c.kw, c.lr_init, c.name)
    parts = [_hf_cosine(D, cycles, _V(1.0, True), low, c.horizon)]
    _hf_warmup(c.w, parts)
    return " >> ".join(parts)


def _cosine_with_restarts(c: _HfCall) -> str:
    _total, D = c.decay()
    cycles = _float(c.kw.get("num_cycles", 1), "num_cycles")
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
            k = int(cycles)
            body = f"cosine({n})" if k == 1 else f"cosine_restarts({n}, t_mul=1, cycles={k})"
        else:
            body = f"cosine_restarts({n}, t_mul=1, steps={D}) >> const(0)"
    parts = [body]
    _hf_warmup(c.w, parts)
    return " >> ".join(parts)


def _polynomial(c: _HfCall) -> str:
    total, _D = c.decay()
    w, lr_init = c.w, c.lr_init
    lr_end = _float(c.kw.get("lr_end", 1e-7), "lr_end")
    power = _float(c.kw.get("power", 1.0), "power")
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


def _warmup_stable_decay(c: _HfCall) -> str:
    """A warm-up (linear, cosine or 1-sqrt), a stable run at base, a linear, cosine or 1-sqrt decay."""
    w, total, kw = c.w, c.total, c.kw
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
        elif warmup_type == "1-sqrt":  # r + (1-r)(1 - sqrt(1 - t/w))
            parts.append(f"warmup({_args(str(w), _kw('start', low, omit_zero=True), 'end=base', 'shape=sqrt')})")
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
        elif decay_type == "1-sqrt":  # r + (1-r)(1 - sqrt(t/D))
            parts.append(f"cooldown({_args(str(D), 'shape=sqrt', _kw('end', low, omit_zero=True))})")
        else:
            raise ArgumentError(f"decay_type={decay_type!r} is not linear, cosine or 1-sqrt", code="E0306")
    else:
        parts.append(f"const({low.text()})")
    # every part is bounded or a constant: the text is already as short as it gets, whatever c.steps
    return " >> ".join(parts)


def _need(n: object, what: str, name: str) -> int:
    if n is None:
        raise ArgumentError(f"HuggingFace's {name!r} schedule needs {what}", code="E0302")
    return _steps(n, what, 0)


def _hf_warmup(w: int, parts: list[str], target: str | None = None) -> None:
    """HF's warm-up: float(t) / max(1, w) of base for t < w."""
    if w:
        parts.insert(0, f"warmup({w}{'' if target is None else ', end=' + target})")


def _hf_min(kw: dict[str, Any], lr_init: float | None, name: str) -> _V:
    """The min-lr cosines' floor: min_lr (absolute) or min_lr_rate (of base)."""
    min_lr, rate = kw.get("min_lr"), kw.get("min_lr_rate")
    if min_lr is not None and rate is not None:
        raise ArgumentError("give min_lr or min_lr_rate, not both (as HuggingFace requires)", code="E0307")
    if min_lr is None and rate is None:
        raise ArgumentError(f"{name!r} needs min_lr or min_lr_rate", code="E0302")
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


#: The text of each HuggingFace ``SchedulerType``.
_HF_TEXTS: dict[str, Callable[[_HfCall], str]] = {
    "linear": _linear,
    "cosine": _cosine,
    "cosine_with_restarts": _cosine_with_restarts,
    "polynomial": _polynomial,
    "constant": _constant,
    "constant_with_warmup": _constant_with_warmup,
    "inverse_sqrt": _inverse_sqrt,
    "reduce_lr_on_plateau": _reduce_lr_on_plateau,
    "cosine_with_min_lr": _cosine,
    "cosine_warmup_with_min_lr": _cosine_warmup_with_min_lr,
    "warmup_stable_decay": _warmup_stable_decay,
    "greedy": _greedy,
}

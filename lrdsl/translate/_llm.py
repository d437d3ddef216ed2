"""Translation stage: the LLM trainers' schedule options -> lrdsl text.

:func:`from_torchtitan` reads torchtitan's ``[lr_scheduler]`` section
(``torchtitan/components/optimizer/lr_scheduler.py``, ``LRSchedulersContainer.Config.build``
and its ``linear_warmup_stable_decay`` lambda); :func:`from_megatron` reads
Megatron-LM's ``--lr*`` arguments (``megatron/training/training.py:
get_optimizer_param_scheduler`` and ``megatron/core/optimizer_param_scheduler.py:
OptimizerParamScheduler.get_lr``).  Both write the text of the lr at training
step ``t`` (the ``t``-th optimizer step, from 0), with ``base`` the configured
lr (torchtitan's ``optimizer.lr``, Megatron's ``--lr``), checked to compile.

The trainers count steps their own way, and the texts absorb it:

* torchtitan's warm-up is ``(t + 1)/warmup_steps`` (it reaches base at step
  ``warmup_steps - 1``) and its decay's progress ``(t + 1 - warmup - stable)/decay``
  with ``stable = total + 1 - warmup - decay`` (a "virtual last step": the
  minimum comes at step ``total``, one past the last training step).  So the
  warm-up is ``warmup(warmup_steps - 1, start=base/warmup_steps)`` and the decay a
  ``cooldown(decay)`` that starts one step early, at its peak, on the stable
  phase's last step.  Past step ``total`` torchtitan's progress exceeds 1 (a
  negative lr for ``linear``, which no training step reaches); the text holds
  the minimum.
* Megatron evaluates ``get_lr`` at ``num_steps = t * global_batch_size`` (the
  scheduler is built with ``step(0)`` and stepped by the global batch after each
  iteration), warms up while ``num_steps <= warmup`` (inclusive: base at step
  ``warmup``) and decays over ``(warmup, decay_iters]``, then holds ``--min-lr``.
  Sample-based options (``--train-samples``, ``--lr-*-samples``) are counted in
  iterations of ``--global-batch-size``; a length that is not a whole number of
  iterations (a ``--lr-warmup-fraction`` of an odd total, samples not a
  multiple of the batch) is refused, since lrdsl's segments are whole steps.
"""

from __future__ import annotations

import warnings

from ..language.errors import ArgumentError
from ._common import _V, _args, _choice, _fail, _finish, _float, _kw, _num, _options, _steps

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_COOLDOWN = {"linear": "linear", "sqrt": "sqrt", "cosine": "cos", "minus_sqrt": "sqrt"}

#: torchtitan's ``[lr_scheduler]`` options and their defaults (``lr_min`` is
#: ``min_lr_factor``'s name before torchtitan #1471, with the same meaning).
TORCHTITAN_OPTIONS: dict[str, object] = {
    "warmup_steps": 200,
    "total_steps": None,
    "decay_ratio": None,
    "decay_type": "linear",
    "min_lr_factor": None,
    "lr_min": None,
}


def from_torchtitan(cfg: Any, steps: int | None = None) -> str:
    """The lrdsl text of torchtitan's lr schedule.

    ``cfg`` is the ``[lr_scheduler]`` section (a mapping such as
    ``tomllib.load(f)["lr_scheduler"]``, or torchtitan's ``Config`` dataclass), or
    the whole job config with ``lr_scheduler`` and ``training`` sections;
    ``steps`` is ``training.steps`` (its ``total_steps`` wins when set).
    Compile the text with ``base_lr`` = ``optimizer.lr``.  Warm-up and decay
    lengths are clamped as torchtitan clamps them, with its warnings.
    """
    if isinstance(cfg, dict) and "lr_scheduler" in cfg:
        training = cfg.get("training") or {}
        if steps is None and isinstance(training, dict):
            steps = training.get("steps")
        cfg = cfg["lr_scheduler"]
    o = _options(cfg, TORCHTITAN_OPTIONS, "torchtitan's [lr_scheduler]")
    total_raw = o["total_steps"] if o["total_steps"] is not None else steps
    if total_raw is None:
        raise ArgumentError(
            "torchtitan's schedule needs the run's length: steps= (training.steps) or lr_scheduler.total_steps",
            None,
            code="E0302",
        )
    total = _steps(total_raw, "total_steps", 0)
    try:  # torchtitan's int(warmup_steps)
        w = _steps(int(o["warmup_steps"]), "warmup_steps", 0)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        raise _fail(f"warmup_steps is {o['warmup_steps']!r}, not a number of steps") from None
    if w > total:
        warnings.warn(
            f"Warmup steps ({w}) exceed total steps ({total}). Adjusting warmup steps to {total}.", stacklevel=2
        )
        w = total
    if o["decay_ratio"] is not None:
        d = round(total * _float(o["decay_ratio"], "decay_ratio"))
        if d < 0:
            raise _fail(f"decay_ratio={o['decay_ratio']!r} gives a negative decay length ({d} steps)")
        if w + d > total:
            warnings.warn(
                f"Warmup ({w}) + decay ({d}) steps exceed total steps ({total}). Adjusting decay steps to {total - w}.",
                stacklevel=2,
            )
            d = total - w
    else:
        d = total - w
    decay_type = _choice(o["decay_type"], ("linear", "sqrt", "cosine"), "decay_type")
    m = _titan_min(o)
    parts = []
    if w >= 2:  # (t + 1)/w: base/w at step 0, base at step w - 1
        parts.append(f"warmup({w - 1}, start={_V(1 / w, True).text()})")
    hold = total - d - max(w - 1, 0)  # to the step before the decay's first, where the cooldown starts
    if d == 0:
        parts.append("hold()" if parts else "const()")
        return _finish(" >> ".join(parts), "torchtitan's schedule")
    if hold:
        parts.append(f"hold({hold})")
    shape = _COOLDOWN[decay_type]
    parts.append(
        f"cooldown({_args(str(d), None if shape == 'linear' else f'shape={shape}', _kw('end', m, omit_zero=True))})"
    )
    return _finish(" >> ".join(parts), "torchtitan's schedule")


def _titan_min(o: dict[str, object]) -> _V:
    if o["min_lr_factor"] is not None and o["lr_min"] is not None:
        raise ArgumentError(
            "give min_lr_factor or lr_min (its name before torchtitan #1471), not both", None, code="E0307"
        )
    raw = o["min_lr_factor"] if o["min_lr_factor"] is not None else o["lr_min"]
    m = 0.0 if raw is None else _float(raw, "min_lr_factor")
    if m < 0:
        raise _fail(f"min_lr_factor={m!r} < 0: the decay would end below 0; lrdsl's values must be >= 0")
    return _V(m, True)


#: Megatron-LM's lr-schedule arguments and their defaults (``--lr`` is required).
MEGATRON_OPTIONS: dict[str, object] = {
    "lr": None,
    "min_lr": 0.0,
    "lr_decay_style": "linear",
    "lr_wsd_decay_style": "exponential",
    "lr_decay_iters": None,
    "lr_decay_samples": None,
    "lr_wsd_decay_iters": None,
    "lr_wsd_decay_samples": None,
    "lr_warmup_iters": 0,
    "lr_warmup_samples": 0,
    "lr_warmup_fraction": None,
    "lr_warmup_init": 0.0,
    "train_iters": None,
    "train_samples": None,
    "global_batch_size": None,
    "rampup_batch_size": None,
    "decoupled_lr": None,
    "decoupled_min_lr": None,
}

_MEGATRON_STYLES = ("constant", "linear", "cosine", "inverse-square-root", "WSD")
_MEGATRON_WSD_STYLES = ("exponential", "linear", "cosine", "minus_sqrt")


def from_megatron(args: Any) -> str:
    """The lrdsl text of Megatron-LM's lr schedule, from its arguments (a
    mapping or ``argparse.Namespace``; ``--lr-decay-style``, ``lr-decay-style``
    and ``lr_decay_style`` all work).  Compile it with ``base_lr`` = ``--lr``;
    ``--min-lr`` and ``--lr-warmup-init`` are written as numbers, as Megatron
    has them."""
    o = _options(args, MEGATRON_OPTIONS, "Megatron-LM's lr schedule")
    for key, why in (
        ("rampup_batch_size", "the batch size ramps, so an iteration is not a fixed number of Megatron's samples"),
        ("decoupled_lr", "the embedding and output layers get a schedule of their own"),
        ("decoupled_min_lr", "the embedding and output layers get a schedule of their own"),
    ):
        if o[key] is not None:
            raise _fail(
                f"--{key.replace('_', '-')}: {why}",
                "translate the other groups' schedule separately (lr=decoupled_lr, min_lr=decoupled_min_lr)"
                if key != "rampup_batch_size"
                else "drop it, or schedule by consumed samples",
            )
    if o["lr"] is None:
        raise ArgumentError("Megatron's schedule needs --lr", None, code="E0302")
    top, low, init = (_float(o[k], k) for k in ("lr", "min_lr", "lr_warmup_init"))
    style = _choice(o["lr_decay_style"], _MEGATRON_STYLES, "lr_decay_style")
    wsd_style = _choice(o["lr_wsd_decay_style"], _MEGATRON_WSD_STYLES, "lr_wsd_decay_style")
    w, L, dw = _megatron_lengths(o, style)
    for ok, what in (
        (low >= 0, f"--min-lr {low!r} must be >= 0"),
        (top >= low, f"--lr {top!r} must be >= --min-lr {low!r}"),
        (init <= top, f"--lr-warmup-init {init!r} must be <= --lr {top!r}"),
    ):
        if not ok:
            raise ArgumentError(f"{what} (Megatron asserts it)", None, code="E0401")
    if init < 0:
        raise _fail(f"--lr-warmup-init {init!r} < 0: lrdsl's learning rates are >= 0")
    parts = [f"warmup({_args(str(w), _kw('start', _V(init), omit_zero=True))})"] if w else []
    parts += _megatron_decay(style, wsd_style, w, L, dw, top, low, o["global_batch_size"])
    return _finish(" >> ".join(parts), "Megatron-LM's schedule")


def _megatron_lengths(o: dict[str, object], style: str) -> tuple[int, int, int | None]:
    """Warm-up, decay and WSD-anneal lengths in iterations, from Megatron's
    sample counts (``lr_*_steps`` = iterations * global batch size)."""
    iters = bool(o["train_iters"]) or o["lr_decay_iters"] is not None
    given = [k for k in ("train_samples", "lr_decay_samples", "lr_wsd_decay_samples") if o[k] is not None]
    if iters and (given or o["lr_warmup_samples"]):
        raise ArgumentError(
            "give iteration-based or sample-based options, not both (as Megatron requires)", None, code="E0307"
        )
    frac = o["lr_warmup_fraction"]
    if frac is not None and (o["lr_warmup_iters"] or o["lr_warmup_samples"]):
        raise ArgumentError("give --lr-warmup-fraction or --lr-warmup-iters/-samples, not both", None, code="E0307")
    gbs = _steps(o["global_batch_size"] if o["global_batch_size"] is not None else 1, "global_batch_size")
    if iters:
        decay = o["lr_decay_iters"] if o["lr_decay_iters"] is not None else o["train_iters"]
        L = _steps(decay, "lr_decay_iters", 0) * gbs
        dw = None if o["lr_wsd_decay_iters"] is None else _steps(o["lr_wsd_decay_iters"], "lr_wsd_decay_iters", 0) * gbs
        warm: float = _steps(o["lr_warmup_iters"], "lr_warmup_iters", 0) * gbs
    elif o["train_samples"] or o["lr_decay_samples"] is not None:
        if o["global_batch_size"] is None:
            raise ArgumentError("sample-based options need --global-batch-size", None, code="E0302")
        decay = o["lr_decay_samples"] if o["lr_decay_samples"] is not None else o["train_samples"]
        L = _steps(decay, "lr_decay_samples", 0)
        dw = None if o["lr_wsd_decay_samples"] is None else _steps(o["lr_wsd_decay_samples"], "lr_wsd_decay_samples", 0)
        warm = _steps(o["lr_warmup_samples"], "lr_warmup_samples", 0)
    else:
        raise ArgumentError(
            "Megatron's schedule needs --train-iters (or --lr-decay-iters) or --train-samples", None, code="E0302"
        )
    if frac is not None:
        warm = _float(frac, "lr_warmup_fraction") * L
    if not (L > 0 and 0 <= warm < L):
        raise ArgumentError(
            f"Megatron asserts 0 < decay steps and warm-up < decay steps; here {warm!r} and {L} samples",
            None,
            code="E0401",
        )
    if style == "WSD" and dw is None:
        raise ArgumentError("--lr-decay-style WSD needs --lr-wsd-decay-iters (or -samples)", None, code="E0302")
    whole = [_iterations(x, gbs, what) for x, what in ((warm, "the warm-up"), (L, "the decay"))]
    return whole[0], whole[1], None if dw is None else _iterations(dw, gbs, "the WSD anneal")


def _iterations(samples: float, gbs: int, what: str) -> int:
    q = samples / gbs
    k = round(q)
    if abs(q - k) > 1e-9 * max(1.0, q):  # a float fraction's rounding aside
        raise _fail(
            f"{what} is {samples!r} samples, {q!r} iterations of global batch {gbs}: lrdsl's segments are whole steps"
        )
    return int(k)


def _megatron_decay(
    style: str, wsd_style: str, w: int, L: int, dw: int | None, top: float, low: float, gbs: object
) -> list[str]:
    """The segments after the warm-up (which ends at base at step ``w``)."""
    lo = _V(low)
    if style == "constant":
        return ["const()"]
    if style in ("linear", "cosine"):
        shape = None if style == "linear" else "shape=cos"
        return [f"cooldown({_args(str(L - w), shape, _kw('end', lo, omit_zero=True))})"]
    if style == "inverse-square-root":
        return _megatron_inverse_sqrt(w, L, low, gbs)
    assert dw is not None  # WSD: base until L - dw, the anneal until L
    a = L - dw
    if a < w:
        raise _fail(
            f"--lr-wsd-decay-iters ({dw}) is longer than the decay after the warm-up ({L - w}): Megatron's"
            " anneal then starts part-way, inside the warm-up",
        )
    out = [f"hold({a - w})"] if a > w else []
    if dw == 0:
        return [f"hold({L - w + 1})", f"const({lo.text()})"]
    if wsd_style == "exponential":  # min + (max - min)(2 * 0.5**q - 1) = 2 (max - min) 0.5**q - (max - 2 min)
        r = low / top  # as factors of base, so that no number changes sign with base
        shift = _V(abs(1 - 2 * r), True).text()
        tail = "" if 2 * r == 1 else (f" - {shift}" if 2 * r < 1 else f" + {shift}")
        out.append(f"(exp(0.5, every={dw}, start={_V(2 * (1 - r), True).text()}, steps={dw}){tail})")
        return out
    shape = _COOLDOWN[wsd_style]
    out.append(
        f"cooldown({_args(str(dw), None if shape == 'linear' else f'shape={shape}', _kw('end', lo, omit_zero=True))})"
    )
    return out


def _megatron_inverse_sqrt(w: int, L: int, low: float, gbs: object) -> list[str]:
    """``max(min, lr * sqrt(max(warmup, 1)) / sqrt(max(num_steps, 1)))`` until the
    decay's end, in samples: from the warm-up's end ``sqrt(w / t)`` (the batch
    cancels), without a warm-up ``1 / sqrt(t * global_batch_size)`` after step 0."""
    if w:
        core, first = f"inverse_sqrt({w}, steps={L - w + 1})", []
    else:
        if gbs is None:
            raise ArgumentError(
                "inverse-square-root without a warm-up decays as 1/sqrt(samples): it needs --global-batch-size",
                None,
                code="E0302",
            )
        g = _steps(gbs, "global_batch_size")
        scale = _kw("start", _V(1 / g**0.5, True), omit_base=True)
        core, first = f"inverse_sqrt({_args('1', scale, f'steps={L}')})", ["const(base, steps=1)"]
    return [*first, f"max({core}, {_num(low)})" if low else core, f"const({_V(low).text()})"]

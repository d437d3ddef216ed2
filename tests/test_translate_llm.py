"""``from_torchtitan`` and ``from_megatron``, value for value.

Neither trainer is installed, so each one's per-step formula is written out
below by hand from its source, with its own step counting:

* torchtitan (pytorch/torchtitan, ``torchtitan/components/optimizer/lr_scheduler.py``,
  ``LRSchedulersContainer.Config.build`` and its ``linear_warmup_stable_decay``):
  the lengths as ``build`` computes them (warm-up clamped to the total, decay
  ``round(total * decay_ratio)`` clamped to what the warm-up leaves, stable
  ``total + 1 - warmup - decay``), the lambda driven through torch's
  ``LambdaLR`` as torchtitan builds it (``LambdaLR(optimizer, lr_lambda)``,
  stepped after each optimizer step), so training step ``t`` uses
  ``lambda(t)``: the warm-up's ``t + 1`` and the decay's ``t + 1`` included.
  Compared on steps ``0..total`` (``total`` is the "virtual last step" where
  the minimum is reached; training uses ``0..total-1``).
* Megatron-LM (NVIDIA/Megatron-LM, ``megatron/core/optimizer_param_scheduler.py``,
  ``OptimizerParamScheduler.get_lr``, with the lengths of
  ``megatron/training/training.py: get_optimizer_param_scheduler``): iteration
  ``i`` trains with ``get_lr`` at ``num_steps = i * global_batch_size`` (built
  with ``step(0)``, then ``step(increment=global_batch_size)`` after each
  iteration's optimizer step), warm-up inclusive of its last step.  Compared on
  every iteration up to 50 past the decay's end.

Tolerance: ``rtol=1e-12``, absolute floor ``1e-15 * lr`` (tests/parity.py).
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pytest
from parity import assert_parity

import lrdsl
from lrdsl.translate._llm import from_megatron, from_torchtitan

pytestmark = pytest.mark.usefixtures("backend")

LR = 3e-4


def compiled(text: str, n: int) -> np.ndarray:
    sched = lrdsl.compile(text, base_lr=LR)
    assert str(sched) == text, "translations come out in canonical form"
    return sched.values(np.arange(n))


# ---------------------------------------------------------------- torchtitan, by hand


def titan_lambda(cfg: dict, training_steps: int):  # type: ignore[no-untyped-def]
    """``LRSchedulersContainer.Config.build``'s lengths and lambda, as torchtitan writes them."""
    total_steps = cfg.get("total_steps") if cfg.get("total_steps") is not None else training_steps
    warmup_steps = int(cfg.get("warmup_steps", 200))
    if warmup_steps > total_steps:
        warmup_steps = total_steps
    if cfg.get("decay_ratio") is not None:
        decay_steps = round(total_steps * cfg["decay_ratio"])
        if warmup_steps + decay_steps > total_steps:
            decay_steps = total_steps - warmup_steps
    else:
        decay_steps = total_steps - warmup_steps
    stable_steps = total_steps + 1 - warmup_steps - decay_steps
    lr_decay_type = cfg.get("decay_type", "linear")
    min_lr_factor = cfg.get("min_lr_factor", 0.0)

    def linear_warmup_stable_decay(current_step: int) -> float:
        warmup_stable_steps = warmup_steps + stable_steps
        if current_step < warmup_steps:
            current_step += 1
            curr_adjustment = float(current_step / warmup_steps)
        elif current_step < warmup_stable_steps:
            curr_adjustment = 1.0
        else:
            current_step += 1
            progress = float(current_step - warmup_stable_steps) / decay_steps
            if lr_decay_type == "linear":
                curr_adjustment = 1 - progress
            elif lr_decay_type == "sqrt":
                curr_adjustment = 1 - math.sqrt(progress)
            elif lr_decay_type == "cosine":
                curr_adjustment = 0.5 * (1.0 + math.cos(math.pi * progress))
            curr_adjustment = min_lr_factor + (1 - min_lr_factor) * curr_adjustment
        return curr_adjustment

    return linear_warmup_stable_decay, total_steps


def titan_values(cfg: dict, training_steps: int) -> np.ndarray:
    torch = pytest.importorskip("torch")
    lam, total = titan_lambda(cfg, training_steps)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lam)
    out = [opt.param_groups[0]["lr"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step() without optimizer.step()
        for _ in range(total):
            sched.step()
            out.append(opt.param_groups[0]["lr"])
    return np.array(out)  # steps 0..total


TITAN = [
    {"warmup_steps": w, "decay_ratio": r, "decay_type": kind, "min_lr_factor": m}
    for w in (0, 1, 2, 200)
    for r in (None, 0.0, 0.2, 0.25)
    for kind in ("linear", "sqrt", "cosine")
    for m in (0.0, 0.1)
]


@pytest.mark.parametrize("total", [1000, 1010])  # 1010 * 0.25 = 252.5: round() goes to the even 252
@pytest.mark.parametrize("cfg", TITAN, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_torchtitan(cfg: dict, total: int) -> None:
    text = from_torchtitan(cfg, steps=total)
    assert_parity(compiled(text, total + 1), titan_values(cfg, total), None, LR, text)


def test_torchtitan_clamps_and_spellings() -> None:
    # warm-up past the total, decay past what the warm-up leaves: clamped, with torchtitan's warnings
    for cfg in ({"warmup_steps": 50, "decay_ratio": 0.9}, {"warmup_steps": 120}):
        with pytest.warns(UserWarning, match="Adjusting"):
            text = from_torchtitan(cfg, steps=100)
        assert_parity(compiled(text, 101), titan_values(cfg, 100), None, LR, text)
    # total_steps wins over training.steps; the whole job config; TOML/CLI spellings; lr_min
    cfg = {"warmup_steps": 10, "total_steps": 300, "decay_ratio": 0.5, "decay_type": "cosine", "min_lr_factor": 0.2}
    text = from_torchtitan(cfg, steps=50)
    assert_parity(compiled(text, 301), titan_values(cfg, 50), None, LR, text)
    job = {"lr_scheduler": {"warmup-steps": 10, "lr_scheduler.decay_ratio": 0.5, "--decay_type": "cosine"}}
    job["lr_scheduler"]["lr_min"] = 0.2
    assert from_torchtitan({**job, "training": {"steps": 300}}) == text
    assert text == "warmup(9, start=0.1 * base) >> hold(141) >> cooldown(150, shape=cos, end=0.2 * base)"
    # the minimum holds from step total on (torchtitan's lambda extrapolates past it)
    assert lrdsl.compile(text, base_lr=LR)(10**6) == 0.2 * LR


def test_torchtitan_errors() -> None:
    with pytest.raises(lrdsl.ArgumentError) as info:
        from_torchtitan({"warmup_step": 10}, steps=100)
    assert info.value.code == "E0202" and "did you mean 'warmup_steps'?" in info.value.hints
    with pytest.raises(lrdsl.ArgumentError) as info:
        from_torchtitan({"warmup_steps": 10, "decay_type": "cos"}, steps=100)
    assert info.value.code == "E0306" and "did you mean 'cosine'?" in info.value.hints
    with pytest.raises(lrdsl.ArgumentError) as info:
        from_torchtitan({"warmup_steps": 10})
    assert info.value.code == "E0302" and "training.steps" in info.value.message
    with pytest.raises(lrdsl.ArgumentError) as info:
        from_torchtitan({"warmup_steps": 10, "min_lr_factor": 0.1, "lr_min": 0.1}, steps=100)
    assert info.value.code == "E0307"
    with pytest.raises(lrdsl.UnsupportedError):
        from_torchtitan({"warmup_steps": 10, "min_lr_factor": -0.1}, steps=100)


# ---------------------------------------------------------------- Megatron-LM, by hand


def megatron_get_lr(num_steps: float, a: dict) -> float:
    """``OptimizerParamScheduler.get_lr`` (one param group, no overrides)."""
    max_lr, min_lr, init_lr = a["max_lr"], a["min_lr"], a["init_lr"]
    warm, decay, style = a["lr_warmup_steps"], a["lr_decay_steps"], a["lr_decay_style"]
    if warm > 0 and num_steps <= warm:
        return init_lr + ((max_lr - init_lr) * float(num_steps) / float(warm))
    if style == "constant":
        return max_lr
    if num_steps > decay:
        return min_lr
    if style == "inverse-square-root":
        warmup_steps = max(warm, 1)
        num_steps = max(num_steps, 1)
        lr = max_lr * warmup_steps**0.5 / (num_steps**0.5)
        return max(min_lr, lr)
    decay_ratio = float(num_steps - warm) / float(decay - warm)
    delta_lr = max_lr - min_lr
    if style == "linear":
        coeff = 1.0 - decay_ratio
    elif style == "cosine":
        coeff = 0.5 * (math.cos(math.pi * decay_ratio) + 1.0)
    else:  # WSD
        wsd_anneal_start_ = decay - a["wsd_decay_steps"]
        if num_steps <= wsd_anneal_start_:
            coeff = 1.0
        else:
            wsd_steps = num_steps - wsd_anneal_start_
            wsd_decay_ratio = float(wsd_steps) / float(a["wsd_decay_steps"])
            wsd = a["lr_wsd_decay_style"]
            if wsd == "linear":
                coeff = 1.0 - wsd_decay_ratio
            elif wsd == "cosine":
                coeff = 0.5 * (math.cos(math.pi * wsd_decay_ratio) + 1.0)
            elif wsd == "exponential":
                coeff = (2.0 * math.pow(0.5, wsd_decay_ratio)) - 1.0
            elif wsd == "minus_sqrt":
                coeff = 1.0 - math.sqrt(wsd_decay_ratio)
    return min_lr + coeff * delta_lr


def megatron_values(args: dict, n: int) -> np.ndarray:
    """``get_optimizer_param_scheduler``'s lengths (in samples), then iteration
    ``i`` at ``num_steps = i * global_batch_size``."""
    g = args.get("global_batch_size", 1)
    if args.get("train_iters"):
        decay = args.get("lr_decay_iters") or args["train_iters"]
        lr_decay_steps = decay * g
        wsd = args["lr_wsd_decay_iters"] * g if args.get("lr_wsd_decay_iters") is not None else None
        frac = args.get("lr_warmup_fraction")
        warm = frac * lr_decay_steps if frac is not None else args.get("lr_warmup_iters", 0) * g
    else:
        lr_decay_steps = args.get("lr_decay_samples") or args["train_samples"]
        wsd = args.get("lr_wsd_decay_samples")
        frac = args.get("lr_warmup_fraction")
        warm = frac * lr_decay_steps if frac is not None else args.get("lr_warmup_samples", 0)
    a = {
        "max_lr": float(args["lr"]),
        "min_lr": args.get("min_lr", 0.0),
        "init_lr": args.get("lr_warmup_init", 0.0),
        "lr_warmup_steps": warm,
        "lr_decay_steps": lr_decay_steps,
        "lr_decay_style": args.get("lr_decay_style", "linear"),
        "wsd_decay_steps": wsd,
        "lr_wsd_decay_style": args.get("lr_wsd_decay_style", "exponential"),
    }
    return np.array([megatron_get_lr(i * g, a) for i in range(n)])


MEGATRON = [
    {"lr_decay_style": style, "lr_warmup_iters": w, "min_lr": m, "lr_warmup_init": init}
    for style in ("constant", "linear", "cosine", "inverse-square-root")
    for w in (0, 1, 100)
    for m in (0.0, 3e-5)
    for init in (0.0, 1e-5)
] + [
    {"lr_decay_style": "WSD", "lr_wsd_decay_style": wsd, "lr_wsd_decay_iters": dw, "lr_warmup_iters": w, "min_lr": m}
    for wsd in ("exponential", "linear", "cosine", "minus_sqrt")
    for dw in (0, 1, 250, 900, 950)
    for w in (0, 100)
    for m in (0.0, 3e-5, 2e-4)  # 2e-4: more than half of lr (the exponential's shift changes sign)
]


@functools.cache
def megatron_reference(items: tuple, n: int) -> np.ndarray:
    return megatron_values(dict(items), n)


@pytest.mark.parametrize("gbs", [1, 256])
@pytest.mark.parametrize("cfg", MEGATRON, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_megatron(cfg: dict, gbs: int) -> None:
    args = {"lr": LR, "train_iters": 1000, "global_batch_size": gbs, **cfg}
    if cfg.get("lr_wsd_decay_iters", 0) > 1000 - cfg["lr_warmup_iters"]:  # the anneal would start mid-warm-up
        with pytest.raises(lrdsl.UnsupportedError, match="inside the warm-up"):
            from_megatron(args)
        return
    text = from_megatron({f"--{k.replace('_', '-')}": v for k, v in args.items()})
    assert from_megatron(args) == text
    n = 1050
    assert_parity(compiled(text, n), megatron_reference(tuple(sorted(args.items())), n), None, LR, text)


@pytest.mark.parametrize(
    "args",
    [
        # a warm-up fraction (float samples, as Megatron computes them)
        {"lr_decay_style": "cosine", "lr_warmup_fraction": 0.01, "train_iters": 1000, "global_batch_size": 512},
        {"lr_decay_style": "linear", "lr_warmup_fraction": 0.07, "train_iters": 700, "lr_decay_iters": 900},
        # sample-based training
        {"lr_decay_style": "cosine", "train_samples": 512000, "lr_warmup_samples": 25600, "global_batch_size": 512},
        {
            "lr_decay_style": "WSD",
            "lr_wsd_decay_style": "minus_sqrt",
            "train_samples": 1000 * 64,
            "lr_decay_samples": 800 * 64,
            "lr_wsd_decay_samples": 200 * 64,
            "lr_warmup_fraction": 0.05,
            "global_batch_size": 64,
            "min_lr": 1e-5,
        },
        # decay shorter than the run: min_lr after it
        {"lr_decay_style": "inverse-square-root", "lr_warmup_iters": 10, "train_iters": 1000, "lr_decay_iters": 400},
    ],
)
def test_megatron_lengths(args: dict) -> None:
    args = {"lr": LR, **args}
    text = from_megatron(args)
    n = 1050
    assert_parity(compiled(text, n), megatron_values(args, n), None, LR, text)


def test_megatron_texts() -> None:
    args = {"lr": LR, "min_lr": 3e-5, "train_iters": 10000, "lr_warmup_iters": 500}
    assert from_megatron({**args, "lr_decay_style": "cosine"}) == "warmup(500) >> cooldown(9500, shape=cos, end=3e-05)"
    wsd = {**args, "lr_decay_style": "WSD", "lr_wsd_decay_iters": 2000, "lr_wsd_decay_style": "minus_sqrt"}
    assert from_megatron(wsd) == "warmup(500) >> hold(7500) >> cooldown(2000, shape=sqrt, end=3e-05)"


@pytest.mark.parametrize(
    ("args", "error", "code", "words"),
    [
        ({"lr": LR, "train_iters": 100, "lr_decay_stlye": "cosine"}, "ArgumentError", "E0202", ("lr_decay_style",)),
        ({"lr": LR, "train_iters": 100, "lr_decay_style": "cos"}, "ArgumentError", "E0306", ("cosine",)),
        ({"train_iters": 100}, "ArgumentError", "E0302", ("--lr",)),
        ({"lr": LR}, "ArgumentError", "E0302", ("--train-iters",)),
        ({"lr": LR, "train_iters": 100, "lr_decay_style": "WSD"}, "ArgumentError", "E0302", ("wsd",)),
        ({"lr": LR, "train_iters": 100, "lr_warmup_iters": 100}, "ArgumentError", "E0401", ("warm-up",)),
        ({"lr": LR, "min_lr": 1e-3, "train_iters": 100}, "ArgumentError", "E0401", ("--min-lr",)),
        ({"lr": LR, "train_samples": 1000}, "ArgumentError", "E0302", ("--global-batch-size",)),
        ({"lr": LR, "train_iters": 100, "lr_warmup_samples": 10}, "ArgumentError", "E0307", ()),
        ({"lr": LR, "train_iters": 105, "lr_warmup_fraction": 0.1}, "UnsupportedError", "E0801", ("10.5",)),
        ({"lr": LR, "train_samples": 1000, "global_batch_size": 64}, "UnsupportedError", "E0801", ("15.625",)),
        ({"lr": LR, "train_iters": 100, "rampup_batch_size": [32, 32, 1000]}, "UnsupportedError", "E0801", ("ramps",)),
        ({"lr": LR, "train_iters": 100, "decoupled_lr": 1e-4}, "UnsupportedError", "E0801", ("decoupled",)),
    ],
)
def test_megatron_errors(args: dict, error: str, code: str, words: tuple[str, ...]) -> None:
    with pytest.raises(getattr(lrdsl, error)) as info:
        from_megatron(args)
    err = info.value
    assert err.code == code, err.render()
    shown = err.message + " " + " ".join(err.hints)
    for w in words:
        assert w in shown, shown

"""Translation into lrdsl: ``from_torch``, ``from_keras``, ``from_hf``, value for value.

Every supported case builds the real framework object, evaluates it over
thousands of steps (every boundary included) and compares with
``lrdsl.compile(from_x(...), base_lr=...).values(np.arange(n))``:

* torch: an SGD optimizer with ``lr=base`` (momentum where CyclicLR/OneCycleLR
  cycle it); step ``k``'s lr is ``param_groups[g]['lr']`` read after ``k``
  calls of ``scheduler.step()``.  CosineAnnealingLR's recursive form drifts
  from its closed form by ~3e-12 relative over 10,000 steps when ``T_max`` is
  small (many periods), so that case compares with ``_get_closed_form_lr``
  (over 2,000 steps: the closed form's own ``pi * t / T_max`` loses precision
  as ``t`` grows).  Each climb of torch's cosine begins with ``1 - cos(pi /
  T_max)``, which cancels for large ``T_max`` (1e-12 relative near the bottom
  for ``T_max=9500``), so the warm-up-then-cosine case runs to one step past
  the bottom, and climbs are checked with ``T_max`` up to 3001.
* Keras: the schedule called on an int64 tensor of steps, every float argument
  a ``np.float64`` so Keras computes in float64.
* HuggingFace: transformers is not installed, so the lambdas of
  ``transformers/optimization.py`` (huggingface/transformers at commit 005edacb) are copied below as HF
  writes them and driven through torch's ``LambdaLR``, as ``get_scheduler`` does.

Tolerance: ``rtol=1e-12`` with an absolute floor of ``1e-15 * peak`` (frameworks
compute ``1 + cos(x)``, which cancels near a cosine's bottom).  torch's CyclicLR
locates a step in its cycle as ``1 + k/total - floor(1 + k/total)``, an
absolute rounding error of up to ``eps * (1 + k/total)`` in the position;
those cases add that derived bound (as tests/test_parity_torch.py does).

Every value test runs on both evaluators (the ``backend`` fixture).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from parity import assert_parity  # noqa: E402
from torch.optim import lr_scheduler as L  # noqa: E402

import lrdsl  # noqa: E402
from lrdsl import from_hf, from_keras, from_torch  # noqa: E402  (the top-level names)

pytestmark = pytest.mark.usefixtures("backend")

EPS = float(np.finfo(np.float64).eps)
f64 = np.float64


# ---------------------------------------------------------------- helpers


def make_optimizer(lr: float | list[float], momentum: float = 0.0) -> torch.optim.Optimizer:
    lrs = lr if isinstance(lr, list) else [lr]
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": x} for x in lrs]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=momentum)


def torch_values(sched, opt: torch.optim.Optimizer, n: int, group: int = 0) -> np.ndarray:
    """The lr at steps 0..n-1: read after 0, 1, ..., n-1 calls of step()."""
    out = np.empty(n, dtype=np.float64)
    pg = opt.param_groups[group]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step() without optimizer.step()
        out[0] = pg["lr"]
        for k in range(1, n):
            sched.step()
            out[k] = pg["lr"]
    return out


def torch_closed_form(sched, n: int, group: int = 0) -> np.ndarray:
    out = np.empty(n, dtype=np.float64)
    for k in range(n):
        sched.last_epoch = k
        out[k] = sched._get_closed_form_lr()[group]
    return out


def lrdsl_values(text: str, base: float, n: int) -> np.ndarray:
    sched = lrdsl.compile(text, base_lr=base)
    assert str(sched) == text, "translations come out in canonical form"
    return sched.values(np.arange(n, dtype=np.int64))


def cyclic_allowance(n: int, low: float, high: float, up: int, down: int) -> np.ndarray:
    """Bound on torch CyclicLR's own position rounding (see the module docstring), doubled."""
    total = up + down
    k = np.arange(n, dtype=np.float64)
    return 2.0 * abs(high - low) * EPS * (1.0 + k / total) * total / min(up, down)


# ---------------------------------------------------------------- torch cases


@dataclass(frozen=True)
class TorchCase:
    id: str
    make: Callable  # optimizer -> scheduler
    lr: float | list[float]
    n: int
    momentum: float = 0.0
    closed_form: bool = False  # compare with _get_closed_form_lr instead of the stepped values
    cyclic: tuple | None = None  # (low, high, up, down): CyclicLR rounding allowance
    expect: str | None = None  # the text, where the test pins it
    group: int = 0

    def base(self) -> float:
        return self.lr[self.group] if isinstance(self.lr, list) else self.lr


TORCH: list[TorchCase] = []


def case(cid: str, make: Callable, lr: float = 0.1, n: int = 10_000, **kw) -> None:
    TORCH.append(TorchCase(cid, make, lr, n, **kw))


# ConstantLR
case(
    "ConstantLR-0.37-17",
    lambda o: L.ConstantLR(o, factor=0.37, total_iters=17),
    0.3,
    expect="const(0.37 * base, steps=17) >> const()",
)
case("ConstantLR-default", lambda o: L.ConstantLR(o), 0.05, n=2000)
case("ConstantLR-iters0", lambda o: L.ConstantLR(o, factor=0.5, total_iters=0), 0.1, n=2000, expect="const(0.5 * base)")
# LinearLR
case("LinearLR-warmup", lambda o: L.LinearLR(o, start_factor=0.013, end_factor=0.77, total_iters=1234), 0.3)
case(
    "LinearLR-decay",
    lambda o: L.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=9973),
    0.037,
    expect="linear(9973)",
)
case("LinearLR-1", lambda o: L.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=1), 0.1, n=2000)
# StepLR, MultiStepLR, ExponentialLR
case("StepLR-37", lambda o: L.StepLR(o, step_size=37, gamma=0.37), 0.1, expect="step(37, gamma=0.37)")
case("StepLR-1", lambda o: L.StepLR(o, step_size=1, gamma=0.9997), 0.2)
case("StepLR-default-gamma", lambda o: L.StepLR(o, step_size=3333), 0.3)
case("MultiStepLR", lambda o: L.MultiStepLR(o, milestones=[7, 400, 4123], gamma=0.37), 0.1)
case(
    "MultiStepLR-repeats-and-0", lambda o: L.MultiStepLR(o, milestones=[0, 30, 30, 80, 80, 80], gamma=0.5), 0.2, n=2000
)
case("ExponentialLR", lambda o: L.ExponentialLR(o, gamma=0.9991), 0.1, expect="exp(0.9991)")
case("ExponentialLR-fast", lambda o: L.ExponentialLR(o, gamma=0.37), 1.0, n=2000)
# PolynomialLR
case("PolynomialLR-2.5", lambda o: L.PolynomialLR(o, total_iters=1777, power=2.5), 0.1)
case("PolynomialLR-1", lambda o: L.PolynomialLR(o, total_iters=9973), 0.3)
case("PolynomialLR-0.37", lambda o: L.PolynomialLR(o, total_iters=333, power=0.37), 0.05, n=2000)
# CosineAnnealingLR: periodic; the text repeats a descent and a cosine climb
case(
    "CosineAnnealingLR-1000",
    lambda o: L.CosineAnnealingLR(o, T_max=1000, eta_min=1e-4),
    0.1,
    expect="repeat(cosine(1000, min=0.0001) >> warmup(1000, start=0.0001, end=base, shape=cos))",
)
case("CosineAnnealingLR-3001", lambda o: L.CosineAnnealingLR(o, T_max=3001, eta_min=0.003), 0.37)
case("CosineAnnealingLR-37-closed", lambda o: L.CosineAnnealingLR(o, T_max=37), 0.1, n=2000, closed_form=True)
# CosineAnnealingWarmRestarts
case(
    "CAWR-37-2",
    lambda o: L.CosineAnnealingWarmRestarts(o, T_0=37, T_mult=2, eta_min=1e-4),
    0.1,
    expect="cosine_restarts(37, t_mul=2, min=0.0001)",
)
case("CAWR-100-1", lambda o: L.CosineAnnealingWarmRestarts(o, T_0=100), 0.37)
case("CAWR-7-3", lambda o: L.CosineAnnealingWarmRestarts(o, T_0=7, T_mult=3, eta_min=0.0013), 0.05)
# CyclicLR: three modes, step_size_down
for up, down, low, high, gamma in (
    (37, 11, 1e-3, 0.05, 0.9993),
    (700, 1300, 1e-4, 0.1, 0.99997),
    (20, None, 0.01, 0.37, 0.999),
):
    for mode in ("triangular", "triangular2", "exp_range"):
        dn = up if down is None else down
        case(
            f"CyclicLR-{mode}-{up}-{dn}",
            lambda o, low=low, high=high, up=up, down=down, mode=mode, gamma=gamma: L.CyclicLR(
                o, base_lr=low, max_lr=high, step_size_up=up, step_size_down=down, mode=mode, gamma=gamma
            ),
            0.5,
            momentum=0.9,
            cyclic=(low, high, up, dn),
        )
# OneCycleLR: every parameter; steps 0..total_steps-1
case(
    "OneCycleLR-three-cos",
    lambda o: L.OneCycleLR(
        o, max_lr=0.37, total_steps=3000, pct_start=0.333, div_factor=7.5, final_div_factor=300.0, three_phase=True
    ),
    0.1,
    n=3000,
    momentum=0.9,
    expect="one_cycle(3000, max=0.37, pct_start=0.333, div=7.5, final_div=300, three_phase=true)",
)
case(
    "OneCycleLR-two-linear",
    lambda o: L.OneCycleLR(o, max_lr=0.05, total_steps=2000, anneal_strategy="linear"),
    0.1,
    n=2000,
    momentum=0.9,
)
case(
    "OneCycleLR-epochs",
    lambda o: L.OneCycleLR(
        o, max_lr=1.3, epochs=7, steps_per_epoch=1429, pct_start=0.25, div_factor=10.0, final_div_factor=1e3
    ),
    0.1,
    n=10_003,
    momentum=0.9,
)
# SequentialLR: the classic warmup then cosine
case(
    "Seq-warmup-cosine",
    lambda o: L.SequentialLR(
        o,
        [L.LinearLR(o, start_factor=0.001, total_iters=500), L.CosineAnnealingLR(o, T_max=9500, eta_min=1e-6)],
        milestones=[500],
    ),
    3e-4,
    n=10_002,
    expect="linear(500, start=0.001 * base, end=base) >> repeat(cosine(9500, min=1e-06) >>"
    " warmup(9500, start=1e-06, end=base, shape=cos))",
)
# milestones cut a LinearLR mid-ramp and an ExponentialLR; StepLR restarts from base
case(
    "Seq-cut-linear-exp-step",
    lambda o: L.SequentialLR(
        o,
        [
            L.LinearLR(o, start_factor=0.1, total_iters=300),
            L.ExponentialLR(o, gamma=0.9993),
            L.StepLR(o, step_size=333, gamma=0.5),
        ],
        milestones=[137, 1500],
    ),
    0.1,
    expect="linear(137, start=0.1 * base, end=0.511 * base) >> exp(0.9993, steps=1363) >> step(333, gamma=0.5)",
)
# a CosineAnnealingLR cut part-way up its second climb, then warm restarts
case(
    "Seq-cut-cosine-climb",
    lambda o: L.SequentialLR(
        o,
        [L.CosineAnnealingLR(o, T_max=700, eta_min=1e-4), L.CosineAnnealingWarmRestarts(o, T_0=400, T_mult=2)],
        milestones=[1900],
    ),
    0.2,
)
# a CosineAnnealingLR cut mid-descent, then ConstantLR and MultiStepLR
case(
    "Seq-cut-cosine-descent",
    lambda o: L.SequentialLR(
        o,
        [
            L.CosineAnnealingLR(o, T_max=2000),
            L.ConstantLR(o, factor=0.25, total_iters=100),
            L.MultiStepLR(o, [100, 2000], gamma=0.3),
        ],
        milestones=[1234, 4321],
    ),
    0.1,
)
# PolynomialLR(power=2) cut early has no poly of its own: a 0/1 window
case(
    "Seq-window-poly",
    lambda o: L.SequentialLR(
        o, [L.PolynomialLR(o, total_iters=2000, power=2.0), L.MultiStepLR(o, [300, 3000], gamma=0.37)], milestones=[777]
    ),
    0.1,
    expect="poly(2000, power=2) * (const(1, steps=777) >> const(0)) + (const(0, steps=777) >>"
    " multistep([300, 3000], gamma=0.37))",
)
# OneCycleLR cut mid-way (a window) and PolynomialLR(power=1) cut early (a shorter linear)
case(
    "Seq-window-onecycle-poly1",
    lambda o: L.SequentialLR(
        o,
        [
            L.OneCycleLR(o, max_lr=0.3, total_steps=4000, three_phase=True),
            L.PolynomialLR(o, total_iters=3000),
            L.CosineAnnealingWarmRestarts(o, T_0=300, T_mult=2),
        ],
        milestones=[2500, 3700],
    ),
    0.3,
    momentum=0.9,
    expect="one_cycle(4000, max=0.3, three_phase=true) * (const(1, steps=2500) >> const(0)) + (const(0, steps=2500)"
    " >> linear(1200, start=0.012, end=0.0072) >> cosine_restarts(300, t_mul=2, peak=0.012))",
)
# OneCycleLR rewrites initial_lr: the ExponentialLR before it starts from max_lr/div_factor;
# a milestone one step after OneCycleLR's end runs its extrapolated last value
case(
    "Seq-exp-onecycle-step",
    lambda o: L.SequentialLR(
        o,
        [
            L.ExponentialLR(o, gamma=0.999),
            L.OneCycleLR(o, max_lr=2.0, total_steps=3000),
            L.StepLR(o, step_size=1000, gamma=0.5),
        ],
        milestones=[400, 3401],
    ),
    1.0,
    momentum=0.9,
)
# a CyclicLR built first makes initial_lr its base_lr, which the later ExponentialLR restarts from
case(
    "Seq-cyclic-exp",
    lambda o: L.SequentialLR(
        o, [L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=20), L.ExponentialLR(o, gamma=0.999)], milestones=[300]
    ),
    1.0,
    n=3000,
    momentum=0.9,
    expect="cyclic(20, low=0.01, high=0.1, steps=300) >> exp(0.999, start=0.01)",
)
# a ChainedScheduler at a SequentialLR's start: its initial step is re-run outside initial mode
case(
    "Seq-chained-first",
    lambda o: L.SequentialLR(
        o,
        [
            L.ChainedScheduler([L.ConstantLR(o, factor=0.5, total_iters=20), L.ExponentialLR(o, gamma=0.999)]),
            L.StepLR(o, step_size=100, gamma=0.5),
        ],
        milestones=[400],
    ),
    0.1,
    n=3000,
    expect="(const(0.5 * base, steps=20) >> const(steps=380)) * exp(0.999, start=0.999, steps=400) >>"
    " step(100, gamma=0.5)",
)
# milestone 0: the first scheduler never runs
case(
    "Seq-milestone-0",
    lambda o: L.SequentialLR(
        o,
        [L.ExponentialLR(o, gamma=0.5), L.LinearLR(o, 0.2, 1.0, 50), L.CosineAnnealingLR(o, T_max=3000, eta_min=0.001)],
        milestones=[0, 50],
    ),
    0.1,
    n=3000,
)
# ChainedScheduler: products of factors
case(
    "Chained-doc",
    lambda o: L.ChainedScheduler([L.ConstantLR(o, factor=0.1, total_iters=2), L.ExponentialLR(o, gamma=0.9)]),
    1.0,
    n=2000,
    expect="(const(0.1 * base, steps=2) >> const()) * exp(0.9, start=1)",
)
case(
    "Chained-three",
    lambda o: L.ChainedScheduler(
        [
            L.LinearLR(o, start_factor=0.1, total_iters=250),
            L.MultiStepLR(o, [1000, 3000], gamma=0.37),
            L.PolynomialLR(o, total_iters=9000, power=1.5),
        ]
    ),
    0.1,
)
# per group: a base-relative text serves both groups; CyclicLR's lists differ per group
case("LinearLR-group1", lambda o: L.LinearLR(o, start_factor=0.013, total_iters=1234), [0.1, 0.037], n=2000, group=1)
case(
    "CyclicLR-group1",
    lambda o: L.CyclicLR(o, base_lr=[0.01, 0.002], max_lr=[0.1, 0.03], step_size_up=37, mode="triangular2"),
    [0.1, 0.03],
    n=2000,
    momentum=0.9,
    group=1,
    cyclic=(0.002, 0.03, 37, 37),
    expect="cyclic(37, low=0.002, high=0.03, mode=triangular2)",
)


def build(c: TorchCase):  # type: ignore[no-untyped-def]
    opt = make_optimizer(c.lr, c.momentum)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SequentialLR steps its first scheduler while it is built
        return opt, c.make(opt)


@cache
def torch_reference(case_id: str) -> np.ndarray:
    c = next(c for c in TORCH if c.id == case_id)
    opt, sched = build(c)
    if c.closed_form:
        return torch_closed_form(sched, c.n, c.group)
    return torch_values(sched, opt, c.n, c.group)


@cache
def torch_text(case_id: str) -> str:
    c = next(c for c in TORCH if c.id == case_id)
    result = from_torch(build(c)[1], group=c.group)
    if isinstance(result, dict):
        # a CyclicLR/OneCycleLR cycling the momentum gives a plan (issue 13): its lr part is
        # checked here, its momentum part step by step in tests/test_from_torch_plan.py
        assert set(result) == {"lr", "momentum"}, result
        return result["lr"]
    return result


@pytest.mark.parametrize("c", TORCH, ids=[c.id for c in TORCH])
def test_from_torch_values(c: TorchCase) -> None:
    text = torch_text(c.id)
    if c.expect is not None:
        assert text == c.expect
    expected = torch_reference(c.id)
    got = lrdsl_values(text, c.base(), c.n)
    allowance = 0.0 if c.cyclic is None else cyclic_allowance(c.n, *c.cyclic)
    assert_parity(got, expected, None, float(np.max(expected)), f"{c.id}: {text}", allowance)


def test_group_text_serves_every_group_with_the_same_factors() -> None:
    opt = make_optimizer([0.1, 0.037])
    sched = L.LinearLR(opt, start_factor=0.013, total_iters=1234)
    assert from_torch(sched, group=0) == from_torch(sched, group=1) == "linear(1234, start=0.013 * base, end=base)"


def test_cosine_annealing_within_its_first_descent_is_a_plain_cosine() -> None:
    opt = make_optimizer(0.1)
    sched = L.CosineAnnealingLR(opt, T_max=1000, eta_min=1e-4)
    text = from_torch(sched, steps=1001)
    assert text == "cosine(1000, min=0.0001)"
    o = make_optimizer(0.1)
    expected = torch_values(L.CosineAnnealingLR(o, T_max=1000, eta_min=1e-4), o, 1001)
    assert_parity(lrdsl_values(text, 0.1, 1001), expected, None, 0.1, text)
    # the same horizon inside a SequentialLR: the chain stops where the steps do
    o = make_optimizer(0.1)
    seq = L.SequentialLR(o, [L.LinearLR(o, 0.01, total_iters=50), L.CosineAnnealingLR(o, T_max=950)], [50])
    assert from_torch(seq, steps=1001) == "linear(50, start=0.01 * base, end=base) >> cosine(950)"


def test_sequential_lr_surprises_pinned() -> None:
    """What torch 2.13 does, in numbers: OneCycleLR sets initial_lr = max_lr/div_factor
    at construction, SequentialLR resets the lr to initial_lr, so the ExponentialLR
    before it starts at 10/25 = 0.4, not at the optimizer's 1.0; at the milestone
    OneCycleLR starts from its own formula (0.4 again), and at the last milestone
    StepLR restarts from its base_lrs."""
    o = make_optimizer(1.0, momentum=0.9)
    seq = L.SequentialLR(
        o, [L.ExponentialLR(o, gamma=0.5), L.OneCycleLR(o, max_lr=10.0, total_steps=10)], milestones=[3]
    )
    assert from_torch(seq) == {  # OneCycleLR cycles the momentum too (issue 13)
        "lr": "exp(0.5, start=0.4, steps=3) >> one_cycle(10, max=10)",
        "momentum": "const(0.95, steps=3) >> one_cycle(10, start=0.95, peak=0.85, end=0.95)",
    }
    vals = torch_values(seq, o, 8)
    assert vals[:3].tolist() == [0.4, 0.2, 0.1]
    assert vals[3] == pytest.approx(0.4, rel=1e-14) and vals[5] == 10.0
    got = lrdsl_values("exp(0.5, start=0.4, steps=3) >> one_cycle(10, max=10)", 1.0, 8)
    assert_parity(got, vals, None, 10.0, "pinned")
    # a LinearLR cut mid-ramp hands over at its cut value; the next scheduler restarts from base
    o = make_optimizer(1.0)
    seq = L.SequentialLR(o, [L.LinearLR(o, 0.1, 1.0, total_iters=4), L.ExponentialLR(o, gamma=0.5)], milestones=[2])
    assert torch_values(seq, o, 5).tolist() == [0.1, 0.325, 1.0, 0.5, 0.25]


def test_reduce_lr_on_plateau_is_plateau_with_the_same_settings() -> None:
    from lrdsl.torch import DSLScheduler

    kw = {
        "mode": "max",
        "factor": 0.37,
        "patience": 3,
        "threshold": 0.02,
        "threshold_mode": "abs",
        "cooldown": 2,
        "min_lr": 0.004,
        "eps": 1e-9,
    }
    theirs_opt = make_optimizer(0.1)
    theirs = L.ReduceLROnPlateau(theirs_opt, **kw)
    text = from_torch(theirs)
    assert text == (
        "plateau(factor=0.37, patience=3, mode=max, threshold=0.02, threshold_mode=abs, cooldown=2,"
        " min_lr=0.004, eps=1e-09)"
    )
    assert from_torch(L.ReduceLROnPlateau(make_optimizer(0.1))) == "plateau()"
    ours_opt = make_optimizer(0.1)
    ours = DSLScheduler(ours_opt, text)
    warnings.simplefilter("ignore")  # step() without optimizer.step() (pytest restores the filters)
    rng = np.random.default_rng(3)
    metrics = -np.concatenate([np.linspace(5, 1, 20), np.full(30, 1.0), 1 + 0.01 * rng.standard_normal(60)])
    cuts = 0
    for m in metrics:
        before = theirs_opt.param_groups[0]["lr"]
        theirs.step(float(m))
        ours.step(float(m))
        assert ours_opt.param_groups[0]["lr"] == theirs_opt.param_groups[0]["lr"]
        cuts += theirs_opt.param_groups[0]["lr"] < before
    assert cuts >= 2


# ---------------------------------------------------------------- torch: not expressible


def _unsupported(fn: Callable, *words: str) -> lrdsl.UnsupportedError:
    with pytest.raises(lrdsl.UnsupportedError) as info:
        fn()
    err = info.value
    assert err.code == "E0801"
    said = " ".join([err.message, *err.hints])
    for word in words:
        assert word in said, (word, said)
    return err


class MyStep(L.StepLR):
    pass


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda o: L.LambdaLR(o, lambda t: 0.9**t), ("LambdaLR", "Python function", "from_hf")),
        (lambda o: L.MultiplicativeLR(o, lambda t: 0.9), ("MultiplicativeLR", "Python function")),
        (lambda o: L.CyclicLR(o, 0.01, 0.1, scale_fn=lambda x: 1.0), ("custom scale_fn",)),
        (lambda o: MyStep(o, 10), ("MyStep", "subclasses", "StepLR")),
        (
            lambda o: L.ChainedScheduler([L.ExponentialLR(o, 0.9), L.CosineAnnealingLR(o, 10)]),
            ("ChainedScheduler with CosineAnnealingLR", "eta_min"),
        ),
        (
            lambda o: L.ChainedScheduler([L.ExponentialLR(o, 0.9), L.OneCycleLR(o, 1.0, total_steps=10)]),
            ("ChainedScheduler with OneCycleLR", "discarding"),
        ),
        (
            lambda o: L.SequentialLR(o, [L.StepLR(o, 2), L.ChainedScheduler([L.ExponentialLR(o, 0.9)])], [4]),
            ("NotImplementedError",),
        ),
        (
            lambda o: L.SequentialLR(
                o, [L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3)], [3]), L.StepLR(o, 2)], [5]
            ),
            ("SequentialLR nested",),
        ),
        (
            lambda o: L.SequentialLR(o, [L.OneCycleLR(o, 1.0, total_steps=10), L.StepLR(o, 2)], [20]),
            ("OneCycleLR(total_steps=10)", "raises ValueError"),
        ),
        (lambda o: L.ConstantLR(o, factor=0.0, total_iters=3), ("ZeroDivisionError",)),
        (lambda o: L.SequentialLR(o, [L.StepLR(o, 2), L.LinearLR(o, 0.5, total_iters=0)], [4]), ("ZeroDivisionError",)),
        (lambda o: L.StepLR(o, step_size=2.5), ("2.5", "whole number of steps")),
    ],
)
def test_from_torch_unsupported(make: Callable, words: tuple[str, ...]) -> None:
    opt = make_optimizer(0.1, momentum=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = make(opt)
    _unsupported(lambda: from_torch(sched), *words)


# ---------------------------------------------------------------- HuggingFace
# transformers/optimization.py's lambdas, as HF writes them (the second definition of
# _get_cosine_schedule_with_warmup_lr_lambda, with min_lr_rate, is the one the module keeps)


def _get_constant_lambda(_=None):
    return 1


def _get_constant_schedule_with_warmup_lr_lambda(current_step: int, *, num_warmup_steps: int):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1.0, num_warmup_steps))
    return 1.0


def _get_linear_schedule_with_warmup_lr_lambda(current_step: int, *, num_warmup_steps: int, num_training_steps: int):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    return max(0.0, float(num_training_steps - current_step) / float(max(1, num_training_steps - num_warmup_steps)))


def _get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda(
    current_step: int, *, num_warmup_steps: int, num_training_steps: int, num_cycles: int
):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    progress = float(current_step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
    if progress >= 1.0:
        return 0.0
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((float(num_cycles) * progress) % 1.0))))


def _get_polynomial_decay_schedule_with_warmup_lr_lambda(
    current_step: int,
    *,
    num_warmup_steps: int,
    num_training_steps: int,
    lr_end: float,
    power: float,
    lr_init: int,
):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    elif current_step > num_training_steps:
        return lr_end / lr_init  # as LambdaLR multiplies by lr_init
    else:
        lr_range = lr_init - lr_end
        decay_steps = num_training_steps - num_warmup_steps
        pct_remaining = 1 - (current_step - num_warmup_steps) / decay_steps
        decay = lr_range * pct_remaining**power + lr_end
        return decay / lr_init  # as LambdaLR multiplies by lr_init


def _get_inverse_sqrt_schedule_lr_lambda(current_step: int, *, num_warmup_steps: int, timescale: int | None = None):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    shift = timescale - num_warmup_steps
    decay = 1.0 / math.sqrt((current_step + shift) / timescale)
    return decay


def _get_cosine_schedule_with_warmup_lr_lambda(
    current_step: int, *, num_warmup_steps: int, num_training_steps: int, num_cycles: float, min_lr_rate: float = 0.0
):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    progress = float(current_step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
    factor = 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))
    factor = factor * (1 - min_lr_rate) + min_lr_rate
    return max(0, factor)


def _get_wsd_scheduler_lambda(
    current_step: int,
    *,
    num_warmup_steps: int,
    num_stable_steps: int,
    num_decay_steps: int,
    warmup_type: str,
    decay_type: str,
    min_lr_ratio: float,
    num_cycles: float,
):
    if current_step < num_warmup_steps:
        progress = float(current_step) / float(max(1, num_warmup_steps))
        if warmup_type == "linear":
            factor = progress
        elif warmup_type == "cosine":
            factor = 0.5 * (1.0 - math.cos(math.pi * progress))
        elif warmup_type == "1-sqrt":
            factor = 1.0 - math.sqrt(1.0 - progress)
        factor = factor * (1.0 - min_lr_ratio) + min_lr_ratio
        return max(0.0, factor)

    if current_step < num_warmup_steps + num_stable_steps:
        return 1.0

    if current_step < num_warmup_steps + num_stable_steps + num_decay_steps:
        progress = float(current_step - num_warmup_steps - num_stable_steps) / float(max(1, num_decay_steps))
        if decay_type == "linear":
            factor = 1.0 - progress
        elif decay_type == "cosine":
            factor = 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))
        elif decay_type == "1-sqrt":
            factor = 1.0 - math.sqrt(progress)
        factor = factor * (1.0 - min_lr_ratio) + min_lr_ratio
        return max(0.0, factor)
    return min_lr_ratio


def hf_lambda(optimizer, name: str, w: int, total: int | None, **kw) -> Callable[[int], float]:
    """The lr_lambda get_scheduler(name, optimizer, w, total, scheduler_specific_kwargs=kw) builds."""
    lr_init = optimizer.defaults["lr"]
    if name == "constant":
        return _get_constant_lambda
    if name == "constant_with_warmup":
        return partial(_get_constant_schedule_with_warmup_lr_lambda, num_warmup_steps=w)
    if name == "linear":
        return partial(_get_linear_schedule_with_warmup_lr_lambda, num_warmup_steps=w, num_training_steps=total)
    if name == "cosine":
        return partial(
            _get_cosine_schedule_with_warmup_lr_lambda,
            num_warmup_steps=w,
            num_training_steps=total,
            num_cycles=kw.get("num_cycles", 0.5),
        )
    if name == "cosine_with_restarts":
        return partial(
            _get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda,
            num_warmup_steps=w,
            num_training_steps=total,
            num_cycles=kw.get("num_cycles", 1),
        )
    if name == "polynomial":
        return partial(
            _get_polynomial_decay_schedule_with_warmup_lr_lambda,
            num_warmup_steps=w,
            num_training_steps=total,
            lr_end=kw.get("lr_end", 1e-7),
            power=kw.get("power", 1.0),
            lr_init=lr_init,
        )
    if name == "inverse_sqrt":
        timescale = kw.get("timescale")
        if timescale is None:
            timescale = w or 10_000
        return partial(_get_inverse_sqrt_schedule_lr_lambda, num_warmup_steps=w, timescale=timescale)
    if name == "cosine_with_min_lr":
        rate = kw.get("min_lr_rate")
        if kw.get("min_lr") is not None:
            rate = kw["min_lr"] / lr_init
        return partial(
            _get_cosine_schedule_with_warmup_lr_lambda,
            num_warmup_steps=w,
            num_training_steps=total,
            num_cycles=kw.get("num_cycles", 0.5),
            min_lr_rate=rate,
        )
    assert name == "warmup_stable_decay"
    d = kw["num_decay_steps"]
    s = kw.get("num_stable_steps")
    if s is None:
        s = total - w - d
    return partial(
        _get_wsd_scheduler_lambda,
        num_warmup_steps=w,
        num_stable_steps=s,
        num_decay_steps=d,
        warmup_type=kw.get("warmup_type", "linear"),
        decay_type=kw.get("decay_type", "cosine"),
        min_lr_ratio=kw.get("min_lr_ratio", 0),
        num_cycles=kw.get("num_cycles", 0.5),
    )


@dataclass(frozen=True)
class HFCase:
    id: str
    name: str
    w: int
    total: int | None
    kw: tuple  # scheduler_specific_kwargs as items
    lr: float = 3e-4
    n: int = 10_000
    lr_init: float | None = None  # passed to from_hf; the optimizer's defaults lr differs from the group's
    expect: str | None = None


HF = [
    HFCase("linear", "linear", 500, 9000, (), expect="warmup(500) >> linear(8500)"),
    HFCase("linear-no-warmup", "linear", 0, 7777, ()),
    HFCase("linear-total-before-warmup", "linear", 300, 200, (), n=2000),
    HFCase(
        "cosine",
        "cosine",
        500,
        8000,
        (),
        expect=("warmup(500) >> repeat(cosine(7500) >> warmup(7500, end=base, shape=cos))"),
    ),
    HFCase("cosine-1.5-cycles", "cosine", 37, 3037, (("num_cycles", 1.5),)),
    HFCase("cosine-no-warmup", "cosine", 0, 9973, ()),
    HFCase(
        "cosine_with_restarts",
        "cosine_with_restarts",
        37,
        937 * 3 + 37,
        (("num_cycles", 3),),
        expect="warmup(37) >> cosine_restarts(937, t_mul=1, cycles=3)",
    ),
    HFCase("cosine_with_restarts-1", "cosine_with_restarts", 100, 5100, ()),
    HFCase("cosine_with_restarts-2.5", "cosine_with_restarts", 10, 4010, (("num_cycles", 2.5),)),
    HFCase(
        "polynomial",
        "polynomial",
        250,
        7250,
        (("lr_end", 1e-6), ("power", 2.0)),
        expect="warmup(250) >> poly(7000, power=2, end=1e-06)",
    ),
    HFCase("polynomial-defaults", "polynomial", 0, 9000, ()),
    HFCase("polynomial-lr_init", "polynomial", 100, 5100, (("lr_end", 1e-5), ("power", 0.5)), lr_init=1e-3),
    HFCase("constant", "constant", 0, None, (), n=2000, expect="const()"),
    HFCase("constant_with_warmup", "constant_with_warmup", 777, None, (), n=2000),
    HFCase("inverse_sqrt", "inverse_sqrt", 4000, None, (), expect="inverse_sqrt(4000, warmup=4000)"),
    HFCase("inverse_sqrt-timescale", "inverse_sqrt", 37, None, (("timescale", 777),)),
    HFCase("inverse_sqrt-no-warmup", "inverse_sqrt", 0, None, ()),
    HFCase("cosine_with_min_lr-rate", "cosine_with_min_lr", 100, 8100, (("min_lr_rate", 0.05),)),
    HFCase("cosine_with_min_lr-abs", "cosine_with_min_lr", 100, 4100, (("min_lr", 1e-5), ("num_cycles", 1.0))),
    HFCase("cosine_with_min_lr-lr_init", "cosine_with_min_lr", 100, 4100, (("min_lr", 1e-5),), lr_init=1e-3),
    HFCase("wsd-defaults", "warmup_stable_decay", 300, 9000, (("num_decay_steps", 2000),)),
    HFCase(
        "wsd-linear-ratio",
        "warmup_stable_decay",
        300,
        None,
        (("num_stable_steps", 5000), ("num_decay_steps", 1234), ("decay_type", "linear"), ("min_lr_ratio", 0.1)),
        expect="warmup(300, start=0.1 * base, end=base) >> hold(5000) >> linear(1234, end=0.1 * base)",
    ),
    HFCase(
        "wsd-cosine-warmup-1-sqrt",
        "warmup_stable_decay",
        300,
        None,
        (("num_stable_steps", 4000), ("num_decay_steps", 3000), ("warmup_type", "1-sqrt"), ("min_lr_ratio", 0.02)),
    ),
    HFCase(
        "wsd-cos-warmup-cycles",
        "warmup_stable_decay",
        250,
        None,
        (
            ("num_stable_steps", 3000),
            ("num_decay_steps", 3000),
            ("warmup_type", "cosine"),
            ("num_cycles", 1.5),
            ("min_lr_ratio", 0.05),
        ),
    ),
]


@cache
def hf_reference(case_id: str) -> np.ndarray:
    c = next(c for c in HF if c.id == case_id)
    opt = make_optimizer(c.lr)
    if c.lr_init is not None:
        opt.defaults["lr"] = c.lr_init  # HF reads optimizer.defaults['lr']; the group keeps its own lr
    sched = L.LambdaLR(opt, hf_lambda(opt, c.name, c.w, c.total, **dict(c.kw)))
    return torch_values(sched, opt, c.n)


@pytest.mark.parametrize("c", HF, ids=[c.id for c in HF])
def test_from_hf_values(c: HFCase) -> None:
    text = from_hf(c.name, c.w, c.total, lr_init=c.lr_init, **dict(c.kw))
    if c.expect is not None:
        assert text == c.expect
    expected = hf_reference(c.id)
    assert_parity(lrdsl_values(text, c.lr, c.n), expected, None, c.lr, f"{c.id}: {text}")


def test_from_hf_plateau_and_horizon() -> None:
    assert from_hf("reduce_lr_on_plateau", factor=0.5, patience=3) == "plateau(factor=0.5, patience=3)"
    assert from_hf("cosine", 100, 1000, steps=1001) == "warmup(100) >> cosine(900)"
    assert from_hf("cosine_with_min_lr", 0, 1000, min_lr=1e-5) == (
        "repeat(cosine(1000, min=1e-05) >> warmup(1000, start=1e-05, end=base, shape=cos))"
    )


@pytest.mark.parametrize(
    ("args", "kw", "words"),
    [
        (("cosine_warmup_with_min_lr", 0, 100), {"min_lr_rate": 0.1}, ("one step", "peak")),
        (("greedy",), {"patience": 3}, ("GreedyLR", "raises the lr")),
        (("cosine", 0, 1000), {"num_cycles": 0.3}, ("half-periods", "1666.67")),
        (("cosine_with_restarts", 0, 1000), {"num_cycles": 3}, ("333.333", "whole steps")),
        (("polynomial", 100, 100), {}, ("ZeroDivisionError",)),
    ],
)
def test_from_hf_unsupported(args: tuple, kw: dict, words: tuple[str, ...]) -> None:
    _unsupported(lambda: from_hf(*args, **kw), *words)


def test_from_hf_argument_errors() -> None:
    with pytest.raises(lrdsl.ArgumentError, match="not a HuggingFace SchedulerType") as unknown:
        from_hf("cosine_annealing", 0, 100)
    assert unknown.value.code == "E0306" and "did you mean 'cosine'?" in unknown.value.hints  # a word, not E0801
    with pytest.raises(lrdsl.ArgumentError, match="num_training_steps"):
        from_hf("linear", 10)
    with pytest.raises(lrdsl.ArgumentError, match="num_cycle") as info:
        from_hf("cosine", 10, 100, num_cycle=2)
    assert "did you mean 'num_cycles'?" in info.value.hints
    with pytest.raises(lrdsl.ArgumentError, match="min_lr"):
        from_hf("cosine_with_min_lr", 10, 100)


# ---------------------------------------------------------------- Keras


@pytest.fixture(scope="module")
def keras_schedules():  # type: ignore[no-untyped-def]
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    keras = pytest.importorskip("keras")
    return keras


def keras_values(keras, schedule, n: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    steps = keras.ops.convert_to_tensor(np.arange(n, dtype=np.int64))
    try:
        out = keras.ops.convert_to_numpy(schedule(steps))
    except Exception:  # ops.cond on a tensor of steps (CosineDecay with a warmup)
        out = keras.ops.convert_to_numpy(keras.ops.vectorized_map(schedule, steps))
    assert out.dtype == np.float64, "Keras computed in float32: pass np.float64 arguments"
    return out


KERAS = [
    # (id, constructor name, args, kwargs, peak, expected text or None)
    ("ExponentialDecay", "ExponentialDecay", (f64(0.1), 1000, f64(0.96)), {}, 0.1, "exp(0.96, every=1000, start=0.1)"),
    ("ExponentialDecay-staircase", "ExponentialDecay", (f64(0.37), 37, f64(0.5)), {"staircase": True}, 0.37, None),
    (
        "PiecewiseConstantDecay",
        "PiecewiseConstantDecay",
        ([100, 4000, 7777], [f64(0.1), f64(0.03), f64(0.007), f64(1e-4)]),
        {},
        0.1,
        "piecewise([100, 4000, 7777], [0.1, 0.03, 0.007, 0.0001])",
    ),
    ("PolynomialDecay", "PolynomialDecay", (f64(0.1), 7777, f64(1e-5)), {"power": f64(2.5)}, 0.1, None),
    # Keras's defaults (end_learning_rate=0.0001, power=1.0) are Python floats, which it
    # converts through float32; pass them as float64 to compare at 1e-12
    (
        "PolynomialDecay-linear",
        "PolynomialDecay",
        (f64(0.37), 9973, f64(1e-4), f64(1.0)),
        {},
        0.37,
        "poly(9973, end=0.0001, start=0.37)",
    ),
    ("InverseTimeDecay", "InverseTimeDecay", (f64(0.1), 100, f64(0.5)), {}, 0.1, "inverse_time(100, 0.5, start=0.1)"),
    ("InverseTimeDecay-staircase", "InverseTimeDecay", (f64(0.3), 37, f64(0.37)), {"staircase": True}, 0.3, None),
    ("CosineDecay", "CosineDecay", (f64(0.1), 7777), {"alpha": f64(0.013)}, 0.1, "cosine(7777, peak=0.1, alpha=0.013)"),
    (
        "CosineDecay-warmup",
        "CosineDecay",
        (f64(1e-5), 8000),
        {"alpha": f64(0.01), "warmup_target": f64(0.3), "warmup_steps": 1000},
        0.3,
        "warmup(1000, start=1e-05) >> cosine(8000, peak=0.3, alpha=0.01)",
    ),
    ("CosineDecay-target-no-warmup", "CosineDecay", (f64(0.0), 5000), {"warmup_target": f64(0.2)}, 0.2, None),
    (
        "CosineDecayRestarts",
        "CosineDecayRestarts",
        (f64(0.1), 37),
        {"t_mul": f64(2.0), "m_mul": f64(0.9), "alpha": f64(0.013)},
        0.1,
        "cosine_restarts(37, m_mul=0.9, alpha=0.013, peak=0.1)",
    ),
    (
        "CosineDecayRestarts-t1",
        "CosineDecayRestarts",
        (f64(0.37), 250),
        {"t_mul": f64(1.0), "m_mul": f64(0.99)},
        0.37,
        None,
    ),
]


@pytest.mark.parametrize("entry", KERAS, ids=[e[0] for e in KERAS])
def test_from_keras_values(entry, keras_schedules) -> None:  # type: ignore[no-untyped-def]
    keras = keras_schedules
    cid, cls, args, kw, peak, expect = entry
    schedule = getattr(keras.optimizers.schedules, cls)(*args, **kw)
    text = from_keras(schedule)
    if expect is not None:
        assert text == expect
    n = 10_000
    expected = keras_values(keras, schedule, n)
    got = lrdsl_values(text, 123.0, n)  # absolute numbers: any base
    assert_parity(got, expected, None, peak, f"{cid}: {text}")


def test_from_keras_polynomial_cycle_with_a_horizon(keras_schedules) -> None:  # type: ignore[no-untyped-def]
    keras = keras_schedules
    schedule = keras.optimizers.schedules.PolynomialDecay(f64(0.1), 300, f64(1e-4), power=f64(2.0), cycle=True)
    _unsupported(lambda: from_keras(schedule), "cycle=True", "steps=N")
    n = 2000
    text = from_keras(schedule, steps=n)
    assert_parity(lrdsl_values(text, 1.0, n), keras_values(keras, schedule, n), None, 0.1, text)


def test_from_keras_unsupported(keras_schedules) -> None:  # type: ignore[no-untyped-def]
    S = keras_schedules.optimizers.schedules
    _unsupported(lambda: from_keras(S.CosineDecayRestarts(f64(0.1), 10, t_mul=f64(0.5))), "t_mul=0.5", "NaN")
    _unsupported(lambda: from_keras(S.ExponentialDecay(f64(0.1), 100.5, f64(0.9))), "100.5", "whole number")
    _unsupported(lambda: from_keras(object()), "not a keras")


# ---------------------------------------------------------------- the module itself


def test_importing_translate_imports_no_framework() -> None:
    code = "import sys, lrdsl.translate; print(sorted(m for m in ('torch', 'keras', 'tensorflow', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

"""lrdsl.from_torch of schedulers that also drive the momentum (issue 13, part 4).

torch's OneCycleLR and CyclicLR with ``cycle_momentum=True`` set ``momentum``
(SGD-like optimizers) or ``betas[0]`` (where ``"betas" in optimizer.defaults``)
as well as the lr.  Each case builds torch's scheduler, translates it, hands
the result as it is to :class:`lrdsl.torch.DSLScheduler` on a fresh optimizer
built the same way, and compares every hyperparameter of every param group at
every step with torch's own run (tolerance as in tests/torch_runs.py).
"""

from __future__ import annotations

import warnings

import pytest

import lrdsl

torch = pytest.importorskip("torch")
from torch.optim import lr_scheduler as L  # noqa: E402
from torch_runs import compare, cyclic_allowance, record  # noqa: E402

from lrdsl.torch import DSLScheduler  # noqa: E402

pytestmark = [pytest.mark.usefixtures("backend")]


def sgd(lrs=(0.1,), momentum=0.9) -> torch.optim.Optimizer:  # type: ignore[no-untyped-def]
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=momentum, weight_decay=1e-4)


def adam(lrs=(0.1,), cls=torch.optim.Adam) -> torch.optim.Optimizer:  # type: ignore[no-untyped-def]
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs]
    return cls(groups, lr=lrs[0], betas=(0.9, 0.99))


def built(make_opt, make_sched):  # type: ignore[no-untyped-def]
    opt = make_opt()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SequentialLR steps its first scheduler while it is built
        return opt, make_sched(opt)


def translated(sched, groups: int):  # type: ignore[no-untyped-def]
    plans = [lrdsl.from_torch(sched, group=g) for g in range(groups)]
    return plans[0] if groups == 1 else plans


def replay(make_opt, make_sched, n: int, allowance=None):  # type: ignore[no-untyped-def]
    """torch's run against DSLScheduler(fresh optimizer, from_torch(...)), every key, every step."""
    opt, sched = built(make_opt, make_sched)
    groups = len(opt.param_groups)
    result = translated(sched, groups)
    theirs = record(opt, sched, n)
    assert translated(sched, groups) == result  # from_torch reads settings, not the position
    ours_opt = make_opt()
    ours = record(ours_opt, DSLScheduler(ours_opt, result), n)
    compare(ours, theirs, str(result), allowance)
    return result


ONE_CYCLE = [
    ("sgd-two-cos", sgd, {"max_lr": 0.5, "total_steps": 300}, "momentum"),
    (
        "sgd-three-linear",
        sgd,
        {
            "max_lr": 0.5,
            "total_steps": 330,
            "three_phase": True,
            "anneal_strategy": "linear",
            "pct_start": 0.2,
            "base_momentum": 0.8,
            "max_momentum": 0.97,
        },
        "momentum",
    ),
    ("sgd-three-cos", sgd, {"max_lr": 0.3, "total_steps": 300, "three_phase": True, "div_factor": 5.0}, "momentum"),
    ("adam-two-linear", adam, {"max_lr": 0.01, "total_steps": 301, "anneal_strategy": "linear"}, "betas[0]"),
    (
        "adamw-three-cos",
        lambda: adam(cls=torch.optim.AdamW),
        {"max_lr": 0.01, "total_steps": 300, "three_phase": True, "final_div_factor": 1e3},
        "betas[0]",
    ),
    (
        "rmsprop-two-cos",
        lambda: torch.optim.RMSprop([torch.nn.Parameter(torch.zeros(2))], lr=0.01, momentum=0.5),
        {"max_lr": 0.01, "total_steps": 300},
        "momentum",
    ),
]


@pytest.mark.parametrize(("cid", "make_opt", "kw", "key"), ONE_CYCLE, ids=[c[0] for c in ONE_CYCLE])
def test_one_cycle_lr_translates_with_its_momentum(cid, make_opt, kw, key):
    result = replay(make_opt, lambda o: L.OneCycleLR(o, **kw), kw["total_steps"])
    assert isinstance(result, dict) and list(result) == ["lr", key]
    assert "base" not in result[key]  # torch's momenta are absolute numbers


def test_one_cycle_lr_with_per_group_momenta():
    kw = {"max_lr": [0.5, 0.05], "total_steps": 300, "base_momentum": [0.85, 0.6], "max_momentum": [0.95, 0.9]}
    plans = replay(lambda: sgd((0.1, 0.01)), lambda o: L.OneCycleLR(o, **kw), 300)
    assert plans[1]["momentum"] == "one_cycle(300, start=0.9, peak=0.6, end=0.9)"


CYCLIC = [
    ("sgd-triangular", sgd, {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 20, "step_size_down": 30}),
    ("sgd-triangular2", sgd, {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 25, "mode": "triangular2"}),
    (
        "sgd-exp_range",
        sgd,
        {
            "base_lr": 0.01,
            "max_lr": 0.1,
            "step_size_up": 16,
            "step_size_down": 9,
            "mode": "exp_range",
            "gamma": 0.997,
            "base_momentum": 0.7,
            "max_momentum": 0.99,
        },
    ),
    ("adam-triangular", adam, {"base_lr": 1e-4, "max_lr": 1e-2, "step_size_up": 50}),
    (
        "adamw-exp_range",
        lambda: adam(cls=torch.optim.AdamW),
        {"base_lr": 1e-4, "max_lr": 1e-2, "step_size_up": 30, "mode": "exp_range", "gamma": 0.99},
    ),
]


@pytest.mark.parametrize(("cid", "make_opt", "kw"), CYCLIC, ids=[c[0] for c in CYCLIC])
def test_cyclic_lr_translates_with_its_momentum(cid, make_opt, kw):
    n = 400
    up = kw["step_size_up"]
    down = kw.get("step_size_down") or up
    m_lo, m_hi = kw.get("base_momentum", 0.8), kw.get("max_momentum", 0.9)
    key = "betas[0]" if "betas" in make_opt().defaults else "momentum"
    allowance = {
        (0, "lr"): cyclic_allowance(n, kw["base_lr"], kw["max_lr"], up, down),
        (0, key): cyclic_allowance(n, m_lo, m_hi, up, down),
    }
    result = replay(make_opt, lambda o: L.CyclicLR(o, **kw), n, allowance)
    assert isinstance(result, dict) and list(result) == ["lr", key]


def test_cyclic_lr_per_group():
    kw = {"base_lr": [0.01, 0.002], "max_lr": [0.1, 0.03], "step_size_up": 37, "base_momentum": [0.8, 0.5]}
    allowance = {
        (g, k): cyclic_allowance(400, *bounds, 37, 37)
        for g, bounds_by_key in enumerate(
            [{"lr": (0.01, 0.1), "momentum": (0.8, 0.9)}, {"lr": (0.002, 0.03), "momentum": (0.5, 0.9)}]
        )
        for k, bounds in bounds_by_key.items()
    }
    plans = replay(lambda: sgd((0.1, 0.03)), lambda o: L.CyclicLR(o, **kw), 400, allowance)
    assert plans[1] == {"lr": "cyclic(37, low=0.002, high=0.03)", "momentum": "cyclic(37, start=0.9, peak=0.5)"}


def test_only_the_lr_driven_is_a_plain_text():
    for make in (
        lambda o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=20, cycle_momentum=False),
        lambda o: L.OneCycleLR(o, max_lr=0.5, total_steps=300, cycle_momentum=False),
        lambda o: L.CosineAnnealingLR(o, T_max=100),
    ):
        result = replay(sgd, make, 300)
        assert isinstance(result, str)  # and the momentum stays at the optimizer's 0.9 in both runs


# ---------------------------------------------------------------- inside a SequentialLR


def test_sequential_warmup_then_one_cycle_holds_the_momentum_during_the_warmup():
    def make(o):  # type: ignore[no-untyped-def]
        return L.SequentialLR(
            o, [L.LinearLR(o, start_factor=0.1, total_iters=50), L.OneCycleLR(o, max_lr=0.5, total_steps=300)], [50]
        )

    result = replay(sgd, make, 350)
    assert result["momentum"].startswith("const(0.95, steps=50) >> one_cycle(300")


def test_sequential_cyclic_then_constant_holds_the_last_momentum():
    def make(o):  # type: ignore[no-untyped-def]
        cyc = L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=30)
        return L.SequentialLR(o, [cyc, L.ConstantLR(o, factor=0.5, total_iters=0)], [75])

    allowance = {
        (0, "lr"): cyclic_allowance(300, 0.01, 0.1, 30, 30),
        (0, "betas[0]"): cyclic_allowance(300, 0.8, 0.9, 30, 30),
    }
    result = replay(adam, make, 300, allowance)
    assert list(result) == ["lr", "betas[0]"] and result["betas[0]"].endswith(
        "steps=75) >> const(0.8533333333333334)"  # torch's at step 74: 0.9 - 0.1 * 14/30
    )


def test_sequential_one_cycle_one_step_past_its_end_and_two_cyclers():
    def make(o):  # type: ignore[no-untyped-def]
        parts = [L.ExponentialLR(o, gamma=0.5), L.OneCycleLR(o, max_lr=10.0, total_steps=10), L.ConstantLR(o, 0.5, 0)]
        return L.SequentialLR(o, parts, [3, 14])  # OneCycleLR runs 11 steps: its extrapolated step is used

    replay(lambda: sgd((1.0,)), make, 25)

    def two(o):  # type: ignore[no-untyped-def]
        cyc = L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=20, max_momentum=0.95)
        one = L.OneCycleLR(o, max_lr=0.3, total_steps=200, max_momentum=0.9, base_momentum=0.7)
        return L.SequentialLR(o, [cyc, one], [100])

    allowance = {
        (0, "lr"): cyclic_allowance(300, 0.01, 0.1, 20, 20),
        (0, "momentum"): cyclic_allowance(300, 0.8, 0.95, 20, 20),
    }
    result = replay(sgd, two, 300, allowance)
    assert "cyclic(20" in result["momentum"] and "one_cycle(200, start=0.9, peak=0.7" in result["momentum"]


def test_what_cannot_be_carried_over_is_refused_naming_the_momentum():
    def ambiguous(o):  # type: ignore[no-untyped-def]
        warm = L.LinearLR(o, start_factor=0.1, total_iters=10)
        a = L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=20, max_momentum=0.95)
        b = L.OneCycleLR(o, max_lr=0.3, total_steps=200, max_momentum=0.9)
        return L.SequentialLR(o, [warm, a, b], [10, 50])

    _, seq = built(sgd, ambiguous)
    with pytest.raises(lrdsl.UnsupportedError, match="momentum") as info:
        lrdsl.from_torch(seq)
    assert info.value.code == "E0801"
    _, chained = built(sgd, lambda o: L.ChainedScheduler([L.CyclicLR(o, 0.01, 0.1), L.ExponentialLR(o, 0.9)]))
    with pytest.raises(lrdsl.UnsupportedError) as info:  # refused as a whole: nothing is dropped silently
        lrdsl.from_torch(chained)
    assert info.value.code == "E0801" and "CyclicLR" in info.value.message

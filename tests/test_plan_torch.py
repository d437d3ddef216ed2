"""lrdsl.torch.DSLScheduler with a plan (issue 13, part 3): several hyperparameters.

Expected values come from torch's own schedulers (OneCycleLR and CyclicLR with
``cycle_momentum=True`` drive ``momentum`` for SGD and ``betas[0]`` for
Adam/AdamW), from torch's ReduceLROnPlateau (a plateau in the momentum), from
the weights SGD leaves when only weight decay moves them (a product written by
hand), or from a straight run of the same scheduler (resume at every step).
The plan texts are written here by hand, from torch's documented formulas.
"""

from __future__ import annotations

import copy
import io
import math
import pickle
import warnings

import numpy as np
import pytest

import lrdsl
from lrdsl.plan import compile_plan

torch = pytest.importorskip("torch")
from torch.optim import lr_scheduler as L  # noqa: E402
from torch_runs import compare, cyclic_allowance, hyper, record  # noqa: E402

from lrdsl.torch import DSLScheduler  # noqa: E402

pytestmark = [
    pytest.mark.usefixtures("backend"),
    pytest.mark.filterwarnings("ignore:Detected call of"),
    pytest.mark.filterwarnings("ignore:Seems like"),
]


def params(n: int = 1) -> list[torch.nn.Parameter]:
    return [torch.nn.Parameter(torch.zeros(2)) for _ in range(n)]


def sgd(lrs=(0.1,), momentum=0.9, weight_decay=0.0) -> torch.optim.Optimizer:  # type: ignore[no-untyped-def]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params(len(lrs)), lrs)]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=momentum, weight_decay=weight_decay)


def adam(lrs=(0.1,), cls=torch.optim.Adam, **kw) -> torch.optim.Optimizer:  # type: ignore[no-untyped-def]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params(len(lrs)), lrs)]
    return cls(groups, lr=lrs[0], **kw)


# ---------------------------------------------------------------- against torch's OneCycleLR and CyclicLR

ONE_CYCLE = [
    # (id, optimizer, OneCycleLR kwargs, the plan written by hand, n)
    (
        "sgd-two-cos",
        lambda: sgd(weight_decay=1e-4),
        {"max_lr": 0.5},
        {"lr": "one_cycle(300, max=0.5)", "momentum": "one_cycle(300, start=0.95, peak=0.85, end=0.95)"},
        300,
    ),
    (
        "sgd-three-cos",
        lambda: sgd(),
        {"max_lr": 0.4, "div_factor": 10.0, "final_div_factor": 100.0, "three_phase": True, "pct_start": 0.25},
        {
            "lr": "one_cycle(320, max=0.4, div=10, final_div=100, pct_start=0.25, three_phase=true)",
            "momentum": "one_cycle(320, start=0.9, peak=0.8, end=0.9, pct_start=0.25, three_phase=true)",
        },
        320,
    ),
    (
        "sgd-two-linear",
        lambda: sgd(),
        {"max_lr": 0.3, "anneal_strategy": "linear", "pct_start": 0.4},
        {
            "lr": "one_cycle(310, max=0.3, pct_start=0.4, anneal=linear)",
            "momentum": "one_cycle(310, start=0.95, peak=0.85, end=0.95, pct_start=0.4, anneal=linear)",
        },
        310,
    ),
    (
        "sgd-three-linear",
        lambda: sgd(),
        {"max_lr": 0.3, "anneal_strategy": "linear", "three_phase": True},
        {
            "lr": "one_cycle(300, max=0.3, anneal=linear, three_phase=true)",
            "momentum": "one_cycle(300, start=0.95, peak=0.85, end=0.95, anneal=linear, three_phase=true)",
        },
        300,
    ),
    (
        "adam-two-cos",
        lambda: adam(),
        {"max_lr": 0.01},
        {"lr": "one_cycle(300, max=0.01)", "betas[0]": "one_cycle(300, start=0.95, peak=0.85, end=0.95)"},
        300,
    ),
    (
        "adamw-three-linear",
        lambda: adam(cls=torch.optim.AdamW, betas=(0.9, 0.99), weight_decay=0.05),
        {"max_lr": 0.02, "anneal_strategy": "linear", "three_phase": True},
        {
            "lr": "one_cycle(300, max=0.02, anneal=linear, three_phase=true)",
            "beta_1": "one_cycle(300, start=0.95, peak=0.85, end=0.95, anneal=linear, three_phase=true)",
        },
        300,
    ),
]
# the momentum values differ per group in the three-phase SGD case
ONE_CYCLE[1][2].update(base_momentum=0.8, max_momentum=0.9)


@pytest.mark.parametrize(("cid", "make", "kw", "plan", "n"), ONE_CYCLE, ids=[c[0] for c in ONE_CYCLE])
def test_a_plan_follows_torch_one_cycle_lr_in_every_hyperparameter(cid, make, kw, plan, n):
    theirs_opt, ours_opt = make(), make()
    theirs = record(theirs_opt, L.OneCycleLR(theirs_opt, total_steps=n, **kw), n)
    ours = record(ours_opt, DSLScheduler(ours_opt, plan), n)
    compare(ours, theirs, cid)
    key = "betas[0]" if "betas" in theirs_opt.defaults else "momentum"
    moved = [step[0][key] for step in theirs]
    assert max(moved) - min(moved) > 0.09 and len(set(moved)) > 50  # torch does cycle it


def test_one_cycle_per_group_momenta():
    kw = {"max_lr": [0.5, 0.05], "base_momentum": [0.85, 0.7], "max_momentum": [0.95, 0.9], "total_steps": 300}
    plans = [
        {"lr": "one_cycle(300, max=0.5)", "momentum": "one_cycle(300, start=0.95, peak=0.85, end=0.95)"},
        {"lr": "one_cycle(300, max=0.05)", "momentum": "one_cycle(300, start=0.9, peak=0.7, end=0.9)"},
    ]
    theirs_opt, ours_opt = sgd((0.1, 0.01)), sgd((0.1, 0.01))
    theirs = record(theirs_opt, L.OneCycleLR(theirs_opt, **kw), 300)
    ours = record(ours_opt, DSLScheduler(ours_opt, plans), 300)
    compare(ours, theirs, "per group")


CYCLIC = [
    # (id, optimizer, CyclicLR kwargs, plan, allowance (lr low, lr high, m low, m high, up, down))
    (
        "sgd-triangular",
        lambda: sgd(),
        {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 20, "step_size_down": 30},
        {"lr": "cyclic(20, low=0.01, high=0.1, down=30)", "momentum": "cyclic(20, start=0.9, peak=0.8, down=30)"},
        (0.01, 0.1, 0.9, 0.8, 20, 30),
    ),
    (
        "sgd-triangular2",
        lambda: sgd(),
        {
            "base_lr": 0.001,
            "max_lr": 0.05,
            "step_size_up": 25,
            "mode": "triangular2",
            "base_momentum": 0.85,
            "max_momentum": 0.95,
        },
        {
            "lr": "cyclic(25, low=0.001, high=0.05, mode=triangular2)",
            "momentum": "cyclic(25, start=0.95, peak=0.85, mode=triangular2)",
        },
        (0.001, 0.05, 0.95, 0.85, 25, 25),
    ),
    (
        "sgd-exp_range",
        lambda: sgd(),
        {"base_lr": 0.01, "max_lr": 0.2, "step_size_up": 15, "step_size_down": 10, "mode": "exp_range", "gamma": 0.995},
        {
            "lr": "cyclic(15, low=0.01, high=0.2, down=10, mode=exp_range, gamma=0.995)",
            "momentum": "cyclic(15, start=0.9, peak=0.8, down=10, mode=exp_range, gamma=0.995)",
        },
        (0.01, 0.2, 0.9, 0.8, 15, 10),
    ),
    (
        "adam-triangular",
        lambda: adam(),
        {"base_lr": 1e-4, "max_lr": 1e-2, "step_size_up": 40},
        {"lr": "cyclic(40, low=0.0001, high=0.01)", "betas[0]": "cyclic(40, start=0.9, peak=0.8)"},
        (1e-4, 1e-2, 0.9, 0.8, 40, 40),
    ),
    (
        "adamw-exp_range",
        lambda: adam(cls=torch.optim.AdamW),
        {
            "base_lr": 1e-4,
            "max_lr": 1e-2,
            "step_size_up": 12,
            "step_size_down": 18,
            "mode": "exp_range",
            "gamma": 0.99,
            "base_momentum": 0.6,
            "max_momentum": 0.95,
        },
        {
            "lr": "cyclic(12, low=0.0001, high=0.01, down=18, mode=exp_range, gamma=0.99)",
            "betas[0]": "cyclic(12, start=0.95, peak=0.6, down=18, mode=exp_range, gamma=0.99)",
        },
        (1e-4, 1e-2, 0.95, 0.6, 12, 18),
    ),
]


@pytest.mark.parametrize(("cid", "make", "kw", "plan", "bounds"), CYCLIC, ids=[c[0] for c in CYCLIC])
def test_a_plan_follows_torch_cyclic_lr_in_every_hyperparameter(cid, make, kw, plan, bounds):
    n = 400
    theirs_opt, ours_opt = make(), make()
    theirs = record(theirs_opt, L.CyclicLR(theirs_opt, **kw), n)
    ours = record(ours_opt, DSLScheduler(ours_opt, plan), n)
    lo, hi, m_lo, m_hi, up, down = bounds
    key = "betas[0]" if "betas" in theirs_opt.defaults else "momentum"
    allowance = {(0, "lr"): cyclic_allowance(n, lo, hi, up, down), (0, key): cyclic_allowance(n, m_lo, m_hi, up, down)}
    compare(ours, theirs, cid, allowance)
    assert min(step[0][key] for step in theirs) < m_lo - 0.5 * abs(m_hi - m_lo)


# ---------------------------------------------------------------- weight decay moves the weights


def test_scheduled_weight_decay_shrinks_the_weights_step_by_step():
    """SGD without momentum and a zero gradient: p <- p - lr_k * (wd_k * p), so
    p_k = p_0 * prod_{j<k} (1 - lr_j * wd_j), with lr_j and wd_j written by hand."""
    p0 = torch.tensor([2.0, -0.5, 3.25], dtype=torch.float64)
    p = torch.nn.Parameter(p0.clone())
    opt = torch.optim.SGD([p], lr=0.1, weight_decay=1e-3)
    n = 60
    sched = DSLScheduler(opt, {"lr": "cosine(60)", "weight_decay": "linear(60, start=base, end=0.5)"})
    factor = 1.0
    for k in range(n):
        lr_k = 0.1 * (1 + math.cos(math.pi * k / n)) / 2
        wd_k = 1e-3 + (0.5 - 1e-3) * k / n
        g = opt.param_groups[0]
        assert g["lr"] == pytest.approx(lr_k, rel=1e-12, abs=1e-16)
        assert g["weight_decay"] == pytest.approx(wd_k, rel=1e-12)
        opt.zero_grad()
        (0 * p.sum()).backward()
        assert torch.count_nonzero(p.grad) == 0
        opt.step()
        factor *= 1 - lr_k * wd_k
        torch.testing.assert_close(p.detach(), p0 * factor, rtol=1e-12, atol=0)
        sched.step()
    constant = math.prod(1 - 0.1 * (1 + math.cos(math.pi * k / n)) / 2 * 1e-3 for k in range(n))
    assert factor < 0.7 and constant > 0.99  # a weight decay left at 1e-3 would fail the comparisons above


# ---------------------------------------------------------------- resume, bit for bit

SGD_PLAN = {
    "lr": "warmup(3) >> one_cycle(20, max=0.5) >> cyclic(4, low=0.01, cycles=3)",
    "momentum": "linear(10, start=base, end=0.99) >> plateau(patience=1, factor=0.9, min_lr=0.5)",
    "weight_decay": "const(base, steps=5) >> linear(30, start=base, end=0.001)",
}
ADAM_PLAN = {
    "betas[0]": "cosine(30, peak=base, min=0.8)",
    "b2": "warmup(5, start=0.9, end=base) >> plateau(patience=0, factor=0.999, min_lr=0.95)",
    "eps": "exp(0.9, start=1e-6)",
}


def sgd_pair() -> torch.optim.Optimizer:
    p, q = params(2)
    return torch.optim.SGD(
        [
            {"params": [p], "lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4},
            {"params": [q], "lr": 0.02, "momentum": 0.8},
        ],
        lr=0.1,
        momentum=0.9,
    )


def adam_pair() -> torch.optim.Optimizer:
    p, q = params(2)
    return torch.optim.Adam([{"params": [p]}, {"params": [q], "betas": (0.85, 0.995)}], lr=0.01)


METRICS = [5.0, 4.0, 3.0, 3.0, 3.0, 3.0, 2.5, 2.5, 2.5, 2.5] * 5


def stepped(make, plan, k):  # type: ignore[no-untyped-def]
    opt = make()
    sched = DSLScheduler(opt, plan, total_steps=40)
    values = [hyper(opt)]
    for m in METRICS[:k]:
        opt.step()
        sched.step(m)
        values.append(hyper(opt))
    return opt, sched, values


def save_load(state: dict) -> dict:
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


@pytest.mark.parametrize(("make", "plan"), [(sgd_pair, SGD_PLAN), (adam_pair, ADAM_PLAN)], ids=["sgd", "adam"])
def test_resume_is_bit_identical_for_every_key_at_every_step(make, plan):
    n = 40
    _, _, straight = stepped(make, plan, n)
    for k in range(n):
        _, a, _ = stepped(make, plan, k)
        state = save_load(a.state_dict())
        assert state["format"] == 2
        opt_b = make()
        b = DSLScheduler(opt_b, plan, total_steps=40)
        b.load_state_dict(state)
        assert hyper(opt_b) == straight[k], f"resumed at step {k}"
        for j, m in enumerate(METRICS[k:n], start=k + 1):
            opt_b.step()
            b.step(m)
            assert hyper(opt_b) == straight[j], f"resumed at step {k}, differs at step {j}"
    cuts = [p["cuts"] for d in a.state_dict()["plateaus"] for ps in d.values() for p in ps]
    assert any(cuts)  # the plateaus did cut (in momentum or betas[1]), so their state was carried


def test_resume_with_the_optimizer_state_and_last_epoch_agrees_with_reconstruction():
    plan = {k: v for k, v in SGD_PLAN.items() if k != "momentum"} | {"momentum": "cosine(40, min=0.5)"}
    opt = sgd_pair()
    sched = DSLScheduler(opt, plan, total_steps=40)
    for _ in range(7):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["initial_momentum"] == 0.9 and opt.param_groups[1]["initial_weight_decay"] == 0
    saved_opt, saved_sched, now = opt.state_dict(), save_load(sched.state_dict()), hyper(opt)
    # (a) a fresh optimizer loads its state (initial_* included), then a scheduler is built on it
    for last_epoch in (-1, 6):  # torch's convention: built with last_epoch=6, its initial step makes it 7
        opt2 = sgd_pair()
        opt2.load_state_dict(saved_opt)
        again = DSLScheduler(opt2, plan, total_steps=40, last_epoch=last_epoch)
        if last_epoch == -1:
            again.load_state_dict(saved_sched)
        assert hyper(opt2) == now and again.last_epoch == 7
        assert [b for b in again.state_dict()["bases"]] == saved_sched["bases"]  # bases are the initial values
    # (b) resuming without the initial values recorded is refused, naming the entry
    opt3 = sgd_pair()
    for g in opt3.param_groups:
        g["initial_lr"] = g["lr"]
    with pytest.raises(lrdsl.LrdslError, match=r"no .initial_(weight_decay|momentum).") as info:
        DSLScheduler(opt3, plan, total_steps=40, last_epoch=6)
    assert info.value.code == "E0305"


def test_initial_values_are_kept_like_initial_lr():
    opt = adam_pair()
    DSLScheduler(opt, {"betas[1]": "linear(10, start=base, end=0.9)"})
    assert [g["initial_betas"] for g in opt.param_groups] == [(0.9, 0.999), (0.85, 0.995)]
    for _ in range(5):
        opt.step()
    again = DSLScheduler(opt, {"betas[1]": "linear(10, start=base, end=0.9)"})  # re-construction: same bases
    assert again.state_dict()["bases"] == [{"betas[1]": 0.999}, {"betas[1]": 0.995}]
    assert opt.param_groups[1]["betas"] == pytest.approx((0.85, 0.995), rel=1e-15)  # step 0 again


OLD_STATE = {  # written by lrdsl before plans (git HEAD c650837), for two groups at lr 0.1 and 0.02
    "format": 1,
    "lrdsl": "0.1.0",
    "schedules": ["warmup(2) >> plateau(patience=1, factor=0.5, steps=20) >> cosine(10)"] * 2,
    "fingerprint": "5e52da76b66607bc1dfa560910236e84d7b8dcb8193971aa549f0662da4938a9",
    "base_lrs": [0.1, 0.02],
    "last_epoch": 6,
    "step_count": 7,
    "last_lr": [0.05, 0.01],
    "plateaus": [
        [{"index": 2, "best": 1.0, "bad": 1, "cooling": 0, "cuts": [3], "levels": [0.05]}],
        [{"index": 2, "best": 1.0, "bad": 1, "cooling": 0, "cuts": [3], "levels": [0.01]}],
    ],
}


@pytest.mark.parametrize("spelling", ["text", "plan"])
def test_an_old_lr_only_state_still_loads(spelling):
    text = OLD_STATE["schedules"][0]
    opt = sgd((0.1, 0.02))
    sched = DSLScheduler(opt, text if spelling == "text" else {"lr": text})
    sched.load_state_dict(copy.deepcopy(OLD_STATE))
    assert sched.get_last_lr() == [0.05, 0.01] and sched.last_epoch == 6
    state = sched.state_dict()  # an lr-only plan writes the old layout, byte for byte, plus the contexts
    assert {k: v for k, v in state.items() if k != "contexts"} == OLD_STATE
    assert [c["clock"] for c in state["contexts"]] == ["steps", "steps"]  # what resume="prefix" recompiles in
    sched.step(1.0)  # a second stall: patience 1 exceeded, cut from step 7
    assert sched.get_last_lr() == [0.025, 0.005]


def test_a_plan_and_an_lr_only_state_do_not_mix():
    a = DSLScheduler(sgd(), "cosine(10)")
    b = DSLScheduler(sgd(), {"lr": "cosine(10)", "momentum": "const()"})
    with pytest.raises(lrdsl.LrdslError, match="lr alone") as info:
        b.load_state_dict(a.state_dict(), strict=False)
    assert info.value.code == "E0305"
    with pytest.raises(lrdsl.LrdslError, match="plan of several") as info:
        a.load_state_dict(b.state_dict(), strict=False)
    assert info.value.code == "E0305"
    c = DSLScheduler(sgd(), {"lr": "cosine(10)", "momentum": "linear(10, start=base, end=0.5)"})
    with pytest.raises(lrdsl.LrdslError, match="different plan"):
        c.load_state_dict(b.state_dict())
    c.load_state_dict(b.state_dict(), strict=False)  # same keys: resumes this plan at the saved step


# ---------------------------------------------------------------- untrusted plan states

DELETE = object()
PLAN_CASES = [
    ({("bases", 0, "momentum"): "0.9"}, "'bases'[0]['momentum']", "E0305"),
    ({("bases", 0, "momentum"): math.nan}, "'bases'[0]['momentum']", "E0401"),
    ({("bases", 1, "weight_decay"): True}, "'bases'[1]['weight_decay']", "E0305"),
    ({("bases", 0, "momentum"): DELETE}, "'bases'[0]", "E0305"),
    ({("bases", 0, "nesterov"): 1.0}, "'bases'[0]", "E0305"),
    ({("bases", 0, "lr"): 0.2}, "'base_lrs'[0]", "E0305"),
    ({("bases",): [{}]}, "'bases'", "E0305"),
    ({("bases", 1): [0.1]}, "'bases'[1]", "E0305"),
    ({("schedules", 0, "momentum"): 5}, "'schedules'[0]['momentum']", "E0305"),
    ({("schedules", 0, "momentum"): "const(0.5)"}, "different plan", "E0305"),
    ({("last_values", 1, "momentum"): None}, "'last_values'[1]['momentum']", "E0305"),
    ({("last_values", 0, "lr"): math.nan}, "'last_values'[0]['lr']", "E0401"),
    ({("last_values",): DELETE}, "'last_values'", "E0305"),
    ({("plateaus", 0, "momentum"): []}, "plateaus[0]['momentum']", "E0607"),
    ({("plateaus", 0, "momentum", 0, "best"): math.nan}, "plateaus[0]['momentum'][0].best", "E0401"),
    ({("plateaus", 1, "lr"): "x"}, "plateaus[1]['lr']", "E0305"),
    ({("format",): 1}, "'format'", "E0305"),
    ({("format",): 3}, "'format'", "E0305"),
    ({("last_epoch",): 2.5}, "'last_epoch'", "E0305"),
]


def tampered(state: dict, changes: dict) -> dict:
    state = copy.deepcopy(state)
    for path, value in changes.items():
        *parents, last = path
        target = state
        for key in parents:
            target = target[key]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return state


def trained_plan():  # type: ignore[no-untyped-def]
    opt = sgd_pair()
    plan = {"lr": "cosine(40)", "momentum": "plateau(patience=1, factor=0.5, min_lr=0.1)", "weight_decay": "const()"}
    sched = DSLScheduler(opt, plan)
    for _ in range(6):
        opt.step()
        sched.step(1.0)
    return sched, opt


@pytest.mark.parametrize(("changes", "word", "code"), PLAN_CASES, ids=[str(c[0]) for c in PLAN_CASES])
def test_a_tampered_plan_state_is_refused_and_changes_nothing(changes, word, code):
    sched, opt = trained_plan()
    assert sched.state_dict()["plateaus"][0]["momentum"][0]["cuts"]  # the momentum plateau did cut
    state = tampered(sched.state_dict(), changes)
    before = (copy.deepcopy(sched.state_dict()), hyper(opt), list(sched._schedules), list(sched._calls))
    with pytest.raises(lrdsl.LrdslError) as info:
        sched.load_state_dict(state)
    assert info.value.code == code and word in str(info.value), str(info.value)
    after = (sched.state_dict(), hyper(opt), list(sched._schedules), list(sched._calls))
    assert after[:2] == before[:2] and all(x is y for x, y in zip(after[2] + after[3], before[2] + before[3]))


# ---------------------------------------------------------------- keys


def test_an_unknown_key_names_the_groups_numeric_keys():
    with pytest.raises(lrdsl.LrdslError) as info:
        DSLScheduler(sgd(), {"lr": "cosine(10)", "momentun": "const()"})
    err = info.value
    assert err.code == "E0207" and "lr, momentum, dampening, weight_decay" in err.message
    assert "did you mean 'momentum'?" in err.hints
    cases = [
        (adam(), "betas[2]", "'betas' is a tuple of 2: its keys are 'betas[0]', 'betas[1]'"),
        (adam(), "betas", "its keys are 'betas[0]', 'betas[1]'"),
        (sgd(), "betas[0]", None),  # SGD has no betas
        (sgd(), "momentum[0]", "'momentum' is a number, not a tuple"),
        (sgd(), "params", "'params' holds the parameters"),
        (sgd(), "nesterov", "'nesterov' is False, not a number"),
        (adam(), "amsgrad", "'amsgrad' is False"),
    ]
    for opt, key, hint in cases:
        with pytest.raises(lrdsl.LrdslError) as info:
            DSLScheduler(opt, {key: "const()"})
        assert info.value.code == "E0207" and f"no numeric entry '{key}'" in info.value.message
        assert hint is None or any(hint in h for h in info.value.hints), info.value.hints
    with pytest.raises(lrdsl.LrdslError) as info:
        DSLScheduler(sgd(), {"momentum!": "const()"})
    assert info.value.code == "E0207"


def test_other_spellings_name_the_groups_entries_and_a_key_given_twice_is_an_error():
    opt = adam(weight_decay=0.01)
    sched = DSLScheduler(opt, {"learning_rate": "const(0.5 * base)", "beta_1": "const(0.5)", "wd": "const(0)"})
    g = opt.param_groups[0]
    assert (g["lr"], g["betas"], g["weight_decay"]) == (0.05, (0.5, 0.999), 0.0)
    assert sched.last_values == [{"lr": 0.05, "betas[0]": 0.5, "weight_decay": 0.0}]
    with pytest.raises(lrdsl.LrdslError) as info:
        DSLScheduler(adam(), {"betas[0]": "const()", "beta_1": "const()"})
    assert info.value.code == "E0303"


def test_each_key_is_checked_against_its_domain():
    for plan, key in [
        ({"momentum": "linear(10, start=0.9, end=1.2)"}, "momentum"),
        ({"lr": "cosine(10) - 0.01"}, "lr"),
        ({"weight_decay": "warmup(10) - 1e-4"}, "weight_decay"),
        ({"momentum": "const(2 * base)"}, "momentum"),  # base is the group's 0.9
    ]:
        with pytest.raises(lrdsl.LrdslError) as info:
            DSLScheduler(sgd(), plan)
        assert info.value.code == "E0404" and f"'{key}'" in info.value.message, info.value.message
    with pytest.raises(lrdsl.LrdslError) as info:
        DSLScheduler(adam(), {"betas[1]": "linear(10, start=base, end=1.5)"})
    assert info.value.code == "E0404" and info.value.key == "betas[1]"


def test_an_error_in_one_text_names_its_key():
    with pytest.raises(lrdsl.LrdslError) as info:
        DSLScheduler(sgd(), {"lr": "cosine(10)", "momentum": "cosin(10)"})
    assert info.value.key == "momentum" and "in the plan's 'momentum'" in str(info.value)


def test_tensor_entries_are_set_in_place_and_tuples_replaced():
    p = params(1)
    lr = torch.tensor(0.01)
    betas = (torch.tensor(0.9), torch.tensor(0.999))
    opt = torch.optim.Adam(p, lr=lr, betas=betas, capturable=True)
    sched = DSLScheduler(opt, {"lr": "linear(4, end=0)", "betas[0]": "linear(4, start=base, end=0.5)"})
    for _ in range(2):
        opt.step()
        sched.step()
    g = opt.param_groups[0]
    assert g["lr"] is lr and g["betas"][0] is betas[0] and float(lr) == pytest.approx(0.005)
    assert float(g["betas"][0]) == pytest.approx(0.7) and float(g["betas"][1]) == pytest.approx(0.999)
    assert g["initial_betas"] == pytest.approx((0.9, 0.999)) and all(type(x) is float for x in g["initial_betas"])
    sched.load_state_dict(sched.state_dict())
    assert g["betas"][0] is betas[0]
    # float betas: the tuple is replaced, keeping the other element
    opt = adam(betas=(0.9, 0.98))
    before = opt.param_groups[0]["betas"]
    DSLScheduler(opt, {"betas[1]": "const(0.5)"})
    after = opt.param_groups[0]["betas"]
    assert before == (0.9, 0.98) and after == (0.9, 0.5) and type(after) is tuple


def test_a_plan_without_lr_leaves_the_lr_to_another_scheduler():
    opt = sgd(weight_decay=1e-3)
    step_lr = L.StepLR(opt, step_size=3, gamma=0.5)
    ours = DSLScheduler(opt, {"weight_decay": "linear(10, start=base, end=0)"})
    lrs, wds = [], []
    for _ in range(7):
        opt.step()
        step_lr.step()
        ours.step()
        lrs.append(ours.get_last_lr()[0])
        wds.append(ours.get_last("weight_decay")[0])
    assert lrs == [0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]  # StepLR's, reported as the group has it
    assert wds == pytest.approx([1e-3 * (1 - k / 10) for k in range(1, 8)], rel=1e-12)
    assert ours.get_last("momentum") == [0.9]  # not scheduled: the group's own value
    assert ours.last_values == [{"lr": 0.025, "weight_decay": pytest.approx(3e-4, rel=1e-12)}]
    assert list(ours.plans[0]) == ["weight_decay"]
    with pytest.raises(lrdsl.LrdslError) as info:
        ours.schedules  # noqa: B018
    assert info.value.code == "E0207"
    with pytest.raises(lrdsl.LrdslError):
        ours.get_last("betas[0]")


def test_per_group_plans_mixed_with_texts_and_compiled_plans():
    opt = sgd_pair()
    compiled = compile_plan({"lr": "cosine(10)", "momentum": "linear(10, start=base, end=0.5)"})
    sched = DSLScheduler(opt, [compiled, "warmup(5)"])
    for _ in range(5):
        opt.step()
        sched.step()
    g0, g1 = opt.param_groups
    assert g0["lr"] == pytest.approx(0.05) and g0["momentum"] == pytest.approx(0.7)  # base 0.9 -> 0.5
    assert g1["lr"] == pytest.approx(0.02) and g1["momentum"] == 0.8  # the text: the lr only
    assert [list(p) for p in sched.plans] == [["lr", "momentum"], ["lr"]]
    assert sched.state_dict()["schedules"][1] == {"lr": "warmup(5)"}
    omegaconf = pytest.importorskip("omegaconf")
    cfg = omegaconf.OmegaConf.create({"plan": {"lr": "cosine(10)", "momentum": "const(0.5)"}})
    sched = DSLScheduler(sgd(), cfg.plan)
    assert sched.last_values == [{"lr": 0.1, "momentum": 0.5}]


def test_plateau_in_momentum_decides_like_reduce_lr_on_plateau():
    """The momentum's plateau against torch's ReduceLROnPlateau driving an lr that starts at 0.9."""
    rng = np.random.default_rng(3)
    metrics = np.concatenate([np.linspace(5, 1, 20), np.full(30, 1.0), 1 + 0.01 * rng.standard_normal(40)])
    ours_opt = sgd()
    ours = DSLScheduler(ours_opt, {"momentum": "plateau(patience=3, factor=0.5, min_lr=0.1)"})
    ref_opt = sgd((0.9,))
    ref = L.ReduceLROnPlateau(ref_opt, patience=3, factor=0.5, min_lr=0.1)
    seen = []
    for m in metrics:
        ours.step(float(m))
        ref.step(float(m))
        assert ours_opt.param_groups[0]["momentum"] == ref_opt.param_groups[0]["lr"]
        assert ours_opt.param_groups[0]["lr"] == 0.1
        seen.append(ours_opt.param_groups[0]["momentum"])
    assert min(seen) < 0.9


def test_the_lrscheduler_contract_holds_for_a_plan():
    opt = sgd()
    sched = DSLScheduler(opt, {"lr": "warmup(4) >> cosine(16)", "momentum": "const(0.5, steps=4) >> const()"})
    assert isinstance(sched, L.LRScheduler) and sched.last_epoch == 0 and sched._step_count == 1
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    ref = lrdsl.compile("warmup(4) >> cosine(16)", base_lr=0.1)
    for k in range(2, 20):
        opt.step()
        sched.step()
        assert sched.get_last_lr() == [ref(k)] == [opt.param_groups[0]["lr"]] and sched.last_epoch == k
        assert sched.get_last("momentum") == [0.5 if k < 4 else 0.9]
    assert sched.get_lr() == sched.get_last_lr() == sched._get_closed_form_lr()


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_plan_scheduler_copies_and_runs_on_identically(how):
    sched, opt = trained_plan()
    twin = copy.deepcopy(sched) if how == "deepcopy" else pickle.loads(pickle.dumps(sched))
    assert hyper(twin.optimizer) == hyper(opt) and twin.state_dict() == sched.state_dict()
    for m in [1.0, 0.5, 0.5, 0.5, 0.4, 0.4, 0.4]:
        opt.step(), twin.optimizer.step()
        sched.step(m), twin.step(m)
        assert hyper(twin.optimizer) == hyper(opt)


def test_a_plan_of_compiled_schedules_pickles():
    plan = {"lr": lrdsl.compile("cosine(10)"), "momentum": lrdsl.compile("linear(10, start=base, end=0.5)")}
    sched = DSLScheduler(sgd(), plan)
    twin = pickle.loads(pickle.dumps(sched))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):
            sched.step(), twin.step()
    assert twin.last_values == sched.last_values and sched.last_values[0]["momentum"] == pytest.approx(0.78)

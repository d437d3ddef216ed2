"""lrdsl.torch.DSLScheduler: the LRScheduler contract, param groups, closed
form, exact resume, plateau against torch's ReduceLROnPlateau, a training
loop, and two processes under torch.distributed (gloo)."""

from __future__ import annotations

import io

import numpy as np
import pytest

import lrdsl

torch = pytest.importorskip("torch")
from torch.optim import lr_scheduler as L  # noqa: E402

from lrdsl.torch import DSLScheduler  # noqa: E402

pytestmark = [pytest.mark.usefixtures("backend"), pytest.mark.filterwarnings("ignore:Detected call of")]

CARD = "warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)"


def optimizer(*lrs: float) -> torch.optim.Optimizer:
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)


def lrs_of(opt: torch.optim.Optimizer) -> list[float]:
    return [g["lr"] for g in opt.param_groups]


def run(sched, opt, n: int) -> list[list[float]]:  # type: ignore[no-untyped-def]
    out = [lrs_of(opt)]
    for _ in range(n - 1):
        opt.step()
        sched.step()
        out.append(lrs_of(opt))
    return out


# ---------------------------------------------------------------- conventions


def test_is_a_real_lrscheduler_with_torch_conventions():
    opt = optimizer(0.1)
    sched = DSLScheduler(opt, CARD, total_steps=100)
    assert isinstance(sched, L.LRScheduler)
    ref = lrdsl.compile(CARD, total_steps=100, base_lr=0.1)
    assert sched.last_epoch == 0 and lrs_of(opt) == [ref(0)] and sched.get_last_lr() == [ref(0)]
    for k in range(1, 150):
        opt.step()
        sched.step()
        assert sched.last_epoch == k
        assert lrs_of(opt) == [ref(k)] == sched.get_last_lr()


def test_base_is_each_groups_lr_and_numbers_stay_absolute():
    opt = optimizer(0.1, 0.01)
    sched = DSLScheduler(opt, "warmup(4) >> cosine(10, min=1e-4)")
    values = run(sched, opt, 20)
    assert values[4] == [0.1, 0.01]  # warmup reaches each group's own lr
    assert values[2] == [0.05, 0.005]
    assert values[14] == [1e-4, 1e-4]  # an absolute number is the same for every group
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.01]


def test_per_group_schedules():
    opt = optimizer(0.1, 0.5)
    sched = DSLScheduler(opt, ["const()", "linear(10, end=0)"])
    values = run(sched, opt, 6)
    assert [v[0] for v in values] == [0.1] * 6
    assert values[5][1] == pytest.approx(0.25)
    with pytest.raises(lrdsl.LrdslError):
        DSLScheduler(optimizer(0.1, 0.5), ["const()"])


def test_schedule_to_torch_and_compiled_schedules():
    s = lrdsl.compile("warmup(2) >> step(3, gamma=0.5)", base_lr=999.0)
    opt = optimizer(0.2)
    sched = s.to_torch(opt)
    assert isinstance(sched, DSLScheduler)
    assert [v[0] for v in run(sched, opt, 6)] == [0.0, 0.1, 0.2, 0.2, 0.2, 0.1]  # base is the group's lr


def test_closed_form_no_drift_over_many_steps():
    opt = optimizer(0.3)
    text = "exp(0.9995) >> const(0)"
    sched = DSLScheduler(opt, "exp(0.9995)")
    ref = lrdsl.compile("exp(0.9995)", base_lr=0.3)
    got = [v[0] for v in run(sched, opt, 20_000)]
    np.testing.assert_array_equal(got, [ref(k) for k in range(20_000)])
    assert text  # the recursive torch form drifts; lrdsl evaluates 0.3 * 0.9995**k every time
    assert got[-1] == 0.3 * 0.9995**19_999


@pytest.mark.parametrize(
    ("text", "make", "n"),
    [
        ("cosine(100, min=0.001)", lambda o: L.CosineAnnealingLR(o, 100, 0.001), 101),
        ("step(7, gamma=0.5)", lambda o: L.StepLR(o, 7, 0.5), 300),
        ("multistep([10, 25, 60], gamma=0.3)", lambda o: L.MultiStepLR(o, [10, 25, 60], 0.3), 100),
        (
            "one_cycle(300, max=0.5, pct_start=0.25)",
            lambda o: L.OneCycleLR(o, 0.5, total_steps=300, pct_start=0.25),
            300,
        ),
        ("cosine_restarts(10, t_mul=2, min=0.001)", lambda o: L.CosineAnnealingWarmRestarts(o, 10, 2, 0.001), 500),
    ],
)
def test_lockstep_with_the_torch_builtin(text, make, n):
    ours_opt, theirs_opt = optimizer(0.1), optimizer(0.1)
    ours = run(DSLScheduler(ours_opt, text), ours_opt, n)
    theirs = run(make(theirs_opt), theirs_opt, n)
    np.testing.assert_allclose(np.array(ours)[:, 0], np.array(theirs)[:, 0], rtol=1e-12, atol=1e-15 * 0.5)


def test_tensor_learning_rates_are_updated_in_place():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=torch.tensor(0.01))
    sched = DSLScheduler(opt, "linear(4, end=0)")
    opt.step()
    sched.step()
    lr = opt.param_groups[0]["lr"]
    assert isinstance(lr, torch.Tensor) and float(lr) == pytest.approx(0.0075)
    # resuming and feeding a metric keep the same tensor too
    sched.load_state_dict(sched.state_dict())
    sched.observe(1.0)
    assert opt.param_groups[0]["lr"] is lr and float(lr) == pytest.approx(0.0075)


# ---------------------------------------------------------------- checkpoints


def save_load(state: dict) -> dict:
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def test_state_dict_is_plain_and_loads_with_weights_only():
    opt = optimizer(0.1)
    sched = DSLScheduler(opt, CARD, total_steps=100)
    run(sched, opt, 17)
    state = sched.state_dict()
    assert state["last_epoch"] == 16 and state["schedules"] == [lrdsl.compile(CARD, total_steps=100).canonical]
    loaded = save_load(state)
    assert loaded == state


@pytest.mark.parametrize("text", [CARD, "warmup(3) >> one_cycle(20, max=0.5) >> cyclic(4, low=0.01, cycles=3)"])
def test_resume_is_bit_identical_at_every_step(text):
    n = 60
    opt = optimizer(0.1, 0.02)
    sched = DSLScheduler(opt, text, total_steps=40)
    straight = run(sched, opt, n)
    for k in range(n - 1):
        opt_a = optimizer(0.1, 0.02)
        a = DSLScheduler(opt_a, text, total_steps=40)
        run(a, opt_a, k + 1)  # now at step k
        state = save_load(a.state_dict())
        opt_b = optimizer(0.1, 0.02)
        b = DSLScheduler(opt_b, text, total_steps=40)
        b.load_state_dict(state)
        assert lrs_of(opt_b) == straight[k]
        rest = run(b, opt_b, n - k)
        assert rest == straight[k:], f"diverged after resuming at step {k}"


def test_loading_another_schedules_state_is_an_error_unless_asked():
    opt = optimizer(0.1)
    a = DSLScheduler(opt, "cosine(100)")
    run(a, opt, 10)
    b = DSLScheduler(optimizer(0.1), "cosine(200)")
    with pytest.raises(lrdsl.LrdslError, match="different schedule"):
        b.load_state_dict(a.state_dict())
    b.load_state_dict(a.state_dict(), strict=False)
    assert b.last_epoch == 9 and b.get_last_lr() == [lrdsl.compile("cosine(200)", base_lr=0.1)(9)]
    c = DSLScheduler(optimizer(0.1), "cosine(100)", total_steps=5)  # same text, another context
    with pytest.raises(lrdsl.LrdslError):
        c.load_state_dict(a.state_dict())


# ---------------------------------------------------------------- plateau


def plateau_pairs():  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)
    metrics = np.concatenate(
        [np.linspace(5, 1, 30), np.full(40, 1.0), 1 + 0.01 * rng.standard_normal(80), np.linspace(1, 0.2, 30)]
    )
    return [
        ("plateau()", {}, metrics),
        ("plateau(factor=0.5, patience=3)", {"factor": 0.5, "patience": 3}, metrics),
        ("plateau(patience=2, cooldown=4, min_lr=0.004)", {"patience": 2, "cooldown": 4, "min_lr": 0.004}, metrics),
        (
            "plateau(patience=1, threshold=0.05, threshold_mode=abs)",
            {"patience": 1, "threshold": 0.05, "threshold_mode": "abs"},
            metrics,
        ),
        ("plateau(mode=max, patience=2, factor=0.3)", {"mode": "max", "patience": 2, "factor": 0.3}, -metrics),
        (
            "plateau(mode=max, threshold_mode=abs, threshold=0.02, patience=0)",
            {"mode": "max", "threshold_mode": "abs", "threshold": 0.02, "patience": 0},
            -metrics,
        ),
        ("plateau(patience=0, factor=0.9, eps=0.005)", {"patience": 0, "factor": 0.9, "eps": 0.005}, metrics),
    ]


@pytest.mark.parametrize(("text", "kw", "metrics"), plateau_pairs(), ids=[p[0] for p in plateau_pairs()])
def test_plateau_matches_reduce_lr_on_plateau(text, kw, metrics):
    ours_opt, theirs_opt = optimizer(0.1, 0.03), optimizer(0.1, 0.03)
    ours = DSLScheduler(ours_opt, text)
    theirs = L.ReduceLROnPlateau(theirs_opt, **kw)
    assert lrs_of(ours_opt) == lrs_of(theirs_opt)
    for m in metrics:
        ours.step(float(m))
        theirs.step(float(m))
        assert lrs_of(ours_opt) == lrs_of(theirs_opt)
    assert lrs_of(ours_opt)[0] < 0.1  # the sequence does trigger cuts


def test_warmup_then_plateau_in_one_scheduler_with_a_mid_plateau_checkpoint():
    metrics = [9, 8, 7, 6, 5, 5, 5, 5, 5, 4.9, 4.9, 4.9, 4.9, 4.9, 4.9, 4.9]
    opt = optimizer(0.2)
    sched = DSLScheduler(opt, "warmup(4) >> plateau(patience=2, factor=0.5)")
    seen = [lrs_of(opt)[0]]
    for i, m in enumerate(metrics):
        sched.step(m)
        seen.append(lrs_of(opt)[0])
        if i == 8:
            state = save_load(sched.state_dict())
    # warmup 0, .05, .1, .15 then the plateau at base 0.2; reports from the warmup
    # steps do not count; 5 stalls from step 5's report on, 4.9 is within the
    # 1e-4 relative threshold of 5 and so also a stall.
    assert seen[:5] == pytest.approx([0.0, 0.05, 0.1, 0.15, 0.2], rel=1e-15)
    assert seen[-1] < 0.2 and seen[-1] >= 0.2 * 0.5**3
    opt2 = optimizer(0.2)
    resumed = DSLScheduler(opt2, "warmup(4) >> plateau(patience=2, factor=0.5)")
    resumed.load_state_dict(state)
    after = []
    for m in metrics[9:]:
        resumed.step(m)
        after.append(lrs_of(opt2)[0])
    assert after == seen[10:]


def test_plateau_inside_a_chain_and_observe_without_stepping():
    opt = optimizer(1.0)
    sched = DSLScheduler(opt, "plateau(patience=0, factor=0.5, steps=10) >> const(0.01)")
    sched.step(1.0)  # best
    sched.step(2.0)  # worse: cut from step 2
    assert lrs_of(opt) == [0.5]
    sched.observe(3.0)  # another stall reported at step 2: cut again, from step 2
    assert lrs_of(opt) == [0.25]
    for _ in range(10):
        sched.step()
    assert lrs_of(opt) == [0.01]


def test_plateau_cannot_be_repeated():
    with pytest.raises(lrdsl.CompositionError) as info:
        lrdsl.compile("repeat(plateau(steps=5), 3)")
    assert info.value.code == "E0607"


def test_eval_metrics_file_reproduces_the_scheduler(tmp_path, capsys):
    from lrdsl.tools.cli import main

    metrics = [5, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3]
    path = tmp_path / "metrics.txt"
    path.write_text("\n".join(map(str, metrics)) + "\n")
    text = "warmup(2) >> plateau(patience=1, factor=0.5)"
    assert main(["eval", text, "--steps", "13", "--format", "csv", "--metrics", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    opt = optimizer(1.0)
    sched = DSLScheduler(opt, text)
    expected = [lrs_of(opt)[0]]
    for m in metrics:
        sched.step(m)
        expected.append(lrs_of(opt)[0])
    assert [float(line.split(",")[1]) for line in lines] == expected
    assert main(["eval", text, "--steps", "5"]) == 2


# ---------------------------------------------------------------- use in training


def test_a_training_loop_uses_the_scheduled_lr():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    sched = DSLScheduler(opt, "warmup(3) >> cosine(17)")
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    expected = lrdsl.compile("warmup(3) >> cosine(17)", base_lr=0.05)
    for k in range(20):
        before = model.weight.detach().clone()
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        grad = model.weight.grad.detach().clone()
        opt.step()
        # plain SGD: the update is exactly -lr * grad with this step's lr
        torch.testing.assert_close(model.weight.detach(), before - expected(k) * grad)
        sched.step()


def test_lightning_style_dict_carries_the_scheduler():
    opt = optimizer(0.1)
    config = {"optimizer": opt, "lr_scheduler": {"scheduler": DSLScheduler(opt, "cosine(10)"), "interval": "step"}}
    assert isinstance(config["lr_scheduler"]["scheduler"], L.LRScheduler)

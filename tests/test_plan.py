"""Plans (one schedule per hyperparameter) and the momentum mirror spellings.

The mirror texts are checked against torch's own OneCycleLR and CyclicLR, which
cycle momentum (or Adam's beta1) inversely to the lr when cycle_momentum=True.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import lrdsl
from lrdsl.plan import canonical_key, domain_of

torch = pytest.importorskip("torch")


def _torch_run(make, opt_cls, steps, **opt_kw):
    """Every step's (lr, momentum or beta1) of a torch scheduler, as torch sets them."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = opt_cls([p], lr=0.1, **opt_kw)
    sched = make(opt)
    key = "betas" if "betas" in opt.defaults else "momentum"
    lrs, moms = [], []
    for _ in range(steps):
        g = opt.param_groups[0]
        lrs.append(g["lr"])
        moms.append(g[key][0] if key == "betas" else g[key])
        opt.step()
        sched.step()
    return np.array(lrs), np.array(moms)


def _close(got, want, rel=1e-12):
    np.testing.assert_allclose(got, want, rtol=rel, atol=1e-15)


ONE_CYCLE = [
    dict(three_phase=False, anneal_strategy="cos", pct_start=0.3),
    dict(three_phase=True, anneal_strategy="cos", pct_start=0.25),
    dict(three_phase=False, anneal_strategy="linear", pct_start=0.4),
    dict(three_phase=True, anneal_strategy="linear", pct_start=0.3),
]


@pytest.mark.parametrize("kw", ONE_CYCLE)
@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_one_cycle_momentum_mirror_matches_torch(kw, opt):
    n = 317
    opt_cls, opt_kw = (torch.optim.SGD, {"momentum": 0.9}) if opt == "sgd" else (torch.optim.Adam, {})
    lrs, moms = _torch_run(
        lambda o: torch.optim.lr_scheduler.OneCycleLR(
            o, max_lr=0.1, total_steps=n, base_momentum=0.8, max_momentum=0.97, **kw
        ),
        opt_cls,
        n,
        **opt_kw,
    )
    anneal = "cos" if kw["anneal_strategy"] == "cos" else "linear"
    three = "true" if kw["three_phase"] else "false"
    common = f"pct_start={kw['pct_start']}, anneal={anneal}, three_phase={three}"
    plan = lrdsl.compile_plan(
        {
            "lr": f"one_cycle({n}, max=0.1, {common})",
            "betas[0]" if opt == "adam" else "momentum": f"one_cycle({n}, start=0.97, peak=0.8, end=0.97, {common})",
        }
    )
    got = plan.values(np.arange(n))
    _close(got["lr"], lrs)
    _close(got["betas[0]" if opt == "adam" else "momentum"], moms)


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclic_momentum_mirror_matches_torch(mode):
    up, down, n = 7, 5, 80
    gamma = 0.97
    lrs, moms = _torch_run(
        lambda o: torch.optim.lr_scheduler.CyclicLR(
            o,
            base_lr=0.01,
            max_lr=0.1,
            step_size_up=up,
            step_size_down=down,
            mode=mode,
            gamma=gamma,
            base_momentum=0.8,
            max_momentum=0.9,
        ),
        torch.optim.SGD,
        n,
        momentum=0.9,
    )
    plan = lrdsl.compile_plan(
        {
            "lr": f"cyclic({up}, low=0.01, high=0.1, down={down}, mode={mode}, gamma={gamma})",
            "momentum": f"cyclic({up}, start=0.9, peak=0.8, down={down}, mode={mode}, gamma={gamma})",
        }
    )
    got = plan.values(np.arange(n))
    _close(got["lr"], lrs)
    _close(got["momentum"], moms)


def test_one_cycle_value_keywords_by_hand():
    s = lrdsl.compile("one_cycle(10, start=0.9, peak=0.5, end=0.7, pct_start=0.5, anneal=linear)")
    # phase 1 ends at step 4 (0.5*10 - 1), phase 2 at step 9
    assert s(0) == 0.9
    assert s(4) == 0.5
    assert s(9) == pytest.approx(0.7, rel=1e-15)
    assert s(2) == pytest.approx(0.9 + (0.5 - 0.9) * 2 / 4, rel=1e-15)
    assert lrdsl.compile("one_cycle(10, max=2, start=1, end=0)")(0) == 1.0
    with pytest.raises(lrdsl.LrdslError) as e:
        lrdsl.compile("one_cycle(10, start=1, div=3)")
    assert e.value.code == "E0307"
    with pytest.raises(lrdsl.LrdslError) as e:
        lrdsl.compile("one_cycle(10, max=1, peak=2)")
    assert e.value.code == "E0303"


def test_plan_api():
    plan = lrdsl.compile_plan(
        {"lr": "linear(10, start=0.1, end=0)", "momentum": "linear(10, start=base, end=0.5)", "wd": "const(1e-4)"},
        bases={"momentum": 0.9},
    )
    assert list(plan) == ["lr", "momentum", "wd"] and len(plan) == 3
    assert plan(5) == {"lr": 0.05, "momentum": 0.7, "wd": 1e-4}
    vals = plan.values([0, 10])
    assert vals["momentum"].tolist() == [0.9, 0.5]
    assert plan.bases == {"lr": 1.0, "momentum": 0.9, "wd": 1.0}
    assert plan["weight_decay"] is plan["wd"]  # another spelling of the key
    assert "weight_decay" in plan and "betas[0]" not in plan
    assert plan.phases["momentum"][0].lo == pytest.approx(0.54)  # step 9; 0.5 is held from step 10
    again = pickle.loads(pickle.dumps(plan))
    assert again == plan and again(3) == plan(3)
    assert lrdsl.compile_plan(plan.canonical, bases=plan.bases) == plan


@pytest.mark.parametrize(
    ("plan", "code", "words"),
    [
        ({"momentum": "linear(10, start=1.2, end=0.9)"}, "E0404", "'momentum' must stay in [0, 1]"),
        ({"betas[1]": "const(1.5)"}, "E0404", "'betas[1]'"),
        (
            {"momentum": "linear(10, start=0.9, end=0.95) >> linear(1, start=0.95, end=1.5)"},
            "E0404",
            "1.5 from step 11",
        ),
        ({"beta_2": "const(1.5)"}, "E0404", "'beta_2'"),
        ({"momentum": "linar(10)"}, "E0201", "in the plan's 'momentum'"),
        ({"lr": "const(1)", "learning_rate": "const(2)"}, "E0303", "twice"),
        ({"bad key": "const(1)"}, "E0207", "hyperparameter name"),
        ({"lr": 3}, "E0305", "schedule text"),
        ({}, "E0305", "at least one"),
    ],
)
def test_plan_errors(plan, code, words):
    with pytest.raises(lrdsl.LrdslError) as e:
        lrdsl.compile_plan(plan)
    assert e.value.code == code
    assert words in str(e.value)


def test_plan_placeholders_and_bases_checked():
    plan = lrdsl.compile_plan({"lr": "cosine(10, peak=$peak)", "momentum": "const(0.9)"}, peak=0.3)
    assert plan["lr"](0) == 0.3
    with pytest.raises(lrdsl.LrdslError) as e:
        lrdsl.compile_plan({"lr": "cosine(10)"}, peek=0.3)
    assert e.value.code == "E0205"
    with pytest.raises(lrdsl.LrdslError) as e:
        lrdsl.compile_plan({"lr": "cosine(10)"}, bases={"momentum": 0.9})
    assert e.value.code == "E0207"
    with pytest.raises(lrdsl.LrdslError):
        lrdsl.compile_plan("cosine(10)")  # type: ignore[arg-type]


def test_the_context_is_lrdsl_compiles_and_goes_to_every_text():
    """compile_plan passes lrdsl.compile's own keywords (the reserved names) to
    each text and keeps the rest as placeholders."""
    import inspect

    from lrdsl.language.check_placeholders import RESERVED_PLACEHOLDERS

    params = inspect.signature(lrdsl.compile).parameters.values()
    assert {p.name for p in params if p.kind is p.KEYWORD_ONLY} == RESERVED_PLACEHOLDERS
    context = dict(clock="tokens", tokens_per_step=1000, total_tokens=100_000, steps_per_epoch=10)
    texts = {"lr": "warmup(1ep) >> cosine(50%, min=$low)", "momentum": "linear(100%, start=0.95, end=0.85)"}
    plan = lrdsl.compile_plan(texts, low=1e-3, **context)
    tokens = np.arange(0, 100_000, 997)
    lr = lrdsl.compile(texts["lr"], low=1e-3, **context)
    momentum = lrdsl.compile(texts["momentum"], **context)
    assert plan["lr"].values(tokens).tolist() == lr.values(tokens).tolist()
    assert plan["momentum"].values(tokens).tolist() == momentum.values(tokens).tolist()
    assert plan["lr"].clock == "tokens" and plan["momentum"](50_000) == pytest.approx(0.9, rel=1e-15)


def test_domains_by_key():
    assert domain_of("lr") == (0.0, math.inf)
    assert domain_of("b1") == (0.0, 1.0) == domain_of("betas[0]")
    assert domain_of("ema_momentum") == (0.0, 1.0)
    assert domain_of("label_smoothing") == (-math.inf, math.inf)
    assert canonical_key("learning_rate") == "lr"
    # a value that overflows to inf is not finite: refused for any key
    with pytest.raises(lrdsl.LrdslError) as e:
        lrdsl.compile_plan({"temperature": "exp(1e300, steps=5) >> const(1)"})
    assert e.value.code == "E0404"
    assert lrdsl.compile_plan({"momentum": "cosine(10, peak=1, min=0)"}, check_domains=True)["momentum"](0) == 1.0

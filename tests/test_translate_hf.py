"""``from_hf`` against the installed transformers, value for value.

Every ``SchedulerType`` of the installed transformers is built the way the HF
Trainer builds it, ``transformers.get_scheduler(name, optimizer,
num_warmup_steps, num_training_steps, scheduler_specific_kwargs=kw)`` on a torch
SGD optimizer, and stepped; step ``k``'s lr is the group's lr after ``k`` calls
of ``step()`` (HF's lambdas through torch's ``LambdaLR``).  The text
``from_hf`` writes is compiled with ``base_lr`` = the optimizer's lr and
compared at every step of a run past ``num_training_steps`` (every boundary:
the warm-up's last step, the stable phase's ends, the decay's last step and
the one after), ``rtol=1e-12`` with an absolute floor of ``1e-15 * lr`` (HF
computes ``1 + cos`` and ``1 - sqrt``, which cancel near a decay's end).  Both
evaluators (``backend``).  ``warmup_stable_decay`` runs over every
``warmup_type x decay_type x min_lr_ratio x num_cycles``, with
``num_stable_steps`` and with ``num_training_steps``.
"""

from __future__ import annotations

import itertools
import warnings
from functools import cache

import numpy as np
import pytest
from parity import assert_parity

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import lrdsl  # noqa: E402
from lrdsl.translate import from_hf  # noqa: E402
from lrdsl.translate._hf import HF_SCHEDULER_TYPES  # noqa: E402

pytestmark = pytest.mark.usefixtures("backend")

LR = 3e-4


def hf_values(name: str, w: int | None, total: int | None, kw: tuple, n: int, lr: float = LR) -> np.ndarray:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step() before optimizer.step(); WSD given both lengths
        sched = transformers.get_scheduler(
            name, opt, num_warmup_steps=w, num_training_steps=total, scheduler_specific_kwargs=dict(kw)
        )
        out = np.empty(n)
        out[0] = opt.param_groups[0]["lr"]
        for k in range(1, n):
            sched.step()
            out[k] = opt.param_groups[0]["lr"]
    return out


@cache
def reference(name: str, w: int | None, total: int | None, kw: tuple, n: int) -> np.ndarray:
    return hf_values(name, w, total, kw, n)


def check(name: str, w: int | None, total: int | None, kw: tuple, n: int, expect: str | None = None) -> str:
    text = from_hf(name, w or 0, total, **dict(kw))
    if expect is not None:
        assert text == expect
    sched = lrdsl.compile(text, base_lr=LR)
    assert str(sched) == text, "translations come out in canonical form"
    got = sched.values(np.arange(n))
    assert_parity(got, reference(name, w, total, kw, n), None, LR, f"{name} {kw}: {text}")
    return text


def test_every_scheduler_type_is_known() -> None:
    assert set(HF_SCHEDULER_TYPES) == {t.value for t in transformers.SchedulerType}


# ---------------------------------------------------------------- warmup_stable_decay

W, S, D = 100, 300, 600  # D: whole half-periods for num_cycles 0.5, 1 and 1.5
WSD_GRID = list(
    itertools.product(("linear", "cosine", "1-sqrt"), ("linear", "cosine", "1-sqrt"), (0, 0.1), (0.5, 1.0, 1.5))
)


@pytest.mark.parametrize("given", ["num_stable_steps", "num_training_steps"])
@pytest.mark.parametrize(("warmup_type", "decay_type", "ratio", "cycles"), WSD_GRID)
def test_wsd_grid(given: str, warmup_type: str, decay_type: str, ratio: float, cycles: float) -> None:
    kw = {
        "num_decay_steps": D,
        "warmup_type": warmup_type,
        "decay_type": decay_type,
        "min_lr_ratio": ratio,
        "num_cycles": cycles,
    }
    total = None
    if given == "num_stable_steps":
        kw["num_stable_steps"] = S
    else:
        total = W + S + D
    check("warmup_stable_decay", W, total, tuple(sorted(kw.items())), W + S + D + 50)


@pytest.mark.parametrize(
    ("w", "total", "kw"),
    [
        (0, None, {"num_stable_steps": 50, "num_decay_steps": 70, "decay_type": "1-sqrt"}),  # no warm-up
        (40, None, {"num_stable_steps": 0, "num_decay_steps": 70, "warmup_type": "1-sqrt", "min_lr_ratio": 0.2}),
        (40, None, {"num_stable_steps": 30, "num_decay_steps": 0, "min_lr_ratio": 0.3}),  # no decay: r after it
        (40, 500, {"num_stable_steps": 30, "num_decay_steps": 70, "decay_type": "1-sqrt"}),  # both: stable wins
        (40, 140, {"num_decay_steps": 100, "warmup_type": "cosine", "decay_type": "1-sqrt"}),  # stable 0
        (1, None, {"num_stable_steps": 1, "num_decay_steps": 1, "decay_type": "1-sqrt", "min_lr_ratio": 0.5}),
        (40, None, {"num_stable_steps": 30, "num_decay_steps": 70, "min_lr_ratio": 1.0, "decay_type": "1-sqrt"}),
    ],
)
def test_wsd_edges(w: int, total: int | None, kw: dict) -> None:
    check("warmup_stable_decay", w, total, tuple(sorted(kw.items())), 400)


def test_wsd_text_reads_as_the_idiom() -> None:
    text = from_hf(
        "warmup_stable_decay",
        200,
        2000,
        num_decay_steps=400,
        warmup_type="1-sqrt",
        decay_type="1-sqrt",
        min_lr_ratio=0.1,
    )
    assert text == (
        "warmup(200, start=0.1 * base, end=base, shape=sqrt) >> hold(1400) >> cooldown(400, shape=sqrt, end=0.1 * base)"
    )


# ---------------------------------------------------------------- the min-lr cosines


@pytest.mark.parametrize("name", ["cosine_with_min_lr", "cosine_warmup_with_min_lr"])
@pytest.mark.parametrize("w", [2, 3, 100])
@pytest.mark.parametrize(
    "kw",
    [
        {"min_lr_rate": 0.05},
        {"min_lr_rate": 0.0, "num_cycles": 1.0},
        {"min_lr": 1e-5},
        {"min_lr": 3e-5, "num_cycles": 1.5},
        {"min_lr_rate": 0.1, "warmup_lr_rate": 0.2},
        {"min_lr_rate": 0.1, "warmup_lr_rate": 0.0, "num_cycles": 1.5},
    ],
    ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()),
)
def test_min_lr_cosines(name: str, w: int, kw: dict) -> None:
    if name == "cosine_with_min_lr" and "warmup_lr_rate" in kw:
        pytest.skip("warmup_lr_rate is cosine_warmup_with_min_lr's")
    total = w + 900  # half-periods 900, 450, 300: whole steps
    check(name, w, total, tuple(sorted(kw.items())), total + 1000)  # on past the end: HF's cosine climbs back


def test_cosine_warmup_with_min_lr_offset_is_a_shorter_warmup() -> None:
    text = check("cosine_warmup_with_min_lr", 100, 1000, (("min_lr_rate", 0.1),), 1001)
    assert text.startswith("warmup(99, start=0.01 * base) >> ")
    # one warm-up step: (0 + 1)/1 = 1 at step 0, the cosine from its peak there
    check("cosine_warmup_with_min_lr", 1, 901, (("min_lr_rate", 0.1),), 2000)
    check("cosine_warmup_with_min_lr", 1, 901, (("min_lr_rate", 0.1), ("warmup_lr_rate", 1.0)), 2000)


@pytest.mark.parametrize(
    ("w", "kw"),
    [(0, {"min_lr_rate": 0.1}), (1, {"min_lr_rate": 0.1, "warmup_lr_rate": 0.5})],
)
def test_cosine_warmup_with_min_lr_past_its_peak_is_refused(w: int, kw: dict) -> None:
    values = hf_values("cosine_warmup_with_min_lr", w, 1000, tuple(kw.items()), 3)
    assert values[w] < LR  # HF's cosine really starts one step into its descent
    with pytest.raises(lrdsl.UnsupportedError) as info:
        from_hf("cosine_warmup_with_min_lr", w, 1000, **kw)
    assert info.value.code == "E0801" and "one step" in info.value.message


# ---------------------------------------------------------------- the other types


@pytest.mark.parametrize(
    ("name", "w", "total", "kw", "n"),
    [
        ("linear", 500, 9000, (), 9500),
        ("linear", 0, 777, (), 900),
        ("linear", 300, 200, (), 600),
        ("cosine", 500, 8000, (), 16000),
        ("cosine", 37, 3037, (("num_cycles", 1.5),), 4000),
        ("cosine_with_restarts", 37, 937 * 3 + 37, (("num_cycles", 3),), 3000),
        ("cosine_with_restarts", 10, 4010, (("num_cycles", 2.5),), 4100),
        ("polynomial", 250, 7250, (("lr_end", 1e-6), ("power", 2.0)), 7400),
        ("polynomial", 0, 900, (), 1000),
        ("constant", None, None, (), 300),
        ("constant_with_warmup", 77, None, (), 300),
        ("inverse_sqrt", 400, None, (), 3000),
        ("inverse_sqrt", 37, None, (("timescale", 777),), 3000),
        ("inverse_sqrt", 0, None, (), 3000),
    ],
)
def test_other_types(name: str, w: int | None, total: int | None, kw: tuple, n: int) -> None:
    check(name, w, total, kw, n)


def test_reduce_lr_on_plateau_decides_as_hf_does() -> None:
    from lrdsl.torch import DSLScheduler

    kw = {"mode": "max", "factor": 0.5, "patience": 2, "threshold": 0.01, "cooldown": 1, "min_lr": 1e-5}
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    theirs = transformers.get_scheduler("reduce_lr_on_plateau", opt, scheduler_specific_kwargs=kw)
    text = from_hf("reduce_lr_on_plateau", **kw)
    assert text == "plateau(mode=max, factor=0.5, patience=2, threshold=0.01, cooldown=1, min_lr=1e-05)"
    ours_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    ours = DSLScheduler(ours_opt, text)
    rng = np.random.default_rng(7)
    metrics = np.concatenate([np.linspace(0, 1, 10), np.ones(20), 1 + 0.001 * rng.standard_normal(40)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in metrics:
            theirs.step(float(m))
            ours.step(float(m))
            assert ours_opt.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert opt.param_groups[0]["lr"] < LR / 4  # it did cut, several times


def test_greedy_is_refused_by_name() -> None:
    with pytest.raises(lrdsl.UnsupportedError) as info:
        from_hf("greedy", factor=0.9, patience=5)
    assert info.value.code == "E0801" and "GreedyLR" in info.value.message
    with pytest.raises(lrdsl.ArgumentError) as arg:
        from_hf("greedy", patiense=5)
    assert arg.value.code == "E0202" and "did you mean 'patience'?" in arg.value.hints

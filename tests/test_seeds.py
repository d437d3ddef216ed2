"""The seeds' schedules (the blog posts under shared/seeds), written in lrdsl.

Expected values come from the seed code itself, reimplemented verbatim below
as plain Python (numpy where the seed uses numpy), from hand derivations, and
for the card example from Keras's CosineDecayRestarts in float64.  Nothing
expected is computed with lrdsl.

Tolerance: ``rtol=1e-12`` with an absolute floor of ``1e-15 * peak``.  Every
test runs on both evaluators (the ``backend`` fixture in conftest.py).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from parity import assert_parity

import lrdsl


def scalar_values(sched: lrdsl.Schedule, steps) -> np.ndarray:
    return np.array([sched(int(k)) for k in steps], dtype=np.float64)


# ---------------------------------------------------------------- 000: snapshot-ensemble cosine callback


class SeedCosineAnnealingLearningRateSchedule:
    """Seed 000's Keras callback, minus Keras: on_epoch_begin returns the lr it
    would set (the seed calls backend.set_value(self.model.optimizer.lr, lr))."""

    def __init__(self, n_epochs, n_cycles, lrate_max, min_lr, verbose=0):
        self.epochs = n_epochs
        self.cycles = n_cycles
        self.lr_max = lrate_max
        self.min_lr = min_lr
        self.lrates = list()

    def cosine_annealing(self, epoch, n_epochs, n_cycles, lrate_max):
        epochs_per_cycle = math.floor(n_epochs / n_cycles)
        cos_inner = (math.pi * (epoch % epochs_per_cycle)) / (epochs_per_cycle)
        return lrate_max / 2 * (math.cos(cos_inner) + 1)

    def on_epoch_begin(self, epoch, logs=None):
        if epoch < 101:
            lr = self.cosine_annealing(epoch, self.epochs, self.cycles, self.lr_max)
        else:
            lr = self.min_lr
        self.lrates.append(lr)
        return lr


SNAPSHOT = "repeat(cosine(20, peak=1e-3), 5) >> const(1e-6)"


def test_snapshot_ensemble_cosine_callback(backend: str) -> None:
    seed = SeedCosineAnnealingLearningRateSchedule(n_epochs=100, n_cycles=5, lrate_max=1e-3, min_lr=1e-6)
    epochs = np.arange(0, 1001)
    expected = np.array([seed.on_epoch_begin(int(e)) for e in epochs])
    sched = lrdsl.compile(SNAPSHOT)
    got = sched.values(epochs)
    # Keras passes 0-based epochs to on_epoch_begin.  The seed's `epoch < 101` keeps
    # the cosine one epoch too long: at epoch 100 (the 101st epoch, past the 5 cycles
    # of 20) it restarts a sixth cycle at lrate_max before min_lr takes over at 101.
    # lrdsl's chain switches to const(1e-6) right after the 5 cycles, at epoch 100.
    assert expected[100] == 1e-3
    assert sched(100) == 1e-6
    assert got[100] == 1e-6
    for part, sl in (("epochs 0-99", slice(0, 100)), ("epochs 101-1000", slice(101, None))):
        assert_parity(got[sl], expected[sl], epochs[sl], 1e-3, f"{SNAPSHOT}, {part}")
        assert_parity(scalar_values(sched, epochs[sl]), expected[sl], epochs[sl], 1e-3, f"{SNAPSHOT} scalar, {part}")
    # the cycle shape, derived by hand: peak at each restart, half way down at epoch 10 of 20
    for e in (0, 20, 40, 60, 80):
        assert sched(e) == pytest.approx(1e-3, rel=1e-15)
        assert sched(e + 10) == pytest.approx(0.5e-3, rel=1e-12)


# ---------------------------------------------------------------- 001/004: step decay


def seed_step_decay(epoch):
    """Seed 001's LearningRateScheduler function."""
    start = 0.1
    drop = 0.5
    epochs_drop = 5.0
    lr = start * (drop ** np.floor((epoch) / epochs_drop))
    return lr


def seed004_step_decay(epoch, initial_lr=0.1, drop_rate=0.5, step_size=10):
    return initial_lr * (drop_rate ** np.floor(epoch / step_size))


@pytest.mark.parametrize(
    ("expr", "base_lr", "seed"),
    [
        ("step(5, gamma=0.5)", 0.1, seed_step_decay),
        ("0.1 * step(5, gamma=0.5)", 1.0, seed_step_decay),
        ("step(10, gamma=0.5)", 0.1, seed004_step_decay),
        ("0.1 * step(10, gamma=0.5)", None, seed004_step_decay),
    ],
    ids=["step5-base0.1", "step5-scaled-base1", "seed004-step10-base0.1", "seed004-step10-scaled-default-base"],
)
def test_step_decay(expr: str, base_lr: float | None, seed, backend: str) -> None:
    epochs = np.arange(0, 1001)
    expected = np.array([float(seed(int(e))) for e in epochs])
    sched = lrdsl.compile(expr, base_lr=base_lr)
    assert_parity(sched.values(epochs), expected, epochs, 0.1, expr)
    edges = [e for e in range(0, 1001) if e % 5 in (0, 4)]
    assert_parity(scalar_values(sched, edges), expected[edges], np.array(edges), 0.1, f"{expr} scalar")


# ---------------------------------------------------------------- the card example


CARD = "warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)"


def card_by_hand(t: int, base: float = 1e-3) -> float:
    """100 total steps: warm-up over 0-4 to the restart peak, SGDR over 5-99 (cycles of
    10, 20, 40, 80 steps starting at steps 5, 15, 35, 75; the last is cut at 100), then 1e-6."""
    if t < 5:
        return base * t / 5
    if t >= 100:
        return 1e-6
    for i, (start, length) in enumerate(((5, 10), (15, 20), (35, 40), (75, 80))):
        if start <= t < start + length:
            x = (t - start) / length
            return base * 0.9**i * (1 + math.cos(math.pi * x)) / 2
    raise AssertionError(t)


def test_card_example_by_hand(backend: str) -> None:
    sched = lrdsl.compile(CARD, base_lr=1e-3, total_steps=100)
    steps = np.arange(0, 2001)
    expected = np.array([card_by_hand(int(t)) for t in steps])
    assert_parity(sched.values(steps), expected, steps, 1e-3, CARD)
    assert_parity(scalar_values(sched, steps[:120]), expected[:120], steps[:120], 1e-3, f"{CARD} scalar")
    # the warmup reaches the restart peak exactly where SGDR begins
    assert sched(4) == pytest.approx(0.8e-3, rel=1e-15)
    assert sched(5) == 1e-3
    for t, i in ((15, 1), (35, 2), (75, 3)):
        assert sched(t) == pytest.approx(1e-3 * 0.9**i, rel=1e-15)
    assert sched(99) == pytest.approx(1e-3 * 0.9**3 * (1 + math.cos(math.pi * 24 / 80)) / 2, rel=1e-12)
    assert sched(100) == 1e-6


def test_card_example_against_keras_restarts(backend: str) -> None:
    """Steps 5-99 are Keras's CosineDecayRestarts(1e-3, 10, t_mul=2, m_mul=0.9) at step - 5."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    keras = pytest.importorskip("keras")
    sgdr = keras.optimizers.schedules.CosineDecayRestarts(
        np.float64(1e-3), 10, t_mul=np.float64(2.0), m_mul=np.float64(0.9), alpha=np.float64(0.0)
    )
    steps = np.arange(5, 100)
    expected = keras.ops.convert_to_numpy(sgdr(keras.ops.convert_to_tensor((steps - 5).astype(np.int64))))
    assert expected.dtype == np.float64
    one_by_one = np.array([float(keras.ops.convert_to_numpy(sgdr(np.int64(t - 5)))) for t in steps])
    sched = lrdsl.compile(CARD, base_lr=1e-3, total_steps=100)
    assert_parity(sched.values(steps), expected, steps, 1e-3, f"{CARD} vs Keras (batched)")
    assert_parity(scalar_values(sched, steps), one_by_one, steps, 1e-3, f"{CARD} scalar vs Keras (one step a call)")


# ---------------------------------------------------------------- 003: the CLR paper's update rule


def clr_paper(iterations: np.ndarray, stepsize: int, base_lr: float, max_lr: float, mode="triangular", gamma=1.0):
    """The CLR paper's update rule (Smith 2017, as in bckenstler/CLR):
    cycle = floor(1 + it/(2*stepsize)); x = abs(it/stepsize - 2*cycle + 1);
    lr = base_lr + (max_lr - base_lr) * max(0, 1 - x) * scale, with scale 1
    (triangular), 1/2**(cycle-1) (triangular2) or gamma**it (exp_range: the
    paper's gamma^iteration; seed 003's prose says gamma^cycle, the paper and
    its reference code use iterations)."""
    it = iterations.astype(np.float64)
    cycle = np.floor(1 + it / (2 * stepsize))
    x = np.abs(it / stepsize - 2 * cycle + 1)
    if mode == "triangular":
        scale = 1.0
    elif mode == "triangular2":
        scale = 1 / (2.0 ** (cycle - 1))
    else:
        scale = gamma**it
    return base_lr + (max_lr - base_lr) * np.maximum(0, (1 - x)) * scale


@pytest.mark.parametrize(
    ("expr", "mode", "gamma"),
    [
        ("cyclic(2000, low=1e-4, high=1e-2)", "triangular", 1.0),
        ("cyclic(2000, low=1e-4, high=1e-2, mode=triangular2)", "triangular2", 1.0),
        ("cyclic(2000, low=1e-4, high=1e-2, mode=exp_range, gamma=0.99994)", "exp_range", 0.99994),
    ],
    ids=["triangular", "triangular2", "exp_range"],
)
def test_clr_paper_update_rule(expr: str, mode: str, gamma: float, backend: str) -> None:
    steps = np.arange(0, 20_001)
    expected = clr_paper(steps, 2000, 1e-4, 1e-2, mode, gamma)
    sched = lrdsl.compile(expr, base_lr=0.5)  # base is not used: low and high are given
    assert_parity(sched.values(steps), expected, steps, 1e-2, expr)
    turns = sorted({t + d for t in range(0, 20_001, 2000) for d in (-1, 0, 1) if 0 <= t + d <= 20_000})
    assert_parity(scalar_values(sched, turns), expected[turns], np.array(turns), 1e-2, f"{expr} scalar")
    assert sched(0) == 1e-4
    assert sched(2000) == pytest.approx(1e-4 + (1e-2 - 1e-4) * (gamma**2000 if mode == "exp_range" else 1.0), rel=1e-12)


# ---------------------------------------------------------------- 004: the comparison plots


def seed004_exp_decay(epoch, initial_lr=0.1, decay_rate=0.9):
    return initial_lr * (decay_rate**epoch)


def seed004_cosine_annealing(epoch, initial_lr=0.1, T_max=100):
    return initial_lr * (1 + np.cos(np.pi * epoch / T_max)) / 2


def seed004_reduce_on_plateau(epoch, initial_lr=0.1, reduce_rate=0.1, patience=50):
    if epoch >= patience:
        return initial_lr * reduce_rate
    return initial_lr


def seed004_one_cycle_lr(epoch, max_lr=0.1, steps_per_epoch=100, epochs=100):
    peak_epoch = epochs // 2
    if epoch < peak_epoch:
        return (max_lr / peak_epoch) * epoch
    else:
        return max_lr * (np.cos(np.pi * (epoch - peak_epoch) / (epochs - peak_epoch)) + 1) / 2


@pytest.mark.parametrize(
    ("expr", "seed", "last"),
    [
        ("exp(0.9)", seed004_exp_decay, 1000),
        ("cosine(100)", seed004_cosine_annealing, 100),  # the seed's cosine rises again after T_max
        ("multistep([50])", seed004_reduce_on_plateau, 1000),
        ("warmup(50) >> cosine(50)", seed004_one_cycle_lr, 99),  # the seed's formula is for 100 epochs
    ],
    ids=["exp_decay", "cosine_annealing", "reduce_on_plateau", "warmup_cosine"],
)
def test_seed004_schedules(expr: str, seed, last: int, backend: str) -> None:
    epochs = np.arange(0, last + 1)
    expected = np.array([float(seed(int(e))) for e in epochs])
    sched = lrdsl.compile(expr, base_lr=0.1)
    assert_parity(sched.values(epochs), expected, epochs, 0.1, expr)
    assert_parity(scalar_values(sched, epochs[:200]), expected[:200], epochs[:200], 0.1, f"{expr} scalar")


def test_seed001_keras_schedules(backend: str) -> None:
    """Seed 001's CosineDecay(0.001, decay_steps=50, alpha=0.001) and
    CosineDecayRestarts(0.1, first_decay_steps=10, t_mul=1, m_mul=0.9, alpha=0), in float64."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    keras = pytest.importorskip("keras")
    schedules = keras.optimizers.schedules
    f = np.float64
    steps = np.arange(0, 10_001)
    tensor = keras.ops.convert_to_tensor(steps.astype(np.int64))
    for expr, base_lr, schedule, peak in (
        ("cosine(50, alpha=0.001)", 0.001, schedules.CosineDecay(f(0.001), 50, alpha=f(0.001)), 0.001),
        ("cosine(50, peak=0.001, min=0.000001)", None, schedules.CosineDecay(f(0.001), 50, alpha=f(0.001)), 0.001),
        (
            "cosine_restarts(10, t_mul=1, m_mul=0.9, alpha=0)",
            0.1,
            schedules.CosineDecayRestarts(f(0.1), 10, t_mul=f(1.0), m_mul=f(0.9), alpha=f(0.0)),
            0.1,
        ),
    ):
        expected = keras.ops.convert_to_numpy(schedule(tensor))
        assert expected.dtype == np.float64
        assert_parity(lrdsl.compile(expr, base_lr=base_lr).values(steps), expected, steps, peak, f"{expr} vs Keras")


def test_seed004_torch_one_cycle(backend: str) -> None:
    """Seed 004's OneCycleLR(optimizer, max_lr=0.1, steps_per_epoch=100, epochs=10):
    1000 steps, read from the torch scheduler one step() at a time."""
    torch = pytest.importorskip("torch")
    import warnings

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.01, momentum=0.9)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)`")
        scheduler = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, steps_per_epoch=100, epochs=10)
        expected = [opt.param_groups[0]["lr"]]
        for _ in range(999):
            scheduler.step()
            expected.append(opt.param_groups[0]["lr"])
    steps = np.arange(1000)
    sched = lrdsl.compile("one_cycle(1000, max=0.1)", base_lr=0.01)
    assert_parity(sched.values(steps), np.array(expected), steps, 0.1, "one_cycle(1000, max=0.1) vs OneCycleLR")


def test_seed004_one_cycle_runs_with_momentum() -> None:
    """Seed 004's OneCycleLR moved to lrdsl keeps torch's momentum cycle: from_torch
    gives a plan, DSLScheduler runs it, and lr and momentum match torch at every step."""
    torch = pytest.importorskip("torch")
    import warnings

    from lrdsl.torch import DSLScheduler

    def run(make):  # type: ignore[no-untyped-def]
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.01, momentum=0.9)
        sched = make(opt)
        seen = []
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)`")
            for _ in range(1000):
                seen.append((opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]))
                sched.step()
        return np.array(seen), sched

    def torch_one_cycle(opt):  # type: ignore[no-untyped-def]
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, steps_per_epoch=100, epochs=10)

    want, _ = run(torch_one_cycle)
    plan = lrdsl.from_torch(
        torch_one_cycle(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.01, momentum=0.9))
    )
    assert isinstance(plan, dict) and set(plan) == {"lr", "momentum"}
    assert "start=0.95" in plan["momentum"] and "peak=0.85" in plan["momentum"]
    got, _ = run(lambda opt: DSLScheduler(opt, plan))
    steps = np.arange(1000)
    assert_parity(got[:, 0], want[:, 0], steps, 0.1, "lr vs OneCycleLR")
    assert_parity(got[:, 1], want[:, 1], steps, 0.95, "momentum vs OneCycleLR")
    assert want[0, 1] == 0.95 and want[299, 1] == pytest.approx(0.85) and want[999, 1] == pytest.approx(0.95)

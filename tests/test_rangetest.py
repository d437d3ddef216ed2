"""The LR range test: the ramp, the stopping rule and suggestions on problems
whose divergence threshold is known by hand, and the torch and Keras wrappers
(the right range found on a synthetic least-squares problem, the user's model
and optimizer given back unchanged)."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

import lrdsl
from lrdsl.errors import LrdslError
from lrdsl.tools.rangetest import RangeTestResult, ramp, run

os.environ.setdefault("KERAS_BACKEND", "tensorflow")


# ---- the ramp ---------------------------------------------------------------


def test_exp_ramp_is_geometric_from_start_to_end():
    s = lrdsl.compile(ramp(1e-7, 10.0, 100))
    v = s.values(np.arange(100))
    assert v[0] == pytest.approx(1e-7, rel=1e-12) and v[99] == pytest.approx(10.0, rel=1e-12)
    ratios = v[1:] / v[:-1]
    assert np.allclose(ratios, (10.0 / 1e-7) ** (1 / 99), rtol=1e-10)


def test_linear_ramp_is_arithmetic():
    v = lrdsl.compile(ramp(0.01, 1.0, 100, "linear")).values(np.arange(100))
    assert np.allclose(np.diff(v), 0.99 / 99, rtol=1e-10)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ((1.0, 0.1, 100), "E0401"),
        ((0.0, 1.0, 100), "E0401"),
        ((1e-7, 10.0, 2), "E0401"),
        ((1e-7, math.inf, 10), "E0401"),
    ],
)
def test_ramp_rejects_bad_ranges(args, code):
    with pytest.raises(LrdslError) as info:
        ramp(*args)
    assert info.value.code == code


def test_ramp_rejects_unknown_shape():
    with pytest.raises(LrdslError) as info:
        ramp(1e-7, 10.0, 100, "cos")
    assert info.value.code == "E0306"


# ---- the loop, on gradient descent on a 1-D quadratic -----------------------


def quadratic(a: float, w0: float = 1.0):
    """GD on f(w) = a/2 w^2: w <- w (1 - lr a), stable iff lr < 2/a."""
    state = {"w": w0}

    def train_step(lr: float) -> float:
        loss = a / 2 * state["w"] ** 2
        state["w"] *= 1 - lr * a
        return loss

    return train_step


@pytest.mark.parametrize("a", [10.0, 50.0, 3000.0, 1e5])
def test_finds_the_quadratics_stability_limit(a):
    critical = 2 / a
    r = run(quadratic(a), start=1e-7, end=10.0, steps=200)
    assert r.diverged and len(r.lrs) < 200
    assert r.lrs[-1] > critical  # stopped only past the limit
    assert r.divergence_lr < critical and r.steepest_lr < critical
    assert r.max_lr == r.divergence_lr and r.min_lr == r.max_lr / 4
    assert r.max_lr > critical / 20  # a useful lr, not the bottom of the ramp
    lr_at_min = r.lrs[r.smoothed.index(min(r.smoothed))]
    assert critical / 3 < lr_at_min < critical * 3
    assert critical / 100 < r.steepest_lr <= lr_at_min


def test_smoothed_is_a_centred_moving_average():
    losses = [float(v) for v in (10, 9, 7, 4, 3, 2.5, 2, 1.8, 1.7, 1.6)]
    it = iter(losses)
    r = run(lambda lr: next(it), start=1e-3, end=1.0, steps=10)
    # 10 steps: h = 1, so a window of 3 (2 at the ends)
    assert r.smoothed[0] == pytest.approx((10 + 9) / 2)
    assert r.smoothed[4] == pytest.approx((4 + 3 + 2.5) / 3)
    assert r.smoothed[9] == pytest.approx((1.7 + 1.6) / 2)
    assert not r.diverged and len(r.lrs) == 10


def test_a_non_finite_loss_stops_at_once():
    calls = []

    def step(lr: float) -> float:
        calls.append(lr)
        return 1.0 / (len(calls)) if len(calls) < 8 else math.nan

    r = run(step, steps=50)
    assert r.diverged and len(calls) == 8 and math.isnan(r.losses[-1])
    assert math.isinf(r.smoothed[-1])
    assert r.lrs[r.smoothed.index(min(r.smoothed))] < r.lrs[-1]


def test_the_loop_checks_its_settings():
    for kwargs in ({"beta": 1.0}, {"beta": 0.0}, {"diverge": 1.0}):
        with pytest.raises(LrdslError) as info:
            run(lambda lr: 1.0, **kwargs)
        assert info.value.code == "E0401"


def test_suggested_schedules_compile_and_peak_at_max_lr():
    r = RangeTestResult([1e-4, 1e-3, 1e-2, 1e-1, 1.0], [5.0, 4.0, 2.0, 1.0, 50.0], [5.0, 4.0, 2.0, 1.0, 50.0], True)
    assert r.divergence_lr == pytest.approx(0.01)
    cyc = lrdsl.compile(r.cyclic(step_size=10))
    peak = cyc.values(np.arange(40)).max()
    assert peak == pytest.approx(r.max_lr, rel=1e-2)
    assert cyc.values(np.arange(40)).min() == pytest.approx(r.min_lr, rel=1e-2)
    one = lrdsl.compile(r.one_cycle(100))
    assert one.values(np.arange(100)).max() == pytest.approx(r.max_lr, rel=1e-2)


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    r = run(quadratic(50.0), steps=100)
    path = tmp_path / "range.png"
    r.plot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---- a least-squares problem whose stable range is known --------------------


def least_squares(seed: int = 0, n: int = 64, d: int = 4, scale: float = 10.0):
    """y = X w + noise, loss = mean squared error; full-batch GD is stable
    iff lr < 2 / lambda_max(2/n X^T X)."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, d)) * scale).astype(np.float32)
    y = (x @ rng.standard_normal((d, 1)) + rng.standard_normal((n, 1))).astype(np.float32)
    critical = 2 / np.linalg.eigvalsh(2 / n * x.astype(np.float64).T @ x).max()
    return x, y, critical


def check_known_range(r: RangeTestResult, critical: float, steps: int) -> None:
    assert r.diverged and len(r.lrs) < steps and r.lrs[-1] > critical
    assert critical / 20 < r.max_lr < critical / 2  # stable, and within a decade of the limit
    lr_at_min = r.lrs[r.smoothed.index(min(r.smoothed))]
    assert critical / 3 < lr_at_min < critical * 3
    assert critical / 100 < r.steepest_lr < r.max_lr


# ---- torch ------------------------------------------------------------------


def test_torch_range_test_finds_the_range_and_restores_everything():
    torch = pytest.importorskip("torch")
    from lrdsl.torch import range_test

    x, y, critical = least_squares()
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1, bias=False)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    weights = model.weight.detach().clone()
    r = range_test(
        model, torch.nn.functional.mse_loss, [(torch.from_numpy(x), torch.from_numpy(y))], optimizer, start=1e-6
    )
    check_known_range(r, critical, 100)
    assert torch.equal(model.weight, weights)
    assert optimizer.param_groups[0]["lr"] == 0.1


def test_torch_range_test_restores_optimizer_state_buffers_and_mode():
    torch = pytest.importorskip("torch")
    from lrdsl.torch import range_test

    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    data = [(torch.randn(16, 3), torch.randn(16, 1)) for _ in range(3)]
    for xb, yb in data:  # the optimizer has state before the test
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(xb), yb).backward()
        optimizer.step()
    model.eval()
    model_state = {k: v.clone() for k, v in model.state_dict().items()}
    opt_state = optimizer.state_dict()
    exp_avg = {k: v["exp_avg"].clone() for k, v in opt_state["state"].items()}
    steps_before = {k: v["step"].clone() for k, v in opt_state["state"].items()}

    r = range_test(model, torch.nn.functional.mse_loss, data, optimizer, steps=20, end=1.0, device="cpu")
    assert len(r.lrs) >= 3  # ran, cycling the 3-batch loader
    assert not model.training
    for k, v in model.state_dict().items():
        assert torch.equal(v, model_state[k]), k
    after = optimizer.state_dict()
    assert after["param_groups"][0]["lr"] == 3e-4
    for k, v in after["state"].items():
        assert torch.equal(v["exp_avg"], exp_avg[k]) and torch.equal(v["step"], steps_before[k])
    # a user's training continues as if nothing happened
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())


def test_torch_range_test_bad_loaders_are_clear_errors():
    torch = pytest.importorskip("torch")
    from lrdsl.torch import range_test

    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(LrdslError, match="yielded no batches"):
        range_test(model, torch.nn.functional.mse_loss, [], optimizer)
    with pytest.raises(LrdslError, match=r"\(inputs, targets\)") as info:
        range_test(model, torch.nn.functional.mse_loss, [torch.zeros(4, 2)], optimizer)
    assert info.value.code == "E0305"


# ---- Keras ------------------------------------------------------------------


def test_keras_range_test_finds_the_range_and_restores_everything():
    keras = pytest.importorskip("keras")
    from lrdsl.keras import range_test

    x, y, critical = least_squares()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.0), loss="mse")
    weights = [w.copy() for w in model.get_weights()]
    r = range_test(model, x, y, batch_size=len(x), start=1e-6)
    check_known_range(r, critical, 100)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights))
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.1)
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 0


def test_keras_range_test_restores_a_trained_optimizer():
    keras = pytest.importorskip("keras")
    from lrdsl.keras import range_test

    keras.utils.set_random_seed(1)
    x = np.random.default_rng(1).standard_normal((40, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    weights = [w.copy() for w in model.get_weights()]
    opt = [np.array(keras.ops.convert_to_numpy(v)) for v in model.optimizer.variables]
    r = range_test(model, x, y, batch_size=16, steps=15, end=1.0)
    assert len(r.lrs) >= 3
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights))
    after = [np.array(keras.ops.convert_to_numpy(v)) for v in model.optimizer.variables]
    assert len(after) == len(opt) and all(np.array_equal(a, b) for a, b in zip(after, opt))


def test_keras_range_test_needs_a_compiled_model_with_a_float_lr():
    keras = pytest.importorskip("keras")
    from lrdsl.keras import range_test

    x = np.zeros((8, 2), "float32")
    y = np.zeros((8, 1), "float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(LrdslError, match="compiled model"):
        range_test(model, x, y)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)),
        loss="mse",
    )
    with pytest.raises(LrdslError, match="float learning_rate") as info:
        range_test(model, x, y)
    assert info.value.code == "E0305"

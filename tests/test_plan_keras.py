"""lrdsl.keras.callback(plan): any optimizer hyperparameter, per batch or per
epoch, taking effect under jit_compile=True (TF here, JAX and torch in a
subprocess).  The effect is checked on the weights, step by step, against
Keras's update formulas written out by hand (keras/src/optimizers/*.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
keras = pytest.importorskip("keras")

import lrdsl  # noqa: E402
from lrdsl.keras import DSLCallback, DSLPlanCallback, callback  # noqa: E402

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="in-process tests run on TF")

OPT = keras.optimizers
X = np.ones((8, 2), "float32")  # batch_size=4: two batches an epoch
Y = np.zeros((8, 1), "float32")


def zero_loss(y_true, y_pred):  # type: ignore[no-untyped-def]
    """No gradient: only weight decay moves the weights."""
    return 0.0 * y_pred


def mean_output(y_true, y_pred):  # type: ignore[no-untyped-def]
    """With inputs of ones, every kernel entry's gradient is exactly 1."""
    return y_pred


class Kernel(keras.callbacks.Callback):
    """The first kernel entry after each batch."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[float] = []

    def on_train_batch_end(self, batch, logs=None):  # type: ignore[no-untyped-def]
        self.seen.append(float(keras.ops.convert_to_numpy(self.model.layers[0].kernel)[0, 0]))


def model_with(optimizer, loss, *, bias: bool = True) -> keras.Model:  # type: ignore[no-untyped-def]
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=bias, kernel_initializer="ones")])
    model.compile(optimizer=optimizer, loss=loss, jit_compile=True)
    return model


def fit(model, cb, **kw):  # type: ignore[no-untyped-def]
    record = Kernel()
    kw = {"epochs": 2, **kw}
    history = model.fit(X, Y, batch_size=4, verbose=0, shuffle=False, callbacks=[cb, record], **kw)
    return record.seen, history.history


def linear(t: int, n: int, start: float, end: float) -> float:
    return start + (end - start) * min(t, n) / n


# ---------------------------------------------------------------- the effect on the weights


def test_a_float_set_while_training_is_baked_into_the_compiled_step():
    """Why the callback needs variables: Keras reads weight_decay as a Python
    float when it traces the step, so setting a float later is ignored."""

    class Naive(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):  # type: ignore[no-untyped-def]
            self.model.optimizer.weight_decay = [0.5, 0.0][batch]

    seen, _ = fit(model_with(OPT.AdamW(learning_rate=0.1, weight_decay=0.01), zero_loss), Naive(), epochs=1)
    # the first step is traced with 0.5; the second still decays by 0.5, not 0.0
    np.testing.assert_allclose(seen, [0.95, 0.95 * 0.95], rtol=1e-6)


def test_weight_decay_and_lr_per_batch_move_the_weights_step_by_step():
    opt = OPT.AdamW(learning_rate=0.1, weight_decay=0.01)
    plan = {"learning_rate": "linear(16, end=0.5 * base)", "weight_decay": "linear(8, start=base, end=10 * base)"}
    cb = callback(plan, per="batch")
    assert isinstance(cb, DSLPlanCallback)
    model = model_with(opt, zero_loss)
    first, _ = fit(model, cb)
    second, _ = fit(model, cb)  # the second fit still sees the variables, and carries on counting
    seen = first + second
    w, want = 1.0, []
    for t in range(8):  # AdamW with no gradient: w <- w - w * wd * lr (base_optimizer._apply_weight_decay)
        w -= w * linear(t, 8, 0.01, 0.1) * linear(t, 16, 0.1, 0.05)
        want.append(w)
    np.testing.assert_allclose(seen, want, rtol=2e-6)
    constant = [(1 - 0.1 * 0.01) ** (t + 1) for t in range(8)]
    assert abs(seen[-1] - constant[-1]) > 1e3 * 2e-6  # the schedule, not the configured value, moved them
    assert float(keras.ops.convert_to_numpy(opt.learning_rate)) == pytest.approx(linear(7, 16, 0.1, 0.05))


def test_weight_decay_per_epoch_on_sgd_across_two_fits():
    model = model_with(OPT.SGD(learning_rate=0.5, weight_decay=0.02), zero_loss)
    cb = callback({"wd": "linear(4, start=base, end=3 * base)"})  # per epoch, base from the optimizer
    first, logs1 = fit(model, cb)
    second, logs2 = fit(model, cb, initial_epoch=2, epochs=4)
    w, want = 1.0, []
    for epoch in range(4):
        for _ in range(2):
            w -= w * linear(epoch, 4, 0.02, 0.06) * 0.5
            want.append(w)
    np.testing.assert_allclose(first + second, want, rtol=2e-6)
    np.testing.assert_allclose(logs1["weight_decay"] + logs2["weight_decay"], [0.02, 0.03, 0.04, 0.05], rtol=1e-12)


def test_sgd_momentum_per_batch_follows_the_schedule():
    model = model_with(OPT.SGD(learning_rate=0.1, momentum=0.9), mean_output, bias=False)
    seen, _ = fit(model, callback({"momentum": "linear(8, start=base, end=0.5)"}, per="batch"))
    w, m, want = 1.0, 0.0, []
    for t in range(4):  # sgd.py: m <- m * momentum - g * lr; w <- w + m, with g = 1
        m = m * linear(t, 8, 0.9, 0.5) - 0.1
        w += m
        want.append(w)
    np.testing.assert_allclose(seen, want, rtol=1e-6)
    assert abs(want[-1] - (1 - 0.1 * (1 + 1.9 + 2.71 + 3.439))) > 1e-3  # differs from a fixed 0.9


def test_adam_beta_1_per_batch_follows_the_schedule():
    model = model_with(OPT.Adam(learning_rate=0.1), mean_output, bias=False)
    seen, _ = fit(model, callback({"betas[0]": "linear(4, start=base, end=0.5)"}, per="batch"))
    w, m, v, want = 1.0, 0.0, 0.0, []
    for t in range(4):  # adam.py, with g = 1: beta_1 ** (t + 1) uses the current beta_1
        b1, b2 = linear(t, 4, 0.9, 0.5), 0.999
        alpha = 0.1 * np.sqrt(1 - b2 ** (t + 1)) / (1 - b1 ** (t + 1))
        m += (1 - m) * (1 - b1)
        v += (1 - v) * (1 - b2)
        w -= m * alpha / (np.sqrt(v) + 1e-7)
        want.append(w)
    np.testing.assert_allclose(seen, want, rtol=1e-5)


def test_ema_momentum_per_batch_follows_the_schedule():
    opt = OPT.SGD(learning_rate=0.1, use_ema=True, ema_momentum=0.9)
    model = model_with(opt, mean_output, bias=False)
    averages = []

    class Average(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):  # type: ignore[no-untyped-def]
            averages.append(float(keras.ops.convert_to_numpy(opt._model_variables_moving_average[0])[0, 0]))

    cb = callback({"ema_decay": "linear(4, start=base, end=0.5)"}, per="batch")
    model.fit(X, Y, batch_size=4, epochs=2, verbose=0, shuffle=False, callbacks=[cb, Average()])
    w, avg, want = 1.0, 0.0, []
    for t in range(4):  # base_optimizer: momentum = (iterations != 0) * ema_momentum, after the update
        w -= 0.1
        mom = linear(t, 4, 0.9, 0.5) if t else 0.0
        avg = mom * avg + (1 - mom) * w
        want.append(avg)
    np.testing.assert_allclose(averages, want, rtol=1e-6)


# ---------------------------------------------------------------- refusals


def bound(optimizer, plan, **kw):  # type: ignore[no-untyped-def]
    model = model_with(optimizer, "mse")
    cb = callback(plan, **kw)
    cb.set_model(model)
    cb.on_train_begin()
    return cb


def test_a_key_the_optimizer_lacks_is_e0207_with_its_hyperparameters():
    with pytest.raises(lrdsl.LrdslError) as info:
        bound(OPT.Adam(), {"momentum": "const(0.9)"})
    assert info.value.code == "E0207"
    assert "beta_1, beta_2, epsilon" in info.value.message and "learning_rate" in info.value.message
    with pytest.raises(lrdsl.LrdslError) as info:
        bound(OPT.Adam(), {"bta_1": "const(0.9)"})
    assert info.value.code == "E0207" and "did you mean 'beta_1'?" in info.value.render()
    assert "Adam has no 'bta_1'" in info.value.message
    with pytest.raises(lrdsl.LrdslError) as info:
        bound(OPT.Adam(), {"amsgrad": "const(1)"})  # a flag, not a number
    assert info.value.code == "E0207"


@pytest.mark.parametrize(
    ("make", "plan", "word"),
    [
        (lambda: OPT.Adam(), {"ema_momentum": "const(0.9)"}, "use_ema=False"),
        (lambda: OPT.SGD(), {"momentum": "const(0.9)"}, "momentum=0"),
        (lambda: OPT.Adam(), {"clipnorm": "const(1)"}, "without clipnorm"),
        (lambda: OPT.Adam(gradient_accumulation_steps=2), {"gradient_accumulation_steps": "const(2)"}, "structure"),
        (lambda: OPT.Adagrad(), {"initial_accumulator_value": "const(0.2)"}, "initial state"),
        (lambda: OPT.Adam(lrdsl.compile("cosine(9)").to_keras()), {"lr": "const(0.1)"}, "a schedule"),
    ],
    ids=["ema-off", "no-momentum-buffer", "clipnorm-unset", "structural", "initial-only", "lr-schedule"],
)
def test_what_cannot_take_effect_is_e0801_naming_it(make, plan, word):
    with pytest.raises(lrdsl.UnsupportedError) as info:
        bound(make(), plan)
    assert info.value.code == "E0801" and word in info.value.message


def test_per_batch_with_several_steps_per_execution_is_refused():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=OPT.AdamW(), loss="mse", steps_per_execution=2)
    cb = callback({"weight_decay": "const(base)"}, per="batch")
    cb.set_model(model)
    with pytest.raises(lrdsl.UnsupportedError, match="steps_per_execution=2"):
        cb.on_train_begin()


def test_a_schedule_crossing_a_decision_the_step_made_is_refused():
    """Keras decides `if clipnorm and clipnorm > 0` when it traces; clipnorm
    reaching 0 would silently keep clipping, so the callback refuses."""
    model = model_with(OPT.Adam(clipnorm=1.0), "mse")
    cb = callback({"clipnorm": "linear(2, start=base, end=0)"}, per="batch")
    with pytest.raises(lrdsl.UnsupportedError) as info:
        model.fit(X, Y, batch_size=2, epochs=1, verbose=0, callbacks=[cb])
    assert "clipnorm" in info.value.message and "at step 2" in info.value.message


def test_an_attribute_replaced_while_training_is_refused():
    class Meddle(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):  # type: ignore[no-untyped-def]
            self.model.optimizer.weight_decay = 0.5

    model = model_with(OPT.AdamW(), "mse")
    cb = callback({"weight_decay": "linear(4, start=base, end=0)"}, per="batch")
    with pytest.raises(lrdsl.UnsupportedError, match="weight_decay was replaced while training"):
        model.fit(X, Y, batch_size=4, epochs=1, verbose=0, callbacks=[cb, Meddle()])


def test_plan_errors_surface_at_construction():
    with pytest.raises(lrdsl.LrdslError) as info:
        callback({"weight_decay": "linear(10, end=)"})
    assert info.value.message.startswith("in the plan's 'weight_decay'")
    with pytest.raises(lrdsl.LrdslError) as info:
        callback({"eps": "const(1e-8)", "epsilon": "const(1e-7)"})
    assert info.value.code == "E0303" and "epsilon twice" in info.value.message
    with pytest.raises(lrdsl.LrdslError) as info:
        callback({"wd": "const(1)"}, per="step")
    assert info.value.code == "E0306"
    with pytest.raises(lrdsl.LrdslError) as info:  # the domain, once the optimizer's base is known
        bound(OPT.SGD(momentum=0.9), {"momentum": "const(2 * base)"})
    assert info.value.code == "E0404"


# ---------------------------------------------------------------- spellings, saving, plateau


def test_spellings_name_keras_attributes():
    from lrdsl.emit.keras_hyper import attribute_of

    want = {
        "lr": "learning_rate",
        "learning_rate": "learning_rate",
        "betas[0]": "beta_1",
        "b1": "beta_1",
        "beta_1": "beta_1",
        "betas[1]": "beta_2",
        "b2": "beta_2",
        "ema_decay": "ema_momentum",
        "wd": "weight_decay",
        "eps": "epsilon",
        "rho": "rho",
    }
    assert {k: attribute_of(k) for k in want} == want
    assert isinstance(callback("cosine(10)", base_lr=0.1), DSLCallback)  # one text: the lr callback as before
    assert isinstance(callback(lrdsl.compile_plan({"wd": "const(1e-4)"})), DSLPlanCallback)


def test_the_optimizer_saves_and_reloads_with_its_configured_values(tmp_path):
    opt = OPT.Adam(learning_rate=0.01, beta_1=0.9)
    model = model_with(opt, "mse")
    fit(model, callback({"beta_1": "linear(4, start=base, end=0.5)"}, per="batch"))
    assert float(opt.beta_1.now) == pytest.approx(0.6) and opt.get_config()["beta_1"] == 0.9
    assert len(opt.variables) == 6  # iterations, lr, m and v for the kernel and the bias: nothing added (TF)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.optimizer.beta_1 == 0.9 and int(loaded.optimizer.iterations) == 4
    again = callback({"b1": "const(base)"})  # a new callback on the trained optimizer: base is still 0.9
    again.set_model(model)
    again.on_train_begin()
    assert again.plan is not None and again.plan["b1"](0) == 0.9


def test_plateau_on_weight_decay_matches_keras_reduce_lr_on_plateau():
    rng = np.random.default_rng(5)
    metrics = np.concatenate([np.linspace(3, 1, 8), np.full(10, 1.0), 1 + 0.05 * rng.standard_normal(20)])
    ours = bound(
        OPT.SGD(weight_decay=0.1),
        {"weight_decay": "plateau(factor=0.5, patience=2, threshold_mode=abs, threshold=0.01)"},
    )
    theirs_model = model_with(OPT.SGD(learning_rate=0.1), "mse")
    theirs = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_delta=0.01)
    theirs.set_model(theirs_model)
    theirs.on_train_begin()
    a, b = [], []
    for epoch, m in enumerate(metrics):
        ours.on_epoch_begin(epoch)
        logs = {"val_loss": float(m)}
        ours.on_epoch_end(epoch, logs)
        theirs.on_epoch_end(epoch, {"val_loss": float(m)})
        ours.on_epoch_begin(epoch + 1)
        a.append(ours.variables["weight_decay"].now)
        b.append(float(keras.ops.convert_to_numpy(theirs_model.optimizer.learning_rate)))
    np.testing.assert_allclose(a, b, rtol=1e-6)
    assert b[-1] < 0.1


def test_a_missing_monitored_metric_is_warned_and_not_reported():
    ours = bound(OPT.SGD(weight_decay=0.1), {"weight_decay": "plateau(patience=0, factor=0.5)"}, monitor="val_acc")
    ours.on_epoch_begin(0)
    before = ours.plan
    logs = {"loss": 1.0}
    with pytest.warns(UserWarning, match=r"monitors `val_acc`, which is not in the logs: loss") as seen:
        ours.on_epoch_end(0, logs)
    assert seen[0].filename == __file__
    assert ours.plan is before and ours.feedback["weight_decay"].plateaus[0].best == np.inf  # no report
    assert logs == {"loss": 1.0, "weight_decay": ours.variables["weight_decay"].now}


# ---------------------------------------------------------------- the other backends

OTHER = textwrap.dedent(
    """
    import os, sys
    os.environ["KERAS_BACKEND"] = sys.argv[1]
    import numpy as np, keras, lrdsl.keras
    assert keras.backend.backend() == sys.argv[1]
    X, Y = np.ones((8, 2), "float32"), np.zeros((8, 1), "float32")

    def lin(t, n, a, b):
        return a + (b - a) * min(t, n) / n

    class Kernel(keras.callbacks.Callback):
        seen = []
        def on_train_batch_end(self, batch, logs=None):
            Kernel.seen.append(float(keras.ops.convert_to_numpy(self.model.layers[0].kernel)[0, 0]))

    def zero_loss(y, p):
        return 0.0 * p

    def mean_output(y, p):
        return p

    def model_with(opt, loss):
        m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")])
        m.compile(optimizer=opt, loss=loss, jit_compile=sys.argv[3] == "jit")
        return m

    # weight decay alone (no gradient), lr and wd per batch, two fits
    opt = keras.optimizers.AdamW(learning_rate=0.1, weight_decay=0.01)
    model = model_with(opt, zero_loss)
    cb = lrdsl.keras.callback({"lr": "linear(16, end=0.5 * base)", "wd": "linear(8, start=base, end=10 * base)"},
                              per="batch")
    for _ in range(2):
        model.fit(X, Y, batch_size=4, epochs=2, verbose=0, shuffle=False, callbacks=[cb, Kernel()])
    w, want = 1.0, []
    for t in range(8):
        w -= w * lin(t, 8, 0.01, 0.1) * lin(t, 16, 0.1, 0.05)
        want.append(w)
    np.testing.assert_allclose(Kernel.seen, want, rtol=2e-6)

    # weight decay per epoch on SGD
    Kernel.seen = []
    model = model_with(keras.optimizers.SGD(learning_rate=0.5, weight_decay=0.02), zero_loss)
    cb = lrdsl.keras.callback({"weight_decay": "linear(4, start=base, end=3 * base)"})
    model.fit(X, Y, batch_size=4, epochs=3, verbose=0, shuffle=False, callbacks=[cb, Kernel()])
    w, want = 1.0, []
    for t in range(6):
        w -= w * lin(t // 2, 4, 0.02, 0.06) * 0.5
        want.append(w)
    np.testing.assert_allclose(Kernel.seen, want, rtol=2e-6)

    # momentum per batch, gradient 1
    Kernel.seen = []
    model = model_with(keras.optimizers.SGD(learning_rate=0.1, momentum=0.9), mean_output)
    cb = lrdsl.keras.callback({"momentum": "linear(8, start=base, end=0.5)"}, per="batch")
    model.fit(X, Y, batch_size=4, epochs=2, verbose=0, shuffle=False, callbacks=[cb, Kernel()])
    w, m, want = 1.0, 0.0, []
    for t in range(4):
        m = m * lin(t, 8, 0.9, 0.5) - 0.1
        w += m
        want.append(w)
    np.testing.assert_allclose(Kernel.seen, want, rtol=1e-6)

    # saved and reloaded without the hyperparameter variables, with the rest of the state
    path = os.path.join(sys.argv[2], "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects={"mean_output": mean_output})
    assert loaded.optimizer.momentum == 0.9 and int(loaded.optimizer.iterations) == 4
    got = keras.ops.convert_to_numpy(loaded.optimizer.momentums[0])
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(model.optimizer.momentums[0]))
    print("ok")
    """
)


@pytest.mark.parametrize(("other", "mode"), [("jax", "jit"), ("torch", "eager")])
def test_the_values_take_effect_on_the_other_backends(other, mode, tmp_path):
    """JAX under jit_compile=True; torch eagerly (torch.compile works too, but
    takes a minute to compile these steps)."""
    pytest.importorskip(other)
    env = {**os.environ, "KERAS_BACKEND": other, "JAX_PLATFORMS": "cpu"}
    out = subprocess.run(
        [sys.executable, "-c", OTHER, other, str(tmp_path), mode], capture_output=True, text=True, env=env, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-1:] == ["ok"]

"""lrdsl.keras: DSLSchedule (graph-safe, serializable, float32 within 1e-6 of
the float64 reference, exact restart cycles, steps past 2**24) and the
callback (per epoch or batch, plateau as Keras's ReduceLROnPlateau decides)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
keras = pytest.importorskip("keras")

from samples import CARD, SAMPLES, assert_float32_close, reference  # noqa: E402

import lrdsl  # noqa: E402
from lrdsl.keras import DSLSchedule, callback  # noqa: E402

S = keras.optimizers.schedules


def keras_values(sched, steps: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.asarray(
        keras.ops.convert_to_numpy(sched(keras.ops.convert_to_tensor(steps, dtype="int64"))), dtype=np.float64
    )


@pytest.mark.parametrize(("text", "kw"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_float32_values_within_1e6_of_the_float64_reference(text, kw):
    n = 9000
    sched = DSLSchedule(text, **kw)
    got = keras_values(sched, np.arange(n))
    assert got.dtype == np.float64 and keras.ops.convert_to_numpy(sched(np.int64(3))).dtype == np.float32
    assert_float32_close(got, reference(text, n, **kw))


def test_eager_tf_function_and_xla_agree():
    tf = pytest.importorskip("tensorflow")
    sched = DSLSchedule(CARD, base_lr=1e-3, total_steps=100)

    @tf.function(jit_compile=True)
    def xla(step):  # type: ignore[no-untyped-def]
        return sched(step)

    @tf.function
    def graph(step):  # type: ignore[no-untyped-def]
        return sched(step)

    want = reference(CARD, 120, total_steps=100, base_lr=1e-3)
    for t in range(120):
        eager = float(sched(np.int64(t)))
        assert float(graph(tf.constant(t, tf.int64))) == eager
        assert float(xla(tf.constant(t, tf.int64))) == pytest.approx(eager, rel=1e-6, abs=1e-12)
        assert eager == pytest.approx(want[t], rel=1e-6, abs=1e-9)
    assert float(sched(tf.constant(7, tf.int32))) == float(sched(np.int64(7)))  # int32 steps too


def test_restart_boundaries_are_exact_where_keras_is_not():
    ours = DSLSchedule("cosine_restarts(11, t_mul=3)", base_lr=0.1)
    theirs = S.CosineDecayRestarts(np.float64(0.1), 11, t_mul=np.float64(3.0))  # in float64
    assert float(ours(np.int64(1331))) == pytest.approx(0.1)  # cycle 5 starts at 11*(1+3+9+27+81)
    assert float(ours(np.int64(1330))) < 1e-6  # the end of cycle 4
    assert float(theirs(np.int64(1331))) < 1e-6  # Keras's log form: still cycle 4


def test_steps_past_2_to_the_24_still_advance():
    big = 2**24
    stair = DSLSchedule(f"step({big + 1}, gamma=0.5)")
    assert float(stair(np.int64(big))) == 1.0 and float(stair(np.int64(big + 1))) == 0.5
    cyc = DSLSchedule("cyclic(2, low=0)")
    assert [float(cyc(np.int64(big + k))) for k in range(4)] == [0.0, 0.5, 1.0, 0.5]
    ours = DSLSchedule("cosine_restarts(4, t_mul=1)")
    theirs = S.CosineDecayRestarts(1.0, 4, t_mul=1.0)
    assert float(ours(np.int64(big + 1))) == pytest.approx((1 + np.cos(np.pi / 4)) / 2, rel=1e-6)
    assert float(theirs(np.int64(big + 1))) == float(theirs(np.int64(big)))  # Keras's float32 step: frozen


# the Keras built-ins, called as Keras calls them (float32, int64 step tensors)
BUILTINS = [
    ("cosine(1000, alpha=0.01)", lambda: S.CosineDecay(0.1, 1000, alpha=0.01), 0.1),
    (
        "warmup(100, start=0.01) >> cosine(1000, alpha=0.05)",
        lambda: S.CosineDecay(0.01, 1000, alpha=0.05, warmup_target=0.1, warmup_steps=100),
        0.1,
    ),
    (
        "cosine_restarts(40, t_mul=2, m_mul=0.9, alpha=0.01)",
        lambda: S.CosineDecayRestarts(0.1, 40, 2.0, 0.9, 0.01),
        0.1,
    ),
    ("exp(0.5, every=1000)", lambda: S.ExponentialDecay(0.1, 1000, 0.5), 0.1),
    ("exp(0.5, every=1000, staircase=true)", lambda: S.ExponentialDecay(0.1, 1000, 0.5, staircase=True), 0.1),
    (
        "piecewise([1000, 3000], [0.1, 0.05, 0.01])",
        lambda: S.PiecewiseConstantDecay([1000, 3000], [0.1, 0.05, 0.01]),
        1.0,
    ),
    ("poly(5000, power=0.5, end=1e-4)", lambda: S.PolynomialDecay(0.1, 5000, 1e-4, power=0.5), 0.1),
    ("inverse_time(500, 0.5)", lambda: S.InverseTimeDecay(0.1, 500, 0.5), 0.1),
    ("inverse_time(500, 0.5, staircase=true)", lambda: S.InverseTimeDecay(0.1, 500, 0.5, staircase=True), 0.1),
]


@pytest.mark.parametrize(("text", "make", "base"), BUILTINS, ids=[b[0] for b in BUILTINS])
def test_parity_with_keras_builtins_in_float32(text, make, base):
    if "warmup" in text:  # CosineDecay with a warmup takes one step at a time (ops.cond)
        steps = np.arange(1300)
        theirs = np.array([float(make()(np.int64(t))) for t in steps])
    else:
        steps = np.arange(10_000)
        theirs = keras_values(make(), steps)
    ours = keras_values(DSLSchedule(text, base_lr=base), steps)
    if "restarts" in text:  # Keras's log form misplaces some restart steps; exact ones are tested above
        keep = np.abs(ours - theirs) < 0.5 * base
        assert keep.mean() > 0.99
        ours, theirs = ours[keep], theirs[keep]
    # Keras computes in float32: its own error is ~6e-8 of the peak, amplified
    # near the end of a sqrt decay (poly power=0.5) to ~1e-6 of it
    np.testing.assert_allclose(ours, theirs, rtol=2e-6, atol=2e-6 * base)


def test_plateau_is_refused_by_the_schedule_but_not_the_callback():
    with pytest.raises(lrdsl.UnsupportedError) as info:
        DSLSchedule("warmup(5) >> plateau()")
    assert info.value.code == "E0801" and "callback" in info.value.render()
    assert callback("warmup(5) >> plateau()", base_lr=0.1).schedule is not None


# ---------------------------------------------------------------- serialization


def test_config_and_schedule_serialization_round_trip():
    sched = lrdsl.compile("cosine($n, peak=$p) >> const(1e-6)", n=50, p=0.2).to_keras()
    config = sched.get_config()
    assert config["schedule"] == "cosine($n, peak=$p) >> const(1e-6)" and config["placeholders"] == {"n": 50, "p": 0.2}
    again = DSLSchedule.from_config(config)
    blob = S.serialize(sched)
    assert blob["registered_name"] == "lrdsl>DSLSchedule"
    third = S.deserialize(blob)
    steps = np.arange(80)
    np.testing.assert_array_equal(keras_values(again, steps), keras_values(sched, steps))
    np.testing.assert_array_equal(keras_values(third, steps), keras_values(sched, steps))


def tiny_model(lr) -> keras.Model:  # type: ignore[no-untyped-def]
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="mse")
    return model


def data(n: int = 32) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 3)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32"))


def test_model_fit_uses_the_schedule_and_save_load_round_trips(tmp_path):
    sched = DSLSchedule("warmup(3) >> cosine(20, min=1e-3)", base_lr=0.05)
    model = tiny_model(sched)
    x, y = data()
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):  # type: ignore[no-untyped-def]
            opt = self.model.optimizer
            seen.append(float(keras.ops.convert_to_numpy(opt.learning_rate)))

    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[Record()])
    want = reference("warmup(3) >> cosine(20, min=1e-3)", 16, base_lr=0.05)
    np.testing.assert_allclose(seen, want, rtol=1e-6, atol=1e-9)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # safe_mode on, no custom_objects
    restored = loaded.optimizer._learning_rate
    assert isinstance(restored, DSLSchedule) and restored.get_config() == sched.get_config()
    # a fresh process that imports lrdsl.keras loads it too
    code = textwrap.dedent(
        f"""
        import os
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        import keras, lrdsl.keras
        m = keras.models.load_model({str(path)!r})
        print(type(m.optimizer._learning_rate).__name__, float(m.optimizer._learning_rate(5)))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[-2] == "DSLSchedule" and float(out[-1]) == pytest.approx(want[5], rel=1e-6)


# ---------------------------------------------------------------- callbacks


def test_per_epoch_callback_like_learning_rate_scheduler(capsys):
    model = tiny_model(0.1)
    x, y = data()
    history = model.fit(x, y, epochs=12, verbose=0, callbacks=[callback("step(5, gamma=0.5)", base_lr=0.1, verbose=1)])
    expected = [0.1 * 0.5 ** (e // 5) for e in range(12)]  # the seeds' step_decay
    np.testing.assert_allclose(history.history["learning_rate"], expected, rtol=1e-7)
    out = capsys.readouterr().out
    assert "Epoch 1: lrdsl setting learning rate to 0.1." in out
    assert "Epoch 6: lrdsl setting learning rate to 0.05." in out


def test_per_batch_callback_and_base_from_the_optimizer():
    model = tiny_model(0.2)
    x, y = data(32)
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):  # type: ignore[no-untyped-def]
            seen.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))

    model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[callback("linear(12, end=0)", per="batch"), Record()])
    np.testing.assert_allclose(seen, [0.2 * (12 - k) / 12 for k in range(12)], rtol=1e-6)


PLATEAUS = [
    ("plateau()", {}),
    (
        "plateau(factor=0.5, patience=3, threshold=0.01, threshold_mode=abs)",
        {"factor": 0.5, "patience": 3, "min_delta": 0.01},
    ),
    (
        "plateau(patience=2, cooldown=3, min_lr=0.002, threshold_mode=abs, threshold=0)",
        {"patience": 2, "cooldown": 3, "min_lr": 0.002, "min_delta": 0.0},
    ),
    (
        "plateau(mode=max, patience=1, factor=0.3, threshold_mode=abs, threshold=1e-4)",
        {"mode": "max", "patience": 1, "factor": 0.3},
    ),
]


@pytest.mark.parametrize(("text", "kw"), PLATEAUS, ids=[p[0] for p in PLATEAUS])
def test_plateau_matches_keras_reduce_lr_on_plateau(text, kw):
    rng = np.random.default_rng(3)
    metrics = np.concatenate([np.linspace(5, 1, 20), np.full(25, 1.0), 1 + 0.02 * rng.standard_normal(40)])
    if kw.get("mode") == "max":
        metrics = -metrics
    if "min_delta" not in kw and text == "plateau()":
        kw = {"min_delta": 0.0}
        text = "plateau(threshold=0, threshold_mode=abs)"
    ours_model, theirs_model = tiny_model(0.1), tiny_model(0.1)
    ours = callback(text)
    ours.set_model(ours_model)
    theirs = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", **kw)
    theirs.set_model(theirs_model)
    ours.on_train_begin()
    theirs.on_train_begin()
    a, b = [], []
    for epoch, m in enumerate(metrics):
        ours.on_epoch_begin(epoch)
        ours.on_epoch_end(epoch, {"val_loss": float(m)})
        theirs.on_epoch_end(epoch, {"val_loss": float(m)})
        ours.on_epoch_begin(epoch + 1)  # the next epoch's lr, which the cut applies to
        a.append(float(keras.ops.convert_to_numpy(ours_model.optimizer.learning_rate)))
        b.append(float(keras.ops.convert_to_numpy(theirs_model.optimizer.learning_rate)))
    assert a == b
    assert b[-1] < 0.1


def test_warmup_then_plateau_in_model_fit():
    model = tiny_model(0.1)
    x, y = data(16)
    cb = callback("warmup(5) >> plateau(patience=3, factor=0.5, threshold_mode=abs, threshold=10)")
    history = model.fit(x, y, validation_data=(x, y), epochs=14, verbose=0, callbacks=[cb])
    lrs = history.history["learning_rate"]
    np.testing.assert_allclose(lrs[:6], [0.0, 0.02, 0.04, 0.06, 0.08, 0.1], rtol=1e-6, atol=1e-9)
    # the plateau's first report (epoch 5) sets the best; threshold=10 makes every
    # later one a stall, so after epochs 6, 7, 8 the lr halves for epoch 9, and
    # after 9, 10, 11 again for epoch 12
    assert lrs[8] == pytest.approx(0.1) and lrs[9] == pytest.approx(0.05)
    assert lrs[11] == pytest.approx(0.05) and lrs[12] == pytest.approx(0.025)


def test_a_missing_monitored_metric_is_warned_and_not_reported():
    model = tiny_model(0.1)
    cb = callback("plateau(patience=0, factor=0.5)", monitor="val_loss")
    cb.set_model(model)
    cb.on_train_begin()
    cb.on_epoch_begin(0)
    before = cb.schedule
    with pytest.warns(UserWarning, match=r"monitors `val_loss`, which is not in the logs: loss, mae") as seen:
        cb.on_epoch_end(0, {"loss": 1.0, "mae": 0.5})
    assert seen[0].filename == __file__  # said at the line that ended the epoch
    assert cb.schedule is before and cb.feedback.plateaus[0].best == np.inf  # no report


# ---------------------------------------------------------------- another backend


@pytest.mark.parametrize("other", ["torch", "jax"])
def test_the_schedule_runs_on_the_other_backends(other):
    """A fit on the torch and JAX Keras backends (JAX without x64: in float32)."""
    pytest.importorskip(other)
    code = textwrap.dedent(
        f"""
        import os
        os.environ["KERAS_BACKEND"] = "{other}"
        import numpy as np, keras, lrdsl
        from lrdsl.keras import DSLSchedule
        assert keras.backend.backend() == "{other}"
        text = "warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)"
        sched = DSLSchedule(text, base_lr=1e-3, total_steps=100)
        got = keras.ops.convert_to_numpy(sched(keras.ops.arange(120, dtype="int64"))).astype("float64")
        want = lrdsl.compile(text, base_lr=1e-3, total_steps=100).values(np.arange(120))
        assert np.all(np.abs(got - want) <= np.maximum(1e-6 * np.abs(want), 1e-9)), (got, want)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=sched), loss="mse")
        x = np.random.default_rng(0).standard_normal((16, 3)).astype("float32")
        model.fit(x, x[:, :1], batch_size=4, epochs=2, verbose=0)
        print("ok", int(model.optimizer.iterations))
        """
    )
    env = {**os.environ, "KERAS_BACKEND": other}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ["ok", "8"]

"""lrdsl.jax.hyperparams / inject_hyperparams: a plan as the hyperparameters of
optax.inject_hyperparams, read back from state.hyperparams under jax.jit and
checked on the updates against optax's formulas written out by hand
(optax/_src/transform.py: scale_by_adam, add_decayed_weights)."""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
optax = pytest.importorskip("optax")

import lrdsl  # noqa: E402
import lrdsl.jax as lj  # noqa: E402

F32 = {"rtol": 2e-7, "atol": 0}  # float32 hyperparameters against float64 hand values


def linear(t: int, n: int, start: float, end: float) -> float:
    return start + (end - start) * min(t, n) / n


def warmup_then_const(t: int, n: int, value: float) -> float:
    return value * min(t, n) / n


PLAN = {"b1": "linear(10, start=base, end=0.5)", "weight_decay": "warmup(4) >> const(10 * base)"}


def run(tx, grads, steps: int, params):  # type: ignore[no-untyped-def]
    """(hyperparams after each update, params after each update), all jitted."""
    state = tx.init(params)

    @jax.jit
    def step(params, state):  # type: ignore[no-untyped-def]
        updates, state = tx.update(grads(params), state, params)
        return optax.apply_updates(params, updates), state

    hyper, seen = [], []
    for _ in range(steps):
        params, state = step(params, state)
        hyper.append({k: float(v) for k, v in state.hyperparams.items()})
        seen.append(np.asarray(params, dtype=np.float64))
    return hyper, seen


def test_b1_and_weight_decay_in_state_hyperparams_at_every_count():
    tx = lj.inject_hyperparams(optax.adamw, PLAN, learning_rate=1e-2, b1=0.9, weight_decay=1e-4)
    hyper, _ = run(tx, jnp.zeros_like, 14, jnp.ones(3))
    for k, h in enumerate(hyper):  # after update k, the values update k used (count k)
        np.testing.assert_allclose(h["b1"], linear(k, 10, 0.9, 0.5), **F32)
        np.testing.assert_allclose(h["weight_decay"], warmup_then_const(k, 4, 1e-3), **F32)
        np.testing.assert_allclose(h["learning_rate"], 1e-2, **F32)  # static values pass through
        assert h["b2"] == pytest.approx(0.999) and h["eps"] == pytest.approx(1e-8)  # adamw's defaults


def test_a_zero_gradient_update_is_the_scheduled_weight_decay():
    plan = {"lr": "linear(12, end=0.5 * base)", "wd": "linear(6, start=base, end=5 * base)"}
    tx = lj.inject_hyperparams(optax.adamw, plan, learning_rate=0.1, weight_decay=0.02)
    _, seen = run(tx, jnp.zeros_like, 8, jnp.array([1.0, -2.0]))
    p, want = np.array([1.0, -2.0]), []
    for k in range(8):  # mu = nu = 0, so the adam part is 0; then u = wd * p; p <- p - lr * u
        p = p - linear(k, 12, 0.1, 0.05) * linear(k, 6, 0.02, 0.1) * p
        want.append(p)
    np.testing.assert_allclose(seen, want, rtol=1e-6)
    assert abs(want[-1][0] - (1 - 0.1 * 0.02) ** 8) > 1e-2  # not the configured values


def test_the_scheduled_b1_drives_adams_update():
    plan = {"betas[0]": "linear(4, start=base, end=0.5)"}
    tx = lj.inject_hyperparams(optax.adamw, plan, learning_rate=0.1, beta_1=0.9, weight_decay=0.0)
    _, seen = run(tx, jnp.ones_like, 5, jnp.zeros(()))
    p, mu, nu, want = 0.0, 0.0, 0.0, []
    for k in range(5):  # scale_by_adam with g = 1: bias corrections use the current b1 ** (k + 1)
        b1, b2 = linear(k, 4, 0.9, 0.5), 0.999
        mu = b1 * mu + (1 - b1)
        nu = b2 * nu + (1 - b2)
        p -= 0.1 * (mu / (1 - b1 ** (k + 1))) / (np.sqrt(nu / (1 - b2 ** (k + 1))) + 1e-8)
        want.append(p)
    np.testing.assert_allclose([float(s) for s in seen], want, rtol=5e-6)  # float32 bias corrections
    assert abs(want[1] - (-0.2)) > 0.02  # with a fixed b1 every update is -lr: mu_hat = nu_hat = 1


def test_spellings_map_to_optax_names_and_base_defaults_to_the_signature():
    kwargs = lj.hyperparams(
        {"lr": "const(base)", "betas[0]": "const(base)", "beta_2": "const(base)", "epsilon": "const(base)"},
        optax.adamw,
        learning_rate=3e-4,
    )
    assert set(kwargs) == {"learning_rate", "b1", "b2", "eps"}
    got = {k: float(f(0)) for k, f in kwargs.items()}
    np.testing.assert_allclose(list(got.values()), [3e-4, 0.9, 0.999, 1e-8], rtol=1e-7)  # adamw's own defaults
    assert lj.optax_name("b1") == "b1" and lj.optax_name("wd") == "weight_decay"
    # without the optimizer: no signature to check, static values as given
    assert set(lj.hyperparams({"momentum": "const(base)"}, momentum=0.9)) == {"momentum"}


def test_sgd_momentum_is_scheduled_too():
    tx = lj.inject_hyperparams(
        optax.sgd, {"momentum": "linear(4, start=0.95, end=base)"}, learning_rate=0.1, momentum=0.85
    )
    hyper, _ = run(tx, jnp.ones_like, 6, jnp.zeros(2))
    np.testing.assert_allclose([h["momentum"] for h in hyper], [linear(k, 4, 0.95, 0.85) for k in range(6)], **F32)


def test_a_compiled_plan_keeps_its_context_and_takes_the_static_bases():
    plan = lrdsl.compile_plan({"weight_decay": "linear(50%, start=base, end=0)"}, total_steps=8)
    kwargs = lj.hyperparams(plan, optax.adamw, learning_rate=1.0, weight_decay=0.4)
    np.testing.assert_allclose(
        [float(kwargs["weight_decay"](k)) for k in range(6)], [0.4, 0.3, 0.2, 0.1, 0, 0], atol=1e-7
    )


def test_keys_the_optimizer_does_not_take_are_e0207():
    with pytest.raises(lrdsl.LrdslError) as info:
        lj.hyperparams({"momentum": "const(0.9)"}, optax.adamw, learning_rate=1.0)
    assert info.value.code == "E0207" and "b1, b2, eps, eps_root, weight_decay" in info.value.message
    with pytest.raises(lrdsl.LrdslError) as info:
        lj.hyperparams({"weight_decy": "const(0.1)"}, optax.adamw, learning_rate=1.0)
    assert info.value.code == "E0207" and "did you mean 'weight_decay'?" in info.value.render()
    for not_a_number in ("mask", "nesterov", "mu_dtype"):
        with pytest.raises(lrdsl.LrdslError) as info:
            lj.hyperparams({not_a_number: "const(1)"}, optax.adamw, learning_rate=1.0)
        assert info.value.code == "E0207"
    with pytest.raises(lrdsl.LrdslError) as info:  # a static value by a name adamw lacks
        lj.hyperparams({"b1": "const(base)"}, optax.adamw, learning_rate=1.0, rho=0.9)
    assert info.value.code == "E0207" and "static value 'rho'" in info.value.message


def test_refusals():
    with pytest.raises(lrdsl.UnsupportedError) as info:
        lj.hyperparams({"b1": "plateau(patience=2)"}, optax.adamw, learning_rate=1.0)
    assert info.value.code == "E0801" and info.value.message.startswith("in the plan's 'b1'")
    with pytest.raises(lrdsl.LrdslError) as info:  # the domain, with the static base
        lj.hyperparams({"b1": "const(2 * base)"}, optax.adamw, learning_rate=1.0)
    assert info.value.code == "E0404"
    with pytest.raises(lrdsl.LrdslError) as info:
        lj.hyperparams({"b1": "const(base)"}, optax.adamw, learning_rate=1.0, b1=lambda c: 0.9)
    assert info.value.code == "E0303"
    with pytest.raises(lrdsl.LrdslError) as info:
        lj.hyperparams("cosine(10)", optax.adamw)  # type: ignore[arg-type]
    assert info.value.code == "E0305"

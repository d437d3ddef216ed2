"""lrdsl.jax / Schedule.to_optax: a jit- and vmap-traceable step -> lr
function, within float32 tolerance of the float64 reference for every
primitive, exact at restart boundaries, and usable by optax optimizers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

from samples import CARD, SAMPLES, assert_float32_close, reference  # noqa: E402

import lrdsl  # noqa: E402
from lrdsl.errors import LrdslError  # noqa: E402


@pytest.mark.parametrize(("text", "kw"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_float32_values_within_float32_tolerance_of_the_float64_reference(text, kw):
    n = 9000
    fn = lrdsl.compile(text, **kw).to_optax()
    got = fn(jnp.arange(n))
    assert got.dtype == jnp.float32 and got.shape == (n,)
    assert_float32_close(got, reference(text, n, **kw), peak_ulps=2)


def test_jit_vmap_and_scalars_agree():
    fn = lrdsl.compile(CARD, base_lr=1e-3, total_steps=100).to_optax()
    steps = jnp.arange(120)
    eager = np.asarray(fn(steps))
    assert np.array_equal(np.asarray(jax.jit(fn)(steps)), eager)
    assert np.array_equal(np.asarray(jax.vmap(fn)(steps)), eager)
    assert np.array_equal(np.asarray(jax.jit(jax.vmap(fn))(steps)), eager)
    scalar = jax.jit(fn)
    assert [float(scalar(t)) for t in (0, 5, 37, 119)] == [float(eager[t]) for t in (0, 5, 37, 119)]
    assert float(fn(7)) == float(eager[7])  # a Python int step
    assert_float32_close(eager, reference(CARD, 120, base_lr=1e-3, total_steps=100))


def test_restart_boundaries_are_exact():
    fn = lrdsl.compile("cosine_restarts(11, t_mul=3)", base_lr=0.1).to_optax()
    assert float(fn(1331)) == pytest.approx(0.1)  # cycle 5 starts at 11*(1+3+9+27+81)
    assert float(fn(1330)) < 1e-6  # the last step of cycle 4
    fn2 = lrdsl.compile("cosine_restarts(37, t_mul=1.5, m_mul=0.8)").to_optax()
    # cycles of 37, 55.5, 83.25, ...: the reference's exact boundaries, step for step
    want = reference("cosine_restarts(37, t_mul=1.5, m_mul=0.8)", 3000)
    starts = np.flatnonzero(np.diff(want) > 0) + 1
    got = np.asarray(fn2(jnp.arange(3000)), dtype=np.float64)
    assert np.array_equal(np.flatnonzero(np.diff(got) > 0) + 1, starts)


def test_steps_past_2_to_the_24_still_advance():
    big = 2**24
    stair = lrdsl.compile(f"step({big + 1}, gamma=0.5)").to_optax()
    assert float(stair(big)) == 1.0 and float(stair(big + 1)) == 0.5
    cyc = lrdsl.compile("cyclic(2, low=0)").to_optax()
    assert [float(cyc(big + k)) for k in range(4)] == [0.0, 0.5, 1.0, 0.5]


def test_optax_optimizers_follow_the_schedule():
    optax = pytest.importorskip("optax")
    text = "warmup(3) >> cosine(7, min=0.1)"
    want = reference(text, 12, base_lr=0.5)
    fn = lrdsl.compile(text, base_lr=0.5).to_optax()

    # plain sgd with a gradient of 1: each update is -lr(count)
    tx = optax.sgd(learning_rate=fn)
    params = jnp.zeros(())
    state = tx.init(params)
    update = jax.jit(tx.update)
    for k in range(12):
        updates, state = update(jnp.ones(()), state)
        assert float(updates) == pytest.approx(-want[k], rel=1e-6, abs=1e-9)

    # inject_hyperparams exposes the lr it used at each count
    tx = optax.inject_hyperparams(optax.adamw)(learning_rate=fn)
    state = tx.init(params)
    for k in range(12):
        _, state = tx.update(jnp.ones(()), state, params)
        assert float(state.hyperparams["learning_rate"]) == pytest.approx(want[k], rel=1e-6, abs=1e-9)


def test_plateau_is_refused():
    with pytest.raises(LrdslError) as info:
        lrdsl.compile("warmup(5) >> plateau(patience=3)").to_optax()
    assert info.value.code == "E0801" and "metric" in info.value.message


def test_x64_computes_in_float64():
    code = textwrap.dedent(
        f"""
        import jax.numpy as jnp, numpy as np, lrdsl
        text = {CARD!r}
        got = lrdsl.compile(text, total_steps=500).to_optax()(jnp.arange(500))
        want = lrdsl.compile(text, total_steps=500).values(np.arange(500))
        assert got.dtype == jnp.float64, got.dtype
        err = np.max(np.abs(np.asarray(got) - want) / np.maximum(np.abs(want), 1e-300))
        assert err < 1e-13, err
        print("ok")
        """
    )
    env = {**os.environ, "JAX_ENABLE_X64": "1", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]

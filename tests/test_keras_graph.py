"""The Keras graph is as lean as Keras's own (lrdsl.backends.lean, the
binary-search look-up, autograph left out) and keeps what DSLSchedule
promises: float32 values within 1e-6 relative (or 1e-9 absolute) of the
float64 reference, eagerly and under XLA, at steps the emitter samples do not
reach (far cycles, 2**53 - 1, the ends of long decays, the power tables'
limits); restart boundaries exact; a float64 ``floatx`` on the reference
formulas."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from samples import assert_float32_close  # noqa: E402

import lrdsl  # noqa: E402
from lrdsl.backends import lean  # noqa: E402
from lrdsl.backends.tensor import TensorOps, keras_lib  # noqa: E402
from lrdsl.keras import DSLSchedule  # noqa: E402

TOP = 2**53 - 1
RNG = np.random.default_rng(16)


def around(*points: int, top: int = TOP) -> np.ndarray:
    """The points and one either side, inside [0, top]."""
    steps = {p + d for p in points for d in (-1, 0, 1)}
    return np.array(sorted(s for s in steps if 0 <= s <= top), dtype=np.int64)


def spread(top: int, n: int = 3000) -> np.ndarray:
    """0..299 and n steps log-spread up to top."""
    far = np.unique(np.geomspace(1, top, n).astype(np.int64))
    return np.unique(np.concatenate([np.arange(300), far, RNG.integers(0, top, 300)]))


def restart_starts(n: int, q: int, top: int = TOP) -> list[int]:
    """Cycle starts of a whole t_mul, by hand: n * (q**i - 1) / (q - 1)."""
    out, i = [], 0
    while (s := n * (q**i - 1) // (q - 1)) <= top:
        out.append(s)
        i += 1
    return out


CASES = [
    ("cosine(10000000, min=1e-5)", around(0, 5_000_000, 9_999_998, 10_000_000, 2**40)),
    ("cosine(10000000, min=1e-5)", spread(10_000_100)),
    ("cosine(1000, peak=0, min=0.1)", np.arange(1100)),  # rising: the reference formula
    ("warmup(5) >> cosine(3) >> warmup(2, start=0.5) >> cosine(7, min=0.01) >> const(0.02)", np.arange(40)),
    ("warmup(500) >> cosine(9500, alpha=0.01)", spread(20_000)),
    ("cosine_restarts(1000, t_mul=2, m_mul=0.9)", around(*restart_starts(1000, 2))),
    ("cosine_restarts(1000, t_mul=2, m_mul=0.9, alpha=0.01)", spread(TOP)),
    ("cosine_restarts(11, t_mul=3)", around(*restart_starts(11, 3))),
    ("cosine_restarts(7, t_mul=1.0000001, m_mul=0.999)", spread(2**40)),  # the closed-form tail
    ("cosine_restarts(100, t_mul=0.9, cycles=30, m_mul=1.01)", np.arange(1200)),  # shrinking
    ("cosine_restarts(250, t_mul=1, m_mul=0.95)", spread(TOP)),
    ("exp(0.9993)", np.arange(0, 60_000, 7)),
    ("exp(0.5, every=1000)", np.concatenate([spread(TOP), around(1_076_251, 1_076_252 * 1000)])),
    ("exp(0.5, every=1000, staircase=true)", spread(TOP)),
    ("exp(1.0001)", np.arange(0, 800_000, 97)),  # growth, up to 3e34
    ("exp(0.999999)", spread(10**8)),  # past the power tables: the lean exp
    ("step(7, gamma=0.37)", spread(TOP)),
    ("multistep([" + ", ".join(str(50 * k * k) for k in range(1, 40)) + "], gamma=0.8)", spread(100_000)),
    ("repeat(cosine(500, min=0.01), 6, decay=0.7) >> const(1e-4)", np.arange(3200)),
    ("max(cosine(4000), exp(0.999, every=3)) * 0.5", np.arange(0, 20_000, 3)),
]


def xla(sched):  # type: ignore[no-untyped-def]
    return tf.function(lambda t: sched(t), jit_compile=True)


@pytest.mark.parametrize(("text", "steps"), CASES, ids=[f"{k}-{c[0][:40]}" for k, c in enumerate(CASES)])
def test_lean_values_within_the_float32_bound(text: str, steps: np.ndarray) -> None:
    sched = DSLSchedule(text, base_lr=0.1)
    want = lrdsl.compile(text, base_lr=0.1).values(steps)
    t = tf.constant(steps, tf.int64)
    eager = keras.ops.convert_to_numpy(sched(t)).astype(np.float64)
    compiled = xla(sched)(t).numpy().astype(np.float64)
    assert eager.dtype == np.float64 and sched(t).dtype == tf.float32
    assert_float32_close(eager, want)
    assert_float32_close(compiled, want)


@pytest.mark.parametrize(("n", "q"), [(1000, 2), (11, 3), (5, 4)])
def test_every_restart_boundary_is_exact_to_2_to_the_53(n: int, q: int) -> None:
    """The first step of each cycle is the cycle's peak, the step before it the
    last of the previous cycle (near min), at every cycle start below 2**53."""
    starts = restart_starts(n, q)
    sched = DSLSchedule(f"cosine_restarts({n}, t_mul={q}, m_mul=0.9)", base_lr=1.0)
    fn = xla(sched)
    firsts = fn(tf.constant(starts, tf.int64)).numpy()
    np.testing.assert_allclose(firsts, 0.9 ** np.arange(len(starts)), rtol=1e-6)
    lasts = fn(tf.constant(starts[1:], tf.int64) - 1).numpy()
    lengths = np.diff(starts).astype(np.float64)
    bound = (np.pi / 2 / lengths) ** 2 * 0.9 ** np.arange(len(lengths)) * (1 + 1e-6)
    assert np.all(lasts <= bound)  # within (pi/2 / length)**2 of min = 0


@pytest.mark.parametrize("bits", [64, 32])
@pytest.mark.parametrize("size", [5, 7, 8, 54, 97, 300])
def test_searchsorted_bisection_agrees_with_numpy(bits: int, size: int) -> None:
    top = 2**53 - 1 if bits == 64 else 2**31 - 1
    table = np.sort(RNG.integers(0, 10 * size, size)) * (top // (20 * size))  # with repeats
    steps = np.unique(np.concatenate([table - 1, table, table + 1, [0, top], RNG.integers(0, top, 200)]))
    steps = steps[(steps >= 0) & (steps <= top)]
    idtype = f"int{bits}"
    xp = TensorOps(keras_lib(), f"float{bits}", idtype)
    for side in ("left", "right"):
        got = keras.ops.convert_to_numpy(xp.searchsorted(table.tolist(), tf.constant(steps, idtype), side))
        np.testing.assert_array_equal(got, np.searchsorted(table, steps, side=side))
        one = keras.ops.convert_to_numpy(xp.searchsorted(table.tolist(), tf.constant(int(table[3]), idtype), side))
        assert int(one) == int(np.searchsorted(table, table[3], side=side))  # a scalar step


@pytest.mark.parametrize("gamma", [0.5, 0.9, 0.9993, 1.0001, 1e-5, 3.0, 1.0])
@pytest.mark.parametrize("per", [1, 7, 1000])
def test_power_tables_are_libm_pow(gamma: float, per: int) -> None:
    """gamma**(n/per) from the digit tables: within three ulps and the
    exponents' rounding (|log| * 2.2e-16, below 2e-13) of math.pow, and 0 or
    inf past float64."""
    xp = TensorOps(keras_lib(), "float64", "int64")
    last = math.ceil(746.0 * per / abs(math.log(gamma))) if gamma != 1 else 10**6
    n = np.unique(
        np.concatenate([np.arange(3000), around(last, 2047, 2048, 4095, 4096), RNG.integers(0, 2 * last, 500)])
    )
    got = np.asarray(keras.ops.convert_to_numpy(lean._powers(xp, gamma, tf.constant(n, tf.int64), per=per)) + 0.0)
    got = np.broadcast_to(got, n.shape)

    def pow_(k: int) -> float:
        try:
            return math.pow(gamma, k / per)
        except OverflowError:
            return math.inf

    want = np.array([pow_(int(k)) for k in n])
    finite = np.isfinite(want) & (want > 1e-300)
    g, w = got[finite], want[finite]
    tol = (np.abs(np.log(w)) * 2.5e-16 + 6e-16) * w  # the exponents' rounding, and three ulps
    assert np.all(np.abs(g - w) <= tol), np.max(np.abs(g - w) / tol)
    assert np.all(got[~finite] == np.where(want[~finite] > 1, math.inf, got[~finite]))
    assert np.all(got[want == 0] <= 1e-300)


def graph_ops(text: str) -> list[str]:
    sched = DSLSchedule(text, base_lr=0.1)
    fn = tf.function(lambda t: sched(t)).get_concrete_function(tf.TensorSpec([], tf.int64))
    return [op.type for op in fn.graph.get_operations()]


@pytest.mark.parametrize(
    ("text", "most"),
    [
        ("cosine_restarts(1000, t_mul=2, m_mul=0.9)", 100),
        ("warmup(500) >> cosine(9500, alpha=0.01)", 80),
        ("cosine(10000, alpha=0.01)", 50),
        ("exp(0.5, every=1000)", 50),
        ("exp(0.5, every=1000, staircase=true)", 40),
    ],
)
def test_the_graph_is_as_small_as_keras_s(text: str, most: int) -> None:
    """A scalar step's graph: no reduction over a table (a look-up per halving
    instead), one float32 sine for a cosine, no float64 pow or exp for a
    constant's power (tables), one gather per look-up; 222 ops for SGDR before."""
    types = graph_ops(text)
    assert len(types) <= most, (len(types), sorted(set(types)))
    assert "Sum" not in types and "Pow" not in types and "Exp" not in types and "Cos" not in types
    assert types.count("Sin") == (1 if "cos" in text else 0)


def test_the_schedule_is_not_rewritten_by_autograph() -> None:
    """Autograph would re-parse every formula on each trace (2.8 s for SGDR in
    a loop, against Keras's 0.05); tf.function calls the schedule as it is."""
    from tensorflow.python.autograph.impl import api

    assert api.is_autograph_artifact(DSLSchedule.__call__)


def test_a_float64_floatx_keeps_the_reference_formulas() -> None:
    text = "warmup(100) >> cosine_restarts(400, t_mul=2, m_mul=0.9) >> const(1e-6)"
    old = keras.config.floatx()
    keras.config.set_floatx("float64")
    try:
        sched = DSLSchedule(text, base_lr=0.1, total_steps=5000)
        steps = np.arange(5200)
        got = keras.ops.convert_to_numpy(sched(tf.constant(steps, tf.int64)))
        types = graph_ops("cosine(100)")
    finally:
        keras.config.set_floatx(old)
    assert got.dtype == np.float64
    want = lrdsl.compile(text, base_lr=0.1, total_steps=5000).values(steps)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-18)
    assert "Cos" in types  # the reference's raised cosine, in float64

"""Decay and warm-up shapes: ``cooldown(n, shape=...)`` and ``warmup(n, shape=sqrt)``.

Expected values are by hand: each shape's formula from the primitive's doc
evaluated in 40-digit arithmetic (mpmath), or the trainers' own float
expressions written out below (torchtitan's ``linear_warmup_stable_decay``,
HuggingFace's ``_get_wsd_scheduler_lambda``, Megatron's ``get_lr``), never
lrdsl's code.  Every value test runs on both evaluators (``backend``).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from parity import assert_parity

import lrdsl

pytestmark = pytest.mark.usefixtures("backend")

EPS = float(np.finfo(np.float64).eps)
SHAPES = ("linear", "cos", "sqrt", "square", "power", "exp")
mpmath.mp.dps = 40


def f_exact(shape: str, p: mpmath.mpf, k: float = 2.0) -> mpmath.mpf:
    """The doc's f(p): the fraction of the drop still to come."""
    return {
        "linear": lambda: 1 - p,
        "cos": lambda: (1 + mpmath.cos(mpmath.pi * p)) / 2,
        "sqrt": lambda: 1 - mpmath.sqrt(p),
        "square": lambda: 1 - p**2,
        "power": lambda: 1 - p ** mpmath.mpf(k),
    }[shape]()


def exact(shape: str, n: int, start: float, end: float, t: int, k: float = 2.0) -> float:
    s, e = mpmath.mpf(start), mpmath.mpf(end)
    if t >= n:
        return float(e)
    p = mpmath.mpf(t) / n
    if shape == "exp":
        return float(s * (e / s) ** p)
    return float(e + (s - e) * f_exact(shape, p, k))


def text(shape: str, n: int, start: float, end: float, k: float | None = None) -> str:
    extra = f", power={k!r}" if k is not None else ""
    return f"cooldown({n}, shape={shape}, start={start!r}, end={end!r}{extra})"


# ---------------------------------------------------------------- values


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("start", "end"), [(0.3, 0.0), (0.3, 0.01), (1e-3, 1e-5), (0.1, 0.3)])
def test_values_against_40_digits(shape: str, start: float, end: float) -> None:
    """Every step of a 997-step cooldown, both halves, up or down: within a few
    ulps of the exact value (power: of start - end near the end, where 1 - p**k
    cancels), and the end held after step n."""
    if shape == "exp" and end == 0:
        pytest.skip("shape=exp needs end > 0")
    k = 1.7 if shape == "power" else None
    n = 997
    sched = lrdsl.compile(text(shape, n, start, end, k))
    steps = np.arange(n + 3)
    want = np.array([exact(shape, n, start, end, int(t), k or 2.0) for t in steps])
    got = sched.values(steps)
    scalar = np.array([sched(int(t)) for t in steps])
    tol = 4 * EPS * np.abs(want) + (64 * EPS * abs(start - end) if shape == "power" else 0)
    for how, vals in (("values()", got), ("sched(t)", scalar)):
        bad = np.nonzero(np.abs(vals - want) > tol)[0]
        assert bad.size == 0, f"{how} at steps {bad[:5]}: {vals[bad[:5]]} vs {want[bad[:5]]}"


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("n", [1, 2, 3, 8, 1001, 10**9 + 7, 2**53 - 8])
def test_start_and_end_exact(shape: str, n: int) -> None:
    """Step 0 is start and step n is end, bit for bit, for values whose
    difference does not round-trip (0.3 - 0.1 + 0.1 != 0.3 is the trap)."""
    for start, end in ((0.3, 0.1), (0.7, 0.30000000000000004), (1e-4, 3e-4), (2.5, 0.37)):
        k = 1.3 if shape == "power" else None
        sched = lrdsl.compile("const(9, steps=2) >> " + text(shape, n, start, end, k))
        assert sched(2) == start
        assert sched(n + 2) == end
        assert sched(n + 3) == end
        assert list(sched.values(np.array([2, n + 2, n + 3]))) == [start, end, end]


@pytest.mark.parametrize("shape", SHAPES)
def test_monotone(shape: str) -> None:
    """Non-increasing down, non-decreasing up, at every step of a long
    cooldown and around the half-way switch and both ends of a huge one."""
    k = 3.5 if shape == "power" else None
    for start, end in ((0.3, 0.01), (0.01, 0.3)):
        sign = 1 if start > end else -1
        n = 1_000_003
        sched = lrdsl.compile(text(shape, n, start, end, k))
        v = sched.values(np.arange(n + 1))
        assert np.all(sign * np.diff(v) <= 0), shape
        big = 2**40 + 1
        sched = lrdsl.compile(text(shape, big, start, end, k))
        for at in (0, big // 2 - 2000, big - 4000):
            w = sched.values(np.arange(at, at + 4001))
            assert np.all(sign * np.diff(w) <= 0), (shape, at)


def test_range_and_scalar_agree_across_the_switch() -> None:
    """The kernel's vector loops (split at the half) and its scalar path, from
    every offset around the split."""
    for shape in SHAPES:
        k = 0.6 if shape == "power" else None
        n = 101
        sched = lrdsl.compile(text(shape, n, 0.5, 0.02, k))
        scalar = np.array([sched(t) for t in range(n + 2)])
        for lo in range(45, 56):
            got = sched.values(np.arange(lo, n + 2))
            atol = 16 * EPS * 0.48 if shape == "power" else 0  # libmvec's pow vs libm's, then 1 - p**k
            np.testing.assert_allclose(got, scalar[lo:], rtol=8 * EPS, atol=atol, err_msg=f"{shape} from {lo}")


def test_trainers_float_formulas() -> None:
    """The shapes are the trainers' own: torchtitan's min + (1 - min) * f,
    Megatron's min + coeff * (max - min), HuggingFace's f * (1 - r) + r, in
    their float arithmetic, at every step of a decay (parity tolerance)."""
    n, base, m = 2000, 3e-4, 0.1
    steps = np.arange(n + 1)
    p = steps / n
    forms = {
        "linear": 1 - p,
        "cos": 0.5 * (1.0 + np.cos(math.pi * p)),
        "sqrt": 1 - np.sqrt(p),
    }
    for shape, f in forms.items():
        got = lrdsl.compile(f"cooldown({n}, shape={shape}, end={m} * base)", base_lr=base).values(steps)
        assert_parity(got, base * (m + (1 - m) * f), steps, base, f"cooldown shape={shape}")


def test_warmup_sqrt_is_huggingfaces() -> None:
    """warmup(n, shape=sqrt): HF's WSD '1-sqrt' warm-up r + (1 - r)(1 - sqrt(1 - t/n))."""
    n, base, r = 1000, 1e-3, 0.05
    sched = lrdsl.compile(f"warmup({n}, start={r} * base, shape=sqrt) >> const()", base_lr=base)
    steps = np.arange(n + 5)
    p = np.minimum(steps, n) / n
    want = base * ((1.0 - np.sqrt(1.0 - p)) * (1.0 - r) + r)
    assert_parity(sched.values(steps), want, steps, base, "warmup shape=sqrt")
    assert sched(0) == r * base
    assert np.all(np.diff(sched.values(steps)) >= 0)
    exact40 = [
        float(mpmath.mpf(r * base) + (base - mpmath.mpf(r * base)) * (1 - mpmath.sqrt(1 - mpmath.mpf(t) / n)))
        for t in range(n)
    ]
    np.testing.assert_allclose(sched.values(np.arange(n)), exact40, rtol=4 * EPS, atol=0)


# ---------------------------------------------------------------- the WSD idiom


def test_wsd_idiom_with_elastic_hold() -> None:
    """warmup(2k) >> hold() >> cooldown(20%, shape=sqrt): the hold fills what the
    warm-up and the 20% cooldown leave of total_steps, and starts where the
    warm-up ends (base)."""
    base, total = 1e-3, 100_000
    sched = lrdsl.compile("warmup(2k) >> hold() >> cooldown(20%, shape=sqrt)", base_lr=base, total_steps=total)
    kinds = [(ph.kind, ph.start, ph.end) for ph in sched.phases]
    assert kinds == [("warmup", 0, 2000), ("hold", 2000, 80000), ("cooldown", 80000, 100000)]
    steps = np.arange(total + 10)
    want = np.where(steps < 2000, base * steps / 2000, base)
    u = np.clip(steps - 80000, 0, 20000)
    want = np.where(steps >= 80000, base * (1 - np.sqrt(u / 20000)), want)
    assert_parity(sched.values(steps), want, steps, base, "WSD idiom")
    assert sched(80000) == base and sched(total) == 0.0
    with pytest.raises(lrdsl.LrdslError) as info:
        lrdsl.compile("warmup(2k) >> hold() >> cooldown(20%, shape=sqrt)", base_lr=base)
    assert info.value.code == "E0501"  # the 20% (and the elastic hold) need total_steps
    with pytest.raises(lrdsl.LrdslError) as info:
        lrdsl.compile("warmup(2k) >> hold() >> cooldown(20k, shape=sqrt)", base_lr=base)
    assert info.value.code == "E0601"


def test_cooldown_start_defaults_to_prev() -> None:
    sched = lrdsl.compile("linear(10, start=1, end=0.4) >> cooldown(6, end=0.1)")
    assert sched(10) == 0.4 and sched(13) == pytest.approx(0.25, rel=1e-15) and sched(16) == 0.1
    sched = lrdsl.compile("cooldown(4, shape=cos)", base_lr=0.8)  # first: base
    assert sched(0) == 0.8 and sched(2) == pytest.approx(0.4, rel=1e-15)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("source", "code", "words"),
    [
        ("cooldown(10, power=3)", "E0401", ("power= is the exponent of shape=power", "linear")),
        ("cooldown(10, shape=sqrt, power=0.5)", "E0401", ("shape=power",)),
        ("cooldown(10, shape=power, power=0)", "E0401", ("power", "> 0")),
        ("cooldown(10, shape=exp)", "E0401", ("shape=exp", "end must both be > 0")),
        ("const(0, steps=3) >> cooldown(10, shape=exp, end=0.1)", "E0401", ("start=0",)),
        ("cooldown(10, shape=cosine)", "E0306", ("cos",)),
        ("cooldown(0)", "E0401", ()),
        ("warmup(10, shape=one_minus_sqrt) >> const(1)", "E0306", ("sqrt",)),
    ],
)
def test_errors(source: str, code: str, words: tuple[str, ...]) -> None:
    with pytest.raises(lrdsl.LrdslError) as info:
        lrdsl.compile(source, base_lr=0.1)
    assert info.value.code == code, info.value.render()
    rendered = info.value.render()
    for w in words:
        assert w in rendered, rendered

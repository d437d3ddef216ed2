"""The C kernel against the numpy reference: registry opcodes, random
schedules on random step arrays, restart boundaries, memory behaviour.

Agreement bound (README, "Backends"): for every step,
``|kernel - reference| <= 8 * eps * max(|reference|, S)`` with ``eps = 2**-52``
and ``S`` the largest magnitude the schedule takes on the evaluated steps: the
kernel's vector loops use glibc's libmvec (sin/cos/pow within 4 ulp) where
numpy uses its own SIMD routines (within ~1-4 ulp), and a value like
``min + (peak - min) * h`` carries h's error at the scale of ``peak``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import schedules

import lrdsl
from lrdsl import backends
from lrdsl.primitives import CATALOGUE

kernel = pytest.importorskip("lrdsl._kernel")
EPS = 2.0**-52


def both(text: str, total: int) -> tuple[lrdsl.Schedule, lrdsl.Schedule]:
    try:
        backends.force("cython")
        fast = lrdsl.compile(text, total_steps=total, base_lr=0.7)
        backends.force("numpy")
        ref = lrdsl.compile(text, total_steps=total, base_lr=0.7)
    finally:
        backends.force(None)
    assert fast._kernel is not None and ref._kernel is None
    return fast, ref


def assert_close(got: np.ndarray, want: np.ndarray) -> None:
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite], want[~finite])  # overflow (gamma > 1) to inf alike
    got, want = got[finite], want[finite]
    scale = max(float(np.max(np.abs(want))) if want.size else 0.0, 1e-300)
    bound = 8 * EPS * np.maximum(np.abs(want), scale)
    bad = np.flatnonzero(~(np.abs(got - want) <= bound))
    assert bad.size == 0, f"first mismatch at index {bad[0]}: kernel {got[bad[0]]!r} reference {want[bad[0]]!r}"


def test_kernel_opcodes_equal_the_registry():
    for prim in CATALOGUE:
        name = "const" if prim.name == "hold" else prim.name  # hold lowers to const
        assert kernel.OPCODES[name] == prim.opcode, prim.name
    from lrdsl.backends.lower import STRUCTURAL_OPS

    for name, code in STRUCTURAL_OPS.items():
        assert kernel.OPCODES[name] == code
    assert kernel.NODE_FIELDS == 8


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules(), st.data())
def test_kernel_matches_reference_on_random_schedules(sched, data):
    text, total = sched
    try:
        fast, ref = both(text, total)
    except lrdsl.CompositionError as err:
        assume(err.code != "E0603")  # the bounded segments outgrew the drawn total
        raise
    horizon = total + 500
    contiguous = np.arange(0, horizon, dtype=np.int64)  # the range path: every boundary
    assert_close(fast.values(contiguous), ref.values(contiguous))
    start = data.draw(st.integers(0, 10**7))
    window = np.arange(start, start + 257, dtype=np.int64)
    assert_close(fast.values(window), ref.values(window))
    picks = np.array(data.draw(st.lists(st.integers(0, 2 * horizon), min_size=1, max_size=200)), dtype=np.int64)
    assert_close(fast.values(np.sort(picks)), ref.values(np.sort(picks)))  # the sorted path
    assert_close(fast.values(picks), ref.values(picks))  # unsorted
    for t in picks[:20]:
        assert fast(int(t)) == ref(int(t))  # the scalar paths are bit-identical (libm)


@pytest.mark.parametrize(
    ("n", "t_mul", "whole_starts"), [(11, 1, 273), (11, 2, 9), (11, 3, 6), (16, 1.5, 6), (100, 1.1, 2)]
)
def test_restart_boundaries(n, t_mul, whole_starts):
    from fractions import Fraction

    text = f"cosine_restarts({n}, t_mul={t_mul}, m_mul=0.8)"
    fast, ref = both(text, 1)
    steps = np.arange(0, 3000, dtype=np.int64)
    a, b = fast.values(steps), ref.values(steps)
    assert_close(a, b)
    start, length, starts = Fraction(0), Fraction(n), []
    while start < 3000:  # exact cycle starts for the float64 t_mul
        starts.append(start)
        start, length = start + length, length * Fraction(t_mul)
    peaks = [(i, int(s)) for i, s in enumerate(starts) if s.denominator == 1]
    assert len(peaks) == whole_starts
    for i, s in peaks:
        assert a[s] == pytest.approx(0.7 * 0.8**i, rel=1e-14)  # a restart peak, on both paths
        assert b[s] == pytest.approx(0.7 * 0.8**i, rel=1e-14)
        if i:
            assert a[s - 1] < 0.7 * 0.8 ** (i - 1) * 0.05  # the end of the cycle before


def test_out_allocates_nothing_on_a_range():
    import tracemalloc

    s = lrdsl.compile(
        "warmup(5%) >> cosine_restarts(5%, t_mul=2, m_mul=0.9) >> const(1e-6)", total_steps=200_000, base_lr=0.1
    )
    steps = np.arange(200_000)
    out = np.empty(200_000)
    s.values(steps, out=out)
    tracemalloc.start()
    s.values(steps, out=out)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 64 * 1024  # Python-level bookkeeping only; no array of the size of out


def test_values_into_a_non_contiguous_out():
    s = lrdsl.compile("cosine(100)")
    out = np.zeros((100, 2))[:, 0]
    s.values(np.arange(100), out=out)
    np.testing.assert_allclose(out, s.values(np.arange(100)), rtol=0, atol=1e-15)


def test_kernel_reports_its_instruction_set():
    assert "x86-64" in kernel.ISA or "portable" in kernel.ISA

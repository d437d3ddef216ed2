"""The Python surface: compile, Schedule, values, phases, canonical text."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import lrdsl
from lrdsl.language.ast import Module

pytestmark = pytest.mark.usefixtures("backend")

CARD = "warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)"


def test_import_is_light():
    code = "import sys, lrdsl; print(sorted(m for m in ('numpy', 'lark', 'torch', 'keras', 'tensorflow', 'jax', 'optax', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_issue_example():
    s = lrdsl.compile("warmup(2ep) >> step(3ep, gamma=0.5)", base_lr=0.1, steps_per_epoch=100)
    assert isinstance(s(0), float) and isinstance(s(250), float)
    v = s.values(np.arange(10_000))
    assert v.dtype == np.float64 and v.shape == (10_000,)
    assert [p.kind for p in s.phases] == ["warmup", "step"]
    assert isinstance(lrdsl.parse("cosine(10)"), Module)


def test_values_of_unsorted_and_shaped_arrays():
    s = lrdsl.compile(CARD, total_steps=100, base_lr=1e-3)
    steps = np.array([[99, 0, 5], [100, 14, 15]])
    expected = np.array([[s(99), s(0), s(5)], [s(100), s(14), s(15)]])
    np.testing.assert_allclose(s.values(steps), expected, rtol=1e-15)
    rng = np.random.default_rng(0)
    perm = rng.permutation(300)
    np.testing.assert_allclose(s.values(perm), s.values(np.arange(300))[perm], rtol=0)
    assert s.values(np.array([], dtype=np.int64)).shape == (0,)
    assert s.values(np.array([3, 3, 3], dtype=np.int32)).tolist() == [s(3)] * 3


def test_values_into_out():
    s = lrdsl.compile("cosine(100)")
    out = np.empty(50)
    res = s.values(np.arange(50), out=out)
    assert res is out
    np.testing.assert_allclose(out, s.values(np.arange(50)), rtol=0)
    with pytest.raises(lrdsl.LrdslError):
        s.values(np.arange(50), out=np.empty(49))
    with pytest.raises(lrdsl.LrdslError):
        s.values(np.arange(50), out=np.empty(50, dtype=np.float32))


@pytest.mark.parametrize("bad", [-1, 1.5, "3", None, 2**63])
def test_bad_steps(bad):
    s = lrdsl.compile("cosine(100)")
    with pytest.raises(lrdsl.LrdslError):
        s(bad)


def test_bad_step_arrays():
    s = lrdsl.compile("cosine(100)")
    with pytest.raises(lrdsl.LrdslError):
        s.values(np.array([0, -1]))
    with pytest.raises(lrdsl.LrdslError):
        s.values(np.array([0.5]))


def test_phases_report_ranges():
    s = lrdsl.compile(CARD, total_steps=100, base_lr=1e-3)
    warm, sgdr, hold = s.phases
    assert (warm.start, warm.end, warm.kind, warm.text) == (0, 5, "warmup", "warmup(5)")
    assert warm.first == 0.0 and warm.hi == pytest.approx(8e-4)
    assert (sgdr.start, sgdr.end, sgdr.kind) == (5, 100, "cosine_restarts")
    assert sgdr.first == 1e-3 and sgdr.hi == 1e-3 and 0 < sgdr.lo < 1e-5
    assert (hold.start, hold.end, hold.first, hold.lo, hold.hi) == (100, None, 1e-6, 1e-6, 1e-6)


def test_canonical_text_round_trips():
    s = lrdsl.compile("warmup( 5 )>>cosine_restarts(10,t_mul=2,m_mul=.9)>>const(1e-6)  # c", total_steps=100)
    assert str(s) == "warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-06)"
    again = lrdsl.compile(str(s), total_steps=100)
    assert again.ast == s.ast
    np.testing.assert_array_equal(again.values(np.arange(200)), s.values(np.arange(200)))
    assert "lrdsl.compile(" in repr(s) and "total_steps=100" in repr(s)


def test_with_base_recompiles_for_another_base():
    s = lrdsl.compile("warmup(4) >> cosine(10, min=1e-5)", base_lr=0.1)
    t = s.with_base(0.2)
    assert t(4) == 0.2 and s(4) == 0.1
    assert t(14) == 1e-5  # numbers in the text stay absolute


def test_backend_is_reported():
    assert lrdsl.backend() in ("cython", "numpy")
    assert (lrdsl.backend() == "numpy") == bool(lrdsl.backend_reason())


def test_program_round_trips_through_json():
    from lrdsl.language.ir import Program

    s = lrdsl.compile(CARD, total_steps=100, base_lr=1e-3)
    again = Program.from_json(s.program.to_json())
    assert again == s.program
    assert "cosine_restarts len=95" in s.program.pretty()

"""The registry: every primitive's documented example runs, its signature is
consistent, and formulas give hand-derived values where no framework has an
equivalent (the parity tests cover the rest)."""

from __future__ import annotations

import doctest
import math
from fractions import Fraction

import numpy as np
import pytest

import lrdsl
from lrdsl.primitives import CATALOGUE, REGISTRY
from lrdsl.primitives.base import REQUIRED

pytestmark = pytest.mark.usefixtures("backend")


@pytest.mark.parametrize("prim", CATALOGUE, ids=lambda p: p.name)
def test_documented_example_runs(prim):
    test = doctest.DocTestParser().get_doctest(prim.doc, {"lrdsl": lrdsl}, prim.name, None, 0)
    assert test.examples, f"{prim.name} has no runnable example"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0


@pytest.mark.parametrize("prim", CATALOGUE, ids=lambda p: p.name)
def test_registry_entry_is_complete(prim):
    assert prim.summary and prim.doc and prim.opcode > 0
    names = [p.name for p in prim.params]
    assert len(names) == len(set(names))
    if prim.kind != "combinator":
        assert prim.formula is not None and prim.prepare is not None and prim.length is not None
        # required parameters come first among the positional ones
        positional = [p for p in prim.params if p.positional]
        seen_optional = False
        for p in positional:
            if p.default is REQUIRED:
                assert not seen_optional, f"{prim.name}: required {p.name} after an optional parameter"
            else:
                seen_optional = True


def test_unbounded_primitives_accept_steps():
    for prim in CATALOGUE:
        if prim.kind != "primitive" or prim.name == "hold":
            continue
        names = [p.name for p in prim.params]
        bounded = prim.params[0].name == "n" and prim.params[0].default is REQUIRED
        assert bounded or "steps" in names, f"{prim.name} has no way to be bounded"


def test_restart_cycles_are_counted_exactly():
    # n=8, t_mul=1.5: cycles of 8, 12, 18, 27 steps start at 0, 8, 20, 38, 65
    s = lrdsl.compile("cosine_restarts(8, t_mul=1.5, m_mul=0.5)")
    assert [s(t) for t in (0, 8, 20, 38, 65)] == [1.0, 0.5, 0.25, 0.125, 0.0625]
    assert s(19) == pytest.approx(0.5 * math.sin(math.pi / 2 / 12) ** 2, rel=1e-13)
    # n=10, t_mul=1.1: t_mul is the double 1.1000000000000000888 (as in Keras), so
    # cycle 2 starts at 21 + 8.9e-16: step 21 is the last of cycle 1, 22 the first
    # whole step of cycle 2, whose start 21.000000000000001 is 0.999... steps before it
    s = lrdsl.compile("cosine_restarts(10, t_mul=1.1, m_mul=0.5)")
    assert s(21) < 1e-20
    start2 = Fraction(10) + Fraction(10) * Fraction(1.1)
    assert s(22) == pytest.approx(
        0.25 * (1 + math.cos(math.pi * float((22 - start2) / (Fraction(10) * Fraction(1.1) ** 2)))) / 2, rel=1e-14
    )


def test_restarts_with_shrinking_cycles_need_a_count():
    with pytest.raises(lrdsl.LrdslError, match="give cycles="):
        lrdsl.compile("cosine_restarts(16, t_mul=0.5)")
    s = lrdsl.compile("cosine_restarts(16, t_mul=0.5, cycles=3)")  # 16, 8, 4 steps
    assert s.program.root.length == 28
    assert s(16) == 1.0 and s(24) == 1.0 and s(20) == pytest.approx(0.5, rel=1e-14)


def test_restart_boundary_where_keras_log_form_fails():
    # first_decay_steps=11, t_mul=3: cycle 5 starts at 11*(1+3+9+27+81) = 1331
    s = lrdsl.compile("cosine_restarts(11, t_mul=3, m_mul=0.5)")
    assert s(1331) == 0.5**5
    assert s(1330) == pytest.approx(0.5**4 * math.sin(math.pi / 2 / 891) ** 2, rel=1e-12)


def test_inverse_sqrt_with_built_in_warmup():
    s = lrdsl.compile("inverse_sqrt(warmup=100)")  # timescale defaults to the warmup
    assert s(50) == 0.5
    assert s(100) == 1.0
    assert s(400) == pytest.approx(0.5, rel=1e-15)  # 1/sqrt((400-100+100)/100)
    assert lrdsl.compile("inverse_sqrt()")(30_000) == pytest.approx(0.5, rel=1e-15)  # timescale 10000


def test_noam_matches_the_paper_formula():
    d, w = 512, 4000
    s = lrdsl.compile(f"noam({w}, d_model={d}, factor=2)")
    for step in (0, 1, 10, 3999, 4000, 4001, 100_000):
        st = max(step, 1)
        assert s(step) == pytest.approx(2 * d**-0.5 * min(st**-0.5, st * w**-1.5), rel=1e-14)
    assert lrdsl.compile("noam(100)", base_lr=0.01)(100) == pytest.approx(0.01, rel=1e-15)


def test_piecewise_boundaries_belong_to_the_earlier_piece():
    s = lrdsl.compile("piecewise([10, 20], [1, 0.5, 0.1])")
    assert [s(t) for t in (0, 10, 11, 20, 21, 10**9)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]
    with pytest.raises(lrdsl.LrdslError, match="one more value than boundaries"):
        lrdsl.compile("piecewise([10, 20], [1, 0.5])")


def test_multistep_needs_increasing_milestones():
    with pytest.raises(lrdsl.ValueDomainError, match="strictly increasing") as info:
        lrdsl.compile("multistep([30, 30, 90])")
    assert info.value.column == 16  # the second 30


def test_one_cycle_rejects_a_zero_length_first_phase():
    # pct_start * n == 1: torch's OneCycleLR divides by zero at step 0
    with pytest.raises(lrdsl.ValueDomainError, match="zero length"):
        lrdsl.compile("one_cycle(10, pct_start=0.1)")


def test_cyclic_modes_by_hand():
    tri2 = lrdsl.compile("cyclic(4, low=0, high=1, mode=triangular2)")
    assert [tri2(t) for t in (4, 12, 20)] == [1.0, 0.5, 0.25]
    exp_range = lrdsl.compile("cyclic(4, low=0, high=1, mode=exp_range, gamma=0.5)")
    assert exp_range(4) == 0.5**4 and exp_range(2) == 0.5 * 0.5**2
    uneven = lrdsl.compile("cyclic(2, low=0, high=1, down=6)")
    assert [uneven(t) for t in range(9)] == [
        0.0,
        0.5,
        1.0,
        pytest.approx(5 / 6),
        pytest.approx(4 / 6),
        0.5,
        pytest.approx(2 / 6),
        pytest.approx(1 / 6),
        0.0,
    ]


def test_every_primitive_name_is_reachable_through_the_language():
    for name, prim in REGISTRY.items():
        with pytest.raises(lrdsl.LrdslError) as info:
            lrdsl.compile(f"{name}(")
        assert info.value.code in ("E0103",)
        assert prim.signature.startswith(name)


def test_emitter_samples_cover_every_primitive():
    import re

    from samples import SAMPLES

    from lrdsl.primitives import REGISTRY

    used = {name for text, _ in SAMPLES for name in re.findall(r"([a-z_0-9]+)\(", text)}
    # plateau needs a metric: schedule emitters refuse it (tested with each emitter)
    assert set(REGISTRY) - {"plateau"} <= used, sorted(set(REGISTRY) - {"plateau"} - used)


@pytest.mark.parametrize("n", [3, 7, 10, 49, 1000, 12345])
@pytest.mark.parametrize("start", [0.1, 0.3, 1e-3, 0.7, 2.5e-4])
def test_a_linear_ramp_is_exact_at_both_ends(n, start):
    # (start*(n-t) + end*t)/n gave 0.10000000000000002 for linear(3, start=0.1) at step 0
    s = lrdsl.compile(f"linear({n}, start={start}, end=0.9)")
    assert s(0) == start and s(n) == 0.9
    assert float(s.values(np.asarray([0]))[0]) == start


def test_a_warmup_from_0_and_a_linear_decay_to_0_are_hf_linear_bit_for_bit():
    # HF's LambdaLR: base * (t / warmup), then base * ((total - t) / (total - warmup))
    base, warm, total = 3e-4, 37, 1000
    s = lrdsl.compile(f"warmup({warm}) >> linear({total - warm})", base_lr=base)
    hf = [base * (t / warm) if t < warm else base * ((total - t) / (total - warm)) for t in range(total)]
    assert s.values(np.arange(total)).tolist() == hf

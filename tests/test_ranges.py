"""Phase ranges: exact (evaluated where the min and max are taken) for monotone
and piecewise-monotone primitives, checked against dense evaluation."""

from __future__ import annotations

import random

import numpy as np
import pytest
from strategies import RandomSource, random_schedule

import lrdsl
from lrdsl.primitives import REGISTRY
from lrdsl.primitives.ranges import BREAKS, MONOTONE, SAMPLED, candidates


def test_every_primitive_is_classified():
    classified = MONOTONE | set(BREAKS) | SAMPLED
    assert set(REGISTRY) <= classified, sorted(set(REGISTRY) - classified)
    assert not (MONOTONE & set(BREAKS)) and not (MONOTONE & SAMPLED) and not (set(BREAKS) & SAMPLED)


@pytest.mark.parametrize("seed", range(40))
def test_exact_phases_equal_dense_min_and_max(seed):
    text, total = random_schedule(RandomSource(random.Random(seed)))
    s = lrdsl.compile(text, total_steps=total)
    for ph, (start, node) in zip(s.phases, s.program.segments()):
        stop = ph.end if ph.end is not None else max(total, start + 1)
        if candidates(node.op, node.params, 0, 1) is None or stop <= start:
            continue
        dense = s.values(np.arange(start, stop))
        # equal up to the kernel's vector-vs-scalar rounding (a few ulps), never a sampled miss
        assert ph.first == pytest.approx(dense[0], rel=1e-13, abs=1e-300)
        assert ph.lo == pytest.approx(dense.min(), rel=1e-13, abs=1e-300), (text, ph)
        assert ph.hi == pytest.approx(dense.max(), rel=1e-13, abs=1e-300), (text, ph)


@pytest.mark.parametrize(
    "text",
    [
        "one_cycle(1000, max=1, pct_start=0.37)",
        "one_cycle(999, max=1, three_phase=true, anneal=linear)",
        "inverse_sqrt(100, warmup=37, steps=900) >> const(0)",
        "noam(40, steps=700) >> const(0)",
        "piecewise([10, 20, 30], [0.1, 0.9, 0.5, 0.7], steps=35) >> const(0)",
        "cooldown(500, shape=sqrt, start=1, end=0.1)",
    ],
)
def test_breaks_are_where_the_extremes_are(text):
    s = lrdsl.compile(text)
    ph = s.phases[0]
    dense = s.values(np.arange(ph.start, ph.end if ph.end is not None else 5000))
    assert (ph.first, ph.lo, ph.hi) == pytest.approx((dense[0], dense.min(), dense.max()), rel=1e-13)


def test_a_decay_that_runs_on_has_its_limit_in_the_table():
    # issue 16: without a total the table showed min = max = the first value
    s = lrdsl.compile("warmup(2ep) >> step(3ep, gamma=0.5)", steps_per_epoch=100, base_lr=0.1)
    last = s.phases[-1]
    assert last.first == 0.1 and last.hi == 0.1 and last.lo == s(2**53 - 1) == 0.0


def test_exact_phases_cost_no_more_at_a_huge_total():
    s = lrdsl.compile("warmup(1%) >> cosine(99%)", total_steps=2**40)
    assert [p.lo for p in s.phases] == [0.0, s(2**40 - 1)]

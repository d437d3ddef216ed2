"""Phase ranges and check's first-bad-step search, exact from each
schedule's structure (lrdsl.primitives.extent), checked against dense
evaluation of every step, and at 2**40 steps against values worked out by hand."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from strategies import RandomSource, random_schedule

import lrdsl
from lrdsl.primitives import REGISTRY
from lrdsl.primitives.phases import _PHASE_DENSE
from lrdsl.primitives.ranges import BREAKS, COMBINATORS, CYCLIC, MONOTONE
from lrdsl.tools.lint import lint

T40 = 2**40
DENSE_MAX = 3_000_000


def test_every_primitive_is_classified():
    groups = [MONOTONE, set(BREAKS), CYCLIC, COMBINATORS]
    assert set(REGISTRY) <= set().union(*groups), sorted(set(REGISTRY) - set().union(*groups))
    assert sum(len(g) for g in groups) == len(set().union(*groups)), "a primitive is in two groups"


def dense_phases(s: lrdsl.Schedule, total: int):
    """(phase, values at every step of it) for each phase short enough to evaluate whole."""
    for ph in s.phases:
        stop = ph.end if ph.end is not None else max(total, ph.start + 1)
        if ph.start < stop <= ph.start + DENSE_MAX:
            yield ph, s.values(np.arange(ph.start, stop))


def assert_exact(text: str, total: int) -> int:
    s = lrdsl.compile(text, total_steps=total)
    n = 0
    for ph, dense in dense_phases(s, total):
        if np.isnan(dense).any():
            continue
        node = next(n for start, n in s.program.segments() if start == ph.start)
        if not ph.exact and len(dense) * sum(1 for _ in node.walk()) > _PHASE_DENSE:
            continue  # not bounded from its structure, and too large to evaluate whole: sampled, and says so
        assert ph.exact, (text, ph)
        # equal up to the kernel's vector-vs-scalar rounding (a few ulps), never a sampled miss
        assert ph.first == pytest.approx(dense[0], rel=1e-13, abs=1e-300)
        assert ph.lo == pytest.approx(dense.min(), rel=1e-12, abs=1e-300), (text, total, ph, dense.min())
        assert ph.hi == pytest.approx(dense.max(), rel=1e-12, abs=1e-300), (text, total, ph, dense.max())
        n += 1
    return n


@pytest.mark.parametrize("seed", range(40))
def test_phases_of_random_schedules_equal_dense_min_and_max(seed):
    text, total = random_schedule(RandomSource(random.Random(seed)))
    assert_exact(text, total)


PRIMS = [
    "cosine({n})",
    "linear({n}, start={a}, end={b})",
    "exp({g})",
    "cyclic({m}, {a}, {b})",
    "cyclic({m}, {a}, {b}, mode=triangular2)",
    "cyclic({m}, {a}, {b}, mode=exp_range, gamma={g})",
    "cosine_restarts({m}, t_mul={tm}, m_mul={g})",
    "repeat(cosine({m}), decay={g})",
    "repeat(warmup({m}) >> cosine({m}), decay={g})",
    "step({m}, gamma={g})",
    "one_cycle({n})",
    "warmup({m}) >> cosine({n})",
    "{a}",
    "poly({n}, power=2)",
]


def combination(rng: random.Random, depth: int = 0) -> str:
    """A random tree of min, max, +, -, * and / over periodic and monotone parts."""
    if depth > 2 or rng.random() < 0.35:
        return rng.choice(PRIMS).format(
            n=rng.randint(2, 3000),
            m=rng.randint(1, 60),
            a=round(rng.uniform(-1, 1), 3),
            b=round(rng.uniform(0, 2), 3),
            g=rng.choice([0.9, 0.99, 0.999, 1.0, 1.01]),
            tm=rng.choice([1, 1, 2, 1.5]),
        )
    op = rng.choice(["min", "max", "+", "-", "*", "/"])
    a, b = combination(rng, depth + 1), combination(rng, depth + 1)
    return f"{op}({a}, {b})" if op in ("min", "max") else f"({a}) {op} ({b})"


@pytest.mark.parametrize("seed", range(60))
def test_phases_of_combined_periodic_schedules_equal_dense_min_and_max(seed):
    rng = random.Random(seed)
    checked = 0
    while not checked:
        text, total = combination(rng), rng.choice([100, 1000, 20000, 200000])
        try:
            lrdsl.compile(text, total_steps=total)
        except lrdsl.LrdslError:
            continue
        checked = assert_exact(text, total)


@pytest.mark.parametrize(
    "text",
    [
        "one_cycle(1000, max=1, pct_start=0.37)",
        "one_cycle(999, max=1, three_phase=true, anneal=linear)",
        "inverse_sqrt(100, warmup=37, steps=900) >> const(0)",
        "noam(40, steps=700) >> const(0)",
        "piecewise([10, 20, 30], [0.1, 0.9, 0.5, 0.7], steps=35) >> const(0)",
        "cooldown(500, shape=sqrt, start=1, end=0.1)",
        "max(cosine(1000), linear(1000, start=0, end=1))",  # the min is where they cross
        "min(cosine(1000), linear(1000, start=0, end=1), 0.3 + linear(1000, start=0, end=0.1))",
        "cyclic(3000, 0, 1, mode=exp_range, gamma=0.999)",  # the rise turns inside: r * gamma^r
        "repeat(warmup(7) >> cosine(30), decay=0.97) * cosine(5000)",
    ],
)
def test_the_extremes_inside_a_piece_are_found(text):
    assert assert_exact(text, 5000) >= 1


def restart_cycle_ends(n: int, t_mul: int, total: int) -> list[int]:
    """Every SGDR cycle's first and last step below ``total``, by hand: cycle k
    starts at n*(t_mul**k - 1)/(t_mul - 1) and each falls from its first step to its last."""
    marks, k = [], 0
    while (start := n * (t_mul**k - 1) // (t_mul - 1)) < total:
        marks += [start, min(total, n * (t_mul ** (k + 1) - 1) // (t_mul - 1)) - 1]
        k += 1
    return marks


def test_restarts_over_2_to_the_40_take_their_min_at_a_cycle_end():
    s = lrdsl.compile("cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)", total_steps=T40)
    ph = s.phases[0]
    by_hand = s.values(np.asarray(restart_cycle_ends(10, 2, T40)))
    assert ph.exact and (ph.lo, ph.hi) == pytest.approx((by_hand.min(), by_hand.max()), rel=1e-13)
    assert ph.lo < 1e-20  # sampling gave 5e-09


@pytest.mark.parametrize(
    ("text", "lo", "hi"),
    [
        ("cyclic(50, 0.1, 1)", 0.1, 1.0),
        ("cyclic(50, 0.25, 1, mode=triangular2)", 0.25, 1.0),
        ("0.5 * repeat(cosine(100), decay=0.9)", 0.0, 0.5),  # 0.9**k underflows long before 2**40
        ("1 + cosine_restarts(10, t_mul=1)", 1 + (1 + math.cos(math.pi * 9 / 10)) / 2, 2.0),
    ],
)
def test_periodic_schedules_over_2_to_the_40(text, lo, hi):
    ph = lrdsl.compile(text, total_steps=T40).phases[0]
    assert ph.exact and (ph.lo, ph.hi) == pytest.approx((lo, hi), rel=1e-12, abs=1e-300)


def first_nonpositive(s: lrdsl.Schedule, n: int) -> int:
    """By dense evaluation, skipping a warmup's first step (0 by convention)."""
    warm = {start for start, node in s.program.segments() if node.op == "warmup"}
    return next(int(t) for t in np.flatnonzero(s.values(np.arange(n)) <= 0) if int(t) not in warm)


@pytest.mark.parametrize(
    ("text", "dense"),
    [
        ("max(cosine(100), exp(0.9)) >> const(1)", 10_000),  # sampling said step 268501008
        ("repeat(cosine(100), decay=0.9)", 1_000_000),
        ("cosine_restarts(10, t_mul=1, m_mul=0.9)", 100_000),
        ("warmup(3) >> repeat(cosine(50) >> const(0.5, steps=20), decay=0.8)", 1_000_000),
    ],
)
def test_check_finds_the_first_step_at_zero_exactly_at_2_to_the_40(text, dense):
    s = lrdsl.compile(text, total_steps=T40)
    step = first_nonpositive(s, dense)
    assert [w for w in lint(s) if "reaches" in w] == [
        f"the lr reaches {s(step):.3g} at step {step}, before the run's last step"
        f" ({T40 - 1}, the last of the {T40} total steps)"
    ]


@pytest.mark.parametrize("seed", range(40))
def test_check_finds_the_first_step_at_zero_of_random_schedules(seed):
    rng = random.Random(seed)
    s = None
    while s is None:
        text, total = combination(rng), rng.choice([1000, 20000])
        try:
            s = lrdsl.compile(text, total_steps=total)
        except lrdsl.LrdslError:
            continue
    v = s.values(np.arange(total))
    warm = {start for start, node in s.program.segments() if node.op == "warmup"}
    bad = [int(t) for t in np.flatnonzero(~(v > 0)) if int(t) not in warm]
    said = [w for w in lint(s) if "reaches" in w]
    if np.isnan(v).any():
        return
    if bad:
        assert len(said) == 1 and said[0].startswith(f"the lr reaches {s(bad[0]):.3g} at step {bad[0]},"), said
    else:
        assert said == []


def test_what_is_not_known_exactly_is_sampled_and_says_so():
    # a periodic schedule against a decay it crosses differently every cycle, over 2**40 steps
    s = lrdsl.compile("max(cyclic(100, 0.1, 1), exp(0.999))", total_steps=T40)
    assert not s.phases[0].exact
    from lrdsl.tools.phases import reached

    rows, _notes = reached(s)
    assert "min and max sampled" in rows[0].note


def test_a_decay_that_runs_on_has_its_limit_in_the_table():
    # issue 16: without a total the table showed min = max = the first value
    s = lrdsl.compile("warmup(2ep) >> step(3ep, gamma=0.5)", steps_per_epoch=100, base_lr=0.1)
    last = s.phases[-1]
    assert last.first == 0.1 and last.hi == 0.1 and last.lo == s(2**53 - 1) == 0.0


def test_exact_phases_cost_no_more_at_a_huge_total():
    s = lrdsl.compile("warmup(1%) >> cosine(99%)", total_steps=2**40)
    assert [p.lo for p in s.phases] == [0.0, s(2**40 - 1)]


@pytest.mark.parametrize("depth", [18, 24, 60])
def test_nested_repeats_cost_a_bounded_amount(depth):
    # each level doubles the pieces: exact while they can be cut to their extremes,
    # sampled (and marked) past the analysis's bound; it was exponential in the depth
    text = "linear(3, start=1, end=0.5)"
    for _ in range(depth):
        text = f"repeat({text}, 2, decay=0.999)"
    s = lrdsl.compile(text)
    ph = s.phases[0]
    lowest = 2 / 3 * 0.999**depth  # by hand: the ramp's last step, in the last period of every level
    assert ph.hi == 1.0
    if depth <= 24:
        assert ph.exact and ph.lo == pytest.approx(lowest, rel=1e-12)
        assert ph.lo == pytest.approx(s.values(np.arange(s.program.root.length)).min(), rel=1e-12)
    else:  # sampled: never below the true min
        assert not ph.exact and lowest * (1 - 1e-12) <= ph.lo < 1.0


def test_a_sampled_first_zero_still_finds_where_a_hold_of_0_begins():
    text = "linear(3, start=1, end=0)"
    for _ in range(24):
        text = f"repeat({text}, 2, decay=0.999)"
    s = lrdsl.compile(text, total_steps=T40)
    length = s.program.root.length
    assert next(w for w in lint(s) if "reaches" in w).startswith(f"the lr reaches 0 at step {length},")

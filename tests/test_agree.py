"""lrdsl.agree: the first differing step, decided segment by segment, against
a dense step-by-step comparison."""

from __future__ import annotations

import random

import numpy as np
import pytest

import lrdsl
from lrdsl.agree import first_difference
from lrdsl.tools.cli import main

PIECES = [
    "warmup(7)",
    "warmup(7, start=0.1)",
    "hold(5)",
    "const(0.5, steps=6)",
    "cosine(9)",
    "cosine(9, min=0.1)",
    "linear(4, end=0.2)",
    "step(3, gamma=0.5, steps=8)",
    "cyclic(2, low=0.1, high=0.9, steps=8)",
    "const(1, steps=3)",
]
TAILS = ["const(0.01)", "hold()", "cosine(20)", "exp(0.9)"]


def _dense_first(a, b, until):
    steps = np.arange(until, dtype=np.int64)
    differ = np.flatnonzero(a.values(steps).view(np.uint64) != b.values(steps).view(np.uint64))
    return int(differ[0]) if differ.size else None


def _chain(rng):
    return [rng.choice(PIECES) for _ in range(rng.randint(1, 5))] + [rng.choice(TAILS)]


@pytest.mark.parametrize("seed", range(60))
def test_first_difference_matches_dense_comparison(seed):
    rng = random.Random(seed)
    old = _chain(rng)
    new = list(old)
    change = rng.randrange(4)
    k = rng.randrange(len(new))
    if change == 0:  # another segment from some point on
        new[k:] = _chain(rng)
    elif change == 1:  # the elastic tail bounded and continued (a branch-off)
        new[-1:] = [f"hold({rng.randint(1, 30)})", rng.choice(TAILS)]
    elif change == 2:  # one segment replaced
        new[k] = rng.choice(PIECES)
    a = lrdsl.compile(" >> ".join(old), total_steps=rng.choice([None, 80]) if "hold()" not in old else 80)
    b = lrdsl.compile(" >> ".join(new), total_steps=80 if "hold()" in new else None)
    until = rng.randint(0, 120)
    v = first_difference(a, b, until)
    assert v.step == _dense_first(a, b, until)
    if v.step is not None:
        assert v.a == a(v.step) and v.b == b(v.step)
    assert all(s.start < s.stop for s in v.spans)


def test_wsd_branch_off_is_decided_without_evaluation_at_1e9():
    old = lrdsl.compile("warmup(2k) >> hold()", total_steps=2 * 10**9)
    new = lrdsl.compile("warmup(2k) >> hold(999998000) >> linear(10k, end=0)")
    v = first_difference(old, new, 10**9)
    assert v.step is None and v.evaluated == 0
    assert [s.how for s in v.spans] == ["equal", "constant"]
    # one step further the cooldown has begun: 1 - 1/10000 against the stable 1.0
    v = first_difference(old, new, 10**9 + 2)
    assert v.step == 10**9 + 1 and v.a == 1.0 and v.b == 1 - 1 / 10_000
    assert v.evaluated == 2


def test_a_different_base_differs_at_step_zero():
    a = lrdsl.compile("cosine(100)", base_lr=0.1)
    b = lrdsl.compile("cosine(100)", base_lr=0.2)
    assert first_difference(a, b, 50).step == 0


def test_labels_do_not_matter_only_values():
    a = lrdsl.compile("cosine(100) >> const(0)")
    b = lrdsl.compile("cosine(n=100) >> const(value=0)")
    v = first_difference(a, b, 10**6)
    assert v.step is None and v.evaluated == 0


def test_until_is_checked():
    s = lrdsl.compile("cosine(10)")
    with pytest.raises(lrdsl.LrdslError):
        first_difference(s, s, -1)


def test_compare_until_on_the_command_line(capsys):
    code = main(
        [
            "compare",
            "warmup(2k) >> hold()",
            "warmup(2k) >> hold(48k) >> linear(10k)",
            "--until",
            "50000",
            "--total",
            "100000",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "bit-identical at every step 0..49999" in out and "evaluated no step" in out
    code = main(
        ["compare", "warmup(2k) >> hold()", "warmup(2k) >> cosine(48k)", "--until", "50000", "--total", "100000"]
    )
    out = capsys.readouterr().out
    assert code == 1 and "differs from OLD at step 2001" in out


def test_compare_prints_both_values_at_the_first_difference(capsys):
    code = main(
        ["compare", "const(0.5, steps=10) >> const(0.25)", "const(0.5, steps=12) >> const(0.25)", "--steps", "100"]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "first difference at step 10: a = 0.25, b = 0.5" in out
    assert "max |a-b|/max(|a|,|b|)    0.5 at step 10" in out
    assert "evaluated no step" in out  # both sides are constants there

"""``lrdsl compare`` at any scale: a span where both schedules are constant
(a const or hold, a pointwise op of constants, a segment past its length, a
bounded schedule past its end) is decided by one value each, so schedules
that only differ at the start compare in microseconds over 2**40 steps; the
rest streams in chunks, with progress, and Ctrl-C returns what was found.

Every expected value is computed here, densely, with numpy over all steps (or
by hand from the cosine formula), never taken from ``report.compare``."""

from __future__ import annotations

import io
import math
import random
import sys

import numpy as np
import pytest

import lrdsl
from lrdsl import agree
from lrdsl.agree import CHUNK, first_difference, pieces, spans
from lrdsl.tools import report
from lrdsl.tools.cli import main

#: (a, b) as (text, base_lr, total_steps); every pair is NaN-free.
PAIRS = [
    (("warmup(3) >> cosine(5)", 1.0, None), ("warmup(3) >> cosine(6)", 1.0, None)),
    (("cosine(5)", 1.0, None), ("cosine(5) >> const(0)", 1.0, None)),
    (("linear(4, end=0.5)", 1.0, None), ("linear(4, end=0.5) >> hold()", 1.0, None)),
    (("cosine(5)", 1.0, None), ("cosine(6)", 1.0, None)),
    (("cosine(5)", 0.1, None), ("cosine(5)", 0.2, None)),
    (("linear(4, end=0.5)", 1.0, None), ("linear(4, end=0.5)", 2.0, None)),  # equal once both hold 0.5
    (("warmup(3) >> cosine(5)", 0.1, None), ("warmup(3) >> cosine(5) >> const(0)", 0.3, None)),
    (("warmup(3) >> cosine(5)", 1.0, None), ("warmup(3) >> cosine(5) >> const(0.01)", 1.0, None)),
    (("const(0.5) * 2", 1.0, None), ("const(1)", 1.0, None)),
    (("min(const(0.3), const(0.5, steps=10))", 1.0, None), ("const(0.3, steps=10) >> const(0.5)", 1.0, None)),
    (("max(const(0.2), const(0.1) + const(0.05))", 1.0, None), ("const(0.2, steps=7) >> const(0.15)", 1.0, None)),
    (("const(0.5, steps=4) * linear(8, end=0)", 1.0, None), ("const(0.5) * linear(8, end=0)", 1.0, None)),
    (("step(3, gamma=0.5, steps=8)", 1.0, None), ("step(3, gamma=0.5, steps=9)", 1.0, None)),
    (("repeat(cosine(5), 3)", 1.0, None), ("cosine(5) >> cosine(5) >> cosine(5)", 1.0, None)),
    (("repeat(cosine(5), 3)", 1.0, None), ("repeat(cosine(5), 4)", 1.0, None)),
    (
        ("linear(4, end=0.5) >> hold(3) >> linear(5, end=0)", 1.0, None),
        ("linear(4, end=0.5) >> linear(5, end=0)", 1.0, None),
    ),
    (("warmup(2) >> cosine(50%)", 1.0, 20), ("warmup(2) >> cosine(10)", 1.0, None)),
    (("warmup(2) >> cosine(50%)", 1.0, 20), ("warmup(2) >> cosine(50%)", 1.0, 30)),
    (("cosine(10, min=0.1) >> const(0.05)", 1.0, None), ("cosine(12, min=0.1)", 1.0, None)),
    (
        ("cyclic(2, low=0.1, high=0.9, steps=8) >> hold()", 1.0, None),
        ("cyclic(2, low=0.1, high=0.9, steps=8)", 1.0, None),
    ),
    (("cosine(5) * const(2, steps=3)", 1.0, None), ("cosine(5) * 2", 1.0, None)),
]


def _compile(spec):
    text, base, total = spec
    return lrdsl.compile(text, base_lr=base, total_steps=total)


def _ids(pair):
    return f"{pair[0][0]} | {pair[1][0]} ({pair[0][1]}, {pair[1][1]})"


def dense(a, b, n):
    """Both schedules at every step 0..n-1, and how they differ: the first step
    whose bits differ, and over the differing steps the largest |a-b| and
    |a-b|/max(|a|,|b|), each at its first step."""
    steps = np.arange(n, dtype=np.int64)
    x, y = a.values(steps), b.values(steps)
    differ = x.view(np.uint64) != y.view(np.uint64)
    if not differ.any():
        return x, y, None
    d = np.abs(x - y)
    scale = np.maximum(np.abs(x), np.abs(y))
    r = np.divide(d, scale, out=np.zeros(n), where=scale > 0)
    d, r = np.where(differ, d, -1.0), np.where(differ, r, -1.0)
    first, at_abs, at_rel = int(np.argmax(differ)), int(np.argmax(d)), int(np.argmax(r))
    expected = {
        "first_difference": first,
        "a_at_first": float(x[first]),
        "b_at_first": float(y[first]),
        "max_abs": float(d.max()),
        "max_abs_at": at_abs,
        "max_abs_values": (float(x[at_abs]), float(y[at_abs])),
        "max_rel": float(r.max()),
        "max_rel_at": at_rel,
        "max_rel_values": (float(x[at_rel]), float(y[at_rel])),
    }
    return x, y, expected


def _same_bits(u, v):
    return bool(np.all(np.asarray(u).view(np.uint64) == np.asarray(v).view(np.uint64)))


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_compare_matches_a_dense_comparison(pair):
    a, b = _compile(pair[0]), _compile(pair[1])
    n = 50
    x, y, expected = dense(a, b, n)
    got = report.compare(a, b, n)
    assert got["checked"] == n and got["interrupted"] is False
    if expected is None:
        assert got["identical"] and got["first_difference"] is None
    else:
        assert not got["identical"]
        assert {k: got[k] for k in expected} == expected
    v = first_difference(a, b, n)
    assert v.step == (None if expected is None else expected["first_difference"])
    if v.step is not None:  # the verdict's values are sched(t), which may differ from an array's in the last bit
        assert (v.a, v.b) == (a(v.step), b(v.step))
        assert [v.a, v.b] == pytest.approx([x[v.step], y[v.step]], rel=1e-15)


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_what_is_called_constant_or_equal_is(pair):
    """The claims behind deciding a span without evaluating it, checked against
    every step: a constant span takes one value in each schedule, an equal
    span the same values in both; and only the evaluated spans are evaluated."""
    a, b = _compile(pair[0]), _compile(pair[1])
    n = 60
    x, y, _ = dense(a, b, n)
    cut = list(spans(a, b, n))
    assert [s.start for s in cut] == [0] + [s.stop for s in cut[:-1]] and cut[-1].stop == n
    for s in cut:
        if s.how == "constant":
            assert _same_bits(x[s.start : s.stop], x[s.start]) and _same_bits(y[s.start : s.stop], y[s.start]), s
        elif s.how == "equal":
            assert _same_bits(x[s.start : s.stop], y[s.start : s.stop]), s
    got = report.compare(a, b, n)
    evaluated = sum(s.stop - s.start for s in cut if s.how == "evaluated")
    assert sum(hi - lo for lo, hi in got["evaluated"]) == evaluated
    assert got["constant_spans"] == sum(s.how == "constant" for s in cut)
    assert got["equal_spans"] == sum(s.how == "equal" for s in cut)


PIECES = [
    "warmup(7)",
    "hold(5)",
    "const(0.5, steps=6)",
    "cosine(9, min=0.1)",
    "linear(4, end=0.2)",
    "step(3, gamma=0.5, steps=8)",
    "cyclic(2, low=0.1, high=0.9, steps=8)",
    "min(const(0.3), const(0.5, steps=6))",
    "const(0.25, steps=3) + const(0.5, steps=3)",
    "const(0.5, steps=2) * linear(6, end=0)",
]
TAILS = ["const(0.01)", "hold()", "cosine(20)", "exp(0.9)", "linear(6, end=0.3)", "const(0.5) * 0.5", ""]


def _chain(rng):
    parts = [rng.choice(PIECES) for _ in range(rng.randint(1, 4))] + [rng.choice(TAILS)]
    return " >> ".join(p for p in parts if p)


def _compile_chain(text, base):
    try:
        return lrdsl.compile(text, base_lr=base)
    except lrdsl.LrdslError:  # an elastic segment in the middle: it takes what a total leaves
        return lrdsl.compile(text, base_lr=base, total_steps=80)


@pytest.mark.parametrize("seed", range(80))
def test_random_chains_against_a_dense_comparison(seed):
    rng = random.Random(seed)
    old = _chain(rng)
    new = old if rng.random() < 0.5 else _chain(rng)
    if rng.random() < 0.5:  # one of them continued, as a run branching off
        new = old + " >> " + rng.choice([t for t in TAILS if t])
    a, b = _compile_chain(old, 1.0), _compile_chain(new, rng.choice([1.0, 1.0, 0.5]))
    n = rng.randint(1, 90)
    x, y, expected = dense(a, b, n)
    for sched, vals in ((a, x), (b, y)):
        for p in pieces(sched, n):
            if p.constant:
                assert _same_bits(vals[p.start : p.stop], vals[p.start]), (sched.canonical, p)
    got = report.compare(a, b, n)
    if expected is None:
        assert got["identical"]
    else:
        assert {k: got[k] for k in expected} == expected
    assert first_difference(a, b, n).step == (None if expected is None else expected["first_difference"])


@pytest.mark.parametrize(
    ("x", "y", "first", "max_abs", "max_rel"),
    [
        # a signed zero differs in its bits, by 0: the largest differences are taken there, not at an equal step
        ([0.0, -0.0, 1.0], [0.0, 0.0, 1.0], 1, (0.0, 1), (0.0, 1)),
        # a NaN equals the same NaN; a NaN difference is left out of the maxima
        ([math.nan, 1.0, 2.0], [math.nan, 1.5, 2.0], 1, (0.5, 1), (0.5 / 1.5, 1)),
        ([1.0, math.nan, 4.0], [2.0, 3.0, 4.0], 0, (1.0, 0), (0.5, 0)),
        ([math.nan, 1.0], [1.0, math.nan], 0, (0.0, None), (0.0, None)),
        # inf against a number: an infinite difference, an undefined (left out) relative one
        ([math.inf, 1.0], [1.0, 3.0], 0, (math.inf, 0), (2 / 3, 1)),
        # ties go to the first step
        ([1.0, 2.0, 3.0], [1.5, 2.5, 3.0], 0, (0.5, 0), (0.5 / 1.5, 0)),
    ],
)
def test_differences_by_hand(x, y, first, max_abs, max_rel):
    found = report.Differences(len(x))
    found.add(np.arange(len(x), dtype=np.int64), np.array(x), np.array(y))
    got_first, worst_abs, worst_rel, checked = found.state
    assert got_first[0] == first and checked == len(x)
    assert worst_abs[:2] == pytest.approx(max_abs) and worst_rel[:2] == pytest.approx(max_rel)
    assert worst_abs[1] is None or _same_bits(worst_abs[2:], [x[worst_abs[1]], y[worst_abs[1]]])


# ---------------------------------------------------------------- at 2**40


def _cosine(n, t):
    """cosine(n) with base 1, by its formula: (1 + cos(pi t / n)) / 2, then 0."""
    return 0.5 * (1 + math.cos(math.pi * t / n)) if t < n else 0.0


def test_cosine_5_against_cosine_6_over_2_to_the_40_evaluates_a_few_steps():
    a, b = lrdsl.compile("cosine(5)"), lrdsl.compile("cosine(6)")
    assert a(100) == 0.0 and b(100) == 0.0  # both hold their end value, 0, from step 6 on
    got = report.compare(a, b, 2**40)
    assert sum(hi - lo for lo, hi in got["evaluated"]) <= 10
    assert got["checked"] == 2**40 and not got["interrupted"]
    # both are constant after step 6, so the maxima are attained within 0..6
    _, _, expected = dense(a, b, 8)
    assert {k: got[k] for k in expected} == expected
    by_hand = [abs(_cosine(5, t) - _cosine(6, t)) for t in range(8)]
    assert got["max_abs"] == pytest.approx(max(by_hand), rel=1e-12)
    assert got["max_abs_at"] in {t for t in range(8) if by_hand[t] == pytest.approx(max(by_hand), rel=1e-12)}
    assert got["first_difference"] == 1 and got["max_rel"] == 1.0 and got["max_rel_at"] == 5  # 0 against b(5) > 0


def test_a_warmup_before_a_cosine_over_2_to_the_40():
    a, b = lrdsl.compile("warmup(3) >> cosine(5)"), lrdsl.compile("warmup(3) >> cosine(6)")
    got = report.compare(a, b, 2**40)
    assert got["evaluated"] == [(3, 9)] and got["equal_spans"] == 1 and got["constant_spans"] == 1
    _, _, expected = dense(a, b, 12)
    assert {k: got[k] for k in expected} == expected


def test_a_bounded_schedule_continued_by_its_end_value_is_decided_without_evaluation():
    for old, new in [
        ("cosine(5)", "cosine(5) >> const(0)"),
        ("linear(4, end=0.5)", "linear(4, end=0.5) >> hold()"),
        ("warmup(3) >> cosine(5)", "warmup(3) >> cosine(5) >> const(0)"),
    ]:
        a, b = lrdsl.compile(old), lrdsl.compile(new)
        v = first_difference(a, b, 2**53)
        assert v.step is None and v.evaluated == 0, (old, new)
        got = report.compare(a, b, 2**40)
        assert got["identical"] and got["evaluated"] == [], (old, new)


def test_one_step_past_a_constant_the_difference_is_found_at_any_scale():
    a = lrdsl.compile("cosine(5)")
    b = lrdsl.compile(f"cosine(5) >> hold({2**40 - 6}) >> const(0.5)")
    got = report.compare(a, b, 2**40)
    assert got["evaluated"] == [] and got["first_difference"] == 2**40 - 1
    assert (got["a_at_first"], got["b_at_first"]) == (0.0, 0.5)
    assert (got["max_abs"], got["max_abs_at"], got["max_rel"]) == (0.5, 2**40 - 1, 1.0)


def test_compare_on_the_command_line_over_2_to_the_40(capsys):
    code = main(["compare", "cosine(5)", "cosine(6)", "--steps", str(2**40)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"evaluated 6 of {2**40} steps (0..5); decided without evaluation: 1 span constant in both" in out


# ---------------------------------------------------------------- streaming, progress, Ctrl-C

N = 4 * CHUNK  # four chunks
LONG_A, LONG_B = f"cosine({N})", f"cosine({N + 1})"


def test_progress_is_reported_after_each_chunk():
    calls = []
    got = report.compare(lrdsl.compile(LONG_A), lrdsl.compile(LONG_B), N, lambda done, todo: calls.append((done, todo)))
    assert calls == [(k * CHUNK, N) for k in range(1, 5)]
    assert got["checked"] == N and not got["interrupted"]


def test_an_interrupt_returns_what_the_chunks_before_it_found():
    a, b = lrdsl.compile(LONG_A), lrdsl.compile(LONG_B)

    def interrupt(done, todo):
        raise KeyboardInterrupt

    try:
        got = report.compare(a, b, N, interrupt)
    except KeyboardInterrupt:  # not caught: fail this test rather than stop the run
        pytest.fail("the KeyboardInterrupt escaped report.compare")
    assert got["interrupted"] is True and got["checked"] == CHUNK
    _, _, expected = dense(a, b, CHUNK)  # the maxima over the first chunk only
    assert {k: got[k] for k in expected} == expected
    _, _, everywhere = dense(a, b, N)
    assert everywhere["max_abs_at"] >= CHUNK  # so the test tells the first chunk from the whole run


def _interrupt_after_first_chunk(monkeypatch):
    """Ctrl-C during the second chunk's evaluation."""
    real = agree.chunks

    def chunks(span, out=None):
        it = real(span, out)
        yield next(it)
        raise KeyboardInterrupt

    monkeypatch.setattr(agree, "chunks", chunks)


def test_ctrl_c_on_the_command_line_prints_what_was_found(capsys, monkeypatch):
    a, b = lrdsl.compile(LONG_A), lrdsl.compile(LONG_B)
    _, _, expected = dense(a, b, CHUNK)
    _interrupt_after_first_chunk(monkeypatch)
    code = main(["compare", LONG_A, LONG_B, "--steps", str(N)])
    out, err = capsys.readouterr()
    assert code == 130 and "Traceback" not in err
    lines = out.splitlines()
    assert lines[2] == (
        f"first difference at step {expected['first_difference']}:"
        f" a = {expected['a_at_first']!r}, b = {expected['b_at_first']!r}"
    )
    assert lines[3].split()[2:5] == [f"{expected['max_abs']:.6g}", "at", "step"]
    assert lines[3].split()[5] == str(expected["max_abs_at"])
    assert lines[-1] == f"interrupted at step {CHUNK} of {N}: the maxima cover steps 0..{CHUNK - 1} only"


def test_ctrl_c_before_any_difference(capsys, monkeypatch):
    # the same values (x * 1 is x) from different segments: evaluated, and identical over the first chunk
    _interrupt_after_first_chunk(monkeypatch)
    code = main(["compare", f"cosine({N}) >> const(0)", f"cosine({N}) * 1 >> const(0.5)", "--steps", str(N + 5)])
    out = capsys.readouterr().out
    assert code == 130
    assert out.splitlines() == [
        f"no difference over steps 0..{CHUNK - 1}",
        f"interrupted at step {CHUNK} of {N + 5}: the maxima cover steps 0..{CHUNK - 1} only",
    ]


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_progress_bar_only_on_a_terminal(capsys, monkeypatch):
    pytest.importorskip("rich")
    from lrdsl.tools.cli_eval import ProgressBar

    n = ProgressBar.BAR_FROM
    args = ["compare", f"cosine({n})", f"cosine({n + 1})", "--steps", str(n)]
    assert main(args) == 1
    plain, err = capsys.readouterr()
    assert err == ""
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(args) == 1
    assert "comparing" in terminal.getvalue()
    assert capsys.readouterr().out == plain  # the result is the same

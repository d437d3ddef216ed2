"""The meaning of chains, warmups, holds, elastic segments, units, prev,
repeat and pointwise combinations (LANGUAGE.md section 3 and 4).  Expected
values are derived by hand in each test."""

from __future__ import annotations

import math

import numpy as np
import pytest

import lrdsl

pytestmark = pytest.mark.usefixtures("backend")


def c(text: str, **kw: object) -> lrdsl.Schedule:
    return lrdsl.compile(text, **kw)


def approx(x: float) -> object:
    return pytest.approx(x, rel=1e-14, abs=1e-300)


# ---------------------------------------------------------------- chains


def test_each_segment_sees_local_time():
    s = c("linear(10, start=1, end=0) >> linear(10, start=1, end=0)")
    assert s(9) == approx(0.1)
    assert s(10) == 1.0
    assert s(15) == approx(0.5)


def test_bounded_last_segment_holds_its_end_value():
    s = c("cosine(100)")
    assert s(99) > 0
    assert s(100) == 0.0
    assert s(10**12) == 0.0
    s = c("linear(10, start=1, end=0.3)")
    assert s(50) == 0.3


def test_final_unbounded_segment_runs_past_the_total():
    s = c("warmup(5) >> exp(0.5)", total_steps=100)
    assert s(105) == approx(0.5**100)


# ---------------------------------------------------------------- warmup


def test_warmup_ramps_to_where_the_next_segment_starts():
    s = c("warmup(4) >> cosine(10, peak=0.8)")
    assert [s(t) for t in range(5)] == [0.0, 0.2, 0.4, approx(0.6), 0.8]


def test_warmup_target_follows_a_scaled_segment():
    s = c("warmup(4) >> 0.5 * cosine(10)", base_lr=1.0)
    assert s(2) == 0.25 and s(4) == 0.5


def test_warmup_from_a_start_value():
    s = c("warmup(4, start=0.2) >> const(1)")
    assert s(1) == approx(0.4)


def test_last_warmup_ramps_to_base_and_holds_it():
    s = c("warmup(4)", base_lr=0.8)
    assert s(2) == 0.4 and s(4) == 0.8 and s(1000) == 0.8


def test_consecutive_warmups_hand_off_in_turn():
    s = c("warmup(2) >> warmup(2, start=0.5) >> const(1)")
    assert [s(t) for t in range(6)] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ("linear", 0.5),
        ("cos", 0.5),  # start + (target-start) * sin^2(pi/4)
        ("exp", math.sqrt(0.1 * 0.9)),  # start * (target/start)^(1/2)
    ],
)
def test_warmup_shapes_at_the_midpoint(shape, expected):
    start = 0.0 if shape != "exp" else 0.1
    target = 1.0 if shape != "exp" else 0.9
    s = c(f"warmup(10, start={start}, shape={shape}) >> const({target})")
    mid = s(5)
    if shape == "linear":
        assert mid == approx(start + (target - start) / 2)
    elif shape == "cos":
        assert mid == approx(start + (target - start) * math.sin(math.pi / 4) ** 2)
    else:
        assert mid == approx(expected)


def test_exp_warmup_needs_positive_ends():
    with pytest.raises(lrdsl.LrdslError, match="start and the target must both be > 0"):
        c("warmup(10, shape=exp) >> const(1)")


def test_prev_after_a_warmup_is_a_cycle():
    with pytest.raises(lrdsl.CompositionError) as info:
        c("warmup(5) >> linear(10, start=prev)")
    assert info.value.code == "E0605"


# ---------------------------------------------------------------- prev and hold


def test_hold_keeps_the_previous_end_value():
    s = c("linear(10, start=1, end=0.5) >> hold(5) >> const(0)")
    assert s(12) == 0.5 and s(15) == 0.0


def test_hold_after_a_warmup_holds_base():
    s = c("warmup(1k) >> hold(8k) >> linear(1k, end=0)", base_lr=2.0)
    assert s(500) == 1.0
    assert s(1000) == 2.0 and s(8999) == 2.0 and s(9000) == 2.0
    assert s(9500) == 1.0
    assert s(10_000) == 0.0


def test_explicit_prev_continues_from_the_previous_end():
    s = c("cosine(10, min=0.1) >> linear(10, start=prev, end=0)")
    assert s(10) == approx(0.1)
    assert s(15) == approx(0.05)


def test_prev_without_a_previous_segment_is_an_error():
    with pytest.raises(lrdsl.LrdslError, match="no previous segment"):
        c("linear(10, start=prev)")


# ---------------------------------------------------------------- elastic


def test_card_example_layout_with_a_total():
    s = c("warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)", total_steps=100, base_lr=1e-3)
    assert [(p.start, p.end) for p in s.phases] == [(0, 5), (5, 100), (100, None)]
    assert s(99) > 1e-6 and s(100) == 1e-6 and s(10**9) == 1e-6


def test_elastic_without_a_total_names_the_segment_and_the_fixes():
    with pytest.raises(lrdsl.CompositionError) as info:
        c("warmup(5) >> cosine_restarts(10, t_mul=2) >> const(1e-6)")
    err = info.value
    assert err.code == "E0601"
    assert "cosine_restarts(10, t_mul=2)" in err.message
    text = err.render()
    assert "total_steps" in text and "steps=N" in text
    assert (err.line, err.column) == (1, 14)


def test_two_elastic_segments_are_an_error():
    with pytest.raises(lrdsl.CompositionError) as info:
        c("exp(0.9) >> step(10) >> const(0)", total_steps=100)
    assert info.value.code == "E0602"


def test_elastic_segment_with_no_room_left():
    with pytest.raises(lrdsl.CompositionError) as info:
        c("warmup(50) >> exp(0.9) >> cosine(60)", total_steps=100)
    assert info.value.code == "E0603"


def test_elastic_segment_gets_exactly_what_is_left():
    s = c("warmup(10) >> exp(0.5) >> cosine(20)", total_steps=100)
    assert [(p.start, p.end) for p in s.phases] == [(0, 10), (10, 80), (80, 100)]
    assert s(79) == approx(0.5**69)
    assert s(80) == 1.0


def test_an_unbounded_segment_can_be_bounded_by_steps():
    s = c("exp(0.5, steps=3) >> const(0.01)")
    assert [s(t) for t in range(5)] == [1.0, 0.5, 0.25, 0.01, 0.01]


# ---------------------------------------------------------------- end values


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("exp(0.5, steps=3)", 0.125),  # continuous: the value at the end step
        ("exp(0.5, steps=3, staircase=true)", 0.25),  # a staircase keeps its last step
        ("step(2, gamma=0.5, steps=5)", 0.25),  # steps 4: gamma^2
        ("cosine_restarts(10, t_mul=1, steps=20)", 0.0),  # a cycle ending there ends at min
        ("cosine_restarts(10, t_mul=2, cycles=2)", 0.0),
        ("cyclic(5, low=0.1, high=1, cycles=2)", 0.1),
        ("one_cycle(10, max=1, div=10, final_div=100)", 0.001),  # reached at step n-1 as in torch
        ("repeat(linear(4, start=1, end=0.5), 3, decay=0.5)", 0.125),
    ],
)
def test_held_values(text, held):
    s = c(text)
    length = s.program.root.length
    assert length is not None
    assert s(length) == approx(held)
    assert s(length + 12345) == approx(held)


# ---------------------------------------------------------------- units


def test_percent_and_epoch_lengths():
    s = c("cosine(10%)", total_steps=1000)
    assert s.program.root.length == 100
    s = c("warmup(2ep) >> step(3ep, gamma=0.5)", base_lr=0.1, steps_per_epoch=100)
    assert s(0) == 0.0 and s(250) == 0.1 and s(500) == 0.05 and s(799) == 0.05 and s(800) == 0.025


def test_fractional_unit_lengths_round_half_up():
    assert c("cosine(0.15%)", total_steps=1000).program.root.length == 2  # 1.5 -> 2
    assert c("cosine(0.14%)", total_steps=1000).program.root.length == 1  # 1.4 -> 1
    assert c("cosine(0.25ep)", steps_per_epoch=10).program.root.length == 3  # 2.5 -> 3


@pytest.mark.parametrize(
    ("text", "kw", "code"),
    [
        ("cosine(0.04%)", {"total_steps": 1000}, "E0403"),
        ("cosine(10.5)", {}, "E0402"),
        ("cosine(0)", {}, "E0401"),
        ("cosine(-5)", {}, "E0401"),
        ("cosine(5%)", {}, "E0501"),
        ("cosine(5ep)", {}, "E0502"),
        ("cosine(5)", {"total_steps": 0}, "E0503"),
        ("cosine(5)", {"base_lr": float("nan")}, "E0503"),
    ],
)
def test_length_and_context_errors(text, kw, code):
    with pytest.raises(lrdsl.LrdslError) as info:
        c(text, **kw)
    assert info.value.code == code


# ---------------------------------------------------------------- repeat and combinations


def test_repeat_with_decay():
    s = c("repeat(linear(4, start=1, end=0), 3, decay=0.5)")
    assert s(1) == 0.75 and s(5) == 0.375 and s(9) == approx(0.1875) and s(12) == 0.0


def test_unbounded_repeat_goes_on():
    s = c("repeat(linear(4, start=1, end=0))")
    assert s(4 * 10**9 + 2) == 0.5


def test_repeat_of_an_unbounded_schedule_is_an_error():
    with pytest.raises(lrdsl.CompositionError) as info:
        c("repeat(exp(0.9), 3)")
    assert info.value.code == "E0604"


def test_a_floor_lasts_as_long_as_its_bounded_operand():
    s = c("max(cosine(100), 0.1) >> const(0.05)")
    assert s(99) == 0.1 and s(100) == 0.05


def test_min_of_two_unbounded_schedules_is_unbounded():
    with pytest.raises(lrdsl.CompositionError) as info:
        c("max(cosine(100), exp(0.9)) >> const(1)")
    assert info.value.code == "E0601"


def test_products_sums_and_scaling():
    s = c("linear(10, start=1, end=0) * linear(10, start=1, end=0)")
    assert s(5) == 0.25
    assert c("0.5 * cosine(10) + 0.25")(0) == 0.75
    assert c("cosine(10) / 4")(0) == 0.25
    assert c("cosine(10) - 0.5 * cosine(10)")(0) == 0.5


def test_numeric_arguments_are_exact_decimals():
    assert c("cosine(100, peak=base/10)", base_lr=0.5)(0) == 0.05
    assert c("peak = 3e-4; cosine(100, peak=peak*2)")(0) == 0.0006
    assert c("cosine(100, peak=3 * 0.1)")(0) == 0.3  # not 0.30000000000000004


def test_bindings_can_name_schedules_and_lengths():
    s = c("n = 10; w = warmup(n); w >> cosine(2 * n)", base_lr=1.0)
    assert s(5) == 0.5 and s(10) == 1.0 and s.program.root.length == 30


def test_division_by_zero():
    with pytest.raises(lrdsl.ValueDomainError):
        c("cosine(10, peak=1/0)")
    with pytest.raises(lrdsl.ValueDomainError):
        c("cosine(10) / 0")


# ---------------------------------------------------------------- placeholders


def test_placeholders_from_the_caller():
    assert c("cosine(100, peak=$p)", p=0.5)(0) == 0.5
    assert c("cosine($n)", total_steps=1000, n="5%").program.root.length == 50
    with pytest.raises(lrdsl.UnknownNameError) as info:
        c("cosine(100, peak=$p)")
    assert info.value.code == "E0204"
    with pytest.raises(lrdsl.UnknownNameError) as info:
        c("cosine(100, peak=$peak)", peak=1.0, pk=2.0)
    assert info.value.code == "E0205"
    with pytest.raises(lrdsl.LrdslError):
        c("cosine(100, peak=$p)", p="cosine(3)")


def test_values_agree_with_single_steps():
    s = c("warmup(7) >> cosine_restarts(11, t_mul=3, m_mul=0.8) >> const(1e-4)", total_steps=500)
    steps = np.arange(0, 600)
    # numpy's and libm's pow/sin may differ in the last bit
    np.testing.assert_allclose(s.values(steps), [s(int(t)) for t in steps], rtol=1e-15, atol=0)

"""lrdsl check's warnings: advice, never failures (exit 0)."""

from __future__ import annotations

import pytest

import lrdsl
from lrdsl.tools.cli import main
from lrdsl.tools.lint import lint, notes


def warnings_for(text: str, **kw: object) -> list[str]:
    return lint(lrdsl.compile(text, **kw))


def test_a_clean_schedule_has_no_warnings():
    assert warnings_for("warmup(5, start=0.01) >> cosine(95, min=1e-3)", total_steps=100) == []


def test_jump_at_a_boundary():
    (w,) = warnings_for("cosine(100, min=0.5) >> const(0.001)", total_steps=200)
    assert "jumps from 0.5 to 0.001 at step 100" in w


def test_small_steps_at_boundaries_are_fine():
    assert warnings_for("linear(10, start=1, end=0.5) >> const(0.45)", total_steps=20) == []


def test_segment_after_the_total():
    ws = warnings_for("cosine(100) >> cosine(50, peak=1e-4)", total_steps=80)
    assert any("starts at step 100, after the last of the 80 total steps" in w for w in ws)


def test_lr_reaching_zero_before_the_end():
    ws = warnings_for("linear(10, end=0) >> hold(10) >> const(0.1)", total_steps=30)
    assert any("reaches 0 at step 10" in w for w in ws)


def test_warmup_from_zero_is_a_note_not_a_warning():
    s = lrdsl.compile("warmup(10) >> cosine(90, min=0.01)", total_steps=100)
    assert lint(s) == []  # the HuggingFace/Keras convention: not warned about every time
    (note,) = notes(s)
    assert "starts at 0 at step 0" in note and "HuggingFace and Keras convention" in note
    assert notes(lrdsl.compile("warmup(10, start=0.01) >> cosine(90)", total_steps=100)) == []


def test_schedule_shorter_than_the_total():
    ws = warnings_for("warmup(10, start=0.1) >> cosine(50, min=0.01)", total_steps=100)
    assert any("ends at step 60, before the 100 total steps; it holds 0.01" in w for w in ws)


def test_check_prints_warnings_and_exits_0(capsys):
    code = main(["check", "cosine(100, min=0.5) >> const(0.001)", "--steps", "200"])
    out, err = capsys.readouterr()
    assert code == 0 and "cosine(100, min=0.5) >> const(0.001)" in out
    assert "warning: the lr jumps" in err


@pytest.mark.parametrize("text", ["exp(1.5)", "cosine(10) * 1e300 * 1e300"])
def test_infinite_learning_rates_are_reported(text):
    ws = warnings_for(text, total_steps=5000)
    assert any("not finite" in w for w in ws)

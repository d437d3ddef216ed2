"""Token and sample time: ``tok``/``sp`` lengths, ``B``/``T`` multipliers, the
token and sample clocks.  Expected values by hand."""

from __future__ import annotations

import pickle

import pytest

import lrdsl


def test_multipliers_and_units_lex():
    s = lrdsl.compile("const(1, steps=2B) >> const(0.5, steps=1T) >> const(0.25)")
    assert s.phases[1].start == 2 * 10**9 and s.phases[2].start == 2 * 10**9 + 10**12
    assert lrdsl.compile("warmup(2kep)", steps_per_epoch=3).phases[0].end == 6000
    assert lrdsl.compile("cosine(1.5Btok)", tokens_per_step=10**6).phases[0].end == 1500


def test_token_lengths_round_like_epochs():
    # 1000 tokens at 400 a step is 2.5 steps: halves round up, as 'ep' lengths do
    assert lrdsl.compile("cosine(1ktok)", tokens_per_step=400).phases[0].end == 3
    assert lrdsl.compile("cosine(900tok)", tokens_per_step=400).phases[0].end == 2
    with pytest.raises(lrdsl.LrdslError) as e:
        lrdsl.compile("cosine(100tok)", tokens_per_step=400)
    assert e.value.code == "E0403"


@pytest.mark.parametrize(
    ("text", "kw", "need"),
    [
        ("warmup(2Btok)", {}, "tokens_per_step"),
        ("warmup(10ksp)", {"tokens_per_step": 8}, "samples_per_step"),
        ("warmup(10) >> const(1)", {"clock": "tokens"}, "tokens_per_step"),
        ("warmup(1ep) >> const(1)", {"clock": "samples", "steps_per_epoch": 3}, "samples_per_step"),
    ],
)
def test_missing_rate_names_it(text, kw, need):
    with pytest.raises(lrdsl.LrdslError) as e:
        lrdsl.compile(text, **kw)
    assert e.value.code == "E0504" and need in e.value.message


def test_token_clock_counts_tokens():
    s = lrdsl.compile("warmup(200Mtok) >> cosine(2Btok)", clock="tokens")
    assert s.clock == "tokens"
    assert s(100_000_000) == 0.5  # half the warmup
    assert s(200_000_000) == 1.0
    assert s(1_200_000_000) == pytest.approx(0.5, abs=1e-15)
    # a length in steps under the token clock: tokens_per_step converts it
    s = lrdsl.compile("warmup(10) >> const(1)", clock="tokens", tokens_per_step=4096)
    assert s.phases[0].end == 40960 and s(20480) == 0.5
    # samples under the token clock: tokens per sample = tokens_per_step / samples_per_step
    s = lrdsl.compile("warmup(100sp) >> const(1)", clock="tokens", tokens_per_step=4096, samples_per_step=2)
    assert s.phases[0].end == 100 * 2048


def test_totals_convert_between_clocks():
    assert lrdsl.compile("cosine(50%)", total_tokens=10_000, tokens_per_step=100).phases[0].end == 50
    s = lrdsl.compile("cosine(50%)", clock="tokens", total_steps=100, tokens_per_step=1000)
    assert s.total_steps == 100_000 and s.phases[0].end == 50_000  # the total is in tokens
    with pytest.raises(lrdsl.LrdslError) as e:
        lrdsl.compile("cosine(10)", total_tokens=1000)
    assert e.value.code == "E0503" and "tokens_per_step" in e.value.message
    with pytest.raises(lrdsl.LrdslError) as e:
        lrdsl.compile("cosine(10)", total_steps=10, total_tokens=2000, tokens_per_step=100)
    assert e.value.code == "E0503" and "disagree" in e.value.message
    with pytest.raises(lrdsl.LrdslError) as e:
        lrdsl.compile("cosine(10)", clock="minutes")
    assert e.value.code == "E0503"


def test_clock_survives_rebasing_json_and_pickle():
    s = lrdsl.compile("warmup(10) >> cosine(90%)", clock="tokens", tokens_per_step=4096, total_tokens=409600)
    b = s.with_base(0.1)
    assert (
        b.clock == "tokens"
        and b(40960) == 0.1
        and b.phases == tuple(p._replace(first=p.first * 0.1, lo=p.lo * 0.1, hi=p.hi * 0.1) for p in s.phases)
    )
    again = lrdsl.Program.from_json(s.program.to_json())
    assert again == s.program
    assert pickle.loads(pickle.dumps(s))(225280) == s(225280)
    assert "clock='tokens'" in repr(s) and "tokens_per_step=4096" in repr(s)


def test_canonical_text_keeps_token_counts_readable():
    s = lrdsl.compile("warmup(200_000_000tok) >> cosine(2000000000tok)", tokens_per_step=10**6)
    assert s.canonical == "warmup(200Mtok) >> cosine(2Btok)"
    assert lrdsl.compile(s.canonical, tokens_per_step=10**6).program.root == s.program.root


def test_clock_names_are_not_placeholders():
    with pytest.raises(lrdsl.LrdslError) as e:
        lrdsl.compile("cosine($tokens_per_step)")
    assert e.value.code == "E0206"


def test_a_total_in_the_clocks_own_unit_needs_no_rate():
    s = lrdsl.compile("cosine(90%)", clock="tokens", total_tokens=10_000)
    assert s.total_steps == 10_000 and s.phases[0].end == 9_000
    s = lrdsl.compile("cosine(50%)", clock="samples", total_samples=300)
    assert s.phases[0].end == 150

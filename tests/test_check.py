"""The check stage and compile-time domains: every user mistake is an
LrdslError with a code, a location and a useful hint."""

from __future__ import annotations

import pytest

import lrdsl


def err(text: str, **kw: object) -> lrdsl.LrdslError:
    with pytest.raises(lrdsl.LrdslError) as info:
        lrdsl.compile(text, **kw)
    return info.value


@pytest.mark.parametrize(
    ("text", "code", "column", "hint"),
    [
        ("warmup(5) >> cosin(10)", "E0201", 14, "did you mean 'cosine'?"),
        ("CosineAnnealingLR(100)", "E0201", 1, "did you mean 'cosine'?"),
        ("cosine_restarts(10, T_mult=2)", "E0202", 21, "did you mean 't_mul'?"),
        ("cosine(100, eta_min=0.1)", "E0202", 13, "did you mean 'min'?"),
        ("cosine(100, peek=0.1)", "E0202", 13, "did you mean 'peak'?"),
        ("cosine(100, steps=50)", "E0202", 13, "already has a length"),
        ("cosine(100) >> foo", "E0203", 16, ""),
        ("cosine(100) >> cosine", "E0203", 16, "is a primitive: call it"),
        ("cosine(100, min=mn)", "E0203", 17, ""),
        ("cyclic(10, low=0.1, mode=triangle2)", "E0306", 26, "did you mean 'triangular2'?"),
        ("exp(0.9, staircase=yes)", "E0306", 20, ""),
        ("cosine(1, 2, 3, 4)", "E0301", 17, "the signature is cosine("),
        ("cosine()", "E0302", 1, "the signature is cosine("),
        ("cosine(n=5, n=6)", "E0303", 13, ""),
        ("cosine(peak=1, 100)", "E0304", 16, "name it"),
        ("multistep(30)", "E0305", 11, "is a list"),
        ("cosine([1, 2])", "E0305", 8, ""),
        ("cosine(warmup(5))", "E0305", 8, ""),
        ("exp(0.9, gamma=base)", "E0303", 10, ""),
        ("step(10, gamma=base)", "E0305", 16, ""),
        ("step(10, gamma=5%)", "E0305", 16, ""),
        ("5% >> cosine(10)", "E0305", 1, ""),
        ("cosine(10) ** 2", "E0606", 1, "exp(gamma)"),
        ("2 / cosine(10)", "E0606", 5, ""),
        ("-cosine(10)", "E0305", 2, ""),
        ("min(cosine(10))", "E0302", 1, "at least two"),
        ("max(cosine(10), x=1)", "E0202", 17, ""),
        ("base = 1; cosine(10)", "E0206", 1, ""),
        ("a = 1; a = 2; cosine(a)", "E0206", 8, ""),
        ("cosine = 1; const(cosine)", "E0206", 1, ""),
    ],
)
def test_check_errors(text, code, column, hint):
    e = err(text)
    assert e.code == code, e.render()
    assert e.column == column, e.render()
    assert hint in e.render()
    assert e.line == 1


@pytest.mark.parametrize(
    ("text", "code", "fragment"),
    [
        ("step(10, gamma=0)", "E0401", "must be > 0"),
        ("step(10, gamma=-1)", "E0401", "must be > 0"),
        ("cosine_restarts(10, t_mul=0)", "E0401", "must be > 0"),
        ("cosine(10, alpha=1.5)", "E0401", "<= 1"),
        ("cosine(10, min=0.1, alpha=0.1)", "E0307", "not both"),
        ("cosine(10, peak=-0.1)", "E0401", "must be >= 0"),
        ("repeat(cosine(10), 2.5)", "E0401", "whole number"),
        ("one_cycle(100, pct_start=1)", "E0401", "< 1"),
        ("cyclic(10, low=0.1, cycles=2, steps=5)", "E0307", "not both"),
        ("x(1) >> cosine(10)", "E0201", "unknown primitive"),
        ("cosine(10, peak=2 ** 2000)", "E0105", "too large"),
    ],
)
def test_domain_errors(text, code, fragment):
    e = err(text)
    assert e.code == code, e.render()
    assert fragment in e.message, e.message
    assert e.line is not None and e.column is not None


def test_errors_render_with_caret_and_code():
    e = err("warmup(5) >> cosin(10)")
    assert e.render() == (
        "error[E0201]: unknown primitive 'cosin'\n"
        " --> line 1, column 14\n"
        "  |\n"
        "1 | warmup(5) >> cosin(10)\n"
        "  |              ^^^^^ not a primitive\n"
        "  = help: did you mean 'cosine'?"
    )
    d = e.to_dict()
    assert d["code"] == "E0201" and d["line"] == 1 and d["column"] == 14 and d["hints"] == ["did you mean 'cosine'?"]


def test_every_error_is_an_lrdsl_error_with_a_known_code():
    from lrdsl.errors import CODES

    samples = [
        "cosin(3)",
        "cosine(3",
        "cosine(3, t=1)",
        "cosine(0)",
        "cosine(5%)",
        "exp(0.9) >> const(1)",
        "repeat(exp(0.9))",
    ]
    for text in samples:
        e = err(text)
        assert e.code in CODES

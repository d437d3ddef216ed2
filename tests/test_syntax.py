"""The syntax stage: the cached LALR tables, the driver against Lark itself,
numbers, spans, limits and syntax diagnostics."""

from __future__ import annotations

import pytest

import lrdsl
from lrdsl.language import _gen_tables, syntax
from lrdsl.language.ast import Arg, BinOp, Call, ListExpr, Name, Neg, Num, Placeholder, Seq, Span

VALID = [
    "warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)",
    "warmup(5%) >> cosine(95%, min=1e-5)",
    "warmup(2ep) >> step(30ep, gamma=0.1)",
    "0.5 * cosine(1000)",
    "max(cosine(1000), 1e-5)",
    "repeat(cosine(20, peak=1e-3), 5) >> const(1e-6)",
    "multistep([30, 60, 90], gamma=0.1)",
    "cyclic(2000, low=1e-4, high=1e-2, mode=triangular2)",
    "peak = 3e-4; n = 2k; warmup(5) >> cosine(n, peak=peak)",
    "cosine(100, peak=$peak)",
    "warmup(1_000) >> # a comment\n  cosine(100_000)  # another\n",
    "a >> (b >> c) >> d",
    "-(1 + 2) * 3 ** -2 / 4 - 5",
    "f(a, b=1,)",
    "[1, 2, 3,]",
    "[]",
    "f()",
    "2 ** 3 ** 2",
    "x;",
    ".5 * cosine(1.5k)",
]


def _lark_like(tag: str, kids: list[object], span: Span) -> object:
    """Build trees the way Lark's tree builder does, for the differential test."""
    from lark import Token, Tree

    kept: list[object] = []
    for kid in kids:
        if isinstance(kid, syntax._Tok):
            if kid.type in ("NUMBER", "NAME", "PLACEHOLDER"):
                kept.append(Token(kid.type, kid.text))
        elif isinstance(kid, _Inline):
            kept.extend(kid.items)
        else:
            kept.append(kid)
    if tag.startswith("__"):
        return _Inline(kept)
    if tag in _EXPAND1 and len(kept) == 1:
        return kept[0]
    return Tree(tag, kept)


class _Inline:
    def __init__(self, items: list[object]) -> None:
        self.items = items


_EXPAND1 = {"expr", "chain", "sum", "product", "unary", "power", "atom", "argument"}


def test_cached_tables_are_fresh():
    """lrdsl/_tables.py is what Lark generates from grammar/lrdsl.lark now."""
    current = _gen_tables.TABLES_PATH.read_text(encoding="utf-8")
    assert current == _gen_tables.generate(), "run: python -m lrdsl.language._gen_tables"


@pytest.mark.parametrize("src", VALID)
def test_driver_builds_the_same_tree_as_lark(src):
    lark = _gen_tables.lark_parser()
    assert syntax.drive(src, _lark_like) == lark.parse(src)


@pytest.mark.parametrize("src", ["cosine(", "a >> >> b", "f(a=)", "[1 2]", "x = ;", "1 +", "f(a b)", ")"])
def test_driver_rejects_what_lark_rejects(src):
    from lark.exceptions import UnexpectedInput

    with pytest.raises(UnexpectedInput):
        _gen_tables.lark_parser().parse(src)
    with pytest.raises(lrdsl.LrdslSyntaxError):
        lrdsl.parse(src)


def test_chains_are_flat_and_spans_are_ignored_by_equality():
    assert lrdsl.parse("a >> (b >> c) >> d") == lrdsl.parse("a>>b>>c>>d")
    body = lrdsl.parse("a >> b >> c").body
    assert isinstance(body, Seq) and [n.id for n in body.items] == ["a", "b", "c"]
    assert lrdsl.parse("cosine(1_000)  # x") == lrdsl.parse("cosine(1000)")


def test_ast_shape_and_spans():
    src = "warmup(5) >> cosine(10, min=1e-5)"
    seq = lrdsl.parse(src).body
    assert isinstance(seq, Seq)
    call = seq.items[1]
    assert isinstance(call, Call) and call.func == "cosine"
    assert src[call.func_span.start : call.func_span.end] == "cosine"
    assert src[call.span.start : call.span.end] == "cosine(10, min=1e-5)"
    kw = call.args[1]
    assert isinstance(kw, Arg) and kw.name == "min"
    assert src[kw.name_span.start : kw.name_span.end] == "min"
    assert kw.value == Num(1e-5)


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("12", 12, None),
        ("1_000", 1000, None),
        ("2k", 2000, None),
        ("3M", 3_000_000, None),
        ("1.5k", 1500.0, None),
        ("3e-4", 3e-4, None),
        (".5", 0.5, None),
        ("5.", 5.0, None),
        ("5%", 5, "%"),
        ("2.5%", 2.5, "%"),
        ("2ep", 2, "ep"),
        ("1e3", 1000.0, None),
    ],
)
def test_number_literals(text, value, unit):
    num = lrdsl.parse(text).body
    assert isinstance(num, Num)
    assert num.value == value and type(num.value) is type(value) and num.unit == unit


def test_operators_and_precedence():
    body = lrdsl.parse("-1 + 2 * 3 ** 2").body
    assert body == BinOp("+", Neg(Num(1)), BinOp("*", Num(2), BinOp("**", Num(3), Num(2))))
    assert lrdsl.parse("0.5 * cosine(10) >> x").body == Seq(
        (BinOp("*", Num(0.5), Call("cosine", (Arg(None, Num(10)),))), Name("x"))
    )
    assert lrdsl.parse("[1, $p]").body == ListExpr((Num(1), Placeholder("p")))


@pytest.mark.parametrize(
    ("src", "code", "col", "needle"),
    [
        ("warmup(5) >> cosin(10", "E0103", 22, "expected ')', ',' or an operator"),
        ("cosine(10,, 3)", "E0102", 11, "expected a number, a schedule, '(' or ')'"),
        ("a @ b", "E0101", 3, "unexpected character '@'"),
        ("cosine(10) cosine(5)", "E0102", 12, "chain segments with '>>'"),
        ("cosine(10, min 3)", "E0102", 16, "a keyword argument is written min=3"),
        ("x = 3 cosine(1)", "E0102", 7, "end each binding with ';'"),
        ('cosine("a")', "E0101", 8, "lrdsl has no strings"),
        ("", "E0106", 1, "the schedule is empty"),
        ("  # only a comment\n", "E0106", 1, "the schedule is empty"),
        ("x(1e999)", "E0105", 3, "too large"),
        ("x(1e-400)", "E0105", 3, "too small"),
        ("x(" + "1" * 101 + ")", "E0104", 3, "at most 100"),
    ],
)
def test_syntax_errors_are_located_and_worded(src, code, col, needle):
    with pytest.raises(lrdsl.LrdslError) as info:
        lrdsl.parse(src)
    err = info.value
    text = err.render()
    assert err.code == code
    assert err.column == col
    assert needle in text
    assert "^" in text
    for raw in ("LPAR", "RPAR", "__ANON", "Token(", "$END", "NUMBER", "COMMA"):
        assert raw not in text


def test_error_at_end_of_input_points_after_the_last_character():
    with pytest.raises(lrdsl.LrdslError) as info:
        lrdsl.parse("warmup(5) >>")
    err = info.value
    assert (err.line, err.column) == (1, 13)
    caret_line = err.render().splitlines()[-1]
    assert caret_line.index("^") == err.render().splitlines()[-2].index("w") + 12


def test_multiline_error_location():
    src = "warmup(5) >>\n  cosine(10) >>\n  const(1e-6,)) "
    with pytest.raises(lrdsl.LrdslError) as info:
        lrdsl.parse(src)
    assert (info.value.line, info.value.column) == (3, 15)
    assert "3 |   const(1e-6,))\n" in info.value.render()


def test_wide_characters_keep_the_caret_aligned():
    with pytest.raises(lrdsl.LrdslError) as info:
        lrdsl.parse("火(3) @")
    lines = info.value.render().splitlines()
    assert lines[-2].endswith("^^ expected a number, a schedule or '('")


def test_nesting_and_size_limits():
    ok = "max(" * 127 + "1" + ", 1)" * 127
    assert lrdsl.parse(ok)
    with pytest.raises(lrdsl.LimitError) as info:
        lrdsl.parse("max(" * 128 + "1" + ", 1)" * 128)
    assert info.value.code == "E0702"
    with pytest.raises(lrdsl.LimitError) as info:
        lrdsl.parse("(" * 200 + "1" + ")" * 200)
    assert info.value.code == "E0702"
    with pytest.raises(lrdsl.LimitError) as info:
        lrdsl.parse("x" * (syntax.MAX_SOURCE_CHARS + 1))
    assert info.value.code == "E0701"


def test_long_chains_parse_up_to_the_token_limit():
    from lrdsl.language.syntax import MAX_TOKENS

    k = MAX_TOKENS // 5  # cos ( 1 ) >>: five tokens a segment
    body = lrdsl.parse(" >> ".join(["cos(1)"] * k)).body
    assert isinstance(body, Seq) and len(body.items) == k
    src = " >> ".join(["cos(1)"] * 1500)
    with pytest.raises(lrdsl.LrdslError) as e:
        lrdsl.parse(src)
    assert e.value.code == "E0701" and f"more than {MAX_TOKENS} tokens" in e.value.message
    assert e.value.span is not None and e.value.span.start < len(src) // 5  # found early, not at the end

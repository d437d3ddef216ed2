"""The canonical form: ``to_text`` of any AST parses back to an equal AST, and
a compiled schedule's canonical text compiles to the same values."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import schedules

import lrdsl
from lrdsl.language.ast import Arg, Binding, BinOp, Call, ListExpr, Module, Name, Neg, Num, Placeholder, Seq
from lrdsl.language.printer import to_text
from lrdsl.primitives import REGISTRY

NAMES = ["a", "b", "x1", "_z", "base", "prev", "true", "T_0", "peak", "triangular2", "Zz_9"]
FUNCS = [*sorted(REGISTRY), "f", "CosineAnnealingLR"]


def random_number(rng) -> Num:  # type: ignore[no-untyped-def]
    unit = rng.choice([None, None, None, "%", "ep"])
    kind = rng.random()
    if kind < 0.4:
        return Num(rng.randrange(0, 10 ** rng.randrange(1, 30)), unit)
    if kind < 0.7:
        return Num(rng.choice([0.5, 0.1, 3e-4, 1e-6, 2.5, 1e20, 5e-324, 1.7976931348623157e308]), unit)
    return Num(abs(rng.uniform(-1, 1)) * 10 ** rng.randrange(-300, 300), unit)


def random_expr(rng, depth: int) -> object:  # type: ignore[no-untyped-def]
    """A random, not necessarily meaningful, expression tree."""
    if depth <= 0 or rng.random() < 0.3:
        return rng.choice(
            [random_number(rng), random_number(rng), Name(rng.choice(NAMES)), Placeholder(rng.choice(NAMES))]
        )
    kind = rng.randrange(5)
    if kind == 0:
        n_pos, n_kw = rng.randrange(4), rng.randrange(3)
        args = [Arg(None, random_expr(rng, depth - 1)) for _ in range(n_pos)]
        args += [Arg(rng.choice(NAMES), random_expr(rng, depth - 1)) for _ in range(n_kw)]
        return Call(rng.choice(FUNCS), tuple(args))
    if kind == 1:
        return ListExpr(tuple(random_expr(rng, depth - 1) for _ in range(rng.randrange(4))))
    if kind == 2:
        return BinOp(rng.choice(["+", "-", "*", "/", "**"]), random_expr(rng, depth - 1), random_expr(rng, depth - 1))
    if kind == 3:
        return Neg(random_expr(rng, depth - 1))
    items = []
    while len(items) < 2 + rng.randrange(3):
        item = random_expr(rng, depth - 1)
        items.extend(item.items if isinstance(item, Seq) else (item,))
    return Seq(tuple(items))


def random_module(rng) -> Module:  # type: ignore[no-untyped-def]
    bindings = tuple(Binding(f"v{i}", random_expr(rng, 4)) for i in range(rng.randrange(3)))
    return Module(bindings, random_expr(rng, 6))


@settings(max_examples=1000, deadline=None)
@given(st.integers(0, 2**64))
def test_canonical_text_parses_back_to_an_equal_ast(seed):
    rng = random.Random(seed)
    module = random_module(rng)
    text = to_text(module)
    try:
        again = lrdsl.parse(text)
    except lrdsl.LimitError:
        assume(False)  # a generated tree deeper than the nesting limit
        raise
    assert again == module, text
    assert to_text(again) == text  # and printing is a fixed point


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules())
def test_canonical_text_compiles_to_the_same_values(sched):
    text, total = sched
    try:
        first = lrdsl.compile(text, total_steps=total, base_lr=0.3)
    except lrdsl.CompositionError as err:
        assume(err.code != "E0603")
        raise
    again = lrdsl.compile(str(first), total_steps=total, base_lr=0.3)
    assert again.ast == first.ast
    steps = np.arange(0, total + 300)
    np.testing.assert_array_equal(again.values(steps), first.values(steps))


def test_canonical_examples():
    cases = {
        "warmup( 5 )>>cosine(1_000,min=.5e-3)#c": "warmup(5) >> cosine(1000, min=0.0005)",
        "a=2k;(x>>y)>>z*(1+2)": "a = 2000; x >> y >> z * (1 + 2)",
        "-(2**-1)": "-2 ** -1",
        "(-2)**2": "(-2) ** 2",
        "1-(2-3)": "1 - (2 - 3)",
        "f(a=[1,2,],b=$p,)": "f(a=[1, 2], b=$p)",
        "cosine(5%)>>step(2ep)": "cosine(5%) >> step(2ep)",
    }
    for src, canonical in cases.items():
        assert to_text(lrdsl.parse(src)) == canonical

"""Fuzzing: grammar-generated and mutated inputs raise nothing but LrdslError,
quickly; the pathological set gets its own errors; the CLI never prints a
traceback.  Over 2,000 inputs a run."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrdsl
from lrdsl.language.syntax import MAX_DEPTH, MAX_SOURCE_CHARS
from lrdsl.tools.cli import main

SEEDS = [
    "warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)",
    "warmup(5%) >> cosine(95%, min=1e-5)",
    "warmup(2ep) >> step(30ep, gamma=0.1)",
    "0.5 * cosine(1000) >> max(cosine(1000), 1e-5)",
    "repeat(cosine(20, peak=1e-3), 5) >> const(1e-6)",
    "multistep([30, 60, 90], gamma=0.1)",
    "cyclic(2000, low=1e-4, high=1e-2, mode=triangular2)",
    "peak = 3e-4; n = 1k; warmup(n) >> hold(8k) >> linear(1k, start=peak, end=0)",
    "one_cycle(1000, max=0.1, pct_start=0.25, anneal=linear, three_phase=true)",
    "piecewise([10, 20], [1, 0.5, 0.1]) >> inverse_sqrt(100, warmup=10)",
    "warmup(500) >> plateau(patience=3)",
    "cosine($n, peak=$p)",
]
ALPHABET = [
    *list("()[],;=>*+-/%$#._ \n\t0123456789eEkM"),
    "ep",
    ">>",
    "**",
    "cosine",
    "warmup",
    "x",
    "\x00",
    "é",
    "火",
    "\u202e",
    "🚀",
]


def compile_or_lrdsl_error(text: str) -> None:
    start = time.perf_counter()
    try:
        sched = lrdsl.compile(text, total_steps=1000, steps_per_epoch=10, n=100, p=0.1)
        sched(0)
        sched(10**6)
    except lrdsl.LrdslError as err:
        rendered = err.render()
        assert "Traceback" not in rendered and "Token(" not in rendered
        if err.span is not None:
            assert err.line is not None and err.column is not None and "^" in rendered
    assert time.perf_counter() - start < 1.0, text


def mutate(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randrange(1, 5)):
        op = rng.randrange(4)
        i = rng.randrange(len(chars) + 1)
        if op == 0 and chars:
            del chars[min(i, len(chars) - 1)]
        elif op == 1:
            chars.insert(i, rng.choice(ALPHABET))
        elif op == 2 and chars:
            chars[min(i, len(chars) - 1)] = rng.choice(ALPHABET)
        else:
            j = rng.randrange(len(chars) + 1)
            chars[i:i] = chars[j : j + rng.randrange(1, 8)]
    return "".join(chars)


@settings(max_examples=1400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**64))
def test_mutated_inputs_raise_only_lrdsl_errors(seed):
    rng = random.Random(seed)
    compile_or_lrdsl_error(mutate(rng, rng.choice(SEEDS)))


class Sentences:
    """Random sentences of grammar/lrdsl.lark, derived from the rules Lark
    compiles it to.  hypothesis.extra.lark.from_lark does the same but spends
    ~0.2 s an example here (0.2 ms for this), which would make the suite slow;
    deep derivations take each nonterminal's shallowest expansion."""

    def __init__(self) -> None:
        from lrdsl.language._gen_tables import lark_parser
        from lrdsl.primitives import REGISTRY

        parser = lark_parser()
        self.rules: dict[str, list[list[str]]] = {}
        for rule in parser.rules:
            self.rules.setdefault(rule.origin.name, []).append([sym.name for sym in rule.expansion])
        self.literals = {t.name: t.pattern.value for t in parser.terminals if type(t.pattern).__name__ == "PatternStr"}
        names = {*REGISTRY, *(p.name for prim in REGISTRY.values() for p in prim.params), "base", "prev", "true", "x"}
        self.pools = {
            "NUMBER": [
                "0",
                "1",
                "7",
                "0.5",
                ".5",
                "3e-4",
                "1e-06",
                "2k",
                "1.5M",
                "5%",
                "50%",
                "2ep",
                "1_000",
                "1e308",
                "100",
                "12345",
            ],
            "NAME": sorted(names),
            "PLACEHOLDER": ["$n", "$p", "$q"],
        }
        # the fewest derivation levels each nonterminal needs to reach terminals
        self.height: dict[str, int] = {}
        changed = True
        while changed:
            changed = False
            for origin, options in self.rules.items():
                best = min(
                    1 + max((self.height.get(sym, 0 if sym not in self.rules else 10**9) for sym in opt), default=0)
                    for opt in options
                )
                if best < self.height.get(origin, 10**9):
                    self.height[origin] = best
                    changed = True

    def sentence(self, rng: random.Random, budget: int = 14) -> str:
        out: list[str] = []
        stack: list[tuple[str, int]] = [("start", 0)]
        while stack:
            symbol, depth = stack.pop()
            if symbol in self.rules:
                options = self.rules[symbol]
                if depth >= budget:
                    options = [min(options, key=lambda o: max((self.height.get(s, 0) for s in o), default=0))]
                choice = rng.choice(options)
                stack.extend((sym, depth + 1) for sym in reversed(choice))
            elif symbol in self.literals:
                out.append(self.literals[symbol])
            else:
                out.append(rng.choice(self.pools[symbol]))
        sep = rng.choice([" ", " ", "\n", " # c\n"])
        return sep.join(out)


SENTENCES = Sentences()


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**64))
def test_grammar_generated_inputs_raise_only_lrdsl_errors(seed):
    rng = random.Random(seed)  # one draw: st.randoms records every call, 10x slower
    text = SENTENCES.sentence(rng)
    lrdsl.parse(text)  # every sentence of the grammar parses
    compile_or_lrdsl_error(text)


PATHOLOGICAL = {
    "64 KiB input": ("cosine(10) >> " * (64 * 1024 // 14), "E0701"),
    "source just over the limit": ("1" * (MAX_SOURCE_CHARS + 1), "E0701"),
    "nesting at the limit": ("max(" * (MAX_DEPTH - 1) + "1" + ", 1)" * (MAX_DEPTH - 1), None),
    "nesting over the limit": ("max(" * MAX_DEPTH + "1" + ", 1)" * MAX_DEPTH, "E0702"),
    "parentheses over the limit": ("(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1), "E0702"),
    "4,301-digit number": ("const(" + "9" * 4301 + ")", "E0104"),
    "1e999": ("const(1e999)", "E0105"),
    "nan": ("const(nan)", "E0203"),
    "inf": ("cosine(10, peak=inf)", "E0203"),
    "empty": ("", "E0106"),
    "whitespace only": (" \n\t " * 100, "E0106"),
    "NUL bytes": ("cosine(\x00\x00)", "E0101"),
    "bidi control": ("cosine(10) \u202e>> const(1)", "E0101"),
    "emoji and CJK names": ("学习率(10) >> 🚀(5)", "E0101"),
    "binding blow-up": (
        "a = cosine(1) >> cosine(1); "
        + " ".join(
            f"a{i} = {'a' if i == 1 else f'a{i - 1}'} >> {'a' if i == 1 else f'a{i - 1}'};" for i in range(1, 30)
        )
        + " a29",
        "E0703",
    ),
}


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_pathological_inputs(name):
    text, code = PATHOLOGICAL[name]
    start = time.perf_counter()
    if code is None:
        assert lrdsl.compile(text)(0) == 1.0
    else:
        with pytest.raises(lrdsl.LrdslError) as info:
            lrdsl.compile(text)
        assert info.value.code == code
        assert "^" in info.value.render()
    assert time.perf_counter() - start < 1.0  # the benchmark measures these properly


def test_cli_never_prints_a_traceback_on_mutated_input(capsys):
    rng = random.Random(11)
    for _ in range(150):
        text = mutate(rng, rng.choice(SEEDS))
        code = main(["check", text, "--steps", "1000", "--steps-per-epoch", "10", "-D", "n=5", "-D", "p=0.1"])
        _out, err = capsys.readouterr()
        assert code in (0, 2), text
        assert "Traceback" not in err
        if code == 2:
            assert "error[E" in err

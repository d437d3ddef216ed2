"""Hardening of the core: non-finite values on every path, ``out=`` overlap,
pickling, ``Program.from_json`` on tampered documents, the kernel's table
validator on random and mutated tables, and SGDR cycles past the exact table.

Expected values are by hand (IEEE rules, exact Fractions, mpmath), never from
the code under test.
"""

from __future__ import annotations

import copy
import json
import math
import pickle
import random
from fractions import Fraction

import numpy as np
import pytest

import lrdsl
from lrdsl import backends
from lrdsl.errors import LrdslError
from lrdsl.language.ir import Program

NAN = math.nan


def same(a: object, b: object) -> bool:
    """Equal as float64 values, NaN equal to NaN."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


# ------------------------------------------------------------ non-finite values

# exp(1e300): 1, 1e300, inf, inf, ... so 0*exp(...) is 0, 0, nan, nan, ...
NONFINITE = [
    ("max(0.5, 0*exp(1e300))", [0.5, 0.5, NAN, NAN, NAN]),
    ("max(0*exp(1e300), 0.5)", [0.5, 0.5, NAN, NAN, NAN]),
    ("min(0.5, 0*exp(1e300))", [0.0, 0.0, NAN, NAN, NAN]),
    ("min(0*exp(1e300), 0.5)", [0.0, 0.0, NAN, NAN, NAN]),
    ("max(0.5, exp(1e300))", [1.0, 1e300, math.inf, math.inf, math.inf]),
    ("exp(1e300) - exp(1e300)", [0.0, 0.0, NAN, NAN, NAN]),
    # a bounded exp holds its left limit, the formula at its length: inf - inf there
    ("(exp(1e300, steps=2) - exp(1e300, steps=2)) >> hold(3)", [0.0, 0.0, NAN, NAN, NAN]),
    ("(exp(1e300, steps=1) - exp(1e300, steps=1)) >> hold(3)", [0.0, 0.0, 0.0, 0.0, 0.0]),
    ("(exp(1e300, steps=3) - exp(1e300, steps=3)) >> hold(3)", [0.0, 0.0, NAN, NAN, NAN]),
]


@pytest.mark.parametrize(("text", "want"), NONFINITE)
def test_non_finite_values_agree_on_every_path(backend: str, text: str, want: list[float]) -> None:
    s = lrdsl.compile(text)
    steps = np.arange(5, dtype=np.int64)
    assert same([s(int(t)) for t in steps], want)
    assert same(s.values(steps), want)  # the range path
    assert same(s.values(steps[::-1])[::-1], want)  # unsorted
    assert same(s.values(np.array([0, 2, 4])), [want[0], want[2], want[4]])  # the sorted path
    out = np.empty(5)
    assert s.values(steps, out=out) is out and same(out, want)


def test_nan_rule_is_the_same_on_both_backends() -> None:
    got = {}
    for name in ("cython", "numpy"):
        backends.force(name)
        try:
            got[name] = lrdsl.compile("max(0.5, 0*exp(1e300)) + min(0*exp(1e300), 1)").values(np.arange(6))
        finally:
            backends.force(None)
    assert same(got["cython"], got["numpy"])
    assert np.isnan(got["cython"][2:]).all()


# ------------------------------------------------------------ out=


@pytest.mark.parametrize("shift", [-60, -1, 1, 30, 99])
@pytest.mark.parametrize("steps_kind", ["range", "sorted", "unsorted"])
def test_out_overlapping_steps_gives_the_right_values(backend: str, shift: int, steps_kind: str) -> None:
    s = lrdsl.compile("warmup(10) >> cosine(50) >> const(0.25)")
    base = {
        "range": np.arange(100, dtype=np.int64),
        "sorted": np.arange(0, 300, 3, dtype=np.int64),
        "unsorted": np.arange(300, 0, -3, dtype=np.int64),
    }[steps_kind]
    want = s.values(base.copy())  # the same path without overlap
    np.testing.assert_allclose(want, [s(int(t)) for t in base], rtol=1e-15, atol=1e-16)
    buf = np.zeros(400, dtype=np.int64)
    at = 150
    buf[at : at + 100] = base
    steps = buf[at : at + 100]
    out = buf[at + shift : at + shift + 100].view(np.float64)
    s.values(steps, out=out)
    np.testing.assert_array_equal(out, want)


def test_out_that_is_the_steps_buffer_itself(backend: str) -> None:
    s = lrdsl.compile("cosine(64)")
    steps = np.arange(64, dtype=np.int64)
    want = s.values(steps.copy())
    out = steps.view(np.float64)
    s.values(steps, out=out)
    np.testing.assert_array_equal(out, want)


def test_read_only_or_wrong_out_is_an_error(backend: str) -> None:
    s = lrdsl.compile("cosine(10)")
    ro = np.zeros(10)
    ro.flags.writeable = False
    for out in (ro, np.zeros(10, dtype=np.float32), np.zeros(11), [0.0] * 10):
        with pytest.raises(LrdslError) as err:
            s.values(np.arange(10), out=out)
        assert err.value.code == "E0305"
    assert not ro.any()


def test_compile_of_a_non_text_is_an_lrdsl_error() -> None:
    for bad in (123, None, 1.5, b"cosine(10)", ["cosine(10)"]):
        with pytest.raises(LrdslError) as err:
            lrdsl.compile(bad)  # type: ignore[arg-type]
        assert err.value.code == "E0305"


# ------------------------------------------------------------ pickling

PICKLED = [
    "warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)",
    "warmup(5) >> plateau(patience=2)",
    "cosine_restarts(3, t_mul=1.07)",
    "max(cosine(100), exp(0.9)) >> const(1)",
]


@pytest.mark.parametrize("text", PICKLED)
def test_schedules_pickle_and_deepcopy(backend: str, text: str) -> None:
    s = lrdsl.compile(text, total_steps=200, base_lr=0.3)
    steps = np.array([0, 1, 4, 5, 17, 99, 150, 199, 5000])
    want = s.values(steps)
    for again in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s), copy.copy(s)):
        assert again.canonical == s.canonical and again.total_steps == 200
        np.testing.assert_array_equal(again.values(steps), want)
        assert again(17) == s(17)
        assert (again._kernel is None) == (backend == "numpy")


def test_a_plateau_with_cuts_pickles_with_its_cuts(backend: str) -> None:
    from lrdsl.reactive import Feedback

    s = lrdsl.compile("warmup(2) >> plateau(patience=0, factor=0.5)", base_lr=1.0)
    fb = Feedback(s)
    for t, metric in enumerate([1.0, 1.0, 1.0, 1.0, 1.0], start=1):
        s = fb.report(metric, t)
    cut = [s(t) for t in range(8)]
    assert min(cut) < 1.0 and cut[2] == 1.0  # a cut happened after the warmup
    again = pickle.loads(pickle.dumps(s))
    assert [again(t) for t in range(8)] == cut


def test_the_kernel_program_itself_pickles() -> None:
    kernel = pytest.importorskip("lrdsl._kernel")
    backends.force("cython")
    try:
        s = lrdsl.compile("warmup(3) >> cosine(7)")
    finally:
        backends.force(None)
    assert isinstance(s._kernel, kernel.Program)
    k2 = pickle.loads(pickle.dumps(s._kernel))
    assert [k2(t) for t in range(12)] == [s(t) for t in range(12)]


# ------------------------------------------------------------ Program.from_json


def _doc(text: str = "warmup(5) >> cosine(20) >> plateau(patience=1)") -> dict:  # type: ignore[type-arg]
    return json.loads(lrdsl.compile(text, total_steps=40).program.to_json())


def _tampered() -> list[tuple[str, object]]:
    cases: list[tuple[str, object]] = [
        ("not an object", 5),
        ("root is a number", {**_doc(), "root": 5}),
        ("extra key", {**_doc(), "extra": 1}),
        ("missing base_lr", {k: v for k, v in _doc().items() if k != "base_lr"}),
        ("base_lr is a string", {**_doc(), "base_lr": "1"}),
        ("total_steps is a float", {**_doc(), "total_steps": 40.5}),
        ("total_steps is huge", {**_doc(), "total_steps": 2**70}),
        ("source is a list", {**_doc(), "source": []}),
        ("no source", {**_doc(), "source": ""}),
    ]

    def edit(fn):  # type: ignore[no-untyped-def]
        d = _doc()
        fn(d["root"])
        return d

    def kid(i):  # type: ignore[no-untyped-def]
        return lambda r: r["kids"][i]

    cases += [
        ("unknown op", edit(lambda r: kid(1)(r).update(op="explode"))),
        ("length 3.7", edit(lambda r: kid(1)(r).update(length=3.7))),
        ("negative length", edit(lambda r: kid(1)(r).update(length=-4))),
        ("cosine n changed", edit(lambda r: kid(1)(r)["params"].update(n=21))),
        ("cosine n a string", edit(lambda r: kid(1)(r)["params"].update(n="20"))),
        ("cosine n a float", edit(lambda r: kid(1)(r)["params"].update(n=20.0))),
        ("seq starts unsorted", edit(lambda r: r["params"].update(starts=[0, 25, 5]))),
        ("seq starts huge", edit(lambda r: r["params"].update(starts=[0, 5, 2**80]))),
        ("params an object", edit(lambda r: kid(1)(r)["params"].update(peak={"a": 1}))),
        ("a kid removed", edit(lambda r: r["kids"].pop())),
        ("cuts longer than levels", edit(lambda r: kid(2)(r)["params"].update(cuts=[3, 4], levels=[0.1]))),
        ("cuts unsorted", edit(lambda r: kid(2)(r)["params"].update(cuts=[9, 3], levels=[0.1, 0.01]))),
        ("negative cut", edit(lambda r: kid(2)(r)["params"].update(cuts=[-3], levels=[0.1]))),
        ("level -1", edit(lambda r: kid(2)(r)["params"].update(cuts=[3], levels=[-1.0]))),
        ("level inf", edit(lambda r: kid(2)(r)["params"].update(cuts=[3], levels=[1e400]))),
    ]
    deep: dict = {"op": "seq", "length": None, "end": None, "params": {}, "kids": [], "label": ""}  # type: ignore[type-arg]
    node = deep
    for _ in range(3000):
        child = dict(deep, kids=[])
        node["kids"] = [child]
        node = child
    cases.append(("nested 3000 deep", {**_doc(), "root": deep}))
    return cases


@pytest.mark.parametrize(("why", "doc"), _tampered(), ids=[c[0] for c in _tampered()])
def test_program_from_json_refuses_tampered_documents(why: str, doc: object) -> None:
    text = json.dumps(doc) if why != "nested 3000 deep" else _deep_json(doc)
    with pytest.raises(LrdslError) as err:
        Program.from_json(text)
    assert err.value.code in ("E0305", "E0701"), why


def _deep_json(doc: object) -> str:
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20000)
    try:
        return json.dumps(doc)
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize("junk", ["", "nan", "[", "{}", '{"root": 5}', "null", "1e999"])
def test_program_from_json_refuses_junk(junk: str) -> None:
    with pytest.raises(LrdslError):
        Program.from_json(junk)


def test_program_from_json_round_trips_with_plateau_cuts() -> None:
    from lrdsl.reactive import Feedback

    s = lrdsl.compile("warmup(2) >> plateau(patience=0, factor=0.5)")
    fb = Feedback(s)
    for t in range(1, 6):
        s = fb.report(1.0, t)
    again = Program.from_json(s.program.to_json())
    assert again.to_json() == s.program.to_json()


# ------------------------------------------------------------ the table validator


def _tables(text: str) -> list[list[float] | list[int]]:
    from lrdsl.backends.lower import lower

    s = lrdsl.compile(text, total_steps=500)
    return [list(a) for a in lower(s.program.root)]


VALIDATED = [
    "warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)",
    "max(cosine(100), exp(0.9)) >> multistep([10, 20], gamma=0.5)",
    "one_cycle(300, max=1, three_phase=true) >> piecewise([5, 9], [1, 2, 3])",
    "repeat(linear(7, start=1, end=0), 4) >> cyclic(5, low=0.1, high=1, mode=triangular2)",
    "cosine_restarts(1, t_mul=1.3) + inverse_sqrt(warmup=10) * noam(warmup=4)",
    "warmup(3, shape=cos) >> poly(30, power=2) >> inverse_time(3, rate=0.5, staircase=true) >> step(9)",
]


def _mutants(tables: list[list], rng: random.Random, n: int):  # type: ignore[no-untyped-def, type-arg]
    special = [-(2**63), -(2**62), -1, 0, 1, 2, 7, 2**31, 2**53 - 1, 2**53, 2**53 + 1, 2**62, 2**63 - 1]
    fspecial = [NAN, math.inf, -math.inf, 0.0, -0.0, -1.0, 1e308, 5e-324, 0.5, 2.0]
    for _ in range(n):
        t = [list(a) for a in tables]
        for _ in range(rng.randint(1, 3)):
            which = rng.randrange(5)
            arr = t[which]
            op = rng.randrange(4)
            if op == 0 and arr:
                i = rng.randrange(len(arr))
                arr[i] = rng.choice(fspecial) if which in (1, 2) else rng.choice(special)
            elif op == 1 and arr:
                del arr[rng.randrange(len(arr)) :]
            elif op == 2:
                arr.extend(rng.choice(fspecial) if which in (1, 2) else rng.choice(special) for _ in range(3))
            elif arr:
                i = rng.randrange(len(arr))
                arr[i] = arr[i] + rng.choice([-1, 1]) if which in (0, 3, 4) else arr[i] * 2
        yield t


@pytest.mark.parametrize("text", VALIDATED)
def test_mutated_tables_are_refused_or_evaluate_safely(text: str) -> None:
    """A table the validator accepts must evaluate without a fault on every
    path (the sanitizer job runs this under ASan/UBSan)."""
    kernel = pytest.importorskip("lrdsl._kernel")
    from lrdsl.backends.lower import ProgramError

    rng = random.Random(text)
    accepted = refused = 0
    steps_sets = [
        np.arange(0, 600, dtype=np.int64),
        np.array([0, 3, 77, 2**31, 2**53 - 2, 2**53 - 1], dtype=np.int64),
        np.arange(2**53 - 3000, 2**53, dtype=np.int64),
    ]
    for t in _mutants(_tables(text), rng, 150):
        try:
            prog = kernel.Program(
                *[np.asarray(a, dtype=np.float64 if i in (1, 2) else np.int64) for i, a in enumerate(t)]
            )
        except (ProgramError, OverflowError, TypeError, ValueError):
            refused += 1
            continue
        accepted += 1
        for steps in steps_sets:
            out = np.empty(steps.shape)
            assert prog.values(steps, out) == 0
            prog.values(steps[::-1].copy(), out)
            prog.range_list(int(steps[0]), min(len(steps), 64))
            prog(int(steps[-1]))
    assert refused > 0 and accepted + refused == 150


@pytest.mark.parametrize(
    ("why", "edit"),
    [
        ("a kid pointing at its parent", lambda t: t[4].__setitem__(0, 0)),
        ("an unknown opcode", lambda t: t[0].__setitem__(0, 99)),
        ("a float offset past the array", lambda t: t[0].__setitem__(2, 10**6)),
        ("a negative count", lambda t: t[0].__setitem__(3, -1)),
        ("a length past the domain", lambda t: t[0].__setitem__(8 + 1, 2**53)),
        ("an end table too short", lambda t: t[1].pop()),
        ("a node row cut short", lambda t: t[0].pop()),
    ],
)
def test_the_validator_refuses_each_class(why: str, edit) -> None:  # type: ignore[no-untyped-def]
    from lrdsl.backends.lower import ProgramError, validate

    t = _tables("warmup(5) >> cosine(10)")
    validate(*t)
    edit(t)
    with pytest.raises(ProgramError):
        validate(*t)


# ------------------------------------------------------------ SGDR past the exact table


def _sgdr_by_hand(n: int, q: float, t: int, m: float = 1.0) -> tuple[float, float]:
    """(value, distance of t to the nearest boundary in cycle lengths), with
    exact rational boundaries of the float64 t_mul."""
    qq, b, length, i = Fraction(q), Fraction(0), Fraction(n), 0
    while b + length <= t:
        b += length
        length *= qq
        i += 1
    frac = (t - b) / length
    value = m**i * (1 + math.cos(math.pi * float(frac))) / 2
    return value, float(min(frac, 1 - frac))


@pytest.mark.parametrize(("n", "q"), [(1, 1.05), (2, 1.01), (5, 1.3), (1, 1.1)])
def test_restart_cycles_past_the_exact_table_match_exact_boundaries(backend: str, n: int, q: float) -> None:
    s = lrdsl.compile(f"cosine_restarts({n}, t_mul={q!r}, m_mul=0.999)")
    rng = random.Random(n)
    b96 = sum(Fraction(n) * Fraction(q) ** i for i in range(96))
    steps = sorted({int(b96) + rng.randrange(0, 40 * int(b96)) for _ in range(60)})
    got = s.values(np.asarray(steps))
    checked = 0
    for t, v in zip(steps, got):
        want, distance = _sgdr_by_hand(n, q, t, 0.999)
        if distance > 1e-9:  # not at a boundary (whose float placement may differ)
            assert v == pytest.approx(want, rel=1e-9, abs=1e-12), t
            assert s(t) == v
            checked += 1
    assert checked > 50


def test_restart_cycles_count_exactly_with_many_cycles() -> None:
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 60
    q = 1.0000001
    s = lrdsl.compile(f"cosine_restarts(1, t_mul={q!r}, cycles=1000000)")
    exact = (mpmath.mpf(Fraction(q).numerator) / Fraction(q).denominator) ** 1000000
    total = (exact - 1) / (mpmath.mpf(q) - 1)
    assert s.program.root.length == int(mpmath.ceil(total))


def test_restart_compile_cost_does_not_grow_with_cycles() -> None:
    import tracemalloc

    tracemalloc.start()
    for text in (
        "cosine_restarts(1, t_mul=1.0000001, cycles=1000000)",
        "cosine_restarts(1, t_mul=1.0000001)",
        "cosine_restarts(100, t_mul=0.999999, cycles=100000000)",
        " + ".join(["cosine_restarts(1, t_mul=1.0000001, cycles=1000000)"] * 4),
    ):
        s = lrdsl.compile(text, total_steps=10**9)
        s.phases  # noqa: B018
        assert len(s.program.to_json()) < 100_000
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 16 << 20


def test_valid_restart_schedules_compile_on_both_backends(backend: str) -> None:
    for text in (
        "cosine_restarts(1, t_mul=2, cycles=63)",
        "cosine_restarts(88, t_mul=1.01, m_mul=1.5)",
        "cosine_restarts(1, t_mul=2, cycles=63) >> const(1)",
    ):
        s = lrdsl.compile(text)
        v = s.values(np.array([0, 1, 2, 3, 2**40, 2**53 - 1]))
        assert v[0] == 1.0
    # cycle i of t_mul=2, n=1 starts at 2**i - 1: the value there is the peak, m_mul**i
    s = lrdsl.compile("cosine_restarts(1, t_mul=2, m_mul=0.5)")
    for i in (10, 40, 52):
        assert s(2**i - 1) == 0.5**i


# ------------------------------------------------------------ the emitters' step domain


@pytest.mark.parametrize("emitter", ["keras", "jax"])
def test_emitters_refuse_concrete_steps_outside_the_domain_and_nan_traced_ones(emitter: str) -> None:
    s = lrdsl.compile("warmup(5) >> cosine(20)")
    if emitter == "keras":
        pytest.importorskip("keras")
        fn = s.to_keras()
        tf = pytest.importorskip("tensorflow")

        def traced(t: int) -> float:
            return float(tf.function(fn)(tf.constant(t, dtype=tf.int64)))
    else:
        jax = pytest.importorskip("jax")
        fn = s.to_optax()

        def traced(t: int) -> float:
            return float(jax.jit(fn)(jax.numpy.asarray(t, dtype=jax.numpy.int32)))

    for bad in (-1, 2**53, 2**63 - 1, np.int64(-5), np.array([0, 2**53])):
        with pytest.raises(LrdslError) as err:
            fn(bad)
        assert err.value.code == "E0401"
    assert math.isnan(traced(-1))  # a traced step cannot raise: NaN, not the value at 0
    assert traced(3) == pytest.approx(0.6, rel=1e-6)  # 3/5 of the way up the warmup


def test_placeholder_names_that_compile_takes_itself() -> None:
    # text is positional-only, so $text is an ordinary placeholder
    assert lrdsl.compile("cosine($text)", text=4)(2) == 0.5
    for name in ("base_lr", "total_steps", "steps_per_epoch"):
        with pytest.raises(LrdslError) as err:
            lrdsl.compile(f"cosine(${name})")
        assert err.value.code == "E0206"


@pytest.mark.parametrize("key", ["mode", "factor", "patience", "threshold_mode", "eps", "cooldown", "min_lr"])
def test_hf_plateau_arguments_of_the_wrong_type_are_lrdsl_errors(key: str) -> None:
    with pytest.raises(LrdslError):
        lrdsl.from_hf("reduce_lr_on_plateau", **{key: None})


def test_a_missing_framework_is_e0802_naming_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from lrdsl import emit

    def no_torch(name: str):  # type: ignore[no-untyped-def]
        raise ModuleNotFoundError("No module named 'torch'", name="torch")

    monkeypatch.setattr(importlib, "import_module", no_torch)
    with pytest.raises(LrdslError) as err:
        lrdsl.compile("cosine(10)").to_torch(object())
    assert err.value.code == "E0802" and "pip install torch" in err.value.render()
    assert {"torch", "keras", "jax"} <= set(emit.EMITTERS)


def test_importing_an_emitter_without_its_framework_is_e0802() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'torch':\n"
        "            raise ModuleNotFoundError('No module named torch', name='torch')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import lrdsl\n"
        "try:\n"
        "    import lrdsl.torch\n"
        "except lrdsl.LrdslError as e:\n"
        "    print(e.code)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "E0802", out.stderr[-2000:]

"""The array namespaces keep one contract (lrdsl.backends.namespace): every
implementation provides every member of the ArrayNamespace protocol, they
agree with numpy on sample values, and no formula uses anything else.

Agreement: ScalarOps elementwise, NumpyOps, and TensorOps over keras.ops and
jax.numpy in float64/int64 and float32/int32, each against NumpyOps on the
inputs as that implementation sees them (floats rounded to float32 for the
float32 variants, and the result too).  NaN equals NaN and zeros compare by
value; integer results are exact, exact float operations (casts, selection,
look-ups, sqrt) exact, transcendental ones within 4 ulps of the result's type.
The float32 bounds that are inherent are stated where they are set.
"""

from __future__ import annotations

import inspect
import math
import pathlib
import re
import typing

import numpy as np
import pytest

from lrdsl.backends.namespace import MEMBERS, ArrayNamespace
from lrdsl.backends.ops import NumpyOps, ScalarOps

nan, inf = math.nan, math.inf
STEPS64 = (0, 1, 5, 1000, 2**31 + 3, 2**53 - 1)
STEPS32 = (0, 1, 5, 1000, 2**24 + 1, 2**31 - 1)
IMPLS = ("scalar", "numpy", "keras64", "keras32", "jax64", "jax32")
DATA = tuple(ArrayNamespace.__annotations__)  # members that are values, not operations


class Impl:
    def __init__(self, name: str, ops: ArrayNamespace, bits: int, lib: typing.Any = None) -> None:
        self.name, self.ops, self.bits, self.lib = name, ops, bits, lib
        self.fdtype = np.dtype(np.float64 if bits == 64 else np.float32)
        self.idtype = np.dtype(np.int64 if bits == 64 else np.int32)
        self.steps = STEPS64 if bits == 64 else STEPS32


@pytest.fixture(params=IMPLS)
def impl(request: pytest.FixtureRequest) -> typing.Iterator[Impl]:
    name = request.param
    if name in ("scalar", "numpy"):
        yield Impl(name, ScalarOps() if name == "scalar" else NumpyOps(), 64)
        return
    bits = int(name[-2:])
    fd, idt = ("float64", "int64") if bits == 64 else ("float32", "int32")
    if name.startswith("keras"):
        pytest.importorskip("keras")
        from lrdsl.backends.tensor import TensorOps, keras_lib

        yield Impl(name, TensorOps(keras_lib(), fd, idt), bits, keras_lib())
        return
    jax = pytest.importorskip("jax")
    from lrdsl.backends.tensor import TensorOps, jax_lib

    old = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", bits == 64)  # int64/float64 tensors need it; int32/float32 ones without
    try:
        yield Impl(name, TensorOps(jax_lib(), fd, idt), bits, jax_lib())
    finally:
        jax.config.update("jax_enable_x64", old)


# ---------------------------------------------------------------- (a) members


def test_members_are_the_protocols_declared_members():
    declared = getattr(typing, "get_protocol_members", None) or getattr(typing, "_get_protocol_attrs", None)
    if declared is None:
        pytest.skip("this Python cannot list a protocol's members")
    assert set(MEMBERS) == set(declared(ArrayNamespace))
    assert "name" in DATA and len(MEMBERS) == len(set(MEMBERS))


def test_every_implementation_provides_every_member(impl: Impl) -> None:
    assert isinstance(impl.ops, ArrayNamespace)
    for member in MEMBERS:
        assert hasattr(impl.ops, member), f"{impl.name} lacks {member}"
        value = getattr(impl.ops, member)
        if member in DATA:
            assert isinstance(value, str) and value, member
            continue
        assert callable(value), member
        arity = len(inspect.signature(getattr(ArrayNamespace, member)).parameters) - 1  # without self
        try:
            signature = inspect.signature(value)
        except (TypeError, ValueError):  # a builtin without a signature (numpy ufuncs)
            continue
        signature.bind(*range(arity))  # takes the protocol's positional arguments


# ---------------------------------------------------------------- (b) agreement: the sample arguments


class Steps(tuple):
    """Integer steps (int64, int32 for the 32-bit variants; Python ints for ScalarOps)."""


class Floats(tuple):
    """Floats (the variant's float type)."""


class Bools(tuple):
    """Booleans."""


class Fn:
    """Callables built from the namespace under test (piecewise pieces, a periodic body)."""

    def __init__(self, build: typing.Callable[[typing.Any], typing.Any]) -> None:
        self.build = build


VECTOR = (Steps, Floats, Bools)
INT, FLOAT = "int", "float"
FLOATS = (0.0, -0.0, 0.5, -1.25, 3.0, 1e6, -1e6, 1e300, -1e-300, inf, -inf, nan)
ANGLES = (0.0, 0.5, -1.25, math.pi, math.pi / 2, 100.0, 1e5, 1e10, -1e10, inf, -inf, nan)
EXPS = (0.0, 0.5, -1.25, 30.0, -700.0, -750.0, 700.0, 710.0, inf, -inf, nan)
LOGS = (1.0, 0.5, 2.0, 1e-300, 1e300, 0.0, -0.0, -1.0, inf, -inf, nan)
ROOTS = (0.0, -0.0, 2.0, 0.25, 1e300, 1e-300, -1.0, inf, -inf, nan)
BASES = (0.5, 2.0, 10.0, 0.0, 0.0, -0.0, 1.0, 1.0, 0.9, nan, 2.0, 0.5, 3.0, 0.0, -2.0, -8.0, -10.0, 1e-10)
POWERS = (3.0, 0.5, 400.0, 2.0, -1.0, -1.0, inf, nan, -2.5, 0.0, nan, inf, -inf, 0.0, 3.0, 1 / 3, 401.0, 40.0)
BELOW_ONE = (0.0, 0.25, 1.0, 0.999, 1e-5, 1e200, inf, nan)  # poly's ((n - t) / n) ** power, and beyond
EXPONENTS = (0.0, 1.0, 2.5, 1000.0, 1e5, 1e7, -3.0, inf, -inf, nan)
MA = (nan, 1.0, nan, 2.0, -inf, inf, 0.5, 3.0, 0.0, -0.0)
MB = (1.0, nan, nan, -1.0, 0.0, 5.0, 0.5, 3.5, -0.0, 0.0)
TABLE = (0.5, -1.0, 1e300, inf, nan, 3.0, 1e-300)
TABLES = ((), (0,), (1, 5, 5, 1000), (3, 2**31 + 3, 2**53 - 1))
# (bk, lk, q, jmax): closed-form restart tails (growing; shrinking towards a last cycle)
TAILS = ((159.5, 2.6, 1.01, None), (10.0, 10.0, 2.0, None), (11.0, 33.0, 3.0, 40), (1000.0, 50.0, 0.99, 300))
# float32 power of a constant base float32 cannot hold is exp(b * ln(a)) (TensorOps keeps ln(a) in float64): the
# product rounds to float32, so the error grows by |b ln a| = |ln result| ulps (8 ulps at 0.9999**1e5)
POW32 = "4 + |ln result| ulps"
# float32 restart_tail: the cycle starts are computed in float32 (a step above 2**24 rounds itself, q**j - 1 cancels
# for q near 1, TF's float32 pow is an ulp off at 3**4), so a step within 16 float32 ulps of a start may land in the
# neighbouring cycle; anywhere else the cycle is exact
NEAR_START = "one cycle off within 16 float32 ulps of a start"


class Case(typing.NamedTuple):
    id: str
    member: str
    kind: str  # INT or FLOAT results
    args: typing.Callable[[tuple[int, ...]], tuple]  # from the variant's sample steps
    ulps64: float = 0
    ulps32: float | str = 0


def _mask(n: int) -> Bools:
    return Bools(k % 3 != 1 for k in range(n))


def _around(steps: tuple[int, ...], *more: int) -> Steps:
    """The sample steps and more, sorted, within the variant's range."""
    top = max(steps)
    return Steps(sorted({*steps, *(m for m in more if 0 <= m <= top)}))


def _search_steps(steps: tuple[int, ...]) -> Steps:
    return _around(steps, 0, 1, 2, 3, 4, 5, 6, 999, 1000, 1001, 2**31 + 2, 2**31 + 3)


def _tail_starts(bk: float, lk: float, q: float, jmax: int | None) -> list[float]:
    """The float64 starts of the tail cycles (up to 2,000 of them) below 2**53."""
    out: list[float] = []
    for j in range(2000 if jmax is None else jmax + 1):
        start = bk + lk * (q**j - 1) / (q - 1)
        if not start < 2**53:  # a growing q reaches 2**53 long before q**j overflows
            break
        out.append(start)
    return out


def _tail_args(bk: float, lk: float, q: float, jmax: int | None):  # type: ignore[no-untyped-def]
    near = [m for x in _tail_starts(bk, lk, q, jmax) for m in (math.floor(x) - 1, math.floor(x), math.ceil(x))]
    return lambda s: (_around(tuple(x for x in s if x >= 1000), *near, 10**6), bk, lk, q, jmax)


def _pieces(xp):  # type: ignore[no-untyped-def]
    return [
        lambda u: xp.sqrt(xp.f(9 - u)),  # NaN past its piece [0, 10)
        lambda u: xp.f(u) * 0.0 - 1.0,  # the empty piece [10, 10)
        lambda u: xp.f(xp.floordiv(u, 3)) + 0.25,  # local time is an integer
        lambda u: 1e6 + xp.f(u) * 0.5,
        lambda u: xp.f(u) - 7.0,  # starts past int32: the 32-bit variants never reach it
    ]


def _body(period: int):  # type: ignore[no-untyped-def]
    def build(xp):  # type: ignore[no-untyped-def]
        # a piecewise inside (sorted local steps on arrays); NaN if it saw a step >= period
        pieces = [lambda v: xp.f(v) + 0.5, lambda v: xp.sqrt((period - 4.0) - xp.f(v))]
        return lambda u: xp.piecewise(u, (0, 3), pieces)

    return build


def _float_cases() -> list[Case]:
    F = Floats
    cases = [
        Case("f-steps", "f", FLOAT, lambda s: (Steps(s),)),
        Case("f-floats", "f", FLOAT, lambda s: (F(FLOATS),)),
        Case("f-constant", "f", FLOAT, lambda s: (0.1,)),
        Case("sin", "sin", FLOAT, lambda s: (F(ANGLES),), 4, 4),
        Case("cos", "cos", FLOAT, lambda s: (F(ANGLES),), 4, 4),
        Case("exp", "exp", FLOAT, lambda s: (F(EXPS),), 4, 4),
        Case("log", "log", FLOAT, lambda s: (F(LOGS),), 4, 4),
        Case("sqrt", "sqrt", FLOAT, lambda s: (F(ROOTS),)),  # correctly rounded (IEEE 754)
        Case("power", "power", FLOAT, lambda s: (F(BASES), F(POWERS)), 4, POW32),
        Case("power-of-steps", "power", FLOAT, lambda s: (0.5, Steps(s)), 4, POW32),
        Case("power-int-base", "power", FLOAT, lambda s: (2, Steps((0, 1, 5, 10, 1000))), 4, POW32),
        Case("power-by-constant", "power", FLOAT, lambda s: (F(BELOW_ONE), 2.5), 4, 4),
    ]
    for gamma in (0.9999, 0.5, 1.0, 2.0, 1e-3):  # float32: exp(b * ln(gamma)) for 0.9999, pow for the others
        cases.append(Case(f"power-{gamma}", "power", FLOAT, lambda s, g=gamma: (g, F(EXPONENTS)), 4, POW32))
    cases += [
        Case("where", "where", FLOAT, lambda s: (_mask(len(FLOATS)), F(FLOATS), F(FLOATS[::-1]))),
        Case("where-steps", "where", INT, lambda s: (_mask(len(s)), Steps(s), Steps(s[::-1]))),
        Case("where-constant", "where", FLOAT, lambda s: (_mask(len(FLOATS)), F(FLOATS), 0.5)),
    ]
    for m in ("minimum", "maximum"):  # NaN propagates from either operand, in both orders
        cases += [
            Case(f"{m}-nan", m, FLOAT, lambda s: (F(MA), F(MB))),
            Case(f"{m}-nan-swapped", m, FLOAT, lambda s: (F(MB), F(MA))),
            Case(f"{m}-constant", m, FLOAT, lambda s: (F(MA), 0.5)),
            Case(f"{m}-steps", m, INT, lambda s: (Steps(s), Steps(s[::-1]))),
            Case(f"{m}-steps-1000", m, INT, lambda s: (Steps(s), 1000)),
        ]
    for v in (0.5, 3, inf, nan, 1e300, -0.0):
        cases.append(Case(f"full-{v}", "full", FLOAT, lambda s, v=v: (Steps(s), v)))
    return cases


def _step_cases() -> list[Case]:
    cases = []
    for b in (1, 3, 7, 1000, 2**31 - 1, 2**40):  # 2**40: past int32, every step's quotient is 0 (or -1)
        cases.append(Case(f"floordiv-{b}", "floordiv", INT, lambda s, b=b: (Steps(s), b)))
        negative = Steps((-1, -5, -1000, -(2**31 - 1)))
        cases.append(Case(f"floordiv-negative-{b}", "floordiv", INT, lambda s, b=b, n=negative: (n, b)))
    for k, table in enumerate(TABLES):
        for side in ("left", "right"):
            args = lambda s, t=table, d=side: (t, _search_steps(s), d)  # noqa: E731
            cases.append(Case(f"searchsorted-{k}-{side}", "searchsorted", INT, args))
    cases.append(Case("take", "take", FLOAT, lambda s: (TABLE, Steps((0, 1, 2, 3, 4, 5, 6, 5, 0)))))
    for k, tail in enumerate(TAILS):  # steps at, and one either side of, every start
        cases.append(Case(f"restart_tail-{k}", "restart_tail", INT, _tail_args(*tail), 0, NEAR_START))
    starts = (0, 10, 10, 1000, 2**40)
    piece_steps = (0, 3, 9, 10, 11, 999, 1000, 1001)
    # float32: f(u) * 0.5 + 1e6 rounds twice where float64 rounds once
    cases.append(Case("piecewise", "piecewise", FLOAT, lambda s: (_around(s, *piece_steps), starts, Fn(_pieces)), 0, 1))
    for period in (7, 1000, 2**40):  # float32: (period - 4) - f(v) rounds twice
        args = lambda s, p=period: (_around(s, 2, 3, 6, 7, 8), p, Fn(_body(p)))  # noqa: E731
        cases.append(Case(f"periodic-{period}", "periodic", FLOAT, args, 0, 1))
    return cases


CASES = _float_cases() + _step_cases()


def test_every_operation_has_sample_values():
    assert {case.member for case in CASES} == set(MEMBERS) - set(DATA)


# ---------------------------------------------------------------- (b) agreement: running and comparing


def _convert(impl: Impl, arg: typing.Any) -> typing.Any:
    """``arg`` as the vector implementation ``impl`` takes it (numpy arrays for NumpyOps)."""
    if isinstance(arg, Fn):
        return arg.build(impl.ops)
    if not isinstance(arg, VECTOR):
        return arg
    value = np.array(arg, dtype={Steps: np.int64, Floats: np.float64, Bools: np.bool_}[type(arg)])
    if impl.lib is None:
        return value
    return impl.lib.constant(value, {Steps: impl.idtype, Floats: impl.fdtype, Bools: value.dtype}[type(arg)].name)


def _run(impl: Impl, member: str, args: tuple) -> typing.Any:
    fn = getattr(impl.ops, member)
    if impl.name != "scalar":
        with np.errstate(all="ignore"):
            return fn(*(_convert(impl, a) for a in args))
    n = max([len(a) for a in args if isinstance(a, VECTOR)], default=0)
    python = {Steps: int, Floats: float, Bools: bool}
    fixed = [a if isinstance(a, VECTOR) else _convert(impl, a) for a in args]
    each = [fn(*(python[type(a)](a[k]) if isinstance(a, VECTOR) else a for a in fixed)) for k in range(max(n, 1))]
    return each if n else each[0]


def _as_seen_by(impl: Impl, args: tuple) -> tuple:
    """The arguments as the variant sees them: its floats rounded to its float type."""
    with np.errstate(all="ignore"):
        return tuple(
            Floats(np.array(a).astype(impl.fdtype).astype(float).tolist()) if isinstance(a, Floats) else a for a in args
        )


def _near_start(args: tuple, off: np.ndarray) -> np.ndarray:
    """Where a float32 restart_tail may be one cycle off: within 16 float32 ulps of a float64 start."""
    steps, *tail = args
    t = np.array(steps, dtype=np.float64)
    starts = np.array(_tail_starts(*tail))
    nearest = np.abs(t[:, None] - starts[None, :]).min(axis=1)
    return (off == 1) & (nearest <= 16 * np.spacing(t.astype(np.float32)).astype(np.float64))


def _float_misses(got: np.ndarray, want: np.ndarray, tol: float | str) -> np.ndarray:
    """Indices where ``got`` is not ``want`` (both in the variant's float type) within ``tol`` ulps."""
    with np.errstate(all="ignore"):
        ulps = 4 + np.abs(np.log(np.abs(want.astype(np.float64)))) if tol == POW32 else tol
        same = (got == want) | (np.isnan(got) & np.isnan(want))
        close = np.isfinite(want) & (np.abs(got.astype(np.float64) - want) <= ulps * np.spacing(np.abs(want)))
    return np.flatnonzero(~(same | close))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_implementations_agree_with_numpy(impl: Impl, case: Case) -> None:
    args = case.args(impl.steps)
    want = np.asarray(_run(Impl("numpy", NumpyOps(), 64), case.member, _as_seen_by(impl, args)))
    got = _run(impl, case.member, args)
    if impl.name == "scalar":  # Python ints and floats, never numpy scalars or bools
        items = got if isinstance(got, list) else [got]
        assert all(type(v) is (int if case.kind == INT else float) for v in items), [type(v) for v in items]
    got = np.asarray(got)
    assert got.shape == want.shape, (got.shape, want.shape)
    if case.kind == INT:
        assert got.dtype == (np.int64 if impl.name == "scalar" else impl.idtype), got.dtype
        off = got != want
        if impl.bits == 32 and case.ulps32 == NEAR_START:
            off &= ~_near_start(args, np.abs(got.astype(np.int64) - want))
        bad = np.flatnonzero(off)
    else:
        assert got.dtype == impl.fdtype, got.dtype
        with np.errstate(all="ignore"):
            want = want.astype(impl.fdtype)
        bad = _float_misses(got, want, case.ulps64 if impl.bits == 64 else case.ulps32)
    assert bad.size == 0, (
        f"{impl.name} {case.member}: at {bad.tolist()} got {got[bad].tolist()}, want {want[bad].tolist()}"
    )


# ---------------------------------------------------------------- (c) formulas use only the protocol

ROOT = pathlib.Path(__file__).resolve().parent.parent / "lrdsl"


def _sources() -> list[pathlib.Path]:
    """Every primitive module, the reference evaluator, and any module a registered formula comes from."""
    from lrdsl.primitives import CATALOGUE

    files = {*(ROOT / "primitives").glob("*.py"), ROOT / "backends" / "reference.py"}
    for prim in CATALOGUE:
        if prim.formula is not None:
            files.add(pathlib.Path(inspect.getsourcefile(prim.formula) or ""))
    return sorted(files)


def test_formulas_use_only_protocol_members():
    used: dict[str, set[str]] = {}
    for path in _sources():
        for name in re.findall(r"\bxp\.(\w+)", path.read_text(encoding="utf-8")):
            used.setdefault(name, set()).add(path.name)
    unknown = {name: sorted(files) for name, files in used.items() if name not in MEMBERS}
    assert not unknown, f"xp members outside ArrayNamespace (add them to the protocol): {unknown}"
    assert {"f", "where", "piecewise", "restart_tail"} <= set(used)  # the scan sees the formulas


def test_formulas_take_the_namespace_as_xp():
    """The scan finds ``xp.<name>``, so every formula names its namespace ``xp``."""
    from lrdsl.primitives import CATALOGUE

    for prim in CATALOGUE:
        if prim.formula is not None:
            first = next(iter(inspect.signature(prim.formula).parameters))
            assert first == "xp", f"{prim.name}: formula(xp, t, p) names its namespace {first!r}"

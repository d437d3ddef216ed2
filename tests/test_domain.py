"""The step domain at its edges: the extreme-step corpus.

Steps are whole numbers ``0 <= t < 2**53`` (the domain module's ``STEP_LIMIT``).  For a set of
schedules that names every primitive, on both evaluators:

- in the domain, up to ``2**53 - 1``: ``sched(t)`` and every ``values`` path
  (lists, int64 and uint64 arrays, one step at a time, sorted, unsorted, duplicates,
  contiguous ranges ending at ``2**53 - 1``, ``out=``, 2-D) agree with each
  other and with the numpy reference within the documented bound
  ``|a - b| <= 8 * eps * max(|b|, S)`` (``S``: the largest finite magnitude on
  the evaluated steps, see tests/test_kernel.py); a value that is not finite
  equals the reference's (inf alike, NaN alike);
- outside it (``2**53``, ``2**62``, ``2**63 - 2``, ``2**63 - 1``, ``2**64``,
  ``-1``) every path raises :class:`lrdsl.LrdslError` E0401 (E0305 where numpy can
  only hold a list of them as floats or objects).  These
  calls once crashed or hung the C kernel, so they run in a child process
  with a timeout per call: a segfault or a hang fails the test instead of
  killing pytest;
- at chosen steps near ``2**53`` and past the exact part of a restart table
  the values equal an independent computation (exact fractions for cycle
  indices and positions, ``math`` for the cosine) within 1e-12 relative.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import queue
import subprocess
import sys
import textwrap
import threading
from fractions import Fraction

import numpy as np
import pytest

import lrdsl
from lrdsl import LrdslError, backends
from lrdsl.primitives import CATALOGUE

EPS = 2.0**-52
LIMIT = 2**53
MAX_STEP = LIMIT - 1

# the reference overflows to inf (exp(1.0000001)) and subtracts inf from inf on purpose
pytestmark = pytest.mark.filterwarnings(
    "ignore:overflow encountered:RuntimeWarning", "ignore:invalid value encountered:RuntimeWarning"
)

#: (text, compile context): every primitive appears at least once (checked below).
SCHEDULES: list[tuple[str, dict[str, int]]] = [
    ("const(3e-4)", {}),
    ("warmup(100, shape=sqrt) >> cooldown(9007199254740891, shape=sqrt, end=1e-5)", {}),
    ("cooldown(4503599627370497, shape=cos, start=0.5, end=0.01)", {}),
    ("cooldown(1000, shape=power, power=1.5) >> cooldown(1000, shape=exp, start=0.1, end=1e-4)", {}),
    ("warmup(10) >> hold() >> cooldown(20%, shape=square)", {"total_steps": 9007199254740991}),
    ("const(0.5, steps=100) >> hold(10, value=0.3) >> linear(90, end=0.01)", {}),
    ("hold(4503599627370496, value=0.2) >> exp(0.99)", {}),
    ("linear(1000, start=0.5, end=1e-4)", {}),
    ("linear(9007199254740991, start=1, end=0)", {}),
    ("warmup(100, shape=cos) >> warmup(100, start=0.1, shape=exp) >> const(0.9)", {}),
    ("warmup(4503599627370497, shape=cos) >> const(0.5)", {}),
    ("cosine(5000, min=1e-5)", {}),
    ("cosine(9007199254740991)", {}),
    ("cosine(10) >> const(1)", {}),
    ("step(3)", {}),
    ("step(300, gamma=0.37)", {}),
    ("multistep([7, 400, 4503599627370496], gamma=0.5)", {}),
    ("exp(0.9993)", {}),
    ("exp(1.0000001)", {}),
    ("exp(0.5, every=700, staircase=true)", {}),
    ("poly(3000, power=2.5, end=1e-4)", {}),
    ("inverse_time(100, 0.7)", {}),
    ("inverse_time(100, 0.7, staircase=true)", {}),
    ("inverse_sqrt(400, warmup=200)", {}),
    ("noam(400, d_model=512)", {}),
    ("piecewise([100, 2000, 4503599627370496], [0.1, 0.05, 0.01, 0.002])", {}),
    ("cosine_restarts(37, t_mul=1.5, m_mul=0.8, alpha=0.01)", {}),
    ("cosine_restarts(11, t_mul=3)", {}),
    ("cosine_restarts(250, t_mul=1, m_mul=0.95)", {}),
    ("cosine_restarts(10, t_mul=1)", {}),
    ("cosine_restarts(100, t_mul=1.01)", {}),
    ("cosine_restarts(100, t_mul=1.01, m_mul=0.999)", {}),
    ("cyclic(300, low=1e-3, mode=triangular2, down=70)", {}),
    ("cyclic(300, low=1e-3, mode=exp_range, gamma=0.9997)", {}),
    ("cyclic(3, low=0.1, high=1, down=7)", {}),
    ("cyclic(1099511627779, low=0.1, high=1, down=2199023255557)", {}),
    ("one_cycle(8000, pct_start=0.25, three_phase=true)", {}),
    ("one_cycle(8000, anneal=linear)", {}),
    ("warmup(500) >> plateau(patience=3)", {}),
    ("repeat(cosine(500, min=0.01), 6, decay=0.7) >> const(1e-4)", {}),
    ("repeat(linear(4, start=1, end=0))", {}),
    ("repeat(cosine(1000), decay=0.999)", {}),
    ("max(cosine(4000), 0.02) * 0.5 + min(exp(0.999), 0.3)", {}),
    ("exp(1.0000001) - exp(1.0000001)", {}),  # inf - inf: NaN on both evaluators
    ("warmup(5%) >> cosine_restarts(5%, t_mul=2, m_mul=0.9) >> const(1e-6)", {"total_steps": 9000}),
    ("warmup(1%) >> cosine(99%)", {"total_steps": MAX_STEP}),
    ("warmup(2ep) >> step(30ep, gamma=0.1)", {"steps_per_epoch": 1000}),
]
IDS = [text if not ctx else f"{text} {ctx}" for text, ctx in SCHEDULES]

#: In the domain: around 2**31, 2**32, 2**52 and the top of the domain.
GOOD = [
    0,
    1,
    2**31 - 1,
    2**31,
    2**32 + 7,
    10**15 + 3,
    2**52 - 1,
    2**52,
    2**52 + 1,
    2**53 - 2,
    2**53 - 1,
]
#: Contiguous ranges [lo, hi) (the kernel's range path), most ending at 2**53 - 1.
RANGES = [
    (2**53 - 5, 2**53),
    (2**53 - 2100, 2**53),  # longer than a scratch block (LR_BLOCK)
    (2**52 - 3, 2**52 + 4),
    (2**32 - 2, 2**32 + 3),
    (2**31 - 3, 2**31 + 2),
]
#: Outside the domain.
BAD = [2**53, 2**62, 2**63 - 2, 2**63 - 1, 2**64, -1]


def compile_on(backend: str, text: str, **ctx: object) -> lrdsl.Schedule:
    """``text`` compiled for ``backend`` (the fixture has selected it already)."""
    s = lrdsl.compile(text, **ctx)  # type: ignore[arg-type]
    assert (s._kernel is not None) == (backend == "cython")
    return s


# ------------------------------------------------------------ comparison helpers


def bad_indices(got: object, want: object) -> np.ndarray:
    """Where ``got`` differs from ``want`` beyond ``8 * eps * max(|want|, S)``,
    or in non-finite values (NaN must meet NaN, inf the same inf)."""
    g = np.asarray(got, dtype=np.float64).reshape(-1)
    w = np.asarray(want, dtype=np.float64).reshape(-1)
    assert g.shape == w.shape
    finite = np.isfinite(w)
    scale = max(float(np.max(np.abs(w[finite]))) if finite.any() else 0.0, 1e-300)
    bound = 8 * EPS * np.maximum(np.abs(w), scale)
    with np.errstate(invalid="ignore"):
        close = np.abs(g - w) <= bound
    same = (g == w) | (np.isnan(g) & np.isnan(w))
    return np.flatnonzero(~np.where(finite, close, same))


def assert_agree(got: object, want: object, steps: object, what: str) -> None:
    bad = bad_indices(got, want)
    if bad.size:
        s = np.asarray(steps).reshape(-1)
        g = np.asarray(got, dtype=np.float64).reshape(-1)
        w = np.asarray(want, dtype=np.float64).reshape(-1)
        lines = [f"  step {int(s[i])}: got {g[i]!r}, want {w[i]!r}" for i in bad[:8]]
        raise AssertionError(f"{what}: {bad.size} of {s.size} steps disagree\n" + "\n".join(lines))


def same_float(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def reference(s: lrdsl.Schedule, steps: object) -> np.ndarray:
    """The numpy reference evaluator's values, whatever backend ``s`` runs on."""
    arr = np.asarray(steps, dtype=np.int64)
    return np.asarray(backends.reference_values(s.program.root, arr, None), dtype=np.float64)


# ------------------------------------------------------------ coverage of the corpus


def primitive_names(text: str) -> set[str]:
    """The names called in ``text`` (primitives and combinators), from its AST."""
    names: set[str] = set()
    stack: list[object] = [lrdsl.parse(text)]
    while stack:
        node = stack.pop()
        if isinstance(node, (tuple, list)):
            stack.extend(node)
            continue
        if isinstance(getattr(node, "func", None), str) and hasattr(node, "args"):
            names.add(node.func)  # type: ignore[attr-defined]
        for cls in type(node).__mro__:
            for slot in getattr(cls, "__slots__", ()):
                if slot != "__weakref__" and hasattr(node, slot):
                    stack.append(getattr(node, slot))
    return names


def test_the_corpus_names_every_primitive():
    seen: set[str] = set()
    for text, _ctx in SCHEDULES:
        seen |= primitive_names(text)
    missing = sorted(p.name for p in CATALOGUE if p.name not in seen)
    assert not missing, f"no schedule in SCHEDULES uses {missing}"


# ------------------------------------------------------------ inside the domain


@pytest.mark.parametrize(("text", "ctx"), SCHEDULES, ids=IDS)
def test_steps_up_to_the_top_of_the_domain(backend, text, ctx):
    s = compile_on(backend, text, **ctx)
    steps = np.array(GOOD, dtype=np.int64)
    scalar = np.array([s(int(t)) for t in GOOD])
    ref = reference(s, steps)
    # every value is finite, or exactly the reference's non-finite value
    for t, v, r in zip(GOOD, scalar, ref):
        assert math.isfinite(v) or same_float(v, r), f"s({t}) = {v!r}, reference {r!r}"
    assert_agree(scalar, ref, steps, "s(t) vs the reference")
    # the scalar path is the same whatever the type of the step
    for t, v in zip(GOOD, scalar):
        for typed in (np.int64(t), np.uint64(t), float(t)):
            got = s(typed)
            assert same_float(got, v), f"s({type(typed).__name__}({t})) = {got!r}, s({t}) = {v!r}"

    def check(got: object, idx: object, what: str) -> None:
        got = np.asarray(got)
        want = scalar[np.asarray(idx)]
        assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
        assert_agree(got, want, steps[np.asarray(idx)], f"{what} vs s(t)")
        assert_agree(got, ref[np.asarray(idx)], steps[np.asarray(idx)], f"{what} vs the reference")

    n = len(GOOD)
    order = np.arange(n)
    check(s.values(GOOD), order, "values(list)")
    check([s.values([t])[0] for t in GOOD], order, "values([t]) one step at a time")
    check(s.values(steps), order, "values(int64, sorted)")
    check(s.values(steps.astype(np.uint64)), order, "values(uint64, sorted)")
    rev = order[::-1]
    check(s.values(steps[rev]), rev, "values(int64, reversed)")
    shuffled = np.array([5, 10, 0, 9, 2, 7, 1, 8, 3, 6, 4])
    assert sorted(shuffled.tolist()) == list(range(n))
    check(s.values(steps[shuffled]), shuffled, "values(int64, unsorted)")
    check(s.values(steps[shuffled].astype(np.uint64)), shuffled, "values(uint64, unsorted)")
    dup = np.array([n - 1, n - 1, 0, 0, n - 2, n - 1])
    check(s.values(steps[dup]), dup, "values(duplicates)")
    out = np.full(n, -7.0)
    res = s.values(steps, out=out)
    assert res is out
    check(out, order, "values(out=contiguous)")
    wide = np.full((n, 2), -7.0)
    res = s.values(steps[shuffled], out=wide[:, 1])
    assert np.all(wide[:, 0] == -7.0), "values(out=view) wrote outside the view"
    check(wide[:, 1], shuffled, "values(out=non-contiguous, unsorted)")
    grid = order[1:].reshape(2, 5)
    check(s.values(steps[grid]), grid, "values(2-D)")


@pytest.mark.parametrize(("text", "ctx"), SCHEDULES, ids=IDS)
def test_contiguous_ranges_ending_at_the_top(backend, text, ctx):
    s = compile_on(backend, text, **ctx)
    for lo, hi in RANGES:
        steps = np.arange(lo, hi, dtype=np.int64)
        scalar = np.array([s(int(t)) for t in steps])
        ref = reference(s, steps)
        assert_agree(scalar, ref, steps, f"s(t) on [{lo}, {hi}) vs the reference")
        got = s.values(steps)
        assert_agree(got, scalar, steps, f"values(arange({lo}, {hi})) vs s(t)")
        assert_agree(got, ref, steps, f"values(arange({lo}, {hi})) vs the reference")
        out = np.empty(steps.size)
        assert s.values(steps, out=out) is out
        assert_agree(out, scalar, steps, f"values(arange({lo}, {hi}), out=) vs s(t)")
        assert_agree(s.values(steps.astype(np.uint64)), scalar, steps, f"values(uint64 [{lo}, {hi})) vs s(t)")
        tail = steps[-3:]  # the last few steps after a jump: a sorted array that ends in a range
        picks = np.concatenate([[0, 1, 2**31], tail])
        assert_agree(s.values(picks), [s(int(t)) for t in picks], picks, "values(jump into the range) vs s(t)")
        for v, r in zip(got, ref):
            assert math.isfinite(v) or same_float(v, r)


# ------------------------------------------------------------ outside the domain


def run_case(s, case):  # type: ignore[no-untyped-def]
    """One call on schedule ``s``: ``{"values"}``, ``{"code", "message"}`` (an
    LrdslError) or ``{"exception"}`` (anything else).  Self-contained: the
    child process runs its source."""
    import numpy as np

    from lrdsl import LrdslError

    def steps_of(case):  # type: ignore[no-untyped-def]
        steps, dtype = case["steps"], case["dtype"]
        if case.get("arange"):
            return np.arange(steps[0], steps[1], dtype=dtype)
        if dtype == "list":
            return steps
        return np.array(steps, dtype=dtype)

    def run(case):  # type: ignore[no-untyped-def]
        kind = case["kind"]
        if kind == "call":
            t = case["steps"][0]
            arg = {"int": int, "int64": np.int64, "uint64": np.uint64, "float": float}[case["dtype"]](t)
            return [s(arg)]
        steps = steps_of(case)
        if kind == "values":
            return np.asarray(s.values(steps)).reshape(-1).tolist()
        if kind == "values_out":
            out = np.empty(np.shape(steps))
            return np.asarray(s.values(steps, out=out)).reshape(-1).tolist()
        raise ValueError(kind)

    try:
        return {"values": [repr(float(v)) for v in run(case)]}
    except LrdslError as err:
        return {"code": err.code, "message": err.message}
    except Exception as err:
        return {"exception": f"{type(err).__name__}: {err}"}


#: Runs the cases on one schedule in a child process, one JSON line per case,
#: so a crash or hang is attributed to its case and the rest still run.
CHILD = (
    textwrap.dedent(inspect.getsource(run_case))
    + r"""
import json, sys
spec = json.loads(sys.stdin.read())
import lrdsl
from lrdsl import backends
assert lrdsl.__file__ == spec["expect_file"], (lrdsl.__file__, spec["expect_file"])
backends.force(spec["backend"])
s = lrdsl.compile(spec["text"], **spec["ctx"])
assert (s._kernel is not None) == (spec["backend"] == "cython")
print("READY", flush=True)
for i in range(spec["start"], len(spec["cases"])):
    print("BEGIN", i, flush=True)
    print("RESULT", i, json.dumps(run_case(s, spec["cases"][i])), flush=True)
"""
)

STARTUP_TIMEOUT = 180.0  # seconds to import and compile (slow under sanitizers)
CALL_TIMEOUT = 5.0  # seconds for one call that should take microseconds
MAX_LOST = 3  # crashes or hangs after which the remaining calls are not tried


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    here = os.path.dirname(os.path.dirname(os.path.abspath(lrdsl.__file__)))
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def run_cases(backend: str, text: str, ctx: dict[str, int], cases: list[dict]) -> list[dict]:
    """The outcome of each case (see :func:`run_case`): in child processes on
    the C kernel, where these calls once crashed or hung, else in this one."""
    if backend == "cython":
        return run_isolated(backend, text, ctx, cases)
    s = compile_on(backend, text, **ctx)
    return [run_case(s, case) for case in cases]


def _pump_lines(stream, sink: queue.Queue[str | None]) -> None:  # type: ignore[no-untyped-def]
    for line in stream:
        sink.put(line)
    sink.put(None)


def run_isolated(backend: str, text: str, ctx: dict[str, int], cases: list[dict]) -> list[dict]:
    """Run ``cases`` on ``text`` in child processes: the outcome of each case,
    or ``{"crash"}``, ``{"hang"}``, ``{"not run"}``."""
    results: list[dict | None] = [None] * len(cases)
    start, lost = 0, 0
    while start < len(cases):
        if lost >= MAX_LOST:
            for i in range(start, len(cases)):
                results[i] = {"not run": f"after {lost} crashes or hangs"}
            break
        spec = {
            "text": text,
            "ctx": ctx,
            "backend": backend,
            "cases": cases,
            "start": start,
            "expect_file": os.path.abspath(lrdsl.__file__),
        }
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(spec))
        proc.stdin.close()
        lines: queue.Queue[str | None] = queue.Queue()
        err_chunks: list[str] = []

        threading.Thread(target=_pump_lines, args=(proc.stdout, lines), daemon=True).start()
        err_thread = threading.Thread(target=err_chunks.extend, args=(proc.stderr,), daemon=True)
        err_thread.start()
        current: int | None = None
        timeout = STARTUP_TIMEOUT
        outcome: dict | None = None
        try:
            while True:
                try:
                    line = lines.get(timeout=timeout)
                except queue.Empty:
                    outcome = {"hang": f"no answer within {timeout:.0f} s"}
                    break
                if line is None:  # the child exited
                    rc = proc.wait()
                    err_thread.join(timeout=10)
                    tail = "".join(err_chunks)[-1500:]
                    outcome = None if current is None and rc == 0 else {"crash": f"exit status {rc}: {tail}"}
                    break
                word, _, rest = line.rstrip("\n").partition(" ")
                if word == "READY":
                    timeout = CALL_TIMEOUT
                elif word == "BEGIN":
                    current = int(rest)
                elif word == "RESULT":
                    idx, _, payload = rest.partition(" ")
                    results[int(idx)] = json.loads(payload)
                    current = None
                    start = int(idx) + 1
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        if outcome is None:
            if start < len(cases):  # exited cleanly without finishing: should not happen
                raise AssertionError(f"the child stopped early: {''.join(err_chunks)[-1500:]}")
            break
        if current is None:  # died outside a case: import, compile or exit
            raise AssertionError(f"the child failed outside any case: {outcome}")
        results[current] = outcome
        start = current + 1
        lost += 1
    return [r if r is not None else {"not run": "?"} for r in results]


def numpy_is_integer(steps: list[int]) -> bool:
    return np.asarray(steps).dtype.kind in "iu"


def out_of_domain_cases() -> list[tuple[str, dict, set[str]]]:
    """(name, case, accepted codes): every way a step outside the domain can
    reach a schedule.  A Python list that numpy can only hold as floats or
    objects (``[0, 2**63]``, ``[2**64]``) may also be E0305 (not integers)."""
    out: list[tuple[str, dict, set[str]]] = []

    def add(name: str, kind: str, steps: list[int], dtype: str, arange: bool = False) -> None:
        codes = {"E0401"}
        if dtype == "list" and not numpy_is_integer(steps):
            codes.add("E0305")
        out.append((name, {"kind": kind, "steps": steps, "dtype": dtype, "arange": arange}, codes))

    for t in BAD:
        fits64 = -(2**63) <= t < 2**63
        fitsu = 0 <= t < 2**64
        add(f"s({t})", "call", [t], "int")
        if fits64:
            add(f"s(np.int64({t}))", "call", [t], "int64")
        if fitsu:
            add(f"s(np.uint64({t}))", "call", [t], "uint64")
        add(f"s(float({t}))", "call", [t], "float")
        add(f"values([{t}])", "values", [t], "list")
        mixed = [t, 0, 1] if t < 0 else [0, 1, t]
        add(f"values({mixed})", "values", mixed, "list")
        add(f"values([5, {t}, 0])", "values", [5, t, 0], "list")
        for dtype, ok in (("int64", fits64), ("uint64", fitsu)):
            if not ok:
                continue
            add(f"values(np.array([{t}], {dtype}))", "values", [t], dtype)
            add(f"values(np.array({mixed}, {dtype}))", "values", mixed, dtype)
            add(f"values(np.array([5, {t}, 0], {dtype}), out=)", "values_out", [5, t, 0], dtype)
            lo = t - 3 if t > 0 else t
            run = [lo + k for k in range(4)]  # a contiguous run that reaches or starts at t
            if all((-(2**63) <= x < 2**63) if dtype == "int64" else (0 <= x < 2**64) for x in run):
                add(f"values(np.array({run}, {dtype}))", "values", run, dtype)
                add(f"values(np.array({run}, {dtype}), out=)", "values_out", run, dtype)
            add(f"values(np.array([[0], [{t}]], {dtype}))", "values", [[0], [t]], dtype)
    # a range that starts inside the domain and crosses its top
    for lo, hi in ((2**53 - 3, 2**53 + 2), (2**53 - 3000, 2**53 + 3000), (2**63 - 3000, 2**63 - 1)):
        for dtype in ("int64", "uint64"):
            add(f"values(np.arange({lo}, {hi}, dtype={dtype}))", "values", [lo, hi], dtype, arange=True)
            add(f"values(np.arange({lo}, {hi}, dtype={dtype}), out=)", "values_out", [lo, hi], dtype, arange=True)
    return out


OUT_OF_DOMAIN = out_of_domain_cases()


def describe(outcome: dict) -> str:
    if "values" in outcome:
        vals = outcome["values"]
        return f"returned {vals[:4]}{' ...' if len(vals) > 4 else ''}"
    if "code" in outcome:
        return f"LrdslError {outcome['code']}: {outcome['message']}"
    return "; ".join(f"{k}: {v}" for k, v in outcome.items())


@pytest.mark.parametrize(("text", "ctx"), SCHEDULES, ids=IDS)
def test_steps_outside_the_domain_raise_E0401(backend, text, ctx):
    results = run_cases(backend, text, ctx, [case for _name, case, _codes in OUT_OF_DOMAIN])
    failures = [
        f"  {name}: {describe(outcome)}"
        for (name, _case, codes), outcome in zip(OUT_OF_DOMAIN, results)
        if outcome.get("code") not in codes
    ]
    assert not failures, f"{len(failures)} of {len(results)} out-of-domain calls did not raise E0401:\n" + "\n".join(
        failures
    )


@pytest.mark.parametrize("step", [1.5, -0.5, float("nan"), float("inf"), "3", None, True, np.float64(2.5), 1j])
def test_a_step_that_is_not_a_whole_number_is_E0305(backend, step):
    s = compile_on(backend, "warmup(5) >> cosine(10)")
    with pytest.raises(LrdslError) as info:
        s(step)
    assert info.value.code == "E0305", info.value.message


@pytest.mark.parametrize("steps", [[0.5], np.array([1.5, 2.0]), np.array([1.0]), ["3"], np.array([True, False])])
def test_values_of_steps_that_are_not_integers_is_E0305(backend, steps):
    s = compile_on(backend, "warmup(5) >> cosine(10)")
    with pytest.raises(LrdslError) as info:
        s.values(steps)
    assert info.value.code == "E0305", info.value.message


def test_a_float_step_in_the_domain_is_its_integer(backend):
    s = compile_on(backend, "warmup(5) >> cosine(10)")
    assert s(3.0) == s(3)
    assert s(float(2**53 - 2)) == s(2**53 - 2)


# ------------------------------------------------------------ known regressions


def one_call(backend: str, text: str, steps: list[int], kind: str = "values") -> dict:
    return run_cases(backend, text, {}, [{"kind": kind, "steps": steps, "dtype": "list"}])[0]


def test_step_at_2_63_minus_2_is_E0401_not_a_segfault(backend):
    outcome = one_call(backend, "step(3)", [2**63 - 2])
    assert outcome.get("code") == "E0401", describe(outcome)


def test_repeat_at_2_63_minus_1_raises_instead_of_hanging(backend):
    outcome = one_call(backend, "repeat(linear(4, start=1, end=0))", [0, 2**63 - 1])
    assert outcome.get("code") == "E0401", describe(outcome)


def test_cosine_then_const_holds_the_const_at_the_top(backend):
    s = compile_on(backend, "cosine(10) >> const(1)")
    assert s.values([2**53 - 1]).tolist() == [1.0]
    assert s(2**53 - 1) == 1.0
    assert s.values(np.arange(2**53 - 4, 2**53)).tolist() == [1.0] * 4


def test_restarts_past_the_table_agree_beyond_the_domain(backend):
    """1.5 * 2**53, where the kernel once read past its restart table: both
    paths now reject the step (it is outside the domain)."""
    t = 13510798882111488
    assert t == 3 * 2**52
    s = compile_on(backend, "cosine_restarts(100, t_mul=1.01)")
    scalar = run_cases(
        backend, "cosine_restarts(100, t_mul=1.01)", {}, [{"kind": "call", "steps": [t], "dtype": "int"}]
    )
    array = one_call(backend, "cosine_restarts(100, t_mul=1.01)", [t])
    assert scalar[0].get("code") == "E0401", describe(scalar[0])
    assert array.get("code") == "E0401", describe(array)
    assert 0.0 <= s(MAX_STEP) <= 1.0


# ------------------------------------------------------------ independent values near 2**53


def rc(x: Fraction) -> float:
    """(1 + cos(pi x)) / 2 for 0 <= x <= 1, as cos^2(pi x / 2) or, past the
    middle, sin^2(pi (1 - x) / 2), from the exact fraction x."""
    if x <= Fraction(1, 2):
        return math.cos(math.pi / 2 * float(x)) ** 2
    return math.sin(math.pi / 2 * float(1 - x)) ** 2


def restart_cycle(n: int, t_mul: float, t: int) -> tuple[int, Fraction]:
    """Cycle index and exact position (0 <= x < 1) of step t in SGDR cycles of
    lengths n, n*q, n*q**2, ... (q the float64 t_mul, exactly): the starts are
    n*(q**i - 1)/(q - 1)."""
    q = Fraction(t_mul)

    def start(i: int) -> Fraction:
        return n * i if q == 1 else n * (q**i - 1) / (q - 1)

    hi = 1
    while start(hi) <= t:
        hi *= 2
    lo = 0  # start(lo) <= t < start(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if start(mid) <= t:
            lo = mid
        else:
            hi = mid
    length = n * q**lo
    return lo, (t - start(lo)) / length


def near(got: float, want: float, scale: float) -> bool:
    """1e-12 relative, measured against the larger of the value and the
    amplitude it is a fraction of (a value near 0 at a cycle's end)."""
    return abs(got - want) <= 1e-12 * max(abs(want), scale)


#: (n, t_mul, m_mul, steps): steps chosen inside a cycle (not at its ends),
#: past the exactly tabulated cycles (96) where t_mul != 1.
RESTART_CASES = [
    (100, 1.01, 1.0, [2**53 - 1, 2**53 - 2, 2**52 + 1, 3 * 10**15, 2**31]),
    (100, 1.01, 0.999, [2**53 - 1, 2**52 + 1, 10**15 + 3]),
    (37, 1.5, 0.8, [2**53 - 1, 2**52 + 1]),
    (11, 3.0, 1.0, [2**53 - 1, 2**53 - 2, 2**52 + 1]),
    (250, 1.0, 1.0, [2**53 - 1, 2**52 + 1, 2**31]),
    (10, 1.0, 1.0, [2**53 - 1, 2**53 - 3, 2**52 + 1, 2**52 + 3, 2**40 + 5]),
]


@pytest.mark.parametrize(("n", "t_mul", "m_mul", "steps"), RESTART_CASES)
def test_restarts_near_the_top_match_a_hand_computation(backend, n, t_mul, m_mul, steps):
    text = f"cosine_restarts({n}, t_mul={t_mul!r}, m_mul={m_mul!r})"
    try:
        s = compile_on(backend, text)
    except LrdslError as err:
        pytest.fail(f"{text}: {err.code} {err.message}")
    values = s.values(steps)
    for t, v in zip(steps, values):
        i, x = restart_cycle(n, t_mul, t)
        assert Fraction(1, 1000) < x < Fraction(999, 1000), f"test premise: step {t} is near a cycle boundary"
        amp = math.pow(m_mul, i)
        want = amp * rc(x)
        assert near(s(t), want, amp), f"{text}: s({t}) = {s(t)!r}, by hand {want!r} (cycle {i}, x={float(x)})"
        assert near(float(v), want, amp), f"{text}: values({steps})[{t}] = {v!r}, by hand {want!r} (cycle {i})"
        one = float(s.values([t])[0])  # a one-step range: the kernel's range path
        assert near(one, want, amp), f"{text}: values([{t}]) = {one!r}, by hand {want!r} (cycle {i})"
        hi = min(t + 3, LIMIT)
        ranged = float(s.values(np.arange(t - 2, hi))[2])
        assert near(ranged, want, amp), f"{text}: values(arange({t - 2}, {hi}))[2] = {ranged!r}, by hand {want!r}"
        assert 0.0 <= s(t) <= 1.0


def cyclic_by_hand(up: int, down: int, low: float, high: float, mode: str, gamma: float, t: int) -> float:
    total = up + down
    c, r = divmod(t, total)
    sf = Fraction(r, up) if r <= up else Fraction(total - r, down)
    height = (Fraction(high) - Fraction(low)) * sf
    scale = 1.0
    if mode == "triangular2":
        scale = math.pow(0.5, c)
    elif mode == "exp_range":
        scale = math.pow(gamma, t)
    return float(Fraction(low) + height * Fraction(scale))


CYCLIC_CASES = [
    (3, 7, 0.1, 1.0, "triangular", 1.0),
    (1099511627779, 2199023255557, 0.1, 1.0, "triangular", 1.0),
    (2**50, 2**50, 0.1, 1.0, "triangular2", 1.0),
    (2**50 + 3, 2**49 + 1, 1e-3, 0.5, "triangular2", 1.0),
    (4503599627370493, 1000, 0.25, 1.0, "exp_range", 0.9999999999999999),
    (300, 70, 1e-3, 1.0, "triangular2", 1.0),
]


@pytest.mark.parametrize(("up", "down", "low", "high", "mode", "gamma"), CYCLIC_CASES)
def test_cyclic_near_the_top_matches_the_triangle_formula(backend, up, down, low, high, mode, gamma):
    text = f"cyclic({up}, low={low!r}, high={high!r}, mode={mode}, gamma={gamma!r}, down={down})"
    s = compile_on(backend, text)
    steps = [2**53 - 1, 2**53 - 2, 2**53 - 3, 2**52 + 1, 2**52, 2**32 + 7]
    values = s.values(steps)
    ranged = s.values(np.arange(2**53 - 3, 2**53))
    for t, v in zip(steps, values):
        want = cyclic_by_hand(up, down, low, high, mode, gamma, t)
        assert near(s(t), want, high), f"{text}: s({t}) = {s(t)!r}, by hand {want!r}"
        assert near(float(v), want, high), f"{text}: values([{t}]) = {v!r}, by hand {want!r}"
    for t, v in zip(range(2**53 - 3, 2**53), ranged):
        want = cyclic_by_hand(up, down, low, high, mode, gamma, t)
        assert near(float(v), want, high), f"{text}: values(arange)[{t}] = {v!r}, by hand {want!r}"


def test_long_segments_near_the_top_match_hand_computations(backend):
    n = MAX_STEP
    w = 2**52 + 1
    checks = [
        ("linear(9007199254740991, start=1, end=0)", lambda t: float(Fraction(n - t, n))),
        ("cosine(9007199254740991)", lambda t: rc(Fraction(t, n))),
        ("repeat(linear(4, start=1, end=0))", lambda t: float(Fraction(4 - t % 4, 4))),
        ("inverse_sqrt(400, warmup=200)", lambda t: 1 / math.sqrt(float(Fraction(t - 200 + 400, 400)))),
        ("warmup(4503599627370497, shape=cos) >> const(0.5)", lambda t: 0.5 * rc(Fraction(w - t, w)) if t < w else 0.5),
        ("cosine(10) >> const(1)", lambda t: 1.0),
    ]
    steps = [2**53 - 2, 2**53 - 3, 2**52 + 1, 2**52 - 1, 2**32 + 7]
    for text, by_hand in checks:
        s = compile_on(backend, text)
        values = s.values(steps)
        for t, v in zip(steps, values):
            want = by_hand(t)
            assert near(s(t), want, 1e-300), f"{text}: s({t}) = {s(t)!r}, by hand {want!r}"
            assert near(float(v), want, 1e-300), f"{text}: values([{t}]) = {v!r}, by hand {want!r}"

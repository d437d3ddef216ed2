"""Parity: every Keras-mirrored primitive against ``keras.optimizers.schedules``.

The Keras schedule objects are evaluated in float64: every float argument is
passed as ``np.float64`` (a Python float would go through float32 on the way
in) and steps as int64.  Most schedules accept a tensor of steps, so all steps
are evaluated in one call; CosineDecay with a warmup branches with
``ops.cond`` on the step, so it goes through ``keras.ops.vectorized_map``.  The
scalar-path tests call each schedule one step at a time, ``schedule(np.int64(k))``,
as an optimizer does.

Tolerance: ``rtol=1e-12`` with an absolute floor of ``1e-15 * peak``.  Every
value test runs on both evaluators (the ``backend`` fixture in conftest.py).

Known Keras behaviour handled here:

* CosineDecayRestarts finds the cycle with ``floor(log(1 - k/n*(1 - t_mul)) /
  log(t_mul))``, which at some exact cycle starts rounds just below the whole
  number and puts the step at the end (value ``alpha * peak``) of the previous
  cycle.  Such steps are excluded from the Keras comparison only after proving
  them: the step is a cycle start computed with Python integers/fractions, and
  Keras's value there is the previous cycle's end value; lrdsl's value there
  is asserted to be the restart peak, and the steps right after (where Keras
  is back in the right cycle) are compared normally.  The batched and the
  one-step paths round the log differently and misplace different steps
  (first_decay_steps=11, t_mul=3: batched 11, 44, 440, 1331; one step a call
  only 1331), so each path's misplaced steps are proven on their own.
* ``vectorized_map`` and one-step calls of CosineDecay with a warmup differ by
  up to 1 ulp in the warmup ramp; both are compared with lrdsl.
* ``t_mul=1.1`` is not a binary fraction; lrdsl counts cycles exactly for the
  double 1.1000000000000000888 that Keras multiplies by, so away from the cycle
  starts Keras's log formula misplaces, the two agree at the tight tolerance.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
keras = pytest.importorskip("keras")
from keras.optimizers import schedules as S  # noqa: E402
from parity import ATOL_FRACTION, RTOL, around, assert_parity, mismatches  # noqa: E402

import lrdsl  # noqa: E402

N_STEPS = 20_001
f64 = np.float64


# ---------------------------------------------------------------- helpers


def _to_numpy(value: object) -> np.ndarray:
    out = keras.ops.convert_to_numpy(value)
    assert out.dtype == np.float64, f"Keras computed in {out.dtype}, not float64"
    return out


def keras_batch(schedule: Callable, steps: np.ndarray) -> np.ndarray:
    """All steps in one call (the schedule broadcasts over a tensor of steps)."""
    return _to_numpy(schedule(keras.ops.convert_to_tensor(steps.astype(np.int64))))


def keras_mapped(schedule: Callable, steps: np.ndarray) -> np.ndarray:
    """All steps through keras.ops.vectorized_map (for schedules that branch with ops.cond)."""
    return _to_numpy(keras.ops.vectorized_map(schedule, keras.ops.convert_to_tensor(steps.astype(np.int64))))


def keras_each(schedule: Callable, steps) -> np.ndarray:
    """One call per step, ``schedule(np.int64(k))``, as an optimizer calls it."""
    return np.array([float(_to_numpy(schedule(np.int64(k)))) for k in steps], dtype=np.float64)


def multiples(every: int, limit: int) -> list[int]:
    """Multiples of ``every`` below ``limit``: all of them when there are at most
    60, else the first 40 and the last 20 (Keras's one-step-at-a-time path costs
    ~1 ms a call; the batched test covers every step)."""
    m = list(range(0, limit, every))
    return m if len(m) <= 60 else m[:40] + m[-20:]


def restart_starts(n: int, t_mul: Fraction, limit: int) -> list[Fraction]:
    """Real start points of SGDR cycles, exactly: n * (1 + t_mul + ... + t_mul**(k-1))."""
    starts, b, length = [], Fraction(0), Fraction(n)
    while b < limit:
        starts.append(b)
        b += length
        length *= t_mul
    return starts


# ---------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    id: str
    expr: str
    base: float
    make: Callable[[], Callable]  # -> a Keras LearningRateSchedule
    boundaries: tuple[int, ...]
    peak: float
    batched: bool = True  # False: evaluate through vectorized_map
    restarts: tuple | None = None  # (n, t_mul as Fraction, m_mul, alpha) for CosineDecayRestarts

    def lrdsl(self) -> lrdsl.Schedule:
        return lrdsl.compile(self.expr, base_lr=self.base)


CASES: list[Case] = []


def add(case: Case) -> None:
    assert case.boundaries and max(case.boundaries) < N_STEPS, case.id
    CASES.append(case)


# linear -> PolynomialDecay(initial=start, decay_steps=n, end_learning_rate=end, power=1)
for n, start, end, base in (
    (37, None, None, 0.1),
    (9973, 0.03, 0.001, 0.1),
    (5000, 1e-4, 0.37, 0.37),  # increasing
    (10_000, 0.05, 0.0, 1.0),
):
    s0 = base if start is None else start
    e0 = 0.0 if end is None else end
    args = [str(n)] + ([] if start is None else [f"start={start}", f"end={end}"])
    add(
        Case(
            f"linear-{n}-{start}-{end}",
            f"linear({', '.join(args)})",
            base,
            lambda s0=s0, e0=e0, n=n: S.PolynomialDecay(f64(s0), n, end_learning_rate=f64(e0), power=f64(1.0)),
            around([0, n], N_STEPS),
            max(s0, e0),
        )
    )

# poly -> PolynomialDecay(decay_steps=n, end_learning_rate=end, power, cycle=False)
for n, power, end, base in (
    (9973, 2.5, 1e-5, 0.1),
    (777, 0.37, None, 0.1),
    (1000, None, None, 0.3),
    (4321, 3.0, 0.001, 0.05),
    (1, 2.0, 0.01, 0.1),
):
    args = [str(n)] + ([] if power is None else [f"power={power}"]) + ([] if end is None else [f"end={end}"])
    add(
        Case(
            f"poly-{n}-{power}-{end}",
            f"poly({', '.join(args)})",
            base,
            lambda b=base, n=n, p=1.0 if power is None else power, e=0.0 if end is None else end: S.PolynomialDecay(
                f64(b), n, end_learning_rate=f64(e), power=f64(p), cycle=False
            ),
            around([0, n], N_STEPS),
            base,
        )
    )

# cosine -> CosineDecay(decay_steps=n, alpha); Keras clamps at n too, so every step is compared
for n, kw, peak, alpha, base in (
    (10_000, "alpha=0.1", 0.1, 0.1, 0.1),
    (37, "alpha=0.37", 0.1, 0.37, 0.1),
    (12_345, "", 0.37, 0.0, 0.37),
    (9999, "peak=0.05, alpha=0.01", 0.05, 0.01, 1.0),  # absolute peak: base_lr unused
    (1, "alpha=0.5", 0.2, 0.5, 0.2),
):
    add(
        Case(
            f"cosine-{n}-{kw or 'default'}",
            f"cosine({', '.join([str(n)] + ([kw] if kw else []))})",
            base,
            lambda p=peak, n=n, a=alpha: S.CosineDecay(f64(p), n, alpha=f64(a)),
            around([0, n // 2, n], N_STEPS),
            peak,
        )
    )

# warmup(n, start=a) >> cosine(N, alpha) with base_lr=peak
#   -> CosineDecay(initial=a, decay_steps=N, alpha, warmup_target=peak, warmup_steps=n)
for n, start, big_n, alpha, peak in (
    (1000, 0.0, 9000, 0.01, 0.1),
    (37, 1e-4, 9963, 0.0, 0.37),
    (7, 0.01, 10_000, 0.37, 0.05),
    (5000, 0.0, 5000, 0.1, 1.0),
    (1, 0.001, 12_345, 0.0, 0.1),
):
    add(
        Case(
            f"warmup_cosine-{n}-{start}-{big_n}-{alpha}",
            f"warmup({n}, start={start}) >> cosine({big_n}, alpha={alpha})",
            peak,
            lambda a=start, N=big_n, al=alpha, p=peak, n=n: S.CosineDecay(
                f64(a), N, alpha=f64(al), warmup_target=f64(p), warmup_steps=n
            ),
            around([0, n, n + big_n // 2, n + big_n], N_STEPS),
            peak,
            batched=False,
        )
    )

# step -> ExponentialDecay(decay_steps=every, decay_rate=gamma, staircase=True)
for every, gamma, base in ((37, 0.37, 0.1), (1000, 0.5, 0.1), (3333, None, 0.3), (7, 0.999, 0.05)):
    g = 0.1 if gamma is None else gamma
    add(
        Case(
            f"step-{every}-{g}",
            f"step({', '.join([str(every)] + ([] if gamma is None else [f'gamma={gamma}']))})",
            base,
            lambda b=base, e=every, g=g: S.ExponentialDecay(f64(b), e, f64(g), staircase=True),
            around(multiples(every, N_STEPS), N_STEPS),
            base,
        )
    )

# exp -> ExponentialDecay(decay_steps=every, decay_rate=gamma, staircase)
for gamma, every, staircase, base in (
    (0.999, None, None, 0.1),
    (0.37, 37, True, 0.1),
    (0.96, 100, False, 0.1),
    (0.5, 1000, True, 0.37),
    (0.9995, 3, False, 1.0),
):
    args = [str(gamma)]
    if every is not None:
        args.append(f"every={every}")
    if staircase is not None:
        args.append(f"staircase={'true' if staircase else 'false'}")
    e = 1 if every is None else every
    add(
        Case(
            f"exp-{gamma}-{e}-{bool(staircase)}",
            f"exp({', '.join(args)})",
            base,
            lambda b=base, e=e, g=gamma, st=bool(staircase): S.ExponentialDecay(f64(b), e, f64(g), staircase=st),
            around(multiples(e, N_STEPS), N_STEPS) if e > 1 else (0, 1, 2, 10_000),
            base,
        )
    )

# inverse_time -> InverseTimeDecay(decay_steps=every, decay_rate=rate, staircase)
for every, rate, staircase, base in (
    (100, 0.5, None, 0.1),
    (37, 0.37, True, 0.1),
    (1, 0.001, False, 0.3),
    (1000, 2.0, True, 1.0),
    (7, 0.0, None, 0.05),
):
    args = [str(every), str(rate)] + ([] if staircase is None else [f"staircase={'true' if staircase else 'false'}"])
    add(
        Case(
            f"inverse_time-{every}-{rate}-{bool(staircase)}",
            f"inverse_time({', '.join(args)})",
            base,
            lambda b=base, e=every, r=rate, st=bool(staircase): S.InverseTimeDecay(f64(b), e, f64(r), staircase=st),
            around(multiples(every, N_STEPS), N_STEPS) if every > 1 else (0, 1, 2, 10_000),
            base,
        )
    )

# piecewise -> PiecewiseConstantDecay(boundaries, values)
for bounds, values in (
    ([7, 400, 4123], [0.1, 0.037, 0.01, 0.001]),
    ([1000], [1.0, 0.5]),
    ([0, 1, 2, 19_999], [0.3, 0.2, 0.1, 0.05, 0.0]),
    ([100, 10_000], [0.001, 0.37, 1e-6]),
):
    add(
        Case(
            f"piecewise-{'_'.join(map(str, bounds))}",
            f"piecewise({bounds}, {values})",
            1.0,
            lambda b=tuple(bounds), v=tuple(values): S.PiecewiseConstantDecay(list(b), [f64(x) for x in v]),
            around([0, *bounds], N_STEPS),
            max(values),
        )
    )

# cosine_restarts -> CosineDecayRestarts(first_decay_steps=n, t_mul, m_mul, alpha); t_mul exact in binary
for n, t_mul, m_mul, alpha, base in (
    (11, "3", 1.0, 0.0, 0.1),
    (11, "3", 0.9, 0.0, 0.1),
    (37, "3", 0.9, 0.01, 0.1),
    (10, "2", 0.9, 0.0, 1e-3),
    (100, "1", 0.8, 0.1, 0.1),
    (13, "1.5", 0.95, 0.0, 0.1),
    (4, "1.25", 1.0, 0.0, 1.0),
    (16, "1.25", 0.7, 0.1, 0.37),
    (1, "2", 0.5, 0.0, 0.1),
    (7, "4", 1.0, 0.37, 0.2),
):
    q = Fraction(t_mul)
    args = [str(n), f"t_mul={t_mul}", f"m_mul={m_mul}", f"alpha={alpha}"]
    starts = restart_starts(n, q, N_STEPS)
    add(
        Case(
            f"cosine_restarts-{n}-t_mul{t_mul}-m_mul{m_mul}-alpha{alpha}",
            f"cosine_restarts({', '.join(args)})",
            base,
            lambda b=base, n=n, t=float(q), m=m_mul, a=alpha: S.CosineDecayRestarts(
                f64(b), n, t_mul=f64(t), m_mul=f64(m), alpha=f64(a)
            ),
            around([math.ceil(s) for s in starts] + [math.floor(s) for s in starts], N_STEPS),
            base,
            restarts=(n, q, m_mul, alpha),
        )
    )

IDS = [c.id for c in CASES]
assert len(set(IDS)) == len(IDS), "duplicate case ids"


@cache
def expected_all(case_id: str) -> np.ndarray:
    case = next(c for c in CASES if c.id == case_id)
    steps = np.arange(N_STEPS, dtype=np.int64)
    schedule = case.make()
    return keras_batch(schedule, steps) if case.batched else keras_mapped(schedule, steps)


def misplaced_restart_steps(case: Case, steps: np.ndarray, keras_vals: np.ndarray, got: np.ndarray) -> set[int]:
    """Steps where Keras's log formula provably puts a cycle start in the previous cycle.

    For each step where lrdsl and Keras disagree, prove (or fail): the step is
    an exact whole-number cycle start k (Python integer/fraction arithmetic),
    Keras's value is the previous cycle's end value alpha*peak, and lrdsl's is
    the restart peak of cycle k, peak*(alpha + (1-alpha)*m_mul**k)."""
    n, q, m_mul, alpha = case.restarts
    starts = restart_starts(n, q, int(steps.max()) + 1)
    whole = {int(s): k for k, s in enumerate(starts) if s.denominator == 1}
    peak = case.peak
    proven = set()
    for i in mismatches(got, keras_vals, peak):
        t = int(steps[i])
        assert t in whole, f"{case.expr}: Keras and lrdsl differ at step {t}, which is not an exact cycle start"
        k = whole[t]
        end_of_previous = alpha * peak
        restart_peak = peak * (alpha + (1 - alpha) * m_mul**k)
        assert abs(keras_vals[i] - end_of_previous) <= RTOL * end_of_previous + ATOL_FRACTION * peak, (
            f"{case.expr}: at cycle start {t} (cycle {k}) Keras gives {keras_vals[i]!r},"
            f" not the previous cycle's end {end_of_previous!r}"
        )
        assert abs(got[i] - restart_peak) <= RTOL * restart_peak, (t, got[i], restart_peak)
        proven.add(t)
    return proven


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_values_match_keras_schedule(case: Case, backend: str) -> None:
    steps = np.arange(N_STEPS, dtype=np.int64)
    expected = expected_all(case.id)
    got = case.lrdsl().values(steps)
    keep = np.ones(steps.shape, dtype=bool)
    if case.restarts is not None:
        misplaced = misplaced_restart_steps(case, steps, expected, got)
        keep[list(misplaced)] = False
    assert_parity(got[keep], expected[keep], steps[keep], case.peak, f"{case.expr} vs Keras")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_scalar_path_at_boundaries(case: Case, backend: str) -> None:
    """lrdsl's ``sched(k)`` against Keras called one step at a time, at every boundary."""
    steps = np.asarray(case.boundaries, dtype=np.int64)
    schedule = case.make()
    expected = keras_each(schedule, steps)
    sched = case.lrdsl()
    got = np.array([sched(int(k)) for k in steps])
    batch = expected_all(case.id)[steps]
    keep = np.ones(steps.shape, dtype=bool)
    if case.restarts is not None:
        # Keras's one-step and batched paths misplace different cycle starts (their
        # log() roundings differ): each path's misplaced steps are proven separately
        misplaced = misplaced_restart_steps(case, steps, expected, got)
        misplaced |= misplaced_restart_steps(case, steps, batch, got)
        keep = np.array([int(k) not in misplaced for k in steps])
    assert_parity(got[keep], expected[keep], steps[keep], case.peak, f"{case.expr} scalar vs Keras")
    # elsewhere the one-at-a-time Keras path agrees with the batched one
    assert_parity(batch[keep], expected[keep], steps[keep], case.peak, f"{case.expr}: Keras batch vs single")


def test_keras_misplaces_boundaries_that_lrdsl_gets_right(backend: str) -> None:
    """first_decay_steps=11, t_mul=3: cycles of 11, 33, 99, 297, 891 steps start at
    0, 11, 44, 143, 440, 1331.  Derived by hand, step 1331 = 11*(1+3+9+27+81)
    starts cycle 5 at peak*m_mul**5; step 1330 is the last step of cycle 4,
    890/891 of the way through it."""
    peak, m = 0.1, 0.9
    assert 11 * (1 + 3 + 9 + 27 + 81) == 1331
    sched = lrdsl.compile("cosine_restarts(11, t_mul=3, m_mul=0.9)", base_lr=peak)
    assert sched(1331) == pytest.approx(peak * m**5, rel=1e-15)
    assert sched.values(np.array([1331]))[0] == pytest.approx(peak * m**5, rel=1e-15)
    end_of_4 = peak * m**4 * (1 + math.cos(math.pi * 890 / 891)) / 2
    assert sched(1330) == pytest.approx(end_of_4, rel=1e-9)
    for t, k in ((11, 1), (44, 2), (143, 3), (440, 4), (1331, 5), (4004, 6), (12_023, 7)):
        assert sched(t) == pytest.approx(peak * m**k, rel=1e-15), t
    # Keras 3's log formula: floor(log(1 + 1331/11*2)/log(3)) = floor(log(243)/log(3)), and
    # log(243)/log(3) rounds below 5 in float64, so Keras puts 1331 at the end of cycle 4.
    assert math.floor(math.log(1.0 - 1331 / 11 * (1.0 - 3.0)) / math.log(3.0)) == 4
    keras_1331 = float(_to_numpy(S.CosineDecayRestarts(f64(peak), 11, t_mul=f64(3.0), m_mul=f64(m))(np.int64(1331))))
    assert keras_1331 in (0.0, pytest.approx(peak * m**5, rel=1e-12))  # 0.0 in Keras 3.15; peak*m**5 if fixed


def exact_restarts(n: int, q: Fraction, m_mul: float, alpha: float, peak: float, steps: np.ndarray) -> np.ndarray:
    """SGDR in exact arithmetic: the cycle and the fraction through it as Fractions,
    then min + (peak-min) * m_mul**k * (1 + cos(pi*x))/2 in float64."""
    out = np.empty(steps.shape, dtype=np.float64)
    b, length, k = Fraction(0), Fraction(n), 0
    lo = alpha * peak
    for i, t in enumerate(steps.tolist()):  # steps ascending
        while t >= b + length:
            b += length
            length *= q
            k += 1
        x = (t - b) / length
        out[i] = lo + (peak - lo) * m_mul**k * (1 + math.cos(math.pi * float(x))) / 2
    return out


@pytest.mark.parametrize("n", [7, 10])
def test_cosine_restarts_non_binary_t_mul(n: int, backend: str) -> None:
    """t_mul=1.1 is the double 1.1000000000000000888 in Keras and in lrdsl.
    lrdsl is the exact schedule for that double at the tight tolerance, and so
    is Keras away from the cycle starts its log formula rounds either way."""
    peak, m_mul = 0.1, 1.0
    steps = np.arange(N_STEPS, dtype=np.int64)
    got = lrdsl.compile(f"cosine_restarts({n}, t_mul=1.1, m_mul={m_mul})", base_lr=peak).values(steps)
    binary = exact_restarts(n, Fraction(1.1), m_mul, 0.0, peak, steps)
    assert_parity(got, binary, steps, peak, "lrdsl vs exact SGDR with the double t_mul=1.1")
    keras_vals = keras_batch(S.CosineDecayRestarts(f64(peak), n, t_mul=f64(1.1), m_mul=f64(m_mul)), steps)
    near_start = {round(b) for b in restart_starts(n, Fraction(1.1), N_STEPS) if abs(b - round(b)) < Fraction(1, 10**6)}
    away = np.array([int(t) not in near_start for t in steps])
    assert np.max(np.abs(keras_vals - binary)[away]) <= 1e-14 * peak
    assert_parity(got[away], keras_vals[away], steps[away], peak, "lrdsl vs Keras, t_mul=1.1")


def test_every_keras_primitive_is_covered() -> None:
    names = {c.expr.split("(")[0] for c in CASES}
    assert names == {
        "linear",
        "poly",
        "cosine",
        "warmup",
        "step",
        "exp",
        "inverse_time",
        "piecewise",
        "cosine_restarts",
    }

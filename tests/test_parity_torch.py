"""Parity: every torch-mirrored primitive against ``torch.optim.lr_scheduler``.

The expected values come from the torch scheduler objects themselves: an SGD
optimizer with ``lr=base`` (``momentum=0.9`` where CyclicLR/OneCycleLR cycle
momentum), and step ``k``'s learning rate is ``param_groups[0]['lr']`` read
after ``k`` calls of ``scheduler.step()``.  That stepped (chainable) form is the
primary reference for every scheduler.  Where torch also has a closed form
(``_get_closed_form_lr``: ConstantLR, LinearLR, CosineAnnealingLR, StepLR,
MultiStepLR, ExponentialLR, PolynomialLR) the values are compared against it
too, evaluated by setting ``scheduler.last_epoch = k``.  The recursive forms
drift from the closed forms by up to ~5e-14 relative over 10,000+ steps, well
inside the tolerance.

Tolerance: ``rtol=1e-12`` with an absolute floor of ``1e-15 * peak``: near the
end of a cosine anneal torch computes ``1 + cos(x)``, which loses precision at
the 1e-17 absolute level, while lrdsl uses an exact ``sin^2`` form.

One documented torch artefact: CyclicLR locates a step in its cycle as
``x = 1 + k/total - floor(1 + k/total)``, so ``x`` carries an absolute rounding
error of up to ``eps * (1 + k/total)``, which grows with ``k``; lrdsl counts the
position with integers.  Comparisons with CyclicLR therefore add that derived
bound (:func:`cyclic_rounding_bound`), and a separate test checks lrdsl
against torch's CyclicLR formula with the position computed exactly (4,000
random steps and every turn), at the tight tolerance.  CyclicLR's triangular2
computes ``2.0 ** (cycle - 1)``, an OverflowError from cycle 1025 on, so those
cases stop at 1024 cycles.

Every value test runs on both evaluators (the ``backend`` fixture in
conftest.py: the C kernel and the numpy reference), through ``values()`` and
through the scalar ``sched(k)`` path at the boundary steps.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from parity import RTOL, around, assert_parity  # noqa: E402
from torch.optim import lr_scheduler as L  # noqa: E402

import lrdsl  # noqa: E402

EPS = float(np.finfo(np.float64).eps)
HOLD_STEPS = 10_000  # how far past a bounded segment's end the hold is checked


# ---------------------------------------------------------------- helpers


def make_optimizer(lr: float, momentum: float = 0.0) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=momentum)


def torch_stepped(make: Callable, lr: float, n: int, momentum: float = 0.0) -> np.ndarray:
    """The lr torch's scheduler gives at steps 0..n-1 (read before each step())."""
    opt = make_optimizer(lr, momentum)
    out = np.empty(n, dtype=np.float64)
    with warnings.catch_warnings():
        # the test drives the scheduler without optimizer.step(); torch warns once
        warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)`")
        sched = make(opt)
        group = opt.param_groups[0]
        out[0] = group["lr"]
        for k in range(1, n):
            sched.step()
            out[k] = group["lr"]
    return out


def torch_closed_form(make: Callable, lr: float, n: int, momentum: float = 0.0) -> np.ndarray | None:
    """torch's ``_get_closed_form_lr`` at steps 0..n-1, or None when it has none."""
    opt = make_optimizer(lr, momentum)
    sched = make(opt)
    if not hasattr(sched, "_get_closed_form_lr"):
        return None
    out = np.empty(n, dtype=np.float64)
    for k in range(n):
        sched.last_epoch = k
        out[k] = sched._get_closed_form_lr()[0]
    return out


def restart_starts(n: int, t_mul: int, limit: int) -> list[int]:
    """First steps of SGDR cycles (integer t_mul), counted with Python integers."""
    starts, b, length = [], 0, n
    while b < limit:
        starts.append(b)
        b += length
        length *= t_mul
    return starts


def one_cycle_ends(n: int, pct: float, three_phase: bool) -> list[float]:
    """torch OneCycleLR's phase end steps, as its constructor computes them."""
    if three_phase:
        return [float(pct * n) - 1, float(2 * pct * n) - 2, n - 1]
    return [float(pct * n) - 1, n - 1]


def cyclic_rounding_bound(steps: np.ndarray, low: float, high: float, up: int, down: int) -> np.ndarray:
    """A bound on torch CyclicLR's own rounding error at ``steps``.

    ``x = 1.0 + k/total - cycle``: ``k/total`` and the ``1.0 +`` each round
    (abs error <= eps/2 * (1 + k/total) in all), the subtraction of ``cycle``
    is exact (Sterbenz); the scale factor divides ``x`` by ``up/total`` or
    ``down/total``; the amplitude is at most ``high - low``.  Doubled for
    safety."""
    total = up + down
    dx = EPS * (1.0 + steps / total)
    return 2.0 * (high - low) * dx * total / min(up, down)


# ---------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    id: str
    expr: str
    base: float  # lrdsl's base_lr and the optimizer's lr
    make: Callable  # optimizer -> torch scheduler
    n: int  # steps compared: 0..n-1
    boundaries: tuple[int, ...]
    peak: float
    momentum: float = 0.0
    hold: bool = False  # lrdsl holds expected[n-1] from step n on (torch does not)
    cyclic: tuple | None = None  # (low, high, up, down, mode, gamma): CyclicLR rounding allowance
    torch_lr: float | None = None  # the optimizer's lr when it is not lrdsl's base_lr

    @property
    def lr(self) -> float:
        return self.base if self.torch_lr is None else self.torch_lr

    def lrdsl(self) -> lrdsl.Schedule:
        return lrdsl.compile(self.expr, base_lr=self.base)


CASES: list[Case] = []


def add(case: Case) -> None:
    assert case.boundaries, case.id
    assert max(case.boundaries) < case.n, case.id
    CASES.append(case)


# const -> ConstantLR(factor=1.0)
for base, expr in ((0.1, "const()"), (0.037, "const(0.037)"), (0.37, "const(base)")):
    add(
        Case(
            f"const-{base}-{expr}",
            expr,
            base,
            lambda o: L.ConstantLR(o, factor=1.0, total_iters=5),
            10_001,
            (0, 5, 10_000),
            base,
        )
    )

# linear -> LinearLR(start_factor=start/base, end_factor=end/base, total_iters=n)
for n, start, end, base, n_steps in (
    (37, None, None, 0.1, 10_001),
    (9973, 0.03, 0.001, 0.1, 12_001),
    (5000, 1e-4, 0.37, 0.37, 10_001),  # increasing, like a warmup
    (10_000, 0.05, 0.0, 0.05, 10_001),
    (1, 0.2, 0.01, 0.3, 10_001),
):
    args = [str(n)] + ([] if start is None else [f"start={start}", f"end={end}"])
    sf = 1.0 if start is None else start / base
    ef = 0.0 if end is None else end / base
    add(
        Case(
            f"linear-{n}-{start}-{end}",
            f"linear({', '.join(args)})",
            base,
            lambda o, sf=sf, ef=ef, n=n: L.LinearLR(o, start_factor=sf, end_factor=ef, total_iters=n),
            n_steps,
            around([0, n], n_steps),
            base,
        )
    )

# cosine -> CosineAnnealingLR(T_max=n, eta_min=min), steps 0..n; lrdsl then holds min
for n, kw, base, eta_min in (
    (10_000, "min=1e-4", 0.1, 1e-4),
    (37, "", 0.1, 0.0),
    (12_345, "alpha=0.37", 0.05, 0.37 * 0.05),
    (9999, "peak=0.37, min=0.01", 1.0, 0.01),  # absolute numbers: base_lr is not used
    (1, "min=0.003", 0.3, 0.003),
):
    peak = 0.37 if "peak" in kw else base
    args = ", ".join([str(n)] + ([kw] if kw else []))
    add(
        Case(
            f"cosine-{n}-{kw or 'default'}",
            f"cosine({args})",
            base,
            lambda o, n=n, m=eta_min: L.CosineAnnealingLR(o, T_max=n, eta_min=m),
            n + 1,
            around([0, n // 2, n], n + 1),
            peak,
            hold=True,
            torch_lr=peak,
        )
    )

# cosine_restarts (m_mul=1, whole t_mul) -> CosineAnnealingWarmRestarts(T_0=n, T_mult, eta_min)
for n, t_mul, kw, base, eta_min in (
    (37, 3, "min=1e-4", 0.1, 1e-4),
    (11, 3, "", 0.1, 0.0),
    (100, 1, "alpha=0.1", 0.1, 0.1 * 0.1),
    (10, 2, "", 0.05, 0.0),
    (1, 2, "min=1e-5", 0.1, 1e-5),
    (250, 1, "", 0.37, 0.0),
    (7, 4, "alpha=0.01", 0.2, 0.01 * 0.2),
):
    n_steps = 20_001
    args = ", ".join([str(n), f"t_mul={t_mul}"] + ([kw] if kw else []))
    add(
        Case(
            f"cosine_restarts-{n}-t_mul{t_mul}-{kw or 'default'}",
            f"cosine_restarts({args})",
            base,
            lambda o, n=n, t=t_mul, m=eta_min: L.CosineAnnealingWarmRestarts(o, T_0=n, T_mult=t, eta_min=m),
            n_steps,
            around(restart_starts(n, t_mul, n_steps), n_steps),
            base,
        )
    )

# step -> StepLR(step_size=every, gamma)
for every, gamma, base in ((37, 0.37, 0.1), (1000, 0.5, 0.1), (3333, None, 0.3), (7, 0.999, 0.05), (1, 0.9, 0.1)):
    args = ", ".join([str(every)] + ([] if gamma is None else [f"gamma={gamma}"]))
    g = 0.1 if gamma is None else gamma
    add(
        Case(
            f"step-{every}-{g}",
            f"step({args})",
            base,
            lambda o, e=every, g=g: L.StepLR(o, step_size=e, gamma=g),
            10_001,
            around(range(0, 10_001, every), 10_001) if every >= 7 else tuple(range(30)),
            base,
        )
    )

# multistep -> MultiStepLR(milestones, gamma)
for ms, gamma, base in (
    ([7, 400, 4123], 0.37, 0.1),
    ([30, 80], None, 0.1),
    ([0, 5000, 9999], 0.5, 0.2),
    ([1, 2, 3, 9000], 0.9, 0.05),
):
    args = ", ".join([str(ms)] + ([] if gamma is None else [f"gamma={gamma}"]))
    g = 0.1 if gamma is None else gamma
    add(
        Case(
            f"multistep-{'_'.join(map(str, ms))}-{g}",
            f"multistep({args})",
            base,
            lambda o, ms=tuple(ms), g=g: L.MultiStepLR(o, milestones=list(ms), gamma=g),
            10_001,
            around([0, *ms], 10_001),
            base,
        )
    )

# exp -> ExponentialLR(gamma)
for gamma, base in ((0.999, 0.1), (0.37, 0.1), (0.9995, 0.37), (0.99991, 1.0)):
    add(
        Case(
            f"exp-{gamma}",
            f"exp({gamma})",
            base,
            lambda o, g=gamma: L.ExponentialLR(o, gamma=g),
            10_001,
            (0, 1, 2, 5000, 10_000),
            base,
        )
    )

# poly -> PolynomialLR(total_iters=n, power)
for n, power, base in ((9973, 2.5, 0.1), (1000, None, 0.1), (777, 0.5, 0.3), (10_000, 0.37, 0.05), (3, 3.0, 0.1)):
    args = ", ".join([str(n)] + ([] if power is None else [f"power={power}"]))
    p = 1.0 if power is None else power
    add(
        Case(
            f"poly-{n}-{p}",
            f"poly({args})",
            base,
            lambda o, n=n, p=p: L.PolynomialLR(o, total_iters=n, power=p),
            12_001,
            around([0, n], 12_001),
            base,
        )
    )


# inverse_sqrt -> HuggingFace get_inverse_sqrt_schedule, fed to torch LambdaLR
def hf_inverse_sqrt_lambda(num_warmup_steps: int, timescale: int | None = None) -> Callable[[int], float]:
    """transformers.optimization.get_inverse_sqrt_schedule's lr_lambda, as HF writes it."""
    if timescale is None:
        timescale = num_warmup_steps or 10_000

    def lr_lambda(current_step: int) -> float:
        if current_step < num_warmup_steps:
            return float(current_step) / float(max(1, num_warmup_steps))
        shift = timescale - num_warmup_steps
        decay = 1.0 / math.sqrt((current_step + shift) / timescale)
        return decay

    return lr_lambda


for args, warmup, timescale, base in (
    ("", 0, None, 0.1),
    ("warmup=4000", 4000, None, 0.1),
    ("777, warmup=37", 37, 777, 0.3),
    ("1, warmup=1", 1, 1, 0.05),
    ("timescale=123", 0, 123, 1.0),
):
    add(
        Case(
            f"inverse_sqrt-{args or 'default'}",
            f"inverse_sqrt({args})",
            base,
            lambda o, w=warmup, ts=timescale: L.LambdaLR(o, hf_inverse_sqrt_lambda(w, ts)),
            20_001,
            around([0, warmup], 20_001),
            base,
        )
    )

# cyclic -> CyclicLR(base_lr=low, max_lr=high, step_size_up, step_size_down, mode, gamma)
CYCLIC = [
    # (up, down, low, high, base, gamma, cycle_momentum)
    (37, 11, 1e-3, 0.05, 0.5, 0.999, True),
    (700, 1300, 1e-4, None, 0.1, 0.9997, False),
    (2000, None, 1e-4, 1e-2, 1.0, 0.99995, True),
    (1, 2, 0.01, 0.1, 0.1, 0.99, False),
    (123, 456, 0.0, 0.37, 0.37, 0.9999, False),
]
for up, down, low, high, base, gamma, cm in CYCLIC:
    for mode in ("triangular", "triangular2", "exp_range"):
        hi = base if high is None else high
        dn = up if down is None else down
        args = [str(up), f"low={low}"]
        if high is not None:
            args.append(f"high={high}")
        args.append(f"mode={mode}")
        if mode == "exp_range":
            args.append(f"gamma={gamma}")
        if down is not None:
            args.append(f"down={down}")
        g = gamma if mode == "exp_range" else 1.0
        # torch's triangular2 computes 2.0 ** (cycle - 1), an OverflowError from cycle 1025 on
        n_steps = min(20_001, 1024 * (up + dn)) if mode == "triangular2" else 20_001
        turns = [c * (up + dn) + s for c in range(n_steps // (up + dn) + 1) for s in (0, up)]
        add(
            Case(
                f"cyclic-{mode}-{up}-{dn}-{'momentum' if cm else 'no_momentum'}",
                f"cyclic({', '.join(args)})",
                base,
                lambda o, low=low, hi=hi, up=up, down=down, mode=mode, g=g, cm=cm: L.CyclicLR(
                    o,
                    base_lr=low,
                    max_lr=hi,
                    step_size_up=up,
                    step_size_down=down,
                    mode=mode,
                    gamma=g,
                    cycle_momentum=cm,
                ),
                n_steps,
                around(turns, n_steps),
                hi,
                momentum=0.9 if cm else 0.0,
                cyclic=(low, hi, up, dn, mode, g),
            )
        )

# one_cycle -> OneCycleLR(max_lr, total_steps=n, pct_start, anneal_strategy, div_factor,
# final_div_factor, three_phase); torch raises past step n, so steps 0..n-1, and lrdsl holds after
ONE_CYCLE = [
    # (n, max, pct_start, div, final_div)
    (10_007, None, 0.25, None, None),
    (1000, 0.37, None, 7.5, 300.0),
    (1000, None, 0.333, None, None),  # pct*n is not whole: phase ends at 331.99999999999994
    (997, 0.05, 0.25, 10.0, 1e3),
    (10_000, None, None, None, None),
    (10, 1.0, 0.3, None, None),
]
for n, mx, pct, div, fdiv in ONE_CYCLE:
    for three in (False, True):
        for anneal in ("cos", "linear"):
            base = 0.1
            top = base if mx is None else mx
            args = [str(n)]
            if mx is not None:
                args.append(f"max={mx}")
            if pct is not None:
                args.append(f"pct_start={pct}")
            if div is not None:
                args.append(f"div={div}")
            if fdiv is not None:
                args.append(f"final_div={fdiv}")
            args.append(f"anneal={anneal}")
            args.append(f"three_phase={'true' if three else 'false'}")
            p = 0.3 if pct is None else pct
            ends = one_cycle_ends(n, p, three)
            add(
                Case(
                    f"one_cycle-{n}-max{top}-pct{p}-{anneal}-{'three' if three else 'two'}_phase",
                    f"one_cycle({', '.join(args)})",
                    base,
                    lambda o, top=top, n=n, p=p, div=div, fdiv=fdiv, anneal=anneal, three=three: L.OneCycleLR(
                        o,
                        max_lr=top,
                        total_steps=n,
                        pct_start=p,
                        anneal_strategy=anneal,
                        div_factor=25.0 if div is None else div,
                        final_div_factor=1e4 if fdiv is None else fdiv,
                        three_phase=three,
                    ),
                    n,
                    around([0] + [math.floor(e) for e in ends] + [math.floor(e) + 1 for e in ends], n),
                    top,
                    momentum=0.9,
                    hold=True,
                )
            )

IDS = [c.id for c in CASES]
assert len(set(IDS)) == len(IDS), "duplicate case ids"
CLOSED = [c for c in CASES if not c.id.startswith(("cosine_restarts", "cyclic", "one_cycle", "inverse_sqrt"))]


@cache
def expected_stepped(case_id: str) -> np.ndarray:
    case = next(c for c in CASES if c.id == case_id)
    return torch_stepped(case.make, case.lr, case.n, case.momentum)


def allowance(case: Case, steps: np.ndarray) -> np.ndarray | float:
    if case.cyclic is None:
        return 0.0
    low, high, up, down, _mode, _gamma = case.cyclic
    return cyclic_rounding_bound(steps, low, high, up, down)


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_values_match_torch_scheduler(case: Case, backend: str) -> None:
    """lrdsl's values() at every step 0..n-1 against torch's stepped scheduler."""
    expected = expected_stepped(case.id)
    steps = np.arange(case.n, dtype=np.int64)
    got = case.lrdsl().values(steps)
    assert_parity(got, expected, steps, case.peak, f"{case.expr} vs torch (stepped)", allowance(case, steps))


@pytest.mark.parametrize("case", CLOSED, ids=[c.id for c in CLOSED])
def test_values_match_torch_closed_form(case: Case, backend: str) -> None:
    """lrdsl against torch's own closed form (``_get_closed_form_lr``)."""
    expected = torch_closed_form(case.make, case.lr, case.n, case.momentum)
    assert expected is not None, f"{case.id}: torch scheduler has no closed form"
    steps = np.arange(case.n, dtype=np.int64)
    got = case.lrdsl().values(steps)
    assert_parity(got, expected, steps, case.peak, f"{case.expr} vs torch (closed form)")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_scalar_path_at_boundaries(case: Case, backend: str) -> None:
    """``sched(k)`` (the scalar path) at every boundary step and its neighbours."""
    expected = expected_stepped(case.id)
    sched = case.lrdsl()
    steps = np.asarray(case.boundaries, dtype=np.int64)
    got = np.array([sched(int(k)) for k in steps])
    assert all(isinstance(sched(int(k)), float) for k in steps[:3])
    assert_parity(got, expected[steps], steps, case.peak, f"{case.expr} scalar vs torch", allowance(case, steps))


HOLD_CASES = [c for c in CASES if c.hold]


@pytest.mark.parametrize("case", HOLD_CASES, ids=[c.id for c in HOLD_CASES])
def test_holds_last_torch_value_after_end(case: Case, backend: str) -> None:
    """A bounded segment holds its end value: cosine holds torch's value at
    T_max (eta_min; torch itself goes back up), one_cycle holds torch's value
    at step n-1 (torch raises past n)."""
    end_value = expected_stepped(case.id)[-1]
    sched = case.lrdsl()
    steps = np.arange(case.n, case.n + HOLD_STEPS, dtype=np.int64)
    got = sched.values(steps)
    assert_parity(got, np.full(steps.shape, end_value), steps, case.peak, f"{case.expr} hold after step {case.n - 1}")
    far = [case.n, case.n + 1, 10 * case.n + 7, 2**40]
    assert_parity(
        np.array([sched(k) for k in far]),
        np.full(len(far), end_value),
        np.array(far),
        case.peak,
        f"{case.expr} scalar hold",
    )


CYCLIC_CASES = [c for c in CASES if c.cyclic is not None]


def torch_cyclic_exact_position(steps: np.ndarray, low, high, up, down, mode, gamma) -> np.ndarray:
    """torch CyclicLR.get_lr with ``1 + k/total - floor(1 + k/total)`` computed in
    exact rationals (Fraction) instead of floats; everything else as torch writes it."""
    total = Fraction(up + down)
    ratio = Fraction(up) / total
    out = np.empty(steps.shape, dtype=np.float64)
    for i, k in enumerate(steps.tolist()):
        cycle = math.floor(1 + Fraction(k) / total)
        x = 1 + Fraction(k) / total - cycle
        scale_factor = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
        base_height = (high - low) * float(scale_factor)
        if mode == "triangular":
            lr = low + base_height * 1.0
        elif mode == "triangular2":
            lr = low + base_height * (1 / (2.0 ** (cycle - 1)))
        else:
            lr = low + base_height * gamma**k
        out[i] = lr
    return out


@pytest.mark.parametrize("case", CYCLIC_CASES, ids=[c.id for c in CYCLIC_CASES])
def test_cyclic_exact_position(case: Case, backend: str) -> None:
    """Against torch's CyclicLR formula with the cycle position computed exactly,
    the tight tolerance holds (4,000 random steps plus every turn -1/0/+1)."""
    low, high, up, down, mode, gamma = case.cyclic
    rng = np.random.default_rng(0)
    steps = np.unique(np.concatenate([rng.integers(0, case.n, 4000), np.asarray(case.boundaries)]))
    expected = torch_cyclic_exact_position(steps, low, high, up, down, mode, gamma)
    got = case.lrdsl().values(steps)
    assert_parity(got, expected, steps, case.peak, f"{case.expr} vs CyclicLR formula (exact position)")


def test_cyclic_late_step_where_torch_rounds(backend: str) -> None:
    """Where the allowance matters: at step 12,287 (cycle 256, on the way down)
    torch 2.13's CyclicLR gives 0.005454545454553559, 1.5e-12 relative off the
    exact-position value 0.005454545454545455 (= 1e-3 + 0.049 * 1/11); lrdsl
    gives the exact value, and torch's error is inside the derived bound."""
    case = next(c for c in CASES if c.id == "cyclic-triangular-37-11-momentum")
    expected = expected_stepped(case.id)
    low, high, up, down, mode, gamma = case.cyclic
    k = 12_287
    assert k % (up + down) == 47  # one step before the cycle's end: 1/11 of the way up from low
    exact = torch_cyclic_exact_position(np.array([k]), low, high, up, down, mode, gamma)[0]
    assert exact == pytest.approx(low + (high - low) / 11, rel=1e-15)
    assert abs(case.lrdsl()(k) - exact) <= RTOL * abs(exact)
    assert abs(case.lrdsl().values(np.array([k]))[0] - exact) <= RTOL * abs(exact)
    assert abs(expected[k] - exact) <= cyclic_rounding_bound(np.array([k]), low, high, up, down)[0]


def test_every_torch_primitive_is_covered() -> None:
    names = {c.expr.split("(")[0] for c in CASES}
    assert names == {
        "const",
        "linear",
        "cosine",
        "cosine_restarts",
        "step",
        "multistep",
        "exp",
        "poly",
        "inverse_sqrt",
        "cyclic",
        "one_cycle",
    }
    # cyclic with unequal up/down steps in all three modes
    modes = {c.cyclic[4] for c in CASES if c.cyclic is not None and c.cyclic[2] != c.cyclic[3]}
    assert modes == {"triangular", "triangular2", "exp_range"}
    # one_cycle with three_phase in both anneals
    assert {c.expr.split("anneal=")[1].split(",")[0] for c in CASES if "three_phase=true" in c.expr} == {
        "cos",
        "linear",
    }

"""The parity tolerance every value test against a framework or a hand-derived
closed form uses, and its failure report.

``|got - expected| <= RTOL * |expected| + ATOL_FRACTION * peak + allowance``:
1e-12 relative, with an absolute floor of 1e-15 of the schedule's peak (values
near zero carry the rounding of the peak-sized terms that produced them), plus
an ``allowance`` where a framework's own float formula is documented to drift.
"""

from __future__ import annotations

import numpy as np
import pytest

RTOL = 1e-12
ATOL_FRACTION = 1e-15


def mismatches(got, expected, peak: float, allowance: np.ndarray | float = 0.0) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Indices where ``got`` is outside the tolerance around ``expected``."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    tol = RTOL * np.abs(expected) + ATOL_FRACTION * peak + allowance
    return np.nonzero(~(np.abs(got - expected) <= tol))[0]


def assert_parity(got, expected, steps, peak: float, what: str, allowance: np.ndarray | float = 0.0) -> None:  # type: ignore[no-untyped-def]
    """Fail, listing the first steps that differ, unless ``got`` matches
    ``expected`` at ``steps`` (``None``: steps 0, 1, 2, ...)."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    steps = np.arange(got.size) if steps is None else np.asarray(steps)
    assert got.shape == expected.shape == steps.shape
    bad = mismatches(got, expected, peak, allowance)
    if bad.size:
        rows = "\n".join(
            f"  step {steps[i]}: expected {expected[i]!r}, got {got[i]!r}, diff {got[i] - expected[i]:.3e}"
            for i in bad[:8]
        )
        pytest.fail(f"{what}: {bad.size} of {steps.size} steps differ beyond tolerance\n{rows}")


def around(points, limit: int) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    """Each point with its neighbours -1 and +1, kept inside [0, limit)."""
    out = {q for p in points for q in (p - 1, p, p + 1) if 0 <= q < limit}
    return tuple(sorted(out))

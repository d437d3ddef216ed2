"""Running torch optimizers and schedulers step by step and comparing every
hyperparameter of every param group (tests/test_plan_torch.py,
tests/test_from_torch_plan.py); and what the trainer tests
(tests/test_lightning.py, tests/test_hf_trainer.py, tests/test_timm_adapter.py)
compare their lrs with: :func:`close`, and :func:`plateau_lrs`, torch's own
ReduceLROnPlateau fed the reports the trainer made.

A run reads, after ``0, 1, ..., n-1`` calls of ``optimizer.step(); scheduler.step()``,
every numeric entry of ``optimizer.defaults`` in every group (a tuple entry by
element: ``betas[0]``, ``betas[1]``).  Comparisons use tests/parity.py's
tolerance (1e-12 relative, 1e-15 of the key's peak absolute) plus, for torch's
CyclicLR, the bound on its own position rounding (see tests/test_translate.py).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from parity import assert_parity

EPS = float(np.finfo(np.float64).eps)


def hyper(opt: torch.optim.Optimizer) -> list[dict[str, float]]:
    """Every numeric hyperparameter of every param group, as plain floats."""
    out = []
    for g in opt.param_groups:
        d: dict[str, float] = {}
        for k in opt.defaults:
            v = g[k]
            if isinstance(v, torch.Tensor) and v.numel() == 1:
                d[k] = float(v)
            elif isinstance(v, bool) or v is None:
                continue
            elif isinstance(v, (int, float)):
                d[k] = float(v)
            elif isinstance(v, tuple):
                for j, x in enumerate(v):
                    d[f"{k}[{j}]"] = float(x)
        out.append(d)
    return out


def record(opt: torch.optim.Optimizer, sched: object, n: int) -> list[list[dict[str, float]]]:
    """``hyper(opt)`` at steps ``0..n-1``; betas must stay tuples."""
    out = [hyper(opt)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n - 1):
            opt.step()
            sched.step()  # type: ignore[attr-defined]
            for g in opt.param_groups:
                if "betas" in g:
                    assert isinstance(g["betas"], tuple), type(g["betas"])
            out.append(hyper(opt))
    return out


def cyclic_allowance(n: int, low: float, high: float, up: int, down: int) -> np.ndarray:
    """Bound on torch CyclicLR's own position rounding at steps 0..n-1, doubled."""
    total = up + down
    k = np.arange(n, dtype=np.float64)
    return 2.0 * abs(high - low) * EPS * (1.0 + k / total) * total / min(up, down)


def compare(ours: list, theirs: list, what: str, allowance: dict | None = None) -> int:  # type: ignore[type-arg]
    """Every key of every group at every step within tolerance; returns how many
    values were bit-identical."""
    assert len(ours) == len(theirs)
    groups = len(theirs[0])
    exact = 0
    for g in range(groups):
        keys = theirs[0][g].keys()
        assert ours[0][g].keys() == keys, (ours[0][g].keys(), keys)
        for key in keys:
            a = np.array([step[g][key] for step in theirs])
            b = np.array([step[g][key] for step in ours])
            extra = 0.0 if allowance is None else allowance.get((g, key), 0.0)
            assert_parity(b, a, None, float(np.max(np.abs(a))), f"{what}: group {g} {key}", extra)
            exact += int(np.sum(a == b))
    return exact


def close(got: list[float], want: object) -> None:
    """Within 1e-12 relative: the scheduler's one-step path and ``values()``'s
    vectorized one may round a cosine an ulp apart."""
    np.testing.assert_allclose(np.array(got), np.asarray(want, dtype=np.float64), rtol=1e-12, atol=0)


def plateau_lrs(
    reports: list[tuple[int, float]], start: int, n: int, warm: np.ndarray, base: float = 0.1
) -> list[float]:
    """The lr at steps 0..n-1 of ``warm >> plateau(patience=1, factor=0.5)``:
    ``warm`` before ``start``, then torch's ReduceLROnPlateau (from ``base``) fed
    each report ``(t, metric)`` whose measuring step ``t - 1`` is in the
    plateau, its lr applying from step ``t``."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base)
    rop = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1)
    level: dict[int, float] = {}
    for t, metric in reports:
        if t - 1 >= start:
            rop.step(metric)
            level[t] = opt.param_groups[0]["lr"]
    out, current = [], base
    for k in range(n):
        current = level.get(k, current)
        out.append(float(warm[k]) if k < start else current)
    return out

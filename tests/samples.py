"""Schedules and the float32 bound shared by the emitter precision tests
(Keras, JAX): the emitters against the float64 reference evaluator."""

from __future__ import annotations

import re

import numpy as np

import lrdsl

EPS32 = float(np.finfo(np.float32).eps)
CARD = "warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)"


def reference(text: str, n: int, **kw: object) -> np.ndarray:
    """The float64 values at steps 0..n-1."""
    return lrdsl.compile(text, **kw).values(np.arange(n))  # type: ignore[arg-type]


def assert_float32_close(got, want: np.ndarray, peak_ulps: float = 0.0) -> None:  # type: ignore[no-untyped-def]
    """1e-6 relative, or 1e-9 absolute near zero (the Keras issue's bound), or
    ``peak_ulps`` float32 ulps of the schedule's peak: an emitter computing in
    float32 (JAX without x64) needs 2 where a formula subtracts nearly equal
    values (1cycle's rising cosine)."""
    got = np.asarray(got, dtype=np.float64)
    bound = np.maximum(np.maximum(1e-6 * np.abs(want), 1e-9), peak_ulps * EPS32 * np.abs(want).max())
    bad = np.flatnonzero(np.abs(got - want) > bound)
    assert bad.size == 0, f"step {bad[0]}: got {got[bad[0]]!r}, reference {want[bad[0]]!r}"


# a schedule per primitive (test_primitives.py::test_emitter_samples_cover_every_primitive keeps it so)
SAMPLES = [
    ("const(3e-4)", {}),
    ("hold(10, value=0.3) >> linear(90, end=0.01)", {}),
    ("linear(1000, start=0.5, end=1e-4)", {}),
    ("warmup(100, shape=cos) >> warmup(100, start=0.1, shape=exp) >> const(0.9)", {}),
    ("cosine(5000, min=1e-5)", {}),
    ("step(300, gamma=0.37)", {}),
    ("multistep([7, 400, 4123], gamma=0.5)", {}),
    ("exp(0.9993)", {}),
    ("exp(0.5, every=700, staircase=true)", {}),
    ("poly(3000, power=2.5, end=1e-4)", {}),
    ("inverse_time(100, 0.7)", {}),
    ("inverse_time(100, 0.7, staircase=true)", {}),
    ("inverse_sqrt(400, warmup=200)", {}),
    ("noam(400, d_model=512)", {}),
    ("piecewise([100, 2000, 7000], [0.1, 0.05, 0.01, 0.002])", {}),
    ("cosine_restarts(37, t_mul=1.5, m_mul=0.8, alpha=0.01)", {}),
    ("cosine_restarts(11, t_mul=3)", {}),
    ("cosine_restarts(250, t_mul=1, m_mul=0.95)", {}),
    ("cyclic(300, low=1e-3, mode=triangular2, down=70)", {}),
    ("cyclic(300, low=1e-3, mode=exp_range, gamma=0.9997)", {}),
    ("one_cycle(8000, pct_start=0.25, three_phase=true)", {}),
    ("one_cycle(8000, anneal=linear)", {}),
    ("repeat(cosine(500, min=0.01), 6, decay=0.7) >> const(1e-4)", {}),
    ("max(cosine(4000), 0.02) * 0.5 + min(exp(0.999), 0.3)", {}),
    ("warmup(5%) >> cosine_restarts(5%, t_mul=2, m_mul=0.9) >> const(1e-6)", {"total_steps": 9000}),
]


def _corpus_samples(covered: set[str]) -> list[tuple[str, dict[str, object]]]:
    """A golden-value conformance case for each primitive the list above does
    not cover, so a new primitive reaches the emitter tests unasked."""
    import json
    from pathlib import Path

    from lrdsl.primitives import CATALOGUE

    out: list[tuple[str, dict[str, object]]] = []
    wanted = {p.name for p in CATALOGUE if p.kind != "reactive"} - covered
    for path in sorted((Path(__file__).resolve().parent / "conformance" / "valid").glob("*.lrdsl")):
        text = path.read_text(encoding="utf-8")
        code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
        names = set(re.findall(r"([a-z_0-9]+)\(", code)) & wanted
        if names:
            header = next(line for line in text.splitlines() if line.startswith("# context:"))
            context = json.loads(header.removeprefix("# context:"))
            context.pop("base_lr", None)
            out.append((code.strip(), context))
            wanted -= names
    return out


SAMPLES += _corpus_samples({name for text, _ in SAMPLES for name in re.findall(r"([a-z_0-9]+)\(", text)})

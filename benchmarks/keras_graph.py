"""The Keras-graph section of ``benchmarks/run.py``: lrdsl's DSLSchedule
against the Keras built-in it matches, each summed over ``steps`` steps
inside one ``tf.function(jit_compile=True)`` on the TensorFlow backend (a
``while_loop`` over scalar int64 steps, as an optimizer calls a schedule).

Per step: the compiled loop's best of ``repeats`` calls, divided by the steps.
First call: a fresh ``tf.function`` of an already-built schedule, called once
(trace + XLA compile + the loop), best of 3, after a warm-up of each library
(XLA's start-up and lrdsl's lazy imports are not the schedule's cost).  The
two of a pair are measured alternately, so their ratio shares the machine's
state.
"""

from __future__ import annotations

import math
import os
import time

BASE = 0.1


def cases(S):  # type: ignore[no-untyped-def]
    """(lrdsl text, Keras's name, a maker of the Keras schedule)."""
    return [
        (
            "cosine_restarts(1000, t_mul=2, m_mul=0.9)",
            "CosineDecayRestarts(0.1, 1000, t_mul=2, m_mul=0.9)",
            lambda: S.CosineDecayRestarts(BASE, 1000, t_mul=2.0, m_mul=0.9),
        ),
        (
            "warmup(500) >> cosine(9500, alpha=0.01)",
            "CosineDecay(0, 9500, alpha=0.01, warmup_target=0.1, warmup_steps=500)",
            lambda: S.CosineDecay(0.0, 9500, alpha=0.01, warmup_target=BASE, warmup_steps=500),
        ),
        (
            "cosine(10000, alpha=0.01)",
            "CosineDecay(0.1, 10000, alpha=0.01)",
            lambda: S.CosineDecay(BASE, 10000, alpha=0.01),
        ),
        ("exp(0.5, every=1000)", "ExponentialDecay(0.1, 1000, 0.5)", lambda: S.ExponentialDecay(BASE, 1000, 0.5)),
        (
            "exp(0.5, every=1000, staircase=true)",
            "ExponentialDecay(0.1, 1000, 0.5, staircase=True)",
            lambda: S.ExponentialDecay(BASE, 1000, 0.5, staircase=True),
        ),
        (
            "piecewise([1000, 3000], [0.1, 0.05, 0.01])",
            "PiecewiseConstantDecay([1000, 3000], [0.1, 0.05, 0.01])",
            lambda: S.PiecewiseConstantDecay([1000, 3000], [0.1, 0.05, 0.01]),
        ),
        (
            "poly(5000, power=0.5, end=1e-4)",
            "PolynomialDecay(0.1, 5000, 1e-4, power=0.5)",
            lambda: S.PolynomialDecay(BASE, 5000, 1e-4, power=0.5),
        ),
        ("inverse_time(500, 0.5)", "InverseTimeDecay(0.1, 500, 0.5)", lambda: S.InverseTimeDecay(BASE, 500, 0.5)),
    ]


def keras_graph(steps: int = 100_000, repeats: int = 7) -> tuple[list[tuple[str, float, str]], ...]:
    """Two tables' rows: per step, and first call."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import keras
        import tensorflow as tf
    except ImportError:
        return [("Keras graph", math.nan, "tensorflow/keras not installed")], []
    if keras.backend.backend() != "tensorflow":
        return [("Keras graph", math.nan, f"Keras backend is {keras.backend.backend()}")], []
    from lrdsl.keras import DSLSchedule

    tf.get_logger().setLevel("ERROR")  # a fresh tf.function per first call is the point: no retracing warning
    S = keras.optimizers.schedules

    def summed(sched):  # type: ignore[no-untyped-def]
        @tf.function(jit_compile=True)
        def total():  # type: ignore[no-untyped-def]
            def body(t, acc):  # type: ignore[no-untyped-def]
                return t + 1, acc + sched(t)

            start = (tf.constant(0, tf.int64), tf.constant(0.0))
            return tf.while_loop(lambda t, acc: t < steps, body, start)[1]

        return total

    def first_call(sched) -> float:  # type: ignore[no-untyped-def]
        fn = summed(sched)
        t0 = time.perf_counter()
        fn().numpy()
        return time.perf_counter() - t0

    first_call(S.CosineDecay(BASE, 100))  # warm-ups: XLA's start-up, lrdsl's lazy imports
    first_call(DSLSchedule("cosine(100)", base_lr=BASE))
    per_rows: list[tuple[str, float, str]] = []
    first_rows: list[tuple[str, float, str]] = []
    for text, name, make in cases(S):
        pair = (DSLSchedule(text, base_lr=BASE), make())
        fns = [summed(s) for s in pair]
        for fn in fns:
            fn().numpy()
        per = [math.inf, math.inf]
        for _ in range(repeats):
            for k, fn in enumerate(fns):
                t0 = time.perf_counter()
                fn().numpy()
                per[k] = min(per[k], (time.perf_counter() - t0) / steps)
        first = [math.inf, math.inf]
        for _ in range(3):
            for k, sched in enumerate(pair):
                first[k] = min(first[k], first_call(sched))
        for rows, (ours, theirs) in ((per_rows, per), (first_rows, first)):
            rows.append((f"lrdsl `{text}`", ours, f"{ours / theirs:.2f} of Keras's"))
            rows.append((f"Keras {name}", theirs, "1.00"))
    return per_rows, first_rows


def sections(steps: int, table) -> list[str]:  # type: ignore[no-untyped-def]
    """The section's tables, in ``benchmarks/run.py``'s ``table`` style."""
    per_step, first = keras_graph(steps)
    where = f"summed over {steps:,} steps in one `tf.function(jit_compile=True)` (TF backend, int64 steps)"
    out = [table(f"Keras graph, per step: each schedule {where}, best of 7", "per step", per_step)]
    if first:
        title = "Keras graph, first call: trace + XLA compile + the loop, after a warm-up, best of 3"
        out.append(table(title, "first call", first))
    return out

"""Hypothesis strategies for valid schedule texts, covering every primitive.

``schedules()`` draws ``(text, total_steps)``: a chain of 1-4 segments, each a
primitive with random valid arguments (or a repeat, a floor or a scaled
schedule), at most one elastic segment, lengths in steps or percent.
"""

from __future__ import annotations

from hypothesis import strategies as st

LENGTH = st.integers(1, 400)
LR = st.sampled_from([1.0, 0.5, 0.1, 3e-4, 1e-6, 0.0, 0.37, 2.5])
POSLR = st.sampled_from([1.0, 0.5, 0.1, 3e-4, 1e-6, 0.37, 2.5])
GAMMA = st.sampled_from([0.1, 0.5, 0.9, 0.99, 0.37, 1.0, 1.5])


def _kw(draw, name: str, strategy, p: float = 0.5) -> str:  # type: ignore[no-untyped-def]
    return f", {name}={draw(strategy)}" if draw(st.booleans()) or p >= 1 else ""


@st.composite
def bounded(draw) -> str:  # type: ignore[no-untyped-def]
    kind = draw(
        st.sampled_from(
            ["linear", "cosine", "poly", "one_cycle", "warmup", "restarts", "cyclic", "repeat", "step", "hold"]
        )
    )
    n = draw(LENGTH)
    if kind == "linear":
        return f"linear({n}{_kw(draw, 'start', LR)}{_kw(draw, 'end', LR)})"
    if kind == "cosine":
        tail = draw(st.sampled_from(["", ", min=1e-5", ", alpha=0.1", ", peak=0.3, min=0.01"]))
        return f"cosine({n}{tail})"
    if kind == "poly":
        return f"poly({n}, power={draw(st.sampled_from([0.5, 1, 2, 3.5]))}{_kw(draw, 'end', LR)})"
    if kind == "one_cycle":
        pct = draw(st.sampled_from([0.25, 0.3, 0.45]))
        anneal = draw(st.sampled_from(["cos", "linear"]))
        three = draw(st.sampled_from(["true", "false"]))
        return f"one_cycle({max(n, 20)}, pct_start={pct}, anneal={anneal}, three_phase={three})"
    if kind == "warmup":
        shape = draw(st.sampled_from(["linear", "cos"]))
        return f"warmup({n}, shape={shape}, end={draw(POSLR)})"
    if kind == "restarts":
        t_mul = draw(st.sampled_from([1, 2, 3, 1.5, 1.1]))
        return (
            f"cosine_restarts({max(1, n // 4)}, t_mul={t_mul}, m_mul={draw(GAMMA)}, cycles={draw(st.integers(1, 5))})"
        )
    if kind == "cyclic":
        mode = draw(st.sampled_from(["triangular", "triangular2", "exp_range"]))
        return f"cyclic({max(1, n // 6)}, low={draw(LR)}, mode={mode}, gamma=0.999, cycles={draw(st.integers(1, 4))})"
    if kind == "repeat":
        inner = f"cosine({max(1, n // 5)}, min=0.01)"
        return f"repeat({inner}, {draw(st.integers(1, 6))}, decay={draw(st.sampled_from([1, 0.5, 0.9]))})"
    if kind == "step":
        return f"step({max(1, n // 7)}, gamma={draw(GAMMA)}, steps={n})"
    return f"hold({n})"


@st.composite
def unbounded(draw) -> str:  # type: ignore[no-untyped-def]
    kind = draw(
        st.sampled_from(
            [
                "const",
                "exp",
                "multistep",
                "inverse_time",
                "inverse_sqrt",
                "noam",
                "piecewise",
                "restarts",
                "cyclic",
                "step",
            ]
        )
    )
    if kind == "const":
        return f"const({draw(LR)})"
    if kind == "exp":
        return f"exp({draw(st.sampled_from([0.5, 0.9, 0.999]))}, every={draw(st.integers(1, 50))}, staircase={draw(st.sampled_from(['true', 'false']))})"
    if kind == "multistep":
        ms = sorted(set(draw(st.lists(st.integers(0, 3000), min_size=1, max_size=5))))
        return f"multistep({ms}, gamma={draw(GAMMA)})"
    if kind == "inverse_time":
        return f"inverse_time({draw(st.integers(1, 100))}, {draw(st.sampled_from([0.1, 0.5, 2.0]))}, staircase={draw(st.sampled_from(['true', 'false']))})"
    if kind == "inverse_sqrt":
        return f"inverse_sqrt({draw(st.integers(1, 500))}, warmup={draw(st.integers(0, 300))})"
    if kind == "noam":
        return f"noam({draw(st.integers(1, 400))}, d_model={draw(st.sampled_from([64, 512]))})"
    if kind == "piecewise":
        bs = sorted(set(draw(st.lists(st.integers(0, 3000), min_size=1, max_size=4))))
        vals = [draw(LR) for _ in range(len(bs) + 1)]
        return f"piecewise({bs}, {vals})"
    if kind == "restarts":
        t_mul = draw(st.sampled_from([1, 2, 3, 1.5, 1.1, 1.01]))
        return f"cosine_restarts({draw(st.integers(1, 200))}, t_mul={t_mul}, m_mul={draw(GAMMA)}, alpha=0.05)"
    if kind == "cyclic":
        mode = draw(st.sampled_from(["triangular", "triangular2", "exp_range"]))
        return f"cyclic({draw(st.integers(1, 100))}, low={draw(LR)}, down={draw(st.integers(1, 100))}, mode={mode}, gamma=0.999)"
    return f"step({draw(st.integers(1, 300))}, gamma={draw(GAMMA)})"


@st.composite
def segment(draw, allow_unbounded: bool) -> str:  # type: ignore[no-untyped-def]
    seg = draw(unbounded() if allow_unbounded and draw(st.booleans()) else bounded())
    wrap = draw(st.sampled_from(["", "", "", "scale", "floor", "ceil"]))
    if wrap == "scale":
        return f"{draw(st.sampled_from([0.5, 2, 0.1]))} * {seg}"
    if wrap == "floor":
        return f"max({seg}, {draw(st.sampled_from([1e-4, 0.05]))})"
    if wrap == "ceil":
        return f"min({seg}, {draw(st.sampled_from([0.5, 0.9]))})"
    return seg


@st.composite
def schedules(draw) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """A valid schedule text and the total steps it compiles with."""
    n = draw(st.integers(1, 4))
    elastic_at = draw(st.integers(-1, n - 1))  # -1: none; n-1: an unbounded last segment
    parts = [draw(segment(allow_unbounded=(i == elastic_at))) for i in range(n)]
    if draw(st.booleans()):
        parts.insert(0, f"warmup({draw(st.integers(1, 100))})")
    total = draw(st.integers(2000, 6000))
    return " >> ".join(parts), total

"""lrdsl benchmarks: ratios measured in one run, printed as a table.

    python benchmarks/run.py            # print the table
    python benchmarks/run.py --write    # also rewrite BENCHMARKS.md

Not tests: these machines are shared and noisy, so every number is a best-of
or a median of repeats, and the claims are ratios between implementations
measured side by side in the same run.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import lrdsl
from lrdsl import backends

try:
    from benchmarks.keras_graph import sections as keras_sections
    from benchmarks.scale import fmt
    from benchmarks.scale import sections as scale_sections
except ImportError:  # run as a script: benchmarks/ itself is on the path
    from keras_graph import sections as keras_sections  # type: ignore[no-redef]
    from scale import fmt  # type: ignore[no-redef]
    from scale import sections as scale_sections  # type: ignore[no-redef]
ROOT = Path(__file__).resolve().parent.parent
SCHEDULE = "warmup(5%) >> cosine_restarts(5%, t_mul=2, m_mul=0.9) >> const(1e-6)"
BASE = 0.1
CARD = "warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)"


def best_of(fn, repeats: int = 5) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm: page faults, caches, lazy imports
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


# ---------------------------------------------------------------- array evaluation


def numpy_by_hand(steps: np.ndarray, out: np.ndarray, n: int) -> np.ndarray:
    """The schedule written the way a careful numpy user would: per segment,
    in place, no temporaries beyond one slice at a time."""
    warm = n // 20  # 5%
    first = n // 20
    np.multiply(steps[:warm], BASE / warm, out=out[:warm])
    start, i, length = warm, 0, first
    while start < n:
        stop = min(n, start + length)
        seg = out[start:stop]
        np.subtract(steps[start:stop], start, out=seg, casting="unsafe")
        seg *= math.pi / length
        np.cos(seg, out=seg)
        seg += 1.0
        seg *= 0.5 * BASE * 0.9**i
        start, i, length = stop, i + 1, length * 2
    return out


def torch_by_hand(steps, out, n: int):  # type: ignore[no-untyped-def]
    """The same with torch tensor ops on one thread."""
    warm = n // 20
    first = n // 20
    out[:warm].copy_(steps[:warm]).mul_(BASE / warm)
    start, i, length = warm, 0, first
    while start < n:
        stop = min(n, start + length)
        seg = out[start:stop]
        seg.copy_(steps[start:stop]).sub_(start).mul_(math.pi / length).cos_().add_(1.0).mul_(0.5 * BASE * 0.9**i)
        start, i, length = stop, i + 1, length * 2
    return out


def arrays(n: int) -> list[tuple[str, float, str]]:
    rows: list[tuple[str, float, str]] = []
    steps = np.arange(n, dtype=np.int64)
    out = np.empty(n)
    backends.force("cython")
    fast = lrdsl.compile(SCHEDULE, total_steps=n, base_lr=BASE)
    expected = fast.values(steps)
    rows.append(("lrdsl values(arange, out=buf) [C kernel]", best_of(lambda: fast.values(steps, out=out)) / n, "1.00"))
    rows.append(("lrdsl values(arange) [C kernel, allocating]", best_of(lambda: fast.values(steps)) / n, ""))
    backends.force("numpy")
    ref = lrdsl.compile(SCHEDULE, total_steps=n, base_lr=BASE)
    rows.append(("lrdsl values(arange) [numpy reference backend]", best_of(lambda: ref.values(steps), 2) / n, ""))
    backends.force(None)
    np.testing.assert_allclose(numpy_by_hand(steps, out, n), expected, rtol=1e-12, atol=1e-15)
    rows.append(("numpy by hand, per segment, in place", best_of(lambda: numpy_by_hand(steps, out, n)) / n, ""))
    try:
        import torch
    except ImportError:
        rows.append(("torch tensor ops, 1 thread", math.nan, "torch not installed"))
    else:
        torch.set_num_threads(1)
        t_steps = torch.from_numpy(steps).to(torch.float64)
        t_out = torch.empty(n, dtype=torch.float64)
        np.testing.assert_allclose(torch_by_hand(t_steps, t_out, n).numpy(), expected, rtol=1e-12, atol=1e-15)
        t_torch = best_of(lambda: torch_by_hand(t_steps, t_out, n)) / n
        rows.append(("torch tensor ops, 1 thread, per segment, in place", t_torch, ""))
    base_time = rows[0][1]
    return [(name, t, note or f"{t / base_time:.2f}") for name, t, note in rows]


# ---------------------------------------------------------------- per call


def closed_form(n: int):  # type: ignore[no-untyped-def]
    """The schedule as plain Python with the math module, cycles counted with ints."""
    warm = n // 20
    first = n // 20

    def lr(t: int) -> float:
        if t < warm:
            return BASE * t / warm
        if t >= n:
            return 1e-6
        u = t - warm
        i, start, length = 0, 0, first
        while start + length <= u:
            start, i, length = start + length, i + 1, length * 2
        return BASE * 0.9**i * 0.5 * (1.0 + math.cos(math.pi * (u - start) / length))

    return lr


def per_call(fn, steps: list[int], repeats: int = 7) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for t in steps:
            fn(t)
        times.append((time.perf_counter() - t0) / len(steps))
    return min(times)


def calls(n: int) -> list[tuple[str, float, str]]:
    sched = lrdsl.compile(SCHEDULE, total_steps=n, base_lr=BASE)
    plain = closed_form(n)
    steps = list(range(0, n, max(1, n // 4000)))[:4000]
    for t in steps[::97]:
        assert abs(plain(t) - sched(t)) <= 1e-15 * BASE, t
    rows = []
    t_sched = per_call(sched, steps)
    t_plain = per_call(plain, steps)
    rows.append(("sched(t) [C kernel]", t_sched, "1.00"))
    rows.append(("plain-Python math closed form", t_plain, f"{t_plain / t_sched:.2f}"))
    rows.extend(torch_steps(n))
    return rows


def torch_steps(n: int) -> list[tuple[str, float, str]]:
    try:
        import torch
    except ImportError:
        return [("torch scheduler step()", math.nan, "torch not installed")]
    try:
        from lrdsl.torch import DSLScheduler
    except ImportError:
        DSLScheduler = None
    import warnings

    def loop(make, count: int = 20_000) -> float:  # type: ignore[no-untyped-def]
        params = [torch.nn.Parameter(torch.zeros(1))]
        opt = torch.optim.SGD(params, lr=BASE)
        sched = make(opt)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            best = math.inf
            for _ in range(5):
                t0 = time.perf_counter()
                for _ in range(count):
                    sched.step()
                best = min(best, (time.perf_counter() - t0) / count)
        return best

    rows = []
    t_torch = loop(lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=n))
    if DSLScheduler is not None:
        t_dsl = loop(lambda opt: DSLScheduler(opt, SCHEDULE, total_steps=n))
        rows.append(("lrdsl DSLScheduler.step()", t_dsl, f"{t_dsl / t_torch:.2f} of torch's"))
    rows.append(("torch CosineAnnealingLR.step()", t_torch, "1.00"))
    return rows


# ---------------------------------------------------------------- start-up


def startup() -> list[tuple[str, float, str]]:
    exe = Path(sys.executable)
    script = exe.with_name("lrdsl")
    cmd = [str(script)] if script.exists() else [str(exe), "-m", "lrdsl.tools.cli"]
    cmd += ["eval", CARD, "--steps", "100", "--format", "csv"]

    def median(argv: list[str], runs: int = 21) -> float:
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    t_pass = median([str(exe), "-c", "pass"])
    t_eval = median(cmd)
    probe = (
        "import sys, runpy; sys.argv = ['lrdsl', 'eval', 'cosine(10)', '--steps', '3', '--format', 'csv'];"
        "from lrdsl.tools.cli import main; main();"
        "print(','.join(m for m in ('numpy', 'lark', 'torch', 'tensorflow', 'keras', 'matplotlib') if m in sys.modules) or 'none', file=sys.stderr)"
    )
    imported = subprocess.run([str(exe), "-c", probe], capture_output=True, text=True).stderr.strip().splitlines()[-1]
    return [
        ("python -c pass", t_pass, "1.00"),
        ("lrdsl eval CARD --steps 100 --format csv", t_eval, f"{t_eval / t_pass:.2f} (imports: {imported})"),
    ]


# ---------------------------------------------------------------- pathological inputs


def pathological() -> list[tuple[str, float, str]]:
    from lrdsl.language.syntax import MAX_DEPTH, MAX_SOURCE_CHARS

    cases = {
        "64 KiB input": "cosine(10) >> " * (64 * 1024 // 14),
        "16 KiB chain at the size limit": ("cos(1)>>" * (MAX_SOURCE_CHARS // 8))[: MAX_SOURCE_CHARS - 6] + "cos(1)",
        f"nesting {MAX_DEPTH}": "max(" * (MAX_DEPTH - 1) + "1" + ", 1)" * (MAX_DEPTH - 1),
        f"nesting {MAX_DEPTH + 1}": "max(" * MAX_DEPTH + "1" + ", 1)" * MAX_DEPTH,
        "4,301-digit number": "const(" + "9" * 4301 + ")",
        "1e999": "const(1e999)",
        "nan": "const(nan)",
        "empty": "",
        "whitespace only": " \n\t " * 100,
        "NUL bytes": "cosine(\x00\x00)",
        "bidi controls": "cosine(10) \u202e>> const(1)",
        "emoji/CJK names": "学习率(10) >> 🚀(5)",
    }
    rows = []
    for name, text in cases.items():

        def run(text: str = text) -> None:
            try:
                lrdsl.compile(text, total_steps=1000)
            except lrdsl.LrdslError as err:
                err.render()

        rows.append((f"parse+compile: {name}", best_of(run, 3), ""))
    return rows


def bombs() -> list[tuple[str, float, str]]:
    """Inputs whose cost once grew with a count in them: compile + phases at a
    total of 1e9 steps, best of 3, with the peak traced memory of one run."""
    import tracemalloc

    sgdr = "cosine_restarts(1, t_mul=1.0000001, cycles=1000000)"
    cases = {
        "1e6 restart cycles": sgdr,
        "four of them joined by +": " + ".join([sgdr] * 4),
        "unbounded restarts, t_mul=1+1e-7": "cosine_restarts(1, t_mul=1.0000001)",
        "1e8 shrinking cycles (t_mul<1)": "cosine_restarts(100, t_mul=0.999999, cycles=100000000)",
        "63 doubling cycles (2**63 steps)": "cosine_restarts(1, t_mul=2, cycles=63) >> const(1)",
        "m_mul=1.5 to overflow": "cosine_restarts(88, t_mul=1.01, m_mul=1.5)",
        "repeat 10**90 times": "repeat(cosine(10), 10**90)",
        "ordinary 3-phase card": "warmup(1%) >> cosine_restarts(5%, t_mul=2, m_mul=0.9) >> const(1e-6)",
        "1e11 equal restart cycles": "cosine_restarts(1, t_mul=1, cycles=100000000000) >> const(1)",
    }
    cases.update(_at_the_limits())
    rows = []
    for name, text in cases.items():

        def run(text: str = text) -> None:
            try:
                lrdsl.compile(text, total_steps=10**9).phases  # noqa: B018
            except lrdsl.LrdslError as err:  # refused at a limit: the refusal is what is timed
                err.render()

        t = best_of(run, 3)
        tracemalloc.start()
        run()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append((f"compile+phases: {name}", t, f"peak {peak / 2**20:.2f} MiB"))
    return rows


def _at_the_limits() -> dict[str, str]:
    """Valid texts as large as the token and part limits allow, and just over."""
    from lrdsl.language.syntax import MAX_TOKENS

    k = MAX_TOKENS // 5  # cosine ( 1 ) >>: five tokens a segment
    double = "".join(f"a{i + 1} = a{i} >> a{i};\n" for i in range(7))
    sgdr = "cosine_restarts(1, t_mul=1.0000001, cycles=1000000)"
    return {
        f"chain of {k} cosine(1) (at the token limit)": " >> ".join(["cosine(1)"] * k),
        f"chain of {k - 1} one_cycle(9)": " >> ".join(["one_cycle(9)"] * (k - 1)),
        f"chain of {MAX_TOKENS // 10} max(cosine(1), 1)": " >> ".join(["max(cosine(1), 1)"] * (MAX_TOKENS // 10)),
        f"multistep of {MAX_TOKENS // 2 - 5} milestones": f"multistep([{', '.join(map(str, range(1, MAX_TOKENS // 2 - 4)))}])",
        "128 segments through bindings": "a0 = cosine(1) >> cosine(1);\n"
        + "".join(f"a{i + 1} = a{i} >> a{i};\n" for i in range(6))
        + "a6",
        "256 segments through bindings (refused at the part limit)": f"a0 = cosine(1) >> cosine(1);\n{double}a7",
        "64 restarts through bindings": f"a0 = {sgdr};\n"
        + "".join(f"a{i + 1} = a{i} + a{i};\n" for i in range(6))
        + "a6",
        "16 KiB chain of cosine(1) (refused)": ">>".join(["cosine(1)"] * 1489),
    }


# ---------------------------------------------------------------- report


def table(title: str, unit: str, rows: list[tuple[str, float, str]]) -> str:
    width = max(len(r[0]) for r in rows)
    lines = [f"### {title}", "", f"| {'':<{width}} | {unit:>12} | ratio |", f"| {'-' * width} | {'-' * 12}: | --- |"]
    for name, t, note in rows:
        lines.append(f"| {name:<{width}} | {fmt(t):>12} | {note} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=10_000_000, help="steps for the array benchmark")
    parser.add_argument("--keras-steps", type=int, default=100_000, help="steps summed in the Keras graph (0: skip)")
    parser.add_argument("--scale-timeout", type=float, default=20.0, help="seconds a scale cell may take (0: skip)")
    parser.add_argument("--write", action="store_true", help="rewrite BENCHMARKS.md with this run")
    args = parser.parse_args()
    n = args.steps
    if lrdsl.backend() != "cython":
        print(f"warning: the C kernel is not active ({lrdsl.backend_reason()})", file=sys.stderr)
    from lrdsl import _kernel  # type: ignore[attr-defined]

    sections = [
        table(f"Evaluating {n:,} steps of `{SCHEDULE}` (base {BASE})", "per step", arrays(n)),
        table("One step at a time (same schedule)", "per call", calls(n)),
        table("Start-up (median of 21 runs)", "wall", startup()),
        table("Bad and extreme inputs: parse + compile (+ render the error)", "best of 3", pathological()),
        table("Compile bombs: compile + phases at a total of 1e9 steps", "best of 3", bombs()),
    ]
    if args.keras_steps > 0:
        sections += keras_sections(args.keras_steps, table)
    if args.scale_timeout > 0:
        sections += scale_sections(args.scale_timeout)
    header = [
        "# Benchmarks",
        "",
        "Made by `python benchmarks/run.py --write` (ratios are between rows measured in the same run).",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {_cpu()}; Python {platform.python_version()}; numpy {np.__version__}"
        + _torch_version(),
        f"- lrdsl {lrdsl.__version__}, backend {lrdsl.backend()}, vector loops: {_kernel.ISA}",
        "",
    ]
    text = "\n".join(header) + "\n" + "\n\n".join(sections) + "\n"
    print(text)
    if args.write:
        (ROOT / "BENCHMARKS.md").write_text(text, encoding="utf-8")
    return 0


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _torch_version() -> str:
    try:
        import torch
    except ImportError:
        return ""
    return f"; torch {torch.__version__}"


if __name__ == "__main__":
    raise SystemExit(main())

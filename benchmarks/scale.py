"""The scale section of ``benchmarks/run.py``: what ``lrdsl check``,
``explain`` and ``compare`` and ``Schedule.phases`` cost on ordinary schedules
as the total grows from 1e6 to 1e9 and 2**40 steps.

    python benchmarks/scale.py              # print the table
    python benchmarks/scale.py --timeout 5  # give up on a cell sooner

Each cell is a fresh ``lrdsl.compile(text, total_steps=N)`` plus the
operation (every ``functools`` cache in lrdsl cleared first, so nothing is
reused from the run before), best of 3 after a warm-up; a cell whose warm-up
takes over :data:`ONE_RUN` seconds is that one run.  The cells run in a worker
process, so one that takes longer than the timeout is stopped (the worker is
replaced) and shows as ``> 20 s``; the same row at a larger total is then not
run.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from typing import Any

TOTALS = (("1e6", 10**6), ("1e9", 10**9), ("2**40", 2**40))
SCHEDULES = (
    "warmup(5%) >> cosine_restarts(10%, t_mul=2, m_mul=0.9) >> const(1e-6)",
    "max(cosine(50%), exp(0.9)) >> const(1)",
    "warmup(1%) >> cosine(99%)",
    "one_cycle(100%)",
    "warmup(2%) >> cyclic(1%, low=0.1)",
)
#: (command, A, B): pairs that structure decides (equal segments, constants,
#: holds), then a pair that differs on 6% of the steps, which compare has to
#: evaluate (it streams them, with a progress bar on a terminal).
PAIRS = (
    ("compare", "cosine(5)", "cosine(6)"),
    ("compare", "warmup(5%) >> cosine(95%)", "warmup(5%) >> cosine(95%) >> const(0)"),
    ("until", "warmup(1%) >> hold()", "warmup(1%) >> hold(80%) >> cooldown(19%)"),
    ("compare", "cosine(5%)", "cosine(6%)"),
)
#: A cell whose warm-up takes longer than this (seconds) is not repeated.
ONE_RUN = 1.0
TIMEOUT = 20.0


# ---------------------------------------------------------------- in the worker


def _clear_caches() -> None:
    """Clear every ``functools`` cache of lrdsl's modules (the SGDR cycle tables, ...)."""
    import sys

    for name, module in list(sys.modules.items()):
        if name == "lrdsl" or name.startswith("lrdsl."):
            for value in list(vars(module).values()):
                clear = getattr(value, "cache_clear", None)
                if callable(clear):
                    clear()


def operation(command: str, texts: tuple[str, ...], total: int) -> Any:
    """One timed run: compile the text(s) afresh, then the command."""
    import lrdsl

    _clear_caches()
    scheds = [lrdsl.compile(text, total_steps=total) for text in texts]
    if command == "check":  # what `lrdsl check --steps N` computes: the phase table, the warnings and notes
        from lrdsl.tools import lint
        from lrdsl.tools.report import phase_table

        s = scheds[0]
        return s.canonical, phase_table(s), lint.lint(s), lint.notes(s)
    if command == "explain":
        from lrdsl.tools.explain import explain_text

        return explain_text(scheds[0], rich=False)
    if command == "compare":
        from lrdsl.tools.report import compare

        return compare(scheds[0], scheds[1], total)
    if command == "until":  # `compare --until K`: does B continue A up to the branch (80%)?
        from lrdsl.agree import first_difference

        return first_difference(scheds[0], scheds[1], total * 4 // 5)
    if command == "phases":
        return scheds[0].phases
    raise ValueError(command)


def time_cell(command: str, texts: tuple[str, ...], total: int) -> float:
    """Best of 3 after a warm-up (the warm-up alone when it is slow)."""
    t0 = time.perf_counter()
    operation(command, texts, total)
    best = time.perf_counter() - t0
    if best > ONE_RUN:
        return best
    for _ in range(3):
        t0 = time.perf_counter()
        operation(command, texts, total)
        best = min(best, time.perf_counter() - t0)
    return best


def _warm_up() -> None:
    """Lazy imports and first-call costs: not any cell's."""
    for command in ("check", "explain", "phases"):
        operation(command, ("warmup(5%) >> cosine_restarts(10%, t_mul=2) >> const(1)",), 1000)
    operation("compare", PAIRS[0][1:], 1000)


def _worker(conn: Connection) -> None:
    """Time each cell sent, answering its seconds or the error it raised."""
    _warm_up()
    conn.send(("ready", 0.0))
    while True:
        cell = conn.recv()
        if cell is None:
            return
        try:
            conn.send(("ok", time_cell(*cell)))
        except Exception as err:  # a refusal is a result too: shown in its cell
            conn.send(("error", f"{type(err).__name__}: {str(err).splitlines()[0][:60]}"))


# ---------------------------------------------------------------- in the parent


class Worker:
    """A worker process that can be stopped when a cell overruns."""

    def __init__(self) -> None:
        self.ctx = multiprocessing.get_context("spawn")
        self.proc: Any = None
        self.conn: Any = None

    def start(self) -> None:
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker, args=(child,), daemon=True)
        self.proc.start()
        child.close()
        if not self.conn.poll(120):
            raise RuntimeError("the benchmark worker did not start")
        self.conn.recv()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.join()
            self.proc = None

    def measure(self, cell: tuple[str, tuple[str, ...], int], timeout: float) -> float | str | None:
        """Seconds, an error's text, or ``None`` when the cell ran past ``timeout``."""
        if self.proc is None:
            self.start()
        self.conn.send(cell)
        if not self.conn.poll(timeout):
            self.stop()
            return None
        try:
            status, value = self.conn.recv()
        except EOFError:  # the worker died (out of memory, say)
            self.stop()
            return "the worker died"
        return value if status == "ok" else str(value)


def rows() -> list[tuple[str, str, tuple[str, ...]]]:
    """(label, command, texts), in the table's order."""
    out: list[tuple[str, str, tuple[str, ...]]] = []
    for command in ("check", "explain", "phases"):
        out += [(f"{command} `{text}`", command, (text,)) for text in SCHEDULES]
    for command, a, b in PAIRS:
        label = f"compare `{a}` vs `{b}`" if command == "compare" else f"compare --until 80% `{a}` vs `{b}`"
        out.append((label, command, (a, b)))
    return out


def scale(timeout: float = TIMEOUT) -> list[tuple[str, list[str]]]:
    """Every row's cells, formatted."""
    worker = Worker()
    table = []
    try:
        for label, command, texts in rows():
            cells: list[str] = []
            for _name, total in TOTALS:
                if cells and cells[-1].startswith(">"):
                    cells.append("not run")
                    continue
                got = worker.measure((command, texts, total), timeout)
                cells.append(f"> {timeout:g} s" if got is None else got if isinstance(got, str) else fmt(got))
            table.append((label, cells))
    finally:
        if worker.proc is not None:
            worker.conn.send(None)
            worker.proc.join(5)
            worker.stop()
    return table


def fmt(seconds: float) -> str:
    """A time as every benchmark table writes it."""
    if math.isnan(seconds):
        return "n/a"
    if seconds < 1e-6:
        return f"{seconds * 1e9:.2f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def render(table: list[tuple[str, list[str]]], timeout: float = TIMEOUT) -> str:
    """The section, in the markdown style of ``benchmarks/run.py``'s tables."""
    width = max(len(label) for label, _ in table)
    cols = [max(12, *(len(cells[i]) for _, cells in table)) for i in range(len(TOTALS))]
    title = (
        "Scale: fresh compile + the command at a total of N steps, best of 3 after a warm-up"
        f" (timeout {timeout:g} s a cell; after a timeout the larger totals are not run)"
    )
    head = "".join(f" {name:>{w}} |" for (name, _), w in zip(TOTALS, cols))
    rule = "".join(f" {'-' * w}: |" for w in cols)
    lines = [f"### {title}", "", f"| {'':<{width}} |{head}", f"| {'-' * width} |{rule}"]
    for label, cells in table:
        lines.append(f"| {label:<{width}} |" + "".join(f" {c:>{w}} |" for c, w in zip(cells, cols)))
    return "\n".join(lines)


def sections(timeout: float = TIMEOUT) -> list[str]:
    """The section for ``benchmarks/run.py`` (a table of its own: a column a total)."""
    return [render(scale(timeout), timeout)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds a cell may take")
    args = parser.parse_args()
    print(sections(args.timeout)[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

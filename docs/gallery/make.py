"""Redraw the README's gallery: ``python docs/gallery/make.py`` (needs matplotlib).

Each picture is ``lrdsl plot`` of a schedule from the seeds' write-ups."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GALLERY = {
    "sgdr.png": (
        ["warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)"],
        ["--steps", "160", "--total", "150", "--base-lr", "1e-3"],
    ),
    "one_cycle.png": (
        ["one_cycle(1000, max=0.1)", "one_cycle(1000, max=0.1, three_phase=true, anneal=linear)"],
        ["--steps", "1000"],
    ),
    "clr_modes.png": (
        [
            "cyclic(200, low=1e-4, high=1e-2)",
            "cyclic(200, low=1e-4, high=1e-2, mode=triangular2)",
            "cyclic(200, low=1e-4, high=1e-2, mode=exp_range, gamma=0.999)",
        ],
        ["--steps", "2000"],
    ),
    "step_decay.png": (["step(5, gamma=0.5)"], ["--steps", "30", "--base-lr", "0.1"]),
    "snapshot_ensemble.png": (["repeat(cosine(20, peak=1e-3), 5) >> const(1e-6)"], ["--steps", "120"]),
    "warmup_cosine_floor.png": (["warmup(5%) >> max(cosine(95%), 0.05)"], ["--steps", "1000"]),
}


def main() -> int:
    for name, (exprs, args) in GALLERY.items():
        cmd = [sys.executable, "-m", "lrdsl.tools.cli", "plot", *exprs, *args, "-o", str(HERE / name)]
        subprocess.run(cmd, check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

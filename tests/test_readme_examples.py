"""Every ```python block of the README runs, as written, in a fresh process
(in a scratch directory holding the README's example files), so the examples
cannot rot."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)
PYTHON = [code for lang, code in BLOCKS if lang == "python"]
# a YAML/TOML/JSON block whose first line is "# NAME" is the file NAME
FILES = {
    m.group(1): code
    for lang, code in BLOCKS
    if lang in ("yaml", "toml", "json")
    if (m := re.match(r"#\s*(\S+)\n", code))
}
NEEDS = ("torch", "keras", "jax", "optax", "omegaconf", "yaml", "matplotlib")


def test_the_readme_has_examples():
    assert len(PYTHON) >= 8 and "train.yaml" in FILES


@pytest.mark.parametrize("code", PYTHON, ids=[f"block{i}" for i in range(len(PYTHON))])
def test_readme_python_block_runs(code: str, tmp_path: Path) -> None:
    for module in NEEDS:
        used = re.search(rf"\b{module}\b", code) or (module == "matplotlib" and ".plot(" in code)
        if used and importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    env = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "tensorflow"), "MPLBACKEND": "Agg"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]

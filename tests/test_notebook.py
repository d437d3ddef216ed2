"""Schedules and plans in Jupyter: the repr methods, and docs/notebook.ipynb executed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import lrdsl
from lrdsl.tools.notebook import DOCS_EXAMPLE, docs_schedule, horizon, picture_svg, plain_svg, plan_html, schedule_html

ROOT = Path(__file__).resolve().parents[1]


def test_schedule_html_has_text_phases_and_a_plot():
    s = lrdsl.compile("warmup(5) >> cosine(95, min=0.1) >> const(0.05)", base_lr=0.5)
    out = s._repr_html_()
    assert "warmup(5) &gt;&gt; cosine(95, min=0.1) &gt;&gt; const(0.05)" in out  # escaped
    assert out.count("<tr>") == 1 + 3  # the header and one row per phase
    assert "<td>5</td><td>100</td><td>cosine(95, min=0.1)</td><td>0.5</td>" in out
    assert "<svg" in out and "</svg>" in out


def test_plain_svg_without_matplotlib_draws_the_values():
    s = lrdsl.compile("linear(10, start=1, end=0)")
    svg = plain_svg(s, 10)
    pts = re.search(r'points="([^"]+)"', svg).group(1).split()
    assert len(pts) == 10
    ys = [float(p.split(",")[1]) for p in pts]
    assert ys == sorted(ys)  # a falling line is drawn going down (y grows downward)
    assert schedule_html(s, svg="plain").count("<svg") == 1


def test_horizon_covers_what_the_schedule_does():
    assert horizon(lrdsl.compile("cosine(100)", total_steps=300)) == 300
    assert horizon(lrdsl.compile("cosine(100)")) == 110
    assert horizon(lrdsl.compile("exp(0.9)")) == 1000


def test_plan_html_one_section_per_key():
    plan = lrdsl.compile_plan({"lr": "cosine(100)", "momentum": "const(0.9)"})
    out = plan._repr_html_()
    assert "<h4>lr</h4>" in out and "<h4>momentum</h4>" in out
    assert plan_html(plan, svg="plain").count("<svg") == 2


def test_the_docs_notebook_runs():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(ROOT / "docs" / "notebook.ipynb", as_version=4)
    nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    ).execute()
    shown = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    htmls = [o["data"]["text/html"] for o in shown if "data" in o and "text/html" in o["data"]]
    assert len(htmls) == 2 and all("<svg" in h for h in htmls)
    assert "one_cycle(1000, start=0.95, peak=0.85, end=0.95)" in htmls[1]


def test_the_docs_picture_is_what_the_code_draws_now():
    """docs/notebook.svg, the README's notebook picture, cannot go stale."""
    committed = (ROOT / "docs" / "notebook.svg").read_text(encoding="utf-8")
    assert committed == picture_svg(docs_schedule()), (
        "regenerate: python -m lrdsl.tools.notebook --svg docs/notebook.svg"
    )
    first = json.loads((ROOT / "docs" / "notebook.ipynb").read_text(encoding="utf-8"))["cells"][1]
    assert f'lrdsl.compile("{DOCS_EXAMPLE}", base_lr=0.1, total_steps=100)' in "".join(first["source"])

"""The CLI contract: lrdsl eval / check, formats, exit codes, diagnostics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lrdsl
from lrdsl.tools.cli import main

CARD = "warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def console(*args: str, stdin: str | bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    script = Path(sys.executable).with_name("lrdsl")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "lrdsl.tools.cli"]
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([*cmd, *args], input=data, capture_output=True, timeout=60)


def test_csv_is_exact_and_complete(capsys):
    code, out, err = run(["eval", "warmup(10%) >> cosine(90%, min=1e-5)", "--steps", "2000", "--format", "csv"], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "step,lr" and len(lines) == 2001
    s = lrdsl.compile("warmup(10%) >> cosine(90%, min=1e-5)", total_steps=2000)
    expected = s.values(np.arange(2000))
    for i, line in enumerate(lines[1:]):
        step, lr = line.split(",")
        assert int(step) == i
        assert float(lr) == expected[i]  # repr-exact: reads back as the same float64


def test_json_format(capsys):
    code, out, _ = run(["eval", CARD, "--steps", "100", "--base-lr", "1e-3", "--format", "json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["step"] == list(range(100))
    s = lrdsl.compile(CARD, total_steps=100, base_lr=1e-3)
    assert data["lr"] == s.values(np.arange(100)).tolist()
    assert data["schedule"] == str(s) and data["total_steps"] == 100 and data["base_lr"] == 1e-3


def test_table_output_with_a_terminal_plot(capsys):
    code, out, _ = run(["eval", CARD, "--steps", "100", "--base-lr", "1e-3"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["step", "lr"]
    assert lines[1].split() == ["0", "0.0"]
    assert lines[6].split() == ["5", "0.001"]
    assert any(ch in out for ch in "⣀⠉⡇⢸")  # the braille plot follows the table
    assert "└" in out


def test_long_tables_are_sampled_but_data_formats_are_not(capsys):
    code, out, _ = run(["eval", "cosine(100000)", "--steps", "100000"], capsys)
    assert code == 0 and "showing" in out and len(out.splitlines()) < 300
    code, out, _ = run(["eval", "cosine(100000)", "--steps", "100000", "--format", "csv"], capsys)
    assert len(out.splitlines()) == 100_001


def test_plot_only(capsys):
    code, out, _ = run(["eval", CARD, "--steps", "100", "--plot", "-"], capsys)
    assert code == 0 and "step" not in out and "┤" in out


def test_expression_from_stdin_and_file(tmp_path):
    proc = console("eval", "-", "--steps", "3", "--format", "csv", stdin="cosine(2) # from stdin\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().splitlines() == ["step,lr", "0,1.0", "1,0.5", "2,0.0"]
    path = tmp_path / "s.lrdsl"
    path.write_text("warmup(2) >>\n  const(0.5)\n")
    proc = console("eval", f"@{path}", "--steps", "3", "--format", "csv")
    assert proc.stdout.decode().splitlines() == ["step,lr", "0,0.0", "1,0.25", "2,0.5"]


def test_placeholders_on_the_command_line(capsys):
    code, out, _ = run(
        ["eval", "cosine($n, peak=$p)", "--steps", "2", "-D", "n=4", "-D", "p=2e-3", "--format", "csv"], capsys
    )
    assert code == 0 and out.splitlines()[1] == "0,0.002"


def test_check_prints_canonical_form_and_phases(capsys):
    code, out, err = run(
        ["check", "warmup(5)>>cosine_restarts(10,t_mul=2,m_mul=0.9)>>const(1e-6)", "--steps", "100"], capsys
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-06)"
    assert lines[2].split() == ["start", "end", "segment", "first", "min", "max"]
    assert lines[3].split()[:3] == ["0", "5", "warmup(5)"]
    assert lines[5].split()[:3] == ["100", "inf", "const(1e-06)"]
    assert "warning:" in err  # the SGDR is cut mid-cycle at step 100


def test_check_error_exit_2_with_caret(capsys):
    code, out, err = run(["check", "warmup(5) >> cosin(10)"], capsys)
    assert code == 2 and out == ""
    assert "error[E0201]: unknown primitive 'cosin'" in err
    assert "             ^^^^^ not a primitive" in err
    assert "did you mean 'cosine'?" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["eval", "cosine(", "--steps", "5"],
        ["eval", "cosine(10)", "--steps", "0"],
        ["eval", "cosine(10)", "--steps", "x"],
        ["eval", "cosine(10)"],
        ["eval", "cosine(10)", "--steps", "5", "--format", "xml"],
        ["eval", "cosine(10)", "--steps", "5", "--base-lr", "nan"],
        ["eval", "cosine(10)", "--steps", "5", "-D", "oops"],
        ["eval", "@/nonexistent/file", "--steps", "5"],
        ["explain", "exp(0.9) >> const(1)"],  # check passes without a total (it needs one to compile)
        ["frobnicate"],
        [],
    ],
)
def test_bad_input_exits_2_without_traceback(argv, capsys):
    code, _out, err = run(argv, capsys)
    assert code == 2
    assert "Traceback" not in err


def test_console_script_never_prints_a_traceback():
    for src in ["cosine(", "cosine(1e999)", "((((((", "cosine(10) >> exp(0.9) >> const(1)", "é"]:
        proc = console("explain", src)
        assert proc.returncode == 2
        text = proc.stderr.decode()
        assert "Traceback" not in text and "^" in text and "line" in text
    for src in ["cos\x00ine(3)", "\x00"]:  # NUL cannot travel in argv: use stdin
        proc = console("check", "-", stdin=src)
        assert proc.returncode == 2
        text = proc.stderr.decode()
        assert "Traceback" not in text and "^" in text and "line" in text


def test_invalid_utf8_from_a_file(tmp_path):
    path = tmp_path / "bad.lrdsl"
    path.write_bytes(b"cosine(10) >> \xff\xfe")
    proc = console("check", f"@{path}")
    assert proc.returncode == 2
    assert b"not valid UTF-8" in proc.stderr and b"Traceback" not in proc.stderr


def test_version_reports_the_backend():
    proc = console("--version")
    assert proc.returncode == 0
    assert f"lrdsl {lrdsl.__version__} (backend: {lrdsl.backend()}" in proc.stdout.decode()


def test_eval_does_not_import_frameworks():
    code = (
        "import sys, runpy; sys.argv = ['lrdsl', 'eval', 'cosine(10)', '--steps', '3', '--format', 'csv'];"
        "from lrdsl.tools.cli import main; main();"
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras', 'matplotlib', 'lark') if m in sys.modules), file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ})
    assert proc.stderr.strip().splitlines()[-1] == "[]"


def test_translate_a_huggingface_scheduler(capsys):
    code, out, _ = run(
        ["translate", "cosine", "--num-warmup-steps", "100", "--num-training-steps", "1000", "--steps", "1000"], capsys
    )
    assert code == 0
    text = out.strip()
    s = lrdsl.compile(text, base_lr=2e-5)
    # HF's lambda by hand: step/100 in the warmup, then 0.5*(1+cos(pi*progress))
    assert s(50) == pytest.approx(1e-5) and s(100) == pytest.approx(2e-5)
    assert s(550) == pytest.approx(2e-5 * 0.5, rel=1e-12)
    code, _, err = run(["translate", "linaer"], capsys)
    assert code == 2 and "did you mean 'linear'?" in err

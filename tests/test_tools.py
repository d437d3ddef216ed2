"""Living with schedules: configs (YAML, TOML, JSON, OmegaConf), plots,
explain, compare, sampling and output conventions."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import lrdsl
from lrdsl.tools.cli import main

YAML = """\
optim:
  lr: 3.0e-4
  schedule: |
    # warm up over the first 5%, then anneal
    warmup(5%) >>
      cosine(95%, min=1e-5)   # to a floor
  full:
    schedule: "warmup(2) >> cosine($n, peak=$p)"
    base_lr: 0.5
    total_steps: 100
    placeholders: {n: 8, p: 0.1}
  runs:
    - schedule: "const(0.1)"
"""


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    (tmp_path / "train.yaml").write_text(YAML)
    (tmp_path / "train.toml").write_text(
        '[optim]\nschedule = """\nwarmup(5%) >> cosine(95%, min=1e-5)  # comment\n"""\n'
    )
    (tmp_path / "train.json").write_text(json.dumps({"optim": {"schedule": "warmup(5%) >> cosine(95%, min=1e-5)"}}))
    return tmp_path


# ---------------------------------------------------------------- configs


@pytest.mark.parametrize("name", ["train.yaml", "train.toml", "train.json"])
def test_load_from_each_format(configs, name):
    s = lrdsl.load(configs / name, "optim.schedule", total_steps=1000)
    ref = lrdsl.compile("warmup(5%) >> cosine(95%, min=1e-5)", total_steps=1000)
    np.testing.assert_array_equal(s.values(np.arange(1100)), ref.values(np.arange(1100)))


def test_a_mapping_carries_its_context_and_arguments_win(configs):
    s = lrdsl.load(configs / "train.yaml", "optim.full")
    assert s.base_lr == 0.5 and s.total_steps == 100 and s(2) == pytest.approx(0.1) and s.program.root.length == 10
    assert lrdsl.load(configs / "train.yaml", "optim.full", base_lr=2.0).base_lr == 2.0
    assert lrdsl.load(configs / "train.yaml", "optim.runs.0")(7) == 0.1


def test_config_errors(configs):
    with pytest.raises(lrdsl.LrdslError) as info:
        lrdsl.load(configs / "train.yaml", "optim.shedule")
    assert info.value.code == "E0901" and "did you mean 'schedule'?" in info.value.render()
    with pytest.raises(lrdsl.LrdslError, match="cannot read"):
        lrdsl.load(configs / "missing.yaml", "a")
    (configs / "bad.yaml").write_text("optim:\n  schedule: [unclosed\n")
    with pytest.raises(lrdsl.LrdslError, match=r"not valid YAML at line \d"):
        lrdsl.load(configs / "bad.yaml", "optim.schedule")
    with pytest.raises(lrdsl.LrdslError, match="is a float, not a schedule"):
        lrdsl.load(configs / "train.yaml", "optim.lr")
    (configs / "x.ini").write_text("[a]\n")
    with pytest.raises(lrdsl.LrdslError, match="cannot tell the format"):
        lrdsl.load(configs / "x.ini", "a")


def test_eval_from_a_config_with_a_yaml_block_scalar(configs, capsys):
    code, out, _ = run(
        [
            "eval",
            "--config",
            str(configs / "train.yaml"),
            "--key",
            "optim.schedule",
            "--steps",
            "40",
            "--format",
            "csv",
        ],
        capsys,
    )
    assert code == 0
    ref = lrdsl.compile("warmup(5%) >> cosine(95%, min=1e-5)", total_steps=40)
    assert [float(line.split(",")[1]) for line in out.splitlines()[1:]] == ref.values(np.arange(40)).tolist()
    code, out, _ = run(
        [
            "eval",
            "--config",
            str(configs / "train.yaml"),
            "--key",
            "optim.full",
            "--steps",
            "3",
            "--format",
            "csv",
            "-D",
            "p=0.2",
        ],
        capsys,
    )
    assert out.splitlines()[-1] == "2,0.2"  # -D fills the placeholder over the file's value


def test_config_errors_on_the_command_line(configs, capsys):
    code, _, err = run(["eval", "--config", str(configs / "train.yaml"), "--key", "optim.lr", "--steps", "3"], capsys)
    assert code == 2 and "error[E0901]" in err
    (configs / "broken.yaml").write_text("s: 'cosin(10)'\n")
    code, _, err = run(["check", "--config", str(configs / "broken.yaml"), "--key", "s"], capsys)
    assert code == 2 and "did you mean 'cosine'?" in err and "comes from" in err
    code, _, err = run(["eval", "cosine(3)", "--config", str(configs / "train.yaml"), "--steps", "3"], capsys)
    assert code == 2 and "not both" in err
    code, _, err = run(["eval", "--steps", "3"], capsys)
    assert code == 2 and "give a schedule" in err


def test_omegaconf_resolver():
    pytest.importorskip("omegaconf")
    from omegaconf import OmegaConf

    import lrdsl.omegaconf

    lrdsl.omegaconf.register()
    lrdsl.omegaconf.register()  # idempotent
    cfg = OmegaConf.create(
        {
            "lr": 3e-4,
            "total": 10_000,
            "text": "warmup(5%) >> cosine(95%)",
            "sched": "${lrdsl:${text}, ${lr}, ${total}}",
            "plain": "${lrdsl:'cosine(100)'}",
        }
    )
    assert isinstance(cfg.sched, lrdsl.Schedule)
    assert cfg.sched.base_lr == 3e-4 and cfg.sched.total_steps == 10_000 and cfg.sched(500) == 3e-4
    assert cfg.plain(50) == pytest.approx(0.5)
    bad = OmegaConf.create({"s": "${lrdsl:'cosin(10)'}"})
    with pytest.raises(Exception) as info:
        _ = bad.s
    assert "did you mean 'cosine'" in str(info.value)


def test_omegaconf_registration_follows_the_installed_api(monkeypatch):
    pytest.importorskip("omegaconf")
    import lrdsl.tools.omegaconf as lo

    calls = []

    class Fake:
        @staticmethod
        def register_new_resolver(name, fn, replace=False):  # type: ignore[no-untyped-def]
            calls.append(("new", name, replace))

        @staticmethod
        def register_resolver(name, fn, replace=False):  # type: ignore[no-untyped-def]
            calls.append(("register", name, replace))

        @staticmethod
        def clear_resolver(name):  # type: ignore[no-untyped-def]
            calls.append(("clear", name))

    monkeypatch.setattr(lo, "OmegaConf", Fake)
    monkeypatch.setattr(lo, "_version", lambda: (2, 4))
    lo.register()
    monkeypatch.setattr(lo, "_version", lambda: (2, 1))
    lo.register()
    monkeypatch.delattr(Fake, "register_new_resolver")
    monkeypatch.setattr(lo, "_version", lambda: (2, 0))
    lo.register()
    assert calls == [
        ("register", "lrdsl", True),
        ("new", "lrdsl", True),
        ("clear", "lrdsl"),
        ("register", "lrdsl", False),
    ]
    assert lo.resolve("cosine(10)", "0.5", "100")(0) == 0.5  # 2.0 passes strings


# ---------------------------------------------------------------- plots


def test_plot_png_and_svg(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png, svg = tmp_path / "lr.png", tmp_path / "lr.svg"
    code, _, err = run(
        [
            "plot",
            "warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)",
            "--steps",
            "100",
            "-o",
            str(png),
        ],
        capsys,
    )
    assert code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "wrote" in err
    code, _, _ = run(["plot", "cosine(1000)", "exp(0.995)", "--steps", "1000", "--log", "-o", str(svg)], capsys)
    assert code == 0 and b"<svg" in svg.read_bytes()[:400]
    code, _, err = run(["plot", "cosine(10)", "--steps", "10", "-o", str(tmp_path / "lr.gif")], capsys)
    assert code == 2 and ".png or .svg" in err


def test_eval_can_also_draw(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "e.png"
    code, out, _ = run(["eval", "cosine(10)", "--steps", "10", "--plot", str(png), "--format", "csv"], capsys)
    assert code == 0 and png.exists() and out.splitlines()[0] == "step,lr"


def test_plots_of_a_billion_steps_are_sampled(tmp_path):
    pytest.importorskip("matplotlib")
    from lrdsl.tools.plot import plot

    s = lrdsl.compile("warmup(1%) >> cosine_restarts(5%, t_mul=2) >> const(1e-6)", total_steps=10**9)
    start = time.perf_counter()
    plot([("s", s)], 10**9, str(tmp_path / "big.png"))
    assert time.perf_counter() - start < 20


# ---------------------------------------------------------------- explain, compare, sampling


def test_explain_plain_text(capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _ = run(
        [
            "explain",
            "warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)",
            "--steps",
            "100",
            "--base-lr",
            "1e-3",
        ],
        capsys,
    )
    assert code == 0
    assert "[5, 100)  cosine_restarts(10, t_mul=2, m_mul=0.9)  (fills the total)" in out
    # every parameter, in the language's spelling; the elastic segment's bound is the steps it fills
    assert "    cosine_restarts(n=10, t_mul=2, m_mul=0.9, alpha=0, min=0, peak=0.001, cycles=none, steps=95)" in out
    assert "    warmup(n=5, start=0, end=0.001, shape=linear)" in out
    assert "\x1b[" not in out  # no colour codes


def test_compare(capsys):
    code, out, _ = run(["compare", "cosine(100)", "cosine(100, peak=base)", "--steps", "300"], capsys)
    assert code == 0 and out.startswith("identical")
    code, out, _ = run(["compare", "cosine(100)", "cosine(100) >> const(0.5)", "--steps", "300"], capsys)
    assert code == 1
    assert (
        "first difference at step 100: a = 0.0, b = 0.5" in out and "max |a-b|                 0.5 at step 100" in out
    )


def test_every_and_at(capsys):
    code, out, _ = run(
        ["eval", "linear(100, start=1, end=0)", "--steps", "100", "--every", "25", "--format", "csv"], capsys
    )
    assert out.splitlines() == ["step,lr", "0,1.0", "25,0.75", "50,0.5", "75,0.25"]
    code, out, _ = run(
        ["eval", "linear(100, start=1, end=0)", "--steps", "100", "--at", "99,0,500", "--format", "json"], capsys
    )
    data = json.loads(out)
    assert data["step"] == [99, 0, 500] and data["lr"] == [0.01, 1.0, 0.0]
    code, _, err = run(["eval", "cosine(9)", "--steps", "9", "--every", "2", "--at", "1"], capsys)
    assert code == 2 and "not both" in err


def test_a_billion_steps_every_million_is_fast():
    script = Path(sys.executable).with_name("lrdsl")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "lrdsl.tools.cli"]
    start = time.perf_counter()
    proc = subprocess.run(
        [
            *cmd,
            "eval",
            "warmup(1%) >> cosine_restarts(5%, t_mul=2) >> const(1e-6)",
            "--steps",
            str(10**9),
            "--every",
            str(10**6),
            "--format",
            "csv",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 1001
    assert time.perf_counter() - start < 10


def test_data_goes_to_stdout_and_diagnostics_to_stderr(capsys):
    code, out, err = run(["check", "cosine(100, min=0.5) >> const(0.001)", "--steps", "200"], capsys)
    assert code == 0 and "warning" not in out and "warning" in err
    code, out, err = run(["eval", "cosin(3)", "--steps", "3"], capsys)
    assert code == 2 and out == "" and "error[E0201]" in err

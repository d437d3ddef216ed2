"""Plans in config files and on the command line: one value, one column, one
axis and one section per hyperparameter (issue 13, parts 2 and 7).

Expected values are by hand (linear schedules on binary fractions, so every
value is exact) or from torch's OneCycleLR, never from lrdsl itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import lrdsl
from lrdsl.plan import Plan
from lrdsl.tools.cli import main
from lrdsl.tools.config import load_plan

# by hand: lr = 1 - t/8, momentum = 0.5 - t/16 until step 4 then 0.25, wd = 5e-4
LR = "linear(8, start=1, end=0)"
MOM = "linear(4, start=0.5, end=0.25)"
WD = "const(5e-4)"
HAND = {
    "lr": [1.0, 0.875, 0.75, 0.625, 0.5, 0.375],
    "momentum": [0.5, 0.4375, 0.375, 0.3125, 0.25, 0.25],
    "weight_decay": [0.0005] * 6,
}
PLAN_ARGS = ["--plan", f"lr={LR}", "--plan", f"momentum={MOM}", "--plan", f"weight_decay={WD}"]

YAML = f"""\
optim:
  plan:
    lr: {LR}
    momentum: {MOM}
    weight_decay: {WD}
  full:
    schedule:
      lr: "linear($n, start=base, end=0)"
      momentum: "const(base)"
      weight_decay: {WD}
    base_lr: 2.0
    bases: {{momentum: 0.9}}
    total_steps: 8
    placeholders: {{n: 8}}
  text: {LR}
"""
TOML = f"""\
[optim.plan]
lr = "{LR}"
momentum = "{MOM}"
weight_decay = "{WD}"

[optim.full]
base_lr = 2.0
total_steps = 8
bases = {{ momentum = 0.9 }}
placeholders = {{ n = 8 }}

[optim.full.schedule]
lr = "linear($n, start=base, end=0)"
momentum = "const(base)"
weight_decay = "{WD}"

[optim]
text = "{LR}"
"""
JSON = {
    "optim": {
        "plan": {"lr": LR, "momentum": MOM, "weight_decay": WD},
        "full": {
            "schedule": {"lr": "linear($n, start=base, end=0)", "momentum": "const(base)", "weight_decay": WD},
            "base_lr": 2.0,
            "bases": {"momentum": 0.9},
            "total_steps": 8,
            "placeholders": {"n": 8},
        },
        "text": LR,
    }
}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def console(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[bytes]:
    script = Path(sys.executable).with_name("lrdsl")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "lrdsl.tools.cli"]
    data = None if stdin is None else stdin.encode()
    return subprocess.run([*cmd, *args], input=data, capture_output=True, timeout=60)


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    (tmp_path / "train.yaml").write_text(YAML)
    (tmp_path / "train.toml").write_text(TOML)
    (tmp_path / "train.json").write_text(json.dumps(JSON))
    return tmp_path


def hand_csv(keys: list[str], n: int = 6) -> list[str]:
    return [",".join(["step", *keys])] + [",".join([str(t), *(repr(HAND[k][t]) for k in keys)]) for t in range(n)]


# ---------------------------------------------------------------- eval: CSV, JSON, table


@pytest.mark.parametrize("name", ["train.yaml", "train.toml", "train.json"])
def test_eval_csv_of_a_plan_in_each_format(configs, name, capsys):
    argv = ["eval", "--config", str(configs / name), "--key", "optim.plan", "--steps", "6", "--format", "csv"]
    code, out, err = run(argv, capsys)
    assert code == 0 and err == ""
    assert out.splitlines() == hand_csv(["lr", "momentum", "weight_decay"])


def test_eval_csv_as_a_subprocess(configs):
    proc = console(
        "eval", "--config", str(configs / "train.yaml"), "--key", "optim.plan", "--steps", "6", "--format", "csv"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().splitlines() == hand_csv(["lr", "momentum", "weight_decay"])


def test_columns_follow_the_plan_order(capsys):
    argv = ["eval", "--plan", f"weight_decay={WD}", "--plan", f"lr={LR}", "--steps", "6", "--format", "csv"]
    code, out, _ = run(argv, capsys)
    assert code == 0 and out.splitlines() == hand_csv(["weight_decay", "lr"])


def test_one_cycle_momentum_matches_torch(capsys):
    torch = pytest.importorskip("torch")
    n = 50
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=n, base_momentum=0.85, max_momentum=0.95)
    lrs, moms = [], []
    for t in range(n):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        if t < n - 1:
            sched.step()
    argv = [
        "eval",
        *("--plan", f"lr=one_cycle({n}, max=0.1)"),
        *("--plan", f"momentum=one_cycle({n}, start=0.95, peak=0.85, end=0.95)"),
        *("--steps", str(n), "--format", "csv"),
    ]
    code, out, _ = run(argv, capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0] == "step,lr,momentum" and len(lines) == n + 1
    for t, line in enumerate(lines[1:]):
        step, lr, mom = line.split(",")
        assert int(step) == t
        assert float(lr) == pytest.approx(lrs[t], rel=1e-12, abs=1e-15)
        assert float(mom) == pytest.approx(moms[t], rel=1e-12)
    assert float(lines[1].split(",")[2]) == 0.95 and min(moms) == pytest.approx(0.85)


def test_json_has_one_array_per_hyperparameter(capsys):
    code, out, _ = run(["eval", *PLAN_ARGS, "--steps", "6", "--format", "json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["plan", "bases", "total_steps", "steps_per_epoch", "step", "lr", "momentum", "weight_decay"]
    assert data["step"] == list(range(6))
    for key in ("lr", "momentum", "weight_decay"):
        assert data[key] == HAND[key]
    assert data["plan"] == {"lr": LR, "momentum": MOM, "weight_decay": "const(0.0005)"}
    assert data["bases"] == {"lr": 1.0, "momentum": 1.0, "weight_decay": 1.0}
    assert data["total_steps"] == 6 and data["steps_per_epoch"] is None


def test_json_of_every_and_at(capsys):
    code, out, _ = run(["eval", *PLAN_ARGS, "--steps", "6", "--format", "json", "--at", "1,4"], capsys)
    data = json.loads(out)
    assert code == 0 and data["step"] == [1, 4] and data["momentum"] == [0.4375, 0.25]
    code, out, _ = run(["eval", *PLAN_ARGS, "--steps", "6", "--format", "csv", "--every", "2"], capsys)
    assert out.splitlines() == [hand_csv(["lr", "momentum", "weight_decay"])[i] for i in (0, 1, 3, 5)]


def test_table_has_one_column_and_one_plot_per_hyperparameter(capsys):
    code, out, _ = run(["eval", *PLAN_ARGS, "--steps", "6"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["step", "lr", "momentum", "weight_decay"]
    for t in range(6):
        assert lines[1 + t].split() == [str(t), *(repr(HAND[k][t]) for k in ("lr", "momentum", "weight_decay"))]
    assert [line for line in lines if line.endswith(":")] == ["lr:", "momentum:", "weight_decay:"]
    assert out.count("└") == 3


def test_long_tables_are_sampled_at_every_keys_boundaries(capsys):
    argv = ["eval", "--plan", "lr=cosine(100000)", "--plan", "momentum=const(0.9, steps=33333) >> const(0.8)"]
    code, out, _ = run([*argv, "--steps", "100000"], capsys)
    assert code == 0 and "showing" in out
    table = out.split("(showing")[0].splitlines()[1:]
    rows = {line.split()[0]: line.split() for line in table}
    assert len(rows) <= 210 and rows["0"][2] == "0.9" and rows["99999"][2] == "0.8"
    assert rows["33332"][2] == "0.9" and rows["33333"][2] == "0.8"  # the momentum's boundary is kept


def test_plot_only_prints_one_plot_per_key(capsys):
    code, out, _ = run(["eval", *PLAN_ARGS, "--steps", "6", "--plot", "-"], capsys)
    assert code == 0 and "step" not in out and out.count("┤") >= 3 and out.count("└") == 3
    assert [line for line in out.splitlines() if line.endswith(":")] == ["lr:", "momentum:", "weight_decay:"]


def test_a_single_text_is_unchanged(configs, capsys):
    code, out, _ = run(["eval", LR, "--steps", "6", "--format", "csv"], capsys)
    assert out.splitlines() == hand_csv(["lr"])
    code, out2, _ = run(
        ["eval", "--config", str(configs / "train.yaml"), "--key", "optim.text", "--steps", "6", "--format", "csv"],
        capsys,
    )
    assert code == 0 and out2 == out
    code, out3, _ = run(["eval", "--plan", f"lr={LR}", "--steps", "6", "--format", "csv"], capsys)
    assert code == 0 and out3 == out
    code, out, _ = run(["eval", LR, "--steps", "6", "--format", "json"], capsys)
    assert list(json.loads(out)) == ["schedule", "base_lr", "total_steps", "steps_per_epoch", "step", "lr"]


# ---------------------------------------------------------------- bases and placeholders


def test_bases_on_the_command_line(capsys):
    argv = ["eval", "--plan", "lr=const(base)", "--plan", "momentum=const(base)", "--plan", "wd=const(base)"]
    code, out, _ = run([*argv, "--steps", "1", "--format", "csv"], capsys)
    assert code == 0 and out.splitlines() == ["step,lr,momentum,wd", "0,1.0,1.0,1.0"]  # default 1.0
    more = ["--base-lr", "0.5", "--base", "momentum=0.9", "--base", "weight_decay=0.25"]
    code, out, _ = run([*argv, *more, "--steps", "1", "--format", "csv"], capsys)
    assert code == 0 and out.splitlines()[1] == "0,0.5,0.9,0.25"  # weight_decay names wd's base
    code, out, _ = run([*argv, "--base", "lr=0.5", "--steps", "1", "--format", "csv"], capsys)
    assert code == 0 and out.splitlines()[1] == "0,0.5,1.0,1.0"


def test_bases_from_the_file_and_the_command_line_over_them(configs, capsys):
    base = ["eval", "--config", str(configs / "train.yaml"), "--key", "optim.full", "--steps", "3", "--format", "csv"]
    code, out, _ = run(base, capsys)
    assert code == 0 and out.splitlines() == [
        "step,lr,momentum,weight_decay",
        "0,2.0,0.9,0.0005",
        "1,1.75,0.9,0.0005",
        "2,1.5,0.9,0.0005",
    ]
    code, out, _ = run([*base, "--base-lr", "1", "--base", "momentum=0.5", "-D", "n=4"], capsys)
    assert code == 0 and out.splitlines()[1:] == ["0,1.0,0.5,0.0005", "1,0.75,0.5,0.0005", "2,0.5,0.5,0.0005"]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--base-lr", "1", "--base", "lr=2"], "not both"),
        (["--base", "momentum=1", "--base", "momentum=2"], "twice"),
        (["--base", "momentum"], "expected KEY=X"),
        (["--base", "momentum=-1"], ">= 0"),
        (["--base", "1x=1"], "hyperparameter"),
        (["--base", "betas[0]=0.9"], "does not schedule"),
    ],
)
def test_bad_bases(extra, needle, capsys):
    code, out, err = run(["eval", *PLAN_ARGS, "--steps", "3", *extra], capsys)
    assert code == 2 and out == "" and needle in err and "Traceback" not in err


def test_base_of_another_key_with_a_single_text_is_refused(capsys):
    code, _, err = run(["eval", LR, "--steps", "3", "--base", "momentum=0.9"], capsys)
    assert code == 2 and "one text, for the lr" in err and "--plan" in err


def test_placeholders_fill_every_text_of_the_plan(capsys):
    argv = ["eval", "--plan", "lr=linear($n, start=1, end=0)", "--plan", "momentum=linear($n, start=0.5, end=0.25)"]
    code, out, _ = run([*argv, "-D", "n=8", "--steps", "3", "--format", "csv"], capsys)
    assert code == 0 and out.splitlines() == ["step,lr,momentum", "0,1.0,0.5", "1,0.875,0.46875", "2,0.75,0.4375"]
    code, _, err = run(["eval", *PLAN_ARGS, "-D", "m=3", "--steps", "3"], capsys)
    assert code == 2 and "E0205" in err
    code, _, err = run(["eval", *PLAN_ARGS, "-D", "bases=3", "--steps", "3"], capsys)
    assert code == 2 and "--base" in err


# ---------------------------------------------------------------- --plan on the command line


def test_plan_texts_from_a_file_and_stdin(tmp_path):
    path = tmp_path / "mom.lrdsl"
    path.write_text(f"# the momentum\n{MOM}\n")
    proc = console(
        "eval",
        "--plan",
        f"lr={LR}",
        "--plan",
        f"momentum=@{path}",
        "--plan",
        "weight_decay=-",
        "--steps",
        "6",
        "--format",
        "csv",
        stdin=WD,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().splitlines() == hand_csv(["lr", "momentum", "weight_decay"])


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--plan", "lr=cosine(3)", "--plan", "lr=cosine(4)"], "twice"),
        (["--plan", "lr=cosine(3)", "--plan", "learning_rate=cosine(4)"], "twice"),
        (["--plan", "total_steps=cosine(3)"], "--total"),
        (["--plan", "placeholders=cosine(3)"], "context"),
        (["--plan", "cosine(3)"], "KEY=TEXT"),
        (["--plan", "mo mentum=cosine(3)"], "hyperparameter"),
        (["--plan", "lr=cosine(3)", "cosine(3)"], "not both"),
        (["--plan", "lr=-", "--plan", "momentum=-"], "standard input"),
        (["--plan", "step=cosine(3)", "--format", "csv"], "E0207"),
        (["--plan", "lr=cosin(3)"], "in the plan's 'lr'"),
        (["--plan", "lr=cosine(3)", "--key", "a"], "--key goes with --config"),
    ],
)
def test_bad_plan_options(argv, needle, capsys):
    code, out, err = run(["eval", *argv, "--steps", "3"], capsys)
    assert code == 2 and out == "" and needle in err and "Traceback" not in err


def test_plan_and_config_exclude_each_other(configs, capsys):
    code, _, err = run(
        ["eval", "--config", str(configs / "train.yaml"), "--key", "optim.plan", "--plan", "lr=x", "--steps", "3"],
        capsys,
    )
    assert code == 2 and "give --config or --plan, not both" in err


# ---------------------------------------------------------------- check and explain


def test_check_reports_per_hyperparameter(capsys):
    argv = [
        "check",
        "--plan",
        f"lr={LR}",
        "--plan",
        "momentum=linear(4,start=0.5,end=0.25)>>const(0.9)",
        "--steps",
        "8",
    ]
    code, out, err = run(argv, capsys)
    assert err == ""  # no jump by 10x, nothing ends early
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "lr:" and lines[1].strip() == LR
    assert lines[3].split() == ["start", "end", "segment", "first", "min", "max"]
    assert lines[4].split()[:3] == ["0", "8", "linear(8,"]
    at = lines.index("momentum:")
    assert lines[at + 1].strip() == "linear(4, start=0.5, end=0.25) >> const(0.9)"
    assert lines[at + 3].split()[:3] == ["start", "end", "segment"]
    assert lines[at + 4].split()[:2] == ["0", "4"] and lines[at + 5].split()[:2] == ["4", "inf"]
    assert lines[at + 4].split()[-3:] == ["0.5", "0.3125", "0.5"]  # first, min, max by hand (steps 0..3)


def test_check_warnings_name_their_key(capsys):
    argv = ["check", "--plan", "lr=cosine(10)", "--plan", "momentum=const(0.9, steps=2) >> const(0.01)"]
    code, _, err = run([*argv, "--plan", "wd=warmup(2) >> const(0.1)", "--steps", "20"], capsys)
    assert code == 0
    warnings = err.splitlines()
    assert "warning: in the plan's 'momentum': the momentum jumps from 0.9 to 0.01 at step 2" in err
    assert "warning: in the plan's 'lr': the schedule ends at step 10, before the 20 total steps" in err
    assert "update does nothing" not in err  # a wd warmup from 0 is no idle step: that warning is the lr's
    assert warnings and all(w.startswith("warning: in the plan's '") for w in warnings)


def test_a_value_out_of_its_domain_is_e0404_naming_the_key(configs, capsys):
    code, out, err = run(
        ["check", "--plan", "lr=cosine(10)", "--plan", "momentum=linear(10, start=0.9, end=1.5)"], capsys
    )
    assert code == 2 and out == ""
    assert "error[E0404]" in err and "'momentum'" in err and "Traceback" not in err
    (configs / "dom.yaml").write_text("p:\n  lr: cosine(10)\n  betas[0]: linear(10, start=0.9, end=1.5)\n")
    code, _, err = run(["eval", "--config", str(configs / "dom.yaml"), "--key", "p", "--steps", "3"], capsys)
    assert code == 2 and "error[E0404]" in err and "'betas[0]'" in err and "comes from" in err


def test_explain_per_key(capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _ = run(["explain", *PLAN_ARGS, "--steps", "8"], capsys)
    assert code == 0
    assert f"lr: {LR}" in out and f"momentum: {MOM}" in out and "weight_decay: const(0.0005)" in out
    assert "    momentum 0.5 -> 0.3125, min 0.3125, max 0.5" in out
    assert "    lr 1 -> 0.125, min 0.125, max 1" in out


# ---------------------------------------------------------------- plots


def test_plot_of_a_plan_has_one_axis_per_hyperparameter(configs, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from lrdsl.tools.plot import plan_figure

    png = tmp_path / "plan.png"
    code, _, err = run(
        ["plot", "--config", str(configs / "train.yaml"), "--key", "optim.plan", "--steps", "6", "-o", str(png)], capsys
    )
    assert code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "wrote" in err
    plan = load_plan(configs / "train.yaml", "optim.plan")
    fig = plan_figure(plan, 6)
    try:
        axes = fig.axes
        assert [ax.get_ylabel() for ax in axes] == ["lr", "momentum", "weight_decay"]
        assert all(axes[0].get_shared_x_axes().joined(axes[0], ax) for ax in axes)
        for ax, key in zip(axes, ("lr", "momentum", "weight_decay")):
            (line,) = ax.get_lines()
            assert list(line.get_xdata()) == list(range(6)) and list(line.get_ydata()) == HAND[key]
    finally:
        plt.close(fig)


def test_plot_and_eval_draw_a_plan_from_the_command_line(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    svg, png = tmp_path / "p.svg", tmp_path / "e.png"
    code, _, _ = run(["plot", *PLAN_ARGS, "--steps", "6", "--log", "--title", "1cycle $x$", "-o", str(svg)], capsys)
    assert code == 0 and b"<svg" in svg.read_bytes()[:400]
    code, out, _ = run(["eval", *PLAN_ARGS, "--steps", "6", "--plot", str(png), "--format", "csv"], capsys)
    assert code == 0 and png.exists() and out.splitlines()[0] == "step,lr,momentum,weight_decay"
    code, _, err = run(["plot", LR, *PLAN_ARGS, "--steps", "6", "-o", str(png)], capsys)
    assert code == 2 and "not both" in err
    code, _, err = run(["plot", "--steps", "6", "-o", str(png)], capsys)
    assert code == 2 and "give a schedule" in err


# ---------------------------------------------------------------- config forms


@pytest.mark.parametrize("name", ["train.yaml", "train.toml", "train.json"])
def test_load_plan_in_each_format(configs, name):
    plan = load_plan(configs / name, "optim.plan")
    assert isinstance(plan, Plan) and plan.keys() == ["lr", "momentum", "weight_decay"]
    assert [plan(t) for t in range(6)] == [{k: HAND[k][t] for k in HAND} for t in range(6)]
    full = load_plan(configs / name, "optim.full")
    assert full.bases == {"lr": 2.0, "momentum": 0.9, "weight_decay": 1.0}
    assert full(1) == {"lr": 1.75, "momentum": 0.9, "weight_decay": 0.0005}
    assert full["lr"].total_steps == 8
    over = load_plan(configs / name, "optim.full", base_lr=1.0, bases={"momentum": 0.5}, n=4)
    assert over(1) == {"lr": 0.75, "momentum": 0.5, "weight_decay": 0.0005}
    text = load_plan(configs / name, "optim.text")
    assert text.keys() == ["lr"] and text(2)["lr"] == 0.75


def test_load_on_a_plan_points_to_load_plan(configs):
    with pytest.raises(lrdsl.LrdslError) as info:
        lrdsl.load(configs / "train.yaml", "optim.plan")
    assert info.value.code == "E0901" and "load_plan" in info.value.render()
    assert lrdsl.load(configs / "train.yaml", "optim.text")(2) == 0.75


def test_bases_for_the_lr_work_with_load(tmp_path):
    (tmp_path / "b.yaml").write_text("s: {schedule: 'const(base)', bases: {learning_rate: 0.3}}\n")
    assert lrdsl.load(tmp_path / "b.yaml", "s")(0) == 0.3
    (tmp_path / "c.yaml").write_text("s: {schedule: 'const(base)', bases: {momentum: 0.3}}\n")
    with pytest.raises(lrdsl.LrdslError, match="one text, for the lr") as info:
        lrdsl.load(tmp_path / "c.yaml", "s")
    assert info.value.code == "E0901"


BAD = {
    "number": ("p: {lr: 'cosine(10)', momentum: 0.9}\n", "E0901", "'momentum' is a float"),
    "null": ("p: {lr: 'cosine(10)', momentum: null}\n", "E0901", "'momentum' is a null"),
    "nested": ("p: {lr: {schedule: 'cosine(10)'}}\n", "E0901", "'lr' is a dict"),
    "context": ("p: {lr: 'cosine(10)', total_steps: 100}\n", "E0901", "'total_steps' in it is the plan's context"),
    "bases_in": ("p: {lr: 'cosine(10)', bases: {lr: 1}}\n", "E0901", "'bases' in it is the plan's context"),
    "empty": ("p: {}\n", "E0901", "empty mapping"),
    "empty_inner": ("p: {schedule: {}}\n", "E0901", "empty mapping"),
    "inner_context": ("p: {schedule: {lr: 'cosine(10)', steps_per_epoch: 10}}\n", "E0901", "plan's context"),
    "inner_number": ("p: {schedule: {lr: 1}}\n", "E0901", "'lr' is a int"),
    "int_key": ("p: {1: 'cosine(10)'}\n", "E0207", "a hyperparameter name"),
    "bad_key": ("p: {'mo mentum': 'cosine(10)'}\n", "E0207", "a hyperparameter name"),
    "bases_list": (
        "p: {schedule: {lr: 'cosine(10)'}, bases: [1]}\n",
        "E0901",
        "'bases' in the value at 'p' must be a mapping",
    ),
    "bases_text": ("p: {schedule: {momentum: 'const(base)'}, bases: {momentum: '0.9'}}\n", "E0901", "not a number"),
    "bases_bool": ("p: {schedule: {momentum: 'const(base)'}, bases: {momentum: true}}\n", "E0901", "not a number"),
    "bases_twice": ("p: {schedule: {lr: 'const(base)'}, base_lr: 1, bases: {lr: 2}}\n", "E0901", "twice"),
    "bases_unknown": ("p: {schedule: {lr: 'const(base)'}, bases: {momentum: 2}}\n", "E0207", "does not schedule"),
    "ph_bases": (
        "p: {schedule: {lr: 'cosine($bases)'}, placeholders: {bases: 2}}\n",
        "E0901",
        "cannot be called 'bases'",
    ),
    "schedule_number": ("p: {schedule: 3}\n", "E0901", "not the schedule text"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_plan_values(case, tmp_path, capsys):
    text, code_, needle = BAD[case]
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(lrdsl.LrdslError) as info:
        load_plan(tmp_path / "bad.yaml", "p")
    assert info.value.code == code_ and needle in info.value.render()
    code, out, err = run(["eval", "--config", str(tmp_path / "bad.yaml"), "--key", "p", "--steps", "3"], capsys)
    assert code == 2 and out == "" and f"error[{code_}]" in err and "Traceback" not in err


def test_a_plan_in_its_context_form_has_a_hint_showing_the_schedule_form(tmp_path):
    (tmp_path / "mixed.json").write_text(json.dumps({"p": {"lr": "cosine(10)", "total_steps": 100}}))
    with pytest.raises(lrdsl.LrdslError) as info:
        load_plan(tmp_path / "mixed.json", "p")
    assert any("schedule: {lr:" in h and "total_steps" in h for h in info.value.hints)


def test_a_plan_as_the_whole_document(tmp_path, capsys):
    (tmp_path / "plan.toml").write_text(f'lr = "{LR}"\n"betas[0]" = "{MOM}"\n')
    plan = load_plan(tmp_path / "plan.toml")
    assert plan.keys() == ["lr", "betas[0]"] and plan(1) == {"lr": 0.875, "betas[0]": 0.4375}
    code, out, _ = run(["eval", "--config", str(tmp_path / "plan.toml"), "--steps", "2", "--format", "csv"], capsys)
    assert code == 0 and out.splitlines() == ["step,lr,betas[0]", "0,1.0,0.5", "1,0.875,0.4375"]


def test_plateaus_in_a_plan_are_fed_the_metrics(tmp_path, capsys):
    metrics = tmp_path / "m.txt"
    metrics.write_text("1\n1\n1\n1\n1\n")
    argv = [
        "eval",
        "--plan",
        "lr=plateau(patience=1)",
        "--plan",
        "momentum=const(0.9)",
        "--steps",
        "5",
        "--format",
        "csv",
    ]
    code, out, _ = run([*argv, "--metrics", str(metrics)], capsys)
    # torch's ReduceLROnPlateau(patience=1, factor=0.1) on a flat metric: best at step 1, cut after two bad steps
    assert code == 0 and out.splitlines() == [
        "step,lr,momentum",
        "0,1.0,0.9",
        "1,1.0,0.9",
        "2,1.0,0.9",
        "3,0.1,0.9",
        "4,0.1,0.9",
    ]
    code, _, err = run(argv, capsys)
    assert code == 2 and "E0607" in err
    code, _, err = run(["eval", *PLAN_ARGS, "--steps", "3", "--metrics", str(metrics)], capsys)
    assert code == 2 and "no text of this plan" in err


def test_a_plan_imports_no_framework():
    code = (
        "import sys; sys.argv = ['lrdsl', 'eval', '--plan', 'lr=cosine(10)', '--plan', 'momentum=const(0.9)',"
        " '--steps', '3', '--format', 'csv'];"
        "from lrdsl.tools.cli import main; main();"
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras', 'jax', 'matplotlib') if m in sys.modules), file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ})
    assert proc.stdout.splitlines()[0] == "step,lr,momentum"
    assert proc.stderr.strip().splitlines()[-1] == "[]"

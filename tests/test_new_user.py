"""What a new user tripped on (issue 16, part 3), each through the CLI as a
user would meet it.  Expected values are worked out by hand (closed forms)."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import traceback

import numpy as np
import pytest

import lrdsl
from lrdsl.primitives import REGISTRY
from lrdsl.tools.cli import main

CARD = "warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def table_rows(out: str) -> dict[str, list[str]]:
    """The phase table's rows by segment text (first cell after start and end)."""
    rows = {}
    for line in out.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) >= 6 and cells[0] != "start":
            rows[cells[2]] = cells
    return rows


# ---------------------------------------------------------------- 1. longer than the total


def test_check_warns_when_the_schedule_is_longer_than_the_total(capsys):
    code, out, err = run(["check", "warmup(1000, start=1e-6) >> cosine(95%)", "--steps", "10000"], capsys)
    assert code == 0
    assert "the schedule is longer than the 10000 total steps" in err and "runs to step 10500" in err
    # the phase table stops at the total: the run's last value is the cosine at local step 8999 of 9500
    last = 0.5 * (1 + math.cos(math.pi * 8999 / 9500))
    cells = table_rows(out)["cosine(95%)"]
    assert cells[:2] == ["1000", "10000"]
    assert float(cells[4]) == pytest.approx(last, rel=1e-5)  # min, to 6 digits
    assert "cut at the total, runs to 10500" in cells[-1]
    assert "2.73396e-08" not in out  # the value at step 10499, which the run never reaches


def test_phases_after_the_total_are_left_out_and_said_so(capsys):
    code, out, _ = run(["check", "cosine(100) >> const(0.5)", "--steps", "80"], capsys)
    assert code == 0
    assert "const(0.5)" not in table_rows(out)
    assert "'const(0.5)' (from step 100) is not reached in the 80 total steps" in out


def test_explain_shows_the_cut_phase_up_to_the_total(capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _ = run(["explain", "cosine(100)", "--steps", "40"], capsys)
    assert code == 0
    end = 0.5 * (1 + math.cos(math.pi * 39 / 100))
    assert "[0, 40)  cosine(100)  (cut at the total, runs to 100)" in out
    assert f"lr 1 -> {end:.12g}, min {end:.12g}, max 1" in out


# ---------------------------------------------------------------- 2. compare


def test_compare_prints_both_values_and_names_the_relative_column(capsys):
    code, out, _ = run(["compare", "cosine(5)", "cosine(6)", "--steps", "10"], capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[:2] == ["a: cosine(5)", "b: cosine(6)"]
    a1, b1 = 0.5 * (1 + math.cos(math.pi / 5)), 0.5 * (1 + math.cos(math.pi / 6))
    first = re.fullmatch(r"first difference at step 1: a = (\S+), b = (\S+)", lines[2])
    assert first and [float(x) for x in first.groups()] == pytest.approx([a1, b1], rel=1e-12)
    # at step 5 cosine(5) has ended at 0 and cosine(6) is at (1 + cos(5pi/6))/2: relative difference 1
    b5 = 0.5 * (1 + math.cos(5 * math.pi / 6))
    rel = next(x for x in lines if x.startswith("max |a-b|/max(|a|,|b|)"))
    assert rel.split()[2:6] == ["1", "at", "step", "5"] and "(a = 0.0, b = " in rel
    assert float(rel.split("b = ")[1].rstrip(")")) == pytest.approx(b5, rel=1e-12)


# ---------------------------------------------------------------- 3. explain resolves everything

#: One valid call per primitive (the test fails for a primitive without one).
SAMPLES = {
    "const": "const(0.5)",
    "hold": "hold(5)",
    "linear": "linear(10)",
    "warmup": "warmup(10)",
    "cosine": "cosine(10, alpha=0.1)",
    "cooldown": "cooldown(10, shape=power)",
    "step": "step(10)",
    "multistep": "multistep([1, 2])",
    "exp": "exp(0.9)",
    "poly": "poly(10)",
    "inverse_time": "inverse_time(10, 0.5)",
    "inverse_sqrt": "inverse_sqrt(warmup=100)",
    "noam": "noam(100, d_model=512)",
    "piecewise": "piecewise([1, 2], [1, 0.5, 0.1])",
    "cosine_restarts": "cosine_restarts(10)",
    "cyclic": "cyclic(10, low=0.1)",
    "one_cycle": "one_cycle(100)",
    "plateau": "plateau()",
}
#: Names the compiler prepares for the formulas, which are not the language's.
INTERNAL = ("cos", "lrs", "ends", "firsts", "up", "scale", "starts", "_length", "period", "count")


@pytest.mark.parametrize("name", [p.name for p in REGISTRY.values() if p.kind != "combinator"])
def test_explain_shows_every_parameter_in_the_languages_spelling(name, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert name in SAMPLES, f"add a sample call of {name} to SAMPLES"
    code, out, _ = run(["explain", SAMPLES[name], "--steps", "200"], capsys)
    assert code == 0
    resolved = out.splitlines()[3].strip()
    wanted = [p.name for p in REGISTRY[name].params if p.kind != "sched"]
    assert resolved.startswith(f"{name}(") and re.findall(r"(\w+)=", resolved) == wanted
    assert not any(re.search(rf"\b{bad}=", resolved) for bad in INTERNAL)
    # the resolved call (unset parameters and the second spelling of a value left out) is the same schedule
    again = re.sub(r", \w+=none|\w+=none, ", "", resolved)
    for other in REDUNDANT.get(name, ()):
        again = re.sub(rf", {other}=[^,)]*", "", again)
    steps = np.arange(200)
    want = lrdsl.compile(SAMPLES[name], total_steps=200).values(steps)
    np.testing.assert_allclose(lrdsl.compile(again, total_steps=200).values(steps), want, rtol=1e-10, atol=0)


#: Parameters that give a value another parameter already gives (the resolved call shows both).
REDUNDANT = {"cosine": ("alpha",), "cosine_restarts": ("alpha",), "one_cycle": ("div", "final_div")}


def test_one_cycle_resolves_both_spellings_of_each_value(capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _ = run(["explain", "one_cycle(1000, max=0.1)"], capsys)
    assert code == 0
    # torch OneCycleLR's defaults: initial = max/25, final = initial/1e4
    assert (
        "    one_cycle(n=1000, max=0.1, pct_start=0.3, div=25, final_div=10000, anneal=cos, three_phase=false,"
        " start=0.004, end=4e-07)" in out
    )
    _, out, _ = run(["explain", "one_cycle(1000, start=0.95, peak=0.85, end=0.95)"], capsys)
    assert "max=0.85" in out and "start=0.95" in out and "end=0.95" in out
    assert f"div={0.85 / 0.95:.12g}" in out and "final_div=1," in out


def test_explain_resolves_combinations_and_repeats(capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _ = run(["explain", "0.5 * cosine(100) >> repeat(linear(10), 3)", "--base-lr", "2"], capsys)
    assert code == 0
    assert "    0.5 * cosine(n=100, peak=2, min=0, alpha=0)" in out
    assert "    repeat(linear(n=10, start=2, end=0), n=3, decay=1)" in out


# ---------------------------------------------------------------- 5. check without a total


def test_check_of_the_card_without_a_total_passes(capsys):
    code, out, err = run(["check", CARD], capsys)
    assert code == 0, err
    rows = table_rows(out)
    assert rows["warmup(5)"][:2] == ["0", "5"] and rows["warmup(5)"][3:6] == ["0", "0", "0.8"]
    elastic = rows["cosine_restarts(10, t_mul=2, m_mul=0.9)"]
    assert elastic[:2] == ["5", "total"] and elastic[3] == "1" and elastic[-1] == "fills the total"
    assert rows["const(1e-06)"][:2] == ["total", "inf"]
    assert "Compiling needs a total:\n--steps N or --total T to lrdsl check" in out


def test_check_of_percent_lengths_without_a_total(capsys):
    code, out, _ = run(["check", "warmup(5%) >> cosine(95%, min=1e-5) >> const(1e-6)"], capsys)
    assert code == 0
    rows = table_rows(out)
    assert rows["warmup(5%)"][:2] == ["0", "5%"] and rows["cosine(95%, min=1e-05)"][:2] == ["5%", "total"]
    assert rows["cosine(95%, min=1e-05)"][4:6] == ["-", "-"]  # the range depends on the total


def test_check_without_a_total_still_reports_other_errors(capsys):
    code, _, err = run(["check", "warmup(5) >> cosin(95%)"], capsys)
    assert code == 2 and "E0201" in err


def test_hints_name_the_command_in_use(capsys):
    code, _, err = run(["explain", CARD], capsys)
    assert code == 2 and "E0601" in err
    assert "--steps N (or --total T) to lrdsl explain" in err and "lrdsl eval" not in err
    code, _, err = run(["plot", "cosine(2ep)", "--steps", "5", "-o", "x.png"], capsys)
    assert code == 2 and "pass --steps-per-epoch K to lrdsl plot" in err
    code, _, err = run(["check", "cosine($n)"], capsys)
    assert code == 2 and "lrdsl check -D n=..." in err


# ---------------------------------------------------------------- 6. --steps 10k


@pytest.mark.parametrize("steps", ["10k", "1e4", "10_000", "0.01M"])
def test_steps_take_the_languages_number_syntax(steps, capsys):
    code, out, err = run(["eval", "cosine(10k)", "--steps", steps, "--every", "2.5k", "--format", "csv"], capsys)
    assert code == 0, err
    assert [line.split(",")[0] for line in out.splitlines()[1:]] == ["0", "2500", "5000", "7500"]


@pytest.mark.parametrize("steps", ["1.5", "2.5e0", "1e-3", "10K", "1e4000"])
def test_steps_must_be_whole(steps, capsys):
    code, _, err = run(["eval", "cosine(10)", "--steps", steps], capsys)
    assert code == 2 and "--steps" in err and "Traceback" not in err


# ---------------------------------------------------------------- 7. unknown names in values


def test_an_unknown_name_in_a_value_never_suggests_a_primitive(capsys):
    code, _, err = run(["check", "cosine(9500, peak=1e-3, min=peak/10)"], capsys)
    assert code == 2 and "error[E0203]: unknown name 'peak'" in err
    assert "repeat" not in err
    assert "keyword arguments cannot be referred to" in err
    assert "peak = 0.001; cosine(9500, peak=peak, min=peak / 10)" in err
    assert "'base'" in err and "'prev'" not in err  # no previous segment here
    # the binding form the hint shows compiles, to the values meant
    s = lrdsl.compile("peak = 0.001; cosine(9500, peak=peak, min=peak / 10)")
    assert s(0) == 0.001 and s(9500) == pytest.approx(1e-4, rel=1e-12)


def test_unknown_value_names_suggest_what_can_be_referred_to(capsys):
    _, _, err = run(["check", "top = 1e-3; warmup(5) >> cosine(100, min=tpo/10)"], capsys)
    assert "did you mean 'top'?" in err and "'prev'" in err and "the bindings (top)" in err
    _, _, err = run(["check", "cosine(100) >> cosin"], capsys)  # where a schedule goes, a primitive is a fit
    assert "did you mean 'cosine'?" in err


# ---------------------------------------------------------------- 8. the warmup-from-0 convention


def test_the_conventional_warmup_is_a_note_shown_when_asked(capsys):
    code, _, err = run(["check", "warmup(5) >> cosine(95)", "--steps", "100"], capsys)
    assert code == 0 and err == ""
    code, _, err = run(["check", "warmup(5) >> cosine(95)", "--steps", "100", "--notes"], capsys)
    assert code == 0 and err.startswith("note: 'warmup(5)' starts at 0 at step 0")


# ---------------------------------------------------------------- 9. overlay plots


def test_an_overlay_shades_and_labels_every_schedules_phases():
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from lrdsl.tools.plot import figure

    a = lrdsl.compile("warmup(100) >> cosine(900)")
    b = lrdsl.compile("warmup(300) >> linear(400) >> const(0.1)")
    fig = figure([("a", a), ("b", b)], 1000)
    try:
        (ax,) = fig.axes
        colours = [line.get_color() for line in ax.get_lines()[:2]]
        labels = {c: [t.get_text() for t in ax.texts if t.get_color() == c] for c in colours}
        assert labels[colours[0]] == ["warmup", "cosine"]
        assert labels[colours[1]] == ["warmup", "linear", "const"]
        # every curve stays below the strips of phases
        top = max(max(line.get_ydata()) for line in ax.get_lines()[:2])
        lo, hi = ax.get_ylim()
        assert (top - lo) / (hi - lo) <= 1 - 2 * 0.05
    finally:
        plt.close(fig)


# ---------------------------------------------------------------- 10. rich at 80 columns


def test_explain_under_rich_at_80_columns_shows_every_value_whole(capsys, monkeypatch):
    pytest.importorskip("rich")
    from lrdsl.tools.report import explain_text
    from lrdsl.tools.resolved import number

    monkeypatch.setenv("COLUMNS", "80")
    text = "warmup(1000, start=1e-6) >> cosine(95%, min=1.2345678e-5) >> const(1.5e-7)"
    s = lrdsl.compile(text, total_steps=100000, base_lr=6e-4)
    assert explain_text(s, rich=True) is None
    out = capsys.readouterr().out
    assert "…" not in out and max(len(line) for line in out.splitlines()) <= 80
    for ph in s.phases:
        for v in (ph.first, ph.lo, ph.hi):
            assert number(v) in out
    assert number(s(95999)) in out  # the cosine's last value


# ---------------------------------------------------------------- 11. the smaller points


def test_compare_help_is_its_own(capsys):
    code, out, _ = run(["compare", "--help"], capsys)
    assert code == 0 and "draw together" not in out and "the two schedules A and B" in out
    assert "--config" in out and "--key" in out


def test_compare_reads_schedules_from_a_config(tmp_path, capsys):
    cfg = tmp_path / "train.yaml"
    cfg.write_text("old: 'warmup(5) >> cosine(95)'\nnew: {schedule: 'warmup(5) >> cosine(90)', total_steps: 100}\n")
    code, out, _ = run(["compare", "--config", str(cfg), "--key", "old", "--key", "new", "--steps", "100"], capsys)
    assert code == 1 and out.startswith("a: warmup(5) >> cosine(95)\nb: warmup(5) >> cosine(90)\n")
    code, out, _ = run(
        ["compare", "--config", str(cfg), "--key", "old", "warmup(5) >> cosine(95)", "--steps", "9"], capsys
    )
    assert code == 0 and out.startswith("identical")
    code, _, err = run(["compare", "--config", str(cfg), "--steps", "9"], capsys)
    assert code == 2 and "compare takes two schedules" in err


def test_a_missing_key_says_where_the_schedules_are(tmp_path, capsys):
    cfg = tmp_path / "train.yaml"
    cfg.write_text("optim:\n  sgd:\n    schedule: 'cosine(10)'\n  adam: 'warmup(2) >> const(1)'\n")
    code, _, err = run(["eval", "--config", str(cfg), "--steps", "3"], capsys)
    assert code == 2 and "None" not in err
    assert "--key A.B" in err and "optim.sgd, optim.adam" in err


def test_at_errors_quote_the_bad_step_only(capsys):
    steps = ",".join(str(t) for t in range(100)) + ",x"
    code, _, err = run(["eval", "cosine(10)", "--steps", "10", "--at", steps], capsys)
    assert code == 2 and "'x' is not one" in err and "0,1,2" not in err


def test_plot_dash_with_csv_is_refused(capsys):
    code, out, err = run(["eval", "cosine(10)", "--steps", "10", "--plot", "-", "--format", "csv"], capsys)
    assert code == 2 and out == "" and "--plot -" in err and "--format csv" in err


def test_the_table_is_readable_and_csv_exact(capsys):
    code, out, _ = run(["eval", "warmup(10)", "--steps", "3", "--base-lr", "6e-4"], capsys)
    assert code == 0
    assert [line.split() for line in out.splitlines()[1:3]] == [["0", "0.0"], ["1", "6e-05"]]
    _, out, _ = run(["eval", "warmup(10)", "--steps", "3", "--base-lr", "6e-4", "--format", "csv"], capsys)
    assert out.splitlines()[2] == f"1,{6e-4 * 1 / 10!r}"  # 5.9999999999999995e-05: exact


def test_sampled_rows_are_at_round_steps(capsys):
    code, out, _ = run(["eval", "warmup(150) >> cosine(9850)", "--steps", "10000"], capsys)
    assert code == 0
    steps = [int(line.split()[0]) for line in out.splitlines()[1:] if line.strip()[:1].isdigit() and "┤" not in line]
    odd = sorted(t for t in steps if t % 50)
    assert odd == [149, 9999]  # the phase boundary's last step and the last step; 150 is round
    assert len(steps) <= 205 and "one every 50 steps" in out


def test_the_braille_plot_of_a_few_steps_is_full_width():
    from lrdsl.tools.termplot import braille

    lines = braille([1.0, 0.8, 0.5, 0.2, 0.1, 0.05, 0.0]).splitlines()
    assert all(len(line.split("┤")[1]) == 60 for line in lines[:10])


def test_list_fits_the_terminal(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(["list"], capsys)
    assert code == 0 and max(map(len, out.splitlines())) <= 100
    monkeypatch.setenv("COLUMNS", "72")
    _, out, _ = run(["list"], capsys)
    assert max(map(len, out.splitlines())) <= 72
    assert all(f"{p.name}(" in out for p in REGISTRY.values())


def test_reaching_zero_is_said_against_the_total():
    from lrdsl.tools.lint import lint

    ws = lint(lrdsl.compile("linear(10, end=0) >> hold(10) >> const(0.1)", total_steps=30))
    assert any("reaches 0 at step 10, before the run's last step (29, the last of the 30 total steps)" in w for w in ws)
    assert not any("end of the schedule" in w for w in ws)


def test_str_of_an_error_has_its_header():
    err = lrdsl.UnsupportedError("keras cannot express this", hints=["use the callback"])
    assert str(err).startswith("error[E0801]: keras cannot express this")
    assert "help: use the callback" in str(err)


def _without(module: str, code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a Python where ``module`` cannot be imported."""
    prelude = f"import sys; sys.modules[{module!r}] = None\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, env=env, timeout=120)


def test_a_missing_matplotlib_is_e0802(tmp_path):
    proc = _without(
        "matplotlib",
        f"from lrdsl.tools.cli import main; raise SystemExit(main(['plot', 'cosine(10)', '--steps', '10', '-o', {str(tmp_path / 'p.png')!r}]))",
    )
    assert proc.returncode == 2 and "error[E0802]: plotting needs matplotlib" in proc.stderr


def test_to_torch_without_torch_is_e0802():
    proc = _without(
        "torch",
        "import lrdsl\ntry:\n    lrdsl.compile('cosine(10)').to_torch(None)\nexcept lrdsl.LrdslError as e:\n    print(e)",
    )
    assert proc.returncode == 0 and proc.stdout.startswith("error[E0802]: the torch emitter needs torch")


@pytest.mark.parametrize("text", ["warmup(5) >> cosine(95%)", "cosine(", "cosine(10, foo=1)", "linear(10, end=-1)"])
def test_compile_errors_have_short_tracebacks(text):
    with pytest.raises(lrdsl.LrdslError) as info:
        lrdsl.compile(text)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert [f.name for f in frames] == ["test_compile_errors_have_short_tracebacks", "compile"]

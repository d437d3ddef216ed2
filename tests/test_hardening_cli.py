"""Hardening the command line and the file readers against hostile input.

Every bad input ends in exit status 2 with one diagnostic (an LrdslError with a
code, or a usage message), never a traceback or the internal-error status 70;
every input is read bounded (E0701 beyond its limit), and the output falls
back to ASCII where the terminal cannot show Unicode.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import lrdsl
from lrdsl.language.domain import MAX_CONFIG_BYTES, MAX_INPUT_BYTES, MAX_METRICS_BYTES
from lrdsl.tools import config
from lrdsl.tools.cli import main

A = "cosine(10)"
PLATEAU = "plateau(patience=1)"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def console(*args: str, env: dict[str, str] | None = None, **kw: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "lrdsl.tools.cli", *args],
        capture_output=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        **kw,  # type: ignore[arg-type]
    )


def refused(code: int, err: str) -> bool:
    """Exit 2 with a diagnostic and no traceback."""
    return code == 2 and err.strip() != "" and "Traceback" not in err and "internal error" not in err


# ---------------------------------------------------------------- 1. bounded input


def test_the_limits_are_the_documented_ones():
    assert MAX_INPUT_BYTES == 16 * 1024 and MAX_CONFIG_BYTES == 1 << 20 and MAX_METRICS_BYTES == 64 << 20


@pytest.fixture
def zero_yaml(tmp_path: Path) -> Path:
    link = tmp_path / "x.yaml"
    link.symlink_to("/dev/zero")
    return link


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize(
    "argv",
    [
        ["eval", "@/dev/zero", "--steps", "5"],
        ["check", "@/dev/zero"],
        ["eval", "--config", "/dev/zero", "--steps", "5"],
        ["eval", "--config", "{zero_yaml}", "--steps", "5"],
        ["check", "--config", "{zero_yaml}", "--key", "a"],
        ["eval", PLATEAU, "--steps", "5", "--metrics", "/dev/zero"],
    ],
)
def test_an_endless_device_is_too_large_not_read_whole(argv, zero_yaml, capsys):
    code, out, err = run([a.format(zero_yaml=zero_yaml) for a in argv], capsys)
    assert refused(code, err) and out == ""
    assert "error[E0701]" in err and "larger than" in err


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_the_python_api_reads_bounded_too(zero_yaml):
    for path in (zero_yaml, "/dev/zero"):
        with pytest.raises(lrdsl.LrdslError) as info:
            lrdsl.load(str(path), "a")
        assert info.value.code == "E0701"
        with pytest.raises(lrdsl.LrdslError) as info:
            config.read(path)
        assert info.value.code == "E0701"
    with pytest.raises(lrdsl.LimitError):
        config.read_limited("/dev/zero", 10)


def test_read_limited_reads_at_most_limit_plus_one_byte(tmp_path):
    path = tmp_path / "s.txt"
    path.write_bytes(b"x" * 100)
    assert config.read_limited(path, 100) == b"x" * 100
    with pytest.raises(lrdsl.LrdslError) as info:
        config.read_limited(path, 99)
    assert info.value.code == "E0701"


def test_a_huge_regular_file_is_refused_from_its_size(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:  # sparse: 4 GiB that take no room
        fh.truncate(4 << 30)
    code, _, err = run(["eval", "--config", str(big), "--steps", "5"], capsys)
    assert refused(code, err) and "E0701" in err
    code, _, err = run(["check", f"@{big}"], capsys)
    assert refused(code, err) and "E0701" in err
    with pytest.raises(lrdsl.LrdslError) as info:
        lrdsl.load(str(big))
    assert info.value.code == "E0701"


def test_just_over_the_limit_is_too_large_and_at_the_limit_is_not(tmp_path, capsys):
    at = tmp_path / "at.lrdsl"
    at.write_bytes(b"cosine(10)" + b" " * (MAX_INPUT_BYTES - 10))
    code, _, err = run(["check", f"@{at}"], capsys)
    assert code == 0, err
    over = tmp_path / "over.lrdsl"  # the parser says where the text crosses its limit
    over.write_bytes(b"cosine(10)" + b" " * (MAX_INPUT_BYTES - 9))
    code, _, err = run(["check", f"@{over}"], capsys)
    assert refused(code, err) and "E0701" in err and "--> line 1, column 16385" in err
    wide = tmp_path / "wide.lrdsl"  # 16 Ki characters of UTF-8 comment: within the limit
    wide.write_bytes(b"cosine(10) #" + "\u00e9".encode() * (MAX_INPUT_BYTES - 12))
    code, _, err = run(["check", f"@{wide}"], capsys)
    assert code == 0, err
    huge = tmp_path / "huge.lrdsl"  # the reader stops before the parser sees it
    huge.write_bytes(b" " * (4 * MAX_INPUT_BYTES + 1))
    code, _, err = run(["check", f"@{huge}"], capsys)
    assert refused(code, err) and "E0701" in err and "larger than 64 KiB" in err
    cfg = tmp_path / "over.json"
    cfg.write_bytes(b'{"s": "cosine(10)"}' + b" " * MAX_CONFIG_BYTES)
    code, _, err = run(["check", "--config", str(cfg), "--key", "s"], capsys)
    assert refused(code, err) and "E0701" in err and "larger than 1 MiB" in err


def test_a_metrics_file_is_read_line_by_line_and_bounded(tmp_path, capsys):
    metrics = tmp_path / "m.txt"
    with open(metrics, "wb") as fh:  # a huge log: only the first lines are needed
        fh.write(b"1\n1\n1\n1\n")
        fh.truncate(1 << 30)
    code, _, err = run(["eval", PLATEAU, "--steps", "4", "--format", "csv", "--metrics", str(metrics)], capsys)
    assert code == 0, err
    code, _, err = run(["eval", PLATEAU, "--steps", "10", "--metrics", str(metrics)], capsys)
    assert refused(code, err) and "E0701" in err  # the rest is one line of NULs longer than the limit


def test_a_hundred_megabytes_on_stdin_stop_at_the_limit():
    proc = subprocess.Popen(
        [sys.executable, "-m", "lrdsl.tools.cli", "eval", "-", "--steps", "5"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    chunk = b"cosine(10) " * (1 << 16)  # ~700 KB, written again and again
    written = [0]

    def feed() -> None:
        assert proc.stdin is not None
        try:
            while written[0] < 100_000_000:
                proc.stdin.write(chunk)
                written[0] += len(chunk)
            proc.stdin.close()
        except (OSError, ValueError):  # lrdsl stopped reading: the point
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    assert proc.stderr is not None
    err = proc.stderr.read()  # returns once lrdsl exits
    proc.wait(timeout=60)
    writer.join(timeout=60)
    assert proc.returncode == 2, err
    assert b"E0701" in err and b"standard input" in err and b"Traceback" not in err
    assert written[0] < 20_000_000  # it read a bounded prefix and left


@pytest.mark.parametrize("cmd", ["schedule", "config", "metrics"])
def test_a_directory_is_refused(cmd, tmp_path, capsys):
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    argv = {
        "schedule": ["eval", f"@{folder}", "--steps", "5"],
        "config": ["eval", "--config", str(folder), "--steps", "5"],
        "metrics": ["eval", PLATEAU, "--steps", "5", "--metrics", str(folder)],
    }[cmd]
    code, _, err = run(argv, capsys)
    assert refused(code, err) and "E0901" in err and "directory" in err


@pytest.mark.parametrize("cmd", ["schedule", "config", "metrics"])
def test_a_missing_file_is_refused(cmd, tmp_path, capsys):
    missing = tmp_path / "missing.yaml"
    argv = {
        "schedule": ["eval", f"@{missing}", "--steps", "5"],
        "config": ["eval", "--config", str(missing), "--steps", "5"],
        "metrics": ["eval", PLATEAU, "--steps", "5", "--metrics", str(missing)],
    }[cmd]
    code, _, err = run(argv, capsys)
    assert refused(code, err) and "E0901" in err and "No such file" in err


def test_the_python_api_raises_e0901_for_what_it_cannot_read(tmp_path):
    for path in (tmp_path / "missing.yaml", tmp_path, "a\x00b.yaml"):
        with pytest.raises(lrdsl.LrdslError) as info:
            lrdsl.load(str(path), "a")
        assert info.value.code == "E0901"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize(
    "argv",
    [
        ["eval", "@{fifo}", "--steps", "5"],
        ["check", "--config", "{fifo}", "--key", "a"],
        ["eval", PLATEAU, "--steps", "5", "--metrics", "{fifo}", "--format", "csv"],
    ],
)
def test_a_fifo_with_no_writer_does_not_hang(argv, tmp_path):
    fifo = tmp_path / "f.yaml"
    os.mkfifo(fifo)
    proc = console(*(a.format(fifo=fifo) for a in argv))  # times out (fails) if it blocks
    assert proc.returncode in (0, 2) and b"Traceback" not in proc.stderr
    if argv[0] == "check":
        assert proc.returncode == 2


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_with_a_writer_is_read(tmp_path):
    fifo = tmp_path / "s.fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [sys.executable, "-m", "lrdsl.tools.cli", "eval", f"@{fifo}", "--steps", "3", "--format", "csv"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    with open(fifo, "w") as fh:  # blocks until lrdsl opens it
        fh.write("cosine(2)\n")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.decode().splitlines() == ["step,lr", "0,1.0", "1,0.5", "2,0.0"]


def test_no_stdin_is_an_error():
    proc = console("eval", "-", "--steps", "5", stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr  # empty input
    code = "import sys; sys.stdin = None; from lrdsl.tools.cli import main; raise SystemExit(main(['check', '-']))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert proc.returncode == 2 and b"E0901" in proc.stderr and b"Traceback" not in proc.stderr


# ---------------------------------------------------------------- 2. the step domain


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--at", "18446744073709551616"),
        ("--at", "9223372036854775806"),
        ("--at", "9007199254740992"),
        ("--at", "0,5,-1"),
        ("--at", "1.5"),
        ("--at", "nan"),
        ("--at", "2.5"),
        ("--at", ","),
        ("--every", "18446744073709551616"),
        ("--every", "9007199254740992"),
        ("--every", "0"),
        ("--every", "-3"),
        ("--every", "2.5"),
        ("--steps", "18446744073709551616"),
        ("--steps", "0"),
        ("--steps", "-1"),
        ("--steps", "1.5"),
        ("--steps", "9" * 5000),
        ("--total", "18446744073709551616"),
        ("--steps-per-epoch", "18446744073709551616"),
        ("--steps-per-epoch", "-2"),
    ],
)
def test_steps_outside_the_domain_name_the_option(option, value, capsys):
    argv = ["eval", A, "--steps", "5", option, value] if option != "--steps" else ["eval", A, option, value]
    code, out, err = run(argv, capsys)
    assert refused(code, err) and out == ""
    assert option in err
    assert len(err) < 2000  # a huge value is not quoted back whole


def test_the_largest_step_is_fine(capsys):
    code, out, err = run(["eval", A, "--steps", "5", "--at", "0,9007199254740991", "--format", "csv"], capsys)
    assert code == 0, err
    assert out.splitlines()[2].startswith("9007199254740991,")
    code, out, err = run(["eval", A, "--steps", "5", "--every", "9007199254740991", "--format", "csv"], capsys)
    assert code == 0 and out.splitlines() == ["step,lr", "0,1.0"]


def test_a_long_at_list_is_not_quoted_back(capsys):
    steps = ",".join(["3"] * 20000 + ["-1"])
    code, _, err = run(["eval", A, "--steps", "5", "--at", steps], capsys)
    assert refused(code, err) and "--at" in err and "'-1'" in err and len(err) < 2000


def test_steps_keep_their_own_limit(capsys):
    for cmd in (["eval", A], ["compare", A, A]):
        code, _, err = run([*cmd, "--steps", str(2**40 + 1)], capsys)
        assert refused(code, err) and "E0704" in err and "--steps" in err


# ---------------------------------------------------------------- 3. plot output


@pytest.fixture
def mpl():
    return pytest.importorskip("matplotlib")


@pytest.mark.parametrize(
    "target",
    [
        "/nonexistent/x.png",
        "{tmp}/no/such/dir/x.svg",
        "{tmp}/file.txt/x.png",  # the parent is a file
        "{tmp}/dir.png",  # the path is a directory
        "/proc/lrdsl-test.png",
        "{tmp}/x.pdf",
        "{tmp}/x",
        "",
        "{tmp}/x.png.gif",
    ],
)
@pytest.mark.parametrize("how", ["plot", "eval"])
def test_a_plot_that_cannot_be_written_is_an_error(how, target, tmp_path, mpl, capsys):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "dir.png").mkdir()
    path = target.format(tmp=tmp_path)
    argv = ["plot", A, "--steps", "5", "-o", path] if how == "plot" else ["eval", A, "--steps", "5", "--plot", path]
    code, out, err = run(argv, capsys)
    assert refused(code, err) and out == ""
    assert "error[E0305]" in err or "error[E0901]" in err


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere")
def test_a_plot_into_a_read_only_directory_is_an_error(tmp_path, mpl, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        code, _, err = run(["plot", A, "--steps", "5", "-o", str(ro / "x.png")], capsys)
    finally:
        ro.chmod(0o700)
    assert refused(code, err) and "E0901" in err


def test_a_write_error_is_an_lrdsl_error(tmp_path, mpl, monkeypatch):
    import builtins

    from lrdsl.tools.plot import plot

    real_open = builtins.open

    def failing(path, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path).endswith("x.png") and "w" in mode:
            raise OSError(28, "No space left on device")
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", failing)
    with pytest.raises(lrdsl.LrdslError) as info:
        plot([("s", lrdsl.compile(A))], 10, str(tmp_path / "x.png"))
    assert info.value.code == "E0901" and "No space left" in info.value.message


@pytest.mark.parametrize("title", ["$\\frac$", "$x", "a $b$ c", "$$", "\\"])
def test_a_title_or_label_with_dollars_is_drawn_verbatim(title, tmp_path, mpl, capsys):
    code, _, err = run(["plot", A, "--steps", "5", "-o", str(tmp_path / "t.svg"), "--title", title], capsys)
    assert code == 0, err
    code, _, err = run(
        ["plot", "cosine($n, peak=$p)", "--steps", "5", "-o", str(tmp_path / "u.png"), "-D", "n=3", "-D", "p=1"],
        capsys,
    )
    assert code == 0, err


# ---------------------------------------------------------------- 4. ASCII terminals


ASCII_ENV = {"PYTHONIOENCODING": "ascii", "LANG": "C", "LC_ALL": "C"}


@pytest.mark.parametrize(
    "argv",
    [
        ["eval", "warmup(5) >> cosine_restarts(10, t_mul=2)", "--steps", "60"],
        ["eval", A, "--steps", "60", "--plot", "-"],
        ["eval", A, "--steps", "60", "--plot", "-", "--log"],
        ["eval", A, "--steps", "100000"],
        ["check", "warmup(5) >> cosine(10) # a comment with é"],
        ["explain", "warmup(5) >> cosine(10)"],
        ["list"],
        ["list", "--markdown"],
        ["translate", "cosine", "--num-training-steps", "10"],
    ],
)
def test_an_ascii_terminal_gets_ascii(argv):
    proc = console(*argv, env=ASCII_ENV)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert proc.stdout.isascii() and proc.stdout.strip()
    assert b"Traceback" not in proc.stderr
    if argv[0] == "eval":
        assert b"+---" in proc.stdout and b" |" in proc.stdout  # the plot's axes in ASCII


def test_an_ascii_terminal_still_gets_diagnostics():
    proc = console("check", "cosine(10) >> \u00e9", env=ASCII_ENV)
    assert proc.returncode == 2 and b"E0101" in proc.stderr and b"Traceback" not in proc.stderr


def test_the_terminal_plot_has_an_ascii_form():
    from lrdsl.tools.termplot import braille

    values = [1.0 - i / 99 for i in range(100)]
    fancy = braille(values)
    plain = braille(values, ascii_only=True)
    assert not fancy.isascii() and plain.isascii()
    assert len(fancy.splitlines()) == len(plain.splitlines())
    assert [len(a) for a in fancy.splitlines()] == [len(b) for b in plain.splitlines()]
    # the same cells are inked: a blank braille cell is a blank ASCII cell
    for a, b in zip(fancy.splitlines()[:-2], plain.splitlines()[:-2]):
        body_a, body_b = a.split("\u2524", 1)[1], b.split("|", 1)[1]
        assert [ch == "\u2800" for ch in body_a] == [ch == " " for ch in body_b]


def test_a_utf8_terminal_keeps_braille(capsys):
    code, out, _ = run(["eval", A, "--steps", "20", "--plot", "-"], capsys)
    assert code == 0 and "┤" in out and "└" in out


# ---------------------------------------------------------------- 5. the audit


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("audit")
    texts = {
        "scalar.yaml": "42\n",
        "text.yaml": "cosine(10)\n",
        "empty.yaml": "",
        "list.yaml": "- 1\n- 2\n",
        "num.yaml": "s: 3\n",
        "lst.yaml": "s: [1, 2]\n",
        "dct.yaml": "s: {a: 1}\n",
        "schedule_list.yaml": "s: {schedule: [1]}\n",
        "context.yaml": "s: {schedule: 'cosine(10)', base_lr: abc, total_steps: [1], steps_per_epoch: {a: 1}}\n",
        "negative.yaml": "s: {schedule: 'cosine(10%)', total_steps: -5}\n",
        "huge.yaml": "s: {schedule: 'cosine(10%)', total_steps: 184467440737095516160000}\n",
        "floats.yaml": "s: {schedule: 'cosine(10%)', total_steps: 1.0e400, base_lr: .nan}\n",
        "ph_list.yaml": "s: {schedule: 'cosine($n)', placeholders: [1, 2]}\n",
        "ph_int_key.yaml": "s: {schedule: 'cosine($n)', placeholders: {1: 2}}\n",
        "ph_text.yaml": "s: {schedule: 'cosine($text)', placeholders: {text: 2}}\n",
        "ph_base.yaml": "s: {schedule: 'cosine($base_lr)', placeholders: {base_lr: 2}}\n",
        "ph_value.yaml": "s: {schedule: 'cosine($n)', placeholders: {n: [1, {a: 2}]}}\n",
        "ph_date.yaml": "s: {schedule: 'cosine($n)', placeholders: {n: 2001-12-14}}\n",
        "int_keys.yaml": "1: cosine(10)\n",
        "tag.yaml": "s: !!python/object:os.system ['echo hi']\n",
        "deep.yaml": "[" * 50000 + "]" * 50000,
        "deep.json": "[" * 50000 + "]" * 50000,
        "deep.toml": "a = " + "[" * 50000 + "]" * 50000,
        "bad.json": "{",
        "nan.json": '{"s": NaN, "t": {"schedule": "cosine(10)", "base_lr": NaN}}',
        "bigint.json": '{"s": ' + "9" * 5000 + "}",
        "bad.toml": "a = [1,\n",
        "dup.toml": "a = 1\na = 2\n",
        "bad.yaml": "a: [\n",
        "nul.yaml": "a: \x00\n",
        "x.ini": "[a]\n",
        "m_nan.txt": "nan\ninf\n-inf\n1e400\n",
        "m_garbage.txt": "1\nabc\n",
        "m_csv.txt": "step,loss\n0,1\n",
        "m_comments.txt": "\n\n# only comments\n",
        "m_long.txt": "9" * 100000 + "\n",
    }
    for name, text in texts.items():
        (d / name).write_text(text)
    (d / "latin1.yaml").write_bytes(b"s: '\xe9'\n")
    (d / "m_bin.txt").write_bytes(b"\xff\xfe\n")
    (d / "bin.lrdsl").write_bytes(b"\x00\xff")
    return d


def _context_values() -> list[list[str]]:
    weird = ["nan", "inf", "-inf", "1e400", "", " ", "-1", "0", "1.5", "18446744073709551616", "9" * 5000, "0x10"]
    out = []
    for option in ("--steps", "--total", "--base-lr", "--steps-per-epoch"):
        for v in weird:
            out.append(["eval", A, *(["--steps", "5"] if option != "--steps" else []), option, v])
        out.append(["check", A, option, "-5"])
        out.append(["compare", A, A, *(["--steps", "5"] if option != "--steps" else []), option, v])
    return out


AUDIT = [
    *_context_values(),
    *(
        ["eval", "cosine($n)", "--steps", "5", "-D", d]
        for d in [
            "n=nan",
            "n=",
            "=1",
            "n",
            "n=1e400",
            "n=" + "9" * 5000,
            "n=1,2",
            "n=$m",
            "text=1",
            "base_lr=1",
            "1n=2",
        ]
    ),
    ["compare", "cosine($n)", "cosine(10)", "--steps", "5", "-D", "n=3"],
    *(["eval", A, "--steps", "5", "--format", f] for f in ["xml", ""]),
    *(["eval", A, "--steps", "5", "--every", "3", "--at", "1"],),
    ["eval", A, "--config", "{d}/text.yaml", "--steps", "5"],
    ["eval", A, "--key", "a", "--steps", "5"],
    ["eval", "--steps", "5"],
    *(
        ["check", "--config", "{d}/" + name, *key]
        for name in [
            "scalar.yaml",
            "text.yaml",
            "empty.yaml",
            "list.yaml",
            "num.yaml",
            "lst.yaml",
            "dct.yaml",
            "schedule_list.yaml",
            "context.yaml",
            "negative.yaml",
            "huge.yaml",
            "floats.yaml",
            "ph_list.yaml",
            "ph_int_key.yaml",
            "ph_text.yaml",
            "ph_base.yaml",
            "ph_value.yaml",
            "ph_date.yaml",
            "tag.yaml",
            "bad.json",
            "nan.json",
            "bigint.json",
            "bad.toml",
            "dup.toml",
            "bad.yaml",
            "nul.yaml",
            "latin1.yaml",
            "x.ini",
        ]
        for key in ([], ["--key", "s"], ["--key", "s.0"], ["--key", "a.\u00b2"], ["--key", "s." + "x" * 500])
    ),
    *(["check", "--config", "{d}/" + name] for name in ["deep.yaml", "deep.json", "deep.toml"]),
    ["check", "--config", "{d}/int_keys.yaml", "--key", "1"],
    ["check", "--config", "{d}/nan.json", "--key", "t"],
    *(
        ["eval", schedule, "--steps", "10", "--metrics", "{d}/" + m]
        for m in ["m_nan.txt", "m_garbage.txt", "m_csv.txt", "m_comments.txt", "m_long.txt", "m_bin.txt", "nope", ""]
        for schedule in (PLATEAU, A)
    ),
    *(["check", e] for e in ["@{d}/bin.lrdsl", "@", "@@", "@{d}", "", " ", "\x7f", "\u00e9", "\udcff"]),
    *(
        ["translate", t, "--num-training-steps", "100", "--num-warmup-steps", "10", "-k", k]
        for t in ["cosine", "polynomial", "reduce_lr_on_plateau", "warmup_stable_decay"]
        for k in [
            *("num_cycles=abc", "num_cycles=", "power=-1", "lr_end=nan", "steps=3", "lr_init=1", "=", "x"),
            *("mode=none", "factor=none", "patience=1.5", "num_decay_steps=1e20", "num_cycles=" + "9" * 5000),
        ]
    ),
    *(
        ["translate", "cosine", option, v]
        for option in ["--num-warmup-steps", "--num-training-steps", "--lr-init", "--steps"]
        for v in ["-1", "nan", "1e400", "", "18446744073709551616"]
    ),
    ["translate", "x" * 1000],
    ["translate", ""],
    ["list", "x"],
    ["frobnicate"],
    [],
    ["eval"],
]


@pytest.mark.parametrize("argv", AUDIT, ids=lambda a: " ".join(x[:24] for x in a)[:90])
def test_no_input_ends_in_a_traceback(argv, files, capsys):
    code, _out, err = run([a.replace("{d}", str(files)) for a in argv], capsys)
    assert code in (0, 1, 2), err
    assert "Traceback" not in err and "internal error" not in err
    if code == 2:
        assert err.strip()


@pytest.mark.parametrize(
    ("name", "key", "needle"),
    [
        ("ph_int_key.yaml", "s", "placeholder names"),
        ("ph_text.yaml", "s", "cannot be called 'text'"),
        ("ph_base.yaml", "s", "cannot be called 'base_lr'"),
        ("ph_list.yaml", "s", "must be a mapping"),
        ("schedule_list.yaml", "s", "not the schedule text"),
        ("scalar.yaml", None, "the document is a int"),
        ("lst.yaml", "s.\u00b2", "has no key"),
    ],
)
def test_config_shapes_are_e0901(name, key, needle, files):
    with pytest.raises(lrdsl.LrdslError) as info:
        lrdsl.load(str(files / name), key)
    assert info.value.code == "E0901" and needle in info.value.message


def test_a_yaml_key_that_is_a_number_is_found_by_its_text(files):
    assert lrdsl.load(str(files / "int_keys.yaml"), "1")(0) == 1.0


@pytest.mark.parametrize("item", ["text=1", "base_lr=1", "total_steps=3"])
def test_d_cannot_fill_the_compile_context(item, capsys):
    name = item.split("=")[0]
    code, _, err = run(["eval", f"cosine(${name})", "--steps", "5", "-D", item], capsys)
    assert refused(code, err) and f"'{name}'" in err


def test_translate_k_cannot_name_the_commands_own_options(capsys):
    code, _, err = run(["translate", "cosine", "--num-training-steps", "100", "-k", "steps=3"], capsys)
    assert refused(code, err) and "--steps" in err


def test_metrics_garbage_names_the_line(files, capsys):
    code, _, err = run(["eval", PLATEAU, "--steps", "10", "--metrics", str(files / "m_garbage.txt")], capsys)
    assert refused(code, err) and "line 2" in err and "'abc'" in err


def test_metrics_only_the_lines_needed_are_read(tmp_path, capsys):
    metrics = tmp_path / "m.txt"
    metrics.write_text("1\n2\n3\nnot a number\n")
    code, _, err = run(["eval", PLATEAU, "--steps", "4", "--metrics", str(metrics), "--format", "json"], capsys)
    assert code == 0, err


# ---------------------------------------------------------------- 6. the last resort


def test_the_last_resort_catches_a_bug_without_a_traceback(monkeypatch, capsys):
    import lrdsl.tools.cli as cli

    def boom(args):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli, "_cmd_list", boom)
    code, _, err = run(["list"], capsys)
    assert code == 70 and "internal error" in err and "Traceback" not in err


def test_a_full_disk_under_stdout_is_exit_2(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "lrdsl.tools.cli", "eval", A, "--steps", "5", "--format", "csv"],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    assert proc.returncode == 2 and b"No space left" in proc.stderr and b"Traceback" not in proc.stderr


def test_json_output_is_unchanged(capsys):
    code, out, _ = run(["eval", A, "--steps", "3", "--format", "json", "--at", "0,9007199254740991"], capsys)
    assert code == 0 and json.loads(out)["step"] == [0, 9007199254740991]

"""The conformance corpus (tests/conformance/).

* ``valid/NAME.lrdsl``: a schedule after ``# context: {...}`` (the keyword
  arguments of ``lrdsl.compile``) and ``# expect: {"step": lr, ...}`` header
  lines.  The expected values come from torch/Keras scheduler objects or
  40-digit closed forms written from the README (``generate_valid.py``, run by
  hand, never by the tests, never importing lrdsl).  Both ``values()`` and the
  scalar ``sched(t)`` must match to ``rtol=1e-12`` with an absolute floor of
  ``1e-15 *`` the file's largest expected value, on every evaluator.
* ``invalid/NAME.lrdsl`` + ``NAME.expected``: exactly the input, and the
  diagnostic lrdsl gives for it (code, line, column, message, optional
  context): a snapshot, reviewed by eye, so a change in any message shows up
  as a diff.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from parity import mismatches

import lrdsl
import lrdsl.tools.cli
from lrdsl.errors import CODES
from lrdsl.primitives import REGISTRY

pytestmark = pytest.mark.usefixtures("backend")

CORPUS = Path(__file__).resolve().parent / "conformance"
VALID = sorted((CORPUS / "valid").glob("*.lrdsl"))
INVALID = sorted((CORPUS / "invalid").glob("*.lrdsl"))
# CLI-only (--steps too large), emitter-only, config-file-only (tests/test_tools.py)
NOT_CORPUS_CODES = {
    "E0207",
    "E0404",
    "E0608",
    "E0704",
    "E0801",
    "E0802",
    "E0901",
}  # plan, CLI, emitter and file codes: tested in their own files
# Lark's terminal names must never reach a user
TERMINAL_NAMES = re.compile(
    r"\b(?:NUMBER|PLACEHOLDER|NAME|COMMENT|COMMA|EQUAL|LPAR|RPAR|LSQB|RSQB|MINUS|PLUS|SEMICOLON|SLASH|STAR)\b"
    r"|__ANON|__IGNORE|\$END"
)
CARET_LINE = re.compile(r"^ *\d* *\| *\^+", re.MULTILINE)


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # no newline translation: positions and CRLF stay as written


def read_valid(path: Path) -> tuple[str, dict[str, object], dict[int, float]]:
    text = _read(path)
    context: dict[str, object] | None = None
    expect: dict[int, float] | None = None
    for line in text.splitlines():
        if line.startswith("# context:"):
            context = json.loads(line.removeprefix("# context:"))
        elif line.startswith("# expect:"):
            expect = {int(k): float(v) for k, v in json.loads(line.removeprefix("# expect:")).items()}
        elif not line.startswith("#"):
            break
    assert context is not None and expect, f"{path.name}: missing '# context:' or '# expect:' header"
    return text, context, expect


def read_invalid(path: Path) -> tuple[str, dict[str, object]]:
    return _read(path), json.loads(path.with_suffix(".expected").read_text(encoding="utf-8"))


def code_of(text: str) -> str:
    """The schedule without comments (for finding primitive names)."""
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def valid_failure(path: Path) -> str | None:
    """Why ``path`` fails, or None."""
    text, context, expect = read_valid(path)
    try:
        sched = lrdsl.compile(text, **context)  # type: ignore[arg-type]
    except lrdsl.LrdslError as err:
        return f"{path.name}: does not compile:\n{err.render()}"
    steps = np.array(sorted(expect), dtype=np.int64)
    want = np.array([expect[int(t)] for t in steps], dtype=np.float64)
    peak = float(np.max(np.abs(want)))
    problems = []
    for how, got in (
        ("values()", np.asarray(sched.values(steps), dtype=np.float64)),
        ("sched(t)", np.array([sched(int(t)) for t in steps], dtype=np.float64)),
    ):
        bad = mismatches(got, want, peak)
        problems += [
            f"  {how} at step {int(steps[i])}: expected {float(want[i])!r}, got {float(got[i])!r}"
            f" (relative error {abs(got[i] - want[i]) / max(abs(want[i]), 1e-300):.2e})"
            for i in bad
        ]
    if problems:
        return f"{path.name}: {text.splitlines()[-1].strip()!s}\n" + "\n".join(problems)
    return None


def invalid_failure(path: Path) -> str | None:
    text, expected = read_invalid(path)
    context = expected.get("context", {})
    try:
        lrdsl.compile(text, **context)
    except lrdsl.LrdslError as err:
        got = {"code": err.code, "line": err.line, "column": err.column, "message": err.message}
        want = {k: expected.get(k) for k in got}
        problems = [f"  {k}: expected {want[k]!r}, got {got[k]!r}" for k in got if got[k] != want[k]]
        rendered = err.render()
        if expected.get("line") is not None and not CARET_LINE.search(rendered):
            problems.append("  render() has no caret line")
        if "Traceback" in rendered or "Token(" in rendered or TERMINAL_NAMES.search(rendered):
            problems.append("  render() leaks internals")
        if problems:
            return f"{path.name}:\n" + "\n".join(problems) + "\n" + rendered
        return None
    except Exception as exc:  # anything but an LrdslError is a bug
        return f"{path.name}: raised {type(exc).__name__}: {exc}"
    return f"{path.name}: compiled without an error"


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid(path: Path) -> None:
    failure = valid_failure(path)
    assert failure is None, failure


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid(path: Path) -> None:
    failure = invalid_failure(path)
    assert failure is None, failure


def test_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """Every case once more, with a count per half (shown even under -q)."""
    valid = [valid_failure(p) for p in VALID]
    invalid = [invalid_failure(p) for p in INVALID]
    lines = []
    for name, results in (("valid", valid), ("invalid", invalid)):
        failed = [r for r in results if r is not None]
        lines.append(f"{name}: {len(results) - len(failed)} passed, {len(failed)} failed")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    failures = [r for r in valid + invalid if r is not None]
    assert not failures, "\n".join(lines) + "\n" + "\n".join(failures)


def test_corpus_covers_every_code_and_primitive() -> None:
    assert len(VALID) >= 150, len(VALID)
    assert len(INVALID) >= 150, len(INVALID)
    codes = {json.loads(p.with_suffix(".expected").read_text(encoding="utf-8"))["code"] for p in INVALID}
    missing_codes = set(CODES) - NOT_CORPUS_CODES - codes
    assert not missing_codes, f"error codes without an invalid case: {sorted(missing_codes)}"
    assert codes <= set(CODES), sorted(codes - set(CODES))
    schedules = [code_of(_read(p)) for p in VALID]
    missing = [name for name in REGISTRY if not any(re.search(rf"\b{name}\s*\(", text) for text in schedules)]
    assert not missing, f"primitives without a valid case: {missing}"
    for p in INVALID:  # every case has its expectation, and nothing else lies around
        assert p.with_suffix(".expected").is_file(), p.name
    stray = {p.stem for p in (CORPUS / "invalid").glob("*.expected")} - {p.stem for p in INVALID}
    assert not stray, sorted(stray)


def test_invalid_cases_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    """``lrdsl check @FILE`` exits 2 with the same diagnostic (for cases that
    need no compile context, which the CLI would have to be told)."""
    checked = 0
    failures = []
    for path in INVALID:
        _text, expected = read_invalid(path)
        if expected.get("context"):
            continue
        checked += 1
        status = lrdsl.tools.cli.main(["explain", "@" + str(path)])
        _out, err = capsys.readouterr()
        wanted = [f"error[{expected['code']}]: {expected['message']}"]
        if expected["line"] is not None:
            wanted.append(f"--> line {expected['line']}, column {expected['column']}")
        missing = [w for w in wanted if w not in err]
        if status != 2 or missing or "Traceback" in err:
            failures.append(f"{path.name}: exit {status}, missing {missing}\n{err}")
    assert checked >= 100, checked
    assert not failures, f"{len(failures)} of {checked} cases fail through the CLI:\n" + "\n".join(failures)

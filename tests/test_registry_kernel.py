"""The registry is the one source of the kernel's glue: the opcode enum and
dispatch tables are generated from it and up to date, every primitive has its
slots, check and C case, and a primitive without its C function does not build.
"""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

import lrdsl
from lrdsl import _gen_kernel
from lrdsl.backends.lower import lower, validate
from lrdsl.primitives import CATALOGUE

ROOT = Path(__file__).resolve().parent.parent
KERNEL_PRIMS = [p for p in CATALOGUE if p.kind != "combinator"]


def test_generated_glue_and_tables_are_up_to_date() -> None:
    stale = [str(path.relative_to(ROOT)) for path, text in _gen_kernel.outputs().items() if path.read_text() != text]
    assert not stale, f"regenerate with `python -m lrdsl._gen_kernel`: {stale}"


@pytest.mark.parametrize("prim", KERNEL_PRIMS, ids=lambda p: p.name)
def test_every_primitive_declares_its_kernel_case(prim) -> None:  # type: ignore[no-untyped-def]
    assert prim.opcode > 0 and prim.slots is not None and prim.check is not None
    text = (ROOT / "ext" / "lrdsl_prims.c").read_text() + (ROOT / "ext" / "lrdsl_cycles.c").read_text()
    assert f"lrp_{prim.kernel_name}_scalar(" in text
    if prim.vector:
        assert f"lrp_{prim.kernel_name}_range(" in text


def test_the_kernel_exports_the_registry() -> None:
    kernel = pytest.importorskip("lrdsl._kernel")
    want = {p.kernel_name: p.opcode for p in CATALOGUE}
    assert {k: v for k, v in kernel.OPCODES.items() if k in want} == want
    assert set(kernel.VECTOR) == {p.kernel_name for p in KERNEL_PRIMS if p.vector}


def test_lowered_programs_pass_their_own_checks() -> None:
    for text in (
        "warmup(5) >> cosine_restarts(10, t_mul=2, m_mul=0.9) >> const(1e-6)",
        "one_cycle(100, max=1) >> piecewise([3, 9], [1, 0.5, 0.1]) >> multistep([5], gamma=0.5)",
        "warmup(4, shape=exp, start=0.01) >> plateau(patience=2)",
        "max(exp(0.9), inverse_time(3, 0.5)) >> poly(9, power=2) >> noam(7, d_model=64)",
        "cyclic(3, low=0.1) + inverse_sqrt(20, warmup=5) + step(4) + linear(9) + hold(5)",
    ):
        assert validate(*lower(lrdsl.compile(text, total_steps=300).program.root)) >= 0


def _syntax_check(tmp_path: Path, dispatch: str) -> subprocess.CompletedProcess[str]:
    for name in ("lrdsl_prims.c", "lrdsl_cycles.c", "lrdsl_math.h", "lrdsl_kernel.h", "lrdsl_ops.h"):
        shutil.copy(ROOT / "ext" / name, tmp_path / name)
    (tmp_path / "lrdsl_dispatch.inc").write_text(dispatch)
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    args = [cc, "-fsyntax-only", "-Werror=implicit-function-declaration", f"-I{tmp_path}"]
    args += [f"-I{sysconfig.get_paths()['include']}", str(tmp_path / "lrdsl_prims.c")]
    return subprocess.run(args, capture_output=True, text=True)


def test_a_primitive_without_its_c_function_does_not_build(tmp_path: Path) -> None:
    good = _gen_kernel.dispatch()
    assert _syntax_check(tmp_path, good).returncode == 0
    # the dispatch the generator would write for a registry with one more primitive
    bad = good.replace(
        "    }\n    return NAN;",
        "    case 99:\n        return lrp_tanh_scalar(f, nf, ip, ni, t);\n    }\n    return NAN;",
        1,
    )
    result = _syntax_check(tmp_path, bad)
    assert result.returncode != 0 and "lrp_tanh_scalar" in result.stderr

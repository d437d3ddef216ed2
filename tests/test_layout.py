"""The layout shows the pipeline and stays small: stage folders, no module
over 400 lines and no function over 80 (Python and C), and no import edge
from the core to an emitter (the core reaches them through lrdsl.emit)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lrdsl"
MAX_MODULE = 400
MAX_FUNCTION = 80
GENERATED = {PACKAGE / "language" / "_tables.py"}
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p not in GENERATED)
C_SOURCES = sorted([*ROOT.glob("ext/*.c"), *ROOT.glob("ext/*.h"), *ROOT.glob("ext/*.pyx")])
C_SOURCES = [p for p in C_SOURCES if p.name != "_kernel.c"]  # Cython's output
#: the core: it must never import an emitter module (or its public shim)
CORE = ("lrdsl/language/", "lrdsl/primitives/", "lrdsl/backends/", "lrdsl/schedule.py", "lrdsl/reactive.py")
EMITTERS = (
    *(
        f"lrdsl.emit.{m}"
        for m in ("torch", "keras", "jax", "torch_fn", "lightning", "hf", "accelerate", "timm_adapter")
    ),
    *(f"lrdsl.{m}" for m in ("torch", "keras", "jax", "lightning", "hf", "timm")),
)


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_stage_folders_exist() -> None:
    for folder in ("language", "primitives", "backends", "emit", "translate", "tools"):
        assert (PACKAGE / folder / "__init__.py").exists(), folder
    # the flat modules are the public entry points; a shim (``lrdsl.torch``: a public
    # import path re-exporting an emitter) is a few lines, anything else lives in a stage
    flat = sorted(p.name for p in PACKAGE.glob("*.py") if len(p.read_text(encoding="utf-8").splitlines()) > 12)
    assert len(flat) <= 8, flat


@pytest.mark.parametrize("path", SOURCES + C_SOURCES, ids=rel)
def test_no_module_over_400_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE, f"{rel(path)} has {lines} lines"


@pytest.mark.parametrize("path", SOURCES, ids=rel)
def test_no_python_function_over_80_lines(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"  # type: ignore[operator]
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION  # type: ignore[operator]
    ]
    assert not long, f"{rel(path)}: {', '.join(long)}"


C_FUNCTION = re.compile(r"^[A-Za-z][\w \*]*\b(\w+)\([^;]*\)\s*\{", re.M)


@pytest.mark.parametrize("path", [p for p in C_SOURCES if p.suffix == ".c"], ids=rel)
def test_no_c_function_over_80_lines(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    long = []
    for m in C_FUNCTION.finditer(text):
        depth, i = 0, m.end() - 1
        while i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                break
            i += 1
        n = text.count("\n", m.start(), i) + 1
        if n > MAX_FUNCTION:
            long.append(f"{m.group(1)} ({n} lines)")
    assert not long, f"{rel(path)}: {', '.join(long)}"


def _imports(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it (functions included), absolute."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    package = parts[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.add(mod)
            found.update(f"{mod}.{a.name}" for a in node.names)
    return found


def test_the_core_never_imports_an_emitter() -> None:
    edges = []
    for path in SOURCES:
        if rel(path).startswith(CORE):
            bad = sorted(m for m in _imports(path) if m in EMITTERS or m.startswith(tuple(e + "." for e in EMITTERS)))
            edges += [f"{rel(path)} -> {m}" for m in bad]
    assert not edges, edges


def test_the_kernel_does_not_call_back_into_the_schedule() -> None:
    text = (ROOT / "ext" / "_kernel.pyx").read_text(encoding="utf-8")
    assert "schedule" not in re.findall(r"from \.(\w+)", text)


def test_no_module_is_shadowed_by_a_function() -> None:
    """``import lrdsl.x.y as m`` gives the module, never a same-named function."""
    import importlib

    for path in SOURCES:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] in ("__init__", "__main__"):
            continue
        parent = importlib.import_module(".".join(parts[:-1]))
        value = getattr(parent, parts[-1], None)
        module = importlib.import_module(".".join(parts)) if parts[-1] not in ("torch", "keras", "jax") else None
        assert value is None or module is None or value is module, f"{'.'.join(parts)} is shadowed by {value!r}"

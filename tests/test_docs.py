"""The README stays true: its primitive table is the registry's."""

from __future__ import annotations

from pathlib import Path

from lrdsl.tools.cli import code_table, primitive_table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_primitive_table_is_generated_from_the_registry():
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- primitives:start -->") + len("<!-- primitives:start -->\n")
    end = text.index("<!-- primitives:end -->")
    assert text[start:end].strip() == primitive_table().strip(), "regenerate: lrdsl list --markdown"


def test_readme_opens_with_the_two_setup_commands():
    text = README.read_text(encoding="utf-8")
    blocks = text.split("## Set up", 1)[1].split("## ", 1)[0].split("```")[1::2]
    commands = [b.strip() for b in blocks]
    assert len(commands) == 2
    assert commands[0].startswith("pip install -e . && lrdsl eval ")
    assert commands[1] == 'pip install -e ".[test]" && pytest'


def test_readme_error_code_table_is_generated_from_the_codes():
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- codes:start -->") + len("<!-- codes:start -->\n")
    end = text.index("<!-- codes:end -->")
    assert text[start:end].strip() == code_table().strip()

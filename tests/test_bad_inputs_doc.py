"""docs/BAD_INPUTS.md against the tests: every test it names exists, and the message it quotes (between backticks in
the middle column) appears in that test's source, so the table cannot drift from what the tests assert."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "BAD_INPUTS.md"
ROW = re.compile(r"^\| (.+?) \| (.+) \| `(tests/[^`:]+)::(\w+)` \|$", re.MULTILINE)


def _rows() -> list[tuple[str, str, str, str]]:
    return ROW.findall(DOC.read_text(encoding="utf-8"))


def _test_source(path: Path, name: str) -> str | None:
    """The source of test function ``name`` in ``path``, its decorators (parametrize tables) included."""
    text = path.read_text(encoding="utf-8")
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
            return "\n".join(text.splitlines()[first - 1 : node.end_lineno])
    return None


def test_the_table_has_rows() -> None:
    assert len(_rows()) >= 30


@pytest.mark.parametrize(("bad_input", "seen", "path", "name"), _rows(), ids=lambda value: str(value)[:40])
def test_each_row_is_proved_by_its_test(bad_input: str, seen: str, path: str, name: str) -> None:
    source = _test_source(ROOT / path, name)
    assert source is not None, f"{bad_input}: no test {name} in {path}"
    for quoted in re.findall(r"`([^`]+)`", seen):
        assert quoted in source or quoted.replace("'", '"') in source, f"{bad_input}: {quoted!r} not in {path}::{name}"


def test_the_readme_links_the_table() -> None:
    assert "docs/BAD_INPUTS.md" in (ROOT / "README.md").read_text(encoding="utf-8")

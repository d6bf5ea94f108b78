"""The README, the user guide, against the code: the options table matches ``pytest --help``, the two commands and
the picture are there, and no path of one particular machine leaked in."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
OPTION_ROW = re.compile(r"^\| `(--ttpose-[a-z-]+)(?:=[^`]+)?` \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$", re.MULTILINE)


def _help_blocks(help_text: str) -> dict[str, str]:
    """``--ttpose-*`` flag -> its help text on one line, from the ttpose group of ``pytest --help``."""
    section = help_text.split("pytest-ttpose:", 1)[1].split("\n\n", 1)[0]
    blocks: dict[str, str] = {}
    current = None
    for line in section.splitlines()[1:]:
        match = re.match(r"^  (--ttpose-[a-z-]+)(?:=\S+)?\s*(.*)$", line)
        if match:
            current = match.group(1)
            blocks[current] = match.group(2)
        elif current is not None:
            blocks[current] += " " + line.strip()
    return {flag: " ".join(text.split()) for flag, text in blocks.items()}


@pytest.fixture(scope="module")
def pytest_help() -> str:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    environment["COLUMNS"] = "100"
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return completed.stdout


@pytest.fixture(scope="module")
def readme_options() -> dict[str, tuple[str, str, str]]:
    rows = {
        flag: (ini.strip(), default.strip(), meaning.strip())
        for flag, ini, default, meaning in OPTION_ROW.findall(README)
    }
    assert rows, "the README has no options table (rows like | `--ttpose-...` | ini key | default | meaning |)"
    return rows


def test_the_options_table_lists_exactly_the_options_of_pytest_help(
    pytest_help: str, readme_options: dict[str, tuple[str, str, str]]
) -> None:
    assert sorted(readme_options) == sorted(_help_blocks(pytest_help))


def test_the_ini_keys_of_the_table_are_those_pytest_help_names(
    pytest_help: str, readme_options: dict[str, tuple[str, str, str]]
) -> None:
    for flag, text in _help_blocks(pytest_help).items():
        match = re.search(r"Ini key: (\w+)", text)
        expected = f"`{match.group(1)}`" if match else "-"
        assert readme_options[flag][0] == expected, f"{flag}: README ini key {readme_options[flag][0]}, help {expected}"
        if match:
            assert re.search(rf"^  {match.group(1)} \(", pytest_help, re.MULTILINE), f"ini key {match.group(1)} missing"


def test_the_defaults_of_the_table_are_those_pytest_help_shows(
    pytest_help: str, readme_options: dict[str, tuple[str, str, str]]
) -> None:
    for flag, text in _help_blocks(pytest_help).items():
        match = re.search(r"Default: (\S+?)\.(?: |$)", text)
        if match:
            assert readme_options[flag][1] == match.group(1), f"{flag}: README default {readme_options[flag][1]!r}"


def test_the_two_commands_are_there() -> None:
    assert "./dev suites" in README and "./dev tests" in README


def test_dp_selection_and_the_dry_run_are_documented() -> None:
    for text in ("-k dp", "-m ttpose_dp", "--ttpose-backend=ttnn-mock", "--ttpose-update-baselines"):
        assert text in README, text


def test_the_picture_it_shows_is_committed() -> None:
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert "docs/bus_comparison.png" in pictures
    for picture in pictures:
        assert (ROOT / picture).is_file(), picture


def test_no_machine_paths() -> None:
    leaked = re.findall(r"(?:/work/|/root/|/home/\w+|/tmp/|[A-Z]:\\\\)\S*", README)
    assert not leaked, leaked

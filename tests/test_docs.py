"""Every document the code cites exists in the repository (a cited file the repo lacks misleads the reader)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITED = re.compile(r"\b((?:[\w-]+/)*[\w-]+\.md)\b")


def cited_documents() -> dict[str, list[str]]:
    cited: dict[str, list[str]] = {}
    for folder in ("pytest_ttpose", "suites", "tests", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                for name in CITED.findall(line):
                    cited.setdefault(name, []).append(f"{path.relative_to(ROOT)}:{number}")
    return cited


def test_every_document_the_code_cites_exists() -> None:
    cited = cited_documents()
    assert "docs/ARCHITECTURE.md" in cited, "the code should point readers at docs/ARCHITECTURE.md"
    # A path into another repository (tt-metal's models/..., tech_reports/...) is a source, not one of ours.
    ours = {name: places for name, places in cited.items() if "/" not in name or name.startswith("docs/")}
    missing = {
        name: places
        for name, places in ours.items()
        if not (ROOT / name).is_file() and not (ROOT / "docs" / name).is_file()
    }
    assert not missing, f"cited but not in the repository: {missing}"

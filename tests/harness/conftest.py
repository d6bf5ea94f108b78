"""pytester setup for the plugin's tests: each nested run gets the fake backend as its conftest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FAKE_BACKEND_SOURCE = Path(__file__).with_name("fake_backend.py").read_text(encoding="utf-8")


@pytest.fixture
def fake_tester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester whose runs use the fake backend (2 devices unless FAKE_TT_DEVICES says otherwise)."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    monkeypatch.setenv("FAKE_TT_DEVICES", "2")
    pytester.makeconftest(FAKE_BACKEND_SOURCE)
    pytester.makeini("[pytest]\nttpose_backend = fake\n")
    return pytester


@pytest.fixture
def device_log(pytester: pytest.Pytester) -> Any:
    """Read the fake backend's log as a list of ``(process, event, label)``: opens, closes and builds, and with
    ``program_cache=True`` also the program-cache clears."""

    def read(program_cache: bool = False) -> list[tuple[str, str, str]]:
        path = pytester.path / "device_log.txt"
        if not path.exists():
            return []
        entries = [tuple(line.split()) for line in path.read_text().splitlines()]
        return [e for e in entries if program_cache or e[1] != "clear-programs"]  # type: ignore[misc]

    return read


@pytest.fixture
def baseline_json(pytester: pytest.Pytester) -> Any:
    """Path, loader and writer for the fake backend's baseline file under ``baselines/``."""

    class Baselines:
        path = pytester.path / "baselines" / "fake_fakearch_mesh1x2_ttnn-fake-1.json"
        fingerprint = {"arch": "fakearch", "backend": "fake", "mesh_shape": "1x2", "ttnn": "fake-1"}

        def write(self, entries: dict[str, Any]) -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            document = {"schema": "pytest-ttpose/baselines/1", "fingerprint": self.fingerprint, "entries": entries}
            self.path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")

        def read(self) -> dict[str, Any]:
            return json.loads(self.path.read_text())["entries"]

    return Baselines()

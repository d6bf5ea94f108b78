"""Running the suites with the plugin switched off is one usage error that says so, not a "fixture 'ttpose_point' not
found" error per case."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_suites_with_the_plugin_off_say_it_is_off() -> None:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "suites", "-p", "no:ttpose", "-p", "no:cacheprovider", "--co", "-q"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR, completed.stdout + completed.stderr
    assert "need the pytest-ttpose plugin, and it is off in this run (-p no:ttpose" in completed.stderr
    assert "fixture 'ttpose_point' not found" not in completed.stdout

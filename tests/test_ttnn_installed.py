"""The real ttnn is installed and reported, and CI refuses to skip the tests that need it."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest


def test_import_ttnn_gives_the_real_package_0_81(real_ttnn: ModuleType) -> None:
    version = importlib.metadata.version("ttnn")
    assert version.startswith("0.81."), f"pytest-ttpose is built against ttnn 0.81.x, found {version}"
    assert real_ttnn.__file__ is not None, "`import ttnn` gave a namespace package, not the installed ttnn"
    package_dir = Path(real_ttnn.__file__).resolve().parent
    installed = {"site-packages", "dist-packages"} & set(package_dir.parts)
    assert package_dir.name == "ttnn" and installed, (
        f"`import ttnn` resolved to {package_dir}, not an installed package"
    )
    compiled = sys.modules.get("ttnn._ttnn")
    assert compiled is not None and Path(str(compiled.__file__)).suffix == ".so", "ttnn's compiled core was not loaded"
    for name in ("from_torch", "to_torch", "open_device", "conv2d", "bfloat8_b", "TILE_LAYOUT"):
        assert hasattr(real_ttnn, name), f"real ttnn lacks {name}"


@pytest.mark.requires_ttnn
def test_report_header_prints_the_ttnn_version(pytestconfig: pytest.Config) -> None:
    lines: list[str] = []
    for result in pytestconfig.hook.pytest_report_header(config=pytestconfig, start_path=pytestconfig.rootpath):
        lines.extend([result] if isinstance(result, str) else result)
    expected = f"ttnn: {importlib.metadata.version('ttnn')}"
    assert any(line.startswith(expected) for line in lines), f"no header line starts with {expected!r}: {lines}"


def _report(nodeid: str, *, skipped: bool, requires_ttnn: bool, xfail: bool = False) -> SimpleNamespace:
    report = SimpleNamespace(nodeid=nodeid, skipped=skipped, keywords={"requires_ttnn": 1} if requires_ttnn else {})
    if xfail:
        report.wasxfail = "expected"
    return report


def test_ci_fails_when_a_requires_ttnn_test_was_skipped(ttnn_skip_guard_type: type) -> None:
    guard = ttnn_skip_guard_type()
    guard.record(_report("tests/a.py::needs_ttnn", skipped=True, requires_ttnn=True))
    guard.record(_report("tests/a.py::needs_ttnn", skipped=True, requires_ttnn=True))  # setup + teardown reports
    guard.record(_report("tests/a.py::plain_skip", skipped=True, requires_ttnn=False))
    guard.record(_report("tests/a.py::ran", skipped=False, requires_ttnn=True))
    guard.record(_report("tests/a.py::xfailed", skipped=True, requires_ttnn=True, xfail=True))

    message = guard.failure_message({"CI": "true"})
    assert message is not None and "1 test(s)" in message and "tests/a.py::needs_ttnn" in message
    assert "plain_skip" not in message and "xfailed" not in message
    assert guard.failure_message({}) is None, "outside CI a skip with a clear reason is allowed"
    assert guard.failure_message({"CI": "false"}) is None


def test_ci_passes_when_nothing_that_needs_ttnn_was_skipped(ttnn_skip_guard_type: type) -> None:
    guard = ttnn_skip_guard_type()
    guard.record(_report("tests/a.py::ran", skipped=False, requires_ttnn=True))
    guard.record(_report("tests/a.py::plain_skip", skipped=True, requires_ttnn=False))
    assert guard.failure_message({"CI": "true"}) is None


def test_sessionfinish_turns_a_green_ci_run_red(
    pytestconfig: pytest.Config, ttnn_skip_guard_type: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    conftest = next(
        p for p in pytestconfig.pluginmanager.get_plugins() if getattr(p, "TtnnSkipGuard", None) is ttnn_skip_guard_type
    )
    guard = ttnn_skip_guard_type()
    guard.record(_report("tests/a.py::needs_ttnn", skipped=True, requires_ttnn=True))
    monkeypatch.setattr(conftest, "_guard", guard)
    monkeypatch.setenv("CI", "true")
    session = SimpleNamespace(exitstatus=pytest.ExitCode.OK)
    conftest.pytest_sessionfinish(session, pytest.ExitCode.OK)
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED

    monkeypatch.delenv("CI")
    session = SimpleNamespace(exitstatus=pytest.ExitCode.OK)
    conftest.pytest_sessionfinish(session, pytest.ExitCode.OK)
    assert session.exitstatus == pytest.ExitCode.OK

"""Shared test configuration: the ``requires_ttnn`` marker, the ttnn version in the header, and the CI rule.

Tests that need the real ttnn package carry ``@pytest.mark.requires_ttnn`` (or use the ``real_ttnn`` fixture,
which adds the marker). Where ttnn cannot be imported they are skipped with a reason that says how to install it;
under ``CI=true`` any such skip turns the session into a failure, because CI promises to run them.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import pytest

# The plugin's own tests drive nested pytest runs; pytest only accepts this line in the top conftest.
pytest_plugins = ["pytester"]

REQUIRES_TTNN = "requires_ttnn"
TTNN_MISSING_REASON = (
    "needs the real ttnn package (0.81.x), which is not importable here: {error}. "
    "Install it with `pip install 'pytest-ttpose[ttnn]'` (wheels exist for Python 3.10 and 3.12 only). "
    "Under CI=true a skip of this test fails the run."
)


def _ttnn_import_error() -> str | None:
    """None when ``import ttnn`` works, else the reason it does not (imported once, then cached by Python)."""
    try:
        importlib.import_module("ttnn")
    except Exception as error:  # a broken install raises more than ImportError; the reason goes to the skip
        return f"{type(error).__name__}: {error}"
    return None


class TtnnSkipGuard:
    """Collects skipped ``requires_ttnn`` tests and decides whether they fail the session."""

    def __init__(self) -> None:
        self.skipped: list[str] = []

    def record(self, report: Any) -> None:
        """Note a test report (setup, call or teardown phase) of a skipped ``requires_ttnn`` test."""
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        if REQUIRES_TTNN in report.keywords and report.nodeid not in self.skipped:
            self.skipped.append(report.nodeid)

    def failure_message(self, environ: Mapping[str, str]) -> str | None:
        """The reason to fail the session, or None. Only CI (``CI=true``) insists on the real ttnn."""
        if environ.get("CI", "").lower() != "true" or not self.skipped:
            return None
        listed = "\n  ".join(self.skipped)
        return f"CI=true but {len(self.skipped)} test(s) that need the real ttnn were skipped:\n  {listed}"


_guard = TtnnSkipGuard()


@pytest.hookimpl(tryfirst=True)  # before the ttpose plugin reads its options
def pytest_configure(config: pytest.Config) -> None:
    # The project's own tests compare the emulator with the real ttnn in one process: `import ttnn` must stay the
    # installed package here (the suites' sessions, and nested pytester runs, alias it to the emulator).
    if hasattr(config.option, "ttpose_import_ttnn"):
        config.option.ttpose_import_ttnn = "installed"
    config.addinivalue_line(
        "markers", f"{REQUIRES_TTNN}: needs the real ttnn package; skipped without it, and CI fails if skipped"
    )
    _guard.skipped.clear()


def pytest_report_header(config: pytest.Config) -> str:
    try:
        return f"ttnn: {importlib.metadata.version('ttnn')} (real package)"
    except importlib.metadata.PackageNotFoundError:
        return f"ttnn: not installed; tests marked {REQUIRES_TTNN} will be skipped (and fail the run under CI=true)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "real_ttnn" in getattr(item, "fixturenames", ()):
            item.add_marker(REQUIRES_TTNN)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker(REQUIRES_TTNN) is not None:
        error = _ttnn_import_error()
        if error is not None:
            pytest.skip(TTNN_MISSING_REASON.format(error=error))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _guard.record(report)  # with pytest-xdist the controller receives every worker's reports here


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _guard.failure_message(os.environ) is not None and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    message = _guard.failure_message(os.environ)
    if message is not None:
        terminalreporter.section(REQUIRES_TTNN, red=True, bold=True)
        terminalreporter.write_line(message, red=True)


@pytest.fixture(scope="session")
def real_ttnn() -> ModuleType:
    """The real ttnn module (tests using this fixture are marked ``requires_ttnn`` automatically)."""
    return importlib.import_module("ttnn")


@pytest.fixture
def ttnn_skip_guard_type() -> type[TtnnSkipGuard]:
    """The CI skip rule's class, so its logic can be unit-tested without running a nested pytest."""
    return TtnnSkipGuard

"""pytest entry point (``-p ttpose``, disable with ``-p no:ttpose``). Hooks only; the work lives in plain modules.

Importing this module loads neither torch nor ttnn nor ultralytics: they load when a ttpose fixture is first used.
"""

from __future__ import annotations

from collections.abc import Generator
from types import ModuleType
from typing import Any

import pytest

from pytest_ttpose import hookspec, options


def _impl() -> ModuleType:
    """The hook implementations, imported on first use so that importing the plugin stays cheap."""
    from pytest_ttpose import collection

    return collection


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Add the ``pytest_ttpose_*`` hookspecs (https://docs.pytest.org/en/stable/reference/reference.html#pytest_addhooks)."""
    pluginmanager.add_hookspecs(hookspec)


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``--ttpose-*`` options and their ini mirrors."""
    options.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Register the fixtures and marker, resolve the options (usage errors here), set up the session state."""
    _impl().configure(config)


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Backend, arch, devices, ttnn version, baseline file, update mode and matrix."""
    return _impl().header_lines(config)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under pytest-xdist, validate the baseline file on the controller before workers start."""
    _impl().check_baselines_before_workers(session)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize tests that request ``ttpose_point`` / ``ttpose_dtype_pair`` over the matrix."""
    _impl().parametrize(metafunc)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark data-parallel cases before -k/-m deselection runs, skip impossible ones, order them last."""
    _impl().modify_items(config, items)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Validate the baseline file before any case runs."""
    _impl().load_baselines(session)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Record each phase's outcome in the case's result."""
    report = yield
    _impl().record_phase(item, report)
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Workers publish their results; the controller writes baselines (on request) and the JSON report once."""
    _impl().finish(session, exitstatus)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The ttpose table, printed once by the controller."""
    _impl().terminal_summary(terminalreporter, config)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Close any device still open (after an interrupted session fixture teardown)."""
    _impl().unconfigure(config)

"""pytest entry point (``-p ttpose``, disable with ``-p no:ttpose``): hooks only, each delegating to the harness.

``pytest_configure`` registers a ``SessionHooks`` object (``pytest_ttpose.harness.hooks``) that carries the rest of
the session's hooks. Importing this module loads neither torch nor ttnn nor ultralytics: they load when a ttpose
fixture is first used.
"""

from __future__ import annotations

import pytest

from pytest_ttpose.harness import hooks, hookspec, options


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Add the ``pytest_ttpose_*`` hookspecs (https://docs.pytest.org/en/stable/reference/reference.html#pytest_addhooks)."""
    pluginmanager.add_hookspecs(hookspec)


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``--ttpose-*`` options and their ini mirrors."""
    options.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Register the fixtures and marker, resolve the options (usage errors here), register the session's hooks."""
    hooks.configure(config)

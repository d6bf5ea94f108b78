"""Extension points of pytest-ttpose, added through ``pytest_addhooks``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_ttpose.harness.backends import BackendFactory


@pytest.hookspec
def pytest_ttpose_add_backends(backends: dict[str, BackendFactory]) -> None:
    """Add or replace backends by name before the options are resolved.

    ``backends`` maps the ``--ttpose-backend`` name to a factory taking a ``BackendRequest`` and returning a
    ``pytest_ttpose.harness.backends.Backend``. Implement it in a ``conftest.py`` or a plugin to run the suites on a
    device layer of your own (the plugin's own tests plug a fake backend in this way).
    """

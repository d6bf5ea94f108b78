"""The validation suites are written for the pytest-ttpose plugin. With it switched off (``-p no:ttpose``) or not
installed, every case would fail on its own with "fixture 'ttpose_point' not found"; one usage error says why instead.

This conftest is the place for it because only the suites need the plugin: ``pytest tests`` and other projects'
test runs with ``-p no:ttpose`` never load it.
"""

from __future__ import annotations

import pytest

PLUGIN = "ttpose"


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin(PLUGIN):
        raise pytest.UsageError(
            "the suites under suites/ need the pytest-ttpose plugin, and it is off in this run (-p no:ttpose, or "
            "the package is not installed): drop -p no:ttpose, or install it with pip install -e ."
        )

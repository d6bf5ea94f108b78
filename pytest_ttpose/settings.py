"""Deprecated home of the option settings: use ``pytest_ttpose.harness.settings``. Kept for one release."""

from __future__ import annotations

import warnings

from pytest_ttpose.harness.settings import *  # noqa: F403 - the shim re-exports the whole public module
from pytest_ttpose.harness.settings import __all__  # noqa: F401

warnings.warn(
    "pytest_ttpose.settings moved to pytest_ttpose.harness.settings; import it from there "
    "(the old name goes away in the next release)",
    DeprecationWarning,
    stacklevel=2,
)

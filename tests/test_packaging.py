"""The package metadata builds without deprecation warnings: ``project.license`` is an SPDX expression (PEP 639),
not the deprecated ``{ text = ... }`` table."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_license_is_an_spdx_expression_without_warnings() -> None:
    pyprojecttoml = pytest.importorskip("setuptools.config.pyprojecttoml")
    from setuptools.dist import Distribution

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        distribution = pyprojecttoml.apply_configuration(Distribution(), ROOT / "pyproject.toml")
    assert distribution.metadata.license_expression == "Apache-2.0"
    license_warnings = [str(w.message) for w in caught if "license" in str(w.message).lower()]
    assert not license_warnings, license_warnings

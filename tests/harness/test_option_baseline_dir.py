"""--ttpose-baseline-dir (and its ini key): where the fingerprint's baseline file is read and written."""

from __future__ import annotations

import json

import pytest

PCC_TEST = """
def test_alpha(ttpose_check):
    ttpose_check.pcc_values({"all": 0.995})
"""
FILE_NAME = "fake_fakearch_mesh1x2_ttnn-fake-1.json"


def test_cli_dir_is_written(fake_tester: pytest.Pytester) -> None:
    fake_tester.makepyfile(PCC_TEST)
    result = fake_tester.runpytest("--ttpose-baseline-dir=store/here", "--ttpose-update-baselines")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"ttpose: baselines *store/here/{FILE_NAME} [[]UPDATE*"])
    written = json.loads((fake_tester.path / "store" / "here" / FILE_NAME).read_text())
    assert written["entries"] == {"test_cli_dir_is_written.py::test_alpha": {"pcc": {"all": 0.995}}}


def test_ini_dir_is_relative_to_the_ini_and_read(fake_tester: pytest.Pytester) -> None:
    fake_tester.makeini("[pytest]\nttpose_backend = fake\nttpose_baseline_dir = refs\n")
    fake_tester.makepyfile(PCC_TEST)
    fake_tester.runpytest("--ttpose-update-baselines").assert_outcomes(passed=1)
    assert (fake_tester.path / "refs" / FILE_NAME).is_file()
    result = fake_tester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"ttpose: baselines *refs/{FILE_NAME} [[]read-only[]]"])

"""The session header: backend, arch, device ids and mesh, ttnn version, baseline file, update mode, matrix."""

from __future__ import annotations

import importlib.metadata

import pytest


def test_header_contents(fake_tester: pytest.Pytester) -> None:
    try:
        ttnn_version = importlib.metadata.version("ttnn")
    except importlib.metadata.PackageNotFoundError:
        ttnn_version = "not installed"
    result = fake_tester.runpytest("--ttpose-device=1", "--ttpose-dtypes=bfloat16", "--ttpose-batch-sizes=1,2")
    result.stdout.fnmatch_lines(
        [
            f"ttpose: backend fake, arch fakearch, device 1 of 2, mesh 1x2, ttnn {ttnn_version}",
            "ttpose: baselines *baselines/fake_fakearch_mesh1x2_ttnn-fake-1.json [[]read-only[]]",
            "ttpose: matrix model n x dtypes bfloat16/bfloat16 x resolutions 640x640,320x320 x batch 1,2 = 4 points",
        ]
    )


def test_header_shows_update_mode(fake_tester: pytest.Pytester) -> None:
    result = fake_tester.runpytest("--ttpose-update-baselines")
    result.stdout.fnmatch_lines(["ttpose: baselines *.json [[]UPDATE (entries of the tests that run are rewritten)[]]"])


def test_no_summary_section_without_ttpose_cases(fake_tester: pytest.Pytester) -> None:
    fake_tester.makepyfile("def test_plain():\n    pass\n")
    result = fake_tester.runpytest()
    result.assert_outcomes(passed=1)
    assert "ttpose summary" not in result.stdout.str()

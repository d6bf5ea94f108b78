"""Data-parallel cases: `_dp` names, the ttpose_dp marker, exact -k dp / -m ttpose_dp selection, skips, order."""

from __future__ import annotations

import pytest

CASES = """
def test_pose(ttpose_point, ttpose_device):
    pass

def test_pose_dp(ttpose_point, ttpose_mesh_device):
    pass

def test_mesh_only_dp(ttpose_mesh_device):
    pass

def test_unrelated():
    pass
"""


def selected(result: pytest.RunResult) -> list[str]:
    return [line.split("::", 1)[1] for line in result.outlines if "::" in line]


@pytest.mark.parametrize("selection", [["-k", "dp"], ["-m", "ttpose_dp"]])
def test_selection_is_exactly_the_dp_cases(fake_tester: pytest.Pytester, selection: list[str]) -> None:
    fake_tester.makepyfile(test_cases=CASES)
    names = selected(
        fake_tester.runpytest("--co", "-q", "--ttpose-dtypes=bfloat16", "--ttpose-batch-sizes=1", *selection)
    )
    assert names == [
        "test_pose_dp[n-640x640-b1-bfloat16-bfloat16]",
        "test_pose_dp[n-320x320-b1-bfloat16-bfloat16]",
        "test_mesh_only_dp",
    ]


def test_dp_cases_run_last_so_each_device_opens_once(fake_tester: pytest.Pytester, device_log) -> None:
    fake_tester.makepyfile(
        test_first=(
            "def test_a_dp(ttpose_mesh_device):\n    pass\n\n"
            "def test_b(ttpose_device):\n    pass\n\n"
            "def test_c_dp(ttpose_mesh_device):\n    pass\n"
        ),
        test_second="def test_d(ttpose_device):\n    pass\n",
    )
    result = fake_tester.runpytest("-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*test_b PASSED*", "*test_d PASSED*", "*test_a_dp PASSED*", "*test_c_dp PASSED*"])
    assert device_log() == [
        ("main", "open", "device0"),
        ("main", "close", "device0"),
        ("main", "open", "mesh1x2"),
        ("main", "close", "mesh1x2"),
    ]


def test_dp_cases_skip_with_reason_on_one_device(fake_tester: pytest.Pytester, monkeypatch, device_log) -> None:
    monkeypatch.setenv("FAKE_TT_DEVICES", "1")
    fake_tester.makepyfile(test_cases=CASES)
    result = fake_tester.runpytest("-rs", "--ttpose-dtypes=bfloat16", "--ttpose-batch-sizes=1", "-k", "dp")
    result.assert_outcomes(skipped=3, deselected=3)
    result.stdout.fnmatch_lines(["*data-parallel cases need at least 2 devices; the fake backend has 1*"])
    assert device_log() == []


def test_mesh_user_without_dp_suffix_is_refused(fake_tester: pytest.Pytester) -> None:
    fake_tester.makepyfile("def test_mesh(ttpose_mesh_device):\n    pass\n")
    result = fake_tester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_mesh: uses the mesh, so its test name must end in _dp*"])


def test_non_dp_ttpose_case_containing_dp_is_refused(fake_tester: pytest.Pytester) -> None:
    fake_tester.makepyfile("def test_dpt_backbone(ttpose_device):\n    pass\n")
    result = fake_tester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_dpt_backbone: only data-parallel (_dp) cases may contain 'dp'*"])

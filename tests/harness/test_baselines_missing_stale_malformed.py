"""Missing entries fail with the command that creates them; stale ones fail with measured vs stored; malformed
files stop the run naming file and position (update or not: tests/harness/test_baselines_never_lost.py)."""

from __future__ import annotations

import re

import pytest


def literal(text: str) -> str:
    """``text`` as an fnmatch pattern that matches it literally (brackets escaped)."""
    return re.sub(r"([\[\]])", r"[\1]", text)


PCC_TEST = """
def test_alpha(ttpose_check):
    ttpose_check.pcc_values({"all": 0.995, "kpt_vis": 0.991})
"""


def test_missing_entry_names_the_command(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_pcc=PCC_TEST)
    baseline_json.write({"test_pcc.py::test_other": {"pcc": {"all": 0.9}}})
    result = fake_tester.runpytest("--ttpose-dtypes=bfloat16")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*no PCC baseline for test_pcc.py::test_alpha*",
            f"*baseline file: {baseline_json.path}*",
            "*create it with: pytest test_pcc.py::test_alpha --ttpose-update-baselines --ttpose-dtypes=bfloat16*",
        ]
    )


def test_missing_file_fails_the_same_way(fake_tester: pytest.Pytester) -> None:
    fake_tester.makepyfile(test_pcc=PCC_TEST)
    result = fake_tester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*create it with: pytest test_pcc.py::test_alpha --ttpose-update-baselines*"])


def test_entry_missing_a_component_is_missing(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_pcc=PCC_TEST)
    baseline_json.write({"test_pcc.py::test_alpha": {"pcc": {"all": 0.995}}})
    fake_tester.runpytest().stdout.fnmatch_lines(["*no PCC baseline for test_pcc.py::test_alpha*"])


def test_stale_baseline_fails_with_measured_threshold_and_baseline(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_pcc=PCC_TEST)
    baseline_json.write({"test_pcc.py::test_alpha": {"pcc": {"all": 0.999, "kpt_vis": 0.991}}})
    result = fake_tester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*component    measured  threshold   baseline  verdict*",
            "*all          0.995000   0.990000   0.999000  FAIL below baseline - 0.002 = 0.997000*",
            "*kpt_vis      0.991000   0.990000   0.991000  ok*",
            "*to accept the measured values as the new baseline: pytest test_pcc.py::test_alpha"
            " --ttpose-update-baselines*",
        ]
    )
    fake_tester.runpytest("--ttpose-update-baselines").assert_outcomes(passed=1)
    fake_tester.runpytest().assert_outcomes(passed=1)


def test_below_absolute_threshold_fails_even_when_updating(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_pcc="def test_alpha(ttpose_check):\n    ttpose_check.pcc_values({'all': 0.5})\n")
    result = fake_tester.runpytest("--ttpose-update-baselines")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*FAIL below threshold*", "*fix the model*"])
    assert not baseline_json.path.exists()


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ('{"schema": "pytest-ttpose/baselines/1",\n  "entries": {,}}', "line 2, column 15: not valid JSON"),
        ('{"schema": "other/1", "fingerprint": {}, "entries": {}}', "$.schema: expected 'pytest-ttpose/baselines/1'"),
        ('{"entries": {}}', "$.schema: expected 'pytest-ttpose/baselines/1', found None"),
    ],
)
def test_malformed_file_stops_the_run_and_is_kept(
    fake_tester: pytest.Pytester, baseline_json, text: str, position: str
) -> None:
    fake_tester.makepyfile(test_pcc=PCC_TEST)
    baseline_json.path.parent.mkdir(parents=True)
    baseline_json.path.write_text(text)
    before = baseline_json.path.read_bytes()
    result = fake_tester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines([literal(f"*ttpose: unusable baseline file: {baseline_json.path}: {position}*")])
    result.assert_outcomes()
    assert baseline_json.path.read_bytes() == before


def test_baseline_of_another_fingerprint_is_refused(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_pcc=PCC_TEST)
    baseline_json.fingerprint = {**baseline_json.fingerprint, "arch": "blackhole"}
    baseline_json.write({})
    result = fake_tester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*$.fingerprint: file is for*blackhole*"])

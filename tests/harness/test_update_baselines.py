"""--ttpose-update-baselines writes only what ran and produced values, merges per field, and a rerun passes."""

from __future__ import annotations

import pytest

PCC_TESTS = """
def test_alpha(ttpose_check):
    ttpose_check.pcc_values({"all": 0.995, "box": 0.996})

def test_beta(ttpose_check):
    ttpose_check.pcc_values({"all": 0.993})

def test_failing_after_pcc(ttpose_check):
    ttpose_check.pcc_values({"all": 0.999})
    assert False, "a later assertion failed"
"""


def test_update_writes_entries_of_passing_tests_that_ran(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_cases=PCC_TESTS)
    result = fake_tester.runpytest("--ttpose-update-baselines", "-k", "alpha or failing")
    result.assert_outcomes(passed=1, failed=1, deselected=1)
    assert baseline_json.read() == {"test_cases.py::test_alpha": {"pcc": {"all": 0.995, "box": 0.996}}}
    result.stdout.fnmatch_lines(["*baselines updated: 1 entry*"])


def test_update_leaves_other_entries_untouched(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_cases=PCC_TESTS)
    kept = {"pcc": {"all": 0.5}, "fps": 12.0, "latency_ms": {"median": 80.0, "min": 70.0}}
    baseline_json.write({"test_cases.py::test_beta": kept, "test_gone.py::test_old": {"fps": 1.0}})
    fake_tester.runpytest("--ttpose-update-baselines", "-k", "alpha").assert_outcomes(passed=1, deselected=2)
    entries = baseline_json.read()
    assert entries["test_cases.py::test_beta"] == kept
    assert entries["test_gone.py::test_old"] == {"fps": 1.0}
    assert entries["test_cases.py::test_alpha"] == {"pcc": {"all": 0.995, "box": 0.996}}


def test_update_replaces_only_the_fields_a_case_produced(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_cases=PCC_TESTS)
    baseline_json.write({"test_cases.py::test_alpha": {"pcc": {"all": 0.1}, "fps": 7.5}})
    fake_tester.runpytest("--ttpose-update-baselines", "-k", "alpha").assert_outcomes(passed=1, deselected=2)
    assert baseline_json.read()["test_cases.py::test_alpha"] == {"pcc": {"all": 0.995, "box": 0.996}, "fps": 7.5}


def test_rerun_without_flag_passes_against_what_was_written(fake_tester: pytest.Pytester) -> None:
    fake_tester.makepyfile(test_cases=PCC_TESTS)
    fake_tester.runpytest("--ttpose-update-baselines", "-k", "not failing").assert_outcomes(passed=2, deselected=1)
    fake_tester.runpytest("-k", "not failing").assert_outcomes(passed=2, deselected=1)


def test_file_is_sorted_and_ends_with_newline(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_cases=PCC_TESTS)
    fake_tester.runpytest("--ttpose-update-baselines", "-k", "not failing")
    text = baseline_json.path.read_text()
    assert text.endswith("}\n")
    assert text.index('"entries"') < text.index('"fingerprint"') < text.index('"schema"')
    assert text.index("test_alpha") < text.index("test_beta")
    assert not list(baseline_json.path.parent.glob("*.tmp")), "the temporary file of the atomic write was left behind"


def test_without_flag_nothing_is_written(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_cases=PCC_TESTS)
    fake_tester.runpytest().assert_outcomes(failed=3)
    assert not baseline_json.path.exists()

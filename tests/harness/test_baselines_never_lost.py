"""Baselines are never lost: an update over an unusable file or one with invalid entries refuses (rc 4, file
untouched) unless --ttpose-baselines-reset, which keeps every valid entry and the old file as <name>.bak; values are
range-checked; a read-only run keeps every valid entry; temp files of a killed write are cleaned and mentioned."""

from __future__ import annotations

import json

import pytest

CASES = """
def test_alpha(ttpose_check):
    ttpose_check.pcc_values({"all": 0.995})

def test_beta(ttpose_check):
    ttpose_check.pcc_values({"all": 0.993})
"""
GOOD = {"pcc": {"all": 0.99}, "fps": 3.5, "latency_ms": {"median": 280.0, "min": 270.0}}


def _thirty_six_entries() -> dict[str, object]:
    entries: dict[str, object] = {f"suites/test_other.py::test_case[{index}]": GOOD for index in range(34)}
    entries["test_cases.py::test_alpha"] = {"pcc": {"all": 0.995}}
    entries["test_cases.py::test_beta"] = {"pcc": {"all": 0.993}}
    return entries


@pytest.mark.parametrize(
    ("bad_entry", "problem"),
    [
        ({"pcc": {"all": 1.5}}, "expected a PCC in [-1, 1], found 1.5"),
        ({"pcc": {"box": -3}}, "expected a PCC in [-1, 1], found -3"),
        ({"fps": 0}, "expected a finite number > 0, found 0"),
        ({"latency_ms": {"median": -1.0}}, "expected a finite number > 0, found -1.0"),
        ({"pcc": {"all": "high"}}, "expected a finite number, found 'high'"),
        ({"pcc": {"boxes": 0.9}}, "unknown key; allowed"),
    ],
)
def test_update_over_one_bad_entry_refuses_and_loses_nothing(
    fake_tester: pytest.Pytester, baseline_json, bad_entry: dict[str, object], problem: str
) -> None:
    fake_tester.makepyfile(test_cases=CASES)
    entries = _thirty_six_entries()
    entries["suites/test_other.py::test_case[7]"] = bad_entry
    baseline_json.write(entries)
    before = baseline_json.path.read_bytes()
    result = fake_tester.runpytest("--ttpose-update-baselines", "-k", "alpha")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stdout.str()
    assert "ttpose: unusable baseline file" in text and problem in text, text
    assert "(1 invalid entry, all listed in the summary); an update would drop them" in text
    assert "add --ttpose-baselines-reset to --ttpose-update-baselines" in text
    assert baseline_json.path.read_bytes() == before, "the refused update touched the file"


@pytest.mark.parametrize(
    "text",
    ["{broken", '{"schema": "pytest-ttpose/baselines/2", "fingerprint": {}, "entries": {}}', b"\xff\xfe"],
)
def test_update_over_an_unusable_file_refuses(fake_tester: pytest.Pytester, baseline_json, text: str | bytes) -> None:
    fake_tester.makepyfile(test_cases=CASES)
    baseline_json.path.parent.mkdir(parents=True)
    if isinstance(text, bytes):
        baseline_json.path.write_bytes(text)
    else:
        baseline_json.path.write_text(text)
    before = baseline_json.path.read_bytes()
    result = fake_tester.runpytest("--ttpose-update-baselines")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*ttpose: unusable baseline file:*", "*The file is left as it is.*"])
    # The message must not send the user to a command that loses entries: plain --ttpose-update-baselines did.
    assert "rewrite it from the tests that run" not in result.stdout.str()
    result.assert_outcomes()
    assert baseline_json.path.read_bytes() == before


def test_reset_keeps_every_valid_entry_and_a_backup(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_cases=CASES)
    entries = _thirty_six_entries()
    entries["suites/test_other.py::test_case[7]"] = {"fps": 0}
    baseline_json.write(entries)
    before = baseline_json.path.read_bytes()
    result = fake_tester.runpytest("--ttpose-update-baselines", "--ttpose-baselines-reset", "-k", "alpha")
    result.assert_outcomes(passed=1, deselected=1)
    result.stdout.fnmatch_lines(["*invalid baseline entry suites/test_other.py::test_case?7?*", "*kept as *.bak*"])
    after = baseline_json.read()
    assert len(after) == 35 and "suites/test_other.py::test_case[7]" not in after
    assert all(after[key] == value for key, value in entries.items() if key in after)
    assert baseline_json.path.with_name(baseline_json.path.name + ".bak").read_bytes() == before


def test_reset_over_an_unusable_file_keeps_it_as_backup(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_cases=CASES)
    baseline_json.path.parent.mkdir(parents=True)
    baseline_json.path.write_text("{broken")
    fake_tester.runpytest("--ttpose-update-baselines", "--ttpose-baselines-reset").assert_outcomes(passed=2)
    assert set(baseline_json.read()) == {"test_cases.py::test_alpha", "test_cases.py::test_beta"}
    assert baseline_json.path.with_name(baseline_json.path.name + ".bak").read_text() == "{broken"


def test_reset_needs_an_update(fake_tester: pytest.Pytester) -> None:
    result = fake_tester.runpytest("--ttpose-baselines-reset")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ttpose-baselines-reset only applies to an update*"])


def test_read_only_run_keeps_valid_entries_and_reports_bad_ones(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_cases=CASES)
    baseline_json.write({"test_cases.py::test_alpha": {"pcc": {"all": 0.995}}, "test_cases.py::test_beta": {"fps": -2}})
    before = baseline_json.path.read_bytes()
    result = fake_tester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*no valid PCC baseline for test_cases.py::test_beta: its entry is invalid*",
            '*$.entries?"test_cases.py::test_beta"?.fps: expected a finite number > 0, found -2*',
        ]
    )
    result.stdout.fnmatch_lines(["*invalid baseline entry test_cases.py::test_beta*"])
    assert baseline_json.path.read_bytes() == before


def test_temp_files_of_a_killed_write_are_removed_and_mentioned(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_cases=CASES)
    baseline_json.write({"test_cases.py::test_alpha": {"pcc": {"all": 0.995}}, "test_cases.py::test_beta": GOOD})
    stale = baseline_json.path.with_name(f".{baseline_json.path.name}.k1ll3d.tmp")
    stale.write_text('{"entries": {"half')
    unrelated = baseline_json.path.with_name("notes.tmp")
    unrelated.write_text("mine")
    result = fake_tester.runpytest()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"*removed {stale}: the temporary file of a baseline write that was killed*"])
    assert not stale.exists() and unrelated.exists()
    assert json.loads(baseline_json.path.read_text())["entries"]["test_cases.py::test_beta"] == GOOD

"""Ctrl-C mid-session: baselines stay byte-identical (even with --ttpose-update-baselines), devices are closed and
held runners released first."""

from __future__ import annotations

import json

import pytest

CASES = """
class Runner:
    def __init__(self, device):
        self.device = device

    def release(self):
        assert not self.device.closed, "released after its device closed"
        with open("released.txt", "a") as log:
            log.write(self.device.label + "\\n")


def test_first(ttpose_check, ttpose_devices, ttpose_device):
    ttpose_devices.cached("device", "runner", Runner, releasable=True)
    ttpose_check.pcc_values({"all": 0.999})

def test_interrupted(ttpose_check, ttpose_device):
    raise KeyboardInterrupt

def test_never_reached(ttpose_check):
    ttpose_check.pcc_values({"all": 0.999})
"""


@pytest.mark.parametrize("update", [False, True])
def test_ctrl_c_keeps_baselines_and_closes_devices(
    fake_tester: pytest.Pytester, baseline_json, device_log, update: bool
) -> None:
    fake_tester.makepyfile(test_cases=CASES)
    baseline_json.write(
        {"test_cases.py::test_first": {"pcc": {"all": 0.5}}, "test_cases.py::test_interrupted": {"fps": 1.0}}
    )
    before = baseline_json.path.read_bytes()
    result = fake_tester.runpytest_subprocess(*(["--ttpose-update-baselines"] if update else []))
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(passed=1)
    assert baseline_json.path.read_bytes() == before
    assert device_log() == [("main", "open", "device0"), ("main", "close", "device0")]
    assert (fake_tester.path / "released.txt").read_text() == "device0\n"


def test_a_case_cut_short_is_interrupted_in_table_and_report(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_cases=CASES)
    baseline_json.write({"test_cases.py::test_first": {"pcc": {"all": 0.999}}})
    result = fake_tester.runpytest_subprocess("--ttpose-report=r.json")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*test_cases.py::test_interrupted * interrupted"])
    report = json.loads((fake_tester.path / "r.json").read_text())
    assert report["complete"] is False
    assert report["exit_status"] == pytest.ExitCode.INTERRUPTED
    statuses = {case["node_id"]: case["status"] for case in report["cases"]}
    assert statuses == {"test_cases.py::test_first": "passed", "test_cases.py::test_interrupted": "interrupted"}
    assert not list(fake_tester.path.glob(".r.json.*.tmp"))


def test_a_complete_run_says_so(fake_tester: pytest.Pytester) -> None:
    fake_tester.makepyfile(test_cases="def test_one(ttpose_check):\n    ttpose_check.pcc_values({'all': 0.999})\n")
    fake_tester.runpytest("--ttpose-report=r.json", "--ttpose-update-baselines").assert_outcomes(passed=1)
    report = json.loads((fake_tester.path / "r.json").read_text())
    assert (report["complete"], report["exit_status"], report["summary"]) == (True, 0, {"passed": 1})


def test_an_interrupted_xdist_run_keeps_the_previous_report(fake_tester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    fake_tester.makepyfile(test_cases=CASES)
    previous = '{"complete": true, "cases": [{"node_id": "earlier"}]}\n'
    (fake_tester.path / "r.json").write_text(previous)
    result = fake_tester.runpytest_subprocess("-n", "2", "--ttpose-report=r.json")
    assert result.ret != pytest.ExitCode.OK
    report = json.loads((fake_tester.path / "r.json").read_text())
    # Either the workers' results arrived (then the report says it is incomplete), or the earlier report stays.
    if report.get("cases") != [{"node_id": "earlier"}]:
        assert report["complete"] is False and report["cases"], report


def test_a_run_stopped_before_any_result_keeps_the_previous_report(fake_tester: pytest.Pytester) -> None:
    """The controller of an interrupted pytest-xdist run may have no case result at all: it must not replace a
    complete report with an empty one. A Ctrl-C during collection is the same situation without xdist."""
    fake_tester.makepyfile(
        test_cases="raise KeyboardInterrupt\n\ndef test_one(ttpose_check):\n    pass\n",
    )
    previous = '{"complete": true, "cases": [{"node_id": "earlier"}]}\n'
    (fake_tester.path / "r.json").write_text(previous)
    result = fake_tester.runpytest_subprocess("--ttpose-report=r.json")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert (fake_tester.path / "r.json").read_text() == previous
    result.stdout.fnmatch_lines(["*report not written: the run stopped before any case result*"])

"""Under pytest-xdist: worker gwK uses device K, -n above the device count is a usage error, workers send their
results to the controller, which writes the baselines once (nothing lost) and prints the summary once."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("xdist")

MANY_CASES = """
import pytest

@pytest.mark.parametrize("index", range(24))
def test_case(ttpose_check, ttpose_device, index):
    ttpose_check.pcc_values({"all": 0.99 + index / 10000})

def test_speed(ttpose_check, benchmark):
    ttpose_check.perf(benchmark, lambda: None)

def test_many_dp(ttpose_check, ttpose_mesh_device):
    pass
"""


def test_update_under_two_workers_loses_nothing(fake_tester: pytest.Pytester, baseline_json, device_log) -> None:
    fake_tester.makepyfile(test_many=MANY_CASES)
    baseline_json.write({"test_other.py::test_kept": {"fps": 3.0}})
    result = fake_tester.runpytest_subprocess("-n", "2", "--ttpose-update-baselines", "-rs", "--ttpose-report=r.json")
    result.assert_outcomes(passed=25, skipped=1)
    entries = baseline_json.read()
    assert entries.pop("test_other.py::test_kept") == {"fps": 3.0}
    assert entries == {
        f"test_many.py::test_case[{index}]": {"pcc": {"all": pytest.approx(0.99 + index / 10000, abs=1e-6)}}
        for index in range(24)
    }
    assert result.stdout.str().count("ttpose summary") == 1
    result.stdout.fnmatch_lines(["*baselines updated: 24 entries*", "*each pytest-xdist worker owns one*"])
    cases = {case["node_id"]: case for case in json.loads((fake_tester.path / "r.json").read_text())["cases"]}
    assert len(cases) == 26
    assert cases["test_many.py::test_speed"]["perf"] == "not measured"
    opened = sorted(entry for entry in device_log() if entry[1] == "open")
    assert opened == [("gw0", "open", "device0"), ("gw1", "open", "device1")]
    assert sorted(entry for entry in device_log() if entry[1] == "close") == [
        ("gw0", "close", "device0"),
        ("gw1", "close", "device1"),
    ]
    fake_tester.runpytest_subprocess("-n", "2").assert_outcomes(passed=25, skipped=1)


def test_more_workers_than_devices_is_a_usage_error(fake_tester: pytest.Pytester) -> None:
    result = fake_tester.runpytest_subprocess("-n", "3")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*-n 3: pytest-xdist worker gwK uses ttpose device K, and the fake backend has 2*"])


def test_device_option_with_workers_is_a_usage_error(fake_tester: pytest.Pytester) -> None:
    result = fake_tester.runpytest_subprocess("-n", "2", "--ttpose-device=1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ttpose-device=1 cannot be combined with pytest-xdist (-n 2)*"])


def test_malformed_baseline_stops_the_run_before_workers_start(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_many=MANY_CASES)
    baseline_json.path.parent.mkdir(parents=True)
    baseline_json.path.write_text("{bad")
    result = fake_tester.runpytest_subprocess("-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: ttpose: unusable baseline file: *line 1, column 2: not valid JSON*"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert baseline_json.path.read_text() == "{bad"

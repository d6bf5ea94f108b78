"""With --benchmark-disable (or under xdist) perf cases say "not measured" and never compare."""

from __future__ import annotations

import json

import pytest

PERF_TEST = """
def test_speed(ttpose_check, benchmark):
    calls = []
    fps = ttpose_check.perf(benchmark, lambda: calls.append(1), rounds=3)
    assert fps is None
    assert calls == [1], "a disabled benchmark still runs the code once"
"""


def test_disabled_benchmark_reports_not_measured(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_perf=PERF_TEST)
    baseline_json.write({"test_perf.py::test_speed": {"fps": 1e9}})
    result = fake_tester.runpytest("--benchmark-disable", "--ttpose-report=r.json")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["test_perf.py::test_speed*not measured*1000000000.00*passed"])
    (case,) = json.loads((fake_tester.path / "r.json").read_text())["cases"]
    assert (case["perf"], case["fps"], case["fps_delta"]) == ("not measured", None, None)
    assert "--benchmark-disable" in case["perf_note"]


def test_disabled_benchmark_never_writes_speed(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_perf=PERF_TEST)
    baseline_json.write({"test_perf.py::test_speed": {"fps": 5.0}})
    fake_tester.runpytest("--benchmark-disable", "--ttpose-update-baselines").assert_outcomes(passed=1)
    assert baseline_json.read() == {"test_perf.py::test_speed": {"fps": 5.0}}


def test_measured_speed_goes_into_extra_info_and_machine_info(fake_tester: pytest.Pytester) -> None:
    fake_tester.makepyfile(
        test_perf="""
import time

def test_speed(ttpose_check, benchmark):
    ttpose_check.perf(benchmark, lambda: time.sleep(0.001), frames=4, rounds=2)
"""
    )
    fake_tester.runpytest("--ttpose-update-baselines", "--benchmark-json=bench.json").assert_outcomes(passed=1)
    saved = json.loads((fake_tester.path / "bench.json").read_text())
    assert saved["machine_info"]["ttpose"] == {
        "arch": "fakearch",
        "backend": "fake",
        "mesh_shape": "1x2",
        "ttnn": "fake-1",
        "weights": "bundled yolo11n-pose",
    }
    extra = saved["benchmarks"][0]["extra_info"]
    assert extra["frames_per_call"] == 4
    assert extra["fps"] == pytest.approx(4 / (extra["latency_ms_median"] / 1e3))
    assert extra["latency_ms_min"] <= extra["latency_ms_median"]

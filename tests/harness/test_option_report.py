"""--ttpose-report PATH: the summary as JSON, with a fixed schema; the terminal table shows the same rows."""

from __future__ import annotations

import json

import pytest

CASES = """
import time

def test_pcc(ttpose_check, ttpose_point):
    ttpose_check.pcc_values({"all": 0.995, "box": 0.998})

def test_speed(ttpose_check, benchmark, ttpose_device):
    ttpose_check.pcc_values({"all": 0.99})
    ttpose_check.perf(benchmark, lambda: time.sleep(0.002), device=ttpose_device, frames=2, rounds=2)

def test_fit(ttpose_check):
    ttpose_check.fit({"summary": "L1 300/1400 KiB", "peak_l1_bytes": 307200})

def test_plain_ttpose(ttpose_settings):
    pass
"""
CASE_KEYS = {
    "node_id",
    "point",
    "dp",
    "status",
    "pcc",
    "pcc_baseline",
    "pcc_min",
    "perf",
    "perf_note",
    "fps",
    "fps_baseline",
    "fps_delta",
    "latency_ms",
    "dry_run",
    "fit",
    "perf_model",
    "op_table",
    "messages",
    "store_pcc",
    "store_perf",
}


def test_report_schema(fake_tester: pytest.Pytester, baseline_json) -> None:
    fake_tester.makepyfile(test_cases=CASES)
    baseline_json.write(
        {
            "test_cases.py::test_pcc[n-320x320-b1-bfloat16-bfloat16]": {"pcc": {"all": 0.996, "box": 0.998}},
            "test_cases.py::test_speed": {"pcc": {"all": 0.99}, "fps": 10.0},
        }
    )
    args = [
        "--ttpose-report=out/report.json",
        "--ttpose-dtypes=bfloat16",
        "--ttpose-resolutions=320",
        "--ttpose-batch-sizes=1",
    ]
    result = fake_tester.runpytest(*args)
    result.assert_outcomes(passed=4)
    report = json.loads((fake_tester.path / "out" / "report.json").read_text())
    assert set(report) == {
        "schema",
        "complete",
        "exit_status",
        "fingerprint",
        "baseline_file",
        "update_baselines",
        "settings",
        "cases",
        "summary",
    }
    assert (report["complete"], report["exit_status"]) == (True, 0)
    assert report["schema"] == "pytest-ttpose/report/1"
    assert report["fingerprint"] == {**baseline_json.fingerprint, "weights": "bundled yolo11n-pose"}
    assert report["baseline_file"] == str(baseline_json.path)
    assert report["update_baselines"] is False
    assert report["settings"]["matrix"] == [
        {"scale": "n", "resolution": [320, 320], "batch_size": 1, "act_dtype": "bfloat16", "weight_dtype": "bfloat16"}
    ]
    assert report["summary"] == {"passed": 4}
    cases = {case["node_id"].split("::")[1]: case for case in report["cases"]}
    assert all(set(case) == CASE_KEYS for case in cases.values())
    pcc = cases["test_pcc[n-320x320-b1-bfloat16-bfloat16]"]
    assert pcc["point"] == "n-320x320-b1-bfloat16-bfloat16"
    assert pcc["pcc_min"] == {"component": "all", "value": 0.995}
    assert pcc["pcc_baseline"] == {"all": 0.996, "box": 0.998}
    assert pcc["perf"] is None
    speed = cases["test_speed"]
    assert speed["perf"] == "measured"
    assert speed["perf_model"] is None and speed["op_table"] is None  # a measured case has no model figures
    assert 0 < speed["fps"] < 1000 and speed["fps_baseline"] == 10.0
    assert speed["fps_delta"] == pytest.approx(speed["fps"] / 10.0 - 1)
    assert set(speed["latency_ms"]) == {"median", "min"}
    assert cases["test_fit"]["fit"] == {"summary": "L1 300/1400 KiB", "peak_l1_bytes": 307200}
    assert cases["test_plain_ttpose"]["pcc"] is None
    result.stdout.fnmatch_lines(
        [
            "*ttpose summary*",
            "case*PCC min*baseline*FPS*baseline*delta*status",
            "test_cases.py::test_fit * passed (L1 300/1400 KiB)",
            "test_cases.py::test_pcc[[]n-320x320-b1-bfloat16-bfloat16[]]*0.99500 all*0.99600*passed",
            "test_cases.py::test_plain_ttpose*passed",
            "test_cases.py::test_speed*0.99000 all*0.99000*10.00*passed",
        ]
    )


def test_report_lists_failures_with_their_messages(fake_tester: pytest.Pytester) -> None:
    fake_tester.makepyfile(test_cases="def test_low(ttpose_check):\n    ttpose_check.pcc_values({'all': 0.2})\n")
    fake_tester.runpytest("--ttpose-report=r.json").assert_outcomes(failed=1)
    (case,) = json.loads((fake_tester.path / "r.json").read_text())["cases"]
    assert case["status"] == "failed"
    assert "FAIL below threshold" in case["messages"][0]

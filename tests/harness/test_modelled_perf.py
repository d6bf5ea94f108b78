"""Perf cases on the emulator assert the modelled FPS of what they ran (pytest_ttpose.devperf), not CPU time.

A small perf case (three untraced 3x3 convs of 128 channels at 64x64) runs under pytester: a regression injected at
the emulator level (every conv forced to HiFi4) fails it against its baseline and names the convs that got slower;
an improvement shows as a positive delta and --ttpose-update-baselines records it; the report and its CSV hold one
row per op.
"""

from __future__ import annotations

import csv
import json

import pytest
import torch  # noqa: F401 - imported once here: pytester's in-process runs cannot import torch a second time

PERF_CASE = """
import torch
from pytest_ttpose.seam import api_for


def test_speed(ttpose_device, ttpose_check, benchmark):
    ttnn = api_for(ttpose_device)
    device = ttpose_device
    host = ttnn.from_torch(torch.randn(1, 1, 64 * 64, 128), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)
    weight = ttnn.from_torch(torch.randn(128, 128, 3, 3))
    config = ttnn.init_device_compute_kernel_config(device.arch(), math_fidelity=ttnn.MathFidelity.LoFi)
    args = dict(in_channels=128, out_channels=128, batch_size=1, input_height=64, input_width=64, kernel_size=(3, 3))

    def run():
        x = ttnn.to_device(host, device)
        for _ in range(3):
            x = ttnn.conv2d(input_tensor=x, weight_tensor=weight, device=device, padding=(1, 1),
                            compute_config=config, **args)
        return ttnn.to_torch(x)

    ttpose_check.perf(benchmark, run, device=device, frames=1, rounds=1, warmup_rounds=0)
"""

# A regression or an improvement from outside the model: every conv's math fidelity forced at the emulator level.
INJECT_CONFTEST = """
import os

import pytest


@pytest.fixture(autouse=True)
def forced_conv_fidelity(monkeypatch):
    forced = os.environ.get("FORCE_CONV_FIDELITY")
    if forced:
        from pytest_ttpose.emulator.ops import conv
        from pytest_ttpose.emulator.types import MathFidelity

        monkeypatch.setattr(conv, "math_fidelity", lambda config, default: MathFidelity[forced])
"""

NODE = "test_speed.py::test_speed"


@pytest.fixture
def emulator_tester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    monkeypatch.delenv("FORCE_CONV_FIDELITY", raising=False)
    pytester.makeini("[pytest]\nttpose_backend = emulator\n")
    pytester.makeconftest(INJECT_CONFTEST)
    pytester.makepyfile(test_speed=PERF_CASE)
    return pytester


def _report(pytester: pytest.Pytester, name: str) -> dict:
    cases = json.loads((pytester.path / name).read_text())["cases"]
    (case,) = [c for c in cases if c["node_id"] == NODE]
    return case


def _baseline_fps(pytester: pytest.Pytester) -> float:
    (path,) = (pytester.path / "baselines").glob("emulator_*mesh*-emulator.json")
    return json.loads(path.read_text())["entries"][NODE]["fps"]


def test_modelled_fps_is_identical_across_runs_and_reported_per_op(emulator_tester: pytest.Pytester) -> None:
    emulator_tester.runpytest("--ttpose-update-baselines", "--ttpose-report=first.json").assert_outcomes(passed=1)
    result = emulator_tester.runpytest("--ttpose-report=second.json")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_speed.py::test_speed*(modelled)*+0.0%*passed*"])
    first, second = _report(emulator_tester, "first.json"), _report(emulator_tester, "second.json")
    assert first["perf"] == second["perf"] == "modelled"
    assert first["fps"] == second["fps"]  # deterministic to the last digit
    assert second["fps_delta"] == pytest.approx(0.0, abs=1e-5)
    # one row per device program: the input write is no op; three convs
    rows = second["op_table"]
    assert [row["key"] for row in rows] == ["conv2d#1", "conv2d#2", "conv2d#3"]
    assert all(row["fidelity"] == "LoFi" and row["modelled_ns"] > 0 for row in rows)
    assert sum(row["share"] for row in rows) == pytest.approx(1.0, abs=1e-5)
    with (emulator_tester.path / "second.ops.csv").open() as stream:
        csv_rows = list(csv.DictReader(stream))
    assert [row["key"] for row in csv_rows] == ["conv2d#1", "conv2d#2", "conv2d#3"]
    assert {row["case"] for row in csv_rows} == {NODE}


def test_injected_hifi4_regression_fails_naming_the_slower_convs(
    emulator_tester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator_tester.runpytest("--ttpose-update-baselines").assert_outcomes(passed=1)
    monkeypatch.setenv("FORCE_CONV_FIDELITY", "HiFi4")
    result = emulator_tester.runpytest("--ttpose-report=slow.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"*FPS below the bar for {NODE}*",
            "*modelled * FPS on n150*",
            "*baseline * FPS x (1 - 0.01) = floor*",
            "*ops that grew most against the baseline run*",
            "*conv2d#* us -> * us  (+*",
        ]
    )
    grown = [line for line in result.stdout.lines if line.strip().startswith("conv2d#")]
    assert len(grown) == 3
    assert _report(emulator_tester, "slow.json")["fps_delta"] < -0.01


def test_improvement_shows_a_positive_delta_and_update_records_it(
    emulator_tester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_CONV_FIDELITY", "HiFi4")
    emulator_tester.runpytest("--ttpose-update-baselines").assert_outcomes(passed=1)
    slow_baseline = _baseline_fps(emulator_tester)
    monkeypatch.delenv("FORCE_CONV_FIDELITY")
    result = emulator_tester.runpytest("--ttpose-report=fast.json")
    result.assert_outcomes(passed=1)
    fast = _report(emulator_tester, "fast.json")
    assert fast["fps_delta"] > 0.01
    assert fast["fps_baseline"] == slow_baseline
    emulator_tester.runpytest("--ttpose-update-baselines").assert_outcomes(passed=1)
    assert _baseline_fps(emulator_tester) == pytest.approx(fast["fps"], abs=1e-3)
    (table,) = (emulator_tester.path / "baselines").glob("*.optable.json")
    stored = json.loads(table.read_text())["entries"][NODE]
    assert stored == {row["key"]: pytest.approx(row["modelled_ns"], abs=0.1) for row in fast["op_table"]}

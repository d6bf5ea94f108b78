"""Ctrl-C mid-session: baselines stay byte-identical (even with --ttpose-update-baselines), devices are closed and
held runners released first."""

from __future__ import annotations

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

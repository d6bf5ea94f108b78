"""--ttpose-device: the single device that opens, and usage errors for a device that is not there."""

from __future__ import annotations

import pytest

DEVICE_TEST = """
def test_single(ttpose_device):
    assert ttpose_device.label == "device{expected}"
"""


def test_default_device_is_zero(fake_tester: pytest.Pytester, device_log) -> None:
    fake_tester.makepyfile(DEVICE_TEST.format(expected=0))
    fake_tester.runpytest().assert_outcomes(passed=1)
    assert device_log() == [("main", "open", "device0"), ("main", "close", "device0")]


def test_device_option_selects_the_device(fake_tester: pytest.Pytester, device_log) -> None:
    fake_tester.makepyfile(DEVICE_TEST.format(expected=1))
    fake_tester.runpytest("--ttpose-device=1").assert_outcomes(passed=1)
    assert ("main", "open", "device1") in device_log()


def test_absent_device_is_a_usage_error(fake_tester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_TT_DEVICES", "1")
    fake_tester.makepyfile(DEVICE_TEST.format(expected=7))
    result = fake_tester.runpytest("--ttpose-device=7")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--ttpose-device=7: no such device on the fake backend (1 device(s)). Accepted: 0..0.*"]
    )


def test_absent_device_on_the_emulator_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--ttpose-backend=emulator", "--ttpose-device=7")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ttpose-device=7: no such device on the emulator backend (2 device(s))*"])


def test_non_numeric_device_is_a_usage_error(fake_tester: pytest.Pytester) -> None:
    result = fake_tester.runpytest("--ttpose-device=first")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ttpose-device=first: not a device id. Accepted: a non-negative integer*"])


def test_device_stays_open_across_tests_and_closes_once(fake_tester: pytest.Pytester, device_log) -> None:
    fake_tester.makepyfile(
        """
        def test_one(ttpose_device):
            pass

        def test_two(ttpose_device):
            pass

        def test_failing(ttpose_device):
            assert False
        """
    )
    fake_tester.runpytest().assert_outcomes(passed=2, failed=1)
    assert device_log() == [("main", "open", "device0"), ("main", "close", "device0")]

"""--ttpose-mesh-shape: RxC or N, defaults to all devices (at least 2 on the emulator), errors name the option."""

from __future__ import annotations

import pytest

MESH_TEST = """
def test_mesh_dp(ttpose_mesh_device, ttpose_settings):
    assert ttpose_mesh_device.label == "mesh{expected}"
"""


def test_default_mesh_is_all_devices(fake_tester: pytest.Pytester, device_log) -> None:
    fake_tester.makepyfile(MESH_TEST.format(expected="1x2"))
    fake_tester.runpytest().assert_outcomes(passed=1)
    assert device_log() == [("main", "open", "mesh1x2"), ("main", "close", "mesh1x2")]


@pytest.mark.parametrize(("given", "expected"), [("2", "1x2"), ("2x1", "2x1"), ("1X2", "1x2")])
def test_mesh_shape_forms(fake_tester: pytest.Pytester, given: str, expected: str) -> None:
    fake_tester.makepyfile(MESH_TEST.format(expected=expected))
    fake_tester.runpytest(f"--ttpose-mesh-shape={given}").assert_outcomes(passed=1)


@pytest.mark.parametrize("bad", ["2x", "x2", "axb", "1x2x3", "0x2", "-1"])
def test_malformed_mesh_shape_is_a_usage_error(fake_tester: pytest.Pytester, bad: str) -> None:
    result = fake_tester.runpytest(f"--ttpose-mesh-shape={bad}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--ttpose-mesh-shape={bad}: *Accepted: ROWSxCOLS*"])


def test_mesh_larger_than_the_machine_is_a_usage_error(fake_tester: pytest.Pytester) -> None:
    result = fake_tester.runpytest("--ttpose-mesh-shape=2x2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--ttpose-mesh-shape=2x2: the fake backend cannot open this mesh: it needs 4 devices and the system has 2*"]
    )


def test_emulator_default_mesh_has_two_devices(pytester: pytest.Pytester) -> None:
    pytester.runpytest("--ttpose-backend=emulator").stdout.fnmatch_lines(["*device 0 of 2, mesh 1x2*"])


def test_emulator_mesh_shape_sets_its_device_count(pytester: pytest.Pytester) -> None:
    pytester.runpytest("--ttpose-backend=emulator", "--ttpose-mesh-shape=2x2").stdout.fnmatch_lines(
        ["*device 0 of 4, mesh 2x2*"]
    )


def test_emulator_mesh_beyond_its_largest_machine_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--ttpose-backend=emulator", "--ttpose-mesh-shape=5x7")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --ttpose-mesh-shape=5x7: needs 35 devices; the emulator emulates at most 32. Accepted: a mesh of *"]
    )
    assert "--ttpose-backend" not in result.stderr.str(), "the error blames an option the user did not get wrong"


def test_emulator_mesh_beyond_its_arch_names_the_mesh_option(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--ttpose-backend=emulator", "--ttpose-arch=n150", "--ttpose-mesh-shape=1x2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --ttpose-mesh-shape=1x2: needs 2 devices but --ttpose-arch=n150 has 1.*"])

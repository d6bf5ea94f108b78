"""The real emulator backend behind ttpose_device / ttpose_mesh_device: device params from tt.device_params,
the default 1x2 mesh, one device or mesh open at a time, everything closed at session end."""

from __future__ import annotations

import pytest

CASES = """
import pytest

from pytest_ttpose.emulator import machine
from pytest_ttpose.tt.device_params import MESH_DEVICE_PARAMS, SINGLE_DEVICE_PARAMS

OPENED = []


def test_device(ttpose_device):
    OPENED.append(ttpose_device)
    assert machine.current_machine().num_devices == 2
    assert ttpose_device.get_device_ids() == [1]
    assert ttpose_device.trace_region_size == SINGLE_DEVICE_PARAMS["trace_region_size"]
    assert ttpose_device.l1_small_size == SINGLE_DEVICE_PARAMS["l1_small_size"]


def test_mesh_dp(ttpose_mesh_device):
    OPENED.append(ttpose_mesh_device)
    assert OPENED[0].closed, "the single device closes before the mesh opens"
    assert tuple(ttpose_mesh_device.shape) == (1, 2)
    assert ttpose_mesh_device.trace_region_size == MESH_DEVICE_PARAMS["trace_region_size"]


@pytest.fixture(scope="session", autouse=True)
def all_closed_at_the_end():
    yield
    # session fixtures tear down in reverse order: this runs after ttpose_devices closed everything
    print("CLOSED", [device.closed for device in OPENED], dict(machine.open_devices()))
"""


def test_emulator_devices(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_emulator=CASES)
    result = pytester.runpytest_subprocess(
        "-s", "--ttpose-backend=emulator", "--ttpose-device=1", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*CLOSED [[]True, True[]] {}*"])

"""The device-param query on the real ttnn 0.81 host stack (a mocked Wormhole n150, in a subprocess)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from pytest_ttpose.mock.runtime import MockToolchainMissing, find_binutils

SCRIPT = textwrap.dedent(
    """
    from pytest_ttpose.mock.runtime import activate
    activate("n150")
    import ttnn
    from pytest_ttpose.runner import DeviceParamsError, query_opened_params
    from pytest_ttpose.runner.device_check import check_device_params
    from pytest_ttpose.tt.device_params import SINGLE_DEVICE_PARAMS

    device = ttnn.open_device(device_id=0, **SINGLE_DEVICE_PARAMS)
    opened = query_opened_params(device)
    print("FULL", opened.l1_small_size, opened.trace_region_size, opened.num_command_queues)
    check_device_params(device, SINGLE_DEVICE_PARAMS, who="runner")
    ttnn.close_device(device)

    device = ttnn.open_device(device_id=0)
    opened = query_opened_params(device)
    print("BARE", opened.l1_small_size, opened.trace_region_size, opened.num_command_queues)
    try:
        check_device_params(device, SINGLE_DEVICE_PARAMS, who="runner")
    except DeviceParamsError as error:
        print("RAISED", str(error).count("use "))
    ttnn.close_device(device)
    """
)


@pytest.mark.requires_ttnn
def test_real_ttnn_reports_the_open_params() -> None:
    try:
        find_binutils()
    except MockToolchainMissing as missing:
        pytest.skip(f"the mock-cluster dry run needs binutils: {missing}")
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line.split()}
    l1_small, trace_region, queues = (int(v) for v in lines["FULL"])
    assert l1_small == 24576 and queues == 2
    assert trace_region >= 6434816  # split over the DRAM banks, each rounded up
    assert [int(v) for v in lines["BARE"]] == [0, 0, 1]
    assert lines["RAISED"] == ["3"]

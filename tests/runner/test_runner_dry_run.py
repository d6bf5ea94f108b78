"""The runners on the real ttnn 0.81 host stack: a dry run on a mocked cluster, in a subprocess per cluster.

Mock mode keeps no device memory (every value reads back as zero) and cannot run traces or event waits, which
``pytest_ttpose.mock.api.MockTtnn`` stands in for. What this proves on real ttnn: the device-param query
(``get_memory_view`` and the queue-1 probe), the L1 height-sharded input config over the device's compute grid, the
DRAM height-sharded staging (``pytest_ttpose.runner.staging``) moved into L1 by ``to_memory_config`` and ``reshard``
into the trace input, the trace input re-allocated at the address the trace baked in (real allocator), release, and
the data-parallel mesh mappers, on Wormhole (n150, n300, t3k) and Blackhole (p150).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_ttpose.mock.runtime import CLUSTERS, MockToolchainMissing, find_binutils

SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {helpers!r})
    from pytest_ttpose.mock.runtime import activate
    activate({cluster!r})
    from pytest_ttpose.mock.api import MockTtnn
    from pytest_ttpose.runner import (
        DeviceParamsError, YOLOv11PoseBasicRunner, YOLOv11PosePerformantRunner, query_opened_params,
    )
    from pytest_ttpose.tt.device_params import device_params
    from tiny_pose_model import TinyPoseReference, build_tiny_model, seeded_images

    api = MockTtnn()
    devices = {devices}
    def open_(params):
        if devices == 1:
            return api.open_device(device_id=0, **params)
        return api.open_mesh_device(api.MeshShape(1, devices), **params)
    close = api.close_device if devices == 1 else api.close_mesh_device
    params = device_params({chip_arch!r}, "device" if devices == 1 else "mesh")
    kwargs = dict(resolution=(64, 96), reference_model=TinyPoseReference(), model_builder=build_tiny_model,
                  act_dtype=api.bfloat16, weight_dtype=api.bfloat16, device_batch_size=2)

    device = open_({{}})
    opened = query_opened_params(device)
    print("BARE", opened.l1_small_size, opened.trace_region_size, opened.num_command_queues)
    try:
        YOLOv11PosePerformantRunner(device, **kwargs)
    except DeviceParamsError as error:
        print("RAISED", str(error).count(", use "))
    close(device)

    device = open_(params)
    opened = query_opened_params(device)
    print("FULL", opened.l1_small_size, opened.trace_region_size, opened.num_command_queues)
    images = seeded_images(2 * devices, (64, 96), 0)
    with YOLOv11PoseBasicRunner(device, **kwargs) as runner:
        print("BASIC", *runner.run_to_torch(images).shape)
    runner = YOLOv11PosePerformantRunner(device, validate_on_capture=False, **kwargs)
    print("STAGING", runner._staging.memory_config().memory_layout, runner._staging.memory_config().buffer_type)
    for _ in range(2):
        output = runner.run(images)
    print("TRACED", *runner.output_to_torch(output).shape)
    runner.release()
    runner.release()
    activity = api.trace_activity()
    print("TRACES", activity["traces_captured"], activity["trace_executions"], activity["traces_released"])
    close(device)
    """
)


@pytest.mark.requires_ttnn
@pytest.mark.parametrize(("cluster", "devices"), [("n150", 1), ("n300", 2), ("t3k", 8), ("p150", 1)])
def test_the_runners_dry_run_on_real_ttnn(cluster: str, devices: int) -> None:
    try:
        find_binutils()
    except MockToolchainMissing as missing:
        pytest.skip(f"the mock-cluster dry run needs binutils: {missing}")
    chip_arch = CLUSTERS[cluster].chip_arch
    script = SCRIPT.format(helpers=str(Path(__file__).parent), cluster=cluster, devices=devices, chip_arch=chip_arch)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    lines = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line.split()}
    assert [int(v) for v in lines["BARE"]] == [0, 0, 1]
    assert lines["RAISED"] == ["3"]
    l1_small, trace_region, queues = (int(v) for v in lines["FULL"])
    expected_trace = 6434816 if devices == 1 and chip_arch == "wormhole_b0" else 23887872
    assert l1_small == 24576 and queues == 2 and trace_region >= expected_trace
    assert lines["STAGING"][0].endswith("HEIGHT_SHARDED") and lines["STAGING"][1].endswith("DRAM")
    anchors = (64 // 2) * (96 // 2)
    assert lines["BASIC"] == lines["TRACED"] == [str(2 * devices), "56", str(anchors)]
    assert lines["TRACES"] == ["1", "2", "1"]

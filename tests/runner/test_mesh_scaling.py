"""The emulator scales to 32 devices, and what it holds and computes grows linearly with the devices.

Measured as counts, not time: the host bytes of every live device buffer (the emulator's memory) and the number of
per-device computations its ops run (its time) for the same traced runner on meshes of 2, 8 and 32 devices, one
image per device. Linear means the same amount per device at every size; nothing is shared across devices that
should not be, and nothing grows faster than the devices.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from tiny_pose_model import seeded_images

from pytest_ttpose.emulator import MeshShape, close_mesh_device, machine, open_mesh_device
from pytest_ttpose.emulator import dispatch as emulator_dispatch
from pytest_ttpose.emulator.ops import conv, data_movement, eltwise, matmul, pool
from pytest_ttpose.runner import YOLOv11PosePerformantRunner
from pytest_ttpose.tt.device_params import device_params

MESHES = [(1, 2), (2, 4), (8, 4), (4, 8)]


def host_bytes(mesh: Any) -> int:
    return sum(
        tensor.numel() * tensor.element_size()
        for buffer in mesh.live_buffers.values()
        if buffer.data is not None
        for tensor in buffer.data
    )


def run_on_mesh(shape: tuple[int, int], tiny_kwargs: dict, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    computations = {"count": 0}
    real_launch = emulator_dispatch.launch

    def counting_launch(op: str, inputs: Any, compute: Any, **kwargs: Any) -> Any:
        def counted(values: Any) -> Any:
            computations["count"] += 1
            return compute(values)

        return real_launch(op, inputs, counted, **kwargs)

    for module in (conv, data_movement, eltwise, matmul, pool):
        monkeypatch.setattr(module, "launch", counting_launch)
    devices = shape[0] * shape[1]
    machine.set_machine("wormhole_b0", num_devices=devices)
    mesh = open_mesh_device(mesh_shape=MeshShape(*shape), **device_params("wormhole_b0", "mesh"))
    try:
        with YOLOv11PosePerformantRunner(mesh, device_batch_size=1, **tiny_kwargs) as runner:
            held = host_bytes(mesh)
            before = computations["count"]
            batch = seeded_images(devices, tiny_kwargs["resolution"], 3)
            output = runner.run_to_torch(batch, check_pcc=True)  # PCC over every device's share
            per_run = computations["count"] - before
        return {"devices": devices, "bytes": held, "computations": per_run, "output": output, "batch": batch}
    finally:
        close_mesh_device(mesh)
        machine.set_machine("wormhole_b0", num_devices=1)


def test_memory_and_work_grow_linearly_with_the_devices(tiny_kwargs: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = [run_on_mesh(shape, tiny_kwargs, monkeypatch) for shape in MESHES]
    per_device_bytes = {run["bytes"] // run["devices"] for run in runs}
    per_device_work = {run["computations"] // run["devices"] for run in runs}
    assert all(run["bytes"] % run["devices"] == 0 and run["computations"] % run["devices"] == 0 for run in runs)
    assert len(per_device_bytes) == 1, f"bytes per device differ across mesh sizes: {per_device_bytes}"
    assert len(per_device_work) == 1, f"computations per device differ across mesh sizes: {per_device_work}"
    assert per_device_bytes.pop() > 0 and per_device_work.pop() > 0
    # Each device computed its own image: the first two images of the 32-device batch (the same seeded images as the
    # 2-device batch) give exactly the 2-device outputs.
    small, large = runs[0], runs[2]
    assert torch.equal(large["batch"][:2], small["batch"])
    assert torch.equal(large["output"][:2], small["output"])


def test_a_mesh_beyond_32_devices_is_refused() -> None:
    with pytest.raises(ValueError, match="num_devices must be between 1 and 32"):
        machine.set_machine("wormhole_b0", num_devices=33)

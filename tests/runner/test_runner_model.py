"""The runners around the real YOLO11n-pose TT model on the emulator, at 320x320 (bfloat8_b act and weights).

One module-scoped session on a single emulated Wormhole runs the basic path and the traced runner on the same
inputs; the tests then check what it recorded. The meshes run afterwards, on the single-device outputs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from tiny_pose_model import seeded_images

import pytest_ttpose.emulator as ttnn
from pytest_ttpose.emulator import machine
from pytest_ttpose.reference import build_reference
from pytest_ttpose.runner import (
    PccCheckError,
    RunnerReleasedError,
    YOLOv11PoseBasicRunner,
    YOLOv11PosePerformantRunner,
)
from pytest_ttpose.tt.device_params import MESH_DEVICE_PARAMS, SINGLE_DEVICE_PARAMS

RESOLUTION = (320, 320)
MESH_SLICES = 4  # images in the mesh batch: one per chip of the largest mesh


@dataclass
class Session:
    inputs: list[torch.Tensor]
    basic: list[torch.Tensor] = field(default_factory=list)
    traced: list[torch.Tensor] = field(default_factory=list)
    pcc: dict[str, float] = field(default_factory=dict)
    corrupted_error: str = ""
    slices: list[torch.Tensor] = field(default_factory=list)
    snapshots: dict[str, Any] = field(default_factory=dict)
    use_after_release: str = ""


def corrupt_outputs(runner: YOLOv11PosePerformantRunner) -> None:
    """Make every later ``run()`` overwrite the device output buffer with noise after the trace ran."""
    execute = runner._execute_trace

    def execute_then_corrupt(host_input: Any) -> Any:
        output = execute(host_input)
        noise = torch.randn(tuple(output.shape), generator=torch.Generator().manual_seed(0)) * 100
        ttnn.copy_host_to_device_tensor(ttnn.from_torch(noise, dtype=output.dtype, layout=output.layout), output, 0)
        ttnn.synchronize_device(runner.device)
        return output

    runner._execute_trace = execute_then_corrupt  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def reference() -> torch.nn.Module:
    return build_reference(scale="n", seed=0)


@pytest.fixture(scope="module")
def session(reference: torch.nn.Module) -> Iterator[Session]:
    torch.manual_seed(0)
    first, second = seeded_images(1, RESOLUTION, 1), seeded_images(1, RESOLUTION, 2)
    recorded = Session(inputs=[first, second, first])
    mesh_batch = seeded_images(MESH_SLICES, RESOLUTION, 3)
    machine.set_machine("wormhole_b0", num_devices=1)
    device = ttnn.open_device(device_id=0, **SINGLE_DEVICE_PARAMS)
    try:
        recorded.snapshots["before"] = machine.memory_snapshot(device)
        with YOLOv11PoseBasicRunner(device, resolution=RESOLUTION, reference_model=reference) as basic:
            recorded.basic = [basic.run_to_torch(x) for x in recorded.inputs]
        recorded.snapshots["after_basic"] = machine.memory_snapshot(device)

        runner = YOLOv11PosePerformantRunner(device, resolution=RESOLUTION, reference_model=reference)
        recorded.traced = [runner.run_to_torch(x) for x in recorded.inputs]
        recorded.pcc = runner.check_pcc(second, runner.run(second, check_pcc=True))
        recorded.slices = [runner.run_to_torch(mesh_batch[i : i + 1]) for i in range(MESH_SLICES)]
        corrupt_outputs(runner)
        with pytest.raises(PccCheckError) as error:
            runner.run(first, check_pcc=True)
        recorded.corrupted_error = str(error.value)
        runner.release()
        recorded.snapshots["after_release"] = machine.memory_snapshot(device)
        runner.release()
        recorded.snapshots["after_second_release"] = machine.memory_snapshot(device)
        with pytest.raises(RunnerReleasedError) as released:
            runner.run(first)
        recorded.use_after_release = str(released.value)
    finally:
        ttnn.close_device(device)
    recorded.inputs.append(mesh_batch)
    yield recorded


def test_traced_output_equals_the_untraced_model_exactly(session: Session) -> None:
    for basic, traced in zip(session.basic, session.traced, strict=True):
        assert traced.shape == (1, 56, 2100)
        assert torch.equal(traced, basic)


def test_each_input_of_a_sequence_gets_its_own_output(session: Session) -> None:
    first, second, first_again = session.traced
    assert not torch.equal(first, second)
    assert torch.equal(first, first_again)


def test_the_traced_output_matches_the_reference(session: Session) -> None:
    assert session.pcc["all"] >= 0.99


def test_check_pcc_fails_loudly_on_a_corrupted_output(session: Session) -> None:
    assert session.corrupted_error.startswith("PCC below threshold: all ")


# The model leaves its intermediates to the garbage collector; as on ttnn, the emulator frees a buffer with its
# last tensor, so a forward and a release both return the device memory to where it was.
def test_the_basic_path_leaves_memory_as_it_found_it(session: Session) -> None:
    assert session.snapshots["after_basic"] == session.snapshots["before"]


def test_release_restores_memory(session: Session) -> None:
    assert session.snapshots["after_release"] == session.snapshots["before"]


def test_release_is_idempotent_and_final(session: Session) -> None:
    assert session.snapshots["after_second_release"] == session.snapshots["after_release"]
    assert "was released" in session.use_after_release


@pytest.mark.parametrize("num_devices", [2, 4])
def test_a_mesh_matches_the_single_device_runner_on_each_slice(
    session: Session, reference: torch.nn.Module, num_devices: int
) -> None:
    batch = session.inputs[-1][:num_devices]
    machine.set_machine("wormhole_b0", num_devices=num_devices)
    mesh = ttnn.open_mesh_device(mesh_shape=ttnn.MeshShape(1, num_devices), **MESH_DEVICE_PARAMS)
    try:
        with YOLOv11PosePerformantRunner(mesh, resolution=RESOLUTION, reference_model=reference) as runner:
            got = runner.run_to_torch(batch)
    finally:
        ttnn.close_mesh_device(mesh)
        machine.set_machine("wormhole_b0", num_devices=1)
    assert torch.equal(got, torch.cat(session.slices[:num_devices]))

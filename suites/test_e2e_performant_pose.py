"""End to end through the traced two-queue runner: FPS with pytest-benchmark, then PCC of what it computed.

The timed call replays the trace on real images (bus.jpg, zidane.jpg, letterboxed to the point) and synchronizes
the device inside the timed region. FPS is frames per call (the global batch) over the median call time, checked
against the baseline of this device fingerprint (``--ttpose-perf-tolerance``). The last replay's output is then
checked against the torch reference on the same images, per component. ``_dp`` runs the same on the mesh, the batch
sharded over its devices.
"""

from __future__ import annotations

from typing import Any

import torch
from pytest_benchmark.fixture import BenchmarkFixture

from pytest_ttpose.harness.backends import Backend
from pytest_ttpose.harness.checks import CaseCheck
from pytest_ttpose.harness.fixture_types import PoseRunner, TtDevice
from pytest_ttpose.harness.settings import MatrixPoint

# The runner has already run three times (compile, cached, capture) when the test gets it: no warm-up round.
# A replay takes milliseconds on a device and seconds on the emulator (whose FPS only guards against gross slowdowns).
ROUNDS = {"emulator": 1}
DEFAULT_ROUNDS = 20


def _run_and_check(
    ttpose_check: CaseCheck,
    benchmark: BenchmarkFixture,
    runner: PoseRunner,
    device: TtDevice,
    torch_input: torch.Tensor,
    backend: Backend,
) -> None:
    outputs: list[Any] = []
    ttpose_check.perf(
        benchmark,
        lambda: outputs.append(runner.run(torch_input)),
        device=device,
        frames=runner.batch_size,
        rounds=ROUNDS.get(backend.name, DEFAULT_ROUNDS),
        warmup_rounds=0,
    )
    if not outputs:  # pytest-benchmark ran nothing (it does not when disabled on some versions)
        outputs.append(runner.run(torch_input))
    output = runner.output_to_torch(outputs[-1])
    reference = runner.reference_output(torch_input)
    assert output.shape == reference.shape
    ttpose_check.pcc(
        None if backend.dry_run else reference,  # a dry run compares nothing
        output,
        layers=lambda: runner.layer_pcc_rows(torch_input),
    )


def test_e2e_performant_pose(
    ttpose_point: MatrixPoint,
    ttpose_device: TtDevice,
    ttpose_runner: PoseRunner,
    ttpose_input: torch.Tensor,
    ttpose_backend: Backend,
    ttpose_check: CaseCheck,
    benchmark: BenchmarkFixture,
) -> None:
    _run_and_check(ttpose_check, benchmark, ttpose_runner, ttpose_device, ttpose_input, ttpose_backend)


def test_e2e_performant_pose_dp(
    ttpose_point: MatrixPoint,
    ttpose_mesh_device: TtDevice,
    ttpose_dp_runner: PoseRunner,
    ttpose_input: torch.Tensor,
    ttpose_backend: Backend,
    ttpose_check: CaseCheck,
    benchmark: BenchmarkFixture,
) -> None:
    assert ttpose_dp_runner.batch_size == ttpose_point.batch_size * ttpose_mesh_device.get_num_devices()
    _run_and_check(ttpose_check, benchmark, ttpose_dp_runner, ttpose_mesh_device, ttpose_input, ttpose_backend)

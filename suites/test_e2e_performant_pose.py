"""End to end through the traced two-queue runner: FPS with pytest-benchmark, then PCC of what it computed.

The timed call replays the trace on real images (bus.jpg, zidane.jpg, letterboxed to the point) and synchronizes
the device inside the timed region. FPS is frames per call (the global batch) over the median call time, checked
against the baseline of this device fingerprint (``--ttpose-perf-tolerance``). The last replay's output is then
checked against the torch reference on the same images, per component. ``_dp`` runs the same on the mesh, the batch
sharded over its devices. On the emulator the FPS is modelled (``pytest_ttpose.devperf``) from the ops the call ran.

``test_trace_speedup_pose`` compares the traced runner with the basic one (no trace, one CQ) on the same input:
the speedup per point, with where the time goes (device kernels, dispatch, transfer, host), and at least
``SPEC_SPEEDUP`` at 640x640 batch 1.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from pytest_benchmark.fixture import BenchmarkFixture

from pytest_ttpose.harness.backends import Backend
from pytest_ttpose.harness.checks import CaseCheck
from pytest_ttpose.harness.fixture_types import PoseRunner, RunnerAt, TtDevice
from pytest_ttpose.harness.settings import MatrixPoint
from pytest_ttpose.pose.acceptance import pcc_floor
from pytest_ttpose.pose.metrics import component_pcc
from pytest_ttpose.runner import YOLOv11PoseBasicRunner

# The spec's claim for trace + 2 CQs over the basic path, at tt-metal's configuration: 640x640, batch 1, bfloat8_b
# activations and weights (the configuration of the published figures the device model is calibrated on).
SPEC_SPEEDUP = 1.5
SPEC_SPEEDUP_POINT = ((640, 640), 1, "bfloat8_b", "bfloat8_b")

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
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Benchmark the runner, check PCC of its whole output; return (output, reference output or None on a dry run)."""
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
    # A dry run models the FPS from the ops real ttnn accepts for one untraced forward (a mocked trace runs nothing);
    # only the bundled runner has that untraced forward (its infra).
    infra = getattr(runner, "infra", None)
    if backend.dry_run and infra is not None:
        ttpose_check.dry_run_perf(
            infra.run,
            device=device,
            frames=runner.batch_size,
            input_elements=math.prod(list(infra.input_tensor.shape)) * device.get_num_devices(),
        )
        outputs.append(infra.output_tensor)
    output = runner.output_to_torch(outputs[-1])
    reference = runner.reference_output(torch_input)
    assert output.shape == reference.shape
    ttpose_check.pcc(
        None if backend.dry_run else reference,  # a dry run compares nothing
        output,
        layers=lambda: runner.layer_pcc_rows(torch_input),
    )
    return output, None if backend.dry_run else reference


def _check_each_device_share(output: torch.Tensor, reference: torch.Tensor, devices: int, point: MatrixPoint) -> None:
    """The PCC of the whole batch can hide one device's bad share among good ones: check every device's share."""
    share = output.shape[0] // devices
    floor = pcc_floor(point.act_dtype, point.weight_dtype)
    for device in range(devices):
        rows = slice(device * share, (device + 1) * share)
        measured = component_pcc(reference[rows], output[rows])["all"]
        assert measured >= floor, (
            f"device {device}'s share of the batch (images {rows.start}..{rows.stop - 1}): PCC {measured:.4f} < {floor}"
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
    devices = ttpose_mesh_device.get_num_devices()
    assert ttpose_dp_runner.batch_size == ttpose_point.batch_size * devices
    output, reference = _run_and_check(
        ttpose_check, benchmark, ttpose_dp_runner, ttpose_mesh_device, ttpose_input, ttpose_backend
    )
    if reference is not None:
        _check_each_device_share(output, reference, devices, ttpose_point)


def test_trace_speedup_pose(
    ttpose_point: MatrixPoint,
    ttpose_device: TtDevice,
    ttpose_basic_runner: YOLOv11PoseBasicRunner,
    ttpose_runner_at: RunnerAt,
    ttpose_input: torch.Tensor,
    ttpose_check: CaseCheck,
) -> None:
    point = ttpose_point
    at_spec_point = (point.resolution, point.batch_size, point.act_dtype, point.weight_dtype) == SPEC_SPEEDUP_POINT
    ttpose_basic_runner.run(ttpose_input)  # its first call uploads the conv weights: compare steady states
    basic = ttpose_check.call_figure(
        lambda: ttpose_basic_runner.run(ttpose_input), device=ttpose_device, frames=ttpose_basic_runner.batch_size
    )
    # The traced runner is built after the basic calls: nothing may allocate on the device while its trace exists.
    runner = ttpose_runner_at(point)
    performant = ttpose_check.call_figure(
        lambda: runner.run(ttpose_input), device=ttpose_device, frames=runner.batch_size
    )
    ttpose_check.trace_speedup(basic, performant, minimum=SPEC_SPEEDUP if at_spec_point else None)

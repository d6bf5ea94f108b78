"""End to end through the traced two-queue runner: FPS with pytest-benchmark, then PCC of what it computed.

The timed call replays the trace on real images (bus.jpg, zidane.jpg, letterboxed to the point) and synchronizes
the device inside the timed region. FPS is frames per call (the global batch) over the median call time, checked
against the baseline of this device fingerprint (``--ttpose-perf-tolerance``). The last replay's output is then
checked against the torch reference on the same images, per component. ``_dp`` runs the same on the mesh, the batch
sharded over its devices.
"""

from __future__ import annotations

from typing import Any

from pytest_ttpose.metrics import component_pcc
from pytest_ttpose.settings import MatrixPoint, pcc_threshold
from pytest_ttpose.tt.diagnostics import layer_pcc_table

# The runner has already run three times (compile, cached, capture) when the test gets it: no warm-up round.
# A replay takes milliseconds on a device and seconds on the emulator (whose FPS only guards against gross slowdowns).
ROUNDS = {"emulator": 1}
DEFAULT_ROUNDS = 20


def _run_and_check(ttpose_check: Any, benchmark: Any, runner: Any, device: Any, torch_input: Any, backend: Any) -> Any:
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
    output = runner.output_to_torch(outputs[-1])
    assert tuple(output.shape) == (runner.batch_size, 56, runner.infra.tt_model.num_anchors)
    infra = runner.infra
    reference = None if backend.dry_run else infra.reference_output(torch_input)  # a dry run compares nothing
    ttpose_check.pcc(
        reference, output, layers=lambda: layer_pcc_table(infra.reference_model, infra.tt_model, torch_input)
    )
    return output, reference


def _check_each_device_share(output: Any, reference: Any, devices: int, point: MatrixPoint) -> None:
    """The PCC of the whole batch can hide one device's bad share among good ones: check every device's share."""
    share = output.shape[0] // devices
    floor = pcc_threshold(point.act_dtype, point.weight_dtype)
    for device in range(devices):
        rows = slice(device * share, (device + 1) * share)
        measured = component_pcc(reference[rows], output[rows])["all"]
        assert measured >= floor, (
            f"device {device}'s share of the batch (images {rows.start}..{rows.stop - 1}): PCC {measured:.4f} < {floor}"
        )


def test_e2e_performant_pose(
    ttpose_point: MatrixPoint,
    ttpose_device: Any,
    ttpose_runner: Any,
    ttpose_input: Any,
    ttpose_backend: Any,
    ttpose_check: Any,
    benchmark: Any,
) -> None:
    _run_and_check(ttpose_check, benchmark, ttpose_runner, ttpose_device, ttpose_input, ttpose_backend)


def test_e2e_performant_pose_dp(
    ttpose_point: MatrixPoint,
    ttpose_mesh_device: Any,
    ttpose_dp_runner: Any,
    ttpose_input: Any,
    ttpose_backend: Any,
    ttpose_check: Any,
    benchmark: Any,
) -> None:
    devices = ttpose_mesh_device.get_num_devices()
    assert ttpose_dp_runner.batch_size == ttpose_point.batch_size * devices
    output, reference = _run_and_check(
        ttpose_check, benchmark, ttpose_dp_runner, ttpose_mesh_device, ttpose_input, ttpose_backend
    )
    if reference is not None:
        _check_each_device_share(output, reference, devices, ttpose_point)

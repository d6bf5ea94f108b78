"""The trace and two-queue invariants of the performant runner, on the configured device.

* traced == untraced: a trace replay computes what the model computes op by op on the same images;
* successive inputs give their own outputs: the trace reads the input staged for each replay (bus then zidane then
  bus again: the third output is the first one again, the second is zidane's);
* release returns every resource: after ``release()`` the device's allocators (L1, L1_SMALL, DRAM, trace region)
  hold exactly what they held before the runner was built.

Per dtype pair of the matrix, at its smallest resolution: ``test_trace_pose`` (the first two) at the largest batch,
``test_trace_pose_release`` with a runner of its own at batch 1. On the ttnn-mock dry run the values are zeros:
``test_trace_pose`` runs its calls and records a dry run; the release check is exact there too, since ttnn's real
allocator does the bookkeeping.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pytest_ttpose.harness.backends import Backend
from pytest_ttpose.harness.checks import CaseCheck
from pytest_ttpose.harness.fixture_types import InfraAt, NewRunner, RunnerAt, TtDevice
from pytest_ttpose.harness.settings import DtypePair, MatrixPoint, Settings
from pytest_ttpose.pose.acceptance import pcc_floor
from pytest_ttpose.pose.metrics import comp_pcc
from pytest_ttpose.pose.processing import preprocess

# Replaying a trace runs the same programs on the same data: anything below this is a staging or capture bug,
# not rounding (the input reaches the model through a different memory config untraced, hence not exactly 1).
TRACED_VS_UNTRACED_PCC = 0.9999


def _point(settings: Settings, pair: DtypePair, batch_size: int) -> MatrixPoint:
    height, width = min(settings.resolutions, key=lambda hw: hw[0] * hw[1])
    return MatrixPoint(settings.model_scale, height, width, batch_size, pair.act, pair.weight)


def _batch(images: dict[str, np.ndarray], names: list[str], point: MatrixPoint) -> torch.Tensor:
    batch, _ = preprocess([images[name] for name in names], point.resolution)
    return batch


def _names(first: str, batch_size: int) -> list[str]:
    order = [first, "zidane.jpg" if first == "bus.jpg" else "bus.jpg"]
    return [order[index % 2] for index in range(batch_size)]


def test_trace_pose_release(
    ttpose_dtype_pair: DtypePair,
    ttpose_settings: Settings,
    ttpose_device: TtDevice,
    ttpose_backend: Backend,
    ttpose_new_runner: NewRunner,
    ttpose_images: dict[str, np.ndarray],
) -> None:
    point = _point(ttpose_settings, ttpose_dtype_pair, 1)
    # The programs the runner compiles stay in the device's program cache (with their L1_SMALL config tensors)
    # until the cache is cleared: that memory belongs to the device, not to the runner, so both snapshots are taken
    # with the program cache cleared.
    ttpose_backend.clear_program_cache(ttpose_device)
    before = ttpose_backend.memory_snapshot(ttpose_device)
    runner = ttpose_new_runner(point)
    try:
        runner.run(_batch(ttpose_images, ["bus.jpg"], point))
        held = ttpose_backend.memory_snapshot(ttpose_device)
    finally:
        runner.release()
    ttpose_backend.clear_program_cache(ttpose_device)
    after = ttpose_backend.memory_snapshot(ttpose_device)
    assert held != before, "the runner allocated nothing on the device: the snapshot does not see allocations"
    changed = [name for name in before if before[name] != after.get(name)]
    assert after == before, f"release() left allocations behind in {', '.join(changed)}"


# The untraced runs below allocate while the runner's trace exists; their buffers are freed before the next replay,
# so the replay cannot overwrite them (the emulator warns about every such allocation all the same).
@pytest.mark.filterwarnings("ignore:Allocating device buffers is unsafe:RuntimeWarning")
def test_trace_pose(
    ttpose_dtype_pair: DtypePair,
    ttpose_settings: Settings,
    ttpose_runner_at: RunnerAt,
    ttpose_infra_at: InfraAt,
    ttpose_images: dict[str, np.ndarray],
    ttpose_backend: Backend,
    ttpose_check: CaseCheck,
) -> None:
    point = _point(ttpose_settings, ttpose_dtype_pair, max(ttpose_settings.batch_sizes))
    untraced_model = ttpose_infra_at(point)
    runner = ttpose_runner_at(point)
    first = _batch(ttpose_images, _names("bus.jpg", point.batch_size), point)
    second = _batch(ttpose_images, _names("zidane.jpg", point.batch_size), point)
    traced = [runner.run_to_torch(torch_input) for torch_input in (first, second, first)]
    if untraced_model is runner:
        # A user's runner has no untraced path to compare with: its replays are checked against the reference
        # (recorded as this case's PCC), and against each other below.
        ttpose_check.pcc(None if ttpose_backend.dry_run else runner.reference_output(first), traced[0])
        untraced = [runner.reference_output(torch_input) for torch_input in (first, second)]
        second_floor = pcc_floor(point.act_dtype, point.weight_dtype)
    else:
        untraced = [untraced_model.forward(torch_input) for torch_input in (first, second)]
        # traced == untraced (recorded as this case's PCC, "all")
        ttpose_check.tensor_pcc(untraced[0], traced[0], thresholds=TRACED_VS_UNTRACED_PCC)
        second_floor = TRACED_VS_UNTRACED_PCC
    if ttpose_backend.dry_run:
        return  # zeros everywhere: the calls were accepted, the values mean nothing
    # successive inputs give their own outputs
    assert torch.equal(traced[0], traced[2]), "replaying the same input again gave a different output"
    assert not torch.equal(traced[0], traced[1]), "a new input gave the previous output: the input was not staged"
    second_pcc = comp_pcc(untraced[1], traced[1])
    assert second_pcc >= second_floor, f"second input: traced vs untraced (or reference) PCC {second_pcc:.6f}"

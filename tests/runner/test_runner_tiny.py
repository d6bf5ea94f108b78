"""The performant runner's trace, two-queue, release and mesh logic, around the tiny stand-in model."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from tiny_pose_model import seeded_images

from pytest_ttpose.emulator.device import QueueOrderError
from pytest_ttpose.emulator.machine import memory_snapshot
from pytest_ttpose.runner import (
    PccCheckError,
    RunnerReleasedError,
    TraceCaptureError,
    YOLOv11PoseBasicRunner,
    YOLOv11PosePerformantRunner,
)

BAD_INPUTS = {
    "batch": lambda res: torch.rand(2, 3, *res),
    "channels": lambda res: torch.rand(1, 1, *res),
    "rank": lambda res: torch.rand(3, *res),
    "height": lambda res: torch.rand(1, 3, res[0] + 32, res[1]),
    "width": lambda res: torch.rand(1, 3, res[0], res[1] - 32),
    "dtype": lambda res: torch.randint(0, 255, (1, 3, *res), dtype=torch.uint8),
    "nan": lambda res: torch.full((1, 3, *res), float("nan")),
}


def basic_outputs(device: Any, kwargs: dict, inputs: list[torch.Tensor], **runner_kwargs: Any) -> list[torch.Tensor]:
    with YOLOv11PoseBasicRunner(device, **kwargs, **runner_kwargs) as runner:
        return [runner.run_to_torch(x) for x in inputs]


@pytest.mark.parametrize("arch", ["wormhole_b0", "blackhole"])
def test_traced_output_equals_untraced_output_exactly(emulated: Any, tiny_kwargs: dict, arch: str) -> None:
    device = emulated.open(arch=arch)
    inputs = [seeded_images(1, tiny_kwargs["resolution"], seed) for seed in range(3)]
    expected = basic_outputs(device, tiny_kwargs, inputs)
    with YOLOv11PosePerformantRunner(device, **tiny_kwargs) as runner:
        for x, want in zip(inputs, expected, strict=True):
            got = runner.output_to_torch(runner.run(x))
            assert torch.equal(got, want)


def test_a_sequence_of_inputs_returns_each_inputs_own_output(device: Any, tiny_kwargs: dict) -> None:
    inputs = [seeded_images(1, tiny_kwargs["resolution"], seed) for seed in (10, 11, 12, 10)]
    with YOLOv11PosePerformantRunner(device, **tiny_kwargs) as runner:
        outputs = [runner.run_to_torch(x) for x in inputs]
        for x, got in zip(inputs, outputs, strict=True):
            pccs = runner.check_pcc(x, runner.run(x))  # a fresh run of the same input
            assert pccs["all"] > 0.999
            assert torch.equal(runner.run_to_torch(x), got)
    assert not torch.equal(outputs[0], outputs[1]) and not torch.equal(outputs[1], outputs[2])
    assert torch.equal(outputs[0], outputs[3])  # same input, same output, three runs later


def test_run_returns_the_trace_output_buffer(device: Any, tiny_kwargs: dict) -> None:
    with YOLOv11PosePerformantRunner(device, **tiny_kwargs) as runner:
        first = runner.run(seeded_images(1, tiny_kwargs["resolution"], 1))
        second = runner.run(seeded_images(1, tiny_kwargs["resolution"], 2))
        assert first.buffer_address() == second.buffer_address()  # pre-allocated, reused: read before the next run


def test_check_pcc_passes_a_clean_output(device: Any, tiny_kwargs: dict) -> None:
    with YOLOv11PosePerformantRunner(device, **tiny_kwargs) as runner:
        runner.run(seeded_images(1, tiny_kwargs["resolution"], 3), check_pcc=True)


def test_check_pcc_fails_loudly_on_a_corrupted_output(device: Any, tiny_kwargs: dict, ttnn: Any) -> None:
    with YOLOv11PosePerformantRunner(device, **tiny_kwargs) as runner:
        execute = runner._execute_trace

        def execute_then_corrupt(host_input: Any) -> Any:
            output = execute(host_input)
            noise = torch.randn(tuple(output.shape), generator=torch.Generator().manual_seed(0))
            garbage = ttnn.from_torch(noise, dtype=output.dtype, layout=output.layout)
            ttnn.copy_host_to_device_tensor(garbage, output, 0)  # overwrite the device output buffer
            ttnn.synchronize_device(device)
            return output

        runner._execute_trace = execute_then_corrupt  # type: ignore[method-assign]
        with pytest.raises(PccCheckError, match=r"PCC below threshold: all .* < 0\.99"):
            runner.run(seeded_images(1, tiny_kwargs["resolution"], 4), check_pcc=True)


def test_release_restores_memory_is_idempotent_and_final(device: Any, tiny_kwargs: dict) -> None:
    before = memory_snapshot(device)
    runner = YOLOv11PosePerformantRunner(device, **tiny_kwargs)
    runner.run()
    during = memory_snapshot(device)
    assert during != before
    assert during["TRACE"] != before["TRACE"]
    runner.release()
    assert memory_snapshot(device) == before
    runner.release()
    assert memory_snapshot(device) == before
    for use in (runner.run, runner.run_to_torch, lambda: runner.output_to_torch(None), runner.__enter__):
        with pytest.raises(RunnerReleasedError, match="was released"):
            use()


def test_the_context_manager_releases(device: Any, tiny_kwargs: dict) -> None:
    before = memory_snapshot(device)
    with YOLOv11PosePerformantRunner(device, **tiny_kwargs) as runner:
        runner.run()
    assert runner.released
    assert memory_snapshot(device) == before


def test_a_capture_whose_input_moves_is_refused_and_cleaned_up(
    device: Any, tiny_kwargs: dict, ttnn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = memory_snapshot(device)
    squatters: list[Any] = []
    allocate = ttnn.allocate_tensor_on_device

    def allocate_after_a_squatter(*args: Any, **kwargs: Any) -> Any:
        squatters.append(allocate(*args, **kwargs))  # takes the freed input address first
        return allocate(*args, **kwargs)

    monkeypatch.setattr(ttnn, "allocate_tensor_on_device", allocate_after_a_squatter)
    with pytest.raises(TraceCaptureError, match="landed at .* but the trace reads its input at"):
        YOLOv11PosePerformantRunner(device, **tiny_kwargs)
    for squatter in squatters:
        ttnn.deallocate(squatter)
    assert memory_snapshot(device) == before


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_refused_before_reaching_the_device(device: Any, tiny_kwargs: dict, case: str) -> None:
    with YOLOv11PosePerformantRunner(device, **tiny_kwargs) as runner:
        good = seeded_images(1, tiny_kwargs["resolution"], 5)
        expected = runner.run_to_torch(good)
        snapshot = memory_snapshot(device)

        def no_transfer(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("a bad input reached the host->device conversion")

        runner.infra.host_input = no_transfer  # type: ignore[method-assign]
        with pytest.raises(ValueError):
            runner.run(BAD_INPUTS[case](tiny_kwargs["resolution"]))
        assert memory_snapshot(device) == snapshot
        del runner.infra.host_input
        assert torch.equal(runner.run_to_torch(good), expected)


@pytest.mark.parametrize("num_devices", [2, 4])
def test_a_mesh_matches_single_device_runs_on_each_slice(emulated: Any, tiny_kwargs: dict, num_devices: int) -> None:
    batch = seeded_images(num_devices * 2, tiny_kwargs["resolution"], 7)
    single = emulated.open()
    with YOLOv11PosePerformantRunner(single, device_batch_size=2, **tiny_kwargs) as runner:
        expected = torch.cat([runner.run_to_torch(batch[i : i + 2]) for i in range(0, len(batch), 2)])
    emulated.close(single)
    mesh = emulated.open(num_devices=num_devices)
    with YOLOv11PosePerformantRunner(mesh, device_batch_size=2, **tiny_kwargs) as runner:
        assert runner.batch_size == num_devices * 2
        got = runner.run_to_torch(batch, check_pcc=True)
        with pytest.raises(ValueError, match=f"takes exactly {num_devices * 2} images"):
            runner.run(batch[:2])
    assert torch.equal(got, expected)


def test_the_event_handshake_is_what_orders_the_two_queues(
    device: Any, tiny_kwargs: dict, ttnn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with YOLOv11PosePerformantRunner(device, **tiny_kwargs) as runner:
        runner.run(seeded_images(1, tiny_kwargs["resolution"], 8))  # ordered: fine
        monkeypatch.setattr(ttnn, "wait_for_event", lambda cq_id, event: None)
        with pytest.raises(QueueOrderError, match="without an event between them"):
            runner.run(seeded_images(1, tiny_kwargs["resolution"], 9))
        monkeypatch.undo()


def test_a_bad_construction_input_is_refused_before_the_model_is_built(device: Any, tiny_kwargs: dict) -> None:
    before = memory_snapshot(device)
    bad = torch.full((1, 3, *tiny_kwargs["resolution"]), float("nan"))
    with pytest.raises(ValueError, match="NaN"):
        YOLOv11PosePerformantRunner(device, torch_input_tensor=bad, **tiny_kwargs)
    assert memory_snapshot(device) == before


@pytest.mark.parametrize("arch", ["wormhole_b0", "blackhole"])
def test_a_320x320_input_stages_on_blackhole_as_on_wormhole(emulated: Any, tiny_kwargs: dict, arch: str) -> None:
    # At 320x320 a DRAM height-sharded staging buffer (tt-metal's) cannot be resharded into L1 on Blackhole: the
    # reader's dataflow buffer outgrows L1. The runner's staging must work there as it does on Wormhole.
    device = emulated.open(arch=arch)
    kwargs = {**tiny_kwargs, "resolution": (320, 320)}
    images = seeded_images(1, (320, 320), 12)
    expected = basic_outputs(device, kwargs, [images])[0]
    with YOLOv11PosePerformantRunner(device, **kwargs) as runner:
        assert torch.equal(runner.output_to_torch(runner.run(images)), expected)

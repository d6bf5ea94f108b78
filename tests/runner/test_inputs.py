"""Input checks and input memory configs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch

from pytest_ttpose.runner.inputs import check_torch_input, divup, l1_input_config

RESOLUTION = (64, 96)


def check(tensor: Any, batch_size: int = 2) -> None:
    check_torch_input(tensor, batch_size=batch_size, resolution=RESOLUTION, batch_origin="device_batch_size 1 x 2")


def test_a_good_batch_passes() -> None:
    check(torch.rand(2, 3, *RESOLUTION))
    check(torch.rand(2, 3, *RESOLUTION, dtype=torch.float16))


@pytest.mark.parametrize(
    ("tensor", "message"),
    [
        (torch.rand(3, *RESOLUTION), "NCHW RGB batch of shape (2, 3, 64, 96)"),
        (torch.rand(2, 4, *RESOLUTION), "got shape (2, 4, 64, 96)"),
        (torch.rand(2, *RESOLUTION, 3), "got shape (2, 64, 96, 3)"),
        (torch.rand(1, 3, *RESOLUTION), "batch is 1 but this runner takes exactly 2 images (device_batch_size 1 x 2)"),
        (torch.rand(3, 3, *RESOLUTION), "batch is 3"),
        (torch.rand(2, 3, 96, 64), "the input is 96x64 (HxW) but the runner was built for 64x96"),
        (torch.rand(2, 3, 64, 64), "resolution=(64, 64)"),
        ((torch.rand(2, 3, *RESOLUTION) * 255).to(torch.uint8), "dtype is torch.uint8"),
        (torch.ones(2, 3, *RESOLUTION, dtype=torch.int32), "tensor.float() / 255"),
        (torch.rand(2, 3, *RESOLUTION).numpy(), "must be a torch.Tensor"),
        (torch.rand(2, 3, *RESOLUTION) * 255, "values outside [0, 1] (min "),
        (torch.rand(2, 3, *RESOLUTION) - 0.5, "divide 0..255 images by 255 and do not normalize them"),
    ],
)
def test_bad_inputs_are_named(tensor: Any, message: str) -> None:
    with pytest.raises(ValueError) as error:
        check(tensor)
    assert message in str(error.value)


@pytest.mark.parametrize(("value", "word"), [(float("nan"), "NaN"), (float("inf"), "infinite"), (-float("inf"), "inf")])
def test_non_finite_pixels_are_counted(value: float, word: str) -> None:
    tensor = torch.rand(2, 3, *RESOLUTION)
    tensor[1, 2, 5, 7] = value
    tensor[0, 0, 0, 0] = value
    with pytest.raises(ValueError, match=f"holds 2 {word}"):
        check(tensor)


@pytest.mark.parametrize(("arch", "grid"), [("wormhole_b0", (8, 8)), ("blackhole", (13, 10))])
@pytest.mark.parametrize("shape", [(1, 320, 320, 16), (2, 640, 640, 16)])
def test_the_input_config_covers_the_whole_compute_grid_the_device_reports(
    open_emulated: Callable[..., Any],
    ttnn: Any,
    arch: str,
    grid: tuple[int, int],
    shape: tuple[int, int, int, int],
) -> None:
    device = open_emulated(arch=arch)
    rows = shape[0] * shape[1] * shape[2]

    l1 = l1_input_config(ttnn, device, shape)
    assert l1.memory_layout == ttnn.TensorMemoryLayout.HEIGHT_SHARDED
    assert l1.buffer_type == ttnn.BufferType.L1
    assert l1.shard_spec.grid.num_cores() == grid[0] * grid[1]
    assert list(l1.shard_spec.shape) == [divup(rows, grid[0] * grid[1]), 16]


def test_divup() -> None:
    assert [divup(n, 4) for n in (0, 1, 4, 5, 8)] == [0, 1, 1, 2, 2]

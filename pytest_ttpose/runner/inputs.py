"""Input checks and input memory configs of the pose runners.

The device sees the image as an NCHW bf16 row-major tensor of its 3 RGB channels, as tt-metal's YOLOv11 runners
send it (the model pads the channels and makes it NHWC on the device). The model reads it from an L1 height-sharded
config over the device's whole compute grid, built from what the device reports, never from a hard-coded grid, so the
same code fits an 8x8 Wormhole and a 13x10 Blackhole. (The traced runner stages it in DRAM the same way, over the
DRAM grid: ``pytest_ttpose.runner.staging``.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch


def divup(numerator: int, denominator: int) -> int:
    """Ceiling division: the number of ``denominator``-sized pieces that hold ``numerator`` items."""
    return -(-numerator // denominator)


def check_torch_input(tensor: Any, *, batch_size: int, resolution: tuple[int, int], batch_origin: str) -> None:
    """Raise ``ValueError`` unless ``tensor`` is a float ``(batch_size, 3, H, W)`` tensor at ``resolution`` with
    values in [0, 1].

    ``batch_origin`` says where ``batch_size`` comes from (e.g. "device_batch_size 1 x 2 devices"), so the message
    tells the caller what to change.
    """
    if not isinstance(tensor, torch.Tensor):
        raise ValueError(f"the input must be a torch.Tensor of shape (B, 3, H, W), got {type(tensor).__name__}")
    height, width = resolution
    expected = (batch_size, 3, height, width)
    if tensor.dim() != 4 or tensor.shape[1] != 3:
        raise ValueError(
            f"the input must be an NCHW RGB batch of shape {expected}, got shape {tuple(tensor.shape)}; "
            "convert HWC images with tensor.permute(2, 0, 1) and stack them on a new dim 0"
        )
    if tensor.shape[0] != batch_size:
        raise ValueError(
            f"the input batch is {tensor.shape[0]} but this runner takes exactly {batch_size} images "
            f"({batch_origin}); pass a batch of {batch_size} or build the runner with a matching device_batch_size"
        )
    if (tensor.shape[2], tensor.shape[3]) != (height, width):
        raise ValueError(
            f"the input is {tensor.shape[2]}x{tensor.shape[3]} (HxW) but the runner was built for {height}x{width}; "
            "letterbox the image to the runner's resolution or build a runner with resolution="
            f"({tensor.shape[2]}, {tensor.shape[3]})"
        )
    if not tensor.is_floating_point():
        raise ValueError(
            f"the input dtype is {tensor.dtype}, expected a floating-point tensor with values in [0, 1]; "
            "convert uint8 images with tensor.float() / 255"
        )
    if torch.isnan(tensor).any():
        raise ValueError(f"the input holds {int(torch.isnan(tensor).sum())} NaN values; the model needs finite pixels")
    if torch.isinf(tensor).any():
        count = int(torch.isinf(tensor).sum())
        raise ValueError(f"the input holds {count} infinite values; the model needs finite pixels")
    outside = (tensor < 0) | (tensor > 1)
    if outside.any():
        raise ValueError(
            f"the input holds {int(outside.sum())} values outside [0, 1] (min {float(tensor.min()):.4g}, max "
            f"{float(tensor.max()):.4g}); the model takes RGB pixels scaled to [0, 1]: divide 0..255 images by 255 "
            "and do not normalize them by a mean and std"
        )


def full_grid(ttnn: Any, grid: Any) -> Any:
    """A ``CoreRangeSet`` covering every core of a ``grid`` that has ``x`` and ``y`` (a CoreCoord-like size)."""
    return ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(grid.x - 1, grid.y - 1))})


def height_sharded_config(ttnn: Any, shape: Sequence[int], grid: Any, buffer_type: Any) -> Any:
    """A HEIGHT_SHARDED ``MemoryConfig`` of ``buffer_type`` splitting the rows of ``shape`` over every core of ``grid``.

    Rows are all dims but the last; the shard height is rounded up so a row count that does not divide evenly
    (e.g. 320x320 over 130 Blackhole cores) leaves the last shard partly empty instead of failing.
    """
    width = int(shape[-1])
    rows = 1
    for dim in shape[:-1]:
        rows *= int(dim)
    shard_spec = ttnn.ShardSpec(
        full_grid(ttnn, grid), [divup(rows, grid.x * grid.y), width], ttnn.ShardOrientation.ROW_MAJOR
    )
    return ttnn.MemoryConfig(ttnn.TensorMemoryLayout.HEIGHT_SHARDED, buffer_type, shard_spec)


def l1_input_config(ttnn: Any, device: Any, shape: Sequence[int]) -> Any:
    """The model's input config: L1 height-sharded over the device's whole compute grid."""
    return height_sharded_config(ttnn, shape, device.compute_with_storage_grid_size(), ttnn.BufferType.L1)


__all__ = ["check_torch_input", "divup", "full_grid", "height_sharded_config", "l1_input_config"]

"""max_pool2d and upsample in ttnn's channels-last layouts."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ..dispatch import launch
from ..tensor import Tensor
from ..types import (
    TILE_SIZE,
    BufferType,
    DataType,
    Layout,
    MemoryConfig,
    ShardOrientation,
    TensorMemoryLayout,
    reject_unsupported,
)
from .common import exact_copy, output_memory_config
from .conv import _pair
from .sharded_outputs import rows_spread_output_config, upsampled_output_config
from .sliding_window_plans import ParallelConfig, PoolWindow, plan_pool_parallel_config, pool_output_config


def max_pool2d(
    input_tensor: Tensor,
    batch_size: int,
    input_h: int,
    input_w: int,
    channels: int,
    kernel_size: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    ceil_mode: bool = False,
    *,
    memory_config: MemoryConfig | None = None,
    dram_slice_config: object = None,
    applied_shard_scheme: TensorMemoryLayout | None = None,
    deallocate_input: bool = False,
    reallocate_halo_output: bool = True,
    return_indices: bool = False,
    dtype: DataType = DataType.BFLOAT16,
    output_layout: Layout = Layout.ROW_MAJOR,
    config_tensor_in_dram: bool = False,
) -> Tensor:
    reject_unsupported("max_pool2d", return_indices=return_indices)
    kernel = _pair(kernel_size, "kernel_size")
    stride_hw = _pair(stride, "stride")
    dilation_hw = _pair(dilation, "dilation")
    if len(padding) == 4:
        top, bottom, left, right = (int(p) for p in padding)
    else:
        (top, left), (bottom, right) = _pair(padding, "padding"), _pair(padding, "padding")
    rows = batch_size * input_h * input_w
    shape = list(input_tensor.shape)
    if shape[-1] < channels:
        raise NotImplementedError(
            f"max_pool2d: the input has {shape[-1]} channels but channels={channels}; real ttnn runs it and reads "
            "past the input's rows, values the emulator does not model: pass the input's channel count"
        )
    if shape[-1] != channels or math.prod(shape[:-1]) < rows:
        raise RuntimeError(
            f"TT_FATAL: max_pool2d: input shape {shape} does not hold batch_size={batch_size} x {input_h}x{input_w} "
            f"x channels={channels}"
        )

    input_config = input_tensor.memory_config()
    input_shard = input_config.shard_spec if input_config.is_sharded() else None
    if input_shard is not None and applied_shard_scheme is not None:
        raise RuntimeError(
            "TT_FATAL: A sharding scheme should not be specified for a sharded input tensor. (max_pool2d: drop "
            "applied_shard_scheme, or pass an interleaved input)"
        )
    if input_shard is not None and input_shard.orientation != ShardOrientation.ROW_MAJOR:
        # ttnn derives the pool's output shard from the input's, whatever memory_config asks for, and its pool
        # kernels walk the cores in row-major order only (generic_pools.cpp:265)
        raise RuntimeError(
            "TT_FATAL: max_pool2d: Only row major orientation is supported. (the input is sharded "
            f"{input_shard.orientation.name}; reshard it with a ROW_MAJOR shard spec first)"
        )

    def size(extent: int, lo: int, hi: int, k: int, s: int, d: int) -> int:
        span = extent + lo + hi - d * (k - 1) - 1
        if not ceil_mode:
            return span // s + 1
        count = math.ceil(span / s) + 1
        # as torch and ttnn do: ceil mode adds no window that would start in the bottom/right padding
        return count - 1 if (count - 1) * s >= extent + lo else count

    out_h = size(input_h, top, bottom, kernel[0], stride_hw[0], dilation_hw[0])
    out_w = size(input_w, left, right, kernel[1], stride_hw[1], dilation_hw[1])

    def compute(v: list[torch.Tensor]) -> torch.Tensor:
        x = v[0].reshape(-1, channels)[:rows].reshape(batch_size, input_h, input_w, channels).permute(0, 3, 1, 2)
        x = F.pad(x, (left, right, top, bottom), value=float("-inf"))
        out = F.max_pool2d(x, kernel, stride_hw, 0, dilation_hw, ceil_mode=ceil_mode)[:, :, :out_h, :out_w]
        return out.permute(0, 2, 3, 1).reshape(1, 1, batch_size * out_h * out_w, channels)

    out_shape = [1, 1, batch_size * out_h * out_w, channels]
    # ttnn pools on an L1 sharding: the input's own, else one its pool planner picks for the interleaved input;
    # the output stays there unless memory_config asks for another placement.
    if input_shard is not None:
        parallel = ParallelConfig.of(input_config)
        buffer_type = input_config.buffer_type
    else:
        device = input_tensor.device()
        assert device is not None
        window = PoolWindow(
            batch_size,
            (input_h, input_w),
            (out_h, out_w),
            kernel,
            channels,
            input_tensor.dtype,
            input_tensor.layout,
            dtype,
            output_layout,
        )
        arch = device._arch_spec
        parallel = plan_pool_parallel_config(window, arch.compute_grid, arch.dram_alignment, applied_shard_scheme)
        buffer_type = BufferType.L1
    pooled = pool_output_config(parallel, out_shape[2], channels, output_layout == Layout.TILE, buffer_type)
    result = launch(
        "max_pool2d",
        [input_tensor],
        compute,
        dtype=dtype,
        layout=output_layout,
        memory_config=memory_config or pooled,
        exact=exact_copy(input_tensor.dtype, dtype, False),  # a max picks stored values; new bfloat8_b blocks form
    )
    if deallocate_input:
        input_tensor.deallocate()
    return result


def _check_upsample_output(input_tensor: Tensor, memory_config: MemoryConfig) -> None:
    """ttnn 0.81 on a sharded input with another output config: interleaved fails, another core count fails, and
    another sharding on as many cores is not modelled (which shard shape ttnn then uses was not measured)."""
    if not memory_config.is_sharded() or memory_config.shard_spec is None:
        raise RuntimeError(
            "TT_FATAL: bad optional access (upsample of a sharded input into an interleaved memory_config: upsample "
            "into the input's sharding, then move the result with ttnn.sharded_to_interleaved)"
        )
    ours, theirs = input_tensor.memory_config().shard_spec, memory_config.shard_spec
    assert ours is not None
    if theirs.num_cores() != ours.num_cores():
        raise RuntimeError(
            f"TT_FATAL: Output tensor should have same number of cores {theirs.num_cores()} as input tensor "
            f"{ours.num_cores()}"
        )
    raise NotImplementedError(
        "upsample: a sharded memory_config other than the input's is not modelled; pass the input's memory config"
    )


def _refuse_padded_bilinear_halo(input_tensor: Tensor) -> None:
    """ttnn 0.81 cannot halo a tile-padded height-sharded TILE input of several image rows for bilinear (measured on
    mocked n150 and p150, for widths at most half their padded one: 4 or 16 of 32 are refused, 17 or 20 of 32 taken,
    as are a single image row and a width of whole tiles): the halo's shard must span its whole output, so on several
    cores the spec is refused and on one core the process crashes. With a shard per core, each core's rows with their
    halo, (rows + 2) x (padded width + 2), make that shard."""
    shard = input_tensor.memory_config().shard_spec
    assert shard is not None
    width = input_tensor.padded_shape[2]
    cores = shard.grid.num_cores()
    shards = -(-math.prod(input_tensor.padded_shape[:-1]) // shard.shape[0])
    fix = (
        f"(bilinear upsample of a TILE input {list(input_tensor.shape)} whose width is tile-padded to {width}: convert "
        "it to ROW_MAJOR first)"
    )
    if cores == 1:
        raise RuntimeError(f"upsample: ttnn 0.81 crashes the process (segmentation fault) here {fix}")
    if shards != cores:
        raise RuntimeError(f"TT_FATAL: the halo's shard height must match its physical height for width sharded {fix}")
    halo_shard = (shard.shape[0] // width + 2) * (width + 2)
    raise RuntimeError(
        f"TT_FATAL: Shard height {halo_shard} must match physical height {halo_shard * cores} for width sharded {fix}"
    )


def upsample(
    input_tensor: Tensor,
    scale_factor: int | float | Sequence[int] | Sequence[float],
    *,
    mode: str = "nearest",
    memory_config: MemoryConfig | None = None,
    compute_kernel_config: object = None,
) -> Tensor:
    if mode not in ("nearest", "bilinear"):
        raise NotImplementedError(f"upsample: mode={mode!r} is not supported (nearest, bilinear)")
    if mode == "bilinear" and input_tensor.shape[-1] % TILE_SIZE:
        raise RuntimeError(
            f"TT_FATAL: upsample: bilinear mode needs a channel count that is a multiple of 32, got "
            f"{input_tensor.shape[-1]}: pad the channels"
        )
    shard = input_tensor.memory_config().shard_spec
    box = shard.grid.bounding_box() if shard is not None else None
    several_rows_and_columns = box is not None and box.end.y > box.start.y and box.end.x > box.start.x
    if mode == "bilinear" and shard is not None and box is not None and several_rows_and_columns:
        if shard.orientation != ShardOrientation.ROW_MAJOR:
            # bilinear reads its neighbour rows through a halo, whose sliding window walks the cores row by row
            # from the origin; a COL_MAJOR grid of several rows and columns puts its second core below the first
            # (on a single row or column both orders walk the same cores, which ttnn takes)
            raise RuntimeError(
                f"TT_FATAL: upsample: Sliding-window shard grid core 1 is {box.start.x}-{box.start.y + 1} but the "
                "origin-anchored row walk addresses it as 1-0. Only an origin-anchored, row-filled grid is "
                "supported; any other grid hangs max_pool2d/avg_pool2d or silently returns wrong conv2d results "
                "(#60513). (Reshard the input with a ROW_MAJOR shard spec first.)"
            )
    if len(input_tensor.shape) != 4:
        raise RuntimeError(f"TT_FATAL: upsample expects an [N, H, W, C] tensor, got {list(input_tensor.shape)}")
    if isinstance(scale_factor, (int, float)):
        scale_h = scale_w = scale_factor
    else:
        scale_h, scale_w = scale_factor
    tiled = input_tensor.layout == Layout.TILE
    if tiled and shard is not None and mode == "nearest":
        raise RuntimeError(
            "TT_FATAL: upsample: path != UpsamplePath::UNSUPPORTED (nearest upsample of a sharded TILE input: "
            "convert it to ROW_MAJOR first)"
        )
    # ttnn 0.81 untilizes a sharded TILE input for bilinear keeping its tile padding, which the output then holds as
    # data: [N, H, W, C] upsamples as its padded shape (measured on mocked n150 and p150)
    padding_kept = tiled and shard is not None and mode == "bilinear"
    if tuple(input_tensor.padded_shape) != tuple(input_tensor.shape) and not padding_kept:
        raise RuntimeError(
            f"TT_FATAL: upsample: the input's padded shape {list(input_tensor.padded_shape)} must equal its logical "
            f"shape {list(input_tensor.shape)}: convert it to ROW_MAJOR first"
        )
    n, h, w, c = input_tensor.padded_shape if padding_kept else input_tensor.shape
    if padding_kept and 2 * input_tensor.shape[2] <= w and n * h > 1:
        _refuse_padded_bilinear_halo(input_tensor)
    out_shape = [n, int(h * scale_h), int(w * scale_w), c]

    def compute(v: list[torch.Tensor]) -> torch.Tensor:
        x = v[0]
        if padding_kept:  # the tile padding the host wrote is zeros
            x = F.pad(x, (0, c - x.shape[3], 0, w - x.shape[2]))
        x = x.permute(0, 3, 1, 2)
        if mode == "nearest":
            out = F.interpolate(x, size=out_shape[1:3], mode="nearest")
        else:
            out = F.interpolate(x, size=out_shape[1:3], mode="bilinear", align_corners=False)
        return out.permute(0, 2, 3, 1).contiguous()

    # A height-sharded input gives its own sharding, by default or when asked for by its config: nearest makes each
    # shard taller by the scale, bilinear spreads the output rows evenly over the cores (measured).
    if mode == "bilinear":
        sharded = rows_spread_output_config(input_tensor, n * out_shape[1] * out_shape[2], c)
    else:
        sharded = upsampled_output_config(input_tensor, out_shape[1] // h * out_shape[2] // w)
    if sharded is not None and memory_config not in (None, input_tensor.memory_config()):
        _check_upsample_output(input_tensor, memory_config)
    config = sharded or memory_config or output_memory_config(input_tensor, out_shape)
    # the output is ROW_MAJOR whatever the input's layout (a TILE input is untilized first, bfloat8_b into bfloat16)
    dtype = DataType.BFLOAT16 if input_tensor.dtype == DataType.BFLOAT8_B else input_tensor.dtype
    return launch(
        "upsample",
        [input_tensor],
        compute,
        dtype=dtype,
        layout=Layout.ROW_MAJOR,
        memory_config=config,
        exact=mode == "nearest",  # nearest copies whole pixels, so channel blocks stay intact
    )

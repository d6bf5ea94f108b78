"""Which sharding ttnn 0.81's conv2d picks for an interleaved input when conv_config.shard_layout is unset.

ttnn (determine_conv_config_for_auto_shard) estimates, for height, block and width sharding, the L1 one core needs:
the conv program's circular buffers (get_cb_info, those not backed by a tensor), its output shard, and the halo's
output shard (the longest run of padded input rows one core's outputs reach, times the channels per core). Height
sharding wins unless block sharding needs less and spreads over at least a grid row of cores, or width sharding
needs less still (never for a conv run as a matmul). Checked against the real ttnn on mocked n150 and p150 chips
(tests/mock/test_sliding_window_plans.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..types import (
    TILE_SIZE,
    Conv2dConfig,
    DataType,
    Layout,
    ShardOrientation,
    TensorMemoryLayout,
    WormholeComputeKernelConfig,
    tile_bytes,
)
from .conv_programs import L1_SCRATCHPAD_BYTES, SlidingWindow, matmul_partials_dtype
from .sliding_window_plans import (
    ROW_MAJOR_CHANNEL_ALIGNMENT,
    ParallelConfig,
    conv_output_config,
    conv_output_parallel_config,
    plan_parallel_config,
)


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


@dataclass(frozen=True)
class ConvPlanInput:
    """What the auto-shard estimate reads of a conv2d call."""

    window: SlidingWindow
    in_channels: int
    out_channels: int
    input_layout: Layout
    input_dtype: DataType
    weights_dtype: DataType
    output_dtype: DataType
    has_bias: bool
    runs_as_matmul: bool
    depthwise: bool
    config: Conv2dConfig
    compute: WormholeComputeKernelConfig | None


@dataclass(frozen=True)
class ShardingEstimate:
    parallel: ParallelConfig
    core_count: int
    total_bytes: int


def _estimate(conv: ConvPlanInput, scheme: TensorMemoryLayout, grid_size: tuple[int, int]) -> ShardingEstimate:
    config = conv.config
    kernel_h, kernel_w = conv.window.kernel
    row_major_input = conv.input_layout == Layout.ROW_MAJOR
    aligns_to_8 = not conv.runs_as_matmul and scheme != TensorMemoryLayout.WIDTH_SHARDED and row_major_input
    alignment = ROW_MAJOR_CHANNEL_ALIGNMENT if aligns_to_8 else TILE_SIZE
    orientation = ShardOrientation.COL_MAJOR if config.transpose_shards else ShardOrientation.ROW_MAJOR
    parallel = plan_parallel_config(
        scheme,
        op_name="Conv2d",
        rows=conv.window.output_rows,
        in_channels=conv.in_channels,
        out_channels=conv.out_channels,
        channel_alignment=alignment,
        grid_size=grid_size,
        block_orientation=orientation,
        pad_channels=not conv.runs_as_matmul,
        tile_rows=True,
        tile_channels=True,
        act_block_h_override=config.act_block_h_override,
        depthwise=conv.depthwise,
    )
    output = conv_output_parallel_config(parallel, grid_size, conv.out_channels, conv.runs_as_matmul)
    out_shard = conv_output_config(output, conv.window.output_rows, conv.out_channels).shard_spec
    assert out_shard is not None
    cores_c = parallel.cores_channels
    in_channels_padded = _round_up(conv.in_channels, cores_c * alignment)
    out_h_tiles, out_w_tiles = -(-out_shard.shape[0] // TILE_SIZE), -(-out_shard.shape[1] // TILE_SIZE)
    block_h = out_h_tiles
    if config.act_block_h_override:
        override = config.act_block_h_override // TILE_SIZE
        block_h = (
            override if out_h_tiles % override == 0 else max(d for d in range(1, override + 1) if out_h_tiles % d == 0)
        )
    if scheme == TensorMemoryLayout.HEIGHT_SHARDED:
        block_w = _round_up(in_channels_padded * kernel_w, TILE_SIZE) // TILE_SIZE
    elif scheme == TensorMemoryLayout.BLOCK_SHARDED:
        block_w = _round_up(in_channels_padded // cores_c * kernel_w, TILE_SIZE) // TILE_SIZE
    else:
        block_w = in_channels_padded * kernel_h * kernel_w // (parallel.grid.num_cores() * config.act_block_w_div)
        block_w //= TILE_SIZE

    halo_dtype = DataType.FLOAT32 if conv.input_dtype == DataType.FLOAT32 else DataType.BFLOAT16
    input_tile, output_tile = tile_bytes(halo_dtype), tile_bytes(conv.output_dtype)
    weights_tile = tile_bytes(conv.weights_dtype)
    weights_rows_tiles = _round_up(conv.in_channels, alignment) * kernel_h * kernel_w // TILE_SIZE
    blocks_w = weights_rows_tiles // block_w if block_w else 0
    if scheme == TensorMemoryLayout.BLOCK_SHARDED:
        blocks_w *= _round_up(conv.out_channels, TILE_SIZE) // TILE_SIZE // out_w_tiles
    compute = conv.compute
    fp32_acc = compute is not None and compute.fp32_dest_acc_en
    partial_dtype = matmul_partials_dtype(compute, blocks_w, conv.has_bias, conv.output_dtype, fp32_acc)

    weight_pages = out_w_tiles * block_w
    if scheme == TensorMemoryLayout.HEIGHT_SHARDED and out_h_tiles // block_h > 1:
        weight_pages *= kernel_h  # the whole weight matrix stays in L1 across the activation blocks
    elif config.enable_weights_double_buffer:
        weight_pages *= 2
    act_tiles = block_h * block_w * (2 if config.enable_act_double_buffer else 1)
    buffers = weight_pages * weights_tile
    if conv.config.output_layout == Layout.ROW_MAJOR or partial_dtype != conv.output_dtype:
        buffers += out_h_tiles * out_w_tiles * tile_bytes(partial_dtype)  # else the output tensor holds them
    if scheme == TensorMemoryLayout.HEIGHT_SHARDED:
        buffers += act_tiles * input_tile  # split between the two readers or not, the same pages
    else:
        buffers += act_tiles * output_tile
        if scheme == TensorMemoryLayout.WIDTH_SHARDED:
            buffers += block_w * 2 * input_tile  # the row-major activation buffer
        elif halo_dtype != conv.output_dtype:
            buffers += act_tiles * input_tile  # im2col cannot overlap the activation buffer
    buffers += block_h * block_w * output_tile  # tilized activations
    buffers += out_w_tiles * weights_tile if conv.has_bias else 0
    if config.config_tensors_in_dram:
        buffers += out_h_tiles * TILE_SIZE * 2  # the reader indices, else an L1_SMALL tensor
    buffers += L1_SCRATCHPAD_BYTES
    output_bytes = out_h_tiles * out_w_tiles * output_tile

    # the halo's output shard: channels per core as the input is resharded, rows as its windows reach
    input_width = _round_up(conv.in_channels, cores_c * alignment) // cores_c
    rows_per_core = _round_up(conv.window.output_rows, parallel.cores_nhw * TILE_SIZE) // parallel.cores_nhw
    halo_bytes = (
        conv.window.halo_rows_per_core(rows_per_core) * input_width * (4 if halo_dtype == DataType.FLOAT32 else 2)
    )
    core_count = max(parallel.grid.num_cores(), output.grid.num_cores())
    return ShardingEstimate(parallel, core_count, buffers + output_bytes + halo_bytes)


def auto_shard_parallel_config(conv: ConvPlanInput, grid_size: tuple[int, int]) -> ParallelConfig:
    """The sharding ttnn's conv2d picks for an interleaved input without conv_config.shard_layout."""
    height = _estimate(conv, TensorMemoryLayout.HEIGHT_SHARDED, grid_size)
    block = _estimate(conv, TensorMemoryLayout.BLOCK_SHARDED, grid_size)
    width = _estimate(conv, TensorMemoryLayout.WIDTH_SHARDED, grid_size)
    winner = height
    if block.total_bytes < winner.total_bytes and block.core_count >= grid_size[0]:
        winner = block
    if width.total_bytes < winner.total_bytes and not conv.runs_as_matmul:
        winner = width
    return winner.parallel


__all__ = ["ConvPlanInput", "ShardingEstimate", "auto_shard_parallel_config"]

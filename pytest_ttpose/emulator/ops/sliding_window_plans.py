"""How ttnn 0.81 places the work of its sliding-window ops (conv2d, max_pool2d) on the cores: the parallel config
(which cores share the output rows and channels), the sharded memory configs it derives from one, and the pool's
choice of sharding for an interleaved input.

The rules follow tt-metal's conv2d_utils (``determine_parallel_config``, ``determine_output_parallel_config``,
``create_sharded_memory_config_from_parallel_config``, ``get_input_channels_alignment``) and pool planner
(``determine_pool_config_for_auto_shard`` and its L1 estimate), checked against the real ttnn 0.81.1 on mocked n150
and p150 chips (tests/mock/test_sliding_window_plans.py). Where the wheel differs from the public sources, the wheel
wins and the difference is said where it is coded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..types import (
    TILE_SIZE,
    BufferType,
    CoreCoord,
    CoreRange,
    CoreRangeSet,
    DataType,
    Layout,
    MemoryConfig,
    ShardOrientation,
    ShardSpec,
    TensorMemoryLayout,
    element_bytes,
    tile_bytes,
)

FACE_WIDTH = TILE_SIZE // 2
# The smallest row-major channel alignment ttnn accepts: one 16-byte L1 word of bfloat16 values.
ROW_MAJOR_CHANNEL_ALIGNMENT = 8
SHARDED_SCHEMES = (
    TensorMemoryLayout.HEIGHT_SHARDED,
    TensorMemoryLayout.WIDTH_SHARDED,
    TensorMemoryLayout.BLOCK_SHARDED,
)


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def closest_divisor(num: int, start: int) -> int:
    """The largest divisor of ``num`` not above ``start``."""
    divisor = start
    while num % divisor:
        divisor -= 1
    return divisor


def closest_common_divisor(num1: int, num2: int, start: int) -> int:
    """The largest common divisor of ``num1`` and ``num2`` not above ``start``."""
    divisor = start
    while num1 % divisor or num2 % divisor:
        divisor -= 1
    return divisor


def closest_divisor_with_padding(num: int, start: int, multiple: int = 1) -> int:
    """The largest count not above ``start`` that shares ``num`` (padded up to a multiple of count x ``multiple``)
    with less than one share of padding."""
    divisor = start
    padded = _round_up(num, divisor * multiple)
    while padded - num >= padded // divisor and divisor > 1:
        divisor -= 1
        padded = _round_up(num, divisor * multiple)
    return divisor


def cores_to_grid(count: int, grid_size: tuple[int, int]) -> CoreRangeSet:
    """``count`` cores filled row by row from (0, 0) (ttnn's num_cores_to_corerangeset, row-wise)."""
    grid_x, grid_y = grid_size
    if count > grid_x * grid_y:
        raise RuntimeError(f"TT_FATAL: {count} cores do not fit the {grid_x}x{grid_y} compute grid")
    full_rows, rest = divmod(count, grid_x)
    ranges = [CoreRange(CoreCoord(0, 0), CoreCoord(grid_x - 1, full_rows - 1))] if full_rows else []
    if rest:
        ranges.append(CoreRange(CoreCoord(0, full_rows), CoreCoord(rest - 1, full_rows)))
    return CoreRangeSet(ranges)


@dataclass(frozen=True)
class ParallelConfig:
    """Which cores a sliding-window op's rows (NHW) and channels are spread over."""

    grid: CoreRangeSet
    scheme: TensorMemoryLayout
    orientation: ShardOrientation

    @classmethod
    def of(cls, config: MemoryConfig) -> ParallelConfig:
        shard = config.shard_spec
        assert shard is not None
        return cls(shard.grid, config.memory_layout, shard.orientation)

    @property
    def cores_nhw(self) -> int:
        if self.scheme == TensorMemoryLayout.WIDTH_SHARDED:
            return 1
        if self.scheme == TensorMemoryLayout.HEIGHT_SHARDED:
            return self.grid.num_cores()
        size = self.grid.bounding_box().grid_size()
        return size.x if self.orientation == ShardOrientation.COL_MAJOR else size.y

    @property
    def cores_channels(self) -> int:
        if self.scheme == TensorMemoryLayout.HEIGHT_SHARDED:
            return 1
        if self.scheme == TensorMemoryLayout.WIDTH_SHARDED:
            return self.grid.num_cores()
        size = self.grid.bounding_box().grid_size()
        return size.y if self.orientation == ShardOrientation.COL_MAJOR else size.x


def plan_parallel_config(
    scheme: TensorMemoryLayout | None,
    *,
    op_name: str,
    rows: int,
    in_channels: int,
    out_channels: int,
    channel_alignment: int,
    grid_size: tuple[int, int],
    block_orientation: ShardOrientation = ShardOrientation.ROW_MAJOR,
    pad_channels: bool,
    tile_rows: bool,
    tile_channels: bool,
    act_block_h_override: int = 0,
    depthwise: bool = False,
    reshard_hint: str = "pass a height, width or block sharding scheme",
) -> ParallelConfig:
    """ttnn's determine_parallel_config for ``rows`` output rows. An unset (interleaved) scheme is refused as ttnn
    refuses it, followed by ``reshard_hint``: conv2d lands here when it must reshard a sharded input and no
    ``shard_layout`` says how."""
    if scheme not in SHARDED_SCHEMES:
        shown = "TensorMemoryLayout::INTERLEAVED" if scheme is None else f"TensorMemoryLayout::{scheme.name}"
        raise RuntimeError(
            f"TT_THROW: {op_name} supports Height, Block or Width Sharded Layouts but got {shown} ({reshard_hint})"
        )
    if depthwise:
        channel_alignment = TILE_SIZE
    tile_height = TILE_SIZE if tile_rows else 1
    tile_width = TILE_SIZE if tile_channels else FACE_WIDTH
    rows_ntiles = -(-rows // tile_height)
    out_channels_ntiles = -(-out_channels // tile_width)
    block_h_ntiles = act_block_h_override // TILE_SIZE or 1
    grid_x, grid_y = grid_size
    col_major = block_orientation == ShardOrientation.COL_MAJOR
    if scheme == TensorMemoryLayout.HEIGHT_SHARDED:
        cores_nhw = closest_divisor_with_padding(rows_ntiles, grid_x * grid_y, block_h_ntiles)
        return ParallelConfig(cores_to_grid(cores_nhw, grid_size), scheme, ShardOrientation.ROW_MAJOR)
    if scheme == TensorMemoryLayout.WIDTH_SHARDED:
        channel_ntiles = -(-in_channels // tile_width)
        if pad_channels:
            cores_c = closest_divisor_with_padding(channel_ntiles, grid_x * grid_y)
        else:
            cores_c = closest_divisor(channel_ntiles, grid_x * grid_y)
        return ParallelConfig(cores_to_grid(cores_c, grid_size), scheme, ShardOrientation.ROW_MAJOR)
    channel_blocks = -(-in_channels // channel_alignment)
    cores_nhw = closest_divisor_with_padding(rows_ntiles, grid_x if col_major else grid_y, block_h_ntiles)
    start_c = grid_y if col_major else grid_x
    if pad_channels:
        cores_c = closest_divisor_with_padding(channel_blocks, start_c)
    else:
        cores_c = closest_common_divisor(out_channels_ntiles, channel_blocks, start_c)
    cores_x, cores_y = (cores_nhw, cores_c) if col_major else (cores_c, cores_nhw)
    grid = CoreRangeSet([CoreRange(CoreCoord(0, 0), CoreCoord(cores_x - 1, cores_y - 1))])
    return ParallelConfig(grid, scheme, block_orientation)


def conv_output_parallel_config(
    parallel: ParallelConfig, grid_size: tuple[int, int], out_channels: int, runs_as_matmul: bool
) -> ParallelConfig:
    """ttnn's determine_output_parallel_config: a width or block sharded conv re-spreads its output channels."""
    if runs_as_matmul or parallel.scheme == TensorMemoryLayout.HEIGHT_SHARDED:
        return parallel
    out_ntiles = -(-out_channels // TILE_SIZE)
    grid_x, grid_y = grid_size
    if parallel.scheme == TensorMemoryLayout.WIDTH_SHARDED:
        cores = closest_divisor_with_padding(out_ntiles, grid_x * grid_y)
        return ParallelConfig(cores_to_grid(cores, grid_size), parallel.scheme, parallel.orientation)
    col_major = parallel.orientation == ShardOrientation.COL_MAJOR
    cores_c = closest_divisor_with_padding(out_ntiles, grid_y if col_major else grid_x)
    cores_x, cores_y = (parallel.cores_nhw, cores_c) if col_major else (cores_c, parallel.cores_nhw)
    grid = CoreRangeSet([CoreRange(CoreCoord(0, 0), CoreCoord(cores_x - 1, cores_y - 1))])
    return ParallelConfig(grid, parallel.scheme, parallel.orientation)


def sharded_config(
    parallel: ParallelConfig, rows: int, channels: int, row_alignment: int, buffer_type: BufferType = BufferType.L1
) -> MemoryConfig:
    """ttnn's create_sharded_memory_config_from_parallel_config for a [1, 1, rows, channels] tensor (``channels``
    already padded to the channel cores): the rows are padded to ``row_alignment`` per row core, except under width
    sharding, where each core holds every row as it is."""
    if channels % parallel.cores_channels:
        raise RuntimeError(f"TT_FATAL: Channels: {channels}, num core channels: {parallel.cores_channels}")
    if parallel.scheme != TensorMemoryLayout.WIDTH_SHARDED:
        rows = _round_up(rows, parallel.cores_nhw * row_alignment)
    shard_rows = rows // parallel.cores_nhw
    shard = ShardSpec(parallel.grid, [shard_rows, channels // parallel.cores_channels], parallel.orientation)
    return MemoryConfig(parallel.scheme, buffer_type, shard)


def conv_input_channel_alignment(
    input_config: MemoryConfig, input_layout: Layout, runs_as_matmul: bool, depthwise: bool
) -> int:
    """ttnn's get_input_channels_alignment for a conv's input as it arrives: a row-major input not width sharded
    needs 8 channels (a sharded one: the coarsest of 32, 16, 8 that its shard width allows), everything else 32."""
    if depthwise:
        return TILE_SIZE
    if runs_as_matmul or input_config.memory_layout == TensorMemoryLayout.WIDTH_SHARDED:
        return TILE_SIZE
    if input_layout != Layout.ROW_MAJOR:
        return TILE_SIZE
    shard = input_config.shard_spec
    if input_config.is_sharded() and shard is not None:
        width = shard.shape[1]
        return next((a for a in (TILE_SIZE, FACE_WIDTH, ROW_MAJOR_CHANNEL_ALIGNMENT) if width % a == 0), TILE_SIZE)
    return ROW_MAJOR_CHANNEL_ALIGNMENT


@dataclass(frozen=True)
class Reshard:
    """Why ttnn reshards a conv's sharded input, and the scheme it then forces (None: conv_config.shard_layout)."""

    why: str
    scheme: TensorMemoryLayout | None = None


def conv_input_reshard(
    input_config: MemoryConfig,
    input_layout: Layout,
    in_channels: int,
    runs_as_matmul: bool,
    depthwise: bool,
    reshard_if_not_optimal: bool,
) -> Reshard | None:
    """Whether ttnn reshards a conv's sharded input before running (get_conv_padded_input_shape_and_mem_config):
    when asked to, for a COL_MAJOR height or width shard, for a shard width the channel alignment does not divide,
    and for a conv run as a matmul, for a shard height that is not whole tiles or a block shard that does not hold
    the channels exactly (that one is resharded BLOCK_SHARDED whatever conv_config says)."""
    shard = input_config.shard_spec
    assert shard is not None
    alignment = conv_input_channel_alignment(input_config, input_layout, runs_as_matmul, depthwise)
    if reshard_if_not_optimal:
        return Reshard("conv_config.reshard_if_not_optimal asks for the planner's sharding: set its shard_layout")
    if input_config.memory_layout != TensorMemoryLayout.BLOCK_SHARDED and shard.orientation != (
        ShardOrientation.ROW_MAJOR
    ):
        return Reshard("the input is sharded COL_MAJOR: set conv_config.shard_layout, or shard the input ROW_MAJOR")
    if shard.shape[1] % alignment:
        return Reshard(
            f"the input's shard width {shard.shape[1]} is not a multiple of {alignment} channels: set "
            "conv_config.shard_layout, or pad the channels"
        )
    if runs_as_matmul and shard.shape[0] % TILE_SIZE:
        return Reshard(
            f"a 1x1 conv runs as a matmul, which needs whole-tile shard heights, not {shard.shape[0]}: set "
            "conv_config.shard_layout, or shard the input in multiples of 32 rows"
        )
    block = input_config.memory_layout == TensorMemoryLayout.BLOCK_SHARDED
    if runs_as_matmul and block and in_channels != ParallelConfig.of(input_config).cores_channels * shard.shape[1]:
        return Reshard("the block shards do not hold the channels exactly", TensorMemoryLayout.BLOCK_SHARDED)
    return None


def conv_output_config(parallel: ParallelConfig, rows: int, out_channels: int) -> MemoryConfig:
    """The conv's own sharded output: whole-tile rows per row core, output channels padded to whole tiles per
    channel core. Unlike the generic rule, a width-sharded conv output pads its rows to whole tiles too (measured
    on ttnn 0.81.1: 80 rows give a [96, 32] shard)."""
    channels = _round_up(out_channels, parallel.cores_channels * TILE_SIZE)
    return sharded_config(parallel, _round_up(rows, parallel.cores_nhw * TILE_SIZE), channels, TILE_SIZE)


# ---------------------------------------------------------------- max_pool2d


def pool_shard_width(channels: int, cores_channels: int, tiled_output: bool) -> int:
    """The output shard width of a pool over ``channels`` on ``cores_channels`` channel cores. Measured on ttnn
    0.81.1 (the public sources round every core's share up to half a tile): a row-major core's share stays as it is
    when it is whole half tiles, is one half tile when smaller, and is otherwise rounded up to whole tiles (40
    channels on one core take 64, 48 take 48)."""
    share = -(-channels // cores_channels)
    if tiled_output:
        return _round_up(share, TILE_SIZE)
    if share <= FACE_WIDTH:
        return FACE_WIDTH
    return share if share % FACE_WIDTH == 0 else _round_up(share, TILE_SIZE)


def pool_output_config(
    parallel: ParallelConfig, out_rows: int, channels: int, tiled_output: bool, buffer_type: BufferType
) -> MemoryConfig:
    """max_pool2d's output config on ``parallel``'s cores."""
    cores_nhw = parallel.cores_nhw
    shard_rows = _round_up(out_rows, cores_nhw * (TILE_SIZE if tiled_output else 1)) // cores_nhw
    width = pool_shard_width(channels, parallel.cores_channels, tiled_output)
    # ttnn reports the pool's shards ROW_MAJOR whatever the input's orientation (only ROW_MAJOR inputs get here)
    shard = ShardSpec(parallel.grid, [shard_rows, width], ShardOrientation.ROW_MAJOR)
    return MemoryConfig(parallel.scheme, buffer_type, shard)


@dataclass(frozen=True)
class PoolWindow:
    """What the pool planner needs of a max_pool2d call."""

    batch: int
    input_hw: tuple[int, int]
    output_hw: tuple[int, int]
    kernel: tuple[int, int]
    channels: int
    input_dtype: DataType
    input_layout: Layout
    output_dtype: DataType
    output_layout: Layout

    @property
    def out_rows(self) -> int:
        return self.batch * self.output_hw[0] * self.output_hw[1]


def _value_bytes(dtype: DataType) -> int:
    """Bytes per value in the pool's circular buffers: block floats are unpacked to bfloat16 there."""
    return 2 if dtype in (DataType.BFLOAT8_B, DataType.BFLOAT4_B) else element_bytes(dtype)


def pool_l1_bytes(window: PoolWindow, parallel: ParallelConfig, dram_alignment: int) -> int:
    """The per-core circular-buffer bytes a max pool on ``parallel`` takes (ttnn's pool calculate_L1_usage, for
    max pooling without indices and with the config tensors in L1): what the auto-sharding compares. The output
    buffer is rounded up to the DRAM alignment (ttnn's sliding_window::align_buffer), 32 B on Wormhole and 64 B on
    Blackhole, which can tip a choice one way on one arch and the other way on the other."""
    cores_c = parallel.cores_channels
    out_config = sharded_config(parallel, window.out_rows, _round_up(window.channels, cores_c * TILE_SIZE), TILE_SIZE)
    shard = out_config.shard_spec
    assert shard is not None
    value_bytes = _value_bytes(window.input_dtype)
    kernel_area = window.kernel[0] * window.kernel[1]
    tilized_rows = kernel_area if kernel_area <= FACE_WIDTH else TILE_SIZE
    in_ntiles_c = math.ceil(window.channels / cores_c / TILE_SIZE)
    tiled_output = window.output_layout == Layout.TILE
    out_ntiles_c = math.ceil(window.channels / cores_c / (TILE_SIZE if tiled_output else FACE_WIDTH))
    max_tiles_per_reduction = 8
    wide = in_ntiles_c > max_tiles_per_reduction
    in_cb = (max_tiles_per_reduction if wide else in_ntiles_c) * TILE_SIZE * tilized_rows
    in_cb_page = value_bytes * _round_up(in_cb, TILE_SIZE * TILE_SIZE)
    scalar_cb = 2 * TILE_SIZE * TILE_SIZE * value_bytes
    clear_value_cb = TILE_SIZE * TILE_SIZE * value_bytes
    input_cbs = 2 * (2 * in_cb_page)  # double buffered, one per reader of the split reader
    if tiled_output:
        out_cb = tile_bytes(window.output_dtype) * shard.shape[0] * shard.shape[1] // (TILE_SIZE * TILE_SIZE)
        pre_tilize_cb = in_ntiles_c * TILE_SIZE * TILE_SIZE * value_bytes
    else:
        out_cb = min(FACE_WIDTH, shard.shape[1]) * value_bytes * shard.shape[0] * out_ntiles_c
        pre_tilize_cb = 0
    return scalar_cb + clear_value_cb + input_cbs + pre_tilize_cb + _round_up(out_cb, dram_alignment)


def plan_pool_parallel_config(
    window: PoolWindow,
    grid_size: tuple[int, int],
    dram_alignment: int,
    applied_shard_scheme: TensorMemoryLayout | None,
) -> ParallelConfig:
    """The cores an interleaved input is sharded over before pooling: ``applied_shard_scheme`` if given, else
    whichever of height, width and block sharding needs the least L1 per core (height on a tie, then width)."""
    tiled_input = window.input_layout == Layout.TILE
    tiled_output = window.output_layout == Layout.TILE

    def plan(scheme: TensorMemoryLayout, alignment: int) -> ParallelConfig:
        return plan_parallel_config(
            scheme,
            op_name="Pool2d",
            rows=window.out_rows,
            in_channels=window.channels,
            out_channels=window.channels,
            channel_alignment=alignment,
            grid_size=grid_size,
            pad_channels=False,
            tile_rows=tiled_output,
            tile_channels=tiled_input or tiled_output,
        )

    if applied_shard_scheme is not None:
        if applied_shard_scheme not in SHARDED_SCHEMES:
            raise RuntimeError("TT_FATAL: Only height, width, or block sharding strategies are supported.")
        return plan(applied_shard_scheme, TILE_SIZE if tiled_input else ROW_MAJOR_CHANNEL_ALIGNMENT)
    height, width, block = (plan(scheme, TILE_SIZE) for scheme in SHARDED_SCHEMES)
    usage = {config: pool_l1_bytes(window, config, dram_alignment) for config in (height, width, block)}
    if usage[height] > usage[width]:
        return block if usage[width] > usage[block] else width
    return block if usage[height] > usage[block] else height


__all__ = [
    "ParallelConfig",
    "PoolWindow",
    "conv_input_channel_alignment",
    "Reshard",
    "conv_input_reshard",
    "conv_output_config",
    "conv_output_parallel_config",
    "cores_to_grid",
    "plan_parallel_config",
    "plan_pool_parallel_config",
    "pool_l1_bytes",
    "pool_output_config",
    "pool_shard_width",
    "sharded_config",
]

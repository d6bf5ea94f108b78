"""The sharded output memory configs ttnn 0.81 derives from a sharded input, op by op (transpose and permute:
``transposed_outputs.py``).

ttnn keeps a sharded input's sharding through data movement rather than falling back to interleaved memory
(measured on mocked n150 and p150 chips, ``tests/mock/scenarios/foreign_cases.py``):

* pad keeps the grid and the shard height of a height-sharded input; the shard takes the padded width (a taller
  tensor needs more shards, which may exceed the cores); a width- or block-sharded input keeps its whole config;
* slice (and split, getitem) keeps the input's sharding, each shard the matching share of the output: as many
  shards along the height and the width as the input has, or, block sharded, as the grid has rows and columns
  (``rescaled_config``);
* reshape is a view when the last dimension stays, the second last stays or is tile aligned before and after (TILE),
  and the target config (``memory_config`` or the input's) is as sharded and as much in L1 as the input: the view
  keeps the input's config, whatever ``memory_config`` says. Otherwise ttnn moves the data into the target config
  with a shard derived from its grid (``reshaped_output_config``);
* untilizing keeps the shard height; the shard takes the row-major width;
* upsample multiplies the shard height by the number of output rows each input row becomes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..tensor import Tensor
from ..types import (
    DRAM_MEMORY_CONFIG,
    TILE_SIZE,
    BufferType,
    CoreCoord,
    CoreRange,
    CoreRangeSet,
    Layout,
    MemoryConfig,
    ShardOrientation,
    ShardSpec,
    TensorMemoryLayout,
    padded_shape_for,
)


def _height_sharded(tensor: Tensor) -> ShardSpec | None:
    config = tensor.memory_config()
    if config.memory_layout != TensorMemoryLayout.HEIGHT_SHARDED or config.shard_spec is None:
        return None
    return config.shard_spec


def _with_shard(
    tensor: Tensor, memory_layout: TensorMemoryLayout, shard: ShardSpec, shape: Sequence[int]
) -> MemoryConfig:
    return MemoryConfig(
        memory_layout, tensor.memory_config().buffer_type, ShardSpec(shard.grid, list(shape), shard.orientation)
    )


def _physical(shape: Sequence[int], layout: Layout) -> tuple[int, int]:
    padded = padded_shape_for(shape, layout)
    return math.prod(padded[:-1]), int(padded[-1])


def padded_output_config(tensor: Tensor, out_shape: Sequence[int]) -> MemoryConfig | None:
    """pad's output config for a sharded input (a width- or block-sharded one keeps its config, shard shape
    included, so a padded tensor that needs more shards than its grid holds is refused), or None."""
    config = tensor.memory_config()
    if config.memory_layout in (TensorMemoryLayout.WIDTH_SHARDED, TensorMemoryLayout.BLOCK_SHARDED):
        return config
    shard = _height_sharded(tensor)
    if shard is None:
        return None
    _, width = _physical(out_shape, tensor.layout)
    return _with_shard(tensor, TensorMemoryLayout.HEIGHT_SHARDED, shard, (shard.shape[0], width))


def _share(extent: int, parts: int, align: int) -> int:
    """One of ``parts`` equal shares of ``extent``, rounded up to a multiple of ``align``."""
    share = math.ceil(extent / parts)
    return math.ceil(share / align) * align


def scaled_shard(shard: ShardSpec, before: Sequence[int], after: Sequence[int]) -> ShardSpec | None:
    """The shard scaled by the ratio of the padded height and width ``after`` to ``before`` (padded shapes), or None
    when the ratio does not give whole rows and columns (tt-metal's adjust_shard_spec_to_shape)."""
    height_before, width_before = math.prod(before[:-1]), int(before[-1])
    height_after, width_after = math.prod(after[:-1]), int(after[-1])
    rows, cols = shard.shape[0] * height_after, shard.shape[1] * width_after
    if rows % height_before or cols % width_before:
        return None
    return ShardSpec(shard.grid, [rows // height_before, cols // width_before], shard.orientation)


def split_output_config(tensor: Tensor, sizes: Sequence[int], axis: int) -> MemoryConfig | None:
    """The config of split's pieces of a sharded input (None for an interleaved one): equal pieces of a padded
    dimension they divide keep the input's sharding with its shard scaled to a piece (whole tiles for TILE);
    anything else lands in DRAM."""
    config = tensor.memory_config()
    shard = config.shard_spec
    if not config.is_sharded() or shard is None:
        return None
    padded = list(tensor.padded_shape)
    if len(set(sizes)) != 1 or padded[axis] % len(sizes):
        return DRAM_MEMORY_CONFIG
    piece = [*padded[:axis], padded[axis] // len(sizes), *padded[axis + 1 :]]
    scaled = scaled_shard(shard, padded, piece)
    if scaled is None or (
        tensor.layout == Layout.TILE and (scaled.shape[0] % TILE_SIZE or scaled.shape[1] % TILE_SIZE)
    ):
        return DRAM_MEMORY_CONFIG
    return MemoryConfig(config.memory_layout, config.buffer_type, scaled)


def reshape_is_view(tensor: Tensor, out_shape: Sequence[int], target: MemoryConfig) -> bool:
    """Whether ttnn 0.81 reshapes ``tensor`` to ``out_shape`` as a view (no data moves), keeping its config."""
    config = tensor.memory_config()
    if list(out_shape[-1:]) != list(tensor.shape[-1:]):
        return False
    if target.is_sharded() != config.is_sharded():
        return False
    if (target.buffer_type == BufferType.L1) != (config.buffer_type == BufferType.L1):
        return False
    if tensor.layout == Layout.ROW_MAJOR:
        return True
    before = tensor.shape[-2] if len(tensor.shape) > 1 else 1
    after = out_shape[-2] if len(out_shape) > 1 else 1
    return before == after or (before % TILE_SIZE == 0 and after % TILE_SIZE == 0)


def reshaped_output_config(
    out_shape: Sequence[int], layout: Layout, target: MemoryConfig, *, target_is_input: bool
) -> MemoryConfig:
    """The config a reshape that moves data gives its output for a sharded ``target``: the target's grid shares the
    output's physical height (height sharding), width (width sharding) or both (block sharding; a COL_MAJOR grid's
    columns take the rows), in whole tiles for TILE; a height shard that then holds the whole height is reported
    WIDTH_SHARDED. When the target is the input's own block-sharded config (no ``memory_config``), ttnn gives each
    grid row or column used an equal share of whole tile rows (or columns) and trims the grid to the ones used
    (measured on mocked n150 and p150 chips)."""
    shard = target.shard_spec
    if not target.is_sharded() or shard is None:
        return target
    height, width = _physical(out_shape, layout)
    align = TILE_SIZE if layout == Layout.TILE else 1
    cores = shard.num_cores()
    if target.memory_layout == TensorMemoryLayout.HEIGHT_SHARDED:
        rows, cols = cores, 1
    elif target.memory_layout == TensorMemoryLayout.WIDTH_SHARDED:
        rows, cols = 1, cores
    else:
        box = shard.grid.bounding_box()
        rows, cols = box.end.y - box.start.y + 1, box.end.x - box.start.x + 1
        if shard.orientation == ShardOrientation.COL_MAJOR:
            rows, cols = cols, rows
    trimmed = target_is_input and target.memory_layout == TensorMemoryLayout.BLOCK_SHARDED
    if trimmed:
        shape = (_divisor_share(height, rows, align), _divisor_share(width, cols, align))
    else:
        shape = (_share(height, rows, align), _share(width, cols, align))
    memory_layout = target.memory_layout
    if memory_layout == TensorMemoryLayout.HEIGHT_SHARDED and shape[0] >= height:
        memory_layout = TensorMemoryLayout.WIDTH_SHARDED
    grid = shard.grid
    if trimmed:
        grid = _cores_holding(shard, math.ceil(height / shape[0]), math.ceil(width / shape[1]))
    return MemoryConfig(memory_layout, target.buffer_type, ShardSpec(grid, list(shape), shard.orientation))


def _divisor_share(extent: int, parts: int, align: int) -> int:
    """``extent`` (whole multiples of ``align``) split over the most of ``parts`` cores that take equal shares."""
    units = math.ceil(extent / align)
    used = max(k for k in range(1, min(parts, units) + 1) if units % k == 0)
    return units // used * align


def _cores_holding(shard: ShardSpec, rows: int, cols: int) -> CoreRangeSet:
    """The corner of a block-sharded grid that ``rows`` x ``cols`` shards occupy (a COL_MAJOR grid's columns take
    the rows): ttnn trims the grid of a reshaped block-sharded output to it."""
    box = shard.grid.bounding_box()
    across, down = (cols, rows) if shard.orientation == ShardOrientation.ROW_MAJOR else (rows, cols)
    end = CoreCoord(box.start.x + across - 1, box.start.y + down - 1)
    return CoreRangeSet([CoreRange(box.start, end)])


def rescaled_output_config(tensor: Tensor, out_shape: Sequence[int]) -> MemoryConfig | None:
    """The config of an output cut from a sharded input (slice, and the ops built on it), or None for an
    interleaved input (``rescaled_config``)."""
    return rescaled_config(tensor.shape, tensor.layout, tensor.memory_config(), out_shape)


def rescaled_config(
    shape: Sequence[int], layout: Layout, config: MemoryConfig, out_shape: Sequence[int]
) -> MemoryConfig | None:
    """The config ttnn gives an output of another shape cut out of a sharded tensor (slice), or None for an
    interleaved one: the input's sharding kind, grid and orientation, each shard the matching share of the output's
    physical height and width, rounded up to whole tiles for TILE. Height and width sharding share the output
    among as many shards as the input has along that side; block sharding shares its height among the grid's rows
    and its width among the grid's columns whatever the orientation, so a COL_MAJOR grid (whose columns take the
    height shards) can be left with more shards along a side than it has cores there, which ttnn then refuses
    (measured on mocked n150 and p150 chips)."""
    shard = config.shard_spec
    if not config.is_sharded() or shard is None:
        return None
    height, width = _physical(shape, layout)
    out_height, out_width = _physical(out_shape, layout)
    align = TILE_SIZE if layout == Layout.TILE else 1
    if config.memory_layout == TensorMemoryLayout.BLOCK_SHARDED:
        box = shard.grid.bounding_box()
        along_height, along_width = box.end.y - box.start.y + 1, box.end.x - box.start.x + 1
    else:
        along_height, along_width = math.ceil(height / shard.shape[0]), math.ceil(width / shard.shape[1])
    rows = _share(out_height, along_height, align)
    cols = _share(out_width, along_width, align)
    return MemoryConfig(
        config.memory_layout, config.buffer_type, ShardSpec(shard.grid, [rows, cols], shard.orientation)
    )


def untilized_output_config(tensor: Tensor) -> MemoryConfig | None:
    """to_layout(ROW_MAJOR)'s output config for a height-sharded TILE input, or None. (Tilizing keeps the input's
    shard, which must then be whole tiles.)"""
    shard = _height_sharded(tensor)
    if shard is None or tensor.layout != Layout.TILE:
        return None
    _, width = _physical(tensor.shape, Layout.ROW_MAJOR)
    return _with_shard(tensor, TensorMemoryLayout.HEIGHT_SHARDED, shard, (shard.shape[0], width))


def rows_spread_output_config(tensor: Tensor, out_rows: int, channels: int) -> MemoryConfig | None:
    """A height-sharded input's cores sharing ``out_rows`` output rows of ``channels`` evenly (bilinear upsample),
    or None for another input."""
    shard = _height_sharded(tensor)
    if shard is None:
        return None
    shape = (-(-out_rows // shard.num_cores()), channels)
    return _with_shard(tensor, TensorMemoryLayout.HEIGHT_SHARDED, shard, shape)


def upsampled_output_config(tensor: Tensor, rows_per_input_row: int) -> MemoryConfig | None:
    """upsample's output config for a height-sharded input, or None."""
    shard = _height_sharded(tensor)
    if shard is None:
        return None
    shape = (shard.shape[0] * rows_per_input_row, shard.shape[1])
    return _with_shard(tensor, TensorMemoryLayout.HEIGHT_SHARDED, shard, shape)

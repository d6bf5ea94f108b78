"""The sharded output memory configs ttnn 0.81 derives from a height-sharded input, op by op.

ttnn keeps a height-sharded input's sharding through data movement rather than falling back to interleaved memory
(measured on mocked n150 and p150 chips, ``tests/mock/scenarios/foreign_cases.py``):

* pad keeps the grid and the shard height of a height-sharded input; the shard takes the padded width (a taller
  tensor needs more shards, which may exceed the cores); a width- or block-sharded input keeps its whole config;
* a permute that keeps the last dimension spreads the new physical height over the same cores (rounded up to
  whole tiles for TILE) with the full width;
* reshape is a view when the last dimension stays, the second last stays or is tile aligned before and after (TILE),
  and the target config (``memory_config`` or the input's) is as sharded and as much in L1 as the input: the view
  keeps the input's config, whatever ``memory_config`` says. Otherwise ttnn moves the data into the target config
  with a shard derived from its grid (``reshaped_output_config``);
* a permute that swaps the last two dimensions turns height sharding into width sharding with the shard transposed;
* untilizing keeps the shard height; the shard takes the row-major width;
* upsample multiplies the shard height by the number of output rows each input row becomes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..tensor import Tensor
from ..types import (
    TILE_SIZE,
    BufferType,
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


def respread_output_config(tensor: Tensor, out_shape: Sequence[int], layout: Layout) -> MemoryConfig | None:
    """reshape's (and a last-dimension-keeping permute's) output config for a height-sharded input, or None."""
    shard = _height_sharded(tensor)
    if shard is None:
        return None
    height, width = _physical(out_shape, layout)
    rows = -(-height // shard.num_cores())
    if layout == Layout.TILE:
        rows = -(-rows // TILE_SIZE) * TILE_SIZE
    return _with_shard(tensor, TensorMemoryLayout.HEIGHT_SHARDED, shard, (rows, width))


def _share(extent: int, parts: int, align: int) -> int:
    """One of ``parts`` equal shares of ``extent``, rounded up to a multiple of ``align``."""
    share = math.ceil(extent / parts)
    return math.ceil(share / align) * align


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


def reshaped_output_config(out_shape: Sequence[int], layout: Layout, target: MemoryConfig) -> MemoryConfig:
    """The config a reshape that moves data gives its output for a sharded ``target``: the target's grid shares the
    output's physical height (height sharding), width (width sharding) or both (block sharding; a COL_MAJOR grid's
    columns take the rows), in whole tiles for TILE; a height shard that then holds the whole height is reported
    WIDTH_SHARDED (measured on mocked n150 and p150 chips)."""
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
    shape = (_share(height, rows, align), _share(width, cols, align))
    memory_layout = target.memory_layout
    if memory_layout == TensorMemoryLayout.HEIGHT_SHARDED and shape[0] >= height:
        memory_layout = TensorMemoryLayout.WIDTH_SHARDED
    return MemoryConfig(memory_layout, target.buffer_type, ShardSpec(shard.grid, list(shape), shard.orientation))


def transposed_output_config(tensor: Tensor) -> MemoryConfig | None:
    """The output config of a permute swapping the last two dimensions of a height-sharded input, or None."""
    shard = _height_sharded(tensor)
    if shard is None:
        return None
    return _with_shard(tensor, TensorMemoryLayout.WIDTH_SHARDED, shard, (shard.shape[1], shard.shape[0]))


def untilized_output_config(tensor: Tensor) -> MemoryConfig | None:
    """to_layout(ROW_MAJOR)'s output config for a height-sharded TILE input, or None. (Tilizing keeps the input's
    shard, which must then be whole tiles.)"""
    shard = _height_sharded(tensor)
    if shard is None or tensor.layout != Layout.TILE:
        return None
    _, width = _physical(tensor.shape, Layout.ROW_MAJOR)
    return _with_shard(tensor, TensorMemoryLayout.HEIGHT_SHARDED, shard, (shard.shape[0], width))


def upsampled_output_config(tensor: Tensor, rows_per_input_row: int) -> MemoryConfig | None:
    """upsample's output config for a height-sharded input, or None."""
    shard = _height_sharded(tensor)
    if shard is None:
        return None
    shape = (shard.shape[0] * rows_per_input_row, shard.shape[1])
    return _with_shard(tensor, TensorMemoryLayout.HEIGHT_SHARDED, shard, shape)

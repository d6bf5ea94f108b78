"""create_sharded_memory_config, with ttnn's arithmetic and errors."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .types import (
    BufferType,
    CoreCoord,
    CoreGrid,
    CoreRange,
    CoreRangeSet,
    MemoryConfig,
    ShardOrientation,
    ShardSpec,
    ShardStrategy,
    TensorMemoryLayout,
)

_LAYOUTS = {
    ShardStrategy.HEIGHT: TensorMemoryLayout.HEIGHT_SHARDED,
    ShardStrategy.WIDTH: TensorMemoryLayout.WIDTH_SHARDED,
    ShardStrategy.BLOCK: TensorMemoryLayout.BLOCK_SHARDED,
}


def create_sharded_memory_config(
    shape: Sequence[int],
    core_grid: CoreGrid | CoreRangeSet,
    strategy: ShardStrategy,
    orientation: ShardOrientation | None = None,
    use_height_and_width_as_shard_shape: bool = False,
) -> MemoryConfig:
    if strategy not in _LAYOUTS:
        raise RuntimeError("Invalid sharding strategy")
    shard_orientation = orientation or ShardOrientation.ROW_MAJOR
    if isinstance(core_grid, CoreGrid):
        grid = CoreRangeSet([CoreRange(CoreCoord(0, 0), CoreCoord(core_grid.x - 1, core_grid.y - 1))])
    elif isinstance(core_grid, CoreRangeSet):
        grid = core_grid
        if not use_height_and_width_as_shard_shape:
            raise RuntimeError("height and width must be shard shape with CoreRangeSet")
    else:
        raise RuntimeError("Invalid core_grid type")
    *batch, height, width = (int(d) for d in shape)
    if use_height_and_width_as_shard_shape:
        shard_shape = (height, width) if shard_orientation == ShardOrientation.ROW_MAJOR else (width, height)
    else:
        shard_height = math.prod(batch) * height
        assert isinstance(core_grid, CoreGrid)
        if strategy == ShardStrategy.BLOCK:
            rows, cols = (core_grid.y, core_grid.x)
            if shard_orientation == ShardOrientation.COL_MAJOR:
                rows, cols = cols, rows
            if shard_height % rows or width % cols:
                raise RuntimeError("Invalid sharding core_grid")
            shard_shape = (shard_height // rows, width // cols)
        elif strategy == ShardStrategy.HEIGHT:
            if shard_height % core_grid.num_cores:
                raise RuntimeError("Invalid sharding core_grid")
            shard_shape = (shard_height // core_grid.num_cores, width)
        else:
            if width % core_grid.num_cores:
                raise RuntimeError("Invalid sharding core_grid")
            shard_shape = (shard_height, width // core_grid.num_cores)
    return MemoryConfig(_LAYOUTS[strategy], BufferType.L1, ShardSpec(grid, list(shard_shape), shard_orientation))


def _grid_of(core_grid: CoreGrid | CoreRangeSet | Sequence[CoreGrid]) -> CoreRangeSet:
    """The cores of ``core_grid``: a CoreGrid from (0, 0), a CoreRangeSet as given, or a (full rows, last row) pair
    of CoreGrids (the full rows, then the first ``x`` cores of the row below them)."""
    if isinstance(core_grid, CoreGrid):
        return CoreRangeSet([CoreRange(CoreCoord(0, 0), CoreCoord(core_grid.x - 1, core_grid.y - 1))])
    if isinstance(core_grid, CoreRangeSet):
        return core_grid
    if isinstance(core_grid, (list, tuple)):
        if len(core_grid) != 2:
            raise RuntimeError("Invalid core_grid")
        full, last = core_grid
        if not isinstance(full, CoreGrid) or not isinstance(last, CoreGrid):
            raise RuntimeError("Invalid core_grid type")
        return CoreRangeSet(
            [
                CoreRange(CoreCoord(0, 0), CoreCoord(full.x - 1, full.y - 1)),
                CoreRange(CoreCoord(0, full.y), CoreCoord(last.x - 1, full.y)),
            ]
        )
    raise RuntimeError("Invalid core_grid type")


def create_sharded_memory_config_(
    shape: Sequence[int],
    core_grid: CoreGrid | CoreRangeSet | Sequence[CoreGrid],
    strategy: ShardStrategy | TensorMemoryLayout,
    orientation: ShardOrientation,
    use_height_and_width_as_shard_shape: bool = False,
    tile_layout: bool = False,
) -> MemoryConfig:
    """ttnn 0.81's variant that divides with rounding up, so the tensor need not split evenly over the cores (the
    last shard is partly empty); ``tile_layout`` first pads the height (to a multiple of the core count for height
    sharding, of 32 rows per grid row for block sharding) and then needs a tile-aligned shard."""
    if isinstance(strategy, ShardStrategy):
        memory_layout = _LAYOUTS[strategy]
    elif isinstance(strategy, TensorMemoryLayout):
        memory_layout = strategy
    else:
        raise RuntimeError("Invalid type of sharding strategy")
    if not isinstance(orientation, ShardOrientation):
        raise RuntimeError("Invalid type of shard orientation")
    grid = _grid_of(core_grid)
    *batch, height, width = (int(d) for d in shape)
    if use_height_and_width_as_shard_shape:
        shard_shape = (height, width) if orientation == ShardOrientation.ROW_MAJOR else (width, height)
    else:
        rows = math.prod(batch) * height
        cores = grid.num_cores()
        box = grid.bounding_box().grid_size()
        if memory_layout == TensorMemoryLayout.BLOCK_SHARDED:
            if box.x * box.y != cores:
                raise RuntimeError("Invalid CoreRangeSet for block sharding strategy")
            along_height, along_width = (box.y, box.x) if orientation == ShardOrientation.ROW_MAJOR else (box.x, box.y)
            if tile_layout:
                rows = -(-rows // (along_height * 32)) * along_height * 32
            shard_shape = (-(-rows // along_height), -(-width // along_width))
        elif memory_layout == TensorMemoryLayout.HEIGHT_SHARDED:
            if tile_layout:
                rows = -(-rows // cores) * cores
            shard_shape = (-(-rows // cores), width)
        elif memory_layout == TensorMemoryLayout.WIDTH_SHARDED:
            shard_shape = (rows, -(-width // cores))
        else:
            raise RuntimeError("Invalid sharding scheme")
    if tile_layout and shard_shape[0] % 32 and shard_shape[1] % 32:
        raise RuntimeError("Incorrect tensor shape")
    return MemoryConfig(memory_layout, BufferType.L1, ShardSpec(grid, list(shard_shape), orientation))

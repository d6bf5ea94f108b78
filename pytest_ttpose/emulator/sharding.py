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

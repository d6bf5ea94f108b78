"""The output memory config of ttnn 0.81's transpose and permute on a sharded input.

ttnn works on 4-D tensors and builds every sharded permute out of three transposes: WH (the last two dims), HC
(dims 1 and 2) and CN (dims 0 and 1); the other transposes are permutes. Each step derives its output config from
its input's, and the output of one step is the input of the next:

* a ROW_MAJOR width- or block-sharded input is moved to L1 interleaved first, so the result is L1 interleaved, unless
  it has the input's very shape (it then keeps the input's config; ttnn moves a few others back into a sharded
  config too, which the emulator does not model yet);
* a *native* input (height or width sharded in L1, whole shards: the padded height and width are multiples of the
  shard's, and for ROW_MAJOR a shard holds whole tiles' worth of elements) keeps its config: WH on a single
  [H, W] slice whose shard holds the full width becomes WIDTH_SHARDED with the shard transposed; other WH and HC
  (TILE) steps scale the shard by the ratio of the output's padded height and width to the input's, and fall
  back to L1 interleaved when that is not exact or not whole tiles; CN and ROW_MAJOR HC keep the shard as it is;
* any other sharded input keeps its memory layout: the shard is scaled the same way, and where that fails (or is
  not whole tiles for TILE) ttnn spreads the output over the whole compute grid (``synthesized_shard``).

Facts read from tt-metal's transpose sources and checked against the real ttnn 0.81.1 on mocked n150 and p150
chips (``tests/mock/scenarios/foreign_cases.py``, ``tests/emulator/test_differential.py``). A device permute (an
order not composed of transposes) scales a TILE input's shard the same way; a ROW_MAJOR input's lands in L1
interleaved.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..types import (
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
)
from .sharded_outputs import scaled_shard

TransposeKind = Literal["WH", "HC", "CN"]
L1_INTERLEAVED = MemoryConfig(TensorMemoryLayout.INTERLEAVED, BufferType.L1)


@dataclass(frozen=True)
class Placement:
    """What a transpose step needs of a tensor: its 4-D logical shape, layout and memory config."""

    shape: tuple[int, int, int, int]
    layout: Layout
    config: MemoryConfig

    def padded(self) -> tuple[int, int, int, int]:
        n, c, h, w = self.shape
        if self.layout == Layout.TILE:
            return n, c, _round_up(h, TILE_SIZE), _round_up(w, TILE_SIZE)
        shard = self.config.shard_spec
        if shard is not None and self.config.is_sharded() and shard.shape[1] > 0:
            w = _round_up(w, shard.shape[1])  # a sharded ROW_MAJOR row is padded to whole shards
        return n, c, h, w


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _height_width(padded: Sequence[int]) -> tuple[int, int]:
    return math.prod(padded[:-1]), int(padded[-1])


def _whole_tiles(shape: Sequence[int]) -> bool:
    return shape[0] % TILE_SIZE == 0 and shape[1] % TILE_SIZE == 0


def _native(placement: Placement) -> bool:
    config, shard = placement.config, placement.config.shard_spec
    if not config.is_sharded() or shard is None or config.buffer_type == BufferType.DRAM:
        return False
    if config.memory_layout == TensorMemoryLayout.BLOCK_SHARDED:
        return False
    if placement.layout == Layout.ROW_MAJOR and (shard.shape[0] * shard.shape[1]) % (TILE_SIZE * TILE_SIZE):
        return False
    height, width = _height_width(placement.padded())
    return height % shard.shape[0] == 0 and width % shard.shape[1] == 0


def cores_in_order(count: int, grid: CoreCoord, row_wise: bool) -> CoreRangeSet:
    """The first ``count`` cores of ``grid``, along its rows (row-wise) or its columns."""
    along = grid.x if row_wise else grid.y
    full, rest = divmod(count, along)
    ranges = []
    if full:
        end = (along - 1, full - 1) if row_wise else (full - 1, along - 1)
        ranges.append(CoreRange(CoreCoord(0, 0), CoreCoord(*end)))
    if rest:
        start, end = ((0, full), (rest - 1, full)) if row_wise else ((full, 0), (full, rest - 1))
        ranges.append(CoreRange(CoreCoord(*start), CoreCoord(*end)))
    return CoreRangeSet(ranges)


def synthesized_shard(
    padded: Sequence[int],
    align: int,
    memory_layout: TensorMemoryLayout,
    orientation: ShardOrientation,
    grid: CoreCoord,
) -> ShardSpec:
    """The shard ttnn spreads an output over when it cannot derive one from the input's: an equal share of the
    whole compute grid (in multiples of ``align``), on the cores that share holds."""
    height, width = _height_width(padded)
    cores = grid.x * grid.y
    row_wise = orientation == ShardOrientation.ROW_MAJOR
    whole = CoreRangeSet([CoreRange(CoreCoord(0, 0), CoreCoord(grid.x - 1, grid.y - 1))])
    if memory_layout == TensorMemoryLayout.HEIGHT_SHARDED:
        shape = (_round_up(_round_up(height, cores * align) // cores, align), _round_up(width, align))
        used = min(max(-(-height // shape[0]), 1), cores)
    elif memory_layout == TensorMemoryLayout.WIDTH_SHARDED:
        shape = (_round_up(height, align), _round_up(-(-width // cores), align))
        used = min(max(-(-width // shape[1]), 1), cores)
    else:
        rows_div, cols_div = (grid.y, grid.x) if row_wise else (grid.x, grid.y)
        shape = (
            _round_up(_round_up(height, rows_div * align) // rows_div, align),
            _round_up(-(-width // cols_div), align),
        )
        along_h, along_w = -(-height // shape[0]), -(-width // shape[1])
        x, y = (along_w, along_h) if row_wise else (along_h, along_w)
        if x > grid.x or y > grid.y:
            raise RuntimeError(
                f"TT_FATAL: transpose: BLOCK shard-grid ({x}x{y} along x/y) exceeds compute grid ({grid.x}x{grid.y})"
            )
        box = CoreRangeSet([CoreRange(CoreCoord(0, 0), CoreCoord(max(x, 1) - 1, max(y, 1) - 1))])
        return ShardSpec(box, list(shape), orientation)
    cores_used = whole if used == cores else cores_in_order(used, grid, row_wise)
    return ShardSpec(cores_used, list(shape), orientation)


def _transposed_shape(placement: Placement, kind: TransposeKind) -> tuple[int, int, int, int]:
    n, c, h, w = placement.shape
    return {"WH": (n, c, w, h), "HC": (n, h, c, w), "CN": (c, n, h, w)}[kind]


def _transposed_padded(placement: Placement, kind: TransposeKind) -> tuple[int, int, int, int]:
    """The output's padded shape: the input's with the two dims swapped, except TILE HC, which pads the new
    height (the old channels) to whole tiles and leaves the new channels (the old height) unpadded."""
    n, c, h, w = placement.padded()
    if kind == "HC" and placement.layout == Layout.TILE:
        return n, placement.shape[2], _round_up(placement.shape[1], TILE_SIZE), w
    return {"WH": (n, c, w, h), "HC": (n, h, c, w), "CN": (c, n, h, w)}[kind]


def transpose_step(placement: Placement, kind: TransposeKind, grid: CoreCoord) -> Placement:
    """One transpose of a 4-D tensor, without a requested memory config: its output shape and config."""
    config = placement.config
    out_shape = _transposed_shape(placement, kind)
    if not config.is_sharded() or config.shard_spec is None:
        return Placement(out_shape, placement.layout, config)
    shard = config.shard_spec
    tile = placement.layout == Layout.TILE
    before = placement.padded()
    after = _transposed_padded(placement, kind)
    scaled = scaled_shard(shard, before, after)
    if placement.layout == Layout.ROW_MAJOR and config.memory_layout != TensorMemoryLayout.HEIGHT_SHARDED:
        # moved to L1 interleaved and transposed there; an output of the input's very shape keeps the input's config
        return Placement(out_shape, placement.layout, config if out_shape == placement.shape else L1_INTERLEAVED)
    if _native(placement):
        if kind == "CN" or (kind == "HC" and not tile):
            return Placement(out_shape, placement.layout, config)
        n, c, _, width = before
        if kind == "WH" and n == 1 and c == 1 and shard.shape[1] == width:
            swapped = [shard.shape[1], shard.shape[0]]
            if tile and not _whole_tiles(swapped):
                return Placement(out_shape, placement.layout, L1_INTERLEAVED)
            out = MemoryConfig(
                TensorMemoryLayout.WIDTH_SHARDED, config.buffer_type, ShardSpec(shard.grid, swapped, shard.orientation)
            )
            return Placement(out_shape, placement.layout, out)
        if scaled is None or (tile and not _whole_tiles(scaled.shape)):
            return Placement(out_shape, placement.layout, L1_INTERLEAVED)
        return Placement(out_shape, placement.layout, MemoryConfig(config.memory_layout, config.buffer_type, scaled))
    if scaled is None or (tile and not _whole_tiles(scaled.shape)):
        scaled = synthesized_shard(after, TILE_SIZE, config.memory_layout, shard.orientation, grid)
    return Placement(out_shape, placement.layout, MemoryConfig(config.memory_layout, config.buffer_type, scaled))


# The transposes ttnn composes a sharded 4-D permute of, applied left to right; any other order is one device
# permute that keeps the input's config.
_PERMUTE_STEPS: dict[tuple[int, ...], tuple[TransposeKind, ...]] = {
    (0, 1, 2, 3): (),
    (0, 1, 3, 2): ("WH",),
    (0, 2, 1, 3): ("HC",),
    (0, 2, 3, 1): ("HC", "WH"),
    (0, 3, 1, 2): ("WH", "HC"),
    (0, 3, 2, 1): ("WH", "HC", "WH"),
}


def _device_permute_config(placement: Placement, out_shape: tuple[int, int, int, int], grid: CoreCoord) -> MemoryConfig:
    """One device permute: a TILE input's shard is scaled like a transpose step's (spread over the compute grid when
    that fails); a ROW_MAJOR input's output lands in L1 interleaved."""
    config, shard = placement.config, placement.config.shard_spec
    if not config.is_sharded() or shard is None:
        return config
    if placement.layout == Layout.ROW_MAJOR:
        return L1_INTERLEAVED
    after = Placement(out_shape, placement.layout, MemoryConfig(config.memory_layout, config.buffer_type))
    scaled = scaled_shard(shard, placement.padded(), after.padded())  # TILE
    if scaled is None or not _whole_tiles(scaled.shape):
        scaled = synthesized_shard(after.padded(), TILE_SIZE, config.memory_layout, shard.orientation, grid)
    return MemoryConfig(config.memory_layout, config.buffer_type, scaled)


def permuted_output_config(
    shape: Sequence[int],
    layout: Layout,
    config: MemoryConfig,
    order: Sequence[int],
    grid: CoreCoord,
) -> MemoryConfig:
    """The output config of ``permute(order)`` on a sharded 4-D tensor without a requested memory config."""
    steps = _PERMUTE_STEPS.get(tuple(order))
    placement = Placement((shape[0], shape[1], shape[2], shape[3]), layout, config)
    if steps is None:
        out_shape = (shape[order[0]], shape[order[1]], shape[order[2]], shape[order[3]])
        return _device_permute_config(placement, out_shape, grid)
    for kind in steps:
        placement = transpose_step(placement, kind, grid)
    return placement.config


def transposed_output_config(
    shape: Sequence[int],
    layout: Layout,
    config: MemoryConfig,
    dims: tuple[int, int],
    grid: CoreCoord,
) -> MemoryConfig:
    """The output config of ``transpose(dims)`` on a sharded 4-D tensor without a requested memory config."""
    first, second = sorted(dims)
    placement = Placement((shape[0], shape[1], shape[2], shape[3]), layout, config)
    padded = placement.padded()
    if first == second or (padded[first] == 1 and padded[second] == 1):
        return config
    kinds: dict[tuple[int, int], TransposeKind] = {(2, 3): "WH", (1, 2): "HC", (0, 1): "CN"}
    if (first, second) in kinds:
        return transpose_step(placement, kinds[(first, second)], grid).config
    order = [0, 1, 2, 3]
    order[first], order[second] = order[second], order[first]
    return permuted_output_config(shape, layout, config, order, grid)

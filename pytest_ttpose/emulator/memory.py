"""Device memory: per-bank allocators for L1, L1_SMALL, DRAM and the trace region, buffer sizing, shard checks.

Allocation follows tt-metal's bank manager: a buffer takes the same address range in every bank of its type
(interleaved pages round-robin over all banks; a sharded buffer reserves its shard size in every bank); L1 grows
down from the top of the allocatable range, DRAM grows up; freed ranges are merged. Addresses are deterministic.
Error texts follow ttnn's so that a log from the emulator reads like one from a device.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from .types import (
    TILE_SIZE,
    BufferType,
    Layout,
    MemoryConfig,
    ShardOrientation,
    TensorMemoryLayout,
    TensorSpec,
    element_bytes,
    spec_padded_shape,
    tile_bytes,
)


@dataclass(frozen=True)
class ArchSpec:
    """One chip as tt-metal's allocator sees it (numbers from the wheel's SoC descriptors and mock-mode runs)."""

    name: str
    compute_grid: tuple[int, int]
    dram_banks: int
    worker_l1_size: int
    l1_unreserved_base: int
    dram_bank_size: int
    dram_unreserved_base: int
    l1_alignment: int
    dram_alignment: int


ARCHS = {
    # Wormhole B0 (n150) as ttnn 0.81.1's mock mode reports it: 8x8 compute grid, 1499136 B of L1 per core (64 L1
    # banks of 1393312 B - l1_small_size; circular buffers start at the same 105824 B base), 12 DRAM banks of 1 GiB.
    "wormhole_b0": ArchSpec("wormhole_b0", (8, 8), 12, 1499136, 105824, 1 << 30, 1048704, 16, 32),
    # Blackhole P150 as ttnn 0.81.1's mock mode reports it: 13x10 grid (130 L1 banks of 1461120 B - l1_small_size),
    # 8 DRAM banks of 4278190080 B with the first 1048704 B reserved.
    "blackhole": ArchSpec("blackhole", (13, 10), 8, 1572864, 111744, 4278190080, 1048704, 16, 64),
}

_TRACE_REGION_ALIGNMENT = 8192


class OutOfMemoryError(RuntimeError):
    pass


@dataclass
class BankAllocator:
    """Free-list allocator for one address range shared by ``num_banks`` identical banks."""

    name: str
    num_banks: int
    start: int
    end: int
    alignment: int
    top_down: bool
    allocated: dict[int, int] = field(default_factory=dict)

    @property
    def bank_size(self) -> int:
        return self.end - self.start

    def __post_init__(self) -> None:
        self._free: list[list[int]] = [[self.start, self.end]]  # free [start, end) ranges, ascending, merged

    def allocate(self, size_per_bank: int, total_size: int) -> int:
        size = max(self.alignment, math.ceil(size_per_bank / self.alignment) * self.alignment)
        indices = range(len(self._free) - 1, -1, -1) if self.top_down else range(len(self._free))
        for i in indices:
            start, end = self._free[i]
            address = (end - size) // self.alignment * self.alignment if self.top_down else start
            if address < start or address + size > end:
                continue
            pieces = [[start, address], [address + size, end]]
            self._free[i : i + 1] = [p for p in pieces if p[1] > p[0]]
            self.allocated[address] = size
            return address
        used = sum(self.allocated.values())
        largest = max((end - start for start, end in self._free), default=0)
        raise OutOfMemoryError(
            f"TT_FATAL: Out of Memory: Not enough space to allocate {total_size} B {self.name} buffer across "
            f"{self.num_banks} banks, where each bank needs to store {size_per_bank} B, but bank size is "
            f"{self.bank_size} B (allocated: {used} B, free: {self.bank_size - used} B, largest free block: "
            f"{largest} B)."
        )

    def free(self, address: int) -> None:
        size = self.allocated.pop(address, None)
        if size is None:
            raise RuntimeError(f"TT_FATAL: {self.name} address {address} is not allocated (double free?)")
        i = bisect.bisect_left(self._free, [address, address])
        block = [address, address + size]
        if i < len(self._free) and self._free[i][0] == block[1]:  # merge with the free range above
            block[1] = self._free.pop(i)[1]
        if i > 0 and self._free[i - 1][1] == block[0]:  # and with the one below
            self._free[i - 1][1] = block[1]
        else:
            self._free.insert(i, block)

    def snapshot(self) -> tuple[tuple[int, int], ...]:
        return tuple(sorted(self.allocated.items()))

    def used(self) -> int:
        return sum(self.allocated.values())

    def lowest_address(self) -> int | None:
        """The start of the lowest allocated range, or None when nothing is allocated."""
        return min(self.allocated, default=None)


class DeviceMemory:
    """All allocators of one device (a mesh allocates in lockstep, so a mesh shares one)."""

    def __init__(self, arch: ArchSpec, l1_small_size: int, trace_region_size: int) -> None:
        cores = arch.compute_grid[0] * arch.compute_grid[1]
        l1_top = arch.worker_l1_size - l1_small_size
        if l1_top <= arch.l1_unreserved_base:
            raise RuntimeError(f"TT_FATAL: l1_small_size {l1_small_size} B leaves no L1 for buffers")
        trace_per_bank = math.ceil(trace_region_size / arch.dram_banks / _TRACE_REGION_ALIGNMENT)
        trace_per_bank *= _TRACE_REGION_ALIGNMENT
        dram_top = arch.dram_bank_size - trace_per_bank
        self.arch = arch
        self.trace_region_size = trace_region_size
        self.allocators = {
            BufferType.L1: BankAllocator("L1", cores, arch.l1_unreserved_base, l1_top, arch.l1_alignment, True),
            BufferType.L1_SMALL: BankAllocator("L1_SMALL", cores, l1_top, arch.worker_l1_size, arch.l1_alignment, True),
            BufferType.DRAM: BankAllocator(
                "DRAM", arch.dram_banks, arch.dram_unreserved_base, dram_top, arch.dram_alignment, False
            ),
        }
        self.trace_bytes_used = 0

    def allocate(self, buffer_type: BufferType, size_per_bank: int, total_size: int) -> int:
        return self.allocators[buffer_type].allocate(size_per_bank, total_size)

    def free(self, buffer_type: BufferType, address: int) -> None:
        self.allocators[buffer_type].free(address)

    def snapshot(self) -> dict[str, object]:
        state: dict[str, object] = {bt.name: alloc.snapshot() for bt, alloc in self.allocators.items()}
        state["TRACE"] = self.trace_bytes_used
        return state


def page_layout(spec: TensorSpec) -> tuple[int, int]:
    """(number of pages, page size in bytes) of a tensor in device memory."""
    padded = spec_padded_shape(spec)
    if spec.layout == Layout.TILE:
        height = math.prod(padded[:-1]) if len(padded) > 1 else 1
        pages = (height // TILE_SIZE) * (padded[-1] // TILE_SIZE)
        return pages, tile_bytes(spec.dtype)
    width = padded[-1] if len(padded) else 1
    rows = math.prod(padded[:-1]) if len(padded) > 1 else 1
    return rows, width * element_bytes(spec.dtype)


def physical_2d(spec: TensorSpec) -> tuple[int, int]:
    padded = spec_padded_shape(spec)
    width = padded[-1] if len(padded) else 1
    return (math.prod(padded[:-1]) if len(padded) > 1 else 1), width


def shard_not_tile_sized(shard_shape: Sequence[int]) -> str:
    """ttnn's words for a TILE tensor's shard that is not whole tiles (every op that makes one says the same)."""
    shard_h, shard_w = shard_shape
    return f"Physical shard shape ({shard_h}, {shard_w}) must be tile {{{TILE_SIZE}, {TILE_SIZE}}} sized!"


def validate_memory_config(spec: TensorSpec, compute_grid: tuple[int, int], dram_grid: tuple[int, int]) -> None:
    """Reject memory configs a device would reject, with ttnn's wording."""
    config = spec.memory_config
    if not isinstance(config, MemoryConfig):
        raise TypeError(f"memory_config must be a ttnn.MemoryConfig, got {type(config).__name__}")
    if config.buffer_type not in (BufferType.DRAM, BufferType.L1, BufferType.L1_SMALL):
        raise RuntimeError(f"TT_FATAL: buffer type {config.buffer_type} cannot hold a tensor")
    if not config.is_sharded():
        return
    shard = config.shard_spec
    if shard is None:
        raise RuntimeError(f"TT_FATAL: Sharded memory config {config.memory_layout} requires a shard_spec")
    bbox = shard.grid.bounding_box()
    height, width = physical_2d(spec)
    shard_h, shard_w = shard.shape
    if shard_h <= 0 or shard_w <= 0:
        raise RuntimeError(f"TT_FATAL: Shard shape {shard.shape} must be positive")
    if spec.layout == Layout.TILE and (shard_h % TILE_SIZE or shard_w % TILE_SIZE):
        raise RuntimeError(f"TT_FATAL: {shard_not_tile_sized(shard.shape)}")
    num_cores = shard.grid.num_cores()
    shards_h = math.ceil(height / shard_h)
    shards_w = math.ceil(width / shard_w)
    layout = config.memory_layout
    if layout == TensorMemoryLayout.HEIGHT_SHARDED:
        if shard_w != width:
            raise RuntimeError(
                f"TT_FATAL: Shard width {shard_w} must match physical width {width} for height sharded tensors"
            )
        if shards_h > num_cores:
            raise RuntimeError(
                f"TT_FATAL: Number of shards along height {shards_h} must not exceed number of cores {num_cores}"
            )
    elif layout == TensorMemoryLayout.WIDTH_SHARDED:
        if shard_h != height:
            raise RuntimeError(
                f"TT_FATAL: Shard height {shard_h} must match physical height {height} for width sharded tensors"
            )
        if shards_w > num_cores:
            raise RuntimeError(
                f"TT_FATAL: Number of shards along width {shards_w} must not exceed number of cores {num_cores}"
            )
    elif layout == TensorMemoryLayout.BLOCK_SHARDED:
        if shard.grid.size() != 1:
            raise RuntimeError("TT_FATAL: Block sharding requires a single rectangular core range")
        size = bbox.grid_size()
        # ttnn's words: a COL_MAJOR grid's columns take the height shards, its rows the width shards
        rows, cols = size.y, size.x
        along_height, along_width, orientation = "rows", "columns", "row major"
        if shard.orientation == ShardOrientation.COL_MAJOR:
            rows, cols = cols, rows
            along_height, along_width, orientation = "columns", "rows", "column major"
        if shards_h > rows:
            raise RuntimeError(
                f"TT_FATAL: Number of shards along height {shards_h} must not exceed number of {along_height} {rows} "
                f"for {orientation} orientation!"
            )
        if shards_w > cols:
            raise RuntimeError(
                f"TT_FATAL: Number of shards along width {shards_w} must not exceed number of {along_width} {cols} "
                f"for {orientation} orientation!"
            )
    _check_shard_cores_have_banks(
        config, shards_h, shards_w, dram_grid if config.buffer_type == BufferType.DRAM else compute_grid
    )
    # A ROW_MAJOR shard of any width is accepted: ttnn 0.81 pads its pages to the L1 alignment (allocation_size)
    # rather than refusing them (measured on the mocked n150 and p150 by tests/emulator/test_differential.py).


def _check_shard_cores_have_banks(
    config: MemoryConfig, shards_h: int, shards_w: int, bank_grid: tuple[int, int]
) -> None:
    """Refuse a shard grid that names a core without a bank of the buffer's type, as ttnn's allocator does.

    Measured on ttnn 0.81.1 (mocked n150, 8x8): a height or width sharded buffer checks every core of its grid, a
    block sharded one only the cores that hold a shard (the grid's first ``shards_w`` columns and ``shards_h`` rows,
    swapped for COL_MAJOR), so a 2x2-shard tensor on a 10x8 grid is accepted and an 8x9-shard one refused.
    """
    shard = config.shard_spec
    assert shard is not None
    bbox = shard.grid.bounding_box()
    end_x, end_y = bbox.end.x, bbox.end.y
    if config.memory_layout == TensorMemoryLayout.BLOCK_SHARDED:
        cols, rows = (shards_w, shards_h) if shard.orientation == ShardOrientation.ROW_MAJOR else (shards_h, shards_w)
        end_x, end_y = min(end_x, bbox.start.x + cols - 1), min(end_y, bbox.start.y + rows - 1)
    grid_x, grid_y = bank_grid
    if end_x >= grid_x or end_y >= grid_y:
        core = (grid_x, bbox.start.y) if end_x >= grid_x else (bbox.start.x, grid_y)
        kind = "DRAM" if config.buffer_type == BufferType.DRAM else "L1"
        raise RuntimeError(
            f"TT_FATAL: Invalid shard grid: shard core {core} has no {kind} bank on this device, which has "
            f"{grid_x * grid_y} of them. Derive the shard grid from the device (dram_grid_size() for DRAM, "
            "compute_with_storage_grid_size() for L1) rather than assuming a fixed size -- a harvested device exposes "
            "fewer banks than an unharvested one of the same type. An L1 shard core outside the compute grid is legal "
            "only while it is claimed via ServiceCoreManager."
        )


def allocation_size(spec: TensorSpec, num_banks: int) -> tuple[int, int]:
    """(bytes per bank, total bytes) the allocator reserves for ``spec``."""
    pages, page_size = page_layout(spec)
    config = spec.memory_config
    if not config.is_sharded():
        aligned_page = math.ceil(page_size / 16) * 16
        return math.ceil(pages / num_banks) * aligned_page, pages * page_size
    shard_h, shard_w = config.shard_spec.shape  # type: ignore[union-attr]
    if spec.layout == Layout.TILE:
        shard_bytes = (shard_h // TILE_SIZE) * (shard_w // TILE_SIZE) * page_size
    else:
        shard_bytes = shard_h * math.ceil(shard_w * element_bytes(spec.dtype) / 16) * 16
    return shard_bytes, pages * page_size

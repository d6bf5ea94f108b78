"""ttnn's value types: enums, core coordinates, memory configs, tensor specs and op configs.

Names, constructor parameters and defaults follow ttnn 0.81.1. These are plain Python objects: they hold what the
caller passed and validate it the way ttnn's constructors do; the checks against a device live in ``memory``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


class TtnnEnum(enum.Enum):
    """An enum that prints as ttnn's do (``DataType.BFLOAT16``), in both ``repr`` and ``str``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.name}"

    __str__ = __repr__


class DataType(TtnnEnum):
    BFLOAT16 = 0
    FLOAT32 = 1
    UINT32 = 2
    BFLOAT8_B = 3
    BFLOAT4_B = 4
    UINT8 = 5
    UINT16 = 6
    INT32 = 7
    INVALID = 10


class Layout(TtnnEnum):
    ROW_MAJOR = 0
    TILE = 1
    INVALID = 2


class TensorMemoryLayout(TtnnEnum):
    INTERLEAVED = 0
    HEIGHT_SHARDED = 2
    WIDTH_SHARDED = 3
    BLOCK_SHARDED = 4


class BufferType(TtnnEnum):
    DRAM = 0
    L1 = 1
    L1_SMALL = 3
    TRACE = 4


class ShardOrientation(TtnnEnum):
    ROW_MAJOR = 0
    COL_MAJOR = 1


class ShardStrategy(TtnnEnum):
    HEIGHT = 1
    WIDTH = 2
    BLOCK = 3


class MathFidelity(TtnnEnum):
    LoFi = 0
    HiFi2 = 2
    HiFi3 = 3
    HiFi4 = 4
    Invalid = 255


class Arch(TtnnEnum):
    WORMHOLE_B0 = 2
    BLACKHOLE = 3


class UnaryOpType(TtnnEnum):
    EXP = 0
    RECIP = 1
    GELU = 2
    RELU = 4
    SQRT = 5
    SIGMOID = 6
    LOG = 7
    TANH = 9
    RELU6 = 60
    SILU = 58
    IDENTITY = 80


class ThrottleLevel(TtnnEnum):
    NO_THROTTLE = 0
    LEVEL_1 = 1
    LEVEL_2 = 2
    LEVEL_3 = 3
    LEVEL_4 = 4
    LEVEL_5 = 5


class PaddingMode(TtnnEnum):
    Zeros = 0


class TileReshapeMapMode(TtnnEnum):
    CACHE = 0
    RECREATE = 1


class SigmoidMode(TtnnEnum):
    FastApproximate = 0
    AccurateWithFastExp = 1
    Accurate = 2


class SliceTypeEnum(TtnnEnum):
    DRAMSliceHeight = 0
    DRAMSliceWidth = 1
    L1Full = 2


bfloat16 = DataType.BFLOAT16
bfloat8_b = DataType.BFLOAT8_B
bfloat4_b = DataType.BFLOAT4_B
float32 = DataType.FLOAT32
uint32 = DataType.UINT32
int32 = DataType.INT32
ROW_MAJOR_LAYOUT = Layout.ROW_MAJOR
TILE_LAYOUT = Layout.TILE
TILE_SIZE = 32

# Bytes a value takes in device memory; bfloat8_b tiles carry one exponent byte per 16 values (1088 B per tile).
_ELEMENT_BYTES = {
    DataType.BFLOAT16: 2,
    DataType.FLOAT32: 4,
    DataType.UINT32: 4,
    DataType.INT32: 4,
    DataType.UINT16: 2,
    DataType.UINT8: 1,
}
_TILE_BYTES = {DataType.BFLOAT8_B: 1024 + 64, DataType.BFLOAT4_B: 512 + 64}


def tile_bytes(dtype: DataType) -> int:
    if dtype in _TILE_BYTES:
        return _TILE_BYTES[dtype]
    return TILE_SIZE * TILE_SIZE * _ELEMENT_BYTES[dtype]


def element_bytes(dtype: DataType) -> int:
    if dtype in _TILE_BYTES:
        raise ValueError(f"{dtype} is a block format: it has no per-element size outside TILE layout")
    return _ELEMENT_BYTES[dtype]


class Shape(tuple):
    """ttnn.Shape: a tuple of ints that prints as ``Shape([..])`` and compares equal to lists and tuples."""

    def __new__(cls, shape: Iterable[int]) -> Shape:
        return super().__new__(cls, (int(d) for d in shape))

    @property
    def rank(self) -> int:
        return len(self)

    def to_rank(self, rank: int, /) -> Shape:
        if rank >= len(self):
            return Shape((1,) * (rank - len(self)) + tuple(self))
        if any(d != 1 for d in self[: len(self) - rank]):
            raise RuntimeError(f"Cannot squeeze {self} to rank {rank}: leading dimensions are not 1")
        return Shape(self[len(self) - rank :])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple)):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = tuple.__hash__

    def __repr__(self) -> str:
        return f"Shape({list(self)})"

    __str__ = __repr__


class Tile:
    def __init__(self, tile_shape: Sequence[int] = (32, 32), transpose_tile: bool = False) -> None:
        if tuple(tile_shape) != (32, 32) or transpose_tile:
            raise NotImplementedError(
                f"Tile: tile_shape={list(tile_shape)}, transpose_tile={transpose_tile} is not supported by the "
                "emulator (32x32 tiles only)"
            )
        self.tile_shape = [32, 32]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tile)

    def __hash__(self) -> int:
        return hash("Tile32x32")


class CoreCoord:
    __slots__ = ("x", "y")

    def __init__(self, x: int | tuple[int, int], y: int | None = None, /) -> None:
        if y is None:
            x, y = x  # type: ignore[misc]
        self.x = int(x)  # type: ignore[arg-type]
        self.y = int(y)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CoreCoord) and (self.x, self.y) == (other.x, other.y)

    def __hash__(self) -> int:
        return hash((self.x, self.y))

    def __repr__(self) -> str:
        return f"{self.x}-{self.y}"


class CoreRange:
    __slots__ = ("start", "end")

    def __init__(self, start: CoreCoord, end: CoreCoord) -> None:
        if end.x < start.x or end.y < start.y:
            raise RuntimeError(f"Invalid core range for start: {start}, end: {end}")
        self.start = start
        self.end = end

    def grid_size(self) -> CoreCoord:
        return CoreCoord(self.end.x - self.start.x + 1, self.end.y - self.start.y + 1)

    def _num_cores(self) -> int:
        return (self.end.x - self.start.x + 1) * (self.end.y - self.start.y + 1)

    def _cores(self) -> list[CoreCoord]:
        return [
            CoreCoord(x, y) for y in range(self.start.y, self.end.y + 1) for x in range(self.start.x, self.end.x + 1)
        ]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CoreRange) and (self.start, self.end) == (other.start, other.end)

    def __hash__(self) -> int:
        return hash((self.start, self.end))

    def __repr__(self) -> str:
        return f"[{self.start} - {self.end}]"


class CoreRangeSet:
    def __init__(self, core_ranges: Iterable[CoreRange]) -> None:
        self._ranges = sorted(core_ranges, key=lambda r: (r.start.y, r.start.x))
        seen: set[CoreCoord] = set()
        for core_range in self._ranges:
            cores = set(core_range._cores())
            if seen & cores:
                raise RuntimeError(f"Cannot create CoreRangeSet with specified core ranges because of overlap: {self}")
            seen |= cores

    def ranges(self) -> list[CoreRange]:
        return list(self._ranges)

    def num_cores(self) -> int:
        return sum(r._num_cores() for r in self._ranges)

    def size(self) -> int:
        return len(self._ranges)

    def empty(self) -> bool:
        return not self._ranges

    def bounding_box(self) -> CoreRange:
        return CoreRange(
            CoreCoord(min(r.start.x for r in self._ranges), min(r.start.y for r in self._ranges)),
            CoreCoord(max(r.end.x for r in self._ranges), max(r.end.y for r in self._ranges)),
        )

    def contains(self, other: CoreCoord | CoreRange, /) -> bool:
        cores = [other] if isinstance(other, CoreCoord) else other._cores()
        mine = {c for r in self._ranges for c in r._cores()}
        return all(c in mine for c in cores)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CoreRangeSet) and self._ranges == other._ranges

    def __hash__(self) -> int:
        return hash(tuple(self._ranges))

    def __repr__(self) -> str:
        return "{" + ", ".join(repr(r) for r in self._ranges) + "}"


class CoreGrid:
    def __init__(self, *, x: int, y: int) -> None:
        self.x = int(x)
        self.y = int(y)

    @property
    def num_cores(self) -> int:
        return self.x * self.y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CoreGrid) and (self.x, self.y) == (other.x, other.y)

    def __hash__(self) -> int:
        return hash((self.x, self.y))

    def __repr__(self) -> str:
        return f"ttnn.CoreGrid(x={self.x}, y={self.y})"


class ShardSpec:
    def __init__(self, grid: CoreRangeSet, shard_shape: Sequence[int], shard_orientation: ShardOrientation) -> None:
        if not isinstance(grid, CoreRangeSet):
            raise TypeError(f"ShardSpec: grid must be a CoreRangeSet, got {type(grid).__name__}")
        if len(shard_shape) != 2:
            raise RuntimeError(f"ShardSpec: shard_shape must have 2 dimensions, got {list(shard_shape)}")
        self.grid = grid
        self.shape = [int(shard_shape[0]), int(shard_shape[1])]
        self.orientation = shard_orientation

    def num_cores(self) -> int:
        return self.grid.num_cores()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ShardSpec) and (self.grid, self.shape, self.orientation) == (
            other.grid,
            other.shape,
            other.orientation,
        )

    def __hash__(self) -> int:
        return hash((self.grid, tuple(self.shape), self.orientation))

    def __repr__(self) -> str:
        return f"ShardSpec(grid={self.grid}, shape={self.shape}, orientation={self.orientation})"


class MemoryConfig:
    def __init__(
        self,
        memory_layout: TensorMemoryLayout = TensorMemoryLayout.INTERLEAVED,
        buffer_type: BufferType = BufferType.DRAM,
        shard_spec: ShardSpec | None = None,
    ) -> None:
        if isinstance(memory_layout, BufferType):
            raise NotImplementedError("MemoryConfig: nd_shard_spec is not supported by the emulator")
        self.memory_layout = memory_layout
        self.buffer_type = buffer_type
        self.shard_spec = shard_spec
        if memory_layout == TensorMemoryLayout.INTERLEAVED and shard_spec is not None:
            raise RuntimeError("MemoryConfig: an INTERLEAVED memory config cannot have a shard_spec")

    def is_sharded(self) -> bool:
        return self.memory_layout != TensorMemoryLayout.INTERLEAVED

    @property
    def interleaved(self) -> bool:
        return not self.is_sharded()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MemoryConfig) and (self.memory_layout, self.buffer_type, self.shard_spec) == (
            other.memory_layout,
            other.buffer_type,
            other.shard_spec,
        )

    def __hash__(self) -> int:
        return hash((self.memory_layout, self.buffer_type, self.shard_spec))

    def __repr__(self) -> str:
        return (
            f"MemoryConfig(memory_layout={self.memory_layout},buffer_type={self.buffer_type},"
            f"shard_spec={self.shard_spec})"
        )


DRAM_MEMORY_CONFIG = MemoryConfig(TensorMemoryLayout.INTERLEAVED, BufferType.DRAM)
L1_MEMORY_CONFIG = MemoryConfig(TensorMemoryLayout.INTERLEAVED, BufferType.L1)


def padded_shape_for(shape: Sequence[int], layout: Layout) -> Shape:
    """TILE layout pads the last two dimensions up to multiples of 32; ROW_MAJOR pads nothing."""
    if layout != Layout.TILE:
        return Shape(shape)
    dims = list(shape) if len(shape) >= 2 else [1] * (2 - len(shape)) + list(shape)
    dims[-1] = math.ceil(dims[-1] / TILE_SIZE) * TILE_SIZE
    dims[-2] = math.ceil(dims[-2] / TILE_SIZE) * TILE_SIZE
    return Shape(dims)


class TensorSpec:
    def __init__(
        self,
        shape: Sequence[int],
        dtype: DataType,
        layout: Layout,
        buffer_type: BufferType = BufferType.DRAM,
        tile: Tile | None = None,
    ) -> None:
        if not isinstance(buffer_type, BufferType):
            raise NotImplementedError(
                "TensorSpec: only the (shape, dtype, layout, buffer_type, tile) form is supported"
            )
        if dtype in (DataType.BFLOAT8_B, DataType.BFLOAT4_B) and layout != Layout.TILE:
            raise RuntimeError(f"TT_FATAL: Layout must be Layout::TILE for bfloat8_b or bfloat4_b! (got {layout})")
        self.shape = Shape(shape)
        self.dtype = dtype
        self.layout = layout
        self.tile = tile or Tile()
        self.memory_config = MemoryConfig(TensorMemoryLayout.INTERLEAVED, buffer_type)
        # a padded shape other than the natural one (ttnn's unary ops keep their input's); None: the natural one
        self._padded: Shape | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorSpec) and (
            self.shape,
            self.dtype,
            self.layout,
            self.memory_config,
            self._padded,
        ) == (other.shape, other.dtype, other.layout, other.memory_config, other._padded)

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype, self.layout, self.memory_config, self._padded))

    def __repr__(self) -> str:
        return (
            f"TensorSpec(shape={self.shape}, dtype={self.dtype}, layout={self.layout}, "
            f"memory_config={self.memory_config})"
        )


def make_spec(
    shape: Sequence[int],
    dtype: DataType,
    layout: Layout,
    memory_config: MemoryConfig,
    tile: Tile | None = None,
    padded_shape: Sequence[int] | None = None,
) -> TensorSpec:
    """A TensorSpec with any memory config (ttnn builds these internally), and a padded shape when it is not the
    natural one of the shape, layout and memory config."""
    spec = TensorSpec(shape, dtype, layout, memory_config.buffer_type, tile)
    spec.memory_config = memory_config
    if padded_shape is not None and list(padded_shape) != list(spec_padded_shape(spec)):
        spec._padded = Shape(padded_shape)
    return spec


def spec_padded_shape(spec: TensorSpec) -> Shape:
    """The padded shape of a tensor of ``spec``: TILE rounds the last two dims up to whole tiles; a sharded
    ROW_MAJOR tensor's last dim is rounded up to a multiple of its shard width, as ttnn 0.81 does (measured on mocked
    n150 and p150 chips: a [.., 31] tensor in 5-wide shards has a padded width of 35)."""
    if spec._padded is not None:
        return spec._padded
    padded = padded_shape_for(spec.shape, spec.layout)
    shard = spec.memory_config.shard_spec
    if spec.layout != Layout.ROW_MAJOR or shard is None or not len(padded) or shard.shape[1] <= 0:
        return padded
    dims = list(padded)
    dims[-1] = math.ceil(dims[-1] / shard.shape[1]) * shard.shape[1]
    return Shape(dims)


class UnaryWithParam:
    def __init__(
        self, arg0: UnaryOpType | tuple[UnaryOpType, float], arg1: float | None = None, arg2: float | None = None, /
    ) -> None:
        op_type = arg0
        params: tuple[float, ...] = tuple(p for p in (arg1, arg2) if p is not None)
        if isinstance(op_type, tuple):
            op_type, *rest = op_type
            params = tuple(rest) + params
        if not isinstance(op_type, UnaryOpType):
            raise TypeError(f"UnaryWithParam: expected a UnaryOpType, got {op_type!r}")
        self.op_type = op_type
        self.params = [float(p) for p in params]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnaryWithParam) and (self.op_type, self.params) == (other.op_type, other.params)

    def __hash__(self) -> int:
        return hash((self.op_type, tuple(self.params)))

    def __repr__(self) -> str:
        return f"UnaryWithParam(op_type={self.op_type})"


class SoftmaxDefaultProgramConfig:
    """ttnn's default softmax program config: the op chooses its cores itself."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SoftmaxDefaultProgramConfig)

    def __hash__(self) -> int:
        return hash(SoftmaxDefaultProgramConfig)


@dataclass(kw_only=True)
class WormholeComputeKernelConfig:
    math_fidelity: MathFidelity = MathFidelity.Invalid
    math_approx_mode: bool = True
    fp32_dest_acc_en: bool = False
    packer_l1_acc: bool = False
    dst_full_sync_en: bool = False
    throttle_level: ThrottleLevel = ThrottleLevel.NO_THROTTLE


BlackholeComputeKernelConfig = WormholeComputeKernelConfig


def init_device_compute_kernel_config(
    arch: Arch,
    device_kernel_config: WormholeComputeKernelConfig | None = None,
    *,
    math_fidelity: MathFidelity = MathFidelity.LoFi,
    math_approx_mode: bool = True,
    fp32_dest_acc_en: bool = False,
    packer_l1_acc: bool = False,
    dst_full_sync_en: bool = False,
    throttle_level: ThrottleLevel = ThrottleLevel.NO_THROTTLE,
) -> WormholeComputeKernelConfig:
    if not isinstance(arch, Arch):
        raise TypeError(f"init_device_compute_kernel_config: arch must be a ttnn.Arch (device.arch()), got {arch!r}")
    if device_kernel_config is not None:
        return device_kernel_config
    return WormholeComputeKernelConfig(
        math_fidelity=math_fidelity,
        math_approx_mode=math_approx_mode,
        fp32_dest_acc_en=fp32_dest_acc_en,
        packer_l1_acc=packer_l1_acc,
        dst_full_sync_en=dst_full_sync_en,
        throttle_level=throttle_level,
    )


@dataclass(kw_only=True)
class Conv2dConfig:
    """Conv2d options. The emulator models the numerics of every option that changes values (weights_dtype,
    activation, output_layout); options that only tune the kernel's schedule are accepted and recorded."""

    weights_dtype: DataType | None = None
    activation: UnaryWithParam | None = None
    deallocate_activation: bool = False
    reallocate_halo_output: bool = True
    config_tensors_in_dram: bool = False
    act_block_h_override: int = 0
    act_block_w_div: int = 1
    reshard_if_not_optimal: bool = False
    override_sharding_config: bool = False
    shard_layout: TensorMemoryLayout | None = None
    core_grid: CoreRangeSet | None = None
    transpose_shards: bool = False
    output_layout: Layout = Layout.TILE
    enable_act_double_buffer: bool = False
    enable_weights_double_buffer: bool = False
    full_inner_dim: bool = False
    enable_kernel_stride_folding: bool | None = None
    enable_activation_reuse: bool = False
    force_split_reader: bool | None = None
    override_output_sharding_config: bool = False
    padding_mode: PaddingMode = field(default=PaddingMode.Zeros)

    def __post_init__(self) -> None:
        if self.activation is not None and not isinstance(self.activation, UnaryWithParam):
            raise TypeError(
                f"Conv2dConfig: activation must be a ttnn.UnaryWithParam (e.g. "
                f"ttnn.UnaryWithParam(ttnn.UnaryOpType.SILU)), got {self.activation!r}"
            )
        if self.act_block_h_override % 32:
            raise RuntimeError(f"act_block_h_override {self.act_block_h_override} must be a multiple of 32")


_SliceType = SliceTypeEnum


class Op2DSliceConfig:
    SliceTypeEnum = SliceTypeEnum

    def __init__(self, *, slice_type: _SliceType, num_slices: int = 0) -> None:
        self.slice_type = slice_type
        self.num_slices = int(num_slices)

    def __repr__(self) -> str:
        return f"Op2DSliceConfig(slice_type={self.slice_type}, num_slices={self.num_slices})"


Conv2dSliceConfig = Op2DSliceConfig
Conv2dDRAMSliceHeight = SliceTypeEnum.DRAMSliceHeight
Conv2dDRAMSliceWidth = SliceTypeEnum.DRAMSliceWidth
Conv2dL1Full = SliceTypeEnum.L1Full
Conv2dL1FullSliceConfig = Op2DSliceConfig(slice_type=SliceTypeEnum.L1Full)


class QueueId(int):
    """ttnn.QueueId: a command-queue index."""


def queue_index(cq_id: int | QueueId | None) -> int:
    return 0 if cq_id is None else int(cq_id)


def reject_unsupported(op: str, **arguments: Any) -> None:
    """Raise NotImplementedError for an argument the emulator does not model when it is set to a non-default."""
    for name, value in arguments.items():
        if value is not None and value is not False and value != [] and value != ():
            raise NotImplementedError(f"{op}: argument '{name}'={value!r} is not supported by the emulator")

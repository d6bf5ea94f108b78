"""What conv2d builds in L1 for an L1 height-sharded input: the halo op's output, the conv's own sharded output, and
the circular buffers of both programs, checked against the L1 tensors alive at that moment.

ttnn runs such a conv as two programs on the input's cores. The halo program gathers, for each core, the contiguous
run of padded input rows its output rows' windows reach (a new L1 tensor); the conv program then reads it and writes
its output height-sharded in L1 (moved afterwards to the memory config the caller asked for). The sizes follow
ttnn 0.81's sliding-window halo and ``get_cb_info`` for a HEIGHT_SHARDED conv, with the block config ttnn picks when
no override is given (one activation block per core's output rows, one kernel row of channels per block width), and
are calibrated against ttnn's own graph capture on mocked clusters (tests/mock/test_conv_circular_buffers.py).

Not modelled (the emulator raises NotImplementedError for them here): activation reuse, ``full_inner_dim``,
``act_block_w_div`` and ``config_tensors_in_dram`` (its buffers take the size of the compressed reader indices).
Convs on DRAM inputs are not covered at all (ttnn slices those to fit the L1 it finds free), nor a 1x1 stride-1
unpadded conv, which ttnn runs as a matmul without halo.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..circular_buffers import CircularBuffer, validate_static_region
from ..device import MeshDevice
from ..tensor import Tensor
from ..types import (
    TILE_SIZE,
    BufferType,
    Conv2dConfig,
    CoreRangeSet,
    DataType,
    Layout,
    MemoryConfig,
    ShardOrientation,
    ShardSpec,
    TensorMemoryLayout,
    WormholeComputeKernelConfig,
    element_bytes,
    make_spec,
    tile_bytes,
)

# The conv's scratch array (ttnn's l1_scratchpad_CB_size).
L1_SCRATCHPAD_BYTES = 64


@dataclass(frozen=True)
class SlidingWindow:
    """A conv's geometry: batch, input and output sizes, kernel, stride, dilation and (top, bottom, left, right)."""

    batch: int
    input_hw: tuple[int, int]
    output_hw: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[int, int, int, int]

    @property
    def output_rows(self) -> int:
        return self.batch * self.output_hw[0] * self.output_hw[1]

    def halo_rows_per_core(self, output_rows_per_core: int) -> int:
        """Rows of the halo output shard: the longest run of padded input rows one core's outputs reach."""
        top, bottom, left, right = self.padding
        padded_h = self.input_hw[0] + top + bottom
        padded_w = self.input_hw[1] + left + right
        out_h, out_w = self.output_hw
        window = (self.kernel[0] - 1) * self.dilation[0] * padded_w + (self.kernel[1] - 1) * self.dilation[1] + 1

        def top_left(output_row: int) -> int:
            image, pixel = divmod(output_row, out_h * out_w)
            y, x = divmod(pixel, out_w)
            return image * padded_h * padded_w + y * self.stride[0] * padded_w + x * self.stride[1]

        longest = 0
        for first in range(0, self.output_rows, output_rows_per_core):
            last = min(first + output_rows_per_core, self.output_rows) - 1
            longest = max(longest, top_left(last) - top_left(first) + window)
        return longest


def is_l1_height_sharded(tensor: Tensor) -> bool:
    config = tensor.memory_config()
    return config.buffer_type == BufferType.L1 and config.memory_layout == TensorMemoryLayout.HEIGHT_SHARDED


def core_range_text(grid: CoreRangeSet) -> str:
    return ", ".join(repr(core_range) for core_range in grid.ranges())


def sharded_output_config(grid: CoreRangeSet, rows_per_core: int, out_channels: int) -> MemoryConfig:
    width = math.ceil(out_channels / TILE_SIZE) * TILE_SIZE
    spec = ShardSpec(grid, [rows_per_core, width], ShardOrientation.ROW_MAJOR)
    return MemoryConfig(TensorMemoryLayout.HEIGHT_SHARDED, BufferType.L1, spec)


def act_block_h_tiles(conv_config: Conv2dConfig | None, tiles_per_core: int) -> int:
    """One block per core's output rows, or the largest block of at most ``act_block_h_override`` rows that divides
    them (ttnn picks "the closest valid option" for an override that does not divide)."""
    override = conv_config.act_block_h_override // TILE_SIZE if conv_config is not None else 0
    if not override:
        return tiles_per_core
    return max(d for d in range(1, min(override, tiles_per_core) + 1) if tiles_per_core % d == 0)


def _reject_unmodelled(conv_config: Conv2dConfig | None) -> None:
    if conv_config is None:
        return
    for name, value, default in (
        ("enable_activation_reuse", conv_config.enable_activation_reuse, False),
        ("full_inner_dim", conv_config.full_inner_dim, False),
        ("act_block_w_div", conv_config.act_block_w_div, 1),
        ("config_tensors_in_dram", conv_config.config_tensors_in_dram, False),
    ):
        if value != default:
            raise NotImplementedError(
                f"conv2d: Conv2dConfig.{name}={value!r} on an L1 height-sharded input is not modelled by the emulator "
                "(its circular buffers are unknown); leave it at its default or give the conv a DRAM input"
            )


def uses_packer_l1_acc(compute: WormholeComputeKernelConfig | None, k_blocks: int, has_bias: bool) -> bool:
    """Whether a conv program accumulates its partial sums in L1 by the packer: ttnn honours ``packer_l1_acc`` only
    when there are more than two K blocks (a height-sharded conv's are its kernel rows), or more than one and a
    bias."""
    asked = compute is not None and compute.packer_l1_acc
    return asked and ((has_bias and k_blocks > 1) or k_blocks > 2)


def matmul_partials_dtype(
    compute: WormholeComputeKernelConfig | None, k_blocks: int, has_bias: bool, output_dtype: DataType, fp32_acc: bool
) -> DataType:
    """The dtype a conv's partial sums take between K blocks: ``Dst``'s own with the packer's L1 accumulation, else
    the output dtype (the partials are packed to the output format and unpacked again)."""
    if uses_packer_l1_acc(compute, k_blocks, has_bias):
        return DataType.FLOAT32 if fp32_acc else DataType.BFLOAT16
    return output_dtype


@dataclass(frozen=True)
class ShardedConv:
    """One conv2d call as the circular-buffer model needs it."""

    window: SlidingWindow
    in_channels: int
    out_channels: int
    input_dtype: DataType
    weights_dtype: DataType
    output_dtype: DataType
    has_bias: bool
    output_layout: Layout
    conv_config: Conv2dConfig | None
    compute_config: WormholeComputeKernelConfig | None

    @property
    def halo_dtype(self) -> DataType:
        """The halo output is ROW_MAJOR, so float32 stays float32 and everything else becomes bfloat16."""
        return DataType.FLOAT32 if self.input_dtype == DataType.FLOAT32 else DataType.BFLOAT16


def conv_circular_buffers(conv: ShardedConv, tiles_per_core: int) -> list[CircularBuffer]:
    """The circular buffers of a HEIGHT_SHARDED conv program, as ttnn 0.81's ``get_cb_info`` sizes them (the
    globally allocated reader-indices buffer, which lives in L1_SMALL, is left out)."""
    _reject_unmodelled(conv.conv_config)
    config = conv.conv_config or Conv2dConfig()
    compute = conv.compute_config
    kernel_h, kernel_w = conv.window.kernel
    input_tile = tile_bytes(conv.halo_dtype)
    output_tile = tile_bytes(conv.output_dtype)
    weights_tile = tile_bytes(conv.weights_dtype)
    act_block_w = math.ceil(conv.in_channels * kernel_w / TILE_SIZE)  # one kernel row of channels per block
    act_block_h = act_block_h_tiles(conv.conv_config, tiles_per_core)
    out_width_tiles = math.ceil(conv.out_channels / TILE_SIZE)
    act_blocks_h = tiles_per_core // act_block_h

    weight_pages = out_width_tiles * act_block_w
    if act_blocks_h > 1:
        weight_pages *= kernel_h  # the whole weight matrix stays in L1 across the activation blocks
    elif config.enable_weights_double_buffer:
        weight_pages *= 2
    fp32_acc = compute is not None and compute.fp32_dest_acc_en
    partial_dtype = matmul_partials_dtype(compute, kernel_h, conv.has_bias, conv.output_dtype, fp32_acc)
    untilize_out = conv.output_layout == Layout.ROW_MAJOR
    act_pages = act_block_h * act_block_w * (2 if config.enable_act_double_buffer else 1)
    return [
        CircularBuffer("weights", weight_pages, weights_tile),
        CircularBuffer(
            "matmul partials",
            act_block_h * out_width_tiles,
            tile_bytes(partial_dtype),
            globally_allocated=not untilize_out and partial_dtype == conv.output_dtype,
        ),
        # With ttnn's split reader these pages are divided between two buffers of the two reader kernels; the
        # region they take together is the same.
        CircularBuffer("act", act_pages, input_tile),
        CircularBuffer("act tilized", act_block_h * act_block_w, output_tile),
        CircularBuffer("bias", out_width_tiles if conv.has_bias else 0, weights_tile),
        CircularBuffer("out", tiles_per_core * out_width_tiles, output_tile, globally_allocated=True),
        CircularBuffer("l1 scratchpad", 1, L1_SCRATCHPAD_BYTES),
    ]


def halo_circular_buffers(conv: ShardedConv) -> list[CircularBuffer]:
    """The halo program's two static buffers of one input row (stick) each, as measured on ttnn 0.81.1."""
    stick = conv.in_channels * element_bytes(conv.halo_dtype)
    return [CircularBuffer("halo stick", 1, stick), CircularBuffer("halo stick (second reader)", 1, stick)]


@dataclass(frozen=True)
class ShardedConvPlan:
    """What a conv on ``num_cores`` L1 height-sharded cores needs: its output rows per core, the rows of the halo's
    output shard, and the circular buffers of the halo and conv programs."""

    rows_per_core: int
    halo_rows: int
    halo_buffers: list[CircularBuffer]
    conv_buffers: list[CircularBuffer]


def plan_sharded_conv(conv: ShardedConv, num_cores: int) -> ShardedConvPlan:
    tiles_per_core = math.ceil(conv.window.output_rows / (num_cores * TILE_SIZE))
    rows_per_core = tiles_per_core * TILE_SIZE
    return ShardedConvPlan(
        rows_per_core=rows_per_core,
        halo_rows=conv.window.halo_rows_per_core(rows_per_core),
        halo_buffers=halo_circular_buffers(conv),
        conv_buffers=conv_circular_buffers(conv, tiles_per_core),
    )


@dataclass
class ShardedConvPrograms:
    """The L1 a conv on an L1 height-sharded input holds while it runs: the halo output and the conv's output."""

    halo_output: Tensor
    conv_output: Tensor
    output_config: MemoryConfig


def build_sharded_conv_programs(
    device: MeshDevice, input_tensor: Tensor, conv: ShardedConv, program_key: tuple[object, ...]
) -> ShardedConvPrograms:
    """Allocate the halo output and the conv output on the input's cores and validate both programs' circular
    buffers against the L1 tensors alive at that point, in the order ttnn does."""
    shard_spec = input_tensor.memory_config().shard_spec
    assert shard_spec is not None
    grid = shard_spec.grid
    cores = core_range_text(grid)
    plan = plan_sharded_conv(conv, grid.num_cores())
    halo_config = MemoryConfig(
        TensorMemoryLayout.HEIGHT_SHARDED,
        BufferType.L1,
        ShardSpec(grid, [plan.halo_rows, conv.in_channels], ShardOrientation.ROW_MAJOR),
    )
    halo_shape = [1, 1, plan.halo_rows * grid.num_cores(), conv.in_channels]
    halo_spec = make_spec(halo_shape, conv.halo_dtype, Layout.ROW_MAJOR, halo_config)
    halo_output = Tensor._create(halo_spec, buffer=device._allocate(halo_spec))
    allocated = [halo_output]
    try:
        validate_static_region(device, device._program_id(("halo", *program_key)), plan.halo_buffers, cores)
        output_config = sharded_output_config(grid, plan.rows_per_core, conv.out_channels)
        output_shape = [1, 1, conv.window.output_rows, conv.out_channels]
        output_spec = make_spec(output_shape, conv.output_dtype, conv.output_layout, output_config)
        conv_output = Tensor._create(output_spec, buffer=device._allocate(output_spec))
        allocated.append(conv_output)
        validate_static_region(device, device._program_id(("conv2d", *program_key)), plan.conv_buffers, cores)
    except Exception:
        for tensor in allocated:  # a rejected conv leaves L1 as it found it
            tensor.deallocate()
        raise
    return ShardedConvPrograms(halo_output, conv_output, output_config)


__all__ = [
    "ShardedConv",
    "ShardedConvPlan",
    "ShardedConvPrograms",
    "SlidingWindow",
    "build_sharded_conv_programs",
    "plan_sharded_conv",
    "conv_circular_buffers",
    "act_block_h_tiles",
    "halo_circular_buffers",
    "is_l1_height_sharded",
    "matmul_partials_dtype",
    "sharded_output_config",
    "uses_packer_l1_acc",
]

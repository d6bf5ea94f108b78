"""Helpers shared by the op modules: default output memory configs, activations, argument checks."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Literal

import torch

from ..tensor import Tensor
from ..types import (
    BufferType,
    DataType,
    MathFidelity,
    MemoryConfig,
    ShardOrientation,
    ShardSpec,
    TensorMemoryLayout,
    UnaryOpType,
    UnaryWithParam,
    WormholeComputeKernelConfig,
)

ShardGridProgram = Literal["eltwise", "binary", "untilize"]  # the programs ttnn places on a sharded input's whole grid


def output_memory_config(tensor: Tensor, out_shape: Sequence[int] | None = None) -> MemoryConfig:
    """ttnn's default: the input's memory config, or its buffer type interleaved when a sharded layout cannot
    carry over to an output of another shape."""
    config = tensor.memory_config()
    if config.is_sharded() and out_shape is not None and tuple(out_shape) != tuple(tensor.shape):
        return MemoryConfig(TensorMemoryLayout.INTERLEAVED, config.buffer_type)
    return config


def index_in_rank(dim: int, rank: int) -> int:
    """``dim`` as an index into ``rank`` dimensions (negative counts from the end), or ttnn's error: an index past
    the rank never wraps around."""
    if not -rank <= dim < rank:
        raise RuntimeError(
            f"TT_FATAL: Index is out of bounds for the rank, should be between 0 and {rank - 1} however is {dim}"
        )
    return dim % rank


def dimension_in_range(dim: int, rank: int, *, spaced: bool) -> int:
    """``dim`` as an index into ``rank`` dimensions, or the range error of the ttnn ops that word it this way
    (softmax writes the range with a space after the comma, squeeze and unsqueeze without)."""
    if not -rank <= dim < rank:
        separator = ", " if spaced else ","
        raise RuntimeError(
            "TT_FATAL: Dimension out of range "
            f"(expected to be in range of [-{rank}{separator}{rank - 1}], but got {dim})"
        )
    return dim % rank


def apply_unary(values: torch.Tensor, activation: UnaryWithParam | str | None, inplace: bool = False) -> torch.Tensor:
    """Apply a fused activation; ``inplace`` may overwrite ``values`` (a fresh result the caller owns)."""
    if activation is None:
        return values
    if isinstance(activation, str):
        names = {
            "relu": UnaryOpType.RELU,
            "silu": UnaryOpType.SILU,
            "sigmoid": UnaryOpType.SIGMOID,
            "gelu": UnaryOpType.GELU,
        }
        if activation.lower() not in names:
            raise NotImplementedError(f"activation '{activation}' is not supported by the emulator")
        activation = UnaryWithParam(names[activation.lower()])
    op = activation.op_type
    if op == UnaryOpType.SILU:
        return torch.nn.functional.silu(values, inplace=inplace)
    if op == UnaryOpType.RELU:
        return torch.relu_(values) if inplace else torch.relu(values)
    if op == UnaryOpType.SIGMOID:
        return torch.sigmoid_(values) if inplace else torch.sigmoid(values)
    if op == UnaryOpType.RELU6:
        return torch.clamp(values, 0.0, 6.0)
    if op == UnaryOpType.GELU:
        return torch.nn.functional.gelu(values)
    if op == UnaryOpType.TANH:
        return torch.tanh(values)
    if op == UnaryOpType.EXP:
        return torch.exp(values)
    if op == UnaryOpType.IDENTITY:
        return values
    raise NotImplementedError(f"activation {op} is not supported by the emulator")


def math_fidelity(config: WormholeComputeKernelConfig | None, default: MathFidelity) -> MathFidelity:
    if config is None or config.math_fidelity == MathFidelity.Invalid:
        return default
    return config.math_fidelity


def float_dtype(dtype: DataType, op: str) -> DataType:
    if dtype not in (DataType.BFLOAT16, DataType.BFLOAT8_B, DataType.FLOAT32, DataType.BFLOAT4_B):
        raise NotImplementedError(f"{op}: input dtype {dtype} is not supported by the emulator")
    return dtype


_WIDER = {
    DataType.BFLOAT8_B: (DataType.BFLOAT16, DataType.FLOAT32),
    DataType.BFLOAT16: (DataType.BFLOAT16, DataType.FLOAT32),
    DataType.FLOAT32: (DataType.FLOAT32,),
}


def exact_copy(source: DataType, target: DataType, blocks_intact: bool) -> bool:
    """Whether moving values of ``source`` into a ``target`` buffer changes none of them. bfloat8_b to bfloat8_b is
    exact only when every 16-value block along the last dimension stays together (``blocks_intact``)."""
    if source == target == DataType.BFLOAT8_B:
        return blocks_intact
    return target in _WIDER.get(source, ())


def check_program_on_shard_grid(tensor: Tensor, config: MemoryConfig, program: ShardGridProgram) -> None:
    """Refuse a program on ``tensor``'s device that a sharded ``config``'s grid places on cores the device lacks.

    A block sharded tensor may name a grid wider than the device while its shards sit on cores that exist (the
    allocator checks only those, ``memory.validate_memory_config``). Programs built on that grid then reach past the
    compute grid, and ttnn 0.81.1 refuses them when it builds them (measured on the mocked n150 and p150):

    * ``eltwise``/``binary`` (``config`` the sharded output's): runtime arguments go to the grid's cores in shard
      orientation order, as many as the compute grid has (a 10x8 ROW_MAJOR grid reaches core (8,0), a COL_MAJOR one
      does not); the binary program then crashes the process or refuses;
    * ``untilize`` (``config`` the input's, untilized into shards or out of its tile padding): the work unit spans
      the whole grid.
    """
    if not config.is_sharded() or config.buffer_type != BufferType.L1 or config.shard_spec is None:
        return
    device = tensor.device()
    if device is None:  # a host tensor runs no program
        return
    grid = device.compute_with_storage_grid_size()
    node = _first_core_outside(config.shard_spec, grid.x, grid.y, whole_grid=program == "untilize")
    if node is None:
        return
    x, y = node
    if program == "untilize":
        ttnn_words = (
            f"WorkUnitSpec 'main' targets node ({x},{y}), which is out of bounds. The compute worker grid on this "
            f"device is {grid.x}x{grid.y}."
        )
    elif program == "binary":
        ttnn_words = (
            f"user_arg_count == runtime_args.size(): Illegal Runtime Args on {x}-{y} (the binary program sets "
            "runtime args on a node past the compute grid; ttnn 0.81 refuses it there, or crashes)"
        )
    else:
        ttnn_words = (
            f"kernel_nodes.contains(node): Kernel 'reader' is setting runtime_arg_values for node {x}-{y}, but the "
            "kernel does not run on that node."
        )
    raise RuntimeError(
        f"TT_FATAL: {ttnn_words} (The program runs on the input's shard grid, which reaches past the device's "
        f"{grid.x}x{grid.y} compute grid: derive the shard grid from device.compute_with_storage_grid_size().)"
    )


def _first_core_outside(shard: ShardSpec, width: int, height: int, *, whole_grid: bool) -> tuple[int, int] | None:
    """The first core of ``shard``'s grid a program reaches outside a ``width`` x ``height`` compute grid, or None:
    over the whole grid's bounding box, or the grid's cores in shard orientation order up to the compute grid's
    core count."""
    box = shard.grid.bounding_box()
    if whole_grid:
        if box.end.x >= width:
            return width, box.start.y
        return (0, height) if box.end.y >= height else None
    reached = itertools.islice(_cores_in_order(shard), width * height)
    return next(((x, y) for x, y in reached if x >= width or y >= height), None)


def _cores_in_order(shard: ShardSpec) -> Iterator[tuple[int, int]]:
    """The cores of ``shard``'s grid, range by range, along rows (ROW_MAJOR) or columns (COL_MAJOR)."""
    for core_range in shard.grid.ranges():
        xs = range(core_range.start.x, core_range.end.x + 1)
        ys = range(core_range.start.y, core_range.end.y + 1)
        if shard.orientation == ShardOrientation.ROW_MAJOR:
            yield from ((x, y) for y in ys for x in xs)
        else:
            yield from ((x, y) for x in xs for y in ys)

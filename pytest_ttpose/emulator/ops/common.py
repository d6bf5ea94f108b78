"""Helpers shared by the op modules: default output memory configs, activations, argument checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch

from ..tensor import Tensor
from ..types import (
    BufferType,
    DataType,
    MathFidelity,
    MemoryConfig,
    TensorMemoryLayout,
    UnaryOpType,
    UnaryWithParam,
    WormholeComputeKernelConfig,
)

ShardGridProgram = Literal["eltwise", "untilize"]  # the programs ttnn places on a sharded input's whole grid


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


def check_program_on_shard_grid(tensor: Tensor, program: ShardGridProgram = "eltwise") -> None:
    """Refuse a program placed on every core of a sharded input's grid when that grid names cores the device lacks.

    A block sharded tensor may name a grid wider than the device while its shards sit on cores that exist (the
    allocator checks only those, ``memory.validate_memory_config``); an eltwise unary op with a sharded output still
    places its kernels on the whole grid, and ttnn 0.81.1 refuses it when it builds the program (measured on the
    mocked n150: ``neg`` into the input's config is refused, ``exp`` into L1 interleaved accepted). Untilizing such
    a tensor into shards or out of its tile padding is refused too; tilizing one is not (measured on the mocked n150).
    """
    config = tensor.memory_config()
    if not config.is_sharded() or config.buffer_type != BufferType.L1:
        return
    device = tensor.device()
    if device is None:  # a host tensor runs no program
        return
    grid = device.compute_with_storage_grid_size()
    end = config.shard_spec.grid.bounding_box().end  # type: ignore[union-attr]
    if end.x >= grid.x or end.y >= grid.y:
        start_y = config.shard_spec.grid.bounding_box().start.y  # type: ignore[union-attr]
        x, y = (grid.x, start_y) if end.x >= grid.x else (0, grid.y)
        ttnn_words = (
            f"WorkUnitSpec 'main' targets node ({x},{y}), which is out of bounds. The compute worker grid on this "
            f"device is {grid.x}x{grid.y}."
            if program == "untilize"
            else f"kernel_nodes.contains(node): Kernel 'reader' is setting runtime_arg_values for node {x}-{y}, but "
            "the kernel does not run on that node."
        )
        raise RuntimeError(
            f"TT_FATAL: {ttnn_words} (The program runs on the input's whole shard grid, which reaches past the "
            f"device's {grid.x}x{grid.y} compute grid: derive the shard grid from "
            "device.compute_with_storage_grid_size().)"
        )

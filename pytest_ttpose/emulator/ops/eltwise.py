"""Elementwise ops: binary arithmetic with broadcasting, activations, softmax.

Math runs in float32 on the stored (already rounded) inputs and the result is rounded to the output dtype, which
is how the FPU/SFPU results land in a TT buffer; the SFPU's approximations of exp/sigmoid are not modelled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from ..dispatch import launch
from ..memory import shard_not_tile_sized
from ..tensor import Tensor
from ..types import (
    TILE_SIZE,
    BufferType,
    CoreRangeSet,
    DataType,
    Layout,
    MemoryConfig,
    ShardSpec,
    SigmoidMode,
    SoftmaxDefaultProgramConfig,
    UnaryWithParam,
    padded_shape_for,
    reject_unsupported,
)
from .common import apply_unary, check_program_on_shard_grid, dimension_in_range, output_memory_config


def _broadcast_shape(a: Sequence[int], b: Sequence[int], op: str) -> list[int]:
    """The broadcast output shape, or ttnn's error: the last two dimensions are checked first (binary_ng picks its
    subtile broadcast from them), the others by its broadcasting rule."""
    rank = max(len(a), len(b))
    dims_a, dims_b = [1] * (rank - len(a)) + list(a), [1] * (rank - len(b)) + list(b)
    fits = [x == y or 1 in (x, y) for x, y in zip(dims_a, dims_b, strict=True)]
    if not all(fits[-2:]):
        raise RuntimeError(
            f"TT_THROW: Invalid subtile broadcast type: {op}: shapes {list(a)} and {list(b)} cannot be broadcast in "
            "their last two dimensions"
        )
    if not all(fits):
        index = max(i for i, fit in enumerate(fits) if not fit)
        raise RuntimeError(
            f"TT_FATAL: {op}: Broadcasting rule violation for rank {index - rank}, dim a: {dims_a[index]}, dim b: "
            f"{dims_b[index]} (shapes {list(a)} and {list(b)})"
        )
    return [x + y - 1 if 1 in (x, y) else x for x, y in zip(dims_a, dims_b, strict=True)]


def _shard_scaled_to(shard: ShardSpec, source: Sequence[int], target: Sequence[int]) -> ShardSpec:
    """ttnn's binary_ng ``adjust_to_shape``: the shard's height and width scaled by how much the padded tensor grows
    (height: every dimension but the last folded), never below one tile."""
    height = max(shard.shape[0] * math.prod(target[:-1]) // math.prod(source[:-1]), TILE_SIZE)
    width = max(shard.shape[1] * target[-1] // source[-1], TILE_SIZE)
    return ShardSpec(shard.grid, [height, width], shard.orientation)


def _binary_memory_config(
    op: str, a: Tensor, b: Tensor, out_shape: Sequence[int], layout: Layout, memory_config: MemoryConfig | None
) -> MemoryConfig:
    """The output memory config ttnn 0.81's binary_ng picks for two tensors (measured on mocked n150 and p150).

    Without ``memory_config``: a sharded ``a``'s config, unless ``b`` is sharded over more cores; an interleaved
    ``a`` in DRAM yields to a sharded ``b``, one in L1 does not. The chosen input's shard is scaled to the output's
    padded shape (a broadcast operand's shard grows with the output)."""

    def scaled(source: Tensor) -> MemoryConfig:
        config = source.memory_config()
        assert config.shard_spec is not None
        shard = _shard_scaled_to(
            config.shard_spec, padded_shape_for(source.shape, layout), padded_shape_for(out_shape, layout)
        )
        return MemoryConfig(config.memory_layout, config.buffer_type, shard)

    a_config, b_config = a.memory_config(), b.memory_config()
    if memory_config is not None:
        if not memory_config.is_sharded() or memory_config.shard_spec is not None:
            return memory_config
        for source in (a, b):  # a sharded config without a shard spec takes the sharded input's, scaled
            if source.memory_config().shard_spec is not None:
                inherited = scaled(source)
                return MemoryConfig(memory_config.memory_layout, memory_config.buffer_type, inherited.shard_spec)
        raise RuntimeError(
            f"TT_THROW: {op}: Output memory config is sharded but has no shard spec, and no input tensors are "
            "sharded (give the memory config a shard spec)"
        )
    a_shard, b_shard = a_config.shard_spec, b_config.shard_spec
    if b_shard is not None:
        if a_shard is None and a_config.buffer_type == BufferType.DRAM:
            return scaled(b)
        if a_shard is not None and b_shard.num_cores() > a_shard.num_cores():
            return scaled(b)
    return scaled(a) if a_shard is not None else a_config


def _output_layout(inputs: Sequence[Tensor]) -> Layout:
    """ttnn 0.81 tilizes a row-major operand of a binary op that has a TILE operand, and returns TILE."""
    return Layout.TILE if any(t.layout == Layout.TILE for t in inputs) else inputs[0].layout


# binary_ng ops without a kernel for one float and one integer operand (is_dtype_combination_supported)
_NO_MIXED_KERNEL = {
    "add": "ADD",
    "subtract": "SUB",
    "eq": "EQ",
    "ne": "NE",
    "gt": "GT",
    "ge": "GTE",
    "lt": "LT",
    "le": "LTE",
}  # op -> its BinaryOpType


def _alike(a: Tensor, b: Tensor, config: MemoryConfig) -> bool:
    """Whether two operands share shape and dtype and both sit in ``config``."""
    return (
        list(a.shape) == list(b.shape)
        and a.dtype == b.dtype
        and a.memory_config() == config
        and b.memory_config() == config
    )


def _binary(
    op: str,
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    input_tensor_a: Tensor | float,
    input_tensor_b: Tensor | float,
    dtype: DataType | None,
    memory_config: MemoryConfig | None,
    output_tensor: Tensor | None,
    activations: Sequence[UnaryWithParam] | None,
    **unsupported: object,
) -> Tensor:
    reject_unsupported(op, **unsupported)
    if not isinstance(input_tensor_a, Tensor):  # scalar op tensor: swap so the tensor leads
        scalar_a = float(input_tensor_a)
        return _binary(
            op,
            lambda b, a: fn(a, b),
            input_tensor_b,
            scalar_a,
            dtype,
            memory_config,
            output_tensor,
            activations,
        )
    for operand in (input_tensor_a, input_tensor_b):
        if isinstance(operand, Tensor):
            _require_tile_sized_shards_to_tilize(op, operand)
    chain = list(activations or [])

    def finish(values: torch.Tensor) -> torch.Tensor:
        for activation in chain:
            values = apply_unary(values, activation)
        return values

    if isinstance(input_tensor_b, Tensor):
        integer = {DataType.UINT32, DataType.INT32}
        if op in _NO_MIXED_KERNEL and len({d in integer for d in (input_tensor_a.dtype, input_tensor_b.dtype)}) > 1:
            # binary_ng has no kernel adding or comparing a float and an integer operand (multiply and divide
            # typecast instead)
            raise RuntimeError(
                f"TT_FATAL: {op}: Mixed dtype is not supported for binary operation BinaryOpType::"
                f"{_NO_MIXED_KERNEL[op]}, dtype A: DataType::{input_tensor_a.dtype.name}, dtype B: "
                f"DataType::{input_tensor_b.dtype.name} (typecast one operand first)"
            )
        out_shape = _broadcast_shape(input_tensor_a.shape, input_tensor_b.shape, op)
        inputs = [input_tensor_a, input_tensor_b]
        if output_tensor is None or memory_config is not None:
            memory_config = _binary_memory_config(
                op, input_tensor_a, input_tensor_b, out_shape, _output_layout(inputs), memory_config
            )

        def compute(v: list[torch.Tensor]) -> torch.Tensor:
            return finish(fn(v[0], v[1]))
    else:
        scalar = float(input_tensor_b)
        out_shape = list(input_tensor_a.shape)
        inputs = [input_tensor_a]

        def compute(v: list[torch.Tensor]) -> torch.Tensor:
            return finish(fn(v[0], torch.tensor(scalar, dtype=torch.float32)))

    output_config = memory_config or (output_tensor or input_tensor_a).memory_config()
    if not isinstance(input_tensor_b, Tensor) or _alike(input_tensor_a, input_tensor_b, output_config):
        # measured for a scalar operand and for alike operands in the output's config; broadcasts, mixed dtypes or
        # configs take programs that ttnn 0.81 places otherwise
        check_program_on_shard_grid(input_tensor_a, output_config, "binary")
    return launch(
        op,
        inputs,
        compute,
        dtype=dtype or input_tensor_a.dtype,
        layout=_output_layout(inputs),
        # with neither memory_config nor output_tensor a scalar op keeps the input's config; ttnn writes into a given
        # output_tensor's own config
        memory_config=output_config,
        output_tensor=output_tensor,
        fresh=True,
    )


def _binary_op(
    op: str, fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], fast_default: bool
) -> Callable[..., Tensor]:
    def binary(
        input_tensor_a: Tensor | float,
        input_tensor_b: Tensor | float,
        *,
        fast_and_approximate_mode: bool = fast_default,
        dtype: DataType | None = None,
        memory_config: MemoryConfig | None = None,
        output_tensor: Tensor | None = None,
        activations: Sequence[UnaryWithParam] | None = None,
        input_tensor_a_activations: Sequence[UnaryWithParam] | None = None,
        input_tensor_b_activations: Sequence[UnaryWithParam] | None = None,
        sub_core_grids: CoreRangeSet | None = None,
        sub_device_id: object = None,
    ) -> Tensor:
        return _binary(
            op,
            fn,
            input_tensor_a,
            input_tensor_b,
            dtype,
            memory_config,
            output_tensor,
            activations,
            input_tensor_a_activations=input_tensor_a_activations,
            input_tensor_b_activations=input_tensor_b_activations,
            sub_core_grids=sub_core_grids,
            sub_device_id=sub_device_id,
        )

    binary.__name__ = binary.__qualname__ = op
    binary.__doc__ = f"ttnn.{op}: elementwise with broadcasting; a scalar may stand for either input."
    return binary


def divide(
    input_tensor_a: Tensor | float,
    input_tensor_b: Tensor | float,
    *,
    fast_and_approximate_mode: bool = False,
    rounding_mode: str | None = None,
    dtype: DataType | None = None,
    memory_config: MemoryConfig | None = None,
    output_tensor: Tensor | None = None,
    activations: Sequence[UnaryWithParam] | None = None,
    input_tensor_a_activations: Sequence[UnaryWithParam] | None = None,
    input_tensor_b_activations: Sequence[UnaryWithParam] | None = None,
    sub_core_grids: CoreRangeSet | None = None,
    sub_device_id: object = None,
) -> Tensor:
    """ttnn.divide: elementwise with broadcasting; ``rounding_mode`` "trunc" or "floor" as in torch.div."""
    if rounding_mode not in (None, "trunc", "floor"):
        raise NotImplementedError(f"divide: rounding_mode={rounding_mode!r} is not supported (None, 'trunc', 'floor')")

    def fn(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.div(a, b, rounding_mode=rounding_mode)

    return _binary(
        "divide",
        fn,
        input_tensor_a,
        input_tensor_b,
        dtype,
        memory_config,
        output_tensor,
        activations,
        # The fast mode divides through the SFPU's approximate reciprocal, which the emulator does not model.
        fast_and_approximate_mode=fast_and_approximate_mode,
        input_tensor_a_activations=input_tensor_a_activations,
        input_tensor_b_activations=input_tensor_b_activations,
        sub_core_grids=sub_core_grids,
        sub_device_id=sub_device_id,
    )


div = divide  # ttnn 0.81 binds the same op under both names

# ttnn's add and subtract default to the fast mode, multiply does not (ttnn 0.81.1 signatures).
add = _binary_op("add", torch.add, True)
subtract = _binary_op("subtract", torch.sub, True)
multiply = _binary_op("multiply", torch.mul, False)


def _relational_op(op: str, fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Callable[..., Tensor]:
    def relational(
        input_tensor_a: Tensor,
        input_tensor_b: Tensor | float,
        *,
        dtype: DataType | None = None,
        memory_config: MemoryConfig | None = None,
        output_tensor: Tensor | None = None,
        activations: Sequence[UnaryWithParam] | None = None,
        input_tensor_a_activations: Sequence[UnaryWithParam] | None = None,
        input_tensor_b_activations: Sequence[UnaryWithParam] | None = None,
        sub_core_grids: CoreRangeSet | None = None,
        sub_device_id: object = None,
    ) -> Tensor:
        if not isinstance(input_tensor_a, Tensor):  # ttnn binds no scalar-first form of the comparisons
            raise TypeError(f"{op}(): incompatible function arguments: input_tensor_a must be a ttnn.Tensor")
        return _binary(
            op,
            lambda a, b: fn(a, b).to(torch.float32),
            input_tensor_a,
            input_tensor_b,
            dtype,
            memory_config,
            output_tensor,
            activations,
            input_tensor_a_activations=input_tensor_a_activations,
            input_tensor_b_activations=input_tensor_b_activations,
            sub_core_grids=sub_core_grids,
            sub_device_id=sub_device_id,
        )

    relational.__name__ = relational.__qualname__ = op
    relational.__doc__ = f"ttnn.{op}: 1 where the comparison holds, else 0, in the input's dtype."
    return relational


# Comparisons give exact 0/1 values, which every float dtype stores unchanged.
eq = _relational_op("eq", torch.eq)
ne = _relational_op("ne", torch.ne)
gt = _relational_op("gt", torch.gt)
ge = _relational_op("ge", torch.ge)
lt = _relational_op("lt", torch.lt)
le = _relational_op("le", torch.le)


def _launch_unary(
    op: str,
    input_tensor: Tensor,
    fn: Callable[[torch.Tensor], torch.Tensor],
    memory_config: MemoryConfig | None,
    output_tensor: Tensor | None,
) -> Tensor:
    """An elementwise op of one tensor: float32 math, result in the input's dtype and layout. An interleaved output
    keeps the input's padded shape (a ROW_MAJOR input padded to whole shards stays padded); a sharded one is padded
    for its own shards (measured on mocked n150 and p150 chips)."""
    config = memory_config or output_memory_config(input_tensor)
    check_program_on_shard_grid(input_tensor, config, "eltwise")  # an interleaved output runs on the compute grid
    return launch(
        op,
        [input_tensor],
        lambda v: fn(v[0]),
        dtype=input_tensor.dtype,
        layout=input_tensor.layout,
        memory_config=config,
        output_tensor=output_tensor,
        fresh=True,
        padded_shape=None if config.is_sharded() else input_tensor.padded_shape,
    )


def _unary_op(op: str, fn: Callable[[torch.Tensor], torch.Tensor]) -> Callable[..., Tensor]:
    def unary(
        input_tensor: Tensor,
        *,
        memory_config: MemoryConfig | None = None,
        output_tensor: Tensor | None = None,
        sub_core_grids: CoreRangeSet | None = None,
    ) -> Tensor:
        reject_unsupported(op, sub_core_grids=sub_core_grids)
        return _launch_unary(op, input_tensor, fn, memory_config, output_tensor)

    unary.__name__ = unary.__qualname__ = op
    unary.__doc__ = f"ttnn.{op}: computed in float32, rounded to the input dtype."
    return unary


silu = _unary_op("silu", torch.nn.functional.silu)
relu = _unary_op("relu", torch.relu)
neg = _unary_op("neg", torch.neg)


def exp(
    input_tensor: Tensor,
    *,
    fast_and_approximate_mode: bool = False,
    memory_config: MemoryConfig | None = None,
    output_tensor: Tensor | None = None,
    sub_core_grids: CoreRangeSet | None = None,
) -> Tensor:
    # The SFPU's fast exp is a different approximation; the emulator computes the accurate one only.
    reject_unsupported("exp", fast_and_approximate_mode=fast_and_approximate_mode, sub_core_grids=sub_core_grids)
    return _launch_unary("exp", input_tensor, torch.exp, memory_config, output_tensor)


def sigmoid(
    input_tensor: Tensor,
    *,
    vector_mode: int = 4,
    mode: SigmoidMode = SigmoidMode.Accurate,
    memory_config: MemoryConfig | None = None,
    output_tensor: Tensor | None = None,
    sub_core_grids: CoreRangeSet | None = None,
) -> Tensor:
    # vector_mode 4 (RC) applies sigmoid to every element of a tile; the row/column modes and the approximate SFPU
    # sigmoid would give other values, which the emulator does not model.
    reject_unsupported(
        "sigmoid",
        vector_mode=vector_mode if vector_mode != 4 else None,
        mode=mode if mode != SigmoidMode.Accurate else None,
        sub_core_grids=sub_core_grids,
    )
    return _launch_unary("sigmoid", input_tensor, torch.sigmoid, memory_config, output_tensor)


def _require_tile_sized_shards_to_tilize(op: str, tensor: Tensor) -> None:
    """ttnn tilizes a sharded ROW_MAJOR input of a compute op in place, keeping its shard spec, which a TILE tensor
    can have only in whole tiles."""
    shard = tensor.memory_config().shard_spec
    if shard is not None and tensor.layout == Layout.ROW_MAJOR and any(d % TILE_SIZE for d in shard.shape):
        raise RuntimeError(
            f"TT_FATAL: {op}: {shard_not_tile_sized(shard.shape)} (a ROW_MAJOR sharded input is tilized with its "
            "shard spec: use tile-multiple shards or an interleaved input)"
        )


def _check_sharded_softmax_width(op: str, input_tensor: Tensor) -> None:
    """ttnn's softmax views a tensor whose last dimension is not tile aligned at its padded width, which a sharded
    tensor allows only when one shard spans that width (tensor_ops.cpp:380)."""
    config = input_tensor.memory_config()
    width, padded_width = input_tensor.shape[-1], input_tensor.padded_shape[-1]
    if config.shard_spec is None or width == padded_width or config.shard_spec.shape[1] == padded_width:
        return
    raise RuntimeError(
        f"TT_FATAL: {op}: Changing the last dimension of a sharded tensor is not supported unless the shard width "
        f"matches the input last dimension. Input shape: Shape({list(input_tensor.padded_shape)}), New shape: "
        f"Shape({list(input_tensor.shape)}), Shard width: {config.shard_spec.shape[1]} (softmax views the tensor at "
        "its padded width: height-shard it, or make the width a multiple of 32)"
    )


def softmax(
    input_tensor: Tensor,
    dim: int = -1,
    *,
    memory_config: MemoryConfig | None = None,
    compute_kernel_config: object = None,
    numeric_stable: bool = True,
) -> Tensor:
    axis = dimension_in_range(dim, len(input_tensor.shape), spaced=True)
    if input_tensor.layout != Layout.TILE and axis != len(input_tensor.shape) - 1:
        # ttnn tilizes a ROW_MAJOR input for a softmax over the last dimension only; over another one its device
        # op receives the rows as they are (softmax_device_operation.cpp:181)
        raise RuntimeError(
            f"TT_FATAL: softmax: Inputs to softmax must be tilized (a ROW_MAJOR input's softmax over dim {dim}: "
            "convert it with ttnn.to_layout(x, TILE_LAYOUT) first)"
        )
    _require_tile_sized_shards_to_tilize("softmax", input_tensor)
    _check_sharded_softmax_width("softmax", input_tensor)
    return launch(
        "softmax",
        [input_tensor],
        lambda v: torch.softmax(v[0], dim=axis),
        dtype=input_tensor.dtype,
        layout=Layout.TILE,  # ttnn tilizes a row-major input first
        memory_config=memory_config or output_memory_config(input_tensor),
        fresh=True,
    )


_DEFAULT_SOFTMAX_PROGRAM = SoftmaxDefaultProgramConfig()


def softmax_in_place(
    input_tensor: Tensor,
    dim: int = -1,
    *,
    program_config: object = _DEFAULT_SOFTMAX_PROGRAM,
    compute_kernel_config: object = None,
    numeric_stable: bool = True,
) -> Tensor:
    """Softmax over the last dimension, written over the input's own buffer (which ttnn returns)."""
    sharded_program = None if program_config == _DEFAULT_SOFTMAX_PROGRAM else program_config
    reject_unsupported("softmax_in_place", program_config=sharded_program)
    if input_tensor.layout != Layout.TILE:  # the result overwrites the input, so it cannot be tilized first
        raise RuntimeError(
            "TT_FATAL: softmax_in_place: Inputs to softmax must be tilized "
            "(convert with ttnn.to_layout(x, TILE_LAYOUT))"
        )
    if dimension_in_range(dim, len(input_tensor.shape), spaced=True) != len(input_tensor.shape) - 1:
        raise NotImplementedError("softmax_in_place: only the last dimension is supported by the emulator")
    _check_sharded_softmax_width("softmax_in_place", input_tensor)
    return launch(
        "softmax_in_place",
        [input_tensor],
        lambda v: torch.softmax(v[0], dim=-1),
        dtype=input_tensor.dtype,
        layout=input_tensor.layout,
        memory_config=input_tensor.memory_config(),
        output_tensor=input_tensor,
        fresh=True,
    )

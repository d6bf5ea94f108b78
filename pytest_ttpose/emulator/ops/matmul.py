"""matmul and linear with the matmul unit's math fidelity."""

from __future__ import annotations

import math

import torch

from pytest_ttpose.devperf.descriptors import MatmulWork

from ..dispatch import launch
from ..matrix_unit import finish_in_dst, fp32_dest_acc, matrix_unit_product
from ..numerics import math_operand, needs_weights_hi, weights_hi
from ..tensor import Tensor
from ..types import (
    DRAM_MEMORY_CONFIG,
    TILE_SIZE,
    Arch,
    CoreCoord,
    CoreRange,
    CoreRangeSet,
    DataType,
    Layout,
    MathFidelity,
    MemoryConfig,
    ShardOrientation,
    ShardSpec,
    TensorMemoryLayout,
    UnaryWithParam,
    WormholeComputeKernelConfig,
    reject_unsupported,
)
from .common import apply_unary, float_dtype, math_fidelity

_BLOCK_FORMATS = (DataType.BFLOAT8_B, DataType.BFLOAT4_B)


def default_matmul_fidelity(a: Tensor, b: Tensor, arch: Arch, tuned: bool) -> MathFidelity:
    """tt-metal's matmul default when no compute config is given: HiFi2, or LoFi when both inputs are block formats
    or a program config / core grid is given; two float32 inputs use HiFi3 on Wormhole and HiFi4 on Blackhole."""
    if a.dtype == DataType.FLOAT32 and b.dtype == DataType.FLOAT32:
        return MathFidelity.HiFi3 if arch == Arch.WORMHOLE_B0 else MathFidelity.HiFi4
    if tuned or (a.dtype in _BLOCK_FORMATS and b.dtype in _BLOCK_FORMATS):
        return MathFidelity.LoFi
    return MathFidelity.HiFi2


def default_matmul_fp32_dest_acc(a: Tensor, b: Tensor) -> bool:
    """tt-metal's matmul default without a compute config: a float32 Dst when both inputs are float32."""
    return a.dtype == DataType.FLOAT32 and b.dtype == DataType.FLOAT32


def _right_operand(
    stored: torch.Tensor, dtype: DataType, transpose: bool, with_hi: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The right operand (SrcA, usually weights) as the matmul unit reads it, contiguous, and its SrcA high part when
    ``with_hi``. Cached on the stored tensor, which a write replaces rather than modifies, so the cache can never go
    stale; keyed by dtype and transposition because exact copies of other dtypes may share a stored tensor. The
    cache never holds ``stored`` itself (None stands for it): a tensor referring to itself would wait for the
    cyclic garbage collector."""
    cache: dict[tuple[DataType, bool], list[torch.Tensor | None]] | None = getattr(
        stored, "_emulator_matmul_operands", None
    )
    if cache is None:
        cache = {}
        stored._emulator_matmul_operands = cache  # type: ignore[attr-defined]
    entry = cache.get((dtype, transpose))
    if entry is None:
        rhs = math_operand(stored, dtype)
        rhs = (rhs.transpose(-1, -2) if transpose else rhs).contiguous()
        entry = [None if rhs is stored else rhs, None]
        cache[(dtype, transpose)] = entry
    operand = stored if entry[0] is None else entry[0]
    if with_hi and entry[1] is None:
        entry[1] = weights_hi(operand)
    return operand, entry[1]


def _tile_padded(size: int) -> int:
    return -(-int(size) // TILE_SIZE) * TILE_SIZE


def _check_derived_block_grid(op: str, a: Tensor) -> None:
    """ttnn's 2D multicast config derived for a block-sharded input_tensor_a over a grid of several rows and
    columns: the grid's rows (columns for COL_MAJOR) must hold M in shard-height steps, its columns K in
    shard-width steps (matmul_program_config.cpp:784 and :790)."""
    config = a.memory_config()
    shard = config.shard_spec
    if config.memory_layout != TensorMemoryLayout.BLOCK_SHARDED or shard is None:
        return
    box = shard.grid.bounding_box()
    grid_x, grid_y = box.end.x - box.start.x + 1, box.end.y - box.start.y + 1
    if grid_x == 1 or grid_y == 1:
        return
    if shard.orientation == ShardOrientation.COL_MAJOR:
        grid_x, grid_y = grid_y, grid_x
    padded = list(a.padded_shape)
    rows, cols = math.prod(padded[:-1]) // TILE_SIZE, padded[-1] // TILE_SIZE
    for axis, cores, tiles, per_shard in (("y", grid_y, rows, shard.shape[0]), ("x", grid_x, cols, shard.shape[1])):
        steps = tiles // (per_shard // TILE_SIZE), math.ceil(tiles / (per_shard // TILE_SIZE))
        if cores not in steps:
            raise RuntimeError(
                f"TT_FATAL: {op}: Num cores along {axis} ({cores}) must match provided grid size ({steps[0]}) or "
                f"divided up size ({steps[1]}) (the block-sharded input_tensor_a's grid does not fit its shards: "
                "shard it over as many cores as it has shards, or pass a program_config)"
            )


def _cores_row_wise(count: int, grid: CoreCoord) -> CoreRangeSet:
    """``count`` cores of a ``grid.x`` by ``grid.y`` grid taken row by row from the origin (ttnn's
    num_cores_to_corerangeset)."""
    rows, rest = divmod(count, grid.x)
    ranges = [CoreRange(CoreCoord(0, 0), CoreCoord(grid.x - 1, rows - 1))] if rows else []
    if rest:
        ranges.append(CoreRange(CoreCoord(0, rows), CoreCoord(rest - 1, rows)))
    return CoreRangeSet(ranges)


# The largest output block, in tiles along M (per batch) and along N, that ttnn 0.81 puts on one core for a
# block-sharded output of interleaved inputs (measured on mocked n150 and p150: 16 fits, 18 and 24 do not).
_MAX_SINGLE_CORE_TILES = 16


def _sharded_output_of_interleaved(
    op: str, a: Tensor, out_shape: list[int], memory_config: MemoryConfig
) -> MemoryConfig:
    """The output config ttnn 0.81's derived program config gives a sharded ``memory_config`` when both inputs are
    interleaved (measured on mocked n150 and p150):

    * a block-sharded config on a single row of cores is written width-sharded, on a single column height-sharded,
      with the caller's shard spec;
    * on a grid of rows and columns (or one core), each batch's whole M x N output goes to one core, the batches
      down the first column, ROW_MAJOR (up to 16 tiles along M and along N);
    * width (height) sharding spreads N (M) over as few cores of the compute grid as hold it, one tile deep where
      it can, taken row by row, ROW_MAJOR; a batched ``a`` gets no such config.
    """
    shard = memory_config.shard_spec
    assert shard is not None
    device = a.device()
    assert device is not None
    grid = device.compute_with_storage_grid_size()
    box = shard.grid.bounding_box()
    if box.end.x >= grid.x or box.end.y >= grid.y:
        raise RuntimeError(
            f"TT_FATAL: {op}: bbox.contains(shard_grid): the output's shard grid {shard.grid} leaves the "
            f"{grid.x}x{grid.y} compute grid"
        )
    one_row, one_column = box.start.y == box.end.y, box.start.x == box.end.x
    layout = memory_config.memory_layout
    if layout == TensorMemoryLayout.BLOCK_SHARDED and one_row != one_column:
        relabelled = TensorMemoryLayout.WIDTH_SHARDED if one_row else TensorMemoryLayout.HEIGHT_SHARDED
        return MemoryConfig(relabelled, memory_config.buffer_type, shard)
    padded = [*out_shape[:-2], _tile_padded(out_shape[-2]), _tile_padded(out_shape[-1])]
    batches = math.prod(padded[:-2])
    m_tiles, n_tiles = padded[-2] // TILE_SIZE, padded[-1] // TILE_SIZE
    if layout == TensorMemoryLayout.BLOCK_SHARDED:
        if max(m_tiles, n_tiles) > _MAX_SINGLE_CORE_TILES or batches > grid.y:
            raise RuntimeError(
                f"TT_FATAL: {op}: !shard_grid_fit_error (the block-sharded output of interleaved inputs puts each "
                f"batch's {m_tiles}x{n_tiles}-tile output on one core, which holds at most "
                f"{_MAX_SINGLE_CORE_TILES}x{_MAX_SINGLE_CORE_TILES}: pass a program_config or an interleaved "
                "memory_config)"
            )
        cores = CoreRangeSet([CoreRange(CoreCoord(0, 0), CoreCoord(0, batches - 1))])
        spec = ShardSpec(cores, [padded[-2], padded[-1]], ShardOrientation.ROW_MAJOR)
        return MemoryConfig(layout, memory_config.buffer_type, spec)
    if batches > 1:
        raise RuntimeError(
            f"TT_FATAL: {op}: !shard_grid_fit_error (a {layout.name} output of a batched interleaved input_tensor_a "
            "gets no shard spec that fits: fold the batch into M, or pass a program_config)"
        )
    along_n = layout == TensorMemoryLayout.WIDTH_SHARDED
    tiles = n_tiles if along_n else m_tiles
    per_core = -(-tiles // (grid.x * grid.y))
    count = -(-tiles // per_core)
    shape = [padded[-2], per_core * TILE_SIZE] if along_n else [per_core * TILE_SIZE, padded[-1]]
    spec = ShardSpec(_cores_row_wise(count, grid), shape, ShardOrientation.ROW_MAJOR)
    return MemoryConfig(layout, memory_config.buffer_type, spec)


def _check_derived_output(op: str, a: Tensor, memory_config: MemoryConfig | None) -> None:
    """The config ttnn derives from a sharded input_tensor_a writes a sharded output in a's memory layout, on cores
    inside a's grid (matmul_program_config.cpp:683, matmul_device_operation.cpp:754; measured)."""
    if memory_config is None or memory_config.shard_spec is None:
        return
    ours = a.memory_config()
    assert ours.shard_spec is not None
    if memory_config.memory_layout != ours.memory_layout:
        derived = "MatmulMultiCoreReuseMultiCast" + (
            "" if ours.memory_layout == TensorMemoryLayout.BLOCK_SHARDED else "1D"
        )
        raise RuntimeError(
            f"TT_FATAL: {op}: {derived}ProgramConfig: input A and output memory layouts must match, got input: "
            f"TensorMemoryLayout::{ours.memory_layout.name} vs output: "
            f"TensorMemoryLayout::{memory_config.memory_layout.name} (the program config ttnn derives from a sharded "
            "input_tensor_a writes the output sharded the same way; ask for that sharding, or an interleaved output)"
        )
    if not CoreRangeSet([ours.shard_spec.grid.bounding_box()]).contains(memory_config.shard_spec.grid.bounding_box()):
        raise RuntimeError(
            f"TT_FATAL: {op}: bbox.contains(shard_grid): the output's shard grid {memory_config.shard_spec.grid} "
            f"leaves input_tensor_a's {ours.shard_spec.grid} (put the output on the input's cores)"
        )


def _check_batches(a_batch: list[int], b_batch: list[int], tuned: bool) -> None:
    """ttnn 0.81 broadcasts a ``b`` without batch dimensions (all 1); otherwise the batch dimensions must agree, except
    an ``a`` without batch dimensions under a caller-chosen 1D program config, which the emulator lets through."""
    if all(d == 1 for d in b_batch):
        return
    rank = max(len(a_batch), len(b_batch))
    a_dims = [1] * (rank - len(a_batch)) + list(a_batch)
    b_dims = [1] * (rank - len(b_batch)) + list(b_batch)
    if a_dims == b_dims or (tuned and all(d == 1 for d in a_dims)):
        return
    axis = next(i for i, (x, y) in enumerate(zip(a_dims, b_dims, strict=True)) if x != y)
    raise RuntimeError(
        "TT_FATAL: bmm (non-bcast matmul) expects input tensors of shapes BCMK*BCKN=BCMN or batch dimension "
        f"{axis} mismatch: a={a_dims[axis]} vs b={b_dims[axis]} (dimension mismatch only allowed when all batch "
        "dimensions of a are size 1 and using MatmulMultiCoreReuseMultiCast1DProgramConfig with fuse_batch=false, "
        "fused_activation=none, mcast_in0=false, and non-sharded inputs for in0 reuse optimization)"
    )


def _check_batched_1d_sharded_output(
    op: str, a_shape: list[int], b_shape: list[int], memory_config: MemoryConfig | None
) -> None:
    """ttnn 0.81 derives a height- or width-sharded output of an interleaved, batched input_tensor_a (times an
    unbatched input_tensor_b) from one batch's rows: a width shard one batch high, or one core per tile row of a
    batch, neither of which holds the whole batched output (measured on mocked n150 and p150)."""
    batch = math.prod(a_shape[:-2])
    if memory_config is None or batch == 1 or math.prod(b_shape[:-2]) != 1:
        return
    shard = memory_config.shard_spec
    rows = _tile_padded(a_shape[-2])
    fix = "(fold the batch into the rows, ask for block sharding, or write it interleaved)"
    if memory_config.memory_layout == TensorMemoryLayout.WIDTH_SHARDED:
        raise RuntimeError(
            f"TT_FATAL: {op}: Shard height {rows} must match physical height {batch * rows} for width sharded {fix}"
        )
    if memory_config.memory_layout == TensorMemoryLayout.HEIGHT_SHARDED and shard is not None:
        shards, cores = math.ceil(batch * rows / shard.shape[0]), rows // TILE_SIZE
        if shards > cores:
            raise RuntimeError(
                f"TT_FATAL: {op}: Number of shards along height {shards} must not exceed number of cores {cores} {fix}"
            )


def _matmul(
    op: str,
    a: Tensor,
    b: Tensor,
    bias: Tensor | None,
    transpose_a: bool,
    transpose_b: bool,
    memory_config: MemoryConfig | None,
    dtype: DataType | None,
    activation: str | UnaryWithParam | None,
    compute_kernel_config: WormholeComputeKernelConfig | None,
    optional_output_tensor: Tensor | None,
    tuned: bool,
) -> Tensor:
    for name, t in (("input_tensor_a", a), ("input_tensor_b", b)):
        if t.layout != Layout.TILE:
            raise RuntimeError(f"TT_FATAL: Inputs to matmul must be tilized ({op}: {name} is {t.layout})")
        float_dtype(t.dtype, op)
    a_shard = a.memory_config().shard_spec
    if a_shard is not None and not tuned:
        # without a program config ttnn derives one from input_tensor_a's sharding: 1D (height or width) sharding
        # must be ROW_MAJOR, and a derived config takes no fused activation
        if a.memory_config().memory_layout != TensorMemoryLayout.BLOCK_SHARDED and (
            a_shard.orientation != ShardOrientation.ROW_MAJOR
        ):
            raise RuntimeError(
                f"TT_FATAL: {op}: a {a.memory_config().memory_layout} input_tensor_a must have a ROW_MAJOR shard "
                "orientation when ttnn derives the program config; reshard it or pass a program_config"
            )
        _check_derived_block_grid(op, a)
        _check_derived_output(op, a, memory_config)
        if activation is not None:
            raise RuntimeError(
                f"TT_FATAL: {op}: a fused activation on a sharded input_tensor_a needs a program_config "
                "(ttnn's derived config carries none); apply the activation as its own op"
            )
    a_shape = list(a.shape)
    b_shape = list(b.shape)
    if transpose_a:
        a_shape[-1], a_shape[-2] = a_shape[-2], a_shape[-1]
    if transpose_b:
        b_shape[-1], b_shape[-2] = b_shape[-2], b_shape[-1]
    if a_shape[-1] != b_shape[-2]:
        raise RuntimeError(
            f"TT_FATAL: a_shape[-1] == b_shape[-2]: The width of the first tensor must be equal to the height of the "
            f"second tensor. Mismatch: width={a_shape[-1]} height={b_shape[-2]}"
        )
    _check_batches(a_shape[:-2], b_shape[:-2], tuned)
    out_shape = list(torch.broadcast_shapes(tuple(a_shape[:-2]), tuple(b_shape[:-2]))) + [a_shape[-2], b_shape[-1]]
    if bias is not None and _tile_padded(bias.shape[-1]) != _tile_padded(b_shape[-1]):
        raise RuntimeError(
            f"TT_FATAL: Unsupported bias shape: padded last dimension of bias, {_tile_padded(bias.shape[-1])}, not "
            f"equal to second input's padded last dimension, {_tile_padded(b_shape[-1])}."
        )
    if not tuned and not a.memory_config().is_sharded():
        _check_batched_1d_sharded_output(op, a_shape, b_shape, memory_config)
    if (
        memory_config is not None
        and memory_config.shard_spec is not None
        and optional_output_tensor is None
        and not tuned
        and not a.memory_config().is_sharded()
        and not b.memory_config().is_sharded()
        and all(d == 1 for d in b_shape[:-2])
    ):
        memory_config = _sharded_output_of_interleaved(op, a, out_shape, memory_config)
    device = a.device()
    assert device is not None
    fidelity = math_fidelity(compute_kernel_config, default_matmul_fidelity(a, b, device.arch(), tuned))
    dst_fp32 = fp32_dest_acc(compute_kernel_config, default_matmul_fp32_dest_acc(a, b))
    a_dtype, b_dtype = a.dtype, b.dtype
    inputs = [a, b] + ([bias] if bias is not None else [])

    def compute(v: list[torch.Tensor]) -> torch.Tensor:
        lhs = math_operand(v[0], a_dtype)
        if transpose_a:
            lhs = lhs.transpose(-1, -2)
        rhs, w_hi = _right_operand(v[1], b_dtype, transpose_b, needs_weights_hi(fidelity) or not dst_fp32)
        out = matrix_unit_product(lhs.contiguous(), rhs, fidelity, a_dtype, b_dtype, dst_fp32, w_hi)
        if len(v) == 3:
            out = finish_in_dst(out + v[2], dst_fp32)
        if activation is None:
            return out
        return finish_in_dst(apply_unary(out, activation, inplace=True), dst_fp32)

    return launch(
        op,
        inputs,
        compute,
        dtype=dtype or a.dtype,
        layout=Layout.TILE,
        # ttnn's matmul and linear write DRAM interleaved unless told otherwise, whatever the inputs hold.
        memory_config=memory_config or DRAM_MEMORY_CONFIG,
        output_tensor=optional_output_tensor,
        fresh=True,
        fidelity=fidelity,
        work=MatmulWork(math.prod(out_shape[:-1]), a_shape[-1], b_shape[-1]),
    )


def matmul(
    input_tensor_a: Tensor,
    input_tensor_b: Tensor,
    *,
    transpose_a: bool = False,
    transpose_b: bool = False,
    memory_config: MemoryConfig | None = None,
    dtype: DataType | None = None,
    program_config: object = None,
    activation: str | UnaryWithParam | None = None,
    compute_kernel_config: WormholeComputeKernelConfig | None = None,
    core_grid: object = None,
    output_tile: object = None,
    optional_output_tensor: Tensor | None = None,
    global_cb: object = None,
    sub_device_id: object = None,
) -> Tensor:
    # program_config and core_grid only choose how the work is spread over cores: the values do not change.
    reject_unsupported("matmul", output_tile=output_tile, global_cb=global_cb, sub_device_id=sub_device_id)
    return _matmul(
        "matmul",
        input_tensor_a,
        input_tensor_b,
        None,
        transpose_a,
        transpose_b,
        memory_config,
        dtype,
        activation,
        compute_kernel_config,
        optional_output_tensor,
        program_config is not None or core_grid is not None,
    )


def linear(
    input_tensor_a: Tensor,
    input_tensor_b: Tensor,
    *,
    bias: Tensor | None = None,
    transpose_a: bool = False,
    transpose_b: bool = False,
    memory_config: MemoryConfig | None = None,
    dtype: DataType | None = None,
    program_config: object = None,
    activation: str | UnaryWithParam | None = None,
    compute_kernel_config: WormholeComputeKernelConfig | None = None,
    core_grid: object = None,
    output_tile: object = None,
    optional_output_tensor: Tensor | None = None,
    global_cb: object = None,
    sub_device_id: object = None,
) -> Tensor:
    reject_unsupported("linear", output_tile=output_tile, global_cb=global_cb, sub_device_id=sub_device_id)
    return _matmul(
        "linear",
        input_tensor_a,
        input_tensor_b,
        bias,
        transpose_a,
        transpose_b,
        memory_config,
        dtype,
        activation,
        compute_kernel_config,
        optional_output_tensor,
        program_config is not None or core_grid is not None,
    )

"""Layout, memory-config, dtype and shape operations."""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Literal

import torch

from ..device import MeshDevice
from ..dispatch import launch
from ..memory import shard_not_tile_sized, validate_memory_config
from ..tensor import Tensor, host_tensor, store_values
from ..types import (
    DRAM_MEMORY_CONFIG,
    TILE_SIZE,
    BufferType,
    CoreCoord,
    CoreRange,
    CoreRangeSet,
    DataType,
    Layout,
    MemoryConfig,
    ShardOrientation,
    ShardSpec,
    TensorMemoryLayout,
    TileReshapeMapMode,
    element_bytes,
    make_spec,
    padded_shape_for,
    reject_unsupported,
    spec_padded_shape,
    tile_bytes,
)
from .common import check_program_on_shard_grid, dimension_in_range, exact_copy, index_in_rank, output_memory_config
from .sharded_outputs import (
    padded_output_config,
    rescaled_output_config,
    reshape_is_view,
    reshaped_output_config,
    split_output_config,
    untilized_output_config,
)
from .transposed_outputs import permuted_output_config, transposed_output_config

_BLOCK_FORMATS = (DataType.BFLOAT8_B, DataType.BFLOAT4_B)
SPLIT_BATCH = 64  # ttnn 0.81's split cuts an equal split into more pieces than this in batches of this many


def _same_values(values: list[torch.Tensor]) -> torch.Tensor:
    return values[0]


def to_layout(
    tensor: Tensor,
    layout: Layout,
    dtype: DataType | None = None,
    memory_config: MemoryConfig | None = None,
    sub_core_grids: CoreRangeSet | None = None,
    pad_value: float = 0.0,
) -> Tensor:
    reject_unsupported("to_layout", sub_core_grids=sub_core_grids)
    out_dtype = dtype or tensor.dtype
    untilize_cast = dtype is not None and dtype != tensor.dtype and tensor.layout == Layout.TILE
    if layout == Layout.ROW_MAJOR and tensor._on_device and untilize_cast:
        if not (tensor.dtype in _BLOCK_FORMATS and dtype == DataType.BFLOAT16):
            # ttnn's untilize keeps the dtype, bfloat8_b -> bfloat16 excepted (to_layout_op.cpp:170)
            raise RuntimeError(
                "TT_FATAL: to_layout: dtype cannot be different from tensor dtype when converting to "
                "ROW_MAJOR_LAYOUT on device (allowed exception: BFLOAT8_B -> BFLOAT16, which untilize handles "
                f"natively)! ({tensor.dtype} -> {dtype}: untilize first, then ttnn.typecast)"
            )
    if layout == Layout.ROW_MAJOR and out_dtype in _BLOCK_FORMATS:
        out_dtype = DataType.BFLOAT16  # untilizing a block format yields bfloat16 rows
    if out_dtype in _BLOCK_FORMATS and layout != Layout.TILE:
        raise RuntimeError(f"TT_FATAL: Layout must be Layout::TILE for {out_dtype}")
    if not tensor._on_device:
        if memory_config is not None:
            raise RuntimeError("to_layout: memory_config applies to device tensors only")
        shards = [store_values(s, out_dtype) for s in tensor._values("to_layout")]
        return host_tensor(shards, out_dtype, layout, tensor.tile)
    if layout == tensor.layout and (out_dtype == tensor.dtype or layout == Layout.TILE):
        # ttnn 0.81 returns it as it is, whatever memory_config asks (use to_memory_config to move it), and a TILE
        # tensor whatever dtype asks too (use typecast to convert it)
        return tensor
    shard = tensor.memory_config().shard_spec
    if layout == Layout.TILE and tensor.layout == Layout.ROW_MAJOR and shard is not None:
        if any(d % TILE_SIZE for d in shard.shape):
            # ttnn tilizes a sharded tensor shard by shard, so its shards must already be whole tiles
            raise RuntimeError(
                f"TT_FATAL: to_layout: {shard_not_tile_sized(shard.shape)} To tilize a ROW_MAJOR sharded tensor, "
                "reshard it to tile-multiple shards or make it interleaved first"
            )
    interleaved_output = memory_config is not None and not memory_config.is_sharded()
    if (
        layout == Layout.ROW_MAJOR
        and tensor.layout == Layout.TILE
        and _untilize_unpads_slices(tensor, interleaved_output)
    ):
        written = "interleaved" if interleaved_output else "for BLOCK_SHARDED -> BLOCK_SHARDED"
        raise RuntimeError(
            f"TT_FATAL: to_layout: Can only write unbatched output {written} (untilizing a "
            f"{tensor.memory_config().memory_layout.name} {list(tensor.shape)} tensor strips tile padding from one "
            "[H, W] slice only: fold the leading dims into the height, or untilize it interleaved)"
        )
    requested = memory_config.shard_spec if memory_config is not None else None
    if layout == Layout.ROW_MAJOR and tensor.layout == Layout.TILE and requested is not None:
        if any(d % TILE_SIZE for d in requested.shape):
            # ttnn untilizes into the requested shards tile by tile, so they must be whole tiles
            # (tensor_layout.cpp:171, shard_align_error)
            raise RuntimeError(
                f"TT_FATAL: to_layout: !shard_align_error.has_value(): {shard_not_tile_sized(requested.shape)} "
                "To untilize into a sharded memory_config, give it tile-multiple shards, or untilize first and "
                "then move the result with ttnn.to_memory_config"
            )
    unpadded = list(tensor.shape) == list(tensor.padded_shape)
    if layout == Layout.ROW_MAJOR and tensor.layout == Layout.TILE and not (interleaved_output and unpadded):
        # untilizing into shards, or stripping tile padding, runs on the input's shard grid; an interleaved untilize
        # of whole tiles runs on the compute grid (measured on the mocked n150)
        check_program_on_shard_grid(tensor, tensor.memory_config(), "untilize")
    return launch(
        "to_layout",
        [tensor],
        _same_values,
        dtype=out_dtype,
        layout=layout,
        memory_config=memory_config
        or (untilized_output_config(tensor) if layout == Layout.ROW_MAJOR else None)
        or output_memory_config(tensor),
        exact=exact_copy(tensor.dtype, out_dtype, True),
    )


# A reshard of a DRAM height-sharded row-major input whose rows are not whole DRAM alignment units (32 B on
# Wormhole, 64 B on Blackhole; ttnn 0.81.1 on mocked n150 and p150): its reader's dataflow buffer holds two input
# shards of rows, each row a page aligned to the DRAM alignment. The buffer's 16-bit capacity register caps the
# entries, and the buffer is allocated statically in L1 above the unreserved base on every output core. Aligned rows
# are read without staging. Measured exception: Blackhole's to_memory_config takes another path for shards past the
# capacity and accepts them (ttnn.reshard refuses the same call).
_DFB_MAX_CAPACITY = 65535


def _untilize_unpads_slices(tensor: Tensor, interleaved_output: bool) -> bool:
    """Whether untilizing ``tensor`` needs ttnn's sharded untilize_with_unpadding over more than one [H, W] slice,
    which it refuses for a block-sharded input and for a width-sharded one written interleaved
    (untilize_with_unpadding_device_operation.cpp; height sharding passes)."""
    memory_layout = tensor.memory_config().memory_layout
    if not (
        memory_layout == TensorMemoryLayout.BLOCK_SHARDED
        or (memory_layout == TensorMemoryLayout.WIDTH_SHARDED and interleaved_output)
    ):
        return False
    unpads = list(tensor.shape[-2:]) != list(tensor.padded_shape[-2:])
    return unpads and math.prod(tensor.shape[:-2]) > 1


ReshardingOp = Literal["to_memory_config", "reshard"]


def _check_dram_sharded_read(input_tensor: Tensor, output_config: MemoryConfig, op: ReshardingOp) -> None:
    """Raise ttnn's ``TT_FATAL`` when ``op`` cannot reshard a DRAM height-sharded row-major input with unaligned rows
    into ``output_config`` (the staged shard rows overflow the dataflow buffer's capacity or the core's L1)."""
    device = input_tensor.device()
    config = input_tensor.memory_config()
    if (
        device is None
        or config.buffer_type != BufferType.DRAM
        or config.memory_layout != TensorMemoryLayout.HEIGHT_SHARDED
        or config.shard_spec is None
        or not output_config.is_sharded()
        or output_config.shard_spec is None
        or input_tensor.layout != Layout.ROW_MAJOR
    ):
        return
    arch = device._arch_spec
    shard_rows, shard_width = config.shard_spec.shape
    row_bytes = int(shard_width) * element_bytes(input_tensor.dtype)
    if row_bytes % arch.dram_alignment == 0:
        return
    entries = 2 * int(shard_rows)
    if entries > _DFB_MAX_CAPACITY:
        if op == "to_memory_config" and arch.name == "blackhole":
            return
        raise RuntimeError(
            "TT_FATAL @ tt_metal/impl/dataflow_buffer/dataflow_buffer.cpp:1567: capacity <= max_capacity | "
            f"DFB 1: capacity {entries} exceeds the maximum {_DFB_MAX_CAPACITY} (HW BUFFER_CAPACITY is 16 bits); "
            "reduce num_entries."
        )
    page_bytes = math.ceil(row_bytes / arch.dram_alignment) * arch.dram_alignment
    static_top = arch.l1_unreserved_base + entries * page_bytes
    if static_top > arch.worker_l1_size:
        box = output_config.shard_spec.grid.bounding_box()
        raise RuntimeError(
            f"TT_FATAL: Statically allocated dataflow buffers on core range [{box.start.x}-{box.start.y} - "
            f"{box.end.x}-{box.end.y}] grow to {static_top} B which is beyond max L1 size of {arch.worker_l1_size} B"
        )


def _require_aligned_row_major_shards(op: str, tensor: Tensor, *configs: MemoryConfig, ttnn_words: str = "") -> None:
    """ttnn's shard copies move ROW_MAJOR shards row by row, so a sharded side's shard row must fill whole L1
    alignment units (16 bytes); ROW_MAJOR shards of other widths exist, but these ops refuse them (to_memory_config,
    which takes another path, accepts them: measured on the mocked n150 and p150)."""
    if tensor.layout != Layout.ROW_MAJOR:
        return
    for config in configs:
        if config.shard_spec is None:
            continue
        row_bytes = config.shard_spec.shape[1] * element_bytes(tensor.dtype)
        alignment = _device_of(tensor)._arch_spec.l1_alignment
        if row_bytes % alignment:
            whole_units = alignment // math.gcd(alignment, element_bytes(tensor.dtype))
            raise RuntimeError(
                f"TT_FATAL: {op}: {ttnn_words}a ROW_MAJOR shard row of {config.shard_spec.shape[1]} {tensor.dtype} "
                f"values is {row_bytes} bytes, not a multiple of the {alignment}-byte L1 alignment; choose a shard "
                f"width that is a multiple of {whole_units} values"
            )


def to_memory_config(
    tensor: Tensor, memory_config: MemoryConfig, dtype: DataType | None = None, output_tensor: Tensor | None = None
) -> Tensor:
    if output_tensor is None and memory_config == tensor.memory_config():
        # ttnn 0.81 returns a tensor already in the target config as it is: dtype is ignored (measured on mocked
        # n150 and p150 for bfloat8_b, bfloat16 and float32, interleaved and sharded); a move takes dtype
        return tensor
    if dtype not in (None, tensor.dtype) and tensor.layout != Layout.TILE:
        # the copy converts dtypes only tile by tile (copy_device_operation.cpp:135; measured on mocked n150, p150)
        reason = (
            "Only TILE layout is supported for BFLOAT8_B dtype!"
            if dtype in _BLOCK_FORMATS
            else "Only tile layout supports dtype conversion"
        )
        raise RuntimeError(
            f"TT_FATAL: to_memory_config: {reason} (a ROW_MAJOR {tensor.dtype.name} tensor moved to another memory "
            f"config as {dtype.name}: convert it with ttnn.typecast, or move it in TILE layout)"
        )
    _check_dram_sharded_read(tensor, memory_config, "to_memory_config")
    return launch(
        "to_memory_config",
        [tensor],
        _same_values,
        dtype=dtype or tensor.dtype,
        layout=tensor.layout,
        memory_config=memory_config,
        output_tensor=output_tensor,
        exact=exact_copy(tensor.dtype, dtype or tensor.dtype, True),
    )


def interleaved_to_sharded(
    input_tensor: Tensor,
    grid: MemoryConfig | CoreCoord | CoreRangeSet,
    shard_shape: Sequence[int] | DataType | None = None,
    shard_scheme: TensorMemoryLayout | None = None,
    shard_orientation: ShardOrientation | None = None,
    output_dtype: DataType | None = None,
    *,
    keep_l1_aligned: bool = False,
    preallocated_output: Tensor | None = None,
) -> Tensor:
    reject_unsupported("interleaved_to_sharded", keep_l1_aligned=keep_l1_aligned)
    if isinstance(grid, MemoryConfig):
        config = grid
        if isinstance(shard_shape, DataType):
            output_dtype = shard_shape
    else:
        if shard_shape is None or shard_scheme is None or shard_orientation is None:
            raise TypeError("interleaved_to_sharded(input, grid, shard_shape, shard_scheme, shard_orientation)")
        core_set = (
            grid
            if isinstance(grid, CoreRangeSet)
            else CoreRangeSet([CoreRange(CoreCoord(0, 0), CoreCoord(grid.x - 1, grid.y - 1))])
        )
        config = MemoryConfig(shard_scheme, BufferType.L1, ShardSpec(core_set, list(shard_shape), shard_orientation))  # type: ignore[arg-type]
    if not config.is_sharded():
        raise RuntimeError("TT_FATAL: interleaved_to_sharded needs a sharded memory config")
    if input_tensor.memory_config().is_sharded():
        raise RuntimeError("TT_FATAL: interleaved_to_sharded: the input tensor is already sharded (use reshard)")
    _require_aligned_row_major_shards("interleaved_to_sharded", input_tensor, config)
    return launch(
        "interleaved_to_sharded",
        [input_tensor],
        _same_values,
        dtype=output_dtype or input_tensor.dtype,
        layout=input_tensor.layout,
        memory_config=config,
        output_tensor=preallocated_output,
        exact=exact_copy(input_tensor.dtype, output_dtype or input_tensor.dtype, True),
    )


def sharded_to_interleaved(
    input_tensor: Tensor, memory_config: MemoryConfig | None = None, output_dtype: DataType | None = None
) -> Tensor:
    if not input_tensor.memory_config().is_sharded():
        return input_tensor  # ttnn hands an interleaved input back as it is, whatever memory_config asks
    config = memory_config or DRAM_MEMORY_CONFIG  # ttnn's default, whatever buffer the shards are in
    if config.is_sharded():
        raise RuntimeError("TT_FATAL: sharded_to_interleaved needs an interleaved output memory config")
    _require_aligned_row_major_shards("sharded_to_interleaved", input_tensor, input_tensor.memory_config())
    return launch(
        "sharded_to_interleaved",
        [input_tensor],
        _same_values,
        dtype=output_dtype or input_tensor.dtype,
        layout=input_tensor.layout,
        memory_config=config,
        exact=exact_copy(input_tensor.dtype, output_dtype or input_tensor.dtype, True),
    )


def reshard(input_tensor: Tensor, output_memory_config: MemoryConfig, output_tensor: Tensor | None = None) -> Tensor:
    if not output_memory_config.is_sharded():
        raise RuntimeError("TT_FATAL: reshard needs a sharded output memory config")
    _check_dram_sharded_read(input_tensor, output_memory_config, "reshard")
    if input_tensor.memory_config().buffer_type != BufferType.DRAM:  # a DRAM shard's rows are staged, any width
        _require_aligned_row_major_shards("reshard", input_tensor, input_tensor.memory_config(), output_memory_config)
    return launch(
        "reshard",
        [input_tensor],
        _same_values,
        dtype=input_tensor.dtype,
        layout=input_tensor.layout,
        memory_config=output_memory_config,
        output_tensor=output_tensor,
        exact=True,
    )


def _check_row_major_sharded_typecast(input_tensor: Tensor, output_config: MemoryConfig) -> None:
    """ttnn 0.81's typecast copies a ROW_MAJOR sharded tensor page by page (a page is a shard row): a sharded output
    must hold as many pages of as many elements (measured on mocked n150 and p150, with ttnn's words)."""
    input_shard = input_tensor.memory_config().shard_spec
    output_shard = output_config.shard_spec
    if input_tensor.layout != Layout.ROW_MAJOR or input_shard is None or output_shard is None:
        return
    page_elements, out_elements = int(input_shard.shape[1]), int(output_shard.shape[1])
    if out_elements == page_elements:
        return
    rows = math.prod(int(d) for d in input_tensor.padded_shape[:-1])
    width = int(input_tensor.padded_shape[-1])
    raise RuntimeError(
        "TT_FATAL: Row-major typecast requires matching page geometry, got input "
        f"{rows * -(-width // page_elements)} pages of {page_elements} elements and output "
        f"{rows * -(-width // out_elements)} pages of {out_elements} elements"
    )


def _check_sharded_typecast_cores(input_tensor: Tensor, dtype: DataType, output_config: MemoryConfig) -> None:
    """ttnn 0.81 typecasts a sharded TILE tensor between dtypes of one tile size (uint32 and int32, say) shard by
    shard, each core into its own output shard, so a sharded output must be spread over as many cores as the input
    (typecast_sharded_program_factory.cpp:40); between tile sizes it takes another program, which does not ask
    (measured on mocked n150 and p150)."""
    input_shard, output_shard = input_tensor.memory_config().shard_spec, output_config.shard_spec
    if input_tensor.layout != Layout.TILE or input_shard is None or output_shard is None:
        return
    if tile_bytes(input_tensor.dtype) != tile_bytes(dtype):
        return
    if output_shard.num_cores() != input_shard.num_cores():
        raise RuntimeError(
            f"TT_FATAL: typecast: Output tensor should have same number of cores {output_shard.num_cores()} as "
            f"input tensor {input_shard.num_cores()} (give the output the input's shard grid, or typecast "
            "into the input's memory config and reshard after)"
        )


def typecast(
    input_tensor: Tensor,
    dtype: DataType,
    output_dtype: DataType | None = None,
    *,
    memory_config: MemoryConfig | None = None,
    output_tensor: Tensor | None = None,
    sub_core_grids: CoreRangeSet | None = None,
) -> Tensor:
    reject_unsupported("typecast", sub_core_grids=sub_core_grids)
    target = output_dtype if output_dtype is not None else dtype
    if target in _BLOCK_FORMATS and input_tensor.layout != Layout.TILE:
        raise RuntimeError(f"TT_FATAL: Only TILE layout is supported for {target.name} dtype! (typecast)")
    _check_typecast_row_pages(input_tensor)
    config = memory_config or output_memory_config(input_tensor)
    if config.memory_layout != input_tensor.memory_config().memory_layout:
        raise RuntimeError(
            "TT_FATAL: Typecast operation requires Input and Output memory layout to match. Input layout: "
            f"{input_tensor.memory_config().memory_layout}, Output layout: {config.memory_layout}"
        )
    _check_row_major_sharded_typecast(input_tensor, config)
    _check_sharded_typecast_cores(input_tensor, target, config)
    return launch(
        "typecast",
        [input_tensor],
        lambda v: v[0].to(torch.float32),
        dtype=target,
        layout=input_tensor.layout,
        memory_config=config,
        output_tensor=output_tensor,
        exact=exact_copy(input_tensor.dtype, target, True),
        pack_precision="precise",  # typecast's kernel is compiled with bfp8_pack_precise: it rounds once
    )


def _check_typecast_row_pages(input_tensor: Tensor) -> None:
    """ttnn 0.81's typecast reads a sharded ROW_MAJOR tensor one shard row per page, which must be the buffer's page:
    the shard row must be whole alignment units, as the buffer pads its pages to them (measured on mocked n150 and
    p150)."""
    config = input_tensor.memory_config()
    shard = config.shard_spec
    if input_tensor.layout != Layout.ROW_MAJOR or shard is None:
        return
    arch = _device_of(input_tensor)._arch_spec
    alignment = arch.dram_alignment if config.buffer_type == BufferType.DRAM else arch.l1_alignment
    row = shard.shape[1] * element_bytes(input_tensor.dtype)
    if row % alignment:
        where = "DRAM" if config.buffer_type == BufferType.DRAM else "L1"
        raise RuntimeError(
            f"TT_FATAL: Typecast operation requires sharded input tensor page size ({row} bytes) to be aligned to "
            f"{where} ({alignment} bytes) (a ROW_MAJOR shard row is a page: choose a shard width of whole "
            f"{max(1, alignment // element_bytes(input_tensor.dtype))}-value units, or typecast it interleaved)"
        )


def clone(
    input: Tensor,
    *,
    dtype: DataType | None = None,
    memory_config: MemoryConfig | None = None,
    compute_kernel_config: object = None,
) -> Tensor:
    config = memory_config or input.memory_config()
    if dtype not in (None, input.dtype) and input.layout != Layout.TILE:
        raise RuntimeError("TT_FATAL: Clone: data type conversion is only supported with tile layout")
    if config.memory_layout != input.memory_config().memory_layout:
        raise RuntimeError(
            f"TT_FATAL: Clone: the output memory layout {config.memory_layout} must be the input's "
            f"{input.memory_config().memory_layout}: use to_memory_config to change it"
        )
    if config.is_sharded() and config.shard_spec != input.memory_config().shard_spec:
        # ttnn 0.81's clone copies shard by shard (measured on mocked n150 and p150)
        raise RuntimeError(
            "TT_FATAL: Clone: input and output shard specs must be identical (same grid, shape, and orientation) "
            f"(output {config.shard_spec}, input {input.memory_config().shard_spec}: use to_memory_config to reshard "
            "it)"
        )
    return launch(
        "clone",
        [input],
        _same_values,
        dtype=dtype or input.dtype,
        layout=input.layout,
        memory_config=config,
        exact=exact_copy(input.dtype, dtype or input.dtype, True),
    )


def _resolve_shape(shape: Sequence[int], volume: int) -> list[int]:
    dims = [int(d) for d in shape]
    if dims.count(-1) > 1:
        raise RuntimeError(f"TT_FATAL: reshape: only one dimension can be -1, got {dims}")
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1)
        dims[dims.index(-1)] = volume // known if known else 0
    if math.prod(dims) != volume:
        raise RuntimeError(
            f"TT_FATAL: Invalid arguments to reshape: {list(shape)} holds a different volume than {volume} values"
        )
    return dims


def reshape(
    input_tensor: Tensor,
    shape: Sequence[int],
    padded_shape: Sequence[int] | None = None,
    *,
    memory_config: MemoryConfig | None = None,
    pad_value: float | None = None,
    reshape_tile_mode: TileReshapeMapMode = TileReshapeMapMode.CACHE,
    sub_core_grids: CoreRangeSet | None = None,
    skip_padding_fill: bool = False,
) -> Tensor:
    reject_unsupported("reshape", sub_core_grids=sub_core_grids)
    dims = _resolve_shape(shape, math.prod(input_tensor.shape))
    if padded_shape is not None and list(padded_shape) != list(padded_shape_for(dims, input_tensor.layout)):
        raise NotImplementedError("reshape: argument 'padded_shape' other than the natural padding is not supported")
    if not input_tensor._on_device:
        return host_tensor(
            [s.reshape(dims) for s in input_tensor._values("reshape")],
            input_tensor.dtype,
            input_tensor.layout,
            input_tensor.tile,
        )
    return _reshape_on_device(input_tensor, dims, memory_config, keeps_padded_rows=False)


def _reshape_on_device(
    input_tensor: Tensor, dims: list[int], memory_config: MemoryConfig | None, *, keeps_padded_rows: bool
) -> Tensor:
    """reshape on a device; ``keeps_padded_rows``: the caller (squeeze) hands ttnn the input's padded row width,
    so a view of a ROW_MAJOR tensor padded to whole shards stays possible."""
    target = memory_config or input_tensor.memory_config()
    if reshape_is_view(input_tensor, dims, target):
        output_config = (
            input_tensor.memory_config()
            if keeps_padded_rows
            else _view_config(
                input_tensor.memory_config(), input_tensor.padded_shape, input_tensor.dtype, input_tensor.layout, dims
            )
        )
    else:
        # a reshape that moves data copies a sharded input out of its shards and the result into its own
        _require_aligned_row_major_shards(
            "reshape",
            input_tensor,
            input_tensor.memory_config(),
            ttnn_words="Shard page size must be aligned to 16B for L1 Tensor: ",
        )
        output_config = reshaped_output_config(dims, input_tensor.layout, target, target_is_input=memory_config is None)
        _require_aligned_row_major_shards(
            "reshape",
            input_tensor,
            output_config,
            ttnn_words="Shard page size must currently have L1 aligned page size: ",
        )
        if input_tensor.layout == Layout.ROW_MAJOR and output_config.is_sharded():
            # ttnn moves ROW_MAJOR data as [rows, width] into the target config, whose rows it pads to whole
            # shards, then views that as the asked shape with unpadded rows
            moved_shape = [math.prod(dims[:-1]), dims[-1]]
            moved_spec = make_spec(moved_shape, input_tensor.dtype, Layout.ROW_MAJOR, output_config)
            moved_padded = spec_padded_shape(moved_spec)
            output_config = _view_config(output_config, moved_padded, input_tensor.dtype, Layout.ROW_MAJOR, dims)
    return launch(
        "reshape",
        [input_tensor],
        lambda v: v[0].reshape(dims),
        dtype=input_tensor.dtype,
        layout=input_tensor.layout,
        memory_config=output_config,
        exact=exact_copy(input_tensor.dtype, input_tensor.dtype, dims[-1:] == list(input_tensor.shape[-1:])),
    )


def _view_config(
    config: MemoryConfig, padded_shape: Sequence[int], dtype: DataType, layout: Layout, dims: Sequence[int]
) -> MemoryConfig:
    """The config of a view as ``dims`` of a tensor in ``config`` padded to ``padded_shape``: ``config``, unless its
    padded rows change (a ROW_MAJOR tensor's rows are padded to whole shards, a view's are not). ttnn 0.81 then
    refuses unless one shard holds a whole padded row, and views that shard as rows of the new width, keeping its
    size: the buffer must read as whole rows of the new width, and a width-sharded shard's new height must still be
    the tensor's height (measured on mocked n150/p150)."""
    shard = config.shard_spec
    padded_width = padded_shape[-1]
    width = padded_shape_for(dims, layout)[-1]
    if shard is None or padded_width == width:
        return config
    if shard.shape[1] != padded_width:
        raise RuntimeError(
            "TT_FATAL: Changing the last dimension of a sharded tensor is not supported unless the shard width "
            f"matches the input last dimension. Input shape: Shape({list(padded_shape)}), New shape: "
            f"Shape({list(dims)}), Shard width: {shard.shape[1]} (a view cannot keep the rows padded to whole shards; "
            f"choose shards {width} wide, or a width that divides into them)"
        )
    fix = f"(the view drops the padding of rows {padded_width} wide to {width}; choose a shard width of {width})"
    shard_height = shard.shape[0] * padded_width // width
    if config.memory_layout == TensorMemoryLayout.WIDTH_SHARDED:
        height = math.prod(dims[:-1])
        if shard_height != height:
            raise RuntimeError(
                f"TT_FATAL: Shard height {shard_height} must match physical height {height} for width sharded {fix}"
            )
    else:
        size, page = math.prod(padded_shape) * element_bytes(dtype), width * element_bytes(dtype)
        if size % page:
            raise RuntimeError(
                f"TT_FATAL: For valid non-interleaved buffers page size {page} must equal buffer size {size}. For "
                f"interleaved-buffers, buffer size should be divisible by the page size {fix}"
            )
    return MemoryConfig(
        config.memory_layout, config.buffer_type, ShardSpec(shard.grid, [shard_height, width], shard.orientation)
    )


def squeeze(input_tensor: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    shape = list(input_tensor.shape)
    dims = range(len(shape)) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    named = {dimension_in_range(int(d), len(shape), spaced=False) for d in dims}
    keep = [s for i, s in enumerate(shape) if not (i in named and s == 1)]
    if not input_tensor._on_device:
        return reshape(input_tensor, keep)
    return _reshape_on_device(input_tensor, keep, None, keeps_padded_rows=True)


def unsqueeze(input_tensor: Tensor, dim: int) -> Tensor:
    shape = list(input_tensor.shape)
    shape.insert(dimension_in_range(dim, len(shape) + 1, spaced=False), 1)
    return reshape(input_tensor, shape)


def permute(
    input_tensor: Tensor, dims: Sequence[int], *, memory_config: MemoryConfig | None = None, pad_value: float = 0.0
) -> Tensor:
    order = [index_in_rank(int(d), len(input_tensor.shape)) for d in dims]
    if sorted(order) != list(range(len(input_tensor.shape))):
        raise RuntimeError(
            f"TT_FATAL: permute: dims {list(dims)} are not a permutation of rank {len(input_tensor.shape)}"
        )
    shard = memory_config.shard_spec if memory_config is not None else None
    if input_tensor.layout == Layout.ROW_MAJOR and shard is not None:
        # ttnn 0.81's permute writes a requested sharded ROW_MAJOR output one shard row per page (measured on
        # mocked n150 and p150; transpose derives its own output config and does not check it)
        alignment = _device_of(input_tensor)._arch_spec.l1_alignment
        row = shard.shape[1] * element_bytes(input_tensor.dtype)
        if row % alignment:
            raise RuntimeError(
                f"TT_FATAL: permute: Shard page size must be aligned to {alignment}B for L1 Tensor (a shard row of "
                f"{row} bytes: choose a shard width of whole "
                f"{max(1, alignment // element_bytes(input_tensor.dtype))}-value units)"
            )
    return _permute(input_tensor, order, memory_config)


def _permute(input_tensor: Tensor, order: list[int], memory_config: MemoryConfig | None) -> Tensor:
    out_shape = [input_tensor.shape[d] for d in order]
    if memory_config is None and input_tensor.is_sharded() and len(order) <= 4:
        if _permute_moves_data(input_tensor, order):
            extra = 4 - len(order)
            memory_config = permuted_output_config(
                _as_4d(input_tensor.shape),
                input_tensor.layout,
                input_tensor.memory_config(),
                [*range(extra), *(d + extra for d in order)],
                _device_of(input_tensor).compute_with_storage_grid_size(),
            )
        else:
            memory_config = input_tensor.memory_config()
    return launch(
        "permute",
        [input_tensor],
        lambda v: v[0].permute(order).contiguous(),
        dtype=input_tensor.dtype,
        layout=input_tensor.layout,
        memory_config=memory_config or output_memory_config(input_tensor, out_shape),
        exact=exact_copy(input_tensor.dtype, input_tensor.dtype, order[-1] == len(order) - 1),
    )


def _as_4d(shape: Sequence[int]) -> list[int]:
    return [1] * (4 - len(shape)) + list(shape)


def _device_of(tensor: Tensor) -> MeshDevice:
    device = tensor.device()
    if device is None:
        raise RuntimeError("TT_FATAL: Tensor must already be on device")
    return device


def _permute_moves_data(tensor: Tensor, order: Sequence[int]) -> bool:
    """ttnn's test for a permute that is a plain copy: it moves only dimensions of size 1 (and, for TILE, neither
    of the last two dimensions; for ROW_MAJOR, not the last one)."""
    rank = len(order)
    if rank <= 1 or list(order) == list(range(rank)):
        return False
    kept = 2 if tensor.layout == Layout.TILE else 1
    if list(order[-kept:]) != list(range(rank - kept, rank)):
        return True
    return any(i != d and tensor.shape[i] > 1 for i, d in enumerate(order))


def transpose(
    input_tensor: Tensor, dim1: int, dim2: int, *, memory_config: MemoryConfig | None = None, pad_value: float = 0.0
) -> Tensor:
    rank = len(input_tensor.shape)
    order = list(range(rank))
    first, second = index_in_rank(dim1, rank), index_in_rank(dim2, rank)
    order[first], order[second] = order[second], order[first]
    if memory_config is None and input_tensor.is_sharded() and rank <= 4:
        extra = 4 - rank
        memory_config = transposed_output_config(
            _as_4d(input_tensor.shape),
            input_tensor.layout,
            input_tensor.memory_config(),
            (first + extra, second + extra),
            _device_of(input_tensor).compute_with_storage_grid_size(),
        )
    return _permute(input_tensor, order, memory_config)


def pad(
    input_tensor: Tensor,
    padding: Sequence[Sequence[int]],
    value: float,
    *,
    use_multicore: bool = True,
    memory_config: MemoryConfig | None = None,
    sub_core_grids: CoreRangeSet | None = None,
) -> Tensor:
    """``pad(t, [(before, after), ...], value)``: pads the trailing dimensions (ttnn's padding-list form)."""
    reject_unsupported("pad", sub_core_grids=sub_core_grids)
    rank = len(input_tensor.shape)
    if padding and isinstance(padding[0], int):
        raise NotImplementedError("pad: the (output_padded_shape, input_tensor_start, value) form is not supported")
    fill = float(value)
    pairs = [(int(p[0]), int(p[1])) for p in padding]
    if len(pairs) > rank:
        raise RuntimeError(f"TT_FATAL: pad: {len(pairs)} padding pairs for a rank-{rank} tensor")
    pairs = [(0, 0)] * (rank - len(pairs)) + pairs
    if any(b < 0 or a < 0 for b, a in pairs):
        raise RuntimeError(f"TT_FATAL: pad: negative padding {pairs}")
    if input_tensor.layout == Layout.TILE and any(b for b, _ in pairs):
        raise RuntimeError(
            f"TT_FATAL: ttnn.pad: on device tile padding does not support front padding (padding {pairs}); pad a "
            "ROW_MAJOR tensor, or pad only after"
        )
    flat = [amount for pair in reversed(pairs) for amount in pair]
    if not input_tensor._on_device:
        shards = [torch.nn.functional.pad(s.to(torch.float32), flat, value=fill) for s in input_tensor._values("pad")]
        return host_tensor(
            [store_values(s, input_tensor.dtype) for s in shards],
            input_tensor.dtype,
            input_tensor.layout,
            input_tensor.tile,
        )
    out_shape = [s + b + a for s, (b, a) in zip(input_tensor.shape, pairs, strict=True)]
    if not any(b or a for b, a in pairs):  # nothing to pad: ttnn hands the input back unchanged
        config = memory_config or input_tensor.memory_config()
        return launch(
            "pad",
            [input_tensor],
            lambda v: v[0].clone(),
            dtype=input_tensor.dtype,
            layout=input_tensor.layout,
            memory_config=config,
            exact=True,
        )
    if input_tensor.is_sharded():
        _check_sharded_pad(input_tensor, out_shape, pairs[-1] != (0, 0))
    if input_tensor.layout == Layout.TILE and input_tensor.is_sharded() and math.prod(out_shape[:-2]) > 1:
        # ttnn fills the new tile padding of a sharded tensor one [H, W] slice at a time, and only one
        raise RuntimeError(
            f"TT_FATAL: pad: FillPadL1ShardedProgramFactory: N_slices > 1 not yet supported (got "
            f"{math.prod(out_shape[:-2])}) (the padded shape {out_shape} of a sharded TILE tensor has more than one "
            "[H, W] slice; pad it interleaved, or fold the leading dims into the height)"
        )
    return launch(
        "pad",
        [input_tensor],
        lambda v: torch.nn.functional.pad(v[0], flat, value=fill),
        dtype=input_tensor.dtype,
        layout=input_tensor.layout,
        memory_config=memory_config
        or padded_output_config(input_tensor, out_shape)
        or output_memory_config(input_tensor, out_shape),
        exact=exact_copy(input_tensor.dtype, input_tensor.dtype, pairs[-1] == (0, 0)),
    )


def _check_sharded_pad(input_tensor: Tensor, out_shape: Sequence[int], pads_width: bool) -> None:
    """ttnn 0.81's refusals of a pad of a sharded tensor (measured on mocked n150 and p150 chips). A height-sharded
    TILE tensor whose width is padded out of its tile-padded shape is padded in ROW_MAJOR, spread over the input's
    cores (its logical rows shared evenly, the output's padded width): that shard must be whole tiles. A sharded
    ROW_MAJOR tensor's pages (a shard row in; out, for height sharding, an output row) must be whole L1 alignment
    units."""
    config = input_tensor.memory_config()
    shard = config.shard_spec
    if shard is None:
        return
    if input_tensor.layout == Layout.TILE:
        padded = padded_shape_for(out_shape, Layout.TILE)
        grows = list(padded) != list(padded_shape_for(input_tensor.shape, Layout.TILE))
        if config.memory_layout == TensorMemoryLayout.HEIGHT_SHARDED and pads_width and grows:
            rows = -(-math.prod(input_tensor.shape[:-1]) // shard.num_cores())
            if rows % TILE_SIZE or padded[-1] % TILE_SIZE:
                raise RuntimeError(f"TT_FATAL: {shard_not_tile_sized((rows, padded[-1]))}")
        return
    size = element_bytes(input_tensor.dtype)
    alignment = _device_of(input_tensor)._arch_spec.l1_alignment
    pages = [("Input", shard.shape[1])]
    if config.memory_layout == TensorMemoryLayout.HEIGHT_SHARDED:
        pages.append(("Output", out_shape[-1]))
    for side, width in pages:
        if (width * size) % alignment:
            raise RuntimeError(
                f"TT_FATAL: {side} row-major shard width {width} gives page size {width * size} bytes, which must be "
                f"aligned to {alignment} bytes"
            )


def _slice_bounds(axis: int, start: int, end: int, step: int, tensor: Tensor) -> builtins.slice:
    """One dimension of ``slice``, checked as ttnn 0.81 checks it: the start must lie inside the logical size, the
    end inside the size (for the two tile dimensions of a TILE tensor: rounded up to a tile, inside the padded
    size). Nothing is clamped."""
    size = int(tensor.shape[axis])
    start = start + size if start < 0 else start
    end = end + size if end < 0 else end
    rank = len(tensor.shape)
    if tensor.layout == Layout.TILE and axis >= rank - 2:
        limit, checked_end = int(tensor.padded_shape[axis]), math.ceil(end / TILE_SIZE) * TILE_SIZE
    else:
        limit, checked_end = size, end
    if checked_end > limit:
        raise RuntimeError(
            f"TT_FATAL: Ends {checked_end} must be less than or equal to the shape of the tensor {limit}"
        )
    if start >= size:
        raise RuntimeError(
            f"TT_FATAL: Slice start[{axis}] ({start}) must be less than input tensor shape[{axis}] ({size})"
        )
    if end > size:
        raise NotImplementedError(
            f"slice: end {end} of dimension {axis} reads the tile padding past the logical size {size}; real ttnn "
            "returns whatever the padding holds, which the emulator does not model: slice to at most the size"
        )
    return builtins.slice(start, end, step)


def slice(  # noqa: A001 - ttnn's name
    input_tensor: Tensor,
    slice_start: Sequence[int],
    slice_end: Sequence[int],
    slice_step: Sequence[int] | None = None,
    *,
    memory_config: MemoryConfig | None = None,
    output_tensor: Tensor | None = None,
    pad_value: float | None = None,
    sub_core_grids: CoreRangeSet | None = None,
) -> Tensor:
    reject_unsupported("slice", sub_core_grids=sub_core_grids)
    rank = len(input_tensor.shape)
    steps = list(slice_step) if slice_step is not None else [1] * rank
    strided = any(int(st) != 1 for st in steps)
    starts_off_tile = rank > 1 and (int(slice_start[-1]) % TILE_SIZE or int(slice_start[-2]) % TILE_SIZE)
    if (
        input_tensor.layout == Layout.TILE
        and input_tensor.memory_config().is_sharded()
        and (strided or rank == 1 or starts_off_tile)
    ):
        # this slice would go through ROW_MAJOR (below), which a sharded TILE tensor cannot (measured on the mocked
        # n150 and p150); split is not affected: it takes a sharded tensor apart from DRAM
        raise RuntimeError(
            f"TT_FATAL: slice of a sharded TILE tensor must start on tile boundaries without steps (starts "
            f"{list(slice_start)}, steps {steps}): move it to an interleaved config first"
        )
    return _slice(input_tensor, slice_start, slice_end, steps, memory_config, output_tensor)


def _slice(
    input_tensor: Tensor,
    slice_start: Sequence[int],
    slice_end: Sequence[int],
    steps: list[int],
    memory_config: MemoryConfig | None,
    output_tensor: Tensor | None,
) -> Tensor:
    rank = len(input_tensor.shape)
    if len(slice_start) != rank or len(slice_end) != rank or len(steps) != rank:
        raise RuntimeError(f"TT_FATAL: slice: starts/ends/steps must have rank {rank}")
    index = tuple(
        _slice_bounds(i, int(s), int(e), int(st), input_tensor)
        for i, (s, e, st) in enumerate(zip(slice_start, slice_end, steps, strict=True))
    )
    out_shape = [len(range(*ix.indices(dim))) for ix, dim in zip(index, input_tensor.shape, strict=True)]
    if any(d <= 0 for d in out_shape):
        raise NotImplementedError(
            f"slice: starts {list(slice_start)} and ends {list(slice_end)} give an empty output {out_shape}; "
            "real ttnn returns an empty tensor, which the emulator does not model"
        )
    out_dtype = input_tensor.dtype
    # ttnn slices a TILE tensor in ROW_MAJOR (converting it there and back) when it is strided, rank 1 or starts off
    # a tile boundary; bfloat8_b cannot take that path, so a strided slice is refused and any other leaves as
    # bfloat16.
    starts_off_tile = rank > 1 and (int(slice_start[-1]) % TILE_SIZE or int(slice_start[-2]) % TILE_SIZE)
    strided = any(int(st) != 1 for st in steps)
    if (
        input_tensor.layout == Layout.TILE
        and input_tensor.dtype == DataType.BFLOAT8_B
        and (strided or rank == 1 or starts_off_tile)
    ):
        if strided:
            raise RuntimeError("TT_FATAL: Strided slice is not supported for BFLOAT8 tensors; typecast to bfloat16")
        out_dtype = DataType.BFLOAT16
    if memory_config is not None and input_tensor.layout == Layout.ROW_MAJOR:
        _check_sliced_row_pages(out_shape, out_dtype, memory_config)
    return launch(
        "slice",
        [input_tensor],
        lambda v: v[0][index].contiguous(),
        dtype=out_dtype,
        layout=input_tensor.layout,
        memory_config=memory_config
        or rescaled_output_config(input_tensor, out_shape)
        or output_memory_config(input_tensor, out_shape),
        output_tensor=output_tensor,
        exact=exact_copy(input_tensor.dtype, input_tensor.dtype, int(slice_start[-1]) % 16 == 0 and steps[-1] == 1),
    )


def _check_sliced_row_pages(out_shape: Sequence[int], dtype: DataType, config: MemoryConfig) -> None:
    """ttnn 0.81 makes a ROW_MAJOR slice's height-sharded output buffer of its rows at the shard width, in pages of
    the sliced width: the pages must divide that buffer (measured on mocked n150 and p150: 64 rows sliced to 65 of
    80 values into [32, 80] shards are refused, to 20 of them taken; width- and block-sharded outputs are taken)."""
    if config.memory_layout != TensorMemoryLayout.HEIGHT_SHARDED or config.shard_spec is None:
        return
    shard_width = config.shard_spec.shape[1]
    if shard_width <= out_shape[-1]:
        return  # narrower shards are the tensor spec's refusal (shard width must match the physical width)
    size = math.prod(out_shape[:-1]) * shard_width * element_bytes(dtype)
    page = out_shape[-1] * element_bytes(dtype)
    if size % page:
        raise RuntimeError(
            f"TT_FATAL: For valid non-interleaved buffers page size {page} must equal buffer size {size}. For "
            "interleaved-buffers, buffer size should be divisible by the page size (a ROW_MAJOR slice "
            f"{out_shape[-1]} values wide into height shards {shard_width} wide: give the output shards as wide as "
            "the slice)"
        )


def getitem(input_tensor: Tensor, index: object) -> Tensor:
    """``tensor[...]`` as ttnn's ``Tensor.__getitem__``: integers, slices and one Ellipsis become a ``slice`` (its
    checks included), then the integer-indexed dimensions are squeezed out."""
    shape = list(input_tensor.shape)
    rank = len(shape)
    items = list(index) if isinstance(index, tuple) else [index]
    if items.count(Ellipsis) > 1:
        raise ValueError("Only one ellipsis ('...') is allowed in a slice.")
    if Ellipsis in items:
        at = items.index(Ellipsis)
        missing = rank - (len(items) - 1)
        if missing < 0:
            raise IndexError(f"Too many indices for tensor of dimension {rank}")
        items[at : at + 1] = [builtins.slice(None)] * missing
    items += [builtins.slice(None)] * (rank - len(items))
    if len(items) > rank:
        raise IndexError(f"Too many indices for tensor of dimension {rank}")
    starts, ends, steps, dropped = [], [], [], []
    for axis, item in enumerate(items):
        if isinstance(item, int):
            position = item + shape[axis] if item < 0 else item
            if not 0 <= position < shape[axis]:
                raise IndexError(
                    f"Index {item} (converted to {position}) is out of bounds "
                    f"for dimension {axis} of size {shape[axis]}"
                )
            starts.append(position)
            ends.append(position + 1)
            steps.append(1)
            dropped.append(axis)
        elif isinstance(item, builtins.slice):
            starts.append(0 if item.start is None else int(item.start))
            ends.append(shape[axis] if item.stop is None else int(item.stop))
            steps.append(1 if item.step is None else int(item.step))
        else:
            raise TypeError(f"Invalid slice type: {item}")
    if input_tensor._on_device:
        result = slice(input_tensor, starts, ends, steps)
    else:
        if any(step != 1 for step in steps):
            raise RuntimeError("Host tensors cannot be accessed with non-unit stride")
        region = tuple(builtins.slice(b, e) for b, e in zip(starts, ends, strict=True))
        result = host_tensor(
            [v[region].contiguous() for v in input_tensor._values("__getitem__")],
            input_tensor.dtype,
            input_tensor.layout,
            input_tensor.tile,
        )
    for removed, axis in enumerate(dropped):
        result = squeeze(result, axis - removed)
    return result


def _concat_dtype(tensors: Sequence[Tensor], layout: Layout) -> DataType:
    """The dtype every input has once in ``layout`` (a bfloat8_b tensor leaves TILE as bfloat16), which ttnn's concat
    device op requires to be one."""
    dtypes = [DataType.BFLOAT16 if t.dtype in _BLOCK_FORMATS and layout != Layout.TILE else t.dtype for t in tensors]
    if len(set(dtypes)) > 1:
        raise RuntimeError(
            f"TT_FATAL: All Tensors should have same dtypes. (concat: {[t.dtype for t in tensors]}; typecast them to "
            "one dtype first)"
        )
    return dtypes[0]


def _concat_layout(tensors: Sequence[Tensor]) -> Layout:
    """The layout ttnn 0.81 concatenates mixed layouts in: TILE when the first input is TILE and every ROW_MAJOR one
    is whole tiles in its last two dimensions, else ROW_MAJOR (measured on mocked n150 and p150)."""
    first = tensors[0]
    if first.layout != Layout.TILE:
        return first.layout
    whole_tiles = all(
        t.layout == Layout.TILE or (t.shape[-1] % TILE_SIZE == 0 and len(t.shape) > 1 and t.shape[-2] % TILE_SIZE == 0)
        for t in tensors
    )
    return Layout.TILE if whole_tiles else Layout.ROW_MAJOR


def _rows_aligned(tensors: Sequence[Tensor], dtype: DataType, padded: bool = False) -> bool:
    """Whether every input's ROW_MAJOR row of ``dtype`` (its logical width, or its ``padded`` one) ends on its buffer's
    alignment; ttnn transposes a last-dim concat of rows that do not before joining them."""
    device = tensors[0].device()
    assert device is not None
    arch = device._arch_spec
    size = 4 if dtype in (DataType.FLOAT32, DataType.UINT32, DataType.INT32) else 2

    def alignment(tensor: Tensor) -> int:
        dram = tensor.memory_config().buffer_type == BufferType.DRAM
        return arch.dram_alignment if dram else arch.l1_alignment

    return all((t.padded_shape if padded else t.shape)[-1] * size % alignment(t) == 0 for t in tensors)


def _check_shard_padded_rows(tensors: Sequence[Tensor], dtype: DataType) -> None:
    """ttnn 0.81 chooses between joining last-dim rows as they are and through a transpose on the inputs' padded
    widths, then requires every row it joins as it is to end on the alignment: a sharded ROW_MAJOR input whose shards
    pad its rows to an aligned width while its own rows are not is refused (measured on mocked n150 and p150)."""
    if not _rows_aligned(tensors, dtype, padded=True) or _rows_aligned(tensors, dtype):
        return
    padded = next(t for t in tensors if t.shape[-1] != t.padded_shape[-1])
    raise RuntimeError(
        "TT_FATAL: concat: Current concat implementation requires aligned last dim when concatting on last dim "
        f"(an input of width {padded.shape[-1]} is sharded into shards padding it to {padded.padded_shape[-1]}, so "
        "ttnn joins the rows as they are, and its own rows do not end on the alignment: give it shards that tile "
        "its width exactly)"
    )


def _check_concat_placement(
    tensors: Sequence[Tensor], retiled: bool, output: MemoryConfig, joined_rows_aligned: bool, last_dim_rows: bool
) -> None:
    """Which mixes of sharded and interleaved inputs ttnn 0.81's concat takes (measured on mocked n150 and p150).

    Concatenated as they are, the inputs must all be interleaved, or all sharded, or (into an interleaved output)
    follow an L1-sharded first one while every interleaved one is in L1; a sharded output must lie on the first
    input's grid. Untilized first (a tile-padded concat dim), width- and block-sharded inputs mix with interleaved
    ones, height-sharded ones only when rows are joined through a transpose (unaligned rows on the last dim), a
    block-sharded input must hold a single matrix and all-sharded inputs must share their grid. ROW_MAJOR rows
    joined through a transpose are mixed as the transposes leave them (``_transposed_configs``)."""
    configs = [t.memory_config() for t in tensors]
    if not retiled and not joined_rows_aligned:
        configs = _transposed_configs(tensors)
    sharded = [c.is_sharded() for c in configs]
    if retiled:
        _check_untilized_concat_mix(configs, joined_rows_aligned)
        layouts = {c.memory_layout for c in configs}
        mixed_height = TensorMemoryLayout.HEIGHT_SHARDED in layouts and TensorMemoryLayout.INTERLEAVED in layouts
        if mixed_height and joined_rows_aligned:
            raise RuntimeError(
                "TT_FATAL: concat: bad optional access (an untilized height-sharded input concatenated with an "
                "interleaved one: move them to one kind first)"
            )
        for tensor, config in zip(tensors, configs, strict=True):
            if config.memory_layout == TensorMemoryLayout.BLOCK_SHARDED and math.prod(tensor.padded_shape[:-2]) != 1:
                raise RuntimeError(
                    "TT_FATAL: concat: Can only write unbatched output interleaved (untilize_with_unpadding of a "
                    f"block-sharded input of shape {list(tensor.shape)}: move it to interleaved memory first)"
                )
        grids = {c.shard_spec.grid for c in configs if c.shard_spec is not None}
        if all(sharded) and len(grids) > 1:
            raise RuntimeError(
                "TT_FATAL: concat: Sharded tensors must have the same grid (reshard the inputs onto one grid)"
            )
        return
    first = configs[0]
    if last_dim_rows:
        _check_sharded_first_row_join(tensors, configs, output, joined_rows_aligned)
    follows_first = (
        not output.is_sharded()
        and first.is_sharded()
        and first.buffer_type == BufferType.L1
        and all(c.is_sharded() or c.buffer_type == BufferType.L1 for c in configs)
    )
    if len(set(sharded)) > 1 and not follows_first:
        raise RuntimeError(
            "TT_FATAL: concat: All tensors must be sharded or all must be interleaved (mixing is taken only after an "
            "L1-sharded first tensor, with every interleaved one in L1, into an interleaved output): move them to one "
            "kind first"
        )
    out_shard, first_shard = output.shard_spec, first.shard_spec
    if out_shard is not None and first_shard is not None and out_shard.grid != first_shard.grid:
        raise RuntimeError(
            f"TT_FATAL: concat: the output's shard grid {out_shard.grid} must be the first input's "
            f"{first_shard.grid} (give the output the inputs' grid)"
        )


def _check_sharded_first_row_join(
    tensors: Sequence[Tensor], configs: Sequence[MemoryConfig], output: MemoryConfig, joined_rows_aligned: bool
) -> None:
    """ROW_MAJOR rows joined on the last dim after a sharded first input (as the transposes leave it, when the rows are
    joined through them), with L1-interleaved inputs among them (measured on mocked n150 and p150): after a height-
    or block-sharded first one ttnn 0.81 refuses them (the shard spec the interleaved one lacks is read); after a
    width-sharded first one, rows joined as they are must each end on the alignment of the output's buffer when
    L1-interleaved (a 16-byte row into DRAM is refused on both arches, a 32-byte one on p150, whose DRAM alignment is
    64 bytes)."""
    first = configs[0]
    if not first.is_sharded():
        return
    interleaved_l1 = [
        t for t, c in zip(tensors, configs, strict=True) if not c.is_sharded() and c.buffer_type == BufferType.L1
    ]
    if not interleaved_l1:
        return
    if first.memory_layout in (TensorMemoryLayout.HEIGHT_SHARDED, TensorMemoryLayout.BLOCK_SHARDED):
        raise RuntimeError(
            f"TT_FATAL: concat: bad optional access (ROW_MAJOR rows after a {first.memory_layout.name} first input "
            "joined with an L1-interleaved one: shard that one like the first, or move it to DRAM)"
        )
    if not joined_rows_aligned:
        return
    arch = _device_of(tensors[0])._arch_spec
    alignment = arch.dram_alignment if output.buffer_type == BufferType.DRAM else arch.l1_alignment
    for tensor in interleaved_l1:
        row_bytes = tensor.shape[-1] * tensor.element_size()
        if row_bytes % alignment:
            raise RuntimeError(
                "TT_FATAL: concat: Current concat implementation requires aligned last dim when concatting on last "
                f"dim (an L1-interleaved row of {row_bytes} bytes after a width-sharded first input, into a "
                f"{output.buffer_type.name} output whose alignment is {alignment} bytes: make the rows a multiple of "
                f"{alignment} bytes, or put that input in DRAM)"
            )


def _transposed_configs(tensors: Sequence[Tensor]) -> list[MemoryConfig]:
    """The configs of the inputs as ttnn 0.81 transposes (WH) last-dim rows that do not end on the alignment before
    joining them: a sharded 4-D input takes the config its transpose gives it (which may be interleaved: a
    width-sharded row becomes an interleaved column), the others keep theirs (measured on mocked n150 and p150)."""
    device = _device_of(tensors[0])
    grid = device.compute_with_storage_grid_size()
    return [
        transposed_output_config(list(t.shape), t.layout, t.memory_config(), (2, 3), grid)
        if t.memory_config().is_sharded() and len(t.shape) == 4
        else t.memory_config()
        for t in tensors
    ]


def _check_transposed_join(tensors: Sequence[Tensor], dtype: DataType, output: MemoryConfig) -> None:
    """ttnn 0.81 joins last-dim rows that do not end on the buffer alignment through a WH transpose: it concatenates
    the transposed ROW_MAJOR rows in the output's memory config, which must hold that [.., widths, height] tensor too
    (measured on mocked n150 and p150: a block-sharded output short of grid rows for it is refused)."""
    if not output.is_sharded():
        return
    shape = list(tensors[0].shape)
    transposed = [*shape[:-2], sum(t.shape[-1] for t in tensors), shape[-2]]
    arch = _device_of(tensors[0])._arch_spec
    try:
        validate_memory_config(
            make_spec(transposed, dtype, Layout.ROW_MAJOR, output), arch.compute_grid, (arch.dram_banks, 1)
        )
    except RuntimeError as refusal:
        raise RuntimeError(
            f"{refusal} (concat joins rows that do not end on the alignment transposed, as {transposed}, in the "
            "output's memory config: give the output a config that holds that too, or an interleaved one)"
        ) from None


def _check_untilized_concat_mix(configs: Sequence[MemoryConfig], joined_rows_aligned: bool) -> None:
    """The mixes ttnn 0.81 refuses among inputs it untilizes for concat: untilizing keeps each input's kind, and the
    row-major concat then takes sharded inputs only after a sharded first one, and no DRAM input after a
    height-sharded first one. After a width- or block-sharded first one, when every input is in L1 and the rows are
    joined as they are (not through a transpose), no input may be L1-interleaved or sharded the other of those two
    ways (measured on mocked n150 and p150)."""
    first = configs[0]
    if not first.is_sharded() and any(c.is_sharded() for c in configs):
        raise RuntimeError(
            "TT_FATAL: concat: All tensors must be sharded or all must be interleaved (the first input is "
            "interleaved and the inputs are untilized as they are: move the sharded ones to interleaved memory, or "
            "put a sharded input first)"
        )
    if first.memory_layout == TensorMemoryLayout.HEIGHT_SHARDED and any(
        c.buffer_type == BufferType.DRAM for c in configs
    ):
        raise RuntimeError(
            "TT_FATAL: concat: All tensors must be sharded or all must be interleaved (after a height-sharded first "
            "input, only L1 inputs are taken: move the DRAM ones to L1)"
        )
    wide = (TensorMemoryLayout.WIDTH_SHARDED, TensorMemoryLayout.BLOCK_SHARDED)
    in_l1 = all(c.buffer_type == BufferType.L1 for c in configs)
    if first.memory_layout not in wide or not in_l1 or not joined_rows_aligned:
        return
    if any(not c.is_sharded() and c.buffer_type == BufferType.L1 for c in configs):
        raise RuntimeError(
            f"TT_FATAL: concat: bad optional access (an untilized {first.memory_layout.name} first input "
            "concatenated with an L1-interleaved one: move that one to DRAM or shard it the same way)"
        )
    if any(c.memory_layout in wide and c.memory_layout != first.memory_layout for c in configs):
        raise RuntimeError(
            "TT_FATAL: concat: Sharded tensors must have the same memory layout. (Shard every input "
            f"{first.memory_layout.name} like the first)"
        )


def concat(
    tensors: Sequence[Tensor],
    dim: int = 0,
    *,
    memory_config: MemoryConfig | None = None,
    output_tensor: Tensor | None = None,
    groups: int = 1,
    sub_core_grids: CoreRangeSet | None = None,
) -> Tensor:
    reject_unsupported("concat", sub_core_grids=sub_core_grids, groups=None if groups == 1 else groups)
    if not tensors:
        raise RuntimeError("TT_FATAL: concat needs at least one tensor")
    first = tensors[0]
    rank = len(first.shape)
    axis = index_in_rank(dim, rank)
    for t in tensors[1:]:
        if len(t.shape) != rank or any(
            a != b for i, (a, b) in enumerate(zip(t.shape, first.shape, strict=False)) if i != axis
        ):
            raise RuntimeError(
                f"TT_FATAL: concat: all tensors must have the same shape except along dim {dim}: "
                f"{[list(x.shape) for x in tensors]}"
            )
    out_shape = list(first.shape)
    out_shape[axis] = sum(t.shape[axis] for t in tensors)
    # A TILE input padded along the concat dim makes ttnn untilize every input (bfloat8_b into bfloat16), concatenate
    # the rows and tilize the result; otherwise the inputs take one layout first (_concat_layout).
    retiled = any(t.layout == Layout.TILE and t.shape[axis] != t.padded_shape[axis] for t in tensors)
    if retiled and any(t.layout != Layout.TILE for t in tensors):
        raise RuntimeError(
            "TT_FATAL: ttnn.concat: expected all input tensors to be in tile layout (a TILE input is padded along the "
            f"concat dim {dim}, so every input is untilized: convert the ROW_MAJOR ones to TILE first)"
        )
    layout = Layout.TILE if retiled else _concat_layout(tensors)
    out_dtype = _concat_dtype(tensors, Layout.ROW_MAJOR if retiled else layout)
    config = memory_config or DRAM_MEMORY_CONFIG  # ttnn's default, wherever the inputs are
    joined_rows_aligned = axis != rank - 1 or _rows_aligned(tensors, out_dtype)
    last_dim_rows = axis == rank - 1 and all(t.layout == Layout.ROW_MAJOR for t in tensors)
    if last_dim_rows:
        _check_shard_padded_rows(tensors, out_dtype)
    _check_concat_placement(tensors, retiled, config, joined_rows_aligned, last_dim_rows)
    if not joined_rows_aligned:
        _check_transposed_join(tensors, out_dtype, config)
    return launch(
        "concat",
        list(tensors),
        lambda v: torch.cat(v, dim=axis),
        dtype=out_dtype,
        layout=layout,
        memory_config=config,
        output_tensor=output_tensor,
        exact=all(
            exact_copy(t.dtype, out_dtype, axis != rank - 1 or all(x.shape[-1] % 16 == 0 for x in tensors))
            for t in tensors
        ),
    )


def split(
    input_tensor: Tensor, split_size: int | Sequence[int], dim: int = 0, *, memory_config: MemoryConfig | None = None
) -> list[Tensor]:
    rank = len(input_tensor.shape)
    axis = index_in_rank(dim, rank)
    total = input_tensor.shape[axis]
    sizes = [int(split_size)] * math.ceil(total / int(split_size)) if isinstance(split_size, int) else list(split_size)
    if isinstance(split_size, int):
        sizes[-1] = total - int(split_size) * (len(sizes) - 1)
    if sum(sizes) != total:
        raise RuntimeError(f"TT_FATAL: split sizes {sizes} do not add up to dimension {dim} of size {total}")
    _check_two_piece_split(input_tensor, sizes, axis)
    if memory_config is None:
        memory_config = split_output_config(input_tensor, sizes, axis)
    equal = isinstance(split_size, int) or len(set(sizes)) == 1
    if equal and len(sizes) > SPLIT_BATCH:
        # ttnn 0.81 cuts an equal split into more pieces than a batch in two levels: each batch of pieces is first
        # sliced out in the pieces' own config (which must then hold the batch: a height-sharded piece config's
        # shard is one piece wide, the batch many), and the pieces are cut from it (measured on mocked n150/p150)
        pieces = []
        for first in range(0, len(sizes), SPLIT_BATCH):
            batch = sizes[first : first + SPLIT_BATCH]
            offset = sum(sizes[:first])
            start, end = [0] * rank, list(input_tensor.shape)
            start[axis], end[axis] = offset, offset + sum(batch)
            batch_tensor = _slice(input_tensor, start, end, [1] * rank, memory_config, None)
            pieces.extend(_split_into(batch_tensor, batch, axis, memory_config))
        return pieces
    return _split_into(input_tensor, sizes, axis, memory_config)


def _split_into(
    input_tensor: Tensor, sizes: Sequence[int], axis: int, memory_config: MemoryConfig | None
) -> list[Tensor]:
    """The pieces of ``sizes`` along ``axis``, each sliced out in ``memory_config``."""
    rank = len(input_tensor.shape)
    pieces, offset = [], 0
    for size in sizes:
        start = [0] * rank
        end = list(input_tensor.shape)
        start[axis], end[axis] = offset, offset + size
        pieces.append(_slice(input_tensor, start, end, [1] * rank, memory_config, None))
        offset += size
    return pieces


def _check_two_piece_split(input_tensor: Tensor, sizes: Sequence[int], axis: int) -> None:
    """ttnn 0.81 cuts a second piece that starts inside a tile out of a TILE tensor through ROW_MAJOR. Split into
    exactly two pieces, it untilizes the sharded input itself (more pieces go through an interleaved copy); a block-
    or width-sharded tensor with tile padding is untilized only when it holds a single [H, W] slice (measured on
    mocked n150 and p150 chips)."""
    if (
        len(sizes) == 2
        and input_tensor.layout == Layout.TILE
        and axis >= len(input_tensor.shape) - 2
        and sizes[0] % TILE_SIZE
        and _untilize_unpads_slices(input_tensor, interleaved_output=True)
    ):
        raise RuntimeError(
            "TT_FATAL: Can only write unbatched output interleaved (split untilizes this "
            f"{input_tensor.memory_config().memory_layout.name} tensor of shape {list(input_tensor.shape)} to cut "
            "its second piece inside a tile, and it holds more than one [H, W] slice; move it to an interleaved "
            "config first, or fold the leading dims into the height)"
        )


def reallocate(tensor: Tensor, memory_config: MemoryConfig | None = None) -> Tensor:
    """Move a device tensor to a fresh allocation (defragmenting L1), freeing the old one."""
    config = memory_config or tensor.memory_config()
    moved = launch(
        "reallocate",
        [tensor],
        lambda v: v[0].clone(),
        dtype=tensor.dtype,
        layout=tensor.layout,
        memory_config=config,
        exact=True,
    )
    tensor._buffer.free()  # type: ignore[union-attr]
    return moved

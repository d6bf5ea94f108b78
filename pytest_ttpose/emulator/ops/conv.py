"""conv2d and its weight/bias preparation, with the conv's math fidelity.

ttnn's layout: activations [N, H, W, C] or flattened [1, 1, N*H*W, C] in, [1, 1, N*OH*OW, OC] out. Weights arrive
as an OIHW host tensor on the first call; ``return_weights_and_bias=True`` hands back the prepared device tensors
([1, 1, KH*KW*C/groups, OC] in the weights dtype, TILE, so bfloat8_b blocks run along OC as on TT) for later calls.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from pytest_ttpose.devperf.descriptors import ConvWork

from ..device import MeshDevice
from ..dispatch import launch
from ..matrix_unit import (
    accumulate_bf16_dst,
    column_ranges,
    finish_in_dst,
    fp32_dest_acc,
)
from ..memory import shard_not_tile_sized
from ..numerics import fidelity_operands, math_operand, pack_to_dtype, weights_hi
from ..tensor import Tensor, host_tensor, store_values, to_device
from ..types import (
    DRAM_MEMORY_CONFIG,
    TILE_SIZE,
    BufferType,
    Conv2dConfig,
    DataType,
    Layout,
    MathFidelity,
    MemoryConfig,
    Op2DSliceConfig,
    ShardOrientation,
    SliceTypeEnum,
    TensorMemoryLayout,
    WormholeComputeKernelConfig,
    reject_unsupported,
)
from .common import apply_unary, float_dtype, math_fidelity
from .conv_auto_shard import ConvPlanInput, auto_shard_parallel_config
from .conv_programs import (
    ShardedConv,
    SlidingWindow,
    build_sharded_conv_programs,
    is_l1_height_sharded,
    matmul_partials_dtype,
    uses_packer_l1_acc,
)
from .sliding_window_plans import (
    ParallelConfig,
    conv_input_channel_alignment,
    conv_input_reshard,
    conv_output_config,
    conv_output_parallel_config,
    cores_to_grid,
    plan_parallel_config,
)

# ttnn's conv2d resolves a missing compute config to HiFi4 (get_conv_default_compute_kernel_config).
DEFAULT_CONV_FIDELITY = MathFidelity.HiFi4


def _pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    if len(value) != 2:
        raise RuntimeError(f"TT_FATAL: conv2d: {name} must have 2 values, got {list(value)}")
    return int(value[0]), int(value[1])


def _padding(padding: Sequence[int]) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from ttnn's 2- or 4-value padding."""
    if isinstance(padding, int):
        return padding, padding, padding, padding
    if len(padding) == 2:
        return int(padding[0]), int(padding[0]), int(padding[1]), int(padding[1])
    if len(padding) == 4:
        return int(padding[0]), int(padding[1]), int(padding[2]), int(padding[3])
    raise RuntimeError(f"TT_FATAL: conv2d: padding must have 2 or 4 values, got {list(padding)}")


def _weights_dtype(conv_config: Conv2dConfig | None, weight: Tensor) -> DataType:
    """conv_config.weights_dtype, else the weight tensor's own dtype (as tt-metal resolves it)."""
    if conv_config is not None and conv_config.weights_dtype is not None:
        return conv_config.weights_dtype
    return weight.dtype


def _prepare_weights(
    weight: Tensor,
    device: MeshDevice,
    in_channels: int,
    out_channels: int,
    kernel: tuple[int, int],
    groups: int,
    weights_dtype: DataType,
) -> Tensor:
    if weight._conv_weight_meta is not None:
        meta = weight._conv_weight_meta
        if (meta["out_channels"], meta["in_channels"], meta["kernel"], meta["groups"]) != (
            out_channels,
            in_channels,
            kernel,
            groups,
        ):
            raise RuntimeError(
                f"TT_FATAL: conv2d: prepared weights are for {meta['in_channels']}->{meta['out_channels']} channels, "
                f"kernel {meta['kernel']}, groups {meta['groups']}; the call asks for {in_channels}->{out_channels}, "
                f"kernel {kernel}, groups {groups}"
            )
        return weight
    if weight._on_device:
        raise RuntimeError("TT_FATAL: conv2d: weight_tensor must be an OIHW host tensor or weights conv2d prepared")
    expected = (out_channels, in_channels // groups, kernel[0], kernel[1])
    if tuple(weight.shape) != expected:
        raise RuntimeError(
            f"TT_FATAL: conv2d: weight_tensor shape {list(weight.shape)} does not match OIHW {list(expected)} for "
            f"in_channels={in_channels}, out_channels={out_channels}, groups={groups}, kernel_size={list(kernel)}"
        )
    shards = []
    for oihw in weight._values("conv2d weights"):
        flat = oihw.to(torch.float32).permute(2, 3, 1, 0).reshape(1, 1, -1, out_channels)
        shards.append(store_values(flat, weights_dtype))
    prepared = to_device(host_tensor(shards, weights_dtype, Layout.TILE), device, DRAM_MEMORY_CONFIG)
    prepared._conv_weight_meta = {
        "out_channels": out_channels,
        "in_channels": in_channels,
        "kernel": kernel,
        "groups": groups,
    }
    return prepared


def _prepare_bias(bias: Tensor, device: MeshDevice, out_channels: int, weights_dtype: DataType) -> Tensor:
    rank = len(bias.shape)
    if rank < 4:  # ttnn reads the channel count from dimension 3 of a [1, 1, 1, out_channels] bias
        raise RuntimeError(
            f"TT_THROW: ShapeBase[] index out of range. 3 not in [-4, {rank}) (conv2d: the bias must have shape "
            f"[1, 1, 1, {out_channels}], got {list(bias.shape)})"
        )
    if bias._on_device:
        if bias.shape[-1] != out_channels:
            raise RuntimeError(f"TT_FATAL: conv2d: bias has {bias.shape[-1]} channels, expected {out_channels}")
        return bias
    if math.prod(bias.shape) != out_channels:
        raise RuntimeError(f"TT_FATAL: conv2d: bias_tensor shape {list(bias.shape)} must hold {out_channels} values")
    shards = [
        store_values(b.to(torch.float32).reshape(1, 1, 1, out_channels), weights_dtype)
        for b in bias._values("conv2d bias")
    ]
    return to_device(host_tensor(shards, weights_dtype, Layout.TILE), device, DRAM_MEMORY_CONFIG)


def _conv_weights(
    stored: torch.Tensor, kernel: tuple[int, int], out_channels: int, dtype: DataType
) -> tuple[torch.Tensor, torch.Tensor]:
    """The stored [1, 1, KH*KW*C, OC] weights as OIHW math operands, and their SrcA high part. Cached on the stored
    tensor, which a write replaces rather than modifies, so the cache can never go stale."""
    cached = getattr(stored, "_emulator_conv_operands", None)
    if cached is None:
        oihw = stored.reshape(kernel[0], kernel[1], -1, out_channels).permute(3, 2, 0, 1)
        oihw = math_operand(oihw.contiguous(memory_format=torch.channels_last), dtype)
        cached = (oihw, weights_hi(oihw))
        stored._emulator_conv_operands = cached  # type: ignore[attr-defined]
    return cached


def default_conv_fp32_dest_acc(input_dtype: DataType, weights_dtype: DataType) -> bool:
    """ttnn's conv default without a compute config (get_conv_default_compute_kernel_config): a float32 Dst when
    the input and the weights are float32."""
    return input_dtype == DataType.FLOAT32 and weights_dtype == DataType.FLOAT32


def _kernel_row_weights(
    stored: torch.Tensor, kernel: tuple[int, int], in_channels: int, out_channels: int, groups: int, dtype: DataType
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The stored [1, 1, KH*KW*C/groups, OC] weights as one dense [KW*C, OC] matrix per kernel row (the K block a
    conv program multiplies at a time; grouped weights block-diagonal, zero across groups), each with its SrcA high
    part. Cached on the stored tensor, which a write replaces rather than modifies."""
    cached = getattr(stored, "_emulator_conv_rows", None)
    if cached is None:
        kh, kw = kernel
        per_group_in, per_group_out = in_channels // groups, out_channels // groups
        grouped = math_operand(stored, dtype).reshape(kh, kw, per_group_in, out_channels)
        if groups == 1:
            dense = grouped
        else:
            dense = torch.zeros(kh, kw, in_channels, out_channels)
            for g in range(groups):
                outs = slice(g * per_group_out, (g + 1) * per_group_out)
                dense[:, :, g * per_group_in : (g + 1) * per_group_in, outs] = grouped[:, :, :, outs]
        rows = [dense[r].reshape(kw * in_channels, out_channels).contiguous() for r in range(kh)]
        cached = [(w, weights_hi(w)) for w in rows]
        stored._emulator_conv_rows = cached  # type: ignore[attr-defined]
    return cached


def _planned_output_config(
    device: MeshDevice, input_tensor: Tensor, slice_config: Op2DSliceConfig | None, plan_input: ConvPlanInput
) -> tuple[MemoryConfig, bool]:
    """Where ttnn 0.81's conv planner puts a conv's output (before any memory_config move), and whether the conv
    runs on the input's own sharding: a conv on a DRAM input is sliced through DRAM and returns there, unless it
    runs as a matmul; otherwise the conv runs on the input's sharding, or on one the planner derives (refusing a
    reshard without a shard_layout), and returns sharded in L1. A matmul conv on an interleaved input without a
    shard_layout runs interleaved and returns in DRAM."""
    config = plan_input.config
    in_channels, out_channels = plan_input.in_channels, plan_input.out_channels
    out_rows, runs_as_matmul, depthwise = plan_input.window.output_rows, plan_input.runs_as_matmul, plan_input.depthwise
    input_config = input_tensor.memory_config()
    l1_path = (
        slice_config.slice_type == SliceTypeEnum.L1Full
        if slice_config is not None
        else input_config.buffer_type == BufferType.L1
    )
    if not l1_path and not runs_as_matmul:
        return DRAM_MEMORY_CONFIG, False
    grid_size = device._arch_spec.compute_grid

    def plan(scheme: TensorMemoryLayout | None, alignment: int, why: str = "") -> ParallelConfig:
        return plan_parallel_config(
            scheme,
            op_name="Conv2d",
            rows=out_rows,
            in_channels=in_channels,
            out_channels=out_channels,
            channel_alignment=alignment,
            grid_size=grid_size,
            block_orientation=ShardOrientation.COL_MAJOR if config.transpose_shards else ShardOrientation.ROW_MAJOR,
            pad_channels=not runs_as_matmul,
            tile_rows=True,
            tile_channels=True,
            act_block_h_override=config.act_block_h_override,
            depthwise=depthwise,
            reshard_hint=why,
        )

    alignment = conv_input_channel_alignment(input_config, input_tensor.layout, runs_as_matmul, depthwise)
    if input_config.is_sharded():
        reshard = conv_input_reshard(
            input_config,
            input_tensor.layout,
            in_channels,
            runs_as_matmul,
            depthwise,
            config.reshard_if_not_optimal,
        )
        if reshard is None:
            parallel = ParallelConfig.of(input_config)
            if runs_as_matmul and parallel.scheme == TensorMemoryLayout.HEIGHT_SHARDED:
                # ttnn's 1D matmul writes its output only on the cores its rows reach
                rows_per_core = -(-out_rows // (parallel.cores_nhw * TILE_SIZE)) * TILE_SIZE
                box = parallel.grid.bounding_box().grid_size()
                used = cores_to_grid(-(-out_rows // rows_per_core), (box.x, box.y))
                parallel = ParallelConfig(used, parallel.scheme, ShardOrientation.ROW_MAJOR)
            output = conv_output_parallel_config(parallel, grid_size, out_channels, runs_as_matmul)
            return conv_output_config(output, out_rows, out_channels), True
        parallel = plan(reshard.scheme or config.shard_layout, alignment, reshard.why)
        shard = input_config.shard_spec
        assert shard is not None
        tiled_shard = shard.shape[0] % TILE_SIZE == 0 and shard.shape[1] % TILE_SIZE == 0
        row_major_input = input_tensor.layout == Layout.ROW_MAJOR
        if (
            runs_as_matmul
            and row_major_input
            and not tiled_shard
            and parallel.scheme != TensorMemoryLayout.HEIGHT_SHARDED
        ):
            # ttnn tilizes a row-major matmul input in its own sharding before a width or block reshard
            raise RuntimeError(
                f"TT_FATAL: {shard_not_tile_sized(shard.shape)} (conv2d tilizes this row-major input in its shards "
                "before resharding it: shard it in whole tiles, or tilize it first)"
            )
    elif config.shard_layout is None:
        if runs_as_matmul:  # ttnn runs it on the interleaved input, as a matmul into DRAM
            return DRAM_MEMORY_CONFIG, False
        parallel = auto_shard_parallel_config(plan_input, grid_size)
    else:
        parallel = plan(config.shard_layout, alignment)
    output = conv_output_parallel_config(parallel, grid_size, out_channels, runs_as_matmul)
    return conv_output_config(output, out_rows, out_channels), False


def conv2d(
    *,
    input_tensor: Tensor,
    weight_tensor: Tensor,
    device: MeshDevice,
    in_channels: int,
    out_channels: int,
    batch_size: int,
    input_height: int,
    input_width: int,
    kernel_size: Sequence[int],
    stride: Sequence[int] = (1, 1),
    padding: Sequence[int] = (0, 0),
    dilation: Sequence[int] = (1, 1),
    groups: int = 1,
    dtype: DataType | None = None,
    bias_tensor: Tensor | None = None,
    conv_config: Conv2dConfig | None = None,
    compute_config: WormholeComputeKernelConfig | None = None,
    memory_config: MemoryConfig | None = None,
    slice_config: Op2DSliceConfig | None = None,
    return_output_dim: bool = False,
    return_weights_and_bias: bool = False,
) -> Any:
    # slice_config only chooses how ttnn splits the work through DRAM/L1; the values are the same.
    if conv_config is not None and conv_config.enable_kernel_stride_folding:
        raise NotImplementedError("conv2d: argument 'conv_config.enable_kernel_stride_folding' is not supported")
    reject_unsupported("conv2d", transpose_shards=conv_config.transpose_shards if conv_config else None)
    if not isinstance(device, MeshDevice):
        raise TypeError(f"conv2d: device must be an emulated MeshDevice, got {type(device).__name__}")
    if in_channels % groups or out_channels % groups:
        raise RuntimeError(f"TT_FATAL: conv2d: channels {in_channels}->{out_channels} must divide by groups {groups}")
    kernel = _pair(kernel_size, "kernel_size")
    stride_hw = _pair(stride, "stride")
    dilation_hw = _pair(dilation, "dilation")
    top, bottom, left, right = _padding(padding)
    rows = batch_size * input_height * input_width
    shape = list(input_tensor.shape)
    input_channels = shape[-1]
    if input_channels < in_channels:
        raise RuntimeError(
            f"TT_FATAL: conv2d: the input has {input_channels} channels but in_channels={in_channels} (input shape "
            f"{shape})"
        )
    if input_channels > in_channels and input_tensor.memory_config().buffer_type != BufferType.L1:
        # From L1, ttnn pads the weights to the input's channels (the caller zero-padded them); its DRAM path
        # reshapes the input to in_channels first, which fails.
        raise RuntimeError(
            "TT_FATAL: Attempting to reshape between two shapes with different volumes: conv2d on a DRAM input with "
            f"{input_channels} channels and in_channels={in_channels}; pass in_channels={input_channels} or put the "
            "input in L1"
        )
    if math.prod(shape[:-1]) < rows:
        raise RuntimeError(
            f"TT_FATAL: conv2d: input shape {shape} holds fewer than batch_size*input_height*input_width={rows} rows"
        )
    in_dtype = float_dtype(input_tensor.dtype, "conv2d")
    out_h = (input_height + top + bottom - dilation_hw[0] * (kernel[0] - 1) - 1) // stride_hw[0] + 1
    out_w = (input_width + left + right - dilation_hw[1] * (kernel[1] - 1) - 1) // stride_hw[1] + 1
    if out_h <= 0 or out_w <= 0:
        raise RuntimeError(f"TT_FATAL: conv2d: output size {out_h}x{out_w} is empty")
    weights_dtype = _weights_dtype(conv_config, weight_tensor)
    weight = _prepare_weights(weight_tensor, device, in_channels, out_channels, kernel, groups, weights_dtype)
    bias = _prepare_bias(bias_tensor, device, out_channels, weight.dtype) if bias_tensor is not None else None
    fidelity = math_fidelity(compute_config, DEFAULT_CONV_FIDELITY)
    activation = conv_config.activation if conv_config is not None else None
    w_dtype = weight.dtype
    pad_symmetric = top == bottom and left == right
    out_dtype = dtype or in_dtype
    has_bias = bias is not None
    dst_fp32 = fp32_dest_acc(compute_config, default_conv_fp32_dest_acc(in_dtype, w_dtype))
    # A conv program multiplies one kernel row (KW*C of K) per block. Between blocks the partial sums stay in Dst's
    # format with the packer's L1 accumulation, else they are packed to the output dtype and unpacked again.
    l1_acc = uses_packer_l1_acc(compute_config, kernel[0], has_bias)
    partials = matmul_partials_dtype(compute_config, kernel[0], has_bias, out_dtype, dst_fp32)
    spill_rounds = kernel[0] > 1 and partials != (DataType.FLOAT32 if dst_fp32 else DataType.BFLOAT16)
    rows_per_block = batch_size * out_h * out_w
    k_channels = [k % in_channels for k in range(kernel[1] * in_channels)]
    columns = column_ranges(in_channels, out_channels, groups, k_channels)

    def finish(acc: torch.Tensor, v: list[torch.Tensor]) -> torch.Tensor:
        """Bias and activation in Dst, then the [1, 1, rows, OC] result."""
        if len(v) == 3:
            acc = finish_in_dst(acc.add_(v[2].reshape(1, out_channels)), dst_fp32)
        if activation is not None:
            acc = finish_in_dst(apply_unary(acc, activation, inplace=True), dst_fp32)
        return acc.reshape(1, 1, rows_per_block, out_channels)

    def float32_dst_by_kernel_rows(x: torch.Tensor, v: list[torch.Tensor]) -> torch.Tensor:
        """``compute_by_kernel_rows`` with a float32 Dst: each kernel row a (1, KW) convolution of the padded NHWC
        input (summation order aside, the same float32 sums), the partials packed to their dtype between rows."""
        x_nchw = x.permute(0, 3, 1, 2)  # channels-last strides, which torch's CPU convolution handles natively
        w, w_hi = _conv_weights(v[1], kernel, out_channels, w_dtype)
        dh, sh = dilation_hw[0], stride_hw[0]
        acc = None
        for r in range(kernel[0]):
            rows_in = x_nchw[:, :, r * dh : r * dh + (out_h - 1) * sh + 1]
            part = None
            for act, wt in fidelity_operands(rows_in, w[:, :, r : r + 1], fidelity, w_hi[:, :, r : r + 1], in_dtype):
                product = F.conv2d(act, wt, None, stride_hw, 0, dilation_hw, groups)
                part = product if part is None else part.add_(product)
            assert part is not None
            part = part.permute(0, 2, 3, 1).reshape(rows_per_block, out_channels)
            # Dst reloads the partials and accumulates on them, or the packer adds the block onto them in L1: in
            # float32 both are one float32 sum
            acc = part if acc is None else acc.add_(part)
            if spill_rounds and r < kernel[0] - 1:
                acc = pack_to_dtype(acc, partials, inplace=True)  # unpacked into Dst again exactly
        assert acc is not None
        return finish(acc, v)

    def compute_by_kernel_rows(v: list[torch.Tensor]) -> torch.Tensor:
        """The conv as its program runs it: kernel row by kernel row, each a matmul on the unit with the Dst
        format, the partial sums carried between rows as the program carries them."""
        x = v[0].reshape(-1, input_channels)[:rows, :in_channels]
        x = math_operand(x.reshape(batch_size, input_height, input_width, in_channels), in_dtype)
        if top or bottom or left or right:
            x = F.pad(x, (0, 0, left, right, top, bottom))
        (dh, dw), (sh, sw) = dilation_hw, stride_hw
        if dst_fp32:
            return float32_dst_by_kernel_rows(x, v)
        if in_dtype == DataType.BFLOAT8_B:
            x = x.to(torch.bfloat16)  # exact; the matrix unit takes bfloat8_b activations unmasked in any phase
        row_weights = _kernel_row_weights(v[1], kernel, in_channels, out_channels, groups, w_dtype)
        acc = torch.zeros(rows_per_block, out_channels)  # the partial sums between kernel rows
        dst = torch.zeros(rows_per_block, out_channels, dtype=torch.bfloat16)
        for r, (w_row, w_row_hi) in enumerate(row_weights):
            taps = [
                x[:, r * dh : r * dh + (out_h - 1) * sh + 1 : sh, c * dw : c * dw + (out_w - 1) * sw + 1 : sw, :]
                for c in range(kernel[1])
            ]
            a_row = (taps[0] if len(taps) == 1 else torch.cat(taps, dim=-1)).reshape(rows_per_block, -1)
            if r > 0:
                # With L1 accumulation Dst starts empty and the packer adds the block onto the partials in L1; else
                # Dst reloads the partials (exact: they hold Dst's format or a narrower one).
                if l1_acc:
                    dst.zero_()
                else:
                    dst.copy_(acc)
            accumulate_bf16_dst(dst, a_row, w_row, fidelity, in_dtype, w_dtype, w_row_hi, columns)
            if l1_acc and r > 0:
                acc = finish_in_dst(acc.add_(dst), dst_fp32)
            else:
                acc.copy_(dst)
                if spill_rounds and r < kernel[0] - 1:
                    acc = pack_to_dtype(acc, partials, inplace=True)  # unpacked into Dst again exactly
        return finish(acc, v)

    def compute(v: list[torch.Tensor]) -> torch.Tensor:
        # NHWC values viewed as NCHW keep channels-last strides, which torch's CPU convolution handles natively.
        x = v[0].reshape(-1, input_channels)[:rows, :in_channels]
        x = x.reshape(batch_size, input_height, input_width, in_channels)
        x = math_operand(x, in_dtype).permute(0, 3, 1, 2)
        if not pad_symmetric:
            x = F.pad(x, (left, right, top, bottom))
        w, w_hi = _conv_weights(v[1], kernel, out_channels, w_dtype)
        conv_padding = (top, left) if pad_symmetric else (0, 0)
        out = None
        for act, wt in fidelity_operands(x, w, fidelity, w_hi, in_dtype):
            part = F.conv2d(act, wt, None, stride_hw, conv_padding, dilation_hw, groups)
            out = part if out is None else out.add_(part)
        assert out is not None
        if len(v) == 3:
            out.add_(v[2].reshape(1, out_channels, 1, 1))
        out = apply_unary(out, activation, inplace=True)
        return out.permute(0, 2, 3, 1).reshape(1, 1, batch_size * out_h * out_w, out_channels)

    if not dst_fp32 or spill_rounds:
        compute = compute_by_kernel_rows
    l1_sharded_input = is_l1_height_sharded(input_tensor)
    runs_as_matmul = (
        kernel == (1, 1)
        and stride_hw == (1, 1)
        and dilation_hw == (1, 1)
        and (top, bottom, left, right) == (0, 0, 0, 0)
    )
    work = ConvWork(
        batch_size, in_channels, out_channels, kernel, (out_h, out_w), groups, l1_sharded_input and not runs_as_matmul
    )
    output_layout = conv_config.output_layout if conv_config is not None else Layout.TILE
    inputs = [input_tensor, weight] + ([bias] if bias is not None else [])
    shard_layout = conv_config.shard_layout if conv_config is not None else None
    # ttnn runs a width-sharded 1x1 conv through its conv kernels, not as a matmul
    as_matmul = runs_as_matmul and shard_layout != TensorMemoryLayout.WIDTH_SHARDED
    window = SlidingWindow(
        batch_size,
        (input_height, input_width),
        (out_h, out_w),
        kernel,
        stride_hw,
        dilation_hw,
        (top, bottom, left, right),
    )
    plan_input = ConvPlanInput(
        window=window,
        in_channels=in_channels,
        out_channels=out_channels,
        input_layout=input_tensor.layout,
        input_dtype=input_tensor.dtype,
        weights_dtype=w_dtype,
        output_dtype=out_dtype,
        has_bias=bias is not None,
        runs_as_matmul=as_matmul,
        depthwise=groups == in_channels == out_channels,
        config=conv_config or Conv2dConfig(),
        compute=compute_config,
    )
    planned, on_input_sharding = _planned_output_config(device, input_tensor, slice_config, plan_input)
    # the conv's programs are modelled (circular buffers, halo) for a conv on the input's own L1 height sharding
    if on_input_sharding and l1_sharded_input and not as_matmul:
        conv = ShardedConv(
            window=window,
            in_channels=input_channels,  # the halo moves, and the padded weights cover, every input channel
            out_channels=out_channels,
            input_dtype=input_tensor.dtype,
            weights_dtype=w_dtype,
            output_dtype=out_dtype,
            has_bias=bias is not None,
            output_layout=output_layout,
            conv_config=conv_config,
            compute_config=compute_config,
        )
        program_key = (input_tensor.spec, weight.spec, kernel, stride_hw, dilation_hw, (top, bottom, left, right))
        programs = build_sharded_conv_programs(device, input_tensor, conv, program_key)
        config = memory_config or programs.output_config
        in_place = config == programs.output_config
        try:
            result = launch(
                "conv2d",
                inputs,
                compute,
                dtype=out_dtype,
                layout=output_layout,
                memory_config=config,
                output_tensor=programs.conv_output if in_place else None,
                fresh=True,
                fidelity=fidelity,
                work=work,
            )
        except Exception:
            programs.conv_output.deallocate()
            raise
        finally:
            programs.halo_output.deallocate()
        if not in_place:  # ttnn moves the sharded result to the asked-for memory config and frees it
            programs.conv_output.deallocate()
    else:
        config = memory_config or planned
        result = launch(
            "conv2d",
            inputs,
            compute,
            dtype=out_dtype,
            layout=output_layout,
            memory_config=config,
            fresh=True,
            fidelity=fidelity,
            work=work,
        )
    if conv_config is not None and conv_config.deallocate_activation:
        input_tensor.deallocate()
    if return_output_dim and return_weights_and_bias:
        return result, (out_h, out_w), (weight, bias)
    if return_output_dim:
        return result, (out_h, out_w)
    if return_weights_and_bias:
        return result, (weight, bias)
    return result


def prepare_conv_weights(
    *,
    weight_tensor: Tensor,
    input_memory_config: MemoryConfig,
    input_layout: Layout,
    weights_format: str,
    in_channels: int,
    out_channels: int,
    batch_size: int,
    input_height: int,
    input_width: int,
    kernel_size: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    has_bias: bool,
    groups: int,
    device: MeshDevice,
    input_dtype: DataType,
    output_dtype: DataType | None = None,
    conv_config: Conv2dConfig | None = None,
    compute_config: WormholeComputeKernelConfig | None = None,
    slice_config: Op2DSliceConfig | None = None,
) -> Tensor:
    if weights_format != "OIHW":
        raise NotImplementedError(f"prepare_conv_weights: weights_format={weights_format!r} (only 'OIHW')")
    kernel = _pair(kernel_size, "kernel_size")
    return _prepare_weights(
        weight_tensor, device, in_channels, out_channels, kernel, groups, _weights_dtype(conv_config, weight_tensor)
    )


def prepare_conv_bias(
    *,
    bias_tensor: Tensor,
    input_memory_config: MemoryConfig,
    input_layout: Layout,
    in_channels: int,
    out_channels: int,
    batch_size: int,
    input_height: int,
    input_width: int,
    kernel_size: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    device: MeshDevice,
    input_dtype: DataType,
    groups: int = 1,
    output_dtype: DataType | None = None,
    conv_config: Conv2dConfig | None = None,
    compute_config: WormholeComputeKernelConfig | None = None,
) -> Tensor:
    return _prepare_bias(bias_tensor, device, out_channels, _weights_dtype(conv_config, bias_tensor))

"""Shared pieces of the TT model: the model context, feature maps with their spatial shape, the conv wrapper, glue ops.

Memory plan (kept deliberately simple so the same code fits L1 at 640x640 batch 2 on every arch): every activation
between blocks is a DRAM-interleaved TILE tensor of shape [1, 1, B*H*W, C]; conv2d is left to pick its own sharding
(and DRAM slicing) for each call. Ops that need row-major data (pooling, upsampling, narrow concats) convert on the way
in and tilize again on the way out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from pytest_ttpose.tt.weights import FoldedConv

TILE_WIDTH = 32
# At LoFi the matmul unit multiplies the top 5 significant bits (sign, exponent, 4 mantissa bits) of each weight and
# drops the rest, i.e. truncates toward zero. Truncation shrinks every weight a little in the same direction, a gain
# error that compounds over the network's ~100 convs; rounding the weights to 5 significant bits on the host first
# makes that truncation exact, so what remains is an unbiased rounding error. (bfloat8_b keeps the rounded values:
# within a block, a value has at most 7 significant bits and the rounded ones need 5 or fewer.)
LOFI_WEIGHT_BITS = 5


def round_significant_bits(values: torch.Tensor, bits: int) -> torch.Tensor:
    """Round every value to ``bits`` significant binary digits (round half to even), zeros stay zero."""
    mantissa, exponent = torch.frexp(values.float())
    scale = float(2**bits)
    return torch.ldexp(torch.round(mantissa * scale) / scale, exponent)


@dataclass
class ModelContext:
    """What every block needs: the device, its ttnn namespace, dtypes, compute configs and the weight mapper."""

    device: Any
    ttnn: Any
    act_dtype: Any
    weight_dtype: Any
    compute_config: Any  # convs and attention matmuls: LoFi for bfloat8_b weights, HiFi4 otherwise (or as asked)
    sensitive_compute_config: Any  # at least HiFi2: attention matmuls and the person-score branch (small, fragile)
    round_weights_for_lofi: bool  # LoFi reads 5 significant bits of each weight: round to them on the host
    precise_compute_config: Any  # HiFi4, fp32 accumulation: the first conv (bfloat16 image) and the head decode
    weights_mesh_mapper: Any  # replicate weights and constants over a mesh; None on one chip

    @property
    def dram(self) -> Any:
        return self.ttnn.DRAM_MEMORY_CONFIG

    def host_tensor(self, value: torch.Tensor, dtype: Any, layout: Any | None = None) -> Any:
        """A host ttnn tensor (replicated over the mesh, if any) from a torch tensor."""
        return self.ttnn.from_torch(value, dtype=dtype, layout=layout, mesh_mapper=self.weights_mesh_mapper)

    def device_constant(self, value: torch.Tensor) -> Any:
        """A bfloat16 TILE constant in DRAM (anchors, decode matrices), put on the device once at build time."""
        ttnn = self.ttnn
        return ttnn.from_torch(
            value,
            dtype=ttnn.bfloat16,
            layout=ttnn.TILE_LAYOUT,
            device=self.device,
            memory_config=self.dram,
            mesh_mapper=self.weights_mesh_mapper,
        )


@dataclass
class Feature:
    """A feature map on the device, [1, 1, B*H*W, C] (or the model input [B, H, W, C]), and its logical NHWC shape."""

    tensor: Any
    batch: int
    height: int
    width: int
    channels: int

    def like(self, tensor: Any, channels: int | None = None) -> Feature:
        """The same spatial shape holding another tensor."""
        return Feature(tensor, self.batch, self.height, self.width, self.channels if channels is None else channels)

    @property
    def rows(self) -> int:
        return self.batch * self.height * self.width


class Conv:
    """Conv2d with BatchNorm folded in and an optional SiLU fused into the conv (``Conv2dConfig.activation``).

    The float32 host weights are handed to ``conv2d`` on the first call; the prepared (device, re-laid-out) weight and
    bias it returns are kept and passed on every later call, so the weights go to the device once.
    """

    def __init__(
        self,
        ctx: ModelContext,
        params: FoldedConv,
        *,
        stride: int = 1,
        groups: int = 1,
        activation: bool = True,
        in_channels: int | None = None,
        compute_config: Any = None,
    ) -> None:
        ttnn = ctx.ttnn
        self.ctx = ctx
        weight = params.weight
        self.out_channels = int(weight.shape[0])
        self.kernel_size = int(weight.shape[-1])
        self.stride = stride
        self.groups = groups
        self.padding = self.kernel_size // 2
        self.compute_config = ctx.compute_config if compute_config is None else compute_config
        declared_in = int(weight.shape[1]) * groups
        self.in_channels = declared_in if in_channels is None else in_channels
        if self.in_channels < declared_in:
            raise ValueError(f"in_channels={self.in_channels} is fewer than the weight's {declared_in}")
        if self.in_channels > declared_in:
            if groups != 1:
                raise ValueError("zero-padding the input channels of a grouped conv is not supported")
            # The model input carries RGB zero-padded to 16 channels; the padded weights see zeros there.
            weight = torch.nn.functional.pad(weight, (0, 0, 0, 0, 0, self.in_channels - declared_in))
        if ctx.round_weights_for_lofi and self.compute_config is ctx.compute_config:
            weight = round_significant_bits(weight, LOFI_WEIGHT_BITS)
        self.weight = ctx.host_tensor(weight.float().contiguous(), ttnn.float32)
        self.bias = ctx.host_tensor(params.bias.float().reshape(1, 1, 1, -1).contiguous(), ttnn.float32)
        self.conv_config = ttnn.Conv2dConfig(
            weights_dtype=ctx.weight_dtype,
            activation=ttnn.UnaryWithParam(ttnn.UnaryOpType.SILU) if activation else None,
            output_layout=ttnn.TILE_LAYOUT,
        )

    def __call__(self, x: Feature) -> Feature:
        ttnn = self.ctx.ttnn
        if x.channels != self.in_channels:
            raise ValueError(f"conv expects {self.in_channels} input channels, got {x.channels}")
        output, (out_height, out_width), (self.weight, self.bias) = ttnn.conv2d(
            input_tensor=x.tensor,
            weight_tensor=self.weight,
            bias_tensor=self.bias,
            device=self.ctx.device,
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            batch_size=x.batch,
            input_height=x.height,
            input_width=x.width,
            kernel_size=(self.kernel_size, self.kernel_size),
            stride=(self.stride, self.stride),
            padding=(self.padding, self.padding),
            dilation=(1, 1),
            groups=self.groups,
            dtype=self.ctx.act_dtype,
            conv_config=self.conv_config,
            compute_config=self.compute_config,
            memory_config=self.ctx.dram,
            return_output_dim=True,
            return_weights_and_bias=True,
        )
        return Feature(output, x.batch, int(out_height), int(out_width), self.out_channels)


class DWConv(Conv):
    """Depthwise 3x3 Conv (groups = channels) with folded BN and SiLU, as in the head's score branch."""

    def __init__(
        self, ctx: ModelContext, params: FoldedConv, *, activation: bool = True, compute_config: Any = None
    ) -> None:
        channels = int(params.weight.shape[0])
        super().__init__(ctx, params, groups=channels, activation=activation, compute_config=compute_config)


def to_row_major(ctx: ModelContext, tensor: Any) -> Any:
    """bfloat16 ROW_MAJOR copy in DRAM (bfloat8_b exists only in TILE layout, so typecast first)."""
    ttnn = ctx.ttnn
    if tensor.dtype != ttnn.bfloat16:
        tensor = ttnn.typecast(tensor, ttnn.bfloat16, memory_config=ctx.dram)
    return ttnn.to_layout(tensor, ttnn.ROW_MAJOR_LAYOUT, memory_config=ctx.dram)


def to_tile(ctx: ModelContext, tensor: Any, dtype: Any) -> Any:
    """TILE copy in DRAM with the given dtype."""
    ttnn = ctx.ttnn
    if tensor.layout != ttnn.TILE_LAYOUT:
        tensor = ttnn.to_layout(tensor, ttnn.TILE_LAYOUT, memory_config=ctx.dram)
    if tensor.dtype != dtype:
        tensor = ttnn.typecast(tensor, dtype, memory_config=ctx.dram)
    return tensor


def add(ctx: ModelContext, a: Feature, b: Feature) -> Feature:
    """Residual add of two feature maps of the same shape."""
    if (a.rows, a.channels) != (b.rows, b.channels):
        raise ValueError(f"cannot add feature maps of {a.rows}x{a.channels} and {b.rows}x{b.channels}")
    return a.like(ctx.ttnn.add(a.tensor, b.tensor, memory_config=ctx.dram))


class Concat:
    """Channel concatenation (torch.cat(dim=1)) of feature maps with the same spatial shape.

    Tile-aligned channel counts concatenate in TILE layout; a piece narrower than a tile (16 channels in layer 2 of the
    n scale) goes through row-major, where any width concatenates.
    """

    def __init__(self, ctx: ModelContext) -> None:
        self.ctx = ctx

    def __call__(self, features: list[Feature]) -> Feature:
        ttnn = self.ctx.ttnn
        first = features[0]
        for feature in features[1:]:
            if (feature.batch, feature.height, feature.width) != (first.batch, first.height, first.width):
                raise ValueError("Concat needs feature maps with the same batch and spatial size")
        channels = sum(f.channels for f in features)
        if all(f.channels % TILE_WIDTH == 0 for f in features):
            pieces = [to_tile(self.ctx, f.tensor, self.ctx.act_dtype) for f in features]
            return first.like(ttnn.concat(pieces, dim=3, memory_config=self.ctx.dram), channels)
        pieces = [to_row_major(self.ctx, f.tensor) for f in features]
        joined = ttnn.concat(pieces, dim=3, memory_config=self.ctx.dram)
        return first.like(to_tile(self.ctx, joined, self.ctx.act_dtype), channels)


class Upsample:
    """Nearest-neighbour x2 upsampling (nn.Upsample(scale_factor=2)) of a [1, 1, B*H*W, C] feature map."""

    def __init__(self, ctx: ModelContext, scale_factor: int = 2) -> None:
        self.ctx = ctx
        self.scale_factor = scale_factor

    def __call__(self, x: Feature) -> Feature:
        ttnn = self.ctx.ttnn
        nhwc = ttnn.reshape(to_row_major(self.ctx, x.tensor), (x.batch, x.height, x.width, x.channels))
        up = ttnn.upsample(nhwc, self.scale_factor, mode="nearest", memory_config=self.ctx.dram)
        height, width = x.height * self.scale_factor, x.width * self.scale_factor
        flat = ttnn.reshape(up, (1, 1, x.batch * height * width, x.channels))
        return Feature(to_tile(self.ctx, flat, self.ctx.act_dtype), x.batch, height, width, x.channels)


def split_batch(ctx: ModelContext, tensor: Any, batch: int, rows_per_image: int) -> Any:
    """[1, 1, B*N, C] -> [B, 1, N, C] (TILE in, TILE out); a no-op for B = 1.

    The reshape runs in row-major because N (e.g. 20*20 = 400) need not be a multiple of the tile height.
    """
    if batch == 1:
        return tensor
    ttnn = ctx.ttnn
    dtype = tensor.dtype
    channels = int(tensor.shape[-1])
    row_major = ttnn.reshape(to_row_major(ctx, tensor), (batch, 1, rows_per_image, channels))
    return to_tile(ctx, row_major, dtype)


def merge_batch(ctx: ModelContext, tensor: Any, batch: int, rows_per_image: int) -> Any:
    """[B, 1, N, C] -> [1, 1, B*N, C], the inverse of :func:`split_batch`."""
    if batch == 1:
        return tensor
    ttnn = ctx.ttnn
    dtype = tensor.dtype
    channels = int(tensor.shape[-1])
    row_major = ttnn.reshape(to_row_major(ctx, tensor), (1, 1, batch * rows_per_image, channels))
    return to_tile(ctx, row_major, dtype)


__all__ = [
    "Concat",
    "Conv",
    "DWConv",
    "Feature",
    "ModelContext",
    "Upsample",
    "add",
    "merge_batch",
    "round_significant_bits",
    "split_batch",
    "to_row_major",
    "to_tile",
]

"""YOLO11-pose in ttnn, one class per block.

Memory plan: every feature map is a ``[1, 1, B*H*W, C]`` TILE tensor in DRAM. 3x3 convs go through
``ttnn.conv2d`` (block-sharded in L1 from 64 input channels on, where both dims of the work are large); 1x1 convs are
``ttnn.linear`` matmuls. Where YOLO11 concatenates channels, a 1x1 conv always reads the result, so the concat is never
built: a :class:`Parts` list is handed on and the 1x1 conv sums one matmul per part. The head's DFL softmax is
``exp`` followed by two matmuls (the weighted and the plain sum of each side's 16 bins); the decode runs in float32,
and the three levels are joined per image in ROW_MAJOR.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import ttnn

from .parameters import ConvWeights, attention, conv_bn, count_children, plain_conv

INPUT_CHANNELS = 16  # RGB zero-padded: the first conv reads 16 channels
BLOCK_SHARD_FROM_CHANNELS = 64
REG_MAX = 16
KEYPOINTS = 17
STRIDES = (8, 16, 32)
HEAD_INPUTS = (16, 19, 22)  # the yaml rows feeding the pose head
POSE_HEAD = 23


@dataclass(eq=False)  # maps are compared by identity: ttnn tensors compare element-wise
class Map:
    """A feature map on the device: ``[1, 1, batch*height*width, channels]`` TILE in DRAM."""

    tensor: Any
    batch: int
    height: int
    width: int
    channels: int

    def with_tensor(self, tensor: Any, channels: int) -> Map:
        return Map(tensor, self.batch, self.height, self.width, channels)


# A virtual channel concatenation: the maps in channel order, never joined on the device.
Parts = list[Map]


class Context:
    """The device, dtypes and compute configs every block shares; weights are replicated over a mesh."""

    def __init__(self, device: Any, act_dtype: Any, weight_dtype: Any) -> None:
        self.device = device
        self.act_dtype = act_dtype
        self.weight_dtype = weight_dtype
        self.replicate = ttnn.ReplicateTensorToMesh(device) if device.get_num_devices() > 1 else None
        self.compute = ttnn.init_device_compute_kernel_config(
            device.arch(), math_fidelity=ttnn.MathFidelity.HiFi4, math_approx_mode=False, fp32_dest_acc_en=True
        )
        self.dram = ttnn.DRAM_MEMORY_CONFIG
        self.device_tensors: list[Any] = []  # weights and constants put on the device, freed by release()
        self.convs: list[Conv3x3] = []  # their weights go to the device on the first call

    def release(self) -> None:
        prepared = [t for conv in self.convs if conv.prepared for t in (conv.weight, conv.bias)]
        for tensor in [*self.device_tensors, *prepared]:
            if tensor.is_allocated():
                ttnn.deallocate(tensor)
        self.device_tensors.clear()

    def host(self, value: torch.Tensor, dtype: Any, layout: Any = None) -> Any:
        return ttnn.from_torch(value.contiguous(), dtype=dtype, layout=layout, mesh_mapper=self.replicate)

    def on_device(self, value: torch.Tensor, dtype: Any) -> Any:
        tensor = ttnn.from_torch(
            value.contiguous(),
            dtype=dtype,
            layout=ttnn.TILE_LAYOUT,
            device=self.device,
            memory_config=self.dram,
            mesh_mapper=self.replicate,
        )
        self.device_tensors.append(tensor)
        return tensor


class Conv3x3:
    """A k x k conv (3x3, stride 1 or 2, dense or depthwise) with its BatchNorm folded and SiLU fused."""

    def __init__(self, ctx: Context, weights: ConvWeights, *, stride: int = 1, groups: int = 1, act: bool = True):
        self.ctx = ctx
        self.stride = stride
        self.groups = groups
        self.kernel = weights.kernel
        self.out_channels = weights.out_channels
        self.in_channels = int(weights.weight.shape[1]) * groups
        self.weight = ctx.host(weights.weight, ttnn.float32)
        self.bias = ctx.host(weights.bias.reshape(1, 1, 1, -1), ttnn.float32)
        self.prepared = False  # conv2d returns the weights laid out on the device: kept from the first call on
        ctx.convs.append(self)
        block = groups == 1 and self.in_channels >= BLOCK_SHARD_FROM_CHANNELS
        self.config = ttnn.Conv2dConfig(
            weights_dtype=ctx.weight_dtype,
            activation=ttnn.UnaryWithParam(ttnn.UnaryOpType.SILU) if act else None,
            shard_layout=ttnn.TensorMemoryLayout.BLOCK_SHARDED if block else None,
            output_layout=ttnn.TILE_LAYOUT,
        )

    def __call__(self, x: Map) -> Map:
        pad = self.kernel // 2
        out, (height, width), (self.weight, self.bias) = ttnn.conv2d(
            input_tensor=x.tensor,
            weight_tensor=self.weight,
            bias_tensor=self.bias,
            device=self.ctx.device,
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            batch_size=x.batch,
            input_height=x.height,
            input_width=x.width,
            kernel_size=(self.kernel, self.kernel),
            stride=(self.stride, self.stride),
            padding=(pad, pad),
            groups=self.groups,
            dtype=self.ctx.act_dtype,
            conv_config=self.config,
            compute_config=self.ctx.compute,
            memory_config=self.ctx.dram,
            return_output_dim=True,
            return_weights_and_bias=True,
        )
        self.prepared = True
        return Map(out, x.batch, int(height), int(width), self.out_channels)


class Pointwise:
    """A 1x1 conv as matmuls: one per input part, summed, plus the bias, then SiLU (unless ``act=False``)."""

    def __init__(self, ctx: Context, weights: ConvWeights, part_channels: list[int], *, act: bool = True) -> None:
        self.ctx = ctx
        self.act = act
        self.out_channels = weights.out_channels
        self.part_channels = part_channels
        self.matrices = [ctx.on_device(part, ctx.weight_dtype) for part in weights.matmul_parts(part_channels)]
        self.bias = ctx.on_device(weights.bias.reshape(1, -1), ctx.weight_dtype)

    def __call__(self, parts: Parts) -> Map:
        if [part.channels for part in parts] != self.part_channels:
            raise ValueError(f"expected parts of {self.part_channels} channels, got {[p.channels for p in parts]}")
        ctx = self.ctx
        fused = "silu" if self.act and len(parts) == 1 else None
        total = ttnn.linear(
            parts[0].tensor,
            self.matrices[0],
            bias=self.bias,
            activation=fused,
            dtype=ctx.act_dtype,
            memory_config=ctx.dram,
            compute_kernel_config=ctx.compute,
        )
        for part, matrix in zip(parts[1:], self.matrices[1:], strict=True):
            partial = ttnn.linear(
                part.tensor, matrix, dtype=ctx.act_dtype, memory_config=ctx.dram, compute_kernel_config=ctx.compute
            )
            summed = ttnn.add(total, partial, dtype=ctx.act_dtype, memory_config=ctx.dram)
            ttnn.deallocate(total)
            ttnn.deallocate(partial)
            total = summed
        if self.act and fused is None:
            activated = ttnn.silu(total, memory_config=ctx.dram)
            ttnn.deallocate(total)
            total = activated
        return parts[0].with_tensor(total, self.out_channels)


def add(ctx: Context, a: Map, b: Map) -> Map:
    return a.with_tensor(ttnn.add(a.tensor, b.tensor, dtype=ctx.act_dtype, memory_config=ctx.dram), a.channels)


class Bottleneck:
    """3x3 -> 3x3, plus the input (YOLO11's bottlenecks all have the shortcut)."""

    def __init__(self, ctx: Context, state: Mapping[str, torch.Tensor], prefix: str) -> None:
        self.ctx = ctx
        self.cv1 = Conv3x3(ctx, conv_bn(state, f"{prefix}.cv1"))
        self.cv2 = Conv3x3(ctx, conv_bn(state, f"{prefix}.cv2"))

    def __call__(self, x: Map) -> Map:
        hidden = self.cv1(x)
        y = self.cv2(hidden)
        ttnn.deallocate(hidden.tensor)
        out = add(self.ctx, x, y)
        ttnn.deallocate(y.tensor)
        return out


class C3k:
    """Two 1x1 branches, bottlenecks on the first, a 1x1 over both."""

    def __init__(self, ctx: Context, state: Mapping[str, torch.Tensor], prefix: str, channels: int) -> None:
        cv1 = conv_bn(state, f"{prefix}.cv1")
        self.cv1 = Pointwise(ctx, cv1, [channels])
        self.cv2 = Pointwise(ctx, conv_bn(state, f"{prefix}.cv2"), [channels])
        self.blocks = [Bottleneck(ctx, state, f"{prefix}.m.{i}") for i in range(count_children(state, f"{prefix}.m"))]
        hidden = cv1.out_channels
        self.cv3 = Pointwise(ctx, conv_bn(state, f"{prefix}.cv3"), [hidden, hidden])

    def __call__(self, x: Map) -> Map:
        y = self.cv1([x])
        for block in self.blocks:
            nxt = block(y)
            ttnn.deallocate(y.tensor)
            y = nxt
        side = self.cv2([x])
        out = self.cv3([y, side])
        ttnn.deallocate(y.tensor)
        ttnn.deallocate(side.tensor)
        return out


class C3k2:
    """cv1 split in two halves (two matmuls, no slice), inner blocks on the second half, cv2 over all the pieces."""

    def __init__(self, ctx: Context, state: Mapping[str, torch.Tensor], prefix: str, in_parts: list[int]) -> None:
        cv1 = conv_bn(state, f"{prefix}.cv1")
        half = cv1.out_channels // 2
        self.first = Pointwise(ctx, cv1.output_rows(torch.arange(0, half)), in_parts)
        self.second = Pointwise(ctx, cv1.output_rows(torch.arange(half, 2 * half)), in_parts)
        count = count_children(state, f"{prefix}.m")
        inner_is_c3k = f"{prefix}.m.0.cv3.conv.weight" in state
        self.blocks: list[Any] = [
            C3k(ctx, state, f"{prefix}.m.{i}", half) if inner_is_c3k else Bottleneck(ctx, state, f"{prefix}.m.{i}")
            for i in range(count)
        ]
        self.cv2 = Pointwise(ctx, conv_bn(state, f"{prefix}.cv2"), [half] * (2 + count))
        self.out_channels = self.cv2.out_channels

    def __call__(self, parts: Parts) -> Map:
        pieces = [self.first(parts), self.second(parts)]
        for block in self.blocks:
            pieces.append(block(pieces[-1]))
        out = self.cv2(pieces)
        for piece in pieces:
            ttnn.deallocate(piece.tensor)
        return out


class Sppf:
    """cv1, three chained 5x5 max pools (ROW_MAJOR bfloat16, as max_pool2d reads), cv2 over the four maps."""

    def __init__(self, ctx: Context, state: Mapping[str, torch.Tensor], prefix: str) -> None:
        self.ctx = ctx
        cv1 = conv_bn(state, f"{prefix}.cv1")
        self.cv1 = Pointwise(ctx, cv1, [int(cv1.weight.shape[1])])
        self.cv2 = Pointwise(ctx, conv_bn(state, f"{prefix}.cv2"), [cv1.out_channels] * 4)

    def __call__(self, x: Map) -> Map:
        ctx = self.ctx
        y = self.cv1([x])
        rows = row_major(y.tensor)
        pooled: list[Map] = []
        for _ in range(3):
            rows = ttnn.max_pool2d(
                input_tensor=rows,
                batch_size=y.batch,
                input_h=y.height,
                input_w=y.width,
                channels=y.channels,
                kernel_size=[5, 5],
                stride=[1, 1],
                padding=[2, 2],
                dilation=[1, 1],
            )
            rows = ttnn.to_memory_config(rows, ctx.dram)
            pooled.append(y.with_tensor(ttnn.to_layout(rows, ttnn.TILE_LAYOUT, memory_config=ctx.dram), y.channels))
        out = self.cv2([y, *pooled])
        for piece in [y, *pooled]:
            ttnn.deallocate(piece.tensor)
        return out


def row_major(tensor: Any) -> Any:
    """A ROW_MAJOR bfloat16 copy in DRAM (bfloat8_b has no ROW_MAJOR form)."""
    if tensor.dtype != ttnn.bfloat16:
        tensor = ttnn.typecast(tensor, ttnn.bfloat16, memory_config=ttnn.DRAM_MEMORY_CONFIG)
    return ttnn.to_layout(tensor, ttnn.ROW_MAJOR_LAYOUT, memory_config=ttnn.DRAM_MEMORY_CONFIG)


class Attention:
    """Per head: softmax(q k^T) v over the H*W positions of each image; plus the depthwise positional conv of v."""

    def __init__(self, ctx: Context, state: Mapping[str, torch.Tensor], prefix: str, dim: int, heads: int) -> None:
        self.ctx = ctx
        weights = attention(state, prefix, dim, heads)
        self.head_dim = weights.head_dim
        self.q = [Pointwise(ctx, w, [dim], act=False) for w in weights.q]
        self.k = [Pointwise(ctx, w, [dim], act=False) for w in weights.k]
        self.v = Pointwise(ctx, weights.v, [dim], act=False)
        self.pe = Conv3x3(ctx, weights.pe, groups=dim, act=False)
        self.proj = Pointwise(ctx, weights.proj, [dim], act=False)

    def _per_image(self, tensor: Any, x: Map, channels: int) -> Any:
        return ttnn.reshape(tensor, (x.batch, 1, x.height * x.width, channels))

    def __call__(self, x: Map) -> Map:
        ctx = self.ctx
        v = self.v([x])
        heads = []
        for index, (q_conv, k_conv) in enumerate(zip(self.q, self.k, strict=True)):
            q, k = q_conv([x]), k_conv([x])
            start = index * self.head_dim
            v_head = ttnn.slice(v.tensor, (0, 0, 0, start), (1, 1, x.batch * x.height * x.width, start + self.head_dim))
            scores = ttnn.matmul(
                self._per_image(q.tensor, x, q.channels),
                self._per_image(k.tensor, x, k.channels),
                transpose_b=True,
                memory_config=ctx.dram,
                compute_kernel_config=ctx.compute,
            )
            weights = ttnn.softmax(scores, dim=-1, memory_config=ctx.dram)
            out = ttnn.matmul(
                weights,
                self._per_image(v_head, x, self.head_dim),
                dtype=ctx.act_dtype,
                memory_config=ctx.dram,
                compute_kernel_config=ctx.compute,
            )
            heads.append(ttnn.reshape(out, (1, 1, x.batch * x.height * x.width, self.head_dim)))
            for tensor in (q.tensor, k.tensor, v_head, scores, weights):
                ttnn.deallocate(tensor)
        joined = ttnn.concat(heads, dim=3, memory_config=ctx.dram)
        positional = self.pe(v)
        mixed = ttnn.add(joined, positional.tensor, dtype=ctx.act_dtype, memory_config=ctx.dram)
        for tensor in (*heads, joined, positional.tensor, v.tensor):
            ttnn.deallocate(tensor)
        out = self.proj([x.with_tensor(mixed, x.channels)])
        ttnn.deallocate(mixed)
        return out


class C2psa:
    """cv1 as two halves; the second through attention and a feed-forward, each with its residual; cv2 over both."""

    def __init__(self, ctx: Context, state: Mapping[str, torch.Tensor], prefix: str) -> None:
        self.ctx = ctx
        cv1 = conv_bn(state, f"{prefix}.cv1")
        half = cv1.out_channels // 2
        channels = [int(cv1.weight.shape[1])]
        self.first = Pointwise(ctx, cv1.output_rows(torch.arange(0, half)), channels)
        self.second = Pointwise(ctx, cv1.output_rows(torch.arange(half, 2 * half)), channels)
        heads = max(half // 64, 1)
        count = count_children(state, f"{prefix}.m")
        self.attentions = [Attention(ctx, state, f"{prefix}.m.{i}.attn", half, heads) for i in range(count)]
        self.expand = [Pointwise(ctx, conv_bn(state, f"{prefix}.m.{i}.ffn.0"), [half]) for i in range(count)]
        self.project = [
            Pointwise(ctx, conv_bn(state, f"{prefix}.m.{i}.ffn.1"), [2 * half], act=False) for i in range(count)
        ]
        self.cv2 = Pointwise(ctx, conv_bn(state, f"{prefix}.cv2"), [half, half])

    def __call__(self, x: Map) -> Map:
        ctx = self.ctx
        a, b = self.first([x]), self.second([x])
        for attend, expand, project in zip(self.attentions, self.expand, self.project, strict=True):
            attended = attend(b)
            b2 = add(ctx, b, attended)
            ttnn.deallocate(b.tensor)
            ttnn.deallocate(attended.tensor)
            wide = expand([b2])
            narrow = project([wide])
            b = add(ctx, b2, narrow)
            for tensor in (b2.tensor, wide.tensor, narrow.tensor):
                ttnn.deallocate(tensor)
        out = self.cv2([a, b])
        ttnn.deallocate(a.tensor)
        ttnn.deallocate(b.tensor)
        return out


def upsample(ctx: Context, x: Map) -> Map:
    """Nearest 2x upsampling, on the [B, H, W, C] ROW_MAJOR view."""
    rows = ttnn.reshape(row_major(x.tensor), (x.batch, x.height, x.width, x.channels))
    up = ttnn.upsample(rows, 2, memory_config=ctx.dram)
    flat = ttnn.reshape(up, (1, 1, x.batch * x.height * x.width * 4, x.channels))
    tiled = ttnn.to_layout(flat, ttnn.TILE_LAYOUT, dtype=ctx.act_dtype, memory_config=ctx.dram)
    return Map(tiled, x.batch, x.height * 2, x.width * 2, x.channels)


class HeadLevel:
    """One level of the pose head: box (DFL logits), score and keypoint branches, then the float32 decode.

    The branches' last 1x1 convs are matmuls into two outputs: the 64 DFL logits, and [score | 51 keypoints].
    Decode constants (anchor offsets and strides per row, row = image, y, x) are put on the device once.
    """

    def __init__(
        self, ctx: Context, state: Mapping[str, torch.Tensor], level: int, size: tuple[int, int], batch: int
    ) -> None:
        self.ctx = ctx
        p = f"model.{POSE_HEAD}"
        self.box = [Conv3x3(ctx, conv_bn(state, f"{p}.cv2.{level}.{i}")) for i in range(2)]
        box_last = plain_conv(state, f"{p}.cv2.{level}.2")
        self.box_out = Pointwise(ctx, box_last, [int(box_last.weight.shape[1])], act=False)
        dw1, pw1 = conv_bn(state, f"{p}.cv3.{level}.0.0"), conv_bn(state, f"{p}.cv3.{level}.0.1")
        dw2, pw2 = conv_bn(state, f"{p}.cv3.{level}.1.0"), conv_bn(state, f"{p}.cv3.{level}.1.1")
        self.score = [
            Conv3x3(ctx, dw1, groups=dw1.out_channels),
            Pointwise(ctx, pw1, [dw1.out_channels]),
            Conv3x3(ctx, dw2, groups=dw2.out_channels),
            Pointwise(ctx, pw2, [dw2.out_channels]),
        ]
        self.kpt = [Conv3x3(ctx, conv_bn(state, f"{p}.cv4.{level}.{i}")) for i in range(2)]
        score_last, kpt_last = plain_conv(state, f"{p}.cv3.{level}.2"), plain_conv(state, f"{p}.cv4.{level}.2")
        # [score | keypoints] from two inputs: each input's matmul writes its own output columns, zeros elsewhere.
        score_in, kpt_in = int(score_last.weight.shape[1]), int(kpt_last.weight.shape[1])
        weight = torch.zeros(1 + 3 * KEYPOINTS, score_in + kpt_in, 1, 1)
        weight[:1, :score_in] = score_last.weight
        weight[1:, score_in:] = kpt_last.weight
        bias = torch.cat((score_last.bias, kpt_last.bias))
        self.rest_out = Pointwise(ctx, ConvWeights(weight, bias), [score_in, kpt_in], act=False)
        self.constants = decode_constants(ctx, level, size, batch)

    def __call__(self, x: Map) -> Any:
        box = run_chain(self.box, x)
        logits = self.box_out([box])
        score_in = x
        for step in self.score:
            score_next = step(score_in) if isinstance(step, Conv3x3) else step([score_in])
            if score_in is not x:
                ttnn.deallocate(score_in.tensor)
            score_in = score_next
        kpt = run_chain(self.kpt, x)
        raw = self.rest_out([score_in, kpt])
        for tensor in (box.tensor, score_in.tensor, kpt.tensor):
            ttnn.deallocate(tensor)
        return self.constants.decode(logits.tensor, raw.tensor, x)


def run_chain(convs: list[Conv3x3], x: Map) -> Map:
    y = x
    for conv in convs:
        nxt = conv(y)
        if y is not x:
            ttnn.deallocate(y.tensor)
        y = nxt
    return y


@dataclass(eq=False)
class DecodeConstants:
    """Per level, float32 on the device: the DFL bin matrices, the box combination, and per-row scales/offsets."""

    bins: Any  # (64, 4): bin index of each logit for its side
    ones: Any  # (64, 4): 1 for each logit of its side
    combine: Any  # (4, 4): (lt, rb) distances -> (cx, cy, w, h) offsets
    box_scale: Any  # (rows, 4): stride
    box_offset: Any  # (rows, 4): anchor centre x stride for cx, cy; 0 for w, h
    rest_scale: Any  # (rows, 52): 2 x stride on keypoint x, y; 0 on score and visibility
    rest_offset: Any  # (rows, 52): (anchor - 0.5) x stride on keypoint x, y; 0 elsewhere
    rest_sigmoid: Any  # (rows, 52): 1 on score and visibility, 0 on keypoint x, y
    ctx: Context

    def decode(self, logits: Any, raw: Any, x: Map) -> Any:
        """(rows, 64) DFL logits and (rows, 52) [score | keypoints] -> (B, 1, h*w, 56) float32 ROW_MAJOR."""
        ctx = self.ctx
        f32 = dict(dtype=ttnn.float32, memory_config=ctx.dram)
        mm = dict(dtype=ttnn.float32, memory_config=ctx.dram, compute_kernel_config=ctx.compute)
        logits32 = ttnn.typecast(logits, ttnn.float32, memory_config=ctx.dram)
        raw32 = ttnn.typecast(raw, ttnn.float32, memory_config=ctx.dram)
        ttnn.deallocate(logits)
        ttnn.deallocate(raw)
        weights = ttnn.exp(logits32, memory_config=ctx.dram)
        expected = ttnn.matmul(weights, self.bins, **mm)
        total = ttnn.matmul(weights, self.ones, **mm)
        distances = ttnn.divide(expected, total, **f32)
        offsets = ttnn.matmul(distances, self.combine, **mm)
        scaled = ttnn.multiply(offsets, self.box_scale, **f32)
        boxes = ttnn.add(scaled, self.box_offset, **f32)
        linear = ttnn.add(ttnn.multiply(raw32, self.rest_scale, **f32), self.rest_offset, **f32)
        squashed = ttnn.multiply(ttnn.sigmoid(raw32, memory_config=ctx.dram), self.rest_sigmoid, **f32)
        rest = ttnn.add(linear, squashed, **f32)
        for tensor in (logits32, raw32, weights, expected, total, distances, offsets, scaled, linear, squashed):
            ttnn.deallocate(tensor)
        joined = ttnn.concat(
            [ttnn.to_layout(boxes, ttnn.ROW_MAJOR_LAYOUT), ttnn.to_layout(rest, ttnn.ROW_MAJOR_LAYOUT)],
            dim=3,
            memory_config=ctx.dram,
        )
        ttnn.deallocate(boxes)
        ttnn.deallocate(rest)
        return ttnn.reshape(joined, (x.batch, 1, x.height * x.width, 4 + 1 + 3 * KEYPOINTS))


def decode_constants(ctx: Context, level: int, size: tuple[int, int], batch: int) -> DecodeConstants:
    height, width = size
    stride = float(STRIDES[level])
    side = torch.arange(REG_MAX * 4) // REG_MAX
    bins = torch.zeros(REG_MAX * 4, 4)
    bins[torch.arange(REG_MAX * 4), side] = (torch.arange(REG_MAX * 4) % REG_MAX).float()
    ones = torch.zeros(REG_MAX * 4, 4)
    ones[torch.arange(REG_MAX * 4), side] = 1.0
    # (lt_x, lt_y, rb_x, rb_y) -> (cx - ax, cy - ay, w, h)
    combine = torch.tensor([[-0.5, 0, 1, 0], [0, -0.5, 0, 1], [0.5, 0, 1, 0], [0, 0.5, 0, 1]])
    ys, xs = torch.meshgrid(torch.arange(height) + 0.5, torch.arange(width) + 0.5, indexing="ij")
    ax, ay = xs.reshape(-1).repeat(batch), ys.reshape(-1).repeat(batch)
    rows = ax.numel()
    box_offset = torch.stack((ax * stride, ay * stride, torch.zeros(rows), torch.zeros(rows)), dim=1)
    rest_scale = torch.zeros(rows, 1 + 3 * KEYPOINTS)
    rest_offset = torch.zeros(rows, 1 + 3 * KEYPOINTS)
    rest_sigmoid = torch.zeros(rows, 1 + 3 * KEYPOINTS)
    rest_sigmoid[:, 0] = 1.0
    for keypoint in range(KEYPOINTS):
        column = 1 + 3 * keypoint
        rest_scale[:, column] = rest_scale[:, column + 1] = 2.0 * stride
        rest_offset[:, column] = (ax - 0.5) * stride
        rest_offset[:, column + 1] = (ay - 0.5) * stride
        rest_sigmoid[:, column + 2] = 1.0

    def put(value: torch.Tensor) -> Any:
        return ctx.on_device(value.reshape(1, 1, *value.shape[-2:]), ttnn.float32)

    return DecodeConstants(
        bins=put(bins),
        ones=put(ones),
        combine=put(combine),
        box_scale=put(torch.full((rows, 4), stride)),
        box_offset=put(box_offset),
        rest_scale=put(rest_scale),
        rest_offset=put(rest_offset),
        rest_sigmoid=put(rest_sigmoid),
        ctx=ctx,
    )


class YoloV11PoseTt:
    """The whole model on ``device`` for ``batch`` images per chip at ``resolution``, from an Ultralytics-layout
    state dict (``model.<row>.<...>`` keys). Input: ``[1, 1, batch*H*W, 16]`` ROW_MAJOR bfloat16 in DRAM (RGB
    zero-padded to 16 channels); output: ``[batch, 1, A, 56]`` float32 ROW_MAJOR."""

    def __init__(
        self,
        device: Any,
        state: Mapping[str, torch.Tensor],
        *,
        batch: int,
        resolution: tuple[int, int],
        act_dtype: Any,
        weight_dtype: Any,
    ) -> None:
        ctx = Context(device, act_dtype, weight_dtype)
        self.ctx = ctx
        self.batch = batch
        self.resolution = resolution
        stem = conv_bn(state, "model.0")
        padded = torch.nn.functional.pad(stem.weight, (0, 0, 0, 0, 0, INPUT_CHANNELS - stem.weight.shape[1]))
        self.stem = Conv3x3(ctx, ConvWeights(padded, stem.bias), stride=2)

        def c(row: int) -> int:
            return int(state[f"model.{row}.cv2.conv.weight"].shape[0])

        self.down = {row: Conv3x3(ctx, conv_bn(state, f"model.{row}"), stride=2) for row in (1, 3, 5, 7, 17, 20)}
        self.csp = {
            2: C3k2(ctx, state, "model.2", [int(state["model.1.conv.weight"].shape[0])]),
            4: C3k2(ctx, state, "model.4", [int(state["model.3.conv.weight"].shape[0])]),
            6: C3k2(ctx, state, "model.6", [int(state["model.5.conv.weight"].shape[0])]),
            8: C3k2(ctx, state, "model.8", [int(state["model.7.conv.weight"].shape[0])]),
            13: C3k2(ctx, state, "model.13", [c(10), c(6)]),
            16: C3k2(ctx, state, "model.16", [c(13), c(4)]),
            19: C3k2(ctx, state, "model.19", [int(state["model.17.conv.weight"].shape[0]), c(13)]),
            22: C3k2(ctx, state, "model.22", [int(state["model.20.conv.weight"].shape[0]), c(10)]),
        }
        self.sppf = Sppf(ctx, state, "model.9")
        self.c2psa = C2psa(ctx, state, "model.10")
        height, width = resolution
        self.head = [
            HeadLevel(ctx, state, level, (height // stride, width // stride), batch)
            for level, stride in enumerate(STRIDES)
        ]

    def __call__(self, image: Any) -> Any:
        ctx = self.ctx
        height, width = self.resolution
        x = Map(image, self.batch, height, width, INPUT_CHANNELS)
        y = self.stem(x)
        keep: dict[int, Map] = {}  # the rows a later row reads (the neck's concats, the head)
        for down, csp in ((1, 2), (3, 4), (5, 6), (7, 8)):
            z = self.down[down](y)
            if not any(y is kept for kept in keep.values()):
                ttnn.deallocate(y.tensor)
            y = self.csp[csp]([z])
            ttnn.deallocate(z.tensor)
            if csp in (4, 6):
                keep[csp] = y
        p5 = self.sppf(y)
        ttnn.deallocate(y.tensor)
        keep[10] = self.c2psa(p5)
        ttnn.deallocate(p5.tensor)
        keep[13] = self.csp[13]([upsampled := upsample(ctx, keep[10]), keep[6]])
        ttnn.deallocate(upsampled.tensor)
        keep[16] = self.csp[16]([upsampled := upsample(ctx, keep[13]), keep[4]])
        ttnn.deallocate(upsampled.tensor)
        down = self.down[17](keep[16])
        keep[19] = self.csp[19]([down, keep[13]])
        ttnn.deallocate(down.tensor)
        down = self.down[20](keep[19])
        keep[22] = self.csp[22]([down, keep[10]])
        ttnn.deallocate(down.tensor)
        levels = [head(keep[row]) for head, row in zip(self.head, HEAD_INPUTS, strict=True)]
        for row in (4, 6, 10, 13, 16, 19, 22):
            ttnn.deallocate(keep[row].tensor)
        output = ttnn.concat(levels, dim=2, memory_config=ctx.dram)
        for level in levels:
            ttnn.deallocate(level)
        return output

    def release(self) -> None:
        self.ctx.release()


__all__ = ["INPUT_CHANNELS", "YoloV11PoseTt"]

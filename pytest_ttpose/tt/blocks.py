"""The backbone and neck blocks of YOLO11 in ttnn, one class per reference block.

Each block is built from its reference module (for structure: repeats, shortcut flags, head counts) and the folded
weights under the module's path (``model.<i>...``). All activations are [1, 1, B*H*W, C] TILE tensors in DRAM.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pytest_ttpose.tt.common import Concat, Conv, Feature, ModelContext, add, merge_batch, split_batch, to_row_major
from pytest_ttpose.tt.common import to_tile as _to_tile
from pytest_ttpose.tt.weights import FoldedConv

Weights = dict[str, FoldedConv]


def sensitive(ctx: ModelContext) -> ModelContext:
    """The context with the sensitive compute config for every conv and matmul (and no LoFi weight rounding)."""
    return replace(ctx, compute_config=ctx.sensitive_compute_config, round_weights_for_lofi=False)


def _conv(ctx: ModelContext, weights: Weights, name: str, *, stride: int = 1, activation: bool = True) -> Conv:
    if name not in weights:
        raise KeyError(f"no folded weights for {name!r}; the reference model and the TT model disagree on structure")
    return Conv(ctx, weights[name], stride=stride, activation=activation)


def _split_output_channels(params: FoldedConv, first: int) -> tuple[FoldedConv, FoldedConv]:
    """One conv as two convs over the same input: output channels [0, first) and [first, Cout).

    ``torch.chunk``/``split`` of a conv's output channels then needs no slicing on the device.
    """
    return (
        FoldedConv(params.weight[:first].contiguous(), params.bias[:first].contiguous()),
        FoldedConv(params.weight[first:].contiguous(), params.bias[first:].contiguous()),
    )


class Bottleneck:
    """cv1 (3x3) -> cv2 (3x3), plus the input when the reference block has a shortcut."""

    def __init__(self, ctx: ModelContext, module: Any, weights: Weights, name: str) -> None:
        self.ctx = ctx
        self.cv1 = _conv(ctx, weights, f"{name}.cv1")
        self.cv2 = _conv(ctx, weights, f"{name}.cv2")
        self.shortcut = bool(getattr(module, "add", False))

    def __call__(self, x: Feature) -> Feature:
        y = self.cv2(self.cv1(x))
        return add(self.ctx, x, y) if self.shortcut else y


class C3k:
    """C3 with 3x3 bottlenecks: cv3(cat(m(cv1(x)), cv2(x)))."""

    def __init__(self, ctx: ModelContext, module: Any, weights: Weights, name: str) -> None:
        self.cv1 = _conv(ctx, weights, f"{name}.cv1")
        self.cv2 = _conv(ctx, weights, f"{name}.cv2")
        self.cv3 = _conv(ctx, weights, f"{name}.cv3")
        self.m = [Bottleneck(ctx, block, weights, f"{name}.m.{i}") for i, block in enumerate(module.m)]
        self.concat = Concat(ctx)

    def __call__(self, x: Feature) -> Feature:
        y = self.cv1(x)
        for block in self.m:
            y = block(y)
        return self.cv3(self.concat([y, self.cv2(x)]))


class C3k2:
    """C2f whose inner blocks are Bottlenecks or C3ks: cv2(cat(a, b, m0(b), m1(m0(b)), ...)), (a, b) = chunk(cv1(x))."""

    def __init__(self, ctx: ModelContext, module: Any, weights: Weights, name: str) -> None:
        hidden = int(module.c)
        self.cv1a, self.cv1b = (Conv(ctx, part) for part in _split_output_channels(weights[f"{name}.cv1"], hidden))
        self.cv2 = _conv(ctx, weights, f"{name}.cv2")
        self.m: list[Bottleneck | C3k] = []
        for i, block in enumerate(module.m):
            block_name = f"{name}.m.{i}"
            is_c3k = f"{block_name}.cv3" in weights
            self.m.append(
                C3k(ctx, block, weights, block_name) if is_c3k else Bottleneck(ctx, block, weights, block_name)
            )
        self.concat = Concat(ctx)

    def __call__(self, x: Feature) -> Feature:
        outputs = [self.cv1a(x), self.cv1b(x)]
        for block in self.m:
            outputs.append(block(outputs[-1]))
        return self.cv2(self.concat(outputs))


class SPPF:
    """cv1 -> three chained 5x5 stride-1 max pools -> cv2(cat(x, p1, p2, p3)); cv1 keeps its SiLU (YOLO11).

    Runs at the sensitive fidelity, like C2PSA after it: both sit at 1/32 resolution, where HiFi2 costs little.
    """

    def __init__(self, ctx: ModelContext, module: Any, weights: Weights, name: str) -> None:
        ctx = sensitive(ctx)
        self.ctx = ctx
        self.cv1 = _conv(ctx, weights, f"{name}.cv1")
        self.cv2 = _conv(ctx, weights, f"{name}.cv2")
        pool = module.m
        self.kernel = int(pool.kernel_size if isinstance(pool.kernel_size, int) else pool.kernel_size[0])

    def _pool(self, x: Feature, tensor: object) -> object:
        ttnn = self.ctx.ttnn
        pooled = ttnn.max_pool2d(
            input_tensor=tensor,
            batch_size=x.batch,
            input_h=x.height,
            input_w=x.width,
            channels=x.channels,
            kernel_size=[self.kernel, self.kernel],
            stride=[1, 1],
            padding=[self.kernel // 2, self.kernel // 2],
            dilation=[1, 1],
        )
        return ttnn.to_memory_config(pooled, self.ctx.dram)

    def __call__(self, x: Feature) -> Feature:
        ttnn = self.ctx.ttnn
        y = self.cv1(x)
        pieces = [to_row_major(self.ctx, y.tensor)]  # max_pool2d reads row-major bfloat16
        for _ in range(3):
            pieces.append(self._pool(y, pieces[-1]))
        joined = ttnn.concat(pieces, dim=3, memory_config=self.ctx.dram)
        return self.cv2(y.like(_to_tile(self.ctx, joined, self.ctx.act_dtype), 4 * y.channels))


class Attention:
    """Multi-head self-attention over the H*W positions plus a depthwise 3x3 positional encoding of v.

    The reference's qkv conv groups its output channels per head as [q (key_dim) | k (key_dim) | v (head_dim)]. Here
    that one conv is regrouped at build time into three convs, q (all heads' q), k and v, each ordered head by head,
    and the softmax scale is folded into q's weights. Per head, q/k/v are then tile-aligned channel slices (key_dim and
    head_dim are multiples of 32 at every scale), and the matmul/softmax run on TILE tensors of [B, 1, N, *].
    """

    def __init__(self, ctx: ModelContext, module: Any, weights: Weights, name: str) -> None:
        self.ctx = ctx
        self.num_heads = int(module.num_heads)
        self.key_dim = int(module.key_dim)
        self.head_dim = int(module.head_dim)
        scale = float(module.scale)
        qkv = weights[f"{name}.qkv"]
        per_head = 2 * self.key_dim + self.head_dim
        weight = qkv.weight.reshape(self.num_heads, per_head, *qkv.weight.shape[1:])
        bias = qkv.bias.reshape(self.num_heads, per_head)
        q_end, k_end = self.key_dim, 2 * self.key_dim

        def part(start: int, end: int, factor: float = 1.0) -> FoldedConv:
            w = weight[:, start:end].reshape(-1, *qkv.weight.shape[1:]) * factor
            b = bias[:, start:end].reshape(-1) * factor
            return FoldedConv(w.contiguous(), b.contiguous())

        self.q = Conv(ctx, part(0, q_end, scale), activation=False)
        self.k = Conv(ctx, part(q_end, k_end), activation=False)
        self.v = Conv(ctx, part(k_end, per_head), activation=False)
        channels = self.num_heads * self.head_dim
        self.pe = Conv(ctx, weights[f"{name}.pe"], groups=channels, activation=False)
        self.proj = _conv(ctx, weights, f"{name}.proj", activation=False)

    def _head_slice(self, tensor: object, batch: int, tokens: int, start: int, end: int) -> object:
        return self.ctx.ttnn.slice(tensor, [0, 0, 0, start], [batch, 1, tokens, end])

    def __call__(self, x: Feature) -> Feature:
        ttnn = self.ctx.ttnn
        tokens = x.height * x.width
        q, k, v = self.q(x), self.k(x), self.v(x)
        q_b, k_b, v_b = (split_batch(self.ctx, f.tensor, x.batch, tokens) for f in (q, k, v))
        heads = []
        for h in range(self.num_heads):
            q_h = self._head_slice(q_b, x.batch, tokens, h * self.key_dim, (h + 1) * self.key_dim)
            k_h = self._head_slice(k_b, x.batch, tokens, h * self.key_dim, (h + 1) * self.key_dim)
            v_h = self._head_slice(v_b, x.batch, tokens, h * self.head_dim, (h + 1) * self.head_dim)
            scores = ttnn.matmul(
                q_h,
                k_h,
                transpose_b=True,
                memory_config=self.ctx.dram,
                dtype=ttnn.bfloat16,
                compute_kernel_config=self.ctx.sensitive_compute_config,
            )
            attn = ttnn.softmax(scores, dim=-1, memory_config=self.ctx.dram, numeric_stable=True)
            heads.append(
                ttnn.matmul(
                    attn,
                    v_h,
                    memory_config=self.ctx.dram,
                    dtype=self.ctx.act_dtype,
                    compute_kernel_config=self.ctx.sensitive_compute_config,
                )
            )
        joined = heads[0] if len(heads) == 1 else ttnn.concat(heads, dim=3, memory_config=self.ctx.dram)
        attended = v.like(merge_batch(self.ctx, joined, x.batch, tokens))
        return self.proj(add(self.ctx, attended, self.pe(v)))


class PSABlock:
    """x + Attention(x), then x + FFN(x) (1x1 expand with SiLU, 1x1 project without activation)."""

    def __init__(self, ctx: ModelContext, module: Any, weights: Weights, name: str) -> None:
        self.ctx = ctx
        self.attn = Attention(ctx, module.attn, weights, f"{name}.attn")
        self.ffn_expand = _conv(ctx, weights, f"{name}.ffn.0")
        self.ffn_project = _conv(ctx, weights, f"{name}.ffn.1", activation=False)

    def __call__(self, x: Feature) -> Feature:
        x = add(self.ctx, x, self.attn(x))
        return add(self.ctx, x, self.ffn_project(self.ffn_expand(x)))


class C2PSA:
    """cv1 -> (a, b); b through the PSABlocks; cv2(cat(a, b)).

    The whole block runs at the context's sensitive fidelity (HiFi2 when the model runs at LoFi): attention is where
    YOLO11's PCC drops fastest, and at 1/32 of the input resolution the block is a tiny share of the model's math.
    """

    def __init__(self, ctx: ModelContext, module: Any, weights: Weights, name: str) -> None:
        ctx = sensitive(ctx)
        hidden = int(module.c)
        self.cv1a, self.cv1b = (Conv(ctx, part) for part in _split_output_channels(weights[f"{name}.cv1"], hidden))
        self.cv2 = _conv(ctx, weights, f"{name}.cv2")
        self.m = [PSABlock(ctx, block, weights, f"{name}.m.{i}") for i, block in enumerate(module.m)]
        self.concat = Concat(ctx)

    def __call__(self, x: Feature) -> Feature:
        a, b = self.cv1a(x), self.cv1b(x)
        for block in self.m:
            b = block(b)
        return self.cv2(self.concat([a, b]))


__all__ = ["C2PSA", "C3k", "C3k2", "SPPF", "Attention", "Bottleneck", "PSABlock"]

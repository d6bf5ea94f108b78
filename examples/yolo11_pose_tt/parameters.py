"""The pose model's weights, preprocessed once on the host from an Ultralytics-layout YOLO11-pose state dict.

* every ``Conv`` (conv + BatchNorm + SiLU) has its BatchNorm folded into the conv's weight and bias;
* a 1x1 conv is kept as a (Cin, Cout) matmul weight, split along Cin into the parts its input is made of: the model
  never builds a channel concatenation on the device, it sums the partial matmuls of the parts instead;
* attention's qkv conv is split into per-head q and k weights (the softmax scale folded into q) and one v weight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

# Ultralytics builds every BatchNorm2d of YOLO11 with this eps (it is not part of the state dict).
BN_EPS = 1e-3


@dataclass(frozen=True)
class ConvWeights:
    """A conv's float32 weight (Cout, Cin / groups, k, k) and bias (Cout,), BatchNorm folded in."""

    weight: torch.Tensor
    bias: torch.Tensor

    @property
    def out_channels(self) -> int:
        return int(self.weight.shape[0])

    @property
    def kernel(self) -> int:
        return int(self.weight.shape[-1])

    def matmul_parts(self, part_channels: Sequence[int]) -> list[torch.Tensor]:
        """A 1x1 conv's weight as (Cin_i, Cout) matmul weights, one per input part of ``part_channels`` channels."""
        if self.kernel != 1:
            raise ValueError(f"only a 1x1 conv is a matmul, this one is {self.kernel}x{self.kernel}")
        if sum(part_channels) != self.weight.shape[1]:
            raise ValueError(f"parts of {list(part_channels)} channels do not make the {self.weight.shape[1]} inputs")
        matrix = self.weight[:, :, 0, 0].transpose(0, 1)
        return [chunk.contiguous() for chunk in matrix.split(list(part_channels), dim=0)]

    def output_rows(self, rows: torch.Tensor, scale: float = 1.0) -> ConvWeights:
        """The conv restricted to the output channels ``rows`` (in that order), weight and bias times ``scale``."""
        return ConvWeights(self.weight[rows] * scale, self.bias[rows] * scale)


def conv_bn(state: Mapping[str, torch.Tensor], prefix: str) -> ConvWeights:
    """``prefix.conv`` with ``prefix.bn`` folded in (or with its own bias when the state dict is already fused)."""
    weight = state[f"{prefix}.conv.weight"].float()
    if f"{prefix}.bn.weight" not in state:
        return ConvWeights(weight, state[f"{prefix}.conv.bias"].float())
    gamma = state[f"{prefix}.bn.weight"].float()
    scale = gamma / torch.sqrt(state[f"{prefix}.bn.running_var"].float() + BN_EPS)
    bias = state[f"{prefix}.bn.bias"].float() - state[f"{prefix}.bn.running_mean"].float() * scale
    return ConvWeights(weight * scale.view(-1, 1, 1, 1), bias)


def plain_conv(state: Mapping[str, torch.Tensor], prefix: str) -> ConvWeights:
    """A bare ``nn.Conv2d`` with bias (the head's last convs)."""
    return ConvWeights(state[f"{prefix}.weight"].float(), state[f"{prefix}.bias"].float())


def count_children(state: Mapping[str, torch.Tensor], prefix: str) -> int:
    """How many numbered children ``prefix.<i>`` the state dict has (the inner blocks of a C3k2, say)."""
    found = {key[len(prefix) + 1 :].split(".")[0] for key in state if key.startswith(prefix + ".")}
    return len([name for name in found if name.isdigit()])


@dataclass(frozen=True)
class AttentionWeights:
    """Attention's convs, regrouped: per head a q (scaled) and a k 1x1 conv; one v conv for all heads (the order
    the positional conv and the output expect: head after head); the depthwise positional conv; the projection."""

    q: list[ConvWeights]
    k: list[ConvWeights]
    v: ConvWeights
    pe: ConvWeights
    proj: ConvWeights
    key_dim: int
    head_dim: int


def attention(state: Mapping[str, torch.Tensor], prefix: str, dim: int, num_heads: int) -> AttentionWeights:
    head_dim = dim // num_heads
    key_dim = head_dim // 2  # YOLO11's attn_ratio 0.5
    qkv = conv_bn(state, f"{prefix}.qkv")
    per_head = 2 * key_dim + head_dim  # the qkv channels of one head: [q | k | v]
    q, k, v_rows = [], [], []
    for head in range(num_heads):
        start = head * per_head
        q.append(qkv.output_rows(torch.arange(start, start + key_dim), scale=key_dim**-0.5))
        k.append(qkv.output_rows(torch.arange(start + key_dim, start + 2 * key_dim)))
        v_rows.append(torch.arange(start + 2 * key_dim, start + per_head))
    return AttentionWeights(
        q=q,
        k=k,
        v=qkv.output_rows(torch.cat(v_rows)),
        pe=conv_bn(state, f"{prefix}.pe"),
        proj=conv_bn(state, f"{prefix}.proj"),
        key_dim=key_dim,
        head_dim=head_dim,
    )


__all__ = ["AttentionWeights", "ConvWeights", "attention", "conv_bn", "count_children", "plain_conv"]

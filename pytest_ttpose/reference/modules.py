"""Building blocks of YOLO11-pose in plain torch.

Each class mirrors the Ultralytics module of the same name (``ultralytics/nn/modules``) closely enough that attribute
names, and therefore ``state_dict`` keys and shapes, are identical, and the forward computes the same ops in the same
order (so outputs agree to float rounding). Only what YOLO11-pose uses is implemented: no training-only paths, no
export switches, no one-to-one heads.
"""

from __future__ import annotations

import math

import torch
from torch import nn

# Ultralytics' initialize_weights() sets these on every BatchNorm2d; the eps matters when folding BN into a conv.
BN_EPS = 1e-3
BN_MOMENTUM = 0.03


def autopad(kernel: int, dilation: int = 1) -> int:
    """Padding that keeps the spatial size at stride 1 ('same' padding) for an odd kernel."""
    if dilation > 1:
        kernel = dilation * (kernel - 1) + 1
    return kernel // 2


class Conv(nn.Module):
    """Conv2d (no bias) -> BatchNorm2d -> SiLU (or identity when ``act=False``)."""

    def __init__(self, c1: int, c2: int, k: int = 1, s: int = 1, g: int = 1, d: int = 1, act: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, autopad(k, d), groups=g, dilation=d, bias=False)
        self.bn: nn.Module = nn.BatchNorm2d(c2, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.act: nn.Module = nn.SiLU() if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class DWConv(Conv):
    """Grouped conv with ``groups = gcd(c1, c2)``: depthwise when c1 == c2."""

    def __init__(self, c1: int, c2: int, k: int = 1, s: int = 1, d: int = 1, act: bool = True) -> None:
        super().__init__(c1, c2, k, s, g=math.gcd(c1, c2), d=d, act=act)


class Bottleneck(nn.Module):
    """cv1 (k[0]) -> cv2 (k[1]), plus the input when ``shortcut`` and the channel counts agree."""

    def __init__(
        self, c1: int, c2: int, shortcut: bool = True, g: int = 1, k: tuple[int, int] = (3, 3), e: float = 0.5
    ) -> None:
        super().__init__()
        hidden = int(c2 * e)
        self.cv1 = Conv(c1, hidden, k[0], 1)
        self.cv2 = Conv(hidden, c2, k[1], 1, g=g)
        self.add = shortcut and c1 == c2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C3k(nn.Module):
    """CSP block (Ultralytics C3) with ``n`` 3x3/3x3 residual bottlenecks of expansion 1."""

    def __init__(
        self, c1: int, c2: int, n: int = 2, shortcut: bool = True, g: int = 1, e: float = 0.5, k: int = 3
    ) -> None:
        super().__init__()
        hidden = int(c2 * e)
        self.cv1 = Conv(c1, hidden, 1, 1)
        self.cv2 = Conv(c1, hidden, 1, 1)
        self.cv3 = Conv(2 * hidden, c2, 1)
        self.m = nn.Sequential(*(Bottleneck(hidden, hidden, shortcut, g, k=(k, k), e=1.0) for _ in range(n)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class C3k2(nn.Module):
    """Ultralytics C2f whose inner blocks are C3k (``c3k=True``) or plain bottlenecks (``c3k=False``)."""

    def __init__(
        self, c1: int, c2: int, n: int = 1, c3k: bool = False, e: float = 0.5, g: int = 1, shortcut: bool = True
    ) -> None:
        super().__init__()
        self.c = int(c2 * e)
        self.cv1 = Conv(c1, 2 * self.c, 1, 1)
        self.cv2 = Conv((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(
            C3k(self.c, self.c, 2, shortcut, g) if c3k else Bottleneck(self.c, self.c, shortcut, g) for _ in range(n)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = list(self.cv1(x).chunk(2, 1))
        y.extend(block(y[-1]) for block in self.m)
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    """Spatial pyramid pooling (fast): cv1 (with SiLU, as YOLO11 builds it), three chained 5x5 max pools, cv2."""

    def __init__(self, c1: int, c2: int, k: int = 5) -> None:
        super().__init__()
        hidden = c1 // 2
        self.cv1 = Conv(c1, hidden, 1, 1)
        self.cv2 = Conv(hidden * 4, c2, 1, 1)
        self.m = nn.MaxPool2d(kernel_size=k, stride=1, padding=k // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = [self.cv1(x)]
        y.extend(self.m(y[-1]) for _ in range(3))
        return self.cv2(torch.cat(y, 1))


class Attention(nn.Module):
    """Multi-head self-attention over the H*W positions, with a depthwise 3x3 positional encoding of v.

    The qkv channels are grouped per head as [q (key_dim) | k (key_dim) | v (head_dim)].
    """

    def __init__(self, dim: int, num_heads: int = 8, attn_ratio: float = 0.5) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.key_dim = int(self.head_dim * attn_ratio)
        self.scale = self.key_dim**-0.5
        qkv_channels = dim + 2 * self.key_dim * num_heads
        self.qkv = Conv(dim, qkv_channels, 1, act=False)
        self.proj = Conv(dim, dim, 1, act=False)
        self.pe = Conv(dim, dim, 3, 1, g=dim, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        n = h * w
        qkv = self.qkv(x)
        q, k, v = qkv.view(b, self.num_heads, self.key_dim * 2 + self.head_dim, n).split(
            [self.key_dim, self.key_dim, self.head_dim], dim=2
        )
        attn = ((q * self.scale).transpose(-2, -1) @ k).softmax(dim=-1)
        y = (v @ attn.transpose(-2, -1)).view(b, c, h, w) + self.pe(v.reshape(b, c, h, w))
        return self.proj(y)


class PSABlock(nn.Module):
    """x + Attention(x), then x + FFN(x) (1x1 expand x2 with SiLU, 1x1 project without activation)."""

    def __init__(self, c: int, attn_ratio: float = 0.5, num_heads: int = 4) -> None:
        super().__init__()
        self.attn = Attention(c, attn_ratio=attn_ratio, num_heads=num_heads)
        self.ffn = nn.Sequential(Conv(c, c * 2, 1), Conv(c * 2, c, 1, act=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(x)
        return x + self.ffn(x)


class C2PSA(nn.Module):
    """cv1 -> split (a, b) -> b through n PSABlocks -> cv2(cat(a, b))."""

    def __init__(self, c1: int, c2: int, n: int = 1, e: float = 0.5) -> None:
        super().__init__()
        if c1 != c2:
            raise ValueError(f"C2PSA needs c1 == c2, got {c1} and {c2}")
        self.c = int(c1 * e)
        self.cv1 = Conv(c1, 2 * self.c, 1, 1)
        self.cv2 = Conv(2 * self.c, c1, 1)
        self.m = nn.Sequential(*(PSABlock(self.c, attn_ratio=0.5, num_heads=max(self.c // 64, 1)) for _ in range(n)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.cv1(x).split((self.c, self.c), dim=1)
        return self.cv2(torch.cat((a, self.m(b)), 1))


class Concat(nn.Module):
    """Concatenate a list of tensors along channels."""

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(xs, 1)


class DFL(nn.Module):
    """Distribution focal loss integral: expected value of a softmax over ``c1`` bins, per box side.

    The frozen 1x1 conv with weight ``arange(c1)`` is kept (rather than a plain weighted sum) because it is part of
    Ultralytics' state dict and of its rounding behaviour.
    """

    def __init__(self, c1: int = 16) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c1, 1, 1, bias=False).requires_grad_(False)
        with torch.no_grad():
            self.conv.weight.copy_(torch.arange(c1, dtype=torch.float).view(1, c1, 1, 1))
        self.c1 = c1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, a = x.shape
        return self.conv(x.view(b, 4, self.c1, a).transpose(2, 1).softmax(1)).view(b, 4, a)


def make_anchors(
    feature_sizes: list[tuple[int, int]], strides: list[float], dtype: torch.dtype, offset: float = 0.5
) -> tuple[torch.Tensor, torch.Tensor]:
    """Anchor centres in grid units, (2, A), and the stride of each anchor, (1, A), over all levels in order.

    Anchors run row-major over (y, x) inside a level, as the flattened head maps do.
    """
    points, stride_columns = [], []
    for (h, w), stride in zip(feature_sizes, strides, strict=True):
        sx = torch.arange(w, dtype=dtype) + offset
        sy = torch.arange(h, dtype=dtype) + offset
        grid_y, grid_x = torch.meshgrid(sy, sx, indexing="ij")
        points.append(torch.stack((grid_x, grid_y), -1).view(-1, 2))
        stride_columns.append(torch.full((h * w, 1), stride, dtype=dtype))
    return torch.cat(points).transpose(0, 1), torch.cat(stride_columns).transpose(0, 1)


class Pose(nn.Module):
    """YOLO11 pose head (Ultralytics ``Pose``, ``legacy=False``): box (cv2), class (cv3, depthwise), keypoints (cv4).

    ``forward`` returns the raw head tensors; ``decode`` turns them into the (B, 4 + nc + 51, A) eval output.
    """

    def __init__(
        self, nc: int = 1, kpt_shape: tuple[int, int] = (17, 3), ch: tuple[int, ...] = (), reg_max: int = 16
    ) -> None:
        super().__init__()
        self.nc = nc
        self.nl = len(ch)
        self.reg_max = reg_max
        self.kpt_shape = kpt_shape
        self.nk = kpt_shape[0] * kpt_shape[1]
        self.stride: tuple[float, ...] = (8.0, 16.0, 32.0)[: self.nl]
        box_channels = max((16, ch[0] // 4, reg_max * 4))
        cls_channels = max(ch[0], min(nc, 100))
        kpt_channels = max(ch[0] // 4, self.nk)
        self.cv2 = nn.ModuleList(
            nn.Sequential(
                Conv(x, box_channels, 3), Conv(box_channels, box_channels, 3), nn.Conv2d(box_channels, 4 * reg_max, 1)
            )
            for x in ch
        )
        self.cv3 = nn.ModuleList(
            nn.Sequential(
                nn.Sequential(DWConv(x, x, 3), Conv(x, cls_channels, 1)),
                nn.Sequential(DWConv(cls_channels, cls_channels, 3), Conv(cls_channels, cls_channels, 1)),
                nn.Conv2d(cls_channels, nc, 1),
            )
            for x in ch
        )
        self.dfl = DFL(reg_max)
        self.cv4 = nn.ModuleList(
            nn.Sequential(
                Conv(x, kpt_channels, 3), Conv(kpt_channels, kpt_channels, 3), nn.Conv2d(kpt_channels, self.nk, 1)
            )
            for x in ch
        )

    def level_maps(self, feats: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        """Per-level (B, C, H, W) branch outputs, keyed ``box.<level>``, ``score.<level>``, ``kpt.<level>``."""
        maps: dict[str, torch.Tensor] = {}
        for i in range(self.nl):
            maps[f"box.{i}"] = self.cv2[i](feats[i])
            maps[f"score.{i}"] = self.cv3[i](feats[i])
            maps[f"kpt.{i}"] = self.cv4[i](feats[i])
        return maps

    def raw_outputs(self, maps: dict[str, torch.Tensor], batch: int) -> dict[str, torch.Tensor]:
        """Flatten per-level maps to (B, 64, A) box DFL logits, (B, nc, A) score logits and (B, 51, A) raw keypoints."""
        return {
            "boxes": torch.cat([maps[f"box.{i}"].view(batch, 4 * self.reg_max, -1) for i in range(self.nl)], -1),
            "scores": torch.cat([maps[f"score.{i}"].view(batch, self.nc, -1) for i in range(self.nl)], -1),
            "kpts": torch.cat([maps[f"kpt.{i}"].view(batch, self.nk, -1) for i in range(self.nl)], 2),
        }

    def decode(self, raw: dict[str, torch.Tensor], feature_sizes: list[tuple[int, int]]) -> torch.Tensor:
        """Decode raw head tensors into (B, 4 + nc + nk, A): box cx, cy, w, h and keypoints in input pixels."""
        anchors, strides = make_anchors(feature_sizes, list(self.stride), raw["boxes"].dtype)
        distances = self.dfl(raw["boxes"])
        lt, rb = distances.chunk(2, 1)
        anchor_points = anchors.unsqueeze(0)
        x1y1 = anchor_points - lt
        x2y2 = anchor_points + rb
        boxes = torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), 1) * strides
        scores = raw["scores"].sigmoid()
        kpts = raw["kpts"].clone()
        ndim = self.kpt_shape[1]
        if ndim == 3:
            kpts[:, 2::ndim] = kpts[:, 2::ndim].sigmoid()
        kpts[:, 0::ndim] = (kpts[:, 0::ndim] * 2.0 + (anchors[0] - 0.5)) * strides
        kpts[:, 1::ndim] = (kpts[:, 1::ndim] * 2.0 + (anchors[1] - 0.5)) * strides
        return torch.cat((boxes, scores, kpts), 1)

    def forward(self, feats: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        return self.raw_outputs(self.level_maps(feats), feats[0].shape[0])

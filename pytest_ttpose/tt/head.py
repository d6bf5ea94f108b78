"""The YOLO11 Pose head in ttnn: per-level box (cv2), score (cv3, depthwise) and keypoint (cv4) branches, and the
on-device decode (DFL over 16 bins, dist2bbox x stride, keypoint decode, sigmoids) into a [B, 1, A, 56] tensor.

Decode plan (everything TILE, no narrow slices): with p = softmax of all 64 DFL logits of an anchor,
``dist = (p @ BINS) / (p @ ONES)`` gives the four expected side distances (l, t, r, b) in one pair of matmuls
(BINS[16s+i, s] = i, ONES[16s+i, s] = 1). ``dist @ XYWH`` turns them into (cx-ax, cy-ay, w, h), and anchors and strides
are per-anchor constants built once for the model's resolution and batch. The three decoded parts are placed into the
56 output channels by 0/1 projection matmuls (exact: each output sums one product with 1.0), which keeps the 4-, 1-
and 51-wide pieces out of row-major pages narrower than the device's DRAM alignment.

Precision: the person score is the most fragile output (a sigmoid of a strongly negative logit, so a few high-score
anchors dominate it). Its branch (cv3) is a handful of small convs, so it runs at HiFi2 or better even when the rest of
the model runs at LoFi: on the emulator with the real n weights this lifts the isolated branch PCC at bfloat8_b from
about 0.996 to 0.999, for a negligible share of the model's math.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from pytest_ttpose.tt.common import Conv, DWConv, Feature, ModelContext, to_row_major, to_tile
from pytest_ttpose.tt.weights import FoldedConv

STRIDES: tuple[int, int, int] = (8, 16, 32)
REG_MAX = 16
NUM_KEYPOINTS = 17
KPT_DIMS = 3
OUTPUT_CHANNELS = 4 + 1 + NUM_KEYPOINTS * KPT_DIMS  # 56: box (cx, cy, w, h), person score, 17 x (x, y, visibility)
RAW_PARTS: tuple[str, str, str] = ("boxes", "scores", "kpts")


@dataclass
class RawHeadOutputs:
    """The head's raw tensors on the device, [B, 1, A, C] TILE: boxes (64 DFL logits), scores (1 logit), kpts (51)."""

    boxes: Any
    scores: Any
    kpts: Any


def anchor_grid(height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Anchor centres (A, 2) in grid units (x, y) and per-anchor strides (A,), over the levels P3, P4, P5 in order."""
    points, strides = [], []
    for stride in STRIDES:
        h, w = height // stride, width // stride
        grid_y, grid_x = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
        points.append(torch.stack((grid_x, grid_y), -1).reshape(-1, 2))
        strides.append(torch.full((h * w,), float(stride)))
    return torch.cat(points).float(), torch.cat(strides)


def decode_constants(batch: int, height: int, width: int) -> dict[str, torch.Tensor]:
    """The decode's constant tensors for one input size, as float32 torch tensors of rank 4."""
    anchors, strides = anchor_grid(height, width)
    count = anchors.shape[0]
    bins = torch.zeros(4 * REG_MAX, 4)
    ones = torch.zeros(4 * REG_MAX, 4)
    for side in range(4):
        bins[side * REG_MAX : (side + 1) * REG_MAX, side] = torch.arange(REG_MAX, dtype=torch.float32)
        ones[side * REG_MAX : (side + 1) * REG_MAX, side] = 1.0
    # (l, t, r, b) -> (cx - ax, cy - ay, w, h) = ((r - l) / 2, (b - t) / 2, l + r, t + b)
    xywh = torch.tensor(
        [[-0.5, 0.0, 1.0, 0.0], [0.0, -0.5, 0.0, 1.0], [0.5, 0.0, 1.0, 0.0], [0.0, 0.5, 0.0, 1.0]], dtype=torch.float32
    )
    box_stride = strides[:, None].expand(count, 4)
    box_offset = torch.zeros(count, 4)
    box_offset[:, :2] = anchors * strides[:, None]
    kpt_scale = torch.zeros(count, NUM_KEYPOINTS * KPT_DIMS)
    kpt_offset = torch.zeros(count, NUM_KEYPOINTS * KPT_DIMS)
    kpt_visibility = torch.zeros(count, NUM_KEYPOINTS * KPT_DIMS)
    for axis in range(2):  # x = (raw * 2 + anchor - 0.5) * stride, same for y
        kpt_scale[:, axis::KPT_DIMS] = 2.0 * strides[:, None]
        kpt_offset[:, axis::KPT_DIMS] = ((anchors[:, axis] - 0.5) * strides)[:, None]
    kpt_visibility[:, 2::KPT_DIMS] = 1.0
    place_box = torch.zeros(4, OUTPUT_CHANNELS)
    place_box[:, :4] = torch.eye(4)
    place_score = torch.zeros(1, OUTPUT_CHANNELS)
    place_score[0, 4] = 1.0
    place_kpts = torch.zeros(NUM_KEYPOINTS * KPT_DIMS, OUTPUT_CHANNELS)
    place_kpts[:, 5:] = torch.eye(NUM_KEYPOINTS * KPT_DIMS)

    def per_anchor(t: torch.Tensor) -> torch.Tensor:  # [A, C] -> [B, 1, A, C]: no broadcasting needed on the device
        return t.reshape(1, 1, count, -1).expand(batch, 1, count, t.shape[-1]).contiguous()

    def matrix(t: torch.Tensor) -> torch.Tensor:
        return t.reshape(1, 1, *t.shape).contiguous()

    return {
        "dfl_bins": matrix(bins),
        "dfl_ones": matrix(ones),
        "dist_to_xywh": matrix(xywh),
        "box_stride": per_anchor(box_stride),
        "box_offset": per_anchor(box_offset),
        "kpt_scale": per_anchor(kpt_scale),
        "kpt_offset": per_anchor(kpt_offset),
        "kpt_visibility": per_anchor(kpt_visibility),
        "place_box": matrix(place_box),
        "place_score": matrix(place_score),
        "place_kpts": matrix(place_kpts),
    }


def decoded_to_torch(ttnn: Any, output: Any, mesh_composer: Any = None) -> torch.Tensor:
    """Decoded [B, 1, A, 56] device output -> (B, 56, A) float32 torch tensor (channel layout: docs/ARCHITECTURE.md)."""
    value = ttnn.to_torch(output, mesh_composer=mesh_composer).float()
    return value.reshape(value.shape[0], -1, OUTPUT_CHANNELS).permute(0, 2, 1).contiguous()


def raw_to_torch(ttnn: Any, raw: RawHeadOutputs, mesh_composer: Any = None) -> dict[str, torch.Tensor]:
    """Raw head tensors -> {"boxes": (B, 64, A), "scores": (B, 1, A), "kpts": (B, 51, A)} float32."""
    result: dict[str, torch.Tensor] = {}
    for key in RAW_PARTS:
        value = ttnn.to_torch(getattr(raw, key), mesh_composer=mesh_composer).float()
        result[key] = value.reshape(value.shape[0], -1, value.shape[-1]).permute(0, 2, 1).contiguous()
    return result


class _Branch:
    """A head branch for one level: a chain of Conv/DWConv blocks and a final 1x1 conv with bias, no activation."""

    def __init__(self, layers: list[Conv]) -> None:
        self.layers = layers

    def __call__(self, x: Feature) -> Feature:
        for layer in self.layers:
            x = layer(x)
        return x


def _final(ctx: ModelContext, weights: dict[str, FoldedConv], name: str, compute_config: Any = None) -> Conv:
    """A branch's last 1x1 conv: bias, no activation."""
    return Conv(ctx, weights[name], activation=False, compute_config=compute_config)


class PoseHead:
    """cv2 (box: Conv 3x3, Conv 3x3, 1x1 -> 64), cv3 (score: [DWConv 3x3, Conv 1x1] x 2, 1x1 -> 1),
    cv4 (keypoints: Conv 3x3, Conv 3x3, 1x1 -> 51) per level, then the on-device decode."""

    def __init__(
        self,
        ctx: ModelContext,
        module: Any,
        weights: dict[str, FoldedConv],
        name: str,
        *,
        batch: int,
        height: int,
        width: int,
    ) -> None:
        self.ctx = ctx
        levels = len(module.cv2)
        if levels != len(STRIDES):
            raise ValueError(f"the Pose head has {levels} levels, expected {len(STRIDES)}")
        if int(module.nc) != 1 or tuple(module.kpt_shape) != (NUM_KEYPOINTS, KPT_DIMS):
            raise ValueError("the TT Pose head supports nc=1 with 17x3 keypoints (the yolo11-pose person model)")
        self.box: list[_Branch] = []
        self.score: list[_Branch] = []
        self.kpt: list[_Branch] = []
        for i in range(levels):
            self.box.append(
                _Branch(
                    [
                        Conv(ctx, weights[f"{name}.cv2.{i}.0"]),
                        Conv(ctx, weights[f"{name}.cv2.{i}.1"]),
                        _final(ctx, weights, f"{name}.cv2.{i}.2"),
                    ]
                )
            )
            score_config = ctx.sensitive_compute_config
            self.score.append(
                _Branch(
                    [
                        DWConv(ctx, weights[f"{name}.cv3.{i}.0.0"], compute_config=score_config),
                        Conv(ctx, weights[f"{name}.cv3.{i}.0.1"], compute_config=score_config),
                        DWConv(ctx, weights[f"{name}.cv3.{i}.1.0"], compute_config=score_config),
                        Conv(ctx, weights[f"{name}.cv3.{i}.1.1"], compute_config=score_config),
                        _final(ctx, weights, f"{name}.cv3.{i}.2", score_config),
                    ]
                )
            )
            self.kpt.append(
                _Branch(
                    [
                        Conv(ctx, weights[f"{name}.cv4.{i}.0"]),
                        Conv(ctx, weights[f"{name}.cv4.{i}.1"]),
                        _final(ctx, weights, f"{name}.cv4.{i}.2"),
                    ]
                )
            )
        self.batch = batch
        self.constants = {
            key: ctx.device_constant(value) for key, value in decode_constants(batch, height, width).items()
        }

    def level_maps(self, feats: list[Feature]) -> dict[str, Feature]:
        """Per-level branch outputs keyed ``box.<i>``, ``score.<i>``, ``kpt.<i>``, like the reference's."""
        maps: dict[str, Feature] = {}
        for i, feat in enumerate(feats):
            maps[f"box.{i}"] = self.box[i](feat)
            maps[f"score.{i}"] = self.score[i](feat)
            maps[f"kpt.{i}"] = self.kpt[i](feat)
        return maps

    def _gather_levels(self, maps: list[Feature]) -> Any:
        """Per-level [1, 1, B*Hi*Wi, C] -> [B, 1, A, C] bfloat16 TILE, levels in order P3, P4, P5.

        Row-major, because the level boundaries (e.g. 20*20 = 400 anchors) need not fall on tile rows.
        """
        ttnn = self.ctx.ttnn
        pieces = [
            ttnn.reshape(to_row_major(self.ctx, m.tensor), (m.batch, 1, m.height * m.width, m.channels)) for m in maps
        ]
        joined = ttnn.concat(pieces, dim=2, memory_config=self.ctx.dram)
        return to_tile(self.ctx, joined, ttnn.bfloat16)

    def raw_outputs(self, maps: dict[str, Feature]) -> RawHeadOutputs:
        levels = range(len(STRIDES))
        return RawHeadOutputs(
            boxes=self._gather_levels([maps[f"box.{i}"] for i in levels]),
            scores=self._gather_levels([maps[f"score.{i}"] for i in levels]),
            kpts=self._gather_levels([maps[f"kpt.{i}"] for i in levels]),
        )

    def decode(self, raw: RawHeadOutputs) -> Any:
        """[B, 1, A, 56] bfloat16 TILE: box cx, cy, w, h (pixels), score, 17 x (x, y pixels, visibility)."""
        ttnn = self.ctx.ttnn
        c = self.constants
        dram = self.ctx.dram
        config = self.ctx.precise_compute_config

        def matmul(a: Any, b: Any) -> Any:
            return ttnn.matmul(a, b, memory_config=dram, dtype=ttnn.bfloat16, compute_kernel_config=config)

        # DFL: softmax over each side's 16 bins, expectation over the bin index. A softmax over all 64 logits differs
        # from the per-side one by a per-row factor, which the ratio cancels.
        probs = ttnn.softmax(raw.boxes, dim=-1, memory_config=dram, compute_kernel_config=config, numeric_stable=True)
        dist = ttnn.divide(matmul(probs, c["dfl_bins"]), matmul(probs, c["dfl_ones"]), memory_config=dram)
        # dist2bbox (xywh) x stride
        box = ttnn.add(
            ttnn.multiply(matmul(dist, c["dist_to_xywh"]), c["box_stride"], memory_config=dram),
            c["box_offset"],
            memory_config=dram,
        )
        score = ttnn.sigmoid(raw.scores, memory_config=dram)
        kpt_xy = ttnn.add(
            ttnn.multiply(raw.kpts, c["kpt_scale"], memory_config=dram), c["kpt_offset"], memory_config=dram
        )
        kpt_vis = ttnn.multiply(ttnn.sigmoid(raw.kpts, memory_config=dram), c["kpt_visibility"], memory_config=dram)
        kpts = ttnn.add(kpt_xy, kpt_vis, memory_config=dram)
        out = ttnn.add(matmul(box, c["place_box"]), matmul(score, c["place_score"]), memory_config=dram)
        return ttnn.add(out, matmul(kpts, c["place_kpts"]), memory_config=dram)

    def __call__(self, feats: list[Feature]) -> tuple[Any, RawHeadOutputs, dict[str, Feature]]:
        maps = self.level_maps(feats)
        raw = self.raw_outputs(maps)
        return self.decode(raw), raw, maps


__all__ = [
    "decoded_to_torch",
    "raw_to_torch",
    "OUTPUT_CHANNELS",
    "RAW_PARTS",
    "STRIDES",
    "PoseHead",
    "RawHeadOutputs",
    "anchor_grid",
    "decode_constants",
]

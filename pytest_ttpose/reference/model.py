"""YOLO11-pose (nc=1, 17x3 keypoints) as plain torch modules, for every Ultralytics scale.

The layer list follows ``ultralytics/cfg/models/11/yolo11-pose.yaml`` row by row, so ``model.layers[i]`` is yaml row
``i`` (0..23, 23 = the Pose head) and ``state_dict()`` keys read ``model.<i>.<...>`` exactly as in Ultralytics'
``PoseModel('yolo11<scale>-pose.yaml', nc=1)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from pytest_ttpose.reference.modules import C2PSA, SPPF, C3k2, Concat, Conv, Pose

SCALES: tuple[str, ...] = ("n", "s", "m", "l", "x")
NUM_CLASSES = 1
KPT_SHAPE: tuple[int, int] = (17, 3)
MAX_STRIDE = 32
HEAD_INDEX = 23
FEATURE_INDICES: tuple[int, int, int] = (16, 19, 22)  # P3, P4, P5 feeding the head


@dataclass(frozen=True)
class ScaleSpec:
    """The yaml's ``scales`` row: depth multiple, width multiple, channel cap."""

    depth: float
    width: float
    max_channels: int
    forces_c3k: bool  # parse_model sets C3k2's c3k flag for the m, l and x scales whatever the yaml says

    def channels(self, c: int) -> int:
        """Ultralytics ``make_divisible(min(c, max_channels) * width, 8)``."""
        return int(math.ceil(min(c, self.max_channels) * self.width / 8) * 8)

    def repeats(self, n: int) -> int:
        return max(round(n * self.depth), 1) if n > 1 else n


SCALE_SPECS: dict[str, ScaleSpec] = {
    "n": ScaleSpec(0.50, 0.25, 1024, forces_c3k=False),
    "s": ScaleSpec(0.50, 0.50, 1024, forces_c3k=False),
    "m": ScaleSpec(0.50, 1.00, 512, forces_c3k=True),
    "l": ScaleSpec(1.00, 1.00, 512, forces_c3k=True),
    "x": ScaleSpec(1.00, 1.50, 512, forces_c3k=True),
}

# (from, repeats, module, args) for rows 0..22 of yolo11-pose.yaml; row 23 (Pose) is built separately.
_YAML_ROWS: tuple[tuple[int | tuple[int, ...], int, str, tuple[object, ...]], ...] = (
    (-1, 1, "Conv", (64, 3, 2)),
    (-1, 1, "Conv", (128, 3, 2)),
    (-1, 2, "C3k2", (256, False, 0.25)),
    (-1, 1, "Conv", (256, 3, 2)),
    (-1, 2, "C3k2", (512, False, 0.25)),
    (-1, 1, "Conv", (512, 3, 2)),
    (-1, 2, "C3k2", (512, True)),
    (-1, 1, "Conv", (1024, 3, 2)),
    (-1, 2, "C3k2", (1024, True)),
    (-1, 1, "SPPF", (1024, 5)),
    (-1, 2, "C2PSA", (1024,)),
    (-1, 1, "Upsample", ()),
    ((-1, 6), 1, "Concat", ()),
    (-1, 2, "C3k2", (512, False)),
    (-1, 1, "Upsample", ()),
    ((-1, 4), 1, "Concat", ()),
    (-1, 2, "C3k2", (256, False)),
    (-1, 1, "Conv", (256, 3, 2)),
    ((-1, 13), 1, "Concat", ()),
    (-1, 2, "C3k2", (512, False)),
    (-1, 1, "Conv", (512, 3, 2)),
    ((-1, 10), 1, "Concat", ()),
    (-1, 2, "C3k2", (1024, True)),
)
# Output stride of rows 0..22 (input pixels per output pixel).
_ROW_STRIDES: tuple[int, ...] = (2, 4, 4, 8, 8, 16, 16, 32, 32, 32, 32, 16, 16, 16, 8, 8, 8, 16, 16, 16, 32, 32, 32)
# Rows whose output a later row reads (Concat sources and the head's inputs).
_SAVED_INDICES = frozenset(
    {i for row in _YAML_ROWS if isinstance(row[0], tuple) for i in row[0] if i >= 0} | set(FEATURE_INDICES)
)


@dataclass
class ReferenceOutput:
    """Everything one forward computes.

    ``decoded``: (B, 56, A) eval output. ``raw``: ``boxes`` (B, 64, A) DFL logits, ``scores`` (B, 1, A) logits,
    ``kpts`` (B, 51, A) raw keypoints. ``layers``: output of yaml rows 0..22 by index. ``head``: per-level (B, C, H, W)
    branch outputs keyed ``box.<level>``, ``score.<level>``, ``kpt.<level>`` (level 0 = P3).
    """

    decoded: torch.Tensor
    raw: dict[str, torch.Tensor]
    layers: dict[int, torch.Tensor] = field(default_factory=dict)
    head: dict[str, torch.Tensor] = field(default_factory=dict)


def _check_input(x: torch.Tensor) -> None:
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"expected an input of shape (B, 3, H, W), got {tuple(x.shape)}")
    h, w = x.shape[2], x.shape[3]
    if h % MAX_STRIDE or w % MAX_STRIDE or h == 0 or w == 0:
        raise ValueError(
            f"input height and width must be positive multiples of {MAX_STRIDE}, got {h}x{w}; "
            "letterbox the image to such a size first (pytest_ttpose.pose.processing.letterbox)"
        )


class YoloV11Pose(nn.Module):
    """YOLO11-pose for one scale (n, s, m, l, x), nc=1, 17x3 keypoints, any (B, 3, H, W) with H, W multiples of 32."""

    def __init__(self, scale: str = "n") -> None:
        super().__init__()
        if scale not in SCALE_SPECS:
            raise ValueError(f"unknown YOLO11-pose scale {scale!r}; choose one of {', '.join(SCALES)}")
        self.scale = scale
        self.weights_source = "fresh torch init (no weights loaded)"
        spec = SCALE_SPECS[scale]
        self.sources: list[int | tuple[int, ...]] = []
        layers: list[nn.Module] = []
        out_channels: list[int] = []
        for index, (source, repeats, kind, args) in enumerate(_YAML_ROWS):
            c_in = out_channels[-1] if index else 3
            n = spec.repeats(repeats)
            layer: nn.Module
            if kind == "Conv":
                c_out = spec.channels(int(args[0]))  # type: ignore[call-overload]
                layer = Conv(c_in, c_out, int(args[1]), int(args[2]))  # type: ignore[call-overload]
            elif kind == "C3k2":
                c_out = spec.channels(int(args[0]))  # type: ignore[call-overload]
                c3k = bool(args[1]) or spec.forces_c3k
                expansion = float(args[2]) if len(args) > 2 else 0.5  # type: ignore[arg-type]
                layer = C3k2(c_in, c_out, n, c3k, expansion)
            elif kind == "SPPF":
                c_out = spec.channels(int(args[0]))  # type: ignore[call-overload]
                layer = SPPF(c_in, c_out, int(args[1]))  # type: ignore[call-overload]
            elif kind == "C2PSA":
                c_out = spec.channels(int(args[0]))  # type: ignore[call-overload]
                layer = C2PSA(c_in, c_out, n)
            elif kind == "Upsample":
                c_out = c_in
                layer = nn.Upsample(scale_factor=2.0, mode="nearest")
            else:  # Concat
                assert isinstance(source, tuple)
                c_out = sum(out_channels[i] if i >= 0 else c_in for i in source)
                layer = Concat()
            self.sources.append(source)
            layers.append(layer)
            out_channels.append(c_out)
        head_channels = tuple(out_channels[i] for i in FEATURE_INDICES)
        layers.append(Pose(NUM_CLASSES, KPT_SHAPE, head_channels))
        self.sources.append(FEATURE_INDICES)
        self.out_channels = out_channels
        self.model = nn.ModuleList(layers)

    @property
    def layers(self) -> nn.ModuleList:
        """Yaml rows 0..23 (23 = Pose head); ``layers[i]`` is Ultralytics' ``model.model[i]``."""
        return self.model

    @property
    def head(self) -> Pose:
        head = self.model[HEAD_INDEX]
        assert isinstance(head, Pose)
        return head

    def layer_input_channels(self, index: int) -> int:
        """Channels entering row ``index`` from the previous row (Concat rows also read another row)."""
        return 3 if index == 0 else self.out_channels[index - 1]

    def layer_output_shape(self, index: int, batch: int, height: int, width: int) -> tuple[int, int, int, int]:
        """(B, C, H, W) produced by row ``index`` (0..22) for a (batch, 3, height, width) input."""
        if not 0 <= index < HEAD_INDEX:
            raise ValueError(f"rows 0..{HEAD_INDEX - 1} have a single output shape, got {index}")
        stride = _ROW_STRIDES[index]
        return batch, self.out_channels[index], height // stride, width // stride

    def layer_input_shapes(self, index: int, batch: int, height: int, width: int) -> list[tuple[int, int, int, int]]:
        """Shapes of the tensors row ``index`` (0..23) reads, in call order: one for most rows, two for a Concat,
        three (P3, P4, P5) for the head."""
        source = self.sources[index]
        if index == 0:
            return [(batch, 3, height, width)]
        if not isinstance(source, tuple):
            return [self.layer_output_shape(index - 1, batch, height, width)]
        return [self.layer_output_shape(index - 1 if i == -1 else i, batch, height, width) for i in source]

    def run(self, x: torch.Tensor, keep_layers: bool = True) -> ReferenceOutput:
        """Forward keeping every layer's output, the per-level head maps and the raw head tensors.

        With ``keep_layers=False`` only the outputs later layers read are kept (less memory; ``layers`` is partial).
        """
        _check_input(x)
        outputs: dict[int, torch.Tensor] = {}
        y = x
        for index in range(HEAD_INDEX):
            source = self.sources[index]
            layer = self.model[index]
            if isinstance(source, tuple):
                y = layer([y if i == -1 else outputs[i] for i in source])
            else:
                y = layer(y)
            if keep_layers or index in _SAVED_INDICES:
                outputs[index] = y
        feats = [outputs[i] for i in FEATURE_INDICES]
        head = self.head
        maps = head.level_maps(feats)
        raw = head.raw_outputs(maps, x.shape[0])
        decoded = head.decode(raw, [(f.shape[2], f.shape[3]) for f in feats])
        return ReferenceOutput(decoded=decoded, raw=raw, layers=outputs, head=maps)

    def forward(self, x: torch.Tensor, return_raw: bool = False) -> torch.Tensor | ReferenceOutput:
        """(B, 56, A) decoded output; with ``return_raw=True`` the full :class:`ReferenceOutput` (same ``decoded``)."""
        result = self.run(x)
        return result if return_raw else result.decoded

    def decode(self, raw: dict[str, torch.Tensor], input_hw: tuple[int, int]) -> torch.Tensor:
        """Decode raw head tensors (e.g. a device's) exactly as this model does, for an input of ``input_hw``."""
        h, w = input_hw
        if h % MAX_STRIDE or w % MAX_STRIDE:
            raise ValueError(f"input height and width must be multiples of {MAX_STRIDE}, got {h}x{w}")
        sizes = [(h // int(s), w // int(s)) for s in self.head.stride]
        anchors = sum(a * b for a, b in sizes)
        if raw["boxes"].shape[-1] != anchors:
            raise ValueError(f"raw tensors have {raw['boxes'].shape[-1]} anchors, a {h}x{w} input gives {anchors}")
        return self.head.decode(raw, sizes)


def anchor_count(height: int, width: int) -> int:
    """A = sum over strides 8, 16, 32 of (H/s)*(W/s)."""
    return sum((height // s) * (width // s) for s in (8, 16, 32))

"""The torch reference: YOLO11-pose (nc=1, 17x3 keypoints) for scales n, s, m, l, x, and its weights.

``build_reference("n")`` gives the model with Ultralytics' real pretrained weights; other scales get a seeded,
BatchNorm-calibrated init (chaotic: fit for per-module tests only, see :mod:`pytest_ttpose.reference.weights`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from pytest_ttpose.reference.fuse import fold_conv_bn, fuse
from pytest_ttpose.reference.model import (
    FEATURE_INDICES,
    HEAD_INDEX,
    KPT_SHAPE,
    NUM_CLASSES,
    SCALES,
    ReferenceOutput,
    YoloV11Pose,
    anchor_count,
)
from pytest_ttpose.reference.weights import (
    SEEDED,
    WeightsError,
    check_state_dict,
    resolve_state_dict,
    weights_content_hash,
)

__all__ = [
    "FEATURE_INDICES",
    "HEAD_INDEX",
    "KPT_SHAPE",
    "NUM_CLASSES",
    "SCALES",
    "SEEDED",
    "ReferenceOutput",
    "WeightsError",
    "YoloV11Pose",
    "anchor_count",
    "build_reference",
    "fold_conv_bn",
    "fuse",
    "weights_content_hash",
]


def build_reference(
    scale: str = "n",
    weights: str | Path | Mapping[str, torch.Tensor] | None = None,
    trust_weights: bool = False,
    seed: int = 0,
) -> YoloV11Pose:
    """YOLO11-pose of ``scale`` in eval mode, gradients off.

    ``weights``: None (real weights for n, seeded calibrated init otherwise), ``"seeded"`` (seeded init for any
    scale), a state dict, or a file: a plain state dict, or an Ultralytics ``.pt`` checkpoint when
    ``trust_weights=True``. ``seed`` only matters for seeded weights. The model's ``weights_source`` says where its
    weights came from. Raises :class:`WeightsError` for unusable weights.
    """
    model = YoloV11Pose(scale)
    state, source = resolve_state_dict(scale, weights, trust_weights, seed)
    check_state_dict(state, model, source)
    model.load_state_dict(state, strict=True)
    model.weights_source = source
    return model.eval().requires_grad_(False)

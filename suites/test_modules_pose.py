"""Per-block PCC at the matrix's dtype pairs: one TT block fed the reference's own input for it, so errors do not
accumulate from the layers before (as tt-metal's per-module tests do).

The blocks are those of the TT model built for the smallest resolution of the matrix at batch 1 (shared with the
full-model suite when that point is in the matrix), with the real weights; the input is bus.jpg letterboxed to that
resolution, run through the reference to get every block's input. Conv, C3k2, SPPF and C2PSA are checked as one
tensor (``all``), the pose head per output component.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pytest_ttpose.harness.checks import CaseCheck
from pytest_ttpose.harness.fixture_types import InfraAt
from pytest_ttpose.harness.settings import BUNDLED_MODEL, DtypePair, MatrixPoint, Settings
from pytest_ttpose.pose.processing import preprocess
from pytest_ttpose.reference import FEATURE_INDICES
from pytest_ttpose.runner import YOLOv11PosePerformanceRunnerInfra
from pytest_ttpose.tt.model import feature_from_torch

# Block name -> its index in the model (YOLO11's yaml rows); the head is row 23.
BLOCKS = {"conv": 1, "c3k2": 2, "sppf": 9, "c2psa": 10, "pose_head": 23}


def _block_point(settings: Settings, pair: DtypePair) -> MatrixPoint:
    height, width = min(settings.resolutions, key=lambda hw: hw[0] * hw[1])
    return MatrixPoint(settings.model_scale, height, width, 1, pair.act, pair.weight)


@pytest.mark.parametrize("block", list(BLOCKS))
def test_modules_pose(
    block: str,
    ttpose_dtype_pair: DtypePair,
    ttpose_settings: Settings,
    ttpose_infra_at: InfraAt,
    ttpose_images: dict[str, np.ndarray],
    ttpose_check: CaseCheck,
) -> None:
    if ttpose_settings.model != BUNDLED_MODEL:
        pytest.skip(
            f"block tests feed the bundled model's blocks (pytest_ttpose.tt); {ttpose_settings.model} has no block "
            "map, so it is validated end to end by test_pcc_pose, test_e2e_performant_pose and test_trace_pose"
        )
    point = _block_point(ttpose_settings, ttpose_dtype_pair)
    infra = ttpose_infra_at(point)
    assert isinstance(infra, YOLOv11PosePerformanceRunnerInfra)
    tt_model = infra.tt_model
    torch_input, _ = preprocess([ttpose_images["bus.jpg"]], point.resolution)
    with torch.no_grad():
        reference = infra.reference_model.run(torch_input)
    index = BLOCKS[block]
    ttnn = tt_model.ctx.ttnn
    if block == "pose_head":
        features = [feature_from_torch(tt_model.ctx, reference.layers[i]) for i in FEATURE_INDICES]
        decoded, _, _ = tt_model.head(features)
        output = tt_model.output_to_torch(decoded)
        ttnn.deallocate(decoded)
        for feature in features:
            ttnn.deallocate(feature.tensor)
        assert output.shape == reference.decoded.shape
        ttpose_check.pcc(reference.decoded, output)
        return
    feature = feature_from_torch(tt_model.ctx, reference.layers[index - 1])
    result = tt_model.layers[index](feature)
    output = tt_model.feature_to_torch(result)
    for tensor in {id(t): t for t in (feature.tensor, result.tensor)}.values():
        if tensor.is_allocated():
            ttnn.deallocate(tensor)
    assert output.shape == reference.layers[index].shape
    ttpose_check.tensor_pcc(reference.layers[index], output)

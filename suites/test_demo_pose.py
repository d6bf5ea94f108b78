"""End to end on Ultralytics' sample images: the device's persons against the reference's.

bus.jpg (four persons) and zidane.jpg (two), letterboxed to the largest resolution of the matrix, batch 1, per
dtype pair: both outputs go through the same postprocessing (Ultralytics' predict thresholds), persons are matched
by COCO OKS with the reference as ground truth, and the case passes when both sides found the same persons and
their mean OKS is at least 0.95. When it fails, the side-by-side picture (reference left, device right, OKS per
person) goes into the report folder: next to ``--ttpose-report``, else ``.ttpose/pictures`` under the rootdir.

On the ttnn-mock dry run the device computes zeros, so there are no device persons to compare: the cases skip.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from pytest_ttpose.harness.backends import Backend
from pytest_ttpose.harness.fixture_types import InfraAt, PoseModelForward
from pytest_ttpose.harness.settings import DtypePair, MatrixPoint, Settings
from pytest_ttpose.pose.compare import compare_pose
from pytest_ttpose.pose.picture import render_comparison

MIN_MEAN_OKS = 0.95
IMAGES = {"bus": "bus.jpg", "zidane": "zidane.jpg"}


def picture_folder(config: pytest.Config, settings: Settings) -> Path:
    if settings.report_path is not None:
        return settings.report_path.parent / "pictures"
    return config.rootpath / ".ttpose" / "pictures"


@pytest.mark.parametrize("image", list(IMAGES))
def test_demo_pose(
    image: str,
    ttpose_dtype_pair: DtypePair,
    ttpose_settings: Settings,
    ttpose_backend: Backend,
    ttpose_infra_at: InfraAt,
    ttpose_images: dict[str, np.ndarray],
    request: pytest.FixtureRequest,
) -> None:
    if ttpose_backend.dry_run:
        pytest.skip("dry run: the mocked device computes zeros, so it detects no person to compare (OKS)")
    height, width = max(ttpose_settings.resolutions, key=lambda hw: hw[0] * hw[1])
    pair = ttpose_dtype_pair
    point = MatrixPoint(ttpose_settings.model_scale, height, width, 1, pair.act, pair.weight)
    infra = ttpose_infra_at(point)
    picture = ttpose_images[IMAGES[image]]
    comparison = compare_pose(picture, infra.reference_model, PoseModelForward(infra))
    assert comparison.reference_count > 0, f"the reference found no person on {IMAGES[image]}: wrong weights?"
    if comparison.passes(MIN_MEAN_OKS):
        return
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", request.node.name) + ".png"
    path = picture_folder(request.config, ttpose_settings) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    render_comparison(picture, comparison.reference, comparison.device, comparison.matching, path)
    lines = [f"{IMAGES[image]} at {point.id}: not the same persons with mean OKS >= {MIN_MEAN_OKS}"]
    lines += [f"  {line}" for line in comparison.summary_lines()]
    lines.append(f"picture (reference left, device right): {path}")
    pytest.fail("\n".join(lines), pytrace=False)

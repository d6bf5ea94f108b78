"""End to end: the real-weight reference + shared pre/post-processing find the persons Ultralytics' predict finds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from pytest_ttpose.pose.metrics import match_poses
from pytest_ttpose.pose.processing import PoseDetections, postprocess, preprocess
from pytest_ttpose.reference import YoloV11Pose
from pytest_ttpose.reference.weights import shipped_checkpoint_path

EXPECTED_PERSONS = {"bus.jpg": 4, "zidane.jpg": 2}


@pytest.fixture(scope="module")
def ultralytics_predictor() -> Any:
    from ultralytics import YOLO

    return YOLO(str(shipped_checkpoint_path()), task="pose")


@pytest.mark.parametrize("name", sorted(EXPECTED_PERSONS))
def test_reference_finds_the_persons_ultralytics_finds(
    name: str, reference_n: YoloV11Pose, ultralytics_predictor: Any, images: dict[str, np.ndarray]
) -> None:
    image = images[name]
    golden = ultralytics_predictor.predict(image, imgsz=640, verbose=False)[0]
    golden_poses = PoseDetections(
        boxes=golden.boxes.xyxy.numpy(), scores=golden.boxes.conf.numpy(), keypoints=golden.keypoints.data.numpy()
    )
    # Ultralytics' predictor letterboxes rectangularly (auto=True): use the very same input size.
    x, infos = preprocess(image, 640, auto=True)
    with torch.no_grad():
        ours = postprocess(reference_n(x), infos)[0]
    assert len(golden_poses) == EXPECTED_PERSONS[name]
    assert len(ours) == len(golden_poses)
    matching = match_poses(golden_poses, ours)
    assert matching.unmatched_reference_count == 0 and matching.unmatched_candidate_count == 0
    assert matching.min_oks >= 0.99, [p.oks for p in matching.pairs]
    for pair in matching.pairs:
        np.testing.assert_allclose(ours.boxes[pair.candidate_index], golden_poses.boxes[pair.reference_index], atol=0.5)
        np.testing.assert_allclose(
            ours.scores[pair.candidate_index], golden_poses.scores[pair.reference_index], atol=1e-3
        )


def test_preprocess_equals_the_predictor(ultralytics_predictor: Any, images: dict[str, np.ndarray]) -> None:
    for name, image in images.items():
        ultralytics_predictor.predict(image, imgsz=640, verbose=False)  # sets up the predictor
        golden = ultralytics_predictor.predictor.preprocess([image])
        ours, infos = preprocess(image, 640, auto=True)
        assert ours.shape == golden.shape, name
        assert torch.equal(ours, golden), name
        assert infos[0].input_hw == tuple(golden.shape[2:])

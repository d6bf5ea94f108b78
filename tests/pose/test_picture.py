"""The side-by-side comparison picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pytest_ttpose.pose.metrics import match_poses
from pytest_ttpose.pose.picture import render_comparison
from pytest_ttpose.pose.processing import PoseDetections


def _person(x0: float, y0: float, score: float) -> PoseDetections:
    rng = np.random.default_rng(int(x0))
    xy = np.stack([x0 + rng.uniform(0, 80, 17), y0 + rng.uniform(0, 160, 17)], -1)
    keypoints = np.concatenate([xy, np.full((17, 1), 0.9)], -1)
    return PoseDetections(np.array([[x0, y0, x0 + 80, y0 + 160]]), np.array([score]), keypoints[None])


def _merge(*sets: PoseDetections) -> PoseDetections:
    return PoseDetections(
        np.concatenate([s.boxes for s in sets]),
        np.concatenate([s.scores for s in sets]),
        np.concatenate([s.keypoints for s in sets]),
    )


def test_render_comparison_writes_both_panels(tmp_path: Path) -> None:
    import cv2

    image = np.full((300, 400, 3), 40, np.uint8)
    reference = _merge(_person(20, 30, 0.9), _person(200, 60, 0.8))
    device = _merge(_person(22, 31, 0.88), _person(300, 100, 0.5))  # one matching person, one stray
    matching = match_poses(reference, device)
    out = render_comparison(image, reference, device, matching, tmp_path / "sub" / "bus.png")
    assert out.is_file()
    picture = cv2.imread(str(out))
    assert picture.shape == (300, 2 * 400 + 8, 3)
    left, right = picture[:, :400], picture[:, 408:]
    assert (left != image).any() and (right != image).any()
    assert not np.array_equal(left, right)
    assert (picture[:, 400:408] == 255).all()


def test_render_comparison_refuses_bad_input(tmp_path: Path) -> None:
    empty = PoseDetections()
    matching = match_poses(empty, empty)
    with pytest.raises(ValueError, match="PNG"):
        render_comparison(np.zeros((10, 10, 3), np.uint8), empty, empty, matching, tmp_path / "x.jpg")
    with pytest.raises(ValueError, match="uint8"):
        render_comparison(np.zeros((10, 10, 3), np.float32), empty, empty, matching, tmp_path / "x.png")

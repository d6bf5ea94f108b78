"""Shared pre/post-processing against Ultralytics' own functions (the golden model, imported only here)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

from pytest_ttpose.pose.metrics import BOX_AREA_FACTOR, OKS_SIGMAS, match_poses, oks_matrix
from pytest_ttpose.pose.processing import (
    PoseDetections,
    letterbox,
    letterbox_info,
    non_max_suppression,
    postprocess,
    preprocess,
    scale_boxes_to_original,
    scale_keypoints_to_original,
)

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", str(Path(tempfile.gettempdir()) / "ttpose-yolo-config"))


@pytest.fixture(scope="module")
def images() -> dict[str, np.ndarray]:
    from pytest_ttpose.pose.assets import load_image

    return {name: load_image(name) for name in ("bus.jpg", "zidane.jpg")}


@pytest.fixture(scope="module")
def bus_output(images: dict[str, np.ndarray]) -> tuple[torch.Tensor, list]:
    """The real-weight reference's (1, 56, A) output for bus.jpg at 640x480 and its letterbox info."""
    from pytest_ttpose.reference import build_reference

    x, infos = preprocess(images["bus.jpg"], 640, auto=True)
    with torch.no_grad():
        return build_reference("n")(x), infos


def _random_poses(n: int, seed: int) -> PoseDetections:
    rng = np.random.default_rng(seed)
    corner = rng.uniform(0, 400, (n, 2))
    size = rng.uniform(50, 200, (n, 2))
    keypoints = np.concatenate(
        [corner[:, None] + rng.uniform(0, 1, (n, 17, 2)) * size[:, None], rng.uniform(0.01, 1, (n, 17, 1))], -1
    )
    return PoseDetections(np.concatenate([corner, corner + size], 1), rng.uniform(0.3, 1, n), keypoints)


@pytest.mark.parametrize(
    ("target", "auto"), [(640, False), (320, False), ((320, 480), False), ((480, 320), False), (640, True), (320, True)]
)
def test_letterbox_equals_ultralytics(images: dict[str, np.ndarray], target: int | tuple[int, int], auto: bool) -> None:
    from ultralytics.data.augment import LetterBox

    for name, image in images.items():
        golden = LetterBox(target, auto=auto, stride=32)(image=image)
        ours, info = letterbox(image, target, auto=auto)
        assert ours.shape == golden.shape, name
        assert np.array_equal(ours, golden), name
        assert info.input_hw == golden.shape[:2]
        assert info.original_hw == image.shape[:2]


def test_rectangular_letterbox_size() -> None:
    assert letterbox_info((1080, 810), 640, auto=True).input_hw == (640, 480)  # bus.jpg
    assert letterbox_info((720, 1280), 640, auto=True).input_hw == (384, 640)  # zidane.jpg


def test_preprocess_layout(images: dict[str, np.ndarray]) -> None:
    x, infos = preprocess([images["bus.jpg"], images["zidane.jpg"]], 320)
    assert x.shape == (2, 3, 320, 320) and x.dtype == torch.float32
    boxed, _ = letterbox(images["zidane.jpg"], 320)
    expected = torch.from_numpy(boxed[..., ::-1].copy()).permute(2, 0, 1).float() / 255  # RGB, 0..1, CHW
    assert torch.equal(x[1], expected)
    assert [i.original_hw for i in infos] == [images["bus.jpg"].shape[:2], images["zidane.jpg"].shape[:2]]
    with pytest.raises(ValueError, match="different sizes"):
        preprocess([images["bus.jpg"], images["zidane.jpg"]], 640, auto=True)


@pytest.mark.parametrize(("conf", "iou", "max_det"), [(0.25, 0.7, 300), (0.01, 0.7, 300), (0.001, 0.5, 20)])
def test_nms_equals_ultralytics(bus_output: tuple[torch.Tensor, list], conf: float, iou: float, max_det: int) -> None:
    from ultralytics.utils.nms import non_max_suppression as golden_nms

    prediction, _ = bus_output
    batch = torch.cat([prediction, prediction.flip(-1)])  # two images with different anchor orders
    golden = golden_nms(batch.clone(), conf, iou, max_det=max_det, nc=1)
    ours = non_max_suppression(batch.clone(), conf, iou, max_det=max_det)
    assert len(ours) == len(golden) == 2
    for ours_rows, golden_rows in zip(ours, golden, strict=True):
        assert ours_rows.shape == golden_rows.shape
        assert ours_rows.shape[0] > 0
        torch.testing.assert_close(ours_rows, golden_rows, rtol=0, atol=0)


def test_mapping_to_the_original_equals_ultralytics(bus_output: tuple[torch.Tensor, list]) -> None:
    from ultralytics.utils import ops

    prediction, infos = bus_output
    rows = non_max_suppression(prediction, 0.01)[0]
    info = infos[0]
    golden_boxes = ops.scale_boxes(info.input_hw, rows[:, :4].clone(), info.original_hw)
    golden_kpts = ops.scale_coords(info.input_hw, rows[:, 6:].view(-1, 17, 3).clone(), info.original_hw)
    np.testing.assert_allclose(scale_boxes_to_original(rows[:, :4].numpy(), info), golden_boxes.numpy(), atol=1e-4)
    np.testing.assert_allclose(
        scale_keypoints_to_original(rows[:, 6:].view(-1, 17, 3).numpy(), info), golden_kpts.numpy(), atol=1e-4
    )
    detections = postprocess(prediction, infos, conf_thres=0.01)[0]
    np.testing.assert_allclose(detections.boxes, golden_boxes.numpy(), atol=1e-4)
    np.testing.assert_allclose(detections.keypoints, golden_kpts.numpy(), atol=1e-4)
    np.testing.assert_array_equal(detections.scores, rows[:, 4].numpy())


def test_nms_refuses_other_layouts() -> None:
    with pytest.raises(ValueError, match=r"\(B, 56, A\)"):
        non_max_suppression(torch.zeros(1, 84, 100))


def test_oks_equals_ultralytics_kpt_iou() -> None:
    from ultralytics.utils.metrics import kpt_iou

    reference, candidate = _random_poses(5, 0), _random_poses(7, 1)
    candidate.keypoints[:3] = reference.keypoints[:3] + np.random.default_rng(2).normal(0, 3, (3, 17, 3))
    reference.keypoints[1, :5, 2] = 0.0  # not visible in the reference: not counted
    wh = reference.boxes[:, 2:] - reference.boxes[:, :2]
    golden = kpt_iou(
        torch.from_numpy(reference.keypoints).double(),
        torch.from_numpy(candidate.keypoints).double(),
        torch.from_numpy(wh[:, 0] * wh[:, 1] * BOX_AREA_FACTOR).double(),
        OKS_SIGMAS.tolist(),
    )
    np.testing.assert_allclose(oks_matrix(reference, candidate), golden.numpy(), rtol=1e-6, atol=1e-9)


def test_oks_of_a_set_with_itself_is_one() -> None:
    poses = _random_poses(6, 3)
    np.testing.assert_allclose(np.diag(oks_matrix(poses, poses)), 1.0, atol=1e-6)
    matching = match_poses(poses, poses)
    assert [(p.reference_index, p.candidate_index) for p in matching.pairs] == [
        (i, i) for i in np.argsort(-poses.scores)
    ]
    assert matching.mean_oks == pytest.approx(1.0, abs=1e-6)
    assert matching.unmatched_reference_count == matching.unmatched_candidate_count == 0


def test_oks_falls_with_distance() -> None:
    poses = _random_poses(1, 4)
    values = []
    for shift in (0.0, 2.0, 8.0, 32.0):
        moved = PoseDetections(poses.boxes, poses.scores, poses.keypoints + np.array([shift, 0.0, 0.0]))
        values.append(float(oks_matrix(poses, moved)[0, 0]))
    assert values[0] == pytest.approx(1.0) and values == sorted(values, reverse=True) and values[-1] < 0.5


def test_matching_pairs_shuffled_sets_and_counts_leftovers() -> None:
    reference = _random_poses(4, 5)
    order = [2, 0, 3, 1]
    candidate = PoseDetections(reference.boxes[order], reference.scores[order], reference.keypoints[order] + 1.0)
    extra = _random_poses(1, 6)
    extra.keypoints += 5000.0  # far away from everyone
    with_extra = PoseDetections(
        np.concatenate([candidate.boxes, extra.boxes]),
        np.concatenate([candidate.scores, extra.scores]),
        np.concatenate([candidate.keypoints, extra.keypoints]),
    )
    matching = match_poses(reference, with_extra)
    assert {p.reference_index: p.candidate_index for p in matching.pairs} == {r: order.index(r) for r in range(4)}
    assert matching.unmatched_candidate == [4] and matching.unmatched_reference == []
    assert 0.9 < matching.mean_oks < 1.0
    fewer = match_poses(reference, PoseDetections(candidate.boxes[:2], candidate.scores[:2], candidate.keypoints[:2]))
    assert fewer.unmatched_reference_count == 2 and len(fewer.pairs) == 2


def test_matching_empty_sets() -> None:
    empty = PoseDetections()
    assert match_poses(empty, empty).mean_oks == 1.0
    one = _random_poses(1, 7)
    assert match_poses(one, empty).mean_oks == 0.0 and match_poses(one, empty).unmatched_reference == [0]
    assert match_poses(empty, one).unmatched_candidate == [0]


def test_pose_detections_validate_sizes() -> None:
    with pytest.raises(ValueError, match="inconsistent"):
        PoseDetections(np.zeros((2, 4)), np.zeros(3), np.zeros((2, 17, 3)))

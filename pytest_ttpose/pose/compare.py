"""Reference vs device on real images, as persons: run both models, postprocess both the same way, match, score OKS.

This is what "device detections match reference detections" means everywhere in the project (the demo picture, the
``test_demo_pose`` suite): both (B, 56, A) outputs go through the shared
:func:`pytest_ttpose.pose.processing.postprocess` (same confidence and IoU thresholds), persons are matched greedily
by COCO OKS with the reference as ground truth (:func:`pytest_ttpose.pose.metrics.match_poses`), and the result can be
drawn side by side (:func:`pytest_ttpose.pose.picture.render_comparison`).

Three entry points, from the most to the least work done here:
:func:`compare_pose` (one image, the two models), :func:`compare_pose_batch` (a full batch of images, the two models),
:func:`compare_pose_outputs` (one image and the two outputs someone already computed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from pytest_ttpose.pose.metrics import PoseMatching, match_poses
from pytest_ttpose.pose.picture import render_comparison
from pytest_ttpose.pose.processing import LetterboxInfo, PoseDetections, postprocess, preprocess

# Ultralytics' predict defaults: what a user of the model would see.
DEFAULT_CONF = 0.25
DEFAULT_IOU = 0.7


@dataclass(frozen=True)
class PersonComparison:
    """One row of the comparison: a matched pair, or a person only one side found (the other index is None)."""

    reference_index: int | None
    device_index: int | None
    reference_score: float | None
    device_score: float | None
    oks: float | None

    @property
    def matched(self) -> bool:
        return self.oks is not None

    def summary(self) -> str:
        if self.reference_index is not None and self.device_index is not None:
            return (
                f"person ref #{self.reference_index} / device #{self.device_index}: "
                f"score ref {self.reference_score:.3f} / device {self.device_score:.3f}, OKS {self.oks:.3f}"
            )
        if self.reference_index is not None:
            return f"person ref #{self.reference_index}: score ref {self.reference_score:.3f}, no device match"
        return f"person device #{self.device_index}: score device {self.device_score:.3f}, no reference match"


@dataclass(frozen=True)
class PoseComparison:
    """Reference and device persons of one image (original-image pixels), their matching and per-person OKS."""

    reference: PoseDetections
    device: PoseDetections
    matching: PoseMatching
    letterbox: LetterboxInfo
    picture: Path | None = None

    @property
    def reference_count(self) -> int:
        return len(self.reference)

    @property
    def device_count(self) -> int:
        return len(self.device)

    @property
    def matched_count(self) -> int:
        return len(self.matching.pairs)

    @property
    def mean_oks(self) -> float:
        return self.matching.mean_oks

    @property
    def min_oks(self) -> float:
        return self.matching.min_oks

    @property
    def persons(self) -> list[PersonComparison]:
        """Matched pairs (reference score order), then unmatched reference persons, then unmatched device ones."""
        rows = [
            PersonComparison(
                pair.reference_index,
                pair.candidate_index,
                float(self.reference.scores[pair.reference_index]),
                float(self.device.scores[pair.candidate_index]),
                pair.oks,
            )
            for pair in self.matching.pairs
        ]
        rows += [
            PersonComparison(index, None, float(self.reference.scores[index]), None, None)
            for index in self.matching.unmatched_reference
        ]
        rows += [
            PersonComparison(None, index, None, float(self.device.scores[index]), None)
            for index in self.matching.unmatched_candidate
        ]
        return rows

    def same_persons(self) -> bool:
        """Both sides found the same number of persons and every one of them has a partner."""
        return self.reference_count == self.device_count == self.matched_count

    def passes(self, min_mean_oks: float) -> bool:
        """The acceptance bar: the same persons on both sides and a mean OKS of at least ``min_mean_oks``."""
        return self.same_persons() and self.mean_oks >= min_mean_oks

    def summary_lines(self) -> list[str]:
        """One line per person, then the counts and the mean OKS."""
        lines = [row.summary() for row in self.persons]
        lines.append(
            f"persons: reference {self.reference_count}, device {self.device_count}, matched {self.matched_count}; "
            f"mean OKS {self.mean_oks:.3f} (min {self.min_oks:.3f})"
        )
        return lines


def _single_output(output: torch.Tensor, who: str) -> torch.Tensor:
    if output.dim() == 2:
        output = output.unsqueeze(0)
    if output.dim() != 3 or output.shape[0] != 1:
        raise ValueError(f"{who} output must be one image's (56, A) or (1, 56, A), got {tuple(output.shape)}")
    return output.float()


def compare_pose_outputs(
    image_bgr: np.ndarray,
    reference_output: torch.Tensor,
    device_output: torch.Tensor,
    letterbox: LetterboxInfo,
    *,
    conf: float = DEFAULT_CONF,
    iou: float = DEFAULT_IOU,
    picture_path: str | Path | None = None,
) -> PoseComparison:
    """Compare two (1, 56, A) outputs for ``image_bgr`` letterboxed as ``letterbox`` says; draw them if asked.

    ``picture_path`` (a .png) gets the side-by-side picture of :func:`pytest_ttpose.pose.picture.render_comparison`.
    """
    reference_rows = _single_output(reference_output, "reference")
    device_rows = _single_output(device_output, "device")
    if reference_rows.shape != device_rows.shape:
        raise ValueError(
            f"reference output {tuple(reference_rows.shape)} and device output {tuple(device_rows.shape)} differ in "
            "shape; run both on the same input"
        )
    if tuple(image_bgr.shape[:2]) != tuple(letterbox.original_hw):
        raise ValueError(f"the image is {image_bgr.shape[:2]} but the letterbox info is for {letterbox.original_hw}")
    (reference,) = postprocess(reference_rows, [letterbox], conf_thres=conf, iou_thres=iou)
    (device,) = postprocess(device_rows, [letterbox], conf_thres=conf, iou_thres=iou)
    matching = match_poses(reference, device)
    picture = None
    if picture_path is not None:
        picture = render_comparison(image_bgr, reference, device, matching, picture_path)
    return PoseComparison(reference, device, matching, letterbox, picture)


class DeviceForward(Protocol):
    """A model under test as the comparison sees it: its input resolution, the batch one call takes, and a call
    from a (B, 3, H, W) float batch to the (B, 56, A) decoded output. ``pytest_ttpose.tt.run.TtModelForward``
    adapts a TT model to it."""

    @property
    def resolution(self) -> tuple[int, int]: ...

    @property
    def global_batch(self) -> int: ...

    def __call__(self, torch_input: torch.Tensor) -> torch.Tensor: ...


def compare_pose_batch(
    images_bgr: Sequence[np.ndarray],
    reference_model: torch.nn.Module,
    device_model: DeviceForward,
    *,
    conf: float = DEFAULT_CONF,
    iou: float = DEFAULT_IOU,
    picture_paths: Sequence[str | Path | None] | None = None,
) -> list[PoseComparison]:
    """Letterbox the images to the TT model's resolution, run both models on the batch, compare image by image.

    ``images_bgr`` must fill the device model's global batch (for a TT model: its batch times the chips of its mesh).
    ``picture_paths``, when given, holds one .png path (or None) per image.
    """
    batch = device_model.global_batch
    if len(images_bgr) != batch:
        raise ValueError(
            f"the TT model runs batches of {batch} images, got {len(images_bgr)}; pass that many images, or use "
            "compare_pose() for one image"
        )
    paths: Sequence[str | Path | None] = [None] * batch if picture_paths is None else picture_paths
    if len(paths) != batch:
        raise ValueError(f"{len(paths)} picture paths for {batch} images; give one per image (None for no picture)")
    torch_input, letterboxes = preprocess(list(images_bgr), device_model.resolution)
    with torch.inference_mode():
        reference_output = reference_model(torch_input)
    device_output = device_model(torch_input)
    return [
        compare_pose_outputs(
            image,
            reference_output[index : index + 1],
            device_output[index : index + 1],
            letterbox,
            conf=conf,
            iou=iou,
            picture_path=paths[index],
        )
        for index, (image, letterbox) in enumerate(zip(images_bgr, letterboxes, strict=True))
    ]


def compare_pose(
    image_bgr: np.ndarray,
    reference_model: torch.nn.Module,
    device_model: DeviceForward,
    *,
    conf: float = DEFAULT_CONF,
    iou: float = DEFAULT_IOU,
    picture_path: str | Path | None = None,
) -> PoseComparison:
    """One image through both models (repeated to fill a TT model built for a larger batch; the first copy is
    compared), postprocessed, matched and optionally drawn to ``picture_path``."""
    batch = device_model.global_batch
    paths: list[str | Path | None] = [picture_path] + [None] * (batch - 1)
    return compare_pose_batch(
        [image_bgr] * batch, reference_model, device_model, conf=conf, iou=iou, picture_paths=paths
    )[0]


__all__ = [
    "DEFAULT_CONF",
    "DEFAULT_IOU",
    "DeviceForward",
    "PersonComparison",
    "PoseComparison",
    "compare_pose",
    "compare_pose_batch",
    "compare_pose_outputs",
]

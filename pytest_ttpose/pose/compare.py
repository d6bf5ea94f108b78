"""Reference vs device on real images, as persons: run both models, postprocess both the same way, match, score OKS.

This is what "device detections match reference detections" means everywhere in the project (the demo picture, the
``test_demo_pose`` suite, the TT model's tests): both (B, 56, A) outputs go through the shared
:func:`pytest_ttpose.pose.processing.postprocess` (same IoU threshold), persons are matched greedily by COCO OKS with
the reference as ground truth (:func:`pytest_ttpose.pose.metrics.match_poses`), and the result can be drawn side by
side (:func:`pytest_ttpose.pose.picture.render_comparison`).

Persons near a threshold are borderline (``pytest_ttpose.pose.acceptance.person_role``): near the confidence threshold
(both sides are postprocessed down to ``conf - CONFIDENCE_BAND``), or near-duplicates of a higher-scored person of
their side (box IoU near the NMS threshold). Every *confident* person must have a partner, a borderline one need not,
and counts and OKS are taken over the rows with a confident person. So a person at a threshold cannot make the
comparison depend on the CPU it runs on.

Three entry points, from the most to the least work done here:
:func:`compare_pose` (one image, the two models), :func:`compare_pose_batch` (a full batch of images, the two models),
:func:`compare_pose_outputs` (one image and the two outputs someone already computed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from pytest_ttpose.pose.acceptance import CONFIDENCE_BAND, PersonRole, person_role
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
    # Neither side's person is confident: the row is shown but not counted (see the module doc).
    borderline: bool = False

    @property
    def matched(self) -> bool:
        return self.oks is not None

    def summary(self) -> str:
        prefix = "borderline, not counted: " if self.borderline else ""
        if self.reference_index is not None and self.device_index is not None:
            return (
                f"{prefix}person ref #{self.reference_index} / device #{self.device_index}: "
                f"score ref {self.reference_score:.3f} / device {self.device_score:.3f}, OKS {self.oks:.3f}"
            )
        if self.reference_index is not None:
            return f"{prefix}person ref #{self.reference_index}: score ref {self.reference_score:.3f}, no device match"
        return f"{prefix}person device #{self.device_index}: score device {self.device_score:.3f}, no reference match"


@dataclass(frozen=True)
class PoseComparison:
    """Reference and device persons of one image (original-image pixels, every person scoring ``conf -
    CONFIDENCE_BAND`` or more), their matching and per-person OKS; counts and OKS are over confident persons."""

    reference: PoseDetections
    device: PoseDetections
    matching: PoseMatching
    letterbox: LetterboxInfo
    # The role of each reference / device person (pytest_ttpose.pose.acceptance.person_role), in detection order.
    reference_roles: tuple[PersonRole, ...]
    device_roles: tuple[PersonRole, ...]
    conf: float = DEFAULT_CONF
    picture: Path | None = None

    @property
    def reference_count(self) -> int:
        """Confident reference persons."""
        return self.reference_roles.count("confident")

    @property
    def device_count(self) -> int:
        """Confident device persons."""
        return self.device_roles.count("confident")

    @property
    def matched_count(self) -> int:
        return sum(row.matched for row in self.persons)

    @property
    def mean_oks(self) -> float:
        """Mean OKS of the counted pairs: 1.0 when no person counts, 0.0 when persons count but none matched."""
        oks = [row.oks for row in self.persons if row.oks is not None]
        if oks:
            return float(np.mean(oks))
        return 0.0 if self.persons else 1.0

    @property
    def min_oks(self) -> float:
        return min((row.oks for row in self.persons if row.oks is not None), default=self.mean_oks)

    @property
    def persons(self) -> list[PersonComparison]:
        """The counted rows (a confident person on at least one side): matched pairs (reference score order), then
        unmatched reference persons, then unmatched device ones."""
        return [row for row in self._rows() if not row.borderline]

    @property
    def borderline(self) -> list[PersonComparison]:
        """Rows of borderline persons only: shown, never counted."""
        return [row for row in self._rows() if row.borderline]

    def _rows(self) -> list[PersonComparison]:
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
        return [
            replace(
                row,
                borderline=not (
                    (row.reference_index is not None and self.reference_roles[row.reference_index] == "confident")
                    or (row.device_index is not None and self.device_roles[row.device_index] == "confident")
                ),
            )
            for row in rows
        ]

    def same_persons(self) -> bool:
        """Every confident person on either side has a partner (borderline persons may or may not)."""
        return all(row.matched for row in self.persons)

    def passes(self, min_mean_oks: float) -> bool:
        """The acceptance bar: the same persons on both sides and a mean OKS of at least ``min_mean_oks``."""
        return self.same_persons() and self.mean_oks >= min_mean_oks

    def summary_lines(self) -> list[str]:
        """One line per counted person, then the borderline ones, then the counts and the mean OKS."""
        lines = [row.summary() for row in self.persons + self.borderline]
        lines.append(
            f"persons: reference {self.reference_count}, device {self.device_count}, matched {self.matched_count}; "
            f"mean OKS {self.mean_oks:.3f} (min {self.min_oks:.3f}); counted: score >= "
            f"{self.conf + CONFIDENCE_BAND:.2f} and no near-duplicate, borderline rows {len(self.borderline)}"
        )
        return lines


def _single_output(output: torch.Tensor, who: str) -> torch.Tensor:
    if output.dim() == 2:
        output = output.unsqueeze(0)
    if output.dim() != 3 or output.shape[0] != 1:
        raise ValueError(f"{who} output must be one image's (56, A) or (1, 56, A), got {tuple(output.shape)}")
    return output.float()


def compare_outputs(
    reference_output: torch.Tensor,
    device_output: torch.Tensor,
    letterbox: LetterboxInfo,
    *,
    conf: float = DEFAULT_CONF,
    iou: float = DEFAULT_IOU,
) -> PoseComparison:
    """Compare two (1, 56, A) outputs of one image letterboxed as ``letterbox`` says (no picture)."""
    reference_rows = _single_output(reference_output, "reference")
    device_rows = _single_output(device_output, "device")
    if reference_rows.shape != device_rows.shape:
        raise ValueError(
            f"reference output {tuple(reference_rows.shape)} and device output {tuple(device_rows.shape)} differ in "
            "shape; run both on the same input"
        )
    # Down to the borderline band's lower edge: a person the other side scores just above the threshold has a
    # partner to match (NMS keeps the same persons above the threshold: lower-scored boxes never suppress them).
    lowest = max(conf - CONFIDENCE_BAND, 0.0)
    (reference,) = postprocess(reference_rows, [letterbox], conf_thres=lowest, iou_thres=iou)
    (device,) = postprocess(device_rows, [letterbox], conf_thres=lowest, iou_thres=iou)
    return PoseComparison(
        reference,
        device,
        match_poses(reference, device),
        letterbox,
        _roles(reference, conf, iou),
        _roles(device, conf, iou),
        conf,
    )


def _roles(persons: PoseDetections, conf: float, iou: float) -> tuple[PersonRole, ...]:
    """Each person's role, from its score and its largest box IoU with a higher-scored person of the same image."""
    boxes = persons.boxes.astype(np.float64)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    top_left = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    bottom_right = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    intersection = np.clip(bottom_right - top_left, 0.0, None).prod(-1)
    overlaps = intersection / np.maximum(areas[:, None] + areas[None, :] - intersection, 1e-9)
    higher = persons.scores[None, :] > persons.scores[:, None]  # [i, j]: j scores higher than i
    largest = np.where(higher, overlaps, 0.0).max(axis=1, initial=0.0)
    return tuple(person_role(float(s), conf, float(o), iou) for s, o in zip(persons.scores, largest, strict=True))


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
    if tuple(image_bgr.shape[:2]) != tuple(letterbox.original_hw):
        raise ValueError(f"the image is {image_bgr.shape[:2]} but the letterbox info is for {letterbox.original_hw}")
    comparison = compare_outputs(reference_output, device_output, letterbox, conf=conf, iou=iou)
    if picture_path is None:
        return comparison
    picture = render_comparison(image_bgr, comparison.reference, comparison.device, comparison.matching, picture_path)
    return replace(comparison, picture=picture)


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
    "compare_outputs",
    "compare_pose",
    "compare_pose_batch",
    "compare_pose_outputs",
]

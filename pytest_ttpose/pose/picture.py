"""Side-by-side picture of the reference's and the device's persons, for a human to look at when a test fails.

Left panel: reference; right panel: device. Each person gets its box, the COCO skeleton (keypoints with visibility
below 0.5 are not drawn, as in Ultralytics' plots) and a label ``#<index> <score> OKS <value>`` (``unmatched`` when it
has no partner in the matching).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pytest_ttpose.pose.metrics import PoseMatching
from pytest_ttpose.pose.processing import PoseDetections

# COCO skeleton with 1-based keypoint indices (Ultralytics' Annotator table).
SKELETON_1_BASED: tuple[tuple[int, int], ...] = (
    (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8), (7, 9),
    (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7),
)  # fmt: skip
VISIBILITY_THRESHOLD = 0.5
# BGR colours: limbs by body part (legs, torso, arms, head), boxes per panel.
_LEG, _TORSO, _ARM, _HEAD = (255, 128, 0), (51, 153, 255), (0, 255, 0), (255, 51, 255)
_LIMB_COLOURS = [_LEG] * 4 + [_TORSO] * 4 + [_ARM] * 4 + [_HEAD] * 7
_REFERENCE_BOX = (0, 200, 0)
_DEVICE_BOX = (0, 140, 255)
_UNMATCHED_BOX = (0, 0, 255)


def _draw_panel(
    image_bgr: np.ndarray,
    detections: PoseDetections,
    oks_of: list[float | None],
    title: str,
    box_colour: tuple[int, int, int],
) -> np.ndarray:
    import cv2

    canvas = np.ascontiguousarray(image_bgr.copy())
    thickness = max(1, round(sum(canvas.shape[:2]) / 600))
    font_scale = max(0.4, sum(canvas.shape[:2]) / 3000)
    for index in range(len(detections)):
        x1, y1, x2, y2 = (int(round(float(v))) for v in detections.boxes[index])
        oks = oks_of[index]
        colour = box_colour if oks is not None else _UNMATCHED_BOX
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, thickness, cv2.LINE_AA)
        label = f"#{index} {detections.scores[index]:.2f} " + (f"OKS {oks:.3f}" if oks is not None else "unmatched")
        cv2.putText(canvas, label, (x1, max(y1 - 4, 12)), cv2.FONT_HERSHEY_SIMPLEX, font_scale, colour, thickness)
        keypoints = detections.keypoints[index]
        for (a, b), limb_colour in zip(SKELETON_1_BASED, _LIMB_COLOURS, strict=True):
            pa, pb = keypoints[a - 1], keypoints[b - 1]
            if pa[2] < VISIBILITY_THRESHOLD or pb[2] < VISIBILITY_THRESHOLD:
                continue
            pt_a = (int(round(float(pa[0]))), int(round(float(pa[1]))))
            pt_b = (int(round(float(pb[0]))), int(round(float(pb[1]))))
            cv2.line(canvas, pt_a, pt_b, limb_colour, thickness, cv2.LINE_AA)
        for x, y, vis in keypoints:
            if vis >= VISIBILITY_THRESHOLD:
                cv2.circle(canvas, (int(round(float(x))), int(round(float(y)))), thickness + 2, (0, 0, 255), -1)
    cv2.putText(
        canvas,
        title,
        (8, 8 + int(30 * font_scale)),
        cv2.FONT_HERSHEY_SIMPLEX,
        font_scale * 1.3,
        (255, 255, 255),
        thickness + 1,
    )
    return canvas


def render_comparison(
    image_bgr: np.ndarray,
    reference: PoseDetections,
    device: PoseDetections,
    matches: PoseMatching,
    out_path: str | Path,
) -> Path:
    """Draw both detection sets (in ``image_bgr`` pixels) side by side and save a PNG; returns the written path."""
    import cv2

    if image_bgr.ndim != 3 or image_bgr.shape[2] != 3 or image_bgr.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 BGR image, got {image_bgr.shape} {image_bgr.dtype}")
    out = Path(out_path)
    if out.suffix.lower() != ".png":
        raise ValueError(f"{out}: the picture is written as PNG; give a path ending in .png")
    reference_oks = [matches.oks_of_reference(i) for i in range(len(reference))]
    device_oks = [matches.oks_of_candidate(i) for i in range(len(device))]
    left = _draw_panel(image_bgr, reference, reference_oks, f"reference: {len(reference)} persons", _REFERENCE_BOX)
    right = _draw_panel(
        image_bgr, device, device_oks, f"device: {len(device)} persons, mean OKS {matches.mean_oks:.3f}", _DEVICE_BOX
    )
    gap = np.full((image_bgr.shape[0], 8, 3), 255, np.uint8)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), np.hstack((left, gap, right))):
        raise OSError(f"{out}: could not write the PNG")
    return out

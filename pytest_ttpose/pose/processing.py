"""Pre- and post-processing shared by every backend: pure functions, no Ultralytics import.

- :func:`letterbox` / :func:`preprocess`: resize keeping the aspect ratio (cv2 INTER_LINEAR), pad with 114 centred,
  BGR -> RGB, /255, NCHW float32: what Ultralytics' predictor feeds the model.
- :func:`non_max_suppression`: confidence filter + torchvision NMS for the (B, 56, A) pose output, as Ultralytics'
  ``non_max_suppression`` with nc=1 (keypoints ride along, NMS uses the boxes only).
- :func:`postprocess`: NMS, then boxes and keypoints mapped back to original-image pixels, as :class:`PoseDetections`.

OKS matching of two detection sets lives in :mod:`pytest_ttpose.pose.metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

PAD_VALUE = 114
NUM_KEYPOINTS = 17


# --------------------------------------------------------------------------------------------------------- letterbox
@dataclass(frozen=True)
class LetterboxInfo:
    """How an original image maps into the model input: ``input = original * gain + pad``.

    ``gain`` is (gain_y, gain_x) (equal up to the rounding of the resized sides), ``pad`` is (left, top) in pixels.
    """

    original_hw: tuple[int, int]
    input_hw: tuple[int, int]
    resized_hw: tuple[int, int]
    gain: tuple[float, float]
    pad: tuple[int, int]


def _as_hw(size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(size, int):
        return size, size
    if len(size) != 2:
        raise ValueError(f"a size is an int or (height, width), got {size!r}")
    return int(size[0]), int(size[1])


def letterbox_info(
    original_hw: tuple[int, int], new_shape: int | Sequence[int] = 640, auto: bool = False, stride: int = 32
) -> LetterboxInfo:
    """The geometry Ultralytics' ``LetterBox`` uses (scaleup allowed, centred padding).

    With ``auto=True`` (Ultralytics' predictor on a .pt model) the padding is reduced to the smallest multiple of
    ``stride``, so the input is rectangular (bus.jpg at 640 -> 640x480).
    """
    h0, w0 = original_hw
    target_h, target_w = _as_hw(new_shape)
    r = min(target_h / h0, target_w / w0)
    new_w, new_h = max(round(w0 * r), 1), max(round(h0 * r), 1)
    dw, dh = target_w - new_w, target_h - new_h
    if auto:
        dw, dh = int(np.mod(dw, stride)), int(np.mod(dh, stride))
    half_w, half_h = dw / 2, dh / 2
    top, bottom = round(half_h - 0.1), round(half_h + 0.1)
    left, right = round(half_w - 0.1), round(half_w + 0.1)
    return LetterboxInfo(
        original_hw=(h0, w0),
        input_hw=(new_h + top + bottom, new_w + left + right),
        resized_hw=(new_h, new_w),
        gain=(new_h / h0, new_w / w0),
        pad=(left, top),
    )


def letterbox(
    image: np.ndarray, new_shape: int | Sequence[int] = 640, auto: bool = False, stride: int = 32
) -> tuple[np.ndarray, LetterboxInfo]:
    """Resize (cv2 INTER_LINEAR) and pad (value 114) an (H, W, 3) uint8 image as Ultralytics' ``LetterBox`` does."""
    import cv2

    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got shape {image.shape}")
    info = letterbox_info((image.shape[0], image.shape[1]), new_shape, auto, stride)
    resized = image
    if (image.shape[1], image.shape[0]) != (info.resized_hw[1], info.resized_hw[0]):
        resized = cv2.resize(image, (info.resized_hw[1], info.resized_hw[0]), interpolation=cv2.INTER_LINEAR)
    left, top = info.pad
    bottom = info.input_hw[0] - info.resized_hw[0] - top
    right = info.input_hw[1] - info.resized_hw[1] - left
    padded = cv2.copyMakeBorder(resized, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
    return padded, info


def preprocess(
    images_bgr: np.ndarray | Sequence[np.ndarray], new_shape: int | Sequence[int] = 640, auto: bool = False
) -> tuple[torch.Tensor, list[LetterboxInfo]]:
    """Letterbox + BGR->RGB + /255 + NCHW float32, one row per image (all images must end up the same size)."""
    import torch

    batch = [images_bgr] if isinstance(images_bgr, np.ndarray) and images_bgr.ndim == 3 else list(images_bgr)
    if not batch:
        raise ValueError("preprocess needs at least one image")
    boxed = [letterbox(img, new_shape, auto) for img in batch]
    shapes = {info.input_hw for _, info in boxed}
    if len(shapes) != 1:
        raise ValueError(f"images letterbox to different sizes {sorted(shapes)}; use auto=False for a fixed size")
    stacked = torch.from_numpy(np.stack([img for img, _ in boxed]))
    tensor = stacked.permute(0, 3, 1, 2).contiguous().flip(1).float().div_(255)
    return tensor, [info for _, info in boxed]


# --------------------------------------------------------------------------------------------------------------- NMS
def xywh2xyxy(boxes: torch.Tensor) -> torch.Tensor:
    """(cx, cy, w, h) -> (x1, y1, x2, y2) along the last dimension."""
    import torch

    xy, wh = boxes[..., :2], boxes[..., 2:4] / 2
    return torch.cat((xy - wh, xy + wh), -1)


def non_max_suppression(
    prediction: torch.Tensor,
    conf_thres: float = 0.25,
    iou_thres: float = 0.7,
    max_det: int = 300,
    max_nms: int = 30000,
) -> list[torch.Tensor]:
    """Per image, (N, 6 + 51) rows [x1, y1, x2, y2, score, class (0), 51 keypoint values], best score first.

    Same steps as Ultralytics' ``non_max_suppression(pred, conf, iou, nc=1)`` (defaults of ``predict``: conf 0.25,
    iou 0.7, max_det 300): keep anchors with score > conf, keep the ``max_nms`` best, torchvision NMS on the boxes.
    """
    import torch
    import torchvision

    if prediction.dim() != 3 or prediction.shape[1] != 5 + 3 * NUM_KEYPOINTS:
        raise ValueError(f"expected a (B, 56, A) pose output, got {tuple(prediction.shape)}")
    if not 0 <= conf_thres <= 1 or not 0 <= iou_thres <= 1:
        raise ValueError(f"conf_thres and iou_thres must lie in [0, 1], got {conf_thres} and {iou_thres}")
    output = []
    for image_pred in prediction.transpose(-1, -2):
        x = image_pred[image_pred[:, 4] > conf_thres]
        box = xywh2xyxy(x[:, :4])
        score = x[:, 4:5]
        rows = torch.cat((box, score, torch.zeros_like(score), x[:, 5:]), 1)
        if rows.shape[0] > max_nms:
            rows = rows[rows[:, 4].argsort(descending=True)[:max_nms]]
        keep = torchvision.ops.nms(rows[:, :4], rows[:, 4], iou_thres)[:max_det]
        output.append(rows[keep])
    return output


# ------------------------------------------------------------------------------------------ mapping back to the image
def scale_boxes_to_original(boxes: np.ndarray, info: LetterboxInfo) -> np.ndarray:
    """xyxy boxes in model-input pixels -> original-image pixels, clipped to the image (Ultralytics ``scale_boxes``)."""
    out = np.array(boxes, dtype=np.float32, copy=True)
    gain_y, gain_x = info.gain
    left, top = info.pad
    out[..., [0, 2]] = (out[..., [0, 2]] - left) / gain_x
    out[..., [1, 3]] = (out[..., [1, 3]] - top) / gain_y
    h, w = info.original_hw
    out[..., [0, 2]] = out[..., [0, 2]].clip(0, w)
    out[..., [1, 3]] = out[..., [1, 3]].clip(0, h)
    return out


def scale_keypoints_to_original(keypoints: np.ndarray, info: LetterboxInfo) -> np.ndarray:
    """(..., 17, 3) keypoints in model-input pixels -> original pixels, clipped (Ultralytics ``scale_coords``)."""
    out = np.array(keypoints, dtype=np.float32, copy=True)
    gain_y, gain_x = info.gain
    left, top = info.pad
    h, w = info.original_hw
    out[..., 0] = ((out[..., 0] - left) / gain_x).clip(0, w)
    out[..., 1] = ((out[..., 1] - top) / gain_y).clip(0, h)
    return out


@dataclass
class PoseDetections:
    """The persons found in one image: ``boxes`` (N, 4) xyxy, ``scores`` (N,), ``keypoints`` (N, 17, 3) = x, y, vis.

    Coordinates are in the pixels of whatever image they refer to (see :func:`postprocess`), float32 numpy.
    """

    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    scores: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    keypoints: np.ndarray = field(default_factory=lambda: np.zeros((0, NUM_KEYPOINTS, 3), np.float32))

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, np.float32).reshape(-1, 4)
        self.scores = np.asarray(self.scores, np.float32).reshape(-1)
        self.keypoints = np.asarray(self.keypoints, np.float32).reshape(-1, NUM_KEYPOINTS, 3)
        n = self.boxes.shape[0]
        if self.scores.shape[0] != n or self.keypoints.shape[0] != n:
            raise ValueError(
                f"inconsistent detections: {n} boxes, {self.scores.shape[0]} scores, {self.keypoints.shape[0]} poses"
            )

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @classmethod
    def from_nms_rows(cls, rows: torch.Tensor | np.ndarray) -> PoseDetections:
        """From (N, 57) rows of :func:`non_max_suppression`, in the same pixel space."""
        data = rows.detach().cpu().numpy() if hasattr(rows, "detach") else np.asarray(rows)
        return cls(boxes=data[:, :4], scores=data[:, 4], keypoints=data[:, 6:].reshape(-1, NUM_KEYPOINTS, 3))

    def to_original(self, info: LetterboxInfo) -> PoseDetections:
        """Map model-input pixel coordinates back to the original image."""
        return PoseDetections(
            boxes=scale_boxes_to_original(self.boxes, info),
            scores=self.scores.copy(),
            keypoints=scale_keypoints_to_original(self.keypoints, info),
        )


def postprocess(
    prediction: torch.Tensor,
    letterbox_infos: Sequence[LetterboxInfo] | None = None,
    conf_thres: float = 0.25,
    iou_thres: float = 0.7,
    max_det: int = 300,
) -> list[PoseDetections]:
    """NMS on a (B, 56, A) output, then per image the detections in original-image pixels.

    Without ``letterbox_infos`` the coordinates stay in model-input pixels.
    """
    per_image = non_max_suppression(prediction, conf_thres, iou_thres, max_det)
    if letterbox_infos is not None and len(letterbox_infos) != len(per_image):
        raise ValueError(f"{len(per_image)} images in the prediction but {len(letterbox_infos)} letterbox infos")
    detections = [PoseDetections.from_nms_rows(rows) for rows in per_image]
    if letterbox_infos is None:
        return detections
    return [d.to_original(info) for d, info in zip(detections, letterbox_infos, strict=True)]

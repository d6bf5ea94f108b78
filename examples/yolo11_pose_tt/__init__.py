"""A second, independent YOLO11-pose implementation in ttnn, written the way TT model repositories write theirs
(plain ``import ttnn``), to validate with pytest-ttpose: ``pytest suites
--ttpose-runner=examples.yolo11_pose_tt:YOLOv11PoseRunner``."""

from .runner import YOLOv11PoseRunner

__all__ = ["YOLOv11PoseRunner"]

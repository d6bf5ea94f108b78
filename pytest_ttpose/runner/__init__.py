"""Runners of the TT YOLO11-pose model: the traced two-queue performant runner, its infra and the basic path."""

from __future__ import annotations

from pytest_ttpose.runner.basic import YOLOv11PoseBasicRunner
from pytest_ttpose.runner.config import RunnerConfig
from pytest_ttpose.runner.device_check import DeviceParamsError, OpenedDeviceParams, query_opened_params
from pytest_ttpose.runner.infra import PccCheckError, YOLOv11PosePerformanceRunnerInfra
from pytest_ttpose.runner.lifecycle import RunnerReleasedError
from pytest_ttpose.runner.performant import TraceCaptureError, YOLOv11PosePerformantRunner

__all__ = [
    "DeviceParamsError",
    "OpenedDeviceParams",
    "PccCheckError",
    "RunnerConfig",
    "RunnerReleasedError",
    "TraceCaptureError",
    "YOLOv11PoseBasicRunner",
    "YOLOv11PosePerformanceRunnerInfra",
    "YOLOv11PosePerformantRunner",
    "query_opened_params",
]

"""The types a suite annotates the ttpose fixtures with: copy a suite, keep the annotations, and mypy checks it.

Importing this module imports the runners (and so torch); the plugin itself never imports it at start-up.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeAlias

from pytest_ttpose.harness.settings import MatrixPoint
from pytest_ttpose.runner import YOLOv11PosePerformanceRunnerInfra, YOLOv11PosePerformantRunner

# A ttnn MeshDevice of whichever backend the session runs: the real ttnn, the emulator, or the mocked cluster. Its
# type belongs to that backend's package, so the harness names it only as a device.
TtDevice: TypeAlias = Any


class InfraAt(Protocol):
    """``ttpose_infra_at``: the cached infra of any matrix point."""

    def __call__(self, point: MatrixPoint, *, mesh: bool = False) -> YOLOv11PosePerformanceRunnerInfra: ...


class RunnerAt(Protocol):
    """``ttpose_runner_at``: the cached traced runner of any matrix point."""

    def __call__(self, point: MatrixPoint, *, mesh: bool = False) -> YOLOv11PosePerformantRunner: ...


class NewRunner(Protocol):
    """``ttpose_new_runner``: a fresh, uncached traced runner the caller releases."""

    def __call__(self, point: MatrixPoint) -> YOLOv11PosePerformantRunner: ...


__all__ = ["InfraAt", "NewRunner", "RunnerAt", "TtDevice"]

"""The types a suite annotates the ttpose fixtures with: copy a suite, keep the annotations, and mypy checks it.

Importing this module imports torch; the plugin itself never imports it at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

import torch

from pytest_ttpose.harness.settings import MatrixPoint

# A ttnn MeshDevice of whichever backend the session runs: the real ttnn, the emulator, or the mocked cluster. Its
# type belongs to that backend's package, so the harness names it only as a device.
TtDevice: TypeAlias = Any


class PoseModel(Protocol):
    """What ``ttpose_infra`` gives a suite, whichever implementation is validated: the bundled
    ``YOLOv11PosePerformanceRunnerInfra``, the same infra around a ``--ttpose-tt-model``, or a ``--ttpose-runner``
    (then the runner itself: it has no other path)."""

    @property
    def device(self) -> TtDevice: ...

    @property
    def batch_size(self) -> int:
        """The global batch: images per chip x chips."""

    @property
    def resolution(self) -> tuple[int, int]: ...

    @property
    def reference_model(self) -> torch.nn.Module: ...

    def forward(self, torch_input_tensor: torch.Tensor) -> torch.Tensor:
        """One batch through the model, read back as (B, 56, A) float32."""

    def reference_output(self, torch_input_tensor: torch.Tensor) -> torch.Tensor: ...

    def layer_pcc_rows(self, torch_input_tensor: torch.Tensor) -> Any:
        """Per-layer PCC rows for a failure message; raises when the model has no layer map."""


class PoseRunner(PoseModel, Protocol):
    """What ``ttpose_runner`` gives a suite: the bundled ``YOLOv11PosePerformantRunner``, or the user's runner with
    the spec's API, read back through its output adapter (``pytest_ttpose.runner.user.UserRunner``)."""

    def run(self, torch_input_tensor: torch.Tensor) -> Any:
        """One batch through the trace; the device output, valid until the next run."""

    def output_to_torch(self, output_tensor: Any) -> torch.Tensor: ...

    def run_to_torch(self, torch_input_tensor: torch.Tensor) -> torch.Tensor: ...

    def release(self) -> None: ...


@dataclass(frozen=True)
class PoseModelForward:
    """A ``PoseModel`` as the pose comparison's ``DeviceForward``."""

    model: PoseModel

    @property
    def resolution(self) -> tuple[int, int]:
        return self.model.resolution

    @property
    def global_batch(self) -> int:
        return self.model.batch_size

    def __call__(self, torch_input: torch.Tensor) -> torch.Tensor:
        return self.model.forward(torch_input)


class InfraAt(Protocol):
    """``ttpose_infra_at``: the cached infra of any matrix point."""

    def __call__(self, point: MatrixPoint, *, mesh: bool = False) -> PoseModel: ...


class RunnerAt(Protocol):
    """``ttpose_runner_at``: the cached traced runner of any matrix point."""

    def __call__(self, point: MatrixPoint, *, mesh: bool = False) -> PoseRunner: ...


class NewRunner(Protocol):
    """``ttpose_new_runner``: a fresh, uncached traced runner the caller releases."""

    def __call__(self, point: MatrixPoint) -> PoseRunner: ...


__all__ = ["InfraAt", "NewRunner", "PoseModel", "PoseModelForward", "PoseRunner", "RunnerAt", "TtDevice"]

"""What the basic and the traced runner share: input checks, PCC checks, release and the context manager."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from types import TracebackType
from typing import Any, TypeVar

import torch

from pytest_ttpose.pose.acceptance import pcc_floor
from pytest_ttpose.runner.infra import YOLOv11PosePerformanceRunnerInfra

RunnerT = TypeVar("RunnerT", bound="PoseRunnerBase")


def dtype_name(dtype: Any) -> str:
    """ttnn's name of a dtype object (``ttnn.bfloat8_b`` -> ``"bfloat8_b"``), as the PCC floors are keyed."""
    return str(dtype.name).lower()


class RunnerReleasedError(RuntimeError):
    """A runner was used after ``release()``."""


class PoseRunnerBase(ABC):
    """Owns a :class:`YOLOv11PosePerformanceRunnerInfra`; subclasses define how one batch runs on the device."""

    def __init__(self, infra: YOLOv11PosePerformanceRunnerInfra) -> None:
        self.infra = infra
        self.device = infra.device
        self.ttnn = infra.ttnn
        configured = infra.config.pcc_thresholds
        self.pcc_thresholds: Mapping[str, float] = (
            {"all": pcc_floor(dtype_name(infra.act_dtype), dtype_name(infra.weight_dtype))}
            if configured is None
            else dict(configured)
        )
        self._released = False

    @property
    def batch_size(self) -> int:
        """The global batch one ``run()`` takes: device_batch_size x number of chips."""
        return self.infra.batch_size

    @property
    def resolution(self) -> tuple[int, int]:
        return self.infra.resolution

    @property
    def released(self) -> bool:
        return self._released

    def _ensure_live(self) -> None:
        if self._released:
            raise RunnerReleasedError(
                f"this {type(self).__name__} was released; its trace and buffers are gone, create a new runner"
            )

    def _checked_input(self, torch_input_tensor: torch.Tensor | None) -> torch.Tensor:
        self._ensure_live()
        if torch_input_tensor is None:
            return self.infra.torch_input_tensor
        self.infra.check_input(torch_input_tensor)
        return torch_input_tensor

    def check_pcc(self, torch_input_tensor: torch.Tensor, output_tensor: Any) -> dict[str, float]:
        """Validate a device output against the reference on its input; raises ``PccCheckError`` below threshold."""
        infra = self.infra
        return infra.validate(self.pcc_thresholds, output_tensor=output_tensor, torch_input_tensor=torch_input_tensor)

    def output_to_torch(self, output_tensor: Any) -> torch.Tensor:
        """The ``(B, 56, A)`` torch output of a tensor returned by ``run()``."""
        self._ensure_live()
        return self.infra.output_to_torch(output_tensor)

    @property
    def reference_model(self) -> torch.nn.Module:
        return self.infra.reference_model

    def reference_output(self, torch_input_tensor: torch.Tensor | None = None) -> torch.Tensor:
        """The torch reference's output on the same input."""
        return self.infra.reference_output(torch_input_tensor)

    def layer_pcc_rows(self, torch_input_tensor: torch.Tensor) -> Any:
        """Per-layer PCC of the (untraced) TT model against the reference: where an output drop starts."""
        return self.infra.layer_pcc_rows(torch_input_tensor)

    @abstractmethod
    def run(self, torch_input_tensor: torch.Tensor | None = None, check_pcc: bool = False) -> Any:
        """Run one batch (the infra's own input when ``None``) and return the device output tensor."""

    def run_to_torch(self, torch_input_tensor: torch.Tensor | None = None, check_pcc: bool = False) -> torch.Tensor:
        """``run()`` then read the output back: the ``(B, 56, A)`` torch output of this input."""
        return self.output_to_torch(self.run(torch_input_tensor, check_pcc=check_pcc))

    def forward(self, torch_input_tensor: torch.Tensor) -> torch.Tensor:
        """One batch through this runner, read back: ``run_to_torch``."""
        return self.run_to_torch(torch_input_tensor)

    @abstractmethod
    def _free_device_state(self) -> None:
        """Free the trace (if any) and every device buffer the runner and its model hold."""

    def release(self) -> None:
        """Free everything the runner put on the device. Calling it again does nothing."""
        if self._released:
            return
        self._released = True
        self._free_device_state()

    def __enter__(self: RunnerT) -> RunnerT:
        self._ensure_live()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()


__all__ = ["PoseRunnerBase", "RunnerReleasedError", "dtype_name"]

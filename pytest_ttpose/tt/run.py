"""One forward of a TT pose model on a torch batch, and the adapter that lets the pose comparison drive it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from pytest_ttpose.seam import api_for
from pytest_ttpose.tt.model import input_to_host_tensor


def global_batch(tt_model: Any) -> int:
    """Images one forward takes: the model's batch times the chips of its device (1 for a single device)."""
    get_num_devices = getattr(tt_model.device, "get_num_devices", None)
    chips = int(get_num_devices()) if get_num_devices is not None else 1
    return int(tt_model.batch_size) * chips


def run_tt_model(tt_model: Any, torch_input: torch.Tensor) -> torch.Tensor:
    """One forward of the TT model on a (B, 3, H, W) float batch (B = the model's global batch): (B, 56, A) float32.

    The device input and output are freed before returning.
    """
    ttnn = api_for(tt_model.device)
    host = input_to_host_tensor(ttnn, torch_input, mesh_mapper=tt_model.input_mesh_mapper())
    device_input = ttnn.to_device(host, tt_model.device, memory_config=ttnn.DRAM_MEMORY_CONFIG)
    try:
        device_output = tt_model(device_input)
        try:
            return tt_model.output_to_torch(device_output, mesh_composer=tt_model.output_mesh_composer())
        finally:
            ttnn.deallocate(device_output)
    finally:
        ttnn.deallocate(device_input)


@dataclass(frozen=True)
class TtModelForward:
    """A TT pose model as a ``pytest_ttpose.pose.compare.DeviceForward``."""

    tt_model: Any

    @property
    def resolution(self) -> tuple[int, int]:
        resolution: tuple[int, int] = self.tt_model.resolution
        return resolution

    @property
    def global_batch(self) -> int:
        return global_batch(self.tt_model)

    def __call__(self, torch_input: torch.Tensor) -> torch.Tensor:
        return run_tt_model(self.tt_model, torch_input)


__all__ = ["TtModelForward", "global_batch", "run_tt_model"]

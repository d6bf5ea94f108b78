"""YOLO11-pose written in ttnn: the model, its blocks, weight preprocessing, device params and per-layer diagnostics.

Everything here reaches ttnn through ``pytest_ttpose.seam.api_for(device)``, so the same code runs on a TT device, on
the emulator and in the mock-cluster dry run.
"""

from __future__ import annotations

from pytest_ttpose.tt.device_params import MESH_DEVICE_PARAMS, SINGLE_DEVICE_PARAMS
from pytest_ttpose.tt.head import RawHeadOutputs
from pytest_ttpose.tt.model import (
    INPUT_CHANNELS,
    TtnnYoloV11Pose,
    build_pose_model,
    input_to_host_tensor,
    rgb_to_conv_input,
)

__all__ = [
    "INPUT_CHANNELS",
    "MESH_DEVICE_PARAMS",
    "SINGLE_DEVICE_PARAMS",
    "RawHeadOutputs",
    "TtnnYoloV11Pose",
    "build_pose_model",
    "input_to_host_tensor",
    "rgb_to_conv_input",
]

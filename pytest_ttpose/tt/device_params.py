"""Device parameters for opening a device or mesh that runs YOLO11-pose: one place, each value with its reason."""

from __future__ import annotations

from typing import Any

# conv2d and max_pool2d keep their halo / sliding-window config tensors in L1_SMALL; ttnn's default of 0 makes every
# k>1 conv fail with an L1_SMALL out-of-memory. 24 KiB is what tt-metal's YOLOv11 demo opens its devices with.
L1_SMALL_SIZE = 24576

# The trace region must hold one captured forward pass of the model (its dispatch commands): tt-metal's value for a
# single chip, and the larger one its data-parallel test uses for a mesh (every chip's commands are recorded).
SINGLE_DEVICE_TRACE_REGION_SIZE = 6434816
MESH_TRACE_REGION_SIZE = 23887872

# Two command queues: CQ1 copies the next input to the device while CQ0 replays the trace of the current one.
NUM_COMMAND_QUEUES = 2

SINGLE_DEVICE_PARAMS: dict[str, Any] = {
    "l1_small_size": L1_SMALL_SIZE,
    "trace_region_size": SINGLE_DEVICE_TRACE_REGION_SIZE,
    "num_command_queues": NUM_COMMAND_QUEUES,
}

MESH_DEVICE_PARAMS: dict[str, Any] = {
    "l1_small_size": L1_SMALL_SIZE,
    "trace_region_size": MESH_TRACE_REGION_SIZE,
    "num_command_queues": NUM_COMMAND_QUEUES,
}

__all__ = ["MESH_DEVICE_PARAMS", "SINGLE_DEVICE_PARAMS"]

"""Device parameters for opening a device or mesh that runs YOLO11-pose: one table per arch, each value with its reason.

``device_params(arch, kind)`` is the one source; ``SINGLE_DEVICE_PARAMS`` and ``MESH_DEVICE_PARAMS`` are its Wormhole
rows, kept for code that opens a Wormhole device (tt-metal's demo values).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

DeviceKind = Literal["device", "mesh"]
ArchName = Literal["wormhole_b0", "blackhole"]


@dataclass(frozen=True)
class DeviceParamsRow:
    """The ``open_device`` / ``open_mesh_device`` keywords for one arch and kind, with why each value was chosen."""

    l1_small_size: int
    trace_region_size: int
    num_command_queues: int
    reasons: tuple[str, ...]

    def as_kwargs(self) -> dict[str, Any]:
        return {
            "l1_small_size": self.l1_small_size,
            "trace_region_size": self.trace_region_size,
            "num_command_queues": self.num_command_queues,
        }


_L1_SMALL_REASON = (
    "l1_small_size=24576: conv2d and max_pool2d keep their halo / sliding-window config tensors in L1_SMALL; ttnn's "
    "default of 0 makes every k>1 conv fail with an L1_SMALL out-of-memory. 24 KiB is tt-metal's YOLOv11 demo value"
)
_QUEUES_REASON = (
    "num_command_queues=2: CQ1 copies the next input to the device while CQ0 replays the trace of the current one"
)
_WORMHOLE_TRACE_REASON = (
    "trace_region_size=6434816: one captured forward pass (about 800 programs' dispatch commands) of one chip; "
    "tt-metal's YOLOv11 single-chip Wormhole value"
)
_MESH_TRACE_REASON = (
    "trace_region_size=23887872: a mesh records every chip's commands; tt-metal's YOLOv11 data-parallel value"
)
_BLACKHOLE_TRACE_REASON = (
    "trace_region_size=23887872: a program's dispatch commands grow with the cores it runs on, and a Blackhole "
    "compute grid is larger than Wormhole's; tt-metal's YOLO11 end-to-end tests open Blackhole with this value "
    "('Blackhole often needs more L1 / trace'). Too small a region fails only at end_trace_capture ('Creating trace "
    "buffers of size ... but only ...B is allocated for trace region')"
)

_L1_SMALL_SIZE = 24576
_NUM_COMMAND_QUEUES = 2
_WORMHOLE_TRACE_REGION_SIZE = 6434816
_LARGE_TRACE_REGION_SIZE = 23887872

DEVICE_PARAMS_TABLE: dict[tuple[ArchName, DeviceKind], DeviceParamsRow] = {
    ("wormhole_b0", "device"): DeviceParamsRow(
        _L1_SMALL_SIZE,
        _WORMHOLE_TRACE_REGION_SIZE,
        _NUM_COMMAND_QUEUES,
        (_L1_SMALL_REASON, _WORMHOLE_TRACE_REASON, _QUEUES_REASON),
    ),
    ("wormhole_b0", "mesh"): DeviceParamsRow(
        _L1_SMALL_SIZE,
        _LARGE_TRACE_REGION_SIZE,
        _NUM_COMMAND_QUEUES,
        (_L1_SMALL_REASON, _MESH_TRACE_REASON, _QUEUES_REASON),
    ),
    ("blackhole", "device"): DeviceParamsRow(
        _L1_SMALL_SIZE,
        _LARGE_TRACE_REGION_SIZE,
        _NUM_COMMAND_QUEUES,
        (_L1_SMALL_REASON, _BLACKHOLE_TRACE_REASON, _QUEUES_REASON),
    ),
    ("blackhole", "mesh"): DeviceParamsRow(
        _L1_SMALL_SIZE,
        _LARGE_TRACE_REGION_SIZE,
        _NUM_COMMAND_QUEUES,
        (_L1_SMALL_REASON, _BLACKHOLE_TRACE_REASON, _MESH_TRACE_REASON, _QUEUES_REASON),
    ),
}


def arch_name(arch: object) -> ArchName:
    """``"wormhole_b0"`` or ``"blackhole"`` from a name or a ``ttnn.Arch`` value (``Arch.BLACKHOLE``, ...)."""
    text = str(arch).lower()
    if "blackhole" in text:
        return "blackhole"
    if "wormhole" in text:
        return "wormhole_b0"
    raise ValueError(f"no device parameters for arch {arch!r}: pytest-ttpose supports wormhole_b0 and blackhole")


def device_params_row(arch: object, kind: DeviceKind) -> DeviceParamsRow:
    return DEVICE_PARAMS_TABLE[(arch_name(arch), kind)]


def device_params(arch: object, kind: DeviceKind) -> dict[str, Any]:
    """The open keywords for a ``"device"`` or ``"mesh"`` of ``arch`` (a name or a ``ttnn.Arch``)."""
    return device_params_row(arch, kind).as_kwargs()


SINGLE_DEVICE_PARAMS: dict[str, Any] = device_params("wormhole_b0", "device")
MESH_DEVICE_PARAMS: dict[str, Any] = device_params("wormhole_b0", "mesh")

__all__ = [
    "DEVICE_PARAMS_TABLE",
    "MESH_DEVICE_PARAMS",
    "SINGLE_DEVICE_PARAMS",
    "DeviceKind",
    "DeviceParamsRow",
    "arch_name",
    "device_params",
    "device_params_row",
]

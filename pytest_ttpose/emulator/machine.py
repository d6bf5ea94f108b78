"""Emulator-only controls (not ttnn names): which machine is emulated, and a view of device memory.

``set_machine(arch="wormhole_b0", num_devices=1)`` chooses the chips ``open_device``/``open_mesh_device`` see:
``"wormhole_b0"`` (Wormhole B0, e.g. one N150) or ``"blackhole"`` (Blackhole P150), up to 32 devices (a Galaxy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .memory import ARCHS, ArchSpec

if TYPE_CHECKING:
    from .device import MeshDevice

MAX_DEVICES = 32


@dataclass(frozen=True)
class Machine:
    arch: str
    num_devices: int

    @property
    def spec(self) -> ArchSpec:
        return ARCHS[self.arch]


_machine = Machine("wormhole_b0", 1)
_open_devices: dict[int, MeshDevice] = {}


def set_machine(arch: str = "wormhole_b0", num_devices: int = 1) -> Machine:
    """Choose the emulated machine. Devices that are open keep the machine they were opened on."""
    global _machine
    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}: choose one of {sorted(ARCHS)}")
    if not 1 <= int(num_devices) <= MAX_DEVICES:
        raise ValueError(f"num_devices must be between 1 and {MAX_DEVICES}, got {num_devices}")
    _machine = Machine(arch, int(num_devices))
    return _machine


def current_machine() -> Machine:
    return _machine


def open_devices() -> dict[int, MeshDevice]:
    """Device id -> the open device (or mesh) that owns it."""
    return _open_devices


def memory_snapshot(device: MeshDevice) -> dict[str, object]:
    """A comparable snapshot of every allocator of ``device`` (L1, L1_SMALL, DRAM: (address, size) pairs per
    allocation; TRACE: bytes of captured traces). Equal snapshots mean the same allocations at the same addresses."""
    return device.memory.snapshot()

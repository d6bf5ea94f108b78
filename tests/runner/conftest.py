"""Fixtures of the runner tests: emulated devices and meshes opened with the runner's device params, the tiny model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from tiny_pose_model import TinyPoseReference, build_tiny_model

import pytest_ttpose.emulator as emulator
from pytest_ttpose.emulator import machine
from pytest_ttpose.tt.device_params import device_params

TINY_RESOLUTION = (64, 96)


@pytest.fixture
def ttnn() -> ModuleType:
    """The emulator's ttnn namespace."""
    return emulator


class EmulatedDevices:
    """Opens emulated devices (1) or 1xN meshes with the runner's device params; closes what is left open."""

    def __init__(self) -> None:
        self.opened: list[Any] = []

    def open(self, num_devices: int = 1, arch: str = "wormhole_b0", params: dict[str, int] | None = None) -> Any:
        """``params`` default to the runner's device params of ``arch`` (single or mesh); ``params={}`` opens a bare
        device."""
        machine.set_machine(arch, num_devices=num_devices)
        if num_devices == 1:
            device = emulator.open_device(device_id=0, **(device_params(arch, "device") if params is None else params))
        else:
            device = emulator.open_mesh_device(
                mesh_shape=emulator.MeshShape(1, num_devices),
                **(device_params(arch, "mesh") if params is None else params),
            )
        self.opened.append(device)
        return device

    def close(self, device: Any) -> None:
        self.opened.remove(device)
        if device.get_num_devices() == 1:
            emulator.close_device(device)
        else:
            emulator.close_mesh_device(device)

    def close_all(self) -> None:
        for device in reversed(list(self.opened)):
            self.close(device)
        machine.set_machine("wormhole_b0", num_devices=1)


@pytest.fixture
def emulated() -> Iterator[EmulatedDevices]:
    devices = EmulatedDevices()
    yield devices
    devices.close_all()


@pytest.fixture
def open_emulated(emulated: EmulatedDevices) -> Callable[..., Any]:
    """``open_emulated(num_devices=1, arch="wormhole_b0", params=None)``; see :meth:`EmulatedDevices.open`."""
    return emulated.open


@pytest.fixture
def device(open_emulated: Callable[..., Any]) -> Any:
    """One emulated Wormhole B0 opened with the runner's device params."""
    return open_emulated()


@pytest.fixture
def tiny_kwargs() -> dict[str, Any]:
    """Runner keyword arguments that build the tiny stand-in model instead of YOLO11-pose."""
    return {
        "resolution": TINY_RESOLUTION,
        "reference_model": TinyPoseReference(seed=0),
        "model_builder": build_tiny_model,
        "act_dtype": emulator.bfloat16,
        "weight_dtype": emulator.bfloat16,
    }

"""Opening and closing devices and meshes on the emulated machine (ttnn's device functions)."""

from __future__ import annotations

from typing import Any

from . import machine
from .device import MeshDevice, MeshShape
from .types import reject_unsupported


def _open(
    device_ids: list[int], mesh_shape: MeshShape, l1_small_size: int, trace_region_size: int, num_command_queues: int
) -> MeshDevice:
    current = machine.current_machine()
    opened = machine.open_devices()
    for device_id in device_ids:
        if not 0 <= device_id < current.num_devices:
            raise RuntimeError(
                f"TT_FATAL: device id {device_id} is out of range: the emulated machine has {current.num_devices} "
                f"{current.arch} device(s) (pytest_ttpose.emulator.machine.set_machine chooses the machine)"
            )
        if device_id in opened:
            raise RuntimeError(f"TT_FATAL: device {device_id} is already open; close it before opening it again")
    device = MeshDevice(
        current.spec, mesh_shape, device_ids, int(l1_small_size), int(trace_region_size), int(num_command_queues)
    )
    for device_id in device_ids:
        opened[device_id] = device
    return device


def open_device(
    *,
    device_id: int,
    l1_small_size: int = 0,
    trace_region_size: int = 0,
    dispatch_core_config: Any = None,
    worker_l1_size: int = 0,
    num_command_queues: int = 1,
) -> MeshDevice:
    reject_unsupported("open_device", worker_l1_size=worker_l1_size or None)
    return _open([int(device_id)], MeshShape(1, 1), l1_small_size, trace_region_size, num_command_queues)


def CreateDevice(
    device_id: int,
    num_command_queues: int = 1,
    l1_small_size: int = 0,
    trace_region_size: int = 0,
    dispatch_core_config: Any = None,
    *,
    worker_l1_size: int = 0,
) -> MeshDevice:
    return open_device(
        device_id=device_id,
        l1_small_size=l1_small_size,
        trace_region_size=trace_region_size,
        dispatch_core_config=dispatch_core_config,
        worker_l1_size=worker_l1_size,
        num_command_queues=num_command_queues,
    )


def open_mesh_device(
    mesh_shape: MeshShape | None = None,
    l1_small_size: int = 0,
    trace_region_size: int = 0,
    num_command_queues: int = 1,
    dispatch_core_config: Any = None,
    offset: Any = None,
    physical_device_ids: list[int] | None = None,
    worker_l1_size: int = 0,
) -> MeshDevice:
    reject_unsupported("open_mesh_device", offset=offset, worker_l1_size=worker_l1_size or None)
    available = machine.current_machine().num_devices
    shape = MeshShape(1, available) if mesh_shape is None else MeshShape(mesh_shape)
    size = shape.mesh_size()
    if size > available:
        raise RuntimeError(
            f"TT_FATAL: Requested mesh shape {shape!r} requires {size} devices, but only {available} devices are "
            f"available in the system mesh"
        )
    device_ids = list(physical_device_ids) if physical_device_ids else list(range(size))
    if len(device_ids) != size:
        raise RuntimeError(f"TT_FATAL: physical_device_ids {device_ids} do not match mesh shape {shape!r}")
    return _open(device_ids, shape, l1_small_size, trace_region_size, num_command_queues)


def close_device(device: MeshDevice) -> None:
    if device.closed:
        return
    if device.capturing is not None:
        raise RuntimeError("TT_FATAL: close_device during trace capture: end_trace_capture first")
    for trace in device.traces.values():
        trace.released = True
    device.traces.clear()
    for buffer in list(device.live_buffers.values()):
        buffer.free()
    device.closed = True
    opened = machine.open_devices()
    for device_id in device.get_device_ids():
        if opened.get(device_id) is device:
            del opened[device_id]


def close_mesh_device(mesh_device: MeshDevice) -> None:
    close_device(mesh_device)


def CloseDevice(device: MeshDevice, /) -> None:
    close_device(device)


def GetNumAvailableDevices() -> int:
    return machine.current_machine().num_devices


def GetNumPCIeDevices() -> int:
    return machine.current_machine().num_devices


def get_num_devices() -> int:
    return GetNumAvailableDevices()


def get_device_ids() -> list[int]:
    return list(range(GetNumAvailableDevices()))


def get_arch_name() -> str:
    return machine.current_machine().arch

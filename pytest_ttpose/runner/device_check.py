"""Check, before anything is built, that a device was opened with what the performant runner needs.

``ttnn.open_device(device_id=0)`` alone opens a device with no L1_SMALL region (conv2d then fails deep inside the
halo op), no trace region (trace capture fails or, on some stacks, replay crashes) and one command queue (any
work on queue 1 fails). The runner asks the device what it was opened with and names every missing parameter.

How each value is asked, in order, through the device's own ttnn namespace (no backend is named):
1. the device object itself, when it reports the value it was opened with (an attribute or a no-argument method
   named like the ``open_device`` keyword);
2. for the two memory regions, ``ttnn.get_memory_view(device, BufferType.L1_SMALL / TRACE)``: on ttnn 0.81 (checked
   on a mocked n150) every L1 bank holds the whole ``l1_small_size`` (64 banks x 24576 B), while the trace region is
   split over the DRAM banks, each rounded up (12 banks x 540672 B for 6434816), so L1_SMALL is read per bank and
   TRACE as banks x bank size, which is at least the size asked for;
3. for the command queues, recording an event on queue 1: it fails on a device opened with one queue.
A value no way can tell is reported as unknown and not treated as missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytest_ttpose.seam import api_for


class DeviceParamsError(ValueError):
    """The device was opened without a parameter the runner needs."""


@dataclass(frozen=True)
class OpenedDeviceParams:
    """What a device reports it was opened with; ``None`` where it cannot be asked."""

    l1_small_size: int | None
    trace_region_size: int | None
    num_command_queues: int | None


def _reported_by_device(device: Any, name: str) -> int | None:
    value = getattr(device, name, None)
    if callable(value):
        value = value()
    return None if value is None else int(value)


def _region_size(ttnn: Any, device: Any, buffer_type_name: str, *, per_bank: bool) -> int | None:
    get_memory_view = getattr(ttnn, "get_memory_view", None)
    buffer_type = getattr(ttnn.BufferType, buffer_type_name, None)
    if get_memory_view is None or buffer_type is None:
        return None
    try:
        view = get_memory_view(device, buffer_type)
    except Exception:  # noqa: BLE001 - a region opened with size 0 may have no bank manager to report on
        return 0
    bank_size = int(view.total_bytes_per_bank)
    return bank_size if per_bank else bank_size * int(view.num_banks)


def _command_queue_count(ttnn: Any, device: Any) -> int | None:
    try:
        ttnn.record_event(device, 1)
    except Exception:  # noqa: BLE001 - ttnn raises a plain RuntimeError (TT_FATAL) for an out-of-range queue
        return 1
    return 2


def query_opened_params(device: Any) -> OpenedDeviceParams:
    """Ask ``device`` what it was opened with (see the module docstring for how)."""
    ttnn = api_for(device)
    l1_small = _reported_by_device(device, "l1_small_size")
    if l1_small is None:
        l1_small = _region_size(ttnn, device, "L1_SMALL", per_bank=True)
    trace_region = _reported_by_device(device, "trace_region_size")
    if trace_region is None:
        trace_region = _region_size(ttnn, device, "TRACE", per_bank=False)
    queues = _reported_by_device(device, "num_command_queues")
    if queues is None:
        queues = _command_queue_count(ttnn, device)
    return OpenedDeviceParams(l1_small, trace_region, queues)


def _open_call(device: Any) -> str:
    get_num_devices = getattr(device, "get_num_devices", None)
    count = int(get_num_devices()) if get_num_devices is not None else 1
    if count > 1:
        try:
            dims = ", ".join(str(int(dim)) for dim in device.shape)
        except (AttributeError, TypeError):  # a mesh that cannot list its shape: its chip count still fits 1 x N
            dims = f"1, {count}"
        return f"ttnn.open_mesh_device(mesh_shape=ttnn.MeshShape({dims})"
    return "ttnn.open_device(device_id=0"


def check_device_params(device: Any, required: Mapping[str, int], *, who: str) -> None:
    """Raise ``DeviceParamsError`` naming each parameter in ``required`` the device was opened below.

    ``required`` maps ``open_device`` keywords to the least value ``who`` needs; the message spells the
    ``open_device`` (or, for a multi-chip device, ``open_mesh_device``) call that fixes it.
    """
    opened = query_opened_params(device)
    shortfalls = []
    for name, least in required.items():
        have = getattr(opened, name)
        if have is not None and have < least:
            shortfalls.append(f"  {name}: the device has {have}, use {name}={least}")
    if shortfalls:
        keywords = ", ".join(f"{name}={value}" for name, value in required.items())
        raise DeviceParamsError(
            f"{who} needs a device opened with {keywords}; this device lacks:\n"
            + "\n".join(shortfalls)
            + f"\nopen it with {_open_call(device)}, {keywords})"
        )


__all__ = ["DeviceParamsError", "OpenedDeviceParams", "check_device_params", "query_opened_params"]

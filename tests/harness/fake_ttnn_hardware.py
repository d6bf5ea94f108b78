"""A fake ``ttnn`` module for pytester runs of the ttnn backend: a Tenstorrent machine as ttnn would report it.

This file becomes ``ttnn.py`` of a nested run (imported only when the backend imports ttnn, as the real one is); the
run's conftest makes ``pytest_ttpose.harness.backends.tt_device_ids`` report the PCIe device nodes of ``FAKE_TT_NODES``
(comma-separated ids). It answers like ttnn 0.81.1 does on the mocked systems: ``GetNumAvailableDevices`` counts
every chip it can see (``FAKE_TT_CHIPS_PER_NODE`` per visible node, visibility from ``TT_VISIBLE_DEVICES``),
``SystemMeshDescriptor`` gives the mesh of the linked chips (``FAKE_TT_SYSTEM_MESH``, e.g. ``1x2``; ``1x1`` for
unlinked cards). Opens and closes are logged to ``ttnn_log.txt``.
"""

from __future__ import annotations

import os
import types
from pathlib import Path
from typing import Any

LOG = Path(__file__).with_name("ttnn_log.txt")
NODES = [int(node) for node in os.environ["FAKE_TT_NODES"].split(",")]
CHIPS_PER_NODE = int(os.environ.get("FAKE_TT_CHIPS_PER_NODE", "1"))


def _log(line: str) -> None:
    with LOG.open("a", encoding="utf-8") as log:
        log.write(line + "\n")


def _visible_nodes() -> list[int]:
    visible = os.environ.get("TT_VISIBLE_DEVICES")
    return NODES if visible is None else [int(node) for node in visible.split(",")]


class MeshShape(tuple):
    def __new__(cls, rows: int, cols: int) -> MeshShape:
        return super().__new__(cls, (rows, cols))


class SystemMeshDescriptor:
    def shape(self) -> MeshShape:
        if os.environ.get("TT_VISIBLE_DEVICES") is not None:
            return MeshShape(1, len(_visible_nodes()) * CHIPS_PER_NODE)
        rows, cols = os.environ["FAKE_TT_SYSTEM_MESH"].split("x")
        return MeshShape(int(rows), int(cols))


class Device:
    def __init__(self, label: str) -> None:
        self.label = label


def GetNumAvailableDevices() -> int:  # noqa: N802 - ttnn's name
    _log(f"count visible={os.environ.get('TT_VISIBLE_DEVICES')}")
    return len(_visible_nodes()) * CHIPS_PER_NODE


def get_arch_name() -> str:
    return "wormhole_b0"


def open_mesh_device(mesh_shape: MeshShape, **params: Any) -> Device:
    _log(f"open mesh {mesh_shape[0]}x{mesh_shape[1]} trace_region_size={params['trace_region_size']}")
    return Device(f"mesh{mesh_shape[0]}x{mesh_shape[1]}")


def open_device(device_id: int, **params: Any) -> Device:
    _log(f"open device {device_id} visible={os.environ.get('TT_VISIBLE_DEVICES')}")
    return Device(f"device{device_id}")


def close_mesh_device(device: Device) -> None:
    _log(f"close {device.label}")


def close_device(device: Device) -> None:
    _log(f"close {device.label}")


def synchronize_device(device: Device) -> None:
    pass


_ttnn = types.SimpleNamespace(multi_device=types.SimpleNamespace(SystemMeshDescriptor=SystemMeshDescriptor))

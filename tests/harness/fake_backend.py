"""A fake ttpose backend for the plugin's own pytester runs: no torch, no ttnn, no emulator.

This file becomes the ``conftest.py`` of each pytester run (see ``conftest.py`` here). Every device open and close
is appended to ``device_log.txt`` next to it, so the tests can check what was opened, by which process, and that
everything was closed. ``FAKE_TT_DEVICES`` sets the device count (default 2).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pytest_ttpose.harness.backends import Backend, BackendRequest

DEVICE_LOG = Path(__file__).with_name("device_log.txt")


class FakeDevice:
    # pytest_ttpose.seam.api_for(device) imports this module (the nested run's conftest) as the device's ttnn.
    __ttnn_api__ = "conftest"

    def __init__(self, label: str) -> None:
        self.label = label
        self.closed = False


# The few ttnn names the plugin's fixtures use on a device's namespace.
bfloat16 = "fake-bfloat16"
bfloat8_b = "fake-bfloat8_b"


def synchronize_device(device: FakeDevice) -> None:
    assert not device.closed, "synchronize on a closed device"


class FakeBackend(Backend):
    name = "fake"

    def __init__(self, request: BackendRequest) -> None:
        super().__init__(request)
        self._count = int(os.environ.get("FAKE_TT_DEVICES", "2"))

    @property
    def device_count(self) -> int:
        return self._count

    @property
    def arch(self) -> str:
        return "fakearch"

    @property
    def ttnn_version(self) -> str:
        return "fake-1"

    def device_params(self, kind: str) -> dict[str, Any]:
        return {"kind": kind}

    def _log(self, event: str, label: str) -> None:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with DEVICE_LOG.open("a", encoding="utf-8") as log:
            log.write(f"{worker} {event} {label}\n")

    def open_device(self, device_id: int, params: Any) -> FakeDevice:
        self._log("open", f"device{device_id}")
        assert params == {"kind": "device"}
        return FakeDevice(f"device{device_id}")

    def close_device(self, device: FakeDevice) -> None:
        device.closed = True
        self._log("close", device.label)

    def open_mesh_device(self, shape: Any, params: Any) -> FakeDevice:
        self._log("open", f"mesh{shape}")
        assert params == {"kind": "mesh"}
        return FakeDevice(f"mesh{shape}")

    def close_mesh_device(self, mesh: FakeDevice) -> None:
        mesh.closed = True
        self._log("close", mesh.label)

    def clear_program_cache(self, device: FakeDevice) -> None:
        assert not device.closed, "program cache cleared on a closed device"
        self._log("clear-programs", device.label)


def pytest_ttpose_add_backends(backends: dict[str, Any]) -> None:
    backends["fake"] = FakeBackend

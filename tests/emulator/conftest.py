from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import torch

import pytest_ttpose
import pytest_ttpose.emulator as ttnn
from pytest_ttpose.emulator import machine

MOCK_CLUSTER_ENV = "TT_METAL_MOCK_CLUSTER_DESC_PATH"
HOST_CONVERSION_CLUSTER = "wormhole_n150.yaml"


@pytest.fixture(autouse=True)
def _one_wormhole() -> Iterator[None]:
    torch.manual_seed(0)
    machine.set_machine("wormhole_b0", 1)
    yield
    for device in list(machine.open_devices().values()):
        ttnn.close_device(device)
    machine.set_machine("wormhole_b0", 1)


@pytest.fixture
def device() -> Iterator[ttnn.MeshDevice]:
    dev = ttnn.open_device(device_id=0, l1_small_size=24576, trace_region_size=6434816, num_command_queues=2)
    yield dev
    ttnn.close_device(dev)


def packaged_cluster_descriptor(name: str) -> Path:
    """The mock cluster descriptor shipped in ``pytest_ttpose/mock/clusters`` (the one place tests look it up)."""
    path = Path(pytest_ttpose.__file__).resolve().parent / "mock" / "clusters" / name
    if not path.is_file():
        raise FileNotFoundError(f"the package ships no mock cluster descriptor {name!r}: expected {path}")
    return path


@pytest.fixture(scope="module")
def real_host(real_ttnn: ModuleType) -> Iterator[ModuleType]:
    """Real ttnn able to do TILE host conversions: a real device, a user-chosen mock cluster, or the N150 mock.
    (Real ttnn needs a cluster for TILE conversions: "No chips detected" otherwise.)"""
    if os.environ.get(MOCK_CLUSTER_ENV) or Path("/dev/tenstorrent").exists():
        yield real_ttnn
        return
    patch = pytest.MonkeyPatch()
    patch.setenv(MOCK_CLUSTER_ENV, str(packaged_cluster_descriptor(HOST_CONVERSION_CLUSTER)))
    try:
        yield real_ttnn
    finally:
        patch.undo()

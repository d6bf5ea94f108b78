from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

import pytest_ttpose.emulator as ttnn
from pytest_ttpose.emulator import machine


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

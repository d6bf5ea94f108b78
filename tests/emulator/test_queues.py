"""Command queues and events: cq range, ordering rules between queues and the host."""

from __future__ import annotations

import pytest
import torch

import pytest_ttpose.emulator as ttnn


def _pair(device: ttnn.MeshDevice) -> tuple[ttnn.Tensor, ttnn.Tensor]:
    host = ttnn.from_torch(torch.randn(1, 1, 32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)
    dev = ttnn.allocate_tensor_on_device(host.spec, device)
    return host, dev


def test_cq_id_must_be_below_num_command_queues() -> None:
    dev = ttnn.open_device(device_id=0, num_command_queues=1)
    with pytest.raises(RuntimeError, match="cq_id 1 is out of range"):
        ttnn.record_event(dev, 1)
    ttnn.close_device(dev)


def test_reading_another_queues_write_needs_an_event(device: ttnn.MeshDevice) -> None:
    host, dev = _pair(device)
    ttnn.copy_host_to_device_tensor(host, dev, 1)
    with pytest.raises(ttnn.device.QueueOrderError, match="without an event"):
        ttnn.relu(dev)


def test_event_handshake_orders_the_queues(device: ttnn.MeshDevice) -> None:
    host, dev = _pair(device)
    ttnn.copy_host_to_device_tensor(host, dev, 1)
    ttnn.wait_for_event(0, ttnn.record_event(device, 1))
    out = ttnn.relu(dev)
    # CQ1 may only overwrite the input after CQ0 has read it
    with pytest.raises(ttnn.device.QueueOrderError, match="still uses"):
        ttnn.copy_host_to_device_tensor(host, dev, 1)
    ttnn.wait_for_event(1, ttnn.record_event(device, 0))
    ttnn.copy_host_to_device_tensor(host, dev, 1)
    assert torch.equal(ttnn.to_torch(out), torch.relu(ttnn.to_torch(host)))


def test_host_read_of_another_queues_write_needs_a_sync(device: ttnn.MeshDevice) -> None:
    host, dev = _pair(device)
    ttnn.copy_host_to_device_tensor(host, dev, 1)
    with pytest.raises(ttnn.device.QueueOrderError, match="synchronize"):
        ttnn.to_torch(dev)
    event = ttnn.record_event(device, 1)
    ttnn.event_synchronize(event)
    assert torch.equal(ttnn.to_torch(dev), ttnn.to_torch(host))


def test_synchronize_device_covers_every_queue(device: ttnn.MeshDevice) -> None:
    host, dev = _pair(device)
    ttnn.copy_host_to_device_tensor(host, dev, 1)
    ttnn.synchronize_device(device)
    assert torch.equal(ttnn.to_torch(dev), ttnn.to_torch(host))

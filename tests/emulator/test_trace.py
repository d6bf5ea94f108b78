"""Trace capture and replay semantics."""

from __future__ import annotations

import pytest
import torch

import pytest_ttpose.emulator as ttnn


def _capture(device: ttnn.MeshDevice) -> tuple[ttnn.Tensor, ttnn.Tensor, ttnn.MeshTraceId]:
    inp = ttnn.from_torch(torch.randn(1, 1, 32, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    tid = ttnn.begin_trace_capture(device, cq_id=0)
    out = ttnn.multiply(ttnn.silu(inp), 2.0)
    ttnn.end_trace_capture(device, tid, cq_id=0)
    return inp, out, tid


def test_replay_reads_the_current_input_and_writes_the_same_output(device: ttnn.MeshDevice) -> None:
    inp, out, tid = _capture(device)
    address = out.buffer_address()
    new_image = torch.randn(1, 1, 32, 64)
    ttnn.copy_host_to_device_tensor(ttnn.from_torch(new_image, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT), inp)
    ttnn.execute_trace(device, tid, cq_id=0, blocking=True)
    expected = torch.nn.functional.silu(new_image.to(torch.bfloat16).float()).to(torch.bfloat16).float() * 2
    assert out.buffer_address() == address
    assert torch.equal(ttnn.to_torch(out).float(), expected.to(torch.bfloat16).float())


def test_replay_follows_addresses_of_reallocated_inputs(device: ttnn.MeshDevice) -> None:
    inp = ttnn.from_torch(torch.randn(1, 1, 32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    spec, address = inp.spec, inp.buffer_address()
    tid = ttnn.begin_trace_capture(device, cq_id=0)
    out = ttnn.relu(inp)
    ttnn.deallocate(inp)
    inp = ttnn.allocate_tensor_on_device(spec, device)
    ttnn.end_trace_capture(device, tid, cq_id=0)
    assert inp.buffer_address() == address
    image = -torch.ones(1, 1, 32, 32)
    image[0, 0, 0, 0] = 5.0
    ttnn.copy_host_to_device_tensor(ttnn.from_torch(image, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT), inp)
    ttnn.execute_trace(device, tid, cq_id=0)
    assert ttnn.to_torch(out).float().sum().item() == 5.0


def test_host_reads_and_writes_during_capture_raise(device: ttnn.MeshDevice) -> None:
    inp = ttnn.from_torch(torch.randn(32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    tid = ttnn.begin_trace_capture(device, cq_id=0)
    with pytest.raises(RuntimeError, match="Reads are not supported during trace capture"):
        ttnn.to_torch(inp)
    with pytest.raises(RuntimeError, match="Writes are not supported during trace capture"):
        ttnn.from_torch(torch.randn(32, 32), dtype=ttnn.bfloat16, device=device)
    host = ttnn.from_torch(torch.randn(32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)
    with pytest.raises(RuntimeError, match="Writes are not supported during trace capture"):
        ttnn.copy_host_to_device_tensor(host, inp)
    ttnn.end_trace_capture(device, tid, cq_id=0)


def test_trace_memory_counts_against_the_region_and_release_frees_it() -> None:
    small = ttnn.open_device(device_id=0, trace_region_size=4096)
    inp = ttnn.from_torch(torch.randn(32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=small)
    tid = ttnn.begin_trace_capture(small, cq_id=0)
    ttnn.relu(ttnn.relu(inp))
    with pytest.raises(RuntimeError, match="allocated for trace region"):
        ttnn.end_trace_capture(small, tid, cq_id=0)
    ttnn.close_device(small)


def test_release_frees_trace_memory_and_a_released_trace_cannot_run(device: ttnn.MeshDevice) -> None:
    _, _, tid = _capture(device)
    assert device.memory.trace_bytes_used > 0
    ttnn.release_trace(device, tid)
    assert device.memory.trace_bytes_used == 0
    with pytest.raises(RuntimeError, match="released or never captured"):
        ttnn.execute_trace(device, tid, cq_id=0)


def test_trace_needs_a_trace_region() -> None:
    dev = ttnn.open_device(device_id=0)
    with pytest.raises(RuntimeError, match="trace_region_size"):
        ttnn.begin_trace_capture(dev, cq_id=0)
    ttnn.close_device(dev)


def test_replay_of_a_deallocated_input_raises(device: ttnn.MeshDevice) -> None:
    inp, _, tid = _capture(device)
    ttnn.deallocate(inp)
    with pytest.raises(RuntimeError, match="no buffer is allocated"):
        ttnn.execute_trace(device, tid, cq_id=0)


def test_a_mesh_replays_each_devices_own_slice() -> None:
    from pytest_ttpose.emulator import machine

    machine.set_machine("wormhole_b0", 2)
    mesh = ttnn.open_mesh_device(ttnn.MeshShape(1, 2), trace_region_size=1 << 20, num_command_queues=2)
    mapper, composer = ttnn.ShardTensorToMesh(mesh, dim=0), ttnn.ConcatMeshToTensor(mesh, dim=0)
    host = ttnn.from_torch(torch.randn(2, 1, 32, 32), dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, mesh_mapper=mapper)
    inp = host.to(mesh, ttnn.DRAM_MEMORY_CONFIG)
    tid = ttnn.begin_trace_capture(mesh, cq_id=0)
    out = ttnn.relu(inp)
    ttnn.end_trace_capture(mesh, tid, cq_id=0)
    image = torch.randn(2, 1, 32, 32)
    fresh = ttnn.from_torch(image, dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, mesh_mapper=mapper)
    ttnn.copy_host_to_device_tensor(fresh, inp, 0)
    ttnn.execute_trace(mesh, tid, cq_id=0)
    assert torch.equal(ttnn.to_torch(out, mesh_composer=composer), torch.relu(image))
    with pytest.raises(RuntimeError, match="cq_id 2 is out of range"):
        ttnn.execute_trace(mesh, tid, cq_id=2)
    ttnn.release_trace(mesh, tid)
    ttnn.close_mesh_device(mesh)


def test_replayed_ops_round_like_direct_ones_and_leave_inputs_untouched(device: ttnn.MeshDevice) -> None:
    # replay rounds each op's fresh result in place, as the direct run does: same bits, input buffers unchanged
    def image() -> ttnn.Tensor:
        return ttnn.from_torch(torch.randn(1, 1, 64, 32) * 4, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)

    weight = ttnn.from_torch(torch.randn(32, 32, 3, 3))
    conv_args = dict(in_channels=32, out_channels=32, batch_size=1, input_height=8, input_width=8, kernel_size=(3, 3))

    def model(image: ttnn.Tensor, w: ttnn.Tensor) -> tuple[ttnn.Tensor, ttnn.Tensor]:
        x = ttnn.typecast(image, ttnn.bfloat8_b)  # rounds a result that is not its own: must not round in place
        y, (w, _) = ttnn.conv2d(
            input_tensor=x,
            weight_tensor=w,
            device=device,
            padding=(1, 1),
            dtype=ttnn.bfloat8_b,
            conv_config=ttnn.Conv2dConfig(weights_dtype=ttnn.bfloat8_b),
            return_weights_and_bias=True,
            **conv_args,
        )
        return ttnn.add(ttnn.silu(y), x, dtype=ttnn.bfloat8_b), w

    hosts = [image(), image()]
    direct = []
    for host in hosts:  # direct runs first: no allocation while a trace exists
        result, weight = model(ttnn.to_device(host, device), weight)
        direct.append(ttnn.to_torch(result))
    inp = ttnn.to_device(image(), device)
    tid = ttnn.begin_trace_capture(device, cq_id=0)
    out, _ = model(inp, weight)
    ttnn.end_trace_capture(device, tid, cq_id=0)
    for host, expected in zip(hosts, direct, strict=True):
        ttnn.copy_host_to_device_tensor(host, inp)
        stored = [v.clone() for v in inp._values("test")]
        ttnn.execute_trace(device, tid, cq_id=0, blocking=True)
        assert torch.equal(ttnn.to_torch(out), expected)
        assert all(torch.equal(v, s) for v, s in zip(inp._values("test"), stored, strict=True))
    ttnn.release_trace(device, tid)

"""Blackhole's limit on resharding a DRAM height-sharded row-major input of 16-value rows, with ttnn 0.81.1's messages.

A 32-byte row is not a whole 64-byte Blackhole DRAM alignment unit, so the reader stages two input shards of rows in a
dataflow buffer: more than 65535 entries overflow its 16-bit capacity, and 111744 B + entries x 64 B beyond 1572864 B
outgrows L1 (to_memory_config takes another path past the capacity and accepts; tests/mock/test_foreign_calls.py
compares both with the real ttnn). On Wormhole the row is one 32-byte unit and the same reshard is not staged; DRAM
interleaved staging works on both.
"""

from __future__ import annotations

import pytest
import torch

import pytest_ttpose.emulator as ttnn
from pytest_ttpose.emulator import machine


def open_device(arch: str) -> ttnn.MeshDevice:
    machine.set_machine(arch, 1)
    return ttnn.open_device(device_id=0, l1_small_size=24576, trace_region_size=6434816, num_command_queues=2)


def height_sharded(rows: int, grid: ttnn.CoreCoord, buffer_type: ttnn.BufferType) -> ttnn.MemoryConfig:
    cores = ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(grid.x - 1, grid.y - 1))})
    shard = ttnn.ShardSpec(cores, [-(-rows // (grid.x * grid.y)), 16], ttnn.ShardOrientation.ROW_MAJOR)
    return ttnn.MemoryConfig(ttnn.TensorMemoryLayout.HEIGHT_SHARDED, buffer_type, shard)


def staged_input(
    device: ttnn.MeshDevice, batch: int, side: int, staging: ttnn.MemoryConfig | None = None
) -> tuple[torch.Tensor, ttnn.Tensor, ttnn.MemoryConfig]:
    """(NHWC torch image, the image staged in DRAM (height-sharded over the DRAM grid by default), L1 config)."""
    image = torch.rand(batch, side, side, 16)
    rows = batch * side * side
    config = staging or height_sharded(rows, device.dram_grid_size(), ttnn.BufferType.DRAM)
    staged = ttnn.from_torch(image, ttnn.bfloat16, layout=ttnn.ROW_MAJOR_LAYOUT, device=device, memory_config=config)
    return image, staged, height_sharded(rows, device.compute_with_storage_grid_size(), ttnn.BufferType.L1)


@pytest.mark.parametrize(
    ("batch", "side", "message"),
    [
        (1, 640, "DFB 1: capacity 102400 exceeds the maximum 65535 (HW BUFFER_CAPACITY is 16 bits)"),
        (2, 640, "DFB 1: capacity 204800 exceeds the maximum 65535 (HW BUFFER_CAPACITY is 16 bits)"),
        (1, 320, "[0-0 - 12-9] grow to 1750144 B which is beyond max L1 size of 1572864 B"),
        (2, 320, "[0-0 - 12-9] grow to 3388544 B which is beyond max L1 size of 1572864 B"),
    ],
)
def test_blackhole_rejects_resharding_dram_height_shards_with_ttnns_message(
    batch: int, side: int, message: str
) -> None:
    device = open_device("blackhole")
    image, staged, l1_config = staged_input(device, batch, side)
    if "capacity" in message:  # ttnn 0.81's to_memory_config takes another path past the dataflow buffer's capacity
        assert torch.equal(ttnn.to_torch(ttnn.to_memory_config(staged, l1_config)), image.bfloat16())
    else:
        with pytest.raises(RuntimeError, match="TT_FATAL") as by_to_memory_config:
            ttnn.to_memory_config(staged, l1_config)
        assert message in str(by_to_memory_config.value)
    target = ttnn.allocate_tensor_on_device(
        shape=staged.shape,
        dtype=ttnn.bfloat16,
        layout=ttnn.ROW_MAJOR_LAYOUT,
        mesh_device=device,
        memory_config=l1_config,
    )
    with pytest.raises(RuntimeError) as by_reshard:
        ttnn.reshard(staged, l1_config, target)
    assert message in str(by_reshard.value)


def test_small_dram_height_shards_reshard_on_blackhole() -> None:
    device = open_device("blackhole")
    image, staged, l1_config = staged_input(device, 1, 160)  # 3200 rows a bank: 6400 entries, 521344 B of L1
    assert torch.equal(ttnn.to_torch(ttnn.to_memory_config(staged, l1_config)), image.bfloat16())


@pytest.mark.parametrize(("batch", "side"), [(2, 640), (2, 320)])
def test_wormhole_reshards_the_same_dram_height_shards(batch: int, side: int) -> None:
    device = open_device("wormhole_b0")
    image, staged, l1_config = staged_input(device, batch, side)
    assert torch.equal(ttnn.to_torch(ttnn.to_memory_config(staged, l1_config)), image.bfloat16())


@pytest.mark.parametrize("arch", ["blackhole", "wormhole_b0"])
@pytest.mark.parametrize(("batch", "side"), [(2, 640), (2, 320)])
def test_dram_interleaved_staging_moves_into_l1_shards_in_place(arch: str, batch: int, side: int) -> None:
    device = open_device(arch)
    image, staged, l1_config = staged_input(device, batch, side, staging=ttnn.DRAM_MEMORY_CONFIG)
    model_input = ttnn.to_memory_config(staged, l1_config)
    assert torch.equal(ttnn.to_torch(model_input), image.bfloat16())
    address = model_input.buffer_address()
    next_image = torch.rand(batch, side, side, 16)
    ttnn.copy_host_to_device_tensor(ttnn.from_torch(next_image, ttnn.bfloat16, layout=ttnn.ROW_MAJOR_LAYOUT), staged)
    moved = ttnn.interleaved_to_sharded(staged, l1_config, preallocated_output=model_input)
    assert moved.buffer_address() == address
    assert torch.equal(ttnn.to_torch(model_input), next_image.bfloat16())

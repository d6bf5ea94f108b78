"""Allocator, out-of-memory errors, sharded config validation, machines and meshes."""

from __future__ import annotations

import pytest
import torch

import pytest_ttpose.emulator as ttnn
from pytest_ttpose.emulator import machine


def _l1(device: ttnn.MeshDevice, rows: int = 32, cols: int = 32) -> ttnn.Tensor:
    return _alloc(device, [1, 1, rows, cols], ttnn.L1_MEMORY_CONFIG)


def _alloc(
    device: ttnn.MeshDevice, shape: list[int], config: ttnn.MemoryConfig = ttnn.DRAM_MEMORY_CONFIG
) -> ttnn.Tensor:
    return ttnn.allocate_tensor_on_device(
        shape=shape, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, mesh_device=device, memory_config=config
    )


def test_addresses_are_deterministic_and_reused_after_deallocate(device: ttnn.MeshDevice) -> None:
    first, second = _l1(device), _l1(device)
    assert first.buffer_address() > second.buffer_address()  # L1 grows down from the top
    address = second.buffer_address()
    ttnn.deallocate(second)
    assert _l1(device).buffer_address() == address
    dram = [_alloc(device, [64, 64]) for _ in "ab"]
    assert dram[0].buffer_address() < dram[1].buffer_address()  # DRAM grows up


def test_memory_snapshot_returns_to_its_start_after_deallocation(device: ttnn.MeshDevice) -> None:
    before = machine.memory_snapshot(device)
    t = ttnn.from_torch(torch.randn(64, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    assert machine.memory_snapshot(device) != before
    ttnn.deallocate(t)
    assert machine.memory_snapshot(device) == before


def test_out_of_memory_states_sizes(device: ttnn.MeshDevice) -> None:
    with pytest.raises(
        RuntimeError, match=r"Out of Memory: Not enough space to allocate \d+ B L1 buffer across 64 banks"
    ):
        _l1(device, rows=64 * 1024, cols=1024)
    with pytest.raises(RuntimeError, match=r"bank size is \d+ B \(allocated"):
        _alloc(device, [1 << 20, 1 << 16])


def test_l1_small_size_shrinks_l1() -> None:
    def l1_bank(l1_small: int) -> int:
        dev = ttnn.open_device(device_id=0, l1_small_size=l1_small)
        size = dev.memory.allocators[ttnn.BufferType.L1].bank_size
        ttnn.close_device(dev)
        return size

    assert l1_bank(0) - l1_bank(24576) == 24576


def test_sharded_config_validation(device: ttnn.MeshDevice) -> None:
    grid = ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(7, 7))})
    too_many = ttnn.MemoryConfig(
        ttnn.TensorMemoryLayout.HEIGHT_SHARDED,
        ttnn.BufferType.L1,
        ttnn.ShardSpec(grid, [32, 64], ttnn.ShardOrientation.ROW_MAJOR),
    )
    with pytest.raises(RuntimeError, match="Number of shards along height 80 must not exceed number of cores 64"):
        _alloc(device, [1, 1, 2560, 64], too_many)
    wrong_width = ttnn.MemoryConfig(
        ttnn.TensorMemoryLayout.HEIGHT_SHARDED,
        ttnn.BufferType.L1,
        ttnn.ShardSpec(grid, [64, 32], ttnn.ShardOrientation.ROW_MAJOR),
    )
    with pytest.raises(RuntimeError, match="must match physical width 64"):
        _alloc(device, [1, 1, 2048, 64], wrong_width)
    not_tiled = ttnn.MemoryConfig(
        ttnn.TensorMemoryLayout.HEIGHT_SHARDED,
        ttnn.BufferType.L1,
        ttnn.ShardSpec(grid, [40, 64], ttnn.ShardOrientation.ROW_MAJOR),
    )
    with pytest.raises(RuntimeError, match=r"Physical shard shape \(40, 64\) must be tile \{32, 32\} sized"):
        _alloc(device, [1, 1, 2560, 64], not_tiled)
    off_grid = ttnn.MemoryConfig(
        ttnn.TensorMemoryLayout.HEIGHT_SHARDED,
        ttnn.BufferType.L1,
        ttnn.ShardSpec(
            ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(9, 0))}),
            [32, 64],
            ttnn.ShardOrientation.ROW_MAJOR,
        ),
    )
    with pytest.raises(RuntimeError, match=r"shard core \(8, 0\) has no L1 bank"):
        _alloc(device, [1, 1, 320, 64], off_grid)


@pytest.mark.parametrize(
    ("shape", "accepted"),
    [((1, 1, 64, 64), True), ((1, 1, 256, 288), False)],
    ids=["2x2-shards", "8x9-shards"],
)
def test_block_sharding_checks_only_the_cores_that_hold_a_shard(
    device: ttnn.MeshDevice, shape: tuple[int, ...], accepted: bool
) -> None:
    # ttnn 0.81.1's allocator checks a block sharded buffer's shard cores only (tests/mock/test_foreign_calls.py
    # compares this with the real ttnn): a 10x8 grid fits an 8x8 device while the shards stay in its first 8 columns.
    wide = ttnn.MemoryConfig(
        ttnn.TensorMemoryLayout.BLOCK_SHARDED,
        ttnn.BufferType.L1,
        ttnn.ShardSpec(
            ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(9, 7))}),
            [32, 32],
            ttnn.ShardOrientation.ROW_MAJOR,
        ),
    )
    if accepted:
        assert _alloc(device, list(shape), wide).memory_config().shard_spec.shape == [32, 32]
    else:
        with pytest.raises(RuntimeError, match=r"shard core \(8, 0\) has no L1 bank"):
            _alloc(device, list(shape), wide)


def test_block_sharding_checks_the_grid_rows_and_columns(device: ttnn.MeshDevice) -> None:
    fits = ttnn.create_sharded_memory_config((1, 1, 256, 512), ttnn.CoreGrid(x=8, y=4), ttnn.ShardStrategy.BLOCK)
    t = ttnn.to_memory_config(
        ttnn.from_torch(torch.randn(1, 1, 256, 512), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device), fits
    )
    assert t.memory_config().shard_spec.shape == [64, 64]
    grid = ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(1, 1))})
    too_few_columns = ttnn.MemoryConfig(
        ttnn.TensorMemoryLayout.BLOCK_SHARDED,
        ttnn.BufferType.L1,
        ttnn.ShardSpec(grid, [128, 64], ttnn.ShardOrientation.ROW_MAJOR),
    )
    with pytest.raises(RuntimeError, match="shards along width 8 must not exceed number of columns 2"):
        _alloc(device, [1, 1, 256, 512], too_few_columns)


def test_create_sharded_memory_config_arithmetic() -> None:
    cfg = ttnn.create_sharded_memory_config([1, 16, 640, 640], ttnn.CoreGrid(x=8, y=8), ttnn.ShardStrategy.HEIGHT)
    assert cfg.shard_spec.shape == [160, 640]
    assert cfg.memory_layout == ttnn.TensorMemoryLayout.HEIGHT_SHARDED and cfg.buffer_type == ttnn.BufferType.L1
    block = ttnn.create_sharded_memory_config((1, 1, 2048, 512), ttnn.CoreGrid(x=8, y=8), ttnn.ShardStrategy.BLOCK)
    assert block.shard_spec.shape == [256, 64]
    with pytest.raises(RuntimeError, match="Invalid sharding core_grid"):
        ttnn.create_sharded_memory_config((1, 1, 100, 64), ttnn.CoreGrid(x=8, y=8), ttnn.ShardStrategy.HEIGHT)


def test_blackhole_machine_and_meshes() -> None:
    machine.set_machine("blackhole", 2)
    mesh = ttnn.open_mesh_device(ttnn.MeshShape(1, 2), l1_small_size=24576, num_command_queues=2)
    assert mesh.get_num_devices() == 2 and mesh.get_device_ids() == [0, 1]
    assert (mesh.compute_with_storage_grid_size().x, mesh.compute_with_storage_grid_size().y) == (13, 10)
    assert mesh.dram_grid_size().x == 8 and mesh.arch() == ttnn.Arch.BLACKHOLE
    assert mesh.memory.allocators[ttnn.BufferType.L1].bank_size == 1436544  # what ttnn's mock P150 reports
    x = torch.randn(4, 3, 32, 32)
    t = ttnn.from_torch(x, dtype=ttnn.float32, device=mesh, mesh_mapper=ttnn.ShardTensorToMesh(mesh, dim=0))
    assert t.shape == [2, 3, 32, 32]
    back = ttnn.to_torch(ttnn.relu(t), mesh_composer=ttnn.ConcatMeshToTensor(mesh, dim=0))
    assert torch.equal(back, torch.relu(x))
    with pytest.raises(RuntimeError, match="mesh_composer"):
        ttnn.to_torch(t)
    with pytest.raises(RuntimeError, match="requires 4 devices"):
        ttnn.open_mesh_device(ttnn.MeshShape(1, 4))


def test_device_ids_beyond_the_machine_are_rejected() -> None:
    with pytest.raises(RuntimeError, match="out of range"):
        ttnn.open_device(device_id=1)

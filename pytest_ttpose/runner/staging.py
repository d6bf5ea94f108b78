"""Where the traced runner stages its input in DRAM, per arch: the one place this choice is made.

The spec (tt-metal's runners) stages the host input in DRAM height-sharded over the DRAM grid and reshards it into
the L1 height-sharded model input. ttnn 0.81.1 accepts that on Wormhole (dry runs on mocked n150, n300 and t3k:
``tests/runner/test_runner_dry_run.py``) and rejects it on Blackhole at every default point: the reshard's reader
stages two input shards of rows in a dataflow buffer, over its 16-bit capacity at 640x640 ("DFB 1: capacity 204800
exceeds the maximum 65535") and over L1 at 320x320 ("Statically allocated dataflow buffers ... grow to 3388544 B
which is beyond max L1 size of 1572864 B"). Blackhole therefore stages DRAM interleaved (pages over every DRAM bank)
and moves it into L1 with ``interleaved_to_sharded``.
"""

from __future__ import annotations

from typing import Any, Literal

from pytest_ttpose.tt.device_params import ArchName, arch_name

Staging = Literal["dram_height_sharded", "dram_interleaved"]

STAGING_BY_ARCH: dict[ArchName, Staging] = {
    "wormhole_b0": "dram_height_sharded",  # the spec's DRAM sharding; ttnn 0.81.1 accepts the reshard into L1
    "blackhole": "dram_interleaved",  # ttnn 0.81.1 rejects the DRAM height-shard reshard (see the module docstring)
}


def staging_for(arch: object) -> Staging:
    """The staging of a device of ``arch`` (a name or a ``ttnn.Arch``)."""
    return STAGING_BY_ARCH[arch_name(arch)]


def staging_memory_config(ttnn: Any, device: Any, staging: Staging, input_shape: tuple[int, int, int, int]) -> Any:
    """The DRAM memory config of the staging buffer for one chip's row-major input of ``input_shape`` (rows: all
    dims but the last)."""
    if staging == "dram_interleaved":
        return ttnn.DRAM_MEMORY_CONFIG
    grid = device.dram_grid_size()
    rows = input_shape[0] * input_shape[1] * input_shape[2]
    banks = grid.x * grid.y
    cores = ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(grid.x - 1, grid.y - 1))})
    shard = ttnn.ShardSpec(cores, [-(-rows // banks), input_shape[3]], ttnn.ShardOrientation.ROW_MAJOR)
    return ttnn.MemoryConfig(ttnn.TensorMemoryLayout.HEIGHT_SHARDED, ttnn.BufferType.DRAM, shard)


__all__ = ["STAGING_BY_ARCH", "Staging", "staging_for", "staging_memory_config"]

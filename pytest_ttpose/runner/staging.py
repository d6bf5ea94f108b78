"""Where the traced runner stages its input in DRAM: the one place this choice is made.

As in tt-metal's runners, the host input is staged in DRAM height-sharded over the DRAM grid and resharded into the
L1 height-sharded model input. Its rows are image rows of the 3-channel NCHW input (W bfloat16 values, whole DRAM
alignment units at every resolution the model takes), which ttnn 0.81.1 reshards without staging them in a dataflow
buffer on Wormhole and Blackhole alike (dry runs on mocked n150, n300, t3k and p150:
``tests/runner/test_runner_dry_run.py``). A 16-channel NHWC row (32 B) is not a whole 64-byte Blackhole unit, and
that reshard overflows the dataflow buffer there (``tests/emulator/test_blackhole_reshard.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pytest_ttpose.runner.inputs import height_sharded_config


def staging_memory_config(ttnn: Any, device: Any, input_shape: Sequence[int]) -> Any:
    """The DRAM height-sharded memory config of the staging buffer for one chip's row-major input of
    ``input_shape`` (rows: all dims but the last), split over every DRAM bank."""
    return height_sharded_config(ttnn, input_shape, device.dram_grid_size(), ttnn.BufferType.DRAM)


__all__ = ["staging_memory_config"]

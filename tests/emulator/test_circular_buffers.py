"""Circular-buffer space: a conv on an L1 height-sharded input allocates its halo output and sharded output, and its
static circular buffers must stay below every live L1 tensor (tt-metal's check, with its message).

The exact addresses asserted here are the ones real ttnn 0.81.1 reported for the same calls on a mocked n150; the
calibration against live ttnn, case by case, is in tests/mock/test_conv_circular_buffers.py.
"""

from __future__ import annotations

import pytest
import torch

import pytest_ttpose.emulator as ttnn
from pytest_ttpose.emulator import machine
from pytest_ttpose.emulator.circular_buffers import CircularBuffer, static_region_end
from pytest_ttpose.emulator.ops.conv_programs import SlidingWindow
from pytest_ttpose.runner.inputs import l1_input_config


def conv3x3(
    device: ttnn.MeshDevice,
    image: ttnn.Tensor,
    *,
    batch: int,
    size: int,
    channels: int = 16,
    stride: int = 2,
    conv_config: ttnn.Conv2dConfig | None = None,
    **kwargs: object,
) -> ttnn.Tensor:
    """A 3x3 conv keeping its channel count; by default YOLO11's first conv (16 padded input channels, stride 2,
    SiLU) as the TT model runs it."""
    silu = ttnn.UnaryWithParam(ttnn.UnaryOpType.SILU)
    return ttnn.conv2d(
        input_tensor=image,
        weight_tensor=ttnn.from_torch(torch.randn(channels, channels, 3, 3), dtype=ttnn.float32),
        bias_tensor=ttnn.from_torch(torch.randn(1, 1, 1, channels), dtype=ttnn.float32),
        device=device,
        in_channels=channels,
        out_channels=channels,
        batch_size=batch,
        input_height=size,
        input_width=size,
        kernel_size=(3, 3),
        stride=(stride, stride),
        padding=(1, 1),
        conv_config=conv_config or ttnn.Conv2dConfig(weights_dtype=ttnn.bfloat16, activation=silu),
        **kwargs,
    )


def l1_image(device: ttnn.MeshDevice, batch: int, size: int) -> tuple[torch.Tensor, ttnn.Tensor]:
    values = torch.randn(batch, size, size, 16)
    config = l1_input_config(ttnn, device, values.shape)
    return values, ttnn.from_torch(values, dtype=ttnn.bfloat16, device=device, memory_config=config)


def test_static_region_aligns_each_static_buffer_and_skips_global_ones() -> None:
    buffers = [
        CircularBuffer("a", 1, 40),
        CircularBuffer("sharded", 100, 2048, globally_allocated=True),
        CircularBuffer("b", 2, 8),
    ]
    assert static_region_end(1024, buffers, 16) == 1024 + 48 + 16  # b (2 x 8 B) starts at the next 16 B boundary


def test_halo_rows_cover_the_longest_window_run_of_any_core() -> None:
    # 640x640 stride 2: 3200 output rows per core = 10 whole output rows; they reach 21 padded input rows of 642.
    window = SlidingWindow(2, (640, 640), (320, 320), (3, 3), (2, 2), (1, 1), (1, 1, 1, 1))
    assert window.halo_rows_per_core(3200) == 9 * 2 * 642 + 319 * 2 + 2 * 642 + 2 + 1  # 13481, as ttnn allocates
    # 416 rows per core of a 160-wide output: a core starting late in a row spans three row boundaries.
    window = SlidingWindow(1, (320, 320), (160, 160), (3, 3), (2, 2), (1, 1), (1, 1, 1, 1))
    assert window.halo_rows_per_core(416) == 2449


def test_the_stem_on_the_runners_640_b2_l1_input_clashes_like_on_a_device(device: ttnn.MeshDevice) -> None:
    _, image = l1_image(device, 2, 640)
    before = machine.memory_snapshot(device)
    with pytest.raises(RuntimeError) as raised:
        conv3x3(device, image, batch=2, size=640, memory_config=ttnn.DRAM_MEMORY_CONFIG)
    assert str(raised.value).endswith(
        "clash with L1 buffers on core range [0-0 - 7-7]. L1 buffer allocated at 428768 and static circular buffer "
        "region ends at 931232"
    )
    assert str(raised.value).startswith("TT_THROW: Statically allocated circular buffers in program ")
    assert machine.memory_snapshot(device)["L1"] == before["L1"], "a rejected conv must leave L1 as it found it"


def test_at_batch_1_the_stem_fits_and_its_transient_l1_is_freed(device: ttnn.MeshDevice) -> None:
    values, image = l1_image(device, 1, 640)
    before = machine.memory_snapshot(device)
    output = conv3x3(device, image, batch=1, size=640, memory_config=ttnn.DRAM_MEMORY_CONFIG)
    assert output.memory_config() == ttnn.DRAM_MEMORY_CONFIG
    after = machine.memory_snapshot(device)
    assert after["L1"] == before["L1"], "the halo output and the sharded conv output are freed after the conv"
    assert len(after["DRAM"]) > len(before["DRAM"])


def test_a_conv_whose_output_cannot_be_stored_leaves_l1_as_it_found_it(device: ttnn.MeshDevice) -> None:
    _, image = l1_image(device, 1, 320)
    before = machine.memory_snapshot(device)
    grid = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(7, 7))])
    too_narrow = ttnn.MemoryConfig(
        ttnn.TensorMemoryLayout.HEIGHT_SHARDED,
        ttnn.BufferType.L1,
        ttnn.ShardSpec(grid, [416, 8], ttnn.ShardOrientation.ROW_MAJOR),
    )
    with pytest.raises(RuntimeError, match=r"Physical shard shape \(416, 8\) must be tile \{32, 32\} sized") as raised:
        conv3x3(device, image, batch=1, size=320, memory_config=too_narrow)
    # Freed by the conv itself, not by the garbage collector: the held error keeps the conv's frame alive.
    assert raised.value is not None
    assert machine.memory_snapshot(device)["L1"] == before["L1"]


def test_a_sharded_input_gives_a_height_sharded_output_by_default_with_the_same_values(
    device: ttnn.MeshDevice,
) -> None:
    values, image = l1_image(device, 1, 320)
    torch.manual_seed(1)
    sharded = conv3x3(device, image, batch=1, size=320)
    torch.manual_seed(1)
    in_dram = conv3x3(device, image, batch=1, size=320, memory_config=ttnn.DRAM_MEMORY_CONFIG)
    config = sharded.memory_config()
    assert config.memory_layout == ttnn.TensorMemoryLayout.HEIGHT_SHARDED and config.buffer_type == ttnn.BufferType.L1
    assert config.shard_spec.shape == [416, 32]  # 25600 output rows over 64 cores, in whole tiles
    assert torch.equal(ttnn.to_torch(sharded), ttnn.to_torch(in_dram))


def test_static_buffers_beyond_l1_are_refused_with_ttnns_message(device: ttnn.MeshDevice) -> None:
    rows = 128 * 128
    grid = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(3, 0))])
    shard = ttnn.ShardSpec(grid, [rows // 4, 32], ttnn.ShardOrientation.ROW_MAJOR)
    config = ttnn.MemoryConfig(ttnn.TensorMemoryLayout.HEIGHT_SHARDED, ttnn.BufferType.L1, shard)
    image = ttnn.from_torch(torch.randn(1, 1, rows, 32), dtype=ttnn.bfloat16, device=device, memory_config=config)
    # Without bias, as on the mocked n150 that printed these numbers.
    with pytest.raises(RuntimeError, match=r"on core range \[0-0 - 3-0\] grow to 1684896 B which is beyond max L1"):
        ttnn.conv2d(
            input_tensor=image,
            weight_tensor=ttnn.from_torch(torch.randn(32, 32, 3, 3), dtype=ttnn.float32),
            device=device,
            in_channels=32,
            out_channels=32,
            batch_size=1,
            input_height=128,
            input_width=128,
            kernel_size=(3, 3),
            padding=(1, 1),
            conv_config=ttnn.Conv2dConfig(weights_dtype=ttnn.bfloat16),
            memory_config=ttnn.DRAM_MEMORY_CONFIG,
        )


def test_conv_options_whose_buffers_are_not_modelled_are_refused_on_an_l1_input(device: ttnn.MeshDevice) -> None:
    _, image = l1_image(device, 1, 64)
    reuse = ttnn.Conv2dConfig(weights_dtype=ttnn.bfloat16, enable_activation_reuse=True)
    with pytest.raises(NotImplementedError, match="enable_activation_reuse"):
        conv3x3(device, image, batch=1, size=64, stride=1, conv_config=reuse)


def test_the_same_program_keeps_its_id_until_the_program_cache_is_cleared(device: ttnn.MeshDevice) -> None:
    _, image = l1_image(device, 2, 640)

    def clash_program() -> str:
        with pytest.raises(RuntimeError) as raised:
            conv3x3(device, image, batch=2, size=640, memory_config=ttnn.DRAM_MEMORY_CONFIG)
        return str(raised.value).split(" clash")[0]

    first = clash_program()
    assert clash_program() == first, "a program-cache hit is the same program, and is checked again"
    device.clear_program_cache()
    assert clash_program() != first

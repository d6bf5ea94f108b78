"""Conv2d cases on an L1 height-sharded input, run the same way on the real ttnn (mocked chips) and on the emulator.

Shared by ``conv_circular_buffers.py`` (the scenario that records what real ttnn allocates) and the emulator's
calibration test, so both backends run exactly the same calls.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ConvCase:
    name: str
    batch: int
    size: int  # square input
    in_channels: int
    out_channels: int
    kernel: int
    stride: int
    groups: int = 1
    weights_dtype: str = "bfloat16"
    output_dtype: str = "bfloat16"
    row_major_output: bool = False
    bias: bool = True
    packer_l1_acc: bool = False
    fp32_dest_acc_en: bool = False
    padding: int | None = None  # None: kernel // 2 ("same")
    shard_layout: str | None = None  # Conv2dConfig.shard_layout, a TensorMemoryLayout member name
    input_cores: int = 0  # 0: the whole compute grid, as the runner's input; n: the first n cores of row 0
    options: dict[str, Any] = field(default_factory=dict)  # further Conv2dConfig fields

    @property
    def pad(self) -> int:
        return self.kernel // 2 if self.padding is None else self.padding

    @property
    def output_size(self) -> int:
        return (self.size + 2 * self.pad - self.kernel) // self.stride + 1

    @property
    def is_matmul(self) -> bool:
        """A 1x1 conv with stride 1 and no padding, which ttnn runs as a matmul (no halo, no sliding window)."""
        return self.kernel == 1 and self.stride == 1 and self.pad == 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


CASES: tuple[ConvCase, ...] = (
    # model.0 (the stem) on the runner's input at every default matrix point
    ConvCase("stem 640 b2 (clashes on n150)", 2, 640, 16, 16, 3, 2),
    ConvCase("stem 640 b1", 1, 640, 16, 16, 3, 2),
    ConvCase("stem 320 b2 bfloat8_b", 2, 320, 16, 16, 3, 2, weights_dtype="bfloat8_b", output_dtype="bfloat8_b"),
    ConvCase("stem 320 b1 bfloat8_b", 1, 320, 16, 16, 3, 2, weights_dtype="bfloat8_b", output_dtype="bfloat8_b"),
    # other YOLO11 shapes and the knobs that change the circular buffers
    ConvCase("3x3 s2 32->64", 1, 160, 32, 64, 3, 2),
    ConvCase("3x3 s1 32->32", 1, 160, 32, 32, 3, 1),
    ConvCase("3x3 s1 64->128 (no split reader)", 1, 80, 64, 128, 3, 1),
    ConvCase("3x3 128->128 bfloat8_b", 1, 40, 128, 128, 3, 1, weights_dtype="bfloat8_b", output_dtype="bfloat8_b"),
    ConvCase(
        "depthwise 3x3 s2 bfloat8_b",
        1,
        80,
        64,
        64,
        3,
        2,
        groups=64,
        weights_dtype="bfloat8_b",
        output_dtype="bfloat8_b",
    ),
    ConvCase("no bias", 1, 160, 32, 64, 3, 2, bias=False),
    ConvCase("act_block_h_override", 1, 160, 32, 64, 3, 2, options={"act_block_h_override": 64}),
    ConvCase(
        "double buffers",
        1,
        160,
        32,
        64,
        3,
        2,
        options={"enable_act_double_buffer": True, "enable_weights_double_buffer": True},
    ),
    ConvCase("row-major output", 1, 160, 32, 64, 3, 2, row_major_output=True),
    ConvCase("packer L1 accumulation, fp32", 1, 160, 32, 64, 3, 2, packer_l1_acc=True, fp32_dest_acc_en=True),
    ConvCase("packer L1 accumulation, bfloat8_b", 1, 160, 32, 64, 3, 2, packer_l1_acc=True, output_dtype="bfloat8_b"),
    ConvCase("4 cores (beyond L1)", 1, 128, 32, 32, 3, 1, bias=False, input_cores=4),
    # 1x1 convs: with a stride or padding they take the sliding-window path; as a plain matmul on an L1
    # height-sharded input ttnn 0.81 rejects them unless the shard layout is given.
    ConvCase("1x1 s2", 1, 40, 64, 64, 1, 2),
    ConvCase("1x1 padded", 1, 40, 64, 64, 1, 1, padding=1),
    ConvCase("1x1 matmul", 1, 160, 16, 32, 1, 1),
    ConvCase("1x1 matmul, height sharded", 1, 40, 64, 64, 1, 1, shard_layout="HEIGHT_SHARDED"),
)


def input_memory_config(ttnn: Any, device: Any, case: ConvCase) -> Any:
    """The case's L1 height-sharded input config: the runner's (whole grid) or the first ``input_cores`` cores."""
    from pytest_ttpose.runner.inputs import l1_input_config

    rows = case.batch * case.size * case.size
    if not case.input_cores:
        return l1_input_config(ttnn, device, (1, 1, rows, case.in_channels))
    grid = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(case.input_cores - 1, 0))])
    shard = ttnn.ShardSpec(grid, [-(-rows // case.input_cores), case.in_channels], ttnn.ShardOrientation.ROW_MAJOR)
    return ttnn.MemoryConfig(ttnn.TensorMemoryLayout.HEIGHT_SHARDED, ttnn.BufferType.L1, shard)


def run_conv(ttnn: Any, device: Any, case: ConvCase) -> Any:
    """Put the case's input in L1 and run its conv to a DRAM output, as a model layer would."""
    import torch

    generator = torch.Generator().manual_seed(0)
    rows = case.batch * case.size * case.size
    image = ttnn.from_torch(
        torch.randn(1, 1, rows, case.in_channels, generator=generator),
        dtype=ttnn.bfloat16,
        device=device,
        memory_config=input_memory_config(ttnn, device, case),
    )
    weight = ttnn.from_torch(
        torch.randn(case.out_channels, case.in_channels // case.groups, case.kernel, case.kernel, generator=generator),
        dtype=ttnn.float32,
    )
    bias = ttnn.from_torch(torch.randn(1, 1, 1, case.out_channels, generator=generator), dtype=ttnn.float32)
    conv_config = ttnn.Conv2dConfig(
        weights_dtype=getattr(ttnn, case.weights_dtype),
        output_layout=ttnn.ROW_MAJOR_LAYOUT if case.row_major_output else ttnn.TILE_LAYOUT,
        shard_layout=getattr(ttnn.TensorMemoryLayout, case.shard_layout) if case.shard_layout else None,
        **case.options,
    )
    compute_config = ttnn.init_device_compute_kernel_config(
        device.arch(),
        math_fidelity=ttnn.MathFidelity.HiFi4,
        fp32_dest_acc_en=case.fp32_dest_acc_en,
        packer_l1_acc=case.packer_l1_acc,
    )
    try:
        return ttnn.conv2d(
            input_tensor=image,
            weight_tensor=weight,
            bias_tensor=bias if case.bias else None,
            device=device,
            in_channels=case.in_channels,
            out_channels=case.out_channels,
            batch_size=case.batch,
            input_height=case.size,
            input_width=case.size,
            kernel_size=(case.kernel, case.kernel),
            stride=(case.stride, case.stride),
            padding=(case.pad, case.pad),
            dilation=(1, 1),
            groups=case.groups,
            dtype=getattr(ttnn, case.output_dtype),
            conv_config=conv_config,
            compute_config=compute_config,
            memory_config=ttnn.DRAM_MEMORY_CONFIG,
        )
    finally:
        ttnn.deallocate(image)

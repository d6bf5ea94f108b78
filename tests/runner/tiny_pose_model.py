"""A tiny stand-in for the TT pose model with the same contract as ``pytest_ttpose.tt.build_pose_model``.

One 3x3 stride-2 conv (RGB, zero-padded to 16 channels on the device -> 56 output channels) with a fused SiLU, written
against ``api_for(device)`` exactly like the real model, and its torch reference. It lets the runner's trace,
two-queue, release, bad-input and mesh logic be tested in a fraction of the real model's time.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from pytest_ttpose.seam import api_for
from pytest_ttpose.tt import INPUT_CHANNELS, rgb_to_conv_input

OUTPUT_CHANNELS = 56
STRIDE = 2


class TinyPoseReference(nn.Module):
    """conv3x3/s2 (3 -> 56) + SiLU, returned as (B, 56, A) like the pose reference's eval output."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, OUTPUT_CHANNELS, 3, stride=STRIDE, padding=1)
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            self.conv.weight.copy_(torch.randn(self.conv.weight.shape, generator=generator) * 0.3)
            self.conv.bias.copy_(torch.randn(self.conv.bias.shape, generator=generator) * 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = nn.functional.silu(self.conv(x))
        return y.flatten(2)


class TinyTtPoseModel:
    """The TT side of :class:`TinyPoseReference`: input [B, 3, H, W] bf16 row-major, output via ``output_to_torch``."""

    def __init__(
        self,
        device: Any,
        reference_model: TinyPoseReference,
        *,
        batch_size: int,
        resolution: tuple[int, int],
        act_dtype: Any,
        weight_dtype: Any,
        math_fidelity: Any = None,
        cache_dir: Any = None,
    ) -> None:
        ttnn = api_for(device)
        self.ttnn = ttnn
        self.device = device
        self.batch_size = batch_size
        self.resolution = resolution
        self.act_dtype = act_dtype
        mapper = ttnn.ReplicateTensorToMesh(device) if device.get_num_devices() > 1 else None
        weight = nn.functional.pad(reference_model.conv.weight.detach(), (0, 0, 0, 0, 0, INPUT_CHANNELS - 3))
        bias = reference_model.conv.bias.detach().reshape(1, 1, 1, -1)
        self.weight = ttnn.from_torch(weight.float().contiguous(), dtype=ttnn.float32, mesh_mapper=mapper)
        self.bias = ttnn.from_torch(bias.float().contiguous(), dtype=ttnn.float32, mesh_mapper=mapper)
        self.conv_config = ttnn.Conv2dConfig(
            weights_dtype=weight_dtype,
            activation=ttnn.UnaryWithParam(ttnn.UnaryOpType.SILU),
            output_layout=ttnn.TILE_LAYOUT,
        )
        self.compute_config = ttnn.init_device_compute_kernel_config(
            device.arch(),
            math_fidelity=ttnn.MathFidelity.HiFi4 if math_fidelity is None else math_fidelity,
            math_approx_mode=False,
            fp32_dest_acc_en=True,
            packer_l1_acc=False,
        )
        self.out_height = resolution[0] // STRIDE
        self.out_width = resolution[1] // STRIDE

    def __call__(self, x: Any) -> Any:
        ttnn = self.ttnn
        output, _, (self.weight, self.bias) = ttnn.conv2d(
            input_tensor=rgb_to_conv_input(ttnn, x, ttnn.DRAM_MEMORY_CONFIG),
            weight_tensor=self.weight,
            bias_tensor=self.bias,
            device=self.device,
            in_channels=INPUT_CHANNELS,
            out_channels=OUTPUT_CHANNELS,
            batch_size=self.batch_size,
            input_height=self.resolution[0],
            input_width=self.resolution[1],
            kernel_size=(3, 3),
            stride=(STRIDE, STRIDE),
            padding=(1, 1),
            dilation=(1, 1),
            groups=1,
            dtype=self.act_dtype,
            conv_config=self.conv_config,
            compute_config=self.compute_config,
            memory_config=ttnn.DRAM_MEMORY_CONFIG,
            return_output_dim=True,
            return_weights_and_bias=True,
        )
        return output

    def output_to_torch(self, output: Any, mesh_composer: Any = None) -> torch.Tensor:
        value = self.ttnn.to_torch(output, mesh_composer=mesh_composer).float()
        anchors = self.out_height * self.out_width
        return value.reshape(-1, anchors, OUTPUT_CHANNELS).permute(0, 2, 1).contiguous()


def build_tiny_model(device: Any, reference_model: TinyPoseReference, **kwargs: Any) -> TinyTtPoseModel:
    """``build_pose_model``-shaped factory for the runner's ``model_builder``."""
    return TinyTtPoseModel(device, reference_model, **kwargs)


def seeded_images(batch: int, resolution: tuple[int, int], seed: int) -> torch.Tensor:
    """A seeded (batch, 3, H, W) float batch in [0, 1)."""
    return torch.rand((batch, 3, *resolution), generator=torch.Generator().manual_seed(seed))
